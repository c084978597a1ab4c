//! The resources. One module per resource; every dialect renders these, none owns them.

pub mod action;
pub mod catalog;
pub mod certificate;
pub mod fault;
pub mod firewall;
pub mod image;
pub mod ip;
pub mod load_balancer;
pub mod network;
pub mod nic;
pub mod placement_group;
pub mod principal;
pub mod server;
pub mod ssh_key;
pub mod volume;

pub use action::*;
pub use catalog::*;
pub use certificate::*;
pub use fault::*;
pub use firewall::*;
pub use image::*;
pub use ip::*;
pub use load_balancer::*;
pub use network::*;
pub use nic::*;
pub use placement_group::*;
pub use principal::*;
pub use server::*;
pub use ssh_key::*;
pub use volume::*;

use serde::{Deserialize, Serialize};

/// Per-operation protection flags: `delete` for every resource that has protection,
/// `rebuild` for servers. Whether the two must agree is a dialect's rule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Protection {
    pub delete: bool,
    pub rebuild: bool,
}

/// Reverse DNS: one PTR per address (IPv4 or any IPv6 address of a /64).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsPtr {
    pub ip: String,
    pub dns_ptr: String,
}

/// Current time, truncated to whole seconds as providers show it.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::{SubsecRound, Utc};
    Utc::now().trunc_subsecs(0)
}
