//! The sociale kaart: organisations describe their services; every professional finds who takes
//! which help question where.

use schakel::domain::organisation::{OrganisationKind, Role};
use serde_json::{Value, json};

use crate::harness::{Member, Reply, TestApp};

fn services(questions: &[&str], area: Value) -> Value {
    json!({"helpQuestions": questions, "area": area,
           "intakeRoute": "Bel het team; binnen een week een gesprek.",
           "openingHours": "Ma–vr 9:00–17:00", "phone": "+31 20 555 0100"})
}

async fn describe(app: &TestApp, admin: &Member, body: &Value) -> Reply {
    app.request(
        poem::http::Method::PUT,
        &format!("/v1/organisations/{}/services", admin.organisation),
    )
    .by(admin)
    .json(body)
    .send()
    .await
}

fn names(reply: &Reply) -> Vec<String> {
    reply.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["organisation"]["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn organisations_describe_what_they_take_and_where() {
    let app = TestApp::new().await;
    let wijkteam = app
        .organisation(OrganisationKind::Wijkteam, "Buurtteam Noord")
        .await;
    let admin = app.member_of(wijkteam, Role::OrgAdmin).await;
    let worker = app.member_of(wijkteam, Role::YouthWorker).await;
    let other_admin = app.member(OrganisationKind::Ggd, Role::OrgAdmin).await;
    let body = services(
        &["parenting", "home_situation"],
        json!({"municipalities": ["Amsterdam"], "neighbourhoods": ["Noord"],
               "pc4Ranges": [{"from": 1020, "to": 1039}]}),
    );
    let path = format!("/v1/organisations/{wijkteam}/services");
    app.get(&path)
        .by(&worker)
        .send()
        .await
        .expect_problem(404, "not-found");

    // Only the organisation's own administrator describes it.
    for member in [&worker, &other_admin] {
        app.request(poem::http::Method::PUT, &path)
            .by(member)
            .json(&body)
            .send()
            .await
            .expect_problem(403, "forbidden");
    }
    let described = describe(&app, &admin, &body).await;
    described.expect(200);
    assert_eq!(
        described.body["helpQuestions"],
        json!(["parenting", "home_situation"])
    );
    assert_eq!(
        described.body["area"]["pc4Ranges"],
        json!([{"from": 1020, "to": 1039}])
    );
    let read = app.get(&path).by(&other_admin).send().await;
    read.expect(200);
    assert_eq!(read.body, described.body);
    let etag = read.header("etag").unwrap().to_owned();
    app.get(&path)
        .by(&worker)
        .header("if-none-match", &etag)
        .send()
        .await
        .expect(304);

    // Rules of the description; a stale ETag is refused.
    for (wrong, field) in [
        (
            services(
                &["parenting"],
                json!({"pc4Ranges": [{"from": 1039, "to": 1020}]}),
            ),
            "area.pc4Ranges",
        ),
        (
            services(
                &["parenting", "parenting"],
                json!({"municipalities": ["Amsterdam"]}),
            ),
            "helpQuestions",
        ),
        (services(&["parenting"], json!({})), "area"),
        (
            services(&["parenting"], json!({"municipalities": [" "]})),
            "area.municipalities",
        ),
    ] {
        let refused = describe(&app, &admin, &wrong).await;
        refused.expect_problem(400, "invalid-input");
        assert_eq!(refused.invalid_params(), [field]);
    }
    describe(
        &app,
        &admin,
        &services(&["behaviour"], json!({"municipalities": ["Amsterdam"]})),
    )
    .await
    .expect(200);
    app.request(poem::http::Method::PUT, &path)
        .by(&admin)
        .header("if-match", &etag)
        .json(&body)
        .send()
        .await
        .expect_problem(412, "precondition-failed");
}

#[tokio::test(flavor = "multi_thread")]
async fn professionals_find_who_takes_a_question_where() {
    let app = TestApp::new().await;
    let noord = app
        .organisation(OrganisationKind::Wijkteam, "Buurtteam Noord")
        .await;
    let zuid = app
        .organisation(OrganisationKind::Wijkteam, "Buurtteam Zuid")
        .await;
    let ggd = app
        .organisation(OrganisationKind::Ggd, "GGD Amsterdam")
        .await;
    let leerplicht = app
        .organisation(OrganisationKind::Leerplicht, "Leerplicht Amsterdam")
        .await;
    for (org, questions, area) in [
        (
            noord,
            &["parenting", "home_situation"][..],
            json!({"pc4Ranges": [{"from": 1020, "to": 1039}]}),
        ),
        (
            zuid,
            &["parenting", "home_situation"][..],
            json!({"pc4Ranges": [{"from": 1070, "to": 1083}]}),
        ),
        (
            ggd,
            &["growth_and_development", "health", "parenting"][..],
            json!({"municipalities": ["Amsterdam"]}),
        ),
        (
            leerplicht,
            &["absenteeism"][..],
            json!({"municipalities": ["Amsterdam"]}),
        ),
    ] {
        let admin = app.member_of(org, Role::OrgAdmin).await;
        describe(&app, &admin, &services(questions, area))
            .await
            .expect(200);
    }
    let teacher = app.member(OrganisationKind::School, Role::Teacher).await;
    let search = |query: &str| {
        app.get(&format!("/v1/directory{query}"))
            .by(&teacher)
            .send()
    };

    let home = search("?question=home_situation&postcode=1021%20AB").await;
    home.expect(200);
    assert_eq!(names(&home), ["Buurtteam Noord"]);
    assert_eq!(home.body["items"][0]["phone"], "+31 20 555 0100");
    assert_eq!(
        names(&search("?question=parenting&postcode=1075").await),
        ["Buurtteam Zuid", "GGD Amsterdam"],
        "a municipality-only organisation serves every postcode"
    );
    assert_eq!(
        names(&search("?question=absenteeism").await),
        ["Leerplicht Amsterdam"]
    );
    assert_eq!(
        names(&search("?question=money_and_housing").await),
        Vec::<String>::new()
    );
    search("?postcode=12AB")
        .await
        .expect_problem(400, "invalid-input");

    // Pages by name.
    let first = search("?limit=3").await;
    assert_eq!(
        names(&first),
        ["Buurtteam Noord", "Buurtteam Zuid", "GGD Amsterdam"]
    );
    let cursor = first.body["nextCursor"].as_str().unwrap().to_owned();
    let rest = search(&format!("?limit=3&cursor={cursor}")).await;
    assert_eq!(names(&rest), ["Leerplicht Amsterdam"]);
    assert_eq!(rest.body["nextCursor"], Value::Null);

    // A deactivated organisation leaves the kaart.
    let platform = app.platform_admin().await;
    app.patch(&format!("/v1/organisations/{zuid}"))
        .by(&platform)
        .json(&json!({"active": false}))
        .send()
        .await
        .expect(200);
    assert_eq!(
        names(&search("?question=parenting&postcode=1075").await),
        ["GGD Amsterdam"]
    );
    // Without a token, nothing.
    app.get("/v1/directory")
        .send()
        .await
        .expect_problem(401, "unauthorized");
}
