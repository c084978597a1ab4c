//! Reading actions.

use crate::cloud::Cloud;
use crate::data::State;
use crate::error::{Error, Result};
use crate::ids::*;
use crate::model::*;
use std::sync::Arc;

#[derive(Debug, Clone, Default)]
pub struct ActionFilter {
    /// Only these ids (all when empty).
    pub ids: Vec<ActionId>,
    pub status: Vec<ActionStatus>,
    /// Only these kinds (all when empty): a dialect lists the kinds it has words for.
    pub kinds: Vec<&'static str>,
    /// Only actions on this resource.
    pub resource: Option<ResourceRef>,
    /// Only actions touching a resource of this kind.
    pub resource_kind: Option<ResourceKind>,
}

impl ActionFilter {
    fn matches(&self, p: &Principal, a: &Action) -> bool {
        a.project == p.project
            && (self.status.is_empty() || self.status.contains(&a.status))
            && (self.kinds.is_empty() || self.kinds.contains(&a.kind.as_str()))
            && self.resource.is_none_or(|r| a.concerns().any(|c| c == r))
            && self.resource_kind.is_none_or(|k| a.concerns().any(|r| r.kind == k))
    }
}

impl Cloud {
    pub fn action_list(&self, p: &Principal, filter: &ActionFilter) -> Vec<Arc<Action>> {
        self.read(|s| {
            let matches = |a: &&Arc<Action>| filter.matches(p, a);
            if !filter.ids.is_empty() {
                // Looked up by id, since clients poll a few ids among very many actions.
                let mut ids = filter.ids.clone();
                ids.sort();
                ids.dedup();
                return ids.iter().filter_map(|id| s.actions.get(id.0)).filter(matches).cloned().collect();
            }
            match filter.resource {
                Some(r) => s.actions_on(r).filter(matches).cloned().collect(),
                None => s.actions.of(Some(p.project)).filter(matches).cloned().collect(),
            }
        })
    }

    pub fn action_get(&self, p: &Principal, id: ActionId) -> Result<Arc<Action>> {
        self.read(|s| s.action(p.project, id).cloned())
    }

    /// An action that touches a resource of `kind`, as `GET /images/actions/{id}` asks.
    pub fn action_get_of_kind(&self, p: &Principal, id: ActionId, kind: ResourceKind) -> Result<Arc<Action>> {
        let action = self.action_get(p, id)?;
        if action.concerns().any(|r| r.kind == kind) {
            Ok(action)
        } else {
            Err(Error::not_found(ResourceKind::Action, id))
        }
    }

    /// Fails with `not_found` unless `resource` is one this project sees (as its own GET
    /// would answer): the check before listing or reading a resource's actions.
    pub fn ensure_visible(&self, p: &Principal, resource: ResourceRef) -> Result<()> {
        self.read(|s| visible(s, p, resource))
    }

    /// An action that concerns `resource`, as `GET /servers/{id}/actions/{action_id}` asks;
    /// `not_found` for the resource first if the project does not see it.
    pub fn action_get_for(&self, p: &Principal, id: ActionId, resource: ResourceRef) -> Result<Arc<Action>> {
        self.ensure_visible(p, resource)?;
        let action = self.action_get(p, id)?;
        if action.concerns().any(|r| r == resource) {
            Ok(action)
        } else {
            Err(Error::not_found(ResourceKind::Action, id))
        }
    }
}

/// Whether the project sees `resource`: its own resources and the catalogue's images.
fn visible(s: &State, p: &Principal, resource: ResourceRef) -> Result<()> {
    let id = resource.id;
    let own = |project: Option<ProjectId>| project == Some(p.project);
    let seen = match resource.kind {
        ResourceKind::Server => s.servers.get(id).is_some_and(|r| own(Some(r.project))),
        ResourceKind::Ip => s.ips.get(id).is_some_and(|r| own(Some(r.project))),
        ResourceKind::Image => return s.visible_image(p.project, ImageId(id)).map(drop),
        ResourceKind::Volume => s.volumes.get(id).is_some_and(|r| own(Some(r.project))),
        ResourceKind::Network => s.networks.get(id).is_some_and(|r| own(Some(r.project))),
        ResourceKind::Firewall => s.firewalls.get(id).is_some_and(|r| own(Some(r.project))),
        ResourceKind::LoadBalancer => s.load_balancers.get(id).is_some_and(|r| own(Some(r.project))),
        ResourceKind::PlacementGroup => s.placement_groups.get(id).is_some_and(|r| own(Some(r.project))),
        ResourceKind::Certificate => s.certificates.get(id).is_some_and(|r| own(Some(r.project))),
        _ => false,
    };
    if seen {
        Ok(())
    } else {
        Err(Error::not_found(resource.kind, id))
    }
}
