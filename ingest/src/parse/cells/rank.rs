//! The rank cell: `HR<br>22`, `GR<br>1`, `SR<br>5`, `GSR<br>1`, `HR<br>`; `-` or empty for none.

use mhfz_record::{HunterRank, RankRequirement};
use scraper::ElementRef;

use super::{is_none_word, parse_count, text, CellError};

pub(crate) fn parse_rank(cell: ElementRef<'_>) -> Result<Option<RankRequirement>, CellError> {
    let lines = text::plain_lines(cell.children());
    let (label, level) = match lines.as_slice() {
        [] => return Ok(None),
        [only] if is_none_word(only) => return Ok(None),
        [label] => (label, None),
        [label, level] => (label, Some(level)),
        _ => return Err(CellError::new(format!("unexpected rank lines {lines:?}"))),
    };
    let rank = HunterRank::from_label(label)
        .ok_or_else(|| CellError::new(format!("unknown rank kind {label:?}")))?;
    let level = match level {
        Some(level) => Some(
            parse_count(level)
                .ok_or_else(|| CellError::new(format!("bad rank level {level:?}")))?,
        ),
        None => None,
    };
    Ok(Some(RankRequirement { rank, level }))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::with_cell;
    use super::*;

    fn rank(html: &str) -> Result<Option<RankRequirement>, CellError> {
        with_cell(html, parse_rank)
    }

    #[test]
    fn kinds_levels_and_none() {
        let req = |rank, level| Ok(Some(RankRequirement { rank, level }));
        assert_eq!(rank("HR<br>22"), req(HunterRank::Hr, Some(22)));
        assert_eq!(rank("GR<br>1"), req(HunterRank::Gr, Some(1)));
        assert_eq!(rank("SR<br>5"), req(HunterRank::Sr, Some(5)));
        assert_eq!(rank("GSR<br>1"), req(HunterRank::Gsr, Some(1)));
        assert_eq!(rank("HR<br>"), req(HunterRank::Hr, None));
        assert_eq!(rank("<br>"), Ok(None));
        assert_eq!(rank("-"), Ok(None));
        assert!(rank("XR<br>1").is_err());
        assert!(rank("HR<br>one").is_err());
    }
}
