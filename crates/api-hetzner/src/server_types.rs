//! `/server_types`: seed 002, "Server Types"; shapes from `hetzner-cloud-openapi.json`
//! (`server_type`, with per-location prices and deprecation).

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
use stratus_core::ids::{ResourceKind, ServerTypeId};
use stratus_core::model::ServerType;
use stratus_core::Cloud;

pub fn routes() -> Router<Cloud> {
    Router::new().route("/server_types", get(list_server_types)).route("/server_types/{id}", get(get_server_type))
}

fn sort_key(t: &Arc<ServerType>, field: &str) -> SortKey {
    match field {
        "name" => SortKey::Text(t.name.clone()),
        _ => SortKey::Int(t.id.0),
    }
}

/// `GET /server_types`: seed 002, "Server Types" › "Get all Server Types". Prices need the
/// price list (VAT, traffic), so rendering reads it along.
async fn list_server_types(State(cloud): State<Cloud>, Auth(_): Auth, listing: Listing) -> ApiResult<Response> {
    // The spec documents no `sort` here; id and name are accepted since they cost nothing.
    let terms = listing.sort(&["id", "name"])?;
    let stratus_core::ops::catalog::Pricing { list: prices, locations, .. } = cloud.pricing()?;
    let types = cloud.server_type_list(listing.params.get("name"));
    listing.respond("server_types", types, &terms, sort_key, |t| render::server_type(t, &locations, &prices))
}

/// `GET /server_types/{id}`: seed 002, "Server Types" › "Get a Server Type".
async fn get_server_type(State(cloud): State<Cloud>, Auth(_): Auth, id: IdPath) -> ApiResult<Json<Value>> {
    let server_type = cloud.server_type_get(ServerTypeId(path_id(&id, ResourceKind::ServerType)?))?;
    let stratus_core::ops::catalog::Pricing { list: prices, locations, .. } = cloud.pricing()?;
    Ok(Json(json!({"server_type": render::server_type(&server_type, &locations, &prices)})))
}
