//! What clients send about cases, with the spec's examples, and how each request becomes the
//! domain's.

use chrono::NaiveDate;
use poem_openapi::{
    Object, Union,
    types::{Example, MaybeUndefined},
};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::Value;
use uuid::Uuid;

pub use crate::domain::meldcode::record::ConsultationKind;
use crate::{
    api::types::{Timestamp, example_id, example_time},
    db::cases::ActionChanges,
    domain::meldcode::{
        Agreement, Answer, Decision, Lead, Owner, SkipReason, StepRequest,
        approval::ApprovalVerdict,
        record::{self, StepDetails},
    },
};

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

/// A second professional's verdict on the case's pending proposal (vier-ogenprincipe).
#[derive(Object, Deserialize)]
#[oai(rename_all = "camelCase", deny_unknown_fields, example)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RecordApproval {
    pub verdict: ApprovalVerdict,
    /// Why; required when rejecting.
    #[oai(
        validator(min_length = 1, max_length = 5000),
        skip_serializing_if_is_none
    )]
    pub comment: Option<String>,
}

impl Example for RecordApproval {
    fn example() -> Self {
        Self {
            verdict: ApprovalVerdict::Approved,
            comment: Some("Eens: de weging laat geen ander besluit toe.".into()),
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
    fn to_domain(&self) -> record::WeighedAnswers {
        let answer = |a: &Option<WeighedAnswer>| {
            a.as_ref().map(|a| record::WeighedAnswer {
                answer: a.answer,
                note: a.note.clone(),
            })
        };
        record::WeighedAnswers {
            suspicion: answer(&self.suspicion),
            unsafety: answer(&self.unsafety),
            help_possible: answer(&self.help_possible),
            help_accepted: answer(&self.help_accepted),
            help_effective: answer(&self.help_effective),
        }
    }

    /// The answers as stored; their notes only for those who may see them.
    pub fn from_domain(answers: record::WeighedAnswers, with_notes: bool) -> Self {
        let answer = |a: Option<record::WeighedAnswer>| {
            a.map(|a| WeighedAnswer {
                answer: a.answer,
                note: if with_notes { a.note } else { None },
            })
        };
        Self {
            suspicion: answer(answers.suspicion),
            unsafety: answer(answers.unsafety),
            help_possible: answer(answers.help_possible),
            help_accepted: answer(answers.help_accepted),
            help_effective: answer(answers.help_effective),
        }
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
    /// The step as the domain decides and stores it: without the correction fields (columns of
    /// their own) and with a decision's agreements apart (case actions of their own).
    pub fn as_request(&self) -> StepRequest {
        let (details, supersedes, reason, agreements) = match self {
            Self::SignalsMapped(s) => (
                StepDetails::SignalsMapped(record::SignalsMapped {
                    signal_ids: s.signal_ids.clone(),
                    note: s.note.clone(),
                }),
                s.supersedes,
                &s.correction_reason,
                Vec::new(),
            ),
            Self::Consultation(c) => (
                StepDetails::Consultation(record::Consultation {
                    kind: c.kind,
                    consulted_role: c.consulted_role.clone(),
                    consulted_organisation: c.consulted_organisation.clone(),
                    consulted_at: c.consulted_at.0,
                    advice: c.advice.clone(),
                }),
                c.supersedes,
                &c.correction_reason,
                Vec::new(),
            ),
            Self::Conversation(c) => (
                StepDetails::Conversation(record::Conversation {
                    participants: c.participants.as_ref().map(|p| record::Participants {
                        guardian_ids: p.guardian_ids.clone(),
                        child: p.child,
                    }),
                    held_at: c.held_at.map(|t| t.0),
                    facts_presented: c.facts_presented.clone(),
                    reaction: c.reaction.clone(),
                    interpretation: c.interpretation.clone(),
                    skipped: c.skipped.as_ref().map(|s| record::Skipped {
                        reason: s.reason,
                        explanation: s.explanation.clone(),
                    }),
                }),
                c.supersedes,
                &c.correction_reason,
                Vec::new(),
            ),
            Self::Weighing(w) => (
                StepDetails::Weighing(record::Weighing {
                    answers: w.answers.to_domain(),
                }),
                w.supersedes,
                &w.correction_reason,
                Vec::new(),
            ),
            Self::Decision(d) => (
                StepDetails::Decision(record::DecisionTaken {
                    decision: d.decision,
                    rationale: d.rationale.clone(),
                    review_date: d.review_date,
                }),
                d.supersedes,
                &d.correction_reason,
                d.actions.iter().map(NewCaseAction::as_agreement).collect(),
            ),
        };
        StepRequest {
            details,
            supersedes,
            correction_reason: reason.clone(),
            agreements,
        }
    }
}

impl NewCaseAction {
    pub fn as_agreement(&self) -> Agreement {
        Agreement {
            description: self.description.clone(),
            owner: self.owner.as_owner(),
            due_date: self.due_date,
        }
    }
}

impl ActionOwner {
    pub fn as_owner(&self) -> Owner {
        Owner {
            name: self.name.clone(),
            sub: self.sub.clone(),
            organisation_id: self.organisation_id,
        }
    }
}

impl UpdateCaseAction {
    /// The columns to change; absent properties stay as they are.
    pub fn changes(&self) -> ActionChanges {
        ActionChanges {
            description: self.description.clone(),
            owner_name: self.owner.as_ref().map(|o| o.name.clone()),
            owner_sub: self.owner.as_ref().map(|o| o.sub.clone()),
            owner_organisation_id: self.owner.as_ref().map(|o| o.organisation_id),
            due_date: self.due_date,
            done_at: match self.done_at {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(t) => Some(Some(t.0)),
            },
        }
    }
}

impl ProfessionalInput {
    pub fn as_lead(&self) -> Lead {
        Lead {
            sub: self.sub.clone(),
            name: self.name.clone(),
        }
    }
}
