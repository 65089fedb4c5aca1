//! What clients receive about cases, with the spec's examples.

use chrono::NaiveDate;
use poem_openapi::{ApiResponse, Enum, Object, Union, payload::Json, types::Example};
use uuid::Uuid;

use super::request::{
    ActionOwner, ConsultationKind, NewCaseAction, Participants, SkippedConversation,
    WeighingAnswers,
};
use crate::{
    api::{
        shared::Professional,
        types::{Timestamp, example_id, example_time},
    },
    domain::meldcode::{
        Answer, CaseStatus, Decision, Question, Step,
        approval::{ApprovalVerdict, ProposalSubject},
    },
};

// ---- responses --------------------------------------------------------------------------------

/// Where the afwegingskader stands.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum WeighingState {
    /// No weighing recorded yet.
    NotWeighed,
    /// A decision is allowed by the latest weighing.
    Decided,
}

/// The question and answer that decided.
#[derive(Object, Clone)]
#[oai(rename_all = "camelCase")]
pub struct DecidingAnswer {
    pub question: Question,
    pub answer: Answer,
}

/// What the afwegingskader now requires, from the latest weighing.
#[derive(Object, Clone)]
#[oai(rename_all = "camelCase")]
pub struct Afwegingskader {
    pub state: WeighingState,
    /// The decisions step 5 may take.
    pub allowed_decisions: Vec<Decision>,
    /// A report to Veilig Thuis is required.
    pub report_required: bool,
    #[oai(skip_serializing_if_is_none)]
    pub decided_by: Option<DecidingAnswer>,
    /// Steps still needed before a weighing can be recorded.
    pub missing_steps: Vec<Step>,
    /// In words.
    pub explanation: String,
}

/// The lead (regiehouder) changing hands.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct LeadChangeRecord {
    pub from: Professional,
    pub to: Professional,
    #[oai(skip_serializing_if_is_none)]
    pub reason: Option<String>,
    pub changed_by: String,
    pub changed_at: Timestamp,
}

/// An agreement (afspraak).
#[derive(Object, Clone)]
#[oai(rename_all = "camelCase", example)]
pub struct CaseAction {
    pub id: Uuid,
    pub description: String,
    pub owner: ActionOwner,
    pub due_date: NaiveDate,
    #[oai(skip_serializing_if_is_none)]
    pub done_at: Option<Timestamp>,
    /// Not done and past its due date.
    pub overdue: bool,
    /// The decision (step 5) it was agreed in, if any.
    #[oai(skip_serializing_if_is_none)]
    pub decision_step_id: Option<Uuid>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Example for CaseAction {
    fn example() -> Self {
        let new = NewCaseAction::example();
        Self {
            id: example_id(0x601),
            description: new.description,
            owner: new.owner,
            due_date: new.due_date,
            done_at: None,
            overdue: false,
            decision_step_id: Some(example_id(0x501)),
            created_at: example_time(),
            updated_at: example_time(),
        }
    }
}

/// How a case was closed.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct Closure {
    pub closed_at: Timestamp,
    pub closed_by: Professional,
    #[oai(skip_serializing_if_is_none)]
    pub note: Option<String>,
}

macro_rules! step_record {
    ($(#[$doc:meta])* $name:ident { $($(#[$fdoc:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Object)]
        #[oai(rename_all = "camelCase")]
        pub struct $name {
            pub id: Uuid,
            pub recorded_at: Timestamp,
            pub recorded_by: Professional,
            /// The record this one corrects.
            #[oai(skip_serializing_if_is_none)]
            pub supersedes: Option<Uuid>,
            /// Why it corrects it.
            #[oai(skip_serializing_if_is_none)]
            pub correction_reason: Option<String>,
            /// The record that corrects this one; a superseded record no longer counts.
            #[oai(skip_serializing_if_is_none)]
            pub superseded_by: Option<Uuid>,
            $($(#[$fdoc])* pub $field: $ty,)*
        }
    };
}

step_record!(
    /// Step 1 as recorded.
    SignalsMappedRecord {
        signal_ids: Vec<Uuid>,
        #[oai(skip_serializing_if_is_none)]
        note: Option<String>,
    }
);
step_record!(
    /// Step 2 as recorded.
    ConsultationRecord {
        kind: ConsultationKind,
        consulted_role: String,
        #[oai(skip_serializing_if_is_none)]
        consulted_organisation: Option<String>,
        consulted_at: Timestamp,
        advice: String,
    }
);
step_record!(
    /// Step 3 as recorded.
    ConversationRecord {
        #[oai(skip_serializing_if_is_none)]
        participants: Option<Participants>,
        #[oai(skip_serializing_if_is_none)]
        held_at: Option<Timestamp>,
        #[oai(skip_serializing_if_is_none)]
        facts_presented: Option<String>,
        #[oai(skip_serializing_if_is_none)]
        reaction: Option<String>,
        #[oai(skip_serializing_if_is_none)]
        interpretation: Option<String>,
        #[oai(skip_serializing_if_is_none)]
        skipped: Option<SkippedConversation>,
    }
);
step_record!(
    /// Step 4 as recorded.
    WeighingRecord {
        answers: WeighingAnswers,
    }
);
step_record!(
    /// Step 5 as recorded.
    DecisionRecord {
        decision: Decision,
        /// Absent for teachers.
        #[oai(skip_serializing_if_is_none)]
        rationale: Option<String>,
        #[oai(skip_serializing_if_is_none)]
        review_date: Option<NaiveDate>,
        /// Agreements made with the decision.
        action_ids: Vec<Uuid>,
    }
);

/// A step record, by `step`.
#[derive(Union)]
#[oai(discriminator_name = "step", one_of, rename_all = "snake_case")]
pub enum CaseStep {
    SignalsMapped(SignalsMappedRecord),
    Consultation(ConsultationRecord),
    Conversation(ConversationRecord),
    Weighing(WeighingRecord),
    Decision(DecisionRecord),
}

/// A meldcode case with everything recorded on it.
#[derive(Object)]
#[oai(rename_all = "camelCase", example)]
pub struct Case {
    pub id: Uuid,
    pub child_id: Uuid,
    pub status: CaseStatus,
    /// Who leads (regiehouder).
    pub lead: Professional,
    pub opened_at: Timestamp,
    pub opened_by: Professional,
    /// The furthest step recorded (and not superseded).
    #[oai(skip_serializing_if_is_none)]
    pub current_step: Option<Step>,
    /// Every step record, oldest first, superseded ones included.
    pub steps: Vec<CaseStep>,
    pub afwegingskader: Afwegingskader,
    /// The decision in force (the latest one not superseded).
    #[oai(skip_serializing_if_is_none)]
    pub decision: Option<Decision>,
    pub actions: Vec<CaseAction>,
    pub lead_history: Vec<LeadChangeRecord>,
    /// The report sent to Veilig Thuis from this case (the latest), and where it stands.
    #[oai(skip_serializing_if_is_none)]
    pub report: Option<ReportLink>,
    #[oai(skip_serializing_if_is_none)]
    pub closure: Option<Closure>,
    /// Four-eyes proposals (vier-ogenprincipe), oldest first: a decision or closure waiting for,
    /// or given, a second professional's verdict. Rejected ones stay.
    pub proposals: Vec<CaseProposal>,
    pub updated_at: Timestamp,
}

/// A decision or closure proposed under four eyes, with its verdict once given.
#[derive(Object, Clone)]
#[oai(rename_all = "camelCase")]
pub struct CaseProposal {
    pub id: Uuid,
    pub subject: ProposalSubject,
    /// For a decision: the step-5 record it proposes.
    #[oai(skip_serializing_if_is_none)]
    pub step_id: Option<Uuid>,
    /// For a closure: its note (not shown to teachers).
    #[oai(skip_serializing_if_is_none)]
    pub closure_note: Option<String>,
    pub proposed_by: Professional,
    pub proposed_at: Timestamp,
    /// Absent while it awaits a verdict.
    #[oai(skip_serializing_if_is_none)]
    pub verdict: Option<ApprovalVerdict>,
    /// Why, as the second professional put it (not shown to teachers).
    #[oai(skip_serializing_if_is_none)]
    pub comment: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub decided_by: Option<Professional>,
    #[oai(skip_serializing_if_is_none)]
    pub decided_at: Option<Timestamp>,
}

/// A report sent from a case, as the case shows it.
#[derive(Object, Clone)]
#[oai(rename_all = "camelCase")]
pub struct ReportLink {
    pub handoff_id: Uuid,
    pub status: crate::domain::handoff::HandoffStatus,
    pub sent_at: Timestamp,
    pub href: String,
}

/// A case, as listed.
#[derive(Object)]
#[oai(rename_all = "camelCase", example)]
pub struct CaseSummary {
    pub id: Uuid,
    pub child_id: Uuid,
    pub status: CaseStatus,
    pub lead: Professional,
    pub opened_at: Timestamp,
    #[oai(skip_serializing_if_is_none)]
    pub current_step: Option<Step>,
    #[oai(skip_serializing_if_is_none)]
    pub decision: Option<Decision>,
    /// Agreements not done and past their due date.
    pub overdue_actions: u32,
    #[oai(skip_serializing_if_is_none)]
    pub closed_at: Option<Timestamp>,
    pub href: String,
}

impl Example for Case {
    fn example() -> Self {
        let lead = Professional {
            sub: "ib-fatima".into(),
            name: "Fatima El Amrani".into(),
        };
        let record = |n: u128| (example_id(n), example_time(), lead.clone());
        let (id1, at1, by1) = record(0x501);
        let (id2, at2, by2) = record(0x502);
        Self {
            id: example_id(0x401),
            child_id: example_id(0x101),
            status: CaseStatus::Open,
            lead: lead.clone(),
            opened_at: example_time(),
            opened_by: lead.clone(),
            current_step: Some(Step::Consultation),
            steps: vec![
                CaseStep::SignalsMapped(SignalsMappedRecord {
                    id: id1,
                    recorded_at: at1,
                    recorded_by: by1,
                    supersedes: None,
                    correction_reason: None,
                    superseded_by: None,
                    signal_ids: vec![example_id(0x301)],
                    note: None,
                }),
                CaseStep::Consultation(ConsultationRecord {
                    id: id2,
                    recorded_at: at2,
                    recorded_by: by2,
                    supersedes: None,
                    correction_reason: None,
                    superseded_by: None,
                    kind: ConsultationKind::VeiligThuisAdvice,
                    consulted_role: "adviseur Veilig Thuis".into(),
                    consulted_organisation: Some("Veilig Thuis Amsterdam-Amstelland".into()),
                    consulted_at: example_time(),
                    advice:
                        "Bespreek de zorgen met moeder; bij twijfel over de veiligheid: melden."
                            .into(),
                }),
            ],
            afwegingskader: Afwegingskader {
                state: WeighingState::NotWeighed,
                allowed_decisions: Vec::new(),
                report_required: false,
                decided_by: None,
                missing_steps: Vec::new(),
                explanation: "Ready for the weighing (step 4).".into(),
            },
            decision: None,
            actions: vec![CaseAction::example()],
            lead_history: Vec::new(),
            report: None,
            closure: None,
            proposals: Vec::new(),
            updated_at: example_time(),
        }
    }
}

impl Example for CaseSummary {
    fn example() -> Self {
        Self {
            id: example_id(0x401),
            child_id: example_id(0x101),
            status: CaseStatus::Open,
            lead: Professional {
                sub: "ib-fatima".into(),
                name: "Fatima El Amrani".into(),
            },
            opened_at: example_time(),
            current_step: Some(Step::Weighing),
            decision: None,
            overdue_actions: 0,
            closed_at: None,
            href: format!("/v1/cases/{}", example_id(0x401)),
        }
    }
}

/// A page of cases.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct CasePage {
    pub items: Vec<CaseSummary>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

// Built once per request and rendered at once: boxing would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(ApiResponse)]
pub enum CaseCreatedResponse {
    /// Recorded; the case as it now stands.
    #[oai(status = 201)]
    Created(
        Json<Case>,
        /// The case.
        #[oai(header = "Location")]
        String,
        #[oai(header = "ETag")] String,
    ),
}

// Built once per request and rendered at once: boxing would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(ApiResponse)]
pub enum CaseResponse {
    /// The case as it now stands.
    #[oai(status = 200)]
    Ok(Json<Case>, #[oai(header = "ETag")] String),
}

// Built once per request and rendered at once: boxing would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(ApiResponse)]
pub enum GetCaseResponse {
    /// The case.
    #[oai(status = 200)]
    Ok(Json<Case>, #[oai(header = "ETag")] String),
    /// Unchanged since the ETag in `If-None-Match`.
    #[oai(status = 304)]
    NotModified(#[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum ListCasesResponse {
    /// Cases in the order they were opened.
    #[oai(status = 200)]
    Ok(Json<CasePage>),
}

#[derive(ApiResponse)]
pub enum ActionCreatedResponse {
    /// Agreed.
    #[oai(status = 201)]
    Created(
        Json<CaseAction>,
        /// The agreement.
        #[oai(header = "Location")]
        String,
        #[oai(header = "ETag")] String,
    ),
}

#[derive(ApiResponse)]
pub enum ActionResponse {
    /// Changed.
    #[oai(status = 200)]
    Ok(Json<CaseAction>, #[oai(header = "ETag")] String),
}

/// Query filter `status`.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum StatusFilter {
    Open,
    Closed,
}
