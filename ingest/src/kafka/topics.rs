//! The platform's topics and their explicit creation (the broker does not create topics on
//! first use).
//!
//! `topics.json` beside this file is the one definition of the topics (name, partitions,
//! configs). A data file rather than Rust code because two readers need it at different
//! times: the programs embed it here (the scraper creates the topics on a development stack,
//! the consumer's defaults name them), and the Ansible playbook `ansible/deploy_kafka.yml`
//! reads the same file on the controller and hands it to the generic kafka role, before any
//! program is installed anywhere. What depends on the cluster's size is not in it: the
//! replication factor is a parameter (`--replication-factor`, the kafka role's
//! `kafka_default_replication_factor`), and `min.insync.replicas` is the brokers' setting
//! every topic inherits.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::error::KafkaError;
use rdkafka::types::RDKafkaErrorCode;
use serde::Deserialize;

use super::client::{ClientRole, KafkaClientSettings};
use super::KafkaSinkError;

/// One topic of the platform, as `topics.json` defines it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicDefinition {
    pub name: String,
    pub partitions: i32,
    /// Topic-level configs (`retention.ms`, `cleanup.policy`, ...).
    pub configs: BTreeMap<String, String>,
}

impl TopicDefinition {
    /// This topic under `name` (a test's or an operator's own), replicated `replication_factor` times.
    pub fn spec(&self, name: &str, replication_factor: i32) -> TopicSpec {
        TopicSpec {
            name: name.to_string(),
            partitions: self.partitions,
            replication_factor,
            configs: self.configs.clone(),
        }
    }
}

/// The records topic the scraper writes and the consumer reads, and the consumer's
/// dead-letter topic.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlatformTopics {
    pub records: TopicDefinition,
    pub dead_letters: TopicDefinition,
}

/// The definitions of `topics.json`, embedded at build time.
pub fn platform_topics() -> &'static PlatformTopics {
    static TOPICS: OnceLock<PlatformTopics> = OnceLock::new();
    TOPICS.get_or_init(|| {
        // A unit test parses the file: a bad one never gets past `cargo test`.
        serde_json::from_str(include_str!("topics.json")).expect("topics.json is valid")
    })
}

/// A topic to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicSpec {
    pub name: String,
    pub partitions: i32,
    pub replication_factor: i32,
    pub configs: BTreeMap<String, String>,
}

/// What creating one topic came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TopicStatus {
    Created,
    /// Left as it is (its partitions, replication and configs are not changed).
    AlreadyExisted,
}

/// Creates `topics`; one that already exists is fine. Fails on the first topic that could not
/// be created.
pub fn create_topics(
    settings: &KafkaClientSettings,
    topics: &[TopicSpec],
) -> Result<Vec<(String, TopicStatus)>, KafkaSinkError> {
    settings.validate()?;
    let admin: AdminClient<DefaultClientContext> = settings
        .client_config(ClientRole::Admin)
        .create()
        .map_err(|source| KafkaSinkError::Client {
            brokers: settings.brokers.clone(),
            source,
        })?;
    let new_topics: Vec<NewTopic> = topics
        .iter()
        .map(|topic| {
            let new = NewTopic::new(
                &topic.name,
                topic.partitions,
                TopicReplication::Fixed(topic.replication_factor),
            );
            topic
                .configs
                .iter()
                .fold(new, |new, (key, value)| new.set(key, value))
        })
        .collect();
    let options = AdminOptions::new()
        .request_timeout(Some(settings.request_timeout))
        .operation_timeout(Some(settings.request_timeout));
    let results = futures_executor::block_on(admin.create_topics(&new_topics, &options))
        // The whole request failed (no broker answered...): it failed for the first topic.
        .map_err(|error| {
            // rdkafka_error_code() leaves out the code of a failed admin request.
            let code = match error {
                KafkaError::AdminOp(code) => Some(code),
                _ => error.rdkafka_error_code(),
            };
            KafkaSinkError::CreateTopic {
                topic: topics.first().map(|t| t.name.clone()).unwrap_or_default(),
                brokers: settings.brokers.clone(),
                reason: settings.describe_failure(code, &error),
            }
        })?;
    results
        .into_iter()
        .map(|result| match result {
            Ok(name) => Ok((name, TopicStatus::Created)),
            Err((name, RDKafkaErrorCode::TopicAlreadyExists)) => {
                Ok((name, TopicStatus::AlreadyExisted))
            }
            Err((topic, code)) => Err(KafkaSinkError::CreateTopic {
                topic,
                brokers: settings.brokers.clone(),
                reason: settings.describe_failure(Some(code), &code),
            }),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kafka::DEAD_LETTER_SUFFIX;

    #[test]
    fn the_topic_definitions_parse_and_hang_together() {
        let topics = platform_topics();
        assert_eq!(
            topics.dead_letters.name,
            format!("{}{DEAD_LETTER_SUFFIX}", topics.records.name),
            "the consumer's and scraper's default dead-letter name is <topic>{DEAD_LETTER_SUFFIX}"
        );
        for topic in [&topics.records, &topics.dead_letters] {
            assert!(topic.partitions >= 1, "{topic:?}");
            assert!(
                !topic.configs.contains_key("min.insync.replicas"),
                "min.insync.replicas depends on the cluster: the brokers set it"
            );
        }
        let spec = topics.records.spec("mine", 2);
        assert_eq!((spec.name.as_str(), spec.replication_factor), ("mine", 2));
        assert_eq!(spec.configs, topics.records.configs);
    }
}
