//! What the executables share: exit status, error reporting, the options of the streaming
//! programs (mapper, combiner, reducer) about bad input and Hadoop reporting, and the Hive and
//! WebHDFS options of the loader and the pipeline.

use std::error::Error;
use std::io;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use crate::loader::beeline::Beeline;
use crate::protocol::{BadInputPolicy, ReportSettings};
use crate::webhdfs::{WebHdfs, WebHdfsError};

/// A setting the command needs but was not given.
#[derive(Debug, thiserror::Error)]
pub enum SettingError {
    #[error("{what}: give {how}")]
    Missing {
        what: &'static str,
        how: &'static str,
    },
    #[error("{name} not found next to {program} (give --{option} PATH)", program = .program.display())]
    NoSibling {
        name: &'static str,
        program: PathBuf,
        option: &'static str,
    },
    #[error("locating this executable failed")]
    CurrentExe(#[source] io::Error),
    #[error(transparent)]
    WebHdfs(#[from] WebHdfsError),
}

/// The statistics table and the HiveServer2 it is registered through.
#[derive(clap::Args, Debug, Clone)]
pub struct HiveArgs {
    /// Hive database of the statistics table (created if missing).
    #[arg(long, default_value = "mhfz")]
    pub database: String,
    /// Hive table name (created if missing).
    #[arg(long, default_value = "weapon_statistics")]
    pub table: String,
    /// HiveServer2 JDBC URL (jdbc:hive2://HOST:PORT/default;ssl=true;...). Default: the one
    /// beeline's beeline-site.xml names (the hive role writes it on every host with beeline).
    #[arg(long, env = "MHFZ_HIVE_JDBC_URL")]
    pub jdbc_url: Option<String>,
    /// The beeline executable (run directly, not through a shell).
    #[arg(long, env = "MHFZ_BEELINE")]
    pub beeline: Option<PathBuf>,
    /// User name given to HiveServer2.
    #[arg(long, default_value = "mhfz")]
    pub hive_user: String,
}

impl HiveArgs {
    pub fn beeline(&self) -> Result<Beeline, SettingError> {
        Ok(Beeline {
            program: self.beeline.clone().ok_or(SettingError::Missing {
                what: "no beeline",
                how: "--beeline (or MHFZ_BEELINE)",
            })?,
            jdbc_url: self.jdbc_url.clone(),
            user: self.hive_user.clone(),
        })
    }
}

/// The NameNode's WebHDFS endpoint and the user requests act as.
#[derive(clap::Args, Debug, Clone)]
pub struct WebHdfsArgs {
    /// WebHDFS base URL of the NameNode (http://HOST:PORT).
    #[arg(long, env = "MHFZ_WEBHDFS_URL")]
    pub webhdfs_url: Option<String>,
    /// User the WebHDFS requests act as (simple authentication).
    #[arg(long, env = "MHFZ_HDFS_USER")]
    pub hdfs_user: Option<String>,
}

impl WebHdfsArgs {
    /// The client; `needed_by` says what needs it when a setting is missing.
    pub fn client(&self, needed_by: &'static str) -> Result<WebHdfs, SettingError> {
        let url = self.webhdfs_url.as_deref().ok_or(SettingError::Missing {
            what: needed_by,
            how: "--webhdfs-url (or MHFZ_WEBHDFS_URL)",
        })?;
        let user = self.hdfs_user.as_deref().ok_or(SettingError::Missing {
            what: needed_by,
            how: "--hdfs-user (or MHFZ_HDFS_USER)",
        })?;
        Ok(WebHdfs::new(url, user)?)
    }

    /// The client when both settings are given, else `None`.
    pub fn client_if_given(&self) -> Result<Option<WebHdfs>, SettingError> {
        match (&self.webhdfs_url, &self.hdfs_user) {
            (Some(url), Some(user)) => Ok(Some(WebHdfs::new(url, user)?)),
            _ => Ok(None),
        }
    }
}

/// An explicitly given executable, or the one named `name` next to this program (`option`
/// is the option that gives it).
pub fn sibling_executable(
    given: Option<PathBuf>,
    name: &'static str,
    option: &'static str,
) -> Result<PathBuf, SettingError> {
    if let Some(path) = given {
        return Ok(path);
    }
    let me = std::env::current_exe().map_err(SettingError::CurrentExe)?;
    let sibling = me.with_file_name(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if !sibling.is_file() {
        return Err(SettingError::NoSibling {
            name,
            program: me,
            option,
        });
    }
    Ok(sibling)
}

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
    report_error(program, error.as_ref());
    ExitCode::FAILURE
}

/// Prints `<program>: error: <error>: <cause>: ...` on stderr.
pub fn report_error(program: &str, error: &(dyn Error + 'static)) {
    eprintln!("{program}: error: {}", error_chain(error));
}

/// `<error>: <cause>: ...`: the whole chain, since a cause's message is often the useful part.
pub fn error_chain(error: &(dyn Error + 'static)) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    message
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
