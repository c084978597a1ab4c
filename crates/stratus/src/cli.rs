//! The command line, as clap parses it. Only syntax lives here: what the values mean is
//! decided in `settings` (merging) and `admin` (requests).
//!
//! The subcommand and flag names are a contract (issue 2: users' scripts and later issues
//! rely on them), so rename nothing here without a deprecation path.

use crate::admin::protocol::CatalogKind;
use crate::settings::DriverKind;
use clap::{Args, Parser, Subcommand, ValueEnum};
use ipnet::{Ipv4Net, Ipv6Net};
use std::net::SocketAddr;
use std::path::PathBuf;
use stratus_compute::sim::SimTiming;
use stratus_core::model::{ApiRefusal, StepRef};

/// A self-hosted cloud control plane that speaks real providers' APIs.
#[derive(Debug, Parser)]
#[command(name = "stratus", version, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand takes, so `serve` and the admin commands agree on where the
/// data lives.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Directory holding the database (stratus.db), the lock file and the admin socket
    /// [default: ./data, relative to the working directory]
    #[arg(long, global = true, env = "STRATUS_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// TOML config file with any of serve's settings (keys named like the flags, with
    /// `_` for `-`); flags and STRATUS_* variables take precedence over it
    #[arg(long, global = true, env = "STRATUS_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Log filter, e.g. `debug` or `stratus=debug,tower_http=info` (overrides RUST_LOG)
    /// [default: info for serve, warn for admin commands]; logs go to stderr
    #[arg(long, global = true, env = "STRATUS_LOG_LEVEL", value_name = "FILTER")]
    pub log_level: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the control plane: the provider APIs over HTTP, and the admin socket
    #[command(long_about = SERVE_ABOUT)]
    Serve(ServeArgs),
    /// Build, import and list the images servers boot from (the libvirt driver)
    #[command(subcommand)]
    Image(ImageCommand),
    /// Check whether this host can run real servers (libvirt, KVM or TCG, tools, images,
    /// noVNC); exits non-zero when a check fails
    Doctor(DoctorArgs),
    #[command(flatten)]
    Admin(AdminCommand),
}

/// What `stratus doctor` checks: the settings `serve` would use (flags, `STRATUS_*`, the
/// config file).
#[derive(Debug, Clone, Args)]
pub struct DoctorArgs {
    /// The libvirt connection to check [default: qemu:///system]
    #[arg(long, env = "STRATUS_LIBVIRT_URI", value_name = "URI")]
    pub libvirt_uri: Option<String>,
    /// noVNC's files [default: /usr/share/novnc]
    #[arg(long, env = "STRATUS_NOVNC_DIR", value_name = "DIR")]
    pub novnc_dir: Option<PathBuf>,
}

/// The commands that manage a data directory, with or without a server running on it.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Manage API tokens
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manage users who log in with a password (Cloude.ro)
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API keys that sign requests (e24cloud)
    #[command(subcommand)]
    Apikey(ApiKeyCommand),
    /// Manage projects (tenants)
    #[command(subcommand)]
    Project(ProjectCommand),
    /// Manage the catalogue: locations, datacenters, server types, images, ISOs
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// Inject failures to test automation against them (simulator)
    #[command(subcommand)]
    Fault(FaultCommand),
    /// Control the simulator's clock
    #[command(subcommand)]
    Sim(SimCommand),
    /// Inspect running actions and resolve stuck ones
    #[command(subcommand)]
    Action(ActionCommand),
}

const SERVE_ABOUT: &str = "\
Run the control plane: the provider APIs over HTTP (Hetzner at /hetzner/v1), GET /healthz, \
the console websocket at /console/{token}, and the admin socket DATA_DIR/admin.sock that the \
admin commands use while the server runs.

On first start (no project in the store yet) a project `default` and a token for it are \
created, and the token is printed once as `token: <SECRET>`; only its hash is stored.

Every setting is taken from, highest precedence first: its flag, its STRATUS_* environment \
variable, the config file (--config), the default.";

/// `serve`'s settings. Every one is optional here: what is missing is filled from the
/// config file and then the defaults (see `settings`).
#[derive(Debug, Clone, Default, Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free one (the actual address is printed)
    /// [default: 127.0.0.1:8080]
    #[arg(long, env = "STRATUS_LISTEN", value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Compute driver [default: sim]
    #[arg(long, env = "STRATUS_DRIVER", value_enum)]
    pub driver: Option<DriverKind>,
    /// The libvirt connection of `--driver libvirt` [default: qemu:///system]
    #[arg(long, env = "STRATUS_LIBVIRT_URI", value_name = "URI")]
    pub libvirt_uri: Option<String>,
    /// noVNC's files, served at `/novnc/` for browser consoles (Debian's `novnc` package)
    /// [default: /usr/share/novnc]
    #[arg(long, env = "STRATUS_NOVNC_DIR", value_name = "DIR")]
    pub novnc_dir: Option<PathBuf>,
    /// Simulator pace: `realistic` (seconds per operation, with progress) or `instant`
    /// (for tests) [default: realistic]
    #[arg(long, env = "STRATUS_SIM_TIMING", value_name = "realistic|instant")]
    pub sim_timing: Option<SimTiming>,
    /// API requests per hour per token; 0 turns rate limiting off [default: 3600]
    #[arg(long, env = "STRATUS_RATE_LIMIT", value_name = "N")]
    pub rate_limit: Option<u32>,
    /// Most resources of each kind per project (servers, IPs, SSH keys, snapshots,
    /// volumes, networks, firewalls, placement groups, load balancers, certificates); 0
    /// means unlimited [default: 0]
    #[arg(long, env = "STRATUS_RESOURCE_LIMIT", value_name = "N")]
    pub resource_limit: Option<u32>,
    /// IPv4 block servers and floating IPs get addresses from [default: 198.18.0.0/15;
    /// 127.100.0.0/16 with --driver libvirt]
    #[arg(long, env = "STRATUS_IPV4_POOL", value_name = "CIDR")]
    pub ipv4_pool: Option<Ipv4Net>,
    /// IPv6 prefix each server and IPv6 floating IP gets a /64 from [default: 2001:db8::/32]
    #[arg(long, env = "STRATUS_IPV6_POOL", value_name = "CIDR")]
    pub ipv6_pool: Option<Ipv6Net>,
    /// Actions that run at once; more wait their turn [default: 256]
    #[arg(long, env = "STRATUS_ACTION_WORKERS", value_name = "N")]
    pub action_workers: Option<usize>,
    /// Days finished actions are kept; 0 keeps them forever [default: 90]
    #[arg(long, env = "STRATUS_ACTION_RETENTION_DAYS", value_name = "DAYS")]
    pub action_retention_days: Option<u32>,
    /// Servers a spread placement group may hold (hosts it may spread over) [default: 10]
    #[arg(long, env = "STRATUS_SPREAD_GROUP_LIMIT", value_name = "N")]
    pub spread_group_limit: Option<u32>,
    /// Directory holding `ca.pem` and `ca.key` (PKCS#8): the certificate authority that
    /// signs managed certificates [default: none; their issuance fails]
    #[arg(long, env = "STRATUS_LOCAL_CA", value_name = "DIR")]
    pub local_ca: Option<PathBuf>,
}

/// How list commands print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns, for people.
    Table,
    /// One JSON object per line, for scripts.
    Json,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Issue a token and print it, alone, on stdout (creates the project if needed)
    Create {
        /// Project the token acts in
        #[arg(long, default_value = "default")]
        project: String,
        /// A label to tell tokens apart in `token list`
        #[arg(long, default_value = "cli")]
        name: String,
        /// The token may read but not change anything (writes answer `forbidden`)
        #[arg(long)]
        read_only: bool,
    },
    /// List tokens (never their secrets)
    List {
        /// Only this project's tokens
        #[arg(long)]
        project: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Revoke a token; it stops working with its next request
    Revoke {
        /// The token's id, as `token list` shows it
        id: i64,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user who logs in with a name and a password (creates the project if needed)
    Create {
        /// Project the user acts in
        #[arg(long, default_value = "default")]
        project: String,
        /// The login name, unique in the installation: 1-64 letters, digits, '-', '_', '.' or '@'
        #[arg(long)]
        name: String,
        /// Read the password (at least 8 characters) from standard input, up to its first newline
        #[arg(long, required = true)]
        password_stdin: bool,
        /// The user may read but not change anything
        #[arg(long)]
        read_only: bool,
    },
    /// List users (never their passwords)
    List {
        /// Only this project's users
        #[arg(long)]
        project: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Create an API key and print it and its secret, one per line (creates the project if needed)
    Create {
        /// Project the key acts in
        #[arg(long, default_value = "default")]
        project: String,
        /// The key may read but not change anything
        #[arg(long)]
        read_only: bool,
    },
    /// List API keys (their public halves, never their secrets)
    List {
        /// Only this project's keys
        #[arg(long)]
        project: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Revoke an API key; what it signs is refused from the next request on
    Revoke {
        /// The key's id, as `apikey list` shows it
        id: i64,
    },
}

#[derive(Debug, Subcommand)]
pub enum ProjectCommand {
    /// Create a project
    Create {
        /// 1-64 letters, digits, '-', '_' or '.'
        name: String,
    },
    /// List projects
    List {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// List the entries of one kind. JSON lines by default: the format `catalog put`
    /// reads, so entries can be listed, edited and put back
    List {
        #[arg(value_enum)]
        kind: CatalogKind,
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
    },
    /// Add or replace entries: JSON objects with a `kind` field (location, datacenter,
    /// server_type, image, iso) and the entry's fields; id 0 asks for a new id
    Put {
        /// One entry as JSON
        #[arg(long, value_name = "JSON", conflicts_with = "file", required_unless_present = "file")]
        json: Option<String>,
        /// A file with one or more entries (JSON values one after another, e.g. the
        /// output of `catalog list`); `-` reads stdin
        #[arg(long, value_name = "FILE")]
        file: Option<PathBuf>,
    },
    /// Remove an entry (refused while servers use it)
    Remove {
        #[arg(value_enum)]
        kind: CatalogKind,
        id: i64,
    },
    /// Show the price list (prices not tied to a server type: VAT, images, IPs,
    /// traffic, backups) as JSON, the format `set-prices` reads. Money is in
    /// billionths of the currency unit
    Prices,
    /// Replace the price list
    SetPrices {
        /// The price list as JSON
        #[arg(long, value_name = "JSON", conflicts_with = "file", required_unless_present = "file")]
        json: Option<String>,
        /// A file holding it; `-` reads stdin
        #[arg(long, value_name = "FILE")]
        file: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum FaultCommand {
    /// Make the next N actions of a kind fail
    Action {
        /// Hetzner's action command, e.g. create_server, start_server, create_image
        #[arg(long, required_unless_present = "kind", conflicts_with = "kind")]
        command: Option<String>,
        /// The core action kind, e.g. server_create (see `stratus action kinds`)
        #[arg(long)]
        kind: Option<String>,
        /// How many actions fail
        #[arg(long)]
        count: u32,
        /// The step to fail at, by 0-based position or by name (see `stratus action
        /// kinds`), after the earlier steps ran (their undo runs too) [default: the last]
        #[arg(long, value_name = "K|NAME", value_parser = parse_step)]
        step: Option<StepRef>,
        /// Error code the failed action reports
        #[arg(long, default_value = "action_failed")]
        code: String,
        /// Error message the failed action reports [default: injected failure]
        #[arg(long)]
        message: Option<String>,
    },
    /// Make the next N API requests fail with an error
    Api {
        /// rate_limit_exceeded or maintenance
        #[arg(long, value_parser = parse_refusal, value_name = "rate_limit_exceeded|maintenance")]
        code: ApiRefusal,
        /// How many requests are refused
        #[arg(long)]
        count: u32,
    },
    /// List armed faults
    List {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Disarm every fault
    Clear,
}

#[derive(Debug, Subcommand)]
pub enum SimCommand {
    /// Fast-forward the clock's schedule: take the backups of every window opening within
    /// the next N hours, and disable the rescue systems that would by then have waited an
    /// hour for a boot, now
    Advance {
        #[arg(long)]
        hours: u32,
    },
}

#[derive(Debug, Subcommand)]
pub enum ImageCommand {
    /// Build an image from Debian packages (through the host's apt) into DATA/images and
    /// add it to the catalogue: `small` (busybox and dropbear on Debian's cloud kernel;
    /// boots in seconds, for tests)
    Build {
        #[arg(value_parser = clap::builder::PossibleValuesParser::new(stratus_compute::images::RECIPES))]
        recipe: String,
    },
    /// Import a qcow2 or raw disk image (booting with its own boot loader) and add it to
    /// the catalogue
    Import {
        file: PathBuf,
        /// The image's name in the catalogue (`--image NAME` on create)
        #[arg(long)]
        name: String,
        #[arg(long)]
        description: Option<String>,
    },
    /// Import an ISO file for servers' virtual CD drives (`attach_iso`) into DATA/isos
    /// and add it to the catalogue's ISOs
    ImportIso {
        file: PathBuf,
        /// The ISO's name in the catalogue [default: the file's name]
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        description: Option<String>,
    },
    /// List the images in the store
    List {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

#[derive(Debug, Subcommand)]
pub enum ActionCommand {
    /// Running and stuck actions of every project
    List {
        /// Only stuck actions (an undo failed; their resources stay locked)
        #[arg(long)]
        stuck: bool,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Every action kind and its steps (what `fault action --kind/--step` take)
    Kinds {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Retry a stuck action's failed undo (after fixing what made it fail)
    Retry { id: i64 },
    /// Take a stuck action's failed undo as done by hand, and let the unwind go on
    Resolve { id: i64 },
}

fn parse_step(s: &str) -> Result<StepRef, String> {
    if s.is_empty() {
        return Err("give a step position or name".into());
    }
    Ok(s.parse::<usize>().map_or_else(|_| StepRef::Name(s.to_string()), StepRef::Index))
}

fn parse_refusal(s: &str) -> Result<ApiRefusal, String> {
    match s {
        "rate_limit_exceeded" => Ok(ApiRefusal::RateLimitExceeded),
        "maintenance" => Ok(ApiRefusal::Maintenance),
        _ => Err("expected rate_limit_exceeded or maintenance".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn fault_values_are_parsed_at_the_edge() {
        let cli =
            Cli::try_parse_from(["stratus", "fault", "action", "--command", "start_server", "--count", "2"]).unwrap();
        match cli.command {
            Command::Admin(AdminCommand::Fault(FaultCommand::Action { command, kind, count, step, code, message })) => {
                assert_eq!((command.as_deref(), kind), (Some("start_server"), None));
                assert_eq!((count, step, code.as_str(), message), (2, None, "action_failed", None));
            }
            other => panic!("parsed {other:?}"),
        }
        let cli = Cli::try_parse_from([
            "stratus",
            "fault",
            "action",
            "--kind",
            "server_create",
            "--count",
            "1",
            "--step",
            "create_vm",
        ])
        .unwrap();
        match cli.command {
            Command::Admin(AdminCommand::Fault(FaultCommand::Action { step, .. })) => {
                assert_eq!(step, Some(StepRef::Name("create_vm".into())));
            }
            other => panic!("parsed {other:?}"),
        }
        assert!(
            Cli::try_parse_from(["stratus", "fault", "action", "--count", "1"]).is_err(),
            "a command or kind is needed"
        );
        assert!(Cli::try_parse_from(["stratus", "fault", "api", "--code", "maintenance", "--count", "1"]).is_ok());
        assert!(Cli::try_parse_from(["stratus", "fault", "api", "--code", "teapot", "--count", "1"]).is_err());
    }

    #[test]
    fn catalog_put_needs_exactly_one_source() {
        assert!(Cli::try_parse_from(["stratus", "catalog", "put"]).is_err());
        assert!(Cli::try_parse_from(["stratus", "catalog", "put", "--json", "{}", "--file", "x"]).is_err());
        assert!(Cli::try_parse_from(["stratus", "catalog", "put", "--file", "-"]).is_ok());
        assert!(Cli::try_parse_from(["stratus", "catalog", "list", "server-type"]).is_ok());
    }
}
