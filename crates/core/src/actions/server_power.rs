//! Power actions on a server: power on, power off (hard), shut down (ACPI), reboot
//! (ACPI) and reset (hard).

use super::steps::{restore_status, set_status, update_server, was_running};
use super::{Ctx, Kind, Step, StepResult};
use crate::data::{State, Tx};
use crate::engine::Call;
use crate::ids::{ResourceRef, ServerId};
use crate::model::{ActionError, ServerStatus};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use stratus_compute::StopMode;

/// The parameters of every action that needs only its server.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct OnServer {
    pub server: ServerId,
}

impl OnServer {
    pub(crate) fn resources(&self) -> Vec<ResourceRef> {
        vec![self.server.as_ref()]
    }
}

type C<'a> = Ctx<'a, OnServer>;

fn mark_starting(tx: &mut Tx, c: &C) -> StepResult {
    set_status(tx, c.params.server, ServerStatus::Starting)
}
fn mark_stopping(tx: &mut Tx, c: &C) -> StepResult {
    set_status(tx, c.params.server, ServerStatus::Stopping)
}
fn mark_running(tx: &mut Tx, c: &C) -> StepResult {
    set_status(tx, c.params.server, ServerStatus::Running)
}
fn mark_off(tx: &mut Tx, c: &C) -> StepResult {
    set_status(tx, c.params.server, ServerStatus::Off)
}
fn unmark_starting(tx: &mut Tx, c: &C) -> StepResult {
    restore_status(tx, c.params.server, c, "mark_starting")
}
fn unmark_stopping(tx: &mut Tx, c: &C) -> StepResult {
    restore_status(tx, c.params.server, c, "mark_stopping")
}
fn unmark_running(tx: &mut Tx, c: &C) -> StepResult {
    restore_status(tx, c.params.server, c, "mark_running")
}
fn unmark_off(tx: &mut Tx, c: &C) -> StepResult {
    restore_status(tx, c.params.server, c, "mark_off")
}

/// A boot takes an armed rescue system and disarms it, as on Hetzner ("automatically
/// disabled when you first boot into it"); the driver's boot did the same. A power-on of
/// a server that ran already boots nothing.
fn rescue_used(tx: &mut Tx, c: &C) -> StepResult {
    if was_running(c, "mark_starting") {
        return Ok(None);
    }
    let was = update_server(tx, c.params.server, |s| s.set_rescue(None))?;
    Ok(Some(json!(was)))
}
fn unuse_rescue(tx: &mut Tx, c: &C) -> StepResult {
    if let Some(was) = c.output::<Option<DateTime<Utc>>>("rescue_used") {
        update_server(tx, c.params.server, |s| s.set_rescue(was))?;
    }
    Ok(None)
}

fn start_vm(_: &State, c: &C) -> Result<Call, ActionError> {
    Ok(Call::StartVm(c.params.server.0))
}
/// Undoes a start: stops the VM, unless it was running already before (a power-on of a
/// running server changes nothing).
fn undo_start_vm(_: &State, c: &C) -> Result<Call, ActionError> {
    Ok(if was_running(c, "mark_starting") { Call::Nothing } else { Call::StopVm(c.params.server.0, StopMode::Hard) })
}
fn stop_hard(_: &State, c: &C) -> Result<Call, ActionError> {
    Ok(Call::StopVm(c.params.server.0, StopMode::Hard))
}
fn stop_graceful(_: &State, c: &C) -> Result<Call, ActionError> {
    Ok(Call::StopVm(c.params.server.0, StopMode::Graceful))
}
/// Undoes a stop: starts the VM again if it was running.
fn undo_stop_vm(_: &State, c: &C) -> Result<Call, ActionError> {
    Ok(if was_running(c, "mark_stopping") { Call::StartVm(c.params.server.0) } else { Call::Nothing })
}
fn reboot_vm(_: &State, c: &C) -> Result<Call, ActionError> {
    Ok(Call::RebootVm(c.params.server.0))
}
fn reset_vm(_: &State, c: &C) -> Result<Call, ActionError> {
    Ok(Call::ResetVm(c.params.server.0))
}

/// `server_power_on`.
pub(crate) struct ServerPowerOn;

impl Kind for ServerPowerOn {
    const NAME: &'static str = "server_power_on";
    type Params = OnServer;

    fn steps() -> &'static [Step<OnServer>] {
        static STEPS: [Step<OnServer>; 4] = [
            Step::record("mark_starting", mark_starting).undo_record(unmark_starting),
            Step::driver("start_vm", start_vm).undo_driver(undo_start_vm),
            Step::record("mark_running", mark_running).undo_record(unmark_running),
            Step::record("rescue_used", rescue_used).undo_record(unuse_rescue),
        ];
        &STEPS
    }

    fn resources(p: &OnServer) -> Vec<ResourceRef> {
        p.resources()
    }
}

/// `server_power_off`: pulls the plug.
pub(crate) struct ServerPowerOff;

impl Kind for ServerPowerOff {
    const NAME: &'static str = "server_power_off";
    type Params = OnServer;

    fn steps() -> &'static [Step<OnServer>] {
        static STEPS: [Step<OnServer>; 3] = [
            Step::record("mark_stopping", mark_stopping).undo_record(unmark_stopping),
            Step::driver("stop_vm", stop_hard).undo_driver(undo_stop_vm),
            Step::record("mark_off", mark_off).undo_record(unmark_off),
        ];
        &STEPS
    }

    fn resources(p: &OnServer) -> Vec<ResourceRef> {
        p.resources()
    }
}

/// `server_shutdown`: asks the guest to shut down (ACPI) and waits until it is off.
pub(crate) struct ServerShutdown;

impl Kind for ServerShutdown {
    const NAME: &'static str = "server_shutdown";
    type Params = OnServer;

    fn steps() -> &'static [Step<OnServer>] {
        static STEPS: [Step<OnServer>; 3] = [
            Step::record("mark_stopping", mark_stopping).undo_record(unmark_stopping),
            Step::driver("stop_vm", stop_graceful).undo_driver(undo_stop_vm),
            Step::record("mark_off", mark_off).undo_record(unmark_off),
        ];
        &STEPS
    }

    fn resources(p: &OnServer) -> Vec<ResourceRef> {
        p.resources()
    }
}

/// `server_reboot`: an ACPI reboot; an off server boots.
pub(crate) struct ServerReboot;

impl Kind for ServerReboot {
    const NAME: &'static str = "server_reboot";
    type Params = OnServer;

    fn steps() -> &'static [Step<OnServer>] {
        static STEPS: [Step<OnServer>; 3] = [
            // No undo: a reboot cannot be taken back, and the VM runs either way.
            Step::driver("reboot_vm", reboot_vm),
            Step::record("mark_running", mark_running).undo_record(unmark_running),
            Step::record("rescue_used", rescue_used).undo_record(unuse_rescue),
        ];
        &STEPS
    }

    fn resources(p: &OnServer) -> Vec<ResourceRef> {
        p.resources()
    }
}

/// `server_reset`: a hard reset; an off server boots.
pub(crate) struct ServerReset;

impl Kind for ServerReset {
    const NAME: &'static str = "server_reset";
    type Params = OnServer;

    fn steps() -> &'static [Step<OnServer>] {
        static STEPS: [Step<OnServer>; 3] = [
            // No undo: a reset cannot be taken back, and the VM runs either way.
            Step::driver("reset_vm", reset_vm),
            Step::record("mark_running", mark_running).undo_record(unmark_running),
            Step::record("rescue_used", rescue_used).undo_record(unuse_rescue),
        ];
        &STEPS
    }

    fn resources(p: &OnServer) -> Vec<ResourceRef> {
        p.resources()
    }
}
