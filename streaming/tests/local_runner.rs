//! `mhfz-local-runner` as a process: identical output for any reducer count and with or without
//! the combiner, part files, failures of children, --strict, counters.

mod common;

use std::fs;
use std::path::Path;

use common::*;
use mhfz_streaming::row::{OutputRow, RowKind};

fn write_inputs(dir: &Path, splits: usize, copies: usize) -> Vec<String> {
    (0..splits)
        .map(|i| {
            let path = dir.join(format!("input-{i}.ndjson"));
            fs::write(&path, fixture_ndjson(copies + i)).unwrap();
            path.to_str().unwrap().to_string()
        })
        .collect()
}

fn runner(args: &[&str], input: &[u8]) -> (bool, Vec<u8>, String) {
    run(RUNNER, args, input)
}

#[test]
fn output_is_identical_for_any_reducer_count_and_with_or_without_combiner() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = write_inputs(dir.path(), 3, 2);
    let with = |extra: &[&str]| {
        let mut args: Vec<&str> = inputs.iter().map(String::as_str).collect();
        args.extend_from_slice(extra);
        let (ok, out, err) = runner(&args, b"");
        assert!(ok, "{extra:?}: {err}");
        (out, err)
    };
    let (one, err) = with(&["--reducers", "1"]);
    let (three, _) = with(&["--reducers", "3"]);
    let (three_combined, combined_err) = with(&["--reducers", "3", "--combiner", "--jobs", "2"]);
    let (one_combined, _) = with(&["-r", "1", "--combiner", "--jobs", "1"]);
    assert_eq!(one, three);
    assert_eq!(one, three_combined);
    assert_eq!(one, one_combined);

    // The same as the plain pipeline over all inputs, sorted.
    let all: String = inputs
        .iter()
        .map(|p| fs::read_to_string(p).unwrap())
        .collect();
    assert_eq!(one, sorted(&map_sort_reduce(all.as_bytes())));
    // 9 copies of the 12 fixture records; values computed independently of this crate.
    assert!(lines(&one).contains(
        &"all\t\\N\t\\N\t\\N\t\\N\t108\t156\t1500\t772.8333\t413.1194\t-30\t30\t2.0833\t16.3883\t\
          81\t150\t500\t303.3333\t114.4067\t18\t27\t27\t36\t0"
    ));

    // Every kind of row is there (so the equalities above are not vacuous): 54 statistics
    // rows, one histogram row per class (rarity), metric and non-empty bucket, and the top-N
    // lists (the 9 copies of a record count once).
    let kinds = rows_per_kind(&one);
    assert_eq!(kinds[&RowKind::Statistics], 54);
    assert_eq!(kinds.values().sum::<usize>(), 153);
    assert!(lines(&one)
        .contains(&"top\tlong_sword\tattack\t2\tlong_sword:g:l219C2\tFlame Katana\t11\t1200"));

    assert!(err.contains("mhfz-local-runner: counters:\n"), "{err}");
    assert!(err.contains("  mhfz.map_input_records=108\n"), "{err}");
    assert!(err.contains("  mhfz.reduce_output_rows=153\n"), "{err}");
    assert!(
        combined_err.contains("  mhfz.combine_output_partials=411\n"),
        "{combined_err}"
    );
    assert!(
        !err.contains("reporter:"),
        "status and counter lines are not relayed: {err}"
    );
}

#[test]
fn part_files_hold_each_key_once() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = write_inputs(dir.path(), 2, 1);
    let out_dir = dir.path().join("out");
    let merged = dir.path().join("merged.tsv");
    let mut args: Vec<&str> = inputs.iter().map(String::as_str).collect();
    args.extend([
        "-r",
        "3",
        "--output-dir",
        out_dir.to_str().unwrap(),
        "-o",
        merged.to_str().unwrap(),
    ]);
    let (ok, stdout, err) = runner(&args, b"");
    assert!(ok, "{err}");
    assert!(stdout.is_empty());

    let mut names: Vec<String> = fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["part-00000", "part-00001", "part-00002"]);
    let parts: Vec<Vec<u8>> = names
        .iter()
        .map(|n| fs::read(out_dir.join(n)).unwrap())
        .collect();
    assert!(
        parts.iter().all(|p| !p.is_empty()),
        "the keys hash into every partition"
    );
    let concatenated = parts.concat();
    assert_eq!(sorted(&concatenated), fs::read(&merged).unwrap());
    assert_eq!(lines(&concatenated).len(), 153);

    // Hadoop refuses to overwrite an output directory; so does the runner.
    let (ok, _, err) = runner(&args, b"");
    assert!(!ok);
    assert!(err.contains("is not empty"), "{err}");
}

#[test]
fn reads_standard_input_and_relays_malformed_line_logs() {
    let input = format!("{}{{broken\n", fixture_ndjson(1));
    let (ok, out, err) = runner(&["-r", "2"], input.as_bytes());
    assert!(ok, "{err}");
    assert_eq!(out, sorted(&map_sort_reduce(fixture_ndjson(1).as_bytes())));
    assert!(
        err.contains("[map task 0 (standard input) mapper] mhfz-mapper: skipping malformed line 13 of standard input"),
        "{err}"
    );
    assert!(err.contains("  mhfz.malformed_records=1\n"), "{err}");

    let (ok, out, err) = runner(&["--strict", "--combiner"], input.as_bytes());
    assert!(!ok);
    assert!(out.is_empty());
    assert!(
        err.contains("standard input line 13: not a weapon record"),
        "{err}"
    );
    assert!(
        err.contains(
            "mhfz-local-runner: error: map task 0 (standard input): mapper failed (exit status: 1)"
        ),
        "{err}"
    );
}

#[test]
fn failing_children_fail_the_run_naming_task_and_stage() {
    let input = fixture_ndjson(1);
    let (ok, _, err) = runner(&["--mapper", "/bin/false"], input.as_bytes());
    assert!(!ok);
    assert!(
        err.contains("map task 0 (standard input): mapper failed (exit status: 1)"),
        "{err}"
    );

    let (ok, _, err) = runner(
        &["--reducer", "/nonexistent/reducer", "-r", "2"],
        input.as_bytes(),
    );
    assert!(!ok);
    assert!(
        err.contains("reduce task 0: cannot start the reducer \"/nonexistent/reducer\""),
        "{err}"
    );

    let (ok, _, err) = runner(&["--combiner", "--sort", "/bin/false"], input.as_bytes());
    assert!(!ok);
    assert!(
        err.contains("map task 0 (standard input): sort failed (exit status: 1)"),
        "{err}"
    );

    let (ok, _, err) = runner(&["/nonexistent/input.ndjson"], b"");
    assert!(!ok);
    assert!(
        err.contains("opening /nonexistent/input.ndjson failed"),
        "{err}"
    );
}

#[test]
fn the_runner_is_statically_linked() {
    assert_statically_linked(Path::new(RUNNER));
}

#[test]
fn summary_prints_a_line_per_class_and_keeps_the_tsv() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = write_inputs(dir.path(), 1, 1);
    let merged = dir.path().join("stats.tsv");
    let (ok, out, err) = runner(
        &[&inputs[0], "--summary", "-o", merged.to_str().unwrap()],
        b"",
    );
    assert!(ok, "{err}");
    let table = String::from_utf8(out).unwrap();
    let tsv = fs::read_to_string(&merged).unwrap();
    let class_rows = lines(tsv.as_bytes())
        .iter()
        .filter(|line| line.starts_with("class\t"))
        .count();
    // A heading, one line per class, the total.
    assert_eq!(table.lines().count(), class_rows + 2, "{table}");
    assert!(
        table.lines().last().unwrap().starts_with("all classes"),
        "{table}"
    );

    let (ok, _, err) = runner(&[&inputs[0], "--summary"], b"");
    assert!(!ok && err.contains("need --output"), "{err}");
}

#[test]
fn tables_dir_gets_one_file_per_table_of_the_merged_rows() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = write_inputs(dir.path(), 1, 1);
    let merged = dir.path().join("merged.tsv");
    let tables = dir.path().join("tables");
    let (ok, _, err) = runner(
        &[
            &inputs[0],
            "-o",
            merged.to_str().unwrap(),
            "--tables-dir",
            tables.to_str().unwrap(),
        ],
        b"",
    );
    assert!(ok, "{err}");
    let merged = fs::read_to_string(&merged).unwrap();
    let mut total = 0;
    for kind in RowKind::ALL {
        let rows = fs::read_to_string(tables.join(format!("{}.tsv", kind.table_name()))).unwrap();
        assert!(!rows.is_empty(), "{kind:?}");
        for row in rows.lines() {
            // A table file's rows are untagged and parse as that table's rows.
            OutputRow::parse_table_row(kind, row).unwrap();
            let line = match kind.tag() {
                Some(tag) => format!("{tag}\t{row}"),
                None => row.to_string(),
            };
            assert!(merged.lines().any(|l| l == line), "{line}");
            total += 1;
        }
    }
    assert_eq!(total, merged.lines().count());
}
