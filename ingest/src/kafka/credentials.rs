//! Who every Kafka client logs in as: the SASL/SCRAM user, the password read once from its
//! file and the CA the brokers are verified against ([`KafkaCredentials`]), and the flags and
//! environment variables that give them ([`KafkaCredentialArgs`]).

use std::fmt;
use std::path::{Path, PathBuf};

use super::client::KafkaConfigError;

/// The Kafka user of `--kafka-user`.
pub const USER_VAR: &str = "MHFZ_KAFKA_USER";
/// The file holding that user's password, of `--kafka-password-file`.
pub const PASSWORD_FILE_VAR: &str = "MHFZ_KAFKA_PASSWORD_FILE";
/// The PEM file of the CA that signs the brokers' certificates, of `--kafka-ca-file`.
pub const CA_FILE_VAR: &str = "MHFZ_KAFKA_CA_FILE";

/// Who every client logs in as, and the CA it verifies the brokers with.
#[derive(Clone)]
pub struct KafkaCredentials {
    pub(super) user: String,
    /// Read once from the password file; never shown (see `Debug`) nor put in a message.
    pub(super) password: String,
    pub(super) ca_file: PathBuf,
}

impl KafkaCredentials {
    /// `user`, the password in `password_file` (read now: a trailing newline is ignored) and the
    /// CA certificate file (PEM) the brokers' certificates are verified against, alone.
    pub fn from_files(
        user: &str,
        password_file: &Path,
        ca_file: &Path,
    ) -> Result<KafkaCredentials, KafkaConfigError> {
        if user.trim().is_empty() {
            return Err(KafkaConfigError::EmptyUser);
        }
        let path = || password_file.to_path_buf();
        let text = std::fs::read_to_string(password_file).map_err(|source| {
            KafkaConfigError::PasswordFile {
                path: path(),
                source,
            }
        })?;
        let password = text.trim_end_matches(['\n', '\r']);
        if password.is_empty() {
            return Err(KafkaConfigError::EmptyPasswordFile { path: path() });
        }
        // A second line is a mistake (a password holds no newline), not part of the password.
        if password.contains(['\n', '\r']) {
            return Err(KafkaConfigError::PasswordFileLines { path: path() });
        }
        Ok(KafkaCredentials {
            user: user.to_string(),
            password: password.to_string(),
            // Absolute, so that librdkafka never reads a file named `probe` as its keyword for
            // "the system's CAs".
            ca_file: std::path::absolute(ca_file).unwrap_or_else(|_| ca_file.to_path_buf()),
        })
    }

    pub fn ca_file(&self) -> &Path {
        &self.ca_file
    }
}

impl fmt::Debug for KafkaCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KafkaCredentials")
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .field("ca_file", &self.ca_file)
            .finish()
    }
}

/// `--kafka-user`, `--kafka-password-file`, `--kafka-ca-file` (or their environment
/// variables), shared by both programs.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct KafkaCredentialArgs {
    /// Kafka user the clients log in as (SASL/SCRAM-SHA-512 over TLS; required).
    #[arg(long = "kafka-user", value_name = "NAME", env = USER_VAR)]
    pub user: Option<String>,
    /// File holding the Kafka user's password (one line; a trailing newline is ignored;
    /// required).
    #[arg(long = "kafka-password-file", value_name = "PATH", env = PASSWORD_FILE_VAR)]
    pub password_file: Option<PathBuf>,
    /// PEM file of the CA certificate that signs the brokers' certificates: the clients trust
    /// it alone and check the brokers' names (required).
    #[arg(long = "kafka-ca-file", value_name = "PATH", env = CA_FILE_VAR)]
    pub ca_file: Option<PathBuf>,
}

impl KafkaCredentialArgs {
    /// The credentials, reading the password file; every missing one is named.
    pub fn credentials(&self) -> Result<KafkaCredentials, KafkaConfigError> {
        if let (Some(user), Some(password_file), Some(ca_file)) =
            (&self.user, &self.password_file, &self.ca_file)
        {
            return KafkaCredentials::from_files(user, password_file, ca_file);
        }
        let missing = [
            (self.user.is_none(), "--kafka-user", USER_VAR),
            (
                self.password_file.is_none(),
                "--kafka-password-file",
                PASSWORD_FILE_VAR,
            ),
            (self.ca_file.is_none(), "--kafka-ca-file", CA_FILE_VAR),
        ]
        .into_iter()
        .filter(|(missing, ..)| *missing)
        .map(|(_, flag, var)| format!("{flag} (or {var})"))
        .collect();
        Err(KafkaConfigError::MissingCredentials { missing })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kafka::client::test_support::{settings, test_credentials};
    use crate::kafka::{ClientRole, KafkaClientSettings};

    #[test]
    fn the_password_file_is_read_once_without_its_line_ending() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kafka-password");
        let ca_file = test_credentials().ca_file;
        let read = |text: &str| {
            std::fs::write(&path, text).unwrap();
            KafkaCredentials::from_files("mhfz-test", &path, &ca_file)
        };
        for text in ["s3cret", "s3cret\n", "s3cret\r\n"] {
            let credentials = read(text).unwrap();
            let config = KafkaClientSettings::new("a:1", "x", credentials)
                .client_config(ClientRole::Producer);
            assert_eq!(config.get("sasl.password"), Some("s3cret"), "{text:?}");
        }
        // Read once: the settings keep working after the file is gone.
        let settings = KafkaClientSettings::new("a:1", "x", read("s3cret\n").unwrap());
        std::fs::remove_file(&path).unwrap();
        settings.validate().unwrap();

        for (text, expected) in [
            ("", "is empty"),
            ("\n", "is empty"),
            ("s3cret\nother-secret\n", "more than one line"),
        ] {
            let error = read(text).unwrap_err().to_string();
            assert!(
                error.contains(expected) && error.contains("kafka-password"),
                "{text:?}: {error}"
            );
            assert!(!error.contains("s3cret"), "{error}");
        }
        let error = KafkaCredentials::from_files("mhfz-test", &dir.path().join("none"), &ca_file)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("password file") && error.contains("none"),
            "{error}"
        );
        let error = KafkaCredentials::from_files(" ", &path, &ca_file)
            .unwrap_err()
            .to_string();
        assert!(error.contains("--kafka-user"), "{error}");
    }

    #[test]
    fn the_ca_file_is_made_absolute() {
        let dir = tempfile::tempdir().unwrap();
        let password = dir.path().join("password");
        std::fs::write(&password, "s3cret\n").unwrap();
        // librdkafka reads a CA location "probe" as "the system's CAs".
        let credentials =
            KafkaCredentials::from_files("mhfz-test", &password, Path::new("probe")).unwrap();
        assert!(credentials.ca_file().is_absolute(), "{credentials:?}");
        assert!(credentials.ca_file().ends_with("probe"), "{credentials:?}");
    }

    #[test]
    fn missing_credentials_name_their_flags_and_environment_variables() {
        let error = KafkaCredentialArgs::default()
            .credentials()
            .unwrap_err()
            .to_string();
        for name in [
            "--kafka-user (or MHFZ_KAFKA_USER)",
            "--kafka-password-file (or MHFZ_KAFKA_PASSWORD_FILE)",
            "--kafka-ca-file (or MHFZ_KAFKA_CA_FILE)",
        ] {
            assert!(error.contains(name), "{name}: {error}");
        }
        let error = KafkaCredentialArgs {
            user: Some("mhfz-test".into()),
            ..KafkaCredentialArgs::default()
        }
        .credentials()
        .unwrap_err()
        .to_string();
        assert!(
            !error.contains("--kafka-user") && error.contains("--kafka-ca-file"),
            "{error}"
        );
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let settings = settings(&[("ssl.key.password", "swordfish")]);
        let shown = format!("{settings:?}");
        assert!(
            shown.contains("ssl.key.password")
                && shown.contains("mhfz-test")
                && shown.contains("<redacted>")
                && !shown.contains("swordfish")
                && !shown.contains("hunter2"),
            "{shown}"
        );
        let shown = format!("{:?}", test_credentials());
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}
