//! Handoff queries. A handoff is visible to its sender and its recipient organisation only.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::Value;
use uuid::Uuid;

use crate::{
    auth::Principal,
    db::schema::{feedback, handoff_forwardings, handoff_reminders, handoff_transitions, handoffs},
    domain::handoff::{
        AgeBand, Deadlines, HandoffKind, HandoffStatus, LegalBasis, ParentsNotInformedReason,
        Snapshot, Transition, Urgency,
    },
};

#[derive(Queryable, Selectable, Debug, Clone, PartialEq)]
#[diesel(table_name = handoffs, check_for_backend(diesel::pg::Pg))]
pub struct Handoff {
    pub id: Uuid,
    pub kind: HandoffKind,
    pub status: HandoffStatus,
    pub from_organisation_id: Uuid,
    pub to_organisation_id: Uuid,
    pub child_id: Option<Uuid>,
    pub case_id: Option<Uuid>,
    pub in_response_to: Option<Uuid>,
    pub consent_id: Option<Uuid>,
    pub legal_basis: LegalBasis,
    pub snapshot: Value,
    pub age_band: Option<AgeBand>,
    pub message: String,
    pub urgency: Urgency,
    pub requests_guidance: bool,
    pub parents_informed_at: Option<DateTime<Utc>>,
    pub parents_not_informed_reason: Option<ParentsNotInformedReason>,
    pub parents_not_informed_explanation: Option<String>,
    pub melder_identity_disclosable: bool,
    pub melder_identity_reason: Option<String>,
    pub sent_by_sub: String,
    pub sent_by_name: String,
    pub sent_at: DateTime<Utc>,
    pub acknowledgement_due_at: DateTime<Utc>,
    pub assessment_due_at: Option<DateTime<Utc>>,
    pub assessment_decided_at: Option<DateTime<Utc>>,
    pub intake_child_id: Option<Uuid>,
    pub updated_at: DateTime<Utc>,
}

impl Handoff {
    pub fn deadlines(&self) -> Deadlines {
        Deadlines {
            acknowledgement_due_at: self.acknowledgement_due_at,
            assessment_due_at: self.assessment_due_at,
            assessment_decided_at: self.assessment_decided_at,
        }
    }

    pub fn is_sender(&self, organisation: Uuid) -> bool {
        self.from_organisation_id == organisation
    }

    /// What crossed, as stored.
    pub fn snapshot(&self) -> Result<Snapshot, serde_json::Error> {
        serde_json::from_value(self.snapshot.clone())
    }

    /// The child record on `organisation`'s side of the handoff, if any.
    pub fn child_of(&self, organisation: Uuid) -> Option<Uuid> {
        if self.is_sender(organisation) {
            self.child_id
        } else {
            self.intake_child_id
        }
    }
}

#[derive(Insertable, Debug)]
#[diesel(table_name = handoffs)]
pub struct NewHandoff<'a> {
    pub id: Uuid,
    pub kind: HandoffKind,
    pub from_organisation_id: Uuid,
    pub to_organisation_id: Uuid,
    pub child_id: Option<Uuid>,
    pub case_id: Option<Uuid>,
    pub in_response_to: Option<Uuid>,
    pub consent_id: Option<Uuid>,
    pub legal_basis: LegalBasis,
    pub snapshot: Value,
    pub age_band: Option<AgeBand>,
    pub message: &'a str,
    pub urgency: Urgency,
    pub requests_guidance: bool,
    pub parents_informed_at: Option<DateTime<Utc>>,
    pub parents_not_informed_reason: Option<ParentsNotInformedReason>,
    pub parents_not_informed_explanation: Option<&'a str>,
    pub melder_identity_disclosable: bool,
    pub melder_identity_reason: Option<&'a str>,
    pub sent_by_sub: &'a str,
    pub sent_by_name: &'a str,
    pub sent_at: DateTime<Utc>,
    pub acknowledgement_due_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable, Debug, Clone, PartialEq, Eq)]
#[diesel(table_name = handoff_transitions, check_for_backend(diesel::pg::Pg))]
pub struct TransitionRecord {
    pub id: Uuid,
    pub handoff_id: Uuid,
    pub transition: Transition,
    pub from_status: HandoffStatus,
    pub to_status: HandoffStatus,
    pub note: Option<String>,
    pub by_sub: String,
    pub by_name: String,
    pub by_organisation_id: Uuid,
    pub at: DateTime<Utc>,
}

pub async fn insert(conn: &mut AsyncPgConnection, new: &NewHandoff<'_>) -> QueryResult<Handoff> {
    diesel::insert_into(handoffs::table)
        .values(new)
        .returning(Handoff::as_returning())
        .get_result(conn)
        .await
}

/// A handoff the organisation sent or received, and still holds (a side that purged its record
/// of the child no longer sees it); locked when `for_update`.
pub async fn find_for_party(
    conn: &mut AsyncPgConnection,
    organisation: Uuid,
    id: Uuid,
    for_update: bool,
) -> QueryResult<Option<Handoff>> {
    let query = handoffs::table
        .filter(handoffs::id.eq(id))
        .filter(sent_by(organisation).or(received_by(organisation)))
        .select(Handoff::as_select());
    if for_update {
        query.for_update().first(conn).await.optional()
    } else {
        query.first(conn).await.optional()
    }
}

/// Sent by the organisation, which still holds it.
pub fn sent_by(
    organisation: Uuid,
) -> diesel::dsl::And<
    diesel::dsl::Eq<handoffs::from_organisation_id, Uuid>,
    diesel::dsl::IsNull<handoffs::sender_purged_at>,
> {
    handoffs::from_organisation_id
        .eq(organisation)
        .and(handoffs::sender_purged_at.is_null())
}

/// Received by the organisation, which still holds it.
pub fn received_by(
    organisation: Uuid,
) -> diesel::dsl::And<
    diesel::dsl::Eq<handoffs::to_organisation_id, Uuid>,
    diesel::dsl::IsNull<handoffs::recipient_purged_at>,
> {
    handoffs::to_organisation_id
        .eq(organisation)
        .and(handoffs::recipient_purged_at.is_null())
}

pub async fn transitions_of(
    conn: &mut AsyncPgConnection,
    ids: &[Uuid],
) -> QueryResult<Vec<TransitionRecord>> {
    handoff_transitions::table
        .filter(handoff_transitions::handoff_id.eq_any(ids))
        .order((handoff_transitions::at, handoff_transitions::id))
        .select(TransitionRecord::as_select())
        .load(conn)
        .await
}

/// A lifecycle step to record.
pub struct NewTransition<'a> {
    pub transition: Transition,
    pub to: HandoffStatus,
    pub note: Option<&'a str>,
    pub at: DateTime<Utc>,
    /// Set when the step is the receipt of a report.
    pub assessment_due_at: Option<DateTime<Utc>>,
}

/// Moves the status on and records who did it, when and why.
pub async fn record_transition(
    conn: &mut AsyncPgConnection,
    handoff: &Handoff,
    step: NewTransition<'_>,
    by: &Principal,
) -> QueryResult<Handoff> {
    diesel::insert_into(handoff_transitions::table)
        .values((
            handoff_transitions::id.eq(Uuid::now_v7()),
            handoff_transitions::handoff_id.eq(handoff.id),
            handoff_transitions::transition.eq(step.transition),
            handoff_transitions::from_status.eq(handoff.status),
            handoff_transitions::to_status.eq(step.to),
            handoff_transitions::note.eq(step.note),
            handoff_transitions::by_sub.eq(&by.sub),
            handoff_transitions::by_name.eq(&by.name),
            handoff_transitions::by_organisation_id.eq(by.org_id()),
            handoff_transitions::at.eq(step.at),
        ))
        .execute(conn)
        .await?;
    diesel::update(handoffs::table.find(handoff.id))
        .set((
            handoffs::status.eq(step.to),
            handoffs::assessment_due_at.eq(handoff.assessment_due_at.or(step.assessment_due_at)),
            handoffs::updated_at.eq(diesel::dsl::now),
        ))
        .returning(Handoff::as_returning())
        .get_result(conn)
        .await
}

/// Links a forwarded handoff to the one that continues it.
pub async fn insert_forwarding(
    conn: &mut AsyncPgConnection,
    handoff: Uuid,
    successor: Uuid,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(handoff_forwardings::table)
        .values((
            handoff_forwardings::handoff_id.eq(handoff),
            handoff_forwardings::successor_id.eq(successor),
            handoff_forwardings::forwarded_at.eq(at),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// The handoff this one was forwarded from, and the one it was forwarded to, if any.
pub async fn forwarding_links(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> QueryResult<(Option<Uuid>, Option<Uuid>)> {
    let rows: Vec<(Uuid, Uuid)> = handoff_forwardings::table
        .filter(
            handoff_forwardings::handoff_id
                .eq(id)
                .or(handoff_forwardings::successor_id.eq(id)),
        )
        .select((
            handoff_forwardings::handoff_id,
            handoff_forwardings::successor_id,
        ))
        .load(conn)
        .await?;
    let from = rows.iter().find(|(_, to)| *to == id).map(|(from, _)| *from);
    let to = rows.iter().find(|(from, _)| *from == id).map(|(_, to)| *to);
    Ok((from, to))
}

/// The recipient of a handoff, whoever asks: a forwarding link names it, nothing more.
pub async fn recipient_of(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Uuid>> {
    handoffs::table
        .find(id)
        .select(handoffs::to_organisation_id)
        .first(conn)
        .await
        .optional()
}

/// Veilig Thuis decided after its safety assessment (the first such feedback counts).
pub async fn mark_assessment_decided(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<()> {
    diesel::update(handoffs::table.find(id))
        .filter(handoffs::assessment_decided_at.is_null())
        .set((
            handoffs::assessment_decided_at.eq(diesel::dsl::now),
            handoffs::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn set_intake(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    child: Uuid,
) -> QueryResult<Handoff> {
    diesel::update(handoffs::table.find(id))
        .set((
            handoffs::intake_child_id.eq(child),
            handoffs::updated_at.eq(diesel::dsl::now),
        ))
        .returning(Handoff::as_returning())
        .get_result(conn)
        .await
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Outgoing,
    Incoming,
}

#[derive(Debug, Default)]
pub struct Filter {
    pub direction: Option<Direction>,
    pub kind: Option<HandoffKind>,
    pub status: Option<HandoffStatus>,
    /// Only overdue handoffs, as of this instant (the SQL form of `handoff::is_overdue`).
    pub overdue_at: Option<DateTime<Utc>>,
    /// Only reports awaiting feedback, as of this instant (the SQL form of
    /// `handoff::awaiting_feedback`).
    pub awaiting_feedback_at: Option<DateTime<Utc>>,
}

pub async fn list(
    conn: &mut AsyncPgConnection,
    organisation: Uuid,
    filter: &Filter,
    after: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<Handoff>> {
    let mut query = handoffs::table.select(Handoff::as_select()).into_boxed();
    query = match filter.direction {
        Some(Direction::Outgoing) => query.filter(sent_by(organisation)),
        Some(Direction::Incoming) => query.filter(received_by(organisation)),
        None => query.filter(sent_by(organisation).or(received_by(organisation))),
    };
    if let Some(kind) = filter.kind {
        query = query.filter(handoffs::kind.eq(kind));
    }
    if let Some(status) = filter.status {
        query = query.filter(handoffs::status.eq(status));
    }
    if let Some(now) = filter.overdue_at {
        let unacknowledged = handoffs::status
            .eq(HandoffStatus::Sent)
            .and(handoffs::acknowledgement_due_at.lt(now));
        let assessment_late = handoffs::kind
            .eq(HandoffKind::Report)
            .and(handoffs::status.eq_any([HandoffStatus::Received, HandoffStatus::Accepted]))
            .and(handoffs::assessment_decided_at.is_null())
            .and(handoffs::assessment_due_at.lt(now));
        query = query.filter(unacknowledged.or(assessment_late.assume_not_null()));
    }
    if let Some(now) = filter.awaiting_feedback_at {
        let no_status_feedback = diesel::dsl::not(diesel::dsl::exists(
            feedback::table
                .filter(feedback::handoff_id.eq(handoffs::id))
                .filter(feedback::category.eq_any(crate::db::feedback::status_categories())),
        ));
        let assessment_late = handoffs::assessment_decided_at
            .is_null()
            .and(handoffs::assessment_due_at.lt(now).assume_not_null());
        query = query.filter(
            handoffs::kind
                .eq(HandoffKind::Report)
                .and(handoffs::status.eq_any([HandoffStatus::Received, HandoffStatus::Accepted]))
                .and(no_status_feedback.or(assessment_late)),
        );
    }
    if let Some(after) = after {
        query = query.filter(handoffs::id.gt(after));
    }
    query.order(handoffs::id).limit(limit).load(conn).await
}

/// Which of these handoffs have had status feedback.
pub async fn with_status_feedback(
    conn: &mut AsyncPgConnection,
    ids: &[Uuid],
) -> QueryResult<Vec<Uuid>> {
    feedback::table
        .filter(feedback::handoff_id.eq_any(ids))
        .filter(feedback::category.eq_any(crate::db::feedback::status_categories()))
        .select(feedback::handoff_id)
        .distinct()
        .load(conn)
        .await
}

/// The report sent from a case, if any (the latest that was not withdrawn or forwarded: a
/// forwarded report goes on as its successor).
pub async fn report_of_case(
    conn: &mut AsyncPgConnection,
    case: Uuid,
) -> QueryResult<Option<Handoff>> {
    handoffs::table
        .filter(handoffs::case_id.eq(case))
        .filter(handoffs::kind.eq(HandoffKind::Report))
        .filter(handoffs::status.ne_all([HandoffStatus::Withdrawn, HandoffStatus::Forwarded]))
        .order(handoffs::sent_at.desc())
        .select(Handoff::as_select())
        .first(conn)
        .await
        .optional()
}

/// Reports sent from these cases (any status), newest first.
pub async fn reports_of_cases(
    conn: &mut AsyncPgConnection,
    cases: &[Uuid],
) -> QueryResult<Vec<Handoff>> {
    handoffs::table
        .filter(handoffs::case_id.eq_any(cases))
        .filter(handoffs::kind.eq(HandoffKind::Report))
        .order(handoffs::sent_at.desc())
        .select(Handoff::as_select())
        .load(conn)
        .await
}

// ---- reminders and overdue notices ----

#[derive(Queryable, Selectable, Debug, Clone, PartialEq, Eq)]
#[diesel(table_name = handoff_reminders, check_for_backend(diesel::pg::Pg))]
pub struct Reminder {
    pub id: Uuid,
    pub handoff_id: Uuid,
    pub note: Option<String>,
    pub by_sub: String,
    pub by_name: String,
    pub by_organisation_id: Uuid,
    pub at: DateTime<Utc>,
}

/// The reminders of these handoffs, oldest first.
pub async fn reminders_of(
    conn: &mut AsyncPgConnection,
    ids: &[Uuid],
) -> QueryResult<Vec<Reminder>> {
    handoff_reminders::table
        .filter(handoff_reminders::handoff_id.eq_any(ids))
        .order((handoff_reminders::at, handoff_reminders::id))
        .select(Reminder::as_select())
        .load(conn)
        .await
}

pub async fn insert_reminder(
    conn: &mut AsyncPgConnection,
    handoff: Uuid,
    note: Option<&str>,
    by: &crate::auth::Principal,
    at: DateTime<Utc>,
) -> QueryResult<Reminder> {
    diesel::insert_into(handoff_reminders::table)
        .values((
            handoff_reminders::id.eq(Uuid::now_v7()),
            handoff_reminders::handoff_id.eq(handoff),
            handoff_reminders::note.eq(note),
            handoff_reminders::by_sub.eq(&by.sub),
            handoff_reminders::by_name.eq(&by.name),
            handoff_reminders::by_organisation_id.eq(by.org_id()),
            handoff_reminders::at.eq(at),
        ))
        .returning(Reminder::as_returning())
        .get_result(conn)
        .await
}

/// Handoffs with a deadline passed before `now` whose notice has not gone out, locked (others
/// running the same skip them), at most `limit`. The condition is
/// `domain::handoff::overdue_deadlines`' as an indexed prefilter; that function decides what
/// is announced.
pub async fn unnoticed_overdue(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
    limit: i64,
) -> QueryResult<Vec<(Handoff, Option<DateTime<Utc>>, Option<DateTime<Utc>>)>> {
    handoffs::table
        .filter(
            handoffs::status
                .eq(HandoffStatus::Sent)
                .and(handoffs::acknowledgement_due_at.lt(now))
                .and(handoffs::acknowledgement_overdue_at.is_null())
                .or(handoffs::kind
                    .eq(HandoffKind::Report)
                    .and(
                        handoffs::status.eq_any([HandoffStatus::Received, HandoffStatus::Accepted]),
                    )
                    .and(handoffs::assessment_decided_at.is_null())
                    .and(handoffs::assessment_due_at.lt(now))
                    .and(handoffs::assessment_overdue_at.is_null())
                    .assume_not_null()),
        )
        .order(handoffs::id)
        .limit(limit)
        .select((
            Handoff::as_select(),
            handoffs::acknowledgement_overdue_at,
            handoffs::assessment_overdue_at,
        ))
        .for_update()
        .skip_locked()
        .load(conn)
        .await
}

/// Records that a deadline's overdue notice went out.
pub async fn mark_noticed(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    deadline: crate::domain::handoff::Deadline,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    use crate::domain::handoff::Deadline;
    let target = handoffs::table.find(id);
    match deadline {
        Deadline::Acknowledgement => {
            diesel::update(target)
                .set(handoffs::acknowledgement_overdue_at.eq(at))
                .execute(conn)
                .await?
        }
        Deadline::Assessment => {
            diesel::update(target)
                .set(handoffs::assessment_overdue_at.eq(at))
                .execute(conn)
                .await?
        }
    };
    Ok(())
}
