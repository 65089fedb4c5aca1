//! The published spec: committed, free of drift, served, and complete for every operation.

use std::path::PathBuf;

use serde_json::Value;

use crate::harness::TestApp;

fn committed(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("openapi")
        .join(file)
}

/// Fails when `openapi/` differs from what the code generates. Regenerate with
/// `UPDATE_OPENAPI=1 cargo test openapi` (or `schakel openapi > openapi/openapi.json`).
#[test]
fn committed_spec_matches_the_code() {
    for (file, generated) in [
        ("openapi.json", schakel::openapi::json()),
        ("openapi.yaml", schakel::openapi::yaml()),
    ] {
        let path = committed(file);
        if std::env::var_os("UPDATE_OPENAPI").is_some() {
            std::fs::write(&path, &generated).unwrap();
            continue;
        }
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            on_disk == generated,
            "openapi/{file} is stale: run `UPDATE_OPENAPI=1 cargo test openapi` and commit it"
        );
    }
}

fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            out.push((path.clone(), method.clone(), operation));
        }
    }
    out
}

#[test]
fn every_operation_is_documented_completely() {
    let doc = schakel::openapi::document();
    assert_eq!(doc["servers"][0]["url"], "/v1");
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    for field in ["name", "email", "url"] {
        assert!(doc["info"]["contact"][field].is_string(), "contact {field}");
    }
    let ops = operations(doc);
    assert!(ops.len() >= 6);
    for (path, method, op) in ops {
        let here = format!("{method} {path}");
        for field in ["summary", "description", "operationId"] {
            assert!(
                op[field].as_str().is_some_and(|s| !s.is_empty()),
                "{here}: no {field}"
            );
        }
        assert!(
            op["tags"].as_array().is_some_and(|t| !t.is_empty()),
            "{here}: no tags"
        );
        let responses = op["responses"].as_object().unwrap();
        let takes_input = op["requestBody"].is_object()
            || op["parameters"].as_array().is_some_and(|p| !p.is_empty());
        if takes_input {
            assert!(responses.contains_key("400"), "{here}: no 400");
        }
        let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
        if secured {
            assert!(responses.contains_key("401"), "{here}: no 401");
            assert!(responses.contains_key("403"), "{here}: no 403");
        } else {
            assert!(
                path.starts_with("/health") || path.starts_with("/reference"),
                "{here} has no security"
            );
        }
        for (status, response) in responses {
            assert!(
                response["headers"]["API-Version"].is_object(),
                "{here} {status}: no API-Version header"
            );
            if status.starts_with('4') || status.starts_with('5') {
                let problem = &response["content"]["application/problem+json"];
                assert!(
                    problem["schema"].is_object(),
                    "{here} {status}: not a problem"
                );
                let examples: Vec<&Value> = match problem["examples"].as_object() {
                    Some(named) => named.values().map(|e| &e["value"]).collect(),
                    None => vec![&problem["example"]],
                };
                for example in examples {
                    assert_eq!(
                        example["status"].as_u64(),
                        status.parse::<u64>().ok(),
                        "{here} {status}: example"
                    );
                    // Every example names a problem type the README documents.
                    let kind = example["type"].as_str().unwrap_or_default();
                    assert!(
                        kind != "https://schakel.nl/problems/unprocessable-content",
                        "{here} {status}: a problem type the API never sends"
                    );
                }
            }
        }
    }
}

/// Follows `$ref`s to the schema they name.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(reference) => {
            let name = reference.trim_start_matches("#/components/schemas/");
            resolve(doc, &doc["components"]["schemas"][name])
        }
        None => schema,
    }
}

/// A schema shows an example itself, or (for a page) on the items it lists.
fn has_example(doc: &Value, schema: &Value) -> bool {
    let schema = resolve(doc, schema);
    if !schema["example"].is_null() {
        return true;
    }
    let items = &schema["properties"]["items"]["items"];
    !items.is_null() && has_example(doc, items)
}

#[test]
fn every_request_and_response_body_has_an_example() {
    let doc = schakel::openapi::document();
    let mut missing = Vec::new();
    for (path, method, op) in operations(doc) {
        let here = format!("{method} {path}");
        if let Some(content) = op["requestBody"]["content"].as_object() {
            for body in content.values() {
                if !has_example(doc, &body["schema"]) {
                    missing.push(format!("{here} request"));
                }
            }
        }
        for (status, response) in op["responses"].as_object().unwrap() {
            if !status.starts_with('2') {
                continue;
            }
            for body in response["content"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(_, b)| b)
            {
                if !has_example(doc, &body["schema"]) {
                    missing.push(format!("{here} {status} response"));
                }
            }
        }
    }
    assert!(missing.is_empty(), "no example: {missing:#?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_spec_and_docs_are_served() {
    let app = TestApp::new().await;
    let reply = app.get("/v1/openapi.json").send().await;
    reply.expect(200);
    assert_eq!(&reply.body, schakel::openapi::document());

    let reply = app.get("/v1/openapi.yaml").send().await;
    reply.expect(200);
    assert_eq!(reply.text, schakel::openapi::yaml());

    let reply = app.get("/docs").send().await;
    reply.expect(200);
    assert!(reply.text.contains("SwaggerUIBundle"));
    // The docs embed the finished document (canonical header names), not the raw one.
    assert!(reply.text.contains("\"API-Version\""));
    assert!(!reply.text.contains("\"API-VERSION\""));

    let reply = app.get("/").send().await;
    reply.expect(302);
    assert_eq!(reply.header("location"), Some("/docs"));
}
