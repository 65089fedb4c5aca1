//! Consent queries.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::{
    db::{
        children as child_queries,
        schema::{consent_decisions, consents},
    },
    domain::{
        calendar::{dutch_today, to_dutch_time},
        consent::{
            self as rules, ConsentDecision, ConsentGrant, ConsentMethod, ConsentPurpose,
            GuardianAuthority, Judged, Party,
        },
        feedback::FeedbackCategory,
    },
};

#[derive(Queryable, Selectable, Debug, Clone, PartialEq, Eq)]
#[diesel(table_name = consents, check_for_backend(diesel::pg::Pg))]
pub struct Consent {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub child_id: Uuid,
    pub purpose: ConsentPurpose,
    pub recipient_organisation_id: Uuid,
    pub scope: Vec<Option<FeedbackCategory>>,
    pub handoff_id: Option<Uuid>,
    pub valid_until: NaiveDate,
    pub withdrawn_at: Option<DateTime<Utc>>,
    pub withdrawn_by_party: Option<String>,
    pub withdrawal_reason: Option<String>,
    pub withdrawal_recorded_by_sub: Option<String>,
    pub created_by_sub: String,
    pub created_by_name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Consent {
    pub fn scope(&self) -> Vec<FeedbackCategory> {
        self.scope.iter().flatten().copied().collect()
    }
}

#[derive(Queryable, Selectable, Debug, Clone, PartialEq, Eq)]
#[diesel(table_name = consent_decisions, check_for_backend(diesel::pg::Pg))]
pub struct Decision {
    pub id: Uuid,
    pub consent_id: Uuid,
    pub party: String,
    pub guardian_id: Option<Uuid>,
    pub decision: ConsentDecision,
    pub method: ConsentMethod,
    pub decided_at: DateTime<Utc>,
    pub recorded_by_sub: String,
    pub recorded_by_name: String,
    pub recorded_at: DateTime<Utc>,
}

impl Decision {
    pub fn party(&self) -> Party {
        self.guardian_id
            .map(Party::Guardian)
            .unwrap_or(Party::Child)
    }
}

pub fn party_code(party: Party) -> String {
    match party {
        Party::Child => "child".to_owned(),
        Party::Guardian(id) => id.to_string(),
    }
}

/// The inverse of [`party_code`].
pub fn party_of_code(text: &str) -> Option<Party> {
    if text == "child" {
        Some(Party::Child)
    } else {
        text.parse().ok().map(Party::Guardian)
    }
}

#[derive(Insertable, Debug)]
#[diesel(table_name = consents)]
pub struct NewConsent<'a> {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub child_id: Uuid,
    pub purpose: ConsentPurpose,
    pub recipient_organisation_id: Uuid,
    pub scope: Vec<Option<FeedbackCategory>>,
    pub handoff_id: Option<Uuid>,
    pub valid_until: NaiveDate,
    pub created_by_sub: &'a str,
    pub created_by_name: &'a str,
}

/// A consent with its decisions.
#[derive(Debug, Clone)]
pub struct ConsentRecord {
    pub consent: Consent,
    pub decisions: Vec<Decision>,
}

pub async fn insert(conn: &mut AsyncPgConnection, new: &NewConsent<'_>) -> QueryResult<Consent> {
    diesel::insert_into(consents::table)
        .values(new)
        .returning(Consent::as_returning())
        .get_result(conn)
        .await
}

async fn with_decisions(
    conn: &mut AsyncPgConnection,
    consents: Vec<Consent>,
) -> QueryResult<Vec<ConsentRecord>> {
    let ids: Vec<Uuid> = consents.iter().map(|c| c.id).collect();
    let decisions: Vec<Decision> = consent_decisions::table
        .filter(consent_decisions::consent_id.eq_any(&ids))
        .order((consent_decisions::recorded_at, consent_decisions::id))
        .select(Decision::as_select())
        .load(conn)
        .await?;
    let mut by_consent: HashMap<Uuid, Vec<Decision>> = HashMap::new();
    for decision in decisions {
        by_consent
            .entry(decision.consent_id)
            .or_default()
            .push(decision);
    }
    Ok(consents
        .into_iter()
        .map(|consent| ConsentRecord {
            decisions: by_consent.remove(&consent.id).unwrap_or_default(),
            consent,
        })
        .collect())
}

/// A consent the organisation recorded; locked when `for_update`.
pub async fn find(
    conn: &mut AsyncPgConnection,
    organisation: Uuid,
    id: Uuid,
    for_update: bool,
) -> QueryResult<Option<ConsentRecord>> {
    let query = consents::table
        .filter(consents::id.eq(id))
        .filter(consents::organisation_id.eq(organisation))
        .select(Consent::as_select());
    let consent = if for_update {
        query.for_update().first(conn).await.optional()?
    } else {
        query.first(conn).await.optional()?
    };
    match consent {
        None => Ok(None),
        Some(consent) => Ok(with_decisions(conn, vec![consent]).await?.pop()),
    }
}

/// The consents recorded about a child, oldest first.
pub async fn of_child(
    conn: &mut AsyncPgConnection,
    child: Uuid,
) -> QueryResult<Vec<ConsentRecord>> {
    let consents = consents::table
        .filter(consents::child_id.eq(child))
        .order((consents::created_at, consents::id))
        .select(Consent::as_select())
        .load(conn)
        .await?;
    with_decisions(conn, consents).await
}

/// Consents by id (for rendering what feedback relied on).
pub async fn by_ids(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> QueryResult<Vec<Consent>> {
    consents::table
        .filter(consents::id.eq_any(ids))
        .select(Consent::as_select())
        .load(conn)
        .await
}

pub async fn insert_decision(
    conn: &mut AsyncPgConnection,
    consent: Uuid,
    party: Party,
    decision: ConsentDecision,
    method: ConsentMethod,
    decided_at: DateTime<Utc>,
    recorded_by: (&str, &str),
) -> QueryResult<Decision> {
    diesel::insert_into(consent_decisions::table)
        .values((
            consent_decisions::id.eq(Uuid::now_v7()),
            consent_decisions::consent_id.eq(consent),
            consent_decisions::party.eq(party_code(party)),
            consent_decisions::guardian_id.eq(match party {
                Party::Guardian(id) => Some(id),
                Party::Child => None,
            }),
            consent_decisions::decision.eq(decision),
            consent_decisions::method.eq(method),
            consent_decisions::decided_at.eq(decided_at),
            consent_decisions::recorded_by_sub.eq(recorded_by.0),
            consent_decisions::recorded_by_name.eq(recorded_by.1),
        ))
        .returning(Decision::as_returning())
        .get_result(conn)
        .await
}

pub async fn withdraw(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    party: Party,
    reason: Option<&str>,
    recorded_by: &str,
) -> QueryResult<Consent> {
    diesel::update(consents::table.find(id))
        .set((
            consents::withdrawn_at.eq(diesel::dsl::now),
            consents::withdrawn_by_party.eq(party_code(party)),
            consents::withdrawal_reason.eq(reason),
            consents::withdrawal_recorded_by_sub.eq(recorded_by),
            consents::updated_at.eq(diesel::dsl::now),
        ))
        .returning(Consent::as_returning())
        .get_result(conn)
        .await
}

/// A stored consent judged by `domain::consent::judge`, with the child's birth date and
/// guardians.
pub fn judge(
    record: &ConsentRecord,
    date_of_birth: NaiveDate,
    guardians: &[child_queries::Guardian],
) -> Judged {
    let authorities: Vec<GuardianAuthority> = guardians
        .iter()
        .map(child_queries::Guardian::authority)
        .collect();
    let decisions: Vec<(Party, ConsentDecision, NaiveDate)> = record
        .decisions
        .iter()
        .map(|d| {
            (
                d.party(),
                d.decision,
                to_dutch_time(d.decided_at).date_naive(),
            )
        })
        .collect();
    rules::judge(
        date_of_birth,
        &authorities,
        &decisions,
        record.consent.withdrawn_at.is_some(),
        record.consent.valid_until,
        dutch_today(),
    )
}

/// The consents of an organisation's child as the feedback gate and handoffs need them.
pub async fn grants_for_child(
    conn: &mut AsyncPgConnection,
    organisation: Uuid,
    child: Uuid,
) -> QueryResult<Vec<ConsentGrant>> {
    // Only the organisation's own child: another's child has no consents here.
    let Some(child_row) = child_queries::find(conn, organisation, child).await? else {
        return Ok(Vec::new());
    };
    let records = of_child(conn, child).await?;
    let guardians = child_queries::guardians_of(conn, &[child]).await?;
    Ok(records
        .iter()
        .filter(|r| r.consent.organisation_id == organisation)
        .map(|r| ConsentGrant {
            id: r.consent.id,
            purpose: r.consent.purpose,
            recipient: r.consent.recipient_organisation_id,
            scope: r.consent.scope(),
            status: judge(r, child_row.date_of_birth, &guardians).status,
        })
        .collect())
}
