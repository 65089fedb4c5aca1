//! Strong ETags over a resource's JSON representation, and the conditional-request checks.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use poem_openapi::types::ToJSON;
use sha2::{Digest, Sha256};

use crate::{compression::Coding, error::AppError};

/// A strong ETag: a hash of exactly what the client receives.
pub fn of<T: ToJSON>(representation: &T) -> String {
    let json = representation
        .to_json()
        .map(|v| v.to_string())
        .unwrap_or_default();
    let digest = Sha256::digest(json.as_bytes());
    format!("\"{}\"", URL_SAFE_NO_PAD.encode(&digest[..18]))
}

/// The tags in a conditional header, each with a content-coding suffix (`"…-gzip"`, given to
/// compressed responses) removed: a validator names the resource state, whatever the coding.
fn listed(header: &str) -> impl Iterator<Item = String> {
    header
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|tag| {
            Coding::ALL
                .into_iter()
                .find_map(|coding| {
                    tag.strip_suffix('"')
                        .and_then(|t| t.strip_suffix(coding.etag_suffix()))
                        .map(|t| format!("{t}\""))
                })
                .unwrap_or_else(|| tag.to_owned())
        })
}

/// `If-None-Match`: true when the client's copy is current (answer 304). Weak comparison.
pub fn none_match_hits(if_none_match: Option<&str>, current: &str) -> bool {
    if_none_match.is_some_and(|header| {
        listed(header).any(|tag| tag == "*" || tag.trim_start_matches("W/") == current)
    })
}

/// `If-Match`: the change may proceed only when the client's copy is current (strong comparison).
pub fn check_if_match(if_match: Option<&str>, current: &str) -> Result<(), AppError> {
    match if_match {
        None => Ok(()),
        Some(header) if listed(header).any(|tag| tag == "*" || tag == current) => Ok(()),
        Some(_) => Err(AppError::precondition_failed()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_change_with_the_representation() {
        let a = of(&serde_json::json!({"name": "A"}));
        let b = of(&serde_json::json!({"name": "B"}));
        assert_ne!(a, b);
        assert!(a.starts_with('"') && a.ends_with('"'));
        assert_eq!(a, of(&serde_json::json!({"name": "A"})));
    }

    #[test]
    fn conditional_headers() {
        let tag = "\"abc\"";
        assert!(none_match_hits(Some("\"x\", \"abc\""), tag));
        assert!(none_match_hits(Some("W/\"abc\""), tag));
        assert!(none_match_hits(Some("*"), tag));
        assert!(none_match_hits(Some("\"abc-gzip\""), tag));
        assert!(none_match_hits(Some("\"abc-br\""), tag));
        assert!(!none_match_hits(Some("\"abc-zip\""), tag));
        assert!(check_if_match(Some("\"abc-gzip\""), tag).is_ok());
        assert!(!none_match_hits(Some("\"x\""), tag));
        assert!(!none_match_hits(None, tag));
        assert!(check_if_match(None, tag).is_ok());
        assert!(check_if_match(Some("\"abc\""), tag).is_ok());
        assert!(check_if_match(Some("W/\"abc\""), tag).is_err());
        assert_eq!(
            check_if_match(Some("\"old\""), tag)
                .unwrap_err()
                .status
                .as_u16(),
            412
        );
    }
}
