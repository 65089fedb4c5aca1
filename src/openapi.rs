//! The published OpenAPI document: poem-openapi's output, finished for the NL GOV API Design
//! Rules and for generated clients.
//!
//! poem-openapi upper-cases header names (`API-VERSION`) and has no response-level examples; the
//! finishing pass restores the canonical header names and adds a problem example to every error
//! response. The result is deterministic, committed in `openapi/`, and checked for drift.

use std::sync::OnceLock;

use serde_json::{Map, Value, json};

use crate::{error::PROBLEM_CONTENT_TYPE, problems::ProblemKind};
use ProblemKind as K;

/// The finished document.
pub fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| finish(&crate::api::service().spec()))
}

/// The path parameter names of an operation, in path order (`/a/{id}/b/{bId}` → id, bId).
pub fn path_parameters(operation_id: &str) -> Option<Vec<String>> {
    static INDEX: OnceLock<std::collections::HashMap<String, Vec<String>>> = OnceLock::new();
    let index = INDEX.get_or_init(|| {
        let mut index = std::collections::HashMap::new();
        let paths = document()["paths"].as_object().cloned().unwrap_or_default();
        for (path, item) in paths {
            let names: Vec<String> = path
                .split('/')
                .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
                .map(str::to_owned)
                .collect();
            for operation in item.as_object().into_iter().flat_map(|o| o.values()) {
                if let Some(id) = operation["operationId"].as_str() {
                    index.insert(id.to_owned(), names.clone());
                }
            }
        }
        index
    });
    index.get(operation_id).cloned()
}

pub fn json() -> String {
    let mut text = serde_json::to_string_pretty(document()).unwrap_or_default();
    text.push('\n');
    text
}

pub fn yaml() -> String {
    serde_yaml::to_string(document()).unwrap_or_default()
}

/// Swagger UI with the finished document embedded.
pub fn swagger_ui_html() -> String {
    let service = crate::api::service();
    service.swagger_ui_html().replace(
        &service.spec(),
        &serde_json::to_string(document()).unwrap_or_default(),
    )
}

fn finish(raw: &str) -> Value {
    let mut doc: Value = serde_json::from_str(raw).unwrap_or_else(|_| json!({}));
    rename_schemas(&mut doc);
    add_union_examples(&mut doc);
    finish_schemas(&mut doc);
    add_idempotency_components(&mut doc);
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            let Some(operations) = item.as_object_mut() else {
                continue;
            };
            for (method, operation) in operations.iter_mut() {
                if method == "post" {
                    add_idempotency(operation);
                }
                if path.contains('{') {
                    add_not_found(operation);
                }
                if let Some(params) = operation
                    .get_mut("parameters")
                    .and_then(Value::as_array_mut)
                {
                    for param in params {
                        if param.get("in") == Some(&json!("header"))
                            && let Some(Value::String(name)) = param.get_mut("name")
                        {
                            *name = canonical_header(name);
                        }
                    }
                }
                let operation_id = operation["operationId"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                let Some(responses) = operation
                    .get_mut("responses")
                    .and_then(Value::as_object_mut)
                else {
                    continue;
                };
                for (status, response) in responses.iter_mut() {
                    finish_response(path, status, response);
                }
                let mut refusals: Vec<ProblemKind> = REFUSALS
                    .iter()
                    .find(|(id, _)| *id == operation_id)
                    .map(|(_, kinds)| kinds.to_vec())
                    .unwrap_or_default();
                if method == "post" {
                    refusals.push(ProblemKind::IdempotencyKeyReused);
                }
                if refusals.is_empty() {
                    // No rule of this operation refuses with 422.
                    responses.remove("422");
                } else if let Some(response) = responses.get_mut("422") {
                    add_refusal_examples(path, response, &refusals);
                }
            }
        }
    }
    doc
}

/// The `Idempotency-Key` parameter and `Idempotent-Replayed` header, defined once.
fn add_idempotency_components(doc: &mut Value) {
    let Some(components) = doc.get_mut("components").and_then(Value::as_object_mut) else {
        return;
    };
    if let Some(parameters) = components
        .entry("parameters")
        .or_insert_with(|| json!({}))
        .as_object_mut()
    {
        parameters.insert(
            "IdempotencyKey".into(),
            json!({
                "name": "Idempotency-Key",
                "in": "header",
                "required": false,
                "description": "Makes a retry safe, exactly once: the same key from the same principal (organisation, professional, roles and acting client) with the same request replays the first response (with `Idempotent-Replayed: true`) instead of doing it again; with another request, 422 `idempotency-key-reused`; while the first is still running, duplicates wait, then 409 `idempotency-key-in-progress`. The outcome is stored in the transaction of the write, so a crash leaves either nothing (the retry runs) or the write and its key (the retry replays). Only settled outcomes are replayed (2xx, 404, 422): after 400, 409, 412 or 5xx (a 503 included) the same key runs again. Use a new random key (e.g. a UUID) per intended change. Kept 24 hours.",
                "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                "example": "5f0c7d1e-3b9a-4c1e-9f2a-7d8e6b5a4c3d"
            }),
        );
    }
    if let Some(headers) = components
        .entry("headers")
        .or_insert_with(|| json!({}))
        .as_object_mut()
    {
        headers.insert(
            "IdempotentReplayed".into(),
            json!({
                "description": "`true` when this is the stored response to an earlier request with the same `Idempotency-Key`.",
                "schema": {"type": "boolean"}
            }),
        );
    }
}

/// Every POST honours `Idempotency-Key` (the `idempotency` middleware); say so on each.
fn add_idempotency(operation: &mut Value) {
    let Some(object) = operation.as_object_mut() else {
        return;
    };
    let params = object.entry("parameters").or_insert_with(|| json!([]));
    if let Some(params) = params.as_array_mut() {
        params.push(json!({"$ref": "#/components/parameters/IdempotencyKey"}));
    }
    let Some(responses) = object.get_mut("responses").and_then(Value::as_object_mut) else {
        return;
    };
    for (status, response) in responses.iter_mut() {
        if !status.starts_with('2') {
            continue;
        }
        if let Some(response) = response.as_object_mut() {
            let headers = response.entry("headers").or_insert_with(|| json!({}));
            if let Some(headers) = headers.as_object_mut() {
                headers.insert(
                    "Idempotent-Replayed".into(),
                    json!({"$ref": "#/components/headers/IdempotentReplayed"}),
                );
            }
        }
    }
}

/// poem-openapi names the variants of a union `Union_Variant`; schema names are UpperCamelCase.
fn rename_schemas(doc: &mut Value) {
    let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    let renames: Vec<(String, String)> = schemas
        .keys()
        .filter(|name| name.contains('_'))
        .map(|name| (name.clone(), name.replace('_', "")))
        .collect();
    for (old, new) in &renames {
        if let Some(schema) = schemas.remove(old) {
            schemas.insert(new.clone(), schema);
        }
    }
    let references: Vec<(String, String)> = renames
        .into_iter()
        .map(|(old, new)| {
            (
                format!("#/components/schemas/{old}"),
                format!("#/components/schemas/{new}"),
            )
        })
        .collect();
    replace_strings(doc, &references);
}

fn replace_strings(value: &mut Value, replacements: &[(String, String)]) {
    match value {
        Value::String(text) => {
            if let Some((_, new)) = replacements.iter().find(|(old, _)| old == text) {
                *text = new.clone();
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| replace_strings(item, replacements)),
        Value::Object(map) => map
            .values_mut()
            .for_each(|item| replace_strings(item, replacements)),
        _ => {}
    }
}

/// poem-openapi has no examples for unions; these are the ones integrators see.
fn add_union_examples(doc: &mut Value) {
    let examples = [
        (
            "RecordStep",
            json!({
                "step": "weighing",
                "answers": {
                    "suspicion": {"answer": "yes", "note": "Meerdere uitspraken van het kind, bevestigd door moeder."},
                    "unsafety": {"answer": "yes", "note": "Structureel: al maanden geweld thuis."}
                }
            }),
        ),
        (
            "CaseStep",
            json!({
                "step": "consultation",
                "id": "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
                "recordedAt": "2026-11-22T10:00:00Z",
                "recordedBy": {"sub": "ib-fatima", "name": "Fatima El Amrani"},
                "kind": "veilig_thuis_advice",
                "consultedRole": "adviseur Veilig Thuis",
                "consultedOrganisation": "Veilig Thuis Amsterdam-Amstelland",
                "consultedAt": "2026-11-21T14:00:00Z",
                "advice": "Bespreek de zorgen met moeder; bij twijfel over veiligheid: melden."
            }),
        ),
    ];
    for (name, example) in examples {
        if let Some(schema) = doc
            .pointer_mut(&format!("/components/schemas/{name}"))
            .and_then(Value::as_object_mut)
        {
            schema.insert("example".into(), example);
        }
    }
}

fn finish_response(path: &str, status: &str, response: &mut Value) {
    if let Some(headers) = response.get_mut("headers").and_then(Value::as_object_mut) {
        let renamed: Map<String, Value> = std::mem::take(headers)
            .into_iter()
            .map(|(name, header)| (canonical_header(&name), header))
            .collect();
        *headers = renamed;
    }
    // Headers the envelope adds to some errors.
    let extra = match status {
        "401" => Some((
            "WWW-Authenticate",
            json!({"description": "`Bearer realm=\"schakel\"`: how to authenticate.", "schema": {"type": "string"}}),
        )),
        "503" => Some((
            "Retry-After",
            json!({"description": "Seconds to wait before retrying.", "schema": {"type": "integer"}}),
        )),
        _ => None,
    };
    if let (Some((name, header)), Some(headers)) = (
        extra,
        response.get_mut("headers").and_then(Value::as_object_mut),
    ) {
        headers.insert(name.to_owned(), header);
    }
    // A printable document or a spreadsheet is shown by its opening.
    let documents: [(&str, Value); 2] = if path == "/figures" {
        [
            (
                "text/html",
                json!(
                    "<!DOCTYPE html><html lang=\"nl\"><head><meta charset=\"utf-8\"><title>Cijfers Basisschool De Regenboog — 2026-Q3</title>…"
                ),
            ),
            (
                "text/csv",
                json!(
                    "period,group,label,reports_sent,reports_received,…\n2026-Q3,2026-07,2026-07,14,<5,…\n"
                ),
            ),
        ]
    } else {
        [
            (
                "text/html",
                json!(
                    "<!DOCTYPE html><html lang=\"nl\"><head><meta charset=\"utf-8\"><title>Inzage in gegevens — Noah de Boer</title>…"
                ),
            ),
            ("text/csv", Value::Null),
        ]
    };
    for (kind, example) in documents {
        if let Some(schema) = response
            .get_mut("content")
            .and_then(Value::as_object_mut)
            .and_then(|c| c.iter_mut().find(|(media, _)| media.starts_with(kind)))
            .and_then(|(_, m)| m.get_mut("schema"))
            .and_then(Value::as_object_mut)
        {
            schema.entry("example").or_insert(example);
        }
    }
    let Some(media) = response
        .get_mut("content")
        .and_then(|c| c.get_mut(PROBLEM_CONTENT_TYPE))
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    let code: u16 = status.parse().unwrap_or(500);
    media.insert("example".into(), problem_example(path, code));
}

/// What poem-openapi cannot say from the types:
/// - a property documented to take `null` (``"`null` removes it"``, ``"`null` on the last
///   page"``) is `nullable`, so generated clients can send and receive it;
/// - chrono's dates are `format: date` (poem-openapi writes `naive-date`, no OpenAPI format);
/// - the problem schema lists the extension members refusals carry.
fn finish_schemas(doc: &mut Value) {
    rename_formats(doc);
    let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    for schema in schemas.values_mut() {
        let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) else {
            continue;
        };
        for property in properties.values_mut() {
            let documents_null = property
                .get("description")
                .and_then(Value::as_str)
                .is_some_and(|d| d.contains("`null`"));
            if let (true, Some(property)) = (documents_null, property.as_object_mut()) {
                property.insert("nullable".into(), Value::Bool(true));
                // OpenAPI 3.0 ignores `nullable` without a `type` (e.g. beside `allOf`).
                if !property.contains_key("type") {
                    property.insert("type".into(), json!("object"));
                }
            }
        }
    }
    if let Some(properties) = schemas
        .get_mut("Problem")
        .and_then(|p| p.get_mut("properties"))
        .and_then(Value::as_object_mut)
    {
        for (name, schema) in problem_extensions() {
            properties.insert(name.into(), schema);
        }
    }
}

/// Extension members of problems, by the refusals that carry them.
fn problem_extensions() -> [(&'static str, Value); 10] {
    let codes = |description: &str| json!({"type": "array", "items": {"type": "string"}, "description": description});
    let ids = |description: &str| json!({"type": "array", "items": {"type": "string", "format": "uuid"}, "description": description});
    let text = |description: &str| json!({"type": "string", "description": description});
    [
        (
            "existingId",
            json!({"type": "string", "format": "uuid", "description": "`duplicate-external-ref`, `case-already-open`: the record that already exists."}),
        ),
        (
            "question",
            text(
                "`report-required`, `decision-not-allowed`, `weighing-incomplete`: the afwegingsvraag concerned (`suspicion`, `unsafety`, `help_possible`, `help_accepted`, `lasting_safety`).",
            ),
        ),
        (
            "answer",
            text(
                "`report-required`, `decision-not-allowed`: the answer given to that question (`yes`, `no`, `doubt`).",
            ),
        ),
        (
            "allowedDecisions",
            codes("`decision-not-allowed`: the decisions the weighing allows."),
        ),
        (
            "missingSteps",
            codes("`step-out-of-order`, `decision-required`: the meldcode steps still to record."),
        ),
        (
            "signalIds",
            ids("`unknown-signal`: the ids that are not signals of this child."),
        ),
        (
            "guardianIds",
            ids("The guardians concerned (consent refusals)."),
        ),
        (
            "handoffStatus",
            text("`invalid-transition`, `report-not-sent`: the handoff's current status."),
        ),
        (
            "consentStatus",
            text("Consent refusals: the consent's current status."),
        ),
        (
            "missing",
            text(
                "`consent-required`: what is missing: `no_consent`, `consent_not_active` or `category_not_in_scope`.",
            ),
        ),
    ]
}

/// `naive-date` → `date`, wherever a schema names it.
fn rename_formats(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.get("format").and_then(Value::as_str) == Some("naive-date") {
                map.insert("format".into(), json!("date"));
            }
            map.values_mut().for_each(rename_formats);
        }
        Value::Array(items) => items.iter_mut().for_each(rename_formats),
        _ => {}
    }
}

/// Every operation on a path with an id can answer 404: the id, or its parent, does not exist
/// for the caller.
fn add_not_found(operation: &mut Value) {
    let Some(responses) = operation
        .get_mut("responses")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    if responses.contains_key("404") {
        return;
    }
    let Some(template) = responses
        .iter()
        .find(|(status, _)| status.starts_with('4'))
        .map(|(_, response)| response.clone())
    else {
        return;
    };
    let mut not_found = template;
    not_found["description"] = json!(crate::api::problem::describe(404));
    responses.insert("404".into(), not_found);
    let mut sorted: Vec<(String, Value)> = std::mem::take(responses).into_iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    responses.extend(sorted);
}

/// The domain refusals (422) each operation can answer, beyond `idempotency-key-reused` on every
/// POST: the examples a client branches on.
const REFUSALS: &[(&str, &[ProblemKind])] = &[
    ("openCase", &[K::UnknownSignal]),
    (
        "recordCaseStep",
        &[
            K::DecisionNotAllowed,
            K::InvalidCorrection,
            K::ReportRequired,
            K::StepOutOfOrder,
            K::UnknownSignal,
            K::WeighingIncomplete,
        ],
    ),
    ("closeCase", &[K::DecisionRequired, K::ReportNotSent]),
    (
        "createConsent",
        &[K::UnknownChild, K::UnknownHandoff, K::UnknownRecipient],
    ),
    (
        "recordConsentDecision",
        &[
            K::NoConsentingParty,
            K::NotARequiredParty,
            K::ParentalAuthorityUnknown,
        ],
    ),
    ("withdrawConsent", &[K::NotARequiredParty]),
    (
        "createDestructionRequest",
        &[
            K::ParentalAuthorityUnknown,
            K::RequesterNotEntitled,
            K::UnknownRecord,
        ],
    ),
    ("extendDestructionRequest", &[K::ExtensionNotAllowed]),
    (
        "decideDestructionRequest",
        &[K::HearingRequired, K::UnknownRecord],
    ),
    ("sendFeedback", &[K::ConsentRequired]),
    (
        "sendHandoff",
        &[
            K::ConsentRequired,
            K::RecipientInactive,
            K::ReportNotDecided,
            K::RouteNotAllowed,
            K::UnknownCase,
            K::UnknownChild,
            K::UnknownRecipient,
            K::UnknownRequest,
            K::UnknownSignal,
        ],
    ),
    ("takeInHandoffChild", &[K::NoChild]),
    (
        "forwardHandoff",
        &[
            K::ForwardingNotAllowed,
            K::RecipientInactive,
            K::UnknownRecipient,
        ],
    ),
    (
        "proposePartnerLink",
        &[
            K::NotASchool,
            K::PartnerRoleMismatch,
            K::RecipientInactive,
            K::UnknownRecipient,
        ],
    ),
    ("createKernteam", &[K::NotASchool]),
    ("addKernteamMember", &[K::NotAPartner, K::UnknownRecipient]),
    (
        "scheduleKernteamMeeting",
        &[
            K::ConsentRequired,
            K::NotAPartner,
            K::NotAnonymous,
            K::UnknownChild,
            K::UnknownRecipient,
        ],
    ),
    (
        "presentKernteamItem",
        &[K::ConsentRequired, K::NotAnonymous, K::UnknownChild],
    ),
    ("recordKernteamPerspective", &[K::NotAnonymous]),
    ("recordKernteamAdvice", &[K::NotAnonymous]),
    ("agreeKernteamAction", &[K::NotAPartner, K::NotAnonymous]),
    ("createOrganisation", &[K::PlatformOrganisation]),
    ("updateOrganisation", &[K::PlatformOrganisation]),
    ("proposeCaseReview", &[K::NotAClosedReport]),
    ("writeCaseReviewReflections", &[K::NotAnonymous]),
    ("releaseCaseReviewPart", &[K::ReflectionsRequired]),
];

/// The methods the document allows on a request path (for `Allow` on a 405).
pub fn allowed_methods(request_path: &str) -> Option<String> {
    let relative = request_path.strip_prefix("/v1")?;
    let segments: Vec<&str> = relative.split('/').collect();
    let paths = document()["paths"].as_object()?;
    // The most specific template wins, as in routing: `/handoffs/overdue` before `/handoffs/{id}`.
    let (_, item) = paths
        .iter()
        .filter_map(|(template, item)| {
            let parts: Vec<&str> = template.split('/').collect();
            let matches = parts.len() == segments.len()
                && parts
                    .iter()
                    .zip(&segments)
                    .all(|(part, segment)| part.starts_with('{') || part == segment);
            let literal = parts.iter().filter(|p| !p.starts_with('{')).count();
            matches.then_some((literal, item))
        })
        .max_by_key(|(literal, _)| *literal)?;
    let methods: Vec<String> = item
        .as_object()?
        .keys()
        .map(|m| m.to_ascii_uppercase())
        .collect();
    Some(methods.join(", "))
}

/// The 422 response of an operation: the rules that refuse it, each with an example problem.
fn add_refusal_examples(path: &str, response: &mut Value, refusals: &[ProblemKind]) {
    let list = refusals
        .iter()
        .map(|kind| format!("`{kind}`"))
        .collect::<Vec<_>>()
        .join(", ");
    response["description"] = json!(format!(
        "Well-formed, but a rule refuses it; `type` says which: {list}."
    ));
    let Some(media) = response
        .get_mut("content")
        .and_then(|c| c.get_mut(PROBLEM_CONTENT_TYPE))
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    media.remove("example");
    let examples: Map<String, Value> = refusals
        .iter()
        .map(|kind| {
            let mut value = problem_example(path, 422);
            value["type"] = json!(format!("{}{kind}", crate::error::PROBLEM_TYPE_BASE));
            value["title"] = json!(kind.title());
            value["detail"] = json!(format!(
                "Refused by the rule `{kind}`; `detail` explains what is missing."
            ));
            (
                kind.to_string(),
                json!({"summary": kind.slug(), "value": value}),
            )
        })
        .collect();
    media.insert("examples".into(), Value::Object(examples));
}

/// `API-VERSION` → `API-Version`, `ETAG` → `ETag`, `IF-NONE-MATCH` → `If-None-Match`.
fn canonical_header(name: &str) -> String {
    match name.to_ascii_lowercase().as_str() {
        "api-version" => "API-Version".into(),
        "etag" => "ETag".into(),
        "x-request-id" => "X-Request-Id".into(),
        "www-authenticate" => "WWW-Authenticate".into(),
        // W3C Trace Context spells its headers in lower case.
        "traceparent" => "traceparent".into(),
        lower => lower
            .split('-')
            .map(|word| {
                let mut chars = word.chars();
                match chars.next() {
                    Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                    None => String::new(),
                }
            })
            .collect::<Vec<_>>()
            .join("-"),
    }
}

fn problem_example(path: &str, status: u16) -> Value {
    let (kind, detail) = match status {
        400 => (K::InvalidInput, "`name` must satisfy maxLength(200)"),
        401 => (K::Unauthorized, "the token has expired"),
        403 => (
            K::Forbidden,
            "managing organisations requires the role platform_admin",
        ),
        404 => (
            K::NotFound,
            "No resource exists at this address, or you may not see it.",
        ),
        409 => (K::Conflict, "A record with these values already exists."),
        412 => (
            K::PreconditionFailed,
            "The resource changed since you read it (If-Match does not match its ETag). Read it again and retry.",
        ),
        413 => (
            K::PayloadTooLarge,
            "The request body exceeds the limit of 262144 bytes.",
        ),
        415 => (
            K::UnsupportedMediaType,
            "Content-Type \"text/plain\" is not supported; send application/json.",
        ),
        422 => (
            K::UnprocessableContent,
            "A rule of the domain refuses this request; `type` names the rule.",
        ),
        503 => (
            K::ServiceUnavailable,
            "The database is not reachable right now; retry shortly.",
        ),
        _ => (
            K::InternalError,
            "Something went wrong on our side. It has been logged; quote the X-Request-Id header when you report it.",
        ),
    };
    let instance = format!(
        "/v1{}",
        path.replace("{id}", "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")
    );
    let mut example = json!({
        "type": format!("{}{kind}", crate::error::PROBLEM_TYPE_BASE),
        "title": kind.title(),
        "status": status,
        "detail": detail,
        "instance": instance,
    });
    if status == 400 {
        example["invalidParams"] =
            json!([{"name": "name", "reason": "must satisfy maxLength(200)"}]);
    }
    example
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowed_methods_follow_the_most_specific_path() {
        assert_eq!(
            allowed_methods("/v1/children").as_deref(),
            Some("GET, POST")
        );
        assert_eq!(
            allowed_methods("/v1/handoffs/0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b/acknowledgement")
                .as_deref(),
            Some("POST")
        );
        assert_eq!(allowed_methods("/v1/nothing/here"), None);
    }

    #[test]
    fn header_names_are_canonical() {
        assert_eq!(canonical_header("API-VERSION"), "API-Version");
        assert_eq!(canonical_header("ETAG"), "ETag");
        assert_eq!(canonical_header("IF-NONE-MATCH"), "If-None-Match");
        assert_eq!(canonical_header("RETRY-AFTER"), "Retry-After");
        assert_eq!(canonical_header("X-REQUEST-ID"), "X-Request-Id");
        assert_eq!(canonical_header("TRACEPARENT"), "traceparent");
    }
}
