//! Destruction requests (vernietigingsverzoek): who may ask, by the child's age and parental
//! authority — the same representation rules as consent —, when the decision is due, and what
//! a decision may be (AVG art. 12 and 17; Jeugdwet art. 7.3.9; WGBO art. 7:455).

use chrono::{Months, NaiveDate};
use uuid::Uuid;

use super::{
    DestructionOutcome, DestructionScope, DestructionStatus, HearingOutcome, RecordRef,
    RefusalGround, RequesterKind,
};
use crate::domain::{
    FieldError,
    child::{ParentalAuthority, age_on},
    consent::{CHILD_CONSENTS_ALONE_FROM, CHILD_CONSENTS_FROM},
    organisation::OrganisationKind,
    refusal::Refusal,
};

/// Who asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requester {
    Guardian(Uuid),
    Child,
}

impl Requester {
    /// Who asks, from the request's `requester` and `guardianId`: a guardian is named, the
    /// child is not.
    pub fn from_parts(kind: RequesterKind, guardian: Option<Uuid>) -> Result<Self, Refusal> {
        match (kind, guardian) {
            (RequesterKind::Child, None) => Ok(Self::Child),
            (RequesterKind::Guardian, Some(id)) => Ok(Self::Guardian(id)),
            (RequesterKind::Child, Some(_)) => {
                Err(Refusal::field("guardianId", "only when a guardian asks"))
            }
            (RequesterKind::Guardian, None) => {
                Err(Refusal::field("guardianId", "name the guardian who asks"))
            }
        }
    }

    pub fn kind(self) -> RequesterKind {
        match self {
            Self::Guardian(_) => RequesterKind::Guardian,
            Self::Child => RequesterKind::Child,
        }
    }
}

/// A guardian of the child, as the rules see them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Guardian<'a> {
    pub id: Uuid,
    pub name: &'a str,
    pub authority: ParentalAuthority,
}

/// That the other guardian(s) were heard, or why not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hearing<'a> {
    pub outcome: HearingOutcome,
    pub note: &'a str,
}

/// What receiving a request needs to know.
pub struct RequestContext<'a> {
    pub kind: OrganisationKind,
    pub date_of_birth: NaiveDate,
    pub received_on: NaiveDate,
    pub today: NaiveDate,
    pub requester: Requester,
    pub guardians: &'a [Guardian<'a>],
    pub scope: DestructionScope,
    pub records: &'a [RecordRef],
    /// The named records that are not records of this child at the organisation.
    pub unknown_records: &'a [RecordRef],
    pub hearing: Option<Hearing<'a>>,
}

/// A request received: when the decision is due, and whom to hear before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestPlan {
    pub due_on: NaiveDate,
    pub to_hear: Vec<Uuid>,
}

/// The decision is due one month after receipt (AVG art. 12(3)); where youth care's own statute
/// applies — the Jeugdwet for a wijkteam (art. 7.3.9), the WGBO for the GGD's youth health care
/// (art. 7:455) — within its three months.
pub fn deadline(kind: OrganisationKind, received_on: NaiveDate) -> NaiveDate {
    let months = match kind {
        OrganisationKind::Wijkteam | OrganisationKind::Ggd => 3,
        _ => 1,
    };
    received_on
        .checked_add_months(Months::new(months))
        .unwrap_or(received_on)
}

/// A request is overdue when it is undecided past its due date.
pub fn request_overdue(status: DestructionStatus, due_on: NaiveDate, today: NaiveDate) -> bool {
    status == DestructionStatus::Received && due_on < today
}

/// The months the AVG's term may be extended by (art. 12(3)), once.
pub const EXTENSION_MONTHS: u32 = 2;

/// What extending a request's term needs to know.
pub struct ExtensionContext<'a> {
    pub kind: OrganisationKind,
    pub status: DestructionStatus,
    pub due_on: NaiveDate,
    pub already_extended: bool,
    pub reason: &'a str,
    pub today: NaiveDate,
}

/// Extend the AVG's month by two, once, before it runs out, with a reason (which the requester
/// must be told). Youth care's statutory three months are not extendable.
pub fn decide_extension(ctx: &ExtensionContext<'_>) -> Result<NaiveDate, Refusal> {
    if ctx.status != DestructionStatus::Received {
        return Err(Refusal::AlreadyDecided);
    }
    Refusal::unless_invalid(
        crate::domain::check_text("reason", ctx.reason)
            .into_iter()
            .collect(),
    )?;
    let refused = |why: &str| {
        Err(Refusal::ExtensionNotAllowed {
            why: why.to_owned(),
        })
    };
    if matches!(ctx.kind, OrganisationKind::Wijkteam | OrganisationKind::Ggd) {
        return refused("youth care's statutory term of three months cannot be extended");
    }
    if ctx.already_extended {
        return refused("the term was extended once already");
    }
    if ctx.today > ctx.due_on {
        return refused("the term has run out: extend it before the due date");
    }
    Ok(ctx
        .due_on
        .checked_add_months(Months::new(EXTENSION_MONTHS))
        .unwrap_or(ctx.due_on))
}

/// Under 12 the guardians with parental authority ask; 12 to 15 the child or those guardians;
/// 16 and over the child alone. A guardian whose authority is unknown cannot ask until it is
/// verified.
fn check_representation(
    requester: Requester,
    guardians: &[Guardian<'_>],
    age: u32,
) -> Result<(), Refusal> {
    let not_entitled = || Refusal::RequesterNotEntitled {
        age,
        requester: requester.kind(),
    };
    match requester {
        Requester::Child if age >= CHILD_CONSENTS_FROM => Ok(()),
        Requester::Child => Err(not_entitled()),
        Requester::Guardian(_) if age >= CHILD_CONSENTS_ALONE_FROM => Err(not_entitled()),
        Requester::Guardian(id) => {
            let guardian = guardians
                .iter()
                .find(|g| g.id == id)
                .ok_or_else(|| Refusal::field("guardianId", "is not a guardian of this child"))?;
            match guardian.authority {
                ParentalAuthority::Yes => Ok(()),
                ParentalAuthority::No => Err(not_entitled()),
                ParentalAuthority::Unknown => Err(Refusal::ParentalAuthorityUnknown {
                    guardians: vec![guardian.id],
                    names: vec![guardian.name.to_owned()],
                }),
            }
        }
    }
}

/// When a guardian asks and another also has parental authority, the other is heard first.
pub fn guardians_to_hear(requester: Requester, guardians: &[Guardian<'_>]) -> Vec<Uuid> {
    match requester {
        Requester::Child => Vec::new(),
        Requester::Guardian(asking) => guardians
            .iter()
            .filter(|g| g.id != asking && g.authority == ParentalAuthority::Yes)
            .map(|g| g.id)
            .collect(),
    }
}

fn check_hearing(hearing: Option<Hearing<'_>>) -> Option<FieldError> {
    let hearing = hearing?;
    crate::domain::check_text("hearing.note", hearing.note)
}

/// Receive a request: who asks must be entitled to, what it names must exist.
pub fn decide_request(ctx: &RequestContext<'_>) -> Result<RequestPlan, Refusal> {
    let mut errors = Vec::new();
    if ctx.received_on > ctx.today {
        errors.push(FieldError::new("receivedOn", "must not be in the future"));
    }
    match ctx.scope {
        DestructionScope::Records if ctx.records.is_empty() => errors.push(FieldError::new(
            "records",
            "name at least one record, or ask for `everything`",
        )),
        DestructionScope::Everything if !ctx.records.is_empty() => errors.push(FieldError::new(
            "records",
            "must be empty when everything is asked",
        )),
        _ => {}
    }
    errors.extend(check_hearing(ctx.hearing));
    Refusal::unless_invalid(errors)?;
    if !ctx.unknown_records.is_empty() {
        return Err(Refusal::UnknownRecords(ctx.unknown_records.to_vec()));
    }
    let age = age_on(ctx.date_of_birth, ctx.received_on);
    check_representation(ctx.requester, ctx.guardians, age)?;
    Ok(RequestPlan {
        due_on: deadline(ctx.kind, ctx.received_on),
        to_hear: guardians_to_hear(ctx.requester, ctx.guardians),
    })
}

/// What deciding a request needs to know.
pub struct DecisionContext<'a> {
    pub status: DestructionStatus,
    pub hold_active: bool,
    pub requester: Requester,
    pub guardians: &'a [Guardian<'a>],
    /// Whether a hearing was recorded with the request.
    pub hearing_recorded: bool,
    /// A hearing recorded with this decision.
    pub hearing: Option<Hearing<'a>>,
    pub outcome: DestructionOutcome,
    pub scope: DestructionScope,
    pub asked: &'a [RecordRef],
    /// The records granted, when not everything asked.
    pub granted: Option<&'a [RecordRef]>,
    /// Granted records that are not records of this child at the organisation.
    pub unknown_granted: &'a [RecordRef],
    pub weighing: &'a str,
    pub refusal_ground: Option<RefusalGround>,
    pub legal_duty: Option<&'a str>,
}

/// What a grant destroys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrantPlan {
    Everything,
    Records(Vec<RecordRef>),
}

/// The decision: the request's new status, and what to destroy now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestructionDecision {
    pub status: DestructionStatus,
    pub grant: Option<GrantPlan>,
}

/// Decide a request: once, with a written weighing, after hearing the other guardian; refused
/// only on a ground the law allows; granted (in full or in part) only while no legal hold is
/// active.
pub fn decide_decision(ctx: &DecisionContext<'_>) -> Result<DestructionDecision, Refusal> {
    if ctx.status != DestructionStatus::Received {
        return Err(Refusal::AlreadyDecided);
    }
    let mut errors = Vec::new();
    errors.extend(crate::domain::check_text("weighing", ctx.weighing));
    errors.extend(check_hearing(ctx.hearing));
    match ctx.outcome {
        DestructionOutcome::Refused => {
            match ctx.refusal_ground {
                None => errors.push(FieldError::new(
                    "refusalGround",
                    "a refusal names its ground: `third_party_interest` or `legal_duty`",
                )),
                Some(RefusalGround::LegalDuty)
                    if ctx.legal_duty.is_none_or(|d| d.trim().is_empty()) =>
                {
                    errors.push(FieldError::new(
                        "legalDuty",
                        "name the statutory duty to keep the data",
                    ));
                }
                Some(_) => {}
            }
            if ctx.granted.is_some() {
                errors.push(FieldError::new("records", "only a grant names records"));
            }
        }
        DestructionOutcome::Granted => {
            if ctx.refusal_ground.is_some() || ctx.legal_duty.is_some() {
                errors.push(FieldError::new(
                    "refusalGround",
                    "only a refusal names a ground",
                ));
            }
            if ctx.granted.is_some_and(<[RecordRef]>::is_empty) {
                errors.push(FieldError::new(
                    "records",
                    "name at least one record, or leave it out to grant everything asked",
                ));
            }
        }
    }
    Refusal::unless_invalid(errors)?;
    let others = guardians_to_hear(ctx.requester, ctx.guardians);
    if !others.is_empty() && !ctx.hearing_recorded && ctx.hearing.is_none() {
        return Err(Refusal::HearingRequired { guardians: others });
    }
    if ctx.outcome == DestructionOutcome::Refused {
        return Ok(DestructionDecision {
            status: DestructionStatus::Refused,
            grant: None,
        });
    }
    if ctx.hold_active {
        return Err(Refusal::LegalHoldActive);
    }
    if !ctx.unknown_granted.is_empty() {
        return Err(Refusal::UnknownRecords(ctx.unknown_granted.to_vec()));
    }
    let (status, grant) = match (ctx.scope, ctx.granted) {
        (DestructionScope::Everything, None) => (DestructionStatus::Granted, GrantPlan::Everything),
        (DestructionScope::Records, None) => (
            DestructionStatus::Granted,
            GrantPlan::Records(ctx.asked.to_vec()),
        ),
        (DestructionScope::Everything, Some(granted)) => (
            DestructionStatus::PartiallyGranted,
            GrantPlan::Records(granted.to_vec()),
        ),
        (DestructionScope::Records, Some(granted)) => {
            if let Some(extra) = granted.iter().find(|r| !ctx.asked.contains(r)) {
                return Err(Refusal::field(
                    "records",
                    format!("{} was not asked for", extra.id),
                ));
            }
            let all = ctx.asked.iter().all(|r| granted.contains(r));
            let status = if all {
                DestructionStatus::Granted
            } else {
                DestructionStatus::PartiallyGranted
            };
            (status, GrantPlan::Records(granted.to_vec()))
        }
    };
    Ok(DestructionDecision {
        status,
        grant: Some(grant),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::lifecycle::RecordType;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    const MOTHER: Uuid = Uuid::from_u128(1);
    const FATHER: Uuid = Uuid::from_u128(2);
    const STEPFATHER: Uuid = Uuid::from_u128(3);
    const UNVERIFIED: Uuid = Uuid::from_u128(4);

    fn guardians() -> Vec<Guardian<'static>> {
        vec![
            Guardian {
                id: MOTHER,
                name: "moeder",
                authority: ParentalAuthority::Yes,
            },
            Guardian {
                id: FATHER,
                name: "vader",
                authority: ParentalAuthority::Yes,
            },
            Guardian {
                id: STEPFATHER,
                name: "stiefvader",
                authority: ParentalAuthority::No,
            },
            Guardian {
                id: UNVERIFIED,
                name: "voogd",
                authority: ParentalAuthority::Unknown,
            },
        ]
    }

    fn request(age: i32, requester: Requester) -> Result<RequestPlan, Refusal> {
        let received = day(2026, 11, 2);
        let guardians = guardians();
        decide_request(&RequestContext {
            kind: OrganisationKind::School,
            // Born on the receipt day `age` years before: exactly `age` on receipt.
            date_of_birth: day(2026 - age, 11, 2),
            received_on: received,
            today: day(2026, 11, 3),
            requester,
            guardians: &guardians,
            scope: DestructionScope::Everything,
            records: &[],
            unknown_records: &[],
            hearing: None,
        })
    }

    #[test]
    fn every_age_band_requester_and_authority() {
        use Requester::{Child, Guardian as G};
        let entitled = |age: u32, requester: Requester| {
            Err(Refusal::RequesterNotEntitled {
                age,
                requester: requester.kind(),
            })
        };
        // (age on receipt, requester, expected: Ok(to hear) or the refusal)
        let cases: Vec<(i32, Requester, Result<Vec<Uuid>, Refusal>)> = vec![
            (8, G(MOTHER), Ok(vec![FATHER])),
            (8, G(FATHER), Ok(vec![MOTHER])),
            (8, Child, entitled(8, Child)),
            (8, G(STEPFATHER), entitled(8, G(STEPFATHER))),
            (11, Child, entitled(11, Child)),
            (12, Child, Ok(vec![])),
            (12, G(MOTHER), Ok(vec![FATHER])),
            (15, Child, Ok(vec![])),
            (15, G(FATHER), Ok(vec![MOTHER])),
            (15, G(STEPFATHER), entitled(15, G(STEPFATHER))),
            (16, Child, Ok(vec![])),
            (16, G(MOTHER), entitled(16, G(MOTHER))),
            (19, G(FATHER), entitled(19, G(FATHER))),
        ];
        for (age, requester, expected) in cases {
            let got = request(age, requester).map(|plan| plan.to_hear);
            assert_eq!(got, expected, "age {age}, {requester:?}");
        }
        assert_eq!(
            request(10, G(UNVERIFIED)),
            Err(Refusal::ParentalAuthorityUnknown {
                guardians: vec![UNVERIFIED],
                names: vec!["voogd".into()],
            })
        );
        assert!(matches!(
            request(10, G(Uuid::from_u128(99))),
            Err(Refusal::Invalid(e)) if e[0].field == "guardianId"
        ));
    }

    #[test]
    fn a_guardian_who_asks_is_named_and_the_child_is_not() {
        use RequesterKind::{Child, Guardian as G};
        assert_eq!(Requester::from_parts(Child, None), Ok(Requester::Child));
        assert_eq!(
            Requester::from_parts(G, Some(MOTHER)),
            Ok(Requester::Guardian(MOTHER))
        );
        for (kind, guardian) in [(Child, Some(MOTHER)), (G, None)] {
            assert!(matches!(
                Requester::from_parts(kind, guardian),
                Err(Refusal::Invalid(e)) if e[0].field == "guardianId"
            ));
        }
    }

    #[test]
    fn a_request_is_overdue_when_undecided_past_its_due_date() {
        let due = day(2026, 12, 30);
        for status in <DestructionStatus as crate::domain::reference::Labelled>::ALL {
            let undecided = *status == DestructionStatus::Received;
            assert!(!request_overdue(*status, due, due), "{status:?} on the day");
            assert_eq!(
                request_overdue(*status, due, day(2026, 12, 31)),
                undecided,
                "{status:?}"
            );
        }
    }

    #[test]
    fn the_avg_month_is_extended_once_before_it_runs_out() {
        let due = day(2026, 12, 30);
        let base = ExtensionContext {
            kind: OrganisationKind::School,
            status: DestructionStatus::Received,
            due_on: due,
            already_extended: false,
            reason: "Het dossier is omvangrijk; de andere ouder is nog niet bereikt.",
            today: day(2026, 12, 10),
        };
        assert_eq!(decide_extension(&base), Ok(day(2027, 2, 28)));
        let on_the_day = ExtensionContext { today: due, ..base };
        assert_eq!(decide_extension(&on_the_day), Ok(day(2027, 2, 28)));
        let not_allowed = |ctx: &ExtensionContext<'_>| {
            matches!(
                decide_extension(ctx),
                Err(Refusal::ExtensionNotAllowed { .. })
            )
        };
        assert!(not_allowed(&ExtensionContext {
            already_extended: true,
            ..base
        }));
        assert!(not_allowed(&ExtensionContext {
            today: day(2026, 12, 31),
            ..base
        }));
        assert!(not_allowed(&ExtensionContext {
            kind: OrganisationKind::Wijkteam,
            ..base
        }));
        assert!(not_allowed(&ExtensionContext {
            kind: OrganisationKind::Ggd,
            ..base
        }));
        assert!(!not_allowed(&ExtensionContext {
            kind: OrganisationKind::VeiligThuis,
            ..base
        }));
        assert_eq!(
            decide_extension(&ExtensionContext {
                status: DestructionStatus::Refused,
                ..base
            }),
            Err(Refusal::AlreadyDecided)
        );
        assert!(matches!(
            decide_extension(&ExtensionContext { reason: "", ..base }),
            Err(Refusal::Invalid(e)) if e[0].field == "reason"
        ));
    }

    #[test]
    fn the_deadline_follows_the_organisation_kind() {
        use OrganisationKind as K;
        let received = day(2026, 1, 31);
        for (kind, due) in [
            (K::School, day(2026, 2, 28)),
            (K::VeiligThuis, day(2026, 2, 28)),
            (K::Leerplicht, day(2026, 2, 28)),
            (K::Samenwerkingsverband, day(2026, 2, 28)),
            (K::Wijkteam, day(2026, 4, 30)),
            (K::Ggd, day(2026, 4, 30)),
        ] {
            assert_eq!(deadline(kind, received), due, "{kind:?}");
        }
    }

    #[test]
    fn a_request_names_what_it_asks_and_is_not_from_the_future() {
        let signal = RecordRef {
            record_type: RecordType::Signal,
            id: Uuid::from_u128(7),
        };
        let guardians = guardians();
        let base = RequestContext {
            kind: OrganisationKind::School,
            date_of_birth: day(2012, 1, 1),
            received_on: day(2026, 11, 2),
            today: day(2026, 11, 2),
            requester: Requester::Child,
            guardians: &guardians,
            scope: DestructionScope::Records,
            records: &[],
            unknown_records: &[],
            hearing: None,
        };
        assert!(
            matches!(decide_request(&base), Err(Refusal::Invalid(e)) if e[0].field == "records")
        );
        let future = RequestContext {
            received_on: day(2026, 11, 3),
            records: &[signal],
            ..base
        };
        assert!(
            matches!(decide_request(&future), Err(Refusal::Invalid(e)) if e[0].field == "receivedOn")
        );
        let unknown = [signal];
        let named = RequestContext {
            records: &unknown,
            unknown_records: &unknown,
            ..future
        };
        let named = RequestContext {
            received_on: day(2026, 11, 2),
            ..named
        };
        assert_eq!(
            decide_request(&named),
            Err(Refusal::UnknownRecords(vec![signal]))
        );
        let known = RequestContext {
            unknown_records: &[],
            ..named
        };
        assert_eq!(
            decide_request(&known),
            Ok(RequestPlan {
                due_on: day(2026, 12, 2),
                to_hear: vec![]
            })
        );
    }

    fn decision<'a>(guardians: &'a [Guardian<'a>]) -> DecisionContext<'a> {
        DecisionContext {
            status: DestructionStatus::Received,
            hold_active: false,
            requester: Requester::Guardian(MOTHER),
            guardians,
            hearing_recorded: false,
            hearing: Some(Hearing {
                outcome: HearingOutcome::Heard,
                note: "Vader gehoord op 3 november.",
            }),
            outcome: DestructionOutcome::Granted,
            scope: DestructionScope::Everything,
            asked: &[],
            granted: None,
            unknown_granted: &[],
            weighing: "Geen zwaarwegend belang van een ander.",
            refusal_ground: None,
            legal_duty: None,
        }
    }

    #[test]
    fn a_decision_hears_the_other_parent_first() {
        let guardians = guardians();
        let unheard = DecisionContext {
            hearing: None,
            ..decision(&guardians)
        };
        assert_eq!(
            decide_decision(&unheard),
            Err(Refusal::HearingRequired {
                guardians: vec![FATHER]
            })
        );
        let heard_before = DecisionContext {
            hearing_recorded: true,
            ..unheard
        };
        assert!(decide_decision(&heard_before).is_ok());
        let not_heard = DecisionContext {
            hearing: Some(Hearing {
                outcome: HearingOutcome::NotHeard,
                note: "Vader onbereikbaar; onveilig.",
            }),
            ..decision(&guardians)
        };
        assert!(decide_decision(&not_heard).is_ok());
        let blank = DecisionContext {
            hearing: Some(Hearing {
                outcome: HearingOutcome::Heard,
                note: " ",
            }),
            ..decision(&guardians)
        };
        assert!(
            matches!(decide_decision(&blank), Err(Refusal::Invalid(e)) if e[0].field == "hearing.note")
        );
        // The child asking needs no hearing.
        let child = DecisionContext {
            requester: Requester::Child,
            hearing: None,
            ..decision(&guardians)
        };
        assert!(decide_decision(&child).is_ok());
    }

    #[test]
    fn a_refusal_names_an_allowed_ground_and_a_weighing() {
        let guardians = guardians();
        let refuse = DecisionContext {
            outcome: DestructionOutcome::Refused,
            ..decision(&guardians)
        };
        assert!(
            matches!(decide_decision(&refuse), Err(Refusal::Invalid(e)) if e[0].field == "refusalGround")
        );
        let duty = DecisionContext {
            refusal_ground: Some(RefusalGround::LegalDuty),
            ..refuse
        };
        assert!(
            matches!(decide_decision(&duty), Err(Refusal::Invalid(e)) if e[0].field == "legalDuty")
        );
        let named = DecisionContext {
            legal_duty: Some("Archiefwet 1995 art. 3"),
            ..duty
        };
        assert_eq!(
            decide_decision(&named),
            Ok(DestructionDecision {
                status: DestructionStatus::Refused,
                grant: None
            })
        );
        let interest = DecisionContext {
            refusal_ground: Some(RefusalGround::ThirdPartyInterest),
            legal_duty: None,
            hold_active: true,
            ..named
        };
        // Refusing while a hold is active is allowed: the hold only blocks destroying.
        assert!(decide_decision(&interest).is_ok());
        let unweighed = DecisionContext {
            weighing: "",
            ..interest
        };
        assert!(
            matches!(decide_decision(&unweighed), Err(Refusal::Invalid(e)) if e[0].field == "weighing")
        );
        let granted_with_ground = DecisionContext {
            refusal_ground: Some(RefusalGround::ThirdPartyInterest),
            ..decision(&guardians)
        };
        assert!(matches!(
            decide_decision(&granted_with_ground),
            Err(Refusal::Invalid(_))
        ));
    }

    #[test]
    fn grants_in_full_in_part_and_never_under_a_hold_or_twice() {
        let a = RecordRef {
            record_type: RecordType::Signal,
            id: Uuid::from_u128(10),
        };
        let b = RecordRef {
            record_type: RecordType::Case,
            id: Uuid::from_u128(11),
        };
        let c = RecordRef {
            record_type: RecordType::Handoff,
            id: Uuid::from_u128(12),
        };
        let guardians = guardians();
        let full = decision(&guardians);
        assert_eq!(
            decide_decision(&full),
            Ok(DestructionDecision {
                status: DestructionStatus::Granted,
                grant: Some(GrantPlan::Everything)
            })
        );
        let part = [a];
        let of_everything = DecisionContext {
            granted: Some(&part),
            ..decision(&guardians)
        };
        assert_eq!(
            decide_decision(&of_everything).map(|d| d.status),
            Ok(DestructionStatus::PartiallyGranted)
        );
        let asked = [a, b];
        let named = DecisionContext {
            scope: DestructionScope::Records,
            asked: &asked,
            ..decision(&guardians)
        };
        assert_eq!(
            decide_decision(&named),
            Ok(DestructionDecision {
                status: DestructionStatus::Granted,
                grant: Some(GrantPlan::Records(vec![a, b])),
            })
        );
        let some = DecisionContext {
            granted: Some(&part),
            ..named
        };
        assert_eq!(
            decide_decision(&some),
            Ok(DestructionDecision {
                status: DestructionStatus::PartiallyGranted,
                grant: Some(GrantPlan::Records(vec![a])),
            })
        );
        let both = [b, a];
        let all_named = DecisionContext {
            granted: Some(&both),
            ..named
        };
        assert_eq!(
            decide_decision(&all_named).map(|d| d.status),
            Ok(DestructionStatus::Granted)
        );
        let extra = [c];
        let not_asked = DecisionContext {
            granted: Some(&extra),
            ..named
        };
        assert!(
            matches!(decide_decision(&not_asked), Err(Refusal::Invalid(e)) if e[0].field == "records")
        );
        let none: [RecordRef; 0] = [];
        let empty = DecisionContext {
            granted: Some(&none),
            ..named
        };
        assert!(matches!(decide_decision(&empty), Err(Refusal::Invalid(_))));
        let unknown = DecisionContext {
            granted: Some(&extra),
            unknown_granted: &extra,
            ..decision(&guardians)
        };
        assert_eq!(
            decide_decision(&unknown),
            Err(Refusal::UnknownRecords(vec![c]))
        );
        let held = DecisionContext {
            hold_active: true,
            ..decision(&guardians)
        };
        assert_eq!(decide_decision(&held), Err(Refusal::LegalHoldActive));
        let decided = DecisionContext {
            status: DestructionStatus::Refused,
            ..decision(&guardians)
        };
        assert_eq!(decide_decision(&decided), Err(Refusal::AlreadyDecided));
    }
}
