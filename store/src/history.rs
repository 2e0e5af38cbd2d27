//! Reading the weapons' history (`mhfz.weapon_versions`, migration 0003): a weapon's
//! versions, and what changed between two times. The SQL is the one documented in
//! `docs/history.md` (a test checks they are equal), for reports and for people at a psql
//! prompt alike.

use postgres::GenericClient;
use std::time::SystemTime;

use crate::StoreError;

/// `$1`: a weapon id. Its versions, oldest first.
pub const WEAPON_VERSIONS_SQL: &str = "\
SELECT version, valid_from, valid_to, scrape_run_id, content_hash,
       (record ->> 'attack')::integer AS attack, (record ->> 'affinity')::integer AS affinity
FROM mhfz.weapon_versions
WHERE weapon_id = $1
ORDER BY version";

/// `$1`, `$2`: two times, the earlier first. Every weapon whose content at `$2` differs from
/// its content at `$1`, with the version current at each (none at `$1`: a new weapon).
pub const CHANGES_BETWEEN_SQL: &str = "\
SELECT later.weapon_id, later.class, earlier.version AS version_before,
       later.version AS version_after, earlier.scrape_run_id AS run_before,
       later.scrape_run_id AS run_after
FROM mhfz.weapon_versions AS later
LEFT JOIN mhfz.weapon_versions AS earlier
       ON earlier.weapon_id = later.weapon_id
      AND earlier.valid_from <= $1 AND (earlier.valid_to IS NULL OR earlier.valid_to > $1)
WHERE later.valid_from <= $2 AND (later.valid_to IS NULL OR later.valid_to > $2)
  AND later.valid_from > $1
  AND earlier.content_hash IS DISTINCT FROM later.content_hash
ORDER BY later.weapon_id";

/// One version of a weapon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeaponVersion {
    /// 1, 2, ...
    pub version: i32,
    pub valid_from: SystemTime,
    /// `None` for the current version.
    pub valid_to: Option<SystemTime>,
    /// The scrape that brought this content.
    pub scrape_run_id: String,
    pub content_hash: Vec<u8>,
    pub attack: i32,
    pub affinity: i32,
}

/// A weapon whose content differs between two times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeaponChange {
    pub weapon_id: String,
    /// The class id, e.g. `long_sword`.
    pub class: String,
    /// The version current at the earlier time; `None` when the weapon did not exist then.
    pub version_before: Option<i32>,
    /// The version current at the later time.
    pub version_after: i32,
    pub run_before: Option<String>,
    pub run_after: String,
}

/// The versions of `weapon_id`, oldest first; empty for a weapon never stored.
pub fn weapon_versions(
    client: &mut impl GenericClient,
    weapon_id: &str,
) -> Result<Vec<WeaponVersion>, StoreError> {
    let rows = client
        .query(WEAPON_VERSIONS_SQL, &[&weapon_id])
        .map_err(StoreError::database("reading a weapon's versions"))?;
    Ok(rows
        .iter()
        .map(|row| WeaponVersion {
            version: row.get(0),
            valid_from: row.get(1),
            valid_to: row.get(2),
            scrape_run_id: row.get(3),
            content_hash: row.get(4),
            attack: row.get(5),
            affinity: row.get(6),
        })
        .collect())
}

/// Every weapon whose stored content at `to` differs from its content at `from` (new weapons
/// included), in weapon-id order. Times are those of the consumer's writes: take a run's time
/// from `mhfz.export_runs` (a pipeline run, one Hive partition) or a scrape's.
pub fn changes_between(
    client: &mut impl GenericClient,
    from: SystemTime,
    to: SystemTime,
) -> Result<Vec<WeaponChange>, StoreError> {
    let rows = client
        .query(CHANGES_BETWEEN_SQL, &[&from, &to])
        .map_err(StoreError::database(
            "reading the changes between two times",
        ))?;
    Ok(rows
        .iter()
        .map(|row| WeaponChange {
            weapon_id: row.get(0),
            class: row.get(1),
            version_before: row.get(2),
            version_after: row.get(3),
            run_before: row.get(4),
            run_after: row.get(5),
        })
        .collect())
}
