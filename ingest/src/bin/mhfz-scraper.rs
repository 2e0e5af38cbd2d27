//! `mhfz-scraper`: MHFZ Ferias weapon pages → NDJSON weapon records. All logic lives in
//! `mhfz_ingest::scrape::cli`.

use std::process::ExitCode;

fn main() -> ExitCode {
    ExitCode::from(mhfz_ingest::scrape::cli::main())
}
