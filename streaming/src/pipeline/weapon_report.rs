//! The run's weapon report (`mhfz-report`, the HTML page of the `report/` crate): drawn from the
//! job's output with the changes since the previous run read from the weapon history, placed
//! beside the run's Hive partitions as `<tables>/weapon_reports/run_id=<id>/report.html`, and
//! kept on the pipeline host as `<dir>/latest.html`.
//!
//! The report is written after the run is recorded: a report that cannot be written leaves the
//! run loaded and its export recorded (rerunning `mhfz-report` by hand redraws it).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use crate::hive::{HiveTable, RunId};
use crate::loader::placement::{replace_partition_named, FileSystem, PlacementError};
use crate::loader::{location_path, LoadError};

/// The directory beside the tables that holds one report per run.
pub const REPORTS_DIR: &str = "weapon_reports";
/// The report's file name, in a run's directory.
pub const REPORT_FILE: &str = "report.html";
/// The latest report's file name on the pipeline host.
pub const LATEST_FILE: &str = "latest.html";

/// How the report is drawn and where the pipeline host keeps the latest one.
#[derive(Clone, Debug)]
pub struct ReportSettings {
    /// The `mhfz-report` executable.
    pub program: PathBuf,
    /// The pipeline host's directory for `latest.html`; `None`: only beside the partition.
    pub latest_dir: Option<PathBuf>,
}

/// Where a run's report went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportPlaces {
    /// The run's report directory beside its partitions, e.g.
    /// `hdfs://nn/mhfz/weapon_reports/run_id=2026-12-01T100000Z`.
    pub run_dir: String,
    pub latest: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot run {program}", program = .program.display())]
    Spawn {
        program: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{program} failed ({status}): {stderr}", program = .program.display())]
    Failed {
        program: PathBuf,
        status: std::process::ExitStatus,
        stderr: String,
    },
    #[error(transparent)]
    Location(#[from] LoadError),
    #[error("{0}")]
    Setting(&'static str),
    #[error("placing the report beside the partition failed")]
    Placement(#[from] PlacementError),
    #[error("keeping the latest report as {path}", path = .path.display())]
    Latest {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// What the report of one run is drawn from.
pub struct ReportRun<'a> {
    pub run_id: &'a RunId,
    /// The job's output files.
    pub parts: &'a [PathBuf],
    /// When the previous run's export started (RFC 3339, UTC); `None` for a first or full
    /// export: nothing to compare with.
    pub since: Option<&'a str>,
    /// When this run started.
    pub until: SystemTime,
    /// The statistics table (the reports go beside it).
    pub table: HiveTable<'a>,
}

/// Draws the report of `run` into `scratch`, places it beside the run's partitions on `fs` and
/// copies it to the latest report.
pub fn write_report(
    settings: &ReportSettings,
    run: &ReportRun<'_>,
    scratch: &Path,
    fs: &dyn FileSystem,
) -> Result<ReportPlaces, ReportError> {
    let html = scratch.join(REPORT_FILE);
    // To the microsecond, as `since` is: a change written in the second the run started counts.
    let until = humantime::format_rfc3339_micros(run.until).to_string();
    let mut command = Command::new(&settings.program);
    command
        .args(run.parts)
        .arg("--out")
        .arg(&html)
        .args([
            "--title",
            &format!("MHFZ weapon report, run {}", run.run_id),
        ])
        .args(["--history", "--changes-until", &until]);
    if let Some(since) = run.since {
        command.args(["--changes-since", since]);
    }
    let output = command.output().map_err(|source| ReportError::Spawn {
        program: settings.program.clone(),
        source,
    })?;
    if !output.status.success() {
        return Err(ReportError::Failed {
            program: settings.program.clone(),
            status: output.status,
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        });
    }

    let reports = run.table.sibling_location(REPORTS_DIR);
    let reports_dir = location_path(&reports, fs.scheme())?;
    replace_partition_named(fs, reports_dir, run.run_id, &[(&html, REPORT_FILE)])?;
    let latest = match &settings.latest_dir {
        Some(dir) => Some(keep_latest(&html, dir)?),
        None => None,
    };
    Ok(ReportPlaces {
        run_dir: format!("{reports}/{}", run.run_id.partition_dir()),
        latest,
    })
}

/// Copies `html` to `dir/latest.html` through a temporary file and a rename: a reader sees the
/// previous report or this one, whole.
fn keep_latest(html: &Path, dir: &Path) -> Result<PathBuf, ReportError> {
    let latest = dir.join(LATEST_FILE);
    let error = |source| ReportError::Latest {
        path: latest.clone(),
        source,
    };
    fs::create_dir_all(dir).map_err(error)?;
    let staged = dir.join(format!(".{LATEST_FILE}.{}", std::process::id()));
    fs::copy(html, &staged).map_err(error)?;
    fs::rename(&staged, &latest).map_err(|source| {
        let _ = fs::remove_file(&staged);
        error(source)
    })?;
    Ok(latest)
}
