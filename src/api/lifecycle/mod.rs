//! The data lifecycle, for the organisation's privacy officer (functionaris
//! gegevensbescherming): legal holds and what the retention rules reach (here), destruction
//! requests ([`destruction`]) and subject access ([`subject_access`]). The rules are decided in
//! `domain::lifecycle`; the purge itself is `db::lifecycle::purge`, run by `crate::retention`
//! and by a granted destruction request.

mod destruction;
mod dto;
mod html;
mod subject_access;

pub use destruction::DestructionRequestsApi;
pub use dto::*;
pub use subject_access::SubjectAccessApi;

use poem_openapi::{
    ApiResponse, OpenApi,
    param::{Header, Path, Query},
    payload::Json,
};
use uuid::Uuid;

use crate::{
    api::{
        ApiTags,
        body::JsonBody,
        children::load_own_child,
        context::Ctx,
        etag,
        paging::{self, decode_cursor},
        problem::{ApiResult, Change, ReadMany, ReadOne},
        shared::Professional,
    },
    audit::{Access, AccessAction},
    auth::{
        BearerAuth, Principal,
        policy::{self, Action},
    },
    db::lifecycle::{self as queries, NewHold},
    domain::{
        calendar::dutch_today,
        lifecycle::{Anchor, Hold, RecordClass, RetentionPolicy, decide_hold, retention_rule},
    },
    effects::Effects,
    error::AppError,
    events::{Event, EventType},
    retention,
};

const LEGAL_HOLD: &str = "legal_hold";

#[derive(ApiResponse)]
pub enum LegalHoldResponse {
    /// The child's legal hold.
    #[oai(status = 200)]
    Ok(Json<LegalHold>, #[oai(header = "ETag")] String),
    /// Unchanged since the ETag in `If-None-Match`.
    #[oai(status = 304)]
    NotModified(#[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum PlaceLegalHoldResponse {
    /// Placed (replacing the one before, if any).
    #[oai(status = 200)]
    Ok(Json<LegalHold>, #[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum LiftLegalHoldResponse {
    /// Lifted: the retention rules and destruction requests reach the child again.
    #[oai(status = 204)]
    Lifted,
}

#[derive(ApiResponse)]
pub enum LegalHoldListResponse {
    /// The holds placed and not lifted.
    #[oai(status = 200)]
    Ok(Json<LegalHoldList>),
}

#[derive(ApiResponse)]
pub enum RetentionDueResponse {
    /// What the next run reaches, by child id.
    #[oai(status = 200)]
    Ok(Json<RetentionDuePage>),
}

pub struct LifecycleApi;

#[OpenApi(tag = "ApiTags::DataLifecycle")]
impl LifecycleApi {
    /// A child's legal hold
    ///
    /// The hold placed on the child and not lifted; 404 when there is none. Privacy officers
    /// only (casework roles see `lifecycle.legalHold` on the child).
    #[oai(
        path = "/children/:id/legal-hold",
        method = "get",
        operation_id = "getLegalHold"
    )]
    async fn get(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The child's id.
        id: Path<Uuid>,
        /// ETag of the copy the client holds.
        #[oai(name = "If-None-Match")]
        if_none_match: Header<Option<String>>,
    ) -> ApiResult<LegalHoldResponse, ReadOne> {
        let principal = &auth.0;
        policy::require(principal, Action::ManageDataLifecycle)?;
        let actor = cx.actor(principal);
        let rendered = cx
            .db
            .transaction(async |conn| {
                let child = load_own_child(conn, principal, id.0).await?;
                let hold = queries::current_hold(conn, child.id)
                    .await?
                    .ok_or_else(AppError::not_found)?;
                hold_access(conn, actor, AccessAction::Read, child.id).await?;
                Ok(render_hold(&hold))
            })
            .await?;
        let tag = etag::of(&rendered);
        if etag::none_match_hits(if_none_match.0.as_deref(), &tag) {
            return Ok(LegalHoldResponse::NotModified(tag));
        }
        Ok(LegalHoldResponse::Ok(Json(rendered), tag))
    }

    /// Place a legal hold
    ///
    /// Blocks purging (the retention rules) and destroying (a granted destruction request) of
    /// everything about the child while a protection measure, court case or complaint runs:
    /// a reason, and optionally the last day it holds. Placing one replaces the current hold
    /// (which stays in the record, lifted). Privacy officers only. Send `If-Match` with the
    /// current hold's ETag to replace exactly that one.
    #[oai(
        path = "/children/:id/legal-hold",
        method = "put",
        operation_id = "placeLegalHold"
    )]
    async fn place(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The child's id.
        id: Path<Uuid>,
        /// ETag of the hold being replaced.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
        body: JsonBody<PlaceLegalHold>,
    ) -> ApiResult<PlaceLegalHoldResponse, Change> {
        let principal = &auth.0;
        policy::require(principal, Action::ManageDataLifecycle)?;
        let input = body.0;
        let actor = cx.actor(principal);
        let rendered = cx
            .db
            .transaction(async |conn| {
                let child = load_own_child(conn, principal, id.0).await?;
                let current = queries::current_hold(conn, child.id).await?;
                if let Some(current) = &current {
                    etag::check_if_match(if_match.0.as_deref(), &etag::of(&render_hold(current)))?;
                }
                let hold = decide_hold(&input.reason, input.until, dutch_today())?;
                queries::lift_hold(conn, child.id, &principal.sub, &principal.name).await?;
                let placed = queries::place_hold(
                    conn,
                    &NewHold {
                        id: Uuid::now_v7(),
                        organisation_id: principal.org_id(),
                        child_id: child.id,
                        reason: &input.reason,
                        until: hold.until,
                        placed_by_sub: &principal.sub,
                        placed_by_name: &principal.name,
                    },
                )
                .await?;
                hold_changed(conn, actor, EventType::LegalHoldPlaced, child.id).await?;
                Ok(render_hold(&placed))
            })
            .await?;
        let tag = etag::of(&rendered);
        Ok(PlaceLegalHoldResponse::Ok(Json(rendered), tag))
    }

    /// Lift a legal hold
    ///
    /// The retention rules and destruction requests reach the child again; the hold stays in
    /// the record, lifted. 404 when there is none. Privacy officers only.
    #[oai(
        path = "/children/:id/legal-hold",
        method = "delete",
        operation_id = "liftLegalHold"
    )]
    async fn lift(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The child's id.
        id: Path<Uuid>,
        /// ETag of the hold you mean to lift.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
    ) -> ApiResult<LiftLegalHoldResponse, Change> {
        let principal = &auth.0;
        policy::require(principal, Action::ManageDataLifecycle)?;
        let actor = cx.actor(principal);
        cx.db
            .transaction(async |conn| {
                let child = load_own_child(conn, principal, id.0).await?;
                let current = queries::current_hold(conn, child.id)
                    .await?
                    .ok_or_else(AppError::not_found)?;
                etag::check_if_match(if_match.0.as_deref(), &etag::of(&render_hold(&current)))?;
                queries::lift_hold(conn, child.id, &principal.sub, &principal.name).await?;
                hold_changed(conn, actor, EventType::LegalHoldLifted, child.id).await
            })
            .await?;
        Ok(LiftLegalHoldResponse::Lifted)
    }

    /// List legal holds
    ///
    /// The organisation's holds placed and not lifted, newest first (one per child at most).
    /// Privacy officers only; the read is logged per child.
    #[oai(path = "/legal-holds", method = "get", operation_id = "listLegalHolds")]
    async fn list(&self, auth: BearerAuth, cx: Ctx) -> ApiResult<LegalHoldListResponse, ReadMany> {
        let principal = &auth.0;
        policy::require(principal, Action::ManageDataLifecycle)?;
        let actor = cx.actor(principal);
        let holds = cx
            .db
            .transaction(async |conn| {
                let holds = queries::holds_of(conn, principal.org_id()).await?;
                Effects::new()
                    .accesses(holds.iter().map(|h| {
                        Access::allowed(AccessAction::Read, LEGAL_HOLD, h.child_id)
                            .about_child(h.child_id)
                    }))
                    .write(conn, actor)
                    .await?;
                Ok(holds)
            })
            .await?;
        Ok(LegalHoldListResponse::Ok(Json(LegalHoldList {
            items: holds.iter().map(render_hold).collect(),
        })))
    }

    /// What the retention rules reach
    ///
    /// The children whose file the next retention run purges — every record class's term has
    /// passed — and those it would but for a legal hold, by child id, with the term and the
    /// date it counts from. The run (`schakel retention run`, daily in every worker) applies
    /// the same rules on the same day. Ids only, no child data. Privacy officers only.
    #[oai(
        path = "/retention/due",
        method = "get",
        operation_id = "listRetentionDue"
    )]
    async fn due(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// Page size: 1 to 200, default 50.
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<u32>>,
        /// `nextCursor` of the previous page.
        #[oai(validator(max_length = 500))]
        cursor: Query<Option<String>>,
    ) -> ApiResult<RetentionDueResponse, ReadMany> {
        let principal = &auth.0;
        policy::require(principal, Action::ManageDataLifecycle)?;
        let after: Option<Uuid> = decode_cursor(cursor.0.as_deref())?;
        let fetch = paging::fetch_size(limit.0);
        let policy = cx.state.retention;
        let actor = cx.actor(principal);
        let (items, next_cursor) = cx
            .db
            .transaction(async |conn| {
                let candidates =
                    queries::retention_candidates(conn, Some(principal.org_id())).await?;
                let due: Vec<_> = retention::due_children(&candidates, &policy, dutch_today())
                    .into_iter()
                    .filter(|d| after.is_none_or(|after| d.child_id > after))
                    .take(usize::try_from(fetch).unwrap_or(usize::MAX))
                    .collect();
                let (due, next_cursor) = paging::paginate(due, fetch, |d| d.child_id);
                let items = due
                    .iter()
                    .filter_map(|d| {
                        let candidate = candidates.iter().find(|c| c.child_id == d.child_id)?;
                        render_due(&policy, principal, candidate, d)
                    })
                    .collect::<Vec<_>>();
                Effects::new()
                    .access(Access::unnamed(AccessAction::Read, "retention_due"))
                    .write(conn, actor)
                    .await?;
                Ok((items, next_cursor))
            })
            .await?;
        Ok(RetentionDueResponse::Ok(Json(RetentionDuePage {
            items,
            next_cursor,
        })))
    }
}

fn render_due(
    policy: &RetentionPolicy,
    principal: &Principal,
    candidate: &queries::RetentionCandidate,
    due: &retention::DueChild,
) -> Option<RetentionDue> {
    let rule = retention_rule(policy, principal.organisation.kind, RecordClass::Child)?;
    let (counted_from, anchor_date) = match rule.from {
        Anchor::LeftSchool => ("leftOn", candidate.left_on?),
        Anchor::CareEnded => ("careEndedOn", candidate.care_ended_on?),
    };
    Some(RetentionDue {
        child_id: due.child_id,
        due_on: due.due_on,
        term: RetentionTerm {
            years: rule.years,
            counted_from: counted_from.into(),
            anchor_date,
            until_age: rule.until_age,
        },
        blocked_by_legal_hold: due.held,
    })
}

pub(crate) fn render_hold(hold: &queries::LegalHold) -> LegalHold {
    LegalHold {
        child_id: hold.child_id,
        reason: hold.reason.clone(),
        until: hold.until,
        active: Hold { until: hold.until }.is_active(dutch_today()),
        placed_by: Professional {
            sub: hold.placed_by_sub.clone(),
            name: hold.placed_by_name.clone(),
        },
        placed_at: hold.placed_at.into(),
    }
}

async fn hold_access(
    conn: &mut diesel_async::AsyncPgConnection,
    actor: crate::audit::Actor<'_>,
    action: AccessAction,
    child: Uuid,
) -> Result<(), AppError> {
    Effects::new()
        .access(Access::allowed(action, LEGAL_HOLD, child).about_child(child))
        .write(conn, actor)
        .await?;
    Ok(())
}

/// A hold placed or lifted: its access-log entry and an event (the resource is the child's
/// hold, by the child's id).
async fn hold_changed(
    conn: &mut diesel_async::AsyncPgConnection,
    actor: crate::audit::Actor<'_>,
    event: EventType,
    child: Uuid,
) -> Result<(), AppError> {
    Effects::new()
        .access(Access::allowed(AccessAction::Update, LEGAL_HOLD, child).about_child(child))
        .event(Event::new(
            event,
            actor.principal.org_id(),
            LEGAL_HOLD,
            child,
        ))
        .write(conn, actor)
        .await?;
    Ok(())
}
