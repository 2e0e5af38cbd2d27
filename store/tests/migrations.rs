//! Migrations against a real PostgreSQL.

mod support;

use mhfz_record::WeaponClass;
use mhfz_store::{migrate, verify_migrations, StoreError, MIGRATIONS};
use support::{count, TestDatabase};

#[test]
fn migrations_apply_once_and_are_idempotent() {
    let db = TestDatabase::create();
    let mut admin = db.admin();
    assert!(matches!(
        verify_migrations(&mut admin),
        Err(StoreError::MigrationPending { version: 1, .. })
    ));

    let first = migrate(&mut admin).unwrap();
    let all: Vec<u32> = MIGRATIONS.iter().map(|m| m.version).collect();
    assert_eq!(first.applied, all);
    assert_eq!(first.already_applied, 0);

    let second = migrate(&mut admin).unwrap();
    assert!(second.applied.is_empty());
    assert_eq!(second.already_applied, MIGRATIONS.len());
    assert_eq!(
        count(&mut admin, "SELECT count(*) FROM mhfz.schema_migrations"),
        MIGRATIONS.len() as i64
    );
    verify_migrations(&mut admin).unwrap();
}

#[test]
fn concurrent_migrations_apply_each_migration_once() {
    let db = TestDatabase::create();
    let runs: Vec<_> = (0..4)
        .map(|_| {
            let settings = db.admin_settings();
            std::thread::spawn(move || {
                let mut client = mhfz_store::connect(&settings).unwrap();
                migrate(&mut client).unwrap().applied.len()
            })
        })
        .collect();
    let applied: usize = runs.into_iter().map(|run| run.join().unwrap()).sum();
    assert_eq!(applied, MIGRATIONS.len());
}

#[test]
fn one_table_per_weapon_class_besides_the_bookkeeping_and_history_tables() {
    let (_db, mut admin) = TestDatabase::migrated();
    let rows = admin
        .query(
            "SELECT table_name::text FROM information_schema.tables
             WHERE table_schema = 'mhfz' AND table_type = 'BASE TABLE'
               AND table_name NOT IN ('schema_migrations', 'export_runs', 'weapon_versions')
             ORDER BY table_name",
            &[],
        )
        .unwrap();
    let tables: Vec<String> = rows.iter().map(|row| row.get(0)).collect();
    let mut expected: Vec<String> = WeaponClass::ALL
        .iter()
        .map(|c| c.id().to_string())
        .collect();
    expected.sort();
    assert_eq!(tables, expected);

    let view_classes: Vec<String> = admin
        .query(
            "SELECT DISTINCT unnest(regexp_matches(pg_get_viewdef('mhfz.weapons'::regclass),
                    'FROM mhfz\\.(\\w+)', 'g')) ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(
        view_classes, expected,
        "the weapons view covers every class table"
    );
}

#[test]
fn a_changed_migration_is_refused() {
    let (_db, mut admin) = TestDatabase::migrated();
    admin
        .execute(
            "UPDATE mhfz.schema_migrations SET checksum = sha256('something else') WHERE version = 1",
            &[],
        )
        .unwrap();
    let error = migrate(&mut admin).unwrap_err();
    assert!(
        matches!(error, StoreError::ChecksumMismatch { version: 1, .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("refusing to run"), "{error}");
    assert!(matches!(
        verify_migrations(&mut admin),
        Err(StoreError::ChecksumMismatch { version: 1, .. })
    ));
}

#[test]
fn a_migration_from_a_newer_program_is_refused() {
    let (_db, mut admin) = TestDatabase::migrated();
    admin
        .execute(
            "INSERT INTO mhfz.schema_migrations (version, name, checksum)
             VALUES (9999, 'from_the_future', sha256('x'))",
            &[],
        )
        .unwrap();
    let error = migrate(&mut admin).unwrap_err();
    assert!(
        matches!(error, StoreError::UnknownMigration { version: 9999, .. }),
        "{error:?}"
    );
}
