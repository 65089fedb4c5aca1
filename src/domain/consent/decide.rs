//! The commands on a consent, each decided by one function over what was loaded: ask it,
//! record a party's decision, withdraw it.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::{
    ConsentPurpose, ConsentStatus, GuardianAuthority, PartiesBlocked, Party, check_scope,
    check_validity, default_valid_until, required_parties,
};
use crate::domain::{
    FieldError, child::ParentalAuthority, feedback::FeedbackCategory, refusal::Refusal,
    signal::OBSERVED_AT_SKEW,
};

/// A consent to ask.
pub struct ConsentRequest<'a> {
    pub purpose: ConsentPurpose,
    pub recipient: Uuid,
    pub scope: &'a [FeedbackCategory],
    pub valid_until: Option<NaiveDate>,
    /// The handoff it is asked for, if any.
    pub handoff: Option<Uuid>,
}

/// What asking needs of the directory and the caller's records.
pub struct AskContext {
    /// The organisation that asks (and holds the child's record).
    pub asker: Uuid,
    pub child_known: bool,
    pub recipient_known: bool,
    /// Whether the handoff named is one the asker sent or received.
    pub handoff_known: bool,
    pub today: NaiveDate,
}

/// Field rules (validity at most two years, a feedback consent's scope, another organisation
/// as recipient), then: the asker's own child, a recipient in the directory, the asker's own
/// handoff. The plan is the date it is valid until.
pub fn decide_ask(
    request: &ConsentRequest<'_>,
    context: &AskContext,
) -> Result<NaiveDate, Refusal> {
    let valid_until = request
        .valid_until
        .unwrap_or_else(|| default_valid_until(context.today));
    let mut errors: Vec<FieldError> = check_validity(valid_until, context.today)
        .into_iter()
        .collect();
    errors.extend(check_scope(request.purpose, request.scope));
    if request.recipient == context.asker {
        errors.push(FieldError::new(
            "recipientOrganisation",
            "must be another organisation",
        ));
    }
    Refusal::unless_invalid(errors)?;
    if !context.child_known {
        return Err(Refusal::UnknownChild);
    }
    if !context.recipient_known {
        return Err(Refusal::UnknownRecipient);
    }
    if request.handoff.is_some() && !context.handoff_known {
        return Err(Refusal::UnknownHandoff);
    }
    Ok(valid_until)
}

/// What recording a decision needs of the consent and the child.
pub struct DecisionContext<'a> {
    pub status: ConsentStatus,
    pub date_of_birth: NaiveDate,
    pub guardians: &'a [GuardianAuthority],
    /// The guardians' names, for saying whose authority to verify.
    pub guardian_names: &'a [(Uuid, String)],
    /// Parties that already decided.
    pub decided: &'a [Party],
    pub now: DateTime<Utc>,
}

/// Not in the future; only on a draft; whose consent counts is settled on the day of the
/// decision (unknown parental authority blocks it); the party is required and has not decided.
pub fn decide_decision(
    party: Party,
    decided_at: DateTime<Utc>,
    day: NaiveDate,
    context: &DecisionContext<'_>,
) -> Result<(), Refusal> {
    if decided_at > context.now + OBSERVED_AT_SKEW {
        return Err(Refusal::field("decidedAt", "must not be in the future"));
    }
    if context.status != ConsentStatus::Draft {
        return Err(Refusal::ConsentDecided {
            status: context.status,
        });
    }
    let required = match required_parties(context.date_of_birth, context.guardians, day) {
        Ok(required) => required,
        Err(PartiesBlocked::AuthorityUnknown(guardians)) => {
            let names = context
                .guardian_names
                .iter()
                .filter(|(id, _)| guardians.contains(id))
                .map(|(_, name)| name.clone())
                .collect();
            return Err(Refusal::ParentalAuthorityUnknown { guardians, names });
        }
        Err(PartiesBlocked::NoGuardianWithAuthority) => return Err(Refusal::NoConsentingParty),
    };
    if !required.contains(&party) {
        return Err(Refusal::NotARequiredParty { party });
    }
    if context.decided.contains(&party) {
        return Err(Refusal::AlreadyDecided);
    }
    Ok(())
}

/// Any party withdraws, at any time, once: the child, a guardian who has (or had, when they
/// decided) parental authority.
pub fn decide_withdrawal(
    party: Party,
    withdrawn: bool,
    status: ConsentStatus,
    guardians: &[GuardianAuthority],
    decided: &[Party],
) -> Result<(), Refusal> {
    if withdrawn || status == ConsentStatus::Inactive {
        return Err(Refusal::ConsentInactive { status });
    }
    let is_party = party == Party::Child
        || guardians
            .iter()
            .any(|g| Party::Guardian(g.id) == party && g.authority != ParentalAuthority::No)
        || decided.contains(&party);
    if is_party {
        Ok(())
    } else {
        Err(Refusal::NotAWithdrawingParty)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;
    use ConsentStatus::{Active, Draft, Inactive, Rejected};
    use ParentalAuthority::{No, Unknown, Yes};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap()
    }

    const ASKER: Uuid = Uuid::from_u128(1);
    const VT: Uuid = Uuid::from_u128(2);
    const MOTHER: Uuid = Uuid::from_u128(10);
    const FATHER: Uuid = Uuid::from_u128(11);

    fn guardians(father: ParentalAuthority) -> [GuardianAuthority; 2] {
        [
            GuardianAuthority {
                id: MOTHER,
                authority: Yes,
            },
            GuardianAuthority {
                id: FATHER,
                authority: father,
            },
        ]
    }

    #[test]
    fn asking_consent() {
        let today = now().date_naive();
        let context = |child, recipient, handoff| AskContext {
            asker: ASKER,
            child_known: child,
            recipient_known: recipient,
            handoff_known: handoff,
            today,
        };
        let ask = |recipient, scope: &'static [FeedbackCategory], handoff| ConsentRequest {
            purpose: ConsentPurpose::FeedbackToSchool,
            recipient,
            scope,
            valid_until: None,
            handoff,
        };
        let scope = &[FeedbackCategory::Outcome];
        assert_eq!(
            decide_ask(&ask(VT, scope, None), &context(true, true, false)),
            Ok(default_valid_until(today))
        );
        let fields = |r: Result<NaiveDate, Refusal>| match r {
            Err(Refusal::Invalid(e)) => e.into_iter().map(|e| e.field).collect::<Vec<_>>(),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            fields(decide_ask(
                &ask(ASKER, &[], None),
                &context(true, true, true)
            )),
            ["scope", "recipientOrganisation"]
        );
        let table = [
            ((false, true, true), Refusal::UnknownChild),
            ((true, false, true), Refusal::UnknownRecipient),
            ((true, true, false), Refusal::UnknownHandoff),
        ];
        for ((child, recipient, handoff), refusal) in table {
            assert_eq!(
                decide_ask(
                    &ask(VT, scope, Some(Uuid::from_u128(5))),
                    &context(child, recipient, handoff)
                ),
                Err(refusal)
            );
        }
    }

    /// Party × age × parental authority × what was decided before.
    #[test]
    fn recording_decisions() {
        let day = now().date_naive();
        let born = |years: i32| NaiveDate::from_ymd_opt(2026 - years, 1, 1).unwrap();
        let context =
            |status, age, guardians: &'static [GuardianAuthority], decided: &'static [Party]| {
                DecisionContext {
                    status,
                    date_of_birth: born(age),
                    guardians,
                    guardian_names: &NAMES,
                    decided,
                    now: now(),
                }
            };
        static NAMES: [(Uuid, String); 0] = [];
        static ALL: std::sync::LazyLock<[GuardianAuthority; 2]> =
            std::sync::LazyLock::new(|| guardians(Yes));
        static UNKNOWN: std::sync::LazyLock<[GuardianAuthority; 2]> =
            std::sync::LazyLock::new(|| guardians(Unknown));
        let mother = Party::Guardian(MOTHER);
        let table: Vec<(&str, Party, DecisionContext<'static>, Result<(), Refusal>)> = vec![
            (
                "mother of a 9-year-old",
                mother,
                context(Draft, 9, &*ALL, &[]),
                Ok(()),
            ),
            (
                "child of 9",
                Party::Child,
                context(Draft, 9, &*ALL, &[]),
                Err(Refusal::NotARequiredParty {
                    party: Party::Child,
                }),
            ),
            (
                "child of 13",
                Party::Child,
                context(Draft, 13, &*ALL, &[]),
                Ok(()),
            ),
            (
                "mother of 17",
                mother,
                context(Draft, 17, &*ALL, &[]),
                Err(Refusal::NotARequiredParty { party: mother }),
            ),
            (
                "unknown authority",
                mother,
                context(Draft, 9, &*UNKNOWN, &[]),
                Err(Refusal::ParentalAuthorityUnknown {
                    guardians: vec![FATHER],
                    names: vec![],
                }),
            ),
            (
                "unknown authority, 16+",
                Party::Child,
                context(Draft, 16, &*UNKNOWN, &[]),
                Ok(()),
            ),
            (
                "no guardian",
                mother,
                context(Draft, 9, &[], &[]),
                Err(Refusal::NoConsentingParty),
            ),
            (
                "twice",
                mother,
                context(Draft, 9, &*ALL, &[Party::Guardian(MOTHER)]),
                Err(Refusal::AlreadyDecided),
            ),
            (
                "active",
                mother,
                context(Active, 9, &*ALL, &[]),
                Err(Refusal::ConsentDecided { status: Active }),
            ),
            (
                "rejected",
                mother,
                context(Rejected, 9, &*ALL, &[]),
                Err(Refusal::ConsentDecided { status: Rejected }),
            ),
        ];
        for (name, party, context, expected) in table {
            assert_eq!(
                decide_decision(party, now(), day, &context),
                expected,
                "{name}"
            );
        }
        let future = now() + Duration::minutes(10);
        assert!(matches!(
            decide_decision(mother, future, day, &context(Draft, 9, &*ALL, &[])),
            Err(Refusal::Invalid(e)) if e[0].field == "decidedAt"
        ));
    }

    #[test]
    fn withdrawing() {
        let with_father = |a| guardians(a);
        let father = Party::Guardian(FATHER);
        assert_eq!(
            decide_withdrawal(Party::Child, false, Active, &[], &[]),
            Ok(())
        );
        assert_eq!(
            decide_withdrawal(father, false, Draft, &with_father(Yes), &[]),
            Ok(())
        );
        assert_eq!(
            decide_withdrawal(father, false, Active, &with_father(Unknown), &[]),
            Ok(())
        );
        assert_eq!(
            decide_withdrawal(father, false, Active, &with_father(No), &[]),
            Err(Refusal::NotAWithdrawingParty)
        );
        // A guardian who decided keeps the right to withdraw after losing authority.
        assert_eq!(
            decide_withdrawal(father, false, Active, &with_father(No), &[father]),
            Ok(())
        );
        assert_eq!(
            decide_withdrawal(
                Party::Guardian(Uuid::from_u128(99)),
                false,
                Active,
                &with_father(Yes),
                &[]
            ),
            Err(Refusal::NotAWithdrawingParty)
        );
        assert_eq!(
            decide_withdrawal(Party::Child, true, Inactive, &[], &[]),
            Err(Refusal::ConsentInactive { status: Inactive })
        );
        assert_eq!(
            decide_withdrawal(Party::Child, false, Inactive, &[], &[]),
            Err(Refusal::ConsentInactive { status: Inactive })
        );
    }
}
