//! `GET /v1/me` and the health checks.

use schakel::domain::{
    organisation::{OrganisationKind, Role},
    reference::Labelled,
};

use crate::harness::TestApp;

#[tokio::test(flavor = "multi_thread")]
async fn me_shows_the_principal_as_the_server_sees_it() {
    let app = TestApp::new().await;
    let vt = app
        .organisation(OrganisationKind::VeiligThuis, "Veilig Thuis Utrecht")
        .await;
    let token = app.token(
        vt,
        &["vt_worker", "privacy_officer", "vt_worker"],
        "vt-noor",
    );
    let reply = app.get("/v1/me").token(&token).send().await;
    reply.expect(200);
    insta::assert_json_snapshot!(reply.body, {".organisation.id" => "[id]"}, @r#"
    {
      "name": "Test Professional",
      "organisation": {
        "id": "[id]",
        "kind": "veilig_thuis",
        "name": "Veilig Thuis Utrecht"
      },
      "roles": [
        "vt_worker",
        "privacy_officer"
      ],
      "sub": "vt-noor"
    }
    "#);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_role_of_every_fitting_kind_may_ask_who_it_is() {
    let app = TestApp::new().await;
    for &kind in OrganisationKind::ALL {
        for role in Role::ALL.iter().copied().filter(|r| r.fits(kind)) {
            let member = app.member(kind, role).await;
            let reply = app.get("/v1/me").by(&member).send().await;
            reply.expect(200);
            assert_eq!(reply.body["roles"][0], role.as_str());
            assert_eq!(reply.body["organisation"]["kind"], kind.as_str());
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn health_checks_need_no_token() {
    let app = TestApp::new().await;
    let live = app.get("/v1/health/live").send().await;
    live.expect(200);
    assert_eq!(live.body["status"], "up");
    let ready = app.get("/v1/health/ready").send().await;
    ready.expect(200);
    assert_eq!(ready.body["status"], "up");
}
