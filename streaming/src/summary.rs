//! A readable table of the per-class statistics, for people at a terminal.
//!
//! Reads the reducer's TSV rows (columns located by name in [`COLUMNS`], so the table follows the
//! row definition) and prints one line per weapon class plus the `all` total. Histogram and
//! top-N lines in the same output are passed over.

use std::io::{self, Write};

use crate::row::{RowKind, COLUMNS, NULL};

/// The columns shown, with their headings.
const SHOWN: [(&str, &str); 9] = [
    ("class", "class"),
    ("records", "records"),
    ("attack_mean", "attack mean"),
    ("attack_stddev", "± sd"),
    ("attack_max", "attack max"),
    ("affinity_mean", "affinity %"),
    ("element_records", "with element"),
    ("element_mean", "element mean"),
    ("slots_3", "3 slots"),
];

#[derive(Debug, thiserror::Error)]
pub enum SummaryError {
    #[error("statistics line {line}: expected {expected} tab-separated columns, found {found}")]
    ColumnCount {
        line: usize,
        expected: usize,
        found: usize,
    },
    #[error("writing the summary failed")]
    Io(#[from] io::Error),
}

/// Writes the class table for the statistics rows in `tsv` (the reducer's output).
pub fn write_class_table(tsv: &str, out: &mut impl Write) -> Result<(), SummaryError> {
    let index_of = |name: &str| {
        COLUMNS
            .iter()
            .position(|column| column.name == name)
            .expect("SHOWN names only columns of COLUMNS")
    };
    let dimension = index_of("dimension");
    let shown: Vec<usize> = SHOWN.iter().map(|(name, _)| index_of(name)).collect();

    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut total: Option<Vec<String>> = None;
    for (number, line) in tsv.lines().enumerate() {
        if RowKind::of_line(line.as_bytes()) != RowKind::Statistics {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        if fields.len() != COLUMNS.len() {
            return Err(SummaryError::ColumnCount {
                line: number + 1,
                expected: COLUMNS.len(),
                found: fields.len(),
            });
        }
        let cells = || {
            shown
                .iter()
                .map(|&i| if fields[i] == NULL { "-" } else { fields[i] }.to_string())
                .collect::<Vec<_>>()
        };
        match fields[dimension] {
            "class" => rows.push(cells()),
            "all" => {
                let mut cells = cells();
                cells[0] = "all classes".to_string();
                total = Some(cells);
            }
            _ => {}
        }
    }
    rows.extend(total);

    let headings: Vec<String> = SHOWN.iter().map(|(_, h)| h.to_string()).collect();
    let widths: Vec<usize> = (0..SHOWN.len())
        .map(|c| {
            std::iter::once(&headings)
                .chain(&rows)
                .map(|row| row[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in std::iter::once(&headings).chain(&rows) {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            // Text left-aligned, numbers right-aligned.
            if c == 0 {
                line.push_str(&format!("{cell:<width$}", width = widths[c]));
            } else {
                line.push_str(&format!("  {cell:>width$}", width = widths[c]));
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(dimension: &str, class: &str, records: u32) -> String {
        let mut fields = vec![NULL.to_string(); COLUMNS.len()];
        fields[0] = dimension.into();
        fields[1] = class.into();
        fields[5] = records.to_string();
        fields[8] = "1234.5000".into();
        fields.join("\t")
    }

    #[test]
    fn lists_classes_then_the_total() {
        let tsv = [
            row("all", NULL, 30),
            row("class", "bow", 10),
            row("class", "long_sword", 20),
            row("class_rarity", "bow", 10),
            "histogram\tclass\tbow\t\\N\tattack\t100\t100\t3".into(),
            "top\tbow\tattack\t1\tbow:base:l1\tB\t1\t120".into(),
        ]
        .join("\n");
        let mut out = Vec::new();
        write_class_table(&tsv, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert!(lines[0].starts_with("class") && lines[0].contains("attack mean"));
        assert!(lines[1].starts_with("bow") && lines[1].contains(" 10 "));
        assert!(lines[2].starts_with("long_sword") && lines[2].contains("1234.5000"));
        assert!(lines[3].starts_with("all classes") && lines[3].contains(" 30 "));
    }

    #[test]
    fn rejects_rows_of_another_shape() {
        let error = write_class_table("class\tbow\t3\n", &mut Vec::new()).unwrap_err();
        assert!(error.to_string().contains("line 1"), "{error}");
    }
}
