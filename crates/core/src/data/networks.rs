//! Queries on private networks and the interfaces in them.

use super::State;
use crate::error::{Error, Result};
use crate::ids::*;
use crate::model::*;
use ipnet::Ipv4Net;
use std::net::Ipv4Addr;
use std::sync::Arc;

impl State {
    /// The project's network with this id, or not found.
    pub(crate) fn network(&self, project: ProjectId, id: NetworkId) -> Result<&Arc<Network>> {
        self.networks
            .get(id.0)
            .filter(|n| n.project == project)
            .ok_or_else(|| Error::not_found(ResourceKind::Network, id))
    }

    /// The interfaces plugged into a network, in id order.
    pub(crate) fn nics_in(&self, network: NetworkId) -> impl Iterator<Item = &Arc<Nic>> + '_ {
        self.linked(network.as_ref(), ResourceKind::Nic).filter_map(|id| self.nics.get(id))
    }

    /// Whether `ip` is used in `network` (by an interface or an alias), other than by
    /// interface `except`.
    pub(crate) fn private_ip_taken(&self, network: NetworkId, ip: &str, except: Option<NicId>) -> bool {
        self.private_addresses.get(&(network, ip.to_string())).is_some_and(|nic| Some(*nic) != except)
    }

    /// The first free host address of `subnet` in `network`: not the network address,
    /// not the gateway (the first host), not the broadcast address, not in use. Subnets
    /// are at most a few thousand hosts in practice; the walk stops at the first gap.
    pub(crate) fn free_private_ip(&self, network: NetworkId, subnet: &Subnet) -> Option<String> {
        let net: Ipv4Net = subnet.ip_range.parse().ok()?;
        let gateway: Option<Ipv4Addr> = subnet.gateway.parse().ok();
        net.hosts()
            .filter(|h| Some(*h) != gateway)
            .map(|h| h.to_string())
            .find(|h| !self.private_ip_taken(network, h, None))
    }
}

/// The subnet of `network` that contains `ip`, if any.
pub(crate) fn subnet_containing<'a>(network: &'a Network, ip: &str) -> Option<&'a Subnet> {
    let addr: Ipv4Addr = ip.parse().ok()?;
    network.subnets.iter().find(|s| s.ip_range.parse::<Ipv4Net>().is_ok_and(|n| n.contains(&addr)))
}
