//! The Kafka message value: one record and where it came from.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

/// One scraped record as it travels through Kafka (the message key is its weapon id).
///
/// Generic over the record so the producer serializes an `Envelope<&WeaponRecord>` without
/// cloning, and the consumer decodes an `Envelope<'static, WeaponRecord>` from any buffer
/// (`DeserializeOwned`: the two strings are always decoded owned, which costs next to nothing
/// beside the record).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Envelope<'a, R> {
    /// [`crate::SCHEMA_VERSION`] of the producer that wrote `record`.
    pub schema_version: u32,
    /// Shared by every record of one scraper run (a UUIDv7: time-ordered).
    pub scrape_run_id: Cow<'a, str>,
    /// When the record's page was scraped: RFC 3339, UTC (`2026-11-28T02:04:31.123Z`).
    pub scraped_at: Cow<'a, str>,
    pub record: R,
}

impl<'a, R> Envelope<'a, R> {
    /// An envelope of the current schema version.
    pub fn new(
        scrape_run_id: impl Into<Cow<'a, str>>,
        scraped_at: impl Into<Cow<'a, str>>,
        record: R,
    ) -> Envelope<'a, R> {
        Envelope {
            schema_version: crate::SCHEMA_VERSION,
            scrape_run_id: scrape_run_id.into(),
            scraped_at: scraped_at.into(),
            record,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_borrowed_envelope_round_trips_into_an_owned_one() {
        let record = vec![1u32, 2, 3];
        let json = serde_json::to_string(&Envelope::new("run-1", "2026-11-28T02:04:31Z", &record))
            .unwrap();
        assert_eq!(
            json,
            r#"{"schema_version":1,"scrape_run_id":"run-1","scraped_at":"2026-11-28T02:04:31Z","record":[1,2,3]}"#
        );
        let decoded: Envelope<Vec<u32>> = serde_json::from_str(&json).unwrap();
        assert_eq!(decoded.record, record);
        assert_eq!(decoded.scrape_run_id, "run-1");
        let escaped = json.replace("run-1", r"run\u002d1");
        let decoded: Envelope<'static, Vec<u32>> =
            serde_json::from_slice(escaped.as_bytes()).unwrap();
        assert_eq!(decoded.scrape_run_id, "run-1");
    }
}
