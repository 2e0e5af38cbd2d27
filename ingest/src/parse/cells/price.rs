//! The price cell: `1450`, `1740<hr>なし`, `2750<hr>870<br>Festival`, `525<br>Gacha`, `なし`.
//! Above the rule: creation price; below it: upgrade price; other lines: how it is obtained.

use scraper::{ElementRef, Node};

use super::{is_none_word, parse_count, text, CellError};

#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct PriceCell {
    pub price: Option<u64>,
    pub upgrade_price: Option<u64>,
    /// Note lines joined by `\n`.
    pub note: Option<String>,
}

pub(crate) fn parse_price(cell: ElementRef<'_>) -> Result<PriceCell, CellError> {
    let mut parts: Vec<Vec<_>> = vec![Vec::new()];
    for child in cell.children() {
        match child.value() {
            Node::Element(element) if element.name() == "hr" => parts.push(Vec::new()),
            _ => parts.last_mut().expect("one part at least").push(child),
        }
    }
    if parts.len() > 2 {
        return Err(CellError::new(format!(
            "expected at most one <hr>, found {}",
            parts.len() - 1
        )));
    }
    let mut parsed = PriceCell::default();
    let mut notes: Vec<String> = Vec::new();
    for (index, part) in parts.into_iter().enumerate() {
        let mut lines = text::plain_lines(part).into_iter().peekable();
        let amount = lines.peek().and_then(|line| parse_count::<u64>(line));
        if amount.is_some() {
            lines.next();
        } else if index > 0 && lines.peek().is_some_and(|line| is_none_word(line)) {
            // `<hr>なし`: no upgrade price, nothing to note.
            lines.next();
        }
        match index {
            0 => parsed.price = amount,
            _ => parsed.upgrade_price = amount,
        }
        notes.extend(lines);
    }
    parsed.note = (!notes.is_empty()).then(|| notes.join("\n"));
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::with_cell;
    use super::*;

    fn price(html: &str) -> PriceCell {
        with_cell(html, parse_price).unwrap()
    }

    fn cell(price: Option<u64>, upgrade: Option<u64>, note: Option<&str>) -> PriceCell {
        PriceCell {
            price,
            upgrade_price: upgrade,
            note: note.map(str::to_string),
        }
    }

    #[test]
    fn forms_seen_on_the_site() {
        assert_eq!(price("1450"), cell(Some(1450), None, None));
        assert_eq!(price("1740<hr>なし"), cell(Some(1740), None, None));
        assert_eq!(price("2750<hr>870"), cell(Some(2750), Some(870), None));
        assert_eq!(price("525<br>Gacha"), cell(Some(525), None, Some("Gacha")));
        assert_eq!(
            price("2750<hr>870<br>Festival"),
            cell(Some(2750), Some(870), Some("Festival"))
        );
        assert_eq!(
            price("10000<hr>None<br>イベント<br>Diva Battle"),
            cell(Some(10000), None, Some("イベント\nDiva Battle"))
        );
        assert_eq!(price("<br>"), cell(None, None, None));
        assert_eq!(price("なし"), cell(None, None, Some("なし")));
    }

    #[test]
    fn two_rules_are_an_error() {
        assert!(with_cell("1<hr>2<hr>3", parse_price).is_err());
    }
}
