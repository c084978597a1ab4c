//! Public IPs a project keeps: floating IPs, which move between its servers, and
//! primary IPs, a server's own addresses, which may outlive it.

use super::server_actions::validate_ptr;
use super::{
    addresses, check_labels, check_limit, ensure_unprotected, ensure_write, paged, validate_name, ListFilter, Ref,
};
use crate::actions::{self, AssignParams, ChangeDnsPtr, ChangeProtection, DnsPtrParams, ProtectionParams};
use crate::cloud::Cloud;
use crate::data::{State, Tx};
use crate::engine::ensure_unlocked;
use crate::error::{Error, Refusal, Result};
use crate::ids::*;
use crate::labels::Labels;
use crate::model::*;
use crate::page::Page;
use crate::store::Record;
use crate::views::{holder, Holder};
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct FloatingIpCreate {
    pub family: IpFamily,
    /// Assign to this server at once (the IP's home is then the server's location).
    pub server: Option<ServerId>,
    pub home_location: Option<Ref>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub labels: Labels,
}

#[derive(Debug, Clone)]
pub struct PrimaryIpCreate {
    pub family: IpFamily,
    pub name: String,
    /// Assign to this (powered-off) server at once; its location is then the IP's.
    pub server: Option<ServerId>,
    /// Where it lives, when not given by `server`.
    pub datacenter: Option<Ref>,
    pub location: Option<Ref>,
    pub auto_delete: bool,
    pub labels: Labels,
}

#[derive(Debug, Clone, Default)]
pub struct IpUpdate {
    pub name: Option<String>,
    /// `Some(None)` clears the description.
    pub description: Option<Option<String>>,
    pub labels: Option<Labels>,
    /// Primary IPs: whether it is deleted with its server.
    pub auto_delete: Option<bool>,
}

/// An action on a public IP (floating or primary).
#[derive(Debug, Clone)]
pub enum IpAction {
    Assign {
        server: ServerId,
    },
    Unassign,
    ChangeDnsPtr {
        ip: String,
        ptr: Option<String>,
    },
    /// `None` leaves the flag as it is.
    ChangeProtection {
        delete: Option<bool>,
    },
}

/// A public IP with its location and the action holding it.
#[derive(Debug, Clone)]
pub struct IpView {
    pub ip: Arc<PublicIp>,
    pub location: Arc<Location>,
    /// The first datacenter of its location (Hetzner primary IPs show one).
    pub datacenter: Option<crate::views::DatacenterView>,
    pub holder: Option<Holder>,
}

pub(crate) fn ip_view(s: &State, ip: &Arc<PublicIp>) -> Option<IpView> {
    let location = s.locations.get(ip.home_location.0)?.clone();
    let datacenter =
        s.datacenters.all().find(|d| d.location == ip.home_location).and_then(|d| crate::views::datacenter_view(s, d));
    Some(IpView { ip: ip.clone(), location, datacenter, holder: holder(s, ip.id.as_ref()) })
}

/// How a dialect orders IPs (by its own sort fields).
pub type IpOrder<'a> = super::Order<'a, PublicIp>;

impl Cloud {
    /// The role of an IP, for dialects that name the two kinds of IP differently when
    /// they render an action's resources (the action is already known to be visible).
    pub fn ip_role(&self, id: IpId) -> Option<IpRole> {
        self.read(|s| s.ips.get(id.0).map(|ip| ip.role))
    }

    /// A page of the project's IPs of `role` that match, in id order unless `order` is
    /// given (`page` gets the total and says which page); only the page's IPs become
    /// views, and without a filter or an order the page comes straight from the index.
    pub fn ip_page<E>(
        &self,
        p: &Principal,
        role: IpRole,
        filter: &ListFilter,
        order: Option<&IpOrder<'_>>,
        page: impl FnOnce(usize) -> std::result::Result<Page, E>,
    ) -> std::result::Result<(Page, Vec<IpView>), E> {
        self.read(|s| {
            let exact = (filter.name.is_none() && filter.label_selector.is_none())
                .then(|| s.ips.exact_class(Some(p.project), role as u8));
            let matching = || {
                s.ips
                    .candidates(Some(p.project), filter.name.as_deref(), filter.label_selector.as_ref())
                    .into_iter()
                    .filter(|ip| ip.role == role && filter.matches(Some(&ip.name), &ip.labels))
                    .collect()
            };
            paged(exact, matching, order, page, |ip| ip_view(s, ip))
        })
    }

    /// The project's primary IP holding the address `ip` (an IPv6 address finds the /64 it
    /// lies in), if it matches `filter`.
    pub fn primary_ip_holding(&self, p: &Principal, filter: &ListFilter, ip: &str) -> Result<Vec<IpView>> {
        let key = addresses::holder_key(ip).ok_or_else(|| Error::invalid_field("ip", "must be an IP address"))?;
        Ok(self.read(|s| {
            s.ip_holding(&key)
                .filter(|found| found.project == p.project && found.role == IpRole::Primary)
                .filter(|found| filter.matches(Some(&found.name), &found.labels))
                .and_then(|found| ip_view(s, found))
                .into_iter()
                .collect()
        }))
    }

    pub fn ip_get(&self, p: &Principal, role: IpRole, id: IpId) -> Result<IpView> {
        self.read(|s| {
            let ip = s.ip_of_role(p.project, id, role)?;
            ip_view(s, ip).ok_or_else(|| Error::Internal("dangling location".into()))
        })
    }

    /// Creates a floating IP; when `server` is given it is assigned by an action.
    pub async fn floating_ip_create(
        &self,
        p: &Principal,
        req: FloatingIpCreate,
    ) -> Result<(IpView, Option<Arc<Action>>)> {
        ensure_write(p)?;
        check_labels(Some(&req.labels))?;
        if let Some(name) = &req.name {
            validate_name("name", name)?;
        }
        let config = self.config().clone();
        let (id, action) = self
            .write(|tx| {
                let home = match (&req.server, &req.home_location) {
                    (Some(_), Some(_)) => {
                        return Err(Error::invalid("server and home_location are mutually exclusive"))
                    }
                    (None, None) => {
                        return Err(Error::invalid_field("home_location", "either server or home_location is required"))
                    }
                    (None, Some(r)) => tx.location_ref(r, "home_location")?.id,
                    (Some(server), None) => {
                        let srv = tx
                            .server(p.project, *server)
                            .map_err(|_| Error::invalid_field("server", format!("server {server} not found")))?;
                        tx.location_of(srv.datacenter).ok_or_else(|| Error::Internal("dangling datacenter".into()))?
                    }
                };
                let count = tx.ips_with_role(p.project, IpRole::Floating).count();
                check_limit(config.resource_limit, count, ResourceKind::Ip)?;
                let id = IpId(tx.next_id());
                let name = req.name.clone().unwrap_or_else(|| format!("floating-ip-{id}"));
                if tx.ip_name_taken(p.project, IpRole::Floating, &name, None) {
                    return Err(Error::uniqueness("name", "floating IP name is already used"));
                }
                if let Some(server) = req.server {
                    ensure_unlocked(tx, &[server.as_ref()])?;
                }
                let address = addresses::allocate(tx, req.family, config.ipv4_pool, config.ipv6_pool)?;
                tx.put(Record::Ip(Arc::new(PublicIp {
                    id,
                    project: p.project,
                    role: IpRole::Floating,
                    family: req.family,
                    address,
                    name,
                    description: req.description.clone(),
                    home_location: home,
                    assignee: None,
                    auto_delete: false,
                    dns_ptr: Vec::new(),
                    protection: Protection::default(),
                    labels: req.labels.clone(),
                    blocked: false,
                    created: now(),
                })));
                let action = match req.server {
                    Some(server) => {
                        let params = AssignParams { ip: id, server: Some(server) };
                        Some(actions::start::<actions::FloatingIpAssign>(tx, p.project, params, None)?)
                    }
                    None => None,
                };
                Ok((id, action))
            })
            .await?;
        Ok((self.ip_get(p, IpRole::Floating, id)?, action))
    }

    /// Creates a primary IP; when `server` is given it is assigned by an action.
    pub async fn primary_ip_create(
        &self,
        p: &Principal,
        req: PrimaryIpCreate,
    ) -> Result<(IpView, Option<Arc<Action>>)> {
        ensure_write(p)?;
        check_labels(Some(&req.labels))?;
        validate_name("name", &req.name)?;
        let config = self.config().clone();
        let (id, action) = self
            .write(|tx| {
                let home = match (&req.server, &req.datacenter, &req.location) {
                    (Some(server), None, None) => {
                        let srv = tx
                            .server(p.project, *server)
                            .map_err(|_| Error::invalid_field("assignee_id", format!("server {server} not found")))?;
                        tx.location_of(srv.datacenter).ok_or_else(|| Error::Internal("dangling datacenter".into()))?
                    }
                    (Some(_), _, _) => {
                        return Err(Error::invalid("assignee_id and datacenter (or location) are mutually exclusive"))
                    }
                    (None, None, None) => {
                        return Err(Error::invalid_field("datacenter", "either assignee_id or datacenter is required"))
                    }
                    (None, dc, loc) => tx.placement(loc.as_ref(), dc.as_ref())?.location,
                };
                let count = tx.ips_with_role(p.project, IpRole::Primary).count();
                check_limit(config.resource_limit, count, ResourceKind::Ip)?;
                if tx.ip_name_taken(p.project, IpRole::Primary, &req.name, None) {
                    return Err(Error::uniqueness("name", "primary IP name is already used"));
                }
                let mut ip = super::servers::new_primary_ip(tx, p.project, None, req.family, home, &config)?;
                ip.name = req.name.clone();
                ip.auto_delete = req.auto_delete;
                ip.labels = req.labels.clone();
                let ip = Arc::new(ip);
                tx.put(Record::Ip(ip.clone()));
                let action = match req.server {
                    Some(server) => {
                        let params = check_assign(tx, p, &ip, server)?;
                        Some(actions::start::<actions::PrimaryIpAssign>(tx, p.project, params, None)?)
                    }
                    None => None,
                };
                Ok((ip.id, action))
            })
            .await?;
        Ok((self.ip_get(p, IpRole::Primary, id)?, action))
    }

    pub async fn ip_update(&self, p: &Principal, role: IpRole, id: IpId, req: IpUpdate) -> Result<IpView> {
        ensure_write(p)?;
        check_labels(req.labels.as_ref())?;
        if let Some(name) = &req.name {
            validate_name("name", name)?;
        }
        self.write(|tx| {
            let mut ip = PublicIp::clone(tx.ip_of_role(p.project, id, role)?);
            if let Some(name) = req.name {
                if tx.ip_name_taken(p.project, role, &name, Some(id)) {
                    return Err(Error::uniqueness("name", "IP name is already used"));
                }
                ip.name = name;
            }
            if let Some(description) = req.description {
                ip.description = description;
            }
            if let Some(labels) = req.labels {
                ip.labels = labels;
            }
            if let Some(auto_delete) = req.auto_delete {
                ip.auto_delete = auto_delete;
            }
            tx.put(Record::Ip(Arc::new(ip)));
            Ok(())
        })
        .await?;
        self.ip_get(p, role, id)
    }

    pub async fn ip_delete(&self, p: &Principal, role: IpRole, id: IpId) -> Result<()> {
        ensure_write(p)?;
        self.write(|tx| {
            let ip = tx.ip_of_role(p.project, id, role)?;
            ensure_unprotected(ip.protection, id.as_ref(), "delete")?;
            // An assigned primary IP goes with the server's consent: it must be off.
            if let Some(server) = ip.server().filter(|_| role == IpRole::Primary) {
                if tx.servers.get(server.0).is_some_and(|s| s.status != ServerStatus::Off) {
                    return Err(Error::refused(
                        crate::Refusal::NotStopped,
                        "the server the primary IP is assigned to must be powered off",
                    ));
                }
                ensure_unlocked(tx, &[server.as_ref()])?;
            }
            ensure_unlocked(tx, &[id.as_ref()])?;
            tx.delete(id.as_ref());
            Ok(())
        })
        .await
    }

    pub async fn ip_action(&self, p: &Principal, role: IpRole, id: IpId, op: IpAction) -> Result<Arc<Action>> {
        ensure_write(p)?;
        self.write(|tx| {
            let ip = tx.ip_of_role(p.project, id, role)?.clone();
            ensure_unlocked(tx, &[id.as_ref()])?;
            match &op {
                IpAction::Assign { server } => {
                    let params = check_assign(tx, p, &ip, *server)?;
                    match role {
                        IpRole::Primary => actions::start::<actions::PrimaryIpAssign>(tx, p.project, params, None),
                        _ => actions::start::<actions::FloatingIpAssign>(tx, p.project, params, None),
                    }
                }
                IpAction::Unassign => {
                    if role == IpRole::Primary {
                        if let Some(server) = ip.server() {
                            check_primary_unassign(tx, p, &ip, server)?;
                        }
                    }
                    let params = AssignParams { ip: id, server: None };
                    match role {
                        IpRole::Primary => actions::start::<actions::PrimaryIpUnassign>(tx, p.project, params, None),
                        _ => actions::start::<actions::FloatingIpUnassign>(tx, p.project, params, None),
                    }
                }
                IpAction::ChangeDnsPtr { ip: addr, ptr } => {
                    if !addresses::contains(&ip.address, addr) {
                        return Err(Error::invalid_field("ip", format!("{addr} is not an address of this IP")));
                    }
                    validate_ptr(ptr.as_deref())?;
                    let params =
                        DnsPtrParams { ip: id, address: addr.clone(), ptr: ptr.clone(), on: vec![id.as_ref()] };
                    actions::start::<ChangeDnsPtr>(tx, p.project, params, None)
                }
                IpAction::ChangeProtection { delete } => {
                    // Hetzner: a primary IP that goes with its server cannot be protected.
                    if role == IpRole::Primary && *delete == Some(true) && ip.auto_delete {
                        return Err(Error::invalid_field(
                            "delete",
                            "a primary IP can only be protected against deletion when auto_delete is off",
                        ));
                    }
                    let params = ProtectionParams { resource: id.as_ref(), delete: *delete, rebuild: None };
                    actions::start::<ChangeProtection>(tx, p.project, params, None)
                }
            }
        })
        .await
    }
}

/// Whether `ip` may be assigned to `server`.
fn check_assign(tx: &Tx, p: &Principal, ip: &PublicIp, server: ServerId) -> Result<AssignParams> {
    let srv = tx
        .server(p.project, server)
        .map_err(|_| Error::invalid_field("assignee_id", format!("server {server} not found")))?;
    ensure_unlocked(tx, &[server.as_ref()])?;
    let srv_location = tx.location_of(srv.datacenter);
    match ip.role {
        IpRole::Primary => {
            if let Some(at) = ip.assignee {
                return Err(Error::refused(
                    Refusal::AssignedElsewhere,
                    format!("the primary IP is already assigned to {at}; unassign it first", at = at.as_ref()),
                ));
            }
            if srv.status != ServerStatus::Off {
                return Err(Error::refused(
                    Refusal::NotStopped,
                    "the server must be powered off to assign a primary IP",
                ));
            }
            if tx.primary_ip_of(server, ip.family).is_some() {
                let reason = match ip.family {
                    IpFamily::V4 => Refusal::ServerHasIpv4,
                    IpFamily::V6 => Refusal::ServerHasIpv6,
                };
                let family = ip.family.as_str();
                return Err(Error::refused(reason, format!("the server already has a primary {family} address")));
            }
            if srv_location != Some(ip.home_location) {
                return Err(Error::refused(
                    Refusal::LocationMismatch,
                    "the server is in another location than the primary IP",
                ));
            }
        }
        _ => {
            // A floating IP routes to servers in its home location's network zone.
            let srv_zone = srv_location.and_then(|l| tx.zone_of(l));
            if srv_zone.is_none() || srv_zone != tx.zone_of(ip.home_location) {
                return Err(Error::invalid_field(
                    "server",
                    "server is in another network zone than the floating IP's home location",
                ));
            }
        }
    }
    Ok(AssignParams { ip: ip.id, server: Some(server) })
}

/// Whether a primary IP may leave `server`: only while it is off, and not while a load
/// balancer reaches the server on its public IPv4 address.
fn check_primary_unassign(tx: &Tx, p: &Principal, ip: &PublicIp, server: ServerId) -> Result<()> {
    let srv = tx.server(p.project, server)?;
    if srv.status != ServerStatus::Off {
        return Err(Error::refused(Refusal::NotStopped, "the server must be powered off to unassign its primary IP"));
    }
    if ip.family == IpFamily::V4 && tx.is_public_lb_target(srv) {
        return Err(Error::refused(
            Refusal::LoadBalancerTarget,
            "the server's IPv4 address is a load balancer target; remove the target or use its private IP first",
        ));
    }
    ensure_unlocked(tx, &[server.as_ref()])
}
