//! What a purge leaves: a tombstone keeps ids, kinds, dates, categories and statuses — what
//! figures and the access log need — and nothing that names or describes the child: names, BSN,
//! contact details and every free text are overwritten with [`PURGED`] (or dropped when
//! optional).

use chrono::{Datelike, NaiveDate};
use uuid::Uuid;

use crate::domain::{
    handoff::{ChildSnapshot, ContactSnapshot, Snapshot},
    meldcode::record::{StepDetails, WeighedAnswer},
};

/// Where personal text stood.
pub const PURGED: &str = "[verwijderd]";

/// The birth year alone stays (figures count by age band).
pub fn purged_date_of_birth(date_of_birth: NaiveDate) -> NaiveDate {
    NaiveDate::from_ymd_opt(date_of_birth.year(), 1, 1).unwrap_or(date_of_birth)
}

/// The organisation's own pupil number identifies the child in its other systems: replaced by
/// one derived from the record's random id (unique, as the column requires).
pub fn purged_external_ref(child_id: Uuid) -> String {
    format!("verwijderd-{}", child_id.simple())
}

fn purged_text(text: &mut String) {
    PURGED.clone_into(text);
}

fn purged_optional(text: &mut Option<String>) {
    if text.is_some() {
        *text = Some(PURGED.to_owned());
    }
}

/// A meldcode step without its notes, advice, facts, reactions and rationale; the step, its
/// kind, dates, participants' ids, answers and the decision stay.
pub fn purged_step_details(details: StepDetails) -> StepDetails {
    match details {
        StepDetails::SignalsMapped(mut d) => {
            purged_optional(&mut d.note);
            StepDetails::SignalsMapped(d)
        }
        StepDetails::Consultation(mut d) => {
            purged_text(&mut d.consulted_role);
            purged_optional(&mut d.consulted_organisation);
            purged_text(&mut d.advice);
            StepDetails::Consultation(d)
        }
        StepDetails::Conversation(mut d) => {
            purged_optional(&mut d.facts_presented);
            purged_optional(&mut d.reaction);
            purged_optional(&mut d.interpretation);
            if let Some(skipped) = d.skipped.as_mut() {
                purged_text(&mut skipped.explanation);
            }
            StepDetails::Conversation(d)
        }
        StepDetails::Weighing(mut d) => {
            let answers = &mut d.answers;
            for answer in [
                &mut answers.suspicion,
                &mut answers.unsafety,
                &mut answers.help_possible,
                &mut answers.help_accepted,
                &mut answers.help_effective,
            ]
            .into_iter()
            .flatten()
            {
                let WeighedAnswer { note, .. } = answer;
                purged_optional(note);
            }
            StepDetails::Weighing(d)
        }
        StepDetails::Decision(mut d) => {
            purged_text(&mut d.rationale);
            StepDetails::Decision(d)
        }
    }
}

/// The other side of a handoff, as a purge on this side sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OtherSide {
    pub organisation: Uuid,
    /// It holds a child record for the handoff that is not purged: the recipient took the
    /// child in, or the sender still has its pupil.
    pub holds_child_record: bool,
}

/// A handoff's content (snapshot, message, its feedback) is the record of both sides: it goes
/// with this side's purge only when the other side holds no child record for it; otherwise it
/// stays there, under the other organisation's own retention.
pub fn handoff_content_goes(other: &OtherSide) -> bool {
    !other.holds_child_record
}

/// What crossed with a handoff, without names, BSN, contact details or free text; categories,
/// sources, directions, relationships, authority and dates stay.
pub fn purged_snapshot(mut snapshot: Snapshot) -> Snapshot {
    if let Some(child) = snapshot.child.as_mut() {
        let ChildSnapshot {
            sender_ref,
            given_name,
            family_name,
            date_of_birth,
            bsn,
            school_group,
        } = child;
        purged_text(sender_ref);
        purged_text(given_name);
        purged_text(family_name);
        *date_of_birth = purged_date_of_birth(*date_of_birth);
        *bsn = None;
        *school_group = None;
    }
    for guardian in &mut snapshot.guardians {
        purged_text(&mut guardian.name);
        guardian.contact = ContactSnapshot::default();
    }
    for signal in &mut snapshot.signals {
        purged_optional(&mut signal.source_description);
        purged_text(&mut signal.facts);
        purged_optional(&mut signal.interpretation);
    }
    purged_optional(&mut snapshot.pupil_number);
    purged_optional(&mut snapshot.case_summary);
    if let Some(case) = snapshot.case.as_mut() {
        purged_text(&mut case.lead_name);
    }
    snapshot
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::domain::{
        child::{AuthoritySource, ParentalAuthority, Relationship},
        handoff::{GuardianSnapshot, SignalSnapshot},
        meldcode::{
            Answer, Decision, SkipReason,
            record::{
                Consultation, ConsultationKind, Conversation, DecisionTaken, Participants,
                SignalsMapped, Skipped, WeighedAnswers, Weighing,
            },
        },
        signal::{SignalCategory, SignalDirection, SignalSource},
    };

    /// Every string of a value, as JSON sees it.
    fn strings(value: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            serde_json::Value::String(s) => out.push(s.clone()),
            serde_json::Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
            serde_json::Value::Object(map) => map.values().for_each(|v| strings(v, out)),
            _ => {}
        }
    }

    const PERSONAL: &[&str] = &[
        "Noah",
        "de Boer",
        "LL-20431",
        "111222333",
        "groep 8a",
        "Sarah",
        "0612",
        "sarah@",
        "Papa schreeuwt",
        "buurvrouw",
        "Moeder",
        "huilde",
        "verklaring",
        "advies",
        "notitie",
        "rationale",
        "GGD Noord",
    ];

    fn assert_clean(value: serde_json::Value) {
        let mut found = Vec::new();
        strings(&value, &mut found);
        for text in found {
            for personal in PERSONAL {
                assert!(!text.contains(personal), "{personal:?} left in {text:?}");
            }
        }
    }

    #[test]
    fn a_purged_snapshot_keeps_kinds_and_dates_only() {
        let at = Utc.with_ymd_and_hms(2026, 11, 16, 10, 15, 0).unwrap();
        let snapshot = Snapshot {
            child: Some(ChildSnapshot {
                sender_ref: "LL-20431".into(),
                given_name: "Noah".into(),
                family_name: "de Boer".into(),
                date_of_birth: NaiveDate::from_ymd_opt(2013, 9, 1).unwrap(),
                bsn: Some("111222333".into()),
                school_group: Some("groep 8a".into()),
            }),
            guardians: vec![GuardianSnapshot {
                name: "Sarah de Boer".into(),
                relationship: Relationship::Mother,
                parental_authority: ParentalAuthority::Yes,
                authority_source: AuthoritySource::Gezagsregister,
                contact: ContactSnapshot {
                    phone: Some("0612345678".into()),
                    email: Some("sarah@example.nl".into()),
                },
            }],
            signals: vec![SignalSnapshot {
                observed_at: at,
                recorded_at: at,
                recorded_by_role: "teacher".into(),
                category: SignalCategory::StatementsByChild,
                source: SignalSource::ThirdParty,
                source_description: Some("de buurvrouw".into()),
                facts: "Papa schreeuwt".into(),
                interpretation: Some("Moeder huilde".into()),
                direction: SignalDirection::RaisesConcern,
            }],
            pupil_number: Some("LL-20431".into()),
            case_summary: Some("Noah vertelde dat Papa schreeuwt".into()),
            case: Some(crate::domain::handoff::CaseSnapshot {
                open: true,
                lead_name: "Sarah de Boer".into(),
                decision: None,
            }),
        };
        let purged = purged_snapshot(snapshot);
        assert_clean(serde_json::to_value(&purged).unwrap());
        let child = purged.child.as_ref().unwrap();
        assert_eq!(
            child.date_of_birth,
            NaiveDate::from_ymd_opt(2013, 1, 1).unwrap()
        );
        assert_eq!(purged.guardians[0].relationship, Relationship::Mother);
        assert_eq!(
            purged.signals[0].category,
            SignalCategory::StatementsByChild
        );
        assert_eq!(purged.signals[0].observed_at, at);
        // Still a snapshot the API reads.
        let stored = serde_json::to_value(&purged).unwrap();
        assert_eq!(serde_json::from_value::<Snapshot>(stored).unwrap(), purged);
        // An anonymous advice request's snapshot stays empty.
        assert_eq!(purged_snapshot(Snapshot::default()), Snapshot::default());
    }

    #[test]
    fn purged_steps_keep_their_kind_answers_and_decision() {
        let at = Utc.with_ymd_and_hms(2026, 11, 17, 9, 0, 0).unwrap();
        let note = || Some("notitie".to_owned());
        let steps = vec![
            StepDetails::SignalsMapped(SignalsMapped {
                signal_ids: vec![Uuid::from_u128(5)],
                note: note(),
            }),
            StepDetails::Consultation(Consultation {
                kind: ConsultationKind::VeiligThuisAdvice,
                consulted_role: "advies".into(),
                consulted_organisation: Some("GGD Noord".into()),
                consulted_at: at,
                advice: "advies: bespreek".into(),
            }),
            StepDetails::Conversation(Conversation {
                participants: Some(Participants {
                    guardian_ids: vec![Uuid::from_u128(1)],
                    child: true,
                }),
                held_at: Some(at),
                facts_presented: Some("Papa schreeuwt".into()),
                reaction: Some("Moeder huilde".into()),
                interpretation: note(),
                skipped: None,
            }),
            StepDetails::Conversation(Conversation {
                skipped: Some(Skipped {
                    reason: SkipReason::SafetyChild,
                    explanation: "verklaring".into(),
                }),
                ..Conversation::default()
            }),
            StepDetails::Weighing(Weighing {
                answers: WeighedAnswers {
                    suspicion: Some(WeighedAnswer {
                        answer: Answer::Yes,
                        note: note(),
                    }),
                    unsafety: Some(WeighedAnswer {
                        answer: Answer::Yes,
                        note: None,
                    }),
                    ..WeighedAnswers::default()
                },
            }),
            StepDetails::Decision(DecisionTaken {
                decision: Decision::Report,
                rationale: "rationale".into(),
                review_date: None,
            }),
        ];
        for step in steps {
            let kind = step.step();
            let purged = purged_step_details(step.clone());
            assert_eq!(purged.step(), kind);
            assert_clean(purged.to_stored());
            // Still details the API reads, with what figures need.
            assert_eq!(
                StepDetails::from_stored(kind, purged.to_stored()).unwrap(),
                purged
            );
            match (&step, &purged) {
                (StepDetails::Weighing(a), StepDetails::Weighing(b)) => {
                    assert_eq!(a.answers.answers(), b.answers.answers());
                }
                (StepDetails::Decision(a), StepDetails::Decision(b)) => {
                    assert_eq!(a.decision, b.decision)
                }
                (StepDetails::Conversation(a), StepDetails::Conversation(b)) => {
                    assert_eq!(a.participants, b.participants);
                    assert_eq!(a.held_at, b.held_at);
                }
                _ => {}
            }
        }
    }

    #[test]
    fn a_handoff_s_content_goes_only_when_the_other_side_holds_no_record() {
        let organisation = Uuid::from_u128(9);
        for (holds_child_record, goes) in [(false, true), (true, false)] {
            let other = OtherSide {
                organisation,
                holds_child_record,
            };
            assert_eq!(handoff_content_goes(&other), goes);
        }
    }

    #[test]
    fn a_purged_child_keeps_the_birth_year_and_a_reference_without_meaning() {
        let id = Uuid::from_u128(0x0193_5b1e_7c1a_7d00_8000_0000_0000_0101);
        assert_eq!(
            purged_date_of_birth(NaiveDate::from_ymd_opt(2013, 9, 1).unwrap()),
            NaiveDate::from_ymd_opt(2013, 1, 1).unwrap()
        );
        let reference = purged_external_ref(id);
        assert!(reference.len() <= 64 && reference.contains(&id.simple().to_string()));
    }
}
