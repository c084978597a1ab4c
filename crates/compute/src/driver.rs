//! The driver interface and the values that cross it. Nothing here assumes the
//! hypervisor is this process or this host: specs are plain data, VMs are named by id.

use crate::metrics::{MetricSeries, MetricsQuery};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// The control plane's id of a VM (the core's server id).
pub type VmId = i64;

/// One disk of a VM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiskSpec {
    pub size_gb: u32,
}

/// The hardware of a VM, from a server type or custom.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HardwareSpec {
    pub cores: u32,
    pub memory_mb: u32,
    /// The first disk is the boot disk.
    pub disks: Vec<DiskSpec>,
}

/// What to put on the boot disk: a reference into the image store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageRef {
    pub id: i64,
    /// The image's name (`debian-12`), for drivers that map names to base files.
    pub name: String,
}

/// Everything needed to build a VM. Plain data, so it can be persisted in an action
/// step and sent to a remote host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VmSpec {
    pub id: VmId,
    pub name: String,
    pub hardware: HardwareSpec,
    pub image: Option<ImageRef>,
    /// OpenSSH public keys to install for root.
    pub ssh_keys: Vec<String>,
    /// A root password to set (only when no SSH keys are given).
    pub root_password: Option<String>,
    /// cloud-init user data.
    pub user_data: Option<String>,
    /// Addresses the guest should configure, as text (`203.0.113.5`, `2001:db8::/64`).
    pub addresses: Vec<String>,
}

/// Whether a VM's CPU runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PowerState {
    Running,
    Off,
}

/// How to stop a VM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopMode {
    /// ACPI shutdown: the guest decides.
    Graceful,
    /// Pull the plug.
    Hard,
}

/// Where a VM's console can be reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleEndpoint {
    /// A websocket URL (VNC over websocket), or a path on Stratus's own listener
    /// starting with `/` which the API layer turns into an absolute URL.
    pub wss_url: String,
    pub password: String,
}

/// Reports a long call's progress (0-100) while it runs.
pub trait Progress: Send + Sync {
    fn report(&self, percent: u8);
}

/// A `Progress` that drops reports.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn report(&self, _percent: u8) {}
}

/// Why a driver call failed. `code` is machine-readable and ends up as the action's
/// error code; `message` is shown to users.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct DriverError {
    pub code: String,
    pub message: String,
}

impl DriverError {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        DriverError { code: code.into(), message: message.into() }
    }
}

pub type DriverResult<T> = Result<T, DriverError>;

/// What the control plane asks of a hypervisor. Every call is idempotent (see the crate docs).
#[async_trait]
pub trait Driver: Send + Sync + std::fmt::Debug {
    /// A short name for logs (`sim`, `qemu`).
    fn name(&self) -> &'static str;

    /// Re-learns VMs the control plane knows after a restart: the driver may reattach to
    /// processes that outlived it, or (the simulator) recreate its bookkeeping.
    async fn restore(&self, vms: &[(VmSpec, PowerState)]) -> DriverResult<()>;

    /// Builds the VM (disks from the image, seed with keys and user data); leaves it off.
    async fn create(&self, spec: &VmSpec, progress: &dyn Progress) -> DriverResult<()>;
    async fn start(&self, id: VmId) -> DriverResult<()>;
    async fn stop(&self, id: VmId, mode: StopMode) -> DriverResult<()>;
    /// ACPI reboot.
    async fn reboot(&self, id: VmId) -> DriverResult<()>;
    /// Hard reset.
    async fn reset(&self, id: VmId) -> DriverResult<()>;
    /// Replaces the boot disk with a fresh copy of `image`. The VM is off.
    async fn rebuild(&self, spec: &VmSpec, progress: &dyn Progress) -> DriverResult<()>;
    /// Changes cores, memory and (growing only) disks. The VM is off.
    async fn resize(&self, id: VmId, hardware: &HardwareSpec) -> DriverResult<()>;
    /// Copies the boot disk into the image store as image `image_id`; returns its size in GB.
    async fn snapshot(&self, id: VmId, image_id: i64, progress: &dyn Progress) -> DriverResult<f64>;
    /// Removes a snapshot's data (undo of `snapshot`, image deletion).
    async fn delete_snapshot(&self, image_id: i64) -> DriverResult<()>;
    /// Arms (or disarms) booting into a rescue system with these keys on the next boot.
    async fn set_rescue(&self, id: VmId, enabled: bool, ssh_keys: &[String]) -> DriverResult<()>;
    /// Inserts (`Some`) or ejects (`None`) an ISO in the VM's virtual drive.
    async fn set_iso(&self, id: VmId, iso: Option<&str>) -> DriverResult<()>;
    /// Sets the root password in the running guest.
    async fn set_password(&self, id: VmId, password: &str) -> DriverResult<()>;
    /// Opens a console session.
    async fn console(&self, id: VmId) -> DriverResult<ConsoleEndpoint>;
    async fn metrics(&self, id: VmId, query: &MetricsQuery) -> DriverResult<Vec<MetricSeries>>;
    async fn power_state(&self, id: VmId) -> DriverResult<PowerState>;
    /// Destroys the VM and its disks.
    async fn delete(&self, id: VmId) -> DriverResult<()>;
}
