//! Load balancers, with their type, location, addresses, network and the health of their
//! targets.

use super::{holder, Holder};
use crate::data::State;
use crate::ids::*;
use crate::model::*;
use std::sync::Arc;

/// How a target answers a service's health check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthStatus {
    Healthy,
    Unhealthy,
    /// Not checked (Stratus cannot probe addresses outside the cloud).
    Unknown,
}

impl HealthStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Healthy => "healthy",
            HealthStatus::Unhealthy => "unhealthy",
            HealthStatus::Unknown => "unknown",
        }
    }
}

/// One service's health check on one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceHealth {
    pub listen_port: u16,
    pub status: HealthStatus,
}

/// A server a label selector target stands for now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectedServer {
    pub server: ServerId,
    pub health: Vec<ServiceHealth>,
}

/// A target with its health: its own (servers and IPs), or that of each server its
/// selector matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetView {
    pub target: LbTarget,
    pub health: Vec<ServiceHealth>,
    pub selected: Vec<SelectedServer>,
}

/// A load balancer and everything its rendering refers to.
#[derive(Debug, Clone)]
pub struct LoadBalancerView {
    pub lb: Arc<LoadBalancer>,
    pub lb_type: Arc<LoadBalancerType>,
    pub location: Arc<Location>,
    pub ipv4: Option<Arc<PublicIp>>,
    pub ipv6: Option<Arc<PublicIp>>,
    /// Its interface in a private network, if it joined one.
    pub private_net: Option<Arc<Nic>>,
    pub targets: Vec<TargetView>,
    /// The action running on it, if any.
    pub holder: Option<Holder>,
}

pub(crate) fn load_balancer_view(state: &State, lb: &Arc<LoadBalancer>) -> Option<LoadBalancerView> {
    let private_net = state.load_balancer_nic(lb.id).cloned();
    let network = private_net.as_ref().and_then(|n| n.network);
    Some(LoadBalancerView {
        lb: lb.clone(),
        lb_type: state.load_balancer_types.get(lb.lb_type.0)?.clone(),
        location: state.locations.get(lb.location.0)?.clone(),
        ipv4: state.load_balancer_ip(lb.id, IpFamily::V4).cloned(),
        ipv6: state.load_balancer_ip(lb.id, IpFamily::V6).cloned(),
        targets: lb.targets.iter().map(|t| target_view(state, lb, network, t)).collect(),
        private_net,
        holder: holder(state, lb.id.as_ref()),
    })
}

/// Simulated health: a server answers while it runs and can be reached the way the
/// target says (its public IPv4, or its address in the load balancer's network).
fn server_health(
    state: &State,
    lb: &LoadBalancer,
    network: Option<NetworkId>,
    server: &Server,
    private: bool,
) -> Vec<ServiceHealth> {
    let up = server.status == ServerStatus::Running && state.target_address(server.id, network, private).is_some();
    let status = if up { HealthStatus::Healthy } else { HealthStatus::Unhealthy };
    lb.services.iter().map(|s| ServiceHealth { listen_port: s.listen_port, status }).collect()
}

fn target_view(state: &State, lb: &LoadBalancer, network: Option<NetworkId>, target: &LbTarget) -> TargetView {
    let servers = state.lb_target_servers(lb.project, &target.kind);
    let (health, selected) = match &target.kind {
        LbTargetKind::Server(_) => {
            let health = servers.first().map(|s| server_health(state, lb, network, s, target.use_private_ip));
            let down = || {
                lb.services
                    .iter()
                    .map(|s| ServiceHealth { listen_port: s.listen_port, status: HealthStatus::Unhealthy })
                    .collect()
            };
            (health.unwrap_or_else(down), Vec::new())
        }
        LbTargetKind::LabelSelector(_) => {
            let selected = servers
                .iter()
                .map(|s| SelectedServer {
                    server: s.id,
                    health: server_health(state, lb, network, s, target.use_private_ip),
                })
                .collect();
            (Vec::new(), selected)
        }
        LbTargetKind::Ip(_) => {
            let unknown =
                lb.services.iter().map(|s| ServiceHealth { listen_port: s.listen_port, status: HealthStatus::Unknown });
            (unknown.collect(), Vec::new())
        }
    };
    TargetView { target: target.clone(), health, selected }
}
