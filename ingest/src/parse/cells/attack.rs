//! The attack/attribute cell: `1248 0%` (or `768 <s>-10%</s>`), then one line per attribute
//! (`Fire 120`, `Defense +20`, `Thunder Pole 300`) and, on bows, the arc shot (`Wide`).

use mhfz_record::{Attribute, AttributeKind};
use scraper::ElementRef;

use super::{parse_count, text, CellError};

/// Bow arc shot types as the attribute cell writes them.
const ARC_SHOTS: [&str; 4] = ["Wide", "Narrow", "Slicing", "Bomb"];

#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct AttackCell {
    pub attack: u32,
    pub affinity: i32,
    pub attributes: Vec<Attribute>,
    pub arc_shot: Option<String>,
    pub unknown_lines: Vec<String>,
}

/// `is_bow` enables arc-shot lines; elsewhere such a line is kept as an unknown line.
pub(crate) fn parse_attack(cell: ElementRef<'_>, is_bow: bool) -> Result<AttackCell, CellError> {
    let lines = text::plain_lines(cell.children());
    let Some((first, rest)) = lines.split_first() else {
        return Err(CellError::new("empty attack cell"));
    };
    let (attack, affinity) = parse_attack_line(first)?;
    let mut parsed = AttackCell {
        attack,
        affinity,
        ..AttackCell::default()
    };
    for line in rest {
        if is_bow && parsed.arc_shot.is_none() && ARC_SHOTS.contains(&line.as_str()) {
            parsed.arc_shot = Some(line.clone());
        } else if let Some(attribute) = parse_attribute(line) {
            parsed.attributes.push(attribute);
        } else {
            parsed.unknown_lines.push(line.clone());
        }
    }
    Ok(parsed)
}

/// `1248 0%` → (1248, 0); `768 -10%` → (768, -10).
fn parse_attack_line(line: &str) -> Result<(u32, i32), CellError> {
    let bad = || CellError::new(format!("expected \"<attack> <affinity>%\", got {line:?}"));
    let mut words = line.split_whitespace();
    let (Some(attack), Some(affinity), None) = (words.next(), words.next(), words.next()) else {
        return Err(bad());
    };
    let attack = parse_count(attack).ok_or_else(bad)?;
    let affinity = affinity
        .strip_suffix('%')
        .and_then(parse_signed)
        .ok_or_else(bad)?;
    Ok((attack, affinity))
}

/// `Fire 120`, `Def -5`, `Thunder Pole 300`, `爆破 30`.
fn parse_attribute(line: &str) -> Option<Attribute> {
    let (label, value) = line.rsplit_once(char::is_whitespace)?;
    let label = label.trim();
    if label.is_empty() {
        return None;
    }
    Some(Attribute {
        kind: AttributeKind::from_label(label),
        value: parse_signed(value)?,
    })
}

/// `-10`, `+20`, `30`.
fn parse_signed(text: &str) -> Option<i32> {
    let text = text.trim();
    let (negative, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let value: i32 = parse_count(digits)?;
    Some(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::super::test_support::with_cell;
    use super::*;

    fn attack(html: &str, is_bow: bool) -> Result<AttackCell, CellError> {
        with_cell(html, |cell| parse_attack(cell, is_bow))
    }

    fn attr(kind: AttributeKind, value: i32) -> Attribute {
        Attribute { kind, value }
    }

    #[test]
    fn attack_affinity_and_element() {
        let cell = attack("1248 0%<br>Fire 120", false).unwrap();
        assert_eq!((cell.attack, cell.affinity), (1248, 0));
        assert_eq!(cell.attributes, [attr(AttributeKind::Fire, 120)]);
    }

    #[test]
    fn negative_affinity_is_struck_through() {
        let cell = attack("768 <s>-10%</s><br>Dragon 310", false).unwrap();
        assert_eq!((cell.attack, cell.affinity), (768, -10));
    }

    #[test]
    fn compound_status_and_defense() {
        let cell = attack(
            "2574 20%<br>Emperor's Roar 1050<br>Thunder Pole 300<br>Para 210<br>Defense +20<br>Def -5<br>爆破 30",
            false,
        )
        .unwrap();
        assert_eq!(
            cell.attributes,
            [
                attr(AttributeKind::EmperorsRoar, 1050),
                attr(AttributeKind::ThunderPole, 300),
                attr(AttributeKind::Paralysis, 210),
                attr(AttributeKind::Defense, 20),
                attr(AttributeKind::Defense, -5),
                attr(AttributeKind::Blast, 30),
            ]
        );
        assert!(cell.unknown_lines.is_empty());
    }

    #[test]
    fn unknown_lines_are_kept() {
        let cell = attack("500 5%<br>Frost Zero 40<br>Sharp!<br>Wide", false).unwrap();
        assert_eq!(
            cell.attributes,
            [attr(AttributeKind::Other("Frost Zero".into()), 40)]
        );
        assert_eq!(cell.unknown_lines, ["Sharp!", "Wide"]);
        assert_eq!(cell.arc_shot, None);
    }

    #[test]
    fn bow_arc_shot() {
        let cell = attack("180 0%<br>Dragon 100<br>Wide", true).unwrap();
        assert_eq!(cell.arc_shot.as_deref(), Some("Wide"));
        assert_eq!(cell.attributes, [attr(AttributeKind::Dragon, 100)]);
    }

    #[test]
    fn bad_first_line() {
        assert!(attack("", false).is_err());
        assert!(attack("1248", false).is_err());
        assert!(attack("abc 0%", false).is_err());
        assert!(attack("100 5", false).is_err());
    }
}
