//! Resolving references into the catalogue (by id or by name) and into a project's
//! images and SSH keys, through the name indexes.

use super::State;
use crate::error::{Error, Result};
use crate::ids::*;
use crate::model::*;
use crate::ops::Ref;
use std::sync::Arc;

impl<T: super::Row> super::Table<T> {
    /// The row `r` names among the rows of `project` (the catalogue for `None`).
    pub(crate) fn find(&self, project: Option<ProjectId>, r: &Ref) -> Option<&Arc<T>> {
        let own = |row: &&Arc<T>| row.project() == project;
        match r {
            Ref::Id(id) => self.get(*id).filter(own),
            Ref::Name(name) => self.named(project, name).next(),
            Ref::NameOrId(text) => {
                self.named(project, text).next().or_else(|| text.parse().ok().and_then(|id| self.get(id)).filter(own))
            }
        }
    }
}

impl State {
    /// A server type by id or name; `field` names the request field in errors.
    pub(crate) fn server_type_ref(&self, r: &Ref, field: &str) -> Result<Arc<ServerType>> {
        let st = self
            .server_types
            .find(None, r)
            .ok_or_else(|| Error::invalid_field(field, format!("server type {r} not found")))?;
        if st.deprecated.is_some_and(|d| d <= now()) {
            return Err(Error::invalid_field(field, format!("server type {} is deprecated", st.name)));
        }
        Ok(st.clone())
    }

    pub(crate) fn location_ref(&self, r: &Ref, field: &str) -> Result<Arc<Location>> {
        self.locations
            .find(None, r)
            .cloned()
            .ok_or_else(|| Error::invalid_field(field, format!("location {r} not found")))
    }

    pub(crate) fn datacenter_ref(&self, r: &Ref, field: &str) -> Result<Arc<Datacenter>> {
        self.datacenters
            .find(None, r)
            .cloned()
            .ok_or_else(|| Error::invalid_field(field, format!("datacenter {r} not found")))
    }

    pub(crate) fn iso_ref(&self, r: &Ref, field: &str) -> Result<Arc<Iso>> {
        self.isos.find(None, r).cloned().ok_or_else(|| Error::invalid_field(field, format!("ISO {r} not found")))
    }

    pub(crate) fn load_balancer_type_ref(&self, r: &Ref, field: &str) -> Result<Arc<LoadBalancerType>> {
        self.load_balancer_types
            .find(None, r)
            .cloned()
            .ok_or_else(|| Error::invalid_field(field, format!("load balancer type {r} not found")))
    }

    /// An image the project may use: a catalogue image (by id or name) or one of its own
    /// (by id), available and not deprecated.
    pub(crate) fn image_ref(&self, project: ProjectId, r: &Ref, field: &str) -> Result<Arc<Image>> {
        let image = self
            .images
            .find(None, r)
            .or_else(|| self.images.find(Some(project), r))
            .ok_or_else(|| Error::invalid_field(field, format!("image {r} not found")))?;
        if image.status != ImageStatus::Available {
            return Err(Error::invalid_field(field, format!("image {r} is not available")));
        }
        if image.deprecated.is_some_and(|d| d <= now()) {
            return Err(Error::invalid_field(field, format!("image {r} is deprecated")));
        }
        Ok(image.clone())
    }

    /// An image the project sees (the catalogue's and its own), or not found.
    pub(crate) fn visible_image(&self, project: ProjectId, id: ImageId) -> Result<&Arc<Image>> {
        self.images
            .get(id.0)
            .filter(|i| i.project.is_none_or(|owner| owner == project))
            .ok_or_else(|| Error::not_found(ResourceKind::Image, id))
    }

    /// The project's SSH keys named by `refs`, in order, without duplicates.
    pub(crate) fn ssh_key_refs(&self, project: ProjectId, refs: &[Ref], field: &str) -> Result<Vec<SshKeyId>> {
        let mut ids = Vec::new();
        for r in refs {
            let key = self
                .ssh_keys
                .find(Some(project), r)
                .ok_or_else(|| Error::invalid_field(field, format!("SSH key {r} not found")))?;
            if !ids.contains(&key.id) {
                ids.push(key.id);
            }
        }
        Ok(ids)
    }

    /// Where a new resource goes: the datacenter named, the first datacenter of the
    /// location named, or the first datacenter (the default placement).
    pub(crate) fn placement(&self, location: Option<&Ref>, datacenter: Option<&Ref>) -> Result<Arc<Datacenter>> {
        match (location, datacenter) {
            (Some(_), Some(_)) => Err(Error::invalid("location and datacenter are mutually exclusive")),
            (None, Some(r)) => self.datacenter_ref(r, "datacenter"),
            (Some(r), None) => {
                let loc = self.location_ref(r, "location")?;
                self.datacenters
                    .all()
                    .find(|d| d.location == loc.id)
                    .cloned()
                    .ok_or_else(|| Error::invalid_field("location", format!("location {} has no datacenter", loc.name)))
            }
            (None, None) => self
                .datacenters
                .all()
                .next()
                .cloned()
                .ok_or_else(|| Error::Internal("no datacenters configured".into())),
        }
    }
}
