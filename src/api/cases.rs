//! Meldcode cases: the five steps, the afwegingskader, the lead (regiehouder) and agreements.

use chrono::{NaiveDate, Utc};
use diesel_async::AsyncPgConnection;
use poem::web::Data;
use poem_openapi::{
    ApiResponse, Enum, Object, OpenApi, Union,
    param::{Header, Path, Query},
    payload::Json,
    types::{Example, MaybeUndefined},
};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::Value;
use uuid::Uuid;

use crate::{
    api::{
        ApiTags,
        body::{JsonBody, OptionalJsonBody},
        children::load_own_child,
        etag,
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
        cases::{self as queries, CaseFile, StepRecord},
        children as child_queries, organisations as organisation_queries,
        timeline::TimelineEntry,
    },
    domain::{
        FieldError, check_text,
        meldcode::{
            self as rules, Answer, Answers, ClosureRefusal, ConversationRecord as Conversation,
            Decision, Progress, Question, Refusal, SkipReason, Step, Verdict,
        },
        reference::Labelled,
        signal::OBSERVED_AT_SKEW,
    },
    effects::Effects,
    error::{AppError, ProblemKind},
    events::{Event, EventType},
};

const CASE: &str = "case";
const CASE_STEP: &str = "case_step";
const CASE_ACTION: &str = "case_action";

// ---- requests ---------------------------------------------------------------------------------

/// A professional named by their id and name (e.g. the lead, regiehouder).
#[derive(Object, Deserialize, Serialize, Clone)]
#[oai(rename_all = "camelCase", deny_unknown_fields)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProfessionalInput {
    /// Their id at their identity provider (`sub`).
    #[oai(validator(min_length = 1, max_length = 200))]
    pub sub: String,
    #[oai(validator(min_length = 1, max_length = 200))]
    pub name: String,
}

/// A new case.
#[derive(Object, Deserialize)]
#[oai(rename_all = "camelCase", deny_unknown_fields, example)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OpenCase {
    /// Who leads the meldcode path (regiehouder).
    pub lead: ProfessionalInput,
    /// Signals to map right away (records step 1).
    #[oai(default, validator(max_items = 100), skip_serializing_if_is_empty)]
    #[serde(default)]
    pub signal_ids: Vec<Uuid>,
}

impl Example for OpenCase {
    fn example() -> Self {
        Self {
            lead: ProfessionalInput {
                sub: "ib-fatima".into(),
                name: "Fatima El Amrani".into(),
            },
            signal_ids: vec![example_id(0x301)],
        }
    }
}

/// Hands the lead to someone else.
#[derive(Object, Deserialize)]
#[oai(rename_all = "camelCase", deny_unknown_fields, example)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChangeLead {
    #[oai(validator(min_length = 1, max_length = 200))]
    pub sub: String,
    #[oai(validator(min_length = 1, max_length = 200))]
    pub name: String,
    /// Why the lead changes hands.
    #[oai(validator(max_length = 2000), skip_serializing_if_is_none)]
    pub reason: Option<String>,
}

impl Example for ChangeLead {
    fn example() -> Self {
        Self {
            sub: "oka-joost".into(),
            name: "Joost Bakker".into(),
            reason: Some("Het wijkteam neemt de regie over.".into()),
        }
    }
}

/// Closes a case.
#[derive(Object, Deserialize, Default)]
#[oai(rename_all = "camelCase", deny_unknown_fields, example)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CloseCase {
    /// A closing note.
    #[oai(validator(max_length = 5000), skip_serializing_if_is_none)]
    pub note: Option<String>,
}

impl Example for CloseCase {
    fn example() -> Self {
        Self {
            note: Some("Hulp loopt; monitoring door de leerkracht tot de zomervakantie.".into()),
        }
    }
}

/// Who an agreement is for: a professional (`sub`) or an organisation, with a name.
#[derive(Object, Deserialize, Serialize, Clone)]
#[oai(rename_all = "camelCase", deny_unknown_fields)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ActionOwner {
    #[oai(validator(min_length = 1, max_length = 200))]
    pub name: String,
    #[oai(
        validator(min_length = 1, max_length = 200),
        skip_serializing_if_is_none
    )]
    pub sub: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub organisation_id: Option<Uuid>,
}

/// A new agreement (afspraak): who does what, by when.
#[derive(Object, Deserialize, Serialize, Clone)]
#[oai(rename_all = "camelCase", deny_unknown_fields, example)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewCaseAction {
    #[oai(validator(min_length = 1, max_length = 2000))]
    pub description: String,
    pub owner: ActionOwner,
    /// Today or later.
    pub due_date: NaiveDate,
}

impl Example for NewCaseAction {
    fn example() -> Self {
        Self {
            description: "Gesprek met moeder over de hulp van het wijkteam".into(),
            owner: ActionOwner {
                name: "Joost Bakker".into(),
                sub: Some("oka-joost".into()),
                organisation_id: None,
            },
            due_date: NaiveDate::from_ymd_opt(2026, 12, 4).unwrap_or_default(),
        }
    }
}

/// Changes to an agreement; absent properties stay as they are.
#[derive(Object, Deserialize)]
#[oai(rename_all = "camelCase", deny_unknown_fields, example)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateCaseAction {
    #[oai(
        validator(min_length = 1, max_length = 2000),
        skip_serializing_if_is_none
    )]
    pub description: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub owner: Option<ActionOwner>,
    #[oai(skip_serializing_if_is_none)]
    pub due_date: Option<NaiveDate>,
    /// When it was done; `null` reopens it.
    #[oai(skip_serializing_if_is_none)]
    #[serde(default)]
    pub done_at: MaybeUndefined<Timestamp>,
}

impl Example for UpdateCaseAction {
    fn example() -> Self {
        Self {
            description: None,
            owner: None,
            due_date: None,
            done_at: MaybeUndefined::Value(example_time()),
        }
    }
}

/// Step 1: the signals the case rests on (raising and reducing concern).
#[derive(Object, Deserialize, Serialize, Clone)]
#[oai(rename_all = "camelCase")]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignalsMappedInput {
    /// Signals of this child.
    #[oai(validator(min_items = 1, max_items = 100))]
    pub signal_ids: Vec<Uuid>,
    #[oai(validator(max_length = 5000), skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The step record this one corrects (same kind, same case).
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supersedes: Option<Uuid>,
    /// Why it is corrected; required with `supersedes`.
    #[oai(validator(max_length = 2000), skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correction_reason: Option<String>,
}

/// Whom the consultation was with.
#[derive(Enum, Deserialize, Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum ConsultationKind {
    /// A colleague, e.g. the aandachtsfunctionaris.
    Colleague,
    /// Advice from Veilig Thuis (possibly anonymous).
    VeiligThuisAdvice,
    /// An expert, e.g. the jeugdarts.
    Expert,
}

/// Step 2: a consultation.
#[derive(Object, Deserialize, Serialize, Clone)]
#[oai(rename_all = "camelCase")]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConsultationInput {
    pub kind: ConsultationKind,
    /// Who was consulted: a role (free text), e.g. `aandachtsfunctionaris`.
    #[oai(validator(min_length = 1, max_length = 200))]
    pub consulted_role: String,
    /// Their organisation, if any.
    #[oai(validator(max_length = 200), skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consulted_organisation: Option<String>,
    pub consulted_at: Timestamp,
    /// The advice given.
    #[oai(validator(min_length = 1, max_length = 10000))]
    pub advice: String,
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supersedes: Option<Uuid>,
    #[oai(validator(max_length = 2000), skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correction_reason: Option<String>,
}

/// Who took part in a conversation.
#[derive(Object, Deserialize, Serialize, Clone)]
#[oai(rename_all = "camelCase", deny_unknown_fields)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Participants {
    /// Guardians of the child who took part.
    #[oai(default, validator(max_items = 10))]
    #[serde(default)]
    pub guardian_ids: Vec<Uuid>,
    /// Whether the child took part.
    #[oai(default)]
    #[serde(default)]
    pub child: bool,
}

/// Why a conversation did not take place.
#[derive(Object, Deserialize, Serialize, Clone)]
#[oai(rename_all = "camelCase", deny_unknown_fields)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SkippedConversation {
    pub reason: SkipReason,
    #[oai(validator(min_length = 1, max_length = 5000))]
    pub explanation: String,
}

/// Step 3: the conversation with parents and/or child — or `skipped`, with a reason.
#[derive(Object, Deserialize, Serialize, Clone)]
#[oai(rename_all = "camelCase")]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConversationInput {
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participants: Option<Participants>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_at: Option<Timestamp>,
    /// The facts presented to them.
    #[oai(validator(max_length = 10000), skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facts_presented: Option<String>,
    /// How they reacted.
    #[oai(validator(max_length = 10000), skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reaction: Option<String>,
    #[oai(validator(max_length = 10000), skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interpretation: Option<String>,
    /// Present instead of the above when no conversation took place.
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<SkippedConversation>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supersedes: Option<Uuid>,
    #[oai(validator(max_length = 2000), skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correction_reason: Option<String>,
}

/// An answer to an afwegingsvraag, with a note.
#[derive(Object, Deserialize, Serialize, Clone)]
#[oai(rename_all = "camelCase", deny_unknown_fields)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WeighedAnswer {
    pub answer: Answer,
    /// Why (hidden from teachers).
    #[oai(validator(max_length = 5000), skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The five afwegingsvragen; later ones may be left out once an earlier answer decides.
#[derive(Object, Deserialize, Serialize, Clone, Default)]
#[oai(rename_all = "camelCase", deny_unknown_fields)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WeighingAnswers {
    /// 1. Is there a suspicion of (threat of) domestic violence or child abuse?
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspicion: Option<WeighedAnswer>,
    /// 2. Is there acute or structural unsafety?
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsafety: Option<WeighedAnswer>,
    /// 3. Can I offer or organise adequate help?
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help_possible: Option<WeighedAnswer>,
    /// 4. Do those involved accept the help and cooperate?
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help_accepted: Option<WeighedAnswer>,
    /// 5. Does the help lead to lasting safety within the agreed time?
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help_effective: Option<WeighedAnswer>,
}

impl WeighingAnswers {
    fn answers(&self) -> Answers {
        let answer = |a: &Option<WeighedAnswer>| a.as_ref().map(|a| a.answer);
        Answers {
            suspicion: answer(&self.suspicion),
            unsafety: answer(&self.unsafety),
            help_possible: answer(&self.help_possible),
            help_accepted: answer(&self.help_accepted),
            help_effective: answer(&self.help_effective),
        }
    }

    fn without_notes(mut self) -> Self {
        for answer in [
            &mut self.suspicion,
            &mut self.unsafety,
            &mut self.help_possible,
            &mut self.help_accepted,
            &mut self.help_effective,
        ]
        .into_iter()
        .flatten()
        {
            answer.note = None;
        }
        self
    }
}

/// Step 4: the weighing.
#[derive(Object, Deserialize, Serialize, Clone)]
#[oai(rename_all = "camelCase")]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WeighingInput {
    pub answers: WeighingAnswers,
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supersedes: Option<Uuid>,
    #[oai(validator(max_length = 2000), skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correction_reason: Option<String>,
}

/// Step 5: the decision, which the latest weighing must allow.
#[derive(Object, Deserialize, Serialize, Clone)]
#[oai(rename_all = "camelCase")]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DecisionInput {
    pub decision: Decision,
    /// Why (hidden from teachers).
    #[oai(validator(min_length = 1, max_length = 10000))]
    pub rationale: String,
    /// Agreements made with the decision: required for `organise_help`, and as monitoring
    /// agreements for `close` after help proved effective.
    #[oai(default, validator(max_items = 20), skip_serializing_if_is_empty)]
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<NewCaseAction>,
    /// When to review whether the help works; required for `organise_help`.
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_date: Option<NaiveDate>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supersedes: Option<Uuid>,
    #[oai(validator(max_length = 2000), skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correction_reason: Option<String>,
}

/// A step record to append, by `step`.
#[derive(Union)]
#[oai(discriminator_name = "step", one_of, rename_all = "snake_case")]
pub enum RecordStep {
    SignalsMapped(SignalsMappedInput),
    Consultation(ConsultationInput),
    Conversation(ConversationInput),
    Weighing(WeighingInput),
    Decision(DecisionInput),
}

impl<'de> Deserialize<'de> for RecordStep {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        fn parse<T: DeserializeOwned>(
            value: Value,
        ) -> Result<T, serde_path_to_error::Error<serde_json::Error>> {
            serde_path_to_error::deserialize(value)
        }
        crate::api::body::tagged(
            deserializer,
            "step",
            |name, value| {
                Some(match name {
                    "signals_mapped" => parse(value).map(Self::SignalsMapped),
                    "consultation" => parse(value).map(Self::Consultation),
                    "conversation" => parse(value).map(Self::Conversation),
                    "weighing" => parse(value).map(Self::Weighing),
                    "decision" => parse(value).map(Self::Decision),
                    _ => return None,
                })
            },
            &[
                "signals_mapped",
                "consultation",
                "conversation",
                "weighing",
                "decision",
            ],
        )
    }
}

impl RecordStep {
    fn step(&self) -> Step {
        match self {
            Self::SignalsMapped(_) => Step::SignalsMapped,
            Self::Consultation(_) => Step::Consultation,
            Self::Conversation(_) => Step::Conversation,
            Self::Weighing(_) => Step::Weighing,
            Self::Decision(_) => Step::Decision,
        }
    }

    fn correction(&self) -> (Option<Uuid>, Option<&str>) {
        let (supersedes, reason) = match self {
            Self::SignalsMapped(s) => (s.supersedes, &s.correction_reason),
            Self::Consultation(s) => (s.supersedes, &s.correction_reason),
            Self::Conversation(s) => (s.supersedes, &s.correction_reason),
            Self::Weighing(s) => (s.supersedes, &s.correction_reason),
            Self::Decision(s) => (s.supersedes, &s.correction_reason),
        };
        (supersedes, reason.as_deref())
    }

    /// The content to store: without the correction fields, which have columns of their own.
    fn details(&self) -> Value {
        fn strip<T: Serialize + Clone>(value: &T, clear: impl FnOnce(&mut T)) -> Value {
            let mut value = value.clone();
            clear(&mut value);
            serde_json::to_value(value).unwrap_or(Value::Null)
        }
        match self {
            Self::SignalsMapped(s) => {
                strip(s, |s| (s.supersedes, s.correction_reason) = (None, None))
            }
            Self::Consultation(s) => {
                strip(s, |s| (s.supersedes, s.correction_reason) = (None, None))
            }
            Self::Conversation(s) => {
                strip(s, |s| (s.supersedes, s.correction_reason) = (None, None))
            }
            Self::Weighing(s) => strip(s, |s| (s.supersedes, s.correction_reason) = (None, None)),
            Self::Decision(s) => strip(s, |s| {
                // Agreements are stored as case actions of their own.
                s.actions.clear();
                (s.supersedes, s.correction_reason) = (None, None);
            }),
        }
    }
}

// ---- responses --------------------------------------------------------------------------------

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum CaseStatus {
    Open,
    Closed,
}

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
    pub updated_at: Timestamp,
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

// ---- reading a case file ----------------------------------------------------------------------

/// A step record's content, read back from storage.
fn content<T: DeserializeOwned>(record: &StepRecord) -> Result<T, AppError> {
    serde_json::from_value(record.details.clone())
        .map_err(|err| AppError::internal(format!("case step {} is unreadable: {err}", record.id)))
}

/// The records that count: those no later record supersedes.
fn active(file: &CaseFile) -> impl Iterator<Item = &StepRecord> {
    file.steps.iter().filter(|s| {
        !file
            .steps
            .iter()
            .any(|later| later.supersedes == Some(s.id))
    })
}

fn active_of(file: &CaseFile, step: Step) -> impl Iterator<Item = &StepRecord> {
    active(file).filter(move |s| s.kind == step)
}

fn progress(file: &CaseFile) -> Result<Progress, AppError> {
    let latest_weighing = active_of(file, Step::Weighing)
        .last()
        .map(|record| content::<WeighingInput>(record).map(|w| w.answers.answers()))
        .transpose()?;
    Ok(Progress {
        signals_mapped: active_of(file, Step::SignalsMapped).count(),
        consultations: active_of(file, Step::Consultation).count(),
        latest_weighing,
    })
}

fn decision_in_force(file: &CaseFile) -> Result<Option<Decision>, AppError> {
    active_of(file, Step::Decision)
        .last()
        .map(|record| content::<DecisionInput>(record).map(|d| d.decision))
        .transpose()
}

fn afwegingskader(progress: &Progress) -> Afwegingskader {
    let missing_steps = rules::missing_before(Step::Weighing, progress);
    match progress.latest_weighing.as_ref().map(rules::weigh) {
        Some(Verdict::Decided {
            allowed,
            report_required,
            question,
            answer,
        }) => Afwegingskader {
            state: WeighingState::Decided,
            explanation: if report_required {
                format!(
                    "Question {} ({}) was answered '{}': a report to Veilig Thuis is required.",
                    question.number(),
                    question.text(),
                    answer.code()
                )
            } else if question == Question::Suspicion {
                "There is no suspicion (question 1: no): the case can be closed.".to_owned()
            } else {
                "Help is possible, accepted and effective: organise help, or close with monitoring agreements."
                    .to_owned()
            },
            allowed_decisions: allowed,
            report_required,
            decided_by: Some(DecidingAnswer { question, answer }),
            missing_steps,
        },
        // Incomplete weighings are refused when recorded, so the latest one always decides.
        Some(Verdict::Incomplete { .. }) | None => Afwegingskader {
            state: WeighingState::NotWeighed,
            allowed_decisions: Vec::new(),
            report_required: false,
            decided_by: None,
            explanation: if missing_steps.is_empty() {
                "Ready for the weighing (step 4).".to_owned()
            } else {
                format!(
                    "Before the weighing: {}.",
                    missing_steps
                        .iter()
                        .map(|s| s.label_en())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            },
            missing_steps,
        },
    }
}

fn current_step(file: &CaseFile) -> Option<Step> {
    active(file).map(|s| s.kind).max_by_key(|s| s.number())
}

fn render_action(row: &queries::Action, today: NaiveDate) -> CaseAction {
    CaseAction {
        id: row.id,
        description: row.description.clone(),
        owner: ActionOwner {
            name: row.owner_name.clone(),
            sub: row.owner_sub.clone(),
            organisation_id: row.owner_organisation_id,
        },
        due_date: row.due_date,
        done_at: row.done_at.map(Into::into),
        overdue: row.is_overdue(today),
        decision_step_id: row.decision_step_id,
        created_at: row.created_at.into(),
        updated_at: row.updated_at.into(),
    }
}

fn render_step(
    file: &CaseFile,
    record: &StepRecord,
    with_notes: bool,
) -> Result<CaseStep, AppError> {
    let superseded_by = file
        .steps
        .iter()
        .find(|s| s.supersedes == Some(record.id))
        .map(|s| s.id);
    let id = record.id;
    let recorded_at = record.recorded_at.into();
    let recorded_by = Professional {
        sub: record.recorded_by_sub.clone(),
        name: record.recorded_by_name.clone(),
    };
    let supersedes = record.supersedes;
    let correction_reason = record.correction_reason.clone();
    Ok(match record.kind {
        Step::SignalsMapped => {
            let c: SignalsMappedInput = content(record)?;
            CaseStep::SignalsMapped(SignalsMappedRecord {
                id,
                recorded_at,
                recorded_by,
                supersedes,
                correction_reason,
                superseded_by,
                signal_ids: c.signal_ids,
                note: c.note,
            })
        }
        Step::Consultation => {
            let c: ConsultationInput = content(record)?;
            CaseStep::Consultation(ConsultationRecord {
                id,
                recorded_at,
                recorded_by,
                supersedes,
                correction_reason,
                superseded_by,
                kind: c.kind,
                consulted_role: c.consulted_role,
                consulted_organisation: c.consulted_organisation,
                consulted_at: c.consulted_at,
                advice: c.advice,
            })
        }
        Step::Conversation => {
            let c: ConversationInput = content(record)?;
            CaseStep::Conversation(ConversationRecord {
                id,
                recorded_at,
                recorded_by,
                supersedes,
                correction_reason,
                superseded_by,
                participants: c.participants,
                held_at: c.held_at,
                facts_presented: c.facts_presented,
                reaction: c.reaction,
                interpretation: c.interpretation,
                skipped: c.skipped,
            })
        }
        Step::Weighing => {
            let c: WeighingInput = content(record)?;
            CaseStep::Weighing(WeighingRecord {
                id,
                recorded_at,
                recorded_by,
                supersedes,
                correction_reason,
                superseded_by,
                answers: if with_notes {
                    c.answers
                } else {
                    c.answers.without_notes()
                },
            })
        }
        Step::Decision => {
            let c: DecisionInput = content(record)?;
            CaseStep::Decision(DecisionRecord {
                id,
                recorded_at,
                recorded_by,
                supersedes,
                correction_reason,
                superseded_by,
                decision: c.decision,
                rationale: with_notes.then_some(c.rationale),
                review_date: c.review_date,
                action_ids: file
                    .actions
                    .iter()
                    .filter(|a| a.decision_step_id == Some(id))
                    .map(|a| a.id)
                    .collect(),
            })
        }
    })
}

fn professional(sub: &str, name: &str) -> Professional {
    Professional {
        sub: sub.to_owned(),
        name: name.to_owned(),
    }
}

fn render(principal: &Principal, file: &CaseFile) -> Result<Case, AppError> {
    let today = Utc::now().date_naive();
    let with_notes = policy::may_see_case_notes(principal);
    let case = &file.case;
    let progress = progress(file)?;
    Ok(Case {
        id: case.id,
        child_id: case.child_id,
        status: if case.is_open() {
            CaseStatus::Open
        } else {
            CaseStatus::Closed
        },
        lead: professional(&case.lead_sub, &case.lead_name),
        opened_at: case.opened_at.into(),
        opened_by: professional(&case.opened_by_sub, &case.opened_by_name),
        current_step: current_step(file),
        steps: file
            .steps
            .iter()
            .map(|s| render_step(file, s, with_notes))
            .collect::<Result<_, _>>()?,
        afwegingskader: afwegingskader(&progress),
        decision: decision_in_force(file)?,
        actions: file
            .actions
            .iter()
            .map(|a| render_action(a, today))
            .collect(),
        lead_history: file
            .lead_changes
            .iter()
            .map(|l| LeadChangeRecord {
                from: professional(&l.from_sub, &l.from_name),
                to: professional(&l.to_sub, &l.to_name),
                reason: l.reason.clone(),
                changed_by: l.changed_by_sub.clone(),
                changed_at: l.changed_at.into(),
            })
            .collect(),
        report: file.report.as_ref().map(|h| ReportLink {
            handoff_id: h.id,
            status: h.status,
            sent_at: h.sent_at.into(),
            href: format!("/v1/handoffs/{}", h.id),
        }),
        closure: case.closed_at.map(|closed_at| Closure {
            closed_at: closed_at.into(),
            closed_by: professional(
                case.closed_by_sub.as_deref().unwrap_or_default(),
                case.closed_by_name.as_deref().unwrap_or_default(),
            ),
            note: case.closure_note.clone(),
        }),
        updated_at: case.updated_at.into(),
    })
}

fn summarise(file: &CaseFile) -> Result<CaseSummary, AppError> {
    let today = Utc::now().date_naive();
    let case = &file.case;
    Ok(CaseSummary {
        id: case.id,
        child_id: case.child_id,
        status: if case.is_open() {
            CaseStatus::Open
        } else {
            CaseStatus::Closed
        },
        lead: professional(&case.lead_sub, &case.lead_name),
        opened_at: case.opened_at.into(),
        current_step: current_step(file),
        decision: decision_in_force(file)?,
        overdue_actions: file.actions.iter().filter(|a| a.is_overdue(today)).count() as u32,
        closed_at: case.closed_at.map(Into::into),
        href: format!("/v1/cases/{}", case.id),
    })
}

// ---- writing ----------------------------------------------------------------------------------

/// A case of the caller's organisation that the caller may see, with everything on it, or 404.
async fn load_file(
    conn: &mut AsyncPgConnection,
    principal: &Principal,
    id: Uuid,
    for_update: bool,
) -> Result<CaseFile, AppError> {
    let scope = policy::case_scope(principal);
    let case = queries::find(conn, principal.org_id(), &scope, id, for_update)
        .await?
        .ok_or_else(AppError::not_found)?;
    Ok(queries::load_files(conn, vec![case])
        .await?
        .pop()
        .expect("one case in, one file out"))
}

/// A case of the caller's organisation and the decision in force, for other APIs (a report
/// handoff sent from it).
pub async fn case_and_decision(
    conn: &mut AsyncPgConnection,
    principal: &Principal,
    id: Uuid,
) -> Result<(queries::Case, Option<Decision>), AppError> {
    let file = load_file(conn, principal, id, false).await?;
    let decision = decision_in_force(&file)?;
    Ok((file.case, decision))
}

fn require_open(file: &CaseFile) -> Result<(), AppError> {
    if file.case.is_open() {
        Ok(())
    } else {
        Err(AppError::new(
            ProblemKind::CaseClosed,
            "The case is closed; nothing more can be recorded on it.",
        ))
    }
}

fn case_entry(
    principal: &Principal,
    case: &queries::Case,
    entry_type: &'static str,
    summary: String,
) -> TimelineEntry {
    TimelineEntry {
        organisation_id: principal.org_id(),
        child_id: case.child_id,
        entry_type,
        resource_type: CASE,
        resource_id: case.id,
        summary,
        visibility: policy::CASE_TIMELINE_VISIBILITY,
    }
}

fn check_action(action: &NewCaseAction, today: NaiveDate, prefix: &'static str) -> Vec<FieldError> {
    let field = |name: &'static str| -> &'static str {
        match (prefix, name) {
            ("", n) => n,
            (_, "description") => "actions.description",
            (_, "owner") => "actions.owner",
            (_, "dueDate") => "actions.dueDate",
            (_, n) => n,
        }
    };
    let mut errors: Vec<FieldError> = check_text(field("description"), &action.description)
        .into_iter()
        .collect();
    errors.extend(check_owner(&action.owner, field("owner")));
    if action.due_date < today {
        errors.push(FieldError::new(field("dueDate"), "must not be in the past"));
    }
    errors
}

fn check_owner(owner: &ActionOwner, field: &'static str) -> Vec<FieldError> {
    let mut errors: Vec<FieldError> = check_text(field, &owner.name).into_iter().collect();
    if owner.sub.is_none() && owner.organisation_id.is_none() {
        errors.push(FieldError::new(
            field,
            "name a professional (`sub`) or an organisation (`organisationId`)",
        ));
    }
    errors
}

async fn check_owner_organisation(
    conn: &mut AsyncPgConnection,
    owner: &ActionOwner,
) -> Result<(), AppError> {
    if let Some(id) = owner.organisation_id
        && organisation_queries::find(conn, id).await?.is_none()
    {
        return Err(AppError::invalid_param(
            "owner.organisationId",
            "is not an organisation of the directory",
        ));
    }
    Ok(())
}

async fn insert_action(
    conn: &mut AsyncPgConnection,
    principal: &Principal,
    case: Uuid,
    action: &NewCaseAction,
    decision_step: Option<Uuid>,
) -> Result<queries::Action, AppError> {
    check_owner_organisation(conn, &action.owner).await?;
    Ok(queries::insert_action(
        conn,
        &queries::NewAction {
            id: Uuid::now_v7(),
            case_id: case,
            description: &action.description,
            owner_name: &action.owner.name,
            owner_sub: action.owner.sub.as_deref(),
            owner_organisation_id: action.owner.organisation_id,
            due_date: action.due_date,
            decision_step_id: decision_step,
            created_by_sub: &principal.sub,
        },
    )
    .await?)
}

fn refusal_problem(refusal: &Refusal, decision: Decision) -> AppError {
    let detail = refusal.explain(decision);
    match refusal {
        Refusal::ReportRequired { question, answer } => {
            AppError::new(ProblemKind::ReportRequired, detail)
                .with_extension("question", question.code())
                .with_extension("answer", answer.code())
        }
        Refusal::NotAllowed {
            question,
            answer,
            allowed,
        } => AppError::new(ProblemKind::DecisionNotAllowed, detail)
            .with_extension("question", question.code())
            .with_extension("answer", answer.code())
            .with_extension(
                "allowedDecisions",
                allowed.iter().map(|d| d.code()).collect::<Vec<_>>(),
            ),
        Refusal::WeighingIncomplete { next } => {
            AppError::new(ProblemKind::WeighingIncomplete, detail)
                .with_extension("question", next.code())
        }
    }
}

/// Validates a step against the rules and the case, before anything is written.
async fn check_step(
    conn: &mut AsyncPgConnection,
    file: &CaseFile,
    input: &RecordStep,
) -> Result<(), AppError> {
    let now = Utc::now();
    let today = now.date_naive();
    let step = input.step();

    // A correction names an active record of the same kind and says why.
    let (supersedes, reason) = input.correction();
    match (supersedes, reason) {
        (Some(id), reason) => {
            if reason.is_none_or(|r| r.trim().is_empty()) {
                return Err(AppError::invalid_param(
                    "correctionReason",
                    "say why the earlier record is corrected",
                ));
            }
            if !active_of(file, step).any(|s| s.id == id) {
                return Err(AppError::new(
                    ProblemKind::InvalidCorrection,
                    format!(
                        "`supersedes` must name a {} record of this case that is not yet corrected.",
                        step.code()
                    ),
                ));
            }
        }
        (None, Some(_)) => {
            return Err(AppError::invalid_param(
                "correctionReason",
                "only applies with `supersedes`",
            ));
        }
        (None, None) => {}
    }

    // What the step needs before it (counting the record it may replace as gone).
    let mut before = file.clone();
    before.steps.retain(|s| Some(s.id) != supersedes);
    let progress = progress(&before)?;
    let missing = rules::missing_before(step, &progress);
    if !missing.is_empty() {
        return Err(AppError::new(
            ProblemKind::StepOutOfOrder,
            format!(
                "Record {} first: {} needs it.",
                missing
                    .iter()
                    .map(|s| s.label_en())
                    .collect::<Vec<_>>()
                    .join(" and "),
                step.label_en()
            ),
        )
        .with_extension(
            "missingSteps",
            missing.iter().map(|s| s.code()).collect::<Vec<_>>(),
        ));
    }

    match input {
        RecordStep::SignalsMapped(s) => {
            let found = queries::signals_of_child(conn, file.case.child_id, &s.signal_ids).await?;
            let unknown: Vec<String> = s
                .signal_ids
                .iter()
                .filter(|id| !found.contains(id))
                .map(ToString::to_string)
                .collect();
            if !unknown.is_empty() {
                return Err(AppError::new(
                    ProblemKind::UnknownSignal,
                    "Every signal must be a signal of this child.",
                )
                .with_extension("signalIds", unknown));
            }
        }
        RecordStep::Consultation(c) => {
            let mut errors: Vec<FieldError> = [
                check_text("consultedRole", &c.consulted_role),
                check_text("advice", &c.advice),
            ]
            .into_iter()
            .flatten()
            .collect();
            if c.consulted_at.0 > now + OBSERVED_AT_SKEW {
                errors.push(FieldError::new("consultedAt", "must not be in the future"));
            }
            if !errors.is_empty() {
                return Err(AppError::fields(errors));
            }
        }
        RecordStep::Conversation(c) => {
            let participants = c.participants.clone().unwrap_or(Participants {
                guardian_ids: Vec::new(),
                child: false,
            });
            let mut errors = rules::check_conversation(&Conversation {
                skipped: c.skipped.is_some(),
                explanation: c.skipped.as_ref().map(|s| s.explanation.as_str()),
                participants: participants.guardian_ids.len() + usize::from(participants.child),
                held_at_present: c.held_at.is_some(),
                facts_presented: c.facts_presented.as_deref(),
                reaction: c.reaction.as_deref(),
            });
            if c.held_at.is_some_and(|t| t.0 > now + OBSERVED_AT_SKEW) {
                errors.push(FieldError::new("heldAt", "must not be in the future"));
            }
            if !errors.is_empty() {
                return Err(AppError::fields(errors));
            }
            let guardians: Vec<Uuid> = child_queries::guardians_of(conn, &[file.case.child_id])
                .await?
                .into_iter()
                .map(|g| g.id)
                .collect();
            if participants
                .guardian_ids
                .iter()
                .any(|id| !guardians.contains(id))
            {
                return Err(AppError::invalid_param(
                    "participants.guardianIds",
                    "must be guardians of this child",
                ));
            }
        }
        RecordStep::Weighing(w) => {
            if let Verdict::Incomplete { next } = rules::weigh(&w.answers.answers()) {
                return Err(refusal_problem(
                    &Refusal::WeighingIncomplete { next },
                    Decision::Close,
                ));
            }
        }
        RecordStep::Decision(d) => {
            let answers = progress.latest_weighing.unwrap_or_default();
            rules::check_decision(&answers, d.decision)
                .map_err(|refusal| refusal_problem(&refusal, d.decision))?;
            let mut errors: Vec<FieldError> =
                check_text("rationale", &d.rationale).into_iter().collect();
            for action in &d.actions {
                errors.extend(check_action(action, today, "actions"));
            }
            let open_agreements = file.actions.iter().filter(|a| a.done_at.is_none()).count();
            errors.extend(rules::check_decision_terms(
                d.decision,
                &answers,
                open_agreements + d.actions.len(),
                d.review_date,
                today,
            ));
            if !errors.is_empty() {
                return Err(AppError::fields(errors));
            }
        }
    }
    Ok(())
}

fn step_summary(input: &RecordStep) -> String {
    let step = input.step();
    let mut summary = format!("Meldcode step {} recorded: {}", step.number(), step.code());
    match input {
        RecordStep::Weighing(w) => {
            if let Verdict::Decided {
                report_required, ..
            } = rules::weigh(&w.answers.answers())
            {
                summary.push_str(if report_required {
                    " (report required)"
                } else {
                    " (no report required)"
                });
            }
        }
        RecordStep::Decision(d) => summary.push_str(&format!(" ({})", d.decision.code())),
        _ => {}
    }
    if input.correction().0.is_some() {
        summary.push_str(", correcting an earlier record");
    }
    summary
}

fn case_effects(case: &queries::Case, action: AccessAction) -> Effects {
    Effects::new().access(Access::allowed(action, CASE, case.id).about_child(case.child_id))
}

pub struct CasesApi;

#[OpenApi(tag = "ApiTags::Cases")]
impl CasesApi {
    /// Open a case
    ///
    /// Starts a meldcode path for a child of your organisation, led by the `lead` (regiehouder).
    /// With `signalIds`, step 1 is recorded at once. A child has at most one open case per
    /// organisation: a second answers 409 with the `existingId`. Care coordinators and youth
    /// workers only.
    #[oai(
        path = "/children/:id/cases",
        method = "post",
        operation_id = "openCase"
    )]
    async fn open(
        &self,
        auth: BearerAuth,
        db: Db,
        request: Data<&RequestMeta>,
        /// The child's id.
        id: Path<Uuid>,
        body: JsonBody<OpenCase>,
    ) -> ApiResult<CaseCreatedResponse, Create> {
        let principal = auth.0;
        policy::require(&principal, Action::ManageCases)?;
        let input = body.0;
        let errors: Vec<FieldError> = [
            check_text("lead.sub", &input.lead.sub),
            check_text("lead.name", &input.lead.name),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !errors.is_empty() {
            return Err(AppError::fields(errors).into());
        }
        let actor = Actor {
            principal: &principal,
            request: &request,
        };
        let file = db
            .transaction(async |conn| {
                let child = load_own_child(conn, &principal, id.0).await?;
                let open = queries::list(
                    conn,
                    principal.org_id(),
                    &policy::CaseScope::Organisation,
                    &queries::Filter {
                        status: Some("open"),
                        child: Some(child.id),
                        ..Default::default()
                    },
                    None,
                    1,
                )
                .await?;
                if let Some(existing) = open.first() {
                    return Err(AppError::new(
                        ProblemKind::CaseAlreadyOpen,
                        "This child already has an open case in your organisation.",
                    )
                    .with_extension("existingId", existing.id.to_string()));
                }
                let case = queries::insert(
                    conn,
                    &queries::NewCase {
                        id: Uuid::now_v7(),
                        organisation_id: principal.org_id(),
                        child_id: child.id,
                        lead_sub: &input.lead.sub,
                        lead_name: &input.lead.name,
                        opened_by_sub: &principal.sub,
                        opened_by_name: &principal.name,
                    },
                )
                .await?;
                case_effects(&case, AccessAction::Create)
                    .event(Event::new(
                        EventType::CaseOpened,
                        principal.org_id(),
                        CASE,
                        case.id,
                    ))
                    .timeline(case_entry(
                        &principal,
                        &case,
                        "case.opened",
                        format!("Meldcode case opened, led by {}", case.lead_name),
                    ))
                    .write(conn, actor)
                    .await?;
                let file = queries::load_files(conn, vec![case]).await?.remove(0);
                if input.signal_ids.is_empty() {
                    return Ok(file);
                }
                let step = RecordStep::SignalsMapped(SignalsMappedInput {
                    signal_ids: input.signal_ids.clone(),
                    note: None,
                    supersedes: None,
                    correction_reason: None,
                });
                // The very rule recording step 1 applies: only this child's signals.
                check_step(conn, &file, &step).await?;
                append_step(conn, &principal, actor, file, &step).await
            })
            .await?;
        let rendered = render(&principal, &file)?;
        let tag = etag::of(&rendered);
        Ok(CaseCreatedResponse::Created(
            Json(rendered),
            format!("/v1/cases/{}", file.case.id),
            tag,
        ))
    }

    /// List cases
    ///
    /// Your organisation's cases, in the order they were opened; a teacher sees the cases of
    /// children they recorded signals about. Filter by `status`, `lead` (a `sub`), `childId`, and
    /// `overdueActions=true` for cases with an agreement past its due date. Each case returned is
    /// access-logged.
    #[oai(path = "/cases", method = "get", operation_id = "listCases")]
    #[allow(clippy::too_many_arguments)]
    async fn list(
        &self,
        auth: BearerAuth,
        db: Db,
        request: Data<&RequestMeta>,
        /// Only open or closed cases.
        status: Query<Option<StatusFilter>>,
        /// Only cases led by this professional (`sub`).
        #[oai(validator(min_length = 1, max_length = 200))]
        lead: Query<Option<String>>,
        /// Only cases of this child.
        #[oai(name = "childId")]
        child_id: Query<Option<Uuid>>,
        /// Only cases with agreements past their due date and not done.
        #[oai(name = "overdueActions")]
        overdue_actions: Query<Option<bool>>,
        /// Page size: 1 to 200, default 50.
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<u32>>,
        /// `nextCursor` of the previous page.
        #[oai(validator(max_length = 500))]
        cursor: Query<Option<String>>,
    ) -> ApiResult<ListCasesResponse, ReadMany> {
        let principal = auth.0;
        policy::require(&principal, Action::ReadCases)?;
        let after: Option<Uuid> = decode_cursor(cursor.0.as_deref())?;
        let fetch = paging::fetch_size(limit.0);
        let filter = queries::Filter {
            status: status.0.map(|s| match s {
                StatusFilter::Open => "open",
                StatusFilter::Closed => "closed",
            }),
            lead: lead.0,
            child: child_id.0,
            overdue_on: (overdue_actions.0 == Some(true)).then(|| Utc::now().date_naive()),
        };
        let scope = policy::case_scope(&principal);
        let actor = Actor {
            principal: &principal,
            request: &request,
        };
        let (files, next_cursor) = db
            .transaction(async |conn| {
                let rows =
                    queries::list(conn, principal.org_id(), &scope, &filter, after, fetch).await?;
                let (rows, next_cursor) = paging::paginate(rows, fetch, |c| c.id);
                let files = queries::load_files(conn, rows).await?;
                Effects::new()
                    .accesses(files.iter().map(|f| {
                        Access::allowed(AccessAction::Read, CASE, f.case.id)
                            .about_child(f.case.child_id)
                    }))
                    .write(conn, actor)
                    .await?;
                Ok((files, next_cursor))
            })
            .await?;
        Ok(ListCasesResponse::Ok(Json(CasePage {
            items: files.iter().map(summarise).collect::<Result<_, _>>()?,
            next_cursor,
        })))
    }

    /// Get a case
    ///
    /// The case with every step record (superseded ones included, marked), the agreements, the
    /// lead's history, and what the afwegingskader now requires. Teachers see it without the
    /// weighing's notes and the decision's rationale.
    #[oai(path = "/cases/:id", method = "get", operation_id = "getCase")]
    async fn get(
        &self,
        auth: BearerAuth,
        db: Db,
        request: Data<&RequestMeta>,
        /// The case's id.
        id: Path<Uuid>,
        /// ETag of the copy the client holds.
        #[oai(name = "If-None-Match")]
        if_none_match: Header<Option<String>>,
    ) -> ApiResult<GetCaseResponse, ReadOne> {
        let principal = auth.0;
        policy::require(&principal, Action::ReadCases)?;
        let actor = Actor {
            principal: &principal,
            request: &request,
        };
        let file = db
            .transaction(async |conn| {
                let file = load_file(conn, &principal, id.0, false).await?;
                case_effects(&file.case, AccessAction::Read)
                    .write(conn, actor)
                    .await?;
                Ok(file)
            })
            .await?;
        let rendered = render(&principal, &file)?;
        let tag = etag::of(&rendered);
        if etag::none_match_hits(if_none_match.0.as_deref(), &tag) {
            return Ok(GetCaseResponse::NotModified(tag));
        }
        Ok(GetCaseResponse::Ok(Json(rendered), tag))
    }

    /// Record a step
    ///
    /// Appends a step record, chosen by `step`: `signals_mapped` (1), `consultation` (2),
    /// `conversation` (3, or skipped with a reason), `weighing` (4: the five afwegingsvragen) or
    /// `decision` (5). A weighing needs mapped signals and a consultation (else 422
    /// `step-out-of-order`) and must reach a conclusion (else 422 `weighing-incomplete`). A
    /// decision needs a weighing and must be one it allows: 422 `report-required` names the
    /// question and answer that require a report, 422 `decision-not-allowed` the decisions that
    /// are allowed. Records are never changed: to correct one, send a new record with
    /// `supersedes` and `correctionReason`.
    #[oai(
        path = "/cases/:id/steps",
        method = "post",
        operation_id = "recordCaseStep"
    )]
    async fn record_step(
        &self,
        auth: BearerAuth,
        db: Db,
        request: Data<&RequestMeta>,
        /// The case's id.
        id: Path<Uuid>,
        /// ETag of the case the step is based on.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
        body: JsonBody<RecordStep>,
    ) -> ApiResult<CaseCreatedResponse, Change> {
        let principal = auth.0;
        policy::require(&principal, Action::ManageCases)?;
        let input = body.0;
        let actor = Actor {
            principal: &principal,
            request: &request,
        };
        let file = db
            .transaction(async |conn| {
                let file = load_file(conn, &principal, id.0, true).await?;
                etag::check_if_match(
                    if_match.0.as_deref(),
                    &etag::of(&render(&principal, &file)?),
                )?;
                require_open(&file)?;
                check_step(conn, &file, &input).await?;
                append_step(conn, &principal, actor, file, &input).await
            })
            .await?;
        let rendered = render(&principal, &file)?;
        let tag = etag::of(&rendered);
        Ok(CaseCreatedResponse::Created(
            Json(rendered),
            format!("/v1/cases/{}", file.case.id),
            tag,
        ))
    }

    /// Hand over the lead
    ///
    /// Makes someone else the lead (regiehouder). The change, who made it and why, is kept in
    /// `leadHistory`, access-logged and on the child's timeline.
    #[oai(
        path = "/cases/:id/lead",
        method = "put",
        operation_id = "changeCaseLead"
    )]
    async fn change_lead(
        &self,
        auth: BearerAuth,
        db: Db,
        request: Data<&RequestMeta>,
        /// The case's id.
        id: Path<Uuid>,
        /// ETag of the case the change is based on.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
        body: JsonBody<ChangeLead>,
    ) -> ApiResult<CaseResponse, Change> {
        let principal = auth.0;
        policy::require(&principal, Action::ManageCases)?;
        let input = body.0;
        let errors: Vec<FieldError> = [
            check_text("sub", &input.sub),
            check_text("name", &input.name),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !errors.is_empty() {
            return Err(AppError::fields(errors).into());
        }
        let actor = Actor {
            principal: &principal,
            request: &request,
        };
        let file = db
            .transaction(async |conn| {
                let file = load_file(conn, &principal, id.0, true).await?;
                etag::check_if_match(
                    if_match.0.as_deref(),
                    &etag::of(&render(&principal, &file)?),
                )?;
                require_open(&file)?;
                if file.case.lead_sub == input.sub && file.case.lead_name == input.name {
                    return Ok(file);
                }
                let case = queries::change_lead(
                    conn,
                    &file.case,
                    &input.sub,
                    &input.name,
                    input.reason.as_deref(),
                    &principal.sub,
                )
                .await?;
                case_effects(&case, AccessAction::Update)
                    .event(Event::new(
                        EventType::CaseLeadChanged,
                        principal.org_id(),
                        CASE,
                        case.id,
                    ))
                    .timeline(case_entry(
                        &principal,
                        &case,
                        "case.lead_changed",
                        format!(
                            "Lead handed from {} to {}",
                            file.case.lead_name, case.lead_name
                        ),
                    ))
                    .write(conn, actor)
                    .await?;
                Ok(queries::load_files(conn, vec![case]).await?.remove(0))
            })
            .await?;
        let rendered = render(&principal, &file)?;
        let tag = etag::of(&rendered);
        Ok(CaseResponse::Ok(Json(rendered), tag))
    }

    /// Agree an action
    ///
    /// Adds an agreement (afspraak) to the case: what, who (a professional or an organisation),
    /// and by when. `GET /cases?overdueActions=true` finds cases whose agreements are overdue.
    #[oai(
        path = "/cases/:id/actions",
        method = "post",
        operation_id = "createCaseAction"
    )]
    async fn create_action(
        &self,
        auth: BearerAuth,
        db: Db,
        request: Data<&RequestMeta>,
        /// The case's id.
        id: Path<Uuid>,
        body: JsonBody<NewCaseAction>,
    ) -> ApiResult<ActionCreatedResponse, Create> {
        let principal = auth.0;
        policy::require(&principal, Action::ManageCases)?;
        let input = body.0;
        let today = Utc::now().date_naive();
        let errors = check_action(&input, today, "");
        if !errors.is_empty() {
            return Err(AppError::fields(errors).into());
        }
        let actor = Actor {
            principal: &principal,
            request: &request,
        };
        let (case, action) = db
            .transaction(async |conn| {
                let file = load_file(conn, &principal, id.0, true).await?;
                require_open(&file)?;
                let action = insert_action(conn, &principal, file.case.id, &input, None).await?;
                action_effects(&principal, &file.case, &action, AccessAction::Create)
                    .write(conn, actor)
                    .await?;
                Ok((file.case, action))
            })
            .await?;
        let rendered = render_action(&action, today);
        let tag = etag::of(&rendered);
        Ok(ActionCreatedResponse::Created(
            Json(rendered),
            format!("/v1/cases/{}/actions/{}", case.id, action.id),
            tag,
        ))
    }

    /// Change an action
    ///
    /// Changes an agreement, or marks it done with `doneAt` (`null` reopens it). Send `If-Match`
    /// with the agreement's ETag to refuse the change when someone else changed it meanwhile.
    #[oai(
        path = "/cases/:id/actions/:actionId",
        method = "patch",
        operation_id = "updateCaseAction"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn update_action(
        &self,
        auth: BearerAuth,
        db: Db,
        request: Data<&RequestMeta>,
        /// The case's id.
        id: Path<Uuid>,
        /// The agreement's id.
        #[oai(name = "actionId")]
        action_id: Path<Uuid>,
        /// ETag of the agreement the change is based on.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
        body: JsonBody<UpdateCaseAction>,
    ) -> ApiResult<ActionResponse, Change> {
        let principal = auth.0;
        policy::require(&principal, Action::ManageCases)?;
        let input = body.0;
        let today = Utc::now().date_naive();
        let mut errors: Vec<FieldError> = input
            .description
            .as_deref()
            .and_then(|d| check_text("description", d))
            .into_iter()
            .collect();
        if let Some(owner) = &input.owner {
            errors.extend(check_owner(owner, "owner"));
        }
        if let MaybeUndefined::Value(done_at) = input.done_at
            && done_at.0 > Utc::now() + OBSERVED_AT_SKEW
        {
            errors.push(FieldError::new("doneAt", "must not be in the future"));
        }
        if !errors.is_empty() {
            return Err(AppError::fields(errors).into());
        }
        let actor = Actor {
            principal: &principal,
            request: &request,
        };
        let action = db
            .transaction(async |conn| {
                let file = load_file(conn, &principal, id.0, true).await?;
                let current = file
                    .actions
                    .iter()
                    .find(|a| a.id == action_id.0)
                    .ok_or_else(AppError::not_found)?;
                etag::check_if_match(
                    if_match.0.as_deref(),
                    &etag::of(&render_action(current, today)),
                )?;
                require_open(&file)?;
                if let Some(owner) = &input.owner {
                    check_owner_organisation(conn, owner).await?;
                }
                let changes = queries::ActionChanges {
                    description: input.description.clone(),
                    owner_name: input.owner.as_ref().map(|o| o.name.clone()),
                    owner_sub: input.owner.as_ref().map(|o| o.sub.clone()),
                    owner_organisation_id: input.owner.as_ref().map(|o| o.organisation_id),
                    due_date: input.due_date,
                    done_at: match input.done_at {
                        MaybeUndefined::Undefined => None,
                        MaybeUndefined::Null => Some(None),
                        MaybeUndefined::Value(t) => Some(Some(t.0)),
                    },
                };
                let action = queries::update_action(conn, current.id, &changes).await?;
                action_effects(&principal, &file.case, &action, AccessAction::Update)
                    .write(conn, actor)
                    .await?;
                Ok(action)
            })
            .await?;
        let rendered = render_action(&action, today);
        let tag = etag::of(&rendered);
        Ok(ActionResponse::Ok(Json(rendered), tag))
    }

    /// Close a case
    ///
    /// Closes the case when the decision in force allows it: after `close` or `organise_help`
    /// at once; after `report` only once the report was sent to Veilig Thuis (else 422
    /// `report-not-sent`). Without a decision, 422 `decision-required`.
    #[oai(
        path = "/cases/:id/closure",
        method = "post",
        operation_id = "closeCase"
    )]
    async fn close(
        &self,
        auth: BearerAuth,
        db: Db,
        request: Data<&RequestMeta>,
        /// The case's id.
        id: Path<Uuid>,
        /// ETag of the case the closure is based on.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
        body: OptionalJsonBody<CloseCase>,
    ) -> ApiResult<CaseResponse, Change> {
        let principal = auth.0;
        policy::require(&principal, Action::ManageCases)?;
        let input = body.into_inner().unwrap_or_default();
        let actor = Actor {
            principal: &principal,
            request: &request,
        };
        let file = db
            .transaction(async |conn| {
                let file = load_file(conn, &principal, id.0, true).await?;
                etag::check_if_match(if_match.0.as_deref(), &etag::of(&render(&principal, &file)?))?;
                require_open(&file)?;
                let decision = decision_in_force(&file)?;
                let report_sent = file
                    .report
                    .as_ref()
                    .is_some_and(|r| r.status != crate::domain::handoff::HandoffStatus::Withdrawn);
                rules::check_closure(decision, report_sent).map_err(|refusal| match refusal {
                    ClosureRefusal::NoDecision => AppError::new(ProblemKind::DecisionRequired, "Record the decision (step 5) before closing the case.",
                    ),
                    ClosureRefusal::ReportNotSent => AppError::new(ProblemKind::ReportNotSent, "The decision is to report to Veilig Thuis: send the report before closing the case.",
                    ),
                })?;
                let case = queries::close(
                    conn,
                    file.case.id,
                    &principal.sub,
                    &principal.name,
                    input.note.as_deref(),
                )
                .await?;
                case_effects(&case, AccessAction::Update)
                    .event(Event::new(EventType::CaseClosed, principal.org_id(), CASE, case.id))
                    .timeline(case_entry(
                        &principal,
                        &case,
                        "case.closed",
                        format!(
                            "Meldcode case closed ({})",
                            decision.map(|d| d.code()).unwrap_or_default()
                        ),
                    ))
                    .write(conn, actor)
                    .await?;
                Ok(queries::load_files(conn, vec![case]).await?.remove(0))
            })
            .await?;
        let rendered = render(&principal, &file)?;
        let tag = etag::of(&rendered);
        Ok(CaseResponse::Ok(Json(rendered), tag))
    }
}

fn action_effects(
    principal: &Principal,
    case: &queries::Case,
    action: &queries::Action,
    access: AccessAction,
) -> Effects {
    let (event, entry_type, verb) = match access {
        AccessAction::Create => (EventType::CaseActionAdded, "case.action_added", "agreed"),
        _ => (
            EventType::CaseActionUpdated,
            "case.action_updated",
            "updated",
        ),
    };
    Effects::new()
        .access(Access::allowed(access, CASE_ACTION, action.id).about_child(case.child_id))
        .event(Event::new(event, principal.org_id(), CASE, case.id))
        .timeline(case_entry(
            principal,
            case,
            entry_type,
            format!(
                "Agreement {verb}: {} by {}{}",
                action.owner_name,
                action.due_date,
                if action.done_at.is_some() {
                    " (done)"
                } else {
                    ""
                }
            ),
        ))
}

/// Writes a validated step, with its agreements, access-log entry, event and timeline entry.
async fn append_step(
    conn: &mut AsyncPgConnection,
    principal: &Principal,
    actor: Actor<'_>,
    file: CaseFile,
    input: &RecordStep,
) -> Result<CaseFile, AppError> {
    let (supersedes, reason) = input.correction();
    let step = queries::insert_step(
        conn,
        &queries::NewStep {
            id: Uuid::now_v7(),
            case_id: file.case.id,
            kind: input.step(),
            details: input.details(),
            supersedes,
            correction_reason: reason,
            recorded_by_sub: &principal.sub,
            recorded_by_name: &principal.name,
        },
    )
    .await?;
    let mut effects = Effects::new()
        .access(
            Access::allowed(AccessAction::Create, CASE_STEP, step.id)
                .about_child(file.case.child_id),
        )
        .event(Event::new(
            EventType::CaseStepRecorded,
            principal.org_id(),
            CASE,
            file.case.id,
        ))
        .timeline(case_entry(
            principal,
            &file.case,
            "case.step_recorded",
            step_summary(input),
        ));
    if let RecordStep::Decision(decision) = input {
        for action in &decision.actions {
            let row = insert_action(conn, principal, file.case.id, action, Some(step.id)).await?;
            effects = effects.access(
                Access::allowed(AccessAction::Create, CASE_ACTION, row.id)
                    .about_child(file.case.child_id),
            );
        }
    }
    effects.write(conn, actor).await?;
    let case = queries::touch(conn, file.case.id).await?;
    Ok(queries::load_files(conn, vec![case]).await?.remove(0))
}
