//! `mhfz-loader`: loads one run's statistics rows (the reducers' output) into Hive.
//!
//! 1. the input files are checked: every line a statistics row of [`COLUMN_COUNT`] fields;
//! 2. the HiveQL is rendered ([`crate::hive::render_load_run`]), before anything is changed;
//! 3. the files replace the run's partition directory below the table location
//!    ([`placement`]), on HDFS through WebHDFS or on the local file system;
//! 4. beeline registers the table and the partition through HiveServer2 ([`beeline`]).
//!
//! Every run stays as a partition of its own; loading a run again replaces only its partition.

pub mod beeline;
pub mod placement;

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader};
use std::path::{Path, PathBuf};

use crate::hive::{render_load_run, HiveError, HiveTable, RunId};
use crate::row::COLUMN_COUNT;

use self::beeline::{Beeline, BeelineError};
use self::placement::{replace_partition_files, FileSystem, PlacementError};

/// What one load did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadSummary {
    pub files: usize,
    pub rows: u64,
    /// The partition's location, as registered in Hive.
    pub partition_location: String,
}

/// The reducer output files among `inputs`: files as given; of a directory (a Hadoop job's
/// output), its `part-*` files in name order, and only when its `_SUCCESS` marker says the job
/// finished.
pub fn input_files(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, LoadError> {
    if inputs.is_empty() {
        return Err(LoadError::NoInput);
    }
    let mut files = Vec::new();
    for input in inputs {
        let io_error = |source| LoadError::Input {
            path: input.clone(),
            source,
        };
        if !fs::metadata(input).map_err(io_error)?.is_dir() {
            files.push(input.clone());
            continue;
        }
        if !input.join("_SUCCESS").is_file() {
            return Err(LoadError::Unfinished(input.clone()));
        }
        let mut parts = Vec::new();
        for entry in fs::read_dir(input).map_err(io_error)? {
            let entry = entry.map_err(io_error)?;
            if entry.file_name().to_string_lossy().starts_with("part-") {
                parts.push(entry.path());
            }
        }
        parts.sort();
        files.extend(parts);
    }
    Ok(files)
}

/// Checks that every line of `path` is a statistics row (tab-separated, [`COLUMN_COUNT`]
/// fields, newline-terminated); returns the number of rows.
pub fn check_rows(path: &Path) -> Result<u64, LoadError> {
    let io_error = |source| LoadError::Input {
        path: path.into(),
        source,
    };
    let mut reader = BufReader::new(File::open(path).map_err(io_error)?);
    let mut line = Vec::new();
    let mut rows = 0;
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).map_err(io_error)? == 0 {
            return Ok(rows);
        }
        rows += 1;
        let problem = if line.last() != Some(&b'\n') {
            Some("does not end with a newline".to_string())
        } else {
            let fields = line.split(|&b| b == b'\t').count();
            (fields != COLUMN_COUNT).then(|| {
                format!("has {fields} tab-separated fields, a statistics row has {COLUMN_COUNT}")
            })
        };
        if let Some(problem) = problem {
            return Err(LoadError::BadRow {
                path: path.into(),
                line: rows,
                problem,
            });
        }
    }
}

/// The path of a table location on its file system: `hdfs://host:port/a/b` and `file:///a/b`
/// are `/a/b`. The scheme must be `expected_scheme`.
pub fn location_path<'a>(location: &'a str, expected_scheme: &str) -> Result<&'a str, LoadError> {
    let path = location
        .strip_prefix(expected_scheme)
        .and_then(|rest| rest.strip_prefix("://"))
        .and_then(|rest| rest.find('/').map(|slash| &rest[slash..]))
        .filter(|path| path.len() > 1 && !path.split('/').any(|part| part == ".."));
    path.ok_or_else(|| LoadError::LocationPath {
        location: location.into(),
        scheme: expected_scheme.into(),
    })
}

/// The line the load script's last statement prints (see [`crate::hive::render_load_run`]).
pub fn done_marker(run_id: &RunId) -> String {
    format!("mhfz-loader done run_id={run_id}")
}

/// Loads the statistics rows in `inputs` as run `run_id` of `table`: checks them, places them in
/// the partition directory on `fs` (the table location's scheme must be `fs`'s), and registers
/// the partition through `beeline`. Nothing is placed when a row is bad or the HiveQL cannot be
/// rendered.
pub fn load_run(
    table: &HiveTable<'_>,
    run_id: &RunId,
    inputs: &[PathBuf],
    fs: &dyn FileSystem,
    beeline: &Beeline,
) -> Result<LoadSummary, LoadError> {
    let table_dir = location_path(table.location, fs.scheme())?;
    let files = input_files(inputs)?;
    let mut rows = 0;
    for file in &files {
        rows += check_rows(file)?;
    }
    let marker = done_marker(run_id);
    let script = render_load_run(table, run_id, &marker)?;
    replace_partition_files(fs, table_dir, run_id, &files)?;
    beeline.run_script(&script, &marker)?;
    Ok(LoadSummary {
        files: files.len(),
        rows,
        partition_location: table.partition_location(run_id),
    })
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("no input files given")]
    NoInput,
    #[error("cannot read {path}", path = .path.display())]
    Input {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{path} has no _SUCCESS file: its job did not finish", path = .0.display())]
    Unfinished(PathBuf),
    #[error("{path} line {line} {problem}", path = .path.display())]
    BadRow {
        path: PathBuf,
        line: u64,
        problem: String,
    },
    #[error("table location {location:?} is not a {scheme}:// URI with an absolute path")]
    LocationPath { location: String, scheme: String },
    #[error(transparent)]
    Hive(#[from] HiveError),
    #[error("placing the files into the partition directory failed")]
    Placement(#[from] PlacementError),
    #[error("registering the partition through HiveServer2 failed")]
    Beeline(#[from] BeelineError),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(fields: usize) -> String {
        let mut row = vec!["1"; fields].join("\t");
        row.push('\n');
        row
    }

    #[test]
    fn rows_must_have_every_column_and_a_newline() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good");
        fs::write(&good, row(COLUMN_COUNT).repeat(3)).unwrap();
        assert_eq!(check_rows(&good).unwrap(), 3);
        let empty = dir.path().join("empty");
        fs::write(&empty, "").unwrap();
        assert_eq!(check_rows(&empty).unwrap(), 0);

        let short = dir.path().join("short");
        fs::write(&short, row(COLUMN_COUNT) + &row(COLUMN_COUNT - 1)).unwrap();
        let error = check_rows(&short).unwrap_err().to_string();
        assert!(
            error.ends_with("short line 2 has 23 tab-separated fields, a statistics row has 24"),
            "{error}"
        );
        let cut = dir.path().join("cut");
        fs::write(&cut, row(COLUMN_COUNT).trim_end()).unwrap();
        let error = check_rows(&cut).unwrap_err().to_string();
        assert!(
            error.ends_with("cut line 1 does not end with a newline"),
            "{error}"
        );
    }

    #[test]
    fn job_output_directories_give_their_part_files_once_finished() {
        let dir = tempfile::tempdir().unwrap();
        let job = dir.path().join("job");
        fs::create_dir(&job).unwrap();
        for name in ["part-00001", "part-00000", ".part-00000.crc"] {
            fs::write(job.join(name), "").unwrap();
        }
        let single = dir.path().join("rows.tsv");
        fs::write(&single, "").unwrap();
        let inputs = [single.clone(), job.clone()];
        assert!(matches!(
            input_files(&inputs),
            Err(LoadError::Unfinished(_))
        ));
        fs::write(job.join("_SUCCESS"), "").unwrap();
        assert_eq!(
            input_files(&inputs).unwrap(),
            [single, job.join("part-00000"), job.join("part-00001")]
        );
        assert!(matches!(input_files(&[]), Err(LoadError::NoInput)));
        let error = input_files(&[dir.path().join("nope")])
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("cannot read ") && error.ends_with("nope"),
            "{error}"
        );
    }

    #[test]
    fn location_paths() {
        assert_eq!(
            location_path("hdfs://127.0.0.1:8020/mhfz/stats", "hdfs").unwrap(),
            "/mhfz/stats"
        );
        assert_eq!(location_path("file:///tmp/x", "file").unwrap(), "/tmp/x");
        for (location, scheme) in [
            ("file:///tmp/x", "hdfs"),
            ("hdfs://host", "hdfs"),
            ("hdfs://host/", "hdfs"),
            ("hdfs://host/a/../b", "hdfs"),
            ("hdfsx://host/a", "hdfs"),
        ] {
            assert!(location_path(location, scheme).is_err(), "{location}");
        }
    }
}
