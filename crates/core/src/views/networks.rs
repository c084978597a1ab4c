//! Networks and their members.

use super::{holder, Holder};
use crate::data::State;
use crate::ids::*;
use crate::model::*;
use std::collections::BTreeSet;
use std::sync::Arc;

/// A network with the servers and load balancers attached to it.
#[derive(Debug, Clone)]
pub struct NetworkView {
    pub network: Arc<Network>,
    pub servers: Vec<ServerId>,
    pub load_balancers: Vec<LoadBalancerId>,
    pub holder: Option<Holder>,
}

pub(crate) fn network_view(state: &State, network: &Arc<Network>) -> NetworkView {
    let mut servers = BTreeSet::new();
    let mut load_balancers = BTreeSet::new();
    for nic in state.nics_in(network.id) {
        match nic.owner {
            Attachee::Server(id) => servers.insert(id),
            Attachee::LoadBalancer(id) => load_balancers.insert(id),
        };
    }
    NetworkView {
        network: network.clone(),
        servers: servers.into_iter().collect(),
        load_balancers: load_balancers.into_iter().collect(),
        holder: holder(state, network.id.as_ref()),
    }
}

/// Where a member's interface stands, from the action changing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MemberStatus {
    Ok,
    Attaching,
    Detaching,
    Updating,
}

impl MemberStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MemberStatus::Ok => "ok",
            MemberStatus::Attaching => "attaching",
            MemberStatus::Detaching => "detaching",
            MemberStatus::Updating => "updating",
        }
    }

    pub fn parse(s: &str) -> Option<MemberStatus> {
        [MemberStatus::Ok, MemberStatus::Attaching, MemberStatus::Detaching, MemberStatus::Updating]
            .into_iter()
            .find(|m| m.as_str() == s)
    }
}

/// A server or load balancer in a network, through its interface there.
#[derive(Debug, Clone)]
pub struct NetworkMember {
    pub owner: Attachee,
    pub ip: String,
    pub alias_ips: Vec<String>,
    /// The range of the subnet its address is in.
    pub subnet: String,
    pub status: MemberStatus,
}

pub(crate) fn network_member(state: &State, network: &Network, nic: &Nic) -> NetworkMember {
    let ip = nic.ip.clone().unwrap_or_default();
    let subnet = crate::data::subnet_containing(network, &ip).map(|s| s.ip_range.clone()).unwrap_or_default();
    NetworkMember {
        owner: nic.owner,
        ip,
        alias_ips: nic.alias_ips.clone(),
        subnet,
        status: status(state, network, nic),
    }
}

/// What the action holding the owner does to its interface in this network, if it does.
fn status(state: &State, network: &Network, nic: &Nic) -> MemberStatus {
    let Some(h) = holder(state, nic.owner.as_ref()) else { return MemberStatus::Ok };
    let concerns_network =
        state.actions.get(h.action.0).is_some_and(|a| a.concerns().any(|r| r == network.id.as_ref()));
    match h.kind.as_str() {
        // A server being created plugs its interfaces in its own action.
        "server_create" => MemberStatus::Attaching,
        "server_attach_to_network" if concerns_network => MemberStatus::Attaching,
        "server_detach_from_network" if concerns_network => MemberStatus::Detaching,
        "server_change_alias_ips" if concerns_network => MemberStatus::Updating,
        _ => MemberStatus::Ok,
    }
}
