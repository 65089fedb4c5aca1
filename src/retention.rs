//! Runs the retention rules: `schakel retention run [--dry-run]`, and once a day in every
//! `serve` and `worker`. Each child whose file is due is purged in a transaction of its own —
//! its personal data overwritten by a tombstone, an access-log entry with action `purge` per
//! record, a `child.purged` event — after its hold is checked again under a row lock, so a hold
//! placed meanwhile still blocks it.

use chrono::NaiveDate;
use uuid::Uuid;

use crate::{
    audit::{Access, AccessAction, Actor, RequestMeta},
    auth::Principal,
    db::{
        Pool,
        lifecycle::{self as queries, OperationalPurge, PurgeOutcome, RetentionCandidate},
        request::Db,
        timeline::TimelineEntry,
    },
    domain::{
        lifecycle::{
            ChildFacts, GrantPlan, Hold, PurgeVerdict, RecordType, RetentionPolicy, decide_purge,
        },
        organisation::OrganisationRef,
        reference::Labelled,
        timeline::Visibility,
    },
    effects::Effects,
    error::AppError,
    events::{Event, EventType},
};

/// The legal basis the access log names for a purge by the retention rules.
pub const RETENTION_BASIS: &str = "retention_term";
/// … and for a destruction on request.
pub const DESTRUCTION_BASIS: &str = "destruction_request";

/// A child whose file the rules reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DueChild {
    pub child_id: Uuid,
    pub organisation_id: Uuid,
    pub due_on: NaiveDate,
    /// A legal hold blocks it.
    pub held: bool,
}

/// The files due (purged, or held), in child id order.
pub fn due_children(
    candidates: &[RetentionCandidate],
    policy: &RetentionPolicy,
    today: NaiveDate,
) -> Vec<DueChild> {
    candidates
        .iter()
        .filter_map(|c| {
            let (due_on, held) = match decide_purge(policy, &facts(c), hold(c), today) {
                PurgeVerdict::NotDue => return None,
                PurgeVerdict::Held { due_on } => (due_on, true),
                PurgeVerdict::Due { due_on } => (due_on, false),
            };
            Some(DueChild {
                child_id: c.child_id,
                organisation_id: c.organisation_id,
                due_on,
                held,
            })
        })
        .collect()
}

fn facts(c: &RetentionCandidate) -> ChildFacts {
    ChildFacts {
        kind: c.kind,
        date_of_birth: c.date_of_birth,
        left_on: c.left_on,
        care_ended_on: c.care_ended_on,
    }
}

fn hold(c: &RetentionCandidate) -> Option<Hold> {
    c.hold.map(|(_, until)| Hold { until })
}

/// What a run did (or, dry, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetentionReport {
    pub dry_run: bool,
    /// Purged (or due, in a dry run).
    pub purged: Vec<DueChild>,
    /// Due, but blocked by a legal hold.
    pub held: Vec<DueChild>,
    /// Due, but purging failed (logged); the next run tries again.
    pub failed: Vec<DueChild>,
    /// Delivery history and events past their terms (not counted in a dry run).
    pub operational: OperationalPurge,
}

/// Purges every file due on `today` (all organisations), then the operational records past
/// their terms. A dry run changes nothing and lists what a run would purge.
pub async fn run(
    pool: &Pool,
    policy: &RetentionPolicy,
    today: NaiveDate,
    dry_run: bool,
) -> Result<RetentionReport, AppError> {
    let db = Db::pooled(pool.clone());
    let candidates = db
        .transaction(async |conn| Ok(queries::retention_candidates(conn, None).await?))
        .await?;
    let (held, due): (Vec<DueChild>, Vec<DueChild>) = due_children(&candidates, policy, today)
        .into_iter()
        .partition(|d| d.held);
    let mut report = RetentionReport {
        dry_run,
        purged: Vec::new(),
        held,
        failed: Vec::new(),
        operational: OperationalPurge::default(),
    };
    if dry_run {
        report.purged = due;
        return Ok(report);
    }
    let run_id = Uuid::now_v7();
    for child in due {
        // One file that cannot be purged does not stop the others.
        let purged = db
            .transaction(async |conn| {
                // Checked again under the lock: a hold or a correction may have come meanwhile.
                let Some(current) = queries::lock_candidate(conn, child.child_id).await? else {
                    return Ok(None);
                };
                let PurgeVerdict::Due { due_on } =
                    decide_purge(policy, &facts(&current), hold(&current), today)
                else {
                    return Ok(None);
                };
                let outcome = queries::purge(
                    conn,
                    current.organisation_id,
                    (current.child_id, current.date_of_birth),
                    &GrantPlan::Everything,
                )
                .await?;
                let principal = retention_principal(&current);
                let request = RequestMeta::new(format!("retention-{run_id}"), None);
                let actor = Actor {
                    principal: &principal,
                    request: &request,
                };
                purge_effects(
                    current.organisation_id,
                    current.child_id,
                    &outcome,
                    RETENTION_BASIS,
                )
                .write(conn, actor)
                .await?;
                Ok(Some(DueChild { due_on, ..child }))
            })
            .await;
        match purged {
            Ok(purged) => report.purged.extend(purged),
            Err(error) => {
                tracing::warn!(
                    child = %child.child_id,
                    %error,
                    "purging a file failed; the next run tries again"
                );
                report.failed.push(child);
            }
        }
    }
    report.operational = db
        .transaction(async |conn| {
            Ok(queries::purge_operational(conn, policy.delivery_days, policy.event_days).await?)
        })
        .await?;
    Ok(report)
}

/// The retention rules act for the organisation that holds the file, as the access log's actor.
fn retention_principal(c: &RetentionCandidate) -> Principal {
    Principal {
        sub: "schakel-retention".into(),
        name: "schakel (bewaartermijn)".into(),
        organisation: OrganisationRef {
            id: c.organisation_id,
            kind: c.kind,
            name: String::new(),
            active: true,
        },
        roles: Vec::new(),
        acting_client: None,
    }
}

/// What records a purge: an access-log entry with action `purge` per record (and the child),
/// naming the basis; `child.purged` to the organisation when the whole file went; a timeline
/// entry when only named records did.
pub fn purge_effects(
    organisation: Uuid,
    child: Uuid,
    outcome: &PurgeOutcome,
    basis: &str,
) -> Effects {
    let mut effects = Effects::new().accesses(outcome.purged.iter().map(|r| {
        Access::allowed(AccessAction::Purge, resource_type(r.record_type), r.id)
            .about_child(child)
            .with_basis(basis, None)
    }));
    if outcome.child {
        effects = effects
            .access(
                Access::allowed(AccessAction::Purge, "child", child)
                    .about_child(child)
                    .with_basis(basis, None),
            )
            .event(Event::new(
                EventType::ChildPurged,
                organisation,
                "child",
                child,
            ));
    } else if !outcome.purged.is_empty() {
        effects = effects.timeline(TimelineEntry {
            organisation_id: organisation,
            child_id: child,
            entry_type: "child.records_destroyed",
            resource_type: "child",
            resource_id: child,
            summary: format!("Records destroyed on request: {}", outcome.purged.len()),
            visibility: Visibility::Organisation,
        });
    }
    effects
}

/// The resource type a record has in the access log and the event feed.
pub fn resource_type(record_type: RecordType) -> &'static str {
    record_type.code()
}

/// Runs the rules once a day (first a minute after start), until `shutdown`. Any number of
/// `serve` and `worker` processes may run it: a file is purged under a row lock, once.
pub async fn run_daily(
    pool: Pool,
    policy: RetentionPolicy,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let mut next = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(next) => {}
            _ = shutdown.changed() => return,
        }
        if *shutdown.borrow() {
            return;
        }
        let hours = match run(
            &pool,
            &policy,
            crate::domain::calendar::dutch_today(),
            false,
        )
        .await
        {
            Ok(report) => {
                tracing::info!(
                    purged = report.purged.len(),
                    held = report.held.len(),
                    failed = report.failed.len(),
                    deliveries = report.operational.deliveries,
                    events = report.operational.events,
                    "retention run"
                );
                24
            }
            Err(error) => {
                tracing::warn!(%error, "retention run failed; next try in an hour");
                1
            }
        };
        next = tokio::time::Instant::now() + std::time::Duration::from_secs(hours * 3600);
    }
}

impl RetentionReport {
    /// The report as the command line prints it.
    pub fn to_json(&self) -> serde_json::Value {
        let child = |d: &DueChild| {
            serde_json::json!({
                "childId": d.child_id,
                "organisationId": d.organisation_id,
                "dueOn": d.due_on,
            })
        };
        serde_json::json!({
            "dryRun": self.dry_run,
            "purged": self.purged.iter().map(child).collect::<Vec<_>>(),
            "heldByLegalHold": self.held.iter().map(child).collect::<Vec<_>>(),
            "failed": self.failed.iter().map(child).collect::<Vec<_>>(),
            "webhookDeliveriesDeleted": self.operational.deliveries,
            "eventsDeleted": self.operational.events,
        })
    }
}
