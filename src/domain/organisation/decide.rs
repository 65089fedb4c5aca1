//! The commands on the directory: register an organisation, change one.

use uuid::Uuid;

use super::{Codes, OrganisationKind, check_codes, check_name};
use crate::domain::{FieldError, refusal::Refusal};

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
}
