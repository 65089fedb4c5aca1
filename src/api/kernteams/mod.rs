//! The kernteam: a school's care coordinator and the partners' professionals discuss pupils —
//! anonymously, or by name under consent for a case conference — each from their own
//! perspective, and follow up what they agreed.

mod dto;
mod render;
mod response;
mod team;
mod write;

use poem_openapi::{
    OpenApi,
    param::{Path, Query},
    payload::Json,
};
use uuid::Uuid;

use self::{
    dto::*,
    render::{render_meeting, render_one},
    response::*,
    team::{coverage, item_access},
    write::{names_for, present, seat_one, write},
};
use crate::{
    api::{
        ApiTags,
        body::JsonBody,
        context::Ctx,
        handoffs::summary_of as school_summary,
        problem::{ApiResult, Change, Create, ReadMany, ReadOne},
    },
    audit::{Access, AccessAction},
    auth::{
        BearerAuth,
        policy::{self, Action},
    },
    db::kernteams::{self as queries, NewAction, NewSeat},
    domain::kernteam::{self as rules, ActionInput},
    effects::Effects,
    error::AppError,
    events::{Event, EventType},
};

const KERNTEAM: &str = "kernteam";

/// What a member adds to an item.
enum Contribution<'a> {
    /// The caller's organisation's perspective.
    Perspective(&'a str),
    /// The team's advice.
    Advice(&'a str),
}

/// A contribution to an item: at a meeting the caller attends, with the item's content in view,
/// passing the anonymity check on an anonymous item; access-logged.
async fn contribute(
    auth: &BearerAuth,
    cx: &Ctx,
    (id, item_id): (Uuid, Uuid),
    contribution: Contribution<'_>,
) -> Result<ItemDto, AppError> {
    let (field, text) = match contribution {
        Contribution::Perspective(notes) => ("notes", notes),
        Contribution::Advice(advice) => ("advice", advice),
    };
    let principal = &auth.0;
    let actor = cx.actor(principal);
    cx.db
        .transaction(async |conn| {
            let team = team::load(conn, principal, id).await?;
            let (item, _) = team::item(conn, &team, item_id).await?;
            let seen = coverage(conn, principal, &item).await?;
            policy::require_item_content(seen.visible)?;
            let names = names_for(conn, principal, &item).await?;
            rules::check_contribution(field, text, names.as_deref())?;
            let item = match contribution {
                Contribution::Advice(advice) => queries::set_advice(conn, item.id, advice).await?,
                Contribution::Perspective(notes) => {
                    queries::put_perspective(
                        conn,
                        item.id,
                        principal.org_id(),
                        notes,
                        &principal.sub,
                    )
                    .await?;
                    item
                }
            };
            let access = item_access(AccessAction::Update, &item, &seen);
            write(conn, actor, Effects::new().access(access)).await?;
            render_one(conn, principal, &team, &item).await
        })
        .await
}

pub struct KernteamsApi;

#[OpenApi(tag = "ApiTags::Kernteams")]
impl KernteamsApi {
    /// Convene a kernteam
    ///
    /// Your school's care coordinator convenes its kernteam and chairs it; members of the school
    /// and of its confirmed partners are added next. Not a school: 422 `not-a-school`.
    #[oai(path = "/kernteams", method = "post", operation_id = "createKernteam")]
    async fn create(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        body: JsonBody<CreateKernteam>,
    ) -> ApiResult<KernteamCreatedResponse, Create> {
        let principal = &auth.0;
        policy::require(principal, Action::ConveneKernteams)?;
        rules::decide_kernteam(principal.organisation.kind, &body.0.name)?;
        let actor = cx.actor(principal);
        let rendered = cx
            .db
            .transaction(async |conn| {
                let kernteam = queries::insert_kernteam(
                    conn,
                    principal.org_id(),
                    &body.0.name,
                    &principal.sub,
                )
                .await?;
                let chair = queries::insert_member(
                    conn,
                    &NewSeat {
                        kernteam: kernteam.id,
                        organisation: principal.org_id(),
                        sub: &principal.sub,
                        name: &principal.name,
                        team_role: rules::TeamRole::Chair,
                        meeting: None,
                    },
                    &principal.sub,
                )
                .await?;
                write(
                    conn,
                    actor,
                    Effects::new().access(Access::allowed(
                        AccessAction::Create,
                        KERNTEAM,
                        kernteam.id,
                    )),
                )
                .await?;
                let mut rendered = KernteamDto::summary(
                    &kernteam,
                    school_summary(conn, kernteam.school_id).await?,
                );
                rendered.members.push(MemberDto::of(&chair));
                Ok(rendered)
            })
            .await?;
        let location = format!("/v1/kernteams/{}", rendered.id);
        Ok(KernteamCreatedResponse::Created(Json(rendered), location))
    }

    /// Your kernteams
    ///
    /// Your school's kernteams (care coordinators) and those you sit in, as a member or a guest.
    #[oai(path = "/kernteams", method = "get", operation_id = "listKernteams")]
    async fn list(&self, auth: BearerAuth, cx: Ctx) -> ApiResult<KernteamsResponse, ReadMany> {
        let principal = &auth.0;
        policy::require(principal, Action::TakePartInKernteams)?;
        let mut conn = cx.state.pool.get().await?;
        let convenes =
            policy::allows(principal, Action::ConveneKernteams).then(|| principal.org_id());
        let kernteams =
            queries::of_professional(&mut conn, convenes, principal.org_id(), &principal.sub)
                .await?;
        let mut items = Vec::new();
        for kernteam in &kernteams {
            let school = school_summary(&mut conn, kernteam.school_id).await?;
            items.push(KernteamDto::summary(kernteam, school));
        }
        Ok(KernteamsResponse::Ok(Json(KernteamPage { items })))
    }

    /// A kernteam
    ///
    /// Its members and the meetings you attend (a guest: only theirs). Without a seat in it: 404.
    #[oai(path = "/kernteams/:id", method = "get", operation_id = "getKernteam")]
    async fn get(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The kernteam's id.
        id: Path<Uuid>,
    ) -> ApiResult<KernteamResponse, ReadOne> {
        let principal = &auth.0;
        let mut conn = cx.state.pool.get().await?;
        let team = team::load(&mut conn, principal, id.0).await?;
        let mut rendered = KernteamDto::summary(
            &team.kernteam,
            school_summary(&mut conn, team.kernteam.school_id).await?,
        );
        rendered.members = team.members().map(MemberDto::of).collect();
        rendered.meetings = team
            .meetings
            .iter()
            .filter(|m| policy::may_attend(&team.seat, m.id))
            .map(MeetingSummary::of)
            .collect();
        Ok(KernteamResponse::Ok(Json(rendered)))
    }

    /// Add a member
    ///
    /// The chair adds a professional of the school or of a partner organisation with a confirmed
    /// partner link (else 422 `not-a-partner`), by organisation and `sub`; they then act with
    /// their own organisation's token. Someone already seated: 409 `already-a-member`.
    #[oai(
        path = "/kernteams/:id/members",
        method = "post",
        operation_id = "addKernteamMember"
    )]
    async fn add_member(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The kernteam's id.
        id: Path<Uuid>,
        body: JsonBody<AddMember>,
    ) -> ApiResult<MemberAddedResponse, Change> {
        let principal = &auth.0;
        let input = body.0;
        let actor = cx.actor(principal);
        let member = cx
            .db
            .transaction(async |conn| {
                let team = team::load(conn, principal, id.0).await?;
                policy::require_convener(&team.seat)?;
                let seat = NewSeat {
                    kernteam: team.kernteam.id,
                    organisation: input.organisation_id,
                    sub: &input.sub,
                    name: &input.name,
                    team_role: input.team_role,
                    meeting: None,
                };
                seat_one(conn, &team, &seat).await?;
                let member = queries::insert_member(conn, &seat, &principal.sub).await?;
                write(
                    conn,
                    actor,
                    Effects::new().access(Access::allowed(
                        AccessAction::Create,
                        "kernteam_member",
                        member.id,
                    )),
                )
                .await?;
                Ok(member)
            })
            .await?;
        Ok(MemberAddedResponse::Created(Json(MemberDto::of(&member))))
    }

    /// Remove a member
    ///
    /// The chair removes a member (or a guest); what they contributed stays.
    #[oai(
        path = "/kernteams/:id/members/:memberId",
        method = "delete",
        operation_id = "removeKernteamMember"
    )]
    async fn remove_member(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The kernteam's id.
        id: Path<Uuid>,
        /// The member's id.
        #[oai(name = "memberId")]
        member_id: Path<Uuid>,
    ) -> ApiResult<MemberRemovedResponse, Change> {
        let principal = &auth.0;
        let actor = cx.actor(principal);
        cx.db
            .transaction(async |conn| {
                let team = team::load(conn, principal, id.0).await?;
                policy::require_convener(&team.seat)?;
                let removed = queries::remove_member(conn, team.kernteam.id, member_id.0)
                    .await?
                    .ok_or_else(AppError::not_found)?;
                write(
                    conn,
                    actor,
                    Effects::new().access(Access::allowed(
                        AccessAction::Update,
                        "kernteam_member",
                        removed.id,
                    )),
                )
                .await
            })
            .await?;
        Ok(MemberRemovedResponse::Removed)
    }

    /// Schedule a meeting
    ///
    /// The chair schedules a meeting (`introduction` or `casuistry`) with its guests — for this
    /// meeting only, from any organisation (Veilig Thuis, the Beschermtafel) — and its first
    /// agenda items, presented by your organisation. Every organisation in the room hears of it
    /// (`kernteam_meeting.scheduled`).
    #[oai(
        path = "/kernteams/:id/meetings",
        method = "post",
        operation_id = "scheduleKernteamMeeting"
    )]
    async fn schedule(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The kernteam's id.
        id: Path<Uuid>,
        body: JsonBody<ScheduleMeeting>,
    ) -> ApiResult<MeetingCreatedResponse, Change> {
        let principal = &auth.0;
        let input = body.0;
        let actor = cx.actor(principal);
        let rendered = cx
            .db
            .transaction(async |conn| {
                let mut team = team::load(conn, principal, id.0).await?;
                policy::require_convener(&team.seat)?;
                let meeting = queries::insert_meeting(
                    conn,
                    team.kernteam.id,
                    input.held_on,
                    input.kind,
                    &principal.sub,
                )
                .await?;
                team.meetings.push(meeting.clone());
                let mut effects = Effects::new().access(Access::allowed(
                    AccessAction::Create,
                    "kernteam_meeting",
                    meeting.id,
                ));
                for guest in &input.guests {
                    let seat = NewSeat {
                        kernteam: team.kernteam.id,
                        organisation: guest.organisation_id,
                        sub: &guest.sub,
                        name: &guest.name,
                        team_role: guest.team_role,
                        meeting: Some(meeting.id),
                    };
                    seat_one(conn, &team, &seat).await?;
                    team.seated
                        .push(queries::insert_member(conn, &seat, &principal.sub).await?);
                }
                for item in &input.items {
                    let (_, accesses) = present(conn, principal, &team, meeting.id, item).await?;
                    effects = effects.accesses(accesses);
                }
                for organisation in team.audience(meeting.id) {
                    effects = effects.event(Event::new(
                        EventType::KernteamMeetingScheduled,
                        organisation,
                        "kernteam_meeting",
                        meeting.id,
                    ));
                }
                // The convener's own look at what was just written needs no entry of its own.
                let (rendered, _) = render_meeting(conn, principal, &team, meeting.id).await?;
                write(conn, actor, effects).await?;
                Ok(rendered)
            })
            .await?;
        let location = format!("/v1/kernteams/{}/meetings/{}", id.0, rendered.id);
        Ok(MeetingCreatedResponse::Created(Json(rendered), location))
    }

    /// A meeting
    ///
    /// Its guests, its agenda and the open actions of earlier meetings. An identified item shows
    /// its content only to the presenting organisation and the organisations its consent for a
    /// case conference covers (others: `contentWithheld`); each look is access-logged.
    #[oai(
        path = "/kernteams/:id/meetings/:meetingId",
        method = "get",
        operation_id = "getKernteamMeeting"
    )]
    async fn meeting(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The kernteam's id.
        id: Path<Uuid>,
        /// The meeting's id.
        #[oai(name = "meetingId")]
        meeting_id: Path<Uuid>,
    ) -> ApiResult<MeetingResponse, ReadOne> {
        let principal = &auth.0;
        let actor = cx.actor(principal);
        let rendered = cx
            .db
            .transaction(async |conn| {
                let team = team::load(conn, principal, id.0).await?;
                let (rendered, reads) =
                    render_meeting(conn, principal, &team, meeting_id.0).await?;
                write(conn, actor, Effects::new().accesses(reads)).await?;
                Ok(rendered)
            })
            .await?;
        Ok(MeetingResponse::Ok(Json(rendered)))
    }

    /// Present an item
    ///
    /// Anyone at the meeting puts an item of their own organisation on its agenda: anonymous
    /// (an age band, concerns and the question; a BSN passing the 11-proef or the full name of
    /// a child registered at your organisation is 422 `not-anonymous` — a safety net, not a
    /// guarantee) or identified (`childId`: only under an active consent for a case conference
    /// to every other organisation in the room, else 422 `consent-required` naming them in
    /// `notCovered`).
    #[oai(
        path = "/kernteams/:id/meetings/:meetingId/items",
        method = "post",
        operation_id = "presentKernteamItem"
    )]
    async fn present_item(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The kernteam's id.
        id: Path<Uuid>,
        /// The meeting's id.
        #[oai(name = "meetingId")]
        meeting_id: Path<Uuid>,
        body: JsonBody<PresentItem>,
    ) -> ApiResult<ItemCreatedResponse, Change> {
        let principal = &auth.0;
        let actor = cx.actor(principal);
        let rendered = cx
            .db
            .transaction(async |conn| {
                let team = team::load(conn, principal, id.0).await?;
                let meeting = team.meeting(meeting_id.0)?.id;
                let (item, accesses) = present(conn, principal, &team, meeting, &body.0).await?;
                write(conn, actor, Effects::new().accesses(accesses)).await?;
                render_one(conn, principal, &team, &item).await
            })
            .await?;
        Ok(ItemCreatedResponse::Created(Json(rendered)))
    }

    /// Record your organisation's perspective
    ///
    /// Each organisation at the meeting gives its view of the item, in its own words; this
    /// replaces your organisation's earlier perspective. On an anonymous item the notes pass the
    /// same anonymity check.
    #[oai(
        path = "/kernteams/:id/items/:itemId/perspective",
        method = "put",
        operation_id = "recordKernteamPerspective"
    )]
    async fn perspective(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The kernteam's id.
        id: Path<Uuid>,
        /// The item's id.
        #[oai(name = "itemId")]
        item_id: Path<Uuid>,
        body: JsonBody<RecordPerspective>,
    ) -> ApiResult<ItemResponse, Change> {
        let notes = body.0.notes;
        let rendered = contribute(
            &auth,
            &cx,
            (id.0, item_id.0),
            Contribution::Perspective(&notes),
        )
        .await?;
        Ok(ItemResponse::Ok(Json(rendered)))
    }

    /// Record the team's advice
    ///
    /// What the team advises on the item; replaces earlier advice. On an anonymous item the
    /// advice passes the same anonymity check.
    #[oai(
        path = "/kernteams/:id/items/:itemId/advice",
        method = "put",
        operation_id = "recordKernteamAdvice"
    )]
    async fn advice(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The kernteam's id.
        id: Path<Uuid>,
        /// The item's id.
        #[oai(name = "itemId")]
        item_id: Path<Uuid>,
        body: JsonBody<RecordAdvice>,
    ) -> ApiResult<ItemResponse, Change> {
        let advice = body.0.advice;
        let rendered =
            contribute(&auth, &cx, (id.0, item_id.0), Contribution::Advice(&advice)).await?;
        Ok(ItemResponse::Ok(Json(rendered)))
    }

    /// Agree an action
    ///
    /// Who does what by when: the owner's organisation sits at the meeting (else 422
    /// `not-a-partner`); the due date is not before the meeting. Open actions come back on the
    /// agenda of later meetings until done; the owner's organisation hears of it
    /// (`kernteam_action.assigned`).
    #[oai(
        path = "/kernteams/:id/items/:itemId/actions",
        method = "post",
        operation_id = "agreeKernteamAction"
    )]
    async fn agree(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The kernteam's id.
        id: Path<Uuid>,
        /// The item's id.
        #[oai(name = "itemId")]
        item_id: Path<Uuid>,
        body: JsonBody<AgreeAction>,
    ) -> ApiResult<ActionCreatedResponse, Change> {
        let principal = &auth.0;
        let actor = cx.actor(principal);
        let input = body.0;
        let rendered = cx
            .db
            .transaction(async |conn| {
                let team = team::load(conn, principal, id.0).await?;
                let (item, meeting) = team::item(conn, &team, item_id.0).await?;
                let seen = coverage(conn, principal, &item).await?;
                policy::require_item_content(seen.visible)?;
                let names = names_for(conn, principal, &item).await?;
                rules::decide_action(
                    &ActionInput {
                        owner_organisation: input.owner_organisation_id,
                        owner_name: &input.owner_name,
                        description: &input.description,
                        due_on: input.due_on,
                    },
                    meeting.held_on,
                    &team.audience(meeting.id),
                    names.as_deref(),
                )?;
                let action = queries::insert_action(
                    conn,
                    &NewAction {
                        kernteam: team.kernteam.id,
                        item: item.id,
                        owner_organisation: input.owner_organisation_id,
                        owner_name: &input.owner_name,
                        description: &input.description,
                        due_on: input.due_on,
                    },
                    &principal.sub,
                )
                .await?;
                let access = Access {
                    resource_type: "kernteam_action",
                    resource_id: Some(action.id),
                    ..item_access(AccessAction::Create, &item, &seen)
                };
                let effects = Effects::new().access(access).event(Event::new(
                    EventType::KernteamActionAssigned,
                    action.owner_organisation_id,
                    "kernteam_action",
                    action.id,
                ));
                write(conn, actor, effects).await?;
                Ok(ActionDto::of(&action, true))
            })
            .await?;
        Ok(ActionCreatedResponse::Created(Json(rendered)))
    }

    /// The team's actions
    ///
    /// Every action agreed at the meetings you attend, by due date; `open=true` for those not
    /// done. An action on an identified item your organisation is not covered for shows no
    /// description.
    #[oai(
        path = "/kernteams/:id/actions",
        method = "get",
        operation_id = "listKernteamActions"
    )]
    async fn actions(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The kernteam's id.
        id: Path<Uuid>,
        /// Only actions not done yet.
        open: Query<Option<bool>>,
    ) -> ApiResult<ActionsResponse, ReadOne> {
        let principal = &auth.0;
        let actor = cx.actor(principal);
        let rendered = cx
            .db
            .transaction(async |conn| {
                let team = team::load(conn, principal, id.0).await?;
                let attended: Vec<Uuid> = team
                    .meetings
                    .iter()
                    .filter(|m| policy::may_attend(&team.seat, m.id))
                    .map(|m| m.id)
                    .collect();
                let items = queries::items(conn, &attended).await?;
                let actions =
                    queries::actions(conn, team.kernteam.id, open.0.unwrap_or(false)).await?;
                let mut rendered = Vec::new();
                let mut reads = Vec::new();
                for item in &items {
                    let of_item: Vec<_> = actions.iter().filter(|a| a.item_id == item.id).collect();
                    if of_item.is_empty() {
                        continue;
                    }
                    let seen = coverage(conn, principal, item).await?;
                    reads.extend(team::reads(item, &seen));
                    rendered.extend(of_item.into_iter().map(|a| ActionDto::of(a, seen.visible)));
                }
                rendered.sort_by_key(|a| (a.due_on, a.id));
                write(conn, actor, Effects::new().accesses(reads)).await?;
                Ok(rendered)
            })
            .await?;
        Ok(ActionsResponse::Ok(Json(ActionPage { items: rendered })))
    }

    /// Mark an action done
    ///
    /// Anyone at the meeting marks it done; it leaves the next meetings' agendas. Done already:
    /// 409 `invalid-transition`.
    #[oai(
        path = "/kernteams/:id/actions/:actionId/completion",
        method = "post",
        operation_id = "completeKernteamAction"
    )]
    async fn complete(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The kernteam's id.
        id: Path<Uuid>,
        /// The action's id.
        #[oai(name = "actionId")]
        action_id: Path<Uuid>,
    ) -> ApiResult<ActionResponse, Change> {
        let principal = &auth.0;
        let actor = cx.actor(principal);
        let rendered = cx
            .db
            .transaction(async |conn| {
                let team = team::load(conn, principal, id.0).await?;
                let action = queries::actions(conn, team.kernteam.id, false)
                    .await?
                    .into_iter()
                    .find(|a| a.id == action_id.0)
                    .ok_or_else(AppError::not_found)?;
                let (item, _) = team::item(conn, &team, action.item_id).await?;
                let seen = coverage(conn, principal, &item).await?;
                policy::require_item_content(seen.visible)?;
                rules::decide_completion(action.done_at.is_some())?;
                let action = queries::complete_action(conn, action.id, &principal.sub).await?;
                let access = Access {
                    resource_type: "kernteam_action",
                    resource_id: Some(action.id),
                    ..item_access(AccessAction::Update, &item, &seen)
                };
                write(conn, actor, Effects::new().access(access)).await?;
                Ok(ActionDto::of(&action, true))
            })
            .await?;
        Ok(ActionResponse::Ok(Json(rendered)))
    }
}

/// The items the organisation presented about its child, as it sees them — question, advice,
/// every perspective and action — for a subject-access export.
pub async fn items_of_child(
    conn: &mut diesel_async::AsyncPgConnection,
    organisation: uuid::Uuid,
    child: uuid::Uuid,
) -> Result<Vec<dto::ItemDto>, crate::error::AppError> {
    use crate::db::kernteams as queries;
    let items = queries::items_of_child(conn, organisation, child).await?;
    let ids: Vec<uuid::Uuid> = items.iter().map(|i| i.id).collect();
    let perspectives = queries::perspectives(conn, &ids).await?;
    let actions = queries::actions_of_items(conn, &ids).await?;
    Ok(items
        .iter()
        .map(|item| {
            dto::render_item(
                item,
                dto::ItemView {
                    visible: true,
                    own: true,
                    child: None,
                    perspectives: perspectives
                        .iter()
                        .filter(|p| p.item_id == item.id)
                        .collect(),
                    actions: actions.iter().filter(|a| a.item_id == item.id).collect(),
                },
            )
        })
        .collect())
}

pub use dto::ItemDto as KernteamItem;
