//! Configuration from the environment.
//!
//! Each command reads only the parts it needs (`schakel openapi` reads nothing, `schakel token`
//! only the JWT settings), so a missing `DATABASE_URL` never stops a command that has no use for
//! it. Every error names the variable. Secrets are never printed: `Debug` redacts them.

use std::{fmt, net::SocketAddr, path::PathBuf, str::FromStr, time::Duration};

/// Minimum length of the development HS256 secret: shorter secrets are brute-forceable.
pub const MIN_HS256_SECRET_BYTES: usize = 32;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("{var} is not set: {hint}")]
    Missing {
        var: &'static str,
        hint: &'static str,
    },
    #[error("{var} is invalid: {reason}")]
    Invalid { var: &'static str, reason: String },
}

/// Reads variables through a lookup function, so tests need not touch the process environment.
pub struct Env<F: Fn(&str) -> Option<String>>(pub F);

/// The process environment.
pub fn process_env() -> Env<impl Fn(&str) -> Option<String>> {
    Env(|name: &str| std::env::var(name).ok())
}

impl<F: Fn(&str) -> Option<String>> Env<F> {
    fn get(&self, var: &str) -> Option<String> {
        (self.0)(var).filter(|value| !value.trim().is_empty())
    }

    /// The file a variable names: its path and text, `None` when the variable is unset.
    fn file(&self, var: &'static str) -> Result<Option<(String, String)>, ConfigError> {
        let Some(path) = self.get(var) else {
            return Ok(None);
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(Some((path, text))),
            Err(err) => Err(ConfigError::Invalid {
                var,
                reason: format!("{path}: {err}"),
            }),
        }
    }

    fn parse<T: FromStr>(&self, var: &'static str, default: T) -> Result<T, ConfigError>
    where
        T::Err: fmt::Display,
    {
        match self.get(var) {
            None => Ok(default),
            Some(raw) => raw
                .trim()
                .parse()
                .map_err(|err: T::Err| ConfigError::Invalid {
                    var,
                    reason: format!("{raw:?}: {err}"),
                }),
        }
    }

    fn flag(&self, var: &'static str) -> Result<bool, ConfigError> {
        match self.get(var).map(|v| v.trim().to_ascii_lowercase()) {
            None => Ok(false),
            Some(v) if matches!(v.as_str(), "1" | "true" | "yes" | "on") => Ok(true),
            Some(v) if matches!(v.as_str(), "0" | "false" | "no" | "off") => Ok(false),
            Some(v) => Err(ConfigError::Invalid {
                var,
                reason: format!("{v:?}: expected true or false"),
            }),
        }
    }
}

#[derive(Clone)]
pub struct DatabaseConfig {
    pub url: String,
    /// `MIGRATION_DATABASE_URL`: the tables' owner, for `migrate` and `MIGRATE_ON_START`, when
    /// `DATABASE_URL` logs in as the least-privileged runtime role. Defaults to `DATABASE_URL`.
    pub migration_url: String,
    /// `DATABASE_RUNTIME_ROLE`: the role `serve` and `worker` connect as, which migrating (as
    /// the owner) grants its least rights to.
    pub runtime_role: Option<String>,
    pub pool_size: usize,
    pub statement_timeout: Duration,
}

impl fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL may carry a password.
        f.debug_struct("DatabaseConfig")
            .field("url", &"<redacted>")
            .field("migration_url", &"<redacted>")
            .field("pool_size", &self.pool_size)
            .field("statement_timeout", &self.statement_timeout)
            .finish()
    }
}

impl DatabaseConfig {
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        let url = env.get("DATABASE_URL").ok_or(ConfigError::Missing {
            var: "DATABASE_URL",
            hint: "set it to a PostgreSQL URL, e.g. postgres://postgres@127.0.0.1:5432/schakel",
        })?;
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(ConfigError::Invalid {
                var: "DATABASE_URL",
                reason: "expected a postgres:// or postgresql:// URL".into(),
            });
        }
        let migration_url = env
            .get("MIGRATION_DATABASE_URL")
            .unwrap_or_else(|| url.clone());
        if !(migration_url.starts_with("postgres://") || migration_url.starts_with("postgresql://"))
        {
            return Err(ConfigError::Invalid {
                var: "MIGRATION_DATABASE_URL",
                reason: "expected a postgres:// or postgresql:// URL".into(),
            });
        }
        let pool_size: usize = env.parse("DATABASE_POOL_SIZE", 16)?;
        if !(1..=512).contains(&pool_size) {
            return Err(ConfigError::Invalid {
                var: "DATABASE_POOL_SIZE",
                reason: format!("{pool_size}: expected 1 to 512"),
            });
        }
        let timeout_ms: u64 = env.parse("DATABASE_STATEMENT_TIMEOUT_MS", 10_000)?;
        if timeout_ms == 0 {
            return Err(ConfigError::Invalid {
                var: "DATABASE_STATEMENT_TIMEOUT_MS",
                reason: "0: expected a positive number of milliseconds".into(),
            });
        }
        Ok(Self {
            url,
            migration_url,
            runtime_role: env.get("DATABASE_RUNTIME_ROLE"),
            pool_size,
            statement_timeout: Duration::from_millis(timeout_ms),
        })
    }
}

/// A secret that never shows up in logs or debug output.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// Shared secret for HS256 tokens: local development and tests only.
    pub hs256_secret: Option<Secret>,
    /// A PEM file, a JWKS JSON file, or a directory of them (EdDSA, ES256, RS256 public keys).
    pub public_keys: Option<PathBuf>,
    pub issuer: String,
    pub audience: String,
}

pub const DEFAULT_ISSUER: &str = "schakel-dev";
pub const DEFAULT_AUDIENCE: &str = "schakel";

impl AuthConfig {
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        // The file is read whenever named (so a wrong path is noticed); the variable wins.
        let from_file = env
            .file("JWT_HS256_SECRET_FILE")?
            .map(|(_, text)| text.trim().to_owned());
        let hs256_secret = env.get("JWT_HS256_SECRET").or(from_file).map(Secret::new);
        if let Some(secret) = &hs256_secret
            && secret.expose().len() < MIN_HS256_SECRET_BYTES
        {
            return Err(ConfigError::Invalid {
                var: "JWT_HS256_SECRET",
                reason: format!(
                    "too short ({} bytes): use at least {MIN_HS256_SECRET_BYTES}, e.g. `openssl rand -hex 32`",
                    secret.expose().len()
                ),
            });
        }
        let public_keys = env.get("JWT_PUBLIC_KEYS").map(PathBuf::from);
        Ok(Self {
            hs256_secret,
            public_keys,
            issuer: env
                .get("JWT_ISSUER")
                .unwrap_or_else(|| DEFAULT_ISSUER.into()),
            audience: env
                .get("JWT_AUDIENCE")
                .unwrap_or_else(|| DEFAULT_AUDIENCE.into()),
        })
    }

    /// The server needs at least one way to verify tokens.
    pub fn require_verification_keys(&self) -> Result<(), ConfigError> {
        if self.hs256_secret.is_none() && self.public_keys.is_none() {
            return Err(ConfigError::Missing {
                var: "JWT_PUBLIC_KEYS",
                hint: "set JWT_PUBLIC_KEYS to your identity provider's public keys (PEM or JWKS), \
                       or JWT_HS256_SECRET for local development",
            });
        }
        Ok(())
    }

    /// `schakel token` and `schakel demo` sign with the development secret only.
    pub fn require_dev_secret(&self) -> Result<&Secret, ConfigError> {
        self.hs256_secret.as_ref().ok_or(ConfigError::Missing {
            var: "JWT_HS256_SECRET",
            hint: "development tokens are signed with it; set it (at least 32 bytes, \
                   e.g. `export JWT_HS256_SECRET=$(openssl rand -hex 32)`) for both the server \
                   and this command. In production, tokens come from your identity provider",
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Pretty,
}

impl FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "json" => Ok(Self::Json),
            "pretty" => Ok(Self::Pretty),
            _ => Err("expected json or pretty".into()),
        }
    }
}

#[derive(Debug, Clone)]
pub struct HttpConfig {
    pub bind_addr: SocketAddr,
    pub max_body_bytes: usize,
    pub limits: crate::server::ConnectionLimits,
    pub rate_limits: crate::ratelimit::RateLimitConfig,
}

pub const DEFAULT_MAX_BODY_BYTES: usize = 256 * 1024;

impl HttpConfig {
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        let bind_addr = env.parse("BIND_ADDR", SocketAddr::from(([127, 0, 0, 1], 8080)))?;
        let max_body_bytes: usize = env.parse("MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES)?;
        if max_body_bytes < 1024 {
            return Err(ConfigError::Invalid {
                var: "MAX_BODY_BYTES",
                reason: format!("{max_body_bytes}: expected at least 1024"),
            });
        }
        let defaults = crate::server::ConnectionLimits::default();
        let seconds = |var: &'static str, default: Duration| -> Result<Duration, ConfigError> {
            let value: u64 = env.parse(var, default.as_secs())?;
            if !(1..=3600).contains(&value) {
                return Err(ConfigError::Invalid {
                    var,
                    reason: format!("{value}: expected 1 to 3600 seconds"),
                });
            }
            Ok(Duration::from_secs(value))
        };
        let limits = crate::server::ConnectionLimits {
            max_connections: env.parse("HTTP_MAX_CONNECTIONS", defaults.max_connections)?,
            header_read_timeout: seconds(
                "HTTP_HEADER_READ_TIMEOUT_SECS",
                defaults.header_read_timeout,
            )?,
            keep_alive_timeout: seconds(
                "HTTP_KEEP_ALIVE_TIMEOUT_SECS",
                defaults.keep_alive_timeout,
            )?,
            body_read_timeout: seconds("HTTP_BODY_READ_TIMEOUT_SECS", defaults.body_read_timeout)?,
            max_header_bytes: env.parse("HTTP_MAX_HEADER_BYTES", defaults.max_header_bytes)?,
        };
        if !(1..=100_000).contains(&limits.max_connections) {
            return Err(ConfigError::Invalid {
                var: "HTTP_MAX_CONNECTIONS",
                reason: format!("{}: expected 1 to 100000", limits.max_connections),
            });
        }
        if !(1024..=1024 * 1024).contains(&limits.max_header_bytes) {
            return Err(ConfigError::Invalid {
                var: "HTTP_MAX_HEADER_BYTES",
                reason: format!("{}: expected 1024 to 1048576", limits.max_header_bytes),
            });
        }
        let rate = crate::ratelimit::RateLimitConfig::default();
        let per_minute = |var: &'static str, default: u32| -> Result<u32, ConfigError> {
            let value: u32 = env.parse(var, default)?;
            if !(1..=1_000_000).contains(&value) {
                return Err(ConfigError::Invalid {
                    var,
                    reason: format!("{value}: expected 1 to 1000000 requests per minute"),
                });
            }
            Ok(value)
        };
        let rate_limits = crate::ratelimit::RateLimitConfig {
            reads_per_minute: per_minute("RATE_LIMIT_READS_PER_MINUTE", rate.reads_per_minute)?,
            lists_per_minute: per_minute("RATE_LIMIT_LISTS_PER_MINUTE", rate.lists_per_minute)?,
            writes_per_minute: per_minute("RATE_LIMIT_WRITES_PER_MINUTE", rate.writes_per_minute)?,
            anonymous_per_minute: per_minute(
                "RATE_LIMIT_ANONYMOUS_PER_MINUTE",
                rate.anonymous_per_minute,
            )?,
        };
        Ok(Self {
            bind_addr,
            max_body_bytes,
            limits,
            rate_limits,
        })
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            bind_addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            limits: crate::server::ConnectionLimits::default(),
            rate_limits: crate::ratelimit::RateLimitConfig::default(),
        }
    }
}

pub fn log_format<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<LogFormat, ConfigError> {
    env.parse("LOG_FORMAT", LogFormat::Pretty)
}

pub fn migrate_on_start<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<bool, ConfigError> {
    env.flag("MIGRATE_ON_START")
}

/// `PRODUCTION=true`: refuse development conveniences (the HS256 development secret, plain-http
/// loopback webhooks) instead of warning about them.
pub fn production<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<bool, ConfigError> {
    env.flag("PRODUCTION")
}

/// Handoff deadlines (DESIGN.md §4): acknowledgement within working days (acute: hours), and
/// for a report Veilig Thuis's safety assessment within working days of receipt.
pub fn deadline_rules<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
) -> Result<crate::domain::handoff::DeadlineRules, ConfigError> {
    let defaults = crate::domain::handoff::DeadlineRules::default();
    let rules = crate::domain::handoff::DeadlineRules {
        acknowledgement_working_days: env.parse(
            "HANDOFF_ACK_WORKING_DAYS",
            defaults.acknowledgement_working_days,
        )?,
        acknowledgement_acute_hours: env.parse(
            "HANDOFF_ACK_ACUTE_HOURS",
            defaults.acknowledgement_acute_hours,
        )?,
        assessment_working_days: env.parse(
            "REPORT_ASSESSMENT_WORKING_DAYS",
            defaults.assessment_working_days,
        )?,
        reminder_interval_hours: env.parse(
            "HANDOFF_REMINDER_INTERVAL_HOURS",
            defaults.reminder_interval_hours,
        )?,
    };
    for (var, value, max) in [
        (
            "HANDOFF_ACK_WORKING_DAYS",
            rules.acknowledgement_working_days,
            30,
        ),
        (
            "HANDOFF_ACK_ACUTE_HOURS",
            rules.acknowledgement_acute_hours,
            72,
        ),
        (
            "REPORT_ASSESSMENT_WORKING_DAYS",
            rules.assessment_working_days,
            60,
        ),
        (
            "HANDOFF_REMINDER_INTERVAL_HOURS",
            rules.reminder_interval_hours,
            720,
        ),
    ] {
        if !(1..=max).contains(&value) {
            return Err(ConfigError::Invalid {
                var,
                reason: format!("{value}: expected 1 to {max}"),
            });
        }
    }
    Ok(rules)
}

/// The retention terms (`RETENTION_*`, see the README's data lifecycle). The access log's
/// minimum may not be shorter than the longest record term: the log must outlive the records
/// whose reads it proves.
pub fn retention_policy<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
) -> Result<crate::domain::lifecycle::RetentionPolicy, ConfigError> {
    let defaults = crate::domain::lifecycle::RetentionPolicy::default();
    let policy = crate::domain::lifecycle::RetentionPolicy {
        school_years: env.parse("RETENTION_SCHOOL_YEARS", defaults.school_years)?,
        youth_care_years: env.parse("RETENTION_YOUTH_CARE_YEARS", defaults.youth_care_years)?,
        veilig_thuis_years: env
            .parse("RETENTION_VEILIG_THUIS_YEARS", defaults.veilig_thuis_years)?,
        veilig_thuis_until_age: defaults.veilig_thuis_until_age,
        delivery_days: env.parse("RETENTION_DELIVERY_DAYS", defaults.delivery_days)?,
        event_days: env.parse("RETENTION_EVENT_DAYS", defaults.event_days)?,
        access_log_min_years: env.parse(
            "RETENTION_ACCESS_LOG_MIN_YEARS",
            defaults.access_log_min_years,
        )?,
    };
    for (var, value, min, max) in [
        ("RETENTION_SCHOOL_YEARS", policy.school_years, 1, 100),
        (
            "RETENTION_YOUTH_CARE_YEARS",
            policy.youth_care_years,
            1,
            100,
        ),
        (
            "RETENTION_VEILIG_THUIS_YEARS",
            policy.veilig_thuis_years,
            1,
            100,
        ),
        ("RETENTION_DELIVERY_DAYS", policy.delivery_days, 1, 3650),
        ("RETENTION_EVENT_DAYS", policy.event_days, 1, 3650),
        (
            "RETENTION_ACCESS_LOG_MIN_YEARS",
            policy.access_log_min_years,
            1,
            200,
        ),
    ] {
        if !(min..=max).contains(&value) {
            return Err(ConfigError::Invalid {
                var,
                reason: format!("{value}: expected {min} to {max}"),
            });
        }
    }
    if policy.access_log_min_years < policy.longest_record_years() {
        return Err(ConfigError::Invalid {
            var: "RETENTION_ACCESS_LOG_MIN_YEARS",
            reason: format!(
                "{}: shorter than the longest record term ({} years); the access log is kept at \
                 least as long as the records it concerns",
                policy.access_log_min_years,
                policy.longest_record_years()
            ),
        });
    }
    Ok(policy)
}

/// `WEBHOOK_SECRET_KEYS` (or a file of them, `WEBHOOK_SECRET_KEYS_FILE`): `id:base64key,…`,
/// the first encrypting; `schakel webhook-key` makes one.
fn webhook_secret_keys<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
) -> Result<crate::webhooks::SecretKeys, ConfigError> {
    let (var, text) = match (
        env.get("WEBHOOK_SECRET_KEYS"),
        env.file("WEBHOOK_SECRET_KEYS_FILE")?,
    ) {
        (Some(text), _) => ("WEBHOOK_SECRET_KEYS", text),
        (None, Some((_, text))) => ("WEBHOOK_SECRET_KEYS_FILE", text),
        (None, None) => {
            return Err(ConfigError::Missing {
                var: "WEBHOOK_SECRET_KEYS",
                hint: "webhook signing secrets are encrypted at rest: create a key with \
                       `schakel webhook-key` and set WEBHOOK_SECRET_KEYS to its line",
            });
        }
    };
    crate::webhooks::SecretKeys::parse(&text).map_err(|reason| ConfigError::Invalid { var, reason })
}

/// Webhook delivery (see `webhooks`): who may be called, how long to wait, how often to retry.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// Allows `http://` URLs on loopback addresses (for local development and tests only).
    pub allow_insecure_loopback: bool,
    /// How long one attempt may take before it counts as failed.
    pub timeout: Duration,
    /// The first retry waits this long; each next one twice as long, up to `retry_cap`.
    pub retry_base: Duration,
    pub retry_cap: Duration,
    /// Attempts per delivery before it is marked failed.
    pub max_attempts: u32,
    /// Consecutive failed attempts (across a subscription's deliveries) that disable it.
    pub disable_after_failures: u32,
    /// How often the worker looks for work.
    pub poll_interval: Duration,
    /// `WEBHOOK_PROXY_URL`: an egress proxy every delivery goes through.
    pub proxy: Option<url::Url>,
    /// How destination names are resolved (the system resolver; a table in tests).
    pub lookup: crate::webhooks::destination::NameLookup,
    /// `WEBHOOK_SECRET_KEYS`: the keys signing secrets are encrypted with at rest.
    pub secret_keys: crate::webhooks::SecretKeys,
    /// How long a rotated-out signing secret keeps signing beside the new one.
    pub secret_overlap: Duration,
}

impl Default for WebhookConfig {
    /// Thirteen attempts over about a day: 30 s, 1, 2, 4 … minutes, capped at 8 hours.
    fn default() -> Self {
        Self {
            allow_insecure_loopback: false,
            timeout: Duration::from_secs(5),
            retry_base: Duration::from_secs(30),
            retry_cap: Duration::from_secs(8 * 3600),
            max_attempts: 13,
            disable_after_failures: 50,
            poll_interval: Duration::from_secs(1),
            proxy: None,
            lookup: Default::default(),
            secret_keys: Default::default(),
            secret_overlap: Duration::from_secs(24 * 3600),
        }
    }
}

impl WebhookConfig {
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        let defaults = Self::default();
        let bounded = |var: &'static str, default: u64, range: std::ops::RangeInclusive<u64>| {
            let value: u64 = env.parse(var, default)?;
            if range.contains(&value) {
                Ok(value)
            } else {
                Err(ConfigError::Invalid {
                    var,
                    reason: format!("{value}: expected {} to {}", range.start(), range.end()),
                })
            }
        };
        Ok(Self {
            allow_insecure_loopback: env.flag("WEBHOOK_ALLOW_INSECURE_LOOPBACK")?,
            proxy: env
                .get("WEBHOOK_PROXY_URL")
                .map(|raw| {
                    url::Url::parse(&raw)
                        .ok()
                        .filter(|u| matches!(u.scheme(), "http" | "https"))
                        .ok_or(ConfigError::Invalid {
                            var: "WEBHOOK_PROXY_URL",
                            reason: "expected an http:// or https:// URL".into(),
                        })
                })
                .transpose()?,
            lookup: Default::default(),
            secret_keys: webhook_secret_keys(env)?,
            secret_overlap: Duration::from_secs(
                3600 * bounded(
                    "WEBHOOK_SECRET_OVERLAP_HOURS",
                    defaults.secret_overlap.as_secs() / 3600,
                    1..=720,
                )?,
            ),
            timeout: Duration::from_secs(bounded(
                "WEBHOOK_TIMEOUT_SECS",
                defaults.timeout.as_secs(),
                1..=30,
            )?),
            retry_base: Duration::from_secs(bounded(
                "WEBHOOK_RETRY_BASE_SECS",
                defaults.retry_base.as_secs(),
                1..=3600,
            )?),
            retry_cap: defaults.retry_cap,
            max_attempts: bounded(
                "WEBHOOK_MAX_ATTEMPTS",
                u64::from(defaults.max_attempts),
                1..=50,
            )? as u32,
            disable_after_failures: bounded(
                "WEBHOOK_DISABLE_AFTER_FAILURES",
                u64::from(defaults.disable_after_failures),
                1..=10_000,
            )? as u32,
            poll_interval: defaults.poll_interval,
        })
    }
}

/// The access log's seal keys. `AUDIT_SIGNING_KEY_FILE`: the Ed25519 private key (PKCS#8 PEM)
/// `serve` and `worker` sign seals and checkpoints with — required when `signer` is `Required`.
/// `AUDIT_VERIFYING_KEYS`: a PEM file of older public keys (after a rotation), or all a
/// verifier without the private key has.
pub fn audit_keys<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
    signer: Need,
) -> Result<crate::audit::AuditKeys, ConfigError> {
    use crate::audit::{AuditKeys, SealSigner, SealVerifiers};
    let invalid = |var: &'static str, path: &str, reason: String| ConfigError::Invalid {
        var,
        reason: format!("{path}: {reason}"),
    };
    let signing = match env.file("AUDIT_SIGNING_KEY_FILE")? {
        Some((path, pem)) => Some(
            SealSigner::from_pem(&pem)
                .map_err(|reason| invalid("AUDIT_SIGNING_KEY_FILE", &path, reason))?,
        ),
        None if signer == Need::Required => {
            return Err(ConfigError::Missing {
                var: "AUDIT_SIGNING_KEY_FILE",
                hint: "the access log's seals are signed: create a key with `schakel audit keygen --out audit-signing-key.pem`",
            });
        }
        None => None,
    };
    let mut verifiers = SealVerifiers::default();
    if let Some((path, pem)) = env.file("AUDIT_VERIFYING_KEYS")? {
        verifiers
            .add_pem(&pem)
            .map_err(|reason| invalid("AUDIT_VERIFYING_KEYS", &path, reason))?;
    }
    let keys = AuditKeys::new(signing, verifiers);
    if keys.verifiers.is_empty() {
        return Err(ConfigError::Missing {
            var: "AUDIT_VERIFYING_KEYS",
            hint: "verifying the access log needs its public keys (or AUDIT_SIGNING_KEY_FILE)",
        });
    }
    Ok(keys)
}

/// Whether a command needs a setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    Required,
    Optional,
}

/// Everything `schakel serve` needs.
#[derive(Debug, Clone)]
pub struct Config {
    pub database: DatabaseConfig,
    pub auth: AuthConfig,
    pub http: HttpConfig,
    pub log_format: LogFormat,
    pub migrate_on_start: bool,
    /// Whether `PRODUCTION=true`: development conveniences were refused.
    pub production: bool,
    pub deadlines: crate::domain::handoff::DeadlineRules,
    pub retention: crate::domain::lifecycle::RetentionPolicy,
    pub webhooks: WebhookConfig,
    pub audit: crate::audit::AuditKeys,
}

impl Config {
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        let database = DatabaseConfig::from_env(env)?;
        let auth = AuthConfig::from_env(env)?;
        auth.require_verification_keys()?;
        let production = production(env)?;
        let webhooks = WebhookConfig::from_env(env)?;
        if production && auth.hs256_secret.is_some() {
            return Err(ConfigError::Invalid {
                var: "JWT_HS256_SECRET",
                reason: "set while PRODUCTION=true: anyone holding the secret mints any token; \
                         use JWT_PUBLIC_KEYS (your identity provider)"
                    .into(),
            });
        }
        if production && webhooks.allow_insecure_loopback {
            return Err(ConfigError::Invalid {
                var: "WEBHOOK_ALLOW_INSECURE_LOOPBACK",
                reason: "true while PRODUCTION=true: development only".into(),
            });
        }
        Ok(Self {
            database,
            auth,
            http: HttpConfig::from_env(env)?,
            log_format: log_format(env)?,
            migrate_on_start: migrate_on_start(env)?,
            production,
            deadlines: deadline_rules(env)?,
            retention: retention_policy(env)?,
            webhooks,
            audit: audit_keys(env, Need::Required)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// A signing key in a file, written once per test run.
    fn key_file() -> &'static str {
        static PATH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        PATH.get_or_init(|| {
            let path =
                std::env::temp_dir().join(format!("schakel-config-key-{}.pem", std::process::id()));
            std::fs::write(&path, crate::audit::SealSigner::generate().to_pem()).unwrap();
            path.to_string_lossy().into_owned()
        })
    }

    /// The pairs, with a signing key unless they name `AUDIT_SIGNING_KEY_FILE` themselves
    /// (empty: unset).
    fn env(pairs: &[(&str, &str)]) -> Env<impl Fn(&str) -> Option<String>> {
        static WEBHOOK_KEYS: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        let webhook_keys =
            WEBHOOK_KEYS.get_or_init(|| crate::webhooks::SecretKeys::generate_line("k1"));
        let mut map: HashMap<String, String> = HashMap::from([
            ("AUDIT_SIGNING_KEY_FILE".to_owned(), key_file().to_owned()),
            ("WEBHOOK_SECRET_KEYS".to_owned(), webhook_keys.clone()),
        ]);
        map.extend(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        Env(move |name: &str| map.get(name).cloned())
    }

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn serve_config_defaults() {
        let config = Config::from_env(&env(&[
            ("DATABASE_URL", "postgres://postgres@localhost/schakel"),
            ("JWT_HS256_SECRET", SECRET),
        ]))
        .unwrap();
        assert_eq!(config.http.bind_addr.to_string(), "127.0.0.1:8080");
        assert_eq!(config.http.max_body_bytes, 256 * 1024);
        assert_eq!(config.database.pool_size, 16);
        assert_eq!(config.log_format, LogFormat::Pretty);
        assert!(!config.migrate_on_start);
        assert_eq!(config.auth.issuer, DEFAULT_ISSUER);
        assert_eq!(config.auth.audience, DEFAULT_AUDIENCE);
    }

    #[test]
    fn every_error_names_its_variable() {
        let base = [
            ("DATABASE_URL", "postgres://postgres@localhost/schakel"),
            ("JWT_HS256_SECRET", SECRET),
        ];
        let cases: &[(&str, &str, &str)] = &[
            ("DATABASE_URL", "mysql://x", "DATABASE_URL"),
            ("DATABASE_POOL_SIZE", "lots", "DATABASE_POOL_SIZE"),
            ("DATABASE_POOL_SIZE", "0", "DATABASE_POOL_SIZE"),
            (
                "DATABASE_STATEMENT_TIMEOUT_MS",
                "0",
                "DATABASE_STATEMENT_TIMEOUT_MS",
            ),
            ("BIND_ADDR", "localhost", "BIND_ADDR"),
            ("MAX_BODY_BYTES", "-1", "MAX_BODY_BYTES"),
            ("MAX_BODY_BYTES", "10", "MAX_BODY_BYTES"),
            ("HTTP_MAX_CONNECTIONS", "0", "HTTP_MAX_CONNECTIONS"),
            (
                "HTTP_HEADER_READ_TIMEOUT_SECS",
                "0",
                "HTTP_HEADER_READ_TIMEOUT_SECS",
            ),
            (
                "HTTP_KEEP_ALIVE_TIMEOUT_SECS",
                "soon",
                "HTTP_KEEP_ALIVE_TIMEOUT_SECS",
            ),
            (
                "HTTP_BODY_READ_TIMEOUT_SECS",
                "99999",
                "HTTP_BODY_READ_TIMEOUT_SECS",
            ),
            ("HTTP_MAX_HEADER_BYTES", "10", "HTTP_MAX_HEADER_BYTES"),
            (
                "RATE_LIMIT_READS_PER_MINUTE",
                "0",
                "RATE_LIMIT_READS_PER_MINUTE",
            ),
            (
                "RATE_LIMIT_WRITES_PER_MINUTE",
                "many",
                "RATE_LIMIT_WRITES_PER_MINUTE",
            ),
            ("LOG_FORMAT", "xml", "LOG_FORMAT"),
            ("MIGRATE_ON_START", "sometimes", "MIGRATE_ON_START"),
            (
                "MIGRATION_DATABASE_URL",
                "mysql://x",
                "MIGRATION_DATABASE_URL",
            ),
            (
                "JWT_HS256_SECRET_FILE",
                "/nonexistent",
                "JWT_HS256_SECRET_FILE",
            ),
            ("PRODUCTION", "yes please", "PRODUCTION"),
            ("JWT_HS256_SECRET", "short", "JWT_HS256_SECRET"),
            ("AUDIT_SIGNING_KEY_FILE", "", "AUDIT_SIGNING_KEY_FILE"),
            (
                "AUDIT_SIGNING_KEY_FILE",
                "/nonexistent.pem",
                "AUDIT_SIGNING_KEY_FILE",
            ),
            (
                "AUDIT_SIGNING_KEY_FILE",
                "Cargo.toml",
                "AUDIT_SIGNING_KEY_FILE",
            ),
            ("AUDIT_VERIFYING_KEYS", "Cargo.toml", "AUDIT_VERIFYING_KEYS"),
            ("WEBHOOK_SECRET_KEYS", "", "WEBHOOK_SECRET_KEYS"),
            ("WEBHOOK_SECRET_KEYS", "k1:short", "WEBHOOK_SECRET_KEYS"),
            (
                "WEBHOOK_SECRET_OVERLAP_HOURS",
                "0",
                "WEBHOOK_SECRET_OVERLAP_HOURS",
            ),
            ("WEBHOOK_PROXY_URL", "ftp://proxy", "WEBHOOK_PROXY_URL"),
            ("HANDOFF_ACK_WORKING_DAYS", "0", "HANDOFF_ACK_WORKING_DAYS"),
            ("HANDOFF_ACK_ACUTE_HOURS", "soon", "HANDOFF_ACK_ACUTE_HOURS"),
            (
                "REPORT_ASSESSMENT_WORKING_DAYS",
                "100",
                "REPORT_ASSESSMENT_WORKING_DAYS",
            ),
        ];
        for (var, value, named) in cases {
            let mut pairs: Vec<(&str, &str)> =
                base.iter().copied().filter(|(k, _)| k != var).collect();
            pairs.push((var, value));
            let err = Config::from_env(&env(&pairs)).unwrap_err();
            assert!(
                err.to_string().starts_with(named),
                "{var}={value}: error {err} does not name {named}"
            );
        }
    }

    #[test]
    fn missing_database_url_and_keys_are_named() {
        let err = Config::from_env(&env(&[("JWT_HS256_SECRET", SECRET)])).unwrap_err();
        assert!(matches!(
            err,
            ConfigError::Missing {
                var: "DATABASE_URL",
                ..
            }
        ));
        let err = Config::from_env(&env(&[(
            "DATABASE_URL",
            "postgres://postgres@localhost/schakel",
        )]))
        .unwrap_err();
        assert!(matches!(
            err,
            ConfigError::Missing {
                var: "JWT_PUBLIC_KEYS",
                ..
            }
        ));
        assert!(err.to_string().contains("JWT_HS256_SECRET"));
    }

    #[test]
    fn flags_and_overrides_parse() {
        let config = Config::from_env(&env(&[
            ("DATABASE_URL", "postgresql://u:p@db:5432/schakel"),
            ("JWT_PUBLIC_KEYS", "/keys/jwks.json"),
            ("BIND_ADDR", "0.0.0.0:9000"),
            ("LOG_FORMAT", "json"),
            ("MIGRATE_ON_START", "TRUE"),
            ("DATABASE_POOL_SIZE", "4"),
            ("JWT_ISSUER", "https://login.example.nl"),
            ("JWT_AUDIENCE", "schakel-api"),
        ]))
        .unwrap();
        assert_eq!(config.http.bind_addr.port(), 9000);
        assert_eq!(config.log_format, LogFormat::Json);
        assert!(config.migrate_on_start);
        assert_eq!(config.database.pool_size, 4);
        assert_eq!(config.auth.issuer, "https://login.example.nl");
        assert!(config.auth.hs256_secret.is_none());
        assert!(config.auth.require_dev_secret().is_err());
    }

    #[test]
    fn a_verifier_needs_only_public_keys_and_keeps_old_ones() {
        let signer = crate::audit::SealSigner::generate();
        let old = crate::audit::SealSigner::generate();
        let path =
            std::env::temp_dir().join(format!("schakel-config-pub-{}.pem", std::process::id()));
        std::fs::write(
            &path,
            format!("{}{}", old.public_pem(), signer.public_pem()),
        )
        .unwrap();
        let path = path.to_string_lossy().into_owned();

        let keys = audit_keys(
            &env(&[
                ("AUDIT_SIGNING_KEY_FILE", ""),
                ("AUDIT_VERIFYING_KEYS", &path),
            ]),
            Need::Optional,
        )
        .unwrap();
        assert!(keys.signer.is_none());
        let ids: Vec<&str> = keys.verifiers.keys().map(|(id, _)| id).collect();
        assert!(
            ids.contains(&signer.key_id()) && ids.contains(&old.key_id()),
            "{ids:?}"
        );

        // The signing key's own public key is always among the verifiers.
        let keys = audit_keys(&env(&[("AUDIT_VERIFYING_KEYS", &path)]), Need::Required).unwrap();
        assert_eq!(keys.verifiers.keys().count(), 3);
        let err = audit_keys(&env(&[("AUDIT_SIGNING_KEY_FILE", "")]), Need::Optional).unwrap_err();
        assert!(err.to_string().starts_with("AUDIT_VERIFYING_KEYS"), "{err}");
    }

    #[test]
    fn production_refuses_development_conveniences() {
        let base = [
            ("DATABASE_URL", "postgres://app@db/schakel"),
            ("PRODUCTION", "true"),
        ];
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut pairs = base.to_vec();
            pairs.extend_from_slice(extra);
            Config::from_env(&env(&pairs))
        };
        let err = with(&[("JWT_HS256_SECRET", SECRET)]).unwrap_err();
        assert!(err.to_string().starts_with("JWT_HS256_SECRET"), "{err}");
        let err = with(&[
            ("JWT_PUBLIC_KEYS", "/keys"),
            ("WEBHOOK_ALLOW_INSECURE_LOOPBACK", "true"),
        ])
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("WEBHOOK_ALLOW_INSECURE_LOOPBACK"),
            "{err}"
        );
        let config = with(&[("JWT_PUBLIC_KEYS", "/keys")]).unwrap();
        assert!(config.production);
        assert_eq!(config.database.migration_url, config.database.url);
    }

    #[test]
    fn the_development_secret_and_the_migration_owner_may_come_separately() {
        let path =
            std::env::temp_dir().join(format!("schakel-config-secret-{}", std::process::id()));
        std::fs::write(&path, format!("{SECRET}\n")).unwrap();
        let path = path.to_string_lossy().into_owned();
        let config = Config::from_env(&env(&[
            ("DATABASE_URL", "postgres://schakel_app@db/schakel"),
            ("MIGRATION_DATABASE_URL", "postgres://postgres@db/schakel"),
            ("JWT_HS256_SECRET_FILE", &path),
        ]))
        .unwrap();
        assert_eq!(
            config.auth.hs256_secret.as_ref().map(Secret::expose),
            Some(SECRET)
        );
        assert_eq!(
            config.database.migration_url,
            "postgres://postgres@db/schakel"
        );
        assert!(!format!("{config:?}").contains("postgres@db"));
    }

    #[test]
    fn secrets_are_redacted_in_debug_output() {
        let config = Config::from_env(&env(&[
            ("DATABASE_URL", "postgres://user:hunter2@localhost/schakel"),
            ("JWT_HS256_SECRET", SECRET),
        ]))
        .unwrap();
        let debug = format!("{config:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(!debug.contains(SECRET), "{debug}");
    }
}
