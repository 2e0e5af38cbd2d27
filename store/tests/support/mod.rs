//! Test harness: a fresh database per test on the PostgreSQL server of the project's service
//! stack, and weapon records built in code.
#![allow(dead_code)] // Each test file uses a different part.

use mhfz_record::{
    Ammo, AmmoLevel, Attribute, AttributeKind, BowStats, ChargeStage, GunnerStats, HunterRank,
    Layout, Material, Materials, PageVariant, RankRequirement, Sharpness, SharpnessColour,
    SharpnessSegment, TreeLink, WeaponClass, WeaponId, WeaponRecord,
};
use mhfz_store::{
    connect, ConnectionSettings, Password, RoleNames, ScrapedRecord, CA_FILE_VAR,
    PASSWORD_FILE_VAR, URL_VAR,
};
use postgres::Client;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What `scripts/stack` exports for PostgreSQL (and `MHFZ_PG_CA_FILE`, which TCP needs).
const REQUIRED_VARS: [&str; 4] = [
    "MHFZ_PG_HOST",
    "MHFZ_PG_PORT",
    "MHFZ_PG_ADMIN_USER",
    "MHFZ_PG_ADMIN_PASSWORD_FILE",
];

/// A variable of the stack's PostgreSQL; panics, naming the way to run the tests, when unset.
pub fn stack_var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: these tests need the project's PostgreSQL; run them via \
             `scripts/stack run -- cargo test` (it sets {} and {CA_FILE_VAR})",
            REQUIRED_VARS.join(", ")
        )
    })
}

/// The stack server's port.
pub fn stack_port() -> u16 {
    let port = stack_var("MHFZ_PG_PORT");
    port.parse()
        .unwrap_or_else(|_| panic!("MHFZ_PG_PORT={port:?} is not a port number"))
}

/// The administrator of the stack's server, on its maintenance database, verifying the server
/// with the stack's CA (`MHFZ_PG_CA_FILE`, read as the programs read it).
pub fn server_admin() -> ConnectionSettings {
    let password = Password::from_file(stack_var("MHFZ_PG_ADMIN_PASSWORD_FILE").as_ref())
        .unwrap_or_else(|e| panic!("{e}"));
    ConnectionSettings::new(
        &stack_var("MHFZ_PG_HOST"),
        stack_port(),
        &stack_var("MHFZ_PG_ADMIN_USER"),
        "postgres",
    )
    .with_password(password)
    .with_ca_file_from_env()
}

/// A unique lower-case name: tests run in parallel, in several processes, on one server.
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .subsec_nanos();
    format!(
        "{prefix}_{}_{nanos}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A database created for one test, dropped (with the roles the test made) at its end.
pub struct TestDatabase {
    pub name: String,
    server_admin: ConnectionSettings,
    roles: Vec<String>,
}

impl TestDatabase {
    pub fn create() -> TestDatabase {
        let server_admin = server_admin();
        let name = unique_name("test");
        let mut client = connect(&server_admin).unwrap_or_else(|e| panic!("{e}"));
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("creating database {name}: {e}"));
        TestDatabase {
            name,
            server_admin,
            roles: Vec::new(),
        }
    }

    /// Administrator settings on this database.
    pub fn admin_settings(&self) -> ConnectionSettings {
        self.server_admin.clone().with_database(&self.name)
    }

    pub fn admin(&self) -> Client {
        connect(&self.admin_settings()).unwrap_or_else(|e| panic!("{e}"))
    }

    /// A database with every migration applied, and an administrator connection to it.
    pub fn migrated() -> (TestDatabase, Client) {
        let db = TestDatabase::create();
        let mut admin = db.admin();
        mhfz_store::migrate(&mut admin).unwrap_or_else(|e| panic!("{e}"));
        (db, admin)
    }

    /// Role names unique to this test, dropped with the database.
    pub fn role_names(&mut self) -> RoleNames {
        let names = RoleNames {
            writer: unique_name("w"),
            reader: unique_name("r"),
            exporter: unique_name("e"),
        };
        self.roles.push(names.writer.clone());
        self.roles.push(names.reader.clone());
        self.roles.push(names.exporter.clone());
        names
    }

    /// A role name unique to this test, dropped with the database.
    pub fn role_name(&mut self, prefix: &str) -> String {
        let name = unique_name(prefix);
        self.roles.push(name.clone());
        name
    }

    /// Settings to log in to this database as `user`.
    pub fn settings_as(&self, user: &str, password: &Password) -> ConnectionSettings {
        self.admin_settings().with_user(user, password.clone())
    }

    /// The `MHFZ_PG_URL` of this database as `user` (no password in it).
    pub fn url_as(&self, user: &str) -> String {
        format!(
            "postgres://{user}@{}:{}/{}",
            stack_var("MHFZ_PG_HOST"),
            stack_port(),
            self.name
        )
    }

    /// Sets what a program (`ConnectionSettings::from_env`) logs in to this database as `user`
    /// with: `MHFZ_PG_URL`, `MHFZ_PG_PASSWORD_FILE` and the CA file these tests verify with.
    pub fn connect_program_as(&self, command: &mut Command, user: &str, password_file: &Path) {
        command
            .env(URL_VAR, self.url_as(user))
            .env(PASSWORD_FILE_VAR, password_file);
        match self.server_admin.ca_file() {
            Some(ca_file) => command.env(CA_FILE_VAR, ca_file),
            None => command.env_remove(CA_FILE_VAR),
        };
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Ok(mut client) = connect(&self.server_admin) else {
            return;
        };
        // One statement each: several would form a transaction, which DROP DATABASE refuses.
        let statements = std::iter::once(format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .chain(
            self.roles
                .iter()
                .map(|role| format!("DROP ROLE IF EXISTS {role}")),
        );
        for sql in statements {
            if let Err(e) = client.batch_execute(&sql) {
                eprintln!("cleaning up after the test ({sql}): {e}");
            }
        }
    }
}

pub const RUN_ID: &str = "run-1";

pub fn scraped_at() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

pub fn scraped<'a>(records: &'a [WeaponRecord], run_id: &'a str) -> Vec<ScrapedRecord<'a>> {
    records
        .iter()
        .map(|record| ScrapedRecord {
            record,
            scrape_run_id: run_id,
            scraped_at: scraped_at(),
        })
        .collect()
}

/// A valid record of `class` with the layout-specific parts filled in; `n` varies the row id
/// and the stats.
pub fn record(class: WeaponClass, n: usize) -> WeaponRecord {
    let variant = if n.is_multiple_of(2) {
        PageVariant::Base
    } else {
        PageVariant::G
    };
    let site_row_id = format!("l{n:04X}");
    let layout = class.layout();
    let segment = |colour, width| SharpnessSegment { colour, width };
    WeaponRecord {
        weapon_id: WeaponId::new(class, variant, &site_row_id, None),
        class,
        variant,
        site_row_id: site_row_id.clone(),
        name: format!("{} {n}", class.label()),
        name_notes: vec![],
        level: variant.is_leveled().then_some(1 + (n % 7) as u32),
        hidden: n.is_multiple_of(5),
        rarity: 1 + (n % 12) as u8,
        gr_requirement: variant.is_leveled().then_some(1),
        attack: 100 + n as u32,
        affinity: (n % 41) as i32 - 20,
        attributes: vec![Attribute {
            kind: AttributeKind::Fire,
            value: 120,
        }],
        unknown_attribute_lines: vec![],
        sharpness: (layout == Layout::Blademaster).then(|| Sharpness {
            base: vec![
                segment(SharpnessColour::Red, 20),
                segment(SharpnessColour::Green, 10),
            ],
            max: vec![
                segment(SharpnessColour::Red, 20),
                segment(SharpnessColour::Sky, 15),
            ],
        }),
        slots: (n % 4) as u8,
        rank_requirement: Some(RankRequirement {
            rank: HunterRank::Hr,
            level: Some(22),
        }),
        price: Some(1_000 + n as u64),
        upgrade_price: None,
        price_note: None,
        creation_materials: Materials {
            recipes: vec![vec![Material {
                item: "Iron Ore".into(),
                quantity: 3,
                item_id: Some("00D8".into()),
            }]],
            note: None,
        },
        upgrade_materials: Materials::default(),
        upgrade_from: vec![],
        upgrade_to: vec![TreeLink {
            name: format!("{} {}", class.label(), n + 1),
            page: None,
            site_row_id: format!("l{:04X}", n + 1),
        }],
        description: "A weapon.\nSecond line.".into(),
        gunner: (layout == Layout::Bowgun).then(|| GunnerStats {
            reload: "Fast".into(),
            recoil: "Small".into(),
            bullet_speed: "Medium".into(),
            ammo: vec![Ammo {
                name: "Norm".into(),
                levels: vec![AmmoLevel {
                    capacity: Some(6),
                    underlined: true,
                }],
            }],
        }),
        bow: (layout == Layout::Bow).then(|| BowStats {
            arc_shot: Some("Wide".into()),
            charge_stages: vec![ChargeStage {
                stage: 1,
                shot: "SprLV3".into(),
                italic: false,
            }],
            coatings: vec!["Power".into()],
        }),
        extra_notes: vec![],
    }
}

/// `per_class` records of every class.
pub fn records_of_every_class(per_class: usize) -> Vec<WeaponRecord> {
    WeaponClass::ALL
        .into_iter()
        .flat_map(|class| (0..per_class).map(move |n| record(class, n)))
        .collect()
}

pub fn count(client: &mut Client, sql: &str) -> i64 {
    client
        .query_one(sql, &[])
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .get(0)
}

/// `error` and its causes, as the programs print them.
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut cause = error.source();
    while let Some(error) = cause {
        message.push_str(&format!(": {error}"));
        cause = error.source();
    }
    message
}
