//! `/datacenters`: seed 002, "Datacenters"; shapes from `hetzner-cloud-openapi.json`
//! (`data_center`, `list_data_centers_response` with its `recommendation`).

use crate::auth::Auth;
use crate::error::ApiResult;
use crate::list::{Listing, SortKey};
use crate::render;
use crate::request::{path_id, IdPath};
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use stratus_core::ids::{DatacenterId, ResourceKind};
use stratus_core::views::DatacenterView;
use stratus_core::Cloud;

pub fn routes() -> Router<Cloud> {
    Router::new().route("/datacenters", get(list_data_centers)).route("/datacenters/{id}", get(get_data_center))
}

fn sort_key(d: &DatacenterView, field: &str) -> SortKey {
    match field {
        "name" => SortKey::Text(d.datacenter.name.clone()),
        _ => SortKey::Int(d.datacenter.id.0),
    }
}

/// `GET /datacenters`: seed 002, "Datacenters" › "Get all Datacenters". The answer also
/// carries `recommendation`, the datacenter new servers go to when none is named.
async fn list_data_centers(State(cloud): State<Cloud>, Auth(_): Auth, listing: Listing) -> ApiResult<Response> {
    let terms = listing.sort(&["id", "name"])?;
    let datacenters = cloud.datacenter_list(listing.params.get("name"));
    let mut extra = serde_json::Map::new();
    extra.insert("recommendation".into(), json!(cloud.datacenter_recommendation().map(|d| d.0)));
    listing.respond_with("datacenters", datacenters, &terms, sort_key, render::datacenter, extra)
}

/// `GET /datacenters/{id}`: seed 002, "Datacenters" › "Get a Datacenter".
async fn get_data_center(State(cloud): State<Cloud>, Auth(_): Auth, id: IdPath) -> ApiResult<Json<Value>> {
    let datacenter = cloud.datacenter_get(DatacenterId(path_id(&id, ResourceKind::Datacenter)?))?;
    Ok(Json(json!({"datacenter": render::datacenter(&datacenter)})))
}
