//! The libvirt driver: every server is a QEMU virtual machine, a persistent libvirt
//! domain named `stratus-<id>` (visible in `virsh list` and virt-manager).
//!
//! Files live under the data directory, which is traversable (`0711`) for libvirt's QEMU
//! user while the database stays `0600`: `images/` (the image store, shared read-only
//! bases) and `vms/<id>/` (the VM's qcow2 overlay, its NoCloud seed and its serial log).
//! libvirt's dynamic ownership hands each file to QEMU while the VM runs.
//!
//! Networking without a routed bridge: the guest's NIC uses libvirt's `passt` backend,
//! which gives it an address by DHCP and forwards TCP ports 22, 80 and 443 of the
//! server's public IPv4 (from a loopback pool, e.g. `127.100.0.0/16`) to it, so
//! `ssh root@<public ip>` reaches each server on its own address.
//!
//! Semantics where the trait leaves room (as the simulator's): every call is idempotent;
//! `start`, `reboot` and `reset` return once the guest has booted (its image's ready
//! signal); reboot and reset of an off VM power it on; a graceful stop falls back to a
//! hard one after [`GRACEFUL_STOP`].

mod boot;
pub mod doctor;
mod domain;
mod probe;
mod rescue;
mod stats;

use probe::VirtType;

use crate::console::{self, ConsoleSession, ConsoleTarget, Sessions, CONSOLE_TTL};
use crate::driver::{
    CallContext, ConsoleEndpoint, Drift, Driver, DriverError, DriverResult, FirewallRuleSpec, HardwareSpec, Inventory,
    LoadBalancerSpec, NetworkSpec, NicSpec, PowerState, RescueSpec, StopMode, VmId, VmSpec, VolumeSpec,
};
use crate::images::{traversable, write_seed, ImageStore, IsoStore, Ready, Seed, StoredImage};
use crate::metrics::{MetricSeries, MetricsQuery};
use async_trait::async_trait;
use domain::{domain_name, domain_xml, DomainParams, VmFiles};
use rescue::{RescueFiles, RESCUE_IMAGE};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tracing::{debug, info, warn};
use virt::connect::Connect;
use virt::domain::Domain;
use virt::error::ErrorNumber;

/// How long an ACPI shutdown may take before the plug is pulled.
pub const GRACEFUL_STOP: Duration = Duration::from_secs(60);
/// How long a guest may take to let go of a hot-unplugged disk (PCIe's attention
/// button alone waits 5 s).
const DETACH_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a guest may take to boot. TCG boots of a full Debian take tens of seconds.
const BOOT_TIMEOUT: Duration = Duration::from_secs(300);
/// How many times a boot that stalled is tried.
const BOOT_ATTEMPTS: u32 = 3;

/// How the driver is set up.
#[derive(Debug, Clone)]
pub struct LibvirtConfig {
    /// `qemu:///system`, or a remote URI.
    pub uri: String,
    /// The data directory: images and VM files go under it.
    pub data_dir: PathBuf,
}

#[derive(Debug)]
pub struct LibvirtDriver {
    conn: Arc<Connect>,
    images: ImageStore,
    isos: IsoStore,
    vms: PathBuf,
    volumes: PathBuf,
    virt_type: VirtType,
    /// Recent counters of every VM, for metrics.
    history: Arc<stats::History>,
    /// Open console sessions (tokens lead to a VM's VNC websocket).
    consoles: Mutex<Sessions>,
}

/// A libvirt failure as a driver error.
fn lv(what: &str) -> impl FnOnce(virt::error::Error) -> DriverError + '_ {
    move |e| DriverError::new("hypervisor_error", format!("{what}: {}", e.message()))
}

fn file_error(what: &str) -> impl FnOnce(std::io::Error) -> DriverError + '_ {
    move |e| DriverError::new("hypervisor_error", format!("{what}: {e}"))
}

impl LibvirtDriver {
    /// Connects to libvirt, prepares the folders QEMU reaches, and finds out whether KVM
    /// can run guests here (TCG otherwise), which it logs.
    pub async fn connect(config: LibvirtConfig) -> DriverResult<LibvirtDriver> {
        // libvirt prints every error to stderr by default, expected ones (a lookup of a
        // domain that does not exist) included; errors reach callers as values instead.
        virt::error::clear_error_callback();
        let uri = config.uri.clone();
        let conn = tokio::task::spawn_blocking(move || Connect::open(Some(&uri)))
            .await
            .map_err(|e| DriverError::new("hypervisor_error", e.to_string()))?
            .map_err(|e| {
                DriverError::new(
                    "hypervisor_unavailable",
                    format!("cannot connect to libvirt at {}: {} (is libvirtd running?)", config.uri, e.message()),
                )
            })?;
        check_port_forwarding(&config.uri)?;
        check_reachable(&config.data_dir)?;
        let images = ImageStore::new(&config.data_dir);
        let isos = IsoStore::new(&config.data_dir);
        let vms = config.data_dir.join("vms");
        let volumes = config.data_dir.join("volumes");
        for dir in [&config.data_dir, images.root(), isos.root(), &vms, &volumes] {
            std::fs::create_dir_all(dir).map_err(file_error("creating the data folders"))?;
            traversable(dir).map_err(|e| DriverError::new("hypervisor_error", e.to_string()))?;
        }
        let conn = Arc::new(conn);
        let virt_type = probe::probe(conn.clone(), &images, &vms).await;
        info!(uri = %config.uri, virt_type = virt_type.as_str(), "libvirt driver connected");
        let history = Arc::new(stats::History::default());
        stats::spawn_sampler(conn.clone(), vms.clone(), history.clone());
        Ok(LibvirtDriver { conn, images, isos, vms, volumes, virt_type, history, consoles: Mutex::default() })
    }

    fn dir(&self, id: VmId) -> PathBuf {
        self.vms.join(id.to_string())
    }

    fn volume(&self, id: i64) -> PathBuf {
        self.volumes.join(format!("{id}.qcow2"))
    }

    fn serial_log(&self, id: VmId) -> PathBuf {
        self.dir(id).join("serial.log")
    }

    /// Runs a libvirt call off the async threads (the bindings block).
    async fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connect) -> DriverResult<T> + Send + 'static,
    ) -> DriverResult<T> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || f(&conn))
            .await
            .map_err(|e| DriverError::new("hypervisor_error", format!("libvirt call panicked: {e}")))?
    }

    /// The VM's domain, if it exists.
    async fn domain(&self, id: VmId) -> DriverResult<Option<Domain>> {
        self.call(move |conn| lookup(conn, id)).await
    }

    async fn existing(&self, id: VmId) -> DriverResult<Domain> {
        self.domain(id).await?.ok_or_else(|| DriverError::new("not_found", format!("no domain {}", domain_name(id))))
    }

    async fn is_running(&self, id: VmId) -> DriverResult<bool> {
        let domain = self.existing(id).await?;
        self.call(move |_| domain.is_active().map_err(lv("domain state"))).await
    }

    /// The image of a VM, by the name the control plane gave it.
    fn image_of(&self, spec: &VmSpec) -> DriverResult<StoredImage> {
        let Some(image) = &spec.image else {
            return Err(DriverError::new("image_unavailable", "the server has no image to boot from"));
        };
        let stored = self.images.get(&image.name).map_err(|e| DriverError::new("hypervisor_error", e.to_string()))?;
        stored.ok_or_else(|| {
            DriverError::new(
                "image_unavailable",
                format!(
                    "image {} has no disk in the image store ({}): build it with `stratus image build` or bring one \
                     with `stratus image import --name {}`",
                    image.name,
                    self.images.root().display(),
                    image.name
                ),
            )
        })
    }

    /// The image recorded for a VM at create, for how to wait on its boot.
    fn ready_of(&self, id: VmId) -> Ready {
        std::fs::read_to_string(self.dir(id).join("ready"))
            .ok()
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or(Ready::Running)
    }

    fn public_ipv4(&self, id: VmId) -> Option<String> {
        std::fs::read_to_string(self.dir(id).join("ipv4")).ok().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
    }

    /// Starts the domain unless it runs (into the rescue system when one is armed), then
    /// waits for the guest to be ready.
    async fn boot(&self, id: VmId) -> DriverResult<()> {
        let domain = self.existing(id).await?;
        let dir = self.dir(id);
        let images = self.images.clone();
        let own = self.ready_of(id);
        let (started, launch) = self
            .call(move |conn| {
                let files = RescueFiles::of(&dir);
                if domain.is_active().map_err(lv("domain state"))? {
                    let live = domain.get_xml_desc(0).map_err(lv("reading the domain"))?;
                    let launch = if files.runs_in(&live) {
                        Launch::Rescue { xml: live, ready: rescue_image(&images)?.manifest.ready }
                    } else {
                        Launch::Own(own)
                    };
                    return Ok((false, launch));
                }
                let launch = prepare_launch(&domain, &files, &images, own)?;
                start_process(conn, &domain, &launch)?;
                if matches!(launch, Launch::Rescue { .. }) {
                    // Booting into the rescue system disarms it, as on Hetzner.
                    remove_if_there(&files.armed)?;
                }
                // Started again after a host reboot, as it was running (libvirt's
                // autostart uses the persistent definition: never the rescue system).
                domain.set_autostart(true).map_err(lv("autostart"))?;
                Ok((true, launch))
            })
            .await?;
        debug!(vm = id, started, rescue = matches!(launch, Launch::Rescue { .. }), "libvirt: waiting for the guest");
        self.wait_booted(id, 0, &launch).await
    }

    /// Waits for the guest to be ready; a boot that stalled (see `boot::wait_ready`) is
    /// started over with a fresh QEMU process, up to [`BOOT_ATTEMPTS`] times.
    async fn wait_booted(&self, id: VmId, seen: usize, launch: &Launch) -> DriverResult<()> {
        let ip = self.public_ipv4(id);
        let mut seen = seen;
        let mut attempt = 1;
        loop {
            let conn = self.conn.clone();
            let alive = move || lookup(&conn, id).ok().flatten().is_some_and(|d| d.is_active().unwrap_or(false));
            let result =
                boot::wait_ready(launch.ready(), &self.serial_log(id), seen, ip.as_deref(), BOOT_TIMEOUT, alive).await;
            match result {
                Err(e) if e.code == "boot_stalled" && attempt < BOOT_ATTEMPTS => {
                    warn!(
                        vm = id,
                        attempt, "libvirt: the guest stalled while booting (a vCPU was never woken); starting it again"
                    );
                    let domain = self.existing(id).await?;
                    let launch = launch.clone();
                    self.call(move |conn| {
                        if domain.is_active().map_err(lv("domain state"))? {
                            domain.destroy().map_err(lv("stopping the domain"))?;
                        }
                        start_process(conn, &domain, &launch)
                    })
                    .await?;
                    seen = 0; // a new process: a new serial log
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// Whether the VM runs its rescue system now, or will at its next boot: then a reboot
    /// or reset needs a new QEMU process (a guest's own reboot keeps its live definition).
    async fn rescue_pending(&self, id: VmId) -> DriverResult<bool> {
        let files = RescueFiles::of(&self.dir(id));
        if files.is_armed() {
            return Ok(true);
        }
        let domain = self.existing(id).await?;
        let live = self.call(move |_| domain.get_xml_desc(0).map_err(lv("reading the domain"))).await?;
        Ok(files.runs_in(&live))
    }

    async fn hard_stop(&self, id: VmId) -> DriverResult<()> {
        let domain = self.existing(id).await?;
        self.call(move |_| {
            domain.set_autostart(false).map_err(lv("autostart"))?;
            if domain.is_active().map_err(lv("domain state"))? {
                domain.destroy().map_err(lv("stopping the domain"))?;
            }
            Ok(())
        })
        .await
    }
}

/// How a VM's QEMU process starts: from its persistent definition, or once with the
/// rescue system's (see `rescue`). Each says how the guest tells it has booted.
#[derive(Debug, Clone)]
enum Launch {
    Own(Ready),
    Rescue { xml: String, ready: Ready },
}

impl Launch {
    fn ready(&self) -> Ready {
        match self {
            Launch::Own(ready) | Launch::Rescue { ready, .. } => *ready,
        }
    }
}

/// The launch of a VM that is off: the rescue system when one is armed (its disk made
/// afresh), else its own; a rescue disk left from an earlier rescue boot is removed.
fn prepare_launch(domain: &Domain, files: &RescueFiles, images: &ImageStore, own: Ready) -> DriverResult<Launch> {
    if !files.is_armed() {
        remove_if_there(&files.disk)?;
        return Ok(Launch::Own(own));
    }
    let image = rescue_image(images)?;
    let persistent = domain.get_xml_desc(virt::sys::VIR_DOMAIN_XML_INACTIVE).map_err(lv("reading the domain"))?;
    let xml = rescue::rescue_xml(&persistent, &image, files).ok_or_else(|| {
        DriverError::new("hypervisor_error", "the domain has no boot disk or seed to make its rescue system from")
    })?;
    overlay(&image, &files.disk, None)?;
    Ok(Launch::Rescue { xml, ready: image.manifest.ready })
}

/// A new qcow2 overlay at `path` (replacing any) on the image's disk, `size` large (the
/// image's by default); it will hold the user's data, so the owner only (libvirt hands it
/// to QEMU).
fn overlay(image: &StoredImage, path: &Path, size: Option<&str>) -> DriverResult<()> {
    remove_if_there(path)?;
    let mut args: Vec<&std::ffi::OsStr> =
        ["create", "-q", "-f", "qcow2", "-F", "qcow2", "-b"].map(AsRef::as_ref).to_vec();
    let base = image.disk();
    args.extend([base.as_os_str(), path.as_os_str()]);
    args.extend(size.map(std::ffi::OsStr::new));
    qemu_img(&args)?;
    private(path)
}

fn start_process(conn: &Connect, domain: &Domain, launch: &Launch) -> DriverResult<()> {
    match launch {
        Launch::Own(_) => domain.create().map(drop).map_err(lv("starting the domain")),
        // Same name and UUID: libvirt runs the inactive persistent domain with this live
        // definition once, and keeps the persistent one.
        Launch::Rescue { xml, .. } => {
            Domain::create_xml(conn, xml, 0).map(drop).map_err(lv("starting the rescue system"))
        }
    }
}

/// The rescue system's image, or why there is none.
fn rescue_image(images: &ImageStore) -> DriverResult<StoredImage> {
    let image = images.get(RESCUE_IMAGE).map_err(|e| DriverError::new("hypervisor_error", e.to_string()))?;
    let image = image.ok_or_else(|| {
        DriverError::new(
            "image_unavailable",
            format!(
                "the rescue system boots the {RESCUE_IMAGE} image: build it with `stratus image build {RESCUE_IMAGE}`"
            ),
        )
    })?;
    if image.kernel().is_none() {
        return Err(DriverError::new(
            "image_unavailable",
            format!("the {RESCUE_IMAGE} image boots from its disk; the rescue system needs its kernel"),
        ));
    }
    Ok(image)
}

fn remove_if_there(path: &Path) -> DriverResult<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(file_error("removing a VM file")(e)),
        _ => Ok(()),
    }
}

/// libvirt runs passt as an unprivileged user, which may bind ports below
/// `ip_unprivileged_port_start` only if the host allows it; SSH is port 22. Checked for
/// this host's hypervisor only: a remote one has its own setting.
fn check_port_forwarding(uri: &str) -> DriverResult<()> {
    let local = uri.starts_with("qemu:///") || uri.starts_with("qemu+unix:///");
    let path = "/proc/sys/net/ipv4/ip_unprivileged_port_start";
    let start: u32 = std::fs::read_to_string(path).ok().and_then(|s| s.trim().parse().ok()).unwrap_or(0);
    if local && start > 22 {
        return Err(DriverError::new(
            "hypervisor_unavailable",
            format!(
                "{path} is {start}, so passt cannot forward port 22 of servers' addresses; \
                 allow it with `sysctl -w net.ipv4.ip_unprivileged_port_start=22` (or 0)"
            ),
        ));
    }
    Ok(())
}

/// QEMU runs as another user (`libvirt-qemu`) and must pass through every folder above
/// the VM disks; a private parent (a `mktemp -d`, a home folder) would fail each boot.
fn check_reachable(data_dir: &Path) -> DriverResult<()> {
    use std::os::unix::fs::PermissionsExt;
    let absolute = std::path::absolute(data_dir).map_err(file_error("resolving the data directory"))?;
    for dir in absolute.ancestors().skip(1) {
        let Ok(meta) = std::fs::metadata(dir) else { continue };
        if meta.permissions().mode() & 0o001 == 0 {
            return Err(DriverError::new(
                "hypervisor_unavailable",
                format!(
                    "QEMU cannot reach the data directory {}: {} is not traversable by other users; \
                     allow it with `chmod o+x {}` or choose another --data-dir",
                    data_dir.display(),
                    dir.display(),
                    dir.display()
                ),
            ));
        }
    }
    Ok(())
}

fn lookup(conn: &Connect, id: VmId) -> DriverResult<Option<Domain>> {
    match Domain::lookup_by_name(conn, &domain_name(id)) {
        Ok(d) => Ok(Some(d)),
        Err(e) if e.code() == ErrorNumber::NoDomain => Ok(None),
        Err(e) => Err(lv("looking up the domain")(e)),
    }
}

/// A random password for the VM's VNC server (at most 8 characters count in VNC).
fn vnc_password() -> String {
    use rand::distributions::{Alphanumeric, DistString};
    Alphanumeric.sample_string(&mut rand::thread_rng(), 8)
}

fn qemu_img(args: &[&std::ffi::OsStr]) -> DriverResult<()> {
    let out = Command::new("qemu-img")
        .args(args)
        .output()
        .map_err(|e| DriverError::new("hypervisor_error", format!("cannot run qemu-img: {e}")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(DriverError::new("hypervisor_error", format!("qemu-img: {}", String::from_utf8_lossy(&out.stderr).trim())))
    }
}

fn private(path: &Path) -> DriverResult<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .map_err(file_error("making a VM file private"))
}

/// Change the running VM too when it runs, and its configuration always.
fn affect(domain: &Domain) -> DriverResult<u32> {
    let live = if domain.is_active().map_err(lv("domain state"))? { virt::sys::VIR_DOMAIN_AFFECT_LIVE } else { 0 };
    Ok(virt::sys::VIR_DOMAIN_AFFECT_CONFIG | live)
}

/// The running domain that has the volume file attached, with its disk target.
fn running_holder(conn: &Connect, path: &Path) -> DriverResult<Option<(Domain, String)>> {
    let source = path.to_string_lossy();
    let domains = conn.list_all_domains(virt::sys::VIR_CONNECT_LIST_DOMAINS_ACTIVE).map_err(lv("listing domains"))?;
    for domain in domains {
        let xml = domain.get_xml_desc(0).map_err(lv("reading the domain"))?;
        if let Some(target) = domain::disk_target_of(&xml, &source) {
            return Ok(Some((domain, target)));
        }
    }
    Ok(None)
}

/// A volume's file: qcow2, with the filesystem asked for made on a sparse raw file first.
fn make_volume(spec: &VolumeSpec, dir: &Path, path: &Path) -> DriverResult<()> {
    let size = format!("{}G", spec.size_gb);
    match spec.format.as_deref() {
        None => qemu_img(&[
            "create".as_ref(),
            "-q".as_ref(),
            "-f".as_ref(),
            "qcow2".as_ref(),
            path.as_os_str(),
            size.as_ref(),
        ])?,
        Some(format) => {
            let raw = dir.join(format!(".{}.raw", spec.id));
            let made = (|| {
                let file = std::fs::File::create(&raw).map_err(file_error("creating the volume"))?;
                file.set_len(u64::from(spec.size_gb) << 30).map_err(file_error("sizing the volume"))?;
                let mkfs = format!("mkfs.{format}");
                let out = Command::new(&mkfs)
                    .args(if format == "xfs" { ["-q", "-f"] } else { ["-q", "-F"] })
                    .arg(&raw)
                    .output()
                    .map_err(|e| DriverError::new("hypervisor_error", format!("cannot run {mkfs}: {e}")))?;
                if !out.status.success() {
                    return Err(DriverError::new(
                        "hypervisor_error",
                        format!("{mkfs}: {}", String::from_utf8_lossy(&out.stderr).trim()),
                    ));
                }
                qemu_img(&["convert".as_ref(), "-O".as_ref(), "qcow2".as_ref(), raw.as_os_str(), path.as_os_str()])
            })();
            let _ = std::fs::remove_file(&raw);
            made?;
        }
    }
    private(path)
}

/// The image-store name of a snapshot or backup: the name the control plane gives an
/// image without one.
fn snapshot_name(image_id: i64) -> String {
    format!("image-{image_id}")
}

/// A file's size in GB (decimal, as Hetzner's `image_size`).
fn gigabytes(path: &Path) -> DriverResult<f64> {
    let bytes = std::fs::metadata(path).map_err(file_error("reading the image size"))?.len();
    #[allow(clippy::cast_precision_loss)] // sizes far below 2^52 bytes
    Ok(bytes as f64 / 1e9)
}

/// The disk file the VM writes to now (snapshots move it to a new overlay).
fn active_disk(domain: &Domain) -> DriverResult<PathBuf> {
    let xml = domain.get_xml_desc(0).map_err(lv("reading the domain"))?;
    domain::disk_source(&xml, "vda")
        .map(PathBuf::from)
        .ok_or_else(|| DriverError::new("hypervisor_error", "the domain has no boot disk vda"))
}

fn virtual_size(disk: &Path) -> DriverResult<u64> {
    let out = Command::new("qemu-img")
        .args(["info", "-U", "--output=json"])
        .arg(disk)
        .output()
        .map_err(|e| DriverError::new("hypervisor_error", format!("cannot run qemu-img: {e}")))?;
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    info["virtual-size"]
        .as_u64()
        .ok_or_else(|| DriverError::new("hypervisor_error", format!("qemu-img info {}: no size", disk.display())))
}

/// The public interface's IPv4 and MAC.
fn public_nic(spec: &VmSpec) -> (Option<String>, Option<String>) {
    let nic = spec.nics.iter().find(|n| n.network.is_none());
    let ip = nic.and_then(|n| n.addresses.iter().find(|a| a.parse::<std::net::Ipv4Addr>().is_ok()).cloned());
    (ip, nic.map(|n| n.mac.clone()))
}

/// Builds the VM's files and defines its domain; `create` and `rebuild` share it.
fn build_vm(
    conn: &Connect,
    spec: &VmSpec,
    image: &StoredImage,
    dir: &Path,
    virt_type: VirtType,
    instance: &str,
) -> DriverResult<()> {
    std::fs::create_dir_all(dir).map_err(file_error("creating the VM folder"))?;
    traversable(dir).map_err(|e| DriverError::new("hypervisor_error", e.to_string()))?;
    let disk = dir.join("disk.qcow2");
    let size = format!("{}G", spec.hardware.disks.first().map_or(10, |d| d.size_gb));
    overlay(image, &disk, Some(&size))?;
    let (ip, mac) = public_nic(spec);
    let seed = dir.join("seed.img");
    write_seed(
        &seed,
        &Seed {
            instance_id: instance.to_owned(),
            hostname: spec.name.clone(),
            ssh_keys: spec.ssh_keys.clone(),
            root_password: spec.root_password.clone(),
            user_data: spec.user_data.clone(),
            mac: mac.clone(),
        },
    )
    .map_err(|e| DriverError::new("hypervisor_error", e.to_string()))?;
    let base = serde_json::to_string(image).map_err(|e| DriverError::new("hypervisor_error", e.to_string()))?;
    std::fs::write(dir.join("image.json"), base).map_err(file_error("writing the VM's image"))?;
    let ready = serde_json::to_string(&image.manifest.ready).unwrap_or_default();
    std::fs::write(dir.join("ready"), ready).map_err(file_error("writing the VM's boot signal"))?;
    std::fs::write(dir.join("ipv4"), ip.clone().unwrap_or_default()).map_err(file_error("writing the VM's address"))?;
    let serial_log = dir.join("serial.log");
    let files = VmFiles { disk: &disk, seed: &seed, serial_log: &serial_log };
    let password = vnc_password();
    let params = DomainParams {
        virt_type: virt_type.as_str(),
        vnc_password: &password,
        public_ipv4: ip.as_deref(),
        mac: mac.as_deref(),
    };
    let xml = domain_xml(spec, image, &files, &params);
    Domain::define_xml(conn, &xml).map_err(lv("defining the domain"))?;
    Ok(())
}

#[async_trait]
impl Driver for LibvirtDriver {
    fn name(&self) -> &'static str {
        "libvirt"
    }

    /// Domains outlive Stratus: nothing to rebuild, only to compare. What differs from the
    /// control plane's belief is logged (a VM whose domain vanished is an error someone
    /// must look at; a domain no server owns is left alone).
    async fn restore(&self, inventory: Inventory) -> DriverResult<Vec<Drift>> {
        let known: std::collections::HashMap<VmId, PowerState> =
            inventory.vms.iter().map(|v| (v.spec.id, v.power)).collect();
        let domains = self
            .call(|conn| {
                let all = conn
                    .list_all_domains(virt::sys::VIR_CONNECT_LIST_DOMAINS_PERSISTENT)
                    .map_err(lv("listing domains"))?;
                Ok(all
                    .into_iter()
                    .filter_map(|d| {
                        let vm = domain::vm_of(&d.get_name().ok()?)?;
                        Some((vm, d.is_active().unwrap_or(false)))
                    })
                    .collect::<std::collections::HashMap<_, _>>())
            })
            .await?;
        let mut drift = vec![];
        for (&vm, &power) in &known {
            match (domains.get(&vm), power) {
                (None, _) => {
                    tracing::error!(vm, domain = %domain_name(vm), "the VM's domain is gone from libvirt");
                    drift.push(Drift::Missing { vm });
                }
                (Some(false), PowerState::Running) => {
                    warn!(vm, "the VM stopped while Stratus was not running");
                    drift.push(Drift::Power { vm, now: PowerState::Off });
                }
                (Some(true), PowerState::Off) => {
                    warn!(vm, "the VM runs although Stratus left it off");
                    drift.push(Drift::Power { vm, now: PowerState::Running });
                }
                _ => {}
            }
        }
        for vm in domains.keys().filter(|vm| !known.contains_key(vm)) {
            warn!(vm, domain = %domain_name(*vm), "a Stratus domain that no server owns; left alone");
        }
        Ok(drift)
    }

    async fn create(&self, spec: &VmSpec, _ctx: &CallContext<'_>) -> DriverResult<()> {
        debug!(vm = spec.id, "libvirt: create");
        if let Some(domain) = self.domain(spec.id).await? {
            // Made by an earlier try of this step, or by another Stratus (another data
            // directory) on the same libvirt: only the first is this VM.
            let dir = self.dir(spec.id);
            let ours = self.call(move |_| domain.get_xml_desc(0).map_err(lv("reading the domain"))).await?;
            if ours.contains(&*dir.to_string_lossy()) {
                return Ok(());
            }
            return Err(DriverError::new(
                "conflict",
                format!(
                    "libvirt already has a domain {} that is not this Stratus's (its disks are not under {}); \
                     remove it or run this Stratus against another libvirt",
                    domain_name(spec.id),
                    self.vms.display()
                ),
            ));
        }
        let image = self.image_of(spec)?;
        let spec = spec.clone();
        let dir = self.dir(spec.id);
        let virt_type = self.virt_type;
        let instance = format!("stratus-{}-{}", spec.id, chrono::Utc::now().timestamp());
        self.call(move |conn| {
            let built = build_vm(conn, &spec, &image, &dir, virt_type, &instance);
            if built.is_err() {
                // Nothing half-made stays behind: the step's undo only runs for steps
                // that succeeded.
                let _ = std::fs::remove_dir_all(&dir);
            }
            built
        })
        .await
    }

    async fn start(&self, id: VmId, _ctx: &CallContext<'_>) -> DriverResult<()> {
        debug!(vm = id, "libvirt: start");
        self.boot(id).await
    }

    async fn stop(&self, id: VmId, mode: StopMode, _ctx: &CallContext<'_>) -> DriverResult<()> {
        debug!(vm = id, ?mode, "libvirt: stop");
        if mode == StopMode::Hard || !self.is_running(id).await? {
            return self.hard_stop(id).await;
        }
        let domain = self.existing(id).await?;
        let pressed = self
            .call(move |_| {
                domain.set_autostart(false).map_err(lv("autostart"))?;
                domain.shutdown_flags(virt::sys::VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN).map_err(lv("ACPI shutdown"))
            })
            .await;
        if let Err(e) = pressed {
            // It may have stopped in between.
            if self.is_running(id).await? {
                return Err(e);
            }
            return Ok(());
        }
        let deadline = tokio::time::Instant::now() + GRACEFUL_STOP;
        while tokio::time::Instant::now() < deadline {
            if !self.is_running(id).await? {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        warn!(vm = id, "the guest ignored the ACPI shutdown for {GRACEFUL_STOP:?}; stopping it hard");
        self.hard_stop(id).await
    }

    /// An ACPI reboot; into or out of the rescue system, a new QEMU process (the guest
    /// is asked to shut down first, as `shutdown` does).
    async fn reboot(&self, id: VmId, ctx: &CallContext<'_>) -> DriverResult<()> {
        debug!(vm = id, "libvirt: reboot");
        if !self.is_running(id).await? {
            return self.start(id, ctx).await;
        }
        if self.rescue_pending(id).await? {
            self.stop(id, StopMode::Graceful, ctx).await?;
            return self.boot(id).await;
        }
        let seen = boot::markers(&self.serial_log(id));
        let domain = self.existing(id).await?;
        self.call(move |_| domain.reboot(virt::sys::VIR_DOMAIN_REBOOT_ACPI_POWER_BTN).map_err(lv("ACPI reboot")))
            .await?;
        self.wait_booted(id, seen, &Launch::Own(self.ready_of(id))).await
    }

    async fn reset(&self, id: VmId, ctx: &CallContext<'_>) -> DriverResult<()> {
        debug!(vm = id, "libvirt: reset");
        if !self.is_running(id).await? {
            return self.start(id, ctx).await;
        }
        if self.rescue_pending(id).await? {
            self.hard_stop(id).await?;
            return self.boot(id).await;
        }
        let seen = boot::markers(&self.serial_log(id));
        let domain = self.existing(id).await?;
        self.call(move |_| domain.reset().map(drop).map_err(lv("reset"))).await?;
        self.wait_booted(id, seen, &Launch::Own(self.ready_of(id))).await
    }

    /// A new overlay on the (new) image and a new seed with a new instance id: the old
    /// disk's data is gone, as on Hetzner. The image is checked before anything is
    /// removed, so a rebuild onto an image without a disk changes nothing.
    async fn rebuild(&self, spec: &VmSpec, _ctx: &CallContext<'_>) -> DriverResult<()> {
        debug!(vm = spec.id, "libvirt: rebuild");
        let image = self.image_of(spec)?;
        if self.is_running(spec.id).await? {
            return Err(DriverError::new("invalid_state", "rebuild needs the VM off"));
        }
        let domain = self.existing(spec.id).await?;
        let spec = spec.clone();
        let dir = self.dir(spec.id);
        let virt_type = self.virt_type;
        let instance = format!("stratus-{}-{}", spec.id, chrono::Utc::now().timestamp_micros());
        self.call(move |conn| {
            domain.undefine_flags(virt::sys::VIR_DOMAIN_UNDEFINE_NVRAM).map_err(lv("undefining the domain"))?;
            let _ = std::fs::remove_dir_all(&dir);
            build_vm(conn, &spec, &image, &dir, virt_type, &instance)
        })
        .await
    }

    /// Cores and memory in the domain's configuration, the disk grown (never shrunk);
    /// the guest grows its filesystem at the next boot.
    async fn resize(&self, id: VmId, hardware: &HardwareSpec, _ctx: &CallContext<'_>) -> DriverResult<()> {
        debug!(vm = id, ?hardware, "libvirt: resize");
        if self.is_running(id).await? {
            return Err(DriverError::new("invalid_state", "changing the type needs the VM off"));
        }
        let domain = self.existing(id).await?;
        let hardware = hardware.clone();
        self.call(move |_| {
            let config = virt::sys::VIR_DOMAIN_AFFECT_CONFIG;
            let kib = u64::from(hardware.memory_mb) * 1024;
            domain.set_max_memory(kib).map_err(lv("setting the memory"))?;
            domain.set_memory_flags(kib, config).map_err(lv("setting the memory"))?;
            let cores = hardware.cores.max(1);
            domain
                .set_vcpus_flags(cores, config | virt::sys::VIR_DOMAIN_VCPU_MAXIMUM)
                .map_err(lv("setting the vCPUs"))?;
            domain.set_vcpus_flags(cores, config).map_err(lv("setting the vCPUs"))?;
            let Some(disk) = hardware.disks.first() else { return Ok(()) };
            let active = active_disk(&domain)?;
            let wanted = u64::from(disk.size_gb) << 30;
            if virtual_size(&active)? < wanted {
                qemu_img(&[
                    "resize".as_ref(),
                    "-q".as_ref(),
                    active.as_os_str(),
                    format!("{}G", disk.size_gb).as_ref(),
                ])?;
            }
            Ok(())
        })
        .await
    }

    /// A standalone qcow2 of the boot disk in the image store (`image-<id>`). A running
    /// VM first moves its writes to a new overlay (a disk-only external snapshot), so the
    /// file copied is frozen at one instant (crash-consistent, like a power cut), never a
    /// copy of a file being written.
    async fn snapshot(&self, id: VmId, image_id: i64, _ctx: &CallContext<'_>) -> DriverResult<f64> {
        debug!(vm = id, image = image_id, "libvirt: snapshot");
        let name = snapshot_name(image_id);
        if let Some(done) = self.images.get(&name).map_err(|e| DriverError::new("hypervisor_error", e.to_string()))? {
            return gigabytes(&done.disk());
        }
        let domain = self.existing(id).await?;
        let dir = self.dir(id);
        let images = self.images.clone();
        self.call(move |_| {
            let live = domain.get_xml_desc(0).map_err(lv("reading the domain"))?;
            if RescueFiles::of(&dir).runs_in(&live) {
                return Err(DriverError::new(
                    "invalid_state",
                    "the server runs its rescue system: take the snapshot once it runs its own",
                ));
            }
            // The file the VM writes to now; a running VM then moves its writes on.
            let frozen = active_disk(&domain)?;
            if domain.is_active().map_err(lv("domain state"))? {
                let next = dir.join(format!("disk-{}.qcow2", chrono::Utc::now().timestamp_micros()));
                let xml = format!(
                    "<domainsnapshot><disks><disk name='vda' snapshot='external'><driver type='qcow2'/><source file='{}'/></disk>\
                     <disk name='vdz' snapshot='no'/><disk name='sda' snapshot='no'/></disks></domainsnapshot>",
                    domain::escape(&next.to_string_lossy())
                );
                let flags = virt::sys::VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY
                    | virt::sys::VIR_DOMAIN_SNAPSHOT_CREATE_NO_METADATA
                    | virt::sys::VIR_DOMAIN_SNAPSHOT_CREATE_ATOMIC;
                virt::domain_snapshot::DomainSnapshot::create_xml(&domain, &xml, flags)
                    .map_err(lv("freezing the disk (external snapshot)"))?;
            }
            let base: StoredImage = std::fs::read_to_string(dir.join("image.json"))
                .ok()
                .and_then(|t| serde_json::from_str(&t).ok())
                .ok_or_else(|| DriverError::new("hypervisor_error", "the VM's image record is missing"))?;
            let stage = images.stage(&name).map_err(|e| DriverError::new("hypervisor_error", e.to_string()))?;
            let written = (|| {
                let disk = stage.join("disk.qcow2");
                // -U: the frozen file is a read-only backing file of the running VM.
                qemu_img(&[
                    "convert".as_ref(),
                    "-U".as_ref(),
                    "-O".as_ref(),
                    "qcow2".as_ref(),
                    frozen.as_os_str(),
                    disk.as_os_str(),
                ])?;
                private(&disk)?;
                if let Some((kernel, initrd, _)) = base.kernel() {
                    for (from, to) in [(kernel, "vmlinuz"), (initrd, "initrd.img")] {
                        std::fs::copy(&from, stage.join(to)).map_err(file_error("copying the kernel"))?;
                    }
                }
                let mut manifest = base.manifest.clone();
                manifest.name.clone_from(&name);
                manifest.description = format!("Snapshot of VM {id} (from {})", base.manifest.name);
                manifest.created = chrono::Utc::now();
                if let crate::images::Boot::Kernel { kernel, initrd, .. } = &mut manifest.boot {
                    *kernel = "vmlinuz".into();
                    *initrd = "initrd.img".into();
                }
                images.publish(&stage, &manifest).map_err(|e| DriverError::new("hypervisor_error", e.to_string()))?;
                gigabytes(&disk)
            })();
            if written.is_err() {
                let _ = images.remove(&name);
            }
            written
        })
        .await
    }

    async fn delete_snapshot(&self, image_id: i64, _ctx: &CallContext<'_>) -> DriverResult<()> {
        debug!(image = image_id, "libvirt: delete_snapshot");
        self.images
            .remove(&snapshot_name(image_id))
            .map_err(|e| DriverError::new("hypervisor_error", e.to_string()))?;
        Ok(())
    }

    /// Arming writes the rescue system's seed (hostname `rescue`, the keys, the root
    /// password) and a marker the next boot consumes; disarming removes the marker.
    async fn set_rescue(&self, id: VmId, rescue: Option<&RescueSpec>, _ctx: &CallContext<'_>) -> DriverResult<()> {
        debug!(vm = id, armed = rescue.is_some(), "libvirt: set_rescue");
        let domain = self.existing(id).await?;
        let files = RescueFiles::of(&self.dir(id));
        let Some(spec) = rescue else {
            return remove_if_there(&files.armed);
        };
        if spec.ssh_keys.is_empty() && spec.root_password.is_none() {
            // Armed again as it was (an undone disable): the seed written then is kept.
            if files.seed.exists() {
                std::fs::write(&files.armed, b"").map_err(file_error("arming the rescue system"))?;
            } else {
                warn!(vm = id, "libvirt: no rescue system was armed before; nothing to arm again");
            }
            return Ok(());
        }
        rescue_image(&self.images)?;
        let xml = self.call(move |_| domain.get_xml_desc(0).map_err(lv("reading the domain"))).await?;
        let seed = Seed {
            instance_id: format!("stratus-{id}-rescue-{}", chrono::Utc::now().timestamp_micros()),
            hostname: "rescue".into(),
            ssh_keys: spec.ssh_keys.clone(),
            root_password: spec.root_password.clone(),
            user_data: None,
            mac: rescue::mac_of(&xml),
        };
        write_seed(&files.seed, &seed).map_err(|e| DriverError::new("hypervisor_error", e.to_string()))?;
        private(&files.seed)?;
        std::fs::write(&files.armed, b"").map_err(file_error("arming the rescue system"))
    }

    /// A media change in the VM's CD drive (live and in its configuration): the ISO's
    /// file from `DATA/isos`, or none. Forced, so a guest that locked the tray cannot
    /// keep a detached ISO in.
    async fn set_iso(&self, id: VmId, iso: Option<&str>, _ctx: &CallContext<'_>) -> DriverResult<()> {
        debug!(vm = id, ?iso, "libvirt: set_iso");
        let file = match iso {
            None => None,
            Some(name) => Some(self.isos.get(name).ok_or_else(|| {
                DriverError::new(
                    "iso_unavailable",
                    format!(
                        "ISO {name} has no file in {}: bring it with `stratus image import-iso FILE --name {name}`",
                        self.isos.root().display()
                    ),
                )
            })?),
        };
        let domain = self.existing(id).await?;
        let xml = domain::cdrom_xml(file.as_deref());
        self.call(move |_| {
            let flags = affect(&domain)? | virt::sys::VIR_DOMAIN_DEVICE_MODIFY_FORCE;
            domain.update_device_flags(&xml, flags).map_err(lv("changing the CD")).map(drop)
        })
        .await
    }

    /// Through QEMU's guest agent in the guest (`guest-set-user-password`), as Hetzner
    /// does: an image without the agent gets a clear error and keeps its password.
    async fn set_password(&self, id: VmId, password: &str, _ctx: &CallContext<'_>) -> DriverResult<()> {
        debug!(vm = id, "libvirt: set_password");
        let domain = self.existing(id).await?;
        let password = password.to_owned();
        self.call(move |_| {
            if !domain.is_active().map_err(lv("domain state"))? {
                return Err(DriverError::new("invalid_state", "the server must run to reset its root password"));
            }
            domain.set_user_password("root", &password, 0).map(drop).map_err(|e| {
                DriverError::new(
                    "agent_unavailable",
                    format!(
                        "the guest agent did not set the password ({}): reset_password needs qemu-guest-agent \
                         running in the server",
                        e.message()
                    ),
                )
            })
        })
        .await
    }

    async fn delete(&self, id: VmId, _ctx: &CallContext<'_>) -> DriverResult<()> {
        debug!(vm = id, "libvirt: delete");
        if let Some(domain) = self.domain(id).await? {
            self.call(move |_| {
                if domain.is_active().map_err(lv("domain state"))? {
                    domain.destroy().map_err(lv("stopping the domain"))?;
                }
                domain.undefine_flags(virt::sys::VIR_DOMAIN_UNDEFINE_NVRAM).map_err(lv("undefining the domain"))
            })
            .await?;
        }
        self.history.forget(id);
        self.consoles.lock().unwrap_or_else(PoisonError::into_inner).close_vm(id);
        match std::fs::remove_dir_all(self.dir(id)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(file_error("removing the VM's files")(e)),
        }
    }

    /// A qcow2 file in `DATA/volumes`, with the filesystem asked for already on it (made
    /// on a sparse raw file by the host's mkfs, then converted).
    async fn create_volume(&self, spec: &VolumeSpec, _ctx: &CallContext<'_>) -> DriverResult<()> {
        debug!(volume = spec.id, "libvirt: create_volume");
        let path = self.volume(spec.id);
        if path.exists() {
            return Ok(());
        }
        let spec = spec.clone();
        let dir = self.volumes.clone();
        tokio::task::spawn_blocking(move || {
            let made = make_volume(&spec, &dir, &path);
            if made.is_err() {
                let _ = std::fs::remove_file(&path);
            }
            made
        })
        .await
        .map_err(|e| DriverError::new("hypervisor_error", e.to_string()))?
    }

    async fn resize_volume(&self, id: i64, size_gb: u32, _ctx: &CallContext<'_>) -> DriverResult<()> {
        debug!(volume = id, size_gb, "libvirt: resize_volume");
        let path = self.volume(id);
        let bytes = u64::from(size_gb) << 30;
        if virtual_size(&path)? >= bytes {
            return Ok(());
        }
        // Attached to a running VM, QEMU owns the file: libvirt grows it and tells the guest.
        let holder = self.call({
            let path = path.clone();
            move |conn| running_holder(conn, &path)
        });
        match holder.await? {
            Some((domain, target)) => {
                self.call(move |_| {
                    domain
                        .block_resize(&target, bytes, virt::sys::VIR_DOMAIN_BLOCK_RESIZE_BYTES)
                        .map(drop)
                        .map_err(lv("growing the volume"))
                })
                .await
            }
            None => qemu_img(&["resize".as_ref(), "-q".as_ref(), path.as_os_str(), format!("{size_gb}G").as_ref()]),
        }
    }

    async fn delete_volume(&self, id: i64, _ctx: &CallContext<'_>) -> DriverResult<()> {
        debug!(volume = id, "libvirt: delete_volume");
        match std::fs::remove_file(self.volume(id)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(file_error("removing the volume")(e)),
        }
    }

    /// Hot-plugs the volume's file as a virtio disk (and keeps it in the domain's
    /// configuration), with the serial `HC_Volume_<id>`; returns Hetzner's device path.
    async fn attach_volume(&self, vm: VmId, volume: i64, _ctx: &CallContext<'_>) -> DriverResult<String> {
        debug!(vm, volume, "libvirt: attach_volume");
        let path = self.volume(volume);
        if !path.exists() {
            return Err(DriverError::new("not_found", format!("volume {volume} has no storage")));
        }
        let domain = self.existing(vm).await?;
        self.call(move |_| {
            let xml = domain.get_xml_desc(0).map_err(lv("reading the domain"))?;
            let source = path.to_string_lossy().into_owned();
            if domain::disk_target_of(&xml, &source).is_none() {
                let target = domain::free_disk_target(&xml)
                    .ok_or_else(|| DriverError::new("limit_exceeded", "no free disk slot on this VM"))?;
                let device = domain::volume_xml(&source, &target, volume);
                domain.attach_device_flags(&device, affect(&domain)?).map_err(lv("attaching the volume"))?;
            }
            Ok(format!("/dev/disk/by-id/scsi-0HC_Volume_{volume}"))
        })
        .await
    }

    /// Unplugs the volume. A running guest must let go of the device (PCIe hot-unplug
    /// takes it a few seconds), so this waits until libvirt reports it gone.
    async fn detach_volume(&self, vm: VmId, volume: i64, _ctx: &CallContext<'_>) -> DriverResult<()> {
        debug!(vm, volume, "libvirt: detach_volume");
        let source = self.volume(volume).to_string_lossy().into_owned();
        let asked = self
            .call({
                let source = source.clone();
                move |conn| {
                    let Some(domain) = lookup(conn, vm)? else { return Ok(false) };
                    let live = domain.get_xml_desc(0).map_err(lv("reading the domain"))?;
                    let config =
                        domain.get_xml_desc(virt::sys::VIR_DOMAIN_XML_INACTIVE).map_err(lv("reading the domain"))?;
                    let running = domain.is_active().map_err(lv("domain state"))?;
                    // Each part once: a repeated call (a retry) finds the configuration
                    // already without the disk while the guest still lets go of it.
                    let mut flags = 0;
                    let mut target = None;
                    if let Some(t) = domain::disk_target_of(&config, &source) {
                        flags |= virt::sys::VIR_DOMAIN_AFFECT_CONFIG;
                        target = Some(t);
                    }
                    if let Some(t) = domain::disk_target_of(&live, &source).filter(|_| running) {
                        flags |= virt::sys::VIR_DOMAIN_AFFECT_LIVE;
                        target = Some(t);
                    }
                    let Some(target) = target else { return Ok(false) };
                    let device = domain::volume_xml(&source, &target, volume);
                    match domain.detach_device_flags(&device, flags) {
                        Ok(_) => Ok(true),
                        // The guest is already letting go of it (an earlier request).
                        Err(e) if running && flags == virt::sys::VIR_DOMAIN_AFFECT_LIVE => {
                            debug!(vm, volume, error = e.message(), "detach already under way");
                            Ok(true)
                        }
                        Err(e) => Err(lv("detaching the volume")(e)),
                    }
                }
            })
            .await?;
        if !asked {
            return Ok(());
        }
        let deadline = tokio::time::Instant::now() + DETACH_TIMEOUT;
        loop {
            let still = self
                .call({
                    let source = source.clone();
                    move |conn| {
                        let Some(domain) = lookup(conn, vm)? else { return Ok(false) };
                        let live = domain.get_xml_desc(0).map_err(lv("reading the domain"))?;
                        Ok(domain::disk_target_of(&live, &source).is_some())
                    }
                })
                .await?;
            if !still {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(DriverError::transient(
                    "device_busy",
                    format!(
                        "the guest of VM {vm} did not release volume {volume} within {}s",
                        DETACH_TIMEOUT.as_secs()
                    ),
                ));
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    // The data plane (private networks, firewalls, load balancers) is a later issue: the
    // control plane keeps the records, and these calls say in the log that nothing
    // enforces them on this host.
    async fn apply_network(&self, spec: &NetworkSpec, _ctx: &CallContext<'_>) -> DriverResult<()> {
        warn!(network = spec.id, "libvirt driver: private networks are recorded, not built, on this host");
        Ok(())
    }

    async fn delete_network(&self, _id: i64, _ctx: &CallContext<'_>) -> DriverResult<()> {
        Ok(())
    }

    async fn attach_nic(&self, vm: VmId, nic: &NicSpec, _ctx: &CallContext<'_>) -> DriverResult<()> {
        warn!(vm, nic = nic.id, "libvirt driver: private interfaces are recorded, not plugged in, on this host");
        Ok(())
    }

    async fn detach_nic(&self, _vm: VmId, _nic: i64, _ctx: &CallContext<'_>) -> DriverResult<()> {
        Ok(())
    }

    async fn apply_firewall(&self, vm: VmId, rules: &[FirewallRuleSpec], _ctx: &CallContext<'_>) -> DriverResult<()> {
        if !rules.is_empty() {
            warn!(vm, rules = rules.len(), "libvirt driver: firewall rules are recorded, not enforced, on this host");
        }
        Ok(())
    }

    async fn apply_load_balancer(&self, spec: &LoadBalancerSpec, _ctx: &CallContext<'_>) -> DriverResult<()> {
        warn!(load_balancer = spec.id, "libvirt driver: load balancers are recorded, not run, on this host");
        Ok(())
    }

    async fn delete_load_balancer(&self, _id: i64, _ctx: &CallContext<'_>) -> DriverResult<()> {
        Ok(())
    }

    /// The running domain's VNC gets a fresh password that new connections may use for
    /// [`CONSOLE_TTL`] (QEMU's password expiry; an open connection stays), and the
    /// token leads to its websocket through Stratus's `/console/{token}` relay.
    async fn console(&self, id: VmId) -> DriverResult<ConsoleEndpoint> {
        debug!(vm = id, "libvirt: console");
        let domain = self.existing(id).await?;
        let password = console::new_password();
        let valid_to = (chrono::Utc::now() + chrono::TimeDelta::from_std(CONSOLE_TTL).unwrap_or_default())
            .format("%Y-%m-%dT%H:%M:%S")
            .to_string();
        let secret = password.clone();
        let websocket = self
            .call(move |_| {
                if !domain.is_active().map_err(lv("domain state"))? {
                    return Err(DriverError::new("invalid_state", "the server is off: power it on to use its console"));
                }
                let xml = domain.get_xml_desc(0).map_err(lv("reading the domain"))?;
                let ports = domain::vnc_ports(&xml)
                    .ok_or_else(|| DriverError::new("hypervisor_error", "the domain has no VNC websocket"))?;
                domain
                    .update_device_flags(
                        &domain::vnc_password_xml(ports, &secret, &valid_to),
                        virt::sys::VIR_DOMAIN_AFFECT_LIVE,
                    )
                    .map_err(lv("setting the console password"))?;
                Ok(format!("ws://127.0.0.1:{}", ports.1))
            })
            .await?;
        let target = ConsoleTarget::Vnc { websocket };
        let token = self.consoles.lock().unwrap_or_else(PoisonError::into_inner).open(id, password.clone(), target);
        Ok(ConsoleEndpoint { wss_url: format!("/console/{token}"), password })
    }

    fn console_session(&self, token: &str) -> Option<ConsoleSession> {
        self.consoles.lock().unwrap_or_else(PoisonError::into_inner).lookup(token)
    }

    /// Rates from the sampler's history plus a reading taken now (see [`stats`]).
    async fn metrics(&self, id: VmId, query: &MetricsQuery) -> DriverResult<Vec<MetricSeries>> {
        let domain = self.existing(id).await?;
        let now = self.call(move |_| Ok(stats::read(&domain))).await?;
        Ok(self.history.series(id, query, Some(now)))
    }

    async fn load_balancer_metrics(&self, _id: i64, _query: &MetricsQuery) -> DriverResult<Vec<MetricSeries>> {
        Ok(vec![])
    }

    async fn power_state(&self, id: VmId) -> DriverResult<PowerState> {
        Ok(if self.is_running(id).await? { PowerState::Running } else { PowerState::Off })
    }
}
