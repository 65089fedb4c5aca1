//! The kernteam's representations, and the inputs of its commands.

use chrono::NaiveDate;
use poem_openapi::{Object, types::Example};
use serde::Deserialize;
use uuid::Uuid;

use crate::{
    api::{
        organisations::OrganisationSummary,
        types::{Timestamp, example_id, example_time},
    },
    db::kernteams::{Action, Item, Kernteam, Meeting, Member, Perspective},
    domain::{
        handoff::AgeBand,
        kernteam::{MeetingKind, TeamRole},
        organisation::OrganisationKind,
        signal::SignalCategory,
    },
};

fn example_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 10).unwrap_or_default()
}

/// A school's care coordinator convenes a kernteam.
#[derive(Object, Deserialize)]
#[oai(rename_all = "camelCase", deny_unknown_fields, example)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateKernteam {
    #[oai(validator(min_length = 1, max_length = 200))]
    pub name: String,
}

impl Example for CreateKernteam {
    fn example() -> Self {
        Self {
            name: "Kernteam De Regenboog".into(),
        }
    }
}

/// A professional who sits in the team: by organisation and `sub` (their token's subject), so
/// that they act with their own organisation's token.
#[derive(Object, Deserialize)]
#[oai(rename_all = "camelCase", deny_unknown_fields, example)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddMember {
    pub organisation_id: Uuid,
    #[oai(validator(min_length = 1, max_length = 200))]
    pub sub: String,
    #[oai(validator(min_length = 1, max_length = 200))]
    pub name: String,
    pub team_role: TeamRole,
}

impl Example for AddMember {
    fn example() -> Self {
        Self {
            organisation_id: example_id(0x002),
            sub: "sanne.jansen@cjg-noord".into(),
            name: "Sanne Jansen".into(),
            team_role: TeamRole::CjgCoach,
        }
    }
}

/// A member or guest of the team.
#[derive(Object)]
#[oai(rename_all = "camelCase", example)]
pub struct MemberDto {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub sub: String,
    pub name: String,
    pub team_role: TeamRole,
    pub added_at: Timestamp,
}

impl Example for MemberDto {
    fn example() -> Self {
        Self {
            id: example_id(0x0b2),
            organisation_id: example_id(0x002),
            sub: "sanne.jansen@cjg-noord".into(),
            name: "Sanne Jansen".into(),
            team_role: TeamRole::CjgCoach,
            added_at: example_time(),
        }
    }
}

impl MemberDto {
    pub fn of(member: &Member) -> Self {
        Self {
            id: member.id,
            organisation_id: member.organisation_id,
            sub: member.sub.clone(),
            name: member.name.clone(),
            team_role: member.team_role,
            added_at: member.added_at.into(),
        }
    }
}

/// A meeting, in the team's list.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct MeetingSummary {
    pub id: Uuid,
    pub held_on: NaiveDate,
    pub kind: MeetingKind,
}

impl MeetingSummary {
    pub fn of(meeting: &Meeting) -> Self {
        Self {
            id: meeting.id,
            held_on: meeting.held_on,
            kind: meeting.kind,
        }
    }
}

/// A kernteam: its school, members and the meetings the caller attends.
#[derive(Object)]
#[oai(rename_all = "camelCase", example)]
pub struct KernteamDto {
    pub id: Uuid,
    pub school: OrganisationSummary,
    pub name: String,
    pub members: Vec<MemberDto>,
    pub meetings: Vec<MeetingSummary>,
    pub created_at: Timestamp,
}

impl KernteamDto {
    pub fn summary(kernteam: &Kernteam, school: OrganisationSummary) -> Self {
        Self {
            id: kernteam.id,
            school,
            name: kernteam.name.clone(),
            members: Vec::new(),
            meetings: Vec::new(),
            created_at: kernteam.created_at.into(),
        }
    }
}

impl Example for KernteamDto {
    fn example() -> Self {
        Self {
            id: example_id(0x0b1),
            school: OrganisationSummary {
                id: example_id(0x001),
                kind: OrganisationKind::School,
                name: "Basisschool De Regenboog".into(),
            },
            name: "Kernteam De Regenboog".into(),
            members: vec![MemberDto::example()],
            meetings: vec![MeetingSummary {
                id: example_id(0x0b3),
                held_on: example_date(),
                kind: MeetingKind::Casuistry,
            }],
            created_at: example_time(),
        }
    }
}

/// The caller's kernteams.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct KernteamPage {
    pub items: Vec<KernteamDto>,
}

/// A guest for one meeting (Veilig Thuis, the Beschermtafel).
#[derive(Object, Deserialize)]
#[oai(rename_all = "camelCase", deny_unknown_fields)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InviteGuest {
    pub organisation_id: Uuid,
    #[oai(validator(min_length = 1, max_length = 200))]
    pub sub: String,
    #[oai(validator(min_length = 1, max_length = 200))]
    pub name: String,
    pub team_role: TeamRole,
}

/// An agenda item: anonymous (no `childId`; `ageBand`, concerns, question) or identified (a
/// child of your organisation, under consent for a case conference to every organisation in
/// the room).
#[derive(Object, Deserialize)]
#[oai(rename_all = "camelCase", deny_unknown_fields, example)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PresentItem {
    /// Only for an identified item: a child of your organisation.
    #[oai(skip_serializing_if_is_none)]
    pub child_id: Option<Uuid>,
    #[oai(skip_serializing_if_is_none)]
    pub age_band: Option<AgeBand>,
    #[oai(
        validator(min_length = 1, max_length = 50),
        skip_serializing_if_is_none
    )]
    pub school_group: Option<String>,
    #[oai(validator(min_items = 1, max_items = 13))]
    pub concerns: Vec<SignalCategory>,
    /// The question to the team. An anonymous item's text must not name the child: a number
    /// passing the 11-proef or a registered child's full name is refused (a safety net, not a
    /// guarantee).
    #[oai(validator(min_length = 1, max_length = 2000))]
    pub question: String,
}

impl Example for PresentItem {
    fn example() -> Self {
        Self {
            child_id: None,
            age_band: Some(AgeBand::Child),
            school_group: Some("groep 6".into()),
            concerns: vec![
                SignalCategory::BehaviourChange,
                SignalCategory::HygieneAndCare,
            ],
            question: "Een leerling is sinds de herfstvakantie stil en komt vaak zonder eten. \
                       Hoe gaan we het gesprek met de ouders aan?"
                .into(),
        }
    }
}

/// A meeting to schedule: its date, kind, guests and first agenda items.
#[derive(Object, Deserialize)]
#[oai(rename_all = "camelCase", deny_unknown_fields, example)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScheduleMeeting {
    pub held_on: NaiveDate,
    pub kind: MeetingKind,
    #[oai(default, validator(max_items = 20))]
    #[serde(default)]
    pub guests: Vec<InviteGuest>,
    #[oai(default, validator(max_items = 30))]
    #[serde(default)]
    pub items: Vec<PresentItem>,
}

impl Example for ScheduleMeeting {
    fn example() -> Self {
        Self {
            held_on: example_date(),
            kind: MeetingKind::Casuistry,
            guests: Vec::new(),
            items: vec![PresentItem::example()],
        }
    }
}

/// The child of an identified item, for the organisations its consent covers.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct PresentedChild {
    pub given_name: String,
    pub family_name: String,
    pub date_of_birth: NaiveDate,
}

/// An organisation's perspective on an item.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct PerspectiveDto {
    pub organisation_id: Uuid,
    pub notes: String,
    pub recorded_at: Timestamp,
}

impl PerspectiveDto {
    pub fn of(perspective: &Perspective) -> Self {
        Self {
            organisation_id: perspective.organisation_id,
            notes: perspective.notes.clone(),
            recorded_at: perspective.recorded_at.into(),
        }
    }
}

/// An action the team agreed.
#[derive(Object)]
#[oai(rename_all = "camelCase", example)]
pub struct ActionDto {
    pub id: Uuid,
    pub item_id: Uuid,
    pub owner_organisation_id: Uuid,
    pub owner_name: String,
    /// Absent when the item's content is withheld from your organisation.
    #[oai(skip_serializing_if_is_none)]
    pub description: Option<String>,
    pub due_on: NaiveDate,
    pub done: bool,
    #[oai(skip_serializing_if_is_none)]
    pub done_at: Option<Timestamp>,
}

impl ActionDto {
    pub fn of(action: &Action, content_visible: bool) -> Self {
        Self {
            id: action.id,
            item_id: action.item_id,
            owner_organisation_id: action.owner_organisation_id,
            owner_name: action.owner_name.clone(),
            description: content_visible.then(|| action.description.clone()),
            due_on: action.due_on,
            done: action.done_at.is_some(),
            done_at: action.done_at.map(Into::into),
        }
    }
}

impl Example for ActionDto {
    fn example() -> Self {
        Self {
            id: example_id(0x0b5),
            item_id: example_id(0x0b4),
            owner_organisation_id: example_id(0x001),
            owner_name: "Fatima El Amrani".into(),
            description: Some(
                "Startgesprek met de ouders op school, samen met de CJG-coach.".into(),
            ),
            due_on: example_date(),
            done: false,
            done_at: None,
        }
    }
}

/// An agenda item. When it is identified and no consent covers your organisation, only that
/// it exists is shown (`contentWithheld`; `concerns` and `perspectives` empty).
#[derive(Object)]
#[oai(rename_all = "camelCase", example)]
pub struct ItemDto {
    pub id: Uuid,
    pub meeting_id: Uuid,
    pub presenting_organisation_id: Uuid,
    pub identified: bool,
    pub content_withheld: bool,
    /// The presenting organisation's own child record.
    #[oai(skip_serializing_if_is_none)]
    pub child_id: Option<Uuid>,
    #[oai(skip_serializing_if_is_none)]
    pub child: Option<PresentedChild>,
    #[oai(skip_serializing_if_is_none)]
    pub age_band: Option<AgeBand>,
    #[oai(skip_serializing_if_is_none)]
    pub school_group: Option<String>,
    pub concerns: Vec<SignalCategory>,
    #[oai(skip_serializing_if_is_none)]
    pub question: Option<String>,
    /// The team's advice.
    #[oai(skip_serializing_if_is_none)]
    pub advice: Option<String>,
    pub perspectives: Vec<PerspectiveDto>,
    pub actions: Vec<ActionDto>,
}

impl Example for ItemDto {
    fn example() -> Self {
        let presented = PresentItem::example();
        Self {
            id: example_id(0x0b4),
            meeting_id: example_id(0x0b3),
            presenting_organisation_id: example_id(0x001),
            identified: false,
            content_withheld: false,
            child_id: None,
            child: None,
            age_band: presented.age_band,
            school_group: presented.school_group,
            concerns: presented.concerns,
            question: Some(presented.question),
            advice: Some("Startgesprek met de ouders op school; de CJG-coach sluit aan.".into()),
            perspectives: vec![PerspectiveDto {
                organisation_id: example_id(0x002),
                notes: "Gezin is bij ons niet bekend.".into(),
                recorded_at: example_time(),
            }],
            actions: vec![ActionDto::example()],
        }
    }
}

/// What the item shows a reader, decided by the policy.
pub struct ItemView<'a> {
    pub visible: bool,
    pub own: bool,
    pub child: Option<PresentedChild>,
    pub perspectives: Vec<&'a Perspective>,
    pub actions: Vec<&'a Action>,
}

pub fn render_item(item: &Item, view: ItemView<'_>) -> ItemDto {
    let shown = view.visible;
    ItemDto {
        id: item.id,
        meeting_id: item.meeting_id,
        presenting_organisation_id: item.presenting_organisation_id,
        identified: item.child_id.is_some(),
        content_withheld: !shown,
        child_id: item.child_id.filter(|_| view.own),
        child: view.child.filter(|_| shown),
        age_band: item.age_band.filter(|_| shown),
        school_group: item.school_group.clone().filter(|_| shown),
        concerns: if shown { item.concerns() } else { Vec::new() },
        question: shown.then(|| item.question.clone()),
        advice: item.advice.clone().filter(|_| shown),
        perspectives: if shown {
            view.perspectives
                .into_iter()
                .map(PerspectiveDto::of)
                .collect()
        } else {
            Vec::new()
        },
        actions: view
            .actions
            .into_iter()
            .map(|a| ActionDto::of(a, shown))
            .collect(),
    }
}

/// A meeting with its guests, agenda and the open actions carried over from earlier meetings.
#[derive(Object)]
#[oai(rename_all = "camelCase", example)]
pub struct MeetingDto {
    pub id: Uuid,
    pub kernteam_id: Uuid,
    pub held_on: NaiveDate,
    pub kind: MeetingKind,
    pub guests: Vec<MemberDto>,
    pub items: Vec<ItemDto>,
    /// Actions agreed at earlier meetings and not done yet: back on the agenda until done.
    pub carried_over_actions: Vec<ActionDto>,
}

impl Example for MeetingDto {
    fn example() -> Self {
        Self {
            id: example_id(0x0b3),
            kernteam_id: example_id(0x0b1),
            held_on: example_date(),
            kind: MeetingKind::Casuistry,
            guests: Vec::new(),
            items: vec![ItemDto::example()],
            carried_over_actions: Vec::new(),
        }
    }
}

/// Each member organisation's view of the item, in its own words.
#[derive(Object, Deserialize)]
#[oai(rename_all = "camelCase", deny_unknown_fields, example)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RecordPerspective {
    #[oai(validator(min_length = 1, max_length = 4000))]
    pub notes: String,
}

impl Example for RecordPerspective {
    fn example() -> Self {
        Self {
            notes: "Gezin is bij ons niet bekend; wel passend aanbod opvoedondersteuning.".into(),
        }
    }
}

/// The team's advice on the item.
#[derive(Object, Deserialize)]
#[oai(rename_all = "camelCase", deny_unknown_fields, example)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RecordAdvice {
    #[oai(validator(min_length = 1, max_length = 4000))]
    pub advice: String,
}

impl Example for RecordAdvice {
    fn example() -> Self {
        Self {
            advice: "Startgesprek met de ouders op school; de CJG-coach sluit aan.".into(),
        }
    }
}

/// An action the team agrees: who (organisation and person), what, by when.
#[derive(Object, Deserialize)]
#[oai(rename_all = "camelCase", deny_unknown_fields, example)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AgreeAction {
    pub owner_organisation_id: Uuid,
    #[oai(validator(min_length = 1, max_length = 200))]
    pub owner_name: String,
    #[oai(validator(min_length = 1, max_length = 1000))]
    pub description: String,
    pub due_on: NaiveDate,
}

impl Example for AgreeAction {
    fn example() -> Self {
        Self {
            owner_organisation_id: example_id(0x001),
            owner_name: "Fatima El Amrani".into(),
            description: "Startgesprek met de ouders op school, samen met de CJG-coach.".into(),
            due_on: example_date(),
        }
    }
}

/// The team's actions.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct ActionPage {
    pub items: Vec<ActionDto>,
}
