//! Value types of the contract.

use std::borrow::Cow;

use chrono::{DateTime, SecondsFormat, Utc};
use poem_openapi::{
    registry::{MetaSchema, MetaSchemaRef},
    types::{ParseError, ParseFromJSON, ParseFromParameter, ParseResult, ToJSON, Type},
};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

/// A point in time: RFC 3339, always rendered in UTC with `Z` (e.g. `2026-11-20T08:30:00Z`).
/// Input may carry any offset; it is converted to UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub DateTime<Utc>);

impl Timestamp {
    pub fn to_rfc3339(self) -> String {
        self.0.to_rfc3339_opts(SecondsFormat::AutoSi, true)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_rfc3339())
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(value: DateTime<Utc>) -> Self {
        Self(value)
    }
}

fn parse(text: &str) -> Result<Timestamp, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| Timestamp(t.with_timezone(&Utc)))
        .map_err(|err| format!("not an RFC 3339 date-time: {err}"))
}

impl Type for Timestamp {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        "string_date-time".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema::new_with_format("string", "date-time")))
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(self)
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

impl ParseFromJSON for Timestamp {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value.unwrap_or_default() {
            Value::String(text) => parse(&text).map_err(ParseError::custom),
            other => Err(ParseError::expected_type(other)),
        }
    }
}

impl ParseFromParameter for Timestamp {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        parse(value).map_err(ParseError::custom)
    }
}

impl ToJSON for Timestamp {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(self.to_rfc3339()))
    }
}

/// The moment every example in the spec happened: 2025-11-22 10:00 UTC.
pub fn example_time() -> Timestamp {
    DateTime::from_timestamp(1_763_805_600, 0)
        .unwrap_or_default()
        .into()
}

/// The `n`-th example id of the spec: stable, time-ordered like a UUIDv7.
pub fn example_id(n: u128) -> uuid::Uuid {
    uuid::Uuid::from_u128(0x0193_5b1e_7c1a_7d00_8000_0000_0000_0000 + n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_utc_with_z_and_parses_any_offset() {
        let t = parse("2026-11-20T09:30:00+01:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-20T08:30:00Z");
        let precise = parse("2026-11-20T08:30:00.123456Z").unwrap();
        assert_eq!(precise.to_rfc3339(), "2026-11-20T08:30:00.123456Z");
        assert!(parse("2026-11-20 08:30").is_err());
        assert!(parse("2026-11-20").is_err());
    }
}
