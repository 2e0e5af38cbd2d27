//! A weapon record as the typed values of one table row.

use mhfz_record::{HunterRank, WeaponRecord};
use postgres::types::ToSql;
use sha2::{Digest, Sha256};
use std::time::SystemTime;

use crate::jsonb::JsonText;
use crate::{ScrapedRecord, StoreError};

/// Number of columns the writer fills (`first_seen` and `updated_at` come from the database).
pub(crate) const COLUMN_COUNT: usize = 32;

/// Name and SQL array type of every written column, in parameter order.
pub(crate) const COLUMNS: [(&str, &str); COLUMN_COUNT] = [
    ("weapon_id", "text[]"),
    ("variant", "text[]"),
    ("site_row_id", "text[]"),
    ("name", "text[]"),
    ("name_notes", "jsonb[]"),
    ("level", "integer[]"),
    ("hidden", "boolean[]"),
    ("rarity", "smallint[]"),
    ("gr_requirement", "integer[]"),
    ("attack", "integer[]"),
    ("affinity", "integer[]"),
    ("attributes", "jsonb[]"),
    ("unknown_attribute_lines", "jsonb[]"),
    ("sharpness", "jsonb[]"),
    ("slots", "smallint[]"),
    ("rank_kind", "text[]"),
    ("rank_level", "integer[]"),
    ("price", "bigint[]"),
    ("upgrade_price", "bigint[]"),
    ("price_note", "text[]"),
    ("creation_materials", "jsonb[]"),
    ("upgrade_materials", "jsonb[]"),
    ("upgrade_from", "jsonb[]"),
    ("upgrade_to", "jsonb[]"),
    ("description", "text[]"),
    ("gunner", "jsonb[]"),
    ("bow", "jsonb[]"),
    ("extra_notes", "jsonb[]"),
    ("record", "jsonb[]"),
    ("content_hash", "bytea[]"),
    ("scrape_run_id", "text[]"),
    ("scraped_at", "timestamptz[]"),
];

/// SHA-256 of the record's JSON: the change detector of the upserts. Run id and scrape time
/// are not part of the record, so an unchanged weapon scraped again hashes the same.
pub fn content_hash(record: &WeaponRecord) -> Result<[u8; 32], StoreError> {
    Ok(hash(&json(record, "record", record)?))
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
    name_notes: Vec<JsonText>,
    level: Vec<Option<i32>>,
    hidden: Vec<bool>,
    rarity: Vec<i16>,
    gr_requirement: Vec<Option<i32>>,
    attack: Vec<i32>,
    affinity: Vec<i32>,
    attributes: Vec<JsonText>,
    unknown_attribute_lines: Vec<JsonText>,
    sharpness: Vec<Option<JsonText>>,
    slots: Vec<i16>,
    rank_kind: Vec<Option<&'static str>>,
    rank_level: Vec<Option<i32>>,
    price: Vec<Option<i64>>,
    upgrade_price: Vec<Option<i64>>,
    price_note: Vec<Option<&'a str>>,
    creation_materials: Vec<JsonText>,
    upgrade_materials: Vec<JsonText>,
    upgrade_from: Vec<JsonText>,
    upgrade_to: Vec<JsonText>,
    description: Vec<&'a str>,
    gunner: Vec<Option<JsonText>>,
    bow: Vec<Option<JsonText>>,
    extra_notes: Vec<JsonText>,
    record: Vec<JsonText>,
    content_hash: Vec<Vec<u8>>,
    scrape_run_id: Vec<&'a str>,
    scraped_at: Vec<SystemTime>,
}

impl<'a> RowColumns<'a> {
    pub(crate) fn len(&self) -> usize {
        self.weapon_id.len()
    }

    pub(crate) fn push(&mut self, scraped: &ScrapedRecord<'a>) -> Result<(), StoreError> {
        let r = scraped.record;
        let record_json = json(r, "record", r)?;
        let hash = hash(&record_json).to_vec();
        // Convert everything before pushing anything, so that a failure leaves the columns
        // the same length.
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
        let name_notes = json(r, "name_notes", &r.name_notes)?;
        let attributes = json(r, "attributes", &r.attributes)?;
        let unknown_lines = json(r, "unknown_attribute_lines", &r.unknown_attribute_lines)?;
        let sharpness = optional_json(r, "sharpness", r.sharpness.as_ref())?;
        let creation_materials = json(r, "creation_materials", &r.creation_materials)?;
        let upgrade_materials = json(r, "upgrade_materials", &r.upgrade_materials)?;
        let upgrade_from = json(r, "upgrade_from", &r.upgrade_from)?;
        let upgrade_to = json(r, "upgrade_to", &r.upgrade_to)?;
        let gunner = optional_json(r, "gunner", r.gunner.as_ref())?;
        let bow = optional_json(r, "bow", r.bow.as_ref())?;
        let extra_notes = json(r, "extra_notes", &r.extra_notes)?;

        self.weapon_id.push(r.weapon_id.as_str());
        self.variant.push(r.variant.id());
        self.site_row_id.push(&r.site_row_id);
        self.name.push(&r.name);
        self.name_notes.push(name_notes);
        self.level.push(level);
        self.hidden.push(r.hidden);
        self.rarity.push(r.rarity.into());
        self.gr_requirement.push(gr_requirement);
        self.attack.push(attack);
        self.affinity.push(r.affinity);
        self.attributes.push(attributes);
        self.unknown_attribute_lines.push(unknown_lines);
        self.sharpness.push(sharpness);
        self.slots.push(r.slots.into());
        self.rank_kind
            .push(r.rank_requirement.as_ref().map(|rank| rank_kind(rank.rank)));
        self.rank_level.push(rank_level);
        self.price.push(price);
        self.upgrade_price.push(upgrade_price);
        self.price_note.push(r.price_note.as_deref());
        self.creation_materials.push(creation_materials);
        self.upgrade_materials.push(upgrade_materials);
        self.upgrade_from.push(upgrade_from);
        self.upgrade_to.push(upgrade_to);
        self.description.push(&r.description);
        self.gunner.push(gunner);
        self.bow.push(bow);
        self.extra_notes.push(extra_notes);
        self.record.push(record_json);
        self.content_hash.push(hash);
        self.scrape_run_id.push(scraped.scrape_run_id);
        self.scraped_at.push(scraped.scraped_at);
        Ok(())
    }

    /// One array parameter per column, in [`COLUMNS`] order.
    pub(crate) fn params(&self) -> [&(dyn ToSql + Sync); COLUMN_COUNT] {
        [
            &self.weapon_id,
            &self.variant,
            &self.site_row_id,
            &self.name,
            &self.name_notes,
            &self.level,
            &self.hidden,
            &self.rarity,
            &self.gr_requirement,
            &self.attack,
            &self.affinity,
            &self.attributes,
            &self.unknown_attribute_lines,
            &self.sharpness,
            &self.slots,
            &self.rank_kind,
            &self.rank_level,
            &self.price,
            &self.upgrade_price,
            &self.price_note,
            &self.creation_materials,
            &self.upgrade_materials,
            &self.upgrade_from,
            &self.upgrade_to,
            &self.description,
            &self.gunner,
            &self.bow,
            &self.extra_notes,
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

fn json<T: serde::Serialize + ?Sized>(
    record: &WeaponRecord,
    field: &'static str,
    value: &T,
) -> Result<JsonText, StoreError> {
    JsonText::of(value).map_err(|source| StoreError::Serialize {
        weapon_id: record.weapon_id.to_string(),
        field,
        source,
    })
}

fn optional_json<T: serde::Serialize>(
    record: &WeaponRecord,
    field: &'static str,
    value: Option<&T>,
) -> Result<Option<JsonText>, StoreError> {
    value.map(|v| json(record, field, v)).transpose()
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
