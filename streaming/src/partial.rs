//! A mapper output value of any kind, typed by its key: what the combiner and reducer merge.

use std::io::{self, Write};

use crate::histogram::{Histogram, HistogramError};
use crate::key::PartialKey;
use crate::stats::{OverflowError, PartialError, PartialStats};
use crate::top::{TopError, TopList};

/// The partial aggregate of one key.
// Values are short-lived (one or two per reduced key); boxing would allocate per input line.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Partial {
    Stats(PartialStats),
    Histogram(Histogram),
    Top(TopList),
}

impl Partial {
    /// Parses `value` as the kind of partial `key` names.
    pub fn parse(key: &PartialKey<'_>, value: &str) -> Result<Partial, ValueError> {
        Ok(match key {
            PartialKey::Stats(_) => Partial::Stats(PartialStats::parse(value)?),
            PartialKey::Histogram(key) => Partial::Histogram(Histogram::parse(key.metric, value)?),
            PartialKey::Top(_) => Partial::Top(TopList::parse(value)?),
        })
    }

    /// Merges another partial of the same key (hence the same kind).
    pub fn merge(&mut self, other: &Partial) -> Result<(), OverflowError> {
        match (self, other) {
            (Partial::Stats(mine), Partial::Stats(theirs)) => mine.merge(theirs),
            (Partial::Histogram(mine), Partial::Histogram(theirs)) => mine.merge(theirs),
            (Partial::Top(mine), Partial::Top(theirs)) => {
                mine.merge(theirs);
                Ok(())
            }
            _ => unreachable!("partials of one key are parsed as the same kind"),
        }
    }

    /// Writes the encoding, each field preceded by a tab.
    pub fn write_fields(&self, out: &mut impl Write) -> io::Result<()> {
        match self {
            Partial::Stats(stats) => stats.write_fields(out),
            Partial::Histogram(histogram) => histogram.write_fields(out),
            Partial::Top(top) => top.write_fields(out),
        }
    }
}

/// Why a partial value could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    #[error(transparent)]
    Stats(#[from] PartialError),
    #[error(transparent)]
    Histogram(#[from] HistogramError),
    #[error(transparent)]
    Top(#[from] TopError),
}
