//! `mhfz-exporter`: the weapons changed in PostgreSQL since the last successful export, as
//! NDJSON weapon records — the same lines `mhfz-scraper` writes, so the mapper reads either.
//!
//! The rows and the watermark are the store's business ([`mhfz_store::begin_export`]: one
//! REPEATABLE READ transaction, the previous export's snapshot as the watermark). This module
//! turns the stored JSONB back into the scraper's JSON (field order and formatting of
//! `serde_json`, which JSONB does not keep), writes it to a [`Sink`] (standard output, a local
//! file, or a file on HDFS through WebHDFS), puts the output in place, and only then records
//! the export: a crash in between exports the rows again, never loses them. [`write_rows`]
//! leaves the recording to its caller: `mhfz-pipeline` records the export only once the run is
//! in Hive.

mod sink;

pub use sink::{Destination, Sink};

use std::io::{self, Write};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use mhfz_record::{WeaponClass, WeaponRecord};
use mhfz_store::{begin_export, Export, ExportRun, ExportScope, ExportedRow, StoreError};
use postgres::Client;

use crate::webhdfs::WebHdfs;

/// What can stop an export. Nothing is recorded when it fails.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),

    #[error("mhfz.{class} row {weapon_id}: the stored record is not a weapon record: {source}")]
    BadRecord {
        class: WeaponClass,
        weapon_id: String,
        source: serde_json::Error,
    },

    #[error("mhfz.{class} row {weapon_id}: the stored record says it is {record_id} of class {record_class}")]
    MisfiledRecord {
        class: WeaponClass,
        weapon_id: String,
        record_id: String,
        record_class: WeaponClass,
    },

    #[error("{0}: not an HDFS destination: give hdfs:///ABSOLUTE/PATH (the NameNode is the WebHDFS client's, MHFZ_WEBHDFS_URL)")]
    HdfsPath(String),

    #[error("{0}: an HDFS destination needs WebHDFS (MHFZ_WEBHDFS_URL and MHFZ_HDFS_USER)")]
    NoWebHdfs(String),

    #[error("{action} {destination}: {source}")]
    Output {
        action: &'static str,
        destination: String,
        source: io::Error,
    },
}

impl ExportError {
    pub(crate) fn output(
        action: &'static str,
        destination: &Destination,
        source: io::Error,
    ) -> ExportError {
        ExportError::Output {
            action,
            destination: destination.to_string(),
            source,
        }
    }
}

/// What to export, and where.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    pub scope: ExportScope,
    pub destination: Destination,
    /// The WebHDFS client an HDFS destination is written through.
    pub hdfs: Option<WebHdfs>,
    /// Show a progress bar on stderr (when it is a terminal; counting the rows first costs
    /// one scan of each table).
    pub progress: bool,
}

/// A finished export.
#[derive(Debug, Clone)]
pub struct ExportReport {
    /// As recorded in `mhfz.export_runs`.
    pub run: ExportRun,
    pub destination: Destination,
    pub elapsed: Duration,
}

/// Exports the rows `options.scope` selects to `options.destination` and records the export.
pub fn run_export(
    client: &mut Client,
    options: &ExportOptions,
) -> Result<ExportReport, ExportError> {
    let started = Instant::now();
    let mut export = begin_export(client, options.scope)?;
    write_rows(&mut export, options)?;
    let run = export.finish(&options.destination.record_name())?;
    Ok(ExportReport {
        run,
        destination: options.destination.clone(),
        elapsed: started.elapsed(),
    })
}

/// Writes the rows of `export` to `options.destination` and puts the output in place; returns
/// the number of rows. The export is left open: [`Export::finish`] records it (only once what
/// the output is for has succeeded, if the caller likes), dropping it rolls back.
pub fn write_rows(export: &mut Export<'_>, options: &ExportOptions) -> Result<u64, ExportError> {
    let progress = if options.progress {
        progress_bar(export.count_rows()?)
    } else {
        ProgressBar::hidden()
    };
    let before = export.rows_read();
    let mut sink = options.destination.open(options.hdfs.as_ref())?;
    let mut converter = NdjsonConverter::default();
    for class in WeaponClass::ALL {
        let mut rows = export.rows(class)?;
        let mut since_tick = 0u64;
        while let Some(row) = rows.next_row()? {
            converter
                .write_line(class, row, &mut sink)
                .map_err(|error| error.into_export_error(&options.destination))?;
            since_tick += 1;
            if since_tick == PROGRESS_STEP {
                progress.inc(since_tick);
                since_tick = 0;
            }
        }
        progress.inc(since_tick);
    }
    sink.commit()?;
    progress.finish_and_clear();
    Ok(export.rows_read() - before)
}

/// Rows between two progress-bar updates.
const PROGRESS_STEP: u64 = 1024;

fn progress_bar(total: u64) -> ProgressBar {
    let bar = ProgressBar::new(total);
    // The template is a constant: it parses.
    if let Ok(style) = ProgressStyle::with_template(
        "{bar:40} {human_pos}/{human_len} records, {per_sec}, {eta} left",
    ) {
        bar.set_style(style);
    }
    bar
}

/// Stored JSONB → the scraper's NDJSON line, reusing one buffer.
#[derive(Default)]
struct NdjsonConverter {
    line: Vec<u8>,
}

/// A row that could not be converted, or output that could not be written.
enum LineError {
    Export(ExportError),
    Write(io::Error),
}

impl LineError {
    fn into_export_error(self, destination: &Destination) -> ExportError {
        match self {
            LineError::Export(error) => error,
            LineError::Write(source) => ExportError::output("writing to", destination, source),
        }
    }
}

impl NdjsonConverter {
    fn write_line(
        &mut self,
        class: WeaponClass,
        row: ExportedRow<'_>,
        out: &mut dyn Write,
    ) -> Result<(), LineError> {
        let record: WeaponRecord = serde_json::from_str(row.record_json).map_err(|source| {
            LineError::Export(ExportError::BadRecord {
                class,
                weapon_id: row.weapon_id.to_string(),
                source,
            })
        })?;
        if record.weapon_id.as_str() != row.weapon_id || record.class != class {
            return Err(LineError::Export(ExportError::MisfiledRecord {
                class,
                weapon_id: row.weapon_id.to_string(),
                record_id: record.weapon_id.to_string(),
                record_class: record.class,
            }));
        }
        self.line.clear();
        // Serializing a record into memory cannot fail: it is plain data with string keys.
        serde_json::to_writer(&mut self.line, &record).map_err(|e| LineError::Write(e.into()))?;
        self.line.push(b'\n');
        out.write_all(&self.line).map_err(LineError::Write)
    }
}
