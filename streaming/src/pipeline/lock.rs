//! The guard against overlapping runs on one host: an exclusive, non-blocking `flock` on a
//! lock file, held for the whole run and released by the kernel when the process ends, however
//! it ends (no stale lock after a crash or `kill -9`). The holder writes its process id into
//! the file, so the refusal can say who holds it.
//!
//! The export's advisory lock in PostgreSQL ([`mhfz_store::begin_export`]) is the same guard
//! for runs on other hosts sharing the database.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};

/// The lock of a run; dropping it releases the lock.
#[derive(Debug)]
pub struct RunLock {
    file: File,
    path: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("another run holds the lock file {path}{holder}", path = .path.display(),
        holder = .holder.as_ref().map(|pid| format!(" (process {pid})")).unwrap_or_default())]
    Held {
        path: PathBuf,
        /// The holder's process id, as it wrote it.
        holder: Option<u32>,
    },
    #[error("cannot use the lock file {path}", path = .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl RunLock {
    /// Takes the lock on `path` (created if missing) without waiting.
    pub fn acquire(path: &Path) -> Result<RunLock, LockError> {
        let io_error = |source| LockError::Io {
            path: path.into(),
            source,
        };
        // Not truncated on open: the holder's process id stays readable until we hold the lock.
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(io_error)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut text = String::new();
                let holder = file
                    .read_to_string(&mut text)
                    .ok()
                    .and_then(|_| text.trim().parse().ok());
                return Err(LockError::Held {
                    path: path.into(),
                    holder,
                });
            }
            Err(TryLockError::Error(source)) => return Err(io_error(source)),
        }
        file.set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| writeln!(file, "{}", std::process::id()))
            .and_then(|()| file.flush())
            .map_err(io_error)?;
        Ok(RunLock {
            file,
            path: path.into(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        // Closing the file releases the lock anyway; unlocking first makes it explicit.
        let _ = self.file.unlock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.lock");
        let first = RunLock::acquire(&path).unwrap();
        assert_eq!(first.path(), path);
        match RunLock::acquire(&path) {
            Err(LockError::Held {
                path: held,
                holder: Some(pid),
            }) => {
                assert_eq!(held, path);
                assert_eq!(pid, std::process::id());
            }
            other => panic!("{other:?}"),
        }
        let message = RunLock::acquire(&path).unwrap_err().to_string();
        assert!(
            message.contains(&path.display().to_string()) && message.contains("process"),
            "{message}"
        );
        drop(first);
        RunLock::acquire(&path).unwrap();
    }

    #[test]
    fn an_unusable_lock_file_is_an_error_naming_it() {
        let error = RunLock::acquire(Path::new("/nonexistent-mhfz-dir/run.lock")).unwrap_err();
        assert!(matches!(error, LockError::Io { .. }));
        assert!(error.to_string().contains("/nonexistent-mhfz-dir/run.lock"));
    }
}
