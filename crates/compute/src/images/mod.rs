//! The image store: the boot disks servers are made from, under `DATA/images`.
//!
//! Every image is a folder `images/<name>/` holding one folder per build (`<version>/`:
//! `manifest.json`, the disk and, for direct kernel boot, the kernel and initramfs) and a
//! file `current` naming the version new servers use. A VM's disk is a qcow2 overlay
//! whose backing file is a versioned path, so building an image again never changes a
//! disk that already uses the old build.
//!
//! Images are built from Debian packages ([`build`]), imported from a file the user
//! brings ([`ImageStore::import`]) or taken from a server's disk (snapshots, by the
//! libvirt driver).

pub mod build;
mod debian;
mod isos;
mod seed;
mod small;

pub use isos::IsoStore;
pub use seed::{write_seed, Seed};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The recipes `stratus image build` knows.
pub const RECIPES: [&str; 2] = [small::NAME, debian::NAME];

/// How a VM boots from an image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Boot {
    /// The firmware boots the disk's own boot loader (imported images).
    Disk,
    /// QEMU loads this kernel and initramfs (files next to the manifest) with this
    /// command line; the root filesystem is the disk.
    Kernel { kernel: String, initrd: String, cmdline: String },
}

/// What a build records about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub name: String,
    pub description: String,
    /// The disk's file name, next to the manifest; always qcow2.
    pub disk: String,
    pub boot: Boot,
    /// What the guest does when it booted, for the driver to wait on.
    pub ready: Ready,
    pub created: DateTime<Utc>,
    /// The OS, for the catalogue entry the image backs (`debian`, `unknown`, ...).
    pub os_flavor: String,
    pub os_version: Option<String>,
}

/// How the driver tells that a guest has booted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ready {
    /// `stratus-guest: ready` on the first serial port (the small image).
    SerialMarker,
    /// An SSH banner on port 22 (images with an SSH server and no marker).
    SshBanner,
    /// Nothing can be waited for: booted once the VM runs (imported images).
    Running,
}

/// The line the small image prints on its serial port once SSH listens.
pub const READY_MARKER: &str = "stratus-guest: ready";

/// One build of an image, with absolute paths.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredImage {
    pub dir: PathBuf,
    pub manifest: Manifest,
}

impl StoredImage {
    pub fn disk(&self) -> PathBuf {
        self.dir.join(&self.manifest.disk)
    }

    /// The kernel and initramfs of a direct kernel boot, with its command line.
    pub fn kernel(&self) -> Option<(PathBuf, PathBuf, &str)> {
        match &self.manifest.boot {
            Boot::Disk => None,
            Boot::Kernel { kernel, initrd, cmdline } => Some((self.dir.join(kernel), self.dir.join(initrd), cmdline)),
        }
    }

    /// The disk's virtual size in bytes, as `qemu-img` reports it.
    pub fn virtual_size(&self) -> Result<u64, ImageError> {
        let out = run(Command::new("qemu-img").args(["info", "--output=json"]).arg(self.disk()))?;
        let info: serde_json::Value = serde_json::from_str(&out)
            .map_err(|e| ImageError::Tool { tool: "qemu-img info".into(), message: e.to_string() })?;
        info["virtual-size"]
            .as_u64()
            .ok_or_else(|| ImageError::Tool { tool: "qemu-img info".into(), message: "no virtual-size".into() })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{tool} failed: {message}")]
    Tool { tool: String, message: String },
    #[error("invalid image name {0:?}: use letters, digits, '.', '_' and '-'")]
    Name(String),
    #[error("unknown recipe {0:?}; known: {known}", known = RECIPES.join(", "))]
    Recipe(String),
    #[error("{0}")]
    Invalid(String),
}

pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ImageError + '_ {
    move |source| ImageError::Io { path: path.to_owned(), source }
}

/// Runs a tool, returning its standard output, or its standard error as the failure.
pub(crate) fn run(command: &mut Command) -> Result<String, ImageError> {
    let tool = command.get_program().to_string_lossy().into_owned();
    let out = command.output().map_err(|e| ImageError::Tool { tool: tool.clone(), message: e.to_string() })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(ImageError::Tool { tool, message: format!("{}: {}", out.status, stderr.trim()) });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The images of one data directory.
#[derive(Debug, Clone)]
pub struct ImageStore {
    root: PathBuf,
}

impl ImageStore {
    /// The store at `DATA/images`; created on first write.
    pub fn new(data_dir: &Path) -> ImageStore {
        ImageStore { root: data_dir.join("images") }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The current build of an image, if it has one.
    pub fn get(&self, name: &str) -> Result<Option<StoredImage>, ImageError> {
        if check_name(name).is_err() {
            return Ok(None);
        }
        let current = self.root.join(name).join("current");
        let version = match std::fs::read_to_string(&current) {
            Ok(v) => v.trim().to_owned(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(&current)(e)),
        };
        let dir = self.root.join(name).join(version);
        let path = dir.join("manifest.json");
        let text = std::fs::read_to_string(&path).map_err(io(&path))?;
        let manifest =
            serde_json::from_str(&text).map_err(|e| ImageError::Invalid(format!("{}: {e}", path.display())))?;
        Ok(Some(StoredImage { dir, manifest }))
    }

    /// Every image with a current build, by name.
    pub fn list(&self) -> Result<Vec<StoredImage>, ImageError> {
        let entries = match std::fs::read_dir(&self.root) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
            Err(e) => return Err(io(&self.root)(e)),
        };
        let mut names: Vec<String> =
            entries.filter_map(|e| e.ok()).filter_map(|e| e.file_name().into_string().ok()).collect();
        names.sort();
        let mut images = vec![];
        for name in names {
            if let Some(image) = self.get(&name)? {
                images.push(image);
            }
        }
        Ok(images)
    }

    /// A new, empty version folder for `name`; [`ImageStore::publish`] makes it current.
    pub fn stage(&self, name: &str) -> Result<PathBuf, ImageError> {
        check_name(name)?;
        let version = Utc::now().format("%Y%m%dT%H%M%S%.6fZ").to_string();
        let dir = self.root.join(name).join(version);
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        // libvirt's QEMU (another user) reaches the files through these folders.
        traversable(&self.root)?;
        traversable(&self.root.join(name))?;
        traversable(&dir)?;
        Ok(dir)
    }

    /// Writes the manifest into a staged folder and makes it the image's current build,
    /// atomically (a rename), so a reader sees the old build or the new one.
    pub fn publish(&self, dir: &Path, manifest: &Manifest) -> Result<StoredImage, ImageError> {
        let path = dir.join("manifest.json");
        let text = serde_json::to_string_pretty(manifest).map_err(|e| ImageError::Invalid(e.to_string()))?;
        std::fs::write(&path, text).map_err(io(&path))?;
        let version =
            dir.file_name().and_then(|v| v.to_str()).ok_or_else(|| ImageError::Invalid("bad stage".into()))?;
        let image_dir = self.root.join(&manifest.name);
        let temp = image_dir.join(".current.tmp");
        std::fs::write(&temp, version).map_err(io(&temp))?;
        let current = image_dir.join("current");
        std::fs::rename(&temp, &current).map_err(io(&current))?;
        Ok(StoredImage { dir: dir.to_owned(), manifest: manifest.clone() })
    }

    /// Registers a qcow2 or raw disk the user brings, converted to qcow2, booting with its
    /// own boot loader.
    pub fn import(&self, file: &Path, name: &str, description: &str) -> Result<StoredImage, ImageError> {
        check_name(name)?;
        if !file.is_file() {
            return Err(ImageError::Invalid(format!("{}: no such file", file.display())));
        }
        let dir = self.stage(name)?;
        let disk = dir.join("disk.qcow2");
        let converted = run(Command::new("qemu-img").args(["convert", "-O", "qcow2"]).arg(file).arg(&disk));
        if let Err(e) = converted {
            let _ = std::fs::remove_dir_all(&dir);
            return Err(e);
        }
        let manifest = Manifest {
            name: name.to_owned(),
            description: description.to_owned(),
            disk: "disk.qcow2".into(),
            boot: Boot::Disk,
            ready: Ready::Running,
            created: Utc::now(),
            os_flavor: "unknown".into(),
            os_version: None,
        };
        self.publish(&dir, &manifest)
    }

    /// Removes an image with every build of it.
    pub fn remove(&self, name: &str) -> Result<bool, ImageError> {
        check_name(name)?;
        let dir = self.root.join(name);
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(io(&dir)(e)),
        }
    }
}

/// Names become folder names: no separators, no dot files.
pub fn check_name(name: &str) -> Result<(), ImageError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(ImageError::Name(name.to_owned()))
    }
}

/// `0711`: others may pass through to files they are given, not list the folder.
pub fn traversable(dir: &Path) -> Result<(), ImageError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o711)).map_err(io(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_folder_safe() {
        for good in ["small", "debian-12", "my_image.v2"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in ["", "../x", "a/b", ".hidden", "sp ace", &"x".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_published_build_is_current_and_an_unknown_name_is_none() {
        let data = tempfile::tempdir().unwrap();
        let store = ImageStore::new(data.path());
        assert!(store.get("small").unwrap().is_none());
        assert!(store.get("../etc").unwrap().is_none());
        let dir = store.stage("small").unwrap();
        std::fs::write(dir.join("disk.qcow2"), b"").unwrap();
        let manifest = Manifest {
            name: "small".into(),
            description: "test".into(),
            disk: "disk.qcow2".into(),
            boot: Boot::Kernel { kernel: "vmlinuz".into(), initrd: "initrd.img".into(), cmdline: "quiet".into() },
            ready: Ready::SerialMarker,
            created: Utc::now(),
            os_flavor: "unknown".into(),
            os_version: None,
        };
        store.publish(&dir, &manifest).unwrap();
        let got = store.get("small").unwrap().unwrap();
        assert_eq!(got.manifest, manifest);
        assert_eq!(got.disk(), dir.join("disk.qcow2"));
        assert_eq!(got.kernel().unwrap().0, dir.join("vmlinuz"));
        assert_eq!(store.list().unwrap().len(), 1);
        assert!(store.remove("small").unwrap());
        assert!(store.get("small").unwrap().is_none());
    }
}
