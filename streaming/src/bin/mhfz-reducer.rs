//! Hadoop-streaming reducer and combiner: key-sorted `key\tpartial` lines on stdin; output rows
//! (statistics, histogram and top-N rows; or, with `--combiner`, merged partials) on stdout. Also
//! prints the Hive DDL of the three tables.

use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser;
use mhfz_streaming::cli::{self, StreamingArgs};
use mhfz_streaming::hive::{render_hive_ddl, HiveTable, RunId};
use mhfz_streaming::protocol::Reporter;
use mhfz_streaming::reducer::{run_reducer, ReduceMode, ReducerConfig};

/// Merges the partials of each key (input sorted byte-wise by key, as Hadoop's shuffle or
/// `LC_ALL=C sort` delivers it) into tab-separated rows: one statistics row per statistics key,
/// one row per non-empty bucket of a histogram key, one row per rank of a top-N key.
#[derive(Parser, Debug)]
#[command(name = "mhfz-reducer", version)]
struct Args {
    /// Act as a combiner: write merged partials in the mapper's format instead of rows.
    #[arg(long)]
    combiner: bool,
    #[command(flatten)]
    streaming: StreamingArgs,
    /// Lines longer than this many bytes are malformed.
    #[arg(long, default_value_t = 64 << 10)]
    max_line_bytes: usize,
    /// Print the Hive DDL of the three tables and exit (reads no input): the statistics table,
    /// and weapon_histograms and weapon_top beside its location.
    #[arg(long, requires = "hive_location", conflicts_with = "combiner")]
    print_hive_ddl: bool,
    /// Hive database of the statistics table.
    #[arg(long, default_value = "mhfz", requires = "print_hive_ddl")]
    hive_database: String,
    /// Hive table name of the statistics (the other tables have fixed names).
    #[arg(long, default_value = "weapon_statistics", requires = "print_hive_ddl")]
    hive_table: String,
    /// Table location (e.g. hdfs:///mhfz/weapon_statistics); partitions are run_id=<id> below it.
    #[arg(long, requires = "print_hive_ddl")]
    hive_location: Option<String>,
    /// Also add the partition of this run.
    #[arg(long, requires = "print_hive_ddl")]
    hive_run_id: Option<RunId>,
}

fn main() -> ExitCode {
    cli::exit_code("mhfz-reducer", run(Args::parse()).map_err(Into::into))
}

fn run(args: Args) -> anyhow::Result<()> {
    if args.print_hive_ddl {
        let ddl = render_hive_ddl(
            &HiveTable {
                database: &args.hive_database,
                table: &args.hive_table,
                location: args.hive_location.as_deref().unwrap_or_default(),
            },
            args.hive_run_id.as_ref(),
        )?;
        let mut stdout = io::stdout().lock();
        stdout.write_all(ddl.as_bytes())?;
        stdout.flush()?;
        return Ok(());
    }
    let mode = if args.combiner {
        ReduceMode::Combine
    } else {
        ReduceMode::Final
    };
    let config = ReducerConfig {
        mode,
        bad_input: args.streaming.bad_input(),
        max_line_bytes: args.max_line_bytes,
        input_name: "standard input".into(),
    };
    let settings = args.streaming.report_settings();
    let program = if args.combiner {
        "mhfz-combiner"
    } else {
        "mhfz-reducer"
    };
    let mut reporter = Reporter::new(io::stderr().lock(), program, &settings);
    run_reducer(
        io::stdin().lock(),
        io::stdout().lock(),
        &mut reporter,
        &config,
    )?;
    Ok(())
}
