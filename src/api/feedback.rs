//! Feedback (terugkoppeling) from a handoff's recipient — typically Veilig Thuis — to its sender:
//! status news without consent, anything more only under an active consent, with read receipts.

use chrono::{NaiveDate, Utc};
use diesel_async::AsyncPgConnection;
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Header, Path, Query},
    payload::Json,
    types::Example,
};
use serde::Deserialize;
use uuid::Uuid;

use crate::{
    api::{
        ApiTags,
        body::JsonBody,
        context::Ctx,
        etag,
        organisations::OrganisationSummary,
        paging::{self, decode_cursor},
        problem::{ApiResult, Change, Create, ReadMany, ReadOne},
        shared::Professional,
        types::{Timestamp, example_id, example_time},
    },
    audit::{Access, AccessAction, Actor},
    auth::{
        BearerAuth, Principal,
        policy::{self, Action, FeedbackScope, HandoffAct},
    },
    db::{
        consents as consent_queries,
        feedback::{self as queries, Feedback as Stored},
        handoffs::{self as handoff_queries, Handoff},
        organisations as organisation_queries,
        timeline::TimelineEntry,
    },
    domain::{
        feedback::{
            self as rules, AssessmentOutcome, Audience, FeedbackCategory, FeedbackContext,
            FeedbackPlan, FeedbackRequest,
        },
        handoff::LegalBasis,
        reference::Labelled,
        timeline::Visibility,
    },
    effects::Effects,
    error::AppError,
    events::{Event, EventType},
};

const FEEDBACK: &str = "feedback";

/// Feedback to send.
#[derive(Object, Deserialize)]
#[oai(rename_all = "camelCase", deny_unknown_fields, example)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SendFeedback {
    pub category: FeedbackCategory,
    /// The route Veilig Thuis takes: for `safety_assessment_decided` what it decided, for
    /// `conditions_not_met` the next step (`vt_investigates`, `raad_voor_de_kinderbescherming`
    /// or new `conditions_and_follow_up`).
    #[oai(skip_serializing_if_is_none)]
    pub outcome: Option<AssessmentOutcome>,
    /// With `conditions_and_follow_up`: the date Veilig Thuis checks the conditions (after
    /// today). With `conditions_met`: the next check, when checks go on; without it the
    /// conditions route ends.
    #[oai(skip_serializing_if_is_none)]
    pub follow_up_check_on: Option<NaiveDate>,
    #[oai(validator(min_length = 1, max_length = 10000))]
    pub message: String,
    /// Silent support: the school should not discuss this with the parents.
    #[oai(skip_serializing_if_is_none)]
    pub do_not_discuss_with_parents: Option<bool>,
    #[oai(validator(max_length = 5000), skip_serializing_if_is_none)]
    pub do_not_discuss_explanation: Option<String>,
    /// Default `care_coordinators`; `school_staff` only for `guidance_for_school`.
    #[oai(skip_serializing_if_is_none)]
    pub audience: Option<Audience>,
    /// The consent to rely on; by default the one that covers the category.
    #[oai(skip_serializing_if_is_none)]
    pub consent_id: Option<Uuid>,
}

impl SendFeedback {
    /// The request in the domain's words.
    pub fn as_request(&self) -> FeedbackRequest<'_> {
        FeedbackRequest {
            category: self.category,
            outcome: self.outcome,
            follow_up_check_on: self.follow_up_check_on,
            audience: self.audience,
            do_not_discuss_with_parents: self.do_not_discuss_with_parents,
            do_not_discuss_explanation: self.do_not_discuss_explanation.as_deref(),
            message: &self.message,
            consent_id: self.consent_id,
        }
    }
}

impl Example for SendFeedback {
    fn example() -> Self {
        Self {
            category: FeedbackCategory::GuidanceForSchool,
            outcome: None,
            follow_up_check_on: None,
            message: "Geef Noah rust en voorspelbaarheid; vraag niet door over thuis. Bij nieuwe zorgen: bel ons."
                .into(),
            do_not_discuss_with_parents: Some(false),
            do_not_discuss_explanation: None,
            audience: Some(Audience::SchoolStaff),
            consent_id: None,
        }
    }
}

/// Who read a feedback item, and when.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct ReadReceipt {
    pub reader: Professional,
    pub read_at: Timestamp,
}

/// A feedback item.
#[derive(Object)]
#[oai(rename_all = "camelCase", example)]
pub struct Feedback {
    pub id: Uuid,
    pub handoff_id: Uuid,
    pub from: OrganisationSummary,
    pub to: OrganisationSummary,
    pub category: FeedbackCategory,
    /// The route Veilig Thuis takes (`safety_assessment_decided`, `conditions_not_met`).
    #[oai(skip_serializing_if_is_none)]
    pub outcome: Option<AssessmentOutcome>,
    /// When Veilig Thuis checks its safety conditions next.
    #[oai(skip_serializing_if_is_none)]
    pub follow_up_check_on: Option<NaiveDate>,
    /// For `forwarded`: the Veilig Thuis region the report went to.
    #[oai(skip_serializing_if_is_none)]
    pub forwarded_to: Option<OrganisationSummary>,
    pub message: String,
    pub do_not_discuss_with_parents: bool,
    #[oai(skip_serializing_if_is_none)]
    pub do_not_discuss_explanation: Option<String>,
    pub audience: Audience,
    /// `statutory` for status feedback, `consent` for the rest.
    pub legal_basis: LegalBasis,
    /// The consent it relied on.
    #[oai(skip_serializing_if_is_none)]
    pub consent_id: Option<Uuid>,
    /// When that consent was withdrawn, if it was: the feedback stays readable, marked.
    #[oai(skip_serializing_if_is_none)]
    pub consent_withdrawn_at: Option<Timestamp>,
    pub sent_at: Timestamp,
    pub sent_by: Professional,
    /// Read receipts from the receiving organisation.
    pub read_by: Vec<ReadReceipt>,
}

impl Example for Feedback {
    fn example() -> Self {
        let send = SendFeedback::example();
        Self {
            id: example_id(0xb01),
            handoff_id: example_id(0x701),
            from: OrganisationSummary {
                id: example_id(0x003),
                kind: crate::domain::organisation::OrganisationKind::VeiligThuis,
                name: "Veilig Thuis Amsterdam-Amstelland".into(),
            },
            to: OrganisationSummary {
                id: example_id(0x001),
                kind: crate::domain::organisation::OrganisationKind::School,
                name: "Basisschool De Regenboog".into(),
            },
            category: send.category,
            outcome: None,
            follow_up_check_on: None,
            forwarded_to: None,
            message: send.message,
            do_not_discuss_with_parents: false,
            do_not_discuss_explanation: None,
            audience: Audience::SchoolStaff,
            legal_basis: LegalBasis::Consent,
            consent_id: Some(example_id(0xa01)),
            consent_withdrawn_at: None,
            sent_at: example_time(),
            sent_by: Professional {
                sub: "vt-noor".into(),
                name: "Noor Yilmaz".into(),
            },
            read_by: vec![ReadReceipt {
                reader: Professional {
                    sub: "ib-fatima".into(),
                    name: "Fatima El Amrani".into(),
                },
                read_at: example_time(),
            }],
        }
    }
}

/// Feedback items.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct FeedbackPage {
    pub items: Vec<Feedback>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

#[allow(clippy::large_enum_variant)]
#[derive(ApiResponse)]
pub enum FeedbackCreatedResponse {
    /// Sent.
    #[oai(status = 201)]
    Created(
        Json<Feedback>,
        /// The feedback item.
        #[oai(header = "Location")]
        String,
    ),
}

#[allow(clippy::large_enum_variant)]
#[derive(ApiResponse)]
pub enum FeedbackResponse {
    /// The feedback item.
    #[oai(status = 200)]
    Ok(Json<Feedback>, #[oai(header = "ETag")] String),
    /// Unchanged since the ETag in `If-None-Match`.
    #[oai(status = 304)]
    NotModified(#[oai(header = "ETag")] String),
}

#[allow(clippy::large_enum_variant)]
#[derive(ApiResponse)]
pub enum ReadReceiptResponse {
    /// Read: the feedback item with its read receipts.
    #[oai(status = 200)]
    Ok(Json<Feedback>, #[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum FeedbackListResponse {
    /// Feedback items, oldest first.
    #[oai(status = 200)]
    Ok(Json<FeedbackPage>),
}

pub(crate) async fn render_many(
    conn: &mut AsyncPgConnection,
    items: &[Stored],
) -> Result<Vec<Feedback>, AppError> {
    let ids: Vec<Uuid> = items.iter().map(|f| f.id).collect();
    let mut reads = queries::reads_of(conn, &ids).await?;
    let consent_ids: Vec<Uuid> = items.iter().filter_map(|f| f.consent_id).collect();
    let consents = consent_queries::by_ids(conn, &consent_ids).await?;
    let mut rendered = Vec::with_capacity(items.len());
    for item in items {
        let from = summary(conn, item.from_organisation_id).await?;
        let to = summary(conn, item.to_organisation_id).await?;
        let forwarded_to = match item.forwarded_to_organisation_id {
            Some(id) => Some(summary(conn, id).await?),
            None => None,
        };
        rendered.push(Feedback {
            id: item.id,
            handoff_id: item.handoff_id,
            from,
            to,
            category: item.category,
            outcome: item.outcome,
            follow_up_check_on: item.follow_up_check_on,
            forwarded_to,
            message: item.message.clone(),
            do_not_discuss_with_parents: item.do_not_discuss_with_parents,
            do_not_discuss_explanation: item.do_not_discuss_explanation.clone(),
            audience: item.audience,
            legal_basis: item.legal_basis,
            consent_id: item.consent_id,
            consent_withdrawn_at: item
                .consent_id
                .and_then(|id| consents.iter().find(|c| c.id == id))
                .and_then(|c| c.withdrawn_at)
                .map(Into::into),
            sent_at: item.sent_at.into(),
            sent_by: Professional {
                sub: item.sent_by_sub.clone(),
                name: item.sent_by_name.clone(),
            },
            read_by: reads
                .remove(&item.id)
                .unwrap_or_default()
                .into_iter()
                .map(|r| ReadReceipt {
                    reader: Professional {
                        sub: r.reader_sub,
                        name: r.reader_name,
                    },
                    read_at: r.read_at.into(),
                })
                .collect(),
        });
    }
    Ok(rendered)
}

async fn summary(conn: &mut AsyncPgConnection, id: Uuid) -> Result<OrganisationSummary, AppError> {
    let org = organisation_queries::find(conn, id)
        .await?
        .ok_or_else(|| AppError::internal(format!("organisation {id} vanished")))?;
    Ok(OrganisationSummary {
        id: org.id,
        kind: org.kind,
        name: org.name,
    })
}

/// The child a feedback item is about on the caller's side, for the access log.
async fn child_on_my_side(
    conn: &mut AsyncPgConnection,
    principal: &Principal,
    item: &Stored,
) -> Result<Option<Uuid>, AppError> {
    let handoff =
        handoff_queries::find_for_party(conn, principal.org_id(), item.handoff_id, false).await?;
    Ok(handoff.and_then(|h| {
        if h.is_sender(principal.org_id()) {
            h.child_id
        } else {
            h.intake_child_id
        }
    }))
}

async fn read_accesses(
    conn: &mut AsyncPgConnection,
    principal: &Principal,
    items: &[Stored],
) -> Result<Vec<Access>, AppError> {
    let mut accesses = Vec::with_capacity(items.len());
    for item in items {
        let mut access = Access::allowed(AccessAction::Read, FEEDBACK, item.id);
        if let Some(child) = child_on_my_side(conn, principal, item).await? {
            access = access.about_child(child);
        }
        accesses.push(access);
    }
    Ok(accesses)
}

pub struct FeedbackApi;

#[OpenApi(tag = "ApiTags::Feedback")]
impl FeedbackApi {
    /// Send feedback
    ///
    /// The handoff's recipient (typically Veilig Thuis) tells its sender how things stand.
    /// Status feedback — `received`, `safety_assessment_decided` (with `outcome`, the route of
    /// the Handelingsprotocol), `involvement_ended`, and at each check of safety conditions
    /// (`conditions_and_follow_up`, with `followUpCheckOn`) `conditions_met` or
    /// `conditions_not_met` (with the next step as `outcome`) — needs no consent. A conditions
    /// check without conditions in force is 409 `no-conditions-in-force`. Anything more — `outcome`,
    /// `guidance_for_school`, `help_in_place`, `contact_person` — needs, at this moment, an
    /// active consent with purpose `feedback_to_school`, the handoff's sender as recipient, and
    /// the category in scope; otherwise 422 `consent-required` says what is missing. Guidance
    /// may be addressed to all `school_staff` (the teachers who recorded signals about the child).
    #[oai(
        path = "/handoffs/:id/feedback",
        method = "post",
        operation_id = "sendFeedback"
    )]
    async fn send(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The handoff's id.
        id: Path<Uuid>,
        body: JsonBody<SendFeedback>,
    ) -> ApiResult<FeedbackCreatedResponse, Create> {
        let principal = &auth.0;
        policy::require(principal, Action::SendHandoffs)?;
        let input = body.0;
        let actor = cx.actor(principal);
        let rendered = cx
            .db
            .transaction(async |conn| {
                let handoff = handoff_queries::find_for_party(conn, principal.org_id(), id.0, true)
                    .await?
                    .ok_or_else(AppError::not_found)?;
                policy::require_handoff_party(
                    principal,
                    handoff.from_organisation_id,
                    HandoffAct::SendFeedback,
                )?;
                let consents = match handoff.intake_child_id {
                    Some(child) => {
                        consent_queries::grants_for_child(conn, principal.org_id(), child).await?
                    }
                    None => Vec::new(),
                };
                let context = FeedbackContext {
                    handoff_status: handoff.status,
                    handoff_sender: handoff.from_organisation_id,
                    child_taken_in: handoff.intake_child_id.is_some(),
                    consents,
                    conditions_check_on: queries::conditions_check_on(conn, handoff.id).await?,
                    today: Utc::now().date_naive(),
                };
                let plan = rules::decide_send(&input.as_request(), &context)?;
                let record = FeedbackRecord {
                    category: input.category,
                    outcome: input.outcome,
                    follow_up_check_on: input.follow_up_check_on,
                    forwarded_to: None,
                    message: &input.message,
                    do_not_discuss_explanation: input.do_not_discuss_explanation.as_deref(),
                };
                let stored = write_feedback(conn, actor, &handoff, &record, plan).await?;
                Ok(render_many(conn, std::slice::from_ref(&stored))
                    .await?
                    .remove(0))
            })
            .await?;
        let location = format!("/v1/feedback/{}", rendered.id);
        Ok(FeedbackCreatedResponse::Created(Json(rendered), location))
    }

    /// Feedback on a handoff
    ///
    /// The feedback on a handoff your organisation sent or received, oldest first, with who read
    /// it. Feedback given under a consent that was later withdrawn stays readable, marked with
    /// `consentWithdrawnAt`.
    #[oai(
        path = "/handoffs/:id/feedback",
        method = "get",
        operation_id = "listHandoffFeedback"
    )]
    async fn of_handoff(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The handoff's id.
        id: Path<Uuid>,
    ) -> ApiResult<FeedbackListResponse, ReadOne> {
        let principal = &auth.0;
        policy::require(principal, Action::ReadHandoffs)?;
        let actor = cx.actor(principal);
        let items = cx
            .db
            .transaction(async |conn| {
                let handoff =
                    handoff_queries::find_for_party(conn, principal.org_id(), id.0, false)
                        .await?
                        .ok_or_else(AppError::not_found)?;
                let items =
                    queries::of_handoff(conn, principal.org_id(), handoff.id, &FeedbackScope::All)
                        .await?;
                let accesses = read_accesses(conn, principal, &items).await?;
                Effects::new().accesses(accesses).write(conn, actor).await?;
                render_many(conn, &items).await
            })
            .await?;
        Ok(FeedbackListResponse::Ok(Json(FeedbackPage {
            items,
            next_cursor: None,
        })))
    }

    /// Feedback inbox
    ///
    /// Feedback sent to your organisation, oldest first; with `unread=true` only what you have
    /// not read yet. Care coordinators see all of it; a teacher the guidance addressed to school
    /// staff about children they recorded signals for.
    #[oai(path = "/feedback", method = "get", operation_id = "listFeedback")]
    async fn inbox(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// Only what you have not read.
        unread: Query<Option<bool>>,
        /// Page size: 1 to 200, default 50.
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<u32>>,
        /// `nextCursor` of the previous page.
        #[oai(validator(max_length = 500))]
        cursor: Query<Option<String>>,
    ) -> ApiResult<FeedbackListResponse, ReadMany> {
        let principal = &auth.0;
        policy::require(principal, Action::ReadFeedback)?;
        let after: Option<Uuid> = decode_cursor(cursor.0.as_deref())?;
        let fetch = paging::fetch_size(limit.0);
        let scope = policy::feedback_scope(principal);
        let actor = cx.actor(principal);
        let (items, next_cursor) = cx
            .db
            .transaction(async |conn| {
                let unread_by = (unread.0 == Some(true)).then_some(principal.sub.as_str());
                let rows =
                    queries::inbox(conn, principal.org_id(), &scope, unread_by, after, fetch)
                        .await?;
                let (rows, next_cursor) = paging::paginate(rows, fetch, |f| f.id);
                let accesses = read_accesses(conn, principal, &rows).await?;
                Effects::new().accesses(accesses).write(conn, actor).await?;
                Ok((render_many(conn, &rows).await?, next_cursor))
            })
            .await?;
        Ok(FeedbackListResponse::Ok(Json(FeedbackPage {
            items,
            next_cursor,
        })))
    }

    /// Get feedback
    ///
    /// One feedback item your organisation sent or received (and you may read). Send the
    /// `ETag` back in `If-None-Match` to get a 304 while it is unchanged (new read receipts
    /// change it).
    #[oai(path = "/feedback/:id", method = "get", operation_id = "getFeedback")]
    async fn get(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The feedback item's id.
        id: Path<Uuid>,
        /// ETag of the copy the client holds.
        #[oai(name = "If-None-Match")]
        if_none_match: Header<Option<String>>,
    ) -> ApiResult<FeedbackResponse, ReadOne> {
        let principal = &auth.0;
        policy::require(principal, Action::ReadFeedback)?;
        let scope = policy::feedback_scope(principal);
        let actor = cx.actor(principal);
        let item = cx
            .db
            .transaction(async |conn| {
                let item = queries::find(conn, principal.org_id(), &scope, id.0)
                    .await?
                    .ok_or_else(AppError::not_found)?;
                let accesses = read_accesses(conn, principal, std::slice::from_ref(&item)).await?;
                Effects::new().accesses(accesses).write(conn, actor).await?;
                Ok(render_many(conn, &[item]).await?.remove(0))
            })
            .await?;
        let tag = etag::of(&item);
        if etag::none_match_hits(if_none_match.0.as_deref(), &tag) {
            return Ok(FeedbackResponse::NotModified(tag));
        }
        Ok(FeedbackResponse::Ok(Json(item), tag))
    }

    /// Confirm reading
    ///
    /// Records that you read a feedback item sent to your organisation; the sender sees who read
    /// it and when (`readBy`). Idempotent. With `If-Match`, only when the item is as you read it.
    #[oai(
        path = "/feedback/:id/read-receipt",
        method = "post",
        operation_id = "confirmFeedbackRead"
    )]
    async fn read_receipt(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The feedback item's id.
        id: Path<Uuid>,
        /// ETag of the copy you read.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
    ) -> ApiResult<ReadReceiptResponse, Change> {
        let principal = &auth.0;
        policy::require(principal, Action::ReadFeedback)?;
        let scope = policy::feedback_scope(principal);
        let actor = cx.actor(principal);
        let item = cx
            .db
            .transaction(async |conn| {
                let item = queries::find(conn, principal.org_id(), &scope, id.0)
                    .await?
                    .filter(|f| f.to_organisation_id == principal.org_id())
                    .ok_or_else(AppError::not_found)?;
                if if_match.0.is_some() {
                    let before = render_many(conn, std::slice::from_ref(&item))
                        .await?
                        .remove(0);
                    etag::check_if_match(if_match.0.as_deref(), &etag::of(&before))?;
                }
                let new = queries::mark_read(
                    conn,
                    item.id,
                    (&principal.sub, &principal.name, principal.org_id()),
                )
                .await?;
                let mut effects = Effects::new()
                    .accesses(read_accesses(conn, principal, std::slice::from_ref(&item)).await?);
                if new {
                    effects = effects
                        .event(Event::new(
                            EventType::FeedbackRead,
                            item.from_organisation_id,
                            FEEDBACK,
                            item.id,
                        ))
                        .event(Event::new(
                            EventType::FeedbackRead,
                            item.to_organisation_id,
                            FEEDBACK,
                            item.id,
                        ));
                }
                effects.write(conn, actor).await?;
                Ok(render_many(conn, &[item]).await?.remove(0))
            })
            .await?;
        let tag = etag::of(&item);
        Ok(ReadReceiptResponse::Ok(Json(item), tag))
    }
}

/// A feedback item to write: as sent, or as a forwarding writes it.
pub(crate) struct FeedbackRecord<'a> {
    pub category: FeedbackCategory,
    pub outcome: Option<AssessmentOutcome>,
    pub follow_up_check_on: Option<NaiveDate>,
    pub forwarded_to: Option<Uuid>,
    pub message: &'a str,
    pub do_not_discuss_explanation: Option<&'a str>,
}

/// The feedback, its disclosure in the access log, events for both sides and entries on both
/// children's timelines.
pub(crate) async fn write_feedback(
    conn: &mut AsyncPgConnection,
    actor: Actor<'_>,
    handoff: &Handoff,
    input: &FeedbackRecord<'_>,
    plan: FeedbackPlan,
) -> Result<Stored, AppError> {
    let principal = actor.principal;
    let stored = queries::insert(
        conn,
        &queries::NewFeedback {
            id: Uuid::now_v7(),
            handoff_id: handoff.id,
            from_organisation_id: principal.org_id(),
            to_organisation_id: handoff.from_organisation_id,
            category: input.category,
            outcome: input.outcome,
            message: input.message,
            do_not_discuss_with_parents: plan.do_not_discuss_with_parents,
            do_not_discuss_explanation: input.do_not_discuss_explanation,
            audience: plan.audience,
            consent_id: plan.consent_id,
            legal_basis: plan.legal_basis,
            sent_by_sub: &principal.sub,
            sent_by_name: &principal.name,
            follow_up_check_on: input.follow_up_check_on,
            forwarded_to_organisation_id: input.forwarded_to,
        },
    )
    .await?;
    if plan.assessment_decided {
        handoff_queries::mark_assessment_decided(conn, handoff.id).await?;
    }

    let mut disclosure = Access::allowed(AccessAction::Disclose, FEEDBACK, stored.id)
        .with_basis(plan.legal_basis.code(), plan.consent_id)
        .disclosed_to(handoff.from_organisation_id);
    if let Some(child) = handoff.intake_child_id {
        disclosure = disclosure.about_child(child);
    }
    let summary = format!("Feedback: {}", input.category.label_en());
    let mut effects = Effects::new()
        .access(disclosure)
        .event(Event::new(
            EventType::FeedbackSent,
            handoff.from_organisation_id,
            FEEDBACK,
            stored.id,
        ))
        .event(Event::new(
            EventType::FeedbackSent,
            principal.org_id(),
            FEEDBACK,
            stored.id,
        ));
    if let Some(child) = handoff.child_id {
        effects = effects.timeline(TimelineEntry {
            organisation_id: handoff.from_organisation_id,
            child_id: child,
            entry_type: "feedback.received",
            resource_type: FEEDBACK,
            resource_id: stored.id,
            summary: summary.clone(),
            visibility: policy::feedback_visibility(plan.audience),
        });
    }
    if let Some(child) = handoff.intake_child_id {
        effects = effects.timeline(TimelineEntry {
            organisation_id: principal.org_id(),
            child_id: child,
            entry_type: "feedback.sent",
            resource_type: FEEDBACK,
            resource_id: stored.id,
            summary,
            visibility: Visibility::Organisation,
        });
    }
    effects.write(conn, actor).await?;
    Ok(stored)
}
