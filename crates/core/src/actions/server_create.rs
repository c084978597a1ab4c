//! `server_create`: the server's records, its VM, its volumes, private interfaces and
//! firewall rules. Starting it is the separate `server_power_on` that waits on this one
//! (Hetzner's `next_actions`).

use super::steps::{restore_status, set_status, update_firewall, update_ip, update_volume};
use super::{Ctx, Kind, Step, StepResult};
use crate::data::{State, Tx};
use crate::engine::Call;
use crate::ids::*;
use crate::model::*;
use crate::store::Record;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ServerCreateParams {
    /// The server record, `initializing`.
    pub server: Server,
    /// Primary IPs made for it.
    pub new_ips: Vec<PublicIp>,
    /// Existing (unassigned) primary IPs it takes.
    pub own_ips: Vec<IpId>,
    /// Its interfaces: the public one and one per private network it joins.
    pub nics: Vec<Nic>,
    pub volumes: Vec<VolumeId>,
    /// Firewalls applied to it directly.
    pub firewalls: Vec<FirewallId>,
    /// For servers without SSH keys; erased once the VM is built.
    pub root_password: Option<String>,
}

type C<'a> = Ctx<'a, ServerCreateParams>;

fn server_of(c: &C) -> ServerId {
    c.params.server.id
}

fn insert_records(tx: &mut Tx, c: &C) -> StepResult {
    let p = c.params;
    let id = server_of(c);
    tx.put(Record::Server(Arc::new(p.server.clone())));
    for ip in &p.new_ips {
        tx.put(Record::Ip(Arc::new(ip.clone())));
    }
    for ip in &p.own_ips {
        update_ip(tx, *ip, |ip| ip.assignee = Some(Attachee::Server(id)))?;
    }
    for nic in &p.nics {
        tx.put(Record::Nic(Arc::new(nic.clone())));
    }
    for volume in &p.volumes {
        update_volume(tx, *volume, |v| v.server = Some(id))?;
    }
    for fw in &p.firewalls {
        update_firewall(tx, *fw, |f| f.applied_to.push(FirewallTarget::Server(id)))?;
    }
    Ok(None)
}
fn remove_records(tx: &mut Tx, c: &C) -> StepResult {
    let p = c.params;
    let id = server_of(c);
    for fw in &p.firewalls {
        update_firewall(tx, *fw, |f| f.applied_to.retain(|t| *t != FirewallTarget::Server(id)))?;
    }
    for volume in &p.volumes {
        update_volume(tx, *volume, |v| {
            v.server = None;
            v.linux_device = None;
        })?;
    }
    for nic in &p.nics {
        tx.delete(nic.id.as_ref());
    }
    for ip in &p.own_ips {
        update_ip(tx, *ip, |ip| ip.assignee = None)?;
    }
    for ip in &p.new_ips {
        tx.delete(ip.id.as_ref());
    }
    tx.delete(id.as_ref());
    Ok(None)
}
fn create_vm(s: &State, c: &C) -> Result<Call, ActionError> {
    let server = s.servers.get(server_of(c).0).ok_or_else(|| super::steps::gone(server_of(c).as_ref()))?;
    Ok(Call::CreateVm(s.vm_spec(server, c.params.root_password.clone())))
}
fn delete_vm(_: &State, c: &C) -> Result<Call, ActionError> {
    Ok(Call::DeleteVm(server_of(c).0))
}
/// The VM exists: the server leaves `initializing` in the same commit.
fn mark_created(tx: &mut Tx, c: &C) -> StepResult {
    set_status(tx, server_of(c), ServerStatus::Off)
}
fn unmark_created(tx: &mut Tx, c: &C) -> StepResult {
    restore_status(tx, server_of(c), c, "mark_created")
}
fn attach_volumes(_: &State, c: &C) -> Result<Call, ActionError> {
    let vm = server_of(c).0;
    Ok(Call::Many(c.params.volumes.iter().map(|v| Call::AttachVolume { vm, volume: v.0 }).collect()))
}
fn detach_volumes(_: &State, c: &C) -> Result<Call, ActionError> {
    let vm = server_of(c).0;
    Ok(Call::Many(c.params.volumes.iter().map(|v| Call::DetachVolume { vm, volume: v.0 }).collect()))
}
/// Where the guest sees each volume, as the driver said.
fn record_devices(tx: &mut Tx, c: &C) -> StepResult {
    let devices: Vec<String> = c.output("attach_volumes").unwrap_or_default();
    for (volume, device) in c.params.volumes.iter().zip(devices) {
        update_volume(tx, *volume, |v| v.linux_device = Some(device))?;
    }
    Ok(None)
}
fn plug_nics(s: &State, c: &C) -> Result<Call, ActionError> {
    let vm = server_of(c).0;
    let private = c.params.nics.iter().filter(|n| n.network.is_some());
    Ok(Call::Many(private.map(|n| Call::AttachNic { vm, nic: s.nic_spec(n) }).collect()))
}
fn unplug_nics(_: &State, c: &C) -> Result<Call, ActionError> {
    let vm = server_of(c).0;
    let private = c.params.nics.iter().filter(|n| n.network.is_some());
    Ok(Call::Many(private.map(|n| Call::DetachNic { vm, nic: n.id.0 }).collect()))
}
/// The rules of every firewall that applies, directly or by label.
fn apply_firewall(s: &State, c: &C) -> Result<Call, ActionError> {
    let server = s.servers.get(server_of(c).0).ok_or_else(|| super::steps::gone(server_of(c).as_ref()))?;
    let rules = s.firewall_rules_of(server);
    Ok(if rules.is_empty() { Call::Nothing } else { Call::ApplyFirewall { vm: server.id.0, rules } })
}

pub(crate) struct ServerCreate;

impl Kind for ServerCreate {
    const NAME: &'static str = "server_create";
    type Params = ServerCreateParams;

    fn steps() -> &'static [Step<ServerCreateParams>] {
        static STEPS: [Step<ServerCreateParams>; 7] = [
            Step::record("insert_records", insert_records).undo_record(remove_records),
            Step::driver("create_vm", create_vm).undo_driver(delete_vm),
            Step::record("mark_created", mark_created).undo_record(unmark_created),
            Step::driver("attach_volumes", attach_volumes).undo_driver(detach_volumes),
            // No undo: the devices are cleared with the attachment in `remove_records`.
            Step::record("record_devices", record_devices),
            Step::driver("plug_nics", plug_nics).undo_driver(unplug_nics),
            // No undo: the rules go with the VM when `create_vm` is undone.
            Step::driver("apply_firewall", apply_firewall),
        ];
        &STEPS
    }

    /// Volume and network steps only when there are volumes and networks.
    fn plan(p: &ServerCreateParams) -> Vec<&'static str> {
        let mut plan = vec!["insert_records", "create_vm", "mark_created"];
        if !p.volumes.is_empty() {
            plan.extend(["attach_volumes", "record_devices"]);
        }
        if p.nics.iter().any(|n| n.network.is_some()) {
            plan.push("plug_nics");
        }
        plan.push("apply_firewall");
        plan
    }

    fn resources(p: &ServerCreateParams) -> Vec<ResourceRef> {
        let mut r = vec![p.server.id.as_ref()];
        r.extend(p.volumes.iter().map(|v| v.as_ref()));
        r.extend(p.own_ips.iter().map(|i| i.as_ref()));
        r
    }

    const SECRETS: &'static [(&'static str, &'static str)] = &[("create_vm", "/root_password")];
}
