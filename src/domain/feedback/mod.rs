//! Feedback (terugkoppeling) from the receiver of a handoff — typically Veilig Thuis — to its
//! sender: status news flows without consent; anything more only under an active consent.

use diesel::{deserialize::FromSqlRow, expression::AsExpression, sql_types::Text};
use poem_openapi::Enum;
use serde::{Deserialize, Serialize};

use crate::labelled;

mod send;

pub use send::{FeedbackContext, FeedbackPlan, FeedbackRequest, decide_send};

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
}
