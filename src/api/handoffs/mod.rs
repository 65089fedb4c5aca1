//! Handoffs between organisations: advice requests, reports (meldingen), information requests
//! and responses, referrals and signals to the school — acknowledged, deadline-tracked, and
//! visible to sender and recipient only.
//!
//! Every handler loads (`load`), asks the policy and the one domain decision
//! (`domain::handoff::decide_*`), persists the plan with its records in one transaction
//! (`write`), and renders (`render`).

mod dto;
mod load;
mod render;
pub(crate) use render::{render as render_handoff, summary_of};
mod write;

use chrono::Utc;
use poem_openapi::{
    OpenApi,
    param::{Header, Path, Query},
    payload::Json,
};
use uuid::Uuid;

pub use dto::*;

use crate::{
    api::{
        ApiTags,
        body::{JsonBody, OptionalJsonBody},
        children::{load_own_child, render_child},
        context::Ctx,
        etag,
        paging::{self, decode_cursor},
        problem::{ApiResult, Change, Create, ReadMany, ReadOne},
    },
    audit::{Access, AccessAction},
    auth::{
        BearerAuth, Principal,
        policy::{self, Action, HandoffAct},
    },
    db::{
        children as child_queries,
        handoffs::{self as queries, Direction},
    },
    domain::handoff::{
        self as rules, ForwardContext, HandoffKind, HandoffStatus, IntakeContext, IntakePlan,
        Transition,
    },
    effects::Effects,
    error::AppError,
};

pub struct HandoffsApi;

#[OpenApi(prefix_path = "/handoffs", tag = "ApiTags::Handoffs")]
impl HandoffsApi {
    /// Send a handoff
    ///
    /// Sends a concern to another organisation, with its legal basis: an `advice_request` or a
    /// `report` (melding) to Veilig Thuis, an `information_request` from Veilig Thuis and the
    /// `information_response` to it, a `referral` from a school, a `signal_to_school` from a
    /// wijkteam, or — when a pupil changes school — the new school's `transfer_request` (naming
    /// the child by its `pupilNumber` at the previous school, or by BSN and date of birth) and
    /// the previous school's `school_transfer` in answer (the signals and `caseSummary` it
    /// selects, the case's state when sent from one, whether the parents were told; statutory,
    /// or on a named consent). The child's identifying data, guardians and the selected signals are copied
    /// into the handoff: the recipient sees that copy, never your live records. An advice
    /// request may be anonymous (an `ageBand` instead of a child). A report says whether the
    /// parents were informed, or why not. Refusals are 422 with a specific type:
    /// `route-not-allowed`, `unknown-recipient`, `recipient-inactive`, `unknown-child`,
    /// `unknown-signal`, `unknown-case`, `report-not-decided`, `unknown-request`,
    /// `consent-required`.
    #[oai(path = "/", method = "post", operation_id = "sendHandoff")]
    async fn send(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        body: JsonBody<CreateHandoff>,
    ) -> ApiResult<HandoffCreatedResponse, Create> {
        let principal = &auth.0;
        policy::require(principal, Action::SendHandoffs)?;
        let input = body.0;
        let actor = cx.actor(principal);
        let deadlines = cx.state.deadlines;
        let rendered = cx
            .db
            .transaction(async |conn| {
                let context =
                    load::send_context(conn, principal, &input, Utc::now(), deadlines).await?;
                let plan = rules::decide_send(&input.as_request(), &context)?;
                let stored = write::send(conn, actor, &input, plan).await?;
                render::render_one(conn, principal, &stored).await
            })
            .await?;
        let tag = etag::of(&rendered);
        let location = format!("/v1/handoffs/{}", rendered.id);
        Ok(HandoffCreatedResponse::Created(
            Json(rendered),
            location,
            tag,
        ))
    }

    /// List handoffs
    ///
    /// Handoffs your organisation sent (`direction=outgoing`) or received (`incoming`), or both;
    /// filter by `kind`, `status`, and `overdue=true` for those not acknowledged in time or
    /// whose safety assessment is late. Each handoff returned is access-logged.
    #[oai(path = "/", method = "get", operation_id = "listHandoffs")]
    #[allow(clippy::too_many_arguments)] // one argument per query parameter
    async fn list(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// Sent or received by your organisation.
        direction: Query<Option<DirectionFilter>>,
        kind: Query<Option<HandoffKind>>,
        status: Query<Option<HandoffStatus>>,
        /// Only overdue handoffs.
        overdue: Query<Option<bool>>,
        /// Only reports awaiting feedback: no status feedback yet, or the safety assessment late.
        #[oai(name = "awaitingFeedback")]
        awaiting_feedback: Query<Option<bool>>,
        /// Page size: 1 to 200, default 50.
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<u32>>,
        /// `nextCursor` of the previous page.
        #[oai(validator(max_length = 500))]
        cursor: Query<Option<String>>,
    ) -> ApiResult<ListHandoffsResponse, ReadMany> {
        let principal = &auth.0;
        policy::require(principal, Action::ReadHandoffs)?;
        let after: Option<Uuid> = decode_cursor(cursor.0.as_deref())?;
        let fetch = paging::fetch_size(limit.0);
        let filter = queries::Filter {
            direction: direction.0.map(|d| match d {
                DirectionFilter::Outgoing => Direction::Outgoing,
                DirectionFilter::Incoming => Direction::Incoming,
            }),
            kind: kind.0,
            status: status.0,
            overdue_at: (overdue.0 == Some(true)).then(Utc::now),
            awaiting_feedback_at: (awaiting_feedback.0 == Some(true)).then(Utc::now),
        };
        let actor = cx.actor(principal);
        let (items, next_cursor) = cx
            .db
            .transaction(async |conn| {
                let rows = queries::list(conn, principal.org_id(), &filter, after, fetch).await?;
                let (rows, next_cursor) = paging::paginate(rows, fetch, |h| h.id);
                let ids: Vec<Uuid> = rows.iter().map(|h| h.id).collect();
                let transitions = queries::transitions_of(conn, &ids).await?;
                let mut items = Vec::with_capacity(rows.len());
                for row in &rows {
                    items.push(render::render(conn, principal, row, &transitions).await?);
                }
                Effects::new()
                    .accesses(
                        rows.iter()
                            .map(|h| render::access(principal, AccessAction::Read, h)),
                    )
                    .write(conn, actor)
                    .await?;
                Ok((items, next_cursor))
            })
            .await?;
        Ok(ListHandoffsResponse::Ok(Json(HandoffPage {
            items,
            next_cursor,
        })))
    }

    /// Get a handoff
    ///
    /// One handoff your organisation sent or received. Any other organisation gets 404, as for
    /// an id that does not exist.
    #[oai(path = "/:id", method = "get", operation_id = "getHandoff")]
    async fn get(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The handoff's id.
        id: Path<Uuid>,
        /// ETag of the copy the client holds.
        #[oai(name = "If-None-Match")]
        if_none_match: Header<Option<String>>,
    ) -> ApiResult<GetHandoffResponse, ReadOne> {
        let principal = &auth.0;
        policy::require(principal, Action::ReadHandoffs)?;
        let actor = cx.actor(principal);
        let rendered = cx
            .db
            .transaction(async |conn| {
                let stored = load::visible(conn, principal, id.0, false).await?;
                Effects::new()
                    .access(render::access(principal, AccessAction::Read, &stored))
                    .write(conn, actor)
                    .await?;
                render::render_one(conn, principal, &stored).await
            })
            .await?;
        let tag = etag::of(&rendered);
        if etag::none_match_hits(if_none_match.0.as_deref(), &tag) {
            return Ok(GetHandoffResponse::NotModified(tag));
        }
        Ok(GetHandoffResponse::Ok(Json(rendered), tag))
    }

    /// Acknowledge receipt
    ///
    /// The recipient confirms it received the handoff (`sent` → `received`). For a report this
    /// starts Veilig Thuis's five working days for the safety assessment (`assessmentDueAt`).
    #[oai(
        path = "/:id/acknowledgement",
        method = "post",
        operation_id = "acknowledgeHandoff"
    )]
    async fn acknowledge(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The handoff's id.
        id: Path<Uuid>,
        /// ETag of the handoff the step is based on.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
        body: OptionalJsonBody<TransitionNote>,
    ) -> ApiResult<TransitionResponse, Change> {
        let step = Step::new(Transition::Acknowledge, id, if_match, body);
        take_step(&cx, &auth.0, step).await
    }

    /// Accept
    ///
    /// The recipient takes the handoff on (from `sent` or `received` → `accepted`).
    #[oai(
        path = "/:id/acceptance",
        method = "post",
        operation_id = "acceptHandoff"
    )]
    async fn accept(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The handoff's id.
        id: Path<Uuid>,
        /// ETag of the handoff the step is based on.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
        body: OptionalJsonBody<TransitionNote>,
    ) -> ApiResult<TransitionResponse, Change> {
        let step = Step::new(Transition::Accept, id, if_match, body);
        take_step(&cx, &auth.0, step).await
    }

    /// Decline
    ///
    /// The recipient declines the handoff (from `sent` or `received` → `declined`); `note` is
    /// the reason and is required.
    #[oai(
        path = "/:id/declination",
        method = "post",
        operation_id = "declineHandoff"
    )]
    async fn decline(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The handoff's id.
        id: Path<Uuid>,
        /// ETag of the handoff the step is based on.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
        body: OptionalJsonBody<TransitionNote>,
    ) -> ApiResult<TransitionResponse, Change> {
        let step = Step::new(Transition::Decline, id, if_match, body);
        take_step(&cx, &auth.0, step).await
    }

    /// Close
    ///
    /// The recipient closes an accepted handoff (`accepted` → `closed`); `note` is the outcome
    /// and is required.
    #[oai(path = "/:id/closure", method = "post", operation_id = "closeHandoff")]
    async fn close(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The handoff's id.
        id: Path<Uuid>,
        /// ETag of the handoff the step is based on.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
        body: OptionalJsonBody<TransitionNote>,
    ) -> ApiResult<TransitionResponse, Change> {
        let step = Step::new(Transition::Close, id, if_match, body);
        take_step(&cx, &auth.0, step).await
    }

    /// Withdraw
    ///
    /// The sender withdraws the handoff before the recipient accepted it (from `sent` or
    /// `received` → `withdrawn`); `note` says why.
    #[oai(
        path = "/:id/withdrawal",
        method = "post",
        operation_id = "withdrawHandoff"
    )]
    async fn withdraw(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The handoff's id.
        id: Path<Uuid>,
        /// ETag of the handoff the step is based on.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
        body: OptionalJsonBody<TransitionNote>,
    ) -> ApiResult<TransitionResponse, Change> {
        let step = Step::new(Transition::Withdraw, id, if_match, body);
        take_step(&cx, &auth.0, step).await
    }

    /// Remind the recipient
    ///
    /// The sender reminds the recipient of an open handoff (`sent`, `received` or `accepted`):
    /// `handoff.reminded` reaches the recipient, and the reminder stays on the handoff's
    /// history. At most once per `HANDOFF_REMINDER_INTERVAL_HOURS` (24): sooner is 409
    /// `reminder-too-soon` with `nextReminderAt`; a handoff no longer open is 409
    /// `invalid-transition`; the recipient reminding is 403.
    #[oai(
        path = "/:id/reminders",
        method = "post",
        operation_id = "remindHandoffRecipient"
    )]
    async fn remind(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The handoff's id.
        id: Path<Uuid>,
        /// ETag of the handoff the reminder is based on.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
        body: OptionalJsonBody<RemindHandoff>,
    ) -> ApiResult<TransitionResponse, Change> {
        let principal = &auth.0;
        policy::require(principal, Action::SendHandoffs)?;
        let note = body.into_inner().unwrap_or_default().note;
        let actor = cx.actor(principal);
        let interval = cx.state.deadlines.reminder_interval_hours;
        let rendered = cx
            .db
            .transaction(async |conn| {
                let stored = load::visible(conn, principal, id.0, true).await?;
                let current = render::render_one(conn, principal, &stored).await?;
                etag::check_if_match(if_match.0.as_deref(), &etag::of(&current))?;
                policy::require_handoff_party(
                    principal,
                    stored.from_organisation_id,
                    HandoffAct::Remind,
                )?;
                let last = queries::reminders_of(conn, &[stored.id])
                    .await?
                    .last()
                    .map(|r| r.at);
                let now = Utc::now();
                rules::decide_reminder(stored.status, last, note.as_deref(), interval, now)?;
                write::remind(conn, actor, &stored, note.as_deref(), now).await?;
                render::render_one(conn, principal, &stored).await
            })
            .await?;
        let tag = etag::of(&rendered);
        Ok(TransitionResponse::Ok(Json(rendered), tag))
    }

    /// Forward to another Veilig Thuis region
    ///
    /// A report or advice request reached the wrong region (the child lives elsewhere): the
    /// receiving Veilig Thuis forwards it, with a reason, to another `veilig_thuis`
    /// organisation. A new handoff from the same sender goes there with the same snapshot,
    /// message and legal basis; its deadlines start now. The original becomes `forwarded`;
    /// each names the other (`forwardedTo`, `forwardedFrom`). The sender gets `forwarded`
    /// status feedback naming the new region (no consent needed) and `handoff.sent` for the new
    /// handoff. Only from `sent`, `received` or `accepted` (else 409 `invalid-transition`);
    /// another kind, or a target that is no other Veilig Thuis region, is 422
    /// `forwarding-not-allowed`; the sender forwarding is 403.
    #[oai(
        path = "/:id/forwarding",
        method = "post",
        operation_id = "forwardHandoff"
    )]
    async fn forward(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The handoff's id.
        id: Path<Uuid>,
        /// ETag of the handoff the forwarding is based on.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
        body: JsonBody<ForwardHandoff>,
    ) -> ApiResult<TransitionResponse, Change> {
        let principal = &auth.0;
        policy::require(principal, Action::SendHandoffs)?;
        let input = body.0;
        let actor = cx.actor(principal);
        let deadlines = cx.state.deadlines;
        let rendered = cx
            .db
            .transaction(async |conn| {
                let stored = load::visible(conn, principal, id.0, true).await?;
                let current = render::render_one(conn, principal, &stored).await?;
                etag::check_if_match(if_match.0.as_deref(), &etag::of(&current))?;
                policy::require_handoff_party(
                    principal,
                    stored.from_organisation_id,
                    HandoffAct::Step(Transition::Forward),
                )?;
                let context = ForwardContext {
                    kind: stored.kind,
                    status: stored.status,
                    urgency: stored.urgency,
                    forwarder_id: principal.org_id(),
                    forwarder_name: current.to.name.clone(),
                    target: load::recipient(conn, input.to_organisation_id).await?,
                    now: Utc::now(),
                    deadlines,
                };
                let plan = rules::decide_forward(&input.reason, &context)?;
                let updated = write::forward(conn, actor, &stored, plan).await?;
                render::render_one(conn, principal, &updated).await
            })
            .await?;
        let tag = etag::of(&rendered);
        Ok(TransitionResponse::Ok(Json(rendered), tag))
    }

    /// Take the child in
    ///
    /// The recipient takes the handoff's child in as a child record of its own — identifying
    /// data and guardians from the snapshot — linked to the handoff. Idempotent: a second
    /// intake returns the same child (200). Only after acknowledging the handoff. A school
    /// transfer answering your transfer request links the pupil you named in it (200): nothing
    /// is copied over your own record.
    #[oai(
        path = "/:id/intake",
        method = "post",
        operation_id = "takeInHandoffChild"
    )]
    async fn intake(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The handoff's id.
        id: Path<Uuid>,
        body: OptionalJsonBody<Intake>,
    ) -> ApiResult<IntakeResponse, Create> {
        let principal = &auth.0;
        policy::require(principal, Action::RegisterChildren)?;
        policy::require(principal, Action::ReadHandoffs)?;
        let input = body.into_inner().unwrap_or_default();
        let actor = cx.actor(principal);
        let (child, guardians, created, flags) = cx
            .db
            .transaction(async |conn| {
                let stored = load::visible(conn, principal, id.0, true).await?;
                policy::require_handoff_party(
                    principal,
                    stored.from_organisation_id,
                    HandoffAct::TakeIn,
                )?;
                let snapshot = stored.snapshot().map_err(AppError::internal)?;
                let external_ref = rules::intake_ref(stored.id, input.external_ref.as_deref());
                let ref_taken_by =
                    child_queries::find_by_external_ref(conn, principal.org_id(), &external_ref)
                        .await?
                        .map(|c| c.id);
                let requested_for = load::requested_for(conn, principal, &stored).await?;
                let context = IntakeContext {
                    status: stored.status,
                    snapshot: &snapshot,
                    taken_in: stored.intake_child_id,
                    external_ref: &external_ref,
                    ref_taken_by,
                    requested_for,
                };
                let (child, created) = match rules::decide_intake(&context)? {
                    IntakePlan::Again(existing) => {
                        let child = load_own_child(conn, principal, existing).await?;
                        let read = Access::allowed(AccessAction::Read, "child", child.id)
                            .about_child(child.id);
                        Effects::new().access(read).write(conn, actor).await?;
                        (child, false)
                    }
                    IntakePlan::Link(own) => {
                        let child = load_own_child(conn, principal, own).await?;
                        write::link_intake(conn, actor, &stored, &child).await?;
                        (child, false)
                    }
                    IntakePlan::TakeIn { child, guardians } => {
                        let row =
                            write::take_in(conn, actor, &stored, &external_ref, child, guardians)
                                .await?;
                        (row, true)
                    }
                };
                let guardians = child_queries::guardians_of(conn, &[child.id]).await?;
                let flags = child_queries::lifecycle_flags_of(conn, child.id).await?;
                Ok((child, guardians, created, flags))
            })
            .await?;
        let rendered = render_child(principal, &child, &guardians, flags);
        let location = format!("/v1/children/{}", child.id);
        Ok(if created {
            IntakeResponse::Created(Json(rendered), location)
        } else {
            IntakeResponse::Ok(Json(rendered), location)
        })
    }
}

/// A lifecycle step as requested.
struct Step {
    transition: Transition,
    id: Uuid,
    if_match: Option<String>,
    note: Option<String>,
}

impl Step {
    fn new(
        transition: Transition,
        id: Path<Uuid>,
        if_match: Header<Option<String>>,
        body: OptionalJsonBody<TransitionNote>,
    ) -> Self {
        Self {
            transition,
            id: id.0,
            if_match: if_match.0,
            note: body.into_inner().unwrap_or_default().note,
        }
    }
}

/// One lifecycle step: the party's, from a status that allows it, on the version read.
async fn take_step(
    cx: &Ctx,
    principal: &Principal,
    step: Step,
) -> ApiResult<TransitionResponse, Change> {
    policy::require(principal, Action::SendHandoffs)?;
    let actor = cx.actor(principal);
    let deadlines = cx.state.deadlines;
    let rendered = cx
        .db
        .transaction(async |conn| {
            let stored = load::visible(conn, principal, step.id, true).await?;
            let current = render::render_one(conn, principal, &stored).await?;
            etag::check_if_match(step.if_match.as_deref(), &etag::of(&current))?;
            policy::require_handoff_party(
                principal,
                stored.from_organisation_id,
                HandoffAct::Step(step.transition),
            )?;
            let plan = rules::decide_step(
                step.transition,
                stored.kind,
                stored.status,
                step.note.as_deref(),
                Utc::now(),
                &deadlines,
            )?;
            let updated = write::step(conn, actor, &stored, step.transition, plan).await?;
            render::render_one(conn, principal, &updated).await
        })
        .await?;
    let tag = etag::of(&rendered);
    Ok(TransitionResponse::Ok(Json(rendered), tag))
}
