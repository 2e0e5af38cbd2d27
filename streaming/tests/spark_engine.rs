//! The Spark engine (`scripts/spark-streaming`: the mapper, combiner and reducer through
//! `RDD.pipe`) against `mhfz-local-runner`, the byte-exact reference, on records parsed from the
//! site mirror: the same part files with and without the combiner, the same counters for bad
//! records, Hadoop's HashPartitioner, and a failing executable named by its stage.
//!
//! Needs `spark-submit` (pyspark, from `PATH="$(scripts/python-env):$PATH"`) and `java` on PATH,
//! and the mirror (`MHFZ_MIRROR`, default `<repo>/../shared/ferias-site/buki`); fails when any is
//! missing.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use common::mirror::{repo_root, write_mirror_inputs};
use common::{lines, rows_per_kind, run, sorted, MAPPER, REDUCER, RUNNER};
use mhfz_record::WeaponClass;
use mhfz_streaming::runner::partition;

/// Two classes keep the Spark runs short: a blademaster class and a bowgun class.
const CLASSES: [WeaponClass; 2] = [WeaponClass::Hammer, WeaponClass::HeavyBowgun];
const REDUCERS: &str = "3";
/// Lines no mapper accepts: counted (`mhfz.malformed_records`) and skipped.
const BAD_RECORDS: &[u8] = b"{\"weapon_id\": \"half a record\"\n[1, 2, 3]\nnot json at all\n";
/// Counters that do not depend on how the input is split into map tasks.
const SPLIT_INDEPENDENT_COUNTERS: [&str; 3] = [
    "mhfz.map_input_records",
    "mhfz.malformed_records",
    "mhfz.reduce_output_rows",
];

/// Spark runs take both cores and ~1 GB: one at a time.
static SPARK: Mutex<()> = Mutex::new(());

/// Fails unless Spark can run: pyspark's spark-submit and a JDK.
fn require_spark() {
    for (program, hint) in [
        (
            "spark-submit",
            "install pyspark: PATH=\"$(scripts/python-env):$PATH\"",
        ),
        ("java", "install a JDK 17 or later"),
    ] {
        let found = std::env::var_os("PATH")
            .is_some_and(|path| std::env::split_paths(&path).any(|d| d.join(program).is_file()));
        assert!(found, "{program} is not on PATH: {hint}");
    }
}

/// A run's part files (name → bytes) and counters.
struct Run {
    parts: BTreeMap<String, Vec<u8>>,
    counters: BTreeMap<String, u64>,
}

impl Run {
    /// The counters of `names`, for comparing runs split differently.
    fn counters_of(&self, names: &[&str]) -> Vec<(String, Option<u64>)> {
        names
            .iter()
            .map(|&name| (name.to_string(), self.counters.get(name).copied()))
            .collect()
    }
}

/// `  name=value` lines after the `<program>: counters:` line.
fn parse_counters(stderr: &str) -> BTreeMap<String, u64> {
    stderr
        .lines()
        .skip_while(|line| !line.ends_with(": counters:"))
        .skip(1)
        .map_while(|line| line.strip_prefix("  ")?.split_once('='))
        .map(|(name, value)| (name.to_string(), value.parse().unwrap()))
        .collect()
}

fn read_output(dir: &Path, stderr: &str) -> Run {
    let parts = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}\n{stderr}", dir.display()))
        .map(|entry| entry.unwrap())
        .map(|entry| entry.file_name().into_string().unwrap())
        .filter(|name| name.starts_with("part-"))
        .map(|name| {
            let bytes = fs::read(dir.join(&name)).unwrap();
            (name, bytes)
        })
        .collect();
    let counters = parse_counters(stderr);
    assert!(!counters.is_empty(), "no counters printed:\n{stderr}");
    Run { parts, counters }
}

fn local_runner(inputs: &[PathBuf], out: &Path, combiner: bool) -> Run {
    let mut command = Command::new(RUNNER);
    command
        .args(inputs)
        .args(["--reducers", REDUCERS, "--output-dir"])
        .arg(out);
    if combiner {
        command.arg("--combiner");
    }
    let output = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.success(),
        "mhfz-local-runner failed:\n{stderr}"
    );
    read_output(out, &stderr)
}

/// Runs the launcher; returns (success, stderr).
fn spark(work: &Path, inputs: &[PathBuf], out: &Path, extra: &[&str]) -> (bool, String) {
    require_spark();
    let _one_at_a_time = SPARK.lock().unwrap_or_else(|e| e.into_inner());
    let output = Command::new(repo_root().join("scripts/spark-streaming"))
        .arg("--work-dir")
        .arg(work)
        .arg("--output-dir")
        .arg(out)
        .args([
            "--mapper",
            MAPPER,
            "--reducer",
            REDUCER,
            "--reducers",
            REDUCERS,
        ])
        .args(extra)
        .args(inputs)
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn spark_run(work: &Path, inputs: &[PathBuf], out: &Path, extra: &[&str]) -> Run {
    let (ok, stderr) = spark(work, inputs, out, extra);
    assert!(ok, "spark-streaming {extra:?} failed:\n{stderr}");
    assert!(
        out.join("_SUCCESS").is_file(),
        "no _SUCCESS marker, as Hadoop writes"
    );
    read_output(out, &stderr)
}

/// Hadoop streaming's part files, built step by step: all map output lines, split among the
/// reducers by [`partition`] (the local runner's) of their key (checked against Hadoop's class), each part
/// sorted and reduced.
fn hadoop_reference(scratch: &Path, inputs: &[PathBuf]) -> BTreeMap<String, Vec<u8>> {
    let input: Vec<u8> = inputs.iter().flat_map(|p| fs::read(p).unwrap()).collect();
    let (ok, mapped, err) = run(MAPPER, &[], &input);
    assert!(ok, "mapper failed: {err}");
    let reducers: usize = REDUCERS.parse().unwrap();
    let keyed: Vec<(&[u8], &[u8])> = mapped
        .split_inclusive(|&b| b == b'\n')
        .map(|line| (line.split(|&b| b == b'\t').next().unwrap(), line))
        .collect();
    // The local runner's partitioner is Hadoop's own.
    let keys: Vec<&[u8]> = keyed.iter().map(|(key, _)| *key).collect();
    let ours: Vec<usize> = keys.iter().map(|key| partition(key, reducers)).collect();
    assert_eq!(ours, jvm_hash_partitions(scratch, &keys, reducers));
    let mut partitions = vec![Vec::new(); reducers];
    for ((_, line), partition) in keyed.iter().zip(ours) {
        partitions[partition].extend_from_slice(line);
    }
    partitions
        .iter()
        .enumerate()
        .map(|(index, partition)| {
            let (ok, rows, err) = run(REDUCER, &[], &sorted(partition));
            assert!(ok, "reducer failed: {err}");
            (format!("part-{index:05}"), rows)
        })
        .collect()
}

/// Hadoop's own `HashPartitioner` (from pyspark's Hadoop client jars), run by `java` on `keys`:
/// the partition of each key.
fn jvm_hash_partitions(dir: &Path, keys: &[&[u8]], reducers: usize) -> Vec<usize> {
    const SOURCE: &str = r#"
import java.io.*;
import org.apache.hadoop.io.Text;
import org.apache.hadoop.mapred.lib.HashPartitioner;
public class Partitions {
    public static void main(String[] args) throws IOException {
        int reducers = Integer.parseInt(args[0]);
        HashPartitioner<Text, Text> partitioner = new HashPartitioner<>();
        BufferedReader keys = new BufferedReader(new InputStreamReader(System.in, "UTF-8"));
        for (String key; (key = keys.readLine()) != null; )
            System.out.println(partitioner.getPartition(new Text(key), null, reducers));
    }
}
"#;
    let source = dir.join("Partitions.java");
    fs::write(&source, SOURCE).unwrap();
    let spark_submit = std::env::split_paths(&std::env::var_os("PATH").unwrap())
        .map(|d| d.join("spark-submit"))
        .find(|p| p.is_file())
        .unwrap();
    let python = spark_submit.with_file_name("python");
    let (ok, pyspark_dir, err) = run(
        python.to_str().unwrap(),
        &[
            "-c",
            "import os, pyspark; print(os.path.dirname(pyspark.__file__))",
        ],
        b"",
    );
    assert!(ok, "locating pyspark failed: {err}");
    let jars = format!("{}/jars/*", String::from_utf8(pyspark_dir).unwrap().trim());
    let input: Vec<u8> = keys.iter().flat_map(|k| [*k, b"\n"].concat()).collect();
    let reducers = reducers.to_string();
    let source = source.to_str().unwrap();
    let (ok, out, err) = run("java", &["-cp", &jars, source, &reducers], &input);
    assert!(ok, "java {source} failed: {err}");
    lines(&out).iter().map(|l| l.parse().unwrap()).collect()
}

fn scratch_dir() -> tempfile::TempDir {
    tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap()
}

#[test]
fn spark_output_is_the_local_runners_byte_for_byte_with_and_without_combiner() {
    let dir = scratch_dir();
    let (mut inputs, _) = write_mirror_inputs(dir.path(), &CLASSES, b"");
    let bad = dir.path().join("bad.ndjson");
    fs::write(&bad, BAD_RECORDS).unwrap();
    inputs.push(bad);
    let work = dir.path().join("work");

    let reference = local_runner(&inputs, &dir.path().join("local"), false);
    assert_eq!(
        reference.parts.keys().collect::<Vec<_>>(),
        ["part-00000", "part-00001", "part-00002"]
    );
    assert_eq!(reference.counters["mhfz.malformed_records"], 3);
    // Histogram and top-N rows are there too, so the equalities below are not vacuous.
    rows_per_kind(
        &reference
            .parts
            .values()
            .flatten()
            .copied()
            .collect::<Vec<u8>>(),
    );
    let reference_combined = local_runner(&inputs, &dir.path().join("local-c"), true);
    assert_eq!(reference_combined.parts, reference.parts);

    // Every part file identical to the local runner's, with and without the combiner.
    for (name, extra) in [("plain", &[][..]), ("combined", &["--combiner"][..])] {
        let run = spark_run(&work, &inputs, &dir.path().join(name), extra);
        assert!(
            run.parts == reference.parts,
            "{name}: part files differ from the local runner's"
        );
        assert_eq!(
            run.counters_of(&SPLIT_INDEPENDENT_COUNTERS),
            reference.counters_of(&SPLIT_INDEPENDENT_COUNTERS),
            "{name}"
        );
        if extra.contains(&"--combiner") {
            assert!(run.counters["mhfz.combine_output_partials"] > 0);
        }
    }

    // The part files of mapper → Hadoop's HashPartitioner (checked against the JVM class) →
    // sort → reducer: Spark's and the local runner's are exactly those.
    let counters_json = dir.path().join("counters.json");
    let run = spark_run(
        &work,
        &inputs,
        &dir.path().join("hadoop"),
        &[
            "--combiner",
            "--counters-json",
            counters_json.to_str().unwrap(),
        ],
    );
    let written: BTreeMap<String, u64> =
        serde_json::from_slice(&fs::read(&counters_json).unwrap()).unwrap();
    assert_eq!(
        written, run.counters,
        "--counters-json holds the printed totals"
    );
    assert!(
        run.parts == hadoop_reference(dir.path(), &inputs),
        "part files differ from Hadoop's partitioning"
    );
    assert!(
        run.parts == reference.parts,
        "Spark's part files differ from the local runner's"
    );

    // Scratch stays in the work directory; the staging directory is gone.
    let leftovers: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_failing_executable_fails_the_job_naming_its_stage() {
    let dir = scratch_dir();
    let input = dir.path().join("bad.ndjson");
    fs::write(&input, BAD_RECORDS).unwrap();
    let out = dir.path().join("out");

    // --strict: the mapper exits 1 on the first malformed line.
    let (ok, stderr) = spark(
        &dir.path().join("work"),
        std::slice::from_ref(&input),
        &out,
        &["--strict"],
    );
    assert!(!ok, "{stderr}");
    assert!(
        stderr.contains("spark-streaming: error: the mapper failed: ")
            && stderr.contains("mhfz-mapper exited with status 1"),
        "{stderr}"
    );
    assert!(
        stderr.contains("[mapper] mhfz-mapper: error: "),
        "the mapper's own message is relayed:\n{stderr}"
    );
    assert!(!out.exists(), "no partial output");

    // An output directory that is not empty is refused before anything runs.
    fs::create_dir_all(&out).unwrap();
    fs::write(out.join("keep"), b"").unwrap();
    let (ok, stderr) = spark(&dir.path().join("work"), &[input], &out, &[]);
    assert!(!ok);
    assert!(stderr.contains("is not empty"), "{stderr}");
}
