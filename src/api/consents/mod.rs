//! Consent (toestemming) of parents and/or child, recorded by the organisation that holds the
//! child's record: whose consent counts follows from the child's age and the guardians'
//! parental authority; any party may withdraw it at any time. Each command's rules are decided
//! in `domain::consent`; this module loads, asks, writes and renders.

mod dto;
mod render;
mod write;

use chrono::Utc;
use poem_openapi::{
    OpenApi,
    param::{Header, Path},
    payload::Json,
};
use uuid::Uuid;

pub use dto::*;
pub(crate) use render::render;
use write::{announce, load};

use crate::{
    api::{
        ApiTags,
        body::JsonBody,
        children::load_own_child,
        context::Ctx,
        etag,
        problem::{ApiResult, Change, Create, ReadOne},
    },
    audit::{Access, AccessAction},
    auth::{
        BearerAuth,
        policy::{self, Action},
    },
    db::{
        children::{self as child_queries, Guardian},
        consents::{self as queries, party_of_code},
    },
    domain::{
        calendar::to_dutch_time,
        consent::{self as rules, DecisionContext, Party},
        reference::Labelled,
    },
    effects::Effects,
    error::AppError,
    events::EventType,
};

const CONSENT: &str = "consent";

pub struct ConsentsApi;

#[OpenApi(tag = "ApiTags::Consents")]
impl ConsentsApi {
    /// Ask consent
    ///
    /// Records a consent to ask for one of your children: its purpose, the organisation that may
    /// be told, and — for `feedback_to_school` — which feedback categories it covers. The
    /// response lists the required parties: under 12 every guardian with parental authority;
    /// 12 to 15 those and the child; 16 and over the child alone. It starts as `draft`.
    #[oai(path = "/consents", method = "post", operation_id = "createConsent")]
    async fn create(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        body: JsonBody<CreateConsent>,
    ) -> ApiResult<ConsentCreatedResponse, Create> {
        let principal = &auth.0;
        policy::require(principal, Action::RecordConsents)?;
        let input = body.0;
        let actor = cx.actor(principal);
        let (rendered, id) = cx
            .db
            .transaction(async |conn| {
                let (child, context) = write::ask_context(conn, principal, &input).await?;
                let valid_until = rules::decide_ask(&input.as_request(), &context)?;
                let child = child.ok_or_else(AppError::not_found)?;
                let record = write::ask(conn, actor, &child, &input, valid_until).await?;
                let guardians = child_queries::guardians_of(conn, &[child.id]).await?;
                let rendered = render(conn, &record, &child, &guardians).await?;
                Ok((rendered, record.consent.id))
            })
            .await?;
        let tag = etag::of(&rendered);
        Ok(ConsentCreatedResponse::Created(
            Json(rendered),
            format!("/v1/consents/{id}"),
            tag,
        ))
    }

    /// Get a consent
    ///
    /// A consent your organisation recorded, with its required parties, decisions and status
    /// (past `validUntil` it reads `inactive`).
    #[oai(path = "/consents/:id", method = "get", operation_id = "getConsent")]
    async fn get(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The consent's id.
        id: Path<Uuid>,
        /// ETag of the copy the client holds.
        #[oai(name = "If-None-Match")]
        if_none_match: Header<Option<String>>,
    ) -> ApiResult<GetConsentResponse, ReadOne> {
        let principal = &auth.0;
        policy::require(principal, Action::RecordConsents)?;
        let actor = cx.actor(principal);
        let rendered = cx
            .db
            .transaction(async |conn| {
                let (record, child, guardians) = load(conn, principal, id.0, false).await?;
                Effects::new()
                    .access(
                        Access::allowed(AccessAction::Read, CONSENT, record.consent.id)
                            .about_child(child.id),
                    )
                    .write(conn, actor)
                    .await?;
                render(conn, &record, &child, &guardians).await
            })
            .await?;
        let tag = etag::of(&rendered);
        if etag::none_match_hits(if_none_match.0.as_deref(), &tag) {
            return Ok(GetConsentResponse::NotModified(tag));
        }
        Ok(GetConsentResponse::Ok(Json(rendered), tag))
    }

    /// List a child's consents
    ///
    /// Every consent your organisation recorded about the child, oldest first.
    #[oai(
        path = "/children/:id/consents",
        method = "get",
        operation_id = "listChildConsents"
    )]
    async fn list(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The child's id.
        id: Path<Uuid>,
    ) -> ApiResult<ListConsentsResponse, ReadOne> {
        let principal = &auth.0;
        policy::require(principal, Action::RecordConsents)?;
        let actor = cx.actor(principal);
        let items = cx
            .db
            .transaction(async |conn| {
                let child = load_own_child(conn, principal, id.0).await?;
                let guardians = child_queries::guardians_of(conn, &[child.id]).await?;
                let records = queries::of_child(conn, child.id).await?;
                let mut items = Vec::with_capacity(records.len());
                for record in &records {
                    items.push(render(conn, record, &child, &guardians).await?);
                }
                Effects::new()
                    .accesses(records.iter().map(|r| {
                        Access::allowed(AccessAction::Read, CONSENT, r.consent.id)
                            .about_child(child.id)
                    }))
                    .write(conn, actor)
                    .await?;
                Ok(items)
            })
            .await?;
        Ok(ListConsentsResponse::Ok(Json(ConsentList { items })))
    }

    /// Record a party's decision
    ///
    /// Records that a party — `child` or a guardian's id — granted or refused, how, and when.
    /// The consent becomes `active` once every required party granted, `rejected` when one
    /// refused. A guardian whose parental authority is unknown blocks it: 422
    /// `parental-authority-unknown` says whom to verify. A party that is not required: 422
    /// `not-a-required-party`; one that already decided: 409 `already-decided`.
    #[oai(
        path = "/consents/:id/decisions",
        method = "post",
        operation_id = "recordConsentDecision"
    )]
    async fn decide(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The consent's id.
        id: Path<Uuid>,
        /// ETag of the consent the decision is based on.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
        body: JsonBody<RecordDecision>,
    ) -> ApiResult<ConsentCreatedResponse, Change> {
        let principal = &auth.0;
        policy::require(principal, Action::RecordConsents)?;
        let input = body.0;
        let party = parse_party(&input.party)?;
        let actor = cx.actor(principal);
        let rendered = cx
            .db
            .transaction(async |conn| {
                let (mut record, child, guardians) = load(conn, principal, id.0, true).await?;
                let before = render(conn, &record, &child, &guardians).await?;
                etag::check_if_match(if_match.0.as_deref(), &etag::of(&before))?;
                let names: Vec<(Uuid, String)> =
                    guardians.iter().map(|g| (g.id, g.name.clone())).collect();
                let decided: Vec<Party> = record.decisions.iter().map(|d| d.party()).collect();
                let context = DecisionContext {
                    status: before.status,
                    date_of_birth: child.date_of_birth,
                    guardians: &guardians
                        .iter()
                        .map(Guardian::authority)
                        .collect::<Vec<_>>(),
                    guardian_names: &names,
                    decided: &decided,
                    now: Utc::now(),
                };
                let day = to_dutch_time(input.decided_at.0).date_naive();
                rules::decide_decision(party, input.decided_at.0, day, &context)?;
                let decision = queries::insert_decision(
                    conn,
                    record.consent.id,
                    party,
                    input.decision,
                    input.method,
                    input.decided_at.0,
                    (&principal.sub, &principal.name),
                )
                .await?;
                record.decisions.push(decision);
                let after = render(conn, &record, &child, &guardians).await?;
                let words = format!(
                    "{} by {}",
                    input.decision.code(),
                    party_words(party, &guardians)
                );
                write::decision_recorded(conn, actor, &record, after.status, words).await?;
                Ok(after)
            })
            .await?;
        let tag = etag::of(&rendered);
        let location = format!("/v1/consents/{}", rendered.id);
        Ok(ConsentCreatedResponse::Created(
            Json(rendered),
            location,
            tag,
        ))
    }

    /// Withdraw consent
    ///
    /// A party withdraws the consent, at any time: it is `inactive` at once. Disclosures made
    /// under it stay (marked), further ones are refused, and the recipient organisation is
    /// notified (`consent.withdrawn`).
    #[oai(
        path = "/consents/:id/withdrawal",
        method = "post",
        operation_id = "withdrawConsent"
    )]
    async fn withdraw(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The consent's id.
        id: Path<Uuid>,
        /// ETag of the consent the withdrawal is based on.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
        body: JsonBody<WithdrawConsent>,
    ) -> ApiResult<ConsentResponse, Change> {
        let principal = &auth.0;
        policy::require(principal, Action::RecordConsents)?;
        let input = body.0;
        let party = parse_party(&input.party)?;
        let actor = cx.actor(principal);
        let rendered = cx
            .db
            .transaction(async |conn| {
                let (mut record, child, guardians) = load(conn, principal, id.0, true).await?;
                let before = render(conn, &record, &child, &guardians).await?;
                etag::check_if_match(if_match.0.as_deref(), &etag::of(&before))?;
                let decided: Vec<Party> = record.decisions.iter().map(|d| d.party()).collect();
                let withdrawn = record.consent.withdrawn_at.is_some();
                rules::decide_withdrawal(
                    party,
                    withdrawn,
                    before.status,
                    &guardians
                        .iter()
                        .map(Guardian::authority)
                        .collect::<Vec<_>>(),
                    &decided,
                )?;
                record.consent = queries::withdraw(
                    conn,
                    record.consent.id,
                    party,
                    input.reason.as_deref(),
                    &principal.sub,
                )
                .await?;
                announce(
                    conn,
                    &record.consent,
                    EventType::ConsentWithdrawn,
                    "consent.withdrawn",
                    "Consent withdrawn".to_owned(),
                )
                .await?
                .access(
                    Access::allowed(AccessAction::Update, CONSENT, record.consent.id)
                        .about_child(child.id),
                )
                .write(conn, actor)
                .await?;
                render(conn, &record, &child, &guardians).await
            })
            .await?;
        let tag = etag::of(&rendered);
        Ok(ConsentResponse::Ok(Json(rendered), tag))
    }
}

/// `child`, or a guardian's id.
fn parse_party(text: &str) -> Result<Party, AppError> {
    party_of_code(text)
        .ok_or_else(|| AppError::invalid_param("party", "is `child` or a guardian's id"))
}

/// Who decided, for the timeline: a role, never a name.
fn party_words(party: Party, guardians: &[Guardian]) -> String {
    match party {
        Party::Child => "the child".to_owned(),
        Party::Guardian(id) => guardians
            .iter()
            .find(|g| g.id == id)
            .map(|g| g.relationship.label_en().to_lowercase())
            .unwrap_or_else(|| "a guardian".into()),
    }
}
