//! On-disk page cache for conditional GETs.
//!
//! Layout: `<cache dir>/<host>[_<port>]/<escaped path>`, one file per URL. Each file holds one
//! JSON header line (`{"url":…,"etag":…,"last_modified":…}`) followed by the raw body, so the
//! validators and the body they describe are replaced together by one atomic rename.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// A page as last fetched, with the validators the server sent for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CachedPage {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub body: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
struct Header {
    url: String,
    etag: Option<String>,
    last_modified: Option<String>,
}

/// A directory of cached pages, keyed by URL.
#[derive(Clone, Debug)]
pub struct PageCache {
    dir: PathBuf,
}

impl PageCache {
    pub fn new(dir: impl Into<PathBuf>) -> PageCache {
        PageCache { dir: dir.into() }
    }

    /// `$XDG_CACHE_HOME/mhfz-pipeline/pages`, else `~/.cache/mhfz-pipeline/pages`.
    pub fn default_dir() -> Option<PathBuf> {
        let non_empty = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty());
        let base = non_empty("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| non_empty("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
        Some(base.join("mhfz-pipeline").join("pages"))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The cached copy of `url`; `Ok(None)` when there is none. A file that does not belong to
    /// `url` or is not in the cache format is an `InvalidData` error.
    pub fn load(&self, host: &str, url: &str, path: &str) -> io::Result<Option<CachedPage>> {
        let file = self.file_for(host, path);
        let bytes = match fs::read(&file) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(error),
        };
        let invalid = |what: &str| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: {what}", file.display()),
            )
        };
        let newline = bytes
            .iter()
            .position(|&byte| byte == b'\n')
            .ok_or_else(|| invalid("no header line"))?;
        let header: Header = serde_json::from_slice(&bytes[..newline])
            .map_err(|error| invalid(&format!("bad header: {error}")))?;
        if header.url != url {
            return Err(invalid(&format!("holds {} instead", header.url)));
        }
        Ok(Some(CachedPage {
            etag: header.etag,
            last_modified: header.last_modified,
            body: bytes[newline + 1..].to_vec(),
        }))
    }

    /// Replaces the cached copy of `url` atomically (temporary file, then rename).
    pub fn store(&self, host: &str, url: &str, path: &str, page: &CachedPage) -> io::Result<()> {
        let file = self.file_for(host, path);
        let parent = file.parent().expect("cache files live in a host directory");
        fs::create_dir_all(parent)?;
        let mut temp = tempfile::NamedTempFile::new_in(parent)?;
        let header = Header {
            url: url.to_string(),
            etag: page.etag.clone(),
            last_modified: page.last_modified.clone(),
        };
        serde_json::to_writer(&mut temp, &header)?;
        temp.write_all(b"\n")?;
        temp.write_all(&page.body)?;
        temp.persist(&file).map_err(|error| error.error)?;
        Ok(())
    }

    fn file_for(&self, host: &str, path: &str) -> PathBuf {
        self.dir.join(escape(host)).join(escape(path))
    }
}

/// One file-name-safe component: ASCII letters, digits, `-`, `_` and `.` stay, `:` becomes `_`
/// (host ports), everything else (`/` included) becomes `%XX`. A leading `.` is escaped too,
/// so no component is `.`, `..` or hidden.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for (i, byte) in text.bytes().enumerate() {
        match byte {
            b'.' if i == 0 => escaped.push_str("%2E"),
            b':' => escaped.push('_'),
            byte if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.') => {
                escaped.push(byte as char)
            }
            byte => escaped.push_str(&format!("%{byte:02X}")),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_then_load_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let cache = PageCache::new(dir.path());
        let url = "http://127.0.0.1:8080/buki/tachi.htm";
        let page = CachedPage {
            etag: Some("\"abc\"".into()),
            last_modified: None,
            body: b"<html>\nbody\n".to_vec(),
        };
        assert_eq!(
            cache
                .load("127.0.0.1:8080", url, "/buki/tachi.htm")
                .unwrap(),
            None
        );
        cache
            .store("127.0.0.1:8080", url, "/buki/tachi.htm", &page)
            .unwrap();
        let loaded = cache
            .load("127.0.0.1:8080", url, "/buki/tachi.htm")
            .unwrap();
        assert_eq!(loaded, Some(page));
        assert!(dir
            .path()
            .join("127.0.0.1_8080")
            .join("%2Fbuki%2Ftachi.htm")
            .is_file());
    }

    #[test]
    fn corrupt_files_are_invalid_data() {
        let dir = tempfile::tempdir().unwrap();
        let cache = PageCache::new(dir.path());
        fs::create_dir_all(dir.path().join("h")).unwrap();
        fs::write(dir.path().join("h").join("%2Fa"), b"no header").unwrap();
        let error = cache.load("h", "http://h/a", "/a").unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);
    }

    #[test]
    fn escaping_keeps_components_safe() {
        assert_eq!(escape("/buki/../x"), "%2Fbuki%2F..%2Fx");
        assert_eq!(escape(".."), "%2E.");
        assert_eq!(escape("example.org:443"), "example.org_443");
    }
}
