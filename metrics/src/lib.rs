//! The pipeline's Prometheus metrics: every metric name of every component ([`names`]), the
//! Prometheus text exposition format ([`text`]: a writer, and a reader for what it wrote), and
//! node_exporter textfile-collector files put in place atomically ([`textfile`]).
//!
//! Long-running components (the consumer) serve the text on `/metrics`; batch executables (the
//! pipeline) write it to a `.prom` file in node_exporter's textfile-collector directory.

pub mod names;
pub mod text;
pub mod textfile;

pub use text::{Exposition, Kind, Sample};
pub use textfile::write_textfile;

/// What can go wrong writing or reading metrics.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    #[error("{name:?} is not a valid Prometheus metric name")]
    MetricName { name: String },

    #[error("{name:?} is not a valid Prometheus label name (of metric {metric})")]
    LabelName { metric: String, name: String },

    #[error("metric {name} is written twice: a family's samples must be together")]
    DuplicateFamily { name: String },

    #[error("{line_number}: {problem}: {line:?}")]
    Parse {
        line_number: usize,
        line: String,
        problem: &'static str,
    },

    #[error("{file:?} is not a textfile-collector file name: a plain name ending in .prom")]
    TextfileName { file: String },

    #[error("{action} {path}", path = .path.display())]
    Io {
        action: &'static str,
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
}
