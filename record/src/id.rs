//! The stable weapon id.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::{PageVariant, WeaponClass};

/// Stable id of one data row: `class:variant:site_row_id`, e.g. `long_sword:g:l219C2`.
///
/// Names are not unique on the site (hundreds of rows share class, variant, name and level),
/// row ids are — except where the site repeats one on a page. There the weapon name is appended,
/// percent-encoded so the id stays one ASCII token: `switch_axe_f:g:l3C4D50:Torag%E3%83%BBCanso%2B`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WeaponId(String);

impl WeaponId {
    /// `disambiguator` is the weapon name, given only when the row id repeats on its page.
    pub fn new(
        class: WeaponClass,
        variant: PageVariant,
        site_row_id: &str,
        disambiguator: Option<&str>,
    ) -> WeaponId {
        let mut id = format!("{}:{}:{}", class.id(), variant.id(), site_row_id);
        if let Some(name) = disambiguator {
            id.push(':');
            percent_encode_into(name, &mut id);
        }
        WeaponId(id)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Where the weapon `id` is on the site: its class, its page variant and its row id (the
    /// `id` attribute of its table row, so `page_file_name(class, variant)#row_id` links to it).
    /// `None` unless `id` has the shape [`WeaponId::new`] gives.
    pub fn site_row(id: &str) -> Option<(WeaponClass, PageVariant, &str)> {
        let mut parts = id.splitn(4, ':');
        let class = parts.next()?.parse().ok()?;
        let variant = parts.next()?.parse().ok()?;
        let row_id = parts.next().filter(|row_id| !row_id.is_empty())?;
        Some((class, variant, row_id))
    }
}

impl fmt::Display for WeaponId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Keeps ASCII letters, digits, `-`, `_` and `.`; writes every other byte as `%XX`. Injective,
/// so distinct names give distinct ids.
fn percent_encode_into(text: &str, out: &mut String) {
    use fmt::Write;
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.') {
            out.push(byte as char);
        } else {
            write!(out, "%{byte:02X}").expect("writing to a String cannot fail");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_disambiguated_ids() {
        let id = WeaponId::new(WeaponClass::LongSword, PageVariant::G, "l219C2", None);
        assert_eq!(id.as_str(), "long_sword:g:l219C2");
        let a = WeaponId::new(
            WeaponClass::SwitchAxeF,
            PageVariant::G,
            "l3C4D50",
            Some("Torag・Canso"),
        );
        let b = WeaponId::new(
            WeaponClass::SwitchAxeF,
            PageVariant::G,
            "l3C4D50",
            Some("Torag・Canso+"),
        );
        assert_eq!(a.as_str(), "switch_axe_f:g:l3C4D50:Torag%E3%83%BBCanso");
        assert_eq!(b.as_str(), "switch_axe_f:g:l3C4D50:Torag%E3%83%BBCanso%2B");
        assert!(!a.as_str().contains(char::is_whitespace));
        assert_eq!(
            WeaponId::site_row(a.as_str()),
            Some((WeaponClass::SwitchAxeF, PageVariant::G, "l3C4D50"))
        );
        assert_eq!(
            WeaponId::site_row(id.as_str()),
            Some((WeaponClass::LongSword, PageVariant::G, "l219C2"))
        );
        for bad in [
            "",
            "long_sword",
            "long_sword:g",
            "long_sword:g:",
            "lance:zz:l1",
            "x:g:l1",
        ] {
            assert_eq!(WeaponId::site_row(bad), None, "{bad:?}");
        }
    }
}
