//! Server actions on what the VM boots from or is reached through: the root password,
//! the rescue system, the virtual CD drive, the console.

use super::server_power::OnServer;
use super::steps::update_server;
use super::{Ctx, Kind, Step, StepResult};
use crate::data::{State, Tx};
use crate::engine::Call;
use crate::ids::{IsoId, ResourceRef, ServerId};
use crate::model::{now, ActionError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use stratus_compute::RescueSpec;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ResetPasswordParams {
    pub server: ServerId,
    /// Erased once set (see `scrub`).
    pub password: Option<String>,
}

/// `server_reset_password`: sets a new root password in the running guest.
pub(crate) struct ServerResetPassword;

fn set_password(_: &State, c: &Ctx<ResetPasswordParams>) -> Result<Call, ActionError> {
    let password =
        c.params.password.clone().ok_or_else(|| ActionError::new("internal_error", "the password is gone"))?;
    Ok(Call::SetPassword { vm: c.params.server.0, password })
}

impl Kind for ServerResetPassword {
    const NAME: &'static str = "server_reset_password";
    type Params = ResetPasswordParams;

    fn steps() -> &'static [Step<ResetPasswordParams>] {
        // No undo: the old password is not known to Stratus.
        static STEPS: [Step<ResetPasswordParams>; 1] = [Step::driver("set_password", set_password)];
        &STEPS
    }

    fn resources(p: &ResetPasswordParams) -> Vec<ResourceRef> {
        vec![p.server.as_ref()]
    }

    const SECRETS: &'static [(&'static str, &'static str)] = &[("set_password", "/password")];
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct RescueParams {
    pub server: ServerId,
    pub enabled: bool,
    /// OpenSSH public keys the rescue system admits.
    pub ssh_keys: Vec<String>,
    /// The root password of the rescue system; erased once armed (see `scrub`).
    #[serde(default)]
    pub root_password: Option<String>,
}

impl RescueParams {
    /// Disabling `server`'s rescue system: what a user's disable_rescue and its expiry start.
    pub fn disable(server: ServerId) -> RescueParams {
        RescueParams { server, enabled: false, ssh_keys: Vec::new(), root_password: None }
    }
}

fn set_rescue(_: &State, c: &Ctx<RescueParams>) -> Result<Call, ActionError> {
    let rescue = c
        .params
        .enabled
        .then(|| RescueSpec { ssh_keys: c.params.ssh_keys.clone(), root_password: c.params.root_password.clone() });
    Ok(Call::SetRescue { vm: c.params.server.0, rescue })
}
/// Puts the rescue system back as the records (not yet changed) say it was; a rescue
/// system armed before is armed again as it was (its password is no longer known here).
fn undo_set_rescue(s: &State, c: &Ctx<RescueParams>) -> Result<Call, ActionError> {
    let was = s.servers.get(c.params.server.0).is_some_and(|srv| srv.rescue_enabled);
    Ok(Call::SetRescue { vm: c.params.server.0, rescue: was.then(RescueSpec::default) })
}
fn mark_rescue(tx: &mut Tx, c: &Ctx<RescueParams>) -> StepResult {
    let was = update_server(tx, c.params.server, |s| s.set_rescue(c.params.enabled.then(now)))?;
    Ok(Some(json!(was)))
}
fn unmark_rescue(tx: &mut Tx, c: &Ctx<RescueParams>) -> StepResult {
    if let Some(was) = c.output::<Option<DateTime<Utc>>>("mark_rescue") {
        update_server(tx, c.params.server, |s| s.set_rescue(was))?;
    }
    Ok(None)
}

static RESCUE_STEPS: [Step<RescueParams>; 2] = [
    Step::driver("set_rescue", set_rescue).undo_driver(undo_set_rescue),
    Step::record("mark_rescue", mark_rescue).undo_record(unmark_rescue),
];

/// `server_enable_rescue`: arms the rescue system for the next boot.
pub(crate) struct ServerEnableRescue;

impl Kind for ServerEnableRescue {
    const NAME: &'static str = "server_enable_rescue";
    type Params = RescueParams;

    fn steps() -> &'static [Step<RescueParams>] {
        &RESCUE_STEPS
    }

    fn resources(p: &RescueParams) -> Vec<ResourceRef> {
        vec![p.server.as_ref()]
    }

    const SECRETS: &'static [(&'static str, &'static str)] = &[("set_rescue", "/root_password")];
}

/// `server_disable_rescue`.
pub(crate) struct ServerDisableRescue;

impl Kind for ServerDisableRescue {
    const NAME: &'static str = "server_disable_rescue";
    type Params = RescueParams;

    fn steps() -> &'static [Step<RescueParams>] {
        &RESCUE_STEPS
    }

    fn resources(p: &RescueParams) -> Vec<ResourceRef> {
        vec![p.server.as_ref()]
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct IsoParams {
    pub server: ServerId,
    /// The ISO to insert, `None` to eject.
    pub iso: Option<IsoId>,
}

fn iso_name(s: &State, iso: Option<IsoId>) -> Result<Option<String>, ActionError> {
    iso.map(|id| {
        s.isos
            .get(id.0)
            .map(|i| i.name.clone())
            .ok_or_else(|| ActionError::new("not_found", format!("ISO {id} no longer exists")))
    })
    .transpose()
}
fn insert_iso(s: &State, c: &Ctx<IsoParams>) -> Result<Call, ActionError> {
    Ok(Call::SetIso { vm: c.params.server.0, iso: iso_name(s, c.params.iso)? })
}
/// Puts back the ISO the records (not yet changed) show.
fn undo_insert_iso(s: &State, c: &Ctx<IsoParams>) -> Result<Call, ActionError> {
    let current = s.servers.get(c.params.server.0).and_then(|srv| srv.iso);
    Ok(Call::SetIso { vm: c.params.server.0, iso: iso_name(s, current).unwrap_or(None) })
}
fn mark_iso(tx: &mut Tx, c: &Ctx<IsoParams>) -> StepResult {
    let was = update_server(tx, c.params.server, |s| std::mem::replace(&mut s.iso, c.params.iso))?;
    Ok(Some(json!(was)))
}
fn unmark_iso(tx: &mut Tx, c: &Ctx<IsoParams>) -> StepResult {
    if let Some(was) = c.output::<Option<IsoId>>("mark_iso") {
        update_server(tx, c.params.server, |s| s.iso = was)?;
    }
    Ok(None)
}

static ISO_STEPS: [Step<IsoParams>; 2] = [
    Step::driver("insert_iso", insert_iso).undo_driver(undo_insert_iso),
    Step::record("mark_iso", mark_iso).undo_record(unmark_iso),
];

/// `server_attach_iso`.
pub(crate) struct ServerAttachIso;

impl Kind for ServerAttachIso {
    const NAME: &'static str = "server_attach_iso";
    type Params = IsoParams;

    fn steps() -> &'static [Step<IsoParams>] {
        &ISO_STEPS
    }

    fn resources(p: &IsoParams) -> Vec<ResourceRef> {
        vec![p.server.as_ref()]
    }
}

/// `server_detach_iso`.
pub(crate) struct ServerDetachIso;

impl Kind for ServerDetachIso {
    const NAME: &'static str = "server_detach_iso";
    type Params = IsoParams;

    fn steps() -> &'static [Step<IsoParams>] {
        &ISO_STEPS
    }

    fn resources(p: &IsoParams) -> Vec<ResourceRef> {
        vec![p.server.as_ref()]
    }
}

/// `server_request_console`: the record that a console was opened. Opening it is a
/// read of the driver (its credentials are the answer), so the action has no steps.
pub(crate) struct ServerRequestConsole;

impl Kind for ServerRequestConsole {
    const NAME: &'static str = "server_request_console";
    type Params = OnServer;

    fn steps() -> &'static [Step<OnServer>] {
        &[]
    }

    fn resources(p: &OnServer) -> Vec<ResourceRef> {
        p.resources()
    }
}
