//! Images made from servers, and removing an image's data.

use super::steps::update_image;
use super::{Ctx, Kind, Step, StepResult};
use crate::data::{State, Tx};
use crate::engine::Call;
use crate::ids::{ImageId, ResourceRef, ServerId};
use crate::model::{ActionError, Image, ImageStatus};
use crate::store::Record;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CreateImageParams {
    pub server: ServerId,
    /// The image record to make, `creating` until its data exists.
    pub image: Image,
}

type C<'a> = Ctx<'a, CreateImageParams>;

fn insert_image(tx: &mut Tx, c: &C) -> StepResult {
    tx.put(Record::Image(Arc::new(c.params.image.clone())));
    Ok(None)
}
fn remove_image(tx: &mut Tx, c: &C) -> StepResult {
    tx.delete(c.params.image.id.as_ref());
    Ok(None)
}
fn snapshot(_: &State, c: &C) -> Result<Call, ActionError> {
    Ok(Call::Snapshot { vm: c.params.server.0, image: c.params.image.id.0 })
}
fn delete_snapshot(_: &State, c: &C) -> Result<Call, ActionError> {
    Ok(Call::DeleteSnapshot(c.params.image.id.0))
}
fn mark_available(tx: &mut Tx, c: &C) -> StepResult {
    let size = c.output::<f64>("snapshot");
    update_image(tx, c.params.image.id, |i| {
        i.status = ImageStatus::Available;
        i.image_size = size;
    })?;
    Ok(None)
}

/// The steps of every kind that copies a server's disk into a new image.
pub(crate) const INSERT_IMAGE: Step<CreateImageParams> =
    Step::record("insert_image", insert_image).undo_record(remove_image);
/// Copying a whole disk: a large one takes longer than the default step timeout on a
/// real hypervisor.
pub(crate) const SNAPSHOT: Step<CreateImageParams> =
    Step::driver("snapshot", snapshot).undo_driver(delete_snapshot).timeout(Duration::from_secs(3600));
// No undo: the last step of an image; nothing after it can fail.
pub(crate) const MARK_AVAILABLE: Step<CreateImageParams> = Step::record("mark_available", mark_available);

/// `server_create_image`: a snapshot (or a manual backup) of a server's disk.
pub(crate) struct ServerCreateImage;

impl Kind for ServerCreateImage {
    const NAME: &'static str = "server_create_image";
    type Params = CreateImageParams;

    fn steps() -> &'static [Step<CreateImageParams>] {
        static STEPS: [Step<CreateImageParams>; 3] = [INSERT_IMAGE, SNAPSHOT, MARK_AVAILABLE];
        &STEPS
    }

    fn resources(p: &CreateImageParams) -> Vec<ResourceRef> {
        vec![p.server.as_ref(), p.image.id.as_ref()]
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ImageDataParams {
    /// Images whose records are already deleted.
    pub images: Vec<ImageId>,
}

fn delete_data(_: &State, c: &Ctx<ImageDataParams>) -> Result<Call, ActionError> {
    Ok(Call::Many(c.params.images.iter().map(|i| Call::DeleteSnapshot(i.0)).collect()))
}

/// `image_data_delete`: removes the data of deleted images from the image store.
/// Deleting an image answers at once; its data goes here, retried like any step.
pub(crate) struct ImageDataDelete;

impl Kind for ImageDataDelete {
    const NAME: &'static str = "image_data_delete";
    type Params = ImageDataParams;

    fn steps() -> &'static [Step<ImageDataParams>] {
        // No undo: the records are gone already; only the data is left to remove.
        static STEPS: [Step<ImageDataParams>; 1] = [Step::driver("delete_data", delete_data)];
        &STEPS
    }

    fn resources(p: &ImageDataParams) -> Vec<ResourceRef> {
        p.images.iter().map(|i| i.as_ref()).collect()
    }
}
