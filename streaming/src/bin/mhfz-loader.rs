//! Loads one run's output rows (reducer output files, or a Hadoop job's output directory) into
//! the Hive tables: the rows of each kind (statistics, histograms, top-N) become the run's
//! partition directory below their table's location (HDFS through WebHDFS, or a local
//! directory; the histogram and top-N tables beside the statistics table's location), and the
//! partitions are registered through HiveServer2 with beeline. Loading a run again replaces only
//! that run's partitions.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use mhfz_streaming::cli;
use mhfz_streaming::hive::{render_load_run, HiveTable, RunId};
use mhfz_streaming::loader::placement::{FileSystem, LocalFileSystem};
use mhfz_streaming::loader::{done_marker, load_run};

#[derive(Parser, Debug)]
#[command(name = "mhfz-loader", version)]
struct Args {
    /// The run these statistics belong to: letters, digits, -, _ and . (the partition value).
    #[arg(long)]
    run_id: RunId,
    /// Table location: hdfs://HOST:PORT/PATH (written through WebHDFS) or file:///PATH; the run's
    /// files go to its run_id=<id> subdirectory.
    #[arg(long)]
    location: String,
    #[command(flatten)]
    hive: cli::HiveArgs,
    #[command(flatten)]
    webhdfs: cli::WebHdfsArgs,
    /// Print the HiveQL that would run and exit, changing nothing (needs no server).
    #[arg(long)]
    print_hql: bool,
    /// Statistics row files (mhfz-reducer output) or Hadoop job output directories.
    #[arg(required_unless_present = "print_hql")]
    inputs: Vec<PathBuf>,
}

fn main() -> ExitCode {
    cli::exit_code("mhfz-loader", run(Args::parse()).map_err(Into::into))
}

fn run(args: Args) -> anyhow::Result<()> {
    let table = HiveTable {
        database: &args.hive.database,
        table: &args.hive.table,
        location: &args.location,
    };
    if args.print_hql {
        let hql = render_load_run(&table, &args.run_id, &done_marker(&args.run_id))?;
        let mut stdout = io::stdout().lock();
        stdout.write_all(hql.as_bytes())?;
        return Ok(stdout.flush()?);
    }
    let beeline = args.hive.beeline()?;
    let webhdfs;
    let fs: &dyn FileSystem = if args.location.starts_with("hdfs:") {
        webhdfs = args.webhdfs.client("an hdfs:// location needs WebHDFS")?;
        &webhdfs
    } else {
        &LocalFileSystem
    };
    let started = Instant::now();
    let summary = load_run(&table, &args.run_id, &args.inputs, fs, &beeline)?;
    let [statistics, histograms, top] = summary.rows_per_kind;
    eprintln!(
        "mhfz-loader: run {}: {} rows in {} files loaded into `{}`.`{}` at {} and its sibling \
         tables ({statistics} statistics, {histograms} histogram, {top} top-N rows; {:.1} s)",
        args.run_id,
        summary.rows,
        summary.files,
        args.hive.database,
        args.hive.table,
        summary.partition_location,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
