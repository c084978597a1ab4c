//! `/servers`: seed 002, "Servers" (list, get, create, rename, delete, metrics) and
//! "Server Actions" (the action lists); shapes from `hetzner-cloud-openapi.json`
//! (`server`, `create_server_request`, `create_server_response`, `metrics`, ...).

use crate::actions;
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::list::{order_by, Listing, SortKey};
use crate::render;
use crate::request::{json_body, path_id, IdActionPath, IdOrName, IdPath, Params};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};
use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::sync::Arc;
use stratus_core::ids::{FirewallId, IpId, NetworkId, PlacementGroupId, ResourceKind, ResourceRef, ServerId, VolumeId};
use stratus_core::labels::Labels;
use stratus_core::model::{Location, PriceList, PublicIp, Server, ServerStatus};
use stratus_core::ops::servers::{ServerCreate, ServerFilter, ServerOrder};
use stratus_core::views::ServerView;
use stratus_core::{Cloud, Error};
use stratus_core::{MetricKind, MetricSeries, MetricsQuery};

pub fn routes() -> Router<Cloud> {
    Router::new()
        .route("/servers", get(list_servers).post(create_server))
        .route("/servers/actions", get(list_server_actions))
        .route("/servers/actions/{id}", get(get_server_action))
        .route("/servers/{id}", get(get_server).put(replace_server).delete(delete_server))
        .route("/servers/{id}/metrics", get(get_metrics_for_server))
        .route("/servers/{id}/actions", get(list_actions_for_server))
        .route("/servers/{id}/actions/{action_id}", get(get_action_for_server))
}

/// The fields `GET /servers` sorts by.
const SERVER_SORT: &[&str] = &["id", "name", "created"];

/// What rendering a server's embedded catalogue objects needs, loaded once per answer.
/// Each server type, datacenter, location and image is serialized once however many
/// servers show it (a page of 50 usually shows one or two of each) and embedded as raw
/// JSON: building and dropping those trees per server was most of a list's cost.
#[derive(Debug)]
struct Catalog {
    prices: Arc<PriceList>,
    locations: Vec<Arc<Location>>,
    rendered: HashMap<(ResourceRef, Part), Box<RawValue>>,
}

/// Which object of a resource a cached rendering is: a datacenter renders its own object
/// and its location's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Part {
    Own,
    Location,
}

impl Catalog {
    fn load(cloud: &Cloud) -> ApiResult<Catalog> {
        let pricing = cloud.pricing()?;
        Ok(Catalog { prices: pricing.list, locations: pricing.locations, rendered: HashMap::new() })
    }

    /// Renders what `views` embed that is not yet rendered.
    fn prepare<'v>(&mut self, views: impl IntoIterator<Item = &'v ServerView>) -> ApiResult<()> {
        for v in views {
            if let Some(t) = v.server_type.as_deref() {
                let (locations, prices) = (&self.locations, &self.prices);
                cache(&mut self.rendered, (t.id.as_ref(), Part::Own), || render::server_type(t, locations, prices))?;
            }
            let dc = &v.datacenter;
            cache(&mut self.rendered, (dc.datacenter.id.as_ref(), Part::Own), || render::datacenter(dc))?;
            cache(&mut self.rendered, (dc.datacenter.id.as_ref(), Part::Location), || render::location(&dc.location))?;
            if let Some(i) = v.image.as_deref() {
                cache(&mut self.rendered, (i.id.as_ref(), Part::Own), || crate::images::render(i, false))?;
            }
        }
        Ok(())
    }

    /// A rendering [`Catalog::prepare`] made.
    fn get(&self, key: ResourceRef, part: Part) -> ApiResult<&RawValue> {
        self.rendered
            .get(&(key, part))
            .map(|raw| &**raw)
            .ok_or_else(|| ApiError::from(Error::Internal(format!("{key:?} was not rendered before its server"))))
    }
}

fn cache(
    rendered: &mut HashMap<(ResourceRef, Part), Box<RawValue>>,
    key: (ResourceRef, Part),
    render: impl FnOnce() -> Value,
) -> ApiResult<()> {
    if let Entry::Vacant(slot) = rendered.entry(key) {
        let raw = serde_json::value::to_raw_value(&render())
            .map_err(|e| ApiError::from(Error::Internal(format!("cannot render {key:?}: {e}"))))?;
        slot.insert(raw);
    }
    Ok(())
}

fn ipv4(ip: &PublicIp) -> Value {
    json!({"id": ip.id.0, "ip": ip.address, "blocked": ip.blocked, "dns_ptr": render::ipv4_ptr(&ip.dns_ptr, &ip.address)})
}

fn ipv6(ip: &PublicIp) -> Value {
    let ptrs: Vec<Value> = ip.dns_ptr.iter().map(|d| json!({"ip": d.ip, "dns_ptr": d.dns_ptr})).collect();
    json!({"id": ip.id.0, "ip": ip.address, "blocked": ip.blocked, "dns_ptr": ptrs})
}

/// The Hetzner server object. Fields in alphabetical order, as every other object is
/// rendered (`serde_json`'s maps are sorted).
#[derive(Debug, Serialize)]
struct ServerJson<'a> {
    backup_window: &'a Option<String>,
    created: String,
    datacenter: &'a RawValue,
    id: i64,
    image: Option<&'a RawValue>,
    included_traffic: u64,
    ingoing_traffic: u64,
    iso: Option<Value>,
    labels: &'a Labels,
    load_balancers: Vec<i64>,
    location: &'a RawValue,
    locked: bool,
    name: &'a str,
    outgoing_traffic: u64,
    placement_group: Option<Value>,
    primary_disk_size: u32,
    private_net: Vec<Value>,
    protection: Value,
    public_net: Value,
    rescue_enabled: bool,
    // TODO-fidelity: a server made with custom hardware by another dialect has no
    // type; Hetzner servers always have one.
    server_type: Option<&'a RawValue>,
    status: &'static str,
    volumes: Vec<i64>,
}

/// The server object of `v`; `catalog` must have been prepared with it.
fn render<'a>(v: &'a ServerView, catalog: &'a Catalog) -> ApiResult<ServerJson<'a>> {
    let s = &v.server;
    let dc = v.datacenter.datacenter.id.as_ref();
    Ok(ServerJson {
        backup_window: &s.backup_window,
        created: render::ts(s.created),
        datacenter: catalog.get(dc, Part::Own)?,
        id: s.id.0,
        image: v.image.as_deref().map(|i| catalog.get(i.id.as_ref(), Part::Own)).transpose()?,
        included_traffic: v.server_type.as_ref().map_or(0, |t| t.included_traffic),
        ingoing_traffic: s.traffic.ingoing,
        iso: v.iso.as_deref().map(crate::isos::render_iso),
        labels: &s.labels,
        load_balancers: v.load_balancers.iter().map(|i| i.0).collect(),
        location: catalog.get(dc, Part::Location)?,
        locked: v.holder.is_some(),
        name: &s.name,
        outgoing_traffic: s.traffic.outgoing,
        placement_group: v.placement_group.as_deref().map(crate::placement_groups::render),
        primary_disk_size: s.hardware.disks.first().map_or(0, |d| d.size_gb),
        private_net: v
            .private_net
            .iter()
            .map(|n| {
                json!({
                    "network": n.network.map(|n| n.0),
                    "ip": n.ip,
                    "alias_ips": n.alias_ips,
                    "mac_address": n.mac,
                })
            })
            .collect(),
        protection: json!({"delete": s.protection.delete, "rebuild": s.protection.rebuild}),
        public_net: json!({
            "ipv4": v.ipv4.as_deref().map(ipv4),
            "ipv6": v.ipv6.as_deref().map(ipv6),
            "floating_ips": v.floating_ips.iter().map(|i| i.0).collect::<Vec<_>>(),
            "firewalls": v.firewalls.iter().map(|f| json!({
                "id": f.firewall.0,
                "status": if f.applied { "applied" } else { "pending" },
            })).collect::<Vec<_>>(),
        }),
        rescue_enabled: s.rescue_enabled,
        server_type: v.server_type.as_deref().map(|t| catalog.get(t.id.as_ref(), Part::Own)).transpose()?,
        status: s.status.as_str(),
        volumes: v.volumes.iter().map(|i| i.0).collect(),
    })
}

/// One server's object as a JSON value, for answers that embed it beside other fields.
fn render_one(mut catalog: Catalog, v: &ServerView) -> ApiResult<Value> {
    catalog.prepare([v])?;
    serde_json::to_value(render(v, &catalog)?)
        .map_err(|e| ApiError::from(Error::Internal(format!("cannot render server {}: {e}", v.server.id))))
}

fn server_sort_key(s: &Server, field: &str) -> SortKey {
    match field {
        "name" => SortKey::Text(s.name.clone()),
        "created" => SortKey::Time(Some(s.created)),
        _ => SortKey::Int(s.id.0),
    }
}

fn server_id(raw: &str) -> ApiResult<ServerId> {
    path_id(raw, ResourceKind::Server).map(ServerId)
}

/// `GET /servers`: seed 002, "Servers" › "Get all Servers"; today also `label_selector`,
/// `status` (repeatable), `sort`, `page` and `per_page`.
async fn list_servers(State(cloud): State<Cloud>, Auth(p): Auth, listing: Listing) -> ApiResult<Response> {
    let status = listing
        .params
        .all("status")
        .into_iter()
        .map(|s| {
            ServerStatus::parse(s)
                .ok_or_else(|| ApiError::from(Error::invalid_field("status", format!("unknown status '{s}'"))))
        })
        .collect::<ApiResult<Vec<_>>>()?;
    let terms = listing.sort(SERVER_SORT)?;
    let filter = ServerFilter { common: listing.filter()?, status };
    let cmp = order_by(&terms, server_sort_key);
    let order: Option<&ServerOrder<'_>> = (!terms.is_empty()).then_some(&cmp);
    let (page, views) = cloud.server_page(&p, &filter, order, |total| listing.page(total))?;
    let mut catalog = Catalog::load(&cloud)?;
    catalog.prepare(&views)?;
    let rendered = views.iter().map(|v| render(v, &catalog)).collect::<ApiResult<Vec<_>>>()?;
    Ok(listing.respond_rendered("servers", rendered, &page, Map::new()))
}

/// `GET /servers/{id}`: seed 002, "Servers" › "Get a Server".
async fn get_server(State(cloud): State<Cloud>, Auth(p): Auth, id: IdPath) -> ApiResult<Response> {
    let view = cloud.server_get(&p, server_id(&id)?)?;
    Ok(Json(json!({"server": render_one(Catalog::load(&cloud)?, &view)?})).into_response())
}

/// `firewalls[]` of a create request.
#[derive(Debug, Deserialize)]
struct FirewallRef {
    firewall: i64,
}

/// `public_net` of a create request.
#[derive(Debug, Default, Deserialize)]
struct PublicNetRequest {
    enable_ipv4: Option<bool>,
    enable_ipv6: Option<bool>,
    /// A primary IP to use instead of a new one.
    ipv4: Option<i64>,
    ipv6: Option<i64>,
}

/// `create_server_request`.
#[derive(Debug, Deserialize)]
struct CreateServerRequest {
    name: String,
    server_type: IdOrName,
    image: IdOrName,
    location: Option<IdOrName>,
    datacenter: Option<IdOrName>,
    ssh_keys: Option<Vec<IdOrName>>,
    user_data: Option<String>,
    labels: Option<Labels>,
    start_after_create: Option<bool>,
    public_net: Option<PublicNetRequest>,
    /// Mounting attached volumes; meaningful only with `volumes`. Read so that a wrong
    /// type is refused like any other field's.
    #[serde(rename = "automount")]
    _automount: Option<bool>,
    volumes: Option<Vec<i64>>,
    networks: Option<Vec<i64>>,
    firewalls: Option<Vec<FirewallRef>>,
    placement_group: Option<i64>,
}

/// cloud-init user data is capped as Hetzner caps it.
pub(crate) const MAX_USER_DATA: usize = 32 * 1024;

/// Refuses user data over Hetzner's cap.
pub(crate) fn check_user_data(user_data: Option<&str>) -> ApiResult<()> {
    if user_data.is_some_and(|u| u.len() > MAX_USER_DATA) {
        return Err(Error::invalid_field("user_data", "is too long (at most 32 KiB)").into());
    }
    Ok(())
}

impl CreateServerRequest {
    fn into_core(self) -> ApiResult<ServerCreate> {
        check_user_data(self.user_data.as_deref())?;
        let net = self.public_net.unwrap_or_default();
        let mut req = ServerCreate::new(self.name, self.server_type.0, self.image.0);
        req.location = self.location.map(|r| r.0);
        req.datacenter = self.datacenter.map(|r| r.0);
        req.ssh_keys = self.ssh_keys.unwrap_or_default().into_iter().map(|r| r.0).collect();
        req.user_data = self.user_data;
        req.labels = self.labels.unwrap_or_default();
        req.start_after_create = self.start_after_create.unwrap_or(true);
        req.enable_ipv4 = net.enable_ipv4.unwrap_or(true);
        req.enable_ipv6 = net.enable_ipv6.unwrap_or(true);
        req.ipv4 = net.ipv4.map(IpId);
        req.ipv6 = net.ipv6.map(IpId);
        req.volumes = self.volumes.unwrap_or_default().into_iter().map(VolumeId).collect();
        req.networks = self.networks.unwrap_or_default().into_iter().map(NetworkId).collect();
        req.firewalls = self.firewalls.unwrap_or_default().into_iter().map(|f| FirewallId(f.firewall)).collect();
        req.placement_group = self.placement_group.map(PlacementGroupId);
        Ok(req)
    }
}

/// `POST /servers`: seed 002, "Servers" › "Create a Server".
async fn create_server(State(cloud): State<Cloud>, Auth(p): Auth, body: Bytes) -> ApiResult<Response> {
    let req = json_body::<CreateServerRequest>(&body)?.into_core()?;
    // Loaded first, so that nothing is created if the answer could not be rendered.
    let catalog = Catalog::load(&cloud)?;
    let created = cloud.server_create(&p, req).await?;
    let body = json!({
        "server": render_one(catalog, &created.server)?,
        "action": render::action(&cloud, &created.action),
        "next_actions": render::actions(&cloud, &created.next_actions),
        "root_password": created.root_password,
    });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `replace_server_request`.
#[derive(Debug, Deserialize)]
struct ReplaceServerRequest {
    name: Option<String>,
    labels: Option<Labels>,
}

/// `PUT /servers/{id}`: seed 002, "Servers" › "Change Name of a Server"; today also labels.
async fn replace_server(State(cloud): State<Cloud>, Auth(p): Auth, id: IdPath, body: Bytes) -> ApiResult<Response> {
    let id = server_id(&id)?;
    let req: ReplaceServerRequest = json_body(&body)?;
    let catalog = Catalog::load(&cloud)?;
    let view = cloud.server_update(&p, id, req.name, req.labels).await?;
    Ok(Json(json!({"server": render_one(catalog, &view)?})).into_response())
}

/// `DELETE /servers/{id}`: seed 002, "Servers" › "Delete a Server".
async fn delete_server(State(cloud): State<Cloud>, Auth(p): Auth, id: IdPath) -> ApiResult<Response> {
    Ok(actions::one(&cloud, &*cloud.server_delete(&p, server_id(&id)?).await?))
}

/// Hetzner answers at most this many samples per series, widening `step` to fit...
const MAX_SAMPLES: i64 = 500;
/// ...and, when no `step` is given, picks one that gives about this many.
const DEFAULT_SAMPLES: i64 = 100;

fn time_param(params: &Params, key: &str) -> ApiResult<DateTime<Utc>> {
    let raw = params.get(key).ok_or_else(|| Error::invalid_field(key, "is required"))?;
    // A `+` of an offset that the client did not percent-encode arrives as a space.
    let raw = raw.replace(' ', "+");
    DateTime::parse_from_rfc3339(&raw)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| Error::invalid_field(key, "must be an RFC 3339 timestamp").into())
}

/// The `type`s, `start`, `end` and `step` of a metrics request, with `kind` naming each
/// type. Hetzner's documented behaviour: about `default_samples` samples without
/// `step`, never more than 500 with one (the step is widened instead).
pub(crate) fn metrics_query(
    params: &Params,
    kind: impl Fn(&str) -> Option<MetricKind>,
    default_samples: i64,
) -> ApiResult<MetricsQuery> {
    let kinds = params
        .all("type")
        .into_iter()
        .map(|t| {
            kind(t).ok_or_else(|| ApiError::from(Error::invalid_field("type", format!("unknown metric type '{t}'"))))
        })
        .collect::<ApiResult<Vec<_>>>()?;
    if kinds.is_empty() {
        return Err(Error::invalid_field("type", "is required").into());
    }
    let start = time_param(params, "start")?;
    let end = time_param(params, "end")?;
    let asked = match params.get("step") {
        None => None,
        Some(raw) => Some(
            raw.parse::<u32>()
                .ok()
                .filter(|s| *s > 0)
                .ok_or_else(|| Error::invalid_field("step", "must be a positive integer"))?,
        ),
    };
    let span = (end - start).num_seconds().max(1);
    let floor = |samples: i64| u32::try_from((span + samples - 1) / samples).unwrap_or(u32::MAX).max(1);
    let step = asked.map_or_else(|| floor(default_samples), |s| s.max(floor(MAX_SAMPLES)));
    Ok(MetricsQuery { kinds, start, end, step })
}

/// The `metrics` answer: each series as `[timestamp, "value"]` pairs.
pub(crate) fn metrics_answer(query: &MetricsQuery, series: Vec<MetricSeries>) -> Response {
    let time_series: Map<String, Value> = series
        .into_iter()
        .map(|s| {
            let values: Vec<Value> = s.values.iter().map(|(t, v)| json!([t, v.to_string()])).collect();
            (s.name, json!({ "values": values }))
        })
        .collect();
    Json(json!({"metrics": {
        "start": render::ts(query.start),
        "end": render::ts(query.end),
        "step": query.step,
        "time_series": time_series,
    }}))
    .into_response()
}

/// `GET /servers/{id}/metrics`: seed 002, "Servers" › "Get Metrics for a Server".
async fn get_metrics_for_server(
    State(cloud): State<Cloud>,
    Auth(p): Auth,
    id: IdPath,
    params: Params,
) -> ApiResult<Response> {
    let id = server_id(&id)?;
    let kind = |t: &str| match t {
        "cpu" => Some(MetricKind::Cpu),
        "disk" => Some(MetricKind::Disk),
        "network" => Some(MetricKind::Network),
        _ => None,
    };
    let query = metrics_query(&params, kind, DEFAULT_SAMPLES)?;
    let series = cloud.server_metrics(&p, id, query.clone()).await?;
    Ok(metrics_answer(&query, series))
}

/// `GET /servers/{id}/actions`: seed 002, "Server Actions" › "Get all Actions for a Server".
async fn list_actions_for_server(
    State(cloud): State<Cloud>,
    Auth(p): Auth,
    id: IdPath,
    listing: Listing,
) -> ApiResult<Response> {
    actions::list_for(&cloud, &p, &listing, server_id(&id)?.as_ref())
}

/// `GET /servers/{id}/actions/{action_id}`: seed 002, "Server Actions" › "Get a specific
/// Action for a Server".
async fn get_action_for_server(
    State(cloud): State<Cloud>,
    Auth(p): Auth,
    Path((id, action_id)): IdActionPath,
) -> ApiResult<Response> {
    actions::get_for(&cloud, &p, server_id(&id)?.as_ref(), &action_id)
}

/// `GET /servers/actions`: today's `list_server_actions` (not in seed 002): the actions
/// of all the project's servers.
async fn list_server_actions(State(cloud): State<Cloud>, Auth(p): Auth, listing: Listing) -> ApiResult<Response> {
    actions::list_of_kind(&cloud, &p, &listing, ResourceKind::Server)
}

/// `GET /servers/actions/{id}`: today's `get_server_action` (not in seed 002).
async fn get_server_action(State(cloud): State<Cloud>, Auth(p): Auth, id: IdPath) -> ApiResult<Response> {
    actions::get_of_kind(&cloud, &p, &id, ResourceKind::Server)
}
