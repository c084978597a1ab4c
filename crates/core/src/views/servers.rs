//! Servers and what is attached to them.

use super::{datacenter_view, holder, placement_group_view, DatacenterView, Holder, PlacementGroupView};
use crate::data::State;
use crate::ids::*;
use crate::model::*;
use std::collections::HashMap;
use std::sync::Arc;

/// A firewall as it applies to one server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppliedFirewall {
    pub firewall: FirewallId,
    /// `false` while an action on the firewall is still applying its rules.
    pub applied: bool,
}

/// A server and everything its rendering refers to.
#[derive(Debug, Clone)]
pub struct ServerView {
    pub server: Arc<Server>,
    pub server_type: Option<Arc<ServerType>>,
    /// Shared: every server of a datacenter in one answer points to the same view.
    pub datacenter: Arc<DatacenterView>,
    pub image: Option<Arc<Image>>,
    pub iso: Option<Arc<Iso>>,
    pub ipv4: Option<Arc<PublicIp>>,
    pub ipv6: Option<Arc<PublicIp>>,
    pub floating_ips: Vec<IpId>,
    pub volumes: Vec<VolumeId>,
    /// Its interfaces in private networks.
    pub private_net: Vec<Arc<Nic>>,
    pub firewalls: Vec<AppliedFirewall>,
    pub load_balancers: Vec<LoadBalancerId>,
    /// Shared like the datacenter: its members are listed once per answer.
    pub placement_group: Option<Arc<PlacementGroupView>>,
    /// The action running on it, if any.
    pub holder: Option<Holder>,
}

/// What rendering many servers shares, built once per request: one view per datacenter
/// and per placement group.
#[derive(Debug, Default)]
pub(crate) struct ServerViewCache {
    datacenters: HashMap<DatacenterId, Arc<DatacenterView>>,
    placement_groups: HashMap<PlacementGroupId, Arc<PlacementGroupView>>,
}

impl ServerViewCache {
    fn placement_group(&mut self, state: &State, id: PlacementGroupId) -> Option<Arc<PlacementGroupView>> {
        if let Some(view) = self.placement_groups.get(&id) {
            return Some(view.clone());
        }
        let view = Arc::new(placement_group_view(state, state.placement_groups.get(id.0)?));
        self.placement_groups.insert(id, view.clone());
        Some(view)
    }
}

pub(crate) fn server_view(state: &State, server: &Arc<Server>, cache: &mut ServerViewCache) -> Option<ServerView> {
    let datacenter = match cache.datacenters.get(&server.datacenter) {
        Some(view) => view.clone(),
        None => {
            let view = Arc::new(datacenter_view(state, state.datacenters.get(server.datacenter.0)?)?);
            cache.datacenters.insert(server.datacenter, view.clone());
            view
        }
    };
    let ips: Vec<&Arc<PublicIp>> = state.ips_of(server.id).collect();
    let primary =
        |family| ips.iter().find(|ip| ip.role == IpRole::Primary && ip.family == family).map(|ip| (*ip).clone());
    Some(ServerView {
        server: server.clone(),
        server_type: server.server_type.and_then(|t| state.server_types.get(t.0)).cloned(),
        datacenter,
        image: server.image.and_then(|i| state.images.get(i.0)).cloned(),
        iso: server.iso.and_then(|i| state.isos.get(i.0)).cloned(),
        ipv4: primary(IpFamily::V4),
        ipv6: primary(IpFamily::V6),
        floating_ips: ips.iter().filter(|ip| ip.role == IpRole::Floating).map(|ip| ip.id).collect(),
        volumes: state.volumes_of(server.id).map(|v| v.id).collect(),
        private_net: state.nics_of(server.id.as_ref()).into_iter().filter(|n| n.network.is_some()).cloned().collect(),
        firewalls: state
            .firewalls_of(server)
            .into_iter()
            .map(|fw| AppliedFirewall { firewall: fw.id, applied: state.lock_holder(fw.id.as_ref()).is_none() })
            .collect(),
        load_balancers: state.load_balancers_of(server).into_iter().map(|lb| lb.id).collect(),
        placement_group: server.placement_group.and_then(|g| cache.placement_group(state, g)),
        holder: holder(state, server.id.as_ref()),
    })
}
