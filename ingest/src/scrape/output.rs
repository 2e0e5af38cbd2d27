//! Where scraped records and rejected rows go: NDJSON on stdout (streamed page by page) or in
//! files that appear only when the run completes (temporary file, then rename).

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use mhfz_record::WeaponRecord;
use serde::Serialize;
use tempfile::NamedTempFile;

use crate::parse::{PageRef, RejectedRow};

/// Receives each page's results as soon as the page is done. (A Kafka producer is meant to be
/// another implementation.)
pub trait RecordSink {
    fn write_page(
        &mut self,
        page: &PageRef,
        records: &[WeaponRecord],
        rejects: &[RejectedRow],
    ) -> Result<(), OutputError>;
}

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("cannot create a temporary file next to {}: {source}", path.display())]
    Create {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("writing {target}: {source}")]
    Write {
        target: String,
        #[source]
        source: io::Error,
    },
    #[error("cannot move the finished output into place at {}: {source}", path.display())]
    Commit {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The Kafka brokers refused the sink's client: nothing more can be delivered.
    #[error(transparent)]
    Kafka(#[from] crate::kafka::KafkaRefusal),
}

impl OutputError {
    /// The reader of stdout went away (`| head`): not a failure of the scrape.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, OutputError::Write { source, .. } if source.kind() == io::ErrorKind::BrokenPipe)
    }
}

/// Where the records go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Destination {
    Stdout,
    File(PathBuf),
}

/// One line of the reject file.
#[derive(Serialize)]
struct RejectLine<'a> {
    page: &'a str,
    row_number: usize,
    site_row_id: Option<&'a str>,
    error: &'a str,
    raw_html: &'a str,
}

/// NDJSON records plus, optionally, an NDJSON reject file.
pub struct NdjsonOutput {
    records: NdjsonWriter,
    rejects: Option<NdjsonWriter>,
}

impl NdjsonOutput {
    pub fn new(records: Destination, rejects: Option<&Path>) -> Result<NdjsonOutput, OutputError> {
        Ok(NdjsonOutput {
            records: match records {
                Destination::Stdout => NdjsonWriter::stdout(),
                Destination::File(path) => NdjsonWriter::atomic_file(&path)?,
            },
            rejects: rejects.map(NdjsonWriter::atomic_file).transpose()?,
        })
    }

    /// Flushes everything and moves the files into place.
    pub fn finish(self) -> Result<(), OutputError> {
        self.records.finish()?;
        if let Some(rejects) = self.rejects {
            rejects.finish()?;
        }
        Ok(())
    }
}

impl RecordSink for NdjsonOutput {
    fn write_page(
        &mut self,
        _page: &PageRef,
        records: &[WeaponRecord],
        rejects: &[RejectedRow],
    ) -> Result<(), OutputError> {
        for record in records {
            self.records.write_line(record)?;
        }
        if let Some(file) = &mut self.rejects {
            for row in rejects {
                file.write_line(&RejectLine {
                    page: &row.page,
                    row_number: row.row_number,
                    site_row_id: row.site_row_id.as_deref(),
                    error: &row.error,
                    raw_html: &row.raw_html,
                })?;
            }
        }
        // Stdout streams page by page; files only matter once complete.
        self.records.flush_stream()
    }
}

enum Target {
    Stdout,
    /// Written to a temporary file beside `path`, renamed to `path` by `finish`.
    AtomicFile {
        path: PathBuf,
    },
}

struct NdjsonWriter {
    target: Target,
    out: BufWriter<Box<dyn Write>>,
    /// Kept until `finish`; dropping it (failed run) deletes the temporary file.
    temp: Option<NamedTempFile>,
}

impl NdjsonWriter {
    fn stdout() -> NdjsonWriter {
        NdjsonWriter {
            target: Target::Stdout,
            out: BufWriter::with_capacity(1 << 16, Box::new(io::stdout())),
            temp: None,
        }
    }

    fn atomic_file(path: &Path) -> Result<NdjsonWriter, OutputError> {
        let create_error = |source| OutputError::Create {
            path: path.to_path_buf(),
            source,
        };
        let dir = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        let temp = tempfile::Builder::new()
            .prefix(".mhfz-scraper-")
            .tempfile_in(dir)
            .map_err(create_error)?;
        let file = temp.reopen().map_err(create_error)?;
        Ok(NdjsonWriter {
            target: Target::AtomicFile {
                path: path.to_path_buf(),
            },
            out: BufWriter::with_capacity(1 << 16, Box::new(file)),
            temp: Some(temp),
        })
    }

    fn name(&self) -> String {
        match &self.target {
            Target::Stdout => "standard output".to_string(),
            Target::AtomicFile { path } => path.display().to_string(),
        }
    }

    fn write_error(&self, source: io::Error) -> OutputError {
        OutputError::Write {
            target: self.name(),
            source,
        }
    }

    fn write_line(&mut self, value: &impl Serialize) -> Result<(), OutputError> {
        let written = serde_json::to_writer(&mut self.out, value)
            .map_err(io::Error::from)
            .and_then(|()| self.out.write_all(b"\n"));
        written.map_err(|source| self.write_error(source))
    }

    fn flush_stream(&mut self) -> Result<(), OutputError> {
        match self.target {
            Target::Stdout => self.out.flush().map_err(|source| self.write_error(source)),
            Target::AtomicFile { .. } => Ok(()),
        }
    }

    fn finish(mut self) -> Result<(), OutputError> {
        self.out
            .flush()
            .map_err(|source| self.write_error(source))?;
        let (Target::AtomicFile { path }, Some(temp)) = (&self.target, self.temp.take()) else {
            return Ok(());
        };
        temp.as_file()
            .sync_all()
            .map_err(|source| self.write_error(source))?;
        let commit_error = |source| OutputError::Commit {
            path: path.clone(),
            source,
        };
        temp.persist(path)
            .map_err(|error| commit_error(error.error))?;
        // Temporary files are created private; the result should be as readable as any file.
        set_default_permissions(path).map_err(commit_error)
    }
}

#[cfg(unix)]
fn set_default_permissions(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn set_default_permissions(_path: &Path) -> io::Result<()> {
    Ok(())
}
