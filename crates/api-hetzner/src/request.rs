//! Reading requests the way Hetzner does: repeated query parameters (`sort=a&sort=b`,
//! `id=1&id=2`), JSON bodies whose syntax errors are `json_error` and whose wrong
//! shapes are `invalid_input`, and integer ids in paths.

use crate::error::{ApiError, ApiResult};
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use stratus_core::ids::ResourceKind;
use stratus_core::Error;

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

    /// Every value of `key`; comma-separated values are split too (`type=cpu,disk`).
    pub fn all(&self, key: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .collect()
    }

    /// `key` parsed as an integer, if present.
    pub fn int(&self, key: &str) -> ApiResult<Option<i64>> {
        self.get(key)
            .map(|v| v.parse().map_err(|_| Error::invalid_field(key, "must be an integer").into()))
            .transpose()
    }

    /// `key` parsed as a boolean, if present.
    pub fn bool(&self, key: &str) -> ApiResult<Option<bool>> {
        self.get(key)
            .map(|v| match v {
                "true" | "1" => Ok(true),
                "false" | "0" => Ok(false),
                _ => Err(Error::invalid_field(key, "must be true or false").into()),
            })
            .transpose()
    }
}

/// Parses a JSON body. An empty body counts as `{}`, since clients send action requests
/// such as `poweron` without one.
pub fn json_body<T: DeserializeOwned>(body: &Bytes) -> ApiResult<T> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) { b"{}" } else { body };
    serde_json::from_slice(body).map_err(|e| {
        use serde_json::error::Category;
        match e.classify() {
            Category::Syntax | Category::Eof | Category::Io => ApiError::Json(format!("invalid JSON: {e}")),
            Category::Data => {
                let msg = e.to_string();
                let field = msg.split('`').nth(1).unwrap_or("body").to_string();
                let why = msg.split(" at line").next().unwrap_or(&msg).to_string();
                ApiError::Core(Error::invalid_field(&field, why))
            }
        }
    })
}

/// A path id. A non-integer id names nothing, so it is answered as not found.
pub fn path_id(raw: &str, kind: ResourceKind) -> ApiResult<i64> {
    raw.parse::<i64>().ok().filter(|id| *id > 0).ok_or_else(|| Error::not_found(kind, raw).into())
}

/// Extracts `{id}` (and `{action_id}`) path segments as text, to be checked with [`path_id`].
pub type IdPath = Path<String>;
pub type IdActionPath = Path<(String, String)>;
