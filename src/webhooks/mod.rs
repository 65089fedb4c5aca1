//! Webhooks: the delivery worker, the signature, and the rules for subscription URLs.
//!
//! Each event of an organisation becomes a delivery per matching subscription. A worker (inside
//! `schakel serve`, or alone as `schakel worker`; any number may run) claims due deliveries
//! with `FOR UPDATE SKIP LOCKED` and a lease, POSTs a CloudEvents 1.0 JSON body signed as in
//! Standard Webhooks, and retries failures with exponential backoff and jitter for about a day.
//! A run of failures disables the subscription and says so in the organisation's feed.
//!
//! The body carries ids and types only, never personal data: the receiver reads the record
//! with its own token.

pub mod destination;
pub mod secrets;

pub use secrets::SecretKeys;

use std::{net::IpAddr, sync::Arc, time::Duration};

use base64::{Engine, engine::general_purpose::STANDARD};
use chrono::Utc;
use diesel_async::AsyncConnection;
use hmac::{Hmac, KeyInit, Mac};
use reqwest::Url;
use serde_json::json;
use sha2::Sha256;
use tokio::{sync::watch, task::JoinSet};

use crate::{
    config::WebhookConfig,
    db::{
        Pool,
        webhooks::{self as queries, AttemptResult, Claimed},
    },
    error::AppError,
    events::{self, Event, EventType, public_id, resource_href},
    idempotency,
};

pub const SECRET_PREFIX: &str = "whsec_";
/// The CloudEvents `source` of every event: the feed it also appears in.
pub const EVENT_SOURCE: &str = "/v1/events";
pub const CONTENT_TYPE: &str = "application/cloudevents+json; charset=utf-8";
/// Deliveries attempted at once by one worker.
const BATCH: i64 = 16;
/// Stored error messages are cut to this length.
const MAX_ERROR_CHARS: usize = 300;

/// A new signing secret: `whsec_` and the base64 of 32 random bytes (the HMAC key).
pub fn new_secret() -> String {
    let mut key = [0u8; 32];
    rand::fill(&mut key);
    format!("{SECRET_PREFIX}{}", STANDARD.encode(key))
}

/// The `webhook-signature` header value: `v1,` and the base64 HMAC-SHA256, keyed with the
/// secret's decoded bytes, of `{id}.{timestamp}.{body}` (Standard Webhooks).
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
    let key = STANDARD.decode(secret.strip_prefix(SECRET_PREFIX)?).ok()?;
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&key).ok()?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Some(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// Checks a subscription URL: `https`, or plain `http` to a loopback address when allowed; no
/// credentials in it.
pub fn check_url(raw: &str, allow_insecure_loopback: bool) -> Result<Url, &'static str> {
    let url = Url::parse(raw).map_err(|_| "is not an absolute URL")?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not contain credentials");
    }
    let host = url.host_str().ok_or("has no host")?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(host) => {
            if allow_insecure_loopback {
                Ok(url)
            } else {
                Err(
                    "must use https (plain http to loopback needs WEBHOOK_ALLOW_INSECURE_LOOPBACK=true)",
                )
            }
        }
        "http" => Err("must use https"),
        _ => Err("must be an https URL"),
    }
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// How long to wait after the `attempt`-th failed attempt: `base · 2^(attempt-1)`, capped, with
/// ±20 % jitter so receivers coming back are not hit by every retry at once.
pub fn backoff(config: &WebhookConfig, attempt: u32) -> Duration {
    let doubling = 2u32.saturating_pow(attempt.saturating_sub(1).min(20));
    let delay = config
        .retry_base
        .saturating_mul(doubling)
        .min(config.retry_cap);
    delay.mul_f64(rand::random_range(0.8..=1.2))
}

/// The CloudEvents 1.0 structured-mode body of a delivery.
pub fn cloud_event(claimed: &Claimed) -> serde_json::Value {
    let href = resource_href(&claimed.resource_type, claimed.resource_id);
    json!({
        "specversion": "1.0",
        "id": public_id(claimed.event_id),
        "source": EVENT_SOURCE,
        "type": claimed.event_type,
        "subject": href,
        "time": claimed.occurred_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "datacontenttype": "application/json",
        "data": {
            "organisationId": claimed.organisation_id,
            "resource": {
                "type": claimed.resource_type,
                "id": claimed.resource_id,
                "href": href,
            }
        }
    })
}

/// What one round of the worker did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    pub fanned_out: i64,
    pub attempted: usize,
    pub delivered: usize,
}

/// Delivers webhooks; cheap to clone.
#[derive(Clone)]
pub struct Dispatcher {
    pool: Pool,
    config: Arc<WebhookConfig>,
    client: reqwest::Client,
}

impl Dispatcher {
    pub fn new(pool: Pool, config: WebhookConfig) -> Result<Self, reqwest::Error> {
        let builder = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            // A receiver answers for itself: redirects could point anywhere.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("schakel-webhooks/", env!("CARGO_PKG_VERSION")));
        let client = match &config.proxy {
            // The egress proxy resolves and connects; each destination is checked before.
            Some(proxy) => builder.proxy(reqwest::Proxy::all(proxy.as_str())?),
            // Connect only to the addresses the check allowed: no second lookup to rebind.
            None => builder
                .no_proxy()
                .dns_resolver(Arc::new(destination::CheckedResolver {
                    lookup: config.lookup.clone(),
                    allow_loopback: config.allow_insecure_loopback,
                })),
        }
        .build()?;
        Ok(Self {
            pool,
            config: Arc::new(config),
            client,
        })
    }

    /// One round: fan new events out into deliveries, then attempt what is due.
    pub async fn run_once(&self) -> Result<Round, AppError> {
        let mut conn = self.pool.get().await?;
        let max_attempts = i32::try_from(self.config.max_attempts).unwrap_or(i32::MAX);
        let fanned_out = conn
            .transaction::<_, diesel::result::Error, _>(async |conn| queries::fan_out(conn).await)
            .await?;
        queries::fail_abandoned(&mut conn, max_attempts).await?;
        // The lease outlives the attempt's timeout, so only a stopped worker loses it.
        let lease_ms =
            i64::try_from((self.config.timeout * 2 + Duration::from_secs(10)).as_millis())
                .unwrap_or(i64::MAX);
        let claimed = queries::claim(&mut conn, BATCH, lease_ms, max_attempts).await?;
        drop(conn);

        let mut round = Round {
            fanned_out,
            attempted: claimed.len(),
            delivered: 0,
        };
        let mut attempts = JoinSet::new();
        for delivery in claimed {
            let dispatcher = self.clone();
            attempts.spawn(async move { dispatcher.attempt(delivery).await });
        }
        while let Some(outcome) = attempts.join_next().await {
            match outcome {
                Ok(Ok(true)) => round.delivered += 1,
                Ok(Ok(false)) => {}
                Ok(Err(error)) => tracing::warn!(%error, "recording a webhook attempt failed"),
                Err(error) => tracing::error!(%error, "a webhook attempt panicked"),
            }
        }
        Ok(round)
    }

    /// Makes one attempt and records it; returns whether it was delivered.
    async fn attempt(&self, claimed: Claimed) -> Result<bool, AppError> {
        let outcome = self.post(&claimed).await;
        let delivered = outcome.is_ok();
        let (status_code, error) = match &outcome {
            Ok(status) => (Some(i32::from(*status)), None),
            Err(failure) => (failure.status.map(i32::from), Some(failure.error.as_str())),
        };
        // 410 Gone: the receiver says it will never take these again.
        let gone = matches!(&outcome, Err(f) if f.status == Some(410));
        let attempt = u32::try_from(claimed.attempt).unwrap_or(u32::MAX);
        let retry_at = if delivered {
            None
        } else if gone || attempt >= self.config.max_attempts {
            Some(None)
        } else {
            let asked = outcome.as_ref().err().and_then(|f| f.retry_after);
            let wait = chrono::Duration::from_std(retry_wait(&self.config, attempt, asked))
                .unwrap_or(chrono::Duration::hours(8));
            Some(Some(Utc::now() + wait))
        };
        let result = AttemptResult {
            status_code,
            error,
            retry_at,
        };
        let threshold = i32::try_from(self.config.disable_after_failures).unwrap_or(i32::MAX);
        tracing::info!(
            delivery = %claimed.id,
            subscription = %claimed.subscription_id,
            event = claimed.event_id,
            attempt = claimed.attempt,
            status = status_code,
            delivered,
            "webhook attempt"
        );
        let mut conn = self.pool.get().await?;
        conn.transaction::<_, diesel::result::Error, _>(async |conn| {
                if !queries::record_attempt(conn, &claimed, &result).await? {
                    return Ok(()); // the lease ran out and another worker took over
                }
                if delivered {
                    queries::reset_failures(conn, claimed.subscription_id).await?;
                } else if queries::count_failure(conn, claimed.subscription_id, threshold, gone).await? {
                    tracing::warn!(subscription = %claimed.subscription_id, "webhook subscription disabled after repeated failures");
                    events::emit(
                        conn,
                        &[Event::new(
                            EventType::WebhookSubscriptionDisabled,
                            claimed.organisation_id,
                            "webhook_subscription",
                            claimed.subscription_id,
                        )],
                    )
                    .await?;
                }
                Ok(())
        })
        .await?;
        Ok(delivered)
    }

    /// POSTs the signed event; `Ok` with a 2xx status, else what went wrong.
    async fn post(&self, claimed: &Claimed) -> Result<u16, Failure> {
        let id = public_id(claimed.event_id);
        let body = cloud_event(claimed).to_string();
        let timestamp = Utc::now().timestamp();
        let unusable = || Failure::without_answer("the subscription's secret is unusable");
        let keys = &self.config.secret_keys;
        let secret =
            open_secret(keys, claimed.subscription_id, &claimed.secret).ok_or_else(unusable)?;
        let mut signature = sign(&secret, &id, timestamp, body.as_bytes()).ok_or_else(unusable)?;
        // During a rotation's overlap the old secret signs too: receivers verify either.
        if let Some(previous) = claimed
            .previous_secret
            .as_deref()
            .and_then(|p| open_secret(keys, claimed.subscription_id, p))
            .and_then(|p| sign(&p, &id, timestamp, body.as_bytes()))
        {
            signature = format!("{signature} {previous}");
        }
        self.check_destination(&claimed.url)
            .await
            .map_err(|_| Failure::without_answer(UNREACHABLE))?;
        let response = self
            .client
            .post(&claimed.url)
            .header(reqwest::header::CONTENT_TYPE, CONTENT_TYPE)
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await
            .map_err(|err| Failure::without_answer(&describe(err, self.config.timeout)))?;
        let status = response.status();
        if status.is_success() {
            return Ok(status.as_u16());
        }
        // Honoured on 429 and 503, where it means "not before then".
        let retry_after = matches!(status.as_u16(), 429 | 503)
            .then(|| response.headers().get(reqwest::header::RETRY_AFTER))
            .flatten()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, Utc::now()));
        Err(Failure {
            status: Some(status.as_u16()),
            error: format!("the receiver answered {status}"),
            retry_after,
        })
    }

    /// Checks a destination again before each attempt. Names are checked by the resolver as
    /// the connection is made; IP literals never reach it, and behind a proxy nothing does.
    async fn check_destination(&self, raw: &str) -> Result<(), &'static str> {
        let url = Url::parse(raw).map_err(|_| destination::NOT_ALLOWED)?;
        let host = url.host().ok_or(destination::NOT_ALLOWED)?;
        if self.config.proxy.is_some() || !matches!(host, url::Host::Domain(_)) {
            destination::checked_addresses(
                &host,
                &self.config.lookup,
                self.config.allow_insecure_loopback,
            )
            .await?;
        }
        Ok(())
    }

    /// Runs rounds until `shutdown` turns true: at once again while there is work, else after
    /// the poll interval. Also purges expired idempotency keys now and then. First, encrypts
    /// any secret still in the clear or under an older key.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        match reseal_secrets(&self.pool, &self.config.secret_keys).await {
            Ok(0) => {}
            Ok(resealed) => {
                tracing::info!(resealed, "webhook secrets encrypted under the current key")
            }
            Err(error) => tracing::warn!(%error, "encrypting stored webhook secrets failed"),
        }
        let mut last_purge: Option<tokio::time::Instant> = None;
        loop {
            if *shutdown.borrow() {
                return;
            }
            let busy = match self.run_once().await {
                Ok(round) => round.attempted > 0 || round.fanned_out > 0,
                Err(error) => {
                    tracing::warn!(%error, "webhook round failed; will retry");
                    false
                }
            };
            if last_purge.is_none_or(|at| at.elapsed() > Duration::from_secs(3600)) {
                last_purge = Some(tokio::time::Instant::now());
                match self.pool.get().await {
                    Ok(mut conn) => match idempotency::purge(&mut conn).await {
                        Ok(purged) => tracing::debug!(purged, "expired idempotency keys purged"),
                        Err(error) => tracing::warn!(%error, "purging idempotency keys failed"),
                    },
                    Err(error) => tracing::warn!(%error, "purging idempotency keys failed"),
                }
            }
            if !busy {
                tokio::select! {
                    _ = tokio::time::sleep(self.config.poll_interval) => {}
                    _ = shutdown.changed() => return,
                }
            }
        }
    }
}

/// A stored secret in the clear: `whsec_…` as it was stored before encryption existed.
fn open_secret(keys: &SecretKeys, subscription: uuid::Uuid, stored: &str) -> Option<String> {
    if stored.starts_with(SECRET_PREFIX) {
        return Some(stored.to_owned());
    }
    keys.open(subscription, stored)
}

/// Encrypts every stored secret that is in the clear or under an older key with the current
/// key; returns how many subscriptions changed. A secret no configured key opens is left alone
/// (its deliveries report it unusable).
pub async fn reseal_secrets(pool: &Pool, keys: &SecretKeys) -> Result<usize, AppError> {
    let mut conn = pool.get().await?;
    let mut resealed = 0;
    for (id, secret, previous) in queries::stored_secrets(&mut conn).await? {
        let reseal = |stored: &str| -> Option<String> {
            if !keys.is_stale(stored) {
                return Some(stored.to_owned());
            }
            open_secret(keys, id, stored).map(|plain| keys.seal(id, &plain))
        };
        let (Some(new_secret), new_previous) = (reseal(&secret), previous.as_deref().map(reseal))
        else {
            tracing::warn!(subscription = %id, "a webhook secret no configured key opens");
            continue;
        };
        let new_previous = new_previous.flatten();
        if new_secret != secret || new_previous != previous {
            queries::store_secrets(&mut conn, id, &new_secret, new_previous.as_deref()).await?;
            resealed += 1;
        }
    }
    Ok(resealed)
}

/// A failed attempt: the receiver's status if it answered, why, and when it asked to be tried
/// again.
#[derive(Debug)]
struct Failure {
    status: Option<u16>,
    error: String,
    retry_after: Option<Duration>,
}

impl Failure {
    fn without_answer(error: &str) -> Self {
        Self {
            status: None,
            error: error.to_owned(),
            retry_after: None,
        }
    }
}

/// `Retry-After`: delay-seconds or an HTTP-date.
fn parse_retry_after(value: &str, now: chrono::DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    (at.with_timezone(&Utc) - now).to_std().ok()
}

/// How long to wait before the next attempt: the backoff, or longer when the receiver asked
/// for more with `Retry-After` — never beyond the backoff's cap.
pub fn retry_wait(config: &WebhookConfig, attempt: u32, asked: Option<Duration>) -> Duration {
    let backoff = backoff(config, attempt);
    match asked {
        Some(asked) => backoff.max(asked.min(config.retry_cap)),
        None => backoff,
    }
}

/// What a delivery record says when no answer came: one message for a refused address, a
/// failed lookup, a refused or reset connection alike, so the records map no network.
pub const UNREACHABLE: &str = "the receiver could not be reached";

/// Why an attempt failed, without the URL (it is in the subscription already).
fn describe(err: reqwest::Error, timeout: Duration) -> String {
    let reason = if err.is_timeout() {
        format!(
            "the receiver did not answer within {} s",
            timeout.as_secs_f32()
        )
    } else {
        UNREACHABLE.to_owned()
    };
    reason.chars().take(MAX_ERROR_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_whsec_and_32_random_bytes() {
        let secret = new_secret();
        let key = STANDARD
            .decode(secret.strip_prefix(SECRET_PREFIX).expect("prefix"))
            .expect("base64");
        assert_eq!(key.len(), 32);
        assert_ne!(secret, new_secret());
    }

    #[test]
    fn signature_matches_the_standard_webhooks_test_vector() {
        // From the Standard Webhooks reference libraries' tests.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            sign(secret, id, 1614265330, body).as_deref(),
            Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        );
        assert_eq!(sign("not-a-secret", id, 1, body), None);
    }

    #[test]
    fn urls_must_be_https_or_allowed_loopback() {
        let cases: &[(&str, bool, bool)] = &[
            ("https://school.example/hooks", false, true),
            ("https://127.0.0.1/hooks", false, true),
            ("http://school.example/hooks", false, false),
            ("http://school.example/hooks", true, false),
            ("http://127.0.0.1:9000/hooks", false, false),
            ("http://127.0.0.1:9000/hooks", true, true),
            ("http://127.8.9.10/hooks", true, true),
            ("http://localhost:9000/hooks", true, true),
            ("http://[::1]:9000/hooks", true, true),
            ("http://10.0.0.1/hooks", true, false),
            ("ftp://school.example/hooks", true, false),
            ("https://user:pass@school.example/hooks", false, false),
            ("school.example/hooks", false, false),
            ("", false, false),
        ];
        for (url, allow, ok) in cases {
            assert_eq!(
                check_url(url, *allow).is_ok(),
                *ok,
                "{url} with loopback allowed: {allow}"
            );
        }
    }

    #[test]
    fn retry_after_is_honoured_within_the_cap() {
        let now = Utc::now();
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        let later = (now + chrono::Duration::seconds(90)).to_rfc2822();
        let parsed = parse_retry_after(&later, now).unwrap();
        assert!(parsed <= Duration::from_secs(90) && parsed >= Duration::from_secs(89));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now),
            None,
            "in the past"
        );

        let config = WebhookConfig {
            retry_base: Duration::from_secs(30),
            retry_cap: Duration::from_secs(3600),
            ..WebhookConfig::default()
        };
        let wait = retry_wait(&config, 1, Some(Duration::from_secs(600)));
        assert_eq!(
            wait,
            Duration::from_secs(600),
            "longer than the backoff: honoured"
        );
        let wait = retry_wait(&config, 1, Some(Duration::from_secs(2 * 86400)));
        assert_eq!(wait, Duration::from_secs(3600), "capped");
        let wait = retry_wait(&config, 1, Some(Duration::from_secs(1)));
        assert!(
            wait >= Duration::from_secs(24),
            "never sooner than the backoff: {wait:?}"
        );
    }

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let config = WebhookConfig::default();
        for attempt in 1..=20u32 {
            let exact = config
                .retry_base
                .saturating_mul(2u32.saturating_pow(attempt - 1))
                .min(config.retry_cap);
            let wait = backoff(&config, attempt);
            assert!(
                wait >= exact.mul_f64(0.8) && wait <= exact.mul_f64(1.2),
                "attempt {attempt}: {wait:?} vs {exact:?}"
            );
        }
        // The default schedule spans about a day before the last attempt.
        let total: Duration = (1..config.max_attempts)
            .map(|n| {
                config
                    .retry_base
                    .saturating_mul(2u32.saturating_pow(n - 1))
                    .min(config.retry_cap)
            })
            .sum();
        assert!(
            total >= Duration::from_secs(20 * 3600) && total <= Duration::from_secs(30 * 3600),
            "{total:?}"
        );
    }
}
