//! Embedded migrations, applied in order, each in its own transaction, recorded with a
//! checksum in `mhfz.schema_migrations`.

use postgres::{Client, GenericClient};
use sha2::{Digest, Sha256};

use crate::StoreError;

/// One schema change. Once applied somewhere, its text must never change: add a new one.
#[derive(Debug)]
pub struct Migration {
    pub version: u32,
    pub name: &'static str,
    pub sql: &'static str,
}

impl Migration {
    fn checksum(&self) -> Vec<u8> {
        Sha256::digest(self.sql.as_bytes()).to_vec()
    }
}

/// Every migration, in the order they apply. A test checks it lists every file of
/// `store/migrations/`.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "weapon_tables",
        sql: include_str!("../migrations/0001_weapon_tables.sql"),
    },
    Migration {
        version: 2,
        name: "export_watermark",
        sql: include_str!("../migrations/0002_export_watermark.sql"),
    },
    Migration {
        version: 3,
        name: "weapon_history",
        sql: include_str!("../migrations/0003_weapon_history.sql"),
    },
];

/// Serializes concurrent `migrate` calls (two consumers starting at once). The value is
/// `"mhfz"` in ASCII.
const MIGRATION_LOCK: i64 = 0x6d68_667a;

const BOOTSTRAP: &str = "
    CREATE SCHEMA IF NOT EXISTS mhfz;
    CREATE TABLE IF NOT EXISTS mhfz.schema_migrations (
        version    integer     PRIMARY KEY,
        name       text        NOT NULL,
        checksum   bytea       NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
    );
";

/// What [`migrate`] did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MigrationReport {
    /// Versions applied by this call, in order.
    pub applied: Vec<u32>,
    /// Migrations found already applied.
    pub already_applied: usize,
}

/// Applies every pending migration; needs a role that may create schemas and tables.
///
/// Refuses to run, changing nothing, when an applied migration's text differs from the
/// embedded one or the database has a migration this program does not know.
pub fn migrate(client: &mut Client) -> Result<MigrationReport, StoreError> {
    let mut tx = client
        .transaction()
        .map_err(StoreError::database("starting the migration bootstrap"))?;
    lock(&mut tx)?;
    tx.batch_execute(BOOTSTRAP)
        .map_err(StoreError::database("creating mhfz.schema_migrations"))?;
    tx.commit()
        .map_err(StoreError::database("creating mhfz.schema_migrations"))?;

    let mut report = MigrationReport::default();
    for migration in MIGRATIONS {
        let failed = |source| StoreError::Migration {
            version: migration.version,
            name: migration.name,
            source,
        };
        let mut tx = client.transaction().map_err(failed)?;
        lock(&mut tx)?;
        // Read under the lock: another process may have applied it meanwhile.
        let applied = applied_migrations(&mut tx)?;
        check_applied(&applied)?;
        if applied.iter().any(|a| a.version == migration.version) {
            report.already_applied += 1;
            continue;
        }
        tx.batch_execute(migration.sql).map_err(failed)?;
        tx.execute(
            "INSERT INTO mhfz.schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
            &[
                &version_sql(migration.version),
                &migration.name,
                &migration.checksum(),
            ],
        )
        .map_err(failed)?;
        tx.commit().map_err(failed)?;
        report.applied.push(migration.version);
    }
    Ok(report)
}

/// Checks, read-only, that every embedded migration is applied unchanged: what a
/// least-privilege role (which cannot migrate) runs before writing.
pub fn verify_migrations(client: &mut impl GenericClient) -> Result<(), StoreError> {
    let exists: bool = client
        .query_one(
            "SELECT to_regclass('mhfz.schema_migrations') IS NOT NULL",
            &[],
        )
        .map_err(StoreError::database("looking for mhfz.schema_migrations"))?
        .get(0);
    let applied = if exists {
        applied_migrations(client)?
    } else {
        Vec::new()
    };
    check_applied(&applied)?;
    match MIGRATIONS
        .iter()
        .find(|m| !applied.iter().any(|a| a.version == m.version))
    {
        Some(pending) => Err(StoreError::MigrationPending {
            version: pending.version,
            name: pending.name,
        }),
        None => Ok(()),
    }
}

struct AppliedMigration {
    version: u32,
    name: String,
    checksum: Vec<u8>,
}

fn lock(tx: &mut impl GenericClient) -> Result<(), StoreError> {
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .map_err(StoreError::database("taking the migration lock"))?;
    Ok(())
}

fn applied_migrations(
    client: &mut impl GenericClient,
) -> Result<Vec<AppliedMigration>, StoreError> {
    let rows = client
        .query(
            "SELECT version, name, checksum FROM mhfz.schema_migrations ORDER BY version",
            &[],
        )
        .map_err(StoreError::database("reading mhfz.schema_migrations"))?;
    Ok(rows
        .iter()
        .map(|row| AppliedMigration {
            // The column only ever holds versions written by `version_sql`.
            version: u32::try_from(row.get::<_, i32>(0)).unwrap_or(u32::MAX),
            name: row.get(1),
            checksum: row.get(2),
        })
        .collect())
}

fn check_applied(applied: &[AppliedMigration]) -> Result<(), StoreError> {
    for migration in applied {
        match MIGRATIONS.iter().find(|m| m.version == migration.version) {
            None => {
                return Err(StoreError::UnknownMigration {
                    version: migration.version,
                    name: migration.name.clone(),
                })
            }
            Some(known) if known.checksum() != migration.checksum => {
                return Err(StoreError::ChecksumMismatch {
                    version: migration.version,
                    name: migration.name.clone(),
                })
            }
            Some(_) => {}
        }
    }
    Ok(())
}

fn version_sql(version: u32) -> i32 {
    i32::try_from(version).expect("migration versions are small constants")
}

#[cfg(test)]
mod tests {
    use super::*;
    use mhfz_record::WeaponClass;

    #[test]
    fn every_migration_file_is_listed_in_order() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .collect();
        files.sort();
        let listed: Vec<String> = MIGRATIONS
            .iter()
            .map(|m| format!("{:04}_{}.sql", m.version, m.name))
            .collect();
        assert_eq!(files, listed);
        for (i, migration) in MIGRATIONS.iter().enumerate() {
            assert_eq!(
                migration.version as usize,
                i + 1,
                "versions are 1, 2, 3, ..."
            );
        }
    }

    /// The class lists written out in the migrations that loop over the class tables are
    /// `WeaponClass::ALL`, in order. (The database tests check the tables themselves.)
    #[test]
    fn migrations_over_the_class_tables_list_every_class() {
        let expected: Vec<&str> = WeaponClass::ALL.iter().map(|c| c.id()).collect();
        for migration in &MIGRATIONS[..2] {
            let sql = migration.sql;
            let start = sql.find("classes CONSTANT text[] := ARRAY[").unwrap()
                + "classes CONSTANT text[] := ARRAY[".len();
            let end = start + sql[start..].find(']').unwrap();
            let listed: Vec<&str> = sql[start..end]
                .split(',')
                .map(|item| item.trim().trim_matches('\''))
                .collect();
            assert_eq!(listed, expected, "migration {}", migration.name);
        }
    }
}
