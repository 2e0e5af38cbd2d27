//! The sharpness cell: two `<ul>` bars of `<li class="r s20">` segments (colour letter, width
//! after `s`), then remarks such as `<small>Length：Long</small>` or `<q>Zenith Skill：...</q>`.

use mhfz_record::{Sharpness, SharpnessColour, SharpnessSegment};
use scraper::ElementRef;

use super::{dom, note_text, CellError};

/// Sharpness (if the cell has bars) and the remarks after the bars.
pub(crate) fn parse_sharpness(
    cell: ElementRef<'_>,
) -> Result<(Option<Sharpness>, Vec<String>), CellError> {
    let mut bars = Vec::new();
    let mut notes = Vec::new();
    for child in cell.children() {
        match ElementRef::wrap(child) {
            Some(element) if element.value().name() == "ul" => bars.push(parse_bar(element)?),
            _ => notes.extend(note_text(child)),
        }
    }
    let sharpness = match <[_; 2]>::try_from(bars) {
        Ok([base, max]) => Some(Sharpness { base, max }),
        Err(bars) if bars.is_empty() => None,
        Err(bars) => {
            return Err(CellError::new(format!(
                "expected 2 sharpness bars, found {}",
                bars.len()
            )))
        }
    };
    Ok((sharpness, notes))
}

fn parse_bar(ul: ElementRef<'_>) -> Result<Vec<SharpnessSegment>, CellError> {
    ul.descendent_elements()
        .filter(|element| element.value().name() == "li")
        .map(|li| parse_segment(dom::attr(li.value(), "class").unwrap_or_default()))
        .collect()
}

/// `r s20` → red, 20. The letter `s` is both a colour (sky) and the width prefix.
fn parse_segment(class: &str) -> Result<SharpnessSegment, CellError> {
    let bad = || CellError::new(format!("bad sharpness segment class {class:?}"));
    let mut words = class.split_whitespace();
    let (Some(letter), Some(width), None) = (words.next(), words.next(), words.next()) else {
        return Err(bad());
    };
    let colour = SharpnessColour::from_class_letter(letter).ok_or_else(bad)?;
    let width = width
        .strip_prefix('s')
        .and_then(|digits| digits.parse().ok())
        .ok_or_else(bad)?;
    Ok(SharpnessSegment { colour, width })
}

#[cfg(test)]
mod tests {
    use super::super::test_support::with_cell;
    use super::*;

    fn seg(colour: SharpnessColour, width: u16) -> SharpnessSegment {
        SharpnessSegment { colour, width }
    }

    #[test]
    fn two_bars_with_unclosed_li_and_notes() {
        let (sharpness, notes) = with_cell(
            r#"<ul title="009300"><li class="r s2"><li class="o s20"></li></ul><ul><li class="r s2"><li class="s s13"></li></ul><small>Length：Long</small><q>Zenith Skill：Skill Slots Up+1</q>"#,
            parse_sharpness,
        )
        .unwrap();
        let sharpness = sharpness.unwrap();
        assert_eq!(
            sharpness.base,
            [
                seg(SharpnessColour::Red, 2),
                seg(SharpnessColour::Orange, 20)
            ]
        );
        assert_eq!(
            sharpness.max,
            [seg(SharpnessColour::Red, 2), seg(SharpnessColour::Sky, 13)]
        );
        assert_eq!(notes, ["Length：Long", "Zenith Skill：Skill Slots Up+1"]);
    }

    #[test]
    fn no_bars_and_bad_bars() {
        assert_eq!(with_cell("<br>", parse_sharpness), Ok((None, vec![])));
        assert!(with_cell(r#"<ul><li class="r s2"></ul>"#, parse_sharpness).is_err());
        assert!(with_cell(r#"<ul><li class="x s2"></ul><ul></ul>"#, parse_sharpness).is_err());
        assert!(with_cell(r#"<ul><li class="r 2"></ul><ul></ul>"#, parse_sharpness).is_err());
    }
}
