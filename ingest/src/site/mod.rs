//! Where pages come from: the web site over HTTP(S), or a local directory (the mirror,
//! benchmarks, tests). Both hand out whole page bodies by file name (`tachi_g.htm`).

mod cache;
mod dir;
mod http;
mod robots;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use cache::{CachedPage, PageCache};
pub use dir::DirSite;
pub use http::HttpSite;
pub use robots::RobotsRules;

/// The live site: the English weapon pages of the MHFZ Ferias English Project.
pub const DEFAULT_SITE_URL: &str = "https://xl3lackout.github.io/MHFZ-Ferias-English-Project/buki/";

/// The product token robots.txt groups are matched against.
pub const ROBOTS_PRODUCT_TOKEN: &str = "mhfz-scraper";

/// `mhfz-scraper/<version> (+<repository>)`: says who is asking and where to read about it.
pub fn default_user_agent() -> String {
    format!(
        "{ROBOTS_PRODUCT_TOKEN}/{} (+{})",
        env!("CARGO_PKG_VERSION"),
        env!("CARGO_PKG_REPOSITORY")
    )
}

/// How pages are fetched. The HTTP settings are ignored by a directory site.
#[derive(Clone, Debug)]
pub struct FetchOptions {
    pub user_agent: String,
    /// Most requests per second to the site (robots.txt and retries included); `0` = no limit.
    /// It applies to every host, loopback included: pass `0` for a local test server.
    pub rate: f64,
    /// Whole-request limit (connect, headers and body).
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Further attempts after a timeout, a connection error, a 5xx or a 429.
    pub retries: u32,
    /// First backoff delay; it doubles with each retry (±25% jitter). A 429's or 503's
    /// `Retry-After` replaces it (capped at [`MAX_RETRY_AFTER`]).
    pub retry_delay: Duration,
    /// Bodies above this are refused (page error), whatever the source.
    pub max_page_bytes: u64,
    /// Conditional-GET cache; `None` = no cache.
    pub cache: Option<PageCache>,
}

/// Longest `Retry-After` honoured; longer requests are shortened to it.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(120);

/// Default `--max-page-bytes`: the biggest page of the site is about 3 MB.
pub const DEFAULT_MAX_PAGE_BYTES: u64 = 32 * 1024 * 1024;

impl Default for FetchOptions {
    fn default() -> FetchOptions {
        FetchOptions {
            user_agent: default_user_agent(),
            rate: 1.0,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            retries: 3,
            retry_delay: Duration::from_secs(1),
            max_page_bytes: DEFAULT_MAX_PAGE_BYTES,
            cache: PageCache::default_dir().map(PageCache::new),
        }
    }
}

/// A fetched page body.
#[derive(Debug)]
pub struct Fetched {
    pub body: Vec<u8>,
    /// The server answered 304 Not Modified and the cached copy was used.
    pub from_cache: bool,
    /// A cache read or write failed; the page itself is fine.
    pub cache_warning: Option<String>,
}

/// Why a page could not be fetched. Every variant names the page's URL or path.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{location}: not found (404)")]
    NotFound { location: String },
    #[error("{location}: disallowed by robots.txt")]
    Disallowed { location: String },
    #[error("{location}: robots.txt could not be read ({reason}); not fetching, as RFC 9309 asks")]
    RobotsUnavailable { location: String, reason: String },
    #[error("{location}: HTTP status {status} (after {attempts} attempt(s))")]
    Status {
        location: String,
        status: u16,
        attempts: u32,
    },
    #[error("{location}: timed out (after {attempts} attempt(s))")]
    Timeout { location: String, attempts: u32 },
    #[error("{location}: {message} (after {attempts} attempt(s))")]
    Transport {
        location: String,
        message: String,
        attempts: u32,
    },
    #[error("{location}: page is larger than the {limit}-byte limit (--max-page-bytes)")]
    TooLarge { location: String, limit: u64 },
    #[error("{location}: server answered 304 Not Modified but there is no cached copy")]
    UnexpectedNotModified { location: String },
    #[error("{location}: {source}")]
    Io {
        location: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{name:?} is not a page file name")]
    InvalidPageName { name: String },
}

impl FetchError {
    pub fn is_not_found(&self) -> bool {
        matches!(self, FetchError::NotFound { .. })
    }
}

/// Why a site cannot be used at all.
#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    #[error("{url}: not a usable http(s) URL ({reason})")]
    BadUrl { url: String, reason: String },
    #[error("{}: not a directory", path.display())]
    NotADirectory { path: PathBuf },
}

/// A source of pages.
#[derive(Debug)]
pub enum Site {
    /// Boxed: it is ten times the size of a directory site.
    Http(Box<HttpSite>),
    Dir(DirSite),
}

impl Site {
    /// `http://…` or `https://…` is a web site (base URL of the pages); anything else is a
    /// directory holding the pages.
    pub fn open(spec: &str, options: FetchOptions) -> Result<Site, SiteError> {
        let lower = spec.to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            HttpSite::new(spec, options).map(|site| Site::Http(Box::new(site)))
        } else if lower.contains("://") {
            Err(SiteError::BadUrl {
                url: spec.to_string(),
                reason: "only http and https are supported".into(),
            })
        } else {
            DirSite::new(Path::new(spec), options.max_page_bytes).map(Site::Dir)
        }
    }

    /// Fetches one page by file name, e.g. `tachi_g.htm`.
    pub fn fetch(&mut self, page: &str) -> Result<Fetched, FetchError> {
        if !is_page_file_name(page) {
            return Err(FetchError::InvalidPageName {
                name: page.to_string(),
            });
        }
        match self {
            Site::Http(site) => site.fetch(page),
            Site::Dir(site) => site.fetch(page),
        }
    }

    /// Where a page is (URL or path), for messages.
    pub fn page_location(&self, page: &str) -> String {
        match self {
            Site::Http(site) => format!("{}{page}", site.base_url()),
            Site::Dir(site) => site.root().join(page).display().to_string(),
        }
    }

    /// The base URL or directory, for messages.
    pub fn location(&self) -> String {
        match self {
            Site::Http(site) => site.base_url().to_string(),
            Site::Dir(site) => site.root().display().to_string(),
        }
    }
}

/// A plain file name: no directories, nothing hidden, so a link cannot reach outside the site.
fn is_page_file_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_names_stay_inside_the_site() {
        assert!(is_page_file_name("tachi_g.htm"));
        for bad in ["", "../x.htm", ".hidden", "a/b.htm", "a?b", "x%2F"] {
            assert!(!is_page_file_name(bad), "{bad}");
        }
    }

    #[test]
    fn site_kinds() {
        let options = FetchOptions {
            cache: None,
            ..FetchOptions::default()
        };
        assert!(matches!(
            Site::open("ftp://example.org/", options.clone()),
            Err(SiteError::BadUrl { .. })
        ));
        assert!(matches!(
            Site::open("/definitely/not/here", options.clone()),
            Err(SiteError::NotADirectory { .. })
        ));
        let site = Site::open("HTTPS://example.org/buki", options).unwrap();
        assert_eq!(site.location(), "HTTPS://example.org/buki/");
    }
}
