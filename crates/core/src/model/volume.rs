//! Block volumes: storage that outlives servers and moves between them (Hetzner volumes,
//! IONOS block storages).

use super::Protection;
use crate::ids::{LocationId, ProjectId, ServerId, VolumeId};
use crate::labels::Labels;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VolumeStatus {
    /// Its storage is being made.
    Creating,
    Available,
}

impl VolumeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            VolumeStatus::Creating => "creating",
            VolumeStatus::Available => "available",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Volume {
    pub id: VolumeId,
    pub project: ProjectId,
    pub name: String,
    pub size_gb: u32,
    pub location: LocationId,
    /// The server it is attached to.
    pub server: Option<ServerId>,
    /// Where the attached server's guest sees it, as the driver reported it.
    pub linux_device: Option<String>,
    /// The filesystem it was created with (`ext4`, `xfs`), if any.
    pub format: Option<String>,
    pub status: VolumeStatus,
    pub protection: Protection,
    pub labels: Labels,
    pub created: DateTime<Utc>,
}
