//! Refused attempts in the access log (NEN 7513 asks for them too): a 403, or a 404 on a
//! resource with child data, answered to an authenticated caller, becomes one entry with
//! outcome `denied` in the **caller's** organisation's log — never in the target's, which would
//! reveal that the record exists. The request's own transaction was rolled back with the
//! refusal, so the entry is written in a transaction of its own.

use std::sync::Arc;

use poem::{Endpoint, IntoResponse, Middleware, Request, Response, http::Method};
use uuid::Uuid;

use crate::{
    AppState,
    audit::{self, Access, AccessAction, Actor, Outcome, RequestMeta},
    auth::Caller,
};

/// The API's collections by path segment, with the resource type their entries carry and
/// whether their records hold child data: a 404 is logged only on those, a 403 on any.
const RESOURCES: &[(&str, &str, bool)] = &[
    ("children", "child", true),
    ("guardians", "guardian", true),
    ("signals", "signal", true),
    ("cases", "case", true),
    ("actions", "case_action", true),
    ("handoffs", "handoff", true),
    ("consents", "consent", true),
    ("feedback", "feedback", true),
    ("timeline", "timeline", true),
    ("legal-hold", "legal_hold", true),
    ("legal-holds", "legal_hold", true),
    ("destruction-requests", "destruction_request", true),
    ("subject-access", "subject_access", true),
    ("retention", "retention_due", false),
    ("access-log", "access_log", false),
    ("checkpoint", "access_log_checkpoint", false),
    ("verification", "access_log_verification", false),
    ("events", "event", false),
    ("organisations", "organisation", false),
    ("webhook-subscriptions", "webhook_subscription", false),
    ("deliveries", "webhook_delivery", false),
];

/// The entry a refusal writes, or `None` when it is not one to log: what was asked for is the
/// innermost collection named with an id (else the innermost collection). The entry names no
/// child: an id that was asked for is not known to be a child of the caller's organisation, and
/// a child's view of its log lists accesses to it, not guesses at it.
pub fn denied_access(method: &Method, path: &str, status: u16) -> Option<Access> {
    let path = path.strip_prefix("/v1").unwrap_or(path);
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let mut asked: Option<(&'static str, Option<Uuid>)> = None;
    let mut child_data = false;
    for (i, segment) in segments.iter().enumerate() {
        let Some(&(_, resource, holds_child_data)) =
            RESOURCES.iter().find(|(name, _, _)| name == segment)
        else {
            continue;
        };
        if i == 0 {
            child_data = holds_child_data;
        }
        let id = segments.get(i + 1).and_then(|s| s.parse::<Uuid>().ok());
        match (asked, id) {
            (Some((_, Some(_))), None) => {}
            _ => asked = Some((resource, id)),
        }
    }
    let (resource_type, resource_id) = asked?;
    let logged = status == 403 || (status == 404 && child_data);
    logged.then_some(Access {
        action: match *method {
            Method::GET | Method::HEAD => AccessAction::Read,
            Method::POST => AccessAction::Create,
            _ => AccessAction::Update,
        },
        resource_type,
        resource_id,
        child_id: None,
        legal_basis: None,
        consent_id: None,
        recipient: None,
        outcome: Outcome::Denied,
        filters: None,
    })
}

pub struct DeniedAccessLog;

impl<E: Endpoint> Middleware<E> for DeniedAccessLog {
    type Output = DeniedAccessLogEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        DeniedAccessLogEndpoint { inner }
    }
}

pub struct DeniedAccessLogEndpoint<E> {
    inner: E,
}

impl<E: Endpoint> Endpoint for DeniedAccessLogEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let method = req.method().clone();
        let path = req.uri().path().to_owned();
        let caller = req.extensions().get::<Caller>().cloned();
        let meta = req.extensions().get::<RequestMeta>().cloned();
        let state = req.data::<Arc<AppState>>().cloned();
        let result = self.inner.call(req).await.map(IntoResponse::into_response);
        let status = match &result {
            Ok(resp) => resp.status(),
            Err(err) => err.status(),
        };
        if let (Some(principal), Some(meta), Some(state)) =
            (caller.and_then(|c| c.get()), meta, state)
            && let Some(access) = denied_access(&method, &path, status.as_u16())
        {
            let actor = Actor {
                principal: &principal,
                request: &meta,
            };
            // A refusal stays a refusal: failing to log it is reported, not answered as a 5xx.
            let written = match state.pool.get().await {
                Ok(mut conn) => audit::record(&mut conn, actor, &[access])
                    .await
                    .map_err(|e| e.to_string()),
                Err(err) => Err(err.to_string()),
            };
            if let Err(error) = written {
                tracing::warn!(%error, "a refused access could not be logged");
            }
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHILD: &str = "0192f0c4-0000-7000-8000-000000000001";
    const OTHER: &str = "0192f0c4-0000-7000-8000-000000000002";

    fn entry(
        method: Method,
        path: &str,
        status: u16,
    ) -> Option<(String, Option<String>, &'static str)> {
        denied_access(&method, path, status).map(|a| {
            assert_eq!(a.outcome, Outcome::Denied);
            assert_eq!(a.child_id, None);
            (
                a.resource_type.to_owned(),
                a.resource_id.map(|id| id.to_string()),
                a.action.as_str(),
            )
        })
    }

    #[test]
    fn what_a_refusal_logs() {
        let child = Some(CHILD.to_owned());
        let other = Some(OTHER.to_owned());
        let table = [
            (
                Method::GET,
                format!("/v1/children/{CHILD}"),
                404,
                Some(("child", child.clone(), "read")),
            ),
            (
                Method::GET,
                format!("/v1/children/{CHILD}/timeline"),
                404,
                Some(("child", child.clone(), "read")),
            ),
            (
                Method::PATCH,
                format!("/v1/children/{CHILD}/guardians/{OTHER}"),
                404,
                Some(("guardian", other.clone(), "update")),
            ),
            (
                Method::POST,
                format!("/v1/cases/{OTHER}/steps"),
                404,
                Some(("case", other.clone(), "create")),
            ),
            (
                Method::POST,
                format!("/v1/cases/{CHILD}/actions/{OTHER}"),
                403,
                Some(("case_action", other.clone(), "create")),
            ),
            (
                Method::GET,
                "/v1/access-log".to_owned(),
                403,
                Some(("access_log", None, "read")),
            ),
            (
                Method::GET,
                "/v1/access-log/checkpoint".to_owned(),
                403,
                Some(("access_log_checkpoint", None, "read")),
            ),
            (
                Method::GET,
                "/v1/cases".to_owned(),
                403,
                Some(("case", None, "read")),
            ),
            (
                Method::PUT,
                format!("/v1/children/{CHILD}/legal-hold"),
                404,
                Some(("child", child.clone(), "update")),
            ),
            (
                Method::POST,
                format!("/v1/destruction-requests/{OTHER}/decision"),
                404,
                Some(("destruction_request", other.clone(), "create")),
            ),
            (
                Method::GET,
                format!("/v1/children/{CHILD}/subject-access"),
                403,
                Some(("child", child.clone(), "read")),
            ),
            (
                Method::GET,
                "/v1/retention/due".to_owned(),
                403,
                Some(("retention_due", None, "read")),
            ),
            (Method::GET, "/v1/retention/due".to_owned(), 404, None),
            // A 404 outside child data (the directory, webhooks) is no access to a child's data.
            (Method::GET, format!("/v1/organisations/{OTHER}"), 404, None),
            (
                Method::GET,
                format!("/v1/webhook-subscriptions/{OTHER}"),
                404,
                None,
            ),
            (
                Method::POST,
                format!("/v1/webhook-subscriptions/{OTHER}/deliveries/{CHILD}/redelivery"),
                403,
                Some(("webhook_delivery", child.clone(), "create")),
            ),
            (
                Method::GET,
                format!("/v1/webhook-subscriptions/{OTHER}"),
                403,
                Some(("webhook_subscription", other.clone(), "read")),
            ),
            // Neither a refusal of access nor a path of the API.
            (Method::GET, format!("/v1/children/{CHILD}"), 200, None),
            (Method::GET, format!("/v1/children/{CHILD}"), 412, None),
            (Method::GET, "/v1/nothing-here".to_owned(), 404, None),
        ];
        for (method, path, status, expected) in table {
            let expected = expected.map(|(t, id, action)| (t.to_owned(), id, action));
            assert_eq!(
                entry(method.clone(), &path, status),
                expected,
                "{method} {path} {status}"
            );
        }
    }
}
