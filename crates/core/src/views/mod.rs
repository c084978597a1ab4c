//! Read models: a resource together with the records a dialect needs to render it,
//! gathered under one lock so a page of 50 servers costs one lock, not 300. One module
//! per resource.

mod certificates;
mod firewalls;
mod images;
mod load_balancers;
mod networks;
mod placement_groups;
mod servers;
mod volumes;

pub use certificates::*;
pub use firewalls::*;
pub use images::*;
pub use load_balancers::*;
pub use networks::*;
pub use placement_groups::*;
pub use servers::*;
pub use volumes::*;

use crate::data::State;
use crate::ids::*;
use crate::model::*;
use std::sync::Arc;

/// The action holding a resource: which one, of what kind, how far along. IONOS shows
/// a busy server as REBOOTING at 40 %; Hetzner shows `locked: true`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub action: ActionId,
    pub kind: String,
    pub status: ActionStatus,
    pub progress: u8,
}

/// Who holds `resource`, if an action does: the one under way, not one waiting on it
/// (a server's start waiting on its create holds the lock for after the create).
pub(crate) fn holder(state: &State, resource: ResourceRef) -> Option<Holder> {
    let mut action = state.actions.get(state.lock_holder(resource)?.0)?;
    while let Some(pred) = action.after.and_then(|p| state.actions.get(p.0)).filter(|p| p.holds_locks()) {
        action = pred;
    }
    Some(Holder { action: action.id, kind: action.kind.clone(), status: action.status, progress: action.progress })
}

/// A datacenter with its location and the server types it offers.
#[derive(Debug, Clone)]
pub struct DatacenterView {
    pub datacenter: Arc<Datacenter>,
    pub location: Arc<Location>,
    /// Types that exist here.
    pub supported: Vec<ServerTypeId>,
    /// Types that can be ordered here now (not deprecated).
    pub available: Vec<ServerTypeId>,
    /// Types a server here can change to.
    pub available_for_migration: Vec<ServerTypeId>,
}

pub(crate) fn datacenter_view(state: &State, dc: &Arc<Datacenter>) -> Option<DatacenterView> {
    let location = state.locations.get(dc.location.0)?.clone();
    let priced_here = |t: &ServerType| t.prices.iter().any(|p| p.location == dc.location);
    let supported: Vec<ServerTypeId> = state.server_types.all().filter(|t| priced_here(t)).map(|t| t.id).collect();
    let available: Vec<ServerTypeId> =
        state.server_types.all().filter(|t| priced_here(t) && t.deprecated.is_none()).map(|t| t.id).collect();
    Some(DatacenterView {
        datacenter: dc.clone(),
        location,
        supported,
        available_for_migration: available.clone(),
        available,
    })
}
