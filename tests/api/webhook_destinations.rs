//! Webhook destinations (SSRF): refused at subscription time and again at every delivery when
//! they are, or resolve to, anything but public addresses — as IP literals in every form and as
//! names answered by a test resolver (no test sends traffic off loopback). Refusals say one
//! generic thing; a refused delivery connects nowhere and reads "could not be reached".

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use schakel::{config::WebhookConfig, webhooks::destination::NameLookup};
use serde_json::json;

use crate::webhooks::{config, deliveries, dispatcher, round, setup};

type Table = Arc<Mutex<HashMap<String, Vec<IpAddr>>>>;

fn table(entries: &[(&str, &str)]) -> Table {
    let mut map: HashMap<String, Vec<IpAddr>> = HashMap::new();
    for (name, ip) in entries {
        map.entry((*name).to_owned())
            .or_default()
            .push(ip.parse().unwrap());
    }
    Arc::new(Mutex::new(map))
}

/// Production settings (no loopback), names answered by `table`.
fn resolving(table: &Table) -> WebhookConfig {
    WebhookConfig {
        allow_insecure_loopback: false,
        lookup: NameLookup::table(table.clone()),
        ..config()
    }
}

#[tokio::test]
async fn internal_destinations_are_refused_when_subscribing_as_literals_and_as_names() {
    let names = table(&[
        ("receiver.example", "93.184.216.34"),
        ("receiver6.example", "2606:4700:4700::1111"),
        ("intranet.example", "10.0.0.5"),
        ("private.example", "192.168.1.20"),
        ("metadata.example", "169.254.169.254"),
        ("cgnat.example", "100.64.1.1"),
        ("loopback.example", "127.0.0.1"),
        ("ula.example", "fd00::5"),
        ("linklocal6.example", "fe80::1"),
        ("multicast.example", "239.1.1.1"),
        ("zero.example", "0.0.0.0"),
        ("mapped.example", "::ffff:10.0.0.5"),
        ("mixed.example", "93.184.216.34"),
        ("mixed.example", "10.0.0.5"),
    ]);
    let s = setup(resolving(&names)).await;
    let subscribe = |url: &'static str| {
        s.app
            .post("/v1/webhook-subscriptions")
            .by(&s.admin)
            .json(&json!({"url": url, "eventTypes": ["signal.recorded"]}))
            .send()
    };
    for allowed in [
        "https://receiver.example/hooks",
        "https://receiver6.example/hooks",
        "https://93.184.216.34/hooks",
    ] {
        subscribe(allowed).await.expect(201);
    }
    let mut messages = Vec::new();
    for refused in [
        "https://intranet.example/hooks",
        "https://private.example/hooks",
        "https://metadata.example/latest/meta-data",
        "https://cgnat.example/hooks",
        "https://loopback.example/hooks",
        "https://ula.example/hooks",
        "https://linklocal6.example/hooks",
        "https://multicast.example/hooks",
        "https://zero.example/hooks",
        "https://mapped.example/hooks",
        "https://mixed.example/hooks",
        "https://unknown.example/hooks",
        "https://127.0.0.1/hooks",
        "https://10.1.2.3/hooks",
        "https://172.16.0.1/hooks",
        "https://192.168.0.1/hooks",
        "https://169.254.169.254/latest/meta-data",
        "https://100.100.100.200/hooks",
        "https://224.0.0.251/hooks",
        "https://0.0.0.0/hooks",
        "https://[::1]/hooks",
        "https://[fc00::1]/hooks",
        "https://[fe80::1]/hooks",
        "https://[::ffff:127.0.0.1]/hooks",
        "https://[::ffff:a9fe:a9fe]/hooks",
        "https://[64:ff9b::a00:1]/hooks",
        "http://127.0.0.1:9000/hooks",
    ] {
        let reply = subscribe(refused).await;
        reply.expect_problem(400, "invalid-input");
        messages.push(reply.body["invalidParams"][0]["reason"].clone());
    }
    // One message for every internal address, so answers cannot map the network.
    let distinct: std::collections::HashSet<String> = messages[..messages.len() - 1]
        .iter()
        .map(|m| m.to_string())
        .collect();
    assert_eq!(distinct.len(), 1, "{distinct:?}");
}

/// DNS rebinding: the name was public when subscribing; at delivery it answers with an
/// internal address. The delivery connects nowhere and reads "could not be reached".
#[tokio::test]
async fn a_destination_that_turns_internal_is_refused_at_delivery_without_connecting() {
    let names = table(&[("receiver.example", "93.184.216.34")]);
    let s = setup(resolving(&names)).await;
    // A listener on loopback that must never see a connection.
    let trap = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = trap.local_addr().unwrap().port();
    let created = s
        .app
        .post("/v1/webhook-subscriptions")
        .by(&s.admin)
        .json(
            &json!({"url": format!("https://receiver.example:{port}/hooks"),
                      "eventTypes": ["signal.recorded"]}),
        )
        .send()
        .await;
    created.expect(201);
    let subscription = created.body["id"].as_str().unwrap().to_owned();

    names.lock().unwrap().insert(
        "receiver.example".into(),
        vec!["127.0.0.1".parse().unwrap()],
    );
    s.app.signal(&s.coordinator, s.child, "Blauwe plek.").await;
    let worker = dispatcher(&s, resolving(&names));
    assert_eq!(round(&s, &worker).await.delivered, 0);

    let records = deliveries(&s, &subscription).await;
    assert_eq!(records[0]["lastError"], "the receiver could not be reached");
    assert!(records[0].get("lastStatusCode").is_none());
    let connected = tokio::time::timeout(Duration::from_millis(300), trap.accept()).await;
    assert!(
        connected.is_err(),
        "the delivery connected to a loopback address"
    );
}

/// A literal allowed in development (loopback) is refused by a worker running without that
/// allowance: literals never reach the resolver, so the worker checks them itself.
#[tokio::test]
async fn a_literal_is_checked_again_at_delivery() {
    let s = setup(config()).await;
    let created = s
        .app
        .post("/v1/webhook-subscriptions")
        .by(&s.admin)
        .json(&json!({"url": s.receiver.url, "eventTypes": ["signal.recorded"]}))
        .send()
        .await;
    created.expect(201);
    let subscription = created.body["id"].as_str().unwrap().to_owned();
    s.app.signal(&s.coordinator, s.child, "Blauwe plek.").await;

    let strict = WebhookConfig {
        allow_insecure_loopback: false,
        ..config()
    };
    let worker = dispatcher(&s, strict);
    assert_eq!(round(&s, &worker).await.delivered, 0);
    assert!(
        s.receiver.received().is_empty(),
        "nothing reached the receiver"
    );
    let records = deliveries(&s, &subscription).await;
    assert_eq!(records[0]["lastError"], "the receiver could not be reached");

    // The development worker, allowed loopback, delivers it.
    let worker = dispatcher(&s, config());
    assert_eq!(round(&s, &worker).await.delivered, 1);
}
