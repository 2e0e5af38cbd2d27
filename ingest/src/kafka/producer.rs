//! The Kafka [`RecordSink`]: one message per record, keyed by weapon id, and a count of every
//! delivery report.

use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use mhfz_record::{Envelope, WeaponRecord};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::Message;
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::ClientContext;

use super::client::{delivery_timeout, ClientRole, KafkaClientSettings};
use super::refusal::{KafkaRefusal, RefusalWatch};
use super::KafkaSinkError;
use crate::parse::{PageRef, RejectedRow};
use crate::scrape::{OutputError, RecordSink};

/// Failed weapon ids kept for the error message.
const SAMPLE_SIZE: usize = 5;
/// Beyond the delivery bound, how long `finish` waits for the last reports.
const FLUSH_MARGIN: Duration = Duration::from_secs(30);
/// How long `finish` waits at a time before looking for a refusal.
const FLUSH_SLICE: Duration = Duration::from_millis(100);

/// Every record sent was acknowledged by the broker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryReport {
    pub topic: String,
    pub scrape_run_id: String,
    pub acknowledged: u64,
}

#[derive(Debug, Default)]
struct Deliveries {
    acknowledged: u64,
    failed: u64,
    sample: Vec<String>,
    first_error: Option<KafkaError>,
}

impl Deliveries {
    fn reported(&self) -> u64 {
        self.acknowledged + self.failed
    }

    fn fail(&mut self, weapon_id: String, error: &KafkaError) {
        self.failed += 1;
        if self.sample.len() < SAMPLE_SIZE {
            self.sample.push(weapon_id);
        }
        self.first_error.get_or_insert_with(|| error.clone());
    }
}

/// Counts the delivery reports, which arrive on the producer's polling thread, and watches its
/// error events for a refusal.
#[derive(Default)]
struct DeliveryCounter {
    deliveries: Mutex<Deliveries>,
    refusals: RefusalWatch,
}

impl DeliveryCounter {
    fn deliveries(&self) -> std::sync::MutexGuard<'_, Deliveries> {
        // A panic elsewhere cannot leave the counts half-updated: use them as they are.
        self.deliveries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl ClientContext for DeliveryCounter {
    fn error(&self, error: KafkaError, reason: &str) {
        self.refusals.observe(&error, reason);
    }
}

impl ProducerContext for DeliveryCounter {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        let mut deliveries = self.deliveries();
        match result {
            Ok(_) => deliveries.acknowledged += 1,
            Err((error, message)) => {
                let weapon_id = String::from_utf8_lossy(message.key().unwrap_or_default());
                deliveries.fail(weapon_id.into_owned(), error);
            }
        }
    }
}

/// Sends each record to `topic` as an [`Envelope`] in JSON, keyed by its weapon id, with
/// idempotence, `acks=all` and lz4 compression.
pub struct KafkaSink {
    producer: ThreadedProducer<DeliveryCounter>,
    /// To name a refusal: the brokers, the user.
    settings: KafkaClientSettings,
    topic: String,
    scrape_run_id: String,
    /// Handed to librdkafka, which copies it: reused for every record.
    payload: Vec<u8>,
    sent: u64,
    delivery_timeout: Duration,
}

impl KafkaSink {
    /// A producer for `topic` (which must exist: see [`super::create_topics`]).
    pub fn new(settings: &KafkaClientSettings, topic: &str) -> Result<KafkaSink, KafkaSinkError> {
        settings.validate()?;
        let config = settings.client_config(ClientRole::Producer);
        let message_timeout = delivery_timeout(&config);
        let producer = config
            .create_with_context(DeliveryCounter::default())
            .map_err(|source| KafkaSinkError::Client {
                brokers: settings.brokers.clone(),
                source,
            })?;
        Ok(KafkaSink {
            producer,
            settings: settings.clone(),
            topic: topic.to_string(),
            scrape_run_id: uuid::Uuid::now_v7().to_string(),
            payload: Vec::with_capacity(4096),
            sent: 0,
            delivery_timeout: message_timeout + FLUSH_MARGIN,
        })
    }

    pub fn scrape_run_id(&self) -> &str {
        &self.scrape_run_id
    }

    /// Sends one record, waiting while librdkafka's queue is full. A record librdkafka refuses
    /// outright (too large, ...) counts as not acknowledged.
    fn send(&mut self, record: &WeaponRecord, scraped_at: &str) {
        self.payload.clear();
        let envelope = Envelope::new(self.scrape_run_id.as_str(), scraped_at, record);
        serde_json::to_writer(&mut self.payload, &envelope)
            .expect("a weapon record serializes to JSON");
        let key = record.weapon_id.as_str();
        self.sent += 1;
        let mut message = BaseRecord::to(&self.topic).key(key).payload(&self.payload);
        loop {
            match self.producer.send(message) {
                Ok(()) => return,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), returned)) => {
                    // The polling thread frees the queue as reports come in.
                    message = returned;
                    thread::sleep(Duration::from_millis(10));
                }
                Err((error, _)) => {
                    self.producer
                        .context()
                        .deliveries()
                        .fail(key.to_string(), &error);
                    return;
                }
            }
        }
    }

    /// The refusal the producer met, if any: librdkafka would retry it until the deliveries
    /// time out.
    fn refused(&self) -> Result<(), KafkaRefusal> {
        match self.producer.context().refusals.refusal(&self.settings) {
            Some(refusal) => Err(refusal),
            None => Ok(()),
        }
    }

    /// Waits for every delivery report. Succeeds only if every record sent was acknowledged.
    pub fn finish(self) -> Result<DeliveryReport, KafkaSinkError> {
        // librdkafka reports every message within message.timeout.ms; the deadline only
        // guards against a report that never comes. The queue can be empty while the polling
        // thread is still running the last delivery callbacks: wait until every record sent
        // has been counted one way or the other. In slices, so that a refusal ends the wait.
        let deadline = Instant::now() + self.delivery_timeout;
        let mut flushed = Ok(());
        while self.producer.context().deliveries().reported() < self.sent
            && Instant::now() < deadline
        {
            self.refused()?;
            flushed = self.producer.flush(FLUSH_SLICE);
            if flushed.is_ok() {
                thread::sleep(Duration::from_millis(10));
            }
        }
        let deliveries = self.producer.context().deliveries();
        let unacknowledged = self.sent - deliveries.acknowledged;
        if unacknowledged == 0 {
            return Ok(DeliveryReport {
                topic: self.topic.clone(),
                scrape_run_id: self.scrape_run_id.clone(),
                acknowledged: deliveries.acknowledged,
            });
        }
        Err(KafkaSinkError::Unacknowledged {
            topic: self.topic.clone(),
            sent: self.sent,
            unacknowledged,
            sample: deliveries.sample.clone(),
            first_error: deliveries
                .first_error
                .as_ref()
                .map(|error| {
                    self.settings
                        .describe_failure(error.rdkafka_error_code(), error)
                })
                .or_else(|| flushed.err().map(|error| error.to_string())),
        })
    }
}

impl RecordSink for KafkaSink {
    fn write_page(
        &mut self,
        _page: &PageRef,
        records: &[WeaponRecord],
        _rejects: &[RejectedRow],
    ) -> Result<(), OutputError> {
        // A refusal stops the scrape: no record of it could be delivered.
        self.refused()?;
        let scraped_at = humantime::format_rfc3339_millis(SystemTime::now()).to_string();
        for record in records {
            self.send(record, &scraped_at);
        }
        Ok(())
    }
}
