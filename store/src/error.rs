//! What can go wrong while storing records.

use mhfz_record::WeaponClass;
use postgres::error::SqlState;
use std::path::PathBuf;

/// Errors of this crate. None of them ever carries a password.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("invalid connection settings: {0}")]
    Settings(String),

    #[error("cannot read the password file {path}: {source}")]
    PasswordFile {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error(
        "cannot connect to PostgreSQL at {target}: TCP connections use TLS and verify the \
         server's certificate, and no CA certificate is configured: set {var} to the PEM \
         file of the CA that signed the server's certificate",
        var = crate::CA_FILE_VAR
    )]
    NoCaFile {
        /// `host:port/database as user`.
        target: String,
    },

    #[error("cannot read the PostgreSQL CA file {path}: {source}")]
    CaFile {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("the PostgreSQL CA file {path} is not valid PEM: {source}")]
    CaFileInvalid {
        path: PathBuf,
        source: openssl::error::ErrorStack,
    },

    #[error(
        "the PostgreSQL CA file {path} holds no PEM certificate \
         (-----BEGIN CERTIFICATE-----)"
    )]
    CaFileEmpty { path: PathBuf },

    #[error("setting up TLS: {0}")]
    Tls(openssl::error::ErrorStack),

    #[error("cannot connect to PostgreSQL at {target}: {source}")]
    Connect {
        /// `host:port/database as user`.
        target: String,
        source: postgres::Error,
    },

    #[error("migration {version} ({name}) failed: {source}")]
    Migration {
        version: u32,
        name: &'static str,
        source: postgres::Error,
    },

    #[error(
        "migration {version} ({name}) was changed after it was applied (its checksum differs \
         from the one recorded in mhfz.schema_migrations); refusing to run"
    )]
    ChecksumMismatch { version: u32, name: String },

    #[error(
        "the database has migration {version} ({name}), which this program does not know: \
         the database is newer than this program"
    )]
    UnknownMigration { version: u32, name: String },

    #[error("the database schema is not up to date: migration {version} ({name}) is not applied")]
    MigrationPending { version: u32, name: &'static str },

    #[error("{weapon_id}: {field} {value} does not fit its column")]
    OutOfRange {
        weapon_id: String,
        field: &'static str,
        value: u64,
    },

    #[error("{weapon_id}: cannot serialize the record: {source}")]
    Serialize {
        weapon_id: String,
        source: serde_json::Error,
    },

    /// The database refused a row's data: a CHECK or NOT NULL violation, or a value PostgreSQL
    /// cannot store (such as a NUL character). Retrying the same row cannot succeed.
    #[error(
        "mhfz.{class}: row {} rejected{}: {source}",
        weapon_id.as_deref().unwrap_or("(id unknown, write row by row to find it)"),
        constraint.as_deref().map(|c| format!(" by constraint {c}")).unwrap_or_default()
    )]
    RowRejected {
        class: WeaponClass,
        /// Known when the row was written alone, or when PostgreSQL's error detail names it.
        weapon_id: Option<String>,
        constraint: Option<String>,
        source: postgres::Error,
    },

    #[error("writing to mhfz.{class} failed: {source}")]
    Write {
        class: WeaponClass,
        source: postgres::Error,
    },

    #[error(
        "another export of this database is in progress (it holds the export lock); \
         try again when it has finished"
    )]
    ExportRunning,

    #[error("reading the rows of mhfz.{class} to export: {source}")]
    Export {
        class: WeaponClass,
        source: std::io::Error,
    },

    #[error("{context}: {source}")]
    Database {
        context: &'static str,
        source: postgres::Error,
    },
}

impl StoreError {
    pub(crate) fn database(context: &'static str) -> impl FnOnce(postgres::Error) -> StoreError {
        move |source| StoreError::Database { context, source }
    }

    /// True when the data itself was refused: the same records will fail again, so a caller
    /// should isolate the bad one (see [`crate::write_each`]) instead of retrying.
    pub fn is_row_rejection(&self) -> bool {
        matches!(
            self,
            StoreError::RowRejected { .. }
                | StoreError::OutOfRange { .. }
                | StoreError::Serialize { .. }
        )
    }

    /// True when retrying the same operation later may succeed: lost connections,
    /// serialization failures and deadlocks, server shutdown or resource exhaustion.
    pub fn is_transient(&self) -> bool {
        let source = match self {
            StoreError::Connect { source, .. }
            | StoreError::Write { source, .. }
            | StoreError::Database { source, .. }
            | StoreError::Migration { source, .. } => source,
            _ => return false,
        };
        if source.is_closed() {
            return true;
        }
        if is_tls_rejection(source) {
            return false;
        }
        match source.code() {
            // No SQL state: an I/O or protocol error on the connection.
            None => true,
            Some(code) => is_transient_state(code),
        }
    }
}

/// True when OpenSSL refused the handshake (a certificate that does not verify, a name that does
/// not match, no common protocol): the same server will refuse again. I/O errors during the
/// handshake carry no OpenSSL error stack and stay transient.
fn is_tls_rejection(error: &postgres::Error) -> bool {
    let mut cause = std::error::Error::source(error);
    while let Some(error) = cause {
        if let Some(tls) = error.downcast_ref::<openssl::ssl::Error>() {
            return tls.ssl_error().is_some();
        }
        cause = error.source();
    }
    false
}

fn is_transient_state(code: &SqlState) -> bool {
    let code = code.code();
    // 08: connection exception, 40: transaction rollback (serialization, deadlock),
    // 53: insufficient resources, 57P: operator intervention (shutdown, crash recovery).
    code.starts_with("08")
        || code.starts_with("40")
        || code.starts_with("53")
        || code.starts_with("57P")
}

/// The error of a failed write to `class`: a row rejection when the data was refused
/// (SQLSTATE classes 22 "data exception" and 23 "integrity constraint violation").
pub(crate) fn write_error(
    class: WeaponClass,
    known_weapon_id: Option<&str>,
    source: postgres::Error,
) -> StoreError {
    let Some(db) = source.as_db_error() else {
        return StoreError::Write { class, source };
    };
    let state = db.code().code();
    if !(state.starts_with("22") || state.starts_with("23")) {
        return StoreError::Write { class, source };
    }
    let weapon_id = known_weapon_id
        .map(str::to_string)
        .or_else(|| db.detail().and_then(weapon_id_from_detail));
    StoreError::RowRejected {
        class,
        weapon_id,
        constraint: db.constraint().map(str::to_string),
        source,
    }
}

/// PostgreSQL describes a row that violates a CHECK or NOT NULL constraint as
/// `Failing row contains (v1, v2, ...)`; `weapon_id` is the tables' first column.
fn weapon_id_from_detail(detail: &str) -> Option<String> {
    let values = detail.strip_prefix("Failing row contains (")?;
    let end = values.find([',', ')'])?;
    Some(values[..end].to_string()).filter(|id| !id.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weapon_id_is_the_first_value_of_a_failing_row() {
        assert_eq!(
            weapon_id_from_detail("Failing row contains (long_sword:g:l1, g, l1, Blade, [], 13)")
                .as_deref(),
            Some("long_sword:g:l1")
        );
        assert_eq!(
            weapon_id_from_detail("Key (weapon_id)=(x) already exists."),
            None
        );
    }
}
