//! The handoff API's requests and responses, with their examples, and how the stored snapshot
//! and the request become them and domain types.

use chrono::NaiveDate;
use poem_openapi::{ApiResponse, Enum, Object, payload::Json, types::Example};
use serde::Deserialize;
use uuid::Uuid;

use crate::{
    api::{
        children::{Child, Contact},
        organisations::{DutyContact, OrganisationSummary},
        shared::Professional,
        types::{Timestamp, example_id, example_time},
    },
    domain::{
        child::{AuthoritySource, ParentalAuthority, Relationship},
        handoff::{
            self as rules, AgeBand, Deadline, HandoffKind, HandoffStatus, LegalBasis,
            ParentsNotInformedReason, ReportTerms, SendRequest, Urgency,
        },
        signal::{SignalCategory, SignalDirection, SignalSource},
    },
};

// ---- the snapshot: exactly what crossed ---------------------------------------------------------

/// The child as the sender knew it when sending.
#[derive(Object, Clone)]
#[oai(rename_all = "camelCase")]
pub struct ChildSnapshot {
    /// The sender's pupil or client number.
    pub sender_ref: String,
    pub given_name: String,
    pub family_name: String,
    pub date_of_birth: NaiveDate,
    #[oai(skip_serializing_if_is_none)]
    pub bsn: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub school_group: Option<String>,
}

/// A guardian as the sender knew them.
#[derive(Object, Clone)]
#[oai(rename_all = "camelCase")]
pub struct GuardianSnapshot {
    pub name: String,
    pub relationship: Relationship,
    pub parental_authority: ParentalAuthority,
    pub authority_source: AuthoritySource,
    pub contact: Contact,
}

/// A signal as it stood when sent (its current revision).
#[derive(Object, Clone)]
#[oai(rename_all = "camelCase")]
pub struct SignalSnapshot {
    pub observed_at: Timestamp,
    pub recorded_at: Timestamp,
    /// The role it was recorded in, e.g. `teacher`.
    pub recorded_by_role: String,
    pub category: SignalCategory,
    pub source: SignalSource,
    #[oai(skip_serializing_if_is_none)]
    pub source_description: Option<String>,
    pub facts: String,
    #[oai(skip_serializing_if_is_none)]
    pub interpretation: Option<String>,
    pub direction: SignalDirection,
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
    /// Transfer request: the child's pupil number at the previous school (else the BSN and date
    /// of birth of `childId` identify it there).
    #[oai(validator(max_length = 100), skip_serializing_if_is_none)]
    pub pupil_number: Option<String>,
    /// School transfer: what the new school needs to know of the case, as the previous school
    /// selects it.
    #[oai(validator(max_length = 10000), skip_serializing_if_is_none)]
    pub case_summary: Option<String>,
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
            pupil_number: None,
            case_summary: None,
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

/// A deadline passed unmet.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct OverdueDeadline {
    pub deadline: Deadline,
    /// When it passed.
    pub due_at: Timestamp,
}

/// A reminder the sender sent.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct HandoffReminder {
    pub at: Timestamp,
    pub by: Professional,
    pub by_organisation: Uuid,
    #[oai(skip_serializing_if_is_none)]
    pub note: Option<String>,
}

/// A reminder to the recipient, optionally with a note.
#[derive(Object, Deserialize, Default)]
#[oai(rename_all = "camelCase", deny_unknown_fields, example)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RemindHandoff {
    #[oai(
        validator(min_length = 1, max_length = 2000),
        skip_serializing_if_is_none
    )]
    pub note: Option<String>,
}

impl Example for RemindHandoff {
    fn example() -> Self {
        Self {
            note: Some("Graag een ontvangstbevestiging; het kind is morgen op school.".into()),
        }
    }
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
    /// `acknowledgement`, `acceptance`, `declination`, `closure`, `withdrawal` or `forwarding`.
    pub transition: String,
    pub from_status: HandoffStatus,
    pub to_status: HandoffStatus,
    #[oai(skip_serializing_if_is_none)]
    pub note: Option<String>,
    pub by: Professional,
    pub by_organisation: Uuid,
    pub at: Timestamp,
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
    /// Which deadlines passed unmet, and when (each is announced to both sides once, as
    /// `handoff.acknowledgement_overdue` / `handoff.assessment_overdue`).
    pub overdue_deadlines: Vec<OverdueDeadline>,
    /// The sender's reminders to the recipient, oldest first.
    pub reminders: Vec<HandoffReminder>,
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
    /// Forwarded from another Veilig Thuis region: the handoff it continues (which only its own
    /// parties can open) and the region that forwarded it.
    #[oai(skip_serializing_if_is_none)]
    pub forwarded_from: Option<HandoffLink>,
    /// Forwarded (status `forwarded`): the handoff that continues it and the region it went to.
    #[oai(skip_serializing_if_is_none)]
    pub forwarded_to: Option<HandoffLink>,
    /// While Veilig Thuis's safety conditions run (voorwaarden en vervolg): the date of the next
    /// check.
    #[oai(skip_serializing_if_is_none)]
    pub conditions_check_on: Option<NaiveDate>,
    /// Sender only, for an acute handoff whose acknowledgement is overdue: the recipient's duty
    /// contact (piketfunctie) to call.
    #[oai(skip_serializing_if_is_none)]
    pub duty_contact: Option<DutyContact>,
    /// Transfer request: the child's pupil number at the previous school.
    #[oai(skip_serializing_if_is_none)]
    pub pupil_number: Option<String>,
    /// Recipient of a transfer request only: your child it names (by pupil number, or BSN and
    /// date of birth), if you have it.
    #[oai(skip_serializing_if_is_none)]
    pub matched_child_id: Option<Uuid>,
    /// School transfer: the case summary the previous school selected.
    #[oai(skip_serializing_if_is_none)]
    pub case_summary: Option<String>,
    /// School transfer from a case: whether it is still open and who leads it.
    #[oai(skip_serializing_if_is_none)]
    pub case: Option<CaseSnapshot>,
}

/// The previous school's meldcode case as it stood when the transfer was sent.
#[derive(Object, Clone)]
#[oai(rename_all = "camelCase")]
pub struct CaseSnapshot {
    pub open: bool,
    /// Who leads it (regiehouder), to contact.
    pub lead_name: String,
    #[oai(skip_serializing_if_is_none)]
    pub decision: Option<crate::domain::meldcode::Decision>,
}

impl From<rules::CaseSnapshot> for CaseSnapshot {
    fn from(c: rules::CaseSnapshot) -> Self {
        Self {
            open: c.open,
            lead_name: c.lead_name,
            decision: c.decision,
        }
    }
}

/// Another handoff this one is linked to by forwarding.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct HandoffLink {
    pub handoff_id: Uuid,
    /// The region that forwarded it (`forwardedFrom`) or received it (`forwardedTo`).
    pub organisation: OrganisationSummary,
}

/// Forwarding a report or advice request to another Veilig Thuis region.
#[derive(Object, Deserialize)]
#[oai(rename_all = "camelCase", deny_unknown_fields, example)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ForwardHandoff {
    /// The Veilig Thuis region that takes it on.
    pub to_organisation_id: Uuid,
    /// Why it goes there; the sender reads it on the handoff's history.
    #[oai(validator(min_length = 1, max_length = 2000))]
    pub reason: String,
}

impl Example for ForwardHandoff {
    fn example() -> Self {
        Self {
            to_organisation_id: example_id(0x004),
            reason: "Het gezin woont in Utrecht; de school ligt in onze regio.".into(),
        }
    }
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
            overdue_deadlines: Vec::new(),
            reminders: vec![HandoffReminder {
                at: example_time(),
                by: Professional {
                    sub: "ib-fatima".into(),
                    name: "Fatima El Amrani".into(),
                },
                by_organisation: example_id(0x001),
                note: Some("Graag een ontvangstbevestiging; het kind is morgen op school.".into()),
            }],
            awaiting_feedback: false,
            consent_withdrawn_at: None,
            transitions: Vec::new(),
            child_id: None,
            case_id: None,
            intake_child_id: None,
            forwarded_from: None,
            forwarded_to: None,
            conditions_check_on: None,
            duty_contact: None,
            pupil_number: None,
            matched_child_id: None,
            case_summary: None,
            case: None,
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
        Json<Child>,
        /// The child record.
        #[oai(header = "Location")]
        String,
    ),
    /// Taken in before: the same child record.
    #[oai(status = 200)]
    Ok(
        Json<Child>,
        /// The child record.
        #[oai(header = "Location")]
        String,
    ),
}

// ---- conversions --------------------------------------------------------------------------------

impl CreateHandoff {
    /// The request in the domain's words.
    pub fn as_request(&self) -> SendRequest<'_> {
        SendRequest {
            kind: self.kind,
            child_id: self.child_id,
            case_id: self.case_id,
            signal_ids: &self.signal_ids,
            message: &self.message,
            urgency: self.urgency,
            requests_guidance: self.requests_guidance,
            age_band: self.age_band,
            in_response_to: self.in_response_to,
            consent_id: self.consent_id,
            report: ReportTerms {
                parents_informed_at: self.parents_informed_at.map(|t| t.0),
                parents_not_informed_reason: self.parents_not_informed_reason,
                parents_not_informed_explanation: self.parents_not_informed_explanation.as_deref(),
                melder_identity_disclosable: self.melder_identity_disclosable.unwrap_or(true),
                melder_identity_reason: self.melder_identity_reason.as_deref(),
            },
            pupil_number: self.pupil_number.as_deref(),
            case_summary: self.case_summary.as_deref(),
        }
    }
}

impl From<rules::ChildSnapshot> for ChildSnapshot {
    fn from(child: rules::ChildSnapshot) -> Self {
        Self {
            sender_ref: child.sender_ref,
            given_name: child.given_name,
            family_name: child.family_name,
            date_of_birth: child.date_of_birth,
            bsn: child.bsn,
            school_group: child.school_group,
        }
    }
}

impl From<rules::GuardianSnapshot> for GuardianSnapshot {
    fn from(guardian: rules::GuardianSnapshot) -> Self {
        Self {
            name: guardian.name,
            relationship: guardian.relationship,
            parental_authority: guardian.parental_authority,
            authority_source: guardian.authority_source,
            contact: Contact {
                phone: guardian.contact.phone,
                email: guardian.contact.email,
            },
        }
    }
}

impl From<rules::SignalSnapshot> for SignalSnapshot {
    fn from(signal: rules::SignalSnapshot) -> Self {
        Self {
            observed_at: signal.observed_at.into(),
            recorded_at: signal.recorded_at.into(),
            recorded_by_role: signal.recorded_by_role,
            category: signal.category,
            source: signal.source,
            source_description: signal.source_description,
            facts: signal.facts,
            interpretation: signal.interpretation,
            direction: signal.direction,
        }
    }
}
