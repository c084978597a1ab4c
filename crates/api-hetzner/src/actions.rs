//! `/actions`: seed 002, "Actions"; shapes from `hetzner-cloud-openapi.json`
//! (`get_multiple_actions`, `get_action`).
//!
//! Today's API answers `GET /actions` only for given `id`s; seed 002 also lists every
//! action of the project with `status` and `sort`. Both are served: without `id` the list
//! is the whole project's, paged like every list.

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::list::Listing;
use crate::render;
use crate::request::{path_id, IdPath, Params, MAX_ID};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use stratus_core::ids::{ActionId, ResourceKind, ResourceRef};
use stratus_core::model::{Action, Principal};
use stratus_core::ops::actions::ActionFilter;
use stratus_core::{Cloud, Error};

pub fn routes() -> Router<Cloud> {
    Router::new().route("/actions", get(get_multiple_actions)).route("/actions/{id}", get(get_action))
}

/// The repeatable `id` query parameter (`id=1&id=2`, also `id=1,2`).
pub(crate) fn action_ids(params: &Params) -> ApiResult<Vec<ActionId>> {
    params
        .all("id")
        .into_iter()
        .map(|raw| match raw.parse::<i64>() {
            Ok(id) if (1..=MAX_ID).contains(&id) => Ok(ActionId(id)),
            _ => Err(ApiError::from(Error::invalid_field("id", format!("'{raw}' is not a valid ID")))),
        })
        .collect()
}

/// `GET /actions`: seed 002, "Actions" › "List all Actions"; today `get_multiple_actions`.
///
/// hcloud-go waits on `GET /actions?id=A&id=B` until every id it asked for shows up, so
/// each of the project's requested ids is in the answer (on the pages it asks for).
async fn get_multiple_actions(State(cloud): State<Cloud>, Auth(p): Auth, listing: Listing) -> ApiResult<Response> {
    let filter = ActionFilter { ids: action_ids(&listing.params)?, ..ActionFilter::default() };
    listing.actions(&cloud, &p, filter)
}

/// `GET /actions/{id}`: seed 002, "Actions" › "Get one Action".
async fn get_action(State(cloud): State<Cloud>, Auth(p): Auth, id: IdPath) -> ApiResult<Response> {
    Ok(one(&cloud, &*shown(cloud.action_get(&p, action_id(&id)?)?)?))
}

/// Actions of kinds this dialect has no command for are not shown, as if missing.
fn shown(action: std::sync::Arc<Action>) -> ApiResult<std::sync::Arc<Action>> {
    match crate::commands::command(&action.kind) {
        Some(_) => Ok(action),
        None => Err(Error::not_found(ResourceKind::Action, action.id).into()),
    }
}

fn action_id(raw: &str) -> ApiResult<ActionId> {
    Ok(ActionId(path_id(raw, ResourceKind::Action)?))
}

/// `{"action": ...}`, as every single-action answer.
pub(crate) fn one(cloud: &Cloud, action: &Action) -> Response {
    Json(json!({ "action": render::action(cloud, action) })).into_response()
}

/// `201 {"action": ..., <extra fields>}`, as every request that starts an action answers.
pub(crate) fn created(cloud: &Cloud, action: &Action, extra: Value) -> Response {
    let mut body = json!({"action": render::action(cloud, action)});
    if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
        body.extend(extra);
    }
    (StatusCode::CREATED, Json(body)).into_response()
}

/// `GET /{resources}/{id}/actions`: the actions of one resource the project sees.
pub(crate) fn list_for(cloud: &Cloud, p: &Principal, listing: &Listing, resource: ResourceRef) -> ApiResult<Response> {
    cloud.ensure_visible(p, resource)?;
    listing.actions(cloud, p, ActionFilter { resource: Some(resource), ..ActionFilter::default() })
}

/// `GET /{resources}/{id}/actions/{action_id}`.
pub(crate) fn get_for(cloud: &Cloud, p: &Principal, resource: ResourceRef, raw_action_id: &str) -> ApiResult<Response> {
    Ok(one(cloud, &*shown(cloud.action_get_for(p, action_id(raw_action_id)?, resource)?)?))
}

/// `GET /{resources}/actions` (today's API): the actions touching any resource of `kind`.
pub(crate) fn list_of_kind(cloud: &Cloud, p: &Principal, listing: &Listing, kind: ResourceKind) -> ApiResult<Response> {
    list_of_kind_where(cloud, p, listing, kind, |_| true)
}

/// [`list_of_kind`] of the actions `keep` accepts.
pub(crate) fn list_of_kind_where(
    cloud: &Cloud,
    p: &Principal,
    listing: &Listing,
    kind: ResourceKind,
    keep: impl Fn(&Action) -> bool,
) -> ApiResult<Response> {
    let filter =
        ActionFilter { ids: action_ids(&listing.params)?, resource_kind: Some(kind), ..ActionFilter::default() };
    listing.actions_where(cloud, p, filter, keep)
}

/// `GET /{resources}/actions/{id}` (today's API).
pub(crate) fn get_of_kind(
    cloud: &Cloud,
    p: &Principal,
    raw_action_id: &str,
    kind: ResourceKind,
) -> ApiResult<Response> {
    get_of_kind_where(cloud, p, raw_action_id, kind, |_| true)
}

/// [`get_of_kind`] of an action `keep` accepts; others are not found.
pub(crate) fn get_of_kind_where(
    cloud: &Cloud,
    p: &Principal,
    raw_action_id: &str,
    kind: ResourceKind,
    keep: impl Fn(&Action) -> bool,
) -> ApiResult<Response> {
    let id = action_id(raw_action_id)?;
    let action = shown(cloud.action_get_of_kind(p, id, kind)?)?;
    if !keep(&action) {
        return Err(Error::not_found(ResourceKind::Action, id).into());
    }
    Ok(one(cloud, &action))
}
