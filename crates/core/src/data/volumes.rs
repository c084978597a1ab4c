//! Queries on volumes.

use super::State;
use crate::error::{Error, Result};
use crate::ids::*;
use crate::model::*;
use std::sync::Arc;

impl State {
    /// The project's volume with this id, or not found (also for other projects' volumes).
    pub(crate) fn volume(&self, project: ProjectId, id: VolumeId) -> Result<&Arc<Volume>> {
        self.volumes
            .get(id.0)
            .filter(|v| v.project == project)
            .ok_or_else(|| Error::not_found(ResourceKind::Volume, id))
    }

    /// Whether another volume of the project has this name.
    pub(crate) fn volume_name_taken(&self, project: ProjectId, name: &str, except: Option<VolumeId>) -> bool {
        self.volumes.named(Some(project), name).any(|v| Some(v.id) != except)
    }
}
