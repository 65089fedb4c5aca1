//! Deciding to send feedback: field rules, the handoff's state and the covering consent.

use chrono::NaiveDate;
use uuid::Uuid;

use super::{AssessmentOutcome, Audience, FeedbackCategory, FeedbackFields, check};
use crate::domain::{
    consent::{self, ConsentGrant, ConsentPurpose},
    handoff::{HandoffStatus, LegalBasis},
    refusal::Refusal,
};
/// Feedback as the handoff's recipient asks to send it.
pub struct FeedbackRequest<'a> {
    pub category: FeedbackCategory,
    pub outcome: Option<AssessmentOutcome>,
    /// With conditions and follow-up: when Veilig Thuis checks them.
    pub follow_up_check_on: Option<NaiveDate>,
    pub audience: Option<Audience>,
    pub do_not_discuss_with_parents: Option<bool>,
    pub do_not_discuss_explanation: Option<&'a str>,
    pub message: &'a str,
    /// The consent it rests on, if the sender names one; else any that covers it.
    pub consent_id: Option<Uuid>,
}

/// What the decision needs of the handoff and the child.
pub struct FeedbackContext {
    pub handoff_status: HandoffStatus,
    /// The handoff's sender: the feedback's recipient, whom a consent must name.
    pub handoff_sender: Uuid,
    /// Whether the recipient took the child in (consent lives on that record).
    pub child_taken_in: bool,
    /// The consents on the recipient's record of the child.
    pub consents: Vec<ConsentGrant>,
    /// The next conditions check, while Veilig Thuis's safety conditions run on the handoff.
    pub conditions_check_on: Option<NaiveDate>,
    pub today: NaiveDate,
}

/// What to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedbackPlan {
    pub audience: Audience,
    pub do_not_discuss_with_parents: bool,
    pub consent_id: Option<Uuid>,
    pub legal_basis: LegalBasis,
    /// A safety-assessment decision stops the assessment deadline.
    pub assessment_decided: bool,
}

/// Field rules, then: only on an acknowledged handoff that was not withdrawn or forwarded; a
/// conditions check only while conditions run; status news on the statutory basis, anything
/// more only under a consent that covers the category now.
pub fn decide_send(
    request: &FeedbackRequest<'_>,
    context: &FeedbackContext,
) -> Result<FeedbackPlan, Refusal> {
    let audience = request.audience.unwrap_or(Audience::CareCoordinators);
    let silent = request.do_not_discuss_with_parents.unwrap_or(false);
    let mut errors = check(
        &FeedbackFields {
            category: request.category,
            outcome: request.outcome,
            follow_up_check_on: request.follow_up_check_on,
            audience,
            do_not_discuss_with_parents: silent,
            explanation: request.do_not_discuss_explanation,
        },
        context.today,
    );
    errors.extend(crate::domain::check_text("message", request.message));
    Refusal::unless_invalid(errors)?;
    if matches!(
        context.handoff_status,
        HandoffStatus::Sent | HandoffStatus::Withdrawn | HandoffStatus::Forwarded
    ) {
        return Err(Refusal::FeedbackNotOpen {
            status: context.handoff_status,
        });
    }
    let checks_conditions = matches!(
        request.category,
        FeedbackCategory::ConditionsMet | FeedbackCategory::ConditionsNotMet
    );
    if checks_conditions && context.conditions_check_on.is_none() {
        return Err(Refusal::NoConditionsInForce);
    }
    let consent_id = if request.category.needs_consent() {
        let named: Vec<ConsentGrant> = context
            .consents
            .iter()
            .filter(|g| request.consent_id.is_none_or(|wanted| wanted == g.id))
            .cloned()
            .collect();
        let covering = consent::covering(
            &named,
            ConsentPurpose::FeedbackToSchool,
            context.handoff_sender,
            Some(request.category),
        )
        .map_err(|not_covered| Refusal::ConsentRequired {
            purpose: ConsentPurpose::FeedbackToSchool,
            category: Some(request.category),
            not_covered,
            child_not_taken_in: !context.child_taken_in,
        })?;
        Some(covering)
    } else {
        None
    };
    Ok(FeedbackPlan {
        audience,
        do_not_discuss_with_parents: silent,
        consent_id,
        legal_basis: if consent_id.is_some() {
            LegalBasis::Consent
        } else {
            LegalBasis::Statutory
        },
        assessment_decided: request.category == FeedbackCategory::SafetyAssessmentDecided,
    })
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::reference::Labelled;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 3).unwrap()
    }

    /// A conditions check only while conditions run; what follows decides the next check.
    #[test]
    fn conditions_run_from_decision_to_end() {
        use AssessmentOutcome as O;
        use FeedbackCategory as C;
        let next = today() + chrono::Days::new(14);
        let request = |category, outcome, on| FeedbackRequest {
            category,
            outcome,
            follow_up_check_on: on,
            audience: None,
            do_not_discuss_with_parents: None,
            do_not_discuss_explanation: None,
            message: "Stand van zaken.",
            consent_id: None,
        };
        let context = |running: bool| FeedbackContext {
            handoff_status: HandoffStatus::Accepted,
            handoff_sender: Uuid::from_u128(1),
            child_taken_in: true,
            consents: Vec::new(),
            conditions_check_on: running.then_some(today()),
            today: today(),
        };
        let cases = [
            (
                C::SafetyAssessmentDecided,
                Some(O::ConditionsAndFollowUp),
                Some(next),
                false,
                true,
            ),
            (C::ConditionsMet, None, None, false, false),
            (
                C::ConditionsNotMet,
                Some(O::VtInvestigates),
                None,
                false,
                false,
            ),
            (C::ConditionsMet, None, Some(next), true, true),
            (C::ConditionsMet, None, None, true, true),
            (
                C::ConditionsNotMet,
                Some(O::RaadVoorDeKinderbescherming),
                None,
                true,
                true,
            ),
            (
                C::ConditionsNotMet,
                Some(O::ConditionsAndFollowUp),
                Some(next),
                true,
                true,
            ),
        ];
        for (category, outcome, on, running, sent) in cases {
            let decided = decide_send(&request(category, outcome, on), &context(running));
            if sent {
                assert!(
                    decided.is_ok(),
                    "{category:?} {outcome:?} running {running}"
                );
            } else {
                assert_eq!(decided, Err(Refusal::NoConditionsInForce), "{category:?}");
            }
        }
        // Which feedback decides the next check (its followUpCheckOn, or none).
        let deciding: Vec<C> = C::ALL
            .iter()
            .copied()
            .filter(|c| c.sets_conditions_check())
            .collect();
        assert_eq!(
            deciding,
            [
                C::SafetyAssessmentDecided,
                C::InvolvementEnded,
                C::Forwarded,
                C::ConditionsMet,
                C::ConditionsNotMet
            ]
        );
    }

    /// Feedback category × consent × handoff status.
    #[test]
    fn feedback_by_category_consent_and_handoff_status() {
        use crate::domain::consent::{ConsentStatus, NotCovered};
        let sender = Uuid::from_u128(1);
        let consent_id = Uuid::from_u128(2);
        let grant = |status, scope: &[FeedbackCategory]| ConsentGrant {
            id: consent_id,
            purpose: ConsentPurpose::FeedbackToSchool,
            recipient: sender,
            scope: scope.to_vec(),
            status,
        };
        let consents: [(&str, Vec<ConsentGrant>); 4] = [
            ("none", Vec::new()),
            (
                "draft",
                vec![grant(ConsentStatus::Draft, FeedbackCategory::ALL)],
            ),
            (
                "active, out of scope",
                vec![grant(ConsentStatus::Active, &[])],
            ),
            (
                "active",
                vec![grant(ConsentStatus::Active, FeedbackCategory::ALL)],
            ),
        ];
        for &category in FeedbackCategory::ALL {
            let request = FeedbackRequest {
                category,
                outcome: category
                    .names_route()
                    .then_some(AssessmentOutcome::VtInvestigates),
                follow_up_check_on: None,
                audience: None,
                do_not_discuss_with_parents: None,
                do_not_discuss_explanation: None,
                message: "Stand van zaken.",
                consent_id: None,
            };
            for &status in HandoffStatus::ALL {
                for (which, grants) in &consents {
                    let context = FeedbackContext {
                        handoff_status: status,
                        handoff_sender: sender,
                        child_taken_in: true,
                        consents: grants.clone(),
                        conditions_check_on: Some(today() + chrono::Days::new(7)),
                        today: today(),
                    };
                    let outcome = decide_send(&request, &context);
                    let why = format!("{category:?} on a {status:?} handoff, consent {which}");
                    if category == FeedbackCategory::Forwarded {
                        assert!(matches!(outcome, Err(Refusal::Invalid(_))), "{why}");
                    } else if matches!(
                        status,
                        HandoffStatus::Sent | HandoffStatus::Withdrawn | HandoffStatus::Forwarded
                    ) {
                        assert_eq!(outcome, Err(Refusal::FeedbackNotOpen { status }), "{why}");
                    } else if !category.needs_consent() {
                        let plan = outcome.expect(&why);
                        assert_eq!(plan.legal_basis, LegalBasis::Statutory, "{why}");
                        assert_eq!(plan.consent_id, None, "{why}");
                    } else if *which == "active" {
                        let plan = outcome.expect(&why);
                        assert_eq!(plan.legal_basis, LegalBasis::Consent, "{why}");
                        assert_eq!(plan.consent_id, Some(consent_id), "{why}");
                    } else {
                        let expected = match *which {
                            "none" => NotCovered::NoConsent,
                            "draft" => NotCovered::NotActive(ConsentStatus::Draft),
                            _ => NotCovered::OutOfScope,
                        };
                        assert_eq!(
                            outcome,
                            Err(Refusal::ConsentRequired {
                                purpose: ConsentPurpose::FeedbackToSchool,
                                category: Some(category),
                                not_covered: expected,
                                child_not_taken_in: false,
                            }),
                            "{why}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn a_named_consent_must_be_the_covering_one() {
        let sender = Uuid::from_u128(1);
        let request = FeedbackRequest {
            category: FeedbackCategory::Outcome,
            outcome: None,
            follow_up_check_on: None,
            audience: None,
            do_not_discuss_with_parents: None,
            do_not_discuss_explanation: None,
            message: "Hulp is gestart.",
            consent_id: Some(Uuid::from_u128(9)),
        };
        let context = FeedbackContext {
            handoff_status: HandoffStatus::Accepted,
            handoff_sender: sender,
            child_taken_in: false,
            consents: vec![ConsentGrant {
                id: Uuid::from_u128(2),
                purpose: ConsentPurpose::FeedbackToSchool,
                recipient: sender,
                scope: FeedbackCategory::ALL.to_vec(),
                status: crate::domain::consent::ConsentStatus::Active,
            }],
            conditions_check_on: None,
            today: today(),
        };
        assert!(matches!(
            decide_send(&request, &context),
            Err(Refusal::ConsentRequired {
                child_not_taken_in: true,
                ..
            })
        ));
        let silent = FeedbackRequest {
            do_not_discuss_with_parents: Some(true),
            consent_id: None,
            ..request
        };
        assert!(matches!(
            decide_send(&silent, &context),
            Err(Refusal::Invalid(_))
        ));
    }
}
