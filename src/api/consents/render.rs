//! A consent as its organisation sees it: status, whose consent counts, what blocks it.

use diesel_async::AsyncPgConnection;

use super::dto::{Blocker, Consent, ConsentDecisionRecord, PartyKind, PartyRef, Withdrawal};
use crate::{
    api::{organisations::OrganisationSummary, shared::Professional},
    db::{
        children as child_queries,
        consents::{ConsentRecord, judge, party_of_code},
        organisations as organisation_queries,
    },
    domain::consent::{PartiesBlocked, Party},
    error::AppError,
};

pub async fn render(
    conn: &mut AsyncPgConnection,
    record: &ConsentRecord,
    child: &child_queries::Child,
    guardians: &[child_queries::Guardian],
) -> Result<Consent, AppError> {
    let judged = judge(record, child.date_of_birth, guardians);
    let recipient = organisation_queries::find(conn, record.consent.recipient_organisation_id)
        .await?
        .ok_or_else(|| AppError::internal("recipient organisation vanished"))?;
    let c = &record.consent;
    Ok(Consent {
        id: c.id,
        child_id: c.child_id,
        purpose: c.purpose,
        recipient: OrganisationSummary {
            id: recipient.id,
            kind: recipient.kind,
            name: recipient.name,
        },
        scope: c.scope(),
        handoff_id: c.handoff_id,
        valid_until: c.valid_until,
        status: judged.status,
        required_parties: judged
            .required
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(|p| party_ref(p, child, guardians))
            .collect(),
        blockers: blockers(&judged.required),
        decisions: record
            .decisions
            .iter()
            .map(|d| ConsentDecisionRecord {
                party: party_ref(d.party(), child, guardians),
                decision: d.decision,
                method: d.method,
                decided_at: d.decided_at.into(),
                recorded_by: Professional {
                    sub: d.recorded_by_sub.clone(),
                    name: d.recorded_by_name.clone(),
                },
                recorded_at: d.recorded_at.into(),
            })
            .collect(),
        withdrawal: c.withdrawn_at.map(|at| Withdrawal {
            withdrawn_at: at.into(),
            party: c
                .withdrawn_by_party
                .as_deref()
                .and_then(party_of_code)
                .map(|p| party_ref(p, child, guardians))
                .unwrap_or(PartyRef {
                    kind: PartyKind::Child,
                    guardian_id: None,
                    name: String::new(),
                }),
            reason: c.withdrawal_reason.clone(),
            recorded_by: c.withdrawal_recorded_by_sub.clone().unwrap_or_default(),
        }),
        created_at: c.created_at.into(),
        created_by: Professional {
            sub: c.created_by_sub.clone(),
            name: c.created_by_name.clone(),
        },
    })
}

fn party_ref(
    party: Party,
    child: &child_queries::Child,
    guardians: &[child_queries::Guardian],
) -> PartyRef {
    match party {
        Party::Child => PartyRef {
            kind: PartyKind::Child,
            guardian_id: None,
            name: format!("{} {}", child.given_name, child.family_name),
        },
        Party::Guardian(id) => PartyRef {
            kind: PartyKind::Guardian,
            guardian_id: Some(id),
            name: guardians
                .iter()
                .find(|g| g.id == id)
                .map(|g| g.name.clone())
                .unwrap_or_default(),
        },
    }
}

fn blockers(required: &Result<Vec<Party>, PartiesBlocked>) -> Vec<Blocker> {
    match required {
        Ok(_) => Vec::new(),
        Err(PartiesBlocked::AuthorityUnknown(ids)) => ids
            .iter()
            .map(|id| Blocker {
                guardian_id: Some(*id),
                reason: "Parental authority is unknown: verify it in the gezagsregister and record it on the guardian."
                    .into(),
            })
            .collect(),
        Err(PartiesBlocked::NoGuardianWithAuthority) => vec![Blocker {
            guardian_id: None,
            reason: "No guardian with parental authority is registered: add the guardian(s) with authority."
                .into(),
        }],
    }
}
