//! The HTTP envelope around every request: request id, `API-Version`, problem+json for every
//! error (the framework's own included), the body size limit, and one structured log line per
//! request — with ids, method, route, status and latency, never a path's free text or a body.

use std::{sync::Arc, time::Instant};

use poem::{
    Endpoint, IntoResponse, Middleware, PathPattern, Request, Response,
    error::{MethodNotAllowedError, NotFoundError, ReadBodyError},
    http::{HeaderName, HeaderValue, StatusCode, header},
};
use poem_openapi::{
    OperationId,
    error::{
        AuthorizationError, ContentTypeError, ParseParamError, ParsePathError,
        ParseRequestPayloadError,
    },
};
use tracing::Instrument;
use uuid::Uuid;

use crate::{
    api::API_VERSION,
    audit::RequestMeta,
    auth::Caller,
    error::{AppError, PROBLEM_CONTENT_TYPE},
    problems::ProblemKind,
    ratelimit::{self, DecisionSlot, RateLimits},
};

/// The full semantic version of the API, sent as `API-Version` on every response.
pub static API_VERSION_HEADER: HeaderName = HeaderName::from_static("api-version");
pub static REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");
pub static TRACEPARENT_HEADER: HeaderName = HeaderName::from_static("traceparent");
/// IETF draft `draft-ietf-httpapi-ratelimit-headers`: the quota policy and its current state.
pub static RATELIMIT_POLICY_HEADER: HeaderName = HeaderName::from_static("ratelimit-policy");
pub static RATELIMIT_HEADER: HeaderName = HeaderName::from_static("ratelimit");

/// W3C Trace Context: the trace a request belongs to, kept from a valid `traceparent` or begun
/// here, and this service's span in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceContext {
    pub trace_id: String,
    pub span_id: String,
    pub flags: String,
}

impl TraceContext {
    /// Continues the caller's trace when `traceparent` is valid (version 00, lowercase hex, ids
    /// not all zero); otherwise starts a new one. A malformed header is ignored, never refused.
    pub fn continue_or_start(traceparent: Option<&str>) -> Self {
        let span_id = Uuid::new_v4().simple().to_string()[..16].to_owned();
        let hex = |s: &str, len: usize| {
            s.len() == len
                && s.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
                && s.bytes().any(|b| b != b'0')
        };
        if let Some(value) = traceparent {
            let parts: Vec<&str> = value.trim().split('-').collect();
            if let [version, trace_id, parent_id, flags] = parts[..]
                && version == "00"
                && hex(trace_id, 32)
                && hex(parent_id, 16)
                && flags.len() == 2
                && flags.bytes().all(|b| b.is_ascii_hexdigit())
            {
                return Self {
                    trace_id: trace_id.to_owned(),
                    span_id,
                    flags: flags.to_ascii_lowercase(),
                };
            }
        }
        Self {
            trace_id: Uuid::new_v4().simple().to_string(),
            span_id,
            flags: "00".to_owned(),
        }
    }

    pub fn traceparent(&self) -> String {
        format!("00-{}-{}-{}", self.trace_id, self.span_id, self.flags)
    }
}

/// A client-supplied request id is echoed when it is short and plain; otherwise one is made.
fn acceptable_request_id(value: &str) -> bool {
    (1..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

pub struct Envelope {
    /// Request heads (line and headers) above this are refused with a 431 problem.
    pub max_header_bytes: usize,
    pub rate_limits: Arc<RateLimits>,
}

impl<E: Endpoint> Middleware<E> for Envelope {
    type Output = EnvelopeEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        EnvelopeEndpoint {
            inner,
            max_header_bytes: self.max_header_bytes,
            rate_limits: self.rate_limits.clone(),
        }
    }
}

pub struct EnvelopeEndpoint<E> {
    inner: E,
    max_header_bytes: usize,
    rate_limits: Arc<RateLimits>,
}

impl<E: Endpoint> Endpoint for EnvelopeEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        let request_id = req
            .headers()
            .get(&REQUEST_ID_HEADER)
            .and_then(|v| v.to_str().ok())
            .filter(|v| acceptable_request_id(v))
            .map(str::to_owned)
            .unwrap_or_else(|| Uuid::new_v4().to_string());
        let client_address = req
            .remote_addr()
            .as_socket_addr()
            .map(|a| a.ip().to_string());
        let trace = TraceContext::continue_or_start(
            req.headers()
                .get(&TRACEPARENT_HEADER)
                .and_then(|v| v.to_str().ok()),
        );
        req.extensions_mut().insert(
            RequestMeta::new(request_id.clone(), client_address).with_trace(&trace.trace_id),
        );
        let caller = Caller::default();
        req.extensions_mut().insert(caller.clone());
        let method = req.method().clone();
        let instance = req.uri().path().to_owned();
        let started = Instant::now();
        let span = tracing::info_span!(
            "request",
            request_id = %request_id,
            trace_id = %trace.trace_id,
            %method
        );

        let decision = DecisionSlot::for_request(req.method(), req.uri().path());
        req.extensions_mut().insert(decision.clone());
        let refusal = self
            .spend_anonymous(&req)
            .or_else(|| oversized_head(&req, self.max_header_bytes))
            .or_else(|| nul_character_in(req.uri()));
        let result = match refusal {
            Some(refusal) => Err(refusal.into()),
            None => self
                .inner
                .call(req)
                .instrument(span.clone())
                .await
                .map(IntoResponse::into_response),
        };
        let mut resp = {
            let _entered = span.enter();
            render(result, &instance)
        };
        let route = resp.data::<PathPattern>().map(|p| p.0.to_string());
        let operation_id = resp.data::<OperationId>().map(|o| o.0);

        let headers = resp.headers_mut();
        headers.insert(
            API_VERSION_HEADER.clone(),
            HeaderValue::from_static(API_VERSION),
        );
        if let Ok(value) = HeaderValue::from_str(&request_id) {
            headers.insert(REQUEST_ID_HEADER.clone(), value);
        }
        if let Ok(value) = HeaderValue::from_str(&trace.traceparent()) {
            headers.insert(TRACEPARENT_HEADER.clone(), value);
        }
        if let Some(decision) = decision.get() {
            headers.insert(RATELIMIT_POLICY_HEADER.clone(), decision.policy_header());
            headers.insert(RATELIMIT_HEADER.clone(), decision.state_header());
        }

        let status = resp.status().as_u16();
        let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
        let route = route.as_deref().unwrap_or("(unmatched)");
        let operation = operation_id.unwrap_or("-");
        // Who called (a professional's id and organisation, never a child's data).
        let principal = caller.get();
        let actor = principal.as_ref().map_or("-", |p| p.sub.as_str());
        let organisation = principal.as_ref().map(|p| p.org_id().to_string());
        let organisation = organisation.as_deref().unwrap_or("-");
        let _entered = span.enter();
        if status >= 500 {
            tracing::error!(
                route,
                operation,
                status,
                latency_ms,
                actor,
                organisation,
                "request completed"
            );
        } else {
            tracing::info!(
                route,
                operation,
                status,
                latency_ms,
                actor,
                organisation,
                "request completed"
            );
        }
        Ok(resp)
    }
}

impl<E> EnvelopeEndpoint<E> {
    /// A request without a bearer token spends its client address's budget before any work is
    /// done (one with a bearer token spends its principal's budget once the token is checked,
    /// or its address's when the token is not valid).
    fn spend_anonymous(&self, req: &Request) -> Option<AppError> {
        let limited = req
            .extensions()
            .get::<DecisionSlot>()
            .is_some_and(|slot| slot.budget().is_some());
        let bearer = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.get(..7))
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("bearer "));
        if !limited || bearer {
            return None;
        }
        let address = req.remote_addr().as_socket_addr()?.ip();
        ratelimit::spend(req, self.rate_limits.check_address(address)).err()
    }
}

/// A request head over the limit, measured as on the wire (request line, `name: value\r\n`).
fn oversized_head(req: &Request, max_bytes: usize) -> Option<AppError> {
    let line = req.method().as_str().len() + req.uri().to_string().len() + 11;
    let headers: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    (line + headers > max_bytes).then(|| {
        AppError::new(
            ProblemKind::HeaderFieldsTooLarge,
            format!("the request line and headers may take at most {max_bytes} bytes"),
        )
    })
}

/// A NUL character in the path or a query parameter, refused before it can reach PostgreSQL
/// (which cannot store one in text) — naming the parameter.
fn nul_character_in(uri: &poem::http::Uri) -> Option<AppError> {
    const REASON: &str = "must not contain a NUL character (%00)";
    if let Some(query) = uri.query()
        && let Some((name, _)) = form_urlencoded::parse(query.as_bytes())
            .find(|(name, value)| name.contains('\0') || value.contains('\0'))
    {
        return Some(AppError::invalid_param(name.replace('\0', "%00"), REASON));
    }
    let path = uri.path();
    if path.contains("%00") || path.contains('\0') {
        return Some(AppError::invalid_param("(path)", REASON));
    }
    None
}

/// The response to send for a handler's result: errors — ours and the framework's — become
/// problem+json (server errors logged with their cause); the matched route and operation stay
/// attached for the request log.
pub fn render(result: poem::Result<Response>, instance: &str) -> Response {
    match result {
        Ok(resp) => ensure_problem(resp, instance),
        Err(err) => {
            let route = err.data::<PathPattern>().cloned();
            let operation = err.data::<OperationId>().cloned();
            let framework_problem;
            let problem = match err.downcast_ref::<AppError>() {
                Some(app) => app,
                None => {
                    framework_problem = problem_from(&err, operation.as_ref().map(|o| o.0));
                    &framework_problem
                }
            };
            if problem.status.is_server_error() {
                tracing::error!(
                    kind = problem.kind.slug(),
                    cause = problem.source_message().unwrap_or_else(|| err.to_string()),
                    "request failed"
                );
            }
            let mut resp = problem.to_response(Some(instance));
            if problem.status == StatusCode::METHOD_NOT_ALLOWED {
                // RFC 9110: a 405 says which methods the resource has.
                let allowed =
                    crate::openapi::allowed_methods(instance).unwrap_or_else(|| "GET".into());
                if let Ok(value) = HeaderValue::from_str(&allowed) {
                    resp.headers_mut().insert(header::ALLOW, value);
                }
            }
            if let Some(route) = route {
                resp.set_data(route);
            }
            if let Some(operation) = operation {
                resp.set_data(operation);
            }
            resp
        }
    }
}

/// Maps an error of the framework to a problem.
fn problem_from(err: &poem::Error, operation: Option<&str>) -> AppError {
    if err.is::<NotFoundError>() {
        return AppError::not_found();
    }
    if err.is::<MethodNotAllowedError>() {
        return AppError::new(
            ProblemKind::MethodNotAllowed,
            "This resource does not support this HTTP method; see /v1/openapi.json.",
        );
    }
    if err.is::<AuthorizationError>() {
        return AppError::unauthorized(
            "A bearer token is required: send `Authorization: Bearer <JWT>`.",
        );
    }
    if let Some(err) = err.downcast_ref::<ContentTypeError>() {
        let detail = match err {
            ContentTypeError::ExpectContentType => {
                "The request has a body but no Content-Type; send application/json.".to_owned()
            }
            ContentTypeError::NotSupported { content_type } => {
                format!("Content-Type {content_type:?} is not supported; send application/json.")
            }
        };
        return AppError::new(ProblemKind::UnsupportedMediaType, detail);
    }
    if let Some(err) = err.downcast_ref::<ParseParamError>() {
        return AppError::invalid_param(err.name, err.reason.clone());
    }
    if let Some(err) = err.downcast_ref::<ParsePathError>() {
        let reason = if err.reason.contains("uuid") {
            "must be a UUID".to_owned()
        } else {
            err.reason.clone()
        };
        return AppError::invalid_param(path_param_name(err.name, operation), reason);
    }
    if let Some(err) = err.downcast_ref::<ParseRequestPayloadError>() {
        return AppError::new(ProblemKind::InvalidInput, err.reason.clone());
    }
    if let Some(ReadBodyError::PayloadTooLarge) = err.downcast_ref::<ReadBodyError>() {
        return AppError::new(
            ProblemKind::PayloadTooLarge,
            "The request body is too large.",
        );
    }
    let status = err.status();
    if status.is_server_error() {
        return AppError::internal(err.to_string());
    }
    generic_problem(status)
}

/// poem-openapi names path parameters `param0`, `param1`… in path order; the client knows
/// them by the names in the published path template of the operation.
fn path_param_name(internal: &str, operation: Option<&str>) -> String {
    let index = internal
        .strip_prefix("param")
        .and_then(|n| n.parse::<usize>().ok());
    let (Some(index), Some(operation)) = (index, operation) else {
        return internal.to_owned();
    };
    crate::openapi::path_parameters(operation)
        .and_then(|names| names.get(index).cloned())
        .unwrap_or_else(|| internal.to_owned())
}

/// A problem for a bare status code.
fn generic_problem(status: StatusCode) -> AppError {
    let kind = match status.as_u16() {
        400 => ProblemKind::BadRequest,
        401 => ProblemKind::Unauthorized,
        403 => ProblemKind::Forbidden,
        404 => return AppError::not_found(),
        405 => ProblemKind::MethodNotAllowed,
        406 => ProblemKind::NotAcceptable,
        409 => ProblemKind::Conflict,
        411 => ProblemKind::LengthRequired,
        412 => ProblemKind::PreconditionFailed,
        413 => ProblemKind::PayloadTooLarge,
        415 => ProblemKind::UnsupportedMediaType,
        422 => ProblemKind::UnprocessableContent,
        408 => ProblemKind::RequestTimeout,
        429 => ProblemKind::TooManyRequests,
        431 => ProblemKind::HeaderFieldsTooLarge,
        503 => return AppError::unavailable("The service is unavailable; retry shortly."),
        s if s >= 500 => return AppError::internal(format!("status {s}")),
        _ => ProblemKind::BadRequest,
    };
    let mut problem = AppError::new(
        kind,
        status.canonical_reason().unwrap_or(kind.title()).to_owned(),
    );
    // A client error without a kind of its own keeps its status.
    problem.status = status;
    problem
}

/// An error status without a problem body (a panic caught, a bare status) gets one.
fn ensure_problem(resp: Response, instance: &str) -> Response {
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let route = resp.data::<PathPattern>().cloned();
    let operation = resp.data::<OperationId>().cloned();
    let is_problem = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with(PROBLEM_CONTENT_TYPE));
    if is_problem {
        return resp;
    }
    if status.is_server_error() {
        tracing::error!(
            status = status.as_u16(),
            "error response without a problem body"
        );
    }
    let mut problem = generic_problem(status).to_response(Some(instance));
    if let Some(route) = route {
        problem.set_data(route);
    }
    if let Some(operation) = operation {
        problem.set_data(operation);
    }
    problem
}

/// Refuses bodies over the limit with 413, whether announced by Content-Length or streamed, and
/// bodies that do not arrive within the read timeout with 408.
pub struct BodyLimit {
    pub max_bytes: usize,
    pub read_timeout: std::time::Duration,
}

impl<E: Endpoint> Middleware<E> for BodyLimit {
    type Output = BodyLimitEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        BodyLimitEndpoint {
            inner,
            max_bytes: self.max_bytes,
            read_timeout: self.read_timeout,
        }
    }
}

pub struct BodyLimitEndpoint<E> {
    inner: E,
    max_bytes: usize,
    read_timeout: std::time::Duration,
}

impl<E: Endpoint> Endpoint for BodyLimitEndpoint<E> {
    type Output = E::Output;

    async fn call(&self, mut req: Request) -> poem::Result<Self::Output> {
        let announced = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if announced.is_some_and(|len| len > self.max_bytes as u64) {
            return Err(AppError::payload_too_large(self.max_bytes).into());
        }
        let body = req.take_body();
        if !body.is_empty() {
            let read =
                tokio::time::timeout(self.read_timeout, body.into_bytes_limit(self.max_bytes));
            let bytes = read
                .await
                .map_err(|_| {
                    AppError::new(
                        ProblemKind::RequestTimeout,
                        format!(
                            "the body did not arrive within {} seconds",
                            self.read_timeout.as_secs()
                        ),
                    )
                })?
                .map_err(|err| match err {
                    ReadBodyError::PayloadTooLarge => AppError::payload_too_large(self.max_bytes),
                    other => AppError::new(ProblemKind::UnreadableBody, other.to_string()),
                })?;
            req.set_body(bytes);
        }
        self.inner.call(req).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_characters_in_the_uri_are_refused_naming_the_parameter() {
        let named = |uri: &str| {
            nul_character_in(&uri.parse().unwrap()).map(|e| e.invalid_params[0].name.clone())
        };
        assert_eq!(
            named("/v1/children?externalRef=a%00b"),
            Some("externalRef".into())
        );
        assert_eq!(named("/v1/events?limit=5&types=%00"), Some("types".into()));
        assert_eq!(named("/v1/children/%00/signals"), Some("(path)".into()));
        assert_eq!(named("/v1/children?externalRef=a%2500b"), None);
        assert_eq!(named("/v1/children?externalRef=ab"), None);
    }

    #[test]
    fn a_valid_traceparent_is_continued_and_anything_else_starts_a_trace() {
        let given = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let continued = TraceContext::continue_or_start(Some(given));
        assert_eq!(continued.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(continued.flags, "01");
        assert_ne!(continued.span_id, "00f067aa0ba902b7", "our own span");
        let traceparent = continued.traceparent();
        assert!(traceparent.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"));
        assert!(traceparent.ends_with("-01"));
        for bad in [
            None,
            Some(""),
            Some("00-00000000000000000000000000000000-00f067aa0ba902b7-01"),
            Some("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"),
            Some("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
            Some("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"),
            Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7"),
            Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra"),
            Some("00-4bf92f3577b34da6a3ce929d0e0e47\u{0}-00f067aa0ba902b7-01"),
        ] {
            let started = TraceContext::continue_or_start(bad);
            assert_ne!(
                started.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736",
                "{bad:?}"
            );
            assert_eq!(started.trace_id.len(), 32);
            assert_eq!(started.span_id.len(), 16);
        }
    }

    #[test]
    fn request_ids_are_echoed_only_when_plain() {
        assert!(acceptable_request_id("3f2b-11ee:abc_1.2"));
        assert!(!acceptable_request_id(""));
        assert!(!acceptable_request_id("Jan Jansen"));
        assert!(!acceptable_request_id(&"a".repeat(129)));
    }
}
