//! `Idempotency-Key` on POST: the first response to a key (per principal) is stored and replayed
//! to retries with `Idempotent-Replayed: true`; the same key with another request is refused (422
//! `idempotency-key-reused`); concurrent duplicates wait for the first.
//!
//! Exactly once: the key's outcome is written **in the transaction of the write**. The middleware
//! opens that transaction, takes a transaction-scoped advisory lock on the key (duplicates wait
//! for it without holding a connection), hands the transaction to the handler (its work runs
//! inside as a savepoint, see [`Db`]), then stores the response and commits once. A crash before
//! that commit leaves no effect and a free key (PostgreSQL rolls back and releases the lock); a
//! crash after it leaves the effect and a completed key, which the retry replays.
//!
//! Only settled outcomes are stored (see [`is_final`]): after invalid input, a conflict or a
//! server error nothing commits and a retry with the same key runs again. Keys are purged after
//! 24 hours.

use std::{sync::Arc, time::Duration};

use base64::{Engine, engine::general_purpose::STANDARD};
use diesel::{
    ExpressionMethods, OptionalExtension, QueryDsl, Queryable, Selectable, SelectableHelper,
    sql_types::{Bool, Text},
};
use diesel_async::{AnsiTransactionManager, AsyncPgConnection, RunQueryDsl, TransactionManager};
use poem::{
    Endpoint, IntoResponse, Middleware, Request, Response,
    http::{HeaderName, HeaderValue, Method, StatusCode, header},
    web::headers::{Authorization, HeaderMapExt, authorization::Bearer},
};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;

use crate::{
    AppState,
    audit::{self, Accessed, Actor, RequestMeta},
    auth::Principal,
    db::{Conn, Db, Pool, schema::idempotency_keys},
    error::{AppError, ProblemKind},
    http,
};

pub static IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
pub static REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// How long a duplicate waits for the first request with its key to finish.
const WAIT_FOR_FIRST: Duration = Duration::from_secs(10);
/// Keys are kept this long.
pub const RETENTION_HOURS: i64 = 24;

/// Response headers worth replaying.
const REPLAYED_HEADERS: [header::HeaderName; 3] =
    [header::CONTENT_TYPE, header::LOCATION, header::ETAG];

/// The advisory lock a running request holds on its key; the same expression everywhere.
const LOCK_SQL: &str =
    "SELECT pg_try_advisory_xact_lock(hashtextextended($1 || E'\\n' || $2, 0)) AS locked";

pub struct Idempotency;

impl<E: Endpoint<Output = Response>> Middleware<E> for Idempotency {
    type Output = IdempotencyEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        IdempotencyEndpoint { inner }
    }
}

pub struct IdempotencyEndpoint<E> {
    inner: E,
}

#[derive(Queryable, Selectable, Debug)]
#[diesel(table_name = idempotency_keys, check_for_backend(diesel::pg::Pg))]
struct Stored {
    fingerprint: String,
    response_status: i32,
    response_headers: Value,
    response_body: Vec<u8>,
    accessed: Value,
}

#[derive(diesel::QueryableByName)]
struct Locked {
    #[diesel(sql_type = Bool)]
    locked: bool,
}

enum Claim<C = Conn> {
    /// This request holds the key, in the open transaction on this connection: run it.
    Run(C),
    /// A settled request with this key: replay it.
    Replay(Stored),
}

/// Whose key it is: the whole principal. A token of the same professional with other roles, or
/// through another acting client, is another principal and never replays what this one got.
pub fn owner(principal: &Principal) -> String {
    let mut roles: Vec<&str> = principal.roles.iter().map(|r| r.as_str()).collect();
    roles.sort_unstable();
    serde_json::json!([
        principal.org_id(),
        principal.sub,
        roles,
        principal.acting_client
    ])
    .to_string()
}

impl<E: Endpoint<Output = Response>> Endpoint for IdempotencyEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        let key = match req.headers().get(&IDEMPOTENCY_KEY) {
            Some(key) if req.method() == Method::POST => key.to_str().ok().map(str::to_owned),
            _ => return self.inner.call(req).await,
        };
        let key = key
            .filter(|k| (1..=255).contains(&k.len()) && !k.chars().any(char::is_control))
            .ok_or_else(|| {
                AppError::invalid_param("Idempotency-Key", "must be 1 to 255 visible characters")
            })?;
        let (Some(state), Some(meta)) = (
            req.data::<Arc<AppState>>().cloned(),
            req.extensions().get::<RequestMeta>().cloned(),
        ) else {
            return self.inner.call(req).await;
        };
        // The key belongs to the principal; an invalid token is the handler's to refuse.
        let token = req
            .headers()
            .typed_get::<Authorization<Bearer>>()
            .map(|auth| auth.token().to_owned());
        let Some(principal) = (match token {
            Some(token) => state.authenticator.authenticate(&token).await.ok(),
            None => None,
        }) else {
            return self.inner.call(req).await;
        };
        let owner = owner(&principal);

        let body = req.take_body().into_bytes().await?;
        let fingerprint = fingerprint(&req, &body);
        req.set_body(body);

        let actor = Actor {
            principal: &principal,
            request: &meta,
        };
        let conn = match claim(&state.pool, &owner, &key, &fingerprint, actor).await? {
            Claim::Replay(stored) => return Ok(replay(stored)),
            Claim::Run(conn) => Arc::new(Mutex::new(conn)),
        };

        let instance = req.uri().path().to_owned();
        req.extensions_mut()
            .insert(Db::within(state.pool.clone(), conn.clone()));
        let resp = http::render(self.inner.call(req).await, &instance);
        let mut guard = conn.lock().await;
        let conn: &mut AsyncPgConnection = &mut guard;
        if !is_final(resp.status()) {
            // Nothing commits: the client may correct or retry under the same key.
            let _ = AnsiTransactionManager::rollback_transaction(conn).await;
            return Ok(resp);
        }
        let (parts, body) = resp.into_parts();
        let bytes = body.into_bytes().await?;
        let mut headers = Map::new();
        for name in REPLAYED_HEADERS {
            if let Some(value) = parts.headers.get(&name).and_then(|v| v.to_str().ok()) {
                headers.insert(name.to_string(), Value::String(value.to_owned()));
            }
        }
        // What the request read or wrote, for logging its replays; only a success shows records.
        let accessed = if parts.status.is_success() {
            meta.accessed.entries()
        } else {
            Vec::new()
        };
        let outcome = Outcome {
            owner: &owner,
            key: &key,
            fingerprint: &fingerprint,
            status: parts.status.as_u16(),
            headers: Value::Object(headers),
            body: &bytes,
            accessed: serde_json::to_value(accessed).unwrap_or_default(),
        };
        if let Err(error) = complete(conn, outcome).await {
            // The write and its outcome went together, or neither did: a retry with the key
            // either replays or runs it for the first time.
            let _ = AnsiTransactionManager::rollback_transaction(conn).await;
            return Err(error.into());
        }
        Ok(Response::from_parts(parts, bytes.into()))
    }
}

/// Whether a response is the settled outcome of a request, to be replayed to its retries: a
/// success, or a refusal by the rules once the request ran (404, 410, 422). Input the request
/// never got past (400, 401, 403, 413, 415), refusals that may pass later (409, 412, 429) and
/// server errors are not stored: the client may correct or retry under the same key.
fn is_final(status: StatusCode) -> bool {
    status.is_success()
        || matches!(
            status,
            StatusCode::NOT_FOUND | StatusCode::GONE | StatusCode::UNPROCESSABLE_ENTITY
        )
}

/// Method, path and query, content type and body: what makes a retry the same request.
fn fingerprint(req: &Request, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(req.method().as_str());
    hasher.update(b" ");
    hasher.update(req.uri().to_string());
    hasher.update(b"\n");
    hasher.update(
        req.headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.as_bytes())
            .unwrap_or_default(),
    );
    hasher.update(b"\n");
    hasher.update(body);
    STANDARD.encode(hasher.finalize())
}

/// Claims the key, or finds its stored response, waiting while another request holds it. No
/// connection is held while waiting: the request being waited for may need one to finish.
async fn claim(
    pool: &Pool,
    owner: &str,
    key: &str,
    fingerprint: &str,
    actor: Actor<'_>,
) -> Result<Claim, AppError> {
    let deadline = tokio::time::Instant::now() + WAIT_FOR_FIRST;
    let mut pause = Duration::from_millis(20);
    loop {
        let mut conn = pool.get().await?;
        AnsiTransactionManager::begin_transaction(&mut *conn).await?;
        match try_claim(&mut conn, owner, key, fingerprint, actor).await {
            Ok(Some(Claim::Run(()))) => return Ok(Claim::Run(conn)),
            Ok(Some(Claim::Replay(stored))) => {
                AnsiTransactionManager::commit_transaction(&mut *conn).await?;
                return Ok(Claim::Replay(stored));
            }
            Ok(None) => {
                AnsiTransactionManager::rollback_transaction(&mut *conn).await?;
            }
            Err(error) => {
                let _ = AnsiTransactionManager::rollback_transaction(&mut *conn).await;
                return Err(error);
            }
        }
        drop(conn);
        if tokio::time::Instant::now() >= deadline {
            return Err(AppError::new(
                ProblemKind::IdempotencyKeyInProgress,
                "A request with this Idempotency-Key is still being processed; retry shortly.",
            ));
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(250));
    }
}

/// In the open transaction: `None` while another request holds the key; else run it or replay.
async fn try_claim(
    conn: &mut AsyncPgConnection,
    owner: &str,
    key: &str,
    fingerprint: &str,
    actor: Actor<'_>,
) -> Result<Option<Claim<()>>, AppError> {
    let lock: Locked = diesel::sql_query(LOCK_SQL)
        .bind::<Text, _>(owner)
        .bind::<Text, _>(key)
        .get_result(conn)
        .await?;
    if !lock.locked {
        return Ok(None);
    }
    let stored: Option<Stored> = idempotency_keys::table
        .filter(idempotency_keys::principal.eq(owner))
        .filter(idempotency_keys::key.eq(key))
        .select(Stored::as_select())
        .first(conn)
        .await
        .optional()?;
    let Some(stored) = stored else {
        return Ok(Some(Claim::Run(())));
    };
    if stored.fingerprint != fingerprint {
        return Err(AppError::new(
            ProblemKind::IdempotencyKeyReused,
            "This Idempotency-Key was used for another request. Use a new key for a new request.",
        ));
    }
    // A replay shows the records again: it is logged as a read of each.
    let accessed: Vec<Accessed> =
        serde_json::from_value(stored.accessed.clone()).unwrap_or_default();
    audit::record_replay(conn, actor, &accessed).await?;
    Ok(Some(Claim::Replay(stored)))
}

/// A settled outcome, to store with the write.
struct Outcome<'a> {
    owner: &'a str,
    key: &'a str,
    fingerprint: &'a str,
    status: u16,
    headers: Value,
    body: &'a [u8],
    accessed: Value,
}

/// Stores the outcome and commits the request's transaction: the write and its key together.
async fn complete(conn: &mut AsyncPgConnection, outcome: Outcome<'_>) -> Result<(), AppError> {
    diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::principal.eq(outcome.owner),
            idempotency_keys::key.eq(outcome.key),
            idempotency_keys::fingerprint.eq(outcome.fingerprint),
            idempotency_keys::response_status.eq(i32::from(outcome.status)),
            idempotency_keys::response_headers.eq(outcome.headers),
            idempotency_keys::response_body.eq(outcome.body),
            idempotency_keys::accessed.eq(outcome.accessed),
        ))
        .execute(conn)
        .await?;
    AnsiTransactionManager::commit_transaction(conn).await?;
    Ok(())
}

fn replay(stored: Stored) -> Response {
    let status = u16::try_from(stored.response_status)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);
    let mut resp = Response::builder()
        .status(status)
        .body(stored.response_body)
        .into_response();
    if let Value::Object(headers) = stored.response_headers {
        for (name, value) in headers {
            if let (Ok(name), Some(Ok(value))) = (
                HeaderName::from_bytes(name.as_bytes()),
                value.as_str().map(HeaderValue::from_str),
            ) {
                resp.headers_mut().insert(name, value);
            }
        }
    }
    resp.headers_mut()
        .insert(REPLAYED.clone(), HeaderValue::from_static("true"));
    resp
}

/// Deletes keys older than the retention period; returns how many.
pub async fn purge(conn: &mut AsyncPgConnection) -> diesel::QueryResult<usize> {
    diesel::sql_query(format!(
        "DELETE FROM idempotency_keys WHERE created_at < now() - interval '{RETENTION_HOURS} hours'"
    ))
    .execute(conn)
    .await
}
