//! Webhooks: subscriptions and their refusals, signed CloudEvents deliveries verified by an
//! independent HMAC, retries against a receiver that fails and recovers, timeouts, disabling,
//! reactivation, redelivery, and two workers that never deliver an event twice.
//!
//! The receiver is a real HTTP server on a loopback port; the worker is driven round by round.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex},
    time::Duration,
};

use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, KeyInit, Mac};
use poem::{
    Body, Response, Server,
    endpoint::make,
    http::{HeaderMap, StatusCode},
    listener::{Acceptor, Listener, TcpListener},
};
use schakel::{
    config::{DatabaseConfig, WebhookConfig},
    db,
    domain::organisation::{OrganisationKind, Role},
    webhooks::{Dispatcher, Round},
};
use serde_json::{Value, json};
use sha2::Sha256;
use uuid::Uuid;

use crate::harness::{Member, Reply, TestApp};

/// What the receiver got.
#[derive(Clone, Debug)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

#[derive(Default)]
struct Script {
    /// Statuses to answer, in order; 200 once they run out.
    statuses: VecDeque<u16>,
    /// How long to take before answering.
    delay: Duration,
    /// A `Retry-After` to send with 429 and 503 answers.
    retry_after: Option<String>,
}

/// A webhook receiver on a loopback port.
pub struct Receiver {
    pub url: String,
    received: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<Script>>,
}

impl Receiver {
    pub async fn start() -> Self {
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let script: Arc<Mutex<Script>> = Arc::default();
        let (log, plan) = (received.clone(), script.clone());
        let endpoint = make(move |mut req: poem::Request| {
            let (log, plan) = (log.clone(), plan.clone());
            async move {
                let body = req.take_body().into_vec().await.unwrap_or_default();
                let (status, delay, retry_after) = {
                    let mut plan = plan.lock().unwrap();
                    let status = plan.statuses.pop_front().unwrap_or(200);
                    (status, plan.delay, plan.retry_after.clone())
                };
                log.lock().unwrap().push(Received {
                    headers: req.headers().clone(),
                    body,
                });
                tokio::time::sleep(delay).await;
                let mut response =
                    Response::builder().status(StatusCode::from_u16(status).unwrap());
                if (300..400).contains(&status) {
                    // A redirect back to this receiver: followed, it would arrive as a request.
                    response = response.header("location", "/elsewhere");
                }
                if let (429 | 503, Some(after)) = (status, retry_after) {
                    response = response.header("retry-after", after);
                }
                response.body(Body::empty())
            }
        });
        let acceptor = TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .expect("bind a loopback port");
        let address = acceptor.local_addr()[0]
            .as_socket_addr()
            .copied()
            .expect("a socket address");
        tokio::spawn(Server::new_with_acceptor(acceptor).run(endpoint));
        Self {
            url: format!("http://{address}/hooks"),
            received,
            script,
        }
    }

    fn ask_retry_after(&self, value: &str) {
        self.script.lock().unwrap().retry_after = Some(value.to_owned());
    }

    fn answer(&self, statuses: &[u16]) {
        self.script.lock().unwrap().statuses = statuses.iter().copied().collect();
    }

    fn take_time(&self, delay: Duration) {
        self.script.lock().unwrap().delay = delay;
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

/// Loopback allowed, retries due at once, so a test drives the schedule round by round.
pub(crate) fn config() -> WebhookConfig {
    WebhookConfig {
        allow_insecure_loopback: true,
        timeout: Duration::from_secs(5),
        retry_base: Duration::ZERO,
        retry_cap: Duration::ZERO,
        max_attempts: 4,
        disable_after_failures: 100,
        poll_interval: Duration::from_millis(20),
        ..WebhookConfig::default()
    }
}

pub(crate) struct Setup {
    pub(crate) app: TestApp,
    pub(crate) admin: Member,
    pub(crate) coordinator: Member,
    pub(crate) child: Uuid,
    pub(crate) receiver: Receiver,
}

pub(crate) async fn setup(config: WebhookConfig) -> Setup {
    let app = TestApp::with_webhooks(config).await;
    let coordinator = app
        .member(OrganisationKind::School, Role::CareCoordinator)
        .await;
    let admin = app
        .member_of(coordinator.organisation, Role::OrgAdmin)
        .await;
    let child = app.child(&coordinator, "WH-1").await;
    Setup {
        app,
        admin,
        coordinator,
        child,
        receiver: Receiver::start().await,
    }
}

async fn subscribe(s: &Setup, types: &[&str]) -> Reply {
    let reply = s
        .app
        .post("/v1/webhook-subscriptions")
        .by(&s.admin)
        .json(&json!({"url": s.receiver.url, "eventTypes": types, "description": "ParnasSys"}))
        .send()
        .await;
    reply.expect(201);
    reply
}

/// One round of the worker, once the events written so far are visible to it.
pub(crate) async fn round(s: &Setup, worker: &Dispatcher) -> Round {
    s.app.settle_events().await;
    worker.run_once().await.expect("round")
}

pub(crate) fn dispatcher(s: &Setup, config: WebhookConfig) -> Dispatcher {
    Dispatcher::new(s.app.state.pool.clone(), config).expect("dispatcher")
}

/// The independent check a receiver makes (Standard Webhooks): HMAC-SHA256 keyed with the
/// secret's bytes over `id.timestamp.body`.
pub fn verify(secret: &str, received: &Received) {
    let header = |name: &str| {
        received
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("no {name} header"))
            .to_owned()
    };
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").expect("whsec_ prefix"))
        .expect("base64 secret");
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&key).expect("key");
    mac.update(format!("{}.{}.", header("webhook-id"), header("webhook-timestamp")).as_bytes());
    mac.update(&received.body);
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    let signatures = header("webhook-signature");
    assert!(
        signatures.split(' ').any(|s| s == expected),
        "signature {signatures} does not verify"
    );
    let timestamp: i64 = header("webhook-timestamp").parse().expect("unix seconds");
    assert!((chrono::Utc::now().timestamp() - timestamp).abs() < 60);
}

fn webhook_id(received: &Received) -> String {
    received.headers["webhook-id"].to_str().unwrap().to_owned()
}

pub(crate) async fn deliveries(s: &Setup, subscription: &str) -> Vec<Value> {
    let reply = s
        .app
        .get(&format!(
            "/v1/webhook-subscriptions/{subscription}/deliveries"
        ))
        .by(&s.admin)
        .send()
        .await;
    reply.expect(200);
    reply.body["items"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn an_org_admin_subscribes_and_sees_the_secret_once() {
    let s = setup(config()).await;
    let created = subscribe(&s, &["signal.recorded", "feedback.sent", "signal.recorded"]).await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        created.header("location"),
        Some(format!("/v1/webhook-subscriptions/{id}").as_str())
    );
    let secret = created.body["secret"].as_str().unwrap();
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").expect("whsec_"))
        .expect("base64");
    assert_eq!(key.len(), 32);
    assert_eq!(created.body["status"], "active");
    assert_eq!(
        created.body["eventTypes"],
        json!(["signal.recorded", "feedback.sent"]),
        "duplicates are dropped"
    );

    let read = s
        .app
        .get(&format!("/v1/webhook-subscriptions/{id}"))
        .by(&s.admin)
        .send()
        .await;
    read.expect(200);
    assert!(
        read.body.get("secret").is_none(),
        "the secret is shown once"
    );
    assert!(!read.text.contains(secret));
    let tag = read.header("etag").unwrap().to_owned();
    s.app
        .get(&format!("/v1/webhook-subscriptions/{id}"))
        .by(&s.admin)
        .header("if-none-match", &tag)
        .send()
        .await
        .expect(304);

    let listed = s
        .app
        .get("/v1/webhook-subscriptions")
        .by(&s.admin)
        .send()
        .await;
    listed.expect(200);
    assert_eq!(listed.body["items"][0]["id"], id.as_str());
    assert!(!listed.text.contains(secret));

    s.app
        .delete(&format!("/v1/webhook-subscriptions/{id}"))
        .by(&s.admin)
        .header("if-match", "\"stale\"")
        .send()
        .await
        .expect_problem(412, "precondition-failed");
    s.app
        .delete(&format!("/v1/webhook-subscriptions/{id}"))
        .by(&s.admin)
        .header("if-match", &tag)
        .send()
        .await
        .expect(204);
    s.app
        .get(&format!("/v1/webhook-subscriptions/{id}"))
        .by(&s.admin)
        .send()
        .await
        .expect_problem(404, "not-found");
    // Who pointed the organisation's events where is in its access log.
    let logged: Vec<(String, String, String)> = {
        use diesel::{ExpressionMethods, QueryDsl};
        use diesel_async::RunQueryDsl;
        use schakel::db::schema::access_log;
        let mut conn = s.app.conn().await;
        access_log::table
            .filter(access_log::resource_id.eq(id.parse::<Uuid>().unwrap()))
            .order(access_log::id)
            .select((
                access_log::action,
                access_log::resource_type,
                access_log::actor_sub,
            ))
            .load(&mut conn)
            .await
            .expect("access log")
    };
    let admin = s.admin.sub.clone();
    assert_eq!(
        logged,
        [
            (
                "create".into(),
                "webhook_subscription".into(),
                admin.clone()
            ),
            ("update".into(), "webhook_subscription".into(), admin),
        ]
    );
    // A deleted subscription receives nothing.
    s.app
        .signal(&s.coordinator, s.child, "Na verwijderen.")
        .await;
    round(&s, &dispatcher(&s, config())).await;
    assert!(s.receiver.received().is_empty());
}

#[tokio::test]
async fn subscriptions_are_refused_with_reasons_and_hidden_from_other_organisations() {
    let s = setup(config()).await;
    let teacher = s.app.member_of(s.admin.organisation, Role::Teacher).await;
    let post = |member: &Member, body: Value| {
        s.app
            .post("/v1/webhook-subscriptions")
            .by(member)
            .json(&body)
            .send()
    };
    post(
        &teacher,
        json!({"url": "https://a.example/h", "eventTypes": ["signal.recorded"]}),
    )
    .await
    .expect_problem(403, "forbidden");
    for (body, param) in [
        (
            json!({"url": "http://school.example/h", "eventTypes": ["signal.recorded"]}),
            "url",
        ),
        (
            json!({"url": "ftp://school.example/h", "eventTypes": ["signal.recorded"]}),
            "url",
        ),
        (
            json!({"url": "not a url", "eventTypes": ["signal.recorded"]}),
            "url",
        ),
        (
            json!({"url": "https://u:p@school.example/h", "eventTypes": ["signal.recorded"]}),
            "url",
        ),
        (
            json!({"url": "https://a.example/h", "eventTypes": []}),
            "eventTypes",
        ),
        (
            json!({"url": "https://a.example/h", "eventTypes": ["signal.deleted"]}),
            "eventTypes",
        ),
        (json!({"url": "https://a.example/h"}), "eventTypes"),
    ] {
        let reply = post(&s.admin, body.clone()).await;
        reply.expect_problem(400, "invalid-input");
        let named = reply.invalid_params();
        assert!(
            named.len() == 1 && named[0].starts_with(param),
            "{body}: {named:?}"
        );
    }

    // Plain http to loopback only where the server allows it.
    let strict = TestApp::new().await;
    let admin = strict
        .member(OrganisationKind::School, Role::OrgAdmin)
        .await;
    let refused = strict
        .post("/v1/webhook-subscriptions")
        .by(&admin)
        .json(&json!({"url": s.receiver.url, "eventTypes": ["signal.recorded"]}))
        .send()
        .await;
    refused.expect_problem(400, "invalid-input");
    assert!(refused.text.contains("WEBHOOK_ALLOW_INSECURE_LOOPBACK"));

    // Another organisation's subscription looks exactly like none.
    let created = subscribe(&s, &["signal.recorded"]).await;
    let id = created.body["id"].as_str().unwrap();
    let stranger = s.app.member(OrganisationKind::School, Role::OrgAdmin).await;
    let missing = Uuid::now_v7();
    for path in [
        "/v1/webhook-subscriptions/{}",
        "/v1/webhook-subscriptions/{}/deliveries",
    ] {
        let theirs = s
            .app
            .get(&path.replace("{}", id))
            .by(&stranger)
            .send()
            .await;
        let nothing = s
            .app
            .get(&path.replace("{}", &missing.to_string()))
            .by(&stranger)
            .send()
            .await;
        theirs.expect_problem(404, "not-found");
        assert_eq!(
            theirs.problem_without_instance(),
            nothing.problem_without_instance()
        );
    }
    s.app
        .delete(&format!("/v1/webhook-subscriptions/{id}"))
        .by(&stranger)
        .send()
        .await
        .expect_problem(404, "not-found");
    let theirs = s
        .app
        .get("/v1/webhook-subscriptions")
        .by(&stranger)
        .send()
        .await;
    assert_eq!(theirs.body["items"], json!([]));
}

#[tokio::test]
async fn events_arrive_as_signed_cloud_events_with_ids_only() {
    let s = setup(config()).await;
    let before = s
        .app
        .signal(&s.coordinator, s.child, "Voor het abonnement.")
        .await;
    let created = subscribe(&s, &["signal.recorded"]).await;
    let secret = created.body["secret"].as_str().unwrap().to_owned();
    let subscription = created.body["id"].as_str().unwrap().to_owned();
    let signal = s.app.signal(&s.coordinator, s.child, "Blauwe plek.").await;
    // Not subscribed to: guardians.
    s.app
        .post(&format!("/v1/children/{}/guardians", s.child))
        .by(&s.coordinator)
        .json(&json!({"name": "Peter de Boer", "relationship": "father",
                      "parentalAuthority": "yes", "authoritySource": "gezagsregister"}))
        .send()
        .await
        .expect(201);

    let outcome = round(&s, &dispatcher(&s, config())).await;
    assert_eq!(
        outcome,
        Round {
            fanned_out: 1,
            attempted: 1,
            delivered: 1
        }
    );
    let received = s.receiver.received();
    assert_eq!(
        received.len(),
        1,
        "only the subscribed event after subscribing"
    );
    let delivery = &received[0];
    verify(&secret, delivery);
    assert_eq!(
        delivery.headers["content-type"],
        "application/cloudevents+json; charset=utf-8"
    );
    let event: Value = serde_json::from_slice(&delivery.body).expect("JSON body");
    assert_eq!(event["specversion"], "1.0");
    assert_eq!(event["type"], "signal.recorded");
    assert_eq!(event["source"], "/v1/events");
    assert_eq!(event["id"], webhook_id(delivery));
    assert_eq!(event["data"]["resource"]["id"], signal.to_string());
    assert_eq!(
        event["data"]["resource"]["href"],
        format!("/v1/signals/{signal}")
    );
    assert_ne!(event["data"]["resource"]["id"], before.to_string());
    let text = String::from_utf8_lossy(&delivery.body);
    for private in ["Blauwe plek", "Noah", "Boer"] {
        assert!(!text.contains(private), "the delivery leaks {private:?}");
    }

    // The same id as in the feed.
    let feed = s
        .app
        .get("/v1/events?types=signal.recorded")
        .by(&s.coordinator)
        .send()
        .await;
    let feed_id = feed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["resource"]["id"] == signal.to_string())
        .map(|e| e["id"].clone())
        .unwrap();
    assert_eq!(event["id"], feed_id);

    let listed = deliveries(&s, &subscription).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["status"], "delivered");
    assert_eq!(listed[0]["attempts"], 1);
    assert_eq!(listed[0]["lastStatusCode"], 200);
    assert_eq!(listed[0]["eventId"], feed_id);
    assert_eq!(listed[0]["eventType"], "signal.recorded");

    // Nothing more to do.
    let idle = round(&s, &dispatcher(&s, config())).await;
    assert_eq!(idle, Round::default());
    assert_eq!(s.receiver.received().len(), 1);
}

#[tokio::test]
async fn failures_are_retried_with_the_same_id_until_the_receiver_recovers() {
    let s = setup(config()).await;
    let created = subscribe(&s, &["signal.recorded"]).await;
    let secret = created.body["secret"].as_str().unwrap().to_owned();
    let subscription = created.body["id"].as_str().unwrap().to_owned();
    s.receiver.answer(&[500, 307]);
    s.app.signal(&s.coordinator, s.child, "Blauwe plek.").await;

    let worker = dispatcher(&s, config());
    let first = round(&s, &worker).await;
    assert_eq!((first.attempted, first.delivered), (1, 0));
    let failing = deliveries(&s, &subscription).await;
    assert_eq!(failing[0]["status"], "pending");
    assert_eq!(failing[0]["lastStatusCode"], 500);
    assert!(failing[0]["lastError"].as_str().unwrap().contains("500"));
    assert!(failing[0]["nextAttemptAt"].is_string());
    let subscribed = s
        .app
        .get(&format!("/v1/webhook-subscriptions/{subscription}"))
        .by(&s.admin)
        .send()
        .await;
    assert_eq!(subscribed.body["consecutiveFailures"], 1);

    // A redirect is not followed: it is a failure like any other.
    assert_eq!(round(&s, &worker).await.delivered, 0);
    assert_eq!(s.receiver.received().len(), 2);
    let redirected = deliveries(&s, &subscription).await;
    assert_eq!(redirected[0]["lastStatusCode"], 307);
    assert_eq!(round(&s, &worker).await.delivered, 1);
    let received = s.receiver.received();
    assert_eq!(received.len(), 3);
    let ids: Vec<String> = received.iter().map(webhook_id).collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    for attempt in &received {
        verify(&secret, attempt);
    }
    let delivered = deliveries(&s, &subscription).await;
    assert_eq!(delivered[0]["status"], "delivered");
    assert_eq!(delivered[0]["attempts"], 3);
    assert!(delivered[0].get("nextAttemptAt").is_none());
    let recovered = s
        .app
        .get(&format!("/v1/webhook-subscriptions/{subscription}"))
        .by(&s.admin)
        .send()
        .await;
    assert_eq!(recovered.body["consecutiveFailures"], 0);
}

#[tokio::test]
async fn a_delivery_fails_for_good_after_its_attempts_and_can_be_redelivered() {
    let s = setup(config()).await;
    let created = subscribe(&s, &["signal.recorded"]).await;
    let subscription = created.body["id"].as_str().unwrap().to_owned();
    s.receiver.answer(&[500; 10]);
    s.app.signal(&s.coordinator, s.child, "Blauwe plek.").await;

    let worker = dispatcher(&s, config());
    for _ in 0..6 {
        round(&s, &worker).await;
    }
    assert_eq!(
        s.receiver.received().len(),
        4,
        "max_attempts bounds the retries"
    );
    let failed = deliveries(&s, &subscription).await;
    assert_eq!(failed[0]["status"], "failed");
    assert_eq!(failed[0]["attempts"], 4);
    let failed_only = s
        .app
        .get(&format!(
            "/v1/webhook-subscriptions/{subscription}/deliveries?status=failed"
        ))
        .by(&s.admin)
        .send()
        .await;
    assert_eq!(failed_only.body["items"].as_array().unwrap().len(), 1);
    let delivered_only = s
        .app
        .get(&format!(
            "/v1/webhook-subscriptions/{subscription}/deliveries?status=delivered"
        ))
        .by(&s.admin)
        .send()
        .await;
    assert_eq!(delivered_only.body["items"], json!([]));

    let delivery = failed[0]["id"].as_str().unwrap();
    let path = format!("/v1/webhook-subscriptions/{subscription}/deliveries/{delivery}");
    let read = s.app.get(&path).by(&s.admin).send().await;
    read.expect(200);
    let tag = read.header("etag").unwrap().to_owned();
    s.app
        .get(&path)
        .by(&s.admin)
        .header("if-none-match", &tag)
        .send()
        .await
        .expect(304);

    let teacher = s.app.member_of(s.admin.organisation, Role::Teacher).await;
    s.app
        .post(&format!("{path}/redelivery"))
        .by(&teacher)
        .send()
        .await
        .expect_problem(403, "forbidden");
    let stranger = s.app.member(OrganisationKind::School, Role::OrgAdmin).await;
    s.app
        .post(&format!("{path}/redelivery"))
        .by(&stranger)
        .send()
        .await
        .expect_problem(404, "not-found");
    s.app
        .post(&format!("{path}/redelivery"))
        .by(&s.admin)
        .header("if-match", "\"stale\"")
        .send()
        .await
        .expect_problem(412, "precondition-failed");
    let queued = s
        .app
        .post(&format!("{path}/redelivery"))
        .by(&s.admin)
        .header("if-match", &tag)
        .send()
        .await;
    queued.expect(202);
    assert_eq!(queued.body["status"], "pending");
    assert_eq!(queued.body["attempts"], 0);

    s.receiver.answer(&[]); // the receiver works again
    assert_eq!(round(&s, &worker).await.delivered, 1);
    let received = s.receiver.received();
    assert_eq!(received.len(), 5);
    assert_eq!(webhook_id(&received[4]), webhook_id(&received[0]));
    let redelivered = s.app.get(&path).by(&s.admin).send().await;
    assert_eq!(redelivered.body["status"], "delivered");
    assert_eq!(redelivered.body["attempts"], 1);
}

#[tokio::test]
async fn a_timed_out_attempt_is_retried_and_is_the_only_duplicate() {
    let config = WebhookConfig {
        timeout: Duration::from_millis(300),
        ..config()
    };
    let s = setup(config.clone()).await;
    let created = subscribe(&s, &["signal.recorded"]).await;
    let subscription = created.body["id"].as_str().unwrap().to_owned();
    s.app.signal(&s.coordinator, s.child, "Blauwe plek.").await;

    s.receiver.take_time(Duration::from_secs(2));
    let worker = dispatcher(&s, config);
    assert_eq!(round(&s, &worker).await.delivered, 0);
    let pending = deliveries(&s, &subscription).await;
    assert_eq!(pending[0]["status"], "pending");
    assert!(pending[0].get("lastStatusCode").is_none());
    assert!(
        pending[0]["lastError"]
            .as_str()
            .unwrap()
            .contains("did not answer within"),
        "{}",
        pending[0]
    );

    s.receiver.take_time(Duration::ZERO);
    assert_eq!(round(&s, &worker).await.delivered, 1);
    let received = s.receiver.received();
    assert_eq!(
        received.len(),
        2,
        "the timed-out attempt reached the receiver too"
    );
    assert_eq!(webhook_id(&received[0]), webhook_id(&received[1]));
}

#[tokio::test]
async fn a_run_of_failures_disables_the_subscription_until_reactivated() {
    let config = WebhookConfig {
        disable_after_failures: 3,
        max_attempts: 10,
        ..config()
    };
    let s = setup(config.clone()).await;
    let created = subscribe(&s, &["signal.recorded"]).await;
    let subscription = created.body["id"].as_str().unwrap().to_owned();
    s.receiver.answer(&[500; 3]);
    s.app.signal(&s.coordinator, s.child, "Blauwe plek.").await;

    let worker = dispatcher(&s, config);
    for _ in 0..5 {
        round(&s, &worker).await;
    }
    assert_eq!(s.receiver.received().len(), 3, "no attempts once disabled");
    let path = format!("/v1/webhook-subscriptions/{subscription}");
    let disabled = s.app.get(&path).by(&s.admin).send().await;
    assert_eq!(disabled.body["status"], "disabled");
    assert_eq!(disabled.body["consecutiveFailures"], 3);
    assert!(disabled.body["disabledAt"].is_string());
    assert!(
        disabled.body["disabledReason"]
            .as_str()
            .unwrap()
            .contains('3')
    );

    // The organisation hears of it in its feed.
    let feed = s
        .app
        .get("/v1/events?types=webhook_subscription.disabled")
        .by(&s.admin)
        .send()
        .await;
    feed.expect(200);
    assert_eq!(feed.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        feed.body["items"][0]["resource"]["id"],
        subscription.as_str()
    );
    assert_eq!(feed.body["items"][0]["resource"]["href"], path.as_str());

    // Redelivery waits for reactivation.
    let pending = deliveries(&s, &subscription).await;
    let delivery = pending[0]["id"].as_str().unwrap();
    s.app
        .post(&format!("{path}/deliveries/{delivery}/redelivery"))
        .by(&s.admin)
        .send()
        .await
        .expect_problem(409, "webhook-subscription-disabled");

    // Events while disabled are kept for when it is back.
    let while_disabled = s
        .app
        .signal(&s.coordinator, s.child, "Tijdens storing.")
        .await;
    s.app
        .post(&format!("{path}/reactivation"))
        .by(&s.admin)
        .header("if-match", "\"stale\"")
        .send()
        .await
        .expect_problem(412, "precondition-failed");
    let tag = disabled.header("etag").unwrap().to_owned();
    let reactivated = s
        .app
        .post(&format!("{path}/reactivation"))
        .by(&s.admin)
        .header("if-match", &tag)
        .send()
        .await;
    reactivated.expect(200);
    assert_eq!(reactivated.body["status"], "active");
    assert_eq!(reactivated.body["consecutiveFailures"], 0);
    assert!(reactivated.body.get("disabledAt").is_none());

    let outcome = round(&s, &worker).await;
    assert_eq!(
        outcome.delivered, 2,
        "the pending delivery and the one made while disabled"
    );
    let bodies: Vec<Value> = s
        .receiver
        .received()
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert!(
        bodies
            .iter()
            .any(|b| b["data"]["resource"]["id"] == while_disabled.to_string())
    );
}

#[tokio::test]
async fn two_workers_deliver_every_event_exactly_once() {
    let s = setup(config()).await;
    subscribe(&s, &["signal.recorded"]).await;
    let extra = subscribe(&s, &["signal.recorded"]).await;
    let extra_secret = extra.body["secret"].as_str().unwrap().to_owned();
    const EVENTS: usize = 25;
    for n in 0..EVENTS {
        s.app
            .signal(&s.coordinator, s.child, &format!("Signaal {n}."))
            .await;
    }
    // Two processes: each its own pool, as two `schakel serve`s would have.
    let pool = || {
        db::pool(&DatabaseConfig {
            url: s.app.db.url.clone(),
            migration_url: s.app.db.url.clone(),
            runtime_role: None,
            pool_size: 4,
            statement_timeout: Duration::from_secs(10),
        })
        .expect("pool")
    };
    let workers = [
        Dispatcher::new(pool(), config()).expect("worker"),
        Dispatcher::new(pool(), config()).expect("worker"),
    ];
    s.app.settle_events().await;
    let drain = |worker: Dispatcher| async move {
        let mut delivered = 0;
        let mut idle = 0;
        while idle < 3 {
            let round = worker.run_once().await.expect("round");
            delivered += round.delivered;
            idle = if round.attempted == 0 { idle + 1 } else { 0 };
        }
        delivered
    };
    let [a, b] = workers;
    let (by_a, by_b) = tokio::join!(drain(a), drain(b));
    assert_eq!(by_a + by_b, 2 * EVENTS, "a: {by_a}, b: {by_b}");

    let mut per_target: HashMap<(String, String), usize> = HashMap::new();
    for received in s.receiver.received() {
        let event: Value = serde_json::from_slice(&received.body).unwrap();
        // Which subscription: the one whose secret verifies it.
        let key = STANDARD
            .decode(extra_secret.strip_prefix("whsec_").unwrap())
            .unwrap();
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&key).unwrap();
        mac.update(
            format!(
                "{}.{}.",
                webhook_id(&received),
                received.headers["webhook-timestamp"].to_str().unwrap()
            )
            .as_bytes(),
        );
        mac.update(&received.body);
        let target = if received.headers["webhook-signature"]
            == format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes())).as_str()
        {
            "extra"
        } else {
            "first"
        };
        *per_target
            .entry((target.to_owned(), event["id"].as_str().unwrap().to_owned()))
            .or_default() += 1;
    }
    assert_eq!(per_target.len(), 2 * EVENTS);
    assert!(
        per_target.values().all(|count| *count == 1),
        "duplicates: {per_target:?}"
    );
}

#[tokio::test]
async fn the_worker_loop_delivers_and_stops_on_request() {
    let s = setup(config()).await;
    subscribe(&s, &["signal.recorded"]).await;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(dispatcher(&s, config()).run(stopped));
    s.app.signal(&s.coordinator, s.child, "Blauwe plek.").await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while s.receiver.received().is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(s.receiver.received().len(), 1);
    stop.send(true).expect("stop");
    tokio::time::timeout(Duration::from_secs(10), worker)
        .await
        .expect("the worker stops")
        .expect("no panic");
}

/// A receiver answering 410 Gone never wants these events again: the subscription is disabled
/// at once (not after a run of failures) and the feed says so.
#[tokio::test]
async fn a_receiver_answering_410_gone_disables_the_subscription_at_once() {
    let s = setup(config()).await;
    let created = subscribe(&s, &["signal.recorded"]).await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    s.receiver.answer(&[410]);
    s.app.signal(&s.coordinator, s.child, "Blauwe plek.").await;
    let worker = dispatcher(&s, config());
    assert_eq!(round(&s, &worker).await.delivered, 0);

    let records = deliveries(&s, &id).await;
    assert_eq!(records[0]["status"], "failed", "{}", records[0]);
    assert_eq!(records[0]["lastStatusCode"], 410);
    let subscription = s
        .app
        .get(&format!("/v1/webhook-subscriptions/{id}"))
        .by(&s.admin)
        .send()
        .await;
    assert_eq!(
        subscription.body["status"], "disabled",
        "{}",
        subscription.body
    );
    assert!(
        subscription.body["disabledReason"]
            .as_str()
            .unwrap()
            .contains("410"),
        "{}",
        subscription.body
    );
    // Nothing more is attempted.
    s.app.signal(&s.coordinator, s.child, "Nog een plek.").await;
    assert_eq!(round(&s, &worker).await.attempted, 0);
    assert_eq!(s.receiver.received().len(), 1);
}

/// `Retry-After` on a 429 or 503 is honoured: the next attempt waits at least that long (within
/// the backoff's cap), even where the backoff alone would retry at once.
#[tokio::test]
async fn retry_after_on_429_and_503_is_honoured_within_the_cap() {
    let patient = WebhookConfig {
        retry_cap: Duration::from_secs(3600),
        ..config()
    };
    let s = setup(patient.clone()).await;
    let created = subscribe(&s, &["signal.recorded"]).await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    s.receiver.answer(&[503]);
    s.receiver.ask_retry_after("120");
    s.app.signal(&s.coordinator, s.child, "Blauwe plek.").await;
    let worker = dispatcher(&s, patient);
    let before = chrono::Utc::now();
    assert_eq!(round(&s, &worker).await.delivered, 0);

    let records = deliveries(&s, &id).await;
    assert_eq!(records[0]["status"], "pending");
    assert_eq!(records[0]["lastStatusCode"], 503);
    let next: chrono::DateTime<chrono::Utc> = records[0]["nextAttemptAt"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let waited = (next - before).num_seconds();
    assert!((115..=125).contains(&waited), "next attempt in {waited} s");
    // Not due yet: the next round leaves it alone.
    assert_eq!(round(&s, &worker).await.attempted, 0);
}

/// The stored secrets of every subscription, as the database holds them.
async fn stored_secrets(s: &Setup) -> Vec<String> {
    use diesel::QueryDsl;
    use diesel_async::RunQueryDsl;
    use schakel::db::schema::webhook_subscriptions;
    let mut conn = s.app.conn().await;
    let rows: Vec<(String, Option<String>)> = webhook_subscriptions::table
        .select((
            webhook_subscriptions::secret,
            webhook_subscriptions::previous_secret,
        ))
        .load(&mut conn)
        .await
        .unwrap();
    rows.into_iter()
        .flat_map(|(secret, previous)| std::iter::once(secret).chain(previous))
        .collect()
}

fn signatures(received: &Received) -> usize {
    received.headers["webhook-signature"]
        .to_str()
        .unwrap()
        .split(' ')
        .count()
}

/// Secrets are encrypted at rest; a rotation returns the new secret once and, for the overlap,
/// deliveries carry both signatures — each verified by an independent HMAC — then only the new.
#[tokio::test]
async fn secrets_are_encrypted_at_rest_and_a_rotation_signs_with_both_for_a_while() {
    let s = setup(config()).await;
    let created = subscribe(&s, &["signal.recorded"]).await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    let old = created.body["secret"].as_str().unwrap().to_owned();
    assert!(
        stored_secrets(&s)
            .await
            .iter()
            .all(|v| !v.contains("whsec_") && v.starts_with("v1:"))
    );

    let rotated = s
        .app
        .post(&format!("/v1/webhook-subscriptions/{id}/secret-rotation"))
        .by(&s.admin)
        .send()
        .await;
    rotated.expect(200);
    let new = rotated.body["secret"].as_str().unwrap().to_owned();
    assert!(new.starts_with("whsec_") && new != old);
    let until: chrono::DateTime<chrono::Utc> = rotated.body["previousSecretExpiresAt"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let overlap = until - chrono::Utc::now();
    assert!(overlap > chrono::Duration::hours(23) && overlap <= chrono::Duration::hours(24));
    let stored = stored_secrets(&s).await;
    assert_eq!(stored.len(), 2);
    assert!(stored.iter().all(|v| !v.contains("whsec_")), "{stored:?}");

    s.app.signal(&s.coordinator, s.child, "Blauwe plek.").await;
    let worker = dispatcher(&s, config());
    assert_eq!(round(&s, &worker).await.delivered, 1);
    let first = &s.receiver.received()[0];
    assert_eq!(signatures(first), 2);
    verify(&new, first);
    verify(&old, first);

    // The overlap ends: the old secret no longer signs.
    let mut conn = s.app.db.connect().await;
    diesel_async::SimpleAsyncConnection::batch_execute(
        &mut conn,
        "UPDATE webhook_subscriptions SET previous_secret_expires_at = now() - interval '1 second'",
    )
    .await
    .unwrap();
    s.app.signal(&s.coordinator, s.child, "Nog een plek.").await;
    assert_eq!(round(&s, &worker).await.delivered, 1);
    let second = &s.receiver.received()[1];
    assert_eq!(signatures(second), 1);
    verify(&new, second);

    // Only the organisation's org_admin rotates; another organisation's id is not found.
    s.app
        .post(&format!("/v1/webhook-subscriptions/{id}/secret-rotation"))
        .by(&s.coordinator)
        .send()
        .await
        .expect_problem(403, "forbidden");
    let stranger = s.app.member(OrganisationKind::School, Role::OrgAdmin).await;
    s.app
        .post(&format!("/v1/webhook-subscriptions/{id}/secret-rotation"))
        .by(&stranger)
        .send()
        .await
        .expect(404);
}

/// Secrets stored before encryption existed, or under a key being rotated out, are encrypted
/// under the current key when a worker starts; deliveries keep verifying with the same secret.
#[tokio::test]
async fn legacy_and_old_key_secrets_are_resealed_under_the_current_key() {
    use schakel::webhooks::{SecretKeys, reseal_secrets};
    let old_line = SecretKeys::generate_line("old");
    let old_keys = WebhookConfig {
        secret_keys: SecretKeys::parse(&old_line).unwrap(),
        ..config()
    };
    let s = setup(old_keys.clone()).await;
    let created = subscribe(&s, &["signal.recorded"]).await;
    let secret = created.body["secret"].as_str().unwrap().to_owned();
    assert!(stored_secrets(&s).await[0].starts_with("v1:old:"));

    // As before encryption: the secret in the clear.
    let mut conn = s.app.db.connect().await;
    diesel_async::SimpleAsyncConnection::batch_execute(
        &mut conn,
        &format!("UPDATE webhook_subscriptions SET secret = '{secret}'"),
    )
    .await
    .unwrap();
    let pool = &s.app.state.pool;
    assert_eq!(
        reseal_secrets(pool, &old_keys.secret_keys).await.unwrap(),
        1
    );
    assert_eq!(
        reseal_secrets(pool, &old_keys.secret_keys).await.unwrap(),
        0
    );
    assert!(stored_secrets(&s).await[0].starts_with("v1:old:"));

    // A new key first, the old one kept to read with: the secret moves to the new key.
    let rotated = WebhookConfig {
        secret_keys: SecretKeys::parse(&format!("{},{old_line}", SecretKeys::generate_line("new")))
            .unwrap(),
        ..config()
    };
    assert_eq!(reseal_secrets(pool, &rotated.secret_keys).await.unwrap(), 1);
    assert!(stored_secrets(&s).await[0].starts_with("v1:new:"));

    s.app.signal(&s.coordinator, s.child, "Blauwe plek.").await;
    let worker = dispatcher(&s, rotated);
    assert_eq!(round(&s, &worker).await.delivered, 1);
    verify(&secret, &s.receiver.received()[0]);

    // Without the key it was encrypted with, a worker cannot sign: the delivery says so.
    let stranger = WebhookConfig {
        secret_keys: SecretKeys::parse(&SecretKeys::generate_line("other")).unwrap(),
        ..config()
    };
    s.app.signal(&s.coordinator, s.child, "Nog een plek.").await;
    let worker = dispatcher(&s, stranger);
    assert_eq!(round(&s, &worker).await.delivered, 0);
    assert_eq!(s.receiver.received().len(), 1);
}
