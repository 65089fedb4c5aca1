//! Error responses in the spec: each operation declares the set of problem statuses it can
//! answer, so generated clients know every status, and every one is `application/problem+json`.

use std::marker::PhantomData;

use poem::{IntoResponse, Response};
use poem_openapi::{
    ApiResponse, Object,
    registry::{MetaMediaType, MetaResponse, MetaResponses, Registry},
    types::{Example, Type},
};

use crate::error::{AppError, PROBLEM_CONTENT_TYPE};

/// An RFC 9457 problem: what went wrong, in a form clients can branch on (`type`) and people can
/// read (`title`, `detail`).
#[derive(Object)]
#[oai(rename_all = "camelCase", example)]
pub struct Problem {
    /// A URI identifying the kind of problem; stable, so clients can branch on it
    /// (e.g. `https://schakel.nl/problems/report-required`).
    #[oai(rename = "type")]
    pub problem_type: String,
    /// A short summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong in this occurrence, in words a professional understands.
    pub detail: String,
    /// The request path this occurrence happened at.
    pub instance: String,
    /// For invalid input: each offending property, parameter or header, and why.
    #[oai(default, skip_serializing_if_is_empty)]
    pub invalid_params: Vec<InvalidParam>,
}

impl Example for Problem {
    fn example() -> Self {
        Self {
            problem_type: "https://schakel.nl/problems/invalid-input".into(),
            title: "Bad Request".into(),
            status: 400,
            detail: "`name` must not be blank".into(),
            instance: "/v1/organisations".into(),
            invalid_params: vec![InvalidParam {
                name: "name".into(),
                reason: "must not be blank".into(),
            }],
        }
    }
}

/// One invalid input.
#[derive(Object)]
pub struct InvalidParam {
    /// The property path (`codes.brin`), query parameter or header.
    pub name: String,
    /// Why it is invalid.
    pub reason: String,
}

/// A set of problem statuses an operation may answer.
pub trait ProblemSet: Send + Sync + 'static {
    const STATUSES: &'static [u16];
}

macro_rules! problem_sets {
    ($($(#[$meta:meta])* $name:ident: [$($status:literal),+];)+) => {
        $(
            $(#[$meta])*
            pub struct $name;
            impl ProblemSet for $name {
                const STATUSES: &'static [u16] = &[$($status),+];
            }
        )+
    };
}

problem_sets! {
    /// Unauthenticated operations that depend on the database.
    Unauthenticated: [431, 500, 503];
    /// Authenticated operations without input.
    Authenticated: [401, 403, 429, 431, 500, 503];
    /// Reading one resource by id.
    ReadOne: [400, 401, 403, 404, 429, 431, 500, 503];
    /// Listing resources with query parameters.
    ReadMany: [400, 401, 403, 429, 431, 500, 503];
    /// Creating a resource.
    Create: [400, 401, 403, 408, 409, 413, 415, 422, 429, 431, 500, 503];
    /// Changing an existing resource (PATCH, PUT, state changes).
    Change: [400, 401, 403, 404, 408, 409, 412, 413, 415, 422, 429, 431, 500, 503];
}

pub fn describe(status: u16) -> &'static str {
    match status {
        400 => "The request is malformed or its input invalid; `invalidParams` names each problem.",
        401 => {
            "No bearer token, or it is invalid, expired, or of an unknown or inactive organisation."
        }
        403 => "The token is valid but its roles do not allow this.",
        404 => "No such resource, or it belongs to another organisation (the two look the same).",
        409 => {
            "The request conflicts with the current state (a duplicate, an impossible transition, or a request with the same `Idempotency-Key` still running)."
        }
        412 => {
            "`If-Match` does not match the resource's current ETag: it changed since you read it."
        }
        408 => "The request body did not arrive within the body read timeout.",
        413 => "The request body is too large.",
        415 => "The body is not `application/json`.",
        422 => "Well-formed, but a rule refuses it; `type` says which rule.",
        429 => {
            "A rate limit is spent (per professional, or per address without a valid token); retry after `Retry-After` seconds. `RateLimit-Policy` and `RateLimit` on every response say how much is left."
        }
        431 => "The request line and headers are too large.",
        500 => "An unexpected failure on the server; quote `X-Request-Id` when reporting it.",
        503 => "The database is unreachable or busy; retry after `Retry-After` seconds.",
        _ => "A problem.",
    }
}

/// The error half of an operation's result: renders an [`AppError`]; declares `S`'s statuses.
pub struct ApiError<S: ProblemSet>(pub AppError, PhantomData<S>);

impl<S: ProblemSet> ApiError<S> {
    pub fn new(err: AppError) -> Self {
        Self(err, PhantomData)
    }
}

impl<S: ProblemSet> std::fmt::Debug for ApiError<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl<S: ProblemSet> From<AppError> for ApiError<S> {
    fn from(err: AppError) -> Self {
        Self::new(err)
    }
}

impl<S: ProblemSet> From<diesel::result::Error> for ApiError<S> {
    fn from(err: diesel::result::Error) -> Self {
        Self::new(err.into())
    }
}

impl<S: ProblemSet> From<crate::db::PoolError> for ApiError<S> {
    fn from(err: crate::db::PoolError) -> Self {
        Self::new(err.into())
    }
}

impl<S: ProblemSet> From<ApiError<S>> for poem::Error {
    fn from(err: ApiError<S>) -> Self {
        err.0.into()
    }
}

impl<S: ProblemSet> IntoResponse for ApiError<S> {
    fn into_response(self) -> Response {
        self.0.to_response(None)
    }
}

impl<S: ProblemSet> ApiResponse for ApiError<S> {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: S::STATUSES
                .iter()
                .map(|&status| MetaResponse {
                    description: describe(status),
                    status: Some(status),
                    status_range: None,
                    content: vec![MetaMediaType {
                        content_type: PROBLEM_CONTENT_TYPE,
                        schema: Problem::schema_ref(),
                    }],
                    headers: vec![],
                })
                .collect(),
        }
    }

    fn register(registry: &mut Registry) {
        Problem::register(registry);
    }
}

pub type ApiResult<T, S> = Result<T, ApiError<S>>;

impl<S: ProblemSet> From<crate::domain::refusal::Refusal> for ApiError<S> {
    fn from(refusal: crate::domain::refusal::Refusal) -> Self {
        Self::new(refusal.into())
    }
}
