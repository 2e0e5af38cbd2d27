//! Genuine Hadoop streaming: `hadoop jar hadoop-streaming-<ver>.jar` runs the static mapper,
//! combiner and reducer executables on the stack's YARN over records parsed from the site mirror
//! (placed in HDFS through WebHDFS), and its output is byte-identical to `mhfz-local-runner`'s on
//! the same input; the executables' `reporter:counter:` counters are read back from the job.
//!
//! The local runner partitions like Hadoop's `HashPartitioner`, so the comparison is (0) each
//! part file byte for byte, (1) the sorted concatenation of all part files, and (2) each Hadoop
//! part file against the rows whose key `HashPartitioner` sends to that reducer, in order.
//!
//! Needs the stack with hadoop (`scripts/stack run -- cargo test`: MHFZ_HADOOP_STREAMING_JAR,
//! MHFZ_WEBHDFS_URL, ...) and the mirror (`MHFZ_MIRROR`, default
//! `<repo>/../shared/ferias-site/buki`); fails when either is missing.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;

use common::mirror::{repo_root, write_mirror_inputs};
use common::{
    assert_statically_linked, rows_of_each_key, rows_per_kind, run, sorted, MAPPER, REDUCER, RUNNER,
};
use mhfz_record::WeaponClass;
use mhfz_streaming::pipeline::counters::JobClientReport;
use mhfz_streaming::runner::partition;
use mhfz_streaming::webhdfs::WebHdfs;

/// Two classes keep the job short: a blademaster class and a bowgun class.
const CLASSES: [WeaponClass; 2] = [WeaponClass::Hammer, WeaponClass::HeavyBowgun];
const REDUCERS: usize = 3;
/// Lines no mapper accepts: counted (`mhfz/malformed_records`) and skipped.
const BAD_RECORDS: &[u8] = b"{\"weapon_id\": \"half a record\"\n[1, 2, 3]\nnot json at all\n";

fn stack_var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run inside `scripts/stack run -- cargo test` with the hadoop service")
    })
}

fn local_runner_counters(stderr: &str) -> BTreeMap<String, u64> {
    stderr
        .lines()
        .filter_map(|line| line.strip_prefix("  mhfz."))
        .filter_map(|line| line.split_once('='))
        .map(|(name, value)| (name.to_string(), value.parse().unwrap()))
        .collect()
}

fn hadoop(args: &[&str]) -> (bool, String, String) {
    let output = Command::new(repo_root().join("scripts/hadoop"))
        .args(args)
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn streaming_job_on_yarn_matches_the_local_runner_and_reports_counters() {
    let streaming_jar = stack_var("MHFZ_HADOOP_STREAMING_JAR");
    // Shipped with -files into containers that have nothing but a JVM: they must be static.
    assert_statically_linked(Path::new(MAPPER));
    assert_statically_linked(Path::new(REDUCER));
    let hdfs = WebHdfs::from_env().unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let (inputs, records) = write_mirror_inputs(scratch.path(), &CLASSES, BAD_RECORDS);

    let base = format!("/mhfz-tests/hadoop-streaming-{}", std::process::id());
    hdfs.delete(&base, true).unwrap();
    for input in &inputs {
        let name = input.file_name().unwrap().to_str().unwrap();
        hdfs.put_atomically(
            &format!("{base}/input/{name}"),
            fs::File::open(input).unwrap(),
        )
        .unwrap();
    }

    let files = format!("{MAPPER},{REDUCER}");
    let (input_dir, output_dir) = (format!("{base}/input"), format!("{base}/output"));
    let reducers = REDUCERS.to_string();
    let (ok, _, job_log) = hadoop(&[
        "jar",
        &streaming_jar,
        "-D",
        "mapreduce.job.name=mhfz hadoop_streaming test",
        // One map task per input file, as the local runner: then every counter must agree
        // (by default FileInputFormat splits the larger file in two to reach 2 map tasks).
        "-D",
        "mapreduce.input.fileinputformat.split.minsize=1073741824",
        "-files",
        &files,
        "-mapper",
        "mhfz-mapper",
        "-combiner",
        "mhfz-reducer --combiner",
        "-reducer",
        "mhfz-reducer",
        "-numReduceTasks",
        &reducers,
        "-input",
        &input_dir,
        "-output",
        &output_dir,
    ]);
    assert!(ok, "the streaming job failed:\n{job_log}");
    assert!(
        job_log.contains("running in uber mode : false"),
        "the job ran in YARN containers:\n{job_log}"
    );

    // The job's output, read back through WebHDFS.
    let names: Vec<String> = hdfs
        .list(&output_dir)
        .unwrap()
        .into_iter()
        .map(|status| status.path_suffix)
        .collect();
    let expected_names: Vec<String> = std::iter::once("_SUCCESS".to_string())
        .chain((0..REDUCERS).map(|i| format!("part-{i:05}")))
        .collect();
    assert_eq!(names, expected_names);
    let hadoop_parts: Vec<Vec<u8>> = (0..REDUCERS)
        .map(|i| hdfs.read(&format!("{output_dir}/part-{i:05}")).unwrap())
        .collect();

    // The local runner on the same files, with the same reducer count and combiner.
    let local_out = scratch.path().join("local");
    let output = Command::new(RUNNER)
        .args(&inputs)
        .args(["--reducers", &reducers, "--combiner", "--output-dir"])
        .arg(&local_out)
        .output()
        .unwrap();
    let runner_log = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "mhfz-local-runner failed:\n{runner_log}"
    );
    let local_rows: Vec<u8> = (0..REDUCERS)
        .flat_map(|i| fs::read(local_out.join(format!("part-{i:05}"))).unwrap())
        .collect();

    // (0) Every part file byte-identical to the local runner's: both partition like Hadoop.
    for (i, hadoop_part) in hadoop_parts.iter().enumerate() {
        let local = fs::read(local_out.join(format!("part-{i:05}"))).unwrap();
        assert!(
            &local == hadoop_part,
            "part-{i:05} of Hadoop and of the local runner differ"
        );
    }
    // (1) All rows, sorted: byte-identical.
    let hadoop_rows: Vec<u8> = hadoop_parts.concat();
    assert!(!hadoop_rows.is_empty());
    assert_eq!(
        String::from_utf8(sorted(&hadoop_rows)).unwrap(),
        String::from_utf8(sorted(&local_rows)).unwrap()
    );
    // Histogram and top-N rows are there too, so the equalities are not vacuous.
    rows_per_kind(&hadoop_rows);
    // (2) Each part file: the rows of the keys HashPartitioner sends there, in key order. Each
    // key's rows are its map output lines reduced alone (a key may give several rows).
    let all_input: Vec<u8> = inputs.iter().flat_map(|p| fs::read(p).unwrap()).collect();
    let (ok, mapped, err) = run(MAPPER, &[], &all_input);
    assert!(ok, "mapper failed: {err}");
    let mapped = sorted(&mapped);
    let rows_by_key = rows_of_each_key(&mapped);
    for (index, part) in hadoop_parts.iter().enumerate() {
        let expected: Vec<u8> = rows_by_key
            .iter()
            .filter(|(key, _)| partition(key, REDUCERS) == index)
            .flat_map(|(_, rows)| rows.iter().copied())
            .collect();
        assert!(
            part == &expected,
            "part-{index:05} differs from HashPartitioner's share of the rows"
        );
    }

    // The executables' counters, from the block the job client printed...
    let report = JobClientReport::parse(&job_log);
    let counters = report.counters["mhfz"].clone();
    let rows = hadoop_rows.iter().filter(|&&b| b == b'\n').count() as u64;
    assert_eq!(
        counters.get("map_input_records"),
        Some(&records),
        "{job_log}"
    );
    assert_eq!(counters.get("malformed_records"), Some(&3), "{job_log}");
    assert_eq!(counters.get("reduce_output_rows"), Some(&rows), "{job_log}");
    // Hadoop's own record counters agree with them.
    let framework = &report.counters["Map-Reduce Framework"];
    assert_eq!(framework.get("Map input records"), Some(&(records + 3)));
    assert_eq!(framework.get("Reduce output records"), Some(&rows));
    assert_eq!(
        framework.get("Combine output records"),
        counters.get("combine_output_partials")
    );
    // ...the same as the local runner's, all of them: both ran one map task per input file.
    let local = local_runner_counters(&runner_log);
    assert_eq!(
        counters, local,
        "Hadoop's counters against the local runner's"
    );

    // ...and from the finished job itself, as `mapred job -counter` reads them (history server).
    let job_id = report
        .job_id
        .as_deref()
        .unwrap_or_else(|| panic!("no job id in the job client's output:\n{job_log}"));
    for (name, value) in [
        ("map_input_records", records),
        ("malformed_records", 3),
        ("reduce_output_rows", rows),
    ] {
        let (ok, stdout, stderr) = hadoop(&["job", "-counter", job_id, "mhfz", name]);
        assert!(ok, "job -counter {job_id} mhfz {name} failed:\n{stderr}");
        assert_eq!(stdout.trim(), value.to_string(), "counter {name}");
    }

    hdfs.delete(&base, true).unwrap();
}
