//! Batch and row-by-row upserts against a real PostgreSQL.

mod support;

use mhfz_record::WeaponClass;
use mhfz_store::{write_batch, write_each, BatchOutcome, RowOutcome, ScrapedRecord, StoreError};
use postgres::Client;
use std::time::SystemTime;
use support::{count, record, records_of_every_class, scraped, TestDatabase, RUN_ID};

fn timestamps(client: &mut Client) -> Vec<(String, SystemTime, SystemTime)> {
    client
        .query(
            "SELECT weapon_id, first_seen, updated_at FROM mhfz.weapons ORDER BY weapon_id",
            &[],
        )
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1), row.get(2)))
        .collect()
}

#[test]
fn upsert_inserts_then_leaves_unchanged_rows_alone_then_updates_only_what_changed() {
    let (_db, mut client) = TestDatabase::migrated();
    let mut records = records_of_every_class(3);
    let outcome = write_batch(&mut client, &scraped(&records, RUN_ID)).unwrap();
    assert_eq!(
        outcome,
        BatchOutcome {
            inserted: 42,
            ..BatchOutcome::default()
        }
    );
    assert_eq!(count(&mut client, "SELECT count(*) FROM mhfz.weapons"), 42);
    assert_eq!(count(&mut client, "SELECT count(*) FROM mhfz.bow"), 3);
    let before = timestamps(&mut client);

    // The same records from a later scrape: nothing is touched, not even the run id.
    let outcome = write_batch(&mut client, &scraped(&records, "run-2")).unwrap();
    assert_eq!(
        outcome,
        BatchOutcome {
            unchanged: 42,
            ..BatchOutcome::default()
        }
    );
    assert_eq!(timestamps(&mut client), before);
    assert_eq!(
        count(
            &mut client,
            "SELECT count(*) FROM mhfz.weapons WHERE scrape_run_id = 'run-1'"
        ),
        42
    );

    // One changed record: exactly that row is updated.
    let changed = records
        .iter()
        .position(|r| r.class == WeaponClass::HeavyBowgun)
        .unwrap();
    records[changed].attack += 10;
    let changed_id = records[changed].weapon_id.to_string();
    let outcome = write_batch(&mut client, &scraped(&records, "run-3")).unwrap();
    assert_eq!(
        outcome,
        BatchOutcome {
            updated: 1,
            unchanged: 41,
            ..BatchOutcome::default()
        }
    );
    let after = timestamps(&mut client);
    for ((id, first_seen, updated_at), (_, first_before, updated_before)) in
        after.iter().zip(&before)
    {
        assert_eq!(first_seen, first_before, "{id}: first_seen kept");
        if *id == changed_id {
            assert!(
                updated_at > updated_before,
                "{id}: updated_at moves on change"
            );
        } else {
            assert_eq!(updated_at, updated_before, "{id}");
        }
    }
    let row = client
        .query_one(
            "SELECT attack, scrape_run_id, (record->>'attack')::int FROM mhfz.heavy_bowgun
             WHERE weapon_id = $1",
            &[&changed_id],
        )
        .unwrap();
    let expected_attack = records[changed].attack as i32;
    assert_eq!(row.get::<_, i32>(0), expected_attack);
    assert_eq!(row.get::<_, String>(1), "run-3");
    assert_eq!(row.get::<_, i32>(2), expected_attack);
}

#[test]
fn typed_columns_and_the_record_round_trip() {
    let (_db, mut client) = TestDatabase::migrated();
    let records = vec![
        record(WeaponClass::Bow, 1),
        record(WeaponClass::LightBowgun, 2),
    ];
    write_batch(&mut client, &scraped(&records, RUN_ID)).unwrap();
    for original in &records {
        let row = client
            .query_one(
                "SELECT class, variant, rarity, affinity, slots, rank_kind, rank_level, price,
                        sharpness IS NULL, gunner IS NULL, bow IS NULL, record::text, content_hash
                 FROM mhfz.weapons WHERE weapon_id = $1",
                &[&original.weapon_id.as_str()],
            )
            .unwrap();
        assert_eq!(row.get::<_, String>(0), original.class.id());
        assert_eq!(row.get::<_, String>(1), original.variant.id());
        assert_eq!(row.get::<_, i16>(2), i16::from(original.rarity));
        assert_eq!(row.get::<_, i32>(3), original.affinity);
        assert_eq!(row.get::<_, i16>(4), i16::from(original.slots));
        assert_eq!(row.get::<_, Option<String>>(5).as_deref(), Some("hr"));
        assert_eq!(row.get::<_, Option<i32>>(6), Some(22));
        assert_eq!(
            row.get::<_, Option<i64>>(7),
            original.price.map(|p| p as i64)
        );
        assert!(row.get::<_, bool>(8), "no sharpness for gunners");
        assert_eq!(row.get::<_, bool>(9), original.gunner.is_none());
        assert_eq!(row.get::<_, bool>(10), original.bow.is_none());
        let stored: mhfz_record::WeaponRecord =
            serde_json::from_str(&row.get::<_, String>(11)).unwrap();
        assert_eq!(&stored, original);
        assert_eq!(
            row.get::<_, Vec<u8>>(12),
            mhfz_store::content_hash(original).unwrap().to_vec()
        );
    }
}

#[test]
fn a_weapon_id_repeated_in_a_batch_keeps_the_last_record() {
    let (_db, mut client) = TestDatabase::migrated();
    let first = record(WeaponClass::Lance, 4);
    let mut second = first.clone();
    second.attack = 999;
    let records = [first, record(WeaponClass::Lance, 6), second];
    let outcome = write_batch(&mut client, &scraped(&records, RUN_ID)).unwrap();
    assert_eq!(
        outcome,
        BatchOutcome {
            inserted: 2,
            superseded: 1,
            ..BatchOutcome::default()
        }
    );
    assert_eq!(outcome.total(), 3);
    let attack: i32 = client
        .query_one(
            "SELECT attack FROM mhfz.lance WHERE weapon_id = $1",
            &[&records[0].weapon_id.as_str()],
        )
        .unwrap()
        .get(0);
    assert_eq!(attack, 999);
}

#[test]
fn a_check_violation_names_the_weapon_and_writes_nothing() {
    let (_db, mut client) = TestDatabase::migrated();
    let mut records = records_of_every_class(2);
    let bad = 17;
    records[bad].rarity = 13;
    let error = write_batch(&mut client, &scraped(&records, RUN_ID)).unwrap_err();
    let bad_id = records[bad].weapon_id.to_string();
    match &error {
        StoreError::RowRejected {
            class,
            weapon_id,
            constraint,
            ..
        } => {
            assert_eq!(*class, records[bad].class);
            assert_eq!(weapon_id.as_deref(), Some(bad_id.as_str()));
            assert_eq!(constraint.as_deref(), Some("rarity_range"));
        }
        other => panic!("expected RowRejected, got {other:?}"),
    }
    assert!(error.is_row_rejection());
    assert!(!error.is_transient());
    assert!(error.to_string().contains(&bad_id), "{error}");
    assert_eq!(count(&mut client, "SELECT count(*) FROM mhfz.weapons"), 0);

    let mut records = vec![record(WeaponClass::Tonfa, 1)];
    records[0].affinity = -101;
    let error = write_batch(&mut client, &scraped(&records, RUN_ID)).unwrap_err();
    assert!(
        matches!(&error, StoreError::RowRejected { constraint: Some(c), .. } if c == "affinity_range"),
        "{error:?}"
    );
}

#[test]
fn a_record_in_the_wrong_class_table_is_refused() {
    let (_db, mut client) = TestDatabase::migrated();
    let mut misfiled = record(WeaponClass::Hammer, 1);
    misfiled.class = WeaponClass::Tonfa;
    let error = write_batch(&mut client, &scraped(&[misfiled], RUN_ID)).unwrap_err();
    assert!(
        matches!(&error, StoreError::RowRejected { constraint: Some(c), .. } if c == "weapon_id_matches"),
        "{error:?}"
    );
}

#[test]
fn write_each_isolates_the_bad_rows_of_a_batch() {
    let (_db, mut client) = TestDatabase::migrated();
    let mut records = records_of_every_class(2);
    records[3].rarity = 0;
    // PostgreSQL text cannot hold NUL: a data exception, not a constraint.
    records[20].description = "bad\0byte".into();
    let batch = scraped(&records, RUN_ID);
    let error = write_batch(&mut client, &batch).unwrap_err();
    assert!(error.is_row_rejection(), "{error:?}");

    let results = write_each(&mut client, &batch).unwrap();
    assert_eq!(results.len(), records.len());
    for (i, result) in results.iter().enumerate() {
        match (i, result) {
            (3 | 20, Err(StoreError::RowRejected { weapon_id, .. })) => {
                assert_eq!(weapon_id.as_deref(), Some(records[i].weapon_id.as_str()));
            }
            (3 | 20, other) => panic!("record {i}: expected a rejection, got {other:?}"),
            (_, Ok(RowOutcome::Inserted)) => {}
            (_, other) => panic!("record {i}: expected an insert, got {other:?}"),
        }
    }
    assert_eq!(
        count(&mut client, "SELECT count(*) FROM mhfz.weapons"),
        records.len() as i64 - 2
    );

    // Row by row, too, unchanged rows stay untouched and changed ones are updated.
    records[3].rarity = 1;
    records[20].description = "fixed".into();
    records[5].attack += 1;
    let results = write_each(&mut client, &scraped(&records, RUN_ID)).unwrap();
    let outcomes: Vec<RowOutcome> = results.into_iter().map(Result::unwrap).collect();
    for (i, outcome) in outcomes.iter().enumerate() {
        let expected = match i {
            3 | 20 => RowOutcome::Inserted,
            5 => RowOutcome::Updated,
            _ => RowOutcome::Unchanged,
        };
        assert_eq!(*outcome, expected, "record {i}");
    }
}

#[test]
fn an_out_of_range_value_is_refused_before_the_database() {
    let (_db, mut client) = TestDatabase::migrated();
    let mut records = vec![record(WeaponClass::Bow, 1)];
    records[0].price = Some(u64::MAX);
    let error = write_batch(&mut client, &scraped(&records, RUN_ID)).unwrap_err();
    assert!(
        matches!(&error, StoreError::OutOfRange { field: "price", weapon_id, .. }
            if weapon_id == records[0].weapon_id.as_str()),
        "{error:?}"
    );
    let results = write_each(
        &mut client,
        &[ScrapedRecord {
            record: &records[0],
            scrape_run_id: RUN_ID,
            scraped_at: support::scraped_at(),
        }],
    )
    .unwrap();
    assert!(matches!(results[0], Err(StoreError::OutOfRange { .. })));
}

#[test]
fn an_empty_batch_does_nothing() {
    let (_db, mut client) = TestDatabase::migrated();
    assert_eq!(
        write_batch(&mut client, &[]).unwrap(),
        BatchOutcome::default()
    );
    assert!(write_each(&mut client, &[]).unwrap().is_empty());
}
