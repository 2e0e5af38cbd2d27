//! Reconciliation: every exported record went through the job, and every row the reducers
//! wrote is in the output that will be loaded. Any difference fails the run before the load.

use std::fmt;

use super::counters::JobCounters;

/// The counts compared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StageCounts {
    /// Rows the export wrote.
    pub exported: u64,
    pub job: JobCounters,
    /// Statistics rows in the job's part files.
    pub output_rows: u64,
}

/// One count that differs from what it must equal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    pub expected_what: &'static str,
    pub expected: u64,
    pub found_what: &'static str,
    pub found: u64,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} but {} {}",
            self.expected_what, self.expected, self.found_what, self.found
        )
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the counts do not match: {}{}", display_list(.mismatches),
    skipped_note(.malformed))]
pub struct ReconcileError {
    pub mismatches: Vec<Mismatch>,
    pub malformed: u64,
}

fn display_list(mismatches: &[Mismatch]) -> String {
    mismatches
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

fn skipped_note(malformed: &u64) -> String {
    if *malformed == 0 {
        String::new()
    } else {
        format!(" ({malformed} input lines skipped as malformed)")
    }
}

/// Checks rows exported = records the framework fed the mappers (when it says) = records the
/// mappers counted, and rows the reducers counted = rows in the output.
pub fn reconcile(counts: &StageCounts) -> Result<(), ReconcileError> {
    let mut mismatches = Vec::new();
    let mut check = |expected_what, expected, found_what, found| {
        if expected != found {
            mismatches.push(Mismatch {
                expected_what,
                expected,
                found_what,
                found,
            });
        }
    };
    if let Some(framework) = counts.job.framework_map_input_records {
        check(
            "rows exported",
            counts.exported,
            "the job's map input records",
            framework,
        );
    }
    check(
        "rows exported",
        counts.exported,
        "records the mappers counted",
        counts.job.mapper_input_records,
    );
    check(
        "rows the reducers counted",
        counts.job.reduce_output_rows,
        "rows in the job's output",
        counts.output_rows,
    );
    if mismatches.is_empty() {
        Ok(())
    } else {
        Err(ReconcileError {
            mismatches,
            malformed: counts.job.malformed_records,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts() -> StageCounts {
        StageCounts {
            exported: 100,
            job: JobCounters {
                mapper_input_records: 100,
                malformed_records: 0,
                reduce_output_rows: 12,
                framework_map_input_records: Some(100),
            },
            output_rows: 12,
        }
    }

    #[test]
    fn equal_counts_reconcile() {
        reconcile(&counts()).unwrap();
        let mut local = counts();
        local.job.framework_map_input_records = None;
        reconcile(&local).unwrap();
    }

    #[test]
    fn every_mismatch_is_named() {
        let mut bad = counts();
        bad.job.mapper_input_records = 97;
        bad.job.malformed_records = 3;
        bad.output_rows = 11;
        let error = reconcile(&bad).unwrap_err();
        assert_eq!(error.mismatches.len(), 2);
        assert_eq!(
            error.to_string(),
            "the counts do not match: rows exported 100 but records the mappers counted 97; \
             rows the reducers counted 12 but rows in the job's output 11 \
             (3 input lines skipped as malformed)"
        );
        let mut lost = counts();
        lost.job.framework_map_input_records = Some(90);
        let error = reconcile(&lost).unwrap_err().to_string();
        assert!(
            error.contains("rows exported 100 but the job's map input records 90"),
            "{error}"
        );
    }
}
