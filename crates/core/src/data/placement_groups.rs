//! Queries on placement groups.

use super::State;
use crate::error::{Error, Result};
use crate::ids::*;
use crate::model::*;
use std::sync::Arc;

impl State {
    /// The project's placement group with this id, or not found.
    pub(crate) fn placement_group(&self, project: ProjectId, id: PlacementGroupId) -> Result<&Arc<PlacementGroup>> {
        self.placement_groups
            .get(id.0)
            .filter(|g| g.project == project)
            .ok_or_else(|| Error::not_found(ResourceKind::PlacementGroup, id))
    }

    /// Whether another placement group of the project has this name.
    pub(crate) fn placement_group_name_taken(
        &self,
        project: ProjectId,
        name: &str,
        except: Option<PlacementGroupId>,
    ) -> bool {
        self.placement_groups.named(Some(project), name).any(|g| Some(g.id) != except)
    }
}
