//! `/placement_groups`: today's API (not in seed 002); shapes from
//! `hetzner-cloud-openapi.json` (`placement_group`, `create_placementgroup_request`, ...).
//! Joining and leaving a group are server actions (`server_actions.rs`).

use crate::auth::Auth;
use crate::error::ApiResult;
use crate::list::{Listing, SortKey};
use crate::render::ts;
use crate::request::{json_body, path_id, IdPath};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use stratus_core::ids::{PlacementGroupId, ResourceKind};
use stratus_core::labels::Labels;
use stratus_core::model::PlacementKind;
use stratus_core::ops::placement_groups::PlacementGroupFilter;
use stratus_core::views::PlacementGroupView;
use stratus_core::{Cloud, Error};

pub fn routes() -> Router<Cloud> {
    Router::new().route("/placement_groups", get(list_placement_groups).post(create_placementgroup)).route(
        "/placement_groups/{id}",
        get(get_placementgroup).put(replace_placementgroup).delete(delete_placementgroup),
    )
}

/// The Hetzner placement group object, as listed and as a server embeds it: both list
/// its member servers.
pub(crate) fn render(v: &PlacementGroupView) -> Value {
    let g = &v.group;
    json!({
        "id": g.id.0,
        "name": g.name,
        "labels": g.labels,
        "type": g.kind.as_str(),
        "created": ts(g.created),
        "servers": v.servers.iter().map(|s| s.0).collect::<Vec<_>>(),
    })
}

fn sort_key(v: &PlacementGroupView, field: &str) -> SortKey {
    match field {
        "name" => SortKey::Text(v.group.name.clone()),
        "created" => SortKey::Time(Some(v.group.created)),
        _ => SortKey::Int(v.group.id.0),
    }
}

fn kind(raw: &str) -> ApiResult<PlacementKind> {
    match raw {
        "spread" => Ok(PlacementKind::Spread),
        other => Err(Error::invalid_field("type", format!("unknown type '{other}': spread")).into()),
    }
}

fn group_id(raw: &str) -> ApiResult<PlacementGroupId> {
    Ok(PlacementGroupId(path_id(raw, ResourceKind::PlacementGroup)?))
}

/// `GET /placement_groups`: `list_placement_groups`, with `name`, `label_selector` and
/// the repeatable `type`.
async fn list_placement_groups(State(cloud): State<Cloud>, Auth(p): Auth, listing: Listing) -> ApiResult<Response> {
    let terms = listing.sort(&["id", "name", "created"])?;
    let kinds = listing.params.all("type").into_iter().map(kind).collect::<ApiResult<Vec<_>>>()?;
    let filter = PlacementGroupFilter { common: listing.filter()?, kinds };
    let groups = cloud.placement_group_list(&p, &filter);
    listing.respond("placement_groups", groups, &terms, sort_key, render)
}

/// `GET /placement_groups/{id}`: `get_placementgroup`.
async fn get_placementgroup(State(cloud): State<Cloud>, Auth(p): Auth, id: IdPath) -> ApiResult<Json<Value>> {
    let group = cloud.placement_group_get(&p, group_id(&id)?)?;
    Ok(Json(json!({"placement_group": render(&group)})))
}

#[derive(Debug, Deserialize)]
struct CreatePlacementGroup {
    name: String,
    /// Required by the document; Ansible sends `null` when the user left it out, and
    /// `spread` is the only type, so that is what a missing type means.
    #[serde(rename = "type")]
    kind: Option<String>,
    labels: Option<Labels>,
}

/// `POST /placement_groups`: `create_placementgroup`. A group is made at once, so the
/// answer's `action` is `null`, as Hetzner's is.
async fn create_placementgroup(State(cloud): State<Cloud>, Auth(p): Auth, body: Bytes) -> ApiResult<Response> {
    let body: CreatePlacementGroup = json_body(&body)?;
    let kind = body.kind.as_deref().map_or(Ok(PlacementKind::Spread), kind)?;
    let group = cloud.placement_group_create(&p, body.name, kind, body.labels.unwrap_or_default()).await?;
    let body = json!({"placement_group": render(&group), "action": Value::Null});
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

#[derive(Debug, Deserialize)]
struct ReplacePlacementGroup {
    name: Option<String>,
    labels: Option<Labels>,
}

/// `PUT /placement_groups/{id}`: `replace_placementgroup` (name and labels).
async fn replace_placementgroup(
    State(cloud): State<Cloud>,
    Auth(p): Auth,
    id: IdPath,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let id = group_id(&id)?;
    let body: ReplacePlacementGroup = json_body(&body)?;
    let group = cloud.placement_group_update(&p, id, body.name, body.labels).await?;
    Ok(Json(json!({"placement_group": render(&group)})))
}

/// `DELETE /placement_groups/{id}`: `delete_placementgroup`; 204 with no body. A group
/// with servers is refused (`resource_in_use`).
async fn delete_placementgroup(State(cloud): State<Cloud>, Auth(p): Auth, id: IdPath) -> ApiResult<StatusCode> {
    cloud.placement_group_delete(&p, group_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
