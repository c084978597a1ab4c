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

mod console;
mod error;
mod metrics;
mod noise;
mod state;
#[cfg(test)]
mod tests;
mod timing;

pub use console::CONSOLE_TTL;
pub use state::{SimSnapshot, SimVm};
pub use timing::{ParseSimTimingError, SimTiming, SimTimings};

use crate::driver::{
    ConsoleEndpoint, DiskSpec, Driver, DriverResult, HardwareSpec, PowerState, Progress, StopMode, VmId, VmSpec,
};
use crate::metrics::{MetricSeries, MetricsQuery};
use async_trait::async_trait;
use error::SimError;
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
    consoles: console::Sessions,
}

impl State {
    fn vm(&mut self, id: VmId) -> Result<&mut SimVm, SimError> {
        self.vms.get_mut(&id).ok_or(SimError::NotFound(id))
    }
}

impl Default for SimDriver {
    fn default() -> Self {
        SimDriver::new(SimTiming::default())
    }
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

    /// The VM and VNC password of a console token from [`Driver::console`], while the
    /// session is live ([`CONSOLE_TTL`]) and the VM exists. The API layer calls this when
    /// a client opens `/console/{token}`.
    pub fn console_session(&self, token: &str) -> Option<(VmId, String)> {
        self.lock().consoles.lookup(token)
    }

    /// A copy of the bookkeeping for one VM, for tests and diagnostics.
    pub fn vm(&self, id: VmId) -> Option<SimVm> {
        self.lock().vms.get(&id).cloned()
    }

    /// A stored snapshot, by image id.
    pub fn stored_snapshot(&self, image_id: i64) -> Option<SimSnapshot> {
        self.lock().snapshots.get(&image_id).copied()
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

    /// Upserts each VM with the persisted spec and power state. VMs the simulator knows
    /// but the list omits are left alone (a real driver would not kill unknown guests).
    async fn restore(&self, vms: &[(VmSpec, PowerState)]) -> DriverResult<()> {
        debug!(count = vms.len(), "sim: restore");
        let mut state = self.lock();
        for (spec, power) in vms {
            match state.vms.get_mut(&spec.id) {
                Some(vm) => {
                    vm.spec = spec.clone();
                    vm.set_power(*power);
                }
                None => {
                    state.vms.insert(spec.id, SimVm::new(spec.clone(), *power));
                }
            }
        }
        Ok(())
    }

    async fn create(&self, spec: &VmSpec, progress: &dyn Progress) -> DriverResult<()> {
        debug!(vm = spec.id, name = %spec.name, "sim: create");
        if self.lock().vms.contains_key(&spec.id) {
            progress.report(100);
            return Ok(());
        }
        pause_with_progress(self.timings.create, self.timings.progress_interval, progress).await;
        // A concurrent create of the same id may have finished first; keep its record.
        self.lock().vms.entry(spec.id).or_insert_with(|| SimVm::new(spec.clone(), PowerState::Off));
        Ok(())
    }

    async fn start(&self, id: VmId) -> DriverResult<()> {
        debug!(vm = id, "sim: start");
        if self.with_vm(id, |vm| Ok(vm.power == PowerState::Running))? {
            return Ok(());
        }
        pause(self.timings.start).await;
        self.with_vm(id, |vm| {
            if vm.power == PowerState::Off {
                vm.boot();
            }
            Ok(())
        })?;
        Ok(())
    }

    async fn stop(&self, id: VmId, mode: StopMode) -> DriverResult<()> {
        debug!(vm = id, ?mode, "sim: stop");
        if self.with_vm(id, |vm| Ok(vm.power == PowerState::Off))? {
            return Ok(());
        }
        pause(match mode {
            StopMode::Graceful => self.timings.stop_graceful,
            StopMode::Hard => self.timings.stop_hard,
        })
        .await;
        self.with_vm(id, |vm| {
            vm.power_off();
            Ok(())
        })?;
        Ok(())
    }

    /// Reboots a running VM; powers on an off one.
    async fn reboot(&self, id: VmId) -> DriverResult<()> {
        debug!(vm = id, "sim: reboot");
        self.with_vm(id, |_| Ok(()))?;
        pause(self.timings.reboot).await;
        self.with_vm(id, |vm| {
            vm.boot();
            Ok(())
        })?;
        Ok(())
    }

    /// Resets a running VM; powers on an off one (as Hetzner's reset does).
    async fn reset(&self, id: VmId) -> DriverResult<()> {
        debug!(vm = id, "sim: reset");
        self.with_vm(id, |_| Ok(()))?;
        pause(self.timings.reset).await;
        self.with_vm(id, |vm| {
            vm.boot();
            Ok(())
        })?;
        Ok(())
    }

    async fn rebuild(&self, spec: &VmSpec, progress: &dyn Progress) -> DriverResult<()> {
        let id = spec.id;
        debug!(vm = id, image = ?spec.image.as_ref().map(|i| &i.name), "sim: rebuild");
        self.require_power(id, PowerState::Off, "rebuild")?;
        pause_with_progress(self.timings.rebuild, self.timings.progress_interval, progress).await;
        self.with_vm(id, |vm| {
            require(vm, PowerState::Off, "rebuild")?;
            vm.spec = spec.clone();
            vm.in_rescue = false;
            Ok(())
        })?;
        Ok(())
    }

    /// Applies cores and memory; disks only grow (a smaller size keeps the current one).
    async fn resize(&self, id: VmId, hardware: &HardwareSpec) -> DriverResult<()> {
        debug!(vm = id, cores = hardware.cores, memory_mb = hardware.memory_mb, "sim: resize");
        let unchanged = self.with_vm(id, |vm| {
            require(vm, PowerState::Off, "resize")?;
            Ok(resized(&vm.spec.hardware, hardware) == vm.spec.hardware)
        })?;
        if unchanged {
            return Ok(());
        }
        pause(self.timings.resize).await;
        self.with_vm(id, |vm| {
            require(vm, PowerState::Off, "resize")?;
            vm.spec.hardware = resized(&vm.spec.hardware, hardware);
            Ok(())
        })?;
        Ok(())
    }

    /// Works on running VMs too (Hetzner snapshots running servers). The size is
    /// deterministic, see [`SimSnapshot`].
    async fn snapshot(&self, id: VmId, image_id: i64, progress: &dyn Progress) -> DriverResult<f64> {
        debug!(vm = id, image = image_id, "sim: snapshot");
        let snapshot = {
            let mut state = self.lock();
            // Checked before the VM: a repeated step must answer the same even if the
            // VM has been deleted since.
            if let Some(done) = state.snapshots.get(&image_id) {
                progress.report(100);
                return Ok(done.size_gb);
            }
            SimSnapshot::of(state.vm(id)?, image_id)
        };
        pause_with_progress(self.timings.snapshot, self.timings.progress_interval, progress).await;
        let mut state = self.lock();
        Ok(state.snapshots.entry(image_id).or_insert(snapshot).size_gb)
    }

    async fn delete_snapshot(&self, image_id: i64) -> DriverResult<()> {
        debug!(image = image_id, "sim: delete_snapshot");
        if !self.lock().snapshots.contains_key(&image_id) {
            return Ok(());
        }
        pause(self.timings.delete_snapshot).await;
        self.lock().snapshots.remove(&image_id);
        Ok(())
    }

    async fn set_rescue(&self, id: VmId, enabled: bool, ssh_keys: &[String]) -> DriverResult<()> {
        debug!(vm = id, enabled, keys = ssh_keys.len(), "sim: set_rescue");
        self.with_vm(id, |_| Ok(()))?;
        pause(self.timings.set_rescue).await;
        self.with_vm(id, |vm| {
            vm.rescue = enabled.then(|| ssh_keys.to_vec());
            Ok(())
        })?;
        Ok(())
    }

    async fn set_iso(&self, id: VmId, iso: Option<&str>) -> DriverResult<()> {
        debug!(vm = id, ?iso, "sim: set_iso");
        self.with_vm(id, |_| Ok(()))?;
        pause(self.timings.set_iso).await;
        self.with_vm(id, |vm| {
            vm.iso = iso.map(str::to_owned);
            Ok(())
        })?;
        Ok(())
    }

    /// The simulated guest has no password to change; this only checks that it runs.
    async fn set_password(&self, id: VmId, _password: &str) -> DriverResult<()> {
        debug!(vm = id, "sim: set_password");
        self.require_power(id, PowerState::Running, "set its password")?;
        pause(self.timings.set_password).await;
        self.require_power(id, PowerState::Running, "set its password")?;
        Ok(())
    }

    /// A fresh token and password per call, valid for [`CONSOLE_TTL`]. Off VMs get a
    /// console too (it shows a blank screen on a real hypervisor).
    async fn console(&self, id: VmId) -> DriverResult<ConsoleEndpoint> {
        debug!(vm = id, "sim: console");
        let mut state = self.lock();
        state.vm(id)?;
        let (token, password) = state.consoles.open(id);
        Ok(ConsoleEndpoint { wss_url: format!("/console/{token}"), password })
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

    async fn power_state(&self, id: VmId) -> DriverResult<PowerState> {
        debug!(vm = id, "sim: power_state");
        Ok(self.with_vm(id, |vm| Ok(vm.power))?)
    }

    /// Deletes running VMs too (pulling the plug first); ends their console sessions.
    /// Their snapshots stay: they are images now.
    async fn delete(&self, id: VmId) -> DriverResult<()> {
        debug!(vm = id, "sim: delete");
        if !self.lock().vms.contains_key(&id) {
            return Ok(());
        }
        pause(self.timings.delete).await;
        let mut state = self.lock();
        state.vms.remove(&id);
        state.consoles.close_vm(id);
        Ok(())
    }
}
