//! Organisation queries.

use chrono::{DateTime, Utc};
use diesel::{prelude::*, result::Error as DieselError};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::{
    db::schema::organisations,
    domain::organisation::OrganisationRef,
    domain::organisation::{Codes, DutyContact, OrganisationKind},
};

#[derive(Queryable, Selectable, Debug, Clone, PartialEq, Eq)]
#[diesel(table_name = organisations, check_for_backend(diesel::pg::Pg))]
pub struct Organisation {
    pub id: Uuid,
    pub kind: OrganisationKind,
    pub name: String,
    pub brin: Option<String>,
    pub branch: Option<String>,
    pub region: Option<String>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub duty_contact_name: Option<String>,
    pub duty_contact_phone: Option<String>,
    pub duty_contact_hours: Option<String>,
    pub four_eyes: bool,
}

impl Organisation {
    /// The piketfunctie, when the organisation named one.
    pub fn duty_contact(&self) -> Option<DutyContact> {
        Some(DutyContact {
            name: self.duty_contact_name.clone()?,
            phone: self.duty_contact_phone.clone()?,
            hours: self.duty_contact_hours.clone()?,
        })
    }

    pub fn codes(&self) -> Codes {
        Codes {
            brin: self.brin.clone(),
            branch: self.branch.clone(),
            region: self.region.clone(),
        }
    }

    pub fn to_ref(&self) -> OrganisationRef {
        OrganisationRef {
            id: self.id,
            kind: self.kind,
            name: self.name.clone(),
            active: self.active,
        }
    }
}

#[derive(Insertable, Debug)]
#[diesel(table_name = organisations)]
pub struct NewOrganisation<'a> {
    pub id: Uuid,
    pub kind: OrganisationKind,
    pub name: &'a str,
    pub brin: Option<&'a str>,
    pub branch: Option<&'a str>,
    pub region: Option<&'a str>,
    pub active: bool,
}

#[derive(AsChangeset, Debug, Default)]
#[diesel(table_name = organisations)]
pub struct OrganisationChanges {
    pub name: Option<String>,
    pub brin: Option<Option<String>>,
    pub branch: Option<Option<String>>,
    pub region: Option<Option<String>>,
    pub active: Option<bool>,
}

pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Organisation>> {
    organisations::table
        .find(id)
        .select(Organisation::as_select())
        .first(conn)
        .await
        .optional()
}

/// Of these ids, those of organisations in the directory.
pub async fn existing(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> QueryResult<Vec<Uuid>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    organisations::table
        .filter(organisations::id.eq_any(ids))
        .select(organisations::id)
        .load(conn)
        .await
}

/// The organisations with these ids.
pub async fn by_ids(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> QueryResult<Vec<Organisation>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    organisations::table
        .filter(organisations::id.eq_any(ids))
        .select(Organisation::as_select())
        .load(conn)
        .await
}

/// Locks the row for the rest of the transaction (read-check-write under `If-Match`).
pub async fn find_for_update(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Organisation> {
    organisations::table
        .find(id)
        .select(Organisation::as_select())
        .for_update()
        .first(conn)
        .await
}

pub async fn find_platform(conn: &mut AsyncPgConnection) -> QueryResult<Option<Organisation>> {
    organisations::table
        .filter(organisations::kind.eq(OrganisationKind::Platform.as_str()))
        .select(Organisation::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn find_by_kind_and_name(
    conn: &mut AsyncPgConnection,
    kind: OrganisationKind,
    name: &str,
) -> QueryResult<Option<Organisation>> {
    organisations::table
        .filter(organisations::kind.eq(kind.as_str()))
        .filter(organisations::name.eq(name))
        .order(organisations::id)
        .select(Organisation::as_select())
        .first(conn)
        .await
        .optional()
}

/// The organisation already registered for a school location, if any.
pub async fn find_by_brin(
    conn: &mut AsyncPgConnection,
    brin: &str,
    branch: Option<&str>,
) -> QueryResult<Option<Organisation>> {
    let mut query = organisations::table
        .filter(organisations::brin.eq(brin))
        .select(Organisation::as_select())
        .into_boxed();
    query = match branch {
        Some(branch) => query.filter(organisations::branch.eq(branch)),
        None => query.filter(organisations::branch.is_null()),
    };
    query.first(conn).await.optional()
}

pub async fn insert(
    conn: &mut AsyncPgConnection,
    new: &NewOrganisation<'_>,
) -> QueryResult<Organisation> {
    diesel::insert_into(organisations::table)
        .values(new)
        .returning(Organisation::as_returning())
        .get_result(conn)
        .await
}

pub async fn update(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    changes: &OrganisationChanges,
) -> QueryResult<Organisation> {
    diesel::update(organisations::table.find(id))
        .set((changes, organisations::updated_at.eq(diesel::dsl::now)))
        .returning(Organisation::as_returning())
        .get_result(conn)
        .await
}

/// Replaces an organisation's own settings: its duty contact (`None` clears it) and four eyes.
pub async fn update_settings(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    duty_contact: Option<&DutyContact>,
    four_eyes: bool,
) -> QueryResult<Organisation> {
    diesel::update(organisations::table.find(id))
        .set((
            organisations::duty_contact_name.eq(duty_contact.map(|c| c.name.as_str())),
            organisations::duty_contact_phone.eq(duty_contact.map(|c| c.phone.as_str())),
            organisations::duty_contact_hours.eq(duty_contact.map(|c| c.hours.as_str())),
            organisations::four_eyes.eq(four_eyes),
            organisations::updated_at.eq(diesel::dsl::now),
        ))
        .returning(Organisation::as_returning())
        .get_result(conn)
        .await
}

#[derive(Debug, Default)]
pub struct Filter {
    pub kind: Option<OrganisationKind>,
    /// Case-insensitive substring of the name.
    pub name: Option<String>,
    pub active: Option<bool>,
}

/// One page of the directory in (lower(name), id) order, after the given position.
pub async fn list(
    conn: &mut AsyncPgConnection,
    filter: &Filter,
    after: Option<(String, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<Organisation>> {
    use diesel::dsl::sql;
    use diesel::sql_types::{Bool, Text};

    let lower_name = sql::<Text>("lower(organisations.name)");
    let mut query = organisations::table
        .select(Organisation::as_select())
        .into_boxed();
    if let Some(kind) = filter.kind {
        query = query.filter(organisations::kind.eq(kind.as_str()));
    }
    if let Some(name) = &filter.name {
        query = query.filter(organisations::name.ilike(format!("%{}%", escape_like(name))));
    }
    if let Some(active) = filter.active {
        query = query.filter(organisations::active.eq(active));
    }
    if let Some((name, id)) = after {
        query = query.filter(
            sql::<Bool>("(lower(organisations.name), organisations.id) > (")
                .bind::<Text, _>(name)
                .sql(", ")
                .bind::<diesel::sql_types::Uuid, _>(id)
                .sql(")"),
        );
    }
    query
        .order((lower_name.asc(), organisations::id.asc()))
        .limit(limit)
        .load(conn)
        .await
}

/// `%`, `_` and `\` are wildcards in LIKE; a name filter means them literally.
fn escape_like(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for c in value.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// Whether a unique-index violation came from the BRIN/branch index.
pub fn is_duplicate_location(err: &DieselError) -> bool {
    matches!(
        err,
        DieselError::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, info)
            if info.constraint_name() == Some("organisations_brin_branch")
    )
}
