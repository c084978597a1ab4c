//! Servers and their one state machine. Dialects render [`ServerStatus`] in their own
//! words (Hetzner `running`, IONOS `POWERED_ON`, Nitrado `running`, Cloude.ro `Running`);
//! none keeps a status of its own.

use super::Protection;
use crate::ids::{DatacenterId, ImageId, IsoId, PlacementGroupId, ProjectId, ServerId, ServerTypeId, SshKeyId};
use crate::labels::Labels;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use stratus_compute::{HardwareSpec, PowerState};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServerStatus {
    /// Being built; no VM yet.
    Initializing,
    Starting,
    Running,
    Stopping,
    Off,
    Deleting,
    /// The boot disk is being replaced.
    Rebuilding,
    /// The hardware is being changed.
    Migrating,
    /// An action on it is stuck (an undo failed): an operator must resolve it.
    Unknown,
}

impl ServerStatus {
    /// The status a VM in `power` shows when no action runs on it.
    pub fn settled(power: PowerState) -> Self {
        match power {
            PowerState::Running => ServerStatus::Running,
            PowerState::Off => ServerStatus::Off,
        }
    }

    /// What the VM is believed to be doing in this status, for re-learning it after a
    /// restart. A transitional status maps to the state *before* the transition, because
    /// the step that makes the transition is repeated on recovery.
    pub fn believed_power(self) -> Option<PowerState> {
        match self {
            ServerStatus::Initializing => None,
            ServerStatus::Running | ServerStatus::Stopping | ServerStatus::Unknown => Some(PowerState::Running),
            ServerStatus::Starting
            | ServerStatus::Off
            | ServerStatus::Deleting
            | ServerStatus::Rebuilding
            | ServerStatus::Migrating => Some(PowerState::Off),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ServerStatus::Initializing => "initializing",
            ServerStatus::Starting => "starting",
            ServerStatus::Running => "running",
            ServerStatus::Stopping => "stopping",
            ServerStatus::Off => "off",
            ServerStatus::Deleting => "deleting",
            ServerStatus::Rebuilding => "rebuilding",
            ServerStatus::Migrating => "migrating",
            ServerStatus::Unknown => "unknown",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        use ServerStatus::*;
        [Initializing, Starting, Running, Stopping, Off, Deleting, Rebuilding, Migrating, Unknown]
            .into_iter()
            .find(|st| st.as_str() == s)
    }
}

/// Bytes moved, for traffic accounting.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Traffic {
    pub ingoing: u64,
    pub outgoing: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Server {
    pub id: ServerId,
    pub project: ProjectId,
    pub name: String,
    pub status: ServerStatus,
    pub created: DateTime<Utc>,
    /// The type the hardware came from; `None` for custom hardware (IONOS, e24cloud).
    pub server_type: Option<ServerTypeId>,
    pub hardware: HardwareSpec,
    pub datacenter: DatacenterId,
    /// The image the boot disk was last built from.
    pub image: Option<ImageId>,
    pub iso: Option<IsoId>,
    pub rescue_enabled: bool,
    /// When the rescue system was armed, while it is (see [`Server::set_rescue`]).
    #[serde(default)]
    pub rescue_armed: Option<DateTime<Utc>>,
    /// `HH-HH` UTC window in which the daily backup runs; `None` when backups are off.
    pub backup_window: Option<String>,
    pub protection: Protection,
    pub labels: Labels,
    pub ssh_keys: Vec<SshKeyId>,
    pub user_data: Option<String>,
    pub traffic: Traffic,
    /// When the last scheduled backup ran, so the schedule survives restarts.
    #[serde(default)]
    pub last_backup: Option<DateTime<Utc>>,
    /// The placement group it belongs to. Its addresses, volumes, interfaces, firewalls
    /// and load balancers point at it instead (see `data`), since each can move.
    #[serde(default)]
    pub placement_group: Option<PlacementGroupId>,
}

impl Server {
    /// When the armed rescue system was armed, `None` when none is. One armed before
    /// Stratus recorded the time counts as armed when the server was created, so it
    /// expires at the next check.
    pub fn rescue_armed_at(&self) -> Option<DateTime<Utc>> {
        self.rescue_enabled.then(|| self.rescue_armed.unwrap_or(self.created))
    }

    /// Arms the rescue system as of `at`, or disarms it (`None`); returns when it was
    /// armed before, for an undo.
    pub fn set_rescue(&mut self, at: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
        let was = self.rescue_armed_at();
        self.rescue_enabled = at.is_some();
        self.rescue_armed = at;
        was
    }

    /// Whether its VM exists on the hypervisor: from the moment the create action's VM
    /// step committed (the same commit leaves `initializing`) until it is deleted.
    pub fn has_vm(&self) -> bool {
        self.status != ServerStatus::Initializing
    }
}

/// The bounds a server name must respect: an RFC 1123 hostname, since the name becomes
/// the guest's hostname.
pub fn validate_name(field: &str, name: &str) -> crate::Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name.split('.').all(|l| {
            !l.is_empty()
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        });
    if ok {
        Ok(())
    } else {
        Err(crate::Error::invalid_field(field, "must be a valid hostname"))
    }
}
