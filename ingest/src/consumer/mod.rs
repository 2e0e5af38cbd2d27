//! `mhfz-consumer`: Kafka topic → PostgreSQL, at least once, with idempotent upserts.
//!
//! One module per concern:
//!
//! - [`config`]: the settings, validated before anything is built;
//! - [`decode`]: a message value → a valid record, or the reason it is not one;
//! - [`dead_letter`]: invalid messages and rejected rows → the dead-letter topic;
//! - [`store`]: batches → PostgreSQL, with bounded retries and row-by-row isolation;
//! - [`metrics`]: the counters and the Prometheus `/metrics` endpoint;
//! - [`run`]: the poll → batch → write → commit loop.
//!
//! Offsets are committed only after the batch's database transaction has committed and every
//! dead letter of the batch has been acknowledged by the broker, so a crash at any point
//! re-delivers messages (written again as unchanged rows) and never loses one.

pub mod cli;
pub mod config;
pub mod dead_letter;
pub mod decode;
mod error;
pub mod metrics;
pub mod run;
pub mod store;

pub use config::ConsumerConfig;
pub use error::ConsumerError;
pub use run::{run, RunSummary};
