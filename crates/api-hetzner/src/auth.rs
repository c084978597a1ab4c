//! Authentication (`Authorization: Bearer`), the per-token rate limit with its
//! `RateLimit-*` headers on every answer, and injected API refusals.

use crate::error::ApiError;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;
use stratus_core::model::Principal;
use stratus_core::{Cloud, Error};

/// The authenticated caller, for handlers.
#[derive(Debug, Clone, Copy)]
pub struct Auth(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts.extensions.get::<Principal>().copied().map(Auth).ok_or(ApiError::Core(Error::Unauthenticated))
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Runs before every handler: resolves the token, meters it, applies injected refusals.
/// Every answer carries the caller's budget, refusals of unknown tokens too (metered by
/// source address).
pub async fn layer(State(cloud): State<Cloud>, mut req: Request, next: Next) -> Response {
    let principal = match bearer(req.headers()).map(|t| cloud.authenticate(t)) {
        Some(Ok(p)) => p,
        _ => {
            let source = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
            let budget = cloud.meter_anonymous(source);
            let mut response = match budget {
                Some(b) if !b.allowed => ApiError::Core(Error::RateLimited { limit: b.limit }).into_response(),
                _ => ApiError::Core(Error::Unauthenticated).into_response(),
            };
            add_budget(&mut response, budget);
            return response;
        }
    };
    let budget = cloud.meter(&principal);
    let mut response = match budget {
        Some(b) if !b.allowed => ApiError::Core(Error::RateLimited { limit: b.limit }).into_response(),
        _ => match cloud.api_fault().await {
            Err(e) => ApiError::Core(e).into_response(),
            Ok(()) => {
                req.extensions_mut().insert(principal);
                next.run(req).await
            }
        },
    };
    add_budget(&mut response, budget);
    response
}

/// `RateLimit-Limit`, `-Remaining` and `-Reset` (a Unix time), as Hetzner sends them.
fn add_budget(response: &mut Response, budget: Option<stratus_core::ratelimit::Budget>) {
    if let Some(b) = budget {
        let reset = chrono::Utc::now().timestamp().saturating_add(i64::try_from(b.reset_after).unwrap_or(i64::MAX));
        let headers = response.headers_mut();
        headers.insert("ratelimit-limit", HeaderValue::from(b.limit));
        headers.insert("ratelimit-remaining", HeaderValue::from(b.remaining));
        headers.insert("ratelimit-reset", HeaderValue::from(reset));
    }
}

/// Answers that did not come from a handler of this dialect (axum's own refusals: a body
/// over the size limit) are put into the error envelope too, so clients always get one.
pub async fn envelope(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    let json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if response.status().is_client_error() && !json {
        return ApiError::Transport(response.status()).into_response();
    }
    response
}
