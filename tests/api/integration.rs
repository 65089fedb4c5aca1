//! The integration contract every client relies on: conditional requests on every kind of
//! resource, idempotent POSTs (replay, mismatch, a concurrent race, retry after a failure,
//! purge), and negotiated compression.

use std::io::Read;

use diesel::{ExpressionMethods, QueryDsl};
use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
use futures_util::future::join_all;
use schakel::{
    db::schema::{idempotency_keys, signals},
    domain::organisation::{OrganisationKind, Role},
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{Member, Reply, TestApp};

/// One of each kind of resource, seen from both sides of a report.
struct World {
    coordinator: Member,
    teacher: Member,
    vt: Member,
    admin: Member,
    platform: Member,
    child: String,
    guardian: String,
    signal: String,
    case: String,
    handoff: String,
    vt_child: String,
    vt_mother: String,
    consent: String,
    feedback: String,
}

fn id(reply: &Reply) -> String {
    reply.expect(201);
    reply.body["id"].as_str().expect("id").to_owned()
}

async fn world(app: &TestApp) -> World {
    let coordinator = app
        .member(OrganisationKind::School, Role::CareCoordinator)
        .await;
    let teacher = app.member_of(coordinator.organisation, Role::Teacher).await;
    let admin = app
        .member_of(coordinator.organisation, Role::OrgAdmin)
        .await;
    let platform = app.platform_admin().await;
    let vt = app
        .member(OrganisationKind::VeiligThuis, Role::VtWorker)
        .await;
    let child = app.child(&coordinator, "INT-1").await;
    let read = app
        .get(&format!("/v1/children/{child}"))
        .by(&coordinator)
        .send()
        .await;
    let guardian = read.body["guardians"][0]["id"].as_str().unwrap().to_owned();
    let signal = app.signal(&teacher, child, "Blauwe plek.").await;
    let case = id(&app
        .post(&format!("/v1/children/{child}/cases"))
        .by(&coordinator)
        .json(&json!({"lead": {"sub": coordinator.sub, "name": "Fatima"}, "signalIds": [signal]}))
        .send()
        .await);
    let handoff = id(&app
        .post("/v1/handoffs")
        .by(&coordinator)
        .json(
            &json!({"kind": "report", "toOrganisation": vt.organisation, "childId": child,
                      "signalIds": [signal], "message": "Zorgen.", "requestsGuidance": true,
                      "parentsInformedAt": "2026-11-20T15:00:00Z"}),
        )
        .send()
        .await);
    app.post(&format!("/v1/handoffs/{handoff}/acknowledgement"))
        .by(&vt)
        .json(&json!({}))
        .send()
        .await
        .expect(200);
    let intake = app
        .post(&format!("/v1/handoffs/{handoff}/intake"))
        .by(&vt)
        .json(&json!({}))
        .send()
        .await;
    let vt_child = id(&intake);
    let vt_mother = intake.body["guardians"][0]["id"]
        .as_str()
        .expect("guardian taken in")
        .to_owned();
    let consent = id(&app
        .post("/v1/consents")
        .by(&vt)
        .json(
            &json!({"childId": vt_child, "purpose": "feedback_to_school",
                      "recipientOrganisation": coordinator.organisation,
                      "scope": ["guidance_for_school"]}),
        )
        .send()
        .await);
    let feedback = id(&app
        .post(&format!("/v1/handoffs/{handoff}/feedback"))
        .by(&vt)
        .json(&json!({"category": "received", "message": "Melding ontvangen."}))
        .send()
        .await);
    World {
        coordinator,
        teacher,
        vt,
        admin,
        platform,
        child: child.to_string(),
        guardian,
        signal: signal.to_string(),
        case,
        handoff,
        vt_child,
        vt_mother,
        consent,
        feedback,
    }
}

async fn etag_of(app: &TestApp, member: &Member, path: &str) -> String {
    let reply = app.get(path).by(member).send().await;
    reply.expect(200);
    reply.header("etag").expect("an ETag").to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_single_resource_has_a_strong_etag_and_answers_304_while_unchanged() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let subscription = app
        .post("/v1/webhook-subscriptions")
        .by(&w.admin)
        .json(&json!({"url": "https://93.184.216.34/hooks", "eventTypes": ["feedback.sent"]}))
        .send()
        .await;
    let subscription = id(&subscription);
    let school = w.coordinator.organisation;
    let reads: Vec<(&Member, String)> = vec![
        (&w.coordinator, "/v1/me".into()),
        (&w.coordinator, "/v1/reference/signal-categories".into()),
        (&w.coordinator, format!("/v1/organisations/{school}")),
        (&w.coordinator, format!("/v1/children/{}", w.child)),
        (
            &w.coordinator,
            format!("/v1/children/{}/guardians/{}", w.child, w.guardian),
        ),
        (&w.teacher, format!("/v1/signals/{}", w.signal)),
        (&w.coordinator, format!("/v1/cases/{}", w.case)),
        (&w.coordinator, format!("/v1/handoffs/{}", w.handoff)),
        (&w.vt, format!("/v1/handoffs/{}", w.handoff)),
        (&w.vt, format!("/v1/children/{}", w.vt_child)),
        (&w.vt, format!("/v1/consents/{}", w.consent)),
        (&w.coordinator, format!("/v1/feedback/{}", w.feedback)),
        (&w.vt, format!("/v1/feedback/{}", w.feedback)),
        (
            &w.admin,
            format!("/v1/webhook-subscriptions/{subscription}"),
        ),
    ];
    for (member, path) in reads {
        let first = app.get(&path).by(member).send().await;
        first.expect(200);
        let tag = first
            .header("etag")
            .unwrap_or_else(|| panic!("{path}: no ETag"));
        assert!(
            tag.starts_with('"') && tag.ends_with('"') && tag.len() > 10,
            "{path}: {tag} is not a strong ETag"
        );
        let again = app.get(&path).by(member).send().await;
        assert_eq!(again.header("etag"), Some(tag), "{path}: unstable ETag");

        let unchanged = app
            .get(&path)
            .by(member)
            .header("if-none-match", tag)
            .send()
            .await;
        assert_eq!(unchanged.status, 304, "{path}: {}", unchanged.text);
        assert_eq!(unchanged.header("etag"), Some(tag), "{path}");
        assert!(unchanged.text.is_empty(), "{path}: a 304 has no body");
        let listed = app
            .get(&path)
            .by(member)
            .header("if-none-match", &format!("\"other\", W/{tag}"))
            .send()
            .await;
        assert_eq!(listed.status, 304, "{path}: weak comparison in a list");

        let stale = app
            .get(&path)
            .by(member)
            .header("if-none-match", "\"stale\"")
            .send()
            .await;
        assert_eq!(stale.status, 200, "{path}");
        assert_eq!(stale.body, first.body, "{path}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_kind_of_change_refuses_a_stale_if_match_and_accepts_a_current_one() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let school = w.coordinator.organisation;
    let revision = json!({"observedAt": "2026-11-20T08:30:00Z", "category": "behaviour_change",
        "source": "own_observation", "facts": "Blauwe plek op de arm.",
        "direction": "raises_concern", "reason": "Preciezer."});
    let consultation = json!({"step": "consultation", "kind": "veilig_thuis_advice",
        "consultedRole": "adviseur", "consultedOrganisation": "Veilig Thuis",
        "consultedAt": "2026-11-21T14:00:00Z", "advice": "Bespreek de zorgen."});
    let decision = json!({"party": w.vt_mother, "decision": "granted", "method": "verbal",
        "decidedAt": chrono::Utc::now().to_rfc3339()});
    // (who, method, path of the change, body, the resource it changes)
    let changes: Vec<(&Member, &str, String, Value, String)> = vec![
        (
            &w.platform,
            "PATCH",
            format!("/v1/organisations/{school}"),
            json!({"name": "De Regenboog"}),
            format!("/v1/organisations/{school}"),
        ),
        (
            &w.coordinator,
            "PATCH",
            format!("/v1/children/{}", w.child),
            json!({"givenName": "Noa"}),
            format!("/v1/children/{}", w.child),
        ),
        (
            &w.coordinator,
            "PATCH",
            format!("/v1/children/{}/guardians/{}", w.child, w.guardian),
            json!({"name": "Sara de Boer"}),
            format!("/v1/children/{}/guardians/{}", w.child, w.guardian),
        ),
        (
            &w.teacher,
            "POST",
            format!("/v1/signals/{}/revisions", w.signal),
            revision,
            format!("/v1/signals/{}", w.signal),
        ),
        (
            &w.coordinator,
            "POST",
            format!("/v1/cases/{}/steps", w.case),
            consultation,
            format!("/v1/cases/{}", w.case),
        ),
        (
            &w.vt,
            "POST",
            format!("/v1/consents/{}/decisions", w.consent),
            decision,
            format!("/v1/consents/{}", w.consent),
        ),
        (
            &w.coordinator,
            "POST",
            format!("/v1/feedback/{}/read-receipt", w.feedback),
            json!({}),
            format!("/v1/feedback/{}", w.feedback),
        ),
        (
            &w.vt,
            "POST",
            format!("/v1/handoffs/{}/acceptance", w.handoff),
            json!({}),
            format!("/v1/handoffs/{}", w.handoff),
        ),
    ];
    for (member, method, path, body, resource) in changes {
        let before = etag_of(&app, member, &resource).await;
        let call = |tag: &str| {
            app.request(method.parse().unwrap(), &path)
                .by(member)
                .header("if-match", tag)
                .json(&body)
                .send()
        };
        call("\"stale\"")
            .await
            .expect_problem(412, "precondition-failed");
        assert_eq!(
            etag_of(&app, member, &resource).await,
            before,
            "{path}: a refused change changed the resource"
        );
        let done = call(&before).await;
        assert!(
            (200..300).contains(&done.status),
            "{path}: {} {}",
            done.status,
            done.text
        );
        assert_ne!(
            etag_of(&app, member, &resource).await,
            before,
            "{path}: the change did not change the ETag"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Idempotency-Key

fn observation(facts: &str) -> Value {
    json!({"observedAt": "2026-11-20T08:30:00Z", "category": "behaviour_change",
           "source": "own_observation", "facts": facts, "direction": "raises_concern"})
}

async fn record(
    app: &TestApp,
    member: &Member,
    child: Uuid,
    key: Option<&str>,
    facts: &str,
) -> Reply {
    let mut call = app
        .post(&format!("/v1/children/{child}/signals"))
        .by(member);
    if let Some(key) = key {
        call = call.header("idempotency-key", key);
    }
    call.json(&observation(facts)).send().await
}

async fn signals_of(app: &TestApp, child: Uuid) -> i64 {
    let mut conn = app.conn().await;
    signals::table
        .filter(signals::child_id.eq(child))
        .count()
        .get_result(&mut conn)
        .await
        .expect("count")
}

async fn school(app: &TestApp) -> (Member, Uuid) {
    let teacher = app.member(OrganisationKind::School, Role::Teacher).await;
    let child = app.child(&teacher, "IDEM-1").await;
    (teacher, child)
}

#[tokio::test]
async fn a_retried_post_with_its_key_replays_the_first_response() {
    let app = TestApp::new().await;
    let (teacher, child) = school(&app).await;
    let key = Uuid::new_v4().to_string();

    let first = record(&app, &teacher, child, Some(&key), "Blauwe plek.").await;
    first.expect(201);
    assert_eq!(first.header("idempotent-replayed"), None);
    let retry = record(&app, &teacher, child, Some(&key), "Blauwe plek.").await;
    retry.expect(201);
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(retry.body, first.body);
    assert_eq!(retry.header("location"), first.header("location"));
    assert_eq!(retry.header("etag"), first.header("etag"));
    assert_eq!(retry.header("content-type"), first.header("content-type"));
    assert!(retry.header("x-request-id").is_some());
    assert_eq!(signals_of(&app, child).await, 1);

    // Without a key, a repeat is a new request.
    record(&app, &teacher, child, None, "Blauwe plek.")
        .await
        .expect(201);
    record(&app, &teacher, child, None, "Blauwe plek.")
        .await
        .expect(201);
    assert_eq!(signals_of(&app, child).await, 3);

    // A key is the professional's own: a colleague's equal key is another request.
    let colleague = app.member_of(teacher.organisation, Role::Teacher).await;
    let theirs = record(&app, &colleague, child, Some(&key), "Blauwe plek.").await;
    theirs.expect(201);
    assert_eq!(theirs.header("idempotent-replayed"), None);
    assert_ne!(theirs.body["id"], first.body["id"]);
}

#[tokio::test]
async fn a_key_reused_for_another_request_is_refused() {
    let app = TestApp::new().await;
    let (teacher, child) = school(&app).await;
    let key = "order-7";
    record(&app, &teacher, child, Some(key), "Blauwe plek.")
        .await
        .expect(201);
    let other = record(&app, &teacher, child, Some(key), "Iets anders.").await;
    other.expect_problem(422, "idempotency-key-reused");
    let elsewhere = app
        .post("/v1/children")
        .by(&teacher)
        .header("idempotency-key", key)
        .json(&json!({"externalRef": "X", "givenName": "A", "familyName": "B", "dateOfBirth": "2015-01-01"}))
        .send()
        .await;
    elsewhere.expect_problem(422, "idempotency-key-reused");
    assert_eq!(signals_of(&app, child).await, 1);

    for bad in ["", &"k".repeat(256)] {
        let reply = record(&app, &teacher, child, Some(bad), "Blauwe plek.").await;
        reply.expect_problem(400, "invalid-input");
        assert_eq!(reply.invalid_params(), ["Idempotency-Key"]);
    }
}

#[tokio::test]
async fn a_refused_request_may_be_corrected_under_the_same_key() {
    let app = TestApp::new().await;
    let (teacher, child) = school(&app).await;
    let key = "fix-and-retry";
    let invalid = app
        .post(&format!("/v1/children/{child}/signals"))
        .by(&teacher)
        .header("idempotency-key", key)
        .json(&json!({"facts": "Blauwe plek."}))
        .send()
        .await;
    invalid.expect_problem(400, "invalid-input");
    record(&app, &teacher, child, Some(key), "Blauwe plek.")
        .await
        .expect(201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_duplicates_create_one_record() {
    let app = TestApp::new().await;
    let (teacher, child) = school(&app).await;
    let key = Uuid::new_v4().to_string();
    let replies =
        join_all((0..8).map(|_| record(&app, &teacher, child, Some(&key), "Blauwe plek."))).await;
    for reply in &replies {
        reply.expect(201);
        assert_eq!(reply.body["id"], replies[0].body["id"]);
    }
    let replayed = replies
        .iter()
        .filter(|r| r.header("idempotent-replayed") == Some("true"))
        .count();
    assert_eq!(replayed, 7, "one ran, the others replayed it");
    assert_eq!(signals_of(&app, child).await, 1);
}

#[tokio::test]
async fn a_duplicate_waits_for_a_running_first_and_gets_409_after_ten_seconds() {
    let app = TestApp::new().await;
    let (teacher, child) = school(&app).await;
    record(&app, &teacher, child, Some("first"), "Blauwe plek.")
        .await
        .expect(201);
    // As if a request with the key "slow" were still running: it holds the key's lock, taken
    // with the very expression the middleware uses, in an open transaction.
    let mut conn = app.conn().await;
    let owner: String = idempotency_keys::table
        .filter(idempotency_keys::key.eq("first"))
        .select(idempotency_keys::principal)
        .first(&mut conn)
        .await
        .expect("the first key");
    conn.batch_execute("BEGIN").await.expect("begin");
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1 || E'\\n' || 'slow', 0))")
        .bind::<diesel::sql_types::Text, _>(&owner)
        .execute(&mut conn)
        .await
        .expect("hold the key");
    let started = std::time::Instant::now();
    record(&app, &teacher, child, Some("slow"), "Blauwe plek.")
        .await
        .expect_problem(409, "idempotency-key-in-progress");
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(10),
        "it waited first"
    );
    assert_eq!(signals_of(&app, child).await, 1);

    // The first one died (its transaction ended without a commit): the key is free, and runs.
    conn.batch_execute("ROLLBACK").await.expect("rollback");
    let after = record(&app, &teacher, child, Some("slow"), "Blauwe plek.").await;
    after.expect(201);
    assert_eq!(after.header("idempotent-replayed"), None);
    assert_eq!(signals_of(&app, child).await, 2);
}

#[tokio::test]
async fn a_key_belongs_to_the_whole_principal_and_a_replay_is_logged_as_a_read() {
    let app = TestApp::new().await;
    let school = app.organisation(OrganisationKind::School, "De Linde").await;
    let coordinator_token = app.token(school, &["care_coordinator"], "ib-mila");
    let child = app
        .post("/v1/children")
        .token(&coordinator_token)
        .json(
            &json!({"externalRef": "P-1", "givenName": "Noa", "familyName": "Jansen",
                      "dateOfBirth": "2015-01-01", "bsn": "111222333"}),
        )
        .send()
        .await;
    child.expect(201);
    let child_id: Uuid = child.body["id"].as_str().unwrap().parse().unwrap();
    let body = observation("Blauwe plek.");
    let send = |token: &str| {
        app.post(&format!("/v1/children/{child_id}/signals"))
            .token(token)
            .header("idempotency-key", "k-1")
            .json(&body)
            .send()
    };
    let first = send(&coordinator_token).await;
    first.expect(201);
    let replay = send(&coordinator_token).await;
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));

    // The replay read the signal again: it is in the access log as a read by the same person.
    let signal: Uuid = first.body["id"].as_str().unwrap().parse().unwrap();
    let entries = app.access_log(child_id).await;
    let reads = entries
        .iter()
        .filter(|(action, _, id, sub)| action == "read" && *id == Some(signal) && sub == "ib-mila")
        .count();
    assert_eq!(reads, 1, "{entries:?}");

    // The same professional with other roles is another principal: nothing is replayed to it.
    let as_teacher = app.token(school, &["teacher"], "ib-mila");
    let other = send(&as_teacher).await;
    other.expect(201);
    assert_eq!(other.header("idempotent-replayed"), None);
    assert_ne!(other.body["id"], first.body["id"]);
    // So is the same token through an acting client.
    let through_client = app.token_acting(school, &["care_coordinator"], "ib-mila", "parnassys");
    let third = send(&through_client).await;
    third.expect(201);
    assert_eq!(third.header("idempotent-replayed"), None);
    assert_eq!(signals_of(&app, child_id).await, 3);
}

#[tokio::test]
async fn a_server_failure_is_not_replayed_and_old_keys_are_purged() {
    let app = TestApp::new().await;
    let (teacher, child) = school(&app).await;
    let mut conn = app.conn().await;
    conn.batch_execute(
        "CREATE FUNCTION refuse_signal() RETURNS trigger LANGUAGE plpgsql AS
           $$ BEGIN RAISE EXCEPTION 'disk full'; END $$;
         CREATE TRIGGER refuse_signal BEFORE INSERT ON signals
           FOR EACH ROW EXECUTE FUNCTION refuse_signal();",
    )
    .await
    .expect("trigger");
    let key = "after-an-outage";
    record(&app, &teacher, child, Some(key), "Blauwe plek.")
        .await
        .expect_problem(500, "internal-error");
    conn.batch_execute("DROP TRIGGER refuse_signal ON signals")
        .await
        .expect("drop");
    let retry = record(&app, &teacher, child, Some(key), "Blauwe plek.").await;
    retry.expect(201);
    assert_eq!(retry.header("idempotent-replayed"), None, "ran again");

    // Kept a day, then purged; the key is free again.
    assert_eq!(
        schakel::idempotency::purge(&mut conn).await.expect("purge"),
        0
    );
    diesel::update(idempotency_keys::table)
        .set(idempotency_keys::created_at.eq(chrono::Utc::now() - chrono::Duration::hours(25)))
        .execute(&mut conn)
        .await
        .expect("age the key");
    assert_eq!(
        schakel::idempotency::purge(&mut conn).await.expect("purge"),
        1
    );
    let fresh = record(&app, &teacher, child, Some(key), "Iets anders.").await;
    fresh.expect(201);
    assert_eq!(signals_of(&app, child).await, 2);
}

// ---------------------------------------------------------------------------------------------
// Compression

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("valid gzip");
    out
}

#[tokio::test]
async fn responses_are_compressed_when_the_client_accepts_it() {
    let app = TestApp::new().await;
    let plain = app.get("/v1/openapi.json").send().await;
    plain.expect(200);
    assert_eq!(plain.header("content-encoding"), None);
    assert_eq!(plain.header("vary"), Some("accept-encoding"));

    let gzipped = app
        .get("/v1/openapi.json")
        .header("accept-encoding", "gzip")
        .send()
        .await;
    gzipped.expect(200);
    assert_eq!(gzipped.header("content-encoding"), Some("gzip"));
    assert_eq!(gzipped.header("vary"), Some("accept-encoding"));
    assert_eq!(gunzip(&gzipped.bytes), plain.bytes);
    assert!(
        gzipped.bytes.len() * 4 < plain.bytes.len(),
        "the spec compresses well"
    );

    let brotli = app
        .get("/v1/openapi.json")
        .header("accept-encoding", "gzip;q=0.5, br")
        .send()
        .await;
    assert_eq!(brotli.header("content-encoding"), Some("br"));
    assert!(brotli.bytes.len() * 4 < plain.bytes.len());

    let refused = app
        .get("/v1/openapi.json")
        .header("accept-encoding", "gzip;q=0, br;q=0")
        .send()
        .await;
    assert_eq!(refused.header("content-encoding"), None);
    assert_eq!(refused.bytes, plain.bytes);

    // Small bodies are not worth it; problems are compressed like any other body.
    let small = app
        .get("/v1/health/live")
        .header("accept-encoding", "gzip")
        .send()
        .await;
    assert_eq!(small.header("content-encoding"), None);
    assert_eq!(small.body["status"], "up");
}

#[tokio::test]
async fn a_compressed_representation_has_its_own_etag_and_revalidates() {
    let app = TestApp::new().await;
    let path = "/v1/reference/event-types";
    let plain = app.get(path).send().await;
    let tag = plain.header("etag").unwrap().to_owned();
    let gzipped = app.get(path).header("accept-encoding", "gzip").send().await;
    assert_eq!(gzipped.header("content-encoding"), Some("gzip"));
    let gzip_tag = gzipped.header("etag").unwrap().to_owned();
    assert_eq!(gzip_tag, format!("{}-gzip\"", &tag[..tag.len() - 1]));
    assert_eq!(gunzip(&gzipped.bytes), plain.bytes);

    for client_tag in [&tag, &gzip_tag] {
        let revalidated = app
            .get(path)
            .header("accept-encoding", "gzip")
            .header("if-none-match", client_tag)
            .send()
            .await;
        assert_eq!(revalidated.status, 304, "{client_tag}");
        assert_eq!(revalidated.header("content-encoding"), None);
        assert!(revalidated.bytes.is_empty());
    }
}
