//! Meldcode cases: the five steps, the afwegingskader, the lead (regiehouder) and agreements.
//! Each command's rules are decided in `domain::meldcode`; this module loads, asks, writes and
//! renders.

mod render;
mod request;
mod response;
mod write;

use chrono::Utc;
use poem_openapi::{
    OpenApi,
    param::{Header, Path, Query},
    payload::Json,
    types::MaybeUndefined,
};
use uuid::Uuid;

pub(crate) use render::render;
use render::{render_action, summarise};
pub use request::*;
pub use response::*;
use write::load_file;

use crate::{
    api::{
        ApiTags,
        body::{JsonBody, OptionalJsonBody},
        children::load_own_child,
        context::Ctx,
        etag,
        paging::{self, decode_cursor},
        problem::{ApiResult, Change, Create, ReadMany, ReadOne},
    },
    audit::{Access, AccessAction},
    auth::{
        BearerAuth,
        policy::{self, Action},
    },
    db::cases::{self as queries, CaseFile},
    domain::{
        meldcode::{
            self as rules, CaseContext, CaseStatus, ClosePlan, Lead,
            approval::{self, Proposal},
        },
        reference::Labelled,
    },
    effects::Effects,
    error::AppError,
    events::EventType,
};

const CASE: &str = "case";
const CASE_STEP: &str = "case_step";
const CASE_ACTION: &str = "case_action";

pub struct CasesApi;

#[OpenApi(tag = "ApiTags::Cases")]
impl CasesApi {
    /// Open a case
    ///
    /// Starts a meldcode path for a child of your organisation, led by the `lead` (regiehouder).
    /// With `signalIds`, step 1 is recorded at once. A child has at most one open case per
    /// organisation: a second answers 409 with the `existingId`. Care coordinators and youth
    /// workers only.
    #[oai(
        path = "/children/:id/cases",
        method = "post",
        operation_id = "openCase"
    )]
    async fn open(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The child's id.
        id: Path<Uuid>,
        body: JsonBody<OpenCase>,
    ) -> ApiResult<CaseCreatedResponse, Create> {
        let principal = &auth.0;
        policy::require(principal, Action::ManageCases)?;
        let input = body.0;
        let actor = cx.actor(principal);
        let file = cx
            .db
            .transaction(async |conn| {
                let child = load_own_child(conn, principal, id.0).await?;
                let open_case = queries::open_case_of(conn, principal.org_id(), child.id).await?;
                let signals = queries::signals_of_child(conn, child.id, &input.signal_ids).await?;
                let context = CaseContext {
                    open: true,
                    steps: &[],
                    open_agreements: 0,
                    child_signals: &signals,
                    guardians: &[],
                    known_organisations: &[],
                    proposals: &[],
                    four_eyes: false,
                    now: Utc::now(),
                };
                let first_step = rules::decide_open(
                    &input.lead.as_lead(),
                    &input.signal_ids,
                    open_case,
                    &context,
                )?;
                let case = write::open(conn, actor, child.id, &input.lead.as_lead()).await?;
                let file = write::reload(conn, case).await?;
                match first_step {
                    Some((step, plan)) => write::append_step(conn, actor, file, &step, plan).await,
                    None => Ok(file),
                }
            })
            .await?;
        let rendered = render(principal, &file);
        let tag = etag::of(&rendered);
        Ok(CaseCreatedResponse::Created(
            Json(rendered),
            format!("/v1/cases/{}", file.case.id),
            tag,
        ))
    }

    /// List cases
    ///
    /// Your organisation's cases, in the order they were opened; a teacher sees the cases of
    /// children they recorded signals about. Filter by `status`, `lead` (a `sub`), `childId`, and
    /// `overdueActions=true` for cases with an agreement past its due date. Each case returned is
    /// access-logged.
    #[oai(path = "/cases", method = "get", operation_id = "listCases")]
    #[allow(clippy::too_many_arguments)] // one argument per query parameter
    async fn list(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// Only open or closed cases.
        status: Query<Option<StatusFilter>>,
        /// Only cases led by this professional (`sub`).
        #[oai(validator(min_length = 1, max_length = 200))]
        lead: Query<Option<String>>,
        /// Only cases of this child.
        #[oai(name = "childId")]
        child_id: Query<Option<Uuid>>,
        /// Only cases with agreements past their due date and not done.
        #[oai(name = "overdueActions")]
        overdue_actions: Query<Option<bool>>,
        /// Page size: 1 to 200, default 50.
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<u32>>,
        /// `nextCursor` of the previous page.
        #[oai(validator(max_length = 500))]
        cursor: Query<Option<String>>,
    ) -> ApiResult<ListCasesResponse, ReadMany> {
        let principal = &auth.0;
        policy::require(principal, Action::ReadCases)?;
        let after: Option<Uuid> = decode_cursor(cursor.0.as_deref())?;
        let fetch = paging::fetch_size(limit.0);
        let filter = queries::Filter {
            status: status.0.map(|s| match s {
                StatusFilter::Open => CaseStatus::Open,
                StatusFilter::Closed => CaseStatus::Closed,
            }),
            lead: lead.0,
            child: child_id.0,
            overdue_on: (overdue_actions.0 == Some(true)).then(|| Utc::now().date_naive()),
        };
        let scope = policy::case_scope(principal);
        let actor = cx.actor(principal);
        let (files, next_cursor) = cx
            .db
            .transaction(async |conn| {
                let rows =
                    queries::list(conn, principal.org_id(), &scope, &filter, after, fetch).await?;
                let (rows, next_cursor) = paging::paginate(rows, fetch, |c| c.id);
                let files = queries::load_files(conn, rows).await?;
                Effects::new()
                    .accesses(files.iter().map(|f| {
                        Access::allowed(AccessAction::Read, CASE, f.case.id)
                            .about_child(f.case.child_id)
                    }))
                    .write(conn, actor)
                    .await?;
                Ok((files, next_cursor))
            })
            .await?;
        Ok(ListCasesResponse::Ok(Json(CasePage {
            items: files.iter().map(summarise).collect(),
            next_cursor,
        })))
    }

    /// Get a case
    ///
    /// The case with every step record (superseded ones included, marked), the agreements, the
    /// lead's history, and what the afwegingskader now requires. Teachers see it without the
    /// weighing's notes and the decision's rationale.
    #[oai(path = "/cases/:id", method = "get", operation_id = "getCase")]
    async fn get(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The case's id.
        id: Path<Uuid>,
        /// ETag of the copy the client holds.
        #[oai(name = "If-None-Match")]
        if_none_match: Header<Option<String>>,
    ) -> ApiResult<GetCaseResponse, ReadOne> {
        let principal = &auth.0;
        policy::require(principal, Action::ReadCases)?;
        let actor = cx.actor(principal);
        let file = cx
            .db
            .transaction(async |conn| {
                let file = load_file(conn, principal, id.0, false).await?;
                Effects::new()
                    .access(
                        Access::allowed(AccessAction::Read, CASE, file.case.id)
                            .about_child(file.case.child_id),
                    )
                    .write(conn, actor)
                    .await?;
                Ok(file)
            })
            .await?;
        let rendered = render(principal, &file);
        let tag = etag::of(&rendered);
        if etag::none_match_hits(if_none_match.0.as_deref(), &tag) {
            return Ok(GetCaseResponse::NotModified(tag));
        }
        Ok(GetCaseResponse::Ok(Json(rendered), tag))
    }

    /// Record a step
    ///
    /// Appends a step record, chosen by `step`: `signals_mapped` (1), `consultation` (2),
    /// `conversation` (3, or skipped with a reason), `weighing` (4: the five afwegingsvragen) or
    /// `decision` (5). A weighing needs mapped signals and a consultation (else 422
    /// `step-out-of-order`) and must reach a conclusion (else 422 `weighing-incomplete`). A
    /// decision needs a weighing and must be one it allows: 422 `report-required` names the
    /// question and answer that require a report, 422 `decision-not-allowed` the decisions that
    /// are allowed. Records are never changed: to correct one, send a new record with
    /// `supersedes` and `correctionReason`. With the four-eyes principle on, a decision is a
    /// proposal until a second professional approves it (`POST /v1/cases/{id}/approvals`);
    /// while one waits, another decision is 409 `approval-pending`.
    #[oai(
        path = "/cases/:id/steps",
        method = "post",
        operation_id = "recordCaseStep"
    )]
    async fn record_step(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The case's id.
        id: Path<Uuid>,
        /// ETag of the case the step is based on.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
        body: JsonBody<RecordStep>,
    ) -> ApiResult<CaseCreatedResponse, Change> {
        let principal = &auth.0;
        policy::require(principal, Action::ManageCases)?;
        let request = body.0.as_request();
        let actor = cx.actor(principal);
        let file = cx
            .db
            .transaction(async |conn| {
                let file = load_file(conn, principal, id.0, true).await?;
                etag::check_if_match(if_match.0.as_deref(), &etag::of(&render(principal, &file)))?;
                let found = write::lookups(conn, file.case.child_id, &request).await?;
                let four_eyes = write::four_eyes(conn, principal).await?;
                let proposals = file.proposals();
                let plan = rules::decide_step(
                    &request,
                    &context_of(&file, &found, &proposals, four_eyes),
                )?;
                write::append_step(conn, actor, file, &request, plan).await
            })
            .await?;
        let rendered = render(principal, &file);
        let tag = etag::of(&rendered);
        Ok(CaseCreatedResponse::Created(
            Json(rendered),
            format!("/v1/cases/{}", file.case.id),
            tag,
        ))
    }

    /// Hand over the lead
    ///
    /// Makes someone else the lead (regiehouder). The change, who made it and why, is kept in
    /// `leadHistory`, access-logged and on the child's timeline.
    #[oai(
        path = "/cases/:id/lead",
        method = "put",
        operation_id = "changeCaseLead"
    )]
    async fn change_lead(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The case's id.
        id: Path<Uuid>,
        /// ETag of the case the change is based on.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
        body: JsonBody<ChangeLead>,
    ) -> ApiResult<CaseResponse, Change> {
        let principal = &auth.0;
        policy::require(principal, Action::ManageCases)?;
        let input = body.0;
        let lead = Lead {
            sub: input.sub.clone(),
            name: input.name.clone(),
        };
        let actor = cx.actor(principal);
        let file = cx
            .db
            .transaction(async |conn| {
                let file = load_file(conn, principal, id.0, true).await?;
                etag::check_if_match(if_match.0.as_deref(), &etag::of(&render(principal, &file)))?;
                let current = Lead {
                    sub: file.case.lead_sub.clone(),
                    name: file.case.lead_name.clone(),
                };
                if !rules::decide_lead_change(&lead, &current, file.case.is_open())? {
                    return Ok(file);
                }
                let case = queries::change_lead(
                    conn,
                    &file.case,
                    &lead.sub,
                    &lead.name,
                    input.reason.as_deref(),
                    &principal.sub,
                )
                .await?;
                let summary = format!("Lead handed from {} to {}", current.name, case.lead_name);
                write::case_change(
                    principal,
                    &case,
                    AccessAction::Update,
                    EventType::CaseLeadChanged,
                    "case.lead_changed",
                    summary,
                )
                .write(conn, actor)
                .await?;
                write::reload(conn, case).await
            })
            .await?;
        let rendered = render(principal, &file);
        let tag = etag::of(&rendered);
        Ok(CaseResponse::Ok(Json(rendered), tag))
    }

    /// Agree an action
    ///
    /// Adds an agreement (afspraak) to the case: what, who (a professional or an organisation),
    /// and by when. `GET /cases?overdueActions=true` finds cases whose agreements are overdue.
    #[oai(
        path = "/cases/:id/actions",
        method = "post",
        operation_id = "createCaseAction"
    )]
    async fn create_action(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The case's id.
        id: Path<Uuid>,
        body: JsonBody<NewCaseAction>,
    ) -> ApiResult<ActionCreatedResponse, Create> {
        let principal = &auth.0;
        policy::require(principal, Action::ManageCases)?;
        let agreement = body.0.as_agreement();
        let today = Utc::now().date_naive();
        let actor = cx.actor(principal);
        let (case, action) = cx
            .db
            .transaction(async |conn| {
                let file = load_file(conn, principal, id.0, true).await?;
                let named: Vec<Uuid> = agreement.owner.organisation_id.into_iter().collect();
                let known = write::known_organisations(conn, &named).await?;
                rules::decide_agreement(&agreement, file.case.is_open(), &known, today)?;
                let action =
                    write::insert_action(conn, principal, file.case.id, &agreement, None).await?;
                write::action_effects(principal, &file.case, &action, AccessAction::Create)
                    .write(conn, actor)
                    .await?;
                Ok((file.case, action))
            })
            .await?;
        let rendered = render_action(&action, today);
        let tag = etag::of(&rendered);
        Ok(ActionCreatedResponse::Created(
            Json(rendered),
            format!("/v1/cases/{}/actions/{}", case.id, action.id),
            tag,
        ))
    }

    /// Change an action
    ///
    /// Changes an agreement, or marks it done with `doneAt` (`null` reopens it). Send `If-Match`
    /// with the agreement's ETag to refuse the change when someone else changed it meanwhile.
    #[oai(
        path = "/cases/:id/actions/:actionId",
        method = "patch",
        operation_id = "updateCaseAction"
    )]
    async fn update_action(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The case's id.
        id: Path<Uuid>,
        /// The agreement's id.
        #[oai(name = "actionId")]
        action_id: Path<Uuid>,
        /// ETag of the agreement the change is based on.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
        body: JsonBody<UpdateCaseAction>,
    ) -> ApiResult<ActionResponse, Change> {
        let principal = &auth.0;
        policy::require(principal, Action::ManageCases)?;
        let input = body.0;
        let owner = input.owner.as_ref().map(ActionOwner::as_owner);
        let now = Utc::now();
        let actor = cx.actor(principal);
        let action = cx
            .db
            .transaction(async |conn| {
                let file = load_file(conn, principal, id.0, true).await?;
                let current = file
                    .actions
                    .iter()
                    .find(|a| a.id == action_id.0)
                    .ok_or_else(AppError::not_found)?;
                etag::check_if_match(
                    if_match.0.as_deref(),
                    &etag::of(&render_action(current, now.date_naive())),
                )?;
                let named: Vec<Uuid> = owner.iter().filter_map(|o| o.organisation_id).collect();
                let known = write::known_organisations(conn, &named).await?;
                let done_at = match input.done_at {
                    MaybeUndefined::Value(t) => Some(t.0),
                    _ => None,
                };
                rules::decide_agreement_change(
                    input.description.as_deref(),
                    owner.as_ref(),
                    done_at,
                    file.case.is_open(),
                    &known,
                    now,
                )?;
                let action = queries::update_action(conn, current.id, &input.changes()).await?;
                write::action_effects(principal, &file.case, &action, AccessAction::Update)
                    .write(conn, actor)
                    .await?;
                Ok(action)
            })
            .await?;
        let rendered = render_action(&action, now.date_naive());
        let tag = etag::of(&rendered);
        Ok(ActionResponse::Ok(Json(rendered), tag))
    }

    /// Close a case
    ///
    /// Closes the case when the decision in force allows it: after `close` or `organise_help`
    /// at once; after `report` only once the report was sent to Veilig Thuis (else 422
    /// `report-not-sent`). Without a decision, 422 `decision-required`. With the four-eyes
    /// principle on, the closure is a proposal (the case stays open, `proposals` shows it)
    /// until a second professional approves it (`POST /v1/cases/{id}/approvals`).
    #[oai(
        path = "/cases/:id/closure",
        method = "post",
        operation_id = "closeCase"
    )]
    async fn close(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The case's id.
        id: Path<Uuid>,
        /// ETag of the case the closure is based on.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
        body: OptionalJsonBody<CloseCase>,
    ) -> ApiResult<CaseResponse, Change> {
        let principal = &auth.0;
        policy::require(principal, Action::ManageCases)?;
        let input = body.into_inner().unwrap_or_default();
        let actor = cx.actor(principal);
        let file = cx
            .db
            .transaction(async |conn| {
                let file = load_file(conn, principal, id.0, true).await?;
                etag::check_if_match(if_match.0.as_deref(), &etag::of(&render(principal, &file)))?;
                let decision = file.decision();
                let report = file.report.as_ref().map(|r| r.status);
                let four_eyes = write::four_eyes(conn, principal).await?;
                let plan = rules::decide_close(
                    file.case.is_open(),
                    decision,
                    report,
                    &file.proposals(),
                    four_eyes,
                )?;
                if plan == ClosePlan::Propose {
                    return write::propose_closure(conn, actor, &file.case, input.note.as_deref())
                        .await;
                }
                let case = queries::close(
                    conn,
                    file.case.id,
                    &principal.sub,
                    &principal.name,
                    input.note.as_deref(),
                )
                .await?;
                let summary = format!(
                    "Meldcode case closed ({})",
                    decision.map(|d| d.code()).unwrap_or_default()
                );
                write::case_change(
                    principal,
                    &case,
                    AccessAction::Update,
                    EventType::CaseClosed,
                    "case.closed",
                    summary,
                )
                .write(conn, actor)
                .await?;
                write::reload(conn, case).await
            })
            .await?;
        let rendered = render(principal, &file);
        let tag = etag::of(&rendered);
        Ok(CaseResponse::Ok(Json(rendered), tag))
    }

    /// Approve or reject a proposal
    ///
    /// With the four-eyes principle on (`fourEyes` in the organisation's settings), the
    /// meldcode decision (step 5) and a case closure are proposals: the decision is not in
    /// force — a report cannot be sent from the case (409 `approval-pending`) — and the case
    /// not closed until a second professional approves. The proposer's own verdict is 403; a
    /// rejection needs a `comment`; without a pending proposal, 409 `nothing-to-approve`.
    /// Rejected proposals stay on the case (`proposals`); the proposer then records a new
    /// decision or closure.
    #[oai(
        path = "/cases/:id/approvals",
        method = "post",
        operation_id = "approveCaseProposal"
    )]
    async fn approve(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The case's id.
        id: Path<Uuid>,
        /// ETag of the case the verdict is based on.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
        body: JsonBody<RecordApproval>,
    ) -> ApiResult<CaseResponse, Change> {
        let principal = &auth.0;
        policy::require(principal, Action::ManageCases)?;
        let input = body.0;
        let actor = cx.actor(principal);
        let file = cx
            .db
            .transaction(async |conn| {
                let file = load_file(conn, principal, id.0, true).await?;
                etag::check_if_match(if_match.0.as_deref(), &etag::of(&render(principal, &file)))?;
                let plan = approval::decide_approval(
                    &file.proposals(),
                    &principal.sub,
                    input.verdict,
                    input.comment.as_deref(),
                    file.case.is_open(),
                )?;
                write::give_verdict(conn, actor, &file.case, &plan, input.comment.as_deref()).await
            })
            .await?;
        let rendered = render(principal, &file);
        let tag = etag::of(&rendered);
        Ok(CaseResponse::Ok(Json(rendered), tag))
    }
}

/// The case as a step's rules see it.
fn context_of<'a>(
    file: &'a CaseFile,
    found: &'a write::Lookups,
    proposals: &'a [Proposal],
    four_eyes: bool,
) -> CaseContext<'a> {
    CaseContext {
        proposals,
        four_eyes,
        open: file.case.is_open(),
        steps: &file.steps,
        open_agreements: file.actions.iter().filter(|a| a.done_at.is_none()).count(),
        child_signals: &found.child_signals,
        guardians: &found.guardians,
        known_organisations: &found.known_organisations,
        now: Utc::now(),
    }
}
