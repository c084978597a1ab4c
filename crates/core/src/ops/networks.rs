//! Private networks: list, get, create, update, delete, members, and the actions that
//! change their subnets, routes, range and protection.

use super::{check_labels, ensure_free, ensure_unprotected, ensure_write, validate_name, ListFilter};
use crate::actions::{self, Kind, NetworkChange, NetworkChangeParams, ProtectionParams};
use crate::cloud::Cloud;
use crate::data::Tx;
use crate::error::{Error, Result};
use crate::ids::*;
use crate::labels::Labels;
use crate::model::*;
use crate::views::{network_member, network_view, MemberStatus, NetworkMember, NetworkView};
use std::sync::Arc;

/// A subnet to add, at creation or later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubnetRequest {
    pub kind: SubnetKind,
    /// The first free /24 of the network when `None`.
    pub ip_range: Option<String>,
    pub network_zone: String,
    /// Required for (and only for) `vswitch` subnets.
    pub vswitch_id: Option<i64>,
}

impl SubnetRequest {
    fn change(&self) -> NetworkChange {
        NetworkChange::AddSubnet {
            kind: self.kind,
            ip_range: self.ip_range.clone(),
            network_zone: self.network_zone.clone(),
            vswitch_id: self.vswitch_id,
        }
    }
}

#[derive(Debug, Clone)]
pub struct NetworkCreate {
    pub name: String,
    pub ip_range: String,
    pub subnets: Vec<SubnetRequest>,
    pub routes: Vec<Route>,
    pub expose_routes_to_vswitch: bool,
    pub labels: Labels,
}

#[derive(Debug, Clone, Default)]
pub struct NetworkUpdate {
    pub name: Option<String>,
    pub labels: Option<Labels>,
    pub expose_routes_to_vswitch: Option<bool>,
}

/// An action on a network.
#[derive(Debug, Clone)]
pub enum NetworkAction {
    AddSubnet(SubnetRequest),
    /// The subnet with exactly this range.
    DeleteSubnet {
        ip_range: String,
    },
    AddRoute(Route),
    /// The route with exactly this destination and gateway.
    DeleteRoute(Route),
    /// Grows the range (same first address, shorter prefix).
    ChangeIpRange {
        ip_range: String,
    },
    /// `None` leaves the flag as it is.
    ChangeProtection {
        delete: Option<bool>,
    },
}

/// Which members to list (all when a field is empty).
#[derive(Debug, Clone, Default)]
pub struct MemberFilter {
    /// `true` for servers, `false` for load balancers.
    pub servers: Option<bool>,
    pub status: Vec<MemberStatus>,
    /// Subnet ranges, as the network shows them.
    pub subnets: Vec<String>,
}

impl MemberFilter {
    fn matches(&self, m: &NetworkMember) -> bool {
        self.servers.is_none_or(|servers| matches!(m.owner, Attachee::Server(_)) == servers)
            && (self.status.is_empty() || self.status.contains(&m.status))
            && (self.subnets.is_empty() || self.subnets.contains(&m.subnet))
    }
}

impl Cloud {
    /// The project's networks that match, in id order.
    pub fn network_list(&self, p: &Principal, filter: &ListFilter) -> Vec<NetworkView> {
        self.read(|s| {
            s.networks
                .candidates(Some(p.project), filter.name.as_deref(), filter.label_selector.as_ref())
                .into_iter()
                .filter(|n| filter.matches(Some(&n.name), &n.labels))
                .map(|n| network_view(s, n))
                .collect()
        })
    }

    pub fn network_get(&self, p: &Principal, id: NetworkId) -> Result<NetworkView> {
        self.read(|s| s.network(p.project, id).map(|n| network_view(s, n)))
    }

    /// The servers and load balancers in a network, in interface order.
    pub fn network_members(&self, p: &Principal, id: NetworkId, filter: &MemberFilter) -> Result<Vec<NetworkMember>> {
        self.read(|s| {
            let network = s.network(p.project, id)?;
            Ok(s.nics_in(id).map(|nic| network_member(s, network, nic)).filter(|m| filter.matches(m)).collect())
        })
    }

    /// Creates a network with its subnets and routes; it exists on the data plane once
    /// its (hidden) action is done.
    pub async fn network_create(&self, p: &Principal, req: NetworkCreate) -> Result<NetworkView> {
        ensure_write(p)?;
        validate_name("name", &req.name)?;
        check_labels(Some(&req.labels))?;
        let limit = self.config().resource_limit;
        let (id, action) = self
            .write(|tx| {
                if tx.networks.named(Some(p.project), &req.name).next().is_some() {
                    return Err(Error::uniqueness("name", "network name is already used"));
                }
                super::check_limit(limit, tx.networks.count(Some(p.project)), ResourceKind::Network)?;
                parse_network_range("ip_range", &req.ip_range)?;
                let mut network = Network {
                    id: NetworkId(tx.next_id()),
                    project: p.project,
                    name: req.name.clone(),
                    ip_range: req.ip_range.clone(),
                    subnets: Vec::new(),
                    routes: Vec::new(),
                    expose_routes_to_vswitch: req.expose_routes_to_vswitch,
                    protection: Protection::default(),
                    labels: req.labels.clone(),
                    created: now(),
                };
                let changes = req.subnets.iter().map(SubnetRequest::change);
                for change in changes.chain(req.routes.iter().cloned().map(NetworkChange::AddRoute)) {
                    network = change.apply(tx, &network)?;
                }
                let id = network.id;
                let params = actions::NetworkCreateParams { network };
                Ok((id, actions::start::<actions::NetworkCreate>(tx, p.project, params, None)?))
            })
            .await?;
        failed_at_once(&action, "created")?;
        self.network_get(p, id)
    }

    /// Renames or relabels a network, or toggles whether its routes reach a vSwitch
    /// (records only: the data plane has no vSwitch).
    pub async fn network_update(&self, p: &Principal, id: NetworkId, req: NetworkUpdate) -> Result<NetworkView> {
        ensure_write(p)?;
        if let Some(name) = &req.name {
            validate_name("name", name)?;
        }
        check_labels(req.labels.as_ref())?;
        self.write(|tx| {
            let mut network = Network::clone(tx.network(p.project, id)?);
            if let Some(name) = req.name {
                if tx.networks.named(Some(p.project), &name).any(|n| n.id != id) {
                    return Err(Error::uniqueness("name", "network name is already used"));
                }
                network.name = name;
            }
            if let Some(labels) = req.labels {
                network.labels = labels;
            }
            if let Some(expose) = req.expose_routes_to_vswitch {
                network.expose_routes_to_vswitch = expose;
            }
            tx.put(crate::store::Record::Network(Arc::new(network)));
            Ok(())
        })
        .await?;
        self.network_get(p, id)
    }

    /// Deletes a network. Servers and load balancers in it are detached with it, as
    /// Hetzner does; it and they must not be busy with another action.
    pub async fn network_delete(&self, p: &Principal, id: NetworkId) -> Result<()> {
        ensure_write(p)?;
        let action = self
            .write(|tx| {
                let network = tx.network(p.project, id)?.clone();
                ensure_unprotected(network.protection, id.as_ref(), "delete")?;
                let nics = tx.nics_in(id).map(|n| Nic::clone(n)).collect();
                let params = actions::NetworkDeleteParams { network: Network::clone(&network), nics };
                ensure_free(tx, &actions::NetworkDelete::resources(&params))?;
                actions::start::<actions::NetworkDelete>(tx, p.project, params, None)
            })
            .await?;
        failed_at_once(&action, "deleted")
    }

    pub async fn network_action(&self, p: &Principal, id: NetworkId, op: NetworkAction) -> Result<Arc<Action>> {
        ensure_write(p)?;
        self.write(|tx| {
            let network = tx.network(p.project, id)?.clone();
            let change = match op {
                NetworkAction::ChangeProtection { delete } => {
                    let params = ProtectionParams { resource: id.as_ref(), delete, rebuild: None };
                    return start_on::<actions::ChangeProtection>(tx, p.project, id, params);
                }
                NetworkAction::AddSubnet(req) => req.change(),
                NetworkAction::DeleteSubnet { ip_range } => NetworkChange::DeleteSubnet { ip_range },
                NetworkAction::AddRoute(route) => NetworkChange::AddRoute(route),
                NetworkAction::DeleteRoute(route) => NetworkChange::DeleteRoute(route),
                NetworkAction::ChangeIpRange { ip_range } => NetworkChange::ChangeIpRange { ip_range },
            };
            // Checked now against the network as it is; a change that waits for another
            // is checked again when it runs.
            change.apply(tx, &network)?;
            let start = match &change {
                NetworkChange::AddSubnet { .. } => start_on::<actions::NetworkAddSubnet>,
                NetworkChange::DeleteSubnet { .. } => start_on::<actions::NetworkDeleteSubnet>,
                NetworkChange::AddRoute(_) => start_on::<actions::NetworkAddRoute>,
                NetworkChange::DeleteRoute(_) => start_on::<actions::NetworkDeleteRoute>,
                NetworkChange::ChangeIpRange { .. } => start_on::<actions::NetworkChangeIpRange>,
            };
            start(tx, p.project, id, NetworkChangeParams { network: id, change })
        })
        .await
    }
}

/// Starts an action on a network. One asked for while another holds the network waits
/// for it rather than failing: clients add a subnet right after creating a network, whose
/// own (hidden) action may still run, and Hetzner would answer `conflict`, which hcloud-go
/// retries until it succeeds; waiting gives that outcome at once.
fn start_on<K: Kind>(tx: &mut Tx, project: ProjectId, network: NetworkId, params: K::Params) -> Result<Arc<Action>> {
    let holder = tx.lock_holder(network.as_ref());
    if let Some(h) = holder {
        // Only a running action can be waited for, and only by one action at a time
        // (the engine keeps one successor each): a stuck one must be resolved first.
        let waitable = tx.actions.get(h.0).is_some_and(|a| a.is_running()) && tx.successor(h).is_none();
        if !waitable {
            ensure_free(tx, &[network.as_ref()])?;
        }
    }
    actions::start::<K>(tx, project, params, holder)
}

/// A create or delete whose first step failed (only an injected fault does that) fails
/// the request: the action is kept for the record.
fn failed_at_once(action: &Action, what: &str) -> Result<()> {
    match action.error.as_ref().filter(|_| action.status == ActionStatus::Error) {
        Some(error) => {
            Err(Error::Unavailable { message: format!("the network could not be {what}: {}", error.message) })
        }
        None => Ok(()),
    }
}
