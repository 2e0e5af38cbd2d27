//! Least-privilege roles, logging in as each for real.

mod support;

use mhfz_record::WeaponClass;
use mhfz_store::{
    begin_export, connect, grant_privileges, migrate, provision_roles, verify_migrations,
    write_batch, ExportScope, Grantees, Password, RolePasswords, StoreError,
};
use postgres::error::SqlState;
use postgres::Client;
use support::{count, record, records_of_every_class, scraped, TestDatabase, RUN_ID};

fn assert_denied(client: &mut Client, sql: &str) {
    let error = client
        .batch_execute(sql)
        .expect_err(&format!("{sql} was allowed"));
    assert_eq!(
        error.code(),
        Some(&SqlState::INSUFFICIENT_PRIVILEGE),
        "{sql}: {error}"
    );
}

fn passwords() -> RolePasswords {
    RolePasswords {
        writer: Password::new("writer secret with 'quote' and \\ backslash").unwrap(),
        reader: Password::new("reader-Secret-42").unwrap(),
        exporter: Password::new("exporter pass phrase").unwrap(),
    }
}

/// A migrated database with the roles provisioned, and objects outside `mhfz` that the roles
/// must not reach.
fn provisioned() -> (TestDatabase, Client, mhfz_store::RoleNames, RolePasswords) {
    let (mut db, mut admin) = TestDatabase::migrated();
    let names = db.role_names();
    let passwords = passwords();
    provision_roles(&mut admin, &names, &passwords).unwrap();
    admin
        .batch_execute(
            "CREATE SCHEMA other;
             CREATE TABLE other.secret (v text); INSERT INTO other.secret VALUES ('x');
             CREATE TABLE public.public_table (v text); INSERT INTO public.public_table VALUES ('x');",
        )
        .unwrap();
    (db, admin, names, passwords)
}

#[test]
fn the_writer_writes_rows_and_nothing_else() {
    let (db, _admin, names, passwords) = provisioned();
    let mut writer = connect(&db.settings_as(&names.writer, &passwords.writer)).unwrap();

    verify_migrations(&mut writer).unwrap();
    let mut records = records_of_every_class(2);
    let outcome = write_batch(&mut writer, &scraped(&records, RUN_ID)).unwrap();
    assert_eq!(outcome.inserted, 28);
    records[0].attack += 1;
    let outcome = write_batch(&mut writer, &scraped(&records, RUN_ID)).unwrap();
    assert_eq!(outcome.updated, 1);
    assert_eq!(
        count(&mut writer, "SELECT count(*) FROM mhfz.long_sword"),
        2
    );

    // The history was written too; a version can be closed, never rewritten or deleted.
    assert_eq!(
        count(&mut writer, "SELECT count(*) FROM mhfz.weapon_versions"),
        29
    );
    for sql in [
        "DELETE FROM mhfz.weapon_versions",
        "TRUNCATE mhfz.weapon_versions",
        "UPDATE mhfz.weapon_versions SET record = '{}'",
        "UPDATE mhfz.weapon_versions SET version = version + 1",
        "DELETE FROM mhfz.long_sword",
        "TRUNCATE mhfz.long_sword",
        "DROP TABLE mhfz.long_sword",
        "ALTER TABLE mhfz.long_sword ADD COLUMN x int",
        "CREATE TABLE mhfz.extra (v int)",
        "CREATE TABLE public.extra (v int)",
        "CREATE TEMP TABLE extra (v int)",
        "CREATE SCHEMA extra",
        "DROP VIEW mhfz.weapons",
        "INSERT INTO mhfz.schema_migrations (version, name, checksum) VALUES (99, 'x', 'x')",
        "DELETE FROM mhfz.schema_migrations",
        "SELECT * FROM other.secret",
        "SELECT * FROM public.public_table",
    ] {
        assert_denied(&mut writer, sql);
    }
    assert!(migrate(&mut writer).is_err(), "the writer cannot migrate");
}

#[test]
fn the_reader_only_reads() {
    let (db, mut admin, names, passwords) = provisioned();
    let records = records_of_every_class(1);
    write_batch(&mut admin, &scraped(&records, RUN_ID)).unwrap();
    let mut reader = connect(&db.settings_as(&names.reader, &passwords.reader)).unwrap();

    verify_migrations(&mut reader).unwrap();
    assert_eq!(count(&mut reader, "SELECT count(*) FROM mhfz.weapons"), 14);
    assert_eq!(count(&mut reader, "SELECT count(*) FROM mhfz.bow"), 1);
    assert_eq!(
        count(&mut reader, "SELECT count(*) FROM mhfz.weapon_versions"),
        14
    );

    let error = write_batch(
        &mut reader,
        &scraped(&[record(WeaponClass::Bow, 7)], RUN_ID),
    )
    .unwrap_err();
    assert!(
        matches!(&error, StoreError::Write { source, .. }
            if source.code() == Some(&SqlState::INSUFFICIENT_PRIVILEGE)),
        "{error:?}"
    );
    for sql in [
        "UPDATE mhfz.bow SET attack = 1",
        "DELETE FROM mhfz.bow",
        "UPDATE mhfz.weapon_versions SET valid_to = now()",
        "CREATE TABLE mhfz.extra (v int)",
        "CREATE TEMP TABLE extra (v int)",
        "SELECT * FROM other.secret",
        "SELECT * FROM public.public_table",
    ] {
        assert_denied(&mut reader, sql);
    }
}

#[test]
fn the_exporter_reads_the_weapons_and_records_exports_only() {
    let (db, mut admin, names, passwords) = provisioned();
    let records = records_of_every_class(2);
    write_batch(&mut admin, &scraped(&records, RUN_ID)).unwrap();
    let mut exporter = connect(&db.settings_as(&names.exporter, &passwords.exporter)).unwrap();

    verify_migrations(&mut exporter).unwrap();
    assert_eq!(
        count(&mut exporter, "SELECT count(*) FROM mhfz.weapons"),
        28
    );
    let mut export = begin_export(&mut exporter, ExportScope::Changed).unwrap();
    for class in WeaponClass::ALL {
        let mut rows = export.rows(class).unwrap();
        while rows.next_row().unwrap().is_some() {}
    }
    let run = export.finish("stdout").unwrap();
    assert_eq!(run.rows_exported, 28);
    // The run's report reads the history.
    let changes = mhfz_store::changes_between(
        &mut exporter,
        std::time::SystemTime::UNIX_EPOCH,
        std::time::SystemTime::now() + std::time::Duration::from_secs(60),
    )
    .unwrap();
    assert_eq!(changes.len(), 28);
    assert_eq!(
        count(&mut exporter, "SELECT count(*) FROM mhfz.export_runs"),
        1
    );

    let error = write_batch(
        &mut exporter,
        &scraped(&[record(WeaponClass::Bow, 7)], RUN_ID),
    )
    .unwrap_err();
    assert!(
        matches!(&error, StoreError::Write { source, .. }
            if source.code() == Some(&SqlState::INSUFFICIENT_PRIVILEGE)),
        "{error:?}"
    );
    for sql in [
        "UPDATE mhfz.bow SET attack = 1",
        "DELETE FROM mhfz.bow",
        "UPDATE mhfz.export_runs SET rows_exported = 0",
        "UPDATE mhfz.weapon_versions SET valid_to = now()",
        "DELETE FROM mhfz.weapon_versions",
        "DELETE FROM mhfz.export_runs",
        "TRUNCATE mhfz.export_runs",
        "INSERT INTO mhfz.schema_migrations (version, name, checksum) VALUES (99, 'x', 'x')",
        "CREATE TABLE mhfz.extra (v int)",
        "CREATE TEMP TABLE extra (v int)",
        "SELECT * FROM other.secret",
        "SELECT * FROM public.public_table",
    ] {
        assert_denied(&mut exporter, sql);
    }
    assert!(
        migrate(&mut exporter).is_err(),
        "the exporter cannot migrate"
    );

    // The writer and the reader cannot record exports.
    let mut writer = connect(&db.settings_as(&names.writer, &passwords.writer)).unwrap();
    assert_denied(&mut writer, "SELECT * FROM mhfz.export_runs");
    let mut reader = connect(&db.settings_as(&names.reader, &passwords.reader)).unwrap();
    assert_eq!(
        count(&mut reader, "SELECT count(*) FROM mhfz.export_runs"),
        1
    );
    assert_denied(
        &mut reader,
        "INSERT INTO mhfz.export_runs (full_export, snapshot, started_at, rows_exported, destination)
         VALUES (true, pg_current_snapshot(), now(), 0, 'x')",
    );
}

#[test]
fn provisioning_again_changes_the_passwords_and_keeps_the_grants() {
    let (db, mut admin, names, old) = provisioned();
    let new = RolePasswords {
        writer: Password::new("a new writer password").unwrap(),
        reader: Password::new("a new reader password").unwrap(),
        exporter: Password::new("a new exporter password").unwrap(),
    };
    provision_roles(&mut admin, &names, &new).unwrap();

    let Err(error) = connect(&db.settings_as(&names.writer, &old.writer)) else {
        panic!("the old password still works");
    };
    assert!(matches!(error, StoreError::Connect { .. }), "{error:?}");
    let mut writer = connect(&db.settings_as(&names.writer, &new.writer)).unwrap();
    write_batch(
        &mut writer,
        &scraped(&[record(WeaponClass::Hammer, 1)], RUN_ID),
    )
    .unwrap();
    assert_denied(&mut writer, "DELETE FROM mhfz.hammer");
    let mut reader = connect(&db.settings_as(&names.reader, &new.reader)).unwrap();
    assert_eq!(count(&mut reader, "SELECT count(*) FROM mhfz.weapons"), 1);
}

#[test]
fn the_roles_need_the_migrated_schema_and_valid_names() {
    let mut db = TestDatabase::create();
    let mut admin = db.admin();
    let names = db.role_names();
    let error = provision_roles(&mut admin, &names, &passwords()).unwrap_err();
    assert!(
        matches!(error, StoreError::MigrationPending { .. }),
        "{error:?}"
    );
    let mut bad = names.clone();
    bad.writer = "Writer; DROP SCHEMA mhfz".into();
    migrate(&mut admin).unwrap();
    assert!(matches!(
        provision_roles(&mut admin, &bad, &passwords()),
        Err(StoreError::Settings(_))
    ));
}

#[test]
fn passwords_never_appear_in_debug_output_or_errors() {
    let (db, _admin, names, passwords) = provisioned();
    let secrets = [
        "writer secret with 'quote' and \\ backslash",
        "reader-Secret-42",
    ];
    let wrong = Password::new("wrong-password-xyzzy").unwrap();
    let settings = db.settings_as(&names.writer, &wrong);
    let Err(error) = connect(&settings) else {
        panic!("a wrong password was accepted");
    };
    let shown = [
        format!("{error}"),
        format!("{error:?}"),
        format!("{settings:?}"),
        format!("{passwords:?}"),
        format!("{:?}", db.settings_as(&names.reader, &passwords.reader)),
    ];
    for text in &shown {
        for secret in secrets.iter().chain(&["wrong-password-xyzzy"]) {
            assert!(!text.contains(secret), "password shown in {text}");
        }
    }
    assert!(
        shown[0].contains(&names.writer),
        "the error names the user: {}",
        shown[0]
    );

    // The server stores only a SCRAM verifier.
    let mut admin = db.admin();
    let stored: String = admin
        .query_one(
            "SELECT rolpassword FROM pg_authid WHERE rolname = $1",
            &[&names.writer],
        )
        .unwrap()
        .get(0);
    assert!(stored.starts_with("SCRAM-SHA-256$"), "{stored}");
}

#[test]
fn the_schema_owner_grants_exactly_the_rights_and_reports_what_changed() {
    let mut db = TestDatabase::create();
    let mut admin = db.admin();
    // As deployed: an unprivileged owner of the database migrates; the login roles exist.
    let owner = db.role_name("o");
    let grantees = Grantees {
        writer: db.role_name("w"),
        exporter: db.role_name("e"),
        readers: vec![db.role_name("r1"), db.role_name("r2")],
    };
    admin
        .batch_execute(&format!(
            "CREATE ROLE {owner} LOGIN PASSWORD 'owner pass';
             ALTER DATABASE {} OWNER TO {owner};
             CREATE ROLE {} LOGIN PASSWORD 'writer pass';
             CREATE ROLE {} LOGIN; CREATE ROLE {} LOGIN PASSWORD 'reader pass'; CREATE ROLE {} LOGIN;",
            db.name, grantees.writer, grantees.exporter, grantees.readers[0], grantees.readers[1]
        ))
        .unwrap();
    let owner_settings = db.settings_as(&owner, &Password::new("owner pass").unwrap());
    let mut owner_client = connect(&owner_settings).unwrap();
    assert!(matches!(
        grant_privileges(&mut owner_client, &grantees),
        Err(StoreError::MigrationPending { .. })
    ));
    migrate(&mut owner_client).unwrap();

    assert!(
        grant_privileges(&mut owner_client, &grantees).unwrap(),
        "first grant"
    );
    assert!(
        !grant_privileges(&mut owner_client, &grantees).unwrap(),
        "nothing to change"
    );

    let writer_password = Password::new("writer pass").unwrap();
    let mut writer = connect(&db.settings_as(&grantees.writer, &writer_password)).unwrap();
    write_batch(
        &mut writer,
        &scraped(&[record(WeaponClass::Hammer, 1)], RUN_ID),
    )
    .unwrap();
    let reader_password = Password::new("reader pass").unwrap();
    let mut reader = connect(&db.settings_as(&grantees.readers[0], &reader_password)).unwrap();
    assert_eq!(count(&mut reader, "SELECT count(*) FROM mhfz.weapons"), 1);
    assert_denied(&mut reader, "DELETE FROM mhfz.hammer");

    // A right given by hand is taken back, and that is a change.
    admin
        .batch_execute(&format!(
            "GRANT DELETE ON mhfz.hammer TO {}",
            grantees.writer
        ))
        .unwrap();
    writer
        .batch_execute("DELETE FROM mhfz.hammer WHERE false")
        .unwrap();
    assert!(
        grant_privileges(&mut owner_client, &grantees).unwrap(),
        "revoked DELETE"
    );
    assert_denied(&mut writer, "DELETE FROM mhfz.hammer");
    assert!(!grant_privileges(&mut owner_client, &grantees).unwrap());

    // Bad input is refused, naming it.
    let missing = Grantees {
        readers: vec!["no_such_role_xyz".into()],
        ..grantees.clone()
    };
    let error = grant_privileges(&mut owner_client, &missing).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("role no_such_role_xyz does not exist"),
        "{error}"
    );
    let twice = Grantees {
        readers: vec![grantees.writer.clone()],
        ..grantees.clone()
    };
    let error = grant_privileges(&mut owner_client, &twice).unwrap_err();
    assert!(error.to_string().contains("named twice"), "{error}");
}
