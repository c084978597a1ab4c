//! Settings: merging command-line flags, `STRATUS_*` environment variables, the TOML
//! config file and the built-in defaults into one resolved value.
//!
//! Precedence, highest first: flag > environment variable > config file > default.
//! clap already resolves the first two (each flag is declared with its `env`), so what
//! reaches this module is "given on the command line or in the environment" (`Some`) or
//! not (`None`); the config file then fills the gaps and the defaults the rest. Keeping
//! the merge a pure function of parsed values is what lets it be unit-tested without
//! touching the process environment.

use crate::cli::{GlobalArgs, ServeArgs};
use ipnet::{Ipv4Net, Ipv6Net};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use stratus_compute::sim::SimTiming;
use stratus_core::config::LocalCa;
use stratus_core::Config;

/// Where `serve` listens when nothing says otherwise: loopback only, so a first start
/// never exposes an API to the network by accident.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// The data directory when nothing says otherwise, relative to the working directory.
/// Chosen over `$XDG_DATA_HOME/stratus` because it is visible and predictable when trying
/// Stratus out from a checkout; services should set `--data-dir` explicitly.
pub const DEFAULT_DATA_DIR: &str = "data";
/// The local system hypervisor.
pub const DEFAULT_LIBVIRT_URI: &str = "qemu:///system";
/// Where Debian's `novnc` package puts noVNC.
pub const DEFAULT_NOVNC_DIR: &str = "/usr/share/novnc";
/// Public IPv4s of servers under the libvirt driver: loopback addresses whose ports 22,
/// 80 and 443 are forwarded to each guest.
pub const DEFAULT_LIBVIRT_IPV4_POOL: &str = "127.100.0.0/16";

/// The compute driver behind the control plane.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum DriverKind {
    /// The built-in simulator: no VMs run, every operation is pretended.
    #[default]
    Sim,
    /// Real VMs: QEMU, managed through libvirt (`--libvirt-uri`).
    Libvirt,
}

/// The config file (`--config FILE`), TOML. Every key is optional and named like its flag
/// with `_` for `-`; unknown keys are refused, so a typo fails loudly instead of being
/// silently ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<SocketAddr>,
    /// Relative paths are taken relative to the config file's directory, so a config file
    /// means the same thing whichever directory `stratus` is started from.
    pub data_dir: Option<PathBuf>,
    pub driver: Option<DriverKind>,
    pub libvirt_uri: Option<String>,
    pub novnc_dir: Option<PathBuf>,
    pub sim_timing: Option<SimTiming>,
    pub rate_limit: Option<u32>,
    pub resource_limit: Option<u32>,
    pub ipv4_pool: Option<Ipv4Net>,
    pub ipv6_pool: Option<Ipv6Net>,
    pub action_workers: Option<usize>,
    pub action_retention_days: Option<u32>,
    pub spread_group_limit: Option<u32>,
    /// Relative to the config file's directory, as `data_dir` is.
    pub local_ca: Option<PathBuf>,
}

/// Why settings could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read config file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("invalid config file {path}: {source}")]
    Parse { path: PathBuf, source: Box<toml::de::Error> },
    #[error("invalid local CA in {dir}: {why}")]
    LocalCa { dir: PathBuf, why: String },
}

impl FileConfig {
    /// Reads and parses a config file, resolving a relative `data_dir` against the
    /// file's directory.
    pub fn load(path: &Path) -> Result<FileConfig, SettingsError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| SettingsError::Read { path: path.to_owned(), source })?;
        let mut config = FileConfig::parse(&text)
            .map_err(|source| SettingsError::Parse { path: path.to_owned(), source: Box::new(source) })?;
        if let Some(base) = path.parent() {
            for dir in [&mut config.data_dir, &mut config.local_ca, &mut config.novnc_dir].into_iter().flatten() {
                if dir.is_relative() {
                    *dir = base.join(&*dir);
                }
            }
        }
        Ok(config)
    }

    pub fn parse(text: &str) -> Result<FileConfig, toml::de::Error> {
        toml::from_str(text)
    }

    /// The config file named by `--config` / `STRATUS_CONFIG`, or an empty one. There is
    /// no implicit default path: a file that silently changes behaviour just by being
    /// present in the working directory is a debugging trap.
    pub fn from_args(global: &GlobalArgs) -> Result<FileConfig, SettingsError> {
        match &global.config {
            Some(path) => FileConfig::load(path),
            None => Ok(FileConfig::default()),
        }
    }
}

/// Everything `serve` runs with, resolved.
#[derive(Debug, Clone)]
pub struct ServeSettings {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub driver: DriverKind,
    /// Where the libvirt driver's hypervisor is.
    pub libvirt_uri: String,
    /// noVNC's files, served at `/novnc/`.
    pub novnc_dir: PathBuf,
    pub sim_timing: SimTiming,
    /// The directory of the local CA (`ca.pem`, `ca.key`), read by [`ServeSettings::load`].
    pub local_ca: Option<PathBuf>,
    /// The core's knobs: rate limit, resource limit, address pools, the local CA.
    pub core: Config,
}

impl ServeSettings {
    /// Merges flags/environment (`global`, `serve`) over the config file over defaults.
    pub fn resolve(global: &GlobalArgs, serve: &ServeArgs, file: FileConfig) -> ServeSettings {
        let defaults = Config::default();
        let driver = serve.driver.or(file.driver).unwrap_or_default();
        // Servers under libvirt are reached at their public address from this host, so by
        // default those addresses are loopback ones (see the libvirt driver).
        let ipv4_pool = match driver {
            DriverKind::Sim => defaults.ipv4_pool,
            DriverKind::Libvirt => DEFAULT_LIBVIRT_IPV4_POOL.parse().expect("the default pool is valid"),
        };
        ServeSettings {
            listen: serve.listen.or(file.listen).unwrap_or_else(default_listen),
            data_dir: data_dir(global, &file),
            driver,
            libvirt_uri: serve
                .libvirt_uri
                .clone()
                .or(file.libvirt_uri)
                .unwrap_or_else(|| DEFAULT_LIBVIRT_URI.to_owned()),
            novnc_dir: serve.novnc_dir.clone().or(file.novnc_dir).unwrap_or_else(|| DEFAULT_NOVNC_DIR.into()),
            sim_timing: serve.sim_timing.or(file.sim_timing).unwrap_or_default(),
            local_ca: serve.local_ca.clone().or(file.local_ca),
            core: Config {
                ipv4_pool: serve.ipv4_pool.or(file.ipv4_pool).unwrap_or(ipv4_pool),
                ipv6_pool: serve.ipv6_pool.or(file.ipv6_pool).unwrap_or(defaults.ipv6_pool),
                rate_limit: serve.rate_limit.or(file.rate_limit).unwrap_or(defaults.rate_limit),
                resource_limit: serve.resource_limit.or(file.resource_limit).unwrap_or(defaults.resource_limit),
                action_workers: serve.action_workers.or(file.action_workers).unwrap_or(defaults.action_workers),
                action_retention: serve
                    .action_retention_days
                    .or(file.action_retention_days)
                    .map_or(defaults.action_retention, |days| std::time::Duration::from_secs(u64::from(days) * 86_400)),
                spread_group_limit: serve
                    .spread_group_limit
                    .or(file.spread_group_limit)
                    .unwrap_or(defaults.spread_group_limit),
                local_ca: None,
                // The data directory's own, read when it is opened (`DataDir::open_cloud`).
                installation_key: defaults.installation_key,
            },
        }
    }

    /// [`ServeSettings::resolve`], then reads the files the settings name (the local CA),
    /// so a bad one stops `serve` before anything starts.
    pub fn load(global: &GlobalArgs, serve: &ServeArgs, file: FileConfig) -> Result<ServeSettings, SettingsError> {
        let mut settings = ServeSettings::resolve(global, serve, file);
        settings.core.local_ca = settings.local_ca.as_deref().map(load_local_ca).transpose()?;
        Ok(settings)
    }
}

/// The CA in `dir`: its certificate `ca.pem` and its PKCS#8 key `ca.key`.
pub fn load_local_ca(dir: &Path) -> Result<LocalCa, SettingsError> {
    let fail = |why: String| SettingsError::LocalCa { dir: dir.to_owned(), why };
    let read =
        |name: &str| std::fs::read_to_string(dir.join(name)).map_err(|e| fail(format!("cannot read {name}: {e}")));
    LocalCa::new(read("ca.pem")?, read("ca.key")?).map_err(fail)
}

/// The data directory: flag/env, then config file, then [`DEFAULT_DATA_DIR`]. Admin
/// commands use the same rule as `serve`, so both find the same directory.
pub fn data_dir(global: &GlobalArgs, file: &FileConfig) -> PathBuf {
    global.data_dir.clone().or_else(|| file.data_dir.clone()).unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR))
}

fn default_listen() -> SocketAddr {
    DEFAULT_LISTEN.parse().expect("the default listen address is valid")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    /// Parses a `serve` command line. These tests never set `STRATUS_*` variables, so
    /// `Some` here always means "given as a flag"; the environment layer is clap's and is
    /// covered by the binary's integration tests, which set it per child process.
    fn serve(args: &[&str]) -> (GlobalArgs, ServeArgs) {
        let cli =
            Cli::try_parse_from(std::iter::once("stratus").chain(std::iter::once("serve")).chain(args.iter().copied()))
                .expect("valid command line");
        match cli.command {
            Command::Serve(serve) => (cli.global, serve),
            other => panic!("parsed {other:?}"),
        }
    }

    const FILE: &str = r#"
        listen = "127.0.0.1:9000"
        data_dir = "/var/lib/stratus"
        driver = "sim"
        sim_timing = "instant"
        rate_limit = 2
        resource_limit = 5
        ipv4_pool = "203.0.113.0/24"
        ipv6_pool = "2001:db8:1::/48"
    "#;

    #[test]
    fn defaults_when_nothing_is_given() {
        let (global, args) = serve(&[]);
        let s = ServeSettings::resolve(&global, &args, FileConfig::default());
        assert_eq!(s.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(s.data_dir, PathBuf::from("data"));
        assert_eq!(s.driver, DriverKind::Sim);
        assert_eq!(s.sim_timing, SimTiming::Realistic);
        assert_eq!(s.core.rate_limit, 3600);
        assert_eq!(s.core.resource_limit, 0);
        assert_eq!(s.core.ipv4_pool, Config::default().ipv4_pool);
        assert_eq!(s.core.ipv6_pool, Config::default().ipv6_pool);
    }

    #[test]
    fn config_file_overrides_defaults() {
        let (global, args) = serve(&[]);
        let s = ServeSettings::resolve(&global, &args, FileConfig::parse(FILE).unwrap());
        assert_eq!(s.listen.to_string(), "127.0.0.1:9000");
        assert_eq!(s.data_dir, PathBuf::from("/var/lib/stratus"));
        assert_eq!(s.sim_timing, SimTiming::Instant);
        assert_eq!(s.core.rate_limit, 2);
        assert_eq!(s.core.resource_limit, 5);
        assert_eq!(s.core.ipv4_pool.to_string(), "203.0.113.0/24");
        assert_eq!(s.core.ipv6_pool.to_string(), "2001:db8:1::/48");
    }

    #[test]
    fn flags_override_config_file() {
        let (global, args) = serve(&[
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            "/tmp/x",
            "--sim-timing",
            "realistic",
            "--rate-limit",
            "0",
            "--resource-limit",
            "7",
            "--ipv4-pool",
            "198.51.100.0/24",
        ]);
        let s = ServeSettings::resolve(&global, &args, FileConfig::parse(FILE).unwrap());
        assert_eq!(s.listen.to_string(), "127.0.0.1:0");
        assert_eq!(s.data_dir, PathBuf::from("/tmp/x"));
        assert_eq!(s.sim_timing, SimTiming::Realistic);
        assert_eq!(s.core.rate_limit, 0);
        assert_eq!(s.core.resource_limit, 7);
        assert_eq!(s.core.ipv4_pool.to_string(), "198.51.100.0/24");
        // Not given as a flag: still the file's.
        assert_eq!(s.core.ipv6_pool.to_string(), "2001:db8:1::/48");
    }

    #[test]
    fn data_dir_flag_is_global() {
        let cli = Cli::try_parse_from(["stratus", "--data-dir", "/a", "token", "list"]).unwrap();
        assert_eq!(data_dir(&cli.global, &FileConfig::default()), PathBuf::from("/a"));
        let cli = Cli::try_parse_from(["stratus", "token", "create", "--data-dir", "/b"]).unwrap();
        assert_eq!(data_dir(&cli.global, &FileConfig::parse("data_dir = '/c'").unwrap()), PathBuf::from("/b"));
        let cli = Cli::try_parse_from(["stratus", "token", "create"]).unwrap();
        assert_eq!(data_dir(&cli.global, &FileConfig::parse("data_dir = '/c'").unwrap()), PathBuf::from("/c"));
    }

    #[test]
    fn config_file_is_strict() {
        let err = FileConfig::parse("rate_limt = 3").unwrap_err().to_string();
        assert!(err.contains("rate_limt"), "{err}");
        assert!(FileConfig::parse("driver = 'vmware'").is_err());
        assert!(FileConfig::parse("sim_timing = 'slow'").is_err());
        assert!(FileConfig::parse("ipv4_pool = 'not-a-net'").is_err());
        assert!(FileConfig::parse("listen = 'nowhere'").is_err());
    }

    /// A CA's `ca.pem` and `ca.key` in `dir`.
    fn write_ca(dir: &Path) {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        std::fs::write(dir.join("ca.pem"), params.self_signed(&key).unwrap().pem()).unwrap();
        std::fs::write(dir.join("ca.key"), key.serialize_pem()).unwrap();
    }

    #[test]
    fn the_local_ca_comes_from_a_flag_or_the_file_and_is_read_at_load() {
        let dir = tempfile::tempdir().unwrap();
        let (global, args) = serve(&[]);
        let s = ServeSettings::load(&global, &args, FileConfig::default()).unwrap();
        assert!(s.local_ca.is_none() && s.core.local_ca.is_none(), "none by default");

        let ca = dir.path().join("ca");
        std::fs::create_dir(&ca).unwrap();
        write_ca(&ca);
        let config = dir.path().join("stratus.toml");
        std::fs::write(&config, "local_ca = 'ca'\n").unwrap();
        let file = FileConfig::load(&config).unwrap();
        assert_eq!(file.local_ca, Some(ca.clone()), "relative to the config file");
        let s = ServeSettings::load(&global, &args, file.clone()).unwrap();
        assert_eq!(
            s.core.local_ca.as_ref().map(|c| c.certificate_pem()),
            std::fs::read_to_string(ca.join("ca.pem")).ok().as_deref()
        );

        // The flag wins over the file; a directory without a valid CA stops the start.
        let elsewhere = dir.path().join("empty");
        std::fs::create_dir(&elsewhere).unwrap();
        let (global, args) = serve(&["--local-ca", elsewhere.to_str().unwrap()]);
        assert_eq!(ServeSettings::resolve(&global, &args, file.clone()).local_ca, Some(elsewhere.clone()));
        let err = ServeSettings::load(&global, &args, file.clone()).unwrap_err().to_string();
        assert!(err.contains("ca.pem") && err.contains("empty"), "{err}");
        std::fs::write(elsewhere.join("ca.pem"), "not a certificate").unwrap();
        std::fs::write(elsewhere.join("ca.key"), "not a key").unwrap();
        let err = ServeSettings::load(&global, &args, file).unwrap_err().to_string();
        assert!(err.contains("invalid local CA"), "{err}");
    }

    #[test]
    fn relative_data_dir_in_file_is_relative_to_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stratus.toml");
        std::fs::write(&path, "data_dir = 'state'\nrate_limit = 9\n").unwrap();
        let file = FileConfig::load(&path).unwrap();
        assert_eq!(file.data_dir, Some(dir.path().join("state")));
        assert_eq!(file.rate_limit, Some(9));

        let missing = FileConfig::load(&dir.path().join("nope.toml")).unwrap_err().to_string();
        assert!(missing.contains("nope.toml"), "{missing}");
    }
}
