//! The rescue system, as Hetzner's: once armed (`enable_rescue`), the next boot starts a
//! minimal Linux instead of the server's own, with the server's disk attached as a second
//! disk, reachable at the server's address with the keys and root password given then.
//! That boot disarms it, so the one after is the server's own again.
//!
//! A rescue boot is a one-off QEMU process: `virDomainCreateXML` with the domain's name
//! and UUID starts the inactive persistent domain with this XML as its live definition,
//! and leaves the persistent one as it was. The rescue system is the `small` image (a
//! fresh overlay each boot, like a ramdisk) on its own kernel; the server's disk keeps
//! its files, and the seed is a rescue seed (hostname `rescue`).

use super::domain::{disk_source, escape};
use crate::images::StoredImage;
use std::path::{Path, PathBuf};

/// The image the rescue system boots (`stratus image build small`).
pub const RESCUE_IMAGE: &str = "small";
/// The serial of the server's own disk in the rescue system (`/sys/block/vdX/serial`).
pub const SERVER_DISK_SERIAL: &str = "stratus-server-disk";
/// The target of the server's disk in a rescue boot (the rescue system's is `vda`).
const SERVER_DISK_TARGET: &str = "vdy";

/// A VM's rescue files, in its folder.
#[derive(Debug, Clone)]
pub struct RescueFiles {
    /// Present while a rescue boot is armed.
    pub armed: PathBuf,
    /// The rescue system's NoCloud seed (keys, root password); kept after the boot, so
    /// an undone disable can arm the same system again.
    pub seed: PathBuf,
    /// The rescue system's disk: an overlay on the rescue image, new each rescue boot.
    pub disk: PathBuf,
}

impl RescueFiles {
    pub fn of(dir: &Path) -> RescueFiles {
        RescueFiles {
            armed: dir.join("rescue-armed"),
            seed: dir.join("rescue-seed.img"),
            disk: dir.join("rescue.qcow2"),
        }
    }

    pub fn is_armed(&self) -> bool {
        self.armed.exists()
    }

    /// Whether a domain's live XML is a rescue boot.
    pub fn runs_in(&self, live_xml: &str) -> bool {
        disk_source(live_xml, "vda").is_some_and(|d| Path::new(&d) == self.disk)
    }
}

/// The live XML of a rescue boot, made from the domain's persistent (inactive) XML: the
/// rescue image's kernel, its disk as `vda` on the PCI slot the server's disk had (so it
/// is the first disk the guest finds), the server's disk as a further disk, and the
/// rescue seed in place of the server's. `None` when the XML lacks a boot disk or seed.
pub fn rescue_xml(persistent: &str, image: &StoredImage, files: &RescueFiles) -> Option<String> {
    let server_disk = disk_source(persistent, "vda")?;
    let (kernel, initrd, cmdline) = image.kernel()?;
    let mut xml = persistent.to_owned();

    let (start, end) = element(&xml, "os", |_| true)?;
    let os = &xml[start..end];
    let kind = os.find("<type").and_then(|s| os[s..].find("</type>").map(|e| os[s..s + e + 7].to_owned()))?;
    let rescue_os = format!(
        "<os>\n    {kind}\n    <kernel>{}</kernel>\n    <initrd>{}</initrd>\n    <cmdline>{}</cmdline>\n  </os>",
        escape(&kernel.to_string_lossy()),
        escape(&initrd.to_string_lossy()),
        escape(cmdline)
    );
    xml.replace_range(start..end, &rescue_os);

    let (start, end) = element(&xml, "disk", |d| targets(d, "vda"))?;
    let address = address_of(&xml[start..end]);
    let disks = format!(
        "<disk type='file' device='disk'><driver name='qemu' type='qcow2' discard='unmap'/><source file='{}'/>\
         <target dev='vda' bus='virtio'/>{address}</disk>\n    \
         <disk type='file' device='disk'><driver name='qemu' type='qcow2' discard='unmap'/><source file='{}'/>\
         <target dev='{SERVER_DISK_TARGET}' bus='virtio'/><serial>{SERVER_DISK_SERIAL}</serial></disk>",
        escape(&files.disk.to_string_lossy()),
        escape(&server_disk),
    );
    xml.replace_range(start..end, &disks);

    let (start, end) = element(&xml, "disk", |d| targets(d, "vdz"))?;
    let address = address_of(&xml[start..end]);
    let seed = format!(
        "<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='{}'/>\
         <target dev='vdz' bus='virtio'/><readonly/>{address}</disk>",
        escape(&files.seed.to_string_lossy())
    );
    xml.replace_range(start..end, &seed);
    Some(xml)
}

/// The MAC address of the domain's first interface.
pub fn mac_of(xml: &str) -> Option<String> {
    let after = xml.split("<interface ").nth(1)?.split("<mac address=").nth(1)?;
    let quote = after.chars().next()?;
    after[1..].split(quote).next().map(str::to_owned)
}

/// The byte range of the first `<tag ...>...</tag>` element whose text satisfies `pick`.
fn element(xml: &str, tag: &str, pick: impl Fn(&str) -> bool) -> Option<(usize, usize)> {
    let close = format!("</{tag}>");
    let mut from = 0;
    while let Some(found) = xml[from..].find(&format!("<{tag}")) {
        let start = from + found;
        let next = xml[start + tag.len() + 1..].chars().next()?;
        if next != ' ' && next != '>' {
            from = start + 1;
            continue;
        }
        let end = start + xml[start..].find(&close)? + close.len();
        if pick(&xml[start..end]) {
            return Some((start, end));
        }
        from = end;
    }
    None
}

fn targets(disk: &str, dev: &str) -> bool {
    disk.contains(&format!("dev='{dev}'")) || disk.contains(&format!("dev=\"{dev}\""))
}

/// The element's `<address .../>`, if libvirt gave it one.
fn address_of(element: &str) -> String {
    element
        .find("<address ")
        .and_then(|s| element[s..].find("/>").map(|e| element[s..s + e + 2].to_owned()))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::images::{Boot, Manifest, Ready};

    /// Shaped as libvirt writes a Stratus domain's inactive XML (trimmed).
    const PERSISTENT: &str = "<domain type='qemu'>
  <name>stratus-7</name>
  <uuid>0e4c6a2e-5b1a-4c3e-9a57-4b8f2f0c1d11</uuid>
  <os>
    <type arch='x86_64' machine='pc-q35-10.0'>hvm</type>
    <boot dev='hd'/>
  </os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2' discard='unmap'/>
      <source file='/data/vms/7/disk-1700000000.qcow2'/>
      <target dev='vda' bus='virtio'/>
      <address type='pci' domain='0x0000' bus='0x03' slot='0x00' function='0x0'/>
    </disk>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='/data/vms/7/seed.img'/>
      <target dev='vdz' bus='virtio'/>
      <readonly/>
      <address type='pci' domain='0x0000' bus='0x04' slot='0x00' function='0x0'/>
    </disk>
    <interface type='user'>
      <mac address='52:54:00:12:34:56'/>
      <backend type='passt'/>
    </interface>
    <disk type='file' device='disk'><source file='/data/volumes/3.qcow2'/><target dev='vdb' bus='virtio'/></disk>
  </devices>
</domain>
";

    fn small() -> StoredImage {
        StoredImage {
            dir: "/data/images/small/v2".into(),
            manifest: Manifest {
                name: "small".into(),
                description: String::new(),
                disk: "disk.qcow2".into(),
                boot: Boot::Kernel {
                    kernel: "vmlinuz".into(),
                    initrd: "initrd.img".into(),
                    cmdline: "console=ttyS0".into(),
                },
                ready: Ready::SerialMarker,
                created: chrono::Utc::now(),
                os_flavor: "debian".into(),
                os_version: None,
            },
        }
    }

    #[test]
    fn a_rescue_boot_runs_the_rescue_kernel_and_disk_with_the_servers_disk_beside_it() {
        let files = RescueFiles::of(Path::new("/data/vms/7"));
        let xml = rescue_xml(PERSISTENT, &small(), &files).expect("rescue xml");
        assert!(xml.contains("<uuid>0e4c6a2e-5b1a-4c3e-9a57-4b8f2f0c1d11</uuid>"), "same domain: {xml}");
        assert!(xml.contains("<kernel>/data/images/small/v2/vmlinuz</kernel>"), "{xml}");
        assert!(xml.contains("<cmdline>console=ttyS0</cmdline>"), "{xml}");
        assert!(!xml.contains("<boot dev='hd'/>"), "{xml}");
        assert!(xml.contains("machine='pc-q35-10.0'"), "{xml}");
        // The rescue disk is vda, on the slot the server's disk had.
        assert_eq!(disk_source(&xml, "vda").as_deref(), Some("/data/vms/7/rescue.qcow2"));
        assert!(xml.contains("<target dev='vda' bus='virtio'/><address type='pci' domain='0x0000' bus='0x03'"));
        // The server's disk (its current overlay) is attached too, with a new slot.
        assert_eq!(disk_source(&xml, "vdy").as_deref(), Some("/data/vms/7/disk-1700000000.qcow2"));
        assert!(xml.contains("<target dev='vdy' bus='virtio'/><serial>stratus-server-disk</serial></disk>"));
        // The rescue seed replaces the server's; volumes stay.
        assert_eq!(disk_source(&xml, "vdz").as_deref(), Some("/data/vms/7/rescue-seed.img"));
        assert!(xml.contains("bus='0x04'"));
        assert_eq!(disk_source(&xml, "vdb").as_deref(), Some("/data/volumes/3.qcow2"));
        assert!(files.runs_in(&xml));
        assert!(!files.runs_in(PERSISTENT));
    }

    #[test]
    fn no_rescue_xml_without_a_boot_disk_or_a_kernel() {
        let files = RescueFiles::of(Path::new("/data/vms/7"));
        let no_disk = PERSISTENT.replace("dev='vda'", "dev='vdc'");
        assert!(rescue_xml(&no_disk, &small(), &files).is_none());
        let mut disk_boot = small();
        disk_boot.manifest.boot = Boot::Disk;
        assert!(rescue_xml(PERSISTENT, &disk_boot, &files).is_none());
    }

    #[test]
    fn the_mac_is_the_first_interfaces() {
        assert_eq!(mac_of(PERSISTENT).as_deref(), Some("52:54:00:12:34:56"));
        assert_eq!(mac_of("<domain/>"), None);
    }
}
