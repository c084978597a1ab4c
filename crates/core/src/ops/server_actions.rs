//! The actions a server offers. Each validates against the server's state and returns
//! the action that carries it out; the driver work happens in the action's steps.

use super::servers::{check_image_fits, hardware_of, own_server, resolve_image, resolve_server_type, resolve_ssh_keys};
use super::{addresses, check_labels, check_limit, ensure_write, random_secret, Ref};
use crate::cloud::Cloud;
use crate::engine::{create_action, delete_backups, ensure_unlocked, vm_spec, NewAction};
use crate::error::{Error, Result};
use crate::ids::*;
use crate::labels::Labels;
use crate::model::*;
use crate::store::Record;
use crate::views::{image_view, ImageView};
use std::sync::Arc;
use stratus_compute::{ConsoleEndpoint, StopMode};

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
    /// `kind` is the rescue system (`linux64`).
    EnableRescue {
        kind: String,
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
    /// `window` is ignored by Hetzner today; kept if given.
    EnableBackup {
        window: Option<String>,
    },
    DisableBackup,
    AttachIso {
        iso: Ref,
    },
    DetachIso,
    /// `ptr: None` resets the record to its default.
    ChangeDnsPtr {
        ip: String,
        ptr: Option<String>,
    },
    ChangeProtection {
        delete: Option<bool>,
        rebuild: Option<bool>,
    },
    RequestConsole,
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

/// The rescue systems offered.
const RESCUE_KINDS: [&str; 1] = ["linux64"];

impl Cloud {
    pub async fn server_action(&self, p: &Principal, id: ServerId, op: ServerAction) -> Result<ServerActionResult> {
        ensure_write(p)?;
        // The console is opened before the action is recorded: its credentials are the
        // answer, and opening one changes nothing that would need undoing.
        let console =
            match op {
                ServerAction::RequestConsole => {
                    self.read(|s| {
                        let srv = own_server(s, p, id)?;
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
                let srv = Server::clone(own_server(tx.state, p, id)?);
                let me = vec![id.as_ref()];
                let running = srv.status == ServerStatus::Running;
                let simple = |command, steps| NewAction::new(command, me.clone(), steps);
                ensure_unlocked(tx, &me)?;
                let mut root_password = None;
                let mut image = None;
                let new = match &op {
                    ServerAction::PowerOn => simple(Command::StartServer, vec![Step::StartVm]),
                    ServerAction::PowerOff => simple(Command::StopServer, vec![Step::StopVm { mode: StopMode::Hard }]),
                    ServerAction::Shutdown => {
                        simple(Command::ShutdownServer, vec![Step::StopVm { mode: StopMode::Graceful }])
                    }
                    ServerAction::Reboot => simple(Command::RebootServer, vec![Step::RebootVm]),
                    ServerAction::Reset => simple(Command::ResetServer, vec![Step::ResetVm]),
                    ServerAction::ResetPassword => {
                        if !running {
                            return Err(Error::invalid("server must be running to reset its root password"));
                        }
                        let password = random_secret(20);
                        root_password = Some(password.clone());
                        simple(Command::ResetPassword, vec![Step::SetPassword { password }])
                    }
                    ServerAction::EnableRescue { kind, ssh_keys } => {
                        if !RESCUE_KINDS.contains(&kind.as_str()) {
                            return Err(Error::invalid_field("type", format!("unknown rescue type '{kind}'")));
                        }
                        let keys = resolve_ssh_keys(tx.state, p, ssh_keys)?;
                        let keys = keys
                            .iter()
                            .filter_map(|k| tx.state.ssh_keys.get(&k.0))
                            .map(|k| k.public_key.clone())
                            .collect();
                        root_password = Some(random_secret(20));
                        simple(Command::EnableRescue, vec![Step::SetRescue { enabled: true, ssh_keys: keys }])
                    }
                    ServerAction::DisableRescue => {
                        simple(Command::DisableRescue, vec![Step::SetRescue { enabled: false, ssh_keys: Vec::new() }])
                    }
                    ServerAction::CreateImage { kind, description, labels } => {
                        check_labels(Some(labels))?;
                        if !matches!(kind, ImageType::Snapshot | ImageType::Backup) {
                            return Err(Error::invalid_field("type", "must be snapshot or backup"));
                        }
                        if *kind == ImageType::Snapshot {
                            let count = tx
                                .state
                                .images
                                .values()
                                .filter(|i| i.project == Some(p.project) && i.kind == ImageType::Snapshot)
                                .count();
                            check_limit(config.resource_limit, count, "snapshot")?;
                        }
                        let img = new_image(tx, p.project, &srv, *kind, description.clone(), labels.clone());
                        image = Some(img.clone());
                        NewAction::new(
                            Command::CreateImage,
                            vec![id.as_ref(), img.id.as_ref()],
                            vec![Step::SnapshotVm { image: img.id }],
                        )
                    }
                    ServerAction::Rebuild { image: r, user_data } => {
                        if srv.protection.rebuild {
                            return Err(Error::Protected {
                                message: "server rebuild is protected; disable rebuild protection first".into(),
                            });
                        }
                        let img = resolve_image(tx.state, p, r, "image")?;
                        if let Some(st) = srv.server_type.and_then(|t| tx.state.server_types.get(&t.0)) {
                            check_image_fits(&img, st)?;
                        }
                        let mut rebuilt = srv.clone();
                        rebuilt.image = Some(img.id);
                        if let Some(user_data) = user_data {
                            rebuilt.user_data = Some(user_data.clone());
                            tx.put(Record::Server(Arc::new(rebuilt.clone())));
                        }
                        root_password = srv.ssh_keys.is_empty().then(|| random_secret(20));
                        let spec = vm_spec(tx.state, &rebuilt, root_password.clone());
                        let steps =
                            vec![Step::StopVm { mode: StopMode::Hard }, Step::RebuildVm { spec }, Step::StartVm];
                        simple(Command::RebuildServer, steps)
                    }
                    ServerAction::ChangeType { server_type, upgrade_disk } => {
                        if srv.status != ServerStatus::Off {
                            return Err(Error::invalid("server must be powered off to change its type"));
                        }
                        let st = resolve_server_type(tx.state, server_type)?;
                        let mut to = hardware_of(&st);
                        let current_disk = srv.hardware.disks.first().map_or(0, |d| d.size_gb);
                        if *upgrade_disk {
                            if st.disk_gb < current_disk {
                                return Err(Error::invalid_field(
                                    "server_type",
                                    "cannot shrink the disk: choose a type with a larger disk or upgrade_disk=false",
                                ));
                            }
                        } else {
                            if st.disk_gb < current_disk {
                                return Err(Error::invalid_field(
                                    "server_type",
                                    format!(
                                        "server type {} has a smaller disk than the server ({current_disk} GB)",
                                        st.name
                                    ),
                                ));
                            }
                            // Keeping the disk lets the server move back to a smaller type later.
                            to.disks = srv.hardware.disks.clone();
                        }
                        let step = Step::ResizeVm {
                            to,
                            from: srv.hardware.clone(),
                            to_type: Some(st.id),
                            from_type: srv.server_type,
                        };
                        simple(Command::ChangeServerType, vec![step])
                    }
                    ServerAction::EnableBackup { window } => {
                        let mut s2 = srv.clone();
                        s2.backup_window = Some(window.clone().unwrap_or_else(|| backup_window_for(id)));
                        // The first backup is taken at the first window after enabling.
                        s2.last_backup = Some(now());
                        tx.put(Record::Server(Arc::new(s2)));
                        simple(Command::EnableBackup, Vec::new())
                    }
                    ServerAction::DisableBackup => {
                        let mut s2 = srv.clone();
                        s2.backup_window = None;
                        tx.put(Record::Server(Arc::new(s2)));
                        // Disabling backups deletes the server's backups, as at Hetzner.
                        delete_backups(tx, id);
                        simple(Command::DisableBackup, Vec::new())
                    }
                    ServerAction::AttachIso { iso } => {
                        let found = iso
                            .find(tx.state.isos.values(), |i| i.id.0, |i| Some(i.name.as_str()))
                            .cloned()
                            .ok_or_else(|| Error::invalid_field("iso", format!("ISO {iso} not found")))?;
                        if found.deprecated.is_some_and(|d| d <= now()) {
                            return Err(Error::invalid_field("iso", format!("ISO {} is deprecated", found.name)));
                        }
                        let previous = current_iso(tx.state, &srv);
                        simple(
                            Command::AttachIso,
                            vec![Step::SetIso { iso: Some((found.id, found.name.clone())), previous }],
                        )
                    }
                    ServerAction::DetachIso => {
                        let previous = current_iso(tx.state, &srv);
                        simple(Command::DetachIso, vec![Step::SetIso { iso: None, previous }])
                    }
                    ServerAction::ChangeDnsPtr { ip, ptr } => {
                        let owned = [srv.ipv4, srv.ipv6]
                            .into_iter()
                            .flatten()
                            .filter_map(|i| tx.state.ips.get(&i.0))
                            .find(|pip| addresses::contains(&pip.address, ip))
                            .cloned();
                        let Some(pip) = owned else {
                            return Err(Error::invalid_field("ip", format!("{ip} is not an address of this server")));
                        };
                        set_dns_ptr(tx, &pip, ip, ptr.as_deref())?;
                        simple(Command::ChangeDnsPtr, Vec::new())
                    }
                    ServerAction::ChangeProtection { delete, rebuild } => {
                        let mut s2 = srv.clone();
                        if let Some(d) = delete {
                            s2.protection.delete = *d;
                        }
                        if let Some(r) = rebuild {
                            s2.protection.rebuild = *r;
                        }
                        // Hetzner requires both flags to agree (its API documents this).
                        if s2.protection.delete != s2.protection.rebuild {
                            return Err(Error::invalid("delete and rebuild protection must have the same value"));
                        }
                        tx.put(Record::Server(Arc::new(s2)));
                        simple(Command::ChangeProtection, Vec::new())
                    }
                    ServerAction::RequestConsole => simple(Command::RequestConsole, Vec::new()),
                };
                let action = create_action(tx, p.project, new)?;
                let image = image.map(|img| image_view(tx.state, &img));
                Ok((action, root_password, image))
            })
            .await?;
        Ok(ServerActionResult { action, root_password, image, console })
    }
}

fn current_iso(s: &crate::state::State, srv: &Server) -> Option<(IsoId, String)> {
    srv.iso.and_then(|i| s.isos.get(&i.0)).map(|i| (i.id, i.name.clone()))
}

/// A deterministic two-hour window per server, spreading backups over the night.
fn backup_window_for(id: ServerId) -> String {
    const WINDOWS: [&str; 6] = ["22-02", "02-06", "06-10", "10-14", "14-18", "18-22"];
    WINDOWS[usize::try_from(id.0.rem_euclid(6)).unwrap_or(0)].to_string()
}

/// A new image of a server, `creating` until its snapshot step completes.
pub(crate) fn new_image(
    tx: &mut crate::state::Tx,
    project: ProjectId,
    srv: &Server,
    kind: ImageType,
    description: Option<String>,
    labels: Labels,
) -> Arc<Image> {
    let source = srv.image.and_then(|i| tx.state.images.get(&i.0)).cloned();
    let id = ImageId(tx.next_id());
    let now = now();
    let image = Arc::new(Image {
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
    });
    tx.put(Record::Image(image.clone()));
    image
}

/// Sets (or with `None` removes) the PTR record of `ip`, one of `pip`'s addresses.
pub(crate) fn set_dns_ptr(tx: &mut crate::state::Tx, pip: &PublicIp, ip: &str, ptr: Option<&str>) -> Result<()> {
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
    let mut updated = PublicIp::clone(pip);
    updated.dns_ptr.retain(|d| d.ip != ip);
    if let Some(ptr) = ptr {
        updated.dns_ptr.push(DnsPtr { ip: ip.to_string(), dns_ptr: ptr.to_string() });
    }
    tx.put(Record::Ip(Arc::new(updated)));
    Ok(())
}
