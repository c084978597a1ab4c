//! Reading actions.

use super::floating_ips::own_floating;
use super::images::visible_image;
use super::servers::own_server;
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

    /// Fails with `not_found` unless `resource` is one this project sees (as its own GET
    /// would answer): the check before listing or reading a resource's actions.
    pub fn ensure_visible(&self, p: &Principal, resource: ResourceRef) -> Result<()> {
        self.read(|s| match resource.kind {
            ResourceKind::Server => own_server(s, p, ServerId(resource.id)).map(drop),
            ResourceKind::Ip => own_floating(s, p, IpId(resource.id)).map(drop),
            ResourceKind::Image => visible_image(s, p, ImageId(resource.id)).map(drop),
            kind => Err(Error::not_found(kind, resource.id)),
        })
    }

    /// An action that concerns `resource`, as `GET /servers/{id}/actions/{action_id}` asks;
    /// `not_found` for the resource first if the project does not see it.
    pub fn action_get_for(&self, p: &Principal, id: ActionId, resource: ResourceRef) -> Result<Arc<Action>> {
        self.ensure_visible(p, resource)?;
        let action = self.action_get(p, id)?;
        if action.resources.contains(&resource) {
            Ok(action)
        } else {
            Err(Error::not_found(ResourceKind::Action, id))
        }
    }
}
