//! `/volumes` and their actions: today's API (not in seed 002); shapes from
//! `hetzner-cloud-openapi.json` (`volume`, `create_volume_request`, `create_volume_response`,
//! `attach_volume_to_server_request`, ...).

use crate::actions;
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::list::{Listing, SortKey};
use crate::render::{self, ts};
use crate::request::{json_body, path_id, IdActionPath, IdOrName, IdPath};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use stratus_core::ids::{ResourceKind, ServerId, VolumeId};
use stratus_core::labels::Labels;
use stratus_core::model::{Principal, VolumeStatus};
use stratus_core::ops::volumes::{VolumeAction, VolumeCreate, VolumeFilter};
use stratus_core::views::VolumeView;
use stratus_core::{Cloud, Error};

pub fn routes() -> Router<Cloud> {
    Router::new()
        .route("/volumes", get(list_volumes).post(create_volume))
        .route("/volumes/actions", get(list_volume_actions))
        .route("/volumes/actions/{id}", get(get_volume_action))
        .route("/volumes/{id}", get(get_volume).put(replace_volume).delete(delete_volume))
        .route("/volumes/{id}/actions", get(list_actions_for_volume))
        .route("/volumes/{id}/actions/{action_id}", get(get_action_for_volume))
        .route("/volumes/{id}/actions/attach", post(attach_volume_to_server))
        .route("/volumes/{id}/actions/detach", post(detach_volume))
        .route("/volumes/{id}/actions/resize", post(resize_volume))
        .route("/volumes/{id}/actions/change_protection", post(change_volume_protection))
}

/// The Hetzner volume object. `size` is an integer: hcloud-go reads it into an `int`.
/// `linux_device` is the path the driver reported when it attached the volume; while
/// detached, the path Hetzner gives the volume (its `linux_device` is fixed per volume,
/// shown always, and a string in the document).
fn render(v: &VolumeView) -> Value {
    let vol = &v.volume;
    let linux_device =
        vol.linux_device.clone().unwrap_or_else(|| format!("/dev/disk/by-id/scsi-0HC_Volume_{}", vol.id.0));
    json!({
        "id": vol.id.0,
        "name": vol.name,
        "size": vol.size_gb,
        "server": vol.server.map(|s| s.0),
        "location": render::location(&v.location),
        "linux_device": linux_device,
        "protection": {"delete": vol.protection.delete},
        "labels": vol.labels,
        "format": vol.format,
        "status": vol.status.as_str(),
        "created": ts(vol.created),
    })
}

fn sort_key(v: &VolumeView, field: &str) -> SortKey {
    match field {
        "name" => SortKey::Text(v.volume.name.clone()),
        "created" => SortKey::Time(Some(v.volume.created)),
        _ => SortKey::Int(v.volume.id.0),
    }
}

fn status(raw: &str) -> ApiResult<VolumeStatus> {
    match raw {
        "available" => Ok(VolumeStatus::Available),
        "creating" => Ok(VolumeStatus::Creating),
        other => Err(ApiError::from(Error::invalid_field("status", format!("unknown status '{other}'")))),
    }
}

fn volume_id(raw: &str) -> ApiResult<VolumeId> {
    Ok(VolumeId(path_id(raw, ResourceKind::Volume)?))
}

/// The volume the path names, checked to be one of the project's.
fn own(cloud: &Cloud, p: &Principal, raw: &str) -> ApiResult<VolumeId> {
    let id = volume_id(raw)?;
    cloud.volume_get(p, id)?;
    Ok(id)
}

/// `GET /volumes`: `list_volumes`, with `name`, `label_selector` and the repeatable `status`.
async fn list_volumes(State(cloud): State<Cloud>, Auth(p): Auth, listing: Listing) -> ApiResult<Response> {
    let terms = listing.sort(&["id", "name", "created"])?;
    let status = listing.params.all("status").into_iter().map(status).collect::<ApiResult<Vec<_>>>()?;
    let volumes = cloud.volume_list(&p, &VolumeFilter { common: listing.filter()?, status });
    listing.respond("volumes", volumes, &terms, sort_key, render)
}

/// `GET /volumes/{id}`: `get_volume`.
async fn get_volume(State(cloud): State<Cloud>, Auth(p): Auth, id: IdPath) -> ApiResult<Json<Value>> {
    let volume = cloud.volume_get(&p, volume_id(&id)?)?;
    Ok(Json(json!({"volume": render(&volume)})))
}

/// `create_volume_request`.
#[derive(Debug, Deserialize)]
struct CreateVolume {
    name: String,
    size: i64,
    /// By name or id: the CLI sends an integer when the user gave digits.
    location: Option<IdOrName>,
    server: Option<i64>,
    automount: Option<bool>,
    format: Option<String>,
    labels: Option<Labels>,
}

/// `POST /volumes`: `create_volume`. The answer's `action` is the creation and
/// `next_actions` the attachment when a server was given, `[]` otherwise (hcloud-go
/// needs the key and a non-null `action`).
async fn create_volume(State(cloud): State<Cloud>, Auth(p): Auth, body: Bytes) -> ApiResult<Response> {
    let body: CreateVolume = json_body(&body)?;
    let req = VolumeCreate {
        name: body.name,
        size_gb: body.size,
        location: body.location.map(|r| r.0),
        server: body.server.map(ServerId),
        automount: body.automount.unwrap_or(false),
        format: body.format,
        labels: body.labels.unwrap_or_default(),
    };
    let created = cloud.volume_create(&p, req).await?;
    let body = json!({
        "volume": render(&created.volume),
        "action": render::action(&cloud, &created.action),
        "next_actions": render::actions(&cloud, &created.next_actions),
    });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

#[derive(Debug, Deserialize)]
struct ReplaceVolume {
    name: Option<String>,
    labels: Option<Labels>,
}

/// `PUT /volumes/{id}`: `replace_volume` (name and labels).
async fn replace_volume(State(cloud): State<Cloud>, Auth(p): Auth, id: IdPath, body: Bytes) -> ApiResult<Json<Value>> {
    let id = volume_id(&id)?;
    let body: ReplaceVolume = json_body(&body)?;
    let volume = cloud.volume_update(&p, id, body.name, body.labels).await?;
    Ok(Json(json!({"volume": render(&volume)})))
}

/// `DELETE /volumes/{id}`: `delete_volume`; 204 with no body. The volume must be
/// detached and unprotected.
async fn delete_volume(State(cloud): State<Cloud>, Auth(p): Auth, id: IdPath) -> ApiResult<StatusCode> {
    cloud.volume_delete(&p, volume_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /volumes/{id}/actions`: `list_actions_for_volume`.
async fn list_actions_for_volume(
    State(cloud): State<Cloud>,
    Auth(p): Auth,
    id: IdPath,
    listing: Listing,
) -> ApiResult<Response> {
    actions::list_for(&cloud, &p, &listing, own(&cloud, &p, &id)?.as_ref())
}

/// `GET /volumes/{id}/actions/{action_id}`: `get_action_for_volume`.
async fn get_action_for_volume(State(cloud): State<Cloud>, Auth(p): Auth, ids: IdActionPath) -> ApiResult<Response> {
    let (id, action_id) = &*ids;
    actions::get_for(&cloud, &p, own(&cloud, &p, id)?.as_ref(), action_id)
}

/// `GET /volumes/actions`: `list_volume_actions`, every volume action of the project.
async fn list_volume_actions(State(cloud): State<Cloud>, Auth(p): Auth, listing: Listing) -> ApiResult<Response> {
    actions::list_of_kind(&cloud, &p, &listing, ResourceKind::Volume)
}

/// `GET /volumes/actions/{id}`: `get_volume_action`.
async fn get_volume_action(State(cloud): State<Cloud>, Auth(p): Auth, id: IdPath) -> ApiResult<Response> {
    actions::get_of_kind(&cloud, &p, &id, ResourceKind::Volume)
}

/// `attach_volume_to_server_request`.
#[derive(Debug, Deserialize)]
struct Attach {
    server: Option<i64>,
    /// Read so that a wrong type is refused like any other field's. TODO-fidelity:
    /// mounting is the guest's business, which the simulator does not model.
    #[serde(rename = "automount")]
    _automount: Option<bool>,
}

/// `POST /volumes/{id}/actions/attach`: `attach_volume_to_server`. The server must be in
/// the volume's location and the volume detached (`volume_already_attached` otherwise).
async fn attach_volume_to_server(
    State(cloud): State<Cloud>,
    Auth(p): Auth,
    id: IdPath,
    body: Bytes,
) -> ApiResult<Response> {
    let id = volume_id(&id)?;
    let body: Attach = json_body(&body)?;
    let server = body.server.ok_or_else(|| Error::invalid_field("server", "is required"))?;
    let action = cloud.volume_action(&p, id, VolumeAction::Attach { server: ServerId(server) }).await?;
    Ok(actions::created(&cloud, &action, Value::Null))
}

/// `POST /volumes/{id}/actions/detach`: `detach_volume`.
async fn detach_volume(State(cloud): State<Cloud>, Auth(p): Auth, id: IdPath) -> ApiResult<Response> {
    let action = cloud.volume_action(&p, volume_id(&id)?, VolumeAction::Detach).await?;
    Ok(actions::created(&cloud, &action, Value::Null))
}

/// The document's new `size` is a `number` (its create's is an `integer`): `50.0` is 50 GB.
#[derive(Debug, Deserialize)]
struct Resize {
    size: Option<f64>,
}

/// `POST /volumes/{id}/actions/resize`: `resize_volume`; grows only.
async fn resize_volume(State(cloud): State<Cloud>, Auth(p): Auth, id: IdPath, body: Bytes) -> ApiResult<Response> {
    let id = volume_id(&id)?;
    let body: Resize = json_body(&body)?;
    let size = body.size.ok_or_else(|| Error::invalid_field("size", "is required"))?;
    if size.fract() != 0.0 || size.abs() >= 1e15 {
        return Err(Error::invalid_field("size", "must be a whole number of GB").into());
    }
    #[allow(clippy::cast_possible_truncation)] // a whole number below 1e15: exact
    let size_gb = size as i64;
    let action = cloud.volume_action(&p, id, VolumeAction::Resize { size_gb }).await?;
    Ok(actions::created(&cloud, &action, Value::Null))
}

#[derive(Debug, Deserialize)]
struct ChangeProtection {
    delete: Option<bool>,
}

/// `POST /volumes/{id}/actions/change_protection`: `change_volume_protection`.
async fn change_volume_protection(
    State(cloud): State<Cloud>,
    Auth(p): Auth,
    id: IdPath,
    body: Bytes,
) -> ApiResult<Response> {
    let id = volume_id(&id)?;
    let body: ChangeProtection = json_body(&body)?;
    let action = cloud.volume_action(&p, id, VolumeAction::ChangeProtection { delete: body.delete }).await?;
    Ok(actions::created(&cloud, &action, Value::Null))
}
