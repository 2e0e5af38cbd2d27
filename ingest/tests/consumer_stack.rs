//! `mhfz-consumer` against the real Kafka broker and PostgreSQL of the service stack
//! (`scripts/stack run -- cargo test -p mhfz-ingest --test consumer_stack`).

mod consumer_support;

use consumer_support::{
    keyed, output_within, records_of_every_class, stack_user, summary_count, wait_exit, wait_for,
    Fixture,
};
use mhfz_record::WeaponClass;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

/// Asks the consumer to stop (SIGTERM), waits for it and returns its exit status and stderr.
fn terminate(mut child: Child) -> (ExitStatus, String) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let status = wait_exit(&mut child, Duration::from_secs(30));
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (status, stderr)
}

#[test]
fn stores_one_row_per_weapon_and_commits_the_offsets() {
    let mut fixture = Fixture::new(3);
    let records = records_of_every_class(20);
    let mut messages = keyed(&records, "run-1");
    // At-least-once delivery upstream: some records come twice.
    messages.extend(keyed(&records[..50], "run-1"));
    fixture.produce(&messages);

    let stderr = fixture.consume_until_idle(&["--batch-size", "64"]);
    assert_eq!(summary_count(&stderr, "messages"), messages.len() as u64);
    assert_eq!(summary_count(&stderr, "dead-lettered"), 0);
    assert_eq!(fixture.rows(), records.len() as i64);
    assert_eq!(fixture.distinct_ids(), records.len() as i64);
    let long_swords =
        consumer_support::count(&mut fixture.admin, "SELECT count(*) FROM mhfz.long_sword");
    assert_eq!(long_swords, 20);

    // The offsets were committed: a second run of the group finds nothing to do.
    let stderr = fixture.consume_until_idle(&[]);
    assert_eq!(summary_count(&stderr, "messages"), 0, "{stderr}");
    assert_eq!(fixture.rows(), records.len() as i64);
}

#[test]
fn a_second_scrape_of_unchanged_records_changes_no_row() {
    let mut fixture = Fixture::new(2);
    let records = records_of_every_class(5);
    fixture.produce(&keyed(&records, "run-1"));
    let stderr = fixture.consume_until_idle(&[]);
    assert_eq!(summary_count(&stderr, "rows"), records.len() as u64);
    let snapshot = "SELECT string_agg(weapon_id || scrape_run_id || first_seen || updated_at, ',' \
                    ORDER BY weapon_id) FROM mhfz.weapons";
    let before: String = fixture.admin.query_one(snapshot, &[]).unwrap().get(0);

    // The same site scraped again: same records, new run id.
    let mut again = keyed(&records, "run-2");
    // ... except one weapon whose attack changed.
    let mut changed = records
        .iter()
        .find(|r| r.class == WeaponClass::Lance)
        .unwrap()
        .clone();
    changed.attack += 5;
    again.extend(keyed(std::slice::from_ref(&changed), "run-2"));
    fixture.produce(&again);
    let stderr = fixture.consume_until_idle(&[]);
    assert_eq!(summary_count(&stderr, "messages"), again.len() as u64);
    // The changed weapon's older message is superseded within the batch, so counts as unchanged.
    assert_eq!(summary_count(&stderr, "rows"), 1, "{stderr}");
    assert_eq!(
        summary_count(&stderr, "unchanged"),
        records.len() as u64,
        "{stderr}"
    );
    let after: String = fixture.admin.query_one(snapshot, &[]).unwrap().get(0);
    assert_ne!(before, after);
    let unchanged_rows = consumer_support::count(
        &mut fixture.admin,
        "SELECT count(*) FROM mhfz.weapons WHERE scrape_run_id = 'run-1'",
    );
    assert_eq!(unchanged_rows, records.len() as i64 - 1);
    assert_eq!(fixture.rows(), records.len() as i64);
}

#[test]
fn poison_messages_go_to_the_dead_letter_topic_and_the_rest_is_written() {
    let mut fixture = Fixture::new(2);
    let records = records_of_every_class(2);
    let mut messages = keyed(&records, "run-1");

    let json_with = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut value: serde_json::Value =
            serde_json::from_slice(&consumer_support::envelope(&records[0], "run-1")).unwrap();
        edit(&mut value);
        serde_json::to_vec(&value).unwrap()
    };
    let mut invalid = consumer_support::record(WeaponClass::Bow, 900);
    invalid.rarity = 0;
    // Valid as a record, but the database cannot store the price: isolated row by row.
    let mut unstorable = consumer_support::record(WeaponClass::Hammer, 901);
    unstorable.price = Some(u64::MAX);
    let poison: Vec<(&str, Vec<u8>, &str)> = vec![
        ("bad-json", b"{\"schema_version\": 1, ".to_vec(), "json"),
        (
            "unknown-class",
            json_with(&|v| v["record"]["class"] = "laser_sword".into()),
            "json",
        ),
        (
            "old-schema",
            json_with(&|v| v["schema_version"] = 99.into()),
            "schema_version",
        ),
        (
            invalid.weapon_id.as_str(),
            consumer_support::envelope(&invalid, "run-1"),
            "invalid_record",
        ),
        (
            unstorable.weapon_id.as_str(),
            consumer_support::envelope(&unstorable, "run-1"),
            "row_rejected",
        ),
    ];
    // Poison in the middle of the stream: it must not block what follows.
    let tail = messages.split_off(10);
    messages.extend(
        poison
            .iter()
            .map(|(key, value, _)| (Some(key.as_bytes().to_vec()), value.clone())),
    );
    messages.extend(tail);
    fixture.produce(&messages);

    let stderr = fixture.consume_until_idle(&[]);
    assert_eq!(summary_count(&stderr, "dead-lettered"), poison.len() as u64);
    assert_eq!(fixture.rows(), records.len() as i64);

    let letters = fixture.dead_letters(poison.len());
    for (key, value, kind) in &poison {
        let letter = letters
            .iter()
            .find(|l| l.key.as_deref() == Some(key.as_bytes()))
            .unwrap_or_else(|| panic!("no dead letter for {key}: {letters:#?}"));
        assert_eq!(&letter.value, value, "{key}: payload kept unchanged");
        let header = |name: &str| {
            letter
                .headers
                .get(name)
                .unwrap_or_else(|| panic!("{key}: no header {name}: {letter:?}"))
        };
        assert_eq!(header("mhfz.error.kind"), kind, "{key}");
        assert!(!header("mhfz.error").is_empty());
        assert_eq!(header("mhfz.source.topic"), &fixture.topic);
        let partition: i32 = header("mhfz.source.partition").parse().unwrap();
        let offset: i64 = header("mhfz.source.offset").parse().unwrap();
        assert!((0..2).contains(&partition) && offset >= 0, "{letter:?}");
    }
    let error_of = |key: &str| {
        &letters
            .iter()
            .find(|l| l.key.as_deref() == Some(key.as_bytes()))
            .unwrap()
            .headers["mhfz.error"]
    };
    assert!(
        error_of("unknown-class").contains("laser_sword"),
        "{}",
        error_of("unknown-class")
    );
    assert!(error_of(invalid.weapon_id.as_str()).contains("rarity"));
}

fn get_metrics(port: u16) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(
        response.starts_with("HTTP/1.0 200") || response.starts_with("HTTP/1.1 200"),
        "{response}"
    );
    response
}

#[test]
fn the_metrics_endpoint_serves_every_metric() {
    let mut fixture = Fixture::new(2);
    let records = records_of_every_class(3);
    let mut messages = keyed(&records, "run-1");
    messages.push((Some(b"junk".to_vec()), b"junk".to_vec()));
    fixture.produce(&messages);

    let mut child = fixture
        .consumer(&[
            "--metrics-addr",
            "127.0.0.1:0",
            "--until-idle",
            "--idle-ms",
            "3000",
        ])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let port: u16 = loop {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "no metrics address printed"
        );
        if let Some(rest) = line
            .trim()
            .strip_prefix("mhfz-consumer: metrics on http://")
        {
            let addr: std::net::SocketAddr = rest.trim_end_matches("/metrics").parse().unwrap();
            break addr.port();
        }
    };
    // Keep draining stderr so the consumer never blocks on it.
    let drain = std::thread::spawn(move || {
        let mut rest = String::new();
        let _ = stderr.read_to_string(&mut rest);
        rest
    });
    let total = records.len();
    let mut text = String::new();
    // The lag gauge appears with the first measurement after the assignment.
    let lag = format!(
        "mhfz_consumer_lag{{topic=\"{}\",partition=\"0\"}} 0\n",
        fixture.topic
    );
    wait_for(
        "the rows and the lag in the metrics",
        Duration::from_secs(60),
        || {
            text = get_metrics(port);
            text.contains(&format!("mhfz_consumer_rows_written_total {total}\n"))
                && text.contains(&lag)
        },
    );
    for expected in [
        format!("mhfz_consumer_messages_total {}\n", total + 1),
        "mhfz_consumer_rows_unchanged_total 0\n".to_string(),
        "mhfz_consumer_dead_letters_total 1\n".to_string(),
        "# TYPE mhfz_consumer_batch_duration_seconds histogram\n".to_string(),
        "mhfz_consumer_batch_duration_seconds_count ".to_string(),
        format!(
            "mhfz_consumer_lag{{topic=\"{}\",partition=\"1\"}} 0\n",
            fixture.topic
        ),
    ] {
        assert!(text.contains(&expected), "no {expected:?} in:\n{text}");
    }
    let status = wait_exit(&mut child, Duration::from_secs(60));
    let rest = drain.join().unwrap();
    assert!(status.success(), "{rest}");
    assert_eq!(fixture.rows(), total as i64);
}

#[test]
fn sigterm_finishes_the_batch_commits_and_exits_0() {
    let mut fixture = Fixture::new(2);
    let records = records_of_every_class(4);
    fixture.produce(&keyed(&records, "run-1"));
    let child = fixture
        .consumer(&[])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let total = records.len() as i64;
    wait_for("the rows", Duration::from_secs(60), || {
        fixture.rows() == total
    });
    let (status, stderr) = terminate(child);
    assert!(status.success(), "exit {status}: {stderr}");
    assert!(stderr.contains("stopping on request"), "{stderr}");
    assert_eq!(summary_count(&stderr, "messages"), total as u64, "{stderr}");

    // Everything was committed before the exit.
    let stderr = fixture.consume_until_idle(&[]);
    assert_eq!(summary_count(&stderr, "messages"), 0, "{stderr}");
}

#[test]
fn consumes_only_into_a_migrated_schema_and_only_an_administrator_migrates() {
    let mut fixture = Fixture::new(1);
    fixture
        .admin
        .batch_execute("DROP SCHEMA mhfz CASCADE")
        .unwrap();
    let records = records_of_every_class(1);
    fixture.produce(&keyed(&records, "run-1"));

    let output = fixture.consumer(&["--until-idle"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("is not applied"), "{stderr}");

    // The writer role cannot change the schema.
    let output = fixture
        .consumer(&["--until-idle", "--migrate"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("permission denied"), "{stderr}");
    assert_eq!(
        consumer_support::count(
            &mut fixture.admin,
            "SELECT count(*) FROM pg_namespace WHERE nspname = 'mhfz'"
        ),
        0
    );

    let stderr = consumer_support::until_idle(fixture.consumer_as_admin(&["--migrate"]));
    let applied = format!("migrations: {} applied", mhfz_store::MIGRATIONS.len());
    assert!(stderr.contains(&applied), "{stderr}");
    assert_eq!(fixture.rows(), records.len() as i64);
}

#[test]
fn a_lost_database_connection_is_retried_and_nothing_is_lost() {
    let mut fixture = Fixture::new(1);
    let records = records_of_every_class(4);
    let (first, second) = records.split_at(20);
    fixture.produce(&keyed(first, "run-1"));
    let child = fixture
        .consumer(&[])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for("the first rows", Duration::from_secs(60), || {
        fixture.rows() == first.len() as i64
    });

    // The server drops the consumer's connection (as on a restart or failover).
    let sql = format!(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
         WHERE datname = '{}' AND pid <> pg_backend_pid()",
        fixture.db.name
    );
    let terminated = consumer_support::count(&mut fixture.admin, &sql);
    assert!(terminated >= 1, "no consumer connection found");
    fixture.produce(&keyed(second, "run-1"));
    wait_for(
        "the rows after the reconnection",
        Duration::from_secs(60),
        || fixture.rows() == records.len() as i64,
    );

    let (status, stderr) = terminate(child);
    assert!(status.success(), "exit {status}: {stderr}");
    assert!(stderr.contains("retrying in"), "{stderr}");
    assert_eq!(fixture.distinct_ids(), records.len() as i64);
}

#[test]
fn a_kafka_option_reaches_the_dead_letter_producer_too() {
    let mut fixture = Fixture::new(1);
    // Not a record: a dead letter, larger than the request size the option allows (the
    // smallest librdkafka takes).
    fixture.produce(&[(Some(b"too-big".to_vec()), vec![b'x'; 4000])]);
    let output = fixture
        .consumer(&["--until-idle", "--idle-ms", "1500"])
        .args(["--kafka-option", "message.max.bytes=1000"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "the option did not reach it: {stderr}"
    );
    assert!(stderr.contains("dead letter"), "{stderr}");

    // Its offset was not committed: without the option the message is dead-lettered.
    let stderr = fixture.consume_until_idle(&[]);
    assert_eq!(summary_count(&stderr, "dead-lettered"), 1, "{stderr}");
    assert_eq!(fixture.dead_letters(1)[0].value.len(), 4000);
    assert_eq!(fixture.rows(), 0);
}

#[test]
fn a_wrong_kafka_password_stops_the_consumer_naming_the_user_not_the_password() {
    let fixture = Fixture::new(1);
    let dir = tempfile::tempdir().unwrap();
    let wrong = format!("not-the-password-{}", std::process::id());
    let password_file = dir.path().join("wrong-password");
    std::fs::write(&password_file, format!("{wrong}\n")).unwrap();
    let password_arg = password_file.display().to_string();
    // Not --until-idle: a consumer that does not stop on the refusal runs until killed.
    let mut consumer = fixture.consumer(&["--kafka-password-file", &password_arg]);
    let output = output_within(&mut consumer, Duration::from_secs(60));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "authentication failed for user {:?}",
            stack_user()
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&fixture.brokers),
        "names the brokers: {stderr}"
    );
    assert!(!stderr.contains(&wrong), "shows the password: {stderr}");
}

#[test]
fn grant_roles_gives_the_rights_provision_roles_gives_and_says_whether_it_changed_any() {
    let fixture = Fixture::new(1);
    let roles = fixture.roles.clone();
    let grant = |readers: &[&str]| {
        let mut command = fixture.subcommand_as_admin(&[
            "grant-roles",
            "--writer",
            &roles.writer,
            "--exporter",
            &roles.exporter,
        ]);
        command.args(readers.iter().flat_map(|reader| ["--reader", reader]));
        command.output().unwrap()
    };
    let stdout =
        |output: &std::process::Output| String::from_utf8_lossy(&output.stdout).into_owned();

    // provision_roles (the fixture's) and grant-roles give the same rights.
    let output = grant(&[&roles.reader]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(stdout(&output), "unchanged\n");

    fixture
        .db
        .admin()
        .batch_execute(&format!("GRANT DELETE ON mhfz.lance TO {}", roles.writer))
        .unwrap();
    assert_eq!(stdout(&grant(&[&roles.reader])), "changed\n");
    assert_eq!(stdout(&grant(&[&roles.reader])), "unchanged\n");

    let output = grant(&["no_such_reader"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("role no_such_reader does not exist"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
}
