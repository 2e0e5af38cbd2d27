//! The `mhfz-consumer` command line.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};
use mhfz_store::{connect, grant_privileges, migrate, ConnectionSettings, Grantees};

use crate::consumer::metrics::{self, Metrics};
use crate::consumer::{run, ConsumerConfig, ConsumerError};
use crate::kafka::{
    parse_property, platform_topics, user_properties, KafkaClientSettings, KafkaCredentialArgs,
};

const EXIT_OK: u8 = 0;
const EXIT_FATAL: u8 = 1;
const EXIT_USAGE: u8 = 2;

/// Consumes weapon records from Kafka into PostgreSQL (at least once, idempotent upserts).
///
/// The database comes from MHFZ_PG_URL (a postgres:// URL or key=value string without a
/// password), the password file named by MHFZ_PG_PASSWORD_FILE and, for a TCP host, the CA
/// file named by MHFZ_PG_CA_FILE (PEM: TLS, verifying the server's certificate and name; a
/// TCP connection without it is refused). Kafka is reached over TLS only, verifying the brokers'
/// certificates against --kafka-ca-file, logging in with SASL/SCRAM-SHA-512 as --kafka-user
/// with the password in --kafka-password-file; a refused login or an untrusted broker stops the
/// consumer at once, saying which. Run `mhfz-consumer
/// migrate` once with an administrator's settings; the consumer itself runs as the
/// least-privilege writer role, which cannot change the schema: at start it only checks that
/// every migration is applied (`--migrate` applies them first, for a role that may). `mhfz-consumer
/// grant-roles`, as the schema owner, gives the writer, exporter and reader roles their rights.
#[derive(Debug, Parser)]
#[command(
    name = "mhfz-consumer",
    version,
    args_conflicts_with_subcommands = true,
    args_override_self = true
)]
pub struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    consume: ConsumeArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Apply the embedded migrations (needs a role that may create schemas and tables).
    Migrate,
    /// Give existing roles exactly their rights in schema mhfz, as its owner (after migrate).
    /// Prints `changed` or `unchanged` on stdout.
    GrantRoles(GrantArgs),
}

#[derive(Debug, clap::Args)]
struct GrantArgs {
    /// The consumer's role: reads and writes the class tables.
    #[arg(long, value_name = "ROLE")]
    writer: String,
    /// mhfz-exporter's role: reads the class tables, records its exports.
    #[arg(long, value_name = "ROLE")]
    exporter: String,
    /// A read-only role (repeatable).
    #[arg(long = "reader", value_name = "ROLE")]
    readers: Vec<String>,
}

#[derive(Debug, clap::Args)]
struct ConsumeArgs {
    /// Kafka bootstrap servers, host:port[,host:port...].
    #[arg(long, value_name = "BROKERS")]
    brokers: Option<String>,
    #[arg(long, default_value_t = platform_topics().records.name.clone())]
    topic: String,
    /// Consumer group: consumers of one group share the partitions.
    #[arg(long, default_value = "mhfz-consumer")]
    group: String,
    /// Static membership id in the group, stable across restarts and unique in the group (e.g.
    /// the host name): a restarted consumer resumes its partitions at once instead of waiting
    /// for its old session to expire.
    #[arg(long, env = "MHFZ_CONSUMER_INSTANCE_ID", value_name = "ID")]
    instance_id: Option<String>,
    /// Where messages that cannot be stored go, with the reason in headers.
    #[arg(long, default_value_t = platform_topics().dead_letters.name.clone())]
    dlq_topic: String,
    /// Most messages written in one transaction.
    #[arg(long, default_value_t = 5000)]
    batch_size: usize,
    /// Longest wait for a batch to fill.
    #[arg(long, default_value_t = 500)]
    batch_timeout_ms: u64,
    /// Stop (status 0) once the partitions are assigned, every offset is committed up to the
    /// end of its partition and no message arrived for --idle-ms.
    #[arg(long)]
    until_idle: bool,
    #[arg(long, default_value_t = 2000)]
    idle_ms: u64,
    /// Address of the Prometheus /metrics endpoint; `off` for none.
    #[arg(long, default_value = "127.0.0.1:9464", value_parser = parse_metrics_addr)]
    metrics_addr: MetricsAddr,
    /// Attempts at writing a batch when the database fails transiently (backoff 0.2 s doubling to 5 s).
    #[arg(long, default_value_t = 5)]
    write_attempts: u32,
    /// Apply pending migrations before consuming (needs DDL rights).
    #[arg(long)]
    migrate: bool,
    #[command(flatten)]
    kafka_credentials: KafkaCredentialArgs,
    /// Extra librdkafka setting of both Kafka clients (the consumer and the dead-letter
    /// producer), KEY=VALUE (repeatable): tuning, e.g. session.timeout.ms=6000 (not the
    /// security settings).
    #[arg(long = "kafka-option", value_name = "KEY=VALUE", value_parser = parse_property)]
    kafka_options: Vec<(String, String)>,
    /// librdkafka properties from FILE, KEY=VALUE per line, before the --kafka-options: for
    /// secrets (ssl.key.password), which do not belong on a command line.
    #[arg(long, value_name = "FILE")]
    kafka_options_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy)]
struct MetricsAddr(Option<SocketAddr>);

fn parse_metrics_addr(text: &str) -> Result<MetricsAddr, String> {
    if text == "off" {
        return Ok(MetricsAddr(None));
    }
    text.parse()
        .map(|addr| MetricsAddr(Some(addr)))
        .map_err(|e| format!("{e} (expected host:port or off)"))
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
                EXIT_USAGE
            } else {
                EXIT_OK
            };
        }
    };
    match run_args(args) {
        Ok(()) => EXIT_OK,
        Err(error) => {
            eprintln!("mhfz-consumer: {}", with_causes(&error));
            EXIT_FATAL
        }
    }
}

/// The error and its causes: PostgreSQL's own message ("permission denied for ...") is only
/// in the source chain of a `postgres::Error`, whose `Display` says just "db error".
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

fn run_args(args: Args) -> Result<(), ConsumerError> {
    match args.command {
        Some(Command::Migrate) => return apply_migrations(&ConnectionSettings::from_env()?),
        Some(Command::GrantRoles(grant)) => return grant_roles(grant),
        None => {}
    }
    let consume = args.consume;
    let brokers = consume
        .brokers
        .ok_or_else(|| ConsumerError::Config("--brokers is required".into()))?;
    let properties = user_properties(
        consume.kafka_options_file.as_deref(),
        &consume.kafka_options,
    )?;
    let credentials = consume.kafka_credentials.credentials()?;
    let config = ConsumerConfig {
        kafka: KafkaClientSettings::new(brokers, "mhfz-consumer", credentials)
            .with_properties(properties),
        topic: consume.topic,
        group: consume.group,
        instance_id: consume.instance_id,
        dead_letter_topic: consume.dlq_topic,
        batch_size: consume.batch_size,
        batch_timeout: Duration::from_millis(consume.batch_timeout_ms),
        until_idle: consume
            .until_idle
            .then(|| Duration::from_millis(consume.idle_ms)),
        metrics_addr: consume.metrics_addr.0,
        write_attempts: consume.write_attempts,
    };
    config.validate()?;
    let database = ConnectionSettings::from_env()?;
    if consume.migrate {
        apply_migrations(&database)?;
    }
    let shutdown = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, Arc::clone(&shutdown)).map_err(|error| {
            ConsumerError::Config(format!("cannot handle signal {signal}: {error}"))
        })?;
    }
    let metrics = Arc::new(Metrics::default());
    if let Some(addr) = config.metrics_addr {
        let bound = metrics::serve(addr, Arc::clone(&metrics))?;
        eprintln!("mhfz-consumer: metrics on http://{bound}/metrics");
    }
    eprintln!(
        "mhfz-consumer: consuming {} as group {} into {}",
        config.topic,
        config.group,
        database.target()
    );
    let summary = run(&config, database, &metrics, &shutdown)?;
    eprintln!(
        "mhfz-consumer: {} messages in {} batches: {} rows written, {} unchanged, {} dead-lettered",
        summary.messages,
        summary.batches,
        summary.rows_written,
        summary.rows_unchanged,
        summary.dead_letters
    );
    Ok(())
}

fn apply_migrations(database: &ConnectionSettings) -> Result<(), ConsumerError> {
    let mut client = connect(database)?;
    let report = migrate(&mut client)?;
    eprintln!(
        "mhfz-consumer: migrations: {} applied ({:?}), {} already applied, on {}",
        report.applied.len(),
        report.applied,
        report.already_applied,
        database.target()
    );
    Ok(())
}

fn grant_roles(args: GrantArgs) -> Result<(), ConsumerError> {
    let database = ConnectionSettings::from_env()?;
    let grantees = Grantees {
        writer: args.writer,
        exporter: args.exporter,
        readers: args.readers,
    };
    let changed = grant_privileges(&mut connect(&database)?, &grantees)?;
    let outcome = if changed { "changed" } else { "unchanged" };
    eprintln!(
        "mhfz-consumer: grants on {}: writer {}, exporter {}, readers [{}]: {outcome}",
        database.target(),
        grantees.writer,
        grantees.exporter,
        grantees.readers.join(", ")
    );
    // On stdout alone, for a deployment tool to read.
    println!("{outcome}");
    Ok(())
}
