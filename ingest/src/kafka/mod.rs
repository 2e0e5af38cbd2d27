//! Kafka output of the scraper: topics created explicitly, then every record sent keyed by its
//! weapon id, with every delivery report accounted for.

mod producer;
mod topics;

use std::time::Duration;

use rdkafka::error::KafkaError;

pub use producer::{DeliveryReport, KafkaSink};
pub use topics::{create_topics, TopicSpec, TopicStatus};

/// The seed's topic name.
pub const DEFAULT_TOPIC: &str = "weapon_data";
/// Dead-letter topic name: `<topic>` followed by this.
pub const DEAD_LETTER_SUFFIX: &str = ".dlq";

/// How to reach the broker; shared by the admin client and the producer.
#[derive(Clone, Debug)]
pub struct KafkaConnection {
    /// `host:port[,host:port...]`.
    pub brokers: String,
    /// Further librdkafka properties, applied last (they override ours).
    pub properties: Vec<(String, String)>,
    /// Bound on admin requests (topic creation).
    pub request_timeout: Duration,
}

impl KafkaConnection {
    fn client_config(&self, ours: &[(&str, &str)]) -> rdkafka::ClientConfig {
        let mut config = rdkafka::ClientConfig::new();
        config
            .set("bootstrap.servers", &self.brokers)
            .set("client.id", "mhfz-scraper");
        for (key, value) in ours {
            config.set(*key, *value);
        }
        for (key, value) in &self.properties {
            config.set(key, value);
        }
        config
    }
}

/// Why records could not be delivered to Kafka.
#[derive(Debug, thiserror::Error)]
pub enum KafkaSinkError {
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn our_settings_yield_to_the_user_s() {
        let connection = KafkaConnection {
            brokers: "127.0.0.1:9092".to_string(),
            properties: vec![("acks".to_string(), "1".to_string())],
            request_timeout: Duration::from_secs(1),
        };
        let config = connection.client_config(&[("acks", "all"), ("linger.ms", "5")]);
        assert_eq!(config.get("acks"), Some("1"));
        assert_eq!(config.get("linger.ms"), Some("5"));
        assert_eq!(config.get("bootstrap.servers"), Some("127.0.0.1:9092"));
    }
}
