//! One batch run of the pipeline: export → streaming job → reconciliation → Hive load.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::SystemTime;

use clap::{Parser, Subcommand};
use mhfz_store::{connect, ConnectionSettings, ExportScope};
use mhfz_streaming::cli::{self, HiveArgs, SettingError, WebHdfsArgs};
use mhfz_streaming::hive::RunId;
use mhfz_streaming::pipeline::lock::{LockError, RunLock};
use mhfz_streaming::pipeline::metrics::{write_run_metrics, RunOutcome};
use mhfz_streaming::pipeline::{
    self, Engine, EngineSettings, Executables, HadoopSettings, Outcome, PipelineConfig,
    ReportSettings, StageLog, EXIT_LOCKED, EXIT_REPORT, EXIT_USAGE,
};

const PROGRAM: &str = "mhfz-pipeline";

#[derive(Parser, Debug)]
#[command(name = "mhfz-pipeline", version)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    // A later option wins over an earlier one, so a wrapper's defaults can be overridden.
    #[command(args_override_self = true)]
    Run(RunArgs),
}

/// Runs the pipeline once: exports the weapons changed in PostgreSQL since the last successful
/// run, runs the streaming job (mapper, combiner, reducer) on them, checks the counts, and loads
/// the statistics as the run's partition of the Hive table. Prints a stage table at the end.
/// Then draws the run's HTML weapon report (mhfz-report), with the changes since the previous
/// run, into <tables>/weapon_reports/run_id=<id>/report.html beside the partitions, and with
/// --report-dir keeps a copy as DIR/latest.html.
///
/// Nothing is lost: the export's transaction stays open until the load has succeeded and is
/// only then committed, advancing the watermark; after any failure the next run exports the same
/// rows again. When nothing changed, it prints "nothing changed since ..." and exits 0 without
/// running a job or adding a partition.
///
/// Exit status: 0 success or nothing changed; 2 the export failed; 3 the job failed; 4 the load
/// failed; 5 the reconciliation failed (rows exported, records the job read and rows in its
/// output disagree); 6 the run is loaded and recorded but its report was not written; 75 another run holds the lock file or the export lock in PostgreSQL; 64 usage
/// error; 1 any other error (settings).
///
/// Connection: MHFZ_PG_URL (postgres://mhfz_exporter@host:port/database),
/// MHFZ_PG_PASSWORD_FILE and MHFZ_PG_CA_FILE (PEM, the CA that signed the server's certificate:
/// TCP connections use TLS and verify the server's certificate and name).
#[derive(clap::Args, Debug)]
struct RunArgs {
    /// Where the job runs: Hadoop streaming on YARN, Spark in local mode, or the local runner.
    #[arg(long, value_enum, default_value_t = Engine::Hadoop)]
    engine: Engine,
    /// Number of reduce tasks.
    #[arg(short, long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..))]
    reducers: u16,
    /// Export every row, not only those changed since the last run.
    #[arg(long)]
    full: bool,
    /// The run id (the Hive partition) [default: the start time in UTC, 2026-11-28T120000Z].
    #[arg(long)]
    run_id: Option<RunId>,
    /// HDFS directory for the runs' scratch files (Hadoop engine): <DIR>/runs/<run id>/.
    #[arg(long, default_value = "/mhfz")]
    hdfs_base: String,
    /// The HDFS URI (hdfs://HOST:PORT) of the default table location.
    #[arg(long, env = "MHFZ_HDFS_URI")]
    hdfs_uri: Option<String>,
    /// Table location, hdfs://HOST:PORT/PATH or file:///PATH [default:
    /// <hdfs-uri><hdfs-base>/weapon_statistics].
    #[arg(long)]
    location: Option<String>,
    #[command(flatten)]
    hive: HiveArgs,
    #[command(flatten)]
    webhdfs: WebHdfsArgs,
    /// The hadoop command (Hadoop engine).
    #[arg(long, env = "MHFZ_HADOOP", default_value = "hadoop")]
    hadoop: PathBuf,
    /// The hadoop-streaming jar (Hadoop engine).
    #[arg(long, env = "MHFZ_HADOOP_STREAMING_JAR")]
    streaming_jar: Option<PathBuf>,
    /// The Spark launcher, scripts/spark-streaming (Spark engine).
    #[arg(long, env = "MHFZ_SPARK_STREAMING")]
    spark_streaming: Option<PathBuf>,
    /// Mapper executable [default: mhfz-mapper next to this program].
    #[arg(long)]
    mapper: Option<PathBuf>,
    /// Reducer (and combiner) executable [default: mhfz-reducer next to this program].
    #[arg(long)]
    reducer: Option<PathBuf>,
    /// Report executable [default: mhfz-report next to this program].
    #[arg(long)]
    report_program: Option<PathBuf>,
    /// Directory where the latest run's report is kept as latest.html.
    #[arg(long)]
    report_dir: Option<PathBuf>,
    /// Directory for the run's local scratch directory (removed at the end) [default: the
    /// system's temporary directory].
    #[arg(long)]
    work_dir: Option<PathBuf>,
    /// Lock file against overlapping runs [default: $XDG_RUNTIME_DIR/mhfz-pipeline.lock, or
    /// mhfz-pipeline.lock in the temporary directory].
    #[arg(long)]
    lock_file: Option<PathBuf>,
    /// node_exporter textfile-collector directory: mhfz_pipeline.prom is rewritten there
    /// (atomically) at the end of every run.
    #[arg(long)]
    textfile_dir: Option<PathBuf>,
    /// No stage table.
    #[arg(short, long)]
    quiet: bool,
}

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(error) => {
            let usage = error.use_stderr();
            let _ = error.print();
            return ExitCode::from(if usage { EXIT_USAGE } else { 0 });
        }
    };
    match args.command {
        Command::Run(args) => ExitCode::from(run(args)),
    }
}

fn run(args: RunArgs) -> u8 {
    let lock_path = args.lock_file.clone().unwrap_or_else(default_lock_file);
    let _lock = match RunLock::acquire(&lock_path) {
        Ok(lock) => lock,
        Err(error @ LockError::Held { .. }) => {
            cli::report_error(PROGRAM, &error);
            return EXIT_LOCKED;
        }
        Err(error) => {
            cli::report_error(PROGRAM, &error);
            return 1;
        }
    };
    let config = match configure(&args) {
        Ok(config) => config,
        Err(error) => {
            cli::report_error(PROGRAM, error.as_ref());
            return 1;
        }
    };
    let mut log = StageLog::default();
    let result = ConnectionSettings::from_env()
        .and_then(|settings| connect(&settings))
        .map_err(|error| pipeline::PipelineError {
            stage: pipeline::Stage::Export,
            error: error.into(),
        })
        .and_then(|mut client| pipeline::run(&mut client, &config, &mut log));
    let ended = SystemTime::now();
    let (status, outcome) = match &result {
        Ok(Outcome::NothingChanged { since }) => {
            let since = match since {
                Some((run, started)) => format!("export run {run} ({started})"),
                None => "the start: the database holds no weapons".into(),
            };
            println!("{PROGRAM}: nothing changed since {since}");
            (0, RunOutcome::NothingChanged)
        }
        Ok(Outcome::Loaded {
            export,
            job_id,
            load,
            report,
        }) => {
            let job = job_id
                .as_ref()
                .map(|id| format!(", job {id}"))
                .unwrap_or_default();
            println!(
                "{PROGRAM}: run {}: {} records exported (export run {}{job}), {} statistics rows loaded into {}",
                config.run_id, export.rows_exported, export.run_id, load.rows, load.partition_location
            );
            let status = match report {
                Ok(places) => {
                    let latest = places
                        .latest
                        .as_ref()
                        .map(|path| format!(", latest: {}", path.display()))
                        .unwrap_or_default();
                    println!("{PROGRAM}: report: {}/report.html{latest}", places.run_dir);
                    0
                }
                Err(error) => {
                    cli::report_error(PROGRAM, error);
                    eprintln!(
                        "{PROGRAM}: run {} is loaded and recorded; only its report is missing",
                        config.run_id
                    );
                    EXIT_REPORT
                }
            };
            (status, RunOutcome::Success)
        }
        Err(error) => {
            cli::report_error(PROGRAM, error);
            if !error.is_overlap() {
                eprintln!(
                    "{PROGRAM}: run {} not recorded: the next run exports the same rows again",
                    config.run_id
                );
            }
            (error.exit_code(), RunOutcome::Failed(error.stage))
        }
    };
    if !args.quiet && !matches!(result, Ok(Outcome::NothingChanged { .. })) {
        let _ = log.write_table(&mut io::stdout().lock());
    }
    let _ = io::stdout().flush();
    if let Some(dir) = &args.textfile_dir {
        // A run that could not even start (overlap) is not a run of ours to count.
        let overlap = matches!(&result, Err(error) if error.is_overlap());
        if !overlap {
            if let Err(error) = write_run_metrics(dir, &log, outcome, ended) {
                // The run's own outcome stands; the stale metrics will show.
                eprintln!(
                    "{PROGRAM}: warning: the metrics were not written: {}",
                    cli::error_chain(&error)
                );
            }
        }
    }
    status
}

fn configure(args: &RunArgs) -> Result<PipelineConfig, Box<dyn std::error::Error>> {
    let engine = match args.engine {
        Engine::Hadoop => EngineSettings::Hadoop(HadoopSettings {
            hadoop: args.hadoop.clone(),
            streaming_jar: args.streaming_jar.clone().ok_or(SettingError::Missing {
                what: "the Hadoop engine needs the hadoop-streaming jar",
                how: "--streaming-jar (or MHFZ_HADOOP_STREAMING_JAR)",
            })?,
        }),
        Engine::Spark => EngineSettings::Spark {
            launcher: args.spark_streaming.clone().ok_or(SettingError::Missing {
                what: "the Spark engine needs its launcher",
                how: "--spark-streaming PATH (scripts/spark-streaming; or MHFZ_SPARK_STREAMING)",
            })?,
        },
        Engine::Local => EngineSettings::Local,
    };
    let location = match (&args.location, &args.hdfs_uri) {
        (Some(location), _) => location.clone(),
        (None, Some(uri)) => format!(
            "{}/{}/weapon_statistics",
            uri.trim_end_matches('/'),
            args.hdfs_base.trim_matches('/')
        ),
        (None, None) => Err(SettingError::Missing {
            what: "no table location",
            how: "--location URI, or --hdfs-uri (or MHFZ_HDFS_URI) for the default",
        })?,
    };
    let hdfs = if args.engine == Engine::Hadoop || location.starts_with("hdfs:") {
        Some(args.webhdfs.client("HDFS needs WebHDFS")?)
    } else {
        args.webhdfs.client_if_given()?
    };
    Ok(PipelineConfig {
        run_id: args
            .run_id
            .clone()
            .unwrap_or_else(|| pipeline::run_id_at(SystemTime::now())),
        scope: if args.full {
            ExportScope::Full
        } else {
            ExportScope::Changed
        },
        engine,
        executables: Executables {
            mapper: cli::sibling_executable(args.mapper.clone(), "mhfz-mapper", "mapper")?,
            reducer: cli::sibling_executable(args.reducer.clone(), "mhfz-reducer", "reducer")?,
        },
        reducers: usize::from(args.reducers),
        hdfs,
        hdfs_base: args.hdfs_base.clone(),
        work_dir: args.work_dir.clone().unwrap_or_else(std::env::temp_dir),
        database: args.hive.database.clone(),
        table: args.hive.table.clone(),
        location,
        beeline: args.hive.beeline()?,
        report: ReportSettings {
            program: cli::sibling_executable(
                args.report_program.clone(),
                "mhfz-report",
                "report-program",
            )?,
            latest_dir: args.report_dir.clone(),
        },
    })
}

fn default_lock_file() -> PathBuf {
    std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|dir| dir.is_dir())
        .unwrap_or_else(std::env::temp_dir)
        .join("mhfz-pipeline.lock")
}
