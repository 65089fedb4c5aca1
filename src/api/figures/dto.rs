//! The figures as JSON. A count is `null` when hidden (fewer than 5, or it could be worked out
//! from a total); so are the durations and shares resting on one.

use chrono::NaiveDate;
use poem_openapi::{Enum, Object, types::Example};

use super::Report;
use crate::{
    api::{organisations::OrganisationSummary, types::Timestamp},
    domain::{
        figures::{Count, Duration, GroupBy, SUPPRESS_BELOW, Scope, Share, Shown},
        handoff::HandoffKind,
        organisation::OrganisationKind,
        reference::Labelled,
    },
};

/// Whose handoffs the figures count.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum FiguresView {
    /// The organisation's own, sent or received.
    Own,
    /// What a Veilig Thuis received from schools.
    ReceivedFromSchools,
    /// Every handoff, nationally.
    National,
}

/// The period covered, by the date handoffs were sent (Dutch time).
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct FiguresPeriod {
    /// As asked: `2026`, `2026-Q3` or `2026-07`.
    pub code: String,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
}

/// Sent and received. Each `null` when fewer than 5.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct SentReceived {
    /// Sent by those in view; `null` when hidden.
    pub sent: Option<u32>,
    /// Received by those in view; `null` when hidden.
    pub received: Option<u32>,
}

/// A duration's spread, in hours: over as many values as `count`.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct Spread {
    /// How many were measured; `null` when hidden.
    pub count: Option<u32>,
    /// The median (nearest rank), in hours; `null` when hidden or nothing was measured.
    pub median_hours: Option<f64>,
    /// The 90th percentile (nearest rank), in hours; `null` when hidden or nothing was measured.
    pub p90_hours: Option<f64>,
}

/// Acknowledgement of reports and advice requests.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct Acknowledgement {
    /// Time from sending to acknowledgement.
    pub time: Spread,
    /// Acknowledged, or unacknowledged past the deadline; `null` when hidden.
    pub due: Option<u32>,
    /// Of those, acknowledged by the deadline; `null` when hidden.
    pub in_time: Option<u32>,
    /// `inTime / due`, between 0 and 1; `null` when either is hidden.
    pub in_time_share: Option<f64>,
}

/// The safety assessment (veiligheidsbeoordeling) of reports received.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct SafetyAssessment {
    /// Reports whose assessment was decided, or that are past 5 working days of receipt
    /// without one; `null` when hidden.
    pub due: Option<u32>,
    /// Of those, decided within 5 working days of receipt; `null` when hidden.
    pub within_five_working_days: Option<u32>,
    /// `withinFiveWorkingDays / due`; `null` when either is hidden.
    pub share: Option<f64>,
}

/// Whether Veilig Thuis asked consent to give the school feedback, on reports from schools.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct ConsentToFeedback {
    /// Reports from schools; `null` when hidden.
    pub reports_from_schools: Option<u32>,
    /// Of those, the reports on which consent (purpose `feedback_to_school`) was asked;
    /// `null` when hidden.
    pub asked: Option<u32>,
    /// `asked / reportsFromSchools`; `null` when either is hidden.
    pub asked_share: Option<f64>,
    /// Every required party granted it; `null` when hidden.
    pub granted: Option<u32>,
    /// A required party refused it; `null` when hidden.
    pub refused: Option<u32>,
    /// Still waiting for an answer; `null` when hidden.
    pub open: Option<u32>,
}

/// Feedback on reports received, timed from receipt.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct FeedbackTimes {
    /// To the first status feedback (`received`, `safety_assessment_decided`, …).
    pub first_status: Spread,
    /// To the first substantive feedback (`outcome`, `guidance_for_school`, …).
    pub first_substantive: Spread,
    /// Reports asking for guidance (`requestsGuidance`); `null` when hidden.
    pub guidance_requested: Option<u32>,
    /// Of those, reports that got `guidance_for_school`; `null` when hidden.
    pub guidance_given: Option<u32>,
    /// `guidanceGiven / guidanceRequested`; `null` when either is hidden.
    pub guidance_share: Option<f64>,
    /// Reports without any feedback 10 days after sending (not withdrawn, declined or
    /// forwarded); `null` when hidden.
    pub awaiting_after10_days: Option<u32>,
    /// …and after 30 days; `null` when hidden.
    pub awaiting_after30_days: Option<u32>,
}

/// Handoffs of a kind overdue now.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct OverdueCount {
    pub kind: HandoffKind,
    /// Unacknowledged past the deadline, or a report's safety assessment late; `null` when
    /// hidden.
    pub count: Option<u32>,
}

/// The figures of a group, or of all together.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct FigureSet {
    pub reports: SentReceived,
    pub advice_requests: SentReceived,
    pub acknowledgement: Acknowledgement,
    pub safety_assessment: SafetyAssessment,
    pub consent_to_feedback: ConsentToFeedback,
    pub feedback: FeedbackTimes,
    /// Every kind of handoff, in the reference list's order.
    pub overdue_now: Vec<OverdueCount>,
}

/// A month (`2026-07`), a sending school (its id) or a region.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct FiguresGroup {
    pub key: String,
    /// The month, the school's name or the region.
    pub label: String,
    pub figures: FigureSet,
}

/// A school's region's schools together, to compare with.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct Comparison {
    pub region: String,
    pub figures: FigureSet,
}

/// Figures for the ontwikkeltafel.
#[derive(Object)]
#[oai(rename_all = "camelCase", example)]
pub struct Figures {
    pub period: FiguresPeriod,
    pub group_by: GroupBy,
    pub view: FiguresView,
    /// Whose figures; absent nationally.
    #[oai(skip_serializing_if_is_none)]
    pub organisation: Option<OrganisationSummary>,
    /// Counts under this (5) are hidden.
    pub suppressed_below: u32,
    pub generated_at: Timestamp,
    /// The months of the period (all of them), or the schools or regions with handoffs.
    pub groups: Vec<FiguresGroup>,
    /// All groups together.
    pub total: FigureSet,
    /// A school's region's schools together; absent for others, or when the school has no
    /// region.
    #[oai(skip_serializing_if_is_none)]
    pub comparison: Option<Comparison>,
}

impl Example for Figures {
    fn example() -> Self {
        use crate::domain::figures::{Group, Table, Tally, suppress};
        let mut tally = Tally::default();
        for (count, value) in [
            (Count::ReportsSent, 14),
            (Count::AdviceRequestsSent, 9),
            (Count::Acknowledged, 23),
            (Count::AcknowledgementDue, 23),
            (Count::AcknowledgedInTime, 21),
            (Count::ReportsFromSchools, 14),
            (Count::ConsentAsked, 11),
            (Count::ConsentGranted, 7),
            (Count::ConsentRefused, 2),
            (Count::ConsentOpen, 2),
        ] {
            tally.counts.insert(count, value);
        }
        tally
            .durations
            .insert(Duration::Acknowledgement, vec![2.0, 5.5, 20.0, 26.0]);
        let table = suppress(&Table {
            groups: vec![Group {
                key: "2026-07".into(),
                label: "2026-07".into(),
                figures: tally.clone(),
            }],
            total: tally,
        });
        render(&Report {
            period: crate::domain::figures::Period::parse("2026-07")
                .unwrap_or_else(|_| unreachable!("a valid period")),
            group_by: GroupBy::Month,
            scope: Scope::Own(uuid::Uuid::nil()),
            organisation: Some(OrganisationSummary {
                id: uuid::Uuid::from_u128(0x0199_0000_0000_7000_8000_0000_0000_0001),
                kind: OrganisationKind::School,
                name: "Basisschool De Regenboog".into(),
            }),
            region: Some("Utrecht".into()),
            table,
            comparison: None,
            generated_at: "2026-10-01T08:00:00Z".parse().unwrap_or_default(),
        })
    }
}

pub fn render(report: &Report) -> Figures {
    Figures {
        period: FiguresPeriod {
            code: report.period.code.clone(),
            first_day: report.period.first_day,
            last_day: report.period.last_day,
        },
        group_by: report.group_by,
        view: match report.scope {
            Scope::Own(_) | Scope::SchoolsOfRegion(_) => FiguresView::Own,
            Scope::ReceivedFromSchools(_) => FiguresView::ReceivedFromSchools,
            Scope::National => FiguresView::National,
        },
        organisation: report.organisation.as_ref().map(|o| OrganisationSummary {
            id: o.id,
            kind: o.kind,
            name: o.name.clone(),
        }),
        suppressed_below: SUPPRESS_BELOW,
        generated_at: report.generated_at.into(),
        groups: report
            .table
            .groups
            .iter()
            .map(|g| FiguresGroup {
                key: g.key.clone(),
                label: g.label.clone(),
                figures: figure_set(&g.figures),
            })
            .collect(),
        total: figure_set(&report.table.total),
        comparison: report.comparison.as_ref().map(|c| Comparison {
            region: report.region.clone().unwrap_or_default(),
            figures: figure_set(c),
        }),
    }
}

fn figure_set(shown: &Shown) -> FigureSet {
    let count = |c| shown.count(c);
    let share = |s| shown.shares.get(&s).copied().flatten();
    let spread = |d: Duration| {
        let values = shown.durations.get(&d).copied().flatten();
        Spread {
            count: count(d.over()),
            median_hours: values.map(|(median, _)| round(median)),
            p90_hours: values.map(|(_, p90)| round(p90)),
        }
    };
    FigureSet {
        reports: SentReceived {
            sent: count(Count::ReportsSent),
            received: count(Count::ReportsReceived),
        },
        advice_requests: SentReceived {
            sent: count(Count::AdviceRequestsSent),
            received: count(Count::AdviceRequestsReceived),
        },
        acknowledgement: Acknowledgement {
            time: spread(Duration::Acknowledgement),
            due: count(Count::AcknowledgementDue),
            in_time: count(Count::AcknowledgedInTime),
            in_time_share: share(Share::AcknowledgedInTime),
        },
        safety_assessment: SafetyAssessment {
            due: count(Count::AssessmentDue),
            within_five_working_days: count(Count::AssessedInTime),
            share: share(Share::AssessedInTime),
        },
        consent_to_feedback: ConsentToFeedback {
            reports_from_schools: count(Count::ReportsFromSchools),
            asked: count(Count::ConsentAsked),
            asked_share: share(Share::ConsentAsked),
            granted: count(Count::ConsentGranted),
            refused: count(Count::ConsentRefused),
            open: count(Count::ConsentOpen),
        },
        feedback: FeedbackTimes {
            first_status: spread(Duration::FirstStatusFeedback),
            first_substantive: spread(Duration::FirstSubstantiveFeedback),
            guidance_requested: count(Count::GuidanceRequested),
            guidance_given: count(Count::GuidanceGiven),
            guidance_share: share(Share::GuidanceGiven),
            awaiting_after10_days: count(Count::AwaitingFeedback10Days),
            awaiting_after30_days: count(Count::AwaitingFeedback30Days),
        },
        overdue_now: <HandoffKind as Labelled>::ALL
            .iter()
            .map(|kind| OverdueCount {
                kind: *kind,
                count: count(Count::Overdue(*kind)),
            })
            .collect(),
    }
}

/// Two decimals: figures for a meeting, not a measurement log.
fn round(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}
