//! A case's step records as stored: domain types, not request types, so renaming a request
//! field cannot make stored cases unreadable. The JSON shape is the one wave 1 wrote; a test
//! reads rows in that shape.

use chrono::{DateTime, NaiveDate, Utc};
use poem_openapi::Enum;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::Value;
use uuid::Uuid;

use super::{Answer, Answers, Decision, SkipReason, Step};

/// Step 1: the signals the case rests on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignalsMapped {
    pub signal_ids: Vec<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
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

/// Step 2: a consultation (collegiale consultatie).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Consultation {
    pub kind: ConsultationKind,
    pub consulted_role: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consulted_organisation: Option<String>,
    pub consulted_at: DateTime<Utc>,
    pub advice: String,
}

/// Who took part in a conversation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Participants {
    #[serde(default)]
    pub guardian_ids: Vec<Uuid>,
    #[serde(default)]
    pub child: bool,
}

/// Why a conversation did not take place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Skipped {
    pub reason: SkipReason,
    pub explanation: String,
}

/// Step 3: the conversation with parents and/or child (gesprek), or why it was skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Conversation {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participants: Option<Participants>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facts_presented: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reaction: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interpretation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<Skipped>,
}

/// An answer to an afwegingsvraag with its note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeighedAnswer {
    pub answer: Answer,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The five afwegingsvragen as answered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WeighedAnswers {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspicion: Option<WeighedAnswer>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsafety: Option<WeighedAnswer>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help_possible: Option<WeighedAnswer>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help_accepted: Option<WeighedAnswer>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help_effective: Option<WeighedAnswer>,
}

impl WeighedAnswers {
    /// The answers alone, as the afwegingskader weighs them.
    pub fn answers(&self) -> Answers {
        let answer = |a: &Option<WeighedAnswer>| a.as_ref().map(|a| a.answer);
        Answers {
            suspicion: answer(&self.suspicion),
            unsafety: answer(&self.unsafety),
            help_possible: answer(&self.help_possible),
            help_accepted: answer(&self.help_accepted),
            help_effective: answer(&self.help_effective),
        }
    }
}

/// Step 4: the weighing (wegen).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Weighing {
    pub answers: WeighedAnswers,
}

/// Step 5: the decision (beslissen). Its agreements are case actions of their own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DecisionTaken {
    pub decision: Decision,
    pub rationale: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_date: Option<NaiveDate>,
}

/// What a step record holds, by step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepDetails {
    SignalsMapped(SignalsMapped),
    Consultation(Consultation),
    Conversation(Conversation),
    Weighing(Weighing),
    Decision(DecisionTaken),
}

impl StepDetails {
    pub fn step(&self) -> Step {
        match self {
            Self::SignalsMapped(_) => Step::SignalsMapped,
            Self::Consultation(_) => Step::Consultation,
            Self::Conversation(_) => Step::Conversation,
            Self::Weighing(_) => Step::Weighing,
            Self::Decision(_) => Step::Decision,
        }
    }

    /// Reads stored details; the step is stored beside them, in its own column.
    pub fn from_stored(step: Step, details: Value) -> Result<Self, serde_json::Error> {
        fn parse<T: DeserializeOwned>(details: Value) -> Result<T, serde_json::Error> {
            serde_json::from_value(details)
        }
        Ok(match step {
            Step::SignalsMapped => Self::SignalsMapped(parse(details)?),
            Step::Consultation => Self::Consultation(parse(details)?),
            Step::Conversation => Self::Conversation(parse(details)?),
            Step::Weighing => Self::Weighing(parse(details)?),
            Step::Decision => Self::Decision(parse(details)?),
        })
    }

    pub fn to_stored(&self) -> Value {
        let value = match self {
            Self::SignalsMapped(d) => serde_json::to_value(d),
            Self::Consultation(d) => serde_json::to_value(d),
            Self::Conversation(d) => serde_json::to_value(d),
            Self::Weighing(d) => serde_json::to_value(d),
            Self::Decision(d) => serde_json::to_value(d),
        };
        // Plain structs of strings, ids, dates and enums always serialize.
        value.expect("step details serialize")
    }
}

/// A step record of a case: never changed; a correction is a new record that supersedes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepRecord {
    pub id: Uuid,
    pub case_id: Uuid,
    pub details: StepDetails,
    pub supersedes: Option<Uuid>,
    pub correction_reason: Option<String>,
    pub recorded_by_sub: String,
    pub recorded_by_name: String,
    pub recorded_at: DateTime<Utc>,
}

impl StepRecord {
    pub fn kind(&self) -> Step {
        self.details.step()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// Rows as wave 1 wrote them (serialized request types without the correction fields)
    /// read back, and written again in the same shape.
    #[test]
    fn reads_and_writes_the_stored_shape() {
        let guardian = "0192f0c4-0000-7000-8000-000000000001";
        let rows = [
            (
                Step::SignalsMapped,
                json!({"signalIds": [guardian], "note": "Vaak moe."}),
            ),
            (
                Step::Consultation,
                json!({"kind": "veilig_thuis_advice", "consultedRole": "adviseur",
                       "consultedOrganisation": "Veilig Thuis", "consultedAt": "2026-11-20T08:30:00Z",
                       "advice": "Gesprek voeren."}),
            ),
            (
                Step::Conversation,
                json!({"participants": {"guardianIds": [guardian], "child": true},
                       "heldAt": "2026-11-21T09:00:00Z", "factsPresented": "Blauwe plekken.",
                       "reaction": "Geschrokken."}),
            ),
            (
                Step::Conversation,
                json!({"skipped": {"reason": "safety_child", "explanation": "Vader is gewelddadig."}}),
            ),
            (
                Step::Weighing,
                json!({"answers": {"suspicion": {"answer": "yes", "note": "Zorgen."},
                                   "unsafety": {"answer": "yes"}}}),
            ),
            (
                Step::Decision,
                json!({"decision": "organise_help", "rationale": "Hulp via wijkteam.",
                       "reviewDate": "2027-01-15"}),
            ),
        ];
        for (step, stored) in rows {
            let details = StepDetails::from_stored(step, stored.clone())
                .unwrap_or_else(|err| panic!("{step:?}: {err}"));
            assert_eq!(details.step(), step);
            assert_eq!(details.to_stored(), stored, "{step:?}");
        }
        let StepDetails::Weighing(weighing) =
            StepDetails::from_stored(Step::Weighing, rows_weighing()).unwrap()
        else {
            unreachable!()
        };
        assert_eq!(weighing.answers.answers().suspicion, Some(Answer::Yes));
    }

    fn rows_weighing() -> Value {
        json!({"answers": {"suspicion": {"answer": "yes"}}})
    }

    #[test]
    fn details_of_another_step_do_not_read() {
        let consultation = json!({"signalIds": []});
        assert!(StepDetails::from_stored(Step::Consultation, consultation).is_err());
    }
}
