//! Pages read from a local directory.

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::{FetchError, Fetched, SiteError};

#[derive(Debug)]
pub struct DirSite {
    root: PathBuf,
    max_page_bytes: u64,
}

impl DirSite {
    pub fn new(root: &Path, max_page_bytes: u64) -> Result<DirSite, SiteError> {
        if !root.is_dir() {
            return Err(SiteError::NotADirectory {
                path: root.to_path_buf(),
            });
        }
        Ok(DirSite {
            root: root.to_path_buf(),
            max_page_bytes,
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub(super) fn fetch(&self, page: &str) -> Result<Fetched, FetchError> {
        let path = self.root.join(page);
        let location = path.display().to_string();
        let io_error = |source: io::Error| FetchError::Io {
            location: location.clone(),
            source,
        };
        let file = match fs::File::open(&path) {
            Ok(file) => file,
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                return Err(FetchError::NotFound { location })
            }
            Err(error) => return Err(io_error(error)),
        };
        // Reading one byte past the limit tells "exactly at the limit" from "over it" without
        // trusting the file's size (it may still be growing).
        let mut body = Vec::new();
        file.take(self.max_page_bytes.saturating_add(1))
            .read_to_end(&mut body)
            .map_err(io_error)?;
        if body.len() as u64 > self.max_page_bytes {
            return Err(FetchError::TooLarge {
                location,
                limit: self.max_page_bytes,
            });
        }
        Ok(Fetched {
            body,
            from_cache: false,
            cache_warning: None,
        })
    }
}
