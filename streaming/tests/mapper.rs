//! `mhfz-mapper` as a process: output, malformed input, --strict, counters, broken pipe.

mod common;

use common::*;

/// A fixture record line with `replace` applied (the first occurrence).
fn edited_record(from: &str, to: &str) -> String {
    let line = fixture_ndjson(1).lines().nth(1).unwrap().to_string();
    assert!(line.contains(from), "{from:?} not in {line}");
    line.replacen(from, to, 1)
}

#[test]
fn maps_records_to_exact_partials_per_key() {
    let (ok, out, err) = run(MAPPER, &[], fixture_ndjson(1).as_bytes());
    assert!(ok, "{err}");
    let lines = lines(&out);
    let mut keys: Vec<&str> = lines
        .iter()
        .map(|l| l.split('\t').next().unwrap())
        .collect();
    assert!(
        keys.windows(2).all(|w| w[0] < w[1]),
        "keys are unique and sorted: {keys:?}"
    );
    assert!(lines.contains(
        &"class|long_sword\t3\t1\t0\t1\t1\t0\t3\t3180\t3920400\t480\t1500\t3\t15\t725\t-10\t25\t2\t750\t292500\t300\t450"
    ));
    keys.retain(|k| k.starts_with("element|"));
    // Defense bonuses and attributes the record crate does not know (`Frost Zero`) are not
    // elemental, so they form no element group.
    assert_eq!(
        keys,
        [
            "element|blast",
            "element|dragon",
            "element|fire",
            "element|ice",
            "element|paralysis",
            "element|poison",
            "element|sleep",
            "element|thunder",
            "element|thunder_pole",
            "element|water",
        ]
    );
    let stats_lines = lines
        .iter()
        .filter(|l| !l.starts_with("histogram|") && !l.starts_with("top|"));
    assert!(
        stats_lines.clone().all(|l| l.split('\t').count() == 22),
        "key + 21 integers"
    );
    assert_eq!(stats_lines.count(), 54);
    // Histograms and top-N lists: one key per class (and rarity) and metric with a value.
    assert!(lines.contains(&"histogram|class|long_sword|attack\t400\t1\t1200\t1\t1500\t1"));
    assert!(lines.contains(&"top|long_sword|element\t450\tlong_sword:s:l3000\t12\tRavi Blade\t300\tlong_sword:g:l219C2\t11\tFlame Katana"));
    assert_eq!(counter_updates(&err, "map_input_records"), [12]);
    assert!(err.ends_with("reporter:status:mhfz-mapper: done: 12 records, 0 malformed lines, 137 partials written\n"), "{err}");
    assert_eq!(lines.len(), 137);
}

#[test]
fn malformed_lines_are_counted_logged_and_skipped() {
    let valid = fixture_ndjson(1);
    let mut input = Vec::new();
    let mut valid_lines = valid.lines();
    input.extend_from_slice(format!("{}\n", valid_lines.next().unwrap()).as_bytes());
    let truncated = edited_record("", "");
    input.extend_from_slice(format!("{}\n", &truncated[..truncated.len() / 2]).as_bytes()); // line 2
    input.extend_from_slice(
        edited_record("bones", "bo\u{7f}nes")
            .replace('\u{7f}', "\u{0}")
            .as_bytes(),
    ); // line 3
    let line3_start = input.len() - truncated.len() - 1;
    let nul = input[line3_start..].iter().position(|&b| b == 0).unwrap() + line3_start;
    input[nul] = 0xff; // invalid UTF-8 inside an otherwise valid record
    input.push(b'\n');
    input.extend_from_slice(
        format!("{{\"description\":\"{}\"}}\n", "x".repeat(10 << 20)).as_bytes(),
    ); // line 4
    input.extend_from_slice(
        format!(
            "{}\n",
            edited_record("\"attack\":1200", "\"attack\":\"1200\"")
        )
        .as_bytes(),
    ); // line 5
    input.extend_from_slice(b"\n   \n"); // lines 6, 7: blank, not malformed
    input.extend_from_slice(b"null\n"); // line 8
    for line in valid_lines {
        input.extend_from_slice(format!("{line}\n").as_bytes());
    }

    let (ok, out, err) = run(MAPPER, &[], &input);
    assert!(ok, "{err}");
    let (_, expected, _) = run(MAPPER, &[], valid.as_bytes());
    assert_eq!(
        out, expected,
        "nothing valid is lost, nothing invalid gets in"
    );
    for expected in [
        "mhfz-mapper: skipping malformed line 2 of standard input: not a weapon record: EOF while parsing",
        "mhfz-mapper: skipping malformed line 3 of standard input: invalid UTF-8 at byte",
        "mhfz-mapper: skipping malformed line 4 of standard input: line of 10485778 bytes exceeds the limit of 1048576 bytes",
        "mhfz-mapper: skipping malformed line 5 of standard input: not a weapon record: invalid type: string \"1200\", expected u32",
        "mhfz-mapper: skipping malformed line 8 of standard input: not a weapon record: invalid type: null",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in:\n{err}");
    }
    assert_eq!(counter_updates(&err, "malformed_records"), [5]);
    assert_eq!(counter_updates(&err, "map_empty_lines"), [2]);
}

#[test]
fn strict_mode_fails_on_the_first_malformed_line() {
    let good = fixture_ndjson(1);
    for (bad, reason) in [
        (
            "{\"class\":\"bow\"".to_string(),
            "not a weapon record: EOF while parsing an object",
        ),
        (
            edited_record("\"rarity\":11", "\"rarity\":300"),
            "not a weapon record: invalid value: integer `300`, expected u8",
        ),
        (
            edited_record("\"class\":\"long_sword\"", "\"class\":\"partnya\""),
            "not a weapon record: unknown variant `partnya`",
        ),
        ("{".repeat(20), "not a weapon record: key must be a string"),
    ] {
        let input = format!("{good}{bad}\n{good}");
        let (ok, out, err) = run(MAPPER, &["--strict"], input.as_bytes());
        assert!(!ok, "--strict accepted {bad}");
        let expected = format!("mhfz-mapper: error: standard input line 13: {reason}");
        assert!(err.contains(&expected), "expected {expected:?} in:\n{err}");
        assert!(err.contains("rerun without --strict"), "{err}");
        assert!(
            out.is_empty(),
            "nothing is written before the failure (partials are still cached)"
        );
    }
    let (ok, _, err) = run(MAPPER, &["--strict"], good.as_bytes());
    assert!(ok, "{err}");
}

#[test]
fn counters_are_batched_and_only_ten_bad_lines_are_logged() {
    let input = "not json\n".repeat(2500);
    let (ok, out, err) = run(MAPPER, &["--counter-batch", "1000"], input.as_bytes());
    assert!(ok, "{err}");
    assert!(out.is_empty());
    assert_eq!(
        counter_updates(&err, "malformed_records"),
        [1000, 1000, 500]
    );
    assert_eq!(err.matches("skipping malformed line").count(), 10);
    assert!(err.contains("skipping malformed line 10 of standard input"));
    assert!(err.contains("further malformed lines are only counted"));
    assert_eq!(
        err.lines().count(),
        10 + 1 + 3 + 1,
        "10 logged, 1 notice, 3 counter lines, 1 status:\n{err}"
    );
}

#[test]
fn status_lines_are_periodic_and_name_the_hadoop_input() {
    let input = fixture_ndjson(400); // 4800 lines
    let output = assert_cmd::Command::new(MAPPER)
        .args(["--status-interval", "0"])
        .env("mapreduce_map_input_file", "hdfs:///in/part-3.ndjson")
        .write_stdin(format!("{input}oops\n"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{err}");
    let statuses: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("reporter:status:"))
        .collect();
    assert_eq!(
        statuses.len(),
        4 + 1,
        "every 1024 lines plus the final one: {statuses:?}"
    );
    assert_eq!(
        statuses[0],
        "reporter:status:mhfz-mapper: read 1024 lines of hdfs:///in/part-3.ndjson"
    );
    assert!(
        err.contains("skipping malformed line 4801 of hdfs:///in/part-3.ndjson"),
        "{err}"
    );
}

#[test]
fn empty_input_is_no_output() {
    let (ok, out, err) = run(MAPPER, &[], b"");
    assert!(ok, "{err}");
    assert!(out.is_empty());
    assert_eq!(
        err,
        "reporter:status:mhfz-mapper: done: 0 records, 0 malformed lines, 0 partials written\n"
    );
}

#[test]
fn a_closed_stdout_ends_the_mapper_quietly() {
    let input = fixture_ndjson(3000).into_bytes();
    let (ok, err) = read_one_line_then_close(MAPPER, &["--max-cached-keys", "1"], input);
    assert!(ok, "exit status should be success on a broken pipe: {err}");
    assert!(!err.contains("panicked") && !err.contains("error"), "{err}");
}

#[test]
fn invalid_arguments_are_usage_errors() {
    let (ok, _, err) = run(MAPPER, &["--max-cached-keys", "0"], b"");
    assert!(!ok);
    assert!(err.contains("--max-cached-keys"), "{err}");
}

#[test]
fn the_mapper_is_statically_linked() {
    assert_statically_linked(std::path::Path::new(MAPPER));
}
