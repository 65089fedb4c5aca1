//! Policy: the single place that answers "may this principal do this (to that record)".
//!
//! Handlers ask here before they touch data; queries never decide. Refusals of a whole action
//! are 403 and say which role it needs. Refusals of one record of another organisation are 404
//! (see `error::AppError::not_found`), decided by the record-level functions below.

use uuid::Uuid;

use crate::{
    auth::Principal,
    domain::{
        case_review::{ReviewAct, ReviewStatus, Side},
        feedback::Audience,
        figures::{GroupBy, Scope},
        handoff::{Party, Transition},
        organisation::Role,
        partner_link::{LinkAct, LinkStatus},
        reference::Labelled,
        timeline::Visibility,
    },
    error::AppError,
};

/// Roles that work with all child records of their own organisation: the school's care
/// coordinator, the wijkteam's youth worker, Veilig Thuis staff, attendance officers.
pub const CASEWORK_ROLES: &[Role] = &[
    Role::CareCoordinator,
    Role::YouthWorker,
    Role::VtWorker,
    Role::AttendanceOfficer,
];

/// Roles that walk the meldcode and lead its cases: the school's care coordinator and the
/// wijkteam's youth worker (see [`walks_meldcode`]).
pub const MELDCODE_ROLES: &[Role] = &[Role::CareCoordinator, Role::YouthWorker];

/// Care coordinators of a school and youth workers of a wijkteam walk the meldcode here; youth
/// workers of kernteam partners (GGD, leerplicht) do not report to Veilig Thuis through schakel.
pub fn walks_meldcode(principal: &Principal) -> bool {
    principal.has(Role::CareCoordinator)
        || (principal.has(Role::YouthWorker)
            && principal.organisation.kind
                == crate::domain::organisation::OrganisationKind::Wijkteam)
}

/// Teachers record signals and see their own; casework roles see everything of their
/// organisation.
const SIGNAL_ROLES: &[Role] = &[
    Role::CareCoordinator,
    Role::YouthWorker,
    Role::VtWorker,
    Role::AttendanceOfficer,
    Role::Teacher,
];

/// An action on a kind of resource, decided by role alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Create, rename, recode, (de)activate organisations.
    ManageOrganisations,
    /// Read the organisation directory (everyone: a school must find its Veilig Thuis).
    ReadOrganisations,
    /// Set the own organisation's settings: its duty contact and the four-eyes principle.
    ConfigureOwnOrganisation,
    /// Register a child (a pupil or client) of the own organisation.
    RegisterChildren,
    /// Read the own organisation's children and their guardians.
    ReadChildren,
    /// Correct a child's identifying data and guardians.
    CorrectChildren,
    /// Record signals about the own organisation's children, and read them.
    RecordSignals,
    /// Open and walk meldcode cases, lead them, agree actions.
    ManageCases,
    /// Read cases (a teacher: of children they recorded signals about).
    ReadCases,
    /// Send handoffs to other organisations and move received ones through their lifecycle.
    SendHandoffs,
    /// Read the handoffs the organisation sent or received.
    ReadHandoffs,
    /// Ask and record consent of parents and/or child.
    RecordConsents,
    /// Read feedback sent to the organisation (a teacher: guidance addressed to school staff).
    ReadFeedback,
    /// Read the organisation's access log.
    ReadAccessLog,
    /// Manage the organisation's webhook subscriptions and their deliveries.
    ManageWebhooks,
    /// The data lifecycle: retention, legal holds, destruction requests, subject access.
    ManageDataLifecycle,
    /// Propose, confirm and end partner links (fixed faces per school).
    ManagePartnerLinks,
    /// Create a school's kernteam.
    ConveneKernteams,
    /// Sit in kernteams (as a member or a guest): casework roles.
    TakePartInKernteams,
    /// Read the timeliness figures (`GET /v1/figures`).
    ReadFigures,
    /// Propose, write and release joint case reviews of closed reports.
    ReviewCases,
}

impl Action {
    pub const ALL: [Action; 21] = [
        Action::ManageOrganisations,
        Action::ReadOrganisations,
        Action::ConfigureOwnOrganisation,
        Action::RegisterChildren,
        Action::ReadChildren,
        Action::CorrectChildren,
        Action::RecordSignals,
        Action::ManageCases,
        Action::ReadCases,
        Action::SendHandoffs,
        Action::ReadHandoffs,
        Action::RecordConsents,
        Action::ReadFeedback,
        Action::ReadAccessLog,
        Action::ManageWebhooks,
        Action::ManageDataLifecycle,
        Action::ManagePartnerLinks,
        Action::ConveneKernteams,
        Action::TakePartInKernteams,
        Action::ReadFigures,
        Action::ReviewCases,
    ];

    /// The roles that may perform the action; `None` means every authenticated principal.
    fn roles(self) -> Option<&'static [Role]> {
        match self {
            Action::ManageOrganisations => Some(&[Role::PlatformAdmin]),
            Action::ReadOrganisations => None,
            Action::ConfigureOwnOrganisation => Some(&[Role::OrgAdmin]),
            Action::RegisterChildren | Action::ReadChildren | Action::RecordSignals => {
                Some(SIGNAL_ROLES)
            }
            Action::CorrectChildren => Some(CASEWORK_ROLES),
            Action::ManageCases => Some(MELDCODE_ROLES),
            Action::ReadCases => Some(&[Role::CareCoordinator, Role::YouthWorker, Role::Teacher]),
            Action::SendHandoffs | Action::ReadHandoffs => Some(CASEWORK_ROLES),
            Action::RecordConsents => {
                Some(&[Role::CareCoordinator, Role::YouthWorker, Role::VtWorker])
            }
            Action::ReadFeedback => Some(SIGNAL_ROLES),
            Action::ReadAccessLog => Some(&[Role::PrivacyOfficer]),
            Action::ManageWebhooks => Some(&[Role::OrgAdmin]),
            Action::ManageDataLifecycle => Some(&[Role::PrivacyOfficer]),
            Action::ManagePartnerLinks => Some(&[Role::OrgAdmin, Role::CareCoordinator]),
            Action::ConveneKernteams => Some(&[Role::CareCoordinator]),
            Action::TakePartInKernteams => Some(CASEWORK_ROLES),
            Action::ReadFigures => Some(&[
                Role::CareCoordinator,
                Role::OrgAdmin,
                Role::PrivacyOfficer,
                Role::PlatformAdmin,
            ]),
            Action::ReviewCases => Some(&[Role::CareCoordinator, Role::VtWorker]),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Action::ManageOrganisations => "managing organisations",
            Action::ReadOrganisations => "reading the organisation directory",
            Action::ConfigureOwnOrganisation => "changing your organisation's settings",
            Action::RegisterChildren => "registering children",
            Action::ReadChildren => "reading children",
            Action::CorrectChildren => "correcting a child's data",
            Action::RecordSignals => "recording and reading signals",
            Action::ManageCases => "walking the meldcode (youth workers: of a wijkteam)",
            Action::ReadCases => "reading meldcode cases (youth workers: of a wijkteam)",
            Action::SendHandoffs => "sending and handling handoffs",
            Action::ReadHandoffs => "reading handoffs",
            Action::RecordConsents => "recording consent",
            Action::ReadFeedback => "reading feedback",
            Action::ReadAccessLog => "reading the access log",
            Action::ManageWebhooks => "managing webhooks",
            Action::ManageDataLifecycle => {
                "retention, legal holds, destruction requests and subject access"
            }
            Action::ManagePartnerLinks => "proposing, confirming and ending partner links",
            Action::ConveneKernteams => "convening a school's kernteam",
            Action::TakePartInKernteams => "taking part in kernteams",
            Action::ReadFigures => "reading the figures",
            Action::ReviewCases => "joint case reviews",
        }
    }
}

/// The role an action is taken in, for the record: a casework role before `teacher`.
pub fn acting_role(principal: &Principal, action: Action) -> Option<Role> {
    let granted = action.roles().unwrap_or(Role::ALL);
    CASEWORK_ROLES
        .iter()
        .chain(granted)
        .copied()
        .find(|role| granted.contains(role) && principal.has(*role))
}

/// Whether the principal does casework (sees all child records of the organisation).
pub fn does_casework(principal: &Principal) -> bool {
    principal.has_any(CASEWORK_ROLES)
}

/// The BSN is shown to casework roles only; a teacher has no statutory use for it.
pub fn may_see_bsn(principal: &Principal) -> bool {
    does_casework(principal)
}

/// Which signals of the organisation a principal sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignalScope {
    Organisation,
    RecordedBy { sub: String },
}

pub fn signal_scope(principal: &Principal) -> SignalScope {
    if does_casework(principal) {
        SignalScope::Organisation
    } else {
        SignalScope::RecordedBy {
            sub: principal.sub.clone(),
        }
    }
}

/// May the principal see (and correct) this signal? Another organisation's signal is never
/// visible; the caller answers 404 either way.
pub fn may_access_signal(principal: &Principal, organisation_id: Uuid, recorded_by: &str) -> bool {
    organisation_id == principal.org_id()
        && match signal_scope(principal) {
            SignalScope::Organisation => true,
            SignalScope::RecordedBy { sub } => sub == recorded_by,
        }
}

/// Which timeline entries of the organisation's children a principal sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimelineScope {
    All,
    /// Entries visible to the whole organisation, and the principal's own.
    OwnEntries {
        sub: String,
    },
}

pub fn timeline_scope(principal: &Principal) -> TimelineScope {
    if does_casework(principal) {
        TimelineScope::All
    } else {
        TimelineScope::OwnEntries {
            sub: principal.sub.clone(),
        }
    }
}

/// Signals appear on the timeline as the signals themselves do: to casework roles and their
/// recorder.
pub const SIGNAL_TIMELINE_VISIBILITY: Visibility = Visibility::Recorder;

/// Case events appear on the timeline for whoever may see the case.
pub const CASE_TIMELINE_VISIBILITY: Visibility = Visibility::Case;

/// Which cases of the organisation a principal sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseScope {
    Organisation,
    /// A teacher: cases of children they recorded a signal about.
    ChildrenWithSignalsBy {
        sub: String,
    },
}

pub fn case_scope(principal: &Principal) -> CaseScope {
    if walks_meldcode(principal) {
        CaseScope::Organisation
    } else {
        CaseScope::ChildrenWithSignalsBy {
            sub: principal.sub.clone(),
        }
    }
}

/// Which feedback items a reader sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedbackScope {
    /// The sender of the handoff, or casework roles at its end: all.
    All,
    /// A teacher: guidance addressed to school staff, about children they recorded signals for.
    StaffGuidanceFor { sub: String },
}

pub fn feedback_scope(principal: &Principal) -> FeedbackScope {
    if does_casework(principal) {
        FeedbackScope::All
    } else {
        FeedbackScope::StaffGuidanceFor {
            sub: principal.sub.clone(),
        }
    }
}

/// Which of the organisation's events a principal sees in the feed: events about the kinds of
/// records they may read; a teacher only about their own signals, and the cases and school-staff
/// guidance of children they recorded signals about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventScope {
    pub resource_types: Vec<&'static str>,
    /// Set for teachers: record-level scoping by the signals they recorded.
    pub signaller: Option<String>,
}

pub fn event_scope(principal: &Principal) -> EventScope {
    let readable = [
        ("organisation", Action::ReadOrganisations),
        ("child", Action::ReadChildren),
        ("signal", Action::RecordSignals),
        ("case", Action::ReadCases),
        ("handoff", Action::ReadHandoffs),
        ("consent", Action::RecordConsents),
        ("feedback", Action::ReadFeedback),
        ("webhook_subscription", Action::ManageWebhooks),
        ("legal_hold", Action::ManageDataLifecycle),
        ("destruction_request", Action::ManageDataLifecycle),
        ("partner_link", Action::ManagePartnerLinks),
        ("kernteam_meeting", Action::TakePartInKernteams),
        ("kernteam_action", Action::TakePartInKernteams),
        ("case_review", Action::ReviewCases),
    ];
    EventScope {
        resource_types: readable
            .into_iter()
            .filter(|(_, action)| allows(principal, *action))
            .map(|(resource, _)| resource)
            .collect(),
        signaller: (!does_casework(principal)).then(|| principal.sub.clone()),
    }
}

/// A subject-access export (AVG art. 15) shows the data subject everything the organisation
/// holds, as its casework sees it — with the BSN and the meldcode's notes — so the privacy
/// officer's export renders the records as the organisation's casework role would. Only the
/// export uses this view; what it withholds is decided in `domain::lifecycle` (withholding).
pub fn export_view(principal: &Principal) -> Principal {
    use crate::domain::organisation::OrganisationKind as K;
    let role = match principal.organisation.kind {
        K::School => Role::CareCoordinator,
        K::VeiligThuis => Role::VtWorker,
        _ => Role::YouthWorker,
    };
    Principal {
        roles: vec![role],
        ..principal.clone()
    }
}

/// Casework roles see that a legal hold or an undecided destruction request exists on a child
/// they may read (so nobody destroys or lets go of the file meanwhile); teachers do not.
pub fn may_see_lifecycle_status(principal: &Principal) -> bool {
    does_casework(principal)
}

/// The weighing's notes and the decision's rationale are for those who walk the meldcode;
/// teachers see the steps, answers and decision without them.
pub fn may_see_case_notes(principal: &Principal) -> bool {
    walks_meldcode(principal)
}

pub fn allows(principal: &Principal, action: Action) -> bool {
    match action {
        Action::ManageCases => walks_meldcode(principal),
        Action::ReadCases => walks_meldcode(principal) || principal.has(Role::Teacher),
        _ => match action.roles() {
            None => true,
            Some(roles) => principal.has_any(roles),
        },
    }
}

/// `Ok` when allowed, else a 403 naming the roles the action needs.
pub fn require(principal: &Principal, action: Action) -> Result<(), AppError> {
    if allows(principal, action) {
        return Ok(());
    }
    let needed: Vec<&str> = action
        .roles()
        .unwrap_or_default()
        .iter()
        .map(|r| r.as_str())
        .collect();
    Err(AppError::forbidden(format!(
        "{} requires the role {}",
        action.describe(),
        needed.join(" or ")
    )))
}

/// `Ok` for an administrator of the organisation `id` itself; the directory is public, so
/// another organisation's settings are a 403, not a 404.
pub fn require_own_organisation_admin(principal: &Principal, id: Uuid) -> Result<(), AppError> {
    require(principal, Action::ConfigureOwnOrganisation)?;
    if principal.org_id() == id {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "Only an organisation's own administrator changes its settings.",
        ))
    }
}

/// Who at the receiving organisation sees feedback on a child's timeline: guidance for all
/// school staff is for the teachers who recorded signals too; the rest is for casework.
pub fn feedback_visibility(audience: Audience) -> Visibility {
    match audience {
        Audience::SchoolStaff => CASE_TIMELINE_VISIBILITY,
        Audience::CareCoordinators => Visibility::Recorder,
    }
}

/// What one side of a handoff does to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandoffAct {
    /// A lifecycle step: the recipient acknowledges, accepts, declines and closes; the sender
    /// withdraws.
    Step(Transition),
    /// Taking the child in as a record of one's own: the recipient.
    TakeIn,
    /// Feedback (terugkoppeling) to the sender: the recipient.
    SendFeedback,
    /// A reminder to the recipient: the sender.
    Remind,
}

/// Which side of a handoff the principal's organisation is.
pub fn handoff_party(principal: &Principal, sender: Uuid) -> Party {
    if principal.org_id() == sender {
        Party::Sender
    } else {
        Party::Recipient
    }
}

/// `Ok` when the principal's side of the handoff (sent by `sender`) does `act`, else a 403. The
/// principal is already known to be a party: another organisation got 404 before.
pub fn require_handoff_party(
    principal: &Principal,
    sender: Uuid,
    act: HandoffAct,
) -> Result<(), AppError> {
    let party = handoff_party(principal, sender);
    let (needed, refusal) = match act {
        HandoffAct::Step(step) => (
            step.party(),
            format!(
                "Only the {} of a handoff makes its {}.",
                match step.party() {
                    Party::Sender => "sender",
                    Party::Recipient => "recipient",
                },
                step.code()
            ),
        ),
        HandoffAct::TakeIn => (
            Party::Recipient,
            "Only the recipient takes a handoff's child in.".to_owned(),
        ),
        HandoffAct::SendFeedback => (
            Party::Recipient,
            "Only the recipient of a handoff sends feedback on it.".to_owned(),
        ),
        HandoffAct::Remind => (
            Party::Sender,
            "Only the sender of a handoff reminds its recipient.".to_owned(),
        ),
    };
    if party == needed {
        Ok(())
    } else {
        Err(AppError::forbidden(refusal))
    }
}

/// Which side of a partner link the principal's organisation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkSide {
    School,
    Partner,
}

pub fn partner_link_side(principal: &Principal, school: Uuid, partner: Uuid) -> Option<LinkSide> {
    if principal.org_id() == school {
        Some(LinkSide::School)
    } else if principal.org_id() == partner {
        Some(LinkSide::Partner)
    } else {
        None
    }
}

/// A confirmed link is the school's public page of partners (every professional wondering whom
/// to ask sees it); a proposal or an ended link only its two sides.
pub fn may_see_partner_link(
    principal: &Principal,
    school: Uuid,
    partner: Uuid,
    status: LinkStatus,
) -> bool {
    status == LinkStatus::Confirmed || partner_link_side(principal, school, partner).is_some()
}

/// The school proposes: its administrator or care coordinator; another organisation's page is
/// 403 (the page is public, so not a 404).
pub fn require_school_side(principal: &Principal, school: Uuid) -> Result<(), AppError> {
    require(principal, Action::ManagePartnerLinks)?;
    if principal.org_id() == school {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "Only the school itself proposes its partner links.",
        ))
    }
}

/// The partner's administrator confirms or names someone else; either side ends (the school by
/// its administrator or care coordinator, the partner by its administrator).
pub fn require_partner_link_act(
    principal: &Principal,
    school: Uuid,
    partner: Uuid,
    act: LinkAct,
) -> Result<(), AppError> {
    require(principal, Action::ManagePartnerLinks)?;
    let side = partner_link_side(principal, school, partner);
    let allowed = match (act, side) {
        (LinkAct::Confirm | LinkAct::Replace, Some(LinkSide::Partner)) => {
            principal.has(Role::OrgAdmin)
        }
        (LinkAct::End, Some(LinkSide::School)) => true,
        (LinkAct::End, Some(LinkSide::Partner)) => principal.has(Role::OrgAdmin),
        _ => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(AppError::forbidden(match act {
            LinkAct::Confirm | LinkAct::Replace => {
                "Only the partner organisation's administrator confirms a link or names its contact."
            }
            LinkAct::End => "Only the school or the partner organisation ends a link.",
        }))
    }
}

/// Where the principal sits in a kernteam.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seat {
    /// The school's care coordinator: adds members, schedules meetings.
    Convener,
    Member,
    /// A guest of these meetings only.
    Guest(Vec<Uuid>),
}

/// One seat in a kernteam as stored: organisation, `sub`, and the meeting for a guest.
pub struct SeatRow<'a> {
    pub organisation: Uuid,
    pub sub: &'a str,
    pub meeting: Option<Uuid>,
}

/// The principal's seat in the kernteam of `school`, if any (none: the kernteam is a 404).
pub fn kernteam_seat(principal: &Principal, school: Uuid, seats: &[SeatRow<'_>]) -> Option<Seat> {
    if !allows(principal, Action::TakePartInKernteams) {
        return None;
    }
    if principal.org_id() == school && principal.has(Role::CareCoordinator) {
        return Some(Seat::Convener);
    }
    let mine = seats
        .iter()
        .filter(|s| s.organisation == principal.org_id() && s.sub == principal.sub);
    let mut meetings = Vec::new();
    for seat in mine {
        match seat.meeting {
            None => return Some(Seat::Member),
            Some(meeting) => meetings.push(meeting),
        }
    }
    (!meetings.is_empty()).then_some(Seat::Guest(meetings))
}

/// `Ok` for the convener, else a 403.
pub fn require_convener(seat: &Seat) -> Result<(), AppError> {
    if *seat == Seat::Convener {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "Only the school's care coordinator adds members and schedules meetings.",
        ))
    }
}

/// Members see every meeting; a guest only the meetings invited to.
pub fn may_attend(seat: &Seat, meeting: Uuid) -> bool {
    match seat {
        Seat::Convener | Seat::Member => true,
        Seat::Guest(meetings) => meetings.contains(&meeting),
    }
}

/// An identified item's content is for the presenting organisation and the organisations its
/// consent for a case conference covers; the others see that it exists.
pub fn sees_item_content(
    principal: &Principal,
    presenter: Uuid,
    identified: bool,
    covering_consent: Option<Uuid>,
) -> bool {
    !identified || principal.org_id() == presenter || covering_consent.is_some()
}

/// A change to an item (a perspective, advice, an action) needs its content in view.
pub fn require_item_content(visible: bool) -> Result<(), AppError> {
    if visible {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "No consent for a case conference covers your organisation for this item.",
        ))
    }
}

/// Whose figures a principal sees, grouped how, and beside what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FiguresView {
    pub scope: Scope,
    /// A school's comparison: its region's schools together.
    pub comparison: Option<Scope>,
}

/// An organisation sees its own figures by month; a school also its region's schools together
/// beside them; Veilig Thuis what it received per sending school; the platform administrator
/// everything, by month or per region. Another grouping is a 403.
pub fn figures_view(
    principal: &Principal,
    group_by: GroupBy,
    own_region: Option<&str>,
) -> Result<FiguresView, AppError> {
    use crate::domain::organisation::OrganisationKind as K;
    require(principal, Action::ReadFigures)?;
    let org = principal.org_id();
    let kind = principal.organisation.kind;
    let view = |scope| FiguresView {
        scope,
        comparison: None,
    };
    match (group_by, kind == K::Platform) {
        (GroupBy::Month, true) | (GroupBy::Region, true) => Ok(view(Scope::National)),
        (GroupBy::Month, false) => Ok(FiguresView {
            scope: Scope::Own(org),
            comparison: own_region
                .filter(|_| kind == K::School)
                .map(|r| Scope::SchoolsOfRegion(r.to_owned())),
        }),
        (GroupBy::School, false) if kind == K::VeiligThuis => {
            Ok(view(Scope::ReceivedFromSchools(org)))
        }
        (GroupBy::School, _) => Err(AppError::forbidden(
            "Figures per school are Veilig Thuis's, of the reports it received.",
        )),
        (GroupBy::Region, false) => Err(AppError::forbidden(
            "Figures per region are the platform administrator's.",
        )),
    }
}

/// The side a principal's organisation is on in a reviewed report: the school that sent it or
/// the Veilig Thuis that received it; `None` for every other organisation (it sees nothing).
pub fn review_side(principal: &Principal, school: Uuid, veilig_thuis: Uuid) -> Option<Side> {
    let org = principal.org_id();
    if org == school {
        Some(Side::School)
    } else if org == veilig_thuis {
        Some(Side::VeiligThuis)
    } else {
        None
    }
}

/// A case review is for its two sides' care coordinators and Veilig Thuis workers: the side, or
/// a 404 that looks like no review at all.
pub fn require_review_side(
    principal: &Principal,
    school: Uuid,
    veilig_thuis: Uuid,
) -> Result<Side, AppError> {
    require(principal, Action::ReviewCases)?;
    review_side(principal, school, veilig_thuis).ok_or_else(AppError::not_found)
}

/// Who sees a part of a review: while agreed, each side its own; once released, both sides
/// both; proposed, declined or withdrawn, nobody.
pub fn sees_review_part(status: ReviewStatus, side: Side, part: Side) -> bool {
    match status {
        ReviewStatus::Agreed => part == side,
        ReviewStatus::Released => true,
        ReviewStatus::Proposed | ReviewStatus::Declined | ReviewStatus::Withdrawn => false,
    }
}

/// The side that did not propose a review answers it; either side does the rest for itself.
pub fn require_review_act(side: Side, proposed_by: Side, act: ReviewAct) -> Result<(), AppError> {
    match act {
        ReviewAct::Accept | ReviewAct::Decline if side == proposed_by => Err(AppError::forbidden(
            "The other side answers the review you proposed.",
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::organisation::{OrganisationKind, OrganisationRef};
    use uuid::Uuid;

    fn principal(role: Role) -> Principal {
        let kind = OrganisationKind::ALL
            .iter()
            .copied()
            .find(|k| role.fits(*k))
            .expect("every role fits some kind");
        Principal {
            sub: "p".into(),
            name: "P".into(),
            organisation: OrganisationRef {
                id: Uuid::nil(),
                kind,
                name: "Org".into(),
                active: true,
            },
            roles: vec![role],
            acting_client: None,
        }
    }

    /// Every act on a handoff × both sides: the recipient moves it, takes the child in and
    /// sends feedback; only the sender withdraws.
    #[test]
    fn handoff_acts_by_party() {
        let me = principal(Role::VtWorker);
        let someone_else = Uuid::from_u128(1);
        let mut acts: Vec<(HandoffAct, Party)> = Transition::ALL
            .iter()
            .map(|&t| {
                let by = if t == Transition::Withdraw {
                    Party::Sender
                } else {
                    Party::Recipient
                };
                (HandoffAct::Step(t), by)
            })
            .collect();
        acts.push((HandoffAct::TakeIn, Party::Recipient));
        acts.push((HandoffAct::SendFeedback, Party::Recipient));
        for (act, by) in acts {
            for (sender, party) in [
                (me.org_id(), Party::Sender),
                (someone_else, Party::Recipient),
            ] {
                assert_eq!(handoff_party(&me, sender), party);
                let outcome = require_handoff_party(&me, sender, act);
                assert_eq!(outcome.is_ok(), party == by, "{act:?} by the {party:?}");
                if let Err(err) = outcome {
                    assert_eq!(err.status.as_u16(), 403);
                    assert!(err.detail.starts_with("Only the"), "{}", err.detail);
                }
            }
        }
    }

    /// Every role against every action: the matrix is the specification.
    #[test]
    fn casework_sees_lifecycle_status_and_the_export_renders_as_casework() {
        for role in Role::ALL {
            assert_eq!(
                may_see_lifecycle_status(&principal(*role)),
                CASEWORK_ROLES.contains(role),
                "{role:?}"
            );
        }
        let officer = principal(Role::PrivacyOfficer);
        let view = export_view(&officer);
        assert!(may_see_bsn(&view) && may_see_case_notes(&view));
        assert_eq!(view.org_id(), officer.org_id());
        assert_eq!(view.sub, officer.sub);
    }

    #[test]
    fn role_action_matrix() {
        use Action::*;
        use Role::*;
        let allowed: &[(Action, &[Role])] = &[
            (ManageOrganisations, &[PlatformAdmin]),
            (ReadOrganisations, Role::ALL),
            (
                RegisterChildren,
                &[
                    Teacher,
                    CareCoordinator,
                    YouthWorker,
                    VtWorker,
                    AttendanceOfficer,
                ],
            ),
            (
                ReadChildren,
                &[
                    Teacher,
                    CareCoordinator,
                    YouthWorker,
                    VtWorker,
                    AttendanceOfficer,
                ],
            ),
            (
                CorrectChildren,
                &[CareCoordinator, YouthWorker, VtWorker, AttendanceOfficer],
            ),
            (
                RecordSignals,
                &[
                    Teacher,
                    CareCoordinator,
                    YouthWorker,
                    VtWorker,
                    AttendanceOfficer,
                ],
            ),
            (ManageCases, &[CareCoordinator, YouthWorker]),
            (ReadCases, &[CareCoordinator, YouthWorker, Teacher]),
            (
                SendHandoffs,
                &[CareCoordinator, YouthWorker, VtWorker, AttendanceOfficer],
            ),
            (
                ReadHandoffs,
                &[CareCoordinator, YouthWorker, VtWorker, AttendanceOfficer],
            ),
            (RecordConsents, &[CareCoordinator, YouthWorker, VtWorker]),
            (
                ReadFeedback,
                &[
                    Teacher,
                    CareCoordinator,
                    YouthWorker,
                    VtWorker,
                    AttendanceOfficer,
                ],
            ),
            (ReadAccessLog, &[PrivacyOfficer]),
            (ManageWebhooks, &[OrgAdmin]),
            (ConfigureOwnOrganisation, &[OrgAdmin]),
            (ManageDataLifecycle, &[PrivacyOfficer]),
            (ManagePartnerLinks, &[OrgAdmin, CareCoordinator]),
            (ConveneKernteams, &[CareCoordinator]),
            (
                TakePartInKernteams,
                &[CareCoordinator, YouthWorker, VtWorker, AttendanceOfficer],
            ),
            (
                ReadFigures,
                &[CareCoordinator, OrgAdmin, PrivacyOfficer, PlatformAdmin],
            ),
            (ReviewCases, &[CareCoordinator, VtWorker]),
        ];
        assert_eq!(allowed.len(), Action::ALL.len());
        for (action, roles) in allowed {
            for &role in Role::ALL {
                assert_eq!(
                    allows(&principal(role), *action),
                    roles.contains(&role),
                    "{role} / {action:?}"
                );
            }
        }
    }

    #[test]
    fn only_the_own_administrator_changes_settings() {
        let admin = principal(Role::OrgAdmin);
        assert!(require_own_organisation_admin(&admin, admin.org_id()).is_ok());
        assert!(require_own_organisation_admin(&admin, Uuid::from_u128(99)).is_err());
        for &role in Role::ALL.iter().filter(|r| **r != Role::OrgAdmin) {
            let p = principal(role);
            assert!(
                require_own_organisation_admin(&p, p.org_id()).is_err(),
                "{role}"
            );
        }
    }

    #[test]
    fn signals_are_visible_to_casework_and_their_recorder() {
        let org = Uuid::nil();
        let other_org = Uuid::from_u128(1);
        for &role in Role::ALL {
            let p = principal(role);
            let casework = CASEWORK_ROLES.contains(&role);
            assert_eq!(
                may_access_signal(&p, org, "someone-else"),
                casework,
                "{role}"
            );
            assert!(may_access_signal(&p, org, &p.sub), "{role}: own signal");
            assert!(
                !may_access_signal(&p, other_org, &p.sub),
                "{role}: other organisation"
            );
            assert_eq!(may_see_bsn(&p), casework, "{role}: bsn");
            assert_eq!(
                timeline_scope(&p) == TimelineScope::All,
                casework,
                "{role}: timeline"
            );
            assert_eq!(
                feedback_scope(&p) == FeedbackScope::All,
                casework,
                "{role}: feedback"
            );
        }
    }

    #[test]
    fn case_scope_and_notes_follow_the_meldcode_roles() {
        for &role in Role::ALL {
            let p = principal(role);
            let walks_meldcode = matches!(role, Role::CareCoordinator | Role::YouthWorker);
            assert_eq!(
                case_scope(&p) == CaseScope::Organisation,
                walks_meldcode,
                "{role}"
            );
            assert_eq!(may_see_case_notes(&p), walks_meldcode, "{role}");
        }
    }

    #[test]
    fn only_wijkteam_youth_workers_walk_the_meldcode() {
        for &kind in OrganisationKind::ALL {
            let mut p = principal(Role::YouthWorker);
            if !Role::YouthWorker.fits(kind) {
                continue;
            }
            p.organisation.kind = kind;
            let expected = kind == OrganisationKind::Wijkteam;
            assert_eq!(allows(&p, Action::ManageCases), expected, "{kind}");
            assert_eq!(allows(&p, Action::ReadCases), expected, "{kind}");
            assert_eq!(
                case_scope(&p) == CaseScope::Organisation,
                expected,
                "{kind}"
            );
        }
    }

    #[test]
    fn event_scopes_follow_what_a_role_may_read() {
        let scope = |role| event_scope(&principal(role));
        assert_eq!(
            scope(Role::CareCoordinator).resource_types,
            [
                "organisation",
                "child",
                "signal",
                "case",
                "handoff",
                "consent",
                "feedback",
                "partner_link",
                "kernteam_meeting",
                "kernteam_action",
                "case_review"
            ]
        );
        assert_eq!(scope(Role::CareCoordinator).signaller, None);
        let teacher = scope(Role::Teacher);
        assert_eq!(
            teacher.resource_types,
            ["organisation", "child", "signal", "case", "feedback"]
        );
        assert_eq!(teacher.signaller.as_deref(), Some("p"));
        assert_eq!(
            scope(Role::VtWorker).resource_types,
            [
                "organisation",
                "child",
                "signal",
                "handoff",
                "consent",
                "feedback",
                "kernteam_meeting",
                "kernteam_action",
                "case_review"
            ]
        );
        assert_eq!(
            scope(Role::OrgAdmin).resource_types,
            ["organisation", "webhook_subscription", "partner_link"]
        );
        assert_eq!(
            scope(Role::PrivacyOfficer).resource_types,
            ["organisation", "legal_hold", "destruction_request"]
        );
        assert_eq!(scope(Role::PlatformAdmin).resource_types, ["organisation"]);
    }

    #[test]
    fn the_acting_role_prefers_casework() {
        let mut p = principal(Role::Teacher);
        assert_eq!(acting_role(&p, Action::RecordSignals), Some(Role::Teacher));
        p.roles = vec![Role::Teacher, Role::CareCoordinator];
        assert_eq!(
            acting_role(&p, Action::RecordSignals),
            Some(Role::CareCoordinator)
        );
        p.roles = vec![Role::PrivacyOfficer];
        assert_eq!(acting_role(&p, Action::RecordSignals), None);
    }

    #[test]
    fn refusal_names_the_needed_role() {
        let err = require(&principal(Role::OrgAdmin), Action::ManageOrganisations).unwrap_err();
        assert_eq!(err.status.as_u16(), 403);
        assert!(err.detail.contains("platform_admin"), "{}", err.detail);
    }

    /// Every act × side × role: the partner's administrator confirms and replaces; either side
    /// ends; a third organisation does nothing and sees only confirmed links.
    #[test]
    fn partner_link_acts() {
        let school = Uuid::from_u128(10);
        let partner = Uuid::from_u128(20);
        for role in [Role::OrgAdmin, Role::CareCoordinator, Role::YouthWorker] {
            for (org, side) in [
                (school, Some(LinkSide::School)),
                (partner, Some(LinkSide::Partner)),
                (Uuid::from_u128(30), None),
            ] {
                let mut p = principal(role);
                p.organisation.id = org;
                assert_eq!(partner_link_side(&p, school, partner), side);
                for act in LinkAct::ALL {
                    let manages = matches!(role, Role::OrgAdmin | Role::CareCoordinator);
                    let expected = manages
                        && match (act, side) {
                            (LinkAct::End, Some(LinkSide::School)) => true,
                            (_, Some(LinkSide::Partner)) => role == Role::OrgAdmin,
                            _ => false,
                        };
                    assert_eq!(
                        require_partner_link_act(&p, school, partner, act).is_ok(),
                        expected,
                        "{role} {side:?} {act:?}"
                    );
                }
                for &status in LinkStatus::ALL {
                    assert_eq!(
                        may_see_partner_link(&p, school, partner, status),
                        side.is_some() || status == LinkStatus::Confirmed
                    );
                }
                assert_eq!(
                    require_school_side(&p, school).is_ok(),
                    side == Some(LinkSide::School)
                        && matches!(role, Role::OrgAdmin | Role::CareCoordinator)
                );
            }
        }
    }

    #[test]
    fn kernteam_seats() {
        let school = Uuid::from_u128(10);
        let meeting = Uuid::from_u128(5);
        let mut coordinator = principal(Role::CareCoordinator);
        coordinator.organisation.id = school;
        assert_eq!(
            kernteam_seat(&coordinator, school, &[]),
            Some(Seat::Convener)
        );
        let coach = principal(Role::YouthWorker);
        let row = |meeting| SeatRow {
            organisation: coach.org_id(),
            sub: "p",
            meeting,
        };
        assert_eq!(kernteam_seat(&coach, school, &[]), None);
        assert_eq!(
            kernteam_seat(&coach, school, &[row(None)]),
            Some(Seat::Member)
        );
        let guest = kernteam_seat(&coach, school, &[row(Some(meeting))]).unwrap();
        assert_eq!(guest, Seat::Guest(vec![meeting]));
        assert!(may_attend(&guest, meeting) && !may_attend(&guest, Uuid::from_u128(6)));
        assert!(require_convener(&guest).is_err() && require_convener(&Seat::Convener).is_ok());
        // A seat of someone else at the same organisation is not the principal's.
        let other = SeatRow {
            organisation: coach.org_id(),
            sub: "q",
            meeting: None,
        };
        assert_eq!(kernteam_seat(&coach, school, &[other]), None);
        // Only casework roles sit in kernteams, whatever the rows say.
        let mut admin = principal(Role::OrgAdmin);
        admin.sub = "p".into();
        admin.organisation.id = coach.org_id();
        assert_eq!(kernteam_seat(&admin, school, &[row(None)]), None);
        for (identified, consent, presenter, sees) in [
            (false, None, Uuid::from_u128(1), true),
            (true, None, coach.org_id(), true),
            (true, Some(Uuid::from_u128(7)), Uuid::from_u128(1), true),
            (true, None, Uuid::from_u128(1), false),
        ] {
            assert_eq!(
                sees_item_content(&coach, presenter, identified, consent),
                sees
            );
        }
    }

    #[test]
    fn who_sees_which_figures() {
        use crate::domain::organisation::OrganisationKind as K;
        let member = |kind, role| {
            let mut p = principal(role);
            p.organisation.kind = kind;
            p
        };
        let school = member(K::School, Role::CareCoordinator);
        let own = figures_view(&school, GroupBy::Month, Some("Utrecht")).unwrap();
        assert_eq!(own.scope, Scope::Own(school.org_id()));
        assert_eq!(
            own.comparison,
            Some(Scope::SchoolsOfRegion("Utrecht".into()))
        );
        assert_eq!(
            figures_view(&school, GroupBy::Month, None)
                .unwrap()
                .comparison,
            None
        );
        let vt = member(K::VeiligThuis, Role::OrgAdmin);
        assert_eq!(
            figures_view(&vt, GroupBy::School, Some("Utrecht")).unwrap(),
            FiguresView {
                scope: Scope::ReceivedFromSchools(vt.org_id()),
                comparison: None
            }
        );
        let wijkteam = member(K::Wijkteam, Role::PrivacyOfficer);
        assert_eq!(
            figures_view(&wijkteam, GroupBy::Month, Some("Utrecht"))
                .unwrap()
                .comparison,
            None
        );
        let platform = member(K::Platform, Role::PlatformAdmin);
        assert_eq!(
            figures_view(&platform, GroupBy::Region, None)
                .unwrap()
                .scope,
            Scope::National
        );
        for (who, group_by) in [
            (&school, GroupBy::School),
            (&school, GroupBy::Region),
            (&vt, GroupBy::Region),
            (&wijkteam, GroupBy::School),
            (&platform, GroupBy::School),
        ] {
            assert!(figures_view(who, group_by, None).is_err(), "{group_by:?}");
        }
        let teacher = member(K::School, Role::Teacher);
        assert!(figures_view(&teacher, GroupBy::Month, None).is_err());
    }

    #[test]
    fn a_review_is_its_two_sides_and_the_other_side_answers() {
        let p = principal(Role::CareCoordinator);
        let (other, third) = (Uuid::from_u128(7), Uuid::from_u128(8));
        assert_eq!(review_side(&p, p.org_id(), other), Some(Side::School));
        assert_eq!(review_side(&p, other, p.org_id()), Some(Side::VeiligThuis));
        assert_eq!(review_side(&p, other, third), None);
        assert!(require_review_side(&p, other, third).is_err());
        assert!(require_review_side(&principal(Role::Teacher), p.org_id(), other).is_err());
        for act in [ReviewAct::Accept, ReviewAct::Decline] {
            assert!(require_review_act(Side::School, Side::School, act).is_err());
            assert!(require_review_act(Side::VeiligThuis, Side::School, act).is_ok());
        }
        for act in [ReviewAct::Withdraw, ReviewAct::Write, ReviewAct::Release] {
            assert!(require_review_act(Side::School, Side::School, act).is_ok());
        }
        use ReviewStatus as S;
        let (own, other) = (Side::School, Side::VeiligThuis);
        for (status, sees_own, sees_other) in [
            (S::Proposed, false, false),
            (S::Agreed, true, false),
            (S::Released, true, true),
            (S::Declined, false, false),
            (S::Withdrawn, false, false),
        ] {
            assert_eq!(sees_review_part(status, own, own), sees_own, "{status:?}");
            assert_eq!(
                sees_review_part(status, own, other),
                sees_other,
                "{status:?}"
            );
        }
    }
}
