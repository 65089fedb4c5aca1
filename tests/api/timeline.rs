//! A child's timeline merges every record the caller may see, newest first, in pages.

use schakel::domain::organisation::{OrganisationKind, Role};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{Member, TestApp};

async fn timeline(app: &TestApp, member: &Member, child: Uuid, limit: u32) -> Vec<Value> {
    let mut items = Vec::new();
    let mut path = format!("/v1/children/{child}/timeline?limit={limit}");
    loop {
        let reply = app.get(&path).by(member).send().await;
        reply.expect(200);
        let page = reply.body["items"].as_array().unwrap();
        assert!(page.len() <= limit as usize);
        items.extend(page.iter().cloned());
        match reply.body["nextCursor"].as_str() {
            Some(cursor) => {
                path = format!("/v1/children/{child}/timeline?limit={limit}&cursor={cursor}")
            }
            None => return items,
        }
    }
}

fn types(items: &[Value]) -> Vec<&str> {
    items.iter().map(|i| i["type"].as_str().unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_timeline_merges_records_newest_first_and_pages() {
    let app = TestApp::new().await;
    let coordinator = app
        .member(OrganisationKind::School, Role::CareCoordinator)
        .await;
    let teacher = app.member_of(coordinator.organisation, Role::Teacher).await;
    let other_teacher = app.member_of(coordinator.organisation, Role::Teacher).await;
    let child = app.child(&coordinator, "LL-1").await;
    let by_teacher = app.signal(&teacher, child, "Huilt vaak in de klas.").await;
    app.signal(&other_teacher, child, "Komt vaak te laat.")
        .await;
    app.post(&format!("/v1/children/{child}/guardians"))
        .by(&coordinator)
        .json(&json!({"name": "Mark de Boer", "relationship": "father",
                      "parentalAuthority": "yes", "authoritySource": "stated"}))
        .send()
        .await
        .expect(201);
    app.post(&format!("/v1/signals/{by_teacher}/revisions"))
        .by(&teacher)
        .json(&json!({
            "reason": "Aangevuld", "observedAt": "2026-11-20T08:30:00Z",
            "category": "behaviour_change", "source": "own_observation",
            "facts": "Huilt vaak in de klas, vooral op maandag.", "direction": "raises_concern"
        }))
        .send()
        .await
        .expect(201);

    let all = timeline(&app, &coordinator, child, 2).await;
    assert_eq!(
        types(&all),
        [
            "signal.revised",
            "guardian.added",
            "signal.recorded",
            "signal.recorded",
            "guardian.added",
            "child.created",
        ]
    );
    assert_eq!(
        all,
        timeline(&app, &coordinator, child, 200).await,
        "pages add up"
    );
    let revised = &all[0];
    assert_eq!(revised["actor"]["sub"], teacher.sub);
    assert_eq!(revised["resource"]["type"], "signal");
    assert_eq!(
        revised["resource"]["href"],
        format!("/v1/signals/{by_teacher}")
    );
    assert_eq!(
        revised["summary"],
        "Signal corrected: Behaviour change (raises concern)"
    );
    assert!(
        all.iter()
            .all(|i| !i["summary"].as_str().unwrap().contains("klas")),
        "summaries carry no free text"
    );
    let guardian_href = all[1]["resource"]["href"].as_str().unwrap();
    app.get(guardian_href)
        .by(&coordinator)
        .send()
        .await
        .expect(200);

    // A teacher sees the child's own entries and their own signals, not a colleague's.
    let seen_by_teacher = timeline(&app, &teacher, child, 50).await;
    assert_eq!(
        types(&seen_by_teacher),
        [
            "signal.revised",
            "guardian.added",
            "signal.recorded",
            "guardian.added",
            "child.created"
        ]
    );
    assert!(
        seen_by_teacher
            .iter()
            .filter(|i| i["type"] == "signal.recorded")
            .all(|i| i["actor"]["sub"] == teacher.sub)
    );

    // Each page read is one access-log entry about the child.
    let timeline_reads = app
        .access_log(child)
        .await
        .into_iter()
        .filter(|(action, resource, _, _)| action == "read" && resource == "timeline")
        .count();
    assert_eq!(timeline_reads, 3 + 1 + 1);
}
