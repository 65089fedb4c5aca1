//! Handoffs: routes between organisation kinds, the report's rules, anonymous advice requests,
//! the lifecycle and its impossible transitions, deadlines and overdue lists, intake, and that
//! nobody but sender and recipient ever sees one.

use diesel::{ExpressionMethods, QueryDsl};
use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
use schakel::{
    db::schema::{access_log, events},
    domain::{
        organisation::{OrganisationKind, Role},
        reference::Labelled,
    },
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{Member, Reply, TestApp};

struct World {
    school: Member,
    teacher: Member,
    vt: Member,
    child: Uuid,
    signal: Uuid,
}

async fn world(app: &TestApp) -> World {
    let school = app
        .member(OrganisationKind::School, Role::CareCoordinator)
        .await;
    let teacher = app.member_of(school.organisation, Role::Teacher).await;
    let vt = app
        .member(OrganisationKind::VeiligThuis, Role::VtWorker)
        .await;
    let child = app.child(&school, "LL-20431").await;
    let signal = app
        .signal(&teacher, child, "Blauwe plek op de bovenarm.")
        .await;
    World {
        school,
        teacher,
        vt,
        child,
        signal,
    }
}

fn report(w: &World) -> Value {
    json!({
        "kind": "report",
        "toOrganisation": w.vt.organisation,
        "childId": w.child,
        "signalIds": [w.signal],
        "message": "Zorgen over huiselijk geweld.",
        "requestsGuidance": true,
        "parentsInformedAt": "2026-11-20T15:00:00Z"
    })
}

async fn send(app: &TestApp, member: &Member, body: &Value) -> Reply {
    app.post("/v1/handoffs").by(member).json(body).send().await
}

async fn step(
    app: &TestApp,
    member: &Member,
    handoff: &str,
    step: &str,
    note: Option<&str>,
) -> Reply {
    let body = match note {
        Some(note) if step != "intake" => json!({"note": note}),
        _ => json!({}),
    };
    app.post(&format!("/v1/handoffs/{handoff}/{step}"))
        .by(member)
        .json(&body)
        .send()
        .await
}

async fn sent_report(app: &TestApp, w: &World) -> String {
    let reply = send(app, &w.school, &report(w)).await;
    reply.expect(201);
    reply.body["id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_school_reports_to_veilig_thuis() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let before = chrono::Utc::now();
    let reply = send(&app, &w.school, &report(&w)).await;
    reply.expect(201);
    let id = reply.body["id"].as_str().unwrap();
    assert_eq!(
        reply.header("location"),
        Some(format!("/v1/handoffs/{id}").as_str())
    );
    let body = &reply.body;
    assert_eq!(body["status"], "sent");
    assert_eq!(body["legalBasis"], "meldrecht");
    assert_eq!(body["from"]["id"], w.school.organisation.to_string());
    assert_eq!(body["to"]["kind"], "veilig_thuis");
    assert_eq!(body["child"]["givenName"], "Noah");
    assert_eq!(body["child"]["senderRef"], "LL-20431");
    assert_eq!(body["guardians"][0]["parentalAuthority"], "yes");
    assert_eq!(body["signals"][0]["facts"], "Blauwe plek op de bovenarm.");
    assert_eq!(body["signals"][0]["recordedByRole"], "teacher");
    assert_eq!(body["melderIdentityDisclosable"], true);
    assert_eq!(body["urgency"], "regular");
    assert_eq!(
        body["childId"],
        w.child.to_string(),
        "the sender sees its own child"
    );
    assert_eq!(body["overdue"], false);
    let due: chrono::DateTime<chrono::Utc> = body["acknowledgementDueAt"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        due > before + chrono::Duration::hours(23),
        "one working day: {due}"
    );

    // Veilig Thuis sees the snapshot, not the school's record ids.
    let seen = app
        .get(&format!("/v1/handoffs/{id}"))
        .by(&w.vt)
        .send()
        .await;
    seen.expect(200);
    assert!(seen.body.get("childId").is_none());
    assert!(seen.body.get("caseId").is_none());
    assert_eq!(seen.body["child"], body["child"]);

    // The snapshot does not follow later corrections of the school's record.
    app.patch(&format!("/v1/children/{}", w.child))
        .by(&w.school)
        .json(&json!({"givenName": "Noah Jan"}))
        .send()
        .await
        .expect(200);
    let seen = app
        .get(&format!("/v1/handoffs/{id}"))
        .by(&w.vt)
        .send()
        .await;
    assert_eq!(seen.body["child"]["givenName"], "Noah");
    let mut conn = app.db.connect().await;
    for statement in [
        "UPDATE handoffs SET snapshot = '{}'",
        "UPDATE handoffs SET message = 'x'",
        "DELETE FROM handoffs",
    ] {
        let err = conn.batch_execute(statement).await.unwrap_err();
        assert!(
            err.to_string().contains("append-only"),
            "{statement}: {err}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_report_says_whether_the_parents_were_told() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let with = |changes: Value| {
        let mut body = report(&w);
        for (key, value) in changes.as_object().unwrap() {
            if value.is_null() {
                body.as_object_mut().unwrap().remove(key);
            } else {
                body[key] = value.clone();
            }
        }
        body
    };
    let cases = [
        (
            with(json!({"parentsInformedAt": null})),
            "parentsInformedAt",
        ),
        (
            with(json!({"parentsNotInformedReason": "urgency"})),
            "parentsNotInformedReason",
        ),
        (
            with(json!({"parentsInformedAt": null, "parentsNotInformedReason": "safety_child"})),
            "parentsNotInformedExplanation",
        ),
        (
            with(json!({"parentsInformedAt": "2099-01-01T00:00:00Z"})),
            "parentsInformedAt",
        ),
        (
            with(json!({"melderIdentityDisclosable": false})),
            "melderIdentityReason",
        ),
        (
            with(json!({"parentsNotInformedReason": "chaos", "parentsInformedAt": null})),
            "parentsNotInformedReason",
        ),
        (with(json!({"childId": null})), "childId"),
        (with(json!({"ageBand": "4-11"})), "ageBand"),
        (with(json!({"message": "  "})), "message"),
    ];
    for (body, property) in cases {
        let reply = send(&app, &w.school, &body).await;
        reply.expect_problem(400, "invalid-input");
        assert_eq!(reply.invalid_params(), [property], "{body}");
    }
    let reply = send(
        &app,
        &w.school,
        &with(json!({
            "parentsInformedAt": null,
            "parentsNotInformedReason": "safety_child",
            "parentsNotInformedExplanation": "Vader is eerder gewelddadig geweest.",
            "melderIdentityDisclosable": false,
            "melderIdentityReason": "Vrees voor represailles tegen de leerkracht.",
            "urgency": "acute"
        })),
    )
    .await;
    reply.expect(201);
    assert_eq!(reply.body["parentsNotInformedReason"], "safety_child");
    assert_eq!(reply.body["melderIdentityDisclosable"], false);
    let sent: chrono::DateTime<chrono::Utc> =
        reply.body["sentAt"].as_str().unwrap().parse().unwrap();
    let due: chrono::DateTime<chrono::Utc> = reply.body["acknowledgementDueAt"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(due - sent, chrono::Duration::hours(4), "acute: four hours");

    // Report-only properties do not belong on other kinds.
    let mut advice = report(&w);
    advice["kind"] = json!("advice_request");
    let reply = send(&app, &w.school, &advice).await;
    assert_eq!(reply.invalid_params(), ["parentsInformedAt"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_anonymous_advice_request_carries_nothing_identifying() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let anonymous = json!({
        "kind": "advice_request",
        "toOrganisation": w.vt.organisation,
        "ageBand": "12-15",
        "message": "Een leerling vertelt over ruzies thuis. Wat is wijs?"
    });
    let mut without_band = anonymous.clone();
    without_band.as_object_mut().unwrap().remove("ageBand");
    assert_eq!(
        send(&app, &w.school, &without_band).await.invalid_params(),
        ["ageBand"]
    );
    let mut with_signals = anonymous.clone();
    with_signals["signalIds"] = json!([w.signal]);
    assert_eq!(
        send(&app, &w.school, &with_signals).await.invalid_params(),
        ["signalIds"]
    );

    let reply = send(&app, &w.school, &anonymous).await;
    reply.expect(201);
    let id = reply.body["id"].as_str().unwrap();
    let seen = app
        .get(&format!("/v1/handoffs/{id}"))
        .by(&w.vt)
        .send()
        .await;
    assert_eq!(seen.body["legalBasis"], "anonymous");
    assert_eq!(seen.body["ageBand"], "12-15");
    assert!(seen.body.get("child").is_none());
    assert_eq!(seen.body["guardians"], json!([]));
    assert_eq!(seen.body["signals"], json!([]));
    assert!(!seen.text.contains("Noah") && !seen.text.contains("LL-20431"));

    // Disclosed without a child, on an anonymous basis.
    let mut conn = app.conn().await;
    let (basis, child, recipient): (Option<String>, Option<Uuid>, Option<Uuid>) = access_log::table
        .filter(access_log::resource_id.eq(id.parse::<Uuid>().unwrap()))
        .filter(access_log::action.eq("disclose"))
        .select((
            access_log::legal_basis,
            access_log::child_id,
            access_log::recipient_organisation_id,
        ))
        .first(&mut conn)
        .await
        .unwrap();
    assert_eq!(basis.as_deref(), Some("anonymous"));
    assert_eq!(child, None);
    assert_eq!(recipient, Some(w.vt.organisation));

    // No child to take in.
    step(&app, &w.vt, id, "acknowledgement", None)
        .await
        .expect(200);
    app.post(&format!("/v1/handoffs/{id}/intake"))
        .by(&w.vt)
        .json(&json!({}))
        .send()
        .await
        .expect_problem(422, "no-child");
}

/// Every kind from every sending kind to every receiving kind, through the API.
#[tokio::test(flavor = "multi_thread")]
async fn routes_between_organisation_kinds() {
    use schakel::domain::handoff::{HandoffKind, route_allowed};
    let app = TestApp::new().await;
    let mut senders = Vec::new();
    let mut recipients = Vec::new();
    for &kind in OrganisationKind::ALL {
        let org = app.organisation(kind, &format!("{kind} org")).await;
        recipients.push((kind, org));
        // Each kind's casework role, if it has one.
        let role = [Role::CareCoordinator, Role::YouthWorker, Role::VtWorker]
            .into_iter()
            .find(|r| r.fits(kind));
        if let Some(role) = role {
            let member = app.member_of(org, role).await;
            let child = app.child(&member, "C-1").await;
            senders.push((kind, member, child));
        }
    }
    for &kind in HandoffKind::ALL {
        for (from, member, child) in &senders {
            for (to, org) in &recipients {
                if org == &member.organisation {
                    continue;
                }
                let mut body = json!({
                    "kind": kind.code(),
                    "toOrganisation": org,
                    "childId": child,
                    "message": "x",
                });
                if matches!(kind, HandoffKind::Report | HandoffKind::SchoolTransfer) {
                    body["parentsInformedAt"] = json!("2026-11-20T15:00:00Z");
                }
                if matches!(
                    kind,
                    HandoffKind::InformationResponse | HandoffKind::SchoolTransfer
                ) {
                    body["inResponseTo"] = json!(Uuid::new_v4());
                }
                if kind == HandoffKind::TransferRequest {
                    body["pupilNumber"] = json!("LL-1");
                }
                if matches!(kind, HandoffKind::Referral | HandoffKind::SignalToSchool) {
                    body["consentId"] = json!(Uuid::new_v4());
                }
                let reply = send(&app, member, &body).await;
                let refused_route = reply.status == 422
                    && reply.body["type"] == "https://schakel.nl/problems/route-not-allowed";
                assert_eq!(
                    !refused_route,
                    route_allowed(kind, *from, *to),
                    "{} from {from} to {to}: {}",
                    kind.code(),
                    reply.text
                );
                if refused_route {
                    let detail = reply.body["detail"].as_str().unwrap();
                    assert!(detail.contains(&from.to_string()), "{detail}");
                }
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn refusals_name_what_is_wrong() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let other_child = app.child(&w.school, "LL-2").await;
    let other_signal = app.signal(&w.teacher, other_child, "Ander kind.").await;
    let elsewhere = app
        .member(OrganisationKind::School, Role::CareCoordinator)
        .await;
    let their_child = app.child(&elsewhere, "X-1").await;
    let inactive_vt = app
        .organisation(OrganisationKind::VeiligThuis, "VT Oud")
        .await;
    let admin = app.platform_admin().await;
    app.patch(&format!("/v1/organisations/{inactive_vt}"))
        .by(&admin)
        .json(&json!({"active": false}))
        .send()
        .await
        .expect(200);
    let wijkteam = app
        .organisation(OrganisationKind::Wijkteam, "Buurtteam")
        .await;

    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"toOrganisation": Uuid::new_v4()}),
            "unknown-recipient",
        ),
        (json!({"toOrganisation": inactive_vt}), "recipient-inactive"),
        (json!({"signalIds": [other_signal]}), "unknown-signal"),
        (
            json!({"childId": their_child, "signalIds": []}),
            "unknown-child",
        ),
        (json!({"caseId": Uuid::new_v4()}), "unknown-case"),
        (
            json!({"kind": "referral", "toOrganisation": wijkteam, "parentsInformedAt": null,
                   "consentId": Uuid::new_v4()}),
            "consent-required",
        ),
    ];
    for (changes, kind) in cases {
        let mut body = report(&w);
        for (key, value) in changes.as_object().unwrap() {
            if value.is_null() {
                body.as_object_mut().unwrap().remove(key);
            } else {
                body[key] = value.clone();
            }
        }
        send(&app, &w.school, &body).await.expect_problem(422, kind);
    }

    // A report from a case needs the case's decision to be a report.
    let case = app
        .post(&format!("/v1/children/{}/cases", w.child))
        .by(&w.school)
        .json(&json!({"lead": {"sub": w.school.sub, "name": "IB"}, "signalIds": [w.signal]}))
        .send()
        .await
        .body["id"]
        .clone();
    let mut from_case = report(&w);
    from_case["caseId"] = case;
    send(&app, &w.school, &from_case)
        .await
        .expect_problem(422, "report-not-decided");

    // Roles without casework send nothing.
    let privacy = app
        .member_of(w.school.organisation, Role::PrivacyOfficer)
        .await;
    send(&app, &w.teacher, &report(&w))
        .await
        .expect_problem(403, "forbidden");
    send(&app, &privacy, &report(&w))
        .await
        .expect_problem(403, "forbidden");
}

/// The report from a case through its whole life, with the case following it.
#[tokio::test(flavor = "multi_thread")]
async fn the_full_lifecycle_of_a_report_from_a_case() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let case = app
        .post(&format!("/v1/children/{}/cases", w.child))
        .by(&w.school)
        .json(&json!({"lead": {"sub": w.school.sub, "name": "IB"}, "signalIds": [w.signal]}))
        .send()
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for body in [
        json!({"step": "consultation", "kind": "colleague", "consultedRole": "aandachtsfunctionaris",
               "consultedAt": "2026-11-20T10:00:00Z", "advice": "Melden."}),
        json!({"step": "weighing", "answers": {"suspicion": {"answer": "yes"}, "unsafety": {"answer": "yes"}}}),
        json!({"step": "decision", "decision": "report", "rationale": "Structurele onveiligheid."}),
    ] {
        app.post(&format!("/v1/cases/{case}/steps"))
            .by(&w.school)
            .json(&body)
            .send()
            .await
            .expect(201);
    }
    let mut body = report(&w);
    body["caseId"] = json!(case);
    let sent = send(&app, &w.school, &body).await;
    sent.expect(201);
    let id = sent.body["id"].as_str().unwrap().to_owned();
    assert_eq!(sent.body["caseId"], case.as_str());

    let case_view = app
        .get(&format!("/v1/cases/{case}"))
        .by(&w.school)
        .send()
        .await;
    assert_eq!(case_view.body["report"]["handoffId"], id.as_str());
    assert_eq!(case_view.body["report"]["status"], "sent");

    // Only the recipient acknowledges; only the sender withdraws.
    step(&app, &w.school, &id, "acknowledgement", None)
        .await
        .expect_problem(403, "forbidden");
    step(&app, &w.vt, &id, "withdrawal", None)
        .await
        .expect_problem(403, "forbidden");

    let acknowledged = step(&app, &w.vt, &id, "acknowledgement", None).await;
    acknowledged.expect(200);
    assert_eq!(acknowledged.body["status"], "received");
    let received: chrono::DateTime<chrono::Utc> = acknowledged.body["transitions"][0]["at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let due: chrono::DateTime<chrono::Utc> = acknowledged.body["assessmentDueAt"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        due,
        schakel::domain::calendar::add_working_days(received, 5)
    );
    assert_eq!(acknowledged.body["transitions"][0]["by"]["sub"], w.vt.sub);

    // Veilig Thuis takes the child in, once.
    let intake = app
        .post(&format!("/v1/handoffs/{id}/intake"))
        .by(&w.vt)
        .json(&json!({"externalRef": "VT-1"}))
        .send()
        .await;
    intake.expect(201);
    let vt_child = intake.body["id"].as_str().unwrap().to_owned();
    assert_eq!(intake.body["givenName"], "Noah");
    assert_eq!(intake.body["externalRef"], "VT-1");
    assert_eq!(intake.body["guardians"][0]["name"], "Sarah de Boer");
    let again = app
        .post(&format!("/v1/handoffs/{id}/intake"))
        .by(&w.vt)
        .json(&json!({}))
        .send()
        .await;
    again.expect(200);
    assert_eq!(again.body["id"], vt_child.as_str());
    app.post(&format!("/v1/handoffs/{id}/intake"))
        .by(&w.school)
        .json(&json!({}))
        .send()
        .await
        .expect_problem(403, "forbidden");
    let seen = app
        .get(&format!("/v1/handoffs/{id}"))
        .by(&w.vt)
        .send()
        .await;
    assert_eq!(seen.body["intakeChildId"], vt_child.as_str());
    let vt_child_view = app
        .get(&format!("/v1/children/{vt_child}"))
        .by(&w.vt)
        .send()
        .await;
    vt_child_view.expect(200);

    // The school cannot close its case until… it has sent the report — which it has.
    step(&app, &w.vt, &id, "closure", Some("x"))
        .await
        .expect_problem(409, "invalid-transition");
    let accepted = step(&app, &w.vt, &id, "acceptance", None).await;
    accepted.expect(200);
    step(&app, &w.school, &id, "withdrawal", Some("Te laat"))
        .await
        .expect_problem(409, "invalid-transition");
    step(&app, &w.vt, &id, "closure", None)
        .await
        .expect_problem(400, "invalid-input");
    let closed = step(
        &app,
        &w.vt,
        &id,
        "closure",
        Some("Overgedragen aan het lokale team."),
    )
    .await;
    closed.expect(200);
    assert_eq!(closed.body["status"], "closed");
    let transitions: Vec<&str> = closed.body["transitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["transition"].as_str().unwrap())
        .collect();
    assert_eq!(transitions, ["acknowledgement", "acceptance", "closure"]);

    let case_view = app
        .get(&format!("/v1/cases/{case}"))
        .by(&w.school)
        .send()
        .await;
    assert_eq!(case_view.body["report"]["status"], "closed");
    app.post(&format!("/v1/cases/{case}/closure"))
        .by(&w.school)
        .json(&json!({}))
        .send()
        .await
        .expect(200);

    // Both timelines tell the story.
    let school_timeline = app
        .get(&format!("/v1/children/{}/timeline", w.child))
        .by(&w.school)
        .send()
        .await;
    let school_types: Vec<&str> = school_timeline.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["type"].as_str().unwrap())
        .filter(|t| t.starts_with("handoff."))
        .collect();
    assert_eq!(
        school_types,
        [
            "handoff.closed",
            "handoff.accepted",
            "handoff.acknowledged",
            "handoff.sent"
        ]
    );
    let vt_timeline = app
        .get(&format!("/v1/children/{vt_child}/timeline"))
        .by(&w.vt)
        .send()
        .await;
    let vt_types: Vec<&str> = vt_timeline.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        vt_types,
        ["handoff.closed", "handoff.accepted", "child.created"]
    );

    // Events for both organisations, in order.
    let mut conn = app.conn().await;
    for organisation in [w.school.organisation, w.vt.organisation] {
        let types: Vec<String> = events::table
            .filter(events::resource_id.eq(id.parse::<Uuid>().unwrap()))
            .filter(events::organisation_id.eq(organisation))
            .order(events::id)
            .select(events::event_type)
            .load(&mut conn)
            .await
            .unwrap();
        assert_eq!(
            types,
            [
                "handoff.sent",
                "handoff.acknowledged",
                "handoff.accepted",
                "handoff.closed"
            ],
            "{organisation}"
        );
    }
}

/// Every impossible transition from every reachable status is a 409.
#[tokio::test(flavor = "multi_thread")]
async fn impossible_transitions_are_refused() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    // Drive one handoff into each status.
    let mut by_status: Vec<(&str, String)> = Vec::new();
    for (status, steps) in [
        ("sent", vec![]),
        ("received", vec![("acknowledgement", false)]),
        ("accepted", vec![("acceptance", false)]),
        ("declined", vec![("declination", false)]),
        ("closed", vec![("acceptance", false), ("closure", false)]),
        ("withdrawn", vec![("withdrawal", true)]),
    ] {
        let id = sent_report(&app, &w).await;
        for (name, by_sender) in steps {
            let member = if by_sender { &w.school } else { &w.vt };
            step(&app, member, &id, name, Some("reden"))
                .await
                .expect(200);
        }
        by_status.push((status, id));
    }
    let allowed = [
        ("sent", "acknowledgement"),
        ("sent", "acceptance"),
        ("sent", "declination"),
        ("sent", "withdrawal"),
        ("received", "acceptance"),
        ("received", "declination"),
        ("received", "withdrawal"),
        ("accepted", "closure"),
    ];
    for (status, id) in &by_status {
        for name in [
            "acknowledgement",
            "acceptance",
            "declination",
            "closure",
            "withdrawal",
        ] {
            if allowed.contains(&(status, name)) {
                continue;
            }
            let member = if name == "withdrawal" {
                &w.school
            } else {
                &w.vt
            };
            let reply = step(&app, member, id, name, Some("reden")).await;
            reply.expect_problem(409, "invalid-transition");
            assert_eq!(reply.body["handoffStatus"], *status, "{name} from {status}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn transitions_honour_if_match() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let sent = send(&app, &w.school, &report(&w)).await;
    let id = sent.body["id"].as_str().unwrap();
    let vt_view = app
        .get(&format!("/v1/handoffs/{id}"))
        .by(&w.vt)
        .send()
        .await;
    let etag = vt_view.header("etag").unwrap().to_owned();
    app.get(&format!("/v1/handoffs/{id}"))
        .by(&w.vt)
        .header("if-none-match", &etag)
        .send()
        .await
        .expect(304);
    app.post(&format!("/v1/handoffs/{id}/acknowledgement"))
        .by(&w.vt)
        .header("if-match", &etag)
        .json(&json!({}))
        .send()
        .await
        .expect(200);
    app.post(&format!("/v1/handoffs/{id}/acceptance"))
        .by(&w.vt)
        .header("if-match", &etag)
        .json(&json!({}))
        .send()
        .await
        .expect_problem(412, "precondition-failed");
}

#[tokio::test(flavor = "multi_thread")]
async fn overdue_handoffs_are_listed_for_sender_and_recipient() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let late_ack = sent_report(&app, &w).await;
    let on_time = sent_report(&app, &w).await;
    let late_assessment = sent_report(&app, &w).await;
    let assessed = sent_report(&app, &w).await;
    for id in [&late_assessment, &assessed] {
        step(&app, &w.vt, id, "acknowledgement", None)
            .await
            .expect(200);
    }
    let mut conn = app.db.connect().await;
    conn.batch_execute(&format!(
        "UPDATE handoffs SET acknowledgement_due_at = now() - interval '1 hour' WHERE id IN ('{late_ack}', '{late_assessment}', '{assessed}');
         UPDATE handoffs SET assessment_due_at = now() - interval '1 hour' WHERE id IN ('{late_assessment}', '{assessed}');
         UPDATE handoffs SET assessment_decided_at = now() WHERE id = '{assessed}';"
    ))
    .await
    .unwrap();
    for member in [&w.school, &w.vt] {
        let reply = app.get("/v1/handoffs?overdue=true").by(member).send().await;
        reply.expect(200);
        let mut ids: Vec<&str> = reply.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["id"].as_str().unwrap())
            .collect();
        ids.sort();
        let mut expected = vec![late_ack.as_str(), late_assessment.as_str()];
        expected.sort();
        assert_eq!(ids, expected);
        // The list's filter and each handoff's `overdue` flag agree.
        let all = app.get("/v1/handoffs").by(member).send().await;
        for handoff in all.body["items"].as_array().unwrap() {
            let id = handoff["id"].as_str().unwrap();
            assert_eq!(handoff["overdue"], json!(expected.contains(&id)), "{id}");
        }
    }
    let _ = on_time;
    let incoming = app
        .get("/v1/handoffs?direction=incoming&status=received")
        .by(&w.vt)
        .send()
        .await;
    assert_eq!(incoming.body["items"].as_array().unwrap().len(), 2);
    let outgoing = app
        .get("/v1/handoffs?direction=incoming")
        .by(&w.school)
        .send()
        .await;
    assert_eq!(outgoing.body["items"], json!([]));
}

#[tokio::test(flavor = "multi_thread")]
async fn veilig_thuis_asks_and_the_school_answers() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let vt_child = app.child(&w.vt, "VT-77").await;
    let request = send(
        &app,
        &w.vt,
        &json!({"kind": "information_request", "toOrganisation": w.school.organisation,
                "childId": vt_child, "message": "Hoe gaat het met Noah op school?"}),
    )
    .await;
    request.expect(201);
    assert_eq!(request.body["legalBasis"], "statutory");
    let request_id = request.body["id"].as_str().unwrap().to_owned();
    step(&app, &w.school, &request_id, "acknowledgement", None)
        .await
        .expect(200);

    let answer = |in_response_to: Value| {
        json!({"kind": "information_response", "toOrganisation": w.vt.organisation, "childId": w.child,
               "signalIds": [w.signal], "message": "Noah is stil in de klas.", "inResponseTo": in_response_to})
    };
    send(&app, &w.school, &answer(json!(Uuid::new_v4())))
        .await
        .expect_problem(422, "unknown-request");
    let other_request = sent_report(&app, &w).await;
    send(&app, &w.school, &answer(json!(other_request)))
        .await
        .expect_problem(422, "unknown-request");
    let response = send(&app, &w.school, &answer(json!(request_id))).await;
    response.expect(201);
    let seen = app
        .get(&format!(
            "/v1/handoffs/{}",
            response.body["id"].as_str().unwrap()
        ))
        .by(&w.vt)
        .send()
        .await;
    assert_eq!(seen.body["inResponseTo"], request_id.as_str());
    assert_eq!(
        seen.body["signals"][0]["facts"],
        "Blauwe plek op de bovenarm."
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn nobody_else_sees_a_handoff() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let id = sent_report(&app, &w).await;
    let outsiders = [
        app.member(OrganisationKind::VeiligThuis, Role::VtWorker)
            .await,
        app.member(OrganisationKind::School, Role::CareCoordinator)
            .await,
        app.member(OrganisationKind::Wijkteam, Role::YouthWorker)
            .await,
    ];
    let nobody = Uuid::new_v4();
    for outsider in &outsiders {
        let theirs = app
            .get(&format!("/v1/handoffs/{id}"))
            .by(outsider)
            .send()
            .await;
        let missing = app
            .get(&format!("/v1/handoffs/{nobody}"))
            .by(outsider)
            .send()
            .await;
        theirs.expect_problem(404, "not-found");
        assert_eq!(
            theirs.problem_without_instance(),
            missing.problem_without_instance()
        );
        for name in [
            "acknowledgement",
            "acceptance",
            "declination",
            "closure",
            "withdrawal",
            "intake",
        ] {
            let theirs = step(&app, outsider, &id, name, Some("x")).await;
            let missing = step(&app, outsider, &nobody.to_string(), name, Some("x")).await;
            theirs.expect_problem(404, "not-found");
            assert_eq!(
                theirs.problem_without_instance(),
                missing.problem_without_instance(),
                "{name}"
            );
        }
        let listed = app.get("/v1/handoffs").by(outsider).send().await;
        assert_eq!(listed.body["items"], json!([]));
    }
    // Teachers of the sending school do not see handoffs either.
    app.get(&format!("/v1/handoffs/{id}"))
        .by(&w.teacher)
        .send()
        .await
        .expect_problem(403, "forbidden");
}

#[tokio::test(flavor = "multi_thread")]
async fn disclosures_and_reads_are_in_the_access_log() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let id: Uuid = sent_report(&app, &w).await.parse().unwrap();
    app.get(&format!("/v1/handoffs/{id}"))
        .by(&w.vt)
        .send()
        .await
        .expect(200);
    let mut conn = app.conn().await;
    type Entry = (String, Uuid, Option<Uuid>, Option<String>, Option<Uuid>);
    let entries: Vec<Entry> = access_log::table
        .filter(access_log::resource_id.eq(id))
        .order(access_log::id)
        .select((
            access_log::action,
            access_log::organisation_id,
            access_log::child_id,
            access_log::legal_basis,
            access_log::recipient_organisation_id,
        ))
        .load(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        entries,
        [
            (
                "disclose".into(),
                w.school.organisation,
                Some(w.child),
                Some("meldrecht".into()),
                Some(w.vt.organisation)
            ),
            ("read".into(), w.vt.organisation, None, None, None),
        ]
    );
}

/// The event types of `organisation`'s feed about `handoff`, oldest first.
pub async fn handoff_events(app: &TestApp, member: &Member, handoff: &str) -> Vec<String> {
    app.settle_events().await;
    let feed = app.get("/v1/events?limit=200").by(member).send().await;
    feed.expect(200);
    feed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["resource"]["id"] == handoff)
        .map(|e| e["type"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_overdue_deadline_is_announced_to_both_sides_once() {
    use chrono::{DateTime, Duration, Utc};
    let app = TestApp::new().await;
    let w = world(&app).await;
    let handoff = sent_report(&app, &w).await;
    let read = app
        .get(&format!("/v1/handoffs/{handoff}"))
        .by(&w.school)
        .send()
        .await;
    let ack_due: DateTime<Utc> = read.body["acknowledgementDueAt"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let pool = &app.state.pool;

    // Not before the deadline; once after it, to both sides; never twice.
    assert_eq!(
        schakel::escalation::run_once(pool, ack_due).await.unwrap(),
        0
    );
    let late = ack_due + Duration::minutes(1);
    assert_eq!(schakel::escalation::run_once(pool, late).await.unwrap(), 1);
    assert_eq!(
        schakel::escalation::run_once(pool, late + Duration::hours(5))
            .await
            .unwrap(),
        0
    );
    for side in [&w.school, &w.vt] {
        let types = handoff_events(&app, side, &handoff).await;
        assert_eq!(
            types
                .iter()
                .filter(|t| *t == "handoff.acknowledgement_overdue")
                .count(),
            1,
            "{types:?}"
        );
    }
    // The handoff says which deadline is overdue since when (moved into the past here).
    {
        use diesel_async::SimpleAsyncConnection;
        let mut conn = app.conn().await;
        conn.batch_execute(&format!(
            "UPDATE handoffs SET acknowledgement_due_at = '2026-11-02T09:00:00Z' WHERE id = '{handoff}'"
        ))
        .await
        .unwrap();
    }
    let overdue = app
        .get(&format!("/v1/handoffs/{handoff}"))
        .by(&w.school)
        .send()
        .await;
    assert_eq!(
        overdue.body["overdueDeadlines"],
        json!([{"deadline": "acknowledgement", "dueAt": "2026-11-02T09:00:00Z"}])
    );

    // Received: the safety assessment's deadline starts, and is announced once when it passes.
    step(&app, &w.vt, &handoff, "acknowledgement", None)
        .await
        .expect(200);
    let received = app
        .get(&format!("/v1/handoffs/{handoff}"))
        .by(&w.vt)
        .send()
        .await;
    let assessment_due: DateTime<Utc> = received.body["assessmentDueAt"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let after = assessment_due + Duration::minutes(1);
    assert_eq!(schakel::escalation::run_once(pool, after).await.unwrap(), 1);
    assert_eq!(schakel::escalation::run_once(pool, after).await.unwrap(), 0);
    for side in [&w.school, &w.vt] {
        let types = handoff_events(&app, side, &handoff).await;
        assert_eq!(
            types
                .iter()
                .filter(|t| *t == "handoff.assessment_overdue")
                .count(),
            1,
            "{types:?}"
        );
        assert_eq!(
            types
                .iter()
                .filter(|t| *t == "handoff.acknowledgement_overdue")
                .count(),
            1
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sender_reminds_the_recipient_once_per_interval() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let handoff = sent_report(&app, &w).await;
    let path = format!("/v1/handoffs/{handoff}/reminders");
    let note = json!({"note": "Graag een ontvangstbevestiging."});
    // The recipient does not remind; another organisation does not see it.
    app.post(&path)
        .by(&w.vt)
        .json(&note)
        .send()
        .await
        .expect_problem(403, "forbidden");
    let stranger = app
        .member(OrganisationKind::School, Role::CareCoordinator)
        .await;
    app.post(&path)
        .by(&stranger)
        .json(&note)
        .send()
        .await
        .expect_problem(404, "not-found");

    let reminded = app.post(&path).by(&w.school).json(&note).send().await;
    reminded.expect(200);
    let reminders = reminded.body["reminders"].as_array().unwrap();
    assert_eq!(reminders.len(), 1);
    assert_eq!(reminders[0]["note"], "Graag een ontvangstbevestiging.");
    assert_eq!(reminders[0]["by"]["sub"], w.school.sub);
    let again = app.post(&path).by(&w.school).send().await;
    again.expect_problem(409, "reminder-too-soon");
    assert!(again.body["nextReminderAt"].is_string());
    let types = handoff_events(&app, &w.vt, &handoff).await;
    assert_eq!(
        types.iter().filter(|t| *t == "handoff.reminded").count(),
        1,
        "{types:?}"
    );
    assert!(
        !handoff_events(&app, &w.school, &handoff)
            .await
            .contains(&"handoff.reminded".to_owned()),
        "the reminder is for the recipient"
    );
    // The recipient sees it on the handoff's history too.
    let seen = app
        .get(&format!("/v1/handoffs/{handoff}"))
        .by(&w.vt)
        .send()
        .await;
    assert_eq!(seen.body["reminders"].as_array().unwrap().len(), 1);

    // A handoff no longer open is not reminded of.
    let other = sent_report(&app, &w).await;
    step(
        &app,
        &w.school,
        &other,
        "withdrawal",
        Some("Verkeerde regio."),
    )
    .await
    .expect(200);
    app.post(&format!("/v1/handoffs/{other}/reminders"))
        .by(&w.school)
        .send()
        .await
        .expect_problem(409, "invalid-transition");
    let log = app.access_log(w.child).await;
    assert!(log.iter().any(|(action, kind, id, _)| action == "update"
        && kind == "handoff"
        && id.map(|i| i.to_string()) == Some(handoff.clone())));
}
