//! A case file as the caller may see it: every step record, the afwegingskader's state in
//! words, agreements, the lead's history, the report sent from it.

use chrono::{NaiveDate, Utc};
use uuid::Uuid;

use super::{
    ActionOwner, Afwegingskader, Case, CaseAction, CaseProposal, CaseStep, CaseSummary, Closure,
    ConsultationRecord, ConversationRecord, DecidingAnswer, DecisionRecord, LeadChangeRecord,
    Participants, ReportLink, SignalsMappedRecord, SkippedConversation, WeighingAnswers,
    WeighingRecord, WeighingState,
};
use crate::{
    api::shared::Professional,
    auth::{Principal, policy},
    db::cases::{self as queries, CaseFile},
    domain::{
        meldcode::{
            self as rules, Question, Step, Verdict,
            file::{current_step, progress},
            record::{StepDetails, StepRecord},
        },
        reference::Labelled,
    },
};

pub fn render(principal: &Principal, file: &CaseFile) -> Case {
    let today = Utc::now().date_naive();
    let with_notes = policy::may_see_case_notes(principal);
    let case = &file.case;
    Case {
        id: case.id,
        child_id: case.child_id,
        status: case.status,
        lead: professional(&case.lead_sub, &case.lead_name),
        opened_at: case.opened_at.into(),
        opened_by: professional(&case.opened_by_sub, &case.opened_by_name),
        current_step: current_step(&file.steps),
        steps: file
            .steps
            .iter()
            .map(|s| render_step(file, s, with_notes))
            .collect(),
        afwegingskader: afwegingskader(&file.steps),
        decision: file.decision(),
        actions: file
            .actions
            .iter()
            .map(|a| render_action(a, today))
            .collect(),
        lead_history: file
            .lead_changes
            .iter()
            .map(|l| LeadChangeRecord {
                from: professional(&l.from_sub, &l.from_name),
                to: professional(&l.to_sub, &l.to_name),
                reason: l.reason.clone(),
                changed_by: l.changed_by_sub.clone(),
                changed_at: l.changed_at.into(),
            })
            .collect(),
        report: file.report.as_ref().map(|h| ReportLink {
            handoff_id: h.id,
            status: h.status,
            sent_at: h.sent_at.into(),
            href: format!("/v1/handoffs/{}", h.id),
        }),
        closure: case.closed_at.map(|closed_at| Closure {
            closed_at: closed_at.into(),
            closed_by: professional(
                case.closed_by_sub.as_deref().unwrap_or_default(),
                case.closed_by_name.as_deref().unwrap_or_default(),
            ),
            note: case.closure_note.clone(),
        }),
        proposals: file
            .proposals
            .iter()
            .map(|p| CaseProposal {
                id: p.proposal.id,
                subject: p.proposal.subject,
                step_id: p.proposal.step_id,
                closure_note: p.proposal.closure_note.clone().filter(|_| with_notes),
                proposed_by: professional(
                    &p.proposal.proposed_by_sub,
                    &p.proposal.proposed_by_name,
                ),
                proposed_at: p.proposal.proposed_at.into(),
                verdict: p.approval.as_ref().map(|a| a.verdict),
                comment: p
                    .approval
                    .as_ref()
                    .and_then(|a| a.comment.clone())
                    .filter(|_| with_notes),
                decided_by: p
                    .approval
                    .as_ref()
                    .map(|a| professional(&a.by_sub, &a.by_name)),
                decided_at: p.approval.as_ref().map(|a| a.at.into()),
            })
            .collect(),
        updated_at: case.updated_at.into(),
    }
}

pub fn summarise(file: &CaseFile) -> CaseSummary {
    let today = Utc::now().date_naive();
    let case = &file.case;
    CaseSummary {
        id: case.id,
        child_id: case.child_id,
        status: case.status,
        lead: professional(&case.lead_sub, &case.lead_name),
        opened_at: case.opened_at.into(),
        current_step: current_step(&file.steps),
        decision: file.decision(),
        overdue_actions: file.actions.iter().filter(|a| a.is_overdue(today)).count() as u32,
        closed_at: case.closed_at.map(Into::into),
        href: format!("/v1/cases/{}", case.id),
    }
}

pub fn render_action(row: &queries::Action, today: NaiveDate) -> CaseAction {
    CaseAction {
        id: row.id,
        description: row.description.clone(),
        owner: ActionOwner {
            name: row.owner_name.clone(),
            sub: row.owner_sub.clone(),
            organisation_id: row.owner_organisation_id,
        },
        due_date: row.due_date,
        done_at: row.done_at.map(Into::into),
        overdue: row.is_overdue(today),
        decision_step_id: row.decision_step_id,
        created_at: row.created_at.into(),
        updated_at: row.updated_at.into(),
    }
}

fn professional(sub: &str, name: &str) -> Professional {
    Professional {
        sub: sub.to_owned(),
        name: name.to_owned(),
    }
}

/// What the afwegingskader now requires, in words a care coordinator understands.
fn afwegingskader(steps: &[StepRecord]) -> Afwegingskader {
    let progress = progress(steps);
    let missing_steps = rules::missing_before(Step::Weighing, &progress);
    match progress.latest_weighing.as_ref().map(rules::weigh) {
        Some(Verdict::Decided {
            allowed,
            report_required,
            question,
            answer,
        }) => Afwegingskader {
            state: WeighingState::Decided,
            explanation: if report_required {
                format!(
                    "Question {} ({}) was answered '{}': a report to Veilig Thuis is required.",
                    question.number(),
                    question.text(),
                    answer.code()
                )
            } else if question == Question::Suspicion {
                "There is no suspicion (question 1: no): the case can be closed.".to_owned()
            } else {
                "Help is possible, accepted and effective: organise help, or close with monitoring agreements."
                    .to_owned()
            },
            allowed_decisions: allowed,
            report_required,
            decided_by: Some(DecidingAnswer { question, answer }),
            missing_steps,
        },
        // Incomplete weighings are refused when recorded, so the latest one always decides.
        Some(Verdict::Incomplete { .. }) | None => Afwegingskader {
            state: WeighingState::NotWeighed,
            allowed_decisions: Vec::new(),
            report_required: false,
            decided_by: None,
            explanation: if missing_steps.is_empty() {
                "Ready for the weighing (step 4).".to_owned()
            } else {
                format!(
                    "Before the weighing: {}.",
                    missing_steps
                        .iter()
                        .map(|s| s.label_en())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            },
            missing_steps,
        },
    }
}

/// A step record; a weighing's notes and a decision's rationale only with `with_notes`.
fn render_step(file: &CaseFile, record: &StepRecord, with_notes: bool) -> CaseStep {
    let id = record.id;
    let superseded_by: Option<Uuid> = file
        .steps
        .iter()
        .find(|s| s.supersedes == Some(id))
        .map(|s| s.id);
    let recorded_at = record.recorded_at.into();
    let recorded_by = professional(&record.recorded_by_sub, &record.recorded_by_name);
    let supersedes = record.supersedes;
    let correction_reason = record.correction_reason.clone();
    match record.details.clone() {
        StepDetails::SignalsMapped(c) => CaseStep::SignalsMapped(SignalsMappedRecord {
            id,
            recorded_at,
            recorded_by,
            supersedes,
            correction_reason,
            superseded_by,
            signal_ids: c.signal_ids,
            note: c.note,
        }),
        StepDetails::Consultation(c) => CaseStep::Consultation(ConsultationRecord {
            id,
            recorded_at,
            recorded_by,
            supersedes,
            correction_reason,
            superseded_by,
            kind: c.kind,
            consulted_role: c.consulted_role,
            consulted_organisation: c.consulted_organisation,
            consulted_at: c.consulted_at.into(),
            advice: c.advice,
        }),
        StepDetails::Conversation(c) => CaseStep::Conversation(ConversationRecord {
            id,
            recorded_at,
            recorded_by,
            supersedes,
            correction_reason,
            superseded_by,
            participants: c.participants.map(|p| Participants {
                guardian_ids: p.guardian_ids,
                child: p.child,
            }),
            held_at: c.held_at.map(Into::into),
            facts_presented: c.facts_presented,
            reaction: c.reaction,
            interpretation: c.interpretation,
            skipped: c.skipped.map(|s| SkippedConversation {
                reason: s.reason,
                explanation: s.explanation,
            }),
        }),
        StepDetails::Weighing(c) => CaseStep::Weighing(WeighingRecord {
            id,
            recorded_at,
            recorded_by,
            supersedes,
            correction_reason,
            superseded_by,
            answers: WeighingAnswers::from_domain(c.answers, with_notes),
        }),
        StepDetails::Decision(c) => CaseStep::Decision(DecisionRecord {
            id,
            recorded_at,
            recorded_by,
            supersedes,
            correction_reason,
            superseded_by,
            decision: c.decision,
            rationale: with_notes.then_some(c.rationale),
            review_date: c.review_date,
            action_ids: file
                .actions
                .iter()
                .filter(|a| a.decision_step_id == Some(id))
                .map(|a| a.id)
                .collect(),
        }),
    }
}
