//! Public IPs: first-class resources that servers and load balancers use. A server's
//! own addresses are `Primary` IPs (which may outlive it, unassigned); `Floating` IPs
//! move between servers; `Service` IPs belong to a load balancer. All come from the
//! same pools.

use super::{DnsPtr, Protection};
use crate::ids::{IpId, LoadBalancerId, LocationId, ProjectId, ResourceRef, ServerId};
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IpRole {
    /// A server's own address: assigned to at most one server, deleted with it when
    /// `auto_delete` is set, else kept unassigned.
    Primary,
    /// An address that can be assigned to any server of the project in its location.
    Floating,
    /// The address of a load balancer, created and deleted with it.
    Service,
}

/// What an address (or an interface) is attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Attachee {
    Server(ServerId),
    LoadBalancer(LoadBalancerId),
}

impl Attachee {
    pub fn as_ref(self) -> ResourceRef {
        match self {
            Attachee::Server(s) => s.as_ref(),
            Attachee::LoadBalancer(l) => l.as_ref(),
        }
    }

    pub fn server(self) -> Option<ServerId> {
        match self {
            Attachee::Server(s) => Some(s),
            Attachee::LoadBalancer(_) => None,
        }
    }
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
    pub assignee: Option<Attachee>,
    /// Primary IPs: deleted together with the server they are assigned to.
    #[serde(default)]
    pub auto_delete: bool,
    pub dns_ptr: Vec<DnsPtr>,
    pub protection: Protection,
    pub labels: Labels,
    pub blocked: bool,
    pub created: DateTime<Utc>,
}

impl PublicIp {
    /// The server it is assigned to, if any.
    pub fn server(&self) -> Option<ServerId> {
        self.assignee.and_then(Attachee::server)
    }
}
