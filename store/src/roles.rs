//! Least-privilege roles: the consumer writes rows of the class tables and nothing else; the
//! exporter reads them and records its exports; the reader only reads.

use mhfz_record::WeaponClass;
use postgres::{Client, GenericClient};

use crate::{table_name, verify_migrations, Password, StoreError};

/// Names of the roles [`provision_roles`] manages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleNames {
    /// The consumer: SELECT, INSERT and UPDATE on the class tables; appends to the history.
    pub writer: String,
    /// Queries and reports: SELECT only.
    pub reader: String,
    /// `mhfz-exporter`: SELECT on the class tables, SELECT and INSERT on `mhfz.export_runs`.
    pub exporter: String,
}

impl Default for RoleNames {
    fn default() -> RoleNames {
        RoleNames {
            writer: "mhfz_writer".into(),
            reader: "mhfz_reader".into(),
            exporter: "mhfz_exporter".into(),
        }
    }
}

/// The roles' passwords, chosen by the caller: there are no defaults.
#[derive(Debug, Clone)]
pub struct RolePasswords {
    pub writer: Password,
    pub reader: Password,
    pub exporter: Password,
}

/// The roles [`grant_privileges`] gives their rights in schema `mhfz`. They must exist: the
/// deployment creates login roles (and grants CONNECT on the database) separately.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grantees {
    /// The consumer.
    pub writer: String,
    /// `mhfz-exporter`.
    pub exporter: String,
    /// Read-only roles (queries, reports); may be empty.
    pub readers: Vec<String>,
}

impl Grantees {
    fn all(&self) -> impl Iterator<Item = &String> {
        [&self.writer, &self.exporter]
            .into_iter()
            .chain(&self.readers)
    }

    /// Names are valid identifiers and each role has one job.
    fn check(&self) -> Result<(), StoreError> {
        let mut seen = std::collections::BTreeSet::new();
        for name in self.all() {
            check_role_name(name)?;
            if !seen.insert(name) {
                return Err(StoreError::Settings(format!(
                    "role {name} is named twice; the writer, the exporter and each reader must differ"
                )));
            }
        }
        Ok(())
    }
}

/// Gives the roles exactly their rights in schema `mhfz`, and nothing more:
///
/// - all: USAGE on the schema;
/// - writer: SELECT, INSERT, UPDATE on each class table, SELECT and INSERT on the history
///   `mhfz.weapon_versions` and UPDATE of its `valid_to` only (to close a version: a version's
///   content cannot be rewritten), SELECT on `mhfz.schema_migrations` (to check the schema is
///   current) — no DELETE, no DDL;
/// - exporter: SELECT on each class table, the `mhfz.weapons` view, the history
///   `mhfz.weapon_versions` (a run's report lists the changes since the previous run) and
///   `mhfz.schema_migrations`, SELECT and INSERT on `mhfz.export_runs` — it cannot rewrite
///   or delete the export history;
/// - readers: SELECT on every table and view of `mhfz`, the history included.
///
/// Any other right these roles held in the schema is revoked, and PUBLIC has none. Needs the
/// owner of the schema (or an administrator), after [`crate::migrate`]: run it again after
/// later migrations. One transaction; returns whether any privilege changed, so that a
/// deployment can report it.
pub fn grant_privileges(client: &mut Client, grantees: &Grantees) -> Result<bool, StoreError> {
    grantees.check()?;
    let mut tx = client
        .transaction()
        .map_err(StoreError::database("starting the grants"))?;
    verify_migrations(&mut tx)?;
    for name in grantees.all() {
        let exists = tx
            .query_opt("SELECT 1 FROM pg_roles WHERE rolname = $1", &[name])
            .map_err(StoreError::database("looking up a role"))?
            .is_some();
        if !exists {
            return Err(StoreError::Settings(format!(
                "role {name} does not exist; create the login roles first"
            )));
        }
    }
    let before = schema_privileges(&mut tx)?;
    apply_grants(&mut tx, grantees)?;
    let changed = schema_privileges(&mut tx)? != before;
    tx.commit()
        .map_err(StoreError::database("committing the grants"))?;
    Ok(changed)
}

/// The grants of [`grant_privileges`], inside the caller's transaction.
fn apply_grants(tx: &mut impl GenericClient, grantees: &Grantees) -> Result<(), StoreError> {
    let writer = &grantees.writer;
    let exporter = &grantees.exporter;
    let all: Vec<&str> = grantees.all().map(String::as_str).collect();
    let all = all.join(", ");
    let class_tables: Vec<String> = WeaponClass::ALL.into_iter().map(table_name).collect();
    let class_tables = class_tables.join(", ");
    let mut grants = format!(
        "REVOKE ALL ON SCHEMA mhfz FROM PUBLIC;
         GRANT USAGE ON SCHEMA mhfz TO {all};
         REVOKE ALL ON ALL TABLES IN SCHEMA mhfz FROM {all};
         GRANT SELECT, INSERT, UPDATE ON {class_tables} TO {writer};
         GRANT SELECT, INSERT, UPDATE (valid_to) ON mhfz.weapon_versions TO {writer};
         GRANT SELECT ON mhfz.schema_migrations TO {writer};
         GRANT SELECT ON {class_tables}, mhfz.weapons, mhfz.weapon_versions,
                         mhfz.schema_migrations TO {exporter};
         GRANT SELECT, INSERT ON mhfz.export_runs TO {exporter};"
    );
    if !grantees.readers.is_empty() {
        let readers = grantees.readers.join(", ");
        grants.push_str(&format!(
            "GRANT SELECT ON ALL TABLES IN SCHEMA mhfz TO {readers};"
        ));
    }
    tx.batch_execute(&grants)
        .map_err(StoreError::database("granting privileges"))
}

/// Every privilege on schema `mhfz` and its relations, in a stable order.
fn schema_privileges(tx: &mut impl GenericClient) -> Result<Vec<String>, StoreError> {
    let rows = tx
        .query(
            "SELECT c.relname || ' ' || a::text FROM pg_class c, unnest(c.relacl) a
             WHERE c.relnamespace = 'mhfz'::regnamespace
             UNION ALL
             SELECT c.relname || '.' || t.attname || ' ' || a::text
             FROM pg_class c JOIN pg_attribute t ON t.attrelid = c.oid, unnest(t.attacl) a
             WHERE c.relnamespace = 'mhfz'::regnamespace
             UNION ALL
             SELECT 'schema ' || a::text FROM pg_namespace n, unnest(n.nspacl) a
             WHERE n.nspname = 'mhfz'
             ORDER BY 1",
            &[],
        )
        .map_err(StoreError::database("reading the schema's privileges"))?;
    Ok(rows.iter().map(|row| row.get(0)).collect())
}

/// Creates the writer, reader and exporter roles, or resets an existing role's password and
/// attributes, gives them CONNECT on the current database and their rights in the schema
/// ([`grant_privileges`]); PUBLIC loses its default CONNECT and TEMPORARY on the database.
///
/// Run by an administrator after [`crate::migrate`]; idempotent, so run it again after later
/// migrations. Passwords are sent as SCRAM verifiers computed here, so the plain text never
/// reaches the server or its statement log.
pub fn provision_roles(
    admin: &mut Client,
    names: &RoleNames,
    passwords: &RolePasswords,
) -> Result<(), StoreError> {
    let grantees = Grantees {
        writer: names.writer.clone(),
        exporter: names.exporter.clone(),
        readers: vec![names.reader.clone()],
    };
    grantees.check()?;
    let mut tx = admin
        .transaction()
        .map_err(StoreError::database("starting role provisioning"))?;
    verify_migrations(&mut tx)?;
    create_or_update_login_role(&mut tx, &names.writer, &passwords.writer)?;
    create_or_update_login_role(&mut tx, &names.reader, &passwords.reader)?;
    create_or_update_login_role(&mut tx, &names.exporter, &passwords.exporter)?;

    let database: String = tx
        .query_one("SELECT current_database()", &[])
        .map_err(StoreError::database("reading the database name"))?
        .get(0);
    let (writer, reader, exporter) = (&names.writer, &names.reader, &names.exporter);
    let connect = format!(
        "REVOKE ALL ON DATABASE {database} FROM PUBLIC;
         GRANT CONNECT ON DATABASE {database} TO {writer}, {reader}, {exporter};",
        database = quote_identifier(&database),
    );
    tx.batch_execute(&connect)
        .map_err(StoreError::database("granting CONNECT"))?;
    apply_grants(&mut tx, &grantees)?;
    tx.commit()
        .map_err(StoreError::database("committing role provisioning"))
}

fn create_or_update_login_role(
    tx: &mut impl GenericClient,
    name: &str,
    password: &Password,
) -> Result<(), StoreError> {
    let row = tx
        .query_opt(
            "SELECT (SELECT count(*) FROM pg_auth_members WHERE member = r.oid) FROM pg_roles r
             WHERE rolname = $1",
            &[&name],
        )
        .map_err(StoreError::database("looking up a role"))?;
    if let Some(row) = &row {
        // Membership would bring privileges this module does not control.
        if row.get::<_, i64>(0) > 0 {
            return Err(StoreError::Settings(format!(
                "role {name} already exists and is a member of other roles; refusing to use it"
            )));
        }
    }
    let verb = if row.is_some() { "ALTER" } else { "CREATE" };
    let verifier = postgres_protocol::password::scram_sha_256(password.expose().as_bytes());
    let statement = format!(
        "{verb} ROLE {name} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION \
         NOBYPASSRLS PASSWORD {}",
        quote_literal(&verifier)
    );
    tx.batch_execute(&statement)
        .map_err(StoreError::database("creating or updating a role"))
}

/// Role names go into SQL unquoted: lower-case letters, digits and `_`, as PostgreSQL folds
/// unquoted identifiers.
fn check_role_name(name: &str) -> Result<(), StoreError> {
    let valid = !name.is_empty()
        && name.len() <= 63
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && !name.starts_with("pg_")
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if valid {
        Ok(())
    } else {
        Err(StoreError::Settings(format!(
            "invalid role name {name:?}: use lower-case letters, digits and _, not starting with a digit or pg_"
        )))
    }
}

fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Standard-conforming string literal; the verifier is base64 and `$:` anyway.
fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_must_be_plain_identifiers() {
        assert!(check_role_name("mhfz_writer").is_ok());
        for bad in ["", "Writer", "1role", "pg_x", "a;DROP", "a b", "a\"b"] {
            assert!(check_role_name(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn quoting() {
        assert_eq!(quote_identifier("we\"ird"), "\"we\"\"ird\"");
        assert_eq!(quote_literal("it's"), "'it''s'");
    }
}
