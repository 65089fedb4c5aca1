//! Loading a consent with its child, and the effects that announce a change on both sides.

use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use chrono::NaiveDate;

use super::{CONSENT, CreateConsent};
use crate::{
    api::children::load_own_child,
    audit::{Access, AccessAction, Actor},
    auth::{Principal, policy},
    db::{
        children as child_queries,
        consents::{self as queries, ConsentRecord},
        handoffs as handoff_queries, organisations as organisation_queries,
        timeline::TimelineEntry,
    },
    domain::{
        calendar::dutch_today,
        consent::{AskContext, ConsentStatus},
        reference::Labelled,
        timeline::Visibility,
    },
    effects::Effects,
    error::AppError,
    events::{Event, EventType},
};

/// What asking consent needs to know: the caller's child, the recipient, the handoff named.
pub async fn ask_context(
    conn: &mut AsyncPgConnection,
    principal: &Principal,
    input: &CreateConsent,
) -> Result<(Option<child_queries::Child>, AskContext), AppError> {
    let child = child_queries::find(conn, principal.org_id(), input.child_id).await?;
    let recipient = organisation_queries::find(conn, input.recipient_organisation).await?;
    let handoff_known = match input.handoff_id {
        Some(id) => handoff_queries::find_for_party(conn, principal.org_id(), id, false)
            .await?
            .is_some(),
        None => false,
    };
    let context = AskContext {
        asker: principal.org_id(),
        child_known: child.is_some(),
        recipient_known: recipient.is_some(),
        handoff_known,
        today: dutch_today(),
    };
    Ok((child, context))
}

/// Records the consent asked, as a draft, with what announces it.
pub async fn ask(
    conn: &mut AsyncPgConnection,
    actor: Actor<'_>,
    child: &child_queries::Child,
    input: &CreateConsent,
    valid_until: NaiveDate,
) -> Result<ConsentRecord, AppError> {
    let principal = actor.principal;
    let consent = queries::insert(
        conn,
        &queries::NewConsent {
            id: Uuid::now_v7(),
            organisation_id: principal.org_id(),
            child_id: child.id,
            purpose: input.purpose,
            recipient_organisation_id: input.recipient_organisation,
            scope: input.scope.iter().copied().map(Some).collect(),
            handoff_id: input.handoff_id,
            valid_until,
            created_by_sub: &principal.sub,
            created_by_name: &principal.name,
        },
    )
    .await?;
    let summary = format!("Consent asked: {}", input.purpose.code());
    announce(
        conn,
        &consent,
        EventType::ConsentCreated,
        "consent.created",
        summary,
    )
    .await?
    .access(Access::allowed(AccessAction::Create, CONSENT, consent.id).about_child(child.id))
    .write(conn, actor)
    .await?;
    Ok(ConsentRecord {
        consent,
        decisions: Vec::new(),
    })
}

/// A decision recorded, and — when it made the consent active or refused — that too.
pub async fn decision_recorded(
    conn: &mut AsyncPgConnection,
    actor: Actor<'_>,
    record: &ConsentRecord,
    status: ConsentStatus,
    words: String,
) -> Result<(), AppError> {
    let consent = &record.consent;
    let summary = format!("Consent {words}");
    let mut effects = announce(
        conn,
        consent,
        EventType::ConsentDecisionRecorded,
        "consent.decision_recorded",
        summary,
    )
    .await?;
    if let Some((event, entry_type, summary)) = status_event(status) {
        let extra = announce(conn, consent, event, entry_type, summary.to_owned()).await?;
        effects = effects.merge(extra);
    }
    effects
        .access(
            Access::allowed(AccessAction::Update, CONSENT, consent.id)
                .about_child(consent.child_id),
        )
        .write(conn, actor)
        .await?;
    Ok(())
}

/// A consent the caller's organisation recorded, with its child and guardians, or 404.
pub async fn load(
    conn: &mut AsyncPgConnection,
    principal: &Principal,
    id: Uuid,
    for_update: bool,
) -> Result<
    (
        ConsentRecord,
        child_queries::Child,
        Vec<child_queries::Guardian>,
    ),
    AppError,
> {
    let record = queries::find(conn, principal.org_id(), id, for_update)
        .await?
        .ok_or_else(AppError::not_found)?;
    let child = load_own_child(conn, principal, record.consent.child_id).await?;
    let guardians = child_queries::guardians_of(conn, &[child.id]).await?;
    Ok((record, child, guardians))
}

/// Events and timeline entries on both sides: the recording organisation's child, and — when
/// the consent relates to a handoff the recipient sent — the recipient's child.
pub async fn announce(
    conn: &mut AsyncPgConnection,
    consent: &queries::Consent,
    event: EventType,
    entry_type: &'static str,
    summary: String,
) -> Result<Effects, AppError> {
    let mut effects = Effects::new()
        .event(Event::new(
            event,
            consent.organisation_id,
            CONSENT,
            consent.id,
        ))
        .timeline(TimelineEntry {
            organisation_id: consent.organisation_id,
            child_id: consent.child_id,
            entry_type,
            resource_type: CONSENT,
            resource_id: consent.id,
            summary: summary.clone(),
            visibility: Visibility::Organisation,
        });
    let recipient_side = matches!(
        event,
        EventType::ConsentActivated | EventType::ConsentWithdrawn | EventType::ConsentRejected
    );
    if recipient_side {
        effects = effects.event(Event::new(
            event,
            consent.recipient_organisation_id,
            CONSENT,
            consent.id,
        ));
        if let Some(handoff) = consent.handoff_id
            && let Some(h) =
                handoff_queries::find_for_party(conn, consent.organisation_id, handoff, false)
                    .await?
            && h.from_organisation_id == consent.recipient_organisation_id
            && let Some(child) = h.child_id
        {
            effects = effects.timeline(TimelineEntry {
                organisation_id: consent.recipient_organisation_id,
                child_id: child,
                entry_type,
                resource_type: CONSENT,
                resource_id: consent.id,
                summary,
                visibility: policy::CASE_TIMELINE_VISIBILITY,
            });
        }
    }
    Ok(effects)
}

/// The event a decision's outcome adds, if the consent became active or was refused.
fn status_event(status: ConsentStatus) -> Option<(EventType, &'static str, &'static str)> {
    match status {
        ConsentStatus::Active => Some((
            EventType::ConsentActivated,
            "consent.activated",
            "Consent active",
        )),
        ConsentStatus::Rejected => Some((
            EventType::ConsentRejected,
            "consent.rejected",
            "Consent refused",
        )),
        ConsentStatus::Draft | ConsentStatus::Inactive => None,
    }
}
