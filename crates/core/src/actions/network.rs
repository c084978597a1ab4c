//! Private networks: made, changed and removed on the data plane. Each change is a
//! record step (so the network shows it, and a failure puts it back) and a driver step
//! that applies the network as the records now describe it.
//!
//! Changes to one network run one at a time: they lock it, and one asked for while
//! another runs waits for it (`ops::networks`). A waiting change's record step runs only
//! then, so it checks its change again against the network as it has become.

use super::steps::{gone, update_network};
use super::{Ctx, Kind, Step, StepResult};
use crate::data::{State, Tx};
use crate::engine::Call;
use crate::error::{Error, Refusal};
use crate::ids::*;
use crate::model::*;
use crate::store::Record;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::Arc;

/// `network_create`: the record, then the network on the data plane.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct NetworkCreateParams {
    pub network: Network,
}

fn insert_network(tx: &mut Tx, c: &Ctx<NetworkCreateParams>) -> StepResult {
    tx.put(Record::Network(Arc::new(c.params.network.clone())));
    Ok(None)
}
fn remove_network(tx: &mut Tx, c: &Ctx<NetworkCreateParams>) -> StepResult {
    tx.delete(c.params.network.id.as_ref());
    Ok(None)
}
fn create_on_plane(s: &State, c: &Ctx<NetworkCreateParams>) -> Result<Call, ActionError> {
    let id = c.params.network.id;
    let network = s.networks.get(id.0).ok_or_else(|| gone(id.as_ref()))?;
    Ok(Call::ApplyNetwork(s.network_spec(network)))
}
fn delete_from_plane(_: &State, c: &Ctx<NetworkCreateParams>) -> Result<Call, ActionError> {
    Ok(Call::DeleteNetwork(c.params.network.id.0))
}

/// `network_create`. Hetzner answers a new network without an action.
pub(crate) struct NetworkCreate;

impl Kind for NetworkCreate {
    const NAME: &'static str = "network_create";
    type Params = NetworkCreateParams;

    fn steps() -> &'static [Step<NetworkCreateParams>] {
        static STEPS: [Step<NetworkCreateParams>; 2] = [
            Step::record("insert_network", insert_network).undo_record(remove_network),
            Step::driver("apply_network", create_on_plane).undo_driver(delete_from_plane),
        ];
        &STEPS
    }

    fn resources(p: &NetworkCreateParams) -> Vec<ResourceRef> {
        vec![p.network.id.as_ref()]
    }
}

/// `network_delete`: the network and every interface in it, as they were when asked.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct NetworkDeleteParams {
    pub network: Network,
    /// The interfaces plugged into it: detached with it (Hetzner: "attached resources
    /// will be detached automatically").
    pub nics: Vec<Nic>,
}

impl NetworkDeleteParams {
    /// The interfaces with a VM behind them. A load balancer's interface is records only
    /// here: its data plane is the load balancer's own (`Call::ApplyLoadBalancer`).
    fn server_nics(&self) -> impl Iterator<Item = (ServerId, &Nic)> {
        self.nics.iter().filter_map(|n| match n.owner {
            Attachee::Server(server) => Some((server, n)),
            Attachee::LoadBalancer(_) => None,
        })
    }
}

/// The records go first, in the request's own commit: once the API answers, no server
/// shows the network and its name is free again.
fn remove_records(tx: &mut Tx, c: &Ctx<NetworkDeleteParams>) -> StepResult {
    for nic in &c.params.nics {
        tx.delete(nic.id.as_ref());
    }
    tx.delete(c.params.network.id.as_ref());
    Ok(None)
}
fn restore_records(tx: &mut Tx, c: &Ctx<NetworkDeleteParams>) -> StepResult {
    tx.put(Record::Network(Arc::new(c.params.network.clone())));
    for nic in &c.params.nics {
        tx.put(Record::Nic(Arc::new(nic.clone())));
    }
    Ok(None)
}
fn unplug_nics(_: &State, c: &Ctx<NetworkDeleteParams>) -> Result<Call, ActionError> {
    Ok(Call::Many(c.params.server_nics().map(|(server, n)| Call::DetachNic { vm: server.0, nic: n.id.0 }).collect()))
}
fn replug_nics(s: &State, c: &Ctx<NetworkDeleteParams>) -> Result<Call, ActionError> {
    let calls = c.params.server_nics().map(|(server, n)| Call::AttachNic { vm: server.0, nic: s.nic_spec(n) });
    Ok(Call::Many(calls.collect()))
}
fn delete_network(_: &State, c: &Ctx<NetworkDeleteParams>) -> Result<Call, ActionError> {
    Ok(Call::DeleteNetwork(c.params.network.id.0))
}
fn recreate_network(s: &State, c: &Ctx<NetworkDeleteParams>) -> Result<Call, ActionError> {
    Ok(Call::ApplyNetwork(s.network_spec(&c.params.network)))
}

/// `network_delete`. Hetzner answers `204` without an action.
pub(crate) struct NetworkDelete;

impl Kind for NetworkDelete {
    const NAME: &'static str = "network_delete";
    type Params = NetworkDeleteParams;

    fn steps() -> &'static [Step<NetworkDeleteParams>] {
        static STEPS: [Step<NetworkDeleteParams>; 3] = [
            Step::record("remove_records", remove_records).undo_record(restore_records),
            Step::driver("unplug_nics", unplug_nics).undo_driver(replug_nics),
            Step::driver("delete_network", delete_network).undo_driver(recreate_network),
        ];
        &STEPS
    }

    /// The network and every owner of an interface in it, whose interfaces go.
    fn resources(p: &NetworkDeleteParams) -> Vec<ResourceRef> {
        let mut r = vec![p.network.id.as_ref()];
        for nic in &p.nics {
            let owner = nic.owner.as_ref();
            if !r.contains(&owner) {
                r.push(owner);
            }
        }
        r
    }
}

/// A change to a network's range, subnets or routes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum NetworkChange {
    /// `ip_range: None`: the first free /24.
    AddSubnet {
        kind: SubnetKind,
        ip_range: Option<String>,
        network_zone: String,
        vswitch_id: Option<i64>,
    },
    DeleteSubnet {
        ip_range: String,
    },
    AddRoute(Route),
    DeleteRoute(Route),
    ChangeIpRange {
        ip_range: String,
    },
}

impl NetworkChange {
    /// The network with the change made, or why it cannot be: the request's check, and
    /// again a waiting change's when it runs.
    pub(crate) fn apply(&self, s: &State, network: &Network) -> crate::Result<Network> {
        let mut net = network.clone();
        match self {
            NetworkChange::AddSubnet { kind, ip_range, network_zone, vswitch_id } => {
                if !s.locations.all().any(|l| l.network_zone == *network_zone) {
                    return Err(Error::invalid_field("network_zone", format!("unknown network zone '{network_zone}'")));
                }
                net.add_subnet(*kind, ip_range.as_deref(), network_zone, *vswitch_id)?;
            }
            NetworkChange::DeleteSubnet { ip_range } => {
                let subnet = net.remove_subnet(ip_range)?;
                let used = s.nics_in(net.id).any(|nic| {
                    nic.ip.iter().chain(&nic.alias_ips).any(|ip| {
                        crate::data::subnet_containing(network, ip).is_some_and(|sn| sn.ip_range == subnet.ip_range)
                    })
                });
                if used {
                    return Err(Error::refused(
                        Refusal::InUse,
                        format!("cannot remove subnet {ip_range} because servers are attached to it"),
                    ));
                }
            }
            NetworkChange::AddRoute(route) => net.add_route(route.clone())?,
            NetworkChange::DeleteRoute(route) => net.remove_route(route)?,
            NetworkChange::ChangeIpRange { ip_range } => net.set_ip_range(ip_range)?,
        }
        Ok(net)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct NetworkChangeParams {
    pub network: NetworkId,
    pub change: NetworkChange,
}

/// What a change can touch, kept by its record step for the undos.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Shape {
    ip_range: String,
    subnets: Vec<Subnet>,
    routes: Vec<Route>,
}

impl Shape {
    fn of(n: &Network) -> Shape {
        Shape { ip_range: n.ip_range.clone(), subnets: n.subnets.clone(), routes: n.routes.clone() }
    }

    fn put_on(self, n: &mut Network) {
        n.ip_range = self.ip_range;
        n.subnets = self.subnets;
        n.routes = self.routes;
    }
}

type C<'a> = Ctx<'a, NetworkChangeParams>;

fn change_network(tx: &mut Tx, c: &C) -> StepResult {
    let id = c.params.network;
    let current = tx.networks.get(id.0).ok_or_else(|| gone(id.as_ref()))?.clone();
    // A change that waited for another may no longer fit: the action fails, saying why.
    let changed = c.params.change.apply(tx, &current).map_err(|e| ActionError::new("action_failed", e.to_string()))?;
    let prior = Shape::of(&current);
    tx.put(Record::Network(Arc::new(changed)));
    Ok(Some(json!(prior)))
}
fn restore_network(tx: &mut Tx, c: &C) -> StepResult {
    if let Some(prior) = c.output::<Shape>("change_network") {
        update_network(tx, c.params.network, |n| prior.put_on(n))?;
    }
    Ok(None)
}
fn apply_network(s: &State, c: &C) -> Result<Call, ActionError> {
    let id = c.params.network;
    let network = s.networks.get(id.0).ok_or_else(|| gone(id.as_ref()))?;
    Ok(Call::ApplyNetwork(s.network_spec(network)))
}
/// The network as it was before the change, which the records still show changed.
fn reapply_prior(s: &State, c: &C) -> Result<Call, ActionError> {
    let id = c.params.network;
    let mut network = Network::clone(s.networks.get(id.0).ok_or_else(|| gone(id.as_ref()))?);
    if let Some(prior) = c.output::<Shape>("change_network") {
        prior.put_on(&mut network);
    }
    Ok(Call::ApplyNetwork(s.network_spec(&network)))
}

static CHANGE_STEPS: [Step<NetworkChangeParams>; 2] = [
    Step::record("change_network", change_network).undo_record(restore_network),
    Step::driver("apply_network", apply_network).undo_driver(reapply_prior),
];

macro_rules! network_change_kinds {
    ($($(#[$doc:meta])* $kind:ident => $name:literal;)*) => {$(
        $(#[$doc])*
        pub(crate) struct $kind;

        impl Kind for $kind {
            const NAME: &'static str = $name;
            type Params = NetworkChangeParams;

            fn steps() -> &'static [Step<NetworkChangeParams>] {
                &CHANGE_STEPS
            }

            fn resources(p: &NetworkChangeParams) -> Vec<ResourceRef> {
                vec![p.network.as_ref()]
            }
        }
    )*};
}

network_change_kinds! {
    /// `network_add_subnet`.
    NetworkAddSubnet => "network_add_subnet";
    /// `network_delete_subnet`: refused while an interface uses it.
    NetworkDeleteSubnet => "network_delete_subnet";
    /// `network_add_route`.
    NetworkAddRoute => "network_add_route";
    /// `network_delete_route`.
    NetworkDeleteRoute => "network_delete_route";
    /// `network_change_ip_range`: the range only grows.
    NetworkChangeIpRange => "network_change_ip_range";
}
