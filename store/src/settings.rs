//! Connection settings: where the database is, who we are, the password kept out of sight,
//! and the CA certificates that TCP connections verify the server with.

use openssl::ssl::{SslConnector, SslMethod, SslVersion};
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::X509;
use postgres::config::{Host, SslMode};
use postgres::{Client, Config, NoTls};
use postgres_openssl::MakeTlsConnector;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::StoreError;

/// Connection URL or `key=value` string, without a password: `postgres://mhfz_writer@127.0.0.1:5432/mhfz`.
pub const URL_VAR: &str = "MHFZ_PG_URL";
/// File holding the password (first line; a trailing newline is ignored).
pub const PASSWORD_FILE_VAR: &str = "MHFZ_PG_PASSWORD_FILE";
/// PEM file of the CA certificate(s) that signed the server's certificate. TCP connections use
/// TLS and verify the server's certificate chain against these alone, and its name (libpq's
/// `sslmode=verify-full`); without it they are refused. Unix sockets need none.
pub const CA_FILE_VAR: &str = "MHFZ_PG_CA_FILE";

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
    /// Read when connecting, as libpq reads `sslrootcert`: a renewed CA needs no restart.
    ca_file: Option<PathBuf>,
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
            ca_file: None,
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
            ca_file: None,
        })
    }

    /// From `MHFZ_PG_URL` and, when set, the password file named by `MHFZ_PG_PASSWORD_FILE`
    /// and the CA file named by `MHFZ_PG_CA_FILE`.
    pub fn from_env() -> Result<ConnectionSettings, StoreError> {
        let url = std::env::var(URL_VAR)
            .map_err(|_| StoreError::Settings(format!("{URL_VAR} is not set")))?;
        let settings = ConnectionSettings::from_url(&url)?.with_ca_file_from_env();
        match std::env::var_os(PASSWORD_FILE_VAR) {
            Some(path) => Ok(settings.with_password(Password::from_file(&PathBuf::from(path))?)),
            None => Ok(settings),
        }
    }

    /// Verify the server with the CA certificate(s) in this PEM file. It is read when
    /// connecting; a missing or unreadable file, or one without a certificate, is an error then.
    pub fn with_ca_file(mut self, path: impl Into<PathBuf>) -> ConnectionSettings {
        self.ca_file = Some(path.into());
        self
    }

    /// [`Self::with_ca_file`] with the file named by `MHFZ_PG_CA_FILE`, when it is set and not
    /// empty; otherwise unchanged. The one reading of that variable, for programs and tests.
    pub fn with_ca_file_from_env(self) -> ConnectionSettings {
        match std::env::var_os(CA_FILE_VAR) {
            Some(path) if !path.is_empty() => self.with_ca_file(path),
            _ => self,
        }
    }

    /// The CA file TCP connections verify the server with.
    pub fn ca_file(&self) -> Option<&Path> {
        self.ca_file.as_deref()
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
            .field("ca_file", &self.ca_file)
            .finish()
    }
}

/// Opens a connection: over TCP with TLS, verifying the server's certificate chain against the
/// CA file and its name (the host name or IP address connected to) against the certificate,
/// whatever `sslmode` the URL gives; over a Unix socket without TLS, which PostgreSQL does not
/// offer there.
pub fn connect(settings: &ConnectionSettings) -> Result<Client, StoreError> {
    let mut config = settings.config.clone();
    if let Some(password) = &settings.password {
        config.password(password.expose());
    }
    let connected = if settings.over_tcp()? {
        let tls = tls_connector(settings)?;
        // Require: no falling back to plaintext when the server declines TLS.
        config.ssl_mode(SslMode::Require);
        config.connect(tls)
    } else {
        config.connect(NoTls)
    };
    connected.map_err(|source| StoreError::Connect {
        target: settings.target(),
        source,
    })
}

impl ConnectionSettings {
    /// True for TCP hosts, false for Unix sockets (or no host, which fails when connecting).
    /// A list of both is refused: one TLS setting must fit every host tried.
    fn over_tcp(&self) -> Result<bool, StoreError> {
        let hosts = self.config.get_hosts();
        let unix = hosts.iter().any(|host| !matches!(host, Host::Tcp(_)));
        // hostaddr, when given, is what is connected to: always TCP.
        let tcp = !self.config.get_hostaddrs().is_empty()
            || hosts.iter().any(|host| matches!(host, Host::Tcp(_)));
        if unix && tcp {
            return Err(StoreError::Settings(format!(
                "{}: the hosts mix Unix sockets and TCP; give one kind",
                self.target()
            )));
        }
        Ok(tcp)
    }
}

/// A TLS connector that trusts the CA file's certificates and nothing else (not the system's
/// CAs) and checks the server's name; OpenSSL's defaults otherwise, TLS 1.2 at least.
fn tls_connector(settings: &ConnectionSettings) -> Result<MakeTlsConnector, StoreError> {
    let Some(path) = settings.ca_file() else {
        return Err(StoreError::NoCaFile {
            target: settings.target(),
        });
    };
    let pem = std::fs::read(path).map_err(|source| StoreError::CaFile {
        path: path.to_path_buf(),
        source,
    })?;
    let certificates = X509::stack_from_pem(&pem).map_err(|source| StoreError::CaFileInvalid {
        path: path.to_path_buf(),
        source,
    })?;
    if certificates.is_empty() {
        return Err(StoreError::CaFileEmpty {
            path: path.to_path_buf(),
        });
    }
    let mut trusted = X509StoreBuilder::new().map_err(StoreError::Tls)?;
    for certificate in certificates {
        trusted.add_cert(certificate).map_err(StoreError::Tls)?;
    }
    // SslConnector verifies the chain and, per connection, the host name or IP address.
    let mut builder = SslConnector::builder(SslMethod::tls_client()).map_err(StoreError::Tls)?;
    // Replaces the store the builder filled with the system's CAs.
    builder.set_cert_store(trusted.build());
    builder
        .set_min_proto_version(Some(SslVersion::TLS1_2))
        .map_err(StoreError::Tls)?;
    Ok(MakeTlsConnector::new(builder.build()))
}
