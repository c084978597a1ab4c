//! Queries on actions.

use super::State;
use crate::error::{Error, Result};
use crate::ids::*;
use crate::model::*;
use chrono::{DateTime, Utc};
use std::sync::Arc;

impl State {
    /// The project's action with this id, or not found.
    pub(crate) fn action(&self, project: ProjectId, id: ActionId) -> Result<&Arc<Action>> {
        self.actions
            .get(id.0)
            .filter(|a| a.project == project)
            .ok_or_else(|| Error::not_found(ResourceKind::Action, id))
    }

    /// The actions that run (including those waiting on another), in id order.
    pub(crate) fn running_actions(&self) -> impl Iterator<Item = &Arc<Action>> + '_ {
        self.active.iter().filter_map(|id| self.actions.get(id.0)).filter(|a| a.is_running())
    }

    pub(crate) fn stuck_actions(&self) -> impl Iterator<Item = &Arc<Action>> + '_ {
        self.active.iter().filter_map(|id| self.actions.get(id.0)).filter(|a| a.status == ActionStatus::Stuck)
    }

    /// The ids of the actions on `resource`, in id order.
    pub(crate) fn actions_on(&self, resource: ResourceRef) -> impl Iterator<Item = &Arc<Action>> + '_ {
        self.linked(resource, ResourceKind::Action).filter_map(|id| self.actions.get(id))
    }

    /// Up to `limit` finished actions that ended before `cutoff`, oldest first. Ids grow
    /// with time, so the walk stops at the first action started after the cutoff.
    pub(crate) fn expired_actions(&self, cutoff: DateTime<Utc>, limit: usize) -> Vec<ActionId> {
        self.actions
            .all()
            .take_while(|a| a.started < cutoff)
            .filter(|a| a.is_finished() && a.finished.is_some_and(|f| f < cutoff))
            .map(|a| a.id)
            .take(limit)
            .collect()
    }
}
