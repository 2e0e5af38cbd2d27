//! Running HiveQL through HiveServer2 with the `beeline` client, and telling whether it worked.
//!
//! beeline's exit status alone is not enough: with `-f` it stops at the first failing statement
//! with status 2, but when it cannot connect at all it prints the error and exits with status 0.
//! Every script therefore ends with `SELECT '<marker>';` and succeeds only when beeline exits
//! with status 0 *and* the marker is its last line of output.

use std::ffi::OsString;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// How to reach HiveServer2.
#[derive(Clone, Debug)]
pub struct Beeline {
    /// The beeline executable (e.g. `$MHFZ_BEELINE`); run directly, not through a shell.
    pub program: PathBuf,
    /// `jdbc:hive2://HOST:PORT/DATABASE;...`; `None`: the one beeline-site.xml names.
    pub jdbc_url: Option<String>,
    /// User name given to HiveServer2 (`-n`).
    pub user: String,
}

impl Beeline {
    /// Runs `script` (statements ending in `;`), which must end with `SELECT '<marker>';`.
    /// Returns the rows printed before the marker, each split at tabs (beeline's `tsv2` format:
    /// NULL is printed `NULL`).
    pub fn run_script(&self, script: &str, marker: &str) -> Result<Vec<Vec<String>>, BeelineError> {
        let mut file = tempfile::Builder::new()
            .prefix("mhfz-beeline-")
            .suffix(".hql")
            .tempfile()
            .map_err(BeelineError::Script)?;
        file.write_all(script.as_bytes())
            .and_then(|()| file.flush())
            .map_err(BeelineError::Script)?;
        let url = self
            .jdbc_url
            .iter()
            .flat_map(|url| [OsString::from("-u"), url.into()]);
        let args = url.chain::<[OsString; 10]>([
            "-n".into(),
            self.user.clone().into(),
            // No password (HiveServer2 authenticates no one); without it, beeline connecting to
            // its beeline-site.xml URL would prompt for one.
            "-p".into(),
            "".into(),
            "--silent=true".into(),
            "--outputformat=tsv2".into(),
            "--showHeader=false".into(),
            // Stop at the first failing statement (the default, made explicit).
            "--force=false".into(),
            "-f".into(),
            file.path().into(),
        ]);
        let output = Command::new(&self.program)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|source| BeelineError::Spawn {
                program: self.program.clone(),
                source,
            })?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        if !output.status.success() {
            return Err(BeelineError::Failed {
                status: output.status.to_string(),
                errors: error_lines(&stderr),
            });
        }
        // beeline's silent mode sometimes writes a carriage return (or `\rnull`) before output.
        let lines: Vec<&str> = stdout
            .lines()
            .map(|line| line.rsplit('\r').next().unwrap_or(line))
            .filter(|line| !line.is_empty())
            .collect();
        match lines.split_last() {
            Some((last, rows)) if *last == marker => Ok(rows
                .iter()
                .map(|row| row.split('\t').map(str::to_owned).collect())
                .collect()),
            _ => Err(BeelineError::Incomplete {
                errors: error_lines(&stderr),
            }),
        }
    }

    /// Runs one query and returns its rows (see [`Beeline::run_script`]).
    pub fn query(&self, query: &str) -> Result<Vec<Vec<String>>, BeelineError> {
        let marker = "mhfz query done";
        let query = query.trim_end().trim_end_matches(';');
        self.run_script(&format!("{query};\nSELECT '{marker}';\n"), marker)
    }
}

/// beeline's own error lines (`Error: ...`), or else its last lines of output, joined.
fn error_lines(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();
    let errors: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|line| line.starts_with("Error:"))
        .collect();
    let shown = if errors.is_empty() {
        &lines[lines.len().saturating_sub(5)..]
    } else {
        &errors[..]
    };
    if shown.is_empty() {
        "no error output".into()
    } else {
        shown.join(" | ")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BeelineError {
    #[error("cannot write the HiveQL script to a temporary file")]
    Script(#[source] io::Error),
    #[error("cannot run beeline ({program})", program = .program.display())]
    Spawn {
        program: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("beeline failed ({status}): {errors}")]
    Failed { status: String, errors: String },
    #[error("beeline exited with status 0 but did not run the whole script (no connection, or a statement failed): {errors}")]
    Incomplete { errors: String },
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// A stand-in for beeline: a shell script printing `stdout` and `stderr`, exiting `status`.
    fn fake_beeline(dir: &tempfile::TempDir, stdout: &str, stderr: &str, status: i32) -> Beeline {
        let program = dir.path().join("beeline");
        std::fs::write(
            &program,
            format!("#!/bin/sh\nprintf '{stdout}'\nprintf '{stderr}' >&2\nexit {status}\n"),
        )
        .unwrap();
        std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
        Beeline {
            program,
            jdbc_url: Some("jdbc:hive2://127.0.0.1:1/default".into()),
            user: "test".into(),
        }
    }

    #[test]
    fn rows_before_the_marker_are_returned() {
        let dir = tempfile::tempdir().unwrap();
        let beeline = fake_beeline(
            &dir,
            "\\n\\ra\\tNULL\\nb\\t2\\nmhfz query done\\n",
            "\\n",
            0,
        );
        assert_eq!(
            beeline.query("SELECT x, y FROM t;").unwrap(),
            [["a", "NULL"], ["b", "2"]]
        );
    }

    #[test]
    fn status_zero_without_the_marker_is_an_error() {
        // What beeline does when it cannot connect.
        let dir = tempfile::tempdir().unwrap();
        let beeline = fake_beeline(
            &dir,
            "",
            "Could not open connection\\nError: Could not open client transport (state=08S01,code=0)\\n",
            0,
        );
        let error = beeline.query("SELECT 1").unwrap_err().to_string();
        assert!(error.contains("did not run the whole script"), "{error}");
        assert!(
            error.contains("Error: Could not open client transport"),
            "{error}"
        );
    }

    #[test]
    fn a_failing_status_shows_beelines_errors() {
        let dir = tempfile::tempdir().unwrap();
        let beeline = fake_beeline(
            &dir,
            "",
            "\\nError: Error while compiling statement: FAILED: SemanticException (state=42S02,code=10001)\\n",
            2,
        );
        let error = beeline.query("SELECT 1").unwrap_err().to_string();
        assert!(error.contains("exit status: 2"), "{error}");
        assert!(error.contains("SemanticException"), "{error}");
        // The marker printed by some other statement is not taken for the end of the script.
        let beeline = fake_beeline(&dir, "mhfz query done\\nx\\n", "", 0);
        assert!(matches!(
            beeline.query("SELECT 1"),
            Err(BeelineError::Incomplete { .. })
        ));
    }

    #[test]
    fn without_a_url_beeline_connects_where_its_beeline_site_names() {
        let dir = tempfile::tempdir().unwrap();
        let program = dir.path().join("beeline");
        // Prints its arguments before the first -n, then the marker.
        std::fs::write(
            &program,
            "#!/bin/sh\nwhile [ \"$1\" != -n ]; do printf '%s\\t' \"$1\"; shift; done\necho\necho 'mhfz query done'\n",
        )
        .unwrap();
        std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
        let mut beeline = Beeline {
            program,
            jdbc_url: None,
            user: "test".into(),
        };
        assert!(beeline.query("SELECT 1").unwrap().is_empty());
        beeline.jdbc_url = Some("jdbc:hive2://h:1/default;ssl=true".into());
        assert_eq!(
            beeline.query("SELECT 1").unwrap(),
            [["-u", "jdbc:hive2://h:1/default;ssl=true", ""]]
        );
    }

    #[test]
    fn a_missing_program_is_named() {
        let beeline = Beeline {
            program: "/nonexistent/beeline".into(),
            jdbc_url: None,
            user: String::new(),
        };
        let error = beeline.query("SELECT 1").unwrap_err().to_string();
        assert!(error.contains("/nonexistent/beeline"), "{error}");
    }
}
