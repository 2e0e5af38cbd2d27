//! `mhfz-report` as a process: what it writes, and bad input named with what is wrong.

use std::fs;
use std::process::{Command, Output};

const REPORT: &str = env!("CARGO_BIN_EXE_mhfz-report");

/// Two weapons of one class, as the reducer writes them (statistics, histogram and top rows).
const OUTPUT: &str = "\
class\tbow\t\\N\t\\N\t\\N\t2\t100\t300\t200.0000\t100.0000\t0\t10\t5.0000\t5.0000\t1\t40\t40\t40.0000\t0.0000\t1\t1\t0\t0\t0
class_rarity\tbow\t3\t\\N\t\\N\t2\t100\t300\t200.0000\t100.0000\t0\t10\t5.0000\t5.0000\t1\t40\t40\t40.0000\t0.0000\t1\t1\t0\t0\t0
class_element\tbow\t\\N\tfire\t\\N\t1\t300\t300\t300.0000\t0.0000\t10\t10\t10.0000\t0.0000\t1\t40\t40\t40.0000\t0.0000\t0\t1\t0\t0\t0
histogram\tclass\tbow\t\\N\tattack\t100\t100\t1
histogram\tclass\tbow\t\\N\tattack\t300\t100\t1
top\tbow\tattack\t1\tbow:g:l2\tBig <Bow>\t3\t300
top\tbow\tattack\t2\tbow:base:l1\tSmall Bow\t3\t100
";

fn run(args: &[&str], dir: &std::path::Path) -> Output {
    Command::new(REPORT)
        .args(args)
        .current_dir(dir)
        .env_remove("MHFZ_PG_URL")
        .output()
        .unwrap()
}

#[test]
fn writes_one_page_from_reducer_output() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("part-00000"), OUTPUT).unwrap();
    let output = run(&["part-00000", "--out", "r.html"], dir.path());
    assert!(output.status.success(), "{output:?}");
    assert!(output.stderr.is_empty(), "{output:?}");
    let html = fs::read_to_string(dir.path().join("r.html")).unwrap();
    assert!(html
        .contains(r#"<figure class="chart" data-chart="attack-distribution" data-class="bow">"#));
    assert!(html.contains(r#"data-label="300" data-value="1""#));
    assert!(html.contains(r#"data-label="fire" data-value="1""#));
    // Names are escaped; links go to the live site by default.
    assert!(html.contains("Big &lt;Bow&gt;"));
    assert!(!html.contains("<Bow>"));
    assert!(html.contains("yumi_g.htm#l2"), "{html}");
    assert!(html.contains(r#"data-state="not_read""#));
    for forbidden in ["<script", "<link", "@import", "url("] {
        assert!(!html.contains(forbidden), "{forbidden}");
    }
}

#[test]
fn a_bad_row_is_named_by_file_and_line_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("part-00000"),
        format!("{OUTPUT}top\tbow\tattack\n"),
    )
    .unwrap();
    let output = run(&["part-00000", "--out", "r.html"], dir.path());
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("part-00000 line 8: a weapon_top row has 7 tab-separated fields, found 2"),
        "{stderr}"
    );
    assert!(!dir.path().join("r.html").exists());
}

#[test]
fn a_tables_dir_without_its_files_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(&["--tables-dir", ".", "--out", "r.html"], dir.path());
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot read ./weapon_statistics.tsv"),
        "{stderr}"
    );
}

#[test]
fn history_needs_a_database_and_the_times_need_history() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("part-00000"), OUTPUT).unwrap();
    let since = ["--changes-since", "2026-12-01T10:00:00Z"];
    let output = run(
        &[&["part-00000", "--out", "r.html"][..], &since].concat(),
        dir.path(),
    );
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let with_history = [&["part-00000", "--out", "r.html", "--history"][..], &since].concat();
    let output = run(&with_history, dir.path());
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("MHFZ_PG_URL"), "{stderr}");
    // Without an earlier run there is nothing to read.
    let output = run(&["part-00000", "--out", "r.html", "--history"], dir.path());
    assert!(output.status.success(), "{output:?}");
    let html = fs::read_to_string(dir.path().join("r.html")).unwrap();
    assert!(html.contains(r#"data-state="first_run""#));
}
