//! Forwarding a report or advice request between Veilig Thuis regions: it often reaches the
//! region of the school, not of the child's home. The original becomes `forwarded`; a new
//! handoff with the same snapshot and legal basis goes to the other region, whose deadlines
//! start at its receipt.

use chrono::{DateTime, Utc};

use crate::domain::{
    check_text,
    feedback::{Audience, FeedbackPlan},
    handoff::{
        DeadlineRules, HandoffKind, HandoffStatus, LegalBasis, Recipient, StepPlan, Transition,
        Urgency, next_status,
    },
    organisation::OrganisationKind,
    reference::Labelled,
    refusal::Refusal,
};

/// What Veilig Thuis receives as meldpunt can be forwarded: reports and advice requests.
pub fn forwardable(kind: HandoffKind) -> bool {
    matches!(kind, HandoffKind::Report | HandoffKind::AdviceRequest)
}

/// What the decision needs, loaded by the handler.
pub struct ForwardContext {
    pub kind: HandoffKind,
    pub status: HandoffStatus,
    pub urgency: Urgency,
    /// The forwarding region: the handoff's recipient.
    pub forwarder_id: uuid::Uuid,
    pub forwarder_name: String,
    /// The region named, as the directory has it; `None` when there is none.
    pub target: Option<Recipient>,
    pub now: DateTime<Utc>,
    pub deadlines: DeadlineRules,
}

/// What to write: the original's step, and the new handoff's recipient and first deadline.
#[derive(Debug, Clone, PartialEq)]
pub struct ForwardPlan {
    pub step: StepPlan,
    pub target: Recipient,
    pub sent_at: DateTime<Utc>,
    pub acknowledgement_due_at: DateTime<Utc>,
    /// Status feedback to the sender naming the new region: statutory, no consent needed.
    pub feedback: FeedbackPlan,
    pub feedback_message: String,
}

/// A report or advice request goes on to another region: the reason is given; the status
/// allows it; the target is another active Veilig Thuis; the sender hears where it went (and,
/// as `forwarded` feedback decides the conditions check, any conditions run here end).
pub fn decide_forward(reason: &str, context: &ForwardContext) -> Result<ForwardPlan, Refusal> {
    Refusal::unless_invalid(check_text("reason", reason).into_iter().collect())?;
    if !forwardable(context.kind) {
        return Err(Refusal::NotForwardable { kind: context.kind });
    }
    let to = next_status(context.status, Transition::Forward).ok_or(Refusal::HandoffNotOpen {
        status: context.status,
    })?;
    let target = context.target.clone().ok_or(Refusal::UnknownRecipient)?;
    if target.kind != OrganisationKind::VeiligThuis || target.id == context.forwarder_id {
        return Err(Refusal::ForwardingTarget);
    }
    if !target.active {
        return Err(Refusal::RecipientInactive { name: target.name });
    }
    let feedback_message = format!(
        "{} heeft de {} doorgestuurd naar {}. Die regio neemt het over; verdere terugkoppeling \
         komt van daar.",
        context.forwarder_name,
        context.kind.label_nl().to_lowercase(),
        target.name
    );
    Ok(ForwardPlan {
        feedback: FeedbackPlan {
            audience: Audience::CareCoordinators,
            do_not_discuss_with_parents: false,
            consent_id: None,
            legal_basis: LegalBasis::Statutory,
            assessment_decided: false,
        },
        feedback_message,
        step: StepPlan {
            to,
            note: Some(reason.to_owned()),
            at: context.now,
            assessment_due_at: None,
        },
        target,
        sent_at: context.now,
        acknowledgement_due_at: context
            .deadlines
            .acknowledgement_due(context.now, context.urgency),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::reference::Labelled;
    use uuid::Uuid;

    const HERE: Uuid = Uuid::from_u128(1);
    const THERE: Uuid = Uuid::from_u128(2);

    fn now() -> DateTime<Utc> {
        "2026-12-04T10:00:00Z".parse().unwrap()
    }

    fn region(id: Uuid, kind: OrganisationKind, active: bool) -> Recipient {
        Recipient {
            id,
            kind,
            name: "Veilig Thuis Utrecht".into(),
            active,
        }
    }

    fn context(kind: HandoffKind, status: HandoffStatus) -> ForwardContext {
        ForwardContext {
            kind,
            status,
            urgency: Urgency::Acute,
            forwarder_id: HERE,
            forwarder_name: "Veilig Thuis Amsterdam-Amstelland".into(),
            target: Some(region(THERE, OrganisationKind::VeiligThuis, true)),
            now: now(),
            deadlines: DeadlineRules::default(),
        }
    }

    /// Every kind × status: what is forwarded, and what refuses.
    #[test]
    fn what_can_be_forwarded() {
        use HandoffStatus as S;
        for &kind in HandoffKind::ALL {
            for &status in HandoffStatus::ALL {
                let decided = decide_forward("Kind woont in Utrecht.", &context(kind, status));
                let why = format!("{kind:?} {status:?}");
                match (forwardable(kind), status) {
                    (false, _) => {
                        assert_eq!(decided, Err(Refusal::NotForwardable { kind }), "{why}")
                    }
                    (true, S::Sent | S::Received | S::Accepted) => {
                        let plan = decided.expect(&why);
                        assert_eq!(plan.step.to, S::Forwarded);
                        assert_eq!(plan.step.note.as_deref(), Some("Kind woont in Utrecht."));
                        assert_eq!(plan.target.id, THERE);
                        // The new region's clock starts now: acute, four hours.
                        assert_eq!(
                            plan.acknowledgement_due_at,
                            now() + chrono::Duration::hours(4)
                        );
                        assert_eq!(plan.feedback.legal_basis, LegalBasis::Statutory);
                        assert!(plan.feedback_message.contains("Veilig Thuis Utrecht"));
                    }
                    (true, _) => {
                        assert_eq!(decided, Err(Refusal::HandoffNotOpen { status }), "{why}")
                    }
                }
            }
        }
        assert_eq!(
            HandoffKind::ALL.iter().filter(|k| forwardable(**k)).count(),
            2,
            "reports and advice requests"
        );
    }

    #[test]
    fn only_to_another_active_veilig_thuis_with_a_reason() {
        let base = || context(HandoffKind::Report, HandoffStatus::Received);
        let target = |t: Option<Recipient>| ForwardContext {
            target: t,
            ..base()
        };
        assert_eq!(
            decide_forward("Elders.", &target(None)),
            Err(Refusal::UnknownRecipient)
        );
        for kind in [OrganisationKind::School, OrganisationKind::Wijkteam] {
            assert_eq!(
                decide_forward("Elders.", &target(Some(region(THERE, kind, true)))),
                Err(Refusal::ForwardingTarget)
            );
        }
        assert_eq!(
            decide_forward(
                "Elders.",
                &target(Some(region(HERE, OrganisationKind::VeiligThuis, true)))
            ),
            Err(Refusal::ForwardingTarget),
            "not to itself"
        );
        assert!(matches!(
            decide_forward(
                "Elders.",
                &target(Some(region(THERE, OrganisationKind::VeiligThuis, false)))
            ),
            Err(Refusal::RecipientInactive { .. })
        ));
        assert!(matches!(
            decide_forward("  ", &base()),
            Err(Refusal::Invalid(_))
        ));
    }
}
