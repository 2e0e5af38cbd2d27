//! The metrics histograms and top-N lists are kept for, and their fixed bucket widths.

/// A per-record integer a histogram or top-N list is kept for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Metric {
    /// Displayed attack.
    Attack,
    /// The value of the record's first elemental attribute (element or status), the same
    /// definition as the statistics rows' element metric; records without one have none.
    Element,
    /// Affinity in percent.
    Affinity,
}

impl Metric {
    pub const ALL: [Metric; 3] = [Metric::Attack, Metric::Element, Metric::Affinity];

    pub const fn name(self) -> &'static str {
        match self {
            Metric::Attack => "attack",
            Metric::Element => "element",
            Metric::Affinity => "affinity",
        }
    }

    /// The histogram bucket width. Chosen from the mirror's ranges so that a class has a few
    /// dozen buckets: attack 80–4644 (width 100), element and status values up to ~1,500
    /// (width 50), affinity −100..100 % (width 5).
    pub const fn bucket_width(self) -> i64 {
        match self {
            Metric::Attack => 100,
            Metric::Element => 50,
            Metric::Affinity => 5,
        }
    }

    pub fn from_name(name: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.name() == name)
    }

    /// Position in [`Metric::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }
}

/// The metrics' values for one record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MetricValues {
    pub attack: i64,
    pub element: Option<i64>,
    pub affinity: i64,
}

impl MetricValues {
    pub fn get(&self, metric: Metric) -> Option<i64> {
        match metric {
            Metric::Attack => Some(self.attack),
            Metric::Element => self.element,
            Metric::Affinity => Some(self.affinity),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_no_name_prefixes_another() {
        for metric in Metric::ALL {
            assert_eq!(Metric::from_name(metric.name()), Some(metric));
            assert_eq!(Metric::ALL[metric.index()], metric);
            assert!(metric.bucket_width() > 0);
            // Keys end with the metric name: a prefix would break "key order = line order".
            for other in Metric::ALL {
                assert!(other == metric || !other.name().starts_with(metric.name()));
            }
        }
    }
}
