//! The Prometheus text exposition format (version 0.0.4): [`Exposition`] writes metric
//! families, [`parse_samples`] reads the samples back (of text this module wrote: a batch job
//! carries its counters over from the file its previous run left).

use std::collections::BTreeSet;
use std::fmt::Write as _;

use crate::MetricsError;

/// A metric family's type (its `# TYPE` line).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// Text being written: one family after another, each with its `# HELP` and `# TYPE` lines
/// and then its samples.
#[derive(Debug, Default)]
pub struct Exposition {
    text: String,
    families: BTreeSet<String>,
}

/// The family [`Exposition::family`] started: add its samples.
pub struct Family<'e> {
    exposition: &'e mut Exposition,
    name: String,
}

impl Exposition {
    pub fn new() -> Exposition {
        Exposition::default()
    }

    /// Starts the family `name`. A name may be written once (Prometheus refuses a family split
    /// in two).
    pub fn family(
        &mut self,
        name: &str,
        kind: Kind,
        help: &str,
    ) -> Result<Family<'_>, MetricsError> {
        check_metric_name(name)?;
        if !self.families.insert(name.to_string()) {
            return Err(MetricsError::DuplicateFamily { name: name.into() });
        }
        let help = help.replace('\\', "\\\\").replace('\n', "\\n");
        let _ = write!(
            self.text,
            "# HELP {name} {help}\n# TYPE {name} {}\n",
            kind.as_str()
        );
        Ok(Family {
            exposition: self,
            name: name.to_string(),
        })
    }

    /// The text so far.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn into_string(self) -> String {
        self.text
    }
}

impl Family<'_> {
    /// One sample of the family: `name{labels} value`.
    pub fn sample(&mut self, labels: &[(&str, &str)], value: f64) -> Result<(), MetricsError> {
        self.sample_with_suffix("", labels, value)
    }

    /// A sample of a histogram's series: `suffix` is `_bucket`, `_sum` or `_count`.
    pub fn sample_with_suffix(
        &mut self,
        suffix: &str,
        labels: &[(&str, &str)],
        value: f64,
    ) -> Result<(), MetricsError> {
        let text = &mut self.exposition.text;
        text.push_str(&self.name);
        text.push_str(suffix);
        if !labels.is_empty() {
            text.push('{');
            for (index, (name, value)) in labels.iter().enumerate() {
                if !is_label_name(name) {
                    return Err(MetricsError::LabelName {
                        metric: self.name.clone(),
                        name: (*name).into(),
                    });
                }
                if index > 0 {
                    text.push(',');
                }
                let _ = write!(text, "{name}=\"{}\"", escape_label_value(value));
            }
            text.push('}');
        }
        text.push(' ');
        text.push_str(&format_value(value));
        text.push('\n');
        Ok(())
    }
}

/// One sample read back by [`parse_samples`].
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: Vec<(String, String)>,
    pub value: f64,
}

impl Sample {
    /// The value of label `name`, if the sample has it.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(label, _)| label == name)
            .map(|(_, value)| value.as_str())
    }
}

/// The samples of `text` (comments and blank lines skipped; no timestamps).
pub fn parse_samples(text: &str) -> Result<Vec<Sample>, MetricsError> {
    let mut samples = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let error = |problem| MetricsError::Parse {
            line_number: index + 1,
            line: line.into(),
            problem,
        };
        let name_end = line.find(['{', ' ']).ok_or_else(|| error("no value"))?;
        let name = &line[..name_end];
        if !is_metric_name(name) {
            return Err(error("not a metric name"));
        }
        let (labels, rest) = if line[name_end..].starts_with('{') {
            parse_labels(&line[name_end + 1..]).ok_or_else(|| error("bad labels"))?
        } else {
            (Vec::new(), &line[name_end..])
        };
        let value = parse_value(rest.trim()).ok_or_else(|| error("bad value"))?;
        samples.push(Sample {
            name: name.into(),
            labels,
            value,
        });
    }
    Ok(samples)
}

/// `name="value",...}` → the labels and what follows the `}`.
fn parse_labels(mut rest: &str) -> Option<(Vec<(String, String)>, &str)> {
    let mut labels = Vec::new();
    loop {
        rest = rest.trim_start_matches([' ', ',']);
        if let Some(after) = rest.strip_prefix('}') {
            return Some((labels, after));
        }
        let (name, after) = rest.split_once('=')?;
        let mut chars = after.strip_prefix('"')?.char_indices();
        let mut value = String::new();
        let end = loop {
            match chars.next()? {
                (i, '"') => break i,
                (_, '\\') => match chars.next()?.1 {
                    'n' => value.push('\n'),
                    other => value.push(other),
                },
                (_, c) => value.push(c),
            }
        };
        labels.push((name.trim().to_string(), value));
        rest = &after[1 + end + 1..];
    }
}

fn parse_value(text: &str) -> Option<f64> {
    match text {
        "+Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        "NaN" => Some(f64::NAN),
        _ => text.parse().ok(),
    }
}

/// Go's spelling of the special values; Rust's `Display` otherwise (shortest exact form, never
/// an exponent), which Prometheus parses.
fn format_value(value: f64) -> String {
    if value.is_nan() {
        "NaN".into()
    } else if value.is_infinite() {
        if value > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        value.to_string()
    }
}

fn escape_label_value(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn check_metric_name(name: &str) -> Result<(), MetricsError> {
    if is_metric_name(name) {
        Ok(())
    } else {
        Err(MetricsError::MetricName { name: name.into() })
    }
}

/// `[a-zA-Z_:][a-zA-Z0-9_:]*`
fn is_metric_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_' || b == b':')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':')
}

/// `[a-zA-Z_][a-zA-Z0-9_]*`, not starting with `__` (reserved).
fn is_label_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    !name.starts_with("__")
        && bytes
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_are_written_with_help_type_and_escaped_labels() {
        let mut out = Exposition::new();
        let mut family = out
            .family("mhfz_x_total", Kind::Counter, "Things\\done.\nTwice.")
            .unwrap();
        family.sample(&[("stage", "a\"b\\c\nd")], 3.0).unwrap();
        family.sample(&[], 0.25).unwrap();
        let mut histogram = out.family("mhfz_h_seconds", Kind::Histogram, "H.").unwrap();
        histogram
            .sample_with_suffix("_bucket", &[("le", "+Inf")], 2.0)
            .unwrap();
        histogram
            .sample_with_suffix("_sum", &[], f64::INFINITY)
            .unwrap();
        out.family("mhfz_g", Kind::Gauge, "G.")
            .unwrap()
            .sample(&[("a", "1"), ("b", "2")], 1e20)
            .unwrap();
        assert_eq!(
            out.as_str(),
            "# HELP mhfz_x_total Things\\\\done.\\nTwice.\n\
             # TYPE mhfz_x_total counter\n\
             mhfz_x_total{stage=\"a\\\"b\\\\c\\nd\"} 3\n\
             mhfz_x_total 0.25\n\
             # HELP mhfz_h_seconds H.\n\
             # TYPE mhfz_h_seconds histogram\n\
             mhfz_h_seconds_bucket{le=\"+Inf\"} 2\n\
             mhfz_h_seconds_sum +Inf\n\
             # HELP mhfz_g G.\n\
             # TYPE mhfz_g gauge\n\
             mhfz_g{a=\"1\",b=\"2\"} 100000000000000000000\n"
        );
    }

    #[test]
    fn bad_names_and_repeated_families_are_refused() {
        let mut out = Exposition::new();
        assert!(matches!(
            out.family("9lives", Kind::Gauge, ""),
            Err(MetricsError::MetricName { .. })
        ));
        assert!(matches!(
            out.family("a-b", Kind::Gauge, ""),
            Err(MetricsError::MetricName { .. })
        ));
        out.family("ok", Kind::Gauge, "").unwrap();
        assert!(matches!(
            out.family("ok", Kind::Gauge, ""),
            Err(MetricsError::DuplicateFamily { .. })
        ));
        let mut family = out.family("ok2", Kind::Gauge, "").unwrap();
        for bad in ["__reserved", "a-b", "", "1a"] {
            assert!(matches!(
                family.sample(&[(bad, "v")], 1.0),
                Err(MetricsError::LabelName { .. })
            ));
        }
    }

    #[test]
    fn written_samples_read_back() {
        let mut out = Exposition::new();
        let mut family = out.family("m_total", Kind::Counter, "M.").unwrap();
        family
            .sample(&[("stage", "lo\"ad"), ("x", "a,b}\\\n")], 12.5)
            .unwrap();
        family.sample(&[], 7.0).unwrap();
        out.family("n", Kind::Gauge, "N.")
            .unwrap()
            .sample(&[], f64::NEG_INFINITY)
            .unwrap();
        let samples = parse_samples(out.as_str()).unwrap();
        assert_eq!(
            samples,
            [
                Sample {
                    name: "m_total".into(),
                    labels: vec![
                        ("stage".into(), "lo\"ad".into()),
                        ("x".into(), "a,b}\\\n".into())
                    ],
                    value: 12.5
                },
                Sample {
                    name: "m_total".into(),
                    labels: vec![],
                    value: 7.0
                },
                Sample {
                    name: "n".into(),
                    labels: vec![],
                    value: f64::NEG_INFINITY
                },
            ]
        );
        assert_eq!(samples[0].label("stage"), Some("lo\"ad"));
        assert_eq!(samples[1].label("stage"), None);
    }

    #[test]
    fn unreadable_lines_are_errors_naming_the_line() {
        for (text, line) in [
            ("a 1\nb\n", 2),
            ("a{x=\"1} 2\n", 1),
            ("# c\na{x=1} 2\n", 2),
            ("a one\n", 1),
            ("-a 1\n", 1),
        ] {
            match parse_samples(text) {
                Err(MetricsError::Parse { line_number, .. }) => {
                    assert_eq!(line_number, line, "{text:?}")
                }
                other => panic!("{text:?}: {other:?}"),
            }
        }
    }
}
