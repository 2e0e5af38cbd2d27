//! The `mhfz-scraper` command line. The binary only calls [`main`].

use std::ffi::OsString;
use std::io::{self, Write};
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use mhfz_record::WeaponClass;

use super::summary::{EXIT_FATAL, EXIT_OK};
use super::{
    scrape, ConsoleObserver, Destination, NdjsonOutput, OutputError, ScrapeError, ScrapeObserver,
    ScrapeOptions,
};
use crate::site::{
    default_user_agent, FetchOptions, PageCache, Site, SiteError, DEFAULT_MAX_PAGE_BYTES,
    DEFAULT_SITE_URL,
};

const AFTER_HELP: &str = "\
Records are written as NDJSON, one weapon record per line. A per-page summary goes to stderr.

Pages linked by the class index (buki.htm) must exist; the other English variants of each
class (_sp pages, some _n pages) are probed, and a 404 there only means the class has no such
page. Tower (_t) and partner (_partnya) pages are skipped.

Exit status:
  0  every page scraped, absent or skipped (rows that did not parse are reported and
     written to the reject file, but do not fail the run)
  1  at least one page failed (not found, timed out, too large, no weapon table...);
     the other pages' records are still written
  2  the run could not be done: bad arguments, unreadable class index, output error

Requests are spaced by --rate for every host, loopback included: use --rate 0 for a local
test server. Cached pages live in DIR/<host>[_<port>]/<escaped URL path>.";

/// Scrapes the MHFZ Ferias English Project weapon pages into NDJSON weapon records.
#[derive(Debug, Parser)]
#[command(name = "mhfz-scraper", version, after_help = AFTER_HELP)]
pub struct Args {
    /// Base URL of the weapon pages, or a local directory holding them.
    #[arg(long, value_name = "URL|DIR", default_value = DEFAULT_SITE_URL)]
    pub site: String,

    /// Only these classes, comma-separated: ids (long_sword) or page stems (tachi).
    #[arg(long, value_name = "CLASS,...", value_delimiter = ',')]
    pub classes: Option<Vec<WeaponClass>>,

    /// Write the records to FILE (atomically, when the run completes) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Write rejected rows as NDJSON to FILE [default: <out>.rejects.ndjson with --out].
    #[arg(long, value_name = "FILE")]
    pub rejects: Option<PathBuf>,

    /// Conditional-GET page cache [default: $XDG_CACHE_HOME/mhfz-pipeline/pages or
    /// ~/.cache/mhfz-pipeline/pages].
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,

    /// Neither read nor write the page cache.
    #[arg(long, conflicts_with = "cache_dir")]
    pub no_cache: bool,

    /// Most requests per second (0 = unlimited).
    #[arg(long, value_name = "N", default_value = "1", value_parser = parse_rate)]
    pub rate: f64,

    /// Whole-request timeout in seconds (connecting takes at most 10 of them).
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = parse_seconds)]
    pub timeout: Duration,

    /// Further attempts after timeouts, connection errors, 5xx and 429 responses.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub retries: u32,

    /// First retry delay in seconds; doubles each retry (Retry-After takes precedence).
    #[arg(long, value_name = "SECS", default_value = "1", value_parser = parse_seconds)]
    pub retry_delay: Duration,

    /// Pages larger than this fail.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_PAGE_BYTES)]
    pub max_page_bytes: u64,

    /// No progress bar and no summary table; errors, warnings and rejected rows still print.
    #[arg(short, long)]
    pub quiet: bool,
}

/// What stops a run before or after the pages.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Site(#[from] SiteError),
    #[error(transparent)]
    Scrape(#[from] ScrapeError),
    #[error(transparent)]
    Output(#[from] OutputError),
}

impl CliError {
    fn is_broken_pipe(&self) -> bool {
        match self {
            CliError::Output(error) | CliError::Scrape(ScrapeError::Output(error)) => {
                error.is_broken_pipe()
            }
            _ => false,
        }
    }
}

/// Runs the command line and returns the process exit status.
pub fn main() -> u8 {
    main_from(std::env::args_os())
}

pub fn main_from(args: impl IntoIterator<Item = OsString>) -> u8 {
    let args = match Args::try_parse_from(args) {
        Ok(args) => args,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() {
                EXIT_FATAL
            } else {
                EXIT_OK
            };
        }
    };
    match run(&args) {
        Ok(code) => code,
        // The reader of our output is gone (`| head`): nothing left to do, nothing went wrong.
        Err(error) if error.is_broken_pipe() => EXIT_OK,
        Err(error) => {
            let _ = writeln!(io::stderr(), "mhfz-scraper: {error}");
            EXIT_FATAL
        }
    }
}

/// Scrapes as `args` say and prints the summary; returns the exit status.
pub fn run(args: &Args) -> Result<u8, CliError> {
    let mut observer = ConsoleObserver::new(args.quiet);
    let mut site = Site::open(&args.site, fetch_options(args, &mut observer))?;
    let (destination, rejects) = match &args.out {
        Some(out) => {
            let default_rejects = PathBuf::from(format!("{}.rejects.ndjson", out.display()));
            (
                Destination::File(out.clone()),
                Some(args.rejects.clone().unwrap_or(default_rejects)),
            )
        }
        None => (Destination::Stdout, args.rejects.clone()),
    };
    let mut output = NdjsonOutput::new(destination, rejects.as_deref())?;
    let options = ScrapeOptions {
        classes: args.classes.clone(),
    };
    let scraped = scrape(&mut site, &options, &mut output, &mut observer);
    observer.finish();
    let summary = scraped?;
    output.finish()?;
    if !args.quiet {
        let mut stderr = io::stderr().lock();
        let _ = summary.write_table(&mut stderr);
    }
    Ok(summary.exit_code())
}

fn fetch_options(args: &Args, observer: &mut ConsoleObserver) -> FetchOptions {
    let cache = if args.no_cache {
        None
    } else {
        let dir = args.cache_dir.clone().or_else(PageCache::default_dir);
        if dir.is_none() {
            observer.warning(
                "no cache directory (neither XDG_CACHE_HOME nor HOME is set); not caching",
            );
        }
        dir.map(PageCache::new)
    };
    FetchOptions {
        user_agent: default_user_agent(),
        rate: args.rate,
        timeout: args.timeout,
        connect_timeout: args.timeout.min(Duration::from_secs(10)),
        retries: args.retries,
        retry_delay: args.retry_delay,
        max_page_bytes: args.max_page_bytes,
        cache,
    }
}

fn parse_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate >= 0.0 => Ok(rate),
        _ => Err(format!(
            "{text:?} is not a rate (requests per second, 0 = unlimited)"
        )),
    }
}

fn parse_seconds(text: &str) -> Result<Duration, String> {
    text.parse::<f64>()
        .ok()
        .and_then(|seconds| Duration::try_from_secs_f64(seconds).ok())
        .ok_or_else(|| format!("{text:?} is not a number of seconds"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_parse() {
        let args = Args::try_parse_from([
            "mhfz-scraper",
            "--classes",
            "long_sword,yumi",
            "--rate",
            "0",
            "--timeout",
            "2.5",
        ])
        .unwrap();
        assert_eq!(
            args.classes,
            Some(vec![WeaponClass::LongSword, WeaponClass::Bow])
        );
        assert_eq!(args.rate, 0.0);
        assert_eq!(args.timeout, Duration::from_millis(2500));
        assert_eq!(args.site, DEFAULT_SITE_URL);
        for bad in [
            &["--classes", "partnya"][..],
            &["--rate", "-1"],
            &["--timeout", "soon"],
            &["--no-cache", "--cache-dir", "x"],
        ] {
            let argv = std::iter::once("mhfz-scraper").chain(bad.iter().copied());
            assert!(Args::try_parse_from(argv).is_err(), "{bad:?}");
        }
    }
}
