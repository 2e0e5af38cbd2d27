//! Helpers shared by the integration tests.
#![allow(dead_code)] // each test crate uses a different subset

pub mod fixtures;
pub mod mirror;

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

pub const MAPPER: &str = env!("CARGO_BIN_EXE_mhfz-mapper");
pub const REDUCER: &str = env!("CARGO_BIN_EXE_mhfz-reducer");
pub const RUNNER: &str = env!("CARGO_BIN_EXE_mhfz-local-runner");

/// The fixture records as NDJSON, repeated `copies` times.
pub fn fixture_ndjson(copies: usize) -> String {
    fixtures::to_ndjson(&fixtures::fixture_records()).repeat(copies)
}

/// Runs `program` with `input` on stdin; returns (exit success, stdout, stderr).
pub fn run(program: &str, args: &[&str], input: &[u8]) -> (bool, Vec<u8>, String) {
    let output = assert_cmd::Command::new(program)
        .args(args)
        .write_stdin(input)
        .output()
        .unwrap();
    (
        output.status.success(),
        output.stdout,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// `LC_ALL=C sort` of `input`, as Hadoop's shuffle would deliver it.
pub fn sorted(input: &[u8]) -> Vec<u8> {
    let output = assert_cmd::Command::new("sort")
        .env("LC_ALL", "C")
        .write_stdin(input)
        .output()
        .unwrap();
    assert!(output.status.success(), "sort failed");
    output.stdout
}

/// `mapper | LC_ALL=C sort | reducer`, each step asserted successful.
pub fn map_sort_reduce(input: &[u8]) -> Vec<u8> {
    let (ok, mapped, err) = run(MAPPER, &[], input);
    assert!(ok, "mapper failed: {err}");
    let (ok, rows, err) = run(REDUCER, &[], &sorted(&mapped));
    assert!(ok, "reducer failed: {err}");
    rows
}

/// The `reporter:counter:mhfz,<name>,N` amounts in `stderr`, in order.
pub fn counter_updates(stderr: &str, name: &str) -> Vec<u64> {
    let prefix = format!("reporter:counter:mhfz,{name},");
    stderr
        .lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .map(|n| n.parse().unwrap())
        .collect()
}

/// Starts `program`, feeds it `input` from a thread, reads the first line of its stdout, then
/// closes stdout; returns the exit status success and stderr. A broken pipe must end it quietly.
pub fn read_one_line_then_close(program: &str, args: &[&str], input: Vec<u8>) -> (bool, String) {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // The writer sees a broken pipe itself once the child has quit early; that is expected.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 1];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    writer.join().unwrap();
    (status.success(), stderr)
}

/// Lines of `text`, as `&str`.
pub fn lines(bytes: &[u8]) -> Vec<&str> {
    std::str::from_utf8(bytes).unwrap().lines().collect()
}

/// Asserts that the executable at `path` is statically linked, using `ldd` or `file`.
pub fn assert_statically_linked(path: &Path) {
    let ldd = Command::new("ldd").arg(path).output();
    if let Ok(out) = &ldd {
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(
            text.contains("statically linked") || text.contains("not a dynamic executable"),
            "{} is dynamically linked:\n{text}",
            path.display()
        );
        return;
    }
    let file = Command::new("file")
        .arg(path)
        .output()
        .expect("neither `ldd` nor `file` could be run");
    let text = String::from_utf8_lossy(&file.stdout);
    assert!(
        text.contains("static"),
        "{} is not statically linked: {text}",
        path.display()
    );
}

/// Lines of each row kind in reducer output; panics unless every kind is present, so an
/// equality test over the output cannot pass without histogram and top-N rows.
pub fn rows_per_kind(
    output: &[u8],
) -> std::collections::BTreeMap<mhfz_streaming::row::RowKind, usize> {
    let mut counts = std::collections::BTreeMap::new();
    for line in lines(output) {
        let row = mhfz_streaming::row::OutputRow::parse(line)
            .unwrap_or_else(|e| panic!("{line:?} is not an output row: {e}"));
        *counts.entry(row.kind()).or_default() += 1;
    }
    for kind in mhfz_streaming::row::RowKind::ALL {
        assert!(
            counts.get(&kind).is_some_and(|&n| n > 0),
            "no {kind:?} rows in the output"
        );
    }
    counts
}

/// Each key of key-sorted map output with the rows the reducer writes for it alone, in key
/// order (the reducer runs in process, once per key).
pub fn rows_of_each_key(sorted_map_output: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    use mhfz_streaming::protocol::{ReportSettings, Reporter};
    use mhfz_streaming::reducer::{run_reducer, ReducerConfig};
    let mut groups: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    for line in sorted_map_output.split_inclusive(|&b| b == b'\n') {
        let key = line.split(|&b| b == b'\t').next().unwrap();
        match groups.last_mut() {
            Some((last, lines)) if last.as_slice() == key => lines.extend_from_slice(line),
            _ => groups.push((key.to_vec(), line.to_vec())),
        }
    }
    groups
        .into_iter()
        .map(|(key, lines)| {
            let (mut rows, mut log) = (Vec::new(), Vec::new());
            let mut reporter = Reporter::new(&mut log, "mhfz-reducer", &ReportSettings::default());
            run_reducer(
                lines.as_slice(),
                &mut rows,
                &mut reporter,
                &ReducerConfig::default(),
            )
            .unwrap();
            (key, rows)
        })
        .collect()
}
