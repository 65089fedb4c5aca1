//! Webhook signing secrets at rest: encrypted with XChaCha20-Poly1305 under a key from
//! configuration (`WEBHOOK_SECRET_KEYS`), never stored in the clear. A stored secret names its
//! key id (`v1:<key id>:<base64 nonce ‖ ciphertext>`), so keys can rotate: the first configured
//! key encrypts, every configured key decrypts, and the worker re-encrypts what an older key
//! (or no key, before this existed) left behind. The subscription's id is bound in as
//! associated data, so a stored secret cannot be moved to another subscription.

use std::{collections::BTreeMap, fmt, sync::OnceLock};

use base64::{Engine, engine::general_purpose::STANDARD};
use chacha20poly1305::{
    KeyInit, XChaCha20Poly1305, XNonce,
    aead::{Aead, Payload},
};
use uuid::Uuid;

const FORMAT: &str = "v1";

/// The configured keys, by id; the first encrypts.
#[derive(Clone)]
pub struct SecretKeys {
    current: String,
    keys: BTreeMap<String, [u8; 32]>,
}

impl fmt::Debug for SecretKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Key ids only: the keys are secrets.
        f.debug_struct("SecretKeys")
            .field("current", &self.current)
            .field("ids", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Default for SecretKeys {
    /// One random key for this process (tests and tools that never restart): configured
    /// deployments read theirs with [`SecretKeys::parse`].
    fn default() -> Self {
        static EPHEMERAL: OnceLock<SecretKeys> = OnceLock::new();
        EPHEMERAL
            .get_or_init(|| Self::parse(&Self::generate_line("ephemeral")).expect("a valid key"))
            .clone()
    }
}

impl SecretKeys {
    /// Parses `id:base64key[,id:base64key…]` (32-byte keys; ids of letters, digits, `-`, `_`).
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut keys = BTreeMap::new();
        let mut current = None;
        for entry in text
            .split([',', '\n'])
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            let (id, key) = entry
                .split_once(':')
                .ok_or_else(|| format!("{entry:?} is not id:base64key"))?;
            let plain = !id.is_empty()
                && id.len() <= 32
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !plain {
                return Err(format!(
                    "key id {id:?}: letters, digits, - and _ only (at most 32)"
                ));
            }
            let bytes: [u8; 32] = STANDARD
                .decode(key)
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| format!("key {id}: not the base64 of 32 bytes"))?;
            if keys.insert(id.to_owned(), bytes).is_some() {
                return Err(format!("key id {id} appears twice"));
            }
            current.get_or_insert_with(|| id.to_owned());
        }
        let current = current.ok_or("no key")?;
        Ok(Self { current, keys })
    }

    /// A new key as a configuration line: `id:base64key`.
    pub fn generate_line(id: &str) -> String {
        let key: [u8; 32] = rand::random();
        format!("{id}:{}", STANDARD.encode(key))
    }

    pub fn current_id(&self) -> &str {
        &self.current
    }

    /// Encrypts a subscription's secret under the current key.
    pub fn seal(&self, subscription: Uuid, secret: &str) -> String {
        let cipher = XChaCha20Poly1305::new((&self.keys[&self.current]).into());
        let nonce: [u8; 24] = rand::random();
        let ciphertext = cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: secret.as_bytes(),
                    aad: subscription.as_bytes(),
                },
            )
            .expect("encryption in memory does not fail");
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&ciphertext);
        format!("{FORMAT}:{}:{}", self.current, STANDARD.encode(sealed))
    }

    /// Decrypts a stored secret; `None` when it is not one of ours or its key is not configured.
    pub fn open(&self, subscription: Uuid, stored: &str) -> Option<String> {
        let mut parts = stored.splitn(3, ':');
        let (format, id, sealed) = (parts.next()?, parts.next()?, parts.next()?);
        if format != FORMAT {
            return None;
        }
        let sealed = STANDARD.decode(sealed).ok()?;
        if sealed.len() < 24 {
            return None;
        }
        let (nonce, ciphertext) = sealed.split_at(24);
        let nonce: [u8; 24] = nonce.try_into().ok()?;
        let cipher = XChaCha20Poly1305::new(self.keys.get(id)?.into());
        let plain = cipher
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: subscription.as_bytes(),
                },
            )
            .ok()?;
        String::from_utf8(plain).ok()
    }

    /// Whether a stored value needs (re-)encryption: in the clear, or under another key.
    pub fn is_stale(&self, stored: &str) -> bool {
        !stored.starts_with(&format!("{FORMAT}:{}:", self.current))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_round_trips_only_for_its_subscription_and_key() {
        let keys = SecretKeys::parse(&SecretKeys::generate_line("k1")).unwrap();
        let subscription = Uuid::now_v7();
        let sealed = keys.seal(subscription, "whsec_abc");
        assert!(sealed.starts_with("v1:k1:"), "{sealed}");
        assert!(!sealed.contains("whsec_"));
        assert_ne!(
            sealed,
            keys.seal(subscription, "whsec_abc"),
            "a fresh nonce each time"
        );
        assert_eq!(
            keys.open(subscription, &sealed).as_deref(),
            Some("whsec_abc")
        );
        assert_eq!(
            keys.open(Uuid::now_v7(), &sealed),
            None,
            "bound to its subscription"
        );
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push('A');
        assert_eq!(keys.open(subscription, &tampered), None);
        assert_eq!(keys.open(subscription, "whsec_abc"), None);
        assert!(!keys.is_stale(&sealed));
        assert!(keys.is_stale("whsec_abc"));
    }

    #[test]
    fn after_a_key_rotation_old_secrets_still_open_and_are_stale() {
        let old_line = SecretKeys::generate_line("k1");
        let old = SecretKeys::parse(&old_line).unwrap();
        let subscription = Uuid::now_v7();
        let sealed = old.seal(subscription, "whsec_abc");
        let rotated =
            SecretKeys::parse(&format!("{},{old_line}", SecretKeys::generate_line("k2"))).unwrap();
        assert_eq!(rotated.current_id(), "k2");
        assert_eq!(
            rotated.open(subscription, &sealed).as_deref(),
            Some("whsec_abc")
        );
        assert!(rotated.is_stale(&sealed));
        assert!(
            rotated
                .seal(subscription, "whsec_abc")
                .starts_with("v1:k2:")
        );
        let dropped = SecretKeys::parse(&SecretKeys::generate_line("k3")).unwrap();
        assert_eq!(dropped.open(subscription, &sealed), None);
    }

    #[test]
    fn configuration_mistakes_are_named() {
        for bad in [
            "",
            "k1",
            "k1:short",
            "k 1:AAAA",
            &format!("{0},{0}", SecretKeys::generate_line("k1")),
        ] {
            assert!(SecretKeys::parse(bad).is_err(), "{bad:?}");
        }
        let keys = SecretKeys::parse(&SecretKeys::generate_line("k1")).unwrap();
        assert!(!format!("{keys:?}").contains(&STANDARD.encode(keys.keys["k1"])));
    }
}
