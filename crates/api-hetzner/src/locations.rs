//! `/locations`: seed 002, "Locations"; shapes from `hetzner-cloud-openapi.json` (`location`).

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
use std::sync::Arc;
use stratus_core::ids::{LocationId, ResourceKind};
use stratus_core::model::Location;
use stratus_core::Cloud;

pub fn routes() -> Router<Cloud> {
    Router::new().route("/locations", get(list_locations)).route("/locations/{id}", get(get_location))
}

fn sort_key(l: &Arc<Location>, field: &str) -> SortKey {
    match field {
        "name" => SortKey::Text(l.name.clone()),
        _ => SortKey::Int(l.id.0),
    }
}

/// `GET /locations`: seed 002, "Locations" › "Get all Locations".
async fn list_locations(State(cloud): State<Cloud>, Auth(_): Auth, listing: Listing) -> ApiResult<Response> {
    let terms = listing.sort(&["id", "name"])?;
    let locations = cloud.location_list(listing.params.get("name"));
    listing.respond("locations", locations, &terms, sort_key, |l| render::location(l))
}

/// `GET /locations/{id}`: seed 002, "Locations" › "Get a Location".
async fn get_location(State(cloud): State<Cloud>, Auth(_): Auth, id: IdPath) -> ApiResult<Json<Value>> {
    let location = cloud.location_get(LocationId(path_id(&id, ResourceKind::Location)?))?;
    Ok(Json(json!({"location": render::location(&location)})))
}
