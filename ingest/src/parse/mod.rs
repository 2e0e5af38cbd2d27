//! HTML → weapon records. Pure functions over page bytes: no I/O here.

use mhfz_record::{PageVariant, WeaponClass, WeaponRecord};

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
}
