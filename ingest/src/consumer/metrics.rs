//! The consumer's metrics and their Prometheus text exposition on `/metrics`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::consumer::ConsumerError;

// Every metric name lives in one place, with its type and labels: dashboards and alerts are
// written from it.
pub use mhfz_metrics::names::consumer as names;

/// Upper bounds of the batch duration histogram, in seconds.
const BATCH_BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Debug, Default)]
struct Histogram {
    /// Cumulative counts per bucket of [`BATCH_BUCKETS`].
    buckets: [u64; BATCH_BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// Shared between the consume loop and the HTTP thread.
#[derive(Debug, Default)]
pub struct Metrics {
    messages: AtomicU64,
    rows_written: AtomicU64,
    rows_unchanged: AtomicU64,
    dead_letters: AtomicU64,
    batch_duration: Mutex<Histogram>,
    /// (topic, partition) → messages behind the high watermark.
    lag: Mutex<BTreeMap<(String, i32), i64>>,
}

impl Metrics {
    pub fn add_messages(&self, n: u64) {
        self.messages.fetch_add(n, Ordering::Relaxed);
    }

    pub fn add_rows(&self, written: u64, unchanged: u64) {
        self.rows_written.fetch_add(written, Ordering::Relaxed);
        self.rows_unchanged.fetch_add(unchanged, Ordering::Relaxed);
    }

    pub fn add_dead_letters(&self, n: u64) {
        self.dead_letters.fetch_add(n, Ordering::Relaxed);
    }

    pub fn observe_batch(&self, duration: Duration) {
        let seconds = duration.as_secs_f64();
        let mut histogram = lock(&self.batch_duration);
        for (bucket, bound) in histogram.buckets.iter_mut().zip(BATCH_BUCKETS) {
            if seconds <= bound {
                *bucket += 1;
            }
        }
        histogram.count += 1;
        histogram.sum += seconds;
    }

    /// Replaces the lag of every partition: partitions no longer assigned disappear.
    pub fn set_lag(&self, lag: BTreeMap<(String, i32), i64>) {
        *lock(&self.lag) = lag;
    }

    /// The Prometheus text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        let mut out = String::new();
        let counters = [
            (names::MESSAGES, "Messages consumed.", &self.messages),
            (
                names::ROWS_WRITTEN,
                "Rows inserted or updated.",
                &self.rows_written,
            ),
            (
                names::ROWS_UNCHANGED,
                "Records whose stored row already had the same content.",
                &self.rows_unchanged,
            ),
            (
                names::DEAD_LETTERS,
                "Messages sent to the dead-letter topic.",
                &self.dead_letters,
            ),
        ];
        for (name, help, value) in counters {
            let value = value.load(Ordering::Relaxed);
            let _ = write!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}\n"
            );
        }
        {
            let name = names::BATCH_DURATION;
            let histogram = lock(&self.batch_duration);
            let _ = write!(
                out,
                "# HELP {name} Time to write a batch and commit its offsets.\n# TYPE {name} histogram\n"
            );
            for (count, bound) in histogram.buckets.iter().zip(BATCH_BUCKETS) {
                let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {count}");
            }
            let _ = write!(
                out,
                "{name}_bucket{{le=\"+Inf\"}} {count}\n{name}_sum {sum}\n{name}_count {count}\n",
                count = histogram.count,
                sum = histogram.sum
            );
        }
        let name = names::LAG;
        let _ = write!(
            out,
            "# HELP {name} Messages behind the partition's high watermark.\n# TYPE {name} gauge\n"
        );
        for ((topic, partition), lag) in lock(&self.lag).iter() {
            let _ = writeln!(
                out,
                "{name}{{topic=\"{}\",partition=\"{partition}\"}} {lag}",
                escape_label(topic)
            );
        }
        out
    }
}

/// A poisoned lock only means another thread panicked while counting: the numbers are still
/// worth serving.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Serves `GET /metrics` on `addr` from a background thread, for the life of the process.
/// Returns the bound address (useful with port 0).
pub fn serve(addr: SocketAddr, metrics: Arc<Metrics>) -> Result<SocketAddr, ConsumerError> {
    let server = tiny_http::Server::http(addr).map_err(|error| ConsumerError::Metrics {
        addr: addr.to_string(),
        message: error.to_string(),
    })?;
    let bound = server
        .server_addr()
        .to_ip()
        .ok_or_else(|| ConsumerError::Metrics {
            addr: addr.to_string(),
            message: "not an IP address".into(),
        })?;
    std::thread::Builder::new()
        .name("metrics".into())
        .spawn(move || {
            for request in server.incoming_requests() {
                let response = if request.url() == "/metrics" {
                    let header = tiny_http::Header::from_bytes(
                        "Content-Type",
                        "text/plain; version=0.0.4; charset=utf-8",
                    )
                    .expect("a valid static header");
                    tiny_http::Response::from_string(metrics.render()).with_header(header)
                } else {
                    tiny_http::Response::from_string("not found\n").with_status_code(404)
                };
                // A client that went away is its own problem.
                let _ = request.respond(response);
            }
        })
        .map_err(|error| ConsumerError::Metrics {
            addr: addr.to_string(),
            message: error.to_string(),
        })?;
    Ok(bound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_lists_every_metric_with_its_value() {
        let metrics = Metrics::default();
        metrics.add_messages(3);
        metrics.add_rows(2, 1);
        metrics.observe_batch(Duration::from_millis(30));
        metrics.set_lag(BTreeMap::from([(("t".to_string(), 0), 7)]));
        let text = metrics.render();
        assert!(text.contains("mhfz_consumer_messages_total 3\n"), "{text}");
        assert!(text.contains("mhfz_consumer_rows_written_total 2\n"));
        assert!(text.contains("mhfz_consumer_rows_unchanged_total 1\n"));
        assert!(text.contains("mhfz_consumer_dead_letters_total 0\n"));
        assert!(text.contains("mhfz_consumer_batch_duration_seconds_bucket{le=\"0.025\"} 0\n"));
        assert!(text.contains("mhfz_consumer_batch_duration_seconds_bucket{le=\"0.05\"} 1\n"));
        assert!(text.contains("mhfz_consumer_batch_duration_seconds_count 1\n"));
        assert!(text.contains("mhfz_consumer_lag{topic=\"t\",partition=\"0\"} 7\n"));
    }
}
