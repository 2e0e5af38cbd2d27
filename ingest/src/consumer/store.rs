//! Batches into PostgreSQL: one transaction per batch, bounded retries with backoff on
//! transient failures, row-by-row isolation of the rows the database refuses.

use std::time::Duration;

use mhfz_store::{
    connect, verify_migrations, write_batch, write_each, BatchOutcome, ConnectionSettings,
    RowOutcome, ScrapedRecord, StoreError,
};
use postgres::Client;

/// First retry delay; doubled each attempt up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// What writing a batch did.
#[derive(Debug, Default)]
pub struct Written {
    pub outcome: BatchOutcome,
    /// Records the database refused, by index into the batch, with the reason.
    pub rejected: Vec<(usize, StoreError)>,
    /// Time spent writing, retries included.
    pub duration: Duration,
}

/// A connection that is re-opened after a transient failure.
pub struct Store {
    settings: ConnectionSettings,
    client: Option<Client>,
    attempts: u32,
}

impl Store {
    /// Connects and checks, read-only, that the schema is current (the writer role cannot
    /// migrate: see `mhfz-consumer migrate`).
    pub fn open(settings: ConnectionSettings, attempts: u32) -> Result<Store, StoreError> {
        let mut client = connect(&settings)?;
        verify_migrations(&mut client)?;
        Ok(Store {
            settings,
            client: Some(client),
            attempts,
        })
    }

    /// Writes `batch` in one transaction. When the database refuses some rows, writes row by
    /// row instead, so that only those are left out (and reported). Transient failures are
    /// retried up to the configured number of attempts; other failures are returned.
    pub fn write(&mut self, records: &[ScrapedRecord<'_>]) -> Result<Written, StoreError> {
        match self.with_retries(|client| write_batch(client, records)) {
            Ok(outcome) => Ok(Written {
                outcome,
                ..Written::default()
            }),
            Err(error) if error.is_row_rejection() => {
                eprintln!("mhfz-consumer: {error}; writing the batch row by row");
                let results = self.with_retries(|client| write_each(client, records))?;
                Ok(tally(results))
            }
            Err(error) => Err(error),
        }
    }

    fn with_retries<T>(
        &mut self,
        mut operation: impl FnMut(&mut Client) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut backoff = FIRST_BACKOFF;
        let mut attempt = 1;
        loop {
            let result = match self.client.as_mut() {
                Some(client) => operation(client),
                None => connect(&self.settings).and_then(|mut client| {
                    let result = operation(&mut client);
                    self.client = Some(client);
                    result
                }),
            };
            match result {
                Err(error) if error.is_transient() && attempt < self.attempts => {
                    eprintln!(
                        "mhfz-consumer: {error}; retrying in {} ms (attempt {} of {})",
                        backoff.as_millis(),
                        attempt + 1,
                        self.attempts
                    );
                    // The connection may be broken: open a new one for the next attempt.
                    self.client = None;
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    attempt += 1;
                }
                result => return result,
            }
        }
    }
}

/// Adds up row-by-row results; in `write_each`, a weapon id seen twice is written twice, so
/// nothing is superseded there.
fn tally(results: Vec<Result<RowOutcome, StoreError>>) -> Written {
    let mut written = Written::default();
    for (index, result) in results.into_iter().enumerate() {
        match result {
            Ok(RowOutcome::Inserted) => written.outcome.inserted += 1,
            Ok(RowOutcome::Updated) => written.outcome.updated += 1,
            Ok(RowOutcome::Unchanged) => written.outcome.unchanged += 1,
            Err(error) => written.rejected.push((index, error)),
        }
    }
    written
}
