//! What a change leaves behind, written in the change's own transaction: access-log entries,
//! outbox events and entries on the child's timeline. Handlers collect them and write them once,
//! so no write path can forget one of the three.
//!
//! They are written by one SQL statement whatever their number — one round trip, and one
//! prepared statement the connection keeps — with the rows passed as three JSON arrays. A hot
//! path can put the same statement's parts ([`EFFECTS_CTES`]) into its own statement, so that
//! the data and everything that records it are one statement: atomic without a `BEGIN` and a
//! `COMMIT` of their own.

use diesel::{
    QueryResult,
    pg::Pg,
    query_builder::QueryFragment,
    sql_types::{Integer, Jsonb},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use uuid::Uuid;

use crate::{
    audit::{self, Access, Actor},
    db::{
        statement::{Statement, statement},
        timeline::TimelineEntry,
    },
    events::Event,
};

/// The access-log part of the effects' CTEs, with the expression for each entry's resource and
/// what more to select from (so that one template entry can be written for many rows).
macro_rules! logged_cte {
    ($resource_id:literal, $from:literal) => {
        concat!(
            "
logged AS (
    INSERT INTO access_log (actor_sub, actor_name, acting_client, organisation_id, roles, action,
                            resource_type, resource_id, child_id, legal_basis, consent_id,
                            outcome, request_id, client_address, recipient_organisation_id,
                            trace_id, filters)
    SELECT e.actor_sub, e.actor_name, e.acting_client, e.organisation_id, e.roles, e.action,
           e.resource_type, ",
            $resource_id,
            ", e.child_id, e.legal_basis, e.consent_id, e.outcome,
           e.request_id, e.client_address, e.recipient_organisation_id, e.trace_id, e.filters
      FROM effects, jsonb_to_recordset(effects.access) AS e(actor_sub text, actor_name text,
           acting_client text, organisation_id uuid, roles text[], action text,
           resource_type text, resource_id uuid, child_id uuid, legal_basis text,
           consent_id uuid, outcome text, request_id text, client_address text,
           recipient_organisation_id uuid, trace_id text, filters text)",
            $from,
            "
     WHERE EXISTS (SELECT FROM gate)
),"
        )
    };
}

/// The events and timeline parts of the effects' CTEs.
macro_rules! emitted_and_charted_ctes {
    () => {
        " emitted AS (
    INSERT INTO events (event_type, organisation_id, resource_type, resource_id)
    SELECT e.event_type, e.organisation_id, e.resource_type, e.resource_id
      FROM effects, jsonb_to_recordset(effects.events) AS e(event_type text,
           organisation_id uuid, resource_type text, resource_id uuid)
     WHERE EXISTS (SELECT FROM gate)
), charted AS (
    INSERT INTO timeline_entries (id, organisation_id, child_id, entry_type, resource_type,
                                  resource_id, actor_sub, actor_name, summary, visibility)
    SELECT e.id, e.organisation_id, e.child_id, e.entry_type, e.resource_type, e.resource_id,
           e.actor_sub, e.actor_name, e.summary, e.visibility
      FROM effects, jsonb_to_recordset(effects.timeline) AS e(id uuid, organisation_id uuid,
           child_id uuid, entry_type text, resource_type text, resource_id uuid,
           actor_sub text, actor_name text, summary text, visibility text)
     WHERE EXISTS (SELECT FROM gate)
)"
    };
}

/// The common table expressions that write a change's effects, from the JSON arrays of rows in
/// the CTE `effects` that [`EffectRows::statement`] starts a statement with — and only if the
/// statement's own CTE named `gate` has a row (the record they concern exists, or was just
/// written). A statement's own CTEs go between the two.
pub const EFFECTS_CTES: &str = concat!(
    logged_cte!("e.resource_id", ""),
    emitted_and_charted_ctes!()
);

/// As [`EFFECTS_CTES`], for a read of many records: each access-log entry is written once for
/// every row of the statement's CTE `each_row`, with the row's `id` as its resource.
pub const EFFECTS_FOR_EACH_ROW_CTES: &str = concat!(
    logged_cte!("each_row.id", ", each_row"),
    emitted_and_charted_ctes!()
);

#[derive(Default)]
#[must_use = "effects do nothing until written"]
pub struct Effects {
    accesses: Vec<Access>,
    events: Vec<Event>,
    timeline: Vec<TimelineEntry>,
}

impl Effects {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn access(mut self, access: Access) -> Self {
        self.accesses.push(access);
        self
    }

    pub fn accesses(mut self, accesses: impl IntoIterator<Item = Access>) -> Self {
        self.accesses.extend(accesses);
        self
    }

    pub fn event(mut self, event: Event) -> Self {
        self.events.push(event);
        self
    }

    pub fn timeline(mut self, entry: TimelineEntry) -> Self {
        self.timeline.push(entry);
        self
    }

    /// Both sets of effects.
    pub fn merge(mut self, other: Effects) -> Self {
        self.accesses.extend(other.accesses);
        self.events.extend(other.events);
        self.timeline.extend(other.timeline);
        self
    }

    fn is_empty(&self) -> bool {
        self.accesses.is_empty() && self.events.is_empty() && self.timeline.is_empty()
    }

    /// Writes everything, in one statement; call it inside the transaction of the change.
    pub async fn write(self, conn: &mut AsyncPgConnection, actor: Actor<'_>) -> QueryResult<()> {
        if self.is_empty() {
            return Ok(());
        }
        let rows = self.rows(actor);
        rows.statement::<Integer>()
            .sql("gate AS (SELECT 1), ")
            .sql(EFFECTS_CTES)
            .sql(" SELECT 1")
            .execute(conn)
            .await?;
        rows.written(actor);
        Ok(())
    }

    /// The rows to bind into a statement that holds [`EFFECTS_CTES`] (or [`EFFECTS_FOR_EACH_ROW_CTES`]).
    pub fn rows(self, actor: Actor<'_>) -> EffectRows {
        let principal = actor.principal;
        let events: Vec<EventRow<'_>> = self
            .events
            .iter()
            .map(|event| EventRow {
                event_type: event.event_type.as_str(),
                organisation_id: event.audience,
                resource_type: event.resource_type,
                resource_id: event.resource_id,
            })
            .collect();
        let timeline: Vec<TimelineRow<'_>> = self
            .timeline
            .iter()
            .map(|entry| TimelineRow {
                id: Uuid::now_v7(),
                organisation_id: entry.organisation_id,
                child_id: entry.child_id,
                entry_type: entry.entry_type,
                resource_type: entry.resource_type,
                resource_id: entry.resource_id,
                actor_sub: &principal.sub,
                actor_name: &principal.name,
                summary: &entry.summary,
                visibility: entry.visibility.as_str(),
            })
            .collect();
        EffectRows {
            access: json(&audit::entries(actor, &self.accesses)),
            events: json(&events),
            timeline: json(&timeline),
            accesses: self.accesses,
        }
    }
}

/// A change's effects as the three JSON arrays [`EFFECTS_CTES`] reads.
pub struct EffectRows {
    access: serde_json::Value,
    events: serde_json::Value,
    timeline: serde_json::Value,
    accesses: Vec<Access>,
}

impl EffectRows {
    /// Starts a statement returning `ST` with the CTE `effects` holding the rows; go on with
    /// the statement's own CTEs (one named `gate`), then [`EFFECTS_CTES`], then its `SELECT`.
    pub fn statement<ST>(&self) -> Statement<ST, impl QueryFragment<Pg> + Send + '_> {
        statement::<ST>("WITH effects AS (SELECT ")
            .bind::<Jsonb, _>(&self.access)
            .sql("::jsonb AS access, ")
            .bind::<Jsonb, _>(&self.events)
            .sql("::jsonb AS events, ")
            .bind::<Jsonb, _>(&self.timeline)
            .sql("::jsonb AS timeline), ")
    }

    /// Notes, once the statement committed, what the request accessed (an idempotent replay
    /// reads the same records again).
    pub fn written(&self, actor: Actor<'_>) {
        actor.request.accessed.note(&self.accesses);
    }
}

#[derive(Serialize)]
struct EventRow<'a> {
    event_type: &'a str,
    organisation_id: Uuid,
    resource_type: &'a str,
    resource_id: Uuid,
}

#[derive(Serialize)]
struct TimelineRow<'a> {
    id: Uuid,
    organisation_id: Uuid,
    child_id: Uuid,
    entry_type: &'a str,
    resource_type: &'a str,
    resource_id: Uuid,
    actor_sub: &'a str,
    actor_name: &'a str,
    summary: &'a str,
    visibility: &'a str,
}

fn json(rows: &impl Serialize) -> serde_json::Value {
    // Rows of strings, ids and arrays of strings always serialise.
    serde_json::to_value(rows).expect("effect rows serialise to JSON")
}
