//! The Hetzner error envelope, `{"error":{"code","message","details"}}`, and the one
//! mapping from core errors to it. See seed 002, "Errors".

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use stratus_core::ids::ResourceKind;
use stratus_core::{Error, Refusal};

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
    /// A refusal of the HTTP layer below the handlers (a body over the size limit).
    Transport(StatusCode),
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
        ResourceKind::Volume => "volume",
        ResourceKind::Network => "network",
        ResourceKind::Nic => "network_interface",
        ResourceKind::Firewall => "firewall",
        ResourceKind::LoadBalancer => "load_balancer",
        ResourceKind::LoadBalancerType => "load_balancer_type",
        ResourceKind::PlacementGroup => "placement_group",
        ResourceKind::Certificate => "certificate",
        // Hetzner has neither; no Hetzner endpoint names them.
        ResourceKind::User => "user",
        ResourceKind::ApiKey => "api_key",
        ResourceKind::Session => "session",
    }
}

/// How Hetzner's messages name a kind of resource.
fn words(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::Ip => "IP",
        ResourceKind::SshKey => "SSH key",
        ResourceKind::LoadBalancer => "load balancer",
        ResourceKind::PlacementGroup => "placement group",
        other => kind_name(other),
    }
}

/// Hetzner's code for a refusal: operation-specific codes from the document's
/// "Operation specific errors" tables.
fn refusal_code(reason: Refusal) -> &'static str {
    match reason {
        Refusal::InUse => "resource_in_use",
        Refusal::Placement => "placement_error",
        Refusal::AlreadyAttached => "server_already_attached",
        Refusal::NotAttached => "server_not_attached_to_network",
        Refusal::NotStopped => "server_not_stopped",
        Refusal::AddressTaken => "ip_not_available",
        Refusal::NoFreeAddress => "no_subnet_available",
        Refusal::PortInUse => "source_port_already_used",
        Refusal::TargetExists => "target_already_defined",
        Refusal::MissingIpv4 => "missing_ipv4",
        Refusal::ManagedBySelector => "firewall_managed_by_label_selector",
        Refusal::AlreadyAssigned => "primary_ip_assigned",
        Refusal::LocationMismatch => "primary_ip_datacenter_mismatch",
        Refusal::VolumeAttached => "volume_already_attached",
        Refusal::ServerHasIpv4 => "server_has_ipv4",
        Refusal::ServerHasIpv6 => "server_has_ipv6",
        Refusal::AssignedElsewhere => "primary_ip_already_assigned",
        Refusal::IpVersionMismatch => "primary_ip_version_mismatch",
        Refusal::LoadBalancerTarget => "server_is_load_balancer_target",
        Refusal::AlreadyApplied => "firewall_already_applied",
        Refusal::TargetNotFound => "firewall_resource_not_found",
        Refusal::AddedTwice => "server_already_added",
        Refusal::NoPublicInterface => "private_net_only_server",
        Refusal::Overlap => "networks_overlap",
        // The document's answer to "a change is currently being performed"; both
        // hcloud-go and hcloud-python retry it.
        Refusal::Busy => "conflict",
        Refusal::LbAlreadyAttached => "load_balancer_already_attached",
        Refusal::LbNotAttached => "load_balancer_not_attached_to_network",
        Refusal::PublicInterfaceDisabled => "load_balancer_public_interface_disabled",
        Refusal::PublicTargets => "targets_without_use_private_ip",
        Refusal::TypeTooSmall => "invalid_load_balancer_type",
        Refusal::CloudResourceIp => "cloud_resource_ip_not_allowed",
    }
}

/// The status of a refusal: 422, except a missing target, which the document answers
/// with 404 (`apply_to_resources`, `remove_from_resources`), and a conflict (409).
fn refusal_status(reason: Refusal) -> StatusCode {
    match reason {
        Refusal::TargetNotFound => StatusCode::NOT_FOUND,
        Refusal::Busy => StatusCode::CONFLICT,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
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
            ApiError::Transport(StatusCode::PAYLOAD_TOO_LARGE) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_input",
                format!("the request body is larger than {} MiB", crate::MAX_BODY >> 20),
                None,
            ),
            ApiError::Transport(status) => (
                status,
                "invalid_input",
                status.canonical_reason().unwrap_or("the request was refused").to_string(),
                None,
            ),
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
                Error::Locked { resource, .. } => (
                    StatusCode::LOCKED,
                    "locked",
                    format!("{} {} is locked by a running action", words(resource.kind), resource.id),
                    None,
                ),
                Error::Protected { resource, operation } => (
                    StatusCode::FORBIDDEN,
                    "protected",
                    format!(
                        "{} {} is protected; disable {operation} protection first",
                        words(resource.kind),
                        if operation == "rebuild" { "rebuild" } else { "deletion" }
                    ),
                    None,
                ),
                Error::Refused { reason, message } => (refusal_status(reason), refusal_code(reason), message, None),
                Error::ResourceLimit { kind, limit } => (
                    StatusCode::FORBIDDEN,
                    "resource_limit_exceeded",
                    // Images count against the limit as snapshots (backups do not).
                    format!(
                        "{} limit of {limit} reached",
                        if kind == ResourceKind::Image { "snapshot" } else { words(kind) }
                    ),
                    None,
                ),
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
