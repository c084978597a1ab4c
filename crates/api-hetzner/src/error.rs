//! The Hetzner error envelope, `{"error":{"code","message","details"}}`, and the one
//! mapping from core errors to it. See seed 002, "Errors".

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use stratus_core::ids::ResourceKind;
use stratus_core::Error;

/// An error as this dialect answers it.
#[derive(Debug)]
pub enum ApiError {
    /// A core refusal.
    Core(Error),
    /// The body is not JSON (or not the JSON the operation takes).
    Json(String),
    /// No operation has this path.
    NoRoute(String),
    /// The path exists, but not with this method.
    MethodNotAllowed(String),
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError::Core(e)
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// Turns a panic in a handler into this dialect's `500 service_error` answer instead of
/// a dropped connection. Handlers are written not to panic; this is the last line.
pub fn catch_panics() -> tower_http::catch_panic::CatchPanicLayer<fn(Box<dyn std::any::Any + Send>) -> Response> {
    fn answer(panic: Box<dyn std::any::Any + Send>) -> Response {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic".into());
        ApiError::Core(Error::Internal(format!("handler panicked: {what}"))).into_response()
    }
    tower_http::catch_panic::CatchPanicLayer::custom(answer as fn(_) -> _)
}

/// Hetzner's name of a resource kind, as it appears in messages and action resources.
pub fn kind_name(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::Server => "server",
        ResourceKind::Action => "action",
        ResourceKind::SshKey => "ssh_key",
        ResourceKind::Ip => "floating_ip",
        ResourceKind::Image => "image",
        ResourceKind::Iso => "iso",
        ResourceKind::Location => "location",
        ResourceKind::Datacenter => "datacenter",
        ResourceKind::ServerType => "server_type",
        ResourceKind::Project => "project",
        ResourceKind::Token => "token",
        ResourceKind::Fault => "fault",
    }
}

fn fields(fields: &[stratus_core::FieldError]) -> Value {
    json!({ "fields": fields.iter().map(|f| json!({"name": f.name, "messages": f.messages})).collect::<Vec<_>>() })
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message, details) = match self {
            ApiError::Json(message) => (StatusCode::BAD_REQUEST, "json_error", message, None),
            ApiError::NoRoute(path) => (StatusCode::NOT_FOUND, "not_found", format!("no such API path: {path}"), None),
            ApiError::MethodNotAllowed(what) => {
                (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", format!("{what} is not supported"), None)
            }
            ApiError::Core(e) => match e {
                Error::NotFound { kind, id } => {
                    (StatusCode::NOT_FOUND, "not_found", format!("{} with ID '{id}' not found", kind_name(kind)), None)
                }
                Error::InvalidInput { message, fields: f } => {
                    (StatusCode::BAD_REQUEST, "invalid_input", message, Some(fields(&f)))
                }
                Error::Uniqueness { message, field } => (
                    StatusCode::CONFLICT,
                    "uniqueness_error",
                    message,
                    Some(json!({"fields": [{"name": field, "messages": ["is already used"]}]})),
                ),
                Error::Locked { message } => (StatusCode::LOCKED, "locked", message, None),
                Error::Protected { message } => (StatusCode::FORBIDDEN, "protected", message, None),
                Error::ResourceLimit { message } => (StatusCode::FORBIDDEN, "resource_limit_exceeded", message, None),
                Error::Unavailable { message } => {
                    (StatusCode::SERVICE_UNAVAILABLE, "resource_unavailable", message, None)
                }
                Error::Unauthenticated => {
                    (StatusCode::UNAUTHORIZED, "unauthorized", "unable to authenticate".into(), None)
                }
                Error::Forbidden { message } => (StatusCode::FORBIDDEN, "forbidden", message, None),
                Error::RateLimited { .. } => (
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limit_exceeded",
                    "limit of requests per hour reached".into(),
                    None,
                ),
                Error::Maintenance => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "maintenance",
                    "cannot perform operation due to maintenance".into(),
                    None,
                ),
                Error::Internal(why) => {
                    // The cause stays in the log; the client learns only that it was us.
                    tracing::error!(error = %why, "internal error");
                    (StatusCode::INTERNAL_SERVER_ERROR, "service_error", "internal service error".into(), None)
                }
            },
        };
        let body =
            json!({"error": {"code": code, "message": message, "details": details.unwrap_or_else(|| json!({}))}});
        (status, axum::Json(body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use axum::routing::get;
    use tower::ServiceExt;

    #[tokio::test]
    async fn a_panicking_handler_answers_service_error() {
        let app =
            axum::Router::new().route("/boom", get(|| async { panic!("bug") as &'static str })).layer(catch_panics());
        let res = app.oneshot(Request::builder().uri("/boom").body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body: Value =
            serde_json::from_slice(&axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap()).unwrap();
        assert_eq!(body["error"]["code"], "service_error");
        assert_eq!(body["error"]["message"], "internal service error", "the panic message stays in the log");
    }
}
