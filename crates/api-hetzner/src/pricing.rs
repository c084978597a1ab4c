//! `/pricing`: seed 002, "Pricing"; the shape is today's `list_prices_response`.
//!
//! Core's price list holds what Stratus sells; the per-location lists of today's API are
//! derived from it (one price in every location), and products Stratus does not offer
//! render as empty lists (load balancers) or zero prices (volumes).

use crate::auth::Auth;
use crate::error::ApiResult;
use crate::render;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use std::sync::Arc;
use stratus_core::model::{Location, Money, PriceList};
use stratus_core::Cloud;

pub fn routes() -> Router<Cloud> {
    Router::new().route("/pricing", get(list_prices))
}

/// `/pricing` shows every amount with 10 decimals, as Hetzner does.
const DECIMALS: usize = 10;

/// A percentage given in basis points as Hetzner writes it (`1900` → `"19.00"`).
fn percent(basis_points: i64) -> String {
    format!("{}.{:02}", basis_points / 100, basis_points % 100)
}

/// One monthly price in each location.
fn monthly_everywhere(locations: &[Arc<Location>], monthly: Money, vat: i64) -> Vec<Value> {
    locations
        .iter()
        .map(|l| json!({"location": l.name, "price_monthly": render::price(monthly, vat, DECIMALS)}))
        .collect()
}

/// One hourly and monthly price in each location.
fn timed_everywhere(locations: &[Arc<Location>], hourly: Money, monthly: Money, vat: i64) -> Vec<Value> {
    locations
        .iter()
        .map(|l| {
            json!({
                "location": l.name,
                "price_hourly": render::price(hourly, vat, DECIMALS),
                "price_monthly": render::price(monthly, vat, DECIMALS),
            })
        })
        .collect()
}

fn render_pricing(
    list: &PriceList,
    types: &[Arc<stratus_core::model::ServerType>],
    lb_types: &[Arc<stratus_core::model::LoadBalancerType>],
    locations: &[Arc<Location>],
) -> Value {
    let vat = list.vat_basis_points;
    let price = |m: Money| render::price(m, vat, DECIMALS);
    json!({
        "currency": list.currency,
        "vat_rate": percent(vat),
        "image": {"price_per_gb_month": price(list.image_per_gb_month)},
        // Deprecated in today's API in favour of `floating_ips`; it showed the IPv4 price.
        "floating_ip": {"price_monthly": price(list.floating_ipv4_monthly)},
        "floating_ips": [
            {"type": "ipv4", "prices": monthly_everywhere(locations, list.floating_ipv4_monthly, vat)},
            {"type": "ipv6", "prices": monthly_everywhere(locations, list.floating_ipv6_monthly, vat)},
        ],
        // A server's own IPv6 network is free, as at Hetzner.
        "primary_ips": [
            {"type": "ipv4", "prices": timed_everywhere(locations, list.primary_ipv4_hourly, list.primary_ipv4_monthly, vat)},
            {"type": "ipv6", "prices": timed_everywhere(locations, Money(0), Money(0), vat)},
        ],
        "server_backup": {"percentage": percent(i64::from(list.backup_percentage) * 100)},
        "server_types": types.iter().map(|t| json!({
            "id": t.id.0,
            "name": t.name,
            "prices": render::server_type(t, locations, list)["prices"].clone(),
        })).collect::<Vec<_>>(),
        "load_balancer_types": lb_types.iter().map(|t| json!({
            "id": t.id.0,
            "name": t.name,
            "prices": crate::load_balancer_types::prices(t, locations, list),
        })).collect::<Vec<_>>(),
        "volume": {"price_per_gb_month": price(list.volume_per_gb_month)},
    })
}

/// `GET /pricing`: seed 002, "Pricing" › "Get all prices".
async fn list_prices(State(cloud): State<Cloud>, Auth(_): Auth) -> ApiResult<Json<Value>> {
    let stratus_core::ops::catalog::Pricing { list, server_types: types, load_balancer_types: lb_types, locations } =
        cloud.pricing()?;
    Ok(Json(json!({"pricing": render_pricing(&list, &types, &lb_types, &locations)})))
}
