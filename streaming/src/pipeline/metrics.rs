//! The run's node_exporter textfile-collector file ([`names::TEXTFILE`]), rewritten atomically
//! at the end of every run. Counters continue from the values the previous run left in the file
//! (a missing or unreadable file starts them again from zero: Prometheus sees a counter reset);
//! the last success timestamp changes only on success.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use mhfz_metrics::names::pipeline as names;
use mhfz_metrics::text::parse_samples;
use mhfz_metrics::{write_textfile, Exposition, Kind, MetricsError};

use super::report::StageLog;
use super::Stage;

/// How a run ended, for the metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunOutcome {
    Success,
    NothingChanged,
    Failed(Stage),
}

impl RunOutcome {
    fn label(self) -> &'static str {
        match self {
            RunOutcome::Success => "success",
            RunOutcome::NothingChanged => "nothing_changed",
            RunOutcome::Failed(_) => "failure",
        }
    }

    fn succeeded(self) -> bool {
        !matches!(self, RunOutcome::Failed(_))
    }
}

/// The `outcome` label values.
const OUTCOMES: [&str; 3] = ["success", "nothing_changed", "failure"];

/// The metric values the file holds, keyed by (metric, label value); `""` without a label.
type Values = BTreeMap<(String, String), f64>;

/// Updates `dir/`[`names::TEXTFILE`] with the run that ended at `ended` (the previous file's
/// values carried over as described above); returns the file's path.
pub fn write_run_metrics(
    dir: &Path,
    log: &StageLog,
    outcome: RunOutcome,
    ended: SystemTime,
) -> Result<PathBuf, MetricsError> {
    let path = dir.join(names::TEXTFILE);
    let mut values = match fs::read_to_string(&path) {
        Ok(text) => previous_values(&text),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Values::new(),
        Err(source) => {
            return Err(MetricsError::Io {
                action: "reading",
                path,
                source,
            })
        }
    };
    update(&mut values, log, outcome, ended);
    write_textfile(dir, names::TEXTFILE, &render(&values)?)
}

/// The values of our metrics in the previous file; an unreadable file counts as empty.
fn previous_values(text: &str) -> Values {
    let Ok(samples) = parse_samples(text) else {
        return Values::new();
    };
    samples
        .into_iter()
        .map(|sample| {
            let label = sample
                .label("stage")
                .or(sample.label("outcome"))
                .unwrap_or_default()
                .to_string();
            ((sample.name, label), sample.value)
        })
        .collect()
}

fn update(values: &mut Values, log: &StageLog, outcome: RunOutcome, ended: SystemTime) {
    let mut set = |name: &str, label: &str, value: f64| {
        values.insert((name.to_string(), label.to_string()), value);
    };
    let now = ended
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |elapsed| elapsed.as_secs_f64());
    set(names::LAST_RUN, "", now);
    set(
        names::LAST_RUN_SUCCESS,
        "",
        f64::from(u8::from(outcome.succeeded())),
    );
    if outcome.succeeded() {
        set(names::LAST_SUCCESS, "", now);
    }
    for record in &log.records {
        set(
            names::STAGE_DURATION,
            record.stage.name(),
            record.elapsed.as_secs_f64(),
        );
    }
    let mut add = |name: &str, label: &str, amount: u64| {
        *values
            .entry((name.to_string(), label.to_string()))
            .or_default() += amount as f64;
    };
    add(names::RUNS, outcome.label(), 1);
    if let RunOutcome::Failed(stage) = outcome {
        add(names::FAILURES, stage.name(), 1);
    }
    if outcome.succeeded() {
        for record in &log.records {
            add(
                names::RECORDS,
                record.stage.name(),
                record.records.unwrap_or(0),
            );
        }
    }
    add(names::SKIPPED_RECORDS, "", log.skipped_records.unwrap_or(0));
}

fn render(values: &Values) -> Result<String, MetricsError> {
    let value =
        |name: &str, label: &str| values.get(&(name.to_string(), label.to_string())).copied();
    let mut out = Exposition::new();
    let gauges = [
        (
            names::LAST_SUCCESS,
            "When the last successful run ended (Unix seconds).",
        ),
        (names::LAST_RUN, "When the last run ended (Unix seconds)."),
        (
            names::LAST_RUN_SUCCESS,
            "1 if the last run succeeded or found nothing changed, 0 if it failed.",
        ),
    ];
    for (name, help) in gauges {
        // No success yet: no sample rather than a fake timestamp.
        if let Some(v) = value(name, "") {
            out.family(name, Kind::Gauge, help)?.sample(&[], v)?;
        }
    }
    let per_stage = [
        (
            names::STAGE_DURATION,
            Kind::Gauge,
            "Seconds the stage took in the last run that ran it.",
        ),
        (
            names::RECORDS,
            Kind::Counter,
            "Records the stage handled, over all successful runs.",
        ),
        (
            names::FAILURES,
            Kind::Counter,
            "Runs that failed in the stage.",
        ),
    ];
    for (name, kind, help) in per_stage {
        let mut family = out.family(name, kind, help)?;
        for stage in Stage::ALL {
            let v = value(name, stage.name());
            // Counters start at 0 for every stage, so rate() and increase() see each one.
            let v = if kind == Kind::Counter {
                v.or(Some(0.0))
            } else {
                v
            };
            if let Some(v) = v {
                family.sample(&[("stage", stage.name())], v)?;
            }
        }
    }
    let mut runs = out.family(names::RUNS, Kind::Counter, "Runs ended, by outcome.")?;
    for outcome in OUTCOMES {
        runs.sample(
            &[("outcome", outcome)],
            value(names::RUNS, outcome).unwrap_or(0.0),
        )?;
    }
    out.family(
        names::SKIPPED_RECORDS,
        Kind::Counter,
        "Input lines the mappers skipped as malformed.",
    )?
    .sample(&[], value(names::SKIPPED_RECORDS, "").unwrap_or(0.0))?;
    Ok(out.into_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(seconds: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(seconds)
    }

    fn sample(text: &str, name: &str, label: &str) -> Option<f64> {
        previous_values(text)
            .get(&(name.to_string(), label.to_string()))
            .copied()
    }

    #[test]
    fn success_and_failure_update_what_they_should() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = StageLog::default();
        log.push(Stage::Export, Some(100), Duration::from_secs(2), true);
        log.push(Stage::Job, Some(100), Duration::from_secs(30), true);
        log.push(Stage::Reconcile, Some(100), Duration::ZERO, true);
        log.push(Stage::Load, Some(12), Duration::from_secs(4), true);
        log.skipped_records = Some(0);
        let path = write_run_metrics(dir.path(), &log, RunOutcome::Success, at(1000)).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(sample(&text, names::LAST_SUCCESS, ""), Some(1000.0));
        assert_eq!(sample(&text, names::RECORDS, "export"), Some(100.0));
        assert_eq!(sample(&text, names::RECORDS, "load"), Some(12.0));
        assert_eq!(sample(&text, names::STAGE_DURATION, "job"), Some(30.0));
        assert_eq!(sample(&text, names::FAILURES, "job"), Some(0.0));
        assert!(
            text.contains("# TYPE mhfz_pipeline_records_total counter\n"),
            "{text}"
        );

        // A failed run: counters of failures and runs move, records and last success do not.
        let mut failed = StageLog::default();
        failed.push(Stage::Export, Some(50), Duration::from_secs(1), true);
        failed.push(Stage::Job, None, Duration::from_secs(9), false);
        write_run_metrics(
            dir.path(),
            &failed,
            RunOutcome::Failed(Stage::Job),
            at(2000),
        )
        .unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(sample(&text, names::LAST_SUCCESS, ""), Some(1000.0));
        assert_eq!(sample(&text, names::LAST_RUN, ""), Some(2000.0));
        assert_eq!(sample(&text, names::LAST_RUN_SUCCESS, ""), Some(0.0));
        assert_eq!(sample(&text, names::RECORDS, "export"), Some(100.0));
        assert_eq!(sample(&text, names::FAILURES, "job"), Some(1.0));
        assert_eq!(sample(&text, names::RUNS, "failure"), Some(1.0));
        assert_eq!(sample(&text, names::RUNS, "success"), Some(1.0));
        assert_eq!(sample(&text, names::STAGE_DURATION, "job"), Some(9.0));
        assert_eq!(sample(&text, names::STAGE_DURATION, "load"), Some(4.0));

        // Nothing changed: a success for staleness, no records.
        let mut noop = StageLog::default();
        noop.push(Stage::Export, Some(0), Duration::from_millis(50), true);
        write_run_metrics(dir.path(), &noop, RunOutcome::NothingChanged, at(3000)).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(sample(&text, names::LAST_SUCCESS, ""), Some(3000.0));
        assert_eq!(sample(&text, names::RUNS, "nothing_changed"), Some(1.0));
        assert_eq!(sample(&text, names::RECORDS, "export"), Some(100.0));
        mhfz_metrics::text::parse_samples(&text).unwrap();
    }

    #[test]
    fn a_first_failed_run_has_no_last_success() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_run_metrics(
            dir.path(),
            &StageLog::default(),
            RunOutcome::Failed(Stage::Export),
            at(5),
        )
        .unwrap();
        let text = fs::read_to_string(path).unwrap();
        assert!(!text.contains(names::LAST_SUCCESS), "{text}");
        assert_eq!(sample(&text, names::FAILURES, "export"), Some(1.0));
    }
}
