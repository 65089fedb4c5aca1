//! The joint case review (casusbespreking) of a closed report, for the ontwikkeltafel: either
//! side proposes, the other accepts or declines, each writes and releases its part, and once
//! both released it the review is readable by both — as JSON or as a printable document. Every
//! step is in the access log; another organisation sees nothing (404).

mod dto;
mod html;

use diesel_async::AsyncPgConnection;
use poem_openapi::{
    ApiResponse, OpenApi, ResponseContent,
    param::{Header, Path, Query},
    payload::{Html, Json},
};
use uuid::Uuid;

pub use dto::{CaseReview, CaseReviewPage};
use dto::{ProposeCaseReview, Sides, WriteReflections, render};

use crate::{
    api::{
        ApiTags,
        body::JsonBody,
        context::Ctx,
        etag,
        handoffs::summary_of,
        organisations::OrganisationSummary,
        paging::{self, decode_cursor},
        problem::{ApiResult, Change, Create, ReadMany, ReadOne},
    },
    audit::{Access, AccessAction},
    auth::{
        BearerAuth, Principal,
        policy::{self, Action},
    },
    db::{
        case_reviews::{self as queries, CaseReview as Stored, Part},
        handoffs as handoff_queries, kernteams as kernteam_queries,
        organisations as organisation_queries,
    },
    domain::{
        case_review::{
            self as rules, ProposeContext, ReviewAct, ReviewStatus, Side, StepContext, chronology,
        },
        refusal::Refusal,
    },
    effects::Effects,
    error::AppError,
    events::{Event, EventType},
};

#[derive(ApiResponse)]
pub enum ProposeResponse {
    /// Proposed: the other side accepts or declines it.
    #[oai(status = 201)]
    Created(
        Json<CaseReview>,
        #[oai(header = "Location")] String,
        #[oai(header = "ETag")] String,
    ),
}

#[derive(ApiResponse)]
pub enum ListResponse {
    /// The reviews your organisation is a side of.
    #[oai(status = 200)]
    Ok(Json<CaseReviewPage>),
}

#[derive(ResponseContent)]
pub enum CaseReviewContent {
    Json(Json<Box<CaseReview>>),
    Html(Html<String>),
}

#[derive(ApiResponse)]
pub enum GetResponse {
    /// The review: JSON, or with `Accept: text/html` a printable document for the
    /// ontwikkeltafel.
    #[oai(status = 200)]
    Ok(CaseReviewContent, #[oai(header = "ETag")] String),
    /// Unchanged since the ETag in `If-None-Match`.
    #[oai(status = 304)]
    NotModified(#[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum StepResponse {
    /// The review after the step.
    #[oai(status = 200)]
    Ok(Json<CaseReview>, #[oai(header = "ETag")] String),
}

/// A review with the caller's side, both parts and both organisations.
struct Loaded {
    review: Stored,
    side: Side,
    parts: Vec<Part>,
    school: OrganisationSummary,
    veilig_thuis: OrganisationSummary,
}

impl Loaded {
    fn render(&self) -> CaseReview {
        let sides = Sides {
            school: &self.school,
            veilig_thuis: &self.veilig_thuis,
        };
        render(&self.review, &self.parts, &sides, self.side)
    }

    fn part(&self, side: Side) -> Option<&Part> {
        self.parts.iter().find(|p| p.side == side)
    }
}

async fn load(
    conn: &mut AsyncPgConnection,
    principal: &Principal,
    id: Uuid,
    for_update: bool,
) -> Result<Loaded, AppError> {
    policy::require(principal, Action::ReviewCases)?;
    let review = queries::find(conn, id, for_update)
        .await?
        .ok_or_else(AppError::not_found)?;
    let side = policy::require_review_side(principal, review.school_id, review.veilig_thuis_id)?;
    with_parts(conn, review, side).await
}

/// The review with its parts and both organisations, for `side`.
async fn with_parts(
    conn: &mut AsyncPgConnection,
    review: Stored,
    side: Side,
) -> Result<Loaded, AppError> {
    let parts = queries::parts_of(conn, review.id).await?;
    let school = summary_of(conn, review.school_id).await?;
    let veilig_thuis = summary_of(conn, review.veilig_thuis_id).await?;
    Ok(Loaded {
        review,
        side,
        parts,
        school,
        veilig_thuis,
    })
}

/// The access-log entry, and the event both sides get.
fn effects(action: AccessAction, review: &Stored, event: Option<EventType>) -> Effects {
    let effects = Effects::new().access(Access::allowed(action, "case_review", review.id));
    match event {
        Some(event) => effects
            .event(Event::new(
                event,
                review.school_id,
                "case_review",
                review.id,
            ))
            .event(Event::new(
                event,
                review.veilig_thuis_id,
                "case_review",
                review.id,
            )),
        None => effects,
    }
}

/// The organisation's reviews of these handoffs as its side sees them, for a subject-access
/// export (pseudonymised data is still personal data).
pub async fn of_handoffs(
    conn: &mut AsyncPgConnection,
    principal: &Principal,
    handoffs: &[Uuid],
) -> Result<Vec<CaseReview>, AppError> {
    let mut rendered = Vec::new();
    for review in queries::of_handoffs(conn, principal.org_id(), handoffs).await? {
        if let Some(side) = policy::review_side(principal, review.school_id, review.veilig_thuis_id)
        {
            rendered.push(with_parts(conn, review, side).await?.render());
        }
    }
    Ok(rendered)
}

pub struct CaseReviewsApi;

#[OpenApi(tag = "ApiTags::CaseReviews")]
impl CaseReviewsApi {
    /// Propose a case review
    ///
    /// The school that sent a closed report to Veilig Thuis, or the Veilig Thuis that
    /// received it, proposes to look back on it together at the ontwikkeltafel. The other side
    /// accepts or declines; nothing is shared before both agree. A handoff that is not a
    /// closed report from a school to Veilig Thuis — or not yours — is 422
    /// `not-a-closed-report`; a report with a review proposed, agreed or released is 409
    /// `review-exists`. Care coordinators and Veilig Thuis workers.
    #[oai(
        path = "/case-reviews",
        method = "post",
        operation_id = "proposeCaseReview"
    )]
    async fn propose(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        body: JsonBody<ProposeCaseReview>,
    ) -> ApiResult<ProposeResponse, Create> {
        let principal = &auth.0;
        policy::require(principal, Action::ReviewCases)?;
        let actor = cx.actor(principal);
        let rendered = cx
            .db
            .transaction(async |conn| {
                // Another organisation's report looks like no report at all.
                let handoff = handoff_queries::find_for_party(
                    conn,
                    principal.org_id(),
                    body.0.handoff_id,
                    true,
                )
                .await?
                .ok_or(Refusal::NotAClosedReport)?;
                let organisations = organisation_queries::by_ids(
                    conn,
                    &[handoff.from_organisation_id, handoff.to_organisation_id],
                )
                .await?;
                let kind_of = |id| organisations.iter().find(|o| o.id == id).map(|o| o.kind);
                let (Some(sender), Some(recipient)) = (
                    kind_of(handoff.from_organisation_id),
                    kind_of(handoff.to_organisation_id),
                ) else {
                    return Err(Refusal::NotAClosedReport.into());
                };
                rules::decide_propose(&ProposeContext {
                    kind: handoff.kind,
                    status: handoff.status,
                    sender,
                    recipient,
                    open_review: queries::has_open(conn, handoff.id).await?,
                })?;
                let review =
                    queries::insert(conn, &handoff, principal.org_id(), &principal.sub).await?;
                effects(
                    AccessAction::Create,
                    &review,
                    Some(EventType::CaseReviewProposed),
                )
                .write(conn, actor)
                .await?;
                Ok(load(conn, principal, review.id, false).await?.render())
            })
            .await?;
        let tag = etag::of(&rendered);
        let location = format!("/v1/case-reviews/{}", rendered.id);
        Ok(ProposeResponse::Created(Json(rendered), location, tag))
    }

    /// Case reviews
    ///
    /// The reviews your organisation is a side of, newest first, in pages.
    #[oai(
        path = "/case-reviews",
        method = "get",
        operation_id = "listCaseReviews"
    )]
    async fn list(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// Page size: 1 to 200, default 50.
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<u32>>,
        /// `nextCursor` of the previous page.
        #[oai(validator(max_length = 500))]
        cursor: Query<Option<String>>,
    ) -> ApiResult<ListResponse, ReadMany> {
        let principal = &auth.0;
        policy::require(principal, Action::ReviewCases)?;
        let before: Option<Uuid> = decode_cursor(cursor.0.as_deref())?;
        let fetch = paging::fetch_size(limit.0);
        let actor = cx.actor(principal);
        let (items, next_cursor) = cx
            .db
            .transaction(async |conn| {
                let reviews =
                    queries::of_organisation(conn, principal.org_id(), before, fetch).await?;
                let (reviews, next_cursor) = paging::paginate(reviews, fetch, |r| r.id);
                let mut items = Vec::with_capacity(reviews.len());
                let mut accesses = Effects::new();
                for review in reviews {
                    let loaded = load(conn, principal, review.id, false).await?;
                    accesses = accesses.merge(effects(AccessAction::Read, &review, None));
                    items.push(loaded.render());
                }
                accesses.write(conn, actor).await?;
                Ok((items, next_cursor))
            })
            .await?;
        Ok(ListResponse::Ok(Json(CaseReviewPage {
            items,
            next_cursor,
        })))
    }

    /// A case review
    ///
    /// The review with your part (once agreed) and the other side's part (once both released
    /// theirs). With `Accept: text/html` a printable document for the ontwikkeltafel. Another
    /// organisation's review is 404.
    #[oai(
        path = "/case-reviews/:reviewId",
        method = "get",
        operation_id = "getCaseReview"
    )]
    async fn get(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The review's id.
        #[oai(name = "reviewId")]
        review_id: Path<Uuid>,
        /// `text/html` for the printable document; JSON otherwise.
        #[oai(name = "Accept")]
        accept: Header<Option<String>>,
        /// ETag of the copy the client holds.
        #[oai(name = "If-None-Match")]
        if_none_match: Header<Option<String>>,
    ) -> ApiResult<GetResponse, ReadOne> {
        let principal = &auth.0;
        let wants_html = accept.0.as_deref().is_some_and(|a| a.contains("text/html"));
        let action = if wants_html {
            AccessAction::Export
        } else {
            AccessAction::Read
        };
        let actor = cx.actor(principal);
        let loaded = cx
            .db
            .transaction(async |conn| {
                let loaded = load(conn, principal, review_id.0, false).await?;
                effects(action, &loaded.review, None)
                    .write(conn, actor)
                    .await?;
                Ok(loaded)
            })
            .await?;
        let rendered = loaded.render();
        let tag = etag::of(&rendered);
        if wants_html {
            return Ok(GetResponse::Ok(
                CaseReviewContent::Html(Html(html::document(&rendered))),
                tag,
            ));
        }
        if etag::none_match_hits(if_none_match.0.as_deref(), &tag) {
            return Ok(GetResponse::NotModified(tag));
        }
        Ok(GetResponse::Ok(
            CaseReviewContent::Json(Json(Box::new(rendered))),
            tag,
        ))
    }

    /// Accept a case review
    ///
    /// The side that did not propose it agrees (the proposer: 403). Each side's pseudonymised
    /// chronology is generated now from its own records: days relative to the report, event
    /// kinds, categories and statuses, roles — no names, BSN, dates of birth or free text.
    #[oai(
        path = "/case-reviews/:reviewId/acceptance",
        method = "post",
        operation_id = "acceptCaseReview"
    )]
    async fn accept(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The review's id.
        #[oai(name = "reviewId")]
        review_id: Path<Uuid>,
        /// ETag of the review the step is based on.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
    ) -> ApiResult<StepResponse, Change> {
        self.step(auth, cx, review_id.0, if_match.0, ReviewAct::Accept, None)
            .await
    }

    /// Decline a case review
    ///
    /// The side that did not propose it declines; nothing was shared. The report may be
    /// proposed for review again later.
    #[oai(
        path = "/case-reviews/:reviewId/declination",
        method = "post",
        operation_id = "declineCaseReview"
    )]
    async fn decline(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The review's id.
        #[oai(name = "reviewId")]
        review_id: Path<Uuid>,
        /// ETag of the review the step is based on.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
    ) -> ApiResult<StepResponse, Change> {
        self.step(auth, cx, review_id.0, if_match.0, ReviewAct::Decline, None)
            .await
    }

    /// Withdraw a case review
    ///
    /// Either side withdraws a proposed or agreed review before it is released (after: 409
    /// `invalid-transition`); parts written are no longer shown to anyone.
    #[oai(
        path = "/case-reviews/:reviewId/withdrawal",
        method = "post",
        operation_id = "withdrawCaseReview"
    )]
    async fn withdraw(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The review's id.
        #[oai(name = "reviewId")]
        review_id: Path<Uuid>,
        /// ETag of the review the step is based on.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
    ) -> ApiResult<StepResponse, Change> {
        self.step(auth, cx, review_id.0, if_match.0, ReviewAct::Withdraw, None)
            .await
    }

    /// Write your reflections
    ///
    /// Your side's reflections on an agreed review — what went well, what could be better,
    /// themes from the reference list `review-themes` — replacing what you wrote before, until
    /// you release your part. A valid BSN or the full name of a child registered at either
    /// side is 422 `not-anonymous` (`field` says where): a review speaks of roles.
    #[oai(
        path = "/case-reviews/:reviewId/reflections",
        method = "put",
        operation_id = "writeCaseReviewReflections"
    )]
    async fn reflect(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The review's id.
        #[oai(name = "reviewId")]
        review_id: Path<Uuid>,
        /// ETag of the review the reflections are based on.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
        body: JsonBody<WriteReflections>,
    ) -> ApiResult<StepResponse, Change> {
        self.step(
            auth,
            cx,
            review_id.0,
            if_match.0,
            ReviewAct::Write,
            Some(body.0),
        )
        .await
    }

    /// Release your part
    ///
    /// Your part (chronology and reflections) is final and, once the other side released
    /// theirs too, the review is readable by both. Without reflections: 422
    /// `reflections-required`.
    #[oai(
        path = "/case-reviews/:reviewId/release",
        method = "post",
        operation_id = "releaseCaseReviewPart"
    )]
    async fn release(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The review's id.
        #[oai(name = "reviewId")]
        review_id: Path<Uuid>,
        /// ETag of the review the release is based on.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
    ) -> ApiResult<StepResponse, Change> {
        self.step(auth, cx, review_id.0, if_match.0, ReviewAct::Release, None)
            .await
    }
}

impl CaseReviewsApi {
    async fn step(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        id: Uuid,
        if_match: Option<String>,
        act: ReviewAct,
        reflections: Option<WriteReflections>,
    ) -> ApiResult<StepResponse, Change> {
        let principal = &auth.0;
        policy::require(principal, Action::ReviewCases)?;
        let actor = cx.actor(principal);
        let rendered = cx
            .db
            .transaction(async |conn| {
                let loaded = load(conn, principal, id, true).await?;
                let review = &loaded.review;
                policy::require_review_act(loaded.side, review.proposed_by(), act)?;
                etag::check_if_match(if_match.as_deref(), &etag::of(&loaded.render()))?;
                let own = loaded.part(loaded.side);
                let plan = rules::decide_step(
                    act,
                    &StepContext {
                        status: review.status,
                        own_released: own.is_some_and(|p| p.released_at.is_some()),
                        other_released: loaded
                            .part(loaded.side.other())
                            .is_some_and(|p| p.released_at.is_some()),
                        own_written: own.is_some_and(|p| p.reflections().written()),
                    },
                )?;
                let org = principal.org_id();
                let by = (org, principal.sub.as_str());
                let event = match act {
                    ReviewAct::Accept => {
                        let handoff = queries::handoff_of(conn, review.handoff_id).await?;
                        let school = chronology(
                            handoff.sent_at,
                            queries::school_facts(conn, &handoff).await?,
                        );
                        let veilig_thuis = chronology(
                            handoff.sent_at,
                            queries::veilig_thuis_facts(conn, &handoff).await?,
                        );
                        // Serialising plain codes and numbers cannot fail.
                        let json = |lines| serde_json::to_value(lines).unwrap_or_default();
                        queries::insert_parts(
                            conn,
                            review,
                            [
                                (Side::School, json(school)),
                                (Side::VeiligThuis, json(veilig_thuis)),
                            ],
                        )
                        .await?;
                        queries::set_status(conn, review, plan.status, by).await?;
                        Some(EventType::CaseReviewAnswered)
                    }
                    ReviewAct::Decline => {
                        queries::set_status(conn, review, plan.status, by).await?;
                        Some(EventType::CaseReviewAnswered)
                    }
                    ReviewAct::Withdraw => {
                        queries::set_status(conn, review, plan.status, by).await?;
                        Some(EventType::CaseReviewWithdrawn)
                    }
                    ReviewAct::Write => {
                        let input = reflections.as_ref().ok_or_else(AppError::not_found)?;
                        let names = kernteam_queries::child_names(
                            conn,
                            &[review.school_id, review.veilig_thuis_id],
                        )
                        .await?;
                        let reflections = rules::check_reflections(
                            input.went_well.as_deref(),
                            input.could_be_better.as_deref(),
                            &names,
                        )?;
                        queries::write_part(
                            conn,
                            review.id,
                            org,
                            &reflections,
                            &input.themes,
                            &principal.sub,
                        )
                        .await?;
                        None
                    }
                    ReviewAct::Release => {
                        queries::release_part(conn, review.id, org, &principal.sub).await?;
                        if plan.status == ReviewStatus::Released {
                            queries::set_status(conn, review, plan.status, by).await?;
                            Some(EventType::CaseReviewReleased)
                        } else {
                            Some(EventType::CaseReviewPartReleased)
                        }
                    }
                };
                effects(AccessAction::Update, review, event)
                    .write(conn, actor)
                    .await?;
                Ok(load(conn, principal, id, false).await?.render())
            })
            .await?;
        let tag = etag::of(&rendered);
        Ok(StepResponse::Ok(Json(rendered), tag))
    }
}
