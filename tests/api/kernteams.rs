//! The kernteam: members across organisations, guests for one meeting, anonymous items checked
//! for a BSN or a registered child's name, identified items gated by consent per organisation,
//! actions carried over until done; a foreign organisation sees none of it.

use schakel::domain::organisation::{OrganisationKind, Role};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{Member, Reply, TestApp};

/// A confirmed partner link between the school and the partner.
pub async fn link(app: &TestApp, school: Uuid, partner: Uuid, role: &str) {
    let school_admin = app.member_of(school, Role::OrgAdmin).await;
    let proposed = app
        .post(&format!("/v1/organisations/{school}/partner-links"))
        .by(&school_admin)
        .json(&json!({"partnerOrganisationId": partner, "role": role,
                      "contact": {"name": "Contact"}}))
        .send()
        .await;
    proposed.expect(201);
    let id = proposed.body["id"].as_str().unwrap();
    let partner_admin = app.member_of(partner, Role::OrgAdmin).await;
    app.post(&format!(
        "/v1/organisations/{school}/partner-links/{id}/confirmation"
    ))
    .by(&partner_admin)
    .send()
    .await
    .expect(200);
}

pub async fn seat(app: &TestApp, chair: &Member, team: &str, member: &Member, role: &str) -> Reply {
    app.post(&format!("/v1/kernteams/{team}/members"))
        .by(chair)
        .json(
            &json!({"organisationId": member.organisation, "sub": member.sub,
                      "name": "Naam", "teamRole": role}),
        )
        .send()
        .await
}

pub fn anonymous(question: &str) -> Value {
    json!({"ageBand": "4-11", "schoolGroup": "groep 6",
           "concerns": ["behaviour_change", "hygiene_and_care"], "question": question})
}

struct World {
    school: Uuid,
    coordinator: Member,
    coach: Member,
    nurse: Member,
    vt: Member,
    stranger: Member,
    team: String,
}

async fn world(app: &TestApp) -> World {
    let school = app
        .organisation(OrganisationKind::School, "De Regenboog")
        .await;
    let cjg = app
        .organisation(OrganisationKind::Wijkteam, "CJG Noord")
        .await;
    let ggd = app.organisation(OrganisationKind::Ggd, "GGD").await;
    link(app, school, cjg, "cjg_coach").await;
    link(app, school, ggd, "ggd_nurse").await;
    let coordinator = app.member_of(school, Role::CareCoordinator).await;
    let created = app
        .post("/v1/kernteams")
        .by(&coordinator)
        .json(&json!({"name": "Kernteam De Regenboog"}))
        .send()
        .await;
    created.expect(201);
    assert_eq!(created.body["members"][0]["teamRole"], "chair");
    let team = created.body["id"].as_str().unwrap().to_owned();
    let coach = app.member_of(cjg, Role::YouthWorker).await;
    let nurse = app.member_of(ggd, Role::YouthWorker).await;
    seat(app, &coordinator, &team, &coach, "cjg_coach")
        .await
        .expect(201);
    seat(app, &coordinator, &team, &nurse, "ggd_nurse")
        .await
        .expect(201);
    World {
        school,
        coordinator,
        coach,
        nurse,
        vt: app
            .member(OrganisationKind::VeiligThuis, Role::VtWorker)
            .await,
        stranger: app
            .member(OrganisationKind::Wijkteam, Role::YouthWorker)
            .await,
        team,
    }
}

async fn schedule(app: &TestApp, w: &World, held_on: &str, body: Value) -> Reply {
    let mut body = body;
    body["heldOn"] = json!(held_on);
    app.post(&format!("/v1/kernteams/{}/meetings", w.team))
        .by(&w.coordinator)
        .json(&body)
        .send()
        .await
}

fn today_plus(days: i64) -> String {
    (chrono::Utc::now().date_naive() + chrono::Duration::days(days)).to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_kernteam_meets_across_organisations_and_follows_up() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let team = &w.team;
    // Convening is for a school's care coordinator; seats are the chair's to give.
    let teacher = app.member_of(w.school, Role::Teacher).await;
    for member in [&teacher, &w.coach] {
        app.post("/v1/kernteams")
            .by(member)
            .json(&json!({"name": "X"}))
            .send()
            .await
            .expect_problem(403, "forbidden");
    }
    seat(&app, &w.coach, team, &w.stranger, "other")
        .await
        .expect_problem(403, "forbidden");
    seat(&app, &w.coordinator, team, &w.stranger, "other")
        .await
        .expect_problem(422, "not-a-partner");
    seat(&app, &w.coordinator, team, &w.coach, "cjg_coach")
        .await
        .expect_problem(409, "already-a-member");

    // Members act with their own organisation's token; strangers see nothing.
    let read = app
        .get(&format!("/v1/kernteams/{team}"))
        .by(&w.coach)
        .send()
        .await;
    read.expect(200);
    assert_eq!(read.body["members"].as_array().unwrap().len(), 3);
    let mine = app.get("/v1/kernteams").by(&w.nurse).send().await;
    assert_eq!(mine.body["items"][0]["id"], team.as_str());
    for path in [
        format!("/v1/kernteams/{team}"),
        format!("/v1/kernteams/{team}/actions"),
    ] {
        for member in [&w.stranger, &w.vt] {
            app.get(&path)
                .by(member)
                .send()
                .await
                .expect_problem(404, "not-found");
        }
    }
    let others = app.get("/v1/kernteams").by(&w.stranger).send().await;
    assert_eq!(others.body["items"], json!([]));

    // A meeting with Veilig Thuis as a guest and an anonymous pupil.
    let first = schedule(
        &app,
        &w,
        &today_plus(7),
        json!({"kind": "casuistry",
               "guests": [{"organisationId": w.vt.organisation, "sub": w.vt.sub,
                           "name": "Adviseur VT", "teamRole": "veilig_thuis"}],
               "items": [anonymous("Stil sinds de herfstvakantie, komt zonder eten. Hoe nu verder?")]}),
    )
    .await;
    first.expect(201);
    let meeting = first.body["id"].as_str().unwrap().to_owned();
    let item = first.body["items"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(first.body["items"][0]["identified"], false);
    assert_eq!(first.body["guests"][0]["teamRole"], "veilig_thuis");

    // The anonymity net: a BSN passing the 11-proef, or a registered pupil's full name.
    app.child(&w.coordinator, "LL-1").await; // Noah de Boer
    let items = format!("/v1/kernteams/{team}/meetings/{meeting}/items");
    for question in [
        "Zijn BSN is 1234.56.782",
        "Het gaat om noah de boer uit groep 6",
    ] {
        app.post(&items)
            .by(&w.coordinator)
            .json(&anonymous(question))
            .send()
            .await
            .expect_problem(422, "not-anonymous");
    }
    // Each organisation gives its perspective; the team its advice and actions.
    let perspective = app
        .request(
            poem::http::Method::PUT,
            &format!("/v1/kernteams/{team}/items/{item}/perspective"),
        )
        .by(&w.coach)
        .json(&json!({"notes": "Gezin niet bekend bij het CJG."}))
        .send()
        .await;
    perspective.expect(200);
    assert_eq!(
        perspective.body["perspectives"][0]["organisationId"],
        w.coach.organisation.to_string()
    );
    app.request(
        poem::http::Method::PUT,
        &format!("/v1/kernteams/{team}/items/{item}/advice"),
    )
    .by(&w.vt)
    .json(&json!({"advice": "Startgesprek met de ouders op school."}))
    .send()
    .await
    .expect(200);
    let actions = format!("/v1/kernteams/{team}/items/{item}/actions");
    let agree = |owner: Uuid, due: String| {
        app.post(&actions)
            .by(&w.coordinator)
            .json(&json!({"ownerOrganisationId": owner, "ownerName": "Sanne",
                          "description": "Startgesprek plannen met de ouders", "dueOn": due}))
            .send()
    };
    agree(w.stranger.organisation, today_plus(14))
        .await
        .expect_problem(422, "not-a-partner");
    agree(w.coach.organisation, today_plus(1))
        .await
        .expect_problem(400, "invalid-input");
    let action = agree(w.coach.organisation, today_plus(14)).await;
    action.expect(201);
    let action = action.body["id"].as_str().unwrap().to_owned();

    // The next meeting, without the guest: the open action is back on its agenda.
    let second = schedule(&app, &w, &today_plus(35), json!({"kind": "casuistry"})).await;
    second.expect(201);
    let second = second.body["id"].as_str().unwrap().to_owned();
    let next = app
        .get(&format!("/v1/kernteams/{team}/meetings/{second}"))
        .by(&w.nurse)
        .send()
        .await;
    next.expect(200);
    assert_eq!(next.body["carriedOverActions"][0]["id"], action.as_str());
    // The guest came to one meeting only.
    app.get(&format!("/v1/kernteams/{team}/meetings/{second}"))
        .by(&w.vt)
        .send()
        .await
        .expect_problem(404, "not-found");
    let as_guest = app
        .get(&format!("/v1/kernteams/{team}"))
        .by(&w.vt)
        .send()
        .await;
    as_guest.expect(200);
    assert_eq!(as_guest.body["meetings"].as_array().unwrap().len(), 1);
    app.get(&format!("/v1/kernteams/{team}/meetings/{meeting}"))
        .by(&w.vt)
        .send()
        .await
        .expect(200);
    app.get(&format!("/v1/kernteams/{team}/meetings/{meeting}"))
        .by(&w.stranger)
        .send()
        .await
        .expect_problem(404, "not-found");

    // Done: off the agenda and out of the open actions.
    let open = format!("/v1/kernteams/{team}/actions?open=true");
    let listed = app.get(&open).by(&w.coach).send().await;
    assert_eq!(listed.body["items"][0]["id"], action.as_str());
    let completion = format!("/v1/kernteams/{team}/actions/{action}/completion");
    app.post(&completion)
        .by(&w.stranger)
        .send()
        .await
        .expect_problem(404, "not-found");
    let done = app.post(&completion).by(&w.coach).send().await;
    done.expect(200);
    assert_eq!(done.body["done"], true);
    app.post(&completion)
        .by(&w.coach)
        .send()
        .await
        .expect_problem(409, "invalid-transition");
    assert_eq!(
        app.get(&open).by(&w.coach).send().await.body["items"],
        json!([])
    );
    let next = app
        .get(&format!("/v1/kernteams/{team}/meetings/{second}"))
        .by(&w.nurse)
        .send()
        .await;
    assert_eq!(next.body["carriedOverActions"], json!([]));

    // Members' organisations hear of meetings; the owner's of its action.
    app.settle_events().await;
    let feed = app.get("/v1/events?limit=200").by(&w.coach).send().await;
    let types: Vec<&str> = feed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .filter(|t| t.starts_with("kernteam"))
        .collect();
    assert_eq!(
        types,
        [
            "kernteam_meeting.scheduled",
            "kernteam_action.assigned",
            "kernteam_meeting.scheduled"
        ]
    );
    let vt_feed = app.get("/v1/events?limit=200").by(&w.vt).send().await;
    assert_eq!(
        vt_feed.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["type"] == "kernteam_meeting.scheduled")
            .count(),
        1
    );
    app.assert_log_intact().await;
}

/// Consent for a case conference (zorgoverleg) from the child (13) and the parent.
async fn consent(app: &TestApp, by: &Member, child: Uuid, recipient: Uuid) -> String {
    let asked = app
        .post("/v1/consents")
        .by(by)
        .json(&json!({"childId": child, "purpose": "case_conference",
                      "recipientOrganisation": recipient}))
        .send()
        .await;
    asked.expect(201);
    let id = asked.body["id"].as_str().unwrap().to_owned();
    let parties: Vec<String> = asked.body["requiredParties"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["guardianId"].as_str().unwrap_or("child").to_owned())
        .collect();
    for party in parties {
        app.post(&format!("/v1/consents/{id}/decisions"))
            .by(by)
            .json(
                &json!({"party": party, "decision": "granted", "method": "verbal",
                          "decidedAt": chrono::Utc::now().to_rfc3339()}),
            )
            .send()
            .await
            .expect(201);
    }
    id
}

#[tokio::test(flavor = "multi_thread")]
async fn identified_items_need_consent_for_every_organisation_in_the_room() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let team = &w.team;
    let child = app.child(&w.coordinator, "LL-7").await;
    let meeting = schedule(&app, &w, &today_plus(7), json!({"kind": "casuistry"})).await;
    let meeting = meeting.body["id"].as_str().unwrap().to_owned();
    let items = format!("/v1/kernteams/{team}/meetings/{meeting}/items");
    let identified = json!({"childId": child, "concerns": ["statements_by_child"],
                            "question": "Noah vertelde over ruzie thuis; wie pakt wat op?"});
    let present = || app.post(&items).by(&w.coordinator).json(&identified).send();

    let refused = present().await;
    refused.expect_problem(422, "consent-required");
    let mut missing: Vec<String> = refused.body["notCovered"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    missing.sort();
    let mut expected = vec![
        w.coach.organisation.to_string(),
        w.nurse.organisation.to_string(),
    ];
    expected.sort();
    assert_eq!(missing, expected);

    let for_cjg = consent(&app, &w.coordinator, child, w.coach.organisation).await;
    let refused = present().await;
    refused.expect_problem(422, "consent-required");
    assert_eq!(
        refused.body["notCovered"],
        json!([w.nurse.organisation.to_string()])
    );
    consent(&app, &w.coordinator, child, w.nurse.organisation).await;
    let presented = present().await;
    presented.expect(201);
    let item = presented.body["id"].as_str().unwrap().to_owned();
    assert_eq!(presented.body["childId"], child.to_string());
    // The same child may come up twice on one agenda.
    present().await.expect(201);
    // Another organisation's child is not the presenter's to present.
    app.post(&items)
        .by(&w.coach)
        .json(&identified)
        .send()
        .await
        .expect_problem(422, "unknown-child");

    // The covered organisations see the child; the look is logged on the consent.
    let path = format!("/v1/kernteams/{team}/meetings/{meeting}");
    let seen = app.get(&path).by(&w.coach).send().await;
    seen.expect(200);
    let shown = &seen.body["items"][0];
    assert_eq!(shown["contentWithheld"], false);
    assert_eq!(shown["child"]["familyName"], "de Boer");
    assert!(
        shown.get("childId").is_none(),
        "the school's record id stays the school's"
    );
    assert_eq!(seen.body["items"][1]["child"]["familyName"], "de Boer");
    let log = app.access_log(child).await;
    assert!(log.iter().any(|(action, kind, id, actor)| action == "read"
        && kind == "kernteam_item"
        && id.map(|i| i.to_string()) == Some(item.clone())
        && *actor == w.coach.sub));
    assert_eq!(
        log.iter()
            .filter(|(action, kind, _, _)| action == "disclose" && kind == "kernteam_item")
            .count(),
        4,
        "two items, each disclosed to the CJG and the GGD"
    );

    // The child withdraws the consent for the CJG: the item is withheld from it again.
    app.post(&format!("/v1/consents/{for_cjg}/withdrawal"))
        .by(&w.coordinator)
        .json(&json!({"party": "child", "reason": "Wil niet dat het CJG meekijkt."}))
        .send()
        .await
        .expect(200);
    let withheld = app.get(&path).by(&w.coach).send().await;
    let shown = &withheld.body["items"][0];
    assert_eq!(shown["identified"], true);
    assert_eq!(shown["contentWithheld"], true);
    assert!(shown.get("question").is_none() && shown.get("child").is_none());
    app.request(
        poem::http::Method::PUT,
        &format!("/v1/kernteams/{team}/items/{item}/perspective"),
    )
    .by(&w.coach)
    .json(&json!({"notes": "x"}))
    .send()
    .await
    .expect_problem(403, "forbidden");
    // The nurse still sees it and adds the GGD's view, naming the child (consent given).
    app.request(
        poem::http::Method::PUT,
        &format!("/v1/kernteams/{team}/items/{item}/perspective"),
    )
    .by(&w.nurse)
    .json(&json!({"notes": "Noah de Boer is bij de jeugdverpleegkundige bekend."}))
    .send()
    .await
    .expect(200);
    // Agreeing and completing an action on it is logged about the child too.
    let action = app
        .post(&format!("/v1/kernteams/{team}/items/{item}/actions"))
        .by(&w.nurse)
        .json(
            &json!({"ownerOrganisationId": w.nurse.organisation, "ownerName": "Mo",
                      "description": "Huisbezoek", "dueOn": today_plus(14)}),
        )
        .send()
        .await;
    action.expect(201);
    let action = action.body["id"].as_str().unwrap().to_owned();
    app.post(&format!("/v1/kernteams/{team}/actions/{action}/completion"))
        .by(&w.nurse)
        .send()
        .await
        .expect(200);
    let logged: Vec<String> = app
        .access_log(child)
        .await
        .into_iter()
        .filter(|(_, kind, id, actor)| {
            kind == "kernteam_action"
                && id.map(|i| i.to_string()) == Some(action.clone())
                && *actor == w.nurse.sub
        })
        .map(|(what, _, _, _)| what)
        .collect();
    assert_eq!(logged, ["create", "update"]);
    // The school's subject access lists what it presented about the child (the child came up
    // twice), with the GGD's perspective and the action agreed.
    let officer = app
        .member_of(w.coordinator.organisation, Role::PrivacyOfficer)
        .await;
    let export = app
        .get(&format!("/v1/children/{child}/subject-access"))
        .by(&officer)
        .send()
        .await;
    export.expect(200);
    let listed = &export.body["kernteamItems"];
    assert_eq!(listed.as_array().unwrap().len(), 2);
    assert_eq!(listed[0]["id"], item.as_str());
    assert_eq!(
        listed[0]["question"],
        "Noah vertelde over ruzie thuis; wie pakt wat op?"
    );
    assert_eq!(
        listed[0]["perspectives"][0]["notes"],
        "Noah de Boer is bij de jeugdverpleegkundige bekend."
    );
    assert_eq!(listed[0]["actions"][0]["id"], action.as_str());
    app.assert_log_intact().await;
}
