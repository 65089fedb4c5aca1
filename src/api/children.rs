//! Children, their guardians, and their timeline. Each organisation sees only its own children;
//! another organisation's child answers exactly like one that does not exist.

use chrono::{DateTime, NaiveDate, Utc};
use diesel_async::AsyncPgConnection;
use poem::web::Data;
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Header, Path, Query},
    payload::Json,
    types::{Example, MaybeUndefined},
};
use serde::Deserialize;
use uuid::Uuid;

use crate::{
    api::types::{Timestamp, example_time},
    api::{
        ApiTags,
        body::JsonBody,
        etag,
        paging::{self, decode_cursor},
        problem::{ApiResult, Change, Create, ReadMany, ReadOne},
        shared::{Professional, ResourceLink},
    },
    audit::{Access, AccessAction, Actor, RequestMeta},
    auth::{
        BearerAuth, Principal,
        policy::{self, Action},
    },
    db::Db,
    db::{
        children as queries,
        timeline::{self, TimelineEntry},
    },
    domain::{
        FieldError, check_text,
        child::{self as rules, AuthoritySource, ParentalAuthority, Relationship},
        reference::Labelled,
        timeline::Visibility,
    },
    effects::Effects,
    error::{AppError, ProblemKind},
    events::{Event, EventType},
};

const CHILD: &str = "child";
const GUARDIAN: &str = "guardian";

/// A child (pupil or client) of the caller's organisation.
#[derive(Object)]
#[oai(rename_all = "camelCase", example)]
pub struct Child {
    pub id: Uuid,
    /// The organisation's own pupil or client number (unique within the organisation).
    pub external_ref: String,
    pub given_name: String,
    pub family_name: String,
    pub date_of_birth: NaiveDate,
    /// Burgerservicenummer, when the organisation holds it; shown to casework roles only.
    #[oai(skip_serializing_if_is_none)]
    pub bsn: Option<String>,
    /// Class or group, e.g. `groep 6b`.
    #[oai(skip_serializing_if_is_none)]
    pub school_group: Option<String>,
    pub guardians: Vec<Guardian>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Example for Child {
    fn example() -> Self {
        Self {
            id: Uuid::from_u128(0x0193_5b1e_7c1a_7d00_8000_0000_0000_0101),
            external_ref: "LL-20431".into(),
            given_name: "Noah".into(),
            family_name: "de Boer".into(),
            date_of_birth: NaiveDate::from_ymd_opt(2013, 4, 2).unwrap_or_default(),
            bsn: Some("111222333".into()),
            school_group: Some("groep 8a".into()),
            guardians: vec![Guardian::example()],
            created_at: example_time(),
            updated_at: example_time(),
        }
    }
}

/// A parent or other guardian of a child.
#[derive(Object)]
#[oai(rename_all = "camelCase", example)]
pub struct Guardian {
    pub id: Uuid,
    pub name: String,
    pub relationship: Relationship,
    /// Whether this guardian has parental authority (gezag).
    pub parental_authority: ParentalAuthority,
    /// How parental authority was established.
    pub authority_source: AuthoritySource,
    pub contact: Contact,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Example for Guardian {
    fn example() -> Self {
        Self {
            id: Uuid::from_u128(0x0193_5b1e_7c1a_7d00_8000_0000_0000_0201),
            name: "Sarah de Boer".into(),
            relationship: Relationship::Mother,
            parental_authority: ParentalAuthority::Yes,
            authority_source: AuthoritySource::Gezagsregister,
            contact: Contact {
                phone: Some("+31 6 1234 5678".into()),
                email: None,
            },
            created_at: example_time(),
            updated_at: example_time(),
        }
    }
}

/// How to reach a guardian.
#[derive(Object, Deserialize, serde::Serialize, Default, Clone)]
#[oai(rename_all = "camelCase", deny_unknown_fields)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Contact {
    #[oai(validator(max_length = 30), skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[oai(validator(max_length = 254), skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// A new child.
#[derive(Object, Deserialize)]
#[oai(rename_all = "camelCase", deny_unknown_fields, example)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateChild {
    /// The organisation's own pupil or client number; unique within the organisation.
    #[oai(validator(min_length = 1, max_length = 64))]
    pub external_ref: String,
    #[oai(validator(min_length = 1, max_length = 100))]
    pub given_name: String,
    #[oai(validator(min_length = 1, max_length = 100))]
    pub family_name: String,
    /// Not in the future, at most 23 years ago.
    pub date_of_birth: NaiveDate,
    /// Nine digits passing the 11-proef. Optional: hold it only for statutory use.
    #[oai(validator(pattern = "^[0-9]{9}$"), skip_serializing_if_is_none)]
    pub bsn: Option<String>,
    #[oai(
        validator(min_length = 1, max_length = 50),
        skip_serializing_if_is_none
    )]
    pub school_group: Option<String>,
    /// Guardians to register with the child.
    #[oai(default, validator(max_items = 10), skip_serializing_if_is_empty)]
    #[serde(default)]
    pub guardians: Vec<CreateGuardian>,
}

impl Example for CreateChild {
    fn example() -> Self {
        Self {
            external_ref: "LL-20431".into(),
            given_name: "Noah".into(),
            family_name: "de Boer".into(),
            date_of_birth: NaiveDate::from_ymd_opt(2013, 4, 2).unwrap_or_default(),
            bsn: None,
            school_group: Some("groep 8a".into()),
            guardians: vec![CreateGuardian::example()],
        }
    }
}

/// Corrections to a child's data; absent properties stay as they are.
#[derive(Object, Deserialize)]
#[oai(rename_all = "camelCase", deny_unknown_fields, example)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateChild {
    #[oai(
        validator(min_length = 1, max_length = 64),
        skip_serializing_if_is_none
    )]
    pub external_ref: Option<String>,
    #[oai(
        validator(min_length = 1, max_length = 100),
        skip_serializing_if_is_none
    )]
    pub given_name: Option<String>,
    #[oai(
        validator(min_length = 1, max_length = 100),
        skip_serializing_if_is_none
    )]
    pub family_name: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub date_of_birth: Option<NaiveDate>,
    /// `null` removes it.
    #[oai(validator(pattern = "^[0-9]{9}$"), skip_serializing_if_is_none)]
    #[serde(default)]
    pub bsn: MaybeUndefined<String>,
    /// `null` removes it.
    #[oai(
        validator(min_length = 1, max_length = 50),
        skip_serializing_if_is_none
    )]
    #[serde(default)]
    pub school_group: MaybeUndefined<String>,
}

impl Example for UpdateChild {
    fn example() -> Self {
        Self {
            external_ref: None,
            given_name: Some("Noah Jan".into()),
            family_name: None,
            date_of_birth: None,
            bsn: MaybeUndefined::Undefined,
            school_group: MaybeUndefined::Value("groep 8b".into()),
        }
    }
}

/// A new guardian.
#[derive(Object, Deserialize)]
#[oai(rename_all = "camelCase", deny_unknown_fields, example)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateGuardian {
    #[oai(validator(min_length = 1, max_length = 200))]
    pub name: String,
    pub relationship: Relationship,
    /// `unknown` blocks consent until it is verified.
    pub parental_authority: ParentalAuthority,
    /// `unknown` exactly when parentalAuthority is `unknown`.
    pub authority_source: AuthoritySource,
    #[oai(skip_serializing_if_is_none)]
    pub contact: Option<Contact>,
}

impl Example for CreateGuardian {
    fn example() -> Self {
        Self {
            name: "Sarah de Boer".into(),
            relationship: Relationship::Mother,
            parental_authority: ParentalAuthority::Yes,
            authority_source: AuthoritySource::Gezagsregister,
            contact: Some(Contact {
                phone: Some("+31 6 1234 5678".into()),
                email: None,
            }),
        }
    }
}

/// Corrections to a guardian; absent properties stay as they are.
#[derive(Object, Deserialize)]
#[oai(rename_all = "camelCase", deny_unknown_fields, example)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateGuardian {
    #[oai(
        validator(min_length = 1, max_length = 200),
        skip_serializing_if_is_none
    )]
    pub name: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub relationship: Option<Relationship>,
    #[oai(skip_serializing_if_is_none)]
    pub parental_authority: Option<ParentalAuthority>,
    #[oai(skip_serializing_if_is_none)]
    pub authority_source: Option<AuthoritySource>,
    /// Replaces the contact details; `null` removes them.
    #[oai(skip_serializing_if_is_none)]
    #[serde(default)]
    pub contact: MaybeUndefined<Contact>,
}

impl Example for UpdateGuardian {
    fn example() -> Self {
        Self {
            name: None,
            relationship: None,
            parental_authority: Some(ParentalAuthority::Yes),
            authority_source: Some(AuthoritySource::Gezagsregister),
            contact: MaybeUndefined::Undefined,
        }
    }
}

/// A page of children.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct ChildPage {
    pub items: Vec<Child>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// One entry of a child's chronology.
#[derive(Object)]
#[oai(rename_all = "camelCase", example)]
pub struct TimelineItem {
    pub id: Uuid,
    /// What happened, e.g. `signal.recorded`, `guardian.added`.
    #[oai(rename = "type")]
    pub entry_type: String,
    pub occurred_at: Timestamp,
    /// Who did it.
    pub actor: Professional,
    /// A short description, without the record's free text.
    pub summary: String,
    /// The record it is about.
    pub resource: ResourceLink,
}

impl Example for TimelineItem {
    fn example() -> Self {
        let id = Uuid::from_u128(0x0193_5b1e_7c1a_7d00_8000_0000_0000_0301);
        Self {
            id: Uuid::from_u128(0x0193_5b1e_7c1a_7d00_8000_0000_0000_0401),
            entry_type: "signal.recorded".into(),
            occurred_at: example_time(),
            actor: Professional {
                sub: "leerkracht-sanne".into(),
                name: "Sanne de Vries".into(),
            },
            summary: "Signal recorded: Statements by the child (raises concern)".into(),
            resource: ResourceLink::new("signal", id, format!("/v1/signals/{id}")),
        }
    }
}

/// A page of a child's timeline, newest first.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct TimelinePage {
    pub items: Vec<TimelineItem>,
    /// Pass as `cursor` for the next (older) page; `null` on the last page.
    pub next_cursor: Option<String>,
}

#[derive(ApiResponse)]
pub enum CreateChildResponse {
    /// Registered.
    #[oai(status = 201)]
    Created(
        Json<Child>,
        /// Where the child lives.
        #[oai(header = "Location")]
        String,
        #[oai(header = "ETag")] String,
    ),
}

#[derive(ApiResponse)]
pub enum ListChildrenResponse {
    /// Children in registration order (or the one with `externalRef`).
    #[oai(status = 200)]
    Ok(Json<ChildPage>),
}

#[derive(ApiResponse)]
pub enum GetChildResponse {
    /// The child, with guardians.
    #[oai(status = 200)]
    Ok(Json<Child>, #[oai(header = "ETag")] String),
    /// Unchanged since the ETag in `If-None-Match`.
    #[oai(status = 304)]
    NotModified(#[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum UpdateChildResponse {
    /// Corrected.
    #[oai(status = 200)]
    Ok(Json<Child>, #[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum CreateGuardianResponse {
    /// Added.
    #[oai(status = 201)]
    Created(
        Json<Guardian>,
        /// Where the guardian lives.
        #[oai(header = "Location")]
        String,
        #[oai(header = "ETag")] String,
    ),
}

#[derive(ApiResponse)]
pub enum GetGuardianResponse {
    /// The guardian.
    #[oai(status = 200)]
    Ok(Json<Guardian>, #[oai(header = "ETag")] String),
    /// Unchanged since the ETag in `If-None-Match`.
    #[oai(status = 304)]
    NotModified(#[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum UpdateGuardianResponse {
    /// Corrected.
    #[oai(status = 200)]
    Ok(Json<Guardian>, #[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum TimelineResponse {
    /// The chronology, newest first.
    #[oai(status = 200)]
    Ok(Json<TimelinePage>),
}

fn render_guardian(row: &queries::Guardian) -> Guardian {
    Guardian {
        id: row.id,
        name: row.name.clone(),
        relationship: row.relationship,
        parental_authority: row.parental_authority,
        authority_source: row.authority_source,
        contact: Contact {
            phone: row.phone.clone(),
            email: row.email.clone(),
        },
        created_at: row.created_at.into(),
        updated_at: row.updated_at.into(),
    }
}

/// The child as this principal may see it: without the BSN for non-casework roles.
pub fn render_child(
    principal: &Principal,
    row: &queries::Child,
    guardians: &[queries::Guardian],
) -> Child {
    Child {
        id: row.id,
        external_ref: row.external_ref.clone(),
        given_name: row.given_name.clone(),
        family_name: row.family_name.clone(),
        date_of_birth: row.date_of_birth,
        bsn: row.bsn.clone().filter(|_| policy::may_see_bsn(principal)),
        school_group: row.school_group.clone(),
        guardians: guardians
            .iter()
            .filter(|g| g.child_id == row.id)
            .map(render_guardian)
            .collect(),
        created_at: row.created_at.into(),
        updated_at: row.updated_at.into(),
    }
}

fn duplicate_external_ref(existing: Option<Uuid>) -> AppError {
    let err = AppError::new(
        ProblemKind::DuplicateExternalRef,
        "Your organisation already registered a child with this externalRef.",
    );
    match existing {
        Some(id) => err.with_extension("existingId", id.to_string()),
        None => err,
    }
}

fn check_contact(contact: &Contact, errors: &mut Vec<FieldError>) {
    errors.extend(contact.email.as_deref().and_then(rules::check_email));
    errors.extend(contact.phone.as_deref().and_then(rules::check_phone));
}

fn check_guardian(guardian: &CreateGuardian) -> Vec<FieldError> {
    let mut errors: Vec<FieldError> = check_text("name", &guardian.name).into_iter().collect();
    errors.extend(rules::check_authority(
        guardian.parental_authority,
        guardian.authority_source,
    ));
    if let Some(contact) = &guardian.contact {
        check_contact(contact, &mut errors);
    }
    errors
}

fn check_bsn(bsn: &str) -> Option<FieldError> {
    (!rules::is_valid_bsn(bsn)).then(|| FieldError::new("bsn", "fails the 11-proef"))
}

async fn insert_guardian(
    conn: &mut AsyncPgConnection,
    child: Uuid,
    guardian: &CreateGuardian,
) -> Result<queries::Guardian, AppError> {
    let contact = guardian.contact.clone().unwrap_or_default();
    Ok(queries::insert_guardian(
        conn,
        &queries::NewGuardian {
            id: Uuid::now_v7(),
            child_id: child,
            name: &guardian.name,
            relationship: guardian.relationship,
            parental_authority: guardian.parental_authority,
            authority_source: guardian.authority_source,
            phone: contact.phone.as_deref(),
            email: contact.email.as_deref(),
        },
    )
    .await?)
}

fn guardian_added(principal: &Principal, child: Uuid, guardian: &queries::Guardian) -> Effects {
    Effects::new()
        .access(Access::allowed(AccessAction::Create, GUARDIAN, guardian.id).about_child(child))
        .event(Event::new(
            EventType::GuardianAdded,
            principal.org_id(),
            CHILD,
            child,
        ))
        .timeline(TimelineEntry {
            organisation_id: principal.org_id(),
            child_id: child,
            entry_type: "guardian.added",
            resource_type: GUARDIAN,
            resource_id: guardian.id,
            summary: format!(
                "Guardian added: {} (parental authority: {})",
                guardian.relationship.label_en().to_lowercase(),
                guardian.parental_authority.code()
            ),
            visibility: Visibility::Organisation,
        })
}

/// Loads a child of the caller's organisation, or 404.
async fn own_child(
    conn: &mut AsyncPgConnection,
    principal: &Principal,
    id: Uuid,
) -> Result<queries::Child, AppError> {
    queries::find(conn, principal.org_id(), id)
        .await?
        .ok_or_else(AppError::not_found)
}

/// Where a timeline entry's resource lives.
fn resource_href(resource_type: &str, resource_id: Uuid, child: Uuid) -> String {
    match resource_type {
        CHILD => format!("/v1/children/{resource_id}"),
        GUARDIAN => format!("/v1/children/{child}/guardians/{resource_id}"),
        "signal" => format!("/v1/signals/{resource_id}"),
        other => format!("/v1/{other}s/{resource_id}"),
    }
}

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
        db: Db,
        request: Data<&RequestMeta>,
        body: JsonBody<CreateChild>,
    ) -> ApiResult<CreateChildResponse, Create> {
        let principal = auth.0;
        policy::require(&principal, Action::RegisterChildren)?;
        let input = body.0;
        let today = Utc::now().date_naive();
        let mut errors: Vec<FieldError> = [
            check_text("externalRef", &input.external_ref),
            check_text("givenName", &input.given_name),
            check_text("familyName", &input.family_name),
            rules::check_date_of_birth(input.date_of_birth, today),
            input.bsn.as_deref().and_then(check_bsn),
        ]
        .into_iter()
        .flatten()
        .collect();
        for guardian in &input.guardians {
            errors.extend(check_guardian(guardian).into_iter().map(|mut e| {
                e.field = match e.field {
                    "name" => "guardians.name",
                    "authoritySource" => "guardians.authoritySource",
                    "contact.email" => "guardians.contact.email",
                    "contact.phone" => "guardians.contact.phone",
                    other => other,
                };
                e
            }));
        }
        if !errors.is_empty() {
            return Err(AppError::fields(errors).into());
        }
        let actor = Actor {
            principal: &principal,
            request: &request,
        };
        let (child, guardians) = db
            .transaction(async |conn| {
                let org = principal.org_id();
                if let Some(existing) =
                    queries::find_by_external_ref(conn, org, &input.external_ref).await?
                {
                    return Err(duplicate_external_ref(Some(existing.id)));
                }
                let child = queries::insert(
                    conn,
                    &queries::NewChild {
                        id: Uuid::now_v7(),
                        organisation_id: org,
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
                        duplicate_external_ref(None)
                    } else {
                        err.into()
                    }
                })?;
                Effects::new()
                    .access(
                        Access::allowed(AccessAction::Create, CHILD, child.id)
                            .about_child(child.id),
                    )
                    .event(Event::new(EventType::ChildCreated, org, CHILD, child.id))
                    .timeline(TimelineEntry {
                        organisation_id: org,
                        child_id: child.id,
                        entry_type: "child.created",
                        resource_type: CHILD,
                        resource_id: child.id,
                        summary: "Child registered".into(),
                        visibility: Visibility::Organisation,
                    })
                    .write(conn, actor)
                    .await?;
                let mut guardians = Vec::with_capacity(input.guardians.len());
                for guardian in &input.guardians {
                    let row = insert_guardian(conn, child.id, guardian).await?;
                    guardian_added(&principal, child.id, &row)
                        .write(conn, actor)
                        .await?;
                    guardians.push(row);
                }
                Ok((child, guardians))
            })
            .await?;
        let rendered = render_child(&principal, &child, &guardians);
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
        db: Db,
        request: Data<&RequestMeta>,
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
        let principal = auth.0;
        policy::require(&principal, Action::ReadChildren)?;
        let after: Option<Uuid> = decode_cursor(cursor.0.as_deref())?;
        let fetch = paging::fetch_size(limit.0);
        let actor = Actor {
            principal: &principal,
            request: &request,
        };
        let (children, guardians, next_cursor) = db
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
                Effects::new()
                    .accesses(
                        ids.iter().map(|id| {
                            Access::allowed(AccessAction::Read, CHILD, *id).about_child(*id)
                        }),
                    )
                    .write(conn, actor)
                    .await?;
                Ok((children, guardians, next_cursor))
            })
            .await?;
        Ok(ListChildrenResponse::Ok(Json(ChildPage {
            items: children
                .iter()
                .map(|c| render_child(&principal, c, &guardians))
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
        db: Db,
        request: Data<&RequestMeta>,
        /// The child's id.
        id: Path<Uuid>,
        /// ETag of the copy the client holds.
        #[oai(name = "If-None-Match")]
        if_none_match: Header<Option<String>>,
    ) -> ApiResult<GetChildResponse, ReadOne> {
        let principal = auth.0;
        policy::require(&principal, Action::ReadChildren)?;
        let actor = Actor {
            principal: &principal,
            request: &request,
        };
        let rendered = db
            .transaction(async |conn| {
                let child = own_child(conn, &principal, id.0).await?;
                let guardians = queries::guardians_of(conn, &[child.id]).await?;
                Effects::new()
                    .access(
                        Access::allowed(AccessAction::Read, CHILD, child.id).about_child(child.id),
                    )
                    .write(conn, actor)
                    .await?;
                Ok(render_child(&principal, &child, &guardians))
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
        db: Db,
        request: Data<&RequestMeta>,
        /// The child's id.
        id: Path<Uuid>,
        /// ETag of the copy the change is based on.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
        body: JsonBody<UpdateChild>,
    ) -> ApiResult<UpdateChildResponse, Change> {
        let principal = auth.0;
        policy::require(&principal, Action::CorrectChildren)?;
        let input = body.0;
        let today = Utc::now().date_naive();
        let errors: Vec<FieldError> = [
            input
                .external_ref
                .as_deref()
                .and_then(|v| check_text("externalRef", v)),
            input
                .given_name
                .as_deref()
                .and_then(|v| check_text("givenName", v)),
            input
                .family_name
                .as_deref()
                .and_then(|v| check_text("familyName", v)),
            input
                .date_of_birth
                .and_then(|d| rules::check_date_of_birth(d, today)),
            input.bsn.value().and_then(|b| check_bsn(b)),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !errors.is_empty() {
            return Err(AppError::fields(errors).into());
        }
        let actor = Actor {
            principal: &principal,
            request: &request,
        };
        let (child, guardians) = db
            .transaction(async |conn| {
                let org = principal.org_id();
                let current = queries::find_for_update(conn, org, id.0)
                    .await?
                    .ok_or_else(AppError::not_found)?;
                let guardians = queries::guardians_of(conn, &[current.id]).await?;
                etag::check_if_match(
                    if_match.0.as_deref(),
                    &etag::of(&render_child(&principal, &current, &guardians)),
                )?;
                if let Some(external_ref) = &input.external_ref
                    && external_ref != &current.external_ref
                    && let Some(existing) =
                        queries::find_by_external_ref(conn, org, external_ref).await?
                {
                    return Err(duplicate_external_ref(Some(existing.id)));
                }
                let changes = queries::ChildChanges {
                    external_ref: input.external_ref.clone(),
                    given_name: input.given_name.clone(),
                    family_name: input.family_name.clone(),
                    date_of_birth: input.date_of_birth,
                    bsn: maybe(&input.bsn),
                    school_group: maybe(&input.school_group),
                };
                let changed = changed_fields(&input);
                if changed.is_empty() {
                    // Nothing to correct: the request only read the child.
                    Effects::new()
                        .access(
                            Access::allowed(AccessAction::Read, CHILD, current.id)
                                .about_child(current.id),
                        )
                        .write(conn, actor)
                        .await?;
                    return Ok((current, guardians));
                }
                let child = queries::update(conn, current.id, &changes).await?;
                Effects::new()
                    .access(
                        Access::allowed(AccessAction::Update, CHILD, child.id)
                            .about_child(child.id),
                    )
                    .event(Event::new(EventType::ChildUpdated, org, CHILD, child.id))
                    .timeline(TimelineEntry {
                        organisation_id: org,
                        child_id: child.id,
                        entry_type: "child.updated",
                        resource_type: CHILD,
                        resource_id: child.id,
                        summary: format!("Child data corrected: {}", changed.join(", ")),
                        visibility: Visibility::Organisation,
                    })
                    .write(conn, actor)
                    .await?;
                Ok((child, guardians))
            })
            .await?;
        let rendered = render_child(&principal, &child, &guardians);
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
        db: Db,
        request: Data<&RequestMeta>,
        /// The child's id.
        id: Path<Uuid>,
        body: JsonBody<CreateGuardian>,
    ) -> ApiResult<CreateGuardianResponse, Create> {
        let principal = auth.0;
        policy::require(&principal, Action::CorrectChildren)?;
        let input = body.0;
        let errors = check_guardian(&input);
        if !errors.is_empty() {
            return Err(AppError::fields(errors).into());
        }
        let actor = Actor {
            principal: &principal,
            request: &request,
        };
        let (child, guardian) = db
            .transaction(async |conn| {
                let child = own_child(conn, &principal, id.0).await?;
                let guardian = insert_guardian(conn, child.id, &input).await?;
                guardian_added(&principal, child.id, &guardian)
                    .write(conn, actor)
                    .await?;
                Ok((child, guardian))
            })
            .await?;
        let rendered = render_guardian(&guardian);
        let tag = etag::of(&rendered);
        Ok(CreateGuardianResponse::Created(
            Json(rendered),
            format!("/v1/children/{}/guardians/{}", child.id, guardian.id),
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
        db: Db,
        request: Data<&RequestMeta>,
        /// The child's id.
        id: Path<Uuid>,
        /// The guardian's id.
        #[oai(name = "guardianId")]
        guardian_id: Path<Uuid>,
        /// ETag of the copy the client holds.
        #[oai(name = "If-None-Match")]
        if_none_match: Header<Option<String>>,
    ) -> ApiResult<GetGuardianResponse, ReadOne> {
        let principal = auth.0;
        policy::require(&principal, Action::ReadChildren)?;
        let actor = Actor {
            principal: &principal,
            request: &request,
        };
        let guardian = db
            .transaction(async |conn| {
                let child = own_child(conn, &principal, id.0).await?;
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
    #[allow(clippy::too_many_arguments)]
    async fn update_guardian(
        &self,
        auth: BearerAuth,
        db: Db,
        request: Data<&RequestMeta>,
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
        let principal = auth.0;
        policy::require(&principal, Action::CorrectChildren)?;
        let input = body.0;
        let actor = Actor {
            principal: &principal,
            request: &request,
        };
        let guardian = db
            .transaction(async |conn| {
                let child = own_child(conn, &principal, id.0).await?;
                let current = queries::find_guardian(conn, child.id, guardian_id.0)
                    .await?
                    .ok_or_else(AppError::not_found)?;
                etag::check_if_match(if_match.0.as_deref(), &etag::of(&render_guardian(&current)))?;
                // Validate the guardian as it will be after the change.
                let contact = match &input.contact {
                    MaybeUndefined::Undefined => Some(Contact {
                        phone: current.phone.clone(),
                        email: current.email.clone(),
                    }),
                    MaybeUndefined::Null => None,
                    MaybeUndefined::Value(contact) => Some(contact.clone()),
                };
                let after = CreateGuardian {
                    name: input.name.clone().unwrap_or_else(|| current.name.clone()),
                    relationship: input.relationship.unwrap_or(current.relationship),
                    parental_authority: input
                        .parental_authority
                        .unwrap_or(current.parental_authority),
                    authority_source: input.authority_source.unwrap_or(current.authority_source),
                    contact,
                };
                let errors = check_guardian(&after);
                if !errors.is_empty() {
                    return Err(AppError::fields(errors));
                }
                let contact = after.contact.clone().unwrap_or_default();
                let guardian = queries::update_guardian(
                    conn,
                    current.id,
                    &queries::GuardianChanges {
                        name: Some(after.name.clone()),
                        relationship: Some(after.relationship),
                        parental_authority: Some(after.parental_authority),
                        authority_source: Some(after.authority_source),
                        phone: Some(contact.phone),
                        email: Some(contact.email),
                    },
                )
                .await?;
                Effects::new()
                    .access(
                        Access::allowed(AccessAction::Update, GUARDIAN, guardian.id)
                            .about_child(child.id),
                    )
                    .event(Event::new(
                        EventType::GuardianUpdated,
                        principal.org_id(),
                        CHILD,
                        child.id,
                    ))
                    .timeline(TimelineEntry {
                        organisation_id: principal.org_id(),
                        child_id: child.id,
                        entry_type: "guardian.updated",
                        resource_type: GUARDIAN,
                        resource_id: guardian.id,
                        summary: format!(
                            "Guardian corrected: {} (parental authority: {})",
                            guardian.relationship.label_en().to_lowercase(),
                            guardian.parental_authority.code()
                        ),
                        visibility: Visibility::Organisation,
                    })
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
        db: Db,
        request: Data<&RequestMeta>,
        /// The child's id.
        id: Path<Uuid>,
        /// Page size: 1 to 200, default 50.
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<u32>>,
        /// `nextCursor` of the previous page.
        #[oai(validator(max_length = 500))]
        cursor: Query<Option<String>>,
    ) -> ApiResult<TimelineResponse, ReadOne> {
        let principal = auth.0;
        policy::require(&principal, Action::ReadChildren)?;
        let before: Option<(DateTime<Utc>, Uuid)> = decode_cursor(cursor.0.as_deref())?;
        let fetch = paging::fetch_size(limit.0);
        let scope = policy::timeline_scope(&principal);
        let actor = Actor {
            principal: &principal,
            request: &request,
        };
        let (child, entries, next_cursor) = db
            .transaction(async |conn| {
                let child = own_child(conn, &principal, id.0).await?;
                let rows = timeline::list(conn, child.id, &scope, before, fetch).await?;
                let (rows, next_cursor) =
                    paging::paginate(rows, fetch, |row| (row.occurred_at, row.id));
                Effects::new()
                    .access(
                        Access::allowed(AccessAction::Read, "timeline", child.id)
                            .about_child(child.id),
                    )
                    .write(conn, actor)
                    .await?;
                Ok((child, rows, next_cursor))
            })
            .await?;
        Ok(TimelineResponse::Ok(Json(TimelinePage {
            items: entries
                .into_iter()
                .map(|row| TimelineItem {
                    id: row.id,
                    occurred_at: row.occurred_at.into(),
                    actor: Professional {
                        sub: row.actor_sub,
                        name: row.actor_name,
                    },
                    summary: row.summary,
                    resource: ResourceLink::new(
                        &row.resource_type,
                        row.resource_id,
                        resource_href(&row.resource_type, row.resource_id, child.id),
                    ),
                    entry_type: row.entry_type,
                })
                .collect(),
            next_cursor,
        })))
    }
}

fn maybe(value: &MaybeUndefined<String>) -> Option<Option<String>> {
    match value {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(Some(v.clone())),
    }
}

/// The names of the properties a correction touches (for the timeline: names, not values).
fn changed_fields(input: &UpdateChild) -> Vec<&'static str> {
    let mut fields = Vec::new();
    let flags = [
        ("externalRef", input.external_ref.is_some()),
        ("givenName", input.given_name.is_some()),
        ("familyName", input.family_name.is_some()),
        ("dateOfBirth", input.date_of_birth.is_some()),
        ("bsn", !input.bsn.is_undefined()),
        ("schoolGroup", !input.school_group.is_undefined()),
    ];
    for (name, present) in flags {
        if present {
            fields.push(name);
        }
    }
    fields
}

/// Children of the caller's organisation by id, for other APIs (signals) that need the child.
pub async fn load_own_child(
    conn: &mut AsyncPgConnection,
    principal: &Principal,
    id: Uuid,
) -> Result<queries::Child, AppError> {
    own_child(conn, principal, id).await
}
