//! The MHFZ weapon record, shared by every program of the pipeline.
//!
//! One row of the MHFZ Ferias English Project weapon pages becomes one [`WeaponRecord`]; it
//! travels as one JSON line (NDJSON) from the scraper through Kafka and PostgreSQL to the
//! Hadoop-streaming mapper. This crate is the single definition of that shape.

mod attribute;
mod class;
mod envelope;
mod id;
mod record;
mod view;

pub use attribute::{Attribute, AttributeCategory, AttributeKind};
pub use class::{page_file_name, Layout, PageVariant, WeaponClass};
pub use envelope::Envelope;
pub use id::WeaponId;
pub use record::{
    Ammo, AmmoLevel, BowStats, ChargeStage, GunnerStats, HunterRank, Material, Materials,
    RankRequirement, Sharpness, SharpnessColour, SharpnessSegment, TreeLink, WeaponRecord,
};
pub use view::StatsView;

/// Version of the record's JSON shape; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// What can be wrong with a class name, a variant name or a record.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RecordError {
    #[error("unknown weapon class {0:?} (expected one of: great_sword, long_sword, ...)")]
    UnknownClass(String),
    #[error("unknown page variant {0:?} (expected base, g, s, sp or n)")]
    UnknownVariant(String),
    #[error("invalid record {weapon_id}: {what}")]
    Invalid { weapon_id: String, what: String },
}
