//! Writes the integration-test fixture records as NDJSON, repeated until at least the requested
//! number of megabytes (default 200): benchmark input for `mhfz-mapper`.
//!
//! `cargo run --release -p mhfz-streaming --example fixture-ndjson -- 200 > /tmp/weapons.ndjson`

#[path = "../tests/common/fixtures.rs"]
mod fixtures;

use std::io::{self, Write};

fn main() -> io::Result<()> {
    let megabytes: u64 = match std::env::args().nth(1) {
        Some(arg) => arg
            .parse()
            .map_err(|_| io::Error::other(format!("not a number: {arg:?}")))?,
        None => 200,
    };
    let block = fixtures::to_ndjson(&fixtures::fixture_records());
    let mut out = io::BufWriter::new(io::stdout().lock());
    let mut written = 0;
    while written < megabytes << 20 {
        match out.write_all(block.as_bytes()) {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(()),
            other => other?,
        }
        written += block.len() as u64;
    }
    out.flush()
}
