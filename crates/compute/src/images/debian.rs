//! The `debian-12` image: Debian bookworm as a cloud runs it. mmdebstrap makes a
//! minimal system with systemd, the cloud kernel, OpenSSH, QEMU's guest agent and
//! Debian's own cloud-init, which reads the NoCloud seed the driver writes, so
//! `#cloud-config` user data, SSH keys and the root password work as users expect. It
//! reaches its SSH banner in about a minute under TCG; the driver waits for that banner.
//!
//! The root filesystem fills the whole disk (no partition table), so cloud-init's
//! resizefs grows it to the server type's disk at first boot; the kernel is booted
//! directly (no boot loader), so a kernel upgraded inside the guest is used only once
//! the image is built again.

use super::build::{publish_kernel_image, root_filesystem, write_files, BuildProgress, KernelImage, Scratch};
use super::{io, run, ImageError, ImageStore, Ready, StoredImage};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub const NAME: &str = "debian-12";

/// The archive the system comes from: bookworm with its updates and security fixes.
const SOURCES: [&str; 3] = [
    "deb http://deb.debian.org/debian bookworm main",
    "deb http://deb.debian.org/debian bookworm-updates main",
    "deb http://deb.debian.org/debian-security bookworm-security main",
];

/// What is installed on top of Debian's `minbase` variant (with their dependencies):
/// ifupdown and dhclient are the network cloud-init configures on Debian; `locales` for
/// the `en_US.UTF-8` that cloud-init sets (its locale module fails without it).
const PACKAGES: [&str; 12] = [
    "systemd-sysv",
    "udev",
    "linux-image-cloud-amd64",
    "openssh-server",
    "cloud-init",
    "qemu-guest-agent",
    "ifupdown",
    "isc-dhcp-client",
    "iproute2",
    "netbase",
    "e2fsprogs",
    "locales",
];

/// Generated in the image, so cloud-init finds the locale it would set already in place
/// instead of generating it at each first boot (seconds under TCG).
const LOCALE_HOOK: &str = r#"echo "en_US.UTF-8 UTF-8" > "$1/etc/locale.gen" && chroot "$1" locale-gen >/dev/null && echo LANG=en_US.UTF-8 > "$1/etc/default/locale""#;

/// The root filesystem's size; the server's disk is an overlay as large as its type's.
const ROOT_SIZE: &str = "3G";

/// Files written into the system: (path, mode, contents).
const FILES: [(&str, u32, &str); 3] = [
    ("etc/fstab", 0o644, "/dev/vda / ext4 errors=remount-ro,discard 0 1\n"),
    ("etc/cloud/cloud.cfg.d/90-stratus.cfg", 0o644, include_str!("debian/cloud.cfg")),
    ("etc/ssh/sshd_config.d/50-stratus.conf", 0o644, include_str!("debian/sshd.conf")),
];

/// The kernel command line: the serial port last, so it is the console the driver
/// reads (boot failures, CPU stalls); the VNC screen shows the kernel's output too.
const CMDLINE: &str = "root=/dev/vda ro console=tty0 console=ttyS0,115200";

pub fn build(store: &ImageStore, progress: &dyn BuildProgress) -> Result<StoredImage, ImageError> {
    let scratch = Scratch::new(store)?;
    let root = scratch.path().join("root");

    progress.stage("installing Debian bookworm (mmdebstrap; about two minutes)", 1);
    bootstrap(&root)?;
    progress.advance(1);

    progress.stage("configuring the system", 2);
    configure(&root)?;
    progress.advance(1);
    let (vmlinuz, initrd) = boot_files(&root)?;
    let raw = scratch.path().join("root.raw");
    root_filesystem(&root, &raw, ROOT_SIZE)?;
    progress.advance(1);

    let kernel = vmlinuz.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let image = KernelImage {
        name: NAME,
        description: format!("Debian 12 (bookworm) with cloud-init and OpenSSH on {kernel}"),
        cmdline: CMDLINE,
        ready: Ready::SshBanner,
        os_flavor: "debian",
        os_version: Some("12"),
    };
    publish_kernel_image(store, &raw, &vmlinuz, &initrd, image, progress)
}

/// Runs mmdebstrap into `root`. Its standard input is closed: mmdebstrap would read
/// apt sources from it when it is not a terminal.
fn bootstrap(root: &Path) -> Result<(), ImageError> {
    let mut command = Command::new("mmdebstrap");
    command
        .args(["--variant=minbase", "--quiet"])
        .arg(format!("--include={}", PACKAGES.join(",")))
        // Documentation is a fifth of the system and no use on a server.
        .arg("--dpkgopt=path-exclude=/usr/share/doc/*")
        .arg("--dpkgopt=path-exclude=/usr/share/man/*")
        .arg(format!("--customize-hook={LOCALE_HOOK}"))
        .arg("bookworm")
        .arg(root)
        .args(SOURCES)
        .stdin(Stdio::null());
    run(&mut command).map_err(|e| match e {
        ImageError::Tool { tool, message } if message.contains("No such file") => ImageError::Tool {
            tool,
            message: format!("{message} (the {NAME} recipe needs Debian's mmdebstrap: apt-get install mmdebstrap)"),
        },
        other => other,
    })?;
    Ok(())
}

/// Stratus's configuration, and what must differ per instance taken out: the SSH host
/// keys (cloud-init makes them at first boot) and the machine id (systemd does).
fn configure(root: &Path) -> Result<(), ImageError> {
    write_files(root, &FILES)?;
    let ssh = root.join("etc/ssh");
    for entry in std::fs::read_dir(&ssh).map_err(io(&ssh))? {
        let path = entry.map_err(io(&ssh))?.path();
        if path.file_name().is_some_and(|n| n.to_string_lossy().starts_with("ssh_host_")) {
            std::fs::remove_file(&path).map_err(io(&path))?;
        }
    }
    let machine_id = root.join("etc/machine-id");
    std::fs::write(&machine_id, b"").map_err(io(&machine_id))?;
    let _ = std::fs::remove_file(root.join("var/lib/dbus/machine-id"));
    let hostname = root.join("etc/hostname");
    std::fs::write(&hostname, b"debian\n").map_err(io(&hostname))
}

/// The kernel and the initramfs Debian made for it, from `/boot`.
fn boot_files(root: &Path) -> Result<(PathBuf, PathBuf), ImageError> {
    let boot = root.join("boot");
    let mut kernels: Vec<PathBuf> = std::fs::read_dir(&boot)
        .map_err(io(&boot))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("vmlinuz-")))
        .collect();
    kernels.sort();
    let vmlinuz = kernels.pop().ok_or_else(|| ImageError::Invalid("the system has no kernel in /boot".into()))?;
    let version = vmlinuz.file_name().map(|n| n.to_string_lossy().trim_start_matches("vmlinuz-").to_owned());
    let initrd = boot.join(format!("initrd.img-{}", version.unwrap_or_default()));
    if !initrd.is_file() {
        return Err(ImageError::Invalid(format!("the system has no {}", initrd.display())));
    }
    Ok((vmlinuz, initrd))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configure_takes_out_what_is_per_instance() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("etc/ssh")).unwrap();
        std::fs::write(root.join("etc/ssh/ssh_host_ed25519_key"), b"secret").unwrap();
        std::fs::write(root.join("etc/ssh/sshd_config"), b"").unwrap();
        std::fs::write(root.join("etc/machine-id"), b"0123456789abcdef\n").unwrap();
        configure(root).unwrap();
        assert!(!root.join("etc/ssh/ssh_host_ed25519_key").exists());
        assert!(root.join("etc/ssh/sshd_config").exists());
        assert_eq!(std::fs::read(root.join("etc/machine-id")).unwrap(), b"");
        let cfg = std::fs::read_to_string(root.join("etc/cloud/cloud.cfg.d/90-stratus.cfg")).unwrap();
        assert!(cfg.contains("datasource_list: [NoCloud, None]") && cfg.contains("disable_root: false"));
        let sshd = std::fs::read_to_string(root.join("etc/ssh/sshd_config.d/50-stratus.conf")).unwrap();
        assert!(sshd.contains("PermitRootLogin yes"));
    }

    #[test]
    fn boot_files_are_the_newest_kernel_and_its_initramfs() {
        let dir = tempfile::tempdir().unwrap();
        let boot = dir.path().join("boot");
        std::fs::create_dir_all(&boot).unwrap();
        assert!(boot_files(dir.path()).is_err());
        for f in ["vmlinuz-6.1.0-56-cloud-amd64", "vmlinuz-6.1.0-57-cloud-amd64", "initrd.img-6.1.0-57-cloud-amd64"] {
            std::fs::write(boot.join(f), b"").unwrap();
        }
        let (kernel, initrd) = boot_files(dir.path()).unwrap();
        assert_eq!(kernel, boot.join("vmlinuz-6.1.0-57-cloud-amd64"));
        assert_eq!(initrd, boot.join("initrd.img-6.1.0-57-cloud-amd64"));
    }
}
