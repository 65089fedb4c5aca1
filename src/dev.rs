//! `schakel dev`: the whole product on a machine with only a local PostgreSQL, in one command.
//!
//! It creates the database if it is missing, generates a development signing secret once (kept
//! in a git-ignored file), migrates, creates the demo world, prints the tokens and the first
//! call of the walkthrough, and serves. It refuses settings that look like production: real
//! identity-provider keys, a database or a listening address beyond this machine.

use std::{
    io::Write,
    net::{IpAddr, SocketAddr},
    path::Path,
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use url::Url;

/// The database `schakel dev` uses when `DATABASE_URL` is not set.
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/schakel";
/// Where the generated development secret is kept (relative to the working directory).
pub const SECRET_FILE: &str = ".schakel-dev-secret";

/// Where `schakel dev` keeps the access log's seal signing key between runs (git-ignored).
pub const AUDIT_KEY_FILE: &str = ".schakel-dev-audit-key.pem";

/// Where `schakel dev` keeps the key webhook secrets are encrypted with (git-ignored).
pub const WEBHOOK_KEYS_FILE: &str = ".schakel-dev-webhook-keys";

/// The settings `schakel dev` runs with, on top of the environment.
#[derive(Debug, PartialEq, Eq)]
pub struct DevSettings {
    pub database_url: String,
    pub bind_addr: SocketAddr,
}

/// Checks that the environment is a developer's machine, not a deployment.
pub fn settings(env: impl Fn(&str) -> Option<String>) -> Result<DevSettings, String> {
    let set = |name: &str| env(name).filter(|v| !v.trim().is_empty());
    if set("JWT_PUBLIC_KEYS").is_some() {
        return Err(
            "JWT_PUBLIC_KEYS is set: that is a deployment's identity provider. \
             `schakel dev` signs its own development tokens; use `schakel serve` there."
                .into(),
        );
    }
    let database_url = set("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
    let parsed = Url::parse(&database_url)
        .map_err(|err| format!("DATABASE_URL is not a postgres:// URL: {err}"))?;
    let host = parsed.host_str().unwrap_or("localhost");
    if !is_local_host(host) {
        return Err(format!(
            "DATABASE_URL points at {host}, not this machine: `schakel dev` creates databases \
             and demo data, so it only runs against a local PostgreSQL."
        ));
    }
    let bind_addr: SocketAddr = match set("BIND_ADDR") {
        Some(raw) => raw
            .trim()
            .parse()
            .map_err(|err| format!("BIND_ADDR {raw:?} is not an address: {err}"))?,
        None => SocketAddr::from(([127, 0, 0, 1], 8080)),
    };
    if !bind_addr.ip().is_loopback() {
        return Err(format!(
            "BIND_ADDR {bind_addr} listens beyond this machine: anyone who can reach it could \
             use the printed development tokens. Use 127.0.0.1."
        ));
    }
    Ok(DevSettings {
        database_url,
        bind_addr,
    })
}

fn is_local_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host.starts_with('/')
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The development signing secret: read from `path`, or generated once and written there
/// (readable by the owner only).
pub fn secret(path: &Path) -> Result<String, String> {
    if let Ok(existing) = std::fs::read_to_string(path) {
        let existing = existing.trim().to_owned();
        if existing.len() >= 32 {
            return Ok(existing);
        }
    }
    let bytes: [u8; 32] = rand::random();
    let secret = format!("dev-{}", URL_SAFE_NO_PAD.encode(bytes));
    write_private(path, &format!("{secret}\n"))?;
    Ok(secret)
}

/// The development seal signing key kept in `path`, created when missing or unreadable.
pub fn audit_key(path: &Path) -> Result<(), String> {
    let usable = std::fs::read_to_string(path)
        .ok()
        .is_some_and(|pem| crate::audit::SealSigner::from_pem(&pem).is_ok());
    if usable {
        return Ok(());
    }
    write_private(path, &crate::audit::SealSigner::generate().to_pem())
}

/// The development webhook secret keys kept in `path`, created when missing or unreadable.
pub fn webhook_keys(path: &Path) -> Result<String, String> {
    if let Ok(existing) = std::fs::read_to_string(path)
        && crate::webhooks::SecretKeys::parse(&existing).is_ok()
    {
        return Ok(existing.trim().to_owned());
    }
    let line = crate::webhooks::SecretKeys::generate_line("dev");
    write_private(path, &format!("{line}\n"))?;
    Ok(line)
}

/// Writes a file only its owner can read.
fn write_private(path: &Path, content: &str) -> Result<(), String> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .map_err(|err| format!("cannot write {}: {err}", path.display()))?;
    file.write_all(content.as_bytes())
        .map_err(|err| format!("cannot write {}: {err}", path.display()))
}

/// Creates the database named in `database_url` unless it exists; true when it was created.
pub async fn ensure_database(database_url: &str) -> Result<bool, String> {
    let mut url = Url::parse(database_url).map_err(|err| err.to_string())?;
    let name = url.path().trim_start_matches('/').to_owned();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!(
            "the database name {name:?} in DATABASE_URL must be letters, digits and underscores"
        ));
    }
    url.set_path("/postgres");
    let mut conn = <AsyncPgConnection as AsyncConnection>::establish(url.as_str())
        .await
        .map_err(|err| format!("cannot connect to PostgreSQL at {}: {err}", redacted(&url)))?;
    #[derive(diesel::QueryableByName)]
    struct Exists {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        exists: bool,
    }
    let found: Exists =
        diesel::sql_query("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS exists")
            .bind::<diesel::sql_types::Text, _>(&name)
            .get_result(&mut conn)
            .await
            .map_err(|err| err.to_string())?;
    if found.exists {
        return Ok(false);
    }
    conn.batch_execute(&format!("CREATE DATABASE \"{name}\""))
        .await
        .map_err(|err| format!("cannot create database {name}: {err}"))?;
    Ok(true)
}

fn redacted(url: &Url) -> String {
    let mut url = url.clone();
    let _ = url.set_password(None);
    url.to_string()
}

/// The first call of the README's walkthrough, ready to paste.
pub fn first_call(base_url: &str) -> String {
    format!(
        "Start the walkthrough (README, \"Walkthrough\") as the teacher:\n\n  \
         TEACHER=<the teacher token above>\n  \
         curl -s -X POST {base_url}/v1/children -H \"Authorization: Bearer $TEACHER\" \
         -H 'Content-Type: application/json' \\\n    \
         -d '{{\"externalRef\":\"LL-2041\",\"givenName\":\"Noah\",\"familyName\":\"de Boer\",\"dateOfBirth\":\"2017-05-04\"}}'\n"
    )
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn with(vars: &[(&str, &str)]) -> Result<DevSettings, String> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        settings(move |name| vars.get(name).cloned())
    }

    #[test]
    fn defaults_to_a_local_database_and_loopback() {
        assert_eq!(
            with(&[]).unwrap(),
            DevSettings {
                database_url: DEFAULT_DATABASE_URL.into(),
                bind_addr: "127.0.0.1:8080".parse().unwrap(),
            }
        );
        for local in [
            "postgres://postgres@localhost/schakel",
            "postgres://postgres:pw@[::1]:5433/dev",
            "postgres://postgres@127.0.0.2/dev",
        ] {
            assert!(with(&[("DATABASE_URL", local)]).is_ok(), "{local}");
        }
        assert!(with(&[("BIND_ADDR", "[::1]:9000")]).is_ok());
    }

    #[test]
    fn refuses_production_looking_settings() {
        for vars in [
            vec![("JWT_PUBLIC_KEYS", "/etc/schakel/keys")],
            vec![("DATABASE_URL", "postgres://app@db.internal:5432/schakel")],
            vec![("DATABASE_URL", "postgres://app@10.0.0.5/schakel")],
            vec![("BIND_ADDR", "0.0.0.0:8080")],
            vec![("BIND_ADDR", "192.168.1.10:8080")],
        ] {
            assert!(with(&vars).is_err(), "{vars:?}");
        }
    }

    #[test]
    fn the_secret_is_generated_once_and_kept() {
        let dir = std::env::temp_dir().join(format!("schakel-dev-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(SECRET_FILE);
        let first = secret(&path).unwrap();
        assert!(first.len() >= 32);
        assert_eq!(secret(&path).unwrap(), first);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "only the owner reads it");
        }
        std::fs::remove_dir_all(dir).unwrap();
    }
}
