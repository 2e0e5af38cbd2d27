//! A narrow, fast-to-parse view of a [`WeaponRecord`](crate::WeaponRecord) for statistics.

use std::borrow::Cow;

use serde::Deserialize;

use crate::{Attribute, PageVariant, WeaponClass};

/// The fields of a weapon record that statistics need, deserialized from the same JSON.
///
/// Deserializing a full [`WeaponRecord`](crate::WeaponRecord) allocates every name, material
/// and description; this view skips those fields without building them, which is what makes
/// the Hadoop mapper fast. Field names and types mirror the record, so any line the record
/// accepts the view accepts too (with the same validation of these fields), and a type error
/// in one of these fields is reported the same way. The two text fields (the id and name the
/// top-N lists show) borrow from the line unless JSON escapes force a copy; the view owns only
/// the (usually one- or two-element) attribute list.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct StatsView<'a> {
    pub class: WeaponClass,
    pub variant: PageVariant,
    pub rarity: u8,
    pub attack: u32,
    pub affinity: i32,
    pub slots: u8,
    pub attributes: Vec<Attribute>,
    // Declared last so that a missing numeric field is still the one an error names first.
    #[serde(borrow)]
    pub weapon_id: Cow<'a, str>,
    #[serde(borrow)]
    pub name: Cow<'a, str>,
}

impl StatsView<'_> {
    /// Elements, compound elements and statuses, in page order (defense bonuses left out).
    pub fn elemental_attributes(&self) -> impl Iterator<Item = &Attribute> {
        self.attributes.iter().filter(|a| a.kind.is_elemental())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AttributeKind;

    #[test]
    fn reads_only_the_statistics_fields_of_a_record_line() {
        let line = r#"{"weapon_id":"long_sword:g:l1","class":"long_sword","variant":"g",
            "name":"Blade \"X\"","rarity":11,"attack":1200,"affinity":-10,"slots":3,
            "attributes":[{"kind":"defense","value":20},{"kind":"fire","value":300}],
            "description":"skipped\nentirely","creation_materials":{"recipes":[],"note":null}}"#;
        let view: StatsView = serde_json::from_str(line).unwrap();
        assert_eq!(view.class, WeaponClass::LongSword);
        assert_eq!(view.variant, PageVariant::G);
        assert_eq!(
            (view.rarity, view.attack, view.affinity, view.slots),
            (11, 1200, -10, 3)
        );
        let elemental: Vec<_> = view.elemental_attributes().map(|a| &a.kind).collect();
        assert_eq!(elemental, [&AttributeKind::Fire]);
        assert_eq!(view.weapon_id, "long_sword:g:l1");
        assert_eq!(view.name, "Blade \"X\"");
    }

    #[test]
    fn rejects_wrong_types_and_missing_fields() {
        let wrong_type = r#"{"class":"bow","variant":"base","rarity":1,"attack":"100",
            "affinity":0,"slots":0,"attributes":[],"weapon_id":"bow:base:l1","name":"B"}"#;
        let err = serde_json::from_str::<StatsView>(wrong_type).unwrap_err();
        assert!(err.to_string().contains("invalid type"), "{err}");
        let missing = r#"{"class":"bow","variant":"base","rarity":1,"affinity":0,"slots":0,"attributes":[],
            "weapon_id":"bow:base:l1","name":"B"}"#;
        let err = serde_json::from_str::<StatsView>(missing).unwrap_err();
        assert!(err.to_string().contains("missing field `attack`"), "{err}");
    }
}
