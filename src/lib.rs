//! schakel: the REST API that links schools, wijkteams and Veilig Thuis when a child may be
//! growing up unsafely.
//!
//! [`app`] builds the whole HTTP application from its state; `schakel serve` and the tests use
//! the same function.

pub mod api;
pub mod audit;
pub mod auth;
pub mod compression;
pub mod config;
pub mod db;
pub mod demo;
pub mod denied;
pub mod dev;
pub mod domain;
pub mod effects;
pub mod error;
pub mod escalation;
pub mod events;
pub mod http;
pub mod idempotency;
pub mod openapi;
pub mod problems;
pub mod ratelimit;
pub mod retention;
pub mod server;
pub mod webhooks;

use std::sync::Arc;

use poem::{
    Endpoint, EndpointExt, IntoResponse, Response, Route, get, handler,
    http::{StatusCode, header},
    middleware::CatchPanic,
};

use crate::{
    audit::{AuditKeys, SealSigner, SealVerifiers},
    auth::{Authenticator, jwt::TokenVerifier},
    compression::Compression,
    config::{AuthConfig, ConfigError, HttpConfig, WebhookConfig},
    db::Pool,
    domain::{handoff::DeadlineRules, lifecycle::RetentionPolicy},
    http::{BodyLimit, Envelope},
    idempotency::Idempotency,
    ratelimit::RateLimits,
};

/// What every request may need: the pool, the authenticator (with its organisation cache) and
/// the HTTP limits.
pub struct AppState {
    pub pool: Pool,
    pub authenticator: Authenticator,
    pub http: HttpConfig,
    pub deadlines: DeadlineRules,
    /// The retention terms `GET /v1/retention/due` applies (the run applies the same).
    pub retention: RetentionPolicy,
    pub webhooks: WebhookConfig,
    /// The key access-log checkpoints are signed with.
    pub seal_signer: SealSigner,
    /// The keys the access log is verified with (the signer's among them).
    pub seal_verifiers: SealVerifiers,
    /// This replica's rate limits, per principal and per client address.
    pub rate_limits: Arc<RateLimits>,
}

impl AppState {
    /// State with the default handoff deadlines and webhook settings, and a seal key of its own
    /// (for tests and tools that never publish a checkpoint).
    pub fn new(pool: Pool, auth: &AuthConfig, http: HttpConfig) -> Result<Arc<Self>, ConfigError> {
        Self::configured(
            pool,
            auth,
            http,
            DeadlineRules::default(),
            RetentionPolicy::default(),
            WebhookConfig::default(),
            AuditKeys::signing_with(SealSigner::generate()),
        )
    }

    pub fn configured(
        pool: Pool,
        auth: &AuthConfig,
        http: HttpConfig,
        deadlines: DeadlineRules,
        retention: RetentionPolicy,
        webhooks: WebhookConfig,
        audit: AuditKeys,
    ) -> Result<Arc<Self>, ConfigError> {
        let verifier = TokenVerifier::from_config(auth)?;
        let seal_signer = audit.signer.ok_or(ConfigError::Missing {
            var: "AUDIT_SIGNING_KEY_FILE",
            hint: "the API signs access-log checkpoints",
        })?;
        Ok(Arc::new(Self {
            authenticator: Authenticator::new(verifier, pool.clone()),
            pool,
            deadlines,
            retention,
            webhooks,
            seal_signer,
            seal_verifiers: audit.verifiers,
            rate_limits: Arc::new(RateLimits::new(http.rate_limits)),
            http,
        }))
    }
}

#[handler]
fn openapi_json() -> Response {
    Response::builder()
        .content_type("application/json")
        .body(openapi::json())
}

#[handler]
fn openapi_yaml() -> Response {
    Response::builder()
        .content_type("application/yaml")
        .body(openapi::yaml())
}

#[handler]
fn docs() -> Response {
    static HTML: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    poem::web::Html(HTML.get_or_init(openapi::swagger_ui_html).clone()).into_response()
}

#[handler]
fn root() -> Response {
    Response::builder()
        .status(StatusCode::FOUND)
        .header(header::LOCATION, "/docs")
        .finish()
}

/// The application: routes, refusals in the access log, state, body limit, idempotency keys,
/// panic safety net, the envelope (request ids, problem+json, logging) and response
/// compression.
pub fn app(state: Arc<AppState>) -> impl Endpoint<Output = Response> {
    let max_body_bytes = state.http.max_body_bytes;
    let limits = state.http.limits;
    let rate_limits = state.rate_limits.clone();
    Route::new()
        .nest("/v1", api::service())
        .at("/v1/openapi.json", get(openapi_json))
        .at("/v1/openapi.yaml", get(openapi_yaml))
        .at("/docs", get(docs))
        .at("/docs/", get(docs))
        .at("/", get(root))
        .with(denied::DeniedAccessLog)
        .with(Idempotency)
        .with(BodyLimit {
            max_bytes: max_body_bytes,
            read_timeout: limits.body_read_timeout,
        })
        .data(state)
        .with(CatchPanic::new())
        .with(Envelope {
            max_header_bytes: limits.max_header_bytes,
            rate_limits,
        })
        .with(Compression)
}
