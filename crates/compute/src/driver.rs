//! The driver interface and the values that cross it. Nothing here assumes the
//! hypervisor is this process or this host: specs are plain data, resources are named by
//! the control plane's ids.

use crate::metrics::{MetricSeries, MetricsQuery};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The control plane's id of a VM (the core's server id).
pub type VmId = i64;

/// One local disk of a VM.
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

/// One network interface of a VM. The public interface has no network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NicSpec {
    /// The control plane's id of the interface.
    pub id: i64,
    /// `None` for the public interface; else the private network it is plugged into.
    pub network: Option<i64>,
    pub mac: String,
    /// Addresses the guest should configure on it, as text (`203.0.113.5`,
    /// `2001:db8::/64`, `10.0.0.2`).
    pub addresses: Vec<String>,
}

/// Everything needed to build a VM. Plain data, so it can be persisted in an action
/// and sent to a remote host.
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
    /// The interfaces the VM is built with; more are plugged in with `attach_nic`.
    pub nics: Vec<NicSpec>,
}

/// A block volume, independent of any VM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeSpec {
    pub id: i64,
    pub size_gb: u32,
    /// A filesystem to create on it (`ext4`, `xfs`), or none.
    pub format: Option<String>,
}

/// A private network: an address range with subnets and routes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkSpec {
    pub id: i64,
    /// CIDR, e.g. `10.0.0.0/16`.
    pub ip_range: String,
    /// CIDRs inside `ip_range`.
    pub subnets: Vec<String>,
    /// (destination CIDR, gateway address).
    pub routes: Vec<(String, String)>,
}

/// Which way a firewall rule filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    In,
    Out,
}

/// One allow rule as the data plane enforces it: traffic matching no rule is dropped
/// once any rule exists for that direction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirewallRuleSpec {
    pub direction: Direction,
    /// `tcp`, `udp`, `icmp`, `esp` or `gre`.
    pub protocol: String,
    /// A port or range (`80`, `1000-2000`, `any`); `None` for protocols without ports.
    pub port: Option<String>,
    /// CIDRs the rule admits (sources for `in`, destinations for `out`).
    pub addresses: Vec<String>,
}

/// A load balancer's forwarding configuration, as a data plane (HAProxy) needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadBalancerSpec {
    pub id: i64,
    /// `round_robin` or `least_connections`.
    pub algorithm: String,
    /// Addresses it listens on.
    pub addresses: Vec<String>,
    pub services: Vec<LbServiceSpec>,
    /// Target addresses (server IPs, private or public, and IP targets).
    pub targets: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LbServiceSpec {
    /// `tcp`, `http` or `https`.
    pub protocol: String,
    pub listen_port: u16,
    pub destination_port: u16,
    pub proxyprotocol: bool,
}

/// A VM as the control plane believes it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VmState {
    /// With every interface it has (the public one and those of private networks).
    pub spec: VmSpec,
    pub power: PowerState,
    pub volumes: Vec<i64>,
    /// The ISO in its drive.
    pub iso: Option<String>,
    /// Whether a rescue system is armed for its next boot.
    pub rescue: bool,
    /// The firewall rules its public interface enforces.
    #[serde(default)]
    pub firewall: Vec<FirewallRuleSpec>,
}

/// Everything the control plane believes exists on the hypervisors, handed to
/// [`Driver::restore`] at start-up.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inventory {
    pub vms: Vec<VmState>,
    pub volumes: Vec<VolumeSpec>,
    pub networks: Vec<NetworkSpec>,
    pub load_balancers: Vec<LoadBalancerSpec>,
}

/// A difference between what the control plane believes and what the hypervisor runs,
/// found at [`Driver::restore`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Drift {
    /// The VM is in another power state than believed (its guest powered off, say).
    Power { vm: VmId, now: PowerState },
    /// The VM is gone from the hypervisor.
    Missing { vm: VmId },
}

/// Whether a VM's CPU runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PowerState {
    Running,
    Off,
}

/// Who may log in to the rescue system a VM boots next (`set_rescue`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RescueSpec {
    /// OpenSSH public keys.
    pub ssh_keys: Vec<String>,
    /// The root password `enable_rescue` answers with. Without it and without keys the
    /// rescue system armed last is armed again: the undo of disabling, when the records no
    /// longer hold the password.
    pub root_password: Option<String>,
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

/// What every mutating call is told besides its arguments.
pub struct CallContext<'a> {
    /// When the action step making this call first began. A step resumed after the
    /// control plane restarted passes its original start, so that work which went on
    /// meanwhile (a VM keeps booting while Stratus restarts) is not waited for again.
    pub started: DateTime<Utc>,
    pub progress: &'a dyn Progress,
}

impl std::fmt::Debug for CallContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallContext").field("started", &self.started).finish_non_exhaustive()
    }
}

impl CallContext<'static> {
    /// A call starting now with no one listening to its progress (tests, tools).
    pub fn now() -> Self {
        CallContext { started: Utc::now(), progress: &NoProgress }
    }
}

/// Why a driver call failed. `code` is machine-readable and ends up as the action's
/// error code; `message` is shown to users; `retryable` says whether the same call may
/// succeed if repeated (a busy host, a timeout on the way) as opposed to a refusal that
/// will not change (a missing image, a broken precondition).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct DriverError {
    pub code: String,
    pub message: String,
    pub retryable: bool,
}

impl DriverError {
    /// A failure that repeating the call will not cure.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        DriverError { code: code.into(), message: message.into(), retryable: false }
    }

    /// A failure worth retrying.
    pub fn transient(code: impl Into<String>, message: impl Into<String>) -> Self {
        DriverError { code: code.into(), message: message.into(), retryable: true }
    }
}

pub type DriverResult<T> = Result<T, DriverError>;

/// What the control plane asks of a hypervisor. Every mutating call is idempotent (see
/// the crate docs) and is called only from an action step.
#[async_trait]
pub trait Driver: Send + Sync + std::fmt::Debug {
    /// A short name for logs (`sim`, `libvirt`).
    fn name(&self) -> &'static str;

    /// Re-learns what the control plane knows after a restart: the driver may reattach to
    /// processes that outlived it, or (the simulator) recreate its bookkeeping. Takes the
    /// inventory, built for this call alone, so a driver keeps its parts without copying
    /// every server's spec at start-up. Returns what it found different from the
    /// inventory (a VM that stopped, or vanished, while the control plane was down).
    async fn restore(&self, inventory: Inventory) -> DriverResult<Vec<Drift>>;

    /// Builds the VM (disks from the image, seed with keys and user data); leaves it off.
    async fn create(&self, spec: &VmSpec, ctx: &CallContext<'_>) -> DriverResult<()>;
    async fn start(&self, id: VmId, ctx: &CallContext<'_>) -> DriverResult<()>;
    async fn stop(&self, id: VmId, mode: StopMode, ctx: &CallContext<'_>) -> DriverResult<()>;
    /// ACPI reboot.
    async fn reboot(&self, id: VmId, ctx: &CallContext<'_>) -> DriverResult<()>;
    /// Hard reset.
    async fn reset(&self, id: VmId, ctx: &CallContext<'_>) -> DriverResult<()>;
    /// Replaces the boot disk with a fresh copy of `spec.image`. The VM is off.
    async fn rebuild(&self, spec: &VmSpec, ctx: &CallContext<'_>) -> DriverResult<()>;
    /// Changes cores, memory and (growing only) disks. The VM is off.
    async fn resize(&self, id: VmId, hardware: &HardwareSpec, ctx: &CallContext<'_>) -> DriverResult<()>;
    /// Copies the boot disk into the image store as image `image_id`, consistently even
    /// while the VM runs; returns the image's size in GB.
    async fn snapshot(&self, id: VmId, image_id: i64, ctx: &CallContext<'_>) -> DriverResult<f64>;
    /// Removes an image's data (undo of `snapshot`, image deletion).
    async fn delete_snapshot(&self, image_id: i64, ctx: &CallContext<'_>) -> DriverResult<()>;
    /// Arms (`Some`) or disarms (`None`) booting into a rescue system on the next boot
    /// (start, reboot or reset); that boot disarms it, so the one after is a normal one.
    async fn set_rescue(&self, id: VmId, rescue: Option<&RescueSpec>, ctx: &CallContext<'_>) -> DriverResult<()>;
    /// Inserts (`Some`) or ejects (`None`) an ISO in the VM's virtual drive.
    async fn set_iso(&self, id: VmId, iso: Option<&str>, ctx: &CallContext<'_>) -> DriverResult<()>;
    /// Sets the root password in the running guest.
    async fn set_password(&self, id: VmId, password: &str, ctx: &CallContext<'_>) -> DriverResult<()>;
    /// Destroys the VM and its local disks (volumes are detached, not destroyed).
    async fn delete(&self, id: VmId, ctx: &CallContext<'_>) -> DriverResult<()>;

    /// Creates a volume's storage.
    async fn create_volume(&self, spec: &VolumeSpec, ctx: &CallContext<'_>) -> DriverResult<()>;
    /// Grows a volume (never shrinks it).
    async fn resize_volume(&self, id: i64, size_gb: u32, ctx: &CallContext<'_>) -> DriverResult<()>;
    /// Destroys a volume's storage. It must not be attached.
    async fn delete_volume(&self, id: i64, ctx: &CallContext<'_>) -> DriverResult<()>;
    /// Plugs a volume into a VM (running or off); returns the device path the guest sees.
    async fn attach_volume(&self, vm: VmId, volume: i64, ctx: &CallContext<'_>) -> DriverResult<String>;
    async fn detach_volume(&self, vm: VmId, volume: i64, ctx: &CallContext<'_>) -> DriverResult<()>;

    /// Creates or updates a private network (its range, subnets and routes).
    async fn apply_network(&self, spec: &NetworkSpec, ctx: &CallContext<'_>) -> DriverResult<()>;
    /// Removes a private network. No interface may be plugged into it.
    async fn delete_network(&self, id: i64, ctx: &CallContext<'_>) -> DriverResult<()>;
    /// Plugs an interface into a VM, or updates the addresses of one already plugged in.
    async fn attach_nic(&self, vm: VmId, nic: &NicSpec, ctx: &CallContext<'_>) -> DriverResult<()>;
    async fn detach_nic(&self, vm: VmId, nic: i64, ctx: &CallContext<'_>) -> DriverResult<()>;

    /// Replaces the firewall rules enforced on a VM's public interface with `rules` (the
    /// union of every firewall applied to it; empty means unfiltered).
    async fn apply_firewall(&self, vm: VmId, rules: &[FirewallRuleSpec], ctx: &CallContext<'_>) -> DriverResult<()>;

    /// Creates or updates a load balancer's forwarding.
    async fn apply_load_balancer(&self, spec: &LoadBalancerSpec, ctx: &CallContext<'_>) -> DriverResult<()>;
    async fn delete_load_balancer(&self, id: i64, ctx: &CallContext<'_>) -> DriverResult<()>;

    /// Opens a console session. A read: called outside actions.
    async fn console(&self, id: VmId) -> DriverResult<ConsoleEndpoint>;
    /// A console session from [`Driver::console`] while it is live: what the websocket
    /// at `/console/{token}` connects to.
    fn console_session(&self, token: &str) -> Option<crate::console::ConsoleSession>;
    /// A VM's metrics. A read.
    async fn metrics(&self, id: VmId, query: &MetricsQuery) -> DriverResult<Vec<MetricSeries>>;
    /// A load balancer's metrics. A read.
    async fn load_balancer_metrics(&self, id: i64, query: &MetricsQuery) -> DriverResult<Vec<MetricSeries>>;
    async fn power_state(&self, id: VmId) -> DriverResult<PowerState>;
}
