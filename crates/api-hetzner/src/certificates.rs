//! `/certificates` and their actions: today's API (not in seed 002); shapes from
//! `hetzner-cloud-openapi.json` (`certificate`, `create_certificate_request`, ...) and what
//! the clients read (`clients-hetzner.md`).

use crate::actions;
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::list::{order_by, Listing, SortKey};
use crate::render::{ts, ts_opt};
use crate::request::{json_body, path_id, IdActionPath, IdPath};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use stratus_core::ids::{CertificateId, ResourceKind};
use stratus_core::labels::Labels;
use stratus_core::model::{Certificate, CertificateKind, IssuanceStatus, RenewalStatus};
use stratus_core::ops::certificates::*;
use stratus_core::views::CertificateView;
use stratus_core::{Cloud, Error};

pub fn routes() -> Router<Cloud> {
    Router::new()
        .route("/certificates", get(list_certificates).post(create_certificate))
        .route("/certificates/actions", get(list_certificate_actions))
        .route("/certificates/actions/{id}", get(get_certificate_action))
        .route("/certificates/{id}", get(get_certificate).put(replace_certificate).delete(delete_certificate))
        .route("/certificates/{id}/actions", get(list_actions_for_certificate))
        .route("/certificates/{id}/actions/{action_id}", get(get_action_for_certificate))
        .route("/certificates/{id}/actions/retry", post(retry_issuance_or_renewal))
}

fn issuance(s: IssuanceStatus) -> &'static str {
    match s {
        IssuanceStatus::Pending => "pending",
        IssuanceStatus::Completed => "completed",
        IssuanceStatus::Failed => "failed",
    }
}

fn renewal(s: RenewalStatus) -> &'static str {
    match s {
        RenewalStatus::Scheduled => "scheduled",
        RenewalStatus::Pending => "pending",
        RenewalStatus::Failed => "failed",
        RenewalStatus::Unavailable => "unavailable",
    }
}

/// The Hetzner certificate object. The private key is never shown. A managed
/// certificate's `status` has `issuance` and `renewal`, and `error` whenever one of them
/// failed (the hcloud CLI dereferences it then).
fn render(v: &CertificateView) -> Value {
    let c = &v.certificate;
    json!({
        "id": c.id.0,
        "name": c.name,
        "labels": c.labels,
        "type": c.kind.as_str(),
        "certificate": c.certificate,
        "created": ts(c.created),
        "not_valid_before": ts_opt(c.not_valid_before),
        "not_valid_after": ts_opt(c.not_valid_after),
        "domain_names": c.domain_names,
        "fingerprint": c.fingerprint,
        "status": c.status.as_ref().map(|s| json!({
            "issuance": issuance(s.issuance),
            "renewal": renewal(s.renewal),
            "error": s.error.as_ref().map(|e| json!({"code": e.code, "message": e.message})),
        })),
        "used_by": v.used_by.iter().map(|lb| json!({"id": lb.0, "type": "load_balancer"})).collect::<Vec<_>>(),
    })
}

fn sort_key(c: &Certificate, field: &str) -> SortKey {
    match field {
        "name" => SortKey::Text(c.name.clone()),
        "created" => SortKey::Time(Some(c.created)),
        _ => SortKey::Int(c.id.0),
    }
}

fn certificate_id(raw: &str) -> ApiResult<CertificateId> {
    Ok(CertificateId(path_id(raw, ResourceKind::Certificate)?))
}

fn kind(raw: &str, field: &str) -> ApiResult<CertificateKind> {
    match raw {
        "uploaded" => Ok(CertificateKind::Uploaded),
        "managed" => Ok(CertificateKind::Managed),
        other => Err(Error::invalid_field(field, format!("unknown type '{other}': uploaded or managed")).into()),
    }
}

/// `GET /certificates`: `list_certificates` (`name`, `label_selector`, `type`, `sort`, pages).
async fn list_certificates(State(cloud): State<Cloud>, Auth(p): Auth, listing: Listing) -> ApiResult<Response> {
    let terms = listing.sort(&["id", "name", "created"])?;
    let kinds = listing.params.all("type").into_iter().map(|t| kind(t, "type")).collect::<ApiResult<Vec<_>>>()?;
    let filter = CertificateFilter { common: listing.filter()?, kinds };
    let cmp = order_by(&terms, sort_key);
    let order: Option<&CertificateOrder<'_>> = (!terms.is_empty()).then_some(&cmp);
    let (page, views) = cloud.certificate_page(&p, &filter, order, |total| listing.page(total))?;
    Ok(listing.respond_rendered("certificates", views.iter().map(render).collect(), &page, Map::new()))
}

/// `GET /certificates/{id}`: `get_certificate`.
async fn get_certificate(State(cloud): State<Cloud>, Auth(p): Auth, id: IdPath) -> ApiResult<Json<Value>> {
    Ok(Json(json!({"certificate": render(&cloud.certificate_get(&p, certificate_id(&id)?)?)})))
}

/// `create_certificate_request`.
#[derive(Debug, Deserialize)]
struct CreateCertificateRequest {
    name: String,
    #[serde(rename = "type")]
    kind: Option<String>,
    certificate: Option<String>,
    private_key: Option<String>,
    domain_names: Option<Vec<String>>,
    labels: Option<Labels>,
}

/// `POST /certificates`: `create_certificate`. An uploaded certificate is answered with
/// `action: null`; a managed one with its issuance.
async fn create_certificate(State(cloud): State<Cloud>, Auth(p): Auth, body: Bytes) -> ApiResult<Response> {
    let body: CreateCertificateRequest = json_body(&body)?;
    let required = |v: Option<String>, field: &str| {
        v.ok_or_else(|| ApiError::from(Error::invalid_field(field, "is required for uploaded certificates")))
    };
    let source = match kind(body.kind.as_deref().unwrap_or("uploaded"), "type")? {
        CertificateKind::Uploaded => CertificateSource::Uploaded {
            certificate: required(body.certificate, "certificate")?,
            private_key: required(body.private_key, "private_key")?,
        },
        CertificateKind::Managed => CertificateSource::Managed {
            domain_names: body.domain_names.ok_or_else(|| {
                ApiError::from(Error::invalid_field("domain_names", "is required for managed certificates"))
            })?,
        },
    };
    let req = CertificateCreateRequest { name: body.name, source, labels: body.labels.unwrap_or_default() };
    let (view, action) = cloud.certificate_create(&p, req).await?;
    let action = action.as_deref().map(|a| crate::render::action(&cloud, a));
    Ok((StatusCode::CREATED, Json(json!({"certificate": render(&view), "action": action}))).into_response())
}

/// `replace_certificate_request`.
#[derive(Debug, Deserialize)]
struct ReplaceCertificateRequest {
    name: Option<String>,
    labels: Option<Labels>,
}

/// `PUT /certificates/{id}`: `replace_certificate` (name and labels).
async fn replace_certificate(
    State(cloud): State<Cloud>,
    Auth(p): Auth,
    id: IdPath,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let id = certificate_id(&id)?;
    let body: ReplaceCertificateRequest = json_body(&body)?;
    let view = cloud.certificate_update(&p, id, body.name, body.labels).await?;
    Ok(Json(json!({"certificate": render(&view)})))
}

/// `DELETE /certificates/{id}`: `delete_certificate`; refused while a load balancer uses it.
async fn delete_certificate(State(cloud): State<Cloud>, Auth(p): Auth, id: IdPath) -> ApiResult<StatusCode> {
    cloud.certificate_delete(&p, certificate_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /certificates/{id}/actions/retry`: `retry_issuance_or_renewal`.
async fn retry_issuance_or_renewal(State(cloud): State<Cloud>, Auth(p): Auth, id: IdPath) -> ApiResult<Response> {
    let action = cloud.certificate_retry(&p, certificate_id(&id)?).await?;
    Ok(actions::created(&cloud, &action, Value::Null))
}

/// `GET /certificates/{id}/actions`: `list_actions_for_certificate`.
async fn list_actions_for_certificate(
    State(cloud): State<Cloud>,
    Auth(p): Auth,
    id: IdPath,
    listing: Listing,
) -> ApiResult<Response> {
    actions::list_for(&cloud, &p, &listing, certificate_id(&id)?.as_ref())
}

/// `GET /certificates/{id}/actions/{action_id}`: `get_action_for_certificate`.
async fn get_action_for_certificate(
    State(cloud): State<Cloud>,
    Auth(p): Auth,
    ids: IdActionPath,
) -> ApiResult<Response> {
    let (id, action_id) = &*ids;
    actions::get_for(&cloud, &p, certificate_id(id)?.as_ref(), action_id)
}

/// `GET /certificates/actions`: `list_certificate_actions`.
async fn list_certificate_actions(State(cloud): State<Cloud>, Auth(p): Auth, listing: Listing) -> ApiResult<Response> {
    actions::list_of_kind(&cloud, &p, &listing, ResourceKind::Certificate)
}

/// `GET /certificates/actions/{id}`: `get_certificate_action`.
async fn get_certificate_action(State(cloud): State<Cloud>, Auth(p): Auth, id: IdPath) -> ApiResult<Response> {
    actions::get_of_kind(&cloud, &p, &id, ResourceKind::Certificate)
}
