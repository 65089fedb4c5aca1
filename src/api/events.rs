//! The event feed: what changed in the caller's organisation, for polling and mobile sync.
//! Ids and types only; the client reads the records with its own token.

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi, param::Query, payload::Json, types::Example};
use uuid::Uuid;

use crate::{
    AppState,
    api::{
        ApiTags,
        paging::{self, decode_cursor, encode_cursor},
        problem::{ApiResult, ReadMany},
        shared::ResourceLink,
        types::{Timestamp, example_time},
    },
    auth::{BearerAuth, policy},
    db::events as queries,
    domain::reference::Labelled,
    error::AppError,
    events::EventType,
    events::{public_id, resource_href},
};

/// Something that happened.
#[derive(Object)]
#[oai(rename_all = "camelCase", example)]
pub struct FeedEvent {
    /// Stable: the same as the webhook-id of its webhook deliveries.
    pub id: String,
    #[oai(rename = "type")]
    pub event_type: EventType,
    pub occurred_at: Timestamp,
    pub resource: ResourceLink,
}

impl Example for FeedEvent {
    fn example() -> Self {
        let id = Uuid::from_u128(0x0193_5b1e_7c1a_7d00_8000_0000_0000_0701);
        Self {
            id: public_id(4711),
            event_type: EventType::HandoffSent,
            occurred_at: example_time(),
            resource: ResourceLink::new("handoff", id, resource_href("handoff", id)),
        }
    }
}

/// A page of the feed, oldest first.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct EventPage {
    pub items: Vec<FeedEvent>,
    /// Pass as `after` for what comes next — also when this page is empty: poll with it.
    pub next_cursor: String,
}

#[derive(ApiResponse)]
pub enum EventFeedResponse {
    /// Events after the cursor, oldest first.
    #[oai(status = 200)]
    Ok(Json<EventPage>),
}

pub struct EventsApi;

#[OpenApi(tag = "ApiTags::Events")]
impl EventsApi {
    /// Event feed
    ///
    /// Your organisation's events, oldest first, after `after` (the `nextCursor` of the previous
    /// page; from the beginning without it): each a type and a link to the record, never its
    /// content. You see events about the records you may read — a teacher, for instance, not those
    /// of cases they cannot open. Filter with `types` (comma-separated, e.g.
    /// `handoff.sent,feedback.sent`). Poll with the returned `nextCursor`; an event committed late
    /// is never skipped.
    #[oai(path = "/events", method = "get", operation_id = "listEvents")]
    async fn feed(
        &self,
        auth: BearerAuth,
        state: Data<&Arc<AppState>>,
        /// `nextCursor` of the previous page.
        #[oai(validator(max_length = 500))]
        after: Query<Option<String>>,
        /// Page size: 1 to 200, default 50.
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<u32>>,
        /// Only these event types, comma-separated.
        #[oai(validator(max_length = 2000))]
        types: Query<Option<String>>,
    ) -> ApiResult<EventFeedResponse, ReadMany> {
        let principal = auth.0;
        let position: (i64, i64) = decode_cursor(after.0.as_deref())
            .map_err(|_| AppError::invalid_param("after", "is not a cursor this feed returned"))?
            .unwrap_or((0, 0));
        let types = types.0.as_deref().map(parse_types).transpose()?;
        let fetch = paging::fetch_size(limit.0);
        let scope = policy::event_scope(&principal);
        let mut conn = state.pool.get().await?;
        let rows = queries::feed(
            &mut conn,
            principal.org_id(),
            &scope,
            types.as_deref(),
            position,
            fetch - 1,
        )
        .await?;
        let next_cursor = rows
            .last()
            .map(|e| encode_cursor(&(e.tx_id, e.id)))
            .unwrap_or_else(|| encode_cursor(&position));
        Ok(EventFeedResponse::Ok(Json(EventPage {
            // Every stored type is one of ours; one this version does not know is left out.
            items: rows.into_iter().filter_map(feed_event).collect(),
            next_cursor,
        })))
    }
}

/// `types`: comma-separated event types, each one this version knows.
fn parse_types(list: &str) -> Result<Vec<String>, AppError> {
    list.split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|name| {
            EventType::parse(name)
                .map(|t| t.code().to_owned())
                .ok_or_else(|| {
                    AppError::invalid_param(
                        "types",
                        format!("`{name}` is not an event type; see /v1/reference/event-types"),
                    )
                })
        })
        .collect()
}

fn feed_event(e: queries::FeedEvent) -> Option<FeedEvent> {
    Some(FeedEvent {
        id: public_id(e.id),
        event_type: EventType::parse(&e.event_type)?,
        occurred_at: e.occurred_at.into(),
        resource: ResourceLink::new(
            &e.resource_type,
            e.resource_id,
            resource_href(&e.resource_type, e.resource_id),
        ),
    })
}
