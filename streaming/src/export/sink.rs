//! Where an export's NDJSON goes. A sink takes the bytes, then [`Sink::commit`] puts them in
//! place all at once (a file appears complete or not at all, locally or on HDFS); a sink
//! dropped uncommitted leaves nothing behind but what it already streamed to standard output.

use std::fmt;
use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Stdout, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::JoinHandle;

use tempfile::NamedTempFile;

use super::ExportError;
use crate::webhdfs::{WebHdfs, WebHdfsError};

/// The scheme of HDFS destinations.
const HDFS_PREFIX: &str = "hdfs://";

/// Output buffer: large enough that a write reaches the file or pipe once per ~100 records.
const BUFFER_BYTES: usize = 1 << 18;

/// Where to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    Stdout,
    /// A local file, written to a temporary file beside it and renamed into place.
    File(PathBuf),
    /// A file on HDFS (its absolute path), written through WebHDFS to a temporary file beside
    /// it and renamed into place ([`WebHdfs::put_atomically`]).
    Hdfs(String),
}

impl Destination {
    /// `-` is standard output, `hdfs:///PATH` a file on HDFS (the NameNode is the WebHDFS
    /// client's), anything else a local file path.
    pub fn parse(text: &str) -> Result<Destination, ExportError> {
        if text == "-" {
            return Ok(Destination::Stdout);
        }
        let Some(rest) = text.strip_prefix(HDFS_PREFIX) else {
            return Ok(Destination::File(PathBuf::from(text)));
        };
        // The authority would be the NameNode's RPC address, which WebHDFS does not use: one
        // that may name another cluster than the client's is refused rather than ignored.
        let valid = rest.starts_with('/')
            && rest.len() > 1
            && !rest.ends_with('/')
            && !rest.split('/').any(|part| part == "." || part == "..");
        if valid {
            Ok(Destination::Hdfs(rest.into()))
        } else {
            Err(ExportError::HdfsPath(text.into()))
        }
    }

    /// Opens the sink; an HDFS destination is written through `hdfs`.
    pub fn open(&self, hdfs: Option<&WebHdfs>) -> Result<Box<dyn Sink>, ExportError> {
        match self {
            Destination::Stdout => Ok(Box::new(StdoutSink {
                out: BufWriter::with_capacity(BUFFER_BYTES, io::stdout()),
            })),
            Destination::File(path) => Ok(Box::new(FileSink::create(path)?)),
            Destination::Hdfs(path) => {
                let hdfs = hdfs.ok_or_else(|| ExportError::NoWebHdfs(self.to_string()))?;
                Ok(Box::new(HdfsSink::start(hdfs.clone(), path.clone())))
            }
        }
    }

    /// How `mhfz.export_runs` records it: `stdout`, the file's absolute path, or
    /// `hdfs:///PATH`.
    pub fn record_name(&self) -> String {
        match self {
            Destination::Stdout => "stdout".into(),
            Destination::File(path) => std::path::absolute(path)
                .unwrap_or_else(|_| path.clone())
                .display()
                .to_string(),
            Destination::Hdfs(_) => self.to_string(),
        }
    }
}

impl fmt::Display for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Destination::Stdout => f.write_str("standard output"),
            Destination::File(path) => write!(f, "{}", path.display()),
            Destination::Hdfs(path) => write!(f, "{HDFS_PREFIX}{path}"),
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

/// An upload to HDFS streaming from a thread: the bytes written go to it in chunks over a
/// bounded channel (memory stays bounded, HDFS receives while PostgreSQL sends). Only an
/// explicit end of data lets the upload finish and rename the file into place; a sink dropped
/// without it makes the upload fail, and the temporary file is removed.
struct HdfsSink {
    path: String,
    chunk: Vec<u8>,
    chunks: Option<SyncSender<Chunk>>,
    upload: Option<JoinHandle<Result<(), WebHdfsError>>>,
}

enum Chunk {
    Data(Vec<u8>),
    End,
}

/// Chunks in flight between the sink and the upload.
const HDFS_CHUNKS_IN_FLIGHT: usize = 4;

impl HdfsSink {
    fn start(hdfs: WebHdfs, path: String) -> HdfsSink {
        let (sender, receiver) = mpsc::sync_channel(HDFS_CHUNKS_IN_FLIGHT);
        let target = path.clone();
        let upload = std::thread::spawn(move || {
            let reader = ChunkReader {
                chunks: receiver,
                chunk: Vec::new(),
                position: 0,
            };
            hdfs.put_atomically(&target, reader)
        });
        HdfsSink {
            path,
            chunk: Vec::with_capacity(BUFFER_BYTES),
            chunks: Some(sender),
            upload: Some(upload),
        }
    }

    fn send(&mut self, chunk: Chunk) -> io::Result<()> {
        let sent = self.chunks.as_ref().is_some_and(|c| c.send(chunk).is_ok());
        if sent {
            return Ok(());
        }
        // The upload ended early: its error says why.
        self.chunks = None;
        Err(match self.join() {
            Err(error) => error.into(),
            Ok(()) => io::Error::other("the upload ended before the data"),
        })
    }

    fn send_chunk(&mut self) -> io::Result<()> {
        if self.chunk.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.chunk, Vec::with_capacity(BUFFER_BYTES));
        self.send(Chunk::Data(chunk))
    }

    fn join(&mut self) -> Result<(), WebHdfsError> {
        match self.upload.take().map(JoinHandle::join) {
            None | Some(Ok(Ok(()))) => Ok(()),
            Some(Ok(Err(error))) => Err(error),
            Some(Err(panic)) => std::panic::resume_unwind(panic),
        }
    }
}

impl Write for HdfsSink {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.chunk.extend_from_slice(bytes);
        if self.chunk.len() >= BUFFER_BYTES {
            self.send_chunk()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send_chunk()
    }
}

impl Sink for HdfsSink {
    fn commit(mut self: Box<Self>) -> Result<(), ExportError> {
        let destination = Destination::Hdfs(self.path.clone());
        let failed =
            |source: io::Error| ExportError::output("putting in place", &destination, source);
        self.send_chunk()
            .and_then(|()| self.send(Chunk::End))
            .map_err(failed)?;
        self.chunks = None;
        self.join().map_err(|error| failed(error.into()))
    }
}

impl Drop for HdfsSink {
    fn drop(&mut self) {
        // Without `Chunk::End` the upload fails and removes its temporary file; wait for that.
        self.chunks = None;
        let _ = self.join();
    }
}

/// The upload's side of the channel.
struct ChunkReader {
    chunks: Receiver<Chunk>,
    chunk: Vec<u8>,
    position: usize,
}

impl Read for ChunkReader {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        while self.position == self.chunk.len() {
            match self.chunks.recv() {
                Ok(Chunk::Data(chunk)) => {
                    self.chunk = chunk;
                    self.position = 0;
                }
                Ok(Chunk::End) => return Ok(0),
                Err(mpsc::RecvError) => {
                    return Err(io::Error::other("the export stopped before its end"))
                }
            }
        }
        let available = &self.chunk[self.position..];
        let n = available.len().min(buffer.len());
        buffer[..n].copy_from_slice(&available[..n]);
        self.position += n;
        Ok(n)
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

        let mut dropped = destination.open(None).unwrap();
        dropped.write_all(b"{}\n").unwrap();
        drop(dropped);
        assert!(!path.exists());
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            0,
            "temp file left"
        );

        fs::write(&path, "old\n").unwrap();
        let mut sink = destination.open(None).unwrap();
        sink.write_all(b"{\"a\":1}\n").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "old\n");
        sink.commit().unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "{\"a\":1}\n");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_file_in_a_missing_directory_is_an_error_naming_it() {
        let destination = Destination::parse("/nonexistent-mhfz-dir/out.ndjson").unwrap();
        let Err(error) = destination.open(None) else {
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
        assert_eq!(Destination::parse("-").unwrap(), Destination::Stdout);
        assert_eq!(Destination::Stdout.record_name(), "stdout");
        let file = Destination::parse("out/x.ndjson").unwrap();
        assert!(file.record_name().ends_with("/out/x.ndjson"));
        assert!(Path::new(&file.record_name()).is_absolute());
        let hdfs = Destination::parse("hdfs:///mhfz/in/x.ndjson").unwrap();
        assert_eq!(hdfs, Destination::Hdfs("/mhfz/in/x.ndjson".into()));
        assert_eq!(hdfs.record_name(), "hdfs:///mhfz/in/x.ndjson");
        assert_eq!(hdfs.to_string(), "hdfs:///mhfz/in/x.ndjson");
    }

    #[test]
    fn hdfs_destinations_need_an_absolute_file_path_and_no_authority() {
        for bad in [
            "hdfs://namenode:8020/x",
            "hdfs://",
            "hdfs:///",
            "hdfs:///dir/",
            "hdfs:///a/../b",
        ] {
            let error = Destination::parse(bad).unwrap_err().to_string();
            assert!(error.contains(bad), "{error}");
        }
        let Err(error) = Destination::parse("hdfs:///x").unwrap().open(None) else {
            panic!("opened an HDFS destination without WebHDFS");
        };
        assert!(error.to_string().contains("hdfs:///x"), "{error}");
    }
}
