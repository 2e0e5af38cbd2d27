//! The name cell: `Name<b>Lv2</b>`, upgrade-tree links in a `<div>`, notes in `<p>`.

use mhfz_record::TreeLink;
use scraper::{ElementRef, Node};

use super::{dom, text, CellError};

#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct NameCell {
    pub name: String,
    pub level: Option<u32>,
    pub notes: Vec<String>,
    pub upgrade_from: Vec<TreeLink>,
    pub upgrade_to: Vec<TreeLink>,
}

/// Arrows of tree links: `Name←` (upgraded from), `→Name` (upgrades into).
const FROM_ARROW: char = '←';
const TO_ARROW: char = '→';

pub(crate) fn parse_name(cell: ElementRef<'_>) -> Result<NameCell, CellError> {
    let mut parsed = NameCell::default();
    let mut name = String::new();
    for child in cell.children() {
        match child.value() {
            Node::Text(text) => name.push_str(text),
            Node::Element(_) => {
                let element = ElementRef::wrap(child).expect("element node");
                match element.value().name() {
                    "b" => {
                        let label = text::plain_lines(element.children()).join(" ");
                        match parse_level(&label) {
                            Some(level) if parsed.level.is_none() => parsed.level = Some(level),
                            _ => push_note(&mut parsed.notes, label),
                        }
                    }
                    "div" => parse_tree(element, &mut parsed)?,
                    _ => push_note(&mut parsed.notes, text::joined_text([child])),
                }
            }
            _ => {}
        }
    }
    parsed.name = name.trim().to_string();
    Ok(parsed)
}

/// `Lv12` → 12.
fn parse_level(label: &str) -> Option<u32> {
    let digits = label
        .trim()
        .strip_prefix("Lv")
        .or_else(|| label.trim().strip_prefix("LV"))?;
    digits.parse().ok()
}

fn push_note(notes: &mut Vec<String>, note: String) {
    let note = note.trim();
    if !note.is_empty() {
        notes.push(note.to_string());
    }
}

/// The upgrade-tree `<div>`: one `<a>` per neighbour, direction given by the arrow.
fn parse_tree(div: ElementRef<'_>, parsed: &mut NameCell) -> Result<(), CellError> {
    for child in div.children() {
        let Some(element) = ElementRef::wrap(child) else {
            if let Node::Text(text) = child.value() {
                push_note(&mut parsed.notes, text.to_string());
            }
            continue;
        };
        if element.value().name() != "a" {
            push_note(&mut parsed.notes, text::joined_text([child]));
            continue;
        }
        let label = text::joined_text([child]);
        // U+3000 (ideographic space) pads the "from" links; `trim` strips it.
        let label = label.trim();
        let href = dom::attr(element.value(), "href").unwrap_or_default();
        if let Some(from) = label.strip_suffix(FROM_ARROW) {
            parsed.upgrade_from.push(tree_link(from, href)?);
        } else if let Some(to) = label.strip_prefix(TO_ARROW) {
            parsed.upgrade_to.push(tree_link(to, href)?);
        } else {
            return Err(CellError::new(format!(
                "upgrade-tree link {label:?} has neither {FROM_ARROW} nor {TO_ARROW}"
            )));
        }
    }
    Ok(())
}

/// `#l000F` or `taiken.htm#l0002`.
fn tree_link(name: &str, href: &str) -> Result<TreeLink, CellError> {
    let (page, row_id) = href.split_once('#').ok_or_else(|| {
        CellError::new(format!(
            "upgrade-tree link {name:?} has no #row in {href:?}"
        ))
    })?;
    if row_id.is_empty() {
        return Err(CellError::new(format!(
            "upgrade-tree link {name:?} has an empty row id in {href:?}"
        )));
    }
    let page = page.trim();
    Ok(TreeLink {
        name: name.trim().to_string(),
        page: (!page.is_empty()).then(|| page.to_string()),
        site_row_id: row_id.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_support::with_cell;
    use super::*;

    fn name(html: &str) -> Result<NameCell, CellError> {
        with_cell(html, parse_name)
    }

    #[test]
    fn level_suffix() {
        let cell = name("Ephemerality Nodachi<b>Lv2</b>").unwrap();
        assert_eq!(cell.name, "Ephemerality Nodachi");
        assert_eq!(cell.level, Some(2));
        assert!(cell.notes.is_empty());
    }

    #[test]
    fn tree_links_and_notes() {
        let cell = name(
            "Hellish Slasher<div><a href=\"#l000F\">\u{3000}Bone Katana \"Dragon\"←</a>\
             <a href=\"taiken.htm#l00D1\">→Divine Slasher</a></div><p>RNG Cat Weapon</p>",
        )
        .unwrap();
        assert_eq!(cell.name, "Hellish Slasher");
        assert_eq!(
            cell.upgrade_from,
            [TreeLink {
                name: "Bone Katana \"Dragon\"".into(),
                page: None,
                site_row_id: "l000F".into()
            }]
        );
        assert_eq!(
            cell.upgrade_to,
            [TreeLink {
                name: "Divine Slasher".into(),
                page: Some("taiken.htm".into()),
                site_row_id: "l00D1".into()
            }]
        );
        assert_eq!(cell.notes, ["RNG Cat Weapon"]);
        assert_eq!(cell.level, None);
    }

    #[test]
    fn empty_tree_and_odd_bold() {
        let cell = name("Apophis<div></div><b>Lv100</b>").unwrap();
        assert_eq!((cell.name.as_str(), cell.level), ("Apophis", Some(100)));
        let cell = name("Blade<b>New!</b>").unwrap();
        assert_eq!(cell.notes, ["New!"]);
    }

    #[test]
    fn link_without_arrow_is_an_error() {
        let err = name("X<div><a href=\"#l1\">Y</a></div>").unwrap_err();
        assert!(err.0.contains("neither"), "{err}");
        assert!(name("X<div><a href=\"page.htm\">→Y</a></div>").is_err());
    }
}
