//! Loads scraper NDJSON into a database with `write_batch` (migrating it first): how
//! `bench/exporter-throughput` fills the tables it exports from.
//!
//! ```text
//! MHFZ_PG_URL=postgres://admin@127.0.0.1:5432/db MHFZ_PG_PASSWORD_FILE=pw MHFZ_PG_CA_FILE=ca.pem \
//!   cargo run --release -p mhfz-store --example load_records -- records.ndjson
//! ```

use anyhow::{bail, Context};
use mhfz_record::WeaponRecord;
use mhfz_store::{BatchOutcome, ConnectionSettings, ScrapedRecord};
use std::io::BufRead;
use std::time::SystemTime;

/// Records per transaction.
const BATCH: usize = 5_000;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [path] = args.as_slice() else {
        bail!("usage: load_records RECORDS.ndjson");
    };
    let file = std::fs::File::open(path).with_context(|| format!("opening {path}"))?;
    let mut records = Vec::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("reading {path}"))?;
        let record: WeaponRecord =
            serde_json::from_str(&line).with_context(|| format!("{path}:{}", i + 1))?;
        records.push(record);
    }

    let settings = ConnectionSettings::from_env()?;
    let mut client = mhfz_store::connect(&settings)?;
    mhfz_store::migrate(&mut client)?;
    let scraped_at = SystemTime::now();
    let mut total = BatchOutcome::default();
    for chunk in records.chunks(BATCH) {
        let scraped: Vec<ScrapedRecord<'_>> = chunk
            .iter()
            .map(|record| ScrapedRecord {
                record,
                scrape_run_id: "bench",
                scraped_at,
            })
            .collect();
        let outcome = mhfz_store::write_batch(&mut client, &scraped)?;
        total.inserted += outcome.inserted;
        total.updated += outcome.updated;
        total.unchanged += outcome.unchanged;
        total.superseded += outcome.superseded;
    }
    println!(
        "{} records: {} inserted, {} updated, {} unchanged, {} superseded",
        records.len(),
        total.inserted,
        total.updated,
        total.unchanged,
        total.superseded
    );
    Ok(())
}
