//! Consent (toestemming), after FHIR R5 Consent: whose consent counts, by the child's age and
//! the guardians' parental authority, and what a consent's status is.

use chrono::NaiveDate;
use diesel::{deserialize::FromSqlRow, expression::AsExpression, sql_types::Text};
use poem_openapi::Enum;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    domain::{
        child::{ParentalAuthority, age_on},
        feedback::FeedbackCategory,
    },
    labelled,
};

mod decide;

pub use decide::{
    AskContext, ConsentRequest, DecisionContext, decide_ask, decide_decision, decide_withdrawal,
};

#[derive(
    Enum, Deserialize, Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow,
)]
#[diesel(sql_type = Text)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum ConsentPurpose {
    /// Veilig Thuis may tell the school more than the status of a report.
    FeedbackToSchool,
    /// Information may be shared with the recipient (a referral, a signal to the school).
    InformationSharing,
    /// The child's situation may be discussed in a case conference (zorgoverleg).
    CaseConference,
}

labelled!(ConsentPurpose {
    FeedbackToSchool => ("feedback_to_school", "Terugkoppeling aan school", "Feedback to the school",
        "Veilig Thuis may tell the school more than the status: the outcome, guidance, help in place, a contact person."),
    InformationSharing => ("information_sharing", "Informatie delen", "Information sharing",
        "Information may be shared with the recipient, e.g. in a referral."),
    CaseConference => ("case_conference", "Zorgoverleg", "Case conference",
        "The child's situation may be discussed with the recipient in a case conference."),
});

#[derive(
    Enum, Deserialize, Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow,
)]
#[diesel(sql_type = Text)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum ConsentDecision {
    Granted,
    Refused,
}

labelled!(ConsentDecision {
    Granted => ("granted", "Toestemming gegeven", "Granted", "The party consents."),
    Refused => ("refused", "Geweigerd", "Refused", "The party does not consent."),
});

#[derive(
    Enum, Deserialize, Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow,
)]
#[diesel(sql_type = Text)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum ConsentMethod {
    Verbal,
    Written,
    Digital,
}

labelled!(ConsentMethod {
    Verbal => ("verbal", "Mondeling", "Verbal", "Said in a conversation or by phone; note who and when."),
    Written => ("written", "Schriftelijk", "Written", "Signed on paper."),
    Digital => ("digital", "Digitaal", "Digital", "Given through a digital form or message."),
});

#[derive(Enum, Deserialize, Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum ConsentStatus {
    /// Waiting for the decisions of the required parties.
    Draft,
    /// Every required party granted it, and it has not expired or been withdrawn.
    Active,
    /// A required party refused it.
    Rejected,
    /// Withdrawn by a party, or past `validUntil`.
    Inactive,
}

labelled!(ConsentStatus {
    Draft => ("draft", "Concept", "Draft", "Waiting for the decisions of the required parties."),
    Active => ("active", "Actief", "Active", "Every required party granted it."),
    Rejected => ("rejected", "Geweigerd", "Rejected", "A required party refused it."),
    Inactive => ("inactive", "Niet actief", "Inactive", "Withdrawn by a party, or expired."),
});

/// Who decides: a guardian, or the child.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Party {
    Guardian(Uuid),
    Child,
}

/// A guardian as consent sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuardianAuthority {
    pub id: Uuid,
    pub authority: ParentalAuthority,
}

/// Why the required parties cannot be settled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartiesBlocked {
    /// These guardians' parental authority is unknown: verify it (gezagsregister).
    AuthorityUnknown(Vec<Uuid>),
    /// Under 16 and no guardian with parental authority is registered.
    NoGuardianWithAuthority,
}

/// The age from which the child consents as well, and from which alone.
pub const CHILD_CONSENTS_FROM: u32 = 12;
pub const CHILD_CONSENTS_ALONE_FROM: u32 = 16;

/// Whose consent is required, by the child's age on `day`: under 12 every guardian with
/// parental authority; 12 to 15 those and the child; 16 and over the child alone. A guardian
/// whose authority is unknown blocks it (under 16), as does having no guardian with authority.
pub fn required_parties(
    date_of_birth: NaiveDate,
    guardians: &[GuardianAuthority],
    day: NaiveDate,
) -> Result<Vec<Party>, PartiesBlocked> {
    let age = age_on(date_of_birth, day);
    if age >= CHILD_CONSENTS_ALONE_FROM {
        return Ok(vec![Party::Child]);
    }
    let unknown: Vec<Uuid> = guardians
        .iter()
        .filter(|g| g.authority == ParentalAuthority::Unknown)
        .map(|g| g.id)
        .collect();
    if !unknown.is_empty() {
        return Err(PartiesBlocked::AuthorityUnknown(unknown));
    }
    let mut parties: Vec<Party> = guardians
        .iter()
        .filter(|g| g.authority == ParentalAuthority::Yes)
        .map(|g| Party::Guardian(g.id))
        .collect();
    if parties.is_empty() {
        return Err(PartiesBlocked::NoGuardianWithAuthority);
    }
    if age >= CHILD_CONSENTS_FROM {
        parties.push(Party::Child);
    }
    Ok(parties)
}

/// What a consent's decisions, withdrawal and validity say about it now.
pub struct ConsentFacts<'a> {
    pub required: &'a [Party],
    pub decisions: &'a [(Party, ConsentDecision)],
    pub withdrawn: bool,
    pub valid_until: NaiveDate,
}

/// Active only when every required party granted it; rejected when one refused; inactive once
/// withdrawn or past `validUntil`, whatever else.
pub fn status(facts: &ConsentFacts<'_>, today: NaiveDate) -> ConsentStatus {
    if facts.withdrawn || today > facts.valid_until {
        return ConsentStatus::Inactive;
    }
    let decision_of = |party: &Party| {
        facts
            .decisions
            .iter()
            .find(|(p, _)| p == party)
            .map(|(_, d)| *d)
    };
    if facts
        .required
        .iter()
        .any(|p| decision_of(p) == Some(ConsentDecision::Refused))
    {
        return ConsentStatus::Rejected;
    }
    if !facts.required.is_empty()
        && facts
            .required
            .iter()
            .all(|p| decision_of(p) == Some(ConsentDecision::Granted))
    {
        ConsentStatus::Active
    } else {
        ConsentStatus::Draft
    }
}

/// A stored consent as the rules judge it: whose consent counts and its status now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judged {
    pub status: ConsentStatus,
    pub required: Result<Vec<Party>, PartiesBlocked>,
}

/// Whose consent counts is settled as of the day of the latest decision (today while none was
/// recorded); the status follows from those parties' decisions, withdrawal and validity today.
pub fn judge(
    date_of_birth: NaiveDate,
    guardians: &[GuardianAuthority],
    decisions: &[(Party, ConsentDecision, NaiveDate)],
    withdrawn: bool,
    valid_until: NaiveDate,
    today: NaiveDate,
) -> Judged {
    let decision_day = decisions
        .iter()
        .map(|(_, _, day)| *day)
        .max()
        .unwrap_or(today);
    let required = required_parties(date_of_birth, guardians, decision_day);
    let decided: Vec<(Party, ConsentDecision)> =
        decisions.iter().map(|(p, d, _)| (*p, *d)).collect();
    let parties = required.clone().unwrap_or_default();
    let status = status(
        &ConsentFacts {
            required: &parties,
            decisions: &decided,
            withdrawn,
            valid_until,
        },
        today,
    );
    Judged { status, required }
}

/// A consent may be given for a year by default, for two at most.
pub fn check_validity(
    valid_until: NaiveDate,
    today: NaiveDate,
) -> Option<crate::domain::FieldError> {
    let latest = today
        .checked_add_months(chrono::Months::new(24))
        .unwrap_or(NaiveDate::MAX);
    if valid_until < today {
        Some(crate::domain::FieldError::new(
            "validUntil",
            "must not be in the past",
        ))
    } else if valid_until > latest {
        Some(crate::domain::FieldError::new(
            "validUntil",
            "may be at most two years from today",
        ))
    } else {
        None
    }
}

/// Feedback consent names the substantive categories it covers (status feedback needs none);
/// other purposes have no scope.
pub fn check_scope(
    purpose: ConsentPurpose,
    scope: &[FeedbackCategory],
) -> Option<crate::domain::FieldError> {
    use crate::domain::FieldError;
    match purpose {
        ConsentPurpose::FeedbackToSchool if scope.is_empty() => Some(FieldError::new(
            "scope",
            "name the feedback categories the consent covers",
        )),
        ConsentPurpose::FeedbackToSchool if scope.iter().any(|c| !c.needs_consent()) => {
            Some(FieldError::new(
                "scope",
                "status feedback needs no consent: scope lists outcome, guidance_for_school, help_in_place or contact_person",
            ))
        }
        ConsentPurpose::FeedbackToSchool => None,
        _ if !scope.is_empty() => Some(FieldError::new(
            "scope",
            "only for purpose feedback_to_school",
        )),
        _ => None,
    }
}

pub fn default_valid_until(today: NaiveDate) -> NaiveDate {
    today
        .checked_add_months(chrono::Months::new(12))
        .unwrap_or(today)
}

/// A consent as the feedback gate and consent-based handoffs need it.
#[derive(Debug, Clone)]
pub struct ConsentGrant {
    pub id: Uuid,
    pub purpose: ConsentPurpose,
    pub recipient: Uuid,
    pub scope: Vec<FeedbackCategory>,
    pub status: ConsentStatus,
}

/// Why no consent covers a disclosure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotCovered {
    /// No consent for this purpose and recipient at all.
    NoConsent,
    /// The only candidates are not active (draft, rejected, withdrawn or expired).
    NotActive(ConsentStatus),
    /// Active consents exist, but none has the category in scope.
    OutOfScope,
}

impl NotCovered {
    pub fn explain(&self, purpose: ConsentPurpose, category: Option<FeedbackCategory>) -> String {
        use crate::domain::reference::Labelled;
        match self {
            NotCovered::NoConsent => format!(
                "There is no consent with purpose {} for this recipient: ask the parents and/or the child.",
                purpose.code()
            ),
            NotCovered::NotActive(status) => format!(
                "The consent with purpose {} for this recipient is {}: it covers nothing now.",
                purpose.code(),
                status.code()
            ),
            NotCovered::OutOfScope => format!(
                "The active consent does not cover the category {}: its scope would have to include it.",
                category.map(|c| c.code()).unwrap_or_default()
            ),
        }
    }
}

/// The consent that covers a disclosure for `purpose` to `recipient` (and `category`, when the
/// purpose is feedback), or why none does.
pub fn covering(
    consents: &[ConsentGrant],
    purpose: ConsentPurpose,
    recipient: Uuid,
    category: Option<FeedbackCategory>,
) -> Result<Uuid, NotCovered> {
    let candidates: Vec<&ConsentGrant> = consents
        .iter()
        .filter(|c| c.purpose == purpose && c.recipient == recipient)
        .collect();
    if candidates.is_empty() {
        return Err(NotCovered::NoConsent);
    }
    let active: Vec<&&ConsentGrant> = candidates
        .iter()
        .filter(|c| c.status == ConsentStatus::Active)
        .collect();
    if active.is_empty() {
        // Report the state of the most recent candidate.
        return Err(NotCovered::NotActive(
            candidates
                .last()
                .map(|c| c.status)
                .unwrap_or(ConsentStatus::Inactive),
        ));
    }
    active
        .iter()
        .find(|c| category.is_none_or(|cat| c.scope.contains(&cat)))
        .map(|c| c.id)
        .ok_or(NotCovered::OutOfScope)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ParentalAuthority::{No, Unknown, Yes};

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn guardian(n: u128, authority: ParentalAuthority) -> GuardianAuthority {
        GuardianAuthority {
            id: Uuid::from_u128(n),
            authority,
        }
    }

    fn g(n: u128) -> Party {
        Party::Guardian(Uuid::from_u128(n))
    }

    /// Ages at the boundaries: the day before and on the 12th and 16th birthday, and a leap-day
    /// birthday (which counts from 1 March in common years).
    #[test]
    fn required_parties_by_age() {
        let both = [guardian(1, Yes), guardian(2, Yes)];
        let cases = [
            ("2014-11-22", "2026-11-21", vec![g(1), g(2)]), // 11, day before 12
            ("2014-11-22", "2026-11-22", vec![g(1), g(2), Party::Child]), // 12th birthday
            ("2010-11-22", "2026-11-21", vec![g(1), g(2), Party::Child]), // 15, day before 16
            ("2010-11-22", "2026-11-22", vec![Party::Child]), // 16th birthday
            ("2003-11-22", "2026-11-22", vec![Party::Child]), // 23
            ("2026-01-01", "2026-11-22", vec![g(1), g(2)]), // a baby
            ("2012-02-29", "2024-02-28", vec![g(1), g(2)]), // leap day: still 11
            ("2012-02-29", "2024-02-29", vec![g(1), g(2), Party::Child]), // leap day birthday: 12
            ("2012-02-29", "2025-02-28", vec![g(1), g(2), Party::Child]), // 12 (13 only on 1 March)
            ("2008-02-29", "2024-02-28", vec![g(1), g(2), Party::Child]), // day before 16
            ("2008-02-29", "2024-02-29", vec![Party::Child]), // 16 on the leap day
        ];
        for (born, on, expected) in cases {
            assert_eq!(
                required_parties(date(born), &both, date(on)),
                Ok(expected),
                "born {born}, on {on}"
            );
        }
    }

    /// Every mix of guardians' authority (none to three guardians of yes/no/unknown), under 12,
    /// 12–15 and 16+.
    #[test]
    fn required_parties_for_every_mix_of_guardians() {
        let authorities = [Yes, No, Unknown];
        let mut mixes: Vec<Vec<ParentalAuthority>> = vec![vec![]];
        for _ in 0..3 {
            let longer: Vec<Vec<ParentalAuthority>> = mixes
                .iter()
                .filter(|m| m.len() == mixes.last().map(|l| l.len()).unwrap_or(0))
                .flat_map(|m| {
                    authorities
                        .iter()
                        .map(move |a| [m.clone(), vec![*a]].concat())
                })
                .collect();
            mixes.extend(longer);
        }
        assert_eq!(mixes.len(), 1 + 3 + 9 + 27);
        let today = date("2026-11-22");
        for (born, age) in [("2016-05-01", 10), ("2013-05-01", 13), ("2009-05-01", 17)] {
            for mix in &mixes {
                let guardians: Vec<GuardianAuthority> = mix
                    .iter()
                    .enumerate()
                    .map(|(i, a)| guardian(i as u128 + 1, *a))
                    .collect();
                let result = required_parties(date(born), &guardians, today);
                let with_authority: Vec<Party> = guardians
                    .iter()
                    .filter(|g| g.authority == Yes)
                    .map(|g| Party::Guardian(g.id))
                    .collect();
                let unknown: Vec<Uuid> = guardians
                    .iter()
                    .filter(|g| g.authority == Unknown)
                    .map(|g| g.id)
                    .collect();
                let expected = if age >= 16 {
                    Ok(vec![Party::Child])
                } else if !unknown.is_empty() {
                    Err(PartiesBlocked::AuthorityUnknown(unknown))
                } else if with_authority.is_empty() {
                    Err(PartiesBlocked::NoGuardianWithAuthority)
                } else if age >= 12 {
                    Ok([with_authority, vec![Party::Child]].concat())
                } else {
                    Ok(with_authority)
                };
                assert_eq!(result, expected, "age {age}, guardians {mix:?}");
            }
        }
    }

    #[test]
    fn status_follows_decisions_withdrawal_and_expiry() {
        use ConsentDecision::{Granted, Refused};
        let required = [g(1), g(2), Party::Child];
        let until = date("2027-11-22");
        let today = date("2026-11-22");
        type Case = (
            Vec<(Party, ConsentDecision)>,
            bool,
            NaiveDate,
            ConsentStatus,
        );
        let cases: Vec<Case> = vec![
            (vec![], false, today, ConsentStatus::Draft),
            (vec![(g(1), Granted)], false, today, ConsentStatus::Draft),
            (
                vec![(g(1), Granted), (g(2), Granted)],
                false,
                today,
                ConsentStatus::Draft,
            ),
            (
                vec![(g(1), Granted), (g(2), Granted), (Party::Child, Granted)],
                false,
                today,
                ConsentStatus::Active,
            ),
            (
                vec![(g(1), Granted), (Party::Child, Refused)],
                false,
                today,
                ConsentStatus::Rejected,
            ),
            (
                vec![(g(1), Granted), (g(2), Granted), (Party::Child, Granted)],
                true,
                today,
                ConsentStatus::Inactive,
            ),
            (
                vec![(g(1), Granted), (g(2), Granted), (Party::Child, Granted)],
                false,
                date("2027-11-22"),
                ConsentStatus::Active,
            ),
            (
                vec![(g(1), Granted), (g(2), Granted), (Party::Child, Granted)],
                false,
                date("2027-11-23"),
                ConsentStatus::Inactive,
            ),
            // A decision of someone not required counts for nothing.
            (
                vec![
                    (g(1), Granted),
                    (g(2), Granted),
                    (Party::Child, Granted),
                    (g(9), Refused),
                ],
                false,
                today,
                ConsentStatus::Active,
            ),
        ];
        for (decisions, withdrawn, on, expected) in cases {
            let facts = ConsentFacts {
                required: &required,
                decisions: &decisions,
                withdrawn,
                valid_until: until,
            };
            assert_eq!(
                status(&facts, on),
                expected,
                "{decisions:?} withdrawn {withdrawn} on {on}"
            );
        }
        let nobody = ConsentFacts {
            required: &[],
            decisions: &[],
            withdrawn: false,
            valid_until: until,
        };
        assert_eq!(
            status(&nobody, today),
            ConsentStatus::Draft,
            "never active without parties"
        );
    }

    #[test]
    fn scope_fits_the_purpose() {
        use FeedbackCategory::*;
        let feedback = ConsentPurpose::FeedbackToSchool;
        assert!(check_scope(feedback, &[GuidanceForSchool, HelpInPlace]).is_none());
        assert!(check_scope(feedback, &[]).is_some());
        assert!(check_scope(feedback, &[Received]).is_some());
        assert!(check_scope(feedback, &[Outcome, SafetyAssessmentDecided]).is_some());
        for purpose in [
            ConsentPurpose::InformationSharing,
            ConsentPurpose::CaseConference,
        ] {
            assert!(check_scope(purpose, &[]).is_none());
            assert!(check_scope(purpose, &[Outcome]).is_some());
        }
    }

    #[test]
    fn validity_is_at_most_two_years() {
        let today = date("2026-11-22");
        assert_eq!(default_valid_until(today), date("2027-11-22"));
        assert!(check_validity(date("2028-11-22"), today).is_none());
        assert!(check_validity(date("2028-11-23"), today).is_some());
        assert!(check_validity(date("2026-11-21"), today).is_some());
        assert!(check_validity(today, today).is_none());
    }

    #[test]
    fn the_covering_consent() {
        use FeedbackCategory::{GuidanceForSchool, HelpInPlace};
        let school = Uuid::from_u128(7);
        let other = Uuid::from_u128(8);
        let grant =
            |id: u128, purpose, recipient, scope: Vec<FeedbackCategory>, status| ConsentGrant {
                id: Uuid::from_u128(id),
                purpose,
                recipient,
                scope,
                status,
            };
        let feedback = ConsentPurpose::FeedbackToSchool;
        let active = grant(
            1,
            feedback,
            school,
            vec![GuidanceForSchool],
            ConsentStatus::Active,
        );
        let cases = [
            (
                vec![active.clone()],
                Some(GuidanceForSchool),
                Ok(Uuid::from_u128(1)),
            ),
            (
                vec![active.clone()],
                Some(HelpInPlace),
                Err(NotCovered::OutOfScope),
            ),
            (vec![], Some(GuidanceForSchool), Err(NotCovered::NoConsent)),
            (
                vec![grant(
                    2,
                    feedback,
                    other,
                    vec![GuidanceForSchool],
                    ConsentStatus::Active,
                )],
                Some(GuidanceForSchool),
                Err(NotCovered::NoConsent),
            ),
            (
                vec![grant(
                    3,
                    ConsentPurpose::CaseConference,
                    school,
                    vec![GuidanceForSchool],
                    ConsentStatus::Active,
                )],
                Some(GuidanceForSchool),
                Err(NotCovered::NoConsent),
            ),
            (
                vec![grant(
                    4,
                    feedback,
                    school,
                    vec![GuidanceForSchool],
                    ConsentStatus::Inactive,
                )],
                Some(GuidanceForSchool),
                Err(NotCovered::NotActive(ConsentStatus::Inactive)),
            ),
            (
                vec![grant(
                    5,
                    feedback,
                    school,
                    vec![GuidanceForSchool],
                    ConsentStatus::Draft,
                )],
                Some(GuidanceForSchool),
                Err(NotCovered::NotActive(ConsentStatus::Draft)),
            ),
            (
                vec![
                    grant(
                        6,
                        feedback,
                        school,
                        vec![GuidanceForSchool],
                        ConsentStatus::Inactive,
                    ),
                    grant(
                        7,
                        feedback,
                        school,
                        vec![HelpInPlace, GuidanceForSchool],
                        ConsentStatus::Active,
                    ),
                ],
                Some(GuidanceForSchool),
                Ok(Uuid::from_u128(7)),
            ),
        ];
        for (consents, category, expected) in cases {
            assert_eq!(
                covering(&consents, feedback, school, category),
                expected,
                "{category:?}"
            );
        }
    }

    /// Whose consent counts is settled on the day of the latest decision: a child who turned 12
    /// after her mother granted it does not make the consent a draft again.
    #[test]
    fn judged_as_of_the_latest_decision() {
        let day = |s: &str| s.parse::<NaiveDate>().unwrap();
        let mother = Uuid::from_u128(1);
        let guardians = [GuardianAuthority {
            id: mother,
            authority: Yes,
        }];
        let born = day("2014-12-10");
        let granted = [(
            Party::Guardian(mother),
            ConsentDecision::Granted,
            day("2026-12-01"),
        )];
        let judged = judge(
            born,
            &guardians,
            &granted,
            false,
            day("2027-06-01"),
            day("2026-12-20"),
        );
        assert_eq!(judged.required, Ok(vec![Party::Guardian(mother)]));
        assert_eq!(judged.status, ConsentStatus::Active);
        // Without a decision, today counts: 12 now, so the child must consent as well.
        let open = judge(
            born,
            &guardians,
            &[],
            false,
            day("2027-06-01"),
            day("2026-12-20"),
        );
        assert_eq!(
            open.required,
            Ok(vec![Party::Guardian(mother), Party::Child])
        );
        assert_eq!(open.status, ConsentStatus::Draft);
        let lapsed = judge(
            born,
            &guardians,
            &granted,
            false,
            day("2026-12-19"),
            day("2026-12-20"),
        );
        assert_eq!(lapsed.status, ConsentStatus::Inactive);
        let withdrawn = judge(
            born,
            &guardians,
            &granted,
            true,
            day("2027-06-01"),
            day("2026-12-20"),
        );
        assert_eq!(withdrawn.status, ConsentStatus::Inactive);
    }
}
