//! `/placement_groups`: today's API (not in seed 002); shapes from
//! `hetzner-cloud-openapi.json` (`placement_group`).

use crate::render::ts;
use serde_json::{json, Value};
use stratus_core::model::PlacementGroup;

/// A placement group as a server embeds it (its members are not listed there).
pub(crate) fn render_embedded(g: &PlacementGroup) -> Value {
    json!({
        "id": g.id.0,
        "name": g.name,
        "labels": g.labels,
        "type": g.kind.as_str(),
        "created": ts(g.created),
        "servers": [],
    })
}
