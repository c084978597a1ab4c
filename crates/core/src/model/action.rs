//! Actions: the one long-operation mechanism. Hetzner actions, Cloude.ro events and IONOS
//! `status.percent` are all views of these. An action is a list of [`Step`]s persisted
//! with it; the engine runs them in order, records each one's completion durably, and on
//! failure undoes the completed ones in reverse.

use crate::ids::{ActionId, ImageId, IsoId, ProjectId, ResourceRef, ServerTypeId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use stratus_compute::{HardwareSpec, StopMode, VmSpec};

/// What an action does. The names are Hetzner's action `command`s, which make a neutral
/// vocabulary; other dialects map them to their own event names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Command {
    CreateServer,
    DeleteServer,
    StartServer,
    StopServer,
    ShutdownServer,
    RebootServer,
    ResetServer,
    ResetPassword,
    EnableRescue,
    DisableRescue,
    CreateImage,
    RebuildServer,
    ChangeServerType,
    EnableBackup,
    DisableBackup,
    AttachIso,
    DetachIso,
    ChangeDnsPtr,
    ChangeProtection,
    RequestConsole,
    AssignFloatingIp,
    UnassignFloatingIp,
    /// A scheduled backup of a server.
    CreateBackup,
}

impl Command {
    pub const ALL: [Command; 23] = [
        Command::CreateServer,
        Command::DeleteServer,
        Command::StartServer,
        Command::StopServer,
        Command::ShutdownServer,
        Command::RebootServer,
        Command::ResetServer,
        Command::ResetPassword,
        Command::EnableRescue,
        Command::DisableRescue,
        Command::CreateImage,
        Command::RebuildServer,
        Command::ChangeServerType,
        Command::EnableBackup,
        Command::DisableBackup,
        Command::AttachIso,
        Command::DetachIso,
        Command::ChangeDnsPtr,
        Command::ChangeProtection,
        Command::RequestConsole,
        Command::AssignFloatingIp,
        Command::UnassignFloatingIp,
        Command::CreateBackup,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Command::CreateServer => "create_server",
            Command::DeleteServer => "delete_server",
            Command::StartServer => "start_server",
            Command::StopServer => "stop_server",
            Command::ShutdownServer => "shutdown_server",
            Command::RebootServer => "reboot_server",
            Command::ResetServer => "reset_server",
            Command::ResetPassword => "reset_password",
            Command::EnableRescue => "enable_rescue",
            Command::DisableRescue => "disable_rescue",
            Command::CreateImage => "create_image",
            Command::RebuildServer => "rebuild_server",
            Command::ChangeServerType => "change_server_type",
            Command::EnableBackup => "enable_backup",
            Command::DisableBackup => "disable_backup",
            Command::AttachIso => "attach_iso",
            Command::DetachIso => "detach_iso",
            Command::ChangeDnsPtr => "change_dns_ptr",
            Command::ChangeProtection => "change_protection",
            Command::RequestConsole => "request_console",
            Command::AssignFloatingIp => "assign_floating_ip",
            Command::UnassignFloatingIp => "unassign_floating_ip",
            Command::CreateBackup => "create_backup",
        }
    }

    pub fn parse(s: &str) -> Option<Command> {
        Command::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionStatus {
    Running,
    Success,
    Error,
}

impl ActionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ActionStatus::Running => "running",
            ActionStatus::Success => "success",
            ActionStatus::Error => "error",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [ActionStatus::Running, ActionStatus::Success, ActionStatus::Error].into_iter().find(|st| st.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionError {
    pub code: String,
    pub message: String,
}

/// One side effect on the hypervisor, with what is needed to repeat or undo it.
/// Steps are persisted, so they carry plain data only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "step")]
pub enum Step {
    CreateVm {
        spec: VmSpec,
    },
    StartVm,
    StopVm {
        mode: StopMode,
    },
    RebootVm,
    ResetVm,
    /// The VM is off; its boot disk is rebuilt from `spec.image`.
    RebuildVm {
        spec: VmSpec,
    },
    /// The VM is off. The type ids travel along so the server record follows the hardware.
    ResizeVm {
        to: HardwareSpec,
        from: HardwareSpec,
        to_type: Option<ServerTypeId>,
        from_type: Option<ServerTypeId>,
    },
    SnapshotVm {
        image: ImageId,
    },
    /// Removes a snapshot's data: the undo of `SnapshotVm`.
    DeleteSnapshot {
        image: ImageId,
    },
    SetRescue {
        enabled: bool,
        ssh_keys: Vec<String>,
    },
    SetIso {
        iso: Option<(IsoId, String)>,
        previous: Option<(IsoId, String)>,
    },
    SetPassword {
        password: String,
    },
    DeleteVm,
}

impl Step {
    /// The step that reverses this one, if any. Some steps cannot be reversed (a reboot
    /// has happened; a rebuilt disk's old contents are gone) and are left as they are.
    pub fn undo(&self) -> Option<Step> {
        match self {
            Step::CreateVm { .. } => Some(Step::DeleteVm),
            Step::StartVm => Some(Step::StopVm { mode: StopMode::Hard }),
            Step::StopVm { .. } => Some(Step::StartVm),
            Step::ResizeVm { to, from, to_type, from_type } => {
                Some(Step::ResizeVm { to: from.clone(), from: to.clone(), to_type: *from_type, from_type: *to_type })
            }
            Step::SnapshotVm { image } => Some(Step::DeleteSnapshot { image: *image }),
            Step::SetRescue { enabled, .. } => Some(Step::SetRescue { enabled: !enabled, ssh_keys: Vec::new() }),
            Step::SetIso { iso, previous } => Some(Step::SetIso { iso: previous.clone(), previous: iso.clone() }),
            Step::DeleteSnapshot { .. }
            | Step::RebootVm
            | Step::ResetVm
            | Step::RebuildVm { .. }
            | Step::SetPassword { .. }
            | Step::DeleteVm => None,
        }
    }

    /// Forgets secrets once the step has run, so they are not kept at rest.
    pub fn scrub(&mut self) {
        match self {
            Step::CreateVm { spec } | Step::RebuildVm { spec } => spec.root_password = None,
            Step::SetPassword { password } => password.clear(),
            _ => {}
        }
    }
}

/// Where a running action stands.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub steps: Vec<Step>,
    /// How many steps have completed.
    pub done: usize,
    /// Set once a step failed: the undo steps still to run, in order, and the error.
    pub unwinding: Option<Unwind>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unwind {
    pub undo: Vec<Step>,
    pub done: usize,
    pub error: ActionError,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Action {
    pub id: ActionId,
    pub project: ProjectId,
    pub command: Command,
    pub status: ActionStatus,
    /// 0-100.
    pub progress: u8,
    pub started: DateTime<Utc>,
    pub finished: Option<DateTime<Utc>>,
    /// The resources it acts on; all of them are locked while it runs.
    pub resources: Vec<ResourceRef>,
    pub error: Option<ActionError>,
    pub plan: Plan,
    /// Runs only after this action has succeeded (Hetzner's `next_actions`: a server's
    /// `start_server` after its `create_server`); fails if that one fails.
    #[serde(default)]
    pub after: Option<ActionId>,
}

impl Action {
    pub fn is_running(&self) -> bool {
        self.status == ActionStatus::Running
    }
}
