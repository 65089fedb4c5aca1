//! Signals (meldcode step 1): recorded about a child, never changed in place — a correction is a
//! revision with a reason, and the original stays readable.

use chrono::{DateTime, Utc};
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Header, Path, Query},
    payload::Json,
    types::Example,
};
use serde::Deserialize;
use uuid::Uuid;

use crate::{
    api::types::{Timestamp, example_time},
    api::{
        ApiTags,
        body::JsonBody,
        children::load_own_child,
        context::Ctx,
        etag,
        paging::{self, decode_cursor},
        problem::{ApiResult, Change, Create, ReadOne},
        shared::Professional,
    },
    audit::{Access, AccessAction},
    auth::{
        BearerAuth, Principal,
        policy::{self, Action},
    },
    db::{
        signals::{self as queries, Recorder, SignalWithHistory},
        timeline::TimelineEntry,
    },
    domain::{
        reference::Labelled,
        signal::{self as rules, SignalCategory, SignalContent, SignalDirection, SignalSource},
    },
    effects::Effects,
    error::AppError,
    events::{Event, EventType},
};

const SIGNAL: &str = "signal";

/// The professional who recorded a signal, in the role they recorded it in.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct Recording {
    pub sub: String,
    pub name: String,
    pub role: String,
}

/// A signal: its current content, and every revision since it was first recorded.
#[derive(Object)]
#[oai(rename_all = "camelCase", example)]
pub struct Signal {
    pub id: Uuid,
    pub child_id: Uuid,
    /// When it was first recorded (from the server's clock).
    pub recorded_at: Timestamp,
    /// Who first recorded it (from the token).
    pub recorded_by: Recording,
    /// When it was seen or heard.
    pub observed_at: Timestamp,
    pub category: SignalCategory,
    pub source: SignalSource,
    /// Who the third party is, for `third_party`.
    #[oai(skip_serializing_if_is_none)]
    pub source_description: Option<String>,
    /// What was seen or heard: facts and literal quotes, apart from interpretation.
    pub facts: String,
    /// The recorder's interpretation, kept apart from the facts.
    #[oai(skip_serializing_if_is_none)]
    pub interpretation: Option<String>,
    pub direction: SignalDirection,
    /// The current revision number (1 = as first recorded).
    pub revision: i32,
    /// Every revision, oldest first; the last is the current content.
    pub revisions: Vec<SignalRevision>,
}

/// One version of a signal's content.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct SignalRevision {
    pub revision: i32,
    pub recorded_at: Timestamp,
    pub recorded_by: Professional,
    /// Why this revision corrects the previous one; absent on the original.
    #[oai(skip_serializing_if_is_none)]
    pub reason: Option<String>,
    pub observed_at: Timestamp,
    pub category: SignalCategory,
    pub source: SignalSource,
    #[oai(skip_serializing_if_is_none)]
    pub source_description: Option<String>,
    pub facts: String,
    #[oai(skip_serializing_if_is_none)]
    pub interpretation: Option<String>,
    pub direction: SignalDirection,
}

impl Example for Signal {
    fn example() -> Self {
        let facts = "Noah zei in de kring: \"Papa schreeuwt en dan huilt mama.\" Hij keek daarbij naar de grond.";
        Self {
            id: Uuid::from_u128(0x0193_5b1e_7c1a_7d00_8000_0000_0000_0301),
            child_id: Uuid::from_u128(0x0193_5b1e_7c1a_7d00_8000_0000_0000_0101),
            recorded_at: example_time(),
            recorded_by: Recording {
                sub: "leerkracht-sanne".into(),
                name: "Sanne de Vries".into(),
                role: "teacher".into(),
            },
            observed_at: example_time(),
            category: SignalCategory::StatementsByChild,
            source: SignalSource::Child,
            source_description: None,
            facts: facts.into(),
            interpretation: Some("Mogelijk getuige van huiselijk geweld.".into()),
            direction: SignalDirection::RaisesConcern,
            revision: 1,
            revisions: vec![SignalRevision {
                revision: 1,
                recorded_at: example_time(),
                recorded_by: Professional {
                    sub: "leerkracht-sanne".into(),
                    name: "Sanne de Vries".into(),
                },
                reason: None,
                observed_at: example_time(),
                category: SignalCategory::StatementsByChild,
                source: SignalSource::Child,
                source_description: None,
                facts: facts.into(),
                interpretation: Some("Mogelijk getuige van huiselijk geweld.".into()),
                direction: SignalDirection::RaisesConcern,
            }],
        }
    }
}

/// A signal to record. The recorder, their role and the recording time come from the token and
/// the server's clock.
#[derive(Object, Deserialize)]
#[oai(rename_all = "camelCase", deny_unknown_fields, example)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RecordSignal {
    /// When it was seen or heard; not in the future.
    pub observed_at: Timestamp,
    pub category: SignalCategory,
    pub source: SignalSource,
    /// Required for `third_party`: who told it (a role is enough, e.g. the sports coach).
    #[oai(validator(max_length = 500), skip_serializing_if_is_none)]
    pub source_description: Option<String>,
    /// What was seen or heard: facts and literal quotes, no interpretation.
    #[oai(validator(min_length = 1, max_length = 10000))]
    pub facts: String,
    /// Your interpretation, kept apart from the facts.
    #[oai(validator(max_length = 10000), skip_serializing_if_is_none)]
    pub interpretation: Option<String>,
    /// Whether the signal raises or reduces concern.
    pub direction: SignalDirection,
}

impl Example for RecordSignal {
    fn example() -> Self {
        Self {
            observed_at: example_time(),
            category: SignalCategory::StatementsByChild,
            source: SignalSource::Child,
            source_description: None,
            facts: "Noah zei in de kring: \"Papa schreeuwt en dan huilt mama.\"".into(),
            interpretation: Some("Mogelijk getuige van huiselijk geweld.".into()),
            direction: SignalDirection::RaisesConcern,
        }
    }
}

impl RecordSignal {
    fn content(&self) -> SignalContent {
        SignalContent {
            observed_at: self.observed_at.0,
            category: self.category,
            source: self.source,
            source_description: self.source_description.clone(),
            facts: self.facts.clone(),
            interpretation: self.interpretation.clone(),
            direction: self.direction,
        }
    }
}

/// A correction: the complete corrected content and why.
#[derive(Object, Deserialize)]
#[oai(rename_all = "camelCase", deny_unknown_fields, example)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReviseSignal {
    /// Why the signal is corrected.
    #[oai(validator(min_length = 1, max_length = 2000))]
    pub reason: String,
    pub observed_at: Timestamp,
    pub category: SignalCategory,
    pub source: SignalSource,
    #[oai(validator(max_length = 500), skip_serializing_if_is_none)]
    pub source_description: Option<String>,
    #[oai(validator(min_length = 1, max_length = 10000))]
    pub facts: String,
    #[oai(validator(max_length = 10000), skip_serializing_if_is_none)]
    pub interpretation: Option<String>,
    pub direction: SignalDirection,
}

impl Example for ReviseSignal {
    fn example() -> Self {
        Self {
            reason: "Citaat letterlijk overgenomen uit mijn aantekeningen.".into(),
            observed_at: example_time(),
            category: SignalCategory::StatementsByChild,
            source: SignalSource::Child,
            source_description: None,
            facts: "Noah zei in de kring: \"Papa schreeuwt, en dan huilt mama altijd.\"".into(),
            interpretation: Some("Mogelijk getuige van huiselijk geweld.".into()),
            direction: SignalDirection::RaisesConcern,
        }
    }
}

impl ReviseSignal {
    fn content(&self) -> SignalContent {
        SignalContent {
            observed_at: self.observed_at.0,
            category: self.category,
            source: self.source,
            source_description: self.source_description.clone(),
            facts: self.facts.clone(),
            interpretation: self.interpretation.clone(),
            direction: self.direction,
        }
    }
}

/// A page of signals.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct SignalPage {
    pub items: Vec<Signal>,
    /// Pass as `cursor` for the next (older) page; `null` on the last page.
    pub next_cursor: Option<String>,
}

#[derive(ApiResponse)]
pub enum RecordSignalResponse {
    /// Recorded.
    #[oai(status = 201)]
    Created(
        Json<Signal>,
        /// Where the signal lives.
        #[oai(header = "Location")]
        String,
        #[oai(header = "ETag")] String,
    ),
}

#[derive(ApiResponse)]
pub enum ListSignalsResponse {
    /// The child's signals you may see, most recently recorded first.
    #[oai(status = 200)]
    Ok(Json<SignalPage>),
}

// Built once per request and rendered at once: boxing would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(ApiResponse)]
pub enum GetSignalResponse {
    /// The signal with its history.
    #[oai(status = 200)]
    Ok(Json<Signal>, #[oai(header = "ETag")] String),
    /// Unchanged since the ETag in `If-None-Match`.
    #[oai(status = 304)]
    NotModified(#[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum ReviseSignalResponse {
    /// Corrected: the signal with its new revision.
    #[oai(status = 201)]
    Created(
        Json<Signal>,
        /// The signal.
        #[oai(header = "Location")]
        String,
        #[oai(header = "ETag")] String,
    ),
}

pub(crate) fn render(stored: &SignalWithHistory) -> Signal {
    let current = stored.current().content();
    Signal {
        id: stored.signal.id,
        child_id: stored.signal.child_id,
        recorded_at: stored.signal.recorded_at.into(),
        recorded_by: Recording {
            sub: stored.signal.recorded_by_sub.clone(),
            name: stored.signal.recorded_by_name.clone(),
            role: stored.signal.recorded_by_role.clone(),
        },
        observed_at: current.observed_at.into(),
        category: current.category,
        source: current.source,
        source_description: current.source_description,
        facts: current.facts,
        interpretation: current.interpretation,
        direction: current.direction,
        revision: stored.current().revision,
        revisions: stored
            .revisions
            .iter()
            .map(|r| {
                let content = r.content();
                SignalRevision {
                    revision: r.revision,
                    recorded_at: r.recorded_at.into(),
                    recorded_by: Professional {
                        sub: r.recorded_by_sub.clone(),
                        name: r.recorded_by_name.clone(),
                    },
                    reason: r.reason.clone(),
                    observed_at: content.observed_at.into(),
                    category: content.category,
                    source: content.source,
                    source_description: content.source_description,
                    facts: content.facts,
                    interpretation: content.interpretation,
                    direction: content.direction,
                }
            })
            .collect(),
    }
}

fn summary(verb: &str, content: &SignalContent) -> String {
    format!(
        "Signal {verb}: {} ({})",
        content.category.label_en(),
        content.direction.label_en().to_lowercase()
    )
}

/// A signal of the caller's organisation that the caller may see, or 404.
async fn visible_signal(
    conn: &mut diesel_async::AsyncPgConnection,
    principal: &Principal,
    id: Uuid,
    for_update: bool,
) -> Result<SignalWithHistory, AppError> {
    queries::find(conn, principal.org_id(), id, for_update)
        .await?
        .filter(|s| {
            policy::may_access_signal(
                principal,
                s.signal.organisation_id,
                &s.signal.recorded_by_sub,
            )
        })
        .ok_or_else(AppError::not_found)
}

pub struct SignalsApi;

#[OpenApi(tag = "ApiTags::Signals")]
impl SignalsApi {
    /// Record a signal
    ///
    /// Records what you saw or heard about a child of your organisation (meldcode step 1):
    /// facts and literal quotes in `facts`, your interpretation apart in `interpretation`, where
    /// it came from in `source`, and whether it raises or reduces concern. Who recorded it, in
    /// which role, and when, come from your token and the server's clock.
    #[oai(
        path = "/children/:id/signals",
        method = "post",
        operation_id = "recordSignal"
    )]
    async fn record(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The child's id.
        id: Path<Uuid>,
        body: JsonBody<RecordSignal>,
    ) -> ApiResult<RecordSignalResponse, Create> {
        let principal = &auth.0;
        policy::require(principal, Action::RecordSignals)?;
        let role = policy::acting_role(principal, Action::RecordSignals)
            .ok_or_else(|| AppError::forbidden("no role of yours records signals"))?;
        let content = body.0.content();
        let actor = cx.actor(principal);
        let recorded = summary("recorded", &content);
        let stored = cx
            .db
            .single_statement(async |conn| {
                // The statement writes only if the child is still as read; if it changed in
                // between (a corrected date of birth), decide again on what it is now.
                for _ in 0..3 {
                    let child = load_own_child(conn, principal, id.0).await?;
                    rules::decide_record(&content, child.date_of_birth, Utc::now())?;
                    let new = queries::NewSignal {
                        id: Uuid::now_v7(),
                        organisation: principal.org_id(),
                        child: child.id,
                        child_born: child.date_of_birth,
                        recorder: Recorder {
                            sub: &principal.sub,
                            name: &principal.name,
                        },
                        role: role.as_str(),
                        content: &content,
                    };
                    let effects = signal_change(
                        principal,
                        new.id,
                        child.id,
                        AccessAction::Create,
                        recorded.clone(),
                    )
                    .rows(actor);
                    if let Some(stored) = queries::record(conn, &new, &effects).await? {
                        effects.written(actor);
                        return Ok(stored);
                    }
                }
                Err(AppError::unavailable(
                    "the child changed while the signal was recorded; try again",
                ))
            })
            .await?;
        let rendered = render(&stored);
        let tag = etag::of(&rendered);
        Ok(RecordSignalResponse::Created(
            Json(rendered),
            format!("/v1/signals/{}", stored.signal.id),
            tag,
        ))
    }

    /// List a child's signals
    ///
    /// The child's signals you may see, most recently recorded first, each with its current
    /// content and history: casework roles see all of the organisation's, a teacher the ones they
    /// recorded. Each signal returned is written to the access log.
    #[oai(
        path = "/children/:id/signals",
        method = "get",
        operation_id = "listSignals"
    )]
    async fn list(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The child's id.
        id: Path<Uuid>,
        /// Page size: 1 to 200, default 50.
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<u32>>,
        /// `nextCursor` of the previous page.
        #[oai(validator(max_length = 500))]
        cursor: Query<Option<String>>,
    ) -> ApiResult<ListSignalsResponse, ReadOne> {
        let principal = &auth.0;
        policy::require(principal, Action::RecordSignals)?;
        let before: Option<(DateTime<Utc>, Uuid)> = decode_cursor(cursor.0.as_deref())?;
        let fetch = paging::fetch_size(limit.0);
        let scope = policy::signal_scope(principal);
        let actor = cx.actor(principal);
        // One access-log entry for each signal shown (the statement sets each one's id).
        let effects = Effects::new()
            .access(Access::allowed(AccessAction::Read, SIGNAL, Uuid::nil()).about_child(id.0))
            .rows(actor);
        let (signals, next_cursor) = cx
            .db
            .single_statement(async |conn| {
                let rows = queries::read_page(
                    conn,
                    principal.org_id(),
                    id.0,
                    &scope,
                    before,
                    fetch,
                    paging::page_size(fetch),
                    &effects,
                )
                .await?
                .ok_or_else(AppError::not_found)?;
                Ok(paging::paginate(rows, fetch, |s| {
                    (s.signal.recorded_at, s.signal.id)
                }))
            })
            .await?;
        Ok(ListSignalsResponse::Ok(Json(SignalPage {
            items: signals.iter().map(render).collect(),
            next_cursor,
        })))
    }

    /// Get a signal
    ///
    /// One signal with its full revision history. A signal you may not see — another
    /// organisation's, or another teacher's — answers 404 like one that does not exist.
    #[oai(path = "/signals/:id", method = "get", operation_id = "getSignal")]
    async fn get(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The signal's id.
        id: Path<Uuid>,
        /// ETag of the copy the client holds.
        #[oai(name = "If-None-Match")]
        if_none_match: Header<Option<String>>,
    ) -> ApiResult<GetSignalResponse, ReadOne> {
        let principal = &auth.0;
        policy::require(principal, Action::RecordSignals)?;
        let actor = cx.actor(principal);
        let stored = cx
            .db
            .transaction(async |conn| {
                let stored = visible_signal(conn, principal, id.0, false).await?;
                Effects::new()
                    .access(
                        Access::allowed(AccessAction::Read, SIGNAL, stored.signal.id)
                            .about_child(stored.signal.child_id),
                    )
                    .write(conn, actor)
                    .await?;
                Ok(stored)
            })
            .await?;
        let rendered = render(&stored);
        let tag = etag::of(&rendered);
        if etag::none_match_hits(if_none_match.0.as_deref(), &tag) {
            return Ok(GetSignalResponse::NotModified(tag));
        }
        Ok(GetSignalResponse::Ok(Json(rendered), tag))
    }

    /// Correct a signal
    ///
    /// Adds a revision with the complete corrected content and the `reason`. The signal is
    /// never changed in place: it then shows the corrected content, and every earlier version
    /// stays in `revisions`. Send `If-Match` with the ETag you read; a stale one answers 412.
    #[oai(
        path = "/signals/:id/revisions",
        method = "post",
        operation_id = "reviseSignal"
    )]
    async fn revise(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The signal's id.
        id: Path<Uuid>,
        /// ETag of the copy the correction is based on.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
        body: JsonBody<ReviseSignal>,
    ) -> ApiResult<ReviseSignalResponse, Change> {
        let principal = &auth.0;
        policy::require(principal, Action::RecordSignals)?;
        let input = body.0;
        let corrected = input.content();
        let actor = cx.actor(principal);
        let stored = cx
            .db
            .transaction(async |conn| {
                let mut stored = visible_signal(conn, principal, id.0, true).await?;
                etag::check_if_match(if_match.0.as_deref(), &etag::of(&render(&stored)))?;
                let child = load_own_child(conn, principal, stored.signal.child_id).await?;
                let current = stored.current().content();
                rules::decide_revision(
                    &current,
                    &corrected,
                    &input.reason,
                    child.date_of_birth,
                    Utc::now(),
                )?;
                let recorder = Recorder {
                    sub: &principal.sub,
                    name: &principal.name,
                };
                let revision = queries::insert_revision(
                    conn,
                    stored.signal.id,
                    stored.current().revision + 1,
                    &recorder,
                    &corrected,
                    Some(&input.reason),
                )
                .await?;
                stored.revisions.push(revision);
                signal_change(
                    principal,
                    stored.signal.id,
                    stored.signal.child_id,
                    AccessAction::Update,
                    summary("corrected", &corrected),
                )
                .write(conn, actor)
                .await?;
                Ok(stored)
            })
            .await?;
        let rendered = render(&stored);
        let tag = etag::of(&rendered);
        Ok(ReviseSignalResponse::Created(
            Json(rendered),
            format!("/v1/signals/{}", stored.signal.id),
            tag,
        ))
    }
}

/// A signal recorded or corrected: its access-log entry, event and timeline entry (visible as
/// the signal itself is).
fn signal_change(
    principal: &Principal,
    signal: Uuid,
    child: Uuid,
    access: AccessAction,
    summary: String,
) -> Effects {
    let (event, entry_type) = match access {
        AccessAction::Create => (EventType::SignalRecorded, "signal.recorded"),
        _ => (EventType::SignalRevised, "signal.revised"),
    };
    Effects::new()
        .access(Access::allowed(access, SIGNAL, signal).about_child(child))
        .event(Event::new(event, principal.org_id(), SIGNAL, signal))
        .timeline(TimelineEntry {
            organisation_id: principal.org_id(),
            child_id: child,
            entry_type,
            resource_type: SIGNAL,
            resource_id: signal,
            summary,
            visibility: policy::SIGNAL_TIMELINE_VISIBILITY,
        })
}
