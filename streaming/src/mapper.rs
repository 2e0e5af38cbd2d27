//! The mapper: weapon records (NDJSON) in, `key\tpartial` lines out.
//!
//! Each record is parsed into a [`StatsView`] (only the fields statistics need) and added to
//! every group it belongs to (see [`crate::key`]): `all`, `class`, `class_rarity` and
//! `class_variant` once, and `class_element` and `element` once per elemental attribute, with
//! that attribute's value as the element observation. Elsewhere the element observation is the
//! record's first elemental attribute, if any.
//!
//! Beside the statistics groups, each record is counted in the histograms of its class and
//! rarity ([`crate::histogram`]; the per-class histograms are their sums, made when written) and
//! offered to the top-N lists of its class ([`crate::top`]), for attack, element value and
//! affinity ([`crate::metric`]). A list's cheap admission test comes before any string is
//! copied, so the top-N lists cost little per record.
//!
//! Groups are combined in memory (in-mapper combining) in a map bounded to a configurable number
//! of keys (histograms and top-N lists count as keys too); when it grows past the bound every entry is written out and the map starts empty, so
//! memory stays bounded whatever the input. Written partials use the combiner's encoding, so the
//! same key may appear several times in the output; the reducer merges them exactly.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufReader, BufWriter, Read, Write};

use mhfz_record::{StatsView, WeaponClass};

use crate::histogram::Histogram;
use crate::key::{GroupKey, HistogramKey, TopKey};
use crate::metric::{Metric, MetricValues};
use crate::protocol::{
    utf8_line, BadInputPolicy, BadLines, Line, LineReader, Reporter, TaskError,
    VOLUME_COUNTER_BATCH,
};
use crate::stats::{Observation, PartialStats};
use crate::text;
use crate::top::{TopEntry, TopList};

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
pub fn parse_record(bytes: &[u8]) -> Result<StatsView<'_>, String> {
    let line = utf8_line(bytes)?;
    let view: StatsView =
        serde_json::from_str(line).map_err(|e| format!("not a weapon record: {e}"))?;
    // Top-N rows write the id verbatim; the record crate never builds another kind.
    if !text::is_plain_token(&view.weapon_id) {
        return Err(format!(
            "weapon_id {:?} contains whitespace, a control character or a backslash",
            view.weapon_id.chars().take(60).collect::<String>()
        ));
    }
    Ok(view)
}

/// One histogram per metric, in [`Metric::ALL`] order.
type Histograms = [Histogram; Metric::ALL.len()];
/// One top-N list per metric, in [`Metric::ALL`] order.
type TopLists = [TopList; Metric::ALL.len()];

fn new_histograms() -> Histograms {
    Metric::ALL.map(Histogram::new)
}

/// In-mapper combiner: partial aggregates by key, bounded in size.
pub struct GroupCache {
    groups: HashMap<GroupKey, PartialStats>,
    /// Per class and rarity; per-class histograms are summed from these when written.
    histograms: HashMap<(WeaponClass, u8), Histograms>,
    tops: HashMap<WeaponClass, TopLists>,
    max_keys: usize,
}

impl GroupCache {
    pub fn new(max_keys: usize) -> GroupCache {
        GroupCache {
            groups: HashMap::new(),
            histograms: HashMap::new(),
            tops: HashMap::new(),
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
        self.add_to_histograms_and_tops(
            view,
            &MetricValues {
                attack: observation.attack,
                element: observation.element,
                affinity: observation.affinity,
            },
        );
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

    fn add_to_histograms_and_tops(&mut self, view: &StatsView, values: &MetricValues) {
        let histograms = self
            .histograms
            .entry((view.class, view.rarity))
            .or_insert_with(new_histograms);
        let tops = self.tops.entry(view.class).or_default();
        for metric in Metric::ALL {
            let Some(value) = values.get(metric) else {
                continue;
            };
            histograms[metric.index()].observe(value);
            let top = &mut tops[metric.index()];
            if top.admits(value, &view.weapon_id) {
                top.insert(TopEntry {
                    value,
                    weapon_id: view.weapon_id.to_string(),
                    name: view.name.to_string(),
                    rarity: view.rarity,
                });
            }
        }
    }

    /// Keys held: statistics groups, and per metric the class-rarity histograms, their class
    /// sums and the top-N lists.
    fn held_keys(&self) -> usize {
        let classes = self.tops.len();
        self.groups.len() + Metric::ALL.len() * (self.histograms.len() + 2 * classes)
    }

    pub fn is_full(&self) -> bool {
        self.held_keys() > self.max_keys
    }

    /// Writes every group, histogram and top-N list as a `key\tpartial` line, sorted by key so
    /// that a task's output is reproducible, and empties the cache. Returns the number of lines
    /// written.
    pub fn flush(&mut self, out: &mut impl Write) -> std::io::Result<u64> {
        let mut lines: Vec<(Vec<u8>, Vec<u8>)> = Vec::with_capacity(self.held_keys());
        let mut line =
            |write_key: &dyn Fn(&mut Vec<u8>) -> std::io::Result<()>,
             write_value: &dyn Fn(&mut Vec<u8>) -> std::io::Result<()>| {
                let (mut key, mut value) = (Vec::with_capacity(32), Vec::with_capacity(128));
                write_key(&mut key).expect("writing to a Vec cannot fail");
                write_value(&mut value).expect("writing to a Vec cannot fail");
                lines.push((key, value));
            };
        for (key, partial) in self.groups.drain() {
            line(&|out| key.write_to(out), &|out| partial.write_fields(out));
        }
        let mut per_class: BTreeMap<WeaponClass, Histograms> = BTreeMap::new();
        for ((class, rarity), histograms) in self.histograms.drain() {
            let sums = per_class.entry(class).or_insert_with(new_histograms);
            for (metric, histogram) in Metric::ALL.into_iter().zip(&histograms) {
                sums[metric.index()]
                    .merge(histogram)
                    .expect("counts of records held in memory cannot overflow");
                let key = HistogramKey {
                    class,
                    rarity: Some(rarity),
                    metric,
                };
                if !histogram.is_empty() {
                    line(&|out| key.write_to(out), &|out| histogram.write_fields(out));
                }
            }
        }
        for (class, histograms) in &per_class {
            for (metric, histogram) in Metric::ALL.into_iter().zip(histograms) {
                let key = HistogramKey {
                    class: *class,
                    rarity: None,
                    metric,
                };
                if !histogram.is_empty() {
                    line(&|out| key.write_to(out), &|out| histogram.write_fields(out));
                }
            }
        }
        for (class, tops) in self.tops.drain() {
            for (metric, top) in Metric::ALL.into_iter().zip(&tops) {
                let key = TopKey { class, metric };
                if !top.is_empty() {
                    line(&|out| key.write_to(out), &|out| top.write_fields(out));
                }
            }
        }
        lines.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        for (key, value) in &lines {
            out.write_all(key)?;
            out.write_all(value)?;
            out.write_all(b"\n")?;
        }
        Ok(lines.len() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::ReportSettings;

    const LONG_SWORD_FIRE: &str = r#"{"class":"long_sword","variant":"g","rarity":11,"attack":1200,"affinity":-10,"slots":3,"attributes":[{"kind":"defense","value":20},{"kind":"fire","value":300},{"kind":"sleep","value":150}],"weapon_id":"long_sword:g:l1","name":"Blade\tX"}"#;
    const BOW_RAW: &str = r#"{"class":"bow","variant":"base","rarity":2,"attack":120,"affinity":5,"slots":0,"attributes":[],"weapon_id":"bow:base:l2","name":"Bow"}"#;

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
                "histogram|class_rarity|bow|02|affinity",
                "histogram|class_rarity|bow|02|attack",
                "histogram|class_rarity|long_sword|11|affinity",
                "histogram|class_rarity|long_sword|11|attack",
                "histogram|class_rarity|long_sword|11|element",
                "histogram|class|bow|affinity",
                "histogram|class|bow|attack",
                "histogram|class|long_sword|affinity",
                "histogram|class|long_sword|attack",
                "histogram|class|long_sword|element",
                "top|bow|affinity",
                "top|bow|attack",
                "top|long_sword|affinity",
                "top|long_sword|attack",
                "top|long_sword|element",
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
        // The bow has no element: no element histogram or list. The long sword's first
        // elemental attribute (fire 300) is its element value; the record read twice is listed
        // once, its name escaped.
        assert_eq!(
            line("histogram|class|long_sword|element"),
            "histogram|class|long_sword|element\t300\t2"
        );
        assert_eq!(
            line("histogram|class|long_sword|affinity"),
            "histogram|class|long_sword|affinity\t-10\t2"
        );
        assert_eq!(
            line("top|long_sword|element"),
            "top|long_sword|element\t300\tlong_sword:g:l1\t11\tBlade%09X"
        );
        assert_eq!(summary.partials, 26);
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
