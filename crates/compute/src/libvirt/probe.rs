//! Whether KVM can run guests here. `/dev/kvm` may exist and still not run a Debian
//! kernel (nested virtualisation that stalls), so the probe boots the kernel of an image
//! from the store under KVM and waits for its initramfs to say it runs; TCG (`qemu`)
//! otherwise, which is slower but always works.

use super::domain::escape;
use crate::images::ImageStore;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tracing::{info, warn};
use virt::connect::Connect;
use virt::domain::Domain;

/// How long the probe waits for the kernel to reach its init; under working KVM it
/// takes well under a second.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);
const PROBE_MARKER: &str = "stratus-probe: init reached";

/// The domain type VMs are made with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VirtType {
    Kvm,
    /// TCG: QEMU emulates the CPU.
    Qemu,
}

impl VirtType {
    pub fn as_str(self) -> &'static str {
        match self {
            VirtType::Kvm => "kvm",
            VirtType::Qemu => "qemu",
        }
    }
}

/// The probe's answer is kept for the host's current boot (`vms/virt-type`), so restarts
/// of `serve` do not wait for it again; a host reboot (a new kernel, a KVM module
/// loaded) probes again.
pub async fn probe(conn: Arc<Connect>, images: &ImageStore, vms: &Path) -> VirtType {
    let boot_id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap_or_default();
    let cache = vms.join("virt-type");
    if let Some(cached) = std::fs::read_to_string(&cache).ok().and_then(|text| {
        let (boot, kind) = text.split_once(' ')?;
        (boot == boot_id.trim()).then(|| if kind.trim() == "kvm" { VirtType::Kvm } else { VirtType::Qemu })
    }) {
        info!(virt_type = cached.as_str(), "domain type probed earlier in this host's boot");
        return cached;
    }
    let found = run_probe(conn, images, vms).await;
    // Only a real answer is kept: without an image to probe with, the next start tries.
    if found.1 {
        let _ = std::fs::write(&cache, format!("{} {}", boot_id.trim(), found.0.as_str()));
    }
    found.0
}

/// The domain type, and whether a probe boot decided it.
async fn run_probe(conn: Arc<Connect>, images: &ImageStore, vms: &Path) -> (VirtType, bool) {
    if !Path::new("/dev/kvm").exists() {
        info!("no /dev/kvm: VMs run under TCG (software emulation)");
        return (VirtType::Qemu, true);
    }
    let kernel = images
        .list()
        .ok()
        .into_iter()
        .flatten()
        .find_map(|image| image.kernel().map(|(kernel, initrd, _)| (kernel, initrd)));
    let Some((kernel, initrd)) = kernel else {
        warn!("no image with a kernel to probe KVM with (build one: stratus image build small); VMs run under TCG");
        return (VirtType::Qemu, false);
    };
    let log = vms.join("kvm-probe.log");
    let _ = std::fs::remove_file(&log);
    let xml = format!(
        "<domain type='kvm'><name>stratus-kvm-probe</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>\
         <os><type arch='x86_64' machine='q35'>hvm</type><kernel>{}</kernel><initrd>{}</initrd>\
         <cmdline>console=ttyS0 quiet stratus.probe</cmdline></os>\
         <devices><serial type='file'><source path='{}'/><target port='0'/></serial>\
         <memballoon model='none'/></devices></domain>",
        escape(&kernel.to_string_lossy()),
        escape(&initrd.to_string_lossy()),
        escape(&log.to_string_lossy()),
    );
    let started = {
        let conn = conn.clone();
        tokio::task::spawn_blocking(move || {
            if let Ok(old) = Domain::lookup_by_name(&conn, "stratus-kvm-probe") {
                let _ = old.destroy();
            }
            Domain::create_xml(&conn, &xml, 0).map_err(|e| e.message().to_owned())
        })
        .await
    };
    let domain = match started {
        Ok(Ok(domain)) => domain,
        Ok(Err(e)) => {
            warn!(error = %e, "KVM refused a guest; VMs run under TCG");
            return (VirtType::Qemu, true);
        }
        Err(_) => return (VirtType::Qemu, false),
    };
    let deadline = tokio::time::Instant::now() + PROBE_TIMEOUT;
    let mut reached = false;
    while tokio::time::Instant::now() < deadline {
        if std::fs::read_to_string(&log).is_ok_and(|t| t.contains(PROBE_MARKER)) {
            reached = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = tokio::task::spawn_blocking(move || domain.destroy()).await;
    let _ = std::fs::remove_file(&log);
    if reached {
        info!("KVM runs guests: VMs use hardware virtualisation");
        (VirtType::Kvm, true)
    } else {
        warn!("a KVM guest did not reach its init within {PROBE_TIMEOUT:?}; VMs run under TCG (software emulation)");
        (VirtType::Qemu, true)
    }
}
