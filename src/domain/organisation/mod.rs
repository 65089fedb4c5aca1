//! Organisations and the roles their professionals hold (DESIGN.md §3).

use diesel::{deserialize::FromSqlRow, expression::AsExpression, sql_types::Text};
use std::{fmt, str::FromStr};
use uuid::Uuid;

use crate::domain::{FieldError, check_text, reference::Labelled};

mod decide;

pub use decide::{DutyContact, decide_change, decide_register, decide_settings};

use poem_openapi::Enum;
use serde::{Deserialize, Serialize};

/// What kind of organisation this is. Decides which roles its professionals may hold and which
/// handoffs it may send or receive.
#[derive(
    Enum, Deserialize, Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow,
)]
#[diesel(sql_type = Text)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum OrganisationKind {
    /// A primary or secondary school (school).
    School,
    /// A neighbourhood youth team (wijkteam, buurtteam, CJG, ouder-kindadviseurs).
    Wijkteam,
    /// A Veilig Thuis region: the advice and reporting centre for domestic violence and child abuse.
    VeiligThuis,
    /// Public health service (GGD): youth doctors and nurses.
    Ggd,
    /// The municipal school attendance office (leerplicht).
    Leerplicht,
    /// A partnership for inclusive education (samenwerkingsverband passend onderwijs).
    Samenwerkingsverband,
    /// The operator of this service; manages organisations, never sees child data.
    Platform,
}

crate::labelled!(OrganisationKind {
    School => ("school", "School", "School", "A primary or secondary school."),
    Wijkteam => ("wijkteam", "Wijkteam", "Neighbourhood team",
        "A neighbourhood youth team: wijkteam, buurtteam, CJG, ouder-kindadviseurs."),
    VeiligThuis => ("veilig_thuis", "Veilig Thuis", "Veilig Thuis",
        "The regional advice and reporting centre for domestic violence and child abuse."),
    Ggd => ("ggd", "GGD", "Public health service", "Youth doctors and nurses of the GGD."),
    Leerplicht => ("leerplicht", "Leerplicht", "School attendance office",
        "The municipal attendance officers (leerplichtambtenaren)."),
    Samenwerkingsverband => ("samenwerkingsverband", "Samenwerkingsverband",
        "Inclusive education partnership", "A samenwerkingsverband passend onderwijs."),
    Platform => ("platform", "Platform", "Platform",
        "The operator of schakel; manages organisations, never sees child data."),
});

impl OrganisationKind {
    pub fn as_str(self) -> &'static str {
        self.code()
    }
}

impl fmt::Display for OrganisationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OrganisationKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s).ok_or_else(|| format!("unknown organisation kind `{s}`"))
    }
}

/// A professional's role, carried in the token's `roles` claim.
#[derive(
    Enum, Deserialize, Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Leerkracht or mentor.
    Teacher,
    /// Intern begeleider, zorgcoördinator or aandachtsfunctionaris: leads the meldcode at school.
    CareCoordinator,
    /// Wijkteam/buurtteam worker, CJG coach, ouder-kindadviseur, GGD youth doctor or nurse.
    YouthWorker,
    /// Veilig Thuis triage or investigation staff.
    VtWorker,
    /// Leerplichtambtenaar.
    AttendanceOfficer,
    /// Reads the organisation's access log and handles data-subject requests.
    PrivacyOfficer,
    /// Manages the organisation's integrations (webhooks).
    OrgAdmin,
    /// Manages organisations on the platform; never sees child data.
    PlatformAdmin,
}

crate::labelled!(Role {
    Teacher => ("teacher", "Leerkracht", "Teacher", "A teacher or mentor."),
    CareCoordinator => ("care_coordinator", "Intern begeleider / zorgcoördinator", "Care coordinator",
        "Leads the meldcode at school: intern begeleider, zorgcoördinator or aandachtsfunctionaris."),
    YouthWorker => ("youth_worker", "Jeugdprofessional", "Youth worker",
        "Wijkteam or buurtteam worker, CJG coach, ouder-kindadviseur, GGD youth doctor or nurse."),
    VtWorker => ("vt_worker", "Medewerker Veilig Thuis", "Veilig Thuis worker",
        "Veilig Thuis triage or investigation staff."),
    AttendanceOfficer => ("attendance_officer", "Leerplichtambtenaar", "Attendance officer",
        "Enforces school attendance."),
    PrivacyOfficer => ("privacy_officer", "Privacyfunctionaris", "Privacy officer",
        "Reads the organisation's access log and handles data-subject requests."),
    OrgAdmin => ("org_admin", "Beheerder", "Organisation administrator",
        "Manages the organisation's integrations, such as webhooks."),
    PlatformAdmin => ("platform_admin", "Platformbeheerder", "Platform administrator",
        "Manages organisations on the platform; never sees child data."),
});

impl Role {
    pub fn as_str(self) -> &'static str {
        self.code()
    }

    /// Whether a professional of an organisation of `kind` may hold this role (DESIGN.md §3).
    pub fn fits(self, kind: OrganisationKind) -> bool {
        use OrganisationKind as K;
        match self {
            Self::Teacher | Self::CareCoordinator => kind == K::School,
            Self::YouthWorker => matches!(
                kind,
                K::Wijkteam | K::Ggd | K::Leerplicht | K::Samenwerkingsverband
            ),
            Self::VtWorker => kind == K::VeiligThuis,
            Self::AttendanceOfficer => {
                matches!(kind, K::Ggd | K::Leerplicht | K::Samenwerkingsverband)
            }
            Self::PrivacyOfficer | Self::OrgAdmin => true,
            Self::PlatformAdmin => kind == K::Platform,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s).ok_or_else(|| {
            let known: Vec<&str> = Self::ALL.iter().map(|r| r.as_str()).collect();
            format!("unknown role `{s}` (known: {})", known.join(", "))
        })
    }
}

/// Identifying codes of an organisation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Codes {
    /// BRIN number of a school (4 characters, e.g. `12AB`).
    pub brin: Option<String>,
    /// Vestigingsnummer: the branch of a school within its BRIN (2 digits).
    pub branch: Option<String>,
    /// Region, e.g. the Veilig Thuis region `Amsterdam-Amstelland`.
    pub region: Option<String>,
}

/// Which codes fit which kind: BRIN and branch belong to schools; the platform has none.
pub fn check_codes(kind: OrganisationKind, codes: &Codes) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if let Some(brin) = &codes.brin {
        if kind != OrganisationKind::School {
            errors.push(FieldError::new("codes.brin", "only schools have a BRIN"));
        } else if !is_brin(brin) {
            errors.push(FieldError::new(
                "codes.brin",
                "a BRIN is two digits and two capital letters, e.g. 12AB",
            ));
        }
    }
    if let Some(branch) = &codes.branch {
        if codes.brin.is_none() {
            errors.push(FieldError::new(
                "codes.branch",
                "a branch (vestigingsnummer) needs a BRIN",
            ));
        } else if !(branch.len() == 2 && branch.bytes().all(|b| b.is_ascii_digit())) {
            errors.push(FieldError::new(
                "codes.branch",
                "a branch (vestigingsnummer) is two digits, e.g. 00",
            ));
        }
    }
    if codes.region.is_some() && kind == OrganisationKind::Platform {
        errors.push(FieldError::new(
            "codes.region",
            "the platform organisation has no region",
        ));
    }
    errors
}

fn is_brin(value: &str) -> bool {
    let bytes = value.as_bytes();
    bytes.len() == 4
        && bytes[..2].iter().all(u8::is_ascii_digit)
        && bytes[2..].iter().all(u8::is_ascii_uppercase)
}

/// Names are shown to professionals of other organisations: no blank or padded names.
pub fn check_name(name: &str) -> Option<FieldError> {
    check_text("name", name)
}

/// What authentication needs to know of an organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganisationRef {
    pub id: Uuid,
    pub kind: OrganisationKind,
    pub name: String,
    pub active: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use OrganisationKind as K;

    /// The full role × kind matrix, written out so a change to the table is a visible decision.
    #[test]
    fn roles_fit_organisation_kinds_exactly_as_designed() {
        let expected: &[(Role, &[OrganisationKind])] = &[
            (Role::Teacher, &[K::School]),
            (Role::CareCoordinator, &[K::School]),
            (
                Role::YouthWorker,
                &[K::Wijkteam, K::Ggd, K::Leerplicht, K::Samenwerkingsverband],
            ),
            (Role::VtWorker, &[K::VeiligThuis]),
            (
                Role::AttendanceOfficer,
                &[K::Ggd, K::Leerplicht, K::Samenwerkingsverband],
            ),
            (Role::PrivacyOfficer, OrganisationKind::ALL),
            (Role::OrgAdmin, OrganisationKind::ALL),
            (Role::PlatformAdmin, &[K::Platform]),
        ];
        assert_eq!(expected.len(), Role::ALL.len());
        for (role, kinds) in expected {
            for &kind in OrganisationKind::ALL {
                assert_eq!(
                    role.fits(kind),
                    kinds.contains(&kind),
                    "{role} in a {kind} organisation"
                );
            }
        }
    }

    #[test]
    fn names_round_trip() {
        for &role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
        }
        for &kind in OrganisationKind::ALL {
            assert_eq!(kind.as_str().parse::<OrganisationKind>().unwrap(), kind);
        }
        assert!("superuser".parse::<Role>().is_err());
        assert!("hospital".parse::<OrganisationKind>().is_err());
    }

    #[test]
    fn codes_fit_their_kind() {
        let school = Codes {
            brin: Some("12AB".into()),
            branch: Some("01".into()),
            region: Some("Amsterdam".into()),
        };
        assert!(check_codes(K::School, &school).is_empty());

        let cases: &[(OrganisationKind, Codes, &str)] = &[
            (
                K::Wijkteam,
                Codes {
                    brin: Some("12AB".into()),
                    ..Codes::default()
                },
                "codes.brin",
            ),
            (
                K::School,
                Codes {
                    brin: Some("12ab".into()),
                    ..Codes::default()
                },
                "codes.brin",
            ),
            (
                K::School,
                Codes {
                    brin: Some("1ABC".into()),
                    ..Codes::default()
                },
                "codes.brin",
            ),
            (
                K::School,
                Codes {
                    branch: Some("01".into()),
                    ..Codes::default()
                },
                "codes.branch",
            ),
            (
                K::School,
                Codes {
                    brin: Some("12AB".into()),
                    branch: Some("1".into()),
                    ..Codes::default()
                },
                "codes.branch",
            ),
            (
                K::Platform,
                Codes {
                    region: Some("NL".into()),
                    ..Codes::default()
                },
                "codes.region",
            ),
        ];
        for (kind, codes, field) in cases {
            let errors = check_codes(*kind, codes);
            assert_eq!(errors.len(), 1, "{kind} {codes:?}: {errors:?}");
            assert_eq!(errors[0].field, *field);
        }
    }

    #[test]
    fn names_must_not_be_blank_or_padded() {
        assert!(check_name("Basisschool De Regenboog").is_none());
        assert!(check_name("   ").is_some());
        assert!(check_name(" De Regenboog").is_some());
    }
}
