//! `server_delete`: the VM is stopped and destroyed, its volumes detached, and the
//! records that exist only for it removed.

use super::steps::{
    restore_status, set_status, update_firewall, update_ip, update_load_balancer, update_volume, was_running,
};
use super::{Ctx, Kind, Step, StepResult};
use crate::data::{State, Tx};
use crate::engine::Call;
use crate::ids::*;
use crate::model::*;
use stratus_compute::StopMode;

type C<'a> = Ctx<'a, super::OnServer>;

fn mark_deleting(tx: &mut Tx, c: &C) -> StepResult {
    set_status(tx, c.params.server, ServerStatus::Deleting)
}
fn unmark_deleting(tx: &mut Tx, c: &C) -> StepResult {
    restore_status(tx, c.params.server, c, "mark_deleting")
}
fn stop_vm(_: &State, c: &C) -> Result<Call, ActionError> {
    Ok(Call::StopVm(c.params.server.0, StopMode::Hard))
}
fn undo_stop_vm(_: &State, c: &C) -> Result<Call, ActionError> {
    Ok(if was_running(c, "mark_deleting") { Call::StartVm(c.params.server.0) } else { Call::Nothing })
}
fn detach_volumes(s: &State, c: &C) -> Result<Call, ActionError> {
    let vm = c.params.server.0;
    Ok(Call::Many(s.volumes_of(c.params.server).map(|v| Call::DetachVolume { vm, volume: v.id.0 }).collect()))
}
fn reattach_volumes(s: &State, c: &C) -> Result<Call, ActionError> {
    let vm = c.params.server.0;
    Ok(Call::Many(s.volumes_of(c.params.server).map(|v| Call::AttachVolume { vm, volume: v.id.0 }).collect()))
}
fn delete_vm(_: &State, c: &C) -> Result<Call, ActionError> {
    Ok(Call::DeleteVm(c.params.server.0))
}

/// Removes the server and what exists only for it: its interfaces, its primary IPs that
/// are set to auto-delete and its backups. Other primary IPs and floating IPs stay,
/// unassigned; volumes stay, detached; snapshots stay (they outlive their server);
/// firewalls and load balancers forget it.
fn remove_records(tx: &mut Tx, c: &C) -> StepResult {
    let id = c.params.server;
    let Some(server) = tx.servers.get(id.0).cloned() else { return Ok(None) };
    let ips: Vec<_> = tx.ips_of(id).cloned().collect();
    for ip in ips {
        if ip.role == IpRole::Primary && ip.auto_delete {
            tx.delete(ip.id.as_ref());
        } else {
            update_ip(tx, ip.id, |i| i.assignee = None)?;
        }
    }
    let volumes: Vec<VolumeId> = tx.volumes_of(id).map(|v| v.id).collect();
    for v in volumes {
        update_volume(tx, v, |v| {
            v.server = None;
            v.linux_device = None;
        })?;
    }
    let nics: Vec<NicId> = tx.nics_of(id.as_ref()).into_iter().map(|n| n.id).collect();
    for nic in nics {
        tx.delete(nic.as_ref());
    }
    let firewalls: Vec<FirewallId> = tx.linked(id.as_ref(), ResourceKind::Firewall).map(FirewallId).collect();
    for fw in firewalls {
        update_firewall(tx, fw, |f| f.applied_to.retain(|t| *t != FirewallTarget::Server(id)))?;
    }
    let lbs: Vec<LoadBalancerId> = tx.linked(id.as_ref(), ResourceKind::LoadBalancer).map(LoadBalancerId).collect();
    for lb in lbs {
        update_load_balancer(tx, lb, |l| l.targets.retain(|t| t.kind != LbTargetKind::Server(id)))?;
    }
    let backups: Vec<ImageId> = tx.backups_of(id).map(|i| i.id).collect();
    for image in &backups {
        tx.delete(image.as_ref());
    }
    if !backups.is_empty() {
        super::start::<super::ImageDataDelete>(tx, server.project, super::ImageDataParams { images: backups }, None)
            .map_err(|e| ActionError::new("internal_error", e.to_string()))?;
    }
    tx.delete(id.as_ref());
    Ok(None)
}

pub(crate) struct ServerDelete;

impl Kind for ServerDelete {
    const NAME: &'static str = "server_delete";
    type Params = super::OnServer;

    fn steps() -> &'static [Step<super::OnServer>] {
        static STEPS: [Step<super::OnServer>; 5] = [
            Step::record("mark_deleting", mark_deleting).undo_record(unmark_deleting),
            Step::driver("stop_vm", stop_vm).undo_driver(undo_stop_vm),
            Step::driver("detach_volumes", detach_volumes).undo_driver(reattach_volumes),
            // No undo: a destroyed VM cannot be brought back.
            Step::driver("delete_vm", delete_vm),
            // No undo: the last step, in the same commit as the VM's end.
            Step::record("remove_records", remove_records),
        ];
        &STEPS
    }

    fn resources(p: &super::OnServer) -> Vec<ResourceRef> {
        p.resources()
    }
}
