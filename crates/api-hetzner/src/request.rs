//! Reading requests the way Hetzner does: repeated query parameters (`sort=a&sort=b`,
//! `id=1&id=2`), JSON bodies whose syntax errors are `json_error` and whose wrong
//! shapes are `invalid_input`, and integer ids in paths.

use crate::error::{ApiError, ApiResult};
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use serde::de::{self, DeserializeOwned};
use serde::{Deserialize, Deserializer};
use stratus_core::ids::ResourceKind;
use stratus_core::{Error, Ref};

/// The query string as ordered key/value pairs; keys may repeat.
#[derive(Debug, Clone, Default)]
pub struct Params(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> ApiResult<Self> {
        let query = parts.uri.query().unwrap_or("");
        Ok(Params(form_urlencoded::parse(query.as_bytes()).into_owned().collect()))
    }
}

impl Params {
    /// The last value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// Every value of `key`; comma-separated values are split too (`type=cpu,disk`). An
    /// empty value (`status=`) is kept: every repeatable parameter is an enum or an id in the
    /// document, so the caller refuses it like any other value outside it.
    pub fn all(&self, key: &str) -> Vec<&str> {
        self.0.iter().filter(|(k, _)| k == key).flat_map(|(_, v)| v.split(',')).map(str::trim).collect()
    }

    /// `key` parsed as an integer, if present.
    pub fn int(&self, key: &str) -> ApiResult<Option<i64>> {
        self.get(key).map(|v| v.parse().map_err(|_| Error::invalid_field(key, "must be an integer").into())).transpose()
    }

    /// `key`, which must be one of `allowed` (an enum of the document), if present.
    pub fn one_of(&self, key: &str, allowed: &[&str]) -> ApiResult<Option<&str>> {
        match self.get(key) {
            Some(v) if !allowed.contains(&v) => {
                Err(Error::invalid_field(key, format!("must be one of {}", allowed.join(", "))).into())
            }
            other => Ok(other),
        }
    }

    /// `key` parsed as a boolean, if present. Any case: Python clients (hcloud-python,
    /// Ansible) send `True`/`False`, as `requests` formats a Python bool.
    pub fn bool(&self, key: &str) -> ApiResult<Option<bool>> {
        self.get(key)
            .map(|v| match v.to_ascii_lowercase().as_str() {
                "true" | "1" => Ok(true),
                "false" | "0" => Ok(false),
                _ => Err(Error::invalid_field(key, "must be true or false").into()),
            })
            .transpose()
    }
}

/// Parses the JSON body of an operation whose body the document requires: a missing
/// body is `json_error`, like any other body that is not JSON. Syntax errors are
/// `json_error`; a value of the wrong type or a missing field is `invalid_input` naming
/// the field by its path (`public_net.enable_ipv4`, `ssh_keys[1]`).
pub fn json_body<T: DeserializeOwned>(body: &Bytes) -> ApiResult<T> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::Json("the request needs a JSON body".into()));
    }
    parse_json(body)
}

/// Parses the body of an operation whose body is optional (`enable_backup`): an empty
/// body counts as `{}`.
pub fn optional_json_body<T: DeserializeOwned>(body: &Bytes) -> ApiResult<T> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return parse_json(b"{}");
    }
    parse_json(body)
}

fn parse_json<T: DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| ApiError::Json(format!("invalid JSON: {e}")))?;
    // Every body of the API is an object; serde would read an array into a struct field by
    // field (`[null, null]` as a body with its first two fields null).
    if !value.is_object() {
        return Err(Error::invalid_field("body", "must be a JSON object").into());
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let why = e.into_inner().to_string();
        // serde names a missing field only in its message: "missing field `name`".
        let field = match (path.as_str(), why.split('`').nth(1)) {
            ("." | "", Some(missing)) if why.starts_with("missing field") => missing.to_string(),
            ("." | "", _) => "body".to_string(),
            (path, _) => path.to_string(),
        };
        ApiError::Core(Error::invalid_field(&field, why))
    })
}

/// A reference by id or by name, as Hetzner accepts for server types, images, locations,
/// datacenters, SSH keys and ISOs: clients send ids as JSON numbers (hcloud-python) or
/// as strings (hcloud-go), names as strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdOrName(pub Ref);

impl<'de> Deserialize<'de> for IdOrName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = IdOrName;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an ID (integer) or a name (string)")
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<IdOrName, E> {
                Ok(IdOrName(Ref::Id(v)))
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<IdOrName, E> {
                i64::try_from(v).map(|v| IdOrName(Ref::Id(v))).map_err(|_| E::custom("ID is out of range"))
            }

            /// hcloud-go sends ids as strings: a name of digits that names nothing is
            /// taken as the id it spells.
            fn visit_str<E: de::Error>(self, v: &str) -> Result<IdOrName, E> {
                Ok(IdOrName(Ref::NameOrId(v.to_string())))
            }
        }
        d.deserialize_any(V)
    }
}

/// A path id. A non-integer id names nothing, so it is answered as not found.
pub fn path_id(raw: &str, kind: ResourceKind) -> ApiResult<i64> {
    raw.parse::<i64>().ok().filter(|id| *id > 0).ok_or_else(|| Error::not_found(kind, raw).into())
}

/// The largest id the document allows (the `maximum` of every id: 2^53 - 1, exact in JSON
/// numbers read as doubles).
pub const MAX_ID: i64 = (1 << 53) - 1;

/// Deserializes a body's id, refusing one above [`MAX_ID`] (use with
/// `#[serde(deserialize_with = "crate::request::bounded_id")]`).
pub fn bounded_id<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let id = i64::deserialize(d)?;
    if id > MAX_ID {
        return Err(de::Error::custom(format!("{id} is above the largest id, 2^53 - 1")));
    }
    Ok(id)
}

/// Extracts `{id}` (and `{action_id}`) path segments as text, to be checked with [`path_id`].
pub type IdPath = Path<String>;
pub type IdActionPath = Path<(String, String)>;

/// For fields where `null` means "clear" and absence means "leave as is": use with
/// `#[serde(default, deserialize_with = "crate::request::present")]` on an
/// `Option<Option<T>>`, so an absent field stays `None` and `null` becomes `Some(None)`.
pub fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    serde::Deserialize::deserialize(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Net {
        #[allow(dead_code)]
        enable_ipv4: Option<bool>,
    }

    #[derive(Debug, Deserialize)]
    struct Body {
        name: String,
        image: IdOrName,
        #[allow(dead_code)]
        keys: Option<Vec<IdOrName>>,
        #[allow(dead_code)]
        net: Option<Net>,
    }

    /// The field an `invalid_input` refusal names, or the error kind.
    fn refusal(body: &str) -> String {
        match json_body::<Body>(&Bytes::from(body.to_string())) {
            Ok(b) => format!("ok {} {:?}", b.name, b.image.0),
            Err(ApiError::Json(_)) => "json_error".into(),
            Err(ApiError::Core(Error::InvalidInput { fields, .. })) => fields[0].name.clone(),
            Err(e) => format!("{e:?}"),
        }
    }

    #[test]
    fn bodies_name_the_offending_field() {
        assert_eq!(refusal(r#"{"name": "a", "image": 7}"#), "ok a Id(7)");
        assert_eq!(refusal(r#"{"name": "a", "image": "debian-12"}"#), r#"ok a NameOrId("debian-12")"#);
        assert_eq!(refusal(r#"{"image": 7}"#), "name");
        assert_eq!(refusal(r#"{"name": 5, "image": 7}"#), "name");
        assert_eq!(refusal(r#"{"name": "a", "image": true}"#), "image");
        assert_eq!(refusal(r#"{"name": "a", "image": 7, "keys": [1, false]}"#), "keys[1]");
        assert_eq!(refusal(r#"{"name": "a", "image": 7, "net": {"enable_ipv4": "no"}}"#), "net.enable_ipv4");
        assert_eq!(refusal(r#"{"name": "a", "image": 18446744073709551615}"#), "image");
        assert_eq!(refusal(r#"{"name": "a","#), "json_error");
        assert_eq!(refusal(""), "json_error", "a required body may not be missing");
        assert!(matches!(optional_json_body::<Body>(&Bytes::new()), Err(ApiError::Core(Error::InvalidInput { .. }))));
        assert_eq!(refusal("[]"), "body");
    }

    #[test]
    fn booleans_in_any_case() {
        let p = Params(vec![("a".into(), "True".into()), ("b".into(), "0".into()), ("c".into(), "maybe".into())]);
        assert_eq!(p.bool("a").ok(), Some(Some(true)));
        assert_eq!(p.bool("b").ok(), Some(Some(false)));
        assert_eq!(p.bool("missing").ok(), Some(None));
        assert!(p.bool("c").is_err());
    }
}
