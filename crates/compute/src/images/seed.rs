//! The NoCloud seed a VM boots with: a small FAT volume labelled `CIDATA` holding
//! `meta-data`, `user-data`, `vendor-data` and `network-config`, the layout cloud-init's
//! NoCloud data source reads (and the small image's init reads the same files).

use super::ImageError;
use std::io::Write;
use std::path::Path;

/// The seed's size: FAT12 needs no more for a few KB of files.
const SEED_BYTES: u64 = 1 << 20;

/// What a guest is told at first boot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seed {
    /// Changes whenever the disk is a new instance (create, rebuild): cloud-init runs its
    /// once-per-instance work (keys, password, user data) again.
    pub instance_id: String,
    pub hostname: String,
    pub ssh_keys: Vec<String>,
    /// Set for root when no SSH key is given.
    pub root_password: Option<String>,
    pub user_data: Option<String>,
    /// The MAC address of the public interface, configured by DHCP.
    pub mac: Option<String>,
}

impl Seed {
    /// YAML strings written as JSON strings (valid YAML), so no key comment or
    /// hostname can break the document.
    fn meta_data(&self) -> String {
        let mut out = format!("instance-id: {}\nlocal-hostname: {}\n", quote(&self.instance_id), quote(&self.hostname));
        if !self.ssh_keys.is_empty() {
            out.push_str("public-keys:\n");
            for key in &self.ssh_keys {
                out.push_str(&format!("  - {}\n", quote(key.trim())));
            }
        }
        out
    }

    /// Root may log in (Debian's cloud-init refuses root by default; Hetzner's images
    /// allow it), with the password when there is one.
    fn vendor_data(&self) -> String {
        let mut out = String::from("#cloud-config\ndisable_root: false\n");
        if let Some(password) = &self.root_password {
            out.push_str(
                "ssh_pwauth: true\nchpasswd:\n  expire: false\n  users:\n    - name: root\n      type: text\n",
            );
            out.push_str(&format!("      password: {}\n", quote(password)));
        }
        out
    }

    fn network_config(&self) -> String {
        match &self.mac {
            Some(mac) => format!(
                "version: 2\nethernets:\n  public:\n    match:\n      macaddress: {}\n    dhcp4: true\n",
                quote(mac)
            ),
            None => "version: 2\nethernets:\n  all:\n    match:\n      name: \"e*\"\n    dhcp4: true\n".into(),
        }
    }
}

fn quote(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

/// Writes the seed volume to `path` (replacing it), readable by its owner only: it may
/// hold a root password.
pub fn write_seed(path: &Path, seed: &Seed) -> Result<(), ImageError> {
    use std::os::unix::fs::OpenOptionsExt;
    let fail = |e: std::io::Error| ImageError::Io { path: path.to_owned(), source: e };
    let _ = std::fs::remove_file(path);
    let mut file =
        std::fs::OpenOptions::new().read(true).write(true).create_new(true).mode(0o600).open(path).map_err(fail)?;
    file.set_len(SEED_BYTES).map_err(fail)?;
    fatfs::format_volume(&mut file, fatfs::FormatVolumeOptions::new().volume_label(*b"CIDATA     ")).map_err(fail)?;
    let fs = fatfs::FileSystem::new(&mut file, fatfs::FsOptions::new()).map_err(fail)?;
    let root = fs.root_dir();
    let files = [
        ("meta-data", seed.meta_data()),
        ("user-data", seed.user_data.clone().unwrap_or_default()),
        ("vendor-data", seed.vendor_data()),
        ("network-config", seed.network_config()),
    ];
    for (name, contents) in files {
        let mut f = root.create_file(name).map_err(fail)?;
        f.truncate().map_err(fail)?;
        f.write_all(contents.as_bytes()).map_err(fail)?;
        f.flush().map_err(fail)?;
    }
    drop(root);
    fs.unmount().map_err(fail)?;
    file.sync_all().map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn read(path: &Path, name: &str) -> String {
        let file = std::fs::File::open(path).unwrap();
        let fs = fatfs::FileSystem::new(file, fatfs::FsOptions::new()).unwrap();
        assert_eq!(fs.volume_label().trim_end(), "CIDATA");
        let mut text = String::new();
        fs.root_dir().open_file(name).unwrap().read_to_string(&mut text).unwrap();
        text
    }

    #[test]
    fn the_seed_holds_nocloud_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("seed.img");
        let seed = Seed {
            instance_id: "stratus-7-1".into(),
            hostname: "web-1".into(),
            ssh_keys: vec!["ssh-ed25519 AAAA \"quoted\" comment".into()],
            root_password: Some("s3cret".into()),
            user_data: Some("#!/bin/sh\necho hi\n".into()),
            mac: Some("52:54:00:00:00:07".into()),
        };
        write_seed(&path, &seed).unwrap();
        let meta = read(&path, "meta-data");
        assert!(meta.contains("instance-id: \"stratus-7-1\""));
        assert!(meta.contains("local-hostname: \"web-1\""));
        assert!(meta.contains("  - \"ssh-ed25519 AAAA \\\"quoted\\\" comment\""));
        assert_eq!(read(&path, "user-data"), "#!/bin/sh\necho hi\n");
        assert!(read(&path, "vendor-data").contains("password: \"s3cret\""));
        assert!(read(&path, "network-config").contains("macaddress: \"52:54:00:00:00:07\""));
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        // Written again (rebuild), it is replaced, not appended to.
        write_seed(&path, &Seed { user_data: None, ..seed }).unwrap();
        assert_eq!(read(&path, "user-data"), "");
    }
}
