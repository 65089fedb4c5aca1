//! Every 4xx/5xx is RFC 9457 problem+json — the framework's own errors included — and every
//! response carries `API-Version` and `X-Request-Id`.

use schakel::{
    config::HttpConfig,
    domain::organisation::{OrganisationKind, Role},
};
use serde_json::json;

use crate::harness::{TestApp, auth_config};

#[tokio::test(flavor = "multi_thread")]
async fn unknown_routes_and_methods_are_problems() {
    let app = TestApp::new().await;
    let admin = app.platform_admin().await;
    app.get("/v1/no-such-thing")
        .by(&admin)
        .send()
        .await
        .expect_problem(404, "not-found");
    app.get("/nowhere")
        .send()
        .await
        .expect_problem(404, "not-found");
    app.request(poem::http::Method::DELETE, "/v1/organisations")
        .by(&admin)
        .send()
        .await
        .expect_problem(405, "method-not-allowed");
    app.request(poem::http::Method::PUT, "/v1/me")
        .by(&admin)
        .send()
        .await
        .expect_problem(405, "method-not-allowed");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_bodies_are_400_problems_naming_the_property() {
    let app = TestApp::new().await;
    let admin = app.platform_admin().await;
    let post = |body: &str| {
        app.post("/v1/organisations")
            .by(&admin)
            .raw("application/json", body.as_bytes().to_vec())
            .send()
    };

    post("{\"kind\": \"school\", ")
        .await
        .expect_problem(400, "malformed-json");
    post("").await.expect_problem(400, "invalid-input");

    let cases: &[(&str, &str)] = &[
        (r#"{"kind": "school"}"#, "name"),
        (r#"{"kind": "school", "name": 42}"#, "name"),
        (r#"{"kind": "school", "name": true}"#, "name"),
        (
            r#"{"kind": "school", "name": "X", "colour": "red"}"#,
            "colour",
        ),
        (r#"{"kind": "hospital", "name": "X"}"#, "kind"),
        (
            r#"{"kind": "school", "name": "X", "active": "yes"}"#,
            "active",
        ),
        (
            r#"{"kind": "school", "name": "X", "codes": {"brin": 1234}}"#,
            "codes.brin",
        ),
        (
            r#"{"kind": "school", "name": "X", "codes": {"bin": "12AB"}}"#,
            "codes.bin",
        ),
        (r#"{"kind": "school", "name": ""}"#, "name"),
        (r#"["school"]"#, "(body)"),
    ];
    for (body, property) in cases {
        let reply = post(body).await;
        reply.expect_problem(400, "invalid-input");
        assert_eq!(
            reply.invalid_params(),
            vec![property.to_string()],
            "{body}: {}",
            reply.text
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_content_types_are_415_problems() {
    let app = TestApp::new().await;
    let admin = app.platform_admin().await;
    let body = json!({"kind": "school", "name": "X"})
        .to_string()
        .into_bytes();
    app.post("/v1/organisations")
        .by(&admin)
        .raw("text/plain", body.clone())
        .send()
        .await
        .expect_problem(415, "unsupported-media-type");
    app.post("/v1/organisations")
        .by(&admin)
        .header("content-length", &body.len().to_string())
        .send()
        .await
        .expect_problem(415, "unsupported-media-type");
    // JSON with a +json suffix is JSON.
    app.post("/v1/organisations")
        .by(&admin)
        .raw("application/merge-patch+json", body)
        .send()
        .await
        .expect(201);
}

#[tokio::test(flavor = "multi_thread")]
async fn oversize_bodies_are_413_problems() {
    let app = TestApp::with(
        auth_config(),
        HttpConfig {
            max_body_bytes: 2048,
            ..HttpConfig::default()
        },
    )
    .await;
    let admin = app.platform_admin().await;
    let big = json!({"kind": "school", "name": "x".repeat(4000)}).to_string();
    app.post("/v1/organisations")
        .by(&admin)
        .raw("application/json", big.into_bytes())
        .send()
        .await
        .expect_problem(413, "payload-too-large");

    // A streamed body without Content-Length is cut off at the limit too.
    let chunks: Vec<Result<bytes::Bytes, std::io::Error>> = (0..2)
        .map(|_| Ok(bytes::Bytes::from(vec![b' '; 1500])))
        .collect();
    let response = app
        .client
        .post("/v1/organisations")
        .header("authorization", format!("Bearer {}", admin.token))
        .content_type("application/json")
        .body(poem::Body::from_bytes_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await;
    let reply = crate::harness::Reply::from_response(response.0).await;
    reply.expect_problem(413, "payload-too-large");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_parameters_are_400_problems() {
    let app = TestApp::new().await;
    let member = app.member(OrganisationKind::School, Role::Teacher).await;
    let reply = app
        .get("/v1/organisations/not-a-uuid")
        .by(&member)
        .send()
        .await;
    reply.expect_problem(400, "invalid-input");
    assert_eq!(reply.invalid_params(), ["id"]);
    assert_eq!(reply.body["invalidParams"][0]["reason"], "must be a UUID");
    for query in [
        "limit=0",
        "limit=201",
        "limit=ten",
        "kind=hospital",
        "active=maybe",
        "cursor=%21%21",
    ] {
        let reply = app
            .get(&format!("/v1/organisations?{query}"))
            .by(&member)
            .send()
            .await;
        reply.expect_problem(400, "invalid-input");
        let name = query.split('=').next().unwrap();
        assert_eq!(reply.invalid_params(), vec![name.to_string()], "{query}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_response_carries_api_version_and_request_id() {
    let app = TestApp::new().await;
    let member = app.member(OrganisationKind::School, Role::Teacher).await;
    for reply in [
        app.get("/v1/me").by(&member).send().await,
        app.get("/v1/me").send().await,
        app.get("/v1/nothing").send().await,
        app.get("/v1/health/live").send().await,
    ] {
        assert_eq!(reply.header("api-version"), Some(env!("CARGO_PKG_VERSION")));
        let id = reply.header("x-request-id").expect("x-request-id");
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    }
    // A plain client request id is echoed; anything else is replaced.
    let reply = app
        .get("/v1/me")
        .by(&member)
        .header("x-request-id", "magister-sync-0042")
        .send()
        .await;
    assert_eq!(reply.header("x-request-id"), Some("magister-sync-0042"));
    let reply = app
        .get("/v1/me")
        .header("x-request-id", "Jan Jansen <script>")
        .send()
        .await;
    assert_ne!(reply.header("x-request-id"), Some("Jan Jansen <script>"));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_database_is_a_503_with_retry_after() {
    // A pool pointing at a port where nothing listens.
    let pool = schakel::db::pool(&schakel::config::DatabaseConfig {
        url: "postgres://postgres@127.0.0.1:1/nothing".into(),
        pool_size: 1,
        statement_timeout: std::time::Duration::from_secs(1),
    })
    .unwrap();
    let state = schakel::AppState::new(pool, &auth_config(), HttpConfig::default()).unwrap();
    let client = poem::test::TestClient::new(schakel::app(state));
    let response = client.get("/v1/health/ready").send().await;
    let reply = crate::harness::Reply::from_response(response.0).await;
    reply.expect_problem(503, "service-unavailable");
    assert_eq!(reply.header("retry-after"), Some("2"));

    // Liveness does not depend on the database.
    let response = client.get("/v1/health/live").send().await;
    assert_eq!(response.0.status(), 200);
}
