//! Certificates, with the load balancers that use them.

use super::{holder, Holder};
use crate::data::State;
use crate::ids::*;
use crate::model::*;
use std::sync::Arc;

/// A certificate, where it is used and the action holding it.
#[derive(Debug, Clone)]
pub struct CertificateView {
    pub certificate: Arc<Certificate>,
    /// Load balancers whose services terminate TLS with it.
    pub used_by: Vec<LoadBalancerId>,
    pub holder: Option<Holder>,
}

pub(crate) fn certificate_view(state: &State, certificate: &Arc<Certificate>) -> CertificateView {
    CertificateView {
        certificate: certificate.clone(),
        used_by: state.certificate_users(certificate.id).collect(),
        holder: holder(state, certificate.id.as_ref()),
    }
}
