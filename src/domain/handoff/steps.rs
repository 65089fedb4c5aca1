//! A handoff's lifecycle steps and the intake of its child: what each step needs, where it
//! leads, and what it starts. Who may take a step (sender or recipient) is `auth::policy`'s.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::{
    check_text,
    handoff::{
        ChildSnapshot, DeadlineRules, GuardianSnapshot, HandoffKind, HandoffStatus, Snapshot,
        Transition, next_status,
    },
    refusal::Refusal,
};

/// What a step writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepPlan {
    pub to: HandoffStatus,
    /// The reason, outcome or explanation, trimmed of nothing but blank.
    pub note: Option<String>,
    pub at: DateTime<Utc>,
    /// Set when the step is the receipt of a report: Veilig Thuis's assessment starts.
    pub assessment_due_at: Option<DateTime<Utc>>,
}

/// A declination names its reason and a closure its outcome; the status must allow the step;
/// receiving a report starts the safety-assessment deadline.
pub fn decide_step(
    step: Transition,
    kind: HandoffKind,
    status: HandoffStatus,
    note: Option<&str>,
    now: DateTime<Utc>,
    deadlines: &DeadlineRules,
) -> Result<StepPlan, Refusal> {
    let note = note.filter(|n| !n.trim().is_empty());
    if note.is_none() {
        match step {
            Transition::Decline => return Err(Refusal::field("note", "is required: the reason")),
            Transition::Close => return Err(Refusal::field("note", "is required: the outcome")),
            _ => {}
        }
    }
    let to = next_status(status, step).ok_or(Refusal::HandoffStep { status, step })?;
    let received_now = status == HandoffStatus::Sent
        && matches!(
            to,
            HandoffStatus::Received | HandoffStatus::Accepted | HandoffStatus::Declined
        );
    Ok(StepPlan {
        to,
        note: note.map(str::to_owned),
        at: now,
        assessment_due_at: received_now
            .then(|| deadlines.assessment_due(kind, now))
            .flatten(),
    })
}

/// The reference the recipient gives a child it takes in: its own, or `HO-` and the handoff's
/// first 8 characters.
pub fn intake_ref(handoff: Uuid, requested: Option<&str>) -> String {
    requested
        .map(str::to_owned)
        .unwrap_or_else(|| format!("HO-{}", &handoff.simple().to_string()[..8]))
}

/// What the intake decision needs.
pub struct IntakeContext<'a> {
    pub status: HandoffStatus,
    pub snapshot: &'a Snapshot,
    /// The child taken in before, if any.
    pub taken_in: Option<Uuid>,
    /// The reference the child gets ([`intake_ref`]), and the recipient's child that already has
    /// it, if any.
    pub external_ref: &'a str,
    pub ref_taken_by: Option<Uuid>,
    /// The recipient's own child the handoff answers a request about (a school transfer answers
    /// the new school's transfer request for its pupil).
    pub requested_for: Option<Uuid>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum IntakePlan<'a> {
    /// Taken in before: the same child again.
    Again(Uuid),
    /// The handoff concerns a child the recipient already has: link it, create nothing.
    Link(Uuid),
    /// A new child record of the recipient, from the snapshot.
    TakeIn {
        child: &'a ChildSnapshot,
        guardians: &'a [GuardianSnapshot],
    },
}

/// Only once the handoff was acknowledged; only when it names a child; idempotent; a child the
/// recipient already has is linked, not copied.
pub fn decide_intake<'a>(context: &IntakeContext<'a>) -> Result<IntakePlan<'a>, Refusal> {
    if let Some(child) = context.taken_in {
        return Ok(IntakePlan::Again(child));
    }
    if let Some(error) = check_text("externalRef", context.external_ref) {
        return Err(Refusal::Invalid(vec![error]));
    }
    if !matches!(
        context.status,
        HandoffStatus::Received | HandoffStatus::Accepted | HandoffStatus::Closed
    ) {
        return Err(Refusal::IntakeBeforeReceipt {
            status: context.status,
        });
    }
    if let Some(own) = context.requested_for {
        return Ok(IntakePlan::Link(own));
    }
    let child = context
        .snapshot
        .child
        .as_ref()
        .ok_or(Refusal::NoChildToTakeIn)?;
    if let Some(existing) = context.ref_taken_by {
        return Err(Refusal::DuplicateExternalRef {
            existing: Some(existing),
        });
    }
    Ok(IntakePlan::TakeIn {
        child,
        guardians: &context.snapshot.guardians,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::reference::Labelled;
    use HandoffStatus as S;

    fn now() -> DateTime<Utc> {
        "2026-11-20T14:00:00Z".parse().unwrap()
    }

    /// Every transition × status × kind: the status it leads to, the note it needs, and when
    /// the assessment deadline starts.
    #[test]
    fn every_step_from_every_status() {
        let rules = DeadlineRules::default();
        for &step in Transition::ALL {
            for &status in HandoffStatus::ALL {
                for &kind in HandoffKind::ALL {
                    let plan = decide_step(step, kind, status, Some("Zie dossier."), now(), &rules);
                    match next_status(status, step) {
                        None => assert_eq!(
                            plan,
                            Err(Refusal::HandoffStep { status, step }),
                            "{step:?} from {status:?}"
                        ),
                        Some(to) => {
                            let plan = plan.expect("allowed");
                            assert_eq!(plan.to, to);
                            assert_eq!(plan.note.as_deref(), Some("Zie dossier."));
                            let receipt =
                                status == S::Sent && !matches!(to, S::Withdrawn | S::Forwarded);
                            assert_eq!(
                                plan.assessment_due_at.is_some(),
                                receipt && kind == HandoffKind::Report,
                                "{step:?} of a {kind:?} from {status:?}"
                            );
                        }
                    }
                }
            }
        }
        let due = decide_step(
            Transition::Acknowledge,
            HandoffKind::Report,
            S::Sent,
            None,
            now(),
            &rules,
        )
        .unwrap()
        .assessment_due_at;
        assert_eq!(due, Some("2026-11-27T14:00:00Z".parse().unwrap()));
    }

    #[test]
    fn declining_and_closing_need_a_note() {
        let rules = DeadlineRules::default();
        for (step, status, reason) in [
            (Transition::Decline, S::Received, "is required: the reason"),
            (Transition::Close, S::Accepted, "is required: the outcome"),
        ] {
            for note in [None, Some(""), Some("  ")] {
                assert_eq!(
                    decide_step(step, HandoffKind::Referral, status, note, now(), &rules),
                    Err(Refusal::field("note", reason))
                );
            }
        }
        for step in [
            Transition::Acknowledge,
            Transition::Accept,
            Transition::Withdraw,
        ] {
            let plan = decide_step(
                step,
                HandoffKind::Referral,
                S::Sent,
                Some(" "),
                now(),
                &rules,
            )
            .expect("no note needed");
            assert_eq!(plan.note, None, "a blank note is no note");
        }
    }

    #[test]
    fn intake_after_receipt_of_a_named_child_once() {
        let child = ChildSnapshot {
            sender_ref: "LL-1".into(),
            given_name: "Noah".into(),
            family_name: "de Boer".into(),
            date_of_birth: "2014-03-01".parse().unwrap(),
            bsn: None,
            school_group: None,
        };
        let named = Snapshot {
            child: Some(child.clone()),
            ..Snapshot::default()
        };
        let anonymous = Snapshot::default();
        let context = |status, snapshot, taken_in, ref_taken_by| IntakeContext {
            status,
            snapshot,
            taken_in,
            external_ref: "VT-1",
            ref_taken_by,
            requested_for: None,
        };
        let again = Uuid::from_u128(7);
        for &status in HandoffStatus::ALL {
            let received = matches!(status, S::Received | S::Accepted | S::Closed);
            let plan = decide_intake(&context(status, &named, None, None));
            if received {
                assert_eq!(
                    plan,
                    Ok(IntakePlan::TakeIn {
                        child: &child,
                        guardians: &[]
                    })
                );
            } else {
                assert_eq!(plan, Err(Refusal::IntakeBeforeReceipt { status }));
            }
            assert_eq!(
                decide_intake(&context(status, &named, Some(again), None)),
                Ok(IntakePlan::Again(again)),
                "taken in before: the same child, whatever the status"
            );
        }
        assert_eq!(
            decide_intake(&context(S::Received, &anonymous, None, None)),
            Err(Refusal::NoChildToTakeIn)
        );
        assert_eq!(
            decide_intake(&context(S::Received, &named, None, Some(again))),
            Err(Refusal::DuplicateExternalRef {
                existing: Some(again)
            })
        );
        let blank = IntakeContext {
            external_ref: " VT-1",
            ..context(S::Received, &named, None, None)
        };
        assert!(matches!(decide_intake(&blank), Err(Refusal::Invalid(_))));
        // A school transfer for the new school's own pupil links that pupil, once received.
        let own = Uuid::from_u128(8);
        for &status in HandoffStatus::ALL {
            let linked = IntakeContext {
                requested_for: Some(own),
                ..context(status, &named, None, Some(again))
            };
            let expected = if matches!(status, S::Received | S::Accepted | S::Closed) {
                Ok(IntakePlan::Link(own))
            } else {
                Err(Refusal::IntakeBeforeReceipt { status })
            };
            assert_eq!(decide_intake(&linked), expected, "{status:?}");
        }
        assert_eq!(
            intake_ref(
                Uuid::from_u128(0xabcdef12_0000_0000_0000_000000000000),
                None
            ),
            "HO-abcdef12"
        );
        assert_eq!(intake_ref(Uuid::nil(), Some("VT-9")), "VT-9");
    }
}
