//! Firewalls: ordered allow rules, applied to servers directly or through a label
//! selector (Hetzner firewalls, IONOS firewall policies).

use crate::ids::{FirewallId, ProjectId, ServerId};
use crate::labels::Labels;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
pub use stratus_compute::Direction;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirewallRule {
    pub direction: Direction,
    /// `tcp`, `udp`, `icmp`, `esp` or `gre`.
    pub protocol: String,
    /// A port or range (`80`, `1000-2000`, `any`) for tcp and udp.
    pub port: Option<String>,
    /// CIDRs, exactly as given (clients compare them as strings).
    pub source_ips: Vec<String>,
    pub destination_ips: Vec<String>,
    pub description: Option<String>,
}

/// What a firewall is applied to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FirewallTarget {
    Server(ServerId),
    /// Every server of the project whose labels match, now and later.
    LabelSelector(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Firewall {
    pub id: FirewallId,
    pub project: ProjectId,
    pub name: String,
    pub rules: Vec<FirewallRule>,
    pub applied_to: Vec<FirewallTarget>,
    pub labels: Labels,
    pub created: DateTime<Utc>,
}
