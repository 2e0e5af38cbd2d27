//! The reducer's output: one stream of lines of three kinds, each the row of its own Hive table,
//! all defined here once.
//!
//! | kind                     | table               | line                                         |
//! |--------------------------|---------------------|----------------------------------------------|
//! | [`RowKind::Statistics`]  | `weapon_statistics` | the row itself ([`statistics::COLUMNS`])     |
//! | [`RowKind::Histogram`]   | `weapon_histograms` | `histogram<TAB>` + the row ([`HISTOGRAM_COLUMNS`]) |
//! | [`RowKind::Top`]         | `weapon_top`        | `top<TAB>` + the row ([`TOP_COLUMNS`])       |
//!
//! A line's kind is decided by its first field ([`RowKind::of_line`]): the tags `histogram` and
//! `top` are not statistics dimensions, and statistics lines are untagged so that they stay
//! byte-identical to what the reducer wrote before the other kinds existed. Loading a line into
//! its table drops the tag ([`RowKind::split_line`]). Rows are tab-separated; NULL is `\N`.
//! [`OutputRow`] parses a line into typed values (what a consumer of the tables should use).

mod histogram;
mod parse;
pub mod statistics;
mod top;

use std::io::{self, Write};

use crate::key::{HISTOGRAM_NAMESPACE, TOP_NAMESPACE};
use crate::stats::Decimal;
use crate::text;

pub use histogram::{write_histogram_rows, HISTOGRAM_COLUMNS};
pub use parse::{HistogramRow, MetricSummary, OutputRow, RowError, StatisticsRow, TopRow};
pub use statistics::{StatsRow, COLUMNS, COLUMN_COUNT};
pub use top::{write_top_rows, TOP_COLUMNS};

/// One column of a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Column {
    pub name: &'static str,
    pub hive_type: &'static str,
    pub doc: &'static str,
}

const fn column(name: &'static str, hive_type: &'static str, doc: &'static str) -> Column {
    Column {
        name,
        hive_type,
        doc,
    }
}

/// Hive's text-format NULL.
pub const NULL: &str = "\\N";

/// The kinds of output rows, one Hive table each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RowKind {
    Statistics,
    Histogram,
    Top,
}

impl RowKind {
    pub const ALL: [RowKind; 3] = [RowKind::Statistics, RowKind::Histogram, RowKind::Top];

    /// The Hive table (and the file stem of its TSV, e.g. `weapon_top.tsv`).
    pub const fn table_name(self) -> &'static str {
        match self {
            RowKind::Statistics => "weapon_statistics",
            RowKind::Histogram => "weapon_histograms",
            RowKind::Top => "weapon_top",
        }
    }

    pub const fn table_comment(self) -> &'static str {
        match self {
            RowKind::Statistics => "MHFZ weapon statistics computed by the mhfz-streaming Hadoop job",
            RowKind::Histogram => {
                "MHFZ weapon histograms (fixed-width buckets, non-empty only) computed by the mhfz-streaming Hadoop job"
            }
            RowKind::Top => "MHFZ top weapons per class and metric computed by the mhfz-streaming Hadoop job",
        }
    }

    /// The table's columns, in row order.
    pub const fn columns(self) -> &'static [Column] {
        match self {
            RowKind::Statistics => &COLUMNS,
            RowKind::Histogram => &HISTOGRAM_COLUMNS,
            RowKind::Top => &TOP_COLUMNS,
        }
    }

    /// The first field of this kind's lines in the reducer output, if any.
    pub const fn tag(self) -> Option<&'static str> {
        match self {
            RowKind::Statistics => None,
            RowKind::Histogram => Some(HISTOGRAM_NAMESPACE),
            RowKind::Top => Some(TOP_NAMESPACE),
        }
    }

    /// The kind of a reducer output line, from its first field.
    pub fn of_line(line: &[u8]) -> RowKind {
        Self::split_line(line).0
    }

    /// A reducer output line's kind and its table row (the line without its tag).
    pub fn split_line(line: &[u8]) -> (RowKind, &[u8]) {
        let (first, rest) = match line.iter().position(|&b| b == b'\t') {
            Some(tab) => (&line[..tab], &line[tab + 1..]),
            None => (line, &line[line.len()..]),
        };
        for kind in [RowKind::Histogram, RowKind::Top] {
            if kind.tag().map(str::as_bytes) == Some(first) {
                return (kind, rest);
            }
        }
        (RowKind::Statistics, line)
    }
}

/// One value of a row.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Field<'a> {
    Null,
    /// Written verbatim (ids and already escaped text).
    Text(&'a str),
    /// Free text, written with the `%XX` escape ([`crate::text`]).
    Escaped(&'a str),
    Integer(i64),
    Count(u64),
    Decimal(f64),
}

impl<'a> Field<'a> {
    fn write_to(&self, out: &mut impl Write) -> io::Result<()> {
        match self {
            Field::Null => out.write_all(NULL.as_bytes()),
            Field::Text(text) => out.write_all(text.as_bytes()),
            Field::Escaped(text) => text::write_escaped(text, out),
            Field::Integer(value) => write!(out, "{value}"),
            Field::Count(value) => write!(out, "{value}"),
            Field::Decimal(value) => write!(out, "{}", Decimal(*value)),
        }
    }

    fn optional<T>(value: Option<T>, field: impl FnOnce(T) -> Field<'a>) -> Field<'a> {
        value.map_or(Field::Null, field)
    }
}

/// Writes one output line: the tag (if any), then the fields, tab-separated.
fn write_line(tag: Option<&str>, fields: &[Field<'_>], out: &mut impl Write) -> io::Result<()> {
    if let Some(tag) = tag {
        out.write_all(tag.as_bytes())?;
        out.write_all(b"\t")?;
    }
    for (index, field) in fields.iter().enumerate() {
        if index > 0 {
            out.write_all(b"\t")?;
        }
        field.write_to(out)?;
    }
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_has_unique_hive_identifiers_as_column_names() {
        for kind in RowKind::ALL {
            let mut names: Vec<_> = kind.columns().iter().map(|c| c.name).collect();
            assert!(names.iter().all(|n| n
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')));
            names.sort();
            names.dedup();
            assert_eq!(names.len(), kind.columns().len(), "{kind:?}");
        }
    }

    #[test]
    fn the_first_field_decides_the_kind() {
        let cases: [(&[u8], RowKind, &[u8]); 5] = [
            (b"all\t\\N\t1", RowKind::Statistics, b"all\t\\N\t1"),
            (b"class\tbow", RowKind::Statistics, b"class\tbow"),
            (b"histogram\tclass\tbow", RowKind::Histogram, b"class\tbow"),
            (b"top\tbow\tattack", RowKind::Top, b"bow\tattack"),
            (b"topx\tbow", RowKind::Statistics, b"topx\tbow"),
        ];
        for (line, kind, row) in cases {
            assert_eq!(RowKind::split_line(line), (kind, row));
            assert_eq!(RowKind::of_line(line), kind);
        }
        // No statistics dimension is named like a tag.
        for dimension in crate::key::Dimension::ALL {
            assert!(RowKind::ALL
                .iter()
                .all(|kind| kind.tag() != Some(dimension.name())));
        }
    }
}
