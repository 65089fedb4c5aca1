//! Loading a consent with its child, and the effects that announce a change on both sides.

use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::CONSENT;
use crate::{
    api::children::load_own_child,
    auth::{Principal, policy},
    db::{
        children as child_queries,
        consents::{self as queries, ConsentRecord},
        handoffs as handoff_queries,
        timeline::TimelineEntry,
    },
    domain::{consent::ConsentStatus, timeline::Visibility},
    effects::Effects,
    error::AppError,
    events::{Event, EventType},
};

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
pub fn status_event(status: ConsentStatus) -> Option<(EventType, &'static str, &'static str)> {
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
