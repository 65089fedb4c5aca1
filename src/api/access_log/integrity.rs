//! The access log's integrity, for the privacy officer: a signed checkpoint to keep outside
//! schakel, and a verification of the whole log now. Both reads are logged.

use std::time::Instant;

use poem_openapi::{ApiResponse, Enum, Object, OpenApi, payload::Json, types::Example};

use crate::{
    api::{
        ApiTags,
        context::Ctx,
        problem::{ApiResult, Authenticated},
        types::{Timestamp, example_time},
    },
    audit::{self, Access, AccessAction, FindingKind, keys::public_pem},
    auth::{
        BearerAuth,
        policy::{self, Action},
    },
    effects::Effects,
    error::AppError,
};

/// A signed statement of the access log's state: its newest seal and the entries not yet
/// sealed. Keep it as it is, outside schakel; later,
/// `schakel audit verify --checkpoint '<this JSON>'` proves that nothing it covers was cut off
/// or rewritten since.
#[derive(Object)]
#[oai(rename_all = "camelCase", example)]
pub struct AccessLogCheckpoint {
    /// The newest seal's sequence number; 0 before the first seal.
    pub sequence: i64,
    /// That seal's SHA-256 chain hash (hex).
    #[oai(validator(pattern = "^[0-9a-f]{64}$"))]
    pub seal_hash: String,
    /// Entries committed but not yet sealed at `issuedAt`, in order.
    pub pending_entries: Vec<i64>,
    /// SHA-256 (hex) over the pending entries' digests.
    #[oai(validator(pattern = "^[0-9a-f]{64}$"))]
    pub pending_digest: String,
    pub issued_at: Timestamp,
    /// The signing key's id (first 16 hex digits of SHA-256 over its public key).
    #[oai(validator(pattern = "^[0-9a-f]{16}$"))]
    pub key_id: String,
    /// Ed25519 signature (base64) over the fields above.
    pub signature: String,
}

impl Example for AccessLogCheckpoint {
    fn example() -> Self {
        Self {
            sequence: 1_204,
            seal_hash: "9f2c4e1a7b3d5f60818293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8".into(),
            pending_entries: vec![1_203_997, 1_203_998],
            pending_digest: "1b2c3d4e5f60718293a4b5c6d7e8f90a9f2c4e1a7b3d5f60818293a4b5c6d7e8"
                .into(),
            issued_at: example_time(),
            key_id: "5e0c7a1f3b9d2e48".into(),
            signature: "mJ3K1e7Yq0sX2b9Vn4pR8tW6uZ5aC1dE3fG7hI9jK0lM2nO4pQ6rS8tU0vW2xY4zA6bC8dE0fG2hI4jK6lM8nOA==".into(),
        }
    }
}

/// What kind of inconsistency verification found.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum VerificationFindingKind {
    /// An entry no longer matches its seal or checkpoint.
    Altered,
    /// A sealed entry is gone.
    Missing,
    /// An entry is sealed twice, or sealed and still queued.
    DoubleSealed,
    /// An entry is neither sealed nor queued: inserted past the sealer.
    Unsealed,
    /// A seal whose signature is invalid, by an unknown key, or missing.
    Forged,
    /// A seal does not chain to the seal before it.
    BrokenChain,
    /// Seals a checkpoint names are gone or different.
    Truncated,
}

impl From<FindingKind> for VerificationFindingKind {
    fn from(kind: FindingKind) -> Self {
        match kind {
            FindingKind::Altered => Self::Altered,
            FindingKind::Missing => Self::Missing,
            FindingKind::DoubleSealed => Self::DoubleSealed,
            FindingKind::Unsealed => Self::Unsealed,
            FindingKind::Forged => Self::Forged,
            FindingKind::BrokenChain => Self::BrokenChain,
            FindingKind::Truncated => Self::Truncated,
        }
    }
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct VerificationFinding {
    pub kind: VerificationFindingKind,
    pub message: String,
}

/// A public key seals are verified with.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
pub struct SealKey {
    pub key_id: String,
    /// Ed25519 public key, SPKI PEM.
    pub public_key: String,
    /// Whether this server signs new seals with it.
    pub signing: bool,
}

/// The whole access log, verified now: every seal's chain link, signature and entries.
#[derive(Object)]
#[oai(rename_all = "camelCase", example)]
pub struct AccessLogVerification {
    /// No findings.
    pub intact: bool,
    pub seals: i64,
    pub signed_seals: i64,
    pub sealed_entries: i64,
    /// Entries committed and waiting for the sealer (it runs every 2 seconds).
    pub queued_entries: i64,
    pub findings: Vec<VerificationFinding>,
    pub keys: Vec<SealKey>,
    pub verified_at: Timestamp,
    pub duration_ms: i64,
}

impl Example for AccessLogVerification {
    fn example() -> Self {
        Self {
            intact: true,
            seals: 1_204,
            signed_seals: 1_204,
            sealed_entries: 1_203_996,
            queued_entries: 2,
            findings: vec![],
            keys: vec![SealKey {
                key_id: "5e0c7a1f3b9d2e48".into(),
                public_key: "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n".into(),
                signing: true,
            }],
            verified_at: example_time(),
            duration_ms: 6_480,
        }
    }
}

#[derive(ApiResponse)]
pub enum CheckpointResponse {
    /// The checkpoint, signed now.
    #[oai(status = 200)]
    Ok(Json<AccessLogCheckpoint>),
}

#[derive(ApiResponse)]
pub enum VerificationResponse {
    /// The verification report (also when the log is not intact: see `intact` and `findings`).
    #[oai(status = 200)]
    Ok(Json<AccessLogVerification>),
}

/// A count as the spec's integer (int64).
fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

pub struct AccessLogIntegrityApi;

#[OpenApi(tag = "ApiTags::AccessLog")]
impl AccessLogIntegrityApi {
    /// Get a signed checkpoint of the access log
    ///
    /// The newest seal and the entries not yet sealed, signed now with the sealing key. Keep it
    /// outside schakel (the structured log also gets one on every seal): verification given it
    /// proves that nothing it covers was cut off or rewritten, even by someone who controls the
    /// database. Privacy officers only; this read is logged.
    #[oai(
        path = "/access-log/checkpoint",
        method = "get",
        operation_id = "getAccessLogCheckpoint"
    )]
    async fn checkpoint(
        &self,
        auth: BearerAuth,
        cx: Ctx,
    ) -> ApiResult<CheckpointResponse, Authenticated> {
        let principal = &auth.0;
        policy::require(principal, Action::ReadAccessLog)?;
        let actor = cx.actor(principal);
        let signer = &cx.state.seal_signer;
        let checkpoint = cx
            .db
            .transaction(async |conn| {
                let checkpoint = audit::checkpoint::issue(conn, signer).await?;
                Effects::new()
                    .access(Access::unnamed(AccessAction::Read, "access_log_checkpoint"))
                    .write(conn, actor)
                    .await?;
                Ok(checkpoint)
            })
            .await?;
        Ok(CheckpointResponse::Ok(Json(AccessLogCheckpoint {
            sequence: checkpoint.sequence,
            seal_hash: checkpoint.seal_hash,
            pending_entries: checkpoint.pending_entries,
            pending_digest: checkpoint.pending_digest,
            issued_at: checkpoint.issued_at.into(),
            key_id: checkpoint.key_id,
            signature: checkpoint.signature,
        })))
    }

    /// Verify the access log
    ///
    /// Recomputes the whole seal chain now, in one snapshot: every seal's link to the one before,
    /// its Ed25519 signature, and its entries; and that every entry is sealed once or waiting
    /// to be. Findings name the seal or entry. Takes seconds for millions of entries.
    /// To check against a checkpoint you kept, use `schakel audit verify --checkpoint`.
    /// Privacy officers only; this read is logged.
    #[oai(
        path = "/access-log/verification",
        method = "get",
        operation_id = "verifyAccessLog"
    )]
    async fn verification(
        &self,
        auth: BearerAuth,
        cx: Ctx,
    ) -> ApiResult<VerificationResponse, Authenticated> {
        let principal = &auth.0;
        policy::require(principal, Action::ReadAccessLog)?;
        let started = Instant::now();
        let report = {
            let mut conn = cx.state.pool.get().await.map_err(AppError::from)?;
            audit::verify(&mut conn, &cx.state.seal_verifiers, None)
                .await
                .map_err(AppError::from)?
        };
        let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        let actor = cx.actor(principal);
        cx.db
            .transaction(async |conn| {
                Effects::new()
                    .access(Access::unnamed(
                        AccessAction::Read,
                        "access_log_verification",
                    ))
                    .write(conn, actor)
                    .await?;
                Ok(())
            })
            .await?;
        let signing = cx.state.seal_signer.key_id();
        Ok(VerificationResponse::Ok(Json(AccessLogVerification {
            intact: report.is_intact(),
            seals: count(report.seals),
            signed_seals: count(report.signed_seals),
            sealed_entries: count(report.sealed_entries),
            queued_entries: count(report.queued_entries),
            findings: report
                .findings
                .into_iter()
                .map(|f| VerificationFinding {
                    kind: f.kind.into(),
                    message: f.message,
                })
                .collect(),
            keys: cx
                .state
                .seal_verifiers
                .keys()
                .map(|(key_id, key)| SealKey {
                    key_id: key_id.to_owned(),
                    public_key: public_pem(key),
                    signing: key_id == signing,
                })
                .collect(),
            verified_at: chrono::Utc::now().into(),
            duration_ms,
        })))
    }
}
