//! Feedback: status flows without consent, anything more only through the gate; audiences,
//! read receipts, withdrawal, and the reports Veilig Thuis still owes feedback on.

use diesel::{ExpressionMethods, QueryDsl};
use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
use schakel::{
    db::schema::{access_log, events},
    domain::organisation::{OrganisationKind, Role},
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{Member, Reply, TestApp};

struct Setup {
    coordinator: Member,
    teacher: Member,
    other_teacher: Member,
    vt: Member,
    handoff: String,
    vt_child: String,
}

/// A report from the school, acknowledged and taken in by Veilig Thuis.
async fn setup(app: &TestApp) -> Setup {
    let coordinator = app
        .member(OrganisationKind::School, Role::CareCoordinator)
        .await;
    let teacher = app.member_of(coordinator.organisation, Role::Teacher).await;
    let other_teacher = app.member_of(coordinator.organisation, Role::Teacher).await;
    let vt = app
        .member(OrganisationKind::VeiligThuis, Role::VtWorker)
        .await;
    let child = app.child(&coordinator, "LL-1").await;
    let signal = app.signal(&teacher, child, "Blauwe plek.").await;
    let sent = app
        .post("/v1/handoffs")
        .by(&coordinator)
        .json(
            &json!({"kind": "report", "toOrganisation": vt.organisation, "childId": child,
                      "signalIds": [signal], "message": "Zorgen.", "requestsGuidance": true,
                      "parentsInformedAt": "2026-11-20T15:00:00Z"}),
        )
        .send()
        .await;
    sent.expect(201);
    let handoff = sent.body["id"].as_str().unwrap().to_owned();
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
    intake.expect(201);
    Setup {
        coordinator,
        teacher,
        other_teacher,
        vt,
        handoff,
        vt_child: intake.body["id"].as_str().unwrap().to_owned(),
    }
}

async fn feedback(app: &TestApp, s: &Setup, body: Value) -> Reply {
    app.post(&format!("/v1/handoffs/{}/feedback", s.handoff))
        .by(&s.vt)
        .json(&body)
        .send()
        .await
}

fn guidance() -> Value {
    json!({"category": "guidance_for_school", "message": "Geef rust en voorspelbaarheid.", "audience": "school_staff"})
}

/// An active feedback consent scoped to `scope`, from the mother and the child.
async fn consent(app: &TestApp, s: &Setup, scope: &[&str]) -> String {
    let school = s.coordinator.organisation;
    let created = app
        .post("/v1/consents")
        .by(&s.vt)
        .json(&json!({"childId": s.vt_child, "purpose": "feedback_to_school", "recipientOrganisation": school,
                      "scope": scope, "handoffId": s.handoff}))
        .send()
        .await;
    created.expect(201);
    let id = created.body["id"].as_str().unwrap().to_owned();
    for party in created.body["requiredParties"].as_array().unwrap() {
        let party = party["guardianId"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| "child".into());
        app.post(&format!("/v1/consents/{id}/decisions"))
            .by(&s.vt)
            .json(&json!({"party": party, "decision": "granted", "method": "verbal", "decidedAt": "2026-11-21T10:00:00Z"}))
            .send()
            .await
            .expect(201);
    }
    id
}

#[tokio::test(flavor = "multi_thread")]
async fn status_feedback_flows_without_consent() {
    let app = TestApp::new().await;
    let s = setup(&app).await;
    let received = feedback(
        &app,
        &s,
        json!({"category": "received", "message": "Melding ontvangen."}),
    )
    .await;
    received.expect(201);
    assert_eq!(received.body["legalBasis"], "statutory");
    assert!(received.body.get("consentId").is_none());
    assert_eq!(received.body["audience"], "care_coordinators");

    let decided = feedback(
        &app,
        &s,
        json!({"category": "safety_assessment_decided", "outcome": "handed_to_local_team", "message": "Overgedragen."}),
    )
    .await;
    decided.expect(201);
    assert_eq!(decided.body["outcome"], "handed_to_local_team");
    let handoff = app
        .get(&format!("/v1/handoffs/{}", s.handoff))
        .by(&s.vt)
        .send()
        .await;
    assert!(handoff.body["assessmentDecidedAt"].is_string());
    assert_eq!(handoff.body["awaitingFeedback"], false);
    feedback(
        &app,
        &s,
        json!({"category": "involvement_ended", "message": "Betrokkenheid beëindigd."}),
    )
    .await
    .expect(201);

    let listed = app
        .get(&format!("/v1/handoffs/{}/feedback", s.handoff))
        .by(&s.coordinator)
        .send()
        .await;
    let categories: Vec<&str> = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["category"].as_str().unwrap())
        .collect();
    assert_eq!(
        categories,
        ["received", "safety_assessment_decided", "involvement_ended"]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn substantive_feedback_passes_the_consent_gate_only() {
    let app = TestApp::new().await;
    let s = setup(&app).await;
    let refused = feedback(&app, &s, guidance()).await;
    refused.expect_problem(422, "consent-required");
    assert_eq!(refused.body["missing"], "no_consent");
    assert!(
        refused.body["detail"]
            .as_str()
            .unwrap()
            .contains("feedback_to_school")
    );

    // A consent still waiting for decisions covers nothing.
    let draft = app
        .post("/v1/consents")
        .by(&s.vt)
        .json(&json!({"childId": s.vt_child, "purpose": "feedback_to_school",
                      "recipientOrganisation": s.coordinator.organisation, "scope": ["guidance_for_school"]}))
        .send()
        .await;
    draft.expect(201);
    let refused = feedback(&app, &s, guidance()).await;
    refused.expect_problem(422, "consent-required");
    assert_eq!(refused.body["missing"], "consent_not_active");

    let active = consent(&app, &s, &["guidance_for_school"]).await;
    let refused = feedback(
        &app,
        &s,
        json!({"category": "help_in_place", "message": "Het wijkteam helpt."}),
    )
    .await;
    refused.expect_problem(422, "consent-required");
    assert_eq!(refused.body["missing"], "category_not_in_scope");

    let sent = feedback(&app, &s, guidance()).await;
    sent.expect(201);
    assert_eq!(sent.body["legalBasis"], "consent");
    assert_eq!(sent.body["consentId"], active.as_str());
    assert_eq!(sent.body["audience"], "school_staff");

    // Disclosed, on the consent, to the school.
    let id: Uuid = sent.body["id"].as_str().unwrap().parse().unwrap();
    let mut conn = app.conn().await;
    let (basis, consent_id, recipient): (Option<String>, Option<Uuid>, Option<Uuid>) =
        access_log::table
            .filter(access_log::resource_id.eq(id))
            .filter(access_log::action.eq("disclose"))
            .select((
                access_log::legal_basis,
                access_log::consent_id,
                access_log::recipient_organisation_id,
            ))
            .first(&mut conn)
            .await
            .unwrap();
    assert_eq!(basis.as_deref(), Some("consent"));
    assert_eq!(consent_id, Some(active.parse().unwrap()));
    assert_eq!(recipient, Some(s.coordinator.organisation));
    let announced: Vec<Uuid> = events::table
        .filter(events::resource_id.eq(id))
        .filter(events::event_type.eq("feedback.sent"))
        .select(events::organisation_id)
        .load(&mut conn)
        .await
        .unwrap();
    assert_eq!(announced.len(), 2);
    assert!(
        announced.contains(&s.coordinator.organisation) && announced.contains(&s.vt.organisation)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn feedback_is_refused_where_it_does_not_belong() {
    let app = TestApp::new().await;
    let s = setup(&app).await;
    for (body, property) in [
        (
            json!({"category": "safety_assessment_decided", "message": "x"}),
            "outcome",
        ),
        (
            json!({"category": "received", "outcome": "no_further_action", "message": "x"}),
            "outcome",
        ),
        (
            json!({"category": "received", "audience": "school_staff", "message": "x"}),
            "audience",
        ),
        (
            json!({"category": "received", "doNotDiscussWithParents": true, "message": "x"}),
            "doNotDiscussExplanation",
        ),
        (json!({"category": "received", "message": ""}), "message"),
        (json!({"category": "gossip", "message": "x"}), "category"),
    ] {
        let reply = feedback(&app, &s, body.clone()).await;
        reply.expect_problem(400, "invalid-input");
        assert_eq!(reply.invalid_params(), [property], "{body}");
    }
    // Only the recipient gives feedback, and only after receipt.
    app.post(&format!("/v1/handoffs/{}/feedback", s.handoff))
        .by(&s.coordinator)
        .json(&json!({"category": "received", "message": "x"}))
        .send()
        .await
        .expect_problem(403, "forbidden");
    let unacknowledged = app
        .post("/v1/handoffs")
        .by(&s.coordinator)
        .json(&json!({"kind": "advice_request", "toOrganisation": s.vt.organisation, "ageBand": "4-11", "message": "Advies?"}))
        .send()
        .await;
    let id = unacknowledged.body["id"].as_str().unwrap();
    app.post(&format!("/v1/handoffs/{id}/feedback"))
        .by(&s.vt)
        .json(&json!({"category": "received", "message": "x"}))
        .send()
        .await
        .expect_problem(409, "invalid-transition");
    // Nobody else sees or sends it.
    let stranger = app
        .member(OrganisationKind::VeiligThuis, Role::VtWorker)
        .await;
    let theirs = app
        .post(&format!("/v1/handoffs/{}/feedback", s.handoff))
        .by(&stranger)
        .json(&json!({"category": "received", "message": "x"}))
        .send()
        .await;
    theirs.expect_problem(404, "not-found");
    app.get(&format!("/v1/handoffs/{}/feedback", s.handoff))
        .by(&stranger)
        .send()
        .await
        .expect_problem(404, "not-found");
}

#[tokio::test(flavor = "multi_thread")]
async fn guidance_reaches_the_teachers_who_signalled_and_receipts_go_back() {
    let app = TestApp::new().await;
    let s = setup(&app).await;
    consent(&app, &s, &["guidance_for_school", "help_in_place"]).await;
    let staff = feedback(&app, &s, guidance()).await;
    let staff_id = staff.body["id"].as_str().unwrap().to_owned();
    let coordinators_only = feedback(
        &app,
        &s,
        json!({"category": "help_in_place", "message": "Het wijkteam helpt."}),
    )
    .await;
    coordinators_only.expect(201);
    let coordinators_id = coordinators_only.body["id"].as_str().unwrap().to_owned();

    let inbox = |member: &Member| app.get("/v1/feedback?unread=true").by(member).send();
    let ids = |reply: &Reply| -> Vec<String> {
        reply.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        ids(&inbox(&s.coordinator).await),
        [staff_id.clone(), coordinators_id.clone()]
    );
    assert_eq!(
        ids(&inbox(&s.teacher).await),
        vec![staff_id.clone()],
        "guidance for school staff only"
    );
    assert_eq!(
        ids(&inbox(&s.other_teacher).await),
        Vec::<String>::new(),
        "not a signaller of this child"
    );
    app.get(&format!("/v1/feedback/{coordinators_id}"))
        .by(&s.teacher)
        .send()
        .await
        .expect_problem(404, "not-found");
    app.get(&format!("/v1/feedback/{staff_id}"))
        .by(&s.other_teacher)
        .send()
        .await
        .expect_problem(404, "not-found");

    for member in [&s.coordinator, &s.teacher] {
        let read = app
            .post(&format!("/v1/feedback/{staff_id}/read-receipt"))
            .by(member)
            .json(&json!({}))
            .send()
            .await;
        read.expect(200);
    }
    // Idempotent.
    app.post(&format!("/v1/feedback/{staff_id}/read-receipt"))
        .by(&s.teacher)
        .send()
        .await
        .expect(200);
    assert_eq!(ids(&inbox(&s.teacher).await), Vec::<String>::new());
    assert_eq!(
        ids(&inbox(&s.coordinator).await),
        vec![coordinators_id.clone()]
    );

    // Veilig Thuis sees who read it, and when.
    let seen = app
        .get(&format!("/v1/feedback/{staff_id}"))
        .by(&s.vt)
        .send()
        .await;
    let readers: Vec<&str> = seen.body["readBy"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["reader"]["sub"].as_str().unwrap())
        .collect();
    assert_eq!(
        readers,
        [s.coordinator.sub.as_str(), s.teacher.sub.as_str()]
    );
    assert!(seen.body["readBy"][0]["readAt"].is_string());
    // Receipts come from the receiving organisation only.
    app.post(&format!("/v1/feedback/{staff_id}/read-receipt"))
        .by(&s.vt)
        .send()
        .await
        .expect_problem(404, "not-found");

    let mut conn = app.conn().await;
    let reads: i64 = events::table
        .filter(events::resource_id.eq(staff_id.parse::<Uuid>().unwrap()))
        .filter(events::event_type.eq("feedback.read"))
        .filter(events::organisation_id.eq(s.vt.organisation))
        .count()
        .get_result(&mut conn)
        .await
        .unwrap();
    assert_eq!(reads, 2, "one per reader, not per receipt");
}

#[tokio::test(flavor = "multi_thread")]
async fn after_withdrawal_only_status_flows_and_earlier_feedback_is_marked() {
    let app = TestApp::new().await;
    let s = setup(&app).await;
    let id = consent(&app, &s, &["guidance_for_school"]).await;
    let earlier = feedback(&app, &s, guidance()).await;
    earlier.expect(201);
    let consent_view = app
        .get(&format!("/v1/consents/{id}"))
        .by(&s.vt)
        .send()
        .await;
    let mother = consent_view.body["requiredParties"][0]["guardianId"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post(&format!("/v1/consents/{id}/withdrawal"))
        .by(&s.vt)
        .json(&json!({"party": mother, "reason": "Moeder trekt haar toestemming in."}))
        .send()
        .await
        .expect(200);
    let refused = feedback(&app, &s, guidance()).await;
    refused.expect_problem(422, "consent-required");
    assert_eq!(refused.body["missing"], "consent_not_active");
    feedback(
        &app,
        &s,
        json!({"category": "involvement_ended", "message": "Afgerond."}),
    )
    .await
    .expect(201);

    let earlier_id = earlier.body["id"].as_str().unwrap();
    let marked = app
        .get(&format!("/v1/feedback/{earlier_id}"))
        .by(&s.teacher)
        .send()
        .await;
    marked.expect(200);
    assert!(marked.body["consentWithdrawnAt"].is_string());

    // The school was told.
    let mut conn = app.conn().await;
    let told: i64 = events::table
        .filter(events::resource_id.eq(id.parse::<Uuid>().unwrap()))
        .filter(events::event_type.eq("consent.withdrawn"))
        .filter(events::organisation_id.eq(s.coordinator.organisation))
        .count()
        .get_result(&mut conn)
        .await
        .unwrap();
    assert_eq!(told, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn veilig_thuis_sees_the_reports_it_owes_feedback_on() {
    let app = TestApp::new().await;
    let s = setup(&app).await;
    let awaiting = |member: &Member| {
        app.get("/v1/handoffs?awaitingFeedback=true")
            .by(member)
            .send()
    };
    let ids = |reply: &Reply| -> Vec<String> {
        reply.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ids(&awaiting(&s.vt).await), vec![s.handoff.clone()]);
    assert_eq!(
        ids(&awaiting(&s.coordinator).await),
        vec![s.handoff.clone()],
        "the sender sees it too"
    );
    feedback(
        &app,
        &s,
        json!({"category": "received", "message": "Ontvangen."}),
    )
    .await
    .expect(201);
    assert_eq!(ids(&awaiting(&s.vt).await), Vec::<String>::new());

    // Five working days later, still no safety assessment decision: owed again.
    let mut conn = app.db.connect().await;
    conn.batch_execute(&format!(
        "UPDATE handoffs SET assessment_due_at = now() - interval '1 hour' WHERE id = '{}'",
        s.handoff
    ))
    .await
    .unwrap();
    let owed = awaiting(&s.vt).await;
    assert_eq!(ids(&owed), vec![s.handoff.clone()]);
    assert_eq!(owed.body["items"][0]["awaitingFeedback"], true);
    assert_eq!(owed.body["items"][0]["overdue"], true);
    feedback(&app, &s, json!({"category": "safety_assessment_decided", "outcome": "vt_investigates", "message": "Onderzoek."}))
        .await
        .expect(201);
    assert_eq!(ids(&awaiting(&s.vt).await), Vec::<String>::new());
    let all = app.get("/v1/handoffs").by(&s.vt).send().await;
    assert_eq!(all.body["items"][0]["awaitingFeedback"], false);
    assert_eq!(all.body["items"][0]["overdue"], false);
}

/// Voorwaarden en vervolg: Veilig Thuis sets conditions with a check date, reports each check
/// as status feedback (no consent), and names the next step when they are not met.
#[tokio::test(flavor = "multi_thread")]
async fn veilig_thuis_sets_conditions_and_reports_each_check() {
    let app = TestApp::new().await;
    let s = setup(&app).await;
    let in_days =
        |days: i64| (chrono::Utc::now().date_naive() + chrono::Duration::days(days)).to_string();
    let check_on = |reply: &Reply| reply.body.get("conditionsCheckOn").cloned();
    let handoff = |member: &Member| {
        app.get(&format!("/v1/handoffs/{}", s.handoff))
            .by(member)
            .send()
    };

    // No check before there are conditions.
    feedback(
        &app,
        &s,
        json!({"category": "conditions_met", "message": "Afspraken nagekomen."}),
    )
    .await
    .expect_problem(409, "no-conditions-in-force");
    // Conditions come with a check date after today.
    for on in [None, Some(in_days(0))] {
        let mut body = json!({"category": "safety_assessment_decided",
                              "outcome": "conditions_and_follow_up",
                              "message": "Veiligheidsvoorwaarden gesteld; het wijkteam helpt."});
        if let Some(on) = on {
            body["followUpCheckOn"] = json!(on);
        }
        let refused = feedback(&app, &s, body).await;
        refused.expect_problem(400, "invalid-input");
        assert_eq!(refused.invalid_params(), ["followUpCheckOn"]);
    }
    let decided = feedback(
        &app,
        &s,
        json!({"category": "safety_assessment_decided", "outcome": "conditions_and_follow_up",
               "followUpCheckOn": in_days(28),
               "message": "Veiligheidsvoorwaarden gesteld; het wijkteam helpt."}),
    )
    .await;
    decided.expect(201);
    assert_eq!(decided.body["legalBasis"], "statutory");
    assert_eq!(decided.body["followUpCheckOn"], in_days(28));
    for side in [&s.vt, &s.coordinator] {
        assert_eq!(check_on(&handoff(side).await), Some(json!(in_days(28))));
    }

    // A met check that goes on sets the next date; unmet conditions name the next step.
    feedback(
        &app,
        &s,
        json!({"category": "conditions_met", "followUpCheckOn": in_days(56),
               "message": "Afspraken nagekomen; volgende controle over vier weken."}),
    )
    .await
    .expect(201);
    assert_eq!(
        check_on(&handoff(&s.coordinator).await),
        Some(json!(in_days(56)))
    );
    for outcome in ["no_further_action", "handed_to_local_team"] {
        feedback(
            &app,
            &s,
            json!({"category": "conditions_not_met", "outcome": outcome, "message": "Niet nagekomen."}),
        )
        .await
        .expect_problem(400, "invalid-input");
    }
    let unmet = feedback(
        &app,
        &s,
        json!({"category": "conditions_not_met", "outcome": "vt_investigates",
               "message": "Voorwaarden niet nagekomen; Veilig Thuis start een onderzoek."}),
    )
    .await;
    unmet.expect(201);
    assert_eq!(unmet.body["outcome"], "vt_investigates");
    assert_eq!(check_on(&handoff(&s.coordinator).await), None);
    // The conditions route has ended: no more checks.
    feedback(
        &app,
        &s,
        json!({"category": "conditions_met", "message": "Nagekomen."}),
    )
    .await
    .expect_problem(409, "no-conditions-in-force");

    // The school reads each status item; no consent was needed for any.
    let read = app
        .get(&format!("/v1/handoffs/{}/feedback", s.handoff))
        .by(&s.coordinator)
        .send()
        .await;
    let categories: Vec<&str> = read.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["category"].as_str().unwrap())
        .collect();
    assert_eq!(
        categories,
        [
            "safety_assessment_decided",
            "conditions_met",
            "conditions_not_met"
        ]
    );
}
