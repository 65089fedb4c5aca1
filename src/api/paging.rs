//! Cursor pagination: `?limit=` (default 50, max 200) and an opaque `?cursor=`.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Datelike, Utc};
use serde::{Serialize, de::DeserializeOwned};
use uuid::Uuid;

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

/// A position in a list, as a cursor holds it. A cursor is opaque to clients but not secret: a
/// forged one must still be a position the list could have returned, so every field is checked
/// before it reaches SQL (PostgreSQL refuses timestamps outside 4713 BC–294276 AD and NUL
/// characters in text; a 500 there is a 400 here).
pub trait Position: Serialize + DeserializeOwned {
    fn is_valid(&self) -> bool;
}

impl Position for Uuid {
    fn is_valid(&self) -> bool {
        true
    }
}

impl Position for i64 {
    fn is_valid(&self) -> bool {
        *self >= 0
    }
}

impl Position for DateTime<Utc> {
    fn is_valid(&self) -> bool {
        (1..=9999).contains(&self.year())
    }
}

impl Position for String {
    fn is_valid(&self) -> bool {
        self.len() <= 1000 && !self.contains('\0')
    }
}

impl<A: Position, B: Position> Position for (A, B) {
    fn is_valid(&self) -> bool {
        self.0.is_valid() && self.1.is_valid()
    }
}

pub fn decode_cursor<P: Position>(cursor: Option<&str>) -> Result<Option<P>, AppError> {
    let Some(cursor) = cursor else {
        return Ok(None);
    };
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<P>(&bytes).ok())
        .filter(Position::is_valid)
        .map(Some)
        .ok_or_else(|| {
            AppError::invalid_param(
                "cursor",
                "is not a cursor this list returned; start again without it",
            )
        })
}

/// How many of `fetched` rows a page shows (one more is fetched to know a next page exists).
pub fn page_size(fetched: i64) -> i64 {
    fetched - 1
}

/// Splits fetched rows into the page and the cursor of the next page, if any.
pub fn paginate<R, P: Serialize>(
    mut rows: Vec<R>,
    fetched: i64,
    position: impl Fn(&R) -> P,
) -> (Vec<R>, Option<String>) {
    let page_size = page_size(fetched) as usize;
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
        let id = Uuid::now_v7();
        let cursor = encode_cursor(&("de regenboog", id));
        let back: Option<(String, Uuid)> = decode_cursor(Some(&cursor)).unwrap();
        assert_eq!(back, Some(("de regenboog".to_owned(), id)));
        assert!(decode_cursor::<(String, Uuid)>(Some("!!")).is_err());
        assert!(decode_cursor::<(String, Uuid)>(Some(&encode_cursor(&1))).is_err());
    }

    #[test]
    fn forged_positions_outside_what_a_list_returns_are_refused() {
        let id = Uuid::now_v7();
        let forged = [
            encode_cursor(&("-4714-01-01T00:00:00Z", id)),
            encode_cursor(&("+10000-01-01T00:00:00Z", id)),
        ];
        for cursor in &forged {
            assert!(
                decode_cursor::<(DateTime<Utc>, Uuid)>(Some(cursor)).is_err(),
                "{cursor}"
            );
        }
        let fine = encode_cursor(&("2026-11-20T08:30:00Z", id));
        assert!(decode_cursor::<(DateTime<Utc>, Uuid)>(Some(&fine)).is_ok());
        assert!(decode_cursor::<(String, Uuid)>(Some(&encode_cursor(&("a\0b", id)))).is_err());
        assert!(decode_cursor::<i64>(Some(&encode_cursor(&-1))).is_err());
        assert!(decode_cursor::<(i64, i64)>(Some(&encode_cursor(&(1, -5)))).is_err());
        assert!(decode_cursor::<(i64, i64)>(Some(&encode_cursor(&(1, 5)))).is_ok());
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
