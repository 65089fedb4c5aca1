//! The keys that sign and verify the access log's seals and checkpoints (Ed25519).
//!
//! The private key lives in configuration (`AUDIT_SIGNING_KEY_FILE`), never in the database, so
//! someone who can write the tables cannot forge a seal. A seal names the id of the key that
//! signed it; after a rotation the old public keys stay configured (`AUDIT_VERIFYING_KEYS`) so
//! older seals still verify. A verifier needs only public keys.

use std::collections::BTreeMap;

use base64::{Engine, engine::general_purpose::STANDARD};
use ed25519_dalek::{
    Signature, Signer, SigningKey, Verifier, VerifyingKey,
    pkcs8::{
        DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey,
        spki::der::pem::LineEnding,
    },
};
use sha2::{Digest, Sha256};

/// The id a seal names its key by: the first 16 hex digits of SHA-256 over the public key.
pub fn key_id(key: &VerifyingKey) -> String {
    Sha256::digest(key.as_bytes())[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The key the sealer signs with.
#[derive(Clone)]
pub struct SealSigner {
    key: SigningKey,
    id: String,
}

impl std::fmt::Debug for SealSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealSigner")
            .field("key_id", &self.id)
            .finish_non_exhaustive()
    }
}

impl SealSigner {
    pub fn new(key: SigningKey) -> Self {
        let id = key_id(&key.verifying_key());
        Self { key, id }
    }

    /// A new random key (for `schakel audit keygen`, `schakel dev` and tests).
    pub fn generate() -> Self {
        let seed: [u8; 32] = rand::random();
        Self::new(SigningKey::from_bytes(&seed))
    }

    /// From a PKCS#8 PEM private key (`openssl genpkey -algorithm ed25519` writes one).
    pub fn from_pem(pem: &str) -> Result<Self, String> {
        SigningKey::from_pkcs8_pem(pem)
            .map(Self::new)
            .map_err(|err| format!("not an Ed25519 PKCS#8 PEM private key: {err}"))
    }

    pub fn to_pem(&self) -> String {
        self.key
            .to_pkcs8_pem(LineEnding::LF)
            .map(|pem| pem.to_string())
            .expect("an Ed25519 key always encodes")
    }

    pub fn public_pem(&self) -> String {
        public_pem(&self.key.verifying_key())
    }

    pub fn key_id(&self) -> &str {
        &self.id
    }

    pub fn verifying_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    /// The base64 signature of `message`.
    pub fn sign(&self, message: &[u8]) -> String {
        STANDARD.encode(self.key.sign(message).to_bytes())
    }
}

/// The SPKI PEM of a public key.
pub fn public_pem(key: &VerifyingKey) -> String {
    key.to_public_key_pem(LineEnding::LF)
        .expect("an Ed25519 key always encodes")
}

/// The public keys seals and checkpoints are verified with, by key id.
#[derive(Debug, Clone, Default)]
pub struct SealVerifiers {
    keys: BTreeMap<String, VerifyingKey>,
}

/// What checking a signature found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureCheck {
    Valid,
    UnknownKey,
    Invalid,
}

impl SealVerifiers {
    pub fn add(&mut self, key: VerifyingKey) {
        self.keys.insert(key_id(&key), key);
    }

    /// Adds every `PUBLIC KEY` (SPKI) block of a PEM text.
    pub fn add_pem(&mut self, text: &str) -> Result<usize, String> {
        let blocks = pem::parse_many(text).map_err(|err| format!("not PEM: {err}"))?;
        let mut added = 0;
        for block in blocks.iter().filter(|b| b.tag() == "PUBLIC KEY") {
            let key = VerifyingKey::from_public_key_der(block.contents())
                .map_err(|err| format!("not an Ed25519 public key: {err}"))?;
            self.add(key);
            added += 1;
        }
        if added == 0 {
            return Err("no PUBLIC KEY block".into());
        }
        Ok(added)
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Key ids and public keys, for publishing.
    pub fn keys(&self) -> impl Iterator<Item = (&str, &VerifyingKey)> {
        self.keys.iter().map(|(id, key)| (id.as_str(), key))
    }

    pub fn check(&self, key_id: &str, message: &[u8], signature: &str) -> SignatureCheck {
        let Some(key) = self.keys.get(key_id) else {
            return SignatureCheck::UnknownKey;
        };
        let valid = STANDARD
            .decode(signature)
            .ok()
            .and_then(|bytes| Signature::from_slice(&bytes).ok())
            .is_some_and(|signature| key.verify(message, &signature).is_ok());
        if valid {
            SignatureCheck::Valid
        } else {
            SignatureCheck::Invalid
        }
    }
}

/// The signing key of this process (if it seals) and the keys it verifies with; the signing
/// key's own public key is always among them.
#[derive(Debug, Clone, Default)]
pub struct AuditKeys {
    pub signer: Option<SealSigner>,
    pub verifiers: SealVerifiers,
}

impl AuditKeys {
    pub fn new(signer: Option<SealSigner>, mut verifiers: SealVerifiers) -> Self {
        if let Some(signer) = &signer {
            verifiers.add(signer.verifying_key());
        }
        Self { signer, verifiers }
    }

    /// Keys that sign with `signer` and verify only its seals.
    pub fn signing_with(signer: SealSigner) -> Self {
        Self::new(Some(signer), SealVerifiers::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_only_with_its_key_and_message() {
        let signer = SealSigner::generate();
        let other = SealSigner::generate();
        let mut verifiers = SealVerifiers::default();
        verifiers.add(signer.verifying_key());
        let signature = signer.sign(b"seal");
        assert_eq!(
            verifiers.check(signer.key_id(), b"seal", &signature),
            SignatureCheck::Valid
        );
        assert_eq!(
            verifiers.check(signer.key_id(), b"seaL", &signature),
            SignatureCheck::Invalid
        );
        assert_eq!(
            verifiers.check(signer.key_id(), b"seal", "bm90IGEgc2lnbmF0dXJl"),
            SignatureCheck::Invalid
        );
        let forged = other.sign(b"seal");
        assert_eq!(
            verifiers.check(signer.key_id(), b"seal", &forged),
            SignatureCheck::Invalid
        );
        assert_eq!(
            verifiers.check(other.key_id(), b"seal", &forged),
            SignatureCheck::UnknownKey
        );
    }

    #[test]
    fn keys_round_trip_through_pem_and_keep_their_id() {
        let signer = SealSigner::generate();
        let again = SealSigner::from_pem(&signer.to_pem()).unwrap();
        assert_eq!(again.key_id(), signer.key_id());
        assert_eq!(signer.key_id().len(), 16);

        // Old and new public keys in one file, as after a rotation.
        let rotated = SealSigner::generate();
        let mut verifiers = SealVerifiers::default();
        let text = format!("{}{}", signer.public_pem(), rotated.public_pem());
        assert_eq!(verifiers.add_pem(&text).unwrap(), 2);
        let old = signer.sign(b"m");
        assert_eq!(
            verifiers.check(signer.key_id(), b"m", &old),
            SignatureCheck::Valid
        );

        assert!(
            SealSigner::from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
                .is_err()
        );
        assert!(SealVerifiers::default().add_pem("no pem here").is_err());
        assert!(
            SealVerifiers::default().add_pem(&signer.to_pem()).is_err(),
            "a private key is not a public key"
        );
    }
}
