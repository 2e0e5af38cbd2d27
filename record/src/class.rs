//! Weapon classes and page variants: the two coordinates of every page on the site.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::RecordError;

/// How a class fights: decides which columns its pages carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Layout {
    /// Attack/element cell plus a sharpness column.
    Blademaster,
    /// Reload/recoil/bullet-speed and an ammo table.
    Bowgun,
    /// Arc shot, charge stages and coatings.
    Bow,
}

macro_rules! weapon_classes {
    ($($variant:ident => $id:literal, $stem:literal, $label:literal, $layout:ident;)*) => {
        /// The fourteen weapon classes of Monster Hunter Frontier Z.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum WeaponClass { $($variant,)* }

        impl WeaponClass {
            /// Every class, in the site's index order.
            pub const ALL: [WeaponClass; 14] = [$(WeaponClass::$variant,)*];

            /// Snake-case id used in records, Kafka keys, table names and statistics.
            pub const fn id(self) -> &'static str {
                match self { $(WeaponClass::$variant => $id,)* }
            }

            /// File stem of the class's pages on the site (`tachi` → `tachi_g.htm`, ...).
            pub const fn page_stem(self) -> &'static str {
                match self { $(WeaponClass::$variant => $stem,)* }
            }

            /// English name as the site's index shows it.
            pub const fn label(self) -> &'static str {
                match self { $(WeaponClass::$variant => $label,)* }
            }

            pub const fn layout(self) -> Layout {
                match self { $(WeaponClass::$variant => Layout::$layout,)* }
            }

            /// The class whose pages use this file stem.
            pub fn from_page_stem(stem: &str) -> Option<WeaponClass> {
                match stem { $($stem => Some(WeaponClass::$variant),)* _ => None }
            }
        }

        impl FromStr for WeaponClass {
            type Err = RecordError;
            /// Accepts the snake-case id or the page stem.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($id => Ok(WeaponClass::$variant),)*
                    _ => WeaponClass::from_page_stem(s)
                        .ok_or_else(|| RecordError::UnknownClass(s.to_string())),
                }
            }
        }
    };
}

weapon_classes! {
    GreatSword     => "great_sword",      "taiken",   "Great Sword",     Blademaster;
    LongSword      => "long_sword",       "tachi",    "Long Sword",      Blademaster;
    SwordAndShield => "sword_and_shield", "katate",   "Sword and Shield", Blademaster;
    DualSwords     => "dual_swords",      "souken",   "Dual Swords",     Blademaster;
    Hammer         => "hammer",           "hammer",   "Hammer",          Blademaster;
    HuntingHorn    => "hunting_horn",     "horn",     "Hunting Horn",    Blademaster;
    Lance          => "lance",            "lance",    "Lance",           Blademaster;
    Gunlance       => "gunlance",         "gunlance", "Gunlance",        Blademaster;
    Tonfa          => "tonfa",            "tonfa",    "Tonfa",           Blademaster;
    SwitchAxeF     => "switch_axe_f",     "slaxe",    "Switch Axe F",    Blademaster;
    MagnetSpike    => "magnet_spike",     "magspike", "Magnet Spike",    Blademaster;
    LightBowgun    => "light_bowgun",     "right",    "Light Bowgun",    Bowgun;
    HeavyBowgun    => "heavy_bowgun",     "heavy",    "Heavy Bowgun",    Bowgun;
    Bow            => "bow",              "yumi",     "Bow",             Bow;
}

impl fmt::Display for WeaponClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// Which page of a class a row comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PageVariant {
    /// `tachi.htm`: low/high rank weapons.
    Base,
    /// `tachi_g.htm`: G-rank weapons.
    G,
    /// `tachi_s.htm`: evolution (Ravi) weapons.
    S,
    /// `tachi_sp.htm`: SP weapons.
    Sp,
    /// `tachi_n.htm`: RNG cat weapons.
    N,
}

impl PageVariant {
    /// Every English variant, in scrape order. (Tower `_t` pages have Japanese headers and are
    /// not weapon rows; the scraper reports them as skipped.)
    pub const ALL: [PageVariant; 5] = [
        PageVariant::Base,
        PageVariant::G,
        PageVariant::S,
        PageVariant::Sp,
        PageVariant::N,
    ];

    pub const fn id(self) -> &'static str {
        match self {
            PageVariant::Base => "base",
            PageVariant::G => "g",
            PageVariant::S => "s",
            PageVariant::Sp => "sp",
            PageVariant::N => "n",
        }
    }

    /// Suffix of the page file name: `""`, `"_g"`, ...
    pub const fn page_suffix(self) -> &'static str {
        match self {
            PageVariant::Base => "",
            PageVariant::G => "_g",
            PageVariant::S => "_s",
            PageVariant::Sp => "_sp",
            PageVariant::N => "_n",
        }
    }

    /// Pages whose rows are one weapon at increasing levels (`Lv1..LvN`).
    pub const fn is_leveled(self) -> bool {
        matches!(self, PageVariant::G | PageVariant::S)
    }
}

impl FromStr for PageVariant {
    type Err = RecordError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PageVariant::ALL
            .into_iter()
            .find(|v| v.id() == s)
            .ok_or_else(|| RecordError::UnknownVariant(s.to_string()))
    }
}

impl fmt::Display for PageVariant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// The file name of a class's variant page: `tachi_g.htm`.
pub fn page_file_name(class: WeaponClass, variant: PageVariant) -> String {
    format!("{}{}.htm", class.page_stem(), variant.page_suffix())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_stems_round_trip() {
        for class in WeaponClass::ALL {
            assert_eq!(class.id().parse::<WeaponClass>().unwrap(), class);
            assert_eq!(class.page_stem().parse::<WeaponClass>().unwrap(), class);
            let json = serde_json::to_string(&class).unwrap();
            assert_eq!(json, format!("\"{}\"", class.id()));
        }
        for variant in PageVariant::ALL {
            assert_eq!(variant.id().parse::<PageVariant>().unwrap(), variant);
        }
        assert!("partnya".parse::<WeaponClass>().is_err());
    }

    #[test]
    fn page_names() {
        assert_eq!(
            page_file_name(WeaponClass::LongSword, PageVariant::G),
            "tachi_g.htm"
        );
        assert_eq!(
            page_file_name(WeaponClass::Bow, PageVariant::Base),
            "yumi.htm"
        );
    }
}
