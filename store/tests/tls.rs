//! TLS to the stack's PostgreSQL, which refuses TCP without it (`hostnossl ... reject`) and
//! whose certificate names 127.0.0.1 and localhost: the server is verified by its CA and name.

mod support;
// A CA that is not the stack's (shared with the ingest crate's Kafka tests).
#[path = "support/test_ca.rs"]
mod test_ca;

use std::net::{IpAddr, ToSocketAddrs};
use std::path::PathBuf;

use mhfz_store::{connect, ConnectionSettings, Password, StoreError};
use postgres::config::SslMode;
use postgres::{Client, NoTls};
use support::{chain, server_admin, stack_port, stack_var};

fn is_encrypted(client: &mut Client) -> bool {
    client
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .unwrap()
        .get(0)
}

/// The CA file the harness verifies the stack's server with.
fn stack_ca_file() -> PathBuf {
    server_admin()
        .ca_file()
        .expect("MHFZ_PG_CA_FILE is not set: run via `scripts/stack run -- cargo test`")
        .to_path_buf()
}

/// The stack's administrator on its maintenance database, at `host` (a `key=value` string:
/// `host=NAME`, perhaps more), with the harness's password and CA file.
fn admin_at(host: &str) -> ConnectionSettings {
    let url = format!(
        "{host} port={} user={} dbname=postgres",
        stack_port(),
        stack_var("MHFZ_PG_ADMIN_USER")
    );
    let password = Password::from_file(stack_var("MHFZ_PG_ADMIN_PASSWORD_FILE").as_ref()).unwrap();
    ConnectionSettings::from_url(&url)
        .unwrap()
        .with_password(password)
        .with_ca_file(stack_ca_file())
}

fn stack_host() -> String {
    format!("host={}", stack_var("MHFZ_PG_HOST"))
}

/// The server's address, to connect to it while verifying another name (`hostaddr`).
fn server_ip() -> IpAddr {
    (stack_var("MHFZ_PG_HOST").as_str(), stack_port())
        .to_socket_addrs()
        .unwrap()
        .next()
        .unwrap()
        .ip()
}

/// The connection error of `settings`, which must be a refused handshake, as one string.
fn refused_handshake(settings: &ConnectionSettings) -> String {
    let error = connect(settings)
        .err()
        .expect("the connection must be refused");
    let StoreError::Connect { target, .. } = &error else {
        panic!("not a connection error: {error:?}");
    };
    assert_eq!(*target, settings.target());
    // The same server refuses again: no retrying it.
    assert!(!error.is_transient(), "{}", chain(&error));
    let message = chain(&error);
    assert!(message.contains(&settings.target()), "{message}");
    assert!(message.contains("certificate verify failed"), "{message}");
    message
}

#[test]
fn the_stacks_ca_verifies_the_server_and_the_connection_is_encrypted() {
    assert!(is_encrypted(&mut connect(&server_admin()).unwrap()));
    // By DNS name, the certificate's other subject alternative name.
    assert!(is_encrypted(
        &mut connect(&admin_at("host=localhost")).unwrap()
    ));
}

#[test]
fn sslmode_disable_in_the_url_does_not_turn_tls_off() {
    let settings = admin_at(&format!("{} sslmode=disable", stack_host()));
    assert!(is_encrypted(&mut connect(&settings).unwrap()));
}

#[test]
fn a_server_certificate_from_another_ca_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let other_ca = dir.path().join("other-ca.pem");
    std::fs::write(&other_ca, test_ca::TestCa::new("not the stack's CA").pem()).unwrap();
    let message = refused_handshake(&admin_at(&stack_host()).with_ca_file(&other_ca));
    // The chain ends at a CA not trusted here.
    assert!(
        message.contains("unable to get local issuer certificate"),
        "{message}"
    );
}

#[test]
fn a_name_the_certificate_does_not_hold_is_refused() {
    // Connected to the server's address (hostaddr), verifying a name not in its certificate.
    let ip = server_ip();
    let wrong_name = admin_at(&format!(
        "host=mhfz-not-in-the-certificate.invalid hostaddr={ip}"
    ));
    let message = refused_handshake(&wrong_name);
    assert!(message.contains("hostname mismatch"), "{message}");
    // An IP address as the name (TEST-NET-1, RFC 5737).
    let message = refused_handshake(&admin_at(&format!("host=192.0.2.1 hostaddr={ip}")));
    assert!(message.contains("IP address mismatch"), "{message}");
}

#[test]
fn the_server_refuses_plaintext() {
    let password = std::fs::read_to_string(stack_var("MHFZ_PG_ADMIN_PASSWORD_FILE")).unwrap();
    let error = postgres::Config::new()
        .host(&stack_var("MHFZ_PG_HOST"))
        .port(stack_port())
        .user(&stack_var("MHFZ_PG_ADMIN_USER"))
        .password(password.lines().next().unwrap_or_default())
        .dbname("postgres")
        .ssl_mode(SslMode::Disable)
        .connect(NoTls)
        .err()
        .expect("the server must refuse a connection without TLS");
    let message = error
        .as_db_error()
        .unwrap_or_else(|| panic!("not the server's refusal: {}", chain(&error)))
        .message()
        .to_string();
    assert!(message.contains("pg_hba.conf"), "{message}");
    assert!(message.contains("no encryption"), "{message}");
}
