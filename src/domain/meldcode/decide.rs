//! The commands on a case, each decided by one function over what was loaded: open a case,
//! record a step (step 1 of an opening case goes through the same rule), hand over the lead,
//! agree or change an agreement (afspraak), close.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::{
    ClosureRefusal, ConversationRecord, Decision, Verdict,
    approval::{self, Proposal},
    check_closure, check_conversation, check_decision, check_decision_terms, file, missing_before,
    record::{SignalsMapped, StepDetails, StepRecord},
    weigh,
};
use crate::domain::{
    FieldError, check_text, handoff::HandoffStatus, reference::Labelled, refusal::Refusal,
    signal::OBSERVED_AT_SKEW,
};

/// Who carries out an agreement: a professional (`sub`) or an organisation, by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub name: String,
    pub sub: Option<String>,
    pub organisation_id: Option<Uuid>,
}

/// The professional who leads the case (regiehouder).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lead {
    pub sub: String,
    pub name: String,
}

/// An agreement (afspraak) to make: what, who, by when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agreement {
    pub description: String,
    pub owner: Owner,
    pub due_date: NaiveDate,
}

/// A step record to append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepRequest {
    pub details: StepDetails,
    pub supersedes: Option<Uuid>,
    pub correction_reason: Option<String>,
    /// Agreements made with a decision (step 5).
    pub agreements: Vec<Agreement>,
}

/// What the rules need of the case and the child.
pub struct CaseContext<'a> {
    pub open: bool,
    pub steps: &'a [StepRecord],
    /// Agreements on the case not yet done.
    pub open_agreements: usize,
    /// Of the signals the request names, those that are the child's.
    pub child_signals: &'a [Uuid],
    /// The child's guardians.
    pub guardians: &'a [Uuid],
    /// Of the organisations the request names as owners, those in the directory.
    pub known_organisations: &'a [Uuid],
    /// The case's four-eyes proposals (vier-ogenprincipe), and whether the organisation asks
    /// for a second professional's approval of decisions and closures.
    pub proposals: &'a [Proposal],
    pub four_eyes: bool,
    pub now: DateTime<Utc>,
}

/// What to record besides the step: the timeline's words for it, and whether it is a proposal
/// awaiting a second professional's approval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepPlan {
    pub summary: String,
    pub proposed: bool,
}

/// The case must be open; a correction names an active record of the same step and says why;
/// the step's predecessors are there (counting the corrected record as gone); then the step's
/// own rules: the child's signals, no times in the future, the child's guardians, a complete
/// weighing, and a decision the latest weighing allows with the terms it needs.
pub fn decide_step(request: &StepRequest, context: &CaseContext<'_>) -> Result<StepPlan, Refusal> {
    require_open(context.open)?;
    let step = request.details.step();
    match (request.supersedes, request.correction_reason.as_deref()) {
        (Some(id), reason) => {
            if reason.is_none_or(|r| r.trim().is_empty()) {
                return Err(Refusal::field(
                    "correctionReason",
                    "say why the earlier record is corrected",
                ));
            }
            if !file::active_of(context.steps, step).any(|s| s.id == id) {
                return Err(Refusal::InvalidCorrection { step });
            }
        }
        (None, Some(_)) => {
            return Err(Refusal::field(
                "correctionReason",
                "only applies with `supersedes`",
            ));
        }
        (None, None) => {}
    }
    let before: Vec<StepRecord> = context
        .steps
        .iter()
        .filter(|s| Some(s.id) != request.supersedes)
        .cloned()
        .collect();
    let progress = file::progress(&before);
    let missing = missing_before(step, &progress);
    if !missing.is_empty() {
        return Err(Refusal::StepOutOfOrder { step, missing });
    }
    let now = context.now;
    match &request.details {
        StepDetails::SignalsMapped(s) => {
            let unknown: Vec<Uuid> = s
                .signal_ids
                .iter()
                .filter(|id| !context.child_signals.contains(id))
                .copied()
                .collect();
            if !unknown.is_empty() {
                return Err(Refusal::UnknownSignals(unknown));
            }
        }
        StepDetails::Consultation(c) => {
            let mut errors: Vec<FieldError> = [
                check_text("consultedRole", &c.consulted_role),
                check_text("advice", &c.advice),
            ]
            .into_iter()
            .flatten()
            .collect();
            if c.consulted_at > now + OBSERVED_AT_SKEW {
                errors.push(FieldError::new("consultedAt", "must not be in the future"));
            }
            Refusal::unless_invalid(errors)?;
        }
        StepDetails::Conversation(c) => {
            let participants = c.participants.clone().unwrap_or_default();
            let mut errors = check_conversation(&ConversationRecord {
                skipped: c.skipped.is_some(),
                explanation: c.skipped.as_ref().map(|s| s.explanation.as_str()),
                participants: participants.guardian_ids.len() + usize::from(participants.child),
                held_at_present: c.held_at.is_some(),
                facts_presented: c.facts_presented.as_deref(),
                reaction: c.reaction.as_deref(),
            });
            if c.held_at.is_some_and(|t| t > now + OBSERVED_AT_SKEW) {
                errors.push(FieldError::new("heldAt", "must not be in the future"));
            }
            Refusal::unless_invalid(errors)?;
            if participants
                .guardian_ids
                .iter()
                .any(|id| !context.guardians.contains(id))
            {
                return Err(Refusal::field(
                    "participants.guardianIds",
                    "must be guardians of this child",
                ));
            }
        }
        StepDetails::Weighing(w) => {
            if let Verdict::Incomplete { next } = weigh(&w.answers.answers()) {
                return Err(Refusal::Decision {
                    refusal: super::DecisionRefusal::WeighingIncomplete { next },
                    decision: Decision::Close,
                });
            }
        }
        StepDetails::Decision(d) => {
            approval::require_no_pending(context.proposals)?;
            let answers = progress.latest_weighing.unwrap_or_default();
            check_decision(&answers, d.decision).map_err(|refusal| Refusal::Decision {
                refusal,
                decision: d.decision,
            })?;
            let today = now.date_naive();
            let mut errors: Vec<FieldError> =
                check_text("rationale", &d.rationale).into_iter().collect();
            for agreement in &request.agreements {
                errors.extend(check_agreement(agreement, today, true));
            }
            errors.extend(check_decision_terms(
                d.decision,
                &answers,
                context.open_agreements + request.agreements.len(),
                d.review_date,
                today,
            ));
            Refusal::unless_invalid(errors)?;
        }
    }
    for agreement in &request.agreements {
        require_known_owner(&agreement.owner, context.known_organisations)?;
    }
    Ok(StepPlan {
        summary: summary(request),
        proposed: context.four_eyes && step == super::Step::Decision,
    })
}

/// Opening a case: a lead named, at most one open case per child and organisation, and the
/// signals it starts from under the very rule that records step 1.
pub fn decide_open(
    lead: &Lead,
    signal_ids: &[Uuid],
    open_case: Option<Uuid>,
    context: &CaseContext<'_>,
) -> Result<Option<(StepRequest, StepPlan)>, Refusal> {
    check_lead(lead, "lead.sub", "lead.name")?;
    if let Some(existing) = open_case {
        return Err(Refusal::CaseAlreadyOpen { existing });
    }
    if signal_ids.is_empty() {
        return Ok(None);
    }
    let step = StepRequest {
        details: StepDetails::SignalsMapped(SignalsMapped {
            signal_ids: signal_ids.to_vec(),
            note: None,
        }),
        supersedes: None,
        correction_reason: None,
        agreements: Vec::new(),
    };
    let plan = decide_step(&step, context)?;
    Ok(Some((step, plan)))
}

/// The lead changes hands (regiehouder); `false` when the same lead is named again.
pub fn decide_lead_change(lead: &Lead, current: &Lead, open: bool) -> Result<bool, Refusal> {
    check_lead(lead, "sub", "name")?;
    require_open(open)?;
    Ok(lead.sub != current.sub || lead.name != current.name)
}

/// A new agreement on an open case, with an owner and a due date that has not passed.
pub fn decide_agreement(
    agreement: &Agreement,
    open: bool,
    known_organisations: &[Uuid],
    today: NaiveDate,
) -> Result<(), Refusal> {
    Refusal::unless_invalid(check_agreement(agreement, today, false))?;
    require_open(open)?;
    require_known_owner(&agreement.owner, known_organisations)
}

/// A change to an agreement: what is given is filled in, `doneAt` is not in the future.
pub fn decide_agreement_change(
    description: Option<&str>,
    owner: Option<&Owner>,
    done_at: Option<DateTime<Utc>>,
    open: bool,
    known_organisations: &[Uuid],
    now: DateTime<Utc>,
) -> Result<(), Refusal> {
    let mut errors: Vec<FieldError> = description
        .and_then(|d| check_text("description", d))
        .into_iter()
        .collect();
    if let Some(owner) = owner {
        errors.extend(check_owner(owner, "owner"));
    }
    if done_at.is_some_and(|t| t > now + OBSERVED_AT_SKEW) {
        errors.push(FieldError::new("doneAt", "must not be in the future"));
    }
    Refusal::unless_invalid(errors)?;
    require_open(open)?;
    owner.map_or(Ok(()), |o| require_known_owner(o, known_organisations))
}

/// What a closure does: close the case now, or — with four eyes — propose it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClosePlan {
    Close,
    Propose,
}

/// Closing: the case is open, no proposal waits, and the decision in force allows it.
/// `report` is where the latest report sent from the case stands; one that was withdrawn was
/// not sent. With four eyes the closure is a proposal.
pub fn decide_close(
    open: bool,
    decision: Option<Decision>,
    report: Option<HandoffStatus>,
    proposals: &[Proposal],
    four_eyes: bool,
) -> Result<ClosePlan, Refusal> {
    require_open(open)?;
    approval::require_no_pending(proposals)?;
    let report_sent = report.is_some_and(|status| status != HandoffStatus::Withdrawn);
    check_closure(decision, report_sent).map_err(|refusal| match refusal {
        ClosureRefusal::NoDecision => Refusal::DecisionRequired,
        ClosureRefusal::ReportNotSent => Refusal::ReportNotSent,
    })?;
    Ok(if four_eyes {
        ClosePlan::Propose
    } else {
        ClosePlan::Close
    })
}

fn require_open(open: bool) -> Result<(), Refusal> {
    if open {
        Ok(())
    } else {
        Err(Refusal::CaseClosed)
    }
}

fn check_lead(
    lead: &Lead,
    sub_field: &'static str,
    name_field: &'static str,
) -> Result<(), Refusal> {
    Refusal::unless_invalid(
        [
            check_text(sub_field, &lead.sub),
            check_text(name_field, &lead.name),
        ]
        .into_iter()
        .flatten()
        .collect(),
    )
}

fn check_agreement(agreement: &Agreement, today: NaiveDate, in_decision: bool) -> Vec<FieldError> {
    let field = |name: &'static str, nested: &'static str| if in_decision { nested } else { name };
    let mut errors: Vec<FieldError> = check_text(
        field("description", "actions.description"),
        &agreement.description,
    )
    .into_iter()
    .collect();
    errors.extend(check_owner(
        &agreement.owner,
        field("owner", "actions.owner"),
    ));
    if agreement.due_date < today {
        errors.push(FieldError::new(
            field("dueDate", "actions.dueDate"),
            "must not be in the past",
        ));
    }
    errors
}

fn check_owner(owner: &Owner, field: &'static str) -> Vec<FieldError> {
    let mut errors: Vec<FieldError> = check_text(field, &owner.name).into_iter().collect();
    if owner.sub.is_none() && owner.organisation_id.is_none() {
        errors.push(FieldError::new(
            field,
            "name a professional (`sub`) or an organisation (`organisationId`)",
        ));
    }
    errors
}

fn require_known_owner(owner: &Owner, known_organisations: &[Uuid]) -> Result<(), Refusal> {
    match owner.organisation_id {
        Some(id) if !known_organisations.contains(&id) => Err(Refusal::field(
            "owner.organisationId",
            "is not an organisation of the directory",
        )),
        _ => Ok(()),
    }
}

/// The timeline's words for a step: never free text, only the step and what it decided.
fn summary(request: &StepRequest) -> String {
    let step = request.details.step();
    let mut summary = format!("Meldcode step {} recorded: {}", step.number(), step.code());
    match &request.details {
        StepDetails::Weighing(w) => {
            if let Verdict::Decided {
                report_required, ..
            } = weigh(&w.answers.answers())
            {
                summary.push_str(if report_required {
                    " (report required)"
                } else {
                    " (no report required)"
                });
            }
        }
        StepDetails::Decision(d) => summary.push_str(&format!(" ({})", d.decision.code())),
        _ => {}
    }
    if request.supersedes.is_some() {
        summary.push_str(", correcting an earlier record");
    }
    summary
}

#[cfg(test)]
mod tests;
