//! The per-page account of a scrape and the table printed from it.

use std::io::{self, Write};

/// What became of one page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PageStatus {
    /// Fetched and parsed (possibly with rejected rows, possibly with no rows at all).
    Scraped,
    /// A probed (unlinked) variant the site does not have.
    Absent,
    /// Deliberately not scraped: tower and partner pages.
    Skipped(String),
    /// The page could not be fetched or has no weapon table; the message names it.
    Failed(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageReport {
    pub page: String,
    pub status: PageStatus,
    pub records: usize,
    pub rejects: usize,
    /// Body size as fetched (or read from the cache).
    pub bytes: u64,
    /// The server said 304 Not Modified and the cached body was used.
    pub from_cache: bool,
}

impl PageReport {
    pub fn new(page: &str, status: PageStatus) -> PageReport {
        PageReport {
            page: page.to_string(),
            status,
            records: 0,
            rejects: 0,
            bytes: 0,
            from_cache: false,
        }
    }
}

/// Every page of a scrape, in scrape order (skipped pages last).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub pages: Vec<PageReport>,
}

/// Every page was scraped, absent or skipped (rejected rows do not count as failure).
pub const EXIT_OK: u8 = 0;
/// At least one page failed; the other pages' records were still written.
pub const EXIT_PAGES_FAILED: u8 = 1;
/// The scrape could not run: bad arguments, unreadable class index, output error.
pub const EXIT_FATAL: u8 = 2;

impl Summary {
    pub fn failed(&self) -> impl Iterator<Item = &PageReport> {
        self.pages
            .iter()
            .filter(|report| matches!(report.status, PageStatus::Failed(_)))
    }

    pub fn records(&self) -> usize {
        self.pages.iter().map(|report| report.records).sum()
    }

    pub fn rejects(&self) -> usize {
        self.pages.iter().map(|report| report.rejects).sum()
    }

    /// [`EXIT_PAGES_FAILED`] if any page failed, else [`EXIT_OK`].
    pub fn exit_code(&self) -> u8 {
        if self.failed().next().is_some() {
            EXIT_PAGES_FAILED
        } else {
            EXIT_OK
        }
    }

    /// One line per page, then a totals line.
    pub fn write_table(&self, out: &mut dyn Write) -> io::Result<()> {
        let width = self
            .pages
            .iter()
            .map(|report| report.page.len())
            .chain(["page".len()])
            .max()
            .unwrap_or_default();
        writeln!(
            out,
            "{:width$}  {:7}  {:>7}  {:>7}  {:>9}  {:10}  note",
            "page", "status", "records", "rejects", "bytes", "from-cache"
        )?;
        for report in &self.pages {
            let (status, note) = match &report.status {
                PageStatus::Scraped => ("ok", ""),
                PageStatus::Absent => ("absent", "not on the site (unlinked variant)"),
                PageStatus::Skipped(reason) => ("skipped", reason.as_str()),
                PageStatus::Failed(error) => ("FAILED", error.as_str()),
            };
            let (records, rejects, bytes, from_cache) = if report.status == PageStatus::Scraped {
                (
                    report.records.to_string(),
                    report.rejects.to_string(),
                    report.bytes.to_string(),
                    if report.from_cache { "yes" } else { "no" },
                )
            } else {
                ("-".into(), "-".into(), "-".into(), "-")
            };
            let line = format!(
                "{:width$}  {status:7}  {records:>7}  {rejects:>7}  {bytes:>9}  {from_cache:10}  {note}",
                report.page
            );
            writeln!(out, "{}", line.trim_end())?;
        }
        let count = |wanted: fn(&PageStatus) -> bool| {
            self.pages.iter().filter(|r| wanted(&r.status)).count()
        };
        writeln!(
            out,
            "{} pages: {} scraped, {} absent, {} skipped, {} failed; {} records, {} rejected rows",
            self.pages.len(),
            count(|s| matches!(s, PageStatus::Scraped)),
            count(|s| matches!(s, PageStatus::Absent)),
            count(|s| matches!(s, PageStatus::Skipped(_))),
            count(|s| matches!(s, PageStatus::Failed(_))),
            self.records(),
            self.rejects(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_and_exit_code() {
        let mut ok = PageReport::new("tachi.htm", PageStatus::Scraped);
        ok.records = 12;
        ok.rejects = 1;
        ok.bytes = 3456;
        ok.from_cache = true;
        let mut summary = Summary {
            pages: vec![ok, PageReport::new("tachi_sp.htm", PageStatus::Absent)],
        };
        assert_eq!(summary.exit_code(), EXIT_OK);
        summary.pages.push(PageReport::new(
            "horn.htm",
            PageStatus::Failed("http://x/horn.htm: not found (404)".into()),
        ));
        assert_eq!(summary.exit_code(), EXIT_PAGES_FAILED);
        let mut table = Vec::new();
        summary.write_table(&mut table).unwrap();
        let table = String::from_utf8(table).unwrap();
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 5, "{table}");
        assert!(lines[1].starts_with("tachi.htm     ok            12        1       3456  yes"));
        assert!(lines[3].contains("FAILED") && lines[3].ends_with("not found (404)"));
        assert_eq!(
            lines[4],
            "3 pages: 1 scraped, 1 absent, 0 skipped, 1 failed; 12 records, 1 rejected rows"
        );
    }
}
