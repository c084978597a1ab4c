//! The driver calls a step can make, as data: a step's do or undo builds one from the
//! records and its parameters, the engine carries it out here. Keeping calls as values
//! lets a kind's steps stay plain functions, and gives the one place where the engine
//! meets the [`Driver`] trait.

use serde_json::{json, Value};
use stratus_compute::{
    CallContext, Driver, DriverResult, FirewallRuleSpec, HardwareSpec, LoadBalancerSpec, NetworkSpec, NicSpec,
    RescueSpec, StopMode, VmId, VmSpec, VolumeSpec,
};

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Call {
    /// A step with nothing to do in this case.
    Nothing,
    /// Several calls in order (attach each of a new server's volumes); each is idempotent,
    /// so a repeated step repeats them all safely.
    Many(Vec<Call>),
    CreateVm(VmSpec),
    StartVm(VmId),
    StopVm(VmId, StopMode),
    RebootVm(VmId),
    ResetVm(VmId),
    RebuildVm(VmSpec),
    ResizeVm(VmId, HardwareSpec),
    Snapshot {
        vm: VmId,
        image: i64,
    },
    DeleteSnapshot(i64),
    SetRescue {
        vm: VmId,
        rescue: Option<RescueSpec>,
    },
    SetIso {
        vm: VmId,
        iso: Option<String>,
    },
    SetPassword {
        vm: VmId,
        password: String,
    },
    DeleteVm(VmId),
    CreateVolume(VolumeSpec),
    ResizeVolume {
        volume: i64,
        size_gb: u32,
    },
    DeleteVolume(i64),
    AttachVolume {
        vm: VmId,
        volume: i64,
    },
    DetachVolume {
        vm: VmId,
        volume: i64,
    },
    ApplyNetwork(NetworkSpec),
    DeleteNetwork(i64),
    AttachNic {
        vm: VmId,
        nic: NicSpec,
    },
    DetachNic {
        vm: VmId,
        nic: i64,
    },
    ApplyFirewall {
        vm: VmId,
        rules: Vec<FirewallRuleSpec>,
    },
    ApplyLoadBalancer(LoadBalancerSpec),
    DeleteLoadBalancer(i64),
}

impl Call {
    /// Whether it asks nothing of the driver.
    pub(crate) fn is_nothing(&self) -> bool {
        match self {
            Call::Nothing => true,
            Call::Many(calls) => calls.iter().all(Call::is_nothing),
            _ => false,
        }
    }
}

/// Carries out `call`. The output is what the step keeps: a snapshot's size in GB, a
/// volume's device path, a list for [`Call::Many`], `null` otherwise.
pub(crate) async fn execute(driver: &dyn Driver, call: &Call, ctx: &CallContext<'_>) -> DriverResult<Value> {
    let unit = |r: DriverResult<()>| r.map(|()| Value::Null);
    match call {
        Call::Nothing => Ok(Value::Null),
        Call::Many(calls) => {
            let mut out = Vec::with_capacity(calls.len());
            for c in calls {
                out.push(Box::pin(execute(driver, c, ctx)).await?);
            }
            Ok(if out.iter().all(Value::is_null) { Value::Null } else { Value::Array(out) })
        }
        Call::CreateVm(spec) => unit(driver.create(spec, ctx).await),
        Call::StartVm(vm) => unit(driver.start(*vm, ctx).await),
        Call::StopVm(vm, mode) => unit(driver.stop(*vm, *mode, ctx).await),
        Call::RebootVm(vm) => unit(driver.reboot(*vm, ctx).await),
        Call::ResetVm(vm) => unit(driver.reset(*vm, ctx).await),
        Call::RebuildVm(spec) => unit(driver.rebuild(spec, ctx).await),
        Call::ResizeVm(vm, hw) => unit(driver.resize(*vm, hw, ctx).await),
        Call::Snapshot { vm, image } => driver.snapshot(*vm, *image, ctx).await.map(|size| json!(size)),
        Call::DeleteSnapshot(image) => unit(driver.delete_snapshot(*image, ctx).await),
        Call::SetRescue { vm, rescue } => unit(driver.set_rescue(*vm, rescue.as_ref(), ctx).await),
        Call::SetIso { vm, iso } => unit(driver.set_iso(*vm, iso.as_deref(), ctx).await),
        Call::SetPassword { vm, password } => unit(driver.set_password(*vm, password, ctx).await),
        Call::DeleteVm(vm) => unit(driver.delete(*vm, ctx).await),
        Call::CreateVolume(spec) => unit(driver.create_volume(spec, ctx).await),
        Call::ResizeVolume { volume, size_gb } => unit(driver.resize_volume(*volume, *size_gb, ctx).await),
        Call::DeleteVolume(volume) => unit(driver.delete_volume(*volume, ctx).await),
        Call::AttachVolume { vm, volume } => driver.attach_volume(*vm, *volume, ctx).await.map(Value::String),
        Call::DetachVolume { vm, volume } => unit(driver.detach_volume(*vm, *volume, ctx).await),
        Call::ApplyNetwork(spec) => unit(driver.apply_network(spec, ctx).await),
        Call::DeleteNetwork(id) => unit(driver.delete_network(*id, ctx).await),
        Call::AttachNic { vm, nic } => unit(driver.attach_nic(*vm, nic, ctx).await),
        Call::DetachNic { vm, nic } => unit(driver.detach_nic(*vm, *nic, ctx).await),
        Call::ApplyFirewall { vm, rules } => unit(driver.apply_firewall(*vm, rules, ctx).await),
        Call::ApplyLoadBalancer(spec) => unit(driver.apply_load_balancer(spec, ctx).await),
        Call::DeleteLoadBalancer(id) => unit(driver.delete_load_balancer(*id, ctx).await),
    }
}
