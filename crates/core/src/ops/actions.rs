//! Reading actions.

use crate::cloud::Cloud;
use crate::error::{Error, Result};
use crate::ids::*;
use crate::model::*;
use std::sync::Arc;

#[derive(Debug, Clone, Default)]
pub struct ActionFilter {
    /// Only these ids (all when empty).
    pub ids: Vec<ActionId>,
    pub status: Vec<ActionStatus>,
    pub commands: Vec<Command>,
    /// Only actions on this resource.
    pub resource: Option<ResourceRef>,
    /// Only actions touching a resource of this kind.
    pub resource_kind: Option<ResourceKind>,
}

impl Cloud {
    pub fn action_list(&self, p: &Principal, filter: &ActionFilter) -> Vec<Arc<Action>> {
        self.read(|s| {
            let matches = |a: &&Arc<Action>| {
                a.project == p.project
                    && (filter.status.is_empty() || filter.status.contains(&a.status))
                    && (filter.commands.is_empty() || filter.commands.contains(&a.command))
                    && filter.resource.is_none_or(|r| a.resources.contains(&r))
                    && filter.resource_kind.is_none_or(|k| a.resources.iter().any(|r| r.kind == k))
            };
            if filter.ids.is_empty() {
                s.actions.values().filter(matches).cloned().collect()
            } else {
                // Looked up by id, since clients poll a few ids among very many actions.
                let mut ids = filter.ids.clone();
                ids.sort();
                ids.dedup();
                ids.iter().filter_map(|id| s.actions.get(&id.0)).filter(matches).cloned().collect()
            }
        })
    }

    pub fn action_get(&self, p: &Principal, id: ActionId) -> Result<Arc<Action>> {
        self.read(|s| {
            s.actions
                .get(&id.0)
                .filter(|a| a.project == p.project)
                .cloned()
                .ok_or_else(|| Error::not_found(ResourceKind::Action, id))
        })
    }

    /// An action that touches a resource of `kind`, as `GET /images/actions/{id}` asks.
    pub fn action_get_of_kind(&self, p: &Principal, id: ActionId, kind: ResourceKind) -> Result<Arc<Action>> {
        let action = self.action_get(p, id)?;
        if action.resources.iter().any(|r| r.kind == kind) {
            Ok(action)
        } else {
            Err(Error::not_found(ResourceKind::Action, id))
        }
    }

    /// An action that concerns `resource`, as `GET /servers/{id}/actions/{action_id}` asks.
    pub fn action_get_for(&self, p: &Principal, id: ActionId, resource: ResourceRef) -> Result<Arc<Action>> {
        let action = self.action_get(p, id)?;
        if action.resources.contains(&resource) {
            Ok(action)
        } else {
            Err(Error::not_found(ResourceKind::Action, id))
        }
    }
}
