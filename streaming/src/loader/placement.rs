//! Placing a run's statistics files into its partition directory, replacing an earlier load.
//!
//! The files are first written to a hidden staging directory beside the partition (names
//! starting with `_` are skipped by Hive and MapReduce); then the old partition directory, if
//! any, is renamed aside, the staging directory renamed into place, and the old one deleted. A
//! query sees the old files or the new ones, never a mixture; other runs' directories are never
//! touched.
//!
//! The same steps run on any [`FileSystem`]: the local one (`file://` table locations) or HDFS
//! through WebHDFS (`hdfs://`).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::hive::RunId;
use crate::webhdfs::{WebHdfs, WebHdfsError};

/// The operations placement needs, on absolute `/`-separated paths.
pub trait FileSystem {
    /// The URI scheme of locations on this file system (`file`, `hdfs`).
    fn scheme(&self) -> &'static str;
    /// Creates `dir` and its parents; no error when it exists.
    fn create_dirs(&self, dir: &str) -> Result<(), PlacementError>;
    /// Copies the local file `source` to `target` (which does not exist yet).
    fn upload(&self, source: &Path, target: &str) -> Result<(), PlacementError>;
    /// Whether `path` exists.
    fn exists(&self, path: &str) -> Result<bool, PlacementError>;
    /// Renames `from` to `to` (which does not exist).
    fn rename(&self, from: &str, to: &str) -> Result<(), PlacementError>;
    /// Deletes `path` and everything below it; no error when it does not exist.
    fn delete_all(&self, path: &str) -> Result<(), PlacementError>;
    /// How error messages name `path` (e.g. with its scheme).
    fn display(&self, path: &str) -> String;
}

/// Puts `files` into `<table_dir>/run_id=<id>/` as `part-00000`, `part-00001`, ... in the order
/// given, replacing the directory an earlier load of the same run left. Returns the directory.
pub fn replace_partition_files(
    fs: &dyn FileSystem,
    table_dir: &str,
    run_id: &RunId,
    files: &[PathBuf],
) -> Result<String, PlacementError> {
    let names: Vec<String> = (0..files.len()).map(|i| format!("part-{i:05}")).collect();
    let named: Vec<(&Path, &str)> = files
        .iter()
        .zip(&names)
        .map(|(file, name)| (file.as_path(), name.as_str()))
        .collect();
    replace_partition_named(fs, table_dir, run_id, &named)
}

/// Puts each `(file, name)` into `<table_dir>/run_id=<id>/NAME`, replacing the directory an
/// earlier placement of the same run left: readers see the old directory or the new one, whole.
/// Returns the directory.
pub fn replace_partition_named(
    fs: &dyn FileSystem,
    table_dir: &str,
    run_id: &RunId,
    files: &[(&Path, &str)],
) -> Result<String, PlacementError> {
    let table_dir = table_dir.trim_end_matches('/');
    let partition = format!("{table_dir}/{}", run_id.partition_dir());
    let unique = unique_suffix();
    let staging = format!(
        "{table_dir}/_mhfz-loading.{}.{unique}",
        run_id.partition_dir()
    );
    let replaced = format!(
        "{table_dir}/_mhfz-replaced.{}.{unique}",
        run_id.partition_dir()
    );

    fs.create_dirs(&staging)?;
    let staged = files
        .iter()
        .try_for_each(|(file, name)| fs.upload(file, &format!("{staging}/{name}")));
    if let Err(error) = staged {
        let _ = fs.delete_all(&staging);
        return Err(error);
    }
    let had_old = fs.exists(&partition)?;
    if had_old {
        if let Err(error) = fs.rename(&partition, &replaced) {
            let _ = fs.delete_all(&staging);
            return Err(error);
        }
    }
    if let Err(error) = fs.rename(&staging, &partition) {
        // Put the earlier load back, so the partition keeps its files.
        if had_old {
            let _ = fs.rename(&replaced, &partition);
        }
        let _ = fs.delete_all(&staging);
        return Err(error);
    }
    if had_old {
        fs.delete_all(&replaced)?;
    }
    Ok(partition)
}

/// Distinguishes the staging directories of concurrent or repeated loads.
fn unique_suffix() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    format!("{}-{nanos}", std::process::id())
}

/// The local file system (`file://` locations).
#[derive(Clone, Copy, Debug, Default)]
pub struct LocalFileSystem;

impl LocalFileSystem {
    fn error(&self, operation: &'static str, path: &str, source: io::Error) -> PlacementError {
        PlacementError::Io {
            operation,
            path: self.display(path),
            source,
        }
    }
}

impl FileSystem for LocalFileSystem {
    fn scheme(&self) -> &'static str {
        "file"
    }

    fn create_dirs(&self, dir: &str) -> Result<(), PlacementError> {
        fs::create_dir_all(dir).map_err(|e| self.error("create directory", dir, e))
    }

    fn upload(&self, source: &Path, target: &str) -> Result<(), PlacementError> {
        fs::copy(source, target)
            .map(drop)
            .map_err(|e| self.error("copy to", target, e))
    }

    fn exists(&self, path: &str) -> Result<bool, PlacementError> {
        Path::new(path)
            .try_exists()
            .map_err(|e| self.error("inspect", path, e))
    }

    fn rename(&self, from: &str, to: &str) -> Result<(), PlacementError> {
        fs::rename(from, to).map_err(|e| self.error("rename", from, e))
    }

    fn delete_all(&self, path: &str) -> Result<(), PlacementError> {
        match fs::remove_dir_all(path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(self.error("delete", path, e)),
            _ => Ok(()),
        }
    }

    fn display(&self, path: &str) -> String {
        format!("file://{path}")
    }
}

/// HDFS through WebHDFS (`hdfs://` locations).
impl FileSystem for WebHdfs {
    fn scheme(&self) -> &'static str {
        "hdfs"
    }

    fn create_dirs(&self, dir: &str) -> Result<(), PlacementError> {
        Ok(self.mkdirs(dir)?)
    }

    fn upload(&self, source: &Path, target: &str) -> Result<(), PlacementError> {
        let file = fs::File::open(source).map_err(|source_error| PlacementError::Io {
            operation: "read",
            path: source.display().to_string(),
            source: source_error,
        })?;
        Ok(self.create(target, file, false)?)
    }

    fn exists(&self, path: &str) -> Result<bool, PlacementError> {
        Ok(self.status(path)?.is_some())
    }

    fn rename(&self, from: &str, to: &str) -> Result<(), PlacementError> {
        Ok(WebHdfs::rename(self, from, to)?)
    }

    fn delete_all(&self, path: &str) -> Result<(), PlacementError> {
        self.delete(path, true)?;
        Ok(())
    }

    fn display(&self, path: &str) -> String {
        format!("hdfs://{path}")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PlacementError {
    #[error("cannot {operation} {path}")]
    Io {
        operation: &'static str,
        path: String,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    WebHdfs(#[from] WebHdfsError),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        fs::write(&path, text).unwrap();
        path
    }

    fn listing(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_reload_replaces_only_that_runs_directory() {
        let inputs = tempfile::tempdir().unwrap();
        let table = tempfile::tempdir().unwrap();
        let table_dir = table.path().join("stats");
        let table_dir = table_dir.to_str().unwrap();
        let run_a = RunId::parse("a").unwrap();
        let run_b = RunId::parse("b").unwrap();
        let first = [
            write(inputs.path(), "1", "a1\n"),
            write(inputs.path(), "2", "a2\n"),
        ];
        let placed = replace_partition_files(&LocalFileSystem, table_dir, &run_a, &first).unwrap();
        assert_eq!(placed, format!("{table_dir}/run_id=a"));
        replace_partition_files(&LocalFileSystem, table_dir, &run_b, &first[..1]).unwrap();
        let again = [write(inputs.path(), "3", "a3\n")];
        replace_partition_files(&LocalFileSystem, table_dir, &run_a, &again).unwrap();

        let table_dir = Path::new(table_dir);
        assert_eq!(
            listing(table_dir),
            ["run_id=a", "run_id=b"],
            "no staging left"
        );
        assert_eq!(listing(&table_dir.join("run_id=a")), ["part-00000"]);
        assert_eq!(
            fs::read_to_string(table_dir.join("run_id=a/part-00000")).unwrap(),
            "a3\n"
        );
        assert_eq!(
            fs::read_to_string(table_dir.join("run_id=b/part-00000")).unwrap(),
            "a1\n"
        );
    }

    #[test]
    fn a_failed_upload_keeps_the_earlier_load() {
        let inputs = tempfile::tempdir().unwrap();
        let table = tempfile::tempdir().unwrap();
        let table_dir = table.path().to_str().unwrap();
        let run = RunId::parse("a").unwrap();
        let good = [write(inputs.path(), "1", "old\n")];
        replace_partition_files(&LocalFileSystem, table_dir, &run, &good).unwrap();
        let missing = [inputs.path().join("missing")];
        let error = replace_partition_files(&LocalFileSystem, table_dir, &run, &missing)
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("cannot copy to file://"), "{error}");
        assert_eq!(listing(table.path()), ["run_id=a"]);
        assert_eq!(
            fs::read_to_string(table.path().join("run_id=a/part-00000")).unwrap(),
            "old\n"
        );
    }
}
