//! The one image store: provider images (Hetzner system images, IONOS appliances,
//! Cloude.ro images, e24cloud templates) and project images (snapshots, backups).

use super::Protection;
use crate::ids::{ImageId, ProjectId, ServerId};
use crate::labels::Labels;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageType {
    System,
    App,
    Snapshot,
    Backup,
}

impl ImageType {
    pub fn as_str(self) -> &'static str {
        match self {
            ImageType::System => "system",
            ImageType::App => "app",
            ImageType::Snapshot => "snapshot",
            ImageType::Backup => "backup",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageStatus {
    Available,
    Creating,
    Unavailable,
}

impl ImageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ImageStatus::Available => "available",
            ImageStatus::Creating => "creating",
            ImageStatus::Unavailable => "unavailable",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Image {
    pub id: ImageId,
    /// `None` for catalogue images every project sees.
    pub project: Option<ProjectId>,
    /// Stored as `type` (Hetzner's word), which also keeps it apart from the `kind` tag
    /// of admin catalogue entries.
    #[serde(rename = "type")]
    pub kind: ImageType,
    pub status: ImageStatus,
    /// Unique among catalogue images; project images usually have none.
    pub name: Option<String>,
    pub description: String,
    /// GB of the compressed image; `None` until it exists.
    pub image_size: Option<f64>,
    /// GB of disk a server needs to use it.
    pub disk_size: f64,
    pub created: DateTime<Utc>,
    /// The server it was taken from, and that server's name then.
    pub created_from: Option<(ServerId, String)>,
    /// Backups belong to their server and go with it.
    pub bound_to: Option<ServerId>,
    pub os_flavor: String,
    pub os_version: Option<String>,
    pub architecture: String,
    pub rapid_deploy: bool,
    pub protection: Protection,
    pub deprecated: Option<DateTime<Utc>>,
    pub labels: Labels,
}
