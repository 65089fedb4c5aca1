//! The data lifecycle's queries: which children the retention rules may reach, legal holds,
//! destruction requests, and the purge that overwrites personal data with a tombstone.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::{prelude::*, sql_types};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::Value;
use uuid::Uuid;

use crate::{
    db::handoffs::{received_by, sent_by},
    db::schema::{
        case_steps, cases, children, consents, destruction_requests, feedback, handoffs,
        legal_holds, organisations, signals,
    },
    domain::{
        handoff::Snapshot,
        lifecycle::{
            DestructionScope, DestructionStatus, GrantPlan, HearingOutcome, OtherSide, PURGED,
            RecordRef, RecordType, RefusalGround, RequesterKind, handoff_content_goes,
            purged_date_of_birth, purged_external_ref, purged_snapshot, purged_step_details,
        },
        meldcode::{Step, record::StepDetails},
        organisation::OrganisationKind,
    },
};

/// A child the retention rules may reach: not purged, with a date its involvement ended.
#[derive(Queryable, Debug, Clone, PartialEq, Eq)]
pub struct RetentionCandidate {
    pub child_id: Uuid,
    pub organisation_id: Uuid,
    pub kind: OrganisationKind,
    pub date_of_birth: NaiveDate,
    pub left_on: Option<NaiveDate>,
    pub care_ended_on: Option<NaiveDate>,
    /// The current hold's id and end date, if one was placed and not lifted.
    pub hold: Option<(Uuid, Option<NaiveDate>)>,
}

/// Every such child, of one organisation or of all.
pub async fn retention_candidates(
    conn: &mut AsyncPgConnection,
    organisation: Option<Uuid>,
) -> QueryResult<Vec<RetentionCandidate>> {
    let mut query = children::table
        .inner_join(organisations::table)
        .left_join(
            legal_holds::table.on(legal_holds::child_id
                .eq(children::id)
                .and(legal_holds::lifted_at.is_null())),
        )
        .filter(children::purged_at.is_null())
        .filter(
            children::left_on
                .is_not_null()
                .or(children::care_ended_on.is_not_null()),
        )
        .select((
            children::id,
            children::organisation_id,
            organisations::kind,
            children::date_of_birth,
            children::left_on,
            children::care_ended_on,
            (legal_holds::id, legal_holds::until).nullable(),
        ))
        .into_boxed();
    if let Some(organisation) = organisation {
        query = query.filter(children::organisation_id.eq(organisation));
    }
    query.order(children::id).load(conn).await
}

/// The candidate, locked against concurrent purges and corrections, if it is still one. A
/// child another replica (or a request) holds locked is skipped, not waited for: replicas
/// running the rules at once share the work, and a skipped file is reached by the next run.
pub async fn lock_candidate(
    conn: &mut AsyncPgConnection,
    child: Uuid,
) -> QueryResult<Option<RetentionCandidate>> {
    let locked: Option<Uuid> = children::table
        .filter(children::id.eq(child))
        .filter(children::purged_at.is_null())
        .select(children::id)
        .for_update()
        .skip_locked()
        .first(conn)
        .await
        .optional()?;
    if locked.is_none() {
        return Ok(None);
    }
    let mut candidates = children::table
        .inner_join(organisations::table)
        .left_join(
            legal_holds::table.on(legal_holds::child_id
                .eq(children::id)
                .and(legal_holds::lifted_at.is_null())),
        )
        .filter(children::id.eq(child))
        .select((
            children::id,
            children::organisation_id,
            organisations::kind,
            children::date_of_birth,
            children::left_on,
            children::care_ended_on,
            (legal_holds::id, legal_holds::until).nullable(),
        ))
        .load::<RetentionCandidate>(conn)
        .await?;
    Ok(candidates.pop())
}

// ---- legal holds ----

#[derive(Queryable, Selectable, Debug, Clone, PartialEq, Eq)]
#[diesel(table_name = legal_holds, check_for_backend(diesel::pg::Pg))]
pub struct LegalHold {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub child_id: Uuid,
    pub reason: String,
    pub until: Option<NaiveDate>,
    pub placed_by_sub: String,
    pub placed_by_name: String,
    pub placed_at: DateTime<Utc>,
    pub lifted_at: Option<DateTime<Utc>>,
    pub lifted_by_sub: Option<String>,
    pub lifted_by_name: Option<String>,
}

/// The child's hold that was placed and not lifted (its `until` may have passed).
pub async fn current_hold(
    conn: &mut AsyncPgConnection,
    child: Uuid,
) -> QueryResult<Option<LegalHold>> {
    legal_holds::table
        .filter(legal_holds::child_id.eq(child))
        .filter(legal_holds::lifted_at.is_null())
        .select(LegalHold::as_select())
        .first(conn)
        .await
        .optional()
}

/// The current holds of these children.
pub async fn current_holds(
    conn: &mut AsyncPgConnection,
    children: &[Uuid],
) -> QueryResult<Vec<LegalHold>> {
    legal_holds::table
        .filter(legal_holds::child_id.eq_any(children))
        .filter(legal_holds::lifted_at.is_null())
        .select(LegalHold::as_select())
        .load(conn)
        .await
}

/// Lifts the current hold (placing a new one replaces it).
pub async fn lift_hold(
    conn: &mut AsyncPgConnection,
    child: Uuid,
    by_sub: &str,
    by_name: &str,
) -> QueryResult<Option<LegalHold>> {
    diesel::update(
        legal_holds::table
            .filter(legal_holds::child_id.eq(child))
            .filter(legal_holds::lifted_at.is_null()),
    )
    .set((
        legal_holds::lifted_at.eq(diesel::dsl::now),
        legal_holds::lifted_by_sub.eq(by_sub),
        legal_holds::lifted_by_name.eq(by_name),
    ))
    .returning(LegalHold::as_returning())
    .get_result(conn)
    .await
    .optional()
}

#[derive(Insertable, Debug)]
#[diesel(table_name = legal_holds)]
pub struct NewHold<'a> {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub child_id: Uuid,
    pub reason: &'a str,
    pub until: Option<NaiveDate>,
    pub placed_by_sub: &'a str,
    pub placed_by_name: &'a str,
}

pub async fn place_hold(conn: &mut AsyncPgConnection, new: &NewHold<'_>) -> QueryResult<LegalHold> {
    diesel::insert_into(legal_holds::table)
        .values(new)
        .returning(LegalHold::as_returning())
        .get_result(conn)
        .await
}

/// The organisation's holds placed and not lifted, newest first.
pub async fn holds_of(
    conn: &mut AsyncPgConnection,
    organisation: Uuid,
) -> QueryResult<Vec<LegalHold>> {
    legal_holds::table
        .filter(legal_holds::organisation_id.eq(organisation))
        .filter(legal_holds::lifted_at.is_null())
        .order(legal_holds::placed_at.desc())
        .select(LegalHold::as_select())
        .load(conn)
        .await
}

// ---- destruction requests ----

#[derive(Queryable, Selectable, Debug, Clone, PartialEq)]
#[diesel(table_name = destruction_requests, check_for_backend(diesel::pg::Pg))]
pub struct DestructionRequest {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub child_id: Uuid,
    pub requester: RequesterKind,
    pub requester_guardian_id: Option<Uuid>,
    pub received_on: NaiveDate,
    pub scope: DestructionScope,
    pub records: Value,
    pub hearing: Option<HearingOutcome>,
    pub hearing_note: Option<String>,
    pub due_on: NaiveDate,
    pub extended_at: Option<DateTime<Utc>>,
    pub extension_reason: Option<String>,
    pub status: DestructionStatus,
    pub granted_records: Option<Value>,
    pub weighing: Option<String>,
    pub refusal_ground: Option<RefusalGround>,
    pub legal_duty: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decided_by_sub: Option<String>,
    pub decided_by_name: Option<String>,
    pub executed_at: Option<DateTime<Utc>>,
    pub created_by_sub: String,
    pub created_by_name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl DestructionRequest {
    /// The records the request names (empty when it asks for everything).
    pub fn records(&self) -> Vec<RecordRef> {
        serde_json::from_value(self.records.clone()).unwrap_or_default()
    }

    pub fn granted_records(&self) -> Option<Vec<RecordRef>> {
        self.granted_records
            .as_ref()
            .map(|v| serde_json::from_value(v.clone()).unwrap_or_default())
    }
}

#[derive(Insertable, Debug)]
#[diesel(table_name = destruction_requests)]
pub struct NewDestructionRequest<'a> {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub child_id: Uuid,
    pub requester: RequesterKind,
    pub requester_guardian_id: Option<Uuid>,
    pub received_on: NaiveDate,
    pub scope: DestructionScope,
    pub records: Value,
    pub hearing: Option<HearingOutcome>,
    pub hearing_note: Option<&'a str>,
    pub due_on: NaiveDate,
    pub created_by_sub: &'a str,
    pub created_by_name: &'a str,
}

pub async fn insert_request(
    conn: &mut AsyncPgConnection,
    new: &NewDestructionRequest<'_>,
) -> QueryResult<DestructionRequest> {
    diesel::insert_into(destruction_requests::table)
        .values(new)
        .returning(DestructionRequest::as_returning())
        .get_result(conn)
        .await
}

/// A request of `organisation`, or none (also another organisation's).
pub async fn find_request(
    conn: &mut AsyncPgConnection,
    organisation: Uuid,
    id: Uuid,
    for_update: bool,
) -> QueryResult<Option<DestructionRequest>> {
    let query = destruction_requests::table
        .filter(destruction_requests::id.eq(id))
        .filter(destruction_requests::organisation_id.eq(organisation))
        .select(DestructionRequest::as_select());
    if for_update {
        query.for_update().first(conn).await.optional()
    } else {
        query.first(conn).await.optional()
    }
}

/// The organisation's requests, oldest due first, filtered by status and child.
pub async fn list_requests(
    conn: &mut AsyncPgConnection,
    organisation: Uuid,
    status: Option<DestructionStatus>,
    child: Option<Uuid>,
) -> QueryResult<Vec<DestructionRequest>> {
    let mut query = destruction_requests::table
        .filter(destruction_requests::organisation_id.eq(organisation))
        .select(DestructionRequest::as_select())
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(destruction_requests::status.eq(status));
    }
    if let Some(child) = child {
        query = query.filter(destruction_requests::child_id.eq(child));
    }
    query
        .order((destruction_requests::due_on, destruction_requests::id))
        .limit(1000)
        .load(conn)
        .await
}

/// The term extended to `due_on`, with the reason the requester is told.
pub async fn record_extension(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    due_on: NaiveDate,
    reason: &str,
) -> QueryResult<DestructionRequest> {
    let now = Utc::now();
    diesel::update(destruction_requests::table.find(id))
        .set((
            destruction_requests::due_on.eq(due_on),
            destruction_requests::extended_at.eq(now),
            destruction_requests::extension_reason.eq(reason),
            destruction_requests::updated_at.eq(now),
        ))
        .returning(DestructionRequest::as_returning())
        .get_result(conn)
        .await
}

/// The decision as recorded.
pub struct RecordedDecision<'a> {
    pub status: DestructionStatus,
    pub granted_records: Option<Value>,
    pub weighing: &'a str,
    pub refusal_ground: Option<RefusalGround>,
    pub legal_duty: Option<&'a str>,
    pub hearing: Option<(HearingOutcome, &'a str)>,
    pub decided_by_sub: &'a str,
    pub decided_by_name: &'a str,
    pub executed: bool,
}

pub async fn record_decision(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    decision: &RecordedDecision<'_>,
) -> QueryResult<DestructionRequest> {
    let now = Utc::now();
    let request = diesel::update(destruction_requests::table.find(id))
        .set((
            destruction_requests::status.eq(decision.status),
            destruction_requests::granted_records.eq(decision.granted_records.clone()),
            destruction_requests::weighing.eq(decision.weighing),
            destruction_requests::refusal_ground.eq(decision.refusal_ground),
            destruction_requests::legal_duty.eq(decision.legal_duty),
            destruction_requests::decided_at.eq(now),
            destruction_requests::decided_by_sub.eq(decision.decided_by_sub),
            destruction_requests::decided_by_name.eq(decision.decided_by_name),
            destruction_requests::executed_at.eq(decision.executed.then_some(now)),
            destruction_requests::updated_at.eq(now),
        ))
        .returning(DestructionRequest::as_returning())
        .get_result(conn)
        .await?;
    let Some((outcome, note)) = decision.hearing else {
        return Ok(request);
    };
    diesel::update(destruction_requests::table.find(id))
        .set((
            destruction_requests::hearing.eq(outcome),
            destruction_requests::hearing_note.eq(note),
        ))
        .returning(DestructionRequest::as_returning())
        .get_result(conn)
        .await
}

// ---- the child's records ----

/// Every record the organisation holds about the child, by type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChildRecords {
    pub signals: Vec<Uuid>,
    pub cases: Vec<Uuid>,
    pub handoffs: Vec<Uuid>,
    pub consents: Vec<Uuid>,
    pub feedback: Vec<Uuid>,
}

impl ChildRecords {
    pub fn contains(&self, record: &RecordRef) -> bool {
        self.of(record.record_type).contains(&record.id)
    }

    fn of(&self, record_type: RecordType) -> &[Uuid] {
        match record_type {
            RecordType::Signal => &self.signals,
            RecordType::Case => &self.cases,
            RecordType::Handoff => &self.handoffs,
            RecordType::Consent => &self.consents,
            RecordType::Feedback => &self.feedback,
        }
    }

    /// The named records that are not among these.
    pub fn unknown(&self, named: &[RecordRef]) -> Vec<RecordRef> {
        named
            .iter()
            .filter(|r| !self.contains(r))
            .copied()
            .collect()
    }

    /// Every record, as references.
    pub fn all(&self) -> Vec<RecordRef> {
        let refs = |record_type, ids: &[Uuid]| {
            ids.iter()
                .map(move |&id| RecordRef { record_type, id })
                .collect::<Vec<_>>()
        };
        [
            refs(RecordType::Signal, &self.signals),
            refs(RecordType::Case, &self.cases),
            refs(RecordType::Handoff, &self.handoffs),
            refs(RecordType::Consent, &self.consents),
            refs(RecordType::Feedback, &self.feedback),
        ]
        .concat()
    }
}

/// The handoffs about the child the organisation still holds: sent about it, or received and
/// taken in as it.
fn handoffs_of_child(
    organisation: Uuid,
    child: Uuid,
) -> handoffs::BoxedQuery<'static, diesel::pg::Pg, sql_types::Uuid> {
    handoffs::table
        .filter(
            sent_by(organisation)
                .and(handoffs::child_id.eq(child))
                .or(received_by(organisation).and(handoffs::intake_child_id.eq(child))),
        )
        .select(handoffs::id)
        .into_boxed()
}

pub async fn records_of_child(
    conn: &mut AsyncPgConnection,
    organisation: Uuid,
    child: Uuid,
) -> QueryResult<ChildRecords> {
    let signals = signals::table
        .filter(signals::organisation_id.eq(organisation))
        .filter(signals::child_id.eq(child))
        .order(signals::id)
        .select(signals::id)
        .load(conn)
        .await?;
    let cases = cases::table
        .filter(cases::organisation_id.eq(organisation))
        .filter(cases::child_id.eq(child))
        .order(cases::id)
        .select(cases::id)
        .load(conn)
        .await?;
    let handoffs: Vec<Uuid> = handoffs_of_child(organisation, child)
        .order(handoffs::id)
        .load(conn)
        .await?;
    let consents = consents::table
        .filter(consents::organisation_id.eq(organisation))
        .filter(consents::child_id.eq(child))
        .order(consents::id)
        .select(consents::id)
        .load(conn)
        .await?;
    let feedback = feedback::table
        .filter(feedback::handoff_id.eq_any(&handoffs))
        .filter(crate::db::feedback::held_by(organisation))
        .order(feedback::id)
        .select(feedback::id)
        .load(conn)
        .await?;
    Ok(ChildRecords {
        signals,
        cases,
        handoffs,
        consents,
        feedback,
    })
}

// ---- the purge ----

/// What a purge did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PurgeOutcome {
    /// The records whose personal data was overwritten.
    pub purged: Vec<RecordRef>,
    /// Whether the child record itself was.
    pub child: bool,
    /// Handoffs whose content stays because the other organisation holds the child's record
    /// too: (that organisation, the handoff).
    pub kept_by_others: Vec<(Uuid, Uuid)>,
}

/// Lets this transaction overwrite append-only records (their triggers check it).
async fn allow_purge(conn: &mut AsyncPgConnection) -> QueryResult<()> {
    diesel::sql_query("SELECT set_config('schakel.purge', 'on', true)")
        .execute(conn)
        .await?;
    Ok(())
}

/// Overwrites the personal data of the child's records with a tombstone, in the caller's
/// transaction: everything (`GrantPlan::Everything`, also the child record and its guardians)
/// or the records named. A handoff (with its feedback) is the record of both sides: it leaves
/// this side's view at once, and its content goes when the other side holds no record of the
/// child for it (`domain::lifecycle::handoff_content_goes`) — otherwise it stays there, under
/// that organisation's own retention, and is reported in `kept_by_others`.
pub async fn purge(
    conn: &mut AsyncPgConnection,
    organisation: Uuid,
    (child, born): (Uuid, NaiveDate),
    plan: &GrantPlan,
) -> QueryResult<PurgeOutcome> {
    allow_purge(conn).await?;
    let all = records_of_child(conn, organisation, child).await?;
    let selected: Vec<RecordRef> = match plan {
        GrantPlan::Everything => all.all(),
        GrantPlan::Records(records) => records.clone(),
    };
    let ids = |t: RecordType| -> Vec<Uuid> {
        selected
            .iter()
            .filter(|r| r.record_type == t)
            .map(|r| r.id)
            .collect()
    };
    purge_signals(conn, &ids(RecordType::Signal)).await?;
    purge_cases(conn, &ids(RecordType::Case)).await?;
    purge_consents(conn, &ids(RecordType::Consent)).await?;
    // Feedback goes with its handoff's content, or alone when named; either way only when the
    // handoff's other side holds no record of the child.
    let handoffs = ids(RecordType::Handoff);
    let named_feedback = ids(RecordType::Feedback);
    let feedback: Vec<(Uuid, Uuid)> = if handoffs.is_empty() && named_feedback.is_empty() {
        Vec::new()
    } else {
        feedback::table
            .filter(
                feedback::handoff_id
                    .eq_any(&handoffs)
                    .or(feedback::id.eq_any(&named_feedback)),
            )
            .select((feedback::id, feedback::handoff_id))
            .load(conn)
            .await?
    };
    let mut concerned = handoffs.clone();
    concerned.extend(feedback.iter().map(|(_, h)| *h));
    concerned.sort_unstable();
    concerned.dedup();
    let held: Vec<(Uuid, Uuid)> = other_sides(conn, organisation, &concerned)
        .await?
        .into_iter()
        .filter(|(_, other)| !handoff_content_goes(other))
        .map(|(handoff, other)| (other.organisation, handoff))
        .collect();
    let held_ids: HashSet<Uuid> = held.iter().map(|(_, h)| *h).collect();
    let free = |handoff: &Uuid| !held_ids.contains(handoff);
    let handoff_content: Vec<Uuid> = handoffs.iter().copied().filter(free).collect();
    purge_handoffs(conn, &handoff_content).await?;
    let feedback_content: Vec<Uuid> = feedback
        .iter()
        .filter(|(_, h)| free(h))
        .map(|(f, _)| *f)
        .collect();
    purge_feedback(conn, &feedback_content).await?;
    let feedback_ids: Vec<Uuid> = feedback.iter().map(|(f, _)| *f).collect();
    leave_side(conn, organisation, &handoffs, &feedback_ids).await?;
    purge_review_parts(conn, organisation, &handoffs).await?;

    let everything = matches!(plan, GrantPlan::Everything);
    purge_timeline(
        conn,
        organisation,
        child,
        (!everything).then(|| selected.iter().map(|r| r.id).collect()),
    )
    .await?;
    let mut needles: Vec<String> = selected.iter().map(|r| r.id.to_string()).collect();
    if everything {
        purge_kernteam_items(conn, child).await?;
        purge_child(conn, child, born).await?;
        needles.push(child.to_string());
    }
    forget_idempotent_responses(conn, &needles).await?;
    Ok(PurgeOutcome {
        purged: selected,
        child: everything,
        kept_by_others: held,
    })
}

/// The other side of each of these handoffs: its organisation, and whether it holds a child
/// record for the handoff that is not purged.
async fn other_sides(
    conn: &mut AsyncPgConnection,
    organisation: Uuid,
    ids: &[Uuid],
) -> QueryResult<Vec<(Uuid, OtherSide)>> {
    #[derive(QueryableByName)]
    struct Side {
        #[diesel(sql_type = sql_types::Uuid)]
        id: Uuid,
        #[diesel(sql_type = sql_types::Uuid)]
        other: Uuid,
        #[diesel(sql_type = sql_types::Bool)]
        holds: bool,
    }
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sides: Vec<Side> = diesel::sql_query(
        "SELECT h.id,
                CASE WHEN h.from_organisation_id = $1 THEN h.to_organisation_id
                     ELSE h.from_organisation_id END AS other,
                c.id IS NOT NULL AND c.purged_at IS NULL
                AND (CASE WHEN h.from_organisation_id = $1 THEN h.recipient_purged_at
                          ELSE h.sender_purged_at END) IS NULL AS holds
           FROM handoffs h
           LEFT JOIN children c ON c.id = CASE WHEN h.from_organisation_id = $1
                                               THEN h.intake_child_id ELSE h.child_id END
          WHERE h.id = ANY($2)
          ORDER BY h.id",
    )
    .bind::<sql_types::Uuid, _>(organisation)
    .bind::<sql_types::Array<sql_types::Uuid>, _>(ids)
    .load(conn)
    .await?;
    Ok(sides
        .into_iter()
        .map(|s| {
            let side = OtherSide {
                organisation: s.other,
                holds_child_record: s.holds,
            };
            (s.id, side)
        })
        .collect())
}

/// This side's record of the handoffs and feedback is gone: they leave its view.
async fn leave_side(
    conn: &mut AsyncPgConnection,
    organisation: Uuid,
    handoffs: &[Uuid],
    feedback: &[Uuid],
) -> QueryResult<()> {
    for (statement, ids) in [
        (
            "UPDATE handoffs SET sender_purged_at = now()
              WHERE id = ANY($1) AND from_organisation_id = $2",
            handoffs,
        ),
        (
            "UPDATE handoffs SET recipient_purged_at = now()
              WHERE id = ANY($1) AND to_organisation_id = $2",
            handoffs,
        ),
        (
            "UPDATE feedback SET sender_purged_at = now()
              WHERE id = ANY($1) AND from_organisation_id = $2",
            feedback,
        ),
        (
            "UPDATE feedback SET recipient_purged_at = now()
              WHERE id = ANY($1) AND to_organisation_id = $2",
            feedback,
        ),
    ] {
        if ids.is_empty() {
            continue;
        }
        diesel::sql_query(statement)
            .bind::<sql_types::Array<sql_types::Uuid>, _>(ids)
            .bind::<sql_types::Uuid, _>(organisation)
            .execute(conn)
            .await?;
    }
    Ok(())
}

async fn purge_signals(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> QueryResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    diesel::sql_query(
        "UPDATE signal_revisions SET facts = $1,
                interpretation = CASE WHEN interpretation IS NOT NULL THEN $1 END,
                source_description = CASE WHEN source_description IS NOT NULL THEN $1 END,
                reason = CASE WHEN reason IS NOT NULL THEN $1 END
          WHERE signal_id = ANY($2)",
    )
    .bind::<sql_types::Text, _>(PURGED)
    .bind::<sql_types::Array<sql_types::Uuid>, _>(ids)
    .execute(conn)
    .await?;
    Ok(())
}

/// The organisation's parts of case reviews of these handoffs: its chronology and reflections
/// go with its record of the report; that the review took place, and the other side's part,
/// stay.
async fn purge_review_parts(
    conn: &mut AsyncPgConnection,
    organisation: Uuid,
    handoffs: &[Uuid],
) -> QueryResult<()> {
    if handoffs.is_empty() {
        return Ok(());
    }
    diesel::sql_query(
        "UPDATE case_review_parts
            SET chronology = '[]',
                went_well = CASE WHEN went_well IS NULL THEN NULL ELSE $1 END,
                could_be_better = CASE WHEN could_be_better IS NULL THEN NULL ELSE $1 END,
                themes = '{}', updated_at = now()
          WHERE organisation_id = $2
            AND review_id IN (SELECT id FROM case_reviews WHERE handoff_id = ANY($3))",
    )
    .bind::<sql_types::Text, _>(PURGED)
    .bind::<sql_types::Uuid, _>(organisation)
    .bind::<sql_types::Array<sql_types::Uuid>, _>(handoffs)
    .execute(conn)
    .await?;
    Ok(())
}

/// The kernteam items that presented the child by name: their texts, the perspectives on them
/// and the actions agreed go; that the item was discussed, and its concerns, stay.
async fn purge_kernteam_items(conn: &mut AsyncPgConnection, child: Uuid) -> QueryResult<()> {
    for statement in [
        "UPDATE kernteam_perspectives SET notes = $1
          WHERE item_id IN (SELECT id FROM kernteam_items WHERE child_id = $2)",
        "UPDATE kernteam_actions SET description = $1, owner_name = $1
          WHERE item_id IN (SELECT id FROM kernteam_items WHERE child_id = $2)",
        "UPDATE kernteam_items SET question = $1, school_group = NULL,
                advice = CASE WHEN advice IS NULL THEN NULL ELSE $1 END
          WHERE child_id = $2",
    ] {
        diesel::sql_query(statement)
            .bind::<sql_types::Text, _>(PURGED)
            .bind::<sql_types::Uuid, _>(child)
            .execute(conn)
            .await?;
    }
    Ok(())
}

async fn purge_cases(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> QueryResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let steps: Vec<(Uuid, Step, Value)> = case_steps::table
        .filter(case_steps::case_id.eq_any(ids))
        .select((case_steps::id, case_steps::kind, case_steps::details))
        .load(conn)
        .await?;
    for (id, kind, details) in steps {
        // Details that no longer read as their step are dropped whole: nothing personal stays.
        let purged = StepDetails::from_stored(kind, details)
            .map(|d| purged_step_details(d).to_stored())
            .unwrap_or_else(|_| serde_json::json!({}));
        diesel::update(case_steps::table.find(id))
            .set(case_steps::details.eq(purged))
            .execute(conn)
            .await?;
    }
    for statement in [
        "UPDATE case_steps SET correction_reason = $1
          WHERE case_id = ANY($2) AND correction_reason IS NOT NULL",
        "UPDATE case_actions SET description = $1 WHERE case_id = ANY($2)",
        "UPDATE case_lead_changes SET reason = $1 WHERE case_id = ANY($2) AND reason IS NOT NULL",
        "UPDATE cases SET closure_note = $1 WHERE id = ANY($2) AND closure_note IS NOT NULL",
        "UPDATE case_proposals SET closure_note = $1
          WHERE case_id = ANY($2) AND closure_note IS NOT NULL",
        "UPDATE case_approvals SET comment = $1
          WHERE comment IS NOT NULL
            AND proposal_id IN (SELECT id FROM case_proposals WHERE case_id = ANY($2))",
    ] {
        diesel::sql_query(statement)
            .bind::<sql_types::Text, _>(PURGED)
            .bind::<sql_types::Array<sql_types::Uuid>, _>(ids)
            .execute(conn)
            .await?;
    }
    Ok(())
}

async fn purge_consents(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> QueryResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    diesel::sql_query(
        "UPDATE consents SET withdrawal_reason = $1
          WHERE id = ANY($2) AND withdrawal_reason IS NOT NULL",
    )
    .bind::<sql_types::Text, _>(PURGED)
    .bind::<sql_types::Array<sql_types::Uuid>, _>(ids)
    .execute(conn)
    .await?;
    Ok(())
}

async fn purge_handoffs(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> QueryResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let snapshots: Vec<(Uuid, Value)> = handoffs::table
        .filter(handoffs::id.eq_any(ids))
        .select((handoffs::id, handoffs::snapshot))
        .load(conn)
        .await?;
    for (id, snapshot) in snapshots {
        let purged = serde_json::from_value::<Snapshot>(snapshot)
            .map(purged_snapshot)
            .unwrap_or_default();
        diesel::update(handoffs::table.find(id))
            .set((
                handoffs::snapshot.eq(serde_json::to_value(purged).unwrap_or_default()),
                handoffs::message.eq(PURGED),
            ))
            .execute(conn)
            .await?;
    }
    for statement in [
        "UPDATE handoffs SET parents_not_informed_explanation = $1
          WHERE id = ANY($2) AND parents_not_informed_explanation IS NOT NULL",
        "UPDATE handoff_transitions SET note = $1 WHERE handoff_id = ANY($2) AND note IS NOT NULL",
        "UPDATE handoff_reminders SET note = $1 WHERE handoff_id = ANY($2) AND note IS NOT NULL",
    ] {
        diesel::sql_query(statement)
            .bind::<sql_types::Text, _>(PURGED)
            .bind::<sql_types::Array<sql_types::Uuid>, _>(ids)
            .execute(conn)
            .await?;
    }
    Ok(())
}

async fn purge_feedback(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> QueryResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    diesel::sql_query(
        "UPDATE feedback SET message = $1,
                do_not_discuss_explanation = CASE WHEN do_not_discuss_explanation IS NOT NULL THEN $1 END
          WHERE id = ANY($2)",
    )
    .bind::<sql_types::Text, _>(PURGED)
    .bind::<sql_types::Array<sql_types::Uuid>, _>(ids)
    .execute(conn)
    .await?;
    Ok(())
}

/// The organisation's timeline entries about the child: all, or those about these records.
async fn purge_timeline(
    conn: &mut AsyncPgConnection,
    organisation: Uuid,
    child: Uuid,
    only: Option<Vec<Uuid>>,
) -> QueryResult<()> {
    diesel::sql_query(
        "UPDATE timeline_entries SET summary = $1
          WHERE organisation_id = $2 AND child_id = $3
            AND ($4::uuid[] IS NULL OR resource_id = ANY($4))",
    )
    .bind::<sql_types::Text, _>(PURGED)
    .bind::<sql_types::Uuid, _>(organisation)
    .bind::<sql_types::Uuid, _>(child)
    .bind::<sql_types::Nullable<sql_types::Array<sql_types::Uuid>>, _>(only)
    .execute(conn)
    .await?;
    Ok(())
}

/// The child record (born on `born`), its guardians, and the free text of its holds and
/// destruction requests.
async fn purge_child(
    conn: &mut AsyncPgConnection,
    child: Uuid,
    born: NaiveDate,
) -> QueryResult<()> {
    diesel::sql_query(
        "UPDATE children SET given_name = $1, family_name = $1, external_ref = $3, bsn = NULL,
                school_group = NULL, date_of_birth = $4, purged_at = now(), updated_at = now()
          WHERE id = $2",
    )
    .bind::<sql_types::Text, _>(PURGED)
    .bind::<sql_types::Uuid, _>(child)
    .bind::<sql_types::Text, _>(purged_external_ref(child))
    .bind::<sql_types::Date, _>(purged_date_of_birth(born))
    .execute(conn)
    .await?;
    for statement in [
        "UPDATE guardians SET name = $1, phone = NULL, email = NULL, updated_at = now()
          WHERE child_id = $2",
        "UPDATE legal_holds SET reason = $1 WHERE child_id = $2",
        "UPDATE destruction_requests SET
                hearing_note = CASE WHEN hearing_note IS NOT NULL THEN $1 END,
                extension_reason = CASE WHEN extension_reason IS NOT NULL THEN $1 END,
                weighing = CASE WHEN weighing IS NOT NULL THEN $1 END
          WHERE child_id = $2",
    ] {
        diesel::sql_query(statement)
            .bind::<sql_types::Text, _>(PURGED)
            .bind::<sql_types::Uuid, _>(child)
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// Stored responses (kept 24 hours for replays) that show any of these ids are dropped: a
/// replay must not bring purged data back.
async fn forget_idempotent_responses(
    conn: &mut AsyncPgConnection,
    needles: &[String],
) -> QueryResult<()> {
    if needles.is_empty() {
        return Ok(());
    }
    diesel::sql_query(
        "DELETE FROM idempotency_keys k
          WHERE EXISTS (SELECT 1 FROM unnest($1::text[]) AS n(needle)
                         WHERE position(convert_to(n.needle, 'UTF8') IN k.response_body) > 0)",
    )
    .bind::<sql_types::Array<sql_types::Text>, _>(needles)
    .execute(conn)
    .await?;
    Ok(())
}

/// What the operational purge removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OperationalPurge {
    pub deliveries: usize,
    pub events: usize,
}

/// Webhook delivery history and events past their short terms. Events a delivery still waits
/// on stay.
pub async fn purge_operational(
    conn: &mut AsyncPgConnection,
    delivery_days: u32,
    event_days: u32,
) -> QueryResult<OperationalPurge> {
    let deliveries = diesel::sql_query(
        "DELETE FROM webhook_deliveries
          WHERE status IN ('delivered', 'failed')
            AND created_at < now() - make_interval(days => $1)",
    )
    .bind::<sql_types::Integer, _>(i32::try_from(delivery_days).unwrap_or(i32::MAX))
    .execute(conn)
    .await?;
    let events = diesel::sql_query(
        "DELETE FROM events e
          WHERE e.occurred_at < now() - make_interval(days => $1)
            AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id)",
    )
    .bind::<sql_types::Integer, _>(i32::try_from(event_days).unwrap_or(i32::MAX))
    .execute(conn)
    .await?;
    Ok(OperationalPurge { deliveries, events })
}

// ---- subject access ----

/// These cases, oldest first.
pub async fn cases_by_ids(
    conn: &mut AsyncPgConnection,
    ids: &[Uuid],
) -> QueryResult<Vec<crate::db::cases::Case>> {
    cases::table
        .filter(cases::id.eq_any(ids))
        .order((cases::opened_at, cases::id))
        .select(crate::db::cases::Case::as_select())
        .load(conn)
        .await
}

/// These handoffs, oldest first.
pub async fn handoffs_by_ids(
    conn: &mut AsyncPgConnection,
    ids: &[Uuid],
) -> QueryResult<Vec<crate::db::handoffs::Handoff>> {
    handoffs::table
        .filter(handoffs::id.eq_any(ids))
        .order((handoffs::sent_at, handoffs::id))
        .select(crate::db::handoffs::Handoff::as_select())
        .load(conn)
        .await
}

/// These feedback items, oldest first.
pub async fn feedback_by_ids(
    conn: &mut AsyncPgConnection,
    ids: &[Uuid],
) -> QueryResult<Vec<crate::db::feedback::Feedback>> {
    feedback::table
        .filter(feedback::id.eq_any(ids))
        .order((feedback::sent_at, feedback::id))
        .select(crate::db::feedback::Feedback::as_select())
        .load(conn)
        .await
}

/// The organisation's whole timeline of the child, oldest first.
pub async fn timeline_of(
    conn: &mut AsyncPgConnection,
    organisation: Uuid,
    child: Uuid,
) -> QueryResult<Vec<crate::db::timeline::StoredEntry>> {
    use crate::db::schema::timeline_entries;
    timeline_entries::table
        .filter(timeline_entries::organisation_id.eq(organisation))
        .filter(timeline_entries::child_id.eq(child))
        .order((timeline_entries::occurred_at, timeline_entries::id))
        .select(crate::db::timeline::StoredEntry::as_select())
        .load(conn)
        .await
}
