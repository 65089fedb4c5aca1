//! The event feed: an organisation's events in commit-safe order.
//!
//! Events are paged by (transaction id, id) and only from transactions older than every running
//! one (`pg_snapshot_xmin`): an event whose transaction commits late is never skipped by a
//! cursor that already moved past a later id.

use chrono::{DateTime, Utc};
use diesel::{
    OptionalExtension, QueryableByName,
    sql_types::{Array, BigInt, Nullable, Text, Timestamptz, Uuid as SqlUuid},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::auth::policy::EventScope;

/// The feed's horizon, as SQL on `events` aliased `e`: only events of transactions older than
/// every running one, so a cursor never moves past an event still to commit.
pub const COMMITTED_HORIZON: &str =
    "e.tx_id < pg_snapshot_xmin(pg_current_snapshot())::text::bigint";

#[derive(QueryableByName, Debug, Clone, PartialEq, Eq)]
pub struct FeedEvent {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = BigInt)]
    pub tx_id: i64,
    #[diesel(sql_type = Text)]
    pub event_type: String,
    #[diesel(sql_type = Text)]
    pub resource_type: String,
    #[diesel(sql_type = SqlUuid)]
    pub resource_id: Uuid,
    #[diesel(sql_type = Timestamptz)]
    pub occurred_at: DateTime<Utc>,
}

/// Teachers see events about their own signals, and the cases and school-staff guidance of the
/// children they recorded signals about. Each check is a scalar subquery looked up per event by
/// its key, not an `EXISTS`: PostgreSQL may run an `EXISTS` under `OR` as a hash of every
/// signal the teacher ever recorded, which grows with the table; a page needs only its own.
const SIGNALLER_SCOPE: &str = "
    AND ($5::text IS NULL
      OR e.resource_type NOT IN ('signal', 'case', 'feedback')
      OR (e.resource_type = 'signal' AND coalesce((
            SELECT s.recorded_by_sub = $5 FROM signals s WHERE s.id = e.resource_id), false))
      OR (e.resource_type = 'case' AND coalesce((
            SELECT true FROM cases c JOIN signals s ON s.child_id = c.child_id
             WHERE c.id = e.resource_id AND s.recorded_by_sub = $5 LIMIT 1), false))
      OR (e.resource_type = 'feedback' AND coalesce((
            SELECT true FROM feedback f
              JOIN handoffs h ON h.id = f.handoff_id
              JOIN signals s ON s.child_id = h.child_id
             WHERE f.id = e.resource_id AND f.audience = 'school_staff'
               AND f.category = 'guidance_for_school' AND s.recorded_by_sub = $5
             LIMIT 1), false)))";

/// A page of the organisation's events in the scope, oldest first, after `(tx_id, id)`.
pub async fn feed(
    conn: &mut AsyncPgConnection,
    organisation: Uuid,
    scope: &EventScope,
    types: Option<&[String]>,
    after: (i64, i64),
    limit: i64,
) -> diesel::QueryResult<Vec<FeedEvent>> {
    let query = format!(
        "SELECT e.id, e.tx_id, e.event_type, e.resource_type, e.resource_id, e.occurred_at
           FROM events e
          WHERE e.organisation_id = $1
            AND e.resource_type = ANY($2)
            AND ($3::text[] IS NULL OR e.event_type = ANY($3))
            AND (e.tx_id, e.id) > ($4, $6)
            AND {COMMITTED_HORIZON}
            {SIGNALLER_SCOPE}
          ORDER BY e.tx_id, e.id
          LIMIT $7"
    );
    let resource_types: Vec<String> = scope.resource_types.iter().map(|t| t.to_string()).collect();
    diesel::sql_query(query)
        .bind::<SqlUuid, _>(organisation)
        .bind::<Array<Text>, _>(resource_types)
        .bind::<Nullable<Array<Text>>, _>(types.map(|t| t.to_vec()))
        .bind::<BigInt, _>(after.0)
        .bind::<Nullable<Text>, _>(scope.signaller.clone())
        .bind::<BigInt, _>(after.1)
        .bind::<BigInt, _>(limit)
        .load(conn)
        .await
}

/// The feed position of the organisation's newest event: where a new subscription starts.
pub async fn head(
    conn: &mut AsyncPgConnection,
    organisation: Uuid,
) -> diesel::QueryResult<(i64, i64)> {
    #[derive(QueryableByName)]
    struct Head {
        #[diesel(sql_type = BigInt)]
        tx_id: i64,
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let head: Option<Head> = diesel::sql_query(
        "SELECT tx_id, id FROM events WHERE organisation_id = $1 ORDER BY tx_id DESC, id DESC LIMIT 1",
    )
    .bind::<SqlUuid, _>(organisation)
    .get_result(conn)
    .await
    .optional()?;
    Ok(head.map(|h| (h.tx_id, h.id)).unwrap_or((0, 0)))
}
