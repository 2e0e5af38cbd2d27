//! HTML → weapon records. Pure functions over page bytes: no I/O here.
//!
//! [`parse_page`] finds the weapon table by its header, maps columns by header text (classes
//! and variants name and order them differently), and parses every data row — hidden level rows
//! included — into a [`WeaponRecord`]. A row that does not parse becomes a [`RejectedRow`] and
//! the rest of the page is still used.

mod cells;
mod columns;
mod dom;
mod index;
mod row;
mod table;
mod text;

use std::collections::{HashMap, HashSet};

use mhfz_record::{PageVariant, WeaponClass, WeaponId, WeaponRecord};
use scraper::ElementRef;

use columns::{ColumnMap, HeaderError};
use row::RowError;
use table::Row;
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
    let document = dom::parse_document(&source);
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

    let mut parsed = ParsedPage::default();
    // The row each record came from, in case it has to become a reject.
    let mut record_rows: Vec<(usize, ElementRef<'_>)> = Vec::new();
    // One pass over the rows: the tree is far larger than the caches, so it is walked once.
    let data_rows = table.rows.into_iter().filter_map(Row::new);
    for (index, row) in data_rows.enumerate() {
        match row::parse_row(page, &columns, &row) {
            Ok(record) => {
                parsed.records.push(record);
                record_rows.push((index + 1, row.element));
            }
            Err(error) => parsed.rejects.push(RejectedRow::new(
                page,
                index + 1,
                row::site_row_id(&row, &columns),
                &error,
                row.element,
            )),
        }
    }
    disambiguate_repeated_row_ids(page, &mut parsed);
    reject_duplicate_weapon_ids(page, &mut parsed, record_rows);
    Ok(parsed)
}

impl RejectedRow {
    fn new(
        page: &PageRef,
        row_number: usize,
        site_row_id: Option<&str>,
        error: &RowError,
        row: ElementRef<'_>,
    ) -> RejectedRow {
        RejectedRow {
            page: page.file_name.clone(),
            row_number,
            site_row_id: site_row_id.map(str::to_string),
            error: error.to_string(),
            raw_html: row.html(),
        }
    }
}

/// Where the site repeats a row id on a page, every row with that id gets its name appended
/// to its weapon id.
fn disambiguate_repeated_row_ids(page: &PageRef, parsed: &mut ParsedPage) {
    let mut counts: HashMap<&str, usize> = HashMap::with_capacity(parsed.records.len());
    let ids = parsed
        .records
        .iter()
        .map(|record| record.site_row_id.as_str())
        .chain(
            parsed
                .rejects
                .iter()
                .filter_map(|r| r.site_row_id.as_deref()),
        );
    for id in ids {
        *counts.entry(id).or_default() += 1;
    }
    let repeated: HashSet<String> = counts
        .into_iter()
        .filter(|&(_, count)| count > 1)
        .map(|(id, _)| id.to_string())
        .collect();
    for record in &mut parsed.records {
        if repeated.contains(&record.site_row_id) {
            record.weapon_id = WeaponId::new(
                page.class,
                page.variant,
                &record.site_row_id,
                Some(&record.name),
            );
        }
    }
}

/// A weapon id still taken twice (same row id and same name) keeps its first row; the later
/// ones are rejected.
fn reject_duplicate_weapon_ids(
    page: &PageRef,
    parsed: &mut ParsedPage,
    record_rows: Vec<(usize, ElementRef<'_>)>,
) {
    let mut seen = HashSet::with_capacity(parsed.records.len());
    let duplicate: Vec<bool> = parsed
        .records
        .iter()
        .map(|record| !seen.insert(&record.weapon_id))
        .collect();
    if !duplicate.contains(&true) {
        return;
    }
    let records = std::mem::take(&mut parsed.records);
    for ((record, (row_number, row)), duplicate) in
        records.into_iter().zip(record_rows).zip(duplicate)
    {
        if duplicate {
            let error = RowError::DuplicateId(record.weapon_id);
            let reject = RejectedRow::new(page, row_number, Some(&record.site_row_id), &error, row);
            parsed.rejects.push(reject);
        } else {
            parsed.records.push(record);
        }
    }
    parsed.rejects.sort_by_key(|reject| reject.row_number);
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
