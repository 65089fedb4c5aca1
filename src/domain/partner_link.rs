//! Fixed faces per school: a partner organisation's assigned contact in the school's care
//! structure (the CJG coach, the GGD nurse and school doctor, the leerplichtambtenaar, the
//! schoolconsulent, the *schakelfunctionaris zorg*). The school proposes, the partner confirms
//! or names someone else, either side ends it — and a school has one schakelfunctionaris at a
//! time.

use diesel::{deserialize::FromSqlRow, expression::AsExpression, sql_types::Text};
use poem_openapi::Enum;
use serde::{Deserialize, Serialize};

use crate::{
    domain::{check_text, organisation::OrganisationKind, refusal::Refusal},
    labelled,
};

/// The partner's role in the school's care structure.
#[derive(
    Enum, Deserialize, Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow,
)]
#[diesel(sql_type = Text)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum PartnerRole {
    CjgCoach,
    GgdNurse,
    SchoolDoctor,
    AttendanceOfficer,
    Schoolconsulent,
    Schakelfunctionaris,
}

labelled!(PartnerRole {
    CjgCoach => ("cjg_coach", "CJG-coach", "CJG coach",
        "The school's coach of the Centrum voor Jeugd en Gezin or the wijkteam."),
    GgdNurse => ("ggd_nurse", "Jeugdverpleegkundige", "GGD youth nurse",
        "The GGD's youth nurse for the school."),
    SchoolDoctor => ("school_doctor", "Jeugdarts", "School doctor", "The GGD's youth doctor."),
    AttendanceOfficer => ("attendance_officer", "Leerplichtambtenaar", "Attendance officer",
        "The municipality's attendance officer for the school."),
    Schoolconsulent => ("schoolconsulent", "Schoolconsulent", "School consultant",
        "Advises the school on pupils' support needs (passend onderwijs)."),
    Schakelfunctionaris => ("schakelfunctionaris", "Schakelfunctionaris zorg",
        "Youth-care link officer", "Links the school and youth care; one per school at a time."),
});

impl PartnerRole {
    /// The kinds of organisation that fill the role.
    pub fn filled_by(self) -> &'static [OrganisationKind] {
        use OrganisationKind as K;
        match self {
            Self::CjgCoach => &[K::Wijkteam],
            Self::GgdNurse | Self::SchoolDoctor => &[K::Ggd],
            Self::AttendanceOfficer => &[K::Leerplicht],
            Self::Schoolconsulent | Self::Schakelfunctionaris => {
                &[K::Wijkteam, K::Ggd, K::Samenwerkingsverband]
            }
        }
    }
}

/// Where a link stands.
#[derive(
    Enum, Deserialize, Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow,
)]
#[diesel(sql_type = Text)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum LinkStatus {
    Proposed,
    Confirmed,
    Ended,
}

labelled!(LinkStatus {
    Proposed => ("proposed", "Voorgesteld", "Proposed",
        "The school proposed the contact; the partner has not confirmed yet."),
    Confirmed => ("confirmed", "Bevestigd", "Confirmed", "Both sides agree on the contact."),
    Ended => ("ended", "Beëindigd", "Ended", "One side ended the link."),
});

/// What a side does to a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkAct {
    /// The partner agrees, with the proposed contact or someone else.
    Confirm,
    /// The partner names someone else for a confirmed link (the coach changes jobs).
    Replace,
    /// Either side ends the link.
    End,
}

impl LinkAct {
    pub const ALL: [LinkAct; 3] = [LinkAct::Confirm, LinkAct::Replace, LinkAct::End];

    pub fn code(self) -> &'static str {
        match self {
            Self::Confirm => "confirmation",
            Self::Replace => "replacement",
            Self::End => "ending",
        }
    }
}

/// The person assigned, with their work contact details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// The partner named, as the directory knows it.
pub struct Partner {
    pub kind: OrganisationKind,
    pub active: bool,
    pub name: String,
}

/// What proposing a link needs: the school's kind, the partner (if it exists), and whether the
/// school already has a schakelfunctionaris (proposed or confirmed).
pub struct ProposeContext {
    pub school: OrganisationKind,
    pub partner: Option<Partner>,
    pub has_schakelfunctionaris: bool,
}

/// Proposing: a school's care structure, a partner of the directory that is active and fills the
/// role, a contact with a name, and no second schakelfunctionaris.
pub fn decide_propose(
    role: PartnerRole,
    contact: &Contact,
    context: &ProposeContext,
) -> Result<(), Refusal> {
    if context.school != OrganisationKind::School {
        return Err(Refusal::NotASchool);
    }
    Refusal::unless_invalid(
        check_text("contact.name", &contact.name)
            .into_iter()
            .collect(),
    )?;
    let partner = context.partner.as_ref().ok_or(Refusal::UnknownRecipient)?;
    if !partner.active {
        return Err(Refusal::RecipientInactive {
            name: partner.name.clone(),
        });
    }
    if !role.filled_by().contains(&partner.kind) {
        return Err(Refusal::PartnerRoleMismatch {
            role,
            kind: partner.kind,
        });
    }
    if role == PartnerRole::Schakelfunctionaris && context.has_schakelfunctionaris {
        return Err(Refusal::SchakelfunctionarisTaken);
    }
    Ok(())
}

/// A step on a link: confirm a proposal, replace the contact of a confirmed link (or while
/// confirming), end a link that has not ended. The plan is the link's status after it.
pub fn decide_link_step(
    status: LinkStatus,
    act: LinkAct,
    contact: Option<&Contact>,
) -> Result<LinkStatus, Refusal> {
    if let Some(contact) = contact {
        Refusal::unless_invalid(
            check_text("contact.name", &contact.name)
                .into_iter()
                .collect(),
        )?;
    }
    let after = match (act, status) {
        (LinkAct::Confirm, LinkStatus::Proposed) => LinkStatus::Confirmed,
        (LinkAct::Replace, LinkStatus::Confirmed) => LinkStatus::Confirmed,
        (LinkAct::End, LinkStatus::Proposed | LinkStatus::Confirmed) => LinkStatus::Ended,
        _ => return Err(Refusal::LinkStep { status, act }),
    };
    Ok(after)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::reference::Labelled;

    fn contact(name: &str) -> Contact {
        Contact {
            name: name.into(),
            phone: None,
            email: None,
        }
    }

    fn context(partner: OrganisationKind) -> ProposeContext {
        ProposeContext {
            school: OrganisationKind::School,
            partner: Some(Partner {
                kind: partner,
                active: true,
                name: "Partner".into(),
            }),
            has_schakelfunctionaris: false,
        }
    }

    /// Every role × every kind of partner: only the kinds that fill the role.
    #[test]
    fn roles_are_filled_by_their_kinds_of_organisation() {
        for &role in PartnerRole::ALL {
            for &kind in OrganisationKind::ALL {
                let outcome = decide_propose(role, &contact("Sanne"), &context(kind));
                assert_eq!(
                    outcome.is_ok(),
                    role.filled_by().contains(&kind),
                    "{role:?} by {kind:?}"
                );
            }
        }
        assert!(
            PartnerRole::ALL
                .iter()
                .all(|r| !r.filled_by().contains(&OrganisationKind::VeiligThuis))
        );
    }

    #[test]
    fn proposals_are_refused() {
        let role = PartnerRole::CjgCoach;
        let mut not_school = context(OrganisationKind::Wijkteam);
        not_school.school = OrganisationKind::Ggd;
        assert_eq!(
            decide_propose(role, &contact("Sanne"), &not_school),
            Err(Refusal::NotASchool)
        );
        let mut unknown = context(OrganisationKind::Wijkteam);
        unknown.partner = None;
        assert_eq!(
            decide_propose(role, &contact("Sanne"), &unknown),
            Err(Refusal::UnknownRecipient)
        );
        let mut inactive = context(OrganisationKind::Wijkteam);
        inactive.partner.as_mut().unwrap().active = false;
        assert!(matches!(
            decide_propose(role, &contact("Sanne"), &inactive),
            Err(Refusal::RecipientInactive { .. })
        ));
        assert!(matches!(
            decide_propose(role, &contact(" "), &context(OrganisationKind::Wijkteam)),
            Err(Refusal::Invalid(_))
        ));
        let mut taken = context(OrganisationKind::Wijkteam);
        taken.has_schakelfunctionaris = true;
        assert_eq!(
            decide_propose(PartnerRole::Schakelfunctionaris, &contact("Sanne"), &taken),
            Err(Refusal::SchakelfunctionarisTaken)
        );
        // Other roles are not limited to one.
        assert!(decide_propose(PartnerRole::CjgCoach, &contact("Sanne"), &taken).is_ok());
    }

    /// Every act × every status.
    #[test]
    fn link_steps() {
        use LinkAct as A;
        use LinkStatus as S;
        for act in A::ALL {
            for &status in S::ALL {
                let expected = match (act, status) {
                    (A::Confirm, S::Proposed) | (A::Replace, S::Confirmed) => Some(S::Confirmed),
                    (A::End, S::Proposed | S::Confirmed) => Some(S::Ended),
                    _ => None,
                };
                let outcome = decide_link_step(status, act, None);
                assert_eq!(
                    outcome.as_ref().ok().copied(),
                    expected,
                    "{act:?} {status:?}"
                );
                if expected.is_none() {
                    assert_eq!(outcome, Err(Refusal::LinkStep { status, act }));
                }
            }
        }
        assert!(matches!(
            decide_link_step(S::Proposed, A::Confirm, Some(&contact(""))),
            Err(Refusal::Invalid(_))
        ));
    }
}
