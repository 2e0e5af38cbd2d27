//! `mhfz-loader` against the stack's HiveServer2 and HDFS:
//! `scripts/stack run -- cargo test -p mhfz-streaming --test loader`.
//!
//! Each test works in a database and an HDFS directory of its own, so tests run in parallel and
//! repeated runs against one stack do not meet each other's tables.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use common::{fixture_ndjson, map_sort_reduce};
use mhfz_streaming::loader::beeline::Beeline;
use mhfz_streaming::row::RowKind;
use mhfz_streaming::webhdfs::WebHdfs;

const LOADER: &str = env!("CARGO_BIN_EXE_mhfz-loader");

/// The stack's services, from the variables `scripts/stack env` exports.
struct Stack {
    beeline: Beeline,
    hdfs_uri: String,
}

fn stack() -> Stack {
    let var = |name: &str| {
        std::env::var(name).unwrap_or_else(|_| {
            panic!(
                "{name} is not set: run these tests inside the local service stack \
                 (scripts/stack run -- cargo test -p mhfz-streaming --test loader); \
                 MHFZ_HIVE_JDBC_URL, MHFZ_BEELINE, MHFZ_HDFS_URI and MHFZ_WEBHDFS_URL are needed"
            )
        })
    };
    // The loader reads this one itself; checked here so a missing one fails clearly.
    var("MHFZ_WEBHDFS_URL");
    Stack {
        beeline: Beeline {
            program: var("MHFZ_BEELINE").into(),
            jdbc_url: Some(var("MHFZ_HIVE_JDBC_URL")),
            user: "mhfz-test".into(),
        },
        hdfs_uri: var("MHFZ_HDFS_URI"),
    }
}

/// A database name and a table location no other test (or earlier run) uses.
fn unique_table(stack: &Stack, test: &str) -> (String, String) {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let database = format!("mhfz_test_{test}_{}_{nanos}", std::process::id());
    let location = format!(
        "{}/tmp/mhfz-loader-tests/{database}/weapon_statistics",
        stack.hdfs_uri.trim_end_matches('/')
    );
    (database, location)
}

/// Runs mhfz-loader; returns (success, stderr).
fn load(database: &str, location: &str, run_id: &str, inputs: &[&Path]) -> (bool, String) {
    let output = Command::new(LOADER)
        .args([
            "--database",
            database,
            "--location",
            location,
            "--run-id",
            run_id,
        ])
        .args(inputs)
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Reducer output for `copies` copies of the fixture records: different copies give different
/// counts, so every run's rows differ.
fn reducer_rows(copies: usize) -> String {
    String::from_utf8(map_sort_reduce(fixture_ndjson(copies).as_bytes())).unwrap()
}

/// A row as beeline prints it: `\N` is `NULL`, and DOUBLE columns compare as numbers (the
/// reducer writes four decimals, Hive prints the shortest form).
fn normalise(kind: RowKind, fields: &[&str]) -> Vec<String> {
    let columns = kind.columns();
    std::iter::once(kind.table_name().to_string())
        .chain(fields.iter().enumerate().map(|(index, field)| {
            let double = columns.get(index).is_some_and(|c| c.hive_type == "DOUBLE");
            match *field {
                "\\N" | "NULL" => "NULL".to_string(),
                number if double => number
                    .parse::<f64>()
                    .unwrap_or_else(|_| panic!("column {index}: {number:?} is not a number"))
                    .to_string(),
                text => text.to_string(),
            }
        }))
        .collect()
}

/// The rows a run should have in Hive: the reducer's rows of every kind (tag dropped, table
/// name first) plus the partition column.
fn expected(rows: &str, run_id: &str) -> Vec<Vec<String>> {
    let mut rows: Vec<Vec<String>> = rows
        .lines()
        .map(|line| {
            let (kind, row) = RowKind::split_line(line.as_bytes());
            let mut fields: Vec<&str> = std::str::from_utf8(row).unwrap().split('\t').collect();
            fields.push(run_id);
            normalise(kind, &fields)
        })
        .collect();
    rows.sort();
    rows
}

/// The rows of `run_id` in the three tables (table name first), read back through
/// HiveServer2.
fn hive_rows(stack: &Stack, database: &str, run_id: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for kind in RowKind::ALL {
        let query = format!(
            "SELECT * FROM `{database}`.`{}` WHERE run_id = '{run_id}'",
            kind.table_name()
        );
        let table_rows = stack.beeline.query(&query).unwrap();
        assert!(!table_rows.is_empty(), "no {} rows", kind.table_name());
        rows.extend(
            table_rows
                .iter()
                .map(|row| normalise(kind, &row.iter().map(String::as_str).collect::<Vec<_>>())),
        );
    }
    rows.sort();
    rows
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, text).unwrap();
    path
}

fn drop_database(stack: &Stack, database: &str) {
    stack
        .beeline
        .query(&format!("DROP DATABASE `{database}` CASCADE"))
        .unwrap();
}

#[test]
fn runs_load_as_partitions_and_a_reload_replaces_only_its_own() {
    let stack = stack();
    let (database, location) = unique_table(&stack, "reload");
    let dir = tempfile::tempdir().unwrap();
    let (rows_a, rows_b, rows_a_again) = (reducer_rows(1), reducer_rows(3), reducer_rows(2));
    assert!(rows_a != rows_b && rows_a != rows_a_again && rows_a.lines().count() > 10);

    // Run a: one file. Run b: a Hadoop job's output directory with two part files.
    let file_a = write(dir.path(), "a.tsv", &rows_a);
    let job_b = dir.path().join("job-b");
    fs::create_dir(&job_b).unwrap();
    let lines_b: Vec<&str> = rows_b.split_inclusive('\n').collect();
    let (first, second) = lines_b.split_at(lines_b.len() / 2);
    write(&job_b, "part-00000", &first.concat());
    write(&job_b, "part-00001", &second.concat());
    write(&job_b, "_SUCCESS", "");

    let (ok, err) = load(&database, &location, "a", &[&file_a]);
    assert!(ok, "{err}");
    assert!(
        err.contains(&format!(
            "run a: {} rows in 1 files loaded",
            rows_a.lines().count()
        )),
        "{err}"
    );
    let (ok, err) = load(&database, &location, "b", &[&job_b]);
    assert!(ok, "{err}");
    assert_eq!(hive_rows(&stack, &database, "a"), expected(&rows_a, "a"));
    assert_eq!(hive_rows(&stack, &database, "b"), expected(&rows_b, "b"));

    // Reloading a with other rows replaces a's partition; b keeps its rows.
    let file_a_again = write(dir.path(), "a-again.tsv", &rows_a_again);
    let (ok, err) = load(&database, &location, "a", &[&file_a_again]);
    assert!(ok, "{err}");
    assert_eq!(
        hive_rows(&stack, &database, "a"),
        expected(&rows_a_again, "a")
    );
    assert_eq!(hive_rows(&stack, &database, "b"), expected(&rows_b, "b"));
    let partitions = stack
        .beeline
        .query(&format!("SHOW PARTITIONS `{database}`.`weapon_statistics`"))
        .unwrap();
    assert_eq!(partitions, [["run_id=a"], ["run_id=b"]]);

    // On HDFS: the two partition directories, no staging or replaced directory left, and only
    // the reloaded file in a's.
    let hdfs = WebHdfs::from_env().unwrap();
    let table_dir = &location[stack.hdfs_uri.trim_end_matches('/').len()..];
    let names = |dir: &str| -> Vec<String> {
        hdfs.list(dir)
            .unwrap()
            .into_iter()
            .map(|entry| entry.path_suffix)
            .collect()
    };
    assert_eq!(names(table_dir), ["run_id=a", "run_id=b"]);
    assert_eq!(names(&format!("{table_dir}/run_id=a")), ["part-00000"]);
    assert_eq!(
        names(&format!("{table_dir}/run_id=b")),
        ["part-00000", "part-00001"]
    );

    drop_database(&stack, &database);
}

#[test]
fn bad_input_and_bad_run_ids_change_nothing() {
    let stack = stack();
    let (database, location) = unique_table(&stack, "bad");
    let dir = tempfile::tempdir().unwrap();
    let rows = reducer_rows(1);
    let good = write(dir.path(), "good.tsv", &rows);
    let (ok, err) = load(&database, &location, "good", &[&good]);
    assert!(ok, "{err}");

    // A short row: the loader names the file and line, and the run is not (re)loaded.
    let mut bad_rows = rows.clone();
    bad_rows.push_str("all\t1\n");
    let bad = write(dir.path(), "bad.tsv", &bad_rows);
    let (ok, err) = load(&database, &location, "good", &[&bad]);
    assert!(!ok);
    let bad_line = rows.lines().count() + 1;
    assert!(
        err.contains(&format!(
            "bad.tsv line {bad_line} has 2 tab-separated fields, a weapon_statistics row has 24"
        )),
        "{err}"
    );

    // A run id that would leave its partition directory, or break the HiveQL literal.
    for run_id in ["../x", "x'y", "a:b", ""] {
        let (ok, err) = load(&database, &location, run_id, &[&good]);
        assert!(!ok, "{run_id:?} accepted");
        assert!(err.contains("invalid run id"), "{err}");
    }
    assert_eq!(
        hive_rows(&stack, &database, "good"),
        expected(&rows, "good")
    );
    let partitions = stack
        .beeline
        .query(&format!("SHOW PARTITIONS `{database}`.`weapon_statistics`"))
        .unwrap();
    assert_eq!(partitions, [["run_id=good"]]);

    drop_database(&stack, &database);
}

#[test]
fn an_unreachable_hiveserver2_fails_the_load() {
    // beeline itself exits with status 0 when it cannot connect; the loader must not.
    let stack = stack();
    let (database, location) = unique_table(&stack, "unreachable");
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "rows.tsv", &reducer_rows(1));
    let output = Command::new(LOADER)
        .args([
            "--database",
            &database,
            "--location",
            &location,
            "--run-id",
            "r1",
        ])
        .args(["--jdbc-url", "jdbc:hive2://127.0.0.1:1/default"])
        .arg(&file)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{err}");
    assert!(
        err.contains("registering the partition through HiveServer2 failed")
            && err.contains("did not run the whole script")
            && err.contains("Could not open client transport"),
        "{err}"
    );
}

#[test]
fn hiveserver2_answers_only_over_tls() {
    let stack = stack();
    let url = stack.beeline.jdbc_url.clone().unwrap();
    assert!(
        url.contains(";ssl=true;"),
        "the stack's URL is not TLS: {url}"
    );
    let answered = |url: &str| {
        let beeline = Beeline {
            jdbc_url: Some(url.to_owned()),
            ..stack.beeline.clone()
        };
        beeline.query("SELECT 'answered'")
    };
    assert_eq!(answered(&url).unwrap(), [["answered"]]);
    // The same server without TLS: the handshake is refused.
    let plaintext = url.split(';').next().unwrap();
    let err = answered(plaintext).unwrap_err().to_string();
    assert!(err.contains("Could not open client transport"), "{err}");
}

#[test]
fn print_hql_shows_the_script_without_a_server() {
    let output = Command::new(LOADER)
        .args(["--print-hql", "--run-id", "2026-11-28T0500Z"])
        .args(["--location", "hdfs://127.0.0.1:9000/mhfz/weapon_statistics"])
        .env_remove("MHFZ_HIVE_JDBC_URL")
        .env_remove("MHFZ_BEELINE")
        .output()
        .unwrap();
    assert!(output.status.success());
    let hql = String::from_utf8(output.stdout).unwrap();
    assert!(hql.contains("DROP IF EXISTS PARTITION (`run_id` = '2026-11-28T0500Z');"));
    assert!(hql.contains(
        "LOCATION 'hdfs://127.0.0.1:9000/mhfz/weapon_statistics/run_id=2026-11-28T0500Z';"
    ));
}
