//! Feedback (terugkoppeling) from the receiver of a handoff — typically Veilig Thuis — to its
//! sender: status news flows without consent; anything more only under an active consent.

use diesel::{deserialize::FromSqlRow, expression::AsExpression, sql_types::Text};
use poem_openapi::Enum;
use serde::{Deserialize, Serialize};

use uuid::Uuid;

use crate::{
    domain::{
        consent::{self, ConsentGrant, ConsentPurpose},
        handoff::{HandoffStatus, LegalBasis},
        refusal::Refusal,
    },
    labelled,
};

#[derive(
    Enum, Deserialize, Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow,
)]
#[diesel(sql_type = Text)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum FeedbackCategory {
    /// Status: the report was received.
    Received,
    /// Status: Veilig Thuis decided after its safety assessment (with an `outcome`).
    SafetyAssessmentDecided,
    /// Status: Veilig Thuis's involvement ended.
    InvolvementEnded,
    /// Substantive: what came of it.
    Outcome,
    /// Substantive: how the school should treat the child meanwhile.
    GuidanceForSchool,
    /// Substantive: which help is in place.
    HelpInPlace,
    /// Substantive: whom the school can contact.
    ContactPerson,
}

labelled!(FeedbackCategory {
    Received => ("received", "Melding ontvangen", "Received",
        "Status: the report was received. No consent needed."),
    SafetyAssessmentDecided => ("safety_assessment_decided", "Veiligheidsbeoordeling gedaan",
        "Safety assessment decided",
        "Status: Veilig Thuis decided on the follow-up after its safety assessment. No consent needed."),
    InvolvementEnded => ("involvement_ended", "Betrokkenheid beëindigd", "Involvement ended",
        "Status: Veilig Thuis's involvement ended. No consent needed."),
    Outcome => ("outcome", "Uitkomst", "Outcome",
        "What came of the report. Needs consent."),
    GuidanceForSchool => ("guidance_for_school", "Handelingsadvies voor school", "Guidance for the school",
        "How the school should treat the child meanwhile. Needs consent; may be addressed to all school staff."),
    HelpInPlace => ("help_in_place", "Ingezette hulp", "Help in place",
        "Which help is in place. Needs consent."),
    ContactPerson => ("contact_person", "Contactpersoon", "Contact person",
        "Whom the school can contact. Needs consent."),
});

impl FeedbackCategory {
    /// Status feedback needs no consent (the statutory feedback to the melder); the rest does.
    pub fn needs_consent(self) -> bool {
        !matches!(
            self,
            Self::Received | Self::SafetyAssessmentDecided | Self::InvolvementEnded
        )
    }
}

/// Veilig Thuis's decision after the safety assessment (vervolgroute).
#[derive(
    Enum, Deserialize, Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow,
)]
#[diesel(sql_type = Text)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum AssessmentOutcome {
    VtInvestigates,
    HandedToLocalTeam,
    HandedToExistingHelp,
    RaadVoorDeKinderbescherming,
    NoFurtherAction,
}

labelled!(AssessmentOutcome {
    VtInvestigates => ("vt_investigates", "Onderzoek door Veilig Thuis", "Veilig Thuis investigates",
        "Veilig Thuis investigates the situation itself."),
    HandedToLocalTeam => ("handed_to_local_team", "Overdracht aan lokaal team", "Handed to the local team",
        "The wijkteam or local team takes it on."),
    HandedToExistingHelp => ("handed_to_existing_help", "Overdracht aan bestaande hulp",
        "Handed to existing help", "Help already involved takes it on."),
    RaadVoorDeKinderbescherming => ("raad_voor_de_kinderbescherming", "Raad voor de Kinderbescherming",
        "Child protection board", "Referred to the Raad voor de Kinderbescherming."),
    NoFurtherAction => ("no_further_action", "Geen vervolg", "No further action",
        "No further action is needed."),
});

/// Who at the school may read a feedback item.
#[derive(
    Enum, Deserialize, Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow,
)]
#[diesel(sql_type = Text)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// The sending organisation's casework roles (at a school: the care coordinators).
    CareCoordinators,
    /// Also teachers who recorded signals about the child; only for guidance.
    SchoolStaff,
}

labelled!(Audience {
    CareCoordinators => ("care_coordinators", "Zorgcoördinatoren", "Care coordinators",
        "The sending organisation's care coordinators (and other casework roles)."),
    SchoolStaff => ("school_staff", "Schoolteam", "School staff",
        "Also teachers who recorded signals about the child; only for guidance for the school."),
});

/// Field rules of a feedback item: a safety-assessment decision names its outcome (and only it
/// does); only guidance may be addressed to all school staff; silent support is explained.
pub fn check(
    category: FeedbackCategory,
    outcome: Option<AssessmentOutcome>,
    audience: Audience,
    do_not_discuss_with_parents: bool,
    explanation: Option<&str>,
) -> Vec<crate::domain::FieldError> {
    use crate::domain::FieldError;
    let mut errors = Vec::new();
    match (category, outcome) {
        (FeedbackCategory::SafetyAssessmentDecided, None) => errors.push(FieldError::new(
            "outcome",
            "a safety assessment decision names its outcome",
        )),
        (FeedbackCategory::SafetyAssessmentDecided, Some(_)) | (_, None) => {}
        (_, Some(_)) => errors.push(FieldError::new(
            "outcome",
            "only a safety_assessment_decided feedback has an outcome",
        )),
    }
    if audience == Audience::SchoolStaff && category != FeedbackCategory::GuidanceForSchool {
        errors.push(FieldError::new(
            "audience",
            "only guidance_for_school may be addressed to all school staff",
        ));
    }
    if do_not_discuss_with_parents && explanation.is_none_or(|e| e.trim().is_empty()) {
        errors.push(FieldError::new(
            "doNotDiscussExplanation",
            "explain why the school should not discuss it with the parents",
        ));
    }
    errors
}

/// Feedback as the handoff's recipient asks to send it.
pub struct FeedbackRequest<'a> {
    pub category: FeedbackCategory,
    pub outcome: Option<AssessmentOutcome>,
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

/// Field rules, then: only on an acknowledged handoff that was not withdrawn; status news on
/// the statutory basis, anything more only under a consent that covers the category now.
pub fn decide_send(
    request: &FeedbackRequest<'_>,
    context: &FeedbackContext,
) -> Result<FeedbackPlan, Refusal> {
    let audience = request.audience.unwrap_or(Audience::CareCoordinators);
    let silent = request.do_not_discuss_with_parents.unwrap_or(false);
    let mut errors = check(
        request.category,
        request.outcome,
        audience,
        silent,
        request.do_not_discuss_explanation,
    );
    errors.extend(crate::domain::check_text("message", request.message));
    Refusal::unless_invalid(errors)?;
    if matches!(
        context.handoff_status,
        HandoffStatus::Sent | HandoffStatus::Withdrawn
    ) {
        return Err(Refusal::FeedbackNotOpen {
            status: context.handoff_status,
        });
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

    #[test]
    fn only_status_feedback_flows_without_consent() {
        let status = [
            FeedbackCategory::Received,
            FeedbackCategory::SafetyAssessmentDecided,
            FeedbackCategory::InvolvementEnded,
        ];
        for &category in FeedbackCategory::ALL {
            assert_eq!(
                category.needs_consent(),
                !status.contains(&category),
                "{category:?}"
            );
        }
    }

    #[test]
    fn feedback_fields() {
        use AssessmentOutcome::HandedToLocalTeam;
        use Audience::*;
        use FeedbackCategory::*;
        let fields =
            |e: Vec<crate::domain::FieldError>| e.into_iter().map(|e| e.field).collect::<Vec<_>>();
        for &category in FeedbackCategory::ALL {
            for audience in [CareCoordinators, SchoolStaff] {
                for outcome in [None, Some(HandedToLocalTeam)] {
                    let mut expected = Vec::new();
                    if (category == SafetyAssessmentDecided) != outcome.is_some() {
                        expected.push("outcome");
                    }
                    if audience == SchoolStaff && category != GuidanceForSchool {
                        expected.push("audience");
                    }
                    assert_eq!(
                        fields(check(category, outcome, audience, false, None)),
                        expected,
                        "{category:?} {audience:?} {outcome:?}"
                    );
                }
            }
        }
        assert_eq!(
            fields(check(Outcome, None, CareCoordinators, true, Some(" "))),
            ["doNotDiscussExplanation"]
        );
        assert!(
            check(
                Outcome,
                None,
                CareCoordinators,
                true,
                Some("Vader weet nog niets.")
            )
            .is_empty()
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
                outcome: (category == FeedbackCategory::SafetyAssessmentDecided)
                    .then_some(AssessmentOutcome::VtInvestigates),
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
                    };
                    let outcome = decide_send(&request, &context);
                    let why = format!("{category:?} on a {status:?} handoff, consent {which}");
                    if matches!(status, HandoffStatus::Sent | HandoffStatus::Withdrawn) {
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
