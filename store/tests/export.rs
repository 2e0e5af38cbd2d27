//! The export watermark: rows changed since the last successful export, read under one
//! snapshot, against the stack's PostgreSQL.

mod support;

use std::collections::BTreeMap;

use mhfz_record::{WeaponClass, WeaponRecord};
use mhfz_store::{begin_export, write_batch, Export, ExportScope, StoreError};
use postgres::Client;
use support::{count, record, records_of_every_class, scraped, TestDatabase, RUN_ID};

/// Reads every row the export takes: weapon id → stored record.
fn read_all(export: &mut Export<'_>) -> BTreeMap<String, WeaponRecord> {
    let mut rows = BTreeMap::new();
    for class in WeaponClass::ALL {
        let mut class_rows = export.rows(class).unwrap();
        let mut previous = String::new();
        while let Some(row) = class_rows.next_row().unwrap() {
            assert!(row.weapon_id > previous.as_str(), "rows in weapon-id order");
            previous = row.weapon_id.to_string();
            let record: WeaponRecord = serde_json::from_str(row.record_json).unwrap();
            assert_eq!(record.class, class);
            rows.insert(row.weapon_id.to_string(), record);
        }
    }
    rows
}

/// One complete export: the rows it took.
fn export(client: &mut Client, scope: ExportScope) -> BTreeMap<String, WeaponRecord> {
    let mut export = begin_export(client, scope).unwrap();
    let rows = read_all(&mut export);
    let run = export.finish("test").unwrap();
    assert_eq!(run.rows_exported, rows.len() as u64);
    rows
}

fn ids(records: &[WeaponRecord]) -> Vec<String> {
    let mut ids: Vec<String> = records.iter().map(|r| r.weapon_id.to_string()).collect();
    ids.sort();
    ids
}

#[test]
fn each_export_takes_what_changed_since_the_last_one() {
    let (_db, mut admin) = TestDatabase::migrated();
    let mut records = records_of_every_class(3);
    write_batch(&mut admin, &scraped(&records, RUN_ID)).unwrap();

    let first = export(&mut admin, ExportScope::Changed);
    assert_eq!(first.keys().cloned().collect::<Vec<_>>(), ids(&records));
    assert_eq!(first[records[5].weapon_id.as_str()], records[5]);
    assert!(export(&mut admin, ExportScope::Changed).is_empty());

    // Scraped again unchanged (another run id): not touched, not exported.
    write_batch(&mut admin, &scraped(&records, "run-2")).unwrap();
    assert!(export(&mut admin, ExportScope::Changed).is_empty());

    records[4].attack += 10;
    let added = record(WeaponClass::Bow, 40);
    write_batch(
        &mut admin,
        &scraped(
            &[records[4].clone(), records[7].clone(), added.clone()],
            "run-3",
        ),
    )
    .unwrap();
    let changed = export(&mut admin, ExportScope::Changed);
    assert_eq!(
        changed.keys().cloned().collect::<Vec<_>>(),
        ids(&[records[4].clone(), added.clone()])
    );
    assert_eq!(changed[records[4].weapon_id.as_str()], records[4]);

    let full = export(&mut admin, ExportScope::Full);
    assert_eq!(full.len(), records.len() + 1);
    assert!(export(&mut admin, ExportScope::Changed).is_empty());

    let runs: Vec<(bool, Option<i64>, i64)> = admin
        .query(
            "SELECT full_export, since_run_id, rows_exported FROM mhfz.export_runs ORDER BY run_id",
            &[],
        )
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1), row.get(2)))
        .collect();
    let n = records.len() as i64;
    assert_eq!(
        runs,
        [
            (false, None, n),
            (false, Some(1), 0),
            (false, Some(2), 0),
            (false, Some(3), 2),
            (true, None, n + 1),
            (false, Some(5), 0),
        ]
    );
}

/// The case a timestamp watermark gets wrong: a transaction that wrote before an export and
/// committed after it. Its rows must go to the next export.
#[test]
fn a_write_committed_after_an_export_started_goes_to_the_next_export() {
    let db = TestDatabase::create();
    let mut admin = db.admin();
    mhfz_store::migrate(&mut admin).unwrap();
    write_batch(&mut admin, &scraped(&records_of_every_class(1), RUN_ID)).unwrap();

    let mut slow_writer = db.admin();
    let mut slow = slow_writer.transaction().unwrap();
    let late = record(WeaponClass::Hammer, 77);
    slow.execute("SELECT pg_current_xact_id()", &[]).unwrap();
    let mut changed = records_of_every_class(1)[0].clone();
    changed.attack += 1;

    // A second writer commits while the slow one is still open.
    write_batch(
        &mut admin,
        &scraped(std::slice::from_ref(&changed), "run-2"),
    )
    .unwrap();
    // The slow one writes now, but commits only after the export.
    let upsert = "INSERT INTO mhfz.hammer (weapon_id, variant, site_row_id, name, name_notes, \
                  hidden, rarity, attack, affinity, attributes, unknown_attribute_lines, slots, \
                  creation_materials, upgrade_materials, upgrade_from, upgrade_to, description, \
                  extra_notes, record, content_hash, scrape_run_id, scraped_at) \
                  SELECT r->>'weapon_id', r->>'variant', r->>'site_row_id', r->>'name', '[]', \
                  false, 1, 1, 0, '[]', '[]', 0, '{}', '{}', '[]', '[]', '', '[]', r, \
                  sha256(convert_to(r::text, 'UTF8')), 'run-slow', now() FROM (SELECT $1::text::jsonb AS r) AS input";
    slow.execute(upsert, &[&serde_json::to_string(&late).unwrap()])
        .unwrap();

    let first = export(&mut admin, ExportScope::Changed);
    assert_eq!(
        first.len(),
        14,
        "every row once, the uncommitted one not yet"
    );
    assert!(!first.contains_key(late.weapon_id.as_str()));
    slow.commit().unwrap();

    let second = export(&mut admin, ExportScope::Changed);
    assert_eq!(
        second.keys().cloned().collect::<Vec<_>>(),
        [late.weapon_id.to_string()]
    );
}

#[test]
fn an_unfinished_export_records_nothing_and_releases_its_lock() {
    let (db, mut admin) = TestDatabase::migrated();
    let records = records_of_every_class(2);
    write_batch(&mut admin, &scraped(&records, RUN_ID)).unwrap();

    let mut other = db.admin();
    {
        let mut unfinished = begin_export(&mut admin, ExportScope::Changed).unwrap();
        // Stop in the middle of a table.
        let mut rows = unfinished.rows(WeaponClass::GreatSword).unwrap();
        assert!(rows.next_row().unwrap().is_some());
        drop(rows);
        assert!(unfinished.rows_read() == 1);

        let Err(error) = begin_export(&mut other, ExportScope::Full) else {
            panic!("two exports ran at once");
        };
        assert!(matches!(error, StoreError::ExportRunning), "{error:?}");
        assert!(error.to_string().contains("another export"), "{error}");
    }
    assert_eq!(
        count(&mut admin, "SELECT count(*) FROM mhfz.export_runs"),
        0
    );
    // The same connection is usable again, and the lock is free for another one.
    assert_eq!(
        export(&mut other, ExportScope::Changed).len(),
        records.len()
    );
    assert!(export(&mut admin, ExportScope::Changed).is_empty());
}

#[test]
fn an_export_needs_the_current_schema() {
    let db = TestDatabase::create();
    let mut admin = db.admin();
    let Err(error) = begin_export(&mut admin, ExportScope::Changed) else {
        panic!("exported from an unmigrated database");
    };
    assert!(
        matches!(error, StoreError::MigrationPending { version: 1, .. }),
        "{error:?}"
    );
}

#[test]
fn migration_2_gives_rows_stored_before_it_to_the_first_export() {
    let db = TestDatabase::create();
    let mut admin = db.admin();
    // Apply only migration 1, as a database created before the exporter existed.
    admin
        .batch_execute(
            "CREATE SCHEMA mhfz;
             CREATE TABLE mhfz.schema_migrations (version integer PRIMARY KEY, name text NOT NULL,
                 checksum bytea NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());",
        )
        .unwrap();
    let first = &mhfz_store::MIGRATIONS[0];
    admin.batch_execute(first.sql).unwrap();
    admin
        .execute(
            "INSERT INTO mhfz.schema_migrations (version, name, checksum) VALUES (1, $1, sha256($2::text::bytea))",
            &[&first.name, &first.sql],
        )
        .unwrap();
    let old_columns = count(
        &mut admin,
        "SELECT count(*) FROM information_schema.columns WHERE table_name = 'bow'",
    );
    admin
        .batch_execute(&format!(
            "INSERT INTO mhfz.bow (weapon_id, variant, site_row_id, name, name_notes, hidden, rarity, \
             attack, affinity, attributes, unknown_attribute_lines, slots, creation_materials, \
             upgrade_materials, upgrade_from, upgrade_to, description, extra_notes, record, \
             content_hash, scrape_run_id, scraped_at) VALUES ('bow:base:l1', 'base', 'l1', 'Old', \
             '[]', false, 1, 1, 0, '[]', '[]', 0, '{{}}', '{{}}', '[]', '[]', '', '[]', '{}', \
             sha256('x'), 'run-0', now())",
            serde_json::to_string(&record(WeaponClass::Bow, 0))
                .unwrap()
                .replace("bow:base:l0000", "bow:base:l1")
                .replace("\"l0000\"", "\"l1\"")
                .replace('\'', "''")
        ))
        .unwrap();

    let report = mhfz_store::migrate(&mut admin).unwrap();
    assert_eq!(report.applied, [2, 3]);
    // Migration 3 makes the stored row its weapon's first version, valid since its last change.
    assert_eq!(
        count(
            &mut admin,
            "SELECT count(*) FROM mhfz.weapon_versions v JOIN mhfz.bow b USING (weapon_id)
             WHERE v.version = 1 AND v.valid_to IS NULL AND v.valid_from = b.updated_at
               AND v.content_hash = b.content_hash AND v.class = 'bow'"
        ),
        1
    );
    assert_eq!(
        count(
            &mut admin,
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 'weapons'"
        ),
        old_columns + 2,
        "the view gains change_xid after class and the table's columns"
    );
    let rows = export(&mut admin, ExportScope::Changed);
    assert_eq!(rows.keys().cloned().collect::<Vec<_>>(), ["bow:base:l1"]);
}
