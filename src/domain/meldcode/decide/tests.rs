//! Table tests of the case commands, without a database.

use chrono::{Duration, TimeZone, Utc};
use uuid::Uuid;

use super::*;
use crate::domain::meldcode::{
    Answer, DecisionRefusal, Step,
    file::tests::{decision, record, signals, weighing},
    record::{Consultation, ConsultationKind, Conversation, Participants, Skipped},
};

const SIGNAL: u128 = 7;
const GUARDIAN: u128 = 8;
const PARTNER: u128 = 9;
static SIGNALS: [Uuid; 1] = [Uuid::from_u128(SIGNAL)];
static GUARDIANS: [Uuid; 1] = [Uuid::from_u128(GUARDIAN)];
static PARTNERS: [Uuid; 1] = [Uuid::from_u128(PARTNER)];

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap()
}

fn consultation() -> StepDetails {
    StepDetails::Consultation(Consultation {
        kind: ConsultationKind::Colleague,
        consulted_role: "aandachtsfunctionaris".to_owned(),
        consulted_organisation: None,
        consulted_at: now() - Duration::days(1),
        advice: "Ga het gesprek aan.".to_owned(),
    })
}

fn conversation() -> StepDetails {
    StepDetails::Conversation(Conversation {
        participants: Some(Participants {
            guardian_ids: vec![Uuid::from_u128(GUARDIAN)],
            child: false,
        }),
        held_at: Some(now() - Duration::hours(2)),
        facts_presented: Some("Blauwe plekken.".to_owned()),
        reaction: Some("Geschrokken.".to_owned()),
        interpretation: None,
        skipped: None,
    })
}

fn request(details: StepDetails) -> StepRequest {
    StepRequest {
        details,
        supersedes: None,
        correction_reason: None,
        agreements: Vec::new(),
    }
}

fn context(steps: &[StepRecord]) -> CaseContext<'_> {
    CaseContext {
        open: true,
        steps,
        open_agreements: 0,
        child_signals: &SIGNALS,
        guardians: &GUARDIANS,
        known_organisations: &PARTNERS,
        proposals: &[],
        four_eyes: false,
        now: now(),
    }
}

fn agreement(organisation: Option<u128>) -> Agreement {
    Agreement {
        description: "Huisbezoek".to_owned(),
        owner: Owner {
            name: "Wijkteam".to_owned(),
            sub: organisation.is_none().then(|| "wt-1".to_owned()),
            organisation_id: organisation.map(Uuid::from_u128),
        },
        due_date: now().date_naive() + Duration::days(14),
    }
}

fn fields(refusal: Result<StepPlan, Refusal>) -> Vec<&'static str> {
    match refusal {
        Err(Refusal::Invalid(errors)) => errors.into_iter().map(|e| e.field).collect(),
        other => panic!("expected field errors, got {other:?}"),
    }
}

/// Step order × what the case already holds: a weighing needs signals and a consultation, a
/// decision a weighing; the other steps need nothing before them.
#[test]
fn steps_need_their_predecessors() {
    let signals_only = [record(1, None, signals())];
    let consulted = [record(1, None, signals()), record(2, None, consultation())];
    let weighed = [
        record(1, None, signals()),
        record(2, None, consultation()),
        record(3, None, weighing(Answer::No)),
    ];
    let cases: [(&str, &[StepRecord]); 4] = [
        ("empty", &[]),
        ("signals", &signals_only),
        ("consulted", &consulted),
        ("weighed", &weighed),
    ];
    let steps = [
        (Step::SignalsMapped, signals()),
        (Step::Consultation, consultation()),
        (Step::Conversation, conversation()),
        (Step::Weighing, weighing(Answer::No)),
        (Step::Decision, decision(Decision::Close)),
    ];
    for (name, steps_so_far) in cases {
        for (step, details) in &steps {
            let expected: Vec<Step> = match (step, name) {
                (Step::Weighing, "empty") => vec![Step::SignalsMapped, Step::Consultation],
                (Step::Weighing, "signals") => vec![Step::Consultation],
                (Step::Decision, "weighed") => vec![],
                (Step::Decision, _) => vec![Step::Weighing],
                _ => vec![],
            };
            let outcome = decide_step(&request(details.clone()), &context(steps_so_far));
            match outcome {
                Err(Refusal::StepOutOfOrder { missing, .. }) => {
                    assert_eq!(missing, expected, "{step:?} on {name}")
                }
                Ok(_) => assert!(expected.is_empty(), "{step:?} on {name}: allowed"),
                Err(other) => panic!("{step:?} on {name}: {other:?}"),
            }
        }
    }
}

/// Corrections: only of an active record of the same step, always with a reason; and the
/// corrected record counts as gone when the step's predecessors are checked.
#[test]
fn corrections() {
    let steps = [
        record(1, None, signals()),
        record(2, None, consultation()),
        record(3, None, weighing(Answer::No)),
        record(4, Some(3), weighing(Answer::No)),
    ];
    let correcting = |id: u128, reason: Option<&str>, details: StepDetails| StepRequest {
        supersedes: Some(Uuid::from_u128(id)),
        correction_reason: reason.map(str::to_owned),
        ..request(details)
    };
    let reason = Some("Verkeerd genoteerd.");
    let table: [(&str, StepRequest, Result<(), &str>); 7] = [
        (
            "active, same step",
            correcting(4, reason, weighing(Answer::No)),
            Ok(()),
        ),
        (
            "no reason",
            correcting(4, None, weighing(Answer::No)),
            Err("correctionReason"),
        ),
        (
            "blank reason",
            correcting(4, Some(" "), weighing(Answer::No)),
            Err("correctionReason"),
        ),
        (
            "already corrected",
            correcting(3, reason, weighing(Answer::No)),
            Err("invalid-correction"),
        ),
        (
            "another step",
            correcting(1, reason, weighing(Answer::No)),
            Err("invalid-correction"),
        ),
        (
            "unknown",
            correcting(42, reason, signals()),
            Err("invalid-correction"),
        ),
        (
            "reason without supersedes",
            StepRequest {
                correction_reason: reason.map(str::to_owned),
                ..request(signals())
            },
            Err("correctionReason"),
        ),
    ];
    for (name, request, expected) in table {
        let outcome = decide_step(&request, &context(&steps)).map(|_| ());
        let got = match &outcome {
            Ok(()) => Ok(()),
            Err(Refusal::Invalid(e)) => Err(e[0].field),
            Err(Refusal::InvalidCorrection { .. }) => Err("invalid-correction"),
            Err(other) => panic!("{name}: {other:?}"),
        };
        assert_eq!(got, expected, "{name}");
    }
    // A correction names a record of its own step: a weighing cannot replace a consultation.
    let only = [record(1, None, signals()), record(2, None, consultation())];
    let replaced = StepRequest {
        supersedes: Some(Uuid::from_u128(2)),
        correction_reason: reason.map(str::to_owned),
        ..request(weighing(Answer::No))
    };
    assert!(matches!(
        decide_step(&replaced, &context(&only)),
        Err(Refusal::InvalidCorrection {
            step: Step::Weighing
        })
    ));
}

#[test]
fn a_closed_case_takes_nothing() {
    let closed = CaseContext {
        open: false,
        ..context(&[])
    };
    assert_eq!(
        decide_step(&request(signals()), &closed),
        Err(Refusal::CaseClosed)
    );
    assert_eq!(
        decide_close(false, Some(Decision::Close), None, &[], false),
        Err(Refusal::CaseClosed)
    );
    assert_eq!(
        decide_agreement(&agreement(None), false, &[], now().date_naive()),
        Err(Refusal::CaseClosed)
    );
    let lead = Lead {
        sub: "ib-1".to_owned(),
        name: "IB".to_owned(),
    };
    assert_eq!(
        decide_lead_change(&lead, &lead, false),
        Err(Refusal::CaseClosed)
    );
}

#[test]
fn signals_guardians_and_times_belong_to_the_case() {
    let foreign = StepDetails::SignalsMapped(crate::domain::meldcode::record::SignalsMapped {
        signal_ids: vec![Uuid::from_u128(SIGNAL), Uuid::from_u128(70)],
        note: None,
    });
    assert_eq!(
        decide_step(&request(foreign), &context(&[])),
        Err(Refusal::UnknownSignals(vec![Uuid::from_u128(70)]))
    );
    let StepDetails::Conversation(mut talk) = conversation() else {
        unreachable!()
    };
    talk.participants = Some(Participants {
        guardian_ids: vec![Uuid::from_u128(80)],
        child: false,
    });
    assert_eq!(
        fields(decide_step(
            &request(StepDetails::Conversation(talk.clone())),
            &context(&[])
        )),
        ["participants.guardianIds"]
    );
    talk.held_at = Some(now() + Duration::hours(1));
    assert_eq!(
        fields(decide_step(
            &request(StepDetails::Conversation(talk)),
            &context(&[])
        )),
        ["heldAt"]
    );
    let skipped = StepDetails::Conversation(Conversation {
        skipped: Some(Skipped {
            reason: crate::domain::meldcode::SkipReason::SafetyChild,
            explanation: "Gevaar.".to_owned(),
        }),
        ..Default::default()
    });
    assert!(decide_step(&request(skipped), &context(&[])).is_ok());
    let StepDetails::Consultation(mut advice) = consultation() else {
        unreachable!()
    };
    advice.consulted_at = now() + Duration::hours(1);
    advice.advice = " ".to_owned();
    assert_eq!(
        fields(decide_step(
            &request(StepDetails::Consultation(advice)),
            &context(&[])
        )),
        ["advice", "consultedAt"]
    );
}

/// Decision × weighing: the afwegingskader's refusal, then the terms the decision needs.
#[test]
fn decisions_follow_the_weighing() {
    let base = |answer| {
        vec![
            record(1, None, signals()),
            record(2, None, consultation()),
            record(3, None, weighing(answer)),
        ]
    };
    let no_suspicion = base(Answer::No);
    let suspicion = base(Answer::Yes);
    assert!(decide_step(&request(decision(Decision::Close)), &context(&no_suspicion)).is_ok());
    assert!(matches!(
        decide_step(
            &request(decision(Decision::Report)),
            &context(&no_suspicion)
        ),
        Err(Refusal::Decision {
            refusal: DecisionRefusal::NotAllowed { .. },
            decision: Decision::Report
        })
    ));
    // Question 1 yes, question 2 unanswered: the weighing on file is incomplete.
    assert!(matches!(
        decide_step(&request(decision(Decision::Close)), &context(&suspicion)),
        Err(Refusal::Decision {
            refusal: DecisionRefusal::WeighingIncomplete { .. },
            ..
        })
    ));
    assert!(matches!(
        decide_step(&request(weighing(Answer::Yes)), &context(&suspicion)),
        Err(Refusal::Decision {
            refusal: DecisionRefusal::WeighingIncomplete { .. },
            ..
        })
    ));
    let mut blank = request(decision(Decision::Close));
    if let StepDetails::Decision(d) = &mut blank.details {
        d.rationale = String::new();
    }
    blank.agreements = vec![Agreement {
        due_date: now().date_naive() - Duration::days(1),
        ..agreement(None)
    }];
    assert_eq!(
        fields(decide_step(&blank, &context(&no_suspicion))),
        ["rationale", "actions.dueDate"]
    );
    let mut unknown_partner = request(decision(Decision::Close));
    unknown_partner.agreements = vec![agreement(Some(90))];
    assert_eq!(
        fields(decide_step(&unknown_partner, &context(&no_suspicion))),
        ["owner.organisationId"]
    );
    unknown_partner.agreements = vec![agreement(Some(PARTNER))];
    let plan = decide_step(&unknown_partner, &context(&no_suspicion)).unwrap();
    assert_eq!(plan.summary, "Meldcode step 5 recorded: decision (close)");
}

#[test]
fn opening_a_case_applies_step_one() {
    let lead = Lead {
        sub: "ib-1".to_owned(),
        name: "Intern begeleider".to_owned(),
    };
    assert_eq!(decide_open(&lead, &[], None, &context(&[])), Ok(None));
    let existing = Uuid::from_u128(5);
    assert_eq!(
        decide_open(&lead, &[], Some(existing), &context(&[])),
        Err(Refusal::CaseAlreadyOpen { existing })
    );
    assert_eq!(
        decide_open(&lead, &[Uuid::from_u128(70)], None, &context(&[])),
        Err(Refusal::UnknownSignals(vec![Uuid::from_u128(70)]))
    );
    let (step, plan) = decide_open(&lead, &[Uuid::from_u128(SIGNAL)], None, &context(&[]))
        .unwrap()
        .unwrap();
    assert_eq!(step.details.step(), Step::SignalsMapped);
    assert_eq!(plan.summary, "Meldcode step 1 recorded: signals_mapped");
    let blank = Lead {
        sub: " ".to_owned(),
        name: String::new(),
    };
    assert_eq!(
        fields(
            decide_open(&blank, &[], None, &context(&[])).map(|_| StepPlan {
                summary: String::new(),
                proposed: false,
            })
        ),
        ["lead.sub", "lead.name"]
    );
    assert!(decide_lead_change(&lead, &lead, true) == Ok(false));
}

#[test]
fn agreements() {
    let today = now().date_naive();
    assert_eq!(
        decide_agreement(
            &agreement(Some(PARTNER)),
            true,
            &[Uuid::from_u128(PARTNER)],
            today
        ),
        Ok(())
    );
    assert_eq!(
        decide_agreement(&agreement(Some(PARTNER)), true, &[], today),
        Err(Refusal::field(
            "owner.organisationId",
            "is not an organisation of the directory"
        ))
    );
    let nobody = Agreement {
        owner: Owner {
            name: "Iemand".to_owned(),
            sub: None,
            organisation_id: None,
        },
        ..agreement(None)
    };
    assert!(
        matches!(decide_agreement(&nobody, true, &[], today), Err(Refusal::Invalid(e)) if e[0].field == "owner")
    );
    assert!(matches!(
        decide_agreement_change(None, None, Some(now() + Duration::hours(1)), true, &[], now()),
        Err(Refusal::Invalid(e)) if e[0].field == "doneAt"
    ));
    assert_eq!(
        decide_agreement_change(Some("Nieuw"), None, Some(now()), true, &[], now()),
        Ok(())
    );
}

/// Decision in force × where the report stands.
#[test]
fn closing_follows_the_decision_in_force() {
    use crate::domain::{handoff::HandoffStatus, reference::Labelled};
    let mut reports: Vec<Option<HandoffStatus>> = vec![None];
    reports.extend(HandoffStatus::ALL.iter().copied().map(Some));
    for decision in [
        None,
        Some(Decision::Report),
        Some(Decision::OrganiseHelp),
        Some(Decision::Close),
    ] {
        for &report in &reports {
            let sent = report.is_some_and(|s| s != HandoffStatus::Withdrawn);
            for four_eyes in [false, true] {
                let expected = match decision {
                    None => Err(Refusal::DecisionRequired),
                    Some(Decision::Report) if !sent => Err(Refusal::ReportNotSent),
                    Some(_) if four_eyes => Ok(ClosePlan::Propose),
                    Some(_) => Ok(ClosePlan::Close),
                };
                assert_eq!(
                    decide_close(true, decision, report, &[], four_eyes),
                    expected,
                    "{decision:?} {report:?} four eyes {four_eyes}"
                );
            }
        }
    }
}

/// Four eyes: a decision is a proposal; while one waits, no other decision and no closure;
/// other steps go on.
#[test]
fn four_eyes_turn_decisions_and_closures_into_proposals() {
    use crate::domain::meldcode::approval::{Proposal, ProposalSubject};
    let steps = [
        record(1, None, signals()),
        record(2, None, consultation()),
        record(3, None, weighing(Answer::No)),
    ];
    let pending = [Proposal {
        id: Uuid::from_u128(60),
        subject: ProposalSubject::Decision,
        step_id: Some(Uuid::from_u128(61)),
        closure_note: None,
        proposed_by_sub: "ib-fatima".into(),
        verdict: None,
    }];
    for four_eyes in [false, true] {
        for waiting in [false, true] {
            let context = CaseContext {
                four_eyes,
                proposals: if waiting { &pending } else { &[] },
                ..context(&steps)
            };
            let decided = decide_step(&request(decision(Decision::Close)), &context);
            let consulted = decide_step(&request(consultation()), &context);
            let why = format!("four eyes {four_eyes}, waiting {waiting}");
            if waiting {
                assert_eq!(
                    decided,
                    Err(Refusal::ApprovalPending {
                        subject: ProposalSubject::Decision
                    }),
                    "{why}"
                );
            } else {
                assert_eq!(decided.expect(&why).proposed, four_eyes, "{why}");
            }
            assert!(!consulted.expect(&why).proposed, "{why}: only decisions");
            assert_eq!(
                decide_close(
                    true,
                    Some(Decision::Close),
                    None,
                    context.proposals,
                    four_eyes
                )
                .is_err(),
                waiting,
                "{why}"
            );
        }
    }
}
