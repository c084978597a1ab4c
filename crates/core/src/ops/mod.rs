//! The operations dialects call, one module per resource. Every operation takes the
//! caller's [`Principal`] and sees only that project: another project's resource is
//! answered exactly like a missing one.

pub mod actions;
mod addresses;
pub mod admin;
pub mod auth;
pub mod backups;
pub mod catalog;
pub mod certificates;
pub mod firewalls;
pub mod identities;
pub mod images;
pub mod ips;
pub mod load_balancers;
pub mod networks;
pub mod placement_groups;
mod rescue_expiry;
pub mod schedule;
pub mod server_actions;
pub mod servers;
pub mod sessions;
pub mod ssh_keys;
pub mod volumes;

use crate::data::{Exact, Row};
use crate::error::{Error, Result};
use crate::labels::{Labels, Selector};
use crate::model::Access;
use crate::model::Principal;
use crate::page::Page;
use std::cmp::Ordering;
use std::sync::Arc;

/// How a dialect orders a list's rows (by its own sort fields).
pub type Order<'a, T> = dyn Fn(&T, &T) -> Ordering + 'a;

/// One page of a list, the way every paged list makes it: from the indexes' exact answer
/// when there is one (and no `order`), else from `matching` (the rows that pass the
/// filter, in id order) sorted by `order`. `page` gets the total and says where the page
/// lies; only the page's rows become views.
pub(crate) fn paged<'a, T: Row, V, E>(
    exact: Option<Exact<'a, T>>,
    matching: impl FnOnce() -> Vec<&'a Arc<T>>,
    order: Option<&Order<'_, T>>,
    page: impl FnOnce(usize) -> std::result::Result<Page, E>,
    view: impl FnMut(&'a Arc<T>) -> Option<V>,
) -> std::result::Result<(Page, Vec<V>), E> {
    if let (Some(exact), None) = (exact, order) {
        let page = page(exact.len())?;
        return Ok((page, exact.page(page.range()).into_iter().filter_map(view).collect()));
    }
    let mut rows = matching();
    if let Some(order) = order {
        rows.sort_by(|a, b| order(a, b));
    }
    let page = page(rows.len())?;
    Ok((page, page.slice(&rows).iter().copied().filter_map(view).collect()))
}

/// A reference to a resource by id or by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ref {
    Id(i64),
    Name(String),
    /// A name, or failing that the id its digits spell: for dialects whose clients send
    /// ids as strings (Hetzner's Go client).
    NameOrId(String),
}

impl std::fmt::Display for Ref {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ref::Id(id) => id.fmt(f),
            Ref::Name(name) | Ref::NameOrId(name) => name.fmt(f),
        }
    }
}

/// The filters every list supports.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Exact name.
    pub name: Option<String>,
    pub label_selector: Option<Selector>,
}

impl ListFilter {
    pub(crate) fn matches(&self, name: Option<&str>, labels: &Labels) -> bool {
        self.name.as_deref().is_none_or(|want| name == Some(want))
            && self.label_selector.as_ref().is_none_or(|s| s.matches(labels))
    }
}

/// Refuses writes by read-only credentials.
pub(crate) fn ensure_write(p: &Principal) -> Result<()> {
    match p.access {
        Access::ReadWrite => Ok(()),
        Access::Read => Err(Error::Forbidden { message: "insufficient permissions: read-only token".into() }),
    }
}

/// Validates an optional new labels map.
pub(crate) fn check_labels(labels: Option<&Labels>) -> Result<()> {
    labels.map_or(Ok(()), crate::labels::validate)
}

/// A random secret of `len` letters and digits, for root passwords and tokens.
pub(crate) fn random_secret(len: usize) -> String {
    use rand::{distributions::Alphanumeric, Rng};
    rand::thread_rng().sample_iter(&Alphanumeric).take(len).map(char::from).collect()
}

/// Enforces `Config::resource_limit` for `kind`, of which the project has `count`.
pub(crate) fn check_limit(limit: u32, count: usize, kind: crate::ids::ResourceKind) -> Result<()> {
    if limit > 0 && count >= limit as usize {
        return Err(Error::ResourceLimit { kind, limit });
    }
    Ok(())
}

/// Fails with `protected` if `protection` forbids `operation` on `resource`.
pub(crate) fn ensure_unprotected(
    protection: crate::model::Protection,
    resource: crate::ids::ResourceRef,
    operation: &'static str,
) -> Result<()> {
    let protected = match operation {
        "rebuild" => protection.rebuild,
        _ => protection.delete,
    };
    if protected {
        return Err(Error::Protected { resource, operation });
    }
    Ok(())
}

/// Fails with a `Busy` refusal if an action holds one of `resources`: for changes the
/// provider answers with a retryable conflict while another runs, not `locked`.
pub(crate) fn ensure_free(state: &crate::data::State, resources: &[crate::ids::ResourceRef]) -> Result<()> {
    match resources.iter().find(|r| state.lock_holder(**r).is_some()) {
        Some(r) => Err(Error::refused(
            crate::Refusal::Busy,
            format!("{} {} is busy with another action; try again", r.kind.as_str(), r.id),
        )),
        None => Ok(()),
    }
}

/// Refuses a value of `field` that is not an IPv4 address, before it is looked for in a
/// network, so that the message says what is wrong with it.
pub(crate) fn check_ipv4(field: &str, value: &str) -> Result<()> {
    match value.parse::<std::net::Ipv4Addr>() {
        Ok(_) => Ok(()),
        Err(_) => Err(Error::invalid_field(field, format!("'{value}' is not an IPv4 address"))),
    }
}

/// Validates a resource name: 1-128 characters, not blank.
pub(crate) fn validate_name(field: &str, name: &str) -> Result<()> {
    if name.trim().is_empty() || name.chars().count() > 128 {
        return Err(Error::invalid_field(field, "must be 1 to 128 characters"));
    }
    Ok(())
}
