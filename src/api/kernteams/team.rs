//! Loading a kernteam as the caller may see it: the team, who sits in it, its meetings, and the
//! caller's seat (none: 404); and what an item shows the caller.

use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::{
    audit::{Access, AccessAction},
    auth::{
        Principal,
        policy::{self, Action, Seat},
    },
    db::{
        consents as consent_queries,
        kernteams::{self as queries, Item, Kernteam, Meeting, Member},
    },
    domain::kernteam::covering_consent,
    error::AppError,
};

pub struct Team {
    pub kernteam: Kernteam,
    /// Members and guests still seated.
    pub seated: Vec<Member>,
    pub meetings: Vec<Meeting>,
    pub seat: Seat,
}

impl Team {
    pub fn members(&self) -> impl Iterator<Item = &Member> {
        self.seated.iter().filter(|m| m.meeting_id.is_none())
    }

    pub fn guests(&self, meeting: Uuid) -> impl Iterator<Item = &Member> {
        self.seated
            .iter()
            .filter(move |m| m.meeting_id == Some(meeting))
    }

    /// The organisations in the room at a meeting: the school, the members' and the meeting's
    /// guests'.
    pub fn audience(&self, meeting: Uuid) -> Vec<Uuid> {
        let mut organisations = vec![self.kernteam.school_id];
        organisations.extend(
            self.members()
                .chain(self.guests(meeting))
                .map(|m| m.organisation_id),
        );
        organisations.sort_unstable();
        organisations.dedup();
        organisations
    }

    /// The meeting, if the caller attends it (else 404, as if it did not exist).
    pub fn meeting(&self, id: Uuid) -> Result<&Meeting, AppError> {
        self.meetings
            .iter()
            .find(|m| m.id == id && policy::may_attend(&self.seat, m.id))
            .ok_or_else(AppError::not_found)
    }
}

/// The kernteam as the caller sits in it; 403 for roles that take no part in kernteams, 404 when
/// the caller has no seat (another organisation's kernteam looks like none at all).
pub async fn load(
    conn: &mut AsyncPgConnection,
    principal: &Principal,
    id: Uuid,
) -> Result<Team, AppError> {
    policy::require(principal, Action::TakePartInKernteams)?;
    let kernteam = queries::find(conn, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let seated = queries::members(conn, id).await?;
    let seats: Vec<_> = seated.iter().map(Member::seat).collect();
    let seat = policy::kernteam_seat(principal, kernteam.school_id, &seats)
        .ok_or_else(AppError::not_found)?;
    let meetings = queries::meetings(conn, id).await?;
    Ok(Team {
        kernteam,
        seated,
        meetings,
        seat,
    })
}

/// The item of the team, at a meeting the caller attends (else 404).
pub async fn item<'t>(
    conn: &mut AsyncPgConnection,
    team: &'t Team,
    id: Uuid,
) -> Result<(Item, &'t Meeting), AppError> {
    let attended: Vec<Uuid> = team
        .meetings
        .iter()
        .filter(|m| policy::may_attend(&team.seat, m.id))
        .map(|m| m.id)
        .collect();
    let item = queries::items(conn, &attended)
        .await?
        .into_iter()
        .find(|i| i.id == id)
        .ok_or_else(AppError::not_found)?;
    let meeting = team.meeting(item.meeting_id)?;
    Ok((item, meeting))
}

/// Whether the caller sees an item's content, and the consent that lets them (none for an
/// anonymous item or the presenting organisation's own).
pub struct Coverage {
    pub visible: bool,
    pub consent: Option<Uuid>,
}

pub async fn coverage(
    conn: &mut AsyncPgConnection,
    principal: &Principal,
    item: &Item,
) -> Result<Coverage, AppError> {
    let consent = match item.child_id {
        Some(child) if item.presenting_organisation_id != principal.org_id() => {
            let grants =
                consent_queries::grants_for_child(conn, item.presenting_organisation_id, child)
                    .await?;
            covering_consent(&grants, principal.org_id())
        }
        _ => None,
    };
    Ok(Coverage {
        visible: policy::sees_item_content(
            principal,
            item.presenting_organisation_id,
            item.child_id.is_some(),
            consent,
        ),
        consent,
    })
}

/// The access-log entry for a look at (or a change of) an item: for an identified item about the
/// child, on the basis of the consent when the caller is not the presenting organisation.
pub fn item_access(action: AccessAction, item: &Item, coverage: &Coverage) -> Access {
    let access = Access::allowed(action, "kernteam_item", item.id);
    match (item.child_id, coverage.consent) {
        (Some(child), Some(consent)) => access
            .about_child(child)
            .with_basis("consent", Some(consent)),
        (Some(child), None) => access.about_child(child),
        (None, _) => access,
    }
}

/// The entries for looks at items' content: identified items only (an anonymous item holds no
/// child's data).
pub fn reads(item: &Item, coverage: &Coverage) -> Option<Access> {
    (item.child_id.is_some() && coverage.visible)
        .then(|| item_access(AccessAction::Read, item, coverage))
}
