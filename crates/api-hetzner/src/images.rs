//! `/images` and their actions: seed 002, "Images" and "Image Actions"; shapes from
//! `hetzner-cloud-openapi.json` (`image`, `list_images`, `replace_image`, ...).

use crate::actions;
use crate::auth::Auth;
use crate::error::ApiResult;
use crate::list::{Listing, SortKey};
use crate::render::{ts, ts_opt};
use crate::request::{json_body, path_id, IdActionPath, IdPath};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use stratus_core::ids::{ImageId, ResourceKind, ServerId};
use stratus_core::labels::Labels;
use stratus_core::model::{Image, ImageStatus, ImageType};
use stratus_core::ops::images::{ImageFilter, ImageUpdate};
use stratus_core::views::ImageView;
use stratus_core::{Cloud, Error};

pub fn routes() -> Router<Cloud> {
    Router::new()
        .route("/images", get(list_images))
        .route("/images/actions", get(list_image_actions))
        .route("/images/actions/{id}", get(get_image_action))
        .route("/images/{id}", get(get_image).put(replace_image).delete(delete_image))
        .route("/images/{id}/actions", get(list_actions_for_image))
        .route("/images/{id}/actions/{action_id}", get(get_action_for_image))
        .route("/images/{id}/actions/change_protection", post(change_image_protection))
}

/// The Hetzner image object. Servers render their `image` with it too.
///
/// `locked` is whether an action holds the image. Hetzner's image object has no field
/// for it (an image being made shows `status: creating`, which core already records),
/// so it does not change the rendering; callers pass it so that a future field needs no
/// change at their side.
pub(crate) fn render(image: &Image, locked: bool) -> Value {
    let _ = locked;
    json!({
        "id": image.id.0,
        "type": image.kind.as_str(),
        "status": image.status.as_str(),
        "name": image.name,
        "description": image.description,
        "image_size": image.image_size,
        "disk_size": image.disk_size,
        "created": ts(image.created),
        "created_from": image.created_from.as_ref().map(|(id, name)| json!({"id": id.0, "name": name})),
        "bound_to": image.bound_to.map(|s| s.0),
        "os_flavor": image.os_flavor,
        "os_version": image.os_version,
        "rapid_deploy": image.rapid_deploy,
        "protection": {"delete": image.protection.delete},
        "deprecated": ts_opt(image.deprecated),
        // Core removes a deleted image's record, so an image that can be shown is not deleted.
        "deleted": Value::Null,
        "labels": image.labels,
        "architecture": image.architecture,
    })
}

fn render_view(v: &ImageView) -> Value {
    render(&v.image, v.holder.is_some())
}

fn image_type(raw: &str) -> ApiResult<ImageType> {
    match raw {
        "system" => Ok(ImageType::System),
        "app" => Ok(ImageType::App),
        "snapshot" => Ok(ImageType::Snapshot),
        "backup" => Ok(ImageType::Backup),
        _ => Err(Error::invalid_field("type", format!("unknown image type '{raw}'")).into()),
    }
}

fn image_status(raw: &str) -> ApiResult<ImageStatus> {
    match raw {
        "available" => Ok(ImageStatus::Available),
        "creating" => Ok(ImageStatus::Creating),
        "unavailable" => Ok(ImageStatus::Unavailable),
        _ => Err(Error::invalid_field("status", format!("unknown image status '{raw}'")).into()),
    }
}

fn sort_key(v: &ImageView, field: &str) -> SortKey {
    match field {
        "name" => SortKey::Text(v.image.name.clone().unwrap_or_default()),
        "created" => SortKey::Time(Some(v.image.created)),
        _ => SortKey::Int(v.image.id.0),
    }
}

/// `GET /images`: seed 002, "Images" › "Get all Images".
async fn list_images(State(cloud): State<Cloud>, Auth(p): Auth, listing: Listing) -> ApiResult<Response> {
    let params = &listing.params;
    let filter = ImageFilter {
        common: listing.filter()?,
        kinds: params.all("type").into_iter().map(image_type).collect::<ApiResult<_>>()?,
        status: params.all("status").into_iter().map(image_status).collect::<ApiResult<_>>()?,
        bound_to: params
            .all("bound_to")
            .into_iter()
            .map(|raw| {
                raw.parse::<i64>().map(ServerId).map_err(|_| Error::invalid_field("bound_to", "must be an integer"))
            })
            .collect::<Result<Vec<_>, _>>()?,
        architecture: params.one_of("architecture", &["x86", "arm"])?.map(str::to_string),
        include_deprecated: params.bool("include_deprecated")?.unwrap_or(false),
    };
    let terms = listing.sort(&["id", "name", "created"])?;
    let images = cloud.image_list(&p, &filter);
    listing.respond("images", images, &terms, sort_key, render_view)
}

/// `GET /images/{id}`: seed 002, "Images" › "Get an Image".
async fn get_image(State(cloud): State<Cloud>, Auth(p): Auth, id: IdPath) -> ApiResult<Json<Value>> {
    let id = ImageId(path_id(&id, ResourceKind::Image)?);
    Ok(Json(json!({"image": render_view(&cloud.image_get(&p, id)?)})))
}

#[derive(Debug, Deserialize)]
struct ReplaceImage {
    description: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    labels: Option<Labels>,
}

/// `PUT /images/{id}`: seed 002, "Images" › "Update an Image".
async fn replace_image(State(cloud): State<Cloud>, Auth(p): Auth, id: IdPath, body: Bytes) -> ApiResult<Json<Value>> {
    let id = ImageId(path_id(&id, ResourceKind::Image)?);
    let body: ReplaceImage = json_body(&body)?;
    let update = ImageUpdate {
        description: body.description,
        kind: body.kind.as_deref().map(image_type).transpose()?,
        labels: body.labels,
    };
    Ok(Json(json!({"image": render_view(&cloud.image_update(&p, id, update).await?)})))
}

/// `DELETE /images/{id}`: seed 002, "Images" › "Delete an Image".
async fn delete_image(State(cloud): State<Cloud>, Auth(p): Auth, id: IdPath) -> ApiResult<StatusCode> {
    let id = ImageId(path_id(&id, ResourceKind::Image)?);
    cloud.image_delete(&p, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /images/{id}/actions`: seed 002, "Image Actions" › "Get all Actions for an Image".
async fn list_actions_for_image(
    State(cloud): State<Cloud>,
    Auth(p): Auth,
    id: IdPath,
    listing: Listing,
) -> ApiResult<Response> {
    actions::list_for(&cloud, &p, &listing, ImageId(path_id(&id, ResourceKind::Image)?).as_ref())
}

/// `GET /images/{id}/actions/{action_id}`: seed 002, "Image Actions" › "Get an Action for an Image".
async fn get_action_for_image(State(cloud): State<Cloud>, Auth(p): Auth, ids: IdActionPath) -> ApiResult<Response> {
    let (id, action_id) = &*ids;
    actions::get_for(&cloud, &p, ImageId(path_id(id, ResourceKind::Image)?).as_ref(), action_id)
}

/// `GET /images/actions`: not in seed 002; today's API lists every image action here.
async fn list_image_actions(State(cloud): State<Cloud>, Auth(p): Auth, listing: Listing) -> ApiResult<Response> {
    actions::list_of_kind(&cloud, &p, &listing, ResourceKind::Image)
}

/// `GET /images/actions/{id}`: not in seed 002; today's API answers one image action here.
async fn get_image_action(State(cloud): State<Cloud>, Auth(p): Auth, id: IdPath) -> ApiResult<Response> {
    actions::get_of_kind(&cloud, &p, &id, ResourceKind::Image)
}

#[derive(Debug, Deserialize)]
struct ChangeProtection {
    delete: Option<bool>,
}

/// `POST /images/{id}/actions/change_protection`: seed 002, "Image Actions" › "Change protection for an Image".
async fn change_image_protection(
    State(cloud): State<Cloud>,
    Auth(p): Auth,
    id: IdPath,
    body: Bytes,
) -> ApiResult<Response> {
    let id = ImageId(path_id(&id, ResourceKind::Image)?);
    let body: ChangeProtection = json_body(&body)?;
    let action = cloud.image_change_protection(&p, id, body.delete).await?;
    Ok(actions::created(&cloud, &action, Value::Null))
}
