//! `POST /servers/{id}/actions/*`: seed 002, "Server Actions", the 18 actions; request
//! bodies and answers from `hetzner-cloud-openapi.json` (`*_request`, `*_response`).
//! Each maps onto one [`ServerAction`]; core decides whether the server may do it.
//! Actions without parameters ignore any body, as clients send `{}` or nothing.

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::request::{json_body, optional_json_body, path_id, IdOrName, IdPath};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use serde::Deserialize;
use serde_json::{json, Value};
use stratus_core::ids::{NetworkId, PlacementGroupId, ResourceKind, ServerId};
use stratus_core::labels::Labels;
use stratus_core::model::{ImageType, Principal};
use stratus_core::ops::server_actions::{ServerAction, ServerActionResult};
use stratus_core::{Cloud, Error};

pub fn routes() -> Router<Cloud> {
    Router::new()
        .route("/servers/{id}/actions/poweron", post(power_on_server))
        .route("/servers/{id}/actions/reboot", post(soft_reboot_server))
        .route("/servers/{id}/actions/reset", post(reset_server))
        .route("/servers/{id}/actions/shutdown", post(shutdown_server))
        .route("/servers/{id}/actions/poweroff", post(power_off_server))
        .route("/servers/{id}/actions/reset_password", post(reset_root_password_of_server))
        .route("/servers/{id}/actions/enable_rescue", post(enable_rescue_mode_for_server))
        .route("/servers/{id}/actions/disable_rescue", post(disable_rescue_mode_for_server))
        .route("/servers/{id}/actions/create_image", post(create_image_from_server))
        .route("/servers/{id}/actions/rebuild", post(rebuild_server_from_image))
        .route("/servers/{id}/actions/change_type", post(change_type_of_server))
        .route("/servers/{id}/actions/enable_backup", post(enable_and_configure_backups_for_server))
        .route("/servers/{id}/actions/disable_backup", post(disable_backups_for_server))
        .route("/servers/{id}/actions/attach_iso", post(attach_iso_to_server))
        .route("/servers/{id}/actions/detach_iso", post(detach_iso_from_server))
        .route("/servers/{id}/actions/change_dns_ptr", post(change_reverse_dns_entry_for_this_server))
        .route("/servers/{id}/actions/change_protection", post(change_server_protection))
        .route("/servers/{id}/actions/request_console", post(request_console_for_server))
        .route("/servers/{id}/actions/attach_to_network", post(attach_server_to_network))
        .route("/servers/{id}/actions/detach_from_network", post(detach_server_from_network))
        .route("/servers/{id}/actions/change_alias_ips", post(change_alias_ips_of_network))
        .route("/servers/{id}/actions/add_to_placement_group", post(add_server_to_placement_group))
        .route("/servers/{id}/actions/remove_from_placement_group", post(remove_from_placement_group))
}

/// Runs `op` on the server named by the path.
async fn run(cloud: &Cloud, p: &Principal, id: &str, op: ServerAction) -> ApiResult<ServerActionResult> {
    let id = ServerId(path_id(id, ResourceKind::Server)?);
    Ok(cloud.server_action(p, id, op).await?)
}

/// `201 {"action": ..., <extra>}`, as every server action answers.
fn created(cloud: &Cloud, result: &ServerActionResult, extra: Value) -> Response {
    crate::actions::created(cloud, &result.action, extra)
}

/// Runs an action whose answer is the action alone.
async fn plain(cloud: &Cloud, p: &Principal, id: &str, op: ServerAction) -> ApiResult<Response> {
    let result = run(cloud, p, id, op).await?;
    Ok(created(cloud, &result, json!({})))
}

/// `POST /servers/{id}/actions/poweron`: seed 002, "Server Actions" › "Power on a Server".
async fn power_on_server(State(cloud): State<Cloud>, Auth(p): Auth, id: IdPath) -> ApiResult<Response> {
    plain(&cloud, &p, &id, ServerAction::PowerOn).await
}

/// `POST /servers/{id}/actions/reboot`: seed 002, "Server Actions" › "Soft-reboot a Server".
async fn soft_reboot_server(State(cloud): State<Cloud>, Auth(p): Auth, id: IdPath) -> ApiResult<Response> {
    plain(&cloud, &p, &id, ServerAction::Reboot).await
}

/// `POST /servers/{id}/actions/reset`: seed 002, "Server Actions" › "Reset a Server".
async fn reset_server(State(cloud): State<Cloud>, Auth(p): Auth, id: IdPath) -> ApiResult<Response> {
    plain(&cloud, &p, &id, ServerAction::Reset).await
}

/// `POST /servers/{id}/actions/shutdown`: seed 002, "Server Actions" › "Shutdown a Server".
async fn shutdown_server(State(cloud): State<Cloud>, Auth(p): Auth, id: IdPath) -> ApiResult<Response> {
    plain(&cloud, &p, &id, ServerAction::Shutdown).await
}

/// `POST /servers/{id}/actions/poweroff`: seed 002, "Server Actions" › "Power off a Server".
async fn power_off_server(State(cloud): State<Cloud>, Auth(p): Auth, id: IdPath) -> ApiResult<Response> {
    plain(&cloud, &p, &id, ServerAction::PowerOff).await
}

/// `POST /servers/{id}/actions/reset_password`: seed 002, "Server Actions" › "Reset root
/// Password of a Server".
async fn reset_root_password_of_server(State(cloud): State<Cloud>, Auth(p): Auth, id: IdPath) -> ApiResult<Response> {
    let result = run(&cloud, &p, &id, ServerAction::ResetPassword).await?;
    Ok(created(&cloud, &result, json!({"root_password": result.root_password})))
}

/// `enable_rescue_mode_for_server_request`.
/// The rescue systems Hetzner offers.
const RESCUE_KINDS: [&str; 1] = ["linux64"];

#[derive(Debug, Deserialize)]
struct EnableRescueRequest {
    #[serde(rename = "type")]
    kind: Option<String>,
    ssh_keys: Option<Vec<IdOrName>>,
}

/// `POST /servers/{id}/actions/enable_rescue`: seed 002, "Server Actions" › "Enable Rescue
/// Mode for a Server".
async fn enable_rescue_mode_for_server(
    State(cloud): State<Cloud>,
    Auth(p): Auth,
    id: IdPath,
    body: Bytes,
) -> ApiResult<Response> {
    let req: EnableRescueRequest = json_body(&body)?;
    let kind = req.kind.unwrap_or_else(|| "linux64".to_string());
    if !RESCUE_KINDS.contains(&kind.as_str()) {
        return Err(Error::invalid_field("type", format!("unknown rescue type '{kind}'")).into());
    }
    let op =
        ServerAction::EnableRescue { ssh_keys: req.ssh_keys.unwrap_or_default().into_iter().map(|r| r.0).collect() };
    let result = run(&cloud, &p, &id, op).await?;
    Ok(created(&cloud, &result, json!({"root_password": result.root_password})))
}

/// `POST /servers/{id}/actions/disable_rescue`: seed 002, "Server Actions" › "Disable
/// Rescue Mode for a Server".
async fn disable_rescue_mode_for_server(State(cloud): State<Cloud>, Auth(p): Auth, id: IdPath) -> ApiResult<Response> {
    plain(&cloud, &p, &id, ServerAction::DisableRescue).await
}

/// `create_image_from_server_request`.
#[derive(Debug, Deserialize)]
struct CreateImageRequest {
    description: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    labels: Option<Labels>,
}

/// `POST /servers/{id}/actions/create_image`: seed 002, "Server Actions" › "Create Image
/// from a Server".
async fn create_image_from_server(
    State(cloud): State<Cloud>,
    Auth(p): Auth,
    id: IdPath,
    body: Bytes,
) -> ApiResult<Response> {
    let req: CreateImageRequest = json_body(&body)?;
    let kind = match req.kind.as_deref().unwrap_or("snapshot") {
        "snapshot" => ImageType::Snapshot,
        "backup" => ImageType::Backup,
        "system" => ImageType::System,
        "app" => ImageType::App,
        other => return Err(Error::invalid_field("type", format!("unknown image type '{other}'")).into()),
    };
    let op = ServerAction::CreateImage { kind, description: req.description, labels: req.labels.unwrap_or_default() };
    let result = run(&cloud, &p, &id, op).await?;
    let image = result.image.as_ref().map(|v| crate::images::render(&v.image, v.holder.is_some()));
    Ok(created(&cloud, &result, json!({"image": image})))
}

/// `rebuild_server_from_image_request`.
#[derive(Debug, Deserialize)]
struct RebuildRequest {
    image: IdOrName,
    /// Replaces the server's user data for the rebuilt system.
    user_data: Option<String>,
}

/// `POST /servers/{id}/actions/rebuild`: seed 002, "Server Actions" › "Rebuild a Server
/// from an Image".
async fn rebuild_server_from_image(
    State(cloud): State<Cloud>,
    Auth(p): Auth,
    id: IdPath,
    body: Bytes,
) -> ApiResult<Response> {
    let req: RebuildRequest = json_body(&body)?;
    crate::servers::check_user_data(req.user_data.as_deref())?;
    let result = run(&cloud, &p, &id, ServerAction::Rebuild { image: req.image.0, user_data: req.user_data }).await?;
    Ok(created(&cloud, &result, json!({"root_password": result.root_password})))
}

/// `change_type_of_server_request`.
#[derive(Debug, Deserialize)]
struct ChangeTypeRequest {
    server_type: IdOrName,
    upgrade_disk: bool,
}

/// `POST /servers/{id}/actions/change_type`: seed 002, "Server Actions" › "Change the
/// Type of a Server".
async fn change_type_of_server(
    State(cloud): State<Cloud>,
    Auth(p): Auth,
    id: IdPath,
    body: Bytes,
) -> ApiResult<Response> {
    let req: ChangeTypeRequest = json_body(&body)?;
    let op = ServerAction::ChangeType { server_type: req.server_type.0, upgrade_disk: req.upgrade_disk };
    plain(&cloud, &p, &id, op).await
}

/// Seed 002's `enable_backup` body; today's API takes none (the window is chosen for you).
#[derive(Debug, Deserialize)]
struct EnableBackupRequest {
    backup_window: Option<String>,
}

/// `POST /servers/{id}/actions/enable_backup`: seed 002, "Server Actions" › "Enable and
/// Configure Backups for a Server".
async fn enable_and_configure_backups_for_server(
    State(cloud): State<Cloud>,
    Auth(p): Auth,
    id: IdPath,
    body: Bytes,
) -> ApiResult<Response> {
    let req: EnableBackupRequest = optional_json_body(&body)?;
    plain(&cloud, &p, &id, ServerAction::EnableBackup { window: req.backup_window }).await
}

/// `POST /servers/{id}/actions/disable_backup`: seed 002, "Server Actions" › "Disable
/// Backups for a Server". Hetzner deletes the server's backups with the plan.
async fn disable_backups_for_server(State(cloud): State<Cloud>, Auth(p): Auth, id: IdPath) -> ApiResult<Response> {
    plain(&cloud, &p, &id, ServerAction::DisableBackup { delete_backups: true }).await
}

/// `attach_iso_to_server_request`.
#[derive(Debug, Deserialize)]
struct AttachIsoRequest {
    iso: IdOrName,
}

/// `POST /servers/{id}/actions/attach_iso`: seed 002, "Server Actions" › "Attach an ISO to
/// a Server".
async fn attach_iso_to_server(
    State(cloud): State<Cloud>,
    Auth(p): Auth,
    id: IdPath,
    body: Bytes,
) -> ApiResult<Response> {
    let req: AttachIsoRequest = json_body(&body)?;
    plain(&cloud, &p, &id, ServerAction::AttachIso { iso: req.iso.0 }).await
}

/// `POST /servers/{id}/actions/detach_iso`: seed 002, "Server Actions" › "Detach an ISO
/// from a Server".
async fn detach_iso_from_server(State(cloud): State<Cloud>, Auth(p): Auth, id: IdPath) -> ApiResult<Response> {
    plain(&cloud, &p, &id, ServerAction::DetachIso).await
}

/// `change_reverse_dns_entry_for_this_server_request`.
#[derive(Debug, Deserialize)]
struct ChangeDnsPtrRequest {
    ip: String,
    /// Required, and `null` resets the record to its default: `None` when missing,
    /// `Some(None)` for `null`.
    #[serde(default, deserialize_with = "crate::request::present")]
    dns_ptr: Option<Option<String>>,
}

/// `POST /servers/{id}/actions/change_dns_ptr`: seed 002, "Server Actions" › "Change
/// reverse DNS entry for this server".
async fn change_reverse_dns_entry_for_this_server(
    State(cloud): State<Cloud>,
    Auth(p): Auth,
    id: IdPath,
    body: Bytes,
) -> ApiResult<Response> {
    let req: ChangeDnsPtrRequest = json_body(&body)?;
    let ptr =
        req.dns_ptr.ok_or_else(|| ApiError::from(Error::invalid_field("dns_ptr", "is required (null resets it)")))?;
    plain(&cloud, &p, &id, ServerAction::ChangeDnsPtr { ip: req.ip, ptr }).await
}

/// `change_server_protection_request`.
#[derive(Debug, Deserialize)]
struct ChangeProtectionRequest {
    delete: Option<bool>,
    rebuild: Option<bool>,
}

/// `POST /servers/{id}/actions/change_protection`: seed 002, "Server Actions" › "Change
/// protection for a Server".
async fn change_server_protection(
    State(cloud): State<Cloud>,
    Auth(p): Auth,
    id: IdPath,
    body: Bytes,
) -> ApiResult<Response> {
    let req: ChangeProtectionRequest = json_body(&body)?;
    // Hetzner requires both flags to agree (its API documents this), as they will after
    // the change. A locked server is refused as locked first, by the core.
    let view = cloud.server_get(&p, ServerId(path_id(&id, ResourceKind::Server)?))?;
    let delete = req.delete.unwrap_or(view.server.protection.delete);
    let rebuild = req.rebuild.unwrap_or(view.server.protection.rebuild);
    if delete != rebuild && view.holder.is_none() {
        return Err(Error::invalid("delete and rebuild protection must have the same value").into());
    }
    plain(&cloud, &p, &id, ServerAction::ChangeProtection { delete: req.delete, rebuild: req.rebuild }).await
}

/// The console URL as the client must open it. A driver may answer a path on Stratus's
/// own listener (the simulator does); the client needs an absolute WebSocket URL, on the
/// host it called, secure when a TLS proxy in front says so.
fn console_url(url: &str, headers: &HeaderMap) -> String {
    if !url.starts_with('/') {
        return url.to_string();
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    let tls = headers.get("x-forwarded-proto").is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"));
    format!("{}://{host}{url}", if tls { "wss" } else { "ws" })
}

/// `POST /servers/{id}/actions/request_console`: seed 002, "Server Actions" › "Request
/// Console for a Server".
async fn request_console_for_server(
    State(cloud): State<Cloud>,
    Auth(p): Auth,
    id: IdPath,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let result = run(&cloud, &p, &id, ServerAction::RequestConsole).await?;
    let console = result
        .console
        .as_ref()
        .ok_or_else(|| ApiError::from(Error::Internal("request_console returned no console".into())))?;
    let extra = json!({"wss_url": console_url(&console.wss_url, &headers), "password": console.password});
    Ok(created(&cloud, &result, extra))
}

/// `attach_server_to_network_request`.
#[derive(Debug, Deserialize)]
struct AttachToNetworkRequest {
    network: i64,
    ip: Option<String>,
    alias_ips: Option<Vec<String>>,
}

/// `POST /servers/{id}/actions/attach_to_network`: `attach_server_to_network`.
async fn attach_server_to_network(
    State(cloud): State<Cloud>,
    Auth(p): Auth,
    id: IdPath,
    body: Bytes,
) -> ApiResult<Response> {
    let req: AttachToNetworkRequest = json_body(&body)?;
    let op = ServerAction::AttachToNetwork {
        network: NetworkId(req.network),
        ip: req.ip,
        alias_ips: req.alias_ips.unwrap_or_default(),
    };
    plain(&cloud, &p, &id, op).await
}

/// `detach_server_from_network_request`.
#[derive(Debug, Deserialize)]
struct DetachFromNetworkRequest {
    network: i64,
}

/// `POST /servers/{id}/actions/detach_from_network`: `detach_server_from_network`.
async fn detach_server_from_network(
    State(cloud): State<Cloud>,
    Auth(p): Auth,
    id: IdPath,
    body: Bytes,
) -> ApiResult<Response> {
    let req: DetachFromNetworkRequest = json_body(&body)?;
    plain(&cloud, &p, &id, ServerAction::DetachFromNetwork { network: NetworkId(req.network) }).await
}

/// `change_alias_ips_of_network_request`.
#[derive(Debug, Deserialize)]
struct ChangeAliasIpsRequest {
    network: i64,
    alias_ips: Vec<String>,
}

/// `POST /servers/{id}/actions/change_alias_ips`: `change_alias_ips_of_network`.
async fn change_alias_ips_of_network(
    State(cloud): State<Cloud>,
    Auth(p): Auth,
    id: IdPath,
    body: Bytes,
) -> ApiResult<Response> {
    let req: ChangeAliasIpsRequest = json_body(&body)?;
    plain(&cloud, &p, &id, ServerAction::ChangeAliasIps { network: NetworkId(req.network), alias_ips: req.alias_ips })
        .await
}

/// `add_server_to_placement_group_request`.
#[derive(Debug, Deserialize)]
struct AddToPlacementGroupRequest {
    placement_group: i64,
}

/// `POST /servers/{id}/actions/add_to_placement_group`: `add_server_to_placement_group`.
async fn add_server_to_placement_group(
    State(cloud): State<Cloud>,
    Auth(p): Auth,
    id: IdPath,
    body: Bytes,
) -> ApiResult<Response> {
    let req: AddToPlacementGroupRequest = json_body(&body)?;
    plain(&cloud, &p, &id, ServerAction::AddToPlacementGroup { group: PlacementGroupId(req.placement_group) }).await
}

/// `POST /servers/{id}/actions/remove_from_placement_group`: `remove_from_placement_group`.
async fn remove_from_placement_group(State(cloud): State<Cloud>, Auth(p): Auth, id: IdPath) -> ApiResult<Response> {
    plain(&cloud, &p, &id, ServerAction::RemoveFromPlacementGroup).await
}
