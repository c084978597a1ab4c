//! Placement groups: servers placed by a rule. `Spread` puts each member on another
//! physical host; members point at their group (`Server::placement_group`).

use crate::ids::{PlacementGroupId, ProjectId};
use crate::labels::Labels;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlacementKind {
    Spread,
}

impl PlacementKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PlacementKind::Spread => "spread",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlacementGroup {
    pub id: PlacementGroupId,
    pub project: ProjectId,
    pub name: String,
    pub kind: PlacementKind,
    pub labels: Labels,
    pub created: DateTime<Utc>,
}
