//! The access log, for the organisation's privacy officer: every access by the organisation's
//! own professionals, and (in [`integrity`]) its checkpoint and verification. Reading the log is
//! itself logged, with the filters used.

pub mod integrity;

use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
    types::Example,
};
use uuid::Uuid;

use crate::{
    api::{
        ApiTags,
        context::Ctx,
        paging::{self, decode_cursor},
        problem::{ApiResult, ReadMany, ReadOne},
        shared::Professional,
        types::{Timestamp, example_time},
    },
    audit::{self, Access, AccessAction, LogFilter},
    auth::{
        BearerAuth,
        policy::{self, Action},
    },
    db::children as child_queries,
    effects::Effects,
    error::AppError,
};

/// One access.
#[derive(Object)]
#[oai(rename_all = "camelCase", example)]
pub struct AccessLogEntry {
    /// Its position in the log.
    pub id: i64,
    pub occurred_at: Timestamp,
    pub actor: Professional,
    /// The machine client acting for the professional, if any.
    #[oai(skip_serializing_if_is_none)]
    pub acting_client: Option<String>,
    pub roles: Vec<String>,
    /// `create`, `read`, `update`, `export`, `disclose` or `purge`.
    pub action: String,
    pub resource_type: String,
    #[oai(skip_serializing_if_is_none)]
    pub resource_id: Option<Uuid>,
    /// The child the record concerns.
    #[oai(skip_serializing_if_is_none)]
    pub child_id: Option<Uuid>,
    #[oai(skip_serializing_if_is_none)]
    pub legal_basis: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub consent_id: Option<Uuid>,
    /// For a disclosure: the organisation the data went to.
    #[oai(skip_serializing_if_is_none)]
    pub recipient_organisation_id: Option<Uuid>,
    /// `allowed` or `denied`.
    pub outcome: String,
    pub request_id: String,
    #[oai(skip_serializing_if_is_none)]
    pub client_address: Option<String>,
    /// The W3C trace id of the request (from its `traceparent`), to join your own logs to
    /// this one.
    #[oai(skip_serializing_if_is_none)]
    pub trace_id: Option<String>,
    /// For a read of the access log itself: the filters it used, as a query string.
    #[oai(skip_serializing_if_is_none)]
    pub filters: Option<String>,
}

impl Example for AccessLogEntry {
    fn example() -> Self {
        Self {
            id: 4_217,
            occurred_at: example_time(),
            actor: Professional {
                sub: "ib-fatima".into(),
                name: "Fatima El Amrani".into(),
            },
            acting_client: Some("parnassys".into()),
            roles: vec!["care_coordinator".into()],
            action: "disclose".into(),
            resource_type: "handoff".into(),
            resource_id: Some(Uuid::from_u128(0x0193_5b1e_7c1a_7d00_8000_0000_0000_0701)),
            child_id: Some(Uuid::from_u128(0x0193_5b1e_7c1a_7d00_8000_0000_0000_0101)),
            legal_basis: Some("meldrecht".into()),
            consent_id: None,
            recipient_organisation_id: Some(Uuid::from_u128(
                0x0193_5b1e_7c1a_7d00_8000_0000_0000_0003,
            )),
            outcome: "allowed".into(),
            request_id: "3f2b0c6e-1d7a-4b8e-9c0d-5e6f7a8b9c0d".into(),
            client_address: Some("192.0.2.10".into()),
            trace_id: Some("4bf92f3577b34da6a3ce929d0e0e4736".into()),
            filters: None,
        }
    }
}

/// A page of the access log, newest first.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct AccessLogPage {
    pub items: Vec<AccessLogEntry>,
    /// Pass as `cursor` for the next (older) page; `null` on the last page.
    pub next_cursor: Option<String>,
}

#[derive(ApiResponse)]
pub enum AccessLogResponse {
    /// Entries, newest first.
    #[oai(status = 200)]
    Ok(Json<AccessLogPage>),
}

pub struct AccessLogApi;

#[OpenApi(tag = "ApiTags::AccessLog")]
impl AccessLogApi {
    /// Read the access log
    ///
    /// Every access by your organisation's professionals to child data — who, acting client,
    /// roles, action, record, child, legal basis or consent, recipient of a disclosure, outcome,
    /// request id and address — newest first. Filter by `childId` (e.g. for a data-subject
    /// request), `actor` (a `sub`) or `resourceId`. Privacy officers only; this read is logged too.
    #[oai(path = "/access-log", method = "get", operation_id = "listAccessLog")]
    #[allow(clippy::too_many_arguments)] // one argument per query parameter
    async fn list(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// Only entries about this child.
        #[oai(name = "childId")]
        child_id: Query<Option<Uuid>>,
        /// Only entries of this professional (`sub`).
        #[oai(validator(min_length = 1, max_length = 200))]
        actor: Query<Option<String>>,
        /// Only entries about this record.
        #[oai(name = "resourceId")]
        resource_id: Query<Option<Uuid>>,
        /// Page size: 1 to 200, default 50.
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<u32>>,
        /// `nextCursor` of the previous page.
        #[oai(validator(max_length = 500))]
        cursor: Query<Option<String>>,
    ) -> ApiResult<AccessLogResponse, ReadMany> {
        let principal = &auth.0;
        policy::require(principal, Action::ReadAccessLog)?;
        let before: Option<i64> = decode_cursor(cursor.0.as_deref())?;
        let fetch = paging::fetch_size(limit.0);
        let filter = LogFilter {
            child: child_id.0,
            actor: actor.0,
            resource: resource_id.0,
            ..LogFilter::default()
        };
        let actor = cx.actor(principal);
        let (rows, next_cursor) = cx
            .db
            .transaction(async |conn| {
                let rows = audit::list(conn, principal.org_id(), &filter, before, fetch).await?;
                let (rows, next_cursor) = paging::paginate(rows, fetch, |e| e.id);
                // Access to the log is logged too, after the page was read, with its filters.
                let mut access =
                    Access::unnamed(AccessAction::Read, "access_log").with_filters(&filter);
                access.resource_id = filter.resource;
                access.child_id = filter.child;
                Effects::new().access(access).write(conn, actor).await?;
                Ok((rows, next_cursor))
            })
            .await?;
        Ok(AccessLogResponse::Ok(Json(AccessLogPage {
            items: rows.into_iter().map(AccessLogEntry::from).collect(),
            next_cursor,
        })))
    }

    /// A child's access log
    ///
    /// Every access by your organisation's professionals to this child's data — when, who (name,
    /// role, acting client), which record, what action, on what legal basis or consent, with
    /// what outcome — newest first, including reads of the handoffs and feedback about the
    /// child logged before it was linked to them (e.g. an incoming report read before intake): what a parent or the child asking who looked at their data
    /// is entitled to (NEN 7513's client view). Filter by period with `from` and `until`.
    /// Privacy officers only; this read is logged too.
    #[oai(
        path = "/children/:id/access-log",
        method = "get",
        operation_id = "listChildAccessLog"
    )]
    #[allow(clippy::too_many_arguments)] // one argument per query parameter
    async fn child(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The child's id.
        id: Path<Uuid>,
        /// Only accesses at or after this moment.
        from: Query<Option<Timestamp>>,
        /// Only accesses before this moment.
        until: Query<Option<Timestamp>>,
        /// Page size: 1 to 200, default 50.
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<u32>>,
        /// `nextCursor` of the previous page.
        #[oai(validator(max_length = 500))]
        cursor: Query<Option<String>>,
    ) -> ApiResult<AccessLogResponse, ReadOne> {
        let principal = &auth.0;
        policy::require(principal, Action::ReadAccessLog)?;
        let before: Option<i64> = decode_cursor(cursor.0.as_deref())?;
        let fetch = paging::fetch_size(limit.0);
        let actor = cx.actor(principal);
        let (rows, next_cursor) = cx
            .db
            .transaction(async |conn| {
                // A purged child's log stays readable: it outlives the records it concerns.
                let child = child_queries::find_including_purged(conn, principal.org_id(), id.0)
                    .await?
                    .ok_or_else(AppError::not_found)?;
                let filter = LogFilter {
                    child: Some(child.id),
                    from: from.0.map(|t| t.0),
                    until: until.0.map(|t| t.0),
                    through_handoffs: true,
                    ..LogFilter::default()
                };
                let rows = audit::list(conn, principal.org_id(), &filter, before, fetch).await?;
                let (rows, next_cursor) = paging::paginate(rows, fetch, |e| e.id);
                let access = Access::allowed(AccessAction::Read, "access_log", child.id)
                    .about_child(child.id)
                    .with_filters(&filter);
                Effects::new().access(access).write(conn, actor).await?;
                Ok((rows, next_cursor))
            })
            .await?;
        Ok(AccessLogResponse::Ok(Json(AccessLogPage {
            items: rows.into_iter().map(AccessLogEntry::from).collect(),
            next_cursor,
        })))
    }
}

impl From<audit::Entry> for AccessLogEntry {
    fn from(e: audit::Entry) -> Self {
        Self {
            id: e.id,
            occurred_at: e.occurred_at.into(),
            actor: Professional {
                sub: e.actor_sub,
                name: e.actor_name,
            },
            acting_client: e.acting_client,
            roles: e.roles.into_iter().flatten().collect(),
            action: e.action,
            resource_type: e.resource_type,
            resource_id: e.resource_id,
            child_id: e.child_id,
            legal_basis: e.legal_basis,
            consent_id: e.consent_id,
            recipient_organisation_id: e.recipient_organisation_id,
            outcome: e.outcome,
            request_id: e.request_id,
            client_address: e.client_address,
            trace_id: e.trace_id,
            filters: e.filters,
        }
    }
}
