//! Messages that cannot be stored go to the dead-letter topic, unchanged, with the reason and
//! their origin in headers, so their partition moves on and nothing is silently dropped.

use std::sync::Mutex;
use std::time::Duration;

use rdkafka::error::KafkaError;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::ClientContext;

use crate::consumer::ConsumerError;
use crate::kafka::client::delivery_timeout;
use crate::kafka::{ClientRole, KafkaClientSettings};

/// Header names of a dead letter.
pub mod headers {
    /// What was wrong, in words.
    pub const ERROR: &str = "mhfz.error";
    /// A short stable name of the kind of problem: `json`, `invalid_record`, `row_rejected`, ...
    pub const ERROR_KIND: &str = "mhfz.error.kind";
    pub const SOURCE_TOPIC: &str = "mhfz.source.topic";
    pub const SOURCE_PARTITION: &str = "mhfz.source.partition";
    pub const SOURCE_OFFSET: &str = "mhfz.source.offset";
}

/// Where a message came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
}

/// One message to dead-letter.
#[derive(Debug, Clone)]
pub struct DeadLetter<'a> {
    pub source: &'a Source,
    pub key: Option<&'a [u8]>,
    pub value: Option<&'a [u8]>,
    pub kind: &'static str,
    pub error: String,
}

/// Counts failed deliveries between [`DeadLetterProducer::acknowledge`] calls.
#[derive(Default)]
struct DeliveryFailures {
    failures: Mutex<(u64, Option<String>)>,
}

impl ClientContext for DeliveryFailures {}

impl ProducerContext for DeliveryFailures {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if let Err((error, _)) = result {
            let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
            failures.0 += 1;
            failures.1.get_or_insert_with(|| error.to_string());
        }
    }
}

/// An idempotent producer to the dead-letter topic.
pub struct DeadLetterProducer {
    topic: String,
    producer: BaseProducer<DeliveryFailures>,
    pending: u64,
    /// How long [`Self::acknowledge`] waits for the broker.
    ack_timeout: Duration,
}

/// Beyond the delivery bound, how long [`DeadLetterProducer::acknowledge`] waits for the reports.
const ACK_MARGIN: Duration = Duration::from_secs(10);

impl DeadLetterProducer {
    /// A producer built from the consumer's own Kafka settings (security and tuning options
    /// included), with the dead-letter role's keys.
    pub fn new(
        settings: &KafkaClientSettings,
        topic: &str,
    ) -> Result<DeadLetterProducer, ConsumerError> {
        let config = settings.client_config(ClientRole::DeadLetterProducer);
        let producer = config
            .create_with_context(DeliveryFailures::default())
            .map_err(ConsumerError::kafka("creating the dead-letter producer"))?;
        Ok(DeadLetterProducer {
            topic: topic.to_string(),
            producer,
            pending: 0,
            ack_timeout: delivery_timeout(&config) + ACK_MARGIN,
        })
    }

    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// Queues one dead letter; [`Self::acknowledge`] waits for it.
    pub fn send(&mut self, letter: &DeadLetter<'_>) -> Result<(), ConsumerError> {
        let partition = letter.source.partition.to_string();
        let offset = letter.source.offset.to_string();
        let headers = OwnedHeaders::new()
            .insert(header(headers::ERROR, letter.error.as_str()))
            .insert(header(headers::ERROR_KIND, letter.kind))
            .insert(header(headers::SOURCE_TOPIC, letter.source.topic.as_str()))
            .insert(header(headers::SOURCE_PARTITION, partition.as_str()))
            .insert(header(headers::SOURCE_OFFSET, offset.as_str()));
        let mut record: BaseRecord<'_, [u8], [u8]> = BaseRecord::to(&self.topic).headers(headers);
        if let Some(key) = letter.key {
            record = record.key(key);
        }
        if let Some(value) = letter.value {
            record = record.payload(value);
        }
        loop {
            match self.producer.send(record) {
                Ok(()) => break,
                // The local queue is full: serve delivery reports, then try again.
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), returned)) => {
                    record = returned;
                    self.producer.poll(Duration::from_millis(100));
                }
                Err((error, _)) => {
                    return Err(ConsumerError::Kafka {
                        context: "queueing a dead letter",
                        source: error,
                    })
                }
            }
        }
        self.pending += 1;
        Ok(())
    }

    /// Waits until the broker has acknowledged every dead letter sent so far; fails when any
    /// was not, so that the caller does not commit the offsets of messages it would lose.
    /// Returns how many were acknowledged.
    pub fn acknowledge(&mut self) -> Result<u64, ConsumerError> {
        if self.pending == 0 {
            return Ok(0);
        }
        self.producer
            .flush(self.ack_timeout)
            .map_err(ConsumerError::kafka(
                "waiting for dead-letter acknowledgements",
            ))?;
        let sent = std::mem::take(&mut self.pending);
        let (failed, first_error) = std::mem::take(
            &mut *self
                .producer
                .context()
                .failures
                .lock()
                .unwrap_or_else(|p| p.into_inner()),
        );
        if failed > 0 {
            return Err(ConsumerError::DeadLetter {
                topic: self.topic.clone(),
                failed,
                first_error: first_error.unwrap_or_default(),
            });
        }
        Ok(sent)
    }
}

fn header<'a>(key: &'a str, value: &'a str) -> Header<'a, &'a str> {
    Header {
        key,
        value: Some(value),
    }
}
