//! Queries on servers and what is attached to them.

use super::State;
use crate::error::{Error, Result};
use crate::ids::*;
use crate::labels::Selector;
use crate::model::*;
use std::sync::Arc;
use stratus_compute::{
    FirewallRuleSpec, ImageRef, Inventory, LoadBalancerSpec, NetworkSpec, NicSpec, PowerState, VmSpec, VmState,
    VolumeSpec,
};

impl State {
    /// The project's server with this id, or not found (also for other projects' servers).
    pub(crate) fn server(&self, project: ProjectId, id: ServerId) -> Result<&Arc<Server>> {
        self.servers
            .get(id.0)
            .filter(|srv| srv.project == project)
            .ok_or_else(|| Error::not_found(ResourceKind::Server, id))
    }

    /// The project's server called `name`.
    pub(crate) fn server_named(&self, project: ProjectId, name: &str) -> Option<&Arc<Server>> {
        self.servers.named(Some(project), name).next()
    }

    /// The public IPs assigned to a server, in id order.
    pub(crate) fn ips_of(&self, server: ServerId) -> impl Iterator<Item = &Arc<PublicIp>> + '_ {
        self.linked(server.as_ref(), ResourceKind::Ip).filter_map(|id| self.ips.get(id))
    }

    /// The server's primary IP of `family`.
    pub(crate) fn primary_ip_of(&self, server: ServerId, family: IpFamily) -> Option<&Arc<PublicIp>> {
        self.ips_of(server).find(|ip| ip.role == IpRole::Primary && ip.family == family)
    }

    pub(crate) fn volumes_of(&self, server: ServerId) -> impl Iterator<Item = &Arc<Volume>> + '_ {
        self.linked(server.as_ref(), ResourceKind::Volume).filter_map(|id| self.volumes.get(id))
    }

    /// The interfaces of a server or load balancer, public first, then by id.
    pub(crate) fn nics_of(&self, owner: ResourceRef) -> Vec<&Arc<Nic>> {
        let mut nics: Vec<&Arc<Nic>> = self
            .linked(owner, ResourceKind::Nic)
            .filter_map(|id| self.nics.get(id))
            .filter(|n| n.owner.as_ref() == owner)
            .collect();
        nics.sort_by_key(|n| (n.network.is_some(), n.id));
        nics
    }

    /// The server's interface in `network`.
    pub(crate) fn nic_in(&self, owner: ResourceRef, network: NetworkId) -> Option<&Arc<Nic>> {
        self.nics_of(owner).into_iter().find(|n| n.network == Some(network))
    }

    /// The server's backups (images bound to it).
    pub(crate) fn backups_of(&self, server: ServerId) -> impl Iterator<Item = &Arc<Image>> + '_ {
        self.linked(server.as_ref(), ResourceKind::Image)
            .filter_map(|id| self.images.get(id))
            .filter(move |i| i.kind == ImageType::Backup && i.bound_to == Some(server))
    }

    /// The firewalls that apply to a server: directly, or through a label selector that
    /// matches its labels now. A project has few firewalls, so selectors are evaluated
    /// here rather than indexed.
    pub(crate) fn firewalls_of(&self, server: &Server) -> Vec<&Arc<Firewall>> {
        self.firewalls
            .of(Some(server.project))
            .filter(|fw| {
                fw.applied_to.iter().any(|t| match t {
                    FirewallTarget::Server(id) => *id == server.id,
                    FirewallTarget::LabelSelector(sel) => selects(sel, server),
                })
            })
            .collect()
    }

    /// The load balancers that target a server, directly or by label.
    pub(crate) fn load_balancers_of(&self, server: &Server) -> Vec<&Arc<LoadBalancer>> {
        self.load_balancers
            .of(Some(server.project))
            .filter(|lb| {
                lb.targets.iter().any(|t| match &t.kind {
                    LbTargetKind::Server(id) => *id == server.id,
                    LbTargetKind::LabelSelector(sel) => selects(sel, server),
                    LbTargetKind::Ip(_) => false,
                })
            })
            .collect()
    }

    /// Whether a load balancer reaches `server` on its public addresses: a target that
    /// names it, or selects it by label, without `use_private_ip`.
    pub(crate) fn is_public_lb_target(&self, server: &Server) -> bool {
        self.load_balancers_of(server).into_iter().flat_map(|lb| &lb.targets).any(|t| {
            !t.use_private_ip
                && match &t.kind {
                    LbTargetKind::Server(id) => *id == server.id,
                    LbTargetKind::LabelSelector(sel) => selects(sel, server),
                    LbTargetKind::Ip(_) => false,
                }
        })
    }

    /// The servers of the project a label selector matches now, in id order.
    pub(crate) fn servers_selected(&self, project: ProjectId, selector: &str) -> Vec<&Arc<Server>> {
        let Ok(sel) = Selector::parse(selector) else { return Vec::new() };
        self.servers
            .candidates(Some(project), None, Some(&sel))
            .into_iter()
            .filter(|s| sel.matches(&s.labels))
            .collect()
    }

    /// The servers in a placement group, in id order.
    pub(crate) fn group_members(&self, group: PlacementGroupId) -> impl Iterator<Item = &Arc<Server>> + '_ {
        self.linked(group.as_ref(), ResourceKind::Server).filter_map(|id| self.servers.get(id))
    }

    /// The firewall rules a server's public interface enforces: every rule of every
    /// firewall that applies to it.
    pub(crate) fn firewall_rules_of(&self, server: &Server) -> Vec<FirewallRuleSpec> {
        self.firewall_rules_with(server, None)
    }

    /// The driver's view of an interface.
    pub(crate) fn nic_spec(&self, nic: &Nic) -> NicSpec {
        let addresses = match nic.network {
            None => match nic.owner {
                Attachee::Server(server) => self.ips_of(server).map(|ip| ip.address.clone()).collect(),
                Attachee::LoadBalancer(lb) => self
                    .linked(lb.as_ref(), ResourceKind::Ip)
                    .filter_map(|id| self.ips.get(id))
                    .map(|ip| ip.address.clone())
                    .collect(),
            },
            Some(_) => nic.ip.iter().chain(&nic.alias_ips).cloned().collect(),
        };
        NicSpec { id: nic.id.0, network: nic.network.map(|n| n.0), mac: nic.mac.clone(), addresses }
    }

    /// The driver's view of a server: hardware, boot image, keys, user data, interfaces.
    pub(crate) fn vm_spec(&self, server: &Server, root_password: Option<String>) -> VmSpec {
        let image = server.image.and_then(|id| self.images.get(id.0)).map(|img| ImageRef {
            id: img.id.0,
            name: img.name.clone().unwrap_or_else(|| format!("image-{}", img.id)),
        });
        let ssh_keys =
            server.ssh_keys.iter().filter_map(|k| self.ssh_keys.get(k.0)).map(|k| k.public_key.clone()).collect();
        // Built with its public interface; private ones are plugged in by their own steps.
        let nics = self
            .nics_of(server.id.as_ref())
            .into_iter()
            .filter(|n| n.network.is_none())
            .map(|n| self.nic_spec(n))
            .collect();
        VmSpec {
            id: server.id.0,
            name: server.name.clone(),
            hardware: server.hardware.clone(),
            image,
            ssh_keys,
            root_password,
            user_data: server.user_data.clone(),
            nics,
        }
    }

    pub(crate) fn volume_spec(&self, volume: &Volume) -> VolumeSpec {
        VolumeSpec { id: volume.id.0, size_gb: volume.size_gb, format: volume.format.clone() }
    }

    pub(crate) fn network_spec(&self, network: &Network) -> NetworkSpec {
        NetworkSpec {
            id: network.id.0,
            ip_range: network.ip_range.clone(),
            subnets: network.subnets.iter().map(|s| s.ip_range.clone()).collect(),
            routes: network.routes.iter().map(|r| (r.destination.clone(), r.gateway.clone())).collect(),
        }
    }

    /// The data plane's view of a load balancer as its records are: its addresses,
    /// services and the target addresses its targets resolve to now.
    pub(crate) fn load_balancer_spec(&self, lb: &LoadBalancer) -> LoadBalancerSpec {
        self.load_balancer_spec_with(lb, self.load_balancer_nic(lb.id).map(|n| &**n))
    }

    /// Everything the control plane believes exists on the hypervisors, for the driver's
    /// restore at start-up.
    pub(crate) fn inventory(&self) -> Inventory {
        let vms = self
            .servers
            .all()
            .filter(|srv| srv.has_vm())
            .map(|srv| {
                let mut spec = self.vm_spec(srv, None);
                spec.nics = self.nics_of(srv.id.as_ref()).into_iter().map(|n| self.nic_spec(n)).collect();
                VmState {
                    spec,
                    power: srv.status.believed_power().unwrap_or(PowerState::Off),
                    volumes: self.volumes_of(srv.id).map(|v| v.id.0).collect(),
                    iso: srv.iso.and_then(|i| self.isos.get(i.0)).map(|i| i.name.clone()),
                    rescue: srv.rescue_enabled,
                    firewall: self.firewall_rules_of(srv),
                }
            })
            .collect();
        Inventory {
            vms,
            volumes: self
                .volumes
                .all()
                .filter(|v| v.status == VolumeStatus::Available)
                .map(|v| self.volume_spec(v))
                .collect(),
            networks: self.networks.all().map(|n| self.network_spec(n)).collect(),
            load_balancers: self.load_balancers.all().map(|lb| self.load_balancer_spec(lb)).collect(),
        }
    }
}

fn selects(selector: &str, server: &Server) -> bool {
    Selector::parse(selector).is_ok_and(|s| s.matches(&server.labels))
}
