//! `mhfz-consumer`: Kafka weapon records → PostgreSQL. All logic lives in
//! `mhfz_ingest::consumer`.

use std::process::ExitCode;

fn main() -> ExitCode {
    ExitCode::from(mhfz_ingest::consumer::cli::main())
}
