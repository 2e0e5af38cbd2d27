//! Elements, statuses and the other "Name N" lines of a weapon's attribute cell.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// What an attribute line grants. Names the site may add later parse as [`AttributeKind::Other`]
/// instead of being dropped.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AttributeKind {
    Fire,
    Water,
    Thunder,
    Ice,
    Dragon,
    Poison,
    Paralysis,
    Sleep,
    Blast,
    // Compound elements (two or more elements in one).
    Blaze,
    Light,
    ThunderPole,
    Tenshou,
    Okiko,
    BlackFlame,
    CrimsonDemon,
    Darkness,
    Music,
    Sound,
    Wind,
    BurningZero,
    EmperorsRoar,
    /// `Defense +N` / `Def -N`: a defense bonus, not an element.
    Defense,
    /// A `Name N` line whose name is not known yet; the name is kept verbatim.
    Other(String),
}

/// Coarse grouping of [`AttributeKind`]s, for statistics and queries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttributeCategory {
    Element,
    CompoundElement,
    Status,
    Defense,
    Other,
}

impl AttributeKind {
    /// Known kinds with their record id and the spellings the site uses.
    const KNOWN: &'static [(AttributeKind, &'static str, &'static [&'static str])] = &[
        (AttributeKind::Fire, "fire", &["Fire"]),
        (AttributeKind::Water, "water", &["Water"]),
        (AttributeKind::Thunder, "thunder", &["Thunder"]),
        (AttributeKind::Ice, "ice", &["Ice"]),
        (AttributeKind::Dragon, "dragon", &["Dragon"]),
        (AttributeKind::Poison, "poison", &["Poison"]),
        (
            AttributeKind::Paralysis,
            "paralysis",
            &["Para", "Paralysis"],
        ),
        (AttributeKind::Sleep, "sleep", &["Sleep"]),
        (AttributeKind::Blast, "blast", &["Blast", "爆破"]),
        (AttributeKind::Blaze, "blaze", &["Blaze"]),
        (AttributeKind::Light, "light", &["Light"]),
        (
            AttributeKind::ThunderPole,
            "thunder_pole",
            &["Thunder Pole"],
        ),
        (AttributeKind::Tenshou, "tenshou", &["Tenshou"]),
        (AttributeKind::Okiko, "okiko", &["Okiko"]),
        (AttributeKind::BlackFlame, "black_flame", &["Black Flame"]),
        (
            AttributeKind::CrimsonDemon,
            "crimson_demon",
            &["Crimson Demon"],
        ),
        (AttributeKind::Darkness, "darkness", &["Darkness"]),
        (AttributeKind::Music, "music", &["Music"]),
        (AttributeKind::Sound, "sound", &["Sound"]),
        (AttributeKind::Wind, "wind", &["Wind"]),
        (
            AttributeKind::BurningZero,
            "burning_zero",
            &["Burning Zero"],
        ),
        (
            AttributeKind::EmperorsRoar,
            "emperors_roar",
            &["Emperor's Roar"],
        ),
        (AttributeKind::Defense, "defense", &["Defense", "Def"]),
    ];

    /// The kind a site label names (`"Thunder Pole"` → `ThunderPole`); unknown labels → `Other`.
    pub fn from_label(label: &str) -> AttributeKind {
        let label = label.trim();
        Self::KNOWN
            .iter()
            .find(|(_, _, spellings)| spellings.contains(&label))
            .map(|(kind, _, _)| kind.clone())
            .unwrap_or_else(|| AttributeKind::Other(label.to_string()))
    }

    /// Record id: snake case for known kinds, the site's label for `Other`.
    pub fn id(&self) -> &str {
        match self {
            AttributeKind::Other(label) => label,
            known => Self::KNOWN
                .iter()
                .find(|(kind, _, _)| kind == known)
                .map(|(_, id, _)| *id)
                .expect("every known kind is listed in KNOWN"),
        }
    }

    fn from_id(id: &str) -> AttributeKind {
        Self::KNOWN
            .iter()
            .find(|(_, known_id, _)| *known_id == id)
            .map(|(kind, _, _)| kind.clone())
            .unwrap_or_else(|| AttributeKind::Other(id.to_string()))
    }

    pub fn category(&self) -> AttributeCategory {
        use AttributeKind::*;
        match self {
            Fire | Water | Thunder | Ice | Dragon => AttributeCategory::Element,
            Poison | Paralysis | Sleep | Blast => AttributeCategory::Status,
            Defense => AttributeCategory::Defense,
            Other(_) => AttributeCategory::Other,
            _ => AttributeCategory::CompoundElement,
        }
    }

    /// True for elements and statuses: the attributes whose value is elemental damage or build-up.
    pub fn is_elemental(&self) -> bool {
        matches!(
            self.category(),
            AttributeCategory::Element
                | AttributeCategory::CompoundElement
                | AttributeCategory::Status
        )
    }
}

impl fmt::Display for AttributeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl Serialize for AttributeKind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.id())
    }
}

impl<'de> Deserialize<'de> for AttributeKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let id = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Ok(AttributeKind::from_id(&id))
    }
}

/// One "Name N" line: `Fire 120`, `Para 210`, `Defense +20`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attribute {
    pub kind: AttributeKind,
    pub value: i32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_map_to_kinds() {
        assert_eq!(AttributeKind::from_label("Para"), AttributeKind::Paralysis);
        assert_eq!(AttributeKind::from_label("爆破"), AttributeKind::Blast);
        assert_eq!(AttributeKind::from_label("Def"), AttributeKind::Defense);
        assert_eq!(
            AttributeKind::from_label("Thunder Pole"),
            AttributeKind::ThunderPole
        );
        assert_eq!(
            AttributeKind::from_label("Frost Zero"),
            AttributeKind::Other("Frost Zero".into())
        );
    }

    #[test]
    fn serde_uses_ids_and_keeps_unknown_names() {
        let attrs = vec![
            Attribute {
                kind: AttributeKind::EmperorsRoar,
                value: 300,
            },
            Attribute {
                kind: AttributeKind::Other("Frost Zero".into()),
                value: 5,
            },
        ];
        let json = serde_json::to_string(&attrs).unwrap();
        assert_eq!(
            json,
            r#"[{"kind":"emperors_roar","value":300},{"kind":"Frost Zero","value":5}]"#
        );
        let back: Vec<Attribute> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, attrs);
    }

    #[test]
    fn categories() {
        assert_eq!(AttributeKind::Fire.category(), AttributeCategory::Element);
        assert_eq!(
            AttributeKind::Blaze.category(),
            AttributeCategory::CompoundElement
        );
        assert_eq!(AttributeKind::Sleep.category(), AttributeCategory::Status);
        assert!(!AttributeKind::Defense.is_elemental());
    }
}
