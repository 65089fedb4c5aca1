//! The facts the figures count: one row per handoff sent in the period and in view, with its
//! receipt, first feedback and the answer to Veilig Thuis's ask for consent to tell the school.
//! A few statements whatever the number of handoffs: the handoffs with their first transitions
//! and feedback aggregated per handoff (hash joins over the handoffs in view, not an index probe
//! per row), the consents asked on them, and those consents' decisions and guardians.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::{prelude::*, sql_types};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::{
    db::{
        children as child_queries, consents::Decision, feedback::status_categories,
        schema::consent_decisions,
    },
    domain::{
        calendar::{dutch_today, to_dutch_time},
        consent::ConsentPurpose,
        figures::{ConsentAnswer, HandoffFacts, Scope},
        handoff::{Deadlines, HandoffKind, HandoffStatus},
        organisation::OrganisationKind,
        reference::Labelled,
    },
};

const FACTS_SQL: &str = "
WITH scoped AS NOT MATERIALIZED (
  SELECT h.id, h.kind, h.status, h.from_organisation_id, h.to_organisation_id, h.sent_at,
         h.acknowledgement_due_at, h.assessment_due_at, h.assessment_decided_at,
         h.requests_guidance, s.name AS sender_name, s.kind = $6 AS sender_is_school,
         r.region AS recipient_region
    FROM handoffs h
    JOIN organisations s ON s.id = h.from_organisation_id
    JOIN organisations r ON r.id = h.to_organisation_id
   WHERE h.sent_at >= $1 AND h.sent_at < $2
     AND CASE $3
           WHEN 'own' THEN h.from_organisation_id = $4 OR h.to_organisation_id = $4
           WHEN 'schools_of_region' THEN s.kind = $6 AND s.region = $5
           WHEN 'received_from_schools' THEN h.to_organisation_id = $4 AND s.kind = $6
           ELSE true
         END
)
SELECT sc.*, t.received_at, f.first_status_at, f.first_substantive_at,
       coalesce(f.guidance_given, false) AS guidance_given
  FROM scoped sc
  LEFT JOIN (SELECT ht.handoff_id, min(ht.at) AS received_at
               FROM handoff_transitions ht JOIN scoped ON scoped.id = ht.handoff_id
              WHERE ht.from_status = 'sent'
              GROUP BY ht.handoff_id) t ON t.handoff_id = sc.id
  LEFT JOIN (SELECT fb.handoff_id,
                    min(fb.sent_at) FILTER (WHERE fb.category = ANY($7)) AS first_status_at,
                    min(fb.sent_at) FILTER (WHERE NOT fb.category = ANY($7)) AS first_substantive_at,
                    bool_or(fb.category = 'guidance_for_school') AS guidance_given
               FROM feedback fb JOIN scoped ON scoped.id = fb.handoff_id
              GROUP BY fb.handoff_id) f ON f.handoff_id = sc.id
";

#[derive(QueryableByName)]
struct FactsRow {
    #[diesel(sql_type = sql_types::Uuid)]
    id: Uuid,
    #[diesel(sql_type = sql_types::Text)]
    kind: HandoffKind,
    #[diesel(sql_type = sql_types::Text)]
    status: HandoffStatus,
    #[diesel(sql_type = sql_types::Uuid)]
    from_organisation_id: Uuid,
    #[diesel(sql_type = sql_types::Uuid)]
    to_organisation_id: Uuid,
    #[diesel(sql_type = sql_types::Timestamptz)]
    sent_at: DateTime<Utc>,
    #[diesel(sql_type = sql_types::Timestamptz)]
    acknowledgement_due_at: DateTime<Utc>,
    #[diesel(sql_type = sql_types::Nullable<sql_types::Timestamptz>)]
    assessment_due_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = sql_types::Nullable<sql_types::Timestamptz>)]
    assessment_decided_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = sql_types::Bool)]
    requests_guidance: bool,
    #[diesel(sql_type = sql_types::Text)]
    sender_name: String,
    #[diesel(sql_type = sql_types::Bool)]
    sender_is_school: bool,
    #[diesel(sql_type = sql_types::Nullable<sql_types::Text>)]
    recipient_region: Option<String>,
    #[diesel(sql_type = sql_types::Nullable<sql_types::Timestamptz>)]
    received_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = sql_types::Nullable<sql_types::Timestamptz>)]
    first_status_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = sql_types::Nullable<sql_types::Timestamptz>)]
    first_substantive_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = sql_types::Bool)]
    guidance_given: bool,
}

/// The facts of every handoff in `scope` sent between `from` and `until`.
pub async fn facts(
    conn: &mut AsyncPgConnection,
    scope: &Scope,
    (from, until): (DateTime<Utc>, DateTime<Utc>),
) -> QueryResult<Vec<HandoffFacts>> {
    let (code, organisation, region) = match scope {
        Scope::Own(org) => ("own", Some(*org), None),
        Scope::SchoolsOfRegion(region) => ("schools_of_region", None, Some(region.as_str())),
        Scope::ReceivedFromSchools(org) => ("received_from_schools", Some(*org), None),
        Scope::National => ("national", None, None),
    };
    let status: Vec<String> = status_categories()
        .iter()
        .map(|c| c.code().to_owned())
        .collect();
    // One analytic statement: JIT compilation costs more than it saves here (measured).
    diesel::sql_query("SET LOCAL jit = off")
        .execute(conn)
        .await?;
    let rows: Vec<FactsRow> = diesel::sql_query(FACTS_SQL)
        .bind::<sql_types::Timestamptz, _>(from)
        .bind::<sql_types::Timestamptz, _>(until)
        .bind::<sql_types::Text, _>(code)
        .bind::<sql_types::Nullable<sql_types::Uuid>, _>(organisation)
        .bind::<sql_types::Nullable<sql_types::Text>, _>(region)
        .bind::<sql_types::Text, _>(OrganisationKind::School)
        .bind::<sql_types::Array<sql_types::Text>, _>(status)
        .load(conn)
        .await?;
    let reports_from_schools: Vec<Uuid> = rows
        .iter()
        .filter(|r| r.kind == HandoffKind::Report && r.sender_is_school)
        .map(|r| r.id)
        .collect();
    let mut answers = consent_answers(conn, &reports_from_schools).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let (sent, received) = scope.sides(r.from_organisation_id, r.to_organisation_id);
            HandoffFacts {
                kind: r.kind,
                status: r.status,
                sender: r.from_organisation_id,
                sender_name: r.sender_name,
                sender_is_school: r.sender_is_school,
                recipient_region: r.recipient_region,
                sent,
                received,
                sent_at: r.sent_at,
                received_at: r.received_at,
                deadlines: Deadlines {
                    acknowledgement_due_at: r.acknowledgement_due_at,
                    assessment_due_at: r.assessment_due_at,
                    assessment_decided_at: r.assessment_decided_at,
                },
                requests_guidance: r.requests_guidance,
                first_status_feedback_at: r.first_status_at,
                first_substantive_feedback_at: r.first_substantive_at,
                guidance_given: r.guidance_given,
                consent: answers.remove(&r.id),
            }
        })
        .collect())
}

#[derive(QueryableByName)]
struct AskedRow {
    #[diesel(sql_type = sql_types::Uuid)]
    handoff_id: Uuid,
    #[diesel(sql_type = sql_types::Uuid)]
    consent_id: Uuid,
    #[diesel(sql_type = sql_types::Uuid)]
    child_id: Uuid,
    #[diesel(sql_type = sql_types::Date)]
    date_of_birth: NaiveDate,
}

/// Per report, the answer to the latest ask for consent to give the school feedback.
async fn consent_answers(
    conn: &mut AsyncPgConnection,
    reports: &[Uuid],
) -> QueryResult<HashMap<Uuid, ConsentAnswer>> {
    if reports.is_empty() {
        return Ok(HashMap::new());
    }
    let asked: Vec<AskedRow> = diesel::sql_query(
        "SELECT DISTINCT ON (c.handoff_id) c.handoff_id, c.id AS consent_id, c.child_id,
                ch.date_of_birth
           FROM consents c JOIN children ch ON ch.id = c.child_id
          WHERE c.purpose = $1 AND c.handoff_id = ANY($2)
          ORDER BY c.handoff_id, c.created_at DESC, c.id DESC",
    )
    .bind::<sql_types::Text, _>(ConsentPurpose::FeedbackToSchool)
    .bind::<sql_types::Array<sql_types::Uuid>, _>(reports)
    .load(conn)
    .await?;
    let consent_ids: Vec<Uuid> = asked.iter().map(|a| a.consent_id).collect();
    let child_ids: Vec<Uuid> = asked.iter().map(|a| a.child_id).collect();
    let decisions: Vec<Decision> = consent_decisions::table
        .filter(consent_decisions::consent_id.eq_any(&consent_ids))
        .select(Decision::as_select())
        .load(conn)
        .await?;
    let mut decisions_of: HashMap<Uuid, Vec<_>> = HashMap::new();
    for d in &decisions {
        decisions_of.entry(d.consent_id).or_default().push((
            d.party(),
            d.decision,
            to_dutch_time(d.decided_at).date_naive(),
        ));
    }
    let mut guardians_of: HashMap<Uuid, Vec<_>> = HashMap::new();
    for g in child_queries::guardians_of(conn, &child_ids).await? {
        guardians_of
            .entry(g.child_id)
            .or_default()
            .push(g.authority());
    }
    let today = dutch_today();
    Ok(asked
        .into_iter()
        .map(|a| {
            let answer = ConsentAnswer::judge(
                a.date_of_birth,
                guardians_of.get(&a.child_id).map_or(&[][..], Vec::as_slice),
                decisions_of
                    .get(&a.consent_id)
                    .map_or(&[][..], Vec::as_slice),
                today,
            );
            (a.handoff_id, answer)
        })
        .collect())
}
