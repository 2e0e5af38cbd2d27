//! The slots cell: `2`, possibly followed by remarks.

use scraper::ElementRef;

use super::{parse_count, text, CellError};

/// Slot count and any remark lines after it.
pub(crate) fn parse_slots(cell: ElementRef<'_>) -> Result<(u8, Vec<String>), CellError> {
    let mut lines = text::plain_lines(cell.children()).into_iter();
    let first = lines.next().unwrap_or_default();
    let digits_end = first
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(first.len());
    let slots = parse_count(&first[..digits_end])
        .ok_or_else(|| CellError::new(format!("bad slot count {first:?}")))?;
    let mut notes: Vec<String> = Vec::new();
    let rest = first[digits_end..].trim();
    if !rest.is_empty() {
        notes.push(rest.to_string());
    }
    notes.extend(lines);
    Ok((slots, notes))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::with_cell;
    use super::*;

    #[test]
    fn count_and_notes() {
        assert_eq!(with_cell("2", parse_slots), Ok((2, vec![])));
        assert_eq!(with_cell("3<br>", parse_slots), Ok((3, vec![])));
        assert_eq!(
            with_cell("1 (+1)<br>Zenith", parse_slots),
            Ok((1, vec!["(+1)".to_string(), "Zenith".to_string()]))
        );
        assert!(with_cell("", parse_slots).is_err());
        assert!(with_cell("x", parse_slots).is_err());
    }
}
