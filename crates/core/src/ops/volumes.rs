//! Volumes: block storage in a location, attached to at most one of its servers at a time.

use super::{check_labels, check_limit, ensure_unprotected, ensure_write, ListFilter, Ref};
use crate::actions::{self, ChangeProtection, ProtectionParams, VolumeAttachParams, VolumeCreateParams};
use crate::actions::{VolumeDeleteParams, VolumeResizeParams};
use crate::cloud::Cloud;
use crate::data::{State, Tx};
use crate::engine::ensure_unlocked;
use crate::error::{Error, Refusal, Result};
use crate::ids::*;
use crate::labels::Labels;
use crate::model::*;
use crate::views::{volume_view, VolumeView};
use std::sync::Arc;

/// The sizes a volume may have, in GB.
pub const SIZE_GB: std::ops::RangeInclusive<i64> = 10..=10240;

/// The filesystems a volume can be formatted with when it is made.
pub const FORMATS: &[&str] = &["ext4", "xfs"];

/// A request to create a volume.
#[derive(Debug, Clone)]
pub struct VolumeCreate {
    pub name: String,
    pub size_gb: i64,
    /// Where it lives; may be left out when `server` is given (its location is then the
    /// server's).
    pub location: Option<Ref>,
    /// Attach it to this server once it exists.
    pub server: Option<ServerId>,
    /// Whether the guest mounts it once attached: only meaningful with `server`.
    /// TODO-fidelity: checked, not carried out; mounting happens inside the guest, which
    /// the simulator does not model.
    pub automount: bool,
    /// A filesystem to format it with (`ext4`, `xfs`).
    pub format: Option<String>,
    pub labels: Labels,
}

/// What creating a volume returns.
#[derive(Debug, Clone)]
pub struct VolumeCreated {
    pub volume: VolumeView,
    pub action: Arc<Action>,
    /// The attachment to `server`, which runs once the volume exists.
    pub next_actions: Vec<Arc<Action>>,
}

/// Filters for listing volumes.
#[derive(Debug, Clone, Default)]
pub struct VolumeFilter {
    pub common: ListFilter,
    /// Any of these statuses (all when empty).
    pub status: Vec<VolumeStatus>,
}

/// An action on a volume.
#[derive(Debug, Clone)]
pub enum VolumeAction {
    Attach {
        server: ServerId,
    },
    Detach,
    /// Grows it to `size_gb`.
    Resize {
        size_gb: i64,
    },
    /// `None` leaves the flag as it is.
    ChangeProtection {
        delete: Option<bool>,
    },
}

impl Cloud {
    /// The project's volumes that match, in id order.
    pub fn volume_list(&self, p: &Principal, filter: &VolumeFilter) -> Vec<VolumeView> {
        self.read(|s| {
            s.volumes
                .candidates(Some(p.project), filter.common.name.as_deref(), filter.common.label_selector.as_ref())
                .into_iter()
                .filter(|v| filter.common.matches(Some(&v.name), &v.labels))
                .filter(|v| filter.status.is_empty() || filter.status.contains(&v.status))
                .filter_map(|v| volume_view(s, v))
                .collect()
        })
    }

    pub fn volume_get(&self, p: &Principal, id: VolumeId) -> Result<VolumeView> {
        self.read(|s| view(s, s.volume(p.project, id)?))
    }

    /// Creates a volume; with a server, its attachment waits on the creation.
    pub async fn volume_create(&self, p: &Principal, req: VolumeCreate) -> Result<VolumeCreated> {
        ensure_write(p)?;
        validate_name(&req.name)?;
        check_labels(Some(&req.labels))?;
        let size_gb = check_size(req.size_gb)?;
        if let Some(format) = req.format.as_deref().filter(|f| !FORMATS.contains(f)) {
            return Err(Error::invalid_field("format", format!("unknown format '{format}': one of ext4, xfs")));
        }
        if req.automount && req.server.is_none() {
            return Err(Error::invalid_field("automount", "requires server"));
        }
        let limit = self.config().resource_limit;
        let (id, action, next) = self
            .write(|tx| {
                let location = location_for(tx, p, &req)?;
                if tx.volume_name_taken(p.project, &req.name, None) {
                    return Err(Error::uniqueness("name", "volume name is already used"));
                }
                check_limit(limit, tx.volumes.count(Some(p.project)), ResourceKind::Volume)?;
                if let Some(server) = req.server {
                    ensure_unlocked(tx, &[server.as_ref()])?;
                }
                let id = VolumeId(tx.next_id());
                let volume = Volume {
                    id,
                    project: p.project,
                    name: req.name.clone(),
                    size_gb,
                    location,
                    server: None,
                    linux_device: None,
                    format: req.format.clone(),
                    status: VolumeStatus::Creating,
                    protection: Protection::default(),
                    labels: req.labels.clone(),
                    created: now(),
                };
                let action =
                    actions::start::<actions::VolumeCreate>(tx, p.project, VolumeCreateParams { volume }, None)?;
                // An attachment waits on the creation only while it runs: one that failed
                // in this transaction (an injected fault) leaves nothing to wait for.
                let next = match req.server.filter(|_| action.is_running()) {
                    Some(server) => {
                        let params = VolumeAttachParams { volume: id, server };
                        vec![actions::start::<actions::VolumeAttach>(tx, p.project, params, Some(action.id))?]
                    }
                    None => Vec::new(),
                };
                Ok((id, action, next))
            })
            .await?;
        // Its first step (the record) can only fail when a fault is injected there; the
        // failed action is kept for the record, and the caller learns it failed.
        refused_if_failed(&action, "the volume could not be created")?;
        Ok(VolumeCreated { volume: self.volume_get(p, id)?, action, next_actions: next })
    }

    /// Renames and/or relabels a volume (labels replace the old set).
    pub async fn volume_update(
        &self,
        p: &Principal,
        id: VolumeId,
        name: Option<String>,
        labels: Option<Labels>,
    ) -> Result<VolumeView> {
        ensure_write(p)?;
        if let Some(name) = &name {
            validate_name(name)?;
        }
        check_labels(labels.as_ref())?;
        self.write(|tx| {
            let mut volume = Volume::clone(tx.volume(p.project, id)?);
            if let Some(name) = name {
                if tx.volume_name_taken(p.project, &name, Some(id)) {
                    return Err(Error::uniqueness("name", "volume name is already used"));
                }
                volume.name = name;
            }
            if let Some(labels) = labels {
                volume.labels = labels;
            }
            tx.put(crate::store::Record::Volume(Arc::new(volume)));
            Ok(())
        })
        .await?;
        self.volume_get(p, id)
    }

    /// Deletes a detached, unprotected volume: the record goes at once, its storage by an
    /// action of its own.
    pub async fn volume_delete(&self, p: &Principal, id: VolumeId) -> Result<()> {
        ensure_write(p)?;
        let action = self
            .write(|tx| {
                let volume = tx.volume(p.project, id)?.clone();
                ensure_unprotected(volume.protection, id.as_ref(), "delete")?;
                ensure_unlocked(tx, &[id.as_ref()])?;
                if volume.server.is_some() {
                    return Err(Error::refused(
                        Refusal::InUse,
                        format!("volume with ID '{id}' is still attached to a server; detach it first"),
                    ));
                }
                let params = VolumeDeleteParams { volume: Volume::clone(&volume) };
                actions::start::<actions::VolumeDelete>(tx, p.project, params, None)
            })
            .await?;
        refused_if_failed(&action, "the volume could not be deleted")
    }

    pub async fn volume_action(&self, p: &Principal, id: VolumeId, op: VolumeAction) -> Result<Arc<Action>> {
        ensure_write(p)?;
        self.write(|tx| {
            let volume = tx.volume(p.project, id)?.clone();
            ensure_unlocked(tx, &[id.as_ref()])?;
            match op {
                VolumeAction::Attach { server } => {
                    let params = check_attach(tx, p, &volume, server)?;
                    actions::start::<actions::VolumeAttach>(tx, p.project, params, None)
                }
                VolumeAction::Detach => {
                    let server = volume.server.ok_or_else(|| Error::invalid("volume is not attached to a server"))?;
                    ensure_unlocked(tx, &[server.as_ref()])?;
                    let params = VolumeAttachParams { volume: id, server };
                    actions::start::<actions::VolumeDetach>(tx, p.project, params, None)
                }
                VolumeAction::Resize { size_gb } => {
                    let size_gb = check_size(size_gb)?;
                    if size_gb <= volume.size_gb {
                        return Err(Error::invalid_field(
                            "size",
                            format!(
                                "must be greater than the current size ({} GB): volumes cannot shrink",
                                volume.size_gb
                            ),
                        ));
                    }
                    let params = VolumeResizeParams { volume: id, size_gb };
                    actions::start::<actions::VolumeResize>(tx, p.project, params, None)
                }
                VolumeAction::ChangeProtection { delete } => {
                    let params = ProtectionParams { resource: id.as_ref(), delete, rebuild: None };
                    actions::start::<ChangeProtection>(tx, p.project, params, None)
                }
            }
        })
        .await
    }
}

fn view(s: &State, volume: &Arc<Volume>) -> Result<VolumeView> {
    volume_view(s, volume).ok_or_else(|| Error::Internal(format!("volume {} has a dangling location", volume.id)))
}

/// A request whose action failed in its own transaction (only an injected fault does
/// that) is answered as failed; the action stays on record.
fn refused_if_failed(action: &Action, what: &str) -> Result<()> {
    match action.error.as_ref().filter(|_| action.status == ActionStatus::Error) {
        Some(error) => Err(Error::Unavailable { message: format!("{what}: {}", error.message) }),
        None => Ok(()),
    }
}

/// Hetzner's rule, which the other dialects' names also satisfy: letters, digits,
/// dashes, underscores and dots, starting and ending with a letter or digit, at most 64.
fn validate_name(name: &str) -> Result<()> {
    let edges = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    let ok = name.len() <= 64
        && edges(name.chars().next())
        && edges(name.chars().last())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_field(
            "name",
            "must be 1 to 64 letters, digits, dashes, underscores or dots, starting and ending with a letter or digit",
        ))
    }
}

fn check_size(size_gb: i64) -> Result<u32> {
    u32::try_from(size_gb)
        .ok()
        .filter(|_| SIZE_GB.contains(&size_gb))
        .ok_or_else(|| Error::invalid_field("size", format!("must be {} to {} GB", SIZE_GB.start(), SIZE_GB.end())))
}

/// Where a new volume lives: the given location, or the server's (which must agree).
fn location_for(tx: &Tx, p: &Principal, req: &VolumeCreate) -> Result<LocationId> {
    let given = req.location.as_ref().map(|r| tx.location_ref(r, "location")).transpose()?;
    let Some(server) = req.server else {
        return given
            .map(|l| l.id)
            .ok_or_else(|| Error::invalid_field("location", "either location or server is required"));
    };
    let srv = tx
        .server(p.project, server)
        .map_err(|_| Error::invalid_field("server", format!("server {server} not found")))?;
    let location = tx.location_of(srv.datacenter).ok_or_else(|| Error::Internal("dangling datacenter".into()))?;
    if given.is_some_and(|l| l.id != location) {
        return Err(Error::invalid_field("location", "the server is in another location"));
    }
    Ok(location)
}

/// Whether `volume` may be attached to `server`: the project's server, in the volume's
/// location, the volume not attached anywhere yet. Hetzner attaches a volume only when it
/// is detached (`volume_already_attached`, "detach first"): Ansible's `volume_attachment`
/// detaches first, its `volume` module moving a volume between servers fails as on Hetzner.
fn check_attach(tx: &Tx, p: &Principal, volume: &Volume, server: ServerId) -> Result<VolumeAttachParams> {
    let srv = tx
        .server(p.project, server)
        .map_err(|_| Error::invalid_field("server", format!("server {server} not found")))?;
    if let Some(at) = volume.server {
        return Err(Error::refused(
            Refusal::VolumeAttached,
            format!("volume {} is already attached to server {at}; detach it first", volume.id),
        ));
    }
    if tx.location_of(srv.datacenter) != Some(volume.location) {
        return Err(Error::invalid_field("server", "the server is in another location than the volume"));
    }
    ensure_unlocked(tx, &[server.as_ref()])?;
    Ok(VolumeAttachParams { volume: volume.id, server })
}
