//! The issuance of managed certificates: `certificate_create` (a new one) and
//! `certificate_retry` (a failed one again).
//!
//! A managed certificate outlives a failed issuance, as Hetzner's do: the user sees it
//! `failed` with the reason, and may retry. So the record a create inserts is never taken
//! back; what an unwinding issuance undoes is its `pending` status, which becomes
//! `failed` with the action's error.
//!
//! The certificate is signed when the request is made (the local CA is configuration,
//! which steps do not see), and the action records the outcome: an issued chain, or why
//! there is none. Signing is a computation, not a side effect, so nothing is lost if the
//! action never gets to record it.

use super::steps::update_certificate;
use super::{Ctx, Kind, Step, StepResult};
use crate::data::Tx;
use crate::ids::*;
use crate::model::*;
use crate::store::Record;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::fmt::Debug;
use std::sync::Arc;

/// What the CA issued.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Issued {
    /// The chain, leaf first.
    pub certificate: String,
    /// Erased from the parameters once recorded (see `ISSUED_KEY`).
    pub private_key: Option<String>,
    pub domain_names: Vec<String>,
    pub fingerprint: String,
    pub not_valid_before: DateTime<Utc>,
    pub not_valid_after: DateTime<Utc>,
}

/// How the signing went when the request was made.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Outcome {
    Issued(Issued),
    /// Why there is no certificate (no CA configured, or the CA refused).
    Failed(ActionError),
}

/// What every issuance knows.
pub(crate) trait Issuance: Serialize + DeserializeOwned + Debug + Send + Sync + 'static {
    fn certificate(&self) -> CertificateId;
    fn outcome(&self) -> &Outcome;
}

fn begin_issuance<P: Issuance>(tx: &mut Tx, c: &Ctx<P>) -> StepResult {
    update_certificate(tx, c.params.certificate(), |cert| {
        cert.status =
            Some(ManagedStatus { issuance: IssuanceStatus::Pending, renewal: RenewalStatus::Unavailable, error: None });
    })?;
    Ok(None)
}
/// An issuance that did not complete leaves the certificate `failed`, saying why.
fn mark_failed<P: Issuance>(tx: &mut Tx, c: &Ctx<P>) -> StepResult {
    let error = c
        .action
        .run
        .as_ref()
        .and_then(|run| run.unwinding.as_ref())
        .map(|u| u.error.clone())
        .unwrap_or_else(|| ActionError::new("issuance_failed", "the issuance did not complete"));
    update_certificate(tx, c.params.certificate(), |cert| {
        cert.status = Some(ManagedStatus {
            issuance: IssuanceStatus::Failed,
            renewal: RenewalStatus::Unavailable,
            error: Some(error),
        });
    })?;
    Ok(None)
}
fn issue<P: Issuance>(tx: &mut Tx, c: &Ctx<P>) -> StepResult {
    let issued = match c.params.outcome() {
        Outcome::Issued(issued) => issued,
        Outcome::Failed(error) => return Err(error.clone()),
    };
    let key = issued.private_key.clone().ok_or_else(|| ActionError::new("internal_error", "the issued key is gone"))?;
    update_certificate(tx, c.params.certificate(), |cert| {
        cert.certificate = Some(issued.certificate.clone());
        cert.private_key = Some(key);
        cert.domain_names = issued.domain_names.clone();
        cert.fingerprint = Some(issued.fingerprint.clone());
        cert.not_valid_before = Some(issued.not_valid_before);
        cert.not_valid_after = Some(issued.not_valid_after);
        // TODO-fidelity: Stratus does not renew managed certificates (Hetzner does, a
        // month before they expire); a retry after expiry issues a new one.
        cert.status = Some(ManagedStatus {
            issuance: IssuanceStatus::Completed,
            renewal: RenewalStatus::Unavailable,
            error: None,
        });
    })?;
    Ok(None)
}

/// The issued private key, which the certificate record keeps once `issue` has run.
const ISSUED_KEY: &[(&str, &str)] = &[("issue", "/outcome/issued/private_key")];

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CreateCertificateParams {
    /// The new managed certificate, not yet issued.
    pub certificate: Certificate,
    pub outcome: Outcome,
}

impl Issuance for CreateCertificateParams {
    fn certificate(&self) -> CertificateId {
        self.certificate.id
    }
    fn outcome(&self) -> &Outcome {
        &self.outcome
    }
}

/// Inserts the certificate as failed ("not issued yet") until `begin_issuance` marks it
/// pending in the same commit: should that step fail, it is not left pending for good.
fn insert_certificate(tx: &mut Tx, c: &Ctx<CreateCertificateParams>) -> StepResult {
    let mut cert = c.params.certificate.clone();
    cert.status = Some(ManagedStatus {
        issuance: IssuanceStatus::Failed,
        renewal: RenewalStatus::Unavailable,
        error: Some(ActionError::new("issuance_failed", "the issuance did not start")),
    });
    tx.put(Record::Certificate(Arc::new(cert)));
    Ok(None)
}

/// `certificate_create`: a managed certificate and its first issuance.
pub(crate) struct CertificateCreate;

impl Kind for CertificateCreate {
    const NAME: &'static str = "certificate_create";
    type Params = CreateCertificateParams;

    fn steps() -> &'static [Step<CreateCertificateParams>] {
        static STEPS: [Step<CreateCertificateParams>; 3] = [
            // No undo: the certificate outlives a failed issuance (see the module doc).
            Step::record("insert_certificate", insert_certificate),
            Step::record("begin_issuance", begin_issuance::<CreateCertificateParams>)
                .undo_record(mark_failed::<CreateCertificateParams>),
            // No undo: the last step.
            Step::record("issue", issue::<CreateCertificateParams>),
        ];
        &STEPS
    }

    fn resources(p: &CreateCertificateParams) -> Vec<ResourceRef> {
        vec![p.certificate.id.as_ref()]
    }

    const SECRETS: &'static [(&'static str, &'static str)] = ISSUED_KEY;
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct RetryCertificateParams {
    pub certificate: CertificateId,
    pub outcome: Outcome,
}

impl Issuance for RetryCertificateParams {
    fn certificate(&self) -> CertificateId {
        self.certificate
    }
    fn outcome(&self) -> &Outcome {
        &self.outcome
    }
}

/// `certificate_retry`: issuing a failed managed certificate again.
pub(crate) struct CertificateRetry;

impl Kind for CertificateRetry {
    const NAME: &'static str = "certificate_retry";
    type Params = RetryCertificateParams;

    fn steps() -> &'static [Step<RetryCertificateParams>] {
        static STEPS: [Step<RetryCertificateParams>; 2] = [
            Step::record("begin_issuance", begin_issuance::<RetryCertificateParams>)
                .undo_record(mark_failed::<RetryCertificateParams>),
            // No undo: the last step.
            Step::record("issue", issue::<RetryCertificateParams>),
        ];
        &STEPS
    }

    fn resources(p: &RetryCertificateParams) -> Vec<ResourceRef> {
        vec![p.certificate.as_ref()]
    }

    const SECRETS: &'static [(&'static str, &'static str)] = ISSUED_KEY;
}
