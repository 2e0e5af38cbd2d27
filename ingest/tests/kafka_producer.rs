//! `mhfz-scraper --kafka` against the real broker of the local stack
//! (`scripts/stack run -- cargo test -p mhfz-ingest --test kafka_producer`).

mod kafka_support;
mod util;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use mhfz_ingest::kafka::{platform_topics, ClientRole};
use mhfz_record::{Envelope, WeaponRecord, SCHEMA_VERSION};
use rdkafka::admin::{AdminClient, AdminOptions, ResourceSpecifier};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

use kafka_support::{bootstrap, output_within, stack_settings, stack_user, TestCa};
use util::*;

/// A broker nothing listens on.
const UNREACHABLE: &str = "127.0.0.1:1";
const TIMEOUT: Duration = Duration::from_secs(30);
/// Kills a scraper that should have stopped on its own long before (a refused one).
const HANG_BOUND: Duration = Duration::from_secs(60);

/// A topic name no other test (or earlier run) uses.
fn fresh_topic(purpose: &str) -> String {
    format!("test_{purpose}_{}", uuid::Uuid::now_v7().simple())
}

/// The small long-sword site of the harness: 7 records.
fn long_sword_site(root: &Path) -> (Vec<OsString>, usize) {
    let expected = write_long_sword_site(root).iter().map(|(_, n)| n).sum();
    let args = vec![
        "--site".into(),
        root.join("buki").into(),
        "--no-cache".into(),
        "--rate".into(),
        "0".into(),
    ];
    (args, expected)
}

fn scrape_to_kafka(site: &[OsString], brokers: &str, more: &[&str]) -> std::process::Output {
    let mut args = site.to_vec();
    args.extend(["--kafka".into(), brokers.into()]);
    args.extend(more.iter().map(OsString::from));
    run_scraper(&args)
}

/// The topic's configs as the broker reports them.
fn topic_configs(topic: &str) -> BTreeMap<String, String> {
    let admin: AdminClient<DefaultClientContext> = stack_settings("mhfz-test")
        .client_config(ClientRole::Admin)
        .create()
        .expect("an admin client");
    let described = futures_executor::block_on(admin.describe_configs(
        &[ResourceSpecifier::Topic(topic)],
        &AdminOptions::new().request_timeout(Some(TIMEOUT)),
    ))
    .expect("describe configs");
    let resource = described
        .into_iter()
        .next()
        .unwrap()
        .expect("the topic's configs");
    resource
        .entries
        .into_iter()
        .filter_map(|entry| Some((entry.name, entry.value?)))
        .collect()
}

fn consumer() -> BaseConsumer {
    stack_settings("mhfz-test")
        .client_config(ClientRole::Consumer {
            group: &fresh_topic("reader"),
            instance: None,
        })
        .create()
        .expect("a Kafka consumer")
}

fn partition_count(consumer: &BaseConsumer, topic: &str) -> usize {
    let metadata = consumer
        .fetch_metadata(Some(topic), TIMEOUT)
        .expect("topic metadata");
    let topic = &metadata.topics()[0];
    assert!(topic.error().is_none(), "{:?}", topic.error());
    topic.partitions().len()
}

/// Messages in `topic`, from the partitions' watermarks.
fn message_count(consumer: &BaseConsumer, topic: &str) -> i64 {
    (0..partition_count(consumer, topic) as i32)
        .map(|partition| {
            let (low, high) = consumer
                .fetch_watermarks(topic, partition, TIMEOUT)
                .expect("watermarks");
            high - low
        })
        .sum()
}

/// Every message of `topic` from the beginning: key and value.
fn read_all(consumer: &BaseConsumer, topic: &str) -> Vec<(String, Vec<u8>)> {
    let expected = message_count(consumer, topic) as usize;
    let mut assignment = TopicPartitionList::new();
    for partition in 0..partition_count(consumer, topic) as i32 {
        assignment
            .add_partition_offset(topic, partition, Offset::Beginning)
            .unwrap();
    }
    consumer.assign(&assignment).expect("assign the partitions");
    let deadline = Instant::now() + TIMEOUT;
    let mut messages = Vec::new();
    while messages.len() < expected {
        assert!(
            Instant::now() < deadline,
            "read {} of {expected} messages of {topic}",
            messages.len()
        );
        if let Some(message) = consumer.poll(Duration::from_millis(200)) {
            let message = message.expect("a message");
            let key = std::str::from_utf8(message.key().expect("a key")).expect("a UTF-8 key");
            messages.push((
                key.to_string(),
                message.payload().unwrap_or_default().to_vec(),
            ));
        }
    }
    messages
}

#[test]
fn every_record_arrives_keyed_by_weapon_id_in_an_explicitly_created_topic() {
    let brokers = bootstrap();
    let root = tempfile::tempdir().unwrap();
    let (site, expected) = long_sword_site(root.path());
    let topic = fresh_topic("weapon_data");
    let copy = root.path().join("records.ndjson");
    let copy_arg = copy.display().to_string();
    let output = scrape_to_kafka(&site, &brokers, &["--topic", &topic, "--out", &copy_arg]);
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(output.stdout.is_empty(), "records went to stdout too");
    assert!(
        stderr.contains(&format!(
            "{expected} records acknowledged by Kafka topic {topic}"
        )),
        "{stderr}"
    );

    // Created as the platform's topic definition says (ingest/src/kafka/topics.json).
    let consumer = consumer();
    let definitions = platform_topics();
    for (name, definition) in [
        (topic.clone(), &definitions.records),
        (format!("{topic}.dlq"), &definitions.dead_letters),
    ] {
        assert_eq!(
            partition_count(&consumer, &name),
            definition.partitions as usize
        );
        let configs = topic_configs(&name);
        for (key, value) in &definition.configs {
            assert_eq!(configs.get(key), Some(value), "{name}: {key}");
        }
    }
    assert_eq!(message_count(&consumer, &topic), expected as i64);

    let mut runs = BTreeMap::new();
    let mut received = BTreeMap::new();
    for (key, value) in read_all(&consumer, &topic) {
        let envelope: Envelope<'static, WeaponRecord> =
            serde_json::from_slice(&value).expect("the value is an envelope of a weapon record");
        assert_eq!(key, envelope.record.weapon_id.as_str());
        assert_eq!(envelope.schema_version, SCHEMA_VERSION);
        humantime::parse_rfc3339(&envelope.scraped_at)
            .unwrap_or_else(|e| panic!("scraped_at {:?}: {e}", envelope.scraped_at));
        *runs.entry(envelope.scrape_run_id.into_owned()).or_insert(0) += 1;
        assert!(
            received.insert(key.clone(), envelope.record).is_none(),
            "{key} arrived twice"
        );
    }
    assert_eq!(runs.len(), 1, "one scrape run id per run: {runs:?}");
    assert!(
        stderr.contains(runs.keys().next().unwrap()),
        "the run id is reported: {stderr}"
    );

    // The --out copy holds the same records.
    let copied: BTreeMap<String, WeaponRecord> = ndjson(&std::fs::read(&copy).unwrap())
        .into_iter()
        .map(|value| {
            let record: WeaponRecord = serde_json::from_value(value).unwrap();
            (record.weapon_id.to_string(), record)
        })
        .collect();
    assert_eq!(received, copied);
    assert_eq!(
        received["long_sword:base:l0001"].attack,
        480,
        "{:?}",
        received.keys()
    );

    // A second run finds the topics there and appends under a new run id.
    let again = scrape_to_kafka(&site, &brokers, &["--topic", &topic, "--quiet"]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr_of(&again));
    assert_eq!(message_count(&consumer, &topic), 2 * expected as i64);
}

#[test]
fn records_the_broker_does_not_acknowledge_fail_the_run_with_their_count() {
    let root = tempfile::tempdir().unwrap();
    let (site, expected) = long_sword_site(root.path());
    let started = Instant::now();
    let output = scrape_to_kafka(
        &site,
        UNREACHABLE,
        &[
            "--no-create-topics",
            "--kafka-option",
            "message.timeout.ms=2000",
        ],
    );
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{expected} of {expected} records were not acknowledged by Kafka topic \"weapon_data\""
        )),
        "{stderr}"
    );
    assert!(stderr.contains("long_sword:"), "names weapon ids: {stderr}");
    assert!(started.elapsed() < TIMEOUT, "took {:?}", started.elapsed());
}

#[test]
fn the_options_file_reaches_the_producer() {
    let root = tempfile::tempdir().unwrap();
    let (site, expected) = long_sword_site(root.path());
    let options = root.path().join("kafka.properties");
    // Below the default delivery bound (60 s) and the harness's timeout: only the file sets it.
    std::fs::write(
        &options,
        "# as a credential file\nmessage.timeout.ms=2000\n",
    )
    .unwrap();
    let started = Instant::now();
    let output = scrape_to_kafka(
        &site,
        UNREACHABLE,
        &[
            "--no-create-topics",
            "--kafka-options-file",
            &options.display().to_string(),
        ],
    );
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{expected} of {expected} records were not acknowledged"
        )),
        "{stderr}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn producing_to_a_topic_nobody_created_fails_instead_of_creating_it() {
    let brokers = bootstrap();
    let root = tempfile::tempdir().unwrap();
    let (site, expected) = long_sword_site(root.path());
    let topic = fresh_topic("uncreated");
    let output = scrape_to_kafka(
        &site,
        &brokers,
        &[
            "--topic",
            &topic,
            "--no-create-topics",
            "--kafka-option",
            "message.timeout.ms=3000",
        ],
    );
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{expected} of {expected} records were not acknowledged"
        )),
        "{stderr}"
    );
    let metadata = consumer()
        .fetch_metadata(Some(&topic), TIMEOUT)
        .expect("metadata");
    assert!(
        metadata.topics()[0].error().is_some(),
        "{topic} exists after all"
    );
}

#[test]
fn topic_creation_on_an_unreachable_broker_fails_clearly() {
    let root = tempfile::tempdir().unwrap();
    let (site, _) = long_sword_site(root.path());
    let output = scrape_to_kafka(&site, UNREACHABLE, &["--kafka-timeout", "2"]);
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("cannot create Kafka topic") && stderr.contains(UNREACHABLE),
        "{stderr}"
    );
}

#[test]
fn kafka_options_need_kafka() {
    for args in [
        &["--topic", "t"][..],
        &["--replication-factor", "2"],
        &["--no-create-topics"],
    ] {
        let output = run_scraper(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(stderr_of(&output).contains("--kafka"), "{args:?}");
    }
    let output = run_scraper(&["--kafka", "x:1", "--replication-factor", "0"]);
    assert_eq!(output.status.code(), Some(2));
    let output = run_scraper(&["--kafka", "x:1", "--rejects", "rejects.ndjson"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr_of(&output).contains("--rejects with --kafka needs --out"),
        "{}",
        stderr_of(&output)
    );
}

#[test]
fn a_bad_kafka_option_fails_before_the_scrape_naming_it() {
    let root = tempfile::tempdir().unwrap();
    let (site, _) = long_sword_site(root.path());
    for (option, expected) in [
        ("no.such.property=1", "no.such.property"),
        ("linger.ms=soon", "linger.ms"),
        ("bootstrap.servers=elsewhere:9092", "bootstrap.servers"),
        ("security.protocol=PLAINTEXT", "--kafka-ca-file"),
        ("sasl.password=guess", "--kafka-password-file"),
        (
            "enable.ssl.certificate.verification=false",
            "--kafka-ca-file",
        ),
    ] {
        let started = Instant::now();
        let output = scrape_to_kafka(&site, UNREACHABLE, &["--kafka-option", option]);
        let stderr = stderr_of(&output);
        assert_eq!(output.status.code(), Some(2), "{option}: {stderr}");
        assert!(stderr.contains(expected), "{option}: {stderr}");
        assert!(!stderr.contains("records"), "scraped anyway: {stderr}");
        assert!(started.elapsed() < Duration::from_secs(10), "{option}");
    }
}

/// `mhfz-scraper --kafka` on the stack's broker, as the stack's user but for `more` (which come
/// last and override); killed if it runs past [`HANG_BOUND`].
fn scrape_to_stack_within_bound(site: &[OsString], more: &[&str]) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mhfz-scraper"));
    command
        .args(site)
        .args(["--kafka", &bootstrap(), "--topic", &fresh_topic("refused")])
        .args(more);
    output_within(&mut command, HANG_BOUND)
}

#[test]
fn a_wrong_password_stops_the_scraper_before_the_scrape_naming_the_user_not_the_password() {
    let root = tempfile::tempdir().unwrap();
    let (site, _) = long_sword_site(root.path());
    let wrong = format!("not-the-password-{}", uuid::Uuid::now_v7().simple());
    let password_file = root.path().join("wrong-password");
    std::fs::write(&password_file, format!("{wrong}\n")).unwrap();
    let output = scrape_to_stack_within_bound(
        &site,
        &[
            "--kafka-password-file",
            &password_file.display().to_string(),
        ],
    );
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "authentication failed for user {:?}",
            stack_user()
        )),
        "{stderr}"
    );
    assert!(stderr.contains(&bootstrap()), "names the brokers: {stderr}");
    assert!(!stderr.contains(&wrong), "shows the password: {stderr}");
    assert!(!stderr.contains("records"), "scraped anyway: {stderr}");
}

#[test]
fn a_broker_certificate_another_ca_signed_stops_the_scraper_before_the_scrape() {
    let root = tempfile::tempdir().unwrap();
    let (site, _) = long_sword_site(root.path());
    let other_ca = root.path().join("other-ca.pem");
    std::fs::write(&other_ca, TestCa::new("not the platform's CA").pem()).unwrap();
    let output =
        scrape_to_stack_within_bound(&site, &["--kafka-ca-file", &other_ca.display().to_string()]);
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("TLS handshake failed") && stderr.contains("certificate"),
        "{stderr}"
    );
    assert!(
        stderr.contains("other-ca.pem"),
        "names the CA file: {stderr}"
    );
    assert!(!stderr.contains("records"), "scraped anyway: {stderr}");
}

/// The stack's pipeline logins carry the platform's ACLs (ansible/deploy_kafka.yml, made by the
/// kafka role's own tasks): the consumer's may not write the records topic; the scraper's may.
#[test]
fn the_consumer_login_may_not_write_the_records_topic_the_scraper_login_may() {
    let platform = platform_topics();
    let records = platform.records.name.as_str();
    // The topic as the kafka role makes it (the stack's super user creates it once).
    mhfz_ingest::kafka::create_topics(
        &stack_settings("mhfz-test-admin"),
        &[platform.records.spec(records, 1)],
    )
    .unwrap();
    let root = tempfile::tempdir().unwrap();
    let (site, _) = long_sword_site(root.path());
    let as_login = |login: &str| {
        let user = kafka_support::stack_var(&format!("MHFZ_KAFKA_{login}_USER"));
        let password_file = kafka_support::stack_var(&format!("MHFZ_KAFKA_{login}_PASSWORD_FILE"));
        let mut command = Command::new(env!("CARGO_BIN_EXE_mhfz-scraper"));
        command
            .args(&site)
            .args([
                "--kafka",
                &bootstrap(),
                "--topic",
                records,
                "--no-create-topics",
                "--quiet",
            ])
            .args([
                "--kafka-user",
                &user,
                "--kafka-password-file",
                &password_file,
            ]);
        (user, output_within(&mut command, HANG_BOUND))
    };

    let (consumer, refused) = as_login("CONSUMER");
    let stderr = stderr_of(&refused);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "authorization failed: the brokers' ACLs deny user {consumer:?}"
        )),
        "{stderr}"
    );

    let (_, written) = as_login("SCRAPER");
    assert!(written.status.success(), "{}", stderr_of(&written));
}
