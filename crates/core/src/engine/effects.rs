//! What actions do to the records: the transitional status when an action begins, the
//! record changes each step makes, and the end state on success or failure.

use crate::ids::*;
use crate::model::*;
use crate::state::{State, Tx};
use crate::store::Record;
use std::sync::Arc;
use stratus_compute::{ImageRef, PowerState, VmSpec};

/// How many scheduled backups a server keeps (Hetzner keeps 7).
pub(crate) const BACKUPS_KEPT: usize = 7;

/// The server an action works on, if any.
pub(crate) fn server_of(action: &Action) -> Option<ServerId> {
    action.resources.iter().find(|r| r.kind == ResourceKind::Server).map(|r| ServerId(r.id))
}

/// The status a server shows while `command` runs on it.
fn transitional(command: Command) -> Option<ServerStatus> {
    match command {
        Command::CreateServer => Some(ServerStatus::Initializing),
        Command::StartServer => Some(ServerStatus::Starting),
        Command::StopServer | Command::ShutdownServer => Some(ServerStatus::Stopping),
        Command::RebuildServer => Some(ServerStatus::Rebuilding),
        Command::ChangeServerType => Some(ServerStatus::Migrating),
        Command::DeleteServer => Some(ServerStatus::Deleting),
        _ => None,
    }
}

fn update_server(tx: &mut Tx, id: ServerId, f: impl FnOnce(&mut Server)) {
    if let Some(server) = tx.state.servers.get(&id.0) {
        let mut server = Server::clone(server);
        f(&mut server);
        tx.put(Record::Server(Arc::new(server)));
    }
}

fn update_action(tx: &mut Tx, id: ActionId, f: impl FnOnce(&mut Action)) {
    if let Some(action) = tx.state.actions.get(&id.0) {
        let mut action = Action::clone(action);
        f(&mut action);
        tx.put(Record::Action(Arc::new(action)));
    }
}

/// Marks the action's server with the command's transitional status.
pub(crate) fn begin(tx: &mut Tx, id: ActionId) {
    let Some(action) = tx.state.actions.get(&id.0).cloned() else { return };
    if let (Some(server), Some(status)) = (server_of(&action), transitional(action.command)) {
        update_server(tx, server, |s| s.status = status);
    }
}

/// Applies what a completed step (or undo step) changed to the records.
fn apply_step(tx: &mut Tx, action: &Action, step: &Step, image_size: Option<f64>) {
    let server = server_of(action);
    match step {
        Step::ResizeVm { to, to_type, .. } => {
            if let Some(id) = server {
                update_server(tx, id, |s| {
                    s.hardware = to.clone();
                    s.server_type = *to_type;
                });
            }
        }
        Step::SnapshotVm { image } => {
            if let Some(img) = tx.state.images.get(&image.0) {
                let mut img = Image::clone(img);
                img.status = ImageStatus::Available;
                img.image_size = image_size;
                tx.put(Record::Image(Arc::new(img)));
            }
        }
        Step::RebuildVm { spec } => {
            if let (Some(id), Some(image)) = (server, &spec.image) {
                update_server(tx, id, |s| s.image = Some(ImageId(image.id)));
            }
        }
        Step::SetRescue { enabled, .. } => {
            if let Some(id) = server {
                update_server(tx, id, |s| s.rescue_enabled = *enabled);
            }
        }
        Step::SetIso { iso, .. } => {
            if let Some(id) = server {
                update_server(tx, id, |s| s.iso = iso.as_ref().map(|(id, _)| *id));
            }
        }
        Step::CreateVm { .. }
        | Step::StartVm
        | Step::StopVm { .. }
        | Step::RebootVm
        | Step::ResetVm
        | Step::DeleteSnapshot { .. }
        | Step::SetPassword { .. }
        | Step::DeleteVm => {}
    }
}

/// Records that the next forward step completed.
pub(crate) fn step_done(tx: &mut Tx, id: ActionId, image_size: Option<f64>) {
    let Some(action) = tx.state.actions.get(&id.0).cloned() else { return };
    let Some(step) = action.plan.steps.get(action.plan.done).cloned() else { return };
    apply_step(tx, &action, &step, image_size);
    update_action(tx, id, |a| {
        a.plan.steps[a.plan.done].scrub();
        a.plan.done += 1;
        a.progress = progress(a.plan.done, a.plan.steps.len());
    });
}

/// Records that a forward step failed: from now on the completed steps are undone.
pub(crate) fn start_unwind(tx: &mut Tx, id: ActionId, error: ActionError) {
    update_action(tx, id, |a| {
        let undo = a.plan.steps[..a.plan.done].iter().rev().filter_map(Step::undo).collect();
        a.plan.unwinding = Some(Unwind { undo, done: 0, error });
    });
}

/// Records that the next undo step ran (or failed and is given up on).
pub(crate) fn undo_done(tx: &mut Tx, id: ActionId, ran: bool) {
    let Some(action) = tx.state.actions.get(&id.0).cloned() else { return };
    let Some(unwind) = &action.plan.unwinding else { return };
    if ran {
        if let Some(step) = unwind.undo.get(unwind.done).cloned() {
            apply_step(tx, &action, &step, None);
        }
    }
    update_action(tx, id, |a| {
        if let Some(u) = a.plan.unwinding.as_mut() {
            u.done += 1;
        }
    });
}

/// Share of steps done, kept below 100 until the action has finished.
fn progress(done: usize, total: usize) -> u8 {
    let pct = (done * 100).checked_div(total).unwrap_or(100).min(99);
    u8::try_from(pct).unwrap_or(99)
}

/// The VM's power state after the steps of a successful action, from `before`.
fn power_after(steps: &[Step], before: Option<PowerState>) -> PowerState {
    steps
        .iter()
        .fold(before, |p, step| match step {
            Step::CreateVm { .. } | Step::StopVm { .. } => Some(PowerState::Off),
            Step::StartVm | Step::RebootVm | Step::ResetVm => Some(PowerState::Running),
            _ => p,
        })
        .unwrap_or(PowerState::Off)
}

/// Ends an action: `observed` is the VM's power state as the driver reported it after a
/// failure (`None` if it could not tell). Returns whether the action succeeded.
pub(crate) fn finish(tx: &mut Tx, id: ActionId, observed: Option<PowerState>) -> bool {
    let Some(action) = tx.state.actions.get(&id.0).cloned() else { return false };
    let server = server_of(&action);
    let failed = action.plan.unwinding.as_ref().map(|u| u.error.clone());
    match &failed {
        None => match action.command {
            Command::DeleteServer => {
                if let Some(id) = server {
                    delete_server_records(tx, id);
                }
            }
            _ => {
                if let Some(id) = server {
                    let before = tx.state.servers.get(&id.0).and_then(|s| s.status.believed_power());
                    let before = if action.command == Command::CreateServer { None } else { before };
                    let after = power_after(&action.plan.steps, before);
                    update_server(tx, id, |s| s.status = ServerStatus::settled(after));
                }
                if action.command == Command::CreateBackup {
                    if let Some(id) = server {
                        rotate_backups(tx, id);
                    }
                }
            }
        },
        Some(_) => match action.command {
            Command::CreateServer => {
                if let Some(id) = server {
                    delete_server_records(tx, id);
                }
            }
            _ => {
                if matches!(action.command, Command::CreateImage | Command::CreateBackup) {
                    let image = action.resources.iter().find(|r| r.kind == ResourceKind::Image);
                    if let Some(image) = image {
                        tx.delete(*image);
                    }
                }
                if let Some(id) = server {
                    let status = observed.map_or(ServerStatus::Unknown, ServerStatus::settled);
                    update_server(tx, id, |s| s.status = status);
                }
            }
        },
    }
    update_action(tx, id, |a| {
        a.finished = Some(now());
        match failed.clone() {
            None => {
                a.status = ActionStatus::Success;
                a.progress = 100;
            }
            Some(error) => {
                a.status = ActionStatus::Error;
                a.error = Some(error);
            }
        }
    });
    failed.is_none()
}

/// Fails an action that never ran because the one it waited for failed.
pub(crate) fn fail_unstarted(tx: &mut Tx, id: ActionId, error: ActionError) {
    update_action(tx, id, |a| {
        a.status = ActionStatus::Error;
        a.finished = Some(now());
        a.error = Some(error);
    });
}

/// Removes a server and what exists only for it: its primary IPs and its backups.
/// Floating IPs stay and are unassigned; snapshots stay (they outlive their server).
fn delete_server_records(tx: &mut Tx, id: ServerId) {
    let ips: Vec<Arc<PublicIp>> = tx.state.ips.values().filter(|ip| ip.assignee == Some(id)).cloned().collect();
    for ip in ips {
        if ip.role == IpRole::Primary {
            tx.delete(ip.id.as_ref());
        } else {
            let mut ip = PublicIp::clone(&ip);
            ip.assignee = None;
            tx.put(Record::Ip(Arc::new(ip)));
        }
    }
    delete_backups(tx, id);
    tx.delete(id.as_ref());
}

/// Deletes every backup of a server (its backups go with it, and with its backup plan).
pub(crate) fn delete_backups(tx: &mut Tx, server: ServerId) {
    let backups: Vec<ImageId> = tx
        .state
        .images
        .values()
        .filter(|i| i.bound_to == Some(server) && i.kind == ImageType::Backup)
        .map(|i| i.id)
        .collect();
    for image in backups {
        tx.delete(image.as_ref());
    }
}

/// Keeps a server's newest backups, deleting the oldest beyond [`BACKUPS_KEPT`].
fn rotate_backups(tx: &mut Tx, id: ServerId) {
    let mut backups: Vec<(chrono::DateTime<chrono::Utc>, ImageId)> = tx
        .state
        .images
        .values()
        .filter(|i| i.bound_to == Some(id) && i.kind == ImageType::Backup && i.status == ImageStatus::Available)
        .map(|i| (i.created, i.id))
        .collect();
    backups.sort();
    let excess = backups.len().saturating_sub(BACKUPS_KEPT);
    for (_, image) in backups.into_iter().take(excess) {
        tx.delete(image.as_ref());
    }
}

/// Whether the VM of `server` exists and how it is believed to be, for the driver's
/// restore at start-up.
pub(crate) fn believed_power(state: &State, server: &Server) -> Option<PowerState> {
    if server.status != ServerStatus::Initializing {
        return server.status.believed_power();
    }
    // An initializing server has a VM once its create step has completed. (Its lock
    // may be held by the start waiting on the create, so look for the create itself.)
    let created = state.actions.values().any(|a| {
        a.is_running()
            && a.command == Command::CreateServer
            && a.plan.done > 0
            && a.resources.contains(&server.id.as_ref())
    });
    created.then_some(PowerState::Off)
}

/// The driver's view of a server: hardware, boot image, keys, user data, addresses.
pub(crate) fn vm_spec(state: &State, server: &Server, root_password: Option<String>) -> VmSpec {
    let image = server
        .image
        .and_then(|id| state.images.get(&id.0))
        .map(|img| ImageRef { id: img.id.0, name: img.name.clone().unwrap_or_else(|| format!("image-{}", img.id)) });
    let ssh_keys =
        server.ssh_keys.iter().filter_map(|k| state.ssh_keys.get(&k.0)).map(|k| k.public_key.clone()).collect();
    let addresses = [server.ipv4, server.ipv6]
        .into_iter()
        .flatten()
        .filter_map(|ip| state.ips.get(&ip.0))
        .map(|ip| ip.address.clone())
        .collect();
    VmSpec {
        id: server.id.0,
        name: server.name.clone(),
        hardware: server.hardware.clone(),
        image,
        ssh_keys,
        root_password,
        user_data: server.user_data.clone(),
        addresses,
    }
}
