//! Building images from Debian packages: resolving a package set with its dependencies,
//! downloading the `.deb` files through the host's apt (its mirror and keys) and
//! unpacking them into a folder. Nothing but Debian's archive is used, so a build works
//! wherever apt does.

use super::{debian, io, run, small, Boot, ImageError, ImageStore, Manifest, Ready, StoredImage};
use chrono::Utc;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What a build tells the person waiting for it.
pub trait BuildProgress {
    /// A new stage begins, with `total` units of work.
    fn stage(&self, message: &str, total: u64);
    /// `n` more units of the current stage are done.
    fn advance(&self, n: u64);
}

/// Builds the image `recipe` (one of [`super::RECIPES`]) and makes it the current build
/// of the image of that name.
pub fn build(store: &ImageStore, recipe: &str, progress: &dyn BuildProgress) -> Result<StoredImage, ImageError> {
    match recipe {
        small::NAME => small::build(store, progress),
        debian::NAME => debian::build(store, progress),
        other => Err(ImageError::Recipe(other.to_owned())),
    }
}

/// A scratch folder for a build, removed when dropped whatever happens.
pub(crate) struct Scratch(tempfile::TempDir);

impl Scratch {
    pub fn new(store: &ImageStore) -> Result<Scratch, ImageError> {
        // Next to the store, so moving the results into it is a rename on one filesystem.
        std::fs::create_dir_all(store.root()).map_err(io(store.root()))?;
        let dir = tempfile::Builder::new().prefix(".build-").tempdir_in(store.root()).map_err(io(store.root()))?;
        Ok(Scratch(dir))
    }

    pub fn path(&self) -> &Path {
        self.0.path()
    }
}

/// `packages` and everything they depend on (pre-depends included; recommends and
/// suggests not), as apt resolves them on this host.
pub(crate) fn closure(packages: &[&str]) -> Result<Vec<String>, ImageError> {
    let out = run(Command::new("apt-cache")
        .args(["depends", "--recurse", "--no-recommends", "--no-suggests", "--no-conflicts"])
        .args(["--no-breaks", "--no-replaces", "--no-enhances"])
        .args(packages))?;
    // Lines without indentation are packages; `<name>` lines are virtual packages, which
    // some real package in the list provides.
    let mut names: Vec<String> = out
        .lines()
        .filter(|l| !l.starts_with(' ') && !l.starts_with('<') && !l.is_empty())
        .map(str::to_owned)
        .collect();
    names.sort();
    names.dedup();
    Ok(names)
}

/// The real package a metapackage (`linux-image-cloud-amd64`) stands for.
pub(crate) fn depends_of(metapackage: &str, prefix: &str) -> Result<String, ImageError> {
    let out = run(Command::new("apt-cache").args(["depends", metapackage]))?;
    out.lines()
        .filter_map(|l| l.trim().strip_prefix("Depends: "))
        .find(|p| p.starts_with(prefix))
        .map(str::to_owned)
        .ok_or_else(|| ImageError::Invalid(format!("{metapackage} depends on no {prefix}* package")))
}

/// Downloads each package's `.deb` into `dir` and returns the files, one per package.
pub(crate) fn download(
    packages: &[String],
    dir: &Path,
    progress: &dyn BuildProgress,
) -> Result<Vec<PathBuf>, ImageError> {
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    progress.stage("downloading Debian packages", packages.len() as u64);
    for package in packages {
        run(Command::new("apt-get").arg("download").arg(package).current_dir(dir)).map_err(|e| match e {
            ImageError::Tool { message, .. } => ImageError::Tool {
                tool: format!("apt-get download {package}"),
                message: format!("{message} (is apt's package list current? try apt-get update)"),
            },
            other => other,
        })?;
        progress.advance(1);
    }
    let mut debs: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io(dir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "deb"))
        .collect();
    debs.sort();
    Ok(debs)
}

/// Unpacks `.deb` files into `root` (their files only; no maintainer scripts run).
pub(crate) fn unpack(debs: &[PathBuf], root: &Path, progress: &dyn BuildProgress) -> Result<(), ImageError> {
    std::fs::create_dir_all(root).map_err(io(root))?;
    progress.stage("unpacking", debs.len() as u64);
    for deb in debs {
        run(Command::new("dpkg-deb").arg("-x").arg(deb).arg(root))?;
        progress.advance(1);
    }
    Ok(())
}

/// What a directly booted image says of itself (the rest of its manifest is fixed).
pub(crate) struct KernelImage<'a> {
    pub name: &'a str,
    pub description: String,
    pub cmdline: &'a str,
    pub ready: Ready,
    pub os_flavor: &'a str,
    pub os_version: Option<&'a str>,
}

/// Makes `root` an ext4 filesystem of `size` in the file `raw` (mke2fs copies the tree
/// in: no mount, no loop device).
pub(crate) fn root_filesystem(root: &Path, raw: &Path, size: &str) -> Result<(), ImageError> {
    run(Command::new("mke2fs")
        .args(["-q", "-t", "ext4", "-L", "stratus-root", "-E", "root_owner=0:0", "-d"])
        .arg(root)
        .arg("-F")
        .arg(raw)
        .arg(size))?;
    Ok(())
}

/// Writes a build (the root filesystem as qcow2, the kernel and the initramfs) and makes
/// it the image's current one; a failure leaves no build behind.
pub(crate) fn publish_kernel_image(
    store: &ImageStore,
    raw: &Path,
    kernel: &Path,
    initrd: &Path,
    image: KernelImage,
    progress: &dyn BuildProgress,
) -> Result<StoredImage, ImageError> {
    progress.stage("writing the image", 3);
    let dir = store.stage(image.name)?;
    let result = (|| {
        run(Command::new("qemu-img").args(["convert", "-O", "qcow2"]).arg(raw).arg(dir.join("disk.qcow2")))?;
        progress.advance(1);
        copy_public(kernel, &dir.join("vmlinuz"))?;
        copy_public(initrd, &dir.join("initrd.img"))?;
        progress.advance(1);
        let manifest = Manifest {
            name: image.name.into(),
            description: image.description,
            disk: "disk.qcow2".into(),
            boot: Boot::Kernel { kernel: "vmlinuz".into(), initrd: "initrd.img".into(), cmdline: image.cmdline.into() },
            ready: image.ready,
            created: Utc::now(),
            os_flavor: image.os_flavor.into(),
            os_version: image.os_version.map(str::to_owned),
        };
        let stored = store.publish(&dir, &manifest)?;
        progress.advance(1);
        Ok(stored)
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

/// Kernel and initramfs are Debian's and Stratus's, nothing secret: readable by
/// libvirt's QEMU whichever user owns them.
fn copy_public(from: &Path, to: &Path) -> Result<(), ImageError> {
    std::fs::copy(from, to).map_err(io(from))?;
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o644)).map_err(io(to))
}

/// Writes Stratus's files into a root filesystem: (path below `root`, mode, contents).
pub(crate) fn write_files(root: &Path, files: &[(&str, u32, &str)]) -> Result<(), ImageError> {
    for &(path, mode, contents) in files {
        let file = root.join(path);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        std::fs::write(&file, contents).map_err(io(&file))?;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).map_err(io(&file))?;
    }
    Ok(())
}
