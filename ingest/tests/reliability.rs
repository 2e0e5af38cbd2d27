//! Reliability of the real-time path on the whole site mirror: the real `mhfz-scraper`
//! produces every mirrored record into the stack's broker, `mhfz-consumer` writes them into
//! its PostgreSQL (`scripts/stack run -- cargo test -p mhfz-ingest --test reliability`).
//!
//! One test restarts the broker, so the tests of this binary run one at a time: no other test
//! shares the broker meanwhile (cargo runs test binaries one after the other).

mod consumer_support;
mod util;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use consumer_support::{stack_settings, wait_exit, wait_for, Fixture};
use mhfz_ingest::kafka::ClientRole;
use mhfz_record::WeaponRecord;
use rdkafka::consumer::{BaseConsumer, Consumer};
use util::mirror::{mirror_dir, mirrored};

/// A scrape of the whole mirror takes a minute or two with the debug binary.
const SCRAPE_TIMEOUT: Duration = Duration::from_secs(600);
/// The consumer's session timeout (see `Fixture::consumer`) plus the time to write a batch.
const PROGRESS_TIMEOUT: Duration = Duration::from_secs(120);
/// A restarted static member writes again well within its 30 s session timeout (start-up,
/// joining, one batch; a debug binary on a loaded machine).
const RESUME_LIMIT: Duration = Duration::from_secs(15);

fn one_at_a_time() -> MutexGuard<'static, ()> {
    static ALONE: Mutex<()> = Mutex::new(());
    ALONE.lock().unwrap_or_else(PoisonError::into_inner)
}

/// `mhfz-scraper` over the mirror's classes (a directory site) into the fixture's topic,
/// which exists already; a copy of the records goes to `copy`.
fn scrape_mirror_into(fixture: &Fixture, copy: &Path) -> Command {
    let classes: Vec<&str> = mirrored().iter().map(|class| class.id()).collect();
    let mut command = Command::new(env!("CARGO_BIN_EXE_mhfz-scraper"));
    command
        .arg("--site")
        .arg(mirror_dir())
        .args(["--classes", &classes.join(","), "--no-cache", "--rate", "0"])
        .args(["--kafka", &fixture.brokers, "--topic", &fixture.topic])
        .arg("--no-create-topics")
        .arg("--out")
        .arg(copy)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    command
}

/// Waits for the scraper and returns its exit code and stderr.
fn finish(mut scraper: Child) -> (Option<i32>, String) {
    let status = wait_exit(&mut scraper, SCRAPE_TIMEOUT);
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut scraper.stderr.take().unwrap(), &mut stderr).unwrap();
    (status.code(), stderr)
}

/// The weapon ids of the scraper's `--out` copy: what it produced.
fn produced_ids(copy: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(copy)
        .unwrap_or_else(|error| panic!("no record copy {}: {error}", copy.display()));
    let mut ids = BTreeSet::new();
    for line in text.lines() {
        let record: WeaponRecord = serde_json::from_str(line).unwrap();
        let id = record.weapon_id.to_string();
        assert!(ids.insert(id.clone()), "the scraper produced {id} twice");
    }
    ids
}

fn copy_path(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("records.ndjson")
}

/// Messages in the fixture's topic (sum of the partitions' high watermarks); `None` while
/// the broker does not answer.
fn messages_in_topic(fixture: &Fixture) -> Option<i64> {
    // Metadata and watermarks only: no group, the admin role's keys.
    let reader: BaseConsumer = stack_settings("mhfz-test")
        .client_config(ClientRole::Admin)
        .create()
        .unwrap();
    let timeout = Duration::from_secs(5);
    let metadata = reader.fetch_metadata(Some(&fixture.topic), timeout).ok()?;
    let partitions = metadata.topics().first()?.partitions().len() as i32;
    (0..partitions)
        .map(|p| reader.fetch_watermarks(&fixture.topic, p, timeout).ok())
        .map(|watermarks| watermarks.map(|(low, high)| high - low))
        .sum()
}

#[test]
fn the_whole_mirror_arrives_once_though_the_consumer_is_killed_three_times() {
    let _alone = one_at_a_time();
    let mut fixture = Fixture::new(3);
    let dir = tempfile::tempdir().unwrap();
    let copy = copy_path(&dir);
    let (code, stderr) = finish(scrape_mirror_into(&fixture, &copy).spawn().unwrap());
    assert_eq!(code, Some(0), "{stderr}");
    let produced = produced_ids(&copy);
    let total = produced.len() as i64;

    // A static member (one instance id across restarts) with a session timeout of 30 s: a
    // dynamic member restarted after a kill would wait that long for the dead one's session to
    // expire; this one takes its place, and its partitions, at once.
    let static_member = [
        "--instance-id",
        "reliability",
        "--kafka-option",
        "session.timeout.ms=30000",
    ];
    for round in 1..=3 {
        let rows_before = fixture.rows();
        let started = Instant::now();
        let mut consumer = fixture
            .consumer(&[&["--batch-size", "2000"][..], &static_member].concat())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        if round > 1 {
            wait_for("resume", PROGRESS_TIMEOUT, || fixture.rows() > rows_before);
            let resumed = started.elapsed();
            eprintln!("round {round}: the restarted consumer wrote again after {resumed:.1?}");
            assert!(
                resumed < RESUME_LIMIT,
                "round {round}: resumed after {resumed:?}, not within {RESUME_LIMIT:?}: it waited \
                 for the killed member's session to expire"
            );
        }
        // Each round stores a further fifth.
        let target = total * round / 5;
        wait_for("progress", PROGRESS_TIMEOUT, || fixture.rows() >= target);
        consumer.kill().unwrap(); // SIGKILL: no chance to commit anything.
        consumer.wait().unwrap();
        let rows = fixture.rows();
        eprintln!("round {round}: killed at {rows} of {total} rows");
        assert!(rows < total, "round {round}: the consumer had finished");
    }

    let stderr = fixture.consume_until_idle(&static_member);
    assert_eq!(consumer_support::summary_count(&stderr, "dead-lettered"), 0);
    assert_eq!(fixture.rows(), total, "a row per weapon id, none twice");
    assert_eq!(fixture.stored_ids(), produced);
}

/// The broker's process id, from the stack's pid file.
fn broker_pid() -> String {
    let state = std::env::var("MHFZ_STACK_DIR")
        .expect("MHFZ_STACK_DIR is not set: run via `scripts/stack run -- cargo test`");
    let pid_file = Path::new(&state).join("kafka/kafka.pid");
    let pid = std::fs::read_to_string(&pid_file)
        .unwrap_or_else(|error| panic!("no broker pid in {}: {error}", pid_file.display()));
    pid.trim().to_string()
}

fn process_alive(pid: &str) -> bool {
    Path::new("/proc").join(pid).exists()
}

/// Starts whatever of the stack is down (here: the broker) and waits until it answers.
fn start_stack() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/stack");
    let output = Command::new(script)
        .arg("start")
        // Only the broker is down; no other service of the stack is needed here.
        .env("MHFZ_STACK_SERVICES", "pg kafka")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "scripts/stack start: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn every_record_acknowledged_across_a_broker_crash_arrives() {
    let _alone = one_at_a_time();
    let mut fixture = Fixture::new(3);
    let dir = tempfile::tempdir().unwrap();
    let copy = copy_path(&dir);
    let scraper = scrape_mirror_into(&fixture, &copy).spawn().unwrap();

    // The broker dies mid-stream, without a clean shutdown, and comes back a little later.
    wait_for("the first records in the topic", SCRAPE_TIMEOUT, || {
        messages_in_topic(&fixture).is_some_and(|n| n >= 5_000)
    });
    eprintln!(
        "crashing the broker at {:?} messages in the topic",
        messages_in_topic(&fixture)
    );
    let pid = broker_pid();
    let killed = Command::new("kill").args(["-KILL", &pid]).status().unwrap();
    assert!(killed.success());
    wait_for("the broker to die", Duration::from_secs(30), || {
        !process_alive(&pid)
    });
    std::thread::sleep(Duration::from_secs(2));
    start_stack();

    let (code, stderr) = finish(scraper);
    assert_eq!(code, Some(0), "{stderr}");
    let produced = produced_ids(&copy);
    let total = produced.len() as i64;
    assert!(
        stderr.contains(&format!("{total} records acknowledged by Kafka topic")),
        "{stderr}"
    );
    // Idempotence: retries across the crash did not store any record twice.
    assert_eq!(messages_in_topic(&fixture), Some(total));

    let stderr = fixture.consume_until_idle(&[]);
    assert_eq!(
        consumer_support::summary_count(&stderr, "messages"),
        total as u64
    );
    assert_eq!(fixture.stored_ids(), produced);
}
