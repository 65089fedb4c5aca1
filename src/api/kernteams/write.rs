//! The kernteam's writes that take more than one rule: an agenda item (anonymity or consent per
//! organisation in the room) and a seat (member or guest).

use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::{
    dto::PresentItem,
    team::{Coverage, Team, item_access},
};
use crate::{
    audit::{Access, AccessAction, Actor},
    auth::Principal,
    db::{
        consents as consent_queries,
        kernteams::{self as queries, Item, NewItem, NewSeat},
        organisations as organisation_queries, partner_links as link_queries,
    },
    domain::kernteam::{self as rules, ItemContext, ItemInput, MemberContext},
    effects::Effects,
    error::AppError,
};

/// Decides and writes one agenda item at a meeting: the anonymity check against the presenting
/// organisation's children, or the consent check per organisation in the room. Returns the item
/// and the effects that record it (for an identified item: a disclosure per organisation).
pub async fn present(
    conn: &mut AsyncPgConnection,
    principal: &Principal,
    team: &Team,
    meeting: Uuid,
    input: &PresentItem,
) -> Result<(Item, Vec<Access>), AppError> {
    let presenter = principal.org_id();
    let (child_known, grants) = match input.child_id {
        Some(child) => {
            let known = crate::db::children::find(conn, presenter, child)
                .await?
                .is_some();
            (
                known,
                consent_queries::grants_for_child(conn, presenter, child).await?,
            )
        }
        None => (false, Vec::new()),
    };
    let names = if input.child_id.is_none() {
        queries::child_names(conn, &[presenter]).await?
    } else {
        Vec::new()
    };
    let audience = team.audience(meeting);
    let disclosures = rules::decide_item(
        &ItemInput {
            child: input.child_id,
            age_band: input.age_band,
            school_group: input.school_group.as_deref(),
            concerns: &input.concerns,
            question: &input.question,
        },
        &ItemContext {
            presenter,
            child_known,
            names: &names,
            audience: &audience,
            grants: &grants,
        },
    )?;
    let item = queries::insert_item(
        conn,
        &NewItem {
            meeting,
            presenter,
            child: input.child_id,
            age_band: input.age_band,
            school_group: input.school_group.as_deref(),
            concerns: &input.concerns,
            question: &input.question,
        },
        &principal.sub,
    )
    .await?;
    // The presenting organisation's own record: no consent is its basis.
    let own = Coverage {
        visible: true,
        consent: None,
    };
    let mut accesses = vec![item_access(AccessAction::Create, &item, &own)];
    if let Some(child) = item.child_id {
        accesses.extend(disclosures.iter().map(|(organisation, consent)| {
            Access::allowed(AccessAction::Disclose, "kernteam_item", item.id)
                .about_child(child)
                .disclosed_to(*organisation)
                .with_basis("consent", Some(*consent))
        }));
    }
    Ok((item, accesses))
}

/// The names the anonymity check looks for on an anonymous item: the children of the
/// presenting organisation and of the writer's.
pub async fn names_for(
    conn: &mut AsyncPgConnection,
    principal: &Principal,
    item: &Item,
) -> Result<Option<Vec<rules::ChildName>>, AppError> {
    if item.child_id.is_some() {
        return Ok(None);
    }
    let organisations = [item.presenting_organisation_id, principal.org_id()];
    Ok(Some(queries::child_names(conn, &organisations).await?))
}

pub async fn write(
    conn: &mut AsyncPgConnection,
    actor: Actor<'_>,
    effects: Effects,
) -> Result<(), AppError> {
    effects.write(conn, actor).await?;
    Ok(())
}

/// Decides a seat (a member, or a guest of one meeting): the organisation exists and is active,
/// a member's is the school or a confirmed partner, nobody sits twice.
pub async fn seat_one(
    conn: &mut AsyncPgConnection,
    team: &Team,
    seat: &NewSeat<'_>,
) -> Result<(), AppError> {
    let organisation = organisation_queries::find(conn, seat.organisation).await?;
    let confirmed_partner = link_queries::confirmed_partners(conn, team.kernteam.school_id)
        .await?
        .contains(&seat.organisation);
    let already_seated = team.seated.iter().any(|m| {
        m.organisation_id == seat.organisation && m.sub == seat.sub && m.meeting_id == seat.meeting
    });
    rules::decide_member(
        seat.name,
        seat.sub,
        &MemberContext {
            school: team.kernteam.school_id,
            organisation: organisation.map(|o| (o.id, o.kind, o.active)),
            confirmed_partner,
            already_seated,
            guest: seat.meeting.is_some(),
        },
    )?;
    Ok(())
}
