//! The versioned history `mhfz.weapon_versions`, against a real PostgreSQL, and the queries
//! of `docs/history.md`, run as they are written there.

mod support;

use mhfz_record::WeaponClass;
use mhfz_store::{
    changes_between, weapon_versions, write_batch, write_each, CHANGES_BETWEEN_SQL,
    WEAPON_VERSIONS_SQL,
};
use postgres::types::ToSql;
use postgres::Client;
use std::time::SystemTime;
use support::{count, record, records_of_every_class, scraped, TestDatabase, RUN_ID};

fn now(client: &mut Client) -> SystemTime {
    client.query_one("SELECT now()", &[]).unwrap().get(0)
}

#[test]
fn only_content_changes_make_versions_and_versions_follow_each_other() {
    let (_db, mut client) = TestDatabase::migrated();
    let mut records = records_of_every_class(2);
    write_batch(&mut client, &scraped(&records, RUN_ID)).unwrap();
    let after_first = now(&mut client);
    assert_eq!(
        count(&mut client, "SELECT count(*) FROM mhfz.weapon_versions"),
        28
    );

    // Delivered again, whole or row by row: no version.
    write_batch(&mut client, &scraped(&records, "run-2")).unwrap();
    write_each(&mut client, &scraped(&records, "run-2")).unwrap();
    assert_eq!(
        count(&mut client, "SELECT count(*) FROM mhfz.weapon_versions"),
        28
    );

    records[3].attack += 7;
    records[9].affinity = -5;
    write_batch(&mut client, &scraped(&records, "run-3")).unwrap();
    let after_second = now(&mut client);
    assert_eq!(
        count(&mut client, "SELECT count(*) FROM mhfz.weapon_versions"),
        30
    );
    // Row by row, the same weapon twice in one transaction: two versions.
    let mut twice = vec![records[5].clone(), records[5].clone()];
    twice[0].attack += 1;
    twice[1].attack += 2;
    write_each(&mut client, &scraped(&twice, "run-4")).unwrap();
    assert_eq!(
        count(&mut client, "SELECT count(*) FROM mhfz.weapon_versions"),
        32
    );

    let versions = weapon_versions(&mut client, records[3].weapon_id.as_str()).unwrap();
    assert_eq!(versions.len(), 2, "{versions:?}");
    assert_eq!((versions[0].version, versions[1].version), (1, 2));
    assert_eq!(versions[0].valid_to, Some(versions[1].valid_from));
    assert_eq!(versions[1].valid_to, None);
    assert_eq!(versions[1].attack, records[3].attack as i32);
    assert_eq!(versions[0].attack + 7, versions[1].attack);
    assert_eq!(
        (
            versions[0].scrape_run_id.as_str(),
            versions[1].scrape_run_id.as_str()
        ),
        (RUN_ID, "run-3")
    );
    assert_eq!(
        versions[1].content_hash,
        mhfz_store::content_hash(&records[3]).unwrap().to_vec()
    );
    let versions = weapon_versions(&mut client, records[5].weapon_id.as_str()).unwrap();
    let attacks: Vec<i32> = versions.iter().map(|v| v.attack).collect();
    let base = records[5].attack as i32;
    assert_eq!(attacks, [base, base + 1, base + 2]);
    assert!(weapon_versions(&mut client, "no:such:weapon")
        .unwrap()
        .is_empty());

    // Every weapon has exactly one current version, the class row's content, since its
    // `updated_at`.
    assert_eq!(
        count(
            &mut client,
            "SELECT count(*) FROM mhfz.weapons w JOIN mhfz.weapon_versions v
             ON v.weapon_id = w.weapon_id AND v.valid_to IS NULL
             WHERE v.content_hash = w.content_hash AND v.valid_from = w.updated_at
               AND v.record = w.record AND v.class = w.class"
        ),
        28
    );

    // What changed: between the first and second writes exactly the two edited weapons; from
    // before anything, every weapon is new.
    let changes = changes_between(&mut client, after_first, after_second).unwrap();
    let mut expected = vec![
        records[3].weapon_id.to_string(),
        records[9].weapon_id.to_string(),
    ];
    expected.sort();
    let ids: Vec<&str> = changes.iter().map(|c| c.weapon_id.as_str()).collect();
    assert_eq!(ids, expected);
    for change in &changes {
        assert_eq!((change.version_before, change.version_after), (Some(1), 2));
        assert_eq!(
            (change.run_before.as_deref(), change.run_after.as_str()),
            (Some(RUN_ID), "run-3")
        );
    }
    let epoch = SystemTime::UNIX_EPOCH;
    let everything = changes_between(&mut client, epoch, after_first).unwrap();
    assert_eq!(everything.len(), 28);
    assert!(everything.iter().all(|c| c.version_before.is_none()));
    assert!(changes_between(&mut client, after_second, after_second)
        .unwrap()
        .is_empty());
}

#[test]
fn a_change_undone_is_two_versions_but_no_change_between_the_ends() {
    let (_db, mut client) = TestDatabase::migrated();
    let original = record(WeaponClass::Bow, 1);
    write_batch(
        &mut client,
        &scraped(std::slice::from_ref(&original), RUN_ID),
    )
    .unwrap();
    let start = now(&mut client);
    let mut edited = original.clone();
    edited.slots = 3;
    write_batch(&mut client, &scraped(&[edited], "run-2")).unwrap();
    write_batch(
        &mut client,
        &scraped(std::slice::from_ref(&original), "run-3"),
    )
    .unwrap();
    let end = now(&mut client);
    assert_eq!(
        weapon_versions(&mut client, original.weapon_id.as_str())
            .unwrap()
            .len(),
        3
    );
    assert!(changes_between(&mut client, start, end).unwrap().is_empty());
}

/// The SQL of every `<!-- query: NAME -->` block of `docs/history.md`.
fn documented_queries() -> Vec<(String, String)> {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/history.md"))
        .unwrap();
    let mut queries = Vec::new();
    let mut rest = doc.as_str();
    while let Some(at) = rest.find("<!-- query: ") {
        rest = &rest[at + "<!-- query: ".len()..];
        let name = rest[..rest.find(" -->").unwrap()].to_string();
        let start = rest.find("```sql\n").unwrap() + "```sql\n".len();
        let end = start + rest[start..].find("```").unwrap();
        queries.push((name, rest[start..end].trim().to_string()));
    }
    queries
}

#[test]
fn the_documented_queries_are_the_store_s_and_return_the_changes() {
    let queries = documented_queries();
    let names: Vec<&str> = queries.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        [
            "weapon_versions",
            "changes_between",
            "changes_between_export_runs",
            "changes_of_scrape"
        ]
    );
    let sql = |name: &str| {
        queries
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, sql)| sql.clone())
            .unwrap()
    };
    assert_eq!(sql("weapon_versions"), WEAPON_VERSIONS_SQL);
    assert_eq!(sql("changes_between"), CHANGES_BETWEEN_SQL);

    let (_db, mut client) = TestDatabase::migrated();
    let mut records = records_of_every_class(1);
    let export_run = |client: &mut Client| -> i64 {
        client
            .query_one(
                "INSERT INTO mhfz.export_runs (full_export, snapshot, started_at, rows_exported, destination)
                 VALUES (true, pg_current_snapshot(), clock_timestamp(), 0, 'test') RETURNING run_id",
                &[],
            )
            .unwrap()
            .get(0)
    };
    write_batch(&mut client, &scraped(&records, RUN_ID)).unwrap();
    let first_run = export_run(&mut client);
    let earlier = now(&mut client);
    records[0].attack += 1;
    write_batch(&mut client, &scraped(&records, "run-2")).unwrap();
    let later = now(&mut client);
    let second_run = export_run(&mut client);
    let changed = records[0].weapon_id.to_string();

    let rows = |client: &mut Client, name: &str, params: &[&(dyn ToSql + Sync)]| {
        let rows = client
            .query(&sql(name), params)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        rows.iter()
            .map(|row| row.get::<_, String>(0))
            .collect::<Vec<String>>()
    };
    assert_eq!(
        client
            .query(&sql("weapon_versions"), &[&changed])
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        rows(&mut client, "changes_between", &[&earlier, &later]),
        std::slice::from_ref(&changed)
    );
    assert_eq!(
        rows(
            &mut client,
            "changes_between_export_runs",
            &[&first_run, &second_run]
        ),
        std::slice::from_ref(&changed)
    );
    assert_eq!(
        rows(&mut client, "changes_of_scrape", &[&"run-2"]),
        std::slice::from_ref(&changed)
    );
    assert_eq!(rows(&mut client, "changes_of_scrape", &[&RUN_ID]).len(), 14);
}
