//! node_exporter textfile-collector files, written atomically.
//!
//! The collector reads every `*.prom` file of its directory at each scrape; a file caught
//! half-written would be rejected (or worse, read short). So the text goes to a hidden temporary
//! file in the same directory (same file system: the rename is atomic; not `*.prom`: never
//! read), is flushed to disk, and renamed over the target; the directory is synced so the
//! rename survives a crash.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::MetricsError;

/// Writes `text` to `dir/file_name` (a plain `*.prom` name) atomically; returns the path.
pub fn write_textfile(dir: &Path, file_name: &str, text: &str) -> Result<PathBuf, MetricsError> {
    if !file_name.ends_with(".prom")
        || file_name.starts_with('.')
        || file_name.contains(['/', '\\'])
    {
        return Err(MetricsError::TextfileName {
            file: file_name.into(),
        });
    }
    let path = dir.join(file_name);
    let failed = |action| {
        let path = path.clone();
        move |source| MetricsError::Io {
            action,
            path,
            source,
        }
    };
    let mut temp = tempfile::Builder::new()
        .prefix(&format!(".{file_name}."))
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(failed("creating a temporary file beside"))?;
    temp.write_all(text.as_bytes())
        .map_err(failed("writing a temporary file for"))?;
    // Temporary files are private; node_exporter usually runs as another user.
    set_readable(temp.as_file()).map_err(failed("setting the permissions of"))?;
    temp.as_file()
        .sync_all()
        .map_err(failed("syncing a temporary file for"))?;
    temp.persist(&path)
        .map_err(|error| failed("renaming a temporary file to")(error.error))?;
    File::open(dir)
        .and_then(|dir| dir.sync_all())
        .map_err(failed("syncing the directory of"))?;
    Ok(path)
}

#[cfg(unix)]
fn set_readable(file: &File) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn set_readable(_file: &File) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_is_replaced_whole_and_nothing_else_is_left() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_textfile(dir.path(), "job.prom", "a 1\n").unwrap();
        assert_eq!(path, dir.path().join("job.prom"));
        assert_eq!(fs::read_to_string(&path).unwrap(), "a 1\n");
        write_textfile(dir.path(), "job.prom", "a 2\n").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "a 2\n");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(names, ["job.prom"]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o644);
        }
    }

    #[test]
    fn names_must_be_plain_prom_files() {
        let dir = tempfile::tempdir().unwrap();
        for bad in ["job.txt", ".job.prom", "a/job.prom", "prom"] {
            assert!(
                matches!(
                    write_textfile(dir.path(), bad, ""),
                    Err(MetricsError::TextfileName { .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_missing_directory_is_an_error_naming_the_file() {
        let error = write_textfile(Path::new("/nonexistent-mhfz-dir"), "job.prom", "")
            .unwrap_err()
            .to_string();
        assert!(error.contains("/nonexistent-mhfz-dir/job.prom"), "{error}");
    }
}
