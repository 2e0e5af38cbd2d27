//! Pages fetched over HTTP(S), politely: robots.txt, a request rate limit, timeouts, retries
//! with backoff, a size cap and conditional GETs against an on-disk cache.

use std::thread;
use std::time::{Duration, Instant, SystemTime};

use ureq::http::{HeaderMap, Uri};
use ureq::Agent;

use super::{
    CachedPage, FetchError, FetchOptions, Fetched, PageCache, RobotsRules, SiteError,
    MAX_RETRY_AFTER, ROBOTS_PRODUCT_TOKEN,
};

/// Only the head of a robots.txt is parsed (RFC 9309 asks crawlers to read at least 500 KiB).
const MAX_ROBOTS_BYTES: usize = 512 * 1024;

#[derive(Debug)]
pub struct HttpSite {
    /// Ends with `/`; page file names are appended to it.
    base_url: String,
    /// `host[:port]`, keying the cache and robots.txt.
    authority: String,
    /// `scheme://authority`.
    origin: String,
    /// Path part of `base_url`.
    base_path: String,
    agent: Agent,
    options: FetchOptions,
    throttle: Throttle,
    /// Read on the first fetch.
    robots: Option<Result<RobotsRules, String>>,
}

/// The validators of a cached copy, sent as `If-None-Match` / `If-Modified-Since`.
#[derive(Default)]
struct Validators<'a> {
    etag: Option<&'a str>,
    last_modified: Option<&'a str>,
}

enum Reply {
    Body {
        body: Vec<u8>,
        etag: Option<String>,
        last_modified: Option<String>,
    },
    NotModified,
}

/// A failed attempt; `retry` says whether another attempt may help.
struct Failure {
    kind: FailureKind,
    retry: bool,
    retry_after: Option<Duration>,
}

enum FailureKind {
    NotFound,
    Status(u16),
    Timeout,
    TooLarge,
    Transport(String),
}

impl HttpSite {
    pub fn new(base_url: &str, options: FetchOptions) -> Result<HttpSite, SiteError> {
        let bad = |reason: &str| SiteError::BadUrl {
            url: base_url.to_string(),
            reason: reason.to_string(),
        };
        let mut base_url = base_url.to_string();
        if !base_url.ends_with('/') {
            base_url.push('/');
        }
        let uri: Uri = base_url.parse().map_err(|_| bad("unparsable"))?;
        let scheme = uri.scheme_str().ok_or_else(|| bad("no scheme"))?;
        let authority = uri.authority().ok_or_else(|| bad("no host"))?.to_string();
        if uri.query().is_some() {
            return Err(bad("a base URL cannot have a query"));
        }
        let agent: Agent = Agent::config_builder()
            .user_agent(options.user_agent.as_str())
            .http_status_as_error(false)
            .timeout_global(Some(options.timeout))
            .timeout_connect(Some(options.connect_timeout.min(options.timeout)))
            .build()
            .into();
        Ok(HttpSite {
            origin: format!("{scheme}://{authority}"),
            base_path: uri.path().to_string(),
            authority,
            base_url,
            agent,
            throttle: Throttle::new(options.rate),
            options,
            robots: None,
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub(super) fn fetch(&mut self, page: &str) -> Result<Fetched, FetchError> {
        let url = format!("{}{page}", self.base_url);
        let path = format!("{}{page}", self.base_path);
        match self.robots() {
            Ok(rules) if !rules.allows(&path) => {
                return Err(FetchError::Disallowed { location: url })
            }
            Ok(_) => {}
            Err(reason) => {
                return Err(FetchError::RobotsUnavailable {
                    location: url,
                    reason: reason.clone(),
                })
            }
        }

        let mut cache_warning = None;
        let cached = match &self.options.cache {
            Some(cache) => cache
                .load(&self.authority, &url, &path)
                .unwrap_or_else(|error| {
                    cache_warning = Some(format!("ignoring unreadable cache entry: {error}"));
                    None
                }),
            None => None,
        };
        let validators = cached
            .as_ref()
            .map(|page| Validators {
                etag: page.etag.as_deref(),
                last_modified: page.last_modified.as_deref(),
            })
            .unwrap_or_default();
        let reply = self.get_with_retries(&url, &validators, self.options.max_page_bytes)?;
        match (reply, cached) {
            (Reply::NotModified, Some(cached)) => Ok(Fetched {
                body: cached.body,
                from_cache: true,
                cache_warning,
            }),
            (Reply::NotModified, None) => Err(FetchError::UnexpectedNotModified { location: url }),
            (
                Reply::Body {
                    body,
                    etag,
                    last_modified,
                },
                _,
            ) => {
                let fresh = CachedPage {
                    etag,
                    last_modified,
                    body,
                };
                if let Some(cache) = &self.options.cache {
                    if let Err(error) =
                        store_if_validated(cache, &self.authority, &url, &path, &fresh)
                    {
                        cache_warning = Some(format!(
                            "could not cache {url} in {}: {error}",
                            cache.dir().display()
                        ));
                    }
                }
                Ok(Fetched {
                    body: fresh.body,
                    from_cache: false,
                    cache_warning,
                })
            }
        }
    }

    /// The robots.txt rules for us, read once. A 4xx means no rules; an unreachable robots.txt
    /// (5xx or network failure after retries) means nothing may be fetched (RFC 9309 §2.3.1).
    fn robots(&mut self) -> &Result<RobotsRules, String> {
        if self.robots.is_none() {
            let url = format!("{}/robots.txt", self.origin);
            let limit = self.options.max_page_bytes;
            let rules = match self.get_with_retries(&url, &Validators::default(), limit) {
                Ok(Reply::Body { body, .. }) => {
                    let head = &body[..body.len().min(MAX_ROBOTS_BYTES)];
                    Ok(RobotsRules::parse(
                        &String::from_utf8_lossy(head),
                        ROBOTS_PRODUCT_TOKEN,
                    ))
                }
                Ok(Reply::NotModified) => Ok(RobotsRules::allow_all()),
                Err(
                    FetchError::NotFound { .. }
                    | FetchError::Status {
                        status: 400..=499, ..
                    },
                ) => Ok(RobotsRules::allow_all()),
                Err(error) => Err(error.to_string()),
            };
            self.robots = Some(rules);
        }
        self.robots.as_ref().expect("robots.txt was just read")
    }

    fn get_with_retries(
        &mut self,
        url: &str,
        validators: &Validators,
        limit: u64,
    ) -> Result<Reply, FetchError> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            self.throttle.wait();
            let failure = match self.get_once(url, validators, limit) {
                Ok(reply) => return Ok(reply),
                Err(failure) => failure,
            };
            if !failure.retry || attempts > self.options.retries {
                return Err(failure.into_error(url, attempts, limit));
            }
            let delay = failure
                .retry_after
                .map(|wait| wait.min(MAX_RETRY_AFTER))
                .unwrap_or_else(|| backoff(self.options.retry_delay, attempts));
            thread::sleep(delay);
        }
    }

    fn get_once(&self, url: &str, validators: &Validators, limit: u64) -> Result<Reply, Failure> {
        let mut request = self.agent.get(url);
        if let Some(etag) = validators.etag {
            request = request.header("If-None-Match", etag);
        }
        if let Some(date) = validators.last_modified {
            request = request.header("If-Modified-Since", date);
        }
        let mut response = request.call().map_err(Failure::from_ureq)?;
        let status = response.status();
        match status.as_u16() {
            200..=299 => {}
            304 => return Ok(Reply::NotModified),
            404 | 410 => return Err(Failure::fatal(FailureKind::NotFound)),
            429 | 500..=599 => {
                return Err(Failure {
                    kind: FailureKind::Status(status.as_u16()),
                    retry: true,
                    retry_after: retry_after(response.headers()),
                })
            }
            _ => return Err(Failure::fatal(FailureKind::Status(status.as_u16()))),
        }
        if response
            .body()
            .content_length()
            .is_some_and(|length| length > limit)
        {
            return Err(Failure::fatal(FailureKind::TooLarge));
        }
        let etag = header_text(response.headers(), "etag");
        let last_modified = header_text(response.headers(), "last-modified");
        let body = response
            .body_mut()
            .with_config()
            .limit(limit)
            .read_to_vec()
            .map_err(Failure::from_ureq)?;
        Ok(Reply::Body {
            body,
            etag,
            last_modified,
        })
    }
}

/// Only pages with validators are worth caching: without them there is nothing to revalidate.
fn store_if_validated(
    cache: &PageCache,
    authority: &str,
    url: &str,
    path: &str,
    page: &CachedPage,
) -> std::io::Result<()> {
    if page.etag.is_none() && page.last_modified.is_none() {
        return Ok(());
    }
    cache.store(authority, url, path, page)
}

impl Failure {
    fn fatal(kind: FailureKind) -> Failure {
        Failure {
            kind,
            retry: false,
            retry_after: None,
        }
    }

    fn from_ureq(error: ureq::Error) -> Failure {
        let retryable = |kind| Failure {
            kind,
            retry: true,
            retry_after: None,
        };
        match error {
            ureq::Error::Timeout(_) => retryable(FailureKind::Timeout),
            ureq::Error::Io(io) if is_timeout(&io) => retryable(FailureKind::Timeout),
            ureq::Error::BodyExceedsLimit(_) => Failure::fatal(FailureKind::TooLarge),
            // Network trouble may pass; a bad URL, TLS or protocol error will not.
            error @ (ureq::Error::Io(_)
            | ureq::Error::ConnectionFailed
            | ureq::Error::HostNotFound
            | ureq::Error::BodyStalled) => retryable(FailureKind::Transport(error.to_string())),
            error => Failure::fatal(FailureKind::Transport(error.to_string())),
        }
    }

    fn into_error(self, url: &str, attempts: u32, limit: u64) -> FetchError {
        let location = url.to_string();
        match self.kind {
            FailureKind::NotFound => FetchError::NotFound { location },
            FailureKind::Status(status) => FetchError::Status {
                location,
                status,
                attempts,
            },
            FailureKind::Timeout => FetchError::Timeout { location, attempts },
            FailureKind::TooLarge => FetchError::TooLarge { location, limit },
            FailureKind::Transport(message) => FetchError::Transport {
                location,
                message,
                attempts,
            },
        }
    }
}

fn is_timeout(error: &std::io::Error) -> bool {
    matches!(
        error.kind(),
        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
    )
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::to_string)
}

/// `Retry-After` as delay-seconds or an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = header_text(headers, "retry-after")?;
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// `first × 2^(attempt-1)`, ±25% so that clients that failed together do not retry together.
fn backoff(first: Duration, attempt: u32) -> Duration {
    let exponential = first.saturating_mul(1 << (attempt - 1).min(16));
    // Sub-second clock noise is jitter enough here; no need for a random-number crate.
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|since| since.subsec_nanos())
        .unwrap_or_default();
    let factor = 0.75 + f64::from(nanos % 1000) / 2000.0;
    exponential.mul_f64(factor)
}

/// Spaces requests at least `1 / rate` seconds apart.
#[derive(Debug)]
struct Throttle {
    interval: Option<Duration>,
    next_allowed: Option<Instant>,
}

impl Throttle {
    fn new(rate: f64) -> Throttle {
        let interval =
            (rate > 0.0 && rate.is_finite()).then(|| Duration::from_secs_f64(1.0 / rate));
        Throttle {
            interval,
            next_allowed: None,
        }
    }

    fn wait(&mut self) {
        let Some(interval) = self.interval else {
            return;
        };
        if let Some(next) = self.next_allowed {
            let now = Instant::now();
            if next > now {
                thread::sleep(next - now);
            }
        }
        self.next_allowed = Some(Instant::now() + interval);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ureq::http::HeaderValue;

    #[test]
    fn retry_after_seconds_and_dates() {
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert("retry-after", HeaderValue::from_static("7"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        headers.insert(
            "retry-after",
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&headers), Some(Duration::ZERO));
        headers.insert("retry-after", HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn backoff_doubles_within_jitter() {
        let first = Duration::from_millis(100);
        for attempt in 1..=4 {
            let delay = backoff(first, attempt);
            let nominal = first * (1 << (attempt - 1));
            assert!(delay >= nominal.mul_f64(0.75) && delay <= nominal.mul_f64(1.25));
        }
    }

    #[test]
    fn throttle_spaces_requests() {
        let mut throttle = Throttle::new(20.0);
        let start = Instant::now();
        for _ in 0..3 {
            throttle.wait();
        }
        assert!(start.elapsed() >= Duration::from_millis(100));
        let mut unlimited = Throttle::new(0.0);
        let start = Instant::now();
        for _ in 0..100 {
            unlimited.wait();
        }
        assert!(start.elapsed() < Duration::from_millis(100));
    }
}
