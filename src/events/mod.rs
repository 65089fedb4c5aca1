//! The outbox: thin events (type and resource id, never personal data) written in the same
//! transaction as the change they announce, so there is no change without its event and no event
//! without its change.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use poem_openapi::Enum;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{db::schema::events, domain::reference::Labelled};

/// What happened, as `<resource>.<verb>`.
#[derive(Enum, Deserialize, Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    #[oai(rename = "organisation.created")]
    #[serde(rename = "organisation.created")]
    OrganisationCreated,
    #[oai(rename = "organisation.updated")]
    #[serde(rename = "organisation.updated")]
    OrganisationUpdated,
    #[oai(rename = "child.created")]
    #[serde(rename = "child.created")]
    ChildCreated,
    #[oai(rename = "child.updated")]
    #[serde(rename = "child.updated")]
    ChildUpdated,
    #[oai(rename = "guardian.added")]
    #[serde(rename = "guardian.added")]
    GuardianAdded,
    #[oai(rename = "guardian.updated")]
    #[serde(rename = "guardian.updated")]
    GuardianUpdated,
    #[oai(rename = "signal.recorded")]
    #[serde(rename = "signal.recorded")]
    SignalRecorded,
    #[oai(rename = "signal.revised")]
    #[serde(rename = "signal.revised")]
    SignalRevised,
    #[oai(rename = "case.opened")]
    #[serde(rename = "case.opened")]
    CaseOpened,
    #[oai(rename = "case.step_recorded")]
    #[serde(rename = "case.step_recorded")]
    CaseStepRecorded,
    #[oai(rename = "case.lead_changed")]
    #[serde(rename = "case.lead_changed")]
    CaseLeadChanged,
    #[oai(rename = "case.action_added")]
    #[serde(rename = "case.action_added")]
    CaseActionAdded,
    #[oai(rename = "case.action_updated")]
    #[serde(rename = "case.action_updated")]
    CaseActionUpdated,
    #[oai(rename = "case.closed")]
    #[serde(rename = "case.closed")]
    CaseClosed,
    #[oai(rename = "case.approval_requested")]
    #[serde(rename = "case.approval_requested")]
    CaseApprovalRequested,
    #[oai(rename = "case.proposal_decided")]
    #[serde(rename = "case.proposal_decided")]
    CaseProposalDecided,
    #[oai(rename = "handoff.sent")]
    #[serde(rename = "handoff.sent")]
    HandoffSent,
    #[oai(rename = "handoff.acknowledged")]
    #[serde(rename = "handoff.acknowledged")]
    HandoffAcknowledged,
    #[oai(rename = "handoff.accepted")]
    #[serde(rename = "handoff.accepted")]
    HandoffAccepted,
    #[oai(rename = "handoff.declined")]
    #[serde(rename = "handoff.declined")]
    HandoffDeclined,
    #[oai(rename = "handoff.closed")]
    #[serde(rename = "handoff.closed")]
    HandoffClosed,
    #[oai(rename = "handoff.withdrawn")]
    #[serde(rename = "handoff.withdrawn")]
    HandoffWithdrawn,
    #[oai(rename = "handoff.acknowledgement_overdue")]
    #[serde(rename = "handoff.acknowledgement_overdue")]
    HandoffAcknowledgementOverdue,
    #[oai(rename = "handoff.assessment_overdue")]
    #[serde(rename = "handoff.assessment_overdue")]
    HandoffAssessmentOverdue,
    #[oai(rename = "handoff.reminded")]
    #[serde(rename = "handoff.reminded")]
    HandoffReminded,
    #[oai(rename = "handoff.forwarded")]
    #[serde(rename = "handoff.forwarded")]
    HandoffForwarded,
    #[oai(rename = "consent.created")]
    #[serde(rename = "consent.created")]
    ConsentCreated,
    #[oai(rename = "consent.decision_recorded")]
    #[serde(rename = "consent.decision_recorded")]
    ConsentDecisionRecorded,
    #[oai(rename = "consent.activated")]
    #[serde(rename = "consent.activated")]
    ConsentActivated,
    #[oai(rename = "consent.rejected")]
    #[serde(rename = "consent.rejected")]
    ConsentRejected,
    #[oai(rename = "consent.withdrawn")]
    #[serde(rename = "consent.withdrawn")]
    ConsentWithdrawn,
    #[oai(rename = "feedback.sent")]
    #[serde(rename = "feedback.sent")]
    FeedbackSent,
    #[oai(rename = "feedback.read")]
    #[serde(rename = "feedback.read")]
    FeedbackRead,
    #[oai(rename = "child.purged")]
    #[serde(rename = "child.purged")]
    ChildPurged,
    #[oai(rename = "child.destruction_notified")]
    #[serde(rename = "child.destruction_notified")]
    ChildDestructionNotified,
    #[oai(rename = "legal_hold.placed")]
    #[serde(rename = "legal_hold.placed")]
    LegalHoldPlaced,
    #[oai(rename = "legal_hold.lifted")]
    #[serde(rename = "legal_hold.lifted")]
    LegalHoldLifted,
    #[oai(rename = "destruction_request.received")]
    #[serde(rename = "destruction_request.received")]
    DestructionRequestReceived,
    #[oai(rename = "destruction_request.extended")]
    #[serde(rename = "destruction_request.extended")]
    DestructionRequestExtended,
    #[oai(rename = "destruction_request.decided")]
    #[serde(rename = "destruction_request.decided")]
    DestructionRequestDecided,
    #[oai(rename = "webhook_subscription.disabled")]
    #[serde(rename = "webhook_subscription.disabled")]
    WebhookSubscriptionDisabled,
    #[oai(rename = "partner_link.proposed")]
    #[serde(rename = "partner_link.proposed")]
    PartnerLinkProposed,
    #[oai(rename = "partner_link.confirmed")]
    #[serde(rename = "partner_link.confirmed")]
    PartnerLinkConfirmed,
    #[oai(rename = "partner_link.ended")]
    #[serde(rename = "partner_link.ended")]
    PartnerLinkEnded,
    #[oai(rename = "kernteam_meeting.scheduled")]
    #[serde(rename = "kernteam_meeting.scheduled")]
    KernteamMeetingScheduled,
    #[oai(rename = "kernteam_action.assigned")]
    #[serde(rename = "kernteam_action.assigned")]
    KernteamActionAssigned,
    #[oai(rename = "case_review.proposed")]
    #[serde(rename = "case_review.proposed")]
    CaseReviewProposed,
    #[oai(rename = "case_review.answered")]
    #[serde(rename = "case_review.answered")]
    CaseReviewAnswered,
    #[oai(rename = "case_review.part_released")]
    #[serde(rename = "case_review.part_released")]
    CaseReviewPartReleased,
    #[oai(rename = "case_review.released")]
    #[serde(rename = "case_review.released")]
    CaseReviewReleased,
    #[oai(rename = "case_review.withdrawn")]
    #[serde(rename = "case_review.withdrawn")]
    CaseReviewWithdrawn,
}

crate::labelled!(EventType {
    OrganisationCreated => ("organisation.created", "Organisatie aangemaakt", "Organisation created", "An organisation was registered."),
    OrganisationUpdated => ("organisation.updated", "Organisatie gewijzigd", "Organisation updated", "An organisation was changed."),
    ChildCreated => ("child.created", "Kind aangemaakt", "Child created", "A child was registered (or taken in from a handoff)."),
    ChildUpdated => ("child.updated", "Kind gewijzigd", "Child updated", "A child's data was corrected."),
    GuardianAdded => ("guardian.added", "Ouder/verzorger toegevoegd", "Guardian added", "A guardian was added to a child (the resource is the child)."),
    GuardianUpdated => ("guardian.updated", "Ouder/verzorger gewijzigd", "Guardian updated", "A guardian was corrected (the resource is the child)."),
    SignalRecorded => ("signal.recorded", "Signaal vastgelegd", "Signal recorded", "A signal was recorded."),
    SignalRevised => ("signal.revised", "Signaal gecorrigeerd", "Signal revised", "A signal was corrected by a revision."),
    CaseOpened => ("case.opened", "Casus geopend", "Case opened", "A meldcode case was opened."),
    CaseStepRecorded => ("case.step_recorded", "Casus stap vastgelegd", "Case step recorded", "A meldcode step was recorded on a case."),
    CaseLeadChanged => ("case.lead_changed", "Casus regie overgedragen", "Case lead changed", "A case's lead changed hands."),
    CaseActionAdded => ("case.action_added", "Casus afspraak toegevoegd", "Case action added", "An agreement was added to a case."),
    CaseActionUpdated => ("case.action_updated", "Casus afspraak gewijzigd", "Case action updated", "An agreement of a case changed."),
    CaseClosed => ("case.closed", "Casus afgesloten", "Case closed", "A case was closed."),
    CaseApprovalRequested => ("case.approval_requested", "Goedkeuring gevraagd", "Approval requested",
        "A decision or closure was proposed under four eyes and awaits a second professional."),
    CaseProposalDecided => ("case.proposal_decided", "Voorstel beoordeeld", "Proposal decided",
        "A second professional approved or rejected a proposed decision or closure."),
    HandoffSent => ("handoff.sent", "Overdracht verstuurd", "Handoff sent", "A handoff was sent (to the recipient: received)."),
    HandoffAcknowledged => ("handoff.acknowledged", "Overdracht ontvangst bevestigd", "Handoff acknowledged", "The recipient acknowledged a handoff."),
    HandoffAccepted => ("handoff.accepted", "Overdracht aangenomen", "Handoff accepted", "The recipient accepted a handoff."),
    HandoffDeclined => ("handoff.declined", "Overdracht afgewezen", "Handoff declined", "The recipient declined a handoff."),
    HandoffClosed => ("handoff.closed", "Overdracht afgesloten", "Handoff closed", "The recipient closed a handoff."),
    HandoffWithdrawn => ("handoff.withdrawn", "Overdracht ingetrokken", "Handoff withdrawn", "The sender withdrew a handoff."),
    HandoffAcknowledgementOverdue => ("handoff.acknowledgement_overdue", "Ontvangstbevestiging te laat",
        "Acknowledgement overdue", "A handoff was not acknowledged in time: once, to sender and recipient."),
    HandoffAssessmentOverdue => ("handoff.assessment_overdue", "Veiligheidsbeoordeling te laat",
        "Assessment overdue", "A report's safety assessment was not decided in time: once, to sender and recipient."),
    HandoffReminded => ("handoff.reminded", "Herinnering ontvangen", "Handoff reminded",
        "The sender reminded the recipient of an open handoff."),
    HandoffForwarded => ("handoff.forwarded", "Overdracht doorgestuurd", "Handoff forwarded",
        "Veilig Thuis forwarded a handoff to another region (to sender and forwarding region; the new region gets handoff.sent for the new handoff)."),
    ConsentCreated => ("consent.created", "Toestemming aangemaakt", "Consent created", "A consent was asked."),
    ConsentDecisionRecorded => ("consent.decision_recorded", "Toestemming besluit vastgelegd", "Consent decision recorded", "A party's decision on a consent was recorded."),
    ConsentActivated => ("consent.activated", "Toestemming actief", "Consent activated", "A consent became active."),
    ConsentRejected => ("consent.rejected", "Toestemming geweigerd", "Consent rejected", "A party refused a consent."),
    ConsentWithdrawn => ("consent.withdrawn", "Toestemming ingetrokken", "Consent withdrawn", "A consent was withdrawn (to the recipient too)."),
    FeedbackSent => ("feedback.sent", "Terugkoppeling verstuurd", "Feedback sent", "Feedback was sent (to the recipient: received)."),
    FeedbackRead => ("feedback.read", "Terugkoppeling gelezen", "Feedback read", "Feedback was read at the receiving organisation."),
    ChildPurged => ("child.purged", "Kind verwijderd", "Child purged",
        "The personal data of a child's records was purged (retention or a granted destruction request); a tombstone stays. Delete your copy."),
    ChildDestructionNotified => ("child.destruction_notified", "Vernietiging gemeld", "Destruction notified",
        "The sender or recipient of a handoff destroyed its records about the child on request (AVG art. 19); the resource is the handoff. Consider your own copy under your own retention."),
    LegalHoldPlaced => ("legal_hold.placed", "Bewaarplicht ingesteld", "Legal hold placed",
        "A legal hold now blocks purging and destroying a child's records."),
    LegalHoldLifted => ("legal_hold.lifted", "Bewaarplicht opgeheven", "Legal hold lifted", "A legal hold was lifted."),
    DestructionRequestReceived => ("destruction_request.received", "Vernietigingsverzoek ontvangen",
        "Destruction request received", "A destruction request was recorded."),
    DestructionRequestExtended => ("destruction_request.extended", "Beslistermijn verlengd",
        "Destruction request extended", "A destruction request's term was extended by two months (AVG art. 12(3))."),
    DestructionRequestDecided => ("destruction_request.decided", "Vernietigingsverzoek besloten",
        "Destruction request decided", "A destruction request was granted (and carried out) or refused."),
    WebhookSubscriptionDisabled => ("webhook_subscription.disabled", "Webhook uitgeschakeld",
        "Webhook subscription disabled",
        "A webhook subscription was disabled after a run of failed deliveries."),
    PartnerLinkProposed => ("partner_link.proposed", "Partnerkoppeling voorgesteld", "Partner link proposed",
        "A school proposed a partner link (to the school and the partner)."),
    PartnerLinkConfirmed => ("partner_link.confirmed", "Partnerkoppeling bevestigd", "Partner link confirmed",
        "The partner confirmed a link or named another contact (to both sides)."),
    PartnerLinkEnded => ("partner_link.ended", "Partnerkoppeling beëindigd", "Partner link ended",
        "One side ended a partner link (to both sides)."),
    KernteamMeetingScheduled => ("kernteam_meeting.scheduled", "Kernteamoverleg gepland", "Kernteam meeting scheduled",
        "A kernteam meeting was scheduled (to every member's and guest's organisation)."),
    KernteamActionAssigned => ("kernteam_action.assigned", "Kernteamactie toegewezen", "Kernteam action assigned",
        "The kernteam agreed an action owned by your organisation."),
    CaseReviewProposed => ("case_review.proposed", "Casusbespreking voorgesteld", "Case review proposed",
        "One side of a closed report proposed a joint case review (to both sides)."),
    CaseReviewAnswered => ("case_review.answered", "Casusbespreking beantwoord", "Case review answered",
        "The other side accepted or declined a case review (to both sides)."),
    CaseReviewPartReleased => ("case_review.part_released", "Deel vrijgegeven", "Case review part released",
        "One side released its part of a case review (to both sides)."),
    CaseReviewReleased => ("case_review.released", "Casusbespreking vrijgegeven", "Case review released",
        "Both sides released their parts: the review is readable by both."),
    CaseReviewWithdrawn => ("case_review.withdrawn", "Casusbespreking ingetrokken", "Case review withdrawn",
        "A side withdrew a case review before it was released (to both sides)."),
});

impl EventType {
    pub fn as_str(self) -> &'static str {
        self.code()
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

/// Where a resource of an event lives.
pub fn resource_href(resource_type: &str, id: Uuid) -> String {
    match resource_type {
        "organisation" => format!("/v1/organisations/{id}"),
        "child" => format!("/v1/children/{id}"),
        "signal" => format!("/v1/signals/{id}"),
        "case" => format!("/v1/cases/{id}"),
        "handoff" => format!("/v1/handoffs/{id}"),
        "consent" => format!("/v1/consents/{id}"),
        "feedback" => format!("/v1/feedback/{id}"),
        "webhook_subscription" => format!("/v1/webhook-subscriptions/{id}"),
        "destruction_request" => format!("/v1/destruction-requests/{id}"),
        // A child's legal hold: the resource id is the child's.
        "legal_hold" => format!("/v1/children/{id}/legal-hold"),
        other => format!("/v1/{other}/{id}"),
    }
}

/// The id clients and webhook receivers see: stable, unique, never reused.
pub fn public_id(id: i64) -> String {
    format!("evt_{id}")
}
