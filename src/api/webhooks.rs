//! Webhook subscriptions of an organisation (its `org_admin` manages them) and their deliveries.
//! The worker that delivers lives in `crate::webhooks`.

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::{
    ApiResponse, Enum, Object, OpenApi,
    param::{Header, Path, Query},
    payload::Json,
    types::Example,
};
use serde::Deserialize;
use uuid::Uuid;

use crate::{
    AppState,
    api::{
        ApiTags,
        body::JsonBody,
        context::Ctx,
        etag,
        paging::{self, decode_cursor},
        problem::{ApiResult, Change, Create, ReadMany, ReadOne},
        types::{Timestamp, example_id, example_time},
    },
    audit::{Access, AccessAction},
    auth::{
        BearerAuth, Principal,
        policy::{self, Action},
    },
    db::{
        Conn, events as event_queries,
        webhooks::{self as queries, Delivery as StoredDelivery, NewSubscription},
    },
    domain::reference::Labelled,
    domain::webhook::DeliveryStatus,
    effects::Effects,
    error::{AppError, ProblemKind},
    events::EventType,
    events::public_id,
    webhooks as delivery,
};

/// A webhook subscription to create.
#[derive(Object, Deserialize)]
#[oai(rename_all = "camelCase", deny_unknown_fields, example)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewWebhookSubscription {
    /// Where to POST events: `https://…` (plain `http` only to a loopback address, and only
    /// where the server allows it for development).
    #[oai(validator(min_length = 1, max_length = 2000))]
    pub url: String,
    /// The event types to deliver (see `/v1/reference/event-types`).
    #[oai(validator(min_items = 1, max_items = 50))]
    pub event_types: Vec<EventType>,
    /// What the subscription is for, e.g. the receiving system.
    #[oai(validator(max_length = 500), skip_serializing_if_is_none)]
    pub description: Option<String>,
}

impl Example for NewWebhookSubscription {
    fn example() -> Self {
        Self {
            url: "https://parnassys.example/schakel/webhooks".into(),
            event_types: vec![EventType::FeedbackSent, EventType::HandoffAcknowledged],
            description: Some("ParnasSys koppeling".into()),
        }
    }
}

/// Whether a subscription delivers.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum WebhookSubscriptionStatus {
    /// Delivers events.
    Active,
    /// Stopped after a run of failed deliveries; reactivate it when the receiver works again.
    Disabled,
}

/// A webhook subscription. Its signing secret is shown only once, when it is created.
#[derive(Object)]
#[oai(rename_all = "camelCase", example)]
pub struct WebhookSubscription {
    pub id: Uuid,
    pub url: String,
    pub event_types: Vec<EventType>,
    #[oai(skip_serializing_if_is_none)]
    pub description: Option<String>,
    pub status: WebhookSubscriptionStatus,
    /// Failed attempts in a row, across deliveries; a success resets it.
    pub consecutive_failures: i32,
    #[oai(skip_serializing_if_is_none)]
    pub disabled_at: Option<Timestamp>,
    #[oai(skip_serializing_if_is_none)]
    pub disabled_reason: Option<String>,
    pub created_at: Timestamp,
}

impl Example for WebhookSubscription {
    fn example() -> Self {
        let new = NewWebhookSubscription::example();
        Self {
            id: example_id(0x900 + 1),
            url: new.url,
            event_types: new.event_types,
            description: new.description,
            status: WebhookSubscriptionStatus::Active,
            consecutive_failures: 0,
            disabled_at: None,
            disabled_reason: None,
            created_at: example_time(),
        }
    }
}

/// A new subscription with its signing secret — shown this once; store it safely.
#[derive(Object)]
#[oai(rename_all = "camelCase", example)]
pub struct CreatedWebhookSubscription {
    #[oai(flatten)]
    pub subscription: WebhookSubscription,
    /// `whsec_` followed by the base64 of 32 random bytes; the HMAC-SHA256 key is those bytes
    /// (as in the Standard Webhooks libraries).
    pub secret: String,
}

impl Example for CreatedWebhookSubscription {
    fn example() -> Self {
        Self {
            subscription: WebhookSubscription::example(),
            secret: "whsec_wrnxoE1+O4iQqlweby1Ld4jhnANV+m0htMjn+QEqPV4=".into(),
        }
    }
}

/// A page of subscriptions, oldest first.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct WebhookSubscriptionPage {
    pub items: Vec<WebhookSubscription>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// One event's delivery to a subscription.
#[derive(Object)]
#[oai(rename_all = "camelCase", example)]
pub struct WebhookDelivery {
    pub id: Uuid,
    /// The event: the `webhook-id` header and the CloudEvents `id` of every attempt.
    pub event_id: String,
    pub event_type: EventType,
    pub status: DeliveryStatus,
    /// Attempts made (since the last redelivery).
    pub attempts: i32,
    /// When the next attempt is due; only while pending.
    #[oai(skip_serializing_if_is_none)]
    pub next_attempt_at: Option<Timestamp>,
    #[oai(skip_serializing_if_is_none)]
    pub last_attempt_at: Option<Timestamp>,
    /// The receiver's HTTP status at the last attempt, if it answered.
    #[oai(skip_serializing_if_is_none)]
    pub last_status_code: Option<i32>,
    /// Why the last attempt failed.
    #[oai(skip_serializing_if_is_none)]
    pub last_error: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub delivered_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

impl Example for WebhookDelivery {
    fn example() -> Self {
        Self {
            id: example_id(0x900 + 2),
            event_id: public_id(4711),
            event_type: EventType::FeedbackSent,
            status: DeliveryStatus::Pending,
            attempts: 2,
            next_attempt_at: Some(example_time()),
            last_attempt_at: Some(example_time()),
            last_status_code: Some(503),
            last_error: Some("the receiver answered 503 Service Unavailable".into()),
            delivered_at: None,
            created_at: example_time(),
        }
    }
}

/// A page of deliveries, newest event first.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct WebhookDeliveryPage {
    pub items: Vec<WebhookDelivery>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

#[derive(ApiResponse)]
pub enum CreateSubscriptionResponse {
    /// Created; the response holds the signing secret, shown only now.
    #[oai(status = 201)]
    Created(
        Json<CreatedWebhookSubscription>,
        /// The subscription.
        #[oai(header = "Location")]
        String,
    ),
}

#[derive(ApiResponse)]
pub enum SubscriptionResponse {
    /// The subscription.
    #[oai(status = 200)]
    Ok(Json<WebhookSubscription>, #[oai(header = "ETag")] String),
    /// Unchanged since the ETag in `If-None-Match`.
    #[oai(status = 304)]
    NotModified(#[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum ReactivateResponse {
    /// Active again; pending deliveries resume, and events since it stopped follow.
    #[oai(status = 200)]
    Ok(Json<WebhookSubscription>, #[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum SubscriptionListResponse {
    /// The organisation's subscriptions.
    #[oai(status = 200)]
    Ok(Json<WebhookSubscriptionPage>),
}

#[derive(ApiResponse)]
pub enum DeleteSubscriptionResponse {
    /// Deleted: nothing more is delivered.
    #[oai(status = 204)]
    Deleted,
}

#[derive(ApiResponse)]
pub enum DeliveryListResponse {
    /// The subscription's deliveries.
    #[oai(status = 200)]
    Ok(Json<WebhookDeliveryPage>),
}

#[derive(ApiResponse)]
pub enum DeliveryResponse {
    /// The delivery.
    #[oai(status = 200)]
    Ok(Json<WebhookDelivery>, #[oai(header = "ETag")] String),
    /// Unchanged since the ETag in `If-None-Match`.
    #[oai(status = 304)]
    NotModified(#[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum RedeliveryResponse {
    /// Queued: the delivery is pending with a fresh run of attempts.
    #[oai(status = 202)]
    Accepted(Json<WebhookDelivery>, #[oai(header = "ETag")] String),
}

pub(crate) fn render(stored: &queries::Subscription) -> WebhookSubscription {
    WebhookSubscription {
        id: stored.id,
        url: stored.url.clone(),
        event_types: stored.event_types().filter_map(EventType::parse).collect(),
        description: stored.description.clone(),
        status: if stored.is_active() {
            WebhookSubscriptionStatus::Active
        } else {
            WebhookSubscriptionStatus::Disabled
        },
        consecutive_failures: stored.consecutive_failures,
        disabled_at: stored.disabled_at.map(Into::into),
        disabled_reason: stored.disabled_reason.clone(),
        created_at: stored.created_at.into(),
    }
}

/// `None` for an event type this version does not know (as in the feed, it is left out).
fn render_delivery((stored, event_type): &(StoredDelivery, String)) -> Option<WebhookDelivery> {
    let status = stored.status;
    Some(WebhookDelivery {
        id: stored.id,
        event_id: public_id(stored.event_id),
        event_type: EventType::parse(event_type)?,
        status,
        attempts: stored.attempts,
        next_attempt_at: (status == DeliveryStatus::Pending).then(|| stored.next_attempt_at.into()),
        last_attempt_at: stored.last_attempt_at.map(Into::into),
        last_status_code: stored.last_status_code,
        last_error: stored.last_error.clone(),
        delivered_at: stored.delivered_at.map(Into::into),
        created_at: stored.created_at.into(),
    })
}

/// The caller's organisation's subscription, or 404 (also for another organisation's).
pub(crate) async fn own_subscription(
    conn: &mut diesel_async::AsyncPgConnection,
    principal: &Principal,
    id: Uuid,
    lock: bool,
) -> Result<queries::Subscription, AppError> {
    queries::find_subscription(conn, principal.org_id(), id, lock)
        .await?
        .ok_or_else(AppError::not_found)
}

pub(crate) fn manager(auth: BearerAuth) -> Result<Principal, AppError> {
    let principal = auth.0;
    policy::require(&principal, Action::ManageWebhooks)?;
    Ok(principal)
}

async fn managing(auth: BearerAuth, state: &AppState) -> Result<(Principal, Conn), AppError> {
    let principal = manager(auth)?;
    let conn = state.pool.get().await?;
    Ok((principal, conn))
}

const SUBSCRIPTION: &str = "webhook_subscription";

/// A change to a subscription in the access log: who pointed the organisation's events where.
pub(crate) fn audited(action: AccessAction, subscription: Uuid) -> Effects {
    Effects::new().access(Access::allowed(action, SUBSCRIPTION, subscription))
}

pub struct WebhooksApi;

#[OpenApi(tag = "ApiTags::Webhooks")]
impl WebhooksApi {
    /// Subscribe to events
    ///
    /// Creates a webhook subscription for your organisation (`org_admin` only). From now on,
    /// every event of the chosen types is POSTed to `url` as a CloudEvents 1.0 JSON body
    /// (`application/cloudevents+json`), signed as in Standard Webhooks: headers `webhook-id`
    /// (the event id, the same on every retry — use it to ignore duplicates),
    /// `webhook-timestamp` (Unix seconds) and `webhook-signature` (`v1,` and the base64
    /// HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}`, keyed with the bytes of the
    /// secret after `whsec_`). Answer 2xx within a few seconds; anything else is retried with
    /// exponential backoff for about a day. The body holds ids and types only: read the record
    /// with your token. The secret is in this response only.
    #[oai(
        path = "/webhook-subscriptions",
        method = "post",
        operation_id = "createWebhookSubscription"
    )]
    async fn create(
        &self,
        auth: BearerAuth,
        state: Data<&Arc<AppState>>,
        cx: Ctx,
        body: JsonBody<NewWebhookSubscription>,
    ) -> ApiResult<CreateSubscriptionResponse, Create> {
        let principal = manager(auth)?;
        let input = body.0;
        let config = &state.webhooks;
        let url = delivery::check_url(input.url.trim(), config.allow_insecure_loopback)
            .map_err(|reason| AppError::invalid_param("url", reason))?;
        if let Some(host) = url.host() {
            delivery::destination::checked_addresses(
                &host,
                &config.lookup,
                config.allow_insecure_loopback,
            )
            .await
            .map_err(|reason| AppError::invalid_param("url", reason))?;
        }
        let mut event_types: Vec<String> = Vec::new();
        for event_type in &input.event_types {
            let code = event_type.code().to_owned();
            if !event_types.contains(&code) {
                event_types.push(code);
            }
        }
        let secret = delivery::new_secret();
        let id = Uuid::now_v7();
        // Stored encrypted: the database never holds a secret in the clear.
        let sealed = config.secret_keys.seal(id, &secret);
        let stored = cx
            .db
            .transaction(async |conn| {
                // Start at the newest event: a subscription receives what happens from now on.
                let cursor = event_queries::head(conn, principal.org_id()).await?;
                let stored = queries::insert_subscription(
                    conn,
                    NewSubscription {
                        id,
                        organisation_id: principal.org_id(),
                        url: url.as_str(),
                        event_types,
                        description: input.description.as_deref(),
                        secret: &sealed,
                        cursor,
                        created_by_sub: &principal.sub,
                    },
                )
                .await?;
                audited(AccessAction::Create, stored.id)
                    .write(conn, cx.actor(&principal))
                    .await?;
                Ok(stored)
            })
            .await?;
        tracing::info!(subscription = %stored.id, "webhook subscription created");
        Ok(CreateSubscriptionResponse::Created(
            Json(CreatedWebhookSubscription {
                subscription: render(&stored),
                secret,
            }),
            format!("/v1/webhook-subscriptions/{}", stored.id),
        ))
    }

    /// List webhook subscriptions
    ///
    /// Your organisation's webhook subscriptions, oldest first (`org_admin` only). Secrets are
    /// never shown again.
    #[oai(
        path = "/webhook-subscriptions",
        method = "get",
        operation_id = "listWebhookSubscriptions"
    )]
    async fn list(
        &self,
        auth: BearerAuth,
        state: Data<&Arc<AppState>>,
        /// Page size: 1 to 200, default 50.
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<u32>>,
        /// `nextCursor` of the previous page.
        #[oai(validator(max_length = 500))]
        cursor: Query<Option<String>>,
    ) -> ApiResult<SubscriptionListResponse, ReadMany> {
        let (principal, mut conn) = managing(auth, &state).await?;
        let after: Option<Uuid> = decode_cursor(cursor.0.as_deref())?;
        let fetch = paging::fetch_size(limit.0);
        let rows = queries::list_subscriptions(&mut conn, principal.org_id(), after, fetch).await?;
        let (rows, next_cursor) = paging::paginate(rows, fetch, |s| s.id);
        Ok(SubscriptionListResponse::Ok(Json(
            WebhookSubscriptionPage {
                items: rows.iter().map(render).collect(),
                next_cursor,
            },
        )))
    }

    /// Get a webhook subscription
    ///
    /// One of your organisation's subscriptions, with its status and run of failures
    /// (`org_admin` only).
    #[oai(
        path = "/webhook-subscriptions/:id",
        method = "get",
        operation_id = "getWebhookSubscription"
    )]
    async fn get(
        &self,
        auth: BearerAuth,
        state: Data<&Arc<AppState>>,
        /// The subscription's id.
        id: Path<Uuid>,
        /// ETag of your copy: 304 if it is current.
        #[oai(name = "If-None-Match")]
        if_none_match: Header<Option<String>>,
    ) -> ApiResult<SubscriptionResponse, ReadOne> {
        let (principal, mut conn) = managing(auth, &state).await?;
        let rendered = render(&own_subscription(&mut conn, &principal, id.0, false).await?);
        let tag = etag::of(&rendered);
        if etag::none_match_hits(if_none_match.0.as_deref(), &tag) {
            return Ok(SubscriptionResponse::NotModified(tag));
        }
        Ok(SubscriptionResponse::Ok(Json(rendered), tag))
    }

    /// Delete a webhook subscription
    ///
    /// Stops deliveries at once (`org_admin` only). Send `If-Match` with the ETag you read; a
    /// stale one answers 412.
    #[oai(
        path = "/webhook-subscriptions/:id",
        method = "delete",
        operation_id = "deleteWebhookSubscription"
    )]
    async fn delete(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The subscription's id.
        id: Path<Uuid>,
        /// ETag of the copy you mean to delete.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
    ) -> ApiResult<DeleteSubscriptionResponse, Change> {
        let principal = manager(auth)?;
        cx.db
            .transaction(async |conn| {
                let stored = own_subscription(conn, &principal, id.0, true).await?;
                etag::check_if_match(if_match.0.as_deref(), &etag::of(&render(&stored)))?;
                queries::delete_subscription(conn, stored.id).await?;
                audited(AccessAction::Update, stored.id)
                    .write(conn, cx.actor(&principal))
                    .await?;
                Ok(())
            })
            .await?;
        tracing::info!(subscription = %id.0, "webhook subscription deleted");
        Ok(DeleteSubscriptionResponse::Deleted)
    }

    /// Reactivate a webhook subscription
    ///
    /// Turns a subscription that was disabled after failed deliveries back on (`org_admin`
    /// only): its run of failures starts at zero, pending deliveries resume, and events that
    /// happened while it was disabled are delivered too. Failed deliveries stay failed; ask for
    /// their redelivery. Send `If-Match` with the ETag you read; a stale one answers 412.
    #[oai(
        path = "/webhook-subscriptions/:id/reactivation",
        method = "post",
        operation_id = "reactivateWebhookSubscription"
    )]
    async fn reactivate(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The subscription's id.
        id: Path<Uuid>,
        /// ETag of the copy you read.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
    ) -> ApiResult<ReactivateResponse, Change> {
        let principal = manager(auth)?;
        let stored = cx
            .db
            .transaction(async |conn| {
                let stored = own_subscription(conn, &principal, id.0, true).await?;
                etag::check_if_match(if_match.0.as_deref(), &etag::of(&render(&stored)))?;
                if stored.is_active() {
                    return Ok(stored);
                }
                queries::reactivate(conn, stored.id).await?;
                audited(AccessAction::Update, stored.id)
                    .write(conn, cx.actor(&principal))
                    .await?;
                own_subscription(conn, &principal, id.0, false).await
            })
            .await?;
        let rendered = render(&stored);
        let tag = etag::of(&rendered);
        Ok(ReactivateResponse::Ok(Json(rendered), tag))
    }

    /// List deliveries
    ///
    /// A subscription's deliveries, newest event first, with their status, attempts and the
    /// receiver's last answer (`org_admin` only). Filter with `status`, e.g. `failed`.
    #[oai(
        path = "/webhook-subscriptions/:id/deliveries",
        method = "get",
        operation_id = "listWebhookDeliveries"
    )]
    async fn deliveries(
        &self,
        auth: BearerAuth,
        state: Data<&Arc<AppState>>,
        /// The subscription's id.
        id: Path<Uuid>,
        status: Query<Option<DeliveryStatus>>,
        /// Page size: 1 to 200, default 50.
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<u32>>,
        /// `nextCursor` of the previous page.
        #[oai(validator(max_length = 500))]
        cursor: Query<Option<String>>,
    ) -> ApiResult<DeliveryListResponse, ReadOne> {
        let (principal, mut conn) = managing(auth, &state).await?;
        let before: Option<i64> = decode_cursor(cursor.0.as_deref())?;
        let subscription = own_subscription(&mut conn, &principal, id.0, false).await?;
        let fetch = paging::fetch_size(limit.0);
        let rows =
            queries::list_deliveries(&mut conn, subscription.id, status.0, before, fetch).await?;
        let (rows, next_cursor) = paging::paginate(rows, fetch, |(d, _)| d.event_id);
        Ok(DeliveryListResponse::Ok(Json(WebhookDeliveryPage {
            items: rows.iter().filter_map(render_delivery).collect(),
            next_cursor,
        })))
    }

    /// Get a delivery
    ///
    /// One delivery of a subscription (`org_admin` only).
    #[oai(
        path = "/webhook-subscriptions/:id/deliveries/:deliveryId",
        method = "get",
        operation_id = "getWebhookDelivery"
    )]
    async fn delivery(
        &self,
        auth: BearerAuth,
        state: Data<&Arc<AppState>>,
        /// The subscription's id.
        id: Path<Uuid>,
        /// The delivery's id.
        #[oai(name = "deliveryId")]
        delivery_id: Path<Uuid>,
        /// ETag of your copy: 304 if it is current.
        #[oai(name = "If-None-Match")]
        if_none_match: Header<Option<String>>,
    ) -> ApiResult<DeliveryResponse, ReadOne> {
        let (principal, mut conn) = managing(auth, &state).await?;
        let subscription = own_subscription(&mut conn, &principal, id.0, false).await?;
        let stored = queries::find_delivery(&mut conn, subscription.id, delivery_id.0)
            .await?
            .ok_or_else(AppError::not_found)?;
        let rendered = render_delivery(&stored).ok_or_else(AppError::not_found)?;
        let tag = etag::of(&rendered);
        if etag::none_match_hits(if_none_match.0.as_deref(), &tag) {
            return Ok(DeliveryResponse::NotModified(tag));
        }
        Ok(DeliveryResponse::Ok(Json(rendered), tag))
    }

    /// Redeliver
    ///
    /// Queues a delivery again — failed, delivered or pending — with a fresh run of attempts,
    /// starting now (`org_admin` only). The receiver gets the same `webhook-id`. Refused with 409
    /// while an attempt is in flight or the subscription is disabled (reactivate it first).
    /// Send `If-Match` with the delivery's ETag to act only on the state you saw.
    #[oai(
        path = "/webhook-subscriptions/:id/deliveries/:deliveryId/redelivery",
        method = "post",
        operation_id = "redeliverWebhook"
    )]
    async fn redeliver(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The subscription's id.
        id: Path<Uuid>,
        /// The delivery's id.
        #[oai(name = "deliveryId")]
        delivery_id: Path<Uuid>,
        /// ETag of the delivery as you read it.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
    ) -> ApiResult<RedeliveryResponse, Change> {
        let principal = manager(auth)?;
        let stored = cx
            .db
            .transaction(async |conn| {
                let subscription = own_subscription(conn, &principal, id.0, true).await?;
                let current = queries::find_delivery(conn, subscription.id, delivery_id.0)
                    .await?
                    .ok_or_else(AppError::not_found)?;
                etag::check_if_match(
                    if_match.0.as_deref(),
                    &etag::of(&render_delivery(&current).ok_or_else(AppError::not_found)?),
                )?;
                if !subscription.is_active() {
                    return Err(AppError::new(
                        ProblemKind::WebhookSubscriptionDisabled,
                        "The subscription is disabled; reactivate it first.",
                    ));
                }
                if !queries::redeliver(conn, current.0.id).await? {
                    return Err(AppError::new(
                        ProblemKind::DeliveryInFlight,
                        "An attempt of this delivery is under way; ask again when it is done.",
                    ));
                }
                audited(AccessAction::Update, subscription.id)
                    .write(conn, cx.actor(&principal))
                    .await?;
                queries::find_delivery(conn, subscription.id, delivery_id.0)
                    .await?
                    .ok_or_else(AppError::not_found)
            })
            .await?;
        let rendered = render_delivery(&stored).ok_or_else(AppError::not_found)?;
        let tag = etag::of(&rendered);
        Ok(RedeliveryResponse::Accepted(Json(rendered), tag))
    }
}
