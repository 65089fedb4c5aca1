//! The commands on a child record, each decided by one function: register a child (with
//! guardians), correct it, add or correct a guardian.

use chrono::NaiveDate;
use uuid::Uuid;

use super::{
    AuthoritySource, ParentalAuthority, Relationship, check_authority, check_date_of_birth,
    check_email, check_phone, is_valid_bsn,
};
use crate::domain::{FieldError, check_text, organisation::OrganisationKind, refusal::Refusal};

/// A guardian as it is (to be) recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardianDetails {
    pub name: String,
    pub relationship: Relationship,
    pub parental_authority: ParentalAuthority,
    pub authority_source: AuthoritySource,
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// A child to register.
pub struct ChildDetails<'a> {
    pub external_ref: &'a str,
    pub given_name: &'a str,
    pub family_name: &'a str,
    pub date_of_birth: NaiveDate,
    pub bsn: Option<&'a str>,
    pub guardians: &'a [GuardianDetails],
}

/// Corrections to a child; `None` leaves a property as it is (`Some(None)` clears it).
#[derive(Default)]
pub struct ChildCorrection<'a> {
    pub external_ref: Option<&'a str>,
    pub given_name: Option<&'a str>,
    pub family_name: Option<&'a str>,
    pub date_of_birth: Option<NaiveDate>,
    pub bsn: Option<Option<&'a str>>,
    pub school_group: Option<Option<&'a str>>,
    /// A school: the day the pupil left (`null` clears it, e.g. after a mistaken entry).
    pub left_on: Option<Option<NaiveDate>>,
    /// Youth care and Veilig Thuis: the day care or involvement ended.
    pub care_ended_on: Option<Option<NaiveDate>>,
}

/// Names and references are not blank, the birth date is plausible, a BSN passes the
/// 11-proef, each guardian is valid; the organisation has no other child with the reference.
pub fn decide_register(
    child: &ChildDetails<'_>,
    holder_of_ref: Option<Uuid>,
    today: NaiveDate,
) -> Result<(), Refusal> {
    let mut errors: Vec<FieldError> = [
        check_text("externalRef", child.external_ref),
        check_text("givenName", child.given_name),
        check_text("familyName", child.family_name),
        check_date_of_birth(child.date_of_birth, today),
        child.bsn.and_then(check_bsn),
    ]
    .into_iter()
    .flatten()
    .collect();
    for guardian in child.guardians {
        errors.extend(check_guardian(guardian).into_iter().map(|mut e| {
            e.field = match e.field {
                "name" => "guardians.name",
                "authoritySource" => "guardians.authoritySource",
                "contact.email" => "guardians.contact.email",
                "contact.phone" => "guardians.contact.phone",
                other => other,
            };
            e
        }));
    }
    Refusal::unless_invalid(errors)?;
    match holder_of_ref {
        Some(existing) => Err(Refusal::DuplicateExternalRef {
            existing: Some(existing),
        }),
        None => Ok(()),
    }
}

/// The same rules for what a correction changes; a new reference must be free. The plan is
/// the names of the properties it changes (for the timeline: names, never values), empty when
/// nothing changes.
pub fn decide_correction(
    correction: &ChildCorrection<'_>,
    kind: OrganisationKind,
    current_ref: &str,
    holder_of_new_ref: Option<Uuid>,
    today: NaiveDate,
) -> Result<Vec<&'static str>, Refusal> {
    let is_school = kind == OrganisationKind::School;
    let ended =
        |field: &'static str, date: Option<Option<NaiveDate>>, applies: bool, who: &str| match date
        {
            Some(Some(_)) if !applies => {
                Some(FieldError::new(field, format!("only {who} records it")))
            }
            Some(Some(day)) if day > today => {
                Some(FieldError::new(field, "must not be in the future"))
            }
            _ => None,
        };
    let errors: Vec<FieldError> = [
        ended("leftOn", correction.left_on, is_school, "a school"),
        ended(
            "careEndedOn",
            correction.care_ended_on,
            !is_school,
            "youth care or Veilig Thuis",
        ),
        correction
            .external_ref
            .and_then(|v| check_text("externalRef", v)),
        correction
            .given_name
            .and_then(|v| check_text("givenName", v)),
        correction
            .family_name
            .and_then(|v| check_text("familyName", v)),
        correction
            .date_of_birth
            .and_then(|d| check_date_of_birth(d, today)),
        correction.bsn.flatten().and_then(check_bsn),
    ]
    .into_iter()
    .flatten()
    .collect();
    Refusal::unless_invalid(errors)?;
    if correction.external_ref.is_some_and(|r| r != current_ref)
        && let Some(existing) = holder_of_new_ref
    {
        return Err(Refusal::DuplicateExternalRef {
            existing: Some(existing),
        });
    }
    let flags = [
        ("externalRef", correction.external_ref.is_some()),
        ("givenName", correction.given_name.is_some()),
        ("familyName", correction.family_name.is_some()),
        ("dateOfBirth", correction.date_of_birth.is_some()),
        ("bsn", correction.bsn.is_some()),
        ("schoolGroup", correction.school_group.is_some()),
        ("leftOn", correction.left_on.is_some()),
        ("careEndedOn", correction.care_ended_on.is_some()),
    ];
    Ok(flags
        .into_iter()
        .filter(|(_, present)| *present)
        .map(|(name, _)| name)
        .collect())
}

/// A guardian as it will be: named, parental authority and its source agreeing, contact
/// details that are an email address and a phone number.
pub fn decide_guardian(guardian: &GuardianDetails) -> Result<(), Refusal> {
    Refusal::unless_invalid(check_guardian(guardian))
}

fn check_guardian(guardian: &GuardianDetails) -> Vec<FieldError> {
    let mut errors: Vec<FieldError> = check_text("name", &guardian.name).into_iter().collect();
    errors.extend(check_authority(
        guardian.parental_authority,
        guardian.authority_source,
    ));
    errors.extend(guardian.email.as_deref().and_then(check_email));
    errors.extend(guardian.phone.as_deref().and_then(check_phone));
    errors
}

fn check_bsn(bsn: &str) -> Option<FieldError> {
    (!is_valid_bsn(bsn)).then(|| FieldError::new("bsn", "fails the 11-proef"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 20).unwrap()
    }

    fn mother() -> GuardianDetails {
        GuardianDetails {
            name: "Sanne de Vries".to_owned(),
            relationship: Relationship::Parent,
            parental_authority: ParentalAuthority::Yes,
            authority_source: AuthoritySource::Gezagsregister,
            phone: Some("06 12345678".to_owned()),
            email: Some("sanne@example.nl".to_owned()),
        }
    }

    fn fields(refusal: Refusal) -> Vec<&'static str> {
        match refusal {
            Refusal::Invalid(errors) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn registering() {
        let guardians = [mother()];
        let child = ChildDetails {
            external_ref: "LL-1234",
            given_name: "Noor",
            family_name: "de Vries",
            date_of_birth: NaiveDate::from_ymd_opt(2016, 3, 1).unwrap(),
            bsn: Some("111222333"),
            guardians: &guardians,
        };
        assert_eq!(decide_register(&child, None, today()), Ok(()));
        let existing = Uuid::from_u128(3);
        assert_eq!(
            decide_register(&child, Some(existing), today()),
            Err(Refusal::DuplicateExternalRef {
                existing: Some(existing)
            })
        );
        let unknown_source = [GuardianDetails {
            name: " ".to_owned(),
            authority_source: AuthoritySource::Unknown,
            email: Some("geen-adres".to_owned()),
            ..mother()
        }];
        let wrong = ChildDetails {
            external_ref: "",
            bsn: Some("123456789"),
            date_of_birth: today() + chrono::Days::new(1),
            guardians: &unknown_source,
            ..child
        };
        assert_eq!(
            fields(decide_register(&wrong, None, today()).unwrap_err()),
            [
                "externalRef",
                "dateOfBirth",
                "bsn",
                "guardians.name",
                "guardians.authoritySource",
                "guardians.contact.email"
            ]
        );
    }

    #[test]
    fn correcting() {
        let nothing = ChildCorrection::default();
        assert_eq!(
            decide_correction(&nothing, OrganisationKind::School, "LL-1", None, today()),
            Ok(vec![])
        );
        let renamed = ChildCorrection {
            given_name: Some("Nora"),
            bsn: Some(None),
            ..Default::default()
        };
        assert_eq!(
            decide_correction(&renamed, OrganisationKind::School, "LL-1", None, today()),
            Ok(vec!["givenName", "bsn"])
        );
        let taken = Uuid::from_u128(4);
        let new_ref = ChildCorrection {
            external_ref: Some("LL-2"),
            ..Default::default()
        };
        assert_eq!(
            decide_correction(
                &new_ref,
                OrganisationKind::School,
                "LL-1",
                Some(taken),
                today()
            ),
            Err(Refusal::DuplicateExternalRef {
                existing: Some(taken)
            })
        );
        // The child's own reference again is no conflict.
        let same_ref = ChildCorrection {
            external_ref: Some("LL-1"),
            ..Default::default()
        };
        assert_eq!(
            decide_correction(
                &same_ref,
                OrganisationKind::School,
                "LL-1",
                Some(taken),
                today()
            ),
            Ok(vec!["externalRef"])
        );
        let bad = ChildCorrection {
            family_name: Some(""),
            bsn: Some(Some("123")),
            ..Default::default()
        };
        assert_eq!(
            fields(
                decide_correction(&bad, OrganisationKind::School, "LL-1", None, today())
                    .unwrap_err()
            ),
            ["familyName", "bsn"]
        );
    }

    #[test]
    fn the_end_of_involvement_is_recorded_by_the_kind_it_belongs_to() {
        use OrganisationKind as K;
        let yesterday = today() - chrono::Days::new(1);
        let tomorrow = today() + chrono::Days::new(1);
        let left = |d| ChildCorrection {
            left_on: Some(d),
            ..Default::default()
        };
        let ended = |d| ChildCorrection {
            care_ended_on: Some(d),
            ..Default::default()
        };
        // (kind, correction, expected: the changed property or the refused field)
        let cases: Vec<(K, ChildCorrection<'_>, Result<&str, &str>)> = vec![
            (K::School, left(Some(yesterday)), Ok("leftOn")),
            (K::School, left(Some(today())), Ok("leftOn")),
            (K::School, left(None), Ok("leftOn")),
            (K::School, left(Some(tomorrow)), Err("leftOn")),
            (K::School, ended(Some(yesterday)), Err("careEndedOn")),
            (K::School, ended(None), Ok("careEndedOn")),
            (K::Wijkteam, ended(Some(yesterday)), Ok("careEndedOn")),
            (K::VeiligThuis, ended(Some(yesterday)), Ok("careEndedOn")),
            (K::Ggd, ended(Some(tomorrow)), Err("careEndedOn")),
            (K::VeiligThuis, left(Some(yesterday)), Err("leftOn")),
        ];
        for (kind, correction, expected) in cases {
            let got = decide_correction(&correction, kind, "LL-1", None, today());
            match expected {
                Ok(changed) => assert_eq!(got, Ok(vec![changed]), "{kind:?} {changed}"),
                Err(field) => assert_eq!(fields(got.unwrap_err()), [field], "{kind:?}"),
            }
        }
    }

    #[test]
    fn guardians() {
        assert_eq!(decide_guardian(&mother()), Ok(()));
        let unknown = GuardianDetails {
            parental_authority: ParentalAuthority::Unknown,
            authority_source: AuthoritySource::Unknown,
            ..mother()
        };
        assert_eq!(decide_guardian(&unknown), Ok(()));
        let claimed = GuardianDetails {
            parental_authority: ParentalAuthority::Unknown,
            phone: Some("bel me".to_owned()),
            ..mother()
        };
        assert_eq!(
            fields(decide_guardian(&claimed).unwrap_err()),
            ["authoritySource", "contact.phone"]
        );
    }
}
