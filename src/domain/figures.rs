//! Figures for the ontwikkeltafel: how timely handoffs are acknowledged, assessed and answered
//! with feedback, and whether Veilig Thuis asks parents' consent to tell the school more —
//! counts and durations only, never a child.
//!
//! [`tally`] turns the facts of the handoffs in view into a table of groups (month, sending
//! school or region) and a total; [`suppress`] then hides every count under
//! [`SUPPRESS_BELOW`], and as many more as it takes to keep a hidden count from being worked
//! out from a total (secondary suppression). Durations and shares follow the counts they rest
//! on, so a median of three acknowledgements is hidden with them.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use poem_openapi::Enum;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::{
    calendar::{add_working_days, start_of_dutch_day, to_dutch_time},
    consent::{self, ConsentDecision, ConsentStatus, GuardianAuthority, Party},
    handoff::{Deadlines, HandoffKind, HandoffStatus, overdue_deadlines},
    reference::Labelled,
    refusal::Refusal,
};

/// A cell counting fewer handoffs than this is shown as `<5`.
pub const SUPPRESS_BELOW: u32 = 5;
/// The national norm: a safety assessment within 5 working days of receipt.
pub const ASSESSMENT_WORKING_DAYS: u32 = 5;
/// Reports still waiting for any feedback after these many days are counted.
pub const AWAITING_DAYS: [i64; 2] = [10, 30];

/// A calendar period the figures cover, in Dutch time: a year (`2026`), a quarter (`2026-Q3`)
/// or a month (`2026-07`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub code: String,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
}

impl Period {
    pub fn parse(code: &str) -> Result<Period, Refusal> {
        let invalid = || {
            Refusal::field(
                "period",
                "a year (2026), a quarter (2026-Q3) or a month (2026-07), from 2000 to 2100",
            )
        };
        let year: i32 = code
            .get(..4)
            .filter(|y| y.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|y| y.parse().ok())
            .filter(|y| (2000..=2100).contains(y))
            .ok_or_else(invalid)?;
        let (first_month, months) = match code.as_bytes()[4..] {
            [] => (1, 12),
            [b'-', b'Q', q @ b'1'..=b'4'] => (u32::from(q - b'0') * 3 - 2, 3),
            [b'-', a @ b'0'..=b'1', b @ b'0'..=b'9'] => {
                (u32::from(a - b'0') * 10 + u32::from(b - b'0'), 1)
            }
            _ => return Err(invalid()),
        };
        let first_day = NaiveDate::from_ymd_opt(year, first_month, 1).ok_or_else(invalid)?;
        let after = first_day
            .checked_add_months(chrono::Months::new(months))
            .ok_or_else(invalid)?;
        Ok(Period {
            code: code.to_owned(),
            first_day,
            last_day: after.pred_opt().ok_or_else(invalid)?,
        })
    }

    /// The period's first instant and the instant after it, at Dutch midnight.
    pub fn instants(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        let after = self.last_day.succ_opt().unwrap_or(self.last_day);
        (
            start_of_dutch_day(self.first_day),
            start_of_dutch_day(after),
        )
    }

    /// The months of the period, as `YYYY-MM`.
    pub fn months(&self) -> Vec<String> {
        let mut months = Vec::new();
        let mut day = self.first_day;
        while day <= self.last_day {
            months.push(month_key(day));
            day = day
                .checked_add_months(chrono::Months::new(1))
                .unwrap_or(NaiveDate::MAX);
        }
        months
    }
}

fn month_key(day: NaiveDate) -> String {
    format!("{:04}-{:02}", day.year(), day.month())
}

/// How the figures are grouped.
#[derive(Enum, Deserialize, Serialize, Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    /// Per calendar month of sending.
    #[default]
    Month,
    /// Per sending school (Veilig Thuis: the reports it received from each school).
    School,
    /// Per region of the receiving organisation (the platform administrator, nationally).
    Region,
}

/// Whose handoffs the figures count (decided by `auth::policy::figures_view`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// An organisation's own: sent or received.
    Own(Uuid),
    /// What the schools of a region sent: a school's comparison.
    SchoolsOfRegion(String),
    /// What a Veilig Thuis received from schools, per school.
    ReceivedFromSchools(Uuid),
    /// Every handoff, nationally.
    National,
}

impl Scope {
    /// Whether the organisations in view sent and received a handoff from `from` to `to`: an
    /// organisation's own by direction, a region's schools only send, a Veilig Thuis only
    /// receives, and nationally every handoff is both.
    pub fn sides(&self, from: Uuid, to: Uuid) -> (bool, bool) {
        match self {
            Scope::Own(org) => (from == *org, to == *org),
            Scope::SchoolsOfRegion(_) => (true, false),
            Scope::ReceivedFromSchools(_) => (false, true),
            Scope::National => (true, true),
        }
    }
}

/// What came of Veilig Thuis asking consent to give the school feedback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentAnswer {
    Granted,
    Refused,
    Open,
}

impl ConsentAnswer {
    /// Granted once every required party granted it (withdrawn or expired later or not),
    /// refused once one refused, else open: `consent::judge` with validity set aside.
    pub fn judge(
        date_of_birth: NaiveDate,
        guardians: &[GuardianAuthority],
        decisions: &[(Party, ConsentDecision, NaiveDate)],
        today: NaiveDate,
    ) -> Self {
        match consent::judge(
            date_of_birth,
            guardians,
            decisions,
            false,
            NaiveDate::MAX,
            today,
        )
        .status
        {
            ConsentStatus::Active => Self::Granted,
            ConsentStatus::Rejected => Self::Refused,
            ConsentStatus::Draft | ConsentStatus::Inactive => Self::Open,
        }
    }
}

/// One handoff as the figures count it.
#[derive(Debug, Clone)]
pub struct HandoffFacts {
    pub kind: HandoffKind,
    pub status: HandoffStatus,
    /// The sending organisation, its name, and whether it is a school.
    pub sender: Uuid,
    pub sender_name: String,
    pub sender_is_school: bool,
    /// The receiving organisation's region (`None`: not set).
    pub recipient_region: Option<String>,
    /// Whether the organisations in view sent it, received it (nationally: both).
    pub sent: bool,
    pub received: bool,
    pub sent_at: DateTime<Utc>,
    /// The first step out of `sent`: the receipt.
    pub received_at: Option<DateTime<Utc>>,
    pub deadlines: Deadlines,
    pub requests_guidance: bool,
    pub first_status_feedback_at: Option<DateTime<Utc>>,
    pub first_substantive_feedback_at: Option<DateTime<Utc>>,
    pub guidance_given: bool,
    /// Veilig Thuis asked consent to give feedback to the school (the latest ask's answer).
    pub consent: Option<ConsentAnswer>,
}

/// The counts of a group, one per [`Count`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Count {
    ReportsSent,
    ReportsReceived,
    AdviceRequestsSent,
    AdviceRequestsReceived,
    /// Reports and advice requests acknowledged (the acknowledgement times are theirs).
    Acknowledged,
    /// Reports and advice requests whose acknowledgement was due, or that were acknowledged.
    AcknowledgementDue,
    AcknowledgedInTime,
    /// Reports received whose safety assessment was decided or is past 5 working days.
    AssessmentDue,
    AssessedInTime,
    ReportsFromSchools,
    ConsentAsked,
    ConsentGranted,
    ConsentRefused,
    ConsentOpen,
    /// Received reports with status / substantive feedback (the times are theirs).
    StatusFeedback,
    SubstantiveFeedback,
    GuidanceRequested,
    GuidanceGiven,
    AwaitingFeedback10Days,
    AwaitingFeedback30Days,
    Overdue(HandoffKind),
}

impl Count {
    /// Every count a group has, in the order of the CSV's columns.
    pub fn all() -> Vec<Count> {
        let mut all = vec![
            Count::ReportsSent,
            Count::ReportsReceived,
            Count::AdviceRequestsSent,
            Count::AdviceRequestsReceived,
            Count::Acknowledged,
            Count::AcknowledgementDue,
            Count::AcknowledgedInTime,
            Count::AssessmentDue,
            Count::AssessedInTime,
            Count::ReportsFromSchools,
            Count::ConsentAsked,
            Count::ConsentGranted,
            Count::ConsentRefused,
            Count::ConsentOpen,
            Count::StatusFeedback,
            Count::SubstantiveFeedback,
            Count::GuidanceRequested,
            Count::GuidanceGiven,
            Count::AwaitingFeedback10Days,
            Count::AwaitingFeedback30Days,
        ];
        all.extend(
            <HandoffKind as Labelled>::ALL
                .iter()
                .map(|k| Count::Overdue(*k)),
        );
        all
    }

    /// Sums shown beside their parts: a hidden part must not be their difference.
    const PARTS_OF: &'static [(Count, &'static [Count])] = &[(
        Count::ConsentAsked,
        &[
            Count::ConsentGranted,
            Count::ConsentRefused,
            Count::ConsentOpen,
        ],
    )];
}

/// Durations a group measures, in hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Duration {
    /// Sending to acknowledgement (reports and advice requests).
    Acknowledgement,
    /// Receipt to the first status feedback (reports).
    FirstStatusFeedback,
    /// Receipt to the first substantive feedback (reports).
    FirstSubstantiveFeedback,
}

impl Duration {
    pub const ALL: [Duration; 3] = [
        Duration::Acknowledgement,
        Duration::FirstStatusFeedback,
        Duration::FirstSubstantiveFeedback,
    ];

    /// The count the duration's values are as many as.
    pub fn over(self) -> Count {
        match self {
            Duration::Acknowledgement => Count::Acknowledged,
            Duration::FirstStatusFeedback => Count::StatusFeedback,
            Duration::FirstSubstantiveFeedback => Count::SubstantiveFeedback,
        }
    }
}

/// Shares a group shows: a numerator count over a denominator count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Share {
    AcknowledgedInTime,
    AssessedInTime,
    ConsentAsked,
    GuidanceGiven,
}

impl Share {
    pub const ALL: [Share; 4] = [
        Share::AcknowledgedInTime,
        Share::AssessedInTime,
        Share::ConsentAsked,
        Share::GuidanceGiven,
    ];

    pub fn of(self) -> (Count, Count) {
        match self {
            Share::AcknowledgedInTime => (Count::AcknowledgedInTime, Count::AcknowledgementDue),
            Share::AssessedInTime => (Count::AssessedInTime, Count::AssessmentDue),
            Share::ConsentAsked => (Count::ConsentAsked, Count::ReportsFromSchools),
            Share::GuidanceGiven => (Count::GuidanceGiven, Count::GuidanceRequested),
        }
    }
}

/// A group's raw tally, before suppression.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    pub counts: HashMap<Count, u32>,
    pub durations: BTreeMap<Duration, Vec<f64>>,
}

impl Tally {
    pub fn count(&self, count: Count) -> u32 {
        self.counts.get(&count).copied().unwrap_or(0)
    }

    fn add(&mut self, count: Count) {
        *self.counts.entry(count).or_default() += 1;
    }

    fn measure(&mut self, duration: Duration, from: DateTime<Utc>, to: DateTime<Utc>) {
        let hours = (to - from).num_seconds().max(0) as f64 / 3600.0;
        self.durations.entry(duration).or_default().push(hours);
    }

    /// Counts one handoff in.
    fn record(&mut self, facts: &HandoffFacts, now: DateTime<Utc>) {
        use HandoffKind as K;
        let kind = facts.kind;
        match (kind, facts.sent, facts.received) {
            (K::Report, sent, received) => {
                if sent {
                    self.add(Count::ReportsSent);
                }
                if received {
                    self.add(Count::ReportsReceived);
                }
            }
            (K::AdviceRequest, sent, received) => {
                if sent {
                    self.add(Count::AdviceRequestsSent);
                }
                if received {
                    self.add(Count::AdviceRequestsReceived);
                }
            }
            _ => {}
        }
        if !overdue_deadlines(kind, facts.status, &facts.deadlines, now).is_empty() {
            self.add(Count::Overdue(kind));
        }
        if !matches!(kind, K::Report | K::AdviceRequest) {
            return;
        }
        let ack_due = facts.deadlines.acknowledgement_due_at;
        match facts.received_at {
            Some(at) => {
                self.add(Count::Acknowledged);
                self.add(Count::AcknowledgementDue);
                if at <= ack_due {
                    self.add(Count::AcknowledgedInTime);
                }
                self.measure(Duration::Acknowledgement, facts.sent_at, at);
            }
            None if facts.status == HandoffStatus::Sent && ack_due < now => {
                self.add(Count::AcknowledgementDue);
            }
            None => {}
        }
        if kind == K::Report {
            self.record_report(facts, now);
        }
    }

    fn record_report(&mut self, facts: &HandoffFacts, now: DateTime<Utc>) {
        use HandoffStatus as S;
        if let Some(received) = facts.received_at {
            // The norm runs from receipt, over Dutch working days (holidays do not count).
            let due = add_working_days(received, ASSESSMENT_WORKING_DAYS);
            let assessed = facts.deadlines.assessment_decided_at;
            let with_vt = matches!(facts.status, S::Received | S::Accepted | S::Closed);
            if assessed.is_some() || (with_vt && due < now) {
                self.add(Count::AssessmentDue);
            }
            if assessed.is_some_and(|at| at <= due) {
                self.add(Count::AssessedInTime);
            }
            if let Some(at) = facts.first_status_feedback_at {
                self.add(Count::StatusFeedback);
                self.measure(Duration::FirstStatusFeedback, received, at);
            }
            if let Some(at) = facts.first_substantive_feedback_at {
                self.add(Count::SubstantiveFeedback);
                self.measure(Duration::FirstSubstantiveFeedback, received, at);
            }
        }
        if facts.sender_is_school {
            self.add(Count::ReportsFromSchools);
            if let Some(answer) = facts.consent {
                self.add(Count::ConsentAsked);
                self.add(match answer {
                    ConsentAnswer::Granted => Count::ConsentGranted,
                    ConsentAnswer::Refused => Count::ConsentRefused,
                    ConsentAnswer::Open => Count::ConsentOpen,
                });
            }
        }
        if facts.requests_guidance {
            self.add(Count::GuidanceRequested);
            if facts.guidance_given {
                self.add(Count::GuidanceGiven);
            }
        }
        let answered = facts.first_status_feedback_at.is_some()
            || facts.first_substantive_feedback_at.is_some();
        let waiting =
            !answered && !matches!(facts.status, S::Withdrawn | S::Declined | S::Forwarded);
        if waiting {
            let age = now - facts.sent_at;
            if age >= chrono::Duration::days(AWAITING_DAYS[0]) {
                self.add(Count::AwaitingFeedback10Days);
            }
            if age >= chrono::Duration::days(AWAITING_DAYS[1]) {
                self.add(Count::AwaitingFeedback30Days);
            }
        }
    }
}

/// A group of the table: its key (`2026-07`, a school's id, a region) and what it is called.
#[derive(Debug, Clone)]
pub struct Group<T> {
    pub key: String,
    pub label: String,
    pub figures: T,
}

/// The figures of the handoffs in view, grouped, with their total.
#[derive(Debug, Clone)]
pub struct Table<T> {
    pub groups: Vec<Group<T>>,
    pub total: T,
}

/// Tallies the handoffs in view per group. Months are all listed, empty or not; schools and
/// regions as far as they sent or received something, by name.
pub fn tally(
    facts: &[HandoffFacts],
    group_by: GroupBy,
    period: &Period,
    now: DateTime<Utc>,
) -> Table<Tally> {
    let mut groups: BTreeMap<String, Group<Tally>> = BTreeMap::new();
    if group_by == GroupBy::Month {
        for month in period.months() {
            groups.insert(
                month.clone(),
                Group {
                    label: month.clone(),
                    key: month,
                    figures: Tally::default(),
                },
            );
        }
    }
    let mut total = Tally::default();
    for handoff in facts {
        let (key, label) = match group_by {
            GroupBy::Month => {
                let month = month_key(to_dutch_time(handoff.sent_at).date_naive());
                (month.clone(), month)
            }
            GroupBy::School => (handoff.sender.to_string(), handoff.sender_name.clone()),
            GroupBy::Region => {
                let region = handoff.recipient_region.clone().unwrap_or_default();
                (region.clone(), region)
            }
        };
        groups
            .entry(key.clone())
            .or_insert_with(|| Group {
                key,
                label,
                figures: Tally::default(),
            })
            .figures
            .record(handoff, now);
        total.record(handoff, now);
    }
    let mut groups: Vec<Group<Tally>> = groups.into_values().collect();
    if group_by != GroupBy::Month {
        groups.sort_by(|a, b| a.label.cmp(&b.label).then(a.key.cmp(&b.key)));
    }
    Table { groups, total }
}

/// A group's figures as shown: a `None` count is hidden (`<5`), and so is every duration or
/// share resting on a hidden count.
#[derive(Debug, Clone, PartialEq)]
pub struct Shown {
    pub counts: HashMap<Count, Option<u32>>,
    /// Median and 90th percentile (nearest rank), in hours.
    pub durations: BTreeMap<Duration, Option<(f64, f64)>>,
    /// Between 0 and 1.
    pub shares: BTreeMap<Share, Option<f64>>,
}

impl Shown {
    pub fn count(&self, count: Count) -> Option<u32> {
        self.counts.get(&count).copied().flatten()
    }
}

/// Hides every count under [`SUPPRESS_BELOW`], then — until nothing changes — the smallest
/// shown part of every sum that has exactly one hidden part beside a shown sum: a group's
/// count beside the total, a consent answer beside the consents asked.
pub fn suppress(table: &Table<Tally>) -> Table<Shown> {
    let rows: Vec<&Tally> = table
        .groups
        .iter()
        .map(|g| &g.figures)
        .chain(std::iter::once(&table.total))
        .collect();
    let total_row = rows.len() - 1;
    let counts = Count::all();
    // hidden[row][count]
    let mut hidden: Vec<HashMap<Count, bool>> = rows
        .iter()
        .map(|t| {
            counts
                .iter()
                .map(|c| (*c, t.count(*c) < SUPPRESS_BELOW))
                .collect()
        })
        .collect();
    // The sums: (row, sum) with its parts (row, count).
    type Cell = (usize, Count);
    let mut sums: Vec<(Cell, Vec<Cell>)> = Vec::new();
    for count in &counts {
        sums.push((
            (total_row, *count),
            (0..total_row).map(|row| (row, *count)).collect(),
        ));
    }
    for row in 0..rows.len() {
        for (sum, parts) in Count::PARTS_OF {
            sums.push(((row, *sum), parts.iter().map(|p| (row, *p)).collect()));
        }
    }
    loop {
        let mut changed = false;
        for (sum, parts) in &sums {
            if hidden[sum.0][&sum.1] {
                continue;
            }
            let hidden_parts = parts.iter().filter(|(r, c)| hidden[*r][c]).count();
            if hidden_parts != 1 {
                continue;
            }
            // The smallest part still shown goes too; with none, the sum itself.
            let next = parts
                .iter()
                .filter(|(r, c)| !hidden[*r][c])
                .min_by_key(|(r, c)| rows[*r].count(*c));
            let (row, count) = next.copied().unwrap_or(*sum);
            hidden[row].insert(count, true);
            changed = true;
        }
        if !changed {
            break;
        }
    }
    let shown = |row: usize| -> Shown { show(rows[row], &hidden[row]) };
    Table {
        groups: table
            .groups
            .iter()
            .enumerate()
            .map(|(row, g)| Group {
                key: g.key.clone(),
                label: g.label.clone(),
                figures: shown(row),
            })
            .collect(),
        total: shown(total_row),
    }
}

/// A comparison beside an organisation's own figures (a school's region): a count is hidden
/// when it, or what the rest of the comparison counts beyond the organisation's own, is under
/// [`SUPPRESS_BELOW`] — else the own count would tell the others'.
pub fn suppress_comparison(comparison: &Tally, own: &Tally) -> Shown {
    let hidden: HashMap<Count, bool> = Count::all()
        .into_iter()
        .map(|c| {
            let value = comparison.count(c);
            let rest = value.saturating_sub(own.count(c));
            (c, value < SUPPRESS_BELOW || rest < SUPPRESS_BELOW)
        })
        .collect();
    let mut hidden = hidden;
    for (sum, parts) in Count::PARTS_OF {
        let hidden_parts = parts.iter().filter(|p| hidden[p]).count();
        if hidden_parts == 1 && !hidden[sum] {
            if let Some(next) = parts
                .iter()
                .filter(|p| !hidden[p])
                .min_by_key(|p| comparison.count(**p))
            {
                hidden.insert(*next, true);
            } else {
                hidden.insert(*sum, true);
            }
        }
    }
    show(comparison, &hidden)
}

fn show(tally: &Tally, hidden: &HashMap<Count, bool>) -> Shown {
    let is_hidden = |c: Count| hidden.get(&c).copied().unwrap_or(true);
    Shown {
        counts: Count::all()
            .into_iter()
            .map(|c| (c, (!is_hidden(c)).then(|| tally.count(c))))
            .collect(),
        durations: Duration::ALL
            .into_iter()
            .map(|d| {
                let values = tally.durations.get(&d).map(Vec::as_slice).unwrap_or(&[]);
                let visible = !is_hidden(d.over()) && !values.is_empty();
                (
                    d,
                    visible.then(|| (percentile(values, 50.0), percentile(values, 90.0))),
                )
            })
            .collect(),
        shares: Share::ALL
            .into_iter()
            .map(|s| {
                let (numerator, denominator) = s.of();
                let visible = !is_hidden(numerator)
                    && !is_hidden(denominator)
                    && tally.count(denominator) > 0;
                (
                    s,
                    visible.then(|| {
                        f64::from(tally.count(numerator)) / f64::from(tally.count(denominator))
                    }),
                )
            })
            .collect(),
    }
}

/// The nearest-rank percentile: the smallest value with at least `p` % of the values at or
/// below it.
pub fn percentile(values: &[f64], p: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

impl Count {
    /// The column's name in the CSV.
    pub fn code(self) -> String {
        let code = match self {
            Count::ReportsSent => "reports_sent",
            Count::ReportsReceived => "reports_received",
            Count::AdviceRequestsSent => "advice_requests_sent",
            Count::AdviceRequestsReceived => "advice_requests_received",
            Count::Acknowledged => "acknowledged",
            Count::AcknowledgementDue => "acknowledgement_due",
            Count::AcknowledgedInTime => "acknowledged_in_time",
            Count::AssessmentDue => "safety_assessment_due",
            Count::AssessedInTime => "safety_assessment_in_time",
            Count::ReportsFromSchools => "reports_from_schools",
            Count::ConsentAsked => "consent_asked",
            Count::ConsentGranted => "consent_granted",
            Count::ConsentRefused => "consent_refused",
            Count::ConsentOpen => "consent_open",
            Count::StatusFeedback => "status_feedback_given",
            Count::SubstantiveFeedback => "substantive_feedback_given",
            Count::GuidanceRequested => "guidance_requested",
            Count::GuidanceGiven => "guidance_given",
            Count::AwaitingFeedback10Days => "awaiting_feedback_10_days",
            Count::AwaitingFeedback30Days => "awaiting_feedback_30_days",
            Count::Overdue(kind) => return format!("overdue_now_{}", kind.code()),
        };
        code.to_owned()
    }

    /// What the count is, in Dutch, for the printed report.
    pub fn label_nl(self) -> String {
        let label = match self {
            Count::ReportsSent => "Meldingen verstuurd",
            Count::ReportsReceived => "Meldingen ontvangen",
            Count::AdviceRequestsSent => "Adviesvragen verstuurd",
            Count::AdviceRequestsReceived => "Adviesvragen ontvangen",
            Count::Acknowledged => "Ontvangst bevestigd",
            Count::AcknowledgementDue => "Ontvangstbevestiging verschuldigd",
            Count::AcknowledgedInTime => "Ontvangst op tijd bevestigd",
            Count::AssessmentDue => "Veiligheidsbeoordeling verschuldigd",
            Count::AssessedInTime => "Veiligheidsbeoordeling binnen 5 werkdagen",
            Count::ReportsFromSchools => "Meldingen van scholen",
            Count::ConsentAsked => "Toestemming voor terugkoppeling gevraagd",
            Count::ConsentGranted => "Toestemming gegeven",
            Count::ConsentRefused => "Toestemming geweigerd",
            Count::ConsentOpen => "Toestemming nog open",
            Count::StatusFeedback => "Statusterugkoppeling gegeven",
            Count::SubstantiveFeedback => "Inhoudelijke terugkoppeling gegeven",
            Count::GuidanceRequested => "Handelingsadvies gevraagd",
            Count::GuidanceGiven => "Handelingsadvies gegeven",
            Count::AwaitingFeedback10Days => "Na 10 dagen nog zonder terugkoppeling",
            Count::AwaitingFeedback30Days => "Na 30 dagen nog zonder terugkoppeling",
            Count::Overdue(kind) => return format!("Nu over tijd: {}", kind.label_nl()),
        };
        label.to_owned()
    }
}

impl Duration {
    pub fn code(self) -> &'static str {
        match self {
            Duration::Acknowledgement => "acknowledgement_hours",
            Duration::FirstStatusFeedback => "first_status_feedback_hours",
            Duration::FirstSubstantiveFeedback => "first_substantive_feedback_hours",
        }
    }

    pub fn label_nl(self) -> &'static str {
        match self {
            Duration::Acknowledgement => "Tijd tot ontvangstbevestiging (uren)",
            Duration::FirstStatusFeedback => "Tijd tot eerste statusterugkoppeling (uren)",
            Duration::FirstSubstantiveFeedback => {
                "Tijd tot eerste inhoudelijke terugkoppeling (uren)"
            }
        }
    }
}

impl Share {
    pub fn code(self) -> &'static str {
        match self {
            Share::AcknowledgedInTime => "acknowledged_in_time_share",
            Share::AssessedInTime => "safety_assessment_in_time_share",
            Share::ConsentAsked => "consent_asked_share",
            Share::GuidanceGiven => "guidance_given_share",
        }
    }

    pub fn label_nl(self) -> &'static str {
        match self {
            Share::AcknowledgedInTime => "Ontvangst op tijd bevestigd",
            Share::AssessedInTime => "Veiligheidsbeoordeling binnen 5 werkdagen",
            Share::ConsentAsked => "Ouders gevraagd om terugkoppeling aan school",
            Share::GuidanceGiven => "Gevraagd handelingsadvies gegeven",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    /// A report sent by a school, acknowledged an hour later.
    fn report(sent: &str) -> HandoffFacts {
        let sent_at = at(sent);
        HandoffFacts {
            kind: HandoffKind::Report,
            status: HandoffStatus::Received,
            sender: Uuid::from_u128(1),
            sender_name: "De Regenboog".into(),
            sender_is_school: true,
            recipient_region: Some("Utrecht".into()),
            sent: true,
            received: false,
            sent_at,
            received_at: Some(sent_at + chrono::Duration::hours(1)),
            deadlines: Deadlines {
                acknowledgement_due_at: sent_at + chrono::Duration::hours(24),
                assessment_due_at: None,
                assessment_decided_at: None,
            },
            requests_guidance: false,
            first_status_feedback_at: None,
            first_substantive_feedback_at: None,
            guidance_given: false,
            consent: None,
        }
    }

    fn now() -> DateTime<Utc> {
        at("2026-10-01T10:00:00Z")
    }

    #[test]
    fn periods_are_years_quarters_and_months() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        let q3 = Period::parse("2026-Q3").unwrap();
        assert_eq!(
            (q3.first_day, q3.last_day),
            (day(2026, 7, 1), day(2026, 9, 30))
        );
        assert_eq!(q3.months(), ["2026-07", "2026-08", "2026-09"]);
        let year = Period::parse("2026").unwrap();
        assert_eq!(
            (year.first_day, year.last_day),
            (day(2026, 1, 1), day(2026, 12, 31))
        );
        let feb = Period::parse("2028-02").unwrap();
        assert_eq!(feb.last_day, day(2028, 2, 29));
        // Dutch midnight: 1 July starts at 22:00 UTC the day before (summer time).
        assert_eq!(q3.instants().0, at("2026-06-30T22:00:00Z"));
        assert_eq!(q3.instants().1, at("2026-09-30T22:00:00Z"));
        for bad in [
            "",
            "2026-Q5",
            "2026-Q0",
            "2026-13",
            "2026-00",
            "26-Q1",
            "2026-Q3x",
            "1999",
            "2101",
            "２０２６",
            "2026-",
            "2026-7",
            "abcd-Q1",
            "2026\0",
        ] {
            assert!(Period::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_safety_assessment_norm_counts_dutch_working_days() {
        // Received Thursday 23 April 2026; King's Day (Monday 27 April) does not count, so
        // the fifth working day is Friday 1 May.
        let decided = |decided: &str| {
            let mut r = report("2026-04-23T08:00:00Z");
            r.deadlines.assessment_decided_at = Some(at(decided));
            r
        };
        let in_time = decided("2026-05-01T08:30:00Z");
        let late = decided("2026-05-04T08:00:00Z");
        let mut undecided_past = report("2026-04-23T08:00:00Z");
        undecided_past.status = HandoffStatus::Accepted;
        let mut undecided_young = report("2026-09-30T08:00:00Z");
        undecided_young.status = HandoffStatus::Accepted;
        let tally = tally(
            &[in_time, late, undecided_past, undecided_young],
            GroupBy::Month,
            &Period::parse("2026").unwrap(),
            now(),
        )
        .total;
        assert_eq!(tally.count(Count::AssessmentDue), 3);
        assert_eq!(tally.count(Count::AssessedInTime), 1);
        // Receipt at 09:00 on 23 April: five working days later is 1 May, not 30 April, since
        // King's Day does not count (counting it, 1 May 08:30 would be the sixth day: late).
        let due = add_working_days(at("2026-04-23T09:00:00Z"), 5);
        assert_eq!(due, at("2026-05-01T09:00:00Z"));
    }

    #[test]
    fn acknowledgement_times_and_deadlines() {
        let mut late = report("2026-07-01T08:00:00Z");
        late.received_at = Some(at("2026-07-03T08:00:00Z"));
        let mut never = report("2026-07-02T08:00:00Z");
        never.status = HandoffStatus::Sent;
        never.received_at = None;
        let mut waiting = report("2026-09-30T12:00:00Z");
        waiting.status = HandoffStatus::Sent;
        waiting.received_at = None;
        let mut facts = vec![late, never, waiting];
        for hour in 1..=7 {
            let mut r = report("2026-07-10T08:00:00Z");
            r.received_at = Some(r.sent_at + chrono::Duration::hours(hour));
            facts.push(r);
        }
        let t = tally(
            &facts,
            GroupBy::Month,
            &Period::parse("2026-Q3").unwrap(),
            now(),
        )
        .total;
        assert_eq!(t.count(Count::Acknowledged), 8);
        assert_eq!(t.count(Count::AcknowledgementDue), 9);
        assert_eq!(t.count(Count::AcknowledgedInTime), 7);
        assert_eq!(t.count(Count::Overdue(HandoffKind::Report)), 1);
        let shown = show(
            &t,
            &HashMap::from_iter(Count::all().into_iter().map(|c| (c, false))),
        );
        // 1..7 hours and 48: median the 4th of 8 (4 h), p90 the 8th (48 h).
        assert_eq!(
            shown.durations[&Duration::Acknowledgement],
            Some((4.0, 48.0))
        );
        assert_eq!(shown.shares[&Share::AcknowledgedInTime], Some(7.0 / 9.0));
    }

    #[test]
    fn consent_guidance_and_waiting_for_feedback() {
        let mut facts = Vec::new();
        for (i, answer) in [
            Some(ConsentAnswer::Granted),
            Some(ConsentAnswer::Granted),
            Some(ConsentAnswer::Refused),
            Some(ConsentAnswer::Open),
            None,
        ]
        .into_iter()
        .enumerate()
        {
            let mut r = report("2026-08-03T08:00:00Z");
            r.consent = answer;
            r.requests_guidance = i < 3;
            r.guidance_given = i == 0;
            if i < 2 {
                r.first_status_feedback_at = Some(r.sent_at + chrono::Duration::hours(25));
            }
            if i == 0 {
                r.first_substantive_feedback_at = Some(r.sent_at + chrono::Duration::hours(49));
            }
            facts.push(r);
        }
        let mut from_wijkteam = report("2026-09-25T08:00:00Z");
        from_wijkteam.sender_is_school = false;
        facts.push(from_wijkteam);
        let t = tally(
            &facts,
            GroupBy::Month,
            &Period::parse("2026-Q3").unwrap(),
            now(),
        )
        .total;
        let counts = |list: &[Count]| list.iter().map(|c| t.count(*c)).collect::<Vec<_>>();
        assert_eq!(
            counts(&[
                Count::ReportsFromSchools,
                Count::ConsentAsked,
                Count::ConsentGranted,
                Count::ConsentRefused,
                Count::ConsentOpen,
                Count::GuidanceRequested,
                Count::GuidanceGiven,
                Count::StatusFeedback,
                Count::SubstantiveFeedback,
            ]),
            [5, 4, 2, 1, 1, 3, 1, 2, 1]
        );
        // Three of the August reports have no feedback after 59 days; the September one is
        // six days old.
        assert_eq!(t.count(Count::AwaitingFeedback10Days), 3);
        assert_eq!(t.count(Count::AwaitingFeedback30Days), 3);
        // From receipt (an hour after sending): 24 and 48 hours.
        assert_eq!(
            t.durations[&Duration::FirstStatusFeedback],
            vec![24.0, 24.0]
        );
        assert_eq!(t.durations[&Duration::FirstSubstantiveFeedback], vec![48.0]);
    }

    fn table(groups: &[(&str, &[(Count, u32)])]) -> Table<Tally> {
        let tally_of = |counts: &[(Count, u32)]| Tally {
            counts: counts.iter().copied().collect(),
            durations: BTreeMap::new(),
        };
        let mut total = Tally::default();
        for (_, counts) in groups {
            for (c, v) in *counts {
                *total.counts.entry(*c).or_default() += v;
            }
        }
        Table {
            groups: groups
                .iter()
                .map(|(key, counts)| Group {
                    key: (*key).into(),
                    label: (*key).into(),
                    figures: tally_of(counts),
                })
                .collect(),
            total,
        }
    }

    #[test]
    fn small_counts_are_hidden_and_not_derivable_from_the_total() {
        use Count::ReportsSent as R;
        let shown = suppress(&table(&[
            ("a", &[(R, 3)]),
            ("b", &[(R, 10)]),
            ("c", &[(R, 12)]),
        ]));
        let sent: Vec<Option<u32>> = shown.groups.iter().map(|g| g.figures.count(R)).collect();
        // 3 is hidden; with the total 25 and 12 shown it would be 25 - 12 - 10: 10 goes too.
        assert_eq!(sent, [None, None, Some(12)]);
        assert_eq!(shown.total.count(R), Some(25));
        assert_no_single_hidden_part(&shown);
        // Two small groups hide each other; the total stays.
        let shown = suppress(&table(&[
            ("a", &[(R, 2)]),
            ("b", &[(R, 4)]),
            ("c", &[(R, 20)]),
        ]));
        let sent: Vec<Option<u32>> = shown.groups.iter().map(|g| g.figures.count(R)).collect();
        assert_eq!(sent, [None, None, Some(20)]);
        // One group: it is the total, hidden or shown together.
        let shown = suppress(&table(&[("a", &[(R, 4)])]));
        assert_eq!(
            (shown.groups[0].figures.count(R), shown.total.count(R)),
            (None, None)
        );
        // Zero is fewer than 5 as well.
        let shown = suppress(&table(&[("a", &[(R, 0)]), ("b", &[(R, 9)])]));
        assert_eq!(shown.groups[0].figures.count(R), None);
        assert_eq!(shown.groups[1].figures.count(R), None);
    }

    #[test]
    fn a_hidden_consent_answer_is_not_the_difference_of_the_others() {
        use Count::*;
        let shown = suppress(&table(&[
            (
                "a",
                &[
                    (ConsentAsked, 20),
                    (ConsentGranted, 10),
                    (ConsentRefused, 3),
                    (ConsentOpen, 7),
                ],
            ),
            (
                "b",
                &[
                    (ConsentAsked, 30),
                    (ConsentGranted, 10),
                    (ConsentRefused, 10),
                    (ConsentOpen, 10),
                ],
            ),
        ]));
        let a = &shown.groups[0].figures;
        assert_eq!(a.count(ConsentAsked), Some(20));
        assert_eq!(a.count(ConsentRefused), None);
        // Hiding a's refused hides b's (the column's total), which opens b's row, and so on:
        // when it settles no sum shown has exactly one hidden part.
        assert_no_single_hidden_part(&shown);
    }

    /// Every sum shown beside its parts has none or at least two of them hidden.
    fn assert_no_single_hidden_part(shown: &Table<Shown>) {
        for count in Count::all() {
            let hidden = shown
                .groups
                .iter()
                .filter(|g| g.figures.count(count).is_none());
            assert!(
                shown.total.count(count).is_none() || hidden.count() != 1,
                "{count:?} of one group is the total's difference"
            );
        }
        for row in shown
            .groups
            .iter()
            .map(|g| &g.figures)
            .chain([&shown.total])
        {
            for (sum, parts) in Count::PARTS_OF {
                let hidden = parts.iter().filter(|c| row.count(**c).is_none()).count();
                assert!(hidden != 1 || row.count(*sum).is_none());
            }
        }
    }

    #[test]
    fn no_hidden_count_is_ever_a_difference() {
        use Count::*;
        // Many small tables of pseudo-random counts (a fixed LCG: the same every run).
        let mut seed: u64 = 0x5eed;
        let mut next = |below: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((seed >> 33) % below) as u32
        };
        for _ in 0..500 {
            let groups: Vec<Vec<(Count, u32)>> = (0..1 + next(5))
                .map(|_| {
                    let (granted, refused, open) = (next(12), next(12), next(12));
                    vec![
                        (ReportsSent, next(15)),
                        (ConsentGranted, granted),
                        (ConsentRefused, refused),
                        (ConsentOpen, open),
                        (ConsentAsked, granted + refused + open),
                    ]
                })
                .collect();
            let named: Vec<(&str, &[(Count, u32)])> =
                groups.iter().map(|g| ("g", g.as_slice())).collect();
            let shown = suppress(&table(&named));
            assert_no_single_hidden_part(&shown);
            for (group, counts) in shown.groups.iter().zip(&groups) {
                for (count, value) in counts {
                    if *value < SUPPRESS_BELOW {
                        assert_eq!(group.figures.count(*count), None);
                    }
                }
            }
        }
    }

    #[test]
    fn durations_and_shares_follow_their_counts() {
        use Count::*;
        let mut t = table(&[(
            "a",
            &[
                (Acknowledged, 4),
                (AcknowledgementDue, 4),
                (AcknowledgedInTime, 4),
            ],
        )]);
        t.groups[0]
            .figures
            .durations
            .insert(Duration::Acknowledgement, vec![1.0, 2.0, 3.0, 4.0]);
        let shown = suppress(&t);
        assert_eq!(
            shown.groups[0].figures.durations[&Duration::Acknowledgement],
            None
        );
        assert_eq!(
            shown.groups[0].figures.shares[&Share::AcknowledgedInTime],
            None
        );
    }

    #[test]
    fn a_comparison_hides_what_would_tell_the_other_schools() {
        use Count::*;
        let of = |pairs: &[(Count, u32)]| Tally {
            counts: pairs.iter().copied().collect(),
            durations: BTreeMap::new(),
        };
        let region = of(&[
            (ReportsSent, 30),
            (AdviceRequestsSent, 40),
            (ConsentAsked, 12),
        ]);
        let own = of(&[
            (ReportsSent, 27),
            (AdviceRequestsSent, 10),
            (ConsentAsked, 2),
        ]);
        let shown = suppress_comparison(&region, &own);
        // 30 - 27 = 3 reports by the other schools: hidden.
        assert_eq!(shown.count(ReportsSent), None);
        assert_eq!(shown.count(AdviceRequestsSent), Some(40));
        assert_eq!(shown.count(ConsentAsked), Some(12));
    }

    #[test]
    fn who_sent_and_who_received_in_each_view() {
        let (school, vt, other) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3));
        assert_eq!(Scope::Own(school).sides(school, vt), (true, false));
        assert_eq!(Scope::Own(vt).sides(school, vt), (false, true));
        assert_eq!(Scope::Own(other).sides(school, vt), (false, false));
        assert_eq!(
            Scope::SchoolsOfRegion("Utrecht".into()).sides(school, vt),
            (true, false)
        );
        assert_eq!(
            Scope::ReceivedFromSchools(vt).sides(school, vt),
            (false, true)
        );
        assert_eq!(Scope::National.sides(school, vt), (true, true));
    }

    #[test]
    fn nearest_rank_percentiles() {
        let values: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(percentile(&values, 50.0), 5.0);
        assert_eq!(percentile(&values, 90.0), 9.0);
        assert_eq!(percentile(&[7.0], 90.0), 7.0);
    }

    #[test]
    fn groups_by_school_and_region_sort_by_name() {
        let mut a = report("2026-07-01T08:00:00Z");
        a.sender = Uuid::from_u128(2);
        a.sender_name = "Zonnebloem".into();
        a.recipient_region = None;
        let b = report("2026-07-01T08:00:00Z");
        let period = Period::parse("2026-Q3").unwrap();
        let by_school = tally(&[a.clone(), b.clone()], GroupBy::School, &period, now());
        let labels: Vec<&str> = by_school.groups.iter().map(|g| g.label.as_str()).collect();
        assert_eq!(labels, ["De Regenboog", "Zonnebloem"]);
        let by_region = tally(&[a, b], GroupBy::Region, &period, now());
        let labels: Vec<&str> = by_region.groups.iter().map(|g| g.label.as_str()).collect();
        assert_eq!(labels, ["", "Utrecht"]);
    }
}
