//! What the executables share: exit status, error reporting, and the options of the streaming
//! programs (mapper, combiner, reducer) about bad input and Hadoop reporting.

use std::error::Error;
use std::io;
use std::process::ExitCode;
use std::time::Duration;

use crate::protocol::{BadInputPolicy, ReportSettings};

/// Options every streaming program takes (`#[command(flatten)]` into its arguments).
#[derive(clap::Args, Debug)]
pub struct StreamingArgs {
    /// Fail on the first malformed line instead of skipping it.
    #[arg(long)]
    pub strict: bool,
    /// Malformed lines between two Hadoop counter updates (`reporter:counter:` lines).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    pub counter_batch: u64,
    /// Seconds between status lines.
    #[arg(long, default_value_t = 30)]
    pub status_interval: u64,
}

impl StreamingArgs {
    pub fn bad_input(&self) -> BadInputPolicy {
        if self.strict {
            BadInputPolicy::Fail
        } else {
            BadInputPolicy::Skip
        }
    }

    pub fn report_settings(&self) -> ReportSettings {
        ReportSettings {
            malformed_batch: self.counter_batch,
            status_interval: Duration::from_secs(self.status_interval),
        }
    }
}

/// Exit status of a program run: success, or the error chain on stderr and failure. A broken
/// pipe on output (`mhfz-mapper | head`) is a reader that has seen enough: quiet success.
pub fn exit_code(program: &str, result: Result<(), Box<dyn Error + Send + Sync>>) -> ExitCode {
    let Err(error) = result else {
        return ExitCode::SUCCESS;
    };
    if is_broken_pipe(error.as_ref()) {
        return ExitCode::SUCCESS;
    }
    let mut message = format!("{program}: error: {error}");
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    eprintln!("{message}");
    ExitCode::FAILURE
}

/// True if `error` or any of its sources is an I/O broken pipe.
pub fn is_broken_pipe(error: &(dyn Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(error) = current {
        if error
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
        {
            return true;
        }
        current = error.source();
    }
    false
}
