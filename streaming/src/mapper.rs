//! The mapper: weapon records (NDJSON) in, `key\tpartial` lines out.
//!
//! Each record is parsed into a [`StatsView`] (only the fields statistics need) and added to
//! every group it belongs to (see [`crate::key`]): `all`, `class`, `class_rarity` and
//! `class_variant` once, and `class_element` and `element` once per elemental attribute, with
//! that attribute's value as the element observation. Elsewhere the element observation is the
//! record's first elemental attribute, if any.
//!
//! Groups are combined in memory (in-mapper combining) in a map bounded to a configurable number
//! of keys; when it grows past the bound every entry is written out and the map starts empty, so
//! memory stays bounded whatever the input. Written partials use the combiner's encoding, so the
//! same key may appear several times in the output; the reducer merges them exactly.

use std::collections::HashMap;
use std::io::{BufReader, BufWriter, Read, Write};

use mhfz_record::{StatsView, WeaponClass};

use crate::key::GroupKey;
use crate::protocol::{
    utf8_line, BadInputPolicy, BadLines, Line, LineReader, Reporter, TaskError,
    VOLUME_COUNTER_BATCH,
};
use crate::stats::{Observation, PartialStats};

/// Counter names the mapper reports (group [`crate::protocol::COUNTER_GROUP`]).
pub mod counters {
    pub const INPUT_RECORDS: &str = "map_input_records";
    pub const MALFORMED_RECORDS: &str = "malformed_records";
    pub const EMPTY_LINES: &str = "map_empty_lines";
    pub const OUTPUT_PARTIALS: &str = "map_output_partials";
}

#[derive(Clone, Debug)]
pub struct MapperConfig {
    pub bad_input: BadInputPolicy,
    /// Distinct keys held in memory before all of them are written out.
    pub max_cached_keys: usize,
    /// Longer lines are malformed (a record is a few kilobytes).
    pub max_line_bytes: usize,
    /// How the input is named in messages.
    pub input_name: String,
}

impl Default for MapperConfig {
    fn default() -> Self {
        MapperConfig {
            bad_input: BadInputPolicy::Skip,
            max_cached_keys: 10_000,
            max_line_bytes: 1 << 20,
            input_name: "standard input".into(),
        }
    }
}

/// What a mapper task did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MapSummary {
    pub records: u64,
    pub malformed: u64,
    pub empty_lines: u64,
    pub partials: u64,
}

/// Runs one map task over `input`, writing partials to `output` and reports to `reporter`.
/// Empty (or blank) lines are counted but not malformed.
pub fn run_mapper<R: Read, W: Write, E: Write>(
    input: R,
    output: W,
    reporter: &mut Reporter<E>,
    config: &MapperConfig,
) -> Result<MapSummary, TaskError> {
    let input_records = reporter.counter(counters::INPUT_RECORDS, VOLUME_COUNTER_BATCH);
    let empty_lines = reporter.counter(counters::EMPTY_LINES, VOLUME_COUNTER_BATCH);
    let output_partials = reporter.counter(counters::OUTPUT_PARTIALS, VOLUME_COUNTER_BATCH);
    let mut bad_lines = BadLines::new(
        reporter,
        counters::MALFORMED_RECORDS,
        config.bad_input,
        config.input_name.clone(),
    );

    let mut lines = LineReader::new(
        BufReader::with_capacity(1 << 20, input),
        config.max_line_bytes,
    );
    let mut output = BufWriter::with_capacity(1 << 16, output);
    let mut groups = GroupCache::new(config.max_cached_keys);
    let mut buffer = Vec::with_capacity(1 << 16);
    let read_error = |source| TaskError::Read {
        input: config.input_name.clone(),
        source,
    };

    while let Some(line) = lines.next_line(&mut buffer).map_err(read_error)? {
        let line_number = lines.line_number();
        let parsed = match line {
            Line::TooLong { length } => Err(format!(
                "line of {length} bytes exceeds the limit of {} bytes",
                config.max_line_bytes
            )),
            Line::Text(bytes) if bytes.trim_ascii().is_empty() => {
                reporter.add(empty_lines, 1).map_err(TaskError::Report)?;
                continue;
            }
            Line::Text(bytes) => parse_record(bytes),
        };
        match parsed {
            Ok(view) => {
                reporter.add(input_records, 1).map_err(TaskError::Report)?;
                groups.add(&view);
                if groups.is_full() {
                    let written = groups.flush(&mut output).map_err(TaskError::Write)?;
                    reporter
                        .add(output_partials, written)
                        .map_err(TaskError::Report)?;
                }
            }
            Err(reason) => bad_lines.handle(reporter, line_number, reason)?,
        }
        reporter
            .tick(|| format!("read {line_number} lines of {}", config.input_name))
            .map_err(TaskError::Report)?;
    }
    let written = groups.flush(&mut output).map_err(TaskError::Write)?;
    reporter
        .add(output_partials, written)
        .map_err(TaskError::Report)?;
    output.flush().map_err(TaskError::Write)?;

    let summary = MapSummary {
        records: reporter.total(input_records),
        malformed: bad_lines.count(reporter),
        empty_lines: reporter.total(empty_lines),
        partials: reporter.total(output_partials),
    };
    reporter
        .finish(&format!(
            "done: {} records, {} malformed lines, {} partials written",
            summary.records, summary.malformed, summary.partials
        ))
        .map_err(TaskError::Report)?;
    Ok(summary)
}

/// Parses one NDJSON line; the error says what is wrong with it.
pub fn parse_record(bytes: &[u8]) -> Result<StatsView, String> {
    let text = utf8_line(bytes)?;
    serde_json::from_str(text).map_err(|e| format!("not a weapon record: {e}"))
}

/// In-mapper combiner: partial aggregates by key, bounded in size.
pub struct GroupCache {
    groups: HashMap<GroupKey, PartialStats>,
    max_keys: usize,
}

impl GroupCache {
    pub fn new(max_keys: usize) -> GroupCache {
        GroupCache {
            groups: HashMap::new(),
            max_keys: max_keys.max(1),
        }
    }

    /// Adds a record to every group it belongs to.
    pub fn add(&mut self, view: &StatsView) {
        let class: WeaponClass = view.class;
        let mut elemental = view.elemental_attributes().peekable();
        let observation = Observation {
            attack: view.attack.into(),
            affinity: view.affinity.into(),
            element: elemental.peek().map(|a| a.value.into()),
            slots: view.slots,
        };
        for key in [
            GroupKey::all(),
            GroupKey::class(class),
            GroupKey::class_rarity(class, view.rarity),
            GroupKey::class_variant(class, view.variant),
        ] {
            self.observe(key, &observation);
        }
        for attribute in elemental {
            let observation = Observation {
                element: Some(attribute.value.into()),
                ..observation
            };
            self.observe(
                GroupKey::class_element(class, attribute.kind.clone()),
                &observation,
            );
            self.observe(GroupKey::element(attribute.kind.clone()), &observation);
        }
    }

    fn observe(&mut self, key: GroupKey, observation: &Observation) {
        self.groups.entry(key).or_default().observe(observation);
    }

    pub fn is_full(&self) -> bool {
        self.groups.len() > self.max_keys
    }

    /// Writes every group as a `key\tpartial` line, sorted by key so that a task's output is
    /// reproducible, and empties the cache. Returns the number of lines written.
    pub fn flush(&mut self, out: &mut impl Write) -> std::io::Result<u64> {
        let mut lines: Vec<(Vec<u8>, PartialStats)> = self
            .groups
            .drain()
            .map(|(key, partial)| {
                let mut text = Vec::with_capacity(32);
                key.write_to(&mut text)
                    .expect("writing to a Vec cannot fail");
                (text, partial)
            })
            .collect();
        lines.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        for (key, partial) in &lines {
            out.write_all(key)?;
            partial.write_fields(out)?;
            out.write_all(b"\n")?;
        }
        Ok(lines.len() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::ReportSettings;

    const LONG_SWORD_FIRE: &str = r#"{"class":"long_sword","variant":"g","rarity":11,"attack":1200,"affinity":-10,"slots":3,"attributes":[{"kind":"defense","value":20},{"kind":"fire","value":300},{"kind":"sleep","value":150}]}"#;
    const BOW_RAW: &str = r#"{"class":"bow","variant":"base","rarity":2,"attack":120,"affinity":5,"slots":0,"attributes":[]}"#;

    fn map(input: &str, config: &MapperConfig) -> (Result<MapSummary, TaskError>, String, String) {
        let mut out = Vec::new();
        let mut err = Vec::new();
        let mut reporter = Reporter::new(&mut err, "mhfz-mapper", &ReportSettings::default());
        let result = run_mapper(input.as_bytes(), &mut out, &mut reporter, config);
        (
            result,
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
        )
    }

    #[test]
    fn emits_one_partial_per_group() {
        let input = format!("{LONG_SWORD_FIRE}\n\n{BOW_RAW}\n{LONG_SWORD_FIRE}\n");
        let (result, out, _) = map(&input, &MapperConfig::default());
        let summary = result.unwrap();
        assert_eq!(
            (summary.records, summary.empty_lines, summary.malformed),
            (3, 1, 0)
        );
        let keys: Vec<&str> = out.lines().map(|l| l.split('\t').next().unwrap()).collect();
        assert_eq!(
            keys,
            [
                "all",
                "class_element|long_sword|fire",
                "class_element|long_sword|sleep",
                "class_rarity|bow|02",
                "class_rarity|long_sword|11",
                "class_variant|bow|base",
                "class_variant|long_sword|g",
                "class|bow",
                "class|long_sword",
                "element|fire",
                "element|sleep",
            ]
        );
        let line = |key: &str| {
            out.lines()
                .find(|l| l.starts_with(&format!("{key}\t")))
                .unwrap()
        };
        // Element dimensions observe their own element; others the first elemental attribute.
        assert_eq!(line("element|sleep"), "element|sleep\t2\t0\t0\t0\t2\t0\t2\t2400\t2880000\t1200\t1200\t2\t-20\t200\t-10\t-10\t2\t300\t45000\t150\t150");
        assert!(line("class|long_sword").ends_with("\t2\t600\t180000\t300\t300"));
        assert!(line("all").starts_with("all\t3\t1\t0\t0\t2\t0\t"));
        assert_eq!(summary.partials, 11);
    }

    #[test]
    fn bounded_cache_flushes_but_totals_stay_the_same() {
        let input = format!("{LONG_SWORD_FIRE}\n{BOW_RAW}\n").repeat(3);
        let config = MapperConfig {
            max_cached_keys: 2,
            ..MapperConfig::default()
        };
        let (result, out, _) = map(&input, &config);
        assert!(result.unwrap().partials > 11);
        let records: u64 = out
            .lines()
            .filter(|l| l.starts_with("all\t"))
            .map(|l| l.split('\t').nth(1).unwrap().parse::<u64>().unwrap())
            .sum();
        assert_eq!(records, 6);
    }

    #[test]
    fn malformed_lines_are_skipped_or_fail_in_strict_mode() {
        let input = format!(
            "{BOW_RAW}\n{{\"class\":\n{}\n",
            BOW_RAW.replace("120", "\"120\"")
        );
        let (result, out, err) = map(&input, &MapperConfig::default());
        assert_eq!(result.unwrap().malformed, 2);
        assert!(out.starts_with("all\t1\t"));
        assert!(
            err.contains("skipping malformed line 2 of standard input: not a weapon record: EOF"),
            "{err}"
        );
        assert!(
            err.contains(
                "line 3 of standard input: not a weapon record: invalid type: string \"120\""
            ),
            "{err}"
        );
        assert!(err.contains("reporter:counter:mhfz,malformed_records,2\n"));

        let config = MapperConfig {
            bad_input: BadInputPolicy::Fail,
            ..MapperConfig::default()
        };
        let (result, _, _) = map(&input, &config);
        let message = result.unwrap_err().to_string();
        assert!(
            message.starts_with("standard input line 2: not a weapon record: EOF"),
            "{message}"
        );
    }
}
