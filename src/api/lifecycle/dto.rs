//! The data lifecycle's request and response bodies.

use chrono::NaiveDate;
use poem_openapi::{Object, types::Example};
use serde::Deserialize;
use uuid::Uuid;

use crate::{
    api::{
        shared::Professional,
        types::{Timestamp, example_time},
    },
    domain::lifecycle::{
        DestructionOutcome, DestructionScope, DestructionStatus, HearingOutcome, RecordRef,
        RecordType, RefusalGround, RequesterKind,
    },
};

const CHILD: Uuid = Uuid::from_u128(0x0193_5b1e_7c1a_7d00_8000_0000_0000_0101);
const GUARDIAN: Uuid = Uuid::from_u128(0x0193_5b1e_7c1a_7d00_8000_0000_0000_0201);
const SIGNAL: Uuid = Uuid::from_u128(0x0193_5b1e_7c1a_7d00_8000_0000_0000_0301);

fn privacy_officer() -> Professional {
    Professional {
        sub: "fg-karin".into(),
        name: "Karin de Vries".into(),
    }
}

/// Place (or replace) a legal hold on a child.
#[derive(Object, Deserialize)]
#[oai(rename_all = "camelCase", deny_unknown_fields, example)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlaceLegalHold {
    /// Why: the protection measure, court case or complaint it serves.
    #[oai(validator(min_length = 1, max_length = 2000))]
    pub reason: String,
    /// The last day it holds; absent: until lifted.
    #[oai(skip_serializing_if_is_none)]
    pub until: Option<NaiveDate>,
}

impl Example for PlaceLegalHold {
    fn example() -> Self {
        Self {
            reason: "Ondertoezichtstelling aangevraagd; dossier bewaren tot de uitspraak.".into(),
            until: NaiveDate::from_ymd_opt(2027, 12, 31),
        }
    }
}

/// A legal hold: while active, nothing about the child is purged or destroyed.
#[derive(Object)]
#[oai(rename_all = "camelCase", example)]
pub struct LegalHold {
    pub child_id: Uuid,
    pub reason: String,
    /// The last day it holds; absent: until lifted.
    #[oai(skip_serializing_if_is_none)]
    pub until: Option<NaiveDate>,
    /// `false` once `until` has passed.
    pub active: bool,
    pub placed_by: Professional,
    pub placed_at: Timestamp,
}

impl Example for LegalHold {
    fn example() -> Self {
        let input = PlaceLegalHold::example();
        Self {
            child_id: CHILD,
            reason: input.reason,
            until: input.until,
            active: true,
            placed_by: privacy_officer(),
            placed_at: example_time(),
        }
    }
}

/// The organisation's legal holds, newest first.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct LegalHoldList {
    pub items: Vec<LegalHold>,
}

/// Where a retention term counts from.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct RetentionTerm {
    pub years: u32,
    /// `leftOn` (a school) or `careEndedOn` (youth care, Veilig Thuis).
    pub counted_from: String,
    /// The date it counts from.
    pub anchor_date: NaiveDate,
    /// Kept at least until the child is this old (Veilig Thuis).
    #[oai(skip_serializing_if_is_none)]
    pub until_age: Option<u32>,
}

/// A child whose file the next retention run purges (or would, but for a legal hold).
#[derive(Object)]
#[oai(rename_all = "camelCase", example)]
pub struct RetentionDue {
    pub child_id: Uuid,
    /// The first day it could be purged.
    pub due_on: NaiveDate,
    pub term: RetentionTerm,
    /// A legal hold blocks it: the run leaves it.
    pub blocked_by_legal_hold: bool,
}

impl Example for RetentionDue {
    fn example() -> Self {
        Self {
            child_id: CHILD,
            due_on: NaiveDate::from_ymd_opt(2026, 7, 10).unwrap_or_default(),
            term: RetentionTerm {
                years: 2,
                counted_from: "leftOn".into(),
                anchor_date: NaiveDate::from_ymd_opt(2024, 7, 10).unwrap_or_default(),
                until_age: None,
            },
            blocked_by_legal_hold: false,
        }
    }
}

/// A page of what the next retention run reaches, by child id.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct RetentionDuePage {
    pub items: Vec<RetentionDue>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// A record of the child, by type and id.
#[derive(Object, Deserialize, Clone, Copy)]
#[oai(rename_all = "camelCase", deny_unknown_fields)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NamedRecord {
    #[oai(rename = "type")]
    #[serde(rename = "type")]
    pub record_type: RecordType,
    pub id: Uuid,
}

impl From<NamedRecord> for RecordRef {
    fn from(r: NamedRecord) -> Self {
        Self {
            record_type: r.record_type,
            id: r.id,
        }
    }
}

impl From<RecordRef> for NamedRecord {
    fn from(r: RecordRef) -> Self {
        Self {
            record_type: r.record_type,
            id: r.id,
        }
    }
}

/// That the other guardian(s) with parental authority were heard, or why not.
#[derive(Object, Deserialize, Clone)]
#[oai(rename_all = "camelCase", deny_unknown_fields)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HearingRecord {
    pub outcome: HearingOutcome,
    /// When and what they said, or why they were not heard.
    #[oai(validator(min_length = 1, max_length = 2000))]
    pub note: String,
}

/// A destruction request (vernietigingsverzoek) as received.
#[derive(Object, Deserialize)]
#[oai(rename_all = "camelCase", deny_unknown_fields, example)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateDestructionRequest {
    /// `guardian` (name them in `guardianId`) or `child`.
    pub requester: RequesterKind,
    /// The guardian who asks, one of the child's.
    #[oai(skip_serializing_if_is_none)]
    pub guardian_id: Option<Uuid>,
    /// The day the request reached the organisation: the deadline counts from it.
    pub received_on: NaiveDate,
    /// `everything`, or `records` named in `records`.
    pub scope: DestructionScope,
    /// With `records`: which.
    #[oai(default, validator(max_items = 200))]
    #[serde(default)]
    pub records: Vec<NamedRecord>,
    /// When a guardian asks and another also has parental authority: that the other was heard
    /// (or why not). Can also come with the decision.
    #[oai(skip_serializing_if_is_none)]
    pub hearing: Option<HearingRecord>,
}

impl Example for CreateDestructionRequest {
    fn example() -> Self {
        Self {
            requester: RequesterKind::Guardian,
            guardian_id: Some(GUARDIAN),
            received_on: NaiveDate::from_ymd_opt(2026, 11, 30).unwrap_or_default(),
            scope: DestructionScope::Records,
            records: vec![NamedRecord {
                record_type: RecordType::Signal,
                id: SIGNAL,
            }],
            hearing: None,
        }
    }
}

/// The privacy officer's decision on a destruction request.
#[derive(Object, Deserialize)]
#[oai(rename_all = "camelCase", deny_unknown_fields, example)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DecideDestructionRequest {
    /// `granted` (carried out at once) or `refused`.
    pub decision: DestructionOutcome,
    /// A partial grant: the records to destroy (of those asked, or of the child's when
    /// everything was asked). Absent: all that was asked.
    #[oai(skip_serializing_if_is_none, validator(max_items = 200))]
    pub records: Option<Vec<NamedRecord>>,
    /// The written weighing of the interests.
    #[oai(validator(min_length = 1, max_length = 10000))]
    pub weighing: String,
    /// A refusal's ground: only a substantial interest of someone other than the requester, or
    /// a legal duty to keep.
    #[oai(skip_serializing_if_is_none)]
    pub refusal_ground: Option<RefusalGround>,
    /// With `legal_duty`: the statutory provision.
    #[oai(
        skip_serializing_if_is_none,
        validator(min_length = 1, max_length = 500)
    )]
    pub legal_duty: Option<String>,
    /// That the other guardian(s) were heard, when not recorded with the request.
    #[oai(skip_serializing_if_is_none)]
    pub hearing: Option<HearingRecord>,
}

impl Example for DecideDestructionRequest {
    fn example() -> Self {
        Self {
            decision: DestructionOutcome::Granted,
            records: None,
            weighing: "Het signaal is onjuist gebleken; geen zwaarwegend belang van een ander \
                       verzet zich tegen vernietiging."
                .into(),
            refusal_ground: None,
            legal_duty: None,
            hearing: Some(HearingRecord {
                outcome: HearingOutcome::Heard,
                note: "Vader telefonisch gehoord op 2 december; geen bezwaar.".into(),
            }),
        }
    }
}

/// Extend a destruction request's term.
#[derive(Object, Deserialize)]
#[oai(rename_all = "camelCase", deny_unknown_fields, example)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExtendDestructionRequest {
    /// Why more time is needed; tell the requester within the first month.
    #[oai(validator(min_length = 1, max_length = 2000))]
    pub reason: String,
}

impl Example for ExtendDestructionRequest {
    fn example() -> Self {
        Self {
            reason: "De andere ouder is nog niet bereikt; verzoeker is op 2 december geïnformeerd."
                .into(),
        }
    }
}

/// A term extended.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct TermExtension {
    pub extended_at: Timestamp,
    pub reason: String,
}

/// The decision taken.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct DestructionDecisionRecord {
    pub decided_at: Timestamp,
    pub decided_by: Professional,
    /// A partial grant's records.
    #[oai(skip_serializing_if_is_none)]
    pub granted_records: Option<Vec<NamedRecord>>,
    pub weighing: String,
    #[oai(skip_serializing_if_is_none)]
    pub refusal_ground: Option<RefusalGround>,
    #[oai(skip_serializing_if_is_none)]
    pub legal_duty: Option<String>,
}

/// A destruction request and where it stands.
#[derive(Object)]
#[oai(rename_all = "camelCase", example)]
pub struct DestructionRequest {
    pub id: Uuid,
    pub child_id: Uuid,
    pub requester: RequesterKind,
    #[oai(skip_serializing_if_is_none)]
    pub guardian_id: Option<Uuid>,
    pub received_on: NaiveDate,
    pub scope: DestructionScope,
    pub records: Vec<NamedRecord>,
    #[oai(skip_serializing_if_is_none)]
    pub hearing: Option<HearingRecord>,
    /// While undecided: the guardians with parental authority to hear first (when no hearing
    /// is recorded yet).
    pub guardians_to_hear: Vec<Uuid>,
    /// The decision is due by this day: a month after receipt (AVG art. 12(3)); three for a
    /// wijkteam (Jeugdwet art. 7.3.9) or the GGD (WGBO art. 7:455).
    pub due_on: NaiveDate,
    /// Undecided past `dueOn`.
    pub overdue: bool,
    /// When the term was extended (by two months, once) and why.
    #[oai(skip_serializing_if_is_none)]
    pub extension: Option<TermExtension>,
    pub status: DestructionStatus,
    #[oai(skip_serializing_if_is_none)]
    pub decision: Option<DestructionDecisionRecord>,
    /// When a grant was carried out (at once, with the decision).
    #[oai(skip_serializing_if_is_none)]
    pub executed_at: Option<Timestamp>,
    pub recorded_by: Professional,
    pub created_at: Timestamp,
}

impl Example for DestructionRequest {
    fn example() -> Self {
        let input = CreateDestructionRequest::example();
        Self {
            id: Uuid::from_u128(0x0193_5b1e_7c1a_7d00_8000_0000_0000_0901),
            child_id: CHILD,
            requester: input.requester,
            guardian_id: input.guardian_id,
            received_on: input.received_on,
            scope: input.scope,
            records: input.records,
            hearing: None,
            guardians_to_hear: vec![Uuid::from_u128(0x0193_5b1e_7c1a_7d00_8000_0000_0000_0202)],
            due_on: NaiveDate::from_ymd_opt(2026, 12, 30).unwrap_or_default(),
            overdue: false,
            extension: None,
            status: DestructionStatus::Received,
            decision: None,
            executed_at: None,
            recorded_by: privacy_officer(),
            created_at: example_time(),
        }
    }
}

/// Destruction requests, oldest due first.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct DestructionRequestList {
    pub items: Vec<DestructionRequest>,
}
