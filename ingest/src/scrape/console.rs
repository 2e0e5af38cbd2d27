//! Progress and log lines on stderr for the command line.

use std::io::{self, IsTerminal, Write};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use super::{PageReport, PageStatus, ScrapeObserver};
use crate::parse::RejectedRow;

/// Logs failed pages, rejected rows and warnings to stderr as they happen, with a progress bar
/// when stderr is a terminal and the run is not quiet.
pub struct ConsoleObserver {
    bar: Option<ProgressBar>,
}

impl ConsoleObserver {
    pub fn new(quiet: bool) -> ConsoleObserver {
        let bar = (!quiet && io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new(0).with_style(
                ProgressStyle::with_template("{bar:30} {pos}/{len} pages  {elapsed}  {msg}")
                    .expect("the progress template is valid"),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        ConsoleObserver { bar }
    }

    /// Removes the progress bar before the summary is printed.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    fn log(&self, line: &str) {
        // A closed stderr is no reason to stop scraping, so write errors are ignored.
        let print = || {
            let _ = writeln!(io::stderr(), "{line}");
        };
        match &self.bar {
            Some(bar) => bar.suspend(print),
            None => print(),
        }
    }
}

impl ScrapeObserver for ConsoleObserver {
    fn planned(&mut self, pages: usize) {
        if let Some(bar) = &self.bar {
            bar.set_length(pages as u64);
        }
    }

    fn page_started(&mut self, page: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(page.to_string());
        }
    }

    fn page_finished(&mut self, report: &PageReport) {
        if let PageStatus::Failed(error) = &report.status {
            self.log(&format!("error: {error}"));
        }
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }

    fn rejected(&mut self, row: &RejectedRow) {
        let id = row.site_row_id.as_deref().unwrap_or("no row id");
        self.log(&format!(
            "rejected: {} row {} ({id}): {}",
            row.page, row.row_number, row.error
        ));
    }

    fn warning(&mut self, message: &str) {
        self.log(&format!("warning: {message}"));
    }
}
