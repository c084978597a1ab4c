//! `/firewalls` and their actions: today's API (not in seed 002); shapes from
//! `hetzner-cloud-openapi.json` (`list_firewalls`, `create_firewall`, `set_rules`,
//! `apply_to_resources`, `remove_from_resources`, ..., the `firewalls` tag).

use crate::actions;
use crate::auth::Auth;
use crate::error::ApiResult;
use crate::list::{Listing, SortKey};
use crate::render::{self, ts};
use crate::request::{json_body, path_id, IdActionPath, IdPath};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;
use stratus_core::ids::{FirewallId, ResourceKind, ServerId};
use stratus_core::labels::Labels;
use stratus_core::model::{Action, Direction, FirewallRule, FirewallTarget, Principal};
use stratus_core::ops::firewalls::{FirewallAction, FirewallCreate, FirewallUpdate};
use stratus_core::views::{AppliedTarget, FirewallView};
use stratus_core::{Cloud, Error};

pub fn routes() -> Router<Cloud> {
    Router::new()
        .route("/firewalls", get(list_firewalls).post(create_firewall))
        .route("/firewalls/actions", get(list_firewall_actions))
        .route("/firewalls/actions/{id}", get(get_firewall_action))
        .route("/firewalls/{id}", get(get_firewall).put(replace_firewall).delete(delete_firewall))
        .route("/firewalls/{id}/actions", get(list_actions_for_firewall))
        .route("/firewalls/{id}/actions/{action_id}", get(get_action_for_firewall))
        .route("/firewalls/{id}/actions/set_rules", post(set_rules))
        .route("/firewalls/{id}/actions/apply_to_resources", post(apply_to_resources))
        .route("/firewalls/{id}/actions/remove_from_resources", post(remove_from_resources))
}

/// A rule with all six keys, `null` where unset: the CLI's `delete-rule` compares rules
/// with deep equality and Ansible compares six-key dicts, so nothing may be left out.
fn render_rule(r: &FirewallRule) -> Value {
    json!({
        "direction": match r.direction { Direction::In => "in", Direction::Out => "out" },
        "protocol": r.protocol,
        "port": r.port,
        "source_ips": r.source_ips,
        "destination_ips": r.destination_ips,
        "description": r.description,
    })
}

fn server_ref(id: ServerId) -> Value {
    json!({"type": "server", "server": {"id": id.0}})
}

/// An `applied_to[]` entry as hcloud-go dereferences it: `server.id` for servers,
/// `label_selector.selector` and the `type` of every `applied_to_resources[]` item for
/// selectors.
fn render_target(t: &AppliedTarget) -> Value {
    match &t.target {
        FirewallTarget::Server(id) => server_ref(*id),
        FirewallTarget::LabelSelector(sel) => json!({
            "type": "label_selector",
            "label_selector": {"selector": sel},
            "applied_to_resources": t.selected.iter().map(|s| server_ref(*s)).collect::<Vec<_>>(),
        }),
    }
}

/// The Hetzner firewall object.
fn render(v: &FirewallView) -> Value {
    let f = &v.firewall;
    json!({
        "id": f.id.0,
        "name": f.name,
        "labels": f.labels,
        "created": ts(f.created),
        "rules": f.rules.iter().map(render_rule).collect::<Vec<_>>(),
        "applied_to": v.applied_to.iter().map(render_target).collect::<Vec<_>>(),
    })
}

fn sort_key(v: &FirewallView, field: &str) -> SortKey {
    match field {
        "name" => SortKey::Text(v.firewall.name.clone()),
        "created" => SortKey::Time(Some(v.firewall.created)),
        _ => SortKey::Int(v.firewall.id.0),
    }
}

fn firewall_id(raw: &str) -> ApiResult<FirewallId> {
    Ok(FirewallId(path_id(raw, ResourceKind::Firewall)?))
}

/// `201 {"actions": [...]}`, as the firewall actions answer (clients read `actions[0]`).
fn actions_created(cloud: &Cloud, list: &[Arc<Action>]) -> Response {
    (StatusCode::CREATED, Json(json!({"actions": render::actions(cloud, list)}))).into_response()
}

/// A rule as sent. Absent address lists are empty: hcloud-python leaves empty ones out.
#[derive(Debug, Deserialize)]
struct RuleBody {
    direction: Direction,
    protocol: String,
    port: Option<String>,
    source_ips: Option<Vec<String>>,
    destination_ips: Option<Vec<String>>,
    description: Option<String>,
}

impl From<RuleBody> for FirewallRule {
    fn from(b: RuleBody) -> Self {
        FirewallRule {
            direction: b.direction,
            protocol: b.protocol,
            port: b.port,
            source_ips: b.source_ips.unwrap_or_default(),
            destination_ips: b.destination_ips.unwrap_or_default(),
            description: b.description,
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

/// An `apply_to[]` / `remove_from[]` entry.
#[derive(Debug, Deserialize)]
struct TargetBody {
    #[serde(rename = "type")]
    kind: String,
    server: Option<IdBody>,
    label_selector: Option<SelectorBody>,
}

/// The targets of `field`, each with the part its `type` requires.
fn targets(field: &str, bodies: Vec<TargetBody>) -> ApiResult<Vec<FirewallTarget>> {
    bodies
        .into_iter()
        .enumerate()
        .map(|(i, b)| match (b.kind.as_str(), b.server, b.label_selector) {
            ("server", Some(s), _) => Ok(FirewallTarget::Server(ServerId(s.id))),
            ("label_selector", _, Some(l)) => Ok(FirewallTarget::LabelSelector(l.selector)),
            ("server", None, _) => Err(Error::invalid_field(&format!("{field}[{i}].server"), "is required").into()),
            ("label_selector", _, None) => {
                Err(Error::invalid_field(&format!("{field}[{i}].label_selector"), "is required").into())
            }
            (other, _, _) => Err(Error::invalid_field(
                &format!("{field}[{i}].type"),
                format!("unknown type '{other}': server or label_selector"),
            )
            .into()),
        })
        .collect()
}

/// `GET /firewalls`: `list_firewalls`.
async fn list_firewalls(State(cloud): State<Cloud>, Auth(p): Auth, listing: Listing) -> ApiResult<Response> {
    let terms = listing.sort(&["id", "name", "created"])?;
    let firewalls = cloud.firewall_list(&p, &listing.filter()?);
    listing.respond("firewalls", firewalls, &terms, sort_key, render)
}

/// `GET /firewalls/{id}`: `get_firewall`.
async fn get_firewall(State(cloud): State<Cloud>, Auth(p): Auth, id: IdPath) -> ApiResult<Json<Value>> {
    let fw = cloud.firewall_get(&p, firewall_id(&id)?)?;
    Ok(Json(json!({"firewall": render(&fw)})))
}

#[derive(Debug, Deserialize)]
struct CreateFirewall {
    name: String,
    labels: Option<Labels>,
    rules: Option<Vec<RuleBody>>,
    apply_to: Option<Vec<TargetBody>>,
}

/// `POST /firewalls`: `create_firewall`. `actions` lists the application to `apply_to`
/// (empty without targets).
async fn create_firewall(State(cloud): State<Cloud>, Auth(p): Auth, body: Bytes) -> ApiResult<Response> {
    let body: CreateFirewall = json_body(&body)?;
    let req = FirewallCreate {
        name: body.name,
        labels: body.labels.unwrap_or_default(),
        rules: body.rules.unwrap_or_default().into_iter().map(Into::into).collect(),
        apply_to: targets("apply_to", body.apply_to.unwrap_or_default())?,
    };
    let (fw, list) = cloud.firewall_create(&p, req).await?;
    let body = json!({"firewall": render(&fw), "actions": render::actions(&cloud, &list)});
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

#[derive(Debug, Deserialize)]
struct ReplaceFirewall {
    name: Option<String>,
    labels: Option<Labels>,
}

/// `PUT /firewalls/{id}`: `replace_firewall`.
async fn replace_firewall(
    State(cloud): State<Cloud>,
    Auth(p): Auth,
    id: IdPath,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let id = firewall_id(&id)?;
    let body: ReplaceFirewall = json_body(&body)?;
    let fw = cloud.firewall_update(&p, id, FirewallUpdate { name: body.name, labels: body.labels }).await?;
    Ok(Json(json!({"firewall": render(&fw)})))
}

/// `DELETE /firewalls/{id}`: `delete_firewall`; `resource_in_use` while applied.
async fn delete_firewall(State(cloud): State<Cloud>, Auth(p): Auth, id: IdPath) -> ApiResult<StatusCode> {
    cloud.firewall_delete(&p, firewall_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /firewalls/{id}/actions`: `list_actions_for_firewall`.
async fn list_actions_for_firewall(
    State(cloud): State<Cloud>,
    Auth(p): Auth,
    id: IdPath,
    listing: Listing,
) -> ApiResult<Response> {
    actions::list_for(&cloud, &p, &listing, firewall_id(&id)?.as_ref())
}

/// `GET /firewalls/{id}/actions/{action_id}`: `get_action_for_firewall`.
async fn get_action_for_firewall(State(cloud): State<Cloud>, Auth(p): Auth, ids: IdActionPath) -> ApiResult<Response> {
    let (id, action_id) = &*ids;
    actions::get_for(&cloud, &p, firewall_id(id)?.as_ref(), action_id)
}

/// `GET /firewalls/actions`: `list_firewall_actions`.
async fn list_firewall_actions(State(cloud): State<Cloud>, Auth(p): Auth, listing: Listing) -> ApiResult<Response> {
    actions::list_of_kind(&cloud, &p, &listing, ResourceKind::Firewall)
}

/// `GET /firewalls/actions/{id}`: `get_firewall_action`.
async fn get_firewall_action(State(cloud): State<Cloud>, Auth(p): Auth, id: IdPath) -> ApiResult<Response> {
    actions::get_of_kind(&cloud, &p, &id, ResourceKind::Firewall)
}

/// Runs a firewall action; its answer lists the one action it started.
async fn act(cloud: &Cloud, p: &Principal, id: &str, op: FirewallAction) -> ApiResult<Response> {
    let action = cloud.firewall_action(p, firewall_id(id)?, op).await?;
    Ok(actions_created(cloud, &[action]))
}

#[derive(Debug, Deserialize)]
struct SetRules {
    rules: Vec<RuleBody>,
}

/// `POST /firewalls/{id}/actions/set_rules`: `set_rules`. The firewall shows the new
/// rules as soon as this answers (Ansible re-reads it without waiting).
async fn set_rules(State(cloud): State<Cloud>, Auth(p): Auth, id: IdPath, body: Bytes) -> ApiResult<Response> {
    let body: SetRules = json_body(&body)?;
    act(&cloud, &p, &id, FirewallAction::SetRules(body.rules.into_iter().map(Into::into).collect())).await
}

#[derive(Debug, Deserialize)]
struct ApplyTo {
    apply_to: Vec<TargetBody>,
}

/// `POST /firewalls/{id}/actions/apply_to_resources`: `apply_to_resources`.
async fn apply_to_resources(State(cloud): State<Cloud>, Auth(p): Auth, id: IdPath, body: Bytes) -> ApiResult<Response> {
    let body: ApplyTo = json_body(&body)?;
    act(&cloud, &p, &id, FirewallAction::ApplyTo(targets("apply_to", body.apply_to)?)).await
}

#[derive(Debug, Deserialize)]
struct RemoveFrom {
    remove_from: Vec<TargetBody>,
}

/// `POST /firewalls/{id}/actions/remove_from_resources`: `remove_from_resources`.
async fn remove_from_resources(
    State(cloud): State<Cloud>,
    Auth(p): Auth,
    id: IdPath,
    body: Bytes,
) -> ApiResult<Response> {
    let body: RemoveFrom = json_body(&body)?;
    act(&cloud, &p, &id, FirewallAction::RemoveFrom(targets("remove_from", body.remove_from)?)).await
}
