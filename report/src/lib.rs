//! The weapon report: one self-contained HTML file drawn from a run's output tables.
//!
//! Per class: the attack distribution and the affinity distribution (`weapon_histograms`,
//! dimension `class`), attack by rarity and the element/status shares and slots
//! (`weapon_statistics`, dimensions `class_rarity`, `class_element`, `class`), and the top
//! weapons (`weapon_top`) linked to their rows on the site; then the weapons whose content
//! changed since the previous run (`mhfz.weapon_versions`, [`mhfz_store::changes_between`]).
//!
//! Charts are inline SVG drawn here ([`svg`]); the page has no script and loads nothing: the
//! style is inline, the fonts the reader's own. Each chart is a `<figure class="chart"
//! data-chart="KIND" data-class="CLASS">` whose data points are `<g class="point"
//! data-label=… data-value=…>` elements, one per row it shows (see [`svg`]): readers can
//! inspect them, and the browser test compares them with the rows.

pub mod model;
pub mod svg;
pub mod tables;

use mhfz_store::WeaponChange;
use mhfz_streaming::cli::error_chain;

pub use model::{site_link, CHANGES_LISTED};
pub use tables::{Tables, TablesError};

const TEMPLATE: &str = include_str!("../../templates/report/report.html.tera");

/// The weapon site, for the links of the top weapons and the changes.
pub const SITE_URL: &str = "https://xl3lackout.github.io/MHFZ-Ferias-English-Project/buki/";

/// What changed since the previous run, as the history says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Changes {
    /// The history was not read (no database: e.g. `make demo`).
    NotRead,
    /// No earlier run to compare with; `until` is this run's time.
    FirstRun { until: String },
    /// Every weapon whose content changed between the two times (UTC, RFC 3339).
    Since {
        since: String,
        until: String,
        weapons: Vec<WeaponChange>,
    },
}

#[derive(Debug, thiserror::Error)]
#[error("rendering the report template failed: {0}")]
pub struct RenderError(String);

/// The report page for `tables`.
pub fn render(
    title: &str,
    site_url: &str,
    tables: &Tables,
    changes: &Changes,
) -> Result<String, RenderError> {
    let page = model::page(title, site_url, tables, changes);
    let mut tera = tera::Tera::default();
    // The name's `.html` turns on tera's HTML escaping for every value but the `safe` SVGs.
    tera.add_raw_template("report.html", TEMPLATE)
        .map_err(|e| RenderError(error_chain(&e)))?;
    let context = tera::Context::from_serialize(&page).map_err(|e| RenderError(error_chain(&e)))?;
    tera.render("report.html", &context)
        .map_err(|e| RenderError(error_chain(&e)))
}
