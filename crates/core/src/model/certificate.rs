//! TLS certificates for load balancers: uploaded (a PEM chain and key the user brings)
//! or managed (issued for domain names by a CA Stratus is configured with).

use super::ActionError;
use crate::ids::{CertificateId, ProjectId};
use crate::labels::Labels;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CertificateKind {
    Uploaded,
    Managed,
}

impl CertificateKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CertificateKind::Uploaded => "uploaded",
            CertificateKind::Managed => "managed",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IssuanceStatus {
    Pending,
    Completed,
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RenewalStatus {
    Scheduled,
    Pending,
    Failed,
    Unavailable,
}

/// Where a managed certificate's issuance and renewal stand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagedStatus {
    pub issuance: IssuanceStatus,
    pub renewal: RenewalStatus,
    pub error: Option<ActionError>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Certificate {
    pub id: CertificateId,
    pub project: ProjectId,
    pub name: String,
    pub kind: CertificateKind,
    /// The PEM chain, once there is one.
    pub certificate: Option<String>,
    /// The PEM private key. Kept because the data plane terminates TLS with it; the
    /// data directory is private to the Stratus user.
    pub private_key: Option<String>,
    pub domain_names: Vec<String>,
    /// SHA-256 of the leaf certificate's DER, colon-separated hex.
    pub fingerprint: Option<String>,
    pub not_valid_before: Option<DateTime<Utc>>,
    pub not_valid_after: Option<DateTime<Utc>>,
    /// Managed certificates only.
    pub status: Option<ManagedStatus>,
    pub labels: Labels,
    pub created: DateTime<Utc>,
}
