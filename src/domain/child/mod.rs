//! Children and their guardians (DESIGN.md §4): identity rules and parental authority (gezag).

use chrono::{Datelike, Months, NaiveDate};
use diesel::{deserialize::FromSqlRow, expression::AsExpression, sql_types::Text};
use poem_openapi::Enum;
use serde::{Deserialize, Serialize};

use crate::{domain::FieldError, labelled};

mod decide;

pub use decide::{
    ChildCorrection, ChildDetails, GuardianDetails, decide_correction, decide_guardian,
    decide_register,
};

/// The oldest a child of this service can be: youth care reaches to 23.
pub const MAX_AGE_YEARS: u32 = 23;

/// How a guardian relates to the child.
#[derive(
    Enum, Deserialize, Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow,
)]
#[diesel(sql_type = Text)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Relationship {
    Mother,
    Father,
    Parent,
    StepParent,
    FosterParent,
    /// Voogd.
    LegalGuardian,
    Grandparent,
    Other,
}

labelled!(Relationship {
    Mother => ("mother", "Moeder", "Mother", "The child's mother."),
    Father => ("father", "Vader", "Father", "The child's father."),
    Parent => ("parent", "Ouder", "Parent", "A parent, without saying which."),
    StepParent => ("step_parent", "Stiefouder", "Step-parent", "The partner of a parent."),
    FosterParent => ("foster_parent", "Pleegouder", "Foster parent", "A foster parent."),
    LegalGuardian => ("legal_guardian", "Voogd", "Legal guardian",
        "A guardian with custody instead of the parents (voogdij)."),
    Grandparent => ("grandparent", "Grootouder", "Grandparent", "A grandparent."),
    Other => ("other", "Overig", "Other", "Another relationship."),
});

/// Whether the guardian has parental authority (gezag): decides whose consent counts.
#[derive(
    Enum, Deserialize, Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow,
)]
#[diesel(sql_type = Text)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum ParentalAuthority {
    Yes,
    No,
    /// Not established: blocks consent until it is verified.
    Unknown,
}

labelled!(ParentalAuthority {
    Yes => ("yes", "Heeft gezag", "Has parental authority", "Holds parental authority (gezag)."),
    No => ("no", "Geen gezag", "No parental authority", "Does not hold parental authority."),
    Unknown => ("unknown", "Onbekend", "Unknown",
        "Not established; verify it in the gezagsregister before asking consent."),
});

/// How parental authority was established.
#[derive(
    Enum, Deserialize, Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow,
)]
#[diesel(sql_type = Text)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum AuthoritySource {
    /// Checked in the court's custody register.
    Gezagsregister,
    /// Stated by the parent or someone involved.
    Stated,
    Unknown,
}

labelled!(AuthoritySource {
    Gezagsregister => ("gezagsregister", "Gezagsregister", "Custody register",
        "Checked in the court's custody register (gezagsregister)."),
    Stated => ("stated", "Verklaard", "Stated",
        "Stated by the parent or another person involved, not checked."),
    Unknown => ("unknown", "Onbekend", "Unknown", "Not established."),
});

/// A BSN: nine digits passing the 11-proef (weights 9…2 and −1), not all zeros.
pub fn is_valid_bsn(bsn: &str) -> bool {
    let digits: Vec<u32> = bsn.chars().filter_map(|c| c.to_digit(10)).collect();
    if digits.len() != 9 || bsn.len() != 9 || digits.iter().all(|&d| d == 0) {
        return false;
    }
    let sum: i64 = digits
        .iter()
        .zip([9, 8, 7, 6, 5, 4, 3, 2, -1])
        .map(|(&d, w)| i64::from(d) * w)
        .sum();
    sum % 11 == 0
}

/// A date of birth is not in the future and at most [`MAX_AGE_YEARS`] ago.
pub fn check_date_of_birth(date_of_birth: NaiveDate, today: NaiveDate) -> Option<FieldError> {
    if date_of_birth > today {
        return Some(FieldError::new("dateOfBirth", "must not be in the future"));
    }
    let earliest = today
        .checked_sub_months(Months::new(12 * MAX_AGE_YEARS))
        .unwrap_or(NaiveDate::MIN);
    if date_of_birth < earliest {
        return Some(FieldError::new(
            "dateOfBirth",
            format!("must be at most {MAX_AGE_YEARS} years ago"),
        ));
    }
    None
}

/// Age in whole years on `day` (a leap-day birthday counts from 1 March in common years).
pub fn age_on(date_of_birth: NaiveDate, day: NaiveDate) -> u32 {
    let mut age = day.year() - date_of_birth.year();
    if (day.month(), day.day()) < (date_of_birth.month(), date_of_birth.day()) {
        age -= 1;
    }
    u32::try_from(age).unwrap_or(0)
}

/// Authority and its source must agree: unknown authority has no source; a known one has one.
pub fn check_authority(
    authority: ParentalAuthority,
    source: AuthoritySource,
) -> Option<FieldError> {
    match (authority, source) {
        (ParentalAuthority::Unknown, AuthoritySource::Unknown) => None,
        (ParentalAuthority::Unknown, _) => Some(FieldError::new(
            "authoritySource",
            "must be `unknown` while parentalAuthority is unknown",
        )),
        (_, AuthoritySource::Unknown) => Some(FieldError::new(
            "authoritySource",
            "say how parental authority was established: `gezagsregister` or `stated`",
        )),
        _ => None,
    }
}

pub fn check_email(email: &str) -> Option<FieldError> {
    let valid = email.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !email.chars().any(char::is_whitespace)
    });
    (!valid).then(|| FieldError::new("contact.email", "is not an email address"))
}

pub fn check_phone(phone: &str) -> Option<FieldError> {
    let allowed = phone
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '(' | ')'));
    let digits = phone.chars().filter(char::is_ascii_digit).count();
    (!(allowed && (6..=15).contains(&digits)))
        .then(|| FieldError::new("contact.phone", "is not a phone number"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn bsn_eleven_proof() {
        for valid in ["111222333", "123456782", "999999990", "010000008"] {
            assert!(is_valid_bsn(valid), "{valid}");
        }
        for invalid in [
            "111222334",
            "123456789",
            "000000000",
            "12345678",
            "1234567820",
            "12345678a",
            "+23456782",
            " 23456782",
            "",
        ] {
            assert!(!is_valid_bsn(invalid), "{invalid}");
        }
    }

    #[test]
    fn dates_of_birth() {
        let today = date("2026-11-22");
        assert!(check_date_of_birth(date("2026-11-22"), today).is_none());
        assert!(check_date_of_birth(date("2013-05-01"), today).is_none());
        assert!(
            check_date_of_birth(date("2003-11-22"), today).is_none(),
            "exactly 23"
        );
        assert!(
            check_date_of_birth(date("2003-11-21"), today).is_some(),
            "over 23"
        );
        assert!(
            check_date_of_birth(date("2026-11-23"), today).is_some(),
            "tomorrow"
        );
    }

    #[test]
    fn ages_turn_on_the_birthday() {
        let cases = [
            ("2014-11-22", "2026-11-21", 11),
            ("2014-11-22", "2026-11-22", 12),
            ("2010-11-22", "2026-11-22", 16),
            ("2010-11-22", "2026-11-21", 15),
            // Born on a leap day: in common years the birthday falls after 28 February.
            ("2012-02-29", "2024-02-28", 11),
            ("2012-02-29", "2024-02-29", 12),
            ("2012-02-29", "2025-02-28", 12),
            ("2012-02-29", "2025-03-01", 13),
            ("2020-01-01", "2019-12-31", 0),
        ];
        for (born, on, age) in cases {
            assert_eq!(age_on(date(born), date(on)), age, "born {born}, on {on}");
        }
    }

    #[test]
    fn authority_and_source_agree() {
        use AuthoritySource as S;
        use ParentalAuthority as A;
        let expected_ok = [
            (A::Yes, S::Gezagsregister),
            (A::Yes, S::Stated),
            (A::No, S::Gezagsregister),
            (A::No, S::Stated),
            (A::Unknown, S::Unknown),
        ];
        for authority in [A::Yes, A::No, A::Unknown] {
            for source in [S::Gezagsregister, S::Stated, S::Unknown] {
                assert_eq!(
                    check_authority(authority, source).is_none(),
                    expected_ok.contains(&(authority, source)),
                    "{authority:?} / {source:?}"
                );
            }
        }
    }

    #[test]
    fn contact_details() {
        assert!(check_email("ouder@example.nl").is_none());
        for bad in [
            "ouder",
            "@example.nl",
            "ouder@example",
            "ou der@example.nl",
            "a@.nl",
        ] {
            assert!(check_email(bad).is_some(), "{bad}");
        }
        assert!(check_phone("+31 6 1234 5678").is_none());
        assert!(check_phone("020-1234567").is_none());
        for bad in ["12", "call me", "+31 6 1234 5678 9012 3456"] {
            assert!(check_phone(bad).is_some(), "{bad}");
        }
    }
}
