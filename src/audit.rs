//! The access log (NEN 7513 style): who did what to which record of which child, on which legal
//! basis, with what outcome.
//!
//! Entries are written by [`record`] inside the transaction of the data they concern, so there is
//! no access without its entry. The table is append-only (a trigger refuses UPDATE, DELETE and
//! TRUNCATE). Tamper evidence comes from a background sealer that chains batches of committed
//! entries: each seal lists the entry ids it covers and hashes them together with the previous
//! seal. Requests never wait for each other to extend the chain. [`verify`] recomputes it all.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
    time::Duration,
};

use chrono::{DateTime, SecondsFormat, Utc};
use diesel::{
    prelude::*,
    sql_types::{BigInt, Bool},
};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::sync::watch;
use uuid::Uuid;

use crate::{
    auth::Principal,
    db::{
        Pool,
        schema::{access_log, access_log_seals, access_log_unsealed},
    },
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
    fn note(&self, accesses: &[Access]) {
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
}

impl Access {
    pub fn allowed(action: AccessAction, resource_type: &'static str, resource_id: Uuid) -> Self {
        Self {
            action,
            resource_type,
            resource_id: Some(resource_id),
            child_id: None,
            legal_basis: None,
            consent_id: None,
            recipient: None,
            outcome: Outcome::Allowed,
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

    pub fn with_basis(mut self, legal_basis: impl Into<String>, consent_id: Option<Uuid>) -> Self {
        self.legal_basis = Some(legal_basis.into());
        self.consent_id = consent_id;
        self
    }
}

#[derive(Insertable)]
#[diesel(table_name = access_log)]
struct NewEntry<'a> {
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
}

/// Writes entries; call it inside the transaction of the data the accesses concern.
pub async fn record(
    conn: &mut AsyncPgConnection,
    actor: Actor<'_>,
    accesses: &[Access],
) -> QueryResult<()> {
    if accesses.is_empty() {
        return Ok(());
    }
    let principal = actor.principal;
    let rows: Vec<NewEntry<'_>> = accesses
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
        })
        .collect();
    diesel::insert_into(access_log::table)
        .values(&rows)
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
    if let Some(child) = filter.child {
        query = query.filter(access_log::child_id.eq(child));
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
        if let (Some(trace_id), Some(columns)) = (&self.trace_id, canonical.as_array_mut()) {
            columns.push(json!(trace_id));
        }
        hex_sha256(canonical.to_string().as_bytes())
    }
}

/// The `prev_hash` of the first seal.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn seal_hash(prev_hash: &str, entries: &[Entry]) -> String {
    let mut input = String::with_capacity(65 + entries.len() * 65);
    input.push_str(prev_hash);
    for entry in entries {
        input.push('\n');
        input.push_str(&entry.digest());
    }
    hex_sha256(input.as_bytes())
}

#[derive(Queryable, Selectable, Debug)]
#[diesel(table_name = access_log_seals, check_for_backend(diesel::pg::Pg))]
struct Seal {
    id: i64,
    entry_ids: Vec<Option<i64>>,
    prev_hash: String,
    seal_hash: String,
}

#[derive(QueryableByName)]
struct EntryId {
    #[diesel(sql_type = BigInt)]
    entry_id: i64,
}

/// Key of the advisory lock that lets one sealer at a time extend the chain.
const SEAL_LOCK_KEY: i64 = 0x5343_4841_4b45_4c01; // "SCHAKEL\x01"

/// Entries per seal.
pub const SEAL_BATCH: i64 = 1000;

/// Seals up to `SEAL_BATCH` committed, unsealed entries. Returns how many were sealed (0 when
/// there was nothing to seal or another sealer holds the chain).
pub async fn seal_pending(conn: &mut AsyncPgConnection) -> QueryResult<usize> {
    conn.transaction::<_, diesel::result::Error, _>(async |conn| {
        let locked: bool = diesel::select(diesel::dsl::sql::<Bool>(&format!(
            "pg_try_advisory_xact_lock({SEAL_LOCK_KEY})"
        )))
        .get_result(conn)
        .await?;
        if !locked {
            return Ok(0);
        }
        let mut ids: Vec<i64> = diesel::sql_query(
            "DELETE FROM access_log_unsealed WHERE entry_id IN \
             (SELECT entry_id FROM access_log_unsealed ORDER BY entry_id LIMIT $1) \
             RETURNING entry_id",
        )
        .bind::<BigInt, _>(SEAL_BATCH)
        .load::<EntryId>(conn)
        .await?
        .into_iter()
        .map(|row| row.entry_id)
        .collect();
        if ids.is_empty() {
            return Ok(0);
        }
        ids.sort_unstable();
        let entries: Vec<Entry> = access_log::table
            .filter(access_log::id.eq_any(&ids))
            .order(access_log::id)
            .select(Entry::as_select())
            .load(conn)
            .await?;
        let prev_hash: String = access_log_seals::table
            .order(access_log_seals::id.desc())
            .select(access_log_seals::seal_hash)
            .first(conn)
            .await
            .optional()?
            .unwrap_or_else(|| GENESIS_HASH.to_owned());
        let hash = seal_hash(&prev_hash, &entries);
        let covered: Vec<Option<i64>> = entries.iter().map(|e| Some(e.id)).collect();
        diesel::insert_into(access_log_seals::table)
            .values((
                access_log_seals::entry_ids.eq(&covered),
                access_log_seals::prev_hash.eq(&prev_hash),
                access_log_seals::seal_hash.eq(&hash),
            ))
            .execute(conn)
            .await?;
        Ok(entries.len())
    })
    .await
}

/// Seals everything that is committed and unsealed now.
pub async fn seal_all(conn: &mut AsyncPgConnection) -> QueryResult<usize> {
    let mut total = 0;
    loop {
        let sealed = seal_pending(conn).await?;
        total += sealed;
        if sealed < SEAL_BATCH as usize {
            return Ok(total);
        }
    }
}

/// Runs the sealer every `interval` until `shutdown` flips.
pub async fn run_sealer(pool: Pool, interval: Duration, mut shutdown: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = shutdown.changed() => return,
        }
        let result = match pool.get().await {
            Ok(mut conn) => seal_all(&mut conn).await.map_err(|e| e.to_string()),
            Err(err) => Err(err.to_string()),
        };
        match result {
            Ok(0) => {}
            Ok(sealed) => tracing::debug!(sealed, "access log entries sealed"),
            Err(error) => tracing::warn!(%error, "sealing the access log failed; will retry"),
        }
    }
}

/// The outcome of [`verify`]: what was checked and every inconsistency found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Verification {
    pub seals: usize,
    pub sealed_entries: usize,
    pub queued_entries: usize,
    pub problems: Vec<String>,
}

impl Verification {
    pub fn is_intact(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Recomputes the seal chain and checks that every entry is sealed exactly once or still
/// queued for sealing.
pub async fn verify(conn: &mut AsyncPgConnection) -> QueryResult<Verification> {
    let mut report = Verification::default();
    let seals: Vec<Seal> = access_log_seals::table
        .order(access_log_seals::id)
        .select(Seal::as_select())
        .load(conn)
        .await?;
    let mut expected_prev = GENESIS_HASH.to_owned();
    let mut seen: HashSet<i64> = HashSet::new();
    for seal in &seals {
        if seal.prev_hash != expected_prev {
            report.problems.push(format!(
                "seal {} does not chain to the seal before it",
                seal.id
            ));
        }
        let ids: Vec<i64> = seal.entry_ids.iter().flatten().copied().collect();
        for id in &ids {
            if !seen.insert(*id) {
                report
                    .problems
                    .push(format!("entry {id} is sealed more than once"));
            }
        }
        let entries: Vec<Entry> = access_log::table
            .filter(access_log::id.eq_any(&ids))
            .order(access_log::id)
            .select(Entry::as_select())
            .load(conn)
            .await?;
        if entries.len() != ids.len() {
            let present: HashSet<i64> = entries.iter().map(|e| e.id).collect();
            for id in ids.iter().filter(|id| !present.contains(id)) {
                report
                    .problems
                    .push(format!("entry {id} of seal {} is missing", seal.id));
            }
        }
        if seal_hash(&seal.prev_hash, &entries) != seal.seal_hash {
            report.problems.push(format!(
                "seal {} does not match its entries: an entry was altered",
                seal.id
            ));
        }
        report.sealed_entries += entries.len();
        expected_prev = seal.seal_hash.clone();
    }
    report.seals = seals.len();

    let queued: Vec<i64> = access_log_unsealed::table
        .select(access_log_unsealed::entry_id)
        .load(conn)
        .await?;
    report.queued_entries = queued.len();
    for id in &queued {
        if seen.contains(id) {
            report
                .problems
                .push(format!("entry {id} is both sealed and queued"));
        }
    }
    let queued: HashSet<i64> = queued.into_iter().collect();
    let all_ids: Vec<i64> = access_log::table
        .select(access_log::id)
        .order(access_log::id)
        .load(conn)
        .await?;
    for id in all_ids {
        if !seen.contains(&id) && !queued.contains(&id) {
            report.problems.push(format!(
                "entry {id} is neither sealed nor queued for sealing"
            ));
        }
    }
    Ok(report)
}
