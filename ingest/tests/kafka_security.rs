//! The Kafka clients' security, without the stack: neither program starts without credentials,
//! and both refuse at once a broker whose certificate they do not trust, a loopback TLS server
//! standing in for the broker (`cargo test -p mhfz-ingest --test kafka_security`).

mod kafka_support;
mod util;

use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use mhfz_ingest::kafka::client::{CA_FILE_VAR, PASSWORD_FILE_VAR, USER_VAR};
use openssl::ssl::{SslAcceptor, SslMethod};

use kafka_support::{output_within, TestCa};
use util::{stderr_of, write_long_sword_site};

/// Kills a program that should have stopped on its own long before.
const HANG_BOUND: Duration = Duration::from_secs(60);

/// The scraper over a small site into Kafka at `brokers`, with `credentials` alone (none
/// inherited from the environment).
fn scraper(root: &Path, brokers: &str, credentials: &[&str]) -> Command {
    write_long_sword_site(root);
    let mut command = Command::new(env!("CARGO_BIN_EXE_mhfz-scraper"));
    command
        .arg("--site")
        .arg(root.join("buki"))
        .args(["--no-cache", "--rate", "0", "--kafka", brokers])
        .args(credentials);
    for var in [USER_VAR, PASSWORD_FILE_VAR, CA_FILE_VAR] {
        command.env_remove(var);
    }
    command
}

/// The consumer of Kafka at `brokers`, with `credentials` alone. The database settings only
/// parse: the consumer must stop before it connects.
fn consumer(brokers: &str, credentials: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mhfz-consumer"));
    command
        .args(["--brokers", brokers, "--metrics-addr", "off"])
        .args(credentials)
        .env("MHFZ_PG_URL", "postgres://nobody@127.0.0.1:1/nothing");
    for var in [USER_VAR, PASSWORD_FILE_VAR, CA_FILE_VAR] {
        command.env_remove(var);
    }
    command
}

#[test]
fn without_credentials_neither_program_starts_and_both_name_the_flags_and_variables() {
    let root = tempfile::tempdir().unwrap();
    for mut program in [
        scraper(root.path(), "127.0.0.1:1", &[]),
        consumer("127.0.0.1:1", &[]),
    ] {
        let output = output_within(&mut program, HANG_BOUND);
        let stderr = stderr_of(&output);
        assert!(!output.status.success(), "{stderr}");
        for name in [
            "--kafka-user",
            USER_VAR,
            "--kafka-password-file",
            PASSWORD_FILE_VAR,
            "--kafka-ca-file",
            CA_FILE_VAR,
        ] {
            assert!(stderr.contains(name), "{name}: {stderr}");
        }
        assert!(!stderr.contains("records"), "scraped anyway: {stderr}");
    }
}

/// A loopback TLS server presenting `certificate`, which fails every handshake it is refused.
fn tls_server(ca: &TestCa, subject_alt_name: &str) -> String {
    let (certificate, key) = ca.issue(subject_alt_name);
    let mut acceptor = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls()).unwrap();
    acceptor.set_certificate(&certificate).unwrap();
    acceptor.set_private_key(&key).unwrap();
    let acceptor = acceptor.build();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    // Serves until the test binary ends; librdkafka retries, so each attempt gets a handshake.
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let _ = acceptor.accept(stream);
        }
    });
    address
}

/// Runs `program`; asserts it failed at once on the broker's certificate, before any record.
fn assert_refused_for_its_certificate(mut program: Command, ca_file: &Path) -> Output {
    let output = output_within(&mut program, HANG_BOUND);
    let stderr = stderr_of(&output);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains("TLS handshake failed") && stderr.contains("certificate"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&ca_file.display().to_string()),
        "names the CA file: {stderr}"
    );
    assert!(!stderr.contains("hunter2"), "shows the password: {stderr}");
    assert!(!stderr.contains("records"), "scraped anyway: {stderr}");
    output
}

#[test]
fn a_broker_certificate_another_ca_signed_or_for_another_name_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let trusted = TestCa::new("the platform's CA");
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, trusted.pem()).unwrap();
    let password_file = dir.path().join("password");
    std::fs::write(&password_file, "hunter2\n").unwrap();
    let ca_arg = ca_file.display().to_string();
    let password_arg = password_file.display().to_string();
    let credentials = [
        "--kafka-user",
        "mhfz-test",
        "--kafka-password-file",
        &password_arg,
        "--kafka-ca-file",
        &ca_arg,
    ];

    let other_ca = TestCa::new("another CA");
    for broker in [
        tls_server(&other_ca, "IP:127.0.0.1"),
        tls_server(&trusted, "DNS:elsewhere.invalid"),
    ] {
        let site = tempfile::tempdir().unwrap();
        let output = assert_refused_for_its_certificate(
            scraper(site.path(), &broker, &credentials),
            &ca_file,
        );
        assert_eq!(output.status.code(), Some(2), "{}", stderr_of(&output));
        assert_refused_for_its_certificate(consumer(&broker, &credentials), &ca_file);
    }
}
