//! Connection settings: where the database is, who we are, and the password kept out of sight.

use postgres::config::Host;
use postgres::{Client, Config, NoTls};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::StoreError;

/// Connection URL or `key=value` string, without a password: `postgres://mhfz_writer@127.0.0.1:5432/mhfz`.
pub const URL_VAR: &str = "MHFZ_PG_URL";
/// File holding the password (first line; a trailing newline is ignored).
pub const PASSWORD_FILE_VAR: &str = "MHFZ_PG_PASSWORD_FILE";

/// A password. Its `Debug` shows `<redacted>`, it has no `Display`, and nothing in this crate
/// formats it into a message.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Refuses an empty password: there is no default.
    pub fn new(password: impl Into<String>) -> Result<Password, StoreError> {
        let password = password.into();
        if password.is_empty() {
            return Err(StoreError::Settings("empty password".into()));
        }
        Ok(Password(password))
    }

    /// Reads the first line of `path`.
    pub fn from_file(path: &Path) -> Result<Password, StoreError> {
        let text = std::fs::read_to_string(path).map_err(|source| StoreError::PasswordFile {
            path: path.to_path_buf(),
            source,
        })?;
        let line = text.lines().next().unwrap_or_default();
        Password::new(line)
            .map_err(|_| StoreError::Settings(format!("password file {} is empty", path.display())))
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// Where and as whom to connect.
#[derive(Clone)]
pub struct ConnectionSettings {
    /// Everything but the password, which is only added when connecting.
    config: Config,
    password: Option<Password>,
}

impl ConnectionSettings {
    pub fn new(host: &str, port: u16, user: &str, database: &str) -> ConnectionSettings {
        let mut config = Config::new();
        config
            .host(host)
            .port(port)
            .user(user)
            .dbname(database)
            .application_name("mhfz-store");
        ConnectionSettings {
            config,
            password: None,
        }
    }

    /// Parses a `postgres://` URL or `key=value` string. A password inside it is refused, so
    /// that it cannot leak wherever the URL is shown: give it with [`Self::with_password`].
    pub fn from_url(url: &str) -> Result<ConnectionSettings, StoreError> {
        // postgres::Error's message for a bad URL does not echo the URL.
        let mut config = Config::from_str(url)
            .map_err(|e| StoreError::Settings(format!("bad connection URL: {e}")))?;
        if config.get_password().is_some() {
            return Err(StoreError::Settings(format!(
                "the connection URL must not contain a password; put it in the file named by {PASSWORD_FILE_VAR}"
            )));
        }
        if config.get_user().is_none() {
            return Err(StoreError::Settings(
                "the connection URL names no user".into(),
            ));
        }
        if config.get_application_name().is_none() {
            config.application_name("mhfz-store");
        }
        Ok(ConnectionSettings {
            config,
            password: None,
        })
    }

    /// From `MHFZ_PG_URL` and, when set, the password file named by `MHFZ_PG_PASSWORD_FILE`.
    pub fn from_env() -> Result<ConnectionSettings, StoreError> {
        let url = std::env::var(URL_VAR)
            .map_err(|_| StoreError::Settings(format!("{URL_VAR} is not set")))?;
        let settings = ConnectionSettings::from_url(&url)?;
        match std::env::var_os(PASSWORD_FILE_VAR) {
            Some(path) => Ok(settings.with_password(Password::from_file(&PathBuf::from(path))?)),
            None => Ok(settings),
        }
    }

    pub fn with_password(mut self, password: Password) -> ConnectionSettings {
        self.password = Some(password);
        self
    }

    /// The same server and credentials, another database.
    pub fn with_database(mut self, database: &str) -> ConnectionSettings {
        self.config.dbname(database);
        self
    }

    /// The same server, another role.
    pub fn with_user(mut self, user: &str, password: Password) -> ConnectionSettings {
        self.config.user(user);
        self.password = Some(password);
        self
    }

    pub fn user(&self) -> &str {
        self.config.get_user().unwrap_or_default()
    }

    pub fn database(&self) -> &str {
        self.config.get_dbname().unwrap_or_else(|| self.user())
    }

    /// `host:port/database as user`, for messages.
    pub fn target(&self) -> String {
        let hosts: Vec<String> = self
            .config
            .get_hosts()
            .iter()
            .map(|host| match host {
                Host::Tcp(name) => name.clone(),
                Host::Unix(path) => path.display().to_string(),
            })
            .collect();
        let port = self.config.get_ports().first().copied().unwrap_or(5432);
        format!(
            "{}:{port}/{} as {}",
            hosts.join(","),
            self.database(),
            self.user()
        )
    }
}

impl fmt::Debug for ConnectionSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionSettings")
            .field("target", &self.target())
            .field("password", &self.password)
            .finish()
    }
}

/// Opens a connection (plain TCP or a Unix socket; TLS is not supported yet).
pub fn connect(settings: &ConnectionSettings) -> Result<Client, StoreError> {
    let mut config = settings.config.clone();
    if let Some(password) = &settings.password {
        config.password(password.expose());
    }
    config.connect(NoTls).map_err(|source| StoreError::Connect {
        target: settings.target(),
        source,
    })
}
