//! Handoffs between organisations: advice requests, reports (meldingen), information requests
//! and responses, referrals and signals to the school — acknowledged, deadline-tracked, and
//! visible to sender and recipient only.

use std::sync::Arc;

use chrono::{NaiveDate, Utc};
use diesel_async::AsyncPgConnection;
use poem::web::Data;
use poem_openapi::{
    ApiResponse, Enum, Object, OpenApi,
    param::{Header, Path, Query},
    payload::Json,
    types::Example,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    AppState,
    api::{
        ApiTags,
        body::{JsonBody, OptionalJsonBody},
        cases::case_and_decision,
        children::{Contact, load_own_child},
        consents::check_handoff_consent,
        etag,
        organisations::OrganisationSummary,
        paging::{self, decode_cursor},
        problem::{ApiResult, Change, Create, ReadMany, ReadOne},
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
        handoffs::{self as queries, Direction, Handoff as Stored, TransitionRecord},
        organisations as organisation_queries, signals as signal_queries,
        timeline::TimelineEntry,
    },
    domain::{
        FieldError, check_text,
        child::{AuthoritySource, ParentalAuthority, Relationship},
        handoff::{
            self as rules, AgeBand, HandoffKind, HandoffStatus, LegalBasis,
            ParentsNotInformedReason, Party, ReportTerms, Transition, Urgency,
        },
        meldcode::Decision,
        reference::Labelled,
        signal::{SignalCategory, SignalDirection, SignalSource},
    },
    effects::Effects,
    error::{AppError, ProblemKind},
    events::{Event, EventType},
};

const HANDOFF: &str = "handoff";

// ---- the snapshot: exactly what crossed ---------------------------------------------------------

/// The child as the sender knew it when sending.
#[derive(Object, Serialize, Deserialize, Clone)]
#[oai(rename_all = "camelCase")]
#[serde(rename_all = "camelCase")]
pub struct ChildSnapshot {
    /// The sender's pupil or client number.
    pub sender_ref: String,
    pub given_name: String,
    pub family_name: String,
    pub date_of_birth: NaiveDate,
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bsn: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub school_group: Option<String>,
}

/// A guardian as the sender knew them.
#[derive(Object, Serialize, Deserialize, Clone)]
#[oai(rename_all = "camelCase")]
#[serde(rename_all = "camelCase")]
pub struct GuardianSnapshot {
    pub name: String,
    pub relationship: Relationship,
    pub parental_authority: ParentalAuthority,
    pub authority_source: AuthoritySource,
    pub contact: Contact,
}

/// A signal as it stood when sent (its current revision).
#[derive(Object, Serialize, Deserialize, Clone)]
#[oai(rename_all = "camelCase")]
#[serde(rename_all = "camelCase")]
pub struct SignalSnapshot {
    pub observed_at: Timestamp,
    pub recorded_at: Timestamp,
    /// The role it was recorded in, e.g. `teacher`.
    pub recorded_by_role: String,
    pub category: SignalCategory,
    pub source: SignalSource,
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_description: Option<String>,
    pub facts: String,
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interpretation: Option<String>,
    pub direction: SignalDirection,
}

#[derive(Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Snapshot {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    child: Option<ChildSnapshot>,
    #[serde(default)]
    guardians: Vec<GuardianSnapshot>,
    #[serde(default)]
    signals: Vec<SignalSnapshot>,
}

// ---- requests ---------------------------------------------------------------------------------

/// A handoff to send. Which properties apply depends on `kind`.
#[derive(Object, Deserialize)]
#[oai(rename_all = "camelCase", deny_unknown_fields, example)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateHandoff {
    pub kind: HandoffKind,
    /// The receiving organisation.
    pub to_organisation: Uuid,
    /// Your child; its identifying data and guardians are copied into the handoff. Required for
    /// every kind but an anonymous advice request.
    #[oai(skip_serializing_if_is_none)]
    pub child_id: Option<Uuid>,
    /// Your case it belongs to; a report from a case needs the decision `report`.
    #[oai(skip_serializing_if_is_none)]
    pub case_id: Option<Uuid>,
    /// Signals of the child to copy into the handoff.
    #[oai(default, validator(max_items = 100), skip_serializing_if_is_empty)]
    #[serde(default)]
    pub signal_ids: Vec<Uuid>,
    #[oai(validator(min_length = 1, max_length = 10000))]
    pub message: String,
    /// Default `regular`.
    #[oai(skip_serializing_if_is_none)]
    pub urgency: Option<Urgency>,
    /// "How do we treat the child meanwhile?" Default false.
    #[oai(skip_serializing_if_is_none)]
    pub requests_guidance: Option<bool>,
    /// For an anonymous advice request: the child's age band instead of the child.
    #[oai(skip_serializing_if_is_none)]
    pub age_band: Option<AgeBand>,
    /// For an information response: the information request it answers.
    #[oai(skip_serializing_if_is_none)]
    pub in_response_to: Option<Uuid>,
    /// For a referral or a signal to the school: the consent it rests on.
    #[oai(skip_serializing_if_is_none)]
    pub consent_id: Option<Uuid>,
    /// Report: when the parents were told of the report…
    #[oai(skip_serializing_if_is_none)]
    pub parents_informed_at: Option<Timestamp>,
    /// …or why not.
    #[oai(skip_serializing_if_is_none)]
    pub parents_not_informed_reason: Option<ParentsNotInformedReason>,
    #[oai(validator(max_length = 5000), skip_serializing_if_is_none)]
    pub parents_not_informed_explanation: Option<String>,
    /// Report: may Veilig Thuis tell the family who reported? Default true.
    #[oai(skip_serializing_if_is_none)]
    pub melder_identity_disclosable: Option<bool>,
    /// Required when `melderIdentityDisclosable` is false.
    #[oai(validator(max_length = 5000), skip_serializing_if_is_none)]
    pub melder_identity_reason: Option<String>,
}

impl Example for CreateHandoff {
    fn example() -> Self {
        Self {
            kind: HandoffKind::Report,
            to_organisation: example_id(0x003),
            child_id: Some(example_id(0x101)),
            case_id: Some(example_id(0x401)),
            signal_ids: vec![example_id(0x301)],
            message: "Zorgen over huiselijk geweld; moeder is geïnformeerd over de melding.".into(),
            urgency: Some(Urgency::Regular),
            requests_guidance: Some(true),
            age_band: None,
            in_response_to: None,
            consent_id: None,
            parents_informed_at: Some(example_time()),
            parents_not_informed_reason: None,
            parents_not_informed_explanation: None,
            melder_identity_disclosable: Some(true),
            melder_identity_reason: None,
        }
    }
}

/// A note with a lifecycle step: the declination's reason, the closure's outcome, or the
/// withdrawal's reason.
#[derive(Object, Deserialize, Default)]
#[oai(rename_all = "camelCase", deny_unknown_fields, example)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TransitionNote {
    #[oai(validator(max_length = 5000), skip_serializing_if_is_none)]
    pub note: Option<String>,
}

impl Example for TransitionNote {
    fn example() -> Self {
        Self {
            note: Some("Veiligheidsbeoordeling afgerond; overgedragen aan het lokale team.".into()),
        }
    }
}

/// Taking a handoff's child in as your own record.
#[derive(Object, Deserialize, Default)]
#[oai(rename_all = "camelCase", deny_unknown_fields, example)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Intake {
    /// Your own client number for the child; default `HO-` and the handoff's first 8 characters.
    #[oai(
        validator(min_length = 1, max_length = 64),
        skip_serializing_if_is_none
    )]
    pub external_ref: Option<String>,
}

impl Example for Intake {
    fn example() -> Self {
        Self {
            external_ref: Some("VT-2026-004512".into()),
        }
    }
}

// ---- responses --------------------------------------------------------------------------------

/// A lifecycle step as recorded.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct HandoffTransition {
    /// `acknowledgement`, `acceptance`, `declination`, `closure` or `withdrawal`.
    pub transition: String,
    pub from_status: HandoffStatus,
    pub to_status: HandoffStatus,
    #[oai(skip_serializing_if_is_none)]
    pub note: Option<String>,
    pub by: Professional,
    pub by_organisation: Uuid,
    pub at: Timestamp,
}

/// A report sent from a case, as the case shows it.
#[derive(Object, Clone)]
#[oai(rename_all = "camelCase")]
pub struct ReportLink {
    pub handoff_id: Uuid,
    pub status: HandoffStatus,
    pub sent_at: Timestamp,
    pub href: String,
}

/// A handoff: what was sent, on which basis, to whom, and where it stands.
#[derive(Object)]
#[oai(rename_all = "camelCase", example)]
pub struct Handoff {
    pub id: Uuid,
    pub kind: HandoffKind,
    pub status: HandoffStatus,
    pub from: OrganisationSummary,
    pub to: OrganisationSummary,
    /// The basis of the disclosure.
    pub legal_basis: LegalBasis,
    #[oai(skip_serializing_if_is_none)]
    pub consent_id: Option<Uuid>,
    #[oai(skip_serializing_if_is_none)]
    pub in_response_to: Option<Uuid>,
    pub urgency: Urgency,
    pub message: String,
    pub requests_guidance: bool,
    /// The child as sent (absent in an anonymous advice request).
    #[oai(skip_serializing_if_is_none)]
    pub child: Option<ChildSnapshot>,
    #[oai(skip_serializing_if_is_none)]
    pub age_band: Option<AgeBand>,
    pub guardians: Vec<GuardianSnapshot>,
    pub signals: Vec<SignalSnapshot>,
    #[oai(skip_serializing_if_is_none)]
    pub parents_informed_at: Option<Timestamp>,
    #[oai(skip_serializing_if_is_none)]
    pub parents_not_informed_reason: Option<ParentsNotInformedReason>,
    #[oai(skip_serializing_if_is_none)]
    pub parents_not_informed_explanation: Option<String>,
    /// May the family learn who reported.
    pub melder_identity_disclosable: bool,
    #[oai(skip_serializing_if_is_none)]
    pub melder_identity_reason: Option<String>,
    pub sent_at: Timestamp,
    pub sent_by: Professional,
    pub acknowledgement_due_at: Timestamp,
    /// For a report, once received: when Veilig Thuis's safety assessment is due.
    #[oai(skip_serializing_if_is_none)]
    pub assessment_due_at: Option<Timestamp>,
    #[oai(skip_serializing_if_is_none)]
    pub assessment_decided_at: Option<Timestamp>,
    /// Not acknowledged in time, or a report's safety assessment late.
    pub overdue: bool,
    /// A report the recipient owes feedback on: no status feedback yet, or its safety
    /// assessment late.
    pub awaiting_feedback: bool,
    /// When the consent this handoff relied on was withdrawn, if it was.
    #[oai(skip_serializing_if_is_none)]
    pub consent_withdrawn_at: Option<Timestamp>,
    pub transitions: Vec<HandoffTransition>,
    /// Sender only: your child the handoff is about.
    #[oai(skip_serializing_if_is_none)]
    pub child_id: Option<Uuid>,
    /// Sender only: your case it was sent from.
    #[oai(skip_serializing_if_is_none)]
    pub case_id: Option<Uuid>,
    /// Recipient only: your child record taken in from it.
    #[oai(skip_serializing_if_is_none)]
    pub intake_child_id: Option<Uuid>,
}

impl Example for Handoff {
    fn example() -> Self {
        let create = CreateHandoff::example();
        Self {
            id: example_id(0x701),
            kind: HandoffKind::Report,
            status: HandoffStatus::Received,
            from: OrganisationSummary {
                id: example_id(0x001),
                kind: crate::domain::organisation::OrganisationKind::School,
                name: "Basisschool De Regenboog".into(),
            },
            to: OrganisationSummary {
                id: example_id(0x003),
                kind: crate::domain::organisation::OrganisationKind::VeiligThuis,
                name: "Veilig Thuis Amsterdam-Amstelland".into(),
            },
            legal_basis: LegalBasis::Meldrecht,
            consent_id: None,
            in_response_to: None,
            urgency: Urgency::Regular,
            message: create.message,
            requests_guidance: true,
            child: Some(ChildSnapshot {
                sender_ref: "LL-20431".into(),
                given_name: "Noah".into(),
                family_name: "de Boer".into(),
                date_of_birth: NaiveDate::from_ymd_opt(2013, 4, 2).unwrap_or_default(),
                bsn: None,
                school_group: Some("groep 8a".into()),
            }),
            age_band: None,
            guardians: vec![GuardianSnapshot {
                name: "Sarah de Boer".into(),
                relationship: Relationship::Mother,
                parental_authority: ParentalAuthority::Yes,
                authority_source: AuthoritySource::Gezagsregister,
                contact: Contact::default(),
            }],
            signals: Vec::new(),
            parents_informed_at: Some(example_time()),
            parents_not_informed_reason: None,
            parents_not_informed_explanation: None,
            melder_identity_disclosable: true,
            melder_identity_reason: None,
            sent_at: example_time(),
            sent_by: Professional {
                sub: "ib-fatima".into(),
                name: "Fatima El Amrani".into(),
            },
            acknowledgement_due_at: example_time(),
            assessment_due_at: Some(example_time()),
            assessment_decided_at: None,
            overdue: false,
            awaiting_feedback: false,
            consent_withdrawn_at: None,
            transitions: Vec::new(),
            child_id: None,
            case_id: None,
            intake_child_id: None,
        }
    }
}

/// A page of handoffs.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct HandoffPage {
    pub items: Vec<Handoff>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum DirectionFilter {
    Outgoing,
    Incoming,
}

// Built once per request and rendered at once: boxing would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(ApiResponse)]
pub enum HandoffCreatedResponse {
    /// Sent.
    #[oai(status = 201)]
    Created(
        Json<Handoff>,
        /// The handoff.
        #[oai(header = "Location")]
        String,
        #[oai(header = "ETag")] String,
    ),
}

#[allow(clippy::large_enum_variant)]
#[derive(ApiResponse)]
pub enum GetHandoffResponse {
    /// The handoff.
    #[oai(status = 200)]
    Ok(Json<Handoff>, #[oai(header = "ETag")] String),
    /// Unchanged since the ETag in `If-None-Match`.
    #[oai(status = 304)]
    NotModified(#[oai(header = "ETag")] String),
}

#[allow(clippy::large_enum_variant)]
#[derive(ApiResponse)]
pub enum TransitionResponse {
    /// The handoff after the step.
    #[oai(status = 200)]
    Ok(Json<Handoff>, #[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum ListHandoffsResponse {
    /// Handoffs in the order they were sent.
    #[oai(status = 200)]
    Ok(Json<HandoffPage>),
}

#[derive(ApiResponse)]
pub enum IntakeResponse {
    /// Taken in: your new child record.
    #[oai(status = 201)]
    Created(
        Json<crate::api::children::Child>,
        /// The child record.
        #[oai(header = "Location")]
        String,
    ),
    /// Taken in before: the same child record.
    #[oai(status = 200)]
    Ok(
        Json<crate::api::children::Child>,
        /// The child record.
        #[oai(header = "Location")]
        String,
    ),
}

// ---- rendering --------------------------------------------------------------------------------

fn snapshot(stored: &Stored) -> Result<Snapshot, AppError> {
    serde_json::from_value(stored.snapshot.clone()).map_err(|err| {
        AppError::internal(format!("handoff {} snapshot unreadable: {err}", stored.id))
    })
}

async fn summary_of(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> Result<OrganisationSummary, AppError> {
    let org = organisation_queries::find(conn, id)
        .await?
        .ok_or_else(|| AppError::internal(format!("organisation {id} vanished")))?;
    Ok(OrganisationSummary {
        id: org.id,
        kind: org.kind(),
        name: org.name,
    })
}

/// What the caller's organisation sees: the sender its own links, the recipient its intake.
async fn render(
    conn: &mut AsyncPgConnection,
    principal: &Principal,
    stored: &Stored,
    transitions: &[TransitionRecord],
) -> Result<Handoff, AppError> {
    let snap = snapshot(stored)?;
    let is_sender = stored.is_sender(principal.org_id());
    let now = Utc::now();
    let has_status_feedback = !queries::with_status_feedback(conn, &[stored.id])
        .await?
        .is_empty();
    let consent_withdrawn_at = match stored.consent_id {
        Some(id) => crate::db::consents::by_ids(conn, &[id])
            .await?
            .first()
            .and_then(|c| c.withdrawn_at),
        None => None,
    };
    Ok(Handoff {
        id: stored.id,
        kind: stored.kind(),
        status: stored.status(),
        from: summary_of(conn, stored.from_organisation_id).await?,
        to: summary_of(conn, stored.to_organisation_id).await?,
        legal_basis: LegalBasis::parse(&stored.legal_basis).unwrap_or(LegalBasis::Meldrecht),
        consent_id: stored.consent_id,
        in_response_to: stored.in_response_to,
        urgency: Urgency::parse(&stored.urgency).unwrap_or(Urgency::Regular),
        message: stored.message.clone(),
        requests_guidance: stored.requests_guidance,
        child: snap.child,
        age_band: stored.age_band.as_deref().and_then(AgeBand::parse),
        guardians: snap.guardians,
        signals: snap.signals,
        parents_informed_at: stored.parents_informed_at.map(Into::into),
        parents_not_informed_reason: stored
            .parents_not_informed_reason
            .as_deref()
            .and_then(ParentsNotInformedReason::parse),
        parents_not_informed_explanation: stored.parents_not_informed_explanation.clone(),
        melder_identity_disclosable: stored.melder_identity_disclosable,
        melder_identity_reason: stored.melder_identity_reason.clone(),
        sent_at: stored.sent_at.into(),
        sent_by: Professional {
            sub: stored.sent_by_sub.clone(),
            name: stored.sent_by_name.clone(),
        },
        acknowledgement_due_at: stored.acknowledgement_due_at.into(),
        assessment_due_at: stored.assessment_due_at.map(Into::into),
        assessment_decided_at: stored.assessment_decided_at.map(Into::into),
        overdue: rules::is_overdue(stored.kind(), stored.status(), &stored.deadlines(), now),
        awaiting_feedback: rules::awaiting_feedback(
            stored.kind(),
            stored.status(),
            has_status_feedback,
            &stored.deadlines(),
            now,
        ),
        consent_withdrawn_at: consent_withdrawn_at.map(Into::into),
        transitions: transitions
            .iter()
            .filter(|t| t.handoff_id == stored.id)
            .map(|t| HandoffTransition {
                transition: t.transition.clone(),
                from_status: HandoffStatus::parse(&t.from_status).unwrap_or(HandoffStatus::Sent),
                to_status: HandoffStatus::parse(&t.to_status).unwrap_or(HandoffStatus::Sent),
                note: t.note.clone(),
                by: Professional {
                    sub: t.by_sub.clone(),
                    name: t.by_name.clone(),
                },
                by_organisation: t.by_organisation_id,
                at: t.at.into(),
            })
            .collect(),
        child_id: stored.child_id.filter(|_| is_sender),
        case_id: stored.case_id.filter(|_| is_sender),
        intake_child_id: stored.intake_child_id.filter(|_| !is_sender),
    })
}

// ---- effects ------------------------------------------------------------------------------------

/// The child record on the caller's side of the handoff, if any.
fn own_child(principal: &Principal, stored: &Stored) -> Option<Uuid> {
    if stored.is_sender(principal.org_id()) {
        stored.child_id
    } else {
        stored.intake_child_id
    }
}

/// Events for both organisations, and entries on the timelines of both children (where they
/// exist).
fn announce(
    stored: &Stored,
    event: EventType,
    entry_type: &'static str,
    summary: String,
) -> Effects {
    let mut effects = Effects::new()
        .event(Event::new(
            event,
            stored.from_organisation_id,
            HANDOFF,
            stored.id,
        ))
        .event(Event::new(
            event,
            stored.to_organisation_id,
            HANDOFF,
            stored.id,
        ));
    for (organisation, child) in [
        (stored.from_organisation_id, stored.child_id),
        (stored.to_organisation_id, stored.intake_child_id),
    ] {
        if let Some(child) = child {
            effects = effects.timeline(TimelineEntry {
                organisation_id: organisation,
                child_id: child,
                entry_type,
                resource_type: HANDOFF,
                resource_id: stored.id,
                summary: summary.clone(),
                visibility: policy::CASE_TIMELINE_VISIBILITY,
            });
        }
    }
    effects
}

fn read_access(principal: &Principal, stored: &Stored) -> Access {
    let access = Access::allowed(AccessAction::Read, HANDOFF, stored.id);
    match own_child(principal, stored) {
        Some(child) => access.about_child(child),
        None => access,
    }
}

// ---- validation ---------------------------------------------------------------------------------

fn describe_route(kind: HandoffKind) -> &'static str {
    match kind {
        HandoffKind::AdviceRequest | HandoffKind::Report | HandoffKind::InformationResponse => {
            "from a school or wijkteam to Veilig Thuis"
        }
        HandoffKind::InformationRequest => "from Veilig Thuis to a school or wijkteam",
        HandoffKind::Referral => "from a school to a wijkteam, the GGD or leerplicht",
        HandoffKind::SignalToSchool => "from a wijkteam to a school",
    }
}

/// Which properties belong to which kind: refuse what does not fit, name what is missing.
fn check_shape(input: &CreateHandoff) -> Vec<FieldError> {
    let kind = input.kind;
    let mut errors: Vec<FieldError> = check_text("message", &input.message).into_iter().collect();
    let anonymous = kind == HandoffKind::AdviceRequest && input.child_id.is_none();
    if rules::requires_child(kind) && input.child_id.is_none() {
        errors.push(FieldError::new(
            "childId",
            format!("is required for {}", kind.code()),
        ));
    }
    if anonymous {
        if input.age_band.is_none() {
            errors.push(FieldError::new(
                "ageBand",
                "an anonymous advice request gives the child's age band",
            ));
        }
        if !input.signal_ids.is_empty() {
            errors.push(FieldError::new(
                "signalIds",
                "an anonymous advice request carries no signals; name the child to include them",
            ));
        }
    } else if input.age_band.is_some() {
        errors.push(FieldError::new(
            "ageBand",
            "only for an anonymous advice request",
        ));
    }
    match (kind, input.in_response_to) {
        (HandoffKind::InformationResponse, None) => errors.push(FieldError::new(
            "inResponseTo",
            "name the information request this answers",
        )),
        (HandoffKind::InformationResponse, Some(_)) | (_, None) => {}
        (_, Some(_)) => errors.push(FieldError::new(
            "inResponseTo",
            "only for an information response",
        )),
    }
    let consent_based = rules::legal_basis(kind, true) == LegalBasis::Consent;
    if consent_based && input.consent_id.is_none() {
        errors.push(FieldError::new(
            "consentId",
            "a referral or a signal to the school names the consent it rests on",
        ));
    }
    if !consent_based && input.consent_id.is_some() {
        errors.push(FieldError::new(
            "consentId",
            "only for a referral or a signal to the school",
        ));
    }
    let terms = report_terms(input);
    if kind == HandoffKind::Report {
        errors.extend(rules::check_report_terms(&terms, Utc::now()));
    } else if rules::report_only_fields_present(&terms) {
        errors.push(FieldError::new(
            "parentsInformedAt",
            "parents-informed and melder-identity properties belong to a report",
        ));
    }
    if input.case_id.is_some() && anonymous {
        // Allowed: the case stays the sender's own; nothing of it crosses.
    }
    errors
}

fn report_terms(input: &CreateHandoff) -> ReportTerms<'_> {
    ReportTerms {
        parents_informed_at: input.parents_informed_at.map(|t| t.0),
        parents_not_informed_reason: input.parents_not_informed_reason,
        parents_not_informed_explanation: input.parents_not_informed_explanation.as_deref(),
        melder_identity_disclosable: input.melder_identity_disclosable.unwrap_or(true),
        melder_identity_reason: input.melder_identity_reason.as_deref(),
    }
}

/// Builds the snapshot from the sender's own records, checking every reference on the way.
async fn build_snapshot(
    conn: &mut AsyncPgConnection,
    principal: &Principal,
    input: &CreateHandoff,
) -> Result<Snapshot, AppError> {
    let Some(child_id) = input.child_id else {
        return Ok(Snapshot::default());
    };
    let child = load_own_child(conn, principal, child_id)
        .await
        .map_err(|_| {
            AppError::new(
                ProblemKind::UnknownChild,
                "childId is not a child of your organisation.",
            )
        })?;
    let guardians = child_queries::guardians_of(conn, &[child.id]).await?;
    let signals = signal_queries::of_child(conn, child.id, &input.signal_ids).await?;
    let unknown: Vec<String> = input
        .signal_ids
        .iter()
        .filter(|id| !signals.iter().any(|s| s.signal.id == **id))
        .map(ToString::to_string)
        .collect();
    if !unknown.is_empty() {
        return Err(AppError::new(
            ProblemKind::UnknownSignal,
            "Every signal must be a signal of this child.",
        )
        .with_extension("signalIds", unknown));
    }
    Ok(Snapshot {
        child: Some(ChildSnapshot {
            sender_ref: child.external_ref,
            given_name: child.given_name,
            family_name: child.family_name,
            date_of_birth: child.date_of_birth,
            bsn: child.bsn,
            school_group: child.school_group,
        }),
        guardians: guardians
            .iter()
            .map(|g| GuardianSnapshot {
                name: g.name.clone(),
                relationship: g.relationship(),
                parental_authority: g.parental_authority(),
                authority_source: g.authority_source(),
                contact: Contact {
                    phone: g.phone.clone(),
                    email: g.email.clone(),
                },
            })
            .collect(),
        signals: signals
            .iter()
            .map(|s| {
                let c = s.current().content();
                SignalSnapshot {
                    observed_at: c.observed_at.into(),
                    recorded_at: s.signal.recorded_at.into(),
                    recorded_by_role: s.signal.recorded_by_role.clone(),
                    category: c.category,
                    source: c.source,
                    source_description: c.source_description,
                    facts: c.facts,
                    interpretation: c.interpretation,
                    direction: c.direction,
                }
            })
            .collect(),
    })
}

/// The handoff as the caller's organisation may see it, or 404.
async fn visible(
    conn: &mut AsyncPgConnection,
    principal: &Principal,
    id: Uuid,
    for_update: bool,
) -> Result<Stored, AppError> {
    queries::find_for_party(conn, principal.org_id(), id, for_update)
        .await?
        .ok_or_else(AppError::not_found)
}

async fn render_one(
    conn: &mut AsyncPgConnection,
    principal: &Principal,
    stored: &Stored,
) -> Result<Handoff, AppError> {
    let transitions = queries::transitions_of(conn, &[stored.id]).await?;
    render(conn, principal, stored, &transitions).await
}

pub struct HandoffsApi;

#[OpenApi(prefix_path = "/handoffs", tag = "ApiTags::Handoffs")]
impl HandoffsApi {
    /// Send a handoff
    ///
    /// Sends a concern to another organisation, with its legal basis: an `advice_request` or a
    /// `report` (melding) to Veilig Thuis, an `information_request` from Veilig Thuis and the
    /// `information_response` to it, a `referral` from a school, or a `signal_to_school` from a
    /// wijkteam. The child's identifying data, guardians and the selected signals are copied
    /// into the handoff: the recipient sees that copy, never your live records. An advice
    /// request may be anonymous (an `ageBand` instead of a child). A report says whether the
    /// parents were informed, or why not. Refusals are 422 with a specific type:
    /// `route-not-allowed`, `unknown-recipient`, `recipient-inactive`, `unknown-child`,
    /// `unknown-signal`, `unknown-case`, `report-not-decided`, `unknown-request`,
    /// `consent-required`.
    #[oai(path = "/", method = "post", operation_id = "sendHandoff")]
    async fn send(
        &self,
        auth: BearerAuth,
        state: Data<&Arc<AppState>>,
        db: Db,
        request: Data<&RequestMeta>,
        body: JsonBody<CreateHandoff>,
    ) -> ApiResult<HandoffCreatedResponse, Create> {
        let principal = auth.0;
        policy::require(&principal, Action::SendHandoffs)?;
        let input = body.0;
        let errors = check_shape(&input);
        if !errors.is_empty() {
            return Err(AppError::fields(errors).into());
        }
        let actor = Actor {
            principal: &principal,
            request: &request,
        };
        let deadlines = state.deadlines;
        let (stored, rendered) = db
            .transaction(async |conn| {
                let recipient = organisation_queries::find(conn, input.to_organisation)
                    .await?
                    .ok_or_else(|| {
                        AppError::new(ProblemKind::UnknownRecipient, "toOrganisation is not an organisation of the directory.",
                        )
                    })?;
                if !recipient.active {
                    return Err(AppError::new(ProblemKind::RecipientInactive, format!("{} is not active and cannot receive handoffs.", recipient.name),
                    ));
                }
                let kind = input.kind;
                if !rules::route_allowed(kind, principal.organisation.kind, recipient.kind()) {
                    return Err(AppError::new(ProblemKind::RouteNotAllowed, format!(
                            "A {} goes {}; not from a {} to a {}.",
                            kind.label_en().to_lowercase(),
                            describe_route(kind),
                            principal.organisation.kind,
                            recipient.kind()
                        ),
                    ));
                }
                if rules::legal_basis(kind, true) == LegalBasis::Consent
                    && let (Some(child), Some(consent)) = (input.child_id, input.consent_id)
                {
                    check_handoff_consent(conn, &principal, child, consent, recipient.id).await?;
                }
                if let Some(request_id) = input.in_response_to {
                    let answered = queries::find_for_party(conn, principal.org_id(), request_id, false)
                        .await?
                        .filter(|r| {
                            r.kind() == HandoffKind::InformationRequest
                                && r.to_organisation_id == principal.org_id()
                                && r.from_organisation_id == recipient.id
                                && !matches!(r.status(), HandoffStatus::Withdrawn | HandoffStatus::Declined)
                        });
                    if answered.is_none() {
                        return Err(AppError::new(ProblemKind::UnknownRequest, "inResponseTo must be an open information request the recipient sent you.",
                        ));
                    }
                }
                let snap = build_snapshot(conn, &principal, &input).await?;
                if let Some(case_id) = input.case_id {
                    let (case, decision) = case_and_decision(conn, &principal, case_id)
                        .await
                        .map_err(|_| {
                            AppError::new(ProblemKind::UnknownCase, "caseId is not a case of your organisation.")
                        })?;
                    if Some(case.child_id) != input.child_id {
                        return Err(AppError::new(ProblemKind::UnknownCase, "caseId must be a case of the same child.",
                        ));
                    }
                    if kind == HandoffKind::Report && decision != Some(Decision::Report) {
                        return Err(AppError::new(ProblemKind::ReportNotDecided, "The case's decision (step 5) is not to report; record that decision first.",
                        ));
                    }
                }
                let identified = input.child_id.is_some();
                let basis = rules::legal_basis(kind, identified);
                let urgency = input.urgency.unwrap_or(Urgency::Regular);
                let sent_at = Utc::now();
                let terms = report_terms(&input);
                let stored = queries::insert(
                    conn,
                    &queries::NewHandoff {
                        id: Uuid::now_v7(),
                        kind: kind.code(),
                        from_organisation_id: principal.org_id(),
                        to_organisation_id: recipient.id,
                        child_id: input.child_id,
                        case_id: input.case_id,
                        in_response_to: input.in_response_to,
                        consent_id: input.consent_id,
                        legal_basis: basis.code(),
                        snapshot: serde_json::to_value(&snap).unwrap_or_default(),
                        age_band: input.age_band.map(|b| b.code()),
                        message: &input.message,
                        urgency: urgency.code(),
                        requests_guidance: input.requests_guidance.unwrap_or(false),
                        parents_informed_at: terms.parents_informed_at,
                        parents_not_informed_reason: input.parents_not_informed_reason.map(|r| r.code()),
                        parents_not_informed_explanation: input.parents_not_informed_explanation.as_deref(),
                        melder_identity_disclosable: terms.melder_identity_disclosable,
                        melder_identity_reason: input.melder_identity_reason.as_deref(),
                        sent_by_sub: &principal.sub,
                        sent_by_name: &principal.name,
                        sent_at,
                        acknowledgement_due_at: deadlines.acknowledgement_due(sent_at, urgency),
                    },
                )
                .await?;
                let mut disclosure = Access::allowed(AccessAction::Disclose, HANDOFF, stored.id)
                    .with_basis(basis.code(), stored.consent_id)
                    .disclosed_to(recipient.id);
                if let Some(child) = stored.child_id {
                    disclosure = disclosure.about_child(child);
                }
                Effects::new()
                    .access(disclosure)
                    .write(conn, actor)
                    .await?;
                announce(
                    &stored,
                    EventType::HandoffSent,
                    "handoff.sent",
                    format!("{} sent to {} ({})", kind.label_en(), recipient.name, basis.code()),
                )
                .write(conn, actor)
                .await?;
                let rendered = render_one(conn, &principal, &stored).await?;
                Ok((stored, rendered))
            })
            .await?;
        let tag = etag::of(&rendered);
        Ok(HandoffCreatedResponse::Created(
            Json(rendered),
            format!("/v1/handoffs/{}", stored.id),
            tag,
        ))
    }

    /// List handoffs
    ///
    /// Handoffs your organisation sent (`direction=outgoing`) or received (`incoming`), or both;
    /// filter by `kind`, `status`, and `overdue=true` for those not acknowledged in time or
    /// whose safety assessment is late. Each handoff returned is access-logged.
    #[oai(path = "/", method = "get", operation_id = "listHandoffs")]
    #[allow(clippy::too_many_arguments)]
    async fn list(
        &self,
        auth: BearerAuth,
        db: Db,
        request: Data<&RequestMeta>,
        /// Sent or received by your organisation.
        direction: Query<Option<DirectionFilter>>,
        kind: Query<Option<HandoffKind>>,
        status: Query<Option<HandoffStatus>>,
        /// Only overdue handoffs.
        overdue: Query<Option<bool>>,
        /// Only reports awaiting feedback: no status feedback yet, or the safety assessment late.
        #[oai(name = "awaitingFeedback")]
        awaiting_feedback: Query<Option<bool>>,
        /// Page size: 1 to 200, default 50.
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<u32>>,
        /// `nextCursor` of the previous page.
        #[oai(validator(max_length = 500))]
        cursor: Query<Option<String>>,
    ) -> ApiResult<ListHandoffsResponse, ReadMany> {
        let principal = auth.0;
        policy::require(&principal, Action::ReadHandoffs)?;
        let after: Option<Uuid> = decode_cursor(cursor.0.as_deref())?;
        let fetch = paging::fetch_size(limit.0);
        let filter = queries::Filter {
            direction: direction.0.map(|d| match d {
                DirectionFilter::Outgoing => Direction::Outgoing,
                DirectionFilter::Incoming => Direction::Incoming,
            }),
            kind: kind.0,
            status: status.0,
            overdue_at: (overdue.0 == Some(true)).then(Utc::now),
            awaiting_feedback_at: (awaiting_feedback.0 == Some(true)).then(Utc::now),
        };
        let actor = Actor {
            principal: &principal,
            request: &request,
        };
        let (items, next_cursor) = db
            .transaction(async |conn| {
                let rows = queries::list(conn, principal.org_id(), &filter, after, fetch).await?;
                let (rows, next_cursor) = paging::paginate(rows, fetch, |h| h.id);
                let ids: Vec<Uuid> = rows.iter().map(|h| h.id).collect();
                let transitions = queries::transitions_of(conn, &ids).await?;
                let mut items = Vec::with_capacity(rows.len());
                for row in &rows {
                    items.push(render(conn, &principal, row, &transitions).await?);
                }
                Effects::new()
                    .accesses(rows.iter().map(|h| read_access(&principal, h)))
                    .write(conn, actor)
                    .await?;
                Ok((items, next_cursor))
            })
            .await?;
        Ok(ListHandoffsResponse::Ok(Json(HandoffPage {
            items,
            next_cursor,
        })))
    }

    /// Get a handoff
    ///
    /// One handoff your organisation sent or received. Any other organisation gets 404, as for
    /// an id that does not exist.
    #[oai(path = "/:id", method = "get", operation_id = "getHandoff")]
    async fn get(
        &self,
        auth: BearerAuth,
        db: Db,
        request: Data<&RequestMeta>,
        /// The handoff's id.
        id: Path<Uuid>,
        /// ETag of the copy the client holds.
        #[oai(name = "If-None-Match")]
        if_none_match: Header<Option<String>>,
    ) -> ApiResult<GetHandoffResponse, ReadOne> {
        let principal = auth.0;
        policy::require(&principal, Action::ReadHandoffs)?;
        let actor = Actor {
            principal: &principal,
            request: &request,
        };
        let rendered = db
            .transaction(async |conn| {
                let stored = visible(conn, &principal, id.0, false).await?;
                Effects::new()
                    .access(read_access(&principal, &stored))
                    .write(conn, actor)
                    .await?;
                render_one(conn, &principal, &stored).await
            })
            .await?;
        let tag = etag::of(&rendered);
        if etag::none_match_hits(if_none_match.0.as_deref(), &tag) {
            return Ok(GetHandoffResponse::NotModified(tag));
        }
        Ok(GetHandoffResponse::Ok(Json(rendered), tag))
    }

    /// Acknowledge receipt
    ///
    /// The recipient confirms it received the handoff (`sent` → `received`). For a report this
    /// starts Veilig Thuis's five working days for the safety assessment (`assessmentDueAt`).
    #[oai(
        path = "/:id/acknowledgement",
        method = "post",
        operation_id = "acknowledgeHandoff"
    )]
    #[allow(clippy::too_many_arguments)] // until a request context bundles state, db and request
    async fn acknowledge(
        &self,
        auth: BearerAuth,
        state: Data<&Arc<AppState>>,
        db: Db,
        request: Data<&RequestMeta>,
        /// The handoff's id.
        id: Path<Uuid>,
        /// ETag of the handoff the step is based on.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
        body: OptionalJsonBody<TransitionNote>,
    ) -> ApiResult<TransitionResponse, Change> {
        let actor = Actor {
            principal: &auth.0,
            request: &request,
        };
        let note = body.into_inner().unwrap_or_default().note;
        transition(
            &db,
            state.deadlines,
            actor,
            id.0,
            if_match.0,
            note,
            Transition::Acknowledge,
        )
        .await
    }

    /// Accept
    ///
    /// The recipient takes the handoff on (from `sent` or `received` → `accepted`).
    #[oai(
        path = "/:id/acceptance",
        method = "post",
        operation_id = "acceptHandoff"
    )]
    #[allow(clippy::too_many_arguments)] // until a request context bundles state, db and request
    async fn accept(
        &self,
        auth: BearerAuth,
        state: Data<&Arc<AppState>>,
        db: Db,
        request: Data<&RequestMeta>,
        /// The handoff's id.
        id: Path<Uuid>,
        /// ETag of the handoff the step is based on.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
        body: OptionalJsonBody<TransitionNote>,
    ) -> ApiResult<TransitionResponse, Change> {
        let actor = Actor {
            principal: &auth.0,
            request: &request,
        };
        let note = body.into_inner().unwrap_or_default().note;
        transition(
            &db,
            state.deadlines,
            actor,
            id.0,
            if_match.0,
            note,
            Transition::Accept,
        )
        .await
    }

    /// Decline
    ///
    /// The recipient declines the handoff (from `sent` or `received` → `declined`); `note` is
    /// the reason and is required.
    #[oai(
        path = "/:id/declination",
        method = "post",
        operation_id = "declineHandoff"
    )]
    #[allow(clippy::too_many_arguments)] // until a request context bundles state, db and request
    async fn decline(
        &self,
        auth: BearerAuth,
        state: Data<&Arc<AppState>>,
        db: Db,
        request: Data<&RequestMeta>,
        /// The handoff's id.
        id: Path<Uuid>,
        /// ETag of the handoff the step is based on.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
        body: OptionalJsonBody<TransitionNote>,
    ) -> ApiResult<TransitionResponse, Change> {
        let actor = Actor {
            principal: &auth.0,
            request: &request,
        };
        let note = body.into_inner().unwrap_or_default().note;
        transition(
            &db,
            state.deadlines,
            actor,
            id.0,
            if_match.0,
            note,
            Transition::Decline,
        )
        .await
    }

    /// Close
    ///
    /// The recipient closes an accepted handoff (`accepted` → `closed`); `note` is the outcome
    /// and is required.
    #[oai(path = "/:id/closure", method = "post", operation_id = "closeHandoff")]
    #[allow(clippy::too_many_arguments)] // until a request context bundles state, db and request
    async fn close(
        &self,
        auth: BearerAuth,
        state: Data<&Arc<AppState>>,
        db: Db,
        request: Data<&RequestMeta>,
        /// The handoff's id.
        id: Path<Uuid>,
        /// ETag of the handoff the step is based on.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
        body: OptionalJsonBody<TransitionNote>,
    ) -> ApiResult<TransitionResponse, Change> {
        let actor = Actor {
            principal: &auth.0,
            request: &request,
        };
        let note = body.into_inner().unwrap_or_default().note;
        transition(
            &db,
            state.deadlines,
            actor,
            id.0,
            if_match.0,
            note,
            Transition::Close,
        )
        .await
    }

    /// Withdraw
    ///
    /// The sender withdraws the handoff before the recipient accepted it (from `sent` or
    /// `received` → `withdrawn`); `note` says why.
    #[oai(
        path = "/:id/withdrawal",
        method = "post",
        operation_id = "withdrawHandoff"
    )]
    #[allow(clippy::too_many_arguments)] // until a request context bundles state, db and request
    async fn withdraw(
        &self,
        auth: BearerAuth,
        state: Data<&Arc<AppState>>,
        db: Db,
        request: Data<&RequestMeta>,
        /// The handoff's id.
        id: Path<Uuid>,
        /// ETag of the handoff the step is based on.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
        body: OptionalJsonBody<TransitionNote>,
    ) -> ApiResult<TransitionResponse, Change> {
        let actor = Actor {
            principal: &auth.0,
            request: &request,
        };
        let note = body.into_inner().unwrap_or_default().note;
        transition(
            &db,
            state.deadlines,
            actor,
            id.0,
            if_match.0,
            note,
            Transition::Withdraw,
        )
        .await
    }

    /// Take the child in
    ///
    /// The recipient takes the handoff's child in as a child record of its own — identifying
    /// data and guardians from the snapshot — linked to the handoff. Idempotent: a second
    /// intake returns the same child (200). Only after acknowledging the handoff.
    #[oai(
        path = "/:id/intake",
        method = "post",
        operation_id = "takeInHandoffChild"
    )]
    async fn intake(
        &self,
        auth: BearerAuth,
        db: Db,
        request: Data<&RequestMeta>,
        /// The handoff's id.
        id: Path<Uuid>,
        body: OptionalJsonBody<Intake>,
    ) -> ApiResult<IntakeResponse, Create> {
        let principal = auth.0;
        policy::require(&principal, Action::RegisterChildren)?;
        policy::require(&principal, Action::ReadHandoffs)?;
        let input = body.into_inner().unwrap_or_default();
        if let Some(external_ref) = &input.external_ref
            && let Some(err) = check_text("externalRef", external_ref)
        {
            return Err(AppError::fields(vec![err]).into());
        }
        let actor = Actor {
            principal: &principal,
            request: &request,
        };
        let (child, guardians, created) = db
            .transaction(async |conn| {
                let stored = visible(conn, &principal, id.0, true).await?;
                if stored.is_sender(principal.org_id()) {
                    return Err(AppError::forbidden(
                        "Only the recipient takes a handoff's child in.",
                    ));
                }
                if let Some(existing) = stored.intake_child_id {
                    let child = load_own_child(conn, &principal, existing).await?;
                    Effects::new()
                        .access(
                            Access::allowed(AccessAction::Read, "child", child.id)
                                .about_child(child.id),
                        )
                        .write(conn, actor)
                        .await?;
                    let guardians = child_queries::guardians_of(conn, &[child.id]).await?;
                    return Ok((child, guardians, false));
                }
                if !matches!(
                    stored.status(),
                    HandoffStatus::Received | HandoffStatus::Accepted | HandoffStatus::Closed
                ) {
                    return Err(AppError::new(
                        ProblemKind::InvalidTransition,
                        format!(
                            "A {} handoff cannot be taken in: acknowledge it first.",
                            stored.status().code()
                        ),
                    )
                    .with_extension("handoffStatus", stored.status().code()));
                }
                let snap = snapshot(&stored)?;
                let Some(sent_child) = snap.child else {
                    return Err(AppError::new(
                        ProblemKind::NoChild,
                        "An anonymous advice request names no child to take in.",
                    ));
                };
                let external_ref = input
                    .external_ref
                    .clone()
                    .unwrap_or_else(|| format!("HO-{}", &stored.id.simple().to_string()[..8]));
                if let Some(existing) =
                    child_queries::find_by_external_ref(conn, principal.org_id(), &external_ref)
                        .await?
                {
                    return Err(AppError::new(
                        ProblemKind::DuplicateExternalRef,
                        "Your organisation already registered a child with this externalRef.",
                    )
                    .with_extension("existingId", existing.id.to_string()));
                }
                let child = child_queries::insert(
                    conn,
                    &child_queries::NewChild {
                        id: Uuid::now_v7(),
                        organisation_id: principal.org_id(),
                        external_ref: &external_ref,
                        given_name: &sent_child.given_name,
                        family_name: &sent_child.family_name,
                        date_of_birth: sent_child.date_of_birth,
                        bsn: sent_child.bsn.as_deref(),
                        school_group: None,
                        created_by_sub: &principal.sub,
                    },
                )
                .await?;
                child_queries::link_source_handoff(conn, child.id, stored.id).await?;
                let mut effects = Effects::new()
                    .access(
                        Access::allowed(AccessAction::Create, "child", child.id)
                            .about_child(child.id),
                    )
                    .event(Event::new(
                        EventType::ChildCreated,
                        principal.org_id(),
                        "child",
                        child.id,
                    ));
                for guardian in &snap.guardians {
                    let row = child_queries::insert_guardian(
                        conn,
                        &child_queries::NewGuardian {
                            id: Uuid::now_v7(),
                            child_id: child.id,
                            name: &guardian.name,
                            relationship: guardian.relationship.code(),
                            parental_authority: guardian.parental_authority.code(),
                            authority_source: guardian.authority_source.code(),
                            phone: guardian.contact.phone.as_deref(),
                            email: guardian.contact.email.as_deref(),
                        },
                    )
                    .await?;
                    effects = effects.access(
                        Access::allowed(AccessAction::Create, "guardian", row.id)
                            .about_child(child.id),
                    );
                }
                let from = summary_of(conn, stored.from_organisation_id).await?;
                effects
                    .timeline(TimelineEntry {
                        organisation_id: principal.org_id(),
                        child_id: child.id,
                        entry_type: "child.created",
                        resource_type: HANDOFF,
                        resource_id: stored.id,
                        summary: format!(
                            "Child taken in from a {} of {}",
                            stored.kind().label_en().to_lowercase(),
                            from.name
                        ),
                        visibility: crate::db::timeline::Visibility::Organisation,
                    })
                    .write(conn, actor)
                    .await?;
                queries::set_intake(conn, stored.id, child.id).await?;
                let guardians = child_queries::guardians_of(conn, &[child.id]).await?;
                Ok((child, guardians, true))
            })
            .await?;
        let rendered = crate::api::children::render_child(&principal, &child, &guardians);
        let location = format!("/v1/children/{}", child.id);
        Ok(if created {
            IntakeResponse::Created(Json(rendered), location)
        } else {
            IntakeResponse::Ok(Json(rendered), location)
        })
    }
}

/// One lifecycle step: who may take it, from which status, with which note, what it leaves.
async fn transition(
    db: &Db,
    deadlines: crate::domain::handoff::DeadlineRules,
    actor: Actor<'_>,
    id: Uuid,
    if_match: Option<String>,
    note: Option<String>,
    step: Transition,
) -> ApiResult<TransitionResponse, Change> {
    let principal = actor.principal;
    policy::require(principal, Action::SendHandoffs)?;
    let note = note.filter(|n| !n.trim().is_empty());
    if matches!(step, Transition::Decline | Transition::Close) && note.is_none() {
        let what = if step == Transition::Decline {
            "the reason"
        } else {
            "the outcome"
        };
        return Err(AppError::invalid_param("note", format!("is required: {what}")).into());
    }
    let rendered = db
        .transaction(async |conn| {
            let stored = visible(conn, principal, id, true).await?;
            let current = render_one(conn, principal, &stored).await?;
            etag::check_if_match(if_match.as_deref(), &etag::of(&current))?;
            let party = if stored.is_sender(principal.org_id()) {
                Party::Sender
            } else {
                Party::Recipient
            };
            if step.party() != party {
                return Err(AppError::forbidden(format!(
                    "Only the {} of a handoff makes its {}.",
                    if step.party() == Party::Sender {
                        "sender"
                    } else {
                        "recipient"
                    },
                    step.code()
                )));
            }
            let from = stored.status();
            let to = rules::next_status(from, step).ok_or_else(|| {
                AppError::new(
                    ProblemKind::InvalidTransition,
                    format!("A {} handoff cannot take a {}.", from.code(), step.code()),
                )
                .with_extension("handoffStatus", from.code())
            })?;
            let now = Utc::now();
            let received_now = from == HandoffStatus::Sent
                && matches!(
                    to,
                    HandoffStatus::Received | HandoffStatus::Accepted | HandoffStatus::Declined
                );
            let assessment_due = received_now
                .then(|| deadlines.assessment_due(stored.kind(), now))
                .flatten();
            let updated = queries::record_transition(
                conn,
                &stored,
                queries::NewTransition {
                    transition: step,
                    to,
                    note: note.as_deref(),
                    at: now,
                    assessment_due_at: assessment_due,
                },
                principal,
            )
            .await?;
            let (event, entry_type) = match step {
                Transition::Acknowledge => (EventType::HandoffAcknowledged, "handoff.acknowledged"),
                Transition::Accept => (EventType::HandoffAccepted, "handoff.accepted"),
                Transition::Decline => (EventType::HandoffDeclined, "handoff.declined"),
                Transition::Close => (EventType::HandoffClosed, "handoff.closed"),
                Transition::Withdraw => (EventType::HandoffWithdrawn, "handoff.withdrawn"),
            };
            let mut access = Access::allowed(AccessAction::Update, HANDOFF, updated.id);
            if let Some(child) = own_child(principal, &updated) {
                access = access.about_child(child);
            }
            Effects::new().access(access).write(conn, actor).await?;
            announce(
                &updated,
                event,
                entry_type,
                format!(
                    "{} {}",
                    updated.kind().label_en(),
                    to.label_en().to_lowercase()
                ),
            )
            .write(conn, actor)
            .await?;
            render_one(conn, principal, &updated).await
        })
        .await?;
    let tag = etag::of(&rendered);
    Ok(TransitionResponse::Ok(Json(rendered), tag))
}
