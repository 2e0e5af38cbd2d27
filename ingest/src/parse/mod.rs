//! HTML → weapon records. Pure functions over page bytes: no I/O here.
//!
//! [`parse_page`] finds the weapon table by its header, maps columns by header text (classes
//! and variants name and order them differently), and parses every data row — hidden level rows
//! included — into a [`WeaponRecord`]. A row that does not parse becomes a [`RejectedRow`] and
//! the rest of the page is still used.

mod cells;
mod columns;
mod index;
mod row;
mod table;
mod text;

use std::collections::{HashMap, HashSet};

use mhfz_record::{PageVariant, WeaponClass, WeaponRecord};
use scraper::Html;

use columns::{ColumnMap, HeaderError};
use row::{Row, RowError};
use table::TableSearch;

pub use index::parse_class_index;

/// Which page is being parsed; the page itself does not say its class or variant reliably.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageRef {
    pub class: WeaponClass,
    pub variant: PageVariant,
    /// File name on the site, e.g. `tachi_g.htm` (used in errors and reject entries).
    pub file_name: String,
}

/// The result of parsing one page that had a weapon table.
#[derive(Debug, Default)]
pub struct ParsedPage {
    /// Every data row that parsed, hidden level rows included, in page order.
    pub records: Vec<WeaponRecord>,
    /// Rows that could not be parsed; the rest of the page is still used.
    pub rejects: Vec<RejectedRow>,
}

/// A data row that did not parse: counted, logged and written raw to the reject file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedRow {
    pub page: String,
    /// 1-based position among the page's data rows.
    pub row_number: usize,
    pub site_row_id: Option<String>,
    pub error: String,
    /// The row's HTML as found.
    pub raw_html: String,
}

/// Why a whole page yielded no rows.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PageError {
    #[error("{page}: no weapon table found (expected <table id=\"ken\"> with an English header)")]
    NoWeaponTable { page: String },
    #[error("{page}: tower page with Japanese headers, not weapon rows (skipped)")]
    TowerPage { page: String },
    #[error("{page}: unrecognised table header {header:?}")]
    UnknownHeader { page: String, header: String },
    #[error("{page}: table header {header:?} appears twice")]
    DuplicateHeader { page: String, header: String },
    #[error("{page}: weapon table has no {column:?} column")]
    MissingColumn { page: String, column: String },
}

/// Parses one weapon page. Invalid UTF-8 is replaced, malformed HTML is repaired the way
/// browsers do (html5ever), and no input makes it panic.
pub fn parse_page(page: &PageRef, html: &[u8]) -> Result<ParsedPage, PageError> {
    let source = String::from_utf8_lossy(html);
    let document = Html::parse_document(&source);
    let table = match table::find(&document) {
        TableSearch::Weapon(table) => table,
        TableSearch::Tower => {
            return Err(PageError::TowerPage {
                page: page.file_name.clone(),
            })
        }
        TableSearch::Nothing => {
            return Err(PageError::NoWeaponTable {
                page: page.file_name.clone(),
            })
        }
    };
    let columns =
        ColumnMap::from_labels(&table.header_labels).map_err(|error| header_error(page, error))?;
    let rows: Vec<Row<'_>> = table.rows.into_iter().map(Row::new).collect();
    let repeated_ids = repeated_row_ids(&rows, &columns);

    let mut parsed = ParsedPage::default();
    let mut weapon_ids = HashSet::with_capacity(rows.len());
    for (index, row) in rows.iter().enumerate() {
        let site_row_id = row.site_row_id(&columns);
        let id_repeats = site_row_id.is_some_and(|id| repeated_ids.contains(id));
        let result = row::parse_row(page, &columns, row, id_repeats).and_then(|record| {
            if weapon_ids.insert(record.weapon_id.clone()) {
                Ok(record)
            } else {
                Err(RowError::DuplicateId(record.weapon_id))
            }
        });
        match result {
            Ok(record) => parsed.records.push(record),
            Err(error) => parsed.rejects.push(RejectedRow {
                page: page.file_name.clone(),
                row_number: index + 1,
                site_row_id: site_row_id.map(str::to_string),
                error: error.to_string(),
                raw_html: row.element.html(),
            }),
        }
    }
    Ok(parsed)
}

/// Row ids used by more than one row of the page (the site repeats a few).
fn repeated_row_ids<'a>(rows: &[Row<'a>], columns: &ColumnMap) -> HashSet<&'a str> {
    let mut counts: HashMap<&str, usize> = HashMap::with_capacity(rows.len());
    for id in rows.iter().filter_map(|row| row.site_row_id(columns)) {
        *counts.entry(id).or_default() += 1;
    }
    counts
        .into_iter()
        .filter(|&(_, count)| count > 1)
        .map(|(id, _)| id)
        .collect()
}

fn header_error(page: &PageRef, error: HeaderError) -> PageError {
    let page = page.file_name.clone();
    match error {
        HeaderError::Unknown(header) => PageError::UnknownHeader { page, header },
        HeaderError::Duplicate(header) => PageError::DuplicateHeader { page, header },
        HeaderError::Missing(column) => PageError::MissingColumn {
            page,
            column: column.label().to_string(),
        },
    }
}
