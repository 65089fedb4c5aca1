//! The snapshot: exactly what crossed with a handoff — the child, its guardians and the signals
//! as the sender knew them when sending. Stored as JSON in this shape; the API renders it with
//! types of its own, so renaming a request or response property never breaks reading old rows.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{
    child::{AuthoritySource, ParentalAuthority, Relationship},
    meldcode::Decision,
    signal::{SignalCategory, SignalDirection, SignalSource},
};

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    /// Absent in an anonymous advice request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub child: Option<ChildSnapshot>,
    #[serde(default)]
    pub guardians: Vec<GuardianSnapshot>,
    #[serde(default)]
    pub signals: Vec<SignalSnapshot>,
    /// A transfer request: the child's pupil number at the previous school.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pupil_number: Option<String>,
    /// A school transfer: the case summary the previous school selected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_summary: Option<String>,
    /// A school transfer from a case: whether it is still open and who leads it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case: Option<CaseSnapshot>,
}

/// The sender's meldcode case as it stood when sent.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CaseSnapshot {
    pub open: bool,
    /// Who leads it (regiehouder).
    pub lead_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ChildSnapshot {
    /// The sender's pupil or client number.
    pub sender_ref: String,
    pub given_name: String,
    pub family_name: String,
    pub date_of_birth: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bsn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub school_group: Option<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct GuardianSnapshot {
    pub name: String,
    pub relationship: Relationship,
    pub parental_authority: ParentalAuthority,
    pub authority_source: AuthoritySource,
    #[serde(default)]
    pub contact: ContactSnapshot,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ContactSnapshot {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// A signal as it stood when sent (its current revision).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SignalSnapshot {
    pub observed_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    /// The role it was recorded in, e.g. `teacher`.
    pub recorded_by_role: String,
    pub category: SignalCategory,
    pub source: SignalSource,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_description: Option<String>,
    pub facts: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interpretation: Option<String>,
    pub direction: SignalDirection,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A row written by the first release (when the snapshot was the API's own types) still
    /// reads, and writes back in the same shape.
    #[test]
    fn snapshots_stored_by_earlier_releases_still_read() {
        let stored = serde_json::json!({
            "child": {
                "senderRef": "LL-20431",
                "givenName": "Noah",
                "familyName": "de Boer",
                "dateOfBirth": "2013-04-02",
                "schoolGroup": "groep 8a"
            },
            "guardians": [{
                "name": "Sarah de Boer",
                "relationship": "mother",
                "parentalAuthority": "yes",
                "authoritySource": "gezagsregister",
                "contact": {"phone": "+31612345678"}
            }],
            "signals": [{
                "observedAt": "2026-11-20T08:30:00Z",
                "recordedAt": "2026-11-20T09:00:00.123Z",
                "recordedByRole": "teacher",
                "category": "physical_injury",
                "source": "own_observation",
                "facts": "Blauwe plek op de bovenarm.",
                "direction": "raises_concern"
            }]
        });
        let snapshot: Snapshot = serde_json::from_value(stored.clone()).expect("reads");
        let child = snapshot.child.as_ref().expect("a child");
        assert_eq!(child.sender_ref, "LL-20431");
        assert_eq!(child.bsn, None);
        assert_eq!(snapshot.guardians[0].relationship, Relationship::Mother);
        assert_eq!(
            snapshot.guardians[0].contact.phone.as_deref(),
            Some("+31612345678")
        );
        assert_eq!(snapshot.signals[0].category, SignalCategory::PhysicalInjury);
        let written = serde_json::to_value(&snapshot).expect("writes");
        assert_eq!(written["child"], stored["child"]);
        assert_eq!(written["guardians"], stored["guardians"]);
        assert_eq!(
            serde_json::from_value::<Snapshot>(written).expect("reads back"),
            snapshot
        );
        assert_eq!(
            serde_json::from_value::<Snapshot>(serde_json::json!({})).expect("anonymous"),
            Snapshot::default()
        );
    }
}
