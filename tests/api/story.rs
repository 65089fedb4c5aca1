//! The story of the seeds, through the public API only: a teacher's signals, the meldcode, a
//! report to Veilig Thuis, consent asked and given, feedback to the school, a withdrawal — and
//! both organisations' timelines and access logs telling exactly what happened; then the pupil
//! moves school mid-case and the new school receives what the old one selects.

use schakel::domain::organisation::{OrganisationKind, Role};
use serde_json::{Value, json};

use crate::harness::{Member, Reply, TestApp};

fn years_ago(years: u32) -> String {
    let today = chrono::Utc::now().date_naive();
    (today - chrono::Months::new(12 * years) - chrono::Duration::days(40)).to_string()
}

async fn ok(reply: Reply, status: u16) -> Value {
    reply.expect(status);
    reply.body
}

fn id(body: &Value) -> String {
    body["id"].as_str().unwrap().to_owned()
}

/// Oldest first: the timeline's entry types as the member sees them.
async fn timeline(app: &TestApp, member: &Member, child: &str) -> Vec<String> {
    let body = ok(
        app.get(&format!("/v1/children/{child}/timeline?limit=200"))
            .by(member)
            .send()
            .await,
        200,
    )
    .await;
    let mut types: Vec<String> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["type"].as_str().unwrap().to_owned())
        .collect();
    types.reverse();
    types
}

/// Oldest first: the organisation's access log about a child, as its privacy officer reads it.
async fn access_log(app: &TestApp, officer: &Member, child: &str) -> Vec<String> {
    let body = ok(
        app.get(&format!("/v1/access-log?childId={child}&limit=200"))
            .by(officer)
            .send()
            .await,
        200,
    )
    .await;
    let mut entries: Vec<String> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e["action"].as_str().unwrap(),
                e["resourceType"].as_str().unwrap()
            )
        })
        .collect();
    entries.reverse();
    entries
}

#[tokio::test(flavor = "multi_thread")]
async fn the_story_of_the_seeds() {
    let app = TestApp::new().await;
    let school = app
        .organisation(OrganisationKind::School, "Basisschool De Regenboog")
        .await;
    let vt_org = app
        .organisation(
            OrganisationKind::VeiligThuis,
            "Veilig Thuis Amsterdam-Amstelland",
        )
        .await;
    let ib = app.member_of(school, Role::CareCoordinator).await;
    let teacher = app.member_of(school, Role::Teacher).await;
    let school_privacy = app.member_of(school, Role::PrivacyOfficer).await;
    let vt = app.member_of(vt_org, Role::VtWorker).await;
    let vt_privacy = app.member_of(vt_org, Role::PrivacyOfficer).await;

    // The care coordinator registers a 13-year-old with both parents, who have parental authority.
    let child = ok(
        app.post("/v1/children")
            .by(&ib)
            .json(&json!({
                "externalRef": "LL-20431", "givenName": "Noah", "familyName": "de Boer",
                "dateOfBirth": years_ago(13), "schoolGroup": "groep 8a",
                "guardians": [
                    {"name": "Sarah de Boer", "relationship": "mother", "parentalAuthority": "yes", "authoritySource": "gezagsregister"},
                    {"name": "Mark de Boer", "relationship": "father", "parentalAuthority": "yes", "authoritySource": "gezagsregister"}
                ]
            }))
            .send()
            .await,
        201,
    )
    .await;
    let child_id = id(&child);
    let (mother, father) = (
        child["guardians"][0]["id"].as_str().unwrap().to_owned(),
        child["guardians"][1]["id"].as_str().unwrap().to_owned(),
    );

    // The teacher records what she saw and heard — and what reduces concern too.
    let mut signals = Vec::new();
    for (category, direction, facts) in [
        (
            "statements_by_child",
            "raises_concern",
            "Noah zei in de kring: \"Papa schreeuwt en dan huilt mama.\"",
        ),
        (
            "physical_injury",
            "raises_concern",
            "Blauwe plek op de linker bovenarm, ongeveer 3 cm.",
        ),
        (
            "behaviour_change",
            "reduces_concern",
            "Speelt in de pauze weer vrolijk met vrienden.",
        ),
    ] {
        let signal = ok(
            app.post(&format!("/v1/children/{child_id}/signals"))
                .by(&teacher)
                .json(
                    &json!({"observedAt": "2026-11-16T10:15:00Z", "category": category,
                              "source": "own_observation", "facts": facts, "direction": direction}),
                )
                .send()
                .await,
            201,
        )
        .await;
        signals.push(id(&signal));
    }

    // Before any report, the IB'er wonders whom to ask. The school's CJG coach is on the sociale
    // kaart, first for this school; she brings Noah to the kernteam without his name.
    let cjg = app
        .organisation(OrganisationKind::Wijkteam, "CJG Amsterdam-Noord")
        .await;
    let cjg_admin = app.member_of(cjg, Role::OrgAdmin).await;
    ok(
        app.request(
            poem::http::Method::PUT,
            &format!("/v1/organisations/{cjg}/services"),
        )
        .by(&cjg_admin)
        .json(&json!({"helpQuestions": ["parenting", "home_situation"],
                      "area": {"municipalities": ["Amsterdam"]},
                      "intakeRoute": "Bel de CJG-coach van de school.", "openingHours": "Ma–vr 9–17"}))
        .send()
        .await,
        200,
    )
    .await;
    let proposed = ok(
        app.post(&format!("/v1/organisations/{school}/partner-links"))
            .by(&ib)
            .json(&json!({"partnerOrganisationId": cjg, "role": "cjg_coach",
                          "contact": {"name": "Sanne Jansen", "phone": "+31 20 555 0142"}}))
            .send()
            .await,
        201,
    )
    .await;
    ok(
        app.post(&format!(
            "/v1/organisations/{school}/partner-links/{}/confirmation",
            id(&proposed)
        ))
        .by(&cjg_admin)
        .send()
        .await,
        200,
    )
    .await;
    let found = ok(
        app.get(&format!(
            "/v1/directory?question=home_situation&school={school}"
        ))
        .by(&ib)
        .send()
        .await,
        200,
    )
    .await;
    assert_eq!(
        found["items"][0]["organisation"]["name"],
        "CJG Amsterdam-Noord"
    );
    assert_eq!(
        found["items"][0]["assignedContacts"][0]["name"],
        "Sanne Jansen"
    );
    let coach = app.member_of(cjg, Role::YouthWorker).await;
    let kernteam = ok(
        app.post("/v1/kernteams")
            .by(&ib)
            .json(&json!({"name": "Kernteam De Regenboog"}))
            .send()
            .await,
        201,
    )
    .await;
    let kernteam = id(&kernteam);
    crate::kernteams::seat(&app, &ib, &kernteam, &coach, "cjg_coach")
        .await
        .expect(201);
    let question = "Leerling groep 8 vertelde in de kring over geschreeuw thuis; blauwe plek op \
                    de arm. Hoe gaan we met de ouders in gesprek?";
    let mut item = json!({"ageBand": "12-15", "schoolGroup": "groep 8",
                          "concerns": ["statements_by_child", "physical_injury"],
                          "question": "Het gaat om Noah de Boer uit groep 8a."});
    let meeting = json!({"heldOn": chrono::Utc::now().date_naive().to_string(),
                         "kind": "casuistry", "items": [item.clone()]});
    app.post(&format!("/v1/kernteams/{kernteam}/meetings"))
        .by(&ib)
        .json(&meeting)
        .send()
        .await
        .expect_problem(422, "not-anonymous");
    item["question"] = json!(question);
    let meeting = ok(
        app.post(&format!("/v1/kernteams/{kernteam}/meetings"))
            .by(&ib)
            .json(
                &json!({"heldOn": chrono::Utc::now().date_naive().to_string(),
                          "kind": "casuistry", "items": [item]}),
            )
            .send()
            .await,
        201,
    )
    .await;
    let item = meeting["items"][0]["id"].as_str().unwrap().to_owned();
    ok(
        app.request(
            poem::http::Method::PUT,
            &format!("/v1/kernteams/{kernteam}/items/{item}/perspective"),
        )
        .by(&coach)
        .json(&json!({"notes": "Het CJG kan opvoedondersteuning bieden; eerst een gesprek met de ouders."}))
        .send()
        .await,
        200,
    )
    .await;
    ok(
        app.request(
            poem::http::Method::PUT,
            &format!("/v1/kernteams/{kernteam}/items/{item}/advice"),
        )
        .by(&ib)
        .json(
            &json!({"advice": "Startgesprek met de ouders op school; de CJG-coach sluit aan. \
                                 Intussen de meldcode blijven volgen."}),
        )
        .send()
        .await,
        200,
    )
    .await;
    ok(
        app.post(&format!("/v1/kernteams/{kernteam}/items/{item}/actions"))
            .by(&ib)
            .json(&json!({"ownerOrganisationId": school, "ownerName": "Fatima (IB)",
                          "description": "Startgesprek met de ouders op school plannen, met de CJG-coach.",
                          "dueOn": (chrono::Utc::now().date_naive() + chrono::Duration::days(7)).to_string()}))
            .send()
            .await,
        201,
    )
    .await;
    let open = ok(
        app.get(&format!("/v1/kernteams/{kernteam}/actions?open=true"))
            .by(&coach)
            .send()
            .await,
        200,
    )
    .await;
    assert_eq!(
        open["items"][0]["description"],
        "Startgesprek met de ouders op school plannen, met de CJG-coach."
    );
    // Nothing about Noah crossed to the CJG: no entry about him mentions the kernteam.
    assert!(
        app.access_log(child_id.parse().unwrap())
            .await
            .iter()
            .all(|(_, kind, _, _)| !kind.starts_with("kernteam"))
    );

    // The care coordinator walks the meldcode: the weighing (question 2: yes) requires a report.
    let case = ok(
        app.post(&format!("/v1/children/{child_id}/cases"))
            .by(&ib)
            .json(
                &json!({"lead": {"sub": ib.sub, "name": "Fatima El Amrani"}, "signalIds": signals}),
            )
            .send()
            .await,
        201,
    )
    .await;
    let case_id = id(&case);
    for step in [
        json!({"step": "consultation", "kind": "veilig_thuis_advice", "consultedRole": "adviseur Veilig Thuis",
               "consultedAt": "2026-11-17T09:00:00Z", "advice": "Bespreek de zorgen met de ouders."}),
        json!({"step": "conversation", "participants": {"guardianIds": [mother, father], "child": false},
               "heldAt": "2026-11-18T15:30:00Z", "factsPresented": "Wat Noah zei en de blauwe plek.",
               "reaction": "Moeder bevestigt ruzies; vader ontkent."}),
        json!({"step": "weighing", "answers": {"suspicion": {"answer": "yes"},
               "unsafety": {"answer": "yes", "note": "Structureel geweld tussen de ouders."}}}),
        json!({"step": "decision", "decision": "report", "rationale": "Structurele onveiligheid: melden."}),
    ] {
        ok(
            app.post(&format!("/v1/cases/{case_id}/steps"))
                .by(&ib)
                .json(&step)
                .send()
                .await,
            201,
        )
        .await;
    }

    // The report goes to Veilig Thuis, parents informed, guidance requested.
    let report = ok(
        app.post("/v1/handoffs")
            .by(&ib)
            .json(&json!({"kind": "report", "toOrganisation": vt_org, "childId": child_id, "caseId": case_id,
                          "signalIds": signals, "message": "Melding: zorgen over huiselijk geweld.",
                          "requestsGuidance": true, "parentsInformedAt": "2026-11-19T16:00:00Z"}))
            .send()
            .await,
        201,
    )
    .await;
    let report_id = id(&report);

    // Veilig Thuis acknowledges and takes the child in.
    ok(
        app.post(&format!("/v1/handoffs/{report_id}/acknowledgement"))
            .by(&vt)
            .json(&json!({}))
            .send()
            .await,
        200,
    )
    .await;
    let vt_child = ok(
        app.post(&format!("/v1/handoffs/{report_id}/intake"))
            .by(&vt)
            .json(&json!({"externalRef": "VT-2026-4512"}))
            .send()
            .await,
        201,
    )
    .await;
    let vt_child_id = id(&vt_child);
    let (vt_mother, vt_father) = (
        vt_child["guardians"][0]["id"].as_str().unwrap().to_owned(),
        vt_child["guardians"][1]["id"].as_str().unwrap().to_owned(),
    );

    // Consent from both parents and the child, scoped to guidance for the school.
    let consent = ok(
        app.post("/v1/consents")
            .by(&vt)
            .json(&json!({"childId": vt_child_id, "purpose": "feedback_to_school", "recipientOrganisation": school,
                          "scope": ["guidance_for_school"], "handoffId": report_id}))
            .send()
            .await,
        201,
    )
    .await;
    let consent_id = id(&consent);
    assert_eq!(
        consent["requiredParties"].as_array().unwrap().len(),
        3,
        "both parents and the child"
    );
    let mut status = String::new();
    for party in [vt_mother.as_str(), vt_father.as_str(), "child"] {
        let after = ok(
            app.post(&format!("/v1/consents/{consent_id}/decisions"))
                .by(&vt)
                .json(&json!({"party": party, "decision": "granted", "method": "verbal", "decidedAt": "2026-11-20T11:00:00Z"}))
                .send()
                .await,
            201,
        )
        .await;
        status = after["status"].as_str().unwrap().to_owned();
    }
    assert_eq!(status, "active");

    // Status and guidance feedback to the school.
    for body in [
        json!({"category": "received", "message": "Uw melding is ontvangen."}),
        json!({"category": "safety_assessment_decided", "outcome": "vt_investigates", "message": "Veilig Thuis onderzoekt."}),
        json!({"category": "guidance_for_school", "audience": "school_staff",
               "message": "Geef Noah rust en voorspelbaarheid; vraag niet door over thuis."}),
    ] {
        ok(
            app.post(&format!("/v1/handoffs/{report_id}/feedback"))
                .by(&vt)
                .json(&body)
                .send()
                .await,
            201,
        )
        .await;
    }

    // The care coordinator and the teacher read the guidance.
    for member in [&ib, &teacher] {
        let inbox = ok(
            app.get("/v1/feedback?unread=true").by(member).send().await,
            200,
        )
        .await;
        let guidance = inbox["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["category"] == "guidance_for_school")
            .expect("the guidance is in the inbox")
            .clone();
        ok(
            app.post(&format!("/v1/feedback/{}/read-receipt", id(&guidance)))
                .by(member)
                .send()
                .await,
            200,
        )
        .await;
    }
    let teacher_inbox = ok(app.get("/v1/feedback").by(&teacher).send().await, 200).await;
    assert_eq!(
        teacher_inbox["items"].as_array().unwrap().len(),
        1,
        "the teacher sees the guidance only"
    );

    // One parent withdraws: no more substance, but status still flows.
    ok(
        app.post(&format!("/v1/consents/{consent_id}/withdrawal"))
            .by(&vt)
            .json(&json!({"party": vt_father, "reason": "Vader wil niet dat school meer hoort."}))
            .send()
            .await,
        200,
    )
    .await;
    app.post(&format!("/v1/handoffs/{report_id}/feedback"))
        .by(&vt)
        .json(&json!({"category": "guidance_for_school", "audience": "school_staff", "message": "Nieuw advies."}))
        .send()
        .await
        .expect_problem(422, "consent-required");
    ok(
        app.post(&format!("/v1/handoffs/{report_id}/feedback"))
            .by(&vt)
            .json(&json!({"category": "involvement_ended", "message": "Onze betrokkenheid is beëindigd."}))
            .send()
            .await,
        201,
    )
    .await;
    let guidance_now = ok(app.get("/v1/feedback").by(&teacher).send().await, 200).await;
    assert!(
        guidance_now["items"][0]["consentWithdrawnAt"].is_string(),
        "earlier feedback stays, marked"
    );

    // The school's case shows the report; it may close now.
    let case_now = ok(
        app.get(&format!("/v1/cases/{case_id}"))
            .by(&ib)
            .send()
            .await,
        200,
    )
    .await;
    assert_eq!(case_now["report"]["handoffId"], report_id.as_str());

    // Both timelines tell the story.
    assert_eq!(
        timeline(&app, &ib, &child_id).await,
        [
            "child.created",
            "guardian.added",
            "guardian.added",
            "signal.recorded",
            "signal.recorded",
            "signal.recorded",
            "case.opened",
            "case.step_recorded",
            "case.step_recorded",
            "case.step_recorded",
            "case.step_recorded",
            "case.step_recorded",
            "handoff.sent",
            "handoff.acknowledged",
            "consent.activated",
            "feedback.received",
            "feedback.received",
            "feedback.received",
            "consent.withdrawn",
            "feedback.received",
        ]
    );
    assert_eq!(
        timeline(&app, &vt, &vt_child_id).await,
        [
            "child.created",
            "consent.created",
            "consent.decision_recorded",
            "consent.decision_recorded",
            "consent.decision_recorded",
            "consent.activated",
            "feedback.sent",
            "feedback.sent",
            "feedback.sent",
            "consent.withdrawn",
            "feedback.sent",
        ]
    );

    // And both access logs.
    let mut school_expected = vec!["create child", "create guardian", "create guardian"];
    school_expected.extend(["create signal"; 3]);
    school_expected.push("create case");
    school_expected.extend(["create case_step"; 5]);
    school_expected.push("disclose handoff");
    // The coordinator's inbox (3) and receipt (1); the teacher's inbox, receipt, inbox and list.
    school_expected.extend(["read feedback"; 8]);
    school_expected.extend(["read case", "read timeline"]);
    assert_eq!(
        access_log(&app, &school_privacy, &child_id).await,
        school_expected
    );
    let mut vt_expected = vec![
        "create child",
        "create guardian",
        "create guardian",
        "create consent",
    ];
    vt_expected.extend(["update consent"; 3]);
    vt_expected.extend(["disclose feedback"; 3]);
    vt_expected.extend(["update consent", "disclose feedback", "read timeline"]);
    assert_eq!(
        access_log(&app, &vt_privacy, &vt_child_id).await,
        vt_expected
    );
    // Reading the log is logged.
    let again = access_log(&app, &school_privacy, &child_id).await;
    assert_eq!(again.last().map(String::as_str), Some("read access_log"));

    // Mid-case, Noah moves to another school. The new school enrols him and asks the old one
    // what it needs to know to keep him safe.
    let new_school = app
        .organisation(OrganisationKind::School, "Montessorischool De Vlinder")
        .await;
    let new_ib = app.member_of(new_school, Role::CareCoordinator).await;
    let new_privacy = app.member_of(new_school, Role::PrivacyOfficer).await;
    let enrolled = ok(
        app.post("/v1/children")
            .by(&new_ib)
            .json(&json!({
                "externalRef": "VL-2027-031", "givenName": "Noah", "familyName": "de Boer",
                "dateOfBirth": years_ago(13), "schoolGroup": "groep 8",
                "guardians": [{"name": "Sarah de Boer", "relationship": "mother",
                               "parentalAuthority": "yes", "authoritySource": "gezagsregister"}]
            }))
            .send()
            .await,
        201,
    )
    .await;
    let enrolled_id = id(&enrolled);
    let request = ok(
        app.post("/v1/handoffs")
            .by(&new_ib)
            .json(
                &json!({"kind": "transfer_request", "toOrganisation": school,
                          "childId": enrolled_id, "pupilNumber": "LL-20431",
                          "message": "Noah is bij ons ingeschreven. Wat moeten wij weten?"}),
            )
            .send()
            .await,
        201,
    )
    .await;
    // De Regenboog finds it among its incoming handoffs, matched to its pupil, and answers with
    // what it selects: the injury, a case summary, the case still open under Fatima.
    let incoming = ok(
        app.get("/v1/handoffs?direction=incoming")
            .by(&ib)
            .send()
            .await,
        200,
    )
    .await;
    let asked = incoming["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["id"] == request["id"])
        .unwrap();
    assert_eq!(asked["matchedChildId"], child_id.as_str());
    let transfer = ok(
        app.post("/v1/handoffs")
            .by(&ib)
            .json(&json!({"kind": "school_transfer", "toOrganisation": new_school,
                          "inResponseTo": request["id"], "childId": child_id, "caseId": case_id,
                          "signalIds": [signals[1]],
                          "caseSummary": "Zorgen over de thuissituatie; gemeld bij Veilig Thuis, dat onderzoekt.",
                          "parentsInformedAt": "2026-11-30T15:00:00Z",
                          "message": "Bel gerust voor een warme overdracht."}))
            .send()
            .await,
        201,
    )
    .await;
    let transfer_id = id(&transfer);
    // The new school receives exactly that, and links it to its own pupil.
    ok(
        app.post(&format!("/v1/handoffs/{transfer_id}/acknowledgement"))
            .by(&new_ib)
            .json(&json!({}))
            .send()
            .await,
        200,
    )
    .await;
    let linked = ok(
        app.post(&format!("/v1/handoffs/{transfer_id}/intake"))
            .by(&new_ib)
            .json(&json!({}))
            .send()
            .await,
        200,
    )
    .await;
    assert_eq!(linked["id"], enrolled_id.as_str());
    let received = ok(
        app.get(&format!("/v1/handoffs/{transfer_id}"))
            .by(&new_ib)
            .send()
            .await,
        200,
    )
    .await;
    assert_eq!(received["legalBasis"], "statutory");
    assert_eq!(received["case"]["open"], true);
    assert_eq!(received["case"]["leadName"], "Fatima El Amrani");
    let facts: Vec<&str> = received["signals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["facts"].as_str().unwrap())
        .collect();
    assert_eq!(facts, ["Blauwe plek op de linker bovenarm, ongeveer 3 cm."]);
    assert_eq!(
        timeline(&app, &new_ib, &enrolled_id).await,
        [
            "child.created",
            "guardian.added",
            "handoff.sent",
            "handoff.linked",
        ]
    );
    assert_eq!(
        access_log(&app, &new_privacy, &enrolled_id).await,
        [
            "create child",
            "create guardian",
            // The request it sent; the transfer linked, then read.
            "disclose handoff",
            "update handoff",
            "read handoff",
            "read timeline",
        ]
    );
}
