//! The histogram row (table `weapon_histograms`): one per non-empty bucket.

use std::io::{self, Write};

use super::{column, write_line, Column, Field, RowKind};
use crate::histogram::Histogram;
use crate::key::HistogramKey;

/// The histogram table's columns, in row order.
pub const HISTOGRAM_COLUMNS: [Column; 7] = [
    column(
        "dimension",
        "STRING",
        "grouping: class or class_rarity (the statistics dimensions of the same name)",
    ),
    column("class", "STRING", "weapon class id, e.g. long_sword"),
    column(
        "rarity",
        "INT",
        "rarity 1-12; NULL unless the dimension is class_rarity",
    ),
    column(
        "metric",
        "STRING",
        "attack (displayed attack, bucket width 100), element (value of the first element or \
         status, as in weapon_statistics; width 50; records without one are not counted) or \
         affinity (percent, width 5)",
    ),
    column(
        "bucket_min",
        "BIGINT",
        "inclusive lower bound of the bucket: a multiple of bucket_width (floor division, so \
         -3 is in the bucket at -5); the bucket is [bucket_min, bucket_min + bucket_width)",
    ),
    column("bucket_width", "BIGINT", "the metric's bucket width"),
    column(
        "records",
        "BIGINT",
        "weapon records in the bucket (never 0: empty buckets are not written)",
    ),
];

/// Writes one line per non-empty bucket; returns the number of lines.
pub fn write_histogram_rows(
    key: &HistogramKey,
    histogram: &Histogram,
    out: &mut impl Write,
) -> io::Result<u64> {
    let mut lines = 0;
    for (bucket_min, records) in histogram.buckets() {
        let fields: [Field<'_>; HISTOGRAM_COLUMNS.len()] = [
            Field::Text(key.dimension().name()),
            Field::Text(key.class.id()),
            Field::optional(key.rarity, |r| Field::Integer(r.into())),
            Field::Text(key.metric.name()),
            Field::Integer(bucket_min),
            Field::Integer(histogram.width()),
            Field::Count(records),
        ];
        write_line(RowKind::Histogram.tag(), &fields, out)?;
        lines += 1;
    }
    Ok(lines)
}
