//! Four-eyes decisions (vier-ogenprincipe): where the organisation asks for it, the meldcode
//! decision (step 5) and a case closure are proposals until a second professional approves
//! them. A rejected proposal stays in the record and has no effect.

use diesel::{deserialize::FromSqlRow, expression::AsExpression, sql_types::Text};
use poem_openapi::Enum;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    domain::{check_text, refusal::Refusal},
    labelled,
};

/// What a proposal would do.
#[derive(
    Enum, Deserialize, Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow,
)]
#[diesel(sql_type = Text)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum ProposalSubject {
    /// The decision of meldcode step 5.
    Decision,
    /// Closing the case.
    Closure,
}

labelled!(ProposalSubject {
    Decision => ("decision", "Besluit (stap 5)", "Decision (step 5)",
        "The meldcode decision; in force once approved."),
    Closure => ("closure", "Afsluiting", "Closure", "Closing the case; closed once approved."),
});

/// The second professional's verdict.
#[derive(
    Enum, Deserialize, Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow,
)]
#[diesel(sql_type = Text)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum ApprovalVerdict {
    Approved,
    Rejected,
}

labelled!(ApprovalVerdict {
    Approved => ("approved", "Goedgekeurd", "Approved", "The proposal takes effect."),
    Rejected => ("rejected", "Afgewezen", "Rejected",
        "The proposal has no effect; it stays in the record with the comment."),
});

/// A proposal as recorded, with its verdict once given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    pub id: Uuid,
    pub subject: ProposalSubject,
    /// For a decision: the step-5 record it proposes.
    pub step_id: Option<Uuid>,
    pub closure_note: Option<String>,
    pub proposed_by_sub: String,
    pub verdict: Option<ApprovalVerdict>,
}

/// The proposal awaiting a verdict, if any (at most one at a time).
pub fn pending(proposals: &[Proposal]) -> Option<&Proposal> {
    proposals.iter().find(|p| p.verdict.is_none())
}

/// Step-5 records that are not in force: proposed and not (yet) approved.
pub fn unapproved_decisions(proposals: &[Proposal]) -> Vec<Uuid> {
    proposals
        .iter()
        .filter(|p| p.verdict != Some(ApprovalVerdict::Approved))
        .filter_map(|p| p.step_id)
        .collect()
}

/// Nothing new is decided or closed while a proposal waits for its verdict.
pub fn require_no_pending(proposals: &[Proposal]) -> Result<(), Refusal> {
    match pending(proposals) {
        Some(p) => Err(Refusal::ApprovalPending { subject: p.subject }),
        None => Ok(()),
    }
}

/// What a verdict writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalPlan {
    pub proposal_id: Uuid,
    pub subject: ProposalSubject,
    pub verdict: ApprovalVerdict,
    /// An approved closure closes the case, with the proposal's note.
    pub closes: bool,
    pub closure_note: Option<String>,
}

/// A verdict on the pending proposal of an open case, by someone other than its proposer; a
/// rejection says why.
pub fn decide_approval(
    proposals: &[Proposal],
    approver_sub: &str,
    verdict: ApprovalVerdict,
    comment: Option<&str>,
    open: bool,
) -> Result<ApprovalPlan, Refusal> {
    if let Some(error) = comment.and_then(|c| check_text("comment", c)) {
        return Err(Refusal::Invalid(vec![error]));
    }
    if verdict == ApprovalVerdict::Rejected && comment.is_none() {
        return Err(Refusal::field(
            "comment",
            "say why the proposal is rejected",
        ));
    }
    if !open {
        return Err(Refusal::CaseClosed);
    }
    let proposal = pending(proposals).ok_or(Refusal::NothingToApprove)?;
    if proposal.proposed_by_sub == approver_sub {
        return Err(Refusal::OwnProposal);
    }
    Ok(ApprovalPlan {
        proposal_id: proposal.id,
        subject: proposal.subject,
        verdict,
        closes: proposal.subject == ProposalSubject::Closure
            && verdict == ApprovalVerdict::Approved,
        closure_note: proposal.closure_note.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proposal(id: u128, subject: ProposalSubject, verdict: Option<ApprovalVerdict>) -> Proposal {
        Proposal {
            id: Uuid::from_u128(id),
            subject,
            step_id: (subject == ProposalSubject::Decision).then(|| Uuid::from_u128(100 + id)),
            closure_note: (subject == ProposalSubject::Closure).then(|| "Hulp loopt.".to_owned()),
            proposed_by_sub: "ib-fatima".into(),
            verdict,
        }
    }

    /// Subject × verdict × who gives it × comment.
    #[test]
    fn a_second_professional_approves_or_rejects_with_a_reason() {
        use ApprovalVerdict::*;
        use ProposalSubject::*;
        for subject in [Decision, Closure] {
            let proposals = [proposal(1, subject, None)];
            for verdict in [Approved, Rejected] {
                for (approver, comment) in [
                    ("ib-jan", Some("Eens.")),
                    ("ib-jan", None),
                    ("ib-fatima", Some("Eens.")),
                ] {
                    let decided = decide_approval(&proposals, approver, verdict, comment, true);
                    let why = format!("{subject:?} {verdict:?} by {approver} {comment:?}");
                    if verdict == Rejected && comment.is_none() {
                        assert!(matches!(decided, Err(Refusal::Invalid(_))), "{why}");
                    } else if approver == "ib-fatima" {
                        assert_eq!(decided, Err(Refusal::OwnProposal), "{why}");
                    } else {
                        let plan = decided.expect(&why);
                        assert_eq!(plan.proposal_id, Uuid::from_u128(1));
                        assert_eq!(plan.closes, subject == Closure && verdict == Approved);
                    }
                }
            }
        }
    }

    #[test]
    fn only_a_pending_proposal_of_an_open_case() {
        use ApprovalVerdict::*;
        use ProposalSubject::*;
        let decided = [
            proposal(1, Decision, Some(Rejected)),
            proposal(2, Decision, Some(Approved)),
        ];
        assert_eq!(
            decide_approval(&decided, "ib-jan", Approved, None, true),
            Err(Refusal::NothingToApprove)
        );
        let waiting = [
            proposal(1, Decision, Some(Rejected)),
            proposal(2, Closure, None),
        ];
        assert_eq!(
            decide_approval(&waiting, "ib-jan", Approved, None, false),
            Err(Refusal::CaseClosed)
        );
        assert_eq!(
            require_no_pending(&waiting),
            Err(Refusal::ApprovalPending { subject: Closure })
        );
        assert_eq!(require_no_pending(&decided), Ok(()));
        // Only approved decisions are in force.
        let mixed = [
            proposal(1, Decision, Some(Rejected)),
            proposal(2, Decision, Some(Approved)),
            proposal(3, Decision, None),
            proposal(4, Closure, None),
        ];
        assert_eq!(
            unapproved_decisions(&mixed),
            [Uuid::from_u128(101), Uuid::from_u128(103)]
        );
    }
}
