//! The organisation directory.

use std::sync::Arc;

use chrono::DateTime;

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
    AppState,
    api::types::Timestamp,
    api::{
        ApiTags,
        body::JsonBody,
        context::Ctx,
        etag,
        paging::{self, decode_cursor},
        problem::{ApiResult, Change, Create, ReadMany, ReadOne},
    },
    audit::{Access, AccessAction},
    auth::{
        BearerAuth,
        policy::{self, Action},
    },
    db::{self, organisations as queries},
    domain::{
        organisation::{self as rules, Codes, OrganisationKind},
        refusal::Refusal,
    },
    effects::Effects,
    error::AppError,
    events::{Event, EventType},
};

const RESOURCE: &str = "organisation";

/// An organisation in the directory.
#[derive(Object)]
#[oai(rename_all = "camelCase", example)]
pub struct Organisation {
    pub id: Uuid,
    pub kind: OrganisationKind,
    /// The name professionals of other organisations see.
    pub name: String,
    pub codes: OrganisationCodes,
    /// Inactive organisations cannot sign in, send or receive anything.
    pub active: bool,
    /// Whom a sender calls when an acute handoff to this organisation goes unacknowledged
    /// (piketfunctie); absent when none is named.
    #[oai(skip_serializing_if_is_none)]
    pub duty_contact: Option<DutyContact>,
    /// Vier-ogenprincipe: the meldcode decision and a case closure need a second care
    /// coordinator's approval.
    pub four_eyes: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A duty contact (piketfunctie).
#[derive(Object, Deserialize, Clone)]
#[oai(rename_all = "camelCase", deny_unknown_fields, example)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DutyContact {
    /// The function or desk, e.g. "Piketdienst Veilig Thuis".
    #[oai(validator(min_length = 1, max_length = 200))]
    pub name: String,
    #[oai(validator(pattern = r"^\+?[0-9 ()-]{6,20}$"))]
    pub phone: String,
    /// When it is reachable, in words.
    #[oai(validator(min_length = 1, max_length = 200))]
    pub hours: String,
}

impl Example for DutyContact {
    fn example() -> Self {
        Self {
            name: "Piketdienst Veilig Thuis".into(),
            phone: "+31 20 123 4567".into(),
            hours: "Buiten kantoortijden en in het weekend, 24 uur per dag".into(),
        }
    }
}

impl From<rules::DutyContact> for DutyContact {
    fn from(c: rules::DutyContact) -> Self {
        Self {
            name: c.name,
            phone: c.phone,
            hours: c.hours,
        }
    }
}

impl From<&DutyContact> for rules::DutyContact {
    fn from(c: &DutyContact) -> Self {
        Self {
            name: c.name.clone(),
            phone: c.phone.clone(),
            hours: c.hours.clone(),
        }
    }
}

/// An organisation's own settings, set by its administrator.
#[derive(Object, Deserialize)]
#[oai(rename_all = "camelCase", deny_unknown_fields, example)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrganisationSettings {
    /// The duty contact; `null` removes it.
    pub duty_contact: Option<DutyContact>,
    /// Vier-ogenprincipe (schools and wijkteams): the meldcode decision and a case closure need
    /// a second care coordinator's approval.
    pub four_eyes: bool,
}

impl Example for OrganisationSettings {
    fn example() -> Self {
        Self {
            duty_contact: Some(DutyContact::example()),
            four_eyes: false,
        }
    }
}

impl Example for Organisation {
    fn example() -> Self {
        Self {
            id: Uuid::from_u128(0x0193_5b1e_7c1a_7d00_8000_0000_0000_0001),
            kind: OrganisationKind::School,
            name: "Basisschool De Regenboog".into(),
            codes: OrganisationCodes {
                brin: Some("12AB".into()),
                branch: Some("00".into()),
                region: Some("Amsterdam".into()),
            },
            active: true,
            duty_contact: None,
            four_eyes: true,
            created_at: DateTime::from_timestamp(1_763_805_600, 0)
                .unwrap_or_default()
                .into(),
            updated_at: DateTime::from_timestamp(1_763_805_600, 0)
                .unwrap_or_default()
                .into(),
        }
    }
}

impl From<&queries::Organisation> for Organisation {
    fn from(row: &queries::Organisation) -> Self {
        Self {
            id: row.id,
            kind: row.kind,
            name: row.name.clone(),
            codes: OrganisationCodes {
                brin: row.brin.clone(),
                branch: row.branch.clone(),
                region: row.region.clone(),
            },
            active: row.active,
            duty_contact: row.duty_contact().map(Into::into),
            four_eyes: row.four_eyes,
            created_at: row.created_at.into(),
            updated_at: row.updated_at.into(),
        }
    }
}

/// An organisation as others refer to it.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct OrganisationSummary {
    pub id: Uuid,
    pub kind: OrganisationKind,
    pub name: String,
}

/// Identifying codes.
#[derive(Object, Deserialize, Default)]
#[oai(rename_all = "camelCase", deny_unknown_fields)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrganisationCodes {
    /// BRIN number of a school: two digits and two capital letters.
    #[oai(validator(pattern = "^[0-9]{2}[A-Z]{2}$"), skip_serializing_if_is_none)]
    pub brin: Option<String>,
    /// Vestigingsnummer: the school location within its BRIN, two digits. Needs `brin`.
    #[oai(validator(pattern = "^[0-9]{2}$"), skip_serializing_if_is_none)]
    pub branch: Option<String>,
    /// Region, e.g. the Veilig Thuis region `Amsterdam-Amstelland`.
    #[oai(
        validator(min_length = 1, max_length = 100),
        skip_serializing_if_is_none
    )]
    pub region: Option<String>,
}

impl From<OrganisationCodes> for Codes {
    fn from(codes: OrganisationCodes) -> Self {
        Codes {
            brin: codes.brin,
            branch: codes.branch,
            region: codes.region,
        }
    }
}

/// A new organisation.
#[derive(Object, Deserialize)]
#[oai(rename_all = "camelCase", deny_unknown_fields, example)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateOrganisation {
    /// Any kind but `platform` (there is one platform organisation, made by `schakel bootstrap`).
    pub kind: OrganisationKind,
    #[oai(validator(min_length = 1, max_length = 200))]
    pub name: String,
    #[oai(skip_serializing_if_is_none)]
    pub codes: Option<OrganisationCodes>,
    /// Defaults to true.
    #[oai(skip_serializing_if_is_none)]
    pub active: Option<bool>,
}

impl Example for CreateOrganisation {
    fn example() -> Self {
        Self {
            kind: OrganisationKind::VeiligThuis,
            name: "Veilig Thuis Amsterdam-Amstelland".into(),
            codes: Some(OrganisationCodes {
                region: Some("Amsterdam-Amstelland".into()),
                ..OrganisationCodes::default()
            }),
            active: None,
        }
    }
}

/// Changes to an organisation; absent properties stay as they are.
#[derive(Object, Deserialize)]
#[oai(rename_all = "camelCase", deny_unknown_fields, example)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateOrganisation {
    #[oai(
        validator(min_length = 1, max_length = 200),
        skip_serializing_if_is_none
    )]
    pub name: Option<String>,
    /// Replaces all codes; `null` clears them.
    #[oai(skip_serializing_if_is_none)]
    #[serde(default)]
    pub codes: MaybeUndefined<OrganisationCodes>,
    #[oai(skip_serializing_if_is_none)]
    pub active: Option<bool>,
}

impl UpdateOrganisation {
    /// The codes that replace the current ones (`null` clears them), if the change names any.
    pub fn new_codes(&self) -> Option<Codes> {
        match &self.codes {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(Codes::default()),
            MaybeUndefined::Value(codes) => Some(Codes {
                brin: codes.brin.clone(),
                branch: codes.branch.clone(),
                region: codes.region.clone(),
            }),
        }
    }
}

impl Example for UpdateOrganisation {
    fn example() -> Self {
        Self {
            name: Some("Basisschool De Regenboog (locatie Noord)".into()),
            codes: MaybeUndefined::Undefined,
            active: None,
        }
    }
}

/// A page of organisations.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct OrganisationPage {
    pub items: Vec<Organisation>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

#[derive(ApiResponse)]
pub enum CreateOrganisationResponse {
    /// Registered.
    #[oai(status = 201)]
    Created(
        Json<Organisation>,
        /// Where the organisation lives.
        #[oai(header = "Location")]
        String,
        #[oai(header = "ETag")] String,
    ),
}

#[derive(ApiResponse)]
pub enum ListOrganisationsResponse {
    /// Organisations ordered by name.
    #[oai(status = 200)]
    Ok(Json<OrganisationPage>),
}

// Built once per request and rendered at once: boxing would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(ApiResponse)]
pub enum GetOrganisationResponse {
    /// The organisation.
    #[oai(status = 200)]
    Ok(Json<Organisation>, #[oai(header = "ETag")] String),
    /// Unchanged since the ETag in `If-None-Match`.
    #[oai(status = 304)]
    NotModified(#[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum OrganisationSettingsResponse {
    /// Changed.
    #[oai(status = 200)]
    Ok(Json<Organisation>, #[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum UpdateOrganisationResponse {
    /// Changed.
    #[oai(status = 200)]
    Ok(Json<Organisation>, #[oai(header = "ETag")] String),
}

pub struct OrganisationsApi;

#[OpenApi(prefix_path = "/organisations", tag = "ApiTags::Organisations")]
impl OrganisationsApi {
    /// Register an organisation
    ///
    /// Adds a school, wijkteam, Veilig Thuis region or kernteam partner to the directory.
    /// Platform administrators only. A school location (BRIN + branch) can be registered once;
    /// a second registration answers 409 with the `existingId`.
    #[oai(path = "/", method = "post", operation_id = "createOrganisation")]
    async fn create(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        body: JsonBody<CreateOrganisation>,
    ) -> ApiResult<CreateOrganisationResponse, Create> {
        let principal = &auth.0;
        policy::require(principal, Action::ManageOrganisations)?;
        let input = body.0;
        let codes: Codes = input.codes.map(Into::into).unwrap_or_default();
        let actor = cx.actor(principal);
        let row = cx
            .db
            .transaction(async |conn| {
                let holder = match &codes.brin {
                    Some(brin) => {
                        queries::find_by_brin(conn, brin, codes.branch.as_deref()).await?
                    }
                    None => None,
                };
                rules::decide_register(input.kind, &input.name, &codes, holder.map(|o| o.id))?;
                let new = queries::NewOrganisation {
                    id: Uuid::now_v7(),
                    kind: input.kind,
                    name: &input.name,
                    brin: codes.brin.as_deref(),
                    branch: codes.branch.as_deref(),
                    region: codes.region.as_deref(),
                    active: input.active.unwrap_or(true),
                };
                let row = queries::insert(conn, &new).await.map_err(location_taken)?;
                changed(&row, AccessAction::Create)
                    .write(conn, actor)
                    .await?;
                Ok(row)
            })
            .await?;
        let organisation = Organisation::from(&row);
        let tag = etag::of(&organisation);
        Ok(CreateOrganisationResponse::Created(
            Json(organisation),
            format!("/v1/organisations/{}", row.id),
            tag,
        ))
    }

    /// List organisations
    ///
    /// The directory, ordered by name, for every authenticated professional: a school finds its
    /// Veilig Thuis region and wijkteam here. Filter by `kind`, part of the `name`
    /// (case-insensitive) and `active`.
    #[oai(path = "/", method = "get", operation_id = "listOrganisations")]
    #[allow(clippy::too_many_arguments)]
    async fn list(
        &self,
        auth: BearerAuth,
        state: Data<&Arc<AppState>>,
        /// Only organisations of this kind.
        kind: Query<Option<OrganisationKind>>,
        /// Only organisations whose name contains this text (case-insensitive).
        #[oai(validator(min_length = 1, max_length = 200))]
        name: Query<Option<String>>,
        /// Only active (`true`) or inactive (`false`) organisations.
        active: Query<Option<bool>>,
        /// Page size: 1 to 200, default 50.
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<u32>>,
        /// `nextCursor` of the previous page.
        #[oai(validator(max_length = 500))]
        cursor: Query<Option<String>>,
    ) -> ApiResult<ListOrganisationsResponse, ReadMany> {
        policy::require(&auth.0, Action::ReadOrganisations)?;
        let after: Option<(String, Uuid)> = decode_cursor(cursor.0.as_deref())?;
        let filter = queries::Filter {
            kind: kind.0,
            name: name.0,
            active: active.0,
        };
        let fetch = paging::fetch_size(limit.0);
        let mut conn = state.pool.get().await?;
        let rows = queries::list(&mut conn, &filter, after, fetch).await?;
        let (rows, next_cursor) =
            paging::paginate(rows, fetch, |row| (row.name.to_lowercase(), row.id));
        Ok(ListOrganisationsResponse::Ok(Json(OrganisationPage {
            items: rows.iter().map(Organisation::from).collect(),
            next_cursor,
        })))
    }

    /// Get an organisation
    ///
    /// One organisation of the directory. Send the `ETag` back in `If-None-Match` to get a 304
    /// when nothing changed.
    #[oai(path = "/:id", method = "get", operation_id = "getOrganisation")]
    async fn get(
        &self,
        auth: BearerAuth,
        state: Data<&Arc<AppState>>,
        /// The organisation's id.
        id: Path<Uuid>,
        /// ETag of the copy the client holds.
        #[oai(name = "If-None-Match")]
        if_none_match: Header<Option<String>>,
    ) -> ApiResult<GetOrganisationResponse, ReadOne> {
        policy::require(&auth.0, Action::ReadOrganisations)?;
        let mut conn = state.pool.get().await?;
        let row = queries::find(&mut conn, id.0)
            .await?
            .ok_or_else(AppError::not_found)?;
        let organisation = Organisation::from(&row);
        let tag = etag::of(&organisation);
        if etag::none_match_hits(if_none_match.0.as_deref(), &tag) {
            return Ok(GetOrganisationResponse::NotModified(tag));
        }
        Ok(GetOrganisationResponse::Ok(Json(organisation), tag))
    }

    /// Change an organisation
    ///
    /// Renames, recodes, deactivates or reactivates an organisation. Platform administrators
    /// only. Professionals of a deactivated organisation can no longer sign in (within 30
    /// seconds on every server). Send `If-Match` with the ETag you read to refuse the change
    /// (412) when someone else changed it meanwhile.
    #[oai(path = "/:id", method = "patch", operation_id = "updateOrganisation")]
    async fn update(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The organisation's id.
        id: Path<Uuid>,
        /// ETag of the copy the change is based on.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
        body: JsonBody<UpdateOrganisation>,
    ) -> ApiResult<UpdateOrganisationResponse, Change> {
        let principal = &auth.0;
        policy::require(principal, Action::ManageOrganisations)?;
        let input = body.0;
        let codes = input.new_codes();
        let actor = cx.actor(principal);
        let row = cx
            .db
            .transaction(async |conn| {
                let current = queries::find_for_update(conn, id.0).await?;
                let tag = etag::of(&Organisation::from(&current));
                etag::check_if_match(if_match.0.as_deref(), &tag)?;
                let name = input.name.as_deref();
                rules::decide_change(current.kind, name, input.active, codes.as_ref())?;
                let changes = queries::OrganisationChanges {
                    name: input.name.clone(),
                    active: input.active,
                    brin: codes.as_ref().map(|c| c.brin.clone()),
                    branch: codes.as_ref().map(|c| c.branch.clone()),
                    region: codes.as_ref().map(|c| c.region.clone()),
                };
                let row = queries::update(conn, current.id, &changes)
                    .await
                    .map_err(location_taken)?;
                changed(&row, AccessAction::Update)
                    .write(conn, actor)
                    .await?;
                Ok(row)
            })
            .await?;
        cx.state.authenticator.forget_organisation(row.id);
        let organisation = Organisation::from(&row);
        let tag = etag::of(&organisation);
        Ok(UpdateOrganisationResponse::Ok(Json(organisation), tag))
    }

    /// Change your organisation's settings
    ///
    /// Your organisation's administrator names the duty contact (piketfunctie) a sender sees
    /// when an acute handoff to you goes unacknowledged, and switches the four-eyes principle
    /// (vier-ogenprincipe; schools and wijkteams): the meldcode decision and a case closure
    /// then wait for a second care coordinator's approval. Replaces both settings. Another
    /// organisation's settings are 403. Send `If-Match` to refuse the change (412) when someone
    /// changed the organisation meanwhile.
    #[oai(
        path = "/:id/settings",
        method = "put",
        operation_id = "updateOrganisationSettings"
    )]
    async fn settings(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// Your organisation's id.
        id: Path<Uuid>,
        /// ETag of the organisation the change is based on.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
        body: JsonBody<OrganisationSettings>,
    ) -> ApiResult<OrganisationSettingsResponse, Change> {
        let principal = &auth.0;
        policy::require_own_organisation_admin(principal, id.0)?;
        let input = body.0;
        let contact: Option<rules::DutyContact> = input.duty_contact.as_ref().map(Into::into);
        let actor = cx.actor(principal);
        let row = cx
            .db
            .transaction(async |conn| {
                let current = queries::find_for_update(conn, id.0).await?;
                let tag = etag::of(&Organisation::from(&current));
                etag::check_if_match(if_match.0.as_deref(), &tag)?;
                rules::decide_settings(current.kind, contact.as_ref(), input.four_eyes)?;
                let row =
                    queries::update_settings(conn, current.id, contact.as_ref(), input.four_eyes)
                        .await?;
                changed(&row, AccessAction::Update)
                    .write(conn, actor)
                    .await?;
                Ok(row)
            })
            .await?;
        let organisation = Organisation::from(&row);
        let tag = etag::of(&organisation);
        Ok(OrganisationSettingsResponse::Ok(Json(organisation), tag))
    }
}

/// An organisation registered or changed: its access-log entry and event.
fn changed(row: &queries::Organisation, access: AccessAction) -> Effects {
    let event = match access {
        AccessAction::Create => EventType::OrganisationCreated,
        _ => EventType::OrganisationUpdated,
    };
    Effects::new()
        .access(Access::allowed(access, RESOURCE, row.id))
        .event(Event::new(event, row.id, RESOURCE, row.id))
}

/// A unique-index violation on the location: a concurrent registration won the race.
fn location_taken(err: diesel::result::Error) -> AppError {
    if queries::is_duplicate_location(&err) {
        Refusal::DuplicateOrganisation { existing: None }.into()
    } else {
        err.into()
    }
}

/// Creates the platform organisation unless one exists; returns it (`schakel bootstrap`).
pub async fn bootstrap_platform(
    conn: &mut db::Conn,
    name: &str,
) -> Result<queries::Organisation, AppError> {
    if let Some(err) = rules::check_name(name) {
        return Err(AppError::fields(vec![err]));
    }
    if let Some(existing) = queries::find_platform(conn).await? {
        return Ok(existing);
    }
    let new = queries::NewOrganisation {
        id: Uuid::now_v7(),
        kind: OrganisationKind::Platform,
        name,
        brin: None,
        branch: None,
        region: None,
        active: true,
    };
    match queries::insert(conn, &new).await {
        Ok(row) => Ok(row),
        // Another bootstrap won the race: the unique index admits one platform organisation.
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => queries::find_platform(conn)
            .await?
            .ok_or_else(|| AppError::internal("platform organisation vanished")),
        Err(err) => Err(err.into()),
    }
}
