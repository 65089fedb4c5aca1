//! Meldcode cases: the five steps in order, the afwegingskader enforced with problems that name
//! the deciding question, corrections by superseding records, lead, agreements, closure, and who
//! sees what.

use diesel_async::SimpleAsyncConnection;
use schakel::domain::organisation::{OrganisationKind, Role};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{Member, Reply, TestApp};

struct School {
    coordinator: Member,
    teacher: Member,
    child: Uuid,
    signal: Uuid,
}

async fn school(app: &TestApp) -> School {
    let coordinator = app
        .member(OrganisationKind::School, Role::CareCoordinator)
        .await;
    let teacher = app.member_of(coordinator.organisation, Role::Teacher).await;
    let child = app.child(&coordinator, "LL-20431").await;
    let signal = app
        .signal(&teacher, child, "Blauwe plek op de bovenarm.")
        .await;
    School {
        coordinator,
        teacher,
        child,
        signal,
    }
}

async fn open_case(app: &TestApp, s: &School) -> Uuid {
    let reply = app
        .post(&format!("/v1/children/{}/cases", s.child))
        .by(&s.coordinator)
        .json(&json!({
            "lead": {"sub": s.coordinator.sub, "name": "Fatima El Amrani"},
            "signalIds": [s.signal]
        }))
        .send()
        .await;
    reply.expect(201);
    reply.body["id"].as_str().unwrap().parse().unwrap()
}

async fn step(app: &TestApp, member: &Member, case: Uuid, body: Value) -> Reply {
    app.post(&format!("/v1/cases/{case}/steps"))
        .by(member)
        .json(&body)
        .send()
        .await
}

fn consultation() -> Value {
    json!({
        "step": "consultation",
        "kind": "veilig_thuis_advice",
        "consultedRole": "adviseur Veilig Thuis",
        "consultedOrganisation": "Veilig Thuis Amsterdam-Amstelland",
        "consultedAt": "2026-11-21T14:00:00Z",
        "advice": "Bespreek de zorgen met moeder."
    })
}

fn weighing(answers: [&str; 5]) -> Value {
    let names = [
        "suspicion",
        "unsafety",
        "helpPossible",
        "helpAccepted",
        "helpEffective",
    ];
    let mut map = serde_json::Map::new();
    for (name, answer) in names.iter().zip(answers) {
        if !answer.is_empty() {
            map.insert(
                name.to_string(),
                json!({"answer": answer, "note": format!("toelichting bij {name}")}),
            );
        }
    }
    json!({"step": "weighing", "answers": map})
}

fn in_days(days: i64) -> String {
    (chrono::Utc::now().date_naive() + chrono::Duration::days(days)).to_string()
}

fn decision(decision: &str) -> Value {
    json!({"step": "decision", "decision": decision, "rationale": "Na weging besloten."})
}

fn agreement(owner_sub: &str) -> Value {
    json!({"description": "Gesprek met moeder over hulp", "owner": {"name": "Joost", "sub": owner_sub}, "dueDate": in_days(14)})
}

async fn ready_to_weigh(app: &TestApp, s: &School) -> Uuid {
    let case = open_case(app, s).await;
    step(app, &s.coordinator, case, consultation())
        .await
        .expect(201);
    case
}

#[tokio::test(flavor = "multi_thread")]
async fn a_case_opens_with_its_signals_mapped() {
    let app = TestApp::new().await;
    let s = school(&app).await;
    let reply = app
        .post(&format!("/v1/children/{}/cases", s.child))
        .by(&s.coordinator)
        .json(
            &json!({"lead": {"sub": s.coordinator.sub, "name": "Fatima"}, "signalIds": [s.signal]}),
        )
        .send()
        .await;
    reply.expect(201);
    let id = reply.body["id"].as_str().unwrap();
    assert_eq!(
        reply.header("location"),
        Some(format!("/v1/cases/{id}").as_str())
    );
    assert_eq!(reply.body["status"], "open");
    assert_eq!(reply.body["currentStep"], "signals_mapped");
    assert_eq!(reply.body["steps"][0]["step"], "signals_mapped");
    assert_eq!(reply.body["steps"][0]["signalIds"], json!([s.signal]));
    assert_eq!(reply.body["afwegingskader"]["state"], "not_weighed");
    assert_eq!(
        reply.body["afwegingskader"]["missingSteps"],
        json!(["consultation"])
    );

    let again = app
        .post(&format!("/v1/children/{}/cases", s.child))
        .by(&s.coordinator)
        .json(&json!({"lead": {"sub": "x", "name": "X"}}))
        .send()
        .await;
    again.expect_problem(409, "case-already-open");
    assert_eq!(again.body["existingId"], id);

    let log: Vec<(String, String)> = app
        .access_log(s.child)
        .await
        .into_iter()
        .filter(|(_, resource, _, _)| resource.starts_with("case"))
        .map(|(action, resource, _, _)| (action, resource))
        .collect();
    assert_eq!(
        log,
        [
            ("create".to_owned(), "case".to_owned()),
            ("create".to_owned(), "case_step".to_owned())
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn unsafety_requires_a_report_and_the_refusal_says_why() {
    let app = TestApp::new().await;
    let s = school(&app).await;
    let case = ready_to_weigh(&app, &s).await;
    let mother = app
        .get(&format!("/v1/children/{}", s.child))
        .by(&s.coordinator)
        .send()
        .await
        .body["guardians"][0]["id"]
        .clone();
    step(
        &app,
        &s.coordinator,
        case,
        json!({
            "step": "conversation",
            "participants": {"guardianIds": [mother], "child": false},
            "heldAt": "2026-11-21T16:00:00Z",
            "factsPresented": "De blauwe plek en wat Noah erover zei.",
            "reaction": "Moeder schrok en vertelde over ruzies thuis."
        }),
    )
    .await
    .expect(201);
    let weighed = step(
        &app,
        &s.coordinator,
        case,
        weighing(["yes", "doubt", "", "", ""]),
    )
    .await;
    weighed.expect(201);
    let kader = &weighed.body["afwegingskader"];
    assert_eq!(kader["state"], "decided");
    assert_eq!(kader["reportRequired"], true);
    assert_eq!(kader["allowedDecisions"], json!(["report"]));
    assert_eq!(
        kader["decidedBy"],
        json!({"question": "unsafety", "answer": "doubt"})
    );

    for refused in ["close", "organise_help"] {
        let mut body = decision(refused);
        body["actions"] = json!([agreement("oka-joost")]);
        body["reviewDate"] = json!(in_days(30));
        let reply = step(&app, &s.coordinator, case, body).await;
        reply.expect_problem(422, "report-required");
        assert_eq!(reply.body["question"], "unsafety");
        assert_eq!(reply.body["answer"], "doubt");
        let detail = reply.body["detail"].as_str().unwrap();
        assert!(
            detail.contains("Question 2") && detail.contains("doubt"),
            "{detail}"
        );
    }
    let decided = step(&app, &s.coordinator, case, decision("report")).await;
    decided.expect(201);
    assert_eq!(decided.body["decision"], "report");
    assert_eq!(decided.body["currentStep"], "decision");

    // A report decision keeps the case open until the report is sent.
    app.post(&format!("/v1/cases/{case}/closure"))
        .by(&s.coordinator)
        .json(&json!({}))
        .send()
        .await
        .expect_problem(422, "report-not-sent");
}

#[tokio::test(flavor = "multi_thread")]
async fn effective_help_is_organised_with_agreements_and_a_review_date() {
    let app = TestApp::new().await;
    let s = school(&app).await;
    let case = ready_to_weigh(&app, &s).await;
    let weighed = step(
        &app,
        &s.coordinator,
        case,
        weighing(["yes", "no", "yes", "yes", "yes"]),
    )
    .await;
    assert_eq!(
        weighed.body["afwegingskader"]["allowedDecisions"],
        json!(["report", "organise_help", "close"])
    );

    let reply = step(&app, &s.coordinator, case, decision("organise_help")).await;
    reply.expect_problem(400, "invalid-input");
    assert_eq!(reply.invalid_params(), ["actions", "reviewDate"]);

    let mut body = decision("organise_help");
    body["actions"] = json!([agreement("oka-joost")]);
    body["reviewDate"] = json!(in_days(-1));
    let reply = step(&app, &s.coordinator, case, body.clone()).await;
    assert_eq!(reply.invalid_params(), ["reviewDate"]);

    body["reviewDate"] = json!(in_days(42));
    let decided = step(&app, &s.coordinator, case, body).await;
    decided.expect(201);
    let actions = decided.body["actions"].as_array().unwrap();
    assert_eq!(actions.len(), 1);
    let decision_record = decided.body["steps"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(decision_record["actionIds"], json!([actions[0]["id"]]));
    assert_eq!(actions[0]["decisionStepId"], decision_record["id"]);

    let closed = app
        .post(&format!("/v1/cases/{case}/closure"))
        .by(&s.coordinator)
        .json(&json!({"note": "Hulp loopt via het wijkteam."}))
        .send()
        .await;
    closed.expect(200);
    assert_eq!(closed.body["status"], "closed");
    assert_eq!(
        closed.body["closure"]["note"],
        "Hulp loopt via het wijkteam."
    );

    // Nothing more is recorded on a closed case.
    step(&app, &s.coordinator, case, consultation())
        .await
        .expect_problem(409, "case-closed");
    app.post(&format!("/v1/cases/{case}/actions"))
        .by(&s.coordinator)
        .json(&agreement("x"))
        .send()
        .await
        .expect_problem(409, "case-closed");
}

#[tokio::test(flavor = "multi_thread")]
async fn closing_needs_monitoring_after_effective_help_but_not_without_suspicion() {
    let app = TestApp::new().await;
    let s = school(&app).await;
    let case = ready_to_weigh(&app, &s).await;
    step(
        &app,
        &s.coordinator,
        case,
        weighing(["yes", "no", "yes", "yes", "yes"]),
    )
    .await
    .expect(201);
    let reply = step(&app, &s.coordinator, case, decision("close")).await;
    assert_eq!(reply.invalid_params(), ["actions"]);
    let mut body = decision("close");
    body["actions"] = json!([agreement(&s.teacher.sub)]);
    step(&app, &s.coordinator, case, body).await.expect(201);

    // Another child, no suspicion: only closing is allowed, without agreements.
    let other_child = app.child(&s.coordinator, "LL-2").await;
    let signal = app.signal(&s.teacher, other_child, "Moe in de klas.").await;
    let reply = app
        .post(&format!("/v1/children/{other_child}/cases"))
        .by(&s.coordinator)
        .json(&json!({"lead": {"sub": s.coordinator.sub, "name": "F"}, "signalIds": [signal]}))
        .send()
        .await;
    let case: Uuid = reply.body["id"].as_str().unwrap().parse().unwrap();
    step(&app, &s.coordinator, case, consultation())
        .await
        .expect(201);
    step(&app, &s.coordinator, case, weighing(["no", "", "", "", ""]))
        .await
        .expect(201);
    let reply = step(&app, &s.coordinator, case, decision("report")).await;
    reply.expect_problem(422, "decision-not-allowed");
    assert_eq!(reply.body["allowedDecisions"], json!(["close"]));
    assert_eq!(reply.body["question"], "suspicion");
    step(&app, &s.coordinator, case, decision("close"))
        .await
        .expect(201);
    app.post(&format!("/v1/cases/{case}/closure"))
        .by(&s.coordinator)
        .json(&json!({}))
        .send()
        .await
        .expect(200);
}

#[tokio::test(flavor = "multi_thread")]
async fn steps_come_in_order_and_weighings_must_conclude() {
    let app = TestApp::new().await;
    let s = school(&app).await;
    let reply = app
        .post(&format!("/v1/children/{}/cases", s.child))
        .by(&s.coordinator)
        .json(&json!({"lead": {"sub": "ib", "name": "IB"}}))
        .send()
        .await;
    let case: Uuid = reply.body["id"].as_str().unwrap().parse().unwrap();

    let reply = step(
        &app,
        &s.coordinator,
        case,
        weighing(["yes", "yes", "", "", ""]),
    )
    .await;
    reply.expect_problem(422, "step-out-of-order");
    assert_eq!(
        reply.body["missingSteps"],
        json!(["signals_mapped", "consultation"])
    );
    let reply = step(&app, &s.coordinator, case, decision("report")).await;
    reply.expect_problem(422, "step-out-of-order");
    assert_eq!(reply.body["missingSteps"], json!(["weighing"]));

    step(
        &app,
        &s.coordinator,
        case,
        json!({"step": "signals_mapped", "signalIds": [s.signal]}),
    )
    .await
    .expect(201);
    step(&app, &s.coordinator, case, consultation())
        .await
        .expect(201);
    let reply = step(
        &app,
        &s.coordinator,
        case,
        weighing(["yes", "no", "yes", "", ""]),
    )
    .await;
    reply.expect_problem(422, "weighing-incomplete");
    assert_eq!(reply.body["question"], "helpAccepted");
    assert!(
        reply.body["detail"]
            .as_str()
            .unwrap()
            .contains("question 4")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_case_opens_only_with_signals_of_its_child() {
    let app = TestApp::new().await;
    let s = school(&app).await;
    let other_child = app.child(&s.coordinator, "LL-9").await;
    let other_signal = app.signal(&s.teacher, other_child, "Ander kind.").await;
    let elsewhere = school(&app).await;
    for foreign in [other_signal, elsewhere.signal, Uuid::new_v4()] {
        let reply = app
            .post(&format!("/v1/children/{}/cases", s.child))
            .by(&s.coordinator)
            .json(&json!({"lead": {"sub": s.coordinator.sub, "name": "F"},
                          "signalIds": [s.signal, foreign]}))
            .send()
            .await;
        reply.expect_problem(422, "unknown-signal");
        assert_eq!(reply.body["signalIds"], json!([foreign.to_string()]));
    }
    // Nothing was opened by the refused attempts.
    open_case(&app, &s).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn step_input_is_validated() {
    let app = TestApp::new().await;
    let s = school(&app).await;
    let case = open_case(&app, &s).await;
    let other_child = app.child(&s.coordinator, "LL-2").await;
    let other_signal = app.signal(&s.teacher, other_child, "Ander kind.").await;
    let other_guardian = app
        .get(&format!("/v1/children/{other_child}"))
        .by(&s.coordinator)
        .send()
        .await
        .body["guardians"][0]["id"]
        .clone();

    let reply = step(
        &app,
        &s.coordinator,
        case,
        json!({"step": "signals_mapped", "signalIds": [other_signal, Uuid::new_v4()]}),
    )
    .await;
    reply.expect_problem(422, "unknown-signal");
    assert_eq!(reply.body["signalIds"].as_array().unwrap().len(), 2);

    let cases: Vec<(Value, &str)> = vec![
        (json!({"step": "gossip"}), "step"),
        (
            json!({"step": "consultation", "kind": "colleague"}),
            "consultedRole",
        ),
        (
            json!({"step": "weighing", "answers": {"suspicion": {"answer": "maybe"}}}),
            "answers.suspicion.answer",
        ),
        (
            json!({"step": "weighing", "answers": {}, "extra": 1}),
            "extra",
        ),
        (
            json!({"step": "conversation", "skipped": {"reason": "urgency", "explanation": "Acuut."},
                   "participants": {"child": true}}),
            "skipped",
        ),
        (
            json!({"step": "conversation", "participants": {"child": true}, "heldAt": "2026-11-21T16:00:00Z",
                   "factsPresented": "x"}),
            "reaction",
        ),
        (
            json!({"step": "conversation", "participants": {"guardianIds": [other_guardian]},
                   "heldAt": "2026-11-21T16:00:00Z", "factsPresented": "x", "reaction": "y"}),
            "participants.guardianIds",
        ),
        (
            {
                let mut c = consultation();
                c["consultedAt"] = json!("2099-01-01T00:00:00Z");
                c
            },
            "consultedAt",
        ),
    ];
    for (body, property) in cases {
        let reply = step(&app, &s.coordinator, case, body.clone()).await;
        reply.expect_problem(400, "invalid-input");
        assert_eq!(reply.invalid_params(), vec![property.to_string()], "{body}");
    }
    let skipped = step(
        &app,
        &s.coordinator,
        case,
        json!({"step": "conversation", "skipped": {"reason": "safety_child", "explanation": "Vader dreigde."}}),
    )
    .await;
    skipped.expect(201);
    let record = skipped.body["steps"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(record["skipped"]["reason"], "safety_child");
}

#[tokio::test(flavor = "multi_thread")]
async fn corrections_supersede_records_without_erasing_them() {
    let app = TestApp::new().await;
    let s = school(&app).await;
    let case = ready_to_weigh(&app, &s).await;
    let weighed = step(
        &app,
        &s.coordinator,
        case,
        weighing(["yes", "yes", "", "", ""]),
    )
    .await;
    let first: String = weighed.body["steps"].as_array().unwrap().last().unwrap()["id"]
        .as_str()
        .unwrap()
        .into();

    let mut correction = weighing(["yes", "no", "yes", "yes", "yes"]);
    correction["supersedes"] = json!(first);
    let reply = step(&app, &s.coordinator, case, correction.clone()).await;
    reply.expect_problem(400, "invalid-input");
    assert_eq!(reply.invalid_params(), ["correctionReason"]);

    correction["correctionReason"] = json!("Vraag 2 verkeerd ingevuld.");
    let corrected = step(&app, &s.coordinator, case, correction.clone()).await;
    corrected.expect(201);
    let steps = corrected.body["steps"].as_array().unwrap();
    let original = steps.iter().find(|s| s["id"] == first.as_str()).unwrap();
    let replacement = steps.last().unwrap();
    assert_eq!(original["supersededBy"], replacement["id"]);
    assert_eq!(
        original["answers"]["unsafety"]["answer"], "yes",
        "the original stays readable"
    );
    assert_eq!(replacement["supersedes"], first.as_str());
    assert_eq!(
        corrected.body["afwegingskader"]["allowedDecisions"],
        json!(["report", "organise_help", "close"]),
        "the afwegingskader follows the correction"
    );

    // A record can be superseded once, and only by one of its own kind.
    let again = step(&app, &s.coordinator, case, correction).await;
    again.expect_problem(422, "invalid-correction");
    let mut wrong_kind = consultation();
    wrong_kind["supersedes"] = replacement["id"].clone();
    wrong_kind["correctionReason"] = json!("x");
    step(&app, &s.coordinator, case, wrong_kind)
        .await
        .expect_problem(422, "invalid-correction");
    let mut stray = consultation();
    stray["correctionReason"] = json!("x");
    let reply = step(&app, &s.coordinator, case, stray).await;
    assert_eq!(reply.invalid_params(), ["correctionReason"]);

    let mut conn = app.db.connect().await;
    let err = conn
        .batch_execute("UPDATE case_steps SET details = '{}'")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("append-only"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_lead_changes_hands_on_the_record() {
    let app = TestApp::new().await;
    let s = school(&app).await;
    let case = open_case(&app, &s).await;
    let path = format!("/v1/cases/{case}");
    let etag = app
        .get(&path)
        .by(&s.coordinator)
        .send()
        .await
        .header("etag")
        .unwrap()
        .to_owned();
    let changed = app
        .request("PUT".parse().unwrap(), &format!("{path}/lead"))
        .by(&s.coordinator)
        .header("if-match", &etag)
        .json(
            &json!({"sub": "oka-joost", "name": "Joost Bakker", "reason": "Wijkteam neemt over."}),
        )
        .send()
        .await;
    changed.expect(200);
    assert_eq!(
        changed.body["lead"],
        json!({"sub": "oka-joost", "name": "Joost Bakker"})
    );
    let history = &changed.body["leadHistory"][0];
    assert_eq!(history["from"]["sub"], s.coordinator.sub);
    assert_eq!(history["to"]["sub"], "oka-joost");
    assert_eq!(history["reason"], "Wijkteam neemt over.");
    assert_eq!(history["changedBy"], s.coordinator.sub);

    app.request("PUT".parse().unwrap(), &format!("{path}/lead"))
        .by(&s.coordinator)
        .header("if-match", &etag)
        .json(&json!({"sub": "someone", "name": "Someone"}))
        .send()
        .await
        .expect_problem(412, "precondition-failed");

    let listed = app
        .get("/v1/cases?lead=oka-joost")
        .by(&s.coordinator)
        .send()
        .await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
    let listed = app
        .get(&format!("/v1/cases?lead={}", s.coordinator.sub))
        .by(&s.coordinator)
        .send()
        .await;
    assert_eq!(listed.body["items"], json!([]));
}

#[tokio::test(flavor = "multi_thread")]
async fn agreements_are_tracked_and_overdue_ones_found() {
    let app = TestApp::new().await;
    let s = school(&app).await;
    let case = open_case(&app, &s).await;
    let quiet_case = {
        let child = app.child(&s.coordinator, "LL-2").await;
        let reply = app
            .post(&format!("/v1/children/{child}/cases"))
            .by(&s.coordinator)
            .json(&json!({"lead": {"sub": "ib", "name": "IB"}}))
            .send()
            .await;
        reply.body["id"].as_str().unwrap().to_owned()
    };
    let reply = app
        .post(&format!("/v1/cases/{case}/actions"))
        .by(&s.coordinator)
        .json(&json!({"description": "Huisbezoek", "owner": {"name": "Wijkteam Noord", "organisationId": Uuid::new_v4()}, "dueDate": in_days(3)}))
        .send()
        .await;
    reply.expect_problem(400, "invalid-input");
    assert_eq!(reply.invalid_params(), ["owner.organisationId"]);
    for (body, property) in [
        (
            json!({"description": "x", "owner": {"name": "Joost"}, "dueDate": in_days(3)}),
            "owner",
        ),
        (
            json!({"description": "x", "owner": {"name": "Joost", "sub": "j"}, "dueDate": in_days(-1)}),
            "dueDate",
        ),
    ] {
        let reply = app
            .post(&format!("/v1/cases/{case}/actions"))
            .by(&s.coordinator)
            .json(&body)
            .send()
            .await;
        assert_eq!(reply.invalid_params(), [property]);
    }

    let created = app
        .post(&format!("/v1/cases/{case}/actions"))
        .by(&s.coordinator)
        .json(&json!({"description": "Huisbezoek", "owner": {"name": "Wijkteam", "organisationId": s.coordinator.organisation}, "dueDate": in_days(3)}))
        .send()
        .await;
    created.expect(201);
    let action = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(created.body["overdue"], false);

    // Time passes: the agreement is now three days late.
    let mut conn = app.db.connect().await;
    conn.batch_execute(&format!(
        "UPDATE case_actions SET due_date = current_date - 3 WHERE id = '{action}'"
    ))
    .await
    .unwrap();
    let overdue = app
        .get("/v1/cases?overdueActions=true")
        .by(&s.coordinator)
        .send()
        .await;
    let ids: Vec<&str> = overdue.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [case.to_string()]);
    assert_eq!(overdue.body["items"][0]["overdueActions"], 1);
    let all = app.get("/v1/cases").by(&s.coordinator).send().await;
    assert_eq!(all.body["items"].as_array().unwrap().len(), 2);
    assert!(
        all.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == quiet_case.as_str())
    );

    let case_now = app
        .get(&format!("/v1/cases/{case}"))
        .by(&s.coordinator)
        .send()
        .await;
    assert_eq!(case_now.body["actions"][0]["overdue"], true);

    let done = app
        .patch(&format!("/v1/cases/{case}/actions/{action}"))
        .by(&s.coordinator)
        .json(&json!({"doneAt": "2026-11-22T09:00:00Z"}))
        .send()
        .await;
    done.expect(200);
    assert_eq!(done.body["overdue"], false);
    let overdue = app
        .get("/v1/cases?overdueActions=true")
        .by(&s.coordinator)
        .send()
        .await;
    assert_eq!(overdue.body["items"], json!([]));

    let stale = created.header("etag").unwrap();
    app.patch(&format!("/v1/cases/{case}/actions/{action}"))
        .by(&s.coordinator)
        .header("if-match", stale)
        .json(&json!({"doneAt": null}))
        .send()
        .await
        .expect_problem(412, "precondition-failed");
    app.patch(&format!("/v1/cases/{case}/actions/{}", Uuid::new_v4()))
        .by(&s.coordinator)
        .json(&json!({"doneAt": null}))
        .send()
        .await
        .expect_problem(404, "not-found");
}

#[tokio::test(flavor = "multi_thread")]
async fn who_sees_a_case() {
    let app = TestApp::new().await;
    let s = school(&app).await;
    let case = ready_to_weigh(&app, &s).await;
    step(
        &app,
        &s.coordinator,
        case,
        weighing(["yes", "yes", "", "", ""]),
    )
    .await
    .expect(201);
    step(&app, &s.coordinator, case, decision("report"))
        .await
        .expect(201);
    let other_teacher = app
        .member_of(s.coordinator.organisation, Role::Teacher)
        .await;
    let privacy_officer = app
        .member_of(s.coordinator.organisation, Role::PrivacyOfficer)
        .await;
    let vt_worker = app
        .member(OrganisationKind::VeiligThuis, Role::VtWorker)
        .await;
    let other_school = app
        .member(OrganisationKind::School, Role::CareCoordinator)
        .await;
    let path = format!("/v1/cases/{case}");

    // The teacher who recorded a signal about the child sees the case, without the notes.
    let seen = app.get(&path).by(&s.teacher).send().await;
    seen.expect(200);
    let steps = seen.body["steps"].as_array().unwrap();
    let weighing_record = steps.iter().find(|s| s["step"] == "weighing").unwrap();
    assert_eq!(weighing_record["answers"]["unsafety"]["answer"], "yes");
    assert!(weighing_record["answers"]["unsafety"].get("note").is_none());
    let decision_record = steps.iter().find(|s| s["step"] == "decision").unwrap();
    assert_eq!(decision_record["decision"], "report");
    assert!(decision_record.get("rationale").is_none());
    let full = app.get(&path).by(&s.coordinator).send().await;
    let steps = full.body["steps"].as_array().unwrap();
    assert!(
        steps
            .iter()
            .any(|s| s["rationale"] == "Na weging besloten.")
    );
    let listed = app.get("/v1/cases").by(&s.teacher).send().await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);

    // A teacher may not walk the meldcode.
    step(&app, &s.teacher, case, consultation())
        .await
        .expect_problem(403, "forbidden");

    // Others: a teacher without signals, another organisation — as if there were no case.
    let nobody = format!("/v1/cases/{}", Uuid::new_v4());
    for member in [&other_teacher, &other_school] {
        let theirs = app.get(&path).by(member).send().await;
        theirs.expect_problem(404, "not-found");
        let missing = app.get(&nobody).by(member).send().await;
        assert_eq!(
            theirs.problem_without_instance(),
            missing.problem_without_instance()
        );
        let listed = app.get("/v1/cases").by(member).send().await;
        assert_eq!(listed.body["items"], json!([]));
    }
    for body in [consultation(), decision("report")] {
        let theirs = step(&app, &other_school, case, body.clone()).await;
        let missing = app
            .post(&format!("{nobody}/steps"))
            .by(&other_school)
            .json(&body)
            .send()
            .await;
        theirs.expect_problem(404, "not-found");
        assert_eq!(
            theirs.problem_without_instance(),
            missing.problem_without_instance()
        );
    }
    for member in [&privacy_officer, &vt_worker] {
        app.get(&path)
            .by(member)
            .send()
            .await
            .expect_problem(403, "forbidden");
    }

    // The timeline shows case events to the case's participants only.
    let case_entries = |reply: &Reply| -> usize {
        reply.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["type"].as_str().unwrap().starts_with("case."))
            .count()
    };
    let timeline = format!("/v1/children/{}/timeline", s.child);
    let by_coordinator = app.get(&timeline).by(&s.coordinator).send().await;
    assert_eq!(
        case_entries(&by_coordinator),
        5,
        "opened and four steps: {}",
        by_coordinator.text
    );
    let by_teacher = app.get(&timeline).by(&s.teacher).send().await;
    assert_eq!(case_entries(&by_teacher), 5);
    let by_other_teacher = app.get(&timeline).by(&other_teacher).send().await;
    assert_eq!(case_entries(&by_other_teacher), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wijkteam_walks_the_meldcode_too() {
    let app = TestApp::new().await;
    let youth_worker = app
        .member(OrganisationKind::Wijkteam, Role::YouthWorker)
        .await;
    let child = app.child(&youth_worker, "WT-77").await;
    let signal = app
        .signal(&youth_worker, child, "Moeder vertelt over geweld.")
        .await;
    let reply = app
        .post(&format!("/v1/children/{child}/cases"))
        .by(&youth_worker)
        .json(&json!({"lead": {"sub": youth_worker.sub, "name": "Joost"}, "signalIds": [signal]}))
        .send()
        .await;
    reply.expect(201);
    let case = reply.body["id"].as_str().unwrap();
    let filtered = app
        .get(&format!("/v1/cases?childId={child}&status=open"))
        .by(&youth_worker)
        .send()
        .await;
    assert_eq!(filtered.body["items"][0]["id"], case);
    let closed = app
        .get("/v1/cases?status=closed")
        .by(&youth_worker)
        .send()
        .await;
    assert_eq!(closed.body["items"], json!([]));
}

/// Vier-ogenprincipe: with `fourEyes` on, the decision and the closure wait for a second
/// professional; the proposer cannot approve; a rejection stays on the case; no report leaves
/// before the decision is approved.
#[tokio::test(flavor = "multi_thread")]
async fn four_eyes_make_the_decision_and_closure_proposals() {
    let app = TestApp::new().await;
    let s = school(&app).await;
    let admin = app
        .member_of(s.coordinator.organisation, Role::OrgAdmin)
        .await;
    app.request(
        poem::http::Method::PUT,
        &format!("/v1/organisations/{}/settings", s.coordinator.organisation),
    )
    .by(&admin)
    .json(&json!({"fourEyes": true}))
    .send()
    .await
    .expect(200);
    let second = app
        .member_of(s.coordinator.organisation, Role::CareCoordinator)
        .await;
    let vt = app
        .member(OrganisationKind::VeiligThuis, Role::VtWorker)
        .await;
    let case = ready_to_weigh(&app, &s).await;
    let approvals = format!("/v1/cases/{case}/approvals");
    let verdict = |member: &Member, body: Value| app.post(&approvals).by(member).json(&body).send();
    verdict(&second, json!({"verdict": "approved"}))
        .await
        .expect_problem(409, "nothing-to-approve");
    step(
        &app,
        &s.coordinator,
        case,
        weighing(["yes", "doubt", "", "", ""]),
    )
    .await
    .expect(201);

    // The decision is a proposal: not in force, no report can leave, nothing else decided.
    let proposed = step(&app, &s.coordinator, case, decision("report")).await;
    proposed.expect(201);
    assert_eq!(proposed.body.get("decision"), None);
    let proposals = proposed.body["proposals"].as_array().unwrap();
    assert_eq!(proposals.len(), 1);
    assert_eq!(proposals[0]["subject"], "decision");
    assert_eq!(proposals[0].get("verdict"), None);
    let report = json!({"kind": "report", "toOrganisation": vt.organisation, "childId": s.child,
                        "caseId": case, "signalIds": [s.signal], "message": "Zorgen.",
                        "parentsInformedAt": "2026-11-20T15:00:00Z"});
    let blocked = app
        .post("/v1/handoffs")
        .by(&s.coordinator)
        .json(&report)
        .send()
        .await;
    blocked.expect_problem(409, "approval-pending");
    assert_eq!(blocked.body["subject"], "decision");
    step(&app, &s.coordinator, case, decision("report"))
        .await
        .expect_problem(409, "approval-pending");

    // Not by the proposer; a rejection says why and stays on the record.
    verdict(&s.coordinator, json!({"verdict": "approved"}))
        .await
        .expect_problem(403, "forbidden");
    verdict(&second, json!({"verdict": "rejected"}))
        .await
        .expect_problem(400, "invalid-input");
    let rejected = verdict(
        &second,
        json!({"verdict": "rejected", "comment": "Eerst het gesprek met moeder voeren."}),
    )
    .await;
    rejected.expect(200);
    assert_eq!(rejected.body.get("decision"), None);
    assert_eq!(rejected.body["proposals"][0]["verdict"], "rejected");
    assert_eq!(
        rejected.body["proposals"][0]["decidedBy"]["sub"],
        second.sub
    );

    // Proposed again and approved by the second: in force, and the report can go.
    step(&app, &s.coordinator, case, decision("report"))
        .await
        .expect(201);
    let approved = verdict(&second, json!({"verdict": "approved"})).await;
    approved.expect(200);
    assert_eq!(approved.body["decision"], "report");
    assert_eq!(approved.body["proposals"].as_array().unwrap().len(), 2);
    app.post("/v1/handoffs")
        .by(&s.coordinator)
        .json(&report)
        .send()
        .await
        .expect(201);

    // The closure waits too; approved, it closes the case with the proposal's note.
    let closing = app
        .post(&format!("/v1/cases/{case}/closure"))
        .by(&s.coordinator)
        .json(&json!({"note": "Gemeld; Veilig Thuis neemt het over."}))
        .send()
        .await;
    closing.expect(200);
    assert_eq!(closing.body["status"], "open");
    assert_eq!(closing.body["proposals"][2]["subject"], "closure");
    // Another organisation sees nothing of it.
    let stranger = app
        .member(OrganisationKind::School, Role::CareCoordinator)
        .await;
    verdict(&stranger, json!({"verdict": "approved"}))
        .await
        .expect_problem(404, "not-found");
    let closed = verdict(&second, json!({"verdict": "approved"})).await;
    closed.expect(200);
    assert_eq!(closed.body["status"], "closed");
    assert_eq!(
        closed.body["closure"]["note"],
        "Gemeld; Veilig Thuis neemt het over."
    );
    verdict(&second, json!({"verdict": "approved"}))
        .await
        .expect_problem(409, "case-closed");

    app.settle_events().await;
    let feed = app
        .get("/v1/events?limit=200")
        .by(&s.coordinator)
        .send()
        .await;
    let types: Vec<&str> = feed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["resource"]["id"] == case.to_string())
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types
            .iter()
            .filter(|t| **t == "case.approval_requested")
            .count(),
        3
    );
    assert_eq!(
        types
            .iter()
            .filter(|t| **t == "case.proposal_decided")
            .count(),
        3
    );
    assert_eq!(types.iter().filter(|t| **t == "case.closed").count(), 1);
    app.assert_log_intact().await;
}
