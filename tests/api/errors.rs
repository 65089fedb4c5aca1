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
    let reply = app
        .request(poem::http::Method::PUT, "/v1/me")
        .by(&admin)
        .send()
        .await;
    reply.expect_problem(405, "method-not-allowed");
    // RFC 9110: a 405 names the methods the resource has.
    assert_eq!(reply.header("allow"), Some("GET"));
    let reply = app
        .request(poem::http::Method::DELETE, "/v1/organisations")
        .by(&admin)
        .send()
        .await;
    assert_eq!(reply.header("allow"), Some("GET, POST"));
    // The docs answer with and without a trailing slash.
    for path in ["/docs", "/docs/"] {
        app.get(path).send().await.expect(200);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_terminated_database_connection_is_a_503_and_leaves_no_key_stuck() {
    let app = TestApp::new().await;
    let member = app
        .member(OrganisationKind::School, Role::CareCoordinator)
        .await;
    let child = app.child(&member, "TERM-1").await;
    let signal = json!({"observedAt": "2026-11-20T08:30:00Z", "category": "behaviour_change",
                        "source": "own_observation", "facts": "Blauwe plek.",
                        "direction": "raises_concern"});
    let mut admin = app.conn().await;
    use diesel_async::SimpleAsyncConnection;
    // Writing a signal takes a moment, so a request is surely in flight below.
    admin
        .batch_execute(
            "CREATE FUNCTION slow_signal() RETURNS trigger LANGUAGE plpgsql AS
               $$ BEGIN PERFORM pg_sleep(1); RETURN NEW; END $$;
             CREATE TRIGGER slow_signal BEFORE INSERT ON signals
               FOR EACH ROW EXECUTE FUNCTION slow_signal();",
        )
        .await
        .expect("trigger");
    let in_flight = app
        .post(&format!("/v1/children/{child}/signals"))
        .by(&member)
        .header("idempotency-key", "after-a-failover")
        .json(&signal)
        .send();
    let terminate = async {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        // An operator (or a failover) ends the application's connections (57P01).
        let mut admin = app.conn().await;
        admin
            .batch_execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                  WHERE datname = current_database() AND pid <> pg_backend_pid()
                    AND application_name = 'schakel' AND state = 'active'",
            )
            .await
            .expect("terminate");
    };
    let (reply, ()) = tokio::join!(in_flight, terminate);
    reply.expect_problem(503, "service-unavailable");
    assert!(reply.header("retry-after").is_some());
    admin
        .batch_execute("DROP TRIGGER slow_signal ON signals")
        .await
        .expect("drop");
    // The key is not stuck: the retry runs, once.
    let retry = app
        .post(&format!("/v1/children/{child}/signals"))
        .by(&member)
        .header("idempotency-key", "after-a-failover")
        .json(&signal)
        .send()
        .await;
    retry.expect(201);
    assert_eq!(
        retry.header("idempotent-replayed"),
        None,
        "nothing was stored"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_state_change_takes_a_bare_post() {
    let app = TestApp::new().await;
    let member = app
        .member(OrganisationKind::School, Role::CareCoordinator)
        .await;
    // No body and no Content-Type: not a 415; the handoff simply does not exist.
    let reply = app
        .post(&format!(
            "/v1/handoffs/{}/acknowledgement",
            uuid::Uuid::now_v7()
        ))
        .by(&member)
        .send()
        .await;
    reply.expect_problem(404, "not-found");
    // A body that is not JSON still is one.
    let reply = app
        .post(&format!(
            "/v1/handoffs/{}/acknowledgement",
            uuid::Uuid::now_v7()
        ))
        .by(&member)
        .raw("text/plain", b"note".to_vec())
        .send()
        .await;
    reply.expect_problem(415, "unsupported-media-type");
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
        migration_url: "postgres://postgres@127.0.0.1:1/nothing".into(),
        runtime_role: None,
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
