//! Writes the weapon report of one run as a self-contained HTML file.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::SystemTime;

use anyhow::Context;
use clap::Parser;
use mhfz_report::{render, Changes, Tables, SITE_URL};
use mhfz_store::{changes_between, connect, ConnectionSettings};
use mhfz_streaming::cli;
use mhfz_streaming::loader::input_files;

/// Draws the weapon report (per class: attack distribution, attack by rarity, element and
/// status shares, affinity, slots, top weapons linked to the site; the changes since the
/// previous run) from one run's output tables, as one HTML file with inline SVG charts that
/// loads nothing.
///
/// With --history, the changes come from PostgreSQL's weapon history: MHFZ_PG_URL
/// (postgres://ROLE@host:port/database, a role that may read mhfz.weapon_versions),
/// MHFZ_PG_PASSWORD_FILE and MHFZ_PG_CA_FILE (PEM, the CA that signed the server's
/// certificate: TCP connections use TLS and verify the server's certificate and name).
#[derive(Parser, Debug)]
#[command(name = "mhfz-report", version)]
struct Args {
    /// Reducer output: files, or job output directories (their part-* files once _SUCCESS
    /// is there).
    #[arg(
        value_name = "OUTPUT",
        required_unless_present = "tables_dir",
        conflicts_with = "tables_dir"
    )]
    outputs: Vec<PathBuf>,
    /// A directory of the tables' TSV files instead (weapon_statistics.tsv,
    /// weapon_histograms.tsv, weapon_top.tsv; what `make demo` writes).
    #[arg(long, value_name = "DIR")]
    tables_dir: Option<PathBuf>,
    /// The HTML file to write (replaced atomically).
    #[arg(short, long, value_name = "FILE")]
    out: PathBuf,
    #[arg(long, default_value = "MHFZ weapon report")]
    title: String,
    /// The weapon site the top weapons and changes link to.
    #[arg(long, default_value = SITE_URL, value_name = "URL")]
    site_url: String,
    /// Read the changes from the weapon history in PostgreSQL.
    #[arg(long)]
    history: bool,
    /// The previous run's time (RFC 3339, e.g. 2026-12-01T10:00:00Z); without it, this is the
    /// first run and nothing is compared.
    #[arg(long, value_name = "TIME", requires = "history")]
    changes_since: Option<humantime::Timestamp>,
    /// This run's time [default: now].
    #[arg(long, value_name = "TIME", requires = "history")]
    changes_until: Option<humantime::Timestamp>,
}

fn main() -> ExitCode {
    cli::exit_code("mhfz-report", run(Args::parse()).map_err(Into::into))
}

fn run(args: Args) -> anyhow::Result<()> {
    let tables = match &args.tables_dir {
        Some(dir) => Tables::read_dir(dir)?,
        None => Tables::read_reducer_output(&input_files(&args.outputs)?)?,
    };
    let changes = if args.history {
        read_changes(&args)?
    } else {
        Changes::NotRead
    };
    let html = render(&args.title, &args.site_url, &tables, &changes)?;
    write_atomically(&args.out, html.as_bytes())
        .with_context(|| format!("writing {}", args.out.display()))?;
    Ok(())
}

fn read_changes(args: &Args) -> anyhow::Result<Changes> {
    let until: SystemTime = args
        .changes_until
        .map_or_else(SystemTime::now, SystemTime::from);
    let until_text = humantime::format_rfc3339_seconds(until).to_string();
    let Some(since) = args.changes_since.map(SystemTime::from) else {
        return Ok(Changes::FirstRun { until: until_text });
    };
    let settings = ConnectionSettings::from_env()?;
    let mut client = connect(&settings)?;
    let weapons = changes_between(&mut client, since, until)
        .with_context(|| format!("reading the weapon history from {}", settings.target()))?;
    Ok(Changes::Since {
        since: humantime::format_rfc3339_seconds(since).to_string(),
        until: until_text,
        weapons,
    })
}

/// Writes `bytes` to a temporary file beside `path`, then renames it over `path`: readers
/// see the old report or the new one, never half of one.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut file = tempfile::Builder::new()
        .prefix(".mhfz-report.")
        .tempfile_in(dir)?;
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    // A report is for people to read: 0644, not the temporary file's 0600.
    std::fs::set_permissions(
        file.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o644),
    )?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}
