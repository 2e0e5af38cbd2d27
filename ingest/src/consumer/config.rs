//! The consumer's settings, checked before any client is built.

use std::net::SocketAddr;
use std::time::Duration;

use crate::consumer::ConsumerError;
use crate::kafka::KafkaClientSettings;

/// Everything [`crate::consumer::run`] needs besides the database settings.
#[derive(Debug, Clone)]
pub struct ConsumerConfig {
    /// The brokers and the options of both of the consumer's clients (the consumer and the
    /// dead-letter producer).
    pub kafka: KafkaClientSettings,
    pub topic: String,
    pub group: String,
    /// The consumer's static membership id in the group (e.g. its host name); `None`: a dynamic
    /// member, whose restart waits for its old session to expire before it is assigned again.
    pub instance_id: Option<String>,
    pub dead_letter_topic: String,
    /// Most messages in one database transaction.
    pub batch_size: usize,
    /// Longest wait for a batch to fill before writing what has arrived.
    pub batch_timeout: Duration,
    /// `Some(idle)`: stop once partitions are assigned, the lag is 0 and no message arrived
    /// for `idle` (batch use). `None`: run until SIGTERM or SIGINT.
    pub until_idle: Option<Duration>,
    /// Where to serve `/metrics`; `None`: no endpoint.
    pub metrics_addr: Option<SocketAddr>,
    /// Attempts at writing a batch when the database fails transiently.
    pub write_attempts: u32,
}

impl ConsumerConfig {
    /// Checks the settings against each other; returns the first problem found.
    pub fn validate(&self) -> Result<(), ConsumerError> {
        self.kafka.validate()?;
        let problem = if self.topic.is_empty() {
            Some("the topic name is empty".to_string())
        } else if self.group.is_empty() {
            Some("the consumer group name is empty".to_string())
        } else if let Some(problem) = self.instance_id.as_deref().and_then(instance_id_problem) {
            Some(problem)
        } else if self.dead_letter_topic.is_empty() {
            Some("the dead-letter topic name is empty".to_string())
        } else if self.dead_letter_topic == self.topic {
            Some(format!(
                "the dead-letter topic must differ from the topic {:?}",
                self.topic
            ))
        } else if self.batch_size == 0 {
            Some("the batch size must be at least 1".to_string())
        } else if self.batch_timeout.is_zero() {
            Some("the batch timeout must be positive".to_string())
        } else if self.until_idle.is_some_and(|idle| idle.is_zero()) {
            Some("the idle time must be positive".to_string())
        } else if self.write_attempts == 0 {
            Some("at least one write attempt is needed".to_string())
        } else {
            None
        };
        match problem {
            Some(problem) => Err(ConsumerError::Config(problem)),
            None => Ok(()),
        }
    }
}

/// What is wrong with a static instance id: Kafka takes 1 to 249 of `A-Za-z0-9._-`.
fn instance_id_problem(id: &str) -> Option<String> {
    let valid = !id.is_empty()
        && id.len() <= 249
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    (!valid).then(|| {
        format!("the instance id {id:?} must be 1 to 249 letters, digits, '.', '_' or '-'")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> ConsumerConfig {
        ConsumerConfig {
            kafka: KafkaClientSettings::new(
                "127.0.0.1:9092",
                "mhfz-consumer",
                crate::kafka::client::test_credentials(),
            ),
            topic: "weapon_data".into(),
            group: "mhfz-consumer".into(),
            instance_id: Some("pipeline-1".into()),
            dead_letter_topic: "weapon_data.dlq".into(),
            batch_size: 5000,
            batch_timeout: Duration::from_millis(500),
            until_idle: None,
            metrics_addr: None,
            write_attempts: 5,
        }
    }

    #[test]
    fn a_valid_config_passes_and_each_bad_setting_is_named() {
        assert!(valid().validate().is_ok());
        type Break = fn(&mut ConsumerConfig);
        let cases: [(Break, &str); 6] = [
            (|c| c.batch_size = 0, "batch size"),
            (|c| c.dead_letter_topic = c.topic.clone(), "must differ"),
            (|c| c.kafka.brokers = " ".into(), "no Kafka broker"),
            (|c| c.until_idle = Some(Duration::ZERO), "idle time"),
            (|c| c.instance_id = Some(String::new()), "instance id"),
            (|c| c.instance_id = Some("pipeline 1".into()), "instance id"),
        ];
        for (break_it, expected) in cases {
            let mut config = valid();
            break_it(&mut config);
            let error = config.validate().unwrap_err().to_string();
            assert!(error.contains(expected), "{error}");
        }
    }
}
