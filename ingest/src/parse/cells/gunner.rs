//! Bowgun cells: `Slow<br>Medium<br>Fast` (reload, recoil, bullet speed) and the ammo table
//! `<ul><li>Norm ：6/6/<u>9</u><br>Pierc：3/<u>3</u>/<u>3</u>...</ul>` (full-width colon).

use mhfz_record::{Ammo, AmmoLevel};
use scraper::ElementRef;

use super::text::{self, Run};
use super::{note_text, parse_count, CellError};

/// The three lines of the combined reload/recoil/bullet-speed cell.
pub(crate) fn parse_reload_recoil_speed(
    cell: ElementRef<'_>,
) -> Result<(String, String, String), CellError> {
    match <[String; 3]>::try_from(text::plain_lines(cell.children())) {
        Ok([reload, recoil, speed]) => Ok((reload, recoil, speed)),
        Err(lines) => Err(CellError::new(format!(
            "expected reload, recoil and bullet speed lines, got {lines:?}"
        ))),
    }
}

/// The ammo list, and remarks after it (`<i>Rapid Fire：...</i>`, `<q>Zenith Skill：...</q>`).
pub(crate) fn parse_ammo(cell: ElementRef<'_>) -> Result<(Vec<Ammo>, Vec<String>), CellError> {
    let mut ammo = Vec::new();
    let mut notes = Vec::new();
    for child in cell.children() {
        match ElementRef::wrap(child) {
            Some(ul) if ul.value().name() == "ul" => {
                for line in text::lines(ul.children()) {
                    if !text::line_text(&line).trim().is_empty() {
                        ammo.push(parse_ammo_line(&line)?);
                    }
                }
            }
            _ => notes.extend(note_text(child)),
        }
    }
    Ok((ammo, notes))
}

/// `Norm ：6/6/<u>9</u>` → Norm, [6, 6, 9 underlined].
fn parse_ammo_line(line: &[Run<'_>]) -> Result<Ammo, CellError> {
    let mut name = String::new();
    let mut after_colon = false;
    let mut levels = Vec::new();
    let mut level = String::new();
    let mut underlined = false;
    for run in line {
        for ch in run.text.chars() {
            if !after_colon {
                match ch {
                    '：' | ':' => after_colon = true,
                    _ => name.push(ch),
                }
            } else if ch == '/' {
                levels.push(parse_level(&level, underlined, line)?);
                level.clear();
                underlined = false;
            } else {
                level.push(ch);
                underlined |= run.underlined && !ch.is_whitespace();
            }
        }
    }
    let name = name.trim();
    if !after_colon || name.is_empty() {
        return Err(CellError::new(format!(
            "expected \"<ammo>：<capacity>/...\", got {:?}",
            text::line_text(line)
        )));
    }
    levels.push(parse_level(&level, underlined, line)?);
    Ok(Ammo {
        name: name.to_string(),
        levels,
    })
}

fn parse_level(text: &str, underlined: bool, line: &[Run<'_>]) -> Result<AmmoLevel, CellError> {
    let capacity = match text.trim() {
        "-" => None,
        number => Some(parse_count(number).ok_or_else(|| {
            CellError::new(format!(
                "bad ammo capacity {number:?} in {:?}",
                text::line_text(line)
            ))
        })?),
    };
    Ok(AmmoLevel {
        capacity,
        underlined,
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_support::with_cell;
    use super::*;

    fn level(capacity: Option<u16>, underlined: bool) -> AmmoLevel {
        AmmoLevel {
            capacity,
            underlined,
        }
    }

    #[test]
    fn reload_recoil_speed() {
        assert_eq!(
            with_cell(
                "Very Fast<br>Smaller<br>Very Slow",
                parse_reload_recoil_speed
            ),
            Ok(("Very Fast".into(), "Smaller".into(), "Very Slow".into()))
        );
        assert!(with_cell("Fast<br>Small", parse_reload_recoil_speed).is_err());
    }

    #[test]
    fn ammo_table_with_unclosed_li_and_notes() {
        let (ammo, notes) = with_cell(
            "<ul><li>Norm ：6/6/<u>9</u><br>Pierc：3/<u>3</u>/<u>3</u><li>Recov：3/-<br>Psn  ：-/-<li>Flame：3</li></ul><i>Rapid Fire：LV1Normal S</i><q>Zenith Skill：Skill Slots Up+1</q>",
            parse_ammo,
        )
        .unwrap();
        let names: Vec<&str> = ammo.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["Norm", "Pierc", "Recov", "Psn", "Flame"]);
        assert_eq!(
            ammo[0].levels,
            [
                level(Some(6), false),
                level(Some(6), false),
                level(Some(9), true)
            ]
        );
        assert_eq!(ammo[2].levels, [level(Some(3), false), level(None, false)]);
        assert_eq!(ammo[4].levels, [level(Some(3), false)]);
        assert_eq!(
            notes,
            ["Rapid Fire：LV1Normal S", "Zenith Skill：Skill Slots Up+1"]
        );
    }

    #[test]
    fn bad_ammo_lines() {
        assert!(with_cell("<ul><li>Norm 6/6</ul>", parse_ammo).is_err());
        assert!(with_cell("<ul><li>Norm：6/x</ul>", parse_ammo).is_err());
    }
}
