//! What each stage of a run did: the stage log the run fills in as it goes, printed as a table
//! at the end and turned into metrics ([`super::metrics`]), failed runs included.

use std::io::{self, Write};
use std::time::Duration;

use super::Stage;

/// One stage that ran (to success or failure).
#[derive(Clone, Debug, PartialEq)]
pub struct StageRecord {
    pub stage: Stage,
    /// Records the stage handled (see [`Stage`]); `None` when it failed before knowing.
    pub records: Option<u64>,
    pub elapsed: Duration,
    pub succeeded: bool,
}

/// The stages of one run, in the order they ran.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StageLog {
    pub records: Vec<StageRecord>,
    /// Input lines the mappers skipped, once the job has finished.
    pub skipped_records: Option<u64>,
}

impl StageLog {
    pub fn push(&mut self, stage: Stage, records: Option<u64>, elapsed: Duration, succeeded: bool) {
        self.records.push(StageRecord {
            stage,
            records,
            elapsed,
            succeeded,
        });
    }

    /// Adds time to the record of `stage` (the export's commit, after the load).
    pub fn add_time(&mut self, stage: Stage, elapsed: Duration) {
        if let Some(record) = self.records.iter_mut().find(|r| r.stage == stage) {
            record.elapsed += elapsed;
        }
    }

    /// Marks `stage` failed (its commit failed after its first part succeeded).
    pub fn mark_failed(&mut self, stage: Stage) {
        if let Some(record) = self.records.iter_mut().find(|r| r.stage == stage) {
            record.succeeded = false;
        }
    }

    /// The table: stage, records, seconds, and `FAILED` beside a failed stage.
    pub fn write_table(&self, out: &mut impl Write) -> io::Result<()> {
        writeln!(out, "{:<10} {:>10} {:>9}", "stage", "records", "seconds")?;
        let mut total = Duration::ZERO;
        for record in &self.records {
            total += record.elapsed;
            let records = record
                .records
                .map_or_else(|| "-".to_string(), |n| n.to_string());
            let status = if record.succeeded { "" } else { "  FAILED" };
            writeln!(
                out,
                "{:<10} {records:>10} {:>9.1}{status}",
                record.stage.name(),
                record.elapsed.as_secs_f64()
            )?;
        }
        writeln!(
            out,
            "{:<10} {:>10} {:>9.1}",
            "total",
            "",
            total.as_secs_f64()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_lists_each_stage_and_marks_the_failed_one() {
        let mut log = StageLog::default();
        log.push(
            Stage::Export,
            Some(21000),
            Duration::from_millis(1250),
            true,
        );
        log.push(Stage::Job, None, Duration::from_secs(36), false);
        log.add_time(Stage::Export, Duration::from_millis(100));
        let mut out = Vec::new();
        log.write_table(&mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "stage         records   seconds\n\
             export          21000       1.4\n\
             job                 -      36.0  FAILED\n\
             total                      37.4\n"
        );
        log.mark_failed(Stage::Export);
        assert!(!log.records[0].succeeded);
    }
}
