//! Rotating a webhook subscription's signing secret (Standard Webhooks): the new secret is
//! shown once; for an overlap (`WEBHOOK_SECRET_OVERLAP_HOURS`) deliveries carry both
//! signatures in `webhook-signature`, so the receiver can switch without losing one.

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::{
    ApiResponse, Object, OpenApi, param::Header, param::Path, payload::Json, types::Example,
};
use uuid::Uuid;

use crate::{
    AppState,
    api::{
        ApiTags,
        context::Ctx,
        etag,
        problem::{ApiResult, Change},
        types::{Timestamp, example_time},
        webhooks::{WebhookSubscription, audited, manager, own_subscription, render},
    },
    audit::AccessAction,
    auth::BearerAuth,
    db::webhooks as queries,
    webhooks as delivery,
};

/// The subscription with its new signing secret — shown this once; store it safely.
#[derive(Object)]
#[oai(rename_all = "camelCase", example)]
pub struct RotatedWebhookSecret {
    #[oai(flatten)]
    pub subscription: WebhookSubscription,
    /// The new secret: `whsec_` and the base64 of 32 random bytes.
    pub secret: String,
    /// Until then deliveries are also signed with the previous secret.
    pub previous_secret_expires_at: Timestamp,
}

impl Example for RotatedWebhookSecret {
    fn example() -> Self {
        Self {
            subscription: WebhookSubscription::example(),
            secret: "whsec_3kQh0iE7m9yT2bVx5cZ1aN8pL4sD6fG0hJ2kL4mN6pQ=".into(),
            previous_secret_expires_at: example_time(),
        }
    }
}

#[derive(ApiResponse)]
pub enum RotateSecretResponse {
    /// The new secret, once; both secrets sign until `previousSecretExpiresAt`.
    #[oai(status = 200)]
    Ok(Json<RotatedWebhookSecret>, #[oai(header = "ETag")] String),
}

pub struct WebhookSecretsApi;

#[OpenApi(tag = "ApiTags::Webhooks")]
impl WebhookSecretsApi {
    /// Rotate the signing secret
    ///
    /// Replaces the subscription's signing secret (`org_admin` only) and returns the new one,
    /// this once. Until `previousSecretExpiresAt` every delivery carries two signatures in
    /// `webhook-signature`, space-separated (`v1,<new> v1,<old>`): accept either, switch your
    /// receiver to the new secret, and the old one is dropped when the overlap ends. A second
    /// rotation within the overlap drops the oldest secret at once. Send `If-Match` with the
    /// ETag you read to act only on the state you saw.
    #[oai(
        path = "/webhook-subscriptions/:id/secret-rotation",
        method = "post",
        operation_id = "rotateWebhookSecret"
    )]
    async fn rotate(
        &self,
        auth: BearerAuth,
        state: Data<&Arc<AppState>>,
        cx: Ctx,
        /// The subscription's id.
        id: Path<Uuid>,
        /// ETag of the copy you read.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
    ) -> ApiResult<RotateSecretResponse, Change> {
        let principal = manager(auth)?;
        let config = &state.webhooks;
        let secret = delivery::new_secret();
        let until = chrono::Utc::now()
            + chrono::Duration::from_std(config.secret_overlap)
                .unwrap_or(chrono::Duration::hours(24));
        let stored = cx
            .db
            .transaction(async |conn| {
                let stored = own_subscription(conn, &principal, id.0, true).await?;
                etag::check_if_match(if_match.0.as_deref(), &etag::of(&render(&stored)))?;
                let sealed = config.secret_keys.seal(stored.id, &secret);
                queries::rotate_secret(conn, stored.id, &sealed, until).await?;
                audited(AccessAction::Update, stored.id)
                    .write(conn, cx.actor(&principal))
                    .await?;
                own_subscription(conn, &principal, id.0, false).await
            })
            .await?;
        tracing::info!(subscription = %stored.id, "webhook secret rotated");
        let subscription = render(&stored);
        let tag = etag::of(&subscription);
        Ok(RotateSecretResponse::Ok(
            Json(RotatedWebhookSecret {
                subscription,
                secret,
                previous_secret_expires_at: until.into(),
            }),
            tag,
        ))
    }
}
