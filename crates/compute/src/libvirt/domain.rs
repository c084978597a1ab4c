//! The libvirt domain XML of a VM: everything libvirt needs to run it, made from the
//! spec, the image and the VM's files. Pure text, so it is tested without libvirt.

use crate::driver::VmSpec;
use crate::images::StoredImage;
use std::fmt::Write;
use std::path::Path;

/// The domain of VM `id`, as `virsh list` shows it.
pub fn domain_name(id: i64) -> String {
    format!("stratus-{id}")
}

/// The VM id of a domain Stratus made.
pub fn vm_of(domain: &str) -> Option<i64> {
    domain.strip_prefix("stratus-")?.parse().ok()
}

/// Ports of the public address forwarded to the guest (SSH, HTTP, HTTPS).
pub const FORWARDED_PORTS: [u16; 3] = [22, 80, 443];

/// Hot-plug slots: q35 has no hot-pluggable PCIe ports unless the domain declares them,
/// and each attached volume or interface takes one.
const SPARE_ROOT_PORTS: usize = 8;

/// Where a VM's files are.
#[derive(Debug, Clone)]
pub struct VmFiles<'a> {
    pub disk: &'a Path,
    pub seed: &'a Path,
    pub serial_log: &'a Path,
}

/// What else goes into the domain.
#[derive(Debug, Clone)]
pub struct DomainParams<'a> {
    /// `kvm` or `qemu` (TCG).
    pub virt_type: &'a str,
    pub vnc_password: &'a str,
    /// The public IPv4 whose ports are forwarded to the guest, if it has one.
    pub public_ipv4: Option<&'a str>,
    pub mac: Option<&'a str>,
}

pub fn domain_xml(spec: &VmSpec, image: &StoredImage, files: &VmFiles, params: &DomainParams) -> String {
    let mut x = String::new();
    let _ = writeln!(x, "<domain type='{}'>", params.virt_type);
    let _ = writeln!(x, "  <name>{}</name>", domain_name(spec.id));
    let _ = writeln!(x, "  <title>{}</title>", escape(&spec.name));
    let _ = writeln!(
        x,
        "  <metadata><stratus:vm xmlns:stratus='https://stratus.dev/xmlns/libvirt/1' id='{}'/></metadata>",
        spec.id
    );
    let _ = writeln!(x, "  <memory unit='MiB'>{}</memory>", spec.hardware.memory_mb);
    let _ = writeln!(x, "  <vcpu>{}</vcpu>", spec.hardware.cores.max(1));
    x.push_str("  <os>\n    <type arch='x86_64' machine='q35'>hvm</type>\n");
    match image.kernel() {
        Some((kernel, initrd, cmdline)) => {
            let _ = writeln!(x, "    <kernel>{}</kernel>", escape(&kernel.to_string_lossy()));
            let _ = writeln!(x, "    <initrd>{}</initrd>", escape(&initrd.to_string_lossy()));
            let _ = writeln!(x, "    <cmdline>{}</cmdline>", escape(cmdline));
        }
        None => x.push_str("    <boot dev='hd'/>\n"),
    }
    x.push_str("  </os>\n  <features><acpi/><apic/></features>\n");
    // A guest's own reboot restarts it; its power-off and crashes leave it off, which the
    // driver reports as the server's state.
    x.push_str(
        "  <on_poweroff>destroy</on_poweroff>\n  <on_reboot>restart</on_reboot>\n  <on_crash>destroy</on_crash>\n",
    );
    x.push_str("  <devices>\n");
    let _ = writeln!(
        x,
        "    <disk type='file' device='disk'><driver name='qemu' type='qcow2' discard='unmap'/><source file='{}'/><target dev='vda' bus='virtio'/></disk>",
        escape(&files.disk.to_string_lossy())
    );
    let _ = writeln!(
        x,
        "    <disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='{}'/><target dev='vdz' bus='virtio'/><readonly/></disk>",
        escape(&files.seed.to_string_lossy())
    );
    // An empty drive, so attach_iso is a media change rather than a hot-plug.
    let _ = writeln!(x, "    {}", cdrom_xml(None));
    x.push_str("    <interface type='user'>\n");
    if let Some(mac) = params.mac {
        let _ = writeln!(x, "      <mac address='{}'/>", escape(mac));
    }
    x.push_str("      <backend type='passt'/>\n      <model type='virtio'/>\n");
    if let Some(ip) = params.public_ipv4 {
        let _ = writeln!(x, "      <portForward proto='tcp' address='{}'>", escape(ip));
        for port in FORWARDED_PORTS {
            let _ = writeln!(x, "        <range start='{port}'/>");
        }
        x.push_str("      </portForward>\n");
    }
    x.push_str("    </interface>\n");
    let _ = writeln!(
        x,
        "    <serial type='file'><source path='{}'/><target port='0'/></serial>",
        escape(&files.serial_log.to_string_lossy())
    );
    let _ = writeln!(
        x,
        "    <graphics type='vnc' autoport='yes' websocket='-1' listen='127.0.0.1' passwd='{}'/>",
        escape(params.vnc_password)
    );
    // QEMU's guest agent, for reset_password (libvirt makes the host end's socket).
    x.push_str("    <channel type='unix'><source mode='bind'/><target type='virtio' name='org.qemu.guest_agent.0'/></channel>\n");
    x.push_str("    <video><model type='vga'/></video>\n");
    x.push_str("    <controller type='pci' index='0' model='pcie-root'/>\n");
    for _ in 0..SPARE_ROOT_PORTS {
        x.push_str("    <controller type='pci' model='pcie-root-port'/>\n");
    }
    x.push_str("    <memballoon model='none'/>\n  </devices>\n</domain>\n");
    x
}

/// The virtual CD drive (`sda` on SATA), with the ISO `file` in it or empty.
pub fn cdrom_xml(file: Option<&Path>) -> String {
    let source = file.map(|f| format!("<source file='{}'/>", escape(&f.to_string_lossy()))).unwrap_or_default();
    format!("<disk type='file' device='cdrom'><driver name='qemu' type='raw'/>{source}<target dev='sda' bus='sata'/><readonly/></disk>")
}

/// The target (`vdb`, ...) of the disk whose source is `file`, if attached.
pub fn disk_target_of(xml: &str, file: &str) -> Option<String> {
    let wanted = [format!("file='{}'", escape(file)), format!("file=\"{}\"", escape(file))];
    xml.split("<disk ").skip(1).find_map(|disk| {
        let disk = disk.split("</disk>").next()?;
        if !wanted.iter().any(|w| disk.contains(w.as_str())) {
            return None;
        }
        let after = disk.split("<target dev=").nth(1)?;
        let quote = after.chars().next()?;
        after[1..].split(quote).next().map(str::to_owned)
    })
}

/// The first virtio target no disk uses; `vda` is the boot disk and `vdz` the seed.
pub fn free_disk_target(xml: &str) -> Option<String> {
    ('b'..='y')
        .map(|c| format!("vd{c}"))
        .find(|t| !xml.contains(&format!("dev='{t}'")) && !xml.contains(&format!("dev=\"{t}\"")))
}

/// The device XML of a volume: a virtio disk whose serial names the volume, as
/// Hetzner's device paths do (`scsi-0HC_Volume_<id>`).
pub fn volume_xml(file: &str, target: &str, volume: i64) -> String {
    format!(
        "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='{}'/>\
         <target dev='{}' bus='virtio'/><serial>HC_Volume_{volume}</serial></disk>",
        escape(file),
        escape(target)
    )
}

/// The source file of the disk with target `dev` in a domain's XML, as libvirt writes
/// it (`<disk ...><source file='...'/>...<target dev='vda' .../></disk>`).
pub fn disk_source(xml: &str, dev: &str) -> Option<String> {
    xml.split("<disk ").skip(1).find_map(|disk| {
        let disk = disk.split("</disk>").next()?;
        let targets = disk.contains(&format!("dev='{dev}'")) || disk.contains(&format!("dev=\"{dev}\""));
        if !targets {
            return None;
        }
        let after = disk.split("<source file=").nth(1)?;
        let quote = after.chars().next()?;
        let value = after[1..].split(quote).next()?;
        Some(unescape(value))
    })
}

/// The VNC display and websocket ports libvirt chose (`autoport`) for a running domain,
/// from its live XML (`<graphics type='vnc' port='5900' ... websocket='5700' ...>`).
pub fn vnc_ports(xml: &str) -> Option<(u16, u16)> {
    let tag = xml.split("<graphics ").nth(1)?.split('>').next()?;
    let attribute = |name: &str| -> Option<u16> {
        let after = tag.split(&format!(" {name}=")).nth(1).or_else(|| tag.strip_prefix(&format!("{name}=")))?;
        let quote = after.chars().next()?;
        after[1..].split(quote).next()?.parse().ok()
    };
    Some((attribute("port")?, attribute("websocket")?))
}

/// The graphics device with a new VNC password that stops working for new connections at
/// `valid_to` (UTC, `YYYY-MM-DDTHH:MM:SS`); ports as they are (libvirt refuses to change them live).
pub fn vnc_password_xml(ports: (u16, u16), password: &str, valid_to: &str) -> String {
    format!(
        "<graphics type='vnc' port='{}' autoport='yes' websocket='{}' listen='127.0.0.1' passwd='{}' passwdValidTo='{}'/>",
        ports.0,
        ports.1,
        escape(password),
        escape(valid_to)
    )
}

fn unescape(s: &str) -> String {
    s.replace("&apos;", "'").replace("&quot;", "\"").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}

/// XML-escapes text for an attribute or element.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\'' => out.push_str("&apos;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::HardwareSpec;
    use crate::images::{Boot, Manifest, Ready};

    fn image(boot: Boot) -> StoredImage {
        StoredImage {
            dir: "/data/images/small/v1".into(),
            manifest: Manifest {
                name: "small".into(),
                description: String::new(),
                disk: "disk.qcow2".into(),
                boot,
                ready: Ready::SerialMarker,
                created: chrono::Utc::now(),
                os_flavor: "unknown".into(),
                os_version: None,
            },
        }
    }

    #[test]
    fn a_kernel_image_boots_directly_and_the_public_address_forwards_ssh() {
        let spec = VmSpec {
            id: 42,
            name: "web<1>".into(),
            hardware: HardwareSpec { cores: 2, memory_mb: 2048, disks: vec![] },
            image: None,
            ssh_keys: vec![],
            root_password: None,
            user_data: None,
            nics: vec![],
        };
        let files = VmFiles {
            disk: Path::new("/d/disk.qcow2"),
            seed: Path::new("/d/seed.img"),
            serial_log: Path::new("/d/serial.log"),
        };
        let params = DomainParams {
            virt_type: "qemu",
            vnc_password: "pw",
            public_ipv4: Some("127.100.0.7"),
            mac: Some("52:54:00:00:00:2a"),
        };
        let kernel =
            Boot::Kernel { kernel: "vmlinuz".into(), initrd: "initrd.img".into(), cmdline: "console=ttyS0".into() };
        let xml = domain_xml(&spec, &image(kernel), &files, &params);
        assert!(xml.contains("<name>stratus-42</name>"));
        assert!(xml.contains("<title>web&lt;1&gt;</title>"));
        assert!(xml.contains("<kernel>/data/images/small/v1/vmlinuz</kernel>"));
        assert!(xml.contains("<memory unit='MiB'>2048</memory>"));
        assert!(xml.contains("<portForward proto='tcp' address='127.100.0.7'>"));
        assert!(xml.contains("<range start='22'/>"));
        assert!(xml.contains("<mac address='52:54:00:00:00:2a'/>"));
        assert!(!xml.contains("<boot dev='hd'/>"));

        let xml = domain_xml(&spec, &image(Boot::Disk), &files, &DomainParams { public_ipv4: None, ..params });
        assert!(xml.contains("<boot dev='hd'/>"));
        assert!(!xml.contains("portForward"));
        assert_eq!(vm_of("stratus-42"), Some(42));
        assert_eq!(disk_source(&xml, "vda").as_deref(), Some("/d/disk.qcow2"));
        assert_eq!(disk_source(&xml, "vdz").as_deref(), Some("/d/seed.img"));
        assert_eq!(disk_source(&xml, "vdq"), None);
        let libvirt = "<disk type=\"file\" device=\"disk\">\n<driver name=\"qemu\"/>\n<source file=\"/d/disk-1.qcow2\" index=\"3\"/>\n<backingStore/>\n<target dev=\"vda\" bus=\"virtio\"/>\n</disk>";
        assert_eq!(disk_source(libvirt, "vda").as_deref(), Some("/d/disk-1.qcow2"));
        assert_eq!(disk_target_of(libvirt, "/d/disk-1.qcow2").as_deref(), Some("vda"));
        assert_eq!(disk_target_of(&xml, "/d/seed.img").as_deref(), Some("vdz"));
        assert_eq!(disk_target_of(&xml, "/elsewhere"), None);
        assert_eq!(free_disk_target(&xml).as_deref(), Some("vdb"));
        let with_b = format!("{xml}<disk type='file'><target dev='vdb' bus='virtio'/></disk>");
        assert_eq!(free_disk_target(&with_b).as_deref(), Some("vdc"));
        assert!(volume_xml("/v/7.qcow2", "vdb", 7).contains("<serial>HC_Volume_7</serial>"));
        assert_eq!(vm_of("other"), None);
        assert_eq!(vnc_ports(&xml), None, "autoport: no ports before it runs");
    }

    #[test]
    fn vnc_ports_come_from_the_live_xml() {
        let live = "<devices>\n<graphics type='vnc' port='5901' autoport='yes' websocket='5701' listen='127.0.0.1'>\n\
                    <listen type='address' address='127.0.0.1'/>\n</graphics>";
        assert_eq!(vnc_ports(live), Some((5901, 5701)));
        let xml = vnc_password_xml((5901, 5701), "a'b", "2026-12-03T10:00:00");
        assert!(xml.contains("port='5901'") && xml.contains("websocket='5701'"));
        assert!(xml.contains("passwd='a&apos;b'") && xml.contains("passwdValidTo='2026-12-03T10:00:00'"));
    }
}
