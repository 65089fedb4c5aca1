//! Handoffs: explicit disclosures from one organisation to another (DESIGN.md §4): which kinds
//! may go between which organisations, on which legal basis, and their lifecycle.

use chrono::{DateTime, Duration, Utc};
use diesel::{deserialize::FromSqlRow, expression::AsExpression, sql_types::Text};
use poem_openapi::Enum;
use serde::{Deserialize, Serialize};

use crate::{
    domain::{FieldError, calendar, organisation::OrganisationKind},
    labelled,
};

mod forward;
mod remind;
mod send;
mod snapshot;
mod steps;

pub use forward::{ForwardContext, ForwardPlan, decide_forward, forwardable};
pub use remind::decide_reminder;
pub use send::{Answered, CaseFacts, Recipient, SendContext, SendPlan, SendRequest, decide_send};
pub use snapshot::{
    CaseSnapshot, ChildSnapshot, ContactSnapshot, GuardianSnapshot, SignalSnapshot, Snapshot,
};
pub use steps::{IntakeContext, IntakePlan, StepPlan, decide_intake, decide_step, intake_ref};

#[derive(
    Enum, Deserialize, Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow,
)]
#[diesel(sql_type = Text)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum HandoffKind {
    AdviceRequest,
    /// A melding.
    Report,
    InformationRequest,
    InformationResponse,
    Referral,
    SignalToSchool,
    /// A pupil's new school asks the previous one for what it needs to know.
    TransferRequest,
    /// The previous school's answer: the signals and case summary it selects.
    SchoolTransfer,
}

labelled!(HandoffKind {
    AdviceRequest => ("advice_request", "Adviesvraag", "Advice request",
        "A school or wijkteam asks Veilig Thuis for advice; may be anonymous."),
    Report => ("report", "Melding", "Report",
        "A school or wijkteam reports to Veilig Thuis (meldrecht, Wmo 2015 art. 5.2.6)."),
    InformationRequest => ("information_request", "Informatieverzoek", "Information request",
        "Veilig Thuis asks a school or wijkteam for information during an investigation."),
    InformationResponse => ("information_response", "Informatieverstrekking", "Information response",
        "A school or wijkteam answers an information request of Veilig Thuis."),
    Referral => ("referral", "Verwijzing", "Referral",
        "A school refers a child to a wijkteam, the GGD or leerplicht, with consent."),
    SignalToSchool => ("signal_to_school", "Signaal aan school", "Signal to the school",
        "A wijkteam shares a signal with the child's school, with consent."),
    TransferRequest => ("transfer_request", "Verzoek om overdracht", "Transfer request",
        "A pupil's new school asks the previous school for what it needs to keep the child safe, naming the child by its pupil number there or its BSN and date of birth."),
    SchoolTransfer => ("school_transfer", "Overdracht aan nieuwe school", "School transfer",
        "The previous school answers with the signals and case summary it selects (onderwijskundig rapport, or with consent), saying whether the parents were told."),
});

/// The legal basis a disclosure rests on.
#[derive(
    Enum, Deserialize, Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow,
)]
#[diesel(sql_type = Text)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum LegalBasis {
    /// No identifying data crosses: an anonymous advice request.
    Anonymous,
    /// Meldrecht (Wmo 2015 art. 5.2.6): the right to report without consent.
    Meldrecht,
    /// Veilig Thuis's statutory power to request information, and the answer to it.
    Statutory,
    /// Consent of the parents and/or the child.
    Consent,
}

labelled!(LegalBasis {
    Anonymous => ("anonymous", "Anoniem", "Anonymous", "No identifying data is disclosed."),
    Meldrecht => ("meldrecht", "Meldrecht", "Right to report",
        "Wmo 2015 art. 5.2.6: professionals may report to Veilig Thuis without consent."),
    Statutory => ("statutory", "Wettelijke taak", "Statutory",
        "Veilig Thuis's statutory power to request information (Wmo 2015 art. 5.2.6), and the answer."),
    Consent => ("consent", "Toestemming", "Consent", "Consent of the parents and/or the child."),
});

/// Whether `kind` may go from an organisation of kind `from` to one of kind `to`.
pub fn route_allowed(kind: HandoffKind, from: OrganisationKind, to: OrganisationKind) -> bool {
    use OrganisationKind as K;
    let school_or_wijkteam = |k: OrganisationKind| matches!(k, K::School | K::Wijkteam);
    match kind {
        HandoffKind::AdviceRequest | HandoffKind::Report | HandoffKind::InformationResponse => {
            school_or_wijkteam(from) && to == K::VeiligThuis
        }
        HandoffKind::InformationRequest => from == K::VeiligThuis && school_or_wijkteam(to),
        HandoffKind::Referral => {
            from == K::School && matches!(to, K::Wijkteam | K::Ggd | K::Leerplicht)
        }
        HandoffKind::SignalToSchool => from == K::Wijkteam && to == K::School,
        HandoffKind::TransferRequest | HandoffKind::SchoolTransfer => {
            from == K::School && to == K::School
        }
    }
}

/// The route of a kind in words, for a refusal.
pub fn describe_route(kind: HandoffKind) -> &'static str {
    match kind {
        HandoffKind::AdviceRequest | HandoffKind::Report | HandoffKind::InformationResponse => {
            "from a school or wijkteam to Veilig Thuis"
        }
        HandoffKind::InformationRequest => "from Veilig Thuis to a school or wijkteam",
        HandoffKind::Referral => "from a school to a wijkteam, the GGD or leerplicht",
        HandoffKind::SignalToSchool => "from a wijkteam to a school",
        HandoffKind::TransferRequest | HandoffKind::SchoolTransfer => {
            "from a school to another school"
        }
    }
}

/// The basis a kind rests on; an advice request is anonymous without a child. A school
/// transfer rests on the school's statutory duty (the onderwijskundig rapport, WPO art. 42 /
/// WVO 2020 art. 8.2) unless the previous school names a consent for more.
pub fn legal_basis(kind: HandoffKind, identified: bool) -> LegalBasis {
    match kind {
        HandoffKind::AdviceRequest if !identified => LegalBasis::Anonymous,
        HandoffKind::AdviceRequest | HandoffKind::Report => LegalBasis::Meldrecht,
        HandoffKind::InformationRequest
        | HandoffKind::InformationResponse
        | HandoffKind::TransferRequest
        | HandoffKind::SchoolTransfer => LegalBasis::Statutory,
        HandoffKind::Referral | HandoffKind::SignalToSchool => LegalBasis::Consent,
    }
}

/// The basis a handoff rests on as sent: its kind's, or consent where the kind may rest on
/// either and the sender names one.
pub fn basis_as_sent(kind: HandoffKind, identified: bool, consent_named: bool) -> LegalBasis {
    if consent_named && may_rest_on_consent(kind) {
        LegalBasis::Consent
    } else {
        legal_basis(kind, identified)
    }
}

/// Kinds that rest on consent, or may: a school transfer sends more than the onderwijskundig
/// rapport only with it.
pub fn may_rest_on_consent(kind: HandoffKind) -> bool {
    legal_basis(kind, true) == LegalBasis::Consent || kind == HandoffKind::SchoolTransfer
}

/// The request a kind answers: an information response its information request, a school
/// transfer its transfer request.
pub fn answers(kind: HandoffKind) -> Option<HandoffKind> {
    match kind {
        HandoffKind::InformationResponse => Some(HandoffKind::InformationRequest),
        HandoffKind::SchoolTransfer => Some(HandoffKind::TransferRequest),
        _ => None,
    }
}

/// Kinds that say whether the parents were told: a report, and a school transfer (the school
/// informs the parents unless that endangers the child).
pub fn tells_about_parents(kind: HandoffKind) -> bool {
    matches!(kind, HandoffKind::Report | HandoffKind::SchoolTransfer)
}

/// Every kind but an advice request identifies the child.
pub fn requires_child(kind: HandoffKind) -> bool {
    kind != HandoffKind::AdviceRequest
}

/// Age bands of an anonymous advice request.
#[derive(
    Enum, Deserialize, Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow,
)]
#[diesel(sql_type = Text)]
pub enum AgeBand {
    #[oai(rename = "0-3")]
    #[serde(rename = "0-3")]
    Infant,
    #[oai(rename = "4-11")]
    #[serde(rename = "4-11")]
    Child,
    #[oai(rename = "12-15")]
    #[serde(rename = "12-15")]
    YoungTeen,
    #[oai(rename = "16-17")]
    #[serde(rename = "16-17")]
    OlderTeen,
    #[oai(rename = "18-23")]
    #[serde(rename = "18-23")]
    YoungAdult,
}

labelled!(AgeBand {
    Infant => ("0-3", "0 tot 4 jaar", "0 to 3 years", "Before school."),
    Child => ("4-11", "4 tot 12 jaar", "4 to 11 years", "Primary school age."),
    YoungTeen => ("12-15", "12 tot 16 jaar", "12 to 15 years", "Consent needs the child as well."),
    OlderTeen => ("16-17", "16 en 17 jaar", "16 and 17 years", "Consent is the child's alone."),
    YoungAdult => ("18-23", "18 tot 24 jaar", "18 to 23 years", "Young adults in youth care."),
});

#[derive(
    Enum, Deserialize, Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow,
)]
#[diesel(sql_type = Text)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    /// Acute unsafety: acknowledgement within hours.
    Acute,
    Regular,
}

labelled!(Urgency {
    Acute => ("acute", "Acuut", "Acute", "Acute unsafety: acknowledged within hours."),
    Regular => ("regular", "Regulier", "Regular", "Acknowledged within a working day."),
});

/// Why the parents were not told about a report.
#[derive(
    Enum, Deserialize, Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow,
)]
#[diesel(sql_type = Text)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum ParentsNotInformedReason {
    SafetyChild,
    SafetyOthers,
    RiskContactBreak,
    Urgency,
}

labelled!(ParentsNotInformedReason {
    SafetyChild => ("safety_child", "Veiligheid van het kind", "Safety of the child",
        "Telling them would endanger the child."),
    SafetyOthers => ("safety_others", "Veiligheid van anderen", "Safety of others",
        "Telling them would endanger the professional or others."),
    RiskContactBreak => ("risk_contact_break", "Risico op contactbreuk", "Risk of losing contact",
        "Telling them would likely make the family break off contact."),
    Urgency => ("urgency", "Spoed", "Urgency", "There was no time to tell them first."),
});

/// A report says whether the parents were told (and when), or why not; and whether the melder
/// may be named to the family (by default yes; no needs a reason).
pub struct ReportTerms<'a> {
    pub parents_informed_at: Option<DateTime<Utc>>,
    pub parents_not_informed_reason: Option<ParentsNotInformedReason>,
    pub parents_not_informed_explanation: Option<&'a str>,
    pub melder_identity_disclosable: bool,
    pub melder_identity_reason: Option<&'a str>,
}

pub fn check_report_terms(terms: &ReportTerms<'_>, now: DateTime<Utc>) -> Vec<FieldError> {
    let blank = |v: Option<&str>| v.is_none_or(|v| v.trim().is_empty());
    let mut errors = Vec::new();
    match (terms.parents_informed_at, terms.parents_not_informed_reason) {
        (Some(_), Some(_)) => errors.push(FieldError::new(
            "parentsNotInformedReason",
            "give parentsInformedAt or parentsNotInformedReason, not both",
        )),
        (None, None) => errors.push(FieldError::new(
            "parentsInformedAt",
            "say when the parents were informed, or why not (parentsNotInformedReason)",
        )),
        (Some(at), None) if at > now + Duration::minutes(5) => errors.push(FieldError::new(
            "parentsInformedAt",
            "must not be in the future",
        )),
        (None, Some(_)) if blank(terms.parents_not_informed_explanation) => {
            errors.push(FieldError::new(
                "parentsNotInformedExplanation",
                "explain why the parents were not informed",
            ))
        }
        _ => {}
    }
    if !terms.melder_identity_disclosable && blank(terms.melder_identity_reason) {
        errors.push(FieldError::new(
            "melderIdentityReason",
            "say why the family may not learn who reported",
        ));
    }
    errors
}

/// Fields that belong to reports only.
pub fn report_only_fields_present(terms: &ReportTerms<'_>) -> bool {
    parents_fields_present(terms) || melder_fields_present(terms)
}

/// Whether the parents were told: reports and school transfers.
pub fn parents_fields_present(terms: &ReportTerms<'_>) -> bool {
    terms.parents_informed_at.is_some()
        || terms.parents_not_informed_reason.is_some()
        || terms.parents_not_informed_explanation.is_some()
}

/// Whether the family may learn who reported: reports only.
pub fn melder_fields_present(terms: &ReportTerms<'_>) -> bool {
    !terms.melder_identity_disclosable || terms.melder_identity_reason.is_some()
}

#[derive(
    Enum, Deserialize, Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow,
)]
#[diesel(sql_type = Text)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum HandoffStatus {
    Sent,
    /// Acknowledged by the recipient.
    Received,
    Accepted,
    Declined,
    Closed,
    Withdrawn,
    /// Veilig Thuis forwarded it to the region where the child lives: a new handoff goes on.
    Forwarded,
}

labelled!(HandoffStatus {
    Sent => ("sent", "Verstuurd", "Sent", "Sent, not yet acknowledged by the recipient."),
    Received => ("received", "Ontvangen", "Received", "The recipient acknowledged receipt."),
    Accepted => ("accepted", "Aangenomen", "Accepted", "The recipient took it on."),
    Declined => ("declined", "Afgewezen", "Declined", "The recipient declined it, with a reason."),
    Closed => ("closed", "Afgesloten", "Closed", "The recipient closed it, with an outcome."),
    Withdrawn => ("withdrawn", "Ingetrokken", "Withdrawn", "The sender withdrew it before acceptance."),
    Forwarded => ("forwarded", "Doorgestuurd", "Forwarded",
        "Veilig Thuis forwarded it to another region; `forwardedTo` names the new handoff."),
});

#[derive(Debug, Clone, Copy, PartialEq, Eq, AsExpression, FromSqlRow)]
#[diesel(sql_type = Text)]
pub enum Transition {
    Acknowledge,
    Accept,
    Decline,
    Close,
    Withdraw,
    Forward,
}

labelled!(Transition {
    Acknowledge => ("acknowledgement", "Ontvangstbevestiging", "Acknowledgement",
        "The recipient confirms receipt."),
    Accept => ("acceptance", "Aanname", "Acceptance", "The recipient takes it on."),
    Decline => ("declination", "Afwijzing", "Declination", "The recipient declines, with a reason."),
    Close => ("closure", "Afsluiting", "Closure", "The recipient closes it, with an outcome."),
    Withdraw => ("withdrawal", "Intrekking", "Withdrawal", "The sender withdraws it before acceptance."),
    Forward => ("forwarding", "Doorsturen", "Forwarding",
        "Veilig Thuis forwards it to the region where the child lives, with a reason."),
});

impl Transition {
    /// Who may make the transition.
    pub fn party(self) -> Party {
        match self {
            Self::Withdraw => Party::Sender,
            _ => Party::Recipient,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    Sender,
    Recipient,
}

/// The lifecycle: sent → received → accepted | declined; accepted → closed; the sender may
/// withdraw before acceptance; Veilig Thuis may forward what is open to another region.
/// Accepting or declining straight from `sent` acknowledges too.
pub fn next_status(status: HandoffStatus, transition: Transition) -> Option<HandoffStatus> {
    use HandoffStatus as S;
    use Transition as T;
    match (transition, status) {
        (T::Acknowledge, S::Sent) => Some(S::Received),
        (T::Accept, S::Sent | S::Received) => Some(S::Accepted),
        (T::Decline, S::Sent | S::Received) => Some(S::Declined),
        (T::Close, S::Accepted) => Some(S::Closed),
        (T::Withdraw, S::Sent | S::Received) => Some(S::Withdrawn),
        (T::Forward, S::Sent | S::Received | S::Accepted) => Some(S::Forwarded),
        _ => None,
    }
}

/// Deadlines, configurable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeadlineRules {
    pub acknowledgement_working_days: u32,
    pub acknowledgement_acute_hours: u32,
    pub assessment_working_days: u32,
    /// A sender reminds the recipient at most once in this many hours.
    pub reminder_interval_hours: u32,
}

impl Default for DeadlineRules {
    fn default() -> Self {
        Self {
            acknowledgement_working_days: 1,
            acknowledgement_acute_hours: 4,
            assessment_working_days: 5,
            reminder_interval_hours: 24,
        }
    }
}

impl DeadlineRules {
    /// When the recipient must acknowledge: acute within hours, regular within working days.
    pub fn acknowledgement_due(&self, sent_at: DateTime<Utc>, urgency: Urgency) -> DateTime<Utc> {
        match urgency {
            Urgency::Acute => {
                sent_at + Duration::hours(i64::from(self.acknowledgement_acute_hours))
            }
            Urgency::Regular => {
                calendar::add_working_days(sent_at, self.acknowledgement_working_days)
            }
        }
    }

    /// For a report: Veilig Thuis decides on safety within working days of receipt.
    pub fn assessment_due(
        &self,
        kind: HandoffKind,
        received_at: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        (kind == HandoffKind::Report)
            .then(|| calendar::add_working_days(received_at, self.assessment_working_days))
    }
}

/// A handoff's deadlines as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadlines {
    pub acknowledgement_due_at: DateTime<Utc>,
    pub assessment_due_at: Option<DateTime<Utc>>,
    pub assessment_decided_at: Option<DateTime<Utc>>,
}

/// A deadline of a handoff.
#[derive(Enum, Deserialize, Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Deadline {
    /// The recipient acknowledges receipt.
    Acknowledgement,
    /// Veilig Thuis decides on a report's safety (veiligheidsbeoordeling).
    Assessment,
}

labelled!(Deadline {
    Acknowledgement => ("acknowledgement", "Ontvangstbevestiging", "Acknowledgement",
        "The recipient acknowledges receipt: within working days, or hours when acute."),
    Assessment => ("assessment", "Veiligheidsbeoordeling", "Safety assessment",
        "Veilig Thuis decides on a report's safety within working days of receipt."),
});

/// The deadlines that have passed unmet, each with the moment it passed: not acknowledged in
/// time, or — for a report — no safety assessment decided in time while it is with Veilig
/// Thuis.
pub fn overdue_deadlines(
    kind: HandoffKind,
    status: HandoffStatus,
    deadlines: &Deadlines,
    now: DateTime<Utc>,
) -> Vec<(Deadline, DateTime<Utc>)> {
    let mut overdue = Vec::new();
    if status == HandoffStatus::Sent && deadlines.acknowledgement_due_at < now {
        overdue.push((Deadline::Acknowledgement, deadlines.acknowledgement_due_at));
    }
    if kind == HandoffKind::Report
        && matches!(status, HandoffStatus::Received | HandoffStatus::Accepted)
        && deadlines.assessment_decided_at.is_none()
        && let Some(due) = deadlines.assessment_due_at.filter(|due| *due < now)
    {
        overdue.push((Deadline::Assessment, due));
    }
    overdue
}

/// Overdue: some deadline passed unmet (see [`overdue_deadlines`]). (`db::handoffs::list`
/// filters on the same condition in SQL; a test holds the two together.)
pub fn is_overdue(
    kind: HandoffKind,
    status: HandoffStatus,
    deadlines: &Deadlines,
    now: DateTime<Utc>,
) -> bool {
    !overdue_deadlines(kind, status, deadlines, now).is_empty()
}

/// The recipient's duty contact (piketfunctie) is shown to the sender of an acute handoff whose
/// acknowledgement is overdue: someone must pick up the phone.
pub fn shows_duty_contact(
    party: Party,
    urgency: Urgency,
    overdue: &[(Deadline, DateTime<Utc>)],
) -> bool {
    party == Party::Sender
        && urgency == Urgency::Acute
        && overdue.iter().any(|(d, _)| *d == Deadline::Acknowledgement)
}

/// Whether a handoff is still open: reminders and overdue notices concern it.
pub fn is_open(status: HandoffStatus) -> bool {
    matches!(
        status,
        HandoffStatus::Sent | HandoffStatus::Received | HandoffStatus::Accepted
    )
}

/// A report Veilig Thuis owes feedback on: received, and either no status feedback yet, or past
/// its assessment deadline without a safety-assessment decision. (`db::handoffs::list` filters
/// on the same condition in SQL; a test holds the two together.)
pub fn awaiting_feedback(
    kind: HandoffKind,
    status: HandoffStatus,
    has_status_feedback: bool,
    deadlines: &Deadlines,
    now: DateTime<Utc>,
) -> bool {
    kind == HandoffKind::Report
        && matches!(status, HandoffStatus::Received | HandoffStatus::Accepted)
        && (!has_status_feedback
            || (deadlines.assessment_decided_at.is_none()
                && deadlines.assessment_due_at.is_some_and(|due| due < now)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::reference::Labelled;
    use OrganisationKind as K;

    /// Every kind between every pair of organisation kinds, against DESIGN.md's table.
    #[test]
    fn routes_follow_the_design_table() {
        let allowed: &[(HandoffKind, &[(K, K)])] = &[
            (
                HandoffKind::AdviceRequest,
                &[(K::School, K::VeiligThuis), (K::Wijkteam, K::VeiligThuis)],
            ),
            (
                HandoffKind::Report,
                &[(K::School, K::VeiligThuis), (K::Wijkteam, K::VeiligThuis)],
            ),
            (
                HandoffKind::InformationRequest,
                &[(K::VeiligThuis, K::School), (K::VeiligThuis, K::Wijkteam)],
            ),
            (
                HandoffKind::InformationResponse,
                &[(K::School, K::VeiligThuis), (K::Wijkteam, K::VeiligThuis)],
            ),
            (
                HandoffKind::Referral,
                &[
                    (K::School, K::Wijkteam),
                    (K::School, K::Ggd),
                    (K::School, K::Leerplicht),
                ],
            ),
            (HandoffKind::SignalToSchool, &[(K::Wijkteam, K::School)]),
            (HandoffKind::TransferRequest, &[(K::School, K::School)]),
            (HandoffKind::SchoolTransfer, &[(K::School, K::School)]),
        ];
        assert_eq!(allowed.len(), HandoffKind::ALL.len());
        let mut checked = 0;
        for (kind, routes) in allowed {
            for &from in OrganisationKind::ALL {
                for &to in OrganisationKind::ALL {
                    assert_eq!(
                        route_allowed(*kind, from, to),
                        routes.contains(&(from, to)),
                        "{} from {from} to {to}",
                        kind.code()
                    );
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 8 * 7 * 7);
    }

    #[test]
    fn legal_bases() {
        use HandoffKind as H;
        let cases = [
            (H::AdviceRequest, false, LegalBasis::Anonymous),
            (H::AdviceRequest, true, LegalBasis::Meldrecht),
            (H::Report, true, LegalBasis::Meldrecht),
            (H::InformationRequest, true, LegalBasis::Statutory),
            (H::InformationResponse, true, LegalBasis::Statutory),
            (H::Referral, true, LegalBasis::Consent),
            (H::SignalToSchool, true, LegalBasis::Consent),
            (H::TransferRequest, true, LegalBasis::Statutory),
            (H::SchoolTransfer, true, LegalBasis::Statutory),
        ];
        for (kind, identified, basis) in cases {
            assert_eq!(legal_basis(kind, identified), basis, "{kind:?}");
            assert_eq!(basis_as_sent(kind, identified, false), basis, "{kind:?}");
        }
        // Naming a consent changes the basis only where the kind may rest on it.
        for &kind in H::ALL {
            let expected = if may_rest_on_consent(kind) {
                LegalBasis::Consent
            } else {
                legal_basis(kind, true)
            };
            assert_eq!(basis_as_sent(kind, true, true), expected, "{kind:?}");
        }
        let consent_kinds: Vec<H> = H::ALL
            .iter()
            .copied()
            .filter(|k| may_rest_on_consent(*k))
            .collect();
        assert_eq!(
            consent_kinds,
            [H::Referral, H::SignalToSchool, H::SchoolTransfer]
        );
        let answering: Vec<(H, H)> = H::ALL
            .iter()
            .filter_map(|k| answers(*k).map(|a| (*k, a)))
            .collect();
        assert_eq!(
            answering,
            [
                (H::InformationResponse, H::InformationRequest),
                (H::SchoolTransfer, H::TransferRequest)
            ]
        );
        assert!(!requires_child(H::AdviceRequest));
        assert!(
            H::ALL
                .iter()
                .filter(|k| **k != H::AdviceRequest)
                .all(|k| requires_child(*k))
        );
    }

    /// Every transition from every status.
    #[test]
    fn lifecycle_table() {
        use HandoffStatus as S;
        use Transition as T;
        let allowed: &[(T, S, S)] = &[
            (T::Acknowledge, S::Sent, S::Received),
            (T::Accept, S::Sent, S::Accepted),
            (T::Accept, S::Received, S::Accepted),
            (T::Decline, S::Sent, S::Declined),
            (T::Decline, S::Received, S::Declined),
            (T::Close, S::Accepted, S::Closed),
            (T::Withdraw, S::Sent, S::Withdrawn),
            (T::Withdraw, S::Received, S::Withdrawn),
            (T::Forward, S::Sent, S::Forwarded),
            (T::Forward, S::Received, S::Forwarded),
            (T::Forward, S::Accepted, S::Forwarded),
        ];
        for &transition in Transition::ALL {
            for &status in HandoffStatus::ALL {
                let expected = allowed
                    .iter()
                    .find(|(t, s, _)| *t == transition && *s == status)
                    .map(|(_, _, next)| *next);
                assert_eq!(
                    next_status(status, transition),
                    expected,
                    "{transition:?} from {status:?}"
                );
            }
        }
        assert_eq!(Transition::Withdraw.party(), Party::Sender);
        for t in [T::Acknowledge, T::Accept, T::Decline, T::Close, T::Forward] {
            assert_eq!(t.party(), Party::Recipient);
        }
    }

    #[test]
    fn report_terms() {
        let now: DateTime<Utc> = "2026-11-22T12:00:00Z".parse().unwrap();
        let informed = ReportTerms {
            parents_informed_at: Some("2026-11-21T12:00:00Z".parse().unwrap()),
            parents_not_informed_reason: None,
            parents_not_informed_explanation: None,
            melder_identity_disclosable: true,
            melder_identity_reason: None,
        };
        let fields = |t: &ReportTerms| {
            check_report_terms(t, now)
                .into_iter()
                .map(|e| e.field)
                .collect::<Vec<_>>()
        };
        assert!(fields(&informed).is_empty());
        let cases: Vec<(ReportTerms, &[&str])> = vec![
            (
                ReportTerms {
                    parents_informed_at: None,
                    ..informed
                },
                &["parentsInformedAt"],
            ),
            (
                ReportTerms {
                    parents_not_informed_reason: Some(ParentsNotInformedReason::Urgency),
                    ..informed
                },
                &["parentsNotInformedReason"],
            ),
            (
                ReportTerms {
                    parents_informed_at: None,
                    parents_not_informed_reason: Some(ParentsNotInformedReason::SafetyChild),
                    ..informed
                },
                &["parentsNotInformedExplanation"],
            ),
            (
                ReportTerms {
                    parents_informed_at: None,
                    parents_not_informed_reason: Some(ParentsNotInformedReason::SafetyChild),
                    parents_not_informed_explanation: Some("Vader is gewelddadig."),
                    ..informed
                },
                &[],
            ),
            (
                ReportTerms {
                    parents_informed_at: Some("2026-11-23T12:00:00Z".parse().unwrap()),
                    ..informed
                },
                &["parentsInformedAt"],
            ),
            (
                ReportTerms {
                    melder_identity_disclosable: false,
                    ..informed
                },
                &["melderIdentityReason"],
            ),
            (
                ReportTerms {
                    melder_identity_disclosable: false,
                    melder_identity_reason: Some("Vrees voor represailles."),
                    ..informed
                },
                &[],
            ),
        ];
        for (terms, expected) in cases {
            assert_eq!(fields(&terms), expected);
        }
        assert!(!report_only_fields_present(&ReportTerms {
            parents_informed_at: None,
            ..informed
        }));
        assert!(report_only_fields_present(&informed));
    }

    #[test]
    fn overdue_handoffs() {
        use HandoffStatus as S;
        let now: DateTime<Utc> = "2026-11-25T12:00:00Z".parse().unwrap();
        let past = Some("2026-11-24T12:00:00Z".parse::<DateTime<Utc>>().unwrap());
        let future = Some("2026-11-26T12:00:00Z".parse::<DateTime<Utc>>().unwrap());
        let deadlines = |ack: Option<DateTime<Utc>>, assessment, decided| Deadlines {
            acknowledgement_due_at: ack.unwrap(),
            assessment_due_at: assessment,
            assessment_decided_at: decided,
        };
        let cases = [
            (
                HandoffKind::AdviceRequest,
                S::Sent,
                deadlines(past, None, None),
                true,
            ),
            (
                HandoffKind::AdviceRequest,
                S::Sent,
                deadlines(future, None, None),
                false,
            ),
            (
                HandoffKind::AdviceRequest,
                S::Received,
                deadlines(past, None, None),
                false,
            ),
            (
                HandoffKind::Report,
                S::Received,
                deadlines(past, past, None),
                true,
            ),
            (
                HandoffKind::Report,
                S::Accepted,
                deadlines(past, past, None),
                true,
            ),
            (
                HandoffKind::Report,
                S::Accepted,
                deadlines(past, past, now.into()),
                false,
            ),
            (
                HandoffKind::Report,
                S::Accepted,
                deadlines(past, future, None),
                false,
            ),
            (
                HandoffKind::Report,
                S::Closed,
                deadlines(past, past, None),
                false,
            ),
            (
                HandoffKind::Report,
                S::Withdrawn,
                deadlines(past, past, None),
                false,
            ),
            (
                HandoffKind::Report,
                S::Declined,
                deadlines(past, past, None),
                false,
            ),
            (
                HandoffKind::Referral,
                S::Accepted,
                deadlines(past, past, None),
                false,
            ),
        ];
        for (kind, status, deadlines, overdue) in cases {
            assert_eq!(
                is_overdue(kind, status, &deadlines, now),
                overdue,
                "{kind:?} {status:?} {deadlines:?}"
            );
        }
    }

    #[test]
    fn which_deadline_is_overdue_since_when() {
        use HandoffStatus as S;
        let now: DateTime<Utc> = "2026-11-25T12:00:00Z".parse().unwrap();
        let ack: DateTime<Utc> = "2026-11-24T09:00:00Z".parse().unwrap();
        let assessment: DateTime<Utc> = "2026-11-25T11:00:00Z".parse().unwrap();
        let deadlines = Deadlines {
            acknowledgement_due_at: ack,
            assessment_due_at: Some(assessment),
            assessment_decided_at: None,
        };
        // Unacknowledged: only the acknowledgement (the assessment starts at receipt).
        assert_eq!(
            overdue_deadlines(HandoffKind::Report, S::Sent, &deadlines, now),
            [(Deadline::Acknowledgement, ack)]
        );
        for status in [S::Received, S::Accepted] {
            assert_eq!(
                overdue_deadlines(HandoffKind::Report, status, &deadlines, now),
                [(Deadline::Assessment, assessment)]
            );
        }
        // An advice request has no assessment deadline.
        assert_eq!(
            overdue_deadlines(HandoffKind::AdviceRequest, S::Received, &deadlines, now),
            []
        );
        // At the deadline itself nothing is overdue yet.
        assert_eq!(
            overdue_deadlines(HandoffKind::Report, S::Received, &deadlines, assessment),
            []
        );
        for status in [S::Declined, S::Closed, S::Withdrawn, S::Forwarded] {
            assert!(!is_open(status));
            assert_eq!(
                overdue_deadlines(HandoffKind::Report, status, &deadlines, now),
                []
            );
        }
    }

    /// Party × urgency × which deadline is overdue.
    #[test]
    fn duty_contact_for_the_sender_of_an_overdue_acute_handoff() {
        let at: DateTime<Utc> = "2026-11-25T12:00:00Z".parse().unwrap();
        let overdue: [&[(Deadline, DateTime<Utc>)]; 3] = [
            &[],
            &[(Deadline::Acknowledgement, at)],
            &[(Deadline::Assessment, at)],
        ];
        for party in [Party::Sender, Party::Recipient] {
            for &urgency in Urgency::ALL {
                for (i, deadlines) in overdue.iter().enumerate() {
                    let expected = party == Party::Sender && urgency == Urgency::Acute && i == 1;
                    assert_eq!(
                        shows_duty_contact(party, urgency, deadlines),
                        expected,
                        "{party:?} {urgency:?} {deadlines:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn reports_awaiting_feedback() {
        use HandoffStatus as S;
        let now: DateTime<Utc> = "2026-11-25T12:00:00Z".parse().unwrap();
        let past = Some("2026-11-24T12:00:00Z".parse::<DateTime<Utc>>().unwrap());
        let future = Some("2026-11-26T12:00:00Z".parse::<DateTime<Utc>>().unwrap());
        let d = |due, decided| Deadlines {
            acknowledgement_due_at: now,
            assessment_due_at: due,
            assessment_decided_at: decided,
        };
        let cases = [
            (
                HandoffKind::Report,
                S::Received,
                false,
                d(future, None),
                true,
            ),
            (
                HandoffKind::Report,
                S::Received,
                true,
                d(future, None),
                false,
            ),
            (HandoffKind::Report, S::Accepted, true, d(past, None), true),
            (
                HandoffKind::Report,
                S::Accepted,
                true,
                d(past, Some(now)),
                false,
            ),
            (HandoffKind::Report, S::Sent, false, d(None, None), false),
            (HandoffKind::Report, S::Closed, false, d(past, None), false),
            (
                HandoffKind::Report,
                S::Withdrawn,
                false,
                d(past, None),
                false,
            ),
            (
                HandoffKind::AdviceRequest,
                S::Received,
                false,
                d(None, None),
                false,
            ),
        ];
        for (kind, status, has_feedback, deadlines, expected) in cases {
            assert_eq!(
                awaiting_feedback(kind, status, has_feedback, &deadlines, now),
                expected,
                "{kind:?} {status:?} feedback {has_feedback} {deadlines:?}"
            );
        }
    }

    #[test]
    fn deadlines() {
        let rules = DeadlineRules::default();
        let friday: DateTime<Utc> = "2026-11-20T14:00:00Z".parse().unwrap();
        assert_eq!(
            rules.acknowledgement_due(friday, Urgency::Regular),
            "2026-11-23T14:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert_eq!(
            rules.acknowledgement_due(friday, Urgency::Acute),
            "2026-11-20T18:00:00Z".parse::<DateTime<Utc>>().unwrap(),
            "acute: four clock hours, weekend or not"
        );
        assert_eq!(
            rules.assessment_due(HandoffKind::Report, friday),
            Some("2026-11-27T14:00:00Z".parse().unwrap())
        );
        assert_eq!(
            rules.assessment_due(HandoffKind::AdviceRequest, friday),
            None
        );
    }
}
