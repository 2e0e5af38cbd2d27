//! One parser per kind of table cell. Each takes the cell element and returns typed values or a
//! [`CellError`] saying what was wrong; the row parser adds which column it was.

mod attack;
mod bow;
mod gunner;
mod materials;
mod name;
mod price;
mod rank;
mod rarity;
mod sharpness;
mod slots;

pub(crate) use attack::parse_attack;
pub(crate) use bow::{parse_charge_stages, parse_coatings};
pub(crate) use gunner::{parse_ammo, parse_reload_recoil_speed};
pub(crate) use materials::parse_materials;
pub(crate) use name::parse_name;
pub(crate) use price::parse_price;
pub(crate) use rank::parse_rank;
pub(crate) use rarity::parse_rarity;
pub(crate) use sharpness::parse_sharpness;
pub(crate) use slots::parse_slots;

use ego_tree::NodeRef;
use scraper::Node;

use super::{dom, text};

/// What was wrong with a cell's content.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub(crate) struct CellError(pub String);

impl CellError {
    pub(crate) fn new(message: impl Into<String>) -> CellError {
        CellError(message.into())
    }
}

/// Words the site writes where a number or a list is absent.
fn is_none_word(text: &str) -> bool {
    matches!(text.trim(), "" | "-" | "なし" | "None")
}

/// A plain non-negative integer; thousands separators allowed.
fn parse_count<T: std::str::FromStr>(text: &str) -> Option<T> {
    let text = text.trim();
    if text.is_empty() || !text.chars().all(|c| c.is_ascii_digit() || c == ',') {
        return None;
    }
    if text.contains(',') {
        text.replace(',', "").parse().ok()
    } else {
        text.parse().ok()
    }
}

/// Text of a cell child that is not one of the cell's values: a remark such as
/// `<q>Zenith Skill：...</q>` or `<small>Length：Long</small>`.
fn note_text(node: NodeRef<'_, Node>) -> Option<String> {
    let note = text::plain_lines([node]).join(" ");
    (!note.is_empty()).then_some(note)
}

#[cfg(test)]
pub(crate) mod test_support {
    use scraper::{ElementRef, Html};

    /// Parses `<td>` content and hands the cell to `check`.
    pub(crate) fn with_cell<R>(inner_html: &str, check: impl FnOnce(ElementRef<'_>) -> R) -> R {
        let document = Html::parse_document(&format!(
            "<table><tr><td id=\"cell\">{inner_html}</td></tr></table>"
        ));
        let cell = document
            .tree
            .nodes()
            .filter_map(ElementRef::wrap)
            .find(|e| e.value().id() == Some("cell"))
            .expect("test cell");
        check(cell)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_none_words() {
        assert_eq!(parse_count::<u64>("1,450"), Some(1450));
        assert_eq!(parse_count::<u64>("-5"), None);
        assert_eq!(parse_count::<u64>(""), None);
        assert!(is_none_word("なし") && is_none_word(" - ") && !is_none_word("Gacha"));
    }
}
