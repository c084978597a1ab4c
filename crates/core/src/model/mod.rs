//! The resources. One module per resource; every dialect renders these, none owns them.

pub mod action;
pub mod catalog;
pub mod fault;
pub mod image;
pub mod ip;
pub mod principal;
pub mod server;
pub mod ssh_key;

pub use action::*;
pub use catalog::*;
pub use fault::*;
pub use image::*;
pub use ip::*;
pub use principal::*;
pub use server::*;
pub use ssh_key::*;

use serde::{Deserialize, Serialize};

/// Per-operation protection flags. Hetzner shows `delete` and `rebuild` for servers,
/// `delete` for images and IPs.
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
