//! The rows a report is drawn from: the three output tables, read from their TSV files (what
//! `make demo` writes, one file per table) or from the reducers' output (tagged lines).

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::{Path, PathBuf};

use mhfz_streaming::row::{HistogramRow, OutputRow, RowError, RowKind, StatisticsRow, TopRow};

/// Every row of one run, of every kind, in the order read.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tables {
    pub statistics: Vec<StatisticsRow>,
    pub histograms: Vec<HistogramRow>,
    pub top: Vec<TopRow>,
}

#[derive(Debug, thiserror::Error)]
pub enum TablesError {
    #[error("cannot read {path}", path = .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{path} line {line}: {source}", path = .path.display())]
    Row {
        path: PathBuf,
        line: u64,
        #[source]
        source: RowError,
    },
    #[error("no statistics rows in {0}: nothing to report")]
    NoStatistics(String),
}

impl Tables {
    /// Reads `DIR/weapon_statistics.tsv`, `DIR/weapon_histograms.tsv` and `DIR/weapon_top.tsv`
    /// (file names: [`RowKind::table_name`]), each a file of its table's rows without tags.
    pub fn read_dir(dir: &Path) -> Result<Tables, TablesError> {
        let mut tables = Tables::default();
        for kind in RowKind::ALL {
            let path = dir.join(format!("{}.tsv", kind.table_name()));
            read_lines(
                &path,
                |line| OutputRow::parse_table_row(kind, line),
                &mut tables,
            )?;
        }
        tables.check(&dir.display().to_string())?;
        Ok(tables)
    }

    /// Reads reducer output files: lines of every kind, tagged ([`RowKind::split_line`]).
    pub fn read_reducer_output(files: &[PathBuf]) -> Result<Tables, TablesError> {
        let mut tables = Tables::default();
        for path in files {
            read_lines(path, OutputRow::parse, &mut tables)?;
        }
        let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
        tables.check(&names.join(", "))?;
        Ok(tables)
    }

    pub fn push(&mut self, row: OutputRow) {
        match row {
            OutputRow::Statistics(row) => self.statistics.push(row),
            OutputRow::Histogram(row) => self.histograms.push(row),
            OutputRow::Top(row) => self.top.push(row),
        }
    }

    fn check(&self, source: &str) -> Result<(), TablesError> {
        if self.statistics.is_empty() {
            return Err(TablesError::NoStatistics(source.to_string()));
        }
        Ok(())
    }
}

fn read_lines(
    path: &Path,
    parse: impl Fn(&str) -> Result<OutputRow, RowError>,
    tables: &mut Tables,
) -> Result<(), TablesError> {
    let read_error = |source| TablesError::Read {
        path: path.to_path_buf(),
        source,
    };
    let reader = BufReader::new(File::open(path).map_err(read_error)?);
    for (index, line) in reader.lines().enumerate() {
        let line = line.map_err(read_error)?;
        let row = parse(&line).map_err(|source| TablesError::Row {
            path: path.to_path_buf(),
            line: index as u64 + 1,
            source,
        })?;
        tables.push(row);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_row_is_named_by_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("weapon_statistics.tsv"), "all\t1\n").unwrap();
        let error = Tables::read_dir(dir.path()).unwrap_err().to_string();
        assert!(error.contains("weapon_statistics.tsv line 1: "), "{error}");
    }

    #[test]
    fn a_missing_table_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let error = Tables::read_dir(dir.path()).unwrap_err().to_string();
        assert!(error.contains("weapon_statistics.tsv"), "{error}");
    }
}
