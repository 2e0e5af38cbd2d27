//! Top-N weapons of a metric as exact partial aggregates.
//!
//! A [`TopList`] keeps the [`TOP_N`] best entries under one total order: value descending, then
//! weapon id ascending (byte-wise), then name and rarity (so that even entries sharing value and
//! id are ordered). Identical entries are kept once: a weapon whose record was read twice is
//! listed once. Merging is "union, then keep the first N", which under a total order is
//! associative, commutative and exact: the N best of a union are among the N best of each part.
//!
//! Encoding (after the key's tab): per entry `value<TAB>weapon_id<TAB>rarity<TAB>name`, best
//! first, 1 to N entries; the name `%XX`-escaped ([`crate::text`]), the id verbatim (it is a
//! plain token, see [`crate::text::is_plain_token`]).

use std::cmp::Ordering;
use std::io::{self, Write};

use crate::text;

/// Entries kept per list (and ranks per class and metric in the `weapon_top` table).
pub const TOP_N: usize = 10;

/// One weapon in a top-N list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopEntry {
    pub value: i64,
    pub weapon_id: String,
    /// The weapon's name, unescaped.
    pub name: String,
    pub rarity: u8,
}

impl Ord for TopEntry {
    /// Better entries first.
    fn cmp(&self, other: &TopEntry) -> Ordering {
        other
            .value
            .cmp(&self.value)
            .then_with(|| self.weapon_id.as_bytes().cmp(other.weapon_id.as_bytes()))
            .then_with(|| self.name.as_bytes().cmp(other.name.as_bytes()))
            .then_with(|| self.rarity.cmp(&other.rarity))
    }
}

impl PartialOrd for TopEntry {
    fn partial_cmp(&self, other: &TopEntry) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The best [`TOP_N`] entries seen, best first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TopList {
    entries: Vec<TopEntry>,
}

impl TopList {
    pub fn entries(&self) -> &[TopEntry] {
        &self.entries
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether an entry with this value and id could enter the list: a cheap test before the
    /// caller builds the entry's strings.
    pub fn admits(&self, value: i64, weapon_id: &str) -> bool {
        match self.entries.get(TOP_N - 1) {
            None => true,
            Some(last) => match last.value.cmp(&value) {
                Ordering::Less => true,
                Ordering::Greater => false,
                // Equal ids: name and rarity decide, so let `insert` compare the whole entry.
                Ordering::Equal => weapon_id.as_bytes() <= last.weapon_id.as_bytes(),
            },
        }
    }

    /// Adds `entry` if it is among the best N (and not already listed).
    pub fn insert(&mut self, entry: TopEntry) {
        if let Err(at) = self.entries.binary_search(&entry) {
            if at < TOP_N {
                self.entries.insert(at, entry);
                self.entries.truncate(TOP_N);
            }
        }
    }

    /// Union with `other`, keeping the best N.
    pub fn merge(&mut self, other: &TopList) {
        for entry in &other.entries {
            if self.admits(entry.value, &entry.weapon_id) {
                self.insert(entry.clone());
            }
        }
    }

    /// Writes the encoding, each field preceded by a tab.
    pub fn write_fields(&self, out: &mut impl Write) -> io::Result<()> {
        for entry in &self.entries {
            write!(
                out,
                "\t{}\t{}\t{}\t",
                entry.value, entry.weapon_id, entry.rarity
            )?;
            text::write_escaped(&entry.name, out)?;
        }
        Ok(())
    }

    /// Parses what [`TopList::write_fields`] writes (without the leading tab).
    pub fn parse(text: &str) -> Result<TopList, TopError> {
        let fields: Vec<&str> = text.split('\t').collect();
        if !fields.len().is_multiple_of(4) {
            return Err(TopError::FieldCount);
        }
        let mut list = TopList::default();
        for chunk in fields.chunks(4) {
            let [value, weapon_id, rarity, name] = [chunk[0], chunk[1], chunk[2], chunk[3]];
            let entry = TopEntry {
                value: integer(value, "value")?,
                weapon_id: text::is_plain_token(weapon_id)
                    .then(|| weapon_id.to_string())
                    .ok_or_else(|| TopError::Invalid {
                        what: "weapon id",
                        field: truncated(weapon_id),
                    })?,
                rarity: integer(rarity, "rarity")?,
                name: text::unescape(name).ok_or_else(|| TopError::Invalid {
                    what: "escaped name",
                    field: truncated(name),
                })?,
            };
            if list.entries.last().is_some_and(|last| *last >= entry) {
                return Err(TopError::Inconsistent(
                    "entries are not in strictly descending order",
                ));
            }
            list.entries.push(entry);
        }
        if list.entries.len() > TOP_N {
            return Err(TopError::Inconsistent("more entries than the list keeps"));
        }
        Ok(list)
    }
}

fn integer<T: std::str::FromStr>(field: &str, what: &'static str) -> Result<T, TopError> {
    let parsed = (!field.starts_with('+'))
        .then(|| field.parse().ok())
        .flatten();
    parsed.ok_or_else(|| TopError::Invalid {
        what,
        field: truncated(field),
    })
}

fn truncated(text: &str) -> String {
    text.chars().take(40).collect()
}

/// Why a top-N partial could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TopError {
    #[error("expected value, weapon id, rarity and name per entry, 1 to {TOP_N} entries")]
    FieldCount,
    #[error("invalid {what} {field:?}")]
    Invalid { what: &'static str, field: String },
    #[error("inconsistent top-N list: {0}")]
    Inconsistent(&'static str),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(value: i64, id: &str) -> TopEntry {
        TopEntry {
            value,
            weapon_id: id.into(),
            name: format!("Blade {id}\t|%"),
            rarity: 7,
        }
    }

    /// 14 entries with ties on value (broken by id) and a duplicate.
    fn sample() -> Vec<TopEntry> {
        [
            (500, "c"),
            (900, "b"),
            (900, "a"),
            (100, "z"),
            (700, "m"),
            (700, "l"),
            (700, "n"),
            (-5, "q"),
            (300, "d"),
            (900, "a"),
            (600, "e"),
            (650, "f"),
            (800, "g"),
            (700, "k"),
        ]
        .into_iter()
        .map(|(v, id)| entry(v, id))
        .collect()
    }

    fn list_of(entries: &[TopEntry]) -> TopList {
        let mut list = TopList::default();
        for entry in entries {
            if list.admits(entry.value, &entry.weapon_id) {
                list.insert(entry.clone());
            }
        }
        list
    }

    fn ids(list: &TopList) -> Vec<&str> {
        list.entries()
            .iter()
            .map(|e| e.weapon_id.as_str())
            .collect()
    }

    #[test]
    fn keeps_the_best_n_ties_broken_by_weapon_id() {
        let list = list_of(&sample());
        assert_eq!(
            ids(&list),
            ["a", "b", "g", "k", "l", "m", "n", "f", "e", "c"]
        );
        assert_eq!(list.entries().len(), TOP_N);
        // Every admitted entry of a full list beats the last one.
        assert!(!list.admits(500, "d") && list.admits(500, "b") && list.admits(501, "z"));
    }

    #[test]
    fn merging_is_associative_and_commutative_and_keeps_n() {
        let sample = sample();
        let whole = list_of(&sample);
        for split in 0..=sample.len() {
            for second in split..=sample.len() {
                let a = list_of(&sample[..split]);
                let b = list_of(&sample[split..second]);
                let c = list_of(&sample[second..]);
                let mut ab_c = a.clone();
                ab_c.merge(&b);
                ab_c.merge(&c);
                let mut bc = b.clone();
                bc.merge(&c);
                let mut a_bc = a.clone();
                a_bc.merge(&bc);
                let mut c_b_a = c.clone();
                c_b_a.merge(&b);
                c_b_a.merge(&a);
                for merged in [&ab_c, &a_bc, &c_b_a] {
                    assert_eq!(merged, &whole, "splits at {split} and {second}");
                    assert!(merged.entries().len() <= TOP_N);
                }
            }
        }
    }

    #[test]
    fn encoding_round_trips_with_escaped_names() {
        let list = list_of(&sample()[..3]);
        let mut out = Vec::new();
        list.write_fields(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "\t900\ta\t7\tBlade a%09%7C%25\t900\tb\t7\tBlade b%09%7C%25\t500\tc\t7\tBlade c%09%7C%25"
        );
        assert_eq!(TopList::parse(&text[1..]).unwrap(), list);
    }

    #[test]
    fn rejects_malformed_partials() {
        for bad in [
            "",
            "900\ta\t7",
            "900\ta\t7\tx\t900\ta\t7\tx", // a duplicate
            "500\ta\t7\tx\t900\tb\t7\tx", // worse before better
            "900\tb\t7\tx\t900\ta\t7\tx", // ids out of order on a tie
            "900\ta b\t7\tx",
            "900\ta\t777\tx",
            "900\ta\t7\tx%",
            "+900\ta\t7\tx",
        ] {
            assert!(TopList::parse(bad).is_err(), "{bad:?} accepted");
        }
        let eleven: Vec<String> = (0..=TOP_N)
            .map(|i| format!("{}\tw{i:02}\t1\tn", 1000 - i))
            .collect();
        assert!(matches!(
            TopList::parse(&eleven.join("\t")),
            Err(TopError::Inconsistent(_))
        ));
    }
}
