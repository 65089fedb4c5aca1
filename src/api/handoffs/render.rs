//! A stored handoff as the caller's organisation sees it, and what every change of it records:
//! events for both organisations and entries on both children's timelines.

use chrono::Utc;
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::{
    api::{
        handoffs::dto::{
            Handoff, HandoffLink, HandoffReminder, HandoffTransition, OverdueDeadline,
        },
        organisations::OrganisationSummary,
        shared::Professional,
    },
    audit::{Access, AccessAction},
    auth::{Principal, policy},
    db::{
        children as child_queries, consents as consent_queries, feedback as feedback_queries,
        handoffs::{self as queries, Handoff as Stored, TransitionRecord},
        organisations as organisation_queries,
        timeline::TimelineEntry,
    },
    domain::{
        handoff::{self as rules, HandoffKind},
        reference::Labelled,
    },
    effects::Effects,
    error::AppError,
    events::{Event, EventType},
};

pub const HANDOFF: &str = "handoff";

pub async fn summary_of(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> Result<OrganisationSummary, AppError> {
    let org = organisation_queries::find(conn, id)
        .await?
        .ok_or_else(|| AppError::internal(format!("organisation {id} vanished")))?;
    Ok(OrganisationSummary {
        id: org.id,
        kind: org.kind,
        name: org.name,
    })
}

/// One handoff with its lifecycle.
pub async fn render_one(
    conn: &mut AsyncPgConnection,
    principal: &Principal,
    stored: &Stored,
) -> Result<Handoff, AppError> {
    let transitions = queries::transitions_of(conn, &[stored.id]).await?;
    render(conn, principal, stored, &transitions).await
}

/// What the caller's organisation sees: the sender its own links, the recipient its intake.
pub async fn render(
    conn: &mut AsyncPgConnection,
    principal: &Principal,
    stored: &Stored,
    transitions: &[TransitionRecord],
) -> Result<Handoff, AppError> {
    let snapshot = stored.snapshot().map_err(|err| {
        AppError::internal(format!("handoff {} snapshot unreadable: {err}", stored.id))
    })?;
    let is_sender = stored.is_sender(principal.org_id());
    let now = Utc::now();
    let has_status_feedback = !queries::with_status_feedback(conn, &[stored.id])
        .await?
        .is_empty();
    let consent_withdrawn_at = match stored.consent_id {
        Some(id) => consent_queries::by_ids(conn, &[id])
            .await?
            .first()
            .and_then(|c| c.withdrawn_at),
        None => None,
    };
    let deadlines = stored.deadlines();
    let overdue = rules::overdue_deadlines(stored.kind, stored.status, &deadlines, now);
    let reminders = queries::reminders_of(conn, &[stored.id]).await?;
    let party = policy::handoff_party(principal, stored.from_organisation_id);
    let recipient = organisation_queries::find(conn, stored.to_organisation_id)
        .await?
        .ok_or_else(|| AppError::internal("recipient organisation vanished"))?;
    let duty_contact = rules::shows_duty_contact(party, stored.urgency, &overdue)
        .then(|| recipient.duty_contact().map(Into::into))
        .flatten();
    let (from_id, to_id) = queries::forwarding_links(conn, stored.id).await?;
    let matched_child_id = match (&snapshot, stored.kind, is_sender) {
        (snapshot, HandoffKind::TransferRequest, false) => {
            child_queries::matching(
                conn,
                principal.org_id(),
                snapshot.pupil_number.as_deref(),
                snapshot
                    .child
                    .as_ref()
                    .and_then(|c| c.bsn.as_deref().map(|bsn| (bsn, c.date_of_birth))),
            )
            .await?
        }
        _ => None,
    };
    let forwarded_from = link(conn, from_id).await?;
    let forwarded_to = link(conn, to_id).await?;
    Ok(Handoff {
        id: stored.id,
        kind: stored.kind,
        status: stored.status,
        from: summary_of(conn, stored.from_organisation_id).await?,
        to: OrganisationSummary {
            id: recipient.id,
            kind: recipient.kind,
            name: recipient.name,
        },
        legal_basis: stored.legal_basis,
        consent_id: stored.consent_id,
        in_response_to: stored.in_response_to,
        urgency: stored.urgency,
        message: stored.message.clone(),
        requests_guidance: stored.requests_guidance,
        pupil_number: snapshot.pupil_number.clone(),
        matched_child_id,
        case_summary: snapshot.case_summary.clone(),
        case: snapshot.case.clone().map(Into::into),
        child: snapshot.child.map(Into::into),
        age_band: stored.age_band,
        guardians: snapshot.guardians.into_iter().map(Into::into).collect(),
        signals: snapshot.signals.into_iter().map(Into::into).collect(),
        parents_informed_at: stored.parents_informed_at.map(Into::into),
        parents_not_informed_reason: stored.parents_not_informed_reason,
        parents_not_informed_explanation: stored.parents_not_informed_explanation.clone(),
        melder_identity_disclosable: stored.melder_identity_disclosable,
        melder_identity_reason: stored.melder_identity_reason.clone(),
        sent_at: stored.sent_at.into(),
        sent_by: Professional {
            sub: stored.sent_by_sub.clone(),
            name: stored.sent_by_name.clone(),
        },
        acknowledgement_due_at: stored.acknowledgement_due_at.into(),
        assessment_due_at: stored.assessment_due_at.map(Into::into),
        assessment_decided_at: stored.assessment_decided_at.map(Into::into),
        overdue: !overdue.is_empty(),
        overdue_deadlines: overdue
            .into_iter()
            .map(|(deadline, due_at)| OverdueDeadline {
                deadline,
                due_at: due_at.into(),
            })
            .collect(),
        reminders: reminders
            .into_iter()
            .map(|r| HandoffReminder {
                at: r.at.into(),
                by: Professional {
                    sub: r.by_sub,
                    name: r.by_name,
                },
                by_organisation: r.by_organisation_id,
                note: r.note,
            })
            .collect(),
        awaiting_feedback: rules::awaiting_feedback(
            stored.kind,
            stored.status,
            has_status_feedback,
            &deadlines,
            now,
        ),
        consent_withdrawn_at: consent_withdrawn_at.map(Into::into),
        transitions: transitions
            .iter()
            .filter(|t| t.handoff_id == stored.id)
            .map(|t| HandoffTransition {
                transition: t.transition.code().to_owned(),
                from_status: t.from_status,
                to_status: t.to_status,
                note: t.note.clone(),
                by: Professional {
                    sub: t.by_sub.clone(),
                    name: t.by_name.clone(),
                },
                by_organisation: t.by_organisation_id,
                at: t.at.into(),
            })
            .collect(),
        child_id: stored.child_id.filter(|_| is_sender),
        case_id: stored.case_id.filter(|_| is_sender),
        intake_child_id: stored.intake_child_id.filter(|_| !is_sender),
        forwarded_from,
        forwarded_to,
        conditions_check_on: feedback_queries::conditions_check_on(conn, stored.id).await?,
        duty_contact,
    })
}

/// A handoff linked by forwarding: its id and its recipient — the region that forwarded it
/// (`forwardedFrom`) or took it on (`forwardedTo`) — never its content, which only its own
/// parties open.
async fn link(
    conn: &mut AsyncPgConnection,
    id: Option<Uuid>,
) -> Result<Option<HandoffLink>, AppError> {
    let Some(id) = id else { return Ok(None) };
    let organisation = queries::recipient_of(conn, id)
        .await?
        .ok_or_else(|| AppError::internal(format!("forwarded handoff {id} vanished")))?;
    Ok(Some(HandoffLink {
        handoff_id: id,
        organisation: summary_of(conn, organisation).await?,
    }))
}

/// Events for both organisations, and entries on the timelines of both children (where they
/// exist).
pub fn announce(
    stored: &Stored,
    event: EventType,
    entry_type: &'static str,
    summary: String,
) -> Effects {
    let mut effects = Effects::new()
        .event(Event::new(
            event,
            stored.from_organisation_id,
            HANDOFF,
            stored.id,
        ))
        .event(Event::new(
            event,
            stored.to_organisation_id,
            HANDOFF,
            stored.id,
        ));
    for (organisation, child) in [
        (stored.from_organisation_id, stored.child_id),
        (stored.to_organisation_id, stored.intake_child_id),
    ] {
        if let Some(child) = child {
            effects = effects.timeline(TimelineEntry {
                organisation_id: organisation,
                child_id: child,
                entry_type,
                resource_type: HANDOFF,
                resource_id: stored.id,
                summary: summary.clone(),
                visibility: policy::CASE_TIMELINE_VISIBILITY,
            });
        }
    }
    effects
}

/// An access to the handoff, about the caller's own child record of it, if any.
pub fn access(principal: &Principal, action: AccessAction, stored: &Stored) -> Access {
    let access = Access::allowed(action, HANDOFF, stored.id);
    match stored.child_of(principal.org_id()) {
        Some(child) => access.about_child(child),
        None => access,
    }
}
