//! `/load_balancer_types`: today's API (not in seed 002); shapes from
//! `hetzner-cloud-openapi.json` (`load_balancer_type`, with per-location prices).

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
use stratus_core::ids::{LoadBalancerTypeId, ResourceKind};
use stratus_core::model::{LoadBalancerType, Location, PriceList};
use stratus_core::Cloud;

pub fn routes() -> Router<Cloud> {
    Router::new()
        .route("/load_balancer_types", get(list_load_balancer_types))
        .route("/load_balancer_types/{id}", get(get_load_balancer_type))
}

/// `prices[]` of a load balancer type: per location, hourly and monthly, net and gross.
pub(crate) fn prices(t: &LoadBalancerType, locations: &[Arc<Location>], list: &PriceList) -> Value {
    let vat = list.vat_basis_points;
    t.prices
        .iter()
        .filter_map(|p| {
            let location = locations.iter().find(|l| l.id == p.location)?;
            Some(json!({
                "location": location.name,
                "price_hourly": render::price(p.hourly, vat, 10),
                "price_monthly": render::price(p.monthly, vat, 10),
                "included_traffic": t.included_traffic,
                "price_per_tb_traffic": render::price(list.traffic_per_tb, vat, 10),
            }))
        })
        .collect()
}

/// The Hetzner load balancer type object.
pub(crate) fn render(t: &LoadBalancerType, locations: &[Arc<Location>], list: &PriceList) -> Value {
    json!({
        "id": t.id.0,
        "name": t.name,
        "description": t.description,
        "max_connections": t.max_connections,
        "max_services": t.max_services,
        "max_targets": t.max_targets,
        "max_assigned_certificates": t.max_assigned_certificates,
        "deprecated": render::ts_opt(t.deprecated),
        // Not in the document; the clients read it, as for server types.
        "deprecation": render::deprecation(t.deprecated),
        "prices": prices(t, locations, list),
    })
}

fn sort_key(t: &Arc<LoadBalancerType>, field: &str) -> SortKey {
    match field {
        "name" => SortKey::Text(t.name.clone()),
        _ => SortKey::Int(t.id.0),
    }
}

/// `GET /load_balancer_types`: `list_load_balancer_types`.
async fn list_load_balancer_types(State(cloud): State<Cloud>, Auth(_): Auth, listing: Listing) -> ApiResult<Response> {
    let terms = listing.sort(&["id", "name"])?;
    let stratus_core::ops::catalog::Pricing { list, locations, .. } = cloud.pricing()?;
    let types = cloud.load_balancer_type_list(listing.params.get("name"));
    listing.respond("load_balancer_types", types, &terms, sort_key, |t| render(t, &locations, &list))
}

/// `GET /load_balancer_types/{id}`: `get_load_balancer_type`.
async fn get_load_balancer_type(State(cloud): State<Cloud>, Auth(_): Auth, id: IdPath) -> ApiResult<Json<Value>> {
    let t = cloud.load_balancer_type_get(LoadBalancerTypeId(path_id(&id, ResourceKind::LoadBalancerType)?))?;
    let stratus_core::ops::catalog::Pricing { list, locations, .. } = cloud.pricing()?;
    Ok(Json(json!({"load_balancer_type": render(&t, &locations, &list)})))
}
