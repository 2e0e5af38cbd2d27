//! `mhfz-pipeline run`: one batch run, export → streaming job → reconciliation → Hive load.
//!
//! 1. **export** ([`crate::export`]): the weapons changed since the last successful run, as
//!    NDJSON, to HDFS (Hadoop engine) or a local scratch file (Spark, local);
//! 2. **job** ([`engine`]): mapper, combiner and reducer on the chosen [`Engine`];
//! 3. **reconcile** ([`reconcile`]): rows exported = records the job's mappers read = records
//!    they counted, and the reducers' row count = rows in the output;
//! 4. **load** ([`crate::loader`]): the output becomes the run's partition of the Hive table;
//! 5. **report** ([`weapon_report`]): once the run is recorded, its HTML weapon report is placed
//!    beside the partitions and kept as the host's latest.
//!
//! # Nothing lost, nothing twice
//!
//! The export is one REPEATABLE READ transaction ([`mhfz_store::begin_export`]) that stays
//! **open** through the job and the load, and is committed ([`mhfz_store::Export::finish`],
//! which records the export and so advances the watermark) only once the run is in Hive. Any
//! failure before that rolls it back: the watermark stays where it was and the next run
//! exports the same rows again (under a new run id). The one window left is the commit itself
//! failing after the load: the run's partition stays in Hive and the next run exports its rows
//! again, in its own partition.
//!
//! # Overlapping runs
//!
//! A run holds a `flock` on a lock file ([`lock`]) on its host, and the export's advisory lock
//! in PostgreSQL (taken without waiting, held until the commit or rollback), which refuses a
//! run from any other host sharing the database. Either refusal is [`EXIT_LOCKED`].
//!
//! When nothing changed since the last run, nothing runs: no job, no partition, no export
//! recorded.

pub mod counters;
pub mod engine;
pub mod lock;
pub mod metrics;
pub mod reconcile;
pub mod report;
pub mod weapon_report;

use std::fmt;
use std::path::PathBuf;
use std::time::{Instant, SystemTime};

use mhfz_store::{begin_export, Export, ExportRun, ExportScope, StoreError};
use postgres::Client;
use tempfile::TempDir;

use crate::export::{write_rows, Destination, ExportError, ExportOptions};
use crate::hive::{HiveError, HiveTable, RunId};
use crate::loader::beeline::Beeline;
use crate::loader::placement::{FileSystem, LocalFileSystem};
use crate::loader::{check_rows, load_run, LoadError, LoadSummary};
use crate::webhdfs::{WebHdfs, WebHdfsError};

pub use engine::{Engine, Executables, HadoopSettings, JobError};
pub use report::{StageLog, StageRecord};
pub use weapon_report::{ReportError, ReportPlaces, ReportSettings};

use self::engine::JobResult;
use self::reconcile::{reconcile, ReconcileError, StageCounts};
use self::weapon_report::{write_report, ReportRun};

/// Exit status when another run holds the lock (`EX_TEMPFAIL`: try again later).
pub const EXIT_LOCKED: u8 = 75;
/// Exit status when the run is loaded and recorded but its report could not be written.
pub const EXIT_REPORT: u8 = 6;
/// Exit status of a command-line usage error (`EX_USAGE`; clap's 2 is the export's).
pub const EXIT_USAGE: u8 = 64;

/// A stage of a run. Its exit status is the run's when it fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Stage {
    Export,
    Job,
    Load,
    Reconcile,
}

impl Stage {
    pub const ALL: [Stage; 4] = [Stage::Export, Stage::Job, Stage::Load, Stage::Reconcile];

    /// The `stage` label and the name in messages.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Export => "export",
            Stage::Job => "job",
            Stage::Load => "load",
            Stage::Reconcile => "reconcile",
        }
    }

    pub fn exit_code(self) -> u8 {
        match self {
            Stage::Export => 2,
            Stage::Job => 3,
            Stage::Load => 4,
            Stage::Reconcile => 5,
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The engine and what it needs.
#[derive(Clone, Debug)]
pub enum EngineSettings {
    Hadoop(HadoopSettings),
    /// The Spark launcher (`scripts/spark-streaming`).
    Spark {
        launcher: PathBuf,
    },
    Local,
}

impl EngineSettings {
    pub fn engine(&self) -> Engine {
        match self {
            EngineSettings::Hadoop(_) => Engine::Hadoop,
            EngineSettings::Spark { .. } => Engine::Spark,
            EngineSettings::Local => Engine::Local,
        }
    }
}

/// Everything a run needs.
#[derive(Clone, Debug)]
pub struct PipelineConfig {
    pub run_id: RunId,
    pub scope: ExportScope,
    pub engine: EngineSettings,
    pub executables: Executables,
    pub reducers: usize,
    /// WebHDFS: needed by the Hadoop engine and by an `hdfs://` table location.
    pub hdfs: Option<WebHdfs>,
    /// HDFS directory of the runs' scratch files (Hadoop engine): `<base>/runs/<run id>/`.
    pub hdfs_base: String,
    /// Local directory for the run's scratch directory (removed at the end).
    pub work_dir: PathBuf,
    pub database: String,
    pub table: String,
    /// The table location: `hdfs://HOST:PORT/PATH` or `file:///PATH`.
    pub location: String,
    pub beeline: Beeline,
    pub report: ReportSettings,
}

/// How a run ended well.
// One value per run: boxing the large variant would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Outcome {
    /// No row changed since the last successful run: nothing ran.
    NothingChanged {
        /// The last export's run number and start time (UTC), if any.
        since: Option<(i64, String)>,
    },
    Loaded {
        export: ExportRun,
        job_id: Option<String>,
        load: LoadSummary,
        /// The run is loaded and recorded either way.
        report: Result<ReportPlaces, ReportError>,
    },
}

/// What failed in a stage.
#[derive(Debug, thiserror::Error)]
pub enum StageError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Export(#[from] ExportError),
    #[error(transparent)]
    Job(#[from] JobError),
    #[error(transparent)]
    Reconcile(#[from] ReconcileError),
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error(transparent)]
    Hive(#[from] HiveError),
    #[error(transparent)]
    Hdfs(#[from] WebHdfsError),
    #[error("creating a scratch directory in {path}", path = .path.display())]
    Scratch {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Setting(&'static str),
}

/// A failed run: the stage and why. Nothing was recorded: the next run exports the same rows.
#[derive(Debug, thiserror::Error)]
#[error("the {stage} stage failed")]
pub struct PipelineError {
    pub stage: Stage,
    #[source]
    pub error: StageError,
}

impl PipelineError {
    /// Another run holds the export lock in PostgreSQL (an overlapping run, maybe on another
    /// host).
    pub fn is_overlap(&self) -> bool {
        matches!(self.error, StageError::Store(StoreError::ExportRunning))
    }

    /// The process exit status: the stage's, or [`EXIT_LOCKED`] for an overlap.
    pub fn exit_code(&self) -> u8 {
        if self.is_overlap() {
            EXIT_LOCKED
        } else {
            self.stage.exit_code()
        }
    }
}

/// The run id of a run started at `time`: its UTC time to the second, without colons (which
/// HDFS paths refuse), e.g. `2026-11-28T122000Z`.
pub fn run_id_at(time: SystemTime) -> RunId {
    let text = humantime::format_rfc3339_seconds(time)
        .to_string()
        .replace(':', "");
    // Digits, `-`, `T` and `Z`: always a valid run id.
    RunId::parse(&text).unwrap_or_else(|_| unreachable!("run id {text:?}"))
}

/// Runs the pipeline once on `client` (the exporter role), filling `log` as stages end.
pub fn run(
    client: &mut Client,
    config: &PipelineConfig,
    log: &mut StageLog,
) -> Result<Outcome, PipelineError> {
    let run_started = SystemTime::now();
    // Export: the rows, under the transaction left open until the load has succeeded.
    let started = Instant::now();
    let begun = begin_counted(client, config.scope).map_err(StageError::from);
    let (mut export, changed) = or_failed(begun, log, Stage::Export, started)?;
    if changed == 0 {
        log.push(Stage::Export, Some(0), started.elapsed(), true);
        let since = export
            .since_run_id()
            .zip(export.since_started_at().map(str::to_string));
        // Dropped: rolled back, nothing recorded.
        return Ok(Outcome::NothingChanged { since });
    }
    let written = write_export(&mut export, config);
    let (rows, destination, scratch, hdfs_run) = or_failed(written, log, Stage::Export, started)?;
    log.push(Stage::Export, Some(rows), started.elapsed(), true);

    let started = Instant::now();
    let job = run_job(config, &scratch, hdfs_run.as_ref());
    let job = or_failed(job, log, Stage::Job, started)?;
    log.skipped_records = Some(job.counters.malformed_records);
    let mapped = job.counters.mapper_input_records;
    log.push(Stage::Job, Some(mapped), started.elapsed(), true);

    // Before anything reaches Hive.
    let started = Instant::now();
    or_failed(check_counts(rows, &job), log, Stage::Reconcile, started)?;
    log.push(Stage::Reconcile, Some(rows), started.elapsed(), true);

    let started = Instant::now();
    let load = or_failed(load(config, &job.parts), log, Stage::Load, started)?;
    log.push(Stage::Load, Some(load.rows), started.elapsed(), true);

    // The run is in Hive: record the export, advancing the watermark.
    let previous_run_started = export.since_started_at().map(str::to_string);
    let started = Instant::now();
    let finished = export.finish(&destination.record_name());
    log.add_time(Stage::Export, started.elapsed());
    let export_run = finished.map_err(|error| {
        log.mark_failed(Stage::Export);
        PipelineError {
            stage: Stage::Export,
            error: error.into(),
        }
    })?;
    drop(hdfs_run);
    let report_run = ReportRun {
        run_id: &config.run_id,
        parts: &job.parts,
        since: previous_run_started.as_deref(),
        until: run_started,
        table: hive_table(config),
    };
    let report = table_file_system(config)
        .map_err(ReportError::Setting)
        .and_then(|fs| write_report(&config.report, &report_run, scratch.path(), fs));
    Ok(Outcome::Loaded {
        export: export_run,
        job_id: job.job_id,
        load,
        report,
    })
}

/// `result`, or its error as `stage`'s, recorded in `log` as failed after `started`.
fn or_failed<T>(
    result: Result<T, StageError>,
    log: &mut StageLog,
    stage: Stage,
    started: Instant,
) -> Result<T, PipelineError> {
    result.map_err(|error| {
        log.push(stage, None, started.elapsed(), false);
        PipelineError { stage, error }
    })
}

/// Runs the job on the configured engine, on the export `write_export` placed.
fn run_job(
    config: &PipelineConfig,
    scratch: &TempDir,
    hdfs_run: Option<&HdfsRunDir>,
) -> Result<JobResult, StageError> {
    let output_dir = scratch.path().join("output");
    let job = match (&config.engine, hdfs_run) {
        (EngineSettings::Hadoop(settings), Some(run_dir)) => engine::run_hadoop(
            settings,
            &config.executables,
            &format!("mhfz-pipeline {}", config.run_id),
            config.reducers,
            (&run_dir.input(), &run_dir.output()),
            &run_dir.hdfs,
            &output_dir,
        )?,
        (EngineSettings::Hadoop(_), None) => return Err(StageError::Setting(NEEDS_WEBHDFS)),
        (EngineSettings::Spark { launcher }, _) => engine::run_spark(
            launcher,
            &config.executables,
            config.reducers,
            &local_input(scratch),
            (&output_dir, scratch.path()),
        )?,
        (EngineSettings::Local, _) => engine::run_local(
            &config.executables,
            config.reducers,
            &local_input(scratch),
            (&output_dir, scratch.path()),
        )?,
    };
    Ok(job)
}

/// Reconciles the export, the job's counters and the rows of its output (checked to be
/// statistics rows).
fn check_counts(exported: u64, job: &JobResult) -> Result<(), StageError> {
    let mut output_rows = 0;
    for part in &job.parts {
        output_rows += check_rows(part)?;
    }
    reconcile(&StageCounts {
        exported,
        job: job.counters.clone(),
        output_rows,
    })?;
    Ok(())
}

const NEEDS_WEBHDFS: &str = "the Hadoop engine needs WebHDFS (MHFZ_WEBHDFS_URL, MHFZ_HDFS_USER)";

/// Writes the export's rows where the engine reads them: HDFS for Hadoop, else the run's local
/// scratch directory (created here). Returns the rows, where they are, and the scratch
/// directories.
fn write_export(
    export: &mut Export<'_>,
    config: &PipelineConfig,
) -> Result<(u64, Destination, TempDir, Option<HdfsRunDir>), StageError> {
    let scratch = tempfile::Builder::new()
        .prefix(&format!("mhfz-pipeline.{}.", config.run_id))
        .tempdir_in(&config.work_dir)
        .map_err(|source| StageError::Scratch {
            path: config.work_dir.clone(),
            source,
        })?;
    let hdfs_run = HdfsRunDir::new(config)?;
    let destination = match &hdfs_run {
        Some(run_dir) => Destination::Hdfs(run_dir.input()),
        None => Destination::File(local_input(&scratch)),
    };
    let options = ExportOptions {
        scope: config.scope,
        destination: destination.clone(),
        hdfs: config.hdfs.clone(),
        progress: false,
    };
    let rows = write_rows(export, &options)?;
    Ok((rows, destination, scratch, hdfs_run))
}

/// The export's file in the local scratch directory (Spark and local engines).
fn local_input(scratch: &TempDir) -> PathBuf {
    scratch.path().join("weapons.ndjson")
}

/// Starts the export and counts the rows it takes.
fn begin_counted(client: &mut Client, scope: ExportScope) -> Result<(Export<'_>, u64), StoreError> {
    let mut export = begin_export(client, scope)?;
    let changed = export.count_rows()?;
    Ok((export, changed))
}

fn load(config: &PipelineConfig, parts: &[PathBuf]) -> Result<LoadSummary, StageError> {
    let fs = table_file_system(config).map_err(StageError::Setting)?;
    Ok(load_run(
        &hive_table(config),
        &config.run_id,
        parts,
        fs,
        &config.beeline,
    )?)
}

fn hive_table(config: &PipelineConfig) -> HiveTable<'_> {
    HiveTable {
        database: &config.database,
        table: &config.table,
        location: &config.location,
    }
}

/// The file system of the table location: HDFS (through WebHDFS) or local.
fn table_file_system(config: &PipelineConfig) -> Result<&dyn FileSystem, &'static str> {
    if config.location.starts_with("hdfs:") {
        match &config.hdfs {
            Some(hdfs) => Ok(hdfs),
            None => {
                Err("an hdfs:// table location needs WebHDFS (MHFZ_WEBHDFS_URL, MHFZ_HDFS_USER)")
            }
        }
    } else {
        Ok(&LocalFileSystem)
    }
}

/// The run's scratch directory on HDFS (Hadoop engine): emptied first (a failed run with the
/// same id may have left it), removed when dropped, whatever the outcome. Its input is the
/// export, re-exported by the next run after a failure.
struct HdfsRunDir {
    hdfs: WebHdfs,
    path: String,
}

impl HdfsRunDir {
    fn new(config: &PipelineConfig) -> Result<Option<HdfsRunDir>, StageError> {
        if config.engine.engine() != Engine::Hadoop {
            return Ok(None);
        }
        let hdfs = config
            .hdfs
            .clone()
            .ok_or(StageError::Setting(NEEDS_WEBHDFS))?;
        let path = format!(
            "{}/runs/{}",
            config.hdfs_base.trim_end_matches('/'),
            config.run_id
        );
        hdfs.delete(&path, true)?;
        Ok(Some(HdfsRunDir { hdfs, path }))
    }

    fn input(&self) -> String {
        format!("{}/input/weapons.ndjson", self.path)
    }

    fn output(&self) -> String {
        format!("{}/output", self.path)
    }
}

impl Drop for HdfsRunDir {
    fn drop(&mut self) {
        // Scratch only: a leftover is harmless, and the next run with this id removes it.
        let _ = self.hdfs.delete(&self.path, true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn run_ids_are_utc_seconds_without_colons() {
        let time = UNIX_EPOCH + Duration::from_secs(1_795_741_323);
        assert_eq!(run_id_at(time).as_str(), "2026-11-27T010203Z");
    }

    #[test]
    fn each_stage_has_its_exit_status() {
        let codes: Vec<u8> = Stage::ALL.iter().map(|s| s.exit_code()).collect();
        assert_eq!(codes, [2, 3, 4, 5]);
        let names: Vec<&str> = Stage::ALL.iter().map(|s| s.name()).collect();
        assert_eq!(names, mhfz_metrics::names::pipeline::STAGES);
        let overlap = PipelineError {
            stage: Stage::Export,
            error: StageError::Store(StoreError::ExportRunning),
        };
        assert_eq!(overlap.exit_code(), EXIT_LOCKED);
    }
}
