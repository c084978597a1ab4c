//! Building images from Debian packages: resolving a package set with its dependencies,
//! downloading the `.deb` files through the host's apt (its mirror and keys) and
//! unpacking them into a folder. Nothing but Debian's archive is used, so a build works
//! wherever apt does.

use super::{io, run, small, ImageError, ImageStore, StoredImage};
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
