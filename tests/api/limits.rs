//! Safe under abuse: rate limits (429 with `Retry-After`, `RateLimit-Policy` and `RateLimit` on
//! every limited response, recovery), and — against the real binary over TCP — connection
//! limits: idle and slow connections are closed within the configured time while other clients
//! are served, oversized heads get a 431 problem, a stalled body a 408 problem, and requests
//! without a valid token spend their address's budget.

use std::{
    io::{Read, Write},
    net::TcpStream,
    time::{Duration, Instant},
};

use schakel::{
    config::HttpConfig,
    domain::organisation::{OrganisationKind, Role},
    ratelimit::RateLimitConfig,
};

use crate::{
    cli::Server,
    harness::{TestApp, TestDb, auth_config},
};

#[tokio::test]
async fn a_spent_budget_answers_429_with_retry_after_and_recovers() {
    let http = HttpConfig {
        rate_limits: RateLimitConfig {
            reads_per_minute: 60,
            ..RateLimitConfig::default()
        },
        ..HttpConfig::default()
    };
    let app = TestApp::with(auth_config(), http).await;
    let coordinator = app
        .member(OrganisationKind::School, Role::CareCoordinator)
        .await;
    let child = app.child(&coordinator, "LL-rate").await;
    let path = format!("/v1/children/{child}");

    let mut remaining = Vec::new();
    for _ in 0..60 {
        let reply = app.get(&path).by(&coordinator).send().await;
        reply.expect(200);
        assert_eq!(
            reply.header("ratelimit-policy"),
            Some("\"reads\";q=60;w=60")
        );
        remaining.push(reply.header("ratelimit").unwrap().to_owned());
    }
    assert!(remaining[0].starts_with("\"reads\";r=59;"), "{remaining:?}");
    assert!(remaining[59].starts_with("\"reads\";r=0;"), "{remaining:?}");

    let refused = app.get(&path).by(&coordinator).send().await;
    refused.expect_problem(429, "too-many-requests");
    assert_eq!(
        refused.header("retry-after"),
        Some("1"),
        "one request per second"
    );
    assert!(
        refused
            .header("ratelimit")
            .unwrap()
            .starts_with("\"reads\";r=0;")
    );

    // Other budgets, other professionals and unlimited paths are untouched.
    app.post("/v1/children")
        .by(&coordinator)
        .json(
            &serde_json::json!({"externalRef": "LL-rate-2", "givenName": "Sem",
                                  "familyName": "Jansen", "dateOfBirth": "2015-03-01"}),
        )
        .send()
        .await
        .expect(201);
    let colleague = app
        .member_of(coordinator.organisation, Role::CareCoordinator)
        .await;
    app.get(&path).by(&colleague).send().await.expect(200);
    for open in [
        "/v1/health/live",
        "/v1/openapi.json",
        "/v1/reference/signal-categories",
    ] {
        let reply = app.get(open).send().await;
        reply.expect(200);
        assert_eq!(reply.header("ratelimit-policy"), None, "{open}");
    }

    tokio::time::sleep(Duration::from_millis(1100)).await;
    app.get(&path).by(&coordinator).send().await.expect(200);
}

/// Reads everything a connection receives until it is closed or `within` passes; returns the
/// bytes and whether the server closed it.
fn read_until_closed(stream: &mut TcpStream, within: Duration) -> (String, bool) {
    stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let deadline = Instant::now() + within;
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    while Instant::now() < deadline {
        match stream.read(&mut buffer) {
            Ok(0) => return (String::from_utf8_lossy(&received).into_owned(), true),
            Ok(n) => received.extend_from_slice(&buffer[..n]),
            Err(err)
                if matches!(
                    err.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return (String::from_utf8_lossy(&received).into_owned(), true),
        }
    }
    (String::from_utf8_lossy(&received).into_owned(), false)
}

fn health(address: &str) -> bool {
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .write_all(b"GET /v1/health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let (response, _) = read_until_closed(&mut stream, Duration::from_secs(5));
    response.starts_with("HTTP/1.1 200")
}

#[tokio::test(flavor = "multi_thread")]
async fn idle_slow_and_oversized_connections_are_cut_off_while_others_are_served() {
    let database = TestDb::empty().await;
    let mut env = crate::harness::binary_env(&database.url);
    env.extend([
        ("MIGRATE_ON_START", "true"),
        ("HTTP_HEADER_READ_TIMEOUT_SECS", "2"),
        ("HTTP_KEEP_ALIVE_TIMEOUT_SECS", "1"),
        ("HTTP_BODY_READ_TIMEOUT_SECS", "2"),
        ("HTTP_MAX_HEADER_BYTES", "4096"),
        ("HTTP_MAX_CONNECTIONS", "100"),
        ("RATE_LIMIT_ANONYMOUS_PER_MINUTE", "5"),
    ]);
    let server = Server::start(&env);
    let address = server.base_url.trim_start_matches("http://").to_owned();

    tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        // 20 idle connections and 20 slowloris connections sending a header byte every 200 ms.
        let mut idle: Vec<TcpStream> = (0..20).map(|_| TcpStream::connect(&address).unwrap()).collect();
        let mut slow: Vec<TcpStream> = (0..20)
            .map(|_| {
                let mut stream = TcpStream::connect(&address).unwrap();
                stream.write_all(b"GET /v1/health/live HTTP/1.1\r\nX-Slow: ").unwrap();
                stream
            })
            .collect();
        let mut slow_closed_at = None;
        for _ in 0..30 {
            std::thread::sleep(Duration::from_millis(200));
            let alive = slow
                .iter_mut()
                .map(|s| s.write_all(b"a").is_ok())
                .filter(|written| *written)
                .count();
            if alive == 0 || started.elapsed() > Duration::from_secs(5) {
                slow_closed_at = Some(started.elapsed());
                break;
            }
            // Others are served meanwhile.
            assert!(health(&address), "a normal client is served");
        }
        for stream in &mut idle {
            let (_, closed) = read_until_closed(stream, Duration::from_secs(3));
            assert!(closed, "an idle connection stays open");
        }
        for stream in &mut slow {
            let (_, closed) = read_until_closed(stream, Duration::from_secs(3));
            assert!(closed, "a slowloris connection stays open");
        }
        let slow_closed_at = slow_closed_at.expect("slow connections were closed");
        assert!(slow_closed_at < Duration::from_secs(5), "{slow_closed_at:?}");

        // A head over HTTP_MAX_HEADER_BYTES: a 431 problem.
        let mut big = TcpStream::connect(&address).unwrap();
        let filler = "a".repeat(6000);
        big.write_all(
            format!("GET /v1/health/live HTTP/1.1\r\nHost: x\r\nX-Big: {filler}\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .unwrap();
        let (response, _) = read_until_closed(&mut big, Duration::from_secs(5));
        assert!(response.starts_with("HTTP/1.1 431"), "{response}");
        assert!(response.contains("application/problem+json"), "{response}");
        assert!(response.contains("header-fields-too-large"), "{response}");

        // A body that stalls: a 408 problem once the body read timeout passes.
        let mut stalled = TcpStream::connect(&address).unwrap();
        stalled
            .write_all(b"POST /v1/children HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"a\":")
            .unwrap();
        let (response, _) = read_until_closed(&mut stalled, Duration::from_secs(6));
        assert!(response.starts_with("HTTP/1.1 408"), "{response}");
        assert!(response.contains("request-timeout"), "{response}");

        // Requests without a valid token spend the address's budget: 401s, then a 429.
        let mut statuses = Vec::new();
        for _ in 0..6 {
            let mut stream = TcpStream::connect(&address).unwrap();
            stream
                .write_all(b"GET /v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer forged\r\nConnection: close\r\n\r\n")
                .unwrap();
            let (response, _) = read_until_closed(&mut stream, Duration::from_secs(5));
            statuses.push(response[9..12].to_owned());
            if response.starts_with("HTTP/1.1 429") {
                assert!(response.to_ascii_lowercase().contains("retry-after:"), "{response}");
                assert!(response.to_ascii_lowercase().contains("ratelimit-policy: \"anonymous\";q=5;w=60"), "{response}");
            }
        }
        // One anonymous request went to the stalled body already.
        assert_eq!(statuses, ["401", "401", "401", "401", "429", "429"]);
        // Another scheme than Bearer is anonymous too.
        let mut stream = TcpStream::connect(&address).unwrap();
        stream
            .write_all(b"GET /v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Basic dTpw\r\nConnection: close\r\n\r\n")
            .unwrap();
        let (response, _) = read_until_closed(&mut stream, Duration::from_secs(5));
        assert!(response.starts_with("HTTP/1.1 429"), "{response}");
    })
    .await
    .unwrap();
    server.stop();
}
