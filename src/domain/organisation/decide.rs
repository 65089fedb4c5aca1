//! The commands on the directory: register an organisation, change one.

use uuid::Uuid;

use super::{Codes, OrganisationKind, check_codes, check_name};
use crate::domain::{FieldError, check_text, refusal::Refusal};

/// Registering: never a second platform organisation (bootstrap creates the one); a name and
/// codes that fit the kind; a school location (BRIN and branch) registered once.
pub fn decide_register(
    kind: OrganisationKind,
    name: &str,
    codes: &Codes,
    holder_of_location: Option<Uuid>,
) -> Result<(), Refusal> {
    if kind == OrganisationKind::Platform {
        return Err(Refusal::SecondPlatform);
    }
    let mut errors: Vec<FieldError> = check_name(name).into_iter().collect();
    errors.extend(check_codes(kind, codes));
    Refusal::unless_invalid(errors)?;
    match holder_of_location {
        Some(existing) => Err(Refusal::DuplicateOrganisation {
            existing: Some(existing),
        }),
        None => Ok(()),
    }
}

/// Changing: a name that is not blank; the platform organisation stays active; new codes fit
/// the kind, which never changes.
pub fn decide_change(
    kind: OrganisationKind,
    name: Option<&str>,
    active: Option<bool>,
    codes: Option<&Codes>,
) -> Result<(), Refusal> {
    Refusal::unless_invalid(name.and_then(check_name).into_iter().collect())?;
    if kind == OrganisationKind::Platform && active == Some(false) {
        return Err(Refusal::PlatformDeactivation);
    }
    Refusal::unless_invalid(codes.map(|c| check_codes(kind, c)).unwrap_or_default())
}

/// The duty contact (piketfunctie) a sender calls when an acute handoff goes unacknowledged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DutyContact {
    pub name: String,
    pub phone: String,
    /// When it is reachable, in words ("ma–vr 17:00–09:00, weekend 24 uur").
    pub hours: String,
}

/// Changing an organisation's own settings: the platform has none; a duty contact has no blank
/// or padded parts; the four-eyes principle concerns organisations that walk the meldcode
/// (schools and wijkteams).
pub fn decide_settings(
    kind: OrganisationKind,
    duty_contact: Option<&DutyContact>,
    four_eyes: bool,
) -> Result<(), Refusal> {
    if kind == OrganisationKind::Platform {
        return Err(Refusal::field(
            "dutyContact",
            "the platform organisation has no settings",
        ));
    }
    let mut errors: Vec<FieldError> = duty_contact
        .map(|c| {
            [
                check_text("dutyContact.name", &c.name),
                check_text("dutyContact.phone", &c.phone),
                check_text("dutyContact.hours", &c.hours),
            ]
            .into_iter()
            .flatten()
            .collect()
        })
        .unwrap_or_default();
    if four_eyes && !matches!(kind, OrganisationKind::School | OrganisationKind::Wijkteam) {
        errors.push(FieldError::new(
            "fourEyes",
            "only schools and wijkteams walk the meldcode, whose decisions it concerns",
        ));
    }
    Refusal::unless_invalid(errors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use OrganisationKind::{Platform, School, VeiligThuis};

    fn school_codes() -> Codes {
        Codes {
            brin: Some("12AB".to_owned()),
            branch: Some("00".to_owned()),
            region: None,
        }
    }

    #[test]
    fn registering() {
        assert_eq!(
            decide_register(School, "De Regenboog", &school_codes(), None),
            Ok(())
        );
        assert_eq!(
            decide_register(Platform, "Schakel", &Codes::default(), None),
            Err(Refusal::SecondPlatform)
        );
        let existing = Uuid::from_u128(3);
        assert_eq!(
            decide_register(School, "De Regenboog", &school_codes(), Some(existing)),
            Err(Refusal::DuplicateOrganisation {
                existing: Some(existing)
            })
        );
        assert!(matches!(
            decide_register(VeiligThuis, " ", &school_codes(), None),
            Err(Refusal::Invalid(errors)) if errors.len() == 2
        ));
    }

    #[test]
    fn changing() {
        assert_eq!(
            decide_change(Platform, Some("Schakel"), Some(true), None),
            Ok(())
        );
        assert_eq!(
            decide_change(Platform, None, Some(false), None),
            Err(Refusal::PlatformDeactivation)
        );
        assert_eq!(
            decide_change(School, None, Some(false), Some(&school_codes())),
            Ok(())
        );
        assert!(matches!(
            decide_change(VeiligThuis, None, None, Some(&school_codes())),
            Err(Refusal::Invalid(_))
        ));
        assert!(matches!(
            decide_change(School, Some(""), None, None),
            Err(Refusal::Invalid(_))
        ));
    }

    /// Every kind × duty contact × four eyes.
    #[test]
    fn settings() {
        use crate::domain::reference::Labelled;
        let contact = DutyContact {
            name: "Piketdienst Veilig Thuis".into(),
            phone: "+31 20 123 4567".into(),
            hours: "Buiten kantoortijden en in het weekend".into(),
        };
        let blank = DutyContact {
            hours: " ".into(),
            ..contact.clone()
        };
        for &kind in OrganisationKind::ALL {
            for four_eyes in [false, true] {
                let decided = decide_settings(kind, Some(&contact), four_eyes);
                let fits = kind != Platform
                    && (!four_eyes || matches!(kind, School | OrganisationKind::Wijkteam));
                assert_eq!(decided.is_ok(), fits, "{kind:?} four eyes {four_eyes}");
            }
        }
        assert!(matches!(
            decide_settings(VeiligThuis, Some(&blank), false),
            Err(Refusal::Invalid(errors)) if errors[0].field == "dutyContact.hours"
        ));
        assert_eq!(decide_settings(VeiligThuis, None, false), Ok(()));
    }
}
