//! Load balancer actions: creating and deleting one, and each change of its services,
//! targets, algorithm, type, private network and public interface.
//!
//! A change first asks the data plane for the configuration as it will be (built from the
//! records with the change applied to a copy), then records it. Its undos run the other
//! way round: the record is put back first, then the data plane is given the
//! configuration the records show, so every undo is "apply what the records say".
//!
//! Like Hetzner's, these actions name the load balancer alone as their resource.

use super::steps::{gone, update_load_balancer};
use super::{Ctx, Kind, Step, StepResult};
use crate::data::{State, Tx};
use crate::engine::Call;
use crate::ids::*;
use crate::model::*;
use crate::store::Record;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::fmt::Debug;
use std::sync::Arc;

/// The configuration the records show for `lb`, for the data plane.
fn apply_records(s: &State, lb: LoadBalancerId) -> Result<Call, ActionError> {
    let record = s.load_balancers.get(lb.0).ok_or_else(|| gone(lb.as_ref()))?;
    Ok(Call::ApplyLoadBalancer(s.load_balancer_spec(record)))
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct LbCreateParams {
    pub lb: LoadBalancer,
    /// Its public IPv4 and IPv6 addresses.
    pub ips: Vec<PublicIp>,
    /// Its interface in the private network it joins, if it joins one.
    pub nics: Vec<Nic>,
}

type CreateCtx<'a> = Ctx<'a, LbCreateParams>;

fn insert_records(tx: &mut Tx, c: &CreateCtx) -> StepResult {
    tx.put(Record::LoadBalancer(Arc::new(c.params.lb.clone())));
    for ip in &c.params.ips {
        tx.put(Record::Ip(Arc::new(ip.clone())));
    }
    for nic in &c.params.nics {
        tx.put(Record::Nic(Arc::new(nic.clone())));
    }
    Ok(None)
}
fn remove_records(tx: &mut Tx, c: &CreateCtx) -> StepResult {
    for nic in &c.params.nics {
        tx.delete(nic.id.as_ref());
    }
    for ip in &c.params.ips {
        tx.delete(ip.id.as_ref());
    }
    tx.delete(c.params.lb.id.as_ref());
    Ok(None)
}
fn apply_new(s: &State, c: &CreateCtx) -> Result<Call, ActionError> {
    apply_records(s, c.params.lb.id)
}
fn delete_new(_: &State, c: &CreateCtx) -> Result<Call, ActionError> {
    Ok(Call::DeleteLoadBalancer(c.params.lb.id.0))
}

/// `load_balancer_create`: its records (with its addresses and private interface), then
/// its configuration on the data plane.
pub(crate) struct LoadBalancerCreate;

impl Kind for LoadBalancerCreate {
    const NAME: &'static str = "load_balancer_create";
    type Params = LbCreateParams;

    fn steps() -> &'static [Step<LbCreateParams>] {
        static STEPS: [Step<LbCreateParams>; 2] = [
            Step::record("insert_records", insert_records).undo_record(remove_records),
            Step::driver("apply", apply_new).undo_driver(delete_new),
        ];
        &STEPS
    }

    fn resources(p: &LbCreateParams) -> Vec<ResourceRef> {
        vec![p.lb.id.as_ref()]
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct OnLoadBalancer {
    pub lb: LoadBalancerId,
}

type LbCtx<'a> = Ctx<'a, OnLoadBalancer>;

fn delete_lb(_: &State, c: &LbCtx) -> Result<Call, ActionError> {
    Ok(Call::DeleteLoadBalancer(c.params.lb.0))
}
fn restore_lb(s: &State, c: &LbCtx) -> Result<Call, ActionError> {
    apply_records(s, c.params.lb)
}
/// Removes the load balancer with its addresses and its private interface. Certificates
/// and servers it used stay.
fn remove_lb_records(tx: &mut Tx, c: &LbCtx) -> StepResult {
    let id = c.params.lb;
    let ips: Vec<IpId> = tx.load_balancer_ips(id).map(|ip| ip.id).collect();
    let nics: Vec<NicId> = tx.nics_of(id.as_ref()).into_iter().map(|n| n.id).collect();
    for key in ips.iter().map(|i| i.as_ref()).chain(nics.iter().map(|n| n.as_ref())) {
        tx.delete(key);
    }
    tx.delete(id.as_ref());
    Ok(None)
}

/// `load_balancer_delete`: off the data plane, then out of the records.
pub(crate) struct LoadBalancerDelete;

impl Kind for LoadBalancerDelete {
    const NAME: &'static str = "load_balancer_delete";
    type Params = OnLoadBalancer;

    fn steps() -> &'static [Step<OnLoadBalancer>] {
        static STEPS: [Step<OnLoadBalancer>; 2] = [
            Step::driver("delete", delete_lb).undo_driver(restore_lb),
            // No undo: the last step, in the same commit as the load balancer's end.
            Step::record("remove_records", remove_lb_records),
        ];
        &STEPS
    }

    fn resources(p: &OnLoadBalancer) -> Vec<ResourceRef> {
        vec![p.lb.as_ref()]
    }
}

/// A change of one load balancer's record, which its kind's steps carry to the data plane
/// and the records.
pub(crate) trait LbChange: Serialize + DeserializeOwned + Debug + Send + Sync + 'static {
    fn lb(&self) -> LoadBalancerId;
    /// Makes the change; returns what [`LbChange::revert`] needs to undo it.
    fn apply(&self, lb: &mut LoadBalancer) -> Value;
    fn revert(&self, lb: &mut LoadBalancer, prior: Value);
}

fn apply_change<P: LbChange>(s: &State, c: &Ctx<P>) -> Result<Call, ActionError> {
    let lb = c.params.lb();
    let mut next = LoadBalancer::clone(s.load_balancers.get(lb.0).ok_or_else(|| gone(lb.as_ref()))?);
    c.params.apply(&mut next);
    Ok(Call::ApplyLoadBalancer(s.load_balancer_spec(&next)))
}
fn reapply<P: LbChange>(s: &State, c: &Ctx<P>) -> Result<Call, ActionError> {
    apply_records(s, c.params.lb())
}
fn record_change<P: LbChange>(tx: &mut Tx, c: &Ctx<P>) -> StepResult {
    let prior = update_load_balancer(tx, c.params.lb(), |lb| c.params.apply(lb))?;
    // Wrapped, so that a change with nothing to remember still leaves an output.
    Ok(Some(json!({ "prior": prior })))
}
fn unrecord_change<P: LbChange>(tx: &mut Tx, c: &Ctx<P>) -> StepResult {
    if let Some(out) = c.output::<Value>("record_change") {
        let prior = out.get("prior").cloned().unwrap_or(Value::Null);
        update_load_balancer(tx, c.params.lb(), |lb| c.params.revert(lb, prior))?;
    }
    Ok(None)
}

/// Declares kinds whose steps are "apply the change, then record it" for an [`LbChange`].
macro_rules! lb_change_kinds {
    ($($(#[$doc:meta])* $kind:ident: $name:literal, $params:ty;)*) => {$(
        $(#[$doc])*
        pub(crate) struct $kind;

        impl Kind for $kind {
            const NAME: &'static str = $name;
            type Params = $params;

            fn steps() -> &'static [Step<$params>] {
                static STEPS: [Step<$params>; 2] = [
                    Step::driver("apply", apply_change::<$params>).undo_driver(reapply::<$params>),
                    Step::record("record_change", record_change::<$params>).undo_record(unrecord_change::<$params>),
                ];
                &STEPS
            }

            fn resources(p: &$params) -> Vec<ResourceRef> {
                vec![p.lb().as_ref()]
            }
        }
    )*};
}

lb_change_kinds! {
    /// `load_balancer_add_service`.
    LoadBalancerAddService: "load_balancer_add_service", ServiceParams;
    /// `load_balancer_update_service`: replaces the service on the same listen port.
    LoadBalancerUpdateService: "load_balancer_update_service", ServiceParams;
    /// `load_balancer_delete_service`.
    LoadBalancerDeleteService: "load_balancer_delete_service", DeleteServiceParams;
    /// `load_balancer_add_target`.
    LoadBalancerAddTarget: "load_balancer_add_target", TargetParams;
    /// `load_balancer_remove_target`.
    LoadBalancerRemoveTarget: "load_balancer_remove_target", TargetParams;
    /// `load_balancer_change_algorithm`.
    LoadBalancerChangeAlgorithm: "load_balancer_change_algorithm", AlgorithmParams;
    /// `load_balancer_change_type`: the limits change; the data plane is applied again.
    LoadBalancerChangeType: "load_balancer_change_type", TypeParams;
    /// `load_balancer_enable_public_interface`.
    LoadBalancerEnablePublicInterface: "load_balancer_enable_public_interface", PublicInterfaceParams;
    /// `load_balancer_disable_public_interface`.
    LoadBalancerDisablePublicInterface: "load_balancer_disable_public_interface", PublicInterfaceParams;
}

/// A service to add, or the new version of the service on its listen port.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ServiceParams {
    pub lb: LoadBalancerId,
    pub service: LbService,
    /// Add (`false`) or replace (`true`).
    pub replace: bool,
}

impl LbChange for ServiceParams {
    fn lb(&self) -> LoadBalancerId {
        self.lb
    }
    fn apply(&self, lb: &mut LoadBalancer) -> Value {
        let port = self.service.listen_port;
        match lb.services.iter_mut().find(|s| s.listen_port == port).filter(|_| self.replace) {
            Some(current) => json!(std::mem::replace(current, self.service.clone())),
            None => {
                lb.services.push(self.service.clone());
                Value::Null
            }
        }
    }
    fn revert(&self, lb: &mut LoadBalancer, prior: Value) {
        let port = self.service.listen_port;
        match serde_json::from_value::<LbService>(prior) {
            Ok(previous) => {
                lb.services.iter_mut().filter(|s| s.listen_port == port).for_each(|s| *s = previous.clone())
            }
            Err(_) => lb.services.retain(|s| s.listen_port != port),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct DeleteServiceParams {
    pub lb: LoadBalancerId,
    pub listen_port: u16,
}

impl LbChange for DeleteServiceParams {
    fn lb(&self) -> LoadBalancerId {
        self.lb
    }
    /// Returns the service and where it was, so that it comes back in its place.
    fn apply(&self, lb: &mut LoadBalancer) -> Value {
        match lb.services.iter().position(|s| s.listen_port == self.listen_port) {
            Some(at) => json!({"at": at, "service": lb.services.remove(at)}),
            None => Value::Null,
        }
    }
    fn revert(&self, lb: &mut LoadBalancer, prior: Value) {
        let at = prior.get("at").and_then(Value::as_u64).and_then(|a| usize::try_from(a).ok());
        let service = prior.get("service").cloned().and_then(|s| serde_json::from_value::<LbService>(s).ok());
        if let (Some(at), Some(service)) = (at, service) {
            if !lb.services.iter().any(|s| s.listen_port == self.listen_port) {
                lb.services.insert(at.min(lb.services.len()), service);
            }
        }
    }
}

/// A target to add (`remove` false) or to remove.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct TargetParams {
    pub lb: LoadBalancerId,
    pub target: LbTarget,
    pub remove: bool,
}

impl LbChange for TargetParams {
    fn lb(&self) -> LoadBalancerId {
        self.lb
    }
    fn apply(&self, lb: &mut LoadBalancer) -> Value {
        if !self.remove {
            lb.targets.push(self.target.clone());
            return Value::Null;
        }
        match lb.targets.iter().position(|t| t.kind == self.target.kind) {
            Some(at) => json!({"at": at, "target": lb.targets.remove(at)}),
            None => Value::Null,
        }
    }
    fn revert(&self, lb: &mut LoadBalancer, prior: Value) {
        if !self.remove {
            lb.targets.retain(|t| t.kind != self.target.kind);
            return;
        }
        let at = prior.get("at").and_then(Value::as_u64).and_then(|a| usize::try_from(a).ok());
        let target = prior.get("target").cloned().and_then(|t| serde_json::from_value::<LbTarget>(t).ok());
        if let (Some(at), Some(target)) = (at, target) {
            if !lb.targets.iter().any(|t| t.kind == self.target.kind) {
                lb.targets.insert(at.min(lb.targets.len()), target);
            }
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct AlgorithmParams {
    pub lb: LoadBalancerId,
    pub algorithm: Algorithm,
}

impl LbChange for AlgorithmParams {
    fn lb(&self) -> LoadBalancerId {
        self.lb
    }
    fn apply(&self, lb: &mut LoadBalancer) -> Value {
        json!(std::mem::replace(&mut lb.algorithm, self.algorithm))
    }
    fn revert(&self, lb: &mut LoadBalancer, prior: Value) {
        if let Ok(prior) = serde_json::from_value(prior) {
            lb.algorithm = prior;
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct TypeParams {
    pub lb: LoadBalancerId,
    pub lb_type: LoadBalancerTypeId,
}

impl LbChange for TypeParams {
    fn lb(&self) -> LoadBalancerId {
        self.lb
    }
    fn apply(&self, lb: &mut LoadBalancer) -> Value {
        json!(std::mem::replace(&mut lb.lb_type, self.lb_type))
    }
    fn revert(&self, lb: &mut LoadBalancer, prior: Value) {
        if let Ok(prior) = serde_json::from_value(prior) {
            lb.lb_type = prior;
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PublicInterfaceParams {
    pub lb: LoadBalancerId,
    pub enabled: bool,
}

impl LbChange for PublicInterfaceParams {
    fn lb(&self) -> LoadBalancerId {
        self.lb
    }
    fn apply(&self, lb: &mut LoadBalancer) -> Value {
        json!(std::mem::replace(&mut lb.public_interface, self.enabled))
    }
    fn revert(&self, lb: &mut LoadBalancer, prior: Value) {
        if let Some(prior) = prior.as_bool() {
            lb.public_interface = prior;
        }
    }
}

/// A load balancer joining or leaving a private network through `nic`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct LbNicParams {
    pub lb: LoadBalancerId,
    /// The interface to make (attach) or remove (detach).
    pub nic: Nic,
}

type NicCtx<'a> = Ctx<'a, LbNicParams>;

/// The configuration with the load balancer's private interface as `nic`.
fn apply_with(s: &State, c: &NicCtx, nic: Option<&Nic>) -> Result<Call, ActionError> {
    let lb = s.load_balancers.get(c.params.lb.0).ok_or_else(|| gone(c.params.lb.as_ref()))?;
    Ok(Call::ApplyLoadBalancer(s.load_balancer_spec_with(lb, nic)))
}
fn apply_attached(s: &State, c: &NicCtx) -> Result<Call, ActionError> {
    apply_with(s, c, Some(&c.params.nic))
}
fn apply_detached(s: &State, c: &NicCtx) -> Result<Call, ActionError> {
    apply_with(s, c, None)
}
fn reapply_nic(s: &State, c: &NicCtx) -> Result<Call, ActionError> {
    apply_records(s, c.params.lb)
}
fn insert_nic(tx: &mut Tx, c: &NicCtx) -> StepResult {
    tx.put(Record::Nic(Arc::new(c.params.nic.clone())));
    Ok(None)
}
fn remove_nic(tx: &mut Tx, c: &NicCtx) -> StepResult {
    tx.delete(c.params.nic.id.as_ref());
    Ok(None)
}

/// `load_balancer_attach_to_network`.
pub(crate) struct LoadBalancerAttachToNetwork;

impl Kind for LoadBalancerAttachToNetwork {
    const NAME: &'static str = "load_balancer_attach_to_network";
    type Params = LbNicParams;

    fn steps() -> &'static [Step<LbNicParams>] {
        static STEPS: [Step<LbNicParams>; 2] = [
            Step::driver("apply", apply_attached).undo_driver(reapply_nic),
            Step::record("insert_nic", insert_nic).undo_record(remove_nic),
        ];
        &STEPS
    }

    fn resources(p: &LbNicParams) -> Vec<ResourceRef> {
        vec![p.lb.as_ref()]
    }
}

/// `load_balancer_detach_from_network`.
pub(crate) struct LoadBalancerDetachFromNetwork;

impl Kind for LoadBalancerDetachFromNetwork {
    const NAME: &'static str = "load_balancer_detach_from_network";
    type Params = LbNicParams;

    fn steps() -> &'static [Step<LbNicParams>] {
        static STEPS: [Step<LbNicParams>; 2] = [
            Step::driver("apply", apply_detached).undo_driver(reapply_nic),
            Step::record("remove_nic", remove_nic).undo_record(insert_nic),
        ];
        &STEPS
    }

    fn resources(p: &LbNicParams) -> Vec<ResourceRef> {
        vec![p.lb.as_ref()]
    }
}
