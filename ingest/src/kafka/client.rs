//! The one place a Kafka client's configuration is built. Every client of the programs — the
//! scraper's admin client and producer, the consumer and its dead-letter producer — comes from
//! [`KafkaClientSettings::client_config`], so an operator's `--kafka-option` (tuning) reaches
//! each of them and none is configured by hand elsewhere.
//!
//! Every client speaks SASL/SCRAM-SHA-512 over TLS, verifying the broker's certificate and name
//! against the platform's CA ([`KafkaCredentials`]); no option turns that off. librdkafka
//! retries a refused login or an untrusted certificate as if it could pass, until the clients'
//! timeouts: [`KafkaClientSettings::check_access`] and [`RefusalWatch`](super::RefusalWatch)
//! (both in `refusal.rs`) let the programs stop at the first refusal instead, saying why.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rdkafka::ClientConfig;

use super::credentials::KafkaCredentials;
// The credentials' environment variables, at the path the integration tests use.
pub use super::credentials::{CA_FILE_VAR, PASSWORD_FILE_VAR, USER_VAR};

/// A client's job; each adds only its own keys to the shared ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientRole<'a> {
    /// Topic creation.
    Admin,
    /// The scraper's records.
    Producer,
    /// The consumer, in `group`; with `instance`, a static member of it (KIP-345): restarted
    /// with the same instance id it gets its partitions back at once, with no rebalance and no
    /// wait for its old session to expire.
    Consumer {
        group: &'a str,
        instance: Option<&'a str>,
    },
    /// The consumer's dead letters.
    DeadLetterProducer,
}

impl ClientRole<'_> {
    /// Every role, for validation (the group is a placeholder).
    const ALL: [ClientRole<'static>; 4] = [
        ClientRole::Admin,
        ClientRole::Producer,
        ClientRole::Consumer {
            group: "validation",
            instance: None,
        },
        ClientRole::DeadLetterProducer,
    ];

    fn name(self) -> &'static str {
        match self {
            ClientRole::Admin => "admin client",
            ClientRole::Producer => "producer",
            ClientRole::Consumer { .. } => "consumer",
            ClientRole::DeadLetterProducer => "dead-letter producer",
        }
    }

    /// Suffix of `client.id`, so the broker's logs and quotas tell the clients apart.
    fn client_id_suffix(self) -> &'static str {
        match self {
            ClientRole::Admin => "-admin",
            ClientRole::Producer | ClientRole::Consumer { .. } => "",
            ClientRole::DeadLetterProducer => "-dead-letters",
        }
    }

    /// The role's own keys, set before the user's properties.
    fn keys(self, delivery_timeout_ms: &str) -> Vec<(&'static str, String)> {
        let producer = |more: &[(&'static str, &str)]| {
            let mut keys = vec![
                ("enable.idempotence", "true".to_string()),
                ("acks", "all".to_string()),
                // A run should end within its bound after losing the broker, not librdkafka's
                // default five minutes.
                ("message.timeout.ms", delivery_timeout_ms.to_string()),
            ];
            keys.extend(more.iter().map(|(k, v)| (*k, v.to_string())));
            keys
        };
        match self {
            ClientRole::Admin => Vec::new(),
            ClientRole::Producer => producer(&[
                ("compression.type", "lz4"),
                ("linger.ms", "20"),
                ("batch.size", "1000000"),
            ]),
            ClientRole::DeadLetterProducer => producer(&[]),
            ClientRole::Consumer { group, instance } => {
                let mut keys = vec![("group.id", group.to_string())];
                keys.extend(instance.map(|id| ("group.instance.id", id.to_string())));
                keys.extend([
                    // A new group starts at the beginning: every record still in the topic is
                    // stored.
                    ("auto.offset.reset", "earliest".to_string()),
                    ("enable.partition.eof", "false".to_string()),
                    // Offsets are committed by hand, only after the database commit.
                    ("enable.auto.commit", "false".to_string()),
                    ("enable.auto.offset.store", "false".to_string()),
                ]);
                keys
            }
        }
    }
}

/// Keys the programs set from their own arguments or rely on for correctness: a
/// `--kafka-option` naming one is refused rather than silently winning or losing. Security is
/// among them: there is no plaintext or unauthenticated client, and no unverified broker.
const RESERVED: &[(&str, &str)] = &[
    (
        "bootstrap.servers",
        "give the brokers with --brokers / --kafka",
    ),
    (
        "metadata.broker.list",
        "give the brokers with --brokers / --kafka",
    ),
    ("group.id", "give the consumer group with --group"),
    (
        "group.instance.id",
        "give the consumer's static instance id with --instance-id",
    ),
    (
        "enable.auto.commit",
        "the consumer commits offsets itself, after the database commit",
    ),
    (
        "enable.auto.offset.store",
        "the consumer stores offsets itself, after the database commit",
    ),
    (
        "security.protocol",
        "every client uses SASL_SSL; give its credentials with --kafka-user, \
         --kafka-password-file and --kafka-ca-file",
    ),
    (
        "sasl.mechanism",
        "every client authenticates with SCRAM-SHA-512 as --kafka-user",
    ),
    (
        "sasl.mechanisms",
        "every client authenticates with SCRAM-SHA-512 as --kafka-user",
    ),
    ("sasl.username", "give the user with --kafka-user"),
    (
        "sasl.password",
        "give the password in a file with --kafka-password-file",
    ),
    (
        "ssl.ca.location",
        "give the brokers' CA certificate with --kafka-ca-file",
    ),
    (
        "ssl.ca.pem",
        "give the brokers' CA certificate with --kafka-ca-file",
    ),
    (
        "ssl.ca.certificate.stores",
        "give the brokers' CA certificate with --kafka-ca-file",
    ),
    (
        "enable.ssl.certificate.verification",
        "every client verifies the broker's certificate against --kafka-ca-file",
    ),
    (
        "ssl.endpoint.identification.algorithm",
        "every client verifies the broker's name against its certificate (--kafka-ca-file)",
    ),
];

/// A Kafka setting that cannot be used; each names the input at fault.
#[derive(Debug, thiserror::Error)]
pub enum KafkaConfigError {
    #[error("no Kafka broker given (expected host:port[,host:port...])")]
    NoBrokers,
    #[error("Kafka broker list {brokers:?} has an empty or blank entry (expected host:port[,host:port...])")]
    BadBrokers { brokers: String },
    #[error("the Kafka client id is empty")]
    EmptyClientId,
    #[error("Kafka timeout {name} must be positive")]
    ZeroTimeout { name: &'static str },
    #[error("missing Kafka credentials: give {}", missing.join(", "))]
    MissingCredentials { missing: Vec<String> },
    #[error("the Kafka user name is empty (--kafka-user)")]
    EmptyUser,
    #[error("cannot read the Kafka password file {path}: {source}")]
    PasswordFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the Kafka password file {path} is empty")]
    EmptyPasswordFile { path: PathBuf },
    #[error("the Kafka password file {path} holds more than one line")]
    PasswordFileLines { path: PathBuf },
    #[error("cannot read the Kafka CA file {path} (--kafka-ca-file): {source}")]
    CaFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("--kafka-option {key}=... is not allowed: {reason}")]
    ReservedProperty { key: String, reason: &'static str },
    #[error("cannot read the Kafka options file {path}: {source}")]
    OptionsFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("Kafka options file {path}, line {line}: not KEY=VALUE")]
    OptionsFileLine { path: PathBuf, line: usize },
    #[error("--kafka-option {key}=...: librdkafka refuses it for the {role}: {message}")]
    Rejected {
        key: String,
        role: &'static str,
        message: String,
    },
}

/// How every client of a program reaches the cluster.
#[derive(Clone)]
pub struct KafkaClientSettings {
    /// `host:port[,host:port...]`.
    pub brokers: String,
    /// `client.id` of the program (`mhfz-scraper`, `mhfz-consumer`); roles add a suffix.
    pub client_id: String,
    /// Who every client logs in as, and the CA it verifies the brokers with.
    pub credentials: KafkaCredentials,
    /// The operator's librdkafka properties (`--kafka-option`): tuning. Applied to every
    /// client, before the security keys.
    pub properties: Vec<(String, String)>,
    /// Bound on admin and metadata requests.
    pub request_timeout: Duration,
    /// Bound on one message's delivery by a producer (`message.timeout.ms` unless the
    /// properties set it).
    pub delivery_timeout: Duration,
}

/// Values may be secrets (`ssl.key.password`): only the keys are shown.
impl fmt::Debug for KafkaClientSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<&str> = self.properties.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("KafkaClientSettings")
            .field("brokers", &self.brokers)
            .field("client_id", &self.client_id)
            .field("credentials", &self.credentials)
            .field("property_keys", &keys)
            .field("request_timeout", &self.request_timeout)
            .field("delivery_timeout", &self.delivery_timeout)
            .finish()
    }
}

impl KafkaClientSettings {
    /// Settings with the programs' default timeouts (30 s requests, 60 s deliveries).
    pub fn new(
        brokers: impl Into<String>,
        client_id: impl Into<String>,
        credentials: KafkaCredentials,
    ) -> KafkaClientSettings {
        KafkaClientSettings {
            brokers: brokers.into(),
            client_id: client_id.into(),
            credentials,
            properties: Vec::new(),
            request_timeout: Duration::from_secs(30),
            delivery_timeout: Duration::from_secs(60),
        }
    }

    pub fn with_properties(mut self, properties: Vec<(String, String)>) -> KafkaClientSettings {
        self.properties = properties;
        self
    }

    /// Checks the settings before any client is built, so that a bad option fails the run at
    /// once, not after a scrape: every client of every role is configured in librdkafka (which
    /// knows every property and its type) without connecting.
    pub fn validate(&self) -> Result<(), KafkaConfigError> {
        if self.brokers.trim().is_empty() {
            return Err(KafkaConfigError::NoBrokers);
        }
        if self.brokers.split(',').any(|b| b.trim().is_empty()) {
            return Err(KafkaConfigError::BadBrokers {
                brokers: self.brokers.clone(),
            });
        }
        if self.client_id.trim().is_empty() {
            return Err(KafkaConfigError::EmptyClientId);
        }
        for (name, timeout) in [
            ("request", self.request_timeout),
            ("delivery", self.delivery_timeout),
        ] {
            if timeout.is_zero() {
                return Err(KafkaConfigError::ZeroTimeout { name });
            }
        }
        let ca_file = self.credentials.ca_file();
        // librdkafka reads it only when a client starts: name it now, not as a client failure.
        if let Err(source) = std::fs::File::open(ca_file) {
            return Err(KafkaConfigError::CaFile {
                path: ca_file.to_path_buf(),
                source,
            });
        }
        for (key, _) in &self.properties {
            if let Some((_, reason)) = RESERVED.iter().find(|(k, _)| k == key) {
                return Err(KafkaConfigError::ReservedProperty {
                    key: key.clone(),
                    reason,
                });
            }
        }
        for role in ClientRole::ALL {
            // Setting the keys one by one finds the one librdkafka refuses.
            let config = self.client_config(role);
            let mut one = ClientConfig::new();
            for (key, value) in config.config_map() {
                one.set(key, value);
                if let Err(error) = one.create_native_config() {
                    return Err(KafkaConfigError::Rejected {
                        key: key.to_string(),
                        role: role.name(),
                        message: error.to_string(),
                    });
                }
            }
        }
        Ok(())
    }

    /// The configuration of one client: the shared keys, the role's own, the user's, then the
    /// security keys, last so that nothing can override them (validate refuses them anyway).
    pub fn client_config(&self, role: ClientRole<'_>) -> ClientConfig {
        let delivery_timeout_ms = self.delivery_timeout.as_millis().to_string();
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", &self.brokers).set(
            "client.id",
            format!("{}{}", self.client_id, role.client_id_suffix()),
        );
        for (key, value) in role.keys(&delivery_timeout_ms) {
            config.set(key, value);
        }
        for (key, value) in &self.properties {
            config.set(key, value);
        }
        let credentials = &self.credentials;
        config
            .set("security.protocol", "SASL_SSL")
            .set("sasl.mechanism", "SCRAM-SHA-512")
            .set("sasl.username", &credentials.user)
            .set("sasl.password", &credentials.password)
            .set("ssl.ca.location", credentials.ca_file.to_string_lossy())
            // librdkafka's default too, since 2.0: said here, as it is what TLS is for.
            .set("ssl.endpoint.identification.algorithm", "https")
            .set("enable.ssl.certificate.verification", "true");
        config
    }
}

/// How long a producer built from `config` may take to report a message: its
/// `message.timeout.ms` (the user may have set it).
pub fn delivery_timeout(config: &ClientConfig) -> Duration {
    config
        .get("message.timeout.ms")
        .and_then(|ms| ms.parse().ok())
        .map(Duration::from_millis)
        // librdkafka's own default.
        .unwrap_or(Duration::from_secs(300))
}

/// The operator's properties: those of `--kafka-options-file` (if any), then the
/// `--kafka-option`s, so the command line wins.
///
/// The file is for secrets (`sasl.password`, `ssl.key.password`): a file, such as a systemd
/// credential, keeps them off the command line. `KEY=VALUE` per line; blank lines and lines
/// starting with `#` are skipped. Errors name the file and line, never a value.
pub fn user_properties(
    file: Option<&Path>,
    options: &[(String, String)],
) -> Result<Vec<(String, String)>, KafkaConfigError> {
    let mut properties = Vec::new();
    if let Some(path) = file {
        let text =
            std::fs::read_to_string(path).map_err(|source| KafkaConfigError::OptionsFile {
                path: path.to_path_buf(),
                source,
            })?;
        for (index, line) in text.lines().enumerate() {
            let line = line.trim_start();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let property = parse_property(line).map_err(|_| KafkaConfigError::OptionsFileLine {
                path: path.to_path_buf(),
                line: index + 1,
            })?;
            properties.push(property);
        }
    }
    properties.extend(options.iter().cloned());
    Ok(properties)
}

/// `KEY=VALUE`, as given to `--kafka-option`.
pub fn parse_property(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => {
            Ok((key.trim().to_string(), value.to_string()))
        }
        _ => Err(format!(
            "{text:?} is not KEY=VALUE (a librdkafka property, e.g. message.timeout.ms=5000)"
        )),
    }
}

/// Fixtures of the Kafka modules' unit tests (and the consumer's), which start no client.
#[cfg(test)]
pub(crate) mod test_support {
    use std::path::PathBuf;

    use super::KafkaClientSettings;
    use crate::kafka::KafkaCredentials;

    /// Credentials for unit tests, which start no client: any readable file will do as the CA,
    /// since librdkafka reads it only when a client starts.
    pub(crate) fn test_credentials() -> KafkaCredentials {
        KafkaCredentials {
            user: "mhfz-test".into(),
            password: "hunter2".into(),
            ca_file: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")),
        }
    }

    pub(crate) fn settings(properties: &[(&str, &str)]) -> KafkaClientSettings {
        KafkaClientSettings::new("127.0.0.1:9092", "mhfz-test", test_credentials()).with_properties(
            properties
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }
}

#[cfg(test)]
pub(crate) use test_support::test_credentials;

#[cfg(test)]
mod tests {
    use super::test_support::settings;
    use super::*;

    fn with_brokers(brokers: &str, client_id: &str) -> KafkaClientSettings {
        KafkaClientSettings::new(brokers, client_id, test_credentials())
    }

    #[test]
    fn properties_are_key_equals_value() {
        assert_eq!(
            parse_property("linger.ms=5").unwrap(),
            ("linger.ms".to_string(), "5".to_string())
        );
        assert_eq!(parse_property("a=b=c").unwrap().1, "b=c");
        for bad in ["linger.ms", "=5", ""] {
            assert!(parse_property(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_built_librdkafka_speaks_sasl_ssl_with_scram() {
        let native = ClientConfig::new().create_native_config().unwrap();
        let features = native.get("builtin.features").unwrap();
        let features: Vec<&str> = features.split(',').collect();
        for feature in ["ssl", "sasl_scram"] {
            assert!(features.contains(&feature), "{feature} in {features:?}");
        }
        // librdkafka refuses both values when built without OpenSSL.
        ClientConfig::new()
            .set("security.protocol", "SASL_SSL")
            .set("sasl.mechanism", "SCRAM-SHA-512")
            .create_native_config()
            .unwrap();
        settings(&[]).validate().unwrap();
    }

    #[test]
    fn every_client_logs_in_with_scram_over_tls_verifying_the_broker() {
        // Unvalidated, so that client_config itself must keep the security keys.
        let settings = settings(&[
            ("socket.keepalive.enable", "true"),
            ("security.protocol", "PLAINTEXT"),
            ("enable.ssl.certificate.verification", "false"),
        ]);
        let ca_file = test_credentials().ca_file.display().to_string();
        for role in ClientRole::ALL {
            let config = settings.client_config(role);
            for (key, value) in [
                ("security.protocol", "SASL_SSL"),
                ("sasl.mechanism", "SCRAM-SHA-512"),
                ("sasl.username", "mhfz-test"),
                ("sasl.password", "hunter2"),
                ("ssl.ca.location", ca_file.as_str()),
                ("ssl.endpoint.identification.algorithm", "https"),
                ("enable.ssl.certificate.verification", "true"),
                ("socket.keepalive.enable", "true"),
                ("bootstrap.servers", "127.0.0.1:9092"),
            ] {
                assert_eq!(config.get(key), Some(value), "{role:?}: {key}");
            }
            assert!(config.get("client.id").unwrap().starts_with("mhfz-test"));
        }
    }

    #[test]
    fn security_options_are_refused_naming_the_flag_to_use() {
        for (key, flag) in [
            ("security.protocol", "--kafka-ca-file"),
            ("sasl.mechanism", "--kafka-user"),
            ("sasl.mechanisms", "--kafka-user"),
            ("sasl.username", "--kafka-user"),
            ("sasl.password", "--kafka-password-file"),
            ("ssl.ca.location", "--kafka-ca-file"),
            ("ssl.ca.pem", "--kafka-ca-file"),
            ("ssl.ca.certificate.stores", "--kafka-ca-file"),
            ("enable.ssl.certificate.verification", "--kafka-ca-file"),
            ("ssl.endpoint.identification.algorithm", "--kafka-ca-file"),
            ("metadata.broker.list", "--kafka"),
        ] {
            let error = settings(&[(key, "x")]).validate().unwrap_err().to_string();
            assert!(
                error.contains(key) && error.contains(flag) && !error.contains("=x"),
                "{key}: {error}"
            );
        }
    }

    #[test]
    fn each_role_adds_only_its_own_keys_and_the_user_s_come_last() {
        let settings = settings(&[("acks", "1"), ("message.timeout.ms", "5000")]);
        let producer = settings.client_config(ClientRole::Producer);
        assert_eq!(producer.get("acks"), Some("1"));
        assert_eq!(producer.get("compression.type"), Some("lz4"));
        assert_eq!(delivery_timeout(&producer), Duration::from_secs(5));

        let dead_letters = settings.client_config(ClientRole::DeadLetterProducer);
        assert_eq!(dead_letters.get("enable.idempotence"), Some("true"));
        assert_eq!(dead_letters.get("compression.type"), None);
        assert_eq!(
            dead_letters.get("client.id"),
            Some("mhfz-test-dead-letters")
        );

        let consumer = settings.client_config(ClientRole::Consumer {
            group: "g",
            instance: None,
        });
        assert_eq!(consumer.get("group.id"), Some("g"));
        assert_eq!(consumer.get("group.instance.id"), None);
        let static_member = settings.client_config(ClientRole::Consumer {
            group: "g",
            instance: Some("pipeline-1"),
        });
        assert_eq!(static_member.get("group.instance.id"), Some("pipeline-1"));
        assert_eq!(consumer.get("enable.auto.commit"), Some("false"));
        assert_eq!(consumer.get("enable.idempotence"), None);

        let admin = settings.client_config(ClientRole::Admin);
        assert_eq!(admin.get("group.id"), None);
        assert_eq!(admin.get("enable.idempotence"), None);
        assert_eq!(admin.get("client.id"), Some("mhfz-test-admin"));
    }

    #[test]
    fn bad_settings_are_refused_naming_the_input() {
        let missing_ca = KafkaClientSettings::new(
            "a:1",
            "x",
            KafkaCredentials {
                ca_file: PathBuf::from("/nonexistent/kafka-ca.pem"),
                ..test_credentials()
            },
        );
        let cases: [(KafkaClientSettings, &str); 7] = [
            (with_brokers(" ", "x"), "no Kafka broker"),
            (with_brokers("a:1,,b:2", "x"), "\"a:1,,b:2\""),
            (with_brokers("a:1", ""), "client id"),
            (missing_ca, "/nonexistent/kafka-ca.pem (--kafka-ca-file)"),
            (
                settings(&[("enable.auto.commit", "true")]),
                "enable.auto.commit",
            ),
            (settings(&[("no.such.property", "1")]), "no.such.property"),
            (settings(&[("linger.ms", "soon")]), "linger.ms"),
        ];
        for (settings, expected) in cases {
            let error = settings.validate().unwrap_err().to_string();
            assert!(error.contains(expected), "{expected}: {error}");
        }
    }

    #[test]
    fn the_options_file_comes_first_and_its_errors_hide_values() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kafka.properties");
        std::fs::write(
            &path,
            "# secrets\n\nssl.key.password=s3cret=x\n  linger.ms=5\n",
        )
        .unwrap();
        let options = vec![("linger.ms".to_string(), "7".to_string())];
        let properties = user_properties(Some(&path), &options).unwrap();
        assert_eq!(
            properties,
            [
                ("ssl.key.password".to_string(), "s3cret=x".to_string()),
                ("linger.ms".to_string(), "5".to_string()),
                ("linger.ms".to_string(), "7".to_string()),
            ]
        );
        let config = settings(&[]).with_properties(properties);
        assert_eq!(
            config.client_config(ClientRole::Producer).get("linger.ms"),
            Some("7")
        );

        std::fs::write(&path, "ssl.key.password=fine\nsecret-without-equals\n").unwrap();
        let error = user_properties(Some(&path), &[]).unwrap_err().to_string();
        assert!(
            error.contains("line 2") && error.contains("kafka.properties"),
            "{error}"
        );
        assert!(!error.contains("secret-without-equals"), "{error}");
        let missing = dir.path().join("missing");
        let error = user_properties(Some(&missing), &[])
            .unwrap_err()
            .to_string();
        assert!(error.contains("missing"), "{error}");
    }
}
