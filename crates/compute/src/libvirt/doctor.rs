//! `stratus doctor`'s look at the libvirt driver: whether this host can run servers, and
//! how (KVM or TCG), before `serve --driver libvirt` is tried. Each finding says what to
//! do about it.

use super::probe::{self, VirtType};
use super::{check_port_forwarding, check_reachable, LibvirtConfig, RESCUE_IMAGE};
use crate::images::{traversable, ImageStore};
use std::path::Path;
use std::sync::Arc;
use virt::connect::Connect;

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    Ok,
    /// Works, with a limit the user should know.
    Warn,
    /// `serve --driver libvirt` will not work (or not fully) until this is fixed.
    Fail,
}

#[derive(Debug, Clone)]
pub struct Finding {
    pub check: &'static str,
    pub health: Health,
    pub detail: String,
}

fn finding(check: &'static str, health: Health, detail: impl Into<String>) -> Finding {
    Finding { check, health, detail: detail.into() }
}

/// The host programs the driver runs, and what each is for.
const TOOLS: [(&str, &str); 4] = [
    ("qemu-img", "server disks, snapshots and volumes"),
    ("passt", "servers' network and their forwarded ports"),
    ("mkfs.ext4", "volumes formatted as ext4"),
    ("mkfs.xfs", "volumes formatted as xfs"),
];

/// Examines the host for `config`. Connecting and the KVM probe may take a few seconds;
/// the probe's answer is the one `serve` uses (kept for this host boot).
pub async fn examine(config: &LibvirtConfig) -> Vec<Finding> {
    virt::error::clear_error_callback();
    let mut found = vec![];
    let uri = config.uri.clone();
    let conn = tokio::task::spawn_blocking(move || Connect::open(Some(&uri))).await;
    let conn = match conn {
        Ok(Ok(conn)) => Some(Arc::new(conn)),
        Ok(Err(e)) => {
            found.push(finding(
                "libvirt",
                Health::Fail,
                format!(
                    "cannot connect to {}: {} (is libvirtd running? without systemd: `virtlogd -d && libvirtd -d`)",
                    config.uri,
                    e.message()
                ),
            ));
            None
        }
        Err(e) => {
            found.push(finding("libvirt", Health::Fail, e.to_string()));
            None
        }
    };
    if let Some(conn) = &conn {
        let version = |v: u32| format!("{}.{}.{}", v / 1_000_000, v / 1000 % 1000, v % 1000);
        let lib = conn.get_lib_version().map(version).unwrap_or_else(|_| "?".into());
        let hyp = conn.get_hyp_version().map(version).unwrap_or_else(|_| "?".into());
        found.push(finding("libvirt", Health::Ok, format!("libvirt {lib}, QEMU {hyp} at {}", config.uri)));
    }
    found.push(match check_port_forwarding(&config.uri) {
        Ok(()) => finding("port forwarding", Health::Ok, "passt may forward port 22 of servers' addresses"),
        Err(e) => finding("port forwarding", Health::Fail, e.message),
    });
    found.push(match check_reachable(&config.data_dir) {
        Ok(()) => finding("data directory", Health::Ok, format!("{} is reachable by QEMU", config.data_dir.display())),
        Err(e) => finding("data directory", Health::Fail, e.message),
    });
    for (tool, used) in TOOLS {
        found.push(match on_path(tool) {
            true => finding("tools", Health::Ok, format!("{tool} (for {used})")),
            false => finding("tools", Health::Fail, format!("{tool} is missing; it is needed for {used}")),
        });
    }
    // Only one recipe needs it: a warning, not a failure.
    found.push(match on_path("mmdebstrap") {
        true => finding("tools", Health::Ok, "mmdebstrap (for `stratus image build debian-12`)"),
        false => finding("tools", Health::Warn, "mmdebstrap is missing; `stratus image build debian-12` needs it"),
    });
    let images = ImageStore::new(&config.data_dir);
    let listed = images.list().unwrap_or_default();
    found.push(if listed.is_empty() {
        finding("images", Health::Warn, "the image store is empty: `stratus image build small`")
    } else {
        let names: Vec<&str> = listed.iter().map(|i| i.manifest.name.as_str()).collect();
        finding("images", Health::Ok, names.join(", "))
    });
    if !listed.iter().any(|i| i.manifest.name == RESCUE_IMAGE) {
        found.push(finding(
            "rescue system",
            Health::Warn,
            format!("enable_rescue needs the {RESCUE_IMAGE} image: `stratus image build {RESCUE_IMAGE}`"),
        ));
    }
    if let Some(conn) = conn {
        found.push(virt_type(conn, &images, &config.data_dir).await);
    }
    found
}

/// KVM or TCG, as `serve` will run VMs (probed once per host boot).
async fn virt_type(conn: Arc<Connect>, images: &ImageStore, data_dir: &Path) -> Finding {
    let vms = data_dir.join("vms");
    if let Err(e) = std::fs::create_dir_all(&vms).map_err(|e| e.to_string()).and_then(|()| {
        traversable(&vms).map_err(|e| e.to_string())?;
        traversable(data_dir).map_err(|e| e.to_string())
    }) {
        return finding("virtualisation", Health::Fail, format!("cannot prepare {}: {e}", vms.display()));
    }
    match probe::probe(conn, images, &vms).await {
        VirtType::Kvm => finding("virtualisation", Health::Ok, "kvm: hardware virtualisation"),
        VirtType::Qemu if Path::new("/dev/kvm").exists() && images.list().unwrap_or_default().is_empty() => finding(
            "virtualisation",
            Health::Warn,
            "qemu (TCG) until an image is built to probe /dev/kvm with: `stratus image build small`",
        ),
        VirtType::Qemu => finding(
            "virtualisation",
            Health::Warn,
            "qemu (TCG, software emulation): KVM is missing or cannot run guests here; servers boot several times slower",
        ),
    }
}

fn on_path(tool: &str) -> bool {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/sbin".into(), "/usr/bin".into()])
        .any(|dir| dir.join(tool).is_file())
}
