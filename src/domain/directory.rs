//! The sociale kaart: which help questions an organisation takes, where, and how to reach it —
//! so that a teacher or care coordinator knows whom to ask before anything escalates
//! ("nu weet ik beter wie ik voor welke hulpvraag kan benaderen"). No child data.

use poem_openapi::Enum;
use serde::{Deserialize, Serialize};

use crate::{
    domain::{FieldError, check_text, organisation::OrganisationKind, refusal::Refusal},
    labelled,
};

/// A kind of help question (hulpvraag) an organisation takes.
#[derive(Enum, Deserialize, Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum HelpQuestion {
    Parenting,
    GrowthAndDevelopment,
    Behaviour,
    HomeSituation,
    Absenteeism,
    SafetyAndViolence,
    LearningSupport,
    MentalWellbeing,
    Health,
    MoneyAndHousing,
}

labelled!(HelpQuestion {
    Parenting => ("parenting", "Opvoedvragen", "Parenting questions",
        "Questions of parents about raising their child."),
    GrowthAndDevelopment => ("growth_and_development", "Groei en ontwikkeling",
        "Growth and development", "Physical, social and emotional development."),
    Behaviour => ("behaviour", "Gedrag", "Behaviour", "Behaviour at school or at home."),
    HomeSituation => ("home_situation", "Thuissituatie", "Home situation",
        "Worries about the home situation: divorce, illness, addiction, conflict."),
    Absenteeism => ("absenteeism", "Verzuim", "Absenteeism",
        "School absence and the risk of dropping out."),
    SafetyAndViolence => ("safety_and_violence", "Veiligheid en geweld", "Safety and violence",
        "Domestic violence, child abuse and other unsafety."),
    LearningSupport => ("learning_support", "Leerondersteuning", "Learning support",
        "Extra support in learning (passend onderwijs)."),
    MentalWellbeing => ("mental_wellbeing", "Psychisch welbevinden", "Mental wellbeing",
        "Anxiety, gloom, self-image, stress."),
    Health => ("health", "Gezondheid", "Health", "Physical health, sleep, food, hygiene."),
    MoneyAndHousing => ("money_and_housing", "Geld en wonen", "Money and housing",
        "Poverty, debts and housing problems in the family."),
});

/// A range of four-digit postcodes, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PostcodeRange {
    pub from: u16,
    pub to: u16,
}

impl PostcodeRange {
    /// As stored: "1011-1019".
    pub fn to_code(self) -> String {
        format!("{:04}-{:04}", self.from, self.to)
    }

    pub fn parse(code: &str) -> Option<Self> {
        let (from, to) = code.split_once('-')?;
        Some(Self {
            from: from.parse().ok()?,
            to: to.parse().ok()?,
        })
    }

    fn contains(self, postcode: u16) -> bool {
        (self.from..=self.to).contains(&postcode)
    }
}

/// The four digits of a Dutch postcode ("1234 AB", "1234AB" or "1234"), if it is one.
pub fn postcode_digits(postcode: &str) -> Option<u16> {
    let compact: String = postcode.chars().filter(|c| !c.is_whitespace()).collect();
    let digits = compact.get(..4)?;
    let letters = compact.get(4..)?;
    let valid_letters = letters.is_empty()
        || (letters.len() == 2 && letters.chars().all(|c| c.is_ascii_alphabetic()));
    let number: u16 = digits.parse().ok()?;
    (digits.chars().all(|c| c.is_ascii_digit()) && (1000..=9999).contains(&number) && valid_letters)
        .then_some(number)
}

/// What an organisation offers on the sociale kaart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Services {
    pub help_questions: Vec<HelpQuestion>,
    pub municipalities: Vec<String>,
    pub neighbourhoods: Vec<String>,
    pub postcode_ranges: Vec<PostcodeRange>,
    pub intake_route: String,
    pub opening_hours: String,
}

/// Describing one's services: not the platform; at least one help question, each once; texts
/// not blank; postcode ranges of four-digit postcodes, from before to; an area named by
/// municipality or postcode.
pub fn decide_services(kind: OrganisationKind, services: &Services) -> Result<(), Refusal> {
    if kind == OrganisationKind::Platform {
        return Err(Refusal::field(
            "helpQuestions",
            "the platform organisation offers no services",
        ));
    }
    let mut errors: Vec<FieldError> = Vec::new();
    let questions = &services.help_questions;
    if questions.is_empty() {
        errors.push(FieldError::new("helpQuestions", "name at least one"));
    }
    if questions
        .iter()
        .enumerate()
        .any(|(i, q)| questions[..i].contains(q))
    {
        errors.push(FieldError::new("helpQuestions", "name each question once"));
    }
    for (field, texts) in [
        ("area.municipalities", &services.municipalities),
        ("area.neighbourhoods", &services.neighbourhoods),
    ] {
        if let Some(error) = texts.iter().find_map(|t| check_text(field, t)) {
            errors.push(error);
        }
    }
    if services
        .postcode_ranges
        .iter()
        .any(|r| r.from < 1000 || r.to > 9999 || r.from > r.to)
    {
        errors.push(FieldError::new(
            "area.pc4Ranges",
            "four-digit postcodes (1000–9999), `from` not after `to`",
        ));
    }
    if services.municipalities.is_empty() && services.postcode_ranges.is_empty() {
        errors.push(FieldError::new(
            "area",
            "name the municipalities or postcode ranges served",
        ));
    }
    errors.extend(check_text("intakeRoute", &services.intake_route));
    errors.extend(check_text("openingHours", &services.opening_hours));
    Refusal::unless_invalid(errors)
}

/// Whether the organisation takes the question (if one is asked) where the postcode lies (if
/// one is given): in a range, or anywhere when it names municipalities only.
pub fn serves(services: &Services, question: Option<HelpQuestion>, postcode: Option<u16>) -> bool {
    let takes = question.is_none_or(|q| services.help_questions.contains(&q));
    let there = postcode.is_none_or(|p| {
        services.postcode_ranges.is_empty()
            || services.postcode_ranges.iter().any(|r| r.contains(p))
    });
    takes && there
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::reference::Labelled;

    fn services() -> Services {
        Services {
            help_questions: vec![HelpQuestion::Parenting, HelpQuestion::HomeSituation],
            municipalities: vec!["Amsterdam".into()],
            neighbourhoods: vec!["Noord".into()],
            postcode_ranges: vec![PostcodeRange {
                from: 1020,
                to: 1039,
            }],
            intake_route: "Bel of mail het team; binnen een week een gesprek.".into(),
            opening_hours: "Ma–vr 9:00–17:00".into(),
        }
    }

    #[test]
    fn postcodes() {
        for (given, expected) in [
            ("1021 AB", Some(1021)),
            ("1021AB", Some(1021)),
            ("1021", Some(1021)),
            (" 1021 ab ", Some(1021)),
            ("0999 AB", None),
            ("102", None),
            ("1021 A", None),
            ("1021 A1", None),
            ("abcd", None),
            ("10²1", None),
        ] {
            assert_eq!(postcode_digits(given), expected, "{given:?}");
        }
        let range = PostcodeRange {
            from: 1011,
            to: 1019,
        };
        assert_eq!(PostcodeRange::parse(&range.to_code()), Some(range));
        assert_eq!(PostcodeRange::parse("1011"), None);
    }

    /// Question × postcode: inside, outside, none given, a municipality-only area.
    #[test]
    fn who_takes_which_question_where() {
        let s = services();
        let municipality_only = Services {
            postcode_ranges: Vec::new(),
            ..services()
        };
        for &question in HelpQuestion::ALL {
            for (postcode, inside) in [(Some(1030), true), (Some(1101), false), (None, true)] {
                let takes = s.help_questions.contains(&question);
                assert_eq!(
                    serves(&s, Some(question), postcode),
                    takes && inside,
                    "{question:?} {postcode:?}"
                );
                assert_eq!(serves(&municipality_only, Some(question), postcode), takes);
            }
        }
        assert!(serves(&s, None, None));
    }

    #[test]
    fn describing_services() {
        use OrganisationKind as K;
        for &kind in K::ALL {
            assert_eq!(
                decide_services(kind, &services()).is_ok(),
                kind != K::Platform,
                "{kind:?}"
            );
        }
        let field = |s: Services| -> Vec<&str> {
            match decide_services(K::Wijkteam, &s) {
                Err(Refusal::Invalid(errors)) => errors.into_iter().map(|e| e.field).collect(),
                other => panic!("{other:?}"),
            }
        };
        let cases: Vec<(Services, Vec<&str>)> = vec![
            (
                Services {
                    help_questions: vec![],
                    ..services()
                },
                vec!["helpQuestions"],
            ),
            (
                Services {
                    help_questions: vec![HelpQuestion::Health, HelpQuestion::Health],
                    ..services()
                },
                vec!["helpQuestions"],
            ),
            (
                Services {
                    municipalities: vec![" ".into()],
                    ..services()
                },
                vec!["area.municipalities"],
            ),
            (
                Services {
                    postcode_ranges: vec![PostcodeRange {
                        from: 1039,
                        to: 1020,
                    }],
                    ..services()
                },
                vec!["area.pc4Ranges"],
            ),
            (
                Services {
                    municipalities: vec![],
                    postcode_ranges: vec![],
                    ..services()
                },
                vec!["area"],
            ),
            (
                Services {
                    intake_route: "".into(),
                    opening_hours: " x".into(),
                    ..services()
                },
                vec!["intakeRoute", "openingHours"],
            ),
        ];
        for (services, expected) in cases {
            assert_eq!(field(services), expected);
        }
    }
}
