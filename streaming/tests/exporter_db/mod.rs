//! A database for exporting: migrated, roles provisioned, and what a program needs to log in
//! as the exporter role. Shared by the exporter's and the pipeline's tests.
#![allow(dead_code)] // each test crate uses a different part

// The store's harness: a fresh database per test and weapon records built in code.
#[path = "../../../store/tests/support/mod.rs"]
pub mod store_support;

use std::path::PathBuf;
use std::process::{Command, Stdio};

use mhfz_record::WeaponRecord;
use mhfz_store::{provision_roles, write_batch, Password, RolePasswords};
use postgres::Client;
use tempfile::TempDir;

use store_support::{count, scraped, TestDatabase, RUN_ID};

const EXPORTER: &str = env!("CARGO_BIN_EXE_mhfz-exporter");

/// A migrated database with the roles provisioned, and what `mhfz-exporter` needs to log in
/// as the exporter role: `MHFZ_PG_URL`, a password file and the CA file.
pub struct Fixture {
    pub db: TestDatabase,
    pub admin: Client,
    pub dir: TempDir,
    pub url: String,
    pub password_file: PathBuf,
    exporter: String,
}

impl Fixture {
    pub fn new() -> Fixture {
        let (mut db, mut admin) = TestDatabase::migrated();
        let names = db.role_names();
        let exporter_password = store_support::unique_name("pw");
        let passwords = RolePasswords {
            writer: Password::new(store_support::unique_name("pw")).unwrap(),
            reader: Password::new(store_support::unique_name("pw")).unwrap(),
            exporter: Password::new(exporter_password.clone()).unwrap(),
        };
        provision_roles(&mut admin, &names, &passwords).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let password_file = dir.path().join("exporter-password");
        std::fs::write(&password_file, format!("{exporter_password}\n")).unwrap();
        Fixture {
            url: db.url_as(&names.exporter),
            db,
            admin,
            dir,
            password_file,
            exporter: names.exporter,
        }
    }

    pub fn write(&mut self, records: &[WeaponRecord]) {
        write_batch(&mut self.admin, &scraped(records, RUN_ID)).unwrap();
    }

    /// `mhfz-exporter ARGS` with nothing in its environment but the connection variables.
    pub fn exporter(&self, args: &[&str]) -> Command {
        let mut command = Command::new(EXPORTER);
        command.args(args).env_clear().stdin(Stdio::null());
        self.connect_as_exporter(&mut command);
        command
    }

    /// Sets the variables `command` logs in as the exporter role with.
    pub fn connect_as_exporter(&self, command: &mut Command) {
        self.db
            .connect_program_as(command, &self.exporter, &self.password_file);
    }

    /// Runs the exporter; asserts success; returns (stdout, stderr).
    pub fn export(&self, args: &[&str]) -> (Vec<u8>, String) {
        let output = self.exporter(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(output.status.success(), "mhfz-exporter {args:?}: {stderr}");
        (output.stdout, stderr)
    }

    pub fn runs(&mut self) -> i64 {
        count(&mut self.admin, "SELECT count(*) FROM mhfz.export_runs")
    }
}
