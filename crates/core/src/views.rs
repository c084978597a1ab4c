//! Read models: a resource together with the records a dialect needs to render it,
//! gathered under one lock so a page of 50 servers costs one lock, not 300.

use crate::ids::*;
use crate::model::*;
use crate::state::State;
use std::collections::HashMap;
use std::sync::Arc;

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

/// A server and everything its rendering refers to.
#[derive(Debug, Clone)]
pub struct ServerView {
    pub server: Arc<Server>,
    pub server_type: Option<Arc<ServerType>>,
    /// Shared: every server of a datacenter in one answer points to the same view.
    pub datacenter: Arc<DatacenterView>,
    pub image: Option<Arc<Image>>,
    pub iso: Option<Arc<Iso>>,
    pub ipv4: Option<Arc<PublicIp>>,
    pub ipv6: Option<Arc<PublicIp>>,
    pub floating_ips: Vec<IpId>,
    /// Whether an action is running on it.
    pub locked: bool,
}

/// An image and whether an action holds it.
#[derive(Debug, Clone)]
pub struct ImageView {
    pub image: Arc<Image>,
    pub locked: bool,
}

pub(crate) fn datacenter_view(state: &State, dc: &Arc<Datacenter>) -> Option<DatacenterView> {
    let location = state.locations.get(&dc.location.0)?.clone();
    let priced_here = |t: &ServerType| t.prices.iter().any(|p| p.location == dc.location);
    let supported: Vec<ServerTypeId> = state.server_types.values().filter(|t| priced_here(t)).map(|t| t.id).collect();
    let available: Vec<ServerTypeId> =
        state.server_types.values().filter(|t| priced_here(t) && t.deprecated.is_none()).map(|t| t.id).collect();
    Some(DatacenterView {
        datacenter: dc.clone(),
        location,
        supported,
        available_for_migration: available.clone(),
        available,
    })
}

/// What rendering many servers shares, built once per request: one view per datacenter.
#[derive(Debug, Default)]
pub(crate) struct ServerViewCache {
    datacenters: HashMap<DatacenterId, Arc<DatacenterView>>,
}

pub(crate) fn server_view(state: &State, server: &Arc<Server>, cache: &mut ServerViewCache) -> Option<ServerView> {
    let datacenter = match cache.datacenters.get(&server.datacenter) {
        Some(view) => view.clone(),
        None => {
            let view = Arc::new(datacenter_view(state, state.datacenters.get(&server.datacenter.0)?)?);
            cache.datacenters.insert(server.datacenter, view.clone());
            view
        }
    };
    Some(ServerView {
        server: server.clone(),
        server_type: server.server_type.and_then(|t| state.server_types.get(&t.0)).cloned(),
        datacenter,
        image: server.image.and_then(|i| state.images.get(&i.0)).cloned(),
        iso: server.iso.and_then(|i| state.isos.get(&i.0)).cloned(),
        ipv4: server.ipv4.and_then(|i| state.ips.get(&i.0)).cloned(),
        ipv6: server.ipv6.and_then(|i| state.ips.get(&i.0)).cloned(),
        floating_ips: state.floating_by_server.get(&server.id).cloned().unwrap_or_default(),
        locked: state.locks.contains_key(&server.id.as_ref()),
    })
}

pub(crate) fn image_view(state: &State, image: &Arc<Image>) -> ImageView {
    ImageView { image: image.clone(), locked: state.locks.contains_key(&image.id.as_ref()) }
}
