//! The `mhfz-scraper` command line. The binary only calls [`main`].

use std::ffi::OsString;
use std::io::{self, Write};
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use mhfz_record::WeaponClass;

use super::summary::{EXIT_FATAL, EXIT_OK};
use super::{
    scrape, ConsoleObserver, Destination, NdjsonOutput, OutputError, RecordSink, ScrapeError,
    ScrapeObserver, ScrapeOptions,
};
use crate::kafka::{
    create_topics, parse_property, platform_topics, user_properties, KafkaClientSettings,
    KafkaCredentialArgs, KafkaSink, KafkaSinkError, DEAD_LETTER_SUFFIX,
};
use crate::parse::{PageRef, RejectedRow};
use crate::site::{
    default_user_agent, FetchOptions, PageCache, Site, SiteError, DEFAULT_MAX_PAGE_BYTES,
    DEFAULT_SITE_URL,
};
use mhfz_record::WeaponRecord;

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

With --kafka, records go to the topic instead of stdout (--out still writes a file copy):
the topic and its dead-letter topic are created first unless --no-create-topics, with the
partitions and configs of the platform's topic definition (ingest/src/kafka/topics.json); each
message is keyed by weapon id and holds a JSON envelope (schema_version, scrape_run_id,
scraped_at, record). Every delivery is awaited; a record Kafka did not acknowledge makes
the run exit 2, naming how many and some of their weapon ids.

Kafka clients log in with SASL/SCRAM-SHA-512 over TLS only, as --kafka-user with the
password in --kafka-password-file, and trust the brokers whose certificate the CA in
--kafka-ca-file signed for their name (or MHFZ_KAFKA_USER, MHFZ_KAFKA_PASSWORD_FILE,
MHFZ_KAFKA_CA_FILE). These are checked before the scrape: a broker refusing the login, or
one whose certificate is not trusted, makes the run exit 2 at once, saying which.

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

    /// Send the records to Kafka at BROKERS (host:port,...) instead of stdout.
    #[arg(long, value_name = "BROKERS")]
    pub kafka: Option<String>,

    /// Kafka topic of the records.
    #[arg(long, value_name = "NAME", default_value_t = platform_topics().records.name.clone(),
          requires = "kafka")]
    pub topic: String,

    /// Dead-letter topic created beside it, for the consumer [default: <topic>.dlq].
    #[arg(long, value_name = "NAME", requires = "kafka")]
    pub dlq_topic: Option<String>,

    /// Replication factor of the topics when they are created (it depends on the cluster's
    /// size; their partitions and configs are the platform's).
    #[arg(long, value_name = "N", default_value_t = 1, requires = "kafka",
          value_parser = clap::value_parser!(i32).range(1..))]
    pub replication_factor: i32,

    /// The topics exist already: do not create them.
    #[arg(long, requires = "kafka")]
    pub no_create_topics: bool,

    // --kafka-user, --kafka-password-file, --kafka-ca-file: used with --kafka only, but not
    // `requires` it, since their environment variables may well be set without it.
    #[command(flatten)]
    pub kafka_credentials: KafkaCredentialArgs,

    /// A librdkafka property for every Kafka client (repeatable): tuning; overrides ours, but
    /// for the security settings, which it cannot change.
    #[arg(long, value_name = "KEY=VALUE", value_parser = parse_property, requires = "kafka")]
    pub kafka_option: Vec<(String, String)>,

    /// librdkafka properties from FILE, KEY=VALUE per line, before the --kafka-options: for
    /// secrets (ssl.key.password), which do not belong on a command line.
    #[arg(long, value_name = "FILE", requires = "kafka")]
    pub kafka_options_file: Option<PathBuf>,

    /// Bound in seconds on Kafka admin requests (topic creation).
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = parse_seconds,
          requires = "kafka")]
    pub kafka_timeout: Duration,
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
    #[error(transparent)]
    Kafka(#[from] KafkaSinkError),
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
    let args = match Args::try_parse_from(args).and_then(check_combinations) {
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

/// What clap's declarations cannot say.
fn check_combinations(args: Args) -> Result<Args, clap::Error> {
    if args.kafka.is_some() && args.rejects.is_some() && args.out.is_none() {
        // Rejected rows go to a file beside the --out copy; Kafka only takes records.
        return Err(<Args as clap::CommandFactory>::command().error(
            clap::error::ErrorKind::MissingRequiredArgument,
            "--rejects with --kafka needs --out FILE (the file copy of the records)",
        ));
    }
    Ok(args)
}

/// Scrapes as `args` say and prints the summary; returns the exit status.
pub fn run(args: &Args) -> Result<u8, CliError> {
    // Before the site: Kafka settings that cannot work should not cost a scrape.
    let kafka = match &args.kafka {
        Some(brokers) => Some(kafka_settings(args, brokers)?),
        None => None,
    };
    let mut observer = ConsoleObserver::new(args.quiet);
    let mut site = Site::open(&args.site, fetch_options(args, &mut observer))?;
    if let Some(connection) = kafka {
        return run_to_kafka(args, &connection, &mut site, observer);
    }
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

/// The Kafka clients' settings, checked, and the brokers' answer to their credentials.
fn kafka_settings(args: &Args, brokers: &str) -> Result<KafkaClientSettings, KafkaSinkError> {
    let properties = user_properties(args.kafka_options_file.as_deref(), &args.kafka_option)?;
    let credentials = args.kafka_credentials.credentials()?;
    let connection = KafkaClientSettings {
        request_timeout: args.kafka_timeout,
        ..KafkaClientSettings::new(brokers, "mhfz-scraper", credentials).with_properties(properties)
    };
    connection.validate()?;
    connection.check_access()?;
    Ok(connection)
}

/// `--kafka`: the records go to Kafka, and to the `--out` file if one is named.
fn run_to_kafka(
    args: &Args,
    connection: &KafkaClientSettings,
    site: &mut Site,
    mut observer: ConsoleObserver,
) -> Result<u8, CliError> {
    if !args.no_create_topics {
        let dead_letter = args
            .dlq_topic
            .clone()
            .unwrap_or_else(|| format!("{}{DEAD_LETTER_SUFFIX}", args.topic));
        let topics = platform_topics();
        create_topics(
            connection,
            &[
                topics.records.spec(&args.topic, args.replication_factor),
                topics
                    .dead_letters
                    .spec(&dead_letter, args.replication_factor),
            ],
        )?;
    }
    let mut kafka = KafkaSink::new(connection, &args.topic)?;
    let mut copy = match &args.out {
        Some(out) => Some(NdjsonOutput::new(
            Destination::File(out.clone()),
            Some(
                &args
                    .rejects
                    .clone()
                    .unwrap_or_else(|| PathBuf::from(format!("{}.rejects.ndjson", out.display()))),
            ),
        )?),
        None => None,
    };
    let options = ScrapeOptions {
        classes: args.classes.clone(),
    };
    let scraped = scrape(
        site,
        &options,
        &mut Both(&mut kafka, copy.as_mut()),
        &mut observer,
    );
    observer.finish();
    let summary = scraped?;
    let delivered = kafka.finish()?;
    if let Some(copy) = copy {
        copy.finish()?;
    }
    if !args.quiet {
        let mut stderr = io::stderr().lock();
        let _ = summary.write_table(&mut stderr);
        let _ = writeln!(
            stderr,
            "{} records acknowledged by Kafka topic {} at {} (scrape run {})",
            delivered.acknowledged, delivered.topic, connection.brokers, delivered.scrape_run_id
        );
    }
    Ok(summary.exit_code())
}

/// Hands each page to the Kafka sink and to the optional file copy.
struct Both<'a>(&'a mut KafkaSink, Option<&'a mut NdjsonOutput>);

impl RecordSink for Both<'_> {
    fn write_page(
        &mut self,
        page: &PageRef,
        records: &[WeaponRecord],
        rejects: &[RejectedRow],
    ) -> Result<(), OutputError> {
        self.0.write_page(page, records, rejects)?;
        match &mut self.1 {
            Some(copy) => copy.write_page(page, records, rejects),
            None => Ok(()),
        }
    }
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
