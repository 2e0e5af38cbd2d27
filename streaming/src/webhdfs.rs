//! A small typed WebHDFS client (the REST API of HDFS, `/webhdfs/v1`), on `ureq`.
//!
//! [`WebHdfs::from_env`] connects to the stack's NameNode (`MHFZ_WEBHDFS_URL`, acting as
//! `MHFZ_HDFS_USER`). Operations take absolute HDFS paths (`/mhfz/runs/r1/part-00000`).
//!
//! Data moves the way WebHDFS specifies: `CREATE`, `APPEND` and `OPEN` are answered by the NameNode with a
//! redirect (HTTP 307) to a DataNode, which then takes or serves the bytes; the client follows it
//! itself, so a streamed upload is sent exactly once. [`WebHdfs::put_atomically`] writes to a
//! temporary name beside the target (created empty, then appended to) and renames it over the
//! target (`RENAME` with
//! `renameoptions=OVERWRITE`, atomic in the NameNode): readers see the old file or the whole new
//! one, never a part.
//!
//! Errors carry the operation, the path and the NameNode's own `RemoteException` (class and
//! message), e.g. `WebHDFS MKDIRS /a/b: HTTP 403: AccessControlException: Permission denied: ...`.

use std::fmt::Write as _;
use std::io::{self, Read};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Deserialize;
use ureq::http::Response;
use ureq::{Agent, Body, SendBody};

/// Environment variable holding the NameNode's HTTP address (`http://127.0.0.1:PORT`).
pub const URL_ENV: &str = "MHFZ_WEBHDFS_URL";
/// Environment variable holding the HDFS user the client acts as (`user.name`).
pub const USER_ENV: &str = "MHFZ_HDFS_USER";

/// A WebHDFS endpoint and the user requests act as (simple authentication).
#[derive(Clone, Debug)]
pub struct WebHdfs {
    agent: Agent,
    /// `http://host:port`, no trailing slash.
    base: String,
    user: String,
}

/// One entry of [`WebHdfs::list`], or the answer of [`WebHdfs::status`].
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileStatus {
    /// The entry's name in its directory (empty for [`WebHdfs::status`] of the path itself).
    pub path_suffix: String,
    #[serde(rename = "type")]
    pub kind: FileKind,
    /// Bytes (0 for a directory).
    pub length: u64,
    /// Milliseconds since the Unix epoch.
    pub modification_time: u64,
    pub owner: String,
    pub group: String,
    /// Octal, as HDFS prints it (`"644"`).
    pub permission: String,
    pub replication: u16,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum FileKind {
    File,
    Directory,
    Symlink,
}

/// Why a WebHDFS operation failed.
#[derive(Debug, thiserror::Error)]
pub enum WebHdfsError {
    #[error("{0} is not set (it is exported by `scripts/stack env` when the stack runs hadoop)")]
    MissingEnv(&'static str),
    #[error("invalid WebHDFS URL {url:?}: expected http://HOST:PORT")]
    InvalidUrl { url: String },
    #[error("invalid HDFS path {path:?}: {reason}")]
    InvalidPath { path: String, reason: &'static str },
    #[error("WebHDFS {op} {path}: cannot reach {url}")]
    Transport {
        op: &'static str,
        path: String,
        url: String,
        #[source]
        source: Box<ureq::Error>,
    },
    #[error("WebHDFS {op} {path}: HTTP {status}: {exception}: {message}")]
    Remote {
        op: &'static str,
        path: String,
        status: u16,
        /// The Java exception's simple name, e.g. `FileNotFoundException`.
        exception: String,
        message: String,
    },
    #[error("WebHDFS {op} {path}: unexpected answer: {detail}")]
    Protocol {
        op: &'static str,
        path: String,
        detail: String,
    },
    #[error("WebHDFS {op} {path}: the NameNode refused (answered false)")]
    Refused { op: &'static str, path: String },
}

impl WebHdfsError {
    /// True when the NameNode said the path does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, WebHdfsError::Remote { exception, .. } if exception == "FileNotFoundException")
    }
}

type Result<T> = std::result::Result<T, WebHdfsError>;

#[derive(Deserialize)]
struct RemoteExceptionBody {
    #[serde(rename = "RemoteException")]
    remote: RemoteException,
}

#[derive(Deserialize)]
struct RemoteException {
    exception: String,
    message: String,
}

#[derive(Deserialize)]
struct BooleanBody {
    boolean: bool,
}

#[derive(Deserialize)]
struct FileStatusBody {
    #[serde(rename = "FileStatus")]
    status: FileStatus,
}

#[derive(Deserialize)]
struct FileStatusesBody {
    #[serde(rename = "FileStatuses")]
    statuses: FileStatusList,
}

#[derive(Deserialize)]
struct FileStatusList {
    #[serde(rename = "FileStatus")]
    entries: Vec<FileStatus>,
}

impl WebHdfs {
    /// A client of the NameNode at `url` (`http://HOST:PORT`) acting as `user`.
    pub fn new(url: &str, user: &str) -> Result<WebHdfs> {
        let base = url.trim_end_matches('/');
        let authority = base.strip_prefix("http://").unwrap_or_default();
        if authority.is_empty() || authority.contains('/') {
            return Err(WebHdfsError::InvalidUrl { url: url.into() });
        }
        let agent = Agent::config_builder()
            // Redirects are followed here, not by ureq: an upload's body can be sent only once.
            .max_redirects(0)
            // Error answers carry the NameNode's RemoteException, read by `check`.
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(10)))
            .timeout_recv_response(Some(Duration::from_secs(120)))
            .build()
            .into();
        Ok(WebHdfs {
            agent,
            base: base.into(),
            user: user.into(),
        })
    }

    /// A client of the stack's NameNode: `MHFZ_WEBHDFS_URL`, acting as `MHFZ_HDFS_USER`.
    pub fn from_env() -> Result<WebHdfs> {
        let var = |name| std::env::var(name).map_err(|_| WebHdfsError::MissingEnv(name));
        WebHdfs::new(&var(URL_ENV)?, &var(USER_ENV)?)
    }

    /// Creates `path` and its missing parents (like `mkdir -p`).
    pub fn mkdirs(&self, path: &str) -> Result<()> {
        let response = self.call("MKDIRS", path, "PUT", "")?;
        self.expect_true("MKDIRS", path, response)
    }

    /// Writes `data` to the file `path` (its parents are created), replacing an existing file
    /// when `overwrite`; else an existing file is an error (`FileAlreadyExistsException`).
    pub fn create(&self, path: &str, data: impl Read, overwrite: bool) -> Result<()> {
        let query = format!("&overwrite={overwrite}");
        self.send_data("CREATE", path, "PUT", &query, data)
    }

    /// Appends `data` to the existing file `path`.
    pub fn append(&self, path: &str, data: impl Read) -> Result<()> {
        self.send_data("APPEND", path, "POST", "", data)
    }

    /// Writes `data` to `path` atomically: into a temporary file beside it, then renamed over
    /// it. A failed write leaves `path` as it was (and removes the temporary file).
    pub fn put_atomically(&self, path: &str, data: impl Read) -> Result<()> {
        let (parent, name) = split_parent(path)?;
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        // A leading "." (and "_") keeps MapReduce and Hive from reading the temporary file.
        let temporary = format!(
            "{}/._tmp.{name}.{}.{nanos}",
            parent.trim_end_matches('/'),
            std::process::id()
        );
        // The temporary file is created empty and complete first, then the data appended: a
        // failed upload leaves a file that surely exists and is removed here. (Had the data gone
        // with CREATE, the DataNode could create the file after the failure's clean-up.)
        self.create(&temporary, io::empty(), false)?;
        let placed = self
            .append(&temporary, data)
            .and_then(|()| self.rename_over(&temporary, path));
        if placed.is_err() {
            let _ = self.delete(&temporary, false);
        }
        placed
    }

    /// Renames `from` to `to`; fails if `to` is an existing file or its parent is missing. An
    /// existing directory `to` receives `from` inside it (HDFS semantics).
    pub fn rename(&self, from: &str, to: &str) -> Result<()> {
        let query = format!("&destination={}", encode_path(absolute(to)?));
        let response = self.call("RENAME", from, "PUT", &query)?;
        self.expect_true("RENAME", from, response)
    }

    /// Renames `from` to `to`, atomically replacing a file (or empty directory) at `to`.
    pub fn rename_over(&self, from: &str, to: &str) -> Result<()> {
        let query = format!(
            "&destination={}&renameoptions=OVERWRITE",
            encode_path(absolute(to)?)
        );
        let response = self.call("RENAME", from, "PUT", &query)?;
        check("RENAME", from, response).map(drop)
    }

    /// Deletes `path` (a directory only when `recursive` or empty); false if it did not exist.
    pub fn delete(&self, path: &str, recursive: bool) -> Result<bool> {
        let response = self.call("DELETE", path, "DELETE", &format!("&recursive={recursive}"))?;
        let response = check("DELETE", path, response)?;
        Ok(read_json::<BooleanBody>("DELETE", path, response)?.boolean)
    }

    /// The entries of the directory `path`, sorted by name (or the file itself, for a file).
    pub fn list(&self, path: &str) -> Result<Vec<FileStatus>> {
        let response = self.call("LISTSTATUS", path, "GET", "")?;
        let response = check("LISTSTATUS", path, response)?;
        Ok(read_json::<FileStatusesBody>("LISTSTATUS", path, response)?
            .statuses
            .entries)
    }

    /// The status of `path`, or `None` when it does not exist.
    pub fn status(&self, path: &str) -> Result<Option<FileStatus>> {
        let response = self.call("GETFILESTATUS", path, "GET", "")?;
        match check("GETFILESTATUS", path, response) {
            Ok(response) => Ok(Some(
                read_json::<FileStatusBody>("GETFILESTATUS", path, response)?.status,
            )),
            Err(error) if error.is_not_found() => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// The content of the file `path`, streamed from the DataNode.
    pub fn open(&self, path: &str) -> Result<impl Read + Send + 'static> {
        let location = self.redirect("OPEN", path, "GET", "")?;
        let response = self
            .agent
            .get(&location)
            .call()
            .map_err(|source| transport("OPEN", path, &location, source))?;
        let response = check("OPEN", path, response)?;
        Ok(response.into_body().into_reader())
    }

    /// The whole content of the file `path`.
    pub fn read(&self, path: &str) -> Result<Vec<u8>> {
        let mut content = Vec::new();
        self.open(path)?
            .read_to_end(&mut content)
            .map_err(|e| protocol("OPEN", path, format!("reading the content failed: {e}")))?;
        Ok(content)
    }

    /// `op` (CREATE or APPEND) in two steps: the NameNode's redirect, then `data` to the DataNode.
    fn send_data(
        &self,
        op: &'static str,
        path: &str,
        method: &str,
        query: &str,
        mut data: impl Read,
    ) -> Result<()> {
        let location = self.redirect(op, path, method, query)?;
        let request = if method == "POST" {
            self.agent.post(&location)
        } else {
            self.agent.put(&location)
        };
        let response = request
            .header("Content-Type", "application/octet-stream")
            .send(SendBody::from_reader(&mut data))
            .map_err(|source| transport(op, path, &location, source))?;
        match check(op, path, response)?.status().as_u16() {
            200 | 201 => Ok(()),
            status => Err(protocol(op, path, format!("HTTP {status}"))),
        }
    }

    fn url(&self, op: &str, path: &str, query: &str) -> Result<String> {
        let mut url = format!(
            "{}/webhdfs/v1{}?op={op}&user.name=",
            self.base,
            encode_path(absolute(path)?)
        );
        encode_into(&mut url, &self.user, false);
        url.push_str(query);
        Ok(url)
    }

    fn call(
        &self,
        op: &'static str,
        path: &str,
        method: &str,
        query: &str,
    ) -> Result<Response<Body>> {
        let url = self.url(op, path, query)?;
        let sent = match method {
            "PUT" => self.agent.put(&url).send_empty(),
            "POST" => self.agent.post(&url).send_empty(),
            "DELETE" => self.agent.delete(&url).call(),
            _ => self.agent.get(&url).call(),
        };
        sent.map_err(|source| transport(op, path, &url, source))
    }

    /// The DataNode URL the NameNode redirects `op` to.
    fn redirect(&self, op: &'static str, path: &str, method: &str, query: &str) -> Result<String> {
        let response = check(op, path, self.call(op, path, method, query)?)?;
        if response.status().as_u16() != 307 {
            return Err(protocol(
                op,
                path,
                format!("HTTP {} instead of a redirect", response.status()),
            ));
        }
        response
            .headers()
            .get("Location")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
            .ok_or_else(|| protocol(op, path, "a redirect without Location".into()))
    }

    fn expect_true(&self, op: &'static str, path: &str, response: Response<Body>) -> Result<()> {
        let response = check(op, path, response)?;
        if read_json::<BooleanBody>(op, path, response)?.boolean {
            Ok(())
        } else {
            Err(WebHdfsError::Refused {
                op,
                path: path.into(),
            })
        }
    }
}

/// The response if its status is not an error; else the NameNode's RemoteException.
fn check(op: &'static str, path: &str, mut response: Response<Body>) -> Result<Response<Body>> {
    let status = response.status().as_u16();
    if status < 400 {
        return Ok(response);
    }
    let body = response.body_mut().read_to_string().unwrap_or_default();
    let (exception, message) = match serde_json::from_str::<RemoteExceptionBody>(&body) {
        Ok(parsed) => (parsed.remote.exception, parsed.remote.message),
        Err(_) => ("HTTP error".into(), body.trim().chars().take(300).collect()),
    };
    Err(WebHdfsError::Remote {
        op,
        path: path.into(),
        status,
        exception,
        message,
    })
}

fn read_json<T: serde::de::DeserializeOwned>(
    op: &'static str,
    path: &str,
    response: Response<Body>,
) -> Result<T> {
    serde_json::from_reader(response.into_body().into_reader())
        .map_err(|e| protocol(op, path, format!("bad JSON: {e}")))
}

fn transport(op: &'static str, path: &str, url: &str, source: ureq::Error) -> WebHdfsError {
    WebHdfsError::Transport {
        op,
        path: path.into(),
        url: url.into(),
        source: Box::new(source),
    }
}

fn protocol(op: &'static str, path: &str, detail: String) -> WebHdfsError {
    WebHdfsError::Protocol {
        op,
        path: path.into(),
        detail,
    }
}

fn absolute(path: &str) -> Result<&str> {
    let invalid = |reason| WebHdfsError::InvalidPath {
        path: path.into(),
        reason,
    };
    if !path.starts_with('/') {
        return Err(invalid("not absolute"));
    }
    if path.split('/').any(|part| part == "." || part == "..") {
        return Err(invalid("contains . or .."));
    }
    Ok(path)
}

/// The parent directory and the file name of `path`.
fn split_parent(path: &str) -> Result<(&str, &str)> {
    let path = absolute(path)?;
    match path.rsplit_once('/') {
        Some((parent, name)) if !name.is_empty() => {
            Ok((if parent.is_empty() { "/" } else { parent }, name))
        }
        _ => Err(WebHdfsError::InvalidPath {
            path: path.into(),
            reason: "names no file",
        }),
    }
}

fn encode_path(path: &str) -> String {
    let mut encoded = String::with_capacity(path.len());
    encode_into(&mut encoded, path, true);
    encoded
}

/// Percent-encodes all but RFC 3986's unreserved characters (and `/` when `keep_slash`).
fn encode_into(out: &mut String, text: &str, keep_slash: bool) {
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric()
            || matches!(byte, b'-' | b'.' | b'_' | b'~')
            || (keep_slash && byte == b'/')
        {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
}

/// An I/O error from a failed WebHDFS operation, for callers that work in `io::Result`.
impl From<WebHdfsError> for io::Error {
    fn from(error: WebHdfsError) -> io::Error {
        let kind = if error.is_not_found() {
            io::ErrorKind::NotFound
        } else {
            io::ErrorKind::Other
        };
        io::Error::new(kind, error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_percent_encoded_segment_by_segment() {
        assert_eq!(encode_path("/a b/c%d/ü"), "/a%20b/c%25d/%C3%BC");
        assert_eq!(
            encode_path("/run_id=r-1.x/part-00000"),
            "/run_id%3Dr-1.x/part-00000"
        );
    }

    #[test]
    fn relative_and_dotted_paths_are_refused() {
        assert!(absolute("a/b").is_err());
        assert!(absolute("/a/../b").is_err());
        assert!(absolute("/a/./b").is_err());
        assert!(absolute("/a/b..c").is_ok());
    }

    #[test]
    fn parent_and_name() {
        assert_eq!(split_parent("/a/b/c").unwrap(), ("/a/b", "c"));
        assert_eq!(split_parent("/c").unwrap(), ("/", "c"));
        assert!(split_parent("/a/").is_err());
        assert!(split_parent("/").is_err());
    }

    #[test]
    fn urls_must_be_plain_http_host_and_port() {
        assert!(WebHdfs::new("http://127.0.0.1:9870", "u").is_ok());
        assert!(WebHdfs::new("http://127.0.0.1:9870/", "u").is_ok());
        assert!(WebHdfs::new("127.0.0.1:9870", "u").is_err());
        assert!(WebHdfs::new("http://127.0.0.1:9870/webhdfs", "u").is_err());
    }

    #[test]
    fn file_status_json_is_typed() {
        let json = r#"{"FileStatuses":{"FileStatus":[{"accessTime":1,"blockSize":134217728,
            "childrenNum":0,"fileId":16390,"group":"supergroup","length":24930,
            "modificationTime":1320173277227,"owner":"webuser","pathSuffix":"a.patch",
            "permission":"644","replication":1,"storagePolicy":0,"type":"FILE"}]}}"#;
        let parsed: FileStatusesBody = serde_json::from_str(json).unwrap();
        let entry = &parsed.statuses.entries[0];
        assert_eq!(entry.kind, FileKind::File);
        assert_eq!(entry.length, 24930);
        assert_eq!(entry.path_suffix, "a.patch");
    }
}
