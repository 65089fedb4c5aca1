//! Rate limits (OWASP API4): GCRA token buckets from `governor`, per principal (organisation
//! and `sub`) for authenticated requests and per client address for the rest, with separate
//! budgets for reads of one resource, lists (collections, the access log, the event feed) and
//! writes. Limits are per process (replica).
//!
//! Every limited response carries the IETF draft `draft-ietf-httpapi-ratelimit-headers` fields
//! `RateLimit-Policy` (quota `q` per window `w` seconds) and `RateLimit` (remaining `r`, `t`
//! seconds until the quota is whole again), so clients can pace themselves; a refusal is a 429
//! problem with `Retry-After`.

use std::{
    hash::Hash,
    net::IpAddr,
    num::NonZeroU32,
    sync::{Arc, Mutex},
    time::Duration,
};

use governor::{
    Quota, RateLimiter,
    clock::{Clock, DefaultClock},
    middleware::StateInformationMiddleware,
    state::keyed::DefaultKeyedStateStore,
};
use poem::{
    Request,
    http::{HeaderValue, Method},
};
use uuid::Uuid;

use crate::error::AppError;

/// Which budget a request spends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget {
    /// Reading one resource.
    Reads,
    /// Reading a collection, the access log or the event feed: more rows per request.
    Lists,
    /// Creating or changing anything.
    Writes,
    /// Any request without a valid token, per client address.
    Anonymous,
}

impl Budget {
    pub fn name(self) -> &'static str {
        match self {
            Self::Reads => "reads",
            Self::Lists => "lists",
            Self::Writes => "writes",
            Self::Anonymous => "anonymous",
        }
    }

    /// The budget an authenticated request spends: by method, and for reads by whether the
    /// path ends in an id (one resource) or not (a collection or a computed view).
    pub fn of(method: &Method, path: &str) -> Self {
        if !matches!(*method, Method::GET | Method::HEAD) {
            return Self::Writes;
        }
        let last = path
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or_default();
        if Uuid::parse_str(last).is_ok() {
            Self::Reads
        } else {
            Self::Lists
        }
    }
}

/// Whether a path is limited at all: health checks, the spec, the docs and reference data are
/// not.
pub fn is_limited(path: &str) -> bool {
    let open = ["/v1/health", "/v1/openapi.", "/v1/reference", "/docs"];
    path.starts_with("/v1/") && !open.iter().any(|prefix| path.starts_with(prefix))
}

/// Requests per minute for each budget; each is also the largest burst.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitConfig {
    pub reads_per_minute: u32,
    pub lists_per_minute: u32,
    pub writes_per_minute: u32,
    pub anonymous_per_minute: u32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            reads_per_minute: 1200,
            lists_per_minute: 300,
            writes_per_minute: 300,
            anonymous_per_minute: 60,
        }
    }
}

/// What one check decided, for the response headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub budget: Budget,
    pub quota: u32,
    pub remaining: u32,
    /// Seconds until the quota is whole again.
    pub reset_secs: u64,
    /// When refused: seconds until the next request is allowed.
    pub retry_after_secs: Option<u64>,
}

impl Decision {
    pub fn allowed(&self) -> bool {
        self.retry_after_secs.is_none()
    }

    /// `RateLimit-Policy: "<name>";q=<quota>;w=60`.
    pub fn policy_header(&self) -> HeaderValue {
        HeaderValue::from_str(&format!("\"{}\";q={};w=60", self.budget.name(), self.quota))
            .expect("ASCII")
    }

    /// `RateLimit: "<name>";r=<remaining>;t=<seconds>`.
    pub fn state_header(&self) -> HeaderValue {
        HeaderValue::from_str(&format!(
            "\"{}\";r={};t={}",
            self.budget.name(),
            self.remaining,
            self.reset_secs
        ))
        .expect("ASCII")
    }
}

type Keyed<K> = RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock, StateInformationMiddleware>;

/// A professional: organisation and `sub`.
pub type PrincipalKey = (Uuid, String);

/// One limiter per budget.
pub struct RateLimits {
    config: RateLimitConfig,
    reads: Keyed<PrincipalKey>,
    lists: Keyed<PrincipalKey>,
    writes: Keyed<PrincipalKey>,
    anonymous: Keyed<IpAddr>,
    clock: DefaultClock,
}

fn keyed<K: Hash + Eq + Clone>(per_minute: u32) -> Keyed<K> {
    let quota = Quota::per_minute(NonZeroU32::new(per_minute.max(1)).expect("at least 1"));
    RateLimiter::keyed(quota).with_middleware::<StateInformationMiddleware>()
}

impl RateLimits {
    pub fn new(config: RateLimitConfig) -> Self {
        Self {
            config,
            reads: keyed(config.reads_per_minute),
            lists: keyed(config.lists_per_minute),
            writes: keyed(config.writes_per_minute),
            anonymous: keyed(config.anonymous_per_minute),
            clock: DefaultClock::default(),
        }
    }

    pub fn check_principal(&self, budget: Budget, key: &PrincipalKey) -> Decision {
        match budget {
            Budget::Reads => self.decide(
                budget,
                self.config.reads_per_minute,
                self.reads.check_key(key),
            ),
            Budget::Lists => self.decide(
                budget,
                self.config.lists_per_minute,
                self.lists.check_key(key),
            ),
            Budget::Writes | Budget::Anonymous => self.decide(
                budget,
                self.config.writes_per_minute,
                self.writes.check_key(key),
            ),
        }
    }

    /// An IPv6 client is counted by its /64: one host can hold a whole /64 and would otherwise
    /// get a fresh budget (and a fresh bucket in memory) per address.
    pub fn check_address(&self, address: IpAddr) -> Decision {
        let key = match address {
            IpAddr::V4(_) => address,
            IpAddr::V6(v6) => {
                let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(prefix.into())
            }
        };
        self.decide(
            Budget::Anonymous,
            self.config.anonymous_per_minute,
            self.anonymous.check_key(&key),
        )
    }

    fn decide(
        &self,
        budget: Budget,
        quota: u32,
        outcome: Result<
            governor::middleware::StateSnapshot,
            governor::NotUntil<<DefaultClock as Clock>::Instant>,
        >,
    ) -> Decision {
        let per_cell = 60.0 / f64::from(quota.max(1));
        match outcome {
            Ok(state) => {
                let remaining = state.remaining_burst_capacity();
                Decision {
                    budget,
                    quota,
                    remaining,
                    reset_secs: (f64::from(quota - remaining.min(quota)) * per_cell).ceil() as u64,
                    retry_after_secs: None,
                }
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(self.clock.now());
                Decision {
                    budget,
                    quota,
                    remaining: 0,
                    reset_secs: (f64::from(quota) * per_cell).ceil() as u64,
                    retry_after_secs: Some(wait.as_secs() + u64::from(wait.subsec_nanos() > 0)),
                }
            }
        }
    }

    /// Forgets buckets that are full again, so memory follows the active clients.
    pub fn prune(&self) {
        self.reads.retain_recent();
        self.lists.retain_recent();
        self.writes.retain_recent();
        self.anonymous.retain_recent();
    }

    /// Prunes every `interval`, for the life of the process.
    pub fn spawn_pruning(self: &Arc<Self>, interval: Duration) {
        let limits = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(interval).await;
                match limits.upgrade() {
                    Some(limits) => limits.prune(),
                    None => return,
                }
            }
        });
    }
}

/// Keeps the decision for the response headers; a spent budget refuses the request.
pub fn spend(req: &Request, decision: Decision) -> Result<(), AppError> {
    if let Some(slot) = req.extensions().get::<DecisionSlot>() {
        slot.set(decision);
    }
    match decision.retry_after_secs {
        Some(retry) => Err(AppError::too_many_requests(decision.budget.name(), retry)),
        None => Ok(()),
    }
}

/// A request's rate limiting: the budget it spends (set by the envelope, which sees the full
/// path; `None` on unlimited paths) and the decision, kept for the response headers.
#[derive(Debug, Clone, Default)]
pub struct DecisionSlot {
    budget: Option<Budget>,
    decision: Arc<Mutex<Option<Decision>>>,
}

impl DecisionSlot {
    /// The slot of a request with this method and full path.
    pub fn for_request(method: &Method, path: &str) -> Self {
        Self {
            budget: is_limited(path).then(|| Budget::of(method, path)),
            decision: Arc::default(),
        }
    }

    /// The budget an authenticated request spends; `None` when the path is not limited.
    pub fn budget(&self) -> Option<Budget> {
        self.budget
    }

    pub fn set(&self, decision: Decision) {
        *self.decision.lock().unwrap_or_else(|e| e.into_inner()) = Some(decision);
    }

    pub fn get(&self) -> Option<Decision> {
        *self.decision.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_by_method_and_path() {
        let id = "0192f0c4-0000-7000-8000-000000000001";
        let table = [
            (Method::GET, format!("/v1/children/{id}"), Budget::Reads),
            (
                Method::GET,
                format!("/v1/children/{id}/timeline"),
                Budget::Lists,
            ),
            (Method::GET, "/v1/children".to_owned(), Budget::Lists),
            (
                Method::GET,
                "/v1/access-log/verification".to_owned(),
                Budget::Lists,
            ),
            (Method::GET, "/v1/events".to_owned(), Budget::Lists),
            (Method::HEAD, format!("/v1/signals/{id}"), Budget::Reads),
            (Method::POST, "/v1/children".to_owned(), Budget::Writes),
            (Method::PATCH, format!("/v1/children/{id}"), Budget::Writes),
            (
                Method::DELETE,
                format!("/v1/webhook-subscriptions/{id}"),
                Budget::Writes,
            ),
        ];
        for (method, path, budget) in table {
            assert_eq!(Budget::of(&method, &path), budget, "{method} {path}");
        }
        for open in [
            "/v1/health/ready",
            "/v1/openapi.json",
            "/v1/reference/signal-categories",
            "/docs",
            "/",
        ] {
            assert!(!is_limited(open), "{open}");
        }
        assert!(is_limited("/v1/children"));
    }

    #[test]
    fn a_bucket_allows_its_quota_then_refuses_with_a_retry_time() {
        let limits = RateLimits::new(RateLimitConfig {
            writes_per_minute: 3,
            ..RateLimitConfig::default()
        });
        let key = (Uuid::nil(), "ib-fatima".to_owned());
        let decisions: Vec<Decision> = (0..4)
            .map(|_| limits.check_principal(Budget::Writes, &key))
            .collect();
        assert_eq!(
            decisions.iter().map(|d| d.remaining).collect::<Vec<_>>(),
            [2, 1, 0, 0]
        );
        assert!(decisions[..3].iter().all(Decision::allowed));
        let refused = decisions[3];
        assert_eq!(refused.retry_after_secs, Some(20), "one cell per 20 s");
        assert_eq!(refused.policy_header(), "\"writes\";q=3;w=60");
        assert_eq!(refused.state_header(), "\"writes\";r=0;t=60");
        // Budgets and principals are separate buckets.
        assert!(limits.check_principal(Budget::Reads, &key).allowed());
        assert!(
            limits
                .check_principal(Budget::Writes, &(Uuid::nil(), "other".into()))
                .allowed()
        );
        assert!(limits.check_address(IpAddr::from([192, 0, 2, 1])).allowed());
    }

    #[test]
    fn an_ipv6_client_is_one_client_per_64() {
        let limits = RateLimits::new(RateLimitConfig {
            anonymous_per_minute: 2,
            ..RateLimitConfig::default()
        });
        let address = |last: &str| format!("2001:db8:1:2::{last}").parse::<IpAddr>().unwrap();
        assert!(limits.check_address(address("1")).allowed());
        assert!(limits.check_address(address("2")).allowed());
        assert!(
            !limits.check_address(address("3")).allowed(),
            "the same /64"
        );
        assert!(
            limits
                .check_address("2001:db8:1:3::1".parse().unwrap())
                .allowed()
        );
        assert!(limits.check_address(IpAddr::from([192, 0, 2, 1])).allowed());
        assert!(limits.check_address(IpAddr::from([192, 0, 2, 2])).allowed());
    }
}
