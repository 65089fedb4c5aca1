//! Signal queries. Signals and revisions are only ever inserted.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::{prelude::*, sql_types};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::{
    auth::policy::SignalScope,
    db::schema::{signal_revisions, signals},
    domain::{
        reference::Labelled,
        signal::{SignalCategory, SignalContent, SignalDirection, SignalSource},
    },
    effects::{EFFECTS_CTES, EFFECTS_FOR_EACH_ROW_CTES, EffectRows},
};

#[derive(Queryable, Selectable, Debug, Clone, PartialEq, Eq)]
#[diesel(table_name = signals, check_for_backend(diesel::pg::Pg))]
pub struct Signal {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub child_id: Uuid,
    pub recorded_by_sub: String,
    pub recorded_by_name: String,
    pub recorded_by_role: String,
    pub recorded_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable, Debug, Clone, PartialEq, Eq)]
#[diesel(table_name = signal_revisions, check_for_backend(diesel::pg::Pg))]
pub struct Revision {
    pub id: Uuid,
    pub signal_id: Uuid,
    pub revision: i32,
    pub observed_at: DateTime<Utc>,
    pub category: SignalCategory,
    pub source: SignalSource,
    pub source_description: Option<String>,
    pub facts: String,
    pub interpretation: Option<String>,
    pub direction: SignalDirection,
    pub reason: Option<String>,
    pub recorded_by_sub: String,
    pub recorded_by_name: String,
    pub recorded_at: DateTime<Utc>,
}

impl Revision {
    pub fn content(&self) -> SignalContent {
        SignalContent {
            observed_at: self.observed_at,
            category: self.category,
            source: self.source,
            source_description: self.source_description.clone(),
            facts: self.facts.clone(),
            interpretation: self.interpretation.clone(),
            direction: self.direction,
        }
    }
}

/// A signal with its revisions, oldest first (the last is the current content).
#[derive(Debug, Clone)]
pub struct SignalWithHistory {
    pub signal: Signal,
    pub revisions: Vec<Revision>,
}

impl SignalWithHistory {
    pub fn current(&self) -> &Revision {
        // Every signal is inserted with its first revision, in one transaction.
        self.revisions
            .last()
            .expect("a signal always has a revision")
    }
}

/// Who records, for the record.
pub struct Recorder<'a> {
    pub sub: &'a str,
    pub name: &'a str,
}

/// A signal about to be recorded, with the ids its effects already name.
pub struct NewSignal<'a> {
    pub id: Uuid,
    pub organisation: Uuid,
    pub child: Uuid,
    /// The child's date of birth the decision relied on.
    pub child_born: NaiveDate,
    pub recorder: Recorder<'a>,
    pub role: &'a str,
    pub content: &'a SignalContent,
}

type SignalColumns = (
    sql_types::Uuid,
    sql_types::Uuid,
    sql_types::Uuid,
    sql_types::Text,
    sql_types::Text,
    sql_types::Text,
    sql_types::Timestamptz,
);
type RevisionColumns = (
    sql_types::Uuid,
    sql_types::Uuid,
    sql_types::Integer,
    sql_types::Timestamptz,
    sql_types::Text,
    sql_types::Text,
    sql_types::Nullable<sql_types::Text>,
    sql_types::Text,
    sql_types::Nullable<sql_types::Text>,
    sql_types::Text,
    sql_types::Nullable<sql_types::Text>,
    sql_types::Text,
    sql_types::Text,
    sql_types::Timestamptz,
);

/// Records a signal, its first revision and `effects` in one statement — the hot path of
/// recording a signal: one round trip and no `BEGIN`/`COMMIT`, as the statement is atomic by
/// itself — provided the child still is as the decision saw it (of the organisation, born on
/// `child_born`). None when it is not: nothing was written.
pub async fn record(
    conn: &mut AsyncPgConnection,
    new: &NewSignal<'_>,
    effects: &EffectRows,
) -> QueryResult<Option<SignalWithHistory>> {
    let content = new.content;
    let rows: Vec<(Signal, Revision)> = effects
        .statement::<(SignalColumns, RevisionColumns)>()
        .sql("child AS (SELECT id FROM children WHERE id = ")
        .bind::<sql_types::Uuid, _>(new.child)
        .sql(" AND organisation_id = ")
        .bind::<sql_types::Uuid, _>(new.organisation)
        .sql(" AND purged_at IS NULL AND date_of_birth = ")
        .bind::<sql_types::Date, _>(new.child_born)
        .sql(
            "), signal AS (
    INSERT INTO signals (id, organisation_id, child_id, recorded_by_sub, recorded_by_name,
                         recorded_by_role)
    SELECT ",
        )
        .bind::<sql_types::Uuid, _>(new.id)
        .sql(", ")
        .bind::<sql_types::Uuid, _>(new.organisation)
        .sql(", child.id, ")
        .bind::<sql_types::Text, _>(new.recorder.sub)
        .sql(", ")
        .bind::<sql_types::Text, _>(new.recorder.name)
        .sql(", ")
        .bind::<sql_types::Text, _>(new.role)
        .sql(
            " FROM child
    RETURNING id, organisation_id, child_id, recorded_by_sub, recorded_by_name, recorded_by_role,
              recorded_at
), revision AS (
    INSERT INTO signal_revisions (id, signal_id, revision, observed_at, category, source,
                                  source_description, facts, interpretation, direction,
                                  recorded_by_sub, recorded_by_name)
    SELECT ",
        )
        .bind::<sql_types::Uuid, _>(Uuid::now_v7())
        .sql(", signal.id, 1, ")
        .bind::<sql_types::Timestamptz, _>(content.observed_at)
        .sql(", ")
        .bind::<sql_types::Text, _>(content.category.code())
        .sql(", ")
        .bind::<sql_types::Text, _>(content.source.code())
        .sql(", ")
        .bind::<sql_types::Nullable<sql_types::Text>, _>(content.source_description.as_deref())
        .sql(", ")
        .bind::<sql_types::Text, _>(content.facts.as_str())
        .sql(", ")
        .bind::<sql_types::Nullable<sql_types::Text>, _>(content.interpretation.as_deref())
        .sql(", ")
        .bind::<sql_types::Text, _>(content.direction.code())
        .sql(
            ", signal.recorded_by_sub, signal.recorded_by_name FROM signal
    RETURNING id, signal_id, revision, observed_at, category, source, source_description, facts,
              interpretation, direction, reason, recorded_by_sub, recorded_by_name, recorded_at
), gate AS (SELECT FROM signal), ",
        )
        .sql(EFFECTS_CTES)
        .sql(
            "
SELECT signal.*, revision.* FROM signal, revision",
        )
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .next()
        .map(|(signal, revision)| SignalWithHistory {
            signal,
            revisions: vec![revision],
        }))
}

pub async fn insert_revision(
    conn: &mut AsyncPgConnection,
    signal: Uuid,
    revision: i32,
    recorder: &Recorder<'_>,
    content: &SignalContent,
    reason: Option<&str>,
) -> QueryResult<Revision> {
    diesel::insert_into(signal_revisions::table)
        .values((
            signal_revisions::id.eq(Uuid::now_v7()),
            signal_revisions::signal_id.eq(signal),
            signal_revisions::revision.eq(revision),
            signal_revisions::observed_at.eq(content.observed_at),
            signal_revisions::category.eq(content.category.code()),
            signal_revisions::source.eq(content.source.code()),
            signal_revisions::source_description.eq(content.source_description.as_deref()),
            signal_revisions::facts.eq(&content.facts),
            signal_revisions::interpretation.eq(content.interpretation.as_deref()),
            signal_revisions::direction.eq(content.direction.code()),
            signal_revisions::reason.eq(reason),
            signal_revisions::recorded_by_sub.eq(recorder.sub),
            signal_revisions::recorded_by_name.eq(recorder.name),
        ))
        .returning(Revision::as_returning())
        .get_result(conn)
        .await
}

async fn with_history(
    conn: &mut AsyncPgConnection,
    signals: Vec<Signal>,
) -> QueryResult<Vec<SignalWithHistory>> {
    let ids: Vec<Uuid> = signals.iter().map(|s| s.id).collect();
    let revisions: Vec<Revision> = signal_revisions::table
        .filter(signal_revisions::signal_id.eq_any(&ids))
        .order((signal_revisions::signal_id, signal_revisions::revision))
        .select(Revision::as_select())
        .load(conn)
        .await?;
    let mut by_signal: HashMap<Uuid, Vec<Revision>> = HashMap::new();
    for revision in revisions {
        by_signal
            .entry(revision.signal_id)
            .or_default()
            .push(revision);
    }
    Ok(signals
        .into_iter()
        .map(|signal| SignalWithHistory {
            revisions: by_signal.remove(&signal.id).unwrap_or_default(),
            signal,
        })
        .collect())
}

/// A signal of `organisation`, with its history; locked when `for_update`.
pub async fn find(
    conn: &mut AsyncPgConnection,
    organisation: Uuid,
    id: Uuid,
    for_update: bool,
) -> QueryResult<Option<SignalWithHistory>> {
    let query = signals::table
        .filter(signals::id.eq(id))
        .filter(signals::organisation_id.eq(organisation))
        .select(Signal::as_select());
    let signal = if for_update {
        query.for_update().first(conn).await.optional()?
    } else {
        query.first(conn).await.optional()?
    };
    match signal {
        None => Ok(None),
        Some(signal) => Ok(with_history(conn, vec![signal]).await?.pop()),
    }
}

/// Signals of `child` among `ids`, with history, oldest first.
pub async fn of_child(
    conn: &mut AsyncPgConnection,
    child: Uuid,
    ids: &[Uuid],
) -> QueryResult<Vec<SignalWithHistory>> {
    let signals = signals::table
        .filter(signals::child_id.eq(child))
        .filter(signals::id.eq_any(ids))
        .order((signals::recorded_at, signals::id))
        .select(Signal::as_select())
        .load(conn)
        .await?;
    with_history(conn, signals).await
}

/// A page of the signals of a child of `organisation` in the scope, newest first, before
/// `(recorded_at, id)`, each with its history; `fetch` rows, of which the first `page_size`
/// are shown. `effects` is written if the child is found, its access-log entry once for each
/// signal shown. None when the child is not found. One statement — the hot path of listing
/// signals: one round trip, its log entries in the same (single-statement) transaction.
#[allow(clippy::too_many_arguments)]
pub async fn read_page(
    conn: &mut AsyncPgConnection,
    organisation: Uuid,
    child: Uuid,
    scope: &SignalScope,
    before: Option<(DateTime<Utc>, Uuid)>,
    fetch: i64,
    page_size: i64,
    effects: &EffectRows,
) -> QueryResult<Option<Vec<SignalWithHistory>>> {
    // One text for every scope and page, so it stays prepared: a NULL recorder is the whole
    // organisation's view, and the first page starts before (infinity, the largest id).
    let recorded_by = match scope {
        SignalScope::Organisation => None,
        SignalScope::RecordedBy { sub } => Some(sub.as_str()),
    };
    let rows: Vec<(Uuid, Option<Signal>, Option<Revision>)> = effects
        .statement::<(
            sql_types::Uuid,
            sql_types::Nullable<SignalColumns>,
            sql_types::Nullable<RevisionColumns>,
        )>()
        .sql("child AS (SELECT id FROM children WHERE id = ")
        .bind::<sql_types::Uuid, _>(child)
        .sql(" AND organisation_id = ")
        .bind::<sql_types::Uuid, _>(organisation)
        .sql(
            " AND purged_at IS NULL), page AS (
    SELECT s.id, s.organisation_id, s.child_id, s.recorded_by_sub, s.recorded_by_name,
           s.recorded_by_role, s.recorded_at
      FROM signals s
     -- The child's id itself, not a join with `child`: so the planner walks the index in
     -- recording order and stops at the page's end, however many signals the child has.
     WHERE s.child_id = ",
        )
        .bind::<sql_types::Uuid, _>(child)
        .sql(
            " AND EXISTS (SELECT FROM child)
       AND (s.recorded_at, s.id) < (coalesce(",
        )
        .bind::<sql_types::Nullable<sql_types::Timestamptz>, _>(before.map(|(at, _)| at))
        .sql(", 'infinity'), coalesce(")
        .bind::<sql_types::Nullable<sql_types::Uuid>, _>(before.map(|(_, id)| id))
        .sql(", 'ffffffff-ffff-ffff-ffff-ffffffffffff'))\n       AND (")
        .bind::<sql_types::Nullable<sql_types::Text>, _>(recorded_by)
        .sql("::text IS NULL OR s.recorded_by_sub = ")
        .bind::<sql_types::Nullable<sql_types::Text>, _>(recorded_by)
        .sql(
            ")
     ORDER BY s.recorded_at DESC, s.id DESC
     LIMIT ",
        )
        .bind::<sql_types::BigInt, _>(fetch)
        .sql("), each_row AS (SELECT id FROM page ORDER BY recorded_at DESC, id DESC LIMIT ")
        .bind::<sql_types::BigInt, _>(page_size)
        .sql("), gate AS (SELECT FROM child), ")
        .sql(EFFECTS_FOR_EACH_ROW_CTES)
        .sql(
            "
SELECT child.id, page.*, r.id, r.signal_id, r.revision, r.observed_at, r.category, r.source,
       r.source_description, r.facts, r.interpretation, r.direction, r.reason,
       r.recorded_by_sub, r.recorded_by_name, r.recorded_at
  FROM child
  LEFT JOIN page ON true
  LEFT JOIN signal_revisions r ON r.signal_id = page.id
 ORDER BY page.recorded_at DESC, page.id DESC, r.revision",
        )
        .load(conn)
        .await?;
    if rows.is_empty() {
        return Ok(None);
    }
    let mut page: Vec<SignalWithHistory> = Vec::new();
    for (_, signal, revision) in rows {
        let Some(signal) = signal else { continue };
        match page.last_mut() {
            Some(last) if last.signal.id == signal.id => {}
            _ => page.push(SignalWithHistory {
                signal,
                revisions: Vec::new(),
            }),
        }
        if let (Some(last), Some(revision)) = (page.last_mut(), revision) {
            last.revisions.push(revision);
        }
    }
    Ok(Some(page))
}
