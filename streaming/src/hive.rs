//! HiveQL for the three output tables (`weapon_statistics`, `weapon_histograms`, `weapon_top`),
//! rendered from their column definitions ([`crate::row::RowKind::columns`]) with the tera
//! templates of `templates/hive/`.
//!
//! * `table.hql.tera`: the database and one external table partitioned by run id (the one
//!   place a column list is rendered);
//! * `add_partition.hql.tera`: registers one run's partition at `<location>/run_id=<id>`;
//! * `load_run.hql.tera`: what `mhfz-loader` runs per table: the table, the run's partition
//!   dropped and added again (its files already replaced); after the last table a marker query
//!   proving beeline ran it all.
//!
//! The statistics table's name and location are configured ([`HiveTable`]); the other tables
//! are its siblings: their own names, in directories named after them beside the statistics
//! table's location ([`HiveTable::for_kind`]).
//!
//! The templates are compiled into the binaries, so the DDL of a deployed reducer or loader
//! always matches the rows that reducer writes. Names, locations and run ids are validated here,
//! before they reach HiveQL (or an HDFS path).

use std::fmt;

use serde::Serialize;

use crate::row::RowKind;

const TABLE_TEMPLATE: &str = include_str!("../../templates/hive/table.hql.tera");
const ADD_PARTITION_TEMPLATE: &str = include_str!("../../templates/hive/add_partition.hql.tera");
const LOAD_RUN_TEMPLATE: &str = include_str!("../../templates/hive/load_run.hql.tera");

/// The longest run id accepted (it names a directory and a partition).
pub const MAX_RUN_ID_LEN: usize = 128;

/// A run id: the statistics table's partition value and the partition directory's name suffix.
///
/// Letters, digits, `-`, `_` and `.`, at most [`MAX_RUN_ID_LEN`] bytes, starting with a letter
/// or digit. Such an id needs no escaping as a HiveQL literal, as a Hive partition directory
/// name (`run_id=<id>`, which Hive would escape `:` or `/` in) or as an HDFS path component
/// (where `:` is not allowed, and names starting with `_` or `.` are hidden from MapReduce
/// and Hive).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RunId(String);

impl RunId {
    pub fn parse(text: &str) -> Result<RunId, HiveError> {
        let valid = text.len() <= MAX_RUN_ID_LEN
            && text
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphanumeric())
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
        if valid {
            Ok(RunId(text.into()))
        } else {
            Err(HiveError::RunId(text.into()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The partition directory's name: `run_id=<id>`.
    pub fn partition_dir(&self) -> String {
        format!("run_id={}", self.0)
    }
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for RunId {
    type Err = HiveError;

    fn from_str(text: &str) -> Result<RunId, HiveError> {
        RunId::parse(text)
    }
}

/// Where the statistics table lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HiveTable<'a> {
    pub database: &'a str,
    pub table: &'a str,
    /// Table location, e.g. `hdfs://namenode:8020/mhfz/weapon_statistics`; partitions are its
    /// `run_id=<id>` subdirectories.
    pub location: &'a str,
}

/// The table of one row kind: the statistics table as configured, the others beside it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KindTable {
    pub kind: RowKind,
    pub table: String,
    pub location: String,
}

impl KindTable {
    pub fn as_hive_table<'a>(&'a self, database: &'a str) -> HiveTable<'a> {
        HiveTable {
            database,
            table: &self.table,
            location: &self.location,
        }
    }
}

impl HiveTable<'_> {
    /// The table rows of `kind` go to: for statistics this table; otherwise the kind's own
    /// table name, located in the directory of that name beside this table's location
    /// (`hdfs://nn/mhfz/weapon_statistics` → `hdfs://nn/mhfz/weapon_top`).
    pub fn for_kind(&self, kind: RowKind) -> KindTable {
        if kind == RowKind::Statistics {
            return KindTable {
                kind,
                table: self.table.into(),
                location: self.location.into(),
            };
        }
        KindTable {
            kind,
            table: kind.table_name().into(),
            location: self.sibling_location(kind.table_name()),
        }
    }

    /// The directory `name` beside this table's location (`hdfs://nn/mhfz/weapon_statistics`,
    /// `weapon_top` → `hdfs://nn/mhfz/weapon_top`).
    pub fn sibling_location(&self, name: &str) -> String {
        let trimmed = self.location.trim_end_matches('/');
        let parent = trimmed
            .rsplit_once('/')
            .map_or(trimmed, |(parent, _)| parent);
        format!("{parent}/{name}")
    }

    /// The location of a run's partition: `<location>/run_id=<id>`.
    pub fn partition_location(&self, run_id: &RunId) -> String {
        format!(
            "{}/{}",
            self.location.trim_end_matches('/'),
            run_id.partition_dir()
        )
    }

    fn validate(&self) -> Result<(), HiveError> {
        for (what, name) in [("database", self.database), ("table", self.table)] {
            if !is_identifier(name) {
                return Err(HiveError::Identifier {
                    what,
                    name: name.into(),
                });
            }
        }
        // A URI with a scheme; nothing beeline's statement splitter or a HiveQL string literal
        // would treat specially, so the location is used verbatim.
        let valid_location = self
            .location
            .split_once("://")
            .is_some_and(|(scheme, rest)| {
                !scheme.is_empty()
                    && scheme.bytes().all(|b| b.is_ascii_lowercase())
                    && rest.len() > 1
            })
            && !self
                .location
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || "'\"`;\\".contains(c));
        if !valid_location {
            return Err(HiveError::Location(self.location.into()));
        }
        Ok(())
    }
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
    location: &'a str,
    run_id: Option<&'a str>,
    partition_location: Option<String>,
    done_marker: Option<&'a str>,
    table_comment: &'static str,
    columns: Vec<TemplateColumn>,
}

/// Renders `CREATE DATABASE` and `CREATE EXTERNAL TABLE` of every output table (and, with a run
/// id, adds that run's partitions if missing): what `mhfz-reducer --print-hive-ddl` prints.
pub fn render_hive_ddl(table: &HiveTable<'_>, run_id: Option<&RunId>) -> Result<String, HiveError> {
    let mut hql = String::new();
    for kind in RowKind::ALL {
        let kind_table = table.for_kind(kind);
        let kind_table = kind_table.as_hive_table(table.database);
        if !hql.is_empty() {
            hql.push('\n');
        }
        hql.push_str(&render("table.hql", kind, &kind_table, run_id, None)?);
        if run_id.is_some() {
            hql.push('\n');
            hql.push_str(&render(
                "add_partition.hql",
                kind,
                &kind_table,
                run_id,
                None,
            )?);
        }
    }
    Ok(hql)
}

/// Renders the script `mhfz-loader` runs for one run: per output table, the table (if missing)
/// and the run's partition dropped and added again; finally `SELECT '<done_marker>';`. beeline
/// can exit with status 0 without having connected or run every statement; the marker in its
/// output is the proof.
pub fn render_load_run(
    table: &HiveTable<'_>,
    run_id: &RunId,
    done_marker: &str,
) -> Result<String, HiveError> {
    if done_marker.is_empty()
        || !done_marker
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b" -_.:=".contains(&b))
    {
        return Err(HiveError::Marker(done_marker.into()));
    }
    let mut hql = String::new();
    for kind in RowKind::ALL {
        let kind_table = table.for_kind(kind);
        let last = kind == RowKind::ALL[RowKind::ALL.len() - 1];
        if !hql.is_empty() {
            hql.push('\n');
        }
        hql.push_str(&render(
            "load_run.hql",
            kind,
            &kind_table.as_hive_table(table.database),
            Some(run_id),
            last.then_some(done_marker),
        )?);
    }
    Ok(hql)
}

fn render(
    name: &str,
    kind: RowKind,
    table: &HiveTable<'_>,
    run_id: Option<&RunId>,
    done_marker: Option<&str>,
) -> Result<String, HiveError> {
    table.validate()?;
    let context = TemplateContext {
        database: table.database,
        table: table.table,
        location: table.location,
        run_id: run_id.map(RunId::as_str),
        partition_location: run_id.map(|run_id| table.partition_location(run_id)),
        done_marker,
        table_comment: kind.table_comment(),
        columns: kind
            .columns()
            .iter()
            .map(|column| TemplateColumn {
                name: column.name,
                hive_type: column.hive_type,
                comment: quote_literal(column.doc),
            })
            .collect(),
    };
    let context = tera::Context::from_serialize(context).map_err(HiveError::Template)?;
    let mut hql = templates()?
        .render(name, &context)
        .map_err(HiveError::Template)?;
    hql.push('\n');
    Ok(hql)
}

fn templates() -> Result<tera::Tera, HiveError> {
    let mut tera = tera::Tera::default();
    tera.add_raw_templates([
        ("table.hql", TABLE_TEMPLATE),
        ("add_partition.hql", ADD_PARTITION_TEMPLATE),
        ("load_run.hql", LOAD_RUN_TEMPLATE),
    ])
    .map_err(HiveError::Template)?;
    Ok(tera)
}

fn is_identifier(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && name.len() <= 128
}

/// Escapes text for a single-quoted HiveQL string literal (beeline's statement splitter honours
/// such literals, `;` included).
fn quote_literal(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\'', "\\'")
}

#[derive(Debug, thiserror::Error)]
pub enum HiveError {
    #[error(
        "invalid Hive {what} name {name:?} (use letters, digits and _, not starting with a digit)"
    )]
    Identifier { what: &'static str, name: String },
    #[error("invalid table location {0:?} (a URI such as hdfs://host:port/path, without whitespace, quotes, ; or \\)")]
    Location(String),
    #[error("invalid run id {0:?} (use at most 128 letters, digits, -, _ and ., starting with a letter or digit)")]
    RunId(String),
    #[error("invalid marker {0:?}")]
    Marker(String),
    #[error("rendering a HiveQL template failed")]
    Template(#[source] tera::Error),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::ParsedKey;
    use crate::row::{StatsRow, COLUMN_COUNT};
    use crate::stats::PartialStats;

    fn table() -> HiveTable<'static> {
        HiveTable {
            database: "mhfz",
            table: "weapon_statistics",
            location: "hdfs://127.0.0.1:8020/mhfz/weapon_statistics/",
        }
    }

    fn run(id: &str) -> RunId {
        RunId::parse(id).unwrap()
    }

    #[test]
    fn ddl_lists_every_column_in_order_with_its_type() {
        let ddl = render_hive_ddl(&table(), None).unwrap();
        assert!(ddl.contains("CREATE DATABASE IF NOT EXISTS `mhfz`;"));
        assert!(ddl.contains("CREATE EXTERNAL TABLE IF NOT EXISTS `mhfz`.`weapon_statistics` ("));
        assert!(ddl.contains("PARTITIONED BY (`run_id` STRING)"));
        assert!(ddl.contains("FIELDS TERMINATED BY '\\t'"));
        assert!(ddl.contains(
            "STORED AS TEXTFILE\nLOCATION 'hdfs://127.0.0.1:8020/mhfz/weapon_statistics/';"
        ));
        assert!(!ddl.contains("PARTITION ("));

        // The other tables beside the statistics table, each with its columns in order.
        for kind in [RowKind::Histogram, RowKind::Top] {
            assert!(ddl.contains(&format!(
                "CREATE EXTERNAL TABLE IF NOT EXISTS `mhfz`.`{}` (",
                kind.table_name()
            )));
            assert!(ddl.contains(&format!(
                "LOCATION 'hdfs://127.0.0.1:8020/mhfz/{}';",
                kind.table_name()
            )));
        }
        let mut column_lines = ddl.lines().filter(|l| l.starts_with("  `"));
        for kind in RowKind::ALL {
            let columns = kind.columns();
            for (index, column) in columns.iter().enumerate() {
                let line = column_lines.next().unwrap();
                let expected = format!("  `{}` {} COMMENT '", column.name, column.hive_type);
                assert!(line.starts_with(&expected), "{line:?} is not {expected:?}");
                assert_eq!(line.ends_with(','), index + 1 < columns.len(), "{line}");
            }
        }
        assert_eq!(column_lines.next(), None);
        let column_lines: Vec<&str> = ddl
            .lines()
            .filter(|l| l.starts_with("  `"))
            .take(COLUMN_COUNT)
            .collect();

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
    fn ddl_adds_the_run_partition_when_asked() {
        let ddl = render_hive_ddl(&table(), Some(&run("2024-05-01T1200Z"))).unwrap();
        assert!(ddl.contains(
            "ALTER TABLE `mhfz`.`weapon_statistics` ADD IF NOT EXISTS\n  PARTITION (`run_id` = '2024-05-01T1200Z') \
             LOCATION 'hdfs://127.0.0.1:8020/mhfz/weapon_statistics/run_id=2024-05-01T1200Z';"
        ));
    }

    #[test]
    fn load_script_replaces_the_partition_then_selects_the_marker() {
        let hql = render_load_run(&table(), &run("r1"), "mhfz-loader done r1").unwrap();
        let create = hql.find("CREATE EXTERNAL TABLE IF NOT EXISTS").unwrap();
        let drop = hql
            .find("ALTER TABLE `mhfz`.`weapon_statistics` DROP IF EXISTS PARTITION (`run_id` = 'r1');")
            .unwrap();
        let add = hql.find("ADD IF NOT EXISTS\n  PARTITION (`run_id` = 'r1') LOCATION 'hdfs://127.0.0.1:8020/mhfz/weapon_statistics/run_id=r1';").unwrap();
        let marker = hql.find("SELECT 'mhfz-loader done r1';").unwrap();
        assert!(create < drop && drop < add && add < marker, "{hql}");
        assert!(hql.trim_end().ends_with("SELECT 'mhfz-loader done r1';"));
        assert!(render_load_run(&table(), &run("r1"), "x'; DROP").is_err());
        assert!(render_load_run(&table(), &run("r1"), "").is_err());
    }

    #[test]
    fn run_ids_are_safe_in_hiveql_and_paths() {
        for good in [
            "r1",
            "2024-05-01T1200Z",
            "a.b_c-d",
            &"x".repeat(MAX_RUN_ID_LEN),
        ] {
            assert_eq!(run(good).as_str(), good);
        }
        for bad in [
            "",
            "a'b",
            "a:b",
            "a/b",
            "..",
            ".hidden",
            "_tmp",
            "-x",
            "a b",
            "a=b",
            "é",
            &"x".repeat(MAX_RUN_ID_LEN + 1),
        ] {
            assert!(RunId::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(run("r1").partition_dir(), "run_id=r1");
        assert_eq!(
            table().partition_location(&run("r1")),
            "hdfs://127.0.0.1:8020/mhfz/weapon_statistics/run_id=r1"
        );
    }

    #[test]
    fn rejects_bad_names_and_locations() {
        for bad in [
            HiveTable {
                table: "x`; DROP",
                ..table()
            },
            HiveTable {
                database: "",
                ..table()
            },
            HiveTable {
                database: "1db",
                ..table()
            },
        ] {
            assert!(matches!(
                render_hive_ddl(&bad, None),
                Err(HiveError::Identifier { .. })
            ));
        }
        for location in [
            "/no/scheme",
            "hdfs:///it's",
            "hdfs:///a;b",
            "hdfs:///a b",
            "hdfs:///a\nb",
            "hdfs:///a\\b",
            "HDFS:///x",
            "://x",
        ] {
            let bad = HiveTable {
                location,
                ..table()
            };
            assert!(
                matches!(render_hive_ddl(&bad, None), Err(HiveError::Location(_))),
                "{location:?} accepted"
            );
        }
    }
}
