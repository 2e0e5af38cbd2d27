//! Locating the weapon table of a page and splitting it into header labels and data rows.

use scraper::{ElementRef, Html};

use super::columns::{normalise, NAME_HEADER, TOWER_NAME_HEADER};
use super::{dom, text};

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
    /// The rows after the header, in page order ([`Row::new`] keeps the data rows).
    pub rows: Vec<ElementRef<'a>>,
}

/// A data row with its cells laid out on the header's grid: a cell spanning `n` columns is
/// followed by `n - 1` empty positions.
pub(crate) struct Row<'a> {
    pub element: ElementRef<'a>,
    pub cells: Vec<Option<ElementRef<'a>>>,
}

impl<'a> Row<'a> {
    /// `None` for a row without `<td>` cells (not a data row).
    pub(crate) fn new(element: ElementRef<'a>) -> Option<Row<'a>> {
        let mut cells = Vec::new();
        let mut has_td = false;
        for cell in cells_of(element) {
            has_td |= cell.value().name() == "td";
            cells.push(Some(cell));
            cells.resize(cells.len() + span(cell, "colspan") - 1, None);
        }
        has_td.then_some(Row { element, cells })
    }

    /// The `id` of the cell at `position` (the name cell), e.g. `l219C2`.
    pub(crate) fn id_at(&self, position: usize) -> Option<&'a str> {
        let id = self.cells.get(position).copied().flatten()?.value().id()?;
        let id = id.trim();
        (!id.is_empty()).then_some(id)
    }

    /// Rows the site shows only when a weapon is expanded (`style="display:none"`).
    pub(crate) fn is_hidden(&self) -> bool {
        dom::attr(self.element.value(), "style").is_some_and(|style| {
            style.split(';').any(|declaration| {
                declaration
                    .split_once(':')
                    .is_some_and(|(property, value)| {
                        property.trim().eq_ignore_ascii_case("display")
                            && value.trim().eq_ignore_ascii_case("none")
                    })
            })
        })
    }
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
        let mut rows = rows_of(table).peekable();
        // Header rows: `<th>` cells only, before the first data row.
        let mut header_rows = Vec::new();
        while let Some(row) = rows.next_if(|row| !cells_of(*row).any(|c| c.value().name() == "td"))
        {
            header_rows.push(row);
        }
        let header_labels = header_labels(&header_rows);
        match header_labels.first().map(|label| normalise(label)) {
            Some(first) if first == NAME_HEADER => {
                return TableSearch::Weapon(WeaponTable {
                    header_labels,
                    rows: rows.collect(),
                });
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
    dom::attr(cell.value(), attribute)
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
