//! Cursor pagination: `?limit=` (default 50, max 200) and an opaque `?cursor=`.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::{Serialize, de::DeserializeOwned};

use crate::error::AppError;

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;

/// Rows to fetch: one more than the page, to know whether another page follows.
pub fn fetch_size(limit: Option<u32>) -> i64 {
    i64::from(limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT)) + 1
}

/// An opaque cursor: the position after the last item, as base64url JSON.
pub fn encode_cursor<P: Serialize>(position: &P) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(position).unwrap_or_default())
}

pub fn decode_cursor<P: DeserializeOwned>(cursor: Option<&str>) -> Result<Option<P>, AppError> {
    let Some(cursor) = cursor else {
        return Ok(None);
    };
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .map(Some)
        .ok_or_else(|| {
            AppError::invalid_param(
                "cursor",
                "is not a cursor this list returned; start again without it",
            )
        })
}

/// Splits fetched rows into the page and the cursor of the next page, if any.
pub fn paginate<R, P: Serialize>(
    mut rows: Vec<R>,
    fetched: i64,
    position: impl Fn(&R) -> P,
) -> (Vec<R>, Option<String>) {
    let page_size = (fetched - 1) as usize;
    if rows.len() > page_size {
        rows.truncate(page_size);
        let next = rows.last().map(|last| encode_cursor(&position(last)));
        (rows, next)
    } else {
        (rows, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let cursor = encode_cursor(&("de regenboog", 7));
        let back: Option<(String, i32)> = decode_cursor(Some(&cursor)).unwrap();
        assert_eq!(back, Some(("de regenboog".to_owned(), 7)));
        assert!(decode_cursor::<(String, i32)>(Some("!!")).is_err());
        assert!(decode_cursor::<(String, i32)>(Some(&encode_cursor(&1))).is_err());
    }

    #[test]
    fn paginate_reports_a_next_page_only_when_there_is_one() {
        let fetched = fetch_size(Some(2));
        let (page, next) = paginate(vec![1, 2, 3], fetched, |r| *r);
        assert_eq!(page, vec![1, 2]);
        assert_eq!(next, Some(encode_cursor(&2)));
        let (page, next) = paginate(vec![1, 2], fetched, |r| *r);
        assert_eq!(page, vec![1, 2]);
        assert_eq!(next, None);
    }
}
