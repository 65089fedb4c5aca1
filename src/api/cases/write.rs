//! Loading what a case decision needs, and writing what it decided with everything that records
//! it (access-log entries, event, timeline entry) in the caller's transaction.

use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::{CASE, CASE_ACTION, CASE_STEP};
use crate::{
    audit::{Access, AccessAction, Actor},
    auth::{Principal, policy},
    db::{
        cases::{self as queries, CaseFile},
        children as child_queries, organisations as organisation_queries,
        timeline::TimelineEntry,
    },
    domain::{
        meldcode::{
            Agreement, Lead, StepPlan, StepRequest,
            approval::{ApprovalPlan, ProposalSubject},
            record::StepDetails,
        },
        reference::Labelled,
    },
    effects::Effects,
    error::AppError,
    events::{Event, EventType},
};

/// A case of the caller's organisation that the caller may see, with everything on it, or 404.
pub async fn load_file(
    conn: &mut AsyncPgConnection,
    principal: &Principal,
    id: Uuid,
    for_update: bool,
) -> Result<CaseFile, AppError> {
    let scope = policy::case_scope(principal);
    let case = queries::find(conn, principal.org_id(), &scope, id, for_update)
        .await?
        .ok_or_else(AppError::not_found)?;
    reload(conn, case).await
}

/// Whether the caller's organisation applies the four-eyes principle (vier-ogenprincipe).
pub async fn four_eyes(
    conn: &mut AsyncPgConnection,
    principal: &Principal,
) -> Result<bool, AppError> {
    Ok(organisation_queries::find(conn, principal.org_id())
        .await?
        .is_some_and(|o| o.four_eyes))
}

pub async fn reload(
    conn: &mut AsyncPgConnection,
    case: queries::Case,
) -> Result<CaseFile, AppError> {
    Ok(queries::load_files(conn, vec![case]).await?.remove(0))
}

/// What a step's rules look up beyond the case file: which of the named signals are the
/// child's, the child's guardians, which named organisations exist.
pub struct Lookups {
    pub child_signals: Vec<Uuid>,
    pub guardians: Vec<Uuid>,
    pub known_organisations: Vec<Uuid>,
}

pub async fn lookups(
    conn: &mut AsyncPgConnection,
    child: Uuid,
    request: &StepRequest,
) -> Result<Lookups, AppError> {
    let child_signals = match &request.details {
        StepDetails::SignalsMapped(s) => {
            queries::signals_of_child(conn, child, &s.signal_ids).await?
        }
        _ => Vec::new(),
    };
    let guardians = match &request.details {
        StepDetails::Conversation(_) => child_queries::guardians_of(conn, &[child])
            .await?
            .into_iter()
            .map(|g| g.id)
            .collect(),
        _ => Vec::new(),
    };
    let named: Vec<Uuid> = request
        .agreements
        .iter()
        .filter_map(|a| a.owner.organisation_id)
        .collect();
    Ok(Lookups {
        child_signals,
        guardians,
        known_organisations: known_organisations(conn, &named).await?,
    })
}

/// Of these organisations, those in the directory.
pub async fn known_organisations(
    conn: &mut AsyncPgConnection,
    ids: &[Uuid],
) -> Result<Vec<Uuid>, AppError> {
    Ok(organisation_queries::existing(conn, ids).await?)
}

/// Opens a case for the child, led by `lead`, with what records it.
pub async fn open(
    conn: &mut AsyncPgConnection,
    actor: Actor<'_>,
    child: Uuid,
    lead: &Lead,
) -> Result<queries::Case, AppError> {
    let principal = actor.principal;
    let case = queries::insert(
        conn,
        &queries::NewCase {
            id: Uuid::now_v7(),
            organisation_id: principal.org_id(),
            child_id: child,
            lead_sub: &lead.sub,
            lead_name: &lead.name,
            opened_by_sub: &principal.sub,
            opened_by_name: &principal.name,
        },
    )
    .await?;
    let summary = format!("Meldcode case opened, led by {}", case.lead_name);
    case_change(
        principal,
        &case,
        AccessAction::Create,
        EventType::CaseOpened,
        "case.opened",
        summary,
    )
    .write(conn, actor)
    .await?;
    Ok(case)
}

/// Appends a decided step, with a decision's agreements, and what records it.
pub async fn append_step(
    conn: &mut AsyncPgConnection,
    actor: Actor<'_>,
    file: CaseFile,
    request: &StepRequest,
    plan: StepPlan,
) -> Result<CaseFile, AppError> {
    let principal = actor.principal;
    let step = queries::insert_step(
        conn,
        &queries::NewStep {
            id: Uuid::now_v7(),
            case_id: file.case.id,
            kind: request.details.step(),
            details: request.details.to_stored(),
            supersedes: request.supersedes,
            correction_reason: request.correction_reason.as_deref(),
            recorded_by_sub: &principal.sub,
            recorded_by_name: &principal.name,
        },
    )
    .await?;
    let mut effects = Effects::new()
        .access(
            Access::allowed(AccessAction::Create, CASE_STEP, step.id)
                .about_child(file.case.child_id),
        )
        .event(Event::new(
            EventType::CaseStepRecorded,
            principal.org_id(),
            CASE,
            file.case.id,
        ))
        .timeline(case_entry(
            principal,
            &file.case,
            "case.step_recorded",
            plan.summary,
        ));
    for agreement in &request.agreements {
        let row = insert_action(conn, principal, file.case.id, agreement, Some(step.id)).await?;
        effects = effects.access(
            Access::allowed(AccessAction::Create, CASE_ACTION, row.id)
                .about_child(file.case.child_id),
        );
    }
    if plan.proposed {
        queries::insert_proposal(
            conn,
            file.case.id,
            ProposalSubject::Decision,
            Some(step.id),
            None,
            (&principal.sub, &principal.name),
        )
        .await?;
        effects = effects.merge(case_change(
            principal,
            &file.case,
            AccessAction::Update,
            EventType::CaseApprovalRequested,
            "case.approval_requested",
            "Decision proposed; awaiting a second professional's approval".to_owned(),
        ));
    }
    effects.write(conn, actor).await?;
    let case = queries::touch(conn, file.case.id).await?;
    reload(conn, case).await
}

/// A closure proposed under four eyes: the case stays open until the verdict.
pub async fn propose_closure(
    conn: &mut AsyncPgConnection,
    actor: Actor<'_>,
    case: &queries::Case,
    note: Option<&str>,
) -> Result<CaseFile, AppError> {
    let principal = actor.principal;
    queries::insert_proposal(
        conn,
        case.id,
        ProposalSubject::Closure,
        None,
        note,
        (&principal.sub, &principal.name),
    )
    .await?;
    case_change(
        principal,
        case,
        AccessAction::Update,
        EventType::CaseApprovalRequested,
        "case.approval_requested",
        "Closure proposed; awaiting a second professional's approval".to_owned(),
    )
    .write(conn, actor)
    .await?;
    let case = queries::touch(conn, case.id).await?;
    reload(conn, case).await
}

/// The second professional's verdict; an approved closure closes the case.
pub async fn give_verdict(
    conn: &mut AsyncPgConnection,
    actor: Actor<'_>,
    case: &queries::Case,
    plan: &ApprovalPlan,
    comment: Option<&str>,
) -> Result<CaseFile, AppError> {
    let principal = actor.principal;
    queries::insert_approval(
        conn,
        plan.proposal_id,
        plan.verdict,
        comment,
        (&principal.sub, &principal.name),
    )
    .await?;
    let summary = format!(
        "{} {}",
        plan.subject.label_en(),
        plan.verdict.label_en().to_lowercase()
    );
    let mut effects = case_change(
        principal,
        case,
        AccessAction::Update,
        EventType::CaseProposalDecided,
        "case.proposal_decided",
        summary,
    );
    let case = if plan.closes {
        let closed = queries::close(
            conn,
            case.id,
            &principal.sub,
            &principal.name,
            plan.closure_note.as_deref(),
        )
        .await?;
        effects = effects.event(Event::new(
            EventType::CaseClosed,
            principal.org_id(),
            CASE,
            case.id,
        ));
        closed
    } else {
        queries::touch(conn, case.id).await?
    };
    effects.write(conn, actor).await?;
    reload(conn, case).await
}

pub async fn insert_action(
    conn: &mut AsyncPgConnection,
    principal: &Principal,
    case: Uuid,
    agreement: &Agreement,
    decision_step: Option<Uuid>,
) -> Result<queries::Action, AppError> {
    Ok(queries::insert_action(
        conn,
        &queries::NewAction {
            id: Uuid::now_v7(),
            case_id: case,
            description: &agreement.description,
            owner_name: &agreement.owner.name,
            owner_sub: agreement.owner.sub.as_deref(),
            owner_organisation_id: agreement.owner.organisation_id,
            due_date: agreement.due_date,
            decision_step_id: decision_step,
            created_by_sub: &principal.sub,
        },
    )
    .await?)
}

pub fn case_entry(
    principal: &Principal,
    case: &queries::Case,
    entry_type: &'static str,
    summary: String,
) -> TimelineEntry {
    TimelineEntry {
        organisation_id: principal.org_id(),
        child_id: case.child_id,
        entry_type,
        resource_type: CASE,
        resource_id: case.id,
        summary,
        visibility: policy::CASE_TIMELINE_VISIBILITY,
    }
}

/// A change to the case itself: its access-log entry, event and timeline entry.
pub fn case_change(
    principal: &Principal,
    case: &queries::Case,
    access: AccessAction,
    event: EventType,
    entry_type: &'static str,
    summary: String,
) -> Effects {
    Effects::new()
        .access(Access::allowed(access, CASE, case.id).about_child(case.child_id))
        .event(Event::new(event, principal.org_id(), CASE, case.id))
        .timeline(case_entry(principal, case, entry_type, summary))
}

pub fn action_effects(
    principal: &Principal,
    case: &queries::Case,
    action: &queries::Action,
    access: AccessAction,
) -> Effects {
    let (event, entry_type, verb) = match access {
        AccessAction::Create => (EventType::CaseActionAdded, "case.action_added", "agreed"),
        _ => (
            EventType::CaseActionUpdated,
            "case.action_updated",
            "updated",
        ),
    };
    Effects::new()
        .access(Access::allowed(access, CASE_ACTION, action.id).about_child(case.child_id))
        .event(Event::new(event, principal.org_id(), CASE, case.id))
        .timeline(case_entry(
            principal,
            case,
            entry_type,
            format!(
                "Agreement {verb}: {} by {}{}",
                action.owner_name,
                action.due_date,
                if action.done_at.is_some() {
                    " (done)"
                } else {
                    ""
                }
            ),
        ))
}
