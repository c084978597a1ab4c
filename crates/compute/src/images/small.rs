//! The `small` image: Debian's cloud kernel, busybox, dropbear, e2fsprogs and QEMU's guest agent, with a
//! tiny init that applies the NoCloud seed (hostname, SSH keys, root password, user-data
//! scripts). It boots to SSH in a few seconds under TCG, which is what tests need; the
//! shell scripts it runs are in `small/`.

use super::build::{
    closure, depends_of, download, publish_kernel_image, root_filesystem, unpack, write_files, BuildProgress,
    KernelImage, Scratch,
};
use super::{io, run, ImageError, ImageStore, Ready, StoredImage};
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;
use std::process::Command;

pub const NAME: &str = "small";

/// The root filesystem's size; the driver's overlay is as large as the server type's
/// disk, and the guest grows the filesystem to it at boot.
const ROOT_SIZE: &str = "1G";

/// Loaded by the initramfs in this order (the cloud kernel has them as modules): virtio
/// for disks and network, FAT for the seed, the ACPI button and evdev for the power
/// button that libvirt's shutdown presses, virtio's console for the guest agent's port.
const MODULES: [&str; 16] = [
    "virtio_ring",
    "virtio",
    "virtio_pci_modern_dev",
    "virtio_pci_legacy_dev",
    "virtio_pci",
    "failover",
    "net_failover",
    "virtio_net",
    "virtio_blk",
    "virtio_console",
    "fat",
    "vfat",
    "nls_cp437",
    "nls_ascii",
    "button",
    "evdev",
];

/// The Debian packages the root filesystem is made of (with their dependencies); QEMU's
/// guest agent sets the root password for `reset_password`, as on Hetzner.
const PACKAGES: [&str; 4] = ["busybox-static", "dropbear-bin", "e2fsprogs", "qemu-guest-agent"];

/// Files of the root filesystem: (path, mode, contents).
const FILES: [(&str, u32, &str); 15] = [
    ("etc/inittab", 0o644, include_str!("small/inittab")),
    ("etc/init.d/rcS", 0o755, include_str!("small/rcS.sh")),
    ("etc/init.d/rcK", 0o755, include_str!("small/rcK.sh")),
    ("etc/acpi/PWRF/00000080", 0o755, include_str!("small/poweroff.sh")),
    ("usr/lib/stratus/apply-seed", 0o755, include_str!("small/apply-seed.sh")),
    ("usr/lib/stratus/run-user-data", 0o755, include_str!("small/run-user-data.sh")),
    ("usr/share/udhcpc/default.script", 0o755, include_str!("small/udhcpc.sh")),
    ("usr/bin/cloud-init", 0o755, include_str!("small/cloud-init.sh")),
    ("usr/sbin/chpasswd", 0o755, include_str!("small/chpasswd.sh")),
    ("etc/passwd", 0o644, "root:x:0:0:root:/root:/bin/sh\n"),
    // `*`: no password until the seed sets one; key logins work (`!` would lock them).
    ("etc/shadow", 0o600, "root:*:19000:0:99999:7:::\n"),
    ("etc/group", 0o644, "root:x:0:\n"),
    ("etc/shells", 0o644, "/bin/sh\n"),
    ("etc/hostname", 0o644, "small\n"),
    ("etc/profile", 0o644, "export PATH=/usr/sbin:/usr/bin:/sbin:/bin\nexport PS1='\\h:\\w\\$ '\n"),
];

pub fn build(store: &ImageStore, progress: &dyn BuildProgress) -> Result<StoredImage, ImageError> {
    let scratch = Scratch::new(store)?;
    let work = scratch.path();

    progress.stage("resolving packages", 2);
    let kernel_package = depends_of("linux-image-cloud-amd64", "linux-image-")?;
    progress.advance(1);
    let packages = closure(&PACKAGES)?;
    progress.advance(1);

    let kernel_debs = download(std::slice::from_ref(&kernel_package), &work.join("kernel-debs"), progress)?;
    let debs = download(&packages, &work.join("debs"), progress)?;
    let kernel_tree = work.join("kernel");
    unpack(&kernel_debs, &kernel_tree, progress)?;
    let root = work.join("root");
    unpack(&debs, &root, progress)?;

    progress.stage("assembling the root filesystem", 3);
    assemble_root(&root)?;
    progress.advance(1);
    let version = kernel_package.trim_start_matches("linux-image-");
    let initrd = initramfs(&root, &kernel_tree.join("lib/modules").join(version))?;
    progress.advance(1);
    let initrd_file = work.join("initrd.img");
    std::fs::write(&initrd_file, &initrd).map_err(io(&initrd_file))?;
    let raw = work.join("root.raw");
    root_filesystem(&root, &raw, ROOT_SIZE)?;
    progress.advance(1);

    let vmlinuz = kernel_tree.join("boot").join(format!("vmlinuz-{version}"));
    let image = KernelImage {
        name: NAME,
        description: format!("Small test image: busybox and dropbear on {kernel_package}"),
        cmdline: "console=tty0 console=ttyS0,115200 quiet",
        ready: Ready::SerialMarker,
        os_flavor: "unknown",
        os_version: None,
    };
    publish_kernel_image(store, &raw, &vmlinuz, &initrd_file, image, progress)
}

/// busybox's applets as links, Stratus's boot scripts, and the folders init expects.
fn assemble_root(root: &Path) -> Result<(), ImageError> {
    let applets = run(Command::new(root.join("bin/busybox")).arg("--list-full"))?;
    for applet in applets.lines().filter(|l| !l.is_empty()) {
        let link = root.join(applet);
        if link.symlink_metadata().is_ok() {
            continue; // a real program of the same name (e2fsprogs' mke2fs) wins
        }
        if let Some(parent) = link.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        symlink("/bin/busybox", &link).map_err(io(&link))?;
    }
    write_files(root, &FILES)?;
    for dir in ["proc", "sys", "dev", "run", "tmp", "root", "var/lib/cloud", "var/log", "etc/dropbear", "mnt"] {
        let d = root.join(dir);
        std::fs::create_dir_all(&d).map_err(io(&d))?;
    }
    for (dir, mode) in [("root", 0o700), ("tmp", 0o1777)] {
        let d = root.join(dir);
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(mode)).map_err(io(&d))?;
    }
    // Documentation is most of the packages' size and no use in a test guest.
    for dir in ["usr/share/doc", "usr/share/man", "usr/share/locale"] {
        let _ = std::fs::remove_dir_all(root.join(dir));
    }
    Ok(())
}

/// The initramfs (a `newc` cpio archive): busybox, the modules, and an init that mounts
/// the root disk.
fn initramfs(root: &Path, modules: &Path) -> Result<Vec<u8>, ImageError> {
    let mut archive = Cpio::default();
    for dir in ["bin", "dev", "proc", "sys", "newroot", "modules"] {
        archive.dir(dir);
    }
    let busybox = root.join("bin/busybox");
    archive.file("bin/busybox", 0o755, &std::fs::read(&busybox).map_err(io(&busybox))?);
    // The init script's interpreter; it installs the other applets itself.
    archive.symlink("bin/sh", "busybox");
    archive.file("init", 0o755, include_str!("small/initramfs-init.sh").as_bytes());
    let mut order = String::new();
    for module in MODULES {
        let path = find_module(modules, module)?;
        archive.file(&format!("modules/{module}.ko"), 0o644, &std::fs::read(&path).map_err(io(&path))?);
        order.push_str(module);
        order.push('\n');
    }
    archive.file("modules.order", 0o644, order.as_bytes());
    Ok(archive.finish())
}

fn find_module(dir: &Path, module: &str) -> Result<std::path::PathBuf, ImageError> {
    let wanted = format!("{module}.ko");
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).map_err(io(&d))? {
            let path = entry.map_err(io(&d))?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.file_name().is_some_and(|n| n == wanted.as_str()) {
                return Ok(path);
            }
        }
    }
    Err(ImageError::Invalid(format!("the kernel package has no module {module}")))
}

/// A writer of the `newc` cpio format the kernel unpacks an initramfs from.
#[derive(Debug, Default)]
struct Cpio {
    out: Vec<u8>,
    inode: u32,
}

impl Cpio {
    fn dir(&mut self, name: &str) {
        self.entry(name, 0o040_755, &[]);
    }

    fn file(&mut self, name: &str, mode: u32, data: &[u8]) {
        self.entry(name, 0o100_000 | mode, data);
    }

    fn symlink(&mut self, name: &str, target: &str) {
        self.entry(name, 0o120_777, target.as_bytes());
    }

    fn entry(&mut self, name: &str, mode: u32, data: &[u8]) {
        self.inode += 1;
        let name_size = name.len() + 1;
        let fields = [self.inode, mode, 0, 0, 1, 0, len32(data.len()), 0, 0, 0, 0, len32(name_size), 0];
        self.out.extend_from_slice(b"070701");
        for field in fields {
            self.out.extend_from_slice(format!("{field:08x}").as_bytes());
        }
        self.out.extend_from_slice(name.as_bytes());
        self.out.push(0);
        self.pad();
        self.out.extend_from_slice(data);
        self.pad();
    }

    fn pad(&mut self) {
        while !self.out.len().is_multiple_of(4) {
            self.out.push(0);
        }
    }

    fn finish(mut self) -> Vec<u8> {
        self.entry("TRAILER!!!", 0, &[]);
        self.out
    }
}

/// Sizes in a cpio header are 32 bits; the files here are a few MB at most.
fn len32(n: usize) -> u32 {
    u32::try_from(n).expect("initramfs member under 4 GiB")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpio_headers_are_newc_and_aligned() {
        let mut archive = Cpio::default();
        archive.dir("bin");
        archive.file("init", 0o755, b"#!/bin/sh\n");
        let out = archive.finish();
        assert!(out.starts_with(b"070701"));
        assert_eq!(out.len() % 4, 0);
        let text = String::from_utf8_lossy(&out);
        assert!(text.contains("init\0"));
        assert!(text.contains("TRAILER!!!"));
        // The file's header: mode 0100755, then uid, gid, nlink, mtime, and size 10.
        let at = text.find("000081ed").expect("regular file mode");
        assert_eq!(&text[at + 40..at + 48], "0000000a");
    }
}
