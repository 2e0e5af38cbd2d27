//! Every metric name of the pipeline, one constant each: the components emit these, and the
//! Prometheus rules, alerts and Grafana dashboards are written from them. Each constant says
//! its type, its labels, and who writes it.
//!
//! Conventions (Prometheus'): `mhfz_<component>_...`; counters end in `_total`, durations are in
//! seconds and end in `_seconds`, timestamps are Unix seconds and end in `_timestamp_seconds`.

/// `mhfz-consumer`'s `/metrics` endpoint (Kafka → PostgreSQL), for the life of the process.
pub mod consumer {
    /// Counter, no labels: Kafka messages consumed (valid or not).
    pub const MESSAGES: &str = "mhfz_consumer_messages_total";
    /// Counter, no labels: rows inserted or updated in PostgreSQL.
    pub const ROWS_WRITTEN: &str = "mhfz_consumer_rows_written_total";
    /// Counter, no labels: records whose stored row already had the same content.
    pub const ROWS_UNCHANGED: &str = "mhfz_consumer_rows_unchanged_total";
    /// Counter, no labels: messages sent to the dead-letter topic.
    pub const DEAD_LETTERS: &str = "mhfz_consumer_dead_letters_total";
    /// Histogram (`_bucket{le=}`, `_sum`, `_count`), no other labels: time to write a batch and
    /// commit its offsets.
    pub const BATCH_DURATION: &str = "mhfz_consumer_batch_duration_seconds";
    /// Gauge, labels `topic`, `partition`: messages behind the partition's high watermark.
    pub const LAG: &str = "mhfz_consumer_lag";
}

/// `mhfz-pipeline run --textfile-dir DIR` (export → streaming job → Hive load), in the
/// node_exporter textfile-collector file [`pipeline::TEXTFILE`], rewritten at the end of
/// every run, failed ones included. Label `stage` is one of [`pipeline::STAGES`].
pub mod pipeline {
    /// The file name in the textfile-collector directory.
    pub const TEXTFILE: &str = "mhfz_pipeline.prom";
    /// The values of the `stage` label, in run order.
    pub const STAGES: [&str; 4] = ["export", "job", "load", "reconcile"];

    /// Gauge, no labels: when the last successful run (or run that found nothing changed)
    /// ended, Unix seconds. Unchanged by a failed run: `time() - this` is the staleness alerts
    /// watch.
    pub const LAST_SUCCESS: &str = "mhfz_pipeline_last_success_timestamp_seconds";
    /// Gauge, no labels: when the last run ended, whatever its outcome, Unix seconds.
    pub const LAST_RUN: &str = "mhfz_pipeline_last_run_timestamp_seconds";
    /// Gauge, no labels: 1 when the last run succeeded (or found nothing changed), 0 when it
    /// failed.
    pub const LAST_RUN_SUCCESS: &str = "mhfz_pipeline_last_run_success";
    /// Gauge, label `stage`: seconds the stage took in the last run that ran it (a failed stage
    /// included; stages after a failure keep their previous value).
    pub const STAGE_DURATION: &str = "mhfz_pipeline_stage_duration_seconds";
    /// Counter, label `stage`: records handled by the stage over all successful runs (export:
    /// rows exported; job: records the mappers read; load: statistics rows loaded into Hive;
    /// reconcile: records checked). A failed run adds nothing: its rows are exported again.
    pub const RECORDS: &str = "mhfz_pipeline_records_total";
    /// Counter, no labels: input lines the mappers skipped as malformed, over every run whose
    /// job finished. The exporter writes only valid records, so any skipped line also fails
    /// the run's reconciliation.
    pub const SKIPPED_RECORDS: &str = "mhfz_pipeline_skipped_records_total";
    /// Counter, label `outcome` (`success`, `nothing_changed`, `failure`): runs ended.
    pub const RUNS: &str = "mhfz_pipeline_runs_total";
    /// Counter, label `stage`: runs that failed in that stage.
    pub const FAILURES: &str = "mhfz_pipeline_failures_total";
}
