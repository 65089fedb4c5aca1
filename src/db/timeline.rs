//! A child's chronology: entries written with each change, read newest first.

use chrono::{DateTime, Utc};
use diesel::{prelude::*, sql_types};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::{
    auth::{Principal, policy::TimelineScope},
    db::schema::{signals, timeline_entries},
    domain::timeline::Visibility,
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

pub async fn record(
    conn: &mut AsyncPgConnection,
    actor: &Principal,
    entries: &[TimelineEntry],
) -> QueryResult<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let rows: Vec<_> = entries
        .iter()
        .map(|entry| {
            (
                timeline_entries::id.eq(Uuid::now_v7()),
                timeline_entries::organisation_id.eq(entry.organisation_id),
                timeline_entries::child_id.eq(entry.child_id),
                timeline_entries::entry_type.eq(entry.entry_type),
                timeline_entries::resource_type.eq(entry.resource_type),
                timeline_entries::resource_id.eq(entry.resource_id),
                timeline_entries::actor_sub.eq(&actor.sub),
                timeline_entries::actor_name.eq(&actor.name),
                timeline_entries::summary.eq(&entry.summary),
                timeline_entries::visibility.eq(entry.visibility.as_str()),
            )
        })
        .collect();
    diesel::insert_into(timeline_entries::table)
        .values(&rows)
        .execute(conn)
        .await?;
    Ok(())
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

/// A page of a child's timeline, newest first, after `(occurred_at, id)`.
pub async fn list(
    conn: &mut AsyncPgConnection,
    child_id: Uuid,
    scope: &TimelineScope,
    before: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<StoredEntry>> {
    let mut query = timeline_entries::table
        .filter(timeline_entries::child_id.eq(child_id))
        .select(StoredEntry::as_select())
        .into_boxed();
    if let TimelineScope::OwnEntries { sub } = scope {
        let recorded_a_signal = diesel::dsl::exists(
            signals::table
                .filter(signals::child_id.eq(timeline_entries::child_id))
                .filter(signals::recorded_by_sub.eq(sub.clone())),
        );
        query = query.filter(
            timeline_entries::visibility
                .eq(Visibility::Organisation.as_str())
                .or(timeline_entries::actor_sub.eq(sub.clone()))
                .or(timeline_entries::visibility
                    .eq(Visibility::Case.as_str())
                    .and(recorded_a_signal)),
        );
    }
    if let Some((at, id)) = before {
        query = query.filter(
            diesel::dsl::sql::<sql_types::Bool>(
                "(timeline_entries.occurred_at, timeline_entries.id) < (",
            )
            .bind::<sql_types::Timestamptz, _>(at)
            .sql(", ")
            .bind::<sql_types::Uuid, _>(id)
            .sql(")"),
        );
    }
    query
        .order((
            timeline_entries::occurred_at.desc(),
            timeline_entries::id.desc(),
        ))
        .limit(limit)
        .load(conn)
        .await
}
