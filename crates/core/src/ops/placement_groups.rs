//! Placement groups: servers placed by a rule. Joining and leaving are server actions
//! (`ops::server_actions`); a group itself changes without actions.

use super::{check_labels, ensure_write, validate_name, ListFilter};
use crate::cloud::Cloud;
use crate::error::{Error, Refusal, Result};
use crate::ids::*;
use crate::labels::Labels;
use crate::model::*;
use crate::store::Record;
use crate::views::{placement_group_view, PlacementGroupView};
use std::sync::Arc;

/// Filters for listing placement groups.
#[derive(Debug, Clone, Default)]
pub struct PlacementGroupFilter {
    pub common: ListFilter,
    /// Any of these kinds (all when empty).
    pub kinds: Vec<PlacementKind>,
}

impl Cloud {
    /// The project's placement groups that match, in id order, with their members.
    pub fn placement_group_list(&self, p: &Principal, filter: &PlacementGroupFilter) -> Vec<PlacementGroupView> {
        self.read(|s| {
            s.placement_groups
                .candidates(Some(p.project), filter.common.name.as_deref(), filter.common.label_selector.as_ref())
                .into_iter()
                .filter(|g| filter.common.matches(Some(&g.name), &g.labels))
                .filter(|g| filter.kinds.is_empty() || filter.kinds.contains(&g.kind))
                .map(|g| placement_group_view(s, g))
                .collect()
        })
    }

    pub fn placement_group_get(&self, p: &Principal, id: PlacementGroupId) -> Result<PlacementGroupView> {
        self.read(|s| s.placement_group(p.project, id).map(|g| placement_group_view(s, g)))
    }

    pub async fn placement_group_create(
        &self,
        p: &Principal,
        name: String,
        kind: PlacementKind,
        labels: Labels,
    ) -> Result<PlacementGroupView> {
        ensure_write(p)?;
        validate_name("name", &name)?;
        check_labels(Some(&labels))?;
        let limit = self.config().resource_limit;
        let id = self
            .write(|tx| {
                if tx.placement_group_name_taken(p.project, &name, None) {
                    return Err(Error::uniqueness("name", "placement group name is already used"));
                }
                super::check_limit(limit, tx.placement_groups.count(Some(p.project)), ResourceKind::PlacementGroup)?;
                let id = PlacementGroupId(tx.next_id());
                let group = PlacementGroup { id, project: p.project, name, kind, labels, created: now() };
                tx.put(Record::PlacementGroup(Arc::new(group)));
                Ok(id)
            })
            .await?;
        self.placement_group_get(p, id)
    }

    /// Renames and/or relabels a placement group (labels replace the old set).
    pub async fn placement_group_update(
        &self,
        p: &Principal,
        id: PlacementGroupId,
        name: Option<String>,
        labels: Option<Labels>,
    ) -> Result<PlacementGroupView> {
        ensure_write(p)?;
        if let Some(name) = &name {
            validate_name("name", name)?;
        }
        check_labels(labels.as_ref())?;
        self.write(|tx| {
            let mut group = PlacementGroup::clone(tx.placement_group(p.project, id)?);
            if let Some(name) = name {
                if tx.placement_group_name_taken(p.project, &name, Some(id)) {
                    return Err(Error::uniqueness("name", "placement group name is already used"));
                }
                group.name = name;
            }
            if let Some(labels) = labels {
                group.labels = labels;
            }
            tx.put(Record::PlacementGroup(Arc::new(group)));
            Ok(())
        })
        .await?;
        self.placement_group_get(p, id)
    }

    /// Deletes an empty placement group. As on Hetzner, its servers must leave it first:
    /// a group is what keeps them apart, so it does not silently let them go.
    pub async fn placement_group_delete(&self, p: &Principal, id: PlacementGroupId) -> Result<()> {
        ensure_write(p)?;
        self.write(|tx| {
            tx.placement_group(p.project, id)?;
            let members = tx.group_members(id).count();
            if members > 0 {
                return Err(Error::refused(
                    Refusal::InUse,
                    format!("placement group {id} still has {members} servers; remove them from it first"),
                ));
            }
            tx.delete(id.as_ref());
            Ok(())
        })
        .await
    }
}
