//! A meeting as the caller may see it: identified items' content only where the policy allows,
//! open actions of earlier meetings carried over.

use std::collections::HashMap;

use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::{
    dto::*,
    team::{Team, coverage, reads},
};
use crate::{
    audit::Access,
    auth::{Principal, policy},
    db::kernteams::{self as queries, Item},
    error::AppError,
};

/// The meeting as the caller may see it, and the access-log entries of the identified items'
/// content shown.
pub async fn render_meeting(
    conn: &mut AsyncPgConnection,
    principal: &Principal,
    team: &Team,
    meeting: Uuid,
) -> Result<(MeetingDto, Vec<Access>), AppError> {
    let meeting = team.meeting(meeting)?;
    let earlier: Vec<Uuid> = team
        .meetings
        .iter()
        .filter(|m| m.held_on < meeting.held_on || m.id == meeting.id)
        .map(|m| m.id)
        .collect();
    let items = queries::items(conn, &earlier).await?;
    let item_ids: Vec<Uuid> = items.iter().map(|i| i.id).collect();
    let perspectives = queries::perspectives(conn, &item_ids).await?;
    let actions = queries::actions(conn, team.kernteam.id, false).await?;
    // The presented children by id: an agenda may bring the same child up twice.
    let children: HashMap<Uuid, (String, String, chrono::NaiveDate)> = {
        let ids: Vec<Uuid> = items.iter().filter_map(|i| i.child_id).collect();
        queries::presented_children(conn, &ids)
            .await?
            .into_iter()
            .map(|(id, given, family, born)| (id, (given, family, born)))
            .collect()
    };
    let mut accesses = Vec::new();
    let mut rendered_items = Vec::new();
    let mut carried_over = Vec::new();
    for item in &items {
        let seen = coverage(conn, principal, item).await?;
        let item_actions: Vec<_> = actions.iter().filter(|a| a.item_id == item.id).collect();
        if item.meeting_id != meeting.id {
            // Open actions of earlier meetings are back on this agenda until done.
            if policy::may_attend(&team.seat, item.meeting_id) {
                carried_over.extend(
                    item_actions
                        .iter()
                        .filter(|a| a.done_at.is_none())
                        .map(|a| ActionDto::of(a, seen.visible)),
                );
            }
            continue;
        }
        accesses.extend(reads(item, &seen));
        rendered_items.push(render_item(
            item,
            ItemView {
                visible: seen.visible,
                own: item.presenting_organisation_id == principal.org_id(),
                child: item
                    .child_id
                    .and_then(|c| children.get(&c))
                    .map(|(given, family, born)| PresentedChild {
                        given_name: given.clone(),
                        family_name: family.clone(),
                        date_of_birth: *born,
                    }),
                perspectives: perspectives
                    .iter()
                    .filter(|p| p.item_id == item.id)
                    .collect(),
                actions: item_actions,
            },
        ));
    }
    Ok((
        MeetingDto {
            id: meeting.id,
            kernteam_id: team.kernteam.id,
            held_on: meeting.held_on,
            kind: meeting.kind,
            guests: team.guests(meeting.id).map(MemberDto::of).collect(),
            items: rendered_items,
            carried_over_actions: carried_over,
        },
        accesses,
    ))
}

/// One item re-read after a change, as the caller sees it.
pub async fn render_one(
    conn: &mut AsyncPgConnection,
    principal: &Principal,
    team: &Team,
    item: &Item,
) -> Result<ItemDto, AppError> {
    let meeting = render_meeting(conn, principal, team, item.meeting_id)
        .await?
        .0;
    meeting
        .items
        .into_iter()
        .find(|i| i.id == item.id)
        .ok_or_else(AppError::not_found)
}
