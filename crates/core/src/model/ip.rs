//! Public IPs: first-class resources that servers use. A server's own addresses are
//! `Primary` IPs; `Floating` IPs move between servers. Both come from the same pools.

use super::{DnsPtr, Protection};
use crate::ids::{IpId, LocationId, ProjectId, ServerId};
use crate::labels::Labels;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IpFamily {
    V4,
    V6,
}

impl IpFamily {
    pub fn as_str(self) -> &'static str {
        match self {
            IpFamily::V4 => "ipv4",
            IpFamily::V6 => "ipv6",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IpRole {
    /// A server's own address, created and (by default) deleted with it.
    Primary,
    /// An address that can be assigned to any server of the project in its location.
    Floating,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicIp {
    pub id: IpId,
    pub project: ProjectId,
    pub role: IpRole,
    pub family: IpFamily,
    /// An IPv4 address, or an IPv6 /64 network (`2001:db8:0:1::/64`).
    pub address: String,
    pub name: String,
    pub description: Option<String>,
    pub home_location: LocationId,
    pub assignee: Option<ServerId>,
    pub dns_ptr: Vec<DnsPtr>,
    pub protection: Protection,
    pub labels: Labels,
    pub blocked: bool,
    pub created: DateTime<Utc>,
}
