//! Fixed-width histograms as exact partial aggregates.
//!
//! A histogram of one [`Metric`] counts records per bucket `[k·w, (k+1)·w)`, `w` the metric's
//! [`Metric::bucket_width`], `k` by floor division (so −3 with width 5 is in the bucket starting
//! at −5). Only non-empty buckets are kept. Merging adds counts bucket by bucket: associative,
//! commutative and exact, like the other partials ([`crate::stats`]).
//!
//! Encoding (after the key's tab): `bucket_min<TAB>records` pairs, bucket minima strictly
//! ascending, at least one pair.

use std::collections::BTreeMap;
use std::io::{self, Write};

use crate::metric::Metric;
use crate::stats::OverflowError;

/// The lower bound (inclusive) of the bucket holding `value`.
pub fn bucket_min(value: i64, width: i64) -> i64 {
    value.div_euclid(width) * width
}

/// Records per non-empty bucket of one metric.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Histogram {
    width: i64,
    /// Bucket minimum → records.
    buckets: BTreeMap<i64, u64>,
}

impl Histogram {
    pub fn new(metric: Metric) -> Histogram {
        Histogram {
            width: metric.bucket_width(),
            buckets: BTreeMap::new(),
        }
    }

    pub fn width(&self) -> i64 {
        self.width
    }

    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }

    pub fn observe(&mut self, value: i64) {
        *self
            .buckets
            .entry(bucket_min(value, self.width))
            .or_default() += 1;
    }

    /// Adds `other`'s counts (of the same metric).
    pub fn merge(&mut self, other: &Histogram) -> Result<(), OverflowError> {
        debug_assert_eq!(self.width, other.width);
        for (&bucket, &records) in &other.buckets {
            let mine = self.buckets.entry(bucket).or_default();
            *mine = mine.checked_add(records).ok_or(OverflowError)?;
        }
        Ok(())
    }

    /// `(bucket_min, records)` in ascending bucket order.
    pub fn buckets(&self) -> impl Iterator<Item = (i64, u64)> + '_ {
        self.buckets
            .iter()
            .map(|(&bucket, &records)| (bucket, records))
    }

    /// Writes the encoding, each integer preceded by a tab.
    pub fn write_fields(&self, out: &mut impl Write) -> io::Result<()> {
        for (bucket, records) in self.buckets() {
            write!(out, "\t{bucket}\t{records}")?;
        }
        Ok(())
    }

    /// Parses what [`Histogram::write_fields`] writes (without the leading tab).
    pub fn parse(metric: Metric, text: &str) -> Result<Histogram, HistogramError> {
        let mut histogram = Histogram::new(metric);
        let mut fields = text.split('\t');
        let mut previous = None;
        while let Some(bucket) = fields.next() {
            let bucket: i64 = integer(bucket, "bucket minimum")?;
            let records: u64 = integer(
                fields.next().ok_or(HistogramError::Unpaired)?,
                "record count",
            )?;
            if bucket.rem_euclid(histogram.width) != 0 {
                return Err(HistogramError::Inconsistent(
                    "a bucket minimum is not a multiple of the bucket width",
                ));
            }
            if previous.is_some_and(|p| p >= bucket) {
                return Err(HistogramError::Inconsistent(
                    "bucket minima are not strictly ascending",
                ));
            }
            if records == 0 {
                return Err(HistogramError::Inconsistent("an empty bucket is listed"));
            }
            previous = Some(bucket);
            histogram.buckets.insert(bucket, records);
        }
        Ok(histogram)
    }
}

fn integer<T: std::str::FromStr>(field: &str, what: &'static str) -> Result<T, HistogramError> {
    // `FromStr` accepts a leading `+`; the encoding never writes one.
    let parsed = (!field.starts_with('+'))
        .then(|| field.parse().ok())
        .flatten();
    parsed.ok_or_else(|| HistogramError::NotAnInteger {
        what,
        field: field.chars().take(40).collect(),
    })
}

/// Why a histogram partial could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HistogramError {
    #[error("{what} {field:?} is not a valid integer")]
    NotAnInteger { what: &'static str, field: String },
    #[error("expected bucket minimum and record count pairs")]
    Unpaired,
    #[error("inconsistent histogram: {0}")]
    Inconsistent(&'static str),
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALUES: [i64; 9] = [-100, -3, 0, 4, 5, 25, 99, 100, 7];

    fn histogram_of(values: &[i64]) -> Histogram {
        let mut histogram = Histogram::new(Metric::Affinity);
        values.iter().for_each(|&v| histogram.observe(v));
        histogram
    }

    fn encode(histogram: &Histogram) -> String {
        let mut out = Vec::new();
        histogram.write_fields(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn buckets_use_floor_division() {
        assert_eq!(bucket_min(-3, 5), -5);
        assert_eq!(bucket_min(-5, 5), -5);
        assert_eq!(bucket_min(4, 5), 0);
        assert_eq!(bucket_min(1999, 100), 1900);
        let histogram = histogram_of(&VALUES);
        assert_eq!(
            histogram.buckets().collect::<Vec<_>>(),
            [
                (-100, 1),
                (-5, 1),
                (0, 2),
                (5, 2),
                (25, 1),
                (95, 1),
                (100, 1)
            ]
        );
    }

    #[test]
    fn merging_is_associative_and_commutative() {
        let whole = histogram_of(&VALUES);
        for split in 0..=VALUES.len() {
            for second in split..=VALUES.len() {
                let a = histogram_of(&VALUES[..split]);
                let b = histogram_of(&VALUES[split..second]);
                let c = histogram_of(&VALUES[second..]);
                let mut ab_c = a.clone();
                ab_c.merge(&b).unwrap();
                ab_c.merge(&c).unwrap();
                let mut bc = b.clone();
                bc.merge(&c).unwrap();
                let mut a_bc = a.clone();
                a_bc.merge(&bc).unwrap();
                let mut cba = c.clone();
                cba.merge(&b).unwrap();
                cba.merge(&a).unwrap();
                assert_eq!(ab_c, whole);
                assert_eq!(a_bc, whole);
                assert_eq!(cba, whole);
            }
        }
    }

    #[test]
    fn encoding_round_trips_and_rejects_malformed_partials() {
        let histogram = histogram_of(&VALUES);
        let text = encode(&histogram);
        assert_eq!(text, "\t-100\t1\t-5\t1\t0\t2\t5\t2\t25\t1\t95\t1\t100\t1");
        assert_eq!(
            Histogram::parse(Metric::Affinity, &text[1..]).unwrap(),
            histogram
        );
        for bad in [
            "",
            "5",
            "3\t1",
            "5\t1\t0\t1",
            "5\t0",
            "+5\t1",
            "5\t-1",
            "5\t1\t5\t1",
        ] {
            assert!(
                Histogram::parse(Metric::Affinity, bad).is_err(),
                "{bad:?} accepted"
            );
        }
        // Bucket minima must be multiples of the metric's own width.
        assert!(Histogram::parse(Metric::Attack, "150\t1").is_err());
        assert!(Histogram::parse(Metric::Element, "150\t1").is_ok());
    }

    #[test]
    fn merge_reports_overflow() {
        let mut a = Histogram::parse(Metric::Attack, &format!("100\t{}", u64::MAX)).unwrap();
        let b = Histogram::parse(Metric::Attack, "100\t1").unwrap();
        assert_eq!(a.merge(&b), Err(OverflowError));
    }
}
