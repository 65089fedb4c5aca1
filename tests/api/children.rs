//! Children and guardians: registration, validation, lookup by externalRef, corrections with
//! ETags, who may do what, and that another organisation's child looks like no child at all.

use schakel::domain::organisation::{OrganisationKind, Role};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{Member, TestApp};

fn noah() -> Value {
    json!({
        "externalRef": "LL-20431",
        "givenName": "Noah",
        "familyName": "de Boer",
        "dateOfBirth": "2013-04-02",
        "bsn": "111222333",
        "schoolGroup": "groep 8a",
        "guardians": [
            {"name": "Sarah de Boer", "relationship": "mother", "parentalAuthority": "yes",
             "authoritySource": "gezagsregister", "contact": {"phone": "+31 6 1234 5678"}},
            {"name": "Mark de Boer", "relationship": "father", "parentalAuthority": "unknown",
             "authoritySource": "unknown"}
        ]
    })
}

async fn school(app: &TestApp) -> (Member, Member) {
    let coordinator = app
        .member(OrganisationKind::School, Role::CareCoordinator)
        .await;
    let teacher = app.member_of(coordinator.organisation, Role::Teacher).await;
    (coordinator, teacher)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_child_is_registered_with_guardians() {
    let app = TestApp::new().await;
    let (coordinator, _) = school(&app).await;
    let reply = app
        .post("/v1/children")
        .by(&coordinator)
        .json(&noah())
        .send()
        .await;
    reply.expect(201);
    let id = reply.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        reply.header("location"),
        Some(format!("/v1/children/{id}").as_str())
    );
    insta::assert_json_snapshot!(reply.body, {
        ".id" => "[id]",
        ".guardians[].id" => "[id]",
        ".**.createdAt" => "[time]",
        ".**.updatedAt" => "[time]",
    }, @r#"
    {
      "bsn": "111222333",
      "createdAt": "[time]",
      "dateOfBirth": "2013-04-02",
      "externalRef": "LL-20431",
      "familyName": "de Boer",
      "givenName": "Noah",
      "guardians": [
        {
          "authoritySource": "gezagsregister",
          "contact": {
            "phone": "+31 6 1234 5678"
          },
          "createdAt": "[time]",
          "id": "[id]",
          "name": "Sarah de Boer",
          "parentalAuthority": "yes",
          "relationship": "mother",
          "updatedAt": "[time]"
        },
        {
          "authoritySource": "unknown",
          "contact": {},
          "createdAt": "[time]",
          "id": "[id]",
          "name": "Mark de Boer",
          "parentalAuthority": "unknown",
          "relationship": "father",
          "updatedAt": "[time]"
        }
      ],
      "id": "[id]",
      "lifecycle": {
        "destructionRequested": false,
        "legalHold": false
      },
      "schoolGroup": "groep 8a",
      "updatedAt": "[time]"
    }
    "#);

    let fetched = app
        .get(&format!("/v1/children/{id}"))
        .by(&coordinator)
        .send()
        .await;
    fetched.expect(200);
    assert_eq!(fetched.body, reply.body);
    assert_eq!(fetched.header("etag"), reply.header("etag"));
    let etag = fetched.header("etag").unwrap();
    app.get(&format!("/v1/children/{id}"))
        .by(&coordinator)
        .header("if-none-match", etag)
        .send()
        .await
        .expect(304);

    let child: Uuid = id.parse().unwrap();
    let log = app.access_log(child).await;
    let actions: Vec<(&str, &str)> = log
        .iter()
        .map(|(a, r, _, _)| (a.as_str(), r.as_str()))
        .collect();
    assert_eq!(
        actions,
        [
            ("create", "child"),
            ("create", "guardian"),
            ("create", "guardian"),
            ("read", "child"),
            ("read", "child"),
        ]
    );
    assert!(log.iter().all(|(_, _, _, actor)| actor == &coordinator.sub));
}

#[tokio::test(flavor = "multi_thread")]
async fn registration_refuses_invalid_input_naming_the_property() {
    let app = TestApp::new().await;
    let (coordinator, _) = school(&app).await;
    let with = |key: &str, value: Value| {
        let mut body = noah();
        body[key] = value;
        body
    };
    let without = |key: &str| {
        let mut body = noah();
        body.as_object_mut().unwrap().remove(key);
        body
    };
    let tomorrow = (chrono::Utc::now().date_naive() + chrono::Days::new(1)).to_string();
    let too_old = (chrono::Utc::now().date_naive() - chrono::Months::new(12 * 23 + 1)).to_string();
    let mut bad_guardian = noah();
    bad_guardian["guardians"][0]["authoritySource"] = json!("unknown");
    let mut bad_email = noah();
    bad_email["guardians"][0]["contact"] = json!({"email": "sarah"});
    let cases: Vec<(Value, &str)> = vec![
        (with("givenName", json!(42)), "givenName"),
        (with("externalRef", json!(20431)), "externalRef"),
        (with("bsn", json!(111222333)), "bsn"),
        (with("dateOfBirth", json!("02-04-2013")), "dateOfBirth"),
        (without("familyName"), "familyName"),
        (without("dateOfBirth"), "dateOfBirth"),
        (with("nickname", json!("No")), "nickname"),
        (with("dateOfBirth", json!(tomorrow)), "dateOfBirth"),
        (with("dateOfBirth", json!(too_old)), "dateOfBirth"),
        (with("bsn", json!("111222334")), "bsn"),
        (with("bsn", json!("11122233")), "bsn"),
        (with("givenName", json!("  ")), "givenName"),
        (with("givenName", json!("x".repeat(101))), "givenName"),
        (bad_guardian, "guardians.authoritySource"),
        (bad_email, "guardians.contact.email"),
        (
            with("guardians", json!([{"name": "X"}])),
            "guardians[0].relationship",
        ),
    ];
    for (body, property) in cases {
        let reply = app
            .post("/v1/children")
            .by(&coordinator)
            .json(&body)
            .send()
            .await;
        reply.expect_problem(400, "invalid-input");
        assert_eq!(reply.invalid_params(), vec![property.to_string()], "{body}");
    }
    // Nothing was registered by the refused requests.
    let list = app.get("/v1/children").by(&coordinator).send().await;
    assert_eq!(list.body["items"], json!([]));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_external_ref_is_registered_once_per_organisation() {
    let app = TestApp::new().await;
    let (coordinator, _) = school(&app).await;
    let first = app
        .post("/v1/children")
        .by(&coordinator)
        .json(&noah())
        .send()
        .await;
    first.expect(201);
    let second = app
        .post("/v1/children")
        .by(&coordinator)
        .json(&noah())
        .send()
        .await;
    second.expect_problem(409, "duplicate-external-ref");
    assert_eq!(second.body["existingId"], first.body["id"]);

    // Another school has its own pupil numbers.
    let other = app
        .member(OrganisationKind::School, Role::CareCoordinator)
        .await;
    app.post("/v1/children")
        .by(&other)
        .json(&noah())
        .send()
        .await
        .expect(201);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_school_system_finds_its_pupil_by_external_ref() {
    let app = TestApp::new().await;
    let (coordinator, teacher) = school(&app).await;
    let id = app.child(&coordinator, "LL-1").await;
    app.child(&coordinator, "LL-2").await;
    let reply = app
        .get("/v1/children?externalRef=LL-1")
        .by(&teacher)
        .send()
        .await;
    reply.expect(200);
    assert_eq!(reply.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(reply.body["items"][0]["id"], id.to_string());
    assert_eq!(reply.body["nextCursor"], Value::Null);
    let none = app
        .get("/v1/children?externalRef=LL-404")
        .by(&teacher)
        .send()
        .await;
    assert_eq!(none.body["items"], json!([]));
    // Another school's pupil number finds nothing.
    let other = app
        .member(OrganisationKind::School, Role::CareCoordinator)
        .await;
    let reply = app
        .get("/v1/children?externalRef=LL-1")
        .by(&other)
        .send()
        .await;
    assert_eq!(reply.body["items"], json!([]));
}

#[tokio::test(flavor = "multi_thread")]
async fn children_page_in_registration_order_and_every_read_is_logged() {
    let app = TestApp::new().await;
    let (coordinator, _) = school(&app).await;
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(app.child(&coordinator, &format!("LL-{n}")).await);
    }
    let mut seen = Vec::new();
    let mut path = "/v1/children?limit=2".to_owned();
    loop {
        let reply = app.get(&path).by(&coordinator).send().await;
        reply.expect(200);
        for item in reply.body["items"].as_array().unwrap() {
            seen.push(item["id"].as_str().unwrap().parse::<Uuid>().unwrap());
            assert_eq!(item["guardians"].as_array().unwrap().len(), 1);
        }
        match reply.body["nextCursor"].as_str() {
            Some(cursor) => path = format!("/v1/children?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, ids);
    for id in ids {
        let reads = app
            .access_log(id)
            .await
            .into_iter()
            .filter(|(action, resource, _, _)| action == "read" && resource == "child")
            .count();
        assert_eq!(reads, 1, "one read entry per child listed");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn corrections_use_if_match_and_appear_on_the_timeline() {
    let app = TestApp::new().await;
    let (coordinator, _) = school(&app).await;
    let created = app
        .post("/v1/children")
        .by(&coordinator)
        .json(&noah())
        .send()
        .await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/children/{id}");
    let etag = created.header("etag").unwrap().to_owned();

    let corrected = app
        .patch(&path)
        .by(&coordinator)
        .header("if-match", &etag)
        .json(&json!({"givenName": "Noah Jan", "bsn": null, "schoolGroup": "groep 8b"}))
        .send()
        .await;
    corrected.expect(200);
    assert_eq!(corrected.body["givenName"], "Noah Jan");
    assert_eq!(corrected.body["familyName"], "de Boer");
    assert!(corrected.body.get("bsn").is_none());
    assert_eq!(corrected.body["schoolGroup"], "groep 8b");

    app.patch(&path)
        .by(&coordinator)
        .header("if-match", &etag)
        .json(&json!({"givenName": "Stale"}))
        .send()
        .await
        .expect_problem(412, "precondition-failed");

    let other = app.child(&coordinator, "LL-OTHER").await;
    let clash = app
        .patch(&path)
        .by(&coordinator)
        .json(&json!({"externalRef": "LL-OTHER"}))
        .send()
        .await;
    clash.expect_problem(409, "duplicate-external-ref");
    assert_eq!(clash.body["existingId"], other.to_string());

    app.patch(&path)
        .by(&coordinator)
        .json(&json!({"bsn": "123456789"}))
        .send()
        .await
        .expect_problem(400, "invalid-input");

    let timeline = app
        .get(&format!("{path}/timeline"))
        .by(&coordinator)
        .send()
        .await;
    let summaries: Vec<&str> = timeline.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["summary"].as_str().unwrap())
        .collect();
    assert_eq!(
        summaries[0],
        "Child data corrected: givenName, bsn, schoolGroup"
    );
    assert!(
        summaries.iter().all(|s| !s.contains("Noah Jan")),
        "the timeline names corrected properties, not values"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn guardians_are_added_read_and_corrected() {
    let app = TestApp::new().await;
    let (coordinator, teacher) = school(&app).await;
    let child = app.child(&coordinator, "LL-1").await;
    let added = app
        .post(&format!("/v1/children/{child}/guardians"))
        .by(&coordinator)
        .json(&json!({
            "name": "Karin Smit", "relationship": "foster_parent",
            "parentalAuthority": "no", "authoritySource": "stated",
            "contact": {"email": "karin@example.nl"}
        }))
        .send()
        .await;
    added.expect(201);
    let guardian = added.body["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/children/{child}/guardians/{guardian}");
    assert_eq!(added.header("location"), Some(path.as_str()));

    let read = app.get(&path).by(&teacher).send().await;
    read.expect(200);
    assert_eq!(read.body, added.body);

    let etag = read.header("etag").unwrap().to_owned();
    let corrected = app
        .patch(&path)
        .by(&coordinator)
        .header("if-match", &etag)
        .json(&json!({"parentalAuthority": "yes", "authoritySource": "gezagsregister", "contact": null}))
        .send()
        .await;
    corrected.expect(200);
    assert_eq!(corrected.body["parentalAuthority"], "yes");
    assert_eq!(corrected.body["contact"], json!({}));
    assert_eq!(corrected.body["name"], "Karin Smit");
    app.patch(&path)
        .by(&coordinator)
        .header("if-match", &etag)
        .json(&json!({"name": "Stale"}))
        .send()
        .await
        .expect_problem(412, "precondition-failed");

    // The result must stay consistent: unknown authority cannot keep a known source.
    let reply = app
        .patch(&path)
        .by(&coordinator)
        .json(&json!({"parentalAuthority": "unknown"}))
        .send()
        .await;
    reply.expect_problem(400, "invalid-input");
    assert_eq!(reply.invalid_params(), ["authoritySource"]);

    app.get(&format!(
        "/v1/children/{child}/guardians/{}",
        Uuid::new_v4()
    ))
    .by(&coordinator)
    .send()
    .await
    .expect_problem(404, "not-found");
    // A guardian of another child of the same school is not found under this child.
    let sibling = app.child(&coordinator, "LL-2").await;
    app.get(&format!("/v1/children/{sibling}/guardians/{guardian}"))
        .by(&coordinator)
        .send()
        .await
        .expect_problem(404, "not-found");
}

#[tokio::test(flavor = "multi_thread")]
async fn teachers_register_and_read_but_do_not_correct_or_see_the_bsn() {
    let app = TestApp::new().await;
    let (coordinator, teacher) = school(&app).await;
    let created = app
        .post("/v1/children")
        .by(&teacher)
        .json(&noah())
        .send()
        .await;
    created.expect(201);
    assert!(
        created.body.get("bsn").is_none(),
        "teachers do not see the BSN"
    );
    let id = created.body["id"].as_str().unwrap();
    let as_coordinator = app
        .get(&format!("/v1/children/{id}"))
        .by(&coordinator)
        .send()
        .await;
    assert_eq!(as_coordinator.body["bsn"], "111222333");
    let as_teacher = app
        .get(&format!("/v1/children/{id}"))
        .by(&teacher)
        .send()
        .await;
    assert!(as_teacher.body.get("bsn").is_none());

    app.patch(&format!("/v1/children/{id}"))
        .by(&teacher)
        .json(&json!({"givenName": "X"}))
        .send()
        .await
        .expect_problem(403, "forbidden");
    app.post(&format!("/v1/children/{id}/guardians"))
        .by(&teacher)
        .json(&json!({"name": "X", "relationship": "other", "parentalAuthority": "unknown", "authoritySource": "unknown"}))
        .send()
        .await
        .expect_problem(403, "forbidden");
}

#[tokio::test(flavor = "multi_thread")]
async fn roles_without_casework_see_no_children() {
    let app = TestApp::new().await;
    let (coordinator, _) = school(&app).await;
    let child = app.child(&coordinator, "LL-1").await;
    for role in [Role::PrivacyOfficer, Role::OrgAdmin] {
        let member = app.member_of(coordinator.organisation, role).await;
        for path in [
            "/v1/children".to_owned(),
            format!("/v1/children/{child}"),
            format!("/v1/children/{child}/timeline"),
            format!("/v1/children/{child}/signals"),
        ] {
            app.get(&path)
                .by(&member)
                .send()
                .await
                .expect_problem(403, "forbidden");
        }
        app.post("/v1/children")
            .by(&member)
            .json(&noah())
            .send()
            .await
            .expect_problem(403, "forbidden");
    }
    let admin = app.platform_admin().await;
    app.get("/v1/children")
        .by(&admin)
        .send()
        .await
        .expect_problem(403, "forbidden");
}

/// Every endpoint, given another organisation's ids, answers exactly as for ids that never
/// existed (apart from `instance`).
#[tokio::test(flavor = "multi_thread")]
async fn another_organisations_child_looks_like_no_child() {
    let app = TestApp::new().await;
    let (owner, _) = school(&app).await;
    let child = app.child(&owner, "LL-1").await;
    let signal = app
        .signal(&owner, child, "Komt zonder jas naar school.")
        .await;
    let guardian = app
        .get(&format!("/v1/children/{child}"))
        .by(&owner)
        .send()
        .await
        .body["guardians"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let outsiders = [
        app.member(OrganisationKind::School, Role::CareCoordinator)
            .await,
        app.member(OrganisationKind::Wijkteam, Role::YouthWorker)
            .await,
        app.member(OrganisationKind::VeiligThuis, Role::VtWorker)
            .await,
    ];
    let signal_body = json!({
        "observedAt": "2026-11-20T08:30:00Z", "category": "other", "source": "own_observation",
        "facts": "x", "direction": "raises_concern"
    });
    let revision_body = json!({
        "reason": "x", "observedAt": "2026-11-20T08:30:00Z", "category": "other",
        "source": "own_observation", "facts": "y", "direction": "raises_concern"
    });
    let guardian_body = json!({"name": "X", "relationship": "other", "parentalAuthority": "unknown", "authoritySource": "unknown"});
    let child_patch = json!({"givenName": "X"});
    let guardian_patch = json!({"name": "X"});
    for outsider in &outsiders {
        let nobody = Uuid::new_v4();
        let calls: Vec<(&str, String, String, Option<&Value>)> = vec![
            (
                "GET",
                format!("/v1/children/{child}"),
                format!("/v1/children/{nobody}"),
                None,
            ),
            (
                "PATCH",
                format!("/v1/children/{child}"),
                format!("/v1/children/{nobody}"),
                Some(&child_patch),
            ),
            (
                "GET",
                format!("/v1/children/{child}/timeline"),
                format!("/v1/children/{nobody}/timeline"),
                None,
            ),
            (
                "GET",
                format!("/v1/children/{child}/signals"),
                format!("/v1/children/{nobody}/signals"),
                None,
            ),
            (
                "POST",
                format!("/v1/children/{child}/signals"),
                format!("/v1/children/{nobody}/signals"),
                Some(&signal_body),
            ),
            (
                "POST",
                format!("/v1/children/{child}/guardians"),
                format!("/v1/children/{nobody}/guardians"),
                Some(&guardian_body),
            ),
            (
                "GET",
                format!("/v1/children/{child}/guardians/{guardian}"),
                format!("/v1/children/{nobody}/guardians/{guardian}"),
                None,
            ),
            (
                "PATCH",
                format!("/v1/children/{child}/guardians/{guardian}"),
                format!("/v1/children/{nobody}/guardians/{guardian}"),
                Some(&guardian_patch),
            ),
            (
                "GET",
                format!("/v1/signals/{signal}"),
                format!("/v1/signals/{nobody}"),
                None,
            ),
            (
                "POST",
                format!("/v1/signals/{signal}/revisions"),
                format!("/v1/signals/{nobody}/revisions"),
                Some(&revision_body),
            ),
        ];
        for (method, theirs, missing, body) in calls {
            let send = |path: String| {
                let mut call = app.request(method.parse().unwrap(), &path).by(outsider);
                if let Some(body) = body {
                    call = call.json(body);
                }
                call.send()
            };
            let theirs_reply = send(theirs.clone()).await;
            let missing_reply = send(missing).await;
            theirs_reply.expect_problem(404, "not-found");
            assert_eq!(
                theirs_reply.problem_without_instance(),
                missing_reply.problem_without_instance(),
                "{method} {theirs}"
            );
        }
    }
    // The owner's records are untouched and nothing of the outsiders reached their log.
    let log = app.access_log(child).await;
    assert!(
        log.iter().all(|(_, _, _, actor)| actor == &owner.sub),
        "{log:?}"
    );
}
