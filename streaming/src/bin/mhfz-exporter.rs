//! Exports the weapon records changed in PostgreSQL since the last successful export, as NDJSON.

use std::io::{self, IsTerminal};
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use mhfz_store::{connect, ConnectionSettings, ExportScope};
use mhfz_streaming::cli;
use mhfz_streaming::export::{run_export, Destination, ExportOptions};
use mhfz_streaming::webhdfs::WebHdfs;

/// Exports the weapon records written to PostgreSQL since the last successful export (all of
/// them with --full) as NDJSON, one record per line, the same JSON mhfz-scraper writes.
///
/// The rows are read under one snapshot, and the export is recorded in mhfz.export_runs in the
/// same transaction, after the output is complete: rows written while it runs go to the next
/// export, none is skipped or exported twice. A file appears complete or not at all; a failed
/// export, or output cut short by a closed pipe, is not recorded, so the next export takes the
/// same rows again.
///
/// Connection: MHFZ_PG_URL (postgres://mhfz_exporter@host:port/database, no password),
/// MHFZ_PG_PASSWORD_FILE (a file holding the password) and MHFZ_PG_CA_FILE (PEM, the CA that
/// signed the server's certificate: TCP connections use TLS and verify the server's certificate
/// and name). An hdfs:///PATH output goes through
/// WebHDFS: MHFZ_WEBHDFS_URL (the NameNode, http://host:port) and MHFZ_HDFS_USER.
#[derive(Parser, Debug)]
#[command(name = "mhfz-exporter", version)]
struct Args {
    /// Where to write: `-` for standard output, a file path, or hdfs:///PATH (a file on HDFS,
    /// written through WebHDFS to a temporary file and renamed into place).
    #[arg(short, long, default_value = "-", value_name = "PATH")]
    out: String,
    /// Export every row, not only those changed since the last export.
    #[arg(long)]
    full: bool,
    /// No summary line on stderr (the progress bar shows only on a terminal anyway).
    #[arg(short, long)]
    quiet: bool,
}

fn main() -> ExitCode {
    cli::exit_code("mhfz-exporter", run(Args::parse()).map_err(Into::into))
}

fn run(args: Args) -> anyhow::Result<()> {
    let destination = Destination::parse(&args.out)?;
    // Checked before connecting: a missing variable is the first thing to say.
    let hdfs = match destination {
        Destination::Hdfs(_) => Some(WebHdfs::from_env()?),
        _ => None,
    };
    let settings = ConnectionSettings::from_env()?;
    let mut client = connect(&settings)?;
    let options = ExportOptions {
        scope: if args.full {
            ExportScope::Full
        } else {
            ExportScope::Changed
        },
        destination,
        hdfs,
        progress: !args.quiet && io::stderr().is_terminal(),
    };
    let report = run_export(&mut client, &options)
        .with_context(|| format!("exporting from {}", settings.target()))?;
    if !args.quiet {
        let run = &report.run;
        let since = match run.since_run_id {
            Some(previous) => format!("changed since run {previous}"),
            None if run.full_export => "(full export)".into(),
            None => "(first export: every row)".into(),
        };
        eprintln!(
            "mhfz-exporter: run {}: {} records {since} written to {} in {:.1} s",
            run.run_id,
            run.rows_exported,
            report.destination,
            report.elapsed.as_secs_f64()
        );
    }
    Ok(())
}
