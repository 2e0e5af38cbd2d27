//! The loop: poll a batch (size and time bounded), dead-letter what cannot be stored, write
//! the rest in one transaction, wait for the dead letters' acknowledgements, then commit the
//! offsets — in that order, so that a crash anywhere re-delivers instead of losing.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use mhfz_store::{ConnectionSettings, ScrapedRecord, StoreError};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::message::Message;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Offset, TopicPartitionList};

use crate::consumer::dead_letter::{DeadLetter, DeadLetterProducer, Source};
use crate::consumer::decode::{decode, Decoded};
use crate::consumer::metrics::Metrics;
use crate::consumer::store::{Store, Written};
use crate::consumer::{ConsumerConfig, ConsumerError};
use crate::kafka::{ClientRole, KafkaClientSettings};

/// Longest single wait in `poll`, so that a shutdown request is noticed quickly.
const POLL_SLICE: Duration = Duration::from_millis(100);
/// Timeout of the broker requests behind the lag gauge.
const WATERMARK_TIMEOUT: Duration = Duration::from_secs(5);
/// How often the lag gauge is refreshed while messages flow.
const LAG_INTERVAL: Duration = Duration::from_secs(1);

/// Totals of one run.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RunSummary {
    pub messages: u64,
    pub batches: u64,
    pub rows_written: u64,
    pub rows_unchanged: u64,
    pub dead_letters: u64,
}

type PartitionKey = (String, i32);

/// A message that decoded into a valid record, kept raw in case the database refuses it.
struct Accepted {
    decoded: Decoded,
    source: Source,
    key: Option<Vec<u8>>,
    value: Vec<u8>,
}

#[derive(Default)]
struct Batch {
    accepted: Vec<Accepted>,
    /// Next offset to consume, per partition, covering valid and dead-lettered messages.
    next_offsets: BTreeMap<PartitionKey, i64>,
    messages: u64,
    dead_letters: u64,
}

/// Consumes until `shutdown` is set (then finishes the current batch) or, with
/// `until_idle`, until there is nothing left to consume.
pub fn run(
    config: &ConsumerConfig,
    database: ConnectionSettings,
    metrics: &Metrics,
    shutdown: &Arc<AtomicBool>,
) -> Result<RunSummary, ConsumerError> {
    config.validate()?;
    // A wrong password or an untrusted broker stops the consumer here, saying so.
    config.kafka.check_access()?;
    let mut store = Store::open(database, config.write_attempts)?;
    let dead_letters = DeadLetterProducer::new(&config.kafka, &config.dead_letter_topic)?;
    // The loop's own keys (manual commits) come with the consumer role; the user's options
    // cannot turn them off (validate refuses them).
    let consumer: BaseConsumer = config
        .kafka
        .client_config(ClientRole::Consumer {
            group: &config.group,
            instance: config.instance_id.as_deref(),
        })
        .create()
        .map_err(ConsumerError::kafka("creating the consumer"))?;
    for topic in [&config.topic, &config.dead_letter_topic] {
        check_topic_exists(&consumer, &config.kafka, topic)?;
    }
    consumer
        .subscribe(&[&config.topic])
        .map_err(ConsumerError::kafka("subscribing"))?;

    let mut after_write = AfterWrite {
        consumer: &consumer,
        config,
        dead_letters,
        committed: BTreeMap::new(),
        metrics,
        summary: RunSummary::default(),
    };
    let mut last_activity: Option<Instant> = None;
    let mut lag_measured_at: Option<Instant> = None;
    // The database writes run on their own thread: while it writes one batch, this thread
    // polls and decodes the next. At most one batch is in flight, and its offsets are
    // committed here only once its transaction has committed there.
    thread::scope(|scope| {
        let (batches, writer_batches) = mpsc::sync_channel::<Batch>(0);
        let (writer_results, results) = mpsc::channel();
        scope.spawn(move || {
            for batch in writer_batches {
                let written = write_batch(&mut store, &batch);
                if writer_results.send((batch, written)).is_err() {
                    break;
                }
            }
        });
        let mut in_flight = false;
        loop {
            let batch = poll_batch(
                &consumer,
                config,
                &mut after_write.dead_letters,
                metrics,
                shutdown,
            )?;
            if std::mem::take(&mut in_flight) {
                let (done, written) = results.recv().map_err(|_| writer_gone())?;
                after_write.finish(done, written?)?;
            }
            if batch.messages > 0 {
                last_activity = Some(Instant::now());
                batches.send(batch).map_err(|_| writer_gone())?;
                in_flight = true;
            }
            if shutdown.load(Ordering::Relaxed) {
                if in_flight {
                    let (done, written) = results.recv().map_err(|_| writer_gone())?;
                    after_write.finish(done, written?)?;
                }
                eprintln!("mhfz-consumer: stopping on request; the last batch is committed");
                break;
            }
            let assigned = !assignment(&consumer)?.is_empty();
            if assigned && last_activity.is_none() {
                // Idle time counts from the assignment, not from the start.
                last_activity = Some(Instant::now());
            }
            let idle_long_enough = match (config.until_idle, last_activity) {
                (Some(idle), Some(since)) => !in_flight && since.elapsed() >= idle,
                _ => false,
            };
            if idle_long_enough || lag_measured_at.is_none_or(|at| at.elapsed() >= LAG_INTERVAL) {
                let lag = measure_lag(&consumer, &after_write.committed)?;
                let total: i64 = lag.values().sum();
                metrics.set_lag(lag);
                lag_measured_at = Some(Instant::now());
                if idle_long_enough && assigned && total == 0 {
                    break;
                }
            }
        }
        Ok(after_write.summary)
    })
}

/// The writer thread ended without a result: it panicked (the panic is reported when the
/// thread scope ends).
fn writer_gone() -> ConsumerError {
    ConsumerError::Config("the database writer thread stopped unexpectedly".to_string())
}

/// The error that stops the consumer when `error` is a refusal that retrying cannot cure (which
/// librdkafka retries anyway): the broker refused the login, the broker's certificate is not
/// trusted, or the brokers' ACLs deny the user what it was `doing`.
fn refusal(
    kafka: &KafkaClientSettings,
    doing: impl FnOnce() -> String,
    code: Option<RDKafkaErrorCode>,
    error: &dyn std::fmt::Display,
) -> Option<ConsumerError> {
    let code = code?;
    if let Some(refusal) = kafka.refusal(code, &error.to_string()) {
        return Some(refusal.into());
    }
    kafka.authorization_failure(code)?;
    Some(ConsumerError::Unauthorized {
        brokers: kafka.brokers.clone(),
        doing: doing(),
        reason: kafka.describe_failure(Some(code), error),
    })
}

/// The broker never creates topics on first use: a missing one is a setup mistake to report
/// at once, not something to wait for; nor is one the user may not read.
fn check_topic_exists(
    consumer: &BaseConsumer,
    kafka: &KafkaClientSettings,
    topic: &str,
) -> Result<(), ConsumerError> {
    let metadata = consumer
        .fetch_metadata(Some(topic), kafka.request_timeout)
        .map_err(ConsumerError::kafka("reading topic metadata"))?;
    let found = metadata.topics().iter().find(|t| t.name() == topic);
    if let Some(code) = found.and_then(|t| t.error()).map(RDKafkaErrorCode::from) {
        let doing = || format!("reading topic {topic:?}");
        if let Some(refused) = refusal(kafka, doing, Some(code), &code) {
            return Err(refused);
        }
    }
    let missing = found.is_none_or(|t| t.error().is_some() || t.partitions().is_empty());
    if missing {
        return Err(ConsumerError::Config(format!(
            "topic {topic:?} does not exist; create it first (the kafka role, or mhfz-scraper --kafka, creates it)"
        )));
    }
    Ok(())
}

/// Polls until the batch is full, its time is up, or a shutdown is requested. Invalid
/// messages are dead-lettered on the way (their acknowledgement is awaited before the commit).
fn poll_batch(
    consumer: &BaseConsumer,
    config: &ConsumerConfig,
    dead_letters: &mut DeadLetterProducer,
    metrics: &Metrics,
    shutdown: &AtomicBool,
) -> Result<Batch, ConsumerError> {
    let mut batch = Batch::default();
    let deadline = Instant::now() + config.batch_timeout;
    while batch.accepted.len() < config.batch_size && !shutdown.load(Ordering::Relaxed) {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            break;
        }
        let message = match consumer.poll(remaining.min(POLL_SLICE)) {
            None => continue,
            Some(Ok(message)) => message,
            Some(Err(error)) => {
                let doing = || {
                    format!(
                        "consuming topic {:?} as consumer group {:?}",
                        config.topic, config.group
                    )
                };
                let code = error.rdkafka_error_code();
                if let Some(refused) = refusal(&config.kafka, doing, code, &error) {
                    return Err(refused);
                }
                // librdkafka reconnects by itself; these are reports, not failures.
                eprintln!("mhfz-consumer: Kafka: {error}");
                continue;
            }
        };
        let source = Source {
            topic: message.topic().to_string(),
            partition: message.partition(),
            offset: message.offset(),
        };
        batch.messages += 1;
        metrics.add_messages(1);
        batch
            .next_offsets
            .insert((source.topic.clone(), source.partition), source.offset + 1);
        match decode(message.key(), message.payload()) {
            Ok(decoded) => batch.accepted.push(Accepted {
                decoded,
                source,
                key: message.key().map(<[u8]>::to_vec),
                value: message.payload().unwrap_or_default().to_vec(),
            }),
            Err(error) => {
                dead_letters.send(&DeadLetter {
                    source: &source,
                    key: message.key(),
                    value: message.payload(),
                    kind: error.kind(),
                    error: error.to_string(),
                })?;
                batch.dead_letters += 1;
            }
        }
    }
    Ok(batch)
}

/// Writes the batch's valid records in one transaction (on the writer thread).
fn write_batch(store: &mut Store, batch: &Batch) -> Result<Written, StoreError> {
    let started = Instant::now();
    let records: Vec<ScrapedRecord<'_>> = batch
        .accepted
        .iter()
        .map(|accepted| accepted.decoded.as_scraped())
        .collect();
    let mut written = if records.is_empty() {
        Written::default()
    } else {
        store.write(&records)?
    };
    written.duration = started.elapsed();
    Ok(written)
}

/// The polling thread's side of a written batch.
struct AfterWrite<'a> {
    consumer: &'a BaseConsumer,
    config: &'a ConsumerConfig,
    dead_letters: DeadLetterProducer,
    /// Offsets this run committed, per partition.
    committed: BTreeMap<PartitionKey, i64>,
    metrics: &'a Metrics,
    summary: RunSummary,
}

impl AfterWrite<'_> {
    /// After the batch's transaction: dead-letters the rows the database refused, waits for every
    /// dead letter's acknowledgement, then commits the batch's offsets.
    fn finish(&mut self, batch: Batch, written: Written) -> Result<(), ConsumerError> {
        let mut dead_lettered = batch.dead_letters;
        for (index, error) in &written.rejected {
            let accepted = &batch.accepted[*index];
            self.dead_letters.send(&DeadLetter {
                source: &accepted.source,
                key: accepted.key.as_deref(),
                value: Some(&accepted.value),
                kind: "row_rejected",
                error: error.to_string(),
            })?;
            dead_lettered += 1;
        }
        self.dead_letters.acknowledge()?;

        // A partition revoked by a rebalance while the batch was polled belongs to another member
        // now: committing our offset for it could move its position backwards. Its rows are
        // stored anyway; its new owner consumes them again (as unchanged rows).
        let assigned = assignment(self.consumer)?;
        let mut next_offsets = batch.next_offsets;
        next_offsets.retain(|key, _| assigned.contains(key));
        let mut offsets = TopicPartitionList::new();
        for ((topic, partition), next) in &next_offsets {
            offsets
                .add_partition_offset(topic, *partition, Offset::Offset(*next))
                .map_err(ConsumerError::kafka("listing offsets to commit"))?;
        }
        let result = if next_offsets.is_empty() {
            Ok(())
        } else {
            self.consumer.commit(&offsets, CommitMode::Sync)
        };
        match result {
            Ok(()) => self.committed.extend(next_offsets),
            // The rows are stored: the messages come again after a rebalance or restart and are
            // written again as unchanged rows. Nothing is lost by going on.
            // Unless the brokers' ACLs refuse the group: then no commit ever will pass.
            Err(error) => {
                let group = &self.config.group;
                let doing = || format!("committing the offsets of consumer group {group:?}");
                let code = error.rdkafka_error_code();
                if let Some(refused) = refusal(&self.config.kafka, doing, code, &error) {
                    return Err(refused);
                }
                eprintln!(
                    "mhfz-consumer: committing offsets failed (they will be re-consumed): {error}"
                );
            }
        }

        let outcome = written.outcome;
        let rows_written = outcome.inserted + outcome.updated;
        let rows_unchanged = outcome.unchanged + outcome.superseded;
        self.metrics.add_rows(rows_written, rows_unchanged);
        self.metrics.add_dead_letters(dead_lettered);
        self.metrics.observe_batch(written.duration);
        self.summary.messages += batch.messages;
        self.summary.batches += 1;
        self.summary.rows_written += rows_written;
        self.summary.rows_unchanged += rows_unchanged;
        self.summary.dead_letters += dead_lettered;
        Ok(())
    }
}

fn assignment(consumer: &BaseConsumer) -> Result<Vec<PartitionKey>, ConsumerError> {
    let assignment = consumer
        .assignment()
        .map_err(ConsumerError::kafka("reading the assignment"))?;
    Ok(assignment
        .elements()
        .iter()
        .map(|element| (element.topic().to_string(), element.partition()))
        .collect())
}

/// Messages between each assigned partition's committed offset and its high watermark. A
/// partition this run has not committed yet is measured from the group's committed offset,
/// or from its low watermark when the group has none.
fn measure_lag(
    consumer: &BaseConsumer,
    committed: &BTreeMap<PartitionKey, i64>,
) -> Result<BTreeMap<PartitionKey, i64>, ConsumerError> {
    let assigned = assignment(consumer)?;
    let mut group_committed: Option<BTreeMap<PartitionKey, i64>> = None;
    let mut lag = BTreeMap::new();
    for key in assigned {
        let (low, high) = consumer
            .fetch_watermarks(&key.0, key.1, WATERMARK_TIMEOUT)
            .map_err(ConsumerError::kafka("fetching watermarks"))?;
        let position = match committed.get(&key) {
            Some(offset) => Some(*offset),
            None => {
                if group_committed.is_none() {
                    group_committed = Some(committed_offsets(consumer)?);
                }
                group_committed.as_ref().and_then(|c| c.get(&key).copied())
            }
        };
        let position = position.unwrap_or(low).max(low);
        lag.insert(key, (high - position).max(0));
    }
    Ok(lag)
}

fn committed_offsets(
    consumer: &BaseConsumer,
) -> Result<BTreeMap<PartitionKey, i64>, ConsumerError> {
    let list = consumer
        .committed(WATERMARK_TIMEOUT)
        .map_err(ConsumerError::kafka("reading committed offsets"))?;
    Ok(list
        .elements()
        .iter()
        .filter_map(|element| match element.offset() {
            Offset::Offset(offset) => {
                Some(((element.topic().to_string(), element.partition()), offset))
            }
            _ => None,
        })
        .collect())
}
