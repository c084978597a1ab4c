//! The data directory: its layout, and the lock that makes one process its owner.
//!
//! ```text
//! DATA_DIR/stratus.db     the SQLite store (plus -wal and -shm beside it)
//! DATA_DIR/stratus.lock   held (flock) by the process that has the store open
//! DATA_DIR/admin.sock     the running server's admin socket
//! DATA_DIR/installation.key   32 random bytes that seal the secrets in the database
//! ```
//!
//! Core keeps the whole working set in memory and writes through, so two processes
//! with the same store open would each serve a state the other silently diverges from.
//! The lock rules that out: `serve` holds it for its lifetime, and an admin command
//! takes it only when no server answers on the admin socket.

use std::fs::{DirBuilder, File, OpenOptions, Permissions, TryLockError};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use stratus_compute::Driver;
use stratus_core::keyring::InstallationKey;
use stratus_core::{Cloud, Config};
use stratus_store::SqliteStore;

const DB_FILE: &str = "stratus.db";
const LOCK_FILE: &str = "stratus.lock";
const SOCKET_FILE: &str = "admin.sock";
const KEY_FILE: &str = "installation.key";

pub fn db_path(dir: &Path) -> PathBuf {
    dir.join(DB_FILE)
}

pub fn lock_path(dir: &Path) -> PathBuf {
    dir.join(LOCK_FILE)
}

pub fn socket_path(dir: &Path) -> PathBuf {
    dir.join(SOCKET_FILE)
}

#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    #[error("cannot create data directory {path}: {source}")]
    Create { path: PathBuf, source: std::io::Error },
    #[error("cannot lock {path}: {source}")]
    Lock { path: PathBuf, source: std::io::Error },
    #[error(
        "data directory {dir} is in use by another stratus process ({}holding {lock})",
        pid.map(|p| format!("pid {p}, ")).unwrap_or_default()
    )]
    Busy { dir: PathBuf, lock: PathBuf, pid: Option<u32> },
    #[error("cannot open the store: {0}")]
    Store(#[from] stratus_core::store::StoreError),
    #[error("cannot load the cloud from the store: {0}")]
    Cloud(#[from] stratus_core::Error),
    #[error("cannot read or make the installation key {path}: {source}")]
    Key { path: PathBuf, source: std::io::Error },
    #[error("the installation key {path} is damaged: {source}")]
    BadKey { path: PathBuf, source: stratus_core::keyring::KeyringError },
}

/// An exclusively owned data directory. The lock is held until this is dropped (or the
/// process ends: the kernel releases it even after `kill -9`, so there is no stale lock
/// to clean up by hand).
#[derive(Debug)]
pub struct DataDir {
    path: PathBuf,
    _lock: File,
}

impl DataDir {
    /// Creates the directory if needed and takes its lock; [`DataDirError::Busy`] if
    /// another process holds it. The directory is made private (0700) whether it is new
    /// or not: it holds the database, with every server's user data (often secrets), and
    /// the admin socket, which grants full control. The one exception is `0711`, which
    /// the libvirt driver sets so that QEMU (another user) can pass through to the VM
    /// disks it is given; it lists nothing and reads nothing else, and is kept.
    pub fn create_and_lock(path: &Path) -> Result<DataDir, DataDirError> {
        let create_err = |source| DataDirError::Create { path: path.to_owned(), source };
        DirBuilder::new().recursive(true).mode(0o700).create(path).map_err(create_err)?;
        let mode = std::fs::metadata(path).map_err(create_err)?.permissions().mode() & 0o777;
        if mode != 0o700 && mode != 0o711 {
            std::fs::set_permissions(path, Permissions::from_mode(0o700)).map_err(create_err)?;
        }
        let lock_path = lock_path(path);
        let lock_err = |source| DataDirError::Lock { path: lock_path.clone(), source };
        // Not truncated on open: until we hold the lock, the pid inside is the holder's.
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&lock_path)
            .map_err(lock_err)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut text = String::new();
                let pid = file.read_to_string(&mut text).ok().and_then(|_| text.trim().parse().ok());
                return Err(DataDirError::Busy { dir: path.to_owned(), lock: lock_path, pid });
            }
            Err(TryLockError::Error(e)) => return Err(lock_err(e)),
        }
        // The holder's pid, for the message a second process prints.
        file.set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| writeln!(file, "{}", std::process::id()))
            .map_err(lock_err)?;
        Ok(DataDir { path: path.to_owned(), _lock: file })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Opens the store and loads the cloud from it, without starting anything: no action
    /// runs and no schedule ticks until the caller calls [`Cloud::start`].
    pub async fn open_cloud(&self, driver: Arc<dyn Driver>, mut config: Config) -> Result<Cloud, DataDirError> {
        config.installation_key = self.installation_key()?;
        let db = db_path(&self.path);
        private_files(&db).map_err(|source| DataDirError::Create { path: db.clone(), source })?;
        let store = SqliteStore::open(&db).await?;
        Ok(Cloud::open(Arc::new(store), driver, config).await?)
    }

    /// The installation's key, made on first use. It lives beside the database, not in
    /// it, so that a copy of the database (a backup, a bug report) opens no secret; the
    /// data directory's own backups must include it.
    fn installation_key(&self) -> Result<InstallationKey, DataDirError> {
        let path = self.path.join(KEY_FILE);
        let key_err = |source| DataDirError::Key { path: path.clone(), source };
        match std::fs::read(&path) {
            Ok(bytes) => InstallationKey::from_bytes(&bytes)
                .map_err(|source| DataDirError::BadKey { path: path.clone(), source }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = InstallationKey::generate();
                // Written aside and renamed, so a crash never leaves half a key behind.
                let partial = self.path.join(format!("{KEY_FILE}.new"));
                let mut file = OpenOptions::new()
                    .write(true)
                    .create(true)
                    .truncate(true)
                    .mode(0o600)
                    .open(&partial)
                    .map_err(key_err)?;
                file.write_all(&key.to_bytes()).and_then(|()| file.sync_all()).map_err(key_err)?;
                std::fs::rename(&partial, &path).map_err(key_err)?;
                File::open(&self.path).and_then(|dir| dir.sync_all()).map_err(key_err)?;
                Ok(key)
            }
            Err(e) => Err(key_err(e)),
        }
    }
}

/// Makes the database and its WAL and shared-memory files readable by their owner only
/// (0600), creating the database file so that SQLite never creates it with looser
/// permissions (it gives the WAL and SHM files the database file's mode).
fn private_files(db: &Path) -> std::io::Result<()> {
    OpenOptions::new().write(true).create(true).truncate(false).mode(0o600).open(db)?;
    for suffix in ["", "-wal", "-shm"] {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        match std::fs::set_permissions(&name, Permissions::from_mode(0o600)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_directory_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("nested").join("data");
        let first = DataDir::create_and_lock(&dir).unwrap();
        match DataDir::create_and_lock(&dir) {
            Err(DataDirError::Busy { pid, .. }) => assert_eq!(pid, Some(std::process::id())),
            other => panic!("expected Busy, got {other:?}"),
        }
        drop(first);
        DataDir::create_and_lock(&dir).expect("the lock is released on drop");
    }

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[tokio::test]
    async fn the_directory_and_the_database_are_private() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("data");
        // An existing, world-readable directory is made private too.
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, Permissions::from_mode(0o755)).unwrap();
        let held = DataDir::create_and_lock(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&lock_path(&dir)), 0o600);
        let driver = Arc::new(stratus_compute::sim::SimDriver::new(stratus_compute::sim::SimTiming::Instant));
        let cloud = held.open_cloud(driver, Config::default()).await.unwrap();
        cloud.project_create("p").await.unwrap();
        for f in ["stratus.db", "stratus.db-wal", "stratus.db-shm", "installation.key"] {
            let path = dir.join(f);
            assert!(path.exists(), "{f}");
            assert_eq!(mode(&path), 0o600, "{f}");
        }
    }

    #[test]
    fn the_installation_key_is_made_once_and_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let held = DataDir::create_and_lock(tmp.path()).unwrap();
        let key = held.installation_key().unwrap();
        assert_eq!(std::fs::read(tmp.path().join(KEY_FILE)).unwrap(), key.to_bytes());
        assert_eq!(held.installation_key().unwrap(), key, "read back, not made again");
        std::fs::write(tmp.path().join(KEY_FILE), b"short").unwrap();
        assert!(matches!(held.installation_key(), Err(DataDirError::BadKey { .. })), "a damaged key is an error");
    }
}
