//! What stops the consumer.

use mhfz_store::StoreError;
use rdkafka::error::KafkaError;

use crate::kafka::{KafkaConfigError, KafkaRefusal};

#[derive(Debug, thiserror::Error)]
pub enum ConsumerError {
    #[error("invalid configuration: {0}")]
    Config(String),

    #[error("invalid Kafka configuration: {0}")]
    KafkaConfig(#[from] KafkaConfigError),

    #[error(transparent)]
    KafkaRefused(#[from] KafkaRefusal),

    /// The brokers' ACLs deny the consumer's user what it asked: retrying cannot help.
    #[error("Kafka at {brokers}: {doing}: {reason}")]
    Unauthorized {
        brokers: String,
        doing: String,
        reason: String,
    },

    #[error("Kafka: {context}: {source}")]
    Kafka {
        context: &'static str,
        source: KafkaError,
    },

    #[error(transparent)]
    Store(#[from] StoreError),

    #[error("dead-letter topic {topic}: {failed} message(s) not acknowledged: {first_error}")]
    DeadLetter {
        topic: String,
        failed: u64,
        first_error: String,
    },

    #[error("metrics endpoint on {addr}: {message}")]
    Metrics { addr: String, message: String },
}

impl ConsumerError {
    pub(crate) fn kafka(context: &'static str) -> impl FnOnce(KafkaError) -> ConsumerError {
        move |source| ConsumerError::Kafka { context, source }
    }
}
