//! Consent: required parties by age and parental authority, decisions, activation, rejection,
//! withdrawal, expiry, and consent-based referrals.

use diesel_async::SimpleAsyncConnection;
use schakel::domain::organisation::{OrganisationKind, Role};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{Member, Reply, TestApp};

struct Vt {
    worker: Member,
    school: Uuid,
    child: Uuid,
    mother: String,
    father: String,
}

/// A Veilig Thuis child of the given birth date with two guardians with parental authority.
async fn vt_child(app: &TestApp, born: &str, father_authority: &str) -> Vt {
    let worker = app
        .member(OrganisationKind::VeiligThuis, Role::VtWorker)
        .await;
    let school = app
        .organisation(OrganisationKind::School, "De Regenboog")
        .await;
    let father_source = if father_authority == "unknown" {
        "unknown"
    } else {
        "gezagsregister"
    };
    let reply = app
        .post("/v1/children")
        .by(&worker)
        .json(&json!({
            "externalRef": "VT-1", "givenName": "Noah", "familyName": "de Boer", "dateOfBirth": born,
            "guardians": [
                {"name": "Sarah de Boer", "relationship": "mother", "parentalAuthority": "yes", "authoritySource": "gezagsregister"},
                {"name": "Mark de Boer", "relationship": "father", "parentalAuthority": father_authority, "authoritySource": father_source}
            ]
        }))
        .send()
        .await;
    reply.expect(201);
    Vt {
        worker,
        school,
        child: reply.body["id"].as_str().unwrap().parse().unwrap(),
        mother: reply.body["guardians"][0]["id"].as_str().unwrap().into(),
        father: reply.body["guardians"][1]["id"].as_str().unwrap().into(),
    }
}

fn years_ago(years: u32, days_later: i64) -> String {
    let today = chrono::Utc::now().date_naive();
    (today - chrono::Months::new(12 * years) + chrono::Duration::days(days_later)).to_string()
}

async fn ask(app: &TestApp, vt: &Vt) -> Reply {
    app.post("/v1/consents")
        .by(&vt.worker)
        .json(&json!({
            "childId": vt.child,
            "purpose": "feedback_to_school",
            "recipientOrganisation": vt.school,
            "scope": ["guidance_for_school"]
        }))
        .send()
        .await
}

async fn decide(app: &TestApp, vt: &Vt, consent: &str, party: &str, decision: &str) -> Reply {
    app.post(&format!("/v1/consents/{consent}/decisions"))
        .by(&vt.worker)
        .json(
            &json!({"party": party, "decision": decision, "method": "verbal",
                      "decidedAt": chrono::Utc::now().to_rfc3339()}),
        )
        .send()
        .await
}

fn parties(reply: &Reply) -> Vec<String> {
    reply.body["requiredParties"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            p["guardianId"]
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| "child".into())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_thirteen_year_old_consents_with_both_parents() {
    let app = TestApp::new().await;
    let vt = vt_child(&app, &years_ago(13, -30), "yes").await;
    let asked = ask(&app, &vt).await;
    asked.expect(201);
    let id = asked.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        asked.header("location"),
        Some(format!("/v1/consents/{id}").as_str())
    );
    assert_eq!(asked.body["status"], "draft");
    assert_eq!(
        parties(&asked),
        [vt.mother.clone(), vt.father.clone(), "child".into()]
    );
    let until: chrono::NaiveDate = asked.body["validUntil"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        until,
        chrono::Utc::now().date_naive() + chrono::Months::new(12)
    );

    decide(&app, &vt, &id, &vt.mother, "granted")
        .await
        .expect(201);
    let after_father = decide(&app, &vt, &id, &vt.father, "granted").await;
    assert_eq!(
        after_father.body["status"], "draft",
        "the child has not decided"
    );
    let active = decide(&app, &vt, &id, "child", "granted").await;
    active.expect(201);
    assert_eq!(active.body["status"], "active");
    assert_eq!(active.body["decisions"].as_array().unwrap().len(), 3);
    assert_eq!(active.body["decisions"][2]["party"]["kind"], "child");
    assert_eq!(
        active.body["decisions"][0]["recordedBy"]["sub"],
        vt.worker.sub
    );

    // Decided is decided; an active consent takes no more decisions.
    decide(&app, &vt, &id, &vt.mother, "refused")
        .await
        .expect_problem(409, "invalid-transition");

    let listed = app
        .get(&format!("/v1/children/{}/consents", vt.child))
        .by(&vt.worker)
        .send()
        .await;
    assert_eq!(listed.body["items"][0]["status"], "active");
}

#[tokio::test(flavor = "multi_thread")]
async fn whose_consent_counts_changes_with_age() {
    let app = TestApp::new().await;
    for (born, expected) in [
        (years_ago(12, 1), vec!["mother", "father"]), // 11, turns 12 tomorrow
        (years_ago(12, 0), vec!["mother", "father", "child"]), // 12 today
        (years_ago(16, 1), vec!["mother", "father", "child"]), // 15, turns 16 tomorrow
        (years_ago(16, 0), vec!["child"]),            // 16 today
    ] {
        let vt = vt_child(&app, &born, "yes").await;
        let asked = ask(&app, &vt).await;
        let named: Vec<String> = parties(&asked)
            .into_iter()
            .map(|p| {
                if p == vt.mother {
                    "mother".into()
                } else if p == vt.father {
                    "father".into()
                } else {
                    p
                }
            })
            .collect();
        assert_eq!(named, expected, "born {born}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_parental_authority_blocks_until_verified() {
    let app = TestApp::new().await;
    let vt = vt_child(&app, &years_ago(10, 0), "unknown").await;
    let asked = ask(&app, &vt).await;
    asked.expect(201);
    assert_eq!(asked.body["requiredParties"], json!([]));
    assert_eq!(asked.body["blockers"][0]["guardianId"], vt.father.as_str());
    let id = asked.body["id"].as_str().unwrap().to_owned();
    let reply = decide(&app, &vt, &id, &vt.mother, "granted").await;
    reply.expect_problem(422, "parental-authority-unknown");
    assert!(
        reply.body["detail"]
            .as_str()
            .unwrap()
            .contains("Mark de Boer")
    );
    assert!(
        reply.body["detail"]
            .as_str()
            .unwrap()
            .contains("gezagsregister")
    );
    assert_eq!(reply.body["guardianIds"], json!([vt.father]));

    // Verified: the father has authority. Now both parents decide.
    app.patch(&format!(
        "/v1/children/{}/guardians/{}",
        vt.child, vt.father
    ))
    .by(&vt.worker)
    .json(&json!({"parentalAuthority": "yes", "authoritySource": "gezagsregister"}))
    .send()
    .await
    .expect(200);
    decide(&app, &vt, &id, &vt.mother, "granted")
        .await
        .expect(201);
    let done = decide(&app, &vt, &id, &vt.father, "granted").await;
    assert_eq!(done.body["status"], "active");
    assert_eq!(done.body["blockers"], json!([]));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refusal_rejects_and_strangers_do_not_decide() {
    let app = TestApp::new().await;
    let vt = vt_child(&app, &years_ago(9, 0), "no").await;
    let asked = ask(&app, &vt).await;
    assert_eq!(
        parties(&asked),
        vec![vt.mother.clone()],
        "a father without authority is no party"
    );
    let id = asked.body["id"].as_str().unwrap().to_owned();
    decide(&app, &vt, &id, &vt.father, "granted")
        .await
        .expect_problem(422, "not-a-required-party");
    decide(&app, &vt, &id, "child", "granted")
        .await
        .expect_problem(422, "not-a-required-party");
    decide(&app, &vt, &id, &Uuid::new_v4().to_string(), "granted")
        .await
        .expect_problem(422, "not-a-required-party");
    let reply = decide(&app, &vt, &id, "someone", "granted").await;
    assert_eq!(reply.invalid_params(), ["party"]);
    let rejected = decide(&app, &vt, &id, &vt.mother, "refused").await;
    assert_eq!(rejected.body["status"], "rejected");
}

#[tokio::test(flavor = "multi_thread")]
async fn consent_requests_are_validated() {
    let app = TestApp::new().await;
    let vt = vt_child(&app, &years_ago(13, 0), "yes").await;
    let body = |changes: Value| {
        let mut body = json!({"childId": vt.child, "purpose": "feedback_to_school",
                              "recipientOrganisation": vt.school, "scope": ["guidance_for_school"]});
        for (key, value) in changes.as_object().unwrap() {
            body[key] = value.clone();
        }
        body
    };
    let in_years = |years: u32, days: i64| {
        (chrono::Utc::now().date_naive()
            + chrono::Months::new(12 * years)
            + chrono::Duration::days(days))
        .to_string()
    };
    for (changes, property) in [
        (json!({"scope": []}), "scope"),
        (json!({"scope": ["received"]}), "scope"),
        (json!({"purpose": "case_conference"}), "scope"),
        (json!({"validUntil": in_years(2, 1)}), "validUntil"),
        (json!({"validUntil": in_years(0, -1)}), "validUntil"),
        (
            json!({"recipientOrganisation": vt.worker.organisation}),
            "recipientOrganisation",
        ),
        (json!({"purpose": "marketing"}), "purpose"),
    ] {
        let reply = app
            .post("/v1/consents")
            .by(&vt.worker)
            .json(&body(changes.clone()))
            .send()
            .await;
        reply.expect_problem(400, "invalid-input");
        assert_eq!(reply.invalid_params(), [property], "{changes}");
    }
    for (changes, kind) in [
        (json!({"childId": Uuid::new_v4()}), "unknown-child"),
        (
            json!({"recipientOrganisation": Uuid::new_v4()}),
            "unknown-recipient",
        ),
        (json!({"handoffId": Uuid::new_v4()}), "unknown-handoff"),
    ] {
        app.post("/v1/consents")
            .by(&vt.worker)
            .json(&body(changes))
            .send()
            .await
            .expect_problem(422, kind);
    }
    let reply = app
        .post("/v1/consents")
        .by(&vt.worker)
        .json(&body(json!({"validUntil": in_years(2, 0)})))
        .send()
        .await;
    reply.expect(201);

    // Another organisation's consent looks like none; a teacher records none.
    let id = reply.body["id"].as_str().unwrap();
    let other_vt = app
        .member(OrganisationKind::VeiligThuis, Role::VtWorker)
        .await;
    let theirs = app
        .get(&format!("/v1/consents/{id}"))
        .by(&other_vt)
        .send()
        .await;
    let missing = app
        .get(&format!("/v1/consents/{}", Uuid::new_v4()))
        .by(&other_vt)
        .send()
        .await;
    theirs.expect_problem(404, "not-found");
    assert_eq!(
        theirs.problem_without_instance(),
        missing.problem_without_instance()
    );
    let teacher = app.member(OrganisationKind::School, Role::Teacher).await;
    app.get(&format!("/v1/consents/{id}"))
        .by(&teacher)
        .send()
        .await
        .expect_problem(403, "forbidden");
}

#[tokio::test(flavor = "multi_thread")]
async fn withdrawal_and_expiry_make_a_consent_inactive() {
    let app = TestApp::new().await;
    let vt = vt_child(&app, &years_ago(17, 0), "yes").await;
    let id = ask(&app, &vt).await.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        decide(&app, &vt, &id, "child", "granted").await.body["status"],
        "active"
    );
    let withdrawn = app
        .post(&format!("/v1/consents/{id}/withdrawal"))
        .by(&vt.worker)
        .json(&json!({"party": "child", "reason": "Wil het toch niet."}))
        .send()
        .await;
    withdrawn.expect(200);
    assert_eq!(withdrawn.body["status"], "inactive");
    assert_eq!(withdrawn.body["withdrawal"]["party"]["kind"], "child");
    assert_eq!(withdrawn.body["withdrawal"]["reason"], "Wil het toch niet.");
    app.post(&format!("/v1/consents/{id}/withdrawal"))
        .by(&vt.worker)
        .json(&json!({"party": "child"}))
        .send()
        .await
        .expect_problem(409, "invalid-transition");

    // Expiry needs no job: the day after validUntil it reads inactive.
    let other = ask(&app, &vt).await.body["id"].as_str().unwrap().to_owned();
    decide(&app, &vt, &other, "child", "granted")
        .await
        .expect(201);
    let mut conn = app.db.connect().await;
    conn.batch_execute(&format!(
        "SET session_replication_role = replica;
         UPDATE consents SET valid_until = current_date - 1 WHERE id = '{other}';
         SET session_replication_role = origin;"
    ))
    .await
    .unwrap();
    let expired = app
        .get(&format!("/v1/consents/{other}"))
        .by(&vt.worker)
        .send()
        .await;
    assert_eq!(expired.body["status"], "inactive");
    let err = conn
        .batch_execute(&format!(
            "UPDATE consents SET valid_until = current_date + 400 WHERE id = '{other}'"
        ))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("append-only"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_referral_rests_on_an_active_consent() {
    let app = TestApp::new().await;
    let coordinator = app
        .member(OrganisationKind::School, Role::CareCoordinator)
        .await;
    let wijkteam = app
        .organisation(OrganisationKind::Wijkteam, "Buurtteam Noord")
        .await;
    let child = app.child(&coordinator, "LL-1").await;
    let consent = app
        .post("/v1/consents")
        .by(&coordinator)
        .json(&json!({"childId": child, "purpose": "information_sharing", "recipientOrganisation": wijkteam}))
        .send()
        .await;
    consent.expect(201);
    let consent_id = consent.body["id"].as_str().unwrap().to_owned();
    let referral = json!({"kind": "referral", "toOrganisation": wijkteam, "childId": child,
                          "consentId": consent_id, "message": "Graag ondersteuning voor het gezin."});
    let refused = app
        .post("/v1/handoffs")
        .by(&coordinator)
        .json(&referral)
        .send()
        .await;
    refused.expect_problem(422, "consent-required");
    assert!(
        refused.body["detail"].as_str().unwrap().contains("draft"),
        "{}",
        refused.text
    );

    // The harness's child was born in 2013: the mother and the child decide.
    let parties: Vec<Value> = consent.body["requiredParties"].as_array().unwrap().clone();
    assert_eq!(parties.len(), 2);
    for party in parties {
        let party = party["guardianId"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| "child".into());
        app.post(&format!("/v1/consents/{consent_id}/decisions"))
            .by(&coordinator)
            .json(&json!({"party": party, "decision": "granted", "method": "written", "decidedAt": "2026-11-20T10:00:00Z"}))
            .send()
            .await
            .expect(201);
    }
    let sent = app
        .post("/v1/handoffs")
        .by(&coordinator)
        .json(&referral)
        .send()
        .await;
    sent.expect(201);
    assert_eq!(sent.body["legalBasis"], "consent");
    assert_eq!(sent.body["consentId"], consent_id.as_str());

    // Another recipient is not covered.
    let other = app.organisation(OrganisationKind::Ggd, "GGD").await;
    let mut elsewhere = referral.clone();
    elsewhere["toOrganisation"] = json!(other);
    app.post("/v1/handoffs")
        .by(&coordinator)
        .json(&elsewhere)
        .send()
        .await
        .expect_problem(422, "consent-required");
}
