//! Persisting a decided plan with everything that records it — access-log entries, events and
//! timeline entries — on the connection of the request's one transaction.

use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::domain::timeline::Visibility;
use crate::{
    api::{
        feedback::{FeedbackRecord, write_feedback},
        handoffs::{
            dto::CreateHandoff,
            render::{HANDOFF, access, announce, summary_of},
        },
    },
    audit::{Access, AccessAction, Actor},
    db::{
        children::{self as child_queries, Child},
        handoffs::{self as queries, Handoff as Stored},
        timeline::TimelineEntry,
    },
    domain::{
        feedback::FeedbackCategory,
        handoff::{ChildSnapshot, ForwardPlan, GuardianSnapshot, SendPlan, StepPlan, Transition},
        reference::Labelled,
    },
    effects::Effects,
    error::AppError,
    events::{Event, EventType},
};

const CHILD: &str = "child";

/// The handoff, its disclosure in the access log, and its announcement to both sides.
pub async fn send(
    conn: &mut AsyncPgConnection,
    actor: Actor<'_>,
    input: &CreateHandoff,
    plan: SendPlan,
) -> Result<Stored, AppError> {
    let principal = actor.principal;
    let request = input.as_request();
    let stored = queries::insert(
        conn,
        &queries::NewHandoff {
            id: Uuid::now_v7(),
            kind: input.kind,
            from_organisation_id: principal.org_id(),
            to_organisation_id: plan.recipient_id,
            child_id: input.child_id,
            case_id: input.case_id,
            in_response_to: input.in_response_to,
            consent_id: input.consent_id,
            legal_basis: plan.legal_basis,
            snapshot: serde_json::to_value(&plan.snapshot).map_err(AppError::internal)?,
            age_band: input.age_band,
            message: &input.message,
            urgency: plan.urgency,
            requests_guidance: plan.requests_guidance,
            parents_informed_at: request.report.parents_informed_at,
            parents_not_informed_reason: input.parents_not_informed_reason,
            parents_not_informed_explanation: input.parents_not_informed_explanation.as_deref(),
            melder_identity_disclosable: plan.melder_identity_disclosable,
            melder_identity_reason: input.melder_identity_reason.as_deref(),
            sent_by_sub: &principal.sub,
            sent_by_name: &principal.name,
            sent_at: plan.sent_at,
            acknowledgement_due_at: plan.acknowledgement_due_at,
        },
    )
    .await?;
    let mut disclosure = Access::allowed(AccessAction::Disclose, HANDOFF, stored.id)
        .with_basis(plan.legal_basis.code(), stored.consent_id)
        .disclosed_to(plan.recipient_id);
    if let Some(child) = stored.child_id {
        disclosure = disclosure.about_child(child);
    }
    Effects::new().access(disclosure).write(conn, actor).await?;
    let summary = format!(
        "{} sent to {} ({})",
        input.kind.label_en(),
        plan.recipient_name,
        plan.legal_basis.code()
    );
    announce(&stored, EventType::HandoffSent, "handoff.sent", summary)
        .write(conn, actor)
        .await?;
    Ok(stored)
}

/// The step, its access-log entry, and its announcement to both sides.
pub async fn step(
    conn: &mut AsyncPgConnection,
    actor: Actor<'_>,
    stored: &Stored,
    step: Transition,
    plan: StepPlan,
) -> Result<Stored, AppError> {
    let updated = queries::record_transition(
        conn,
        stored,
        queries::NewTransition {
            transition: step,
            to: plan.to,
            note: plan.note.as_deref(),
            at: plan.at,
            assessment_due_at: plan.assessment_due_at,
        },
        actor.principal,
    )
    .await?;
    let (event, entry_type) = match step {
        Transition::Acknowledge => (EventType::HandoffAcknowledged, "handoff.acknowledged"),
        Transition::Accept => (EventType::HandoffAccepted, "handoff.accepted"),
        Transition::Decline => (EventType::HandoffDeclined, "handoff.declined"),
        Transition::Close => (EventType::HandoffClosed, "handoff.closed"),
        Transition::Withdraw => (EventType::HandoffWithdrawn, "handoff.withdrawn"),
        Transition::Forward => (EventType::HandoffForwarded, "handoff.forwarded"),
    };
    Effects::new()
        .access(access(actor.principal, AccessAction::Update, &updated))
        .write(conn, actor)
        .await?;
    let summary = format!(
        "{} {}",
        updated.kind.label_en(),
        plan.to.label_en().to_lowercase()
    );
    announce(&updated, event, entry_type, summary)
        .write(conn, actor)
        .await?;
    Ok(updated)
}

/// Forwarding: a new handoff from the same sender to the other region with what was sent, the
/// original's step to `forwarded` linked to it, status feedback to the sender naming the region,
/// and the disclosure to the other region in the access log.
pub async fn forward(
    conn: &mut AsyncPgConnection,
    actor: Actor<'_>,
    stored: &Stored,
    plan: ForwardPlan,
) -> Result<Stored, AppError> {
    let principal = actor.principal;
    let successor = queries::insert(
        conn,
        &queries::NewHandoff {
            id: Uuid::now_v7(),
            kind: stored.kind,
            from_organisation_id: stored.from_organisation_id,
            to_organisation_id: plan.target.id,
            child_id: stored.child_id,
            case_id: stored.case_id,
            in_response_to: stored.in_response_to,
            consent_id: stored.consent_id,
            legal_basis: stored.legal_basis,
            snapshot: stored.snapshot.clone(),
            age_band: stored.age_band,
            message: &stored.message,
            urgency: stored.urgency,
            requests_guidance: stored.requests_guidance,
            parents_informed_at: stored.parents_informed_at,
            parents_not_informed_reason: stored.parents_not_informed_reason,
            parents_not_informed_explanation: stored.parents_not_informed_explanation.as_deref(),
            melder_identity_disclosable: stored.melder_identity_disclosable,
            melder_identity_reason: stored.melder_identity_reason.as_deref(),
            sent_by_sub: &stored.sent_by_sub,
            sent_by_name: &stored.sent_by_name,
            sent_at: plan.sent_at,
            acknowledgement_due_at: plan.acknowledgement_due_at,
        },
    )
    .await?;
    queries::insert_forwarding(conn, stored.id, successor.id, plan.step.at).await?;
    let updated = queries::record_transition(
        conn,
        stored,
        queries::NewTransition {
            transition: Transition::Forward,
            to: plan.step.to,
            note: plan.step.note.as_deref(),
            at: plan.step.at,
            assessment_due_at: None,
        },
        principal,
    )
    .await?;
    let mut disclosure = Access::allowed(AccessAction::Disclose, HANDOFF, successor.id)
        .with_basis(successor.legal_basis.code(), successor.consent_id)
        .disclosed_to(plan.target.id);
    if let Some(child) = stored.intake_child_id {
        disclosure = disclosure.about_child(child);
    }
    Effects::new()
        .access(access(principal, AccessAction::Update, &updated))
        .access(disclosure)
        .write(conn, actor)
        .await?;
    let forwarded = format!(
        "{} forwarded to {}",
        stored.kind.label_en(),
        plan.target.name
    );
    announce(
        &updated,
        EventType::HandoffForwarded,
        "handoff.forwarded",
        forwarded,
    )
    .write(conn, actor)
    .await?;
    let sent = format!(
        "{} forwarded by {} to {}",
        stored.kind.label_en(),
        summary_of(conn, stored.to_organisation_id).await?.name,
        plan.target.name
    );
    announce(&successor, EventType::HandoffSent, "handoff.sent", sent)
        .write(conn, actor)
        .await?;
    let record = FeedbackRecord {
        category: FeedbackCategory::Forwarded,
        outcome: None,
        follow_up_check_on: None,
        forwarded_to: Some(plan.target.id),
        message: &plan.feedback_message,
        do_not_discuss_explanation: None,
    };
    write_feedback(conn, actor, &updated, &record, plan.feedback).await?;
    Ok(updated)
}

/// A reminder on the handoff's history, with its access-log entry and the recipient's event.
pub async fn remind(
    conn: &mut AsyncPgConnection,
    actor: Actor<'_>,
    stored: &Stored,
    note: Option<&str>,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<(), AppError> {
    queries::insert_reminder(conn, stored.id, note, actor.principal, at).await?;
    Effects::new()
        .access(access(actor.principal, AccessAction::Update, stored))
        .event(Event::new(
            EventType::HandoffReminded,
            stored.to_organisation_id,
            HANDOFF,
            stored.id,
        ))
        .write(conn, actor)
        .await?;
    Ok(())
}

/// The recipient's own child linked to the handoff: what crossed stays on the handoff, the
/// child record is not overwritten.
pub async fn link_intake(
    conn: &mut AsyncPgConnection,
    actor: Actor<'_>,
    stored: &Stored,
    child: &Child,
) -> Result<(), AppError> {
    let from = summary_of(conn, stored.from_organisation_id).await?;
    Effects::new()
        .access(access(actor.principal, AccessAction::Update, stored).about_child(child.id))
        .timeline(TimelineEntry {
            organisation_id: actor.principal.org_id(),
            child_id: child.id,
            entry_type: "handoff.linked",
            resource_type: HANDOFF,
            resource_id: stored.id,
            summary: format!(
                "{} from {} linked to the child",
                stored.kind.label_en(),
                from.name
            ),
            visibility: Visibility::Organisation,
        })
        .write(conn, actor)
        .await?;
    queries::set_intake(conn, stored.id, child.id).await?;
    Ok(())
}

/// A child record of the recipient from the snapshot, linked to the handoff both ways.
pub async fn take_in(
    conn: &mut AsyncPgConnection,
    actor: Actor<'_>,
    stored: &Stored,
    external_ref: &str,
    child: &ChildSnapshot,
    guardians: &[GuardianSnapshot],
) -> Result<Child, AppError> {
    let principal = actor.principal;
    let row = child_queries::insert(
        conn,
        &child_queries::NewChild {
            id: Uuid::now_v7(),
            organisation_id: principal.org_id(),
            external_ref,
            given_name: &child.given_name,
            family_name: &child.family_name,
            date_of_birth: child.date_of_birth,
            bsn: child.bsn.as_deref(),
            school_group: None,
            created_by_sub: &principal.sub,
        },
    )
    .await?;
    child_queries::link_source_handoff(conn, row.id, stored.id).await?;
    let mut effects = Effects::new()
        .access(Access::allowed(AccessAction::Create, CHILD, row.id).about_child(row.id))
        .event(Event::new(
            EventType::ChildCreated,
            principal.org_id(),
            CHILD,
            row.id,
        ));
    for guardian in guardians {
        let guardian_row = child_queries::insert_guardian(
            conn,
            &child_queries::NewGuardian {
                id: Uuid::now_v7(),
                child_id: row.id,
                name: &guardian.name,
                relationship: guardian.relationship,
                parental_authority: guardian.parental_authority,
                authority_source: guardian.authority_source,
                phone: guardian.contact.phone.as_deref(),
                email: guardian.contact.email.as_deref(),
            },
        )
        .await?;
        effects = effects.access(
            Access::allowed(AccessAction::Create, "guardian", guardian_row.id).about_child(row.id),
        );
    }
    let from = summary_of(conn, stored.from_organisation_id).await?;
    effects
        .timeline(TimelineEntry {
            organisation_id: principal.org_id(),
            child_id: row.id,
            entry_type: "child.created",
            resource_type: HANDOFF,
            resource_id: stored.id,
            summary: format!(
                "Child taken in from a {} of {}",
                stored.kind.label_en().to_lowercase(),
                from.name
            ),
            visibility: Visibility::Organisation,
        })
        .write(conn, actor)
        .await?;
    queries::set_intake(conn, stored.id, row.id).await?;
    Ok(row)
}
