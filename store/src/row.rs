//! A weapon record as the typed values of one table row.

use mhfz_record::{HunterRank, WeaponRecord};
use postgres::types::ToSql;
use sha2::{Digest, Sha256};
use std::time::SystemTime;

use crate::jsonb::JsonText;
use crate::{ScrapedRecord, StoreError};

/// Number of columns sent as parameters.
pub(crate) const PARAMETER_COUNT: usize = 21;

/// Name and SQL array type of every column sent as a parameter, in parameter order.
pub(crate) const PARAMETERS: [(&str, &str); PARAMETER_COUNT] = [
    ("weapon_id", "text[]"),
    ("variant", "text[]"),
    ("site_row_id", "text[]"),
    ("name", "text[]"),
    ("level", "integer[]"),
    ("hidden", "boolean[]"),
    ("rarity", "smallint[]"),
    ("gr_requirement", "integer[]"),
    ("attack", "integer[]"),
    ("affinity", "integer[]"),
    ("slots", "smallint[]"),
    ("rank_kind", "text[]"),
    ("rank_level", "integer[]"),
    ("price", "bigint[]"),
    ("upgrade_price", "bigint[]"),
    ("price_note", "text[]"),
    ("description", "text[]"),
    ("record", "jsonb[]"),
    ("content_hash", "bytea[]"),
    ("scrape_run_id", "text[]"),
    ("scraped_at", "timestamptz[]"),
];

/// The nested parts: JSONB columns taken from the `record` parameter by the database, so the
/// JSON is sent and parsed once per row. JSON `null` becomes SQL NULL.
pub(crate) const FROM_RECORD: [&str; 11] = [
    "name_notes",
    "attributes",
    "unknown_attribute_lines",
    "sharpness",
    "creation_materials",
    "upgrade_materials",
    "upgrade_from",
    "upgrade_to",
    "gunner",
    "bow",
    "extra_notes",
];

/// SHA-256 of the record's JSON: the change detector of the upserts. Run id and scrape time
/// are not part of the record, so an unchanged weapon scraped again hashes the same.
pub fn content_hash(record: &WeaponRecord) -> Result<[u8; 32], StoreError> {
    Ok(hash(&json(record)?))
}

fn hash(record_json: &JsonText) -> [u8; 32] {
    Sha256::digest(record_json.0.as_bytes()).into()
}

/// Column-wise values of many rows of one class table: one array parameter per column.
#[derive(Default)]
pub(crate) struct RowColumns<'a> {
    weapon_id: Vec<&'a str>,
    variant: Vec<&'static str>,
    site_row_id: Vec<&'a str>,
    name: Vec<&'a str>,
    level: Vec<Option<i32>>,
    hidden: Vec<bool>,
    rarity: Vec<i16>,
    gr_requirement: Vec<Option<i32>>,
    attack: Vec<i32>,
    affinity: Vec<i32>,
    slots: Vec<i16>,
    rank_kind: Vec<Option<&'static str>>,
    rank_level: Vec<Option<i32>>,
    price: Vec<Option<i64>>,
    upgrade_price: Vec<Option<i64>>,
    price_note: Vec<Option<&'a str>>,
    description: Vec<&'a str>,
    record: Vec<JsonText>,
    content_hash: Vec<Vec<u8>>,
    scrape_run_id: Vec<&'a str>,
    scraped_at: Vec<SystemTime>,
}

impl<'a> RowColumns<'a> {
    pub(crate) fn len(&self) -> usize {
        self.weapon_id.len()
    }

    pub(crate) fn weapon_ids(&self) -> &[&'a str] {
        &self.weapon_id
    }

    pub(crate) fn push(&mut self, scraped: &ScrapedRecord<'a>) -> Result<(), StoreError> {
        let r = scraped.record;
        // Convert everything before pushing anything, so that a failure leaves the columns
        // the same length.
        let record_json = json(r)?;
        let content_hash = hash(&record_json).to_vec();
        let level = r.level.map(|v| int(r, "level", v.into())).transpose()?;
        let gr_requirement = r
            .gr_requirement
            .map(|v| int(r, "gr_requirement", v.into()))
            .transpose()?;
        let attack = int(r, "attack", r.attack.into())?;
        let rank_level = r
            .rank_requirement
            .as_ref()
            .and_then(|rank| rank.level)
            .map(|v| int(r, "rank_level", v.into()))
            .transpose()?;
        let price = r.price.map(|v| bigint(r, "price", v)).transpose()?;
        let upgrade_price = r
            .upgrade_price
            .map(|v| bigint(r, "upgrade_price", v))
            .transpose()?;

        self.weapon_id.push(r.weapon_id.as_str());
        self.variant.push(r.variant.id());
        self.site_row_id.push(&r.site_row_id);
        self.name.push(&r.name);
        self.level.push(level);
        self.hidden.push(r.hidden);
        self.rarity.push(r.rarity.into());
        self.gr_requirement.push(gr_requirement);
        self.attack.push(attack);
        self.affinity.push(r.affinity);
        self.slots.push(r.slots.into());
        self.rank_kind
            .push(r.rank_requirement.as_ref().map(|rank| rank_kind(rank.rank)));
        self.rank_level.push(rank_level);
        self.price.push(price);
        self.upgrade_price.push(upgrade_price);
        self.price_note.push(r.price_note.as_deref());
        self.description.push(&r.description);
        self.record.push(record_json);
        self.content_hash.push(content_hash);
        self.scrape_run_id.push(scraped.scrape_run_id);
        self.scraped_at.push(scraped.scraped_at);
        Ok(())
    }

    /// One array parameter per column, in [`PARAMETERS`] order.
    pub(crate) fn params(&self) -> [&(dyn ToSql + Sync); PARAMETER_COUNT] {
        [
            &self.weapon_id,
            &self.variant,
            &self.site_row_id,
            &self.name,
            &self.level,
            &self.hidden,
            &self.rarity,
            &self.gr_requirement,
            &self.attack,
            &self.affinity,
            &self.slots,
            &self.rank_kind,
            &self.rank_level,
            &self.price,
            &self.upgrade_price,
            &self.price_note,
            &self.description,
            &self.record,
            &self.content_hash,
            &self.scrape_run_id,
            &self.scraped_at,
        ]
    }
}

fn rank_kind(rank: HunterRank) -> &'static str {
    match rank {
        HunterRank::Hr => "hr",
        HunterRank::Gr => "gr",
        HunterRank::Sr => "sr",
        HunterRank::Gsr => "gsr",
    }
}

fn json(record: &WeaponRecord) -> Result<JsonText, StoreError> {
    JsonText::of(record).map_err(|source| StoreError::Serialize {
        weapon_id: record.weapon_id.to_string(),
        source,
    })
}

fn int(record: &WeaponRecord, field: &'static str, value: u64) -> Result<i32, StoreError> {
    i32::try_from(value).map_err(|_| out_of_range(record, field, value))
}

fn bigint(record: &WeaponRecord, field: &'static str, value: u64) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| out_of_range(record, field, value))
}

fn out_of_range(record: &WeaponRecord, field: &'static str, value: u64) -> StoreError {
    StoreError::OutOfRange {
        weapon_id: record.weapon_id.to_string(),
        field,
        value,
    }
}
