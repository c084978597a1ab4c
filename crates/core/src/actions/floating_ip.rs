//! Floating IPs moving between servers. TODO-fidelity: with a real data plane
//! (roadmap: networking) assigning an address becomes driver steps; until then it takes
//! effect in the records at once.

use super::steps::update_ip;
use super::{Ctx, Kind, Step, StepResult};
use crate::data::Tx;
use crate::ids::{IpId, ResourceRef, ServerId};
use crate::model::Attachee;
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct AssignParams {
    pub ip: IpId,
    /// `None` unassigns.
    pub server: Option<ServerId>,
}

impl AssignParams {
    pub(crate) fn resources(&self) -> Vec<ResourceRef> {
        let mut r = vec![self.ip.as_ref()];
        r.extend(self.server.map(|s| s.as_ref()));
        r
    }
}

pub(crate) fn set_assignee(tx: &mut Tx, c: &Ctx<AssignParams>) -> StepResult {
    let to = c.params.server.map(Attachee::Server);
    let prior = update_ip(tx, c.params.ip, |ip| std::mem::replace(&mut ip.assignee, to))?;
    Ok(Some(json!(prior)))
}
pub(crate) fn unset_assignee(tx: &mut Tx, c: &Ctx<AssignParams>) -> StepResult {
    if let Some(prior) = c.output::<Option<Attachee>>("set_assignee") {
        update_ip(tx, c.params.ip, |ip| ip.assignee = prior)?;
    }
    Ok(None)
}

static STEPS: [Step<AssignParams>; 1] = [Step::record("set_assignee", set_assignee).undo_record(unset_assignee)];

/// `floating_ip_assign`.
pub(crate) struct FloatingIpAssign;

impl Kind for FloatingIpAssign {
    const NAME: &'static str = "floating_ip_assign";
    type Params = AssignParams;

    fn steps() -> &'static [Step<AssignParams>] {
        &STEPS
    }

    fn resources(p: &AssignParams) -> Vec<ResourceRef> {
        p.resources()
    }
}

/// `floating_ip_unassign`.
pub(crate) struct FloatingIpUnassign;

impl Kind for FloatingIpUnassign {
    const NAME: &'static str = "floating_ip_unassign";
    type Params = AssignParams;

    fn steps() -> &'static [Step<AssignParams>] {
        &STEPS
    }

    fn resources(p: &AssignParams) -> Vec<ResourceRef> {
        p.resources()
    }
}
