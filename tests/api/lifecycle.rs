//! The data lifecycle: retention with its dry run, tombstones that keep nothing personal,
//! legal holds, destruction requests (representation, hearing, weighing, partial grants,
//! recipients notified) and subject access (JSON and HTML, with withheld items).

use chrono::{Datelike, Months, NaiveDate};
use diesel::{ExpressionMethods, QueryDsl};
use diesel_async::RunQueryDsl;
use poem::http::Method;
use schakel::{
    db::schema::{events, signal_revisions},
    domain::{
        calendar::dutch_today,
        lifecycle::RetentionPolicy,
        organisation::{OrganisationKind, Role},
    },
    retention,
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{Member, Reply, TestApp};

/// A school with its care coordinator, a teacher and its privacy officer.
struct School {
    coordinator: Member,
    teacher: Member,
    officer: Member,
}

async fn school(app: &TestApp) -> School {
    let coordinator = app
        .member(OrganisationKind::School, Role::CareCoordinator)
        .await;
    let teacher = app.member_of(coordinator.organisation, Role::Teacher).await;
    let officer = app
        .member_of(coordinator.organisation, Role::PrivacyOfficer)
        .await;
    School {
        coordinator,
        teacher,
        officer,
    }
}

/// The child whose file the tests purge: names, BSN, contact details and free texts of its own,
/// so any trace of them after a purge is found.
const PERSONAL: &[&str] = &[
    "Fenna",
    "Zwanenburg",
    "LL-FZ-77",
    "111222333",
    "groep 5c",
    "Ingrid",
    "Kees",
    "0612345678",
    "ingrid@example.nl",
    "kelder",
    "Truus",
    "buurvrouw",
    "schrok",
    "adviseur zei",
    "bespreekbaar",
    "ontkent",
    "structureel",
    "melden om",
    "Zorgen over Fenna",
    "afspraak met moeder",
    // The exact date of birth of the tombstone test's pupil: only the year stays.
    "2016-05-04",
];

struct Pupil {
    id: Uuid,
    mother: String,
    father: String,
    signal: String,
}

/// A pupil of `born`, with two guardians with parental authority and a third-party signal.
async fn pupil(app: &TestApp, s: &School, born: &str) -> Pupil {
    let reply = app
        .post("/v1/children")
        .by(&s.coordinator)
        .json(&json!({
            "externalRef": format!("LL-FZ-77{}", &Uuid::new_v4().simple().to_string()[..6]),
            "givenName": "Fenna", "familyName": "Zwanenburg",
            "dateOfBirth": born, "bsn": "111222333", "schoolGroup": "groep 5c",
            "guardians": [
                {"name": "Ingrid Zwanenburg", "relationship": "mother", "parentalAuthority": "yes",
                 "authoritySource": "gezagsregister",
                 "contact": {"phone": "0612345678", "email": "ingrid@example.nl"}},
                {"name": "Kees Zwanenburg", "relationship": "father", "parentalAuthority": "yes",
                 "authoritySource": "gezagsregister", "contact": {"phone": "0687654321"}}
            ]
        }))
        .send()
        .await;
    reply.expect(201);
    let id: Uuid = reply.body["id"].as_str().unwrap().parse().unwrap();
    let signal = app
        .post(&format!("/v1/children/{id}/signals"))
        .by(&s.teacher)
        .header("idempotency-key", &Uuid::new_v4().to_string())
        .json(&json!({
            "observedAt": "2026-11-20T08:30:00Z", "category": "statements_by_child",
            "source": "third_party", "sourceDescription": "de buurvrouw Truus",
            "facts": "Fenna vertelde dat ze in de kelder moest slapen.",
            "interpretation": "Ze schrok toen ik doorvroeg.", "direction": "raises_concern"
        }))
        .send()
        .await;
    signal.expect(201);
    Pupil {
        id,
        mother: reply.body["guardians"][0]["id"].as_str().unwrap().into(),
        father: reply.body["guardians"][1]["id"].as_str().unwrap().into(),
        signal: signal.body["id"].as_str().unwrap().into(),
    }
}

/// A case with every step (free text in each) decided to report, and the report sent.
async fn reported(app: &TestApp, s: &School, p: &Pupil, to: Uuid, disclosable: bool) -> String {
    let case = app
        .post(&format!("/v1/children/{}/cases", p.id))
        .by(&s.coordinator)
        .json(&json!({"lead": {"sub": s.coordinator.sub, "name": "IB"}, "signalIds": [p.signal]}))
        .send()
        .await;
    case.expect(201);
    let case = case.body["id"].as_str().unwrap().to_owned();
    for step in [
        json!({"step": "consultation", "kind": "veilig_thuis_advice", "consultedRole": "adviseur",
               "consultedAt": "2026-11-21T09:00:00Z", "advice": "De adviseur zei: maak het bespreekbaar."}),
        json!({"step": "conversation", "participants": {"guardianIds": [p.mother, p.father], "child": false},
               "heldAt": "2026-11-22T15:00:00Z", "factsPresented": "Over de kelder.",
               "reaction": "Vader ontkent alles."}),
        json!({"step": "weighing", "answers": {"suspicion": {"answer": "yes"},
               "unsafety": {"answer": "yes", "note": "Het is structureel."}}}),
        json!({"step": "decision", "decision": "report", "rationale": "Wij besluiten te melden om haar veiligheid."}),
    ] {
        app.post(&format!("/v1/cases/{case}/steps"))
            .by(&s.coordinator)
            .json(&step)
            .send()
            .await
            .expect(201);
    }
    app.post(&format!("/v1/cases/{case}/actions"))
        .by(&s.coordinator)
        .json(&json!({"description": "Een afspraak met moeder plannen.",
                      "owner": {"name": "IB"}, "dueDate": "2027-01-15"}))
        .send()
        .await;
    let mut report = json!({"kind": "report", "toOrganisation": to, "childId": p.id, "caseId": case,
        "signalIds": [p.signal], "message": "Zorgen over Fenna.", "parentsInformedAt": "2026-11-22T16:00:00Z"});
    if !disclosable {
        report["melderIdentityDisclosable"] = json!(false);
        report["melderIdentityReason"] = json!("Vrees voor represailles.");
    }
    let sent = app
        .post("/v1/handoffs")
        .by(&s.coordinator)
        .json(&report)
        .send()
        .await;
    sent.expect(201);
    sent.body["id"].as_str().unwrap().to_owned()
}

async fn correct(app: &TestApp, member: &Member, child: Uuid, body: Value) -> Reply {
    app.patch(&format!("/v1/children/{child}"))
        .by(member)
        .json(&body)
        .send()
        .await
}

fn years_ago(years: u32) -> NaiveDate {
    dutch_today() - Months::new(12 * years)
}

/// Every row of every table of the database, as text.
async fn every_row(app: &TestApp) -> Vec<(String, String)> {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        t: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        row: String,
    }
    let mut conn = app.conn().await;
    let tables: Vec<String> = diesel::sql_query(
        "SELECT table_name AS t, '' AS row FROM information_schema.tables
          WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1",
    )
    .load::<Row>(&mut conn)
    .await
    .unwrap()
    .into_iter()
    .map(|r| r.t)
    .collect();
    let mut rows = Vec::new();
    for table in tables {
        // Bytes (stored responses) as text too.
        let query = format!(
            "SELECT '{table}' AS t, convert_from(convert_to(x::text, 'UTF8'), 'UTF8') AS row FROM {table} x"
        );
        let found: Vec<Row> = diesel::sql_query(query).load(&mut conn).await.unwrap();
        rows.extend(found.into_iter().map(|r| (r.t, r.row)));
        if table == "idempotency_keys" {
            let bodies: Vec<Row> = diesel::sql_query(
                "SELECT 'idempotency_keys' AS t, convert_from(response_body, 'UTF8') AS row FROM idempotency_keys",
            )
            .load(&mut conn)
            .await
            .unwrap();
            rows.extend(bodies.into_iter().map(|r| (r.t, r.row)));
        }
    }
    rows
}

async fn run(app: &TestApp, dry: bool) -> retention::RetentionReport {
    retention::run(
        &app.state.pool,
        &RetentionPolicy::default(),
        dutch_today(),
        dry,
    )
    .await
    .expect("retention run")
}

#[tokio::test(flavor = "multi_thread")]
async fn only_the_end_of_involvement_of_the_own_kind_is_recorded() {
    let app = TestApp::new().await;
    let s = school(&app).await;
    let child = app.child(&s.coordinator, "LL-1").await;
    let left = correct(&app, &s.coordinator, child, json!({"leftOn": "2026-07-10"})).await;
    left.expect(200);
    assert_eq!(left.body["leftOn"], "2026-07-10");
    correct(
        &app,
        &s.coordinator,
        child,
        json!({"careEndedOn": "2026-07-10"}),
    )
    .await
    .expect_problem(400, "invalid-input");
    let tomorrow = (dutch_today() + chrono::Days::new(1)).to_string();
    correct(&app, &s.coordinator, child, json!({"leftOn": tomorrow}))
        .await
        .expect_problem(400, "invalid-input");
    let vt = app
        .member(OrganisationKind::VeiligThuis, Role::VtWorker)
        .await;
    let client = app.child(&vt, "VT-1").await;
    correct(&app, &vt, client, json!({"careEndedOn": "2026-11-01"}))
        .await
        .expect(200);
    correct(&app, &vt, client, json!({"leftOn": "2026-11-01"}))
        .await
        .expect_problem(400, "invalid-input");
}

#[tokio::test(flavor = "multi_thread")]
async fn retention_purges_what_the_due_list_and_the_dry_run_showed() {
    let app = TestApp::new().await;
    let s = school(&app).await;
    let gone = app.child(&s.coordinator, "LL-1").await;
    let recent = app.child(&s.coordinator, "LL-2").await;
    let staying = app.child(&s.coordinator, "LL-3").await;
    let left = years_ago(2).to_string();
    correct(&app, &s.coordinator, gone, json!({"leftOn": left}))
        .await
        .expect(200);
    let last_year = years_ago(1).to_string();
    correct(&app, &s.coordinator, recent, json!({"leftOn": last_year}))
        .await
        .expect(200);
    // Veilig Thuis: 20 years after its involvement, or the 18th birthday if later.
    let vt = app
        .member(OrganisationKind::VeiligThuis, Role::VtWorker)
        .await;
    let vt_officer = app.member_of(vt.organisation, Role::PrivacyOfficer).await;
    let vt_child = app.child(&vt, "VT-1").await;
    correct(&app, &vt, vt_child, json!({"careEndedOn": "2026-01-05"}))
        .await
        .expect(200);

    let due = app.get("/v1/retention/due").by(&s.officer).send().await;
    due.expect(200);
    let items = due.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", due.text);
    assert_eq!(items[0]["childId"], gone.to_string());
    assert_eq!(items[0]["dueOn"], dutch_today().to_string());
    assert_eq!(items[0]["term"]["anchorDate"], left);
    assert_eq!(items[0]["term"]["years"], 2);
    assert_eq!(items[0]["term"]["countedFrom"], "leftOn");
    assert_eq!(items[0]["blockedByLegalHold"], false);
    let vt_due = app.get("/v1/retention/due").by(&vt_officer).send().await;
    assert_eq!(vt_due.body["items"], json!([]));
    // Casework does not manage the lifecycle.
    app.get("/v1/retention/due")
        .by(&s.coordinator)
        .send()
        .await
        .expect_problem(403, "forbidden");

    let dry = run(&app, true).await;
    assert!(dry.dry_run);
    let dry_ids: Vec<Uuid> = dry.purged.iter().map(|d| d.child_id).collect();
    assert_eq!(dry_ids, [gone], "the dry run lists what the due list shows");
    assert_eq!(
        app.get(&format!("/v1/children/{gone}"))
            .by(&s.coordinator)
            .send()
            .await
            .status,
        200,
        "a dry run changes nothing"
    );
    // The Veilig Thuis child falls due 20 years on (the child is 13: 18 comes first).
    let later = NaiveDate::from_ymd_opt(2046, 1, 5).unwrap();
    let at_term = retention::run(&app.state.pool, &RetentionPolicy::default(), later, true)
        .await
        .unwrap();
    assert!(
        at_term
            .purged
            .iter()
            .any(|d| d.child_id == vt_child && d.due_on == later)
    );
    let before = later.pred_opt().unwrap();
    let not_yet = retention::run(&app.state.pool, &RetentionPolicy::default(), before, true)
        .await
        .unwrap();
    assert!(!not_yet.purged.iter().any(|d| d.child_id == vt_child));

    let report = run(&app, false).await;
    let purged: Vec<Uuid> = report.purged.iter().map(|d| d.child_id).collect();
    assert_eq!(
        purged, dry_ids,
        "the run purges exactly what the dry run listed"
    );
    app.get(&format!("/v1/children/{gone}"))
        .by(&s.coordinator)
        .send()
        .await
        .expect_problem(404, "not-found");
    for child in [recent, staying] {
        app.get(&format!("/v1/children/{child}"))
            .by(&s.coordinator)
            .send()
            .await
            .expect(200);
    }
    // The child's access log outlives its file.
    let child_log = app
        .get(&format!("/v1/children/{gone}/access-log"))
        .by(&s.officer)
        .send()
        .await;
    child_log.expect(200);
    assert!(
        child_log.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "purge")
    );
    let log = app.access_log(gone).await;
    assert!(
        log.iter().any(|(action, kind, id, actor)| action == "purge"
            && kind == "child"
            && *id == Some(gone)
            && actor == "schakel-retention"),
        "{log:?}"
    );
    assert_eq!(
        app.get("/v1/retention/due")
            .by(&s.officer)
            .send()
            .await
            .body["items"],
        json!([])
    );
    // A second run finds nothing more.
    assert!(run(&app, false).await.purged.is_empty());
    app.assert_log_intact().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_purged_file_keeps_its_tombstone_and_nothing_personal() {
    let app = TestApp::new().await;
    let s = school(&app).await;
    let vt = app
        .member(OrganisationKind::VeiligThuis, Role::VtWorker)
        .await;
    let p = pupil(&app, &s, "2016-05-04").await;
    let revised = app
        .post(&format!("/v1/signals/{}/revisions", p.signal))
        .by(&s.coordinator)
        .json(
            &json!({"reason": "Truus belde opnieuw.", "observedAt": "2026-11-20T08:30:00Z",
            "category": "statements_by_child", "source": "third_party",
            "sourceDescription": "de buurvrouw Truus", "direction": "raises_concern",
            "facts": "Fenna moest in de kelder slapen, zei ze."}),
        )
        .send()
        .await;
    revised.expect(201);
    // Sent, acknowledged, never taken in: nobody else holds a child record for the report.
    let report = reported(&app, &s, &p, vt.organisation, true).await;
    app.post(&format!("/v1/handoffs/{report}/acknowledgement"))
        .by(&vt)
        .json(&json!({"note": "Fenna's melding ontvangen."}))
        .send()
        .await
        .expect(200);
    // The school's kernteam discussed Fenna by name (nobody else in the room needs consent).
    let team = app
        .post("/v1/kernteams")
        .by(&s.coordinator)
        .json(&json!({"name": "Kernteam"}))
        .send()
        .await;
    let team = team.body["id"].as_str().unwrap().to_owned();
    let meeting = app
        .post(&format!("/v1/kernteams/{team}/meetings"))
        .by(&s.coordinator)
        .json(
            &json!({"heldOn": years_ago(4).to_string(), "kind": "casuistry",
                      "items": [{"childId": p.id, "concerns": ["statements_by_child"],
                                 "schoolGroup": "groep 5c",
                                 "question": "Fenna Zwanenburg sliep in de kelder; wat nu?"}]}),
        )
        .send()
        .await;
    meeting.expect(201);
    let item = meeting.body["items"][0]["id"].as_str().unwrap();
    app.request(
        poem::http::Method::PUT,
        &format!("/v1/kernteams/{team}/items/{item}/perspective"),
    )
    .by(&s.coordinator)
    .json(&json!({"notes": "Fenna vertelde het aan juf Ingrid."}))
    .send()
    .await
    .expect(200);
    app.post(&format!("/v1/kernteams/{team}/items/{item}/actions"))
        .by(&s.coordinator)
        .json(&json!({"ownerOrganisationId": s.coordinator.organisation, "ownerName": "Ingrid",
                      "description": "Gesprek met Fenna's moeder", "dueOn": years_ago(4).to_string()}))
        .send()
        .await
        .expect(201);
    let left = years_ago(3).to_string();
    correct(&app, &s.coordinator, p.id, json!({"leftOn": left}))
        .await
        .expect(200);
    let before = every_row(&app).await;
    assert!(
        before
            .iter()
            .any(|(table, row)| table == "kernteam_perspectives" && row.contains("Fenna")),
        "the fixture holds the kernteam's texts the purge must remove"
    );
    assert!(
        before.iter().any(|(_, row)| row.contains("kelder")),
        "the fixture holds the texts the purge must remove"
    );

    let report_run = run(&app, false).await;
    assert_eq!(report_run.purged.len(), 1);
    for (table, row) in every_row(&app).await {
        for personal in PERSONAL {
            assert!(
                !row.contains(personal),
                "{personal:?} left in {table}: {row}"
            );
        }
    }
    // The tombstone: what figures and the access log need.
    let mut conn = app.conn().await;
    let categories: Vec<(String, String, String)> = signal_revisions::table
        .filter(signal_revisions::signal_id.eq(p.signal.parse::<Uuid>().unwrap()))
        .select((
            signal_revisions::category,
            signal_revisions::source,
            signal_revisions::facts,
        ))
        .load(&mut conn)
        .await
        .unwrap();
    assert_eq!(categories.len(), 2);
    assert!(
        categories.iter().all(|(c, s, f)| c == "statements_by_child"
            && s == "third_party"
            && f == "[verwijderd]")
    );
    let handoff = app
        .get(&format!("/v1/handoffs/{report}"))
        .by(&vt)
        .send()
        .await;
    handoff.expect(200);
    assert_eq!(handoff.body["kind"], "report");
    assert_eq!(handoff.body["status"], "received");
    assert_eq!(handoff.body["child"]["dateOfBirth"], "2016-01-01");
    assert_eq!(
        handoff.body["signals"][0]["category"],
        "statements_by_child"
    );
    let purged_events: i64 = events::table
        .filter(events::event_type.eq("child.purged"))
        .filter(events::resource_id.eq(p.id))
        .count()
        .get_result(&mut conn)
        .await
        .unwrap();
    assert_eq!(purged_events, 1);
    let log = app.access_log(p.id).await;
    for kind in ["child", "signal", "case", "handoff"] {
        assert!(
            log.iter()
                .any(|(action, k, _, _)| action == "purge" && k == kind),
            "no purge entry for the {kind}: {log:?}"
        );
    }
    app.assert_log_intact().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_legal_hold_blocks_purge_and_destruction_until_lifted() {
    let app = TestApp::new().await;
    let s = school(&app).await;
    let p = pupil(&app, &s, "2016-05-04").await;
    let left = years_ago(3).to_string();
    correct(&app, &s.coordinator, p.id, json!({"leftOn": left}))
        .await
        .expect(200);
    let path = format!("/v1/children/{}/legal-hold", p.id);
    let hold = json!({"reason": "Ondertoezichtstelling loopt.", "until": "2099-12-31"});
    app.request(Method::PUT, &path)
        .by(&s.coordinator)
        .json(&hold)
        .send()
        .await
        .expect_problem(403, "forbidden");
    let placed = app
        .request(Method::PUT, &path)
        .by(&s.officer)
        .json(&hold)
        .send()
        .await;
    placed.expect(200);
    assert_eq!(placed.body["active"], true);
    let past = json!({"reason": "x", "until": "2020-01-01"});
    app.request(Method::PUT, &path)
        .by(&s.officer)
        .json(&past)
        .send()
        .await
        .expect_problem(400, "invalid-input");

    // Casework sees that a hold exists; a teacher does not.
    let seen = app
        .get(&format!("/v1/children/{}", p.id))
        .by(&s.coordinator)
        .send()
        .await;
    assert_eq!(
        seen.body["lifecycle"],
        json!({"legalHold": true, "destructionRequested": false})
    );
    let teacher = app
        .get(&format!("/v1/children/{}", p.id))
        .by(&s.teacher)
        .send()
        .await;
    teacher.expect(200);
    assert!(teacher.body.get("lifecycle").is_none(), "{}", teacher.text);

    let due = app.get("/v1/retention/due").by(&s.officer).send().await;
    assert_eq!(due.body["items"][0]["blockedByLegalHold"], true);
    let report = run(&app, false).await;
    assert!(report.purged.is_empty());
    assert_eq!(report.held.len(), 1);
    app.get(&format!("/v1/children/{}", p.id))
        .by(&s.coordinator)
        .send()
        .await
        .expect(200);

    // A destruction request may be received and refused, but not granted, under a hold.
    let request = app
        .post(&format!("/v1/children/{}/destruction-requests", p.id))
        .by(&s.officer)
        .json(
            &json!({"requester": "guardian", "guardianId": p.mother, "receivedOn": dutch_today(),
                      "scope": "everything",
                      "hearing": {"outcome": "heard", "note": "Vader gehoord."}}),
        )
        .send()
        .await;
    request.expect(201);
    let id = request.body["id"].as_str().unwrap();
    let grant = json!({"decision": "granted", "weighing": "Geen belang van een ander."});
    app.post(&format!("/v1/destruction-requests/{id}/decision"))
        .by(&s.officer)
        .json(&grant)
        .send()
        .await
        .expect_problem(409, "legal-hold");

    let holds = app.get("/v1/legal-holds").by(&s.officer).send().await;
    assert_eq!(holds.body["items"][0]["childId"], p.id.to_string());
    // Another organisation's privacy officer finds nothing.
    let other = school(&app).await;
    app.request(Method::PUT, &path)
        .by(&other.officer)
        .json(&hold)
        .send()
        .await
        .expect_problem(404, "not-found");
    app.delete(&path)
        .by(&other.officer)
        .send()
        .await
        .expect_problem(404, "not-found");

    let etag = app
        .get(&path)
        .by(&s.officer)
        .send()
        .await
        .header("etag")
        .unwrap()
        .to_owned();
    app.delete(&path)
        .by(&s.officer)
        .header("if-match", "\"stale\"")
        .send()
        .await
        .expect_problem(412, "precondition-failed");
    app.delete(&path)
        .by(&s.officer)
        .header("if-match", &etag)
        .send()
        .await
        .expect(204);
    app.get(&path)
        .by(&s.officer)
        .send()
        .await
        .expect_problem(404, "not-found");
    app.post(&format!("/v1/destruction-requests/{id}/decision"))
        .by(&s.officer)
        .json(&grant)
        .send()
        .await
        .expect(200);
    app.get(&format!("/v1/children/{}", p.id))
        .by(&s.coordinator)
        .send()
        .await
        .expect_problem(404, "not-found");
    let log = app.access_log(p.id).await;
    assert!(
        log.iter()
            .any(|(action, kind, ..)| action == "update" && kind == "legal_hold")
    );
    app.assert_log_intact().await;
}

async fn request(app: &TestApp, s: &School, child: Uuid, body: Value) -> Reply {
    app.post(&format!("/v1/children/{child}/destruction-requests"))
        .by(&s.officer)
        .json(&body)
        .send()
        .await
}

async fn decide(app: &TestApp, s: &School, id: &str, body: Value) -> Reply {
    app.post(&format!("/v1/destruction-requests/{id}/decision"))
        .by(&s.officer)
        .json(&body)
        .send()
        .await
}

fn born_years_ago(years: i32) -> String {
    let today = dutch_today();
    NaiveDate::from_ymd_opt(today.year() - years, 1, 1)
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn who_may_ask_follows_the_age_and_the_other_parent_is_heard() {
    let app = TestApp::new().await;
    let s = school(&app).await;
    let young = pupil(&app, &s, &born_years_ago(8)).await;
    let today = dutch_today();
    let asked = |requester: &str, guardian: Option<&str>, signal: &str| {
        let mut body = json!({"requester": requester, "receivedOn": today, "scope": "records",
                              "records": [{"type": "signal", "id": signal}]});
        if let Some(g) = guardian {
            body["guardianId"] = json!(g);
        }
        body
    };
    request(&app, &s, young.id, asked("child", None, &young.signal))
        .await
        .expect_problem(422, "requester-not-entitled");
    request(&app, &s, young.id, asked("guardian", None, &young.signal))
        .await
        .expect_problem(400, "invalid-input");
    let foreign_record = Uuid::new_v4().to_string();
    request(
        &app,
        &s,
        young.id,
        asked("guardian", Some(&young.mother), &foreign_record),
    )
    .await
    .expect_problem(422, "unknown-record");
    let created = request(
        &app,
        &s,
        young.id,
        asked("guardian", Some(&young.mother), &young.signal),
    )
    .await;
    created.expect(201);
    assert_eq!(created.body["guardiansToHear"], json!([young.father]));
    assert_eq!(created.body["status"], "received");
    let due = (today + Months::new(1)).to_string();
    assert_eq!(
        created.body["dueOn"], due,
        "a month under the AVG for a school"
    );
    let id = created.body["id"].as_str().unwrap().to_owned();
    // Casework sees a request is pending.
    let seen = app
        .get(&format!("/v1/children/{}", young.id))
        .by(&s.coordinator)
        .send()
        .await;
    assert_eq!(seen.body["lifecycle"]["destructionRequested"], true);

    let grant = json!({"decision": "granted", "weighing": "Het signaal blijkt onjuist."});
    decide(&app, &s, &id, grant.clone())
        .await
        .expect_problem(422, "hearing-required");
    let mut heard = grant.clone();
    heard["hearing"] =
        json!({"outcome": "heard", "note": "Vader gehoord op 1 december; geen bezwaar."});
    let decided = decide(&app, &s, &id, heard.clone()).await;
    decided.expect(200);
    assert_eq!(decided.body["status"], "granted");
    assert!(decided.body["executedAt"].is_string());
    assert_eq!(
        decided.body["decision"]["weighing"],
        "Het signaal blijkt onjuist."
    );
    decide(&app, &s, &id, heard)
        .await
        .expect_problem(409, "already-decided");
    // The signal is destroyed: its tombstone reads as such; the child stays.
    let signal = app
        .get(&format!("/v1/signals/{}", young.signal))
        .by(&s.coordinator)
        .send()
        .await;
    signal.expect(200);
    assert_eq!(signal.body["facts"], "[verwijderd]");
    assert_eq!(signal.body["category"], "statements_by_child");
    app.get(&format!("/v1/children/{}", young.id))
        .by(&s.coordinator)
        .send()
        .await
        .expect(200);
    let log = app.access_log(young.id).await;
    assert!(log.iter().any(|(action, kind, rid, _)| action == "purge"
        && kind == "signal"
        && rid.map(|r| r.to_string()) == Some(young.signal.clone())));

    // 12 to 15: the child asks, or a guardian; 16 and over: the child alone.
    let teen = pupil(&app, &s, &born_years_ago(14)).await;
    request(&app, &s, teen.id, asked("child", None, &teen.signal))
        .await
        .expect(201);
    request(
        &app,
        &s,
        teen.id,
        asked("guardian", Some(&teen.father), &teen.signal),
    )
    .await
    .expect(201);
    let adult = pupil(&app, &s, &born_years_ago(17)).await;
    request(
        &app,
        &s,
        adult.id,
        asked("guardian", Some(&adult.mother), &adult.signal),
    )
    .await
    .expect_problem(422, "requester-not-entitled");
    let alone = request(&app, &s, adult.id, asked("child", None, &adult.signal)).await;
    alone.expect(201);
    assert_eq!(alone.body["guardiansToHear"], json!([]));

    // Only the privacy officer, and only of the own organisation.
    app.post(&format!("/v1/children/{}/destruction-requests", teen.id))
        .by(&s.coordinator)
        .json(&asked("child", None, &teen.signal))
        .send()
        .await
        .expect_problem(403, "forbidden");
    let other = school(&app).await;
    request(&app, &other, teen.id, asked("child", None, &teen.signal))
        .await
        .expect_problem(404, "not-found");
    app.get(&format!("/v1/destruction-requests/{id}"))
        .by(&other.officer)
        .send()
        .await
        .expect_problem(404, "not-found");
    decide(&app, &other, &id, grant)
        .await
        .expect_problem(404, "not-found");
}

#[tokio::test(flavor = "multi_thread")]
async fn partial_grants_and_refusals_with_their_weighing_and_overdue_requests() {
    let app = TestApp::new().await;
    let s = school(&app).await;
    let p = pupil(&app, &s, &born_years_ago(13)).await;
    let second = app.signal(&s.teacher, p.id, "Een tweede signaal.").await;
    let everything =
        json!({"requester": "child", "receivedOn": dutch_today(), "scope": "everything"});
    let created = request(&app, &s, p.id, everything.clone()).await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    let partial = decide(
        &app,
        &s,
        &id,
        json!({"decision": "granted", "weighing": "Alleen het eerste signaal.",
        "records": [{"type": "signal", "id": p.signal}]}),
    )
    .await;
    partial.expect(200);
    assert_eq!(partial.body["status"], "partially_granted");
    assert_eq!(
        partial.body["decision"]["grantedRecords"],
        json!([{"type": "signal", "id": p.signal}])
    );
    let first = app
        .get(&format!("/v1/signals/{}", p.signal))
        .by(&s.coordinator)
        .send()
        .await;
    assert_eq!(first.body["facts"], "[verwijderd]");
    let kept = app
        .get(&format!("/v1/signals/{second}"))
        .by(&s.coordinator)
        .send()
        .await;
    assert_eq!(kept.body["facts"], "Een tweede signaal.");

    let refused = request(&app, &s, p.id, everything.clone()).await;
    let refused = refused.body["id"].as_str().unwrap().to_owned();
    let no_ground = decide(
        &app,
        &s,
        &refused,
        json!({"decision": "refused", "weighing": "Nodig voor de veiligheid."}),
    )
    .await;
    no_ground.expect_problem(400, "invalid-input");
    assert_eq!(no_ground.invalid_params(), ["refusalGround"]);
    let unnamed_duty = decide(
        &app,
        &s,
        &refused,
        json!({"decision": "refused", "weighing": "Bewaarplicht.",
        "refusalGround": "legal_duty"}),
    )
    .await;
    assert_eq!(unnamed_duty.invalid_params(), ["legalDuty"]);
    let done = decide(&app, &s, &refused, json!({"decision": "refused",
        "weighing": "Het belang van het kind bij bewaren weegt zwaarder.", "refusalGround": "third_party_interest"})).await;
    done.expect(200);
    assert_eq!(done.body["status"], "refused");
    assert_eq!(
        done.body["decision"]["refusalGround"],
        "third_party_interest"
    );
    assert_eq!(kept_facts(&app, &s, &second).await, "Een tweede signaal.");

    // A request received two months ago and undecided is overdue.
    let mut old = everything.clone();
    old["receivedOn"] = json!(dutch_today() - Months::new(2));
    let late = request(&app, &s, p.id, old).await;
    late.expect(201);
    assert_eq!(late.body["overdue"], true);
    let overdue = app
        .get("/v1/destruction-requests?overdue=true")
        .by(&s.officer)
        .send()
        .await;
    let ids: Vec<&str> = overdue.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [late.body["id"].as_str().unwrap()]);
    let refused_list = app
        .get("/v1/destruction-requests?status=refused")
        .by(&s.officer)
        .send()
        .await;
    assert_eq!(refused_list.body["items"].as_array().unwrap().len(), 1);

    // The AVG's month is extended once, by two months, before it runs out.
    let fresh = request(&app, &s, p.id, everything.clone()).await;
    let fresh_id = fresh.body["id"].as_str().unwrap().to_owned();
    let extend = |id: String| {
        let app = &app;
        let officer = &s.officer;
        async move {
            app.post(&format!("/v1/destruction-requests/{id}/extension"))
                .by(officer)
                .json(&json!({"reason": "De andere ouder is nog niet bereikt."}))
                .send()
                .await
        }
    };
    let extended = extend(fresh_id.clone()).await;
    extended.expect(200);
    let due = (dutch_today() + Months::new(1) + Months::new(2)).to_string();
    assert_eq!(extended.body["dueOn"], due);
    assert_eq!(
        extended.body["extension"]["reason"],
        "De andere ouder is nog niet bereikt."
    );
    extend(fresh_id)
        .await
        .expect_problem(422, "extension-not-allowed");
    // Past its due date it is too late.
    let late_id = late.body["id"].as_str().unwrap().to_owned();
    extend(late_id)
        .await
        .expect_problem(422, "extension-not-allowed");
}

async fn kept_facts(app: &TestApp, s: &School, signal: &Uuid) -> String {
    let reply = app
        .get(&format!("/v1/signals/{signal}"))
        .by(&s.coordinator)
        .send()
        .await;
    reply.body["facts"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_granted_destruction_notifies_who_holds_a_copy() {
    let app = TestApp::new().await;
    let s = school(&app).await;
    let vt = app
        .member(OrganisationKind::VeiligThuis, Role::VtWorker)
        .await;
    let p = pupil(&app, &s, &born_years_ago(10)).await;
    let report = reported(&app, &s, &p, vt.organisation, true).await;
    app.post(&format!("/v1/handoffs/{report}/acknowledgement"))
        .by(&vt)
        .json(&json!({}))
        .send()
        .await
        .expect(200);
    app.post(&format!("/v1/handoffs/{report}/intake"))
        .by(&vt)
        .json(&json!({}))
        .send()
        .await
        .expect(201);
    let created = request(
        &app,
        &s,
        p.id,
        json!({"requester": "guardian", "guardianId": p.mother,
        "receivedOn": dutch_today(), "scope": "everything",
        "hearing": {"outcome": "not_heard", "note": "Vader is onbereikbaar (geen adres bekend)."}}),
    )
    .await;
    created.expect(201);
    assert_eq!(created.body["guardiansToHear"], json!([]));
    let id = created.body["id"].as_str().unwrap().to_owned();
    let decided = decide(
        &app,
        &s,
        &id,
        json!({"decision": "granted", "weighing": "Geen zwaarwegend belang."}),
    )
    .await;
    decided.expect(200);
    // The school's file is gone…
    app.get(&format!("/v1/children/{}", p.id))
        .by(&s.coordinator)
        .send()
        .await
        .expect_problem(404, "not-found");
    // …the report and its feedback with it, from the school's view…
    app.get(&format!("/v1/handoffs/{report}"))
        .by(&s.coordinator)
        .send()
        .await
        .expect_problem(404, "not-found");
    let sent = app
        .get("/v1/handoffs?direction=outgoing")
        .by(&s.coordinator)
        .send()
        .await;
    assert_eq!(sent.body["items"], json!([]), "{}", sent.text);
    // …Veilig Thuis keeps its copy under its own retention, and is told.
    let copy = app
        .get(&format!("/v1/handoffs/{report}"))
        .by(&vt)
        .send()
        .await;
    assert_eq!(copy.body["child"]["givenName"], "Fenna");
    app.settle_events().await;
    let feed = app
        .get("/v1/events?types=child.destruction_notified")
        .by(&vt)
        .send()
        .await;
    let items = feed.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", feed.text);
    assert_eq!(items[0]["resource"]["id"], report);
    let own = app
        .get("/v1/events?types=child.purged")
        .by(&s.coordinator)
        .send()
        .await;
    assert_eq!(own.body["items"][0]["resource"]["id"], p.id.to_string());
    app.assert_log_intact().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn subject_access_gives_everything_and_marks_what_is_withheld() {
    let app = TestApp::new().await;
    let s = school(&app).await;
    let vt = app
        .member(OrganisationKind::VeiligThuis, Role::VtWorker)
        .await;
    let p = pupil(&app, &s, "2016-05-04").await;
    let report = reported(&app, &s, &p, vt.organisation, false).await;
    let path = format!("/v1/children/{}/subject-access", p.id);

    let export = app.get(&path).by(&s.officer).send().await;
    export.expect(200);
    let body = &export.body;
    assert_eq!(body["child"]["givenName"], "Fenna");
    assert_eq!(body["child"]["bsn"], "111222333");
    assert_eq!(body["legalBasis"], "avg_art_15");
    assert_eq!(
        body["signals"][0]["facts"],
        "Fenna vertelde dat ze in de kelder moest slapen."
    );
    assert_eq!(
        body["cases"][0]["steps"].as_array().unwrap().len(),
        5,
        "{}",
        body["cases"]
    );
    assert_eq!(body["handoffsSent"][0]["id"], report);
    assert_eq!(body["handoffsSent"][0]["message"], "Zorgen over Fenna.");
    assert!(body["timeline"].as_array().unwrap().len() >= 5);
    assert!(!body["accessLog"].as_array().unwrap().is_empty());
    // Withheld, in place and listed: who told the third-party signal, the guardians' contact
    // details, and the reporter who asked not to be named.
    assert_eq!(body["signals"][0]["sourceDescription"], "[achtergehouden]");
    assert_eq!(
        body["child"]["guardians"][0]["contact"]["phone"],
        "[achtergehouden]"
    );
    assert_eq!(
        body["handoffsSent"][0]["sentBy"]["name"],
        "[achtergehouden]"
    );
    let withheld: Vec<(String, String)> = body["withheld"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["pointer"].as_str().unwrap().into(),
                w["reason"].as_str().unwrap().into(),
            )
        })
        .collect();
    for expected in [
        ("/signals/0/sourceDescription", "third_party"),
        ("/child/guardians/0/contact", "third_party"),
        ("/child/guardians/1/contact", "third_party"),
        ("/handoffsSent/0/sentBy", "reporter_identity"),
    ] {
        assert!(
            withheld.contains(&(expected.0.into(), expected.1.into())),
            "{expected:?} not in {withheld:?}"
        );
    }
    assert!(!export.text.contains("Truus") && !export.text.contains("0612345678"));
    assert!(
        !export.text.contains(&s.coordinator.sub),
        "the reporter's id is withheld everywhere"
    );

    // The mother asking sees her own contact details, not the father's.
    let for_mother = app
        .get(&format!("{path}?requester={}", p.mother))
        .by(&s.officer)
        .send()
        .await;
    assert_eq!(
        for_mother.body["child"]["guardians"][0]["contact"]["phone"],
        "0612345678"
    );
    assert_eq!(
        for_mother.body["child"]["guardians"][1]["contact"]["phone"],
        "[achtergehouden]"
    );
    app.get(&format!("{path}?requester={}", Uuid::new_v4()))
        .by(&s.officer)
        .send()
        .await
        .expect_problem(400, "invalid-input");

    let html = app
        .get(&path)
        .by(&s.officer)
        .header("accept", "text/html")
        .send()
        .await;
    html.expect_document(&[
        "Inzage in gegevens",
        "Signalen",
        "Feiten",
        "kelder",
        "achtergehouden",
        "Gezag",
        // Codes read in Dutch.
        "Uitspraken van het kind",
        "Derde",
    ]);
    assert!(!html.text.contains("Truus"));
    assert!(!html.text.contains("statements_by_child"));

    // Every export is logged, with its basis.
    let mut conn = app.conn().await;
    let exports: Vec<Option<String>> = schakel::db::schema::access_log::table
        .filter(schakel::db::schema::access_log::action.eq("export"))
        .filter(schakel::db::schema::access_log::child_id.eq(p.id))
        .select(schakel::db::schema::access_log::legal_basis)
        .load(&mut conn)
        .await
        .unwrap();
    assert_eq!(exports.len(), 3);
    assert!(exports.iter().all(|b| b.as_deref() == Some("avg_art_15")));

    // Casework and other organisations get nothing.
    app.get(&path)
        .by(&s.coordinator)
        .send()
        .await
        .expect_problem(403, "forbidden");
    let other = school(&app).await;
    let foreign = app.get(&path).by(&other.officer).send().await;
    foreign.expect_problem(404, "not-found");
    // The refused attempt is in the asking organisation's log, not the child's.
    let denied: Vec<(Uuid, String)> = schakel::db::schema::access_log::table
        .filter(schakel::db::schema::access_log::outcome.eq("denied"))
        .filter(schakel::db::schema::access_log::resource_id.eq(p.id))
        .select((
            schakel::db::schema::access_log::organisation_id,
            schakel::db::schema::access_log::actor_sub,
        ))
        .load(&mut conn)
        .await
        .unwrap();
    assert!(
        denied.contains(&(other.officer.organisation, other.officer.sub.clone())),
        "{denied:?}"
    );
    // The coordinator's 403 is in the school's own log, as a refusal of its own professional.
    assert!(denied.contains(&(s.officer.organisation, s.coordinator.sub.clone())));
    assert!(
        denied
            .iter()
            .all(|(org, sub)| *sub != other.officer.sub || *org == other.officer.organisation)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn delivery_history_and_events_go_after_their_terms() {
    use diesel_async::SimpleAsyncConnection;
    let app = TestApp::new().await;
    let s = school(&app).await;
    let org = s.coordinator.organisation;
    let mut conn = app.conn().await;
    conn.batch_execute(&format!(
        "INSERT INTO webhook_subscriptions (id, organisation_id, url, event_types, secret, cursor_tx,
                                           cursor_id, created_by_sub)
              VALUES ('00000000-0000-0000-0000-00000000000a', '{org}', 'https://sis.example/h',
                      '{{child.created}}', 'x', 0, 0, 'admin');
         INSERT INTO events (id, event_type, organisation_id, resource_type, resource_id, occurred_at)
              OVERRIDING SYSTEM VALUE VALUES
              (900001, 'child.created', '{org}', 'child', gen_random_uuid(), now() - interval '100 days'),
              (900002, 'child.created', '{org}', 'child', gen_random_uuid(), now() - interval '100 days'),
              (900003, 'child.created', '{org}', 'child', gen_random_uuid(), now() - interval '100 days'),
              (900004, 'child.created', '{org}', 'child', gen_random_uuid(), now() - interval '10 days');
         INSERT INTO webhook_deliveries (id, subscription_id, event_id, status, created_at) VALUES
              (gen_random_uuid(), '00000000-0000-0000-0000-00000000000a', 900002, 'delivered', now() - interval '40 days'),
              (gen_random_uuid(), '00000000-0000-0000-0000-00000000000a', 900003, 'pending', now() - interval '40 days'),
              (gen_random_uuid(), '00000000-0000-0000-0000-00000000000a', 900004, 'failed', now() - interval '10 days');"
    ))
    .await
    .unwrap();
    let report = run(&app, false).await;
    assert_eq!(
        report.operational.deliveries, 1,
        "the delivered one past 30 days"
    );
    let left: Vec<i64> = events::table
        .filter(events::id.ge(900_001))
        .select(events::id)
        .order(events::id)
        .load(&mut conn)
        .await
        .unwrap();
    // 900001 and 900002 were past 90 days with nothing waiting; a pending delivery keeps
    // 900003; 900004 is recent.
    assert_eq!(left, [900_003, 900_004]);
    assert_eq!(report.operational.events, 2);
}
