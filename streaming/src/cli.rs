//! What the executables share: exit status and error reporting.

use std::error::Error;
use std::io;
use std::process::ExitCode;

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
