//! JWT verification (and, for development, signing).
//!
//! Algorithms are allow-listed per configured key: HS256 only with the development secret;
//! EdDSA, ES256 and RS256 only with configured public keys. A token must name an algorithm that
//! one of the configured keys uses, so an HS256 token can never be checked against a public key.

use std::{fs, path::Path};

use jsonwebtoken::{
    Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, decode_header, encode,
    errors::ErrorKind, jwk::JwkSet,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::config::{AuthConfig, ConfigError};

/// Clock skew tolerated on `exp` and `nbf`.
const LEEWAY_SECS: u64 = 30;

/// The claims schakel reads. `iss`, `aud` (a string or an array) and `exp` are checked by the
/// validation itself.
#[derive(Debug, Clone, Deserialize)]
pub struct Claims {
    /// The professional.
    pub sub: String,
    /// Display name of the professional.
    #[serde(default)]
    pub name: Option<String>,
    /// The professional's organisation.
    pub org: Uuid,
    pub roles: Vec<String>,
    /// RFC 8693 actor: the machine client acting for the professional.
    #[serde(default)]
    pub act: Option<ActorClaim>,
}

/// What a development token carries.
#[derive(Serialize)]
struct DevClaims<'a> {
    iss: &'a str,
    aud: &'a str,
    exp: u64,
    iat: u64,
    sub: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    org: Uuid,
    roles: &'a [String],
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct ActorClaim {
    pub sub: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("the token is not a well-formed JWT")]
    Malformed,
    #[error("the token's algorithm {0} is not accepted here")]
    AlgorithmNotAccepted(String),
    #[error("the token's signature does not verify")]
    BadSignature,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token's issuer is not trusted")]
    WrongIssuer,
    #[error("the token is not meant for this API (audience)")]
    WrongAudience,
    #[error("the token lacks the `{0}` claim")]
    MissingClaim(String),
    #[error("the token's claims are invalid: {0}")]
    InvalidClaims(String),
}

struct VerificationKey {
    kid: Option<String>,
    algorithm: Algorithm,
    key: DecodingKey,
}

pub struct TokenVerifier {
    keys: Vec<VerificationKey>,
    issuer: String,
    audience: String,
}

impl TokenVerifier {
    pub fn from_config(config: &AuthConfig) -> Result<Self, ConfigError> {
        let mut keys = Vec::new();
        if let Some(secret) = &config.hs256_secret {
            keys.push(VerificationKey {
                kid: None,
                algorithm: Algorithm::HS256,
                key: DecodingKey::from_secret(secret.expose().as_bytes()),
            });
        }
        if let Some(path) = &config.public_keys {
            let loaded = load_public_keys(path).map_err(|reason| ConfigError::Invalid {
                var: "JWT_PUBLIC_KEYS",
                reason: format!("{}: {reason}", path.display()),
            })?;
            if loaded.is_empty() {
                return Err(ConfigError::Invalid {
                    var: "JWT_PUBLIC_KEYS",
                    reason: format!(
                        "{}: no EdDSA, ES256 or RS256 public keys found",
                        path.display()
                    ),
                });
            }
            keys.extend(loaded);
        }
        Ok(Self {
            keys,
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
        })
    }

    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let header = decode_header(token).map_err(|err| match err.kind() {
            ErrorKind::InvalidAlgorithmName => TokenError::AlgorithmNotAccepted("(unknown)".into()),
            _ => TokenError::Malformed,
        })?;
        let candidates: Vec<&VerificationKey> = self
            .keys
            .iter()
            .filter(|k| k.algorithm == header.alg)
            .filter(|k| match (&header.kid, &k.kid) {
                (Some(wanted), Some(have)) => wanted == have,
                _ => true,
            })
            .collect();
        if candidates.is_empty() {
            return Err(TokenError::AlgorithmNotAccepted(format!(
                "{:?}",
                header.alg
            )));
        }
        let mut last = TokenError::BadSignature;
        for candidate in candidates {
            let mut validation = Validation::new(candidate.algorithm);
            validation.leeway = LEEWAY_SECS;
            validation.validate_nbf = true;
            validation.set_issuer(&[&self.issuer]);
            validation.set_audience(&[&self.audience]);
            validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
            match decode::<Claims>(token, &candidate.key, &validation) {
                Ok(data) => return check_claims(data.claims),
                Err(err) => {
                    last = classify(err.kind());
                    // Only a bad signature means another key might fit.
                    if last != TokenError::BadSignature {
                        return Err(last);
                    }
                }
            }
        }
        Err(last)
    }
}

fn check_claims(claims: Claims) -> Result<Claims, TokenError> {
    if claims.sub.trim().is_empty() {
        return Err(TokenError::MissingClaim("sub".into()));
    }
    if claims.roles.is_empty() {
        return Err(TokenError::MissingClaim("roles".into()));
    }
    Ok(claims)
}

fn classify(kind: &ErrorKind) -> TokenError {
    match kind {
        ErrorKind::InvalidSignature => TokenError::BadSignature,
        ErrorKind::ExpiredSignature => TokenError::Expired,
        ErrorKind::ImmatureSignature => TokenError::NotYetValid,
        ErrorKind::InvalidIssuer => TokenError::WrongIssuer,
        ErrorKind::InvalidAudience => TokenError::WrongAudience,
        ErrorKind::MissingRequiredClaim(claim) => TokenError::MissingClaim(claim.clone()),
        ErrorKind::InvalidAlgorithm => TokenError::AlgorithmNotAccepted("(mismatch)".into()),
        ErrorKind::Json(err) => {
            let message = err.to_string();
            match message
                .strip_prefix("missing field `")
                .and_then(|rest| rest.split('`').next())
            {
                Some(field) => TokenError::MissingClaim(field.to_owned()),
                None => TokenError::InvalidClaims(message),
            }
        }
        _ => TokenError::Malformed,
    }
}

/// Loads public keys from a PEM file, a JWKS JSON file, or a directory of such files.
fn load_public_keys(path: &Path) -> Result<Vec<VerificationKey>, String> {
    if path.is_dir() {
        let mut entries: Vec<_> = fs::read_dir(path)
            .map_err(|e| e.to_string())?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                matches!(
                    p.extension().and_then(|e| e.to_str()),
                    Some("pem" | "json" | "jwks")
                )
            })
            .collect();
        entries.sort();
        let mut keys = Vec::new();
        for entry in entries {
            keys.extend(load_public_keys(&entry)?);
        }
        return Ok(keys);
    }
    let text = fs::read_to_string(path).map_err(|e| e.to_string())?;
    if text.trim_start().starts_with('{') {
        load_jwks(&text)
    } else {
        load_pem(&text)
    }
}

fn load_jwks(text: &str) -> Result<Vec<VerificationKey>, String> {
    use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, KeyAlgorithm};
    let set: JwkSet = serde_json::from_str(text).map_err(|e| format!("not a JWKS: {e}"))?;
    let mut keys = Vec::new();
    for jwk in &set.keys {
        let algorithm = match (&jwk.common.key_algorithm, &jwk.algorithm) {
            (Some(KeyAlgorithm::EdDSA), _) => Algorithm::EdDSA,
            (Some(KeyAlgorithm::ES256), _) => Algorithm::ES256,
            (Some(KeyAlgorithm::RS256), _) => Algorithm::RS256,
            (Some(other), _) => return Err(format!("key algorithm {other:?} is not accepted")),
            (None, AlgorithmParameters::OctetKeyPair(_)) => Algorithm::EdDSA,
            (None, AlgorithmParameters::EllipticCurve(ec)) if ec.curve == EllipticCurve::P256 => {
                Algorithm::ES256
            }
            (None, AlgorithmParameters::RSA(_)) => Algorithm::RS256,
            (None, _) => return Err("a key is neither Ed25519, P-256 nor RSA".into()),
        };
        let key = DecodingKey::from_jwk(jwk).map_err(|e| format!("unusable JWK: {e}"))?;
        keys.push(VerificationKey {
            kid: jwk.common.key_id.clone(),
            algorithm,
            key,
        });
    }
    Ok(keys)
}

fn load_pem(text: &str) -> Result<Vec<VerificationKey>, String> {
    let mut keys = Vec::new();
    for block in pem_blocks(text) {
        let bytes = block.as_bytes();
        let (algorithm, key) = if let Ok(key) = DecodingKey::from_ed_pem(bytes) {
            (Algorithm::EdDSA, key)
        } else if let Ok(key) = DecodingKey::from_ec_pem(bytes) {
            (Algorithm::ES256, key)
        } else if let Ok(key) = DecodingKey::from_rsa_pem(bytes) {
            (Algorithm::RS256, key)
        } else {
            return Err("a PEM block is not an Ed25519, P-256 or RSA public key".into());
        };
        keys.push(VerificationKey {
            kid: None,
            algorithm,
            key,
        });
    }
    Ok(keys)
}

/// Splits a file into its `-----BEGIN … -----END …-----` blocks.
fn pem_blocks(text: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with("-----BEGIN ") {
            current = Some(String::new());
        }
        if let Some(block) = current.as_mut() {
            block.push_str(line);
            block.push('\n');
        }
        if line.starts_with("-----END ") {
            blocks.extend(current.take());
        }
    }
    blocks
}

/// Parameters of a development token.
pub struct DevToken<'a> {
    pub organisation: Uuid,
    pub roles: Vec<String>,
    pub sub: &'a str,
    pub name: Option<&'a str>,
    pub ttl_minutes: u32,
}

/// Signs an HS256 token with the development secret (`schakel token`, `schakel demo`, tests).
pub fn mint_dev_token(config: &AuthConfig, token: DevToken<'_>) -> Result<String, ConfigError> {
    let secret = config.require_dev_secret()?;
    let now = jsonwebtoken::get_current_timestamp();
    let claims = DevClaims {
        iss: &config.issuer,
        aud: &config.audience,
        exp: now + u64::from(token.ttl_minutes) * 60,
        iat: now,
        sub: token.sub,
        name: token.name,
        org: token.organisation,
        roles: &token.roles,
    };
    encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.expose().as_bytes()),
    )
    .map_err(|err| ConfigError::Invalid {
        var: "JWT_HS256_SECRET",
        reason: err.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    fn config() -> AuthConfig {
        AuthConfig {
            hs256_secret: Some(Secret::new("0123456789abcdef0123456789abcdef")),
            public_keys: None,
            issuer: "iss".into(),
            audience: "aud".into(),
        }
    }

    #[test]
    fn minted_tokens_verify() {
        let config = config();
        let org = Uuid::new_v4();
        let token = mint_dev_token(
            &config,
            DevToken {
                organisation: org,
                roles: vec!["teacher".into()],
                sub: "t1",
                name: Some("Sanne"),
                ttl_minutes: 5,
            },
        )
        .unwrap();
        let claims = TokenVerifier::from_config(&config)
            .unwrap()
            .verify(&token)
            .unwrap();
        assert_eq!(claims.org, org);
        assert_eq!(claims.name.as_deref(), Some("Sanne"));
    }

    #[test]
    fn minting_without_a_secret_names_the_variable() {
        let mut config = config();
        config.hs256_secret = None;
        let err = mint_dev_token(
            &config,
            DevToken {
                organisation: Uuid::nil(),
                roles: vec![],
                sub: "x",
                name: None,
                ttl_minutes: 1,
            },
        )
        .unwrap_err();
        assert!(err.to_string().starts_with("JWT_HS256_SECRET"));
    }

    #[test]
    fn garbage_is_malformed() {
        let verifier = TokenVerifier::from_config(&config()).unwrap();
        assert!(matches!(
            verifier.verify("not a token"),
            Err(TokenError::Malformed)
        ));
    }

    #[test]
    fn pem_blocks_split() {
        let text = "junk\n-----BEGIN PUBLIC KEY-----\nAAA\n-----END PUBLIC KEY-----\n\
                    -----BEGIN PUBLIC KEY-----\nBBB\n-----END PUBLIC KEY-----\n";
        let blocks = pem_blocks(text);
        assert_eq!(blocks.len(), 2);
        assert!(blocks[1].contains("BBB"));
    }
}
