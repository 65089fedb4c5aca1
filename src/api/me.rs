//! `GET /me`: the principal as the server sees it.

use poem_openapi::{ApiResponse, Object, OpenApi, param::Header, payload::Json, types::Example};
use uuid::Uuid;

use crate::{
    api::{
        ApiTags, etag,
        organisations::OrganisationSummary,
        problem::{ApiResult, ReadMany},
    },
    auth::BearerAuth,
    domain::organisation::{OrganisationKind, Role},
};

/// The caller: who the token says they are, checked against their organisation.
#[derive(Object)]
#[oai(rename_all = "camelCase", example)]
pub struct Me {
    /// The professional's id at their identity provider (`sub`).
    pub sub: String,
    /// Display name.
    pub name: String,
    pub organisation: OrganisationSummary,
    /// Roles held, each fitting the organisation's kind.
    pub roles: Vec<Role>,
    /// The machine client acting for the professional (RFC 8693 `act`), if any — e.g. the
    /// school administration system.
    #[oai(skip_serializing_if_is_none)]
    pub acting_client: Option<String>,
}

impl Example for Me {
    fn example() -> Self {
        Self {
            sub: "ib-fatima".into(),
            name: "Fatima El Amrani".into(),
            organisation: OrganisationSummary {
                id: Uuid::from_u128(0x0193_5b1e_7c1a_7d00_8000_0000_0000_0001),
                kind: OrganisationKind::School,
                name: "Basisschool De Regenboog".into(),
            },
            roles: vec![Role::CareCoordinator],
            acting_client: Some("parnassys".into()),
        }
    }
}

#[derive(ApiResponse)]
pub enum MeResponse {
    /// The caller.
    #[oai(status = 200)]
    Ok(Json<Me>, #[oai(header = "ETag")] String),
    /// Unchanged since the ETag in `If-None-Match`.
    #[oai(status = 304)]
    NotModified(#[oai(header = "ETag")] String),
}

pub struct MeApi;

#[OpenApi(tag = "ApiTags::Identity")]
impl MeApi {
    /// Who am I
    ///
    /// Returns the caller as the server sees them after checking the token: the professional,
    /// their organisation, their roles, and the client acting for them. Use it to check a token
    /// and an integration's configuration.
    #[oai(path = "/me", method = "get", operation_id = "getMe")]
    async fn me(
        &self,
        auth: BearerAuth,
        /// ETag of the copy the client holds.
        #[oai(name = "If-None-Match")]
        if_none_match: Header<Option<String>>,
    ) -> ApiResult<MeResponse, ReadMany> {
        let principal = auth.0;
        let me = Me {
            sub: principal.sub,
            name: principal.name,
            organisation: OrganisationSummary {
                id: principal.organisation.id,
                kind: principal.organisation.kind,
                name: principal.organisation.name,
            },
            roles: principal.roles,
            acting_client: principal.acting_client,
        };
        let tag = etag::of(&me);
        if etag::none_match_hits(if_none_match.0.as_deref(), &tag) {
            return Ok(MeResponse::NotModified(tag));
        }
        Ok(MeResponse::Ok(Json(me), tag))
    }
}
