//! `server_rebuild`: a fresh boot disk from an image, optionally with new user data.

use super::steps::{restore_status, set_status, update_server, was_running};
use super::{Ctx, Kind, Step, StepResult};
use crate::data::{State, Tx};
use crate::engine::Call;
use crate::ids::{ImageId, ResourceRef, ServerId};
use crate::model::{ActionError, ServerStatus};
use serde::{Deserialize, Serialize};
use stratus_compute::StopMode;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct RebuildParams {
    pub server: ServerId,
    pub image: ImageId,
    /// Replaces the server's user data when given.
    pub user_data: Option<String>,
    /// For servers without SSH keys; erased once the disk is built.
    pub root_password: Option<String>,
}

type C<'a> = Ctx<'a, RebuildParams>;

fn mark_rebuilding(tx: &mut Tx, c: &C) -> StepResult {
    set_status(tx, c.params.server, ServerStatus::Rebuilding)
}
fn unmark_rebuilding(tx: &mut Tx, c: &C) -> StepResult {
    restore_status(tx, c.params.server, c, "mark_rebuilding")
}
fn stop_vm(_: &State, c: &C) -> Result<Call, ActionError> {
    Ok(Call::StopVm(c.params.server.0, StopMode::Hard))
}
fn undo_stop_vm(_: &State, c: &C) -> Result<Call, ActionError> {
    Ok(if was_running(c, "mark_rebuilding") { Call::StartVm(c.params.server.0) } else { Call::Nothing })
}
/// The VM as it will be: the new image and user data over the server's records.
fn rebuild_vm(s: &State, c: &C) -> Result<Call, ActionError> {
    let server = s.servers.get(c.params.server.0).ok_or_else(|| super::steps::gone(c.params.server.as_ref()))?;
    let mut rebuilt = crate::model::Server::clone(server);
    rebuilt.image = Some(c.params.image);
    if let Some(user_data) = &c.params.user_data {
        rebuilt.user_data = Some(user_data.clone());
    }
    Ok(Call::RebuildVm(s.vm_spec(&rebuilt, c.params.root_password.clone())))
}
/// The records follow the disk, in the same commit that records the rebuild as done.
fn set_boot_image(tx: &mut Tx, c: &C) -> StepResult {
    update_server(tx, c.params.server, |s| {
        s.image = Some(c.params.image);
        if let Some(user_data) = &c.params.user_data {
            s.user_data = Some(user_data.clone());
        }
        s.set_rescue(None);
    })?;
    Ok(None)
}
fn start_vm(_: &State, c: &C) -> Result<Call, ActionError> {
    Ok(Call::StartVm(c.params.server.0))
}
fn stop_again(_: &State, c: &C) -> Result<Call, ActionError> {
    Ok(Call::StopVm(c.params.server.0, StopMode::Hard))
}
fn mark_running(tx: &mut Tx, c: &C) -> StepResult {
    set_status(tx, c.params.server, ServerStatus::Running)
}

pub(crate) struct ServerRebuild;

impl Kind for ServerRebuild {
    const NAME: &'static str = "server_rebuild";
    type Params = RebuildParams;

    fn steps() -> &'static [Step<RebuildParams>] {
        static STEPS: [Step<RebuildParams>; 6] = [
            Step::record("mark_rebuilding", mark_rebuilding).undo_record(unmark_rebuilding),
            Step::driver("stop_vm", stop_vm).undo_driver(undo_stop_vm),
            // No undo: the old disk's contents are gone once it is rebuilt.
            Step::driver("rebuild_vm", rebuild_vm),
            // No undo: once the disk is rebuilt the records must say so, even if the
            // start after it fails.
            Step::record("set_boot_image", set_boot_image),
            Step::driver("start_vm", start_vm).undo_driver(stop_again),
            // No undo: the last step; nothing after it can fail.
            Step::record("mark_running", mark_running),
        ];
        &STEPS
    }

    fn resources(p: &RebuildParams) -> Vec<ResourceRef> {
        vec![p.server.as_ref()]
    }

    const SECRETS: &'static [(&'static str, &'static str)] = &[("rebuild_vm", "/root_password")];
}
