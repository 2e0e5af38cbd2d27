//! Runs the mapper, optional combiner, `sort` and reducer locally, like a Hadoop streaming job.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::Parser;
use mhfz_streaming::cli;
use mhfz_streaming::runner::{self, Input, RunnerConfig};
use mhfz_streaming::summary::write_class_table;

/// Computes MHFZ weapon statistics from NDJSON weapon records with the real mapper and reducer
/// executables as child processes: one map task per input, output partitioned by key hash among
/// N reducers, each reducer's input sorted with `LC_ALL=C sort`.
///
/// The merged output (all rows, sorted byte-wise) goes to --output, or to standard output unless
/// --output-dir is given. Counter totals are printed to standard error.
#[derive(Parser, Debug)]
#[command(name = "mhfz-local-runner", version)]
struct Args {
    /// NDJSON inputs, one map task each; none, or `-`, reads standard input.
    inputs: Vec<PathBuf>,
    /// Number of reduce tasks (partitions).
    #[arg(short, long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
    reducers: u16,
    /// Run the combiner (`mhfz-reducer --combiner`) on each map task's sorted output.
    #[arg(long)]
    combiner: bool,
    /// Pass --strict to the mapper, combiner and reducer.
    #[arg(long)]
    strict: bool,
    /// Directory for the part-NNNNN files; must not exist or be empty.
    #[arg(long)]
    output_dir: Option<PathBuf>,
    /// File for the merged, sorted output (`-` for standard output).
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Also write each table's rows to DIR/<table>.tsv (weapon_statistics.tsv,
    /// weapon_histograms.tsv, weapon_top.tsv), tags dropped, as the loader loads them.
    #[arg(long, value_name = "DIR")]
    tables_dir: Option<PathBuf>,
    /// Keep intermediate files in this directory instead of a temporary one.
    #[arg(long)]
    work_dir: Option<PathBuf>,
    /// Tasks run at the same time [default: number of CPUs].
    #[arg(short, long, value_parser = clap::value_parser!(u16).range(1..))]
    jobs: Option<u16>,
    /// Mapper executable [default: mhfz-mapper next to this program].
    #[arg(long)]
    mapper: Option<PathBuf>,
    /// Reducer (and combiner) executable [default: mhfz-reducer next to this program].
    #[arg(long)]
    reducer: Option<PathBuf>,
    /// The sort program; run with LC_ALL=C.
    #[arg(long, default_value = "sort")]
    sort: PathBuf,
    /// Also print a per-class summary table to standard output (needs --output FILE or
    /// --output-dir).
    #[arg(long)]
    summary: bool,
}

fn main() -> ExitCode {
    cli::exit_code("mhfz-local-runner", run(Args::parse()).map_err(Into::into))
}

fn run(args: Args) -> anyhow::Result<()> {
    let temporary = tempfile::Builder::new()
        .prefix("mhfz-local-runner.")
        .tempdir()
        .context("creating a temporary directory failed")?;
    let work_dir = args
        .work_dir
        .clone()
        .unwrap_or_else(|| temporary.path().join("work"));
    let output_dir = match &args.output_dir {
        Some(dir) => {
            ensure_empty_or_missing(dir)?;
            dir.clone()
        }
        None => temporary.path().join("output"),
    };
    let jobs = args.jobs.map_or_else(
        || std::thread::available_parallelism().map_or(1, |n| n.get()),
        usize::from,
    );
    let config = RunnerConfig {
        mapper: cli::sibling_executable(args.mapper, "mhfz-mapper", "mapper")?,
        reducer: cli::sibling_executable(args.reducer, "mhfz-reducer", "reducer")?,
        sort: args.sort.clone(),
        inputs: args
            .inputs
            .iter()
            .map(|path| {
                if path.as_os_str() == "-" {
                    Input::Stdin
                } else {
                    Input::File(path.clone())
                }
            })
            .collect(),
        reducers: usize::from(args.reducers),
        combiner: args.combiner,
        strict: args.strict,
        jobs,
        work_dir,
        output_dir,
    };
    let summary = runner::run(&config)?;
    let mut stderr = io::stderr().lock();
    writeln!(stderr, "mhfz-local-runner: counters:")?;
    for (name, total) in &summary.counters {
        writeln!(stderr, "  {name}={total}")?;
    }
    drop(stderr);

    let to_stdout = match &args.output {
        Some(path) => path.as_os_str() == "-",
        None => args.output_dir.is_none(),
    };
    if to_stdout && (args.summary || args.tables_dir.is_some()) {
        bail!(
            "--summary and --tables-dir need --output FILE or --output-dir: the rows already go to standard output"
        );
    }
    if to_stdout {
        runner::merge_parts(&args.sort, &summary.parts, &mut io::stdout().lock())?;
    } else if args.output.is_some() || args.summary || args.tables_dir.is_some() {
        let mut merged = Vec::new();
        runner::merge_parts(&args.sort, &summary.parts, &mut merged)?;
        if let Some(path) = &args.output {
            fs::write(path, &merged)
                .with_context(|| format!("writing {} failed", path.display()))?;
        }
        if let Some(dir) = &args.tables_dir {
            runner::write_table_files(&merged, dir)?;
        }
        if args.summary {
            let merged = String::from_utf8(merged).context("statistics rows are not UTF-8")?;
            write_class_table(&merged, &mut io::stdout().lock())?;
        }
    }
    Ok(())
}

fn ensure_empty_or_missing(dir: &Path) -> anyhow::Result<()> {
    match fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                bail!("output directory {} is not empty", dir.display());
            }
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => {
            Err(e).with_context(|| format!("reading output directory {} failed", dir.display()))
        }
    }
}
