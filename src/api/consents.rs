//! Consent (toestemming) of parents and/or child, recorded by the organisation that holds the
//! child's record: whose consent counts follows from the child's age and the guardians'
//! parental authority; any party may withdraw it at any time.

use chrono::{NaiveDate, Utc};
use diesel_async::AsyncPgConnection;
use poem::web::Data;
use poem_openapi::{
    ApiResponse, Enum, Object, OpenApi,
    param::{Header, Path},
    payload::Json,
    types::Example,
};
use serde::Deserialize;
use uuid::Uuid;

use crate::domain::timeline::Visibility;
use crate::{
    api::{
        ApiTags,
        body::JsonBody,
        children::load_own_child,
        etag,
        organisations::OrganisationSummary,
        problem::{ApiResult, Change, Create, ReadOne},
        shared::Professional,
        types::{Timestamp, example_id, example_time},
    },
    audit::{Access, AccessAction, Actor, RequestMeta},
    auth::{
        BearerAuth, Principal,
        policy::{self, Action},
    },
    db::Db,
    db::{
        children as child_queries,
        consents::{self as queries, ConsentRecord},
        handoffs as handoff_queries, organisations as organisation_queries,
        timeline::TimelineEntry,
    },
    domain::{
        FieldError,
        calendar::to_dutch_time,
        child::ParentalAuthority,
        consent::{
            self as rules, ConsentDecision, ConsentFacts, ConsentGrant, ConsentMethod,
            ConsentPurpose, ConsentStatus, GuardianAuthority, PartiesBlocked, Party,
        },
        feedback::FeedbackCategory,
        reference::Labelled,
    },
    effects::Effects,
    error::{AppError, ProblemKind},
    events::{Event, EventType},
};

const CONSENT: &str = "consent";

// ---- requests ---------------------------------------------------------------------------------

/// A consent to ask.
#[derive(Object, Deserialize)]
#[oai(rename_all = "camelCase", deny_unknown_fields, example)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateConsent {
    /// Your child the consent is about.
    pub child_id: Uuid,
    pub purpose: ConsentPurpose,
    /// The organisation that may be told (for feedback: the school that reported).
    pub recipient_organisation: Uuid,
    /// For `feedback_to_school`: the feedback categories it covers.
    #[oai(default, validator(max_items = 10), skip_serializing_if_is_empty)]
    #[serde(default)]
    pub scope: Vec<FeedbackCategory>,
    /// The handoff it relates to, if any (e.g. the report received).
    #[oai(skip_serializing_if_is_none)]
    pub handoff_id: Option<Uuid>,
    /// The last day it is valid; default one year from today, at most two.
    #[oai(skip_serializing_if_is_none)]
    pub valid_until: Option<NaiveDate>,
}

impl Example for CreateConsent {
    fn example() -> Self {
        Self {
            child_id: example_id(0x901),
            purpose: ConsentPurpose::FeedbackToSchool,
            recipient_organisation: example_id(0x001),
            scope: vec![
                FeedbackCategory::GuidanceForSchool,
                FeedbackCategory::HelpInPlace,
            ],
            handoff_id: Some(example_id(0x701)),
            valid_until: None,
        }
    }
}

/// A party's decision.
#[derive(Object, Deserialize)]
#[oai(rename_all = "camelCase", deny_unknown_fields, example)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RecordDecision {
    /// `child`, or the id of one of the child's guardians.
    #[oai(validator(min_length = 1, max_length = 64))]
    pub party: String,
    pub decision: ConsentDecision,
    pub method: ConsentMethod,
    /// When the party decided; not in the future.
    pub decided_at: Timestamp,
}

impl Example for RecordDecision {
    fn example() -> Self {
        Self {
            party: example_id(0x902).to_string(),
            decision: ConsentDecision::Granted,
            method: ConsentMethod::Verbal,
            decided_at: example_time(),
        }
    }
}

/// A party withdraws the consent.
#[derive(Object, Deserialize)]
#[oai(rename_all = "camelCase", deny_unknown_fields, example)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WithdrawConsent {
    /// `child`, or the id of a guardian.
    #[oai(validator(min_length = 1, max_length = 64))]
    pub party: String,
    #[oai(validator(max_length = 5000), skip_serializing_if_is_none)]
    pub reason: Option<String>,
}

impl Example for WithdrawConsent {
    fn example() -> Self {
        Self {
            party: example_id(0x903).to_string(),
            reason: Some("Vader wil niet dat de school meer weet.".into()),
        }
    }
}

// ---- responses --------------------------------------------------------------------------------

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum PartyKind {
    Guardian,
    Child,
}

/// A party whose consent counts (or counted).
#[derive(Object, Clone)]
#[oai(rename_all = "camelCase")]
pub struct PartyRef {
    pub kind: PartyKind,
    #[oai(skip_serializing_if_is_none)]
    pub guardian_id: Option<Uuid>,
    pub name: String,
}

/// Why the consent cannot become active yet.
#[derive(Object, Clone)]
#[oai(rename_all = "camelCase")]
pub struct Blocker {
    #[oai(skip_serializing_if_is_none)]
    pub guardian_id: Option<Uuid>,
    /// What to do about it.
    pub reason: String,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct ConsentDecisionRecord {
    pub party: PartyRef,
    pub decision: ConsentDecision,
    pub method: ConsentMethod,
    pub decided_at: Timestamp,
    pub recorded_by: Professional,
    pub recorded_at: Timestamp,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct Withdrawal {
    pub withdrawn_at: Timestamp,
    pub party: PartyRef,
    #[oai(skip_serializing_if_is_none)]
    pub reason: Option<String>,
    pub recorded_by: String,
}

/// A consent: for what, to whom, whose consent counts, and where it stands.
#[derive(Object)]
#[oai(rename_all = "camelCase", example)]
pub struct Consent {
    pub id: Uuid,
    pub child_id: Uuid,
    pub purpose: ConsentPurpose,
    pub recipient: OrganisationSummary,
    pub scope: Vec<FeedbackCategory>,
    #[oai(skip_serializing_if_is_none)]
    pub handoff_id: Option<Uuid>,
    /// The last day it is valid.
    pub valid_until: NaiveDate,
    /// Expired consents read as `inactive`.
    pub status: ConsentStatus,
    /// Whose consent is required, from the child's age on the day of the (latest) decision and
    /// the guardians' parental authority.
    pub required_parties: Vec<PartyRef>,
    /// What keeps it from becoming active, e.g. parental authority to verify.
    pub blockers: Vec<Blocker>,
    pub decisions: Vec<ConsentDecisionRecord>,
    #[oai(skip_serializing_if_is_none)]
    pub withdrawal: Option<Withdrawal>,
    pub created_at: Timestamp,
    pub created_by: Professional,
}

impl Example for Consent {
    fn example() -> Self {
        let mother = PartyRef {
            kind: PartyKind::Guardian,
            guardian_id: Some(example_id(0x902)),
            name: "Sarah de Boer".into(),
        };
        Self {
            id: example_id(0xa01),
            child_id: example_id(0x901),
            purpose: ConsentPurpose::FeedbackToSchool,
            recipient: OrganisationSummary {
                id: example_id(0x001),
                kind: crate::domain::organisation::OrganisationKind::School,
                name: "Basisschool De Regenboog".into(),
            },
            scope: vec![FeedbackCategory::GuidanceForSchool],
            handoff_id: Some(example_id(0x701)),
            valid_until: NaiveDate::from_ymd_opt(2027, 11, 22).unwrap_or_default(),
            status: ConsentStatus::Draft,
            required_parties: vec![
                mother.clone(),
                PartyRef {
                    kind: PartyKind::Child,
                    guardian_id: None,
                    name: "Noah de Boer".into(),
                },
            ],
            blockers: Vec::new(),
            decisions: vec![ConsentDecisionRecord {
                party: mother,
                decision: ConsentDecision::Granted,
                method: ConsentMethod::Verbal,
                decided_at: example_time(),
                recorded_by: Professional {
                    sub: "vt-noor".into(),
                    name: "Noor Yilmaz".into(),
                },
                recorded_at: example_time(),
            }],
            withdrawal: None,
            created_at: example_time(),
            created_by: Professional {
                sub: "vt-noor".into(),
                name: "Noor Yilmaz".into(),
            },
        }
    }
}

/// The consents about a child.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct ConsentList {
    pub items: Vec<Consent>,
}

#[allow(clippy::large_enum_variant)]
#[derive(ApiResponse)]
pub enum ConsentCreatedResponse {
    /// Recorded; the consent as it now stands.
    #[oai(status = 201)]
    Created(
        Json<Consent>,
        /// The consent.
        #[oai(header = "Location")]
        String,
        #[oai(header = "ETag")] String,
    ),
}

#[allow(clippy::large_enum_variant)]
#[derive(ApiResponse)]
pub enum ConsentResponse {
    /// The consent as it now stands.
    #[oai(status = 200)]
    Ok(Json<Consent>, #[oai(header = "ETag")] String),
}

#[allow(clippy::large_enum_variant)]
#[derive(ApiResponse)]
pub enum GetConsentResponse {
    /// The consent.
    #[oai(status = 200)]
    Ok(Json<Consent>, #[oai(header = "ETag")] String),
    /// Unchanged since the ETag in `If-None-Match`.
    #[oai(status = 304)]
    NotModified(#[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum ListConsentsResponse {
    /// The child's consents, oldest first.
    #[oai(status = 200)]
    Ok(Json<ConsentList>),
}

// ---- the rules applied to a stored consent ----------------------------------------------------

/// A consent with the facts needed to judge it: the child's birth date and its guardians.
pub struct Judged {
    pub status: ConsentStatus,
    pub required: Result<Vec<Party>, PartiesBlocked>,
}

fn today() -> NaiveDate {
    to_dutch_time(Utc::now()).date_naive()
}

/// Required parties as of the day of the latest decision (or today), and the status now.
pub fn judge(
    record: &ConsentRecord,
    date_of_birth: NaiveDate,
    guardians: &[child_queries::Guardian],
) -> Judged {
    let authorities: Vec<GuardianAuthority> = guardians
        .iter()
        .map(|g| GuardianAuthority {
            id: g.id,
            authority: g.parental_authority,
        })
        .collect();
    let decision_day = record
        .decisions
        .iter()
        .map(|d| to_dutch_time(d.decided_at).date_naive())
        .max()
        .unwrap_or_else(today);
    let required = rules::required_parties(date_of_birth, &authorities, decision_day);
    let decisions: Vec<(Party, ConsentDecision)> = record
        .decisions
        .iter()
        .map(|d| (d.party(), d.decision))
        .collect();
    let parties = required.clone().unwrap_or_default();
    let status = rules::status(
        &ConsentFacts {
            required: &parties,
            decisions: &decisions,
            withdrawn: record.consent.withdrawn_at.is_some(),
            valid_until: record.consent.valid_until,
        },
        today(),
    );
    Judged { status, required }
}

/// The consents of an organisation's child as the feedback gate and handoffs need them.
pub async fn grants_for_child(
    conn: &mut AsyncPgConnection,
    organisation: Uuid,
    child: Uuid,
) -> Result<Vec<ConsentGrant>, AppError> {
    let records = queries::of_child(conn, child).await?;
    let child_row = child_queries::find(conn, organisation, child)
        .await?
        .ok_or_else(AppError::not_found)?;
    let guardians = child_queries::guardians_of(conn, &[child]).await?;
    Ok(records
        .iter()
        .filter(|r| r.consent.organisation_id == organisation)
        .map(|r| ConsentGrant {
            id: r.consent.id,
            purpose: r.consent.purpose,
            recipient: r.consent.recipient_organisation_id,
            scope: r.consent.scope(),
            status: judge(r, child_row.date_of_birth, &guardians).status,
        })
        .collect())
}

fn party_ref(
    party: Party,
    child: &child_queries::Child,
    guardians: &[child_queries::Guardian],
) -> PartyRef {
    match party {
        Party::Child => PartyRef {
            kind: PartyKind::Child,
            guardian_id: None,
            name: format!("{} {}", child.given_name, child.family_name),
        },
        Party::Guardian(id) => PartyRef {
            kind: PartyKind::Guardian,
            guardian_id: Some(id),
            name: guardians
                .iter()
                .find(|g| g.id == id)
                .map(|g| g.name.clone())
                .unwrap_or_default(),
        },
    }
}

fn parse_party(text: &str) -> Option<Party> {
    if text == "child" {
        Some(Party::Child)
    } else {
        text.parse().ok().map(Party::Guardian)
    }
}

fn blockers(required: &Result<Vec<Party>, PartiesBlocked>) -> Vec<Blocker> {
    match required {
        Ok(_) => Vec::new(),
        Err(PartiesBlocked::AuthorityUnknown(ids)) => ids
            .iter()
            .map(|id| Blocker {
                guardian_id: Some(*id),
                reason: "Parental authority is unknown: verify it in the gezagsregister and record it on the guardian."
                    .into(),
            })
            .collect(),
        Err(PartiesBlocked::NoGuardianWithAuthority) => vec![Blocker {
            guardian_id: None,
            reason: "No guardian with parental authority is registered: add the guardian(s) with authority."
                .into(),
        }],
    }
}

async fn render(
    conn: &mut AsyncPgConnection,
    record: &ConsentRecord,
    child: &child_queries::Child,
    guardians: &[child_queries::Guardian],
) -> Result<Consent, AppError> {
    let judged = judge(record, child.date_of_birth, guardians);
    let recipient = organisation_queries::find(conn, record.consent.recipient_organisation_id)
        .await?
        .ok_or_else(|| AppError::internal("recipient organisation vanished"))?;
    let c = &record.consent;
    Ok(Consent {
        id: c.id,
        child_id: c.child_id,
        purpose: c.purpose,
        recipient: OrganisationSummary {
            id: recipient.id,
            kind: recipient.kind,
            name: recipient.name,
        },
        scope: c.scope(),
        handoff_id: c.handoff_id,
        valid_until: c.valid_until,
        status: judged.status,
        required_parties: judged
            .required
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(|p| party_ref(p, child, guardians))
            .collect(),
        blockers: blockers(&judged.required),
        decisions: record
            .decisions
            .iter()
            .map(|d| ConsentDecisionRecord {
                party: party_ref(d.party(), child, guardians),
                decision: d.decision,
                method: d.method,
                decided_at: d.decided_at.into(),
                recorded_by: Professional {
                    sub: d.recorded_by_sub.clone(),
                    name: d.recorded_by_name.clone(),
                },
                recorded_at: d.recorded_at.into(),
            })
            .collect(),
        withdrawal: c.withdrawn_at.map(|at| Withdrawal {
            withdrawn_at: at.into(),
            party: c
                .withdrawn_by_party
                .as_deref()
                .and_then(parse_party)
                .map(|p| party_ref(p, child, guardians))
                .unwrap_or(PartyRef {
                    kind: PartyKind::Child,
                    guardian_id: None,
                    name: String::new(),
                }),
            reason: c.withdrawal_reason.clone(),
            recorded_by: c.withdrawal_recorded_by_sub.clone().unwrap_or_default(),
        }),
        created_at: c.created_at.into(),
        created_by: Professional {
            sub: c.created_by_sub.clone(),
            name: c.created_by_name.clone(),
        },
    })
}

/// A consent the caller's organisation recorded, with its child and guardians, or 404.
async fn load(
    conn: &mut AsyncPgConnection,
    principal: &Principal,
    id: Uuid,
    for_update: bool,
) -> Result<
    (
        ConsentRecord,
        child_queries::Child,
        Vec<child_queries::Guardian>,
    ),
    AppError,
> {
    let record = queries::find(conn, principal.org_id(), id, for_update)
        .await?
        .ok_or_else(AppError::not_found)?;
    let child = load_own_child(conn, principal, record.consent.child_id).await?;
    let guardians = child_queries::guardians_of(conn, &[child.id]).await?;
    Ok((record, child, guardians))
}

/// Events and timeline entries on both sides: the recording organisation's child, and — when
/// the consent relates to a handoff the recipient sent — the recipient's child.
async fn announce(
    conn: &mut AsyncPgConnection,
    consent: &queries::Consent,
    event: EventType,
    entry_type: &'static str,
    summary: String,
) -> Result<Effects, AppError> {
    let mut effects = Effects::new()
        .event(Event::new(
            event,
            consent.organisation_id,
            CONSENT,
            consent.id,
        ))
        .timeline(TimelineEntry {
            organisation_id: consent.organisation_id,
            child_id: consent.child_id,
            entry_type,
            resource_type: CONSENT,
            resource_id: consent.id,
            summary: summary.clone(),
            visibility: Visibility::Organisation,
        });
    let recipient_side = matches!(
        event,
        EventType::ConsentActivated | EventType::ConsentWithdrawn | EventType::ConsentRejected
    );
    if recipient_side {
        effects = effects.event(Event::new(
            event,
            consent.recipient_organisation_id,
            CONSENT,
            consent.id,
        ));
        if let Some(handoff) = consent.handoff_id
            && let Some(h) =
                handoff_queries::find_for_party(conn, consent.organisation_id, handoff, false)
                    .await?
            && h.from_organisation_id == consent.recipient_organisation_id
            && let Some(child) = h.child_id
        {
            effects = effects.timeline(TimelineEntry {
                organisation_id: consent.recipient_organisation_id,
                child_id: child,
                entry_type,
                resource_type: CONSENT,
                resource_id: consent.id,
                summary,
                visibility: policy::CASE_TIMELINE_VISIBILITY,
            });
        }
    }
    Ok(effects)
}

fn status_event(status: ConsentStatus) -> Option<(EventType, &'static str, &'static str)> {
    match status {
        ConsentStatus::Active => Some((
            EventType::ConsentActivated,
            "consent.activated",
            "Consent active",
        )),
        ConsentStatus::Rejected => Some((
            EventType::ConsentRejected,
            "consent.rejected",
            "Consent refused",
        )),
        ConsentStatus::Draft | ConsentStatus::Inactive => None,
    }
}

pub struct ConsentsApi;

#[OpenApi(tag = "ApiTags::Consents")]
impl ConsentsApi {
    /// Ask consent
    ///
    /// Records a consent to ask for one of your children: its purpose, the organisation that may
    /// be told, and — for `feedback_to_school` — which feedback categories it covers. The
    /// response lists the required parties: under 12 every guardian with parental authority;
    /// 12 to 15 those and the child; 16 and over the child alone. It starts as `draft`.
    #[oai(path = "/consents", method = "post", operation_id = "createConsent")]
    async fn create(
        &self,
        auth: BearerAuth,
        db: Db,
        request: Data<&RequestMeta>,
        body: JsonBody<CreateConsent>,
    ) -> ApiResult<ConsentCreatedResponse, Create> {
        let principal = auth.0;
        policy::require(&principal, Action::RecordConsents)?;
        let input = body.0;
        let today = today();
        let valid_until = input
            .valid_until
            .unwrap_or_else(|| rules::default_valid_until(today));
        let mut errors: Vec<FieldError> = rules::check_validity(valid_until, today)
            .into_iter()
            .collect();
        errors.extend(rules::check_scope(input.purpose, &input.scope));
        if input.recipient_organisation == principal.org_id() {
            errors.push(FieldError::new(
                "recipientOrganisation",
                "must be another organisation",
            ));
        }
        if !errors.is_empty() {
            return Err(AppError::fields(errors).into());
        }
        let actor = Actor {
            principal: &principal,
            request: &request,
        };
        let (rendered, id) = db
            .transaction(async |conn| {
                let child = load_own_child(conn, &principal, input.child_id)
                    .await
                    .map_err(|_| {
                        AppError::new(
                            ProblemKind::UnknownChild,
                            "childId is not a child of your organisation.",
                        )
                    })?;
                if organisation_queries::find(conn, input.recipient_organisation)
                    .await?
                    .is_none()
                {
                    return Err(AppError::new(
                        ProblemKind::UnknownRecipient,
                        "recipientOrganisation is not an organisation of the directory.",
                    ));
                }
                if let Some(handoff) = input.handoff_id
                    && handoff_queries::find_for_party(conn, principal.org_id(), handoff, false)
                        .await?
                        .is_none()
                {
                    return Err(AppError::new(
                        ProblemKind::UnknownHandoff,
                        "handoffId is not a handoff your organisation sent or received.",
                    ));
                }
                let scope: Vec<Option<FeedbackCategory>> =
                    input.scope.iter().copied().map(Some).collect();
                let consent = queries::insert(
                    conn,
                    &queries::NewConsent {
                        id: Uuid::now_v7(),
                        organisation_id: principal.org_id(),
                        child_id: child.id,
                        purpose: input.purpose,
                        recipient_organisation_id: input.recipient_organisation,
                        scope,
                        handoff_id: input.handoff_id,
                        valid_until,
                        created_by_sub: &principal.sub,
                        created_by_name: &principal.name,
                    },
                )
                .await?;
                let effects = announce(
                    conn,
                    &consent,
                    EventType::ConsentCreated,
                    "consent.created",
                    format!("Consent asked: {}", input.purpose.code()),
                )
                .await?;
                effects
                    .access(
                        Access::allowed(AccessAction::Create, CONSENT, consent.id)
                            .about_child(child.id),
                    )
                    .write(conn, actor)
                    .await?;
                let record = ConsentRecord {
                    consent,
                    decisions: Vec::new(),
                };
                let guardians = child_queries::guardians_of(conn, &[child.id]).await?;
                Ok((
                    render(conn, &record, &child, &guardians).await?,
                    record.consent.id,
                ))
            })
            .await?;
        let tag = etag::of(&rendered);
        Ok(ConsentCreatedResponse::Created(
            Json(rendered),
            format!("/v1/consents/{id}"),
            tag,
        ))
    }

    /// Get a consent
    ///
    /// A consent your organisation recorded, with its required parties, decisions and status
    /// (past `validUntil` it reads `inactive`).
    #[oai(path = "/consents/:id", method = "get", operation_id = "getConsent")]
    async fn get(
        &self,
        auth: BearerAuth,
        db: Db,
        request: Data<&RequestMeta>,
        /// The consent's id.
        id: Path<Uuid>,
        /// ETag of the copy the client holds.
        #[oai(name = "If-None-Match")]
        if_none_match: Header<Option<String>>,
    ) -> ApiResult<GetConsentResponse, ReadOne> {
        let principal = auth.0;
        policy::require(&principal, Action::RecordConsents)?;
        let actor = Actor {
            principal: &principal,
            request: &request,
        };
        let rendered = db
            .transaction(async |conn| {
                let (record, child, guardians) = load(conn, &principal, id.0, false).await?;
                Effects::new()
                    .access(
                        Access::allowed(AccessAction::Read, CONSENT, record.consent.id)
                            .about_child(child.id),
                    )
                    .write(conn, actor)
                    .await?;
                render(conn, &record, &child, &guardians).await
            })
            .await?;
        let tag = etag::of(&rendered);
        if etag::none_match_hits(if_none_match.0.as_deref(), &tag) {
            return Ok(GetConsentResponse::NotModified(tag));
        }
        Ok(GetConsentResponse::Ok(Json(rendered), tag))
    }

    /// List a child's consents
    ///
    /// Every consent your organisation recorded about the child, oldest first.
    #[oai(
        path = "/children/:id/consents",
        method = "get",
        operation_id = "listChildConsents"
    )]
    async fn list(
        &self,
        auth: BearerAuth,
        db: Db,
        request: Data<&RequestMeta>,
        /// The child's id.
        id: Path<Uuid>,
    ) -> ApiResult<ListConsentsResponse, ReadOne> {
        let principal = auth.0;
        policy::require(&principal, Action::RecordConsents)?;
        let actor = Actor {
            principal: &principal,
            request: &request,
        };
        let items = db
            .transaction(async |conn| {
                let child = load_own_child(conn, &principal, id.0).await?;
                let guardians = child_queries::guardians_of(conn, &[child.id]).await?;
                let records = queries::of_child(conn, child.id).await?;
                let mut items = Vec::with_capacity(records.len());
                for record in &records {
                    items.push(render(conn, record, &child, &guardians).await?);
                }
                Effects::new()
                    .accesses(records.iter().map(|r| {
                        Access::allowed(AccessAction::Read, CONSENT, r.consent.id)
                            .about_child(child.id)
                    }))
                    .write(conn, actor)
                    .await?;
                Ok(items)
            })
            .await?;
        Ok(ListConsentsResponse::Ok(Json(ConsentList { items })))
    }

    /// Record a party's decision
    ///
    /// Records that a party — `child` or a guardian's id — granted or refused, how, and when.
    /// The consent becomes `active` once every required party granted, `rejected` when one
    /// refused. A guardian whose parental authority is unknown blocks it: 422
    /// `parental-authority-unknown` says whom to verify. A party that is not required: 422
    /// `not-a-required-party`; one that already decided: 409 `already-decided`.
    #[oai(
        path = "/consents/:id/decisions",
        method = "post",
        operation_id = "recordConsentDecision"
    )]
    async fn decide(
        &self,
        auth: BearerAuth,
        db: Db,
        request: Data<&RequestMeta>,
        /// The consent's id.
        id: Path<Uuid>,
        /// ETag of the consent the decision is based on.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
        body: JsonBody<RecordDecision>,
    ) -> ApiResult<ConsentCreatedResponse, Change> {
        let principal = auth.0;
        policy::require(&principal, Action::RecordConsents)?;
        let input = body.0;
        let Some(party) = parse_party(&input.party) else {
            return Err(AppError::invalid_param("party", "is `child` or a guardian's id").into());
        };
        if input.decided_at.0 > Utc::now() + chrono::Duration::minutes(5) {
            return Err(AppError::invalid_param("decidedAt", "must not be in the future").into());
        }
        let actor = Actor {
            principal: &principal,
            request: &request,
        };
        let rendered = db
            .transaction(async |conn| {
                let (mut record, child, guardians) = load(conn, &principal, id.0, true).await?;
                let before = render(conn, &record, &child, &guardians).await?;
                etag::check_if_match(if_match.0.as_deref(), &etag::of(&before))?;
                if before.status != ConsentStatus::Draft {
                    return Err(AppError::new(ProblemKind::InvalidTransition, format!("The consent is {}: no more decisions are recorded on it.", before.status.code()),
                    )
                    .with_extension("consentStatus", before.status.code()));
                }
                let day = to_dutch_time(input.decided_at.0).date_naive();
                let authorities: Vec<GuardianAuthority> = guardians
                    .iter()
                    .map(|g| GuardianAuthority { id: g.id, authority: g.parental_authority })
                    .collect();
                let required = match rules::required_parties(child.date_of_birth, &authorities, day) {
                    Ok(required) => required,
                    Err(PartiesBlocked::AuthorityUnknown(ids)) => {
                        let names: Vec<String> = guardians
                            .iter()
                            .filter(|g| ids.contains(&g.id))
                            .map(|g| g.name.clone())
                            .collect();
                        return Err(AppError::new(ProblemKind::ParentalAuthorityUnknown, format!(
                                "The parental authority of {} is unknown, so whose consent counts is not settled: \
                                 verify it in the gezagsregister and record it on the guardian, then record the decisions.",
                                names.join(" and ")
                            ),
                        )
                        .with_extension("guardianIds", ids.iter().map(ToString::to_string).collect::<Vec<_>>()));
                    }
                    Err(PartiesBlocked::NoGuardianWithAuthority) => {
                        return Err(AppError::new(ProblemKind::NoConsentingParty, "No guardian with parental authority is registered for this child: add them first.",
                        ));
                    }
                };
                if !required.contains(&party) {
                    return Err(AppError::new(ProblemKind::NotARequiredParty, match party {
                            Party::Child => "The child's own consent is not required at this age.".to_owned(),
                            Party::Guardian(_) => {
                                "This is not a guardian with parental authority of this child.".to_owned()
                            }
                        },
                    ));
                }
                if record.decisions.iter().any(|d| d.party() == party) {
                    return Err(AppError::new(ProblemKind::AlreadyDecided, "This party already decided; a consent given can be withdrawn.",
                    ));
                }
                let decision = queries::insert_decision(
                    conn,
                    record.consent.id,
                    party,
                    input.decision,
                    input.method,
                    input.decided_at.0,
                    (&principal.sub, &principal.name),
                )
                .await?;
                record.decisions.push(decision);
                let after = render(conn, &record, &child, &guardians).await?;
                let mut effects = announce(
                    conn,
                    &record.consent,
                    EventType::ConsentDecisionRecorded,
                    "consent.decision_recorded",
                    format!(
                        "Consent {} by {}",
                        input.decision.code(),
                        match party {
                            Party::Child => "the child".to_owned(),
                            Party::Guardian(_) => guardians
                                .iter()
                                .find(|g| Party::Guardian(g.id) == party)
                                .map(|g| g.relationship.label_en().to_lowercase())
                                .unwrap_or_else(|| "a guardian".into()),
                        }
                    ),
                )
                .await?;
                if let Some((event, entry_type, summary)) = status_event(after.status) {
                    let extra = announce(conn, &record.consent, event, entry_type, summary.to_owned()).await?;
                    effects = effects.merge(extra);
                }
                effects
                    .access(Access::allowed(AccessAction::Update, CONSENT, record.consent.id).about_child(child.id))
                    .write(conn, actor)
                    .await?;
                Ok(after)
            })
            .await?;
        let tag = etag::of(&rendered);
        let location = format!("/v1/consents/{}", rendered.id);
        Ok(ConsentCreatedResponse::Created(
            Json(rendered),
            location,
            tag,
        ))
    }

    /// Withdraw consent
    ///
    /// A party withdraws the consent, at any time: it is `inactive` at once. Disclosures made
    /// under it stay (marked), further ones are refused, and the recipient organisation is
    /// notified (`consent.withdrawn`).
    #[oai(
        path = "/consents/:id/withdrawal",
        method = "post",
        operation_id = "withdrawConsent"
    )]
    async fn withdraw(
        &self,
        auth: BearerAuth,
        db: Db,
        request: Data<&RequestMeta>,
        /// The consent's id.
        id: Path<Uuid>,
        /// ETag of the consent the withdrawal is based on.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
        body: JsonBody<WithdrawConsent>,
    ) -> ApiResult<ConsentResponse, Change> {
        let principal = auth.0;
        policy::require(&principal, Action::RecordConsents)?;
        let input = body.0;
        let Some(party) = parse_party(&input.party) else {
            return Err(AppError::invalid_param("party", "is `child` or a guardian's id").into());
        };
        let actor = Actor {
            principal: &principal,
            request: &request,
        };
        let rendered = db
            .transaction(async |conn| {
                let (mut record, child, guardians) = load(conn, &principal, id.0, true).await?;
                let before = render(conn, &record, &child, &guardians).await?;
                etag::check_if_match(if_match.0.as_deref(), &etag::of(&before))?;
                if record.consent.withdrawn_at.is_some() || before.status == ConsentStatus::Inactive
                {
                    return Err(AppError::new(
                        ProblemKind::InvalidTransition,
                        "The consent is already inactive.",
                    )
                    .with_extension("consentStatus", before.status.code()));
                }
                let is_party = party == Party::Child
                    || guardians.iter().any(|g| {
                        Party::Guardian(g.id) == party
                            && g.parental_authority != ParentalAuthority::No
                    })
                    || record.decisions.iter().any(|d| d.party() == party);
                if !is_party {
                    return Err(AppError::new(
                        ProblemKind::NotARequiredParty,
                        "Only the child or a guardian with parental authority withdraws consent.",
                    ));
                }
                record.consent = queries::withdraw(
                    conn,
                    record.consent.id,
                    party,
                    input.reason.as_deref(),
                    &principal.sub,
                )
                .await?;
                let effects = announce(
                    conn,
                    &record.consent,
                    EventType::ConsentWithdrawn,
                    "consent.withdrawn",
                    "Consent withdrawn".to_owned(),
                )
                .await?;
                effects
                    .access(
                        Access::allowed(AccessAction::Update, CONSENT, record.consent.id)
                            .about_child(child.id),
                    )
                    .write(conn, actor)
                    .await?;
                render(conn, &record, &child, &guardians).await
            })
            .await?;
        let tag = etag::of(&rendered);
        Ok(ConsentResponse::Ok(Json(rendered), tag))
    }
}
