//! The built-in simulator: a [`Driver`] with no hypervisor behind it.
//!
//! It keeps per-VM bookkeeping in memory and pretends each operation takes time
//! ([`SimTiming::Realistic`], seconds with progress, so clients see real "running"
//! actions) or none at all ([`SimTiming::Instant`], for tests and benchmarks). It exists so
//! that Stratus, and users' automation against Stratus, can be exercised end to end on
//! any machine.
//!
//! Semantics, chosen to match Hetzner Cloud where the trait leaves room:
//! - Every call is idempotent as the crate docs require: `create` of an existing VM,
//!   `start` of a running one, `stop` of an off one, `delete` of a missing VM or
//!   snapshot and a repeated `snapshot` of the same image succeed at once, without
//!   sleeping or changing anything.
//! - Calls naming a VM the simulator does not know fail with `not_found`
//!   (except `create`, `delete`, `delete_snapshot` and `restore`).
//! - `reboot` and `reset` of an off VM power it on (Hetzner's reset does), so either
//!   always leaves the VM running after a fresh boot.
//! - A graceful stop always succeeds: the simulated guest honours ACPI.
//! - `rebuild` and `resize` require the VM off, and `set_password` requires it running,
//!   as the trait documents; a broken precondition fails with `invalid_state` rather
//!   than being papered over, so core bugs show up against the simulator too.
//! - `resize` never shrinks a disk: a smaller size keeps the current one (so resizing
//!   back, the undo of a resize, succeeds and keeps the grown disk, as on real disks).
//! - An armed rescue system is used (and disarmed) by the next boot.
//! - Nothing is held locked across a sleep: a call checks its preconditions, sleeps,
//!   then re-checks and applies its change, so a concurrent `delete` wins cleanly and a
//!   dropped (cancelled) call changes nothing.
//! - A call waits only for what is left of its duration since `ctx.started`, so a step
//!   resumed after the control plane restarted finishes as the real operation would
//!   have, instead of starting its time over.
//! - Volumes attach to one VM at a time and cannot be deleted while attached; a network
//!   with interfaces plugged in cannot be deleted. Device paths are Hetzner's
//!   (`/dev/disk/by-id/scsi-0HC_Volume_<id>`).

mod error;
mod metrics;
mod noise;
mod state;
#[cfg(test)]
mod tests;
mod timing;

pub use crate::console::CONSOLE_TTL;
pub use state::{SimSnapshot, SimVm, SimVolume};
pub use timing::{ParseSimTimingError, SimTiming, SimTimings};

use crate::console::{ConsoleSession, ConsoleTarget};
use crate::driver::{
    CallContext, ConsoleEndpoint, DiskSpec, Drift, Driver, DriverResult, FirewallRuleSpec, HardwareSpec, Inventory,
    LoadBalancerSpec, NetworkSpec, NicSpec, PowerState, RescueSpec, StopMode, VmId, VmSpec, VolumeSpec,
};
use crate::metrics::{MetricSeries, MetricsQuery};
use async_trait::async_trait;
use error::SimError;
use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use timing::{pause, pause_with_progress};
use tracing::debug;

/// The simulator driver. Share it (`Arc<SimDriver>`) between the engine, which uses it
/// as a [`Driver`], and the API layer, which validates console tokens with
/// [`SimDriver::console_session`].
#[derive(Debug)]
pub struct SimDriver {
    timings: SimTimings,
    state: Mutex<State>,
}

/// Everything behind the one lock, so e.g. deleting a VM and ending its console
/// sessions happen together.
#[derive(Debug, Default)]
struct State {
    vms: HashMap<VmId, SimVm>,
    /// Keyed by image id.
    snapshots: HashMap<i64, SimSnapshot>,
    volumes: HashMap<i64, SimVolume>,
    networks: HashMap<i64, NetworkSpec>,
    load_balancers: HashMap<i64, LoadBalancerSpec>,
    consoles: crate::console::Sessions,
}

impl State {
    fn vm(&mut self, id: VmId) -> Result<&mut SimVm, SimError> {
        self.vms.get_mut(&id).ok_or(SimError::NotFound(id))
    }

    fn volume(&mut self, id: i64) -> Result<&mut SimVolume, SimError> {
        self.volumes.get_mut(&id).ok_or(SimError::Missing { what: "volume", id })
    }
}

impl Default for SimDriver {
    fn default() -> Self {
        SimDriver::new(SimTiming::default())
    }
}

/// The device path a volume shows up as in the guest, as on Hetzner.
pub fn volume_device(id: i64) -> String {
    format!("/dev/disk/by-id/scsi-0HC_Volume_{id}")
}

impl SimDriver {
    pub fn new(timing: SimTiming) -> Self {
        SimDriver::with_timings(timing.timings())
    }

    /// A simulator with a custom duration table (tests, tuning).
    pub fn with_timings(timings: SimTimings) -> Self {
        SimDriver { timings, state: Mutex::default() }
    }

    pub fn timings(&self) -> &SimTimings {
        &self.timings
    }

    /// The VNC password of a live console token, for tests.
    pub fn console_password(&self, token: &str) -> Option<String> {
        self.lock().consoles.password(token)
    }

    /// A copy of the bookkeeping for one VM, for tests and diagnostics.
    pub fn vm(&self, id: VmId) -> Option<SimVm> {
        self.lock().vms.get(&id).cloned()
    }

    /// The ids of every VM the simulator knows, sorted.
    pub fn vm_ids(&self) -> Vec<VmId> {
        let mut ids: Vec<VmId> = self.lock().vms.keys().copied().collect();
        ids.sort_unstable();
        ids
    }

    /// A stored snapshot, by image id.
    pub fn stored_snapshot(&self, image_id: i64) -> Option<SimSnapshot> {
        self.lock().snapshots.get(&image_id).copied()
    }

    /// A stored volume, by id.
    pub fn volume(&self, id: i64) -> Option<SimVolume> {
        self.lock().volumes.get(&id).cloned()
    }

    /// The ids of every volume, network and load balancer the simulator knows, sorted:
    /// what tests compare against the control plane's records.
    pub fn resource_ids(&self) -> (Vec<i64>, Vec<i64>, Vec<i64>) {
        let state = self.lock();
        let sorted = |mut v: Vec<i64>| {
            v.sort_unstable();
            v
        };
        (
            sorted(state.volumes.keys().copied().collect()),
            sorted(state.networks.keys().copied().collect()),
            sorted(state.load_balancers.keys().copied().collect()),
        )
    }

    /// A network as last applied.
    pub fn network(&self, id: i64) -> Option<NetworkSpec> {
        self.lock().networks.get(&id).cloned()
    }

    /// A load balancer as last applied.
    pub fn load_balancer(&self, id: i64) -> Option<LoadBalancerSpec> {
        self.lock().load_balancers.get(&id).cloned()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().expect("sim state poisoned")
    }

    /// Runs `f` on VM `id` under the lock.
    fn with_vm<T>(&self, id: VmId, f: impl FnOnce(&mut SimVm) -> Result<T, SimError>) -> Result<T, SimError> {
        f(self.lock().vm(id)?)
    }

    /// Fails unless VM `id` exists and is in power state `want`.
    fn require_power(&self, id: VmId, want: PowerState, operation: &'static str) -> Result<(), SimError> {
        self.with_vm(id, |vm| require(vm, want, operation))
    }
}

fn require(vm: &SimVm, want: PowerState, operation: &'static str) -> Result<(), SimError> {
    if vm.power == want {
        Ok(())
    } else {
        Err(SimError::must_be(vm.spec.id, want, operation))
    }
}

/// The hardware after resizing `from` to `to`: cores and memory as asked, each disk the
/// larger of its old and new size, and disks missing from `to` kept. Disk images cannot
/// be shrunk safely, so "growing only" means a smaller size is not applied rather than
/// refused; this is also what lets the core undo a resize by resizing back.
fn resized(from: &HardwareSpec, to: &HardwareSpec) -> HardwareSpec {
    let count = from.disks.len().max(to.disks.len());
    let disks = (0..count)
        .filter_map(|i| match (from.disks.get(i), to.disks.get(i)) {
            (Some(old), Some(new)) => Some(DiskSpec { size_gb: old.size_gb.max(new.size_gb) }),
            (Some(only), None) | (None, Some(only)) => Some(only.clone()),
            (None, None) => None,
        })
        .collect();
    HardwareSpec { cores: to.cores, memory_mb: to.memory_mb, disks }
}

#[async_trait]
impl Driver for SimDriver {
    fn name(&self) -> &'static str {
        "sim"
    }

    /// Upserts each VM, volume, network and load balancer with the persisted spec and
    /// state. What the simulator knows but the inventory omits is left alone (a real
    /// driver would not kill unknown guests).
    async fn restore(&self, inventory: Inventory) -> DriverResult<Vec<Drift>> {
        debug!(vms = inventory.vms.len(), volumes = inventory.volumes.len(), "sim: restore");
        let mut state = self.lock();
        for volume in inventory.volumes {
            let entry = state.volumes.entry(volume.id).or_insert_with(|| SimVolume {
                size_gb: volume.size_gb,
                format: volume.format.clone(),
                attached_to: None,
            });
            entry.size_gb = entry.size_gb.max(volume.size_gb);
        }
        for known in inventory.vms {
            let id = known.spec.id;
            for v in &known.volumes {
                if let Some(volume) = state.volumes.get_mut(v) {
                    volume.attached_to = Some(id);
                }
            }
            let nics = known.spec.nics.iter().map(|n| (n.id, n.clone())).collect();
            let vm = match state.vms.entry(id) {
                Entry::Vacant(e) => e.insert(SimVm::new(known.spec, known.power)),
                Entry::Occupied(e) => {
                    let vm = e.into_mut();
                    vm.spec = known.spec;
                    vm
                }
            };
            vm.set_power(known.power);
            vm.nics = nics;
            vm.volumes = known.volumes.into_iter().collect();
            vm.iso = known.iso;
            vm.firewall = known.firewall;
            if known.rescue != vm.rescue.is_some() {
                vm.rescue = known.rescue.then(Vec::new);
            }
        }
        for network in inventory.networks {
            state.networks.insert(network.id, network);
        }
        for lb in inventory.load_balancers {
            state.load_balancers.insert(lb.id, lb);
        }
        // The simulator has no life of its own: it is as the inventory says.
        Ok(vec![])
    }

    async fn create(&self, spec: &VmSpec, ctx: &CallContext<'_>) -> DriverResult<()> {
        debug!(vm = spec.id, name = %spec.name, "sim: create");
        if self.lock().vms.contains_key(&spec.id) {
            ctx.progress.report(100);
            return Ok(());
        }
        pause_with_progress(ctx, self.timings.create, self.timings.progress_interval).await;
        // A concurrent create of the same id may have finished first; keep its record.
        self.lock().vms.entry(spec.id).or_insert_with(|| SimVm::new(spec.clone(), PowerState::Off));
        Ok(())
    }

    async fn start(&self, id: VmId, ctx: &CallContext<'_>) -> DriverResult<()> {
        debug!(vm = id, "sim: start");
        if self.with_vm(id, |vm| Ok(vm.power == PowerState::Running))? {
            return Ok(());
        }
        pause(ctx.started, self.timings.start).await;
        self.with_vm(id, |vm| {
            if vm.power == PowerState::Off {
                vm.boot();
            }
            Ok(())
        })?;
        Ok(())
    }

    async fn stop(&self, id: VmId, mode: StopMode, ctx: &CallContext<'_>) -> DriverResult<()> {
        debug!(vm = id, ?mode, "sim: stop");
        if self.with_vm(id, |vm| Ok(vm.power == PowerState::Off))? {
            return Ok(());
        }
        let total = match mode {
            StopMode::Graceful => self.timings.stop_graceful,
            StopMode::Hard => self.timings.stop_hard,
        };
        pause(ctx.started, total).await;
        self.with_vm(id, |vm| {
            vm.power_off();
            Ok(())
        })?;
        Ok(())
    }

    /// Reboots a running VM; powers on an off one.
    async fn reboot(&self, id: VmId, ctx: &CallContext<'_>) -> DriverResult<()> {
        debug!(vm = id, "sim: reboot");
        self.with_vm(id, |_| Ok(()))?;
        pause(ctx.started, self.timings.reboot).await;
        self.with_vm(id, |vm| {
            vm.boot();
            Ok(())
        })?;
        Ok(())
    }

    /// Resets a running VM; powers on an off one (as Hetzner's reset does).
    async fn reset(&self, id: VmId, ctx: &CallContext<'_>) -> DriverResult<()> {
        debug!(vm = id, "sim: reset");
        self.with_vm(id, |_| Ok(()))?;
        pause(ctx.started, self.timings.reset).await;
        self.with_vm(id, |vm| {
            vm.boot();
            Ok(())
        })?;
        Ok(())
    }

    async fn rebuild(&self, spec: &VmSpec, ctx: &CallContext<'_>) -> DriverResult<()> {
        let id = spec.id;
        debug!(vm = id, image = ?spec.image.as_ref().map(|i| &i.name), "sim: rebuild");
        self.require_power(id, PowerState::Off, "rebuild")?;
        pause_with_progress(ctx, self.timings.rebuild, self.timings.progress_interval).await;
        self.with_vm(id, |vm| {
            require(vm, PowerState::Off, "rebuild")?;
            vm.spec = VmSpec { nics: vm.spec.nics.clone(), ..spec.clone() };
            vm.in_rescue = false;
            Ok(())
        })?;
        Ok(())
    }

    /// Applies cores and memory; disks only grow (a smaller size keeps the current one).
    async fn resize(&self, id: VmId, hardware: &HardwareSpec, ctx: &CallContext<'_>) -> DriverResult<()> {
        debug!(vm = id, cores = hardware.cores, memory_mb = hardware.memory_mb, "sim: resize");
        let unchanged = self.with_vm(id, |vm| {
            require(vm, PowerState::Off, "resize")?;
            Ok(resized(&vm.spec.hardware, hardware) == vm.spec.hardware)
        })?;
        if unchanged {
            return Ok(());
        }
        pause(ctx.started, self.timings.resize).await;
        self.with_vm(id, |vm| {
            require(vm, PowerState::Off, "resize")?;
            vm.spec.hardware = resized(&vm.spec.hardware, hardware);
            Ok(())
        })?;
        Ok(())
    }

    /// Works on running VMs too (Hetzner snapshots running servers). The size is
    /// deterministic, see [`SimSnapshot`].
    async fn snapshot(&self, id: VmId, image_id: i64, ctx: &CallContext<'_>) -> DriverResult<f64> {
        debug!(vm = id, image = image_id, "sim: snapshot");
        let snapshot = {
            let mut state = self.lock();
            // Checked before the VM: a repeated step must answer the same even if the
            // VM has been deleted since.
            if let Some(done) = state.snapshots.get(&image_id) {
                ctx.progress.report(100);
                return Ok(done.size_gb);
            }
            SimSnapshot::of(state.vm(id)?, image_id)
        };
        pause_with_progress(ctx, self.timings.snapshot, self.timings.progress_interval).await;
        let mut state = self.lock();
        Ok(state.snapshots.entry(image_id).or_insert(snapshot).size_gb)
    }

    async fn delete_snapshot(&self, image_id: i64, ctx: &CallContext<'_>) -> DriverResult<()> {
        debug!(image = image_id, "sim: delete_snapshot");
        if !self.lock().snapshots.contains_key(&image_id) {
            return Ok(());
        }
        pause(ctx.started, self.timings.delete_snapshot).await;
        self.lock().snapshots.remove(&image_id);
        Ok(())
    }

    async fn set_rescue(&self, id: VmId, rescue: Option<&RescueSpec>, ctx: &CallContext<'_>) -> DriverResult<()> {
        debug!(vm = id, armed = rescue.is_some(), "sim: set_rescue");
        self.with_vm(id, |_| Ok(()))?;
        pause(ctx.started, self.timings.set_rescue).await;
        self.with_vm(id, |vm| {
            vm.rescue = rescue.map(|r| r.ssh_keys.clone());
            Ok(())
        })?;
        Ok(())
    }

    async fn set_iso(&self, id: VmId, iso: Option<&str>, ctx: &CallContext<'_>) -> DriverResult<()> {
        debug!(vm = id, ?iso, "sim: set_iso");
        self.with_vm(id, |_| Ok(()))?;
        pause(ctx.started, self.timings.set_iso).await;
        self.with_vm(id, |vm| {
            vm.iso = iso.map(str::to_owned);
            Ok(())
        })?;
        Ok(())
    }

    /// The simulated guest has no password to change; this only checks that it runs.
    async fn set_password(&self, id: VmId, _password: &str, ctx: &CallContext<'_>) -> DriverResult<()> {
        debug!(vm = id, "sim: set_password");
        self.require_power(id, PowerState::Running, "set its password")?;
        pause(ctx.started, self.timings.set_password).await;
        self.require_power(id, PowerState::Running, "set its password")?;
        Ok(())
    }

    /// Deletes running VMs too (pulling the plug first); ends their console sessions and
    /// detaches their volumes. Their snapshots stay: they are images now.
    async fn delete(&self, id: VmId, ctx: &CallContext<'_>) -> DriverResult<()> {
        debug!(vm = id, "sim: delete");
        if !self.lock().vms.contains_key(&id) {
            return Ok(());
        }
        pause(ctx.started, self.timings.delete).await;
        let mut state = self.lock();
        state.vms.remove(&id);
        state.consoles.close_vm(id);
        for volume in state.volumes.values_mut().filter(|v| v.attached_to == Some(id)) {
            volume.attached_to = None;
        }
        Ok(())
    }

    async fn create_volume(&self, spec: &VolumeSpec, ctx: &CallContext<'_>) -> DriverResult<()> {
        debug!(volume = spec.id, size_gb = spec.size_gb, "sim: create_volume");
        if self.lock().volumes.contains_key(&spec.id) {
            return Ok(());
        }
        pause_with_progress(ctx, self.timings.create_volume, self.timings.progress_interval).await;
        self.lock().volumes.entry(spec.id).or_insert_with(|| SimVolume {
            size_gb: spec.size_gb,
            format: spec.format.clone(),
            attached_to: None,
        });
        Ok(())
    }

    /// Grows only: a smaller size keeps the current one, so resizing back (an undo)
    /// succeeds and keeps the data.
    async fn resize_volume(&self, id: i64, size_gb: u32, ctx: &CallContext<'_>) -> DriverResult<()> {
        debug!(volume = id, size_gb, "sim: resize_volume");
        if self.lock().volume(id)?.size_gb >= size_gb {
            return Ok(());
        }
        pause(ctx.started, self.timings.resize_volume).await;
        let mut state = self.lock();
        let volume = state.volume(id)?;
        volume.size_gb = volume.size_gb.max(size_gb);
        Ok(())
    }

    async fn delete_volume(&self, id: i64, ctx: &CallContext<'_>) -> DriverResult<()> {
        debug!(volume = id, "sim: delete_volume");
        match self.lock().volumes.get(&id) {
            None => return Ok(()),
            Some(SimVolume { attached_to: Some(vm), .. }) => {
                return Err(SimError::InUse { what: "volume", id, vm: *vm }.into())
            }
            Some(_) => {}
        }
        pause(ctx.started, self.timings.delete_volume).await;
        self.lock().volumes.remove(&id);
        Ok(())
    }

    async fn attach_volume(&self, vm: VmId, volume: i64, ctx: &CallContext<'_>) -> DriverResult<String> {
        debug!(vm, volume, "sim: attach_volume");
        {
            let mut state = self.lock();
            state.vm(vm)?;
            match state.volume(volume)?.attached_to {
                Some(at) if at == vm => return Ok(volume_device(volume)),
                Some(other) => return Err(SimError::InUse { what: "volume", id: volume, vm: other }.into()),
                None => {}
            }
        }
        pause(ctx.started, self.timings.attach_volume).await;
        let mut state = self.lock();
        state.vm(vm)?.volumes.insert(volume);
        let v = state.volume(volume)?;
        match v.attached_to {
            Some(other) if other != vm => Err(SimError::InUse { what: "volume", id: volume, vm: other }.into()),
            _ => {
                v.attached_to = Some(vm);
                Ok(volume_device(volume))
            }
        }
    }

    async fn detach_volume(&self, vm: VmId, volume: i64, ctx: &CallContext<'_>) -> DriverResult<()> {
        debug!(vm, volume, "sim: detach_volume");
        let attached = self.lock().volumes.get(&volume).is_some_and(|v| v.attached_to == Some(vm));
        if !attached {
            return Ok(());
        }
        pause(ctx.started, self.timings.detach_volume).await;
        let mut state = self.lock();
        if let Some(v) = state.volumes.get_mut(&volume).filter(|v| v.attached_to == Some(vm)) {
            v.attached_to = None;
        }
        if let Some(vm) = state.vms.get_mut(&vm) {
            vm.volumes.remove(&volume);
        }
        Ok(())
    }

    async fn apply_network(&self, spec: &NetworkSpec, ctx: &CallContext<'_>) -> DriverResult<()> {
        debug!(network = spec.id, range = %spec.ip_range, "sim: apply_network");
        if self.lock().networks.get(&spec.id) == Some(spec) {
            return Ok(());
        }
        pause(ctx.started, self.timings.apply_network).await;
        self.lock().networks.insert(spec.id, spec.clone());
        Ok(())
    }

    async fn delete_network(&self, id: i64, ctx: &CallContext<'_>) -> DriverResult<()> {
        debug!(network = id, "sim: delete_network");
        {
            let state = self.lock();
            if !state.networks.contains_key(&id) {
                return Ok(());
            }
            let plugged = state.vms.values().find(|vm| vm.nics.values().any(|n| n.network == Some(id)));
            if let Some(vm) = plugged {
                return Err(SimError::InUse { what: "network", id, vm: vm.spec.id }.into());
            }
        }
        pause(ctx.started, self.timings.delete_network).await;
        self.lock().networks.remove(&id);
        Ok(())
    }

    async fn attach_nic(&self, vm: VmId, nic: &NicSpec, ctx: &CallContext<'_>) -> DriverResult<()> {
        debug!(vm, nic = nic.id, network = ?nic.network, "sim: attach_nic");
        {
            let mut state = self.lock();
            if let Some(network) = nic.network.filter(|n| !state.networks.contains_key(n)) {
                return Err(SimError::Missing { what: "network", id: network }.into());
            }
            if state.vm(vm)?.nics.get(&nic.id) == Some(nic) {
                return Ok(());
            }
        }
        pause(ctx.started, self.timings.attach_nic).await;
        self.with_vm(vm, |v| {
            v.nics.insert(nic.id, nic.clone());
            Ok(())
        })?;
        Ok(())
    }

    async fn detach_nic(&self, vm: VmId, nic: i64, ctx: &CallContext<'_>) -> DriverResult<()> {
        debug!(vm, nic, "sim: detach_nic");
        let plugged = self.lock().vms.get(&vm).is_some_and(|v| v.nics.contains_key(&nic));
        if !plugged {
            return Ok(());
        }
        pause(ctx.started, self.timings.detach_nic).await;
        if let Some(v) = self.lock().vms.get_mut(&vm) {
            v.nics.remove(&nic);
        }
        Ok(())
    }

    async fn apply_firewall(&self, vm: VmId, rules: &[FirewallRuleSpec], ctx: &CallContext<'_>) -> DriverResult<()> {
        debug!(vm, rules = rules.len(), "sim: apply_firewall");
        if self.with_vm(vm, |v| Ok(v.firewall == rules))? {
            return Ok(());
        }
        pause(ctx.started, self.timings.apply_firewall).await;
        self.with_vm(vm, |v| {
            v.firewall = rules.to_vec();
            Ok(())
        })?;
        Ok(())
    }

    async fn apply_load_balancer(&self, spec: &LoadBalancerSpec, ctx: &CallContext<'_>) -> DriverResult<()> {
        debug!(lb = spec.id, services = spec.services.len(), targets = spec.targets.len(), "sim: apply_load_balancer");
        if self.lock().load_balancers.get(&spec.id) == Some(spec) {
            return Ok(());
        }
        pause(ctx.started, self.timings.apply_load_balancer).await;
        self.lock().load_balancers.insert(spec.id, spec.clone());
        Ok(())
    }

    async fn delete_load_balancer(&self, id: i64, ctx: &CallContext<'_>) -> DriverResult<()> {
        debug!(lb = id, "sim: delete_load_balancer");
        if !self.lock().load_balancers.contains_key(&id) {
            return Ok(());
        }
        pause(ctx.started, self.timings.delete_load_balancer).await;
        self.lock().load_balancers.remove(&id);
        Ok(())
    }

    /// A fresh token and password per call, valid for [`CONSOLE_TTL`]. Off VMs get a
    /// console too (it shows a blank screen on a real hypervisor).
    async fn console(&self, id: VmId) -> DriverResult<ConsoleEndpoint> {
        debug!(vm = id, "sim: console");
        let mut state = self.lock();
        state.vm(id)?;
        let password = crate::console::new_password();
        let token = state.consoles.open(id, password.clone(), ConsoleTarget::Echo);
        Ok(ConsoleEndpoint { wss_url: format!("/console/{token}"), password })
    }

    /// Sessions from [`Driver::console`], while live ([`CONSOLE_TTL`]) and the VM exists.
    fn console_session(&self, token: &str) -> Option<ConsoleSession> {
        self.lock().consoles.lookup(token)
    }

    async fn metrics(&self, id: VmId, query: &MetricsQuery) -> DriverResult<Vec<MetricSeries>> {
        debug!(vm = id, kinds = ?query.kinds, step = query.step, "sim: metrics");
        let load = self.with_vm(id, |vm| {
            Ok(metrics::VmLoad {
                id,
                cores: vm.spec.hardware.cores,
                off_from: (vm.power == PowerState::Off).then(|| vm.power_since.timestamp()),
            })
        })?;
        Ok(metrics::series(load, query))
    }

    async fn load_balancer_metrics(&self, id: i64, query: &MetricsQuery) -> DriverResult<Vec<MetricSeries>> {
        debug!(lb = id, kinds = ?query.kinds, step = query.step, "sim: load_balancer_metrics");
        if !self.lock().load_balancers.contains_key(&id) {
            return Err(SimError::Missing { what: "load balancer", id }.into());
        }
        // A load balancer's traffic is shaped like a busy 4-core VM's.
        Ok(metrics::series(metrics::VmLoad { id, cores: 4, off_from: None }, query))
    }

    async fn power_state(&self, id: VmId) -> DriverResult<PowerState> {
        debug!(vm = id, "sim: power_state");
        Ok(self.with_vm(id, |vm| Ok(vm.power))?)
    }
}
