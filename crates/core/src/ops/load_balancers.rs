//! Load balancers: list, get, create, update, delete, their actions and metrics.
//!
//! Every change is checked here against the load balancer's type, network and public
//! interface before its action starts; the actions (`crate::actions::load_balancer`)
//! only carry it out.

use super::server_actions::validate_ptr;
use super::servers::{check_metrics_query, new_nic};
use super::{
    addresses, check_labels, check_limit, ensure_unprotected, ensure_write, paged, validate_name, ListFilter, Ref,
};
use crate::actions::{self, *};
use crate::cloud::Cloud;
use crate::data::{State, Tx};
use crate::engine::ensure_unlocked;
use crate::error::{Error, Refusal, Result};
use crate::ids::*;
use crate::labels::{Labels, Selector};
use crate::model::*;
use crate::page::Page;
use crate::views::{load_balancer_view, LoadBalancerView};
use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::Arc;
use stratus_compute::{MetricSeries, MetricsQuery};

/// A service as a request gives it. Every field may be missing: a new service gets the
/// defaults of its protocol (the hcloud CLI's `add-service` sends neither ports nor a
/// health check), an updated one keeps what it had.
#[derive(Debug, Clone, Default)]
pub struct ServiceRequest {
    pub protocol: Option<LbProtocol>,
    pub listen_port: Option<u16>,
    pub destination_port: Option<u16>,
    pub proxyprotocol: Option<bool>,
    pub health_check: Option<HealthCheckRequest>,
    pub http: Option<HttpRequest>,
}

#[derive(Debug, Clone, Default)]
pub struct HealthCheckRequest {
    pub protocol: Option<LbProtocol>,
    pub port: Option<u16>,
    pub interval: Option<u32>,
    pub timeout: Option<u32>,
    pub retries: Option<u32>,
    pub http: Option<HealthCheckHttpRequest>,
}

#[derive(Debug, Clone, Default)]
pub struct HealthCheckHttpRequest {
    pub domain: Option<String>,
    pub path: Option<String>,
    pub response: Option<String>,
    pub status_codes: Option<Vec<String>>,
    pub tls: Option<bool>,
}

#[derive(Debug, Clone, Default)]
pub struct HttpRequest {
    pub cookie_name: Option<String>,
    pub cookie_lifetime: Option<u32>,
    pub certificates: Option<Vec<CertificateId>>,
    pub redirect_http: Option<bool>,
    pub sticky_sessions: Option<bool>,
    pub timeout_idle: Option<u32>,
}

/// A request to create a load balancer.
#[derive(Debug, Clone)]
pub struct LoadBalancerCreate {
    pub name: String,
    pub lb_type: Ref,
    /// Where it goes: a location, or any location of a network zone.
    pub location: Option<Ref>,
    pub network_zone: Option<String>,
    pub algorithm: Algorithm,
    pub services: Vec<ServiceRequest>,
    pub targets: Vec<LbTarget>,
    /// A private network to join at once.
    pub network: Option<NetworkId>,
    pub public_interface: bool,
    pub labels: Labels,
}

/// An action on a load balancer, with its parameters.
#[derive(Debug, Clone)]
pub enum LoadBalancerAction {
    AddService(ServiceRequest),
    /// Changes the service on `listen_port` (which must be given).
    UpdateService(ServiceRequest),
    DeleteService {
        listen_port: u16,
    },
    AddTarget(LbTarget),
    /// Removes the target of this kind (`use_private_ip` is not compared).
    RemoveTarget(LbTargetKind),
    ChangeAlgorithm(Algorithm),
    ChangeType(Ref),
    /// Joins a private network: at `ip`, or the first free address of the subnet
    /// `ip_range`, or of any subnet of its network zone.
    AttachToNetwork {
        network: NetworkId,
        ip: Option<String>,
        ip_range: Option<String>,
    },
    DetachFromNetwork {
        network: NetworkId,
    },
    EnablePublicInterface,
    DisablePublicInterface,
    /// `ptr: None` resets the record to its default.
    ChangeDnsPtr {
        ip: String,
        ptr: Option<String>,
    },
    ChangeProtection {
        delete: Option<bool>,
    },
}

/// How a dialect orders load balancers (by its own sort fields).
pub type LoadBalancerOrder<'a> = super::Order<'a, LoadBalancer>;

/// The defaults a service gets, per protocol (Hetzner's console offers the same).
const HEALTH_INTERVAL: u32 = 15;
const HEALTH_TIMEOUT: u32 = 10;
const HEALTH_RETRIES: u32 = 3;
const COOKIE_NAME: &str = "HCLBSTICKY";
const COOKIE_LIFETIME: u32 = 300;
/// Seconds an idle connection is kept open; the document is silent, hcloud-python 2.27
/// reads it.
const TIMEOUT_IDLE: u32 = 60;

impl Cloud {
    /// One page of the project's matching load balancers, sorted by `order` (id order
    /// when `None`); only the page's load balancers become views.
    pub fn load_balancer_page<E>(
        &self,
        p: &Principal,
        filter: &ListFilter,
        order: Option<&LoadBalancerOrder<'_>>,
        page: impl FnOnce(usize) -> std::result::Result<Page, E>,
    ) -> std::result::Result<(Page, Vec<LoadBalancerView>), E> {
        self.read(|s| {
            let matching = || {
                s.load_balancers
                    .candidates(Some(p.project), filter.name.as_deref(), filter.label_selector.as_ref())
                    .into_iter()
                    .filter(|lb| filter.matches(Some(&lb.name), &lb.labels))
                    .collect()
            };
            paged(None, matching, order, page, |lb| load_balancer_view(s, lb))
        })
    }

    pub fn load_balancer_get(&self, p: &Principal, id: LoadBalancerId) -> Result<LoadBalancerView> {
        self.read(|s| {
            let lb = s.load_balancer(p.project, id)?;
            load_balancer_view(s, lb).ok_or_else(|| Error::Internal(format!("load balancer {id} has a dangling type")))
        })
    }

    /// Creates a load balancer; its action applies it on the data plane.
    pub async fn load_balancer_create(
        &self,
        p: &Principal,
        req: LoadBalancerCreate,
    ) -> Result<(LoadBalancerView, Arc<Action>)> {
        ensure_write(p)?;
        validate_name("name", &req.name)?;
        check_labels(Some(&req.labels))?;
        let config = self.config().clone();
        let (id, action) = self
            .write(|tx| {
                let lb_type = current_type(tx, &req.lb_type)?;
                let location = create_location(tx, &req)?;
                if !lb_type.prices.iter().any(|pr| pr.location == location.id) {
                    return Err(Error::invalid_field(
                        "load_balancer_type",
                        format!("load balancer type {} is not available in {}", lb_type.name, location.name),
                    ));
                }
                if tx.load_balancer_named(p.project, &req.name).is_some() {
                    return Err(Error::uniqueness("name", "load balancer name is already used"));
                }
                let count = tx.load_balancers.count(Some(p.project));
                check_limit(config.resource_limit, count, ResourceKind::LoadBalancer)?;
                let id = LoadBalancerId(tx.next_id());
                let mut nics = Vec::new();
                if let Some(network) = req.network {
                    let ip = private_ip(tx, p, network, &location.network_zone, None, None, "network")?;
                    nics.push(new_nic(tx, p.project, Attachee::LoadBalancer(id), Some(network), Some(ip)));
                }
                let mut lb = LoadBalancer {
                    id,
                    project: p.project,
                    name: req.name.clone(),
                    lb_type: lb_type.id,
                    location: location.id,
                    algorithm: req.algorithm,
                    public_interface: req.public_interface,
                    services: Vec::new(),
                    targets: Vec::new(),
                    traffic: Traffic::default(),
                    protection: Protection::default(),
                    labels: req.labels.clone(),
                    created: now(),
                };
                if !lb.public_interface && nics.is_empty() {
                    return Err(not_attached("a load balancer without a public interface must join a network"));
                }
                for (i, service) in req.services.iter().enumerate() {
                    let service = build_service(tx, p, &lb, &lb_type, None, service, &format!("services[{i}]."))?;
                    lb.services.push(service);
                }
                let network = nics.first().and_then(|n| n.network);
                for (i, target) in req.targets.iter().enumerate() {
                    let target = check_target(tx, &lb, &lb_type, network, target, &format!("targets[{i}]."))?;
                    lb.targets.push(target);
                }
                let mut ips = Vec::new();
                for family in [IpFamily::V4, IpFamily::V6] {
                    ips.push(service_ip(tx, &lb, family, &config)?);
                }
                let params = LbCreateParams { lb, ips, nics };
                Ok((id, actions::start::<actions::LoadBalancerCreate>(tx, p.project, params, None)?))
            })
            .await?;
        // Its first step (the records) can only fail when a fault is injected there; the
        // failed action is kept for the record, and the caller learns it failed.
        if let Some(error) = action.error.as_ref().filter(|_| action.status == ActionStatus::Error) {
            return Err(Error::Unavailable {
                message: format!("the load balancer could not be created: {}", error.message),
            });
        }
        Ok((self.load_balancer_get(p, id)?, action))
    }

    /// Renames and/or relabels a load balancer (labels replace the old set).
    pub async fn load_balancer_update(
        &self,
        p: &Principal,
        id: LoadBalancerId,
        name: Option<String>,
        labels: Option<Labels>,
    ) -> Result<LoadBalancerView> {
        ensure_write(p)?;
        if let Some(name) = &name {
            validate_name("name", name)?;
        }
        check_labels(labels.as_ref())?;
        self.write(|tx| {
            let mut lb = LoadBalancer::clone(tx.load_balancer(p.project, id)?);
            if let Some(name) = name {
                if tx.load_balancer_named(p.project, &name).is_some_and(|other| other.id != id) {
                    return Err(Error::uniqueness("name", "load balancer name is already used"));
                }
                lb.name = name;
            }
            if let Some(labels) = labels {
                lb.labels = labels;
            }
            tx.put(crate::store::Record::LoadBalancer(Arc::new(lb)));
            Ok(())
        })
        .await?;
        self.load_balancer_get(p, id)
    }

    /// Starts deleting a load balancer: off the data plane, then with its addresses and
    /// its private interface out of the records.
    pub async fn load_balancer_delete(&self, p: &Principal, id: LoadBalancerId) -> Result<Arc<Action>> {
        ensure_write(p)?;
        self.write(|tx| {
            let lb = tx.load_balancer(p.project, id)?;
            ensure_unprotected(lb.protection, id.as_ref(), "delete")?;
            ensure_unlocked(tx, &[id.as_ref()])?;
            actions::start::<LoadBalancerDelete>(tx, p.project, OnLoadBalancer { lb: id }, None)
        })
        .await
    }

    pub async fn load_balancer_action(
        &self,
        p: &Principal,
        id: LoadBalancerId,
        op: LoadBalancerAction,
    ) -> Result<Arc<Action>> {
        ensure_write(p)?;
        self.write(|tx| {
            let lb = tx.load_balancer(p.project, id)?.clone();
            ensure_unlocked(tx, &[id.as_ref()])?;
            let lb_type = tx
                .load_balancer_types
                .get(lb.lb_type.0)
                .cloned()
                .ok_or_else(|| Error::Internal(format!("load balancer {id} has a dangling type")))?;
            let network = tx.load_balancer_nic(id).and_then(|n| n.network);
            let pr = p.project;
            match op {
                LoadBalancerAction::AddService(req) => {
                    let service = build_service(tx, p, &lb, &lb_type, None, &req, "")?;
                    let params = ServiceParams { lb: id, service, replace: false };
                    actions::start::<LoadBalancerAddService>(tx, pr, params, None)
                }
                LoadBalancerAction::UpdateService(req) => {
                    let port = req.listen_port.ok_or_else(|| Error::invalid_field("listen_port", "is required"))?;
                    let current = lb.services.iter().find(|s| s.listen_port == port).cloned().ok_or_else(|| {
                        Error::invalid_field("listen_port", format!("the load balancer has no service on port {port}"))
                    })?;
                    let service = build_service(tx, p, &lb, &lb_type, Some(&current), &req, "")?;
                    let params = ServiceParams { lb: id, service, replace: true };
                    actions::start::<LoadBalancerUpdateService>(tx, pr, params, None)
                }
                LoadBalancerAction::DeleteService { listen_port } => {
                    if !lb.services.iter().any(|s| s.listen_port == listen_port) {
                        return Err(Error::invalid_field(
                            "listen_port",
                            format!("the load balancer has no service on port {listen_port}"),
                        ));
                    }
                    let params = DeleteServiceParams { lb: id, listen_port };
                    actions::start::<LoadBalancerDeleteService>(tx, pr, params, None)
                }
                LoadBalancerAction::AddTarget(target) => {
                    let target = check_target(tx, &lb, &lb_type, network, &target, "")?;
                    let params = TargetParams { lb: id, target, remove: false };
                    actions::start::<LoadBalancerAddTarget>(tx, pr, params, None)
                }
                LoadBalancerAction::RemoveTarget(kind) => {
                    let kind = normalized(kind, "")?;
                    let target = lb
                        .targets
                        .iter()
                        .find(|t| t.kind == kind)
                        .cloned()
                        .ok_or_else(|| Error::invalid_field("type", "the load balancer has no such target"))?;
                    let params = TargetParams { lb: id, target, remove: true };
                    actions::start::<LoadBalancerRemoveTarget>(tx, pr, params, None)
                }
                LoadBalancerAction::ChangeAlgorithm(algorithm) => {
                    actions::start::<LoadBalancerChangeAlgorithm>(tx, pr, AlgorithmParams { lb: id, algorithm }, None)
                }
                LoadBalancerAction::ChangeType(r) => {
                    let to = current_type(tx, &r)?;
                    check_type_fits(&lb, &to)?;
                    actions::start::<LoadBalancerChangeType>(tx, pr, TypeParams { lb: id, lb_type: to.id }, None)
                }
                LoadBalancerAction::AttachToNetwork { network: net, ip, ip_range } => {
                    if network.is_some() {
                        return Err(Error::refused(
                            Refusal::LbAlreadyAttached,
                            "the load balancer is already attached to a network; detach it first",
                        ));
                    }
                    let zone = tx.zone_of(lb.location).unwrap_or_default().to_string();
                    let address = private_ip(tx, p, net, &zone, ip.as_deref(), ip_range.as_deref(), "network")?;
                    let nic = new_nic(tx, pr, Attachee::LoadBalancer(id), Some(net), Some(address));
                    actions::start::<LoadBalancerAttachToNetwork>(tx, pr, LbNicParams { lb: id, nic }, None)
                }
                LoadBalancerAction::DetachFromNetwork { network: net } => {
                    let nic = detachable(tx, p, &lb, net)?;
                    actions::start::<LoadBalancerDetachFromNetwork>(tx, pr, LbNicParams { lb: id, nic }, None)
                }
                LoadBalancerAction::EnablePublicInterface => {
                    let params = PublicInterfaceParams { lb: id, enabled: true };
                    actions::start::<LoadBalancerEnablePublicInterface>(tx, pr, params, None)
                }
                LoadBalancerAction::DisablePublicInterface => {
                    if network.is_none() {
                        return Err(not_attached("the load balancer must be attached to a network first"));
                    }
                    if lb.targets.iter().any(|t| !t.use_private_ip) {
                        return Err(Error::refused(
                            Refusal::PublicTargets,
                            "the load balancer has targets it reaches over the public network",
                        ));
                    }
                    let params = PublicInterfaceParams { lb: id, enabled: false };
                    actions::start::<LoadBalancerDisablePublicInterface>(tx, pr, params, None)
                }
                LoadBalancerAction::ChangeDnsPtr { ip, ptr } => {
                    let owner = tx.load_balancer_ips(id).find(|a| addresses::contains(&a.address, &ip)).cloned();
                    let Some(owner) = owner else {
                        return Err(Error::invalid_field(
                            "ip",
                            format!("{ip} is not an address of this load balancer"),
                        ));
                    };
                    validate_ptr(ptr.as_deref())?;
                    let params = DnsPtrParams { ip: owner.id, address: ip, ptr, on: vec![id.as_ref()] };
                    actions::start::<ChangeDnsPtr>(tx, pr, params, None)
                }
                LoadBalancerAction::ChangeProtection { delete } => {
                    let params = ProtectionParams { resource: id.as_ref(), delete, rebuild: None };
                    actions::start::<ChangeProtection>(tx, pr, params, None)
                }
            }
        })
        .await
    }

    /// Metrics of a load balancer. A read, so it asks the driver directly, outside actions.
    pub async fn load_balancer_metrics(
        &self,
        p: &Principal,
        id: LoadBalancerId,
        query: MetricsQuery,
    ) -> Result<Vec<MetricSeries>> {
        self.read(|s| s.load_balancer(p.project, id).map(|_| ()))?;
        check_metrics_query(&query)?;
        self.inner
            .driver
            .load_balancer_metrics(id.0, &query)
            .await
            .map_err(|e| Error::Unavailable { message: format!("metrics unavailable: {}", e.message) })
    }
}

fn not_attached(message: &str) -> Error {
    Error::refused(Refusal::LbNotAttached, message)
}

/// A load balancer type that can be ordered now.
fn current_type(s: &State, r: &Ref) -> Result<Arc<LoadBalancerType>> {
    let t = s.load_balancer_type_ref(r, "load_balancer_type")?;
    if t.deprecated.is_some_and(|d| d <= now()) {
        return Err(Error::invalid_field("load_balancer_type", format!("load balancer type {} is deprecated", t.name)));
    }
    Ok(t)
}

/// The location a create names, directly or as the first of a network zone.
fn create_location(s: &State, req: &LoadBalancerCreate) -> Result<Arc<Location>> {
    match (&req.location, &req.network_zone) {
        (Some(_), Some(_)) => Err(Error::invalid("location and network_zone are mutually exclusive")),
        (Some(r), None) => s.location_ref(r, "location"),
        (None, Some(zone)) => s
            .locations
            .all()
            .find(|l| &l.network_zone == zone)
            .cloned()
            .ok_or_else(|| Error::invalid_field("network_zone", format!("network zone {zone} not found"))),
        (None, None) => Err(Error::invalid_field("location", "either location or network_zone is required")),
    }
}

/// A new service address of the load balancer (not yet stored).
fn service_ip(tx: &mut Tx, lb: &LoadBalancer, family: IpFamily, config: &crate::Config) -> Result<PublicIp> {
    let address = addresses::allocate(tx, family, config.ipv4_pool, config.ipv6_pool)?;
    let id = IpId(tx.next_id());
    Ok(PublicIp {
        id,
        project: lb.project,
        role: IpRole::Service,
        family,
        address,
        name: format!("load_balancer-{}-{}", lb.id, family.as_str()),
        description: None,
        home_location: lb.location,
        assignee: Some(Attachee::LoadBalancer(lb.id)),
        auto_delete: false,
        dns_ptr: Vec::new(),
        protection: Protection::default(),
        labels: Labels::new(),
        blocked: false,
        created: now(),
    })
}

/// A free address for the load balancer in `network`: `ip` if it is free, else the
/// first free one of the subnet `ip_range`, else of any cloud subnet of `zone`.
fn private_ip(
    tx: &Tx,
    p: &Principal,
    network: NetworkId,
    zone: &str,
    ip: Option<&str>,
    ip_range: Option<&str>,
    field: &str,
) -> Result<String> {
    let net = tx
        .network(p.project, network)
        .map_err(|_| Error::invalid_field(field, format!("network {network} not found")))?;
    let in_zone = |s: &&Subnet| s.network_zone == zone && s.kind != SubnetKind::Vswitch;
    if let Some(ip) = ip {
        super::check_ipv4("ip", ip)?;
        let subnet = crate::data::subnet_containing(net, ip)
            .ok_or_else(|| Error::invalid_field("ip", format!("{ip} is in no subnet of network {network}")))?;
        if !in_zone(&subnet) {
            return Err(Error::invalid_field("ip", "the subnet is in another network zone than the load balancer"));
        }
        if ip == subnet.gateway || tx.private_ip_taken(network, ip, None) {
            return Err(Error::refused(Refusal::AddressTaken, format!("{ip} is not available")));
        }
        return Ok(ip.to_string());
    }
    let mut subnets: Vec<&Subnet> = net.subnets.iter().filter(in_zone).collect();
    if let Some(range) = ip_range {
        subnets.retain(|s| s.ip_range == range);
        if subnets.is_empty() {
            return Err(Error::invalid_field("ip_range", format!("network {network} has no subnet {range} in {zone}")));
        }
    }
    subnets.into_iter().find_map(|s| tx.free_private_ip(network, s)).ok_or_else(|| {
        Error::refused(Refusal::NoFreeAddress, format!("network {network} has no subnet with a free address in {zone}"))
    })
}

/// The interface through which the load balancer is in `network`, if it may leave it:
/// targets reached over that network, or no public interface, need it to stay.
fn detachable(tx: &Tx, p: &Principal, lb: &LoadBalancer, network: NetworkId) -> Result<Nic> {
    tx.network(p.project, network)
        .map_err(|_| Error::invalid_field("network", format!("network {network} not found")))?;
    let nic = tx
        .nic_in(lb.id.as_ref(), network)
        .ok_or_else(|| not_attached(&format!("the load balancer is not attached to network {network}")))?;
    if !lb.public_interface {
        return Err(Error::invalid("the load balancer has no public interface: enable it before leaving its network"));
    }
    if lb.targets.iter().any(|t| t.use_private_ip) {
        return Err(Error::invalid("the load balancer has targets it reaches over this network; remove them first"));
    }
    Ok(Nic::clone(nic))
}

/// Whether a load balancer fits a type: its services, targets and certificates.
fn check_type_fits(lb: &LoadBalancer, to: &LoadBalancerType) -> Result<()> {
    let certificates = certificates_of(&lb.services).len();
    let over = [
        ("services", lb.services.len(), to.max_services),
        ("targets", lb.targets.len(), to.max_targets),
        ("certificates", certificates, to.max_assigned_certificates),
    ]
    .into_iter()
    .find(|(_, have, max)| *have > *max as usize);
    match over {
        Some((what, have, max)) => Err(Error::refused(
            Refusal::TypeTooSmall,
            format!("load balancer type {} allows at most {max} {what}; the load balancer has {have}", to.name),
        )),
        None => Ok(()),
    }
}

fn certificates_of(services: &[LbService]) -> BTreeSet<CertificateId> {
    services.iter().filter_map(|s| s.http.as_ref()).flat_map(|h| h.certificates.iter().copied()).collect()
}

/// The service a request describes: on top of `current` when it updates one, else on
/// top of the defaults of its protocol; checked against the load balancer. `at` prefixes
/// field names (`services[0].`).
fn build_service(
    s: &State,
    p: &Principal,
    lb: &LoadBalancer,
    lb_type: &LoadBalancerType,
    current: Option<&LbService>,
    req: &ServiceRequest,
    at: &str,
) -> Result<LbService> {
    let field = |name: &str| format!("{at}{name}");
    let protocol = req
        .protocol
        .or(current.map(|c| c.protocol))
        .ok_or_else(|| Error::invalid_field(&field("protocol"), "is required"))?;
    let default_port = match protocol {
        LbProtocol::Tcp => None,
        LbProtocol::Http => Some(80),
        LbProtocol::Https => Some(443),
    };
    let listen_port = req
        .listen_port
        .or(current.map(|c| c.listen_port))
        .or(default_port)
        .ok_or_else(|| Error::invalid_field(&field("listen_port"), "is required for tcp services"))?;
    // HTTPS is terminated at the load balancer: its targets speak plain HTTP by default.
    let default_destination = if protocol == LbProtocol::Tcp { listen_port } else { 80 };
    let destination_port = req.destination_port.or(current.map(|c| c.destination_port)).unwrap_or(default_destination);
    for (name, port) in [("listen_port", listen_port), ("destination_port", destination_port)] {
        check_port(&field(name), port)?;
    }
    if current.is_none() && lb.services.iter().any(|s| s.listen_port == listen_port) {
        return Err(Error::refused(Refusal::PortInUse, format!("port {listen_port} is already used by a service")));
    }
    let http = match protocol {
        LbProtocol::Tcp if req.http.is_some() => {
            return Err(Error::invalid_field(&field("http"), "is only for http and https services"))
        }
        LbProtocol::Tcp => None,
        _ => {
            Some(build_http(s, p, protocol, current.and_then(|c| c.http.as_ref()), req.http.as_ref(), &field("http."))?)
        }
    };
    let current_check = current.map(|c| c.health_check.clone());
    let health_check = build_health_check(
        protocol,
        destination_port,
        current_check,
        req.health_check.as_ref(),
        &field("health_check."),
    )?;
    let service = LbService {
        protocol,
        listen_port,
        destination_port,
        proxyprotocol: req.proxyprotocol.or(current.map(|c| c.proxyprotocol)).unwrap_or(false),
        health_check,
        http,
    };
    let mut services: Vec<LbService> = lb.services.iter().filter(|s| s.listen_port != listen_port).cloned().collect();
    services.push(service.clone());
    let certificates = certificates_of(&services).len();
    if certificates > lb_type.max_assigned_certificates as usize {
        return Err(Error::invalid_field(
            &field("http.certificates"),
            format!(
                "load balancer type {} allows at most {} certificates",
                lb_type.name, lb_type.max_assigned_certificates
            ),
        ));
    }
    if services.len() > lb_type.max_services as usize {
        return Err(Error::invalid(format!(
            "load balancer type {} allows at most {} services",
            lb_type.name, lb_type.max_services
        )));
    }
    Ok(service)
}

fn check_port(field: &str, port: u16) -> Result<()> {
    if port == 0 {
        return Err(Error::invalid_field(field, "must be between 1 and 65535"));
    }
    Ok(())
}

fn build_http(
    s: &State,
    p: &Principal,
    protocol: LbProtocol,
    current: Option<&LbHttp>,
    req: Option<&HttpRequest>,
    at: &str,
) -> Result<LbHttp> {
    let field = |name: &str| format!("{at}{name}");
    let req = req.cloned().unwrap_or_default();
    let base = current.cloned().unwrap_or_else(|| LbHttp {
        cookie_name: COOKIE_NAME.into(),
        cookie_lifetime: COOKIE_LIFETIME,
        certificates: Vec::new(),
        redirect_http: false,
        sticky_sessions: false,
        timeout_idle: TIMEOUT_IDLE,
    });
    let http = LbHttp {
        cookie_name: req.cookie_name.unwrap_or(base.cookie_name),
        cookie_lifetime: req.cookie_lifetime.unwrap_or(base.cookie_lifetime),
        certificates: req.certificates.unwrap_or(base.certificates),
        redirect_http: req.redirect_http.unwrap_or(base.redirect_http),
        sticky_sessions: req.sticky_sessions.unwrap_or(base.sticky_sessions),
        timeout_idle: req.timeout_idle.unwrap_or(base.timeout_idle),
    };
    if http.cookie_name.is_empty() || !http.cookie_name.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b))
    {
        return Err(Error::invalid_field(&field("cookie_name"), "must be letters, digits, '-' or '_'"));
    }
    for (name, value) in [("cookie_lifetime", http.cookie_lifetime), ("timeout_idle", http.timeout_idle)] {
        if value == 0 {
            return Err(Error::invalid_field(&field(name), "must be at least 1"));
        }
    }
    if http.redirect_http && protocol != LbProtocol::Https {
        return Err(Error::invalid_field(&field("redirect_http"), "is only for https services"));
    }
    match protocol {
        LbProtocol::Https if http.certificates.is_empty() => {
            return Err(Error::invalid_field(&field("certificates"), "an https service needs a certificate"))
        }
        LbProtocol::Https => {}
        _ if !http.certificates.is_empty() => {
            return Err(Error::invalid_field(&field("certificates"), "are only for https services"))
        }
        _ => {}
    }
    for (i, id) in http.certificates.iter().enumerate() {
        if http.certificates[..i].contains(id) {
            return Err(Error::invalid_field(&field("certificates"), format!("certificate {id} is given twice")));
        }
        let cert = s
            .certificate(p.project, *id)
            .map_err(|_| Error::invalid_field(&field("certificates"), format!("certificate {id} not found")))?;
        if cert.certificate.is_none() {
            return Err(Error::invalid_field(&field("certificates"), format!("certificate {id} is not issued yet")));
        }
    }
    Ok(http)
}

fn build_health_check(
    protocol: LbProtocol,
    destination_port: u16,
    current: Option<HealthCheck>,
    req: Option<&HealthCheckRequest>,
    at: &str,
) -> Result<HealthCheck> {
    let field = |name: &str| format!("{at}{name}");
    let req = req.cloned().unwrap_or_default();
    let mut check = current.unwrap_or_else(|| HealthCheck {
        protocol: if protocol == LbProtocol::Tcp { LbProtocol::Tcp } else { LbProtocol::Http },
        port: destination_port,
        interval: HEALTH_INTERVAL,
        timeout: HEALTH_TIMEOUT,
        retries: HEALTH_RETRIES,
        http: None,
    });
    check.protocol = req.protocol.unwrap_or(check.protocol);
    check.port = req.port.unwrap_or(check.port);
    check.interval = req.interval.unwrap_or(check.interval);
    check.timeout = req.timeout.unwrap_or(check.timeout);
    check.retries = req.retries.unwrap_or(check.retries);
    check_port(&field("port"), check.port)?;
    for (name, value) in [("interval", check.interval), ("timeout", check.timeout)] {
        if value == 0 {
            return Err(Error::invalid_field(&field(name), "must be at least 1 second"));
        }
    }
    // The document offers tcp and http checks; the Ansible collection also sends https,
    // which checks over TLS with the same http settings.
    check.http = match check.protocol {
        LbProtocol::Tcp if req.http.is_some() => {
            return Err(Error::invalid_field(&field("http"), "is only for http and https health checks"))
        }
        LbProtocol::Tcp => None,
        _ => Some(build_check_http(check.http.take(), req.http.as_ref(), &field("http."))?),
    };
    Ok(check)
}

fn build_check_http(
    current: Option<HealthCheckHttp>,
    req: Option<&HealthCheckHttpRequest>,
    at: &str,
) -> Result<HealthCheckHttp> {
    let field = |name: &str| format!("{at}{name}");
    let req = req.cloned().unwrap_or_default();
    let base = current.unwrap_or_else(|| HealthCheckHttp {
        domain: None,
        path: "/".into(),
        response: None,
        status_codes: vec!["2??".into(), "3??".into()],
        tls: false,
    });
    let http = HealthCheckHttp {
        domain: req.domain.or(base.domain),
        path: req.path.unwrap_or(base.path),
        response: req.response.or(base.response),
        status_codes: req.status_codes.unwrap_or(base.status_codes),
        tls: req.tls.unwrap_or(base.tls),
    };
    if http.domain.as_deref().is_some_and(|d| d.chars().any(|c| c.is_whitespace() || c == '%' || c == '\\')) {
        return Err(Error::invalid_field(&field("domain"), "may not contain spaces, percent or backslash symbols"));
    }
    if !http.path.starts_with('/') || http.path.contains(' ') {
        return Err(Error::invalid_field(&field("path"), "must start with / and contain no spaces"));
    }
    // Codes such as `200` or `2??`; Hetzner's own example joins several with commas.
    let code =
        |c: &str| !c.is_empty() && c.len() <= 3 && c.bytes().all(|b| b.is_ascii_digit() || b == b'?' || b == b'*');
    if http.status_codes.is_empty() || !http.status_codes.iter().all(|c| c.split(',').all(code)) {
        return Err(Error::invalid_field(&field("status_codes"), "must be status codes such as 200 or 2??"));
    }
    Ok(http)
}

/// A target's kind in the form it is stored and compared in: IP addresses as Rust
/// writes them, so `2001:db8::1` and `2001:DB8:0::1` are one target.
fn normalized(kind: LbTargetKind, at: &str) -> Result<LbTargetKind> {
    match kind {
        LbTargetKind::Ip(ip) => {
            let addr: IpAddr = ip
                .parse()
                .map_err(|_| Error::invalid_field(&format!("{at}ip.ip"), format!("{ip} is not an IP address")))?;
            Ok(LbTargetKind::Ip(addr.to_string()))
        }
        LbTargetKind::LabelSelector(sel) => {
            Selector::parse(&sel).map_err(|_| {
                Error::invalid_field(&format!("{at}label_selector.selector"), "is not a valid label selector")
            })?;
            Ok(LbTargetKind::LabelSelector(sel))
        }
        other => Ok(other),
    }
}

/// Whether `target` may be added to `lb` (in `network`, if attached); the target as it
/// is stored. `at` prefixes field names (`targets[0].`).
fn check_target(
    s: &State,
    lb: &LoadBalancer,
    lb_type: &LoadBalancerType,
    network: Option<NetworkId>,
    target: &LbTarget,
    at: &str,
) -> Result<LbTarget> {
    let field = |name: &str| format!("{at}{name}");
    let kind = normalized(target.kind.clone(), at)?;
    let private = target.use_private_ip;
    if private && matches!(kind, LbTargetKind::Ip(_)) {
        return Err(Error::invalid_field(&field("use_private_ip"), "is only for server and label_selector targets"));
    }
    if private && network.is_none() {
        return Err(not_attached("the load balancer is not attached to a network"));
    }
    if !private && !lb.public_interface {
        return Err(Error::refused(
            Refusal::PublicInterfaceDisabled,
            "the load balancer's public interface is disabled; use its private network (use_private_ip)",
        ));
    }
    match &kind {
        LbTargetKind::Server(id) => check_server_target(s, lb, network, *id, private, &field("server.id"))?,
        LbTargetKind::LabelSelector(_) => {}
        LbTargetKind::Ip(ip) => {
            if cloud_address(s, ip) {
                return Err(Error::refused(
                    Refusal::CloudResourceIp,
                    format!("{ip} belongs to a cloud resource; add the server as a target instead"),
                ));
            }
        }
    }
    if lb.targets.iter().any(|t| t.kind == kind) {
        return Err(Error::refused(Refusal::TargetExists, "the target is already defined"));
    }
    if lb.targets.len() >= lb_type.max_targets as usize {
        return Err(Error::invalid(format!(
            "load balancer type {} allows at most {} targets",
            lb_type.name, lb_type.max_targets
        )));
    }
    Ok(LbTarget { kind, use_private_ip: private })
}

fn check_server_target(
    s: &State,
    lb: &LoadBalancer,
    network: Option<NetworkId>,
    id: ServerId,
    private: bool,
    field: &str,
) -> Result<()> {
    let srv = s.server(lb.project, id).map_err(|_| Error::invalid_field(field, format!("server {id} not found")))?;
    let zone = |l: Option<LocationId>| l.and_then(|l| s.zone_of(l)).map(str::to_string);
    if zone(s.location_of(srv.datacenter)) != zone(Some(lb.location)) {
        return Err(Error::invalid_field(field, "the server is in another network zone than the load balancer"));
    }
    match network {
        Some(net) if private && s.nic_in(id.as_ref(), net).is_none() => Err(Error::refused(
            Refusal::NotAttached,
            format!("server {id} is not attached to the load balancer's network {net}"),
        )),
        _ if !private && s.primary_ip_of(id, IpFamily::V4).is_none() => {
            Err(Error::refused(Refusal::MissingIpv4, format!("server {id} has no public IPv4 address")))
        }
        _ => Ok(()),
    }
}

/// Whether `ip` is an address the cloud handed out: an IPv4 address, or one inside an
/// IPv6 /64 (the index holds the networks).
fn cloud_address(s: &State, ip: &str) -> bool {
    match ip.parse::<IpAddr>() {
        Ok(IpAddr::V4(_)) => s.addresses.contains_key(ip),
        Ok(IpAddr::V6(v6)) => ipnet::Ipv6Net::new(v6, 64)
            .map(|n| n.trunc())
            .is_ok_and(|net| s.addresses.contains_key(&format!("{}/64", net.network()))),
        Err(_) => false,
    }
}
