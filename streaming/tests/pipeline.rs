//! `mhfz-pipeline run` against the stack's PostgreSQL, HDFS, YARN and HiveServer2:
//! `scripts/stack run -- cargo test -p mhfz-streaming --test pipeline`.
//!
//! Each test has its own database, Hive database, HDFS directories and lock file, so they run in
//! parallel. The local engine keeps most of them short; one run goes through YARN.

mod common;
mod exporter_db;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{SystemTime, UNIX_EPOCH};

use common::{MAPPER, REDUCER};
use exporter_db::store_support::{count, record, records_of_every_class};
use exporter_db::Fixture;
use mhfz_metrics::names::pipeline as names;
use mhfz_metrics::text::parse_samples;
use mhfz_record::WeaponClass;
use mhfz_store::{begin_export, ExportScope};
use mhfz_streaming::loader::beeline::Beeline;
use mhfz_streaming::pipeline::lock::RunLock;
use mhfz_streaming::webhdfs::WebHdfs;

const PIPELINE: &str = env!("CARGO_BIN_EXE_mhfz-pipeline");

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn stack_var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: run these tests inside the local service stack \
             (scripts/stack run -- cargo test -p mhfz-streaming --test pipeline)"
        )
    })
}

/// One test's database of weapons, Hive database, HDFS directory, lock file and metrics dir.
struct Setup {
    fixture: Fixture,
    database: String,
    hdfs_base: String,
    location: String,
    lock_file: PathBuf,
    textfile_dir: PathBuf,
    beeline: Beeline,
    hdfs: WebHdfs,
}

impl Setup {
    fn new(test: &str) -> Setup {
        for name in [
            "MHFZ_HADOOP_STREAMING_JAR",
            "MHFZ_WEBHDFS_URL",
            "MHFZ_HDFS_USER",
        ] {
            stack_var(name);
        }
        let fixture = Fixture::new();
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let database = format!("mhfz_pipeline_{test}_{}_{nanos}", std::process::id());
        let hdfs_base = format!("/mhfz-tests/pipeline/{database}");
        let location = format!(
            "{}{hdfs_base}/weapon_statistics",
            stack_var("MHFZ_HDFS_URI").trim_end_matches('/')
        );
        let lock_file = fixture.dir.path().join("pipeline.lock");
        let textfile_dir = fixture.dir.path().join("textfile");
        fs::create_dir(&textfile_dir).unwrap();
        Setup {
            fixture,
            database,
            hdfs_base,
            location,
            lock_file,
            textfile_dir,
            beeline: Beeline {
                program: stack_var("MHFZ_BEELINE").into(),
                jdbc_url: Some(stack_var("MHFZ_HIVE_JDBC_URL")),
                user: "mhfz-test".into(),
            },
            hdfs: WebHdfs::from_env().unwrap(),
        }
    }

    /// `mhfz-pipeline run` with this test's settings, then `extra` (later options win).
    fn command(&self, engine: &str, extra: &[&str]) -> Command {
        let mut command = Command::new(PIPELINE);
        command
            .args(["run", "--engine", engine, "--reducers", "2"])
            .args(["--mapper", MAPPER, "--reducer", REDUCER])
            .args(["--database", &self.database, "--location", &self.location])
            .args(["--hdfs-base", &self.hdfs_base])
            .arg("--lock-file")
            .arg(&self.lock_file)
            .arg("--textfile-dir")
            .arg(&self.textfile_dir)
            .arg("--work-dir")
            .arg(self.fixture.dir.path())
            .arg("--report-dir")
            .arg(self.latest_report().parent().unwrap())
            .env("MHFZ_HADOOP", repo_root().join("scripts/hadoop"))
            .args(extra);
        self.fixture.connect_as_exporter(&mut command);
        command
    }

    fn run(&self, engine: &str, extra: &[&str]) -> Run {
        let output = self.command(engine, extra).output().unwrap();
        Run::from(output)
    }

    fn latest_report(&self) -> PathBuf {
        self.fixture.dir.path().join("reports/latest.html")
    }

    /// A run's report beside its partitions, read through WebHDFS.
    fn report_in_hdfs(&self, run_id: &str) -> String {
        let path = format!(
            "{}/weapon_reports/run_id={run_id}/report.html",
            self.hdfs_base
        );
        String::from_utf8(self.hdfs.read(&path).unwrap()).unwrap()
    }

    fn exports_recorded(&mut self) -> i64 {
        self.fixture.runs()
    }

    /// Hive's `records` of the `all` row of a run's partition.
    fn hive_records(&self, run_id: &str) -> Vec<Vec<String>> {
        self.beeline
            .query(&format!(
                "SELECT records FROM `{}`.`weapon_statistics` WHERE run_id = '{run_id}' AND dimension = 'all'",
                self.database
            ))
            .unwrap()
    }

    fn partitions(&self) -> Vec<Vec<String>> {
        self.beeline
            .query(&format!(
                "SHOW PARTITIONS `{}`.`weapon_statistics`",
                self.database
            ))
            .unwrap()
    }

    /// The value of a sample of the metrics file (`label`: the stage or outcome, or "").
    fn metric(&self, name: &str, label: &str) -> Option<f64> {
        let text = fs::read_to_string(self.textfile_dir.join(names::TEXTFILE)).unwrap();
        parse_samples(&text)
            .unwrap()
            .into_iter()
            .find(|sample| {
                sample.name == name
                    && sample
                        .label("stage")
                        .or(sample.label("outcome"))
                        .unwrap_or_default()
                        == label
            })
            .map(|sample| sample.value)
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = self.beeline.query(&format!(
            "DROP DATABASE IF EXISTS `{}` CASCADE",
            self.database
        ));
        let _ = self.hdfs.delete(&self.hdfs_base, true);
    }
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl From<Output> for Run {
    fn from(output: Output) -> Run {
        Run {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

impl Run {
    fn assert_code(&self, code: i32) -> &Run {
        assert_eq!(
            self.code,
            Some(code),
            "stdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }
}

#[test]
fn a_run_loads_its_partition_and_an_unchanged_database_is_a_no_op() {
    let mut setup = Setup::new("noop");
    let records = records_of_every_class(3);
    setup.fixture.write(&records);

    let run = setup.run("local", &["--run-id", "r1"]);
    run.assert_code(0);
    assert!(
        run.stdout
            .contains(&format!("run r1: {} records exported", records.len())),
        "{}",
        run.stdout
    );
    let table: Vec<Vec<&str>> = run
        .stdout
        .lines()
        .skip_while(|line| !line.starts_with("stage"))
        .skip(1)
        .map(|line| line.split_whitespace().collect())
        .collect();
    let stages: Vec<&str> = table.iter().map(|row| row[0]).collect();
    assert_eq!(stages, ["export", "job", "reconcile", "load", "total"]);
    assert_eq!(table[0][1], records.len().to_string(), "{}", run.stdout);
    assert_eq!(setup.hive_records("r1"), [[records.len().to_string()]]);
    assert_eq!(setup.exports_recorded(), 1);
    let exported = records.len() as f64;
    assert_eq!(setup.metric(names::RECORDS, "export"), Some(exported));
    assert_eq!(setup.metric(names::RECORDS, "job"), Some(exported));
    assert_eq!(setup.metric(names::RUNS, "success"), Some(1.0));
    let last_success = setup.metric(names::LAST_SUCCESS, "").unwrap();

    // Nothing changed: no job, no partition, nothing recorded.
    let run = setup.run("local", &["--run-id", "r2"]);
    run.assert_code(0);
    assert!(
        run.stdout
            .contains("mhfz-pipeline: nothing changed since export run "),
        "{}",
        run.stdout
    );
    assert_eq!(setup.partitions(), [["run_id=r1"]]);
    assert_eq!(setup.exports_recorded(), 1);
    assert_eq!(setup.metric(names::RUNS, "nothing_changed"), Some(1.0));
    assert_eq!(setup.metric(names::RECORDS, "export"), Some(exported));
    assert!(setup.metric(names::LAST_SUCCESS, "").unwrap() >= last_success);

    // Two weapons change: the next run takes exactly those.
    let mut changed = vec![record(WeaponClass::Bow, 0), record(WeaponClass::Hammer, 1)];
    for weapon in &mut changed {
        weapon.attack += 10;
    }
    setup.fixture.write(&changed);
    let run = setup.run("local", &["--run-id", "r3"]);
    run.assert_code(0);
    assert_eq!(setup.hive_records("r3"), [["2"]]);
    assert_eq!(setup.hive_records("r1"), [[records.len().to_string()]]);
    assert_eq!(setup.exports_recorded(), 2);

    // Each run's report beside its partition; the latest on this host lists the two changes.
    let first = setup.report_in_hdfs("r1");
    assert!(first.contains(r#"data-state="first_run""#), "{first}");
    let latest = fs::read_to_string(setup.latest_report()).unwrap();
    assert_eq!(latest, setup.report_in_hdfs("r3"));
    assert!(
        run.stdout.contains("/weapon_reports/run_id=r3/report.html"),
        "{}",
        run.stdout
    );
    assert!(
        latest.contains(r#"data-state="listed" data-count="2""#),
        "{latest}"
    );
    for weapon in &changed {
        let row = format!(r#"<tr data-weapon-id="{}">"#, weapon.weapon_id);
        assert!(latest.contains(&row), "{row} in {latest}");
    }
}

#[test]
fn a_failed_stage_exits_with_its_status_and_the_next_run_exports_the_same_rows() {
    let mut setup = Setup::new("failures");
    let records = records_of_every_class(2);
    setup.fixture.write(&records);

    // Export: a wrong password.
    let wrong = setup.fixture.dir.path().join("wrong-password");
    fs::write(&wrong, "not the password\n").unwrap();
    let mut command = setup.command("local", &["--run-id", "f1"]);
    command.env("MHFZ_PG_PASSWORD_FILE", &wrong);
    let run = Run::from(command.output().unwrap());
    run.assert_code(2);
    assert!(
        run.stderr
            .contains("mhfz-pipeline: error: the export stage failed"),
        "{}",
        run.stderr
    );

    // Job: a mapper that fails.
    let run = setup.run("local", &["--run-id", "f2", "--mapper", "/bin/false"]);
    run.assert_code(3);
    assert!(
        run.stderr.contains("the job stage failed"),
        "{}",
        run.stderr
    );

    // Reconcile: a mapper that silently drops the first record.
    let dropping = setup.fixture.dir.path().join("mhfz-mapper-dropping");
    fs::write(
        &dropping,
        format!("#!/bin/sh\ntail -n +2 | exec '{MAPPER}' \"$@\"\n"),
    )
    .unwrap();
    make_executable(&dropping);
    let run = setup.run(
        "local",
        &["--run-id", "f3", "--mapper", dropping.to_str().unwrap()],
    );
    run.assert_code(5);
    let expected = format!(
        "rows exported {} but records the mappers counted {}",
        records.len(),
        records.len() - 1
    );
    assert!(
        run.stderr.contains("the reconcile stage failed") && run.stderr.contains(&expected),
        "{}",
        run.stderr
    );

    // Load: HiveServer2 unreachable.
    let run = setup.run(
        "local",
        &[
            "--run-id",
            "f4",
            "--jdbc-url",
            "jdbc:hive2://127.0.0.1:1/default",
        ],
    );
    run.assert_code(4);
    assert!(
        run.stderr.contains("the load stage failed"),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout
            .lines()
            .any(|line| line.starts_with("load") && line.ends_with("FAILED")),
        "{}",
        run.stdout
    );

    // Nothing was recorded: the next run exports every row again.
    assert_eq!(setup.exports_recorded(), 0);
    assert_eq!(setup.metric(names::LAST_SUCCESS, ""), None);
    for stage in ["export", "job", "reconcile", "load"] {
        assert_eq!(setup.metric(names::FAILURES, stage), Some(1.0), "{stage}");
    }
    assert_eq!(setup.metric(names::RECORDS, "export"), Some(0.0));
    let run = setup.run("local", &["--run-id", "ok"]);
    run.assert_code(0);
    assert!(
        run.stdout
            .contains(&format!("run ok: {} records exported", records.len())),
        "{}",
        run.stdout
    );
    assert_eq!(setup.hive_records("ok"), [[records.len().to_string()]]);
    assert_eq!(setup.partitions(), [["run_id=ok"]]);
    assert_eq!(setup.exports_recorded(), 1);
    assert_eq!(setup.metric(names::LAST_RUN_SUCCESS, ""), Some(1.0));
}

#[test]
fn an_overlapping_run_is_refused_with_status_75() {
    let mut setup = Setup::new("overlap");
    setup.fixture.write(&records_of_every_class(1));

    // The lock file of this host.
    let held = RunLock::acquire(&setup.lock_file).unwrap();
    let run = setup.run("local", &[]);
    run.assert_code(75);
    assert!(
        run.stderr.contains(&format!(
            "another run holds the lock file {} (process {})",
            setup.lock_file.display(),
            std::process::id()
        )),
        "{}",
        run.stderr
    );
    drop(held);

    // The export lock in PostgreSQL: a run on another host.
    let mut other_host = setup.fixture.db.admin();
    let export = begin_export(&mut other_host, ExportScope::Changed).unwrap();
    let run = setup.run("local", &[]);
    run.assert_code(75);
    assert!(
        run.stderr
            .contains("another export of this database is in progress"),
        "{}",
        run.stderr
    );
    drop(export);
    assert!(
        !setup.textfile_dir.join(names::TEXTFILE).exists(),
        "a refused run is not a run: no metrics"
    );
    assert_eq!(setup.exports_recorded(), 0);
    assert_eq!(
        count(
            &mut setup.fixture.admin,
            "SELECT count(*) FROM mhfz.export_runs"
        ),
        0
    );
}

#[test]
fn a_hadoop_run_reconciles_the_jobs_counters_and_loads_its_partition() {
    let mut setup = Setup::new("hadoop");
    let records = records_of_every_class(40);
    setup.fixture.write(&records);

    let run = setup.run("hadoop", &["--run-id", "yarn-1"]);
    run.assert_code(0);
    assert!(
        run.stdout.contains(&format!(
            "run yarn-1: {} records exported (export run ",
            records.len()
        )) && run.stdout.contains(", job job_"),
        "{}",
        run.stdout
    );
    assert_eq!(setup.hive_records("yarn-1"), [[records.len().to_string()]]);
    assert_eq!(setup.exports_recorded(), 1);
    // The run's scratch files on HDFS are gone; the table's partition is there.
    assert_eq!(
        setup
            .hdfs
            .status(&format!("{}/runs/yarn-1", setup.hdfs_base))
            .unwrap(),
        None
    );
    for table in ["weapon_statistics", "weapon_histograms", "weapon_top"] {
        assert!(
            setup
                .hdfs
                .status(&format!("{}/{table}/run_id=yarn-1", setup.hdfs_base))
                .unwrap()
                .is_some(),
            "{table}"
        );
    }
    assert_eq!(
        setup.metric(names::RECORDS, "job"),
        Some(records.len() as f64)
    );
    assert_eq!(setup.metric(names::SKIPPED_RECORDS, ""), Some(0.0));
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}
