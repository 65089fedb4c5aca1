//! Case queries: cases, their append-only steps, lead changes and agreements.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::{prelude::*, sql_types};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::Value;
use uuid::Uuid;

use crate::{
    auth::policy::CaseScope,
    db::schema::{
        case_actions, case_approvals, case_lead_changes, case_proposals, case_steps, cases, signals,
    },
    domain::meldcode::{
        CaseStatus, Decision, Step,
        approval::{self, ApprovalVerdict, Proposal, ProposalSubject},
        file::decision_in_force,
        record::{StepDetails, StepRecord},
    },
};

#[derive(Queryable, Selectable, Debug, Clone, PartialEq, Eq)]
#[diesel(table_name = cases, check_for_backend(diesel::pg::Pg))]
pub struct Case {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub child_id: Uuid,
    pub status: CaseStatus,
    pub lead_sub: String,
    pub lead_name: String,
    pub opened_by_sub: String,
    pub opened_by_name: String,
    pub opened_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub closed_by_sub: Option<String>,
    pub closed_by_name: Option<String>,
    pub closure_note: Option<String>,
    pub updated_at: DateTime<Utc>,
}

impl Case {
    pub fn is_open(&self) -> bool {
        self.status == CaseStatus::Open
    }
}

/// A step record as stored; read through `StepRecord`, whose details are typed.
#[derive(Queryable, Selectable)]
#[diesel(table_name = case_steps, check_for_backend(diesel::pg::Pg))]
struct StepRow {
    id: Uuid,
    case_id: Uuid,
    kind: Step,
    details: Value,
    supersedes: Option<Uuid>,
    correction_reason: Option<String>,
    recorded_by_sub: String,
    recorded_by_name: String,
    recorded_at: DateTime<Utc>,
}

impl TryFrom<StepRow> for StepRecord {
    type Error = diesel::result::Error;

    /// Details that no longer read as their step are an error, never a silent default.
    fn try_from(row: StepRow) -> Result<Self, Self::Error> {
        let details = StepDetails::from_stored(row.kind, row.details)
            .map_err(|err| diesel::result::Error::DeserializationError(Box::new(err)))?;
        Ok(StepRecord {
            id: row.id,
            case_id: row.case_id,
            details,
            supersedes: row.supersedes,
            correction_reason: row.correction_reason,
            recorded_by_sub: row.recorded_by_sub,
            recorded_by_name: row.recorded_by_name,
            recorded_at: row.recorded_at,
        })
    }
}

#[derive(Queryable, Selectable, Debug, Clone, PartialEq, Eq)]
#[diesel(table_name = case_lead_changes, check_for_backend(diesel::pg::Pg))]
pub struct LeadChange {
    pub id: Uuid,
    pub case_id: Uuid,
    pub from_sub: String,
    pub from_name: String,
    pub to_sub: String,
    pub to_name: String,
    pub reason: Option<String>,
    pub changed_by_sub: String,
    pub changed_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable, Debug, Clone, PartialEq, Eq)]
#[diesel(table_name = case_actions, check_for_backend(diesel::pg::Pg))]
pub struct Action {
    pub id: Uuid,
    pub case_id: Uuid,
    pub description: String,
    pub owner_name: String,
    pub owner_sub: Option<String>,
    pub owner_organisation_id: Option<Uuid>,
    pub due_date: NaiveDate,
    pub done_at: Option<DateTime<Utc>>,
    pub decision_step_id: Option<Uuid>,
    pub created_by_sub: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Action {
    pub fn is_overdue(&self, today: NaiveDate) -> bool {
        self.done_at.is_none() && self.due_date < today
    }
}

#[derive(Insertable, Debug)]
#[diesel(table_name = cases)]
pub struct NewCase<'a> {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub child_id: Uuid,
    pub lead_sub: &'a str,
    pub lead_name: &'a str,
    pub opened_by_sub: &'a str,
    pub opened_by_name: &'a str,
}

#[derive(Insertable, Debug)]
#[diesel(table_name = case_steps)]
pub struct NewStep<'a> {
    pub id: Uuid,
    pub case_id: Uuid,
    pub kind: Step,
    pub details: Value,
    pub supersedes: Option<Uuid>,
    pub correction_reason: Option<&'a str>,
    pub recorded_by_sub: &'a str,
    pub recorded_by_name: &'a str,
}

#[derive(Insertable, Debug)]
#[diesel(table_name = case_actions)]
pub struct NewAction<'a> {
    pub id: Uuid,
    pub case_id: Uuid,
    pub description: &'a str,
    pub owner_name: &'a str,
    pub owner_sub: Option<&'a str>,
    pub owner_organisation_id: Option<Uuid>,
    pub due_date: NaiveDate,
    pub decision_step_id: Option<Uuid>,
    pub created_by_sub: &'a str,
}

#[derive(AsChangeset, Debug, Default)]
#[diesel(table_name = case_actions)]
pub struct ActionChanges {
    pub description: Option<String>,
    pub owner_name: Option<String>,
    pub owner_sub: Option<Option<String>>,
    pub owner_organisation_id: Option<Option<Uuid>>,
    pub due_date: Option<NaiveDate>,
    pub done_at: Option<Option<DateTime<Utc>>>,
}

/// A case with everything recorded on it.
#[derive(Debug, Clone)]
pub struct CaseFile {
    pub case: Case,
    pub steps: Vec<StepRecord>,
    pub actions: Vec<Action>,
    pub lead_changes: Vec<LeadChange>,
    /// The latest report sent from the case, in whatever state.
    pub report: Option<crate::db::handoffs::Handoff>,
    /// Four-eyes proposals with their verdicts, oldest first.
    pub proposals: Vec<ProposalRecord>,
}

impl CaseFile {
    /// The proposals as the rules see them.
    pub fn proposals(&self) -> Vec<Proposal> {
        self.proposals
            .iter()
            .map(ProposalRecord::to_domain)
            .collect()
    }

    /// The decision in force: the latest active step 5, once approved where four eyes apply.
    pub fn decision(&self) -> Option<Decision> {
        decision_in_force(&self.steps, &self.proposals())
    }
}

#[derive(Queryable, Selectable, Debug, Clone, PartialEq, Eq)]
#[diesel(table_name = case_proposals, check_for_backend(diesel::pg::Pg))]
pub struct ProposalRow {
    pub id: Uuid,
    pub case_id: Uuid,
    pub subject: ProposalSubject,
    pub step_id: Option<Uuid>,
    pub closure_note: Option<String>,
    pub proposed_by_sub: String,
    pub proposed_by_name: String,
    pub proposed_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable, Debug, Clone, PartialEq, Eq)]
#[diesel(table_name = case_approvals, check_for_backend(diesel::pg::Pg))]
pub struct ApprovalRow {
    pub proposal_id: Uuid,
    pub verdict: ApprovalVerdict,
    pub comment: Option<String>,
    pub by_sub: String,
    pub by_name: String,
    pub at: DateTime<Utc>,
}

/// A proposal and its verdict, once given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProposalRecord {
    pub proposal: ProposalRow,
    pub approval: Option<ApprovalRow>,
}

impl ProposalRecord {
    pub fn to_domain(&self) -> Proposal {
        Proposal {
            id: self.proposal.id,
            subject: self.proposal.subject,
            step_id: self.proposal.step_id,
            closure_note: self.proposal.closure_note.clone(),
            proposed_by_sub: self.proposal.proposed_by_sub.clone(),
            verdict: self.approval.as_ref().map(|a| a.verdict),
        }
    }
}

/// A four-eyes proposal: a decision's step record or a closure, awaiting a verdict.
pub async fn insert_proposal(
    conn: &mut AsyncPgConnection,
    case: Uuid,
    subject: ProposalSubject,
    step: Option<Uuid>,
    closure_note: Option<&str>,
    by: (&str, &str),
) -> QueryResult<Uuid> {
    let id = Uuid::now_v7();
    diesel::insert_into(case_proposals::table)
        .values((
            case_proposals::id.eq(id),
            case_proposals::case_id.eq(case),
            case_proposals::subject.eq(subject),
            case_proposals::step_id.eq(step),
            case_proposals::closure_note.eq(closure_note),
            case_proposals::proposed_by_sub.eq(by.0),
            case_proposals::proposed_by_name.eq(by.1),
        ))
        .execute(conn)
        .await?;
    Ok(id)
}

/// The second professional's verdict on a proposal.
pub async fn insert_approval(
    conn: &mut AsyncPgConnection,
    proposal: Uuid,
    verdict: ApprovalVerdict,
    comment: Option<&str>,
    by: (&str, &str),
) -> QueryResult<()> {
    diesel::insert_into(case_approvals::table)
        .values((
            case_approvals::proposal_id.eq(proposal),
            case_approvals::verdict.eq(verdict),
            case_approvals::comment.eq(comment),
            case_approvals::by_sub.eq(by.0),
            case_approvals::by_name.eq(by.1),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn insert(conn: &mut AsyncPgConnection, new: &NewCase<'_>) -> QueryResult<Case> {
    diesel::insert_into(cases::table)
        .values(new)
        .returning(Case::as_returning())
        .get_result(conn)
        .await
}

/// Cases the scope may see.
fn visible(
    scope: &CaseScope,
) -> Box<dyn BoxableExpression<cases::table, diesel::pg::Pg, SqlType = sql_types::Bool>> {
    match scope {
        CaseScope::Organisation => Box::new(diesel::dsl::sql::<sql_types::Bool>("TRUE")),
        CaseScope::ChildrenWithSignalsBy { sub } => Box::new(diesel::dsl::exists(
            signals::table
                .filter(signals::child_id.eq(cases::child_id))
                .filter(signals::recorded_by_sub.eq(sub.clone())),
        )),
    }
}

/// A case of `organisation` within the scope; locked when `for_update`.
pub async fn find(
    conn: &mut AsyncPgConnection,
    organisation: Uuid,
    scope: &CaseScope,
    id: Uuid,
    for_update: bool,
) -> QueryResult<Option<Case>> {
    let query = cases::table
        .filter(cases::id.eq(id))
        .filter(cases::organisation_id.eq(organisation))
        .filter(visible(scope))
        .select(Case::as_select());
    if for_update {
        query.for_update().first(conn).await.optional()
    } else {
        query.first(conn).await.optional()
    }
}

pub async fn load_files(
    conn: &mut AsyncPgConnection,
    cases: Vec<Case>,
) -> QueryResult<Vec<CaseFile>> {
    let ids: Vec<Uuid> = cases.iter().map(|c| c.id).collect();
    let steps = case_steps::table
        .filter(case_steps::case_id.eq_any(&ids))
        .order((case_steps::recorded_at, case_steps::id))
        .select(StepRow::as_select())
        .load(conn)
        .await?
        .into_iter()
        .map(StepRecord::try_from)
        .collect::<QueryResult<Vec<_>>>()?;
    let actions: Vec<Action> = case_actions::table
        .filter(case_actions::case_id.eq_any(&ids))
        .order(case_actions::id)
        .select(Action::as_select())
        .load(conn)
        .await?;
    let lead_changes: Vec<LeadChange> = case_lead_changes::table
        .filter(case_lead_changes::case_id.eq_any(&ids))
        .order((case_lead_changes::changed_at, case_lead_changes::id))
        .select(LeadChange::as_select())
        .load(conn)
        .await?;
    let reports = crate::db::handoffs::reports_of_cases(conn, &ids).await?;
    let proposals: Vec<ProposalRecord> = case_proposals::table
        .left_join(case_approvals::table)
        .filter(case_proposals::case_id.eq_any(&ids))
        .order((case_proposals::proposed_at, case_proposals::id))
        .select((ProposalRow::as_select(), Option::<ApprovalRow>::as_select()))
        .load::<(ProposalRow, Option<ApprovalRow>)>(conn)
        .await?
        .into_iter()
        .map(|(proposal, approval)| ProposalRecord { proposal, approval })
        .collect();
    let mut proposals_by = group(proposals, |p| p.proposal.case_id);
    let mut steps_by = group(steps, |s| s.case_id);
    let mut actions_by = group(actions, |a| a.case_id);
    let mut leads_by = group(lead_changes, |l| l.case_id);
    Ok(cases
        .into_iter()
        .map(|case| CaseFile {
            steps: steps_by.remove(&case.id).unwrap_or_default(),
            actions: actions_by.remove(&case.id).unwrap_or_default(),
            lead_changes: leads_by.remove(&case.id).unwrap_or_default(),
            // Newest first: the first report of this case is the latest.
            report: reports.iter().find(|r| r.case_id == Some(case.id)).cloned(),
            proposals: proposals_by.remove(&case.id).unwrap_or_default(),
            case,
        })
        .collect())
}

/// The child's open case in the organisation, if any (at most one).
pub async fn open_case_of(
    conn: &mut AsyncPgConnection,
    organisation: Uuid,
    child: Uuid,
) -> QueryResult<Option<Uuid>> {
    cases::table
        .filter(cases::organisation_id.eq(organisation))
        .filter(cases::child_id.eq(child))
        .filter(cases::status.eq(CaseStatus::Open))
        .select(cases::id)
        .first(conn)
        .await
        .optional()
}

/// A case within the scope and the decision in force, for a report sent from it.
pub async fn case_and_decision(
    conn: &mut AsyncPgConnection,
    organisation: Uuid,
    scope: &CaseScope,
    id: Uuid,
) -> QueryResult<Option<(Case, Option<Decision>, Option<ProposalSubject>)>> {
    let Some(case) = find(conn, organisation, scope, id, false).await? else {
        return Ok(None);
    };
    let file = load_files(conn, vec![case]).await?.remove(0);
    let decision = file.decision();
    let pending = approval::pending(&file.proposals()).map(|p| p.subject);
    Ok(Some((file.case, decision, pending)))
}

fn group<T>(items: Vec<T>, key: impl Fn(&T) -> Uuid) -> HashMap<Uuid, Vec<T>> {
    let mut groups: HashMap<Uuid, Vec<T>> = HashMap::new();
    for item in items {
        groups.entry(key(&item)).or_default().push(item);
    }
    groups
}

#[derive(Debug, Default)]
pub struct Filter {
    pub status: Option<CaseStatus>,
    pub lead: Option<String>,
    pub child: Option<Uuid>,
    /// Only cases with an agreement past its due date and not done.
    pub overdue_on: Option<NaiveDate>,
}

pub async fn list(
    conn: &mut AsyncPgConnection,
    organisation: Uuid,
    scope: &CaseScope,
    filter: &Filter,
    after: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<Case>> {
    let mut query = cases::table
        .filter(cases::organisation_id.eq(organisation))
        .filter(visible(scope))
        .select(Case::as_select())
        .into_boxed();
    if let Some(status) = filter.status {
        query = query.filter(cases::status.eq(status));
    }
    if let Some(lead) = &filter.lead {
        query = query.filter(cases::lead_sub.eq(lead.clone()));
    }
    if let Some(child) = filter.child {
        query = query.filter(cases::child_id.eq(child));
    }
    if let Some(today) = filter.overdue_on {
        query = query.filter(diesel::dsl::exists(
            case_actions::table
                .filter(case_actions::case_id.eq(cases::id))
                .filter(case_actions::done_at.is_null())
                .filter(case_actions::due_date.lt(today)),
        ));
    }
    if let Some(after) = after {
        query = query.filter(cases::id.gt(after));
    }
    query.order(cases::id).limit(limit).load(conn).await
}

pub async fn insert_step(
    conn: &mut AsyncPgConnection,
    new: &NewStep<'_>,
) -> QueryResult<StepRecord> {
    diesel::insert_into(case_steps::table)
        .values(new)
        .returning(StepRow::as_returning())
        .get_result(conn)
        .await?
        .try_into()
}

/// Marks the case changed (its ETag changes with what is recorded on it anyway).
pub async fn touch(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Case> {
    diesel::update(cases::table.find(id))
        .set(cases::updated_at.eq(diesel::dsl::now))
        .returning(Case::as_returning())
        .get_result(conn)
        .await
}

pub async fn insert_action(
    conn: &mut AsyncPgConnection,
    new: &NewAction<'_>,
) -> QueryResult<Action> {
    diesel::insert_into(case_actions::table)
        .values(new)
        .returning(Action::as_returning())
        .get_result(conn)
        .await
}

pub async fn update_action(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    changes: &ActionChanges,
) -> QueryResult<Action> {
    diesel::update(case_actions::table.find(id))
        .set((changes, case_actions::updated_at.eq(diesel::dsl::now)))
        .returning(Action::as_returning())
        .get_result(conn)
        .await
}

pub async fn change_lead(
    conn: &mut AsyncPgConnection,
    case: &Case,
    to_sub: &str,
    to_name: &str,
    reason: Option<&str>,
    changed_by: &str,
) -> QueryResult<Case> {
    diesel::insert_into(case_lead_changes::table)
        .values((
            case_lead_changes::id.eq(Uuid::now_v7()),
            case_lead_changes::case_id.eq(case.id),
            case_lead_changes::from_sub.eq(&case.lead_sub),
            case_lead_changes::from_name.eq(&case.lead_name),
            case_lead_changes::to_sub.eq(to_sub),
            case_lead_changes::to_name.eq(to_name),
            case_lead_changes::reason.eq(reason),
            case_lead_changes::changed_by_sub.eq(changed_by),
        ))
        .execute(conn)
        .await?;
    diesel::update(cases::table.find(case.id))
        .set((
            cases::lead_sub.eq(to_sub),
            cases::lead_name.eq(to_name),
            cases::updated_at.eq(diesel::dsl::now),
        ))
        .returning(Case::as_returning())
        .get_result(conn)
        .await
}

pub async fn close(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    by_sub: &str,
    by_name: &str,
    note: Option<&str>,
) -> QueryResult<Case> {
    diesel::update(cases::table.find(id))
        .set((
            cases::status.eq(CaseStatus::Closed),
            cases::closed_at.eq(diesel::dsl::now),
            cases::closed_by_sub.eq(by_sub),
            cases::closed_by_name.eq(by_name),
            cases::closure_note.eq(note),
            cases::updated_at.eq(diesel::dsl::now),
        ))
        .returning(Case::as_returning())
        .get_result(conn)
        .await
}

/// Which of `ids` are signals of `child` (already scoped to the organisation by the child).
pub async fn signals_of_child(
    conn: &mut AsyncPgConnection,
    child: Uuid,
    ids: &[Uuid],
) -> QueryResult<Vec<Uuid>> {
    signals::table
        .filter(signals::child_id.eq(child))
        .filter(signals::id.eq_any(ids))
        .select(signals::id)
        .load(conn)
        .await
}
