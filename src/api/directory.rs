//! The sociale kaart: each organisation describes the help questions it takes, the area it
//! serves and how to reach it; any professional searches it by question and postcode. No child
//! data is involved, so nothing here touches the access log's child view.

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
        problem::{ApiResult, Change, ReadMany, ReadOne},
        types::{Timestamp, example_id, example_time},
    },
    audit::{Access, AccessAction},
    auth::{
        BearerAuth,
        policy::{self, Action},
    },
    db::{
        directory::{self as queries, Reach, ServicesRow},
        organisations::{self as organisation_queries, Organisation},
        partner_links::{self as link_queries, PartnerLink},
    },
    domain::{
        directory::{self as rules, HelpQuestion, PostcodeRange, Services},
        partner_link::{LinkStatus, PartnerRole},
    },
    effects::Effects,
    error::AppError,
    events::{Event, EventType},
};

/// Four-digit postcodes, both ends included.
#[derive(Object, Deserialize, Clone, Copy)]
#[oai(
    rename = "PostcodeRange",
    rename_all = "camelCase",
    deny_unknown_fields
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PostcodeRangeDto {
    #[oai(validator(minimum(value = "1000"), maximum(value = "9999")))]
    pub from: u16,
    #[oai(validator(minimum(value = "1000"), maximum(value = "9999")))]
    pub to: u16,
}

/// Where an organisation works.
#[derive(Object, Deserialize, Clone)]
#[oai(rename_all = "camelCase", deny_unknown_fields)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Area {
    #[oai(default, validator(max_items = 100, max_length = 100))]
    #[serde(default)]
    pub municipalities: Vec<String>,
    #[oai(default, validator(max_items = 200, max_length = 100))]
    #[serde(default)]
    pub neighbourhoods: Vec<String>,
    /// Four-digit postcode (PC4) ranges served. Where they are named, a search by postcode
    /// finds the organisation only there.
    #[oai(default, validator(max_items = 200))]
    #[serde(default)]
    pub pc4_ranges: Vec<PostcodeRangeDto>,
}

/// An organisation's services on the sociale kaart, as it describes them.
#[derive(Object, Deserialize)]
#[oai(rename_all = "camelCase", deny_unknown_fields, example)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DescribeServices {
    /// The help questions (hulpvragen) it takes.
    #[oai(validator(min_items = 1, max_items = 20))]
    pub help_questions: Vec<HelpQuestion>,
    pub area: Area,
    /// How a professional or a family gets in: a phone call, a form, a walk-in hour.
    #[oai(validator(min_length = 1, max_length = 2000))]
    pub intake_route: String,
    #[oai(validator(min_length = 1, max_length = 500))]
    pub opening_hours: String,
    /// The intake desk's work phone (shown to professionals only).
    #[oai(
        validator(pattern = r"^\+?[0-9 ()-]{6,20}$"),
        skip_serializing_if_is_none
    )]
    pub phone: Option<String>,
    #[oai(
        validator(min_length = 3, max_length = 254),
        skip_serializing_if_is_none
    )]
    pub email: Option<String>,
}

impl Example for DescribeServices {
    fn example() -> Self {
        Self {
            help_questions: vec![
                HelpQuestion::Parenting,
                HelpQuestion::HomeSituation,
                HelpQuestion::Behaviour,
            ],
            area: Area {
                municipalities: vec!["Amsterdam".into()],
                neighbourhoods: vec!["Noord".into()],
                pc4_ranges: vec![PostcodeRangeDto {
                    from: 1020,
                    to: 1039,
                }],
            },
            intake_route: "Bel of mail het team; binnen een week volgt een kennismakingsgesprek."
                .into(),
            opening_hours: "Maandag tot en met vrijdag 9:00–17:00".into(),
            phone: Some("+31 20 555 0100".into()),
            email: Some("team-noord@wijkteam.example".into()),
        }
    }
}

impl DescribeServices {
    fn services(&self) -> Services {
        Services {
            help_questions: self.help_questions.clone(),
            municipalities: self.area.municipalities.clone(),
            neighbourhoods: self.area.neighbourhoods.clone(),
            postcode_ranges: self
                .area
                .pc4_ranges
                .iter()
                .map(|r| PostcodeRange {
                    from: r.from,
                    to: r.to,
                })
                .collect(),
            intake_route: self.intake_route.clone(),
            opening_hours: self.opening_hours.clone(),
        }
    }
}

/// An organisation on the sociale kaart.
#[derive(Object)]
#[oai(rename_all = "camelCase", example)]
pub struct DirectoryEntry {
    pub organisation: OrganisationSummary,
    pub help_questions: Vec<HelpQuestion>,
    pub area: Area,
    pub intake_route: String,
    pub opening_hours: String,
    #[oai(skip_serializing_if_is_none)]
    pub phone: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub email: Option<String>,
    pub updated_at: Timestamp,
    /// With `school`: the contacts this organisation assigned to the school (confirmed partner
    /// links); otherwise empty.
    pub assigned_contacts: Vec<AssignedContact>,
}

/// A partner's contact assigned to a school.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct AssignedContact {
    pub role: PartnerRole,
    pub name: String,
    #[oai(skip_serializing_if_is_none)]
    pub phone: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub email: Option<String>,
}

impl Example for DirectoryEntry {
    fn example() -> Self {
        let described = DescribeServices::example();
        Self {
            organisation: OrganisationSummary {
                id: example_id(0x002),
                kind: crate::domain::organisation::OrganisationKind::Wijkteam,
                name: "Buurtteam Noord".into(),
            },
            help_questions: described.help_questions,
            area: described.area,
            intake_route: described.intake_route,
            opening_hours: described.opening_hours,
            phone: described.phone,
            email: described.email,
            updated_at: example_time(),
            assigned_contacts: vec![AssignedContact {
                role: PartnerRole::CjgCoach,
                name: "Sanne Jansen".into(),
                phone: Some("+31 20 555 0142".into()),
                email: None,
            }],
        }
    }
}

fn entry(organisation: &Organisation, row: &ServicesRow) -> DirectoryEntry {
    let services = row.services();
    DirectoryEntry {
        organisation: OrganisationSummary {
            id: organisation.id,
            kind: organisation.kind,
            name: organisation.name.clone(),
        },
        help_questions: services.help_questions,
        area: Area {
            municipalities: services.municipalities,
            neighbourhoods: services.neighbourhoods,
            pc4_ranges: services
                .postcode_ranges
                .iter()
                .map(|r| PostcodeRangeDto {
                    from: r.from,
                    to: r.to,
                })
                .collect(),
        },
        intake_route: services.intake_route,
        opening_hours: services.opening_hours,
        phone: row.phone.clone(),
        email: row.email.clone(),
        updated_at: row.updated_at.into(),
        assigned_contacts: Vec::new(),
    }
}

/// A page of the sociale kaart.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct DirectoryPage {
    pub items: Vec<DirectoryEntry>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

#[derive(ApiResponse)]
pub enum DirectoryResponse {
    /// The organisations that take the question there, by name.
    #[oai(status = 200)]
    Ok(Json<DirectoryPage>),
}

// Built once per request and rendered at once: boxing would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(ApiResponse)]
pub enum ServicesResponse {
    /// The organisation's services.
    #[oai(status = 200)]
    Ok(Json<DirectoryEntry>, #[oai(header = "ETag")] String),
    /// Unchanged since the ETag in `If-None-Match`.
    #[oai(status = 304)]
    NotModified(#[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum DescribeServicesResponse {
    /// Described.
    #[oai(status = 200)]
    Ok(Json<DirectoryEntry>, #[oai(header = "ETag")] String),
}

pub struct DirectoryApi;

#[OpenApi(tag = "ApiTags::Directory")]
impl DirectoryApi {
    /// Search the sociale kaart
    ///
    /// The organisations that take a help question (`question`) where a child lives
    /// (`postcode`, e.g. `1021 AB`), by name — for every professional wondering whom to ask
    /// before anything escalates. With `school`, the organisations that assigned a contact to
    /// that school (a confirmed partner link) come first, with the contacts named. The filters
    /// are optional. Organisations that name postcode ranges are found only there; those naming municipalities only, at every postcode. No
    /// child data is involved; the intake's work contact details are for authenticated
    /// professionals.
    #[oai(path = "/directory", method = "get", operation_id = "searchDirectory")]
    #[allow(clippy::too_many_arguments)]
    async fn search(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// Only organisations that take this help question.
        question: Query<Option<HelpQuestion>>,
        /// Only organisations serving this postcode (`1234 AB`, `1234AB` or `1234`).
        #[oai(validator(max_length = 10))]
        postcode: Query<Option<String>>,
        /// A school: the organisations with a contact assigned to it come first, each with
        /// `assignedContacts`.
        school: Query<Option<Uuid>>,
        /// Page size: 1 to 200, default 50.
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<u32>>,
        /// `nextCursor` of the previous page.
        #[oai(validator(max_length = 500))]
        cursor: Query<Option<String>>,
    ) -> ApiResult<DirectoryResponse, ReadMany> {
        policy::require(&auth.0, Action::ReadOrganisations)?;
        let postcode = match postcode.0.as_deref() {
            Some(given) => Some(rules::postcode_digits(given).ok_or_else(|| {
                AppError::invalid_param("postcode", "a Dutch postcode: 1234 AB, 1234AB or 1234")
            })?),
            None => None,
        };
        // Assigned organisations first (rank 0), then by name.
        let after: Option<(i64, (String, Uuid))> = decode_cursor(cursor.0.as_deref())?;
        let fetch = paging::fetch_size(limit.0);
        let mut conn = cx.state.pool.get().await?;
        let assigned: Vec<PartnerLink> = match school.0 {
            Some(school) => link_queries::of_school(&mut conn, school)
                .await?
                .into_iter()
                .filter(|l| l.status == LinkStatus::Confirmed)
                .collect(),
            None => Vec::new(),
        };
        let position = |org: &Organisation| {
            let rank = i64::from(!assigned.iter().any(|l| l.partner_id == org.id));
            (rank, (org.name.to_lowercase(), org.id))
        };
        let mut rows: Vec<(Organisation, ServicesRow)> = queries::all_active(&mut conn)
            .await?
            .into_iter()
            .filter(|(_, row)| rules::serves(&row.services(), question.0, postcode))
            .filter(|(org, _)| after.as_ref().is_none_or(|after| position(org) > *after))
            .collect();
        rows.sort_by_key(|(org, _)| position(org));
        rows.truncate(usize::try_from(fetch).unwrap_or(usize::MAX));
        let (rows, next_cursor) = paging::paginate(rows, fetch, |(org, _)| position(org));
        Ok(DirectoryResponse::Ok(Json(DirectoryPage {
            items: rows
                .iter()
                .map(|(org, row)| DirectoryEntry {
                    assigned_contacts: assigned
                        .iter()
                        .filter(|l| l.partner_id == org.id)
                        .map(|l| AssignedContact {
                            role: l.role,
                            name: l.contact_name.clone(),
                            phone: l.contact_phone.clone(),
                            email: l.contact_email.clone(),
                        })
                        .collect(),
                    ..entry(org, row)
                })
                .collect(),
            next_cursor,
        })))
    }

    /// An organisation's services
    ///
    /// What the organisation offers on the sociale kaart. 404 when it has not described its
    /// services (or does not exist).
    #[oai(
        path = "/organisations/:id/services",
        method = "get",
        operation_id = "getOrganisationServices"
    )]
    async fn get(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The organisation's id.
        id: Path<Uuid>,
        /// ETag of the copy the client holds.
        #[oai(name = "If-None-Match")]
        if_none_match: Header<Option<String>>,
    ) -> ApiResult<ServicesResponse, ReadOne> {
        policy::require(&auth.0, Action::ReadOrganisations)?;
        let mut conn = cx.state.pool.get().await?;
        let organisation = organisation_queries::find(&mut conn, id.0)
            .await?
            .ok_or_else(AppError::not_found)?;
        let row = queries::find(&mut conn, id.0)
            .await?
            .ok_or_else(AppError::not_found)?;
        let rendered = entry(&organisation, &row);
        let tag = etag::of(&rendered);
        if etag::none_match_hits(if_none_match.0.as_deref(), &tag) {
            return Ok(ServicesResponse::NotModified(tag));
        }
        Ok(ServicesResponse::Ok(Json(rendered), tag))
    }

    /// Describe your organisation's services
    ///
    /// Your organisation's administrator says which help questions it takes, where, and how to
    /// reach it (`area.pc4Ranges`: four-digit postcode ranges); this replaces the earlier
    /// description. Another organisation's services are
    /// 403. Send `If-Match` with the ETag you read to refuse the change (412) when someone
    /// changed it meanwhile.
    #[oai(
        path = "/organisations/:id/services",
        method = "put",
        operation_id = "describeOrganisationServices"
    )]
    async fn describe(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// Your organisation's id.
        id: Path<Uuid>,
        /// ETag of the services the change is based on.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
        body: JsonBody<DescribeServices>,
    ) -> ApiResult<DescribeServicesResponse, Change> {
        let principal = &auth.0;
        policy::require_own_organisation_admin(principal, id.0)?;
        let input = body.0;
        let services = input.services();
        let actor = cx.actor(principal);
        let rendered = cx
            .db
            .transaction(async |conn| {
                let organisation = organisation_queries::find_for_update(conn, id.0).await?;
                if let Some(current) = queries::find(conn, id.0).await? {
                    let tag = etag::of(&entry(&organisation, &current));
                    etag::check_if_match(if_match.0.as_deref(), &tag)?;
                }
                rules::decide_services(organisation.kind, &services)?;
                let reach = Reach {
                    phone: input.phone.as_deref(),
                    email: input.email.as_deref(),
                };
                let row =
                    queries::put(conn, organisation.id, &services, reach, &principal.sub).await?;
                Effects::new()
                    .access(Access::allowed(
                        AccessAction::Update,
                        "organisation_services",
                        organisation.id,
                    ))
                    .event(Event::new(
                        EventType::OrganisationUpdated,
                        organisation.id,
                        "organisation",
                        organisation.id,
                    ))
                    .write(conn, actor)
                    .await?;
                Ok(entry(&organisation, &row))
            })
            .await?;
        let tag = etag::of(&rendered);
        Ok(DescribeServicesResponse::Ok(Json(rendered), tag))
    }
}
