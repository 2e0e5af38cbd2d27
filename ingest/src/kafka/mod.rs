//! Kafka: the one client configuration ([`client`]), the platform's topics ([`topics`]) and the
//! scraper's output (topics created explicitly, then every record sent keyed by its weapon id,
//! with every delivery report accounted for).

pub mod client;
mod producer;
pub mod topics;

use rdkafka::error::KafkaError;

pub use client::{
    parse_property, user_properties, ClientRole, KafkaClientSettings, KafkaConfigError,
};
pub use producer::{DeliveryReport, KafkaSink};
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
