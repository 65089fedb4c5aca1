//! Overdue notices: when a handoff's acknowledgement or Veilig Thuis's safety assessment is not
//! done in time, the worker tells both sides once (`handoff.acknowledgement_overdue`,
//! `handoff.assessment_overdue`; ids only), so a report nobody picks up is noticed. Runs every
//! minute in every `serve` and `worker`; rows are claimed with `SKIP LOCKED`, and a notice is
//! marked in the transaction that emits it, so each goes out exactly once.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::{
    db::{Pool, handoffs as queries, request::Db},
    domain::handoff::{Deadline, overdue_deadlines},
    error::AppError,
    events::{self, Event, EventType},
};

/// How many handoffs one transaction takes on.
const BATCH: i64 = 100;

/// Sends every notice due at `now`; returns how many deadlines were announced.
pub async fn run_once(pool: &Pool, now: DateTime<Utc>) -> Result<usize, AppError> {
    let db = Db::pooled(pool.clone());
    let mut announced = 0;
    loop {
        let (claimed, noticed) = db
            .transaction(async |conn| {
                let rows = queries::unnoticed_overdue(conn, now, BATCH).await?;
                let mut noticed = 0;
                let mut batch = Vec::new();
                for (handoff, acknowledgement_noticed, assessment_noticed) in &rows {
                    for (deadline, _) in
                        overdue_deadlines(handoff.kind, handoff.status, &handoff.deadlines(), now)
                    {
                        let (already, event) = match deadline {
                            Deadline::Acknowledgement => (
                                acknowledgement_noticed,
                                EventType::HandoffAcknowledgementOverdue,
                            ),
                            Deadline::Assessment => {
                                (assessment_noticed, EventType::HandoffAssessmentOverdue)
                            }
                        };
                        if already.is_some() {
                            continue;
                        }
                        queries::mark_noticed(conn, handoff.id, deadline, now).await?;
                        for side in [handoff.from_organisation_id, handoff.to_organisation_id] {
                            batch.push(Event::new(event, side, "handoff", handoff.id));
                        }
                        noticed += 1;
                    }
                }
                events::emit(conn, &batch).await?;
                Ok((rows.len(), noticed))
            })
            .await?;
        announced += noticed;
        // A full batch with nothing new to announce would come back the same: stop.
        if i64::try_from(claimed).unwrap_or(0) < BATCH || noticed == 0 {
            return Ok(announced);
        }
    }
}

/// Sends the notices every minute until `shutdown`.
pub async fn run(pool: Pool, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    loop {
        if let Err(error) = run_once(&pool, Utc::now()).await {
            tracing::warn!(%error, "sending overdue notices failed; will retry");
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(60)) => {}
            _ = shutdown.changed() => return,
        }
        if *shutdown.borrow() {
            return;
        }
    }
}
