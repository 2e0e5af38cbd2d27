//! PostgreSQL storage of MHFZ weapon records.
//!
//! Schema `mhfz` holds one table per weapon class, named by the class id (`mhfz.long_sword`,
//! ...), with typed columns, the record as scraped (`record`) and its content hash, plus the
//! `mhfz.weapons` view over all of them. The pieces:
//!
//! - [`migrate`] applies the embedded migrations (admin role); [`verify_migrations`] lets a
//!   least-privilege role check that the schema is current before it writes.
//! - [`write_batch`] upserts many records in one transaction and touches only rows whose
//!   content changed; [`write_each`] writes row by row to isolate a bad record. Both keep the
//!   versioned history `mhfz.weapon_versions` in the same transaction.
//! - [`weapon_versions`] and [`changes_between`] read that history.
//! - [`begin_export`] reads the rows changed since the last successful export under one
//!   snapshot and records the export (the watermark) in the same transaction.
//! - [`provision_roles`] creates the `mhfz_writer`, `mhfz_reader` and `mhfz_exporter` roles;
//!   [`grant_privileges`] gives existing roles their rights (the deployment's way).
//! - [`ConnectionSettings`] reads connection settings from the environment; passwords come
//!   from the caller or a file and are never printed. [`connect`] uses TLS over TCP, verifying
//!   the server's certificate and name against the CA file (`MHFZ_PG_CA_FILE`).

mod error;
mod export;
mod history;
mod jsonb;
mod migrate;
mod roles;
mod row;
mod settings;
mod write;

pub use error::StoreError;
pub use export::{begin_export, Export, ExportRows, ExportRun, ExportScope, ExportedRow};
pub use history::{
    changes_between, weapon_versions, WeaponChange, WeaponVersion, CHANGES_BETWEEN_SQL,
    WEAPON_VERSIONS_SQL,
};
pub use migrate::{migrate, verify_migrations, Migration, MigrationReport, MIGRATIONS};
pub use roles::{grant_privileges, provision_roles, Grantees, RoleNames, RolePasswords};
pub use row::content_hash;
pub use settings::{
    connect, ConnectionSettings, Password, CA_FILE_VAR, PASSWORD_FILE_VAR, URL_VAR,
};
pub use write::{write_batch, write_each, BatchOutcome, RowOutcome, ScrapedRecord};

/// The schema every table of this crate lives in.
pub const SCHEMA: &str = "mhfz";

/// The table of one weapon class, schema-qualified: `mhfz.long_sword`.
pub fn table_name(class: mhfz_record::WeaponClass) -> String {
    // Class ids are compile-time snake-case constants: safe as unquoted identifiers.
    format!("{SCHEMA}.{}", class.id())
}
