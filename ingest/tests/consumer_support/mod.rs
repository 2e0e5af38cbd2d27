//! Harness of the consumer tests: the real broker and PostgreSQL of the project's service
//! stack, a fresh database, topics and consumer group per test, and the `mhfz-consumer`
//! binary run as the least-privilege writer role.
#![allow(dead_code)] // Each test uses a different part.

// The store's harness: fresh databases and weapon records built in code.
#[path = "../../../store/tests/support/mod.rs"]
mod store_support;
// The stack's Kafka as the tests' clients reach it.
#[path = "../kafka_support/mod.rs"]
mod kafka_support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use mhfz_ingest::kafka::{create_topics, platform_topics, ClientRole};
use mhfz_record::{Envelope, WeaponRecord};
use mhfz_store::{provision_roles, Password, RoleNames, RolePasswords};
use postgres::Client;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::ClientContext;
use tempfile::TempDir;

// Each test binary uses its own part.
#[allow(unused_imports)]
pub use kafka_support::{output_within, stack_settings, stack_user, wait_exit, TestCa};
#[allow(unused_imports)]
pub use store_support::{count, record, records_of_every_class, TestDatabase};

pub const SCRAPED_AT: &str = "2026-11-28T02:04:31.123Z";

/// The JSON value the producer sends for `record`.
pub fn envelope(record: &WeaponRecord, run_id: &str) -> Vec<u8> {
    serde_json::to_vec(&Envelope::new(run_id, SCRAPED_AT, record)).unwrap()
}

/// A message: key and value.
pub type KeyedMessage = (Option<Vec<u8>>, Vec<u8>);

/// Messages keyed by weapon id, as the scraper sends them.
pub fn keyed(records: &[WeaponRecord], run_id: &str) -> Vec<KeyedMessage> {
    records
        .iter()
        .map(|r| {
            (
                Some(r.weapon_id.as_str().as_bytes().to_vec()),
                envelope(r, run_id),
            )
        })
        .collect()
}

/// A dead letter as read back from the topic.
#[derive(Debug)]
pub struct Received {
    pub key: Option<Vec<u8>>,
    pub value: Vec<u8>,
    pub headers: BTreeMap<String, String>,
}

#[derive(Default)]
struct FailedDeliveries(AtomicU64);
impl ClientContext for FailedDeliveries {}
impl ProducerContext for FailedDeliveries {
    type DeliveryOpaque = ();
    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if result.is_err() {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// One test's world: a migrated database with a writer role, a topic, a dead-letter topic and
/// a consumer group, all unique to the test.
pub struct Fixture {
    pub db: TestDatabase,
    pub admin: Client,
    pub brokers: String,
    pub topic: String,
    pub dlq_topic: String,
    pub group: String,
    /// The writer, reader and exporter roles, provisioned.
    pub roles: RoleNames,
    admin_user: String,
    admin_password_file: PathBuf,
    dir: TempDir,
}

impl Fixture {
    /// Migrates with `mhfz-consumer migrate` (as the administrator), provisions the writer.
    pub fn new(partitions: i32) -> Fixture {
        let brokers = kafka_support::bootstrap();
        let admin_user = store_support::stack_var("MHFZ_PG_ADMIN_USER");
        let admin_password_file =
            PathBuf::from(store_support::stack_var("MHFZ_PG_ADMIN_PASSWORD_FILE"));
        let mut db = TestDatabase::create();
        let dir = tempfile::tempdir().unwrap();

        let mut migrate = Command::new(env!("CARGO_BIN_EXE_mhfz-consumer"));
        migrate.arg("migrate");
        db.connect_program_as(&mut migrate, &admin_user, &admin_password_file);
        let output = migrate.output().unwrap();
        assert!(
            output.status.success(),
            "migrate: {}",
            String::from_utf8_lossy(&output.stderr)
        );

        let mut admin = db.admin();
        let names = db.role_names();
        let writer_password = store_support::unique_name("pw");
        let passwords = RolePasswords {
            writer: Password::new(writer_password.clone()).unwrap(),
            reader: Password::new(store_support::unique_name("pw")).unwrap(),
            exporter: Password::new(store_support::unique_name("pw")).unwrap(),
        };
        provision_roles(&mut admin, &names, &passwords).unwrap();
        std::fs::write(
            dir.path().join("writer-password"),
            format!("{writer_password}\n"),
        )
        .unwrap();

        let topic = store_support::unique_name("weapons");
        let dlq_topic = format!("{topic}.dlq");
        // The platform's topics under this test's names; the partition count is the test's.
        let topics = platform_topics();
        let records = mhfz_ingest::kafka::TopicSpec {
            partitions,
            ..topics.records.spec(&topic, 1)
        };
        create_topics(
            &stack_settings("mhfz-test"),
            &[records, topics.dead_letters.spec(&dlq_topic, 1)],
        )
        .unwrap();
        Fixture {
            admin_user,
            admin_password_file,
            db,
            admin,
            brokers,
            group: store_support::unique_name("group"),
            roles: names,
            topic,
            dlq_topic,
            dir,
        }
    }

    fn password_file(&self) -> PathBuf {
        self.dir.path().join("writer-password")
    }

    /// `mhfz-consumer` on this fixture's topics and database, as the writer role, without
    /// metrics endpoint; `args` come last (they may override).
    pub fn consumer(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_mhfz-consumer"));
        command
            .args(["--brokers", &self.brokers, "--topic", &self.topic])
            .args(["--dlq-topic", &self.dlq_topic, "--group", &self.group])
            .args(["--metrics-addr", "off", "--batch-timeout-ms", "200"])
            // A killed consumer's partitions are handed over after this long.
            .args(["--kafka-option", "session.timeout.ms=6000"])
            .args(args);
        self.db
            .connect_program_as(&mut command, &self.roles.writer, &self.password_file());
        command
    }

    /// `mhfz-consumer ARGS` (a subcommand) as the database administrator, nothing else given.
    pub fn subcommand_as_admin(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_mhfz-consumer"));
        command.args(args);
        self.connect_as_admin(&mut command);
        command
    }

    /// [`Self::consumer`] as the database administrator.
    pub fn consumer_as_admin(&self, args: &[&str]) -> Command {
        let mut command = self.consumer(args);
        self.connect_as_admin(&mut command);
        command
    }

    fn connect_as_admin(&self, command: &mut Command) {
        self.db
            .connect_program_as(command, &self.admin_user, &self.admin_password_file);
    }

    /// Runs the consumer with `--until-idle` and returns its stderr; panics unless it exits 0.
    pub fn consume_until_idle(&self, args: &[&str]) -> String {
        until_idle(self.consumer(args))
    }

    /// Produces `messages` to the topic and waits until every one is acknowledged.
    pub fn produce(&self, messages: &[KeyedMessage]) {
        let producer: BaseProducer<FailedDeliveries> = stack_settings("mhfz-test")
            .client_config(ClientRole::Producer)
            .create_with_context(FailedDeliveries::default())
            .unwrap();
        for (key, value) in messages {
            let mut record: BaseRecord<'_, [u8], [u8]> =
                BaseRecord::to(&self.topic).payload(value.as_slice());
            if let Some(key) = key {
                record = record.key(key.as_slice());
            }
            while let Err((error, returned)) = producer.send(record) {
                assert!(
                    error.to_string().contains("Queue full"),
                    "producing a test message: {error}"
                );
                record = returned;
                producer.poll(Duration::from_millis(50));
            }
        }
        producer.flush(Duration::from_secs(60)).unwrap();
        assert_eq!(
            producer.context().0.load(Ordering::Relaxed),
            0,
            "undelivered test messages"
        );
    }

    /// Reads the dead-letter topic from the start until `expected` messages came, or fails
    /// after 30 s; then makes sure no further one comes within a second.
    pub fn dead_letters(&self, expected: usize) -> Vec<Received> {
        let group = store_support::unique_name("dlq_reader");
        let consumer: BaseConsumer = stack_settings("mhfz-test")
            .client_config(ClientRole::Consumer {
                group: &group,
                instance: None,
            })
            .create()
            .unwrap();
        consumer.subscribe(&[&self.dlq_topic]).unwrap();
        let mut received = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut quiet_until: Option<Instant> = None;
        while Instant::now() < deadline && quiet_until.is_none_or(|t| Instant::now() < t) {
            let Some(message) = consumer.poll(Duration::from_millis(100)) else {
                continue;
            };
            let message = message.unwrap();
            let headers = message
                .headers()
                .map(|headers| {
                    headers
                        .iter()
                        .map(|h| {
                            let value = h.value.map(|v| String::from_utf8_lossy(v).into_owned());
                            (h.key.to_string(), value.unwrap_or_default())
                        })
                        .collect()
                })
                .unwrap_or_default();
            received.push(Received {
                key: message.key().map(<[u8]>::to_vec),
                value: message.payload().unwrap_or_default().to_vec(),
                headers,
            });
            if received.len() == expected {
                quiet_until = Some(Instant::now() + Duration::from_secs(1));
            }
        }
        assert_eq!(received.len(), expected, "dead letters: {received:#?}");
        received
    }

    pub fn rows(&mut self) -> i64 {
        count(&mut self.admin, "SELECT count(*) FROM mhfz.weapons")
    }

    pub fn distinct_ids(&mut self) -> i64 {
        count(
            &mut self.admin,
            "SELECT count(DISTINCT weapon_id) FROM mhfz.weapons",
        )
    }

    /// Every weapon id stored.
    pub fn stored_ids(&mut self) -> BTreeSet<String> {
        self.admin
            .query("SELECT weapon_id FROM mhfz.weapons", &[])
            .unwrap()
            .iter()
            .map(|row| row.get(0))
            .collect()
    }
}

/// Waits until `condition` holds, or panics after `timeout` naming `what`.
pub fn wait_for(what: &str, timeout: Duration, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The count the consumer reports in its summary line, e.g. `rows written` → 42.
pub fn summary_count(stderr: &str, what: &str) -> u64 {
    let line = stderr
        .lines()
        .rev()
        .find(|line| line.contains(" messages in "))
        .unwrap_or_else(|| panic!("no summary line in: {stderr}"));
    // "N messages in B batches: W rows written, U unchanged, D dead-lettered"
    let words: Vec<&str> = line
        .split([' ', ',', ':'])
        .filter(|w| !w.is_empty())
        .collect();
    let position = words
        .iter()
        .position(|w| what.split(' ').next() == Some(*w))
        .unwrap_or_else(|| panic!("{what} not in {line}"));
    words[position - 1]
        .parse()
        .unwrap_or_else(|_| panic!("{what} in {line}"))
}

/// Runs `consumer` with `--until-idle` and returns its stderr; panics unless it exits 0.
pub fn until_idle(mut consumer: Command) -> String {
    let started = Instant::now();
    let output: Output = consumer
        .args(["--until-idle", "--idle-ms", "1500"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "mhfz-consumer failed: {stderr}");
    eprintln!("consumer run took {:?}:\n{stderr}", started.elapsed());
    stderr
}
