//! Webhook subscriptions and their deliveries, and the queue the delivery worker works from.
//!
//! Deliveries are fanned out from the event table per subscription (a cursor per subscription,
//! `ON CONFLICT DO NOTHING` on (subscription, event)) and claimed with `FOR UPDATE SKIP LOCKED`
//! and a lease, so any number of workers deliver every event once.

use chrono::{DateTime, Utc};
use diesel::{
    prelude::*,
    sql_types::{Array, BigInt, Int4, Nullable, Text, Timestamptz, Uuid as SqlUuid},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::{
    events::COMMITTED_HORIZON,
    schema::{webhook_deliveries, webhook_subscriptions},
};
use crate::domain::webhook::DeliveryStatus;

#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = webhook_subscriptions, check_for_backend(diesel::pg::Pg))]
pub struct Subscription {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub url: String,
    pub event_types: Vec<Option<String>>,
    pub description: Option<String>,
    pub secret: String,
    pub disabled_at: Option<DateTime<Utc>>,
    pub disabled_reason: Option<String>,
    pub consecutive_failures: i32,
    pub created_by_sub: String,
    pub created_at: DateTime<Utc>,
}

impl Subscription {
    /// Delivers events: not disabled after failures (deleted ones are never loaded).
    pub fn is_active(&self) -> bool {
        self.disabled_at.is_none()
    }

    pub fn event_types(&self) -> impl Iterator<Item = &str> {
        self.event_types.iter().flatten().map(String::as_str)
    }
}

pub struct NewSubscription<'a> {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub url: &'a str,
    pub event_types: Vec<String>,
    pub description: Option<&'a str>,
    pub secret: &'a str,
    pub cursor: (i64, i64),
    pub created_by_sub: &'a str,
}

pub async fn insert_subscription(
    conn: &mut AsyncPgConnection,
    new: NewSubscription<'_>,
) -> QueryResult<Subscription> {
    diesel::insert_into(webhook_subscriptions::table)
        .values((
            webhook_subscriptions::id.eq(new.id),
            webhook_subscriptions::organisation_id.eq(new.organisation_id),
            webhook_subscriptions::url.eq(new.url),
            webhook_subscriptions::event_types.eq(new
                .event_types
                .into_iter()
                .map(Some)
                .collect::<Vec<_>>()),
            webhook_subscriptions::description.eq(new.description),
            webhook_subscriptions::secret.eq(new.secret),
            webhook_subscriptions::cursor_tx.eq(new.cursor.0),
            webhook_subscriptions::cursor_id.eq(new.cursor.1),
            webhook_subscriptions::created_by_sub.eq(new.created_by_sub),
        ))
        .returning(Subscription::as_returning())
        .get_result(conn)
        .await
}

/// A subscription of the organisation that was not deleted; `lock` takes a row lock for a change.
pub async fn find_subscription(
    conn: &mut AsyncPgConnection,
    organisation: Uuid,
    id: Uuid,
    lock: bool,
) -> QueryResult<Option<Subscription>> {
    let query = webhook_subscriptions::table
        .filter(webhook_subscriptions::id.eq(id))
        .filter(webhook_subscriptions::organisation_id.eq(organisation))
        .filter(webhook_subscriptions::deleted_at.is_null())
        .select(Subscription::as_select());
    if lock {
        query.for_update().first(conn).await.optional()
    } else {
        query.first(conn).await.optional()
    }
}

/// The organisation's subscriptions, oldest first (ids are time-ordered), after `after`.
pub async fn list_subscriptions(
    conn: &mut AsyncPgConnection,
    organisation: Uuid,
    after: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<Subscription>> {
    let mut query = webhook_subscriptions::table
        .filter(webhook_subscriptions::organisation_id.eq(organisation))
        .filter(webhook_subscriptions::deleted_at.is_null())
        .select(Subscription::as_select())
        .order(webhook_subscriptions::id)
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(webhook_subscriptions::id.gt(after));
    }
    query.load(conn).await
}

/// Deletes a subscription: it stops at once; its delivery history is kept.
pub async fn delete_subscription(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<()> {
    diesel::update(webhook_subscriptions::table.find(id))
        .set(webhook_subscriptions::deleted_at.eq(diesel::dsl::now))
        .execute(conn)
        .await?;
    Ok(())
}

/// Turns a disabled subscription back on with a clean run of failures.
pub async fn reactivate(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<()> {
    diesel::update(webhook_subscriptions::table.find(id))
        .set((
            webhook_subscriptions::consecutive_failures.eq(0),
            webhook_subscriptions::disabled_at.eq(None::<DateTime<Utc>>),
            webhook_subscriptions::disabled_reason.eq(None::<String>),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = webhook_deliveries, check_for_backend(diesel::pg::Pg))]
pub struct Delivery {
    pub id: Uuid,
    pub subscription_id: Uuid,
    pub event_id: i64,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// A delivery with the type of its event.
pub type DeliveryRow = (Delivery, String);

/// A subscription's deliveries, newest event first, optionally of one status.
pub async fn list_deliveries(
    conn: &mut AsyncPgConnection,
    subscription: Uuid,
    status: Option<DeliveryStatus>,
    before_event: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<DeliveryRow>> {
    use crate::db::schema::events;
    let mut query = webhook_deliveries::table
        .inner_join(events::table)
        .filter(webhook_deliveries::subscription_id.eq(subscription))
        .select((Delivery::as_select(), events::event_type))
        .order(webhook_deliveries::event_id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(webhook_deliveries::status.eq(status));
    }
    if let Some(before) = before_event {
        query = query.filter(webhook_deliveries::event_id.lt(before));
    }
    query.load(conn).await
}

pub async fn find_delivery(
    conn: &mut AsyncPgConnection,
    subscription: Uuid,
    id: Uuid,
) -> QueryResult<Option<DeliveryRow>> {
    use crate::db::schema::events;
    let query = webhook_deliveries::table
        .inner_join(events::table)
        .filter(webhook_deliveries::subscription_id.eq(subscription))
        .filter(webhook_deliveries::id.eq(id))
        .select((Delivery::as_select(), events::event_type));
    query.first(conn).await.optional()
}

/// Queues a delivery again with a fresh run of attempts, unless an attempt is in flight;
/// returns whether it did.
pub async fn redeliver(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<bool> {
    let updated = diesel::update(webhook_deliveries::table.find(id))
        .filter(webhook_deliveries::status.ne(DeliveryStatus::InFlight))
        .set((
            webhook_deliveries::status.eq(DeliveryStatus::Pending),
            webhook_deliveries::attempts.eq(0),
            webhook_deliveries::next_attempt_at.eq(diesel::dsl::now),
            webhook_deliveries::locked_until.eq(None::<DateTime<Utc>>),
        ))
        .execute(conn)
        .await?;
    Ok(updated == 1)
}

// ---------------------------------------------------------------------------------------------
// The worker's queue.

#[derive(QueryableByName)]
struct Scanned {
    #[diesel(sql_type = BigInt)]
    inserted: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    last_tx: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    last_id: Option<i64>,
}

#[derive(QueryableByName)]
struct Cursor {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    organisation_id: Uuid,
    #[diesel(sql_type = Array<Nullable<Text>>)]
    event_types: Vec<Option<String>>,
    #[diesel(sql_type = BigInt)]
    cursor_tx: i64,
    #[diesel(sql_type = BigInt)]
    cursor_id: i64,
}

/// Events scanned per subscription per round.
const FAN_OUT_BATCH: i64 = 1000;

/// Turns new events into deliveries for every active subscription not being fanned out by
/// another worker; call inside a transaction. Returns the deliveries created.
pub async fn fan_out(conn: &mut AsyncPgConnection) -> QueryResult<i64> {
    let subscriptions: Vec<Cursor> = diesel::sql_query(
        "SELECT id, organisation_id, event_types, cursor_tx, cursor_id
           FROM webhook_subscriptions
          WHERE disabled_at IS NULL AND deleted_at IS NULL
          ORDER BY id
          FOR UPDATE SKIP LOCKED",
    )
    .load(conn)
    .await?;
    let mut created = 0;
    for subscription in subscriptions {
        // Only events of transactions older than every running one: a late commit is never
        // skipped by a cursor that moved past a later id (the feed's rule).
        let scanned: Scanned = diesel::sql_query(format!(
            "WITH scanned AS (
                 SELECT e.id, e.tx_id, e.event_type FROM events e
                  WHERE e.organisation_id = $1
                    AND (e.tx_id, e.id) > ($2, $3)
                    AND {COMMITTED_HORIZON}
                  ORDER BY e.tx_id, e.id
                  LIMIT $4),
             inserted AS (
                 INSERT INTO webhook_deliveries (id, subscription_id, event_id)
                 SELECT gen_random_uuid(), $5, id FROM scanned WHERE event_type = ANY($6)
                 ON CONFLICT (subscription_id, event_id) DO NOTHING
                 RETURNING 1),
             last AS (SELECT tx_id, id FROM scanned ORDER BY tx_id DESC, id DESC LIMIT 1)
             SELECT (SELECT count(*) FROM inserted) AS inserted,
                    (SELECT tx_id FROM last) AS last_tx,
                    (SELECT id FROM last) AS last_id"
        ))
        .bind::<SqlUuid, _>(subscription.organisation_id)
        .bind::<BigInt, _>(subscription.cursor_tx)
        .bind::<BigInt, _>(subscription.cursor_id)
        .bind::<BigInt, _>(FAN_OUT_BATCH)
        .bind::<SqlUuid, _>(subscription.id)
        .bind::<Array<Nullable<Text>>, _>(subscription.event_types)
        .get_result(conn)
        .await?;
        created += scanned.inserted;
        if let (Some(tx), Some(id)) = (scanned.last_tx, scanned.last_id) {
            diesel::update(webhook_subscriptions::table.find(subscription.id))
                .set((
                    webhook_subscriptions::cursor_tx.eq(tx),
                    webhook_subscriptions::cursor_id.eq(id),
                ))
                .execute(conn)
                .await?;
        }
    }
    Ok(created)
}

/// A delivery claimed for one attempt, with what it takes to make it.
#[derive(QueryableByName, Debug, Clone)]
pub struct Claimed {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub subscription_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub organisation_id: Uuid,
    /// This attempt's number, from 1.
    #[diesel(sql_type = Int4)]
    pub attempt: i32,
    #[diesel(sql_type = Text)]
    pub url: String,
    /// Encrypted (see `webhooks::secrets`).
    #[diesel(sql_type = Text)]
    pub secret: String,
    /// The rotated-out secret while it is still honoured, encrypted.
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    pub previous_secret: Option<String>,
    #[diesel(sql_type = BigInt)]
    pub event_id: i64,
    #[diesel(sql_type = Text)]
    pub event_type: String,
    #[diesel(sql_type = Text)]
    pub resource_type: String,
    #[diesel(sql_type = SqlUuid)]
    pub resource_id: Uuid,
    #[diesel(sql_type = Timestamptz)]
    pub occurred_at: DateTime<Utc>,
}

/// Claims up to `limit` due deliveries of active subscriptions for one attempt each: pending
/// ones whose time has come, and in-flight ones whose worker's lease ran out (it stopped or hung).
pub async fn claim(
    conn: &mut AsyncPgConnection,
    limit: i64,
    lease_ms: i64,
    max_attempts: i32,
) -> QueryResult<Vec<Claimed>> {
    diesel::sql_query(
        "WITH due AS (
             SELECT d.id FROM webhook_deliveries d
               JOIN webhook_subscriptions s ON s.id = d.subscription_id
              WHERE s.disabled_at IS NULL AND s.deleted_at IS NULL
                AND ((d.status = 'pending' AND d.next_attempt_at <= now())
                  OR (d.status = 'in_flight' AND d.locked_until <= now() AND d.attempts < $3))
              ORDER BY d.next_attempt_at
              LIMIT $1
              FOR UPDATE OF d SKIP LOCKED),
         claimed AS (
             UPDATE webhook_deliveries d
                SET status = 'in_flight', attempts = d.attempts + 1, last_attempt_at = now(),
                    locked_until = now() + $2 * interval '1 millisecond'
               FROM due WHERE d.id = due.id
             RETURNING d.id, d.subscription_id, d.event_id, d.attempts)
         SELECT c.id, c.subscription_id, s.organisation_id, c.attempts AS attempt, s.url, s.secret,
                CASE WHEN s.previous_secret_expires_at > now() THEN s.previous_secret END
                    AS previous_secret,
                e.id AS event_id, e.event_type, e.resource_type, e.resource_id, e.occurred_at
           FROM claimed c
           JOIN webhook_subscriptions s ON s.id = c.subscription_id
           JOIN events e ON e.id = c.event_id",
    )
    .bind::<BigInt, _>(limit)
    .bind::<BigInt, _>(lease_ms)
    .bind::<Int4, _>(max_attempts)
    .load(conn)
    .await
}

/// Marks deliveries failed whose last allowed attempt never reported back (its worker stopped).
pub async fn fail_abandoned(conn: &mut AsyncPgConnection, max_attempts: i32) -> QueryResult<usize> {
    diesel::sql_query(
        "UPDATE webhook_deliveries
            SET status = 'failed', locked_until = NULL,
                last_error = coalesce(last_error, 'the last attempt did not report back')
          WHERE status = 'in_flight' AND locked_until <= now() AND attempts >= $1",
    )
    .bind::<Int4, _>(max_attempts)
    .execute(conn)
    .await
}

/// What an attempt came to.
pub struct AttemptResult<'a> {
    pub status_code: Option<i32>,
    pub error: Option<&'a str>,
    /// `None` when delivered; otherwise when to try again, or `Some(None)` when it failed for good.
    pub retry_at: Option<Option<DateTime<Utc>>>,
}

/// Records an attempt's outcome if this worker still holds the delivery; returns whether it did.
pub async fn record_attempt(
    conn: &mut AsyncPgConnection,
    claimed: &Claimed,
    result: &AttemptResult<'_>,
) -> QueryResult<bool> {
    let target = webhook_deliveries::table
        .filter(webhook_deliveries::id.eq(claimed.id))
        .filter(webhook_deliveries::status.eq(DeliveryStatus::InFlight))
        .filter(webhook_deliveries::attempts.eq(claimed.attempt));
    let common = (
        webhook_deliveries::last_status_code.eq(result.status_code),
        webhook_deliveries::last_error.eq(result.error),
        webhook_deliveries::locked_until.eq(None::<DateTime<Utc>>),
    );
    let updated = match result.retry_at {
        None => {
            diesel::update(target)
                .set((
                    common,
                    webhook_deliveries::status.eq(DeliveryStatus::Delivered),
                    webhook_deliveries::delivered_at.eq(diesel::dsl::now),
                ))
                .execute(conn)
                .await?
        }
        Some(Some(at)) => {
            diesel::update(target)
                .set((
                    common,
                    webhook_deliveries::status.eq(DeliveryStatus::Pending),
                    webhook_deliveries::next_attempt_at.eq(at),
                ))
                .execute(conn)
                .await?
        }
        Some(None) => {
            diesel::update(target)
                .set((
                    common,
                    webhook_deliveries::status.eq(DeliveryStatus::Failed),
                ))
                .execute(conn)
                .await?
        }
    };
    Ok(updated == 1)
}

/// Resets the subscription's run of failures after a success.
pub async fn reset_failures(conn: &mut AsyncPgConnection, subscription: Uuid) -> QueryResult<()> {
    diesel::update(webhook_subscriptions::table.find(subscription))
        .filter(webhook_subscriptions::consecutive_failures.ne(0))
        .set(webhook_subscriptions::consecutive_failures.eq(0))
        .execute(conn)
        .await?;
    Ok(())
}

/// Replaces a subscription's secret (both encrypted); the old one stays valid until `until`.
pub async fn rotate_secret(
    conn: &mut AsyncPgConnection,
    subscription: Uuid,
    sealed: &str,
    until: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(webhook_subscriptions::table.find(subscription))
        .set((
            webhook_subscriptions::previous_secret.eq(webhook_subscriptions::secret.nullable()),
            webhook_subscriptions::previous_secret_expires_at.eq(until),
            webhook_subscriptions::secret.eq(sealed),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Every stored secret (current and previous) with its subscription, for re-encryption.
pub async fn stored_secrets(
    conn: &mut AsyncPgConnection,
) -> QueryResult<Vec<(Uuid, String, Option<String>)>> {
    webhook_subscriptions::table
        .select((
            webhook_subscriptions::id,
            webhook_subscriptions::secret,
            webhook_subscriptions::previous_secret,
        ))
        .load(conn)
        .await
}

pub async fn store_secrets(
    conn: &mut AsyncPgConnection,
    subscription: Uuid,
    secret: &str,
    previous: Option<&str>,
) -> QueryResult<()> {
    diesel::update(webhook_subscriptions::table.find(subscription))
        .set((
            webhook_subscriptions::secret.eq(secret),
            webhook_subscriptions::previous_secret.eq(previous),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Counts a failed attempt; disables the subscription when the run reaches `threshold`, or at
/// once when the receiver answered 410 Gone (`gone`).
/// Returns true when this call disabled it.
pub async fn count_failure(
    conn: &mut AsyncPgConnection,
    subscription: Uuid,
    threshold: i32,
    gone: bool,
) -> QueryResult<bool> {
    let failures: Option<(i32, bool)> =
        diesel::update(webhook_subscriptions::table.find(subscription))
            .set(
                webhook_subscriptions::consecutive_failures
                    .eq(webhook_subscriptions::consecutive_failures + 1),
            )
            .returning((
                webhook_subscriptions::consecutive_failures,
                webhook_subscriptions::disabled_at.is_null(),
            ))
            .get_result(conn)
            .await
            .optional()?;
    match failures {
        Some((failures, true)) if gone || failures >= threshold => {
            let reason = if gone {
                "the receiver answered 410 Gone".to_owned()
            } else {
                format!("{failures} consecutive failed delivery attempts")
            };
            diesel::update(webhook_subscriptions::table.find(subscription))
                .set((
                    webhook_subscriptions::disabled_at.eq(diesel::dsl::now),
                    webhook_subscriptions::disabled_reason.eq(reason),
                ))
                .execute(conn)
                .await?;
            Ok(true)
        }
        _ => Ok(false),
    }
}
