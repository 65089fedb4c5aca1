//! The kernteam: its members and guests, meetings, agenda items, perspectives and actions.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::{
    auth::policy::SeatRow,
    db::schema::{
        children, kernteam_actions, kernteam_items, kernteam_meetings, kernteam_members,
        kernteam_perspectives, kernteams,
    },
    domain::{
        handoff::AgeBand,
        kernteam::{ChildName, MeetingKind, TeamRole},
        reference::Labelled,
        signal::SignalCategory,
    },
};

#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = kernteams, check_for_backend(diesel::pg::Pg))]
pub struct Kernteam {
    pub id: Uuid,
    pub school_id: Uuid,
    pub name: String,
    pub created_by_sub: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = kernteam_members, check_for_backend(diesel::pg::Pg))]
pub struct Member {
    pub id: Uuid,
    pub kernteam_id: Uuid,
    pub organisation_id: Uuid,
    pub sub: String,
    pub name: String,
    pub team_role: TeamRole,
    /// Set for a guest: the one meeting they attend.
    pub meeting_id: Option<Uuid>,
    pub added_by_sub: String,
    pub added_at: DateTime<Utc>,
    pub removed_at: Option<DateTime<Utc>>,
}

impl Member {
    pub fn seat(&self) -> SeatRow<'_> {
        SeatRow {
            organisation: self.organisation_id,
            sub: &self.sub,
            meeting: self.meeting_id,
        }
    }
}

#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = kernteam_meetings, check_for_backend(diesel::pg::Pg))]
pub struct Meeting {
    pub id: Uuid,
    pub kernteam_id: Uuid,
    pub held_on: NaiveDate,
    pub kind: MeetingKind,
    pub created_by_sub: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = kernteam_items, check_for_backend(diesel::pg::Pg))]
pub struct Item {
    pub id: Uuid,
    pub meeting_id: Uuid,
    pub presenting_organisation_id: Uuid,
    pub child_id: Option<Uuid>,
    pub age_band: Option<AgeBand>,
    pub school_group: Option<String>,
    pub concerns: Vec<Option<String>>,
    pub question: String,
    pub advice: Option<String>,
    pub presented_by_sub: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Item {
    pub fn concerns(&self) -> Vec<SignalCategory> {
        self.concerns
            .iter()
            .flatten()
            .filter_map(|c| SignalCategory::parse(c))
            .collect()
    }
}

#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = kernteam_perspectives, check_for_backend(diesel::pg::Pg))]
pub struct Perspective {
    pub item_id: Uuid,
    pub organisation_id: Uuid,
    pub notes: String,
    pub recorded_by_sub: String,
    pub recorded_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = kernteam_actions, check_for_backend(diesel::pg::Pg))]
pub struct Action {
    pub id: Uuid,
    pub kernteam_id: Uuid,
    pub item_id: Uuid,
    pub owner_organisation_id: Uuid,
    pub owner_name: String,
    pub description: String,
    pub due_on: NaiveDate,
    pub done_at: Option<DateTime<Utc>>,
    pub done_by_sub: Option<String>,
    pub created_by_sub: String,
    pub created_at: DateTime<Utc>,
}

pub async fn insert_kernteam(
    conn: &mut AsyncPgConnection,
    school: Uuid,
    name: &str,
    by_sub: &str,
) -> QueryResult<Kernteam> {
    diesel::insert_into(kernteams::table)
        .values((
            kernteams::id.eq(Uuid::now_v7()),
            kernteams::school_id.eq(school),
            kernteams::name.eq(name),
            kernteams::created_by_sub.eq(by_sub),
        ))
        .returning(Kernteam::as_returning())
        .get_result(conn)
        .await
}

pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Kernteam>> {
    kernteams::table
        .find(id)
        .select(Kernteam::as_select())
        .first(conn)
        .await
        .optional()
}

/// The kernteams of the school (for its care coordinators) and those the professional sits in.
pub async fn of_professional(
    conn: &mut AsyncPgConnection,
    school: Option<Uuid>,
    organisation: Uuid,
    sub: &str,
) -> QueryResult<Vec<Kernteam>> {
    let seated = kernteam_members::table
        .filter(kernteam_members::organisation_id.eq(organisation))
        .filter(kernteam_members::sub.eq(sub.to_owned()))
        .filter(kernteam_members::removed_at.is_null())
        .select(kernteam_members::kernteam_id);
    let mut query = kernteams::table
        .filter(kernteams::id.eq_any(seated))
        .into_boxed();
    if let Some(school) = school {
        query = query.or_filter(kernteams::school_id.eq(school));
    }
    query
        .order((kernteams::created_at, kernteams::id))
        .select(Kernteam::as_select())
        .load(conn)
        .await
}

/// Members and guests still seated.
pub async fn members(conn: &mut AsyncPgConnection, kernteam: Uuid) -> QueryResult<Vec<Member>> {
    kernteam_members::table
        .filter(kernteam_members::kernteam_id.eq(kernteam))
        .filter(kernteam_members::removed_at.is_null())
        .order((kernteam_members::added_at, kernteam_members::id))
        .select(Member::as_select())
        .load(conn)
        .await
}

pub struct NewSeat<'a> {
    pub kernteam: Uuid,
    pub organisation: Uuid,
    pub sub: &'a str,
    pub name: &'a str,
    pub team_role: TeamRole,
    pub meeting: Option<Uuid>,
}

pub async fn insert_member(
    conn: &mut AsyncPgConnection,
    seat: &NewSeat<'_>,
    by_sub: &str,
) -> QueryResult<Member> {
    diesel::insert_into(kernteam_members::table)
        .values((
            kernteam_members::id.eq(Uuid::now_v7()),
            kernteam_members::kernteam_id.eq(seat.kernteam),
            kernteam_members::organisation_id.eq(seat.organisation),
            kernteam_members::sub.eq(seat.sub),
            kernteam_members::name.eq(seat.name),
            kernteam_members::team_role.eq(seat.team_role),
            kernteam_members::meeting_id.eq(seat.meeting),
            kernteam_members::added_by_sub.eq(by_sub),
        ))
        .returning(Member::as_returning())
        .get_result(conn)
        .await
}

pub async fn remove_member(
    conn: &mut AsyncPgConnection,
    kernteam: Uuid,
    member: Uuid,
) -> QueryResult<Option<Member>> {
    diesel::update(
        kernteam_members::table
            .filter(kernteam_members::id.eq(member))
            .filter(kernteam_members::kernteam_id.eq(kernteam))
            .filter(kernteam_members::removed_at.is_null()),
    )
    .set(kernteam_members::removed_at.eq(diesel::dsl::now))
    .returning(Member::as_returning())
    .get_result(conn)
    .await
    .optional()
}

pub async fn insert_meeting(
    conn: &mut AsyncPgConnection,
    kernteam: Uuid,
    held_on: NaiveDate,
    kind: MeetingKind,
    by_sub: &str,
) -> QueryResult<Meeting> {
    diesel::insert_into(kernteam_meetings::table)
        .values((
            kernteam_meetings::id.eq(Uuid::now_v7()),
            kernteam_meetings::kernteam_id.eq(kernteam),
            kernteam_meetings::held_on.eq(held_on),
            kernteam_meetings::kind.eq(kind),
            kernteam_meetings::created_by_sub.eq(by_sub),
        ))
        .returning(Meeting::as_returning())
        .get_result(conn)
        .await
}

/// The kernteam's meetings, by date.
pub async fn meetings(conn: &mut AsyncPgConnection, kernteam: Uuid) -> QueryResult<Vec<Meeting>> {
    kernteam_meetings::table
        .filter(kernteam_meetings::kernteam_id.eq(kernteam))
        .order((kernteam_meetings::held_on, kernteam_meetings::id))
        .select(Meeting::as_select())
        .load(conn)
        .await
}

pub struct NewItem<'a> {
    pub meeting: Uuid,
    pub presenter: Uuid,
    pub child: Option<Uuid>,
    pub age_band: Option<AgeBand>,
    pub school_group: Option<&'a str>,
    pub concerns: &'a [SignalCategory],
    pub question: &'a str,
}

pub async fn insert_item(
    conn: &mut AsyncPgConnection,
    item: &NewItem<'_>,
    by_sub: &str,
) -> QueryResult<Item> {
    let concerns: Vec<Option<String>> = item
        .concerns
        .iter()
        .map(|c| Some(c.code().to_owned()))
        .collect();
    diesel::insert_into(kernteam_items::table)
        .values((
            kernteam_items::id.eq(Uuid::now_v7()),
            kernteam_items::meeting_id.eq(item.meeting),
            kernteam_items::presenting_organisation_id.eq(item.presenter),
            kernteam_items::child_id.eq(item.child),
            kernteam_items::age_band.eq(item.age_band),
            kernteam_items::school_group.eq(item.school_group),
            kernteam_items::concerns.eq(concerns),
            kernteam_items::question.eq(item.question),
            kernteam_items::presented_by_sub.eq(by_sub),
        ))
        .returning(Item::as_returning())
        .get_result(conn)
        .await
}

/// The items of these meetings, in the order they were put on the agenda.
pub async fn items(conn: &mut AsyncPgConnection, meetings: &[Uuid]) -> QueryResult<Vec<Item>> {
    kernteam_items::table
        .filter(kernteam_items::meeting_id.eq_any(meetings))
        .order((kernteam_items::created_at, kernteam_items::id))
        .select(Item::as_select())
        .load(conn)
        .await
}

/// The items the organisation presented about its child, by name (a subject-access export
/// lists them).
pub async fn items_of_child(
    conn: &mut AsyncPgConnection,
    organisation: Uuid,
    child: Uuid,
) -> QueryResult<Vec<Item>> {
    kernteam_items::table
        .filter(kernteam_items::presenting_organisation_id.eq(organisation))
        .filter(kernteam_items::child_id.eq(child))
        .order((kernteam_items::created_at, kernteam_items::id))
        .select(Item::as_select())
        .load(conn)
        .await
}

/// The actions agreed on these items.
pub async fn actions_of_items(
    conn: &mut AsyncPgConnection,
    items: &[Uuid],
) -> QueryResult<Vec<Action>> {
    kernteam_actions::table
        .filter(kernteam_actions::item_id.eq_any(items))
        .order((kernteam_actions::due_on, kernteam_actions::id))
        .select(Action::as_select())
        .load(conn)
        .await
}

pub async fn set_advice(
    conn: &mut AsyncPgConnection,
    item: Uuid,
    advice: &str,
) -> QueryResult<Item> {
    diesel::update(kernteam_items::table.find(item))
        .set((
            kernteam_items::advice.eq(advice),
            kernteam_items::updated_at.eq(diesel::dsl::now),
        ))
        .returning(Item::as_returning())
        .get_result(conn)
        .await
}

pub async fn perspectives(
    conn: &mut AsyncPgConnection,
    items: &[Uuid],
) -> QueryResult<Vec<Perspective>> {
    kernteam_perspectives::table
        .filter(kernteam_perspectives::item_id.eq_any(items))
        .order(kernteam_perspectives::recorded_at)
        .select(Perspective::as_select())
        .load(conn)
        .await
}

/// Records (or replaces) the organisation's perspective on the item.
pub async fn put_perspective(
    conn: &mut AsyncPgConnection,
    item: Uuid,
    organisation: Uuid,
    notes: &str,
    by_sub: &str,
) -> QueryResult<Perspective> {
    let values = (
        kernteam_perspectives::item_id.eq(item),
        kernteam_perspectives::organisation_id.eq(organisation),
        kernteam_perspectives::notes.eq(notes),
        kernteam_perspectives::recorded_by_sub.eq(by_sub),
        kernteam_perspectives::recorded_at.eq(diesel::dsl::now),
    );
    diesel::insert_into(kernteam_perspectives::table)
        .values(values)
        .on_conflict((
            kernteam_perspectives::item_id,
            kernteam_perspectives::organisation_id,
        ))
        .do_update()
        .set(values)
        .returning(Perspective::as_returning())
        .get_result(conn)
        .await
}

pub struct NewAction<'a> {
    pub kernteam: Uuid,
    pub item: Uuid,
    pub owner_organisation: Uuid,
    pub owner_name: &'a str,
    pub description: &'a str,
    pub due_on: NaiveDate,
}

pub async fn insert_action(
    conn: &mut AsyncPgConnection,
    action: &NewAction<'_>,
    by_sub: &str,
) -> QueryResult<Action> {
    diesel::insert_into(kernteam_actions::table)
        .values((
            kernteam_actions::id.eq(Uuid::now_v7()),
            kernteam_actions::kernteam_id.eq(action.kernteam),
            kernteam_actions::item_id.eq(action.item),
            kernteam_actions::owner_organisation_id.eq(action.owner_organisation),
            kernteam_actions::owner_name.eq(action.owner_name),
            kernteam_actions::description.eq(action.description),
            kernteam_actions::due_on.eq(action.due_on),
            kernteam_actions::created_by_sub.eq(by_sub),
        ))
        .returning(Action::as_returning())
        .get_result(conn)
        .await
}

/// The kernteam's actions by due date; only the open ones when `open_only`.
pub async fn actions(
    conn: &mut AsyncPgConnection,
    kernteam: Uuid,
    open_only: bool,
) -> QueryResult<Vec<Action>> {
    let mut query = kernteam_actions::table
        .filter(kernteam_actions::kernteam_id.eq(kernteam))
        .into_boxed();
    if open_only {
        query = query.filter(kernteam_actions::done_at.is_null());
    }
    query
        .order((kernteam_actions::due_on, kernteam_actions::id))
        .select(Action::as_select())
        .load(conn)
        .await
}

pub async fn complete_action(
    conn: &mut AsyncPgConnection,
    action: Uuid,
    by_sub: &str,
) -> QueryResult<Action> {
    diesel::update(kernteam_actions::table.find(action))
        .set((
            kernteam_actions::done_at.eq(diesel::dsl::now),
            kernteam_actions::done_by_sub.eq(by_sub),
        ))
        .returning(Action::as_returning())
        .get_result(conn)
        .await
}

/// The names of the children registered at these organisations (not purged), for the anonymity
/// check.
pub async fn child_names(
    conn: &mut AsyncPgConnection,
    organisations: &[Uuid],
) -> QueryResult<Vec<ChildName>> {
    let rows: Vec<(String, String)> = children::table
        .filter(children::organisation_id.eq_any(organisations))
        .filter(children::purged_at.is_null())
        .select((children::given_name, children::family_name))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(given_name, family_name)| ChildName {
            given_name,
            family_name,
        })
        .collect())
}

/// The child an identified item presents, as the covered organisations see it.
pub async fn presented_children(
    conn: &mut AsyncPgConnection,
    ids: &[Uuid],
) -> QueryResult<Vec<(Uuid, String, String, NaiveDate)>> {
    children::table
        .filter(children::id.eq_any(ids))
        .filter(children::purged_at.is_null())
        .select((
            children::id,
            children::given_name,
            children::family_name,
            children::date_of_birth,
        ))
        .load(conn)
        .await
}
