//! The test harness: one migrated template database per migration set, a fresh clone per test
//! (dropped after), and the real application built by `schakel::app`, driven in-process.

use std::{
    collections::hash_map::DefaultHasher,
    hash::{Hash, Hasher},
    path::Path,
    sync::{Arc, OnceLock},
    time::Duration,
};

use diesel::sql_types::{Bool, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use poem::{
    EndpointExt, Response,
    endpoint::BoxEndpoint,
    http::{HeaderMap, Method},
    test::TestClient,
};
use schakel::{
    AppState,
    audit::{AuditKeys, SealSigner},
    auth::jwt::{DevToken, mint_dev_token},
    config::{AuthConfig, DatabaseConfig, HttpConfig, Secret, WebhookConfig},
    db::{self, organisations as queries},
    domain::{
        handoff::DeadlineRules,
        lifecycle::RetentionPolicy,
        organisation::{OrganisationKind, Role},
    },
};
use serde_json::Value;
use uuid::Uuid;

pub const SECRET: &str = "test-secret-that-is-long-enough-0123456789";

/// A seal signing key and its public key, in files, once per test run: what the real binary
/// reads from `AUDIT_SIGNING_KEY_FILE` and `AUDIT_VERIFYING_KEYS`.
pub struct AuditKeyFiles {
    pub signing: String,
    pub public: String,
    pub signer: SealSigner,
}

/// What the real binary needs to serve on a free loopback port against `database_url`, with
/// JSON logs; a test adds what it is about.
pub fn binary_env(database_url: &str) -> Vec<(&'static str, &str)> {
    vec![
        ("DATABASE_URL", database_url),
        ("JWT_HS256_SECRET", SECRET),
        ("JWT_ISSUER", ISSUER),
        ("JWT_AUDIENCE", AUDIENCE),
        ("BIND_ADDR", "127.0.0.1:0"),
        ("LOG_FORMAT", "json"),
        ("AUDIT_SIGNING_KEY_FILE", &audit_key_files().signing),
        ("WEBHOOK_SECRET_KEYS", webhook_keys()),
    ]
}

/// A `WEBHOOK_SECRET_KEYS` line for the real binary, once per test run.
pub fn webhook_keys() -> &'static str {
    static LINE: OnceLock<String> = OnceLock::new();
    LINE.get_or_init(|| schakel::webhooks::SecretKeys::generate_line("test"))
}

pub fn audit_key_files() -> &'static AuditKeyFiles {
    static FILES: OnceLock<AuditKeyFiles> = OnceLock::new();
    FILES.get_or_init(|| {
        let signer = SealSigner::generate();
        let dir = std::env::temp_dir();
        let signing = dir.join(format!("schakel-test-audit-key-{}.pem", std::process::id()));
        let public = dir.join(format!("schakel-test-audit-pub-{}.pem", std::process::id()));
        std::fs::write(&signing, signer.to_pem()).expect("write the signing key");
        std::fs::write(&public, signer.public_pem()).expect("write the public key");
        AuditKeyFiles {
            signing: signing.to_string_lossy().into_owned(),
            public: public.to_string_lossy().into_owned(),
            signer,
        }
    })
}
pub const ISSUER: &str = "schakel-test";
pub const AUDIENCE: &str = "schakel";

/// Any claims, signed with the test secret (HS256).
pub fn sign_claims(claims: &Value) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .expect("sign claims")
}
const DEFAULT_TEST_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

pub fn server_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_TEST_DATABASE_URL.to_owned())
}

/// The server URL with another database name.
pub fn database_url(database: &str) -> String {
    let url = server_url();
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base.to_owned(), format!("?{query}")),
        None => (url.clone(), String::new()),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let authority_end = base[scheme_end..]
        .find('/')
        .map(|i| i + scheme_end)
        .unwrap_or(base.len());
    format!("{}/{database}{query}", &base[..authority_end])
}

fn unreachable(err: impl std::fmt::Display) -> String {
    format!(
        "PostgreSQL is not reachable at TEST_DATABASE_URL={} ({err}).\n\
         Start one, then run the tests again:\n\
         \x20 docker compose up -d db          (PostgreSQL 16 on 127.0.0.1:5432)\n\
         \x20 pg_ctlcluster 15 main start      (a local Debian/Ubuntu server)\n\
         or point TEST_DATABASE_URL at a server you can create databases on.",
        server_url()
    )
}

async fn admin_connection() -> Result<AsyncPgConnection, String> {
    let url = server_url();
    match tokio::time::timeout(Duration::from_secs(5), AsyncPgConnection::establish(&url)).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(err)) => Err(unreachable(err)),
        Err(_) => Err(unreachable("timed out after 5 s")),
    }
}

/// Runs a future on a private runtime in its own thread: for one-time setup shared by tests that
/// each have their own runtime, and for `Drop`.
fn on_private_runtime<T: Send + 'static>(
    work: impl Future<Output = T> + Send + 'static,
) -> Result<T, String> {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
            .map(|rt| rt.block_on(work))
    })
    .join()
    .map_err(|_| "panicked".to_owned())?
}

/// A hash of the migration files: a changed migration gets a new template.
fn migrations_fingerprint() -> String {
    fn walk(dir: &Path, files: &mut Vec<(String, Vec<u8>)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, files);
            } else if let Ok(content) = std::fs::read(&path) {
                files.push((path.display().to_string(), content));
            }
        }
    }
    let mut files = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations"),
        &mut files,
    );
    files.sort();
    let mut hasher = DefaultHasher::new();
    files.hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

/// Serializes template creation across test processes (nextest runs one process per test).
const TEMPLATE_LOCK: i64 = 0x7363_6861_6b65_6c74;

async fn create_template() -> Result<String, String> {
    let name = format!("schakel_tpl_{}", migrations_fingerprint());
    let mut admin = admin_connection().await?;
    let fail = |e: diesel::result::Error| e.to_string();
    admin
        .batch_execute(&format!("SELECT pg_advisory_lock({TEMPLATE_LOCK})"))
        .await
        .map_err(fail)?;
    let exists: bool = diesel::select(
        diesel::dsl::sql::<Bool>("EXISTS (SELECT 1 FROM pg_database WHERE datname = ")
            .bind::<Text, _>(&name)
            .sql(")"),
    )
    .get_result(&mut admin)
    .await
    .map_err(fail)?;
    if !exists {
        let building = format!("{name}_building");
        // Separate statements: DROP/CREATE DATABASE refuse to run in a transaction block.
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"))
            .await
            .map_err(fail)?;
        admin
            .batch_execute(&format!("CREATE DATABASE {building}"))
            .await
            .map_err(fail)?;
        db::run_migrations(&database_url(&building))
            .await
            .map_err(|e| e.to_string())?;
        // Renamed only once complete, so a crash never leaves a half-migrated template.
        admin
            .batch_execute(&format!("ALTER DATABASE {building} RENAME TO {name}"))
            .await
            .map_err(fail)?;
    }
    admin
        .batch_execute(&format!("SELECT pg_advisory_unlock({TEMPLATE_LOCK})"))
        .await
        .map_err(fail)?;
    Ok(name)
}

fn template() -> &'static str {
    static TEMPLATE: OnceLock<Result<String, String>> = OnceLock::new();
    match TEMPLATE.get_or_init(|| on_private_runtime(create_template()).and_then(|r| r)) {
        Ok(name) => name,
        Err(message) => panic!("{message}"),
    }
}

/// A database of its own for one test; dropped with it.
pub struct TestDb {
    pub name: String,
    pub url: String,
}

impl TestDb {
    /// A clone of the migrated template.
    pub async fn migrated() -> Self {
        let template = template();
        Self::create(&format!("TEMPLATE {template}")).await
    }

    /// An empty database (for migration tests).
    pub async fn empty() -> Self {
        Self::create("").await
    }

    async fn create(options: &str) -> Self {
        let name = format!("schakel_test_{}", Uuid::new_v4().simple());
        let mut admin = admin_connection().await.unwrap_or_else(|m| panic!("{m}"));
        admin
            .batch_execute(&format!("CREATE DATABASE {name} {options}"))
            .await
            .unwrap_or_else(|e| panic!("creating test database {name}: {e}"));
        Self {
            url: database_url(&name),
            name,
        }
    }

    pub async fn connect(&self) -> AsyncPgConnection {
        AsyncPgConnection::establish(&self.url)
            .await
            .expect("connect to the test database")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        let _ = on_private_runtime(async move {
            if let Ok(mut admin) = admin_connection().await {
                let _ = admin
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await;
            }
        });
    }
}

pub fn auth_config() -> AuthConfig {
    AuthConfig {
        hs256_secret: Some(Secret::new(SECRET)),
        public_keys: None,
        issuer: ISSUER.into(),
        audience: AUDIENCE.into(),
    }
}

/// The application on its own database, driven in-process.
pub struct TestApp {
    pub state: Arc<AppState>,
    pub client: TestClient<BoxEndpoint<'static, Response>>,
    pub auth: AuthConfig,
    // Last: the database is dropped after the pool that uses it.
    pub db: TestDb,
}

/// A professional of an organisation, with a token.
#[derive(Clone)]
pub struct Member {
    pub organisation: Uuid,
    pub sub: String,
    pub token: String,
}

impl TestApp {
    pub async fn new() -> Self {
        Self::with(auth_config(), HttpConfig::default()).await
    }

    pub async fn with(auth: AuthConfig, http: HttpConfig) -> Self {
        Self::configured(auth, http, WebhookConfig::default()).await
    }

    /// An app whose webhooks may call plain-http loopback receivers, retrying without delay.
    pub async fn with_webhooks(webhooks: WebhookConfig) -> Self {
        Self::configured(auth_config(), HttpConfig::default(), webhooks).await
    }

    pub async fn configured(auth: AuthConfig, http: HttpConfig, webhooks: WebhookConfig) -> Self {
        let db = TestDb::migrated().await;
        let pool = db::pool(&DatabaseConfig {
            url: db.url.clone(),
            migration_url: db.url.clone(),
            runtime_role: None,
            pool_size: 4,
            statement_timeout: Duration::from_secs(10),
        })
        .expect("pool");
        let state = AppState::configured(
            pool,
            &auth,
            http,
            DeadlineRules::default(),
            RetentionPolicy::default(),
            webhooks,
            AuditKeys::signing_with(SealSigner::generate()),
        )
        .expect("app state");
        let client = TestClient::new(schakel::app(state.clone()).boxed());
        Self {
            state,
            client,
            auth,
            db,
        }
    }

    /// Seals everything queued with the app's key and asserts the whole log verifies.
    pub async fn assert_log_intact(&self) {
        let mut conn = self.conn().await;
        schakel::audit::seal_all(&mut conn, &self.state.seal_signer)
            .await
            .expect("seal");
        let report = schakel::audit::verify(&mut conn, &self.state.seal_verifiers, None)
            .await
            .expect("verify");
        assert!(report.is_intact(), "{report:?}");
    }

    pub async fn conn(&self) -> db::Conn {
        self.state.pool.get().await.expect("a pooled connection")
    }

    /// Registers an organisation directly in the database (the one platform organisation is
    /// reused).
    pub async fn organisation(&self, kind: OrganisationKind, name: &str) -> Uuid {
        let mut conn = self.conn().await;
        if kind == OrganisationKind::Platform
            && let Some(platform) = queries::find_platform(&mut conn).await.expect("query")
        {
            return platform.id;
        }
        queries::insert(
            &mut conn,
            &queries::NewOrganisation {
                id: Uuid::now_v7(),
                kind,
                name,
                brin: None,
                branch: None,
                region: None,
                active: true,
            },
        )
        .await
        .expect("insert organisation")
        .id
    }

    pub fn token(&self, organisation: Uuid, roles: &[&str], sub: &str) -> String {
        mint_dev_token(
            &self.auth,
            DevToken {
                organisation,
                roles: roles.iter().map(|r| r.to_string()).collect(),
                sub,
                name: Some("Test Professional"),
                ttl_minutes: 30,
            },
        )
        .expect("mint token")
    }

    /// A token of a machine client (`act.sub`) acting for the professional.
    pub fn token_acting(
        &self,
        organisation: Uuid,
        roles: &[&str],
        sub: &str,
        client: &str,
    ) -> String {
        sign_claims(&serde_json::json!({
            "iss": ISSUER, "aud": AUDIENCE, "exp": jsonwebtoken::get_current_timestamp() + 600,
            "sub": sub, "name": "Test Professional", "org": organisation, "roles": roles,
            "act": {"sub": client},
        }))
    }

    /// A new organisation of `kind` with one professional holding `role`.
    pub async fn member(&self, kind: OrganisationKind, role: Role) -> Member {
        let organisation = self
            .organisation(kind, &format!("{kind} {}", Uuid::new_v4().simple()))
            .await;
        self.member_of(organisation, role).await
    }

    /// Another professional of an existing organisation.
    pub async fn member_of(&self, organisation: Uuid, role: Role) -> Member {
        let sub = format!("{role}-{}", &Uuid::new_v4().simple().to_string()[..8]);
        Member {
            organisation,
            token: self.token(organisation, &[role.as_str()], &sub),
            sub,
        }
    }

    pub async fn platform_admin(&self) -> Member {
        self.member(OrganisationKind::Platform, Role::PlatformAdmin)
            .await
    }

    /// Registers a child through the API; returns its id.
    pub async fn child(&self, member: &Member, external_ref: &str) -> Uuid {
        let reply = self
            .post("/v1/children")
            .by(member)
            .json(&serde_json::json!({
                "externalRef": external_ref,
                "givenName": "Noah",
                "familyName": "de Boer",
                "dateOfBirth": "2013-04-02",
                "guardians": [{
                    "name": "Sarah de Boer",
                    "relationship": "mother",
                    "parentalAuthority": "yes",
                    "authoritySource": "gezagsregister"
                }]
            }))
            .send()
            .await;
        reply.expect(201);
        reply.body["id"].as_str().unwrap().parse().unwrap()
    }

    /// Records a signal through the API; returns its id.
    pub async fn signal(&self, member: &Member, child: Uuid, facts: &str) -> Uuid {
        let reply = self
            .post(&format!("/v1/children/{child}/signals"))
            .by(member)
            .json(&serde_json::json!({
                "observedAt": "2026-11-20T08:30:00Z",
                "category": "behaviour_change",
                "source": "own_observation",
                "facts": facts,
                "direction": "raises_concern"
            }))
            .send()
            .await;
        reply.expect(201);
        reply.body["id"].as_str().unwrap().parse().unwrap()
    }

    /// The access log about a child, oldest first: (action, resource type, resource id, actor).
    pub async fn access_log(&self, child: Uuid) -> Vec<(String, String, Option<Uuid>, String)> {
        use diesel::{ExpressionMethods, QueryDsl};
        use schakel::db::schema::access_log;
        let mut conn = self.conn().await;
        access_log::table
            .filter(access_log::child_id.eq(child))
            .order(access_log::id)
            .select((
                access_log::action,
                access_log::resource_type,
                access_log::resource_id,
                access_log::actor_sub,
            ))
            .load(&mut conn)
            .await
            .expect("access log")
    }

    /// Waits until every committed event is past the feed's horizon. Transaction ids are
    /// cluster-wide, so a transaction running in another test's database holds back events
    /// committed after it began (the feed's never-skip rule); once it ends they appear, and
    /// newer transactions never hold them back again.
    pub async fn settle_events(&self) {
        #[derive(diesel::QueryableByName)]
        struct HeldBack {
            #[diesel(sql_type = Bool)]
            held_back: bool,
        }
        let mut conn = self.conn().await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let row: HeldBack = diesel::sql_query(
                "SELECT EXISTS (SELECT 1 FROM events
                   WHERE tx_id >= pg_snapshot_xmin(pg_current_snapshot())::text::bigint) AS held_back",
            )
            .get_result(&mut conn)
            .await
            .expect("events horizon");
            if !row.held_back {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "events held back for 20 s by a running transaction"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    pub fn request(&self, method: Method, path: &str) -> Call<'_> {
        Call {
            app: self,
            method,
            path: path.to_owned(),
            headers: Vec::new(),
            body: None,
        }
    }

    pub fn get(&self, path: &str) -> Call<'_> {
        self.request(Method::GET, path)
    }

    pub fn post(&self, path: &str) -> Call<'_> {
        self.request(Method::POST, path)
    }

    pub fn patch(&self, path: &str) -> Call<'_> {
        self.request(Method::PATCH, path)
    }

    pub fn delete(&self, path: &str) -> Call<'_> {
        self.request(Method::DELETE, path)
    }
}

/// A request being built.
pub struct Call<'a> {
    app: &'a TestApp,
    method: Method,
    path: String,
    headers: Vec<(String, String)>,
    body: Option<(String, Vec<u8>)>,
}

impl Call<'_> {
    pub fn token(self, token: &str) -> Self {
        self.header("authorization", &format!("Bearer {token}"))
    }

    pub fn by(self, member: &Member) -> Self {
        self.token(&member.token)
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn json(self, body: &Value) -> Self {
        self.raw("application/json", body.to_string().into_bytes())
    }

    pub fn raw(mut self, content_type: &str, body: Vec<u8>) -> Self {
        self.body = Some((content_type.to_owned(), body));
        self
    }

    pub async fn send(self) -> Reply {
        let mut request = self.app.client.request(self.method, self.path);
        for (name, value) in &self.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        if let Some((content_type, body)) = self.body {
            request = request.content_type(content_type).body(body);
        }
        let response = request.send().await.0;
        Reply::from_response(response).await
    }
}

/// A response, read.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    /// The body as received (compressed, if it was).
    pub bytes: Vec<u8>,
    pub text: String,
    pub body: Value,
}

impl Reply {
    pub async fn from_response(response: Response) -> Self {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .into_bytes()
            .await
            .expect("response body");
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Self {
            status,
            headers,
            bytes: bytes.to_vec(),
            text,
            body,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the status, printing the body when it differs.
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Self {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        self
    }

    /// Asserts a printable HTML document (200, `text/html`, no scripts) that shows every one of
    /// `texts`.
    #[track_caller]
    pub fn expect_document(&self, texts: &[&str]) -> &Self {
        self.expect(200);
        assert!(
            self.header("content-type")
                .is_some_and(|t| t.starts_with("text/html")),
            "{:?}",
            self.header("content-type")
        );
        assert!(self.text.starts_with("<!DOCTYPE html>"), "{}", self.text);
        for text in texts {
            assert!(self.text.contains(text), "{text} missing in {}", self.text);
        }
        assert!(!self.text.contains("<script"), "{}", self.text);
        self
    }

    /// Asserts an RFC 9457 problem of this status and kind.
    #[track_caller]
    pub fn expect_problem(&self, status: u16, kind: &str) -> &Self {
        self.expect(status);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "{}",
            self.text
        );
        assert_eq!(
            self.body["type"],
            format!("https://schakel.nl/problems/{kind}"),
            "{}",
            self.text
        );
        assert_eq!(self.body["status"], status);
        for member in ["title", "detail", "instance"] {
            assert!(
                self.body[member].is_string(),
                "{member} missing: {}",
                self.text
            );
        }
        self
    }

    /// The problem without `instance`: "not yours" and "not there" must be equal apart from it.
    pub fn problem_without_instance(&self) -> Value {
        let mut body = self.body.clone();
        if let Some(map) = body.as_object_mut() {
            map.remove("instance");
        }
        body
    }

    /// Names in `invalidParams`.
    pub fn invalid_params(&self) -> Vec<String> {
        self.body["invalidParams"]
            .as_array()
            .map(|params| {
                params
                    .iter()
                    .filter_map(|p| p["name"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}
