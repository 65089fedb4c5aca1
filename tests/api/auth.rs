//! Token validation: every way a token can be wrong is refused with a problem+json 401 (or 403
//! when it is valid but its role does not fit), and good tokens of every algorithm are accepted.

use std::path::PathBuf;

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use schakel::{
    config::{AuthConfig, HttpConfig},
    domain::organisation::{OrganisationKind, Role},
};
use serde_json::{Value, json};

use crate::harness::{AUDIENCE, ISSUER, SECRET, TestApp, auth_config};

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

fn claims(org: uuid::Uuid) -> Value {
    json!({
        "iss": ISSUER,
        "aud": AUDIENCE,
        "exp": now() + 600,
        "sub": "ib-fatima",
        "name": "Fatima El Amrani",
        "org": org,
        "roles": ["care_coordinator"],
    })
}

fn sign_hs(alg: Algorithm, secret: &str, claims: &Value) -> String {
    encode(
        &Header::new(alg),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn hs256(claims: &Value) -> String {
    sign_hs(Algorithm::HS256, SECRET, claims)
}

fn keys_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keys")
}

fn sign_with(alg: Algorithm, private_pem: &str, kid: Option<&str>, claims: &Value) -> String {
    let pem = std::fs::read(keys_dir().join("private").join(private_pem)).unwrap();
    let key = match alg {
        Algorithm::EdDSA => EncodingKey::from_ed_pem(&pem),
        Algorithm::ES256 => EncodingKey::from_ec_pem(&pem),
        _ => EncodingKey::from_rsa_pem(&pem),
    }
    .unwrap();
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    encode(&header, claims, &key).unwrap()
}

async fn school(app: &TestApp) -> uuid::Uuid {
    app.organisation(OrganisationKind::School, "Basisschool De Regenboog")
        .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_good_token_yields_the_principal() {
    let app = TestApp::new().await;
    let org = school(&app).await;
    let mut with_actor = claims(org);
    with_actor["act"] = json!({"sub": "parnassys"});
    let reply = app.get("/v1/me").token(&hs256(&with_actor)).send().await;
    reply.expect(200);
    assert_eq!(reply.body["sub"], "ib-fatima");
    assert_eq!(reply.body["name"], "Fatima El Amrani");
    assert_eq!(reply.body["organisation"]["id"], org.to_string());
    assert_eq!(reply.body["organisation"]["kind"], "school");
    assert_eq!(reply.body["roles"], json!(["care_coordinator"]));
    assert_eq!(reply.body["actingClient"], "parnassys");
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_or_malformed_tokens_are_401_problems() {
    let app = TestApp::new().await;
    let reply = app.get("/v1/me").send().await;
    reply.expect_problem(401, "unauthorized");
    assert!(
        reply
            .header("www-authenticate")
            .unwrap()
            .starts_with("Bearer")
    );

    for header in [
        "Bearer",
        "Bearer not.a.jwt",
        "Basic dXNlcjpwYXNz",
        "Bearer a.b",
    ] {
        app.get("/v1/me")
            .header("authorization", header)
            .send()
            .await
            .expect_problem(401, "unauthorized");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_invalid_token_is_refused_with_a_reason() {
    let app = TestApp::new().await;
    let org = school(&app).await;
    let good = claims(org);
    let with = |key: &str, value: Value| {
        let mut c = good.clone();
        c[key] = value;
        c
    };
    let without = |key: &str| {
        let mut c = good.clone();
        c.as_object_mut().unwrap().remove(key);
        c
    };
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "expired",
            hs256(&with("exp", json!(now() - 120))),
            "expired",
        ),
        (
            "not yet valid",
            hs256(&with("nbf", json!(now() + 600))),
            "not valid yet",
        ),
        (
            "wrong issuer",
            hs256(&with("iss", json!("https://evil.example"))),
            "issuer",
        ),
        (
            "wrong audience",
            hs256(&with("aud", json!("another-api"))),
            "audience",
        ),
        (
            "wrong signature",
            sign_hs(
                Algorithm::HS256,
                "another-secret-another-secret-another",
                &good,
            ),
            "signature",
        ),
        (
            "HS384",
            sign_hs(Algorithm::HS384, SECRET, &good),
            "algorithm",
        ),
        (
            "RS256 without configured public keys",
            sign_with(Algorithm::RS256, "rsa.pem", None, &good),
            "algorithm",
        ),
        ("missing org", hs256(&without("org")), "`org`"),
        ("missing roles", hs256(&without("roles")), "`roles`"),
        ("empty roles", hs256(&with("roles", json!([]))), "`roles`"),
        ("missing sub", hs256(&without("sub")), "`sub`"),
        ("missing exp", hs256(&without("exp")), "`exp`"),
        ("missing iss", hs256(&without("iss")), "`iss`"),
        ("missing aud", hs256(&without("aud")), "`aud`"),
        (
            "org not a uuid",
            hs256(&with("org", json!("school-1"))),
            "claims",
        ),
        (
            "roles not strings",
            hs256(&with("roles", json!([1]))),
            "claims",
        ),
        (
            "unknown organisation",
            hs256(&with("org", json!(uuid::Uuid::new_v4()))),
            "organisation",
        ),
    ];
    for (case, token, reason) in cases {
        let reply = app.get("/v1/me").token(&token).send().await;
        assert_eq!(reply.status, 401, "{case}: {}", reply.text);
        reply.expect_problem(401, "unauthorized");
        let detail = reply.body["detail"].as_str().unwrap();
        assert!(detail.contains(reason), "{case}: {detail}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unsigned_token_is_refused() {
    let app = TestApp::new().await;
    let org = school(&app).await;
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims(org).to_string());
    let token = format!("{header}.{payload}.");
    app.get("/v1/me")
        .token(&token)
        .send()
        .await
        .expect_problem(401, "unauthorized");
}

#[tokio::test(flavor = "multi_thread")]
async fn roles_must_fit_the_organisation_kind() {
    let app = TestApp::new().await;
    let wijkteam = app
        .organisation(OrganisationKind::Wijkteam, "Buurtteam Noord")
        .await;
    for (roles, status) in [
        (json!(["youth_worker"]), 200),
        (json!(["youth_worker", "privacy_officer"]), 200),
        (json!(["teacher"]), 403),
        (json!(["youth_worker", "vt_worker"]), 403),
        (json!(["platform_admin"]), 403),
        (json!(["superuser"]), 403),
    ] {
        let mut c = claims(wijkteam);
        c["roles"] = roles.clone();
        let reply = app.get("/v1/me").token(&hs256(&c)).send().await;
        assert_eq!(reply.status, status, "{roles}: {}", reply.text);
        if status == 403 {
            reply.expect_problem(403, "forbidden");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deactivated_organisation_can_no_longer_sign_in() {
    let app = TestApp::new().await;
    let admin = app.platform_admin().await;
    let school = app.member(OrganisationKind::School, Role::Teacher).await;
    app.get("/v1/me").by(&school).send().await.expect(200);

    app.patch(&format!("/v1/organisations/{}", school.organisation))
        .by(&admin)
        .json(&json!({"active": false}))
        .send()
        .await
        .expect(200);
    let reply = app.get("/v1/me").by(&school).send().await;
    reply.expect_problem(401, "unauthorized");
    assert!(reply.body["detail"].as_str().unwrap().contains("inactive"));

    app.patch(&format!("/v1/organisations/{}", school.organisation))
        .by(&admin)
        .json(&json!({"active": true}))
        .send()
        .await
        .expect(200);
    app.get("/v1/me").by(&school).send().await.expect(200);
}

fn public_key_config(path: &str) -> AuthConfig {
    AuthConfig {
        hs256_secret: None,
        public_keys: Some(keys_dir().join(path)),
        ..auth_config()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn public_keys_from_pem_verify_eddsa_es256_and_rs256() {
    let app = TestApp::with(public_key_config("all.pem"), HttpConfig::default()).await;
    let org = school(&app).await;
    let good = claims(org);
    for (alg, key) in [
        (Algorithm::EdDSA, "ed25519.pem"),
        (Algorithm::ES256, "p256.pem"),
        (Algorithm::RS256, "rsa.pem"),
    ] {
        let reply = app
            .get("/v1/me")
            .token(&sign_with(alg, key, None, &good))
            .send()
            .await;
        assert_eq!(reply.status, 200, "{alg:?}: {}", reply.text);
    }
    // Without a configured secret, HS256 is not accepted at all (no key confusion).
    let reply = app.get("/v1/me").token(&hs256(&good)).send().await;
    reply.expect_problem(401, "unauthorized");
    assert!(reply.body["detail"].as_str().unwrap().contains("algorithm"));
}

#[tokio::test(flavor = "multi_thread")]
async fn public_keys_from_jwks_are_selected_by_kid() {
    let app = TestApp::with(public_key_config("public/jwks.json"), HttpConfig::default()).await;
    let org = school(&app).await;
    let good = claims(org);
    for (alg, key, kid) in [
        (Algorithm::EdDSA, "ed25519.pem", "ed-1"),
        (Algorithm::ES256, "p256.pem", "ec-1"),
        (Algorithm::RS256, "rsa.pem", "rsa-1"),
    ] {
        let reply = app
            .get("/v1/me")
            .token(&sign_with(alg, key, Some(kid), &good))
            .send()
            .await;
        assert_eq!(reply.status, 200, "{alg:?}: {}", reply.text);
    }
    // A kid that names no configured key.
    app.get("/v1/me")
        .token(&sign_with(
            Algorithm::EdDSA,
            "ed25519.pem",
            Some("ed-2"),
            &good,
        ))
        .send()
        .await
        .expect_problem(401, "unauthorized");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_directory_of_keys_is_loaded() {
    let app = TestApp::with(public_key_config("public"), HttpConfig::default()).await;
    let org = school(&app).await;
    app.get("/v1/me")
        .token(&sign_with(Algorithm::ES256, "p256.pem", None, &claims(org)))
        .send()
        .await
        .expect(200);
}
