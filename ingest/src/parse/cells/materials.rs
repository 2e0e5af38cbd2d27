//! A materials cell: one `<a href="../sozai/sozai.htm?19F3">Kut-Ku Bone</a>x3` per line,
//! alternative recipes separated by a line `or`; or a note instead (`Not Craftable`, `不明`).

use mhfz_record::{Material, Materials};
use scraper::ElementRef;

use super::text::{self, Line, Run};
use super::{parse_count, CellError};

pub(crate) fn parse_materials(cell: ElementRef<'_>) -> Result<Materials, CellError> {
    let mut materials = Materials::default();
    let mut recipe: Vec<Material> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    for line in text::lines(cell.children()) {
        let content = text::line_text(&line);
        let content = content.trim();
        if content.is_empty() {
            continue;
        }
        if content.eq_ignore_ascii_case("or") {
            if !recipe.is_empty() {
                materials.recipes.push(std::mem::take(&mut recipe));
            }
            continue;
        }
        match parse_material(&line)? {
            Some(material) => recipe.push(material),
            None => notes.push(content.to_string()),
        }
    }
    if !recipe.is_empty() {
        materials.recipes.push(recipe);
    }
    materials.note = (!notes.is_empty()).then(|| notes.join("\n"));
    Ok(materials)
}

/// A linked item followed by `xN`. `None` for a line without a link (a note); an error for a
/// link without a quantity.
fn parse_material(line: &Line<'_>) -> Result<Option<Material>, CellError> {
    let Some(link_start) = line.iter().position(|run| run.link.is_some()) else {
        return Ok(None);
    };
    let href = line[link_start].link.unwrap_or_default();
    let (item_runs, rest): (Vec<&Run<'_>>, Vec<&Run<'_>>) = line[link_start..]
        .iter()
        .partition(|run| run.link == Some(href));
    let item: String = item_runs.iter().map(|run| run.text).collect();
    let quantity_text: String = rest.iter().map(|run| run.text).collect();
    let leading: String = line[..link_start].iter().map(|run| run.text).collect();
    if !leading.trim().is_empty() {
        return Err(CellError::new(format!(
            "unexpected text {leading:?} before material {item:?}"
        )));
    }
    let quantity = quantity_text
        .trim()
        .strip_prefix(['x', 'X', '×'])
        .and_then(parse_count)
        .ok_or_else(|| {
            CellError::new(format!(
                "material {item:?}: expected a quantity like x3, got {quantity_text:?}"
            ))
        })?;
    let item_id = href
        .split_once('?')
        .map(|(_, id)| id.trim().to_string())
        .filter(|id| !id.is_empty());
    Ok(Some(Material {
        item: item.trim().to_string(),
        quantity,
        item_id,
    }))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::with_cell;
    use super::*;

    fn materials(html: &str) -> Result<Materials, CellError> {
        with_cell(html, parse_materials)
    }

    fn material(item: &str, quantity: u32, id: &str) -> Material {
        Material {
            item: item.into(),
            quantity,
            item_id: Some(id.into()),
        }
    }

    #[test]
    fn one_recipe() {
        let m = materials(
            r#"<a href="../sozai/sozai.htm?19F3" class="k">Kut-Ku Bone</a>x3<br><a href="../sozai/sozai.htm?19DB">Spiderwort</a>x1"#,
        )
        .unwrap();
        assert_eq!(
            m.recipes,
            [vec![
                material("Kut-Ku Bone", 3, "19F3"),
                material("Spiderwort", 1, "19DB")
            ]]
        );
        assert_eq!(m.note, None);
    }

    #[test]
    fn alternatives() {
        let m = materials(
            r#"<a href="s.htm?1">A</a>x1<br>or<br><a href="s.htm?2">B</a>x5<br><a href="s.htm?3">C</a>x2"#,
        )
        .unwrap();
        assert_eq!(
            m.recipes,
            [
                vec![material("A", 1, "1")],
                vec![material("B", 5, "2"), material("C", 2, "3")]
            ]
        );
    }

    #[test]
    fn notes_and_empty() {
        assert_eq!(materials("<br>").unwrap(), Materials::default());
        let note = |n: &str| Materials {
            recipes: vec![],
            note: Some(n.into()),
        };
        assert_eq!(materials("Not Craftable").unwrap(), note("Not Craftable"));
        assert_eq!(materials("不明").unwrap(), note("不明"));
        assert_eq!(
            materials("コネクト！オン<br>2012年3月号特典").unwrap(),
            note("コネクト！オン\n2012年3月号特典")
        );
    }

    #[test]
    fn link_without_quantity_is_an_error() {
        assert!(materials(r#"<a href="s.htm?1">A</a>"#).is_err());
        assert!(materials(r#"<a href="s.htm?1">A</a>x"#).is_err());
    }
}
