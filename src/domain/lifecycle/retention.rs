//! How long each record class is kept, per organisation kind, and whether a child's records
//! are due for purging. The defaults and their sources are in the README (Data lifecycle).

use chrono::{Months, NaiveDate};

use super::RecordClass;
use crate::domain::organisation::OrganisationKind;

/// The retention terms, configurable (`RETENTION_*`); [`Default`] holds the statutory ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// A school keeps a pupil's records this many years after the pupil left.
    pub school_years: u32,
    /// Youth care (wijkteam, GGD, leerplicht, samenwerkingsverband) keeps them this many years
    /// after the care ended (Jeugdwet art. 7.3.8: 20 years).
    pub youth_care_years: u32,
    /// Veilig Thuis keeps them this many years after its involvement ended…
    pub veilig_thuis_years: u32,
    /// …or until the child is this old, if that is later.
    pub veilig_thuis_until_age: u32,
    /// Webhook delivery history.
    pub delivery_days: u32,
    /// Events in the feed.
    pub event_days: u32,
    /// The access log is kept at least this long: never shorter than the longest record term.
    pub access_log_min_years: u32,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        Self {
            school_years: 2,
            youth_care_years: 20,
            veilig_thuis_years: 20,
            veilig_thuis_until_age: 18,
            delivery_days: 30,
            event_days: 90,
            access_log_min_years: 20,
        }
    }
}

impl RetentionPolicy {
    /// The longest term any record class is kept, in years.
    pub fn longest_record_years(&self) -> u32 {
        self.school_years
            .max(self.youth_care_years)
            .max(self.veilig_thuis_years)
    }
}

/// Where a term counts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    /// The day the pupil left the school (`leftOn`).
    LeftSchool,
    /// The day care or involvement ended (`careEndedOn`).
    CareEnded,
}

/// How long one record class is kept at one kind of organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionRule {
    pub years: u32,
    pub from: Anchor,
    /// Kept at least until the child reaches this age.
    pub until_age: Option<u32>,
}

/// The rule for a record class at a kind of organisation; `None` where the kind holds no child
/// data (the platform). Every class of a child's file follows the file's term: the sources name
/// one term for the whole file (dossier), and a purge leaves the file consistent.
pub fn retention_rule(
    policy: &RetentionPolicy,
    kind: OrganisationKind,
    _class: RecordClass,
) -> Option<RetentionRule> {
    use OrganisationKind as K;
    match kind {
        K::School => Some(RetentionRule {
            years: policy.school_years,
            from: Anchor::LeftSchool,
            until_age: None,
        }),
        K::Wijkteam | K::Ggd | K::Leerplicht | K::Samenwerkingsverband => Some(RetentionRule {
            years: policy.youth_care_years,
            from: Anchor::CareEnded,
            until_age: None,
        }),
        K::VeiligThuis => Some(RetentionRule {
            years: policy.veilig_thuis_years,
            from: Anchor::CareEnded,
            until_age: Some(policy.veilig_thuis_until_age),
        }),
        K::Platform => None,
    }
}

/// What the retention rules need to know of a child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChildFacts {
    pub kind: OrganisationKind,
    pub date_of_birth: NaiveDate,
    pub left_on: Option<NaiveDate>,
    pub care_ended_on: Option<NaiveDate>,
}

impl RetentionRule {
    /// The first day the class may be purged, or `None` while the anchor date is unknown (the
    /// pupil has not left, the care has not ended): then it is kept.
    pub fn due_on(&self, child: &ChildFacts) -> Option<NaiveDate> {
        let anchor = match self.from {
            Anchor::LeftSchool => child.left_on,
            Anchor::CareEnded => child.care_ended_on,
        }?;
        let after_term = add_years(anchor, self.years)?;
        let after_age = match self.until_age {
            Some(age) => add_years(child.date_of_birth, age)?,
            None => after_term,
        };
        Some(after_term.max(after_age))
    }
}

fn add_years(day: NaiveDate, years: u32) -> Option<NaiveDate> {
    day.checked_add_months(Months::new(years.checked_mul(12)?))
}

/// A legal hold as the purge sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hold {
    /// The hold ends after this day; `None`: until lifted.
    pub until: Option<NaiveDate>,
}

impl Hold {
    pub fn is_active(&self, today: NaiveDate) -> bool {
        self.until.is_none_or(|until| today <= until)
    }
}

/// Place (or replace) a hold: a reason, and an end that has not passed.
pub fn decide_hold(
    reason: &str,
    until: Option<NaiveDate>,
    today: NaiveDate,
) -> Result<Hold, crate::domain::refusal::Refusal> {
    let errors = [
        crate::domain::check_text("reason", reason),
        until
            .filter(|until| *until < today)
            .map(|_| crate::domain::FieldError::new("until", "must not be in the past")),
    ]
    .into_iter()
    .flatten()
    .collect();
    crate::domain::refusal::Refusal::unless_invalid(errors)?;
    Ok(Hold { until })
}

/// Whether a child's records are purged today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PurgeVerdict {
    /// Some class is not due yet (or its anchor date is unknown).
    NotDue,
    /// Due since `due_on`, but a legal hold blocks it.
    Held { due_on: NaiveDate },
    /// Every class is due: purge.
    Due { due_on: NaiveDate },
}

/// The child's file is purged as a whole, once every class is due and no hold is active.
pub fn decide_purge(
    policy: &RetentionPolicy,
    child: &ChildFacts,
    hold: Option<Hold>,
    today: NaiveDate,
) -> PurgeVerdict {
    let mut due_on: Option<NaiveDate> = None;
    for class in [
        RecordClass::Child,
        RecordClass::Signals,
        RecordClass::Cases,
        RecordClass::Handoffs,
        RecordClass::Consents,
        RecordClass::Feedback,
    ] {
        let Some(day) =
            retention_rule(policy, child.kind, class).and_then(|rule| rule.due_on(child))
        else {
            return PurgeVerdict::NotDue;
        };
        due_on = Some(due_on.map_or(day, |d| d.max(day)));
    }
    match due_on {
        Some(due_on) if due_on <= today => match hold {
            Some(hold) if hold.is_active(today) => PurgeVerdict::Held { due_on },
            _ => PurgeVerdict::Due { due_on },
        },
        _ => PurgeVerdict::NotDue,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::reference::Labelled;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn child(
        kind: OrganisationKind,
        left: Option<NaiveDate>,
        ended: Option<NaiveDate>,
    ) -> ChildFacts {
        ChildFacts {
            kind,
            date_of_birth: day(2014, 6, 15),
            left_on: left,
            care_ended_on: ended,
        }
    }

    #[test]
    fn every_kind_and_class_has_its_term_from_its_anchor() {
        use OrganisationKind as K;
        let policy = RetentionPolicy::default();
        // (kind, left school, care ended, first day it may go)
        let cases = [
            (
                K::School,
                Some(day(2026, 7, 10)),
                None,
                Some(day(2028, 7, 10)),
            ),
            (K::School, None, Some(day(2026, 7, 10)), None),
            (K::School, None, None, None),
            (
                K::Wijkteam,
                None,
                Some(day(2026, 3, 1)),
                Some(day(2046, 3, 1)),
            ),
            (K::Wijkteam, Some(day(2026, 3, 1)), None, None),
            (K::Ggd, None, Some(day(2026, 3, 1)), Some(day(2046, 3, 1))),
            (
                K::Leerplicht,
                None,
                Some(day(2026, 3, 1)),
                Some(day(2046, 3, 1)),
            ),
            (
                K::Samenwerkingsverband,
                None,
                Some(day(2026, 3, 1)),
                Some(day(2046, 3, 1)),
            ),
            // Veilig Thuis: 20 years after, or the 18th birthday if later.
            (
                K::VeiligThuis,
                None,
                Some(day(2026, 3, 1)),
                Some(day(2046, 3, 1)),
            ),
            (K::VeiligThuis, None, None, None),
            (
                K::Platform,
                Some(day(2020, 1, 1)),
                Some(day(2020, 1, 1)),
                None,
            ),
        ];
        for (kind, left, ended, expected) in cases {
            for class in RecordClass::ALL {
                let facts = child(kind, left, ended);
                let due = retention_rule(&policy, kind, *class).and_then(|r| r.due_on(&facts));
                assert_eq!(due, expected, "{kind:?} {class:?}");
            }
        }
    }

    #[test]
    fn veilig_thuis_keeps_until_the_child_is_18_when_that_is_later() {
        let policy = RetentionPolicy {
            veilig_thuis_years: 2,
            ..RetentionPolicy::default()
        };
        let facts = child(OrganisationKind::VeiligThuis, None, Some(day(2026, 3, 1)));
        let rule =
            retention_rule(&policy, OrganisationKind::VeiligThuis, RecordClass::Signals).unwrap();
        assert_eq!(rule.due_on(&facts), Some(day(2032, 6, 15)));
        let older = ChildFacts {
            date_of_birth: day(2000, 1, 1),
            ..facts
        };
        assert_eq!(rule.due_on(&older), Some(day(2028, 3, 1)));
    }

    #[test]
    fn configured_terms_replace_the_defaults() {
        let policy = RetentionPolicy {
            school_years: 5,
            youth_care_years: 15,
            ..RetentionPolicy::default()
        };
        let pupil = child(OrganisationKind::School, Some(day(2026, 7, 10)), None);
        assert_eq!(
            retention_rule(&policy, OrganisationKind::School, RecordClass::Cases)
                .and_then(|r| r.due_on(&pupil)),
            Some(day(2031, 7, 10))
        );
        let client = child(OrganisationKind::Wijkteam, None, Some(day(2026, 1, 31)));
        assert_eq!(
            retention_rule(&policy, OrganisationKind::Wijkteam, RecordClass::Feedback)
                .and_then(|r| r.due_on(&client)),
            Some(day(2041, 1, 31))
        );
        assert_eq!(policy.longest_record_years(), 20);
    }

    #[test]
    fn a_leap_day_anchor_falls_due_at_the_end_of_february() {
        let pupil = child(OrganisationKind::School, Some(day(2028, 2, 29)), None);
        let rule = retention_rule(
            &RetentionPolicy::default(),
            OrganisationKind::School,
            RecordClass::Child,
        )
        .unwrap();
        assert_eq!(rule.due_on(&pupil), Some(day(2030, 2, 28)));
    }

    #[test]
    fn a_hold_has_a_reason_and_an_end_not_yet_passed() {
        let today = day(2026, 12, 3);
        assert_eq!(
            decide_hold("OTS-procedure", None, today),
            Ok(Hold { until: None })
        );
        assert_eq!(
            decide_hold("OTS-procedure", Some(today), today),
            Ok(Hold { until: Some(today) })
        );
        let fields = |r: Result<Hold, crate::domain::refusal::Refusal>| match r {
            Err(crate::domain::refusal::Refusal::Invalid(e)) => {
                e.into_iter().map(|e| e.field).collect::<Vec<_>>()
            }
            other => panic!("{other:?}"),
        };
        assert_eq!(
            fields(decide_hold(" ", Some(day(2026, 12, 2)), today)),
            ["reason", "until"]
        );
    }

    #[test]
    fn a_file_is_purged_when_due_unless_an_active_hold_blocks_it() {
        let policy = RetentionPolicy::default();
        let pupil = child(OrganisationKind::School, Some(day(2024, 7, 10)), None);
        let due = day(2026, 7, 10);
        let cases = [
            (day(2026, 7, 9), None, PurgeVerdict::NotDue),
            (due, None, PurgeVerdict::Due { due_on: due }),
            (day(2027, 1, 1), None, PurgeVerdict::Due { due_on: due }),
            (
                due,
                Some(Hold { until: None }),
                PurgeVerdict::Held { due_on: due },
            ),
            (
                due,
                Some(Hold { until: Some(due) }),
                PurgeVerdict::Held { due_on: due },
            ),
            // A hold whose `until` passed no longer blocks.
            (
                day(2026, 7, 11),
                Some(Hold { until: Some(due) }),
                PurgeVerdict::Due { due_on: due },
            ),
            (
                day(2026, 7, 9),
                Some(Hold { until: None }),
                PurgeVerdict::NotDue,
            ),
        ];
        for (today, hold, expected) in cases {
            assert_eq!(
                decide_purge(&policy, &pupil, hold, today),
                expected,
                "{today} {hold:?}"
            );
        }
        let staying = child(OrganisationKind::School, None, None);
        assert_eq!(
            decide_purge(&policy, &staying, None, day(2099, 1, 1)),
            PurgeVerdict::NotDue
        );
    }
}
