//! Exact partial aggregates: what the mapper emits, the combiner merges and the reducer finishes.
//!
//! Every observed metric (attack, affinity %, element value, slots) is an integer, so a partial
//! aggregate keeps only integers: per metric the count, sum, sum of squares, minimum and maximum,
//! plus the record count and the slot distribution. Merging two partials is exact integer
//! addition (and min/max), which is associative and commutative: the final result is the same
//! bit for bit however the records were split among mappers, whether a combiner ran, and in
//! which order the reducer saw the values. Means and population standard deviations are derived
//! only once, at final output, from the exact sums ([`MetricStats::mean`],
//! [`MetricStats::stddev`]).
//!
//! Sums and sums of squares are 128-bit, so no realistic input can overflow them; merging still
//! uses checked arithmetic and reports an overflow instead of wrapping.

use std::fmt;
use std::io::{self, Write};

/// Slot counts 0..=3 get their own bucket; anything larger lands in the last one.
pub const SLOT_BUCKETS: usize = 5;

/// Count, sum, sum of squares, minimum and maximum of one integer metric.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MetricStats {
    pub count: u64,
    pub sum: i128,
    pub sum_of_squares: u128,
    /// Meaningless (and kept at 0) while `count` is 0.
    pub min: i64,
    /// Meaningless (and kept at 0) while `count` is 0.
    pub max: i64,
}

impl MetricStats {
    /// Number of integers [`MetricStats::write_fields`] writes.
    pub const FIELDS: usize = 5;

    pub fn observe(&mut self, value: i64) {
        if self.count == 0 {
            self.min = value;
            self.max = value;
        } else {
            self.min = self.min.min(value);
            self.max = self.max.max(value);
        }
        self.count += 1;
        self.sum += i128::from(value);
        self.sum_of_squares += u128::from(value.unsigned_abs()).pow(2);
    }

    pub fn merge(&mut self, other: &MetricStats) -> Result<(), OverflowError> {
        if other.count == 0 {
            return Ok(());
        }
        if self.count == 0 {
            *self = *other;
            return Ok(());
        }
        self.count = self.count.checked_add(other.count).ok_or(OverflowError)?;
        self.sum = self.sum.checked_add(other.sum).ok_or(OverflowError)?;
        self.sum_of_squares = self
            .sum_of_squares
            .checked_add(other.sum_of_squares)
            .ok_or(OverflowError)?;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        Ok(())
    }

    pub fn min(&self) -> Option<i64> {
        (self.count > 0).then_some(self.min)
    }

    pub fn max(&self) -> Option<i64> {
        (self.count > 0).then_some(self.max)
    }

    pub fn mean(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum as f64 / self.count as f64)
    }

    /// Population standard deviation, `sqrt((n·Σx² − (Σx)²) / n²)`. The numerator is computed
    /// exactly in integers (it is never negative), so there is no cancellation error; only
    /// absurdly large inputs fall back to floating point.
    pub fn stddev(&self) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        let n = u128::from(self.count);
        let exact_numerator = n.checked_mul(self.sum_of_squares).and_then(|n_sq| {
            let sum_squared = self
                .sum
                .unsigned_abs()
                .checked_mul(self.sum.unsigned_abs())?;
            n_sq.checked_sub(sum_squared)
        });
        let variance = match exact_numerator {
            Some(numerator) => numerator as f64 / (n as f64 * n as f64),
            None => {
                let mean = self.sum as f64 / n as f64;
                (self.sum_of_squares as f64 / n as f64 - mean * mean).max(0.0)
            }
        };
        Some(variance.sqrt())
    }

    fn write_fields(&self, out: &mut impl Write) -> io::Result<()> {
        write!(
            out,
            "\t{}\t{}\t{}\t{}\t{}",
            self.count, self.sum, self.sum_of_squares, self.min, self.max
        )
    }

    fn parse_fields<'a>(fields: &mut impl Iterator<Item = &'a str>) -> Result<Self, PartialError> {
        let stats = MetricStats {
            count: next_integer(fields, "count")?,
            sum: next_integer(fields, "sum")?,
            sum_of_squares: next_integer(fields, "sum of squares")?,
            min: next_integer(fields, "min")?,
            max: next_integer(fields, "max")?,
        };
        if stats.count == 0 && stats != MetricStats::default() {
            return Err(PartialError::Inconsistent(
                "a metric with count 0 has non-zero fields",
            ));
        }
        if stats.count > 0 && stats.min > stats.max {
            return Err(PartialError::Inconsistent(
                "a metric's min is greater than its max",
            ));
        }
        Ok(stats)
    }
}

/// The partial aggregate of a group of weapon records.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PartialStats {
    /// Records in the group (for element dimensions: records having that element).
    pub records: u64,
    /// Records with 0, 1, 2, 3 and 4-or-more slots.
    pub slots: [u64; SLOT_BUCKETS],
    pub attack: MetricStats,
    pub affinity: MetricStats,
    /// Element (or status) value: in element dimensions the value of that element, elsewhere the
    /// value of the record's first elemental attribute; records without one add nothing.
    pub element: MetricStats,
}

/// One record's contribution to a group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Observation {
    pub attack: i64,
    pub affinity: i64,
    pub element: Option<i64>,
    pub slots: u8,
}

impl PartialStats {
    /// Number of tab-separated integers in the encoding.
    pub const FIELDS: usize = 1 + SLOT_BUCKETS + 3 * MetricStats::FIELDS;

    pub fn observe(&mut self, observation: &Observation) {
        self.records += 1;
        self.slots[usize::from(observation.slots).min(SLOT_BUCKETS - 1)] += 1;
        self.attack.observe(observation.attack);
        self.affinity.observe(observation.affinity);
        if let Some(element) = observation.element {
            self.element.observe(element);
        }
    }

    pub fn merge(&mut self, other: &PartialStats) -> Result<(), OverflowError> {
        self.records = self
            .records
            .checked_add(other.records)
            .ok_or(OverflowError)?;
        for (mine, theirs) in self.slots.iter_mut().zip(other.slots) {
            *mine = mine.checked_add(theirs).ok_or(OverflowError)?;
        }
        self.attack.merge(&other.attack)?;
        self.affinity.merge(&other.affinity)?;
        self.element.merge(&other.element)
    }

    /// Writes the encoding, each integer preceded by a tab (so it directly follows a key):
    /// `records`, `slots_0..slots_4_plus`, then count, sum, sum of squares, min and max of
    /// attack, affinity and element.
    pub fn write_fields(&self, out: &mut impl Write) -> io::Result<()> {
        write!(out, "\t{}", self.records)?;
        for count in self.slots {
            write!(out, "\t{count}")?;
        }
        self.attack.write_fields(out)?;
        self.affinity.write_fields(out)?;
        self.element.write_fields(out)
    }

    /// Parses the tab-separated integers [`PartialStats::write_fields`] writes (without the
    /// leading tab).
    pub fn parse(text: &str) -> Result<PartialStats, PartialError> {
        let mut fields = text.split('\t');
        let records = next_integer(&mut fields, "records")?;
        let mut slots = [0; SLOT_BUCKETS];
        for bucket in &mut slots {
            *bucket = next_integer(&mut fields, "slot count")?;
        }
        let partial = PartialStats {
            records,
            slots,
            attack: MetricStats::parse_fields(&mut fields)?,
            affinity: MetricStats::parse_fields(&mut fields)?,
            element: MetricStats::parse_fields(&mut fields)?,
        };
        if fields.next().is_some() {
            return Err(PartialError::FieldCount);
        }
        if partial.attack.count != records || partial.affinity.count != records {
            return Err(PartialError::Inconsistent(
                "attack and affinity counts differ from the record count",
            ));
        }
        if slots.iter().try_fold(0u64, |sum, &n| sum.checked_add(n)) != Some(records) {
            return Err(PartialError::Inconsistent(
                "slot counts do not add up to the record count",
            ));
        }
        Ok(partial)
    }
}

fn next_integer<'a, T: std::str::FromStr>(
    fields: &mut impl Iterator<Item = &'a str>,
    what: &'static str,
) -> Result<T, PartialError> {
    let field = fields.next().ok_or(PartialError::FieldCount)?;
    // `FromStr` for integers accepts a leading `+`; the encoding never writes one.
    if field.starts_with('+') {
        return Err(PartialError::NotAnInteger {
            what,
            field: field.into(),
        });
    }
    field.parse().map_err(|_| PartialError::NotAnInteger {
        what,
        field: field.chars().take(40).collect(),
    })
}

/// Why a partial-aggregate value could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PartialError {
    #[error("expected {} tab-separated integers", PartialStats::FIELDS)]
    FieldCount,
    #[error("{what} {field:?} is not a valid integer")]
    NotAnInteger { what: &'static str, field: String },
    #[error("inconsistent partial: {0}")]
    Inconsistent(&'static str),
}

/// Merging would exceed the 64/128-bit counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("statistics counter overflow while merging partial aggregates")]
pub struct OverflowError;

/// Fixed four-decimal rendering of a derived statistic, the same on every platform; negative
/// zero (a tiny negative mean) prints as `0.0000`.
pub struct Decimal(pub f64);

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = format!("{:.4}", self.0);
        f.write_str(if text == "-0.0000" { "0.0000" } else { &text })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn observation(attack: i64, affinity: i64, element: Option<i64>, slots: u8) -> Observation {
        Observation {
            attack,
            affinity,
            element,
            slots,
        }
    }

    fn sample() -> Vec<Observation> {
        vec![
            observation(1200, -10, Some(300), 3),
            observation(900, 0, None, 0),
            observation(1500, 25, Some(120), 1),
            observation(1500, 100, Some(450), 7),
            observation(650, -100, None, 2),
        ]
    }

    fn encode(partial: &PartialStats) -> String {
        let mut out = Vec::new();
        partial.write_fields(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn merging_is_independent_of_split_and_order() {
        let observations = sample();
        let mut whole = PartialStats::default();
        observations.iter().for_each(|o| whole.observe(o));

        for split in 0..=observations.len() {
            let (left, right) = observations.split_at(split);
            let mut a = PartialStats::default();
            left.iter().rev().for_each(|o| a.observe(o));
            let mut b = PartialStats::default();
            right.iter().for_each(|o| b.observe(o));
            let mut b_then_a = b;
            b_then_a.merge(&a).unwrap();
            a.merge(&b).unwrap();
            assert_eq!(a, whole, "split at {split}");
            assert_eq!(b_then_a, whole, "split at {split}, reversed");
        }
    }

    #[test]
    fn encoding_round_trips() {
        let mut partial = PartialStats::default();
        sample().iter().for_each(|o| partial.observe(o));
        let text = encode(&partial);
        assert_eq!(
            text,
            "\t5\t1\t1\t1\t1\t1\t5\t5750\t7172500\t650\t1500\t5\t15\t20725\t-100\t100\t3\t870\t306900\t120\t450"
        );
        assert_eq!(PartialStats::parse(&text[1..]).unwrap(), partial);
        let empty = PartialStats::default();
        assert_eq!(PartialStats::parse(&encode(&empty)[1..]).unwrap(), empty);
    }

    #[test]
    fn rejects_malformed_encodings() {
        let mut partial = PartialStats::default();
        partial.observe(&observation(100, 0, None, 1));
        let good = encode(&partial)[1..].to_string();
        assert_eq!(
            PartialStats::parse(&format!("{good}\t1")),
            Err(PartialError::FieldCount)
        );
        assert_eq!(PartialStats::parse("1\t2"), Err(PartialError::FieldCount));
        assert!(matches!(
            PartialStats::parse(&good.replacen("100", "1e2", 1)),
            Err(PartialError::NotAnInteger { what: "sum", .. })
        ));
        assert!(matches!(
            PartialStats::parse(&good.replacen('1', "+1", 1)),
            Err(PartialError::NotAnInteger {
                what: "records",
                ..
            })
        ));
        // Two slot buckets for one record.
        assert!(matches!(
            PartialStats::parse(&good.replacen("\t0\t1", "\t1\t1", 1)),
            Err(PartialError::Inconsistent(_))
        ));
        assert!(matches!(
            PartialStats::parse(""),
            Err(PartialError::NotAnInteger { .. })
        ));
    }

    #[test]
    fn derived_statistics() {
        let mut metric = MetricStats::default();
        assert_eq!(
            (metric.mean(), metric.stddev(), metric.min()),
            (None, None, None)
        );
        for value in [2, 4, 4, 4, 5, 5, 7, 9] {
            metric.observe(value);
        }
        assert_eq!(metric.mean(), Some(5.0));
        assert_eq!(metric.stddev(), Some(2.0));
        assert_eq!((metric.min(), metric.max()), (Some(2), Some(9)));

        let mut constant = MetricStats::default();
        (0..3).for_each(|_| constant.observe(-7));
        assert_eq!(constant.stddev(), Some(0.0));
    }

    #[test]
    fn merge_reports_overflow() {
        let mut a = PartialStats {
            records: u64::MAX,
            ..Default::default()
        };
        let b = PartialStats {
            records: 1,
            ..Default::default()
        };
        assert_eq!(a.merge(&b), Err(OverflowError));
    }

    #[test]
    fn decimals_are_fixed_and_never_negative_zero() {
        assert_eq!(Decimal(2.0).to_string(), "2.0000");
        assert_eq!(Decimal(1.0 / 3.0).to_string(), "0.3333");
        assert_eq!(Decimal(-0.00001).to_string(), "0.0000");
        assert_eq!(Decimal(-2.5).to_string(), "-2.5000");
    }
}
