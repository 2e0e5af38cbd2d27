//! `mhfz-scraper --site DIR` on hand-written pages, well-formed and malformed.

mod util;

use std::fs;

use util::*;

#[test]
fn a_directory_site_is_scraped_with_probed_pages_absent() {
    let root = tempfile::tempdir().unwrap();
    let expected = write_long_sword_site(root.path());
    let output = run_scraper(&[
        "--site".as_ref(),
        root.path().join("buki").as_os_str(),
        "--no-cache".as_ref(),
    ]);
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let records = ndjson(&output.stdout);
    for (page, count) in &expected {
        let line = summary_line(&stderr, page);
        assert!(line.contains(" ok "), "{line}");
        assert_eq!(
            line.split_whitespace().nth(2),
            Some(count.to_string().as_str()),
            "{line}"
        );
    }
    assert_eq!(
        records.len(),
        expected.iter().map(|(_, n)| n).sum::<usize>()
    );
    assert_eq!(records[0]["weapon_id"], "long_sword:base:l0001");
    assert_eq!(records[0]["attack"], 480);
    assert!(summary_line(&stderr, "tachi_n.htm").contains(" absent "));
    assert!(summary_line(&stderr, "tachi_t.htm").contains(" skipped "));
    assert!(
        stderr.contains("6 pages: 4 scraped, 1 absent, 1 skipped, 0 failed; 7 records"),
        "{stderr}"
    );
}

fn dir_args(buki: &std::path::Path) -> Vec<std::ffi::OsString> {
    vec!["--site".into(), buki.into(), "--no-cache".into()]
}

#[test]
fn malformed_pages_get_clear_per_page_errors_and_never_a_panic() {
    let root = tempfile::tempdir().unwrap();
    let buki = root.path().join("buki");
    fs::create_dir_all(&buki).unwrap();
    fs::write(
        buki.join("buki.htm"),
        index_page(&[
            "tachi.htm",
            "tachi_g.htm",
            "tachi_s.htm",
            "taiken.htm",
            "hammer.htm",
        ]),
    )
    .unwrap();
    // Cut off in the middle of the third row: the first two rows are intact.
    let whole = weapon_page(&[
        row("l0001", "Cut Blade", "1", "480"),
        row("l0002", "Cut Blade+", "2", "528"),
        row("l0003", "Cut Blade Ultima", "3", "600"),
    ]);
    let cut = whole.find("Cut Blade Ultima").unwrap();
    fs::write(buki.join("tachi.htm"), &whole[..cut]).unwrap();
    // Bytes that are not UTF-8 inside a weapon name.
    let mut bad_utf8 = weapon_page(&[row("l1001", "Broken NAME Lv1", "8", "1200")]).into_bytes();
    let at = bad_utf8.windows(4).position(|w| w == b"NAME").unwrap();
    bad_utf8.splice(at..at + 4, [0xFF, 0xFE, 0xC3]);
    fs::write(buki.join("tachi_g.htm"), bad_utf8).unwrap();
    fs::write(buki.join("tachi_s.htm"), b"").unwrap();
    // About 10 MB of rows, and about 10 MB without any table.
    let many: Vec<(String, String)> = (0..30_000)
        .map(|i| (format!("l{i:05X}"), format!("Bulk Sword {i}")))
        .collect();
    let rows: Vec<Row> = many
        .iter()
        .map(|(id, name)| row(id, name, "5", "700"))
        .collect();
    let huge = weapon_page(&rows);
    assert!(huge.len() > 9_000_000, "{}", huge.len());
    fs::write(buki.join("taiken.htm"), huge).unwrap();
    fs::write(buki.join("hammer.htm"), "<p>filler</p>\n".repeat(750_000)).unwrap();

    let output = run_scraper(&dir_args(&buki));
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    assert!(summary_line(&stderr, "tachi.htm").contains(" ok "));
    assert!(summary_line(&stderr, "tachi_g.htm").contains(" ok "));
    assert!(summary_line(&stderr, "taiken.htm").contains(" ok "));
    for page in ["tachi_s.htm", "hammer.htm"] {
        assert!(summary_line(&stderr, page).contains(" FAILED "), "{stderr}");
        assert!(
            stderr.contains(&format!("error: {page}: no weapon table found")),
            "{stderr}"
        );
    }

    let records = ndjson(&output.stdout);
    let named = |prefix: &str| {
        records
            .iter()
            .filter(|r| r["name"].as_str().unwrap().starts_with(prefix))
            .count()
    };
    assert!(
        named("Cut Blade") >= 2,
        "the intact rows of the truncated page survive"
    );
    assert_eq!(named("Bulk Sword"), 30_000);
    let broken = records
        .iter()
        .find(|r| r["weapon_id"] == "long_sword:g:l1001")
        .expect("the row with invalid UTF-8 is kept");
    assert!(broken["name"].as_str().unwrap().contains('\u{FFFD}'));
}

#[test]
fn rejected_rows_are_logged_and_written_but_do_not_fail_the_run() {
    let root = tempfile::tempdir().unwrap();
    let buki = root.path().join("buki");
    fs::create_dir_all(&buki).unwrap();
    fs::write(buki.join("buki.htm"), index_page(&["tachi.htm"])).unwrap();
    fs::write(
        buki.join("tachi.htm"),
        weapon_page(&[
            row("l0001", "Good Blade", "1", "480"),
            row("l0002", "Bad Blade", "many", "528"),
            row("l0003", "Good Blade+", "2", "560"),
        ]),
    )
    .unwrap();
    let out = root.path().join("records.ndjson");
    let mut args = dir_args(&buki);
    args.extend(["--out".into(), out.clone().into(), "--quiet".into()]);
    let output = run_scraper(&args);
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(output.stdout.is_empty(), "records go to --out, not stdout");
    assert!(
        stderr.contains("rejected: tachi.htm row 2 (l0002): "),
        "{stderr}"
    );
    assert!(
        !stderr.contains("pages:"),
        "--quiet prints no summary: {stderr}"
    );

    let records = ndjson(&fs::read(&out).unwrap());
    let names: Vec<&str> = records
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Good Blade", "Good Blade+"]);
    let rejects = ndjson(&fs::read(root.path().join("records.ndjson.rejects.ndjson")).unwrap());
    assert_eq!(rejects.len(), 1);
    assert_eq!(rejects[0]["page"], "tachi.htm");
    assert_eq!(rejects[0]["row_number"], 2);
    assert_eq!(rejects[0]["site_row_id"], "l0002");
    assert!(!rejects[0]["error"].as_str().unwrap().is_empty());
    assert!(rejects[0]["raw_html"]
        .as_str()
        .unwrap()
        .contains("Bad Blade"));
}

#[test]
fn an_unreadable_class_index_is_fatal_and_leaves_no_output_file() {
    let root = tempfile::tempdir().unwrap();
    let buki = root.path().join("buki");
    fs::create_dir_all(&buki).unwrap();
    fs::write(
        buki.join("tachi.htm"),
        weapon_page(&[row("l1", "A", "1", "1")]),
    )
    .unwrap();
    let out = root.path().join("out").join("records.ndjson");
    fs::create_dir_all(out.parent().unwrap()).unwrap();
    let mut args = dir_args(&buki);
    args.extend(["--out".into(), out.clone().into()]);
    let output = run_scraper(&args);
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("cannot read the class index") && stderr.contains("buki.htm: not found"),
        "{stderr}"
    );
    let left: Vec<_> = fs::read_dir(out.parent().unwrap()).unwrap().collect();
    assert!(left.is_empty(), "no output and no temporary file: {left:?}");
}

#[test]
fn explicit_classes_limit_the_scrape() {
    let root = tempfile::tempdir().unwrap();
    write_long_sword_site(root.path());
    let buki = root.path().join("buki");
    fs::write(
        buki.join("buki.htm"),
        index_page(&["tachi.htm", "yumi.htm"]),
    )
    .unwrap();
    let mut args = dir_args(&buki);
    args.extend(["--classes".into(), "long_sword".into()]);
    let output = run_scraper(&args);
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("yumi"), "{stderr}");
    assert!(stderr.contains("5 pages: 4 scraped, 1 absent"), "{stderr}");

    let mut args = dir_args(&buki);
    args.extend(["--classes".into(), "long_sword,partnya".into()]);
    let output = run_scraper(&args);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr_of(&output).contains("unknown weapon class \"partnya\""));
}

#[test]
fn a_closed_stdout_ends_the_run_quietly() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let root = tempfile::tempdir().unwrap();
    let buki = root.path().join("buki");
    fs::create_dir_all(&buki).unwrap();
    fs::write(buki.join("buki.htm"), index_page(&["tachi.htm"])).unwrap();
    let many: Vec<String> = (0..3000).map(|i| format!("l{i:04X}")).collect();
    let rows: Vec<Row> = many
        .iter()
        .map(|id| row(id, "Pipe Blade", "1", "100"))
        .collect();
    fs::write(buki.join("tachi.htm"), weapon_page(&rows)).unwrap();

    let mut child = Command::new(env!("CARGO_BIN_EXE_mhfz-scraper"))
        .args(dir_args(&buki))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.contains("Pipe Blade"));
    // The reader is gone now, like `mhfz-scraper | head -1`.
    let output = child.wait_with_output().unwrap();
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}
