//! `/ssh_keys`: seed 002, "SSH Keys"; shapes from `hetzner-cloud-openapi.json`
//! (`ssh_key`, `create_ssh_key_request`, `replace_ssh_key_request`).

use crate::auth::Auth;
use crate::error::ApiResult;
use crate::list::{Listing, SortKey};
use crate::render::ts;
use crate::request::{json_body, path_id, IdPath};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;
use stratus_core::ids::{ResourceKind, SshKeyId};
use stratus_core::labels::Labels;
use stratus_core::model::SshKey;
use stratus_core::Cloud;

pub fn routes() -> Router<Cloud> {
    Router::new()
        .route("/ssh_keys", get(list_ssh_keys).post(create_ssh_key))
        .route("/ssh_keys/{id}", get(get_ssh_key).put(replace_ssh_key).delete(delete_ssh_key))
}

/// The Hetzner SSH key object.
fn render(key: &SshKey) -> Value {
    json!({
        "id": key.id.0,
        "name": key.name,
        "fingerprint": key.fingerprint,
        "public_key": key.public_key,
        "labels": key.labels,
        "created": ts(key.created),
    })
}

fn sort_key(key: &Arc<SshKey>, field: &str) -> SortKey {
    match field {
        "name" => SortKey::Text(key.name.clone()),
        _ => SortKey::Int(key.id.0),
    }
}

fn key_id(raw: &str) -> ApiResult<SshKeyId> {
    Ok(SshKeyId(path_id(raw, ResourceKind::SshKey)?))
}

/// `GET /ssh_keys`: seed 002, "SSH Keys" › "Get all SSH keys".
async fn list_ssh_keys(State(cloud): State<Cloud>, Auth(p): Auth, listing: Listing) -> ApiResult<Response> {
    let terms = listing.sort(&["id", "name"])?;
    let keys = cloud.ssh_key_list(&p, &listing.filter()?, listing.params.get("fingerprint"));
    listing.respond("ssh_keys", keys, &terms, sort_key, |k| render(k))
}

/// `GET /ssh_keys/{id}`: seed 002, "SSH Keys" › "Get an SSH key".
async fn get_ssh_key(State(cloud): State<Cloud>, Auth(p): Auth, id: IdPath) -> ApiResult<Json<Value>> {
    let key = cloud.ssh_key_get(&p, key_id(&id)?)?;
    Ok(Json(json!({"ssh_key": render(&key)})))
}

#[derive(Debug, Deserialize)]
struct CreateSshKey {
    name: String,
    public_key: String,
    labels: Option<Labels>,
}

/// `POST /ssh_keys`: seed 002, "SSH Keys" › "Create an SSH key".
async fn create_ssh_key(State(cloud): State<Cloud>, Auth(p): Auth, body: Bytes) -> ApiResult<Response> {
    let body: CreateSshKey = json_body(&body)?;
    let key = cloud.ssh_key_create(&p, body.name, body.public_key, body.labels.unwrap_or_default()).await?;
    Ok((StatusCode::CREATED, Json(json!({"ssh_key": render(&key)}))).into_response())
}

#[derive(Debug, Deserialize)]
struct ReplaceSshKey {
    name: Option<String>,
    labels: Option<Labels>,
}

/// `PUT /ssh_keys/{id}`: seed 002, "SSH Keys" › "Change the name of an SSH key"; today's
/// API also changes `labels`.
async fn replace_ssh_key(State(cloud): State<Cloud>, Auth(p): Auth, id: IdPath, body: Bytes) -> ApiResult<Json<Value>> {
    let id = key_id(&id)?;
    let body: ReplaceSshKey = json_body(&body)?;
    let key = cloud.ssh_key_update(&p, id, body.name, body.labels).await?;
    Ok(Json(json!({"ssh_key": render(&key)})))
}

/// `DELETE /ssh_keys/{id}`: seed 002, "SSH Keys" › "Delete an SSH key". Answers 204 with no body.
async fn delete_ssh_key(State(cloud): State<Cloud>, Auth(p): Auth, id: IdPath) -> ApiResult<StatusCode> {
    cloud.ssh_key_delete(&p, key_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
