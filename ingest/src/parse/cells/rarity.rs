//! The rarity cell: `3`, or `12<b>GR</b>1` (rarity 12, G-rank requirement 1).

use scraper::ElementRef;

use super::{parse_count, text, CellError};

/// Rarity and G-rank requirement.
pub(crate) fn parse_rarity(cell: ElementRef<'_>) -> Result<(u8, Option<u32>), CellError> {
    let content: String = text::plain_lines(cell.children()).concat();
    let (rarity, gr) = match content.split_once("GR") {
        Some((rarity, gr)) => {
            let gr = parse_count(gr)
                .ok_or_else(|| CellError::new(format!("bad G-rank requirement in {content:?}")))?;
            (rarity, Some(gr))
        }
        None => (content.as_str(), None),
    };
    let rarity =
        parse_count(rarity).ok_or_else(|| CellError::new(format!("bad rarity {content:?}")))?;
    Ok((rarity, gr))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::with_cell;
    use super::*;

    #[test]
    fn plain_and_g_rank() {
        assert_eq!(with_cell("3", parse_rarity), Ok((3, None)));
        assert_eq!(with_cell("12<b>GR</b>1", parse_rarity), Ok((12, Some(1))));
        assert!(with_cell("", parse_rarity).is_err());
        assert!(with_cell("12<b>GR</b>", parse_rarity).is_err());
        assert!(with_cell("999", parse_rarity).is_err());
    }
}
