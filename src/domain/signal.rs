//! Signals (meldcode step 1): what was seen or heard, apart from its interpretation, with where
//! it came from — and signals that reduce concern as well as those that raise it.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use diesel::{deserialize::FromSqlRow, expression::AsExpression, sql_types::Text};
use poem_openapi::Enum;
use serde::{Deserialize, Serialize};

use crate::{
    domain::{FieldError, refusal::Refusal},
    labelled,
};

/// What kind of signal (taxonomy after the meldcode's signalenlijsten).
#[derive(
    Enum, Deserialize, Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow,
)]
#[diesel(sql_type = Text)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum SignalCategory {
    PhysicalInjury,
    PhysicalNeglect,
    EmotionalNeglect,
    EmotionalAbuse,
    SexualAbuse,
    WitnessingDomesticViolence,
    BehaviourChange,
    StatementsByChild,
    ParentBehaviour,
    Absenteeism,
    HygieneAndCare,
    Development,
    Other,
}

labelled!(SignalCategory {
    PhysicalInjury => ("physical_injury", "Lichamelijk letsel", "Physical injury",
        "Bruises, burns, fractures or other injuries, especially unexplained or implausibly explained."),
    PhysicalNeglect => ("physical_neglect", "Lichamelijke verwaarlozing", "Physical neglect",
        "Basic needs unmet: food, clothing, sleep, medical or dental care."),
    EmotionalNeglect => ("emotional_neglect", "Emotionele verwaarlozing", "Emotional neglect",
        "A lack of attention, affection, support or stimulation."),
    EmotionalAbuse => ("emotional_abuse", "Psychische mishandeling", "Emotional abuse",
        "Threatening, humiliating, rejecting, isolating or terrorising the child."),
    SexualAbuse => ("sexual_abuse", "Seksueel misbruik", "Sexual abuse",
        "Sexual behaviour or knowledge unusual for the child's age, or a disclosure."),
    WitnessingDomesticViolence => ("witnessing_domestic_violence", "Getuige van huiselijk geweld",
        "Witnessing domestic violence",
        "The child sees or hears violence between (ex-)partners or other family members."),
    BehaviourChange => ("behaviour_change", "Gedragsverandering", "Behaviour change",
        "Sudden withdrawal, aggression, anxiety, regression or another change in behaviour."),
    StatementsByChild => ("statements_by_child", "Uitspraken van het kind", "Statements by the child",
        "What the child says about home; record the words literally in the facts."),
    ParentBehaviour => ("parent_behaviour", "Gedrag of omstandigheden van ouders",
        "Parent behaviour or circumstances",
        "How parents treat the child, or addiction, psychiatric problems, debts or conflict at home."),
    Absenteeism => ("absenteeism", "Verzuim", "Absenteeism",
        "Frequent or unexplained absence or lateness, or being kept at home."),
    HygieneAndCare => ("hygiene_and_care", "Hygiëne en verzorging", "Hygiene and care",
        "Poor hygiene, clothing unsuited to the weather, hunger."),
    Development => ("development", "Ontwikkeling", "Development",
        "Delays or stagnation in development, learning or growth."),
    Other => ("other", "Overig", "Other", "A signal that fits no other category."),
});

/// Where the signal came from.
#[derive(
    Enum, Deserialize, Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow,
)]
#[diesel(sql_type = Text)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum SignalSource {
    OwnObservation,
    Child,
    Parent,
    /// Someone else; say who in `sourceDescription`.
    ThirdParty,
}

labelled!(SignalSource {
    OwnObservation => ("own_observation", "Eigen waarneming", "Own observation",
        "The recorder saw or heard it."),
    Child => ("child", "Het kind", "The child", "The child said or showed it."),
    Parent => ("parent", "Ouder", "A parent", "A parent or guardian said it."),
    ThirdParty => ("third_party", "Derde", "Third party",
        "Someone else said it; name who (role, not necessarily name) in sourceDescription."),
});

/// Whether the signal raises or reduces concern: step 1 asks for both.
#[derive(
    Enum, Deserialize, Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow,
)]
#[diesel(sql_type = Text)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum SignalDirection {
    RaisesConcern,
    /// Contra-indicatie: a signal that refutes or softens the concern.
    ReducesConcern,
}

labelled!(SignalDirection {
    RaisesConcern => ("raises_concern", "Verhoogt de zorg", "Raises concern",
        "Supports the concern that the child is growing up unsafely."),
    ReducesConcern => ("reduces_concern", "Vermindert de zorg", "Reduces concern",
        "Refutes or softens the concern (contra-indicatie)."),
});

/// Clock skew tolerated on "observed at" against the server's clock.
pub const OBSERVED_AT_SKEW: Duration = Duration::minutes(5);

/// The content of a signal, as recorded or corrected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignalContent {
    pub observed_at: DateTime<Utc>,
    pub category: SignalCategory,
    pub source: SignalSource,
    pub source_description: Option<String>,
    pub facts: String,
    pub interpretation: Option<String>,
    pub direction: SignalDirection,
}

/// Rules a signal's content must meet: observed not in the future nor before the child was born,
/// facts not blank, a third party described.
pub fn check_content(
    content: &SignalContent,
    child_born: NaiveDate,
    now: DateTime<Utc>,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if content.observed_at > now + OBSERVED_AT_SKEW {
        errors.push(FieldError::new("observedAt", "must not be in the future"));
    }
    if content.observed_at.date_naive() < child_born {
        errors.push(FieldError::new(
            "observedAt",
            "must not be before the child's date of birth",
        ));
    }
    if content.facts.trim().is_empty() {
        errors.push(FieldError::new("facts", "must not be blank"));
    }
    let described = content
        .source_description
        .as_deref()
        .is_some_and(|d| !d.trim().is_empty());
    if content.source == SignalSource::ThirdParty && !described {
        errors.push(FieldError::new(
            "sourceDescription",
            "is required when the source is a third party: say who told it (e.g. the sports coach)",
        ));
    }
    errors
}

/// A correction needs a reason, and must change something.
pub fn check_revision(
    current: &SignalContent,
    corrected: &SignalContent,
    reason: &str,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if reason.trim().is_empty() {
        errors.push(FieldError::new(
            "reason",
            "must say why the signal is corrected",
        ));
    }
    if current == corrected {
        errors.push(FieldError::new(
            "(body)",
            "the correction is identical to the current content",
        ));
    }
    errors
}

/// Recording a signal: its content meets the rules.
pub fn decide_record(
    content: &SignalContent,
    child_born: NaiveDate,
    now: DateTime<Utc>,
) -> Result<(), Refusal> {
    Refusal::unless_invalid(check_content(content, child_born, now))
}

/// Correcting a signal: the corrected content meets the rules, says why, and changes something.
pub fn decide_revision(
    current: &SignalContent,
    corrected: &SignalContent,
    reason: &str,
    child_born: NaiveDate,
    now: DateTime<Utc>,
) -> Result<(), Refusal> {
    let mut errors = check_content(corrected, child_born, now);
    errors.extend(check_revision(current, corrected, reason));
    Refusal::unless_invalid(errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content() -> SignalContent {
        SignalContent {
            observed_at: "2026-11-20T08:30:00Z".parse().unwrap(),
            category: SignalCategory::StatementsByChild,
            source: SignalSource::Child,
            source_description: None,
            facts: "Zegt: \"Papa slaat mama als hij boos is.\"".into(),
            interpretation: None,
            direction: SignalDirection::RaisesConcern,
        }
    }

    fn now() -> DateTime<Utc> {
        "2026-11-22T12:00:00Z".parse().unwrap()
    }

    fn born() -> NaiveDate {
        "2013-04-02".parse().unwrap()
    }

    fn fields(errors: Vec<FieldError>) -> Vec<&'static str> {
        errors.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn a_plain_signal_is_fine() {
        assert!(check_content(&content(), born(), now()).is_empty());
    }

    #[test]
    fn content_rules() {
        type Change = fn(&mut SignalContent);
        let cases: &[(&str, Change, &[&str])] = &[
            (
                "in the future",
                |c| c.observed_at = "2026-11-22T12:10:00Z".parse().unwrap(),
                &["observedAt"],
            ),
            (
                "within clock skew",
                |c| c.observed_at = "2026-11-22T12:04:00Z".parse().unwrap(),
                &[],
            ),
            (
                "before birth",
                |c| c.observed_at = "2013-04-01T12:00:00Z".parse().unwrap(),
                &["observedAt"],
            ),
            (
                "on the day of birth",
                |c| c.observed_at = "2013-04-02T00:00:00Z".parse().unwrap(),
                &[],
            ),
            ("blank facts", |c| c.facts = " \n".into(), &["facts"]),
            (
                "third party undescribed",
                |c| c.source = SignalSource::ThirdParty,
                &["sourceDescription"],
            ),
            (
                "third party blank",
                |c| {
                    c.source = SignalSource::ThirdParty;
                    c.source_description = Some("  ".into());
                },
                &["sourceDescription"],
            ),
            (
                "third party described",
                |c| {
                    c.source = SignalSource::ThirdParty;
                    c.source_description = Some("De trainer van de voetbalclub".into());
                },
                &[],
            ),
            (
                "reduces concern",
                |c| c.direction = SignalDirection::ReducesConcern,
                &[],
            ),
        ];
        for (case, change, expected) in cases {
            let mut c = content();
            change(&mut c);
            assert_eq!(
                fields(check_content(&c, born(), now())),
                *expected,
                "{case}"
            );
        }
    }

    #[test]
    fn corrections_need_a_reason_and_a_change() {
        let current = content();
        let mut corrected = content();
        corrected.facts = "Zegt: \"Papa slaat mama.\"".into();
        assert!(check_revision(&current, &corrected, "Citaat verbeterd").is_empty());
        assert_eq!(
            fields(check_revision(&current, &corrected, " ")),
            ["reason"]
        );
        assert_eq!(fields(check_revision(&current, &current, "x")), ["(body)"]);
    }

    #[test]
    fn decisions_gather_every_rule() {
        let mut corrected = content();
        corrected.observed_at = "2026-11-23T12:00:00Z".parse().unwrap();
        assert_eq!(decide_record(&content(), born(), now()), Ok(()));
        match decide_revision(&content(), &corrected, "", born(), now()) {
            Err(Refusal::Invalid(errors)) => assert_eq!(fields(errors), ["observedAt", "reason"]),
            other => panic!("{other:?}"),
        }
        assert!(decide_record(&corrected, born(), now()).is_err());
    }
}
