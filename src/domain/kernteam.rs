//! The kernteam: a school's care coordinator and the partners' professionals discuss pupils —
//! anonymously, each from their own perspective — and follow up what they agreed. An item is
//! anonymous (no child; the text is checked for a BSN or a registered child's full name — a
//! safety net, not a guarantee) or identified (a child of the presenting organisation, only
//! under consent for a case conference that covers every organisation in the room).

use chrono::NaiveDate;
use diesel::{deserialize::FromSqlRow, expression::AsExpression, sql_types::Text};
use poem_openapi::Enum;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    domain::{
        FieldError, check_text,
        child::is_valid_bsn,
        consent::{ConsentGrant, ConsentPurpose, ConsentStatus},
        handoff::AgeBand,
        organisation::OrganisationKind,
        refusal::Refusal,
        signal::SignalCategory,
    },
    labelled,
};

/// A member's role in the kernteam.
#[derive(
    Enum, Deserialize, Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow,
)]
#[diesel(sql_type = Text)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum TeamRole {
    Chair,
    CareCoordinator,
    CjgCoach,
    GgdNurse,
    SchoolDoctor,
    AttendanceOfficer,
    Schoolconsulent,
    Schakelfunctionaris,
    VeiligThuis,
    Beschermtafel,
    Other,
}

labelled!(TeamRole {
    Chair => ("chair", "Voorzitter", "Chair", "Chairs the kernteam's meetings."),
    CareCoordinator => ("care_coordinator", "Intern begeleider / zorgcoördinator",
        "Care coordinator", "The school's care coordinator."),
    CjgCoach => ("cjg_coach", "CJG-coach", "CJG coach", "The school's CJG or wijkteam coach."),
    GgdNurse => ("ggd_nurse", "Jeugdverpleegkundige", "GGD youth nurse", "The GGD's youth nurse."),
    SchoolDoctor => ("school_doctor", "Jeugdarts", "School doctor", "The GGD's youth doctor."),
    AttendanceOfficer => ("attendance_officer", "Leerplichtambtenaar", "Attendance officer",
        "The municipality's attendance officer."),
    Schoolconsulent => ("schoolconsulent", "Schoolconsulent", "School consultant",
        "Advises on pupils' support needs."),
    Schakelfunctionaris => ("schakelfunctionaris", "Schakelfunctionaris zorg",
        "Youth-care link officer", "Links the school and youth care."),
    VeiligThuis => ("veilig_thuis", "Veilig Thuis", "Veilig Thuis",
        "A Veilig Thuis adviser, usually a guest for one meeting."),
    Beschermtafel => ("beschermtafel", "Beschermtafel", "Beschermtafel",
        "A member of the Beschermtafel, usually a guest for one meeting."),
    Other => ("other", "Anders", "Other", "Another role in the team."),
});

/// What a meeting is for.
#[derive(
    Enum, Deserialize, Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow,
)]
#[diesel(sql_type = Text)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum MeetingKind {
    Introduction,
    Casuistry,
}

labelled!(MeetingKind {
    Introduction => ("introduction", "Kennismaking", "Introduction",
        "The partners get to know each other and the school's care structure."),
    Casuistry => ("casuistry", "Casuïstiekbespreking", "Casuistry",
        "Pupils are discussed, anonymously or with consent."),
});

/// A registered child's name, as the anonymity check looks for it.
pub struct ChildName {
    pub given_name: String,
    pub family_name: String,
}

/// Lower case, letters and digits only, words separated by single spaces, padded with a space on
/// both ends so that whole words are matched.
fn words(text: &str) -> String {
    use unicode_normalization::{UnicodeNormalization, char::is_combining_mark};
    // Diacritics folded, so "Noel" finds "Noël" and "Zoë" finds "Zoe".
    let spaced: String = text
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    format!(
        " {} ",
        spaced.split_whitespace().collect::<Vec<_>>().join(" ")
    )
}

/// Whether the text holds a number that passes the 11-proef: nine digits, written together or in
/// groups separated by one space, dot or dash ("123456782", "1234.56.782", "123 456 782").
fn holds_bsn(text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    // Runs of digits, and whether each is joined to the previous one by a single separator.
    let mut groups: Vec<(String, bool)> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            let joined = start >= 2
                && matches!(chars[start - 1], ' ' | '.' | '-')
                && chars[start - 2].is_ascii_digit();
            groups.push((chars[start..i].iter().collect(), joined));
        } else {
            i += 1;
        }
    }
    (0..groups.len()).any(|start| {
        let mut number = String::new();
        for (offset, (digits, joined)) in groups[start..].iter().enumerate() {
            if offset > 0 && !joined {
                break;
            }
            number.push_str(digits);
            if number.len() >= 9 {
                return number.len() == 9 && is_valid_bsn(&number);
            }
        }
        false
    })
}

/// An anonymous item's text must not name the child: refused when it holds a BSN-shaped number
/// passing the 11-proef, or the full name (given and family name) of a child registered at the
/// organisations concerned. A safety net, not a guarantee: a nickname or a misspelling passes.
pub fn check_anonymous(texts: &[(&'static str, &str)], names: &[ChildName]) -> Result<(), Refusal> {
    let full_names: Vec<String> = names
        .iter()
        .map(|n| words(&format!("{} {}", n.given_name, n.family_name)))
        .filter(|n| n.trim().contains(' '))
        .collect();
    for &(field, text) in texts {
        if holds_bsn(text) {
            return Err(Refusal::NotAnonymous {
                field,
                what: Identifier::Bsn,
            });
        }
        let text = words(text);
        if full_names.iter().any(|name| text.contains(name.as_str())) {
            return Err(Refusal::NotAnonymous {
                field,
                what: Identifier::ChildName,
            });
        }
    }
    Ok(())
}

/// Convening a kernteam: a school's, with a name.
pub fn decide_kernteam(kind: OrganisationKind, name: &str) -> Result<(), Refusal> {
    if kind != OrganisationKind::School {
        return Err(Refusal::NotASchool);
    }
    Refusal::unless_invalid(check_text("name", name).into_iter().collect())
}

/// A perspective or the team's advice: not blank, and on an anonymous item (`names` given) it
/// names no child either.
pub fn check_contribution(
    field: &'static str,
    text: &str,
    names: Option<&[ChildName]>,
) -> Result<(), Refusal> {
    Refusal::unless_invalid(check_text(field, text).into_iter().collect())?;
    match names {
        Some(names) => check_anonymous(&[(field, text)], names),
        None => Ok(()),
    }
}

/// Marking an action done: once.
pub fn decide_completion(done: bool) -> Result<(), Refusal> {
    if done {
        Err(Refusal::ActionDone)
    } else {
        Ok(())
    }
}

/// What gave a child away in an anonymous text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identifier {
    Bsn,
    ChildName,
}

/// The consent for a case conference that lets `organisation` see the presenting organisation's
/// child, if one is active.
pub fn covering_consent(grants: &[ConsentGrant], organisation: Uuid) -> Option<Uuid> {
    grants
        .iter()
        .find(|g| {
            g.purpose == ConsentPurpose::CaseConference
                && g.recipient == organisation
                && g.status == ConsentStatus::Active
        })
        .map(|g| g.id)
}

/// An agenda item as proposed.
pub struct ItemInput<'a> {
    pub child: Option<Uuid>,
    pub age_band: Option<AgeBand>,
    pub school_group: Option<&'a str>,
    pub concerns: &'a [SignalCategory],
    pub question: &'a str,
}

/// What deciding an item needs: the presenting organisation, whether the child named is its own,
/// its registered children's names, the organisations in the room (members' and the meeting's
/// guests'), and the child's consents.
pub struct ItemContext<'a> {
    pub presenter: Uuid,
    pub child_known: bool,
    pub names: &'a [ChildName],
    pub audience: &'a [Uuid],
    pub grants: &'a [ConsentGrant],
}

/// For an identified item, each other organisation in the room with the consent that covers it
/// (the disclosures to log); empty for an anonymous item.
pub type Disclosures = Vec<(Uuid, Uuid)>;

/// Deciding an agenda item: concerns named once each; an anonymous item gives an age band and
/// names no child in its question or group; an identified item names a child of the presenting
/// organisation with an active consent for a case conference to every other organisation in
/// the room.
pub fn decide_item(
    item: &ItemInput<'_>,
    context: &ItemContext<'_>,
) -> Result<Disclosures, Refusal> {
    let mut errors: Vec<FieldError> = Vec::new();
    errors.extend(check_text("question", item.question));
    if let Some(group) = item.school_group {
        errors.extend(check_text("schoolGroup", group));
    }
    if item.concerns.is_empty() {
        errors.push(FieldError::new("concerns", "name at least one"));
    }
    if item
        .concerns
        .iter()
        .enumerate()
        .any(|(i, c)| item.concerns[..i].contains(c))
    {
        errors.push(FieldError::new("concerns", "name each concern once"));
    }
    if item.child.is_none() && item.age_band.is_none() {
        errors.push(FieldError::new(
            "ageBand",
            "an anonymous item gives the child's age band",
        ));
    }
    Refusal::unless_invalid(errors)?;
    match item.child {
        None => {
            let mut texts = vec![("question", item.question)];
            texts.extend(item.school_group.map(|g| ("schoolGroup", g)));
            check_anonymous(&texts, context.names)?;
            Ok(Vec::new())
        }
        Some(_) if !context.child_known => Err(Refusal::UnknownChild),
        Some(_) => {
            let mut disclosures = Vec::new();
            let mut uncovered = Vec::new();
            for &organisation in context.audience {
                if organisation == context.presenter
                    || disclosures.iter().any(|(o, _)| *o == organisation)
                {
                    continue;
                }
                match covering_consent(context.grants, organisation) {
                    Some(consent) => disclosures.push((organisation, consent)),
                    None if !uncovered.contains(&organisation) => uncovered.push(organisation),
                    None => {}
                }
            }
            if uncovered.is_empty() {
                Ok(disclosures)
            } else {
                Err(Refusal::CaseConferenceConsentRequired {
                    organisations: uncovered,
                })
            }
        }
    }
}

/// What adding someone to the team needs: the school, the organisation they belong to (if it
/// exists: its kind and whether it is active), whether it is a confirmed partner of the school,
/// and whether they already sit in the team (for a guest: at that meeting).
pub struct MemberContext {
    pub school: Uuid,
    pub organisation: Option<(Uuid, OrganisationKind, bool)>,
    pub confirmed_partner: bool,
    pub already_seated: bool,
    pub guest: bool,
}

/// Members are professionals of the school or of a partner organisation with a confirmed link to
/// it; a guest (for one meeting) may come from any active organisation, such as Veilig Thuis or
/// the Beschermtafel — never the platform.
pub fn decide_member(name: &str, sub: &str, context: &MemberContext) -> Result<(), Refusal> {
    let mut errors: Vec<FieldError> = Vec::new();
    errors.extend(check_text("name", name));
    errors.extend(check_text("sub", sub));
    Refusal::unless_invalid(errors)?;
    let (id, kind, active) = context.organisation.ok_or(Refusal::UnknownRecipient)?;
    if kind == OrganisationKind::Platform || !active {
        return Err(Refusal::UnknownRecipient);
    }
    if !context.guest && id != context.school && !context.confirmed_partner {
        return Err(Refusal::NotAPartner);
    }
    if context.already_seated {
        return Err(Refusal::AlreadySeated);
    }
    Ok(())
}

/// An agreed action as proposed.
pub struct ActionInput<'a> {
    pub owner_organisation: Uuid,
    pub owner_name: &'a str,
    pub description: &'a str,
    pub due_on: NaiveDate,
}

/// Agreeing an action: the owner's organisation sits at the meeting (a member's or a guest's),
/// the due date is not before the meeting, and on an anonymous item the description names no
/// child either.
pub fn decide_action(
    action: &ActionInput<'_>,
    held_on: NaiveDate,
    audience: &[Uuid],
    anonymous_names: Option<&[ChildName]>,
) -> Result<(), Refusal> {
    let mut errors: Vec<FieldError> = Vec::new();
    errors.extend(check_text("ownerName", action.owner_name));
    errors.extend(check_text("description", action.description));
    if action.due_on < held_on {
        errors.push(FieldError::new("dueOn", "must not be before the meeting"));
    }
    Refusal::unless_invalid(errors)?;
    if !audience.contains(&action.owner_organisation) {
        return Err(Refusal::NotAPartner);
    }
    match anonymous_names {
        Some(names) => check_anonymous(&[("description", action.description)], names),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::reference::Labelled;

    fn noah() -> Vec<ChildName> {
        vec![ChildName {
            given_name: "Noah".into(),
            family_name: "de Vries".into(),
        }]
    }

    /// A BSN passing the 11-proef in any common writing is refused; numbers that fail it, or
    /// are longer, pass.
    #[test]
    fn anonymous_texts() {
        let refused_bsn = [
            "BSN 123456782 in groep 6",
            "nummer 1234.56.782",
            "123 456 782",
            "1234-56-782.",
        ];
        for text in refused_bsn {
            assert_eq!(
                check_anonymous(&[("question", text)], &[]),
                Err(Refusal::NotAnonymous {
                    field: "question",
                    what: Identifier::Bsn
                }),
                "{text}"
            );
        }
        let passed = [
            "123456789 is geen bsn",
            "bel 0612345678",
            "1234567820",
            "groep 6, 10 jaar, 3 keer afwezig",
            "Noah doet het goed",
            "de Vries-straat",
            "",
        ];
        for text in passed {
            assert_eq!(
                check_anonymous(&[("question", text)], &noah()),
                Ok(()),
                "{text}"
            );
        }
        for text in [
            "Wat doen we met Noah de Vries?",
            "NOAH DE VRIES (groep 6)",
            "noah  de   vries",
            "over noah de vries.",
        ] {
            assert_eq!(
                check_anonymous(&[("question", "ok"), ("schoolGroup", text)], &noah()),
                Err(Refusal::NotAnonymous {
                    field: "schoolGroup",
                    what: Identifier::ChildName
                }),
                "{text}"
            );
        }
        // Whole words only: a longer name that contains it is another child.
        assert_eq!(
            check_anonymous(&[("question", "Noah de Vriesema")], &noah()),
            Ok(())
        );
        // Diacritics fold both ways: Zoë is found written Zoe, and Noah written Nóah.
        let zoe = [ChildName {
            given_name: "Zoë".into(),
            family_name: "Çelik".into(),
        }];
        for (text, names) in [
            ("Zoe Celik zit in groep 5", &zoe[..]),
            ("ZOË ÇELIK", &zoe[..]),
            ("Nóah de Vriës", &noah()[..]),
        ] {
            assert!(
                check_anonymous(&[("question", text)], names).is_err(),
                "{text}"
            );
        }
    }

    fn grant(recipient: u128, purpose: ConsentPurpose, status: ConsentStatus) -> ConsentGrant {
        ConsentGrant {
            id: Uuid::from_u128(1000 + recipient),
            purpose,
            recipient: Uuid::from_u128(recipient),
            scope: Vec::new(),
            status,
        }
    }

    fn item(child: Option<Uuid>) -> ItemInput<'static> {
        ItemInput {
            child,
            age_band: Some(AgeBand::Child),
            school_group: Some("groep 6"),
            concerns: &[SignalCategory::BehaviourChange],
            question: "Hoe gaan we het gesprek met de ouders aan?",
        }
    }

    /// Identified items: each organisation in the room other than the presenter needs an active
    /// consent for a case conference; the refusal names every one that has none.
    #[test]
    fn identified_items_need_consent_per_organisation() {
        let school = Uuid::from_u128(1);
        let audience = [
            school,
            Uuid::from_u128(2),
            Uuid::from_u128(3),
            Uuid::from_u128(2),
        ];
        let child = Some(Uuid::from_u128(9));
        let cases: Vec<(Vec<ConsentGrant>, Result<Disclosures, Refusal>)> = vec![
            (
                vec![
                    grant(2, ConsentPurpose::CaseConference, ConsentStatus::Active),
                    grant(3, ConsentPurpose::CaseConference, ConsentStatus::Active),
                ],
                Ok(vec![
                    (Uuid::from_u128(2), Uuid::from_u128(1002)),
                    (Uuid::from_u128(3), Uuid::from_u128(1003)),
                ]),
            ),
            (
                vec![
                    grant(2, ConsentPurpose::CaseConference, ConsentStatus::Active),
                    grant(3, ConsentPurpose::InformationSharing, ConsentStatus::Active),
                ],
                Err(Refusal::CaseConferenceConsentRequired {
                    organisations: vec![Uuid::from_u128(3)],
                }),
            ),
            (
                vec![
                    grant(2, ConsentPurpose::CaseConference, ConsentStatus::Inactive),
                    grant(3, ConsentPurpose::CaseConference, ConsentStatus::Draft),
                ],
                Err(Refusal::CaseConferenceConsentRequired {
                    organisations: vec![Uuid::from_u128(2), Uuid::from_u128(3)],
                }),
            ),
        ];
        for (grants, expected) in cases {
            let context = ItemContext {
                presenter: school,
                child_known: true,
                names: &noah(),
                audience: &audience,
                grants: &grants,
            };
            assert_eq!(decide_item(&item(child), &context), expected);
        }
        let alone = ItemContext {
            presenter: school,
            child_known: false,
            names: &[],
            audience: &[school],
            grants: &[],
        };
        assert_eq!(
            decide_item(&item(child), &alone),
            Err(Refusal::UnknownChild)
        );
        let alone = ItemContext {
            child_known: true,
            ..alone
        };
        assert_eq!(decide_item(&item(child), &alone), Ok(Vec::new()));
    }

    #[test]
    fn anonymous_items() {
        let context = ItemContext {
            presenter: Uuid::from_u128(1),
            child_known: false,
            names: &noah(),
            audience: &[Uuid::from_u128(2)],
            grants: &[],
        };
        assert_eq!(decide_item(&item(None), &context), Ok(Vec::new()));
        let named = ItemInput {
            question: "Noah de Vries slaapt slecht",
            ..item(None)
        };
        assert!(matches!(
            decide_item(&named, &context),
            Err(Refusal::NotAnonymous {
                field: "question",
                ..
            })
        ));
        let fields = |input: ItemInput<'_>| -> Vec<&str> {
            match decide_item(&input, &context) {
                Err(Refusal::Invalid(errors)) => errors.into_iter().map(|e| e.field).collect(),
                other => panic!("{:?}", other.err()),
            }
        };
        assert_eq!(
            fields(ItemInput {
                age_band: None,
                ..item(None)
            }),
            ["ageBand"]
        );
        assert_eq!(
            fields(ItemInput {
                concerns: &[],
                ..item(None)
            }),
            ["concerns"]
        );
        assert_eq!(
            fields(ItemInput {
                concerns: &[SignalCategory::Other, SignalCategory::Other],
                question: " ",
                ..item(None)
            }),
            ["question", "concerns"]
        );
    }

    #[test]
    fn who_joins_the_team() {
        let school = Uuid::from_u128(1);
        let partner = Uuid::from_u128(2);
        let context = |organisation: Option<(Uuid, OrganisationKind, bool)>,
                       confirmed_partner: bool,
                       guest: bool| MemberContext {
            school,
            organisation,
            confirmed_partner,
            already_seated: false,
            guest,
        };
        use OrganisationKind as K;
        let cases = [
            (
                context(Some((school, K::School, true)), false, false),
                Ok(()),
            ),
            (
                context(Some((partner, K::Wijkteam, true)), true, false),
                Ok(()),
            ),
            (
                context(Some((partner, K::Wijkteam, true)), false, false),
                Err(Refusal::NotAPartner),
            ),
            (
                context(Some((partner, K::VeiligThuis, true)), false, true),
                Ok(()),
            ),
            (
                context(Some((partner, K::Platform, true)), false, true),
                Err(Refusal::UnknownRecipient),
            ),
            (
                context(Some((partner, K::Wijkteam, false)), true, false),
                Err(Refusal::UnknownRecipient),
            ),
            (context(None, false, false), Err(Refusal::UnknownRecipient)),
            (
                MemberContext {
                    already_seated: true,
                    ..context(Some((school, K::School, true)), false, false)
                },
                Err(Refusal::AlreadySeated),
            ),
        ];
        for (context, expected) in cases {
            assert_eq!(decide_member("Sanne", "sanne", &context), expected);
        }
        assert!(matches!(
            decide_member(" ", "s", &context(None, false, false)),
            Err(Refusal::Invalid(_))
        ));
    }

    #[test]
    fn kernteams_contributions_and_completion() {
        for &kind in OrganisationKind::ALL {
            assert_eq!(
                decide_kernteam(kind, "Kernteam").is_ok(),
                kind == OrganisationKind::School
            );
        }
        assert!(matches!(
            decide_kernteam(OrganisationKind::School, " "),
            Err(Refusal::Invalid(_))
        ));
        let named = "Noah de Vries is bij ons bekend";
        assert!(matches!(
            check_contribution("notes", named, Some(&noah())),
            Err(Refusal::NotAnonymous { field: "notes", .. })
        ));
        assert_eq!(check_contribution("notes", named, None), Ok(()));
        assert!(matches!(
            check_contribution("advice", "", None),
            Err(Refusal::Invalid(_))
        ));
        assert_eq!(decide_completion(false), Ok(()));
        assert_eq!(decide_completion(true), Err(Refusal::ActionDone));
    }

    #[test]
    fn agreed_actions() {
        let held_on = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
        let owner = Uuid::from_u128(2);
        let action = |due_on, description| ActionInput {
            owner_organisation: owner,
            owner_name: "Sanne",
            description,
            due_on,
        };
        let ok = action(held_on, "Startgesprek met de ouders plannen");
        assert_eq!(decide_action(&ok, held_on, &[owner], Some(&noah())), Ok(()));
        assert_eq!(
            decide_action(&ok, held_on, &[Uuid::from_u128(3)], None),
            Err(Refusal::NotAPartner)
        );
        let early = action(held_on.pred_opt().unwrap(), "x");
        assert!(matches!(
            decide_action(&early, held_on, &[owner], None),
            Err(Refusal::Invalid(_))
        ));
        let named = action(held_on, "Gesprek met ouders van Noah de Vries");
        assert!(matches!(
            decide_action(&named, held_on, &[owner], Some(&noah())),
            Err(Refusal::NotAnonymous { .. })
        ));
        // On an identified item (consent given) the description may name the child.
        assert_eq!(decide_action(&named, held_on, &[owner], None), Ok(()));
    }
}
