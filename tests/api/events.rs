//! The event feed: paging, filtering, who sees what, and events written with their change (the
//! outbox), never without it.

use diesel::{ExpressionMethods, QueryDsl};
use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
use schakel::{
    db::schema::{events, signals},
    domain::organisation::{OrganisationKind, Role},
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{Member, Reply, TestApp};

async fn feed(app: &TestApp, member: &Member, query: &str) -> Reply {
    app.settle_events().await;
    let reply = app
        .get(&format!("/v1/events{query}"))
        .by(member)
        .send()
        .await;
    reply.expect(200);
    reply
}

/// (type, resource type, resource id) of a page.
fn items(reply: &Reply) -> Vec<(String, String, String)> {
    reply.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap_or_default().to_owned(),
                e["resource"]["type"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                e["resource"]["id"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

async fn school(app: &TestApp) -> (Member, Member, Uuid) {
    let coordinator = app
        .member(OrganisationKind::School, Role::CareCoordinator)
        .await;
    let teacher = app.member_of(coordinator.organisation, Role::Teacher).await;
    let child = app.child(&coordinator, "EV-1").await;
    (coordinator, teacher, child)
}

#[tokio::test]
async fn the_feed_pages_oldest_first_and_never_carries_personal_data() {
    let app = TestApp::new().await;
    let (coordinator, teacher, child) = school(&app).await;
    let mut signals = Vec::new();
    for facts in [
        "Blauwe plek op de arm.",
        "Komt hongerig op school.",
        "Wil niet naar huis.",
    ] {
        signals.push(app.signal(&teacher, child, facts).await.to_string());
    }

    let all = feed(&app, &coordinator, "").await;
    // Registration with a guardian: the child and its guardian, both about the child.
    let expected: Vec<(String, String, String)> = [
        ("child.created".into(), "child".into(), child.to_string()),
        ("guardian.added".into(), "child".into(), child.to_string()),
    ]
    .into_iter()
    .chain(
        signals
            .iter()
            .map(|s| ("signal.recorded".into(), "signal".into(), s.clone())),
    )
    .collect();
    assert_eq!(items(&all), expected);
    let first = &all.body["items"][0];
    assert!(first["id"].as_str().unwrap().starts_with("evt_"));
    assert_eq!(first["resource"]["href"], format!("/v1/children/{child}"));
    assert!(first["occurredAt"].as_str().unwrap().ends_with('Z'));
    for private in ["Noah", "Boer", "Blauwe plek", "hongerig", "2013-04-02"] {
        assert!(!all.text.contains(private), "the feed leaks {private:?}");
    }

    // Two at a time, each page continuing where the last ended.
    let mut paged = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = feed(&app, &coordinator, &format!("?limit=2{cursor}")).await;
        let got = items(&page);
        let next = page.body["nextCursor"]
            .as_str()
            .expect("nextCursor")
            .to_owned();
        if got.is_empty() {
            // Polling at the end keeps the position.
            assert_eq!(cursor, format!("&after={next}"));
            break;
        }
        assert!(got.len() <= 2);
        paged.extend(got);
        cursor = format!("&after={next}");
    }
    assert_eq!(paged, expected);

    // New events appear after the cursor of the last poll.
    let later = app.signal(&teacher, child, "Nieuwe zorg.").await;
    let polled = feed(&app, &coordinator, &format!("?{}", &cursor[1..])).await;
    assert_eq!(
        items(&polled),
        vec![("signal.recorded".into(), "signal".into(), later.to_string())]
    );
}

#[tokio::test]
async fn the_feed_filters_by_type_and_refuses_unknown_types_and_cursors() {
    let app = TestApp::new().await;
    let (coordinator, teacher, child) = school(&app).await;
    let signal = app.signal(&teacher, child, "Blauwe plek.").await;

    let only_signals = feed(&app, &coordinator, "?types=signal.recorded").await;
    assert_eq!(
        items(&only_signals),
        vec![(
            "signal.recorded".into(),
            "signal".into(),
            signal.to_string()
        )]
    );
    let both = feed(
        &app,
        &coordinator,
        "?types=signal.recorded,%20child.created",
    )
    .await;
    assert_eq!(items(&both).len(), 2);
    let none = feed(&app, &coordinator, "?types=handoff.sent").await;
    assert_eq!(items(&none), vec![]);

    let unknown = app
        .get("/v1/events?types=signal.deleted")
        .by(&coordinator)
        .send()
        .await;
    unknown.expect_problem(400, "invalid-input");
    assert_eq!(unknown.invalid_params(), ["types"]);
    let garbage = app
        .get("/v1/events?after=not-a-cursor")
        .by(&coordinator)
        .send()
        .await;
    garbage.expect_problem(400, "invalid-input");
    assert_eq!(garbage.invalid_params(), ["after"]);
    app.get("/v1/events?limit=0")
        .by(&coordinator)
        .send()
        .await
        .expect_problem(400, "invalid-input");
    app.get("/v1/events")
        .send()
        .await
        .expect_problem(401, "unauthorized");
}

#[tokio::test]
async fn each_sees_events_about_what_they_may_read_and_other_organisations_nothing() {
    let app = TestApp::new().await;
    let (coordinator, teacher, child) = school(&app).await;
    let colleague = app.member_of(coordinator.organisation, Role::Teacher).await;
    let own = app.signal(&teacher, child, "Blauwe plek.").await;
    let colleagues = app.signal(&colleague, child, "Hongerig.").await;
    let stranger = app
        .member(OrganisationKind::School, Role::CareCoordinator)
        .await;
    let admin = app
        .member_of(coordinator.organisation, Role::OrgAdmin)
        .await;

    let teachers_feed = feed(&app, &teacher, "").await;
    let seen: Vec<String> = items(&teachers_feed).into_iter().map(|e| e.2).collect();
    assert!(seen.contains(&own.to_string()));
    assert!(
        !seen.contains(&colleagues.to_string()),
        "a colleague's signal"
    );

    let coordinators_feed = feed(&app, &coordinator, "").await;
    let seen: Vec<String> = items(&coordinators_feed).into_iter().map(|e| e.2).collect();
    assert!(seen.contains(&own.to_string()) && seen.contains(&colleagues.to_string()));

    // An org admin reads no children or signals, so sees none of their events.
    let admins_feed = feed(&app, &admin, "").await;
    assert!(
        items(&admins_feed)
            .iter()
            .all(|(_, resource, _)| resource != "signal" && resource != "child"),
        "{}",
        admins_feed.text
    );

    assert_eq!(items(&feed(&app, &stranger, "").await), vec![]);
}

#[tokio::test]
async fn a_handoff_is_announced_to_both_sides_with_one_event_each() {
    let app = TestApp::new().await;
    let (coordinator, teacher, child) = school(&app).await;
    let vt = app
        .member(OrganisationKind::VeiligThuis, Role::VtWorker)
        .await;
    let signal = app.signal(&teacher, child, "Blauwe plek.").await;
    let sent = app
        .post("/v1/handoffs")
        .by(&coordinator)
        .json(
            &json!({"kind": "advice_request", "toOrganisation": vt.organisation,
                      "childId": child, "signalIds": [signal], "message": "Advies gevraagd."}),
        )
        .send()
        .await;
    sent.expect(201);
    let handoff = sent.body["id"].as_str().unwrap().to_owned();
    let announced = |reply: &Reply| {
        items(reply)
            .into_iter()
            .filter(|(_, _, id)| *id == handoff)
            .map(|(kind, _, _)| kind)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        announced(&feed(&app, &coordinator, "").await),
        ["handoff.sent"]
    );
    assert_eq!(announced(&feed(&app, &vt, "").await), ["handoff.sent"]);

    app.post(&format!("/v1/handoffs/{handoff}/acknowledgement"))
        .by(&vt)
        .json(&json!({}))
        .send()
        .await
        .expect(200);
    assert_eq!(
        announced(&feed(&app, &coordinator, "").await),
        ["handoff.sent", "handoff.acknowledged"]
    );
    assert_eq!(
        announced(&feed(&app, &vt, "").await),
        ["handoff.sent", "handoff.acknowledged"]
    );
}

async fn event_count(app: &TestApp) -> i64 {
    let mut conn = app.conn().await;
    events::table
        .count()
        .get_result(&mut conn)
        .await
        .expect("count events")
}

#[tokio::test]
async fn no_change_without_its_event_and_no_event_without_its_change() {
    let app = TestApp::new().await;
    let (coordinator, teacher, child) = school(&app).await;
    let before = event_count(&app).await;

    // A change the rules refuse leaves no event.
    let refused = app
        .post(&format!("/v1/children/{child}/signals"))
        .by(&teacher)
        .json(&json!({"observedAt": "2099-01-01T08:00:00Z", "category": "behaviour_change",
                      "source": "own_observation", "facts": "Later.", "direction": "raises_concern"}))
        .send()
        .await;
    assert!(refused.status >= 400, "{}", refused.text);
    let stale = app
        .patch(&format!("/v1/children/{child}"))
        .by(&coordinator)
        .header("if-match", "\"stale\"")
        .json(&json!({"givenName": "Noa"}))
        .send()
        .await;
    stale.expect_problem(412, "precondition-failed");
    assert_eq!(event_count(&app).await, before);

    // When the event cannot be written, the change is undone with it.
    let mut conn = app.conn().await;
    conn.batch_execute(
        "CREATE FUNCTION refuse_event() RETURNS trigger LANGUAGE plpgsql AS
           $$ BEGIN RAISE EXCEPTION 'outbox unavailable'; END $$;
         CREATE TRIGGER refuse_event BEFORE INSERT ON events
           FOR EACH ROW WHEN (NEW.event_type = 'signal.recorded') EXECUTE FUNCTION refuse_event();",
    )
    .await
    .expect("trigger");
    let failed = app
        .post(&format!("/v1/children/{child}/signals"))
        .by(&teacher)
        .json(
            &json!({"observedAt": "2026-11-20T08:30:00Z", "category": "behaviour_change",
                      "source": "own_observation", "facts": "Zonder event.",
                      "direction": "raises_concern"}),
        )
        .send()
        .await;
    failed.expect_problem(500, "internal-error");
    let stored: i64 = signals::table
        .filter(signals::child_id.eq(child))
        .count()
        .get_result(&mut conn)
        .await
        .expect("count signals");
    assert_eq!(stored, 0, "the signal was stored without its event");
    assert_eq!(event_count(&app).await, before);

    // And a successful change writes exactly one event per audience.
    conn.batch_execute("DROP TRIGGER refuse_event ON events")
        .await
        .expect("drop trigger");
    let signal = app.signal(&teacher, child, "Met event.").await;
    let announced: Vec<Value> = events::table
        .filter(events::resource_id.eq(signal))
        .select(events::event_type)
        .load::<String>(&mut conn)
        .await
        .expect("events")
        .into_iter()
        .map(Value::from)
        .collect();
    assert_eq!(announced, [json!("signal.recorded")]);
}
