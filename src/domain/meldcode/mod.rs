//! The meldcode path (Meldcode huiselijk geweld en kindermishandeling) and the 2019
//! afwegingskader: which decision a weighing allows, and what a step needs before it.

use diesel::{deserialize::FromSqlRow, expression::AsExpression, sql_types::Text};
use std::fmt;

use chrono::NaiveDate;
use poem_openapi::Enum;
use serde::{Deserialize, Serialize};

use crate::{domain::FieldError, labelled};

pub mod approval;
mod decide;
pub mod file;
pub mod record;

pub use decide::{
    Agreement, CaseContext, ClosePlan, Lead, Owner, StepPlan, StepRequest, decide_agreement,
    decide_agreement_change, decide_close, decide_lead_change, decide_open, decide_step,
};

/// An answer to an afwegingsvraag.
#[derive(Enum, Deserialize, Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    Yes,
    No,
    /// Twijfel: errs toward the child's safety.
    Doubt,
}

labelled!(Answer {
    Yes => ("yes", "Ja", "Yes", "Yes."),
    No => ("no", "Nee", "No", "No."),
    Doubt => ("doubt", "Twijfel", "Doubt",
        "Not sure. Errs toward the child's safety: on question 1 it counts as yes, on questions 2 to 5 as the answer that requires a report."),
});

/// The five afwegingsvragen, in order.
#[derive(
    Enum, Deserialize, Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
)]
#[oai(rename_all = "camelCase")]
#[serde(rename_all = "camelCase")]
pub enum Question {
    /// 1. Is there a suspicion of (threat of) domestic violence or child abuse?
    Suspicion,
    /// 2. Is there acute or structural unsafety?
    Unsafety,
    /// 3. Can I offer or organise adequate help?
    HelpPossible,
    /// 4. Do those involved accept the help and cooperate?
    HelpAccepted,
    /// 5. Does the help lead to lasting safety within the agreed time?
    HelpEffective,
}

labelled!(Question {
    Suspicion => ("suspicion",
        "1. Is er een vermoeden van (dreiging van) huiselijk geweld of kindermishandeling?",
        "1. Is there a suspicion of (threat of) domestic violence or child abuse?",
        "No: close. Yes or doubt: continue with question 2."),
    Unsafety => ("unsafety",
        "2. Is er sprake van acute onveiligheid of structurele onveiligheid?",
        "2. Is there acute or structural unsafety?",
        "Yes or doubt: report to Veilig Thuis. No: continue with question 3."),
    HelpPossible => ("helpPossible",
        "3. Ben ik in staat effectieve hulp te bieden of te organiseren?",
        "3. Can I offer or organise adequate help?",
        "No or doubt: report. Yes: continue with question 4."),
    HelpAccepted => ("helpAccepted",
        "4. Aanvaarden de betrokkenen hulp en zijn zij bereid zich in te zetten?",
        "4. Do those involved accept the help and cooperate?",
        "No or doubt: report. Yes: continue with question 5."),
    HelpEffective => ("helpEffective",
        "5. Leidt de hulp binnen de gewenste termijn tot de noodzakelijke veiligheid en het duurzame herstel?",
        "5. Does the help lead to lasting safety within the agreed time?",
        "No or doubt: report. Yes: organise the help, or close with monitoring agreements."),
});

impl Question {
    pub const ORDER: [Question; 5] = [
        Self::Suspicion,
        Self::Unsafety,
        Self::HelpPossible,
        Self::HelpAccepted,
        Self::HelpEffective,
    ];

    pub fn number(self) -> usize {
        Self::ORDER.iter().position(|q| *q == self).unwrap_or(0) + 1
    }

    /// The question in words a care coordinator knows.
    pub fn text(self) -> &'static str {
        use crate::domain::reference::Labelled;
        self.label_en()
    }
}

/// The decision of step 5.
#[derive(
    Enum, Deserialize, Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Report (melden) to Veilig Thuis.
    Report,
    /// Offer or organise help, with agreements and a review date.
    OrganiseHelp,
    /// Close the meldcode path (with monitoring agreements after help proved effective).
    Close,
}

labelled!(Decision {
    Report => ("report", "Melden bij Veilig Thuis", "Report to Veilig Thuis",
        "A report (melding) to Veilig Thuis; the case stays open until the report is sent."),
    OrganiseHelp => ("organise_help", "Hulp bieden of organiseren", "Organise help",
        "Offer or organise help, with at least one agreement and a review date."),
    Close => ("close", "Afsluiten", "Close",
        "Close the meldcode path; after help proved effective, with monitoring agreements."),
});

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::domain::reference::Labelled;
        f.write_str(self.code())
    }
}

/// The answers of a weighing; later questions may be left out once an earlier answer decides.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Answers {
    pub suspicion: Option<Answer>,
    pub unsafety: Option<Answer>,
    pub help_possible: Option<Answer>,
    pub help_accepted: Option<Answer>,
    pub help_effective: Option<Answer>,
}

impl Answers {
    pub fn get(&self, question: Question) -> Option<Answer> {
        match question {
            Question::Suspicion => self.suspicion,
            Question::Unsafety => self.unsafety,
            Question::HelpPossible => self.help_possible,
            Question::HelpAccepted => self.help_accepted,
            Question::HelpEffective => self.help_effective,
        }
    }
}

/// What a weighing means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The next question still needs an answer.
    Incomplete { next: Question },
    Decided {
        /// The decisions step 5 may take.
        allowed: Vec<Decision>,
        /// The afwegingskader requires a report to Veilig Thuis.
        report_required: bool,
        /// The question and answer that decided.
        question: Question,
        answer: Answer,
    },
}

/// The afwegingskader. `doubt` errs toward the child's safety: on question 1 it counts as yes
/// (keep weighing), on questions 2–5 as the answer that requires a report (for question 2 the
/// education framework says so). Once there is a suspicion, a report is always allowed
/// (meldrecht); where the framework requires one, it is the only decision allowed.
pub fn weigh(answers: &Answers) -> Verdict {
    let Some(suspicion) = answers.suspicion else {
        return Verdict::Incomplete {
            next: Question::Suspicion,
        };
    };
    if suspicion == Answer::No {
        return Verdict::Decided {
            allowed: vec![Decision::Close],
            report_required: false,
            question: Question::Suspicion,
            answer: Answer::No,
        };
    }
    // Question 2 requires a report on yes; questions 3–5 on no. Doubt is treated as that answer.
    let requires_report = [
        (Question::Unsafety, Answer::Yes),
        (Question::HelpPossible, Answer::No),
        (Question::HelpAccepted, Answer::No),
        (Question::HelpEffective, Answer::No),
    ];
    for (question, reporting_answer) in requires_report {
        let Some(answer) = answers.get(question) else {
            return Verdict::Incomplete { next: question };
        };
        if answer == reporting_answer || answer == Answer::Doubt {
            return Verdict::Decided {
                allowed: vec![Decision::Report],
                report_required: true,
                question,
                answer,
            };
        }
    }
    Verdict::Decided {
        allowed: vec![Decision::Report, Decision::OrganiseHelp, Decision::Close],
        report_required: false,
        question: Question::HelpEffective,
        answer: Answer::Yes,
    }
}

/// Why a decision is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecisionRefusal {
    /// The weighing requires a report; the decision was something else.
    ReportRequired { question: Question, answer: Answer },
    /// The weighing does not allow this decision.
    NotAllowed {
        question: Question,
        answer: Answer,
        allowed: Vec<Decision>,
    },
    /// The weighing is not complete.
    WeighingIncomplete { next: Question },
}

impl DecisionRefusal {
    /// In words a care coordinator understands.
    pub fn explain(&self, decision: Decision) -> String {
        match self {
            DecisionRefusal::ReportRequired { question, answer } => format!(
                "Question {} ({}) was answered '{}'{}. The afwegingskader then requires a report \
                 to Veilig Thuis: record the decision 'report'.",
                question.number(),
                question.text(),
                answer_code(*answer),
                if *answer == Answer::Doubt {
                    ", and doubt counts toward the child's safety"
                } else {
                    ""
                }
            ),
            DecisionRefusal::NotAllowed {
                question,
                answer,
                allowed,
            } => format!(
                "Question {} ({}) was answered '{}', which does not allow the decision '{decision}'. \
                 Allowed: {}.",
                question.number(),
                question.text(),
                answer_code(*answer),
                allowed
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            DecisionRefusal::WeighingIncomplete { next } => format!(
                "The weighing is not complete: question {} ({}) still needs an answer.",
                next.number(),
                next.text()
            ),
        }
    }
}

fn answer_code(answer: Answer) -> &'static str {
    use crate::domain::reference::Labelled;
    answer.code()
}

/// May step 5 take `decision` after this weighing?
pub fn check_decision(answers: &Answers, decision: Decision) -> Result<(), DecisionRefusal> {
    match weigh(answers) {
        Verdict::Incomplete { next } => Err(DecisionRefusal::WeighingIncomplete { next }),
        Verdict::Decided {
            allowed,
            report_required,
            question,
            answer,
        } => {
            if allowed.contains(&decision) {
                Ok(())
            } else if report_required {
                Err(DecisionRefusal::ReportRequired { question, answer })
            } else {
                Err(DecisionRefusal::NotAllowed {
                    question,
                    answer,
                    allowed,
                })
            }
        }
    }
}

/// The five steps, in meldcode order.
#[derive(
    Enum,
    Deserialize,
    Serialize,
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    AsExpression,
    FromSqlRow,
)]
#[diesel(sql_type = Text)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// 1. Map the signals (in kaart brengen van signalen).
    SignalsMapped,
    /// 2. Consult a colleague, Veilig Thuis or an expert (collegiale consultatie).
    Consultation,
    /// 3. Talk with the parents and/or the child (gesprek).
    Conversation,
    /// 4. Weigh (wegen) with the afwegingskader.
    Weighing,
    /// 5. Decide (beslissen).
    Decision,
}

labelled!(Step {
    SignalsMapped => ("signals_mapped", "1. Signalen in kaart brengen", "1. Map the signals",
        "Which signals, raising and reducing concern, the case rests on."),
    Consultation => ("consultation", "2. Collegiale consultatie", "2. Consultation",
        "Advice from a colleague, Veilig Thuis (possibly anonymous) or an expert."),
    Conversation => ("conversation", "3. Gesprek met ouders en/of kind", "3. Conversation",
        "The conversation with the parents and/or the child, or why it was skipped."),
    Weighing => ("weighing", "4. Wegen", "4. Weighing",
        "The five questions of the afwegingskader."),
    Decision => ("decision", "5. Beslissen", "5. Decision",
        "Report to Veilig Thuis, organise help, or close."),
});

impl Step {
    pub fn number(self) -> i32 {
        match self {
            Self::SignalsMapped => 1,
            Self::Consultation => 2,
            Self::Conversation => 3,
            Self::Weighing => 4,
            Self::Decision => 5,
        }
    }
}

// Whether a case is open (stored in `cases.status`). No doc comment: the spec's schema has
// never carried a description.
#[derive(
    Enum, Deserialize, Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow,
)]
#[diesel(sql_type = Text)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    Open,
    Closed,
}

labelled!(CaseStatus {
    Open => ("open", "Open", "Open", "Steps and agreements are being recorded."),
    Closed => ("closed", "Afgesloten", "Closed", "The case was closed; nothing more is recorded."),
});

/// Why a conversation with parents or child was skipped.
#[derive(Enum, Deserialize, Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    SafetyChild,
    SafetyOthers,
    RiskContactBreak,
    Urgency,
}

labelled!(SkipReason {
    SafetyChild => ("safety_child", "Veiligheid van het kind", "Safety of the child",
        "Talking would endanger the child."),
    SafetyOthers => ("safety_others", "Veiligheid van anderen", "Safety of others",
        "Talking would endanger the professional or others."),
    RiskContactBreak => ("risk_contact_break", "Risico op contactbreuk", "Risk of losing contact",
        "Talking would likely make the family break off contact."),
    Urgency => ("urgency", "Spoed", "Urgency", "There is no time: act now."),
});

/// The active (not superseded) steps of a case, as the rules need them.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    pub signals_mapped: usize,
    pub consultations: usize,
    pub latest_weighing: Option<Answers>,
}

/// What a step needs before it may be recorded: a weighing needs mapped signals and a
/// consultation; a decision needs a weighing. Returns what is missing.
pub fn missing_before(step: Step, progress: &Progress) -> Vec<Step> {
    let mut missing = Vec::new();
    match step {
        Step::Weighing => {
            if progress.signals_mapped == 0 {
                missing.push(Step::SignalsMapped);
            }
            if progress.consultations == 0 {
                missing.push(Step::Consultation);
            }
        }
        Step::Decision => {
            if progress.latest_weighing.is_none() {
                missing.push(Step::Weighing);
            }
        }
        Step::SignalsMapped | Step::Consultation | Step::Conversation => {}
    }
    missing
}

/// What a decision must bring: help needs agreements and a review date; closing after help
/// proved effective needs monitoring agreements.
pub fn check_decision_terms(
    decision: Decision,
    answers: &Answers,
    agreements: usize,
    review_date: Option<NaiveDate>,
    today: NaiveDate,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    match decision {
        Decision::OrganiseHelp => {
            if agreements == 0 {
                errors.push(FieldError::new(
                    "actions",
                    "organising help needs at least one agreement: who does what, by when",
                ));
            }
            match review_date {
                None => errors.push(FieldError::new(
                    "reviewDate",
                    "organising help needs a date to review whether it works",
                )),
                Some(date) if date < today => {
                    errors.push(FieldError::new("reviewDate", "must not be in the past"))
                }
                Some(_) => {}
            }
        }
        Decision::Close => {
            let help_proved_effective = matches!(
                weigh(answers),
                Verdict::Decided {
                    question: Question::HelpEffective,
                    answer: Answer::Yes,
                    ..
                }
            );
            if help_proved_effective && agreements == 0 {
                errors.push(FieldError::new(
                    "actions",
                    "closing after effective help needs monitoring agreements: who keeps an eye on the child, until when",
                ));
            }
        }
        Decision::Report => {}
    }
    errors
}

/// A conversation either took place — with participants, the facts presented and the
/// reaction — or was skipped for a stated reason.
pub struct ConversationRecord<'a> {
    pub skipped: bool,
    pub explanation: Option<&'a str>,
    pub participants: usize,
    pub held_at_present: bool,
    pub facts_presented: Option<&'a str>,
    pub reaction: Option<&'a str>,
}

pub fn check_conversation(c: &ConversationRecord<'_>) -> Vec<FieldError> {
    let blank = |v: Option<&str>| v.is_none_or(|v| v.trim().is_empty());
    let mut errors = Vec::new();
    if c.skipped {
        if blank(c.explanation) {
            errors.push(FieldError::new(
                "skipped.explanation",
                "say why talking was not possible",
            ));
        }
        if c.participants > 0 || c.held_at_present || !blank(c.facts_presented) {
            errors.push(FieldError::new(
                "skipped",
                "a skipped conversation has no participants, time or facts",
            ));
        }
    } else {
        if c.participants == 0 {
            errors.push(FieldError::new(
                "participants",
                "name who took part: guardians and/or the child",
            ));
        }
        if !c.held_at_present {
            errors.push(FieldError::new(
                "heldAt",
                "is required for a conversation held",
            ));
        }
        if blank(c.facts_presented) {
            errors.push(FieldError::new(
                "factsPresented",
                "say which facts were presented",
            ));
        }
        if blank(c.reaction) {
            errors.push(FieldError::new("reaction", "record how they reacted"));
        }
    }
    errors
}

/// Why a case may not be closed yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClosureRefusal {
    /// Step 5 has not been taken.
    NoDecision,
    /// The decision was to report, and the report has not been sent.
    ReportNotSent,
}

/// A case closes once step 5 decided: to close or to organise help at once; to report only
/// after the report went to Veilig Thuis.
pub fn check_closure(decision: Option<Decision>, report_sent: bool) -> Result<(), ClosureRefusal> {
    match decision {
        None => Err(ClosureRefusal::NoDecision),
        Some(Decision::Report) if !report_sent => Err(ClosureRefusal::ReportNotSent),
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Answer::*;

    const ANSWERS: [Answer; 3] = [Yes, No, Doubt];

    fn answers(a: [Option<Answer>; 5]) -> Answers {
        Answers {
            suspicion: a[0],
            unsafety: a[1],
            help_possible: a[2],
            help_accepted: a[3],
            help_effective: a[4],
        }
    }

    /// The afwegingskader, stated independently of `weigh`'s step-by-step form: with a
    /// suspicion (yes or doubt), a report is required unless question 2 is a clear no and
    /// questions 3 to 5 are a clear yes.
    fn expected(a: [Answer; 5]) -> Vec<Decision> {
        if a[0] == No {
            return vec![Decision::Close];
        }
        let safe_with_help = a[1] == No && a[2] == Yes && a[3] == Yes && a[4] == Yes;
        if safe_with_help {
            vec![Decision::Report, Decision::OrganiseHelp, Decision::Close]
        } else {
            vec![Decision::Report]
        }
    }

    /// All 3^5 complete weighings against the allowed decisions.
    #[test]
    fn every_complete_weighing_allows_exactly_the_expected_decisions() {
        let mut checked = 0;
        for a0 in ANSWERS {
            for a1 in ANSWERS {
                for a2 in ANSWERS {
                    for a3 in ANSWERS {
                        for a4 in ANSWERS {
                            let a = [a0, a1, a2, a3, a4];
                            let weighing = answers(a.map(Some));
                            let allowed = expected(a);
                            for decision in
                                [Decision::Report, Decision::OrganiseHelp, Decision::Close]
                            {
                                let result = check_decision(&weighing, decision);
                                assert_eq!(
                                    result.is_ok(),
                                    allowed.contains(&decision),
                                    "{a:?} → {decision}: {result:?}"
                                );
                                if let Err(refusal) = result {
                                    let report_required = allowed == [Decision::Report];
                                    assert_eq!(
                                        matches!(refusal, DecisionRefusal::ReportRequired { .. }),
                                        report_required,
                                        "{a:?} → {decision}: {refusal:?}"
                                    );
                                }
                            }
                            checked += 1;
                        }
                    }
                }
            }
        }
        assert_eq!(checked, 243);
    }

    /// The decisive question is the first one that requires a report (or question 1's no).
    #[test]
    fn the_refusal_names_the_deciding_question_and_answer() {
        let cases: &[([Answer; 5], Question, Answer)] = &[
            ([Yes, Yes, Yes, Yes, Yes], Question::Unsafety, Yes),
            ([Doubt, Doubt, No, No, No], Question::Unsafety, Doubt),
            ([Yes, No, No, Yes, Yes], Question::HelpPossible, No),
            ([Yes, No, Doubt, Yes, Yes], Question::HelpPossible, Doubt),
            ([Yes, No, Yes, No, Yes], Question::HelpAccepted, No),
            ([Doubt, No, Yes, Doubt, No], Question::HelpAccepted, Doubt),
            ([Yes, No, Yes, Yes, No], Question::HelpEffective, No),
            ([Yes, No, Yes, Yes, Doubt], Question::HelpEffective, Doubt),
        ];
        for (a, question, answer) in cases {
            let refusal = check_decision(&answers(a.map(Some)), Decision::Close).unwrap_err();
            assert_eq!(
                refusal,
                DecisionRefusal::ReportRequired {
                    question: *question,
                    answer: *answer
                },
                "{a:?}"
            );
            let text = refusal.explain(Decision::Close);
            assert!(
                text.contains(&format!("Question {}", question.number())),
                "{text}"
            );
            assert!(text.contains("report"), "{text}");
        }
        let no_suspicion = check_decision(
            &answers([Some(No), None, None, None, None]),
            Decision::Report,
        );
        assert_eq!(
            no_suspicion,
            Err(DecisionRefusal::NotAllowed {
                question: Question::Suspicion,
                answer: No,
                allowed: vec![Decision::Close]
            })
        );
    }

    /// Every partial weighing (4^5 with unanswered questions): complete enough exactly when the
    /// chain of questions reaches a decision; otherwise it names the next question.
    #[test]
    fn partial_weighings_name_the_next_question() {
        let options = [None, Some(Yes), Some(No), Some(Doubt)];
        for a0 in options {
            for a1 in options {
                for a2 in options {
                    for a3 in options {
                        for a4 in options {
                            let a = [a0, a1, a2, a3, a4];
                            let verdict = weigh(&answers(a));
                            // Walk the chain by hand.
                            let mut next = None;
                            for (i, question) in Question::ORDER.iter().enumerate() {
                                match a[i] {
                                    None => {
                                        next = Some(*question);
                                        break;
                                    }
                                    Some(No) if i == 0 => break,
                                    Some(Yes | Doubt) if i == 1 => break,
                                    Some(No | Doubt) if i >= 2 => break,
                                    _ => {}
                                }
                            }
                            match next {
                                Some(question) => assert_eq!(
                                    verdict,
                                    Verdict::Incomplete { next: question },
                                    "{a:?}"
                                ),
                                None => assert!(
                                    matches!(verdict, Verdict::Decided { .. }),
                                    "{a:?}: {verdict:?}"
                                ),
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn steps_need_their_predecessors() {
        let none = Progress::default();
        assert_eq!(
            missing_before(Step::Weighing, &none),
            [Step::SignalsMapped, Step::Consultation]
        );
        assert_eq!(missing_before(Step::Decision, &none), [Step::Weighing]);
        for step in [Step::SignalsMapped, Step::Consultation, Step::Conversation] {
            assert!(missing_before(step, &none).is_empty(), "{step:?}");
        }
        let ready = Progress {
            signals_mapped: 1,
            consultations: 1,
            latest_weighing: Some(Answers::default()),
        };
        assert!(missing_before(Step::Weighing, &ready).is_empty());
        assert!(missing_before(Step::Decision, &ready).is_empty());
    }

    #[test]
    fn decision_terms() {
        let today: NaiveDate = "2026-11-22".parse().unwrap();
        let effective = answers([Some(Yes), Some(No), Some(Yes), Some(Yes), Some(Yes)]);
        let no_suspicion = answers([Some(No), None, None, None, None]);
        let fields = |e: Vec<FieldError>| e.into_iter().map(|e| e.field).collect::<Vec<_>>();
        let later = Some("2026-12-22".parse().unwrap());
        let past = Some("2026-11-21".parse().unwrap());
        type Case<'a> = (
            Decision,
            &'a Answers,
            usize,
            Option<NaiveDate>,
            &'a [&'a str],
        );
        let cases: &[Case] = &[
            (Decision::OrganiseHelp, &effective, 1, later, &[]),
            (Decision::OrganiseHelp, &effective, 0, later, &["actions"]),
            (Decision::OrganiseHelp, &effective, 1, None, &["reviewDate"]),
            (Decision::OrganiseHelp, &effective, 1, past, &["reviewDate"]),
            (Decision::Close, &effective, 0, None, &["actions"]),
            (Decision::Close, &effective, 1, None, &[]),
            (Decision::Close, &no_suspicion, 0, None, &[]),
            (Decision::Report, &effective, 0, None, &[]),
        ];
        for (decision, answers, agreements, review, expected) in cases {
            assert_eq!(
                fields(check_decision_terms(
                    *decision,
                    answers,
                    *agreements,
                    *review,
                    today
                )),
                *expected,
                "{decision} with {agreements} agreements, review {review:?}"
            );
        }
    }

    #[test]
    fn closure_follows_the_decision() {
        let cases = [
            (None, false, Err(ClosureRefusal::NoDecision)),
            (None, true, Err(ClosureRefusal::NoDecision)),
            (
                Some(Decision::Report),
                false,
                Err(ClosureRefusal::ReportNotSent),
            ),
            (Some(Decision::Report), true, Ok(())),
            (Some(Decision::OrganiseHelp), false, Ok(())),
            (Some(Decision::Close), false, Ok(())),
        ];
        for (decision, sent, expected) in cases {
            assert_eq!(
                check_closure(decision, sent),
                expected,
                "{decision:?}, sent {sent}"
            );
        }
    }

    #[test]
    fn conversations_are_held_or_skipped_with_a_reason() {
        let held = ConversationRecord {
            skipped: false,
            explanation: None,
            participants: 2,
            held_at_present: true,
            facts_presented: Some("De blauwe plekken."),
            reaction: Some("Moeder schrok."),
        };
        assert!(check_conversation(&held).is_empty());
        let fields = |c: &ConversationRecord| {
            check_conversation(c)
                .into_iter()
                .map(|e| e.field)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            fields(&ConversationRecord {
                participants: 0,
                reaction: None,
                ..held
            }),
            ["participants", "reaction"]
        );
        let skipped = ConversationRecord {
            skipped: true,
            explanation: Some("Vader dreigde eerder."),
            participants: 0,
            held_at_present: false,
            facts_presented: None,
            reaction: None,
        };
        assert!(check_conversation(&skipped).is_empty());
        assert_eq!(
            fields(&ConversationRecord {
                explanation: Some(" "),
                ..skipped
            }),
            ["skipped.explanation"]
        );
        assert_eq!(
            fields(&ConversationRecord {
                participants: 1,
                ..skipped
            }),
            ["skipped"]
        );
    }
}
