//! `GET /v1/figures`: the timeliness figures for the ontwikkeltafel, as JSON, CSV or a printable
//! HTML report with charts. Counts and durations only; the domain decides what is counted and
//! what is hidden (`domain::figures`), the policy whose figures a caller sees.

mod dto;
mod export;

use chrono::{DateTime, Utc};
use poem_openapi::{
    ApiResponse, OpenApi, ResponseContent,
    param::{Header, Query},
    payload::{Html, Json},
};

pub use dto::Figures;
use export::Csv;

use crate::{
    api::{
        ApiTags,
        context::Ctx,
        organisations::OrganisationSummary,
        problem::{ApiResult, ReadMany},
    },
    auth::{BearerAuth, policy},
    db::{figures as queries, organisations as organisation_queries},
    domain::figures::{self, GroupBy, Period, Shown, Table},
};

#[derive(ResponseContent)]
pub enum FiguresContent {
    Json(Json<Box<Figures>>),
    Csv(Csv),
    Html(Html<String>),
}

#[derive(ApiResponse)]
pub enum FiguresResponse {
    /// The figures: JSON; with `Accept: text/csv` one line per group and a total line; with
    /// `Accept: text/html` a printable report with charts.
    #[oai(status = 200)]
    Ok(FiguresContent),
}

/// The figures as computed and suppressed, before they are rendered.
pub struct Report {
    pub period: Period,
    pub group_by: GroupBy,
    pub scope: figures::Scope,
    /// Whose figures (none nationally).
    pub organisation: Option<OrganisationSummary>,
    /// The organisation's region (a school's comparison is of it).
    pub region: Option<String>,
    pub table: Table<Shown>,
    pub comparison: Option<Shown>,
    pub generated_at: DateTime<Utc>,
}

pub struct FiguresApi;

#[OpenApi(tag = "ApiTags::Figures")]
impl FiguresApi {
    /// Timeliness figures
    ///
    /// How handoffs sent in a period fared: reports and advice requests sent and received;
    /// acknowledgement time (median and 90th percentile, in hours) and the share acknowledged
    /// within its deadline; the share of reports whose safety assessment was decided within 5
    /// Dutch working days of receipt (holidays do not count); for reports from schools, the
    /// share for which Veilig Thuis asked the parents' (and child's) consent to give the school
    /// feedback, and what they answered; time from receipt to the first status and the first
    /// substantive feedback; the share of reports asking for guidance that got
    /// `guidance_for_school`; reports still without any feedback after 10 and 30 days; and of
    /// this period's handoffs, those overdue now, by kind.
    ///
    /// Whose figures: your organisation's own (sent or received), by month — a school also
    /// sees its region's schools together as `comparison`; Veilig Thuis with `groupBy=school`
    /// what it received per sending school; the platform administrator every handoff, by month
    /// or per region of the receiving organisation. Another grouping is a 403. Care
    /// coordinators, administrators and privacy officers.
    ///
    /// No figure points at a child: a count under 5 is `null` (`<5` in CSV and HTML), and so
    /// are the durations and shares resting on it; when one hidden count could be worked out
    /// from a total (or the consents asked from the answers), the next smallest is hidden too.
    /// A comparison hides a count when the region's other schools count under 5 of it.
    #[oai(path = "/figures", method = "get", operation_id = "getFigures")]
    async fn get(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The period: a year (`2026`), a quarter (`2026-Q3`) or a month (`2026-07`), by the
        /// date the handoffs were sent (Dutch time).
        #[oai(validator(max_length = 7))]
        period: Query<String>,
        /// `month` (the default), `school` (Veilig Thuis) or `region` (platform administrator).
        #[oai(name = "groupBy")]
        group_by: Query<Option<GroupBy>>,
        /// `text/csv` for a spreadsheet, `text/html` for the printable report; JSON otherwise.
        #[oai(name = "Accept")]
        accept: Header<Option<String>>,
    ) -> ApiResult<FiguresResponse, ReadMany> {
        let principal = &auth.0;
        policy::require(principal, policy::Action::ReadFigures)?;
        let period = Period::parse(&period.0)?;
        let group_by = group_by.0.unwrap_or_default();
        let now = Utc::now();
        let report = cx
            .db
            .transaction(async |conn| {
                let region = organisation_queries::find(conn, principal.org_id())
                    .await?
                    .and_then(|own| own.region);
                let view = policy::figures_view(principal, group_by, region.as_deref())?;
                let instants = period.instants();
                let facts = queries::facts(conn, &view.scope, instants).await?;
                let tally = figures::tally(&facts, group_by, &period, now);
                let comparison = match &view.comparison {
                    Some(scope) => {
                        let theirs = queries::facts(conn, scope, instants).await?;
                        let theirs = figures::tally(&theirs, GroupBy::Month, &period, now).total;
                        Some(figures::suppress_comparison(&theirs, &tally.total))
                    }
                    None => None,
                };
                let own = &principal.organisation;
                let organisation = match view.scope {
                    figures::Scope::National => None,
                    _ => Some(OrganisationSummary {
                        id: own.id,
                        kind: own.kind,
                        name: own.name.clone(),
                    }),
                };
                Ok(Report {
                    period: period.clone(),
                    group_by,
                    scope: view.scope,
                    organisation,
                    region,
                    table: figures::suppress(&tally),
                    comparison,
                    generated_at: now,
                })
            })
            .await?;
        let accept = accept.0.unwrap_or_default();
        Ok(FiguresResponse::Ok(if accept.contains("text/csv") {
            FiguresContent::Csv(export::csv(&report))
        } else if accept.contains("text/html") {
            FiguresContent::Html(Html(export::html(&report)))
        } else {
            FiguresContent::Json(Json(Box::new(dto::render(&report))))
        }))
    }
}
