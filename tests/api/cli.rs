//! End to end: the real `schakel` binary — migrate, bootstrap, token, demo, serve over HTTP,
//! and a graceful stop on SIGTERM.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Output, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

use diesel_async::SimpleAsyncConnection;
use serde_json::{Value, json};

use crate::{
    harness::{SECRET, TestDb, audit_key_files, binary_env},
    webhooks::{Receiver, verify},
};

pub(crate) fn schakel(env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_schakel"));
    command.env_clear();
    for (key, value) in env {
        command.env(key, value);
    }
    command
}

pub(crate) fn run(env: &[(&str, &str)], args: &[&str]) -> Output {
    schakel(env).args(args).output().expect("run schakel")
}

pub(crate) fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "schakel failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

pub(crate) struct Server {
    child: Child,
    lines: mpsc::Receiver<String>,
    pub(crate) base_url: String,
}

impl Server {
    pub(crate) fn start(env: &[(&str, &str)]) -> Self {
        let (server, ready) = Self::spawn(env, "serve", "listening");
        let address = ready["address"].as_str().expect("address").to_owned();
        Self {
            base_url: format!("http://{address}"),
            ..server
        }
    }

    /// Starts a prepared `schakel` command that serves, and waits until it listens.
    pub(crate) fn start_command(mut command: Command) -> Self {
        let (server, ready) = Self::spawn_command(&mut command, "serving", "listening");
        let address = ready["address"].as_str().expect("address").to_owned();
        Self {
            base_url: format!("http://{address}"),
            ..server
        }
    }

    /// Starts `schakel <command>` and waits for the log line saying it is ready.
    fn spawn(env: &[(&str, &str)], command: &str, ready: &str) -> (Self, Value) {
        let mut prepared = schakel(env);
        prepared.arg(command).stdout(Stdio::null());
        Self::spawn_command(&mut prepared, command, ready)
    }

    fn spawn_command(prepared: &mut Command, command: &str, ready: &str) -> (Self, Value) {
        let mut child = prepared
            .stderr(Stdio::piped())
            .spawn()
            .expect("start schakel");
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        // Drain stderr for the server's whole life, so logging never blocks it.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut seen = Vec::new();
        while Instant::now() < deadline {
            let Ok(line) = lines.recv_timeout(Duration::from_millis(200)) else {
                if let Ok(Some(status)) = child.try_wait() {
                    panic!("schakel {command} exited with {status}: {seen:#?}");
                }
                continue;
            };
            if let Ok(log) = serde_json::from_str::<Value>(&line)
                && log["message"] == ready
            {
                let process = Self {
                    child,
                    lines,
                    base_url: String::new(),
                };
                return (process, log);
            }
            seen.push(line);
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("schakel {command} did not log {ready:?}: {seen:#?}");
    }

    /// `kill -9`: no chance to finish anything.
    pub(crate) fn crash(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }

    /// SIGTERM, then wait for a clean exit; returns the log lines written meanwhile.
    pub(crate) fn stop(mut self) -> Vec<String> {
        let pid = self.child.id().to_string();
        let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(killed.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "exit status after SIGTERM: {status}");
                break;
            }
            assert!(Instant::now() < deadline, "no exit within 30 s of SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
        self.lines.try_iter().collect()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_binary_migrates_bootstraps_mints_and_serves() {
    let database = TestDb::empty().await;
    let mut env = binary_env(&database.url);
    env.push(("WEBHOOK_ALLOW_INSECURE_LOOPBACK", "true"));

    // Not migrated yet: the commands that need the schema say so.
    let refused = run(&env, &["bootstrap", "--name", "schakel"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("schakel migrate"));

    let migrated = stdout(&run(&env, &["migrate"]));
    assert!(migrated.contains("applied"), "{migrated}");
    assert_eq!(
        stdout(&run(&env, &["migrate"])).trim(),
        "no pending migrations"
    );

    let platform = stdout(&run(&env, &["bootstrap", "--name", "schakel platform"]));
    let platform = platform.trim();
    assert!(uuid::Uuid::parse_str(platform).is_ok(), "{platform}");
    let again = stdout(&run(&env, &["bootstrap", "--name", "another name"]));
    assert_eq!(again.trim(), platform, "bootstrap is idempotent");

    let token = stdout(&run(
        &env,
        &[
            "token",
            "--org",
            platform,
            "--role",
            "platform_admin",
            "--sub",
            "admin-1",
            "--name",
            "Beheer",
        ],
    ));
    let token = token.trim();
    assert_eq!(
        token.split('.').count(),
        3,
        "only the token is printed: {token}"
    );

    let server = Server::start(&env);
    let http = reqwest::Client::new();
    let me = http
        .get(format!("{}/v1/me", server.base_url))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    assert!(me.headers().contains_key("x-request-id"));
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["organisation"]["id"], platform);
    assert_eq!(me["roles"][0], "platform_admin");

    let anonymous = http
        .get(format!("{}/v1/me", server.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    assert_eq!(
        anonymous.headers()["content-type"],
        "application/problem+json"
    );

    let ready = http
        .get(format!("{}/v1/health/ready", server.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    // The container healthcheck: the binary asks the server on BIND_ADDR.
    let address = server.base_url.trim_start_matches("http://").to_owned();
    let healthy = stdout(&run(&[("BIND_ADDR", address.as_str())], &["health"]));
    assert_eq!(healthy.trim(), "ready");
    let nobody = run(&[("BIND_ADDR", "127.0.0.1:9")], &["health"]);
    assert!(!nobody.status.success());

    // The demo world, with a token per role that works against the running server.
    let demo: Value = serde_json::from_str(&stdout(&run(&env, &["demo", "--json"]))).unwrap();
    assert_eq!(demo["organisations"]["platform"], platform);
    for role in [
        "platform_admin",
        "teacher",
        "care_coordinator",
        "youth_worker",
        "vt_worker",
        "privacy_officer",
        "org_admin",
    ] {
        let token = demo["tokens"][role].as_str().unwrap();
        let me: Value = http
            .get(format!("{}/v1/me", server.base_url))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(me["roles"][0], role, "{me}");
    }
    let teacher = demo["tokens"]["teacher"].as_str().unwrap();
    let me: Value = http
        .get(format!("{}/v1/me", server.base_url))
        .bearer_auth(teacher)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["organisation"]["id"], demo["organisations"]["school"]);
    let again: Value = serde_json::from_str(&stdout(&run(&env, &["demo", "--json"]))).unwrap();
    assert_eq!(
        again["organisations"], demo["organisations"],
        "demo is idempotent"
    );
    let text = stdout(&run(&env, &["demo"]));
    assert!(
        text.contains("care_coordinator") && text.contains("curl"),
        "{text}"
    );

    // The webhook worker inside `serve` delivers a signed event to a subscriber.
    let receiver = Receiver::start().await;
    let subscribe = || {
        http.post(format!("{}/v1/webhook-subscriptions", server.base_url))
            .bearer_auth(demo["tokens"]["org_admin"].as_str().unwrap())
            .header("idempotency-key", "e2e-subscription")
            .json(&json!({"url": receiver.url, "eventTypes": ["signal.recorded"]}))
            .send()
    };
    let subscribed = subscribe().await.unwrap();
    assert_eq!(subscribed.status(), 201);
    let subscription: Value = subscribed.json().await.unwrap();
    let retried = subscribe().await.unwrap();
    assert_eq!(retried.headers()["idempotent-replayed"], "true");
    assert_eq!(
        retried.json::<Value>().await.unwrap(),
        subscription,
        "one subscription"
    );
    let child: Value = http
        .post(format!("{}/v1/children", server.base_url))
        .bearer_auth(teacher)
        .json(
            &json!({"externalRef": "E2E-1", "givenName": "Noah", "familyName": "de Boer",
                      "dateOfBirth": "2013-04-02"}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let signal = http
        .post(format!(
            "{}/v1/children/{}/signals",
            server.base_url,
            child["id"].as_str().unwrap()
        ))
        .bearer_auth(teacher)
        .json(
            &json!({"observedAt": "2026-11-20T08:30:00Z", "category": "behaviour_change",
                      "source": "own_observation", "facts": "Blauwe plek.",
                      "direction": "raises_concern"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(signal.status(), 201);
    let signal: Value = signal.json().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while receiver.received().is_empty() {
        assert!(Instant::now() < deadline, "no delivery within 30 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let delivered = &receiver.received()[0];
    verify(subscription["secret"].as_str().unwrap(), delivered);
    let event: Value = serde_json::from_slice(&delivered.body).unwrap();
    assert_eq!(event["data"]["resource"]["id"], signal["id"]);

    // Compressed for a client that accepts it.
    let gzipped = http
        .get(format!("{}/v1/openapi.json", server.base_url))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(gzipped.headers()["content-encoding"], "gzip");

    let lines = server.stop();
    assert!(
        lines.iter().any(|l| l.contains("\"message\":\"stopped\"")),
        "{lines:#?}"
    );
    // The development secret is named as such when the server starts.
    assert!(
        lines.iter().any(|l| l.contains("JWT_HS256_SECRET is set")),
        "{lines:#?}"
    );
    // Request logs carry ids and routes, never a token; they name the caller.
    assert!(lines.iter().all(|l| !l.contains(token)));
    assert!(
        lines
            .iter()
            .any(|l| l.contains("\"request completed\"") && l.contains("\"actor\":\"admin-1\"")),
        "{lines:#?}"
    );

    // Every seal publishes a signed checkpoint to the structured log, outside the database; an
    // auditor holding only the public key verifies the log against the newest one.
    let checkpoint = lines
        .iter()
        .rev()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|l| l["message"] == "access log sealed")
        .and_then(|l| l["checkpoint"].as_str().map(str::to_owned))
        .unwrap_or_else(|| panic!("no checkpoint logged: {lines:#?}"));
    let auditor = [
        ("DATABASE_URL", database.url.as_str()),
        ("AUDIT_VERIFYING_KEYS", audit_key_files().public.as_str()),
    ];
    let verified = stdout(&run(
        &auditor,
        &["audit", "verify", "--checkpoint", &checkpoint],
    ));
    assert!(verified.contains("intact"), "{verified}");

    // With no `serve` running, the worker seals the access log: an entry logged now is sealed
    // within the interval. It also runs alone, and stops on SIGTERM.
    let mut conn = database.connect().await;
    conn.batch_execute(&format!(
        "INSERT INTO access_log (actor_sub, actor_name, organisation_id, roles, action, \
         resource_type, outcome, request_id) VALUES ('x', 'X', '{platform}', '{{platform_admin}}', \
         'read', 'organisation', 'allowed', 'req-worker')"
    ))
    .await
    .unwrap();
    let verifiers = {
        let mut verifiers = schakel::audit::SealVerifiers::default();
        verifiers.add(audit_key_files().signer.verifying_key());
        verifiers
    };
    let queued = schakel::audit::verify(&mut conn, &verifiers, None)
        .await
        .unwrap();
    assert_eq!(queued.queued_entries, 1, "{queued:?}");
    let (worker, _) = Server::spawn(&env, "worker", "webhook worker started");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let report = schakel::audit::verify(&mut conn, &verifiers, None)
            .await
            .unwrap();
        assert!(report.is_intact(), "{report:?}");
        if report.queued_entries == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the worker did not seal: {report:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let worker_lines = worker.stop();
    assert!(
        worker_lines
            .iter()
            .any(|l| l.contains("\"message\":\"stopped\"")),
        "{worker_lines:#?}"
    );
    let verified = stdout(&run(&env, &["audit", "verify"]));
    assert!(verified.contains("intact"), "{verified}");
}

#[test]
fn openapi_needs_no_database_or_configuration() {
    let output = run(&[], &["openapi"]);
    let spec: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(&spec, schakel::openapi::document());
    let yaml = stdout(&run(&[], &["openapi", "--yaml"]));
    assert_eq!(yaml, schakel::openapi::yaml());
}

#[test]
fn commands_name_what_is_missing() {
    let token = run(
        &[],
        &[
            "token",
            "--org",
            &uuid::Uuid::nil().to_string(),
            "--role",
            "teacher",
            "--sub",
            "x",
        ],
    );
    assert!(!token.status.success());
    assert!(token.stdout.is_empty());
    assert!(String::from_utf8_lossy(&token.stderr).contains("JWT_HS256_SECRET"));

    let serve = run(&[("JWT_HS256_SECRET", SECRET)], &["serve"]);
    assert!(!serve.status.success());
    assert!(String::from_utf8_lossy(&serve.stderr).contains("DATABASE_URL"));

    let serve = run(&[("DATABASE_URL", "postgres://localhost/x")], &["serve"]);
    assert!(String::from_utf8_lossy(&serve.stderr).contains("JWT_PUBLIC_KEYS"));

    let role = run(
        &[("JWT_HS256_SECRET", SECRET)],
        &[
            "token",
            "--org",
            &uuid::Uuid::nil().to_string(),
            "--role",
            "superuser",
            "--sub",
            "x",
        ],
    );
    assert!(!role.status.success());
    assert!(String::from_utf8_lossy(&role.stderr).contains("unknown role"));
}

#[tokio::test(flavor = "multi_thread")]
async fn schakel_dev_runs_everything_from_a_bare_local_postgresql() {
    let name = format!("schakel_dev_{}", uuid::Uuid::new_v4().simple());
    let url = crate::harness::database_url(&name);
    // Dropped with the guard, whatever happens; `schakel dev` creates it.
    let _guard = TestDb {
        name: name.clone(),
        url: url.clone(),
    };
    let dir = std::env::temp_dir().join(&name);
    std::fs::create_dir_all(&dir).unwrap();
    let env = [
        ("DATABASE_URL", url.as_str()),
        ("BIND_ADDR", "127.0.0.1:0"),
        ("LOG_FORMAT", "json"),
    ];
    let http = reqwest::Client::new();
    let mut secrets = Vec::new();
    for round in 0..2 {
        let out = std::fs::File::create(dir.join("stdout")).unwrap();
        let mut command = schakel(&env);
        command.arg("dev").current_dir(&dir).stdout(out);
        let server = Server::start_command(command);
        let printed = std::fs::read_to_string(dir.join("stdout")).unwrap();
        let expected = if round == 0 {
            "database created"
        } else {
            "database found"
        };
        assert!(printed.contains(expected), "{printed}");
        assert!(
            printed.contains("/v1/children"),
            "the walkthrough's first call: {printed}"
        );
        // Every printed token works against the server it started.
        let tokens: Vec<&str> = printed
            .lines()
            .map(str::trim)
            .filter(|l| l.split('.').count() == 3 && !l.contains(' '))
            .collect();
        assert_eq!(tokens.len(), 7, "{printed}");
        for token in tokens {
            let me = http
                .get(format!("{}/v1/me", server.base_url))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            assert_eq!(me.status(), 200);
        }
        secrets.push(std::fs::read_to_string(dir.join(".schakel-dev-secret")).unwrap());
        server.stop();
    }
    assert_eq!(
        secrets[0], secrets[1],
        "the secret is generated once and kept"
    );

    // Production-looking settings are refused before anything is touched.
    for (var, value) in [
        ("BIND_ADDR", "0.0.0.0:8080"),
        ("DATABASE_URL", "postgres://app@db.example.org:5432/schakel"),
        ("JWT_PUBLIC_KEYS", "/etc/schakel/keys"),
    ] {
        let mut env = env.to_vec();
        env.retain(|(k, _)| *k != var);
        env.push((var, value));
        let refused = schakel(&env).arg("dev").current_dir(&dir).output().unwrap();
        assert!(!refused.status.success(), "{var}={value}");
        assert!(
            String::from_utf8_lossy(&refused.stderr).contains(var),
            "{var}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn retention_runs_from_the_command_line() {
    let database = TestDb::migrated().await;
    let env = [("DATABASE_URL", database.url.as_str())];
    let mut conn = database.connect().await;
    conn.batch_execute(
        "INSERT INTO organisations (id, kind, name) VALUES
             ('00000000-0000-0000-0000-0000000000a1', 'school', 'OBS De Linde');
         INSERT INTO children (id, organisation_id, external_ref, given_name, family_name,
                               date_of_birth, created_by_sub, left_on) VALUES
             ('00000000-0000-0000-0000-0000000000c1', '00000000-0000-0000-0000-0000000000a1',
              'LL-1', 'Sem', 'Visser', '2014-02-03', 'ib', current_date - interval '3 years'),
             ('00000000-0000-0000-0000-0000000000c2', '00000000-0000-0000-0000-0000000000a1',
              'LL-2', 'Lotte', 'Visser', '2015-02-03', 'ib', NULL);",
    )
    .await
    .unwrap();
    let report = |args: &[&str]| -> Value {
        serde_json::from_str(&stdout(&run(&env, args))).expect("JSON report")
    };
    let dry = report(&["retention", "run", "--dry-run"]);
    assert_eq!(dry["dryRun"], true);
    assert_eq!(
        dry["purged"][0]["childId"],
        "00000000-0000-0000-0000-0000000000c1"
    );
    assert_eq!(dry["purged"].as_array().unwrap().len(), 1);
    let earlier = report(&["retention", "run", "--dry-run", "--on", "2020-01-01"]);
    assert_eq!(earlier["purged"], json!([]));
    // Judging by another day is for dry runs only.
    assert!(
        !run(&env, &["retention", "run", "--on", "2099-01-01"])
            .status
            .success()
    );

    let done = report(&["retention", "run"]);
    assert_eq!(done["dryRun"], false);
    assert_eq!(done["purged"], dry["purged"]);
    assert_eq!(report(&["retention", "run"])["purged"], json!([]));

    let short = run(
        &[
            ("DATABASE_URL", database.url.as_str()),
            ("RETENTION_ACCESS_LOG_MIN_YEARS", "5"),
        ],
        &["retention", "run", "--dry-run"],
    );
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("RETENTION_ACCESS_LOG_MIN_YEARS"));
}
