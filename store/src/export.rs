//! The exporter's side of the schema (migration 0002): the rows changed since the last
//! successful export, read under one snapshot, and the record of every export.
//!
//! Each row version carries `change_xid`, the transaction that wrote its content. An export
//! runs in one REPEATABLE READ transaction, so every statement sees the same snapshot; it takes
//! the rows whose `change_xid` the previous export's snapshot did not see, and records its own
//! snapshot in `mhfz.export_runs` in that same transaction. Snapshots of successive exports
//! only grow, so every committed row version is exported by exactly one export, whatever
//! order concurrent writers commit in.
//!
//! Exports are serialized by a session advisory lock taken *before* the transaction starts:
//! taken inside it, the snapshot could predate the commit of the export that held the lock.

use mhfz_record::WeaponClass;
use postgres::{Client, CopyOutReader};
use std::io::{self, BufRead, Read};

use crate::{table_name, verify_migrations, StoreError};

/// The advisory lock of exports, in the two-key space (the migration lock uses the one-key
/// space, which does not overlap): `"mhfz"` in ASCII, then 2 for "export".
const EXPORT_LOCK: (i32, i32) = (0x6d68_667a, 2);

/// Which rows an export takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportScope {
    /// The rows written since the last successful export (every row when there is none).
    Changed,
    /// Every row.
    Full,
}

/// A successful export, as recorded in `mhfz.export_runs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportRun {
    pub run_id: i64,
    pub full_export: bool,
    /// The run this export continued from; `None` for a full or first export.
    pub since_run_id: Option<i64>,
    pub rows_exported: u64,
    /// The snapshot the rows were read under, as PostgreSQL prints it (`xmin:xmax:xip,...`).
    pub snapshot: String,
}

/// An export in progress: one REPEATABLE READ transaction holding the export lock. Read the
/// rows class by class with [`Export::rows`], then record the export with [`Export::finish`].
/// Dropped unfinished, it rolls back: nothing is recorded and the next export takes the same
/// rows again.
pub struct Export<'c> {
    client: &'c mut Client,
    scope: ExportScope,
    since_run_id: Option<i64>,
    since_started_at: Option<String>,
    rows_read: u64,
    in_transaction: bool,
}

/// Starts an export on `client` (a role that may read the class tables and insert into
/// `mhfz.export_runs`, such as `mhfz_exporter`). Fails with [`StoreError::ExportRunning`]
/// when another export of the same database is in progress, without waiting.
pub fn begin_export(client: &mut Client, scope: ExportScope) -> Result<Export<'_>, StoreError> {
    let locked: bool = client
        .query_one(
            "SELECT pg_try_advisory_lock($1, $2)",
            &[&EXPORT_LOCK.0, &EXPORT_LOCK.1],
        )
        .map_err(StoreError::database("taking the export lock"))?
        .get(0);
    if !locked {
        return Err(StoreError::ExportRunning);
    }
    // From here on, dropping `export` releases the lock.
    let mut export = Export {
        client,
        scope,
        since_run_id: None,
        since_started_at: None,
        rows_read: 0,
        in_transaction: false,
    };
    export
        .client
        .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        .map_err(StoreError::database("starting the export transaction"))?;
    export.in_transaction = true;
    // The first statement fixes the snapshot, after the lock: the last export is visible.
    verify_migrations(export.client)?;
    if scope == ExportScope::Changed {
        let last = export
            .client
            .query_opt(
                "SELECT run_id, to_char(started_at AT TIME ZONE 'UTC', \
                 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') \
                 FROM mhfz.export_runs ORDER BY run_id DESC LIMIT 1",
                &[],
            )
            .map_err(StoreError::database("reading the last export"))?;
        if let Some(last) = last {
            export.since_run_id = Some(last.get(0));
            export.since_started_at = Some(last.get(1));
        }
    }
    Ok(export)
}

impl Export<'_> {
    pub fn scope(&self) -> ExportScope {
        self.scope
    }

    /// The run this export continues from: `None` for a full export or the first one.
    pub fn since_run_id(&self) -> Option<i64> {
        self.since_run_id
    }

    /// When the run this export continues from started, in UTC, to the microsecond
    /// (`2026-11-28T12:00:00.250000Z`).
    pub fn since_started_at(&self) -> Option<&str> {
        self.since_started_at.as_deref()
    }

    /// Rows read so far by [`Export::rows`].
    pub fn rows_read(&self) -> u64 {
        self.rows_read
    }

    /// How many rows this export takes, over every class (for progress reports: it costs one
    /// scan of each table).
    pub fn count_rows(&mut self) -> Result<u64, StoreError> {
        let counts: Vec<String> = WeaponClass::ALL
            .into_iter()
            .map(|class| format!("(SELECT count(*) FROM {})", self.selection(class)))
            .collect();
        let total: i64 = self
            .client
            .query_one(&format!("SELECT {}", counts.join(" + ")), &[])
            .map_err(StoreError::database("counting the rows to export"))?
            .get(0);
        Ok(u64::try_from(total).unwrap_or_default())
    }

    /// The rows of `class` this export takes, in weapon-id order, streamed with
    /// `COPY ... TO STDOUT` in binary format.
    pub fn rows(&mut self, class: WeaponClass) -> Result<ExportRows<'_>, StoreError> {
        let sql = format!(
            "COPY (SELECT weapon_id, record FROM {} ORDER BY weapon_id) TO STDOUT (FORMAT binary)",
            self.selection(class)
        );
        let reader = self
            .client
            .copy_out(&sql)
            .map_err(|source| StoreError::Export {
                class,
                source: io::Error::other(source),
            })?;
        let mut rows = ExportRows {
            class,
            reader,
            rows_read: &mut self.rows_read,
            weapon_id: String::new(),
            record: String::new(),
            done: false,
        };
        rows.read_header()?;
        Ok(rows)
    }

    /// `<table> WHERE <the rows this export takes>`.
    fn selection(&self, class: WeaponClass) -> String {
        let table = table_name(class);
        match self.since_run_id {
            None => table,
            // A sub-select rather than a literal: COPY takes no parameters.
            Some(run) => format!(
                "{table} WHERE NOT pg_visible_in_snapshot(change_xid, \
                 (SELECT snapshot FROM mhfz.export_runs WHERE run_id = {run}))"
            ),
        }
    }

    /// Records the export (its snapshot, the rows read, `destination`) and commits. Call it
    /// once the output is complete and in place: a crash before the commit means the rows are
    /// exported again, never lost.
    pub fn finish(mut self, destination: &str) -> Result<ExportRun, StoreError> {
        let rows = i64::try_from(self.rows_read).unwrap_or(i64::MAX);
        let row = self
            .client
            .query_one(
                "INSERT INTO mhfz.export_runs
                     (full_export, since_run_id, snapshot, started_at, rows_exported, destination)
                 VALUES ($1, $2, pg_current_snapshot(), now(), $3, $4)
                 RETURNING run_id, pg_current_snapshot()::text",
                &[
                    &(self.scope == ExportScope::Full),
                    &self.since_run_id,
                    &rows,
                    &destination,
                ],
            )
            .map_err(StoreError::database("recording the export"))?;
        self.client
            .batch_execute("COMMIT")
            .map_err(StoreError::database("committing the export"))?;
        self.in_transaction = false;
        Ok(ExportRun {
            run_id: row.get(0),
            full_export: self.scope == ExportScope::Full,
            since_run_id: self.since_run_id,
            rows_exported: self.rows_read,
            snapshot: row.get(1),
        })
    }
}

impl Drop for Export<'_> {
    fn drop(&mut self) {
        // Best effort: when the connection is gone, so are the transaction and the lock.
        if self.in_transaction {
            let _ = self.client.batch_execute("ROLLBACK");
        }
        let _ = self.client.execute(
            "SELECT pg_advisory_unlock($1, $2)",
            &[&EXPORT_LOCK.0, &EXPORT_LOCK.1],
        );
    }
}

/// The rows of one class table, decoded from the binary COPY stream as they arrive.
pub struct ExportRows<'e> {
    class: WeaponClass,
    reader: CopyOutReader<'e>,
    rows_read: &'e mut u64,
    weapon_id: String,
    record: String,
    done: bool,
}

/// One exported row: the weapon id and the record as JSON (the `record` column as PostgreSQL
/// prints JSONB: keys reordered, no insignificant white space).
#[derive(Debug, Clone, Copy)]
pub struct ExportedRow<'r> {
    pub weapon_id: &'r str,
    pub record_json: &'r str,
}

/// The binary COPY signature, then flags and the header extension length.
const COPY_SIGNATURE: &[u8; 11] = b"PGCOPY\n\xff\r\n\0";
/// The version byte PostgreSQL puts before JSONB text in binary format.
const JSONB_VERSION: u8 = 1;

impl ExportRows<'_> {
    /// The next row, or `None` at the end of the table.
    pub fn next_row(&mut self) -> Result<Option<ExportedRow<'_>>, StoreError> {
        if self.done {
            return Ok(None);
        }
        let fields = self.read_i16()?;
        match fields {
            -1 => {
                self.done = true;
                self.expect_end()?;
                return Ok(None);
            }
            2 => {}
            n => return Err(self.bad_data(format!("a row of {n} fields instead of 2"))),
        }
        let mut weapon_id = std::mem::take(&mut self.weapon_id);
        let mut record = std::mem::take(&mut self.record);
        let read = self
            .read_text_field(&mut weapon_id, "weapon_id", None)
            .and_then(|()| self.read_text_field(&mut record, "record", Some(JSONB_VERSION)));
        self.weapon_id = weapon_id;
        self.record = record;
        read?;
        *self.rows_read += 1;
        Ok(Some(ExportedRow {
            weapon_id: &self.weapon_id,
            record_json: &self.record,
        }))
    }

    fn read_header(&mut self) -> Result<(), StoreError> {
        let mut signature = [0; 11];
        self.read_exact(&mut signature)?;
        if &signature != COPY_SIGNATURE {
            return Err(self.bad_data("no binary COPY signature".into()));
        }
        let _flags = self.read_i32()?;
        let extension = self.read_i32()?;
        let extension = u64::try_from(extension)
            .map_err(|_| self.bad_data("a negative header extension length".into()))?;
        let skipped = io::copy(&mut (&mut self.reader).take(extension), &mut io::sink()).map_err(
            |source| StoreError::Export {
                class: self.class,
                source,
            },
        )?;
        if skipped != extension {
            return Err(self.bad_data("the stream ends inside its header".into()));
        }
        Ok(())
    }

    /// Reads a non-NULL text field into `buffer`, after its format version byte if any.
    fn read_text_field(
        &mut self,
        buffer: &mut String,
        column: &str,
        version: Option<u8>,
    ) -> Result<(), StoreError> {
        let length = self.read_i32()?;
        let mut length =
            usize::try_from(length).map_err(|_| self.bad_data(format!("{column} is NULL")))?;
        if let Some(expected) = version {
            let mut byte = [0];
            self.read_exact(&mut byte)?;
            if byte[0] != expected || length == 0 {
                return Err(self.bad_data(format!("{column} has format version {}", byte[0])));
            }
            length -= 1;
        }
        let mut bytes = std::mem::take(buffer).into_bytes();
        bytes.clear();
        bytes.resize(length, 0);
        self.read_exact(&mut bytes)?;
        *buffer = String::from_utf8(bytes)
            .map_err(|_| self.bad_data(format!("{column} is not UTF-8")))?;
        Ok(())
    }

    /// After the trailer, the stream must end.
    fn expect_end(&mut self) -> Result<(), StoreError> {
        let rest = self
            .reader
            .fill_buf()
            .map_err(|source| StoreError::Export {
                class: self.class,
                source,
            })?;
        if rest.is_empty() {
            Ok(())
        } else {
            Err(self.bad_data("data after the trailer".into()))
        }
    }

    fn read_i16(&mut self) -> Result<i16, StoreError> {
        let mut bytes = [0; 2];
        self.read_exact(&mut bytes)?;
        Ok(i16::from_be_bytes(bytes))
    }

    fn read_i32(&mut self) -> Result<i32, StoreError> {
        let mut bytes = [0; 4];
        self.read_exact(&mut bytes)?;
        Ok(i32::from_be_bytes(bytes))
    }

    fn read_exact(&mut self, buffer: &mut [u8]) -> Result<(), StoreError> {
        self.reader
            .read_exact(buffer)
            .map_err(|source| StoreError::Export {
                class: self.class,
                source,
            })
    }

    fn bad_data(&self, detail: String) -> StoreError {
        StoreError::Export {
            class: self.class,
            source: io::Error::new(io::ErrorKind::InvalidData, detail),
        }
    }
}
