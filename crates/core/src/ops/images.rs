//! Images: the catalogue's and the project's own snapshots and backups.

use super::{check_labels, ensure_unprotected, ensure_write, ListFilter};
use crate::actions::{self, ChangeProtection, ImageDataDelete, ImageDataParams, ProtectionParams};
use crate::cloud::Cloud;
use crate::data::State;
use crate::engine::ensure_unlocked;
use crate::error::{Error, Result};
use crate::ids::*;
use crate::labels::Labels;
use crate::model::*;
use crate::store::Record;
use crate::views::{image_view, ImageView};
use std::sync::Arc;

#[derive(Debug, Clone, Default)]
pub struct ImageFilter {
    pub common: ListFilter,
    /// Any of these types (all when empty).
    pub kinds: Vec<ImageType>,
    pub status: Vec<ImageStatus>,
    /// Only backups of these servers (any when empty).
    pub bound_to: Vec<ServerId>,
    pub architecture: Option<String>,
    /// Deprecated catalogue images are hidden unless asked for.
    pub include_deprecated: bool,
}

#[derive(Debug, Clone, Default)]
pub struct ImageUpdate {
    pub description: Option<String>,
    /// Only `Snapshot` is accepted: it turns a backup into a snapshot.
    pub kind: Option<ImageType>,
    pub labels: Option<Labels>,
}

/// The project's own image; catalogue images cannot be changed through the API.
fn own_image<'a>(s: &'a State, p: &Principal, id: ImageId) -> Result<&'a Arc<Image>> {
    let image = s.visible_image(p.project, id)?;
    if image.project.is_none() {
        return Err(Error::Forbidden { message: "catalogue images cannot be changed".into() });
    }
    Ok(image)
}

impl Cloud {
    pub fn image_list(&self, p: &Principal, filter: &ImageFilter) -> Vec<ImageView> {
        let now = now();
        let f = filter;
        let keep = |i: &&Arc<Image>| {
            f.common.matches(i.name.as_deref(), &i.labels)
                && (f.kinds.is_empty() || f.kinds.contains(&i.kind))
                && (f.status.is_empty() || f.status.contains(&i.status))
                && (f.bound_to.is_empty() || i.bound_to.is_some_and(|b| f.bound_to.contains(&b)))
                && f.architecture.as_ref().is_none_or(|a| &i.architecture == a)
                && (f.include_deprecated || i.deprecated.is_none_or(|d| d > now))
        };
        self.read(|s| {
            let name = f.common.name.as_deref();
            let selector = f.common.label_selector.as_ref();
            let mut images: Vec<&Arc<Image>> = s.images.candidates(None, name, selector);
            images.extend(s.images.candidates(Some(p.project), name, selector));
            images.retain(keep);
            images.sort_by_key(|i| i.id);
            images.into_iter().map(|i| image_view(s, i)).collect()
        })
    }

    pub fn image_get(&self, p: &Principal, id: ImageId) -> Result<ImageView> {
        self.read(|s| s.visible_image(p.project, id).map(|i| image_view(s, i)))
    }

    pub async fn image_update(&self, p: &Principal, id: ImageId, req: ImageUpdate) -> Result<ImageView> {
        ensure_write(p)?;
        check_labels(req.labels.as_ref())?;
        if req.kind.is_some_and(|k| k != ImageType::Snapshot) {
            return Err(Error::invalid_field("type", "can only be changed to snapshot"));
        }
        self.write(|tx| {
            let mut image = Image::clone(own_image(tx, p, id)?);
            if let Some(description) = req.description {
                image.description = description;
            }
            if let Some(kind) = req.kind {
                // A backup converted to a snapshot no longer belongs to its server.
                image.kind = kind;
                image.bound_to = None;
            }
            if let Some(labels) = req.labels {
                image.labels = labels;
            }
            let image = Arc::new(image);
            tx.put(Record::Image(image.clone()));
            Ok(image_view(tx, &image))
        })
        .await
    }

    /// Deletes an image's record at once; its data goes in an action of its own.
    pub async fn image_delete(&self, p: &Principal, id: ImageId) -> Result<()> {
        ensure_write(p)?;
        self.write(|tx| {
            let image = own_image(tx, p, id)?;
            ensure_unprotected(image.protection, id.as_ref(), "delete")?;
            ensure_unlocked(tx, &[id.as_ref()])?;
            tx.delete(id.as_ref());
            actions::start::<ImageDataDelete>(tx, p.project, ImageDataParams { images: vec![id] }, None)?;
            Ok(())
        })
        .await
    }

    /// `delete: None` leaves the flag as it is.
    pub async fn image_change_protection(
        &self,
        p: &Principal,
        id: ImageId,
        delete: Option<bool>,
    ) -> Result<Arc<Action>> {
        ensure_write(p)?;
        self.write(|tx| {
            own_image(tx, p, id)?;
            ensure_unlocked(tx, &[id.as_ref()])?;
            let params = ProtectionParams { resource: id.as_ref(), delete, rebuild: None };
            actions::start::<ChangeProtection>(tx, p.project, params, None)
        })
        .await
    }
}
