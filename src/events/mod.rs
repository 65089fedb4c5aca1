//! The outbox: thin events (type and resource id, never personal data) written in the same
//! transaction as the change they announce, so there is no change without its event and no event
//! without its change.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::schema::events;

/// What happened, as `<resource>.<verb>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    OrganisationCreated,
    OrganisationUpdated,
    ChildCreated,
    ChildUpdated,
    GuardianAdded,
    GuardianUpdated,
    SignalRecorded,
    SignalRevised,
    CaseOpened,
    CaseStepRecorded,
    CaseLeadChanged,
    CaseActionAdded,
    CaseActionUpdated,
    CaseClosed,
    HandoffSent,
    HandoffAcknowledged,
    HandoffAccepted,
    HandoffDeclined,
    HandoffClosed,
    HandoffWithdrawn,
    ConsentCreated,
    ConsentDecisionRecorded,
    ConsentActivated,
    ConsentRejected,
    ConsentWithdrawn,
    FeedbackSent,
    FeedbackRead,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OrganisationCreated => "organisation.created",
            Self::OrganisationUpdated => "organisation.updated",
            Self::ChildCreated => "child.created",
            Self::ChildUpdated => "child.updated",
            Self::GuardianAdded => "guardian.added",
            Self::GuardianUpdated => "guardian.updated",
            Self::SignalRecorded => "signal.recorded",
            Self::SignalRevised => "signal.revised",
            Self::CaseOpened => "case.opened",
            Self::CaseStepRecorded => "case.step_recorded",
            Self::CaseLeadChanged => "case.lead_changed",
            Self::CaseActionAdded => "case.action_added",
            Self::CaseActionUpdated => "case.action_updated",
            Self::CaseClosed => "case.closed",
            Self::HandoffSent => "handoff.sent",
            Self::HandoffAcknowledged => "handoff.acknowledged",
            Self::HandoffAccepted => "handoff.accepted",
            Self::HandoffDeclined => "handoff.declined",
            Self::HandoffClosed => "handoff.closed",
            Self::HandoffWithdrawn => "handoff.withdrawn",
            Self::ConsentCreated => "consent.created",
            Self::ConsentDecisionRecorded => "consent.decision_recorded",
            Self::ConsentActivated => "consent.activated",
            Self::ConsentRejected => "consent.rejected",
            Self::ConsentWithdrawn => "consent.withdrawn",
            Self::FeedbackSent => "feedback.sent",
            Self::FeedbackRead => "feedback.read",
        }
    }
}

/// An event for one audience organisation about one resource.
#[derive(Debug, Clone)]
pub struct Event {
    pub event_type: EventType,
    pub audience: Uuid,
    pub resource_type: &'static str,
    pub resource_id: Uuid,
}

impl Event {
    pub fn new(
        event_type: EventType,
        audience: Uuid,
        resource_type: &'static str,
        resource_id: Uuid,
    ) -> Self {
        Self {
            event_type,
            audience,
            resource_type,
            resource_id,
        }
    }
}

/// Adds events to the outbox; call it inside the transaction of the change.
pub async fn emit(conn: &mut AsyncPgConnection, batch: &[Event]) -> QueryResult<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let rows: Vec<_> = batch
        .iter()
        .map(|event| {
            (
                events::event_type.eq(event.event_type.as_str()),
                events::organisation_id.eq(event.audience),
                events::resource_type.eq(event.resource_type),
                events::resource_id.eq(event.resource_id),
            )
        })
        .collect();
    diesel::insert_into(events::table)
        .values(&rows)
        .execute(conn)
        .await?;
    Ok(())
}
