//! The HTTP API: one poem-openapi API per resource, with thin handlers:
//! parse → policy → domain rule → one transaction (data + access log + outbox) → render.

pub mod access_log;
pub mod body;
pub mod case_reviews;
pub mod cases;
pub mod children;
pub mod consents;
pub mod context;
pub mod directory;
pub mod etag;
pub mod events;
pub mod feedback;
pub mod figures;
pub mod handoffs;
pub mod health;
pub mod kernteams;
pub mod lifecycle;
pub mod me;
pub mod organisations;
pub mod paging;
pub mod partner_links;
pub mod problem;
pub mod reference;
pub mod shared;
pub mod signals;
pub mod types;
pub mod webhook_secrets;
pub mod webhooks;

use poem_openapi::{ContactObject, ExtraHeader, LicenseObject, OpenApiService, Tags};

/// The version of the contract, in `API-Version` on every response and in the spec.
pub const API_VERSION: &str = env!("CARGO_PKG_VERSION");

#[derive(Tags)]
pub enum ApiTags {
    /// Liveness and readiness, for orchestrators and load balancers.
    Health,
    /// The caller as the server sees them.
    Identity,
    /// The directory of organisations: schools, wijkteams, Veilig Thuis regions and kernteam
    /// partners.
    Organisations,
    /// The sociale kaart: which organisation takes which help question where, and how to
    /// reach it.
    Directory,
    /// The kernteam: the school and its partners discuss pupils — anonymously, or by name under
    /// consent for a case conference — and follow up what they agreed.
    Kernteams,
    /// Children (pupils, clients) of the caller's organisation, their guardians and their
    /// chronology.
    Children,
    /// Signals of unsafety (meldcode step 1): facts apart from interpretation, never changed in
    /// place.
    Signals,
    /// The meldcode path: cases, the five steps, the afwegingskader, the lead and agreements.
    Cases,
    /// Handoffs between organisations: advice requests, reports (meldingen), information
    /// requests and responses, referrals; acknowledged and deadline-tracked.
    Handoffs,
    /// Consent (toestemming) of parents and/or child: whose consent counts by age and parental
    /// authority; withdrawable at any time.
    Consents,
    /// Feedback (terugkoppeling) to the sender of a handoff: status without consent, more only
    /// with it; read receipts.
    Feedback,
    /// The organisation's access log, for its privacy officer.
    AccessLog,
    /// The data lifecycle, for the privacy officer: retention, legal holds, destruction
    /// requests (vernietigingsverzoek) and subject access (inzage).
    DataLifecycle,
    /// What changed: the event feed for polling and sync; ids and types only.
    Events,
    /// Webhook subscriptions: events pushed to your system, signed, retried; ids and types only.
    Webhooks,
    /// Figures for the ontwikkeltafel: timeliness of acknowledgement, safety assessment and
    /// feedback, and whether parents are asked consent to tell the school — counts only.
    Figures,
    /// The joint case review (casusbespreking) of a closed report: each side's pseudonymised
    /// chronology and reflections, shared once both agreed and released.
    CaseReviews,
    /// Enumerations with Dutch and English labels.
    Reference,
}

pub type Apis = (
    health::HealthApi,
    me::MeApi,
    (
        organisations::OrganisationsApi,
        directory::DirectoryApi,
        partner_links::PartnerLinksApi,
        kernteams::KernteamsApi,
    ),
    children::ChildrenApi,
    signals::SignalsApi,
    cases::CasesApi,
    handoffs::HandoffsApi,
    consents::ConsentsApi,
    feedback::FeedbackApi,
    (
        access_log::AccessLogApi,
        access_log::integrity::AccessLogIntegrityApi,
    ),
    (figures::FiguresApi, case_reviews::CaseReviewsApi),
    (
        lifecycle::LifecycleApi,
        lifecycle::DestructionRequestsApi,
        lifecycle::SubjectAccessApi,
    ),
    events::EventsApi,
    webhooks::WebhooksApi,
    webhook_secrets::WebhookSecretsApi,
    reference::ReferenceApi,
);

const DESCRIPTION: &str = "\
schakel links schools, wijkteams and Veilig Thuis when a child may be growing up unsafely: \
signals of unsafety, the meldcode path a school walks, explicit handoffs between organisations, \
consent of parents and child for Veilig Thuis to tell the school more, and that feedback \
(terugkoppeling) itself — with an access log of every look at a child's data.

Every request needs `Authorization: Bearer <JWT>` (claims `iss`, `aud`, `exp`, `sub`, `name`, \
`org`, `roles`, optionally `act`), except health checks and reference data. Errors are RFC 9457 \
`application/problem+json` with a stable `type` URI. Every response carries `API-Version` and \
`X-Request-Id`.

Integrating: every POST takes an `Idempotency-Key` so retries are safe; single resources carry \
a strong `ETag` (`If-None-Match` → 304; changes take `If-Match` → 412 when stale); responses \
are compressed (gzip, br) when you send `Accept-Encoding`. Learn about changes from the event \
feed (`GET /v1/events`) or signed webhooks (`/v1/webhook-subscriptions`).";

/// The OpenAPI service with every API of this version.
pub fn service() -> OpenApiService<Apis, ()> {
    OpenApiService::new(
        (
            health::HealthApi,
            me::MeApi,
            (
                organisations::OrganisationsApi,
                directory::DirectoryApi,
                partner_links::PartnerLinksApi,
                kernteams::KernteamsApi,
            ),
            children::ChildrenApi,
            signals::SignalsApi,
            cases::CasesApi,
            handoffs::HandoffsApi,
            consents::ConsentsApi,
            feedback::FeedbackApi,
            (
                access_log::AccessLogApi,
                access_log::integrity::AccessLogIntegrityApi,
            ),
            (figures::FiguresApi, case_reviews::CaseReviewsApi),
            (
                lifecycle::LifecycleApi,
                lifecycle::DestructionRequestsApi,
                lifecycle::SubjectAccessApi,
            ),
            events::EventsApi,
            webhooks::WebhooksApi,
            webhook_secrets::WebhookSecretsApi,
            reference::ReferenceApi,
        ),
        "schakel",
        API_VERSION,
    )
    .description(DESCRIPTION)
    .contact(
        ContactObject::new()
            .name("schakel maintainers")
            .email("api@schakel.nl")
            .url("https://schakel.nl"),
    )
    .license(LicenseObject::new("EUPL-1.2").url("https://eupl.eu/1.2/en/"))
    .server("/v1")
    .extra_response_header::<String, _>(
        ExtraHeader::new("API-Version").description("The full semantic version of the API."),
    )
    .extra_response_header::<String, _>(ExtraHeader::new("RateLimit-Policy").description(
        "The rate-limit policy this request was counted against (IETF draft \
         draft-ietf-httpapi-ratelimit-headers), e.g. `\"reads\";q=1200;w=60`: a quota of `q` \
         requests per `w` seconds. Absent on unlimited paths (health, spec, reference data).",
    ))
    .extra_response_header::<String, _>(ExtraHeader::new("RateLimit").description(
        "What is left of that quota, e.g. `\"reads\";r=1187;t=11`: `r` requests remain, the \
         quota is whole again in `t` seconds.",
    ))
    .extra_response_header::<String, _>(
        ExtraHeader::new("X-Request-Id")
            .description("The request's id: the client's `X-Request-Id` if plain, else generated."),
    )
    .extra_response_header::<String, _>(ExtraHeader::new("traceparent").description(
        "W3C Trace Context: the request's trace — the one in the request's `traceparent` when \
         that is valid (`00-<trace-id>-<parent-id>-<flags>`), else a new one — with this \
         service's span in it. The trace id is kept in the access log and the request log; a \
         malformed `traceparent` is never refused.",
    ))
}
