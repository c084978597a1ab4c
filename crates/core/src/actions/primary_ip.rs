//! Primary IPs moving between (powered-off) servers. TODO-fidelity: as for floating IPs,
//! the data plane follows the records at once until networking is real.

use super::floating_ip::{set_assignee, unset_assignee, AssignParams};
use super::{Kind, Step};
use crate::ids::ResourceRef;

static STEPS: [Step<AssignParams>; 1] = [Step::record("set_assignee", set_assignee).undo_record(unset_assignee)];

/// `primary_ip_assign`.
pub(crate) struct PrimaryIpAssign;

impl Kind for PrimaryIpAssign {
    const NAME: &'static str = "primary_ip_assign";
    type Params = AssignParams;

    fn steps() -> &'static [Step<AssignParams>] {
        &STEPS
    }

    fn resources(p: &AssignParams) -> Vec<ResourceRef> {
        p.resources()
    }
}

/// `primary_ip_unassign`.
pub(crate) struct PrimaryIpUnassign;

impl Kind for PrimaryIpUnassign {
    const NAME: &'static str = "primary_ip_unassign";
    type Params = AssignParams;

    fn steps() -> &'static [Step<AssignParams>] {
        &STEPS
    }

    fn resources(p: &AssignParams) -> Vec<ResourceRef> {
        p.resources()
    }
}
