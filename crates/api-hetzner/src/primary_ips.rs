//! `/primary_ips` and their actions: today's API (not in seed 002); shapes from
//! `hetzner-cloud-openapi.json` (`primary_ip`, `create_primary_ip_request`, ...). Primary
//! IPs are the core's public IPs of role `Primary`: a server's own addresses.

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
use stratus_core::ops::ips::{IpAction, IpOrder, IpUpdate, IpView, PrimaryIpCreate};
use stratus_core::{Cloud, Error};

pub fn routes() -> Router<Cloud> {
    Router::new()
        .route("/primary_ips", get(list_primary_ips).post(create_primary_ip))
        .route("/primary_ips/actions", get(list_primary_ip_actions))
        .route("/primary_ips/actions/{id}", get(get_primary_ip_action))
        .route("/primary_ips/{id}", get(get_primary_ip).put(replace_primary_ip).delete(delete_primary_ip))
        .route("/primary_ips/{id}/actions", get(list_actions_for_primary_ip))
        .route("/primary_ips/{id}/actions/{action_id}", get(get_action_for_primary_ip))
        .route("/primary_ips/{id}/actions/assign", post(assign_primary_ip_to_resource))
        .route("/primary_ips/{id}/actions/unassign", post(unassign_primary_ip_from_resource))
        .route("/primary_ips/{id}/actions/change_dns_ptr", post(change_reverse_dns_records_for_primary_ip))
        .route("/primary_ips/{id}/actions/change_protection", post(change_primary_ip_protection))
}

/// The only resource type a primary IP is assigned to.
const ASSIGNEE_TYPE: &str = "server";

/// The Hetzner primary IP object. It carries both `location` (hcloud-python 2.27) and the
/// deprecated `datacenter`, in full (the hcloud-python 2.8 that Ansible vendors and
/// hcloud-go read it). An IPv6 primary IP's `ip` is its /64, which hcloud-go parses as a
/// CIDR.
fn render(v: &IpView) -> Value {
    let ip = &v.ip;
    json!({
        "id": ip.id.0,
        "name": ip.name,
        "ip": ip.address,
        "type": ip.family.as_str(),
        "assignee_id": ip.server().map(|s| s.0),
        "assignee_type": ASSIGNEE_TYPE,
        "auto_delete": ip.auto_delete,
        "blocked": ip.blocked,
        "dns_ptr": crate::floating_ips::dns_ptr(ip),
        "location": render::location(&v.location),
        "datacenter": v.datacenter.as_ref().map(render::datacenter),
        "protection": {"delete": ip.protection.delete},
        "labels": ip.labels,
        "created": ts(ip.created),
    })
}

fn sort_key(ip: &PublicIp, field: &str) -> SortKey {
    match field {
        "created" => SortKey::Time(Some(ip.created)),
        _ => SortKey::Int(ip.id.0),
    }
}

fn ip_id(raw: &str) -> ApiResult<IpId> {
    Ok(IpId(path_id(raw, ResourceKind::Ip)?))
}

/// The primary IP the path names, checked to be one of the project's.
fn primary(cloud: &Cloud, p: &Principal, raw: &str) -> ApiResult<IpId> {
    let id = ip_id(raw)?;
    cloud.ip_get(p, IpRole::Primary, id)?;
    Ok(id)
}

/// Whether an action is one of a primary IP's (the core keeps floating and primary IPs
/// as one kind of resource).
fn of_primary_ip(cloud: &Cloud, a: &Action) -> bool {
    render::concerns_ip(cloud, a, "primary_ip")
}

/// `assignee_type`, where given, must name the one type there is.
fn check_assignee_type(raw: Option<&str>) -> ApiResult<()> {
    match raw {
        None | Some(ASSIGNEE_TYPE) => Ok(()),
        Some(other) => Err(Error::invalid_field("assignee_type", format!("unknown type '{other}': server")).into()),
    }
}

fn created(cloud: &Cloud, action: &Action) -> Response {
    actions::created(cloud, action, Value::Null)
}

/// `GET /primary_ips`: `list_primary_ips`, with `name`, `label_selector` and `ip`.
async fn list_primary_ips(State(cloud): State<Cloud>, Auth(p): Auth, listing: Listing) -> ApiResult<Response> {
    let terms = listing.sort(&["id", "created"])?;
    let filter = listing.filter()?;
    if let Some(ip) = listing.params.get("ip") {
        let ips = cloud.primary_ip_holding(&p, &filter, ip)?;
        return listing.respond("primary_ips", ips, &terms, |v, f| sort_key(&v.ip, f), render);
    }
    let cmp = order_by(&terms, sort_key);
    let order: Option<&IpOrder<'_>> = (!terms.is_empty()).then_some(&cmp);
    let (page, views) = cloud.ip_page(&p, IpRole::Primary, &filter, order, |total| listing.page(total))?;
    Ok(listing.respond_rendered("primary_ips", views.iter().map(render).collect(), &page, Map::new()))
}

/// `GET /primary_ips/{id}`: `get_primary_ip`.
async fn get_primary_ip(State(cloud): State<Cloud>, Auth(p): Auth, id: IdPath) -> ApiResult<Json<Value>> {
    let ip = cloud.ip_get(&p, IpRole::Primary, ip_id(&id)?)?;
    Ok(Json(json!({"primary_ip": render(&ip)})))
}

/// `create_primary_ip_request`.
#[derive(Debug, Deserialize)]
struct CreatePrimaryIp {
    name: String,
    #[serde(rename = "type")]
    kind: String,
    /// Required by the document, but the clients leave it out when there is no assignee.
    assignee_type: Option<String>,
    assignee_id: Option<i64>,
    auto_delete: Option<bool>,
    /// Deprecated in favour of `location`, but what the CLI, Ansible and hcloud-go send
    /// (by name, or by id as a number or as digits).
    datacenter: Option<IdOrName>,
    location: Option<IdOrName>,
    labels: Option<Labels>,
}

/// `POST /primary_ips`: `create_primary_ip`. The answer's `action` is the assignment, left
/// out without an assignee (the document's `action` is optional, not nullable; the clients
/// read it with `.get` or as a nil-able pointer).
async fn create_primary_ip(State(cloud): State<Cloud>, Auth(p): Auth, body: Bytes) -> ApiResult<Response> {
    let body: CreatePrimaryIp = json_body(&body)?;
    check_assignee_type(body.assignee_type.as_deref())?;
    let family = match body.kind.as_str() {
        "ipv4" => IpFamily::V4,
        "ipv6" => IpFamily::V6,
        other => return Err(Error::invalid_field("type", format!("unknown type '{other}': ipv4 or ipv6")).into()),
    };
    let req = PrimaryIpCreate {
        family,
        name: body.name,
        server: body.assignee_id.map(ServerId),
        datacenter: body.datacenter.map(|r| r.0),
        location: body.location.map(|r| r.0),
        auto_delete: body.auto_delete.unwrap_or(false),
        labels: body.labels.unwrap_or_default(),
    };
    let (ip, action) = cloud.primary_ip_create(&p, req).await?;
    let mut body = json!({"primary_ip": render(&ip)});
    if let Some(action) = action {
        body["action"] = render::action(&cloud, &action);
    }
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `replace_primary_ip_request`.
#[derive(Debug, Deserialize)]
struct ReplacePrimaryIp {
    name: Option<String>,
    labels: Option<Labels>,
    auto_delete: Option<bool>,
}

/// `PUT /primary_ips/{id}`: `replace_primary_ip` (name, labels, auto_delete).
async fn replace_primary_ip(
    State(cloud): State<Cloud>,
    Auth(p): Auth,
    id: IdPath,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let id = ip_id(&id)?;
    let body: ReplacePrimaryIp = json_body(&body)?;
    let update = IpUpdate { name: body.name, description: None, labels: body.labels, auto_delete: body.auto_delete };
    let ip = cloud.ip_update(&p, IpRole::Primary, id, update).await?;
    Ok(Json(json!({"primary_ip": render(&ip)})))
}

/// `DELETE /primary_ips/{id}`: `delete_primary_ip`; 204 with no body. An assigned
/// primary IP is unassigned with it, as Hetzner does until May 2026; its server must be off.
async fn delete_primary_ip(State(cloud): State<Cloud>, Auth(p): Auth, id: IdPath) -> ApiResult<StatusCode> {
    cloud.ip_delete(&p, IpRole::Primary, ip_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /primary_ips/{id}/actions`: `list_actions_for_primary_ip`.
async fn list_actions_for_primary_ip(
    State(cloud): State<Cloud>,
    Auth(p): Auth,
    id: IdPath,
    listing: Listing,
) -> ApiResult<Response> {
    actions::list_for(&cloud, &p, &listing, primary(&cloud, &p, &id)?.as_ref())
}

/// `GET /primary_ips/{id}/actions/{action_id}`: `get_action_for_primary_ip`.
async fn get_action_for_primary_ip(
    State(cloud): State<Cloud>,
    Auth(p): Auth,
    ids: IdActionPath,
) -> ApiResult<Response> {
    let (id, action_id) = &*ids;
    actions::get_for(&cloud, &p, primary(&cloud, &p, id)?.as_ref(), action_id)
}

/// `GET /primary_ips/actions`: `list_primary_ip_actions`, every primary IP action of the project.
async fn list_primary_ip_actions(State(cloud): State<Cloud>, Auth(p): Auth, listing: Listing) -> ApiResult<Response> {
    actions::list_of_kind_where(&cloud, &p, &listing, ResourceKind::Ip, |a| of_primary_ip(&cloud, a))
}

/// `GET /primary_ips/actions/{id}`: `get_primary_ip_action`.
async fn get_primary_ip_action(State(cloud): State<Cloud>, Auth(p): Auth, id: IdPath) -> ApiResult<Response> {
    actions::get_of_kind_where(&cloud, &p, &id, ResourceKind::Ip, |a| of_primary_ip(&cloud, a))
}

/// `assign_primary_ip_to_resource_request`. The CLI adds an `ID` key, ignored.
#[derive(Debug, Deserialize)]
struct Assign {
    assignee_id: Option<i64>,
    assignee_type: Option<String>,
}

/// `POST /primary_ips/{id}/actions/assign`: `assign_primary_ip_to_resource`. The server
/// must be off, in the IP's location, without a primary IP of that family.
async fn assign_primary_ip_to_resource(
    State(cloud): State<Cloud>,
    Auth(p): Auth,
    id: IdPath,
    body: Bytes,
) -> ApiResult<Response> {
    let id = ip_id(&id)?;
    let body: Assign = json_body(&body)?;
    check_assignee_type(body.assignee_type.as_deref())?;
    let server = body.assignee_id.ok_or_else(|| Error::invalid_field("assignee_id", "is required"))?;
    let action = cloud.ip_action(&p, IpRole::Primary, id, IpAction::Assign { server: ServerId(server) }).await?;
    Ok(created(&cloud, &action))
}

/// `POST /primary_ips/{id}/actions/unassign`: `unassign_primary_ip_from_resource`; the
/// server must be off. Clients may send no body.
async fn unassign_primary_ip_from_resource(
    State(cloud): State<Cloud>,
    Auth(p): Auth,
    id: IdPath,
) -> ApiResult<Response> {
    let action = cloud.ip_action(&p, IpRole::Primary, ip_id(&id)?, IpAction::Unassign).await?;
    Ok(created(&cloud, &action))
}

#[derive(Debug, Deserialize)]
struct ChangeDnsPtr {
    ip: String,
    /// `null` resets the record to its default.
    dns_ptr: Option<String>,
}

/// `POST /primary_ips/{id}/actions/change_dns_ptr`: `change_reverse_dns_records_for_primary_ip`.
async fn change_reverse_dns_records_for_primary_ip(
    State(cloud): State<Cloud>,
    Auth(p): Auth,
    id: IdPath,
    body: Bytes,
) -> ApiResult<Response> {
    let id = ip_id(&id)?;
    let body: ChangeDnsPtr = json_body(&body)?;
    let op = IpAction::ChangeDnsPtr { ip: body.ip, ptr: body.dns_ptr };
    let action = cloud.ip_action(&p, IpRole::Primary, id, op).await?;
    Ok(created(&cloud, &action))
}

#[derive(Debug, Deserialize)]
struct ChangeProtection {
    delete: bool,
}

/// `POST /primary_ips/{id}/actions/change_protection`: `change_primary_ip_protection`;
/// protection needs `auto_delete` off.
async fn change_primary_ip_protection(
    State(cloud): State<Cloud>,
    Auth(p): Auth,
    id: IdPath,
    body: Bytes,
) -> ApiResult<Response> {
    let id = ip_id(&id)?;
    let body: ChangeProtection = json_body(&body)?;
    let op = IpAction::ChangeProtection { delete: Some(body.delete) };
    let action = cloud.ip_action(&p, IpRole::Primary, id, op).await?;
    Ok(created(&cloud, &action))
}
