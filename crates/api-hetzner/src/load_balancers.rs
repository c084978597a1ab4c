//! `/load_balancers`, their actions and metrics: today's API (not in seed 002); shapes from
//! `hetzner-cloud-openapi.json` (`load_balancer`, `create_load_balancer_request`,
//! `add_service_request`, ...) and what the clients read (`clients-hetzner.md`).

use crate::actions;
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::list::{order_by, Listing, SortKey};
use crate::render::{self, ts};
use crate::request::{json_body, path_id, IdActionPath, IdOrName, IdPath, Params};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::sync::Arc;
use stratus_core::ids::{CertificateId, LoadBalancerId, NetworkId, ResourceKind, ServerId};
use stratus_core::labels::Labels;
use stratus_core::model::*;
use stratus_core::ops::load_balancers::*;
use stratus_core::views::{LoadBalancerView, ServiceHealth, TargetView};
use stratus_core::{Cloud, Error, MetricKind};

pub fn routes() -> Router<Cloud> {
    Router::new()
        .route("/load_balancers", get(list_load_balancers).post(create_load_balancer))
        .route("/load_balancers/actions", get(list_load_balancer_actions))
        .route("/load_balancers/actions/{id}", get(get_load_balancer_action))
        .route("/load_balancers/{id}", get(get_load_balancer).put(replace_load_balancer).delete(delete_load_balancer))
        .route("/load_balancers/{id}/metrics", get(get_metrics_for_loadbalancer))
        .route("/load_balancers/{id}/actions", get(list_actions_for_load_balancer))
        .route("/load_balancers/{id}/actions/{action_id}", get(get_action_for_load_balancer))
        .route("/load_balancers/{id}/actions/add_service", post(add_service))
        .route("/load_balancers/{id}/actions/update_service", post(update_service))
        .route("/load_balancers/{id}/actions/delete_service", post(delete_service))
        .route("/load_balancers/{id}/actions/add_target", post(add_target))
        .route("/load_balancers/{id}/actions/remove_target", post(remove_target))
        .route("/load_balancers/{id}/actions/change_algorithm", post(change_algorithm))
        .route("/load_balancers/{id}/actions/change_type", post(change_type_of_load_balancer))
        .route("/load_balancers/{id}/actions/attach_to_network", post(attach_load_balancer_to_network))
        .route("/load_balancers/{id}/actions/detach_from_network", post(detach_load_balancer_from_network))
        .route("/load_balancers/{id}/actions/enable_public_interface", post(enable_public_interface_of_load_balancer))
        .route("/load_balancers/{id}/actions/disable_public_interface", post(disable_public_interface_of_load_balancer))
        .route("/load_balancers/{id}/actions/change_dns_ptr", post(change_reverse_dns_entry_for_this_load_balancer))
        .route("/load_balancers/{id}/actions/change_protection", post(change_load_balancer_protection))
}

/// What rendering a load balancer's type needs (prices per location), loaded once per answer.
#[derive(Debug)]
struct Catalog {
    prices: Arc<PriceList>,
    locations: Vec<Arc<Location>>,
}

impl Catalog {
    fn load(cloud: &Cloud) -> ApiResult<Catalog> {
        let pricing = cloud.pricing()?;
        Ok(Catalog { prices: pricing.list, locations: pricing.locations })
    }
}

/// The address a load balancer shows for its IPv6 network: its first host, as Hetzner
/// shows one address (hcloud-go parses it as an address, not a CIDR).
fn ipv6_address(network: &str) -> String {
    let prefix = network.split('/').next().and_then(|a| a.parse::<std::net::Ipv6Addr>().ok());
    prefix.map_or_else(|| network.to_string(), |a| std::net::Ipv6Addr::from(u128::from(a) | 1).to_string())
}

/// `public_net.ipv4` / `ipv6`: never null (hcloud-go dereferences them), with `ip` and
/// `dns_ptr`, and `id` (hcloud-python 2.27 reads it).
fn public_ip(ip: Option<&PublicIp>) -> Value {
    match ip {
        None => json!({"id": null, "ip": null, "dns_ptr": null}),
        Some(ip) if ip.family == IpFamily::V4 => {
            json!({"id": ip.id.0, "ip": ip.address, "dns_ptr": render::ipv4_ptr(&ip.dns_ptr, &ip.address)})
        }
        Some(ip) => {
            let address = ipv6_address(&ip.address);
            let ptr = ip.dns_ptr.iter().find(|d| d.ip == address).map(|d| d.dns_ptr.clone());
            json!({"id": ip.id.0, "ip": address, "dns_ptr": ptr})
        }
    }
}

fn health(list: &[ServiceHealth]) -> Value {
    list.iter().map(|h| json!({"listen_port": h.listen_port, "status": h.status.as_str()})).collect()
}

fn target(t: &TargetView) -> Value {
    let private = t.target.use_private_ip;
    match &t.target.kind {
        LbTargetKind::Server(id) => json!({
            "type": "server",
            "server": {"id": id.0},
            "use_private_ip": private,
            "health_status": health(&t.health),
        }),
        LbTargetKind::LabelSelector(selector) => json!({
            "type": "label_selector",
            "label_selector": {"selector": selector},
            "use_private_ip": private,
            "targets": t.selected.iter().map(|s| json!({
                "type": "server",
                "server": {"id": s.server.0},
                "use_private_ip": private,
                "health_status": health(&s.health),
            })).collect::<Vec<_>>(),
        }),
        LbTargetKind::Ip(ip) => json!({"type": "ip", "ip": {"ip": ip}, "health_status": health(&t.health)}),
    }
}

/// A service: its health check is never null (hcloud-go dereferences it), and `http`
/// carries `timeout_idle`, which the document lacks and hcloud-python 2.27 indexes.
/// Both `http` objects are left out for tcp: the document's are optional but not
/// nullable, and the clients read them only when the protocol is not tcp.
fn service(s: &LbService) -> Value {
    let hc = &s.health_check;
    let mut health_check = json!({
        "protocol": hc.protocol.as_str(),
        "port": hc.port,
        "interval": hc.interval,
        "timeout": hc.timeout,
        "retries": hc.retries,
    });
    if let Some(h) = &hc.http {
        health_check["http"] = json!({
            "domain": h.domain,
            "path": h.path,
            "response": h.response,
            "status_codes": h.status_codes,
            "tls": h.tls,
        });
    }
    let mut service = json!({
        "protocol": s.protocol.as_str(),
        "listen_port": s.listen_port,
        "destination_port": s.destination_port,
        "proxyprotocol": s.proxyprotocol,
        "health_check": health_check,
    });
    if let Some(h) = &s.http {
        service["http"] = json!({
            "cookie_name": h.cookie_name,
            "cookie_lifetime": h.cookie_lifetime,
            "certificates": h.certificates.iter().map(|c| c.0).collect::<Vec<_>>(),
            "redirect_http": h.redirect_http,
            "sticky_sessions": h.sticky_sessions,
            "timeout_idle": h.timeout_idle,
        });
    }
    service
}

/// The Hetzner load balancer object.
fn render(v: &LoadBalancerView, catalog: &Catalog) -> Value {
    let lb = &v.lb;
    json!({
        "id": lb.id.0,
        "name": lb.name,
        "public_net": {
            "enabled": lb.public_interface,
            "ipv4": public_ip(v.ipv4.as_deref()),
            "ipv6": public_ip(v.ipv6.as_deref()),
        },
        "private_net": v.private_net.iter().map(|n| json!({"network": n.network.map(|n| n.0), "ip": n.ip})).collect::<Vec<_>>(),
        "location": render::location(&v.location),
        "load_balancer_type": crate::load_balancer_types::render(&v.lb_type, &catalog.locations, &catalog.prices),
        "protection": {"delete": lb.protection.delete},
        "labels": lb.labels,
        "created": ts(lb.created),
        "services": lb.services.iter().map(service).collect::<Vec<_>>(),
        "targets": v.targets.iter().map(target).collect::<Vec<_>>(),
        "algorithm": {"type": lb.algorithm.as_str()},
        "outgoing_traffic": lb.traffic.outgoing,
        "ingoing_traffic": lb.traffic.ingoing,
        "included_traffic": v.lb_type.included_traffic,
    })
}

fn sort_key(lb: &LoadBalancer, field: &str) -> SortKey {
    match field {
        "name" => SortKey::Text(lb.name.clone()),
        "created" => SortKey::Time(Some(lb.created)),
        _ => SortKey::Int(lb.id.0),
    }
}

fn lb_id(raw: &str) -> ApiResult<LoadBalancerId> {
    Ok(LoadBalancerId(path_id(raw, ResourceKind::LoadBalancer)?))
}

/// `GET /load_balancers`: `list_load_balancers` (`name`, `label_selector`, `sort`, pages).
async fn list_load_balancers(State(cloud): State<Cloud>, Auth(p): Auth, listing: Listing) -> ApiResult<Response> {
    let terms = listing.sort(&["id", "name", "created"])?;
    let cmp = order_by(&terms, sort_key);
    let order: Option<&LoadBalancerOrder<'_>> = (!terms.is_empty()).then_some(&cmp);
    let (page, views) = cloud.load_balancer_page(&p, &listing.filter()?, order, |total| listing.page(total))?;
    let catalog = Catalog::load(&cloud)?;
    let rendered = views.iter().map(|v| render(v, &catalog)).collect();
    Ok(listing.respond_rendered("load_balancers", rendered, &page, Map::new()))
}

/// `GET /load_balancers/{id}`: `get_load_balancer`.
async fn get_load_balancer(State(cloud): State<Cloud>, Auth(p): Auth, id: IdPath) -> ApiResult<Json<Value>> {
    let view = cloud.load_balancer_get(&p, lb_id(&id)?)?;
    Ok(Json(json!({"load_balancer": render(&view, &Catalog::load(&cloud)?)})))
}

/// `health_check.http` of a request.
#[derive(Debug, Default, PartialEq, Deserialize)]
struct HealthCheckHttpBody {
    domain: Option<String>,
    path: Option<String>,
    response: Option<String>,
    status_codes: Option<Vec<String>>,
    tls: Option<bool>,
}

/// `health_check` of a request. Ansible sends every key, `null` where unset: `null`
/// means "as it is" (or the default).
#[derive(Debug, Deserialize)]
struct HealthCheckBody {
    protocol: Option<LbProtocol>,
    port: Option<u16>,
    interval: Option<u32>,
    timeout: Option<u32>,
    retries: Option<u32>,
    http: Option<HealthCheckHttpBody>,
}

/// `http` of a service request.
#[derive(Debug, Default, PartialEq, Deserialize)]
struct HttpBody {
    cookie_name: Option<String>,
    cookie_lifetime: Option<u32>,
    certificates: Option<Vec<i64>>,
    redirect_http: Option<bool>,
    sticky_sessions: Option<bool>,
    /// Not in the document; hcloud-python 2.27 knows it.
    timeout_idle: Option<u32>,
}

/// A service as `create_load_balancer`, `add_service` and `update_service` take it. The
/// document requires ports, `proxyprotocol` and `health_check`; the hcloud CLI omits
/// them, so each has a default (core's).
#[derive(Debug, Deserialize)]
struct ServiceBody {
    protocol: Option<LbProtocol>,
    listen_port: Option<u16>,
    destination_port: Option<u16>,
    proxyprotocol: Option<bool>,
    health_check: Option<HealthCheckBody>,
    http: Option<HttpBody>,
}

impl ServiceBody {
    /// An empty `http` or `health_check.http` object asks for nothing and is taken as
    /// absent: `hcloud load-balancer update-service` (CLI 1.30.3) sends both as `{}` on
    /// every update, tcp services included, where a non-empty one would be refused.
    fn into_core(self) -> ServiceRequest {
        ServiceRequest {
            protocol: self.protocol,
            listen_port: self.listen_port,
            destination_port: self.destination_port,
            proxyprotocol: self.proxyprotocol,
            health_check: self.health_check.map(|hc| HealthCheckRequest {
                protocol: hc.protocol,
                port: hc.port,
                interval: hc.interval,
                timeout: hc.timeout,
                retries: hc.retries,
                http: hc.http.filter(|h| *h != HealthCheckHttpBody::default()).map(|h| HealthCheckHttpRequest {
                    domain: h.domain,
                    path: h.path,
                    response: h.response,
                    status_codes: h.status_codes,
                    tls: h.tls,
                }),
            }),
            http: self.http.filter(|h| *h != HttpBody::default()).map(|h| HttpRequest {
                cookie_name: h.cookie_name,
                cookie_lifetime: h.cookie_lifetime,
                certificates: h.certificates.map(|c| c.into_iter().map(CertificateId).collect()),
                redirect_http: h.redirect_http,
                sticky_sessions: h.sticky_sessions,
                timeout_idle: h.timeout_idle,
            }),
        }
    }
}

/// `{"id": ...}`; an id above the document's maximum is refused even where the entry's type
/// does not use it (Schemathesis sent a label_selector entry with such a server id).
#[derive(Debug, Deserialize)]
struct IdBody {
    #[serde(deserialize_with = "crate::request::bounded_id")]
    id: i64,
}

#[derive(Debug, Deserialize)]
struct SelectorBody {
    selector: String,
}

#[derive(Debug, Deserialize)]
struct IpBody {
    ip: String,
}

/// A target as `create_load_balancer`, `add_target` and `remove_target` take it.
#[derive(Debug, Deserialize)]
struct TargetBody {
    #[serde(rename = "type")]
    kind: String,
    server: Option<IdBody>,
    label_selector: Option<SelectorBody>,
    ip: Option<IpBody>,
    use_private_ip: Option<bool>,
}

impl TargetBody {
    /// The target's kind; `at` prefixes field names (`targets[0].`).
    fn kind(self, at: &str) -> ApiResult<(LbTargetKind, bool)> {
        let missing =
            |field: &str| ApiError::from(Error::invalid_field(&format!("{at}{field}"), "is required for this type"));
        let kind = match self.kind.as_str() {
            "server" => LbTargetKind::Server(ServerId(self.server.ok_or_else(|| missing("server"))?.id)),
            "label_selector" => {
                LbTargetKind::LabelSelector(self.label_selector.ok_or_else(|| missing("label_selector"))?.selector)
            }
            "ip" => LbTargetKind::Ip(self.ip.ok_or_else(|| missing("ip"))?.ip),
            other => {
                return Err(Error::invalid_field(
                    &format!("{at}type"),
                    format!("unknown target type '{other}': server, label_selector or ip"),
                )
                .into())
            }
        };
        Ok((kind, self.use_private_ip.unwrap_or(false)))
    }

    fn into_core(self, at: &str) -> ApiResult<LbTarget> {
        let (kind, use_private_ip) = self.kind(at)?;
        Ok(LbTarget { kind, use_private_ip })
    }
}

#[derive(Debug, Deserialize)]
struct AlgorithmBody {
    #[serde(rename = "type")]
    kind: Algorithm,
}

/// `create_load_balancer_request`.
#[derive(Debug, Deserialize)]
struct CreateLoadBalancerRequest {
    name: String,
    /// An id or a name: the clients send both (Ansible an integer id).
    load_balancer_type: IdOrName,
    location: Option<IdOrName>,
    network_zone: Option<String>,
    algorithm: Option<AlgorithmBody>,
    services: Option<Vec<ServiceBody>>,
    targets: Option<Vec<TargetBody>>,
    network: Option<i64>,
    public_interface: Option<bool>,
    labels: Option<Labels>,
}

/// `POST /load_balancers`: `create_load_balancer`.
async fn create_load_balancer(State(cloud): State<Cloud>, Auth(p): Auth, body: Bytes) -> ApiResult<Response> {
    let body: CreateLoadBalancerRequest = json_body(&body)?;
    let targets = body
        .targets
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(i, t)| t.into_core(&format!("targets[{i}].")))
        .collect::<ApiResult<Vec<_>>>()?;
    let req = LoadBalancerCreate {
        name: body.name,
        lb_type: body.load_balancer_type.0,
        location: body.location.map(|r| r.0),
        network_zone: body.network_zone,
        algorithm: body.algorithm.map_or(Algorithm::RoundRobin, |a| a.kind),
        services: body.services.unwrap_or_default().into_iter().map(ServiceBody::into_core).collect(),
        targets,
        network: body.network.map(NetworkId),
        public_interface: body.public_interface.unwrap_or(true),
        labels: body.labels.unwrap_or_default(),
    };
    // Loaded first, so that nothing is created if the answer could not be rendered.
    let catalog = Catalog::load(&cloud)?;
    let (view, action) = cloud.load_balancer_create(&p, req).await?;
    let body = json!({"load_balancer": render(&view, &catalog), "action": render::action(&cloud, &action)});
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `replace_load_balancer_request`.
#[derive(Debug, Deserialize)]
struct ReplaceLoadBalancerRequest {
    name: Option<String>,
    labels: Option<Labels>,
}

/// `PUT /load_balancers/{id}`: `replace_load_balancer` (name and labels).
async fn replace_load_balancer(
    State(cloud): State<Cloud>,
    Auth(p): Auth,
    id: IdPath,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let id = lb_id(&id)?;
    let body: ReplaceLoadBalancerRequest = json_body(&body)?;
    let catalog = Catalog::load(&cloud)?;
    let view = cloud.load_balancer_update(&p, id, body.name, body.labels).await?;
    Ok(Json(json!({"load_balancer": render(&view, &catalog)})))
}

/// `DELETE /load_balancers/{id}`: `delete_load_balancer`. The document answers 204, but
/// hcloud-python 2.27 reads `{"action": ...}` from the body (a 204 fails it); a 200 with
/// the deleting action satisfies hcloud-go and the vendored hcloud-python 2.8 as well.
async fn delete_load_balancer(State(cloud): State<Cloud>, Auth(p): Auth, id: IdPath) -> ApiResult<Response> {
    Ok(actions::one(&cloud, &*cloud.load_balancer_delete(&p, lb_id(&id)?).await?))
}

/// Hetzner picks a step giving about this many samples when none is asked for.
const DEFAULT_SAMPLES: i64 = 200;

/// `GET /load_balancers/{id}/metrics`: `get_metrics_for_loadbalancer`.
async fn get_metrics_for_loadbalancer(
    State(cloud): State<Cloud>,
    Auth(p): Auth,
    id: IdPath,
    params: Params,
) -> ApiResult<Response> {
    let id = lb_id(&id)?;
    let kind = |t: &str| match t {
        "open_connections" => Some(MetricKind::OpenConnections),
        "connections_per_second" => Some(MetricKind::ConnectionsPerSecond),
        "requests_per_second" => Some(MetricKind::RequestsPerSecond),
        "bandwidth" => Some(MetricKind::Bandwidth),
        _ => None,
    };
    let query = crate::servers::metrics_query(&params, kind, DEFAULT_SAMPLES)?;
    let series = cloud.load_balancer_metrics(&p, id, query.clone()).await?;
    Ok(crate::servers::metrics_answer(&query, series))
}

/// `GET /load_balancers/{id}/actions`: `list_actions_for_load_balancer`.
async fn list_actions_for_load_balancer(
    State(cloud): State<Cloud>,
    Auth(p): Auth,
    id: IdPath,
    listing: Listing,
) -> ApiResult<Response> {
    actions::list_for(&cloud, &p, &listing, lb_id(&id)?.as_ref())
}

/// `GET /load_balancers/{id}/actions/{action_id}`: `get_action_for_load_balancer`.
async fn get_action_for_load_balancer(
    State(cloud): State<Cloud>,
    Auth(p): Auth,
    ids: IdActionPath,
) -> ApiResult<Response> {
    let (id, action_id) = &*ids;
    actions::get_for(&cloud, &p, lb_id(id)?.as_ref(), action_id)
}

/// `GET /load_balancers/actions`: `list_load_balancer_actions`.
async fn list_load_balancer_actions(
    State(cloud): State<Cloud>,
    Auth(p): Auth,
    listing: Listing,
) -> ApiResult<Response> {
    actions::list_of_kind(&cloud, &p, &listing, ResourceKind::LoadBalancer)
}

/// `GET /load_balancers/actions/{id}`: `get_load_balancer_action`.
async fn get_load_balancer_action(State(cloud): State<Cloud>, Auth(p): Auth, id: IdPath) -> ApiResult<Response> {
    actions::get_of_kind(&cloud, &p, &id, ResourceKind::LoadBalancer)
}

/// Runs `op` on the load balancer the path names; `201 {"action": ...}`.
async fn run(cloud: &Cloud, p: &Principal, id: &str, op: LoadBalancerAction) -> ApiResult<Response> {
    let action = cloud.load_balancer_action(p, lb_id(id)?, op).await?;
    Ok(actions::created(cloud, &action, Value::Null))
}

/// `POST /load_balancers/{id}/actions/add_service`: `add_service`.
async fn add_service(State(cloud): State<Cloud>, Auth(p): Auth, id: IdPath, body: Bytes) -> ApiResult<Response> {
    let body: ServiceBody = json_body(&body)?;
    run(&cloud, &p, &id, LoadBalancerAction::AddService(body.into_core())).await
}

/// `POST /load_balancers/{id}/actions/update_service`: `update_service` (on `listen_port`).
async fn update_service(State(cloud): State<Cloud>, Auth(p): Auth, id: IdPath, body: Bytes) -> ApiResult<Response> {
    let body: ServiceBody = json_body(&body)?;
    run(&cloud, &p, &id, LoadBalancerAction::UpdateService(body.into_core())).await
}

#[derive(Debug, Deserialize)]
struct DeleteServiceRequest {
    listen_port: u16,
}

/// `POST /load_balancers/{id}/actions/delete_service`: `delete_service`.
async fn delete_service(State(cloud): State<Cloud>, Auth(p): Auth, id: IdPath, body: Bytes) -> ApiResult<Response> {
    let body: DeleteServiceRequest = json_body(&body)?;
    run(&cloud, &p, &id, LoadBalancerAction::DeleteService { listen_port: body.listen_port }).await
}

/// `POST /load_balancers/{id}/actions/add_target`: `add_target`.
async fn add_target(State(cloud): State<Cloud>, Auth(p): Auth, id: IdPath, body: Bytes) -> ApiResult<Response> {
    let body: TargetBody = json_body(&body)?;
    run(&cloud, &p, &id, LoadBalancerAction::AddTarget(body.into_core("")?)).await
}

/// `POST /load_balancers/{id}/actions/remove_target`: `remove_target`.
async fn remove_target(State(cloud): State<Cloud>, Auth(p): Auth, id: IdPath, body: Bytes) -> ApiResult<Response> {
    let body: TargetBody = json_body(&body)?;
    let (kind, _) = body.kind("")?;
    run(&cloud, &p, &id, LoadBalancerAction::RemoveTarget(kind)).await
}

/// `POST /load_balancers/{id}/actions/change_algorithm`: `change_algorithm`.
async fn change_algorithm(State(cloud): State<Cloud>, Auth(p): Auth, id: IdPath, body: Bytes) -> ApiResult<Response> {
    let body: AlgorithmBody = json_body(&body)?;
    run(&cloud, &p, &id, LoadBalancerAction::ChangeAlgorithm(body.kind)).await
}

#[derive(Debug, Deserialize)]
struct ChangeTypeRequest {
    load_balancer_type: IdOrName,
}

/// `POST /load_balancers/{id}/actions/change_type`: `change_type_of_load_balancer`.
async fn change_type_of_load_balancer(
    State(cloud): State<Cloud>,
    Auth(p): Auth,
    id: IdPath,
    body: Bytes,
) -> ApiResult<Response> {
    let body: ChangeTypeRequest = json_body(&body)?;
    run(&cloud, &p, &id, LoadBalancerAction::ChangeType(body.load_balancer_type.0)).await
}

#[derive(Debug, Deserialize)]
struct AttachToNetworkRequest {
    network: i64,
    ip: Option<String>,
    ip_range: Option<String>,
}

/// `POST /load_balancers/{id}/actions/attach_to_network`: `attach_load_balancer_to_network`.
async fn attach_load_balancer_to_network(
    State(cloud): State<Cloud>,
    Auth(p): Auth,
    id: IdPath,
    body: Bytes,
) -> ApiResult<Response> {
    let body: AttachToNetworkRequest = json_body(&body)?;
    let op =
        LoadBalancerAction::AttachToNetwork { network: NetworkId(body.network), ip: body.ip, ip_range: body.ip_range };
    run(&cloud, &p, &id, op).await
}

#[derive(Debug, Deserialize)]
struct DetachFromNetworkRequest {
    network: i64,
}

/// `POST /load_balancers/{id}/actions/detach_from_network`: `detach_load_balancer_from_network`.
async fn detach_load_balancer_from_network(
    State(cloud): State<Cloud>,
    Auth(p): Auth,
    id: IdPath,
    body: Bytes,
) -> ApiResult<Response> {
    let body: DetachFromNetworkRequest = json_body(&body)?;
    run(&cloud, &p, &id, LoadBalancerAction::DetachFromNetwork { network: NetworkId(body.network) }).await
}

/// `POST /load_balancers/{id}/actions/enable_public_interface`: `enable_public_interface_of_load_balancer`.
async fn enable_public_interface_of_load_balancer(
    State(cloud): State<Cloud>,
    Auth(p): Auth,
    id: IdPath,
) -> ApiResult<Response> {
    run(&cloud, &p, &id, LoadBalancerAction::EnablePublicInterface).await
}

/// `POST /load_balancers/{id}/actions/disable_public_interface`: `disable_public_interface_of_load_balancer`.
async fn disable_public_interface_of_load_balancer(
    State(cloud): State<Cloud>,
    Auth(p): Auth,
    id: IdPath,
) -> ApiResult<Response> {
    run(&cloud, &p, &id, LoadBalancerAction::DisablePublicInterface).await
}

#[derive(Debug, Deserialize)]
struct ChangeDnsPtrRequest {
    ip: String,
    /// Required, and `null` resets the record to its default: `None` when missing,
    /// `Some(None)` for `null`.
    #[serde(default, deserialize_with = "crate::request::present")]
    dns_ptr: Option<Option<String>>,
}

/// `POST /load_balancers/{id}/actions/change_dns_ptr`: `change_reverse_dns_entry_for_this_load_balancer`.
async fn change_reverse_dns_entry_for_this_load_balancer(
    State(cloud): State<Cloud>,
    Auth(p): Auth,
    id: IdPath,
    body: Bytes,
) -> ApiResult<Response> {
    let body: ChangeDnsPtrRequest = json_body(&body)?;
    let ptr =
        body.dns_ptr.ok_or_else(|| ApiError::from(Error::invalid_field("dns_ptr", "is required (null resets it)")))?;
    run(&cloud, &p, &id, LoadBalancerAction::ChangeDnsPtr { ip: body.ip, ptr }).await
}

#[derive(Debug, Deserialize)]
struct ChangeProtectionRequest {
    delete: Option<bool>,
}

/// `POST /load_balancers/{id}/actions/change_protection`: `change_load_balancer_protection`.
async fn change_load_balancer_protection(
    State(cloud): State<Cloud>,
    Auth(p): Auth,
    id: IdPath,
    body: Bytes,
) -> ApiResult<Response> {
    let body: ChangeProtectionRequest = json_body(&body)?;
    run(&cloud, &p, &id, LoadBalancerAction::ChangeProtection { delete: body.delete }).await
}
