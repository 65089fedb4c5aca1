//! `schakel demo`: a small, realistic demo world, created idempotently, with a token per role.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    api::organisations::bootstrap_platform,
    auth::jwt::{DevToken, mint_dev_token},
    config::AuthConfig,
    db::{self, organisations as queries},
    domain::organisation::{OrganisationKind, Role},
    error::AppError,
};

/// Demo tokens last a working day.
pub const DEMO_TOKEN_TTL_MINUTES: u32 = 12 * 60;

pub struct DemoOrganisations {
    pub platform: Uuid,
    pub school: Uuid,
    pub wijkteam: Uuid,
    pub veilig_thuis: Uuid,
}

pub struct DemoToken {
    /// Key in the `--json` output: the role, e.g. `care_coordinator`.
    pub key: &'static str,
    pub organisation_name: String,
    pub person: &'static str,
    pub token: String,
    pub hint: &'static str,
}

pub struct DemoWorld {
    pub organisations: DemoOrganisations,
    pub tokens: Vec<DemoToken>,
}

struct DemoOrganisation {
    kind: OrganisationKind,
    name: &'static str,
    brin: Option<&'static str>,
    branch: Option<&'static str>,
    region: Option<&'static str>,
}

const SCHOOL: DemoOrganisation = DemoOrganisation {
    kind: OrganisationKind::School,
    name: "Basisschool De Regenboog",
    brin: Some("99ZZ"),
    branch: Some("00"),
    region: Some("Amsterdam Nieuw-West"),
};
const WIJKTEAM: DemoOrganisation = DemoOrganisation {
    kind: OrganisationKind::Wijkteam,
    name: "Buurtteam Geuzenveld-Slotermeer",
    brin: None,
    branch: None,
    region: Some("Amsterdam Nieuw-West"),
};
const VEILIG_THUIS: DemoOrganisation = DemoOrganisation {
    kind: OrganisationKind::VeiligThuis,
    name: "Veilig Thuis Amsterdam-Amstelland",
    brin: None,
    branch: None,
    region: Some("Amsterdam-Amstelland"),
};

async fn ensure(conn: &mut db::Conn, org: &DemoOrganisation) -> Result<Uuid, AppError> {
    if let Some(existing) = queries::find_by_kind_and_name(conn, org.kind, org.name).await? {
        return Ok(existing.id);
    }
    let row = queries::insert(
        conn,
        &queries::NewOrganisation {
            id: Uuid::now_v7(),
            kind: org.kind,
            name: org.name,
            brin: org.brin,
            branch: org.branch,
            region: org.region,
            active: true,
        },
    )
    .await?;
    Ok(row.id)
}

/// Creates (or finds) the demo organisations and mints a token per role.
pub async fn create(
    conn: &mut db::Conn,
    auth: &AuthConfig,
) -> Result<DemoWorld, Box<dyn std::error::Error + Send + Sync>> {
    auth.require_dev_secret()?;
    let platform = bootstrap_platform(conn, "schakel platform").await?;
    let organisations = DemoOrganisations {
        platform: platform.id,
        school: ensure(conn, &SCHOOL).await?,
        wijkteam: ensure(conn, &WIJKTEAM).await?,
        veilig_thuis: ensure(conn, &VEILIG_THUIS).await?,
    };
    let people: [(
        &'static str,
        Role,
        Uuid,
        &str,
        &'static str,
        &'static str,
        &'static str,
    ); 7] = [
        (
            "platform_admin",
            Role::PlatformAdmin,
            organisations.platform,
            &platform.name,
            "admin-demo",
            "Platform Beheer",
            "GET /v1/organisations — or register one with POST /v1/organisations",
        ),
        (
            "teacher",
            Role::Teacher,
            organisations.school,
            SCHOOL.name,
            "leerkracht-sanne",
            "Sanne de Vries",
            "GET /v1/me — a teacher (leerkracht) of group 6",
        ),
        (
            "care_coordinator",
            Role::CareCoordinator,
            organisations.school,
            SCHOOL.name,
            "ib-fatima",
            "Fatima El Amrani",
            "GET /v1/me — the intern begeleider who leads the meldcode",
        ),
        (
            "youth_worker",
            Role::YouthWorker,
            organisations.wijkteam,
            WIJKTEAM.name,
            "oka-joost",
            "Joost Bakker",
            "GET /v1/organisations?kind=school — the ouder-kindadviseur of the wijkteam",
        ),
        (
            "vt_worker",
            Role::VtWorker,
            organisations.veilig_thuis,
            VEILIG_THUIS.name,
            "vt-noor",
            "Noor Yilmaz",
            "GET /v1/handoffs?direction=incoming — a Veilig Thuis triage worker",
        ),
        (
            "privacy_officer",
            Role::PrivacyOfficer,
            organisations.school,
            SCHOOL.name,
            "fg-pieter",
            "Pieter Jansen",
            "GET /v1/access-log — the school's privacy officer (functionaris gegevensbescherming)",
        ),
        (
            "org_admin",
            Role::OrgAdmin,
            organisations.school,
            SCHOOL.name,
            "beheer-lisa",
            "Lisa Visser",
            "GET /v1/me — manages the school's integrations",
        ),
    ];
    let mut tokens = Vec::with_capacity(people.len());
    for (key, role, organisation, organisation_name, sub, person, hint) in people {
        let token = mint_dev_token(
            auth,
            DevToken {
                organisation,
                roles: vec![role.as_str().to_owned()],
                sub,
                name: Some(person),
                ttl_minutes: DEMO_TOKEN_TTL_MINUTES,
            },
        )?;
        tokens.push(DemoToken {
            key,
            organisation_name: organisation_name.to_owned(),
            person,
            token,
            hint,
        });
    }
    Ok(DemoWorld {
        organisations,
        tokens,
    })
}

impl DemoWorld {
    pub fn to_json(&self) -> Value {
        let tokens: serde_json::Map<String, Value> = self
            .tokens
            .iter()
            .map(|t| (t.key.to_owned(), Value::String(t.token.clone())))
            .collect();
        json!({
            "organisations": {
                "platform": self.organisations.platform,
                "school": self.organisations.school,
                "wijkteam": self.organisations.wijkteam,
                "veilig_thuis": self.organisations.veilig_thuis,
            },
            "tokens": tokens,
        })
    }

    pub fn to_text(&self, base_url: &str) -> String {
        let mut out = String::from("Demo world ready.\n\nOrganisations:\n");
        for (kind, id) in [
            ("platform", self.organisations.platform),
            ("school", self.organisations.school),
            ("wijkteam", self.organisations.wijkteam),
            ("veilig_thuis", self.organisations.veilig_thuis),
        ] {
            out.push_str(&format!("  {kind:<14} {id}\n"));
        }
        out.push_str(&format!(
            "\nTokens (valid {} hours). Try, for example:\n  curl -H \"Authorization: Bearer $TOKEN\" {base_url}/v1/me\n",
            DEMO_TOKEN_TTL_MINUTES / 60
        ));
        for t in &self.tokens {
            out.push_str(&format!(
                "\n{} — {} ({})\n  try: {}\n  {}\n",
                t.key, t.person, t.organisation_name, t.hint, t.token
            ));
        }
        out
    }
}
