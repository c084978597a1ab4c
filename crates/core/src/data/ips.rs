//! Queries on public IPs.

use super::State;
use crate::error::{Error, Result};
use crate::ids::*;
use crate::model::*;
use std::sync::Arc;

impl State {
    /// The project's IP of `role` with this id, or not found.
    pub(crate) fn ip_of_role(&self, project: ProjectId, id: IpId, role: IpRole) -> Result<&Arc<PublicIp>> {
        self.ips
            .get(id.0)
            .filter(|ip| ip.project == project && ip.role == role)
            .ok_or_else(|| Error::not_found(ResourceKind::Ip, id))
    }

    /// Whether another IP of the project with the same role has this name.
    pub(crate) fn ip_name_taken(&self, project: ProjectId, role: IpRole, name: &str, except: Option<IpId>) -> bool {
        self.ips.named(Some(project), name).any(|ip| ip.role == role && Some(ip.id) != except)
    }

    /// The project's IPs of `role`, in id order.
    pub(crate) fn ips_with_role(&self, project: ProjectId, role: IpRole) -> impl Iterator<Item = &Arc<PublicIp>> + '_ {
        self.ips.of(Some(project)).filter(move |ip| ip.role == role)
    }

    /// The IP whose address (or /64 network) is `key`, in the form
    /// `ops::addresses::holder_key` gives.
    pub(crate) fn ip_holding(&self, key: &str) -> Option<&Arc<PublicIp>> {
        self.addresses.get(key).and_then(|id| self.ips.get(id.0))
    }

    /// The network zone of a location.
    pub(crate) fn zone_of(&self, location: LocationId) -> Option<&str> {
        self.locations.get(location.0).map(|l| l.network_zone.as_str())
    }

    /// The location of a datacenter.
    pub(crate) fn location_of(&self, datacenter: DatacenterId) -> Option<LocationId> {
        self.datacenters.get(datacenter.0).map(|d| d.location)
    }
}
