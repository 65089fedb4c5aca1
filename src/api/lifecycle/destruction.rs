//! Destruction requests (vernietigingsverzoek): received on a child, decided by the privacy
//! officer with a written weighing, and — when granted — carried out at once, like a purge. Who
//! may ask and what a decision may be are decided in `domain::lifecycle`.

use diesel_async::AsyncPgConnection;
use poem_openapi::{
    ApiResponse, OpenApi,
    param::{Header, Path, Query},
    payload::Json,
};
use uuid::Uuid;

use super::dto::*;
use crate::{
    api::{
        ApiTags,
        body::JsonBody,
        children::load_own_child,
        context::Ctx,
        etag,
        problem::{ApiResult, Change, Create, ReadMany, ReadOne},
        shared::Professional,
    },
    audit::{Access, AccessAction, Actor},
    auth::{
        BearerAuth, Principal,
        policy::{self, Action},
    },
    db::{
        children::{self as child_queries, Guardian as StoredGuardian},
        lifecycle::{self as queries, DestructionRequest as Stored, RecordedDecision},
    },
    domain::{
        calendar::dutch_today,
        lifecycle::{
            DecisionContext, DestructionStatus, ExtensionContext, Hearing, Hold, RecordRef,
            RequestContext, RequestGuardian, Requester, RequesterKind, decide_decision,
            decide_extension, decide_request, guardians_to_hear, request_overdue,
        },
    },
    effects::Effects,
    error::AppError,
    events::{Event, EventType},
    retention::{DESTRUCTION_BASIS, purge_effects},
};

const DESTRUCTION_REQUEST: &str = "destruction_request";

#[derive(ApiResponse)]
pub enum CreateDestructionRequestResponse {
    /// Recorded; the decision is due by `dueOn`.
    #[oai(status = 201)]
    Created(
        Json<DestructionRequest>,
        /// The request.
        #[oai(header = "Location")]
        String,
        #[oai(header = "ETag")] String,
    ),
}

#[derive(ApiResponse)]
pub enum DestructionRequestResponse {
    /// The request.
    #[oai(status = 200)]
    Ok(Json<DestructionRequest>, #[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum DestructionRequestListResponse {
    /// The requests, oldest due first.
    #[oai(status = 200)]
    Ok(Json<DestructionRequestList>),
}

pub struct DestructionRequestsApi;

#[OpenApi(tag = "ApiTags::DataLifecycle")]
impl DestructionRequestsApi {
    /// Record a destruction request
    ///
    /// A guardian or the child asks the organisation to destroy everything it holds about the
    /// child, or named records. Who may ask follows the child's age on receipt, as for consent:
    /// under 12 a guardian with parental authority; 12 to 15 the child or such a guardian; 16
    /// and over the child alone (422 `requester-not-entitled`; `parental-authority-unknown`
    /// while the asking guardian's authority is unverified). When a guardian asks and another
    /// also has parental authority, the other is heard before the decision (`hearing`, here or
    /// with the decision). The decision is due a month after receipt (three for a wijkteam or
    /// the GGD). Privacy officers only.
    #[oai(
        path = "/children/:id/destruction-requests",
        method = "post",
        operation_id = "createDestructionRequest"
    )]
    async fn create(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The child's id.
        id: Path<Uuid>,
        body: JsonBody<CreateDestructionRequest>,
    ) -> ApiResult<CreateDestructionRequestResponse, Create> {
        let principal = &auth.0;
        policy::require(principal, Action::ManageDataLifecycle)?;
        let input = body.0;
        let actor = cx.actor(principal);
        let (rendered, request_id) = cx
            .db
            .transaction(async |conn| {
                let child = load_own_child(conn, principal, id.0).await?;
                let guardians = child_queries::guardians_of(conn, &[child.id]).await?;
                let records: Vec<RecordRef> =
                    input.records.iter().copied().map(Into::into).collect();
                let unknown = queries::records_of_child(conn, principal.org_id(), child.id)
                    .await?
                    .unknown(&records);
                let requester = requester(input.requester, input.guardian_id)?;
                let plan = decide_request(&RequestContext {
                    kind: principal.organisation.kind,
                    date_of_birth: child.date_of_birth,
                    received_on: input.received_on,
                    today: dutch_today(),
                    requester,
                    guardians: &rule_guardians(&guardians),
                    scope: input.scope,
                    records: &records,
                    unknown_records: &unknown,
                    hearing: input.hearing.as_ref().map(hearing),
                })?;
                let stored = queries::insert_request(
                    conn,
                    &queries::NewDestructionRequest {
                        id: Uuid::now_v7(),
                        organisation_id: principal.org_id(),
                        child_id: child.id,
                        requester: input.requester,
                        requester_guardian_id: input.guardian_id,
                        received_on: input.received_on,
                        scope: input.scope,
                        records: serde_json::to_value(&records).unwrap_or_default(),
                        hearing: input.hearing.as_ref().map(|h| h.outcome),
                        hearing_note: input.hearing.as_ref().map(|h| h.note.as_str()),
                        due_on: plan.due_on,
                        created_by_sub: &principal.sub,
                        created_by_name: &principal.name,
                    },
                )
                .await?;
                announce(
                    conn,
                    actor,
                    &stored,
                    AccessAction::Create,
                    EventType::DestructionRequestReceived,
                )
                .await?;
                Ok(render(&stored, &guardians))
            })
            .await?;
        let tag = etag::of(&rendered);
        Ok(CreateDestructionRequestResponse::Created(
            Json(rendered),
            format!("/v1/destruction-requests/{request_id}"),
            tag,
        ))
    }

    /// List destruction requests
    ///
    /// The organisation's requests, oldest due first: filter by `status`, by `overdue=true`
    /// (undecided past their due date) or by `childId`. Privacy officers only; the read is
    /// logged per request.
    #[oai(
        path = "/destruction-requests",
        method = "get",
        operation_id = "listDestructionRequests"
    )]
    async fn list(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// Only requests with this status.
        status: Query<Option<DestructionStatus>>,
        /// `true`: only undecided requests past their due date.
        overdue: Query<Option<bool>>,
        /// Only requests about this child.
        #[oai(name = "childId")]
        child_id: Query<Option<Uuid>>,
    ) -> ApiResult<DestructionRequestListResponse, ReadMany> {
        let principal = &auth.0;
        policy::require(principal, Action::ManageDataLifecycle)?;
        let actor = cx.actor(principal);
        let items = cx
            .db
            .transaction(async |conn| {
                let today = dutch_today();
                let only_overdue = overdue.0.unwrap_or(false);
                let stored: Vec<Stored> =
                    queries::list_requests(conn, principal.org_id(), status.0, child_id.0)
                        .await?
                        .into_iter()
                        .filter(|r| !only_overdue || request_overdue(r.status, r.due_on, today))
                        .collect();
                let children: Vec<Uuid> = stored.iter().map(|r| r.child_id).collect();
                let guardians = child_queries::guardians_of(conn, &children).await?;
                Effects::new()
                    .accesses(stored.iter().map(|r| {
                        Access::allowed(AccessAction::Read, DESTRUCTION_REQUEST, r.id)
                            .about_child(r.child_id)
                    }))
                    .write(conn, actor)
                    .await?;
                Ok(stored.iter().map(|r| render(r, &guardians).0).collect())
            })
            .await?;
        Ok(DestructionRequestListResponse::Ok(Json(
            DestructionRequestList { items },
        )))
    }

    /// Get a destruction request
    ///
    /// One of your organisation's destruction requests, with the guardians still to hear, the
    /// due date and — once decided — the decision and when it was carried out. Privacy officers
    /// only; the read is logged.
    #[oai(
        path = "/destruction-requests/:id",
        method = "get",
        operation_id = "getDestructionRequest"
    )]
    async fn get(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The request's id.
        id: Path<Uuid>,
    ) -> ApiResult<DestructionRequestResponse, ReadOne> {
        let principal = &auth.0;
        policy::require(principal, Action::ManageDataLifecycle)?;
        let actor = cx.actor(principal);
        let rendered = cx
            .db
            .transaction(async |conn| {
                let (stored, guardians) = load(conn, principal, id.0, false).await?;
                Effects::new()
                    .access(
                        Access::allowed(AccessAction::Read, DESTRUCTION_REQUEST, stored.id)
                            .about_child(stored.child_id),
                    )
                    .write(conn, actor)
                    .await?;
                Ok(render(&stored, &guardians).0)
            })
            .await?;
        let tag = etag::of(&rendered);
        Ok(DestructionRequestResponse::Ok(Json(rendered), tag))
    }

    /// Extend a destruction request's term
    ///
    /// When a request needs more time than the AVG's month (art. 12(3)): once, by two months,
    /// before the term runs out, with the reason you tell the requester. Youth care's statutory
    /// three months (wijkteam, GGD) are not extendable: 422 `extension-not-allowed`, as for a
    /// second extension or one after the due date. Privacy officers only.
    #[oai(
        path = "/destruction-requests/:id/extension",
        method = "post",
        operation_id = "extendDestructionRequest"
    )]
    async fn extend(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The request's id.
        id: Path<Uuid>,
        /// ETag of the request the extension is based on.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
        body: JsonBody<ExtendDestructionRequest>,
    ) -> ApiResult<DestructionRequestResponse, Change> {
        let principal = &auth.0;
        policy::require(principal, Action::ManageDataLifecycle)?;
        let input = body.0;
        let actor = cx.actor(principal);
        let rendered = cx
            .db
            .transaction(async |conn| {
                let (stored, guardians) =
                    load_current(conn, principal, id.0, if_match.0.as_deref()).await?;
                let due_on = decide_extension(&ExtensionContext {
                    kind: principal.organisation.kind,
                    status: stored.status,
                    due_on: stored.due_on,
                    already_extended: stored.extended_at.is_some(),
                    reason: &input.reason,
                    today: dutch_today(),
                })?;
                let extended =
                    queries::record_extension(conn, stored.id, due_on, &input.reason).await?;
                announce(
                    conn,
                    actor,
                    &extended,
                    AccessAction::Update,
                    EventType::DestructionRequestExtended,
                )
                .await?;
                Ok(render(&extended, &guardians).0)
            })
            .await?;
        let tag = etag::of(&rendered);
        Ok(DestructionRequestResponse::Ok(Json(rendered), tag))
    }

    /// Decide a destruction request
    ///
    /// `granted` — in full, or in part by naming `records` — is carried out at once: the
    /// personal data of what is granted is overwritten by a tombstone (ids, kinds, dates,
    /// categories and statuses stay), each record gets an access-log entry with action
    /// `purge`, and each organisation that still holds a copy through a handoff gets
    /// `child.destruction_notified` (AVG art. 19), since its copy stays under its own
    /// retention. `refused` only on a substantial interest of someone other than the requester
    /// or a legal duty to keep (name it in `legalDuty`); always with a written `weighing`.
    /// Refused by 409 `legal-hold` while a hold is active, 422 `hearing-required` until the
    /// other guardian was heard, 409 `already-decided` the second time. Privacy officers only.
    #[oai(
        path = "/destruction-requests/:id/decision",
        method = "post",
        operation_id = "decideDestructionRequest"
    )]
    async fn decide(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The request's id.
        id: Path<Uuid>,
        /// ETag of the request the decision is based on.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
        body: JsonBody<DecideDestructionRequest>,
    ) -> ApiResult<DestructionRequestResponse, Change> {
        let principal = &auth.0;
        policy::require(principal, Action::ManageDataLifecycle)?;
        let input = body.0;
        let actor = cx.actor(principal);
        let rendered = cx
            .db
            .transaction(async |conn| {
                let (stored, guardians) =
                    load_current(conn, principal, id.0, if_match.0.as_deref()).await?;
                // The child stays locked while the request is decided and carried out.
                let child =
                    child_queries::find_for_update(conn, principal.org_id(), stored.child_id)
                        .await?
                        .ok_or_else(AppError::not_found)?;
                let hold = queries::current_hold(conn, stored.child_id).await?;
                let records =
                    queries::records_of_child(conn, principal.org_id(), stored.child_id).await?;
                let granted: Option<Vec<RecordRef>> = input
                    .records
                    .as_ref()
                    .map(|r| r.iter().copied().map(Into::into).collect());
                let unknown_granted = granted
                    .as_deref()
                    .map(|g| records.unknown(g))
                    .unwrap_or_default();
                let asked = stored.records();
                let decision = decide_decision(&DecisionContext {
                    status: stored.status,
                    hold_active: hold
                        .is_some_and(|h| Hold { until: h.until }.is_active(dutch_today())),
                    requester: requester(stored.requester, stored.requester_guardian_id)?,
                    guardians: &rule_guardians(&guardians),
                    hearing_recorded: stored.hearing.is_some(),
                    hearing: input.hearing.as_ref().map(hearing),
                    outcome: input.decision,
                    scope: stored.scope,
                    asked: &asked,
                    granted: granted.as_deref(),
                    unknown_granted: &unknown_granted,
                    weighing: &input.weighing,
                    refusal_ground: input.refusal_ground,
                    legal_duty: input.legal_duty.as_deref(),
                })?;
                let decided = queries::record_decision(
                    conn,
                    stored.id,
                    &RecordedDecision {
                        status: decision.status,
                        granted_records: granted
                            .as_ref()
                            .map(|g| serde_json::to_value(g).unwrap_or_default()),
                        weighing: &input.weighing,
                        refusal_ground: input.refusal_ground,
                        legal_duty: input.legal_duty.as_deref(),
                        hearing: input.hearing.as_ref().map(|h| (h.outcome, h.note.as_str())),
                        decided_by_sub: &principal.sub,
                        decided_by_name: &principal.name,
                        executed: decision.grant.is_some(),
                    },
                )
                .await?;
                let mut effects = Effects::new();
                if let Some(plan) = &decision.grant {
                    let outcome = queries::purge(
                        conn,
                        principal.org_id(),
                        (child.id, child.date_of_birth),
                        plan,
                    )
                    .await?;
                    effects = purge_effects(
                        principal.org_id(),
                        stored.child_id,
                        &outcome,
                        DESTRUCTION_BASIS,
                    );
                    for (other, handoff) in &outcome.kept_by_others {
                        effects = effects.event(Event::new(
                            EventType::ChildDestructionNotified,
                            *other,
                            "handoff",
                            *handoff,
                        ));
                    }
                }
                effects.write(conn, actor).await?;
                announce(
                    conn,
                    actor,
                    &decided,
                    AccessAction::Update,
                    EventType::DestructionRequestDecided,
                )
                .await?;
                // Read again: a grant of everything also overwrote the request's own texts.
                let (decided, guardians) = load(conn, principal, id.0, false).await?;
                Ok(render(&decided, &guardians).0)
            })
            .await?;
        let tag = etag::of(&rendered);
        Ok(DestructionRequestResponse::Ok(Json(rendered), tag))
    }
}

/// A request of the caller's organisation with its child's guardians, or 404.
async fn load(
    conn: &mut AsyncPgConnection,
    principal: &Principal,
    id: Uuid,
    for_update: bool,
) -> Result<(Stored, Vec<StoredGuardian>), AppError> {
    let stored = queries::find_request(conn, principal.org_id(), id, for_update)
        .await?
        .ok_or_else(AppError::not_found)?;
    let guardians = child_queries::guardians_of(conn, &[stored.child_id]).await?;
    Ok((stored, guardians))
}

/// A request of the caller's organisation, locked, as the version the caller read (`If-Match`).
async fn load_current(
    conn: &mut AsyncPgConnection,
    principal: &Principal,
    id: Uuid,
    if_match: Option<&str>,
) -> Result<(Stored, Vec<StoredGuardian>), AppError> {
    let (stored, guardians) = load(conn, principal, id, true).await?;
    etag::check_if_match(if_match, &etag::of(&render(&stored, &guardians).0))?;
    Ok((stored, guardians))
}

fn requester(kind: RequesterKind, guardian: Option<Uuid>) -> Result<Requester, AppError> {
    Ok(Requester::from_parts(kind, guardian)?)
}

fn rule_guardians(guardians: &[StoredGuardian]) -> Vec<RequestGuardian<'_>> {
    guardians
        .iter()
        .map(|g| RequestGuardian {
            id: g.id,
            name: &g.name,
            authority: g.parental_authority,
        })
        .collect()
}

fn hearing(h: &HearingRecord) -> Hearing<'_> {
    Hearing {
        outcome: h.outcome,
        note: &h.note,
    }
}

async fn announce(
    conn: &mut AsyncPgConnection,
    actor: Actor<'_>,
    stored: &Stored,
    action: AccessAction,
    event: EventType,
) -> Result<(), AppError> {
    Effects::new()
        .access(
            Access::allowed(action, DESTRUCTION_REQUEST, stored.id).about_child(stored.child_id),
        )
        .event(Event::new(
            event,
            stored.organisation_id,
            DESTRUCTION_REQUEST,
            stored.id,
        ))
        .write(conn, actor)
        .await?;
    Ok(())
}

/// The request as the privacy officer sees it, and its id.
pub(super) fn render(stored: &Stored, guardians: &[StoredGuardian]) -> (DestructionRequest, Uuid) {
    let today = dutch_today();
    let undecided = stored.status == DestructionStatus::Received;
    let of_child: Vec<StoredGuardian> = guardians
        .iter()
        .filter(|g| g.child_id == stored.child_id)
        .cloned()
        .collect();
    let to_hear = match requester(stored.requester, stored.requester_guardian_id) {
        Ok(requester) if undecided && stored.hearing.is_none() => {
            guardians_to_hear(requester, &rule_guardians(&of_child))
        }
        _ => Vec::new(),
    };
    let rendered = DestructionRequest {
        id: stored.id,
        child_id: stored.child_id,
        requester: stored.requester,
        guardian_id: stored.requester_guardian_id,
        received_on: stored.received_on,
        scope: stored.scope,
        records: stored.records().into_iter().map(Into::into).collect(),
        hearing: stored.hearing.map(|outcome| HearingRecord {
            outcome,
            note: stored.hearing_note.clone().unwrap_or_default(),
        }),
        guardians_to_hear: to_hear,
        due_on: stored.due_on,
        overdue: request_overdue(stored.status, stored.due_on, today),
        extension: stored.extended_at.map(|at| TermExtension {
            extended_at: at.into(),
            reason: stored.extension_reason.clone().unwrap_or_default(),
        }),
        status: stored.status,
        decision: stored
            .decided_at
            .map(|decided_at| DestructionDecisionRecord {
                decided_at: decided_at.into(),
                decided_by: Professional {
                    sub: stored.decided_by_sub.clone().unwrap_or_default(),
                    name: stored.decided_by_name.clone().unwrap_or_default(),
                },
                granted_records: stored
                    .granted_records()
                    .map(|r| r.into_iter().map(Into::into).collect()),
                weighing: stored.weighing.clone().unwrap_or_default(),
                refusal_ground: stored.refusal_ground,
                legal_duty: stored.legal_duty.clone(),
            }),
        executed_at: stored.executed_at.map(Into::into),
        recorded_by: Professional {
            sub: stored.created_by_sub.clone(),
            name: stored.created_by_name.clone(),
        },
        created_at: stored.created_at.into(),
    };
    (rendered, stored.id)
}
