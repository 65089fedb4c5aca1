//! `Idempotency-Key` on POST: the first response to a key (per organisation and professional)
//! is stored and replayed to retries with `Idempotent-Replayed: true`; the same key with another
//! request is refused (422 `idempotency-key-reused`); concurrent duplicates wait for the first.
//! Only settled outcomes are stored (see [`is_final`]): after invalid input, a conflict or a
//! server error, a retry with the same key runs again. Keys are purged after 24 hours.

use std::{sync::Arc, time::Duration};

use base64::{Engine, engine::general_purpose::STANDARD};
use diesel::{
    ExpressionMethods, OptionalExtension, QueryDsl, Queryable, Selectable, SelectableHelper,
    sql_types::Text,
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use poem::{
    Endpoint, IntoResponse, Middleware, Request, Response,
    http::{HeaderName, HeaderValue, Method, StatusCode, header},
    web::headers::{Authorization, HeaderMapExt, authorization::Bearer},
};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::{
    AppState,
    db::{Pool, schema::idempotency_keys},
    error::AppError,
    http,
};

pub static IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
pub static REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// How long a duplicate waits for the first request with its key to finish.
const WAIT_FOR_FIRST: Duration = Duration::from_secs(10);
/// A key still in progress after this long belongs to a request that died; it is taken over.
const ABANDONED_AFTER_SECS: i64 = 60;
/// Keys are kept this long.
pub const RETENTION_HOURS: i64 = 24;

/// Response headers worth replaying.
const REPLAYED_HEADERS: [header::HeaderName; 3] =
    [header::CONTENT_TYPE, header::LOCATION, header::ETAG];

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
    completed_at: Option<chrono::DateTime<chrono::Utc>>,
    response_status: Option<i32>,
    response_headers: Option<Value>,
    response_body: Option<Vec<u8>>,
}

enum Claim {
    /// This request owns the key: run it.
    Owned,
    /// A finished request with this key: replay it.
    Replay(Stored),
}

impl<E: Endpoint<Output = Response>> Endpoint for IdempotencyEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        let key = match req.headers().get(&IDEMPOTENCY_KEY) {
            Some(key) if req.method() == Method::POST => {
                key.to_str().unwrap_or_default().to_owned()
            }
            _ => return self.inner.call(req).await,
        };
        if !(1..=255).contains(&key.len()) || key.chars().any(|c| c.is_control()) {
            return Err(AppError::invalid_param(
                "Idempotency-Key",
                "must be 1 to 255 visible characters",
            )
            .into());
        }
        let Some(state) = req.data::<Arc<AppState>>().cloned() else {
            return self.inner.call(req).await;
        };
        // The key belongs to the professional; an invalid token is the handler's to refuse.
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
        let owner = format!("{}:{}", principal.org_id(), principal.sub);

        let body = req.take_body().into_bytes().await?;
        let fingerprint = fingerprint(&req, &body);
        req.set_body(body);

        match claim(&state.pool, &owner, &key, &fingerprint).await? {
            Claim::Replay(stored) => return Ok(replay(stored)),
            Claim::Owned => {}
        }

        let instance = req.uri().path().to_owned();
        let resp = http::render(self.inner.call(req).await, &instance);
        // The request has run: its response goes out even if the key cannot be updated (the key
        // then stays in progress and is taken over after ABANDONED_AFTER_SECS).
        let mut conn = match state.pool.get().await {
            Ok(conn) => conn,
            Err(error) => {
                tracing::warn!(%error, "idempotency key left in progress");
                return Ok(resp);
            }
        };
        if !is_final(resp.status()) {
            // Let the client correct or retry under the same key.
            if let Err(error) = release(&mut conn, &owner, &key).await {
                tracing::warn!(%error, "idempotency key left in progress");
            }
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
        if let Err(error) = complete(
            &mut conn,
            &owner,
            &key,
            parts.status.as_u16(),
            Value::Object(headers),
            &bytes,
        )
        .await
        {
            tracing::warn!(%error, "idempotent response not stored; the key stays in progress");
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
/// connection is held while waiting: the request being waited for needs one to finish.
async fn claim(pool: &Pool, owner: &str, key: &str, fingerprint: &str) -> Result<Claim, AppError> {
    let deadline = tokio::time::Instant::now() + WAIT_FOR_FIRST;
    let mut pause = Duration::from_millis(20);
    loop {
        let mut conn = pool.get().await?;
        let conn = &mut *conn;
        let inserted = diesel::insert_into(idempotency_keys::table)
            .values((
                idempotency_keys::principal.eq(owner),
                idempotency_keys::key.eq(key),
                idempotency_keys::fingerprint.eq(fingerprint),
            ))
            .on_conflict_do_nothing()
            .execute(conn)
            .await?;
        if inserted == 1 {
            return Ok(Claim::Owned);
        }
        let stored: Option<Stored> = idempotency_keys::table
            .filter(idempotency_keys::principal.eq(owner))
            .filter(idempotency_keys::key.eq(key))
            .select(Stored::as_select())
            .first(conn)
            .await
            .optional()?;
        let Some(stored) = stored else {
            continue; // released meanwhile: try again
        };
        if stored.fingerprint != fingerprint {
            return Err(AppError::unprocessable(
                "idempotency-key-reused",
                "Idempotency key reused",
                "This Idempotency-Key was used for another request. Use a new key for a new request.",
            ));
        }
        if stored.completed_at.is_some() {
            return Ok(Claim::Replay(stored));
        }
        if take_over_abandoned(conn, owner, key).await? {
            continue;
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(AppError::conflict(
                "idempotency-key-in-progress",
                "A request with this Idempotency-Key is still being processed; retry shortly.",
            ));
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(250));
    }
}

/// Removes a key left in progress by a request that never finished.
async fn take_over_abandoned(
    conn: &mut AsyncPgConnection,
    owner: &str,
    key: &str,
) -> Result<bool, AppError> {
    let removed = diesel::sql_query(format!(
        "DELETE FROM idempotency_keys WHERE principal = $1 AND key = $2 AND completed_at IS NULL
           AND created_at < now() - interval '{ABANDONED_AFTER_SECS} seconds'"
    ))
    .bind::<Text, _>(owner)
    .bind::<Text, _>(key)
    .execute(conn)
    .await?;
    Ok(removed > 0)
}

async fn release(conn: &mut AsyncPgConnection, owner: &str, key: &str) -> Result<(), AppError> {
    diesel::delete(
        idempotency_keys::table
            .filter(idempotency_keys::principal.eq(owner))
            .filter(idempotency_keys::key.eq(key)),
    )
    .execute(conn)
    .await?;
    Ok(())
}

async fn complete(
    conn: &mut AsyncPgConnection,
    owner: &str,
    key: &str,
    status: u16,
    headers: Value,
    body: &[u8],
) -> Result<(), AppError> {
    diesel::update(
        idempotency_keys::table
            .filter(idempotency_keys::principal.eq(owner))
            .filter(idempotency_keys::key.eq(key)),
    )
    .set((
        idempotency_keys::response_status.eq(i32::from(status)),
        idempotency_keys::response_headers.eq(headers),
        idempotency_keys::response_body.eq(body),
        idempotency_keys::completed_at.eq(diesel::dsl::now),
    ))
    .execute(conn)
    .await?;
    Ok(())
}

fn replay(stored: Stored) -> Response {
    let status = stored
        .response_status
        .and_then(|s| u16::try_from(s).ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);
    let mut resp = Response::builder()
        .status(status)
        .body(stored.response_body.unwrap_or_default())
        .into_response();
    if let Some(Value::Object(headers)) = stored.response_headers {
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
