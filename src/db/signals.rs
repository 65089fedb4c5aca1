//! Signal queries. Signals and revisions are only ever inserted.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
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

pub async fn insert(
    conn: &mut AsyncPgConnection,
    organisation: Uuid,
    child: Uuid,
    recorder: &Recorder<'_>,
    role: &str,
    content: &SignalContent,
) -> QueryResult<SignalWithHistory> {
    let signal: Signal = diesel::insert_into(signals::table)
        .values((
            signals::id.eq(Uuid::now_v7()),
            signals::organisation_id.eq(organisation),
            signals::child_id.eq(child),
            signals::recorded_by_sub.eq(recorder.sub),
            signals::recorded_by_name.eq(recorder.name),
            signals::recorded_by_role.eq(role),
        ))
        .returning(Signal::as_returning())
        .get_result(conn)
        .await?;
    let revision = insert_revision(conn, signal.id, 1, recorder, content, None).await?;
    Ok(SignalWithHistory {
        signal,
        revisions: vec![revision],
    })
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

/// A page of a child's signals in the scope, newest first, before `(recorded_at, id)`.
pub async fn list_for_child(
    conn: &mut AsyncPgConnection,
    child: Uuid,
    scope: &SignalScope,
    before: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<SignalWithHistory>> {
    let mut query = signals::table
        .filter(signals::child_id.eq(child))
        .select(Signal::as_select())
        .into_boxed();
    if let SignalScope::RecordedBy { sub } = scope {
        query = query.filter(signals::recorded_by_sub.eq(sub.clone()));
    }
    if let Some((at, id)) = before {
        query = query.filter(
            diesel::dsl::sql::<sql_types::Bool>("(signals.recorded_at, signals.id) < (")
                .bind::<sql_types::Timestamptz, _>(at)
                .sql(", ")
                .bind::<sql_types::Uuid, _>(id)
                .sql(")"),
        );
    }
    let signals = query
        .order((signals::recorded_at.desc(), signals::id.desc()))
        .limit(limit)
        .load(conn)
        .await?;
    with_history(conn, signals).await
}
