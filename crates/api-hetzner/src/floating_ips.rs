//! `/floating_ips` and their actions: seed 002, "Floating IPs" and "Floating IP Actions";
//! shapes from `hetzner-cloud-openapi.json` (`floating_ip`, `create_floating_ip_request`, ...).

use crate::actions;
use crate::auth::Auth;
use crate::error::ApiResult;
use crate::list::{order_by, Listing, SortKey};
use crate::render::{self, ts};
use crate::request::{json_body, path_id, IdActionPath, IdOrName, IdPath};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use stratus_core::ids::{IpId, ResourceKind, ServerId};
use stratus_core::labels::Labels;
use stratus_core::model::{Action, IpFamily, IpRole, Principal, PublicIp};
use stratus_core::ops::ips::{FloatingIpCreate, IpAction, IpOrder, IpUpdate, IpView};
use stratus_core::{Cloud, Error};

pub fn routes() -> Router<Cloud> {
    Router::new()
        .route("/floating_ips", get(list_floating_ips).post(create_floating_ip))
        .route("/floating_ips/actions", get(list_floating_ip_actions))
        .route("/floating_ips/actions/{id}", get(get_floating_ip_action))
        .route("/floating_ips/{id}", get(get_floating_ip).put(replace_floating_ip).delete(delete_floating_ip))
        .route("/floating_ips/{id}/actions", get(list_actions_for_floating_ip))
        .route("/floating_ips/{id}/actions/{action_id}", get(get_action_for_floating_ip))
        .route("/floating_ips/{id}/actions/assign", post(assign_floating_ip_to_server))
        .route("/floating_ips/{id}/actions/unassign", post(unassign_floating_ip))
        .route("/floating_ips/{id}/actions/change_dns_ptr", post(change_reverse_dns_records_for_floating_ip))
        .route("/floating_ips/{id}/actions/change_protection", post(change_floating_ip_protection))
}

/// The Hetzner floating IP object. An IPv6 floating IP's `ip` is its /64.
fn render(v: &IpView) -> Value {
    let ip = &v.ip;
    json!({
        "id": ip.id.0,
        "name": ip.name,
        "description": ip.description,
        "ip": ip.address,
        "type": ip.family.as_str(),
        "server": ip.server().map(|s| s.0),
        "dns_ptr": dns_ptr(ip),
        "home_location": render::location(&v.location),
        "blocked": ip.blocked,
        "protection": {"delete": ip.protection.delete},
        "labels": ip.labels,
        "created": ts(ip.created),
    })
}

/// Reverse DNS records. An IPv4 address always has one (Hetzner's default until one is
/// set); an IPv6 network lists the records set for its addresses.
pub(crate) fn dns_ptr(ip: &PublicIp) -> Value {
    match ip.family {
        IpFamily::V4 => json!([{"ip": ip.address, "dns_ptr": render::ipv4_ptr(&ip.dns_ptr, &ip.address)}]),
        IpFamily::V6 => ip.dns_ptr.iter().map(|d| json!({"ip": d.ip, "dns_ptr": d.dns_ptr})).collect(),
    }
}

fn sort_key(ip: &PublicIp, field: &str) -> SortKey {
    match field {
        "created" => SortKey::Time(Some(ip.created)),
        _ => SortKey::Int(ip.id.0),
    }
}

fn action_created(cloud: &Cloud, action: &Action) -> Response {
    actions::created(cloud, action, Value::Null)
}

fn ip_id(raw: &str) -> ApiResult<IpId> {
    Ok(IpId(path_id(raw, ResourceKind::Ip)?))
}

/// The floating IP the path names, checked to be one of the project's.
fn floating(cloud: &Cloud, p: &Principal, raw: &str) -> ApiResult<IpId> {
    let id = ip_id(raw)?;
    cloud.ip_get(p, IpRole::Floating, id)?;
    Ok(id)
}

/// `GET /floating_ips`: seed 002, "Floating IPs" › "Get all Floating IPs".
async fn list_floating_ips(State(cloud): State<Cloud>, Auth(p): Auth, listing: Listing) -> ApiResult<Response> {
    let terms = listing.sort(&["id", "created"])?;
    let cmp = order_by(&terms, sort_key);
    let order: Option<&IpOrder<'_>> = (!terms.is_empty()).then_some(&cmp);
    let (page, views) = cloud.ip_page(&p, IpRole::Floating, &listing.filter()?, order, |total| listing.page(total))?;
    Ok(listing.respond_rendered("floating_ips", views.iter().map(render).collect(), &page, Map::new()))
}

/// `GET /floating_ips/{id}`: seed 002, "Floating IPs" › "Get a specific Floating IP".
async fn get_floating_ip(State(cloud): State<Cloud>, Auth(p): Auth, id: IdPath) -> ApiResult<Json<Value>> {
    let ip = cloud.ip_get(&p, IpRole::Floating, ip_id(&id)?)?;
    Ok(Json(json!({"floating_ip": render(&ip)})))
}

#[derive(Debug, Deserialize)]
struct CreateFloatingIp {
    #[serde(rename = "type")]
    kind: String,
    server: Option<i64>,
    home_location: Option<IdOrName>,
    description: Option<String>,
    name: Option<String>,
    labels: Option<Labels>,
}

/// `POST /floating_ips`: seed 002, "Floating IPs" › "Create a Floating IP". The answer's
/// `action` is the assignment, `null` when no server was given.
async fn create_floating_ip(State(cloud): State<Cloud>, Auth(p): Auth, body: Bytes) -> ApiResult<Response> {
    let body: CreateFloatingIp = json_body(&body)?;
    let family = match body.kind.as_str() {
        "ipv4" => IpFamily::V4,
        "ipv6" => IpFamily::V6,
        other => return Err(Error::invalid_field("type", format!("unknown type '{other}': ipv4 or ipv6")).into()),
    };
    let req = FloatingIpCreate {
        family,
        server: body.server.map(ServerId),
        home_location: body.home_location.map(|r| r.0),
        name: body.name,
        description: body.description,
        labels: body.labels.unwrap_or_default(),
    };
    let (ip, action) = cloud.floating_ip_create(&p, req).await?;
    let mut body = json!({"floating_ip": render(&ip)});
    // The document's `action` is an object, not nullable: without a server there is
    // none, so the key is left out (the clients read it as absent).
    if let Some(action) = action {
        body["action"] = render::action(&cloud, &action);
    }
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

#[derive(Debug, Deserialize)]
struct ReplaceFloatingIp {
    #[serde(default, deserialize_with = "crate::request::present")]
    description: Option<Option<String>>,
    name: Option<String>,
    labels: Option<Labels>,
}

/// `PUT /floating_ips/{id}`: seed 002, "Floating IPs" › "Change description of a Floating IP";
/// today's API also changes `name` and `labels`.
async fn replace_floating_ip(
    State(cloud): State<Cloud>,
    Auth(p): Auth,
    id: IdPath,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let id = ip_id(&id)?;
    let body: ReplaceFloatingIp = json_body(&body)?;
    let update = IpUpdate { name: body.name, description: body.description, labels: body.labels, auto_delete: None };
    let ip = cloud.ip_update(&p, IpRole::Floating, id, update).await?;
    Ok(Json(json!({"floating_ip": render(&ip)})))
}

/// `DELETE /floating_ips/{id}`: seed 002, "Floating IPs" › "Delete a Floating IP".
async fn delete_floating_ip(State(cloud): State<Cloud>, Auth(p): Auth, id: IdPath) -> ApiResult<StatusCode> {
    cloud.ip_delete(&p, IpRole::Floating, ip_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /floating_ips/{id}/actions`: seed 002, "Floating IP Actions" › "Get all Actions for a Floating IP".
async fn list_actions_for_floating_ip(
    State(cloud): State<Cloud>,
    Auth(p): Auth,
    id: IdPath,
    listing: Listing,
) -> ApiResult<Response> {
    actions::list_for(&cloud, &p, &listing, floating(&cloud, &p, &id)?.as_ref())
}

/// `GET /floating_ips/{id}/actions/{action_id}`: seed 002, "Floating IP Actions" › "Get an Action for a Floating IP".
async fn get_action_for_floating_ip(
    State(cloud): State<Cloud>,
    Auth(p): Auth,
    ids: IdActionPath,
) -> ApiResult<Response> {
    let (id, action_id) = &*ids;
    actions::get_for(&cloud, &p, floating(&cloud, &p, id)?.as_ref(), action_id)
}

/// `GET /floating_ips/actions`: not in seed 002; today's API lists every floating IP action here.
async fn list_floating_ip_actions(State(cloud): State<Cloud>, Auth(p): Auth, listing: Listing) -> ApiResult<Response> {
    actions::list_of_kind_where(&cloud, &p, &listing, ResourceKind::Ip, |a| {
        render::concerns_ip(&cloud, a, "floating_ip")
    })
}

/// `GET /floating_ips/actions/{id}`: not in seed 002; today's API answers one floating IP action here.
async fn get_floating_ip_action(State(cloud): State<Cloud>, Auth(p): Auth, id: IdPath) -> ApiResult<Response> {
    actions::get_of_kind_where(&cloud, &p, &id, ResourceKind::Ip, |a| render::concerns_ip(&cloud, a, "floating_ip"))
}

#[derive(Debug, Deserialize)]
struct Assign {
    server: Option<i64>,
}

/// `POST /floating_ips/{id}/actions/assign`: seed 002, "Floating IP Actions" › "Assign a Floating IP to a Server".
async fn assign_floating_ip_to_server(
    State(cloud): State<Cloud>,
    Auth(p): Auth,
    id: IdPath,
    body: Bytes,
) -> ApiResult<Response> {
    let id = ip_id(&id)?;
    let body: Assign = json_body(&body)?;
    let server = body.server.ok_or_else(|| Error::invalid_field("server", "is required"))?;
    let action = cloud.ip_action(&p, IpRole::Floating, id, IpAction::Assign { server: ServerId(server) }).await?;
    Ok(action_created(&cloud, &action))
}

/// `POST /floating_ips/{id}/actions/unassign`: seed 002, "Floating IP Actions" › "Unassign a Floating IP".
async fn unassign_floating_ip(State(cloud): State<Cloud>, Auth(p): Auth, id: IdPath) -> ApiResult<Response> {
    let action = cloud.ip_action(&p, IpRole::Floating, ip_id(&id)?, IpAction::Unassign).await?;
    Ok(action_created(&cloud, &action))
}

#[derive(Debug, Deserialize)]
struct ChangeDnsPtr {
    ip: String,
    /// `null` resets the record to its default.
    dns_ptr: Option<String>,
}

/// `POST /floating_ips/{id}/actions/change_dns_ptr`: seed 002, "Floating IP Actions" › "Change reverse DNS entry for a Floating IP".
async fn change_reverse_dns_records_for_floating_ip(
    State(cloud): State<Cloud>,
    Auth(p): Auth,
    id: IdPath,
    body: Bytes,
) -> ApiResult<Response> {
    let id = ip_id(&id)?;
    let body: ChangeDnsPtr = json_body(&body)?;
    let op = IpAction::ChangeDnsPtr { ip: body.ip, ptr: body.dns_ptr };
    let action = cloud.ip_action(&p, IpRole::Floating, id, op).await?;
    Ok(action_created(&cloud, &action))
}

/// Today's document requires `delete` (its `protection` schema); the clients always send it.
#[derive(Debug, Deserialize)]
struct ChangeProtection {
    delete: bool,
}

/// `POST /floating_ips/{id}/actions/change_protection`: seed 002, "Floating IP Actions" › "Change protection".
async fn change_floating_ip_protection(
    State(cloud): State<Cloud>,
    Auth(p): Auth,
    id: IdPath,
    body: Bytes,
) -> ApiResult<Response> {
    let id = ip_id(&id)?;
    let body: ChangeProtection = json_body(&body)?;
    let action =
        cloud.ip_action(&p, IpRole::Floating, id, IpAction::ChangeProtection { delete: Some(body.delete) }).await?;
    Ok(action_created(&cloud, &action))
}
