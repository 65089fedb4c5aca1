//! A child's chronology: entries written with each change, read newest first.

use chrono::{DateTime, Utc};
use diesel::{prelude::*, sql_types};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::{
    auth::policy::TimelineScope,
    db::schema::timeline_entries,
    domain::timeline::Visibility,
    effects::{EFFECTS_CTES, EffectRows},
};

/// An entry to write; the actor comes from the principal making the change.
#[derive(Debug, Clone)]
pub struct TimelineEntry {
    pub organisation_id: Uuid,
    pub child_id: Uuid,
    pub entry_type: &'static str,
    pub resource_type: &'static str,
    pub resource_id: Uuid,
    /// A short description without free text about the child.
    pub summary: String,
    pub visibility: Visibility,
}

#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = timeline_entries, check_for_backend(diesel::pg::Pg))]
pub struct StoredEntry {
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub entry_type: String,
    pub resource_type: String,
    pub resource_id: Uuid,
    pub actor_sub: String,
    pub actor_name: String,
    pub summary: String,
}

/// A page of a child's timeline of `organisation` in the scope, newest first, before
/// `(occurred_at, id)`; `effects` (the read's access-log entry) written if the child is found.
/// None when it is not. One statement — the hot path of reading a timeline: one round trip,
/// with its log entry in the same (single-statement) transaction.
pub async fn read_page(
    conn: &mut AsyncPgConnection,
    organisation: Uuid,
    child_id: Uuid,
    scope: &TimelineScope,
    before: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
    effects: &EffectRows,
) -> QueryResult<Option<Vec<StoredEntry>>> {
    // One text for every scope and page, so it stays prepared: a NULL `sub` is the whole
    // organisation's view, and the first page starts before (infinity, the largest id).
    let own_entries_of = match scope {
        TimelineScope::All => None,
        TimelineScope::OwnEntries { sub } => Some(sub.as_str()),
    };
    let rows: Vec<(Uuid, Option<StoredEntry>)> = effects
        .statement::<(sql_types::Uuid, sql_types::Nullable<EntryColumns>)>()
        .sql("child AS (SELECT id FROM children WHERE id = ")
        .bind::<sql_types::Uuid, _>(child_id)
        .sql(" AND organisation_id = ")
        .bind::<sql_types::Uuid, _>(organisation)
        .sql(" AND purged_at IS NULL), gate AS (SELECT FROM child), ")
        .sql(EFFECTS_CTES)
        .sql(
            ", page AS (
    SELECT t.id, t.occurred_at, t.entry_type, t.resource_type, t.resource_id, t.actor_sub,
           t.actor_name, t.summary
      FROM timeline_entries t
     -- The child's id itself, not a join with `child`: so the planner walks the index in
     -- timeline order and stops at the page's end, however long the timeline.
     WHERE t.child_id = ",
        )
        .bind::<sql_types::Uuid, _>(child_id)
        .sql(
            " AND EXISTS (SELECT FROM child)
       AND (t.occurred_at, t.id) < (coalesce(",
        )
        .bind::<sql_types::Nullable<sql_types::Timestamptz>, _>(before.map(|(at, _)| at))
        .sql(", 'infinity'), coalesce(")
        .bind::<sql_types::Nullable<sql_types::Uuid>, _>(before.map(|(_, id)| id))
        .sql(", 'ffffffff-ffff-ffff-ffff-ffffffffffff'))
       AND (")
        .bind::<sql_types::Nullable<sql_types::Text>, _>(own_entries_of)
        .sql("::text IS NULL OR t.visibility = 'organisation' OR t.actor_sub = ")
        .bind::<sql_types::Nullable<sql_types::Text>, _>(own_entries_of)
        .sql(" OR (t.visibility = 'case' AND EXISTS (SELECT FROM signals s WHERE s.child_id = t.child_id AND s.recorded_by_sub = ")
        .bind::<sql_types::Nullable<sql_types::Text>, _>(own_entries_of)
        .sql(
            ")))
     ORDER BY t.occurred_at DESC, t.id DESC
     LIMIT ",
        )
        .bind::<sql_types::BigInt, _>(limit)
        .sql(
            ")
SELECT child.id, page.* FROM child LEFT JOIN page ON true
 ORDER BY page.occurred_at DESC, page.id DESC",
        )
        .load(conn)
        .await?;
    if rows.is_empty() {
        return Ok(None);
    }
    Ok(Some(
        rows.into_iter().filter_map(|(_, entry)| entry).collect(),
    ))
}

type EntryColumns = (
    sql_types::Uuid,
    sql_types::Timestamptz,
    sql_types::Text,
    sql_types::Text,
    sql_types::Uuid,
    sql_types::Text,
    sql_types::Text,
    sql_types::Text,
);
