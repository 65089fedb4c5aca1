//! Feedback (terugkoppeling) from the receiver of a handoff — typically Veilig Thuis — to its
//! sender: status news flows without consent; anything more only under an active consent.

use diesel::{deserialize::FromSqlRow, expression::AsExpression, sql_types::Text};
use poem_openapi::Enum;
use serde::{Deserialize, Serialize};

use chrono::NaiveDate;

use crate::{domain::FieldError, labelled};

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
    /// Status: Veilig Thuis forwarded the report to the region where the child lives; written
    /// by the forwarding itself.
    Forwarded,
    /// Status: at a follow-up check the safety conditions were met.
    ConditionsMet,
    /// Status: at a follow-up check the safety conditions were not met (with the next step as
    /// `outcome`).
    ConditionsNotMet,
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
    Forwarded => ("forwarded", "Doorgestuurd naar andere regio", "Forwarded to another region",
        "Status: Veilig Thuis forwarded the report to the region where the child lives. Written by the forwarding; no consent needed."),
    ConditionsMet => ("conditions_met", "Voorwaarden nagekomen", "Conditions met",
        "Status: at a follow-up check the safety conditions were met. No consent needed."),
    ConditionsNotMet => ("conditions_not_met", "Voorwaarden niet nagekomen", "Conditions not met",
        "Status: at a follow-up check the safety conditions were not met; names the next step. No consent needed."),
});

impl FeedbackCategory {
    /// Status feedback needs no consent (the statutory feedback to the melder); the rest does.
    pub fn needs_consent(self) -> bool {
        !matches!(
            self,
            Self::Received
                | Self::SafetyAssessmentDecided
                | Self::InvolvementEnded
                | Self::Forwarded
                | Self::ConditionsMet
                | Self::ConditionsNotMet
        )
    }

    /// Whether feedback of this category decides the next conditions check: its
    /// `followUpCheckOn` is the next check, or none (the conditions route ends). The latest such
    /// feedback on a handoff says whether Veilig Thuis's safety conditions run, and until when.
    pub fn sets_conditions_check(self) -> bool {
        matches!(
            self,
            Self::SafetyAssessmentDecided
                | Self::ConditionsMet
                | Self::ConditionsNotMet
                | Self::InvolvementEnded
                | Self::Forwarded
        )
    }

    /// Whether the category names a route (`outcome`): the decision after the safety
    /// assessment, and the next step when conditions were not met.
    pub fn names_route(self) -> bool {
        matches!(self, Self::SafetyAssessmentDecided | Self::ConditionsNotMet)
    }
}

/// Veilig Thuis's decision after the safety assessment (vervolgroute), as the Handelingsprotocol
/// Veilig Thuis (2019) names the routes: investigation by Veilig Thuis, a request to the Raad
/// voor de Kinderbescherming, conditions and follow-up, a handover (to the local team, existing
/// help, a multidisciplinary team or those directly involved), or the end of involvement.
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
    HandedToMultidisciplinaryTeam,
    HandedToThoseInvolved,
    /// Voorwaarden en vervolg: Veilig Thuis sets safety conditions, the local team helps, and
    /// Veilig Thuis checks whether they are met (with a follow-up check date).
    ConditionsAndFollowUp,
    RaadVoorDeKinderbescherming,
    NoFurtherAction,
}

labelled!(AssessmentOutcome {
    VtInvestigates => ("vt_investigates", "Onderzoek door Veilig Thuis", "Veilig Thuis investigates",
        "Veilig Thuis investigates the situation itself."),
    HandedToLocalTeam => ("handed_to_local_team", "Overdracht aan lokaal team", "Handed to the local team",
        "The wijkteam or local team takes it on."),
    HandedToExistingHelp => ("handed_to_existing_help", "Overdracht aan lopende hulpverlening",
        "Handed to existing help", "Help already involved takes it on."),
    HandedToMultidisciplinaryTeam => ("handed_to_multidisciplinary_team",
        "Overdracht aan multidisciplinair team", "Handed to a multidisciplinary team",
        "A multidisciplinary team (MDA++, Zorg- en Veiligheidshuis) takes it on."),
    HandedToThoseInvolved => ("handed_to_those_involved", "Overdracht aan direct betrokkenen",
        "Handed to those directly involved",
        "The family and the professionals around it take it on without further help."),
    ConditionsAndFollowUp => ("conditions_and_follow_up", "Voorwaarden en vervolg",
        "Conditions and follow-up",
        "Veilig Thuis sets safety conditions, the local team helps, and Veilig Thuis checks on a follow-up date whether they are met."),
    RaadVoorDeKinderbescherming => ("raad_voor_de_kinderbescherming",
        "Verzoek tot onderzoek aan de Raad voor de Kinderbescherming", "Child protection board",
        "Veilig Thuis asks the Raad voor de Kinderbescherming to investigate."),
    NoFurtherAction => ("no_further_action", "Einde bemoeienis", "No further action",
        "Veilig Thuis ends its involvement: no further action is needed."),
});

impl AssessmentOutcome {
    /// What may follow unmet conditions: an investigation, the Raad, or new conditions.
    pub fn follows_unmet_conditions(self) -> bool {
        matches!(
            self,
            Self::VtInvestigates | Self::RaadVoorDeKinderbescherming | Self::ConditionsAndFollowUp
        )
    }
}

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

/// The properties of a feedback item the field rules look at.
#[derive(Debug, Clone, Copy)]
pub struct FeedbackFields<'a> {
    pub category: FeedbackCategory,
    pub outcome: Option<AssessmentOutcome>,
    pub follow_up_check_on: Option<NaiveDate>,
    pub audience: Audience,
    pub do_not_discuss_with_parents: bool,
    pub explanation: Option<&'a str>,
}

/// Field rules of a feedback item: a route (`outcome`) belongs to a safety-assessment decision
/// and to unmet conditions (and only an investigation, the Raad or new conditions follow unmet
/// conditions); conditions come with a future check date, a met check may set the next one;
/// forwarding writes its own feedback; only guidance may be addressed to all school staff;
/// silent support is explained.
pub fn check(fields: &FeedbackFields<'_>, today: NaiveDate) -> Vec<FieldError> {
    let category = fields.category;
    let mut errors = Vec::new();
    if category == FeedbackCategory::Forwarded {
        errors.push(FieldError::new(
            "category",
            "forwarded is written by forwarding the handoff (POST /v1/handoffs/{id}/forwarding)",
        ));
    }
    match (category.names_route(), fields.outcome) {
        (true, None) => errors.push(FieldError::new(
            "outcome",
            "a safety assessment decision and unmet conditions name the route Veilig Thuis takes",
        )),
        (true, Some(outcome))
            if category == FeedbackCategory::ConditionsNotMet
                && !outcome.follows_unmet_conditions() =>
        {
            errors.push(FieldError::new(
                "outcome",
                "unmet conditions lead to vt_investigates, raad_voor_de_kinderbescherming or new conditions_and_follow_up",
            ))
        }
        (false, Some(_)) => errors.push(FieldError::new(
            "outcome",
            "only safety_assessment_decided and conditions_not_met feedback names a route",
        )),
        _ => {}
    }
    let conditions = fields.outcome == Some(AssessmentOutcome::ConditionsAndFollowUp);
    match fields.follow_up_check_on {
        None if conditions => errors.push(FieldError::new(
            "followUpCheckOn",
            "conditions and follow-up name the date Veilig Thuis checks them",
        )),
        Some(_) if !conditions && category != FeedbackCategory::ConditionsMet => {
            errors.push(FieldError::new(
                "followUpCheckOn",
                "only with conditions_and_follow_up, or conditions_met when checks go on",
            ))
        }
        Some(on) if on <= today => {
            errors.push(FieldError::new("followUpCheckOn", "must be after today"))
        }
        _ => {}
    }
    if fields.audience == Audience::SchoolStaff && category != FeedbackCategory::GuidanceForSchool {
        errors.push(FieldError::new(
            "audience",
            "only guidance_for_school may be addressed to all school staff",
        ));
    }
    if fields.do_not_discuss_with_parents && fields.explanation.is_none_or(|e| e.trim().is_empty())
    {
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
        use FeedbackCategory::*;
        let status = [
            Received,
            SafetyAssessmentDecided,
            InvolvementEnded,
            Forwarded,
            ConditionsMet,
            ConditionsNotMet,
        ];
        for &category in FeedbackCategory::ALL {
            assert_eq!(
                category.needs_consent(),
                !status.contains(&category),
                "{category:?}"
            );
        }
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 3).unwrap()
    }

    fn fields_of(category: FeedbackCategory) -> FeedbackFields<'static> {
        FeedbackFields {
            category,
            outcome: None,
            follow_up_check_on: None,
            audience: Audience::CareCoordinators,
            do_not_discuss_with_parents: false,
            explanation: None,
        }
    }

    fn refused(fields: &FeedbackFields<'_>) -> Vec<&'static str> {
        check(fields, today())
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    /// Every category × audience × route: which properties are refused.
    #[test]
    fn feedback_fields() {
        use AssessmentOutcome::{HandedToLocalTeam, VtInvestigates};
        use Audience::*;
        use FeedbackCategory::*;
        for &category in FeedbackCategory::ALL {
            for audience in [CareCoordinators, SchoolStaff] {
                for outcome in [None, Some(HandedToLocalTeam), Some(VtInvestigates)] {
                    let mut expected = Vec::new();
                    if category == Forwarded {
                        expected.push("category");
                    }
                    let route_fits = match (category, outcome) {
                        (SafetyAssessmentDecided, Some(_)) => true,
                        (ConditionsNotMet, Some(o)) => o == VtInvestigates,
                        (SafetyAssessmentDecided | ConditionsNotMet, None) => false,
                        (_, route) => route.is_none(),
                    };
                    if !route_fits {
                        expected.push("outcome");
                    }
                    if audience == SchoolStaff && category != GuidanceForSchool {
                        expected.push("audience");
                    }
                    let fields = FeedbackFields {
                        audience,
                        outcome,
                        ..fields_of(category)
                    };
                    assert_eq!(
                        refused(&fields),
                        expected,
                        "{category:?} {audience:?} {outcome:?}"
                    );
                }
            }
        }
        let silent = FeedbackFields {
            do_not_discuss_with_parents: true,
            explanation: Some(" "),
            ..fields_of(Outcome)
        };
        assert_eq!(refused(&silent), ["doNotDiscussExplanation"]);
        let explained = FeedbackFields {
            explanation: Some("Vader weet nog niets."),
            ..silent
        };
        assert!(refused(&explained).is_empty());
    }

    /// Voorwaarden en vervolg: a check date after today with the route; a met check may set the
    /// next one; unmet conditions lead only to an investigation, the Raad or new conditions.
    #[test]
    fn conditions_and_their_check_dates() {
        use AssessmentOutcome as O;
        use FeedbackCategory::*;
        let tomorrow = Some(today().succ_opt().unwrap());
        type Case = (
            FeedbackCategory,
            Option<O>,
            Option<NaiveDate>,
            &'static [&'static str],
        );
        let cases: &[Case] = &[
            (
                SafetyAssessmentDecided,
                Some(O::ConditionsAndFollowUp),
                tomorrow,
                &[],
            ),
            (
                SafetyAssessmentDecided,
                Some(O::ConditionsAndFollowUp),
                None,
                &["followUpCheckOn"],
            ),
            (
                SafetyAssessmentDecided,
                Some(O::ConditionsAndFollowUp),
                Some(today()),
                &["followUpCheckOn"],
            ),
            (
                SafetyAssessmentDecided,
                Some(O::VtInvestigates),
                tomorrow,
                &["followUpCheckOn"],
            ),
            (ConditionsMet, None, None, &[]),
            (ConditionsMet, None, tomorrow, &[]),
            (ConditionsMet, Some(O::NoFurtherAction), None, &["outcome"]),
            (ConditionsNotMet, None, None, &["outcome"]),
            (
                ConditionsNotMet,
                Some(O::RaadVoorDeKinderbescherming),
                None,
                &[],
            ),
            (
                ConditionsNotMet,
                Some(O::ConditionsAndFollowUp),
                tomorrow,
                &[],
            ),
            (
                ConditionsNotMet,
                Some(O::ConditionsAndFollowUp),
                None,
                &["followUpCheckOn"],
            ),
            (
                ConditionsNotMet,
                Some(O::NoFurtherAction),
                None,
                &["outcome"],
            ),
            (
                ConditionsNotMet,
                Some(O::HandedToLocalTeam),
                None,
                &["outcome"],
            ),
            (InvolvementEnded, None, tomorrow, &["followUpCheckOn"]),
        ];
        for (category, outcome, on, expected) in cases {
            let fields = FeedbackFields {
                outcome: *outcome,
                follow_up_check_on: *on,
                ..fields_of(*category)
            };
            assert_eq!(
                refused(&fields),
                *expected,
                "{category:?} {outcome:?} {on:?}"
            );
        }
        let after_unmet: Vec<O> = O::ALL
            .iter()
            .copied()
            .filter(|o| o.follows_unmet_conditions())
            .collect();
        assert_eq!(
            after_unmet,
            [
                O::VtInvestigates,
                O::ConditionsAndFollowUp,
                O::RaadVoorDeKinderbescherming
            ]
        );
    }
}
