//! Private networks: an IPv4 range, subnets inside it and static routes (Hetzner
//! networks, IONOS private networks). Servers and load balancers join through
//! interfaces ([`super::Nic`]).

use super::Protection;
use crate::ids::{NetworkId, ProjectId};
use crate::labels::Labels;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubnetKind {
    /// Cloud servers and load balancers.
    Cloud,
    /// The deprecated name of `Cloud` that some clients still send.
    Server,
    /// Connects a dedicated server's vSwitch.
    Vswitch,
}

impl SubnetKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SubnetKind::Cloud => "cloud",
            SubnetKind::Server => "server",
            SubnetKind::Vswitch => "vswitch",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subnet {
    pub kind: SubnetKind,
    /// CIDR inside the network's range, as given (`10.0.1.0/24`).
    pub ip_range: String,
    /// The network zone its servers live in (`eu-central`).
    pub network_zone: String,
    /// The subnet's gateway: its first host address.
    pub gateway: String,
    pub vswitch_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    /// CIDR, as given.
    pub destination: String,
    /// An address inside the network.
    pub gateway: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Network {
    pub id: NetworkId,
    pub project: ProjectId,
    pub name: String,
    /// CIDR, as given (`10.0.0.0/16`).
    pub ip_range: String,
    pub subnets: Vec<Subnet>,
    pub routes: Vec<Route>,
    pub expose_routes_to_vswitch: bool,
    pub protection: Protection,
    pub labels: Labels,
    pub created: DateTime<Utc>,
}
