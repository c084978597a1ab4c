//! Rendering shared by several resources: timestamps, actions, locations, datacenters,
//! server types and prices. Field names and shapes follow `hetzner-cloud-openapi.json`.

use crate::error::kind_name;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use std::sync::Arc;
use stratus_core::ids::{IpId, ResourceKind, ResourceRef};
use stratus_core::model::*;
use stratus_core::views::DatacenterView;
use stratus_core::Cloud;

/// RFC 3339 with an explicit `+00:00`, as Hetzner writes timestamps.
pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

pub fn ts_opt(t: Option<DateTime<Utc>>) -> Value {
    t.map_or(Value::Null, |t| Value::String(ts(t)))
}

/// The Hetzner action object. A stuck action (an undo failed; an operator must
/// resolve it) shows as `error`: it will not finish by itself, and clients waiting on it
/// must stop waiting. Its resources stay locked meanwhile.
pub fn action(cloud: &Cloud, a: &Action) -> Value {
    let status = match a.status {
        ActionStatus::Stuck => "error",
        other => other.as_str(),
    };
    json!({
        "id": a.id.0,
        "command": crate::commands::command(&a.kind).unwrap_or(a.kind.as_str()),
        "status": status,
        "progress": a.progress,
        "started": ts(a.started),
        "finished": ts_opt(a.finished),
        "resources": a.concerns().map(|r| json!({"id": r.id, "type": resource_type(cloud, a, r)})).collect::<Vec<_>>(),
        "error": a.error.as_ref().map(|e| json!({"code": e.code, "message": e.message})),
    })
}

pub fn actions(cloud: &Cloud, list: &[Arc<Action>]) -> Value {
    Value::Array(list.iter().map(|a| action(cloud, a)).collect())
}

/// Hetzner's type of an action's resource. IPs are `floating_ip` or `primary_ip` by role
/// (one kind in the core); an IP deleted since is named by the action's kind.
fn resource_type(cloud: &Cloud, a: &Action, r: ResourceRef) -> &'static str {
    if r.kind != ResourceKind::Ip {
        return kind_name(r.kind);
    }
    match cloud.ip_role(IpId(r.id)) {
        Some(IpRole::Primary) => "primary_ip",
        Some(_) => "floating_ip",
        None if a.kind.starts_with("primary_ip") || a.kind == "server_create" => "primary_ip",
        None => "floating_ip",
    }
}

/// Whether `a` concerns an IP of Hetzner's type `ip_type` (`floating_ip`, `primary_ip`),
/// named as the action's resources name it: the two lists of IP actions keep apart what
/// the core keeps as one kind of resource.
pub(crate) fn concerns_ip(cloud: &Cloud, a: &Action, ip_type: &str) -> bool {
    a.concerns().any(|r| r.kind == ResourceKind::Ip && resource_type(cloud, a, r) == ip_type)
}

/// The reverse DNS name an IPv4 address has until one is set: Hetzner's pattern, the
/// octets reversed (`static.4.3.2.1.clients.your-server.de` for 1.2.3.4). Servers and
/// floating IPs both show it, so every rendering of an IPv4 PTR agrees.
pub fn default_ipv4_ptr(address: &str) -> String {
    let reversed: Vec<&str> = address.rsplit('.').collect();
    format!("static.{}.clients.your-server.de", reversed.join("."))
}

/// The PTR of IPv4 address `ip` among `records`, or its default.
pub fn ipv4_ptr(records: &[DnsPtr], ip: &str) -> String {
    records.iter().find(|d| d.ip == ip).map_or_else(|| default_ipv4_ptr(ip), |d| d.dns_ptr.clone())
}

pub fn location(l: &Location) -> Value {
    json!({
        "id": l.id.0,
        "name": l.name,
        "description": l.description,
        "country": l.country,
        "city": l.city,
        "latitude": l.latitude,
        "longitude": l.longitude,
        "network_zone": l.network_zone,
    })
}

pub fn datacenter(d: &DatacenterView) -> Value {
    let ids = |v: &[stratus_core::ids::ServerTypeId]| v.iter().map(|i| i.0).collect::<Vec<_>>();
    json!({
        "id": d.datacenter.id.0,
        "name": d.datacenter.name,
        "description": d.datacenter.description,
        "location": location(&d.location),
        "server_types": {
            "supported": ids(&d.supported),
            "available": ids(&d.available),
            "available_for_migration": ids(&d.available_for_migration),
        },
    })
}

/// A net/gross pair; Hetzner shows 10 decimals for hourly and 4 for monthly prices in
/// server types, and 10 for everything in `/pricing`.
pub fn price(net: Money, vat_basis_points: i64, decimals: usize) -> Value {
    json!({"net": net.to_decimal(decimals), "gross": net.with_vat(vat_basis_points).to_decimal(decimals)})
}

/// Hetzner's `deprecation` object (announced, unavailable after), `null` if not deprecated.
pub fn deprecation(d: Option<DateTime<Utc>>) -> Value {
    d.map_or(Value::Null, |d| json!({"announced": ts(d), "unavailable_after": ts(d)}))
}

pub fn server_type(t: &ServerType, locations: &[Arc<Location>], prices: &PriceList) -> Value {
    let name_of = |id: stratus_core::ids::LocationId| locations.iter().find(|l| l.id == id);
    json!({
        "id": t.id.0,
        "name": t.name,
        "description": t.description,
        "category": if t.cpu_type == "dedicated" { "dedicated_cpu" } else { "shared_cpu" },
        "cores": t.cores,
        "memory": t.memory_gb,
        "disk": t.disk_gb,
        "deprecated": t.deprecated.is_some(),
        "deprecation": deprecation(t.deprecated),
        "storage_type": t.storage_type,
        "cpu_type": t.cpu_type,
        "architecture": t.architecture,
        "prices": t.prices.iter().filter_map(|p| name_of(p.location).map(|l| json!({
            "location": l.name,
            "price_hourly": price(p.hourly, prices.vat_basis_points, 10),
            "price_monthly": price(p.monthly, prices.vat_basis_points, 10),
            "included_traffic": t.included_traffic,
            "price_per_tb_traffic": price(prices.traffic_per_tb, prices.vat_basis_points, 10),
        }))).collect::<Vec<_>>(),
        // `available` and `recommended`: see "Where this dialect differs" in lib.rs. A
        // type is offered wherever it has a price, until it is deprecated.
        "locations": t.prices.iter().filter_map(|p| name_of(p.location).map(|l| json!({
            "id": l.id.0,
            "name": l.name,
            "deprecation": deprecation(t.deprecated),
            "available": t.deprecated.is_none(),
            "recommended": t.deprecated.is_none(),
        }))).collect::<Vec<_>>(),
    })
}
