//! Queries on certificates.

use super::State;
use crate::error::{Error, Result};
use crate::ids::*;
use crate::model::*;
use std::sync::Arc;

impl State {
    /// The project's certificate with this id, or not found (also for other projects').
    pub(crate) fn certificate(&self, project: ProjectId, id: CertificateId) -> Result<&Arc<Certificate>> {
        self.certificates
            .get(id.0)
            .filter(|c| c.project == project)
            .ok_or_else(|| Error::not_found(ResourceKind::Certificate, id))
    }

    /// The project's certificate called `name`.
    pub(crate) fn certificate_named(&self, project: ProjectId, name: &str) -> Option<&Arc<Certificate>> {
        self.certificates.named(Some(project), name).next()
    }
}
