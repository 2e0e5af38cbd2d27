//! The weapon record: one data row of a weapon page, typed.

use serde::{Deserialize, Serialize};

use crate::{Attribute, PageVariant, RecordError, WeaponClass, WeaponId};

/// One data row of a weapon page (hidden level rows included).
///
/// Field names are the JSON (NDJSON) names. Every field is always present in JSON, so the
/// shape is fixed: optional values are `null`, empty lists are `[]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WeaponRecord {
    /// Stable id: `class:variant:site_row_id` (see [`WeaponId`]). Keys Kafka messages and rows.
    pub weapon_id: WeaponId,
    pub class: WeaponClass,
    pub variant: PageVariant,
    /// The `id` attribute of the row's name cell, e.g. `l219C2`.
    pub site_row_id: String,
    /// Clean name: no upgrade-tree link text, no `Lv` suffix, no notes.
    pub name: String,
    /// Extra text the name cell carries besides the name, e.g. `RNG Cat Weapon`.
    pub name_notes: Vec<String>,
    /// `LvN` suffix of leveled (G-rank and evolution) weapons.
    pub level: Option<u32>,
    /// True for rows the site hides until expanded (`display:none`): the in-between levels.
    pub hidden: bool,
    /// 1–12.
    pub rarity: u8,
    /// `12<b>GR</b>1` → rarity 12, G-rank requirement 1.
    pub gr_requirement: Option<u32>,
    /// Displayed attack.
    pub attack: u32,
    /// Affinity in percent; negative affinity is written `<s>-10%</s>` on the site.
    pub affinity: i32,
    /// Elements, statuses, compound elements and defense bonuses, in page order.
    pub attributes: Vec<Attribute>,
    /// Attribute-cell lines that are neither attack, a `Name N` attribute nor a bow arc shot.
    /// Kept verbatim so that nothing the site adds is lost.
    pub unknown_attribute_lines: Vec<String>,
    /// Blademaster classes only.
    pub sharpness: Option<Sharpness>,
    pub slots: u8,
    pub rank_requirement: Option<RankRequirement>,
    /// Creation price in zenny.
    pub price: Option<u64>,
    /// Upgrade price, the second number of `N<hr>M` price cells.
    pub upgrade_price: Option<u64>,
    /// Words under the price: how the weapon is obtained (`Gacha`, `Festival`, `なし`, ...).
    pub price_note: Option<String>,
    /// First materials column: "Creation Mats" (`100%Creation Mats` on G-rank pages).
    pub creation_materials: Materials,
    /// Second materials column: "Upgrade Mats" (`60%Creation Mats` on G-rank pages).
    pub upgrade_materials: Materials,
    /// Weapons this one is upgraded from (`Name←` links in the name cell).
    pub upgrade_from: Vec<TreeLink>,
    /// Weapons this one upgrades into (`→Name` links in the name cell).
    pub upgrade_to: Vec<TreeLink>,
    /// Description, its `<br>` line breaks kept as `\n`.
    pub description: String,
    /// Light and heavy bowguns only.
    pub gunner: Option<GunnerStats>,
    /// Bows only.
    pub bow: Option<BowStats>,
    /// Remarks the stat cells carry besides their values, verbatim and in page order:
    /// `Length：Long`, `Power Phial`, `Zenith Skill：Skill Slots Up+1`, `Rapid Fire：LV1Normal S`.
    /// Kept so that nothing the site adds is lost. (Absent in older JSON: defaults to `[]`.)
    #[serde(default)]
    pub extra_notes: Vec<String>,
}

/// The two sharpness bars: as the weapon is, and with the sharpness-raising skill.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sharpness {
    pub base: Vec<SharpnessSegment>,
    pub max: Vec<SharpnessSegment>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharpnessSegment {
    pub colour: SharpnessColour,
    pub width: u16,
}

/// Sharpness colours, from the `<li class="r s20">` letters `r o y g b w p s`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SharpnessColour {
    Red,
    Orange,
    Yellow,
    Green,
    Blue,
    White,
    Purple,
    /// `s`: the sky-blue level above purple.
    Sky,
}

impl SharpnessColour {
    /// The colour a `<li>` class letter names.
    pub fn from_class_letter(letter: &str) -> Option<SharpnessColour> {
        Some(match letter {
            "r" => SharpnessColour::Red,
            "o" => SharpnessColour::Orange,
            "y" => SharpnessColour::Yellow,
            "g" => SharpnessColour::Green,
            "b" => SharpnessColour::Blue,
            "w" => SharpnessColour::White,
            "p" => SharpnessColour::Purple,
            "s" => SharpnessColour::Sky,
            _ => return None,
        })
    }
}

/// `HR<br>22`: the hunter rank kind and level needed to make the weapon.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RankRequirement {
    pub rank: HunterRank,
    /// Absent when the site shows the rank kind alone (`HR<br>`).
    pub level: Option<u32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HunterRank {
    /// Hunter Rank.
    Hr,
    /// G Rank.
    Gr,
    /// Skill Rank (`SR`).
    Sr,
    /// G Skill Rank (`GSR`).
    Gsr,
}

impl HunterRank {
    pub fn from_label(label: &str) -> Option<HunterRank> {
        Some(match label.trim() {
            "HR" => HunterRank::Hr,
            "GR" => HunterRank::Gr,
            "SR" => HunterRank::Sr,
            "GSR" => HunterRank::Gsr,
            _ => return None,
        })
    }
}

/// A materials cell: one or more alternative recipes (the site separates them with `or`),
/// or a note instead of materials (`Not Craftable`, `不明`, `なし`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Materials {
    pub recipes: Vec<Vec<Material>>,
    pub note: Option<String>,
}

impl Materials {
    pub fn is_empty(&self) -> bool {
        self.recipes.is_empty() && self.note.is_none()
    }
}

/// `Kut-Ku Bone x3`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Material {
    pub item: String,
    pub quantity: u32,
    /// The site's item id (`../sozai/sozai.htm?19F3` → `19F3`), when the item is linked.
    pub item_id: Option<String>,
}

/// A link in the upgrade tree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreeLink {
    pub name: String,
    /// Page file the link points to (`taiken.htm`), or `None` for the same page.
    pub page: Option<String>,
    /// Row id the link points to (`l0002`).
    pub site_row_id: String,
}

/// Bowgun columns: `Slow<br>Medium<br>Fast` and the ammo table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GunnerStats {
    pub reload: String,
    pub recoil: String,
    pub bullet_speed: String,
    pub ammo: Vec<Ammo>,
}

/// One line of the ammo table: `Norm ：6/6/<u>9</u>`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ammo {
    /// The site's abbreviation, trimmed: `Norm`, `Pierc`, `Psn`, ...
    pub name: String,
    /// One entry per ammo level.
    pub levels: Vec<AmmoLevel>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AmmoLevel {
    /// Clip size; `None` where the site shows `-` (cannot load).
    pub capacity: Option<u16>,
    /// Underlined on the site (`<u>9</u>`).
    pub underlined: bool,
}

/// Bow columns: arc shot, charge stages and coatings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BowStats {
    /// Arc shot type from the attribute cell: `Wide`, `Narrow`, `Slicing`, `Bomb`.
    pub arc_shot: Option<String>,
    pub charge_stages: Vec<ChargeStage>,
    pub coatings: Vec<String>,
}

/// `3:SprLV3`, or `<i>4:RpdLV3</i>` (italic: a stage only reachable with a skill).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChargeStage {
    pub stage: u8,
    /// Shot type and level as written: `SprLV3`, `RpdLV3`, `PrcLV4`.
    pub shot: String,
    pub italic: bool,
}

impl WeaponRecord {
    /// Checks the invariants every consumer relies on. The scraper only emits records that pass.
    pub fn validate(&self) -> Result<(), RecordError> {
        let invalid = |what: &str| {
            Err(RecordError::Invalid {
                weapon_id: self.weapon_id.to_string(),
                what: what.to_string(),
            })
        };
        if self.name.trim().is_empty() {
            return invalid("empty name");
        }
        if !(1..=12).contains(&self.rarity) {
            return invalid(&format!("rarity {} outside 1..=12", self.rarity));
        }
        if !(-100..=100).contains(&self.affinity) {
            return invalid(&format!("affinity {}% outside ±100", self.affinity));
        }
        if self.site_row_id.is_empty() {
            return invalid("empty site row id");
        }
        if !self
            .weapon_id
            .as_str()
            .starts_with(WeaponId::new(self.class, self.variant, &self.site_row_id, None).as_str())
        {
            return invalid("weapon_id does not match class, variant and site row id");
        }
        Ok(())
    }
}
