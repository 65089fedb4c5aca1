//! Feedback queries.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::{
    auth::policy::FeedbackScope,
    db::schema::{feedback, feedback_reads, handoffs, signals},
    domain::{
        feedback::{AssessmentOutcome, Audience, FeedbackCategory},
        handoff::LegalBasis,
        reference::Labelled,
    },
};

#[derive(Queryable, Selectable, Debug, Clone, PartialEq, Eq)]
#[diesel(table_name = feedback, check_for_backend(diesel::pg::Pg))]
pub struct Feedback {
    pub id: Uuid,
    pub handoff_id: Uuid,
    pub from_organisation_id: Uuid,
    pub to_organisation_id: Uuid,
    pub category: FeedbackCategory,
    pub outcome: Option<AssessmentOutcome>,
    pub message: String,
    pub do_not_discuss_with_parents: bool,
    pub do_not_discuss_explanation: Option<String>,
    pub audience: Audience,
    pub consent_id: Option<Uuid>,
    pub legal_basis: LegalBasis,
    pub sent_by_sub: String,
    pub sent_by_name: String,
    pub sent_at: DateTime<Utc>,
    pub follow_up_check_on: Option<NaiveDate>,
    pub forwarded_to_organisation_id: Option<Uuid>,
}

#[derive(Queryable, Selectable, Debug, Clone, PartialEq, Eq)]
#[diesel(table_name = feedback_reads, check_for_backend(diesel::pg::Pg))]
pub struct Read {
    pub id: Uuid,
    pub feedback_id: Uuid,
    pub reader_sub: String,
    pub reader_name: String,
    pub reader_organisation_id: Uuid,
    pub read_at: DateTime<Utc>,
}

#[derive(Insertable, Debug)]
#[diesel(table_name = feedback)]
pub struct NewFeedback<'a> {
    pub id: Uuid,
    pub handoff_id: Uuid,
    pub from_organisation_id: Uuid,
    pub to_organisation_id: Uuid,
    pub category: FeedbackCategory,
    pub outcome: Option<AssessmentOutcome>,
    pub message: &'a str,
    pub do_not_discuss_with_parents: bool,
    pub do_not_discuss_explanation: Option<&'a str>,
    pub audience: Audience,
    pub consent_id: Option<Uuid>,
    pub legal_basis: LegalBasis,
    pub sent_by_sub: &'a str,
    pub sent_by_name: &'a str,
    pub follow_up_check_on: Option<NaiveDate>,
    pub forwarded_to_organisation_id: Option<Uuid>,
}

pub async fn insert(conn: &mut AsyncPgConnection, new: &NewFeedback<'_>) -> QueryResult<Feedback> {
    diesel::insert_into(feedback::table)
        .values(new)
        .returning(Feedback::as_returning())
        .get_result(conn)
        .await
}

fn in_scope(
    scope: &FeedbackScope,
) -> Box<dyn BoxableExpression<feedback::table, diesel::pg::Pg, SqlType = diesel::sql_types::Bool>>
{
    match scope {
        FeedbackScope::All => Box::new(diesel::dsl::sql::<diesel::sql_types::Bool>("TRUE")),
        FeedbackScope::StaffGuidanceFor { sub } => Box::new(
            feedback::audience
                .eq(Audience::SchoolStaff)
                .and(feedback::category.eq(FeedbackCategory::GuidanceForSchool))
                .and(diesel::dsl::exists(
                    handoffs::table
                        .inner_join(
                            signals::table.on(signals::child_id.nullable().eq(handoffs::child_id)),
                        )
                        .filter(handoffs::id.eq(feedback::handoff_id))
                        .filter(signals::recorded_by_sub.eq(sub.clone())),
                )),
        ),
    }
}

type SentAndHeld = diesel::dsl::And<
    diesel::dsl::Eq<feedback::from_organisation_id, Uuid>,
    diesel::dsl::IsNull<feedback::sender_purged_at>,
>;
type ReceivedAndHeld = diesel::dsl::And<
    diesel::dsl::Eq<feedback::to_organisation_id, Uuid>,
    diesel::dsl::IsNull<feedback::recipient_purged_at>,
>;

/// Sent or received by the organisation, which still holds it (a side that purged its record of
/// the child no longer sees it).
pub fn held_by(organisation: Uuid) -> diesel::dsl::Or<SentAndHeld, ReceivedAndHeld> {
    feedback::from_organisation_id
        .eq(organisation)
        .and(feedback::sender_purged_at.is_null())
        .or(feedback::to_organisation_id
            .eq(organisation)
            .and(feedback::recipient_purged_at.is_null()))
}

/// The feedback on a handoff in the scope that the organisation still holds, oldest first.
pub async fn of_handoff(
    conn: &mut AsyncPgConnection,
    organisation: Uuid,
    handoff: Uuid,
    scope: &FeedbackScope,
) -> QueryResult<Vec<Feedback>> {
    feedback::table
        .filter(feedback::handoff_id.eq(handoff))
        .filter(held_by(organisation))
        .filter(in_scope(scope))
        .order((feedback::sent_at, feedback::id))
        .select(Feedback::as_select())
        .load(conn)
        .await
}

/// A feedback item sent to or by the organisation, in the scope.
pub async fn find(
    conn: &mut AsyncPgConnection,
    organisation: Uuid,
    scope: &FeedbackScope,
    id: Uuid,
) -> QueryResult<Option<Feedback>> {
    feedback::table
        .filter(feedback::id.eq(id))
        .filter(held_by(organisation))
        .filter(in_scope(scope))
        .select(Feedback::as_select())
        .first(conn)
        .await
        .optional()
}

/// The organisation's inbox: feedback sent to it, oldest first; `unread_by` keeps only what
/// that professional has not read.
pub async fn inbox(
    conn: &mut AsyncPgConnection,
    organisation: Uuid,
    scope: &FeedbackScope,
    unread_by: Option<&str>,
    after: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<Feedback>> {
    let mut query = feedback::table
        .filter(feedback::to_organisation_id.eq(organisation))
        .filter(feedback::recipient_purged_at.is_null())
        .filter(in_scope(scope))
        .select(Feedback::as_select())
        .into_boxed();
    if let Some(reader) = unread_by {
        query = query.filter(diesel::dsl::not(diesel::dsl::exists(
            feedback_reads::table
                .filter(feedback_reads::feedback_id.eq(feedback::id))
                .filter(feedback_reads::reader_sub.eq(reader.to_owned())),
        )));
    }
    if let Some(after) = after {
        query = query.filter(feedback::id.gt(after));
    }
    query.order(feedback::id).limit(limit).load(conn).await
}

pub async fn reads_of(
    conn: &mut AsyncPgConnection,
    ids: &[Uuid],
) -> QueryResult<HashMap<Uuid, Vec<Read>>> {
    let reads: Vec<Read> = feedback_reads::table
        .filter(feedback_reads::feedback_id.eq_any(ids))
        .order((feedback_reads::read_at, feedback_reads::id))
        .select(Read::as_select())
        .load(conn)
        .await?;
    let mut by_feedback: HashMap<Uuid, Vec<Read>> = HashMap::new();
    for read in reads {
        by_feedback.entry(read.feedback_id).or_default().push(read);
    }
    Ok(by_feedback)
}

/// Records a read receipt once per reader; returns whether it is new.
pub async fn mark_read(
    conn: &mut AsyncPgConnection,
    feedback: Uuid,
    reader: (&str, &str, Uuid),
) -> QueryResult<bool> {
    let inserted = diesel::insert_into(feedback_reads::table)
        .values((
            feedback_reads::id.eq(Uuid::now_v7()),
            feedback_reads::feedback_id.eq(feedback),
            feedback_reads::reader_sub.eq(reader.0),
            feedback_reads::reader_name.eq(reader.1),
            feedback_reads::reader_organisation_id.eq(reader.2),
        ))
        .on_conflict((feedback_reads::feedback_id, feedback_reads::reader_sub))
        .do_nothing()
        .execute(conn)
        .await?;
    Ok(inserted == 1)
}

/// Whether a handoff has had any status feedback.
pub async fn has_status_feedback(conn: &mut AsyncPgConnection, handoff: Uuid) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        feedback::table
            .filter(feedback::handoff_id.eq(handoff))
            .filter(feedback::category.eq_any(status_categories())),
    ))
    .get_result(conn)
    .await
}

/// The next check of Veilig Thuis's safety conditions on a handoff, while they run: the
/// `follow_up_check_on` of the latest feedback that decides it.
pub async fn conditions_check_on(
    conn: &mut AsyncPgConnection,
    handoff: Uuid,
) -> QueryResult<Option<NaiveDate>> {
    let deciding: Vec<FeedbackCategory> = FeedbackCategory::ALL
        .iter()
        .copied()
        .filter(|c| c.sets_conditions_check())
        .collect();
    Ok(feedback::table
        .filter(feedback::handoff_id.eq(handoff))
        .filter(feedback::category.eq_any(deciding))
        .order((feedback::sent_at.desc(), feedback::id.desc()))
        .select(feedback::follow_up_check_on)
        .first::<Option<NaiveDate>>(conn)
        .await
        .optional()?
        .flatten())
}

pub fn status_categories() -> Vec<FeedbackCategory> {
    FeedbackCategory::ALL
        .iter()
        .copied()
        .filter(|c| !c.needs_consent())
        .collect()
}
