//! The Hetzner Cloud API v1 dialect, served under `/hetzner/v1`: a thin translation of
//! Hetzner's paths, bearer auth, envelopes, errors, pagination and field names onto
//! [`stratus_core::Cloud`]. Business rules live in core; this crate only translates.
//!
//! Each resource module builds its own router; the operations follow
//! `shared/reference/seeds/002_2a9dafacc14e787b.txt`, shaped like today's API
//! (`shared/reference/hetzner-cloud-openapi.json`). Handlers are named after the spec's
//! `operationId`s.
//!
//! # Where this dialect differs from the document
//! The document is followed unless a client Stratus serves needs otherwise (users run
//! the clients, not the document; `shared/reference/clients-hetzner.md` says what each
//! reads). Every such difference is listed here:
//! - `server_types[].locations[]` carry `available` and `recommended`: hcloud-python 2.27
//!   builds `ServerTypeLocation` with both as required arguments.
//! - `GET /actions` without `id` lists the project's actions (seed 002's list): hcloud-go
//!   calls it with an empty id list and must get a list, not an error.
//! - `location`, `datacenter` and types are accepted as ids as well as names, and a name
//!   of digits that names nothing as the id it spells: hcloud-go sends ids as strings.
//! - `POST /floating_ips` leaves `action` out (rather than `null`) when it starts none:
//!   the document's `action` is a non-nullable object.
//! - `DELETE /load_balancers/{id}` answers 200 with the deleting action, not 204:
//!   hcloud-python 2.27 reads `action` from the body.
//! - Load balancer services: `http.timeout_idle` (hcloud-python 2.27 indexes it) and a
//!   health check that is never `null` (hcloud-go dereferences it); a request's `null`
//!   fields mean absent (Ansible sends every key).
//! - `GET /networks/{id}/members` exists (hcloud-python 2.27 calls it; the document
//!   lacks it); a member has exactly the six keys the client parses.
//! - Primary IPs carry the deprecated `datacenter` in full next to `location` (the
//!   hcloud-python 2.8 that Ansible vendors and hcloud-go read it), and take it in
//!   requests; `assignee_type` may be left out without an assignee.
//! - A network's `server` (the deprecated name of `cloud`) in a route or subnet is kept
//!   as sent: Ansible compares it.
//! - Firewall rules answer every key (empty lists for absent address lists): Ansible
//!   compares whole rule dicts.
//! - Booleans in queries and bodies are accepted in any case (`True` from Python
//!   clients).
//!
//! What Stratus decides where the document is silent: a subnet's `gateway` is its
//! network's first host address; a network change waits behind one still running
//! rather than answering `conflict`; a firewall change answers 409 `conflict` while one
//! is running; CIDRs are kept as sent; a server label change that moves it into or out
//! of a firewall's label selector starts `apply_firewalls`/`remove_firewalls`.

pub mod auth;
pub mod commands;
pub mod error;
pub mod list;
pub mod render;
pub mod request;

/// `/actions`.
mod actions;
/// `/certificates` and their actions.
mod certificates;
/// `/datacenters`.
mod datacenters;
/// `/firewalls` and their actions.
mod firewalls;
/// `/floating_ips` and their actions.
mod floating_ips;
/// `/images` and their actions.
mod images;
/// `/isos`.
mod isos;
/// `/load_balancer_types`.
mod load_balancer_types;
/// `/load_balancers`, their actions and metrics.
mod load_balancers;
/// `/locations`.
mod locations;
/// `/networks`, their members and actions.
mod networks;
/// `/placement_groups`.
mod placement_groups;
/// `/pricing`.
mod pricing;
/// `/primary_ips` and their actions.
mod primary_ips;
/// `/servers/{id}/actions/*`.
mod server_actions;
/// `/server_types`.
mod server_types;
/// `/servers`, their metrics and action lists.
mod servers;
/// `/ssh_keys`.
mod ssh_keys;
/// `/volumes` and their actions.
mod volumes;

use axum::response::IntoResponse;
use axum::Router;
use stratus_core::Cloud;

/// The path prefix this dialect is served under.
pub const PREFIX: &str = "/hetzner/v1";

/// The largest request body accepted (axum's default, named here because refusals of
/// larger bodies say it).
pub const MAX_BODY: usize = 2 << 20;

/// Every Hetzner route, authenticated and metered, to be nested under [`PREFIX`].
pub fn router(cloud: Cloud) -> Router {
    Router::new()
        .merge(actions::routes())
        .merge(servers::routes())
        .merge(server_actions::routes())
        .merge(floating_ips::routes())
        .merge(ssh_keys::routes())
        .merge(images::routes())
        .merge(server_types::routes())
        .merge(load_balancer_types::routes())
        .merge(load_balancers::routes())
        .merge(certificates::routes())
        .merge(locations::routes())
        .merge(datacenters::routes())
        .merge(isos::routes())
        .merge(pricing::routes())
        .merge(volumes::routes())
        .merge(placement_groups::routes())
        .merge(primary_ips::routes())
        .merge(networks::routes())
        .merge(firewalls::routes())
        .fallback(unknown_route)
        .method_not_allowed_fallback(wrong_method)
        .layer(axum::middleware::from_fn(auth::envelope))
        .layer(axum::middleware::from_fn_with_state(cloud.clone(), auth::layer))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .layer(error::catch_panics())
        .with_state(cloud)
}

/// A known path with a method it does not take, also in the API's error format.
async fn wrong_method(method: axum::http::Method, uri: axum::http::Uri) -> impl IntoResponse {
    error::ApiError::MethodNotAllowed(format!("{method} {}", uri.path()))
}

/// Paths the API does not have are answered in the API's own error format.
async fn unknown_route(uri: axum::http::Uri) -> impl IntoResponse {
    error::ApiError::NoRoute(uri.path().to_string())
}
