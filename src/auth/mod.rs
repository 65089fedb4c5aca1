//! Who is calling: bearer-token authentication yielding a [`Principal`], and the policy module
//! that decides what the principal may do.

pub mod jwt;
pub mod policy;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use poem::Request;
use poem_openapi::{SecurityScheme, auth::Bearer};
use uuid::Uuid;

use crate::{
    AppState,
    db::{self, Pool},
    domain::organisation::{OrganisationRef, Role},
    error::AppError,
    ratelimit::{DecisionSlot, spend},
};
use jwt::TokenVerifier;

/// The caller as the server sees it, after the token and its organisation were checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The professional (`sub`).
    pub sub: String,
    /// Display name (`name`, or `sub` when absent).
    pub name: String,
    pub organisation: OrganisationRef,
    pub roles: Vec<Role>,
    /// The machine client acting for the professional (RFC 8693 `act.sub`), e.g. a school
    /// administration system.
    pub acting_client: Option<String>,
}

impl Principal {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    pub fn has_any(&self, roles: &[Role]) -> bool {
        roles.iter().any(|role| self.has(*role))
    }

    pub fn org_id(&self) -> Uuid {
        self.organisation.id
    }
}

/// The authenticated caller of a request, noted when the token is accepted: the request's log
/// line names them, and a refusal is logged in their organisation's access log.
#[derive(Debug, Clone, Default)]
pub struct Caller(Arc<Mutex<Option<Principal>>>);

impl Caller {
    pub fn set(&self, principal: &Principal) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(principal.clone());
    }

    pub fn get(&self) -> Option<Principal> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Bearer JWT. The checker verifies the token, then its organisation and roles.
#[derive(SecurityScheme)]
#[oai(
    ty = "bearer",
    bearer_format = "JWT",
    checker = "authenticate_request",
    rename = "bearerAuth"
)]
pub struct BearerAuth(pub Principal);

async fn authenticate_request(req: &Request, bearer: Bearer) -> poem::Result<Principal> {
    let state = req
        .data::<Arc<AppState>>()
        .ok_or_else(|| AppError::internal("application state missing from the request"))?;
    // The envelope, which sees the full path, decided which budget the request spends.
    let slot = req.extensions().get::<DecisionSlot>();
    let budget = slot.and_then(DecisionSlot::budget);
    let principal = match state.authenticator.authenticate(&bearer.token).await {
        Ok(principal) => principal,
        // A request with a token that is not valid is anonymous: it spends its address's budget.
        Err(refusal) => {
            if budget.is_some()
                && let Some(address) = req.remote_addr().as_socket_addr()
            {
                spend(req, state.rate_limits.check_address(address.ip()))?;
            }
            return Err(refusal.into());
        }
    };
    if let Some(caller) = req.extensions().get::<Caller>() {
        caller.set(&principal);
    }
    if let Some(budget) = budget {
        let key = (principal.org_id(), principal.sub.clone());
        spend(req, state.rate_limits.check_principal(budget, &key))?;
    }
    Ok(principal)
}

/// How long an organisation's kind and active flag are trusted before they are read again.
/// A deactivation through this replica applies at once; on other replicas within this time.
pub const ORGANISATION_CACHE_TTL: Duration = Duration::from_secs(30);

pub struct Authenticator {
    verifier: TokenVerifier,
    organisations: OrganisationCache,
    pool: Pool,
}

impl Authenticator {
    pub fn new(verifier: TokenVerifier, pool: Pool) -> Self {
        Self {
            verifier,
            organisations: OrganisationCache::default(),
            pool,
        }
    }

    pub async fn authenticate(&self, token: &str) -> Result<Principal, AppError> {
        let claims = self
            .verifier
            .verify(token)
            .map_err(|err| AppError::unauthorized(err.to_string()))?;
        // PostgreSQL cannot store a NUL character: a token carrying one is unusable here.
        let texts = [("sub", Some(&claims.sub)), ("name", claims.name.as_ref())]
            .into_iter()
            .chain([("act.sub", claims.act.as_ref().map(|act| &act.sub))])
            .chain(claims.roles.iter().map(|role| ("roles", Some(role))));
        for (claim, value) in texts {
            if value.is_some_and(|v| v.contains('\0')) {
                return Err(AppError::invalid_param(
                    format!("Authorization (token claim `{claim}`)"),
                    "must not contain a NUL character",
                ));
            }
        }
        let organisation = self
            .organisation(claims.org)
            .await?
            .filter(|org| org.active)
            .ok_or_else(|| {
                AppError::unauthorized("the token's organisation is unknown or inactive")
            })?;
        let mut roles = Vec::with_capacity(claims.roles.len());
        for raw in &claims.roles {
            let role: Role = raw.parse().map_err(AppError::forbidden)?;
            if !role.fits(organisation.kind) {
                return Err(AppError::forbidden(format!(
                    "the role `{role}` does not fit an organisation of kind `{}`",
                    organisation.kind
                )));
            }
            if !roles.contains(&role) {
                roles.push(role);
            }
        }
        Ok(Principal {
            name: claims
                .name
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| claims.sub.clone()),
            sub: claims.sub,
            organisation,
            roles,
            acting_client: claims.act.map(|act| act.sub),
        })
    }

    async fn organisation(&self, id: Uuid) -> Result<Option<OrganisationRef>, AppError> {
        if let Some(hit) = self.organisations.get(id) {
            return Ok(hit);
        }
        let mut conn = self.pool.get().await?;
        let found = db::organisations::find(&mut conn, id)
            .await?
            .map(|org| org.to_ref());
        self.organisations.put(id, found.clone());
        Ok(found)
    }

    /// Drops a cached organisation after it changed (e.g. was deactivated).
    pub fn forget_organisation(&self, id: Uuid) {
        self.organisations.forget(id);
    }
}

/// A small TTL cache. Entries exist only for organisations named in validly signed tokens, so
/// its size is bounded by the number of organisations.
#[derive(Default)]
struct OrganisationCache {
    entries: Mutex<HashMap<Uuid, (Instant, Option<OrganisationRef>)>>,
}

impl OrganisationCache {
    fn get(&self, id: Uuid) -> Option<Option<OrganisationRef>> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(&id)
            .filter(|(at, _)| at.elapsed() < ORGANISATION_CACHE_TTL)
            .map(|(_, org)| org.clone())
    }

    fn put(&self, id: Uuid, org: Option<OrganisationRef>) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.insert(id, (Instant::now(), org));
    }

    fn forget(&self, id: Uuid) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.remove(&id);
    }
}
