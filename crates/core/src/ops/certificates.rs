//! TLS certificates for load balancers: uploaded ones (a PEM chain and its key, read and
//! checked here) and managed ones (issued for domain names by the local CA, by an action).

use super::{check_labels, check_limit, ensure_write, paged, validate_name, ListFilter};
use crate::actions::{
    self, CertificateCreate, CertificateRetry, CreateCertificateParams, Issued, Outcome, RetryCertificateParams,
};
use crate::cloud::Cloud;
use crate::engine::ensure_unlocked;
use crate::error::{Error, Refusal, Result};
use crate::ids::*;
use crate::labels::Labels;
use crate::model::*;
use crate::page::Page;
use crate::pki::{self, PemError};
use crate::store::Record;
use crate::views::{certificate_view, CertificateView};
use std::sync::Arc;

/// Where a new certificate comes from.
#[derive(Debug, Clone)]
pub enum CertificateSource {
    /// A chain (leaf first) and the leaf's private key, as PEM.
    Uploaded { certificate: String, private_key: String },
    /// Issued for these names by the local CA.
    Managed { domain_names: Vec<String> },
}

#[derive(Debug, Clone)]
pub struct CertificateCreateRequest {
    pub name: String,
    pub source: CertificateSource,
    pub labels: Labels,
}

/// Filters for listing certificates.
#[derive(Debug, Clone, Default)]
pub struct CertificateFilter {
    pub common: ListFilter,
    /// Any of these kinds (all when empty).
    pub kinds: Vec<CertificateKind>,
}

/// How a dialect orders certificates (by its own sort fields).
pub type CertificateOrder<'a> = super::Order<'a, Certificate>;

impl Cloud {
    /// One page of the project's matching certificates, sorted by `order` (id order when
    /// `None`).
    pub fn certificate_page<E>(
        &self,
        p: &Principal,
        filter: &CertificateFilter,
        order: Option<&CertificateOrder<'_>>,
        page: impl FnOnce(usize) -> std::result::Result<Page, E>,
    ) -> std::result::Result<(Page, Vec<CertificateView>), E> {
        self.read(|s| {
            let matching = || {
                s.certificates
                    .candidates(Some(p.project), filter.common.name.as_deref(), filter.common.label_selector.as_ref())
                    .into_iter()
                    .filter(|c| filter.common.matches(Some(&c.name), &c.labels))
                    .filter(|c| filter.kinds.is_empty() || filter.kinds.contains(&c.kind))
                    .collect()
            };
            paged(None, matching, order, page, |c| Some(certificate_view(s, c)))
        })
    }

    pub fn certificate_get(&self, p: &Principal, id: CertificateId) -> Result<CertificateView> {
        self.read(|s| s.certificate(p.project, id).map(|c| certificate_view(s, c)))
    }

    /// Creates a certificate. An uploaded one is checked and stored at once; a managed
    /// one is stored and issued by the returned action.
    pub async fn certificate_create(
        &self,
        p: &Principal,
        req: CertificateCreateRequest,
    ) -> Result<(CertificateView, Option<Arc<Action>>)> {
        ensure_write(p)?;
        validate_name("name", &req.name)?;
        check_labels(Some(&req.labels))?;
        let config = self.config().clone();
        let mut cert = Certificate {
            id: CertificateId(0),
            project: p.project,
            name: req.name.clone(),
            kind: CertificateKind::Uploaded,
            certificate: None,
            private_key: None,
            domain_names: Vec::new(),
            fingerprint: None,
            not_valid_before: None,
            not_valid_after: None,
            status: None,
            labels: req.labels.clone(),
            created: now(),
        };
        // Read (and, for managed ones, signed) before the state lock is taken: both are
        // computations on the request alone.
        let outcome = match &req.source {
            CertificateSource::Uploaded { certificate, private_key } => {
                let info = pki::read_uploaded(certificate, private_key).map_err(pem_error)?;
                cert.certificate = Some(certificate.clone());
                cert.private_key = Some(private_key.clone());
                cert.domain_names = info.domain_names;
                cert.fingerprint = Some(info.fingerprint);
                cert.not_valid_before = Some(info.not_valid_before);
                cert.not_valid_after = Some(info.not_valid_after);
                None
            }
            CertificateSource::Managed { domain_names } => {
                validate_domains(domain_names)?;
                cert.kind = CertificateKind::Managed;
                cert.domain_names = domain_names.clone();
                Some(issuance(&config, domain_names))
            }
        };
        let (id, action) = self
            .write(|tx| {
                if tx.certificate_named(p.project, &req.name).is_some() {
                    return Err(Error::uniqueness("name", "certificate name is already used"));
                }
                check_limit(config.resource_limit, tx.certificates.count(Some(p.project)), ResourceKind::Certificate)?;
                cert.id = CertificateId(tx.next_id());
                let id = cert.id;
                let action = match outcome {
                    None => {
                        tx.put(Record::Certificate(Arc::new(cert)));
                        None
                    }
                    Some(outcome) => {
                        let params = CreateCertificateParams { certificate: cert, outcome };
                        Some(actions::start::<CertificateCreate>(tx, p.project, params, None)?)
                    }
                };
                Ok((id, action))
            })
            .await?;
        // Only an injected fault at its first step keeps a managed certificate from being
        // recorded; the failed action stays on record, and the caller learns it failed.
        let view = self.certificate_get(p, id).map_err(|_| {
            let why = action.as_ref().and_then(|a| a.error.as_ref()).map_or("", |e| e.message.as_str());
            Error::Unavailable { message: format!("the certificate could not be created: {why}") }
        })?;
        Ok((view, action))
    }

    /// Renames and/or relabels a certificate (labels replace the old set).
    pub async fn certificate_update(
        &self,
        p: &Principal,
        id: CertificateId,
        name: Option<String>,
        labels: Option<Labels>,
    ) -> Result<CertificateView> {
        ensure_write(p)?;
        if let Some(name) = &name {
            validate_name("name", name)?;
        }
        check_labels(labels.as_ref())?;
        self.write(|tx| {
            let mut cert = Certificate::clone(tx.certificate(p.project, id)?);
            if let Some(name) = name {
                if tx.certificate_named(p.project, &name).is_some_and(|other| other.id != id) {
                    return Err(Error::uniqueness("name", "certificate name is already used"));
                }
                cert.name = name;
            }
            if let Some(labels) = labels {
                cert.labels = labels;
            }
            tx.put(Record::Certificate(Arc::new(cert)));
            Ok(())
        })
        .await?;
        self.certificate_get(p, id)
    }

    /// Deletes a certificate no load balancer uses.
    pub async fn certificate_delete(&self, p: &Principal, id: CertificateId) -> Result<()> {
        ensure_write(p)?;
        self.write(|tx| {
            tx.certificate(p.project, id)?;
            ensure_unlocked(tx, &[id.as_ref()])?;
            if let Some(lb) = tx.certificate_users(id).next() {
                return Err(Error::refused(
                    Refusal::InUse,
                    format!("certificate {id} is still in use by load balancer {lb}"),
                ));
            }
            tx.delete(id.as_ref());
            Ok(())
        })
        .await
    }

    /// Issues a managed certificate whose issuance failed again.
    pub async fn certificate_retry(&self, p: &Principal, id: CertificateId) -> Result<Arc<Action>> {
        ensure_write(p)?;
        let domains = self.read(|s| {
            let cert = s.certificate(p.project, id)?;
            let failed = cert
                .status
                .as_ref()
                .is_some_and(|st| st.issuance == IssuanceStatus::Failed || st.renewal == RenewalStatus::Failed);
            if cert.kind != CertificateKind::Managed || !failed {
                return Err(Error::invalid(
                    "only a managed certificate whose issuance or renewal failed can be retried",
                ));
            }
            Ok(cert.domain_names.clone())
        })?;
        let outcome = issuance(self.config(), &domains);
        self.write(|tx| {
            tx.certificate(p.project, id)?;
            ensure_unlocked(tx, &[id.as_ref()])?;
            actions::start::<CertificateRetry>(tx, p.project, RetryCertificateParams { certificate: id, outcome }, None)
        })
        .await
    }
}

fn pem_error(e: PemError) -> Error {
    match e {
        PemError::Certificate(why) => Error::invalid_field("certificate", why),
        PemError::PrivateKey(why) => Error::invalid_field("private_key", why),
    }
}

/// Signs a certificate for `domains` with the local CA, or says why it cannot.
fn issuance(config: &crate::Config, domains: &[String]) -> Outcome {
    let Some(ca) = &config.local_ca else {
        return Outcome::Failed(ActionError::new(
            "certificate_authority_unavailable",
            "no certificate authority is configured to issue managed certificates \
             (start Stratus with --local-ca to have its local CA sign them)",
        ));
    };
    match pki::issue(ca, domains, now()) {
        Ok((certificate, private_key, info)) => Outcome::Issued(Issued {
            certificate,
            private_key: Some(private_key),
            domain_names: info.domain_names,
            fingerprint: info.fingerprint,
            not_valid_before: info.not_valid_before,
            not_valid_after: info.not_valid_after,
        }),
        Err(why) => Outcome::Failed(ActionError::new("certificate_authority_error", why)),
    }
}

/// Domain names for a managed certificate: hostnames, optionally with a leading `*.`.
fn validate_domains(domains: &[String]) -> Result<()> {
    if domains.is_empty() {
        return Err(Error::invalid_field("domain_names", "a managed certificate needs at least one domain name"));
    }
    for (i, domain) in domains.iter().enumerate() {
        let host = domain.strip_prefix("*.").unwrap_or(domain);
        let label = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        };
        if domain.len() > 253 || !host.contains('.') || !host.split('.').all(label) {
            return Err(Error::invalid_field("domain_names", format!("{domain} is not a valid domain name")));
        }
        if domains[..i].contains(domain) {
            return Err(Error::invalid_field("domain_names", format!("{domain} is given twice")));
        }
    }
    Ok(())
}
