//! The `schakel` command line: serve | worker | migrate | retention | audit | openapi | bootstrap |
//! token | demo | dev.

use std::{error::Error, process::ExitCode, time::Duration};

use clap::{Parser, Subcommand};
use schakel::{
    AppState, app, audit,
    config::{
        self, AuthConfig, Config, DatabaseConfig, HttpConfig, LogFormat, Need, WebhookConfig,
    },
    db,
    domain::organisation::Role,
    escalation, openapi, retention,
    webhooks::Dispatcher,
};
use tokio::sync::watch;
use uuid::Uuid;

type AnyError = Box<dyn Error + Send + Sync>;

#[derive(Parser)]
#[command(
    name = "schakel",
    version,
    about = "The API that links schools, wijkteams and Veilig Thuis when a child may be growing up unsafely."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// How often `serve` and `worker` seal the access log: an entry stays unsealed at most this
/// long after its transaction commits, while either runs.
const SEAL_INTERVAL: Duration = Duration::from_secs(2);

#[derive(Subcommand)]
enum Command {
    /// Run the API (with the webhook worker, the access-log sealer and the daily retention run)
    /// until SIGTERM or Ctrl-C.
    Serve,
    /// Run the webhook delivery worker, the access-log sealer and the daily retention run until
    /// SIGTERM or Ctrl-C (any number may run).
    Worker,
    /// Apply pending database migrations (as MIGRATION_DATABASE_URL's owner when set), and grant
    /// DATABASE_RUNTIME_ROLE its least rights when set.
    Migrate,
    /// Ask the server on BIND_ADDR whether it is ready (exit code 0) — a container healthcheck.
    Health,
    /// Print the OpenAPI document (JSON, or YAML with --yaml). Needs no database.
    Openapi {
        #[arg(long)]
        yaml: bool,
    },
    /// Create the platform organisation unless one exists, and print its id.
    Bootstrap {
        /// Name of the platform organisation.
        #[arg(long)]
        name: String,
    },
    /// Mint a development token, signed with JWT_HS256_SECRET. Prints only the token.
    Token {
        /// The professional's organisation id.
        #[arg(long)]
        org: Uuid,
        /// A role; repeat for several.
        #[arg(long = "role", required = true)]
        roles: Vec<Role>,
        /// The professional's id (`sub`).
        #[arg(long)]
        sub: String,
        /// Display name.
        #[arg(long)]
        name: Option<String>,
        /// Lifetime in minutes (1 to 1440).
        #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u32).range(1..=1440))]
        ttl: u32,
    },
    /// Create a small demo world (idempotent) and print a token per role.
    Demo {
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Development in one command, with only a local PostgreSQL: create the database if
    /// missing, keep a generated token secret, seal signing key and webhook secret key in
    /// .schakel-dev-* files, migrate, create the demo world, print its tokens, and serve on
    /// 127.0.0.1. Refuses production-looking settings.
    Dev,
    /// Print a new key for encrypting webhook signing secrets at rest, as a line for
    /// WEBHOOK_SECRET_KEYS (`<id>:<base64 key>`). To rotate, put the new line first and keep
    /// the old one after it until the worker has re-encrypted (it does so on start).
    WebhookKey {
        /// The key's id, named in every secret it encrypts.
        #[arg(long, default_value = "k1")]
        id: String,
    },
    /// The access log: verify its seals, or make a signing key.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// The retention rules (also run daily by every `serve` and `worker`).
    Retention {
        #[command(subcommand)]
        command: RetentionCommand,
    },
}

#[derive(Subcommand)]
enum RetentionCommand {
    /// Purge every child's file whose retention term has passed (unless a legal hold blocks
    /// it), leaving a tombstone and an access-log entry per record, then webhook delivery
    /// history and events past their terms. Prints what it did as JSON. Needs DATABASE_URL
    /// and the RETENTION_* settings.
    Run {
        /// Change nothing; print what a run would purge.
        #[arg(long)]
        dry_run: bool,
        /// With --dry-run: the day to judge by (YYYY-MM-DD), e.g. to see what falls due next
        /// month. Default: today in the Netherlands.
        #[arg(long, requires = "dry_run")]
        on: Option<chrono::NaiveDate>,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Recompute the seal chain over every entry, check every seal's signature, and report every
    /// altered, missing, double-sealed, unsealed or forged entry; given a checkpoint, also any
    /// cut or rewrite after it. Needs DATABASE_URL and the public keys (AUDIT_VERIFYING_KEYS or
    /// AUDIT_SIGNING_KEY_FILE). Exit code 0 when intact, 1 when not.
    Verify {
        /// A checkpoint kept earlier: its JSON, or a file holding it.
        #[arg(long)]
        checkpoint: Option<String>,
    },
    /// Create a seal signing key: writes the private key (PKCS#8 PEM, readable by you only) and
    /// prints its key id and public key, which verifiers need.
    Keygen {
        /// Where to write the private key; refuses to overwrite.
        #[arg(long)]
        out: std::path::PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::WebhookKey { id } => {
            let line = schakel::webhooks::SecretKeys::generate_line(&id);
            match schakel::webhooks::SecretKeys::parse(&line) {
                Ok(_) => {
                    println!("{line}");
                    Ok(())
                }
                Err(reason) => Err(format!("--id: {reason}").into()),
            }
        }
        Command::Openapi { yaml } => {
            print!(
                "{}",
                if yaml {
                    openapi::yaml()
                } else {
                    openapi::json()
                }
            );
            Ok(())
        }
        Command::Token {
            org,
            roles,
            sub,
            name,
            ttl,
        } => token(org, roles, &sub, name.as_deref(), ttl),
        command => match tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime.block_on(run(command)),
            Err(err) => Err(err.into()),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> Result<(), AnyError> {
    let env = config::process_env();
    match command {
        Command::Serve => serve(Config::from_env(&env)?).await,
        Command::Worker => {
            init_logging(config::log_format(&env)?);
            let database = DatabaseConfig::from_env(&env)?;
            let webhooks = WebhookConfig::from_env(&env)?;
            let signer = config::audit_keys(&env, Need::Required)?
                .signer
                .expect("a required signing key");
            let pending = db::pending_migrations(&database.url).await?;
            if !pending.is_empty() {
                return Err(format!(
                    "the database lacks {} migration(s): run `schakel migrate` first",
                    pending.len()
                )
                .into());
            }
            let pool = db::pool(&database)?;
            let (stop, stopped) = watch::channel(false);
            // The worker seals too, so entries never wait for a `serve` to be running.
            let sealer = tokio::spawn(audit::run_sealer(
                pool.clone(),
                signer,
                SEAL_INTERVAL,
                stopped.clone(),
            ));
            let retention = tokio::spawn(retention::run_daily(
                pool.clone(),
                config::retention_policy(&env)?,
                stopped.clone(),
            ));
            let notices = tokio::spawn(escalation::run(pool.clone(), stopped.clone()));
            let worker = tokio::spawn(Dispatcher::new(pool.clone(), webhooks)?.run(stopped));
            let shutdown = shutdown_signal();
            tracing::info!("webhook worker started");
            shutdown.await;
            let _ = stop.send(true);
            let _ = sealer.await;
            let _ = worker.await;
            let _ = retention.await;
            let _ = notices.await;
            pool.close();
            tracing::info!("stopped");
            Ok(())
        }
        Command::Migrate => {
            init_logging(config::log_format(&env)?);
            let database = DatabaseConfig::from_env(&env)?;
            let applied = migrate(&database).await?;
            if applied.is_empty() {
                println!("no pending migrations");
            }
            for version in applied {
                println!("applied {version}");
            }
            if let Some(role) = &database.runtime_role {
                println!("granted the runtime role {role} its rights");
            }
            Ok(())
        }
        Command::Health => {
            let http = HttpConfig::from_env(&env)?;
            health(http.bind_addr).await
        }
        Command::Bootstrap { name } => {
            let database = DatabaseConfig::from_env(&env)?;
            let mut conn = connect_migrated(&database).await?;
            let platform =
                schakel::api::organisations::bootstrap_platform(&mut conn, &name).await?;
            println!("{}", platform.id);
            Ok(())
        }
        Command::Demo { json } => {
            let database = DatabaseConfig::from_env(&env)?;
            let auth = AuthConfig::from_env(&env)?;
            auth.require_dev_secret()?;
            let http = HttpConfig::from_env(&env)?;
            let mut conn = connect_migrated(&database).await?;
            let world = schakel::demo::create(&mut conn, &auth).await?;
            if json {
                println!("{}", world.to_json());
            } else {
                let port = http.bind_addr.port();
                print!("{}", world.to_text(&format!("http://localhost:{port}")));
            }
            Ok(())
        }
        Command::Dev => dev().await,
        Command::Audit {
            command: AuditCommand::Verify { checkpoint },
        } => audit_verify(&env, checkpoint.as_deref()).await,
        Command::Audit {
            command: AuditCommand::Keygen { out },
        } => audit_keygen(&out),
        Command::Retention {
            command: RetentionCommand::Run { dry_run, on },
        } => {
            let database = DatabaseConfig::from_env(&env)?;
            let policy = config::retention_policy(&env)?;
            let pending = db::pending_migrations(&database.url).await?;
            if !pending.is_empty() {
                return Err("the database lacks migrations: run `schakel migrate` first".into());
            }
            let pool = db::pool(&database)?;
            let today = on.unwrap_or_else(schakel::domain::calendar::dutch_today);
            let report = retention::run(&pool, &policy, today, dry_run).await?;
            pool.close();
            println!("{}", serde_json::to_string_pretty(&report.to_json())?);
            Ok(())
        }
        Command::Openapi { .. } | Command::Token { .. } | Command::WebhookKey { .. } => {
            unreachable!("handled without a runtime")
        }
    }
}

/// Applies pending migrations as the owner (`MIGRATION_DATABASE_URL`, else `DATABASE_URL`) and
/// grants the runtime role its least rights, when one is named.
async fn migrate(database: &DatabaseConfig) -> Result<Vec<String>, AnyError> {
    let applied = db::run_migrations(&database.migration_url).await?;
    if let Some(role) = &database.runtime_role {
        db::grant_runtime_role(&database.migration_url, role).await?;
    }
    Ok(applied)
}

/// `schakel health`: asks the server on `BIND_ADDR` (on loopback when it listens on every
/// interface) whether it is ready; for container healthchecks, so the image needs no curl.
async fn health(bind_addr: std::net::SocketAddr) -> Result<(), AnyError> {
    let mut target = bind_addr;
    if target.ip().is_unspecified() {
        target.set_ip(if target.is_ipv4() {
            std::net::Ipv4Addr::LOCALHOST.into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        });
    }
    let url = format!("http://{target}/v1/health/ready");
    let status = reqwest::Client::builder()
        .timeout(Duration::from_secs(3))
        .build()?
        .get(&url)
        .send()
        .await
        .map_err(|err| format!("{url}: {err}"))?
        .status();
    if status.is_success() {
        println!("ready");
        Ok(())
    } else {
        Err(format!("{url}: {status}").into())
    }
}

/// `schakel audit verify`: prints a report; fails (exit 1) on any finding.
async fn audit_verify<F: Fn(&str) -> Option<String>>(
    env: &config::Env<F>,
    checkpoint: Option<&str>,
) -> Result<(), AnyError> {
    let database = DatabaseConfig::from_env(env)?;
    let keys = config::audit_keys(env, Need::Optional)?;
    let checkpoint = match checkpoint.map(str::trim) {
        None => None,
        Some(json) if json.starts_with('{') => Some(audit::Checkpoint::from_json(json)?),
        Some(path) => Some(audit::Checkpoint::from_json(
            &std::fs::read_to_string(path).map_err(|err| format!("--checkpoint {path}: {err}"))?,
        )?),
    };
    let pool = db::pool(&database)?;
    let mut conn = pool.get().await?;
    let started = std::time::Instant::now();
    let report = audit::verify(&mut conn, &keys.verifiers, checkpoint.as_ref()).await?;
    println!(
        "{} seals ({} signed) over {} entries, {} entries queued for sealing; verified in {} ms",
        report.seals,
        report.signed_seals,
        report.sealed_entries,
        report.queued_entries,
        started.elapsed().as_millis()
    );
    if let Some(sequence) = report.checkpoint {
        println!("checked against the checkpoint at seal {sequence}");
    }
    if report.is_intact() {
        println!("intact");
        return Ok(());
    }
    for finding in &report.findings {
        println!("BROKEN ({}): {}", finding.kind.as_str(), finding.message);
    }
    Err(format!(
        "the access log is not intact: {} finding(s)",
        report.findings.len()
    )
    .into())
}

/// `schakel audit keygen --out FILE`.
fn audit_keygen(out: &std::path::Path) -> Result<(), AnyError> {
    use std::io::Write;
    let signer = audit::SealSigner::generate();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(out)
        .map_err(|err| format!("{}: {err}", out.display()))?;
    file.write_all(signer.to_pem().as_bytes())?;
    println!("key id {}", signer.key_id());
    print!("{}", signer.public_pem());
    Ok(())
}

/// `schakel dev`: see [`schakel::dev`].
async fn dev() -> Result<(), AnyError> {
    let settings = schakel::dev::settings(|name| std::env::var(name).ok())?;
    let secret = match std::env::var("JWT_HS256_SECRET") {
        Ok(secret) if !secret.trim().is_empty() => secret,
        _ => schakel::dev::secret(std::path::Path::new(schakel::dev::SECRET_FILE))?,
    };
    let audit_key = match std::env::var("AUDIT_SIGNING_KEY_FILE") {
        Ok(path) if !path.trim().is_empty() => path,
        _ => {
            schakel::dev::audit_key(std::path::Path::new(schakel::dev::AUDIT_KEY_FILE))?;
            schakel::dev::AUDIT_KEY_FILE.to_owned()
        }
    };
    let webhook_keys = match std::env::var("WEBHOOK_SECRET_KEYS") {
        Ok(keys) if !keys.trim().is_empty() => keys,
        _ => schakel::dev::webhook_keys(std::path::Path::new(schakel::dev::WEBHOOK_KEYS_FILE))?,
    };
    let created = schakel::dev::ensure_database(&settings.database_url).await?;
    let overlay = [
        ("DATABASE_URL", settings.database_url.clone()),
        ("BIND_ADDR", settings.bind_addr.to_string()),
        ("JWT_HS256_SECRET", secret),
        ("AUDIT_SIGNING_KEY_FILE", audit_key),
        ("WEBHOOK_SECRET_KEYS", webhook_keys),
        ("MIGRATE_ON_START", "true".to_owned()),
        ("WEBHOOK_ALLOW_INSECURE_LOOPBACK", "true".to_owned()),
    ];
    let env = config::Env(move |name: &str| {
        overlay
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.clone())
            .or_else(|| std::env::var(name).ok())
    });
    let config = Config::from_env(&env)?;
    let applied = db::run_migrations(&config.database.url).await?;
    let mut conn = connect_migrated(&config.database).await?;
    let world = schakel::demo::create(&mut conn, &config.auth).await?;
    drop(conn);
    let base_url = format!("http://{}", config.http.bind_addr);
    println!(
        "schakel dev: database {} ({}), {} migration(s) applied.\n",
        if created { "created" } else { "found" },
        settings.database_url.rsplit('/').next().unwrap_or_default(),
        applied.len()
    );
    print!("{}", world.to_text(&base_url));
    println!("\n{}", schakel::dev::first_call(&base_url));
    serve(config).await
}

fn token(
    org: Uuid,
    roles: Vec<Role>,
    sub: &str,
    name: Option<&str>,
    ttl: u32,
) -> Result<(), AnyError> {
    let auth = AuthConfig::from_env(&config::process_env())?;
    let token = schakel::auth::jwt::mint_dev_token(
        &auth,
        schakel::auth::jwt::DevToken {
            organisation: org,
            roles: roles.iter().map(|r| r.as_str().to_owned()).collect(),
            sub,
            name,
            ttl_minutes: ttl,
        },
    )?;
    println!("{token}");
    Ok(())
}

/// A single connection to a database whose schema is current.
async fn connect_migrated(database: &DatabaseConfig) -> Result<db::Conn, AnyError> {
    let pending = db::pending_migrations(&database.url).await?;
    if !pending.is_empty() {
        return Err(format!(
            "the database lacks {} migration(s) ({}): run `schakel migrate` first",
            pending.len(),
            pending.join(", ")
        )
        .into());
    }
    let pool = db::pool(&DatabaseConfig {
        pool_size: 1,
        ..database.clone()
    })?;
    Ok(pool.get().await?)
}

fn init_logging(format: LogFormat) {
    use tracing_subscriber::{EnvFilter, fmt};
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    use std::io::IsTerminal;
    let builder = fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
}

async fn serve(config: Config) -> Result<(), AnyError> {
    init_logging(config.log_format);
    if config.migrate_on_start {
        let applied = migrate(&config.database).await?;
        tracing::info!(count = applied.len(), "migrations applied on start");
    } else {
        let pending = db::pending_migrations(&config.database.url).await?;
        if !pending.is_empty() {
            return Err(format!(
                "the database lacks {} migration(s): run `schakel migrate`, or set MIGRATE_ON_START=true",
                pending.len()
            )
            .into());
        }
    }
    let pool = db::pool(&config.database)?;
    let signer = config
        .audit
        .signer
        .clone()
        .expect("Config::from_env requires the signing key");
    let state = AppState::configured(
        pool.clone(),
        &config.auth,
        config.http.clone(),
        config.deadlines,
        config.retention,
        config.webhooks.clone(),
        config.audit.clone(),
    )?;

    // Buckets of clients that went quiet are dropped, so memory follows the active ones.
    state.rate_limits.spawn_pruning(Duration::from_secs(60));
    let (stop_background, background_stopped) = watch::channel(false);
    let sealer = tokio::spawn(audit::run_sealer(
        pool.clone(),
        signer.clone(),
        SEAL_INTERVAL,
        background_stopped.clone(),
    ));
    let retention = tokio::spawn(retention::run_daily(
        pool.clone(),
        config.retention,
        background_stopped.clone(),
    ));
    let notices = tokio::spawn(escalation::run(pool.clone(), background_stopped.clone()));
    let worker = tokio::spawn(
        Dispatcher::new(pool.clone(), config.webhooks.clone())?.run(background_stopped),
    );

    let shutdown = shutdown_signal();
    let listener = tokio::net::TcpListener::bind(config.http.bind_addr)
        .await
        .map_err(|err| {
            format!(
                "cannot listen on BIND_ADDR={}: {err}",
                config.http.bind_addr
            )
        })?;
    tracing::info!(address = %listener.local_addr()?, "listening");
    if config.auth.hs256_secret.is_some() && !config.production {
        tracing::warn!(
            "JWT_HS256_SECRET is set: anyone holding it can mint any token. Development only; \
             PRODUCTION=true refuses it"
        );
    }
    schakel::server::serve(
        listener,
        app(state),
        config.http.limits,
        shutdown,
        Duration::from_secs(30),
    )
    .await?;

    let _ = stop_background.send(true);
    let _ = sealer.await;
    let _ = worker.await;
    let _ = retention.await;
    let _ = notices.await;
    // Seal what the last requests logged, so a clean stop leaves nothing queued.
    if let Err(error) = audit::seal_and_publish(&pool, &signer).await {
        tracing::warn!(%error, "sealing the access log on stop failed");
    }
    pool.close();
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on SIGTERM or Ctrl-C. The handlers are installed when this is called, not when the
/// future is first polled, so call it before saying you are ready: a signal sent right after
/// is then a graceful stop, not the default death.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let (interrupt, terminate) = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::interrupt()).ok(),
            signal(SignalKind::terminate()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let wait = |signal: Option<tokio::signal::unix::Signal>| async move {
                match signal {
                    Some(mut signal) => {
                        signal.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = wait(interrupt) => {},
                _ = wait(terminate) => {},
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        tracing::info!("shutting down: no new connections, finishing requests in flight");
    }
}
