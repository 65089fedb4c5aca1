//! Signals: recorded with the recorder from the token, validated, corrected only by revisions
//! that keep the original, and visible to casework roles and their own recorder only.

use diesel_async::SimpleAsyncConnection;
use schakel::domain::organisation::{OrganisationKind, Role};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{Member, TestApp};

fn signal() -> Value {
    json!({
        "observedAt": "2026-11-20T08:30:00Z",
        "category": "statements_by_child",
        "source": "child",
        "facts": "Noah zei in de kring: \"Papa schreeuwt en dan huilt mama.\"",
        "interpretation": "Mogelijk getuige van huiselijk geweld.",
        "direction": "raises_concern"
    })
}

struct School {
    coordinator: Member,
    teacher: Member,
    other_teacher: Member,
    child: Uuid,
}

async fn school(app: &TestApp) -> School {
    let coordinator = app
        .member(OrganisationKind::School, Role::CareCoordinator)
        .await;
    let teacher = app.member_of(coordinator.organisation, Role::Teacher).await;
    let other_teacher = app.member_of(coordinator.organisation, Role::Teacher).await;
    let child = app.child(&coordinator, "LL-20431").await;
    School {
        coordinator,
        teacher,
        other_teacher,
        child,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_teacher_records_a_signal() {
    let app = TestApp::new().await;
    let s = school(&app).await;
    let before = chrono::Utc::now();
    let reply = app
        .post(&format!("/v1/children/{}/signals", s.child))
        .by(&s.teacher)
        .json(&signal())
        .send()
        .await;
    reply.expect(201);
    let id = reply.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        reply.header("location"),
        Some(format!("/v1/signals/{id}").as_str())
    );
    assert_eq!(reply.body["recordedBy"]["sub"], s.teacher.sub);
    assert_eq!(reply.body["recordedBy"]["role"], "teacher");
    let recorded_at: chrono::DateTime<chrono::Utc> =
        reply.body["recordedAt"].as_str().unwrap().parse().unwrap();
    assert!(recorded_at >= before - chrono::Duration::seconds(1));
    insta::assert_json_snapshot!(reply.body, {
        ".id" => "[id]",
        ".childId" => "[id]",
        ".**.recordedAt" => "[time]",
        ".**.sub" => "[sub]",
    }, @r#"
    {
      "category": "statements_by_child",
      "childId": "[id]",
      "direction": "raises_concern",
      "facts": "Noah zei in de kring: \"Papa schreeuwt en dan huilt mama.\"",
      "id": "[id]",
      "interpretation": "Mogelijk getuige van huiselijk geweld.",
      "observedAt": "2026-11-20T08:30:00Z",
      "recordedAt": "[time]",
      "recordedBy": {
        "name": "Test Professional",
        "role": "teacher",
        "sub": "[sub]"
      },
      "revision": 1,
      "revisions": [
        {
          "category": "statements_by_child",
          "direction": "raises_concern",
          "facts": "Noah zei in de kring: \"Papa schreeuwt en dan huilt mama.\"",
          "interpretation": "Mogelijk getuige van huiselijk geweld.",
          "observedAt": "2026-11-20T08:30:00Z",
          "recordedAt": "[time]",
          "recordedBy": {
            "name": "Test Professional",
            "sub": "[sub]"
          },
          "revision": 1,
          "source": "child"
        }
      ],
      "source": "child"
    }
    "#);
    let fetched = app
        .get(&format!("/v1/signals/{id}"))
        .by(&s.teacher)
        .send()
        .await;
    fetched.expect(200);
    assert_eq!(fetched.body, reply.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn signals_are_validated() {
    let app = TestApp::new().await;
    let s = school(&app).await;
    let with = |key: &str, value: Value| {
        let mut body = signal();
        body[key] = value;
        body
    };
    let without = |key: &str| {
        let mut body = signal();
        body.as_object_mut().unwrap().remove(key);
        body
    };
    let future = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let cases: Vec<(Value, &str)> = vec![
        (without("facts"), "facts"),
        (without("observedAt"), "observedAt"),
        (without("direction"), "direction"),
        (with("facts", json!(12)), "facts"),
        (with("facts", json!("")), "facts"),
        (with("facts", json!("  ")), "facts"),
        (with("facts", json!("x".repeat(10_001))), "facts"),
        (with("category", json!("gossip")), "category"),
        (with("direction", json!(true)), "direction"),
        (with("observedAt", json!(future)), "observedAt"),
        (
            with("observedAt", json!("2012-01-01T00:00:00Z")),
            "observedAt",
        ),
        (with("observedAt", json!("yesterday")), "observedAt"),
        (with("source", json!("third_party")), "sourceDescription"),
        (with("recordedBy", json!("someone-else")), "recordedBy"),
        (
            with("recordedAt", json!("2026-01-01T00:00:00Z")),
            "recordedAt",
        ),
    ];
    for (body, property) in cases {
        let reply = app
            .post(&format!("/v1/children/{}/signals", s.child))
            .by(&s.teacher)
            .json(&body)
            .send()
            .await;
        reply.expect_problem(400, "invalid-input");
        assert_eq!(reply.invalid_params(), vec![property.to_string()], "{body}");
    }
    let mut third_party = with("source", json!("third_party"));
    third_party["sourceDescription"] = json!("De trainer van de voetbalclub");
    third_party["direction"] = json!("reduces_concern");
    app.post(&format!("/v1/children/{}/signals", s.child))
        .by(&s.teacher)
        .json(&third_party)
        .send()
        .await
        .expect(201);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revision_corrects_without_erasing_the_original() {
    let app = TestApp::new().await;
    let s = school(&app).await;
    let created = app
        .post(&format!("/v1/children/{}/signals", s.child))
        .by(&s.teacher)
        .json(&signal())
        .send()
        .await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    let etag = created.header("etag").unwrap().to_owned();
    let mut correction = signal();
    correction["facts"] =
        json!("Noah zei in de kring: \"Papa schreeuwt, en dan huilt mama altijd.\"");
    correction["reason"] = json!("Citaat letterlijk overgenomen uit mijn aantekeningen.");

    let revised = app
        .post(&format!("/v1/signals/{id}/revisions"))
        .by(&s.teacher)
        .header("if-match", &etag)
        .json(&correction)
        .send()
        .await;
    revised.expect(201);
    assert_eq!(revised.body["revision"], 2);
    assert_eq!(revised.body["facts"], correction["facts"]);
    let revisions = revised.body["revisions"].as_array().unwrap();
    assert_eq!(revisions.len(), 2);
    assert_eq!(
        revisions[0]["facts"],
        signal()["facts"],
        "the original stays readable"
    );
    assert!(revisions[0].get("reason").is_none());
    assert_eq!(revisions[1]["reason"], correction["reason"]);
    assert_eq!(revised.body["recordedBy"], created.body["recordedBy"]);

    // A correction based on the old version is refused.
    app.post(&format!("/v1/signals/{id}/revisions"))
        .by(&s.teacher)
        .header("if-match", &etag)
        .json(&correction)
        .send()
        .await
        .expect_problem(412, "precondition-failed");

    let mut unchanged = correction.clone();
    unchanged["reason"] = json!("Nog eens");
    let reply = app
        .post(&format!("/v1/signals/{id}/revisions"))
        .by(&s.teacher)
        .json(&unchanged)
        .send()
        .await;
    reply.expect_problem(400, "invalid-input");
    assert_eq!(reply.invalid_params(), ["(body)"]);

    let mut no_reason = correction.clone();
    no_reason.as_object_mut().unwrap().remove("reason");
    no_reason["facts"] = json!("Iets anders");
    let reply = app
        .post(&format!("/v1/signals/{id}/revisions"))
        .by(&s.teacher)
        .json(&no_reason)
        .send()
        .await;
    assert_eq!(reply.invalid_params(), ["reason"]);

    // The care coordinator may correct the teacher's signal too; the history names them.
    let mut by_coordinator = correction.clone();
    by_coordinator["category"] = json!("witnessing_domestic_violence");
    by_coordinator["reason"] = json!("Categorie aangepast na overleg.");
    let reply = app
        .post(&format!("/v1/signals/{id}/revisions"))
        .by(&s.coordinator)
        .json(&by_coordinator)
        .send()
        .await;
    reply.expect(201);
    assert_eq!(
        reply.body["revisions"][2]["recordedBy"]["sub"],
        s.coordinator.sub
    );
    assert_eq!(reply.body["category"], "witnessing_domestic_violence");

    // Nobody can rewrite history underneath the API either.
    let mut conn = app.db.connect().await;
    for statement in [
        "UPDATE signal_revisions SET facts = 'weg'",
        "DELETE FROM signal_revisions",
        "UPDATE signals SET recorded_by_sub = 'x'",
        "DELETE FROM signals",
    ] {
        let err = conn.batch_execute(statement).await.unwrap_err();
        assert!(
            err.to_string().contains("append-only"),
            "{statement}: {err}"
        );
    }
}

/// Who sees which signal: casework roles all of their organisation's, a teacher their own.
#[tokio::test(flavor = "multi_thread")]
async fn signal_visibility_matrix() {
    let app = TestApp::new().await;
    let s = school(&app).await;
    let by_teacher = app
        .signal(&s.teacher, s.child, "Gezien door leerkracht.")
        .await;
    let by_coordinator = app.signal(&s.coordinator, s.child, "Gezien door IB.").await;
    let youth_worker = app
        .member(OrganisationKind::Wijkteam, Role::YouthWorker)
        .await;
    let vt_worker = app
        .member(OrganisationKind::VeiligThuis, Role::VtWorker)
        .await;
    let other_coordinator = app
        .member(OrganisationKind::School, Role::CareCoordinator)
        .await;

    let own = [by_teacher];
    let both = [by_teacher, by_coordinator];
    let cases: Vec<(&str, &Member, &[Uuid])> = vec![
        ("recording teacher", &s.teacher, &own),
        ("other teacher", &s.other_teacher, &[]),
        ("care coordinator", &s.coordinator, &both),
        ("youth worker elsewhere", &youth_worker, &[]),
        ("Veilig Thuis", &vt_worker, &[]),
        ("other school", &other_coordinator, &[]),
    ];
    for (who, member, visible) in cases {
        for signal in [by_teacher, by_coordinator] {
            let reply = app
                .get(&format!("/v1/signals/{signal}"))
                .by(member)
                .send()
                .await;
            let expected = if visible.contains(&signal) { 200 } else { 404 };
            assert_eq!(reply.status, expected, "{who} reading {signal}");
        }
        let list = app
            .get(&format!("/v1/children/{}/signals", s.child))
            .by(member)
            .send()
            .await;
        if member.organisation == s.coordinator.organisation {
            list.expect(200);
            let mut listed: Vec<Uuid> = list.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["id"].as_str().unwrap().parse().unwrap())
                .collect();
            listed.sort();
            let mut expected = visible.to_vec();
            expected.sort();
            assert_eq!(listed, expected, "{who} listing");
        } else {
            list.expect_problem(404, "not-found");
        }
    }
    // Another teacher cannot correct what they cannot see.
    let mut correction = signal();
    correction["reason"] = json!("x");
    app.post(&format!("/v1/signals/{by_teacher}/revisions"))
        .by(&s.other_teacher)
        .json(&correction)
        .send()
        .await
        .expect_problem(404, "not-found");
}

#[tokio::test(flavor = "multi_thread")]
async fn signal_lists_page_newest_first_and_log_each_signal() {
    let app = TestApp::new().await;
    let s = school(&app).await;
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(
            app.signal(&s.coordinator, s.child, &format!("Signaal {n}"))
                .await,
        );
    }
    ids.reverse();
    let mut seen = Vec::new();
    let mut path = format!("/v1/children/{}/signals?limit=2", s.child);
    loop {
        let reply = app.get(&path).by(&s.coordinator).send().await;
        reply.expect(200);
        seen.extend(
            reply.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["id"].as_str().unwrap().parse::<Uuid>().unwrap()),
        );
        match reply.body["nextCursor"].as_str() {
            Some(cursor) => {
                path = format!("/v1/children/{}/signals?limit=2&cursor={cursor}", s.child)
            }
            None => break,
        }
    }
    assert_eq!(seen, ids);
    let reads: Vec<Uuid> = app
        .access_log(s.child)
        .await
        .into_iter()
        .filter(|(action, resource, _, _)| action == "read" && resource == "signal")
        .filter_map(|(_, _, id, _)| id)
        .collect();
    assert_eq!(reads, ids, "one read entry per signal returned, in order");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_signal_access_is_in_the_access_log() {
    let app = TestApp::new().await;
    let s = school(&app).await;
    let id = app
        .signal(&s.teacher, s.child, "Blauwe plek op de arm.")
        .await;
    app.get(&format!("/v1/signals/{id}"))
        .by(&s.coordinator)
        .send()
        .await
        .expect(200);
    let mut correction = signal();
    correction["reason"] = json!("Aangevuld");
    app.post(&format!("/v1/signals/{id}/revisions"))
        .by(&s.teacher)
        .json(&correction)
        .send()
        .await
        .expect(201);
    // Refused and invisible attempts leave no allowed entries behind.
    app.get(&format!("/v1/signals/{id}"))
        .by(&s.other_teacher)
        .send()
        .await
        .expect(404);

    let signal_entries: Vec<(String, String)> = app
        .access_log(s.child)
        .await
        .into_iter()
        .filter(|(_, resource, rid, _)| resource == "signal" && *rid == Some(id))
        .map(|(action, _, _, actor)| (action, actor))
        .collect();
    assert_eq!(
        signal_entries,
        [
            ("create".to_owned(), s.teacher.sub.clone()),
            ("read".to_owned(), s.coordinator.sub.clone()),
            ("update".to_owned(), s.teacher.sub.clone()),
        ]
    );
}

/// Recording a signal is one statement guarded on the child being as the decision read it: when
/// the child changed in between, nothing at all is written — no signal, no revision, and none
/// of the access-log entry, event and timeline entry that would record it; when it did not,
/// all of them are.
#[tokio::test(flavor = "multi_thread")]
async fn a_signal_and_its_records_are_written_together_or_not_at_all() {
    use chrono::{NaiveDate, Utc};
    use diesel::{ExpressionMethods, QueryDsl};
    use diesel_async::RunQueryDsl;
    use schakel::{
        audit::{Access, AccessAction, Actor, RequestMeta},
        auth::Principal,
        db::{
            schema::{access_log, children, events, signals, timeline_entries},
            signals::{NewSignal, Recorder, record},
            timeline::TimelineEntry,
        },
        domain::{
            organisation::OrganisationRef,
            signal::{SignalCategory, SignalContent, SignalDirection, SignalSource},
            timeline::Visibility,
        },
        effects::Effects,
        events::{Event, EventType},
    };

    let app = TestApp::new().await;
    let s = school(&app).await;
    let mut conn = app.conn().await;
    let born: NaiveDate = children::table
        .find(s.child)
        .select(children::date_of_birth)
        .first(&mut conn)
        .await
        .unwrap();
    let principal = Principal {
        sub: s.teacher.sub.clone(),
        name: "Sanne de Vries".into(),
        organisation: OrganisationRef {
            id: s.teacher.organisation,
            kind: OrganisationKind::School,
            name: "De Regenboog".into(),
            active: true,
        },
        roles: vec![Role::Teacher],
        acting_client: None,
    };
    let request = RequestMeta::new("req-guard", None);
    let actor = Actor {
        principal: &principal,
        request: &request,
    };
    let content = SignalContent {
        observed_at: Utc::now(),
        category: SignalCategory::StatementsByChild,
        source: SignalSource::Child,
        source_description: None,
        facts: "Noah zei dat hij niet naar huis wil.".into(),
        interpretation: None,
        direction: SignalDirection::RaisesConcern,
    };
    let attempt = async |child_born: NaiveDate, conn: &mut schakel::db::Conn| {
        let new = NewSignal {
            id: Uuid::now_v7(),
            organisation: s.teacher.organisation,
            child: s.child,
            child_born,
            recorder: Recorder {
                sub: &principal.sub,
                name: &principal.name,
            },
            role: "teacher",
            content: &content,
        };
        let effects = Effects::new()
            .access(Access::allowed(AccessAction::Create, "signal", new.id).about_child(s.child))
            .event(Event::new(
                EventType::SignalRecorded,
                s.teacher.organisation,
                "signal",
                new.id,
            ))
            .timeline(TimelineEntry {
                organisation_id: s.teacher.organisation,
                child_id: s.child,
                entry_type: "signal.recorded",
                resource_type: "signal",
                resource_id: new.id,
                summary: "Signal recorded".into(),
                visibility: Visibility::Recorder,
            })
            .rows(actor);
        record(conn, &new, &effects)
            .await
            .unwrap()
            .map(|s| s.signal.id)
    };
    let counts = async |conn: &mut schakel::db::Conn| -> [i64; 4] {
        [
            signals::table
                .filter(signals::child_id.eq(s.child))
                .count()
                .get_result(conn)
                .await
                .unwrap(),
            access_log::table
                .filter(access_log::request_id.eq("req-guard"))
                .count()
                .get_result(conn)
                .await
                .unwrap(),
            events::table
                .filter(events::event_type.eq("signal.recorded"))
                .count()
                .get_result(conn)
                .await
                .unwrap(),
            timeline_entries::table
                .filter(timeline_entries::child_id.eq(s.child))
                .filter(timeline_entries::entry_type.eq("signal.recorded"))
                .count()
                .get_result(conn)
                .await
                .unwrap(),
        ]
    };
    let before = counts(&mut conn).await;

    let changed = born.succ_opt().unwrap();
    assert_eq!(attempt(changed, &mut conn).await, None);
    assert_eq!(
        counts(&mut conn).await,
        before,
        "nothing written for a changed child"
    );

    let id = attempt(born, &mut conn).await.expect("recorded");
    assert_eq!(
        counts(&mut conn).await,
        before.map(|n| n + 1),
        "the signal and its three records"
    );
    let logged: Option<uuid::Uuid> = access_log::table
        .filter(access_log::request_id.eq("req-guard"))
        .select(access_log::resource_id)
        .first(&mut conn)
        .await
        .unwrap();
    assert_eq!(logged, Some(id));
}
