//! Handoffs that never get lost: forwarding between Veilig Thuis regions (a chain, both sides'
//! views, the sender's status feedback) and the duty contact of an overdue acute handoff.

use diesel::{ExpressionMethods, QueryDsl};
use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
use schakel::{
    db::schema::access_log,
    domain::organisation::{OrganisationKind, Role},
};
use serde_json::json;
use uuid::Uuid;

use crate::{
    handoffs::handoff_events,
    harness::{Member, Reply, TestApp},
};

struct World {
    school: Member,
    amsterdam: Member,
    utrecht: Member,
}

async fn world(app: &TestApp) -> World {
    World {
        school: app
            .member(OrganisationKind::School, Role::CareCoordinator)
            .await,
        amsterdam: app
            .member(OrganisationKind::VeiligThuis, Role::VtWorker)
            .await,
        utrecht: app
            .member(OrganisationKind::VeiligThuis, Role::VtWorker)
            .await,
    }
}

/// A report from the school to `to`, with one signal; its id.
async fn report(app: &TestApp, school: &Member, to: Uuid, urgency: &str) -> String {
    let child = app.child(school, &format!("LL-{}", Uuid::now_v7())).await;
    let signal = app
        .signal(school, child, "Blauwe plek op de bovenarm.")
        .await;
    let sent = app
        .post("/v1/handoffs")
        .by(school)
        .json(
            &json!({"kind": "report", "toOrganisation": to, "childId": child,
                      "signalIds": [signal], "message": "Zorgen over huiselijk geweld.",
                      "urgency": urgency, "parentsInformedAt": "2026-11-20T15:00:00Z"}),
        )
        .send()
        .await;
    sent.expect(201);
    sent.body["id"].as_str().unwrap().to_owned()
}

async fn forward(app: &TestApp, by: &Member, handoff: &str, to: Uuid) -> Reply {
    app.post(&format!("/v1/handoffs/{handoff}/forwarding"))
        .by(by)
        .json(&json!({"toOrganisationId": to, "reason": "Het gezin woont in Utrecht."}))
        .send()
        .await
}

async fn get(app: &TestApp, by: &Member, handoff: &str) -> Reply {
    app.get(&format!("/v1/handoffs/{handoff}"))
        .by(by)
        .send()
        .await
}

#[tokio::test(flavor = "multi_thread")]
async fn veilig_thuis_forwards_a_report_to_the_region_of_the_child() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let original = report(&app, &w.school, w.amsterdam.organisation, "regular").await;
    app.post(&format!("/v1/handoffs/{original}/acknowledgement"))
        .by(&w.amsterdam)
        .json(&json!({}))
        .send()
        .await
        .expect(200);

    // Only the receiving region forwards; nobody else sees the handoff.
    forward(&app, &w.school, &original, w.utrecht.organisation)
        .await
        .expect_problem(403, "forbidden");
    forward(&app, &w.utrecht, &original, w.utrecht.organisation)
        .await
        .expect_problem(404, "not-found");
    // Only to another Veilig Thuis region.
    for to in [w.school.organisation, w.amsterdam.organisation] {
        forward(&app, &w.amsterdam, &original, to)
            .await
            .expect_problem(422, "forwarding-not-allowed");
    }
    forward(&app, &w.amsterdam, &original, Uuid::now_v7())
        .await
        .expect_problem(422, "unknown-recipient");

    // A stale ETag is refused; the forwarding replays under its Idempotency-Key.
    let read = get(&app, &w.amsterdam, &original).await;
    let etag = read.header("etag").unwrap().to_owned();
    let body = json!({"toOrganisationId": w.utrecht.organisation, "reason": "Het gezin woont in Utrecht."});
    let forwarded = app
        .post(&format!("/v1/handoffs/{original}/forwarding"))
        .by(&w.amsterdam)
        .header("if-match", &etag)
        .header("idempotency-key", "forward-1")
        .json(&body)
        .send()
        .await;
    forwarded.expect(200);
    let replayed = app
        .post(&format!("/v1/handoffs/{original}/forwarding"))
        .by(&w.amsterdam)
        .header("idempotency-key", "forward-1")
        .json(&body)
        .send()
        .await;
    replayed.expect(200);
    assert_eq!(replayed.body, forwarded.body);
    assert_eq!(forwarded.body["status"], "forwarded");
    let successor = forwarded.body["forwardedTo"]["handoffId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        forwarded.body["forwardedTo"]["organisation"]["id"],
        w.utrecht.organisation.to_string()
    );
    let last = forwarded.body["transitions"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["transition"], "forwarding");
    assert_eq!(last["note"], "Het gezin woont in Utrecht.");

    // The other region receives the same snapshot on the same basis; its deadlines start now.
    let incoming = app
        .get("/v1/handoffs?direction=incoming")
        .by(&w.utrecht)
        .send()
        .await;
    incoming.expect(200);
    let items = incoming.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    let new = &items[0];
    assert_eq!(new["id"], successor);
    assert_eq!(new["status"], "sent");
    assert_eq!(new["legalBasis"], "meldrecht");
    assert_eq!(new["from"]["id"], w.school.organisation.to_string());
    assert_eq!(new["forwardedFrom"]["handoffId"], original);
    assert_eq!(
        new["forwardedFrom"]["organisation"]["id"],
        w.amsterdam.organisation.to_string()
    );
    assert_eq!(new["child"], read.body["child"]);
    assert_eq!(new["signals"], read.body["signals"]);
    assert_eq!(new["message"], read.body["message"]);
    assert!(
        new["acknowledgementDueAt"].as_str().unwrap()
            > read.body["acknowledgementDueAt"].as_str().unwrap()
    );
    // Each region opens only its own.
    get(&app, &w.utrecht, &original)
        .await
        .expect_problem(404, "not-found");
    get(&app, &w.amsterdam, &successor)
        .await
        .expect_problem(404, "not-found");

    // The school sees both, linked, and status feedback naming the new region (no consent).
    let school_view = get(&app, &w.school, &original).await;
    assert_eq!(school_view.body["forwardedTo"]["handoffId"], successor);
    let school_new = get(&app, &w.school, &successor).await;
    school_new.expect(200);
    assert_eq!(school_new.body["forwardedFrom"]["handoffId"], original);
    let feedback = app
        .get(&format!("/v1/handoffs/{original}/feedback"))
        .by(&w.school)
        .send()
        .await;
    let items = feedback.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["category"], "forwarded");
    assert_eq!(items[0]["legalBasis"], "statutory");
    assert_eq!(
        items[0]["forwardedTo"]["id"],
        w.utrecht.organisation.to_string()
    );
    assert!(
        items[0]["message"]
            .as_str()
            .unwrap()
            .contains(school_new.body["to"]["name"].as_str().unwrap())
    );
    assert!(
        handoff_events(&app, &w.school, &original)
            .await
            .contains(&"handoff.forwarded".to_owned())
    );
    assert!(
        handoff_events(&app, &w.school, &successor)
            .await
            .contains(&"handoff.sent".to_owned())
    );
    assert!(
        handoff_events(&app, &w.utrecht, &successor)
            .await
            .contains(&"handoff.sent".to_owned())
    );
    assert!(handoff_events(&app, &w.utrecht, &original).await.is_empty());

    // Forwarded is done here: no second forwarding, no feedback, no manual `forwarded`.
    forward(&app, &w.amsterdam, &original, w.utrecht.organisation)
        .await
        .expect_problem(409, "invalid-transition");
    app.post(&format!("/v1/handoffs/{original}/feedback"))
        .by(&w.amsterdam)
        .json(&json!({"category": "received", "message": "Ontvangen."}))
        .send()
        .await
        .expect_problem(409, "invalid-transition");
    app.post(&format!("/v1/handoffs/{successor}/feedback"))
        .by(&w.utrecht)
        .json(&json!({"category": "forwarded", "message": "Doorgestuurd."}))
        .send()
        .await
        .expect_problem(400, "invalid-input");

    // The chain goes on: Utrecht forwards once more, and the middle link names both ends.
    let third = app
        .member(OrganisationKind::VeiligThuis, Role::VtWorker)
        .await;
    forward(&app, &w.utrecht, &successor, third.organisation)
        .await
        .expect(200);
    let middle = get(&app, &w.school, &successor).await;
    assert_eq!(middle.body["forwardedFrom"]["handoffId"], original);
    assert_eq!(middle.body["status"], "forwarded");
    let end = middle.body["forwardedTo"]["handoffId"].as_str().unwrap();
    let last = get(&app, &third, end).await;
    assert_eq!(last.body["forwardedFrom"]["handoffId"], successor);
    assert_eq!(last.body["child"], read.body["child"]);

    // The disclosure to the new region is in the access log, with its basis.
    let mut conn = app.conn().await;
    let disclosed: Vec<Option<String>> = access_log::table
        .filter(access_log::resource_id.eq(successor.parse::<Uuid>().unwrap()))
        .filter(access_log::action.eq("disclose"))
        .select(access_log::legal_basis)
        .load(&mut conn)
        .await
        .unwrap();
    assert_eq!(disclosed, [Some("meldrecht".to_owned())]);
    drop(conn);
    app.assert_log_intact().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_anonymous_advice_request_goes_on_anonymous() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let advice = app
        .post("/v1/handoffs")
        .by(&w.school)
        .json(
            &json!({"kind": "advice_request", "toOrganisation": w.amsterdam.organisation,
                      "ageBand": "4-11", "message": "Hoe pakken we dit aan?"}),
        )
        .send()
        .await;
    advice.expect(201);
    forward(
        &app,
        &w.amsterdam,
        advice.body["id"].as_str().unwrap(),
        w.utrecht.organisation,
    )
    .await
    .expect(200);
    let forwarded = get(&app, &w.school, advice.body["id"].as_str().unwrap()).await;
    let successor = forwarded.body["forwardedTo"]["handoffId"].as_str().unwrap();
    let new = get(&app, &w.utrecht, successor).await;
    new.expect(200);
    assert_eq!(new.body["legalBasis"], "anonymous");
    assert_eq!(new.body["ageBand"], "4-11");
    assert_eq!(new.body.get("child"), None);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sender_of_an_overdue_acute_handoff_sees_the_duty_contact() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let admin = app
        .member_of(w.amsterdam.organisation, Role::OrgAdmin)
        .await;
    let contact = json!({"name": "Piketdienst Veilig Thuis", "phone": "+31 20 123 4567",
                         "hours": "Buiten kantoortijden en in het weekend"});
    app.request(
        poem::http::Method::PUT,
        &format!("/v1/organisations/{}/settings", w.amsterdam.organisation),
    )
    .by(&admin)
    .json(&json!({"dutyContact": contact, "fourEyes": false}))
    .send()
    .await
    .expect(200);
    let acute = report(&app, &w.school, w.amsterdam.organisation, "acute").await;
    let regular = report(&app, &w.school, w.amsterdam.organisation, "regular").await;
    // Not yet overdue: no duty contact.
    assert_eq!(
        get(&app, &w.school, &acute).await.body.get("dutyContact"),
        None
    );
    {
        let mut conn = app.conn().await;
        conn.batch_execute(&format!(
            "UPDATE handoffs SET acknowledgement_due_at = now() - interval '1 hour' \
             WHERE id IN ('{acute}', '{regular}')"
        ))
        .await
        .unwrap();
    }
    let seen = get(&app, &w.school, &acute).await;
    assert_eq!(seen.body["overdue"], true);
    assert_eq!(seen.body["dutyContact"], contact);
    // Not for the recipient, not for a regular handoff, not once acknowledged.
    assert_eq!(
        get(&app, &w.amsterdam, &acute)
            .await
            .body
            .get("dutyContact"),
        None
    );
    assert_eq!(
        get(&app, &w.school, &regular).await.body.get("dutyContact"),
        None
    );
    app.post(&format!("/v1/handoffs/{acute}/acknowledgement"))
        .by(&w.amsterdam)
        .json(&json!({}))
        .send()
        .await
        .expect(200);
    assert_eq!(
        get(&app, &w.school, &acute).await.body.get("dutyContact"),
        None
    );
}
