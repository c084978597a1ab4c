//! Placement groups.

use crate::data::State;
use crate::ids::ServerId;
use crate::model::*;
use std::sync::Arc;

/// A placement group with its members.
#[derive(Debug, Clone)]
pub struct PlacementGroupView {
    pub group: Arc<PlacementGroup>,
    /// Its servers, in id order.
    pub servers: Vec<ServerId>,
}

pub(crate) fn placement_group_view(state: &State, group: &Arc<PlacementGroup>) -> PlacementGroupView {
    PlacementGroupView { group: group.clone(), servers: state.group_members(group.id).map(|s| s.id).collect() }
}
