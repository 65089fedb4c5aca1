//! Hostile input never reaches PostgreSQL as a 500: NUL characters in every text property of
//! every request body, in every query parameter and in token claims; forged cursors on every
//! list. Table tests driven by the published spec, so a new operation is covered the day it
//! appears.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use poem::http::Method;
use schakel::domain::organisation::{OrganisationKind, Role};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::harness::{AUDIENCE, ISSUER, TestApp, sign_claims};

fn spec() -> &'static Value {
    schakel::openapi::document()
}

fn resolve(schema: &Value) -> &Value {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.trim_start_matches("#/components/schemas/");
        return resolve(&spec()["components"]["schemas"][name]);
    }
    if let Some(first) = schema["allOf"].as_array().and_then(|all| all.first()) {
        return resolve(first);
    }
    schema
}

/// Every text property of a request schema, as (path, body holding a NUL there).
fn nul_bodies(
    schema: &Value,
    path: &str,
    out: &mut Vec<(String, Value)>,
    wrap: &dyn Fn(Value) -> Value,
) {
    let schema = resolve(schema);
    let Some(properties) = schema["properties"].as_object() else {
        return;
    };
    for (name, property) in properties {
        let here = if path.is_empty() {
            name.clone()
        } else {
            format!("{path}.{name}")
        };
        let resolved = resolve(property);
        let name_c = name.clone();
        let nest = move |inner: Value| {
            let mut object = Map::new();
            object.insert(name_c.clone(), inner);
            Value::Object(object)
        };
        match resolved["type"].as_str() {
            Some("string") if resolved["enum"].is_null() => {
                out.push((here, wrap(nest(json!("a\u{0}b")))));
            }
            Some("object") => {
                let wrap_inner = |inner: Value| wrap(nest(inner));
                nul_bodies(resolved, &here, out, &wrap_inner);
            }
            _ => {}
        }
    }
}

fn concrete(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                Uuid::now_v7().to_string()
            } else {
                segment.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn method(name: &str) -> Method {
    name.to_ascii_uppercase().parse().unwrap()
}

#[tokio::test]
async fn a_nul_character_in_any_text_property_is_refused_naming_it() {
    let app = TestApp::new().await;
    let member = app
        .member(OrganisationKind::School, Role::CareCoordinator)
        .await;
    let mut tried = 0;
    for (path, item) in spec()["paths"].as_object().unwrap() {
        for (verb, operation) in item.as_object().unwrap() {
            let Some(schema) = operation.pointer("/requestBody/content/application~1json/schema")
            else {
                continue;
            };
            let mut cases = Vec::new();
            nul_bodies(schema, "", &mut cases, &|v| v);
            for (field, body) in cases {
                let reply = app
                    .request(method(verb), &format!("/v1{}", concrete(path)))
                    .by(&member)
                    .json(&body)
                    .send()
                    .await;
                reply.expect_problem(400, "invalid-input");
                assert_eq!(
                    reply.invalid_params(),
                    std::slice::from_ref(&field),
                    "{verb} {path} {field}"
                );
                tried += 1;
            }
        }
    }
    assert!(tried > 60, "only {tried} text properties found");
}

#[tokio::test]
async fn a_nul_character_in_any_query_parameter_is_refused_naming_it() {
    let app = TestApp::new().await;
    let member = app
        .member(OrganisationKind::School, Role::CareCoordinator)
        .await;
    let mut tried = 0;
    for (path, item) in spec()["paths"].as_object().unwrap() {
        for (verb, operation) in item.as_object().unwrap() {
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                if parameter["in"] != "query" {
                    continue;
                }
                let name = parameter["name"].as_str().unwrap();
                let reply = app
                    .request(method(verb), &format!("/v1{}?{name}=a%00b", concrete(path)))
                    .by(&member)
                    .send()
                    .await;
                reply.expect_problem(400, "invalid-input");
                assert_eq!(reply.invalid_params(), [name], "{verb} {path}");
                tried += 1;
            }
        }
    }
    assert!(tried > 20, "only {tried} query parameters found");
    let reply = app.get("/v1/children/%00").by(&member).send().await;
    reply.expect_problem(400, "invalid-input");
}

#[tokio::test]
async fn forged_cursors_on_every_list_answer_400() {
    let app = TestApp::new().await;
    let school = app.organisation(OrganisationKind::School, "De Linde").await;
    let token = app.token(
        school,
        &["care_coordinator", "privacy_officer", "org_admin"],
        "ib-1",
    );
    let child = app
        .post("/v1/children")
        .token(&token)
        .json(
            &json!({"externalRef": "C-1", "givenName": "Noa", "familyName": "Jansen",
                      "dateOfBirth": "2015-01-01"}),
        )
        .send()
        .await;
    child.expect(201);
    let child = child.body["id"].as_str().unwrap().to_owned();
    let id = Uuid::now_v7();
    let forged = [
        "!!not-base64".to_owned(),
        URL_SAFE_NO_PAD
            .encode(br#"["-4714-11-24T00:00:00Z","0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"]"#),
        URL_SAFE_NO_PAD
            .encode(br#"["+275760-09-13T00:00:00Z","0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"]"#),
        URL_SAFE_NO_PAD.encode(format!(r#"["a\u0000b","{id}"]"#)),
        URL_SAFE_NO_PAD.encode(b"[-1,-1]"),
        URL_SAFE_NO_PAD.encode(b"-7"),
        URL_SAFE_NO_PAD.encode(b"\"not-a-uuid\""),
        URL_SAFE_NO_PAD.encode(b"{}"),
    ];
    let mut lists = 0;
    for (path, item) in spec()["paths"].as_object().unwrap() {
        let Some(operation) = item.get("get") else {
            continue;
        };
        let Some(name) = operation["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "query")
            .filter_map(|p| p["name"].as_str())
            .find(|n| *n == "cursor" || *n == "after")
        else {
            continue;
        };
        let path = path.replace("{id}", &child);
        let path = concrete(&path);
        for cursor in &forged {
            let reply = app
                .get(&format!("/v1{path}?{name}={cursor}"))
                .token(&token)
                .send()
                .await;
            // A forged cursor that happens to be a position this list could hold (a name, for
            // the directory) simply pages from there; anything else is 400 naming the cursor —
            // never a 5xx. (404 where the parent is not the caller's: a webhook subscription.)
            assert!(
                reply.status < 500,
                "{path} {cursor}: {} {}",
                reply.status,
                reply.text
            );
            let garbage = cursor.starts_with('!') || cursor == &URL_SAFE_NO_PAD.encode(b"{}");
            if garbage && reply.status != 404 {
                reply.expect_problem(400, "invalid-input");
            }
            if reply.status == 400 {
                assert_eq!(reply.invalid_params(), [name], "{path}");
            }
        }
        lists += 1;
    }
    assert!(lists >= 10, "only {lists} lists found");
}

#[tokio::test]
async fn a_nul_character_in_a_token_claim_is_refused_naming_it() {
    let app = TestApp::new().await;
    let school = app.organisation(OrganisationKind::School, "De Linde").await;
    for (claim, claims) in [
        ("sub", json!({"sub": "ib\u{0}1", "name": "Mila"})),
        ("name", json!({"sub": "ib-1", "name": "Mi\u{0}la"})),
        (
            "act.sub",
            json!({"sub": "ib-1", "name": "Mila", "act": {"sub": "parnas\u{0}sys"}}),
        ),
    ] {
        let mut claims = claims;
        for (key, value) in [
            ("iss", json!(ISSUER)),
            ("aud", json!(AUDIENCE)),
            ("exp", json!(jsonwebtoken::get_current_timestamp() + 600)),
            ("org", json!(school)),
            ("roles", json!(["care_coordinator"])),
        ] {
            claims[key] = value;
        }
        let token = sign_claims(&claims);
        for (verb, path) in [
            (Method::GET, "/v1/children"),
            (Method::POST, "/v1/children"),
        ] {
            let reply = app
                .request(verb.clone(), path)
                .token(&token)
                .json(
                    &json!({"externalRef": "X", "givenName": "A", "familyName": "B",
                              "dateOfBirth": "2015-01-01"}),
                )
                .send()
                .await;
            reply.expect_problem(400, "invalid-input");
            assert!(
                reply.invalid_params()[0].contains(claim),
                "{claim}: {}",
                reply.text
            );
        }
    }
}
