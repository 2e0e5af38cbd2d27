//! Locating the weapon table of a page and splitting it into header labels and data rows.

use scraper::{ElementRef, Html};

use super::columns::{normalise, NAME_HEADER, TOWER_NAME_HEADER};
use super::text;

/// Upper bound for `colspan`/`rowspan`, so that a hostile page cannot make the header grid huge.
const MAX_SPAN: usize = 64;

/// What a page holds.
pub(crate) enum TableSearch<'a> {
    Weapon(WeaponTable<'a>),
    /// Only a tower table (Japanese headers).
    Tower,
    Nothing,
}

pub(crate) struct WeaponTable<'a> {
    /// One label per data column; header cell lines joined by `\n`.
    pub header_labels: Vec<String>,
    /// Rows with at least one `<td>`, in page order.
    pub rows: Vec<ElementRef<'a>>,
}

/// Finds the first table whose first header is `Name`. Tables are recognised by their header
/// rather than their id, which differs by class (`ken`, `gun`, `yumi`).
pub(crate) fn find(document: &Html) -> TableSearch<'_> {
    let mut tower = false;
    let tables = document
        .tree
        .nodes()
        .filter_map(ElementRef::wrap)
        .filter(|element| element.value().name() == "table");
    for table in tables {
        let (header_rows, rows) = split_rows(table);
        let header_labels = header_labels(&header_rows);
        match header_labels.first().map(|label| normalise(label)) {
            Some(first) if first == NAME_HEADER => {
                return TableSearch::Weapon(WeaponTable {
                    header_labels,
                    rows,
                })
            }
            Some(first) if first == TOWER_NAME_HEADER => tower = true,
            _ => {}
        }
    }
    if tower {
        TableSearch::Tower
    } else {
        TableSearch::Nothing
    }
}

/// The cells of a row, one entry per grid column: a cell spanning `n` columns is followed by
/// `n - 1` empty positions.
pub(crate) fn row_cells<'a>(row: ElementRef<'a>) -> Vec<Option<ElementRef<'a>>> {
    let mut cells = Vec::new();
    for cell in cells_of(row) {
        cells.push(Some(cell));
        cells.resize(cells.len() + span(cell, "colspan") - 1, None);
    }
    cells
}

/// Header rows (only `<th>` cells, before the first data row) and data rows (any `<td>`).
fn split_rows(table: ElementRef<'_>) -> (Vec<ElementRef<'_>>, Vec<ElementRef<'_>>) {
    let mut header = Vec::new();
    let mut data = Vec::new();
    for row in rows_of(table) {
        let mut has_th = false;
        let mut has_td = false;
        for cell in cells_of(row) {
            match cell.value().name() {
                "td" => has_td = true,
                _ => has_th = true,
            }
        }
        if has_td {
            data.push(row);
        } else if has_th && data.is_empty() {
            header.push(row);
        }
    }
    (header, data)
}

/// Rows directly in the table or in its `thead`/`tbody`/`tfoot` (not in nested tables).
fn rows_of(table: ElementRef<'_>) -> impl Iterator<Item = ElementRef<'_>> {
    table.child_elements().flat_map(|child| {
        let rows: Vec<ElementRef<'_>> = match child.value().name() {
            "tr" => vec![child],
            "thead" | "tbody" | "tfoot" => child
                .child_elements()
                .filter(|row| row.value().name() == "tr")
                .collect(),
            _ => Vec::new(),
        };
        rows
    })
}

fn cells_of(row: ElementRef<'_>) -> impl Iterator<Item = ElementRef<'_>> {
    row.child_elements()
        .filter(|cell| matches!(cell.value().name(), "td" | "th"))
}

fn span(cell: ElementRef<'_>, attribute: &str) -> usize {
    cell.value()
        .attr(attribute)
        .and_then(|value| value.trim().parse::<usize>().ok())
        .unwrap_or(1)
        .clamp(1, MAX_SPAN)
}

/// One label per grid column: the lowest header cell covering it, so that a two-row header
/// (a spanning group label over sub-labels) maps to the sub-labels.
fn header_labels(rows: &[ElementRef<'_>]) -> Vec<String> {
    let mut grid: Vec<Vec<Option<String>>> = vec![Vec::new(); rows.len()];
    for (r, row) in rows.iter().enumerate() {
        let mut col = 0;
        for cell in cells_of(*row) {
            while grid[r].get(col).is_some_and(Option::is_some) {
                col += 1;
            }
            let label = text::lines(cell.children())
                .iter()
                .map(|line| text::line_text(line))
                .collect::<Vec<_>>()
                .join("\n");
            let colspan = span(cell, "colspan");
            let last_row = (r + span(cell, "rowspan")).min(rows.len());
            for grid_row in &mut grid[r..last_row] {
                if grid_row.len() < col + colspan {
                    grid_row.resize(col + colspan, None);
                }
                for slot in &mut grid_row[col..col + colspan] {
                    *slot = Some(label.clone());
                }
            }
            col += colspan;
        }
    }
    let width = grid.iter().map(Vec::len).max().unwrap_or(0);
    (0..width)
        .map(|col| {
            grid.iter()
                .rev()
                .find_map(|row| row.get(col).cloned().flatten())
                .unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(html: &str) -> Vec<String> {
        let document = Html::parse_document(html);
        match find(&document) {
            TableSearch::Weapon(table) => table.header_labels,
            _ => panic!("no weapon table"),
        }
    }

    #[test]
    fn two_row_header_uses_sub_labels() {
        let html = r#"<table><thead>
            <tr><th rowspan="2">Name</th><th colspan="3">Gun</th><th rowspan=2>Ammo</th></tr>
            <tr><th>Reload</th><th>Recoil</th><th>Bullet Speed</th></tr></thead>
            <tbody><tr><td id="l1">x</td></tr></tbody></table>"#;
        assert_eq!(
            labels(html),
            ["Name", "Reload", "Recoil", "Bullet Speed", "Ammo"]
        );
    }

    #[test]
    fn tower_and_missing_tables() {
        let tower = Html::parse_document("<table><tr><th>名称</th><th>回数</th></tr></table>");
        assert!(matches!(find(&tower), TableSearch::Tower));
        let none = Html::parse_document("<p>nothing</p><table><tr><td>1</td></tr></table>");
        assert!(matches!(find(&none), TableSearch::Nothing));
    }
}
