//! `mhfz-loader`: loads one run's output rows (the reducers' output) into Hive.
//!
//! 1. the input files are checked: every line a row of its kind ([`RowKind::of_line`]) with
//!    that kind's number of fields, and split into one file per kind, tags dropped;
//! 2. the HiveQL is rendered ([`crate::hive::render_load_run`]), before anything is changed;
//! 3. each kind's files replace the run's partition directory below its table's location
//!    ([`placement`], [`HiveTable::for_kind`]), on HDFS through WebHDFS or on the local file
//!    system;
//! 4. beeline registers the table and the partition through HiveServer2 ([`beeline`]).
//!
//! Every run stays as a partition of its own; loading a run again replaces only its partition.

pub mod beeline;
pub mod placement;

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::hive::{render_load_run, HiveError, HiveTable, RunId};
use crate::row::RowKind;

use self::beeline::{Beeline, BeelineError};
use self::placement::{replace_partition_files, FileSystem, PlacementError};

/// What one load did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadSummary {
    pub files: usize,
    /// Rows of every kind.
    pub rows: u64,
    /// Rows per kind, in [`RowKind::ALL`] order.
    pub rows_per_kind: [u64; 3],
    /// The statistics partition's location, as registered in Hive (the other tables'
    /// partitions are beside it, see [`HiveTable::for_kind`]).
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

/// Checks that every line of `path` is an output row (newline-terminated, as many
/// tab-separated fields as its kind's table has columns, plus the tag); returns the number of
/// rows.
pub fn check_rows(path: &Path) -> Result<u64, LoadError> {
    Ok(split_rows(path, |_, _| Ok(()))?.iter().sum())
}

/// Reads the rows of `path`, checking each as [`check_rows`] does, and passes each kind's table
/// row (without its tag, with its newline) to `row`; returns the rows per kind.
fn split_rows(
    path: &Path,
    mut row: impl FnMut(RowKind, &[u8]) -> io::Result<()>,
) -> Result<[u64; 3], LoadError> {
    let io_error = |source| LoadError::Input {
        path: path.into(),
        source,
    };
    let mut reader = BufReader::new(File::open(path).map_err(io_error)?);
    let mut line = Vec::new();
    let mut rows = 0;
    let mut per_kind = [0; 3];
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).map_err(io_error)? == 0 {
            return Ok(per_kind);
        }
        rows += 1;
        let (kind, table_row) = RowKind::split_line(&line);
        let expected = kind.columns().len();
        let problem = if line.last() != Some(&b'\n') {
            Some("does not end with a newline".to_string())
        } else {
            let fields = table_row.split(|&b| b == b'\t').count();
            (fields != expected).then(|| {
                format!(
                    "has {fields} tab-separated fields, a {} row has {expected}",
                    kind.table_name()
                )
            })
        };
        if let Some(problem) = problem {
            return Err(LoadError::BadRow {
                path: path.into(),
                line: rows,
                problem,
            });
        }
        per_kind[kind as usize] += 1;
        row(kind, table_row).map_err(|source| LoadError::Split {
            path: path.into(),
            source,
        })?;
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

/// Loads the output rows in `inputs` as run `run_id`: checks them, splits them by kind, places
/// each kind's files in the partition directory of its table on `fs` (`table` is the statistics
/// table; the table location's scheme must be `fs`'s), and registers the partitions through
/// `beeline`. Nothing is placed when a row is bad or the HiveQL cannot be rendered.
pub fn load_run(
    table: &HiveTable<'_>,
    run_id: &RunId,
    inputs: &[PathBuf],
    fs: &dyn FileSystem,
    beeline: &Beeline,
) -> Result<LoadSummary, LoadError> {
    let files = input_files(inputs)?;
    let kind_tables = RowKind::ALL.map(|kind| table.for_kind(kind));
    let table_dirs = kind_tables
        .iter()
        .map(|kind_table| location_path(&kind_table.location, fs.scheme()))
        .collect::<Result<Vec<_>, _>>()?;
    let split_dir = tempfile::Builder::new()
        .prefix("mhfz-loader.")
        .tempdir()
        .map_err(|source| LoadError::Split {
            path: std::env::temp_dir(),
            source,
        })?;
    let mut split_files: [Vec<PathBuf>; 3] = Default::default();
    let mut rows_per_kind = [0; 3];
    for (index, file) in files.iter().enumerate() {
        let mut writers = Vec::new();
        for kind in RowKind::ALL {
            let path = split_dir
                .path()
                .join(format!("{}-{index:05}", kind.table_name()));
            let writer = File::create(&path).map_err(|source| LoadError::Split {
                path: path.clone(),
                source,
            })?;
            split_files[kind as usize].push(path);
            writers.push(BufWriter::new(writer));
        }
        let counts = split_rows(file, |kind, row| writers[kind as usize].write_all(row))?;
        for mut writer in writers {
            writer.flush().map_err(|source| LoadError::Split {
                path: file.clone(),
                source,
            })?;
        }
        for (total, count) in rows_per_kind.iter_mut().zip(counts) {
            *total += count;
        }
    }
    let marker = done_marker(run_id);
    let script = render_load_run(table, run_id, &marker)?;
    for (table_dir, kind_files) in table_dirs.iter().zip(&split_files) {
        replace_partition_files(fs, table_dir, run_id, kind_files)?;
    }
    beeline.run_script(&script, &marker)?;
    Ok(LoadSummary {
        files: files.len(),
        rows: rows_per_kind.iter().sum(),
        rows_per_kind,
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
    #[error("splitting {path} by row kind failed", path = .path.display())]
    Split {
        path: PathBuf,
        #[source]
        source: io::Error,
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

    const COLUMN_COUNT: usize = crate::row::COLUMN_COUNT;

    fn row(fields: usize) -> String {
        let mut row = vec!["1"; fields].join("\t");
        row.push('\n');
        row
    }

    #[test]
    fn rows_must_have_every_column_and_a_newline() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good");
        let histogram = "histogram\tclass\tbow\t\\N\tattack\t100\t100\t3\n";
        let top = "top\tbow\tattack\t1\tbow:base:l1\tB\t1\t120\n";
        fs::write(&good, row(COLUMN_COUNT).repeat(3) + histogram + top).unwrap();
        assert_eq!(check_rows(&good).unwrap(), 5);
        let mut split = Vec::new();
        let counts = split_rows(&good, |kind, row| {
            split.push((kind, String::from_utf8(row.to_vec()).unwrap()));
            Ok(())
        })
        .unwrap();
        assert_eq!(counts, [3, 1, 1]);
        assert_eq!(
            split[3..],
            [
                (
                    RowKind::Histogram,
                    histogram["histogram\t".len()..].to_string()
                ),
                (RowKind::Top, top["top\t".len()..].to_string())
            ]
        );
        let short_top = dir.path().join("short_top");
        fs::write(&short_top, "top\tbow\tattack\n").unwrap();
        let error = check_rows(&short_top).unwrap_err().to_string();
        assert!(error.ends_with("a weapon_top row has 7"), "{error}");
        let empty = dir.path().join("empty");
        fs::write(&empty, "").unwrap();
        assert_eq!(check_rows(&empty).unwrap(), 0);

        let short = dir.path().join("short");
        fs::write(&short, row(COLUMN_COUNT) + &row(COLUMN_COUNT - 1)).unwrap();
        let error = check_rows(&short).unwrap_err().to_string();
        assert!(
            error.ends_with(
                "short line 2 has 23 tab-separated fields, a weapon_statistics row has 24"
            ),
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
