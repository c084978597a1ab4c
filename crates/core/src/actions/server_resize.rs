//! `server_change_type`: new cores, memory and (optionally) a larger disk, while off.

use super::steps::{restore_status, set_status, update_server};
use super::{Ctx, Kind, Step, StepResult};
use crate::data::{State, Tx};
use crate::engine::Call;
use crate::ids::{ResourceRef, ServerId, ServerTypeId};
use crate::model::{ActionError, ServerStatus};
use serde::{Deserialize, Serialize};
use stratus_compute::HardwareSpec;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ChangeTypeParams {
    pub server: ServerId,
    pub to_type: Option<ServerTypeId>,
    pub to: HardwareSpec,
    pub from_type: Option<ServerTypeId>,
    pub from: HardwareSpec,
}

type C<'a> = Ctx<'a, ChangeTypeParams>;

fn mark_migrating(tx: &mut Tx, c: &C) -> StepResult {
    set_status(tx, c.params.server, ServerStatus::Migrating)
}
fn unmark_migrating(tx: &mut Tx, c: &C) -> StepResult {
    restore_status(tx, c.params.server, c, "mark_migrating")
}
fn resize_vm(_: &State, c: &C) -> Result<Call, ActionError> {
    Ok(Call::ResizeVm(c.params.server.0, c.params.to.clone()))
}
/// Back to the old size. Disks only grow, so a grown disk stays as it is.
fn resize_back(_: &State, c: &C) -> Result<Call, ActionError> {
    Ok(Call::ResizeVm(c.params.server.0, c.params.from.clone()))
}
fn set_type(tx: &mut Tx, c: &C) -> StepResult {
    update_server(tx, c.params.server, |s| {
        s.server_type = c.params.to_type;
        s.hardware = c.params.to.clone();
    })?;
    Ok(None)
}
fn unset_type(tx: &mut Tx, c: &C) -> StepResult {
    update_server(tx, c.params.server, |s| {
        s.server_type = c.params.from_type;
        s.hardware = c.params.from.clone();
    })?;
    Ok(None)
}
fn mark_off(tx: &mut Tx, c: &C) -> StepResult {
    set_status(tx, c.params.server, ServerStatus::Off)
}

pub(crate) struct ServerChangeType;

impl Kind for ServerChangeType {
    const NAME: &'static str = "server_change_type";
    type Params = ChangeTypeParams;

    fn steps() -> &'static [Step<ChangeTypeParams>] {
        static STEPS: [Step<ChangeTypeParams>; 4] = [
            Step::record("mark_migrating", mark_migrating).undo_record(unmark_migrating),
            Step::driver("resize_vm", resize_vm).undo_driver(resize_back),
            Step::record("set_type", set_type).undo_record(unset_type),
            // No undo: the last step; nothing after it can fail.
            Step::record("mark_off", mark_off),
        ];
        &STEPS
    }

    fn resources(p: &ChangeTypeParams) -> Vec<ResourceRef> {
        vec![p.server.as_ref()]
    }
}
