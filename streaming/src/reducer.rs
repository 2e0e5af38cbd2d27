//! The reducer (and combiner): key-sorted `key\tpartial` lines in; per key its output rows (a
//! statistics row, a histogram's bucket rows or a top-N list's rank rows, see [`crate::row`]),
//! or in combiner mode one merged partial in the mapper's encoding.
//!
//! Grouping is a streaming pass over consecutive equal keys: the current key's values are merged
//! into one running partial as they arrive, so memory is constant per key and the result does not
//! depend on the order of the values (see [`crate::stats`]). A key that sorts before its
//! predecessor means the input was not sorted (or not byte-wise, e.g. a locale-aware `sort`)
//! and fails the task in every mode: skipping it would silently split a group.

use std::io::{BufReader, BufWriter, Read, Write};

use crate::key::PartialKey;
use crate::partial::Partial;
use crate::protocol::{
    split_key_value, utf8_line, BadInputPolicy, BadLines, Line, LineReader, Reporter, TaskError,
    VOLUME_COUNTER_BATCH,
};
use crate::row::{write_histogram_rows, write_top_rows, StatsRow};

/// Counter names the reducer reports (group [`crate::protocol::COUNTER_GROUP`]).
pub mod counters {
    pub const INPUT_PARTIALS: &str = "reduce_input_partials";
    pub const MALFORMED_PARTIALS: &str = "malformed_partials";
    pub const EMPTY_LINES: &str = "reduce_empty_lines";
    pub const OUTPUT_ROWS: &str = "reduce_output_rows";
    pub const COMBINE_INPUT_PARTIALS: &str = "combine_input_partials";
    pub const COMBINE_OUTPUT_PARTIALS: &str = "combine_output_partials";
}

/// What to write per key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReduceMode {
    /// One statistics row ([`StatsRow`]) per key.
    Final,
    /// One merged `key\tpartial` line per key, readable by another combiner or the reducer.
    Combine,
}

#[derive(Clone, Debug)]
pub struct ReducerConfig {
    pub mode: ReduceMode,
    pub bad_input: BadInputPolicy,
    /// Longer lines are malformed (a partial is a few hundred bytes).
    pub max_line_bytes: usize,
    pub input_name: String,
}

impl Default for ReducerConfig {
    fn default() -> Self {
        ReducerConfig {
            mode: ReduceMode::Final,
            bad_input: BadInputPolicy::Skip,
            max_line_bytes: 64 << 10,
            input_name: "standard input".into(),
        }
    }
}

/// What a reduce (or combine) task did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReduceSummary {
    pub partials: u64,
    pub malformed: u64,
    /// Lines written: rows, or in combiner mode merged partials (one per key).
    pub lines: u64,
}

/// The key being reduced and its running partial.
struct CurrentGroup {
    key: String,
    partial: Partial,
}

/// Runs one reduce or combine task.
pub fn run_reducer<R: Read, W: Write, E: Write>(
    input: R,
    output: W,
    reporter: &mut Reporter<E>,
    config: &ReducerConfig,
) -> Result<ReduceSummary, TaskError> {
    let (input_name, output_name) = match config.mode {
        ReduceMode::Final => (counters::INPUT_PARTIALS, counters::OUTPUT_ROWS),
        ReduceMode::Combine => (
            counters::COMBINE_INPUT_PARTIALS,
            counters::COMBINE_OUTPUT_PARTIALS,
        ),
    };
    let input_partials = reporter.counter(input_name, VOLUME_COUNTER_BATCH);
    let output_lines = reporter.counter(output_name, VOLUME_COUNTER_BATCH);
    let empty_lines = reporter.counter(counters::EMPTY_LINES, VOLUME_COUNTER_BATCH);
    let mut bad_lines = BadLines::new(
        reporter,
        counters::MALFORMED_PARTIALS,
        config.bad_input,
        config.input_name.clone(),
    );

    let mut lines = LineReader::new(
        BufReader::with_capacity(1 << 16, input),
        config.max_line_bytes,
    );
    let mut output = BufWriter::with_capacity(1 << 16, output);
    let mut buffer = Vec::with_capacity(1 << 10);
    let mut current: Option<CurrentGroup> = None;
    let read_error = |source| TaskError::Read {
        input: config.input_name.clone(),
        source,
    };

    while let Some(line) = lines.next_line(&mut buffer).map_err(read_error)? {
        let line_number = lines.line_number();
        let (key, partial) = match line {
            Line::TooLong { length } => {
                let reason = format!(
                    "line of {length} bytes exceeds the limit of {} bytes",
                    config.max_line_bytes
                );
                bad_lines.handle(reporter, line_number, reason)?;
                continue;
            }
            Line::Text([]) => {
                reporter.add(empty_lines, 1).map_err(TaskError::Report)?;
                continue;
            }
            Line::Text(bytes) => match parse_line(bytes) {
                Ok(parsed) => parsed,
                Err(reason) => {
                    bad_lines.handle(reporter, line_number, reason)?;
                    continue;
                }
            },
        };
        reporter.add(input_partials, 1).map_err(TaskError::Report)?;
        match &mut current {
            Some(group) if group.key == key => {
                group
                    .partial
                    .merge(&partial)
                    .map_err(|source| TaskError::Overflow {
                        input: config.input_name.clone(),
                        line: line_number,
                        key: key.to_string(),
                        source,
                    })?;
            }
            Some(group) if key < group.key.as_str() => {
                return Err(TaskError::Unsorted {
                    input: config.input_name.clone(),
                    line: line_number,
                    key: key.to_string(),
                    previous: group.key.clone(),
                });
            }
            Some(group) => {
                let written =
                    write_group(group, config.mode, &mut output).map_err(TaskError::Write)?;
                reporter
                    .add(output_lines, written)
                    .map_err(TaskError::Report)?;
                group.key.clear();
                group.key.push_str(key);
                group.partial = partial;
            }
            None => {
                current = Some(CurrentGroup {
                    key: key.to_string(),
                    partial,
                })
            }
        }
        reporter
            .tick(|| format!("read {line_number} lines of {}", config.input_name))
            .map_err(TaskError::Report)?;
    }
    if let Some(group) = &current {
        let written = write_group(group, config.mode, &mut output).map_err(TaskError::Write)?;
        reporter
            .add(output_lines, written)
            .map_err(TaskError::Report)?;
    }
    output.flush().map_err(TaskError::Write)?;

    let summary = ReduceSummary {
        partials: reporter.total(input_partials),
        malformed: bad_lines.count(reporter),
        lines: reporter.total(output_lines),
    };
    reporter
        .finish(&format!(
            "done: {} partials, {} malformed lines, {} lines written",
            summary.partials, summary.malformed, summary.lines
        ))
        .map_err(TaskError::Report)?;
    Ok(summary)
}

/// Splits and validates one `key\tpartial` line; the error says what is wrong with it.
fn parse_line(bytes: &[u8]) -> Result<(&str, Partial), String> {
    let text = utf8_line(bytes)?;
    let (key, value) = split_key_value(text).ok_or("no tab between key and value")?;
    let parsed = PartialKey::parse(key).map_err(|e| format!("bad key: {e}"))?;
    let partial =
        Partial::parse(&parsed, value).map_err(|e| format!("bad partial for key {key:?}: {e}"))?;
    Ok((key, partial))
}

/// Writes a finished group; returns the number of lines written.
fn write_group(
    group: &CurrentGroup,
    mode: ReduceMode,
    out: &mut impl Write,
) -> std::io::Result<u64> {
    if mode == ReduceMode::Combine {
        out.write_all(group.key.as_bytes())?;
        group.partial.write_fields(out)?;
        out.write_all(b"\n")?;
        return Ok(1);
    }
    let key = PartialKey::parse(&group.key).expect("keys are validated when read");
    match (&key, &group.partial) {
        (PartialKey::Stats(key), Partial::Stats(stats)) => {
            StatsRow { key, stats }.write_tsv(out)?;
            Ok(1)
        }
        (PartialKey::Histogram(key), Partial::Histogram(histogram)) => {
            write_histogram_rows(key, histogram, out)
        }
        (PartialKey::Top(key), Partial::Top(top)) => write_top_rows(key, top, out),
        _ => unreachable!("a partial is parsed as the kind its key names"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::ReportSettings;

    const ONE_BOW: &str =
        "1\t1\t0\t0\t0\t0\t1\t120\t14400\t120\t120\t1\t5\t25\t5\t5\t0\t0\t0\t0\t0";
    const ONE_FIRE_BOW: &str =
        "1\t0\t1\t0\t0\t0\t1\t100\t10000\t100\t100\t1\t-5\t25\t-5\t-5\t1\t50\t2500\t50\t50";

    fn reduce(
        input: &str,
        config: &ReducerConfig,
    ) -> (Result<ReduceSummary, TaskError>, String, String) {
        let mut out = Vec::new();
        let mut err = Vec::new();
        let mut reporter = Reporter::new(&mut err, "mhfz-reducer", &ReportSettings::default());
        let result = run_reducer(input.as_bytes(), &mut out, &mut reporter, config);
        (
            result,
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
        )
    }

    #[test]
    fn merges_consecutive_keys_into_rows() {
        let input = format!(
            "class|bow\t{ONE_BOW}\nclass|bow\t{ONE_FIRE_BOW}\nelement|fire\t{ONE_FIRE_BOW}\n"
        );
        let (result, out, _) = reduce(&input, &ReducerConfig::default());
        assert_eq!(
            result.unwrap(),
            ReduceSummary {
                partials: 3,
                malformed: 0,
                lines: 2
            }
        );
        assert_eq!(
            out,
            "class\tbow\t\\N\t\\N\t\\N\t2\t100\t120\t110.0000\t10.0000\t-5\t5\t0.0000\t5.0000\t\
             1\t50\t50\t50.0000\t0.0000\t1\t1\t0\t0\t0\n\
             element\t\\N\t\\N\tfire\t\\N\t1\t100\t100\t100.0000\t0.0000\t-5\t-5\t-5.0000\t0.0000\t\
             1\t50\t50\t50.0000\t0.0000\t0\t1\t0\t0\t0\n"
        );
    }

    #[test]
    fn combiner_output_is_reducer_input() {
        let input = format!("class|bow\t{ONE_BOW}\nclass|bow\t{ONE_FIRE_BOW}\n");
        let combine = ReducerConfig {
            mode: ReduceMode::Combine,
            ..ReducerConfig::default()
        };
        let (_, combined, _) = reduce(&input, &combine);
        assert_eq!(
            combined,
            "class|bow\t2\t1\t1\t0\t0\t0\t2\t220\t24400\t100\t120\t2\t0\t50\t-5\t5\t1\t50\t2500\t50\t50\n"
        );
        let (_, direct, _) = reduce(&input, &ReducerConfig::default());
        let (_, via_combiner, _) = reduce(&combined, &ReducerConfig::default());
        assert_eq!(direct, via_combiner);
    }

    #[test]
    fn histograms_and_top_lists_become_rows_and_combine_exactly() {
        let input = "histogram|class_rarity|bow|02|affinity\t-5\t1\t5\t2\n\
                     histogram|class_rarity|bow|02|affinity\t-5\t3\t10\t1\n\
                     top|bow|attack\t900\tbow:g:b\t7\tB%09b\t500\tbow:g:c\t7\tC\n\
                     top|bow|attack\t900\tbow:g:a\t6\tA\n";
        let (result, out, _) = reduce(input, &ReducerConfig::default());
        assert_eq!(result.unwrap().lines, 6);
        assert_eq!(
            out,
            "histogram\tclass_rarity\tbow\t2\taffinity\t-5\t5\t4\n\
             histogram\tclass_rarity\tbow\t2\taffinity\t5\t5\t2\n\
             histogram\tclass_rarity\tbow\t2\taffinity\t10\t5\t1\n\
             top\tbow\tattack\t1\tbow:g:a\tA\t6\t900\n\
             top\tbow\tattack\t2\tbow:g:b\tB%09b\t7\t900\n\
             top\tbow\tattack\t3\tbow:g:c\tC\t7\t500\n"
        );
        let combine = ReducerConfig {
            mode: ReduceMode::Combine,
            ..ReducerConfig::default()
        };
        let (_, combined, _) = reduce(input, &combine);
        assert_eq!(combined.lines().count(), 2);
        assert_eq!(reduce(&combined, &ReducerConfig::default()).1, out);

        let bad = "top|bow|attack\t500\tbow:g:c\t7\tC\t900\tbow:g:a\t6\tA\n";
        let (result, _, err) = reduce(bad, &ReducerConfig::default());
        assert_eq!(result.unwrap().malformed, 1);
        assert!(
            err.contains("line 1 of standard input: bad partial for key \"top|bow|attack\": inconsistent top-N list"),
            "{err}"
        );
    }

    #[test]
    fn malformed_lines_are_skipped_and_unsorted_input_fails() {
        let input =
            format!("class|bow\nclass|tachi\t{ONE_BOW}\nclass|bow\t1\t2\n\nclass|bow\t{ONE_BOW}\n");
        let (result, out, err) = reduce(&input, &ReducerConfig::default());
        assert_eq!(result.unwrap().malformed, 3);
        assert!(out.starts_with("class\tbow\t\\N\t\\N\t\\N\t1\t"));
        assert!(
            err.contains("line 1 of standard input: no tab between key and value"),
            "{err}"
        );
        assert!(
            err.contains("line 2 of standard input: bad key: invalid Class coordinate \"tachi\""),
            "{err}"
        );
        assert!(
            err.contains(
                "line 3 of standard input: bad partial for key \"class|bow\": expected 21"
            ),
            "{err}"
        );

        let strict = ReducerConfig {
            bad_input: BadInputPolicy::Fail,
            ..ReducerConfig::default()
        };
        let message = reduce(&input, &strict).0.unwrap_err().to_string();
        assert!(
            message.starts_with("standard input line 1: no tab between key and value"),
            "{message}"
        );

        let unsorted = format!("element|fire\t{ONE_BOW}\nclass|bow\t{ONE_BOW}\n");
        let message = reduce(&unsorted, &ReducerConfig::default())
            .0
            .unwrap_err()
            .to_string();
        assert!(
            message.contains(
                "line 2: key \"class|bow\" sorts before the previous key \"element|fire\""
            ),
            "{message}"
        );
    }
}
