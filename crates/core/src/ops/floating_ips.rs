//! Floating IPs: addresses a project keeps and moves between its servers.

use super::server_actions::set_dns_ptr;
use super::servers::{own_server, resolve_location};
use super::{addresses, check_labels, check_limit, ensure_write, ListFilter, Ref};
use crate::cloud::Cloud;
use crate::engine::{create_action, ensure_unlocked, NewAction};
use crate::error::{Error, Result};
use crate::ids::*;
use crate::labels::Labels;
use crate::model::*;
use crate::state::State;
use crate::store::Record;
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

#[derive(Debug, Clone, Default)]
pub struct FloatingIpUpdate {
    pub name: Option<String>,
    /// `Some(None)` clears the description.
    pub description: Option<Option<String>>,
    pub labels: Option<Labels>,
}

/// An action on a floating IP.
#[derive(Debug, Clone)]
pub enum FloatingIpAction {
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

/// A floating IP together with whether an action holds it.
#[derive(Debug, Clone)]
pub struct FloatingIpView {
    pub ip: Arc<PublicIp>,
    pub location: Arc<Location>,
    pub locked: bool,
}

fn view(s: &State, ip: &Arc<PublicIp>) -> Option<FloatingIpView> {
    Some(FloatingIpView {
        ip: ip.clone(),
        location: s.locations.get(&ip.home_location.0)?.clone(),
        locked: s.locks.contains_key(&ip.id.as_ref()),
    })
}

pub(crate) fn own_floating<'a>(s: &'a State, p: &Principal, id: IpId) -> Result<&'a Arc<PublicIp>> {
    s.ips
        .get(&id.0)
        .filter(|ip| ip.project == p.project && ip.role == IpRole::Floating)
        .ok_or_else(|| Error::not_found(ResourceKind::Ip, id))
}

fn name_taken(s: &State, project: ProjectId, name: &str, except: Option<IpId>) -> bool {
    s.ips
        .values()
        .any(|ip| ip.project == project && ip.role == IpRole::Floating && ip.name == name && Some(ip.id) != except)
}

impl Cloud {
    pub fn floating_ip_list(&self, p: &Principal, filter: &ListFilter) -> Vec<FloatingIpView> {
        self.read(|s| {
            s.ips
                .values()
                .filter(|ip| ip.project == p.project && ip.role == IpRole::Floating)
                .filter(|ip| filter.matches(Some(&ip.name), &ip.labels))
                .filter_map(|ip| view(s, ip))
                .collect()
        })
    }

    pub fn floating_ip_get(&self, p: &Principal, id: IpId) -> Result<FloatingIpView> {
        self.read(|s| {
            own_floating(s, p, id).and_then(|ip| view(s, ip).ok_or_else(|| Error::Internal("dangling location".into())))
        })
    }

    /// Creates a floating IP; when `server` is given it is assigned by an action.
    pub async fn floating_ip_create(
        &self,
        p: &Principal,
        req: FloatingIpCreate,
    ) -> Result<(FloatingIpView, Option<Arc<Action>>)> {
        ensure_write(p)?;
        check_labels(Some(&req.labels))?;
        if let Some(name) = &req.name {
            validate_ip_name(name)?;
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
                    (None, Some(r)) => resolve_location(tx.state, r, "home_location")?.id,
                    (Some(server), None) => {
                        let srv = own_server(tx.state, p, *server)
                            .map_err(|_| Error::invalid_field("server", format!("server {server} not found")))?;
                        tx.state
                            .datacenters
                            .get(&srv.datacenter.0)
                            .map(|d| d.location)
                            .ok_or_else(|| Error::Internal("dangling datacenter".into()))?
                    }
                };
                let count =
                    tx.state.ips.values().filter(|ip| ip.project == p.project && ip.role == IpRole::Floating).count();
                check_limit(config.resource_limit, count, "floating IP")?;
                let id = IpId(tx.next_id());
                let name = req.name.clone().unwrap_or_else(|| format!("floating-ip-{id}"));
                if name_taken(tx.state, p.project, &name, None) {
                    return Err(Error::uniqueness("name", "floating IP name is already used"));
                }
                if let Some(server) = req.server {
                    ensure_unlocked(tx, &[server.as_ref()])?;
                }
                let address = addresses::allocate(tx.state, req.family, config.ipv4_pool, config.ipv6_pool)?;
                tx.put(Record::Ip(Arc::new(PublicIp {
                    id,
                    project: p.project,
                    role: IpRole::Floating,
                    family: req.family,
                    address,
                    name,
                    description: req.description.clone(),
                    home_location: home,
                    assignee: req.server,
                    dns_ptr: Vec::new(),
                    protection: Protection::default(),
                    labels: req.labels.clone(),
                    blocked: false,
                    created: now(),
                })));
                let action = match req.server {
                    Some(server) => Some(create_action(
                        tx,
                        p.project,
                        NewAction::new(Command::AssignFloatingIp, vec![id.as_ref(), server.as_ref()], Vec::new()),
                    )?),
                    None => None,
                };
                Ok((id, action))
            })
            .await?;
        Ok((self.floating_ip_get(p, id)?, action))
    }

    pub async fn floating_ip_update(&self, p: &Principal, id: IpId, req: FloatingIpUpdate) -> Result<FloatingIpView> {
        ensure_write(p)?;
        check_labels(req.labels.as_ref())?;
        if let Some(name) = &req.name {
            validate_ip_name(name)?;
        }
        self.write(|tx| {
            let mut ip = PublicIp::clone(own_floating(tx.state, p, id)?);
            if let Some(name) = req.name {
                if name_taken(tx.state, p.project, &name, Some(id)) {
                    return Err(Error::uniqueness("name", "floating IP name is already used"));
                }
                ip.name = name;
            }
            if let Some(description) = req.description {
                ip.description = description;
            }
            if let Some(labels) = req.labels {
                ip.labels = labels;
            }
            tx.put(Record::Ip(Arc::new(ip)));
            Ok(())
        })
        .await?;
        self.floating_ip_get(p, id)
    }

    pub async fn floating_ip_delete(&self, p: &Principal, id: IpId) -> Result<()> {
        ensure_write(p)?;
        self.write(|tx| {
            let ip = own_floating(tx.state, p, id)?;
            if ip.protection.delete {
                return Err(Error::Protected {
                    message: "floating IP deletion is protected; disable delete protection first".into(),
                });
            }
            ensure_unlocked(tx, &[id.as_ref()])?;
            tx.delete(id.as_ref());
            Ok(())
        })
        .await
    }

    pub async fn floating_ip_action(&self, p: &Principal, id: IpId, op: FloatingIpAction) -> Result<Arc<Action>> {
        ensure_write(p)?;
        self.write(|tx| {
            let ip = own_floating(tx.state, p, id)?.clone();
            ensure_unlocked(tx, &[id.as_ref()])?;
            let mut updated = PublicIp::clone(&ip);
            let (command, resources) = match &op {
                FloatingIpAction::Assign { server } => {
                    let srv = own_server(tx.state, p, *server)
                        .map_err(|_| Error::invalid_field("server", format!("server {server} not found")))?;
                    // A floating IP routes to servers in its home location's network zone.
                    let zone = |loc: LocationId| tx.state.locations.get(&loc.0).map(|l| l.network_zone.clone());
                    let srv_zone = tx.state.datacenters.get(&srv.datacenter.0).and_then(|d| zone(d.location));
                    if srv_zone.is_none() || srv_zone != zone(ip.home_location) {
                        return Err(Error::invalid_field(
                            "server",
                            "server is in another network zone than the floating IP's home location",
                        ));
                    }
                    updated.assignee = Some(*server);
                    tx.put(Record::Ip(Arc::new(updated)));
                    (Command::AssignFloatingIp, vec![id.as_ref(), server.as_ref()])
                }
                FloatingIpAction::Unassign => {
                    updated.assignee = None;
                    tx.put(Record::Ip(Arc::new(updated)));
                    (Command::UnassignFloatingIp, vec![id.as_ref()])
                }
                FloatingIpAction::ChangeDnsPtr { ip: addr, ptr } => {
                    if !addresses::contains(&ip.address, addr) {
                        return Err(Error::invalid_field(
                            "ip",
                            format!("{addr} is not an address of this floating IP"),
                        ));
                    }
                    set_dns_ptr(tx, &ip, addr, ptr.as_deref())?;
                    (Command::ChangeDnsPtr, vec![id.as_ref()])
                }
                FloatingIpAction::ChangeProtection { delete } => {
                    if let Some(delete) = delete {
                        updated.protection.delete = *delete;
                    }
                    tx.put(Record::Ip(Arc::new(updated)));
                    (Command::ChangeProtection, vec![id.as_ref()])
                }
            };
            // TODO-fidelity: with a real data plane (roadmap: networking) assigning an
            // address becomes driver steps; in the simulator it takes effect at once.
            create_action(tx, p.project, NewAction::new(command, resources, Vec::new()))
        })
        .await
    }
}

fn validate_ip_name(name: &str) -> Result<()> {
    if name.is_empty() || name.len() > 128 {
        return Err(Error::invalid_field("name", "must be 1 to 128 characters"));
    }
    Ok(())
}
