//! Load balancers: services (listeners) forwarding to targets (servers, servers by label,
//! IPs), with a type that bounds them (Hetzner load balancers, IONOS load balancers).

use super::{Protection, Traffic};
use crate::ids::{CertificateId, LoadBalancerId, LoadBalancerTypeId, LocationId, ProjectId, ServerId};
use crate::labels::Labels;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Algorithm {
    RoundRobin,
    LeastConnections,
}

impl Algorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::RoundRobin => "round_robin",
            Algorithm::LeastConnections => "least_connections",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LbProtocol {
    Tcp,
    Http,
    Https,
}

impl LbProtocol {
    pub fn as_str(self) -> &'static str {
        match self {
            LbProtocol::Tcp => "tcp",
            LbProtocol::Http => "http",
            LbProtocol::Https => "https",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthCheckHttp {
    pub domain: Option<String>,
    pub path: String,
    pub response: Option<String>,
    pub status_codes: Vec<String>,
    pub tls: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthCheck {
    pub protocol: LbProtocol,
    pub port: u16,
    /// Seconds.
    pub interval: u32,
    pub timeout: u32,
    pub retries: u32,
    pub http: Option<HealthCheckHttp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LbHttp {
    pub cookie_name: String,
    /// Seconds.
    pub cookie_lifetime: u32,
    pub certificates: Vec<CertificateId>,
    pub redirect_http: bool,
    pub sticky_sessions: bool,
    /// Seconds an idle connection is kept.
    pub timeout_idle: u32,
}

/// A listener: traffic on `listen_port` goes to `destination_port` of the targets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LbService {
    pub protocol: LbProtocol,
    pub listen_port: u16,
    pub destination_port: u16,
    pub proxyprotocol: bool,
    pub health_check: HealthCheck,
    /// For `http` and `https`.
    pub http: Option<LbHttp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LbTargetKind {
    Server(ServerId),
    /// Every server of the project whose labels match, now and later.
    LabelSelector(String),
    /// An address outside the cloud.
    Ip(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LbTarget {
    pub kind: LbTargetKind,
    /// Reach server targets over the private network the load balancer is attached to.
    pub use_private_ip: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadBalancer {
    pub id: LoadBalancerId,
    pub project: ProjectId,
    pub name: String,
    pub lb_type: LoadBalancerTypeId,
    pub location: LocationId,
    pub algorithm: Algorithm,
    /// Whether it accepts traffic on its public addresses.
    pub public_interface: bool,
    pub services: Vec<LbService>,
    pub targets: Vec<LbTarget>,
    pub traffic: Traffic,
    pub protection: Protection,
    pub labels: Labels,
    pub created: DateTime<Utc>,
}
