//! The simulator's bookkeeping: what a real hypervisor would know about each VM and
//! snapshot. It lives only in memory; after a restart [`crate::Driver::restore`] rebuilds
//! it from what the control plane persisted.

use super::metrics::round2;
use super::noise::unit;
use crate::driver::{FirewallRuleSpec, NicSpec, PowerState, VmId, VmSpec};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// One simulated VM, as [`super::SimDriver::vm`] shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimVm {
    /// The spec of the last create, rebuild or resize.
    pub spec: VmSpec,
    pub power: PowerState,
    /// When `power` last changed (wall clock): metrics are zero from here while off.
    pub power_since: DateTime<Utc>,
    /// SSH keys of a rescue system armed for the next boot (`set_rescue`), if any.
    pub rescue: Option<Vec<String>>,
    /// Whether the current (or last) boot went into the rescue system. Like Hetzner,
    /// booting into rescue disarms it, so the boot after that is a normal one again.
    pub in_rescue: bool,
    /// The ISO in the virtual drive.
    pub iso: Option<String>,
    /// How many times the VM booted (start, reboot, reset) since the simulator learnt
    /// of it: lets tests see that a repeated call did not boot twice.
    pub boot_count: u32,
    /// When the simulator created (or, after a restart, re-learnt) the VM.
    pub created_at: DateTime<Utc>,
    /// Plugged-in interfaces by id: those of the spec plus `attach_nic`s.
    pub nics: BTreeMap<i64, NicSpec>,
    /// Attached volumes.
    pub volumes: BTreeSet<i64>,
    /// The firewall rules last applied.
    pub firewall: Vec<FirewallRuleSpec>,
}

impl SimVm {
    pub(crate) fn new(spec: VmSpec, power: PowerState) -> Self {
        let now = Utc::now();
        SimVm {
            nics: spec.nics.iter().map(|n| (n.id, n.clone())).collect(),
            volumes: BTreeSet::new(),
            firewall: Vec::new(),
            spec,
            power,
            power_since: now,
            rescue: None,
            in_rescue: false,
            iso: None,
            boot_count: 0,
            created_at: now,
        }
    }

    /// Power on (or restart, if already on): a fresh boot that consumes an armed rescue.
    pub(crate) fn boot(&mut self) {
        self.set_power(PowerState::Running);
        self.boot_count = self.boot_count.saturating_add(1);
        self.in_rescue = self.rescue.take().is_some();
    }

    pub(crate) fn power_off(&mut self) {
        self.set_power(PowerState::Off);
    }

    /// Changes the power state without a boot (`restore` re-learning a state).
    pub(crate) fn set_power(&mut self, power: PowerState) {
        if self.power != power {
            self.power = power;
            self.power_since = Utc::now();
        }
    }

    /// Size of the boot disk in GB (0 for a diskless VM).
    pub(crate) fn boot_disk_gb(&self) -> u32 {
        self.spec.hardware.disks.first().map_or(0, |d| d.size_gb)
    }
}

/// A snapshot the simulator "stored" in the image store.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SimSnapshot {
    /// The VM it was taken from.
    pub vm: VmId,
    pub size_gb: f64,
}

impl SimSnapshot {
    /// Salt for [`unit`] so snapshot sizes do not correlate with metrics.
    const SIZE_SALT: u64 = 0x5_0A95;

    /// A snapshot of `vm` stored as image `image_id`. Its size is a deterministic
    /// 3-12.5 % of the boot disk (0.6-2.5 GB for a 20 GB disk: a fresh OS with some
    /// data, compressed), at least 0.3 GB, so a repeated snapshot step reports the same size.
    pub(crate) fn of(vm: &SimVm, image_id: i64) -> Self {
        let share = 0.03 + 0.095 * unit(vm.spec.id, image_id, Self::SIZE_SALT);
        let size_gb = round2((f64::from(vm.boot_disk_gb()) * share).max(0.3));
        SimSnapshot { vm: vm.spec.id, size_gb }
    }
}

/// A volume the simulator "stores".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimVolume {
    pub size_gb: u32,
    pub format: Option<String>,
    /// The VM it is attached to.
    pub attached_to: Option<VmId>,
}
