//! Request bodies, parsed strictly.
//!
//! poem-openapi alone coerces numbers and booleans into string fields and names no field when a
//! type is wrong. Bodies here are first checked by serde (strict types, unknown and missing
//! properties, with the JSON path of each), then parsed by poem-openapi so the validators declared
//! in the spec (lengths, patterns) are enforced exactly as documented.

use std::sync::LazyLock;

use poem::{Request, RequestBody};
use poem_openapi::{
    ApiExtractor, ApiExtractorType, ExtractParamOptions,
    error::ContentTypeError,
    impl_apirequest_for_payload,
    payload::{ParsePayload, Payload},
    registry::{MetaMediaType, MetaRequest, MetaSchemaRef, Registry},
    types::{ParseFromJSON, Type},
};
use regex::Regex;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{AppError, InvalidParam, ProblemKind};

/// An `application/json` request body of type `T`.
pub struct JsonBody<T>(pub T);

impl<T: Type> Payload for JsonBody<T> {
    const CONTENT_TYPE: &'static str = "application/json";

    fn check_content_type(content_type: &str) -> bool {
        matches!(content_type.parse::<mime::Mime>(), Ok(mime)
            if mime.type_() == "application"
                && (mime.subtype() == "json" || mime.suffix().is_some_and(|s| s == "json")))
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: Type + ParseFromJSON + DeserializeOwned> ParsePayload for JsonBody<T> {
    const IS_REQUIRED: bool = true;

    async fn from_request(_request: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        let bytes = body.take()?.into_bytes().await?;
        Ok(Self(parse_json(&bytes)?))
    }
}

impl_apirequest_for_payload!(JsonBody<T>, T: Type + ParseFromJSON + DeserializeOwned);

/// An optional `application/json` body, for a state change that may carry a note or nothing at
/// all: a bare `POST` (no body, no Content-Type) is `None`.
pub struct OptionalJsonBody<T>(pub Option<T>);

impl<T> OptionalJsonBody<T> {
    pub fn into_inner(self) -> Option<T> {
        self.0
    }
}

impl<'a, T: Type + ParseFromJSON + DeserializeOwned> ApiExtractor<'a> for OptionalJsonBody<T> {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        T::register(registry);
    }

    fn request_meta() -> Option<MetaRequest> {
        Some(MetaRequest {
            description: None,
            content: vec![MetaMediaType {
                content_type: <JsonBody<T> as Payload>::CONTENT_TYPE,
                schema: T::schema_ref(),
            }],
            required: false,
        })
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        _param_opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        let bytes = body.take()?.into_bytes().await?;
        match request.content_type() {
            None if bytes.is_empty() => Ok(Self(None)),
            Some(content_type) if <JsonBody<T> as Payload>::check_content_type(content_type) => {
                if bytes.iter().all(u8::is_ascii_whitespace) {
                    Ok(Self(None))
                } else {
                    Ok(Self(Some(parse_json(&bytes)?)))
                }
            }
            Some(content_type) => Err(ContentTypeError::NotSupported {
                content_type: content_type.to_owned(),
            }
            .into()),
            None => Err(ContentTypeError::ExpectContentType.into()),
        }
    }
}

/// Parses and validates a JSON body.
pub fn parse_json<T: ParseFromJSON + DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(AppError::new(
            ProblemKind::InvalidInput,
            "The request needs a JSON body.",
        ));
    }
    let value: Value = serde_json::from_slice(bytes).map_err(|err| {
        AppError::new(
            ProblemKind::MalformedJson,
            format!("The body is not valid JSON: {err}."),
        )
    })?;
    if let Some(path) = nul_character_at(&value, String::new()) {
        return Err(AppError::invalid(vec![InvalidParam::new(
            path,
            "must not contain a NUL character (\\u0000)",
        )]));
    }
    if let Err(err) = serde_path_to_error::deserialize::<_, T>(&value) {
        return Err(AppError::invalid(vec![describe_serde_error(&err)]));
    }
    let located = value.clone();
    T::parse_from_json(Some(value)).map_err(|err| {
        let mut param = describe_validation_error(err.message());
        // poem-openapi names only the innermost property; find its full path in the body.
        if let Some(path) = locate(&located, &param.name) {
            param.name = path;
        }
        AppError::invalid(vec![param])
    })
}

/// The path of the first string (or property name) holding a NUL character: PostgreSQL cannot
/// store one in text, and no field has a use for it.
fn nul_character_at(value: &Value, path: String) -> Option<String> {
    let join = |key: &str| {
        if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        }
    };
    match value {
        Value::String(text) if text.contains('\0') => Some(if path.is_empty() {
            "(body)".into()
        } else {
            path
        }),
        Value::Object(map) => map.iter().find_map(|(key, child)| {
            if key.contains('\0') {
                Some(join(&key.replace('\0', "\\u0000")))
            } else {
                nul_character_at(child, join(key))
            }
        }),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, child)| nul_character_at(child, format!("{path}[{i}]"))),
        _ => None,
    }
}

/// The path of the first property called `name`, breadth-first.
fn locate(value: &Value, name: &str) -> Option<String> {
    let mut queue = std::collections::VecDeque::from([(String::new(), value)]);
    while let Some((path, value)) = queue.pop_front() {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    let child_path = if path.is_empty() {
                        key.clone()
                    } else {
                        format!("{path}.{key}")
                    };
                    if key == name {
                        return Some(child_path);
                    }
                    queue.push_back((child_path, child));
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    queue.push_back((format!("{path}[{i}]"), child));
                }
            }
            _ => {}
        }
    }
    None
}

fn describe_serde_error(err: &serde_path_to_error::Error<serde_json::Error>) -> InvalidParam {
    let mut path = err.path().to_string();
    let mut message = strip_position(&err.inner().to_string());
    // A union's own deserializer reports its variant's path in the message (see `tagged`).
    if path == "."
        && let Some((inner_path, inner_message)) = message
            .strip_prefix("at `")
            .and_then(|rest| rest.split_once("`: "))
    {
        (path, message) = (inner_path.to_owned(), inner_message.to_owned());
    }
    // serde points at the containing object for missing and unknown properties.
    let join = |field: &str| {
        if path == "." {
            field.to_owned()
        } else {
            format!("{path}.{field}")
        }
    };
    if let Some(field) = backticked_after(&message, "missing field ") {
        return InvalidParam::new(join(&field), "is required");
    }
    if let Some(field) = backticked_after(&message, "unknown field ") {
        // Here serde's path already ends in the unknown property.
        let name = if path == "." { field } else { path };
        return InvalidParam::new(name, "is not a property of this request");
    }
    InvalidParam::new(
        if path == "." {
            "(body)".to_owned()
        } else {
            path
        },
        message,
    )
}

/// Deserializes a union tagged by `tag` (e.g. `step`) so that errors inside a variant keep their
/// property path: serde's internally tagged enums buffer the body and lose it.
pub fn tagged<'de, D, T>(
    deserializer: D,
    tag: &'static str,
    variant: impl FnOnce(
        &str,
        Value,
    ) -> Option<Result<T, serde_path_to_error::Error<serde_json::Error>>>,
    variants: &'static [&'static str],
) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
{
    use serde::de::Error;
    let mut value = <Value as serde::Deserialize>::deserialize(deserializer)?;
    let name = match value.as_object_mut().map(|o| o.remove(tag)) {
        None => return Err(D::Error::custom("expected a JSON object")),
        Some(None) => return Err(D::Error::missing_field(tag)),
        Some(Some(Value::String(name))) => name,
        Some(Some(_)) => return Err(D::Error::custom(format!("at `{tag}`: expected a string"))),
    };
    match variant(&name, value) {
        None => Err(D::Error::custom(format!(
            "at `{tag}`: unknown value `{name}`, expected one of {}",
            variants.join(", ")
        ))),
        Some(Ok(parsed)) => Ok(parsed),
        Some(Err(err)) => Err(D::Error::custom(format!(
            "at `{}`: {}",
            err.path(),
            strip_position(&err.inner().to_string())
        ))),
    }
}

fn backticked_after(message: &str, prefix: &str) -> Option<String> {
    let rest = message.strip_prefix(prefix)?.strip_prefix('`')?;
    rest.split('`').next().map(str::to_owned)
}

/// serde_json appends "at line 1 column 42", which means nothing for an already-parsed value.
fn strip_position(message: &str) -> String {
    static POSITION: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r" at line \d+ column \d+$").expect("valid regex"));
    POSITION.replace(message, "").into_owned()
}

/// poem-openapi reports validator failures as ``field `name` verification failed. maxLength(200)``.
fn describe_validation_error(message: &str) -> InvalidParam {
    static VALIDATION: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"field `([^`]+)` verification failed\. ([^(]+\([^)]*\))").expect("valid regex")
    });
    match VALIDATION.captures(message) {
        Some(caps) => InvalidParam::new(&caps[1], format!("must satisfy {}", &caps[2])),
        None => InvalidParam::new("(body)", message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use poem_openapi::Object;
    use serde::Deserialize;

    #[derive(Object, Deserialize, Debug)]
    #[oai(rename_all = "camelCase", deny_unknown_fields)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Sample {
        #[oai(validator(min_length = 1, max_length = 5))]
        given_name: String,
        nested: Option<Nested>,
    }

    #[derive(Object, Deserialize, Debug)]
    #[oai(rename_all = "camelCase", deny_unknown_fields)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Nested {
        #[oai(validator(maximum(value = "10")))]
        count: i32,
    }

    fn invalid(body: &str) -> (String, String) {
        let err = parse_json::<Sample>(body.as_bytes()).unwrap_err();
        let first = &err.invalid_params[0];
        (first.name.clone(), first.reason.clone())
    }

    #[test]
    fn accepts_a_valid_body() {
        let sample: Sample =
            parse_json(br#"{"givenName": "Ada", "nested": {"count": 2}}"#).unwrap();
        assert_eq!(sample.given_name, "Ada");
        assert_eq!(sample.nested.unwrap().count, 2);
    }

    #[test]
    fn names_the_offending_property() {
        assert_eq!(invalid(r#"{}"#).0, "givenName");
        assert_eq!(invalid(r#"{"givenName": "A", "extra": 1}"#).0, "extra");
        let (name, reason) = invalid(r#"{"givenName": 12}"#);
        assert_eq!(name, "givenName");
        assert!(reason.contains("expected a string"), "{reason}");
        assert_eq!(
            invalid(r#"{"givenName": "A", "nested": {"count": "2"}}"#).0,
            "nested.count"
        );
        assert_eq!(
            invalid(r#"{"givenName": "A", "nested": {"count": 1, "x": 1}}"#).0,
            "nested.x"
        );
        let (name, reason) = invalid(r#"{"givenName": "Adelheid"}"#);
        assert_eq!(name, "givenName");
        assert_eq!(reason, "must satisfy maxLength(5)");
        let (name, reason) = invalid(r#"{"givenName": "A", "nested": {"count": 11}}"#);
        assert_eq!(name, "nested.count");
        assert_eq!(reason, "must satisfy maximum(10, exclusive: false)");
    }

    #[test]
    fn names_a_nul_character_wherever_it_is() {
        assert_eq!(
            invalid("{\"givenName\": \"A\\u0000\"}"),
            (
                "givenName".into(),
                "must not contain a NUL character (\\u0000)".into()
            )
        );
        assert_eq!(
            invalid("{\"givenName\": \"A\", \"nested\": {\"x\": [\"\\u0000\"]}}").0,
            "nested.x[0]"
        );
        assert_eq!(invalid("{\"given\\u0000\": 1}").0, "given\\u0000");
    }

    #[test]
    fn refuses_non_json_and_empty_bodies() {
        let err = parse_json::<Sample>(b"{not json").unwrap_err();
        assert_eq!(err.kind, crate::error::ProblemKind::MalformedJson);
        let err = parse_json::<Sample>(b"  ").unwrap_err();
        assert_eq!(err.status.as_u16(), 400);
        let err = parse_json::<Sample>(b"[]").unwrap_err();
        assert_eq!(err.invalid_params[0].name, "(body)");
    }
}
