//! A message value → a valid record with its scrape, or why it is not one.

use std::time::SystemTime;

use mhfz_record::{Envelope, WeaponRecord, SCHEMA_VERSION};
use serde::Deserialize;

/// A record that passed every check, owned, with where it came from.
#[derive(Debug, Clone)]
pub struct Decoded {
    pub record: WeaponRecord,
    pub scrape_run_id: String,
    pub scraped_at: SystemTime,
}

impl Decoded {
    pub fn as_scraped(&self) -> mhfz_store::ScrapedRecord<'_> {
        mhfz_store::ScrapedRecord {
            record: &self.record,
            scrape_run_id: &self.scrape_run_id,
            scraped_at: self.scraped_at,
        }
    }
}

/// Why a message is dead-lettered. The message says what was wrong; it never includes the
/// payload (which goes to the dead-letter topic unchanged).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error("message has no value")]
    Empty,
    #[error(
        "schema_version {found} is not the supported version {}",
        SCHEMA_VERSION
    )]
    SchemaVersion { found: u32 },
    /// Bad JSON, an unknown class, a missing or mistyped field.
    #[error("not a weapon record envelope: {0}")]
    Json(String),
    #[error("scraped_at {value:?} is not an RFC 3339 time: {reason}")]
    ScrapedAt { value: String, reason: String },
    #[error("{0}")]
    Invalid(String),
    #[error("message key {key:?} is not the weapon id {weapon_id:?}")]
    KeyMismatch { key: String, weapon_id: String },
}

impl DecodeError {
    /// A short stable name for the dead-letter header `mhfz.error.kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            DecodeError::Empty => "empty",
            DecodeError::SchemaVersion { .. } => "schema_version",
            DecodeError::Json(_) => "json",
            DecodeError::ScrapedAt { .. } => "scraped_at",
            DecodeError::Invalid(_) => "invalid_record",
            DecodeError::KeyMismatch { .. } => "key_mismatch",
        }
    }
}

/// Decodes and validates one message. The key, when present, must be the weapon id (the
/// producer keys by it so that one weapon's messages stay in order on one partition).
pub fn decode(key: Option<&[u8]>, value: Option<&[u8]>) -> Result<Decoded, DecodeError> {
    let value = value.filter(|v| !v.is_empty()).ok_or(DecodeError::Empty)?;
    let envelope: Envelope<'static, WeaponRecord> =
        serde_json::from_slice(value).map_err(|error| explain_json_error(value, error))?;
    if envelope.schema_version != SCHEMA_VERSION {
        return Err(DecodeError::SchemaVersion {
            found: envelope.schema_version,
        });
    }
    let record = envelope.record;
    record
        .validate()
        .map_err(|error| DecodeError::Invalid(error.to_string()))?;
    if let Some(key) = key {
        if key != record.weapon_id.as_str().as_bytes() {
            return Err(DecodeError::KeyMismatch {
                key: String::from_utf8_lossy(key).into_owned(),
                weapon_id: record.weapon_id.to_string(),
            });
        }
    }
    let scraped_at = humantime::parse_rfc3339_weak(&envelope.scraped_at).map_err(|error| {
        DecodeError::ScrapedAt {
            value: envelope.scraped_at.to_string(),
            reason: error.to_string(),
        }
    })?;
    Ok(Decoded {
        record,
        scrape_run_id: envelope.scrape_run_id.into_owned(),
        scraped_at,
    })
}

/// A record of another schema version usually fails to decode as this one: say so rather
/// than report the first field that differs.
fn explain_json_error(value: &[u8], error: serde_json::Error) -> DecodeError {
    #[derive(Deserialize)]
    struct VersionOnly {
        schema_version: u32,
    }
    match serde_json::from_slice::<VersionOnly>(value) {
        Ok(VersionOnly { schema_version }) if schema_version != SCHEMA_VERSION => {
            DecodeError::SchemaVersion {
                found: schema_version,
            }
        }
        _ => DecodeError::Json(error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_values_are_named() {
        assert_eq!(decode(None, None).unwrap_err(), DecodeError::Empty);
        assert_eq!(decode(None, Some(b"{")).unwrap_err().kind(), "json");
        assert_eq!(
            decode(None, Some(br#"{"schema_version":99,"record":{}}"#)).unwrap_err(),
            DecodeError::SchemaVersion { found: 99 }
        );
        assert_eq!(
            decode(None, Some(br#"{"schema_version":1,"record":{}}"#))
                .unwrap_err()
                .kind(),
            "json"
        );
    }
}
