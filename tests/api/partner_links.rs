//! Fixed faces per school: the school proposes a partner's contact, the partner confirms or names
//! someone else, either side ends it; one schakelfunctionaris at a time; the directory puts a
//! school's assigned contacts first.

use schakel::domain::organisation::{OrganisationKind, Role};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{Member, Reply, TestApp};

fn proposal(partner: Uuid, role: &str, name: &str) -> Value {
    json!({"partnerOrganisationId": partner, "role": role,
           "contact": {"name": name, "phone": "+31 20 555 0142", "email": "coach@cjg.example"}})
}

async fn propose(app: &TestApp, by: &Member, school: Uuid, body: &Value) -> Reply {
    app.post(&format!("/v1/organisations/{school}/partner-links"))
        .by(by)
        .json(body)
        .send()
        .await
}

async fn step(app: &TestApp, by: &Member, school: Uuid, link: &str, act: &str) -> Reply {
    app.post(&format!(
        "/v1/organisations/{school}/partner-links/{link}/{act}"
    ))
    .by(by)
    .send()
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn school_and_partner_agree_on_a_contact_and_either_ends_it() {
    let app = TestApp::new().await;
    let school = app
        .organisation(OrganisationKind::School, "De Regenboog")
        .await;
    let cjg = app
        .organisation(OrganisationKind::Wijkteam, "CJG Noord")
        .await;
    let coordinator = app.member_of(school, Role::CareCoordinator).await;
    let teacher = app.member_of(school, Role::Teacher).await;
    let cjg_admin = app.member_of(cjg, Role::OrgAdmin).await;
    let cjg_worker = app.member_of(cjg, Role::YouthWorker).await;
    let stranger = app.member(OrganisationKind::School, Role::OrgAdmin).await;
    let page = format!("/v1/organisations/{school}/partner-links");

    // Only the school itself proposes, and only its administrator or care coordinator.
    for member in [&teacher, &cjg_admin, &stranger] {
        propose(&app, member, school, &proposal(cjg, "cjg_coach", "Sanne"))
            .await
            .expect_problem(403, "forbidden");
    }
    let proposed = propose(
        &app,
        &coordinator,
        school,
        &proposal(cjg, "cjg_coach", "Sanne Jansen"),
    )
    .await;
    proposed.expect(201);
    assert_eq!(proposed.body["status"], "proposed");
    assert_eq!(proposed.body["partner"]["name"], "CJG Noord");
    let link = proposed.body["id"].as_str().unwrap().to_owned();
    let path = format!("{page}/{link}");
    assert_eq!(proposed.header("location"), Some(path.as_str()));

    // A proposal is for the two sides only: a third organisation sees nothing of it.
    app.get(&path)
        .by(&stranger)
        .send()
        .await
        .expect_problem(404, "not-found");
    let listed = app.get(&page).by(&stranger).send().await;
    listed.expect(200);
    assert_eq!(listed.body["items"], json!([]));
    let listed = app.get(&page).by(&cjg_worker).send().await;
    assert_eq!(listed.body["items"][0]["id"], link.as_str());

    // The partner's administrator confirms — and names someone else.
    for member in [&coordinator, &cjg_worker] {
        step(&app, member, school, &link, "confirmation")
            .await
            .expect_problem(403, "forbidden");
    }
    let confirmed = app
        .post(&format!("{path}/confirmation"))
        .by(&cjg_admin)
        .json(&json!({"contact": {"name": "Mo Bakker", "phone": "+31 20 555 0199"}}))
        .send()
        .await;
    confirmed.expect(200);
    assert_eq!(confirmed.body["status"], "confirmed");
    assert_eq!(
        confirmed.body["contact"],
        json!({"name": "Mo Bakker", "phone": "+31 20 555 0199"})
    );
    step(&app, &cjg_admin, school, &link, "confirmation")
        .await
        .expect_problem(409, "invalid-transition");

    // Confirmed, it is the school's public page of partners: a teacher, and anyone, sees it.
    let seen = app.get(&page).by(&teacher).send().await;
    assert_eq!(seen.body["items"][0]["contact"]["name"], "Mo Bakker");
    let read = app.get(&path).by(&stranger).send().await;
    read.expect(200);
    let etag = read.header("etag").unwrap().to_owned();

    // The coach changes jobs: the partner names someone else (If-Match guards it).
    let replaced = app
        .post(&format!("{path}/replacement"))
        .by(&cjg_admin)
        .header("if-match", &etag)
        .json(&json!({"contact": {"name": "Fleur de Wit"}}))
        .send()
        .await;
    replaced.expect(200);
    assert_eq!(replaced.body["contact"], json!({"name": "Fleur de Wit"}));
    app.post(&format!("{path}/replacement"))
        .by(&cjg_admin)
        .header("if-match", &etag)
        .json(&json!({"contact": {"name": "Iemand"}}))
        .send()
        .await
        .expect_problem(412, "precondition-failed");
    step(&app, &stranger, school, &link, "ending")
        .await
        .expect_problem(403, "forbidden");

    // Either side ends it; an ended link leaves the public page.
    let ended = step(&app, &cjg_admin, school, &link, "ending").await;
    ended.expect(200);
    assert_eq!(ended.body["status"], "ended");
    assert_eq!(ended.body["endedByOrganisationId"], cjg.to_string());
    step(&app, &coordinator, school, &link, "ending")
        .await
        .expect_problem(409, "invalid-transition");
    app.get(&path)
        .by(&stranger)
        .send()
        .await
        .expect_problem(404, "not-found");
    let own = app.get(&page).by(&coordinator).send().await;
    assert_eq!(own.body["items"][0]["status"], "ended");

    // The school ends a proposal too; both sides' feeds hear of every step.
    let again = propose(
        &app,
        &coordinator,
        school,
        &proposal(cjg, "cjg_coach", "Sanne"),
    )
    .await;
    let again = again.body["id"].as_str().unwrap().to_owned();
    step(&app, &coordinator, school, &again, "ending")
        .await
        .expect(200);
    app.settle_events().await;
    let feed = app.get("/v1/events?limit=200").by(&cjg_admin).send().await;
    let types: Vec<&str> = feed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["resource"]["type"] == "partner_link")
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "partner_link.proposed",
            "partner_link.confirmed",
            "partner_link.confirmed",
            "partner_link.ended",
            "partner_link.proposed",
            "partner_link.ended"
        ]
    );
    app.assert_log_intact().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn roles_fit_partners_and_a_school_has_one_schakelfunctionaris() {
    let app = TestApp::new().await;
    let school = app
        .organisation(OrganisationKind::School, "De Regenboog")
        .await;
    let admin = app.member_of(school, Role::OrgAdmin).await;
    let cjg = app
        .organisation(OrganisationKind::Wijkteam, "CJG Noord")
        .await;
    let ggd = app.organisation(OrganisationKind::Ggd, "GGD").await;
    let vt = app
        .organisation(OrganisationKind::VeiligThuis, "Veilig Thuis")
        .await;

    propose(&app, &admin, school, &proposal(vt, "cjg_coach", "X"))
        .await
        .expect_problem(422, "partner-role-mismatch");
    propose(&app, &admin, school, &proposal(cjg, "school_doctor", "X"))
        .await
        .expect_problem(422, "partner-role-mismatch");
    propose(
        &app,
        &admin,
        school,
        &proposal(Uuid::new_v4(), "cjg_coach", "X"),
    )
    .await
    .expect_problem(422, "unknown-recipient");
    propose(&app, &admin, school, &proposal(school, "cjg_coach", "X"))
        .await
        .expect_problem(422, "unknown-recipient");
    let not_a_school = app.member_of(cjg, Role::OrgAdmin).await;
    propose(&app, &not_a_school, cjg, &proposal(ggd, "ggd_nurse", "X"))
        .await
        .expect_problem(422, "not-a-school");
    let blank = propose(&app, &admin, school, &proposal(ggd, "ggd_nurse", " ")).await;
    blank.expect_problem(400, "invalid-input");

    let first = propose(
        &app,
        &admin,
        school,
        &proposal(cjg, "schakelfunctionaris", "Sanne"),
    )
    .await;
    first.expect(201);
    propose(
        &app,
        &admin,
        school,
        &proposal(ggd, "schakelfunctionaris", "Mo"),
    )
    .await
    .expect_problem(409, "schakelfunctionaris-taken");
    // Other roles are not limited.
    propose(&app, &admin, school, &proposal(ggd, "ggd_nurse", "Mo"))
        .await
        .expect(201);
    propose(&app, &admin, school, &proposal(ggd, "school_doctor", "Ali"))
        .await
        .expect(201);
    // Once ended, another may come.
    let id = first.body["id"].as_str().unwrap();
    step(&app, &admin, school, id, "ending").await.expect(200);
    propose(
        &app,
        &admin,
        school,
        &proposal(ggd, "schakelfunctionaris", "Mo"),
    )
    .await
    .expect(201);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_directory_puts_a_schools_assigned_contacts_first() {
    let app = TestApp::new().await;
    let school = app
        .organisation(OrganisationKind::School, "De Regenboog")
        .await;
    let coordinator = app.member_of(school, Role::CareCoordinator).await;
    let mut admins = Vec::new();
    for (kind, name) in [
        (OrganisationKind::Wijkteam, "Buurtteam Noord"),
        (OrganisationKind::Ggd, "GGD Amsterdam"),
        (OrganisationKind::Wijkteam, "Zorgteam Zuid"),
    ] {
        let org = app.organisation(kind, name).await;
        let admin = app.member_of(org, Role::OrgAdmin).await;
        app.request(
            poem::http::Method::PUT,
            &format!("/v1/organisations/{org}/services"),
        )
        .by(&admin)
        .json(
            &json!({"helpQuestions": ["parenting"], "area": {"municipalities": ["Amsterdam"]},
                      "intakeRoute": "Bel ons.", "openingHours": "Ma–vr"}),
        )
        .send()
        .await
        .expect(200);
        admins.push((org, admin));
    }
    // Zorgteam Zuid is the school's CJG coach; GGD's proposal is not confirmed yet.
    let (zuid, zuid_admin) = &admins[2];
    let link = propose(
        &app,
        &coordinator,
        school,
        &proposal(*zuid, "cjg_coach", "Sanne"),
    )
    .await;
    let link = link.body["id"].as_str().unwrap().to_owned();
    step(&app, zuid_admin, school, &link, "confirmation")
        .await
        .expect(200);
    propose(
        &app,
        &coordinator,
        school,
        &proposal(admins[1].0, "ggd_nurse", "Mo"),
    )
    .await
    .expect(201);

    let teacher = app.member_of(school, Role::Teacher).await;
    let names = |reply: &Reply| -> Vec<String> {
        reply.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["organisation"]["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let plain = app
        .get("/v1/directory?question=parenting")
        .by(&teacher)
        .send()
        .await;
    assert_eq!(
        names(&plain),
        ["Buurtteam Noord", "GGD Amsterdam", "Zorgteam Zuid"]
    );
    assert_eq!(plain.body["items"][2]["assignedContacts"], json!([]));

    let query = format!("/v1/directory?question=parenting&school={school}&limit=2");
    let first = app.get(&query).by(&teacher).send().await;
    first.expect(200);
    assert_eq!(names(&first), ["Zorgteam Zuid", "Buurtteam Noord"]);
    assert_eq!(
        first.body["items"][0]["assignedContacts"],
        json!([{"role": "cjg_coach", "name": "Sanne",
                "phone": "+31 20 555 0142", "email": "coach@cjg.example"}])
    );
    let cursor = first.body["nextCursor"].as_str().unwrap();
    let rest = app
        .get(&format!("{query}&cursor={cursor}"))
        .by(&teacher)
        .send()
        .await;
    assert_eq!(names(&rest), ["GGD Amsterdam"]);
    assert_eq!(rest.body["items"][0]["assignedContacts"], json!([]));
}
