//! The streaming job of a run, on one of three engines, all running the same `mhfz-mapper`,
//! combiner (`mhfz-reducer --combiner`) and `mhfz-reducer` executables:
//!
//! * [`Engine::Hadoop`]: `hadoop jar hadoop-streaming.jar` on the cluster (YARN), input and
//!   output on HDFS; the part files are then fetched through WebHDFS for the load;
//! * [`Engine::Spark`]: the Spark launcher (`scripts/spark-streaming`: `RDD.pipe` in local mode);
//! * [`Engine::Local`]: the in-process local runner ([`crate::runner`]).
//!
//! Each returns the part files (local) and the job's counters.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use super::counters::{JobClientReport, JobCounters};
use crate::runner::{self, Input, RunnerConfig, RunnerError};
use crate::webhdfs::{FileKind, WebHdfs, WebHdfsError};

/// Which engine runs the job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Engine {
    /// Hadoop streaming on the cluster (YARN), through `hadoop jar`.
    Hadoop,
    /// Spark in local mode, through the Spark launcher (RDD.pipe).
    Spark,
    /// The local runner, in this process (child processes per task).
    Local,
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Engine::Hadoop => "hadoop",
            Engine::Spark => "spark",
            Engine::Local => "local",
        })
    }
}

/// The executables the job runs.
#[derive(Clone, Debug)]
pub struct Executables {
    pub mapper: PathBuf,
    /// Also the combiner.
    pub reducer: PathBuf,
}

/// How to reach Hadoop.
#[derive(Clone, Debug)]
pub struct HadoopSettings {
    /// The `hadoop` command (the stack's is `scripts/hadoop`).
    pub hadoop: PathBuf,
    /// `hadoop-streaming-<version>.jar`.
    pub streaming_jar: PathBuf,
}

/// A finished job.
#[derive(Clone, Debug)]
pub struct JobResult {
    /// The reducers' output files, on the local file system, in partition order.
    pub parts: Vec<PathBuf>,
    pub counters: JobCounters,
    /// Hadoop's job id.
    pub job_id: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("cannot run {program}", program = .program.display())]
    Spawn {
        program: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{program} failed ({status}){job}:\n{log_tail}", program = .program.display(),
        job = .job_id.as_ref().map(|id| format!(", job {id}")).unwrap_or_default())]
    Failed {
        program: PathBuf,
        status: String,
        job_id: Option<String>,
        log_tail: String,
    },
    #[error("the job's output {0} has no _SUCCESS marker: the job did not finish")]
    Unfinished(String),
    #[error("reading the Spark job's counters from {path}", path = .path.display())]
    Counters {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Runner(#[from] RunnerError),
    #[error(transparent)]
    Hdfs(#[from] WebHdfsError),
    #[error("{action} {path}", path = .path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// Lines of a failed program's output shown in the error.
const LOG_TAIL_LINES: usize = 30;

/// Runs the job on Hadoop: `input` and `output` are HDFS paths (`output` must not exist); the
/// part files are fetched into `fetch_dir`.
pub fn run_hadoop(
    settings: &HadoopSettings,
    executables: &Executables,
    job_name: &str,
    reducers: usize,
    (input, output): (&str, &str),
    hdfs: &WebHdfs,
    fetch_dir: &Path,
) -> Result<JobResult, JobError> {
    let mapper = file_name(&executables.mapper);
    let reducer = file_name(&executables.reducer);
    let mut command = Command::new(&settings.hadoop);
    command
        .arg("jar")
        .arg(&settings.streaming_jar)
        .args(["-D", &format!("mapreduce.job.name={job_name}")])
        .arg("-files")
        .arg(format!(
            "{},{}",
            executables.mapper.display(),
            executables.reducer.display()
        ))
        .args(["-mapper", &mapper])
        .args(["-combiner", &format!("{reducer} --combiner")])
        .args(["-reducer", &reducer])
        .args(["-numReduceTasks", &reducers.to_string()])
        .args(["-input", input, "-output", output]);
    let out = run_program(&settings.hadoop, command)?;
    let log = String::from_utf8_lossy(&out.stderr);
    let report = JobClientReport::parse(&log);
    if !out.status.success() {
        return Err(failed(&settings.hadoop, &out, report.job_id));
    }
    let parts = fetch_parts(hdfs, output, fetch_dir)?;
    Ok(JobResult {
        parts,
        counters: JobCounters::from_groups(&report.counters),
        job_id: report.job_id,
    })
}

/// Copies the `part-*` files of the HDFS job output `output` into `dir`, in name order, once
/// `_SUCCESS` says the job finished.
fn fetch_parts(hdfs: &WebHdfs, output: &str, dir: &Path) -> Result<Vec<PathBuf>, JobError> {
    let entries = hdfs.list(output)?;
    if !entries.iter().any(|entry| entry.path_suffix == "_SUCCESS") {
        return Err(JobError::Unfinished(output.into()));
    }
    create_dir(dir)?;
    let mut parts = Vec::new();
    for entry in entries {
        if entry.kind != FileKind::File || !entry.path_suffix.starts_with("part-") {
            continue;
        }
        let local = dir.join(&entry.path_suffix);
        let mut reader = hdfs.open(&format!("{output}/{}", entry.path_suffix))?;
        let mut file = fs::File::create(&local).map_err(|source| JobError::Io {
            action: "creating",
            path: local.clone(),
            source,
        })?;
        io::copy(&mut reader, &mut file).map_err(|source| JobError::Io {
            action: "fetching the job output into",
            path: local.clone(),
            source,
        })?;
        parts.push(local);
    }
    Ok(parts)
}

/// Runs the job with the Spark launcher on the local `input`; output in `output_dir` (must not
/// exist or be empty), scratch in `work_dir`.
pub fn run_spark(
    launcher: &Path,
    executables: &Executables,
    reducers: usize,
    input: &Path,
    (output_dir, work_dir): (&Path, &Path),
) -> Result<JobResult, JobError> {
    let counters_json = work_dir.join("counters.json");
    let mut command = Command::new(launcher);
    command
        .arg("--work-dir")
        .arg(work_dir.join("spark"))
        .arg("--output-dir")
        .arg(output_dir)
        .arg("--mapper")
        .arg(&executables.mapper)
        .arg("--reducer")
        .arg(&executables.reducer)
        .args(["--reducers", &reducers.to_string(), "--combiner"])
        .arg("--counters-json")
        .arg(&counters_json)
        .arg(input);
    let out = run_program(launcher, command)?;
    if !out.status.success() {
        return Err(failed(launcher, &out, None));
    }
    let read_counters = || -> io::Result<BTreeMap<String, u64>> {
        Ok(serde_json::from_slice(&fs::read(&counters_json)?)?)
    };
    let totals = read_counters().map_err(|source| JobError::Counters {
        path: counters_json.clone(),
        source,
    })?;
    Ok(JobResult {
        parts: local_parts(output_dir)?,
        counters: JobCounters::from_dotted(&totals),
        job_id: None,
    })
}

/// Runs the job with the local runner on `input`; output in `output_dir`, spill files in
/// `work_dir`.
pub fn run_local(
    executables: &Executables,
    reducers: usize,
    input: &Path,
    (output_dir, work_dir): (&Path, &Path),
) -> Result<JobResult, JobError> {
    let config = RunnerConfig {
        mapper: executables.mapper.clone(),
        reducer: executables.reducer.clone(),
        sort: PathBuf::from("sort"),
        inputs: vec![Input::File(input.to_path_buf())],
        reducers,
        combiner: true,
        strict: false,
        jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
        work_dir: work_dir.join("local-runner"),
        output_dir: output_dir.to_path_buf(),
    };
    let summary = runner::run(&config)?;
    Ok(JobResult {
        parts: summary.parts,
        counters: JobCounters::from_dotted(&summary.counters),
        job_id: None,
    })
}

/// The `part-*` files of a local output directory, in name order.
fn local_parts(dir: &Path) -> Result<Vec<PathBuf>, JobError> {
    if !dir.join("_SUCCESS").is_file() {
        return Err(JobError::Unfinished(dir.display().to_string()));
    }
    let io_error = |source| JobError::Io {
        action: "reading",
        path: dir.into(),
        source,
    };
    let mut parts = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_error)? {
        let entry = entry.map_err(io_error)?;
        if entry.file_name().to_string_lossy().starts_with("part-") {
            parts.push(entry.path());
        }
    }
    parts.sort();
    Ok(parts)
}

fn create_dir(dir: &Path) -> Result<(), JobError> {
    fs::create_dir_all(dir).map_err(|source| JobError::Io {
        action: "creating",
        path: dir.into(),
        source,
    })
}

/// How `-mapper`/`-reducer` name an executable shipped with `-files`: its file name.
fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |name| name.to_string_lossy().into_owned(),
    )
}

fn run_program(program: &Path, mut command: Command) -> Result<Output, JobError> {
    command
        .stdin(Stdio::null())
        .output()
        .map_err(|source| JobError::Spawn {
            program: program.into(),
            source,
        })
}

fn failed(program: &Path, out: &Output, job_id: Option<String>) -> JobError {
    let log = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = log.lines().collect();
    JobError::Failed {
        program: program.into(),
        status: out.status.to_string(),
        job_id,
        log_tail: lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n"),
    }
}
