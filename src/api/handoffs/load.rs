//! Loading what a handoff decision needs: records named in the request are looked up among the
//! caller's own and passed on as `None` when they are not there, for the domain to refuse.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::{
    api::handoffs::dto::CreateHandoff,
    auth::{Principal, policy},
    db::{
        cases as case_queries,
        children::{self as child_queries, Child, Guardian},
        consents as consent_queries,
        handoffs::{self as queries, Handoff as Stored},
        organisations as organisation_queries,
        signals::{self as signal_queries, SignalWithHistory},
    },
    domain::handoff::{
        Answered, CaseFacts, ChildSnapshot, ContactSnapshot, DeadlineRules, GuardianSnapshot,
        HandoffKind, Recipient, SendContext, SignalSnapshot, Snapshot,
    },
    domain::meldcode::approval::ProposalSubject,
    error::AppError,
};

/// The handoff as the caller's organisation may see it (locked when `for_update`), or 404.
pub async fn visible(
    conn: &mut AsyncPgConnection,
    principal: &Principal,
    id: Uuid,
    for_update: bool,
) -> Result<Stored, AppError> {
    queries::find_for_party(conn, principal.org_id(), id, for_update)
        .await?
        .ok_or_else(AppError::not_found)
}

/// For the recipient of a school transfer: its own pupil, named in the transfer request the
/// transfer answers.
pub async fn requested_for(
    conn: &mut AsyncPgConnection,
    principal: &Principal,
    stored: &Stored,
) -> Result<Option<Uuid>, AppError> {
    let Some(request) = stored
        .in_response_to
        .filter(|_| stored.kind == HandoffKind::SchoolTransfer)
    else {
        return Ok(None);
    };
    Ok(
        queries::find_for_party(conn, principal.org_id(), request, false)
            .await?
            .filter(|r| r.kind == HandoffKind::TransferRequest && r.is_sender(principal.org_id()))
            .and_then(|r| r.child_id),
    )
}

/// An organisation of the directory as a possible recipient; `None` when there is none.
pub async fn recipient(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> Result<Option<Recipient>, AppError> {
    Ok(organisation_queries::find(conn, id)
        .await?
        .map(|org| Recipient {
            id: org.id,
            kind: org.kind,
            name: org.name,
            active: org.active,
        }))
}

pub async fn send_context(
    conn: &mut AsyncPgConnection,
    principal: &Principal,
    input: &CreateHandoff,
    now: DateTime<Utc>,
    deadlines: DeadlineRules,
) -> Result<SendContext, AppError> {
    let recipient = recipient(conn, input.to_organisation).await?;
    let child = match input.child_id {
        Some(id) => child_queries::find(conn, principal.org_id(), id).await?,
        None => None,
    };
    let (snapshot, signals_found, consents) = match &child {
        Some(child) => {
            let guardians = child_queries::guardians_of(conn, &[child.id]).await?;
            let signals = signal_queries::of_child(conn, child.id, &input.signal_ids).await?;
            let consents = match input.consent_id {
                Some(consent) => {
                    consent_queries::grants_for_child(conn, principal.org_id(), child.id)
                        .await?
                        .into_iter()
                        .filter(|g| g.id == consent)
                        .collect()
                }
                None => Vec::new(),
            };
            let found = signals.iter().map(|s| s.signal.id).collect();
            (
                Some(snapshot_of(child, &guardians, &signals)),
                found,
                consents,
            )
        }
        None => (None, Vec::new(), Vec::new()),
    };
    let answered = match input.in_response_to {
        Some(id) => queries::find_for_party(conn, principal.org_id(), id, false)
            .await?
            .map(|r| Answered {
                kind: r.kind,
                from_organisation_id: r.from_organisation_id,
                to_organisation_id: r.to_organisation_id,
                status: r.status,
            }),
        None => None,
    };
    let case = match input.case_id {
        Some(id) => {
            let scope = policy::case_scope(principal);
            case_queries::case_and_decision(conn, principal.org_id(), &scope, id)
                .await?
                .map(|(case, decision, pending)| CaseFacts {
                    child_id: case.child_id,
                    decision,
                    decision_pending: pending == Some(ProposalSubject::Decision),
                    open: case.is_open(),
                    lead_name: case.lead_name,
                })
        }
        None => None,
    };
    Ok(SendContext {
        sender_id: principal.org_id(),
        sender_kind: principal.organisation.kind,
        recipient,
        consents,
        answered,
        snapshot,
        signals_found,
        case,
        now,
        deadlines,
    })
}

/// The child, its guardians and the signals as they stand now: what will cross.
fn snapshot_of(child: &Child, guardians: &[Guardian], signals: &[SignalWithHistory]) -> Snapshot {
    Snapshot {
        child: Some(ChildSnapshot {
            sender_ref: child.external_ref.clone(),
            given_name: child.given_name.clone(),
            family_name: child.family_name.clone(),
            date_of_birth: child.date_of_birth,
            bsn: child.bsn.clone(),
            school_group: child.school_group.clone(),
        }),
        guardians: guardians
            .iter()
            .map(|g| GuardianSnapshot {
                name: g.name.clone(),
                relationship: g.relationship,
                parental_authority: g.parental_authority,
                authority_source: g.authority_source,
                contact: ContactSnapshot {
                    phone: g.phone.clone(),
                    email: g.email.clone(),
                },
            })
            .collect(),
        signals: signals
            .iter()
            .map(|s| {
                let c = s.current().content();
                SignalSnapshot {
                    observed_at: c.observed_at,
                    recorded_at: s.signal.recorded_at,
                    recorded_by_role: s.signal.recorded_by_role.clone(),
                    category: c.category,
                    source: c.source,
                    source_description: c.source_description,
                    facts: c.facts,
                    interpretation: c.interpretation,
                    direction: c.direction,
                }
            })
            .collect(),
        ..Snapshot::default()
    }
}
