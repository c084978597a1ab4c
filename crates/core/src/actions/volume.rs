//! Volumes: making their storage, attaching them to servers and back, growing them, and
//! removing their storage once the volume is deleted.

use super::steps::update_volume;
use super::{Ctx, Kind, Step, StepResult};
use crate::data::{State, Tx};
use crate::engine::Call;
use crate::ids::{ResourceRef, ServerId, VolumeId};
use crate::model::{ActionError, Volume, VolumeStatus};
use crate::store::Record;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::Arc;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct VolumeCreateParams {
    /// The volume record, `creating` until its storage exists.
    pub volume: Volume,
}

type Create<'a> = Ctx<'a, VolumeCreateParams>;

fn insert_record(tx: &mut Tx, c: &Create) -> StepResult {
    tx.put(Record::Volume(Arc::new(c.params.volume.clone())));
    Ok(None)
}
fn remove_record(tx: &mut Tx, c: &Create) -> StepResult {
    tx.delete(c.params.volume.id.as_ref());
    Ok(None)
}
fn create_storage(s: &State, c: &Create) -> Result<Call, ActionError> {
    Ok(Call::CreateVolume(s.volume_spec(&c.params.volume)))
}
fn delete_storage_made(_: &State, c: &Create) -> Result<Call, ActionError> {
    Ok(Call::DeleteVolume(c.params.volume.id.0))
}
/// The storage exists: the volume can be used from this commit on.
fn mark_available(tx: &mut Tx, c: &Create) -> StepResult {
    update_volume(tx, c.params.volume.id, |v| v.status = VolumeStatus::Available)?;
    Ok(None)
}

/// `volume_create`: the record (`creating`), its storage, then `available`. Attaching it
/// to a server is the separate `volume_attach` that waits on this one (Hetzner's
/// `next_actions`).
pub(crate) struct VolumeCreate;

impl Kind for VolumeCreate {
    const NAME: &'static str = "volume_create";
    type Params = VolumeCreateParams;

    fn steps() -> &'static [Step<VolumeCreateParams>] {
        static STEPS: [Step<VolumeCreateParams>; 3] = [
            Step::record("insert_record", insert_record).undo_record(remove_record),
            Step::driver("create_storage", create_storage).undo_driver(delete_storage_made),
            // No undo: the last step; nothing after it can fail.
            Step::record("mark_available", mark_available),
        ];
        &STEPS
    }

    fn resources(p: &VolumeCreateParams) -> Vec<ResourceRef> {
        vec![p.volume.id.as_ref()]
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct VolumeAttachParams {
    pub volume: VolumeId,
    /// The server it is attached to (`volume_attach`) or detached from (`volume_detach`).
    pub server: ServerId,
}

impl VolumeAttachParams {
    fn resources(&self) -> Vec<ResourceRef> {
        vec![self.volume.as_ref(), self.server.as_ref()]
    }
}

type Attach<'a> = Ctx<'a, VolumeAttachParams>;

/// The attachment is recorded first, as a new server's volumes are: from this commit on
/// the server's VM is restored with the volume after a restart, so the driver step that
/// follows only confirms it.
fn set_server(tx: &mut Tx, c: &Attach) -> StepResult {
    let prior = update_volume(tx, c.params.volume, |v| v.server.replace(c.params.server))?;
    Ok(Some(json!(prior)))
}
fn unset_server(tx: &mut Tx, c: &Attach) -> StepResult {
    let prior = c.output::<Option<ServerId>>("set_server").flatten();
    update_volume(tx, c.params.volume, |v| {
        v.server = prior;
        v.linux_device = None;
    })?;
    Ok(None)
}
fn plug(_: &State, c: &Attach) -> Result<Call, ActionError> {
    Ok(Call::AttachVolume { vm: c.params.server.0, volume: c.params.volume.0 })
}
fn unplug(_: &State, c: &Attach) -> Result<Call, ActionError> {
    Ok(Call::DetachVolume { vm: c.params.server.0, volume: c.params.volume.0 })
}
/// Where the guest sees the volume, as the driver said.
fn record_device(tx: &mut Tx, c: &Attach) -> StepResult {
    let device: Option<String> = c.output("attach_volume");
    update_volume(tx, c.params.volume, |v| v.linux_device = device)?;
    Ok(None)
}
/// The volume is detached: the records say so in the commit that records the driver's
/// answer, so a restart in between re-plugs nothing.
fn clear_attachment(tx: &mut Tx, c: &Attach) -> StepResult {
    update_volume(tx, c.params.volume, |v| {
        v.server = None;
        v.linux_device = None;
    })?;
    Ok(None)
}

/// `volume_attach`.
pub(crate) struct VolumeAttach;

impl Kind for VolumeAttach {
    const NAME: &'static str = "volume_attach";
    type Params = VolumeAttachParams;

    fn steps() -> &'static [Step<VolumeAttachParams>] {
        static STEPS: [Step<VolumeAttachParams>; 3] = [
            Step::record("set_server", set_server).undo_record(unset_server),
            Step::driver("attach_volume", plug).undo_driver(unplug),
            // No undo: the device is cleared with the attachment in `unset_server`.
            Step::record("record_device", record_device),
        ];
        &STEPS
    }

    fn resources(p: &VolumeAttachParams) -> Vec<ResourceRef> {
        p.resources()
    }
}

/// `volume_detach`.
pub(crate) struct VolumeDetach;

impl Kind for VolumeDetach {
    const NAME: &'static str = "volume_detach";
    type Params = VolumeAttachParams;

    fn steps() -> &'static [Step<VolumeAttachParams>] {
        static STEPS: [Step<VolumeAttachParams>; 2] = [
            Step::driver("detach_volume", unplug).undo_driver(plug),
            // No undo: the last step; nothing after it can fail.
            Step::record("clear_attachment", clear_attachment),
        ];
        &STEPS
    }

    fn resources(p: &VolumeAttachParams) -> Vec<ResourceRef> {
        p.resources()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct VolumeResizeParams {
    pub volume: VolumeId,
    pub size_gb: u32,
}

fn grow(_: &State, c: &Ctx<VolumeResizeParams>) -> Result<Call, ActionError> {
    Ok(Call::ResizeVolume { volume: c.params.volume.0, size_gb: c.params.size_gb })
}
fn set_size(tx: &mut Tx, c: &Ctx<VolumeResizeParams>) -> StepResult {
    update_volume(tx, c.params.volume, |v| v.size_gb = c.params.size_gb)?;
    Ok(None)
}

/// `volume_resize`: grows the storage, then the record.
pub(crate) struct VolumeResize;

impl Kind for VolumeResize {
    const NAME: &'static str = "volume_resize";
    type Params = VolumeResizeParams;

    fn steps() -> &'static [Step<VolumeResizeParams>] {
        static STEPS: [Step<VolumeResizeParams>; 2] = [
            // No undo: storage never shrinks (the driver's contract). A resize that fails
            // after growing it leaves the record at the old size, which the storage
            // exceeds harmlessly; resizing again grows the record to match.
            Step::driver("resize_volume", grow),
            // No undo: the last step; nothing after it can fail.
            Step::record("set_size", set_size),
        ];
        &STEPS
    }

    fn resources(p: &VolumeResizeParams) -> Vec<ResourceRef> {
        vec![p.volume.as_ref()]
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct VolumeDeleteParams {
    /// The record, to put back if the storage cannot be removed.
    pub volume: Volume,
}

type Delete<'a> = Ctx<'a, VolumeDeleteParams>;

/// The record goes in the request's own transaction (a leading record step), so the
/// volume is gone from the answer on.
fn delete_record(tx: &mut Tx, c: &Delete) -> StepResult {
    tx.delete(c.params.volume.id.as_ref());
    Ok(None)
}
/// A volume whose storage could not be removed still exists: it comes back, so the
/// records never lose storage that is still there and its owner can delete it again.
/// TODO-correctness: a volume made meanwhile under the same name then shares it.
fn restore_record(tx: &mut Tx, c: &Delete) -> StepResult {
    tx.put(Record::Volume(Arc::new(c.params.volume.clone())));
    Ok(None)
}
fn delete_storage(_: &State, c: &Delete) -> Result<Call, ActionError> {
    Ok(Call::DeleteVolume(c.params.volume.id.0))
}
/// Before the record comes back, its storage must exist: creating is idempotent, so
/// storage the failed delete left alone keeps its data, and storage it removed after
/// all comes back empty (its data was meant to go).
fn ensure_storage(s: &State, c: &Delete) -> Result<Call, ActionError> {
    Ok(Call::CreateVolume(s.volume_spec(&c.params.volume)))
}

/// `volume_delete`: removes a deleted volume's storage. Deleting a volume answers at once;
/// its storage goes here, retried like any step. Dialects do not show it.
pub(crate) struct VolumeDelete;

impl Kind for VolumeDelete {
    const NAME: &'static str = "volume_delete";
    type Params = VolumeDeleteParams;

    fn steps() -> &'static [Step<VolumeDeleteParams>] {
        static STEPS: [Step<VolumeDeleteParams>; 2] = [
            Step::record("delete_record", delete_record).undo_record(restore_record),
            Step::driver("delete_storage", delete_storage).undo_driver(ensure_storage),
        ];
        &STEPS
    }

    fn resources(p: &VolumeDeleteParams) -> Vec<ResourceRef> {
        vec![p.volume.id.as_ref()]
    }
}
