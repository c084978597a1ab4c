//! Volumes.

use super::{holder, Holder};
use crate::data::State;
use crate::model::*;
use std::sync::Arc;

/// A volume with its location and the action holding it.
#[derive(Debug, Clone)]
pub struct VolumeView {
    pub volume: Arc<Volume>,
    pub location: Arc<Location>,
    pub holder: Option<Holder>,
}

pub(crate) fn volume_view(state: &State, volume: &Arc<Volume>) -> Option<VolumeView> {
    let location = state.locations.get(volume.location.0)?.clone();
    Some(VolumeView { volume: volume.clone(), location, holder: holder(state, volume.id.as_ref()) })
}
