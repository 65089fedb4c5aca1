//! The access log as the privacy officer reads it: the organisation's log, refusals logged as
//! denied in the caller's log only, the child's access view, trace ids. Sealing and
//! verification are in `seals`.

use schakel::domain::organisation::{OrganisationKind, Role};
use uuid::Uuid;

use crate::harness::TestApp;

/// The privacy officer reads their own organisation's log, and that read is logged too.
#[tokio::test(flavor = "multi_thread")]
async fn a_privacy_officer_reads_the_organisations_log() {
    let app = TestApp::new().await;
    let coordinator = app
        .member(OrganisationKind::School, Role::CareCoordinator)
        .await;
    let officer = app
        .member_of(coordinator.organisation, Role::PrivacyOfficer)
        .await;
    let child = app.child(&coordinator, "LL-1").await;
    app.get(&format!("/v1/children/{child}"))
        .by(&coordinator)
        .send()
        .await
        .expect(200);
    let other = app
        .member(OrganisationKind::School, Role::CareCoordinator)
        .await;
    app.child(&other, "X-1").await;

    let reply = app.get("/v1/access-log?limit=2").by(&officer).send().await;
    reply.expect(200);
    let items = reply.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["action"], "read", "newest first");
    assert_eq!(items[0]["actor"]["sub"], coordinator.sub.as_str());
    assert!(items[0]["requestId"].is_string());
    let cursor = reply.body["nextCursor"].as_str().unwrap();
    let rest = app
        .get(&format!("/v1/access-log?limit=200&cursor={cursor}"))
        .by(&officer)
        .send()
        .await;
    let all: Vec<&serde_json::Value> = items
        .iter()
        .chain(rest.body["items"].as_array().unwrap())
        .collect();
    assert!(
        all.iter().all(|e| e["actor"]["sub"] != other.sub.as_str()),
        "another organisation's accesses are not in this log"
    );
    assert!(
        all.iter()
            .any(|e| e["action"] == "create" && e["resourceType"] == "child")
    );

    let filtered = app
        .get(&format!(
            "/v1/access-log?childId={child}&actor={}",
            coordinator.sub
        ))
        .by(&officer)
        .send()
        .await;
    assert!(
        filtered.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["childId"] == child.to_string())
    );
    let logged = app.get("/v1/access-log?limit=1").by(&officer).send().await;
    assert_eq!(logged.body["items"][0]["resourceType"], "access_log");
    assert_eq!(
        logged.body["items"][0]["actor"]["sub"],
        officer.sub.as_str()
    );

    for role in [Role::CareCoordinator, Role::Teacher, Role::OrgAdmin] {
        let member = app.member_of(coordinator.organisation, role).await;
        app.get("/v1/access-log")
            .by(&member)
            .send()
            .await
            .expect_problem(403, "forbidden");
    }
}

/// The refused accesses in an organisation's log: (actor, action, resource type, resource id,
/// child). A refusal names what was asked for, never a child: the id is not known to be one of
/// the caller's children.
async fn denied_in(
    app: &TestApp,
    organisation: Uuid,
) -> Vec<(String, String, String, Option<Uuid>, Option<Uuid>)> {
    use diesel::{ExpressionMethods, QueryDsl};
    use diesel_async::RunQueryDsl;
    use schakel::db::schema::access_log;
    let mut conn = app.conn().await;
    access_log::table
        .filter(access_log::organisation_id.eq(organisation))
        .filter(access_log::outcome.eq("denied"))
        .order(access_log::id)
        .select((
            access_log::actor_sub,
            access_log::action,
            access_log::resource_type,
            access_log::resource_id,
            access_log::child_id,
        ))
        .load(&mut conn)
        .await
        .expect("access log")
}

#[tokio::test]
async fn refusals_are_logged_as_denied_in_the_callers_log_and_never_in_the_targets() {
    let app = TestApp::new().await;
    let coordinator = app
        .member(OrganisationKind::School, Role::CareCoordinator)
        .await;
    let child = app.child(&coordinator, "LL-denied").await;
    let teacher = app.member_of(coordinator.organisation, Role::Teacher).await;
    let stranger = app
        .member(OrganisationKind::School, Role::CareCoordinator)
        .await;

    // 404: another organisation's child, read and written to.
    app.get(&format!("/v1/children/{child}"))
        .by(&stranger)
        .send()
        .await
        .expect(404);
    app.post(&format!("/v1/children/{child}/cases"))
        .by(&stranger)
        .json(&serde_json::json!({"lead": {"sub": "x", "name": "X"}}))
        .send()
        .await
        .expect(404);
    // 403: a teacher asking for the access log.
    app.get("/v1/access-log")
        .by(&teacher)
        .send()
        .await
        .expect_problem(403, "forbidden");
    // Not refusals of child data: a directory lookup that finds nothing, an allowed read, and
    // a caller without a valid token.
    app.get(&format!("/v1/organisations/{}", Uuid::now_v7()))
        .by(&stranger)
        .send()
        .await
        .expect(404);
    app.get(&format!("/v1/children/{child}"))
        .by(&coordinator)
        .send()
        .await
        .expect(200);
    app.get(&format!("/v1/children/{child}"))
        .token("not-a-token")
        .send()
        .await
        .expect(401);

    let id = |s: &str| s.to_owned();
    assert_eq!(
        denied_in(&app, stranger.organisation).await,
        [
            (
                id(&stranger.sub),
                id("read"),
                id("child"),
                Some(child),
                None
            ),
            (
                id(&stranger.sub),
                id("create"),
                id("child"),
                Some(child),
                None
            ),
        ]
    );
    assert_eq!(
        denied_in(&app, coordinator.organisation).await,
        [(id(&teacher.sub), id("read"), id("access_log"), None, None)],
        "the child's organisation learns nothing of the stranger's attempts"
    );

    // The privacy officer sees the refusal, and the sealed chain still verifies.
    let officer = app
        .member_of(coordinator.organisation, Role::PrivacyOfficer)
        .await;
    let log = app.get("/v1/access-log").by(&officer).send().await;
    assert!(
        log.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["outcome"] == "denied" && e["actor"]["sub"] == teacher.sub.as_str())
    );
    app.assert_log_intact().await;
}

#[tokio::test]
async fn the_childs_access_view_lists_every_access_to_the_child_by_period_and_is_logged() {
    let app = TestApp::new().await;
    let coordinator = app
        .member(OrganisationKind::School, Role::CareCoordinator)
        .await;
    let child = app.child(&coordinator, "LL-view").await;
    let other_child = app.child(&coordinator, "LL-other").await;
    app.signal(&coordinator, child, "Komt vaak te laat.").await;
    let officer = app
        .member_of(coordinator.organisation, Role::PrivacyOfficer)
        .await;
    let path = format!("/v1/children/{child}/access-log");

    let view = app.get(&path).by(&officer).send().await;
    view.expect(200);
    let items = view.body["items"].as_array().unwrap().clone();
    assert!(items.iter().all(|e| e["childId"] == child.to_string()));
    assert!(
        items
            .iter()
            .any(|e| e["resourceType"] == "signal" && e["action"] == "create")
    );
    assert!(
        items
            .iter()
            .all(|e| e["childId"] != other_child.to_string())
    );

    // Periods: nothing after now, nothing before the child existed, everything in between.
    let later = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let earlier = "2020-01-01T00:00:00Z";
    let after = app
        .get(&format!("{path}?from={}", urlencode(&later)))
        .by(&officer)
        .send()
        .await;
    assert_eq!(after.body["items"], serde_json::json!([]));
    let before = app
        .get(&format!("{path}?until={earlier}"))
        .by(&officer)
        .send()
        .await;
    assert_eq!(before.body["items"], serde_json::json!([]));
    let between = app
        .get(&format!(
            "{path}?from={earlier}&until={}&limit=200",
            urlencode(&later)
        ))
        .by(&officer)
        .send()
        .await;
    assert!(between.body["items"].as_array().unwrap().len() > items.len());

    // The view itself is logged, about the child.
    let again = app
        .get(&format!("{path}?limit=1"))
        .by(&officer)
        .send()
        .await;
    assert_eq!(again.body["items"][0]["resourceType"], "access_log");
    assert_eq!(again.body["items"][0]["actor"]["sub"], officer.sub.as_str());

    // Only the privacy officer, only of the child's organisation.
    app.get(&path)
        .by(&coordinator)
        .send()
        .await
        .expect_problem(403, "forbidden");
    let stranger = app
        .member(OrganisationKind::School, Role::PrivacyOfficer)
        .await;
    app.get(&path).by(&stranger).send().await.expect(404);
    app.get(&format!("/v1/children/{}/access-log", Uuid::now_v7()))
        .by(&officer)
        .send()
        .await
        .expect(404);
}

/// The client view includes the handoffs about the child: Veilig Thuis read the incoming report
/// before it took the child in, so that read named no child of its own; the view of the child
/// it took in still shows it. The filters of every log read are recorded in its entry.
#[tokio::test]
async fn the_childs_access_view_includes_reads_of_its_handoffs_and_records_its_filters() {
    let app = TestApp::new().await;
    let school = app
        .member(OrganisationKind::School, Role::CareCoordinator)
        .await;
    let vt = app
        .member(OrganisationKind::VeiligThuis, Role::VtWorker)
        .await;
    let child = app.child(&school, "LL-handoff-view").await;
    let signal = app.signal(&school, child, "Blauwe plek.").await;
    let sent = app
        .post("/v1/handoffs")
        .by(&school)
        .json(&serde_json::json!({
            "kind": "report", "toOrganisation": vt.organisation, "childId": child,
            "signalIds": [signal], "message": "Zorgen.", "requestsGuidance": true,
            "parentsInformedAt": "2026-11-20T15:00:00Z"}))
        .send()
        .await;
    sent.expect(201);
    let handoff = sent.body["id"].as_str().unwrap().to_owned();
    app.get(&format!("/v1/handoffs/{handoff}"))
        .by(&vt)
        .send()
        .await
        .expect(200);
    app.post(&format!("/v1/handoffs/{handoff}/acknowledgement"))
        .by(&vt)
        .json(&serde_json::json!({}))
        .send()
        .await
        .expect(200);
    let intake = app
        .post(&format!("/v1/handoffs/{handoff}/intake"))
        .by(&vt)
        .json(&serde_json::json!({"externalRef": "VT-9"}))
        .send()
        .await;
    intake.expect(201);
    let vt_child = intake.body["id"].as_str().unwrap();

    let officer = app.member_of(vt.organisation, Role::PrivacyOfficer).await;
    let view = app
        .get(&format!(
            "/v1/children/{vt_child}/access-log?limit=200&from=2020-01-01T00:00:00Z"
        ))
        .by(&officer)
        .send()
        .await;
    view.expect(200);
    let reads: Vec<&serde_json::Value> = view.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["resourceType"] == "handoff" && e["resourceId"] == handoff.as_str())
        .collect();
    assert!(
        reads
            .iter()
            .any(|e| e["action"] == "read" && e.get("childId").is_none()),
        "the read before intake: {reads:#?}"
    );

    // The school's view of its child shows its disclosure to Veilig Thuis; the school learns
    // nothing of Veilig Thuis's own reads.
    let school_officer = app
        .member_of(school.organisation, Role::PrivacyOfficer)
        .await;
    let school_view = app
        .get(&format!("/v1/children/{child}/access-log?limit=200"))
        .by(&school_officer)
        .send()
        .await;
    let items = school_view.body["items"].as_array().unwrap();
    assert!(items.iter().any(|e| e["action"] == "disclose"
        && e["recipientOrganisationId"] == vt.organisation.to_string()));
    assert!(items.iter().all(|e| e["actor"]["sub"] != vt.sub.as_str()));

    let log = app.get("/v1/access-log?limit=1").by(&officer).send().await;
    assert_eq!(
        log.body["items"][0]["filters"],
        format!("childId={vt_child}&from=2020-01-01T00%3A00%3A00.000000Z")
    );
    let filtered = app
        .get(&format!("/v1/access-log?actor={}&limit=1", vt.sub))
        .by(&officer)
        .send()
        .await;
    filtered.expect(200);
    let log = app.get("/v1/access-log?limit=1").by(&officer).send().await;
    assert_eq!(log.body["items"][0]["filters"], format!("actor={}", vt.sub));
    app.assert_log_intact().await;
}

fn urlencode(value: &str) -> String {
    value.replace('+', "%2B").replace(':', "%3A")
}

/// W3C Trace Context: a valid `traceparent` is continued (same trace id, our own span), kept in
/// the access-log entries of the request; a malformed one starts a new trace, never a refusal.
#[tokio::test]
async fn the_trace_id_joins_the_callers_logs_to_the_access_log() {
    let app = TestApp::new().await;
    let coordinator = app
        .member(OrganisationKind::School, Role::CareCoordinator)
        .await;
    let child = app.child(&coordinator, "LL-trace").await;
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let reply = app
        .get(&format!("/v1/children/{child}"))
        .by(&coordinator)
        .header("traceparent", &format!("00-{trace}-00f067aa0ba902b7-01"))
        .send()
        .await;
    reply.expect(200);
    let returned = reply.header("traceparent").unwrap().to_owned();
    assert!(returned.starts_with(&format!("00-{trace}-")), "{returned}");
    assert!(
        !returned.contains("00f067aa0ba902b7"),
        "our own span: {returned}"
    );

    let garbled = app
        .get(&format!("/v1/children/{child}"))
        .by(&coordinator)
        .header("traceparent", "00-not-a-trace-01")
        .send()
        .await;
    garbled.expect(200);
    let started = garbled.header("traceparent").unwrap().to_owned();
    let started_trace = started.split('-').nth(1).unwrap().to_owned();
    assert_eq!(started_trace.len(), 32);
    assert_ne!(started_trace, trace);

    let officer = app
        .member_of(coordinator.organisation, Role::PrivacyOfficer)
        .await;
    let log = app
        .get(&format!("/v1/children/{child}/access-log"))
        .by(&officer)
        .send()
        .await;
    let traces: Vec<&str> = log.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "read" && e["resourceType"] == "child")
        .map(|e| e["traceId"].as_str().unwrap())
        .collect();
    assert_eq!(traces, [started_trace.as_str(), trace], "newest first");
    app.assert_log_intact().await;
}
