//! A streaming job's counters, whichever engine ran it, as the few numbers reconciliation
//! compares.
//!
//! * Hadoop: the job client prints every counter group when the job ends (on stderr):
//!   `Counters: N`, then a group name indented by one tab and its `name=value` lines by two;
//!   [`JobClientReport::parse`] reads that, and the job id from `Running job: <id>`.
//! * The local runner and the Spark engine total the executables' `reporter:counter:` lines
//!   themselves, keyed `group.name` ([`crate::runner::Counters`], Spark's `--counters-json`).

use std::collections::BTreeMap;

use crate::mapper::counters as mapper;
use crate::protocol::COUNTER_GROUP;
use crate::reducer::counters as reducer;

/// Hadoop's own counter group of record counts, and the one compared.
pub const FRAMEWORK_GROUP: &str = "Map-Reduce Framework";
pub const FRAMEWORK_MAP_INPUT_RECORDS: &str = "Map input records";

/// The counters reconciliation needs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JobCounters {
    /// Records the mappers accepted (`mhfz.map_input_records`).
    pub mapper_input_records: u64,
    /// Input lines the mappers skipped as malformed (`mhfz.malformed_records`).
    pub malformed_records: u64,
    /// Statistics rows the reducers wrote (`mhfz.reduce_output_rows`).
    pub reduce_output_rows: u64,
    /// Records the framework fed the mappers (Hadoop's `Map input records`): Hadoop only.
    pub framework_map_input_records: Option<u64>,
}

impl JobCounters {
    /// From totals keyed `group.name` (the local runner's, Spark's). A counter never reported
    /// is 0: the executables report a counter once it has counted something.
    pub fn from_dotted(totals: &BTreeMap<String, u64>) -> JobCounters {
        let get = |name: &str| {
            totals
                .get(&format!("{COUNTER_GROUP}.{name}"))
                .copied()
                .unwrap_or(0)
        };
        JobCounters {
            mapper_input_records: get(mapper::INPUT_RECORDS),
            malformed_records: get(mapper::MALFORMED_RECORDS),
            reduce_output_rows: get(reducer::OUTPUT_ROWS),
            framework_map_input_records: None,
        }
    }

    /// From the counter groups of a Hadoop job.
    pub fn from_groups(groups: &CounterGroups) -> JobCounters {
        let get = |group: &str, name: &str| groups.get(group).and_then(|g| g.get(name)).copied();
        let ours = |name| get(COUNTER_GROUP, name).unwrap_or(0);
        JobCounters {
            mapper_input_records: ours(mapper::INPUT_RECORDS),
            malformed_records: ours(mapper::MALFORMED_RECORDS),
            reduce_output_rows: ours(reducer::OUTPUT_ROWS),
            framework_map_input_records: get(FRAMEWORK_GROUP, FRAMEWORK_MAP_INPUT_RECORDS),
        }
    }
}

/// Counter group → counter name → value.
pub type CounterGroups = BTreeMap<String, BTreeMap<String, u64>>;

/// What the Hadoop job client's output says about the job.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JobClientReport {
    /// `job_<cluster timestamp>_<n>`, once the job was submitted.
    pub job_id: Option<String>,
    /// The groups of the final `Counters:` block (empty when the job printed none).
    pub counters: CounterGroups,
}

impl JobClientReport {
    /// Reads the job client's log (its stderr). Lines that are not part of the counter block
    /// (progress, warnings) are skipped; in the block, a counter line that does not parse ends
    /// it.
    pub fn parse(log: &str) -> JobClientReport {
        let job_id = log
            .lines()
            .find_map(|line| line.split_once("Running job: "))
            .map(|(_, id)| id.trim().to_string())
            .filter(|id| !id.is_empty());
        let mut counters = CounterGroups::new();
        // The last block is the finished job's (a client may print one per attempt).
        let block = log
            .lines()
            .rev()
            .position(is_counters_heading)
            .map(|from_end| log.lines().skip(log.lines().count() - from_end));
        if let Some(lines) = block {
            let mut group: Option<&mut BTreeMap<String, u64>> = None;
            for line in lines {
                if let Some(counter) = line.strip_prefix("\t\t") {
                    let Some((name, value)) = counter.split_once('=') else {
                        break;
                    };
                    let (Some(group), Ok(value)) = (group.as_mut(), value.trim().parse()) else {
                        break;
                    };
                    group.insert(name.trim().to_string(), value);
                } else if let Some(name) = line.strip_prefix('\t') {
                    group = Some(counters.entry(name.trim().to_string()).or_default());
                } else {
                    break;
                }
            }
        }
        JobClientReport { job_id, counters }
    }
}

/// `... INFO mapreduce.Job: Counters: 54` (the log line's prefix varies with the log layout).
fn is_counters_heading(line: &str) -> bool {
    line.rsplit_once("Counters: ")
        .is_some_and(|(_, count)| count.trim().parse::<u32>().is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape of Hadoop 3.4's job client output (abridged), including the group names with
    /// trailing blanks that Hadoop prints.
    const JOB_LOG: &str = "\
2026-11-28 12:00:01,000 INFO mapreduce.JobSubmitter: number of splits:2
2026-11-28 12:00:02,000 INFO mapreduce.Job: Running job: job_1764331200000_0007
2026-11-28 12:00:30,000 INFO mapreduce.Job:  map 100% reduce 100%
2026-11-28 12:00:31,000 INFO mapreduce.Job: Job job_1764331200000_0007 completed successfully
2026-11-28 12:00:31,100 INFO mapreduce.Job: Counters: 56
\tFile System Counters
\t\tFILE: Number of bytes read=1234
\tJob Counters 
\t\tLaunched map tasks=2
\tMap-Reduce Framework
\t\tMap input records=21003
\t\tReduce output records=640
\tmhfz
\t\tmalformed_records=3
\t\tmap_input_records=21000
\t\treduce_output_rows=640
\tFile Output Format Counters 
\t\tBytes Written=99999
2026-11-28 12:00:31,200 INFO streaming.StreamJob: Output directory: /out
";

    #[test]
    fn the_job_client_output_gives_the_job_id_and_every_counter_group() {
        let report = JobClientReport::parse(JOB_LOG);
        assert_eq!(report.job_id.as_deref(), Some("job_1764331200000_0007"));
        assert_eq!(
            report.counters.keys().collect::<Vec<_>>(),
            [
                "File Output Format Counters",
                "File System Counters",
                "Job Counters",
                "Map-Reduce Framework",
                "mhfz"
            ]
        );
        assert_eq!(report.counters["Job Counters"]["Launched map tasks"], 2);
        assert_eq!(
            JobCounters::from_groups(&report.counters),
            JobCounters {
                mapper_input_records: 21000,
                malformed_records: 3,
                reduce_output_rows: 640,
                framework_map_input_records: Some(21003),
            }
        );
    }

    #[test]
    fn a_failed_job_has_no_counters_and_missing_counters_are_zero() {
        let report = JobClientReport::parse(
            "INFO mapreduce.Job: Running job: job_1_2\nERROR streaming.StreamJob: Job not successful!\n",
        );
        assert_eq!(report.job_id.as_deref(), Some("job_1_2"));
        assert!(report.counters.is_empty());
        assert_eq!(
            JobCounters::from_groups(&report.counters),
            JobCounters::default()
        );
        assert_eq!(JobClientReport::parse(""), JobClientReport::default());
    }

    #[test]
    fn the_last_counter_block_counts_and_ends_at_the_first_other_line() {
        let log = "Counters: 1\n\tmhfz\n\t\tmap_input_records=1\n\
                   Counters: 2\n\tmhfz\n\t\tmap_input_records=5\n\t\tbroken\n\t\treduce_output_rows=9\n";
        let report = JobClientReport::parse(log);
        assert_eq!(report.counters["mhfz"].len(), 1);
        assert_eq!(report.counters["mhfz"]["map_input_records"], 5);
    }

    #[test]
    fn dotted_totals_are_the_local_runners_and_sparks() {
        let totals = BTreeMap::from([
            ("mhfz.map_input_records".to_string(), 10),
            ("mhfz.reduce_output_rows".to_string(), 4),
            ("mhfz.combine_output_partials".to_string(), 7),
        ]);
        assert_eq!(
            JobCounters::from_dotted(&totals),
            JobCounters {
                mapper_input_records: 10,
                malformed_records: 0,
                reduce_output_rows: 4,
                framework_map_input_records: None,
            }
        );
    }
}
