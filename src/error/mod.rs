//! The one error type: every refusal and failure becomes an RFC 9457 problem+json response.
//!
//! Problem `type`s are stable URIs (`https://schakel.nl/problems/<kind>`) that clients branch
//! on. A 404 never says whether a record of another organisation exists: its body is the same as
//! for an id that never existed, apart from `instance`.

use std::fmt;

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use poem::{
    Response,
    error::ResponseError,
    http::{HeaderValue, StatusCode, header},
};
use serde::Serialize;
use serde_json::{Map, Value, json};

pub use crate::problems::ProblemKind;

mod refusal;

pub const PROBLEM_TYPE_BASE: &str = "https://schakel.nl/problems/";
pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// One invalid input: a JSON property path, query parameter or header, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InvalidParam {
    pub name: String,
    pub reason: String,
}

impl InvalidParam {
    pub fn new(name: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            reason: reason.into(),
        }
    }
}

/// The one error type. Boxed, so results stay small on the happy path.
pub struct AppError(Box<ErrorDetails>);

pub struct ErrorDetails {
    pub status: StatusCode,
    /// What kind of problem: its type URI, status and title.
    pub kind: ProblemKind,
    pub detail: String,
    pub invalid_params: Vec<InvalidParam>,
    /// Extension members, e.g. `existingId` on a duplicate.
    pub extensions: Map<String, Value>,
    pub retry_after_secs: Option<u32>,
    /// What went wrong inside, for the log only: never rendered.
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl std::ops::Deref for AppError {
    type Target = ErrorDetails;
    fn deref(&self) -> &ErrorDetails {
        &self.0
    }
}

impl std::ops::DerefMut for AppError {
    fn deref_mut(&mut self) -> &mut ErrorDetails {
        &mut self.0
    }
}

impl AppError {
    pub fn new(kind: ProblemKind, detail: impl Into<String>) -> Self {
        Self(Box::new(ErrorDetails {
            status: kind.status(),
            kind,
            detail: detail.into(),
            invalid_params: Vec::new(),
            extensions: Map::new(),
            retry_after_secs: None,
            source: None,
        }))
    }

    /// Input that does not satisfy the contract; each problem in `invalidParams`.
    pub fn invalid(params: Vec<InvalidParam>) -> Self {
        let detail = match params.as_slice() {
            [one] => format!("`{}` {}", one.name, one.reason),
            _ => format!("{} inputs are invalid; see invalidParams", params.len()),
        };
        Self::new(ProblemKind::InvalidInput, detail).with_invalid_params(params)
    }

    /// Rule violations found by the domain, one `invalidParams` entry each.
    pub fn fields(errors: Vec<crate::domain::FieldError>) -> Self {
        Self::invalid(
            errors
                .into_iter()
                .map(|e| InvalidParam::new(e.field, e.reason))
                .collect(),
        )
    }

    pub fn invalid_param(name: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::invalid(vec![InvalidParam::new(name, reason)])
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(ProblemKind::Unauthorized, detail)
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(ProblemKind::Forbidden, detail)
    }

    /// Not found — or of another organisation, which must look the same.
    pub fn not_found() -> Self {
        Self::new(
            ProblemKind::NotFound,
            "No resource exists at this address, or you may not see it.",
        )
    }

    pub fn precondition_failed() -> Self {
        Self::new(
            ProblemKind::PreconditionFailed,
            "The resource changed since you read it (If-Match does not match its ETag). \
             Read it again and retry.",
        )
    }

    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            ProblemKind::PayloadTooLarge,
            format!("The request body exceeds the limit of {limit} bytes."),
        )
    }

    /// A rate limit refused the request: retry after `retry_after_secs`.
    pub fn too_many_requests(budget: &str, retry_after_secs: u64) -> Self {
        let mut err = Self::new(
            ProblemKind::TooManyRequests,
            format!("The {budget} rate limit is spent; retry after {retry_after_secs} s."),
        );
        err.retry_after_secs = Some(u32::try_from(retry_after_secs).unwrap_or(u32::MAX));
        err
    }

    pub fn unavailable(detail: impl Into<String>) -> Self {
        let mut err = Self::new(ProblemKind::ServiceUnavailable, detail);
        err.retry_after_secs = Some(2);
        err
    }

    /// An unexpected failure: logged with its cause, rendered with a generic detail.
    pub fn internal(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::new(
            ProblemKind::InternalError,
            "Something went wrong on our side. It has been logged; \
             quote the X-Request-Id header when you report it.",
        )
        .with_source(source)
    }

    pub fn with_invalid_params(mut self, params: Vec<InvalidParam>) -> Self {
        self.invalid_params = params;
        self
    }

    pub fn with_extension(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.extensions.insert(name.to_owned(), value.into());
        self
    }

    pub fn with_source(
        mut self,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        self.source = Some(source.into());
        self
    }

    pub fn type_uri(&self) -> String {
        format!("{PROBLEM_TYPE_BASE}{}", self.kind.slug())
    }

    /// The cause to log, if any.
    pub fn source_message(&self) -> Option<String> {
        self.source.as_ref().map(|s| s.to_string())
    }

    pub fn body(&self, instance: Option<&str>) -> Value {
        let mut body = json!({
            "type": self.type_uri(),
            "title": self.kind.title(),
            "status": self.status.as_u16(),
            "detail": self.detail,
        });
        let map = body.as_object_mut().expect("a JSON object literal");
        if let Some(instance) = instance {
            map.insert("instance".into(), Value::String(instance.to_owned()));
        }
        if !self.invalid_params.is_empty() {
            map.insert("invalidParams".into(), json!(self.invalid_params));
        }
        for (key, value) in &self.extensions {
            map.insert(key.clone(), value.clone());
        }
        body
    }

    pub fn to_response(&self, instance: Option<&str>) -> Response {
        let body = serde_json::to_vec(&self.body(instance)).unwrap_or_default();
        let mut resp = Response::builder()
            .status(self.status)
            .content_type(PROBLEM_CONTENT_TYPE)
            .body(body);
        if let Some(secs) = self.retry_after_secs {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"schakel\""),
            );
        }
        resp
    }
}

impl fmt::Debug for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppError")
            .field("status", &self.status.as_u16())
            .field("kind", &self.kind)
            .field("detail", &self.detail)
            .field("source", &self.source_message())
            .finish()
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.kind, self.detail)
    }
}

impl std::error::Error for AppError {}

impl ResponseError for AppError {
    fn status(&self) -> StatusCode {
        self.status
    }

    fn as_response(&self) -> Response {
        self.to_response(None)
    }
}

impl From<DieselError> for AppError {
    fn from(err: DieselError) -> Self {
        match &err {
            DieselError::NotFound => Self::not_found(),
            DieselError::DatabaseError(kind, info) => match kind {
                DatabaseErrorKind::UniqueViolation => Self::new(
                    ProblemKind::Conflict,
                    "A record with these values already exists.",
                ),
                DatabaseErrorKind::SerializationFailure | DatabaseErrorKind::ClosedConnection => {
                    Self::unavailable("The database is busy; retry shortly.").with_source(err)
                }
                _ if info.message().contains("statement timeout") => {
                    Self::unavailable("The database took too long; retry shortly.").with_source(err)
                }
                // No connection (`UnableToSendCommand`), or the server ended it (57P01 admin
                // shutdown, 57P02 crash shutdown, recovery conflicts): the request may be retried.
                DatabaseErrorKind::UnableToSendCommand => {
                    Self::unavailable("The database connection broke; retry shortly.")
                        .with_source(err)
                }
                _ if info.message().starts_with("terminating connection") => {
                    Self::unavailable("The database connection broke; retry shortly.")
                        .with_source(err)
                }
                // A last line of defence: input is checked for NUL characters before it gets
                // here, but text that still holds one is the client's error, not ours.
                _ if info.message().contains("0x00") => Self::new(
                    ProblemKind::InvalidInput,
                    "Text must not contain a NUL character (\\u0000).",
                ),
                _ => Self::internal(err),
            },
            DieselError::BrokenTransactionManager => {
                Self::unavailable("The database connection broke; retry shortly.").with_source(err)
            }
            _ => Self::internal(err),
        }
    }
}

impl From<crate::db::PoolError> for AppError {
    fn from(err: crate::db::PoolError) -> Self {
        Self::unavailable("The database is not reachable right now; retry shortly.")
            .with_source(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_body_has_the_rfc_9457_members() {
        let err = AppError::invalid_param("name", "must not be blank");
        let body = err.body(Some("/v1/organisations"));
        assert_eq!(body["type"], "https://schakel.nl/problems/invalid-input");
        assert_eq!(body["title"], "Bad Request");
        assert_eq!(body["status"], 400);
        assert_eq!(body["detail"], "`name` must not be blank");
        assert_eq!(body["instance"], "/v1/organisations");
        assert_eq!(body["invalidParams"][0]["name"], "name");
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        let err = AppError::internal("relation \"x\" does not exist");
        let body = err.body(None).to_string();
        assert!(!body.contains("relation"), "{body}");
        assert_eq!(
            err.source_message().as_deref(),
            Some("relation \"x\" does not exist")
        );
    }

    #[test]
    fn diesel_errors_map_to_statuses() {
        assert_eq!(
            AppError::from(DieselError::NotFound).status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            AppError::from(DieselError::BrokenTransactionManager).status,
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(
            AppError::from(DieselError::RollbackTransaction).status,
            StatusCode::INTERNAL_SERVER_ERROR
        );
        let db_error = |kind, message: &str| {
            AppError::from(DieselError::DatabaseError(
                kind,
                Box::new(message.to_owned()),
            ))
            .status
        };
        for (kind, message, status) in [
            (
                DatabaseErrorKind::UnableToSendCommand,
                "connection closed",
                503,
            ),
            (
                DatabaseErrorKind::Unknown,
                "terminating connection due to administrator command",
                503,
            ),
            (
                DatabaseErrorKind::Unknown,
                "invalid byte sequence for encoding \"UTF8\": 0x00",
                400,
            ),
            (
                DatabaseErrorKind::Unknown,
                "relation \"x\" does not exist",
                500,
            ),
        ] {
            assert_eq!(db_error(kind, message).as_u16(), status, "{message}");
        }
    }

    #[test]
    fn unavailable_says_when_to_retry() {
        let resp = AppError::unavailable("busy").to_response(None);
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(resp.headers()[header::RETRY_AFTER], "2");
        assert_eq!(resp.headers()[header::CONTENT_TYPE], PROBLEM_CONTENT_TYPE);
    }
}
