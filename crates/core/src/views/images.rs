//! Images.

use super::{holder, Holder};
use crate::data::State;
use crate::model::*;
use std::sync::Arc;

/// An image and the action holding it.
#[derive(Debug, Clone)]
pub struct ImageView {
    pub image: Arc<Image>,
    pub holder: Option<Holder>,
}

pub(crate) fn image_view(state: &State, image: &Arc<Image>) -> ImageView {
    ImageView { image: image.clone(), holder: holder(state, image.id.as_ref()) }
}
