//! Measures `write_batch` rows/s: inserts, an unchanged rewrite and a changed rewrite.
//!
//! ```text
//! MHFZ_PG_URL=postgres://admin@127.0.0.1:5432/empty_db MHFZ_PG_PASSWORD_FILE=pw \
//!   MHFZ_PG_CA_FILE=ca.pem \
//!   cargo run --release -p mhfz-store --example write_throughput -- records.ndjson [ROWS] [BATCH]
//! ```
//!
//! `records.ndjson` is scraper output; records are repeated (with new weapon ids) up to ROWS
//! (default 100000). The database must be empty: the first pass must insert.

use anyhow::{bail, Context};
use mhfz_record::{WeaponId, WeaponRecord};
use mhfz_store::{BatchOutcome, ConnectionSettings, ScrapedRecord};
use std::io::BufRead;
use std::time::{Instant, SystemTime};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        bail!("usage: write_throughput RECORDS.ndjson [ROWS] [BATCH]");
    };
    let rows: usize = args.get(1).map_or(Ok(100_000), |a| a.parse())?;
    let batch: usize = args.get(2).map_or(Ok(rows), |a| a.parse())?;

    let mut records = read_records(path, rows)?;
    let settings = ConnectionSettings::from_env()?;
    let mut client = mhfz_store::connect(&settings)?;
    mhfz_store::migrate(&mut client)?;

    let outcome = timed("insert", &mut client, &records, "run-1", batch)?;
    if outcome.inserted != records.len() as u64 {
        bail!("the database was not empty: {outcome:?}");
    }
    timed("unchanged", &mut client, &records, "run-2", batch)?;
    for record in &mut records {
        record.attack += 1;
    }
    timed("update", &mut client, &records, "run-3", batch)?;
    Ok(())
}

fn read_records(path: &str, rows: usize) -> anyhow::Result<Vec<WeaponRecord>> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {path}"))?;
    let mut originals = Vec::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("reading {path}"))?;
        let record: WeaponRecord =
            serde_json::from_str(&line).with_context(|| format!("{path}:{}", i + 1))?;
        originals.push(record);
        if originals.len() == rows {
            break;
        }
    }
    if originals.is_empty() {
        bail!("{path} holds no records");
    }
    let copies = (0..rows).map(|i| {
        let mut record = originals[i % originals.len()].clone();
        let copy = i / originals.len();
        if copy > 0 {
            let tag = format!("{}#{copy}", record.weapon_id);
            record.weapon_id = WeaponId::new(
                record.class,
                record.variant,
                &record.site_row_id,
                Some(&tag),
            );
        }
        record
    });
    Ok(copies.collect())
}

fn timed(
    pass: &str,
    client: &mut postgres::Client,
    records: &[WeaponRecord],
    run_id: &str,
    batch: usize,
) -> anyhow::Result<BatchOutcome> {
    let scraped_at = SystemTime::now();
    let scraped: Vec<ScrapedRecord<'_>> = records
        .iter()
        .map(|record| ScrapedRecord {
            record,
            scrape_run_id: run_id,
            scraped_at,
        })
        .collect();
    let start = Instant::now();
    let mut total = BatchOutcome::default();
    for chunk in scraped.chunks(batch) {
        let outcome = mhfz_store::write_batch(client, chunk)?;
        total.inserted += outcome.inserted;
        total.updated += outcome.updated;
        total.unchanged += outcome.unchanged;
        total.superseded += outcome.superseded;
    }
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "{pass:>9}: {} rows in {seconds:.2} s = {:.0} rows/s (batches of {batch}) {total:?}",
        records.len(),
        records.len() as f64 / seconds
    );
    Ok(total)
}
