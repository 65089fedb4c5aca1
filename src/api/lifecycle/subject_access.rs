//! Subject access (inzage, AVG art. 15): everything the organisation holds about a child, as
//! JSON or as a printable HTML document, with what the law lets it withhold marked in place.

use std::collections::HashSet;

use diesel_async::AsyncPgConnection;
use poem_openapi::{
    ApiResponse, Object, OpenApi, ResponseContent,
    param::{Header, Path, Query},
    payload::{Html, Json},
    types::{Example, ParseFromJSON, ToJSON},
};
use serde_json::Value;
use uuid::Uuid;

use super::{destruction, dto::*, html, render_hold};
use crate::{
    api::{
        ApiTags,
        access_log::AccessLogEntry,
        case_reviews::{self, CaseReview},
        cases::{self, Case},
        children::{Child, TimelineItem, load_own_child, render_child, render_timeline_item},
        consents::{self, Consent},
        context::Ctx,
        feedback::{self, Feedback},
        handoffs::{Handoff, render_handoff, summary_of},
        kernteams::{self, KernteamItem},
        organisations::OrganisationSummary,
        problem::{ApiResult, ReadOne},
        signals::{self, Signal},
        types::Timestamp,
    },
    audit::{self, Access, AccessAction, LogFilter},
    auth::{
        BearerAuth, Principal,
        policy::{self, Action},
    },
    db::{
        cases as case_queries, children as child_queries, consents as consent_queries,
        handoffs as handoff_queries, lifecycle as queries, signals as signal_queries,
    },
    domain::{
        lifecycle::{
            Requester, WITHHELD, WithheldReason, contact_withheld, reporter_withheld,
            source_withheld,
        },
        reference::Labelled,
        refusal::Refusal,
        signal::SignalSource,
    },
    effects::Effects,
    error::AppError,
};

/// The legal basis of every export, in the access log and in the export.
pub const SUBJECT_ACCESS_BASIS: &str = "avg_art_15";

/// Something withheld from the export, where and why.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct Withheld {
    /// A JSON Pointer (RFC 6901) into this export: where the marker `[achtergehouden]` stands.
    pub pointer: String,
    pub reason: WithheldReason,
    /// The reason in Dutch, for the data subject.
    pub explanation: String,
}

/// Everything the organisation holds about the child.
#[derive(Object)]
#[oai(rename_all = "camelCase", example)]
pub struct SubjectAccess {
    pub generated_at: Timestamp,
    pub organisation: OrganisationSummary,
    /// `avg_art_15`: the data subject's right of access.
    pub legal_basis: String,
    /// Who asked: `child`, or the guardian's id (their own contact details are shown).
    #[oai(skip_serializing_if_is_none)]
    pub requester: Option<String>,
    /// The child and its guardians.
    pub child: Child,
    /// Signals with every revision.
    pub signals: Vec<Signal>,
    /// Meldcode cases with every step, agreement and lead change.
    pub cases: Vec<Case>,
    /// Handoffs sent about the child, with what crossed (their snapshots).
    pub handoffs_sent: Vec<Handoff>,
    /// Handoffs received about the child (taken in as this child), with their snapshots.
    pub handoffs_received: Vec<Handoff>,
    /// Consents with every decision.
    pub consents: Vec<Consent>,
    /// Feedback sent or received on those handoffs.
    pub feedback: Vec<Feedback>,
    /// What the organisation presented about the child in kernteam meetings, by name, with
    /// every perspective and action.
    pub kernteam_items: Vec<KernteamItem>,
    /// Joint case reviews of those handoffs, as your side sees them (pseudonymised: no names,
    /// but still about the child).
    pub case_reviews: Vec<CaseReview>,
    /// The child's timeline, oldest first.
    pub timeline: Vec<TimelineItem>,
    #[oai(skip_serializing_if_is_none)]
    pub legal_hold: Option<LegalHold>,
    pub destruction_requests: Vec<DestructionRequest>,
    /// Who looked at the child's data, when, why (NEN 7513), oldest first.
    pub access_log: Vec<AccessLogEntry>,
    /// What is withheld, marked `[achtergehouden]` in place.
    pub withheld: Vec<Withheld>,
}

impl Example for SubjectAccess {
    fn example() -> Self {
        let mut signal = Signal::example();
        signal.source = SignalSource::ThirdParty;
        signal.source_description = Some(WITHHELD.into());
        Self {
            generated_at: crate::api::types::example_time(),
            organisation: OrganisationSummary {
                id: Uuid::from_u128(0x0193_5b1e_7c1a_7d00_8000_0000_0000_0001),
                kind: crate::domain::organisation::OrganisationKind::School,
                name: "OBS De Regenboog".into(),
            },
            legal_basis: SUBJECT_ACCESS_BASIS.into(),
            requester: Some("child".into()),
            child: Child::example(),
            signals: vec![signal],
            cases: vec![Case::example()],
            handoffs_sent: vec![Handoff::example()],
            handoffs_received: Vec::new(),
            consents: Vec::new(),
            feedback: vec![Feedback::example()],
            kernteam_items: Vec::new(),
            case_reviews: Vec::new(),
            timeline: vec![TimelineItem::example()],
            legal_hold: None,
            destruction_requests: Vec::new(),
            access_log: vec![AccessLogEntry::example()],
            withheld: vec![Withheld {
                pointer: "/signals/0/sourceDescription".into(),
                reason: WithheldReason::ThirdParty,
                explanation: WithheldReason::ThirdParty.label_nl().into(),
            }],
        }
    }
}

#[derive(ResponseContent)]
pub enum SubjectAccessContent {
    Json(Json<Box<SubjectAccess>>),
    Html(Html<String>),
}

#[derive(ApiResponse)]
pub enum SubjectAccessResponse {
    /// Everything held about the child: JSON, or with `Accept: text/html` a self-contained
    /// printable document with Dutch labels.
    #[oai(status = 200)]
    Ok(SubjectAccessContent),
}

pub struct SubjectAccessApi;

#[OpenApi(tag = "ApiTags::DataLifecycle")]
impl SubjectAccessApi {
    /// Subject access (inzage)
    ///
    /// Everything your organisation holds about the child — the child and guardians, signals
    /// with revisions, cases with every step, handoffs sent and received with their snapshots,
    /// consents with decisions, feedback, the timeline, a legal hold, destruction requests and
    /// the child's access log — for a data subject's request under AVG art. 15. JSON, or with
    /// `Accept: text/html` a self-contained printable document with Dutch labels. What the law
    /// lets you withhold is marked `[achtergehouden]` in place and listed in `withheld`: the
    /// identity of a reporter who asked not to be named to the family, who told a third-party
    /// signal, and guardians' contact details (except those of the guardian named in
    /// `requester`). Privacy officers only; every export is in the access log (action `export`,
    /// basis `avg_art_15`).
    #[oai(
        path = "/children/:id/subject-access",
        method = "get",
        operation_id = "getSubjectAccess"
    )]
    async fn get(
        &self,
        auth: BearerAuth,
        cx: Ctx,
        /// The child's id.
        id: Path<Uuid>,
        /// Who asks: `child`, or the id of the guardian who asks (their own contact details
        /// are then shown).
        #[oai(validator(max_length = 36))]
        requester: Query<Option<String>>,
        /// `text/html` for the printable document; JSON otherwise.
        #[oai(name = "Accept")]
        accept: Header<Option<String>>,
    ) -> ApiResult<SubjectAccessResponse, ReadOne> {
        let principal = &auth.0;
        policy::require(principal, Action::ManageDataLifecycle)?;
        let actor = cx.actor(principal);
        let export = cx
            .db
            .transaction(async |conn| {
                let child = load_own_child(conn, principal, id.0).await?;
                let guardians = child_queries::guardians_of(conn, &[child.id]).await?;
                let asking = match requester.0.as_deref() {
                    None => None,
                    Some("child") => Some(Requester::Child),
                    Some(text) => {
                        let guardian = Uuid::parse_str(text)
                            .ok()
                            .filter(|g| guardians.iter().any(|x| x.id == *g))
                            .ok_or_else(|| {
                                Refusal::field(
                                    "requester",
                                    "`child` or the id of one of the child's guardians",
                                )
                            })?;
                        Some(Requester::Guardian(guardian))
                    }
                };
                let mut export = gather(conn, principal, &child, &guardians).await?;
                export.requester = requester.0.clone();
                let export = withhold(export, asking)?;
                Effects::new()
                    .access(
                        Access::allowed(AccessAction::Export, "subject_access", child.id)
                            .about_child(child.id)
                            .with_basis(SUBJECT_ACCESS_BASIS, None),
                    )
                    .write(conn, actor)
                    .await?;
                Ok(export)
            })
            .await?;
        let wants_html = accept.0.as_deref().is_some_and(|a| a.contains("text/html"));
        Ok(SubjectAccessResponse::Ok(if wants_html {
            SubjectAccessContent::Html(Html(html::document(&export)))
        } else {
            SubjectAccessContent::Json(Json(Box::new(export)))
        }))
    }
}

/// Everything the organisation holds about the child, rendered as its casework sees it.
async fn gather(
    conn: &mut AsyncPgConnection,
    principal: &Principal,
    child: &child_queries::Child,
    guardians: &[child_queries::Guardian],
) -> Result<SubjectAccess, AppError> {
    let view = policy::export_view(principal);
    let org = principal.org_id();
    let records = queries::records_of_child(conn, org, child.id).await?;
    let signals = signal_queries::of_child(conn, child.id, &records.signals).await?;
    let case_rows = queries::cases_by_ids(conn, &records.cases).await?;
    let cases = case_queries::load_files(conn, case_rows).await?;
    let mut handoffs_sent = Vec::new();
    let mut handoffs_received = Vec::new();
    let stored_handoffs = queries::handoffs_by_ids(conn, &records.handoffs).await?;
    let transitions = handoff_queries::transitions_of(conn, &records.handoffs).await?;
    for stored in &stored_handoffs {
        let rendered = render_handoff(conn, &view, stored, &transitions).await?;
        if stored.is_sender(org) {
            handoffs_sent.push(rendered);
        } else {
            handoffs_received.push(rendered);
        }
    }
    let mut consents = Vec::new();
    for record in consent_queries::of_child(conn, child.id).await? {
        consents.push(consents::render(conn, &record, child, guardians).await?);
    }
    let case_reviews = case_reviews::of_handoffs(conn, principal, &records.handoffs).await?;
    let kernteam_items = kernteams::items_of_child(conn, org, child.id).await?;
    let feedback_rows = queries::feedback_by_ids(conn, &records.feedback).await?;
    let feedback = feedback::render_many(conn, &feedback_rows).await?;
    let timeline = queries::timeline_of(conn, org, child.id)
        .await?
        .into_iter()
        .map(|row| render_timeline_item(row, child.id))
        .collect();
    let hold = queries::current_hold(conn, child.id).await?;
    let requests = queries::list_requests(conn, org, None, Some(child.id)).await?;
    let organisation = summary_of(conn, org).await?;
    let flags = child_queries::lifecycle_flags_of(conn, child.id).await?;
    Ok(SubjectAccess {
        generated_at: chrono::Utc::now().into(),
        organisation,
        legal_basis: SUBJECT_ACCESS_BASIS.into(),
        requester: None,
        child: render_child(&view, child, guardians, flags),
        signals: signals.iter().map(signals::render).collect(),
        cases: cases
            .iter()
            .map(|file| cases::render(&view, file))
            .collect(),
        handoffs_sent,
        handoffs_received,
        consents,
        feedback,
        kernteam_items,
        case_reviews,
        timeline,
        legal_hold: hold.as_ref().map(render_hold),
        destruction_requests: requests
            .iter()
            .map(|r| destruction::render(r, guardians).0)
            .collect(),
        access_log: access_log(conn, org, child.id).await?,
        withheld: Vec::new(),
    })
}

/// The child's access log, oldest first (read in pages, newest first).
async fn access_log(
    conn: &mut AsyncPgConnection,
    org: Uuid,
    child: Uuid,
) -> Result<Vec<AccessLogEntry>, AppError> {
    const PAGE: i64 = 1000;
    let filter = LogFilter {
        child: Some(child),
        through_handoffs: true,
        ..LogFilter::default()
    };
    let mut entries = Vec::new();
    let mut before = None;
    loop {
        let page = audit::list(conn, org, &filter, before, PAGE).await?;
        let full = i64::try_from(page.len()).unwrap_or(0) == PAGE;
        before = page.last().map(|e| e.id);
        entries.extend(page.into_iter().map(AccessLogEntry::from));
        if !full {
            break;
        }
    }
    entries.reverse();
    Ok(entries)
}

/// Marks what the law lets the organisation withhold (decided in `domain::lifecycle`), in
/// place, and lists it.
fn withhold(export: SubjectAccess, asking: Option<Requester>) -> Result<SubjectAccess, AppError> {
    let reporters: HashSet<String> = export
        .handoffs_sent
        .iter()
        .chain(&export.handoffs_received)
        .filter(|h| reporter_withheld(h.melder_identity_disclosable).is_some())
        .map(|h| h.sent_by.sub.clone())
        .collect();
    let mut value = export.to_json().unwrap_or(Value::Null);
    let mut withheld = Vec::new();
    mark(&mut value, String::new(), &reporters, asking, &mut withheld);
    if let Some(object) = value.as_object_mut() {
        object.insert(
            "withheld".into(),
            Value::Array(
                withheld
                    .into_iter()
                    .map(|(pointer, reason): (String, WithheldReason)| {
                        serde_json::json!({
                            "pointer": pointer,
                            "reason": reason.code(),
                            "explanation": reason.label_nl(),
                        })
                    })
                    .collect(),
            ),
        );
    }
    SubjectAccess::parse_from_json(Some(value)).map_err(|err| {
        AppError::internal(format!(
            "subject access export unreadable: {}",
            err.into_message()
        ))
    })
}

fn mark(
    value: &mut Value,
    pointer: String,
    reporters: &HashSet<String>,
    asking: Option<Requester>,
    withheld: &mut Vec<(String, WithheldReason)>,
) {
    match value {
        Value::Object(object) => {
            // A professional who reported and asked not to be named.
            if let Some(Value::String(sub)) = object.get("sub")
                && reporters.contains(sub)
                && object.contains_key("name")
            {
                object.insert("sub".into(), WITHHELD.into());
                object.insert("name".into(), WITHHELD.into());
                withheld.push((pointer.clone(), WithheldReason::ReporterIdentity));
            }
            // Who told a third-party signal.
            let source = object
                .get("source")
                .and_then(Value::as_str)
                .and_then(SignalSource::parse);
            if let Some(reason) = source.and_then(source_withheld)
                && object
                    .get("sourceDescription")
                    .is_some_and(|d| !d.is_null())
            {
                object.insert("sourceDescription".into(), WITHHELD.into());
                withheld.push((format!("{pointer}/sourceDescription"), reason));
            }
            // A guardian's contact details.
            let guardian = object
                .get("id")
                .and_then(Value::as_str)
                .and_then(|id| Uuid::parse_str(id).ok());
            if let Some(Value::Object(contact)) = object.get_mut("contact")
                && !contact.is_empty()
                && let Some(reason) = contact_withheld(guardian, asking)
            {
                for detail in contact.values_mut() {
                    *detail = WITHHELD.into();
                }
                withheld.push((format!("{pointer}/contact"), reason));
            }
            for (key, child) in object.iter_mut() {
                if key == "withheld" {
                    continue;
                }
                let escaped = key.replace('~', "~0").replace('/', "~1");
                mark(
                    child,
                    format!("{pointer}/{escaped}"),
                    reporters,
                    asking,
                    withheld,
                );
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                mark(item, format!("{pointer}/{i}"), reporters, asking, withheld);
            }
        }
        _ => {}
    }
}
