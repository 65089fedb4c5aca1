//! Verification: recompute the seal chain, check every signature, account for every entry, and
//! — given a checkpoint kept outside the database — prove nothing it covers was cut or rewritten.

use std::collections::HashSet;

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::{
    Entry,
    checkpoint::{Checkpoint, pending_digest},
    keys::{SealVerifiers, SignatureCheck},
    seal::{GENESIS_HASH, seal_hash, seal_message},
};
use crate::db::schema::{access_log, access_log_seals, access_log_unsealed};

/// What kind of inconsistency verification found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindingKind {
    /// An entry's content no longer matches its seal (or its checkpoint).
    Altered,
    /// A sealed entry, or one a checkpoint names, is gone.
    Missing,
    /// An entry is covered by two seals, or sealed and still queued.
    DoubleSealed,
    /// An entry is neither sealed nor queued for sealing: inserted past the sealer.
    Unsealed,
    /// A seal or checkpoint whose signature is invalid, by an unknown key, or missing where
    /// one is required.
    Forged,
    /// A seal that does not chain to the seal before it.
    BrokenChain,
    /// Seals a checkpoint names are gone or different: the log was cut off or rewritten.
    Truncated,
}

impl FindingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Altered => "altered",
            Self::Missing => "missing",
            Self::DoubleSealed => "double_sealed",
            Self::Unsealed => "unsealed",
            Self::Forged => "forged",
            Self::BrokenChain => "broken_chain",
            Self::Truncated => "truncated",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub kind: FindingKind,
    pub message: String,
}

/// The outcome of [`verify`]: what was checked and every inconsistency found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Verification {
    pub seals: usize,
    pub signed_seals: usize,
    pub sealed_entries: usize,
    pub queued_entries: usize,
    /// The checkpoint's sequence number, when one was given and checked.
    pub checkpoint: Option<i64>,
    pub findings: Vec<Finding>,
}

impl Verification {
    pub fn is_intact(&self) -> bool {
        self.findings.is_empty()
    }

    fn found(&mut self, kind: FindingKind, message: String) {
        self.findings.push(Finding { kind, message });
    }
}

#[derive(Queryable, Selectable, Debug)]
#[diesel(table_name = access_log_seals, check_for_backend(diesel::pg::Pg))]
struct Seal {
    id: i64,
    sealed_at: chrono::DateTime<chrono::Utc>,
    entry_ids: Vec<Option<i64>>,
    prev_hash: String,
    seal_hash: String,
    key_id: Option<String>,
    signature: Option<String>,
}

/// Verifies the whole log in one snapshot (repeatable read), so the sealer running meanwhile
/// cannot make an entry look neither sealed nor queued.
pub async fn verify(
    conn: &mut AsyncPgConnection,
    verifiers: &SealVerifiers,
    checkpoint: Option<&Checkpoint>,
) -> QueryResult<Verification> {
    conn.build_transaction()
        .repeatable_read()
        .read_only()
        .run(async |conn| {
            let mut report = Verification::default();
            let sealed = verify_seals(conn, verifiers, &mut report).await?;
            verify_accounting(conn, &sealed, &mut report).await?;
            if let Some(checkpoint) = checkpoint {
                verify_checkpoint(conn, verifiers, checkpoint, &mut report).await?;
            }
            Ok(report)
        })
        .await
}

/// The chain, each seal's signature and entries; returns the ids of the sealed entries.
async fn verify_seals(
    conn: &mut AsyncPgConnection,
    verifiers: &SealVerifiers,
    report: &mut Verification,
) -> QueryResult<HashSet<i64>> {
    let seals: Vec<Seal> = access_log_seals::table
        .order(access_log_seals::id)
        .select(Seal::as_select())
        .load(conn)
        .await?;
    let mut expected_prev = GENESIS_HASH.to_owned();
    let mut sealed: HashSet<i64> = HashSet::new();
    for seal in &seals {
        if seal.prev_hash != expected_prev {
            report.found(
                FindingKind::BrokenChain,
                format!("seal {} does not chain to the seal before it", seal.id),
            );
        }
        check_signature(seal, verifiers, report);
        let ids: Vec<i64> = seal.entry_ids.iter().flatten().copied().collect();
        for id in &ids {
            if !sealed.insert(*id) {
                report.found(
                    FindingKind::DoubleSealed,
                    format!("entry {id} is sealed more than once"),
                );
            }
        }
        let entries: Vec<Entry> = access_log::table
            .filter(access_log::id.eq_any(&ids))
            .order(access_log::id)
            .select(Entry::as_select())
            .load(conn)
            .await?;
        if entries.len() != ids.len() {
            let present: HashSet<i64> = entries.iter().map(|e| e.id).collect();
            for id in ids.iter().filter(|id| !present.contains(id)) {
                report.found(
                    FindingKind::Missing,
                    format!("entry {id} of seal {} is missing", seal.id),
                );
            }
        }
        if seal_hash(&seal.prev_hash, &entries) != seal.seal_hash {
            report.found(
                FindingKind::Altered,
                format!(
                    "seal {} does not match its entries: an entry was altered",
                    seal.id
                ),
            );
        }
        report.sealed_entries += entries.len();
        expected_prev = seal.seal_hash.clone();
    }
    report.seals = seals.len();
    if let Some(newest) = seals.last().filter(|s| s.signature.is_none()) {
        report.found(
            FindingKind::Forged,
            format!(
                "the newest seal {} is not signed: nothing anchors the chain to the sealing key",
                newest.id
            ),
        );
    }
    Ok(sealed)
}

/// Seals made before signing existed are unsigned; the first signed seal chains to them and so
/// vouches for them. After it, every seal must be signed by a configured key.
fn check_signature(seal: &Seal, verifiers: &SealVerifiers, report: &mut Verification) {
    let (Some(key_id), Some(signature)) = (&seal.key_id, &seal.signature) else {
        if report.signed_seals > 0 {
            report.found(
                FindingKind::Forged,
                format!("seal {} is not signed, though seals before it are", seal.id),
            );
        }
        return;
    };
    report.signed_seals += 1;
    let message = seal_message(key_id, &seal.sealed_at, &seal.prev_hash, &seal.seal_hash);
    match verifiers.check(key_id, message.as_bytes(), signature) {
        SignatureCheck::Valid => {}
        SignatureCheck::UnknownKey => report.found(
            FindingKind::Forged,
            format!(
                "seal {} is signed with key {key_id}, which is not configured",
                seal.id
            ),
        ),
        SignatureCheck::Invalid => report.found(
            FindingKind::Forged,
            format!("seal {} has a signature that does not match it", seal.id),
        ),
    }
}

/// Every entry is sealed exactly once or still queued for sealing.
async fn verify_accounting(
    conn: &mut AsyncPgConnection,
    sealed: &HashSet<i64>,
    report: &mut Verification,
) -> QueryResult<()> {
    let queued: Vec<i64> = access_log_unsealed::table
        .select(access_log_unsealed::entry_id)
        .load(conn)
        .await?;
    report.queued_entries = queued.len();
    for id in queued.iter().filter(|id| sealed.contains(id)) {
        report.found(
            FindingKind::DoubleSealed,
            format!("entry {id} is both sealed and queued"),
        );
    }
    let queued: HashSet<i64> = queued.into_iter().collect();
    let all_ids: Vec<i64> = access_log::table
        .select(access_log::id)
        .order(access_log::id)
        .load(conn)
        .await?;
    for id in all_ids {
        if !sealed.contains(&id) && !queued.contains(&id) {
            report.found(
                FindingKind::Unsealed,
                format!("entry {id} is neither sealed nor queued for sealing"),
            );
        }
    }
    Ok(())
}

/// The checkpoint is genuine, the seal it names is still there unchanged, and the entries it
/// saw waiting are still there unchanged.
async fn verify_checkpoint(
    conn: &mut AsyncPgConnection,
    verifiers: &SealVerifiers,
    checkpoint: &Checkpoint,
    report: &mut Verification,
) -> QueryResult<()> {
    report.checkpoint = Some(checkpoint.sequence);
    if checkpoint.signature_check(verifiers) != SignatureCheck::Valid {
        report.found(
            FindingKind::Forged,
            format!(
                "the checkpoint is not signed by a configured key (key id {})",
                checkpoint.key_id
            ),
        );
        return Ok(());
    }
    let named: Option<String> = access_log_seals::table
        .filter(access_log_seals::id.eq(checkpoint.sequence))
        .select(access_log_seals::seal_hash)
        .first(conn)
        .await
        .optional()?;
    match named {
        _ if checkpoint.sequence == 0 => {}
        None => report.found(
            FindingKind::Truncated,
            format!(
                "seal {} named by the checkpoint is gone: the log was cut off",
                checkpoint.sequence
            ),
        ),
        Some(hash) if hash != checkpoint.seal_hash => report.found(
            FindingKind::Truncated,
            format!(
                "seal {} differs from the checkpoint: the log was rewritten from there back",
                checkpoint.sequence
            ),
        ),
        Some(_) => {}
    }
    let pending: Vec<Entry> = access_log::table
        .filter(access_log::id.eq_any(&checkpoint.pending_entries))
        .order(access_log::id)
        .select(Entry::as_select())
        .load(conn)
        .await?;
    if pending.len() != checkpoint.pending_entries.len() {
        let present: HashSet<i64> = pending.iter().map(|e| e.id).collect();
        for id in checkpoint
            .pending_entries
            .iter()
            .filter(|id| !present.contains(id))
        {
            report.found(
                FindingKind::Missing,
                format!("entry {id}, waiting to be sealed at the checkpoint, is gone"),
            );
        }
    } else if pending_digest(&pending) != checkpoint.pending_digest {
        report.found(
            FindingKind::Altered,
            "an entry waiting to be sealed at the checkpoint was altered since".to_owned(),
        );
    }
    Ok(())
}
