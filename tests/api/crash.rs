//! Exactly once under a crash: the real binary is killed (`kill -9`) in the middle of a
//! concurrent write load with Idempotency-Keys, restarted, and every unanswered request is
//! retried with its key. No record may exist twice, and every acknowledged one must exist.

use std::{collections::HashMap, sync::Arc, time::Duration};

use diesel::{ExpressionMethods, QueryDsl};
use diesel_async::RunQueryDsl;
use schakel::db::schema::signals;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::{
    cli::{Server, run, stdout},
    harness::TestDb,
};

const WRITERS: usize = 8;
const PER_WRITER: usize = 30;

/// One intended change: its key and body, and what the client learned of it.
#[derive(Clone)]
struct Intent {
    key: String,
    facts: String,
    acknowledged: Option<String>,
}

async fn post(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    child: &str,
    intent: &Intent,
) -> Option<(u16, Value, bool)> {
    let reply = http
        .post(format!("{base}/v1/children/{child}/signals"))
        .bearer_auth(token)
        .header("idempotency-key", &intent.key)
        .json(
            &json!({"observedAt": "2026-11-20T08:30:00Z", "category": "behaviour_change",
                      "source": "own_observation", "facts": intent.facts,
                      "direction": "raises_concern"}),
        )
        .send()
        .await
        .ok()?;
    let status = reply.status().as_u16();
    let replayed = reply.headers().contains_key("idempotent-replayed");
    let body = reply.json::<Value>().await.ok()?;
    Some((status, body, replayed))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_under_write_load_leaves_no_duplicate_and_loses_no_acknowledged_write() {
    let database = TestDb::empty().await;
    let mut env = crate::harness::binary_env(&database.url);
    env.extend([
        ("DATABASE_POOL_SIZE", "8"),
        // The load below is one token's burst far beyond its write budget.
        ("RATE_LIMIT_WRITES_PER_MINUTE", "1000000"),
        ("RATE_LIMIT_READS_PER_MINUTE", "1000000"),
    ]);
    stdout(&run(&env, &["migrate"]));
    let demo: Value = serde_json::from_str(&stdout(&run(&env, &["demo", "--json"]))).unwrap();
    let token = demo["tokens"]["care_coordinator"]
        .as_str()
        .unwrap()
        .to_owned();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();

    let mut server = Server::start(&env);
    let child = http
        .post(format!("{}/v1/children", server.base_url))
        .bearer_auth(&token)
        .json(
            &json!({"externalRef": "CRASH-1", "givenName": "Noa", "familyName": "Jansen",
                      "dateOfBirth": "2016-03-01"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(child.status(), 201);
    let child = child.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let intents: Arc<Mutex<Vec<Intent>>> = Arc::new(Mutex::new(
        (0..WRITERS * PER_WRITER)
            .map(|i| Intent {
                key: uuid::Uuid::new_v4().to_string(),
                facts: format!("Waarneming {i}"),
                acknowledged: None,
            })
            .collect(),
    ));
    let mut attempted = 0;
    let mut crashes = 0;
    // Two rounds: load, kill -9 mid-way, restart.
    for round in 0..2 {
        let base = server.base_url.clone();
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let (http, base, token, child, intents) = (
                    http.clone(),
                    base.clone(),
                    token.clone(),
                    child.clone(),
                    intents.clone(),
                );
                tokio::spawn(async move {
                    for i in 0..PER_WRITER / 2 {
                        let index = (round * PER_WRITER / 2 + i) * WRITERS + w;
                        let intent = intents.lock().await[index].clone();
                        let Some((201, body, _)) =
                            post(&http, &base, &token, &child, &intent).await
                        else {
                            return; // the server is gone
                        };
                        intents.lock().await[index].acknowledged =
                            body["id"].as_str().map(str::to_owned);
                    }
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(250)).await;
        server.crash();
        crashes += 1;
        for writer in writers {
            writer.await.unwrap();
        }
        attempted += WRITERS * PER_WRITER / 2;
        server = Server::start(&env);
        // Every request of this round that got no answer is retried with its key.
        let base = server.base_url.clone();
        let pending: Vec<(usize, Intent)> = intents.lock().await[..attempted]
            .iter()
            .cloned()
            .enumerate()
            .filter(|(_, intent)| intent.acknowledged.is_none())
            .collect();
        let answered = attempted - pending.len() - (round * WRITERS * PER_WRITER / 2);
        // The crash must have hit a running load: some answered, some not.
        assert!(
            !pending.is_empty() && answered > 0,
            "round {round}: {answered} answered, {} unanswered — the crash missed the load",
            pending.len()
        );
        for (index, intent) in pending {
            let (status, body, _) = post(&http, &base, &token, &child, &intent)
                .await
                .expect("the restarted server answers");
            assert_eq!(status, 201, "{body}");
            intents.lock().await[index].acknowledged = body["id"].as_str().map(str::to_owned);
        }
    }

    let intents = intents.lock().await.clone();
    // A retry of an acknowledged request replays it: the same record, nothing new.
    for intent in intents.iter().take(5) {
        let (status, body, replayed) = post(&http, &server.base_url, &token, &child, intent)
            .await
            .unwrap();
        assert_eq!((status, replayed), (201, true));
        assert_eq!(body["id"].as_str(), intent.acknowledged.as_deref());
    }
    server.stop();

    let mut conn = database.connect().await;
    let stored: Vec<(uuid::Uuid, String)> = signals::table
        .inner_join(schakel::db::schema::signal_revisions::table)
        .filter(signals::child_id.eq(child.parse::<uuid::Uuid>().unwrap()))
        .select((signals::id, schakel::db::schema::signal_revisions::facts))
        .load(&mut conn)
        .await
        .unwrap();
    let mut per_facts: HashMap<&str, usize> = HashMap::new();
    for (_, facts) in &stored {
        *per_facts.entry(facts.as_str()).or_default() += 1;
    }
    let duplicates: Vec<_> = per_facts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(duplicates.is_empty(), "created twice: {duplicates:?}");
    let ids: Vec<String> = stored.iter().map(|(id, _)| id.to_string()).collect();
    for intent in &intents[..attempted] {
        let id = intent
            .acknowledged
            .as_ref()
            .expect("every intent ends acknowledged");
        assert!(ids.contains(id), "acknowledged {id} is missing");
    }
    assert_eq!(stored.len(), attempted, "one record per intended change");
    assert_eq!(crashes, 2);
}
