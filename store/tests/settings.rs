//! Connection settings: no database needed.

use mhfz_store::{ConnectionSettings, Password, StoreError};

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
