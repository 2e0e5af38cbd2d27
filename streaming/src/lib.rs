//! Hadoop-streaming programs computing MHFZ weapon statistics.
//!
//! * `mhfz-mapper` ([`mapper`]): weapon records (NDJSON) → `key\tpartial` lines.
//! * `mhfz-reducer` ([`reducer`]): key-sorted partials → output rows ([`row`]): per key a
//!   statistics row, histogram rows or top-N rows, or with `--combiner` merged partials; also
//!   prints the Hive DDL of the three tables ([`hive`]).
//! * `mhfz-exporter` ([`export`]): the weapon records changed in PostgreSQL since the last
//!   export → NDJSON, the mapper's input.
//! * `mhfz-loader` ([`loader`]): a run's statistics rows → its partition of the Hive table
//!   (files placed on HDFS, partition registered through HiveServer2 with beeline).
//! * `mhfz-pipeline` ([`pipeline`]): one batch run, export → streaming job (Hadoop, Spark or
//!   the local runner) → reconciliation → Hive load, recorded only once it is all done.
//! * `mhfz-local-runner` ([`runner`]): runs mapper, optional combiner, `sort` and reducer as
//!   child processes the way Hadoop (or mrjob's local runner) would.
//!
//! Partials are exact aggregates ([`stats`], [`histogram`], [`top`]; typed by key in
//! [`partial`]), so the output is byte-identical whatever the partitioning, combiner use or
//! value order. Keys are described in [`key`], the streaming
//! protocol (lines, counters, status) in [`protocol`].

pub mod cli;
pub mod export;
pub mod histogram;
pub mod hive;
pub mod key;
pub mod loader;
pub mod mapper;
pub mod metric;
pub mod partial;
pub mod pipeline;
pub mod protocol;
pub mod reducer;
pub mod row;
pub mod runner;
pub mod stats;
pub mod summary;
pub mod text;
pub mod top;
pub mod webhdfs;
