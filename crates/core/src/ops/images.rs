//! Images: the catalogue's and the project's own snapshots and backups.

use super::{check_labels, ensure_write, ListFilter};
use crate::cloud::Cloud;
use crate::engine::{create_action, ensure_unlocked, NewAction};
use crate::error::{Error, Result};
use crate::ids::*;
use crate::labels::Labels;
use crate::model::*;
use crate::state::State;
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

fn visible(image: &Image, p: &Principal) -> bool {
    image.project.is_none_or(|owner| owner == p.project)
}

pub(crate) fn visible_image<'a>(s: &'a State, p: &Principal, id: ImageId) -> Result<&'a Arc<Image>> {
    s.images.get(&id.0).filter(|i| visible(i, p)).ok_or_else(|| Error::not_found(ResourceKind::Image, id))
}

/// The project's own image; catalogue images cannot be changed through the API.
fn own_image<'a>(s: &'a State, p: &Principal, id: ImageId) -> Result<&'a Arc<Image>> {
    let image = visible_image(s, p, id)?;
    if image.project.is_none() {
        return Err(Error::Forbidden { message: "catalogue images cannot be changed".into() });
    }
    Ok(image)
}

impl Cloud {
    pub fn image_list(&self, p: &Principal, filter: &ImageFilter) -> Vec<ImageView> {
        let now = now();
        self.read(|s| {
            s.images
                .values()
                .filter(|i| visible(i, p))
                .filter(|i| filter.common.matches(i.name.as_deref(), &i.labels))
                .filter(|i| filter.kinds.is_empty() || filter.kinds.contains(&i.kind))
                .filter(|i| filter.status.is_empty() || filter.status.contains(&i.status))
                .filter(|i| filter.bound_to.is_empty() || i.bound_to.is_some_and(|b| filter.bound_to.contains(&b)))
                .filter(|i| filter.architecture.as_ref().is_none_or(|a| &i.architecture == a))
                .filter(|i| filter.include_deprecated || i.deprecated.is_none_or(|d| d > now))
                .map(|i| image_view(s, i))
                .collect()
        })
    }

    pub fn image_get(&self, p: &Principal, id: ImageId) -> Result<ImageView> {
        self.read(|s| visible_image(s, p, id).map(|i| image_view(s, i)))
    }

    pub async fn image_update(&self, p: &Principal, id: ImageId, req: ImageUpdate) -> Result<ImageView> {
        ensure_write(p)?;
        check_labels(req.labels.as_ref())?;
        if req.kind.is_some_and(|k| k != ImageType::Snapshot) {
            return Err(Error::invalid_field("type", "can only be changed to snapshot"));
        }
        self.write(|tx| {
            let mut image = Image::clone(own_image(tx.state, p, id)?);
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
            Ok(image_view(tx.state, &image))
        })
        .await
    }

    pub async fn image_delete(&self, p: &Principal, id: ImageId) -> Result<()> {
        ensure_write(p)?;
        let deleted = self
            .write(|tx| {
                let image = own_image(tx.state, p, id)?;
                if image.protection.delete {
                    return Err(Error::Protected {
                        message: "image deletion is protected; disable delete protection first".into(),
                    });
                }
                ensure_unlocked(tx, &[id.as_ref()])?;
                tx.delete(id.as_ref());
                Ok(id)
            })
            .await?;
        // The record is gone; removing the data is best effort (a leak, not a lie).
        if let Err(e) = self.inner.driver.delete_snapshot(deleted.0).await {
            tracing::warn!(image = deleted.0, error = %e, "could not remove image data");
        }
        Ok(())
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
            let mut image = Image::clone(own_image(tx.state, p, id)?);
            ensure_unlocked(tx, &[id.as_ref()])?;
            if let Some(delete) = delete {
                image.protection.delete = delete;
            }
            tx.put(Record::Image(Arc::new(image)));
            create_action(tx, p.project, NewAction::new(Command::ChangeProtection, vec![id.as_ref()], Vec::new()))
        })
        .await
    }
}
