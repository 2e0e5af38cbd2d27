//! A local stand-in for a Hadoop streaming job, in the manner of mrjob's local runner.
//!
//! The real executables run as child processes, wired as Hadoop would:
//!
//! 1. **Map**, one task per input file (or standard input): `mhfz-mapper`, then with
//!    `--combiner` `LC_ALL=C sort | mhfz-reducer --combiner`. The runner splits the task's output
//!    into one spill file per reducer by Hadoop's own partitioner ([`partition`]), so every
//!    `part-` file is byte-identical to Hadoop streaming's (and the Spark engine's).
//! 2. **Reduce**, one task per partition: `LC_ALL=C sort <the partition's spill files> |
//!    mhfz-reducer > part-NNNNN`.
//!
//! Tasks of a stage run in parallel (`jobs` at a time). Children's stderr is relayed with the
//! task name; their `reporter:counter:` lines are summed instead, and their status lines
//! dropped. A child that fails fails the run, naming the task, stage and exit status.
//!
//! The statistics are exact, so every row is the same for any number of reducers and with or
//! without the combiner; only which `part-` file holds a row changes. [`merge_parts`] gives the
//! canonical form: all rows, sorted byte-wise.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};

use crate::protocol::parse_counter_line;
use crate::row::RowKind;

/// One map task's input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    Stdin,
    File(PathBuf),
}

impl Input {
    fn name(&self) -> String {
        match self {
            Input::Stdin => "standard input".into(),
            Input::File(path) => path.display().to_string(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct RunnerConfig {
    pub mapper: PathBuf,
    /// Also the combiner (run with `--combiner`).
    pub reducer: PathBuf,
    /// The system `sort`; always run with `LC_ALL=C`.
    pub sort: PathBuf,
    /// One map task each; [`Input::Stdin`] at most once.
    pub inputs: Vec<Input>,
    pub reducers: usize,
    pub combiner: bool,
    /// Pass `--strict` to mapper, combiner and reducer.
    pub strict: bool,
    /// Tasks run at the same time.
    pub jobs: usize,
    /// Spill files go here.
    pub work_dir: PathBuf,
    /// `part-NNNNN` files go here.
    pub output_dir: PathBuf,
}

/// Counter totals, keyed `group.name`.
pub type Counters = BTreeMap<String, u64>;

/// What a run produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunSummary {
    /// `part-00000`.. in partition order, one per reducer.
    pub parts: Vec<PathBuf>,
    pub counters: Counters,
}

/// Runs the job: map stage, then reduce stage.
pub fn run(config: &RunnerConfig) -> Result<RunSummary, RunnerError> {
    if config.reducers == 0 {
        return Err(RunnerError::Config(
            "the number of reducers must be at least 1".into(),
        ));
    }
    if config.inputs.iter().filter(|i| **i == Input::Stdin).count() > 1 {
        return Err(RunnerError::Config(
            "standard input can be read only once".into(),
        ));
    }
    let inputs: Vec<Input> = if config.inputs.is_empty() {
        vec![Input::Stdin]
    } else {
        config.inputs.clone()
    };
    for dir in [&config.work_dir, &config.output_dir] {
        fs::create_dir_all(dir).map_err(|source| RunnerError::io("creating", dir, source))?;
    }
    let counters = Arc::new(Mutex::new(Counters::new()));

    run_tasks(config.jobs, inputs.len(), |task| {
        run_map_task(config, task, &inputs[task], &counters)
    })?;
    run_tasks(config.jobs, config.reducers, |partition| {
        run_reduce_task(config, partition, inputs.len(), &counters)
    })?;

    let counters = counters.lock().unwrap_or_else(|e| e.into_inner()).clone();
    Ok(RunSummary {
        parts: (0..config.reducers).map(|p| part_path(config, p)).collect(),
        counters,
    })
}

/// The job in this process, without child processes: `ndjson` through the mapper, sorted
/// byte-wise, through one reducer; returns the reducer's output. Skipped lines are dropped
/// silently. For small inputs (tests, a report of a few classes): the same code as the
/// executables, so the same rows.
pub fn run_in_process(ndjson: &[u8]) -> Result<Vec<u8>, crate::protocol::TaskError> {
    use crate::protocol::{ReportSettings, Reporter};
    let settings = ReportSettings::default();
    let mut mapped = Vec::new();
    let mut reporter = Reporter::new(io::sink(), "mhfz-mapper", &settings);
    crate::mapper::run_mapper(ndjson, &mut mapped, &mut reporter, &Default::default())?;
    let mut lines: Vec<&[u8]> = mapped.split_inclusive(|&b| b == b'\n').collect();
    lines.sort_unstable();
    let sorted = lines.concat();
    let mut output = Vec::new();
    let mut reporter = Reporter::new(io::sink(), "mhfz-reducer", &settings);
    crate::reducer::run_reducer(&sorted[..], &mut output, &mut reporter, &Default::default())?;
    Ok(output)
}

/// The reducer (partition) of a key, as Hadoop's default `HashPartitioner` on a `Text` key
/// chooses it: `(hashCode & i32::MAX) % reducers`, where `Text.hashCode` is
/// `WritableComparator.hashBytes`: `h = 31 * h + b` over the bytes read as signed Java bytes,
/// starting from 1.
pub fn partition(key: &[u8], reducers: usize) -> usize {
    let hash = key.iter().fold(1_i32, |hash, &byte| {
        hash.wrapping_mul(31).wrapping_add(i32::from(byte as i8))
    });
    (hash & i32::MAX) as usize % reducers.max(1)
}

/// Writes the rows of all `parts`, sorted byte-wise by `LC_ALL=C sort`, to `out`: the
/// canonical output, identical for any number of reducers.
pub fn merge_parts(
    sort: &Path,
    parts: &[PathBuf],
    out: &mut impl Write,
) -> Result<(), RunnerError> {
    let counters = Arc::new(Mutex::new(Counters::new()));
    let mut pipeline = Pipeline::new("merge".into(), &counters);
    let mut command = sort_command(sort);
    command.arg("--").args(parts).stdin(Stdio::null());
    let sorted = pipeline.spawn("sort", command, Stdio::piped())?;
    let copied = sorted
        .map_or(Ok(0), |mut sorted| io::copy(&mut sorted, out))
        .and_then(|_| out.flush())
        .map_err(|source| RunnerError::Io {
            what: "writing the merged output".into(),
            source,
        });
    pipeline.finish(copied)
}

/// Writes the merged output's rows into one file per table, `<dir>/<table>.tsv` (e.g.
/// `weapon_top.tsv`), as the loader would load them: each kind's rows, tags dropped, in the
/// merged order. Returns the rows per kind, in [`RowKind::ALL`] order.
pub fn write_table_files(merged: &[u8], dir: &Path) -> Result<[u64; 3], RunnerError> {
    fs::create_dir_all(dir).map_err(|source| RunnerError::io("creating", dir, source))?;
    let paths = RowKind::ALL.map(|kind| dir.join(format!("{}.tsv", kind.table_name())));
    let mut files = Vec::new();
    for path in &paths {
        let file =
            File::create(path).map_err(|source| RunnerError::io("creating", path, source))?;
        files.push(BufWriter::new(file));
    }
    let mut rows = [0; 3];
    for line in merged.split_inclusive(|&b| b == b'\n') {
        let (kind, row) = RowKind::split_line(line);
        rows[kind as usize] += 1;
        files[kind as usize]
            .write_all(row)
            .map_err(|source| RunnerError::io("writing", &paths[kind as usize], source))?;
    }
    for (path, mut file) in paths.iter().zip(files) {
        file.flush()
            .map_err(|source| RunnerError::io("writing", path, source))?;
    }
    Ok(rows)
}

fn part_path(config: &RunnerConfig, partition: usize) -> PathBuf {
    config.output_dir.join(format!("part-{partition:05}"))
}

fn spill_path(config: &RunnerConfig, task: usize, partition: usize) -> PathBuf {
    config
        .work_dir
        .join(format!("map-{task:05}-part-{partition:05}"))
}

fn sort_command(sort: &Path) -> Command {
    let mut command = Command::new(sort);
    command.env("LC_ALL", "C");
    command
}

fn task_command(program: &Path, strict: bool) -> Command {
    let mut command = Command::new(program);
    if strict {
        command.arg("--strict");
    }
    command
}

fn run_map_task(
    config: &RunnerConfig,
    task: usize,
    input: &Input,
    counters: &Arc<Mutex<Counters>>,
) -> Result<(), RunnerError> {
    let mut pipeline = Pipeline::new(format!("map task {task} ({})", input.name()), counters);
    let mut mapper = task_command(&config.mapper, config.strict);
    mapper.arg("--input-name").arg(input.name());
    mapper.stdin(match input {
        Input::Stdin => Stdio::inherit(),
        Input::File(path) => File::open(path)
            .map_err(|source| RunnerError::io("opening", path, source))?
            .into(),
    });
    let mut output = pipeline.spawn("mapper", mapper, Stdio::piped())?;
    if config.combiner {
        let mut sort = sort_command(&config.sort);
        sort.stdin(stdin_from(output));
        output = pipeline.spawn("sort", sort, Stdio::piped())?;
        let mut combiner = task_command(&config.reducer, config.strict);
        combiner.arg("--combiner").stdin(stdin_from(output));
        output = pipeline.spawn("combiner", combiner, Stdio::piped())?;
    }
    let spilled = match output {
        Some(output) => spill(config, task, output),
        None => Ok(()),
    };
    pipeline.finish(spilled)
}

fn stdin_from(output: Option<ChildStdout>) -> Stdio {
    output.map_or_else(Stdio::null, Stdio::from)
}

/// Splits a map task's output lines into one spill file per partition.
fn spill(config: &RunnerConfig, task: usize, output: impl Read) -> Result<(), RunnerError> {
    let mut spills = (0..config.reducers)
        .map(|partition| {
            let path = spill_path(config, task, partition);
            let file =
                File::create(&path).map_err(|source| RunnerError::io("creating", &path, source))?;
            Ok((path, BufWriter::new(file)))
        })
        .collect::<Result<Vec<_>, RunnerError>>()?;
    let mut output = BufReader::with_capacity(1 << 16, output);
    let mut line = Vec::new();
    loop {
        line.clear();
        let read = output
            .read_until(b'\n', &mut line)
            .map_err(|source| RunnerError::Io {
                what: format!("reading map task {task}'s output"),
                source,
            })?;
        if read == 0 {
            break;
        }
        if !line.ends_with(b"\n") {
            line.push(b'\n');
        }
        let key = line
            .split(|&b| b == b'\t' || b == b'\n')
            .next()
            .unwrap_or_default();
        let (path, spill) = &mut spills[partition(key, config.reducers)];
        spill
            .write_all(&line)
            .map_err(|source| RunnerError::io("writing", path, source))?;
    }
    for (path, mut spill) in spills {
        spill
            .flush()
            .map_err(|source| RunnerError::io("writing", &path, source))?;
    }
    Ok(())
}

fn run_reduce_task(
    config: &RunnerConfig,
    partition: usize,
    map_tasks: usize,
    counters: &Arc<Mutex<Counters>>,
) -> Result<(), RunnerError> {
    let mut pipeline = Pipeline::new(format!("reduce task {partition}"), counters);
    let mut sort = sort_command(&config.sort);
    sort.arg("--")
        .args((0..map_tasks).map(|task| spill_path(config, task, partition)))
        .stdin(Stdio::null());
    let sorted = pipeline.spawn("sort", sort, Stdio::piped())?;
    let part = part_path(config, partition);
    let file = File::create(&part).map_err(|source| RunnerError::io("creating", &part, source))?;
    let mut reducer = task_command(&config.reducer, config.strict);
    reducer.stdin(stdin_from(sorted));
    pipeline.spawn("reducer", reducer, file.into())?;
    pipeline.finish(Ok(()))
}

/// Runs `count` tasks on up to `jobs` threads; stops starting tasks after the first failure
/// and returns the failure of the lowest-numbered failed task.
fn run_tasks(
    jobs: usize,
    count: usize,
    task: impl Fn(usize) -> Result<(), RunnerError> + Sync,
) -> Result<(), RunnerError> {
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let errors = Mutex::new(Vec::new());
    thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, count.max(1)) {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, Ordering::SeqCst);
                if index >= count || failed.load(Ordering::SeqCst) {
                    break;
                }
                if let Err(error) = task(index) {
                    failed.store(true, Ordering::SeqCst);
                    errors
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push((index, error));
                }
            });
        }
    });
    let mut errors = errors.into_inner().unwrap_or_else(|e| e.into_inner());
    errors.sort_by_key(|(index, _)| *index);
    errors
        .into_iter()
        .next()
        .map_or(Ok(()), |(_, error)| Err(error))
}

/// The child processes of one task, connected by pipes, with their stderr relays.
struct Pipeline<'a> {
    task: String,
    counters: &'a Arc<Mutex<Counters>>,
    stages: Vec<(&'static str, Child, JoinHandle<()>)>,
}

impl<'a> Pipeline<'a> {
    fn new(task: String, counters: &'a Arc<Mutex<Counters>>) -> Pipeline<'a> {
        Pipeline {
            task,
            counters,
            stages: Vec::new(),
        }
    }

    /// Starts `command` (its stdin already set) with `stdout`; returns the stdout pipe if
    /// `stdout` was [`Stdio::piped`].
    fn spawn(
        &mut self,
        stage: &'static str,
        mut command: Command,
        stdout: Stdio,
    ) -> Result<Option<ChildStdout>, RunnerError> {
        let spawned = command.stdout(stdout).stderr(Stdio::piped()).spawn();
        let mut child = match spawned {
            Ok(child) => child,
            Err(source) => {
                self.abort();
                return Err(RunnerError::Spawn {
                    task: self.task.clone(),
                    stage,
                    program: PathBuf::from(command.get_program()),
                    source,
                });
            }
        };
        let stderr = child.stderr.take().expect("stderr is piped");
        let relay = relay_stderr(
            format!("{} {stage}", self.task),
            stderr,
            Arc::clone(self.counters),
        );
        let stdout = child.stdout.take();
        self.stages.push((stage, child, relay));
        Ok(stdout)
    }

    /// Kills the children started so far (after a later stage could not start).
    fn abort(&mut self) {
        for (_, child, _) in &mut self.stages {
            let _ = child.kill();
        }
        let _ = self.wait_all();
    }

    fn wait_all(&mut self) -> Vec<(&'static str, io::Result<ExitStatus>)> {
        self.stages
            .drain(..)
            .map(|(stage, mut child, relay)| {
                let status = child.wait();
                let _ = relay.join();
                (stage, status)
            })
            .collect()
    }

    /// Waits for every child. A failed child is the error (all failures are named: a crash
    /// downstream can make an upstream stage fail too); otherwise `own` (the runner's part).
    /// Our own broken pipe comes first: the children it stopped did not fail by themselves.
    fn finish(mut self, own: Result<(), RunnerError>) -> Result<(), RunnerError> {
        if own.as_ref().is_err_and(|e| crate::cli::is_broken_pipe(e)) {
            for (_, child, _) in &mut self.stages {
                let _ = child.kill();
            }
            self.wait_all();
            return own;
        }
        let failures: Vec<String> = self
            .wait_all()
            .into_iter()
            .filter_map(|(stage, status)| match status {
                Ok(status) if status.success() => None,
                Ok(status) => Some(format!("{stage} failed ({status})")),
                Err(e) => Some(format!("waiting for the {stage} failed ({e})")),
            })
            .collect();
        if failures.is_empty() {
            own
        } else {
            Err(RunnerError::TaskFailed {
                task: self.task.clone(),
                failures: failures.join("; "),
            })
        }
    }
}

/// Relays a child's stderr: counter lines are summed, status lines dropped, anything else is
/// written to our stderr prefixed with the task and stage.
fn relay_stderr(
    label: String,
    stderr: impl Read + Send + 'static,
    counters: Arc<Mutex<Counters>>,
) -> JoinHandle<()> {
    thread::spawn(move || {
        let mut reader = BufReader::new(stderr);
        let mut line = Vec::new();
        while matches!(reader.read_until(b'\n', &mut line), Ok(n) if n > 0) {
            let text = String::from_utf8_lossy(&line);
            let text = text.trim_end_matches(['\n', '\r']);
            if let Some((group, name, amount)) = parse_counter_line(text) {
                let mut counters = counters.lock().unwrap_or_else(|e| e.into_inner());
                *counters.entry(format!("{group}.{name}")).or_default() += amount;
            } else if !text.starts_with("reporter:status:") {
                let _ = writeln!(io::stderr().lock(), "[{label}] {text}");
            }
            line.clear();
        }
    })
}

/// Why a local run failed.
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    #[error("{0}")]
    Config(String),
    #[error("{what}")]
    Io {
        what: String,
        #[source]
        source: io::Error,
    },
    #[error("{task}: cannot start the {stage} {program:?}")]
    Spawn {
        task: String,
        stage: &'static str,
        program: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{task}: {failures}")]
    TaskFailed { task: String, failures: String },
}

impl RunnerError {
    fn io(action: &str, path: &Path, source: io::Error) -> RunnerError {
        RunnerError::Io {
            what: format!("{action} {} failed", path.display()),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_are_hadoops_and_in_range() {
        // Text.hashCode: "a" → 31 + 97 = 128; "é" (C3 A9, signed -61 -87) → -1017, masked
        // 2147482631; "class|bow" overflows i32 (checked against Hadoop's HashPartitioner).
        assert_eq!(partition(b"a", usize::MAX), 128);
        assert_eq!(partition("é".as_bytes(), usize::MAX), 2_147_482_631);
        assert_eq!(partition(b"class|bow", usize::MAX), 1_942_452_837);
        for reducers in 1..5 {
            for key in ["all", "class|bow", "element|fire"] {
                assert!(partition(key.as_bytes(), reducers) < reducers);
            }
        }
        assert_eq!(partition(b"class|bow", 1), 0);
    }

    #[test]
    fn first_failed_task_is_reported() {
        let result = run_tasks(2, 5, |task| match task {
            1 | 3 => Err(RunnerError::Config(format!("task {task}"))),
            _ => Ok(()),
        });
        // Task 1 is always started (tasks are claimed in order), so it is the one reported.
        assert_eq!(result.unwrap_err().to_string(), "task 1");
        assert!(run_tasks(3, 0, |_| Ok(())).is_ok());
    }
}
