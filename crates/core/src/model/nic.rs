//! Network interfaces: how a server or load balancer is attached to the public network
//! or to a private one. An interface is its own resource so that attaching and
//! detaching it is an action on it, and drivers get a stable MAC address.

use super::Attachee;
use crate::ids::{NetworkId, NicId, ProjectId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Nic {
    pub id: NicId,
    pub project: ProjectId,
    pub owner: Attachee,
    /// `None`: the public interface, which carries the owner's public IPs.
    pub network: Option<NetworkId>,
    /// The private address (private interfaces only).
    pub ip: Option<String>,
    /// More private addresses routed to the interface.
    pub alias_ips: Vec<String>,
    pub mac: String,
    pub created: DateTime<Utc>,
}

impl Nic {
    /// A locally administered unicast MAC derived from the interface id, so it is stable
    /// and unique without a table.
    pub fn mac_for(id: NicId) -> String {
        let b = id.0.to_be_bytes();
        format!("86:00:{:02x}:{:02x}:{:02x}:{:02x}", b[4], b[5], b[6], b[7])
    }
}
