//! Hadoop-streaming mapper: weapon records (NDJSON) on stdin, `key\tpartial` lines on stdout.

use std::io;
use std::process::ExitCode;

use clap::Parser;
use mhfz_streaming::cli::{self, StreamingArgs};
use mhfz_streaming::mapper::{run_mapper, MapperConfig};
use mhfz_streaming::protocol::Reporter;

/// Reads MHFZ weapon records (one JSON object per line) and writes partial statistics per group
/// key. Malformed lines are counted (Hadoop counter mhfz/malformed_records) and skipped.
#[derive(Parser, Debug)]
#[command(name = "mhfz-mapper", version)]
struct Args {
    #[command(flatten)]
    streaming: StreamingArgs,
    /// Distinct keys combined in memory before they are all written out.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    max_cached_keys: u64,
    /// Lines longer than this many bytes are malformed.
    #[arg(long, default_value_t = 1 << 20)]
    max_line_bytes: usize,
    /// Name of the input in messages [default: $mapreduce_map_input_file, or "standard input"].
    #[arg(long)]
    input_name: Option<String>,
}

fn main() -> ExitCode {
    cli::exit_code("mhfz-mapper", run(Args::parse()).map_err(Into::into))
}

fn run(args: Args) -> anyhow::Result<()> {
    let input_name = args
        .input_name
        .or_else(|| std::env::var("mapreduce_map_input_file").ok())
        .or_else(|| std::env::var("map_input_file").ok())
        .unwrap_or_else(|| "standard input".into());
    let config = MapperConfig {
        bad_input: args.streaming.bad_input(),
        max_cached_keys: usize::try_from(args.max_cached_keys).unwrap_or(usize::MAX),
        max_line_bytes: args.max_line_bytes,
        input_name,
    };
    let settings = args.streaming.report_settings();
    let mut reporter = Reporter::new(io::stderr().lock(), "mhfz-mapper", &settings);
    run_mapper(
        io::stdin().lock(),
        io::stdout().lock(),
        &mut reporter,
        &config,
    )?;
    Ok(())
}
