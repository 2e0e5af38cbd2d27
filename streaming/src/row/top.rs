//! The top-N row (table `weapon_top`): one per rank of a class and metric.

use std::io::{self, Write};

use super::{column, write_line, Column, Field, RowKind};
use crate::key::TopKey;
use crate::top::TopList;

/// The top-N table's columns, in row order.
pub const TOP_COLUMNS: [Column; 7] = [
    column("class", "STRING", "weapon class id, e.g. long_sword"),
    column(
        "metric",
        "STRING",
        "attack (displayed attack), element (value of the first element or status, as in \
         weapon_statistics; weapons without one are not ranked) or affinity (percent)",
    ),
    column(
        "rank",
        "INT",
        "1 to 10: by value descending, ties broken by weapon_id ascending (byte-wise)",
    ),
    column(
        "weapon_id",
        "STRING",
        "the weapon record's stable id, e.g. long_sword:g:l219C2",
    ),
    column(
        "name",
        "STRING",
        "weapon name; the bytes %, |, \\ and control characters are written %XX",
    ),
    column("rarity", "INT", "rarity 1-12"),
    column("value", "BIGINT", "the weapon's value of the metric"),
];

/// Writes one line per entry, rank 1 first; returns the number of lines.
pub fn write_top_rows(key: &TopKey, list: &TopList, out: &mut impl Write) -> io::Result<u64> {
    for (index, entry) in list.entries().iter().enumerate() {
        let fields: [Field<'_>; TOP_COLUMNS.len()] = [
            Field::Text(key.class.id()),
            Field::Text(key.metric.name()),
            Field::Count(index as u64 + 1),
            Field::Text(&entry.weapon_id),
            Field::Escaped(&entry.name),
            Field::Integer(entry.rarity.into()),
            Field::Integer(entry.value),
        ];
        write_line(RowKind::Top.tag(), &fields, out)?;
    }
    Ok(list.entries().len() as u64)
}
