//! The operations dialects call, one module per resource. Every operation takes the
//! caller's [`Principal`] and sees only that project: another project's resource is
//! answered exactly like a missing one.

pub mod actions;
mod addresses;
pub mod admin;
pub mod auth;
pub mod backups;
pub mod catalog;
pub mod floating_ips;
pub mod images;
pub mod server_actions;
pub mod servers;
pub mod ssh_keys;

use crate::error::{Error, Result};
use crate::labels::{Labels, Selector};
use crate::model::Access;
use crate::model::Principal;

/// A reference by id or by name, as Hetzner accepts for types, images, locations and keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ref {
    Id(i64),
    Name(String),
}

impl Ref {
    /// Finds the item this names: by id, or by name (and, for a name of digits that
    /// matches no name, by that number as id, since some clients send ids as strings).
    pub(crate) fn find<'a, T: 'a>(
        &self,
        items: impl Iterator<Item = &'a T> + Clone,
        id: impl Fn(&T) -> i64,
        name: impl Fn(&T) -> Option<&str>,
    ) -> Option<&'a T> {
        match self {
            Ref::Id(want) => items.clone().find(|t| id(t) == *want),
            Ref::Name(want) => items.clone().find(|t| name(t) == Some(want.as_str())).or_else(|| {
                let want: i64 = want.parse().ok()?;
                items.clone().find(|t| id(t) == want)
            }),
        }
    }
}

impl std::fmt::Display for Ref {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ref::Id(id) => id.fmt(f),
            Ref::Name(name) => name.fmt(f),
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

/// Enforces `Config::resource_limit` for a kind of which the project has `count`.
pub(crate) fn check_limit(limit: u32, count: usize, what: &str) -> Result<()> {
    if limit > 0 && count >= limit as usize {
        return Err(Error::ResourceLimit { message: format!("{what} limit of {limit} reached") });
    }
    Ok(())
}
