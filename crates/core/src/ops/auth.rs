//! Resolving credentials, metering requests and injected API refusals.

use crate::cloud::Cloud;
use crate::error::{Error, Result};
use crate::model::{ApiRefusal, FaultTarget, Principal};
use crate::ratelimit::Budget;
use crate::store::Record;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// Hex SHA-256 of a secret: the only form in which secrets are stored.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

impl Cloud {
    /// The principal a bearer token acts as; `Unauthenticated` for unknown or revoked ones.
    pub fn authenticate(&self, secret: &str) -> Result<Principal> {
        let hash = hash_secret(secret);
        self.read(|s| match s.token_by_hash(&hash) {
            Some(t) if t.revoked.is_none() && s.projects.contains(t.project.0) => {
                Ok(Principal { project: t.project, credential: t.id.as_ref(), access: t.access })
            }
            _ => Err(Error::Unauthenticated),
        })
    }

    /// Takes one request from the principal's hourly budget; `None` when limiting is off.
    pub fn meter(&self, p: &Principal) -> Option<Budget> {
        let limiter = &self.inner.rate_limiter;
        limiter.enabled().then(|| limiter.take(p.credential.id))
    }

    /// Takes one request from the budget of an unauthenticated `source` (its address);
    /// `None` when limiting is off.
    pub fn meter_anonymous(&self, source: Option<std::net::IpAddr>) -> Option<Budget> {
        let limiter = &self.inner.anonymous_limiter;
        limiter.enabled().then(|| {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            source.hash(&mut h);
            limiter.take(i64::from_ne_bytes(h.finish().to_ne_bytes()))
        })
    }

    /// Fails the request if an injected API refusal is armed, consuming one.
    pub async fn api_fault(&self) -> Result<()> {
        let armed = self.read(|s| {
            s.faults.all().find_map(|f| match f.target {
                FaultTarget::Api { refusal } => Some((f.clone(), refusal)),
                FaultTarget::Action { .. } => None,
            })
        });
        let Some((fault, refusal)) = armed else { return Ok(()) };
        self.write(|tx| {
            let mut f = crate::model::Fault::clone(&fault);
            f.remaining = f.remaining.saturating_sub(1);
            if f.remaining == 0 {
                tx.delete(f.id.as_ref());
            } else {
                tx.put(Record::Fault(Arc::new(f)));
            }
            Ok(())
        })
        .await?;
        Err(match refusal {
            ApiRefusal::RateLimitExceeded => Error::RateLimited { limit: self.config().rate_limit },
            ApiRefusal::Maintenance => Error::Maintenance,
        })
    }
}
