//! Queries on load balancers: their addresses, their private interface and what the data
//! plane needs to forward their traffic.

use super::State;
use crate::error::{Error, Result};
use crate::ids::*;
use crate::model::*;
use std::sync::Arc;
use stratus_compute::{LbServiceSpec, LoadBalancerSpec};

impl State {
    /// The project's load balancer with this id, or not found (also for other projects').
    pub(crate) fn load_balancer(&self, project: ProjectId, id: LoadBalancerId) -> Result<&Arc<LoadBalancer>> {
        self.load_balancers
            .get(id.0)
            .filter(|lb| lb.project == project)
            .ok_or_else(|| Error::not_found(ResourceKind::LoadBalancer, id))
    }

    /// The project's load balancer called `name`.
    pub(crate) fn load_balancer_named(&self, project: ProjectId, name: &str) -> Option<&Arc<LoadBalancer>> {
        self.load_balancers.named(Some(project), name).next()
    }

    /// A load balancer's public addresses, in id order.
    pub(crate) fn load_balancer_ips(&self, lb: LoadBalancerId) -> impl Iterator<Item = &Arc<PublicIp>> + '_ {
        self.linked(lb.as_ref(), ResourceKind::Ip)
            .filter_map(|id| self.ips.get(id))
            .filter(move |ip| ip.assignee == Some(Attachee::LoadBalancer(lb)))
    }

    /// Its public address of `family`.
    pub(crate) fn load_balancer_ip(&self, lb: LoadBalancerId, family: IpFamily) -> Option<&Arc<PublicIp>> {
        self.load_balancer_ips(lb).find(|ip| ip.family == family)
    }

    /// Its interface in a private network: a load balancer joins at most one.
    pub(crate) fn load_balancer_nic(&self, lb: LoadBalancerId) -> Option<&Arc<Nic>> {
        self.nics_of(lb.as_ref()).into_iter().find(|n| n.network.is_some())
    }

    /// The load balancers whose services terminate TLS with a certificate, in id order.
    pub(crate) fn certificate_users(&self, certificate: CertificateId) -> impl Iterator<Item = LoadBalancerId> + '_ {
        self.linked(certificate.as_ref(), ResourceKind::LoadBalancer).map(LoadBalancerId)
    }

    /// The address a load balancer reaches a server target at: its interface in the load
    /// balancer's network (`private`), else its public IPv4.
    pub(crate) fn target_address(
        &self,
        server: ServerId,
        private: Option<NetworkId>,
        use_private_ip: bool,
    ) -> Option<String> {
        if use_private_ip {
            private.and_then(|net| self.nic_in(server.as_ref(), net)).and_then(|n| n.ip.clone())
        } else {
            self.primary_ip_of(server, IpFamily::V4).map(|ip| ip.address.clone())
        }
    }

    /// The servers a target stands for now: one, those its selector matches, or none (an
    /// IP target).
    pub(crate) fn lb_target_servers(&self, project: ProjectId, target: &LbTargetKind) -> Vec<&Arc<Server>> {
        match target {
            LbTargetKind::Server(id) => self.servers.get(id.0).filter(|s| s.project == project).into_iter().collect(),
            LbTargetKind::LabelSelector(sel) => self.servers_selected(project, sel),
            LbTargetKind::Ip(_) => Vec::new(),
        }
    }

    /// The data plane's view of a load balancer with `private` as its private interface
    /// (`None`: in no network): the addresses it listens on, its services and the
    /// addresses its targets resolve to now. Steps that attach or detach an interface ask
    /// for the configuration as it will be, before the records change.
    ///
    /// TODO-fidelity: the data plane gets this at the load balancer's own actions only;
    /// a server that starts or stops matching a label selector, changes addresses or is
    /// deleted reaches it at the load balancer's next action (views and health follow at
    /// once). Hetzner re-resolves targets continuously.
    pub(crate) fn load_balancer_spec_with(&self, lb: &LoadBalancer, private: Option<&Nic>) -> LoadBalancerSpec {
        let mut addresses: Vec<String> = if lb.public_interface {
            self.load_balancer_ips(lb.id).map(|ip| ip.address.clone()).collect()
        } else {
            Vec::new()
        };
        addresses.extend(private.and_then(|n| n.ip.clone()));
        let network = private.and_then(|n| n.network);
        let mut targets = Vec::new();
        for t in &lb.targets {
            if let LbTargetKind::Ip(ip) = &t.kind {
                targets.push(ip.clone());
            }
            for srv in self.lb_target_servers(lb.project, &t.kind) {
                targets.extend(self.target_address(srv.id, network, t.use_private_ip));
            }
        }
        LoadBalancerSpec {
            id: lb.id.0,
            algorithm: lb.algorithm.as_str().to_string(),
            addresses,
            services: lb
                .services
                .iter()
                .map(|s| LbServiceSpec {
                    protocol: s.protocol.as_str().to_string(),
                    listen_port: s.listen_port,
                    destination_port: s.destination_port,
                    proxyprotocol: s.proxyprotocol,
                })
                .collect(),
            targets,
        }
    }
}
