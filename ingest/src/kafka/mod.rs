//! Kafka: how the programs' clients reach the cluster, the platform's topics and the scraper's
//! output.
//!
//! - [`client`]: the one client configuration: brokers, roles, the operator's options, validation.
//! - `credentials`: who every client logs in as (user, password file, CA) and the flags giving it.
//! - `refusal`: a login or certificate the brokers refuse, caught at once rather than retried.
//! - [`topics`]: the platform's topics, as `topics.json` defines them, created explicitly.
//! - `producer`: the scraper's output: each record sent keyed by weapon id, every report counted.

pub mod client;
mod credentials;
mod producer;
mod refusal;
pub mod topics;

use rdkafka::error::KafkaError;

pub use client::{
    parse_property, user_properties, ClientRole, KafkaClientSettings, KafkaConfigError,
};
pub use credentials::{KafkaCredentialArgs, KafkaCredentials};
pub use producer::{DeliveryReport, KafkaSink};
pub use refusal::{KafkaRefusal, RefusalWatch};
pub use topics::{
    create_topics, platform_topics, PlatformTopics, TopicDefinition, TopicSpec, TopicStatus,
};

/// Dead-letter topic name of a records topic: `<topic>` followed by this.
pub const DEAD_LETTER_SUFFIX: &str = ".dlq";

/// Why records could not be delivered to Kafka.
#[derive(Debug, thiserror::Error)]
pub enum KafkaSinkError {
    #[error(transparent)]
    Config(#[from] KafkaConfigError),
    #[error(transparent)]
    Refused(#[from] KafkaRefusal),
    #[error("cannot set up a Kafka client for {brokers}: {source}")]
    Client {
        brokers: String,
        #[source]
        source: KafkaError,
    },
    #[error("cannot create Kafka topic {topic:?} on {brokers}: {reason}")]
    CreateTopic {
        topic: String,
        brokers: String,
        reason: String,
    },
    #[error(
        "{unacknowledged} of {sent} records were not acknowledged by Kafka topic {topic:?} \
         (for example {}){}",
        sample.join(", "),
        first_error.as_ref().map(|e| format!(": {e}")).unwrap_or_default()
    )]
    Unacknowledged {
        topic: String,
        sent: u64,
        unacknowledged: u64,
        /// The first few weapon ids that were not acknowledged.
        sample: Vec<String>,
        first_error: Option<String>,
    },
}
