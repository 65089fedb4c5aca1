//! The joint case review (casusbespreking) of the ontwikkeltafel: the school that sent a report
//! and the Veilig Thuis that received it look back on it together, each bringing its own part —
//! a pseudonymised chronology generated from its own records and its reflections.
//!
//! Either side proposes, the other accepts or declines; nothing is shared before both agree,
//! and a side's part is shown to the other only once both released theirs. The chronology is
//! built from codes only ([`Fact`] holds `&'static str` codes of the reference lists and a
//! moment that never leaves this module except as a day relative to the report), so no name,
//! BSN, date of birth or free text of the records can enter it.

use chrono::{DateTime, Utc};
use diesel::{deserialize::FromSqlRow, expression::AsExpression, sql_types::Text};
use poem_openapi::Enum;
use serde::{Deserialize, Serialize};

use crate::{
    domain::{
        calendar::to_dutch_time,
        check_text,
        handoff::{HandoffKind, HandoffStatus},
        kernteam::{ChildName, check_anonymous},
        organisation::OrganisationKind,
        refusal::Refusal,
    },
    labelled,
};

/// Where a review stands.
#[derive(
    Enum, Deserialize, Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow,
)]
#[diesel(sql_type = Text)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum ReviewStatus {
    Proposed,
    Declined,
    Agreed,
    Released,
    Withdrawn,
}

labelled!(ReviewStatus {
    Proposed => ("proposed", "Voorgesteld", "Proposed", "One side proposed it; the other has not answered."),
    Declined => ("declined", "Afgewezen", "Declined", "The other side declined it."),
    Agreed => ("agreed", "Afgesproken", "Agreed", "Both sides agreed; each writes and releases its part."),
    Released => ("released", "Vrijgegeven", "Released", "Both sides released their part: readable by both."),
    Withdrawn => ("withdrawn", "Ingetrokken", "Withdrawn", "A side withdrew it before it was released."),
});

/// The two sides of a reviewed report.
#[derive(
    Enum, Deserialize, Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow,
)]
#[diesel(sql_type = Text)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The school that sent the report.
    School,
    /// The Veilig Thuis that received it.
    VeiligThuis,
}

labelled!(Side {
    School => ("school", "School", "School", "The school that sent the report."),
    VeiligThuis => ("veilig_thuis", "Veilig Thuis", "Veilig Thuis", "The Veilig Thuis that received it."),
});

impl Side {
    pub fn other(self) -> Side {
        match self {
            Side::School => Side::VeiligThuis,
            Side::VeiligThuis => Side::School,
        }
    }
}

/// The themes the ontwikkeltafel looks at.
#[derive(
    Enum, Deserialize, Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow,
)]
#[diesel(sql_type = Text)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Theme {
    Communication,
    RoleClarity,
    Feedback,
    ParentsInvolvement,
    ChildAtSchool,
}

labelled!(Theme {
    Communication => ("communication", "Communicatie", "Communication",
        "How the school and Veilig Thuis reached each other."),
    RoleClarity => ("role_clarity", "Rolduidelijkheid", "Role clarity",
        "Who did what, and whether everyone knew."),
    Feedback => ("feedback", "Terugkoppeling", "Feedback",
        "Whether the school heard back, and whether parents were asked consent for it."),
    ParentsInvolvement => ("parents_involvement", "Betrokkenheid ouders", "Parents' involvement",
        "How the parents were informed and involved."),
    ChildAtSchool => ("child_at_school", "Het kind op school", "The child at school meanwhile",
        "How the school treated the child before, during and after the report."),
});

/// A step on a review.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewAct {
    Accept,
    Decline,
    Withdraw,
    Write,
    Release,
}

labelled!(ReviewAct {
    Accept => ("acceptance", "Aanvaarden", "Accept", "The other side agrees to the review."),
    Decline => ("declination", "Afwijzen", "Decline", "The other side declines the review."),
    Withdraw => ("withdrawal", "Intrekken", "Withdraw", "Either side withdraws it before release."),
    Write => ("reflections", "Reflecties", "Reflections", "A side writes its reflections."),
    Release => ("release", "Vrijgeven", "Release", "A side releases its part."),
});

/// What a proposal needs to know of the handoff named.
pub struct ProposeContext {
    pub kind: HandoffKind,
    pub status: HandoffStatus,
    pub sender: OrganisationKind,
    pub recipient: OrganisationKind,
    /// A review of it is proposed, agreed or released already.
    pub open_review: bool,
}

/// Only a closed report from a school to Veilig Thuis is reviewed, once at a time.
pub fn decide_propose(context: &ProposeContext) -> Result<(), Refusal> {
    let reviewable = context.kind == HandoffKind::Report
        && context.status == HandoffStatus::Closed
        && context.sender == OrganisationKind::School
        && context.recipient == OrganisationKind::VeiligThuis;
    if !reviewable {
        return Err(Refusal::NotAClosedReport);
    }
    if context.open_review {
        return Err(Refusal::ReviewExists);
    }
    Ok(())
}

/// A review and the caller's part of it, as a step sees them.
pub struct StepContext {
    pub status: ReviewStatus,
    /// The caller's part was released.
    pub own_released: bool,
    /// The other side's part was released.
    pub other_released: bool,
    /// The caller's part has reflections (what went well or could be better).
    pub own_written: bool,
}

/// What a step leads to: the review's next status, and whether the caller's part is released.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepPlan {
    pub status: ReviewStatus,
    pub release_part: bool,
}

/// Acceptance and declination answer a proposal; a part is written and released while the
/// review is agreed and the part not released (releasing needs reflections), and the second
/// release releases the review; either side withdraws it until then.
pub fn decide_step(act: ReviewAct, context: &StepContext) -> Result<StepPlan, Refusal> {
    use ReviewStatus as S;
    let refuse = || Refusal::ReviewStep {
        status: context.status,
        act,
    };
    let plan = |status| StepPlan {
        status,
        release_part: false,
    };
    match (act, context.status) {
        (ReviewAct::Accept, S::Proposed) => Ok(plan(S::Agreed)),
        (ReviewAct::Decline, S::Proposed) => Ok(plan(S::Declined)),
        (ReviewAct::Withdraw, S::Proposed | S::Agreed) => Ok(plan(S::Withdrawn)),
        (ReviewAct::Write, S::Agreed) if !context.own_released => Ok(plan(S::Agreed)),
        (ReviewAct::Release, S::Agreed) if !context.own_released => {
            if !context.own_written {
                return Err(Refusal::ReflectionsRequired);
            }
            Ok(StepPlan {
                status: if context.other_released {
                    S::Released
                } else {
                    S::Agreed
                },
                release_part: true,
            })
        }
        _ => Err(refuse()),
    }
}

/// A side's reflections as they are kept: a blank text is none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reflections<'a> {
    pub went_well: Option<&'a str>,
    pub could_be_better: Option<&'a str>,
}

impl Reflections<'_> {
    /// A part is released only with something written.
    pub fn written(&self) -> bool {
        self.went_well.is_some() || self.could_be_better.is_some()
    }
}

/// A side's reflections: blank ones dropped, the rest not padded with whitespace and anonymous —
/// no valid BSN, no registered child's full name (the children of both sides).
pub fn check_reflections<'a>(
    went_well: Option<&'a str>,
    could_be_better: Option<&'a str>,
    names: &[ChildName],
) -> Result<Reflections<'a>, Refusal> {
    let present = |text: Option<&'a str>| text.filter(|t| !t.trim().is_empty());
    let reflections = Reflections {
        went_well: present(went_well),
        could_be_better: present(could_be_better),
    };
    let texts: Vec<(&'static str, &str)> = [
        ("wentWell", reflections.went_well),
        ("couldBeBetter", reflections.could_be_better),
    ]
    .into_iter()
    .filter_map(|(field, text)| text.map(|t| (field, t)))
    .collect();
    let invalid: Vec<_> = texts
        .iter()
        .filter_map(|(field, text)| check_text(field, text))
        .collect();
    if !invalid.is_empty() {
        return Err(Refusal::Invalid(invalid));
    }
    check_anonymous(&texts, names).map_err(|refusal| match refusal {
        Refusal::NotAnonymous { field, what } => Refusal::ReflectionNotAnonymous { field, what },
        other => other,
    })?;
    Ok(reflections)
}

/// What happened, in the chronology.
#[derive(Enum, Deserialize, Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum ChronologyEvent {
    /// A signal was recorded (`code`: its category; `by`: the recorder's role).
    SignalRecorded,
    /// A meldcode case was opened.
    CaseOpened,
    /// A meldcode step was recorded (`code`: the step).
    StepRecorded,
    /// The case was closed.
    CaseClosed,
    /// The report was sent (day 0).
    ReportSent,
    /// The report moved on (`code`: its new status).
    ReportStatus,
    /// Veilig Thuis decided after its safety assessment.
    SafetyAssessmentDecided,
    /// Feedback on the report (`code`: its category).
    Feedback,
    /// Veilig Thuis asked consent (`code`: the purpose).
    ConsentAsked,
    /// A party answered (`code`: `granted` or `refused`; `by`: `guardian` or `child`).
    ConsentAnswered,
}

labelled!(ChronologyEvent {
    SignalRecorded => ("signal_recorded", "Signaal vastgelegd", "Signal recorded", "A signal was recorded."),
    CaseOpened => ("case_opened", "Meldcodetraject gestart", "Case opened", "A meldcode case was opened."),
    StepRecorded => ("step_recorded", "Meldcodestap vastgelegd", "Step recorded", "A meldcode step was recorded."),
    CaseClosed => ("case_closed", "Meldcodetraject afgesloten", "Case closed", "The case was closed."),
    ReportSent => ("report_sent", "Melding gedaan", "Report sent", "The report was sent: day 0."),
    ReportStatus => ("report_status", "Status melding", "Report status", "The report moved on."),
    SafetyAssessmentDecided => ("safety_assessment_decided", "Veiligheidsbeoordeling gedaan",
        "Safety assessment decided", "Veilig Thuis decided after its safety assessment."),
    Feedback => ("feedback", "Terugkoppeling", "Feedback", "Feedback on the report."),
    ConsentAsked => ("consent_asked", "Toestemming gevraagd", "Consent asked", "Veilig Thuis asked consent."),
    ConsentAnswered => ("consent_answered", "Toestemming beantwoord", "Consent answered",
        "A parent or the child answered."),
});

/// A record as the chronology takes it: a moment and codes, never text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fact {
    pub at: DateTime<Utc>,
    pub event: ChronologyEvent,
    /// A code of a reference list (a category, a step, a status).
    pub code: Option<&'static str>,
    /// A role or an organisation kind, never a person.
    pub by: Option<&'static str>,
}

/// A line of the chronology: the day relative to the report (its Dutch date: day 0).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChronologyEntry {
    pub day: i64,
    pub event: ChronologyEvent,
    pub code: Option<String>,
    pub by: Option<String>,
}

/// The facts in order, with their moments turned into days relative to the report.
pub fn chronology(report_sent_at: DateTime<Utc>, mut facts: Vec<Fact>) -> Vec<ChronologyEntry> {
    let day_zero = to_dutch_time(report_sent_at).date_naive();
    facts.sort_by_key(|f| f.at);
    facts
        .into_iter()
        .map(|f| ChronologyEntry {
            day: (to_dutch_time(f.at).date_naive() - day_zero).num_days(),
            event: f.event,
            code: f.code.map(str::to_owned),
            by: f.by.map(str::to_owned),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ReviewAct as A;
    use ReviewStatus as S;

    fn context(status: ReviewStatus) -> StepContext {
        StepContext {
            status,
            own_released: false,
            other_released: false,
            own_written: true,
        }
    }

    #[test]
    fn only_a_closed_report_from_a_school_to_veilig_thuis() {
        use OrganisationKind as K;
        let propose = |kind, status, sender, recipient, open_review| {
            decide_propose(&ProposeContext {
                kind,
                status,
                sender,
                recipient,
                open_review,
            })
        };
        let report = HandoffKind::Report;
        let closed = HandoffStatus::Closed;
        assert_eq!(
            propose(report, closed, K::School, K::VeiligThuis, false),
            Ok(())
        );
        for (kind, status, sender, recipient) in [
            (report, HandoffStatus::Accepted, K::School, K::VeiligThuis),
            (
                HandoffKind::AdviceRequest,
                closed,
                K::School,
                K::VeiligThuis,
            ),
            (report, closed, K::Wijkteam, K::VeiligThuis),
        ] {
            assert_eq!(
                propose(kind, status, sender, recipient, false),
                Err(Refusal::NotAClosedReport)
            );
        }
        assert_eq!(
            propose(report, closed, K::School, K::VeiligThuis, true),
            Err(Refusal::ReviewExists)
        );
    }

    #[test]
    fn the_steps_of_a_review() {
        let table = [
            (A::Accept, S::Proposed, Some(S::Agreed)),
            (A::Decline, S::Proposed, Some(S::Declined)),
            (A::Withdraw, S::Proposed, Some(S::Withdrawn)),
            (A::Withdraw, S::Agreed, Some(S::Withdrawn)),
            (A::Write, S::Agreed, Some(S::Agreed)),
            (A::Release, S::Agreed, Some(S::Agreed)),
            (A::Accept, S::Agreed, None),
            (A::Decline, S::Declined, None),
            (A::Write, S::Proposed, None),
            (A::Release, S::Proposed, None),
            (A::Withdraw, S::Released, None),
            (A::Withdraw, S::Declined, None),
            (A::Write, S::Released, None),
        ];
        for (act, status, to) in table {
            let decided = decide_step(act, &context(status)).map(|p| p.status);
            match to {
                Some(to) => assert_eq!(decided, Ok(to), "{act:?} {status:?}"),
                None => assert_eq!(decided, Err(Refusal::ReviewStep { status, act })),
            }
        }
    }

    #[test]
    fn the_second_release_releases_the_review() {
        let mut c = context(S::Agreed);
        let plan = decide_step(A::Release, &c).unwrap();
        assert_eq!((plan.status, plan.release_part), (S::Agreed, true));
        c.other_released = true;
        assert_eq!(decide_step(A::Release, &c).unwrap().status, S::Released);
        // Released is final for the part: no rewriting, no second release.
        c.own_released = true;
        assert!(decide_step(A::Write, &c).is_err());
        assert!(decide_step(A::Release, &c).is_err());
        // Nothing to release without reflections.
        let mut empty = context(S::Agreed);
        empty.own_written = false;
        assert_eq!(
            decide_step(A::Release, &empty),
            Err(Refusal::ReflectionsRequired)
        );
    }

    #[test]
    fn reflections_are_anonymous() {
        let names = [ChildName {
            given_name: "Noah".into(),
            family_name: "de Boer".into(),
        }];
        assert_eq!(
            check_reflections(Some("We belden snel met elkaar."), Some("  "), &names),
            Ok(Reflections {
                went_well: Some("We belden snel met elkaar."),
                could_be_better: None,
            })
        );
        let blank = check_reflections(Some(" "), None, &names).unwrap();
        assert!(!blank.written());
        assert!(matches!(
            check_reflections(None, Some("Noah de Boer zat nog weken in de klas"), &names),
            Err(Refusal::ReflectionNotAnonymous {
                field: "couldBeBetter",
                ..
            })
        ));
        assert!(matches!(
            check_reflections(Some("BSN 111 222 333 stond in de melding"), None, &names),
            Err(Refusal::ReflectionNotAnonymous {
                field: "wentWell",
                ..
            })
        ));
        assert!(matches!(
            check_reflections(Some(" padded "), None, &names),
            Err(Refusal::Invalid(_))
        ));
    }

    #[test]
    fn the_chronology_counts_days_from_the_report_in_dutch_dates() {
        let at = |t: &str| t.parse::<DateTime<Utc>>().unwrap();
        let fact = |t: &str, event, code| Fact {
            at: at(t),
            event,
            code,
            by: Some("care_coordinator"),
        };
        // Sent at 23:30 UTC on 1 March: 2 March in the Netherlands, day 0.
        let lines = chronology(
            at("2026-03-01T23:30:00Z"),
            vec![
                fact(
                    "2026-03-06T09:00:00Z",
                    ChronologyEvent::SafetyAssessmentDecided,
                    None,
                ),
                fact(
                    "2026-02-07T09:00:00Z",
                    ChronologyEvent::SignalRecorded,
                    Some("injury"),
                ),
                fact("2026-03-01T23:30:00Z", ChronologyEvent::ReportSent, None),
            ],
        );
        let days: Vec<(i64, ChronologyEvent)> = lines.iter().map(|l| (l.day, l.event)).collect();
        assert_eq!(
            days,
            [
                (-23, ChronologyEvent::SignalRecorded),
                (0, ChronologyEvent::ReportSent),
                (4, ChronologyEvent::SafetyAssessmentDecided),
            ]
        );
        assert_eq!(lines[0].code.as_deref(), Some("injury"));
    }
}
