//! Figures on a fixture world with known answers: School A's 21 reports to Veilig Thuis Utrecht
//! in 2026-Q2 in four patterns (one of them assessed in time only because King's Day does not
//! count), a small School B and a School C beside it, a wijkteam, and Gelderland elsewhere.

use diesel_async::RunQueryDsl;
use schakel::domain::organisation::{OrganisationKind, Role};
use serde_json::Value;
use uuid::Uuid;

use crate::harness::{Member, TestApp};

struct World {
    school_a: Uuid,
    school_b: Uuid,
    school_c: Uuid,
    wijkteam: Uuid,
    vt: Uuid,
    school_d: Uuid,
    vt_gelderland: Uuid,
}

/// One handoff of the fixture.
struct Fixture<'a> {
    kind: &'a str,
    sent: &'a str,
    acknowledgement_due: &'a str,
    received: Option<&'a str>,
    status: &'a str,
    assessment_due: Option<&'a str>,
    decided: Option<&'a str>,
    requests_guidance: bool,
    /// Feedback: (category, at).
    feedback: &'a [(&'a str, &'a str)],
    /// VT's ask for consent to give the school feedback: `granted`, `refused`, `open`.
    consent: Option<&'a str>,
}

impl Default for Fixture<'_> {
    fn default() -> Self {
        Fixture {
            kind: "report",
            sent: "2026-04-23T08:00:00Z",
            acknowledgement_due: "2026-04-24T08:00:00Z",
            received: None,
            status: "sent",
            assessment_due: None,
            decided: None,
            requests_guidance: false,
            feedback: &[],
            consent: None,
        }
    }
}

async fn exec(app: &TestApp, sql: String) {
    let mut conn = app.conn().await;
    diesel::sql_query(&sql)
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{e}: {sql}"));
}

fn opt(value: Option<&str>) -> String {
    value.map_or("NULL".into(), |v| format!("'{v}'"))
}

/// A child of `org` with one guardian with parental authority; returns (child, guardian).
async fn child_of(app: &TestApp, org: Uuid) -> (Uuid, Uuid) {
    let (child, guardian) = (Uuid::now_v7(), Uuid::now_v7());
    exec(app, format!(
        "INSERT INTO children (id, organisation_id, external_ref, given_name, family_name, date_of_birth, created_by_sub)
         VALUES ('{child}', '{org}', 'F-{child}', 'Noah', 'de Boer', '2016-03-01', 'fixture')"
    ))
    .await;
    exec(app, format!(
        "INSERT INTO guardians (id, child_id, name, relationship, parental_authority, authority_source)
         VALUES ('{guardian}', '{child}', 'Sarah de Boer', 'mother', 'yes', 'gezagsregister')"
    ))
    .await;
    (child, guardian)
}

async fn handoffs(app: &TestApp, from: Uuid, to: Uuid, times: usize, f: &Fixture<'_>) {
    let (child, _) = child_of(app, from).await;
    let (vt_child, guardian) = child_of(app, to).await;
    for _ in 0..times {
        let id = Uuid::now_v7();
        exec(app, format!(
            "INSERT INTO handoffs (id, kind, status, from_organisation_id, to_organisation_id, child_id,
                 legal_basis, snapshot, message, urgency, requests_guidance, sent_by_sub, sent_by_name,
                 sent_at, acknowledgement_due_at, assessment_due_at, assessment_decided_at)
             VALUES ('{id}', '{kind}', '{status}', '{from}', '{to}', '{child}', 'meldrecht', '{{}}',
                 'Zorgen over Noah', 'regular', {guidance}, 'fixture', 'Fixture', '{sent}', '{due}',
                 {assessment_due}, {decided})",
            kind = f.kind,
            status = f.status,
            guidance = f.requests_guidance,
            sent = f.sent,
            due = f.acknowledgement_due,
            assessment_due = opt(f.assessment_due),
            decided = opt(f.decided),
        ))
        .await;
        if let Some(at) = f.received {
            exec(app, format!(
                "INSERT INTO handoff_transitions (id, handoff_id, transition, from_status, to_status,
                     by_sub, by_name, by_organisation_id, at)
                 VALUES ('{}', '{id}', 'acknowledgement', 'sent', 'received', 'fixture', 'Fixture', '{to}', '{at}')",
                Uuid::now_v7()
            ))
            .await;
        }
        let mut consent_id = None;
        if let Some(answer) = f.consent {
            let consent = Uuid::now_v7();
            consent_id = Some(consent);
            exec(app, format!(
                "INSERT INTO consents (id, organisation_id, child_id, purpose, recipient_organisation_id,
                     scope, handoff_id, valid_until, created_by_sub, created_by_name)
                 VALUES ('{consent}', '{to}', '{vt_child}', 'feedback_to_school', '{from}',
                     '{{outcome,guidance_for_school}}', '{id}', '2027-12-31', 'fixture', 'Fixture')"
            ))
            .await;
            if answer != "open" {
                exec(app, format!(
                    "INSERT INTO consent_decisions (id, consent_id, party, guardian_id, decision, method,
                         decided_at, recorded_by_sub, recorded_by_name)
                     VALUES ('{}', '{consent}', '{guardian}', '{guardian}', '{answer}', 'verbal',
                         '2026-05-02T10:00:00Z', 'fixture', 'Fixture')",
                    Uuid::now_v7()
                ))
                .await;
            }
        }
        for (category, at) in f.feedback {
            let (basis, consent) = match *category {
                "received" | "safety_assessment_decided" => ("statutory", "NULL".to_owned()),
                _ => (
                    "consent",
                    format!("'{}'", consent_id.expect("consent for substantive")),
                ),
            };
            exec(app, format!(
                "INSERT INTO feedback (id, handoff_id, from_organisation_id, to_organisation_id, category,
                     message, audience, consent_id, legal_basis, sent_by_sub, sent_by_name, sent_at)
                 VALUES ('{}', '{id}', '{to}', '{from}', '{category}', 'Terugkoppeling',
                     'care_coordinators', {consent}, '{basis}', 'fixture', 'Fixture', '{at}')",
                Uuid::now_v7()
            ))
            .await;
        }
    }
}

async fn organisation(app: &TestApp, kind: OrganisationKind, name: &str, region: &str) -> Uuid {
    let id = app.organisation(kind, name).await;
    exec(
        app,
        format!("UPDATE organisations SET region = '{region}' WHERE id = '{id}'"),
    )
    .await;
    id
}

async fn world(app: &TestApp) -> World {
    use OrganisationKind::*;
    let w = World {
        school_a: organisation(app, School, "De Regenboog", "Utrecht").await,
        school_b: organisation(app, School, "Het Kompas", "Utrecht").await,
        school_c: organisation(app, School, "De Linde", "Utrecht").await,
        wijkteam: organisation(app, Wijkteam, "Buurtteam Oost", "Utrecht").await,
        vt: organisation(app, VeiligThuis, "Veilig Thuis Utrecht", "Utrecht").await,
        school_d: organisation(app, School, "De Esch", "Gelderland").await,
        vt_gelderland: organisation(app, VeiligThuis, "Veilig Thuis Gelderland", "Gelderland")
            .await,
    };
    // P1 ×6 (April): received Thursday 23 April 2h after sending, assessed Friday 1 May — the
    // fifth working day, King's Day (Monday 27 April) not counting; status feedback after a
    // day, guidance after three; consent granted.
    handoffs(
        app,
        w.school_a,
        w.vt,
        6,
        &Fixture {
            received: Some("2026-04-23T10:00:00Z"),
            status: "closed",
            assessment_due: Some("2026-05-01T10:00:00Z"),
            decided: Some("2026-05-01T08:30:00Z"),
            requests_guidance: true,
            feedback: &[
                ("received", "2026-04-24T10:00:00Z"),
                ("guidance_for_school", "2026-04-26T10:00:00Z"),
            ],
            consent: Some("granted"),
            ..Fixture::default()
        },
    )
    .await;
    // P2 ×5 (May): acknowledged after 30 hours (late); received Tuesday 12 May, so with
    // Ascension Day (14 May) the fifth working day is Wednesday 20 May: assessed the 21st,
    // late; status feedback after two days; guidance asked, not given; consent refused.
    handoffs(
        app,
        w.school_a,
        w.vt,
        5,
        &Fixture {
            sent: "2026-05-11T08:00:00Z",
            acknowledgement_due: "2026-05-12T08:00:00Z",
            received: Some("2026-05-12T14:00:00Z"),
            status: "closed",
            assessment_due: Some("2026-05-20T14:00:00Z"),
            decided: Some("2026-05-21T09:00:00Z"),
            requests_guidance: true,
            feedback: &[("safety_assessment_decided", "2026-05-14T14:00:00Z")],
            consent: Some("refused"),
            ..Fixture::default()
        },
    )
    .await;
    // P3 ×5 (June): never acknowledged — overdue now, no feedback.
    handoffs(
        app,
        w.school_a,
        w.vt,
        5,
        &Fixture {
            sent: "2026-06-01T08:00:00Z",
            acknowledgement_due: "2026-06-02T08:00:00Z",
            ..Fixture::default()
        },
    )
    .await;
    // P4 ×5 (June): acknowledged within the hour, never assessed — overdue now; consent asked,
    // unanswered; no feedback.
    handoffs(
        app,
        w.school_a,
        w.vt,
        5,
        &Fixture {
            sent: "2026-06-03T08:00:00Z",
            acknowledgement_due: "2026-06-04T08:00:00Z",
            received: Some("2026-06-03T09:00:00Z"),
            status: "accepted",
            assessment_due: Some("2026-06-10T09:00:00Z"),
            consent: Some("open"),
            ..Fixture::default()
        },
    )
    .await;
    // School B: three reports, acknowledged in time, closed with status feedback.
    let small = Fixture {
        sent: "2026-05-04T08:00:00Z",
        acknowledgement_due: "2026-05-05T08:00:00Z",
        received: Some("2026-05-04T09:00:00Z"),
        status: "closed",
        decided: Some("2026-05-06T09:00:00Z"),
        feedback: &[("received", "2026-05-04T10:00:00Z")],
        ..Fixture::default()
    };
    handoffs(app, w.school_b, w.vt, 3, &small).await;
    // School C: six like them; the wijkteam two; School D five advice requests in Gelderland.
    handoffs(app, w.school_c, w.vt, 6, &small).await;
    handoffs(app, w.wijkteam, w.vt, 2, &small).await;
    handoffs(
        app,
        w.school_d,
        w.vt_gelderland,
        5,
        &Fixture {
            kind: "advice_request",
            ..small
        },
    )
    .await;
    // Outside the period: not counted.
    handoffs(
        app,
        w.school_a,
        w.vt,
        4,
        &Fixture {
            sent: "2026-07-01T08:00:00Z",
            acknowledgement_due: "2026-07-02T08:00:00Z",
            ..Fixture::default()
        },
    )
    .await;
    w
}

async fn figures(app: &TestApp, by: &Member, query: &str) -> Value {
    let reply = app.get(&format!("/v1/figures?{query}")).by(by).send().await;
    reply.expect(200);
    reply.body
}

#[tokio::test]
async fn a_school_sees_its_own_figures_with_known_answers() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let coordinator = app.member_of(w.school_a, Role::CareCoordinator).await;
    let f = figures(&app, &coordinator, "period=2026-Q2").await;
    assert_eq!(f["view"], "own");
    assert_eq!(f["organisation"]["id"], w.school_a.to_string());
    assert_eq!(f["period"]["firstDay"], "2026-04-01");
    assert_eq!(f["period"]["lastDay"], "2026-06-30");
    let t = &f["total"];
    assert_eq!(t["reports"]["sent"], 21);
    // Nothing received: zero is fewer than five.
    assert_eq!(t["reports"]["received"], Value::Null);
    // 16 acknowledged (hours 1×5, 2×6, 30×5): median the 8th (2 h), p90 the 15th (30 h).
    let ack = &t["acknowledgement"];
    assert_eq!(ack["time"]["count"], 16);
    assert_eq!(ack["time"]["medianHours"], 2.0);
    assert_eq!(ack["time"]["p90Hours"], 30.0);
    // Due: the 16 and the 5 never acknowledged; in time: P1 and P4.
    assert_eq!(
        (&ack["due"], &ack["inTime"]),
        (&Value::from(21), &Value::from(11))
    );
    assert_eq!(ack["inTimeShare"], 11.0 / 21.0);
    // Safety assessment: P1 in time across King's Day, P2 late across Ascension Day, P4
    // never decided: 6 of 16.
    let sa = &t["safetyAssessment"];
    assert_eq!(
        (&sa["due"], &sa["withinFiveWorkingDays"]),
        (&Value::from(16), &Value::from(6))
    );
    assert_eq!(sa["share"], 0.375);
    let c = &t["consentToFeedback"];
    assert_eq!(c["reportsFromSchools"], 21);
    assert_eq!(c["asked"], 16);
    assert_eq!(c["askedShare"], 16.0 / 21.0);
    assert_eq!(
        (&c["granted"], &c["refused"], &c["open"]),
        (&Value::from(6), &Value::from(5), &Value::from(5))
    );
    let fb = &t["feedback"];
    // From receipt: P1 24 h ×6, P2 48 h ×5: median the 6th (24), p90 the 10th (48).
    assert_eq!(fb["firstStatus"]["count"], 11);
    assert_eq!(fb["firstStatus"]["medianHours"], 24.0);
    assert_eq!(fb["firstStatus"]["p90Hours"], 48.0);
    assert_eq!(fb["firstSubstantive"]["count"], 6);
    assert_eq!(fb["firstSubstantive"]["medianHours"], 72.0);
    assert_eq!(
        (&fb["guidanceRequested"], &fb["guidanceGiven"]),
        (&Value::from(11), &Value::from(6))
    );
    assert_eq!(fb["guidanceShare"], 6.0 / 11.0);
    assert_eq!(fb["awaitingAfter10Days"], 10);
    assert_eq!(fb["awaitingAfter30Days"], 10);
    let overdue: Vec<(&str, &Value)> = t["overdueNow"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["kind"].as_str().unwrap(), &o["count"]))
        .collect();
    assert!(overdue.contains(&("report", &Value::from(10))));
    assert!(overdue.contains(&("advice_request", &Value::Null)));
    // Every month is a group, in order: 6 in April, 5 in May, 10 in June.
    let months: Vec<(&str, &Value)> = f["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["key"].as_str().unwrap(), &g["figures"]["reports"]["sent"]))
        .collect();
    assert_eq!(
        months,
        [
            ("2026-04", &Value::from(6)),
            ("2026-05", &Value::from(5)),
            ("2026-06", &Value::from(10))
        ]
    );
    // April's consent: 6 granted, none refused or open (hidden, and two of them: neither is
    // the difference of 6 asked and 6 granted).
    let april = &f["groups"][0]["figures"]["consentToFeedback"];
    assert_eq!(
        (&april["asked"], &april["granted"]),
        (&Value::from(6), &Value::from(6))
    );
    assert_eq!(
        (&april["refused"], &april["open"]),
        (&Value::Null, &Value::Null)
    );
}

#[tokio::test]
async fn a_school_compares_with_its_region_without_telling_the_others() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let admin = app.member_of(w.school_a, Role::OrgAdmin).await;
    let f = figures(&app, &admin, "period=2026-Q2").await;
    let comparison = &f["comparison"];
    assert_eq!(comparison["region"], "Utrecht");
    // Utrecht's schools: A 21, B 3, C 6 = 30; the others count 9: shown.
    assert_eq!(comparison["figures"]["reports"]["sent"], 30);
    // Consent was asked on A's reports only: the region's 16 would tell the others' 0.
    assert_eq!(
        comparison["figures"]["consentToFeedback"]["asked"],
        Value::Null
    );
    // The wijkteam's reports are not a school's.
    assert_eq!(
        comparison["figures"]["consentToFeedback"]["reportsFromSchools"],
        30
    );
    // A wijkteam sees its own, and no comparison.
    let wijkteam = app.member_of(w.wijkteam, Role::OrgAdmin).await;
    let f = figures(&app, &wijkteam, "period=2026-Q2").await;
    assert!(f.get("comparison").is_none());
    assert_eq!(f["total"]["reports"]["sent"], Value::Null);
}

#[tokio::test]
async fn veilig_thuis_sees_its_schools_and_no_hidden_count_is_a_difference() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let officer = app.member_of(w.vt, Role::PrivacyOfficer).await;
    let f = figures(&app, &officer, "period=2026-Q2&groupBy=school").await;
    assert_eq!(f["view"], "received_from_schools");
    let schools: Vec<(&str, &Value)> = f["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["label"].as_str().unwrap(),
                &g["figures"]["reports"]["received"],
            )
        })
        .collect();
    // B's 3 is hidden; beside the total 30 it would be 30 - 21 - 6: C's 6 is hidden too.
    assert_eq!(
        schools,
        [
            ("De Linde", &Value::Null),
            ("De Regenboog", &Value::from(21)),
            ("Het Kompas", &Value::Null)
        ]
    );
    assert_eq!(f["total"]["reports"]["received"], 30);
    // The wijkteam's reports are not among them; by month, VT sees everything it received.
    let f = figures(&app, &officer, "period=2026-Q2").await;
    assert_eq!(f["total"]["reports"]["received"], 32);
    assert_eq!(f["total"]["reports"]["sent"], Value::Null);
    assert!(f.get("comparison").is_none());
}

#[tokio::test]
async fn the_platform_sees_regions_and_nobody_sees_what_is_not_theirs() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let platform = app.platform_admin().await;
    let f = figures(&app, &platform, "period=2026-Q2&groupBy=region").await;
    assert_eq!(f["view"], "national");
    assert!(f.get("organisation").is_none());
    let regions: Vec<(&str, &Value)> = f["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["key"].as_str().unwrap(),
                &g["figures"]["adviceRequests"]["received"],
            )
        })
        .collect();
    // Utrecht received no advice requests (hidden); Gelderland's 5 beside the total 5 would
    // tell it, so Gelderland's is hidden too.
    assert_eq!(
        regions,
        [("Gelderland", &Value::Null), ("Utrecht", &Value::Null)]
    );
    assert_eq!(f["total"]["adviceRequests"]["received"], 5);
    let reports: Vec<&Value> = f["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| &g["figures"]["reports"]["received"])
        .collect();
    assert_eq!(reports, [&Value::Null, &Value::Null]);
    assert_eq!(f["total"]["reports"]["received"], 32);
    // Who may group how.
    let school = app.member_of(w.school_a, Role::CareCoordinator).await;
    let vt = app.member_of(w.vt, Role::OrgAdmin).await;
    for (member, query, status) in [
        (&school, "groupBy=school", 403),
        (&school, "groupBy=region", 403),
        (&vt, "groupBy=region", 403),
        (&platform, "groupBy=school", 403),
    ] {
        app.get(&format!("/v1/figures?period=2026-Q2&{query}"))
            .by(member)
            .send()
            .await
            .expect_problem(status, "forbidden");
    }
    for role in [Role::Teacher, Role::VtWorker, Role::YouthWorker] {
        let member = app.member_of(w.vt, role).await;
        app.get("/v1/figures?period=2026-Q2")
            .by(&member)
            .send()
            .await
            .expect_problem(403, "forbidden");
    }
    // Another school's figures hold nothing of School A's.
    let other = app.member_of(w.school_d, Role::CareCoordinator).await;
    let f = figures(&app, &other, "period=2026-Q2").await;
    assert_eq!(f["organisation"]["id"], w.school_d.to_string());
    assert_eq!(f["total"]["adviceRequests"]["sent"], 5);
    assert_eq!(f["total"]["reports"]["sent"], Value::Null);
    assert_eq!(
        f["comparison"]["figures"]["adviceRequests"]["sent"],
        Value::Null
    );
}

#[tokio::test]
async fn figures_as_csv_and_as_a_printable_report() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let coordinator = app.member_of(w.school_a, Role::CareCoordinator).await;
    let csv = app
        .get("/v1/figures?period=2026-Q2")
        .by(&coordinator)
        .header("accept", "text/csv")
        .send()
        .await;
    csv.expect(200);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    let lines: Vec<&str> = csv.text.lines().collect();
    // A header, three months, the total and the region.
    assert_eq!(lines.len(), 6, "{}", csv.text);
    assert!(lines[0].starts_with("period,group,label,reports_sent,reports_received,"));
    assert!(lines[1].starts_with("2026-Q2,2026-04,2026-04,6,<5,"));
    assert!(lines[4].starts_with("2026-Q2,total,Totaal,21,<5,"));
    assert!(lines[5].starts_with("2026-Q2,comparison,Scholen in regio Utrecht,30,"));
    let header: Vec<&str> = lines[0].split(',').collect();
    let total: Vec<&str> = lines[4].split(',').collect();
    let cell = |name: &str| total[header.iter().position(|h| *h == name).unwrap()];
    assert_eq!(cell("safety_assessment_in_time_share"), "0.375");
    assert_eq!(cell("acknowledgement_hours_median"), "2.0");
    assert_eq!(cell("overdue_now_report"), "10");

    app.get("/v1/figures?period=2026-Q2")
        .by(&coordinator)
        .header("accept", "text/html")
        .send()
        .await
        .expect_document(&[
            "Cijfers De Regenboog — 2026-Q2",
            "<svg",
            "Veiligheidsbeoordeling binnen 5 werkdagen",
            "38 %",
            "&lt;5",
            "Scholen in regio Utrecht",
        ]);
}

#[tokio::test]
async fn a_period_must_be_a_year_quarter_or_month() {
    let app = TestApp::new().await;
    let member = app
        .member(OrganisationKind::School, Role::CareCoordinator)
        .await;
    for bad in ["2026-Q5", "2026-13", "Q3", "2026-Q3%00", "%F0%9F%98%80x"] {
        let reply = app
            .get(&format!("/v1/figures?period={bad}"))
            .by(&member)
            .send()
            .await;
        reply.expect_problem(400, "invalid-input");
    }
    app.get("/v1/figures").by(&member).send().await.expect(400);
    app.get("/v1/figures?period=2026-Q3")
        .send()
        .await
        .expect(401);
    // An empty quarter: every month listed, every count hidden.
    let f = figures(&app, &member, "period=2025-Q1").await;
    assert_eq!(f["groups"].as_array().unwrap().len(), 3);
    assert_eq!(f["total"]["reports"]["sent"], Value::Null);
    assert_eq!(f["suppressedBelow"], 5);
}
