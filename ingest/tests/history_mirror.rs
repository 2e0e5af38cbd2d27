//! The weapons' history on real pages: the real `mhfz-scraper` scrapes a copy of the site
//! mirror's switch axe pages over loopback HTTP into the stack's Kafka, `mhfz-consumer` stores
//! them; then a few weapons' attack is edited in the copy and the site scraped again. Exactly
//! those weapons get a second version, and the history's "what changed" lists exactly them, as
//! does the weapon report drawn from the second scrape
//! (`scripts/stack run -- cargo test -p mhfz-ingest --test history_mirror`).

mod consumer_support;
mod util;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::time::SystemTime;

use consumer_support::{count, Fixture};
use mhfz_record::{page_file_name, PageVariant, WeaponClass, WeaponRecord};
use util::mirror::mirror_dir;
use util::TestServer;

const CLASS: WeaponClass = WeaponClass::SwitchAxeF;

/// Scrapes the site at `url` into the fixture's topic; returns the records it produced.
fn scrape(fixture: &Fixture, url: &str, out: &Path) -> Vec<WeaponRecord> {
    let output = Command::new(env!("CARGO_BIN_EXE_mhfz-scraper"))
        .args([
            "--site",
            url,
            "--classes",
            CLASS.id(),
            "--no-cache",
            "--rate",
            "0",
        ])
        .args(["--kafka", &fixture.brokers, "--topic", &fixture.topic])
        .args(["--no-create-topics", "--quiet"])
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "mhfz-scraper: {stderr}");
    std::fs::read_to_string(out)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// Raises the attack of `record` by 10 in its page under `site`: the attack cell of its row
/// starts `<td>ATTACK ` (then the affinity). Returns false when its row has no such cell.
fn edit_attack(site: &Path, record: &WeaponRecord) -> bool {
    let page = site.join(page_file_name(record.class, record.variant));
    let html = std::fs::read_to_string(&page).unwrap();
    let row_start = format!("<td id=\"{}\">", record.site_row_id);
    let Some(start) = html.find(&row_start) else {
        return false;
    };
    let end = start + html[start..].find("</tr>").unwrap();
    let cell = format!("<td>{} ", record.attack);
    let row = &html[start..end];
    if html.matches(&row_start).count() != 1 || row.matches(&cell).count() != 1 {
        return false;
    }
    let edited_row = row.replace(&cell, &format!("<td>{} ", record.attack + 10));
    let edited = format!("{}{edited_row}{}", &html[..start], &html[end..]);
    std::fs::write(&page, edited).unwrap();
    true
}

fn now(fixture: &mut Fixture) -> SystemTime {
    fixture.admin.query_one("SELECT now()", &[]).unwrap().get(0)
}

#[test]
fn a_rescrape_with_edited_stats_gives_exactly_the_edited_weapons_a_new_version() {
    // A copy of the mirror's class index and switch axe pages, never the repository's.
    let site = tempfile::tempdir().unwrap();
    let mirror = mirror_dir();
    let stem = CLASS.page_stem();
    for entry in std::fs::read_dir(&mirror).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name == "buki.htm"
            || name.starts_with(&format!("{stem}."))
            || name.starts_with(&format!("{stem}_"))
        {
            std::fs::copy(mirror.join(&name), site.path().join(&name)).unwrap();
        }
    }
    let server = TestServer::serve(site.path());
    let out = tempfile::tempdir().unwrap();
    let mut fixture = Fixture::new(2);

    let first = scrape(&fixture, &server.url("/"), &out.path().join("first.ndjson"));
    assert!(first.len() > 1000, "{} records", first.len());
    fixture.consume_until_idle(&[]);
    let total = first.len() as i64;
    assert_eq!(fixture.rows(), total);
    let versions = "SELECT count(*) FROM mhfz.weapon_versions";
    assert_eq!(count(&mut fixture.admin, versions), total);
    let after_first = now(&mut fixture);

    // One weapon of each of three pages: base, G rank, evolution.
    let mut edited = BTreeSet::new();
    for variant in [PageVariant::Base, PageVariant::G, PageVariant::S] {
        let record = first
            .iter()
            .filter(|r| r.variant == variant && !r.weapon_id.as_str().contains('%'))
            .find(|r| edit_attack(site.path(), r))
            .unwrap_or_else(|| panic!("no editable row on the {variant:?} page"));
        edited.insert(record.weapon_id.to_string());
    }

    let second = scrape(
        &fixture,
        &server.url("/"),
        &out.path().join("second.ndjson"),
    );
    assert_eq!(second.len(), first.len());
    let stderr = fixture.consume_until_idle(&[]);
    assert_eq!(
        consumer_support::summary_count(&stderr, "rows"),
        3,
        "{stderr}"
    );
    let after_second = now(&mut fixture);

    assert_eq!(fixture.rows(), total);
    assert_eq!(count(&mut fixture.admin, versions), total + 3);
    let with_two: BTreeSet<String> = fixture
        .admin
        .query(
            "SELECT weapon_id FROM mhfz.weapon_versions WHERE version = 2",
            &[],
        )
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(with_two, edited);
    assert_eq!(
        count(
            &mut fixture.admin,
            "SELECT count(*) FROM mhfz.weapon_versions WHERE version > 2"
        ),
        0
    );

    // What the report lists: exactly the edited weapons, old version 1 of the first scrape,
    // new version 2 of the second, whose attack is 10 higher.
    let changes =
        mhfz_store::changes_between(&mut fixture.admin, after_first, after_second).unwrap();
    let listed: BTreeSet<String> = changes.iter().map(|c| c.weapon_id.clone()).collect();
    assert_eq!(listed, edited);
    for change in &changes {
        assert_eq!((change.version_before, change.version_after), (Some(1), 2));
        assert_ne!(
            change.run_before.as_deref(),
            Some(change.run_after.as_str())
        );
        let versions = mhfz_store::weapon_versions(&mut fixture.admin, &change.weapon_id).unwrap();
        assert_eq!(
            versions[0].attack + 10,
            versions[1].attack,
            "{}",
            change.weapon_id
        );
    }

    // The report of the second scrape lists exactly them, each linked to its row.
    let ndjson = std::fs::read(out.path().join("second.ndjson")).unwrap();
    let mut tables = mhfz_report::Tables::default();
    let output = mhfz_streaming::runner::run_in_process(&ndjson).unwrap();
    for line in String::from_utf8(output).unwrap().lines() {
        tables.push(mhfz_streaming::row::OutputRow::parse(line).unwrap());
    }
    let changes = mhfz_report::Changes::Since {
        since: "the first scrape".into(),
        until: "the second".into(),
        weapons: changes,
    };
    let html = mhfz_report::render("history", "https://site.invalid/", &tables, &changes).unwrap();
    let section = &html[html.find("<section id=\"changes\"").unwrap()..];
    assert!(
        section.contains("data-state=\"listed\" data-count=\"3\""),
        "{section}"
    );
    let in_report: BTreeSet<String> = section
        .split("<tr data-weapon-id=\"")
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].to_string())
        .collect();
    assert_eq!(in_report, edited);
    for weapon_id in &edited {
        let link = mhfz_report::site_link("https://site.invalid/", weapon_id).unwrap();
        assert!(
            section.contains(&link.replace('/', "&#x2F;")),
            "{link} in {section}"
        );
    }
}
