//! The data lifecycle the law requires (DESIGN.md §5): how long each record class is kept
//! (`retention`), who may ask for destruction and how it is decided (`destruction`), and what
//! a purge leaves behind (`tombstone`). Pure rules, table-tested.

use diesel::{deserialize::FromSqlRow, expression::AsExpression, sql_types::Text};
use poem_openapi::Enum;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::labelled;

mod destruction;
mod retention;
mod tombstone;
mod withholding;

pub use destruction::{
    DecisionContext, DestructionDecision, ExtensionContext, GrantPlan, Guardian as RequestGuardian,
    Hearing, RequestContext, RequestPlan, Requester, deadline, decide_decision, decide_extension,
    decide_request, guardians_to_hear, request_overdue,
};
pub use retention::{
    Anchor, ChildFacts, Hold, PurgeVerdict, RetentionPolicy, RetentionRule, decide_hold,
    decide_purge, retention_rule,
};
pub use tombstone::{
    OtherSide, PURGED, handoff_content_goes, purged_date_of_birth, purged_external_ref,
    purged_snapshot, purged_step_details,
};
pub use withholding::{
    WITHHELD, WithheldReason, contact_withheld, reporter_withheld, source_withheld,
};

/// The classes of record the retention rules speak of.
#[derive(Enum, Deserialize, Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum RecordClass {
    /// The child record and its guardians.
    Child,
    Signals,
    /// Meldcode cases with their steps and agreements.
    Cases,
    /// Handoffs the organisation sent or received about the child.
    Handoffs,
    Consents,
    /// Feedback the organisation sent or received about the child.
    Feedback,
}

labelled!(RecordClass {
    Child => ("child", "Kind en gezagsdragers", "Child and guardians", "The child record and its guardians."),
    Signals => ("signals", "Signalen", "Signals", "Signals with their revisions."),
    Cases => ("cases", "Meldcodetrajecten", "Cases", "Meldcode cases with every step, agreement and closure."),
    Handoffs => ("handoffs", "Overdrachten", "Handoffs", "Handoffs sent or received about the child, with their snapshots."),
    Consents => ("consents", "Toestemmingen", "Consents", "Consents with their decisions."),
    Feedback => ("feedback", "Terugkoppeling", "Feedback", "Feedback sent or received about the child."),
});

/// A record a destruction request names.
#[derive(
    Enum, Deserialize, Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum RecordType {
    Signal,
    Case,
    Handoff,
    Consent,
    Feedback,
}

labelled!(RecordType {
    Signal => ("signal", "Signaal", "Signal", "A signal with its revisions."),
    Case => ("case", "Meldcodetraject", "Case", "A meldcode case with its steps and agreements."),
    Handoff => ("handoff", "Overdracht", "Handoff", "A handoff with its snapshot and history."),
    Consent => ("consent", "Toestemming", "Consent", "A consent with its decisions."),
    Feedback => ("feedback", "Terugkoppeling", "Feedback", "A feedback item."),
});

/// One named record.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecordRef {
    #[serde(rename = "type")]
    pub record_type: RecordType,
    pub id: Uuid,
}

/// Who asks for destruction.
#[derive(
    Enum, Deserialize, Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow,
)]
#[diesel(sql_type = Text)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum RequesterKind {
    Guardian,
    Child,
}

labelled!(RequesterKind {
    Guardian => ("guardian", "Gezagsdrager", "Guardian", "A guardian of the child, named by id."),
    Child => ("child", "Kind of jongere", "Child", "The child or young person."),
});

/// What a destruction request asks for.
#[derive(
    Enum, Deserialize, Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow,
)]
#[diesel(sql_type = Text)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum DestructionScope {
    /// Everything the organisation holds about the child.
    Everything,
    /// The records named in `records`.
    Records,
}

labelled!(DestructionScope {
    Everything => ("everything", "Alles", "Everything", "Everything the organisation holds about the child."),
    Records => ("records", "Genoemde gegevens", "Named records", "Only the records named in the request."),
});

/// Where a destruction request stands.
#[derive(
    Enum, Deserialize, Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow,
)]
#[diesel(sql_type = Text)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum DestructionStatus {
    Received,
    Granted,
    PartiallyGranted,
    Refused,
}

labelled!(DestructionStatus {
    Received => ("received", "Ontvangen", "Received", "Waiting for the privacy officer's decision."),
    Granted => ("granted", "Toegewezen", "Granted", "Granted in full and carried out."),
    PartiallyGranted => ("partially_granted", "Deels toegewezen", "Partially granted",
        "Granted for part of what was asked, and that part carried out."),
    Refused => ("refused", "Afgewezen", "Refused", "Refused, with a written weighing."),
});

/// The only grounds a destruction request may be refused on.
#[derive(
    Enum, Deserialize, Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow,
)]
#[diesel(sql_type = Text)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum RefusalGround {
    /// Keeping the data is of substantial interest to someone other than the requester (e.g.
    /// the child's safety when a parent asks).
    ThirdPartyInterest,
    /// A statutory duty to keep the data; name it in `legalDuty`.
    LegalDuty,
}

labelled!(RefusalGround {
    ThirdPartyInterest => ("third_party_interest", "Aanmerkelijk belang van een ander",
        "Substantial interest of another",
        "Keeping the data is of substantial interest to someone other than the requester (Jeugdwet art. 7.3.9 lid 3)."),
    LegalDuty => ("legal_duty", "Wettelijke bewaarplicht", "Legal duty to keep",
        "A statutory provision requires keeping the data; name it."),
});

/// The decision on a destruction request.
#[derive(Enum, Deserialize, Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum DestructionOutcome {
    Granted,
    Refused,
}

labelled!(DestructionOutcome {
    Granted => ("granted", "Toewijzen", "Grant", "Destroy all that was asked, or the records named in `records`."),
    Refused => ("refused", "Afwijzen", "Refuse", "Refuse, on a ground the law allows, with a written weighing."),
});

/// Whether the other guardian(s) with parental authority were heard.
#[derive(
    Enum, Deserialize, Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow,
)]
#[diesel(sql_type = Text)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum HearingOutcome {
    /// They were heard; the note says when and what they said.
    Heard,
    /// They were not; the note says why (unreachable, it would endanger the child, …).
    NotHeard,
}

labelled!(HearingOutcome {
    Heard => ("heard", "Gehoord", "Heard", "The other guardian(s) with parental authority were heard."),
    NotHeard => ("not_heard", "Niet gehoord", "Not heard", "They were not heard; the note says why."),
});
