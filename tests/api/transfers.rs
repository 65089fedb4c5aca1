//! Transfer to a new school: the new school's transfer request, the previous school's answer
//! with only what it selects, intake onto the new school's own pupil, and a declination.

use schakel::domain::organisation::{OrganisationKind, Role};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{Member, Reply, TestApp};

pub struct Schools {
    pub old: Member,
    pub new: Member,
    /// The pupil at the previous school, with two signals; the first is selected.
    pub pupil: Uuid,
    pub signals: [Uuid; 2],
    /// The same child registered at the new school.
    pub enrolled: Uuid,
}

pub async fn schools(app: &TestApp) -> Schools {
    let old = app
        .member(OrganisationKind::School, Role::CareCoordinator)
        .await;
    let new = app
        .member(OrganisationKind::School, Role::CareCoordinator)
        .await;
    let pupil = app.child(&old, "LL-20431").await;
    let signals = [
        app.signal(&old, pupil, "Blauwe plek op de bovenarm.").await,
        app.signal(&old, pupil, "Vertelt over ruzie met de buurjongen.")
            .await,
    ];
    let enrolled = app.child(&new, "NS-2027-014").await;
    Schools {
        old,
        new,
        pupil,
        signals,
        enrolled,
    }
}

pub async fn send(app: &TestApp, by: &Member, body: &Value) -> Reply {
    app.post("/v1/handoffs").by(by).json(body).send().await
}

/// The new school asks the previous one; the request's id.
pub async fn ask(app: &TestApp, s: &Schools) -> String {
    let asked = send(
        app,
        &s.new,
        &json!({"kind": "transfer_request", "toOrganisation": s.old.organisation,
                "childId": s.enrolled, "pupilNumber": "LL-20431",
                "message": "Noah is per 1 januari bij ons ingeschreven. Wat moeten wij weten?"}),
    )
    .await;
    asked.expect(201);
    asked.body["id"].as_str().unwrap().to_owned()
}

/// The previous school's answer from its case, with the first signal only.
pub fn transfer(s: &Schools, request: &str, case: Option<Uuid>) -> Value {
    let mut body = json!({"kind": "school_transfer", "toOrganisation": s.new.organisation,
                          "inResponseTo": request, "childId": s.pupil,
                          "signalIds": [s.signals[0]],
                          "caseSummary": "Zorgen over de thuissituatie; Veilig Thuis is betrokken.",
                          "parentsInformedAt": "2026-12-01T10:00:00Z",
                          "message": "Het onderwijskundig rapport volgt apart."});
    if let Some(case) = case {
        body["caseId"] = json!(case);
    }
    body
}

#[tokio::test(flavor = "multi_thread")]
async fn a_transfer_request_is_answered_with_what_the_old_school_selects() {
    let app = TestApp::new().await;
    let s = schools(&app).await;
    // A transfer request names the child at the previous school: by pupil number, or BSN.
    let refused = send(
        &app,
        &s.new,
        &json!({"kind": "transfer_request", "toOrganisation": s.old.organisation,
                "childId": s.enrolled, "message": "Wat moeten wij weten?"}),
    )
    .await;
    refused.expect_problem(400, "invalid-input");
    assert_eq!(refused.invalid_params(), ["pupilNumber"]);
    let request = ask(&app, &s).await;

    // The previous school finds it in its incoming list, matched to its own pupil.
    let incoming = app
        .get("/v1/handoffs?direction=incoming")
        .by(&s.old)
        .send()
        .await;
    let item = &incoming.body["items"][0];
    assert_eq!(item["id"], request);
    assert_eq!(item["kind"], "transfer_request");
    assert_eq!(item["legalBasis"], "statutory");
    assert_eq!(item["pupilNumber"], "LL-20431");
    assert_eq!(item["matchedChildId"], s.pupil.to_string());
    // The asking school does not learn which record that is.
    let own = app
        .get(&format!("/v1/handoffs/{request}"))
        .by(&s.new)
        .send()
        .await;
    assert_eq!(own.body.get("matchedChildId"), None);
    let stranger = app
        .member(OrganisationKind::School, Role::CareCoordinator)
        .await;
    app.get(&format!("/v1/handoffs/{request}"))
        .by(&stranger)
        .send()
        .await
        .expect_problem(404, "not-found");

    // The answer needs the request it answers and whether the parents were told.
    let mut untold = transfer(&s, &request, None);
    untold.as_object_mut().unwrap().remove("parentsInformedAt");
    send(&app, &s.old, &untold)
        .await
        .expect_problem(400, "invalid-input");
    let other_request = send(
        &app,
        &stranger,
        &json!({"kind": "transfer_request", "toOrganisation": s.new.organisation,
                "childId": app.child(&stranger, "X-1").await, "pupilNumber": "NS-2027-014",
                "message": "Wat moeten wij weten?"}),
    )
    .await;
    other_request.expect(201);
    send(
        &app,
        &s.old,
        &transfer(&s, other_request.body["id"].as_str().unwrap(), None),
    )
    .await
    .expect_problem(422, "unknown-request");

    let sent = send(&app, &s.old, &transfer(&s, &request, None)).await;
    sent.expect(201);
    let handoff = sent.body["id"].as_str().unwrap().to_owned();

    // The new school sees only what was selected.
    let received = app
        .get(&format!("/v1/handoffs/{handoff}"))
        .by(&s.new)
        .send()
        .await;
    received.expect(200);
    assert_eq!(received.body["legalBasis"], "statutory");
    assert_eq!(received.body["inResponseTo"], request);
    let signals = received.body["signals"].as_array().unwrap();
    assert_eq!(signals.len(), 1);
    assert_eq!(signals[0]["facts"], "Blauwe plek op de bovenarm.");
    assert!(!received.text.contains("buurjongen"));
    assert_eq!(
        received.body["caseSummary"],
        "Zorgen over de thuissituatie; Veilig Thuis is betrokken."
    );

    // Acknowledged, the transfer links the new school's own pupil: nothing is copied over it.
    app.post(&format!("/v1/handoffs/{handoff}/acknowledgement"))
        .by(&s.new)
        .json(&json!({}))
        .send()
        .await
        .expect(200);
    let linked = app
        .post(&format!("/v1/handoffs/{handoff}/intake"))
        .by(&s.new)
        .json(&json!({}))
        .send()
        .await;
    linked.expect(200);
    assert_eq!(linked.body["id"], s.enrolled.to_string());
    assert_eq!(linked.body["externalRef"], "NS-2027-014");
    let children = app.get("/v1/children").by(&s.new).send().await;
    assert_eq!(children.body["items"].as_array().unwrap().len(), 1);
    let after = app
        .get(&format!("/v1/handoffs/{handoff}"))
        .by(&s.new)
        .send()
        .await;
    assert_eq!(after.body["intakeChildId"], s.enrolled.to_string());
    let log = app.access_log(s.enrolled).await;
    assert!(log.iter().any(|(action, kind, id, _)| action == "update"
        && kind == "handoff"
        && id.map(|i| i.to_string()) == Some(handoff.clone())));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_old_school_declines_with_a_reason() {
    let app = TestApp::new().await;
    let s = schools(&app).await;
    let request = ask(&app, &s).await;
    app.post(&format!("/v1/handoffs/{request}/declination"))
        .by(&s.old)
        .json(&json!({}))
        .send()
        .await
        .expect_problem(400, "invalid-input");
    let declined = app
        .post(&format!("/v1/handoffs/{request}/declination"))
        .by(&s.old)
        .json(&json!({"note": "Deze leerling was nooit bij ons ingeschreven."}))
        .send()
        .await;
    declined.expect(200);
    assert_eq!(declined.body["status"], "declined");
    let seen = app
        .get(&format!("/v1/handoffs/{request}"))
        .by(&s.new)
        .send()
        .await;
    let last = seen.body["transitions"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["transition"], "declination");
    assert_eq!(
        last["note"],
        "Deze leerling was nooit bij ons ingeschreven."
    );
    // A declined request is answered no more.
    send(&app, &s.old, &transfer(&s, &request, None))
        .await
        .expect_problem(422, "unknown-request");
}
