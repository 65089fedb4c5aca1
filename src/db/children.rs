//! Child and guardian queries. Every lookup is scoped to the caller's organisation, so another
//! organisation's child is simply not found.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::{prelude::*, result::Error as DieselError, sql_types};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::{
    db::schema::{children, guardians},
    domain::{
        child::{AuthoritySource, ParentalAuthority, Relationship},
        consent::GuardianAuthority,
    },
    effects::{EFFECTS_CTES, EffectRows},
};

#[derive(Queryable, Selectable, Debug, Clone, PartialEq, Eq)]
#[diesel(table_name = children, check_for_backend(diesel::pg::Pg))]
pub struct Child {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub external_ref: String,
    pub given_name: String,
    pub family_name: String,
    pub date_of_birth: NaiveDate,
    pub bsn: Option<String>,
    pub school_group: Option<String>,
    pub created_by_sub: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// A school: the day the pupil left.
    pub left_on: Option<NaiveDate>,
    /// Youth care and Veilig Thuis: the day care (involvement) ended.
    pub care_ended_on: Option<NaiveDate>,
}

#[derive(Insertable, Debug)]
#[diesel(table_name = children)]
pub struct NewChild<'a> {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub external_ref: &'a str,
    pub given_name: &'a str,
    pub family_name: &'a str,
    pub date_of_birth: NaiveDate,
    pub bsn: Option<&'a str>,
    pub school_group: Option<&'a str>,
    pub created_by_sub: &'a str,
}

#[derive(AsChangeset, Debug, Default)]
#[diesel(table_name = children)]
pub struct ChildChanges {
    pub external_ref: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub date_of_birth: Option<NaiveDate>,
    pub bsn: Option<Option<String>>,
    pub school_group: Option<Option<String>>,
    pub left_on: Option<Option<NaiveDate>>,
    pub care_ended_on: Option<Option<NaiveDate>>,
}

#[derive(Queryable, Selectable, Debug, Clone, PartialEq, Eq)]
#[diesel(table_name = guardians, check_for_backend(diesel::pg::Pg))]
pub struct Guardian {
    pub id: Uuid,
    pub child_id: Uuid,
    pub name: String,
    pub relationship: Relationship,
    pub parental_authority: ParentalAuthority,
    pub authority_source: AuthoritySource,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Guardian {
    /// The guardian as consent sees them.
    pub fn authority(&self) -> GuardianAuthority {
        GuardianAuthority {
            id: self.id,
            authority: self.parental_authority,
        }
    }
}

#[derive(Insertable, Debug)]
#[diesel(table_name = guardians)]
pub struct NewGuardian<'a> {
    pub id: Uuid,
    pub child_id: Uuid,
    pub name: &'a str,
    pub relationship: Relationship,
    pub parental_authority: ParentalAuthority,
    pub authority_source: AuthoritySource,
    pub phone: Option<&'a str>,
    pub email: Option<&'a str>,
}

#[derive(AsChangeset, Debug, Default)]
#[diesel(table_name = guardians)]
pub struct GuardianChanges {
    pub name: Option<String>,
    pub relationship: Option<Relationship>,
    pub parental_authority: Option<ParentalAuthority>,
    pub authority_source: Option<AuthoritySource>,
    pub phone: Option<Option<String>>,
    pub email: Option<Option<String>>,
}

pub async fn insert(conn: &mut AsyncPgConnection, new: &NewChild<'_>) -> QueryResult<Child> {
    diesel::insert_into(children::table)
        .values(new)
        .returning(Child::as_returning())
        .get_result(conn)
        .await
}

/// A child of `organisation`, or none (also when it belongs to another organisation).
pub async fn find(
    conn: &mut AsyncPgConnection,
    organisation: Uuid,
    id: Uuid,
) -> QueryResult<Option<Child>> {
    children::table
        .filter(children::id.eq(id))
        .filter(children::organisation_id.eq(organisation))
        .filter(children::purged_at.is_null())
        .select(Child::as_select())
        .first(conn)
        .await
        .optional()
}

/// A child of `organisation`, also when its file was purged (a tombstone): for the access log,
/// which outlives the records it concerns.
pub async fn find_including_purged(
    conn: &mut AsyncPgConnection,
    organisation: Uuid,
    id: Uuid,
) -> QueryResult<Option<Child>> {
    children::table
        .filter(children::id.eq(id))
        .filter(children::organisation_id.eq(organisation))
        .select(Child::as_select())
        .first(conn)
        .await
        .optional()
}

type ChildColumns = (
    sql_types::Uuid,
    sql_types::Uuid,
    sql_types::Text,
    sql_types::Text,
    sql_types::Text,
    sql_types::Date,
    sql_types::Nullable<sql_types::Text>,
    sql_types::Nullable<sql_types::Text>,
    sql_types::Text,
    sql_types::Timestamptz,
    sql_types::Timestamptz,
    sql_types::Nullable<sql_types::Date>,
    sql_types::Nullable<sql_types::Date>,
);

/// What the data lifecycle has on a child: a hold placed and not lifted (with its end), and
/// whether a destruction request waits for a decision.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LifecycleFlags {
    pub hold: Option<Option<NaiveDate>>,
    pub destruction_requested: bool,
}

/// The lifecycle flags of these children (every one of them, default when nothing is on it).
pub async fn lifecycle_flags(
    conn: &mut AsyncPgConnection,
    children: &[Uuid],
) -> QueryResult<std::collections::HashMap<Uuid, LifecycleFlags>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = sql_types::Uuid)]
        id: Uuid,
        #[diesel(sql_type = sql_types::Bool)]
        held: bool,
        #[diesel(sql_type = sql_types::Nullable<sql_types::Date>)]
        until: Option<NaiveDate>,
        #[diesel(sql_type = sql_types::Bool)]
        destruction_requested: bool,
    }
    if children.is_empty() {
        return Ok(std::collections::HashMap::new());
    }
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT c.id, h.id IS NOT NULL AS held, h.until,
                EXISTS (SELECT FROM destruction_requests d
                         WHERE d.child_id = c.id AND d.status = 'received') AS destruction_requested
           FROM unnest($1::uuid[]) AS c(id)
           LEFT JOIN legal_holds h ON h.child_id = c.id AND h.lifted_at IS NULL",
    )
    .bind::<sql_types::Array<sql_types::Uuid>, _>(children)
    .load(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let flags = LifecycleFlags {
                hold: r.held.then_some(r.until),
                destruction_requested: r.destruction_requested,
            };
            (r.id, flags)
        })
        .collect())
}

/// The lifecycle flags of one child.
pub async fn lifecycle_flags_of(
    conn: &mut AsyncPgConnection,
    child: Uuid,
) -> QueryResult<LifecycleFlags> {
    Ok(lifecycle_flags(conn, &[child])
        .await?
        .remove(&child)
        .unwrap_or_default())
}

/// A child of `organisation` with its guardians and lifecycle flags, and `effects` (the read's
/// access-log entry) written if it is found — in one statement: the hot path of reading a
/// child, one round trip with its log entry in the same (single-statement) transaction.
pub async fn read_with_guardians(
    conn: &mut AsyncPgConnection,
    organisation: Uuid,
    id: Uuid,
    effects: &EffectRows,
) -> QueryResult<Option<(Child, Vec<Guardian>, LifecycleFlags)>> {
    type Row = (Child, Option<Guardian>, bool, Option<NaiveDate>, bool);
    let rows: Vec<Row> = effects
        .statement::<(
            ChildColumns,
            sql_types::Nullable<guardians::SqlType>,
            sql_types::Bool,
            sql_types::Nullable<sql_types::Date>,
            sql_types::Bool,
        )>()
        .sql(
            "child AS (
    SELECT id, organisation_id, external_ref, given_name, family_name, date_of_birth, bsn,
           school_group, created_by_sub, created_at, updated_at, left_on, care_ended_on
      FROM children WHERE id = ",
        )
        .bind::<sql_types::Uuid, _>(id)
        .sql(" AND organisation_id = ")
        .bind::<sql_types::Uuid, _>(organisation)
        .sql(" AND purged_at IS NULL), gate AS (SELECT FROM child), ")
        .sql(EFFECTS_CTES)
        .sql(
            "
SELECT child.*, g.id, g.child_id, g.name, g.relationship, g.parental_authority,
       g.authority_source, g.phone, g.email, g.created_at, g.updated_at,
       h.id IS NOT NULL, h.until,
       EXISTS (SELECT FROM destruction_requests d
                WHERE d.child_id = child.id AND d.status = 'received')
  FROM child
  LEFT JOIN guardians g ON g.child_id = child.id
  LEFT JOIN legal_holds h ON h.child_id = child.id AND h.lifted_at IS NULL
 ORDER BY g.id",
        )
        .load(conn)
        .await?;
    let mut rows = rows.into_iter();
    let Some((child, first, held, until, destruction_requested)) = rows.next() else {
        return Ok(None);
    };
    let flags = LifecycleFlags {
        hold: held.then_some(until),
        destruction_requested,
    };
    let guardians = first
        .into_iter()
        .chain(rows.filter_map(|(_, g, ..)| g))
        .collect();
    Ok(Some((child, guardians, flags)))
}

pub async fn find_for_update(
    conn: &mut AsyncPgConnection,
    organisation: Uuid,
    id: Uuid,
) -> QueryResult<Option<Child>> {
    children::table
        .filter(children::id.eq(id))
        .filter(children::organisation_id.eq(organisation))
        .filter(children::purged_at.is_null())
        .select(Child::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

pub async fn find_by_external_ref(
    conn: &mut AsyncPgConnection,
    organisation: Uuid,
    external_ref: &str,
) -> QueryResult<Option<Child>> {
    children::table
        .filter(children::organisation_id.eq(organisation))
        .filter(children::external_ref.eq(external_ref))
        .filter(children::purged_at.is_null())
        .select(Child::as_select())
        .first(conn)
        .await
        .optional()
}

/// The organisation's child a transfer request names: by its pupil number here, else by BSN
/// and date of birth.
pub async fn matching(
    conn: &mut AsyncPgConnection,
    organisation: Uuid,
    pupil_number: Option<&str>,
    bsn_and_birth: Option<(&str, NaiveDate)>,
) -> QueryResult<Option<Uuid>> {
    if let Some(number) = pupil_number
        && let Some(child) = find_by_external_ref(conn, organisation, number).await?
    {
        return Ok(Some(child.id));
    }
    let Some((bsn, born)) = bsn_and_birth else {
        return Ok(None);
    };
    children::table
        .filter(children::organisation_id.eq(organisation))
        .filter(children::bsn.eq(bsn))
        .filter(children::date_of_birth.eq(born))
        .filter(children::purged_at.is_null())
        .select(children::id)
        .first(conn)
        .await
        .optional()
}

/// The organisation's children in registration order, after `after`.
pub async fn list(
    conn: &mut AsyncPgConnection,
    organisation: Uuid,
    after: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<Child>> {
    let mut query = children::table
        .filter(children::organisation_id.eq(organisation))
        .filter(children::purged_at.is_null())
        .select(Child::as_select())
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(children::id.gt(after));
    }
    query.order(children::id).limit(limit).load(conn).await
}

pub async fn update(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    changes: &ChildChanges,
) -> QueryResult<Child> {
    diesel::update(children::table.find(id))
        .set((changes, children::updated_at.eq(diesel::dsl::now)))
        .returning(Child::as_returning())
        .get_result(conn)
        .await
}

/// Whether a unique violation is the (organisation, external_ref) key.
pub fn is_duplicate_external_ref(err: &DieselError) -> bool {
    matches!(
        err,
        DieselError::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, info)
            if info.constraint_name() == Some("children_organisation_id_external_ref_key")
    )
}

/// Records that a child was taken in from a handoff.
pub async fn link_source_handoff(
    conn: &mut AsyncPgConnection,
    child: Uuid,
    handoff: Uuid,
) -> QueryResult<()> {
    diesel::update(children::table.find(child))
        .set(children::source_handoff_id.eq(handoff))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn guardians_of(
    conn: &mut AsyncPgConnection,
    child_ids: &[Uuid],
) -> QueryResult<Vec<Guardian>> {
    guardians::table
        .filter(guardians::child_id.eq_any(child_ids))
        .order((guardians::child_id, guardians::id))
        .select(Guardian::as_select())
        .load(conn)
        .await
}

pub async fn find_guardian(
    conn: &mut AsyncPgConnection,
    child_id: Uuid,
    id: Uuid,
) -> QueryResult<Option<Guardian>> {
    guardians::table
        .filter(guardians::id.eq(id))
        .filter(guardians::child_id.eq(child_id))
        .select(Guardian::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn insert_guardian(
    conn: &mut AsyncPgConnection,
    new: &NewGuardian<'_>,
) -> QueryResult<Guardian> {
    diesel::insert_into(guardians::table)
        .values(new)
        .returning(Guardian::as_returning())
        .get_result(conn)
        .await
}

pub async fn update_guardian(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    changes: &GuardianChanges,
) -> QueryResult<Guardian> {
    diesel::update(guardians::table.find(id))
        .set((changes, guardians::updated_at.eq(diesel::dsl::now)))
        .returning(Guardian::as_returning())
        .get_result(conn)
        .await
}
