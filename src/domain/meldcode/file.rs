//! What a case file says now, derived from its append-only step records.

use super::{
    Decision, Progress, Step,
    approval::{self, Proposal},
    record::StepDetails,
    record::StepRecord,
};

/// The records that count: those no later record supersedes.
pub fn active(steps: &[StepRecord]) -> impl Iterator<Item = &StepRecord> {
    steps
        .iter()
        .filter(|s| !steps.iter().any(|later| later.supersedes == Some(s.id)))
}

pub fn active_of(steps: &[StepRecord], step: Step) -> impl Iterator<Item = &StepRecord> {
    active(steps).filter(move |s| s.kind() == step)
}

/// The active steps as the rules count them, with the latest weighing's answers.
pub fn progress(steps: &[StepRecord]) -> Progress {
    Progress {
        signals_mapped: active_of(steps, Step::SignalsMapped).count(),
        consultations: active_of(steps, Step::Consultation).count(),
        latest_weighing: active_of(steps, Step::Weighing).last().and_then(|record| {
            match &record.details {
                StepDetails::Weighing(w) => Some(w.answers.answers()),
                _ => None,
            }
        }),
    }
}

/// The decision of the latest active step 5 in force, if any: with four eyes, a proposed
/// decision counts once approved.
pub fn decision_in_force(steps: &[StepRecord], proposals: &[Proposal]) -> Option<Decision> {
    let unapproved = approval::unapproved_decisions(proposals);
    active_of(steps, Step::Decision)
        .filter(|s| !unapproved.contains(&s.id))
        .last()
        .and_then(|record| match &record.details {
            StepDetails::Decision(d) => Some(d.decision),
            _ => None,
        })
}

/// The furthest step with an active record.
pub fn current_step(steps: &[StepRecord]) -> Option<Step> {
    active(steps).map(|s| s.kind()).max_by_key(|s| s.number())
}

#[cfg(test)]
pub(crate) mod tests {
    use chrono::Utc;
    use uuid::Uuid;

    use super::*;
    use crate::domain::meldcode::{
        Answer,
        record::{DecisionTaken, SignalsMapped, WeighedAnswer, WeighedAnswers, Weighing},
    };

    pub(crate) fn record(id: u128, supersedes: Option<u128>, details: StepDetails) -> StepRecord {
        StepRecord {
            id: Uuid::from_u128(id),
            case_id: Uuid::from_u128(99),
            details,
            supersedes: supersedes.map(Uuid::from_u128),
            correction_reason: supersedes.map(|_| "Verkeerd genoteerd.".to_owned()),
            recorded_by_sub: "ib-1".to_owned(),
            recorded_by_name: "Intern begeleider".to_owned(),
            recorded_at: Utc::now(),
        }
    }

    pub(crate) fn signals() -> StepDetails {
        StepDetails::SignalsMapped(SignalsMapped {
            signal_ids: vec![Uuid::from_u128(7)],
            note: None,
        })
    }

    pub(crate) fn weighing(suspicion: Answer) -> StepDetails {
        StepDetails::Weighing(Weighing {
            answers: WeighedAnswers {
                suspicion: Some(WeighedAnswer {
                    answer: suspicion,
                    note: None,
                }),
                ..Default::default()
            },
        })
    }

    pub(crate) fn decision(decision: Decision) -> StepDetails {
        StepDetails::Decision(DecisionTaken {
            decision,
            rationale: "Zo besloten.".to_owned(),
            review_date: None,
        })
    }

    #[test]
    fn a_correction_replaces_what_it_supersedes() {
        let steps = [
            record(1, None, signals()),
            record(2, None, weighing(Answer::No)),
            record(3, None, decision(Decision::Close)),
            record(4, Some(2), weighing(Answer::Yes)),
            record(5, Some(3), decision(Decision::Report)),
        ];
        let active: Vec<u128> = active(&steps).map(|s| s.id.as_u128()).collect();
        assert_eq!(active, [1, 4, 5]);
        assert_eq!(progress(&steps).signals_mapped, 1);
        assert_eq!(progress(&steps).consultations, 0);
        assert_eq!(
            progress(&steps).latest_weighing.and_then(|a| a.suspicion),
            Some(Answer::Yes)
        );
        assert_eq!(decision_in_force(&steps, &[]), Some(Decision::Report));
        assert_eq!(current_step(&steps), Some(Step::Decision));
        assert_eq!(decision_in_force(&steps[..2], &[]), None);
        assert_eq!(current_step(&[]), None);
        // With four eyes: a proposed decision is in force once approved; until then, or when
        // rejected, the one it supersedes is not back either (it was superseded).
        use crate::domain::meldcode::approval::{ApprovalVerdict, ProposalSubject};
        let proposed = |verdict| Proposal {
            id: Uuid::from_u128(50),
            subject: ProposalSubject::Decision,
            step_id: Some(Uuid::from_u128(5)),
            closure_note: None,
            proposed_by_sub: "ib-fatima".into(),
            verdict,
        };
        for (verdict, expected) in [
            (None, None),
            (Some(ApprovalVerdict::Rejected), None),
            (Some(ApprovalVerdict::Approved), Some(Decision::Report)),
        ] {
            assert_eq!(
                decision_in_force(&steps, &[proposed(verdict)]),
                expected,
                "{verdict:?}"
            );
        }
    }
}
