//! The statistics row (table `weapon_statistics`): one per statistics key.
//!
//! [`COLUMNS`] lists every column with its Hive type; [`StatsRow::fields`] returns exactly
//! [`COLUMN_COUNT`] values (the array length makes a mismatch a compile error). A coordinate
//! that is not part of the row's dimension, and a statistic of a metric with no observations,
//! is Hive's NULL, `\N`. Means and standard deviations have exactly four decimals. These lines
//! carry no tag: they are what the reducer wrote before the other kinds existed.

use std::io::{self, Write};

use super::{column, write_line, Column, Field};
use crate::key::ParsedKey;
use crate::stats::{MetricStats, PartialStats};

pub const COLUMN_COUNT: usize = 24;

/// The statistics table's columns, in row order.
pub const COLUMNS: [Column; COLUMN_COUNT] = [
    column(
        "dimension",
        "STRING",
        "grouping: all, class, class_rarity, class_variant, class_element or element",
    ),
    column(
        "class",
        "STRING",
        "weapon class id, e.g. long_sword; NULL unless the dimension has a class",
    ),
    column(
        "rarity",
        "INT",
        "rarity 1-12; NULL unless the dimension is class_rarity",
    ),
    column(
        "element",
        "STRING",
        "element or status id, e.g. fire; NULL unless the dimension has an element",
    ),
    column(
        "variant",
        "STRING",
        "page variant: base, g, s, sp or n; NULL unless the dimension is class_variant",
    ),
    column(
        "records",
        "BIGINT",
        "weapon records in the group (element dimensions: records with that element)",
    ),
    column("attack_min", "BIGINT", "lowest displayed attack"),
    column("attack_max", "BIGINT", "highest displayed attack"),
    column("attack_mean", "DOUBLE", "mean displayed attack"),
    column(
        "attack_stddev",
        "DOUBLE",
        "population standard deviation of displayed attack",
    ),
    column("affinity_min", "BIGINT", "lowest affinity in percent"),
    column("affinity_max", "BIGINT", "highest affinity in percent"),
    column("affinity_mean", "DOUBLE", "mean affinity in percent"),
    column(
        "affinity_stddev",
        "DOUBLE",
        "population standard deviation of affinity",
    ),
    column(
        "element_records",
        "BIGINT",
        "records with an element or status value",
    ),
    column(
        "element_min",
        "BIGINT",
        "lowest element or status value; NULL if element_records is 0",
    ),
    column(
        "element_max",
        "BIGINT",
        "highest element or status value; NULL if element_records is 0",
    ),
    column(
        "element_mean",
        "DOUBLE",
        "mean element or status value; NULL if element_records is 0",
    ),
    column(
        "element_stddev",
        "DOUBLE",
        "population standard deviation of the element or status value",
    ),
    column("slots_0", "BIGINT", "records with no decoration slot"),
    column("slots_1", "BIGINT", "records with 1 slot"),
    column("slots_2", "BIGINT", "records with 2 slots"),
    column("slots_3", "BIGINT", "records with 3 slots"),
    column("slots_4_plus", "BIGINT", "records with 4 or more slots"),
];

/// A group's final statistics, ready to be written as one TSV line.
pub struct StatsRow<'a> {
    pub key: &'a ParsedKey<'a>,
    pub stats: &'a PartialStats,
}

impl<'a> StatsRow<'a> {
    /// The row's values, in [`COLUMNS`] order.
    pub fn fields(&self) -> [Field<'a>; COLUMN_COUNT] {
        let key = self.key;
        let stats = self.stats;
        let [min, max, mean, stddev] = metric_fields(&stats.attack);
        let [affinity_min, affinity_max, affinity_mean, affinity_stddev] =
            metric_fields(&stats.affinity);
        let [element_min, element_max, element_mean, element_stddev] =
            metric_fields(&stats.element);
        let [slots_0, slots_1, slots_2, slots_3, slots_4_plus] = stats.slots.map(Field::Count);
        [
            Field::Text(key.dimension.name()),
            Field::optional(key.class, |c| Field::Text(c.id())),
            Field::optional(key.rarity, |r| Field::Integer(r.into())),
            Field::optional(key.element, Field::Text),
            Field::optional(key.variant, |v| Field::Text(v.id())),
            Field::Count(stats.records),
            min,
            max,
            mean,
            stddev,
            affinity_min,
            affinity_max,
            affinity_mean,
            affinity_stddev,
            Field::Count(stats.element.count),
            element_min,
            element_max,
            element_mean,
            element_stddev,
            slots_0,
            slots_1,
            slots_2,
            slots_3,
            slots_4_plus,
        ]
    }

    /// Writes the row as one tab-separated line.
    pub fn write_tsv(&self, out: &mut impl Write) -> io::Result<()> {
        write_line(None, &self.fields(), out)
    }
}

fn metric_fields(metric: &MetricStats) -> [Field<'static>; 4] {
    [
        Field::optional(metric.min(), Field::Integer),
        Field::optional(metric.max(), Field::Integer),
        Field::optional(metric.mean(), Field::Decimal),
        Field::optional(metric.stddev(), Field::Decimal),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Observation;

    #[test]
    fn writes_one_field_per_column_with_nulls() {
        let key = ParsedKey::parse("class_rarity|long_sword|07").unwrap();
        let mut stats = PartialStats::default();
        for (attack, slots) in [(1000, 0), (1200, 3), (1100, 5)] {
            stats.observe(&Observation {
                attack,
                affinity: -5,
                element: None,
                slots,
            });
        }
        let mut out = Vec::new();
        StatsRow {
            key: &key,
            stats: &stats,
        }
        .write_tsv(&mut out)
        .unwrap();
        let line = String::from_utf8(out).unwrap();
        assert_eq!(
            line,
            "class_rarity\tlong_sword\t7\t\\N\t\\N\t3\t1000\t1200\t1100.0000\t81.6497\t\
             -5\t-5\t-5.0000\t0.0000\t0\t\\N\t\\N\t\\N\t\\N\t1\t0\t0\t1\t1\n"
        );
        assert_eq!(line.trim_end().split('\t').count(), COLUMNS.len());
    }

    #[test]
    fn column_names_are_unique_hive_identifiers() {
        let mut names: Vec<_> = COLUMNS.iter().map(|c| c.name).collect();
        assert!(names.iter().all(|n| n
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')));
        names.sort();
        names.dedup();
        assert_eq!(names.len(), COLUMN_COUNT);
    }
}
