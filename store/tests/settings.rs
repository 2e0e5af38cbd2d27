//! Connection settings: no database needed.

mod support;

use mhfz_store::{connect, ConnectionSettings, Password, StoreError, CA_FILE_VAR};
use support::chain;

#[test]
fn a_url_with_a_password_is_refused_without_echoing_it() {
    let error = ConnectionSettings::from_url("postgres://mhfz_writer:hunter2@127.0.0.1:5432/mhfz")
        .unwrap_err();
    assert!(matches!(error, StoreError::Settings(_)));
    let message = format!("{error} {error:?}");
    assert!(!message.contains("hunter2"), "{message}");
    assert!(message.contains("MHFZ_PG_PASSWORD_FILE"), "{message}");
}

#[test]
fn a_url_without_password_is_accepted_and_shown_without_the_password() {
    let settings = ConnectionSettings::from_url("postgres://mhfz_writer@db.example:6543/mhfz")
        .unwrap()
        .with_password(Password::new("s3cret-value").unwrap());
    assert_eq!(settings.user(), "mhfz_writer");
    assert_eq!(settings.database(), "mhfz");
    assert_eq!(settings.target(), "db.example:6543/mhfz as mhfz_writer");
    let debug = format!("{settings:?}");
    assert!(!debug.contains("s3cret-value"), "{debug}");
    assert!(debug.contains("<redacted>"), "{debug}");
}

#[test]
fn a_url_must_name_a_user() {
    assert!(matches!(
        ConnectionSettings::from_url("host=127.0.0.1 dbname=mhfz"),
        Err(StoreError::Settings(_))
    ));
}

#[test]
fn passwords_come_from_the_first_line_of_a_file_and_are_never_empty() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("password");
    std::fs::write(&path, "from-file\n").unwrap();
    let password = Password::from_file(&path).unwrap();
    assert_eq!(password, Password::new("from-file").unwrap());
    assert_eq!(format!("{password:?}"), "Password(<redacted>)");

    std::fs::write(&path, "\n").unwrap();
    let error = Password::from_file(&path).unwrap_err();
    assert!(error.to_string().contains("is empty"), "{error}");
    assert!(matches!(
        Password::from_file(&dir.path().join("missing")),
        Err(StoreError::PasswordFile { .. })
    ));
    assert!(Password::new("").is_err());
}

/// The error `connect` returns: these settings must not connect.
fn refused(settings: &ConnectionSettings) -> StoreError {
    connect(settings).err().expect("connect must fail")
}

fn tcp_settings() -> ConnectionSettings {
    // Port 1: nothing listens there, and these errors come before any connection.
    ConnectionSettings::new("127.0.0.1", 1, "mhfz_writer", "mhfz")
        .with_password(Password::new("pw").unwrap())
}

#[test]
fn a_tcp_host_without_a_ca_file_is_refused_naming_the_target_and_the_variable() {
    let error = refused(&tcp_settings());
    assert!(
        matches!(&error, StoreError::NoCaFile { target } if target == "127.0.0.1:1/mhfz as mhfz_writer"),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("127.0.0.1:1/mhfz as mhfz_writer"),
        "{message}"
    );
    assert!(message.contains(CA_FILE_VAR), "{message}");
    // Not a failure that waiting cures.
    assert!(!error.is_transient());
}

#[test]
fn a_ca_file_that_is_missing_or_holds_no_certificate_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing-ca.pem");
    let error = refused(&tcp_settings().with_ca_file(&missing));
    assert!(matches!(&error, StoreError::CaFile { path, .. } if *path == missing));
    assert!(error.to_string().contains("missing-ca.pem"), "{error}");

    let not_pem = dir.path().join("not-pem.pem");
    std::fs::write(&not_pem, "just text\n").unwrap();
    let error = refused(&tcp_settings().with_ca_file(&not_pem));
    assert!(matches!(&error, StoreError::CaFileEmpty { path } if *path == not_pem));
    assert!(error.to_string().contains("not-pem.pem"), "{error}");

    let broken = dir.path().join("broken.pem");
    std::fs::write(
        &broken,
        "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let error = refused(&tcp_settings().with_ca_file(&broken));
    assert!(
        matches!(&error, StoreError::CaFileInvalid { path, .. } if *path == broken),
        "{error:?}"
    );
    assert!(chain(&error).contains("broken.pem"), "{}", chain(&error));
}

#[test]
fn a_unix_socket_needs_no_ca_file() {
    let dir = tempfile::tempdir().unwrap();
    let settings = ConnectionSettings::new(dir.path().to_str().unwrap(), 5432, "u", "db")
        .with_password(Password::new("pw").unwrap());
    // No server there: the error is the socket's, not a missing CA file.
    let error = refused(&settings);
    assert!(matches!(error, StoreError::Connect { .. }), "{error:?}");
}

#[test]
fn unix_sockets_and_tcp_hosts_together_are_refused() {
    let settings = ConnectionSettings::from_url("host=/run/postgresql,127.0.0.1 user=u dbname=db")
        .unwrap()
        .with_ca_file("/nonexistent/ca.pem");
    let error = refused(&settings);
    assert!(matches!(error, StoreError::Settings(_)), "{error:?}");
    assert!(
        error.to_string().contains("Unix sockets and TCP"),
        "{error}"
    );
}
