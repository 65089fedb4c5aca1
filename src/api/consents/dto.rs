//! What clients send and receive about consents, with the spec's examples.

use chrono::NaiveDate;
use poem_openapi::{ApiResponse, Enum, Object, payload::Json, types::Example};
use serde::Deserialize;
use uuid::Uuid;

use crate::{
    api::{
        organisations::OrganisationSummary,
        shared::Professional,
        types::{Timestamp, example_id, example_time},
    },
    domain::{
        consent::{ConsentDecision, ConsentMethod, ConsentPurpose, ConsentRequest, ConsentStatus},
        feedback::FeedbackCategory,
    },
};

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

impl CreateConsent {
    pub fn as_request(&self) -> ConsentRequest<'_> {
        ConsentRequest {
            purpose: self.purpose,
            recipient: self.recipient_organisation,
            scope: &self.scope,
            valid_until: self.valid_until,
            handoff: self.handoff_id,
        }
    }
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
