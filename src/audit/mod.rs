//! The access log (NEN 7513 style): who did what to which record of which child, on which legal
//! basis, with what outcome.
//!
//! Entries are written by [`record`] inside the transaction of the data they concern, so there is
//! no access without its entry. The table is append-only (a trigger refuses UPDATE, DELETE and
//! TRUNCATE; the runtime role may only INSERT and SELECT). Tamper evidence: a background sealer
//! chains batches of committed entries ([`seal`]) and signs each seal with a key the database
//! never sees ([`keys`]); a signed [`checkpoint`] published outside the database anchors the
//! chain against truncation; [`verify`] recomputes it all. Requests never wait for each other to
//! extend the chain.

pub mod checkpoint;
pub mod keys;
pub mod seal;
pub mod verify;

pub use checkpoint::Checkpoint;
pub use keys::{AuditKeys, SealSigner, SealVerifiers};
pub use seal::{GENESIS_HASH, SEAL_BATCH, run_sealer, seal_all, seal_and_publish, seal_pending};
pub use verify::{Finding, FindingKind, Verification, verify};

use std::sync::{Arc, Mutex};

use chrono::{DateTime, SecondsFormat, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{
    auth::Principal,
    db::schema::{access_log, feedback, handoffs},
};

/// The request an access happens in: its id (X-Request-Id) and the client's address.
#[derive(Debug, Clone)]
pub struct RequestMeta {
    pub request_id: String,
    pub client_address: Option<String>,
    /// The records this request logged access to.
    pub accessed: AccessTrail,
    /// The W3C trace id (`traceparent`) the request belongs to.
    pub trace_id: Option<String>,
}

impl RequestMeta {
    pub fn new(request_id: impl Into<String>, client_address: Option<String>) -> Self {
        Self {
            request_id: request_id.into(),
            client_address,
            accessed: AccessTrail::default(),
            trace_id: None,
        }
    }

    pub fn with_trace(mut self, trace_id: impl Into<String>) -> Self {
        self.trace_id = Some(trace_id.into());
        self
    }
}

/// A record a request accessed: what an idempotent replay of the request reads again.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Accessed {
    #[serde(rename = "type")]
    pub resource_type: String,
    pub id: Option<Uuid>,
    pub child: Option<Uuid>,
}

/// The records a request logged access to, in order, each once.
#[derive(Debug, Clone, Default)]
pub struct AccessTrail(Arc<Mutex<Vec<Accessed>>>);

impl AccessTrail {
    pub(crate) fn note(&self, accesses: &[Access]) {
        let mut trail = self.0.lock().unwrap_or_else(|e| e.into_inner());
        for access in accesses.iter().filter(|a| a.outcome == Outcome::Allowed) {
            let accessed = Accessed {
                resource_type: access.resource_type.to_owned(),
                id: access.resource_id,
                child: access.child_id,
            };
            if !trail.contains(&accessed) {
                trail.push(accessed);
            }
        }
    }

    pub fn entries(&self) -> Vec<Accessed> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Who accesses: the principal, in a request.
#[derive(Clone, Copy)]
pub struct Actor<'a> {
    pub principal: &'a Principal,
    pub request: &'a RequestMeta,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessAction {
    Create,
    Read,
    Update,
    Export,
    /// Data crossed an organisation boundary (a handoff or feedback).
    Disclose,
    Purge,
}

impl AccessAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Read => "read",
            Self::Update => "update",
            Self::Export => "export",
            Self::Disclose => "disclose",
            Self::Purge => "purge",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Allowed,
    Denied,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allowed => "allowed",
            Self::Denied => "denied",
        }
    }
}

/// One access to log.
#[derive(Debug, Clone)]
pub struct Access {
    pub action: AccessAction,
    pub resource_type: &'static str,
    pub resource_id: Option<Uuid>,
    /// The child the record concerns, if any.
    pub child_id: Option<Uuid>,
    pub legal_basis: Option<String>,
    pub consent_id: Option<Uuid>,
    /// For a disclosure: the organisation the data went to.
    pub recipient: Option<Uuid>,
    pub outcome: Outcome,
    /// For a read of the access log itself: the filters it used.
    pub filters: Option<String>,
}

impl Access {
    pub fn allowed(action: AccessAction, resource_type: &'static str, resource_id: Uuid) -> Self {
        Self {
            resource_id: Some(resource_id),
            ..Self::unnamed(action, resource_type)
        }
    }

    /// An allowed access to something without an id of its own (the log's checkpoint, its
    /// verification).
    pub fn unnamed(action: AccessAction, resource_type: &'static str) -> Self {
        Self {
            action,
            resource_type,
            resource_id: None,
            child_id: None,
            legal_basis: None,
            consent_id: None,
            recipient: None,
            outcome: Outcome::Allowed,
            filters: None,
        }
    }

    /// A disclosure to another organisation.
    pub fn disclosed_to(mut self, recipient: Uuid) -> Self {
        self.recipient = Some(recipient);
        self
    }

    pub fn about_child(mut self, child_id: Uuid) -> Self {
        self.child_id = Some(child_id);
        self
    }

    /// A read of the access log, with the filters it used.
    pub fn with_filters(mut self, filter: &LogFilter) -> Self {
        self.filters = filter.canonical();
        self
    }

    pub fn with_basis(mut self, legal_basis: impl Into<String>, consent_id: Option<Uuid>) -> Self {
        self.legal_basis = Some(legal_basis.into());
        self.consent_id = consent_id;
        self
    }
}

/// An access-log row as written: the access, who made it, and in which request.
#[derive(Insertable, serde::Serialize)]
#[diesel(table_name = access_log)]
pub(crate) struct NewEntry<'a> {
    actor_sub: &'a str,
    actor_name: &'a str,
    acting_client: Option<&'a str>,
    organisation_id: Uuid,
    roles: Vec<Option<&'a str>>,
    action: &'a str,
    resource_type: &'a str,
    resource_id: Option<Uuid>,
    child_id: Option<Uuid>,
    legal_basis: Option<&'a str>,
    consent_id: Option<Uuid>,
    outcome: &'a str,
    request_id: &'a str,
    client_address: Option<&'a str>,
    recipient_organisation_id: Option<Uuid>,
    trace_id: Option<&'a str>,
    filters: Option<&'a str>,
}

/// The rows recording `accesses` by `actor`.
pub(crate) fn entries<'a>(actor: Actor<'a>, accesses: &'a [Access]) -> Vec<NewEntry<'a>> {
    let principal = actor.principal;
    accesses
        .iter()
        .map(|access| NewEntry {
            actor_sub: &principal.sub,
            actor_name: &principal.name,
            acting_client: principal.acting_client.as_deref(),
            organisation_id: principal.org_id(),
            roles: principal.roles.iter().map(|r| Some(r.as_str())).collect(),
            action: access.action.as_str(),
            resource_type: access.resource_type,
            resource_id: access.resource_id,
            child_id: access.child_id,
            legal_basis: access.legal_basis.as_deref(),
            consent_id: access.consent_id,
            outcome: access.outcome.as_str(),
            request_id: &actor.request.request_id,
            client_address: actor.request.client_address.as_deref(),
            recipient_organisation_id: access.recipient,
            trace_id: actor.request.trace_id.as_deref(),
            filters: access.filters.as_deref(),
        })
        .collect()
}

/// Writes entries; call it inside the transaction of the data the accesses concern. (A change's
/// entries are written with its other effects by [`crate::effects::Effects`]; this is for an
/// entry on its own, such as a refusal.)
pub async fn record(
    conn: &mut AsyncPgConnection,
    actor: Actor<'_>,
    accesses: &[Access],
) -> QueryResult<()> {
    if accesses.is_empty() {
        return Ok(());
    }
    diesel::insert_into(access_log::table)
        .values(&entries(actor, accesses))
        .execute(conn)
        .await?;
    actor.request.accessed.note(accesses);
    Ok(())
}

/// Logs an idempotent replay: the replayed response shows the records the first request
/// accessed, so the replay is a read of each of them.
pub async fn record_replay(
    conn: &mut AsyncPgConnection,
    actor: Actor<'_>,
    accessed: &[Accessed],
) -> QueryResult<()> {
    if accessed.is_empty() {
        return Ok(());
    }
    let principal = actor.principal;
    let rows: Vec<NewEntry<'_>> = accessed
        .iter()
        .map(|record| NewEntry {
            actor_sub: &principal.sub,
            actor_name: &principal.name,
            acting_client: principal.acting_client.as_deref(),
            organisation_id: principal.org_id(),
            roles: principal.roles.iter().map(|r| Some(r.as_str())).collect(),
            action: AccessAction::Read.as_str(),
            resource_type: &record.resource_type,
            resource_id: record.id,
            child_id: record.child,
            legal_basis: None,
            consent_id: None,
            outcome: Outcome::Allowed.as_str(),
            request_id: &actor.request.request_id,
            client_address: actor.request.client_address.as_deref(),
            recipient_organisation_id: None,
            trace_id: actor.request.trace_id.as_deref(),
            filters: None,
        })
        .collect();
    diesel::insert_into(access_log::table)
        .values(&rows)
        .execute(conn)
        .await?;
    Ok(())
}

/// What a privacy officer filters their organisation's log on.
#[derive(Debug, Default)]
pub struct LogFilter {
    pub child: Option<Uuid>,
    pub actor: Option<String>,
    pub resource: Option<Uuid>,
    /// Entries at or after this moment.
    pub from: Option<DateTime<Utc>>,
    /// Entries before this moment.
    pub until: Option<DateTime<Utc>>,
    /// With `child`: also the accesses to the handoffs and feedback about the child that were
    /// logged without it (e.g. reading an incoming report before the intake).
    pub through_handoffs: bool,
}

impl LogFilter {
    /// The filters as a canonical query string (fixed order), for the entry of the read; `None`
    /// when unfiltered.
    pub fn canonical(&self) -> Option<String> {
        let time = |t: &DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Micros, true);
        let mut query = form_urlencoded::Serializer::new(String::new());
        if let Some(child) = self.child {
            query.append_pair("childId", &child.to_string());
        }
        if let Some(actor) = &self.actor {
            query.append_pair("actor", actor);
        }
        if let Some(resource) = self.resource {
            query.append_pair("resourceId", &resource.to_string());
        }
        if let Some(from) = &self.from {
            query.append_pair("from", &time(from));
        }
        if let Some(until) = &self.until {
            query.append_pair("until", &time(until));
        }
        Some(query.finish()).filter(|q| !q.is_empty())
    }
}

/// A page of one organisation's entries (by its own professionals), newest first, before `before`.
pub async fn list(
    conn: &mut AsyncPgConnection,
    organisation: Uuid,
    filter: &LogFilter,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<Entry>> {
    let mut query = access_log::table
        .filter(access_log::organisation_id.eq(organisation))
        .select(Entry::as_select())
        .into_boxed();
    match filter.child {
        Some(child) if filter.through_handoffs => {
            // The organisation's handoffs about the child, on whichever side it stands.
            let about_child = handoffs::table
                .filter(
                    handoffs::from_organisation_id
                        .eq(organisation)
                        .and(handoffs::child_id.eq(child)),
                )
                .or_filter(
                    handoffs::to_organisation_id
                        .eq(organisation)
                        .and(handoffs::intake_child_id.eq(child)),
                )
                .select(handoffs::id);
            let its_feedback = feedback::table
                .filter(feedback::handoff_id.eq_any(about_child))
                .select(feedback::id);
            query = query.filter(
                access_log::child_id
                    .eq(child)
                    .or(access_log::resource_type
                        .eq("handoff")
                        .and(access_log::resource_id.eq_any(about_child.nullable())))
                    .or(access_log::resource_type
                        .eq("feedback")
                        .and(access_log::resource_id.eq_any(its_feedback.nullable()))),
            );
        }
        Some(child) => query = query.filter(access_log::child_id.eq(child)),
        None => {}
    }
    if let Some(actor) = &filter.actor {
        query = query.filter(access_log::actor_sub.eq(actor.clone()));
    }
    if let Some(resource) = filter.resource {
        query = query.filter(access_log::resource_id.eq(resource));
    }
    if let Some(from) = filter.from {
        query = query.filter(access_log::occurred_at.ge(from));
    }
    if let Some(until) = filter.until {
        query = query.filter(access_log::occurred_at.lt(until));
    }
    if let Some(before) = before {
        query = query.filter(access_log::id.lt(before));
    }
    query
        .order(access_log::id.desc())
        .limit(limit)
        .load(conn)
        .await
}

/// A stored entry, as the sealer and the verifier read it.
#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = access_log, check_for_backend(diesel::pg::Pg))]
pub struct Entry {
    pub id: i64,
    pub occurred_at: DateTime<Utc>,
    pub actor_sub: String,
    pub actor_name: String,
    pub acting_client: Option<String>,
    pub organisation_id: Uuid,
    pub roles: Vec<Option<String>>,
    pub action: String,
    pub resource_type: String,
    pub resource_id: Option<Uuid>,
    pub child_id: Option<Uuid>,
    pub legal_basis: Option<String>,
    pub consent_id: Option<Uuid>,
    pub outcome: String,
    pub request_id: String,
    pub client_address: Option<String>,
    pub recipient_organisation_id: Option<Uuid>,
    pub trace_id: Option<String>,
    pub filters: Option<String>,
}

impl Entry {
    /// SHA-256 over a canonical serialization of every column.
    pub fn digest(&self) -> String {
        let canonical = json!([
            self.id,
            self.occurred_at
                .to_rfc3339_opts(SecondsFormat::Micros, true),
            self.actor_sub,
            self.actor_name,
            self.acting_client,
            self.organisation_id,
            self.roles,
            self.action,
            self.resource_type,
            self.resource_id,
            self.child_id,
            self.legal_basis,
            self.consent_id,
            self.outcome,
            self.request_id,
            self.client_address,
            self.recipient_organisation_id,
        ]);
        // Columns added later join the digest only when set, so entries sealed before they
        // existed keep their digest.
        let mut canonical = canonical;
        if let Some(columns) = canonical.as_array_mut() {
            if let Some(trace_id) = &self.trace_id {
                columns.push(json!(trace_id));
            }
            if let Some(filters) = &self.filters {
                columns.push(json!({ "filters": filters }));
            }
        }
        hex_sha256(canonical.to_string().as_bytes())
    }
}

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
