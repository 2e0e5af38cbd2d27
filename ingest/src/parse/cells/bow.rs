//! Bow cells: charge stages `1:SprLV1<br>2:SprLV2<br>3:SprLV3<i>4:RpdLV3</i>` (the italic stage
//! needs a skill; it follows without a line break) and coatings, one per line.

use mhfz_record::ChargeStage;
use scraper::ElementRef;

use super::text::{self, Run};
use super::{note_text, parse_count, CellError};

/// Charge stages, and remarks after them (`<q>Zenith Skill：...</q>`).
pub(crate) fn parse_charge_stages(
    cell: ElementRef<'_>,
) -> Result<(Vec<ChargeStage>, Vec<String>), CellError> {
    let mut stage_nodes = Vec::new();
    let mut notes = Vec::new();
    for child in cell.children() {
        match ElementRef::wrap(child).map(|element| element.value().name()) {
            Some("q" | "small") => notes.extend(note_text(child)),
            _ => stage_nodes.push(child),
        }
    }
    let mut stages = Vec::new();
    for line in text::lines(stage_nodes) {
        // A change between upright and italic text starts a new stage.
        for segment in line.chunk_by(|a: &Run<'_>, b: &Run<'_>| a.italic == b.italic) {
            let content = text::line_text(segment);
            if !content.trim().is_empty() {
                stages.push(parse_stage(content.trim(), segment[0].italic)?);
            }
        }
    }
    Ok((stages, notes))
}

/// `3:SprLV3`.
fn parse_stage(content: &str, italic: bool) -> Result<ChargeStage, CellError> {
    let bad = || {
        CellError::new(format!(
            "expected a charge stage like 1:SprLV1, got {content:?}"
        ))
    };
    let (stage, shot) = content.split_once([':', '：']).ok_or_else(bad)?;
    let stage = parse_count(stage).ok_or_else(bad)?;
    let shot = shot.trim();
    if shot.is_empty() {
        return Err(bad());
    }
    Ok(ChargeStage {
        stage,
        shot: shot.to_string(),
        italic,
    })
}

/// Coating names, one per line.
pub(crate) fn parse_coatings(cell: ElementRef<'_>) -> Vec<String> {
    text::plain_lines(cell.children())
}

#[cfg(test)]
mod tests {
    use super::super::test_support::with_cell;
    use super::*;

    fn stage(stage: u8, shot: &str, italic: bool) -> ChargeStage {
        ChargeStage {
            stage,
            shot: shot.into(),
            italic,
        }
    }

    #[test]
    fn stages_with_italic_fourth_and_note() {
        let (stages, notes) = with_cell(
            "1:SprLV1<br>2:SprLV2<br>3:SprLV3<i>4:RpdLV3</i><q>Zenith Skill：Skill Slots Up+1</q>",
            parse_charge_stages,
        )
        .unwrap();
        assert_eq!(
            stages,
            [
                stage(1, "SprLV1", false),
                stage(2, "SprLV2", false),
                stage(3, "SprLV3", false),
                stage(4, "RpdLV3", true)
            ]
        );
        assert_eq!(notes, ["Zenith Skill：Skill Slots Up+1"]);
    }

    #[test]
    fn bad_stage() {
        assert!(with_cell("SprLV1", parse_charge_stages).is_err());
        assert!(with_cell("x:SprLV1", parse_charge_stages).is_err());
    }

    #[test]
    fn coatings() {
        assert_eq!(
            with_cell("Power Coating<br>Poison Up＋３<br>", parse_coatings),
            ["Power Coating", "Poison Up＋３"]
        );
        assert!(with_cell("<br>", parse_coatings).is_empty());
    }
}
