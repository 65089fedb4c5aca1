//! The sociale kaart: organisations' services, read whole (the directory is small) and filtered
//! by the domain's rule.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::{
    db::{
        organisations::Organisation,
        schema::{organisation_services, organisations},
    },
    domain::{
        directory::{HelpQuestion, PostcodeRange, Services},
        reference::Labelled,
    },
};

#[derive(Queryable, Selectable, Debug, Clone, PartialEq, Eq)]
#[diesel(table_name = organisation_services, check_for_backend(diesel::pg::Pg))]
pub struct ServicesRow {
    pub organisation_id: Uuid,
    pub help_questions: Vec<Option<String>>,
    pub municipalities: Vec<Option<String>>,
    pub neighbourhoods: Vec<Option<String>>,
    pub postcode_ranges: Vec<Option<String>>,
    pub intake_route: String,
    pub opening_hours: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub updated_by_sub: String,
    pub updated_at: DateTime<Utc>,
}

impl ServicesRow {
    /// The services in the domain's words (codes the CHECK constraint admits, ranges as written).
    pub fn services(&self) -> Services {
        let texts = |v: &[Option<String>]| v.iter().flatten().cloned().collect();
        Services {
            help_questions: self
                .help_questions
                .iter()
                .flatten()
                .filter_map(|c| HelpQuestion::parse(c))
                .collect(),
            municipalities: texts(&self.municipalities),
            neighbourhoods: texts(&self.neighbourhoods),
            postcode_ranges: self
                .postcode_ranges
                .iter()
                .flatten()
                .filter_map(|c| PostcodeRange::parse(c))
                .collect(),
            intake_route: self.intake_route.clone(),
            opening_hours: self.opening_hours.clone(),
        }
    }
}

/// How to reach the organisation's intake, besides its route.
pub struct Reach<'a> {
    pub phone: Option<&'a str>,
    pub email: Option<&'a str>,
}

/// Replaces the organisation's services.
pub async fn put(
    conn: &mut AsyncPgConnection,
    organisation: Uuid,
    services: &Services,
    reach: Reach<'_>,
    by_sub: &str,
) -> QueryResult<ServicesRow> {
    let some = |v: &[String]| v.iter().cloned().map(Some).collect::<Vec<_>>();
    let questions: Vec<Option<String>> = services
        .help_questions
        .iter()
        .map(|q| Some(q.code().to_owned()))
        .collect();
    let ranges: Vec<Option<String>> = services
        .postcode_ranges
        .iter()
        .map(|r| Some(r.to_code()))
        .collect();
    let values = (
        organisation_services::organisation_id.eq(organisation),
        organisation_services::help_questions.eq(questions),
        organisation_services::municipalities.eq(some(&services.municipalities)),
        organisation_services::neighbourhoods.eq(some(&services.neighbourhoods)),
        organisation_services::postcode_ranges.eq(ranges),
        organisation_services::intake_route.eq(&services.intake_route),
        organisation_services::opening_hours.eq(&services.opening_hours),
        organisation_services::phone.eq(reach.phone),
        organisation_services::email.eq(reach.email),
        organisation_services::updated_by_sub.eq(by_sub),
        organisation_services::updated_at.eq(diesel::dsl::now),
    );
    diesel::insert_into(organisation_services::table)
        .values(values.clone())
        .on_conflict(organisation_services::organisation_id)
        .do_update()
        .set(values)
        .returning(ServicesRow::as_returning())
        .get_result(conn)
        .await
}

pub async fn find(
    conn: &mut AsyncPgConnection,
    organisation: Uuid,
) -> QueryResult<Option<ServicesRow>> {
    organisation_services::table
        .find(organisation)
        .select(ServicesRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// Every active organisation with its services, by name.
pub async fn all_active(
    conn: &mut AsyncPgConnection,
) -> QueryResult<Vec<(Organisation, ServicesRow)>> {
    organisations::table
        .inner_join(organisation_services::table)
        .filter(organisations::active.eq(true))
        .order((
            diesel::dsl::sql::<diesel::sql_types::Text>("lower(organisations.name)"),
            organisations::id,
        ))
        .select((Organisation::as_select(), ServicesRow::as_select()))
        .load(conn)
        .await
}
