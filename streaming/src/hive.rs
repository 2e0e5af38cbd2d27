//! Hive DDL for the statistics table, rendered from [`crate::row::COLUMNS`].
//!
//! The template (`templates/hive/weapon_statistics.hql.tera`) is compiled into the binary, so
//! the DDL printed by a deployed reducer always matches the rows that reducer writes.

use serde::Serialize;

use crate::row::COLUMNS;

const TEMPLATE: &str = include_str!("../../templates/hive/weapon_statistics.hql.tera");

/// Where the statistics table lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HiveTable<'a> {
    pub database: &'a str,
    pub table: &'a str,
    /// Table location, e.g. `hdfs:///mhfz/weapon_statistics`; partitions are its
    /// `run_id=<id>` subdirectories.
    pub location: &'a str,
    /// When given, also adds the partition of this run.
    pub run_id: Option<&'a str>,
}

#[derive(Serialize)]
struct TemplateColumn {
    name: &'static str,
    hive_type: &'static str,
    comment: String,
}

#[derive(Serialize)]
struct TemplateContext<'a> {
    database: &'a str,
    table: &'a str,
    location: String,
    run_id: Option<String>,
    partition_location: Option<String>,
    columns: Vec<TemplateColumn>,
}

/// Renders `CREATE DATABASE` and `CREATE EXTERNAL TABLE` (and, with a run id, `ADD PARTITION`).
pub fn render_hive_ddl(table: &HiveTable<'_>) -> Result<String, HiveError> {
    for (what, name) in [("database", table.database), ("table", table.table)] {
        if !is_identifier(name) {
            return Err(HiveError::Identifier {
                what,
                name: name.into(),
            });
        }
    }
    if table.location.is_empty() || table.location.chars().any(char::is_control) {
        return Err(HiveError::Location(table.location.into()));
    }
    if let Some(run_id) = table.run_id {
        if run_id.is_empty()
            || !run_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
        {
            return Err(HiveError::RunId(run_id.into()));
        }
    }
    let context = TemplateContext {
        database: table.database,
        table: table.table,
        location: quote_literal(table.location),
        run_id: table.run_id.map(quote_literal),
        partition_location: table.run_id.map(|run_id| {
            quote_literal(&format!(
                "{}/run_id={run_id}",
                table.location.trim_end_matches('/')
            ))
        }),
        columns: COLUMNS
            .iter()
            .map(|column| TemplateColumn {
                name: column.name,
                hive_type: column.hive_type,
                comment: quote_literal(column.doc),
            })
            .collect(),
    };
    let context = tera::Context::from_serialize(context).map_err(HiveError::Template)?;
    let mut ddl = tera::Tera::one_off(TEMPLATE, &context, false).map_err(HiveError::Template)?;
    ddl.push('\n');
    Ok(ddl)
}

fn is_identifier(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Escapes text for a single-quoted HiveQL string literal.
fn quote_literal(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\'', "\\'")
}

#[derive(Debug, thiserror::Error)]
pub enum HiveError {
    #[error("invalid Hive {what} name {name:?} (use letters, digits and _)")]
    Identifier { what: &'static str, name: String },
    #[error("invalid table location {0:?}")]
    Location(String),
    #[error("invalid run id {0:?} (use letters, digits, -, _, . and :)")]
    RunId(String),
    #[error("rendering the Hive DDL template failed")]
    Template(#[source] tera::Error),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::ParsedKey;
    use crate::row::StatsRow;
    use crate::stats::PartialStats;

    fn table() -> HiveTable<'static> {
        HiveTable {
            database: "mhfz",
            table: "weapon_statistics",
            location: "hdfs:///mhfz/it's",
            run_id: None,
        }
    }

    #[test]
    fn ddl_lists_every_column_in_order_with_its_type() {
        let ddl = render_hive_ddl(&table()).unwrap();
        assert!(ddl.contains("CREATE DATABASE IF NOT EXISTS `mhfz`;"));
        assert!(ddl.contains("CREATE EXTERNAL TABLE IF NOT EXISTS `mhfz`.`weapon_statistics` ("));
        assert!(ddl.contains("PARTITIONED BY (`run_id` STRING)"));
        assert!(ddl.contains("FIELDS TERMINATED BY '\\t'"));
        assert!(ddl.contains("STORED AS TEXTFILE\nLOCATION 'hdfs:///mhfz/it\\'s';"));
        assert!(!ddl.contains("ADD IF NOT EXISTS"));

        let column_lines: Vec<&str> = ddl.lines().filter(|l| l.starts_with("  `")).collect();
        assert_eq!(column_lines.len(), COLUMNS.len());
        for (index, (line, column)) in column_lines.iter().zip(COLUMNS).enumerate() {
            let expected = format!("  `{}` {} COMMENT '", column.name, column.hive_type);
            assert!(line.starts_with(&expected), "{line:?} is not {expected:?}");
            assert_eq!(line.ends_with(','), index + 1 < COLUMNS.len(), "{line}");
        }

        // The row writer writes exactly as many fields as the DDL declares.
        let key = ParsedKey::parse("all").unwrap();
        let mut row = Vec::new();
        StatsRow {
            key: &key,
            stats: &PartialStats::default(),
        }
        .write_tsv(&mut row)
        .unwrap();
        assert_eq!(row.split(|&b| b == b'\t').count(), column_lines.len());
    }

    #[test]
    fn adds_the_run_partition_and_rejects_bad_names() {
        let with_run = HiveTable {
            run_id: Some("2024-05-01T12:00"),
            location: "/mhfz/stats/",
            ..table()
        };
        let ddl = render_hive_ddl(&with_run).unwrap();
        assert!(ddl.contains(
            "PARTITION (`run_id` = '2024-05-01T12:00') LOCATION '/mhfz/stats/run_id=2024-05-01T12:00';"
        ));
        assert!(render_hive_ddl(&HiveTable {
            table: "x`; DROP",
            ..table()
        })
        .is_err());
        assert!(render_hive_ddl(&HiveTable {
            database: "",
            ..table()
        })
        .is_err());
        assert!(render_hive_ddl(&HiveTable {
            location: "a\nb",
            ..table()
        })
        .is_err());
        assert!(render_hive_ddl(&HiveTable {
            run_id: Some("a'b"),
            ..table()
        })
        .is_err());
    }
}
