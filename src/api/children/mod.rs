//! Children, their guardians, and their timeline. Each organisation sees only its own children;
//! another organisation's child answers exactly like one that does not exist. Each command's
//! rules are decided in `domain::child`; this module loads, asks, writes and renders.

mod dto;
mod render;

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use poem_openapi::{
    OpenApi,
    param::{Header, Path, Query},
    payload::Json,
};
use uuid::Uuid;

pub use dto::*;
use render::render_guardian;
pub use render::{render_child, render_timeline_item};

use crate::{
    api::{
        ApiTags,
        body::JsonBody,
        context::Ctx,
        etag,
        paging::{self, decode_cursor},
        problem::{ApiResult, Change, Create, ReadMany, ReadOne},
    },
    audit::{Access, AccessAction, Actor},
    auth::{
        BearerAuth, Principal,
        policy::{self, Action},
    },
    db::{
        children as queries,
        timeline::{self, TimelineEntry},
    },
    domain::{
        child::{self as rules, GuardianDetails},
        reference::Labelled,
        refusal::Refusal,
        timeline::Visibility,
    },
    effects::Effects,
    error::AppError,
    events::{Event, EventType},
};

const CHILD: &str = "child";
const GUARDIAN: &str = "guardian";

pub struct ChildrenApi;

#[OpenApi(prefix_path = "/children", tag = "ApiTags::Children")]
impl ChildrenApi {
    /// Register a child
    ///
    /// Registers a pupil or client of your organisation, optionally with guardians. The
    /// `externalRef` is your own pupil or client number: registering it twice answers 409 with
    /// the `existingId`, so a school administration system can link instead.
    #[oai(path = "/", method = "post", operation_id = "createChild")]
    async fn create(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        body: JsonBody<CreateChild>,
    ) -> ApiResult<CreateChildResponse, Create> {
        let principal = &auth.0;
        policy::require(principal, Action::RegisterChildren)?;
        let input = body.0;
        let guardians: Vec<GuardianDetails> = input
            .guardians
            .iter()
            .map(CreateGuardian::details)
            .collect();
        let actor = cx.actor(principal);
        let (child, guardians) = cx
            .db
            .transaction(async |conn| {
                let org = principal.org_id();
                let holder = queries::find_by_external_ref(conn, org, &input.external_ref).await?;
                rules::decide_register(
                    &input.details(&guardians),
                    holder.map(|c| c.id),
                    Utc::now().date_naive(),
                )?;
                register(conn, actor, &input, &guardians).await
            })
            .await?;
        let rendered = render_child(
            principal,
            &child,
            &guardians,
            queries::LifecycleFlags::default(),
        );
        let tag = etag::of(&rendered);
        Ok(CreateChildResponse::Created(
            Json(rendered),
            format!("/v1/children/{}", child.id),
            tag,
        ))
    }

    /// List or find children
    ///
    /// Your organisation's children in registration order, with their guardians. With
    /// `externalRef`, finds the one child with that pupil or client number (an empty list when
    /// there is none): this is how a school administration system links its pupil. Each child
    /// returned is written to the access log.
    #[oai(path = "/", method = "get", operation_id = "listChildren")]
    async fn list(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// Your own pupil or client number.
        #[oai(name = "externalRef", validator(min_length = 1, max_length = 64))]
        external_ref: Query<Option<String>>,
        /// Page size: 1 to 200, default 50.
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<u32>>,
        /// `nextCursor` of the previous page.
        #[oai(validator(max_length = 500))]
        cursor: Query<Option<String>>,
    ) -> ApiResult<ListChildrenResponse, ReadMany> {
        let principal = &auth.0;
        policy::require(principal, Action::ReadChildren)?;
        let after: Option<Uuid> = decode_cursor(cursor.0.as_deref())?;
        let fetch = paging::fetch_size(limit.0);
        let actor = cx.actor(principal);
        let (children, guardians, flags, next_cursor) =
            cx.db
                .transaction(async |conn| {
                    let org = principal.org_id();
                    let (children, next_cursor) = match &external_ref.0 {
                        Some(external_ref) => (
                            queries::find_by_external_ref(conn, org, external_ref)
                                .await?
                                .into_iter()
                                .collect(),
                            None,
                        ),
                        None => {
                            let rows = queries::list(conn, org, after, fetch).await?;
                            paging::paginate(rows, fetch, |row| row.id)
                        }
                    };
                    let ids: Vec<Uuid> = children.iter().map(|c| c.id).collect();
                    let guardians = queries::guardians_of(conn, &ids).await?;
                    let flags = queries::lifecycle_flags(conn, &ids).await?;
                    Effects::new()
                        .accesses(ids.iter().map(|id| {
                            Access::allowed(AccessAction::Read, CHILD, *id).about_child(*id)
                        }))
                        .write(conn, actor)
                        .await?;
                    Ok((children, guardians, flags, next_cursor))
                })
                .await?;
        Ok(ListChildrenResponse::Ok(Json(ChildPage {
            items: children
                .iter()
                .map(|c| {
                    let flags = flags.get(&c.id).copied().unwrap_or_default();
                    render_child(principal, c, &guardians, flags)
                })
                .collect(),
            next_cursor,
        })))
    }

    /// Get a child
    ///
    /// One child of your organisation with its guardians. A child of another organisation
    /// answers 404, exactly like an id that does not exist.
    #[oai(path = "/:id", method = "get", operation_id = "getChild")]
    async fn get(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The child's id.
        id: Path<Uuid>,
        /// ETag of the copy the client holds.
        #[oai(name = "If-None-Match")]
        if_none_match: Header<Option<String>>,
    ) -> ApiResult<GetChildResponse, ReadOne> {
        let principal = &auth.0;
        policy::require(principal, Action::ReadChildren)?;
        let actor = cx.actor(principal);
        let effects = Effects::new()
            .access(Access::allowed(AccessAction::Read, CHILD, id.0).about_child(id.0))
            .rows(actor);
        let rendered = cx
            .db
            .single_statement(async |conn| {
                let (child, guardians, flags) =
                    queries::read_with_guardians(conn, principal.org_id(), id.0, &effects)
                        .await?
                        .ok_or_else(AppError::not_found)?;
                effects.written(actor);
                Ok(render_child(principal, &child, &guardians, flags))
            })
            .await?;
        let tag = etag::of(&rendered);
        if etag::none_match_hits(if_none_match.0.as_deref(), &tag) {
            return Ok(GetChildResponse::NotModified(tag));
        }
        Ok(GetChildResponse::Ok(Json(rendered), tag))
    }

    /// Correct a child's data
    ///
    /// Corrects identifying data (casework roles). The change is access-logged and appears on
    /// the child's timeline with the names of the corrected properties. Send `If-Match` with the
    /// ETag you read; a stale one answers 412.
    #[oai(path = "/:id", method = "patch", operation_id = "updateChild")]
    async fn update(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The child's id.
        id: Path<Uuid>,
        /// ETag of the copy the change is based on.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
        body: JsonBody<UpdateChild>,
    ) -> ApiResult<UpdateChildResponse, Change> {
        let principal = &auth.0;
        policy::require(principal, Action::CorrectChildren)?;
        let input = body.0;
        let actor = cx.actor(principal);
        let (child, guardians, flags) = cx
            .db
            .transaction(async |conn| {
                let org = principal.org_id();
                let current = queries::find_for_update(conn, org, id.0)
                    .await?
                    .ok_or_else(AppError::not_found)?;
                let guardians = queries::guardians_of(conn, &[current.id]).await?;
                let flags = queries::lifecycle_flags_of(conn, current.id).await?;
                etag::check_if_match(
                    if_match.0.as_deref(),
                    &etag::of(&render_child(principal, &current, &guardians, flags)),
                )?;
                let holder = match &input.external_ref {
                    Some(external_ref) => queries::find_by_external_ref(conn, org, external_ref)
                        .await?
                        .map(|c| c.id),
                    None => None,
                };
                let changed = rules::decide_correction(
                    &input.correction(),
                    principal.organisation.kind,
                    &current.external_ref,
                    holder,
                    Utc::now().date_naive(),
                )?;
                let child = correct(conn, actor, current, &input, &changed).await?;
                Ok((child, guardians, flags))
            })
            .await?;
        let rendered = render_child(principal, &child, &guardians, flags);
        let tag = etag::of(&rendered);
        Ok(UpdateChildResponse::Ok(Json(rendered), tag))
    }

    /// Add a guardian
    ///
    /// Adds a parent or other guardian to a child of your organisation (casework roles). Record
    /// whether they have parental authority (gezag) and how that was established: consent
    /// needs every guardian with authority, and `unknown` blocks it until verified.
    #[oai(
        path = "/:id/guardians",
        method = "post",
        operation_id = "createGuardian"
    )]
    async fn create_guardian(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The child's id.
        id: Path<Uuid>,
        body: JsonBody<CreateGuardian>,
    ) -> ApiResult<CreateGuardianResponse, Create> {
        let principal = &auth.0;
        policy::require(principal, Action::CorrectChildren)?;
        let details = body.0.details();
        let actor = cx.actor(principal);
        let (child, guardian) = cx
            .db
            .transaction(async |conn| {
                let child = load_own_child(conn, principal, id.0).await?;
                rules::decide_guardian(&details)?;
                let guardian = insert_guardian(conn, child.id, &details).await?;
                guardian_added(principal, child.id, &guardian)
                    .write(conn, actor)
                    .await?;
                Ok((child, guardian))
            })
            .await?;
        let rendered = render_guardian(&guardian);
        let tag = etag::of(&rendered);
        let location = format!("/v1/children/{}/guardians/{}", child.id, guardian.id);
        Ok(CreateGuardianResponse::Created(
            Json(rendered),
            location,
            tag,
        ))
    }

    /// Get a guardian
    ///
    /// One guardian of a child of your organisation.
    #[oai(
        path = "/:id/guardians/:guardianId",
        method = "get",
        operation_id = "getGuardian"
    )]
    async fn get_guardian(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The child's id.
        id: Path<Uuid>,
        /// The guardian's id.
        #[oai(name = "guardianId")]
        guardian_id: Path<Uuid>,
        /// ETag of the copy the client holds.
        #[oai(name = "If-None-Match")]
        if_none_match: Header<Option<String>>,
    ) -> ApiResult<GetGuardianResponse, ReadOne> {
        let principal = &auth.0;
        policy::require(principal, Action::ReadChildren)?;
        let actor = cx.actor(principal);
        let guardian = cx
            .db
            .transaction(async |conn| {
                let child = load_own_child(conn, principal, id.0).await?;
                let guardian = queries::find_guardian(conn, child.id, guardian_id.0)
                    .await?
                    .ok_or_else(AppError::not_found)?;
                Effects::new()
                    .access(
                        Access::allowed(AccessAction::Read, GUARDIAN, guardian.id)
                            .about_child(child.id),
                    )
                    .write(conn, actor)
                    .await?;
                Ok(guardian)
            })
            .await?;
        let rendered = render_guardian(&guardian);
        let tag = etag::of(&rendered);
        if etag::none_match_hits(if_none_match.0.as_deref(), &tag) {
            return Ok(GetGuardianResponse::NotModified(tag));
        }
        Ok(GetGuardianResponse::Ok(Json(rendered), tag))
    }

    /// Correct a guardian
    ///
    /// Corrects a guardian (casework roles), e.g. after checking parental authority in the
    /// gezagsregister. `contact` is replaced as a whole. Send `If-Match` with the ETag you read.
    #[oai(
        path = "/:id/guardians/:guardianId",
        method = "patch",
        operation_id = "updateGuardian"
    )]
    async fn update_guardian(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The child's id.
        id: Path<Uuid>,
        /// The guardian's id.
        #[oai(name = "guardianId")]
        guardian_id: Path<Uuid>,
        /// ETag of the copy the change is based on.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
        body: JsonBody<UpdateGuardian>,
    ) -> ApiResult<UpdateGuardianResponse, Change> {
        let principal = &auth.0;
        policy::require(principal, Action::CorrectChildren)?;
        let input = body.0;
        let actor = cx.actor(principal);
        let guardian = cx
            .db
            .transaction(async |conn| {
                let child = load_own_child(conn, principal, id.0).await?;
                let current = queries::find_guardian(conn, child.id, guardian_id.0)
                    .await?
                    .ok_or_else(AppError::not_found)?;
                etag::check_if_match(if_match.0.as_deref(), &etag::of(&render_guardian(&current)))?;
                let after = input.applied_to(&current);
                rules::decide_guardian(&after)?;
                let guardian = queries::update_guardian(
                    conn,
                    current.id,
                    &queries::GuardianChanges {
                        name: Some(after.name),
                        relationship: Some(after.relationship),
                        parental_authority: Some(after.parental_authority),
                        authority_source: Some(after.authority_source),
                        phone: Some(after.phone),
                        email: Some(after.email),
                    },
                )
                .await?;
                guardian_change(principal, child.id, &guardian, AccessAction::Update)
                    .write(conn, actor)
                    .await?;
                Ok(guardian)
            })
            .await?;
        let rendered = render_guardian(&guardian);
        let tag = etag::of(&rendered);
        Ok(UpdateGuardianResponse::Ok(Json(rendered), tag))
    }

    /// A child's timeline
    ///
    /// The child's chronology, newest first: every record about the child you may see, each
    /// with its type, time, actor, a short summary and a link. Teachers see the child's own
    /// entries and those they made themselves. The read is access-logged once per page.
    #[oai(
        path = "/:id/timeline",
        method = "get",
        operation_id = "getChildTimeline"
    )]
    async fn timeline(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The child's id.
        id: Path<Uuid>,
        /// Page size: 1 to 200, default 50.
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<u32>>,
        /// `nextCursor` of the previous page.
        #[oai(validator(max_length = 500))]
        cursor: Query<Option<String>>,
    ) -> ApiResult<TimelineResponse, ReadOne> {
        let principal = &auth.0;
        policy::require(principal, Action::ReadChildren)?;
        let before: Option<(DateTime<Utc>, Uuid)> = decode_cursor(cursor.0.as_deref())?;
        let fetch = paging::fetch_size(limit.0);
        let scope = policy::timeline_scope(principal);
        let actor = cx.actor(principal);
        let effects = Effects::new()
            .access(Access::allowed(AccessAction::Read, "timeline", id.0).about_child(id.0))
            .rows(actor);
        let (entries, next_cursor) = cx
            .db
            .single_statement(async |conn| {
                let rows = timeline::read_page(
                    conn,
                    principal.org_id(),
                    id.0,
                    &scope,
                    before,
                    fetch,
                    &effects,
                )
                .await?
                .ok_or_else(AppError::not_found)?;
                effects.written(actor);
                Ok(paging::paginate(rows, fetch, |row| {
                    (row.occurred_at, row.id)
                }))
            })
            .await?;
        Ok(TimelineResponse::Ok(Json(TimelinePage {
            items: entries
                .into_iter()
                .map(|row| render_timeline_item(row, id.0))
                .collect(),
            next_cursor,
        })))
    }
}

/// Writes a registered child and its guardians, with what records each.
async fn register(
    conn: &mut AsyncPgConnection,
    actor: Actor<'_>,
    input: &CreateChild,
    guardians: &[GuardianDetails],
) -> Result<(queries::Child, Vec<queries::Guardian>), AppError> {
    let principal = actor.principal;
    let child = queries::insert(
        conn,
        &queries::NewChild {
            id: Uuid::now_v7(),
            organisation_id: principal.org_id(),
            external_ref: &input.external_ref,
            given_name: &input.given_name,
            family_name: &input.family_name,
            date_of_birth: input.date_of_birth,
            bsn: input.bsn.as_deref(),
            school_group: input.school_group.as_deref(),
            created_by_sub: &principal.sub,
        },
    )
    .await
    .map_err(|err| {
        if queries::is_duplicate_external_ref(&err) {
            // A concurrent registration of the same reference won the race.
            Refusal::DuplicateExternalRef { existing: None }.into()
        } else {
            AppError::from(err)
        }
    })?;
    let summary = "Child registered".to_owned();
    child_change(principal, &child, AccessAction::Create, summary)
        .write(conn, actor)
        .await?;
    let mut rows = Vec::with_capacity(guardians.len());
    for guardian in guardians {
        let row = insert_guardian(conn, child.id, guardian).await?;
        guardian_added(principal, child.id, &row)
            .write(conn, actor)
            .await?;
        rows.push(row);
    }
    Ok((child, rows))
}

/// Writes a correction with what records it; a correction that changes nothing only read the
/// child.
async fn correct(
    conn: &mut AsyncPgConnection,
    actor: Actor<'_>,
    current: queries::Child,
    input: &UpdateChild,
    changed: &[&str],
) -> Result<queries::Child, AppError> {
    if changed.is_empty() {
        let read = Access::allowed(AccessAction::Read, CHILD, current.id).about_child(current.id);
        Effects::new().access(read).write(conn, actor).await?;
        return Ok(current);
    }
    let child = queries::update(conn, current.id, &input.changes()).await?;
    let summary = format!("Child data corrected: {}", changed.join(", "));
    child_change(actor.principal, &child, AccessAction::Update, summary)
        .write(conn, actor)
        .await?;
    Ok(child)
}

/// A change to the child record itself: its access-log entry, event and timeline entry.
fn child_change(
    principal: &Principal,
    child: &queries::Child,
    access: AccessAction,
    summary: String,
) -> Effects {
    let (event, entry_type) = match access {
        AccessAction::Create => (EventType::ChildCreated, "child.created"),
        _ => (EventType::ChildUpdated, "child.updated"),
    };
    Effects::new()
        .access(Access::allowed(access, CHILD, child.id).about_child(child.id))
        .event(Event::new(event, principal.org_id(), CHILD, child.id))
        .timeline(TimelineEntry {
            organisation_id: principal.org_id(),
            child_id: child.id,
            entry_type,
            resource_type: CHILD,
            resource_id: child.id,
            summary,
            visibility: Visibility::Organisation,
        })
}

async fn insert_guardian(
    conn: &mut AsyncPgConnection,
    child: Uuid,
    guardian: &GuardianDetails,
) -> Result<queries::Guardian, AppError> {
    Ok(queries::insert_guardian(
        conn,
        &queries::NewGuardian {
            id: Uuid::now_v7(),
            child_id: child,
            name: &guardian.name,
            relationship: guardian.relationship,
            parental_authority: guardian.parental_authority,
            authority_source: guardian.authority_source,
            phone: guardian.phone.as_deref(),
            email: guardian.email.as_deref(),
        },
    )
    .await?)
}

fn guardian_added(principal: &Principal, child: Uuid, guardian: &queries::Guardian) -> Effects {
    guardian_change(principal, child, guardian, AccessAction::Create)
}

/// A guardian added or corrected: named by relationship and authority, never by name.
fn guardian_change(
    principal: &Principal,
    child: Uuid,
    guardian: &queries::Guardian,
    access: AccessAction,
) -> Effects {
    let (event, entry_type, verb) = match access {
        AccessAction::Create => (EventType::GuardianAdded, "guardian.added", "added"),
        _ => (EventType::GuardianUpdated, "guardian.updated", "corrected"),
    };
    Effects::new()
        .access(Access::allowed(access, GUARDIAN, guardian.id).about_child(child))
        .event(Event::new(event, principal.org_id(), CHILD, child))
        .timeline(TimelineEntry {
            organisation_id: principal.org_id(),
            child_id: child,
            entry_type,
            resource_type: GUARDIAN,
            resource_id: guardian.id,
            summary: format!(
                "Guardian {verb}: {} (parental authority: {})",
                guardian.relationship.label_en().to_lowercase(),
                guardian.parental_authority.code()
            ),
            visibility: Visibility::Organisation,
        })
}

/// A child of the caller's organisation, or 404 (another organisation's child looks the same).
pub async fn load_own_child(
    conn: &mut AsyncPgConnection,
    principal: &Principal,
    id: Uuid,
) -> Result<queries::Child, AppError> {
    queries::find(conn, principal.org_id(), id)
        .await?
        .ok_or_else(AppError::not_found)
}
