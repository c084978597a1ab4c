//! `/isos`: seed 002, "ISOs"; shapes from `hetzner-cloud-openapi.json` (`iso`, `list_isos`).

use crate::auth::Auth;
use crate::error::ApiResult;
use crate::list::{Listing, SortKey};
use crate::render::ts;
use crate::request::{path_id, IdPath};
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use std::sync::Arc;
use stratus_core::ids::{IsoId, ResourceKind};
use stratus_core::model::{Iso, IsoType};
use stratus_core::ops::catalog::IsoFilter;
use stratus_core::Cloud;

pub fn routes() -> Router<Cloud> {
    Router::new().route("/isos", get(list_isos)).route("/isos/{id}", get(get_iso))
}

/// The Hetzner ISO object. Servers render their attached `iso` with it too.
///
/// Core keeps one deprecation time; today's `deprecation` object shows it as both the
/// announcement and the end of availability. (Seed 002's `deprecated` timestamp is gone
/// from today's document, and no client this dialect serves needs it.)
pub(crate) fn render_iso(iso: &Iso) -> Value {
    json!({
        "id": iso.id.0,
        "name": iso.name,
        "description": iso.description,
        "type": match iso.kind {
            IsoType::Public => "public",
            IsoType::Private => "private",
        },
        "architecture": iso.architecture,
        "deprecation": iso.deprecated.map(|d| json!({"announced": ts(d), "unavailable_after": ts(d)})),
    })
}

/// `GET /isos`: seed 002, "ISOs" › "Get all ISOs". Deprecated ISOs are left out.
async fn list_isos(State(cloud): State<Cloud>, Auth(_): Auth, listing: Listing) -> ApiResult<Response> {
    let params = &listing.params;
    let filter = IsoFilter {
        name: params.get("name").map(str::to_string),
        architecture: params.one_of("architecture", &["x86", "arm"])?.map(str::to_string),
        include_architecture_wildcard: params.bool("include_architecture_wildcard")?.unwrap_or(false),
        include_deprecated: false,
    };
    let isos = cloud.iso_list(&filter);
    let terms = listing.sort(&["id", "name"])?;
    listing.respond("isos", isos, &terms, sort_key, |i| render_iso(i))
}

fn sort_key(iso: &Arc<Iso>, field: &str) -> SortKey {
    match field {
        "name" => SortKey::Text(iso.name.clone()),
        _ => SortKey::Int(iso.id.0),
    }
}

/// `GET /isos/{id}`: seed 002, "ISOs" › "Get an ISO". Deprecated ISOs are found here too.
async fn get_iso(State(cloud): State<Cloud>, Auth(_): Auth, id: IdPath) -> ApiResult<Json<Value>> {
    let id = IsoId(path_id(&id, ResourceKind::Iso)?);
    let iso = cloud.iso_get(id)?;
    Ok(Json(json!({"iso": render_iso(&iso)})))
}
