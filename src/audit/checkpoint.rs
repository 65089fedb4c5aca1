//! Signed checkpoints: the anchor kept outside the database.
//!
//! A checkpoint names the newest seal (its sequence number and hash) and the entries still
//! waiting to be sealed (their ids and a digest of their contents), at a moment, signed with the
//! sealing key. Whoever keeps one — the structured log on every seal, a privacy officer who
//! fetched `GET /v1/access-log/checkpoint` — can later prove that nothing it covers was cut
//! off or rewritten, even by someone who controls the database.

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};

use super::{
    Entry, hex_sha256,
    keys::{SealSigner, SealVerifiers, SignatureCheck},
    seal::GENESIS_HASH,
};
use crate::db::schema::{access_log, access_log_seals, access_log_unsealed};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Checkpoint {
    /// The newest seal's sequence number (its id); 0 before the first seal.
    pub sequence: i64,
    /// That seal's hash (the genesis hash before the first seal).
    pub seal_hash: String,
    /// The entries committed but not yet sealed at `issued_at`, in id order.
    pub pending_entries: Vec<i64>,
    /// SHA-256 over the pending entries' digests, in id order.
    pub pending_digest: String,
    pub issued_at: DateTime<Utc>,
    pub key_id: String,
    /// Ed25519, base64, over [`Checkpoint::message`].
    pub signature: String,
}

impl Checkpoint {
    /// What the signature covers; versioned and distinct from a seal's message.
    pub fn message(&self) -> String {
        let pending: Vec<String> = self.pending_entries.iter().map(i64::to_string).collect();
        format!(
            "schakel-checkpoint-v1\n{}\n{}\n{}\n{}\n{}\n{}",
            self.key_id,
            self.sequence,
            self.seal_hash,
            self.issued_at.to_rfc3339_opts(SecondsFormat::Micros, true),
            pending.join(","),
            self.pending_digest,
        )
    }

    pub fn signature_check(&self, verifiers: &SealVerifiers) -> SignatureCheck {
        verifiers.check(&self.key_id, self.message().as_bytes(), &self.signature)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a checkpoint always serialises")
    }

    /// Reads a checkpoint from its JSON (as the API and the structured log give it).
    pub fn from_json(text: &str) -> Result<Self, String> {
        serde_json::from_str(text).map_err(|err| format!("not a checkpoint: {err}"))
    }
}

/// SHA-256 over entry digests in id order: what a checkpoint knows of entries not yet sealed.
pub(super) fn pending_digest(entries: &[Entry]) -> String {
    let digests: Vec<String> = entries.iter().map(Entry::digest).collect();
    hex_sha256(digests.join("\n").as_bytes())
}

/// Signs the state of the log now: its newest seal and the entries waiting to be sealed.
pub async fn issue(conn: &mut AsyncPgConnection, signer: &SealSigner) -> QueryResult<Checkpoint> {
    let head: Option<(i64, String)> = access_log_seals::table
        .order(access_log_seals::id.desc())
        .select((access_log_seals::id, access_log_seals::seal_hash))
        .first(conn)
        .await
        .optional()?;
    let (sequence, seal_hash) = head.unwrap_or_else(|| (0, GENESIS_HASH.to_owned()));
    let pending: Vec<Entry> = access_log::table
        .filter(
            access_log::id.eq_any(access_log_unsealed::table.select(access_log_unsealed::entry_id)),
        )
        .order(access_log::id)
        .select(Entry::as_select())
        .load(conn)
        .await?;
    let mut checkpoint = Checkpoint {
        sequence,
        seal_hash,
        pending_entries: pending.iter().map(|e| e.id).collect(),
        pending_digest: pending_digest(&pending),
        issued_at: Utc::now().trunc_subsecs(6),
        key_id: signer.key_id().to_owned(),
        signature: String::new(),
    };
    checkpoint.signature = signer.sign(checkpoint.message().as_bytes());
    Ok(checkpoint)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signed(signer: &SealSigner) -> Checkpoint {
        let mut checkpoint = Checkpoint {
            sequence: 42,
            seal_hash: "ab".repeat(32),
            pending_entries: vec![7, 9],
            pending_digest: "cd".repeat(32),
            issued_at: Utc::now().trunc_subsecs(6),
            key_id: signer.key_id().to_owned(),
            signature: String::new(),
        };
        checkpoint.signature = signer.sign(checkpoint.message().as_bytes());
        checkpoint
    }

    #[test]
    fn a_checkpoint_survives_its_json_and_any_change_breaks_its_signature() {
        let signer = SealSigner::generate();
        let mut verifiers = SealVerifiers::default();
        verifiers.add(signer.verifying_key());
        let checkpoint = signed(&signer);
        let again = Checkpoint::from_json(&checkpoint.to_json()).unwrap();
        assert_eq!(again, checkpoint);
        assert_eq!(again.signature_check(&verifiers), SignatureCheck::Valid);

        let changes: [fn(&mut Checkpoint); 4] = [
            |c| c.sequence -= 1,
            |c| c.seal_hash = "ef".repeat(32),
            |c| c.pending_entries.pop().map(drop).unwrap_or_default(),
            |c| c.issued_at -= chrono::Duration::seconds(1),
        ];
        for change in changes {
            let mut tampered = checkpoint.clone();
            change(&mut tampered);
            assert_eq!(
                tampered.signature_check(&verifiers),
                SignatureCheck::Invalid
            );
        }
        assert!(Checkpoint::from_json("{\"sequence\": 1}").is_err());
    }
}
