//! The sealer: chains batches of committed entries and signs each seal.
//!
//! `seal_hash = sha256(prev_hash, digests of the covered entries in id order)`; the signature
//! covers the key id, the sealing time, `prev_hash` and `seal_hash`, so it vouches for the whole
//! chain before it. After each round the sealer publishes a signed checkpoint to the structured
//! log, outside the database.

use std::time::Duration;

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use diesel::{
    prelude::*,
    sql_types::{BigInt, Bool},
};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use tokio::sync::watch;

use super::{Entry, checkpoint, hex_sha256, keys::SealSigner};
use crate::db::{
    Pool,
    schema::{access_log, access_log_seals},
};

/// The `prev_hash` of the first seal.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Entries per seal.
pub const SEAL_BATCH: i64 = 1000;

/// Key of the advisory lock that lets one sealer at a time extend the chain.
const SEAL_LOCK_KEY: i64 = 0x5343_4841_4b45_4c01; // "SCHAKEL\x01"

pub(super) fn seal_hash(prev_hash: &str, entries: &[Entry]) -> String {
    let mut input = String::with_capacity(65 + entries.len() * 65);
    input.push_str(prev_hash);
    for entry in entries {
        input.push('\n');
        input.push_str(&entry.digest());
    }
    hex_sha256(input.as_bytes())
}

/// What a seal's signature covers. Versioned and distinct from a checkpoint's message, so a
/// signature of one can never pass for the other.
pub(super) fn seal_message(
    key_id: &str,
    sealed_at: &DateTime<Utc>,
    prev_hash: &str,
    seal_hash: &str,
) -> String {
    format!(
        "schakel-seal-v1\n{key_id}\n{}\n{prev_hash}\n{seal_hash}",
        sealed_at.to_rfc3339_opts(SecondsFormat::Micros, true)
    )
}

#[derive(QueryableByName)]
struct EntryId {
    #[diesel(sql_type = BigInt)]
    entry_id: i64,
}

/// Seals up to `SEAL_BATCH` committed, unsealed entries. Returns how many were sealed (0 when
/// there was nothing to seal or another sealer holds the chain).
pub async fn seal_pending(conn: &mut AsyncPgConnection, signer: &SealSigner) -> QueryResult<usize> {
    conn.transaction::<_, diesel::result::Error, _>(async |conn| {
        let locked: bool = diesel::select(diesel::dsl::sql::<Bool>(&format!(
            "pg_try_advisory_xact_lock({SEAL_LOCK_KEY})"
        )))
        .get_result(conn)
        .await?;
        if !locked {
            return Ok(0);
        }
        let mut ids: Vec<i64> = diesel::sql_query(
            "DELETE FROM access_log_unsealed WHERE entry_id IN \
             (SELECT entry_id FROM access_log_unsealed ORDER BY entry_id LIMIT $1) \
             RETURNING entry_id",
        )
        .bind::<BigInt, _>(SEAL_BATCH)
        .load::<EntryId>(conn)
        .await?
        .into_iter()
        .map(|row| row.entry_id)
        .collect();
        if ids.is_empty() {
            return Ok(0);
        }
        ids.sort_unstable();
        let entries: Vec<Entry> = access_log::table
            .filter(access_log::id.eq_any(&ids))
            .order(access_log::id)
            .select(Entry::as_select())
            .load(conn)
            .await?;
        let prev_hash: String = access_log_seals::table
            .order(access_log_seals::id.desc())
            .select(access_log_seals::seal_hash)
            .first(conn)
            .await
            .optional()?
            .unwrap_or_else(|| GENESIS_HASH.to_owned());
        let hash = seal_hash(&prev_hash, &entries);
        // Microseconds: what timestamptz stores, so the signed text is what verification reads.
        let sealed_at = Utc::now().trunc_subsecs(6);
        let signature =
            signer.sign(seal_message(signer.key_id(), &sealed_at, &prev_hash, &hash).as_bytes());
        let covered: Vec<Option<i64>> = entries.iter().map(|e| Some(e.id)).collect();
        diesel::insert_into(access_log_seals::table)
            .values((
                access_log_seals::sealed_at.eq(sealed_at),
                access_log_seals::entry_ids.eq(&covered),
                access_log_seals::prev_hash.eq(&prev_hash),
                access_log_seals::seal_hash.eq(&hash),
                access_log_seals::key_id.eq(signer.key_id()),
                access_log_seals::signature.eq(&signature),
            ))
            .execute(conn)
            .await?;
        Ok(entries.len())
    })
    .await
}

/// Seals everything that is committed and unsealed now.
pub async fn seal_all(conn: &mut AsyncPgConnection, signer: &SealSigner) -> QueryResult<usize> {
    let mut total = 0;
    loop {
        let sealed = seal_pending(conn, signer).await?;
        total += sealed;
        if sealed < SEAL_BATCH as usize {
            return Ok(total);
        }
    }
}

/// Seals everything committed, and when something was sealed publishes the new checkpoint to
/// the structured log (target `schakel::audit::checkpoint`).
pub async fn seal_and_publish(pool: &Pool, signer: &SealSigner) -> Result<usize, String> {
    let mut conn = pool.get().await.map_err(|e| e.to_string())?;
    let sealed = seal_all(&mut conn, signer)
        .await
        .map_err(|e| e.to_string())?;
    if sealed > 0 {
        let checkpoint = checkpoint::issue(&mut conn, signer)
            .await
            .map_err(|e| e.to_string())?;
        tracing::info!(
            target: "schakel::audit::checkpoint",
            sealed,
            sequence = checkpoint.sequence,
            checkpoint = %checkpoint.to_json(),
            "access log sealed"
        );
    }
    Ok(sealed)
}

/// Runs the sealer every `interval` until `shutdown` flips.
pub async fn run_sealer(
    pool: Pool,
    signer: SealSigner,
    interval: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = shutdown.changed() => return,
        }
        if let Err(error) = seal_and_publish(&pool, &signer).await {
            tracing::warn!(%error, "sealing the access log failed; will retry");
        }
    }
}
