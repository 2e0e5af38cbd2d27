//! The Kafka side of the tests: the stack's broker and super user, from what `scripts/stack`
//! exports, as [`KafkaClientSettings`] (the one owner of every client's configuration, the
//! tests' included); certificate authorities for the TLS tests (the store's `TestCa`); a bound
//! on a program's run.
#![allow(dead_code)] // Each test binary uses its own part.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use mhfz_ingest::kafka::client::{CA_FILE_VAR, PASSWORD_FILE_VAR, USER_VAR};
use mhfz_ingest::kafka::{KafkaClientSettings, KafkaCredentials};

// The TLS tests' own certificate authorities, shared with the store's tests.
#[path = "../../../store/tests/support/test_ca.rs"]
mod test_ca;
pub use test_ca::TestCa;

/// The stack's SASL_SSL listener.
pub const BOOTSTRAP_VAR: &str = "MHFZ_KAFKA_BOOTSTRAP";

/// A variable `scripts/stack` exports; panics, naming the way to run the tests, when unset.
pub fn stack_var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: these tests need the project's Kafka; run them via `scripts/stack \
             run -- cargo test` (it sets {BOOTSTRAP_VAR}, {USER_VAR}, {PASSWORD_FILE_VAR} and \
             {CA_FILE_VAR})"
        )
    })
}

pub fn bootstrap() -> String {
    stack_var(BOOTSTRAP_VAR)
}

/// The stack's super user (allowed everything: the tests create their own topics and groups).
pub fn stack_user() -> String {
    stack_var(USER_VAR)
}

/// The settings of a test's own clients: the stack's broker, as its super user.
pub fn stack_settings(client_id: &str) -> KafkaClientSettings {
    let credentials = KafkaCredentials::from_files(
        &stack_user(),
        Path::new(&stack_var(PASSWORD_FILE_VAR)),
        Path::new(&stack_var(CA_FILE_VAR)),
    )
    .unwrap_or_else(|error| panic!("the stack's Kafka credentials: {error}"));
    KafkaClientSettings::new(bootstrap(), client_id, credentials)
}

/// Waits for `child` to exit within `timeout`; kills it and panics otherwise.
pub fn wait_exit(child: &mut Child, timeout: Duration) -> ExitStatus {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the child process did not exit within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Runs `command` to its end, as [`Command::output`] does, but kills it and panics after
/// `bound`: a program that should stop on its own must not hang the tests.
pub fn output_within(command: &mut Command, bound: Duration) -> Output {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Both pipes are drained meanwhile, so that a talkative child cannot block on a full one.
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                pipe.read_to_end(&mut bytes).unwrap();
            }
            bytes
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as _));
    let status = wait_exit(&mut child, bound);
    Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}
