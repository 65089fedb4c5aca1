//! Fixed faces per school: the school's page of partners — who to ask at the CJG, the GGD,
//! leerplicht — agreed between the school and each partner organisation. No child data.

use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Header, Path},
    payload::Json,
    types::Example,
};
use serde::Deserialize;
use uuid::Uuid;

use crate::{
    api::{
        ApiTags,
        body::{JsonBody, OptionalJsonBody},
        context::Ctx,
        etag,
        organisations::OrganisationSummary,
        problem::{ApiResult, Change, Create, ReadOne},
        types::{Timestamp, example_id, example_time},
    },
    audit::{Access, AccessAction},
    auth::{
        BearerAuth, Principal,
        policy::{self, Action},
    },
    db::{
        organisations::{self as organisation_queries, Organisation},
        partner_links::{self as queries, PartnerLink},
    },
    domain::partner_link::{
        self as rules, Contact, LinkAct, LinkStatus, Partner, PartnerRole, ProposeContext,
    },
    effects::Effects,
    error::AppError,
    events::{Event, EventType},
};

/// The person assigned, with their work contact details (shown to authenticated professionals
/// only).
#[derive(Object, Deserialize, Clone)]
#[oai(
    rename = "PartnerContact",
    rename_all = "camelCase",
    deny_unknown_fields
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContactDto {
    #[oai(validator(min_length = 1, max_length = 200))]
    pub name: String,
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

impl ContactDto {
    fn contact(&self) -> Contact {
        Contact {
            name: self.name.clone(),
            phone: self.phone.clone(),
            email: self.email.clone(),
        }
    }

    fn of(contact: Contact) -> Self {
        Self {
            name: contact.name,
            phone: contact.phone,
            email: contact.email,
        }
    }
}

fn example_contact() -> ContactDto {
    ContactDto {
        name: "Sanne Jansen".into(),
        phone: Some("+31 20 555 0142".into()),
        email: Some("s.jansen@cjg.example".into()),
    }
}

/// A school proposes a partner's contact for a role in its care structure.
#[derive(Object, Deserialize)]
#[oai(rename_all = "camelCase", deny_unknown_fields, example)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProposePartnerLink {
    /// The partner organisation (a wijkteam or CJG, the GGD, leerplicht, the
    /// samenwerkingsverband).
    pub partner_organisation_id: Uuid,
    pub role: PartnerRole,
    pub contact: ContactDto,
}

impl Example for ProposePartnerLink {
    fn example() -> Self {
        Self {
            partner_organisation_id: example_id(0x002),
            role: PartnerRole::CjgCoach,
            contact: example_contact(),
        }
    }
}

/// The partner confirms; with `contact`, it names someone else than the school proposed.
#[derive(Object, Deserialize, Default)]
#[oai(rename_all = "camelCase", deny_unknown_fields, example)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConfirmPartnerLink {
    #[oai(skip_serializing_if_is_none)]
    pub contact: Option<ContactDto>,
}

/// The partner names a new contact for a confirmed link.
#[derive(Object, Deserialize)]
#[oai(rename_all = "camelCase", deny_unknown_fields, example)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReplacePartnerContact {
    pub contact: ContactDto,
}

impl Example for ConfirmPartnerLink {
    fn example() -> Self {
        Self {
            contact: Some(ContactDto {
                name: "Mo Bakker".into(),
                phone: Some("+31 20 555 0199".into()),
                email: None,
            }),
        }
    }
}

impl Example for ReplacePartnerContact {
    fn example() -> Self {
        Self {
            contact: example_contact(),
        }
    }
}

/// A partner's assigned contact in a school's care structure.
#[derive(Object)]
#[oai(rename_all = "camelCase", example)]
pub struct PartnerLinkDto {
    pub id: Uuid,
    pub school: OrganisationSummary,
    pub partner: OrganisationSummary,
    pub role: PartnerRole,
    pub contact: ContactDto,
    pub status: LinkStatus,
    pub proposed_at: Timestamp,
    #[oai(skip_serializing_if_is_none)]
    pub confirmed_at: Option<Timestamp>,
    #[oai(skip_serializing_if_is_none)]
    pub ended_at: Option<Timestamp>,
    /// The organisation that ended the link.
    #[oai(skip_serializing_if_is_none)]
    pub ended_by_organisation_id: Option<Uuid>,
}

impl Example for PartnerLinkDto {
    fn example() -> Self {
        Self {
            id: example_id(0x0a1),
            school: OrganisationSummary {
                id: example_id(0x001),
                kind: crate::domain::organisation::OrganisationKind::School,
                name: "Basisschool De Regenboog".into(),
            },
            partner: OrganisationSummary {
                id: example_id(0x002),
                kind: crate::domain::organisation::OrganisationKind::Wijkteam,
                name: "CJG Noord".into(),
            },
            role: PartnerRole::CjgCoach,
            contact: example_contact(),
            status: LinkStatus::Confirmed,
            proposed_at: example_time(),
            confirmed_at: Some(example_time()),
            ended_at: None,
            ended_by_organisation_id: None,
        }
    }
}

fn summary(organisation: &Organisation) -> OrganisationSummary {
    OrganisationSummary {
        id: organisation.id,
        kind: organisation.kind,
        name: organisation.name.clone(),
    }
}

fn render(link: &PartnerLink, school: &Organisation, partner: &Organisation) -> PartnerLinkDto {
    PartnerLinkDto {
        id: link.id,
        school: summary(school),
        partner: summary(partner),
        role: link.role,
        contact: ContactDto::of(link.contact()),
        status: link.status,
        proposed_at: link.created_at.into(),
        confirmed_at: link.confirmed_at.map(Into::into),
        ended_at: link.ended_at.map(Into::into),
        ended_by_organisation_id: link.ended_by_organisation_id,
    }
}

/// The school's page of partners.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct PartnerLinkPage {
    pub items: Vec<PartnerLinkDto>,
}

#[derive(ApiResponse)]
pub enum PartnerLinksResponse {
    /// The school's confirmed partners (its own and the partner's proposals and ended links
    /// too, for the two sides), newest first.
    #[oai(status = 200)]
    Ok(Json<PartnerLinkPage>),
}

// Built once per request and rendered at once: boxing would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(ApiResponse)]
pub enum PartnerLinkResponse {
    /// The link.
    #[oai(status = 200)]
    Ok(Json<PartnerLinkDto>, #[oai(header = "ETag")] String),
    /// Unchanged since the ETag in `If-None-Match`.
    #[oai(status = 304)]
    NotModified(#[oai(header = "ETag")] String),
}

// Built once per request and rendered at once: boxing would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(ApiResponse)]
pub enum ProposeResponse {
    /// Proposed; the partner's administrator confirms it.
    #[oai(status = 201)]
    Created(
        Json<PartnerLinkDto>,
        /// The link.
        #[oai(header = "Location")]
        String,
        #[oai(header = "ETag")] String,
    ),
}

#[derive(ApiResponse)]
pub enum LinkStepResponse {
    /// The link as it now stands.
    #[oai(status = 200)]
    Ok(Json<PartnerLinkDto>, #[oai(header = "ETag")] String),
}

/// The link, its school and its partner; a link the principal may not see is a 404.
async fn load(
    conn: &mut diesel_async::AsyncPgConnection,
    principal: &Principal,
    school: Uuid,
    id: Uuid,
    for_update: bool,
) -> Result<(PartnerLink, Organisation, Organisation), AppError> {
    let link = queries::find(conn, school, id, for_update)
        .await?
        .filter(|l| policy::may_see_partner_link(principal, l.school_id, l.partner_id, l.status))
        .ok_or_else(AppError::not_found)?;
    let school = organisation_queries::find(conn, link.school_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let partner = organisation_queries::find(conn, link.partner_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    Ok((link, school, partner))
}

/// The access-log entry and the event both sides get for a change of the link.
fn effects(action: AccessAction, link: &PartnerLink, event: EventType) -> Effects {
    Effects::new()
        .access(Access::allowed(action, "partner_link", link.id))
        .event(Event::new(event, link.school_id, "partner_link", link.id))
        .event(Event::new(event, link.partner_id, "partner_link", link.id))
}

pub struct PartnerLinksApi;

#[OpenApi(tag = "ApiTags::Organisations")]
impl PartnerLinksApi {
    /// Propose a partner's contact for your school
    ///
    /// Your school (its administrator or care coordinator) proposes a partner organisation's
    /// contact for a role in its care structure: CJG coach, GGD nurse, school doctor, attendance
    /// officer, schoolconsulent or schakelfunctionaris (one per school at a time: a second is
    /// 409 `schakelfunctionaris-taken`). The partner's administrator confirms it, or names
    /// someone else. Another school's page is 403; a partner that does not fill the role is 422
    /// `partner-role-mismatch`.
    #[oai(
        path = "/organisations/:id/partner-links",
        method = "post",
        operation_id = "proposePartnerLink"
    )]
    async fn propose(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// Your school's id.
        id: Path<Uuid>,
        body: JsonBody<ProposePartnerLink>,
    ) -> ApiResult<ProposeResponse, Create> {
        let principal = &auth.0;
        policy::require_school_side(principal, id.0)?;
        let input = body.0;
        let contact = input.contact.contact();
        let actor = cx.actor(principal);
        let rendered = cx
            .db
            .transaction(async |conn| {
                let school = organisation_queries::find_for_update(conn, id.0).await?;
                let partner = organisation_queries::find(conn, input.partner_organisation_id)
                    .await?
                    .filter(|p| p.id != school.id);
                let context = ProposeContext {
                    school: school.kind,
                    partner: partner.as_ref().map(|p| Partner {
                        kind: p.kind,
                        active: p.active,
                        name: p.name.clone(),
                    }),
                    has_schakelfunctionaris: queries::has_schakelfunctionaris(conn, school.id)
                        .await?,
                };
                rules::decide_propose(input.role, &contact, &context)?;
                let partner = partner.ok_or_else(AppError::not_found)?;
                let link = queries::insert(
                    conn,
                    school.id,
                    partner.id,
                    input.role,
                    &contact,
                    &principal.sub,
                )
                .await?;
                effects(AccessAction::Create, &link, EventType::PartnerLinkProposed)
                    .write(conn, actor)
                    .await?;
                Ok(render(&link, &school, &partner))
            })
            .await?;
        let tag = etag::of(&rendered);
        let location = format!(
            "/v1/organisations/{}/partner-links/{}",
            rendered.school.id, rendered.id
        );
        Ok(ProposeResponse::Created(Json(rendered), location, tag))
    }

    /// A school's partners
    ///
    /// Whom a teacher or care coordinator asks: the partners' confirmed contacts, newest first.
    /// The school and each partner also see their proposals and ended links.
    #[oai(
        path = "/organisations/:id/partner-links",
        method = "get",
        operation_id = "listPartnerLinks"
    )]
    async fn list(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The school's id.
        id: Path<Uuid>,
    ) -> ApiResult<PartnerLinksResponse, ReadOne> {
        let principal = &auth.0;
        policy::require(principal, Action::ReadOrganisations)?;
        let mut conn = cx.state.pool.get().await?;
        let school = organisation_queries::find(&mut conn, id.0)
            .await?
            .ok_or_else(AppError::not_found)?;
        let links: Vec<PartnerLink> = queries::of_school(&mut conn, school.id)
            .await?
            .into_iter()
            .filter(|l| {
                policy::may_see_partner_link(principal, l.school_id, l.partner_id, l.status)
            })
            .collect();
        let mut partner_ids: Vec<Uuid> = links.iter().map(|l| l.partner_id).collect();
        partner_ids.sort_unstable();
        partner_ids.dedup();
        let partners = organisation_queries::by_ids(&mut conn, &partner_ids).await?;
        let items = links
            .iter()
            .filter_map(|link| {
                let partner = partners.iter().find(|p| p.id == link.partner_id)?;
                Some(render(link, &school, partner))
            })
            .collect();
        Ok(PartnerLinksResponse::Ok(Json(PartnerLinkPage { items })))
    }

    /// A partner link
    ///
    /// A confirmed link is on the school's public page; a proposal or an ended link is for the
    /// school and the partner only (404 for others).
    #[oai(
        path = "/organisations/:id/partner-links/:linkId",
        method = "get",
        operation_id = "getPartnerLink"
    )]
    async fn get(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The school's id.
        id: Path<Uuid>,
        /// The link's id.
        #[oai(name = "linkId")]
        link_id: Path<Uuid>,
        /// ETag of the copy the client holds.
        #[oai(name = "If-None-Match")]
        if_none_match: Header<Option<String>>,
    ) -> ApiResult<PartnerLinkResponse, ReadOne> {
        let principal = &auth.0;
        policy::require(principal, Action::ReadOrganisations)?;
        let mut conn = cx.state.pool.get().await?;
        let (link, school, partner) = load(&mut conn, principal, id.0, link_id.0, false).await?;
        let rendered = render(&link, &school, &partner);
        let tag = etag::of(&rendered);
        if etag::none_match_hits(if_none_match.0.as_deref(), &tag) {
            return Ok(PartnerLinkResponse::NotModified(tag));
        }
        Ok(PartnerLinkResponse::Ok(Json(rendered), tag))
    }

    /// Confirm a partner link
    ///
    /// The partner organisation's administrator confirms the proposed contact, or names someone
    /// else (`contact`). Only a proposal is confirmed (else 409 `invalid-transition`).
    #[oai(
        path = "/organisations/:id/partner-links/:linkId/confirmation",
        method = "post",
        operation_id = "confirmPartnerLink"
    )]
    async fn confirm(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The school's id.
        id: Path<Uuid>,
        /// The link's id.
        #[oai(name = "linkId")]
        link_id: Path<Uuid>,
        /// ETag of the link the confirmation is based on.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
        body: OptionalJsonBody<ConfirmPartnerLink>,
    ) -> ApiResult<LinkStepResponse, Change> {
        let contact = body.into_inner().unwrap_or_default().contact;
        self.step(
            auth,
            cx,
            (id.0, link_id.0),
            if_match.0,
            LinkAct::Confirm,
            contact,
        )
        .await
    }

    /// Name another contact
    ///
    /// The partner organisation's administrator names someone else for a confirmed link (the
    /// coach changed jobs); the school's page shows the new contact at once.
    #[oai(
        path = "/organisations/:id/partner-links/:linkId/replacement",
        method = "post",
        operation_id = "replacePartnerContact"
    )]
    async fn replace(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The school's id.
        id: Path<Uuid>,
        /// The link's id.
        #[oai(name = "linkId")]
        link_id: Path<Uuid>,
        /// ETag of the link the replacement is based on.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
        body: JsonBody<ReplacePartnerContact>,
    ) -> ApiResult<LinkStepResponse, Change> {
        let contact = Some(body.0.contact);
        self.step(
            auth,
            cx,
            (id.0, link_id.0),
            if_match.0,
            LinkAct::Replace,
            contact,
        )
        .await
    }

    /// End a partner link
    ///
    /// Either side ends a proposed or confirmed link: the school (administrator or care
    /// coordinator) or the partner's administrator. An ended link is 409 `invalid-transition`.
    #[oai(
        path = "/organisations/:id/partner-links/:linkId/ending",
        method = "post",
        operation_id = "endPartnerLink"
    )]
    async fn end(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The school's id.
        id: Path<Uuid>,
        /// The link's id.
        #[oai(name = "linkId")]
        link_id: Path<Uuid>,
        /// ETag of the link the ending is based on.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
    ) -> ApiResult<LinkStepResponse, Change> {
        self.step(auth, cx, (id.0, link_id.0), if_match.0, LinkAct::End, None)
            .await
    }
}

impl PartnerLinksApi {
    /// One step on a link: load it (404 when not visible), ask the policy who may, check
    /// If-Match, decide, write it with its access-log entry and both sides' events.
    async fn step(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        (school_id, link_id): (Uuid, Uuid),
        if_match: Option<String>,
        act: LinkAct,
        contact: Option<ContactDto>,
    ) -> ApiResult<LinkStepResponse, Change> {
        let principal = &auth.0;
        policy::require(principal, Action::ManagePartnerLinks)?;
        let contact = contact.map(|c| c.contact());
        let actor = cx.actor(principal);
        let rendered = cx
            .db
            .transaction(async |conn| {
                let (link, school, partner) =
                    load(conn, principal, school_id, link_id, true).await?;
                policy::require_partner_link_act(principal, link.school_id, link.partner_id, act)?;
                etag::check_if_match(
                    if_match.as_deref(),
                    &etag::of(&render(&link, &school, &partner)),
                )?;
                rules::decide_link_step(link.status, act, contact.as_ref())?;
                let (changed, event) = match act {
                    LinkAct::Confirm | LinkAct::Replace => (
                        queries::confirm(
                            conn,
                            link.id,
                            &contact.clone().unwrap_or_else(|| link.contact()),
                            &principal.sub,
                        )
                        .await?,
                        EventType::PartnerLinkConfirmed,
                    ),
                    LinkAct::End => (
                        queries::end(conn, link.id, principal.org_id()).await?,
                        EventType::PartnerLinkEnded,
                    ),
                };
                effects(AccessAction::Update, &changed, event)
                    .write(conn, actor)
                    .await?;
                Ok(render(&changed, &school, &partner))
            })
            .await?;
        let tag = etag::of(&rendered);
        Ok(LinkStepResponse::Ok(Json(rendered), tag))
    }
}
