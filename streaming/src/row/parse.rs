//! Typed reading of output lines: what consumers of the tables (the HTML report) use.
//!
//! [`OutputRow::parse`] takes a reducer output line (tagged, see [`super`]);
//! [`OutputRow::parse_table_row`] a line of one table's own file (no tag), e.g. of
//! `out/weapon_top.tsv` or a Hive partition file. Only what the reducer writes is accepted.

use mhfz_record::{PageVariant, WeaponClass};

use super::{RowKind, NULL};
use crate::key::HistogramDimension;
use crate::metric::Metric;
use crate::text;

/// A parsed output line.
// Rows are parsed one at a time; boxing the statistics row would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum OutputRow {
    Statistics(StatisticsRow),
    Histogram(HistogramRow),
    Top(TopRow),
}

/// Min, max, mean and standard deviation of a metric; all `None` without observations.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct MetricSummary {
    pub min: Option<i64>,
    pub max: Option<i64>,
    pub mean: Option<f64>,
    pub stddev: Option<f64>,
}

/// A `weapon_statistics` row.
#[derive(Clone, Debug, PartialEq)]
pub struct StatisticsRow {
    /// `all`, `class`, `class_rarity`, `class_variant`, `class_element` or `element`.
    pub dimension: String,
    pub class: Option<WeaponClass>,
    pub rarity: Option<u8>,
    /// The element id as written (`%XX`-escaped if it is an unknown label).
    pub element: Option<String>,
    pub variant: Option<PageVariant>,
    pub records: u64,
    pub attack: MetricSummary,
    pub affinity: MetricSummary,
    pub element_records: u64,
    pub element_value: MetricSummary,
    /// Records with 0, 1, 2, 3 and 4-or-more slots.
    pub slots: [u64; 5],
}

/// A `weapon_histograms` row: one non-empty bucket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistogramRow {
    pub dimension: HistogramDimension,
    pub class: WeaponClass,
    /// `Some` exactly for [`HistogramDimension::ClassRarity`].
    pub rarity: Option<u8>,
    pub metric: Metric,
    /// Inclusive lower bound; the bucket is `[bucket_min, bucket_min + bucket_width)`.
    pub bucket_min: i64,
    pub bucket_width: i64,
    pub records: u64,
}

/// A `weapon_top` row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopRow {
    pub class: WeaponClass,
    pub metric: Metric,
    /// 1 to [`crate::top::TOP_N`].
    pub rank: u32,
    pub weapon_id: String,
    /// Unescaped.
    pub name: String,
    pub rarity: u8,
    pub value: i64,
}

impl OutputRow {
    /// Parses a reducer output line (with or without its trailing newline).
    pub fn parse(line: &str) -> Result<OutputRow, RowError> {
        let (kind, row) = RowKind::split_line(line.as_bytes());
        let row = &line[line.len() - row.len()..];
        OutputRow::parse_table_row(kind, row)
    }

    /// Parses a row of `kind`'s table (a line without the tag).
    pub fn parse_table_row(kind: RowKind, row: &str) -> Result<OutputRow, RowError> {
        let row = row.strip_suffix('\n').unwrap_or(row);
        let fields: Vec<&str> = row.split('\t').collect();
        if fields.len() != kind.columns().len() {
            return Err(RowError::FieldCount {
                table: kind.table_name(),
                expected: kind.columns().len(),
                found: fields.len(),
            });
        }
        let mut fields = Fields {
            kind,
            fields,
            next: 0,
        };
        Ok(match kind {
            RowKind::Statistics => OutputRow::Statistics(statistics(&mut fields)?),
            RowKind::Histogram => OutputRow::Histogram(histogram(&mut fields)?),
            RowKind::Top => OutputRow::Top(top(&mut fields)?),
        })
    }

    pub fn kind(&self) -> RowKind {
        match self {
            OutputRow::Statistics(_) => RowKind::Statistics,
            OutputRow::Histogram(_) => RowKind::Histogram,
            OutputRow::Top(_) => RowKind::Top,
        }
    }
}

/// The fields of one row, read in column order.
struct Fields<'a> {
    kind: RowKind,
    fields: Vec<&'a str>,
    next: usize,
}

impl<'a> Fields<'a> {
    fn next_raw(&mut self) -> (&'static str, &'a str) {
        let column = self.kind.columns()[self.next].name;
        let field = self.fields[self.next];
        self.next += 1;
        (column, field)
    }

    fn invalid(&self, column: &'static str, field: &str) -> RowError {
        RowError::Invalid {
            table: self.kind.table_name(),
            column,
            field: field.chars().take(60).collect(),
        }
    }

    fn optional<T>(
        &mut self,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Result<Option<T>, RowError> {
        let (column, field) = self.next_raw();
        if field == NULL {
            return Ok(None);
        }
        parse(field)
            .map(Some)
            .ok_or_else(|| self.invalid(column, field))
    }

    fn required<T>(&mut self, parse: impl FnOnce(&str) -> Option<T>) -> Result<T, RowError> {
        let (column, field) = self.next_raw();
        parse(field).ok_or_else(|| self.invalid(column, field))
    }
}

fn number<T: std::str::FromStr>(field: &str) -> Option<T> {
    (!field.starts_with('+')).then(|| field.parse().ok())?
}

fn class(field: &str) -> Option<WeaponClass> {
    WeaponClass::ALL.into_iter().find(|c| c.id() == field)
}

fn metric_summary(fields: &mut Fields<'_>) -> Result<MetricSummary, RowError> {
    Ok(MetricSummary {
        min: fields.optional(number)?,
        max: fields.optional(number)?,
        mean: fields.optional(number)?,
        stddev: fields.optional(number)?,
    })
}

fn statistics(fields: &mut Fields<'_>) -> Result<StatisticsRow, RowError> {
    Ok(StatisticsRow {
        dimension: fields.required(|f| Some(f.to_string()))?,
        class: fields.optional(class)?,
        rarity: fields.optional(number)?,
        element: fields.optional(|f| Some(f.to_string()))?,
        variant: fields.optional(|f| PageVariant::ALL.into_iter().find(|v| v.id() == f))?,
        records: fields.required(number)?,
        attack: metric_summary(fields)?,
        affinity: metric_summary(fields)?,
        element_records: fields.required(number)?,
        element_value: metric_summary(fields)?,
        slots: [
            fields.required(number)?,
            fields.required(number)?,
            fields.required(number)?,
            fields.required(number)?,
            fields.required(number)?,
        ],
    })
}

fn histogram(fields: &mut Fields<'_>) -> Result<HistogramRow, RowError> {
    let dimension =
        fields.required(|f| HistogramDimension::ALL.into_iter().find(|d| d.name() == f))?;
    let row = HistogramRow {
        dimension,
        class: fields.required(class)?,
        rarity: fields.optional(number)?,
        metric: fields.required(Metric::from_name)?,
        bucket_min: fields.required(number)?,
        bucket_width: fields.required(number)?,
        records: fields.required(number)?,
    };
    if row.rarity.is_some() != (dimension == HistogramDimension::ClassRarity) {
        return Err(fields.invalid("rarity", "NULL exactly unless class_rarity"));
    }
    Ok(row)
}

fn top(fields: &mut Fields<'_>) -> Result<TopRow, RowError> {
    Ok(TopRow {
        class: fields.required(class)?,
        metric: fields.required(Metric::from_name)?,
        rank: fields.required(number)?,
        weapon_id: fields.required(|f| text::is_plain_token(f).then(|| f.to_string()))?,
        name: fields.required(text::unescape)?,
        rarity: fields.required(number)?,
        value: fields.required(number)?,
    })
}

/// Why a line is not a row the reducer writes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RowError {
    #[error("a {table} row has {expected} tab-separated fields, found {found}")]
    FieldCount {
        table: &'static str,
        expected: usize,
        found: usize,
    },
    #[error("invalid {table}.{column} value {field:?}")]
    Invalid {
        table: &'static str,
        column: &'static str,
        field: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_kind_of_line() {
        let stats = "class_rarity\tlong_sword\t7\t\\N\t\\N\t3\t1000\t1200\t1100.0000\t81.6497\t\
                     -5\t-5\t-5.0000\t0.0000\t0\t\\N\t\\N\t\\N\t\\N\t1\t0\t0\t1\t1\n";
        let OutputRow::Statistics(row) = OutputRow::parse(stats).unwrap() else {
            panic!("not a statistics row");
        };
        assert_eq!(row.class, Some(WeaponClass::LongSword));
        assert_eq!(
            (row.rarity, row.records, row.attack.mean),
            (Some(7), 3, Some(1100.0))
        );
        assert_eq!(row.element_value, MetricSummary::default());

        let histogram = "histogram\tclass\tbow\t\\N\taffinity\t-5\t5\t4";
        assert_eq!(
            OutputRow::parse(histogram).unwrap(),
            OutputRow::Histogram(HistogramRow {
                dimension: HistogramDimension::Class,
                class: WeaponClass::Bow,
                rarity: None,
                metric: Metric::Affinity,
                bucket_min: -5,
                bucket_width: 5,
                records: 4,
            })
        );
        let top = "top\tbow\tattack\t2\tbow:g:b\tB%09b\t7\t900\n";
        let parsed = OutputRow::parse(top).unwrap();
        assert_eq!(parsed.kind(), RowKind::Top);
        assert_eq!(
            parsed,
            OutputRow::Top(TopRow {
                class: WeaponClass::Bow,
                metric: Metric::Attack,
                rank: 2,
                weapon_id: "bow:g:b".into(),
                name: "B\tb".into(),
                rarity: 7,
                value: 900,
            })
        );
        // A table file's row has no tag.
        assert_eq!(
            OutputRow::parse_table_row(RowKind::Top, &top[4..]).unwrap(),
            parsed
        );
    }

    #[test]
    fn rejects_rows_the_reducer_cannot_write() {
        for bad in [
            "histogram\tclass\tbow\t3\taffinity\t-5\t5\t4",
            "histogram\tclass_rarity\tbow\t\\N\taffinity\t-5\t5\t4",
            "histogram\tclass\tbow\t\\N\tslots\t-5\t5\t4",
            "top\tbow\tattack\t2\tbow:g:b\tB%0\t7\t900",
            "top\tbow\tattack\t2\tbow:g:b\t7\t900",
            "class\tbow",
        ] {
            assert!(OutputRow::parse(bad).is_err(), "{bad:?} accepted");
        }
    }
}
