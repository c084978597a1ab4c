//! The ISO files servers' virtual CD drives take (`attach_iso`): `DATA/isos/<name>`, one
//! per catalogue ISO that has a file (`stratus image import-iso`). ISOs are not secret
//! (readable by QEMU's user), and copied in whole: a user's file may change or vanish.

use super::{check_name, io, traversable, ImageError};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct IsoStore {
    root: PathBuf,
}

impl IsoStore {
    pub fn new(data_dir: &Path) -> IsoStore {
        IsoStore { root: data_dir.join("isos") }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The file of ISO `name`, if it has one.
    pub fn get(&self, name: &str) -> Option<PathBuf> {
        check_name(name).ok()?;
        let path = self.root.join(name);
        path.is_file().then_some(path)
    }

    /// Copies `file` in as ISO `name` (replacing an earlier file of that name whole).
    pub fn import(&self, file: &Path, name: &str) -> Result<PathBuf, ImageError> {
        use std::os::unix::fs::PermissionsExt;
        check_name(name)?;
        if !file.is_file() {
            return Err(ImageError::Invalid(format!("{}: no such file", file.display())));
        }
        std::fs::create_dir_all(&self.root).map_err(io(&self.root))?;
        traversable(&self.root)?;
        let partial = self.root.join(format!(".{name}.partial"));
        let target = self.root.join(name);
        let copied = std::fs::copy(file, &partial)
            .and_then(|_| std::fs::set_permissions(&partial, std::fs::Permissions::from_mode(0o644)))
            .and_then(|()| std::fs::rename(&partial, &target));
        if let Err(e) = copied {
            let _ = std::fs::remove_file(&partial);
            return Err(io(&target)(e));
        }
        Ok(target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_imported_iso_is_found_by_name_and_others_are_not() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = IsoStore::new(dir.path());
        assert_eq!(store.get("tools.iso"), None);
        let source = dir.path().join("source.iso");
        std::fs::write(&source, b"CD001").expect("write");
        let path = store.import(&source, "tools.iso").expect("import");
        assert_eq!(store.get("tools.iso"), Some(path.clone()));
        assert_eq!(std::fs::read(&path).expect("read"), b"CD001");
        assert_eq!(store.get("../source.iso"), None, "names cannot leave the store");
        assert!(store.import(&source, "../x").is_err());
        assert!(store.import(&dir.path().join("missing.iso"), "missing.iso").is_err());
    }
}
