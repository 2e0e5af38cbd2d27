//! The site mirror and the facts every whole-mirror test checks, written once.

use std::path::{Path, PathBuf};

use mhfz_record::{Layout, WeaponClass, WeaponRecord};

/// The classes the mirror holds (`tests/mirror-classes`): its class index also links hunting
/// horn, gunlance, tonfa and magnet spike pages, which it lacks.
pub fn mirrored() -> Vec<WeaponClass> {
    include_str!("../../../tests/mirror-classes")
        .lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|id| {
            id.parse()
                .unwrap_or_else(|_| panic!("tests/mirror-classes: {id:?} is no class id"))
        })
        .collect()
}

/// The mirror of the site's weapon pages: `$MHFZ_MIRROR`, else
/// `<repo>/../shared/ferias-site/buki`. Panics with a clear message when it is missing, so the
/// tests that need it cannot pass vacuously.
pub fn mirror_dir() -> PathBuf {
    let dir = std::env::var_os("MHFZ_MIRROR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/ferias-site/buki")
        });
    assert!(
        dir.join("buki.htm").is_file(),
        "the site mirror is missing: no buki.htm in {} (set MHFZ_MIRROR to the mirror's buki/ directory)",
        dir.display()
    );
    dir
}

/// Data rows of a page, counted from the raw bytes without the parser: `<td id=` name cells
/// inside its first table.
pub fn name_cells_in_table(html: &[u8]) -> usize {
    let Some(start) = find(html, b"<table", 0) else {
        return 0;
    };
    let end = find(html, b"</table>", start).unwrap_or(html.len());
    html[start..end]
        .windows(7)
        .filter(|window| window == b"<td id=")
        .count()
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack[from..]
        .windows(needle.len())
        .position(|window| window == needle)
        .map(|at| at + from)
}

/// Typed sanity of one record from a mirror page (`context` names the page in messages).
pub fn check_record(context: &str, record: &WeaponRecord) {
    let id = &record.weapon_id;
    record
        .validate()
        .unwrap_or_else(|error| panic!("{context}: {error}"));
    assert!(record.attack > 0, "{context} {id}: attack 0");
    assert!((-100..=100).contains(&record.affinity), "{context} {id}");
    assert!((1..=12).contains(&record.rarity), "{context} {id}");
    assert!(
        record.unknown_attribute_lines.is_empty(),
        "{context} {id}: unknown attribute lines in the mirror: {record:?}"
    );
    match record.class.layout() {
        Layout::Blademaster => assert!(record.sharpness.is_some(), "{context} {id}: no sharpness"),
        Layout::Bowgun => {
            let gunner = record.gunner.as_ref().expect("bowgun stats");
            assert!(
                !gunner.ammo.is_empty() && !gunner.reload.is_empty(),
                "{context} {id}"
            );
        }
        Layout::Bow => {
            let bow = record.bow.as_ref().expect("bow stats");
            assert!(bow.arc_shot.is_some(), "{context} {id}: no arc shot");
            assert!(!bow.charge_stages.is_empty(), "{context} {id}");
        }
    }
}

/// On G-rank and evolution pages each weapon's rows are `Lv1, Lv2, …, LvN`, in order: a row
/// above level 1 follows the same weapon one level lower. Other variants are ignored.
pub fn check_levels(records: &[WeaponRecord]) {
    let mut previous: Option<&WeaponRecord> = None;
    let mut leveled = 0;
    for record in records.iter().filter(|r| r.variant.is_leveled()) {
        leveled += 1;
        let level = record
            .level
            .unwrap_or_else(|| panic!("{} has no level", record.weapon_id));
        if level != 1 {
            let previous =
                previous.unwrap_or_else(|| panic!("{} starts at Lv{level}", record.weapon_id));
            assert!(
                previous.name == record.name
                    && (previous.class, previous.variant) == (record.class, record.variant)
                    && previous.level == Some(level - 1),
                "{} (Lv{level}) does not follow {} (Lv{:?})",
                record.weapon_id,
                previous.weapon_id,
                previous.level
            );
        }
        previous = Some(record);
    }
    assert!(leveled > 0, "no G-rank or evolution rows at all");
}
