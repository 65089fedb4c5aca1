//! Reference data: every enumeration with Dutch and English labels, without a token.

use serde_json::Value;

use crate::harness::TestApp;

#[tokio::test(flavor = "multi_thread")]
async fn reference_lists_are_public_and_labelled() {
    let app = TestApp::new().await;
    let lists = app.get("/v1/reference").send().await;
    lists.expect(200);
    let names: Vec<&str> = lists.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"signal-categories"));
    for list in lists.body["items"].as_array().unwrap() {
        let reply = app.get(list["href"].as_str().unwrap()).send().await;
        reply.expect(200);
        let items = reply.body["items"].as_array().unwrap();
        assert!(!items.is_empty());
        for item in items {
            for field in ["code", "labelNl", "labelEn", "description"] {
                assert!(
                    item[field].as_str().is_some_and(|s| !s.is_empty()),
                    "{}: {item}",
                    list["name"]
                );
            }
        }
    }

    let categories = app.get("/v1/reference/signal-categories").send().await;
    let codes: Vec<&str> = categories.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    for required in [
        "physical_injury",
        "physical_neglect",
        "emotional_neglect",
        "emotional_abuse",
        "sexual_abuse",
        "witnessing_domestic_violence",
        "behaviour_change",
        "statements_by_child",
        "parent_behaviour",
        "absenteeism",
        "hygiene_and_care",
        "development",
        "other",
    ] {
        assert!(codes.contains(&required), "{required}");
    }
    let witnessing: &Value = categories.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "witnessing_domestic_violence")
        .unwrap();
    assert_eq!(witnessing["labelNl"], "Getuige van huiselijk geweld");

    app.get("/v1/reference/colours")
        .send()
        .await
        .expect_problem(400, "invalid-input");
}

/// Every code the spec allows for an enumeration is in its reference list, and vice versa.
#[test]
fn reference_lists_cover_the_spec_enumerations() {
    let doc = schakel::openapi::document();
    let schemas = &doc["components"]["schemas"];
    for (schema, list) in [
        ("SignalCategory", "signal-categories"),
        ("SignalSource", "signal-sources"),
        ("SignalDirection", "signal-directions"),
        ("Relationship", "guardian-relationships"),
        ("ParentalAuthority", "parental-authority"),
        ("AuthoritySource", "authority-sources"),
        ("OrganisationKind", "organisation-kinds"),
        ("Role", "roles"),
        ("Answer", "answers"),
        ("Question", "questions"),
        ("Decision", "decisions"),
        ("Step", "meldcode-steps"),
        ("SkipReason", "skip-reasons"),
        ("HandoffKind", "handoff-kinds"),
        ("HandoffStatus", "handoff-statuses"),
        ("LegalBasis", "legal-bases"),
        ("AgeBand", "age-bands"),
        ("Urgency", "urgencies"),
        ("ParentsNotInformedReason", "parents-not-informed-reasons"),
        ("ConsentPurpose", "consent-purposes"),
        ("ConsentDecision", "consent-decisions"),
        ("ConsentMethod", "consent-methods"),
        ("ConsentStatus", "consent-statuses"),
        ("FeedbackCategory", "feedback-categories"),
        ("AssessmentOutcome", "assessment-outcomes"),
        ("Audience", "audiences"),
        ("EventType", "event-types"),
        ("Deadline", "deadlines"),
        ("ProposalSubject", "proposal-subjects"),
        ("ApprovalVerdict", "approval-verdicts"),
        ("HelpQuestion", "help-questions"),
        ("PartnerRole", "partner-roles"),
        ("LinkStatus", "partner-link-statuses"),
        ("TeamRole", "team-roles"),
        ("MeetingKind", "meeting-kinds"),
        ("Theme", "review-themes"),
        ("ReviewStatus", "review-statuses"),
        ("ChronologyEvent", "chronology-events"),
    ] {
        let mut in_spec: Vec<&str> = schemas[schema]["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("{schema} is not an enum in the spec"))
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        in_spec.sort();
        let mut in_list: Vec<String> = reference_codes(list);
        in_list.sort();
        assert_eq!(in_spec, in_list, "{schema} vs /reference/{list}");
    }
}

fn reference_codes(list: &str) -> Vec<String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        // Reference lists need no database: a client on an unconnected pool serves them.
        let pool = schakel::db::pool(&schakel::config::DatabaseConfig {
            url: "postgres://nobody@127.0.0.1:1/none".into(),
            migration_url: "postgres://nobody@127.0.0.1:1/none".into(),
            runtime_role: None,
            pool_size: 1,
            statement_timeout: std::time::Duration::from_secs(1),
        })
        .unwrap();
        let state = schakel::AppState::new(
            pool,
            &crate::harness::auth_config(),
            schakel::config::HttpConfig::default(),
        )
        .unwrap();
        let client = poem::test::TestClient::new(schakel::app(state));
        let response = client.get(format!("/v1/reference/{list}")).send().await;
        let reply = crate::harness::Reply::from_response(response.0).await;
        reply.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["code"].as_str().unwrap().to_owned())
            .collect()
    })
}
