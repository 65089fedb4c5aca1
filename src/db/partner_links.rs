//! Partner links: a partner organisation's assigned contact in a school's care structure.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::{
    db::schema::partner_links,
    domain::partner_link::{Contact, LinkStatus, PartnerRole},
};

#[derive(Queryable, Selectable, Debug, Clone, PartialEq, Eq)]
#[diesel(table_name = partner_links, check_for_backend(diesel::pg::Pg))]
pub struct PartnerLink {
    pub id: Uuid,
    pub school_id: Uuid,
    pub partner_id: Uuid,
    pub role: PartnerRole,
    pub contact_name: String,
    pub contact_phone: Option<String>,
    pub contact_email: Option<String>,
    pub status: LinkStatus,
    pub proposed_by_sub: String,
    pub confirmed_by_sub: Option<String>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub ended_by_organisation_id: Option<Uuid>,
    pub ended_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl PartnerLink {
    pub fn contact(&self) -> Contact {
        Contact {
            name: self.contact_name.clone(),
            phone: self.contact_phone.clone(),
            email: self.contact_email.clone(),
        }
    }
}

pub async fn insert(
    conn: &mut AsyncPgConnection,
    school: Uuid,
    partner: Uuid,
    role: PartnerRole,
    contact: &Contact,
    by_sub: &str,
) -> QueryResult<PartnerLink> {
    diesel::insert_into(partner_links::table)
        .values((
            partner_links::id.eq(Uuid::now_v7()),
            partner_links::school_id.eq(school),
            partner_links::partner_id.eq(partner),
            partner_links::role.eq(role),
            partner_links::contact_name.eq(&contact.name),
            partner_links::contact_phone.eq(&contact.phone),
            partner_links::contact_email.eq(&contact.email),
            partner_links::status.eq(LinkStatus::Proposed),
            partner_links::proposed_by_sub.eq(by_sub),
        ))
        .returning(PartnerLink::as_returning())
        .get_result(conn)
        .await
}

/// The school's link `id`, locked when `for_update`.
pub async fn find(
    conn: &mut AsyncPgConnection,
    school: Uuid,
    id: Uuid,
    for_update: bool,
) -> QueryResult<Option<PartnerLink>> {
    let query = partner_links::table
        .filter(partner_links::id.eq(id))
        .filter(partner_links::school_id.eq(school))
        .select(PartnerLink::as_select());
    if for_update {
        query.for_update().first(conn).await.optional()
    } else {
        query.first(conn).await.optional()
    }
}

/// The school's links, newest first.
pub async fn of_school(
    conn: &mut AsyncPgConnection,
    school: Uuid,
) -> QueryResult<Vec<PartnerLink>> {
    partner_links::table
        .filter(partner_links::school_id.eq(school))
        .order((partner_links::created_at.desc(), partner_links::id.desc()))
        .select(PartnerLink::as_select())
        .load(conn)
        .await
}

/// Whether the school has a schakelfunctionaris proposed or confirmed.
pub async fn has_schakelfunctionaris(
    conn: &mut AsyncPgConnection,
    school: Uuid,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        partner_links::table
            .filter(partner_links::school_id.eq(school))
            .filter(partner_links::role.eq(PartnerRole::Schakelfunctionaris))
            .filter(partner_links::status.ne(LinkStatus::Ended)),
    ))
    .get_result(conn)
    .await
}

/// The organisations with a confirmed link to the school.
pub async fn confirmed_partners(
    conn: &mut AsyncPgConnection,
    school: Uuid,
) -> QueryResult<Vec<Uuid>> {
    partner_links::table
        .filter(partner_links::school_id.eq(school))
        .filter(partner_links::status.eq(LinkStatus::Confirmed))
        .select(partner_links::partner_id)
        .distinct()
        .load(conn)
        .await
}

/// Confirms (with the contact the partner names) or replaces the contact.
pub async fn confirm(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    contact: &Contact,
    by_sub: &str,
) -> QueryResult<PartnerLink> {
    diesel::update(partner_links::table.find(id))
        .set((
            partner_links::status.eq(LinkStatus::Confirmed),
            partner_links::contact_name.eq(&contact.name),
            partner_links::contact_phone.eq(&contact.phone),
            partner_links::contact_email.eq(&contact.email),
            partner_links::confirmed_by_sub.eq(by_sub),
            partner_links::confirmed_at.eq(diesel::dsl::now),
            partner_links::updated_at.eq(diesel::dsl::now),
        ))
        .returning(PartnerLink::as_returning())
        .get_result(conn)
        .await
}

pub async fn end(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    by_organisation: Uuid,
) -> QueryResult<PartnerLink> {
    diesel::update(partner_links::table.find(id))
        .set((
            partner_links::status.eq(LinkStatus::Ended),
            partner_links::ended_by_organisation_id.eq(by_organisation),
            partner_links::ended_at.eq(diesel::dsl::now),
            partner_links::updated_at.eq(diesel::dsl::now),
        ))
        .returning(PartnerLink::as_returning())
        .get_result(conn)
        .await
}
