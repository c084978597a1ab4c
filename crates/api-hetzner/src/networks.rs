//! `/networks`, their members and actions: today's API (not in seed 002); shapes from
//! `hetzner-cloud-openapi.json` (`list_networks`, `create_network`, ..., the `networks`
//! tag) and, for `/networks/{id}/members`, from hcloud-python 2.27, which calls it
//! although the document does not list it.

use crate::actions;
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::list::{Listing, SortKey};
use crate::render::ts;
use crate::request::{json_body, path_id, IdActionPath, IdPath};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use stratus_core::ids::{NetworkId, ResourceKind};
use stratus_core::labels::Labels;
use stratus_core::model::{Action, Attachee, Route, SubnetKind};
use stratus_core::ops::networks::{MemberFilter, NetworkAction, NetworkCreate, NetworkUpdate, SubnetRequest};
use stratus_core::views::{MemberStatus, NetworkMember, NetworkView};
use stratus_core::{Cloud, Error};

pub fn routes() -> Router<Cloud> {
    Router::new()
        .route("/networks", get(list_networks).post(create_network))
        .route("/networks/actions", get(list_network_actions))
        .route("/networks/actions/{id}", get(get_network_action))
        .route("/networks/{id}", get(get_network).put(replace_network).delete(delete_network))
        .route("/networks/{id}/members", get(list_network_members))
        .route("/networks/{id}/actions", get(list_actions_for_network))
        .route("/networks/{id}/actions/{action_id}", get(get_action_for_network))
        .route("/networks/{id}/actions/add_subnet", post(add_subnet_to_network))
        .route("/networks/{id}/actions/delete_subnet", post(delete_subnet_from_network))
        .route("/networks/{id}/actions/add_route", post(add_route_to_network))
        .route("/networks/{id}/actions/delete_route", post(delete_route_from_network))
        .route("/networks/{id}/actions/change_ip_range", post(change_ip_range_of_network))
        .route("/networks/{id}/actions/change_protection", post(change_network_protection))
}

/// The Hetzner network object. hcloud-python reads every subnet's `ip_range` (which the
/// document marks optional), so it is always there.
fn render(v: &NetworkView) -> Value {
    let n = &v.network;
    json!({
        "id": n.id.0,
        "name": n.name,
        "ip_range": n.ip_range,
        "subnets": n.subnets.iter().map(|s| json!({
            "type": s.kind.as_str(),
            "ip_range": s.ip_range,
            "network_zone": s.network_zone,
            "gateway": s.gateway,
            "vswitch_id": s.vswitch_id,
        })).collect::<Vec<_>>(),
        "routes": n.routes.iter().map(|r| json!({"destination": r.destination, "gateway": r.gateway})).collect::<Vec<_>>(),
        "servers": v.servers.iter().map(|s| s.0).collect::<Vec<_>>(),
        "load_balancers": v.load_balancers.iter().map(|l| l.0).collect::<Vec<_>>(),
        "expose_routes_to_vswitch": n.expose_routes_to_vswitch,
        "protection": {"delete": n.protection.delete},
        "labels": n.labels,
        "created": ts(n.created),
    })
}

/// A member as hcloud-python 2.27 parses it: exactly these six keys.
fn render_member(m: &NetworkMember) -> Value {
    json!({
        "id": m.owner.as_ref().id,
        "type": member_type(m),
        "ip": m.ip,
        "alias_ips": m.alias_ips,
        "subnet": m.subnet,
        "status": m.status.as_str(),
    })
}

fn member_type(m: &NetworkMember) -> &'static str {
    match m.owner {
        Attachee::Server(_) => "server",
        Attachee::LoadBalancer(_) => "load_balancer",
    }
}

fn sort_key(v: &NetworkView, field: &str) -> SortKey {
    match field {
        "name" => SortKey::Text(v.network.name.clone()),
        "created" => SortKey::Time(Some(v.network.created)),
        _ => SortKey::Int(v.network.id.0),
    }
}

fn member_sort_key(m: &NetworkMember, field: &str) -> SortKey {
    match field {
        "type" => SortKey::Text(member_type(m).to_string()),
        "status" => SortKey::Text(m.status.as_str().to_string()),
        "ip" => SortKey::Int(m.ip.parse::<std::net::Ipv4Addr>().map_or(0, |a| i64::from(u32::from(a)))),
        _ => SortKey::Int(m.owner.as_ref().id),
    }
}

fn network_id(raw: &str) -> ApiResult<NetworkId> {
    Ok(NetworkId(path_id(raw, ResourceKind::Network)?))
}

fn action_created(cloud: &Cloud, action: &Action) -> Response {
    actions::created(cloud, action, Value::Null)
}

/// `GET /networks`: `list_networks`.
async fn list_networks(State(cloud): State<Cloud>, Auth(p): Auth, listing: Listing) -> ApiResult<Response> {
    let terms = listing.sort(&["id", "name", "created"])?;
    let networks = cloud.network_list(&p, &listing.filter()?);
    listing.respond("networks", networks, &terms, sort_key, render)
}

/// `GET /networks/{id}`: `get_network`.
async fn get_network(State(cloud): State<Cloud>, Auth(p): Auth, id: IdPath) -> ApiResult<Json<Value>> {
    let network = cloud.network_get(&p, network_id(&id)?)?;
    Ok(Json(json!({"network": render(&network)})))
}

/// `subnets[]` of `create_network` and the body of `add_subnet_to_network`.
#[derive(Debug, Deserialize)]
struct SubnetBody {
    /// `server` is the deprecated name of `cloud`; kept as sent, since Ansible compares it.
    #[serde(rename = "type")]
    kind: SubnetKind,
    ip_range: Option<String>,
    network_zone: String,
    vswitch_id: Option<i64>,
}

impl From<SubnetBody> for SubnetRequest {
    fn from(b: SubnetBody) -> Self {
        SubnetRequest { kind: b.kind, ip_range: b.ip_range, network_zone: b.network_zone, vswitch_id: b.vswitch_id }
    }
}

/// `routes[]` of `create_network` and the body of `add_route` and `delete_route`.
#[derive(Debug, Deserialize)]
struct RouteBody {
    destination: String,
    gateway: String,
}

impl From<RouteBody> for Route {
    fn from(b: RouteBody) -> Self {
        Route { destination: b.destination, gateway: b.gateway }
    }
}

#[derive(Debug, Deserialize)]
struct CreateNetwork {
    name: String,
    ip_range: String,
    labels: Option<Labels>,
    subnets: Option<Vec<SubnetBody>>,
    routes: Option<Vec<RouteBody>>,
    expose_routes_to_vswitch: Option<bool>,
}

/// `POST /networks`: `create_network`. The answer is the network alone (no action).
async fn create_network(State(cloud): State<Cloud>, Auth(p): Auth, body: Bytes) -> ApiResult<Response> {
    let body: CreateNetwork = json_body(&body)?;
    let req = NetworkCreate {
        name: body.name,
        ip_range: body.ip_range,
        subnets: body.subnets.unwrap_or_default().into_iter().map(Into::into).collect(),
        routes: body.routes.unwrap_or_default().into_iter().map(Into::into).collect(),
        expose_routes_to_vswitch: body.expose_routes_to_vswitch.unwrap_or(false),
        labels: body.labels.unwrap_or_default(),
    };
    let network = cloud.network_create(&p, req).await?;
    Ok((StatusCode::CREATED, Json(json!({"network": render(&network)}))).into_response())
}

#[derive(Debug, Deserialize)]
struct ReplaceNetwork {
    name: Option<String>,
    labels: Option<Labels>,
    expose_routes_to_vswitch: Option<bool>,
}

/// `PUT /networks/{id}`: `replace_network`.
async fn replace_network(State(cloud): State<Cloud>, Auth(p): Auth, id: IdPath, body: Bytes) -> ApiResult<Json<Value>> {
    let id = network_id(&id)?;
    let body: ReplaceNetwork = json_body(&body)?;
    let update =
        NetworkUpdate { name: body.name, labels: body.labels, expose_routes_to_vswitch: body.expose_routes_to_vswitch };
    let network = cloud.network_update(&p, id, update).await?;
    Ok(Json(json!({"network": render(&network)})))
}

/// `DELETE /networks/{id}`: `delete_network`. Attached servers are detached with it.
async fn delete_network(State(cloud): State<Cloud>, Auth(p): Auth, id: IdPath) -> ApiResult<StatusCode> {
    cloud.network_delete(&p, network_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /networks/{id}/members`: absent from the document; hcloud-python 2.27's
/// `get_members` sends `type`, `status`, `subnet` (each repeatable), `sort` and paging.
async fn list_network_members(
    State(cloud): State<Cloud>,
    Auth(p): Auth,
    id: IdPath,
    listing: Listing,
) -> ApiResult<Response> {
    let id = network_id(&id)?;
    let is_server = listing
        .params
        .all("type")
        .into_iter()
        .map(|t| match t {
            "server" => Ok(true),
            "load_balancer" => Ok(false),
            _ => Err(ApiError::from(Error::invalid_field("type", "must be server or load_balancer"))),
        })
        .collect::<ApiResult<Vec<bool>>>()?;
    // Both types (or none) asked for: every member.
    let servers = match (is_server.contains(&true), is_server.contains(&false)) {
        (true, false) => Some(true),
        (false, true) => Some(false),
        _ => None,
    };
    let status = listing
        .params
        .all("status")
        .into_iter()
        .map(|s| {
            MemberStatus::parse(s)
                .ok_or_else(|| ApiError::from(Error::invalid_field("status", format!("unknown status '{s}'"))))
        })
        .collect::<ApiResult<Vec<_>>>()?;
    let subnets = listing.params.all("subnet").into_iter().map(str::to_string).collect();
    let terms = listing.sort(&["id", "type", "status", "ip"])?;
    let members = cloud.network_members(&p, id, &MemberFilter { servers, status, subnets })?;
    listing.respond("members", members, &terms, member_sort_key, render_member)
}

/// `GET /networks/{id}/actions`: `list_actions_for_network`.
async fn list_actions_for_network(
    State(cloud): State<Cloud>,
    Auth(p): Auth,
    id: IdPath,
    listing: Listing,
) -> ApiResult<Response> {
    actions::list_for(&cloud, &p, &listing, network_id(&id)?.as_ref())
}

/// `GET /networks/{id}/actions/{action_id}`: `get_action_for_network`.
async fn get_action_for_network(State(cloud): State<Cloud>, Auth(p): Auth, ids: IdActionPath) -> ApiResult<Response> {
    let (id, action_id) = &*ids;
    actions::get_for(&cloud, &p, network_id(id)?.as_ref(), action_id)
}

/// `GET /networks/actions`: `list_network_actions`.
async fn list_network_actions(State(cloud): State<Cloud>, Auth(p): Auth, listing: Listing) -> ApiResult<Response> {
    actions::list_of_kind(&cloud, &p, &listing, ResourceKind::Network)
}

/// `GET /networks/actions/{id}`: `get_network_action`.
async fn get_network_action(State(cloud): State<Cloud>, Auth(p): Auth, id: IdPath) -> ApiResult<Response> {
    actions::get_of_kind(&cloud, &p, &id, ResourceKind::Network)
}

/// Runs a network action and answers `201 {"action": ...}`.
async fn act(cloud: &Cloud, p: &stratus_core::model::Principal, id: &str, op: NetworkAction) -> ApiResult<Response> {
    let action = cloud.network_action(p, network_id(id)?, op).await?;
    Ok(action_created(cloud, &action))
}

/// `POST /networks/{id}/actions/add_subnet`: `add_subnet_to_network`.
async fn add_subnet_to_network(
    State(cloud): State<Cloud>,
    Auth(p): Auth,
    id: IdPath,
    body: Bytes,
) -> ApiResult<Response> {
    let body: SubnetBody = json_body(&body)?;
    act(&cloud, &p, &id, NetworkAction::AddSubnet(body.into())).await
}

#[derive(Debug, Deserialize)]
struct DeleteSubnet {
    ip_range: String,
}

/// `POST /networks/{id}/actions/delete_subnet`: `delete_subnet_from_network`.
async fn delete_subnet_from_network(
    State(cloud): State<Cloud>,
    Auth(p): Auth,
    id: IdPath,
    body: Bytes,
) -> ApiResult<Response> {
    let body: DeleteSubnet = json_body(&body)?;
    act(&cloud, &p, &id, NetworkAction::DeleteSubnet { ip_range: body.ip_range }).await
}

/// `POST /networks/{id}/actions/add_route`: `add_route_to_network`.
async fn add_route_to_network(
    State(cloud): State<Cloud>,
    Auth(p): Auth,
    id: IdPath,
    body: Bytes,
) -> ApiResult<Response> {
    let body: RouteBody = json_body(&body)?;
    act(&cloud, &p, &id, NetworkAction::AddRoute(body.into())).await
}

/// `POST /networks/{id}/actions/delete_route`: `delete_route_from_network`.
async fn delete_route_from_network(
    State(cloud): State<Cloud>,
    Auth(p): Auth,
    id: IdPath,
    body: Bytes,
) -> ApiResult<Response> {
    let body: RouteBody = json_body(&body)?;
    act(&cloud, &p, &id, NetworkAction::DeleteRoute(body.into())).await
}

#[derive(Debug, Deserialize)]
struct ChangeIpRange {
    ip_range: String,
}

/// `POST /networks/{id}/actions/change_ip_range`: `change_ip_range_of_network`.
async fn change_ip_range_of_network(
    State(cloud): State<Cloud>,
    Auth(p): Auth,
    id: IdPath,
    body: Bytes,
) -> ApiResult<Response> {
    let body: ChangeIpRange = json_body(&body)?;
    act(&cloud, &p, &id, NetworkAction::ChangeIpRange { ip_range: body.ip_range }).await
}

#[derive(Debug, Deserialize)]
struct ChangeProtection {
    delete: Option<bool>,
}

/// `POST /networks/{id}/actions/change_protection`: `change_network_protection`.
async fn change_network_protection(
    State(cloud): State<Cloud>,
    Auth(p): Auth,
    id: IdPath,
    body: Bytes,
) -> ApiResult<Response> {
    let body: ChangeProtection = json_body(&body)?;
    act(&cloud, &p, &id, NetworkAction::ChangeProtection { delete: body.delete }).await
}
