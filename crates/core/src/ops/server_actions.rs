//! The actions a server offers. Each validates against the server's state and starts the
//! action kind that carries it out (`crate::actions`); the driver work happens there.

use super::servers::{check_image_fits, check_placement, hardware_of, new_nic};
use super::{addresses, check_labels, check_limit, ensure_unprotected, ensure_write, random_secret, Ref};
use crate::actions::{self, *};
use crate::cloud::Cloud;
use crate::data::Tx;
use crate::engine::ensure_unlocked;
use crate::error::{Error, Result};
use crate::ids::*;
use crate::labels::Labels;
use crate::model::*;
use crate::views::{image_view, ImageView};
use std::sync::Arc;
use stratus_compute::ConsoleEndpoint;

/// An action on a server, with its parameters.
#[derive(Debug, Clone)]
pub enum ServerAction {
    PowerOn,
    /// Hard power off.
    PowerOff,
    /// ACPI shutdown.
    Shutdown,
    Reboot,
    Reset,
    ResetPassword,
    EnableRescue {
        ssh_keys: Vec<Ref>,
    },
    DisableRescue,
    CreateImage {
        kind: ImageType,
        description: Option<String>,
        labels: Labels,
    },
    /// `user_data` replaces the server's cloud-init user data when given.
    Rebuild {
        image: Ref,
        user_data: Option<String>,
    },
    ChangeType {
        server_type: Ref,
        upgrade_disk: bool,
    },
    /// `window` `HH-HH` (UTC); a window is picked when `None`.
    EnableBackup {
        window: Option<String>,
    },
    /// `delete_backups`: whether the server's backups go too (a dialect's policy).
    DisableBackup {
        delete_backups: bool,
    },
    AttachIso {
        iso: Ref,
    },
    DetachIso,
    /// `ptr: None` resets the record to its default.
    ChangeDnsPtr {
        ip: String,
        ptr: Option<String>,
    },
    /// `None` leaves a flag as it is.
    ChangeProtection {
        delete: Option<bool>,
        rebuild: Option<bool>,
    },
    RequestConsole,
    /// Joins a private network; `ip` is picked from the subnet when `None`.
    AttachToNetwork {
        network: NetworkId,
        ip: Option<String>,
        alias_ips: Vec<String>,
    },
    DetachFromNetwork {
        network: NetworkId,
    },
    ChangeAliasIps {
        network: NetworkId,
        alias_ips: Vec<String>,
    },
    AddToPlacementGroup {
        group: PlacementGroupId,
    },
    RemoveFromPlacementGroup,
}

/// What a server action returns besides the action.
#[derive(Debug, Clone)]
pub struct ServerActionResult {
    pub action: Arc<Action>,
    /// reset_password, enable_rescue, and rebuild without SSH keys.
    pub root_password: Option<String>,
    /// create_image.
    pub image: Option<ImageView>,
    /// request_console.
    pub console: Option<ConsoleEndpoint>,
}

impl Cloud {
    pub async fn server_action(&self, p: &Principal, id: ServerId, op: ServerAction) -> Result<ServerActionResult> {
        ensure_write(p)?;
        // The console is opened before the action is recorded: its credentials are the
        // answer, and opening one is a read of the driver that needs no undo.
        let console =
            match op {
                ServerAction::RequestConsole => {
                    self.read(|s| {
                        let srv = s.server(p.project, id)?;
                        if srv.status != ServerStatus::Running {
                            return Err(Error::invalid("server must be running to open a console"));
                        }
                        Ok(())
                    })?;
                    let endpoint =
                        self.inner.driver.console(id.0).await.map_err(|e| Error::Unavailable {
                            message: format!("console unavailable: {}", e.message),
                        })?;
                    Some(endpoint)
                }
                _ => None,
            };
        let config = self.config().clone();
        let (action, root_password, image) = self
            .write(|tx| {
                let srv = tx.server(p.project, id)?.clone();
                ensure_unlocked(tx, &[id.as_ref()])?;
                let on = OnServer { server: id };
                let pr = p.project;
                let mut root_password = None;
                let mut image = None;
                let action = match &op {
                    ServerAction::PowerOn => actions::start::<ServerPowerOn>(tx, pr, on, None)?,
                    ServerAction::PowerOff => actions::start::<ServerPowerOff>(tx, pr, on, None)?,
                    ServerAction::Shutdown => actions::start::<ServerShutdown>(tx, pr, on, None)?,
                    ServerAction::Reboot => actions::start::<ServerReboot>(tx, pr, on, None)?,
                    ServerAction::Reset => actions::start::<ServerReset>(tx, pr, on, None)?,
                    ServerAction::ResetPassword => {
                        if srv.status != ServerStatus::Running {
                            return Err(Error::invalid("server must be running to reset its root password"));
                        }
                        let password = random_secret(20);
                        root_password = Some(password.clone());
                        let params = ResetPasswordParams { server: id, password: Some(password) };
                        actions::start::<ServerResetPassword>(tx, pr, params, None)?
                    }
                    ServerAction::EnableRescue { ssh_keys } => {
                        let keys = tx.ssh_key_refs(pr, ssh_keys, "ssh_keys")?;
                        let ssh_keys =
                            keys.iter().filter_map(|k| tx.ssh_keys.get(k.0)).map(|k| k.public_key.clone()).collect();
                        let password = random_secret(20);
                        root_password = Some(password.clone());
                        let params =
                            RescueParams { server: id, enabled: true, ssh_keys, root_password: Some(password) };
                        actions::start::<ServerEnableRescue>(tx, pr, params, None)?
                    }
                    ServerAction::DisableRescue => {
                        let params = RescueParams::disable(id);
                        actions::start::<ServerDisableRescue>(tx, pr, params, None)?
                    }
                    ServerAction::CreateImage { kind, description, labels } => {
                        check_labels(Some(labels))?;
                        if !matches!(kind, ImageType::Snapshot | ImageType::Backup) {
                            return Err(Error::invalid_field("type", "must be snapshot or backup"));
                        }
                        if *kind == ImageType::Snapshot {
                            let count = tx.images.of(Some(pr)).filter(|i| i.kind == ImageType::Snapshot).count();
                            check_limit(config.resource_limit, count, ResourceKind::Image)?;
                        }
                        let img = new_image(tx, pr, &srv, *kind, description.clone(), labels.clone());
                        let params = CreateImageParams { server: id, image: img };
                        let action = actions::start::<ServerCreateImage>(tx, pr, params, None)?;
                        let made = action.resources.iter().find(|r| r.kind == ResourceKind::Image).copied();
                        image = made.and_then(|r| tx.images.get(r.id)).map(|i| image_view(tx, i));
                        action
                    }
                    ServerAction::Rebuild { image: r, user_data } => {
                        ensure_unprotected(srv.protection, id.as_ref(), "rebuild")?;
                        let img = tx.image_ref(pr, r, "image")?;
                        if let Some(st) = srv.server_type.and_then(|t| tx.server_types.get(t.0)) {
                            check_image_fits(&img, st)?;
                        }
                        root_password = srv.ssh_keys.is_empty().then(|| random_secret(20));
                        let params = RebuildParams {
                            server: id,
                            image: img.id,
                            user_data: user_data.clone(),
                            root_password: root_password.clone(),
                        };
                        actions::start::<ServerRebuild>(tx, pr, params, None)?
                    }
                    ServerAction::ChangeType { server_type, upgrade_disk } => {
                        let params = change_type(tx, &srv, server_type, *upgrade_disk)?;
                        actions::start::<ServerChangeType>(tx, pr, params, None)?
                    }
                    ServerAction::EnableBackup { window } => {
                        let window = match window {
                            Some(w) => validate_window(w)?,
                            None => backup_window_for(id),
                        };
                        let params = BackupPlanParams { server: id, window: Some(window), delete_backups: false };
                        actions::start::<ServerEnableBackup>(tx, pr, params, None)?
                    }
                    ServerAction::DisableBackup { delete_backups } => {
                        let params = BackupPlanParams { server: id, window: None, delete_backups: *delete_backups };
                        actions::start::<ServerDisableBackup>(tx, pr, params, None)?
                    }
                    ServerAction::AttachIso { iso } => {
                        let found = tx.iso_ref(iso, "iso")?;
                        if found.deprecated.is_some_and(|d| d <= now()) {
                            return Err(Error::invalid_field("iso", format!("ISO {} is deprecated", found.name)));
                        }
                        actions::start::<ServerAttachIso>(tx, pr, IsoParams { server: id, iso: Some(found.id) }, None)?
                    }
                    ServerAction::DetachIso => {
                        actions::start::<ServerDetachIso>(tx, pr, IsoParams { server: id, iso: None }, None)?
                    }
                    ServerAction::ChangeDnsPtr { ip, ptr } => {
                        let owned = tx
                            .ips_of(id)
                            .filter(|i| i.role == IpRole::Primary)
                            .find(|pip| addresses::contains(&pip.address, ip))
                            .cloned();
                        let Some(pip) = owned else {
                            return Err(Error::invalid_field("ip", format!("{ip} is not an address of this server")));
                        };
                        validate_ptr(ptr.as_deref())?;
                        let params =
                            DnsPtrParams { ip: pip.id, address: ip.clone(), ptr: ptr.clone(), on: vec![id.as_ref()] };
                        actions::start::<ChangeDnsPtr>(tx, pr, params, None)?
                    }
                    ServerAction::ChangeProtection { delete, rebuild } => {
                        let params = ProtectionParams { resource: id.as_ref(), delete: *delete, rebuild: *rebuild };
                        actions::start::<ChangeProtection>(tx, pr, params, None)?
                    }
                    ServerAction::RequestConsole => actions::start::<ServerRequestConsole>(tx, pr, on, None)?,
                    ServerAction::AttachToNetwork { network, ip, alias_ips } => {
                        let nic = attach_to_network(tx, p, &srv, *network, ip.clone(), alias_ips.clone())?;
                        actions::start::<ServerAttachToNetwork>(tx, pr, AttachNicParams { server: id, nic }, None)?
                    }
                    ServerAction::DetachFromNetwork { network } => {
                        tx.network(pr, *network).map_err(|_| not_found_field("network", "network", network.0))?;
                        let nic = tx.nic_in(id.as_ref(), *network).cloned().ok_or_else(|| not_attached(*network))?;
                        let params = AttachNicParams { server: id, nic: Nic::clone(&nic) };
                        actions::start::<ServerDetachFromNetwork>(tx, pr, params, None)?
                    }
                    ServerAction::ChangeAliasIps { network, alias_ips } => {
                        let net =
                            tx.network(pr, *network).map_err(|_| not_found_field("network", "network", network.0))?;
                        let nic = tx.nic_in(id.as_ref(), *network).cloned().ok_or_else(|| not_attached(*network))?;
                        check_alias_ips(tx, net, Some(nic.id), nic.ip.as_deref(), alias_ips)?;
                        let params =
                            AliasParams { server: id, nic: nic.id, network: *network, alias_ips: alias_ips.clone() };
                        actions::start::<ServerChangeAliasIps>(tx, pr, params, None)?
                    }
                    ServerAction::AddToPlacementGroup { group } => {
                        if srv.placement_group.is_some() {
                            return Err(Error::invalid("server is already in a placement group"));
                        }
                        // Hetzner's `server_not_stopped`, as its document lists for this action.
                        if srv.status != ServerStatus::Off {
                            return Err(Error::refused(
                                crate::Refusal::NotStopped,
                                "server must be powered off to join a placement group",
                            ));
                        }
                        check_placement(tx, p, *group, &config)?;
                        let params = PlacementParams { server: id, group: Some(*group) };
                        actions::start::<ServerAddToPlacementGroup>(tx, pr, params, None)?
                    }
                    ServerAction::RemoveFromPlacementGroup => {
                        if srv.placement_group.is_none() {
                            return Err(Error::invalid("server is not in a placement group"));
                        }
                        let params = PlacementParams { server: id, group: None };
                        actions::start::<ServerRemoveFromPlacementGroup>(tx, pr, params, None)?
                    }
                };
                Ok((action, root_password, image))
            })
            .await?;
        Ok(ServerActionResult { action, root_password, image, console })
    }
}

fn not_found_field(field: &str, what: &str, id: i64) -> Error {
    Error::invalid_field(field, format!("{what} {id} not found"))
}

fn not_attached(network: NetworkId) -> Error {
    Error::refused(crate::Refusal::NotAttached, format!("server is not attached to network {network}"))
}

/// The parameters of a change of type, after checking the server may make it.
fn change_type(tx: &Tx, srv: &Server, server_type: &Ref, upgrade_disk: bool) -> Result<ChangeTypeParams> {
    if srv.status != ServerStatus::Off {
        return Err(Error::invalid("server must be powered off to change its type"));
    }
    let st = tx.server_type_ref(server_type, "server_type")?;
    let location = tx.location_of(srv.datacenter);
    if !st.prices.iter().any(|pr| Some(pr.location) == location) {
        return Err(Error::invalid_field("server_type", format!("server type {} is not available here", st.name)));
    }
    let mut to = hardware_of(&st);
    let current_disk = srv.hardware.disks.first().map_or(0, |d| d.size_gb);
    if st.disk_gb < current_disk {
        return Err(Error::invalid_field(
            "server_type",
            format!("server type {} has a smaller disk than the server ({current_disk} GB)", st.name),
        ));
    }
    if !upgrade_disk {
        // Keeping the disk lets the server move back to a smaller type later.
        to.disks = srv.hardware.disks.clone();
    }
    Ok(ChangeTypeParams {
        server: srv.id,
        to_type: Some(st.id),
        to,
        from_type: srv.server_type,
        from: srv.hardware.clone(),
    })
}

/// The interface a server gets in `network`, after checking the address it asks for.
fn attach_to_network(
    tx: &mut Tx,
    p: &Principal,
    srv: &Server,
    network: NetworkId,
    ip: Option<String>,
    alias_ips: Vec<String>,
) -> Result<Nic> {
    let net = tx.network(p.project, network).map_err(|_| not_found_field("network", "network", network.0))?.clone();
    if tx.nic_in(srv.id.as_ref(), network).is_some() {
        return Err(Error::refused(
            crate::Refusal::AlreadyAttached,
            format!("server is already attached to network {network}"),
        ));
    }
    check_overlap(tx, srv, &net)?;
    let zone = tx.location_of(srv.datacenter).and_then(|l| tx.zone_of(l)).unwrap_or_default().to_string();
    let ip = match ip {
        Some(ip) => {
            super::check_ipv4("ip", &ip)?;
            let subnet = crate::data::subnet_containing(&net, &ip)
                .ok_or_else(|| Error::invalid_field("ip", format!("{ip} is in no subnet of network {network}")))?;
            if subnet.network_zone != zone {
                return Err(Error::invalid_field("ip", "the subnet is in another network zone than the server"));
            }
            if ip == subnet.gateway || tx.private_ip_taken(network, &ip, None) {
                return Err(Error::refused(crate::Refusal::AddressTaken, format!("{ip} is not available")));
            }
            ip
        }
        None => net
            .subnets
            .iter()
            .filter(|s| s.network_zone == zone && s.kind != SubnetKind::Vswitch)
            .find_map(|s| tx.free_private_ip(network, s))
            .ok_or_else(|| {
                Error::refused(
                    crate::Refusal::NoFreeAddress,
                    format!("network {network} has no subnet with a free address in {zone}"),
                )
            })?,
    };
    check_alias_ips(tx, &net, None, Some(&ip), &alias_ips)?;
    let mut nic = new_nic(tx, p.project, Attachee::Server(srv.id), Some(network), Some(ip));
    nic.alias_ips = alias_ips;
    Ok(nic)
}

/// Alias IPs must lie in the network's subnets and be free.
fn check_alias_ips(tx: &Tx, net: &Network, nic: Option<NicId>, own: Option<&str>, aliases: &[String]) -> Result<()> {
    for (i, alias) in aliases.iter().enumerate() {
        super::check_ipv4("alias_ips", alias)?;
        if crate::data::subnet_containing(net, alias).is_none() {
            return Err(Error::invalid_field("alias_ips", format!("{alias} is in no subnet of the network")));
        }
        if Some(alias.as_str()) == own || aliases[..i].contains(alias) || tx.private_ip_taken(net.id, alias, nic) {
            return Err(Error::refused(crate::Refusal::AddressTaken, format!("alias IP {alias} is not available")));
        }
    }
    Ok(())
}

/// A server's networks must not overlap: its routes would be ambiguous.
fn check_overlap(tx: &Tx, srv: &Server, net: &Network) -> Result<()> {
    let range = |n: &Network| n.ip_range.parse::<ipnet::Ipv4Net>().ok();
    let Some(new) = range(net) else { return Ok(()) };
    let joined =
        tx.nics_of(srv.id.as_ref()).into_iter().filter_map(|n| n.network).filter_map(|id| tx.networks.get(id.0));
    for other in joined {
        if range(other).is_some_and(|r| r.contains(&new) || new.contains(&r)) {
            return Err(Error::refused(
                crate::Refusal::Overlap,
                format!("the range of network {} overlaps network {} of the server", net.id, other.id),
            ));
        }
    }
    Ok(())
}

/// `HH-HH`, two hours apart, as backup windows are given.
fn validate_window(window: &str) -> Result<String> {
    let hours = window.split_once('-').and_then(|(a, b)| Some((a.parse::<u32>().ok()?, b.parse::<u32>().ok()?)));
    match hours {
        Some((start, end)) if start < 24 && end < 24 && (start + 4) % 24 == end => Ok(window.to_string()),
        _ => Err(Error::invalid_field("backup_window", "must be a four-hour window such as 22-02")),
    }
}

/// A deterministic four-hour window per server, spreading backups over the day.
fn backup_window_for(id: ServerId) -> String {
    const WINDOWS: [&str; 6] = ["22-02", "02-06", "06-10", "10-14", "14-18", "18-22"];
    WINDOWS[usize::try_from(id.0.rem_euclid(6)).unwrap_or(0)].to_string()
}

/// A new image of a server (not yet stored), `creating` until its snapshot step is done.
pub(crate) fn new_image(
    tx: &mut Tx,
    project: ProjectId,
    srv: &Server,
    kind: ImageType,
    description: Option<String>,
    labels: Labels,
) -> Image {
    let source = srv.image.and_then(|i| tx.images.get(i.0)).cloned();
    let id = ImageId(tx.next_id());
    let now = now();
    Image {
        id,
        project: Some(project),
        kind,
        status: ImageStatus::Creating,
        name: None,
        description: description.unwrap_or_else(|| format!("{}-{}", srv.name, now.format("%Y%m%d-%H%M%S"))),
        image_size: None,
        disk_size: f64::from(srv.hardware.disks.first().map_or(0, |d| d.size_gb)),
        created: now,
        created_from: Some((srv.id, srv.name.clone())),
        bound_to: (kind == ImageType::Backup).then_some(srv.id),
        os_flavor: source.as_ref().map_or_else(|| "unknown".to_string(), |s| s.os_flavor.clone()),
        os_version: source.as_ref().and_then(|s| s.os_version.clone()),
        architecture: source.as_ref().map_or_else(|| "x86".to_string(), |s| s.architecture.clone()),
        rapid_deploy: false,
        protection: Protection::default(),
        deprecated: None,
        labels,
    }
}

/// A PTR record must be a hostname (`None` resets it).
pub(crate) fn validate_ptr(ptr: Option<&str>) -> Result<()> {
    if let Some(ptr) = ptr {
        let valid = !ptr.is_empty()
            && ptr.len() <= 255
            && ptr
                .trim_end_matches('.')
                .split('.')
                .all(|l| !l.is_empty() && l.len() <= 63 && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
        if !valid {
            return Err(Error::invalid_field("dns_ptr", "must be a valid hostname"));
        }
    }
    Ok(())
}
