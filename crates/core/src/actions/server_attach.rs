//! A server joining or leaving a private network, and changing its alias IPs there.

use super::steps::update_nic;
use super::{Ctx, Kind, Step, StepResult};
use crate::data::{State, Tx};
use crate::engine::Call;
use crate::ids::{NetworkId, NicId, ResourceRef, ServerId};
use crate::model::{ActionError, Nic};
use crate::store::Record;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::Arc;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct AttachNicParams {
    pub server: ServerId,
    /// The interface to make (in `attach`) or remove (in `detach`).
    pub nic: Nic,
}

impl AttachNicParams {
    fn network(&self) -> Vec<ResourceRef> {
        self.nic.network.map(NetworkId::as_ref).into_iter().collect()
    }
}

type C<'a> = Ctx<'a, AttachNicParams>;

fn insert_nic(tx: &mut Tx, c: &C) -> StepResult {
    tx.put(Record::Nic(Arc::new(c.params.nic.clone())));
    Ok(None)
}
fn remove_nic(tx: &mut Tx, c: &C) -> StepResult {
    tx.delete(c.params.nic.id.as_ref());
    Ok(None)
}
fn reinsert_nic(tx: &mut Tx, c: &C) -> StepResult {
    insert_nic(tx, c)
}
fn plug(s: &State, c: &C) -> Result<Call, ActionError> {
    Ok(Call::AttachNic { vm: c.params.server.0, nic: s.nic_spec(&c.params.nic) })
}
fn unplug(_: &State, c: &C) -> Result<Call, ActionError> {
    Ok(Call::DetachNic { vm: c.params.server.0, nic: c.params.nic.id.0 })
}

/// `server_attach_to_network`.
pub(crate) struct ServerAttachToNetwork;

impl Kind for ServerAttachToNetwork {
    const NAME: &'static str = "server_attach_to_network";
    type Params = AttachNicParams;

    fn steps() -> &'static [Step<AttachNicParams>] {
        static STEPS: [Step<AttachNicParams>; 2] = [
            Step::record("insert_nic", insert_nic).undo_record(remove_nic),
            Step::driver("plug_nic", plug).undo_driver(unplug),
        ];
        &STEPS
    }

    fn resources(p: &AttachNicParams) -> Vec<ResourceRef> {
        vec![p.server.as_ref()]
    }

    fn related(p: &AttachNicParams) -> Vec<ResourceRef> {
        p.network()
    }
}

/// `server_detach_from_network`.
pub(crate) struct ServerDetachFromNetwork;

impl Kind for ServerDetachFromNetwork {
    const NAME: &'static str = "server_detach_from_network";
    type Params = AttachNicParams;

    fn steps() -> &'static [Step<AttachNicParams>] {
        static STEPS: [Step<AttachNicParams>; 2] = [
            Step::driver("unplug_nic", unplug).undo_driver(plug),
            Step::record("remove_nic", remove_nic).undo_record(reinsert_nic),
        ];
        &STEPS
    }

    fn resources(p: &AttachNicParams) -> Vec<ResourceRef> {
        vec![p.server.as_ref()]
    }

    fn related(p: &AttachNicParams) -> Vec<ResourceRef> {
        p.network()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct AliasParams {
    pub server: ServerId,
    pub nic: NicId,
    pub network: NetworkId,
    pub alias_ips: Vec<String>,
}

/// The interface with the new aliases, for the driver.
fn update_aliases(s: &State, c: &Ctx<AliasParams>) -> Result<Call, ActionError> {
    let nic = s.nics.get(c.params.nic.0).ok_or_else(|| super::steps::gone(c.params.nic.as_ref()))?;
    let changed = Nic { alias_ips: c.params.alias_ips.clone(), ..Nic::clone(nic) };
    Ok(Call::AttachNic { vm: c.params.server.0, nic: s.nic_spec(&changed) })
}
/// The interface as the records (not yet changed) show it.
fn restore_aliases(s: &State, c: &Ctx<AliasParams>) -> Result<Call, ActionError> {
    let nic = s.nics.get(c.params.nic.0).ok_or_else(|| super::steps::gone(c.params.nic.as_ref()))?;
    Ok(Call::AttachNic { vm: c.params.server.0, nic: s.nic_spec(nic) })
}
fn set_aliases(tx: &mut Tx, c: &Ctx<AliasParams>) -> StepResult {
    let prior = update_nic(tx, c.params.nic, |n| std::mem::replace(&mut n.alias_ips, c.params.alias_ips.clone()))?;
    Ok(Some(json!(prior)))
}
fn unset_aliases(tx: &mut Tx, c: &Ctx<AliasParams>) -> StepResult {
    if let Some(prior) = c.output::<Vec<String>>("set_aliases") {
        update_nic(tx, c.params.nic, |n| n.alias_ips = prior)?;
    }
    Ok(None)
}

/// `server_change_alias_ips`.
pub(crate) struct ServerChangeAliasIps;

impl Kind for ServerChangeAliasIps {
    const NAME: &'static str = "server_change_alias_ips";
    type Params = AliasParams;

    fn steps() -> &'static [Step<AliasParams>] {
        static STEPS: [Step<AliasParams>; 2] = [
            Step::driver("update_nic", update_aliases).undo_driver(restore_aliases),
            Step::record("set_aliases", set_aliases).undo_record(unset_aliases),
        ];
        &STEPS
    }

    fn resources(p: &AliasParams) -> Vec<ResourceRef> {
        vec![p.server.as_ref()]
    }

    fn related(p: &AliasParams) -> Vec<ResourceRef> {
        vec![p.network.as_ref()]
    }
}
