//! Scrape orchestration: read the class index, plan the pages, fetch and parse each one, hand
//! the records to a sink and account for every page in a [`Summary`].
//!
//! One page's failure never stops the others. Policy (see [`Summary::exit_code`]): a failed
//! page makes the run fail; rejected rows do not (they are logged and written to the reject
//! file), and neither do probed pages that do not exist.

pub mod cli;
mod console;
mod output;
mod plan;
mod summary;

use mhfz_record::WeaponClass;

use crate::parse::{parse_class_index, parse_page, PageError, RejectedRow};
use crate::site::{FetchError, Site};

pub use console::ConsoleObserver;
pub use output::{Destination, NdjsonOutput, OutputError, RecordSink};
pub use plan::{classify_link, plan, Expectation, IndexLink, Plan, PlannedPage, SkippedPage};
pub use summary::{PageReport, PageStatus, Summary};

/// The page that links every class's pages.
pub const CLASS_INDEX_PAGE: &str = "buki.htm";

#[derive(Clone, Debug, Default)]
pub struct ScrapeOptions {
    /// Only these classes (in this order); `None` = every class the index links.
    pub classes: Option<Vec<WeaponClass>>,
}

/// Told about the scrape as it goes (progress bars, logs). Every method has a no-op default.
pub trait ScrapeObserver {
    fn planned(&mut self, _pages: usize) {}
    fn page_started(&mut self, _page: &str) {}
    fn page_finished(&mut self, _report: &PageReport) {}
    fn rejected(&mut self, _row: &RejectedRow) {}
    fn warning(&mut self, _message: &str) {}
}

/// Observes nothing.
pub struct Unobserved;
impl ScrapeObserver for Unobserved {}

/// Why the scrape as a whole could not run.
#[derive(Debug, thiserror::Error)]
pub enum ScrapeError {
    #[error("cannot read the class index: {0}")]
    Index(#[source] FetchError),
    #[error("the class index {page} links no weapon pages; name the classes with --classes")]
    EmptyIndex { page: String },
    #[error(transparent)]
    Output(#[from] OutputError),
}

/// Scrapes every planned page of `site` into `sink`.
pub fn scrape(
    site: &mut Site,
    options: &ScrapeOptions,
    sink: &mut dyn RecordSink,
    observer: &mut dyn ScrapeObserver,
) -> Result<Summary, ScrapeError> {
    let index = site.fetch(CLASS_INDEX_PAGE).map_err(ScrapeError::Index)?;
    if let Some(warning) = &index.cache_warning {
        observer.warning(warning);
    }
    let plan = plan(&parse_class_index(&index.body), options.classes.as_deref());
    if plan.pages.is_empty() {
        return Err(ScrapeError::EmptyIndex {
            page: site.page_location(CLASS_INDEX_PAGE),
        });
    }

    observer.planned(plan.pages.len() + plan.skipped.len());
    let mut summary = Summary::default();
    for planned in &plan.pages {
        observer.page_started(&planned.page.file_name);
        let report = scrape_page(site, planned, sink, observer)?;
        observer.page_finished(&report);
        summary.pages.push(report);
    }
    for skipped in &plan.skipped {
        let report = PageReport::new(
            &skipped.file_name,
            PageStatus::Skipped(skipped.reason.into()),
        );
        observer.page_finished(&report);
        summary.pages.push(report);
    }
    Ok(summary)
}

fn scrape_page(
    site: &mut Site,
    planned: &PlannedPage,
    sink: &mut dyn RecordSink,
    observer: &mut dyn ScrapeObserver,
) -> Result<PageReport, OutputError> {
    let page = &planned.page;
    let fetched = match site.fetch(&page.file_name) {
        Ok(fetched) => fetched,
        Err(error) if error.is_not_found() && planned.expectation == Expectation::Probed => {
            return Ok(PageReport::new(&page.file_name, PageStatus::Absent));
        }
        Err(error) => {
            return Ok(PageReport::new(
                &page.file_name,
                PageStatus::Failed(error.to_string()),
            ))
        }
    };
    if let Some(warning) = &fetched.cache_warning {
        observer.warning(warning);
    }
    let mut report = PageReport::new(&page.file_name, PageStatus::Scraped);
    report.bytes = fetched.body.len() as u64;
    report.from_cache = fetched.from_cache;

    let parsed = match parse_page(page, &fetched.body) {
        Ok(parsed) => parsed,
        Err(error @ PageError::TowerPage { .. }) => {
            report.status = PageStatus::Skipped(error.to_string());
            return Ok(report);
        }
        Err(error) => {
            report.status = PageStatus::Failed(error.to_string());
            return Ok(report);
        }
    };
    // The parser rejects rows whose record fails `WeaponRecord::validate`, so every record
    // handed on here is valid.
    for row in &parsed.rejects {
        observer.rejected(row);
    }
    sink.write_page(page, &parsed.records, &parsed.rejects)?;
    report.records = parsed.records.len();
    report.rejects = parsed.rejects.len();
    Ok(report)
}
