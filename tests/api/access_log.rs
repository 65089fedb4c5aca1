//! The access log: append-only, sealed in hash-chained batches, and every kind of tampering is
//! detected by `audit::verify`.

use diesel_async::{AsyncPgConnection, SimpleAsyncConnection};
use schakel::{
    audit::{self, Access, AccessAction, Actor, RequestMeta},
    auth::Principal,
    domain::organisation::{OrganisationKind, OrganisationRef, Role},
};
use uuid::Uuid;

use crate::harness::TestApp;

fn principal(organisation: Uuid) -> Principal {
    Principal {
        sub: "ib-fatima".into(),
        name: "Fatima El Amrani".into(),
        organisation: OrganisationRef {
            id: organisation,
            kind: OrganisationKind::School,
            name: "De Regenboog".into(),
            active: true,
        },
        roles: vec![Role::CareCoordinator],
        acting_client: Some("parnassys".into()),
    }
}

async fn log(conn: &mut AsyncPgConnection, organisation: Uuid, count: usize) {
    let principal = principal(organisation);
    let request = RequestMeta::new("req-1", Some("192.0.2.10".into()));
    let accesses: Vec<Access> = (0..count)
        .map(|_| {
            Access::allowed(AccessAction::Read, "signal", Uuid::now_v7())
                .about_child(Uuid::now_v7())
        })
        .collect();
    audit::record(
        conn,
        Actor {
            principal: &principal,
            request: &request,
        },
        &accesses,
    )
    .await
    .unwrap();
}

async fn setup() -> (TestApp, AsyncPgConnection, Uuid) {
    let app = TestApp::new().await;
    let org = app
        .organisation(OrganisationKind::School, "De Regenboog")
        .await;
    let conn = app.db.connect().await;
    (app, conn, org)
}

#[tokio::test(flavor = "multi_thread")]
async fn sealed_entries_verify() {
    let (_app, mut conn, org) = setup().await;
    let empty = audit::verify(&mut conn).await.unwrap();
    assert!(empty.is_intact(), "{empty:?}");

    log(&mut conn, org, 3).await;
    let before = audit::verify(&mut conn).await.unwrap();
    assert!(
        before.is_intact(),
        "queued entries are not a problem: {before:?}"
    );
    assert_eq!(before.queued_entries, 3);

    assert_eq!(audit::seal_all(&mut conn).await.unwrap(), 3);
    log(&mut conn, org, 2).await;
    assert_eq!(audit::seal_all(&mut conn).await.unwrap(), 2);
    assert_eq!(audit::seal_all(&mut conn).await.unwrap(), 0);

    let report = audit::verify(&mut conn).await.unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.seals, 2);
    assert_eq!(report.sealed_entries, 5);
    assert_eq!(report.queued_entries, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_log_refuses_update_delete_and_truncate() {
    let (_app, mut conn, org) = setup().await;
    log(&mut conn, org, 1).await;
    audit::seal_all(&mut conn).await.unwrap();
    for statement in [
        "UPDATE access_log SET actor_sub = 'someone-else'",
        "DELETE FROM access_log",
        "TRUNCATE access_log CASCADE",
        "UPDATE access_log_seals SET seal_hash = 'x'",
        "DELETE FROM access_log_seals",
        "TRUNCATE access_log_seals",
    ] {
        let err = conn.batch_execute(statement).await.unwrap_err();
        assert!(
            err.to_string().contains("append-only"),
            "{statement}: {err}"
        );
    }
    assert!(audit::verify(&mut conn).await.unwrap().is_intact());
}

/// Tampering as a superuser who switches the guard triggers off.
async fn tamper(conn: &mut AsyncPgConnection, sql: &str) {
    conn.batch_execute(&format!(
        "SET session_replication_role = replica; {sql}; SET session_replication_role = origin;"
    ))
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn an_altered_entry_is_detected() {
    let (_app, mut conn, org) = setup().await;
    log(&mut conn, org, 3).await;
    audit::seal_all(&mut conn).await.unwrap();
    tamper(
        &mut conn,
        "UPDATE access_log SET actor_sub = 'covering-tracks' WHERE id = (SELECT min(id) FROM access_log)",
    )
    .await;
    let report = audit::verify(&mut conn).await.unwrap();
    assert!(!report.is_intact());
    assert!(
        report.problems.iter().any(|p| p.contains("altered")),
        "{report:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deleted_entry_is_detected() {
    let (_app, mut conn, org) = setup().await;
    log(&mut conn, org, 3).await;
    audit::seal_all(&mut conn).await.unwrap();
    tamper(
        &mut conn,
        "DELETE FROM access_log WHERE id = (SELECT max(id) FROM access_log)",
    )
    .await;
    let report = audit::verify(&mut conn).await.unwrap();
    assert!(
        report.problems.iter().any(|p| p.contains("missing")),
        "{report:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_entry_slipped_in_unsealed_is_detected() {
    let (_app, mut conn, org) = setup().await;
    log(&mut conn, org, 1).await;
    audit::seal_all(&mut conn).await.unwrap();
    // Inserted with triggers off: never queued, so never sealed.
    tamper(
        &mut conn,
        &format!(
            "INSERT INTO access_log (actor_sub, actor_name, organisation_id, roles, action, \
             resource_type, outcome, request_id) VALUES ('x', 'X', '{org}', '{{teacher}}', 'read', \
             'signal', 'allowed', 'forged')"
        ),
    )
    .await;
    let report = audit::verify(&mut conn).await.unwrap();
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.contains("neither sealed nor queued")),
        "{report:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_broken_seal_chain_is_detected() {
    let (_app, mut conn, org) = setup().await;
    for _ in 0..3 {
        log(&mut conn, org, 1).await;
        audit::seal_all(&mut conn).await.unwrap();
    }
    // Re-sealing the first batch on its own (e.g. after rewriting it) breaks the link.
    tamper(
        &mut conn,
        "UPDATE access_log_seals SET prev_hash = repeat('1', 64) WHERE id = (SELECT max(id) FROM access_log_seals)",
    )
    .await;
    let report = audit::verify(&mut conn).await.unwrap();
    assert!(
        report.problems.iter().any(|p| p.contains("does not chain")),
        "{report:?}"
    );

    // Dropping a whole seal is also seen: its entries are then neither sealed nor queued.
    tamper(
        &mut conn,
        "DELETE FROM access_log_seals WHERE id = (SELECT min(id) FROM access_log_seals)",
    )
    .await;
    let report = audit::verify(&mut conn).await.unwrap();
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.contains("neither sealed nor queued")),
        "{report:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn entries_committed_out_of_order_are_sealed_later_not_lost() {
    let (app, mut conn, org) = setup().await;
    let mut slow = app.db.connect().await;
    // A transaction takes an id first but commits last.
    slow.batch_execute("BEGIN").await.unwrap();
    log(&mut slow, org, 1).await;
    log(&mut conn, org, 1).await;
    // The sealer neither waits for nor skips the slow transaction's entry.
    assert_eq!(audit::seal_all(&mut conn).await.unwrap(), 1);
    slow.batch_execute("COMMIT").await.unwrap();
    assert_eq!(audit::seal_all(&mut conn).await.unwrap(), 1);
    let report = audit::verify(&mut conn).await.unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!((report.seals, report.sealed_entries), (2, 2));
}

#[tokio::test(flavor = "multi_thread")]
async fn writers_do_not_wait_for_each_other() {
    let (app, mut conn, org) = setup().await;
    // Two open transactions write entries at the same time; neither blocks the other.
    let mut a = app.db.connect().await;
    let mut b = app.db.connect().await;
    a.batch_execute("BEGIN; SET LOCAL lock_timeout = '1s'")
        .await
        .unwrap();
    b.batch_execute("BEGIN; SET LOCAL lock_timeout = '1s'")
        .await
        .unwrap();
    log(&mut a, org, 2).await;
    log(&mut b, org, 2).await;
    a.batch_execute("COMMIT").await.unwrap();
    b.batch_execute("COMMIT").await.unwrap();
    assert_eq!(audit::seal_all(&mut conn).await.unwrap(), 4);
    assert!(audit::verify(&mut conn).await.unwrap().is_intact());
}

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
    let mut conn = app.conn().await;
    audit::seal_all(&mut conn).await.expect("seal");
    assert!(audit::verify(&mut conn).await.expect("verify").is_intact());
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

fn urlencode(value: &str) -> String {
    value.replace('+', "%2B").replace(':', "%3A")
}

/// `schakel audit verify` for operators: exit code 0 and "intact" over a sealed log with
/// entries still queued; exit code 1 naming the problem once an entry was altered.
#[tokio::test(flavor = "multi_thread")]
async fn operators_verify_with_the_binary() {
    let (app, mut conn, org) = setup().await;
    log(&mut conn, org, 3).await;
    audit::seal_all(&mut conn).await.unwrap();
    log(&mut conn, org, 1).await;
    let env = [("DATABASE_URL", app.db.url.as_str())];

    let intact = crate::cli::run(&env, &["audit", "verify"]);
    let report = crate::cli::stdout(&intact);
    assert!(
        report.contains("1 seals over 3 entries, 1 entries queued"),
        "{report}"
    );
    assert!(report.contains("intact"), "{report}");

    tamper(
        &mut conn,
        "UPDATE access_log SET actor_sub = 'covering-tracks' WHERE id = (SELECT min(id) FROM access_log)",
    )
    .await;
    let broken = crate::cli::run(&env, &["audit", "verify"]);
    assert_eq!(broken.status.code(), Some(1));
    let report = String::from_utf8_lossy(&broken.stdout);
    assert!(report.contains("BROKEN: seal"), "{report}");
    assert!(report.contains("altered"), "{report}");
    assert!(String::from_utf8_lossy(&broken.stderr).contains("not intact"));
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
    let mut conn = app.conn().await;
    audit::seal_all(&mut conn).await.expect("seal");
    assert!(audit::verify(&mut conn).await.expect("verify").is_intact());
}

/// The test database's URL, connecting as another role.
fn url_as(url: &str, role: &str, password: &str) -> String {
    let scheme_end = url.find("://").map(|i| i + 3).unwrap_or(0);
    let authority_end = url[scheme_end..]
        .find('/')
        .map(|i| i + scheme_end)
        .unwrap_or(url.len());
    let host_start = url[scheme_end..authority_end]
        .rfind('@')
        .map(|i| i + scheme_end + 1)
        .unwrap_or(scheme_end);
    format!(
        "{}{role}:{password}@{}",
        &url[..scheme_end],
        &url[host_start..]
    )
}

/// Least privilege: the role `serve` and `worker` run as writes and seals the log, but can
/// neither change nor remove entries or seals, nor switch the append-only triggers off.
#[tokio::test(flavor = "multi_thread")]
async fn the_runtime_role_cannot_rewrite_the_log_or_disable_its_guards() {
    use diesel_async::AsyncConnection;
    let (app, mut owner, org) = setup().await;
    let role = format!("schakel_runtime_{}", Uuid::new_v4().simple());
    owner
        .batch_execute(&format!("CREATE ROLE {role} LOGIN PASSWORD 'runtime'"))
        .await
        .unwrap();
    schakel::db::grant_runtime_role(&app.db.url, &role)
        .await
        .expect("grant");
    assert!(
        schakel::db::grant_runtime_role(&app.db.url, "x; DROP TABLE access_log")
            .await
            .is_err()
    );

    let mut runtime = AsyncPgConnection::establish(&url_as(&app.db.url, &role, "runtime"))
        .await
        .expect("connect as the runtime role");
    // What the application does: log, seal, read.
    log(&mut runtime, org, 2).await;
    assert_eq!(audit::seal_all(&mut runtime).await.unwrap(), 2);
    log(&mut runtime, org, 1).await;
    assert!(audit::verify(&mut runtime).await.unwrap().is_intact());
    runtime
        .batch_execute(
            "SELECT count(*) FROM children; SELECT count(*) FROM __diesel_schema_migrations",
        )
        .await
        .unwrap();

    for statement in [
        "UPDATE access_log SET actor_sub = 'someone-else'",
        "DELETE FROM access_log",
        "TRUNCATE access_log CASCADE",
        "UPDATE access_log_seals SET seal_hash = 'x'",
        "DELETE FROM access_log_seals",
        "TRUNCATE access_log_seals",
        "ALTER TABLE access_log DISABLE TRIGGER ALL",
        "ALTER TABLE access_log_seals DISABLE TRIGGER access_log_seals_append_only",
        "DROP TRIGGER access_log_append_only ON access_log",
        "SET session_replication_role = replica",
        "DROP TABLE access_log CASCADE",
        "DELETE FROM __diesel_schema_migrations",
    ] {
        let err = runtime.batch_execute(statement).await.unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("permission denied") || message.contains("must be owner"),
            "{statement}: {message}"
        );
    }
    assert!(audit::verify(&mut owner).await.unwrap().is_intact());

    drop(runtime);
    owner
        .batch_execute(&format!("DROP OWNED BY {role}; DROP ROLE {role}"))
        .await
        .unwrap();
}
