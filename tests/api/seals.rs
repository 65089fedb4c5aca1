//! The access log's tamper evidence: signed seals, checkpoints kept outside the database, and
//! verification (library, `schakel audit verify`, `GET /v1/access-log/verification`). Each
//! tampering scenario an attacker with database write access could try is detected — given a
//! checkpoint where the scenario needs one.

use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use schakel::{
    audit::{
        self, Access, AccessAction, Actor, Checkpoint, FindingKind, RequestMeta, SealSigner,
        SealVerifiers, Verification,
    },
    auth::Principal,
    domain::organisation::{OrganisationKind, OrganisationRef, Role},
};
use uuid::Uuid;

use crate::harness::TestApp;

fn principal(organisation: Uuid) -> Principal {
    Principal {
        sub: "ib-fatima".into(),
        name: "Fatima El Amrani".into(),
        organisation: OrganisationRef {
            id: organisation,
            kind: OrganisationKind::School,
            name: "De Regenboog".into(),
            active: true,
        },
        roles: vec![Role::CareCoordinator],
        acting_client: Some("parnassys".into()),
    }
}

async fn log(conn: &mut AsyncPgConnection, organisation: Uuid, count: usize) {
    let principal = principal(organisation);
    let request = RequestMeta::new("req-1", Some("192.0.2.10".into()));
    let accesses: Vec<Access> = (0..count)
        .map(|_| {
            Access::allowed(AccessAction::Read, "signal", Uuid::now_v7())
                .about_child(Uuid::now_v7())
        })
        .collect();
    let actor = Actor {
        principal: &principal,
        request: &request,
    };
    audit::record(conn, actor, &accesses).await.unwrap();
}

/// An app, a connection as the database owner (who can switch the guards off), and an
/// organisation to log for.
struct Log {
    app: TestApp,
    conn: AsyncPgConnection,
    org: Uuid,
}

impl Log {
    async fn new() -> Self {
        let app = TestApp::new().await;
        let org = app
            .organisation(OrganisationKind::School, "De Regenboog")
            .await;
        let conn = app.db.connect().await;
        Self { app, conn, org }
    }

    async fn write(&mut self, count: usize) {
        log(&mut self.conn, self.org, count).await;
    }

    fn signer(&self) -> &SealSigner {
        &self.app.state.seal_signer
    }

    async fn seal(&mut self) -> usize {
        let signer = self.app.state.seal_signer.clone();
        audit::seal_all(&mut self.conn, &signer).await.unwrap()
    }

    async fn checkpoint(&mut self) -> Checkpoint {
        let signer = self.app.state.seal_signer.clone();
        audit::checkpoint::issue(&mut self.conn, &signer)
            .await
            .unwrap()
    }

    async fn verify(&mut self, checkpoint: Option<&Checkpoint>) -> Verification {
        let verifiers = self.app.state.seal_verifiers.clone();
        audit::verify(&mut self.conn, &verifiers, checkpoint)
            .await
            .unwrap()
    }

    /// Tampering as the owner, with the append-only triggers switched off.
    async fn tamper(&mut self, sql: &str) {
        self.conn
            .batch_execute(&format!(
                "SET session_replication_role = replica; {sql}; SET session_replication_role = origin;"
            ))
            .await
            .unwrap();
    }
}

fn kinds(report: &Verification) -> Vec<FindingKind> {
    let mut kinds: Vec<FindingKind> = report.findings.iter().map(|f| f.kind).collect();
    kinds.dedup();
    kinds
}

#[tokio::test(flavor = "multi_thread")]
async fn sealed_entries_verify_and_every_seal_is_signed() {
    let mut log = Log::new().await;
    let empty = log.verify(None).await;
    assert!(empty.is_intact(), "{empty:?}");

    log.write(3).await;
    let before = log.verify(None).await;
    assert!(
        before.is_intact(),
        "queued entries are not a finding: {before:?}"
    );
    assert_eq!(before.queued_entries, 3);

    assert_eq!(log.seal().await, 3);
    log.write(2).await;
    assert_eq!(log.seal().await, 2);
    assert_eq!(log.seal().await, 0);

    let report = log.verify(None).await;
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(
        (
            report.seals,
            report.signed_seals,
            report.sealed_entries,
            report.queued_entries
        ),
        (2, 2, 5, 0)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_log_refuses_update_delete_and_truncate() {
    let mut log = Log::new().await;
    log.write(1).await;
    log.seal().await;
    for statement in [
        "UPDATE access_log SET actor_sub = 'someone-else'",
        "DELETE FROM access_log",
        "TRUNCATE access_log CASCADE",
        "UPDATE access_log_seals SET seal_hash = 'x'",
        "DELETE FROM access_log_seals",
        "TRUNCATE access_log_seals",
    ] {
        let err = log.conn.batch_execute(statement).await.unwrap_err();
        assert!(
            err.to_string().contains("append-only"),
            "{statement}: {err}"
        );
    }
    assert!(log.verify(None).await.is_intact());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_altered_entry_is_detected() {
    let mut log = Log::new().await;
    log.write(3).await;
    log.seal().await;
    log.tamper("UPDATE access_log SET actor_sub = 'covering-tracks' WHERE id = (SELECT min(id) FROM access_log)")
        .await;
    assert_eq!(kinds(&log.verify(None).await), [FindingKind::Altered]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deleted_sealed_entry_is_detected() {
    let mut log = Log::new().await;
    log.write(3).await;
    log.seal().await;
    log.tamper("DELETE FROM access_log WHERE id = (SELECT max(id) FROM access_log)")
        .await;
    let report = log.verify(None).await;
    assert!(kinds(&report).contains(&FindingKind::Missing), "{report:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn cutting_off_the_newest_seals_is_detected_given_a_checkpoint() {
    let mut log = Log::new().await;
    for _ in 0..2 {
        log.write(2).await;
        log.seal().await;
    }
    let kept = log.checkpoint().await;
    for _ in 0..2 {
        log.write(2).await;
        log.seal().await;
    }
    let newest = log.checkpoint().await;
    // The two newest seals and every entry they cover, gone.
    log.tamper(
        "DELETE FROM access_log_unsealed; \
         DELETE FROM access_log WHERE id IN (SELECT unnest(entry_ids) FROM access_log_seals \
           WHERE id >= (SELECT max(id) - 1 FROM access_log_seals)); \
         DELETE FROM access_log_seals WHERE id >= (SELECT max(id) - 1 FROM access_log_seals)",
    )
    .await;
    // What is left is a consistent, shorter log: only an outside anchor can tell.
    assert!(log.verify(None).await.is_intact());
    let report = log.verify(Some(&newest)).await;
    assert_eq!(kinds(&report), [FindingKind::Truncated], "{report:?}");
    assert!(report.findings[0].message.contains("cut off"), "{report:?}");
    // A checkpoint from before the cut still holds: the log up to it is intact.
    let older = log.verify(Some(&kept)).await;
    assert!(older.is_intact(), "{older:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_older_checkpoint_still_verifies_after_the_log_grew() {
    let mut log = Log::new().await;
    log.write(2).await;
    log.seal().await;
    log.write(1).await;
    let checkpoint = log.checkpoint().await;
    assert_eq!(checkpoint.pending_entries.len(), 1);
    for _ in 0..3 {
        log.write(2).await;
        log.seal().await;
    }
    let report = log.verify(Some(&checkpoint)).await;
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.checkpoint, Some(checkpoint.sequence));
}

#[tokio::test(flavor = "multi_thread")]
async fn deleting_or_altering_an_unsealed_entry_is_detected_given_a_checkpoint() {
    let mut log = Log::new().await;
    log.write(2).await;
    log.seal().await;
    log.write(2).await;
    let checkpoint = log.checkpoint().await;
    assert_eq!(checkpoint.pending_entries.len(), 2);
    let first = checkpoint.pending_entries[0];

    // Dropping only the queue row (all the runtime role could do) shows without a checkpoint.
    log.tamper(&format!(
        "DELETE FROM access_log_unsealed WHERE entry_id = {first}"
    ))
    .await;
    assert_eq!(kinds(&log.verify(None).await), [FindingKind::Unsealed]);

    // The owner removes the entry too: nothing in the database remembers it; the checkpoint does.
    log.tamper(&format!("DELETE FROM access_log WHERE id = {first}"))
        .await;
    assert!(log.verify(None).await.is_intact());
    let report = log.verify(Some(&checkpoint)).await;
    assert_eq!(kinds(&report), [FindingKind::Missing], "{report:?}");
    assert!(report.findings[0].message.contains(&first.to_string()));

    // Altering the other one before it was sealed: the checkpoint's digest no longer matches,
    // even after the sealer sealed the altered entry.
    let mut log = Log::new().await;
    log.write(2).await;
    let checkpoint = log.checkpoint().await;
    let second_of_new = checkpoint.pending_entries[1];
    log.tamper(&format!(
        "UPDATE access_log SET actor_sub = 'covering-tracks' WHERE id = {second_of_new}"
    ))
    .await;
    log.seal().await;
    assert!(log.verify(None).await.is_intact());
    assert_eq!(
        kinds(&log.verify(Some(&checkpoint)).await),
        [FindingKind::Altered]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_entry_forged_into_the_log_is_detected() {
    let mut log = Log::new().await;
    log.write(1).await;
    log.seal().await;
    let forged = format!(
        "INSERT INTO access_log (actor_sub, actor_name, organisation_id, roles, action, \
         resource_type, outcome, request_id) VALUES ('x', 'X', '{}', '{{teacher}}', 'read', \
         'signal', 'allowed', 'forged')",
        log.org
    );
    // Past the sealer (triggers off): never queued, so never sealed.
    log.tamper(&forged).await;
    assert_eq!(kinds(&log.verify(None).await), [FindingKind::Unsealed]);

    // Sealed by the attacker with a correct SHA-256 chain but their own key: forged.
    log.tamper("INSERT INTO access_log_unsealed (entry_id) SELECT max(id) FROM access_log")
        .await;
    let attacker = SealSigner::generate();
    audit::seal_all(&mut log.conn, &attacker).await.unwrap();
    let report = log.verify(None).await;
    assert_eq!(kinds(&report), [FindingKind::Forged], "{report:?}");
    assert!(
        report.findings[0].message.contains("not configured"),
        "{report:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn re_sealing_after_tampering_is_detected() {
    let mut log = Log::new().await;
    for _ in 0..3 {
        log.write(2).await;
        log.seal().await;
    }
    let checkpoint = log.checkpoint().await;
    // The attacker rewrites an entry, throws the seals away and re-seals everything: the
    // SHA-256 chain is consistent again, as under the unkeyed scheme.
    log.tamper(
        "UPDATE access_log SET actor_sub = 'covering-tracks' WHERE id = (SELECT min(id) FROM access_log); \
         DELETE FROM access_log_seals; \
         INSERT INTO access_log_unsealed (entry_id) SELECT id FROM access_log",
    )
    .await;
    let attacker = SealSigner::generate();
    audit::seal_all(&mut log.conn, &attacker).await.unwrap();
    let report = log.verify(None).await;
    assert_eq!(kinds(&report), [FindingKind::Forged], "{report:?}");

    // Without signatures at all (the old scheme): nothing anchors the chain.
    log.tamper("UPDATE access_log_seals SET key_id = NULL, signature = NULL")
        .await;
    let report = log.verify(None).await;
    assert_eq!(kinds(&report), [FindingKind::Forged], "{report:?}");
    assert!(
        report.findings[0].message.contains("not signed"),
        "{report:?}"
    );

    // And the checkpoint kept before sees its seal gone.
    let report = log.verify(Some(&checkpoint)).await;
    assert!(
        kinds(&report).contains(&FindingKind::Truncated),
        "{report:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_broken_seal_chain_is_detected() {
    let mut log = Log::new().await;
    for _ in 0..3 {
        log.write(1).await;
        log.seal().await;
    }
    log.tamper(
        "UPDATE access_log_seals SET prev_hash = repeat('1', 64) WHERE id = (SELECT max(id) FROM access_log_seals)",
    )
    .await;
    let report = log.verify(None).await;
    let found = kinds(&report);
    assert!(found.contains(&FindingKind::BrokenChain), "{report:?}");
    assert!(
        found.contains(&FindingKind::Forged),
        "the signature covers the link: {report:?}"
    );

    // Dropping a whole seal is also seen: its entries are then neither sealed nor queued.
    log.tamper("DELETE FROM access_log_seals WHERE id = (SELECT min(id) FROM access_log_seals)")
        .await;
    let report = log.verify(None).await;
    assert!(
        kinds(&report).contains(&FindingKind::Unsealed),
        "{report:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_forged_or_altered_checkpoint_proves_nothing() {
    let mut log = Log::new().await;
    log.write(2).await;
    log.seal().await;
    let genuine = log.checkpoint().await;
    assert!(log.verify(Some(&genuine)).await.is_intact());

    let mut altered = genuine.clone();
    altered.sequence += 1;
    assert_eq!(
        kinds(&log.verify(Some(&altered)).await),
        [FindingKind::Forged]
    );

    let attacker = SealSigner::generate();
    let mut foreign = genuine.clone();
    foreign.key_id = attacker.key_id().to_owned();
    foreign.signature = attacker.sign(foreign.message().as_bytes());
    assert_eq!(
        kinds(&log.verify(Some(&foreign)).await),
        [FindingKind::Forged]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn after_a_key_rotation_old_seals_verify_with_the_old_public_key() {
    let mut log = Log::new().await;
    let old = log.signer().clone();
    log.write(2).await;
    log.seal().await;
    let new = SealSigner::generate();
    log.write(2).await;
    audit::seal_all(&mut log.conn, &new).await.unwrap();

    let mut both = SealVerifiers::default();
    both.add(old.verifying_key());
    both.add(new.verifying_key());
    let report = audit::verify(&mut log.conn, &both, None).await.unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.signed_seals, 2);

    // The old public key dropped from the configuration: its seals no longer verify.
    let mut only_new = SealVerifiers::default();
    only_new.add(new.verifying_key());
    let report = audit::verify(&mut log.conn, &only_new, None).await.unwrap();
    assert_eq!(kinds(&report), [FindingKind::Forged], "{report:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn seals_made_before_signing_are_anchored_by_the_first_signed_seal() {
    let mut log = Log::new().await;
    for _ in 0..2 {
        log.write(1).await;
        log.seal().await;
    }
    // As after upgrading: the oldest seal predates signing.
    log.tamper("UPDATE access_log_seals SET key_id = NULL, signature = NULL WHERE id = (SELECT min(id) FROM access_log_seals)")
        .await;
    let report = log.verify(None).await;
    assert!(report.is_intact(), "{report:?}");
    assert_eq!((report.seals, report.signed_seals), (2, 1));

    // An unsigned seal after a signed one is not an upgrade but a forgery.
    log.write(1).await;
    log.seal().await;
    log.tamper("UPDATE access_log_seals SET key_id = NULL, signature = NULL WHERE id = (SELECT max(id) FROM access_log_seals)")
        .await;
    let report = log.verify(None).await;
    assert_eq!(kinds(&report), [FindingKind::Forged], "{report:?}");
    assert_eq!(
        report.findings.len(),
        2,
        "unsigned after signed, and the head unsigned: {report:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn entries_committed_out_of_order_are_sealed_later_not_lost() {
    let mut log = Log::new().await;
    let mut slow = log.app.db.connect().await;
    // A transaction takes an id first but commits last.
    slow.batch_execute("BEGIN").await.unwrap();
    self::log(&mut slow, log.org, 1).await;
    log.write(1).await;
    // The sealer neither waits for nor skips the slow transaction's entry.
    assert_eq!(log.seal().await, 1);
    slow.batch_execute("COMMIT").await.unwrap();
    assert_eq!(log.seal().await, 1);
    let report = log.verify(None).await;
    assert!(report.is_intact(), "{report:?}");
    assert_eq!((report.seals, report.sealed_entries), (2, 2));
}

#[tokio::test(flavor = "multi_thread")]
async fn writers_do_not_wait_for_each_other() {
    let mut log = Log::new().await;
    // Two open transactions write entries at the same time; neither blocks the other.
    let mut a = log.app.db.connect().await;
    let mut b = log.app.db.connect().await;
    for conn in [&mut a, &mut b] {
        conn.batch_execute("BEGIN; SET LOCAL lock_timeout = '1s'")
            .await
            .unwrap();
    }
    self::log(&mut a, log.org, 2).await;
    self::log(&mut b, log.org, 2).await;
    a.batch_execute("COMMIT").await.unwrap();
    b.batch_execute("COMMIT").await.unwrap();
    assert_eq!(log.seal().await, 4);
    assert!(log.verify(None).await.is_intact());
}

/// `schakel audit verify` for an auditor holding only the public key: exit code 0 and "intact"
/// over a sealed log with entries still queued, also against a checkpoint given as JSON or as a
/// file; exit code 1 naming each finding once the log was cut or altered.
#[tokio::test(flavor = "multi_thread")]
async fn auditors_verify_with_the_binary_and_the_public_key_only() {
    let mut log = Log::new().await;
    log.write(3).await;
    log.seal().await;
    log.write(1).await;
    let checkpoint = log.checkpoint().await;
    let dir = std::env::temp_dir().join(format!("schakel-audit-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let public = dir.join("public.pem");
    std::fs::write(&public, log.signer().public_pem()).unwrap();
    let checkpoint_file = dir.join("checkpoint.json");
    std::fs::write(&checkpoint_file, checkpoint.to_json()).unwrap();
    let url = log.app.db.url.clone();
    let env = [
        ("DATABASE_URL", url.as_str()),
        ("AUDIT_VERIFYING_KEYS", public.to_str().unwrap()),
    ];

    let intact = crate::cli::stdout(&crate::cli::run(&env, &["audit", "verify"]));
    assert!(
        intact.contains("1 seals (1 signed) over 3 entries, 1 entries queued"),
        "{intact}"
    );
    assert!(intact.contains("intact"), "{intact}");
    for given in [
        checkpoint.to_json(),
        checkpoint_file.to_string_lossy().into_owned(),
    ] {
        let report = crate::cli::stdout(&crate::cli::run(
            &env,
            &["audit", "verify", "--checkpoint", &given],
        ));
        assert!(
            report.contains(&format!("checkpoint at seal {}", checkpoint.sequence)),
            "{report}"
        );
        assert!(report.contains("intact"), "{report}");
    }

    log.tamper("UPDATE access_log SET actor_sub = 'covering-tracks' WHERE id = (SELECT min(id) FROM access_log)")
        .await;
    log.tamper("DELETE FROM access_log_unsealed; DELETE FROM access_log WHERE id = (SELECT max(id) FROM access_log)")
        .await;
    let broken = crate::cli::run(
        &env,
        &["audit", "verify", "--checkpoint", &checkpoint.to_json()],
    );
    assert_eq!(broken.status.code(), Some(1));
    let report = String::from_utf8_lossy(&broken.stdout);
    assert!(report.contains("BROKEN (altered): seal"), "{report}");
    assert!(report.contains("BROKEN (missing): entry"), "{report}");
    assert!(String::from_utf8_lossy(&broken.stderr).contains("not intact"));

    // Without any key there is nothing to verify with; a garbled checkpoint is refused.
    let keyless = crate::cli::run(&env[..1], &["audit", "verify"]);
    assert!(String::from_utf8_lossy(&keyless.stderr).contains("AUDIT_VERIFYING_KEYS"));
    let garbled = crate::cli::run(
        &env,
        &["audit", "verify", "--checkpoint", "{\"sequence\": 1}"],
    );
    assert!(!garbled.status.success());
    assert!(String::from_utf8_lossy(&garbled.stderr).contains("not a checkpoint"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `schakel audit keygen`: a private key only its owner may read, never overwritten; prints the
/// key id and the public key a verifier needs.
#[test]
fn keygen_writes_a_private_key_and_prints_its_public_key() {
    let dir = std::env::temp_dir().join(format!("schakel-keygen-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("audit-signing-key.pem");
    let printed = crate::cli::stdout(&crate::cli::run(
        &[],
        &["audit", "keygen", "--out", out.to_str().unwrap()],
    ));
    let signer = SealSigner::from_pem(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert!(
        printed.starts_with(&format!("key id {}\n", signer.key_id())),
        "{printed}"
    );
    assert!(printed.contains(&signer.public_pem()), "{printed}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&out).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "{mode:o}");
    }
    let again = crate::cli::run(&[], &["audit", "keygen", "--out", out.to_str().unwrap()]);
    assert!(!again.status.success(), "never overwrites a key");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The test database's URL, connecting as another role.
fn url_as(url: &str, role: &str, password: &str) -> String {
    let scheme_end = url.find("://").map(|i| i + 3).unwrap_or(0);
    let authority_end = url[scheme_end..]
        .find('/')
        .map(|i| i + scheme_end)
        .unwrap_or(url.len());
    let host_start = url[scheme_end..authority_end]
        .rfind('@')
        .map(|i| i + scheme_end + 1)
        .unwrap_or(scheme_end);
    format!(
        "{}{role}:{password}@{}",
        &url[..scheme_end],
        &url[host_start..]
    )
}

/// Least privilege: the role `serve` and `worker` run as writes and seals the log, but can
/// neither change nor remove entries or seals, nor switch the append-only triggers off.
#[tokio::test(flavor = "multi_thread")]
async fn the_runtime_role_cannot_rewrite_the_log_or_disable_its_guards() {
    let mut log = Log::new().await;
    let role = format!("schakel_runtime_{}", Uuid::new_v4().simple());
    log.conn
        .batch_execute(&format!("CREATE ROLE {role} LOGIN PASSWORD 'runtime'"))
        .await
        .unwrap();
    schakel::db::grant_runtime_role(&log.app.db.url, &role)
        .await
        .expect("grant");
    assert!(
        schakel::db::grant_runtime_role(&log.app.db.url, "x; DROP TABLE access_log")
            .await
            .is_err()
    );

    let mut runtime = AsyncPgConnection::establish(&url_as(&log.app.db.url, &role, "runtime"))
        .await
        .expect("connect as the runtime role");
    // What the application does: log, seal, issue checkpoints, verify, read.
    let signer = log.signer().clone();
    let verifiers = log.app.state.seal_verifiers.clone();
    self::log(&mut runtime, log.org, 2).await;
    assert_eq!(audit::seal_all(&mut runtime, &signer).await.unwrap(), 2);
    self::log(&mut runtime, log.org, 1).await;
    let checkpoint = audit::checkpoint::issue(&mut runtime, &signer)
        .await
        .unwrap();
    let report = audit::verify(&mut runtime, &verifiers, Some(&checkpoint))
        .await
        .unwrap();
    assert!(report.is_intact(), "{report:?}");
    runtime
        .batch_execute(
            "SELECT count(*) FROM children; SELECT count(*) FROM __diesel_schema_migrations",
        )
        .await
        .unwrap();

    for statement in [
        "UPDATE access_log SET actor_sub = 'someone-else'",
        "DELETE FROM access_log",
        "TRUNCATE access_log CASCADE",
        "UPDATE access_log_seals SET seal_hash = 'x'",
        "DELETE FROM access_log_seals",
        "TRUNCATE access_log_seals",
        "ALTER TABLE access_log DISABLE TRIGGER ALL",
        "ALTER TABLE access_log_seals DISABLE TRIGGER access_log_seals_append_only",
        "DROP TRIGGER access_log_append_only ON access_log",
        "SET session_replication_role = replica",
        "DROP TABLE access_log CASCADE",
        "DELETE FROM __diesel_schema_migrations",
    ] {
        let err = runtime.batch_execute(statement).await.unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("permission denied") || message.contains("must be owner"),
            "{statement}: {message}"
        );
    }
    assert!(log.verify(None).await.is_intact());

    drop(runtime);
    log.conn
        .batch_execute(&format!("DROP OWNED BY {role}; DROP ROLE {role}"))
        .await
        .unwrap();
}

/// The privacy officer's view of the log's integrity: a signed checkpoint that the operator's
/// verifier accepts, and a verification report that turns `intact: false` with typed findings
/// once the log was tampered with. Both reads are logged; nobody else may make them.
#[tokio::test(flavor = "multi_thread")]
async fn privacy_officers_fetch_a_checkpoint_and_a_verification() {
    let app = TestApp::new().await;
    let coordinator = app
        .member(OrganisationKind::School, Role::CareCoordinator)
        .await;
    let officer = app
        .member_of(coordinator.organisation, Role::PrivacyOfficer)
        .await;
    app.child(&coordinator, "LL-seal").await;
    let mut conn = app.db.connect().await;
    audit::seal_all(&mut conn, &app.state.seal_signer)
        .await
        .unwrap();

    let reply = app
        .get("/v1/access-log/checkpoint")
        .by(&officer)
        .send()
        .await;
    reply.expect(200);
    let checkpoint = Checkpoint::from_json(&reply.body.to_string()).expect("the CLI reads it");
    assert!(checkpoint.sequence >= 1);
    assert_eq!(checkpoint.key_id, app.state.seal_signer.key_id());
    let report = audit::verify(&mut conn, &app.state.seal_verifiers, Some(&checkpoint))
        .await
        .unwrap();
    assert!(report.is_intact(), "{report:?}");

    let verification = app
        .get("/v1/access-log/verification")
        .by(&officer)
        .send()
        .await;
    verification.expect(200);
    assert_eq!(verification.body["intact"], true, "{}", verification.body);
    assert_eq!(verification.body["findings"], serde_json::json!([]));
    assert_eq!(
        verification.body["keys"][0]["keyId"],
        checkpoint.key_id.as_str()
    );
    assert_eq!(verification.body["keys"][0]["signing"], true);

    conn.batch_execute(
        "SET session_replication_role = replica; \
         UPDATE access_log SET actor_name = 'Iemand Anders' WHERE id = (SELECT min(id) FROM access_log); \
         SET session_replication_role = origin",
    )
    .await
    .unwrap();
    let broken = app
        .get("/v1/access-log/verification")
        .by(&officer)
        .send()
        .await;
    broken.expect(200);
    assert_eq!(broken.body["intact"], false);
    assert_eq!(
        broken.body["findings"][0]["kind"], "altered",
        "{}",
        broken.body
    );

    let log = app.get("/v1/access-log?limit=3").by(&officer).send().await;
    let types: Vec<&str> = log.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resourceType"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "access_log_verification",
            "access_log_verification",
            "access_log_checkpoint"
        ]
    );

    for path in ["/v1/access-log/checkpoint", "/v1/access-log/verification"] {
        app.get(path)
            .by(&coordinator)
            .send()
            .await
            .expect_problem(403, "forbidden");
    }
}
