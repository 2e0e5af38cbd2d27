//! `mhfz-reducer` as a process: rows, combiner mode, order independence, malformed input,
//! --strict, Hive DDL, broken pipe.

mod common;

use common::*;
use mhfz_streaming::row::{RowKind, COLUMNS};

fn mapped(copies: usize, args: &[&str]) -> Vec<u8> {
    let (ok, out, err) = run(MAPPER, args, fixture_ndjson(copies).as_bytes());
    assert!(ok, "{err}");
    sorted(&out)
}

#[test]
fn reduces_sorted_partials_to_statistics_rows() {
    let (ok, out, err) = run(REDUCER, &[], &mapped(1, &[]));
    assert!(ok, "{err}");
    let all_rows = lines(&out);
    let kinds = rows_per_kind(&out);
    assert_eq!(kinds[&RowKind::Statistics], 54);
    assert!(all_rows.contains(&"histogram\tclass\tlong_sword\t\\N\tattack\t1200\t100\t1"));
    assert!(
        all_rows.contains(&"top\tlong_sword\taffinity\t1\tlong_sword:s:l3000\tRavi Blade\t12\t25")
    );
    let rows: Vec<&str> = all_rows
        .iter()
        .copied()
        .filter(|r| RowKind::of_line(r.as_bytes()) == RowKind::Statistics)
        .collect();
    assert!(rows.iter().all(|r| r.split('\t').count() == COLUMNS.len()));
    assert!(rows.contains(
        &"class\tlong_sword\t\\N\t\\N\t\\N\t3\t480\t1500\t1060.0000\t428.0187\t-10\t25\t5.0000\t14.7196\t\
          2\t300\t450\t375.0000\t75.0000\t1\t0\t1\t1\t0"
    ));
    assert!(rows.contains(
        &"class_rarity\tlong_sword\t1\t\\N\t\\N\t1\t480\t480\t480.0000\t0.0000\t0\t0\t0.0000\t0.0000\t\
          0\t\\N\t\\N\t\\N\t\\N\t1\t0\t0\t0\t0"
    ));
    assert!(rows
        .iter()
        .any(|r| r.starts_with("class_element\tlong_sword\t\\N\tsleep\t\\N\t1\t1500\t")));
    assert!(rows
        .iter()
        .any(|r| r.starts_with("class_variant\ttonfa\t\\N\t\\N\ts\t1\t")));
    assert!(rows
        .iter()
        .any(|r| r.starts_with("all\t\\N\t\\N\t\\N\t\\N\t12\t156\t1500\t")));
    assert_eq!(counter_updates(&err, "reduce_output_rows"), [153]);
}

#[test]
fn combiner_output_feeds_the_reducer_with_identical_results() {
    // Many partials per key: the mapper flushes after every record.
    let input = mapped(5, &["--max-cached-keys", "1"]);
    let (ok, combined, err) = run(REDUCER, &["--combiner"], &input);
    assert!(ok, "{err}");
    assert_eq!(lines(&combined).len(), 137, "one merged partial per key");
    assert_eq!(
        lines(&combined)
            .iter()
            .filter(|l| l.split('\t').count() == 22)
            .count(),
        54
    );
    assert_eq!(counter_updates(&err, "combine_output_partials"), [137]);

    let (_, direct, _) = run(REDUCER, &[], &input);
    let (_, via_combiner, _) = run(REDUCER, &[], &combined);
    assert_eq!(direct, via_combiner);
    assert_eq!(direct, map_sort_reduce(fixture_ndjson(5).as_bytes()));
}

#[test]
fn the_job_in_process_writes_what_the_executables_write() {
    let input = fixture_ndjson(3);
    let in_process = mhfz_streaming::runner::run_in_process(input.as_bytes()).unwrap();
    assert_eq!(in_process, map_sort_reduce(input.as_bytes()));
}

#[test]
fn value_order_within_a_key_does_not_matter() {
    let input = mapped(4, &["--max-cached-keys", "1"]);
    // Same keys in the same order, values of each key reversed (stable sort on the key only).
    let mut reversed: Vec<&str> = lines(&input);
    reversed.reverse();
    let mut reversed = reversed.join("\n");
    reversed.push('\n');
    let output = assert_cmd::Command::new("sort")
        .env("LC_ALL", "C")
        .args(["-s", "-t", "\t", "-k1,1"])
        .write_stdin(reversed)
        .output()
        .unwrap();
    assert_ne!(
        output.stdout, input,
        "the test must actually reorder values"
    );
    let (_, a, _) = run(REDUCER, &[], &input);
    let (ok, b, err) = run(REDUCER, &[], &output.stdout);
    assert!(ok, "{err}");
    assert_eq!(a, b);
}

#[test]
fn malformed_lines_are_skipped_and_counted() {
    let good = mapped(1, &[]);
    let first = lines(&good)[0].to_string();
    let (key, value) = first.split_once('\t').unwrap();
    let mut input = Vec::new();
    input.extend_from_slice(format!("{first}\n").as_bytes());
    input.extend_from_slice(b"all\n"); // 2: no tab
    input.extend_from_slice(format!("class|tachi\t{value}\n").as_bytes()); // 3: page stem, not id
    input.extend_from_slice(format!("{key}\t{value}\t7\n").as_bytes()); // 4: 22 integers
    input.extend_from_slice(format!("{key}\t{}\n", value.replacen('1', "x", 1)).as_bytes()); // 5
    input.extend_from_slice(b"all\t\xff\n"); // 6: invalid UTF-8
    input.extend_from_slice(format!("{key}\t{}\n", "9".repeat(10 << 20)).as_bytes()); // 7: 10 MB
    input.extend_from_slice(b"\n"); // 8: empty, not malformed
    input.extend_from_slice(&good[first.len() + 1..]);

    let (ok, out, err) = run(REDUCER, &[], &input);
    assert!(ok, "{err}");
    let (_, expected, _) = run(REDUCER, &[], &good);
    assert_eq!(out, expected);
    for expected in [
        "skipping malformed line 2 of standard input: no tab between key and value",
        "skipping malformed line 3 of standard input: bad key: invalid Class coordinate \"tachi\"",
        "skipping malformed line 4 of standard input: bad partial for key \"all\": expected 21 tab-separated integers",
        "skipping malformed line 5 of standard input: bad partial for key \"all\": records \"x",
        "skipping malformed line 6 of standard input: invalid UTF-8 at byte 5",
        "skipping malformed line 7 of standard input: line of 10485764 bytes exceeds the limit of 65536 bytes",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in:\n{err}");
    }
    assert_eq!(counter_updates(&err, "malformed_partials"), [6]);

    let (ok, _, err) = run(REDUCER, &["--strict"], &input);
    assert!(!ok);
    assert!(
        err.contains("mhfz-reducer: error: standard input line 2: no tab between key and value"),
        "{err}"
    );
}

#[test]
fn unsorted_input_fails_even_without_strict() {
    let good = mapped(1, &[]);
    let mut rows = lines(&good);
    rows.swap(3, 10);
    let input = rows.join("\n") + "\n";
    let (ok, _, err) = run(REDUCER, &[], input.as_bytes());
    assert!(!ok);
    assert!(
        err.contains("line 5: key \"class_element|great_sword|thunder_pole\" sorts before"),
        "{err}"
    );
    assert!(
        err.contains("must be sorted byte-wise (LC_ALL=C sort)"),
        "{err}"
    );
}

#[test]
fn empty_input_is_no_output() {
    for args in [&[][..], &["--combiner"][..]] {
        let (ok, out, err) = run(REDUCER, args, b"");
        assert!(ok, "{err}");
        assert!(out.is_empty());
    }
}

#[test]
fn prints_hive_ddl_with_every_column() {
    let args = [
        "--print-hive-ddl",
        "--hive-location",
        "hdfs:///mhfz/stats",
        "--hive-run-id",
        "run-1",
    ];
    let (ok, out, err) = run(REDUCER, &args, b"");
    assert!(ok, "{err}");
    let ddl = String::from_utf8(out).unwrap();
    let mut position = 0;
    for column in COLUMNS {
        let declaration = format!("`{}` {} COMMENT", column.name, column.hive_type);
        let found = ddl[position..]
            .find(&declaration)
            .unwrap_or_else(|| panic!("{declaration} missing or out of order"));
        position += found;
    }
    assert!(ddl.contains("LOCATION 'hdfs:///mhfz/stats';"));
    assert!(
        ddl.contains("PARTITION (`run_id` = 'run-1') LOCATION 'hdfs:///mhfz/stats/run_id=run-1';")
    );

    let (ok, _, err) = run(REDUCER, &["--print-hive-ddl"], b"");
    assert!(!ok, "the location is required");
    assert!(err.contains("--hive-location"), "{err}");
    let (ok, _, err) = run(
        REDUCER,
        &[
            "--print-hive-ddl",
            "--hive-location",
            "/x",
            "--hive-table",
            "a-b",
        ],
        b"",
    );
    assert!(!ok);
    assert!(err.contains("invalid Hive table name \"a-b\""), "{err}");
}

#[test]
fn a_closed_stdout_ends_the_reducer_quietly() {
    let good = mapped(1, &[]);
    let first = lines(&good)[0];
    let value = &first[first.find('\t').unwrap()..];
    // ~2 MB of output: far more than the pipe and output buffers hold.
    let many: String = (0..20_000)
        .map(|n| format!("element|e{n:05}{value}\n"))
        .collect();
    for args in [&[][..], &["--combiner"][..]] {
        let (ok, err) = read_one_line_then_close(REDUCER, args, many.clone().into_bytes());
        assert!(ok, "{err}");
        assert!(!err.contains("panicked") && !err.contains("error"), "{err}");
    }
}

#[test]
fn the_reducer_is_statically_linked() {
    assert_statically_linked(std::path::Path::new(REDUCER));
}
