//! A server joining or leaving a placement group.

use super::steps::update_server;
use super::{Ctx, Kind, Step, StepResult};
use crate::data::Tx;
use crate::ids::{PlacementGroupId, ResourceRef, ServerId};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PlacementParams {
    pub server: ServerId,
    /// `None` removes it from its group.
    pub group: Option<PlacementGroupId>,
}

fn set_group(tx: &mut Tx, c: &Ctx<PlacementParams>) -> StepResult {
    let prior = update_server(tx, c.params.server, |s| std::mem::replace(&mut s.placement_group, c.params.group))?;
    Ok(Some(json!(prior)))
}
fn unset_group(tx: &mut Tx, c: &Ctx<PlacementParams>) -> StepResult {
    if let Some(prior) = c.output::<Option<PlacementGroupId>>("set_group") {
        update_server(tx, c.params.server, |s| s.placement_group = prior)?;
    }
    Ok(None)
}

// TODO-fidelity: with several hypervisor hosts (roadmap) joining a spread group may
// move the VM to another host, a driver step; on one host placement is bookkeeping.
static STEPS: [Step<PlacementParams>; 1] = [Step::record("set_group", set_group).undo_record(unset_group)];

/// `server_add_to_placement_group`.
pub(crate) struct ServerAddToPlacementGroup;

impl Kind for ServerAddToPlacementGroup {
    const NAME: &'static str = "server_add_to_placement_group";
    type Params = PlacementParams;

    fn steps() -> &'static [Step<PlacementParams>] {
        &STEPS
    }

    fn resources(p: &PlacementParams) -> Vec<ResourceRef> {
        vec![p.server.as_ref()]
    }
}

/// `server_remove_from_placement_group`.
pub(crate) struct ServerRemoveFromPlacementGroup;

impl Kind for ServerRemoveFromPlacementGroup {
    const NAME: &'static str = "server_remove_from_placement_group";
    type Params = PlacementParams;

    fn steps() -> &'static [Step<PlacementParams>] {
        &STEPS
    }

    fn resources(p: &PlacementParams) -> Vec<ResourceRef> {
        vec![p.server.as_ref()]
    }
}
