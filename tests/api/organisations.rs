//! The organisation directory: who may manage it, what it validates, how it pages, ETags, and
//! that every change is in the access log and the outbox.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use schakel::{
    db::schema::{access_log, events},
    domain::organisation::{OrganisationKind, Role},
};
use serde_json::{Value, json};

use crate::harness::TestApp;

async fn create(app: &TestApp, token: &str, body: Value) -> crate::harness::Reply {
    app.post("/v1/organisations")
        .token(token)
        .json(&body)
        .send()
        .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_platform_admin_registers_an_organisation() {
    let app = TestApp::new().await;
    let admin = app.platform_admin().await;
    let reply = create(
        &app,
        &admin.token,
        json!({
            "kind": "school",
            "name": "Basisschool De Regenboog",
            "codes": {"brin": "12AB", "branch": "01", "region": "Amsterdam"}
        }),
    )
    .await;
    reply.expect(201);
    let id = reply.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        reply.header("location"),
        Some(format!("/v1/organisations/{id}").as_str())
    );
    assert!(reply.header("etag").is_some());
    insta::assert_json_snapshot!(reply.body, {
        ".id" => "[id]",
        ".createdAt" => "[time]",
        ".updatedAt" => "[time]",
    }, @r#"
    {
      "active": true,
      "codes": {
        "branch": "01",
        "brin": "12AB",
        "region": "Amsterdam"
      },
      "createdAt": "[time]",
      "fourEyes": false,
      "id": "[id]",
      "kind": "school",
      "name": "Basisschool De Regenboog",
      "updatedAt": "[time]"
    }
    "#);

    let fetched = app
        .get(&format!("/v1/organisations/{id}"))
        .by(&admin)
        .send()
        .await;
    fetched.expect(200);
    assert_eq!(fetched.body, reply.body);
    assert_eq!(fetched.header("etag"), reply.header("etag"));
}

#[tokio::test(flavor = "multi_thread")]
async fn only_platform_admins_manage_organisations() {
    let app = TestApp::new().await;
    let target = app
        .organisation(OrganisationKind::Wijkteam, "Buurtteam Oost")
        .await;
    let body = json!({"kind": "wijkteam", "name": "Buurtteam West"});
    for (kind, role) in [
        (OrganisationKind::School, Role::Teacher),
        (OrganisationKind::School, Role::CareCoordinator),
        (OrganisationKind::School, Role::OrgAdmin),
        (OrganisationKind::School, Role::PrivacyOfficer),
        (OrganisationKind::Wijkteam, Role::YouthWorker),
        (OrganisationKind::VeiligThuis, Role::VtWorker),
        (OrganisationKind::Platform, Role::OrgAdmin),
    ] {
        let member = app.member(kind, role).await;
        let reply = create(&app, &member.token, body.clone()).await;
        reply.expect_problem(403, "forbidden");
        assert!(
            reply.body["detail"]
                .as_str()
                .unwrap()
                .contains("platform_admin")
        );
        app.patch(&format!("/v1/organisations/{target}"))
            .by(&member)
            .json(&json!({"name": "Hacked"}))
            .send()
            .await
            .expect_problem(403, "forbidden");
        // Everyone may read the directory.
        app.get(&format!("/v1/organisations/{target}"))
            .by(&member)
            .send()
            .await
            .expect(200);
    }
    app.post("/v1/organisations")
        .json(&body)
        .send()
        .await
        .expect_problem(401, "unauthorized");
}

#[tokio::test(flavor = "multi_thread")]
async fn registration_is_validated() {
    let app = TestApp::new().await;
    let admin = app.platform_admin().await;
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"kind": "wijkteam", "name": "X", "codes": {"brin": "12AB"}}),
            "codes.brin",
        ),
        (
            json!({"kind": "school", "name": "X", "codes": {"brin": "12ab"}}),
            "codes.brin",
        ),
        (
            json!({"kind": "school", "name": "X", "codes": {"branch": "01"}}),
            "codes.branch",
        ),
        (json!({"kind": "school", "name": "   "}), "name"),
        (json!({"kind": "school", "name": " De Regenboog"}), "name"),
        (json!({"kind": "school", "name": "x".repeat(201)}), "name"),
    ];
    for (body, property) in cases {
        let reply = create(&app, &admin.token, body.clone()).await;
        reply.expect_problem(400, "invalid-input");
        assert_eq!(reply.invalid_params(), vec![property.to_string()], "{body}");
    }
    create(
        &app,
        &admin.token,
        json!({"kind": "platform", "name": "Second platform"}),
    )
    .await
    .expect_problem(422, "platform-organisation");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_school_location_is_registered_once() {
    let app = TestApp::new().await;
    let admin = app.platform_admin().await;
    let body = json!({"kind": "school", "name": "OBS Het Anker", "codes": {"brin": "34CD", "branch": "00"}});
    let first = create(&app, &admin.token, body.clone()).await;
    first.expect(201);
    let second = create(&app, &admin.token, body).await;
    second.expect_problem(409, "duplicate-organisation");
    assert_eq!(second.body["existingId"], first.body["id"]);
    // Another branch of the same BRIN is another location.
    create(
        &app,
        &admin.token,
        json!({"kind": "school", "name": "OBS Het Anker (dependance)", "codes": {"brin": "34CD", "branch": "01"}}),
    )
    .await
    .expect(201);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_directory_filters_and_pages_in_name_order() {
    let app = TestApp::new().await;
    let admin = app.platform_admin().await;
    for (kind, name) in [
        ("school", "Basisschool De Regenboog"),
        ("school", "basisschool de Klimop"),
        ("school", "OBS 100%_Samen"),
        ("wijkteam", "Buurtteam Geuzenveld"),
        ("veilig_thuis", "Veilig Thuis Amsterdam-Amstelland"),
        ("veilig_thuis", "Veilig Thuis Utrecht"),
    ] {
        create(&app, &admin.token, json!({"kind": kind, "name": name}))
            .await
            .expect(201);
    }
    let names = |reply: &crate::harness::Reply| -> Vec<String> {
        reply.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let reply = app
        .get("/v1/organisations?kind=school")
        .by(&admin)
        .send()
        .await;
    reply.expect(200);
    assert_eq!(
        names(&reply),
        [
            "basisschool de Klimop",
            "Basisschool De Regenboog",
            "OBS 100%_Samen"
        ]
    );
    assert_eq!(reply.body["nextCursor"], Value::Null);

    let reply = app
        .get("/v1/organisations?name=veilig%20THUIS")
        .by(&admin)
        .send()
        .await;
    assert_eq!(
        names(&reply),
        ["Veilig Thuis Amsterdam-Amstelland", "Veilig Thuis Utrecht"]
    );

    // LIKE wildcards in the filter are literal.
    let reply = app
        .get("/v1/organisations?name=100%25_")
        .by(&admin)
        .send()
        .await;
    assert_eq!(names(&reply), ["OBS 100%_Samen"]);
    let reply = app.get("/v1/organisations?name=_").by(&admin).send().await;
    assert_eq!(names(&reply), ["OBS 100%_Samen"]);

    // Pages of two, following nextCursor, visit every organisation once, in order.
    let mut seen = Vec::new();
    let mut path = "/v1/organisations?limit=2".to_owned();
    loop {
        let reply = app.get(&path).by(&admin).send().await;
        reply.expect(200);
        let page = names(&reply);
        assert!(page.len() <= 2);
        seen.extend(page);
        match reply.body["nextCursor"].as_str() {
            Some(cursor) => path = format!("/v1/organisations?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    let mut sorted = seen.clone();
    sorted.sort_by_key(|n| n.to_lowercase());
    assert_eq!(seen, sorted);
    assert_eq!(seen.len(), 7, "six registered plus the platform: {seen:?}");

    // Filtering on active.
    let utrecht = app
        .get("/v1/organisations?name=Utrecht")
        .by(&admin)
        .send()
        .await
        .body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.patch(&format!("/v1/organisations/{utrecht}"))
        .by(&admin)
        .json(&json!({"active": false}))
        .send()
        .await
        .expect(200);
    let reply = app
        .get("/v1/organisations?kind=veilig_thuis&active=false")
        .by(&admin)
        .send()
        .await;
    assert_eq!(names(&reply), ["Veilig Thuis Utrecht"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn changes_use_etags() {
    let app = TestApp::new().await;
    let admin = app.platform_admin().await;
    let created = create(
        &app,
        &admin.token,
        json!({"kind": "school", "name": "De Klimop", "codes": {"brin": "56EF"}}),
    )
    .await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/organisations/{id}");
    let etag = created.header("etag").unwrap().to_owned();

    let reply = app
        .get(&path)
        .by(&admin)
        .header("if-none-match", &etag)
        .send()
        .await;
    reply.expect(304);
    assert_eq!(reply.header("etag"), Some(etag.as_str()));
    assert!(reply.text.is_empty());

    let renamed = app
        .patch(&path)
        .by(&admin)
        .header("if-match", &etag)
        .json(&json!({"name": "IKC De Klimop"}))
        .send()
        .await;
    renamed.expect(200);
    assert_eq!(renamed.body["name"], "IKC De Klimop");
    assert_eq!(
        renamed.body["codes"]["brin"], "56EF",
        "absent properties stay"
    );
    let new_etag = renamed.header("etag").unwrap().to_owned();
    assert_ne!(new_etag, etag);

    // The old ETag no longer matches: someone changed it meanwhile.
    app.patch(&path)
        .by(&admin)
        .header("if-match", &etag)
        .json(&json!({"name": "Lost update"}))
        .send()
        .await
        .expect_problem(412, "precondition-failed");
    app.get(&path)
        .by(&admin)
        .header("if-none-match", &etag)
        .send()
        .await
        .expect(200);

    // codes: null clears them; a new object replaces them.
    let cleared = app
        .patch(&path)
        .by(&admin)
        .json(&json!({"codes": null}))
        .send()
        .await;
    cleared.expect(200);
    assert_eq!(cleared.body["codes"], json!({}));
    let recoded = app
        .patch(&path)
        .by(&admin)
        .json(&json!({"codes": {"region": "Utrecht"}}))
        .send()
        .await;
    assert_eq!(recoded.body["codes"], json!({"region": "Utrecht"}));
    app.patch(&path)
        .by(&admin)
        .json(&json!({"codes": {"brin": "x"}}))
        .send()
        .await
        .expect_problem(400, "invalid-input");
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_ids_are_404_problems() {
    let app = TestApp::new().await;
    let admin = app.platform_admin().await;
    let path = format!("/v1/organisations/{}", uuid::Uuid::new_v4());
    app.get(&path)
        .by(&admin)
        .send()
        .await
        .expect_problem(404, "not-found");
    app.patch(&path)
        .by(&admin)
        .json(&json!({"name": "X"}))
        .send()
        .await
        .expect_problem(404, "not-found");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_platform_organisation_cannot_be_deactivated() {
    let app = TestApp::new().await;
    let admin = app.platform_admin().await;
    app.patch(&format!("/v1/organisations/{}", admin.organisation))
        .by(&admin)
        .json(&json!({"active": false}))
        .send()
        .await
        .expect_problem(422, "platform-organisation");
}

#[tokio::test(flavor = "multi_thread")]
async fn changes_are_access_logged_and_announced() {
    let app = TestApp::new().await;
    let admin = app.platform_admin().await;
    let created = create(
        &app,
        &admin.token,
        json!({"kind": "ggd", "name": "GGD Amsterdam"}),
    )
    .await;
    let id: uuid::Uuid = created.body["id"].as_str().unwrap().parse().unwrap();
    app.patch(&format!("/v1/organisations/{id}"))
        .by(&admin)
        .header("x-request-id", "req-42")
        .json(&json!({"name": "GGD Amsterdam-Amstelland"}))
        .send()
        .await
        .expect(200);
    // A refused change leaves no trace.
    app.patch(&format!("/v1/organisations/{id}"))
        .by(&admin)
        .json(&json!({"codes": {"brin": "12AB"}}))
        .send()
        .await
        .expect(400);

    let mut conn = app.conn().await;
    let logged: Vec<(String, String, String, Option<uuid::Uuid>, String)> = access_log::table
        .filter(access_log::resource_id.eq(id))
        .order(access_log::id)
        .select((
            access_log::action,
            access_log::actor_sub,
            access_log::resource_type,
            access_log::resource_id,
            access_log::request_id,
        ))
        .load(&mut conn)
        .await
        .unwrap();
    assert_eq!(logged.len(), 2, "{logged:?}");
    assert_eq!(logged[0].0, "create");
    assert_eq!(logged[1].0, "update");
    assert_eq!(logged[1].1, admin.sub);
    assert_eq!(logged[1].2, "organisation");
    assert_eq!(logged[1].4, "req-42");

    let announced: Vec<String> = events::table
        .filter(events::resource_id.eq(id))
        .order(events::id)
        .select(events::event_type)
        .load(&mut conn)
        .await
        .unwrap();
    assert_eq!(announced, ["organisation.created", "organisation.updated"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_administrator_names_the_duty_contact_and_four_eyes() {
    let app = TestApp::new().await;
    let vt = app
        .member(OrganisationKind::VeiligThuis, Role::VtWorker)
        .await;
    let vt_admin = app.member_of(vt.organisation, Role::OrgAdmin).await;
    let school_admin = app.member(OrganisationKind::School, Role::OrgAdmin).await;
    let path = format!("/v1/organisations/{}/settings", vt.organisation);
    let contact = json!({"name": "Piketdienst Veilig Thuis", "phone": "+31 20 123 4567",
                         "hours": "Buiten kantoortijden en in het weekend"});
    let settings = json!({"dutyContact": contact, "fourEyes": false});

    // Only the organisation's own administrator.
    app.request(poem::http::Method::PUT, &path)
        .by(&vt)
        .json(&settings)
        .send()
        .await
        .expect_problem(403, "forbidden");
    app.request(poem::http::Method::PUT, &path)
        .by(&school_admin)
        .json(&settings)
        .send()
        .await
        .expect_problem(403, "forbidden");

    let read = app
        .get(&format!("/v1/organisations/{}", vt.organisation))
        .by(&vt)
        .send()
        .await;
    assert_eq!(read.body.get("dutyContact"), None);
    assert_eq!(read.body["fourEyes"], false);
    let etag = read.header("etag").unwrap().to_owned();
    let changed = app
        .request(poem::http::Method::PUT, &path)
        .by(&vt_admin)
        .header("if-match", &etag)
        .json(&settings)
        .send()
        .await;
    changed.expect(200);
    assert_eq!(changed.body["dutyContact"], contact);
    // The ETag read before the change no longer holds.
    app.request(poem::http::Method::PUT, &path)
        .by(&vt_admin)
        .header("if-match", &etag)
        .json(&settings)
        .send()
        .await
        .expect_problem(412, "precondition-failed");
    // Four eyes concerns the meldcode: schools and wijkteams only.
    let refused = app
        .request(poem::http::Method::PUT, &path)
        .by(&vt_admin)
        .json(&json!({"dutyContact": contact, "fourEyes": true}))
        .send()
        .await;
    refused.expect_problem(400, "invalid-input");
    assert_eq!(refused.invalid_params(), ["fourEyes"]);
    let blank = app
        .request(poem::http::Method::PUT, &path)
        .by(&vt_admin)
        .json(
            &json!({"dutyContact": {"name": " ", "phone": "0201234567", "hours": "24/7"},
                      "fourEyes": false}),
        )
        .send()
        .await;
    blank.expect_problem(400, "invalid-input");
    assert_eq!(blank.invalid_params(), ["dutyContact.name"]);
    let school_path = format!("/v1/organisations/{}/settings", school_admin.organisation);
    let school = app
        .request(poem::http::Method::PUT, &school_path)
        .by(&school_admin)
        .json(&json!({"dutyContact": null, "fourEyes": true}))
        .send()
        .await;
    school.expect(200);
    assert_eq!(school.body["fourEyes"], true);

    // Everyone sees the duty contact in the directory; `null` removes it.
    let seen = app
        .get(&format!("/v1/organisations/{}", vt.organisation))
        .by(&school_admin)
        .send()
        .await;
    assert_eq!(seen.body["dutyContact"]["phone"], "+31 20 123 4567");
    let removed = app
        .request(poem::http::Method::PUT, &path)
        .by(&vt_admin)
        .json(&json!({"dutyContact": null, "fourEyes": false}))
        .send()
        .await;
    removed.expect(200);
    assert_eq!(removed.body.get("dutyContact"), None);
}
