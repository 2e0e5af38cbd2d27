//! Where an export's NDJSON goes. A sink takes the bytes, then [`Sink::commit`] puts them in
//! place all at once (a file appears complete or not at all); a sink dropped uncommitted
//! leaves nothing behind but what it already streamed to standard output.

use std::fmt;
use std::fs::{self, File};
use std::io::{self, BufWriter, Stdout, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use super::ExportError;

/// Output buffer: large enough that a write reaches the file or pipe once per ~100 records.
const BUFFER_BYTES: usize = 1 << 18;

/// Where to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    Stdout,
    /// A local file, written to a temporary file beside it and renamed into place.
    File(PathBuf),
}

impl Destination {
    /// `-` is standard output; anything else a file path.
    pub fn parse(text: &str) -> Destination {
        match text {
            "-" => Destination::Stdout,
            path => Destination::File(PathBuf::from(path)),
        }
    }

    /// Opens the sink.
    pub fn open(&self) -> Result<Box<dyn Sink>, ExportError> {
        match self {
            Destination::Stdout => Ok(Box::new(StdoutSink {
                out: BufWriter::with_capacity(BUFFER_BYTES, io::stdout()),
            })),
            Destination::File(path) => Ok(Box::new(FileSink::create(path)?)),
        }
    }

    /// How `mhfz.export_runs` records it: `stdout`, or the file's absolute path.
    pub fn record_name(&self) -> String {
        match self {
            Destination::Stdout => "stdout".into(),
            Destination::File(path) => std::path::absolute(path)
                .unwrap_or_else(|_| path.clone())
                .display()
                .to_string(),
        }
    }
}

impl fmt::Display for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Destination::Stdout => f.write_str("standard output"),
            Destination::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// An open output.
pub trait Sink: Write {
    /// Flushes everything and puts the output in place. An error means the output is not
    /// (completely) there.
    fn commit(self: Box<Self>) -> Result<(), ExportError>;
}

struct StdoutSink {
    out: BufWriter<Stdout>,
}

impl Write for StdoutSink {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.out.write(bytes)
    }

    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

impl Sink for StdoutSink {
    fn commit(mut self: Box<Self>) -> Result<(), ExportError> {
        self.out
            .flush()
            .map_err(|source| ExportError::output("writing to", &Destination::Stdout, source))
    }
}

/// A temporary file beside the target, renamed over it by `commit`; dropped, it is deleted.
struct FileSink {
    path: PathBuf,
    out: BufWriter<NamedTempFile>,
}

impl FileSink {
    fn create(path: &Path) -> Result<FileSink, ExportError> {
        let dir = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        let temp = tempfile::Builder::new()
            .prefix(".mhfz-exporter-")
            .tempfile_in(dir)
            .map_err(|source| {
                ExportError::output(
                    "creating a temporary file beside",
                    &Destination::File(path.into()),
                    source,
                )
            })?;
        Ok(FileSink {
            path: path.to_path_buf(),
            out: BufWriter::with_capacity(BUFFER_BYTES, temp),
        })
    }
}

impl Write for FileSink {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.out.write(bytes)
    }

    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

impl Sink for FileSink {
    fn commit(self: Box<Self>) -> Result<(), ExportError> {
        let FileSink { path, out } = *self;
        let failed = |source| {
            ExportError::output("putting in place", &Destination::File(path.clone()), source)
        };
        let temp = out
            .into_inner()
            .map_err(|error| failed(error.into_error()))?;
        // Temporary files are created private; the export should be as readable as any file.
        set_default_permissions(temp.as_file()).map_err(failed)?;
        temp.as_file().sync_all().map_err(failed)?;
        temp.persist(&path).map_err(|error| failed(error.error))?;
        sync_parent_dir(&path).map_err(failed)
    }
}

#[cfg(unix)]
fn set_default_permissions(file: &File) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn set_default_permissions(_file: &File) -> io::Result<()> {
    Ok(())
}

/// Makes the rename durable before the export is recorded as done.
#[cfg(unix)]
fn sync_parent_dir(path: &Path) -> io::Result<()> {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_parent_dir(_path: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_appears_only_when_committed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.ndjson");
        let destination = Destination::File(path.clone());

        let mut dropped = destination.open().unwrap();
        dropped.write_all(b"{}\n").unwrap();
        drop(dropped);
        assert!(!path.exists());
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            0,
            "temp file left"
        );

        fs::write(&path, "old\n").unwrap();
        let mut sink = destination.open().unwrap();
        sink.write_all(b"{\"a\":1}\n").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "old\n");
        sink.commit().unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "{\"a\":1}\n");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_file_in_a_missing_directory_is_an_error_naming_it() {
        let destination = Destination::parse("/nonexistent-mhfz-dir/out.ndjson");
        let Err(error) = destination.open() else {
            panic!("opened a file in a missing directory");
        };
        assert!(
            error
                .to_string()
                .contains("/nonexistent-mhfz-dir/out.ndjson"),
            "{error}"
        );
    }

    #[test]
    fn destinations() {
        assert_eq!(Destination::parse("-"), Destination::Stdout);
        assert_eq!(Destination::Stdout.record_name(), "stdout");
        let file = Destination::parse("out/x.ndjson");
        assert!(file.record_name().ends_with("/out/x.ndjson"));
        assert!(Path::new(&file.record_name()).is_absolute());
    }
}
