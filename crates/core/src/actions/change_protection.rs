//! Metadata actions any resource has: protection flags and reverse DNS.

use super::steps::*;
use super::{Ctx, Kind, Step, StepResult};
use crate::data::Tx;
use crate::ids::*;
use crate::model::{ActionError, DnsPtr, Protection};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ProtectionParams {
    pub resource: ResourceRef,
    /// `None` leaves a flag as it is.
    pub delete: Option<bool>,
    pub rebuild: Option<bool>,
}

/// Applies `f` to the protection of any resource that has one; returns the prior flags.
fn with_protection(tx: &mut Tx, r: ResourceRef, f: impl FnOnce(&mut Protection)) -> Result<Protection, ActionError> {
    let apply = |p: &mut Protection| {
        let prior = *p;
        f(p);
        prior
    };
    match r.kind {
        ResourceKind::Server => update_server(tx, ServerId(r.id), |s| apply(&mut s.protection)),
        ResourceKind::Image => update_image(tx, ImageId(r.id), |s| apply(&mut s.protection)),
        ResourceKind::Ip => update_ip(tx, IpId(r.id), |s| apply(&mut s.protection)),
        ResourceKind::Volume => update_volume(tx, VolumeId(r.id), |s| apply(&mut s.protection)),
        ResourceKind::Network => update_network(tx, NetworkId(r.id), |s| apply(&mut s.protection)),
        ResourceKind::LoadBalancer => update_load_balancer(tx, LoadBalancerId(r.id), |s| apply(&mut s.protection)),
        _ => Err(ActionError::new("internal_error", format!("{r} has no protection"))),
    }
}

fn set_protection(tx: &mut Tx, c: &Ctx<ProtectionParams>) -> StepResult {
    let prior = with_protection(tx, c.params.resource, |p| {
        if let Some(d) = c.params.delete {
            p.delete = d;
        }
        if let Some(r) = c.params.rebuild {
            p.rebuild = r;
        }
    })?;
    Ok(Some(json!(prior)))
}
fn unset_protection(tx: &mut Tx, c: &Ctx<ProtectionParams>) -> StepResult {
    if let Some(prior) = c.output::<Protection>("set_protection") {
        with_protection(tx, c.params.resource, |p| *p = prior)?;
    }
    Ok(None)
}

/// `change_protection`, of any resource with protection flags.
pub(crate) struct ChangeProtection;

impl Kind for ChangeProtection {
    const NAME: &'static str = "change_protection";
    type Params = ProtectionParams;

    fn steps() -> &'static [Step<ProtectionParams>] {
        static STEPS: [Step<ProtectionParams>; 1] =
            [Step::record("set_protection", set_protection).undo_record(unset_protection)];
        &STEPS
    }

    fn resources(p: &ProtectionParams) -> Vec<ResourceRef> {
        vec![p.resource]
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct DnsPtrParams {
    /// The public IP holding the address.
    pub ip: IpId,
    /// The address (IPv4, or one address of an IPv6 network).
    pub address: String,
    /// `None` resets the record to its default.
    pub ptr: Option<String>,
    /// What the action is shown on (the server, load balancer or IP asked).
    pub on: Vec<ResourceRef>,
}

fn set_ptr(tx: &mut Tx, c: &Ctx<DnsPtrParams>) -> StepResult {
    let p = c.params;
    let prior = update_ip(tx, p.ip, |ip| {
        let prior = ip.dns_ptr.clone();
        ip.dns_ptr.retain(|d| d.ip != p.address);
        if let Some(ptr) = &p.ptr {
            ip.dns_ptr.push(DnsPtr { ip: p.address.clone(), dns_ptr: ptr.clone() });
        }
        prior
    })?;
    Ok(Some(json!(prior)))
}
fn unset_ptr(tx: &mut Tx, c: &Ctx<DnsPtrParams>) -> StepResult {
    if let Some(prior) = c.output::<Vec<DnsPtr>>("set_ptr") {
        update_ip(tx, c.params.ip, |ip| ip.dns_ptr = prior)?;
    }
    Ok(None)
}

/// `change_dns_ptr`: one address's reverse DNS record.
pub(crate) struct ChangeDnsPtr;

impl Kind for ChangeDnsPtr {
    const NAME: &'static str = "change_dns_ptr";
    type Params = DnsPtrParams;

    fn steps() -> &'static [Step<DnsPtrParams>] {
        static STEPS: [Step<DnsPtrParams>; 1] = [Step::record("set_ptr", set_ptr).undo_record(unset_ptr)];
        &STEPS
    }

    fn resources(p: &DnsPtrParams) -> Vec<ResourceRef> {
        p.on.clone()
    }
}
