//! Case-review queries, and the facts each side's chronology is generated from — read as codes
//! and moments only: no column holding a name, a BSN, a date of birth or free text is selected.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::Value;
use uuid::Uuid;

use crate::{
    db::{
        handoffs::Handoff,
        schema::{
            case_review_parts, case_reviews, case_steps, cases, consent_decisions, consents,
            feedback, handoff_transitions, organisations, signal_revisions, signals,
        },
    },
    domain::{
        case_review::{ChronologyEvent, Fact, Reflections, ReviewStatus, Side, Theme},
        consent::{ConsentDecision, ConsentPurpose},
        feedback::FeedbackCategory,
        handoff::HandoffStatus,
        meldcode::Step,
        organisation::{OrganisationKind, Role},
        reference::Labelled,
        signal::SignalCategory,
    },
};

#[derive(Queryable, Selectable, Debug, Clone, PartialEq, Eq)]
#[diesel(table_name = case_reviews, check_for_backend(diesel::pg::Pg))]
pub struct CaseReview {
    pub id: Uuid,
    pub handoff_id: Uuid,
    pub school_id: Uuid,
    pub veilig_thuis_id: Uuid,
    pub proposed_by_organisation_id: Uuid,
    pub proposed_by_sub: String,
    pub proposed_at: DateTime<Utc>,
    pub status: ReviewStatus,
    pub answered_by_sub: Option<String>,
    pub answered_at: Option<DateTime<Utc>>,
    pub withdrawn_by_organisation_id: Option<Uuid>,
    pub withdrawn_at: Option<DateTime<Utc>>,
    pub released_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

impl CaseReview {
    pub fn proposed_by(&self) -> Side {
        if self.proposed_by_organisation_id == self.school_id {
            Side::School
        } else {
            Side::VeiligThuis
        }
    }

    pub fn organisation_of(&self, side: Side) -> Uuid {
        match side {
            Side::School => self.school_id,
            Side::VeiligThuis => self.veilig_thuis_id,
        }
    }
}

#[derive(Queryable, Selectable, Debug, Clone, PartialEq)]
#[diesel(table_name = case_review_parts, check_for_backend(diesel::pg::Pg))]
pub struct Part {
    pub review_id: Uuid,
    pub organisation_id: Uuid,
    pub side: Side,
    pub chronology: Value,
    pub went_well: Option<String>,
    pub could_be_better: Option<String>,
    pub themes: Vec<Option<Theme>>,
    pub written_by_sub: Option<String>,
    pub released_by_sub: Option<String>,
    pub released_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

impl Part {
    pub fn themes(&self) -> Vec<Theme> {
        self.themes.iter().flatten().copied().collect()
    }

    pub fn reflections(&self) -> Reflections<'_> {
        Reflections {
            went_well: self.went_well.as_deref(),
            could_be_better: self.could_be_better.as_deref(),
        }
    }
}

pub async fn insert(
    conn: &mut AsyncPgConnection,
    handoff: &Handoff,
    proposed_by: Uuid,
    sub: &str,
) -> QueryResult<CaseReview> {
    diesel::insert_into(case_reviews::table)
        .values((
            case_reviews::id.eq(Uuid::now_v7()),
            case_reviews::handoff_id.eq(handoff.id),
            case_reviews::school_id.eq(handoff.from_organisation_id),
            case_reviews::veilig_thuis_id.eq(handoff.to_organisation_id),
            case_reviews::proposed_by_organisation_id.eq(proposed_by),
            case_reviews::proposed_by_sub.eq(sub),
            case_reviews::status.eq(ReviewStatus::Proposed),
        ))
        .returning(CaseReview::as_returning())
        .get_result(conn)
        .await
}

/// The review, locked for a change when `for_update`.
pub async fn find(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    for_update: bool,
) -> QueryResult<Option<CaseReview>> {
    let query = case_reviews::table.find(id).select(CaseReview::as_select());
    if for_update {
        query.for_update().first(conn).await.optional()
    } else {
        query.first(conn).await.optional()
    }
}

/// Whether the report has a review proposed, agreed or released.
pub async fn has_open(conn: &mut AsyncPgConnection, handoff: Uuid) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        case_reviews::table
            .filter(case_reviews::handoff_id.eq(handoff))
            .filter(case_reviews::status.eq_any([
                ReviewStatus::Proposed,
                ReviewStatus::Agreed,
                ReviewStatus::Released,
            ])),
    ))
    .get_result(conn)
    .await
}

/// A page of the organisation's reviews, on either side, newest first: `fetch` rows from
/// before the review `before`.
pub async fn of_organisation(
    conn: &mut AsyncPgConnection,
    organisation: Uuid,
    before: Option<Uuid>,
    fetch: i64,
) -> QueryResult<Vec<CaseReview>> {
    let mut query = case_reviews::table
        .filter(
            case_reviews::school_id
                .eq(organisation)
                .or(case_reviews::veilig_thuis_id.eq(organisation)),
        )
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(case_reviews::id.lt(before));
    }
    query
        .order(case_reviews::id.desc())
        .limit(fetch)
        .select(CaseReview::as_select())
        .load(conn)
        .await
}

/// The organisation's reviews of these handoffs (a subject-access export lists them).
pub async fn of_handoffs(
    conn: &mut AsyncPgConnection,
    organisation: Uuid,
    handoffs: &[Uuid],
) -> QueryResult<Vec<CaseReview>> {
    if handoffs.is_empty() {
        return Ok(Vec::new());
    }
    case_reviews::table
        .filter(case_reviews::handoff_id.eq_any(handoffs))
        .filter(
            case_reviews::school_id
                .eq(organisation)
                .or(case_reviews::veilig_thuis_id.eq(organisation)),
        )
        .order(case_reviews::id)
        .select(CaseReview::as_select())
        .load(conn)
        .await
}

/// Moves the review on; `by` is the organisation and professional taking the step.
pub async fn set_status(
    conn: &mut AsyncPgConnection,
    review: &CaseReview,
    status: ReviewStatus,
    (organisation, sub): (Uuid, &str),
) -> QueryResult<CaseReview> {
    let now = Utc::now();
    let answered = matches!(status, ReviewStatus::Agreed | ReviewStatus::Declined)
        && review.status == ReviewStatus::Proposed;
    diesel::update(case_reviews::table.find(review.id))
        .set((
            case_reviews::status.eq(status),
            case_reviews::updated_at.eq(now),
            answered.then(|| case_reviews::answered_by_sub.eq(sub)),
            answered.then(|| case_reviews::answered_at.eq(now)),
            (status == ReviewStatus::Withdrawn)
                .then(|| case_reviews::withdrawn_by_organisation_id.eq(organisation)),
            (status == ReviewStatus::Withdrawn).then(|| case_reviews::withdrawn_at.eq(now)),
            (status == ReviewStatus::Released).then(|| case_reviews::released_at.eq(now)),
        ))
        .returning(CaseReview::as_returning())
        .get_result(conn)
        .await
}

/// Both sides' parts, each with its generated chronology.
pub async fn insert_parts(
    conn: &mut AsyncPgConnection,
    review: &CaseReview,
    chronologies: [(Side, Value); 2],
) -> QueryResult<()> {
    let rows: Vec<_> = chronologies
        .into_iter()
        .map(|(side, chronology)| {
            (
                case_review_parts::review_id.eq(review.id),
                case_review_parts::organisation_id.eq(review.organisation_of(side)),
                case_review_parts::side.eq(side),
                case_review_parts::chronology.eq(chronology),
            )
        })
        .collect();
    diesel::insert_into(case_review_parts::table)
        .values(rows)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn parts_of(conn: &mut AsyncPgConnection, review: Uuid) -> QueryResult<Vec<Part>> {
    case_review_parts::table
        .filter(case_review_parts::review_id.eq(review))
        .order(case_review_parts::side)
        .select(Part::as_select())
        .load(conn)
        .await
}

pub async fn write_part(
    conn: &mut AsyncPgConnection,
    review: Uuid,
    organisation: Uuid,
    reflections: &Reflections<'_>,
    themes: &[Theme],
    sub: &str,
) -> QueryResult<()> {
    let themes: Vec<Option<Theme>> = themes.iter().copied().map(Some).collect();
    diesel::update(case_review_parts::table.find((review, organisation)))
        .set((
            case_review_parts::went_well.eq(reflections.went_well),
            case_review_parts::could_be_better.eq(reflections.could_be_better),
            case_review_parts::themes.eq(themes),
            case_review_parts::written_by_sub.eq(sub),
            case_review_parts::updated_at.eq(Utc::now()),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn release_part(
    conn: &mut AsyncPgConnection,
    review: Uuid,
    organisation: Uuid,
    sub: &str,
) -> QueryResult<()> {
    let now = Utc::now();
    diesel::update(case_review_parts::table.find((review, organisation)))
        .set((
            case_review_parts::released_by_sub.eq(sub),
            case_review_parts::released_at.eq(now),
            case_review_parts::updated_at.eq(now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

fn code<T: Labelled>(value: T) -> Option<&'static str> {
    Some(value.code())
}

/// The report itself and how it moved, as both sides' records hold it.
async fn report_facts(conn: &mut AsyncPgConnection, handoff: &Handoff) -> QueryResult<Vec<Fact>> {
    let mut facts = vec![Fact {
        at: handoff.sent_at,
        event: ChronologyEvent::ReportSent,
        code: None,
        by: code(Side::School),
    }];
    let moves: Vec<(DateTime<Utc>, HandoffStatus, OrganisationKind)> = handoff_transitions::table
        .inner_join(
            organisations::table.on(organisations::id.eq(handoff_transitions::by_organisation_id)),
        )
        .filter(handoff_transitions::handoff_id.eq(handoff.id))
        .select((
            handoff_transitions::at,
            handoff_transitions::to_status,
            organisations::kind,
        ))
        .load(conn)
        .await?;
    facts.extend(moves.into_iter().map(|(at, status, kind)| Fact {
        at,
        event: ChronologyEvent::ReportStatus,
        code: code(status),
        by: code(kind),
    }));
    let feedback: Vec<(DateTime<Utc>, FeedbackCategory)> = feedback::table
        .filter(feedback::handoff_id.eq(handoff.id))
        .select((feedback::sent_at, feedback::category))
        .load(conn)
        .await?;
    facts.extend(feedback.into_iter().map(|(at, category)| Fact {
        at,
        event: ChronologyEvent::Feedback,
        code: code(category),
        by: code(Side::VeiligThuis),
    }));
    Ok(facts)
}

/// The school's side: its signals about the child and its meldcode cases, then the report.
pub async fn school_facts(
    conn: &mut AsyncPgConnection,
    handoff: &Handoff,
) -> QueryResult<Vec<Fact>> {
    let mut facts = report_facts(conn, handoff).await?;
    let Some(child) = handoff.child_id else {
        return Ok(facts);
    };
    let school = handoff.from_organisation_id;
    let signal_rows: Vec<(DateTime<Utc>, String, SignalCategory)> = signals::table
        .inner_join(signal_revisions::table.on(signal_revisions::signal_id.eq(signals::id)))
        .filter(signals::child_id.eq(child))
        .filter(signals::organisation_id.eq(school))
        .filter(signal_revisions::revision.eq(1))
        .select((
            signals::recorded_at,
            signals::recorded_by_role,
            signal_revisions::category,
        ))
        .load(conn)
        .await?;
    facts.extend(signal_rows.into_iter().map(|(at, role, category)| Fact {
        at,
        event: ChronologyEvent::SignalRecorded,
        code: code(category),
        by: Role::parse(&role).map(Labelled::code),
    }));
    let case_rows: Vec<(Uuid, DateTime<Utc>, Option<DateTime<Utc>>)> = cases::table
        .filter(cases::child_id.eq(child))
        .filter(cases::organisation_id.eq(school))
        .select((cases::id, cases::opened_at, cases::closed_at))
        .load(conn)
        .await?;
    let case_ids: Vec<Uuid> = case_rows.iter().map(|c| c.0).collect();
    for (_, opened, closed) in case_rows {
        facts.push(Fact {
            at: opened,
            event: ChronologyEvent::CaseOpened,
            code: None,
            by: code(Side::School),
        });
        if let Some(at) = closed {
            facts.push(Fact {
                at,
                event: ChronologyEvent::CaseClosed,
                code: None,
                by: code(Side::School),
            });
        }
    }
    let steps: Vec<(DateTime<Utc>, Step)> = case_steps::table
        .filter(case_steps::case_id.eq_any(&case_ids))
        .select((case_steps::recorded_at, case_steps::kind))
        .load(conn)
        .await?;
    facts.extend(steps.into_iter().map(|(at, step)| Fact {
        at,
        event: ChronologyEvent::StepRecorded,
        code: code(step),
        by: code(Side::School),
    }));
    Ok(facts)
}

/// Veilig Thuis's side: the report as it handled it, its safety assessment, and the consent it
/// asked about the report with the answers.
pub async fn veilig_thuis_facts(
    conn: &mut AsyncPgConnection,
    handoff: &Handoff,
) -> QueryResult<Vec<Fact>> {
    let mut facts = report_facts(conn, handoff).await?;
    if let Some(at) = handoff.assessment_decided_at {
        facts.push(Fact {
            at,
            event: ChronologyEvent::SafetyAssessmentDecided,
            code: None,
            by: code(Side::VeiligThuis),
        });
    }
    let asked: Vec<(Uuid, DateTime<Utc>, ConsentPurpose)> = consents::table
        .filter(consents::handoff_id.eq(handoff.id))
        .filter(consents::organisation_id.eq(handoff.to_organisation_id))
        .select((consents::id, consents::created_at, consents::purpose))
        .load(conn)
        .await?;
    let ids: Vec<Uuid> = asked.iter().map(|a| a.0).collect();
    facts.extend(asked.into_iter().map(|(_, at, purpose)| Fact {
        at,
        event: ChronologyEvent::ConsentAsked,
        code: code(purpose),
        by: code(Side::VeiligThuis),
    }));
    let answers: Vec<(DateTime<Utc>, ConsentDecision, Option<Uuid>)> = consent_decisions::table
        .filter(consent_decisions::consent_id.eq_any(&ids))
        .select((
            consent_decisions::decided_at,
            consent_decisions::decision,
            consent_decisions::guardian_id,
        ))
        .load(conn)
        .await?;
    facts.extend(answers.into_iter().map(|(at, decision, guardian)| Fact {
        at,
        event: ChronologyEvent::ConsentAnswered,
        code: code(decision),
        by: Some(if guardian.is_some() {
            "guardian"
        } else {
            "child"
        }),
    }));
    Ok(facts)
}

/// The reviewed report, whichever side asks (the review decides who may see it).
pub async fn handoff_of(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Handoff> {
    crate::db::schema::handoffs::table
        .find(id)
        .select(Handoff::as_select())
        .first(conn)
        .await
}
