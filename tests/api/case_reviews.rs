//! The joint case review: a closed report looked back on by the school and Veilig Thuis, each
//! with a pseudonymised chronology from its own records and its reflections — shared once both
//! agreed and released, withdrawable before, invisible to anyone else.

use diesel::{ExpressionMethods, QueryDsl};
use diesel_async::RunQueryDsl;
use schakel::{
    db::schema::access_log,
    domain::organisation::{OrganisationKind, Role},
};
use serde_json::{Value, json};

use crate::harness::{Member, Reply, TestApp};

struct Setup {
    coordinator: Member,
    vt: Member,
    report: String,
    child: uuid::Uuid,
    mother: String,
}

/// What the records hold that a review must never show.
const PERSONAL: &[&str] = &[
    "Noah",
    "de Boer",
    "Sarah",
    "2013-04-02",
    "111222333",
    "LL-7",
    "Blauwe plek",
    "Zorgen over de thuissituatie",
    "Melding ontvangen, wij",
    "Geef rust",
    "Hulp ingezet via het wijkteam",
    "Test Professional",
];

async fn post(app: &TestApp, by: &Member, path: &str, body: Value) -> Reply {
    app.post(path).by(by).json(&body).send().await
}

/// A report with a signal before it, received, answered with status and (under consent)
/// substantive feedback, and closed — with free text everywhere a review must leave out.
async fn closed_report(app: &TestApp) -> Setup {
    let coordinator = app
        .member(OrganisationKind::School, Role::CareCoordinator)
        .await;
    let teacher = app.member_of(coordinator.organisation, Role::Teacher).await;
    let vt = app
        .member(OrganisationKind::VeiligThuis, Role::VtWorker)
        .await;
    let registered = post(
        app,
        &coordinator,
        "/v1/children",
        json!({
        "externalRef": "LL-7", "givenName": "Noah", "familyName": "de Boer",
        "dateOfBirth": "2013-04-02", "bsn": "111222333",
        "guardians": [{"name": "Sarah de Boer", "relationship": "mother",
                       "parentalAuthority": "yes", "authoritySource": "gezagsregister"}]}),
    )
    .await;
    registered.expect(201);
    let child: uuid::Uuid = registered.body["id"].as_str().unwrap().parse().unwrap();
    let signal = app
        .signal(&teacher, child, "Blauwe plek op de bovenarm.")
        .await;
    let sent = post(
        app,
        &coordinator,
        "/v1/handoffs",
        json!({
        "kind": "report", "toOrganisation": vt.organisation, "childId": child,
        "signalIds": [signal], "message": "Zorgen over de thuissituatie.",
        "requestsGuidance": true, "parentsInformedAt": "2026-11-20T15:00:00Z"}),
    )
    .await;
    sent.expect(201);
    let report = sent.body["id"].as_str().unwrap().to_owned();
    let base = format!("/v1/handoffs/{report}");
    post(app, &vt, &format!("{base}/acknowledgement"), json!({}))
        .await
        .expect(200);
    let intake = post(app, &vt, &format!("{base}/intake"), json!({})).await;
    intake.expect(201);
    let vt_child = intake.body["id"].as_str().unwrap().to_owned();
    post(
        app,
        &vt,
        &format!("{base}/feedback"),
        json!({
        "category": "received", "message": "Melding ontvangen, wij nemen contact op."}),
    )
    .await
    .expect(201);
    let consent = post(
        app,
        &vt,
        "/v1/consents",
        json!({
        "childId": vt_child, "purpose": "feedback_to_school",
        "recipientOrganisation": coordinator.organisation,
        "scope": ["guidance_for_school"], "handoffId": report}),
    )
    .await;
    consent.expect(201);
    let consent_id = consent.body["id"].as_str().unwrap();
    for party in consent.body["requiredParties"].as_array().unwrap() {
        let party = party["guardianId"].as_str().unwrap_or("child");
        post(
            app,
            &vt,
            &format!("/v1/consents/{consent_id}/decisions"),
            json!({
            "party": party, "decision": "granted", "method": "verbal",
            "decidedAt": "2026-11-21T10:00:00Z"}),
        )
        .await
        .expect(201);
    }
    post(
        app,
        &vt,
        &format!("{base}/feedback"),
        json!({
        "category": "guidance_for_school", "message": "Geef rust en voorspelbaarheid.",
        "audience": "care_coordinators"}),
    )
    .await
    .expect(201);
    post(app, &vt, &format!("{base}/acceptance"), json!({}))
        .await
        .expect(200);
    post(
        app,
        &vt,
        &format!("{base}/feedback"),
        json!({
        "category": "safety_assessment_decided", "outcome": "handed_to_local_team",
        "message": "Melding ontvangen, wij dragen over aan het wijkteam."}),
    )
    .await
    .expect(201);
    post(
        app,
        &vt,
        &format!("{base}/closure"),
        json!({"note": "Hulp ingezet via het wijkteam."}),
    )
    .await
    .expect(200);
    Setup {
        coordinator,
        vt,
        report,
        child,
        mother: registered.body["guardians"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned(),
    }
}

async fn propose(app: &TestApp, by: &Member, handoff: &str) -> Reply {
    post(app, by, "/v1/case-reviews", json!({"handoffId": handoff})).await
}

fn assert_anonymous(reply: &Reply) {
    for text in PERSONAL {
        assert!(!reply.text.contains(text), "{text:?} in {}", reply.text);
    }
}

fn lines(part: &Value) -> Vec<(i64, String, String)> {
    part["chronology"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["day"].as_i64().unwrap(),
                l["event"].as_str().unwrap().to_owned(),
                l["code"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn both_sides_agree_write_and_release_and_nothing_personal_is_shared() {
    let app = TestApp::new().await;
    let s = closed_report(&app).await;
    let proposed = propose(&app, &s.coordinator, &s.report).await;
    proposed.expect(201);
    assert_eq!(proposed.body["status"], "proposed");
    assert_eq!(proposed.body["proposedBy"], "school");
    assert_eq!(proposed.body["parts"], json!([]));
    let id = proposed.body["id"].as_str().unwrap().to_owned();
    let review = format!("/v1/case-reviews/{id}");
    assert_eq!(
        proposed.header("location"),
        Some(format!("/v1/case-reviews/{id}").as_str())
    );
    // The proposer does not answer its own proposal.
    post(
        &app,
        &s.coordinator,
        &format!("{review}/acceptance"),
        json!({}),
    )
    .await
    .expect_problem(403, "forbidden");
    let agreed = post(&app, &s.vt, &format!("{review}/acceptance"), json!({})).await;
    agreed.expect(200);
    assert_eq!(agreed.body["status"], "agreed");
    assert_eq!(agreed.body["yourSide"], "veilig_thuis");
    // Veilig Thuis sees its own part only: the report from its side, day 0 the report.
    let parts = agreed.body["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 1);
    assert_eq!(parts[0]["side"], "veilig_thuis");
    let vt_lines = lines(&parts[0]);
    for (event, code) in [
        ("report_sent", ""),
        ("report_status", "received"),
        ("report_status", "closed"),
        ("feedback", "received"),
        ("consent_asked", "feedback_to_school"),
        ("consent_answered", "granted"),
        ("feedback", "guidance_for_school"),
        ("report_status", "accepted"),
        ("safety_assessment_decided", ""),
    ] {
        assert!(
            vt_lines.iter().any(|(_, e, c)| e == event && c == code),
            "{event} {code} in {vt_lines:?}"
        );
    }
    // Day 0 is the report; the parents' answer was recorded as given before it (21 November).
    assert!(vt_lines.contains(&(0, "report_sent".into(), String::new())));
    let answered = vt_lines
        .iter()
        .find(|(_, e, _)| e == "consent_answered")
        .unwrap();
    assert!(answered.0 < 0);
    assert_anonymous(&agreed);
    // The school's part: its signal (by a teacher) and the report as it saw it move.
    let school = app.get(&review).by(&s.coordinator).send().await;
    school.expect(200);
    let part = &school.body["parts"][0];
    assert_eq!(part["side"], "school");
    let signal = part["chronology"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["event"] == "signal_recorded")
        .expect("the signal");
    assert_eq!(signal["by"], "teacher");
    assert!(signal["code"].is_string());
    assert!(
        lines(part)
            .iter()
            .any(|(_, e, c)| e == "report_status" && c == "closed")
    );
    assert_anonymous(&school);

    // Reflections speak of roles.
    let write = |by: &Member, body: Value| {
        app.request(poem::http::Method::PUT, &format!("{review}/reflections"))
            .by(by)
            .json(&body)
            .send()
    };
    write(
        &s.coordinator,
        json!({"couldBeBetter": "Noah de Boer zat weken in de klas zonder plan."}),
    )
    .await
    .expect_problem(422, "not-anonymous");
    let bsn = write(
        &s.coordinator,
        json!({"wentWell": "Het BSN 111 222 333 stond erbij."}),
    )
    .await;
    bsn.expect_problem(422, "not-anonymous");
    assert_eq!(bsn.body["field"], "wentWell");
    write(&s.coordinator, json!({"wentWell": "De intern begeleider belde de dag na de melding.",
                                 "couldBeBetter": "Eerder horen dat ouders om toestemming is gevraagd.",
                                 "themes": ["feedback", "child_at_school"]}))
        .await
        .expect(200);
    // Nothing to release without reflections.
    post(&app, &s.vt, &format!("{review}/release"), json!({}))
        .await
        .expect_problem(422, "reflections-required");
    let released = post(
        &app,
        &s.coordinator,
        &format!("{review}/release"),
        json!({}),
    )
    .await;
    released.expect(200);
    assert_eq!(released.body["status"], "agreed");
    // Released is final for the school's part; Veilig Thuis does not see it yet.
    write(&s.coordinator, json!({"wentWell": "Anders."}))
        .await
        .expect_problem(409, "invalid-transition");
    let vt_view = app.get(&review).by(&s.vt).send().await;
    assert_eq!(vt_view.body["parts"].as_array().unwrap().len(), 1);
    write(
        &s.vt,
        json!({"wentWell": "De school gaf feiten, los van interpretaties.",
                        "themes": ["communication"]}),
    )
    .await
    .expect(200);
    let done = post(&app, &s.vt, &format!("{review}/release"), json!({})).await;
    done.expect(200);
    assert_eq!(done.body["status"], "released");
    assert!(done.body["releasedAt"].is_string());
    for member in [&s.coordinator, &s.vt] {
        let both = app.get(&review).by(member).send().await;
        both.expect(200);
        let sides: Vec<&str> = both.body["parts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["side"].as_str().unwrap())
            .collect();
        assert_eq!(sides, ["school", "veilig_thuis"]);
        assert_eq!(
            both.body["parts"][0]["themes"],
            json!(["feedback", "child_at_school"])
        );
        assert_anonymous(&both);
    }
    // Released: no withdrawal any more.
    post(&app, &s.vt, &format!("{review}/withdrawal"), json!({}))
        .await
        .expect_problem(409, "invalid-transition");
    // The printable document for the ontwikkeltafel.
    let html = app
        .get(&review)
        .by(&s.vt)
        .header("accept", "text/html")
        .send()
        .await;
    html.expect_document(&[
        "Casusbespreking",
        "Melding gedaan",
        "Terugkoppeling",
        "Wat ging goed",
        "belde de dag na",
    ]);
    assert_anonymous(&html);
    // Every step is in the access log, of both sides.
    let mut conn = app.conn().await;
    let logged: Vec<(String, String)> = access_log::table
        .filter(access_log::resource_type.eq("case_review"))
        .order(access_log::id)
        .select((access_log::action, access_log::actor_sub))
        .load(&mut conn)
        .await
        .unwrap();
    let actions: Vec<&str> = logged.iter().map(|(a, _)| a.as_str()).collect();
    for action in ["create", "update", "read", "export"] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
    assert!(logged.iter().any(|(_, sub)| *sub == s.vt.sub));
    assert!(logged.iter().any(|(_, sub)| *sub == s.coordinator.sub));
    // Both sides hear of it.
    let feed = app
        .get("/v1/events?limit=200")
        .by(&s.coordinator)
        .send()
        .await;
    let types: Vec<&str> = feed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["resource"]["type"] == "case_review")
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    for event in [
        "case_review.proposed",
        "case_review.answered",
        "case_review.part_released",
        "case_review.released",
    ] {
        assert!(types.contains(&event), "{event} in {types:?}");
    }
    app.assert_log_intact().await;
}

#[tokio::test]
async fn a_review_is_in_subject_access_and_goes_with_its_side_s_records() {
    let app = TestApp::new().await;
    let s = closed_report(&app).await;
    let proposed = propose(&app, &s.coordinator, &s.report).await;
    let review = format!("/v1/case-reviews/{}", proposed.body["id"].as_str().unwrap());
    post(&app, &s.vt, &format!("{review}/acceptance"), json!({}))
        .await
        .expect(200);
    for by in [&s.coordinator, &s.vt] {
        app.request(poem::http::Method::PUT, &format!("{review}/reflections"))
            .by(by)
            .json(&json!({"wentWell": "Snel contact na de melding."}))
            .send()
            .await
            .expect(200);
        post(&app, by, &format!("{review}/release"), json!({}))
            .await
            .expect(200);
    }
    // The school's privacy officer finds the review in the child's subject access.
    let officer = app
        .member_of(s.coordinator.organisation, Role::PrivacyOfficer)
        .await;
    let export = app
        .get(&format!("/v1/children/{}/subject-access", s.child))
        .by(&officer)
        .send()
        .await;
    export.expect(200);
    let reviews = export.body["caseReviews"].as_array().unwrap();
    assert_eq!(reviews.len(), 1);
    assert_eq!(reviews[0]["status"], "released");
    // The mother asks the school to destroy everything: the school's part goes with its
    // records (its chronology and reflections), Veilig Thuis's part stays.
    let request = app
        .post(&format!("/v1/children/{}/destruction-requests", s.child))
        .by(&officer)
        .json(&json!({"requester": "guardian", "guardianId": s.mother,
                      "receivedOn": schakel::domain::calendar::dutch_today(),
                      "scope": "everything"}))
        .send()
        .await;
    request.expect(201);
    app.post(&format!(
        "/v1/destruction-requests/{}/decision",
        request.body["id"].as_str().unwrap()
    ))
    .by(&officer)
    .json(&json!({"decision": "granted", "weighing": "Geen zwaarwegend belang van een ander."}))
    .send()
    .await
    .expect(200);
    let after = app.get(&review).by(&s.vt).send().await;
    after.expect(200);
    let parts = after.body["parts"].as_array().unwrap();
    assert_eq!(parts[0]["side"], "school");
    assert_eq!(parts[0]["chronology"], json!([]));
    assert_eq!(parts[0]["wentWell"], "[verwijderd]");
    assert_eq!(parts[1]["wentWell"], "Snel contact na de melding.");
    assert!(!parts[1]["chronology"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn only_a_closed_report_of_your_own_once_at_a_time_and_nobody_else_sees_it() {
    let app = TestApp::new().await;
    let s = closed_report(&app).await;
    // A report still open is not reviewed.
    let open = {
        let child = app.child(&s.coordinator, "LL-8").await;
        let sent = post(
            &app,
            &s.coordinator,
            "/v1/handoffs",
            json!({
            "kind": "report", "toOrganisation": s.vt.organisation, "childId": child,
            "message": "Zorgen.", "parentsInformedAt": "2026-11-20T15:00:00Z"}),
        )
        .await;
        sent.expect(201);
        sent.body["id"].as_str().unwrap().to_owned()
    };
    propose(&app, &s.coordinator, &open)
        .await
        .expect_problem(422, "not-a-closed-report");
    // Another school's coordinator: as if there were no report.
    let stranger = app
        .member(OrganisationKind::School, Role::CareCoordinator)
        .await;
    propose(&app, &stranger, &s.report)
        .await
        .expect_problem(422, "not-a-closed-report");
    // A teacher does not take part.
    let teacher = app
        .member_of(s.coordinator.organisation, Role::Teacher)
        .await;
    propose(&app, &teacher, &s.report)
        .await
        .expect_problem(403, "forbidden");

    let proposed = propose(&app, &s.vt, &s.report).await;
    proposed.expect(201);
    assert_eq!(proposed.body["proposedBy"], "veilig_thuis");
    let id = proposed.body["id"].as_str().unwrap().to_owned();
    propose(&app, &s.coordinator, &s.report)
        .await
        .expect_problem(409, "review-exists");
    // Nobody else sees or touches it: 404 like no review at all.
    let vt_stranger = app
        .member(OrganisationKind::VeiligThuis, Role::VtWorker)
        .await;
    for member in [&stranger, &vt_stranger] {
        app.get(&format!("/v1/case-reviews/{id}"))
            .by(member)
            .send()
            .await
            .expect_problem(404, "not-found");
        post(
            &app,
            member,
            &format!("/v1/case-reviews/{id}/acceptance"),
            json!({}),
        )
        .await
        .expect_problem(404, "not-found");
        let list = app.get("/v1/case-reviews").by(member).send().await;
        list.expect(200);
        assert_eq!(list.body["items"], json!([]));
    }
    app.get(&format!("/v1/case-reviews/{}", uuid::Uuid::now_v7()))
        .by(&s.vt)
        .send()
        .await
        .expect_problem(404, "not-found");
    // The proposer withdraws before an answer; proposing again is possible, and the other side
    // declines.
    let withdrawn = post(
        &app,
        &s.vt,
        &format!("/v1/case-reviews/{id}/withdrawal"),
        json!({}),
    )
    .await;
    withdrawn.expect(200);
    assert_eq!(withdrawn.body["status"], "withdrawn");
    post(
        &app,
        &s.coordinator,
        &format!("/v1/case-reviews/{id}/acceptance"),
        json!({}),
    )
    .await
    .expect_problem(409, "invalid-transition");
    let again = propose(&app, &s.coordinator, &s.report).await;
    again.expect(201);
    let again_id = again.body["id"].as_str().unwrap();
    let declined = post(
        &app,
        &s.vt,
        &format!("/v1/case-reviews/{again_id}/declination"),
        json!({}),
    )
    .await;
    declined.expect(200);
    assert_eq!(declined.body["status"], "declined");
    assert_eq!(declined.body["parts"], json!([]));
    // Both sides list both reviews, newest first.
    let list = app.get("/v1/case-reviews").by(&s.coordinator).send().await;
    let statuses: Vec<&str> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["declined", "withdrawn"]);
    assert_eq!(list.body["nextCursor"], Value::Null);
    // In pages: one at a time, then the next.
    let first = app.get("/v1/case-reviews?limit=1").by(&s.vt).send().await;
    assert_eq!(first.body["items"][0]["status"], "declined");
    let cursor = first.body["nextCursor"].as_str().unwrap();
    let second = app
        .get(&format!("/v1/case-reviews?limit=1&cursor={cursor}"))
        .by(&s.vt)
        .send()
        .await;
    assert_eq!(second.body["items"][0]["status"], "withdrawn");
    app.get("/v1/case-reviews?cursor=forged")
        .by(&s.vt)
        .send()
        .await
        .expect_problem(400, "invalid-input");
    // An agreed review is withdrawn by either side; its parts are then shown to nobody.
    let third = propose(&app, &s.coordinator, &s.report).await;
    let third_id = third.body["id"].as_str().unwrap().to_owned();
    post(
        &app,
        &s.vt,
        &format!("/v1/case-reviews/{third_id}/acceptance"),
        json!({}),
    )
    .await
    .expect(200);
    let gone = post(
        &app,
        &s.coordinator,
        &format!("/v1/case-reviews/{third_id}/withdrawal"),
        json!({}),
    )
    .await;
    gone.expect(200);
    assert_eq!(gone.body["status"], "withdrawn");
    assert_eq!(gone.body["parts"], json!([]));
}
