//! SSH keys of a project.

use super::{check_labels, check_limit, ensure_write, validate_name, ListFilter};
use crate::cloud::Cloud;
use crate::data::State;
use crate::error::{Error, Result};
use crate::ids::*;
use crate::labels::Labels;
use crate::model::*;
use crate::store::Record;
use std::sync::Arc;

fn own_key<'a>(s: &'a State, p: &Principal, id: SshKeyId) -> Result<&'a Arc<SshKey>> {
    s.ssh_keys.get(id.0).filter(|k| k.project == p.project).ok_or_else(|| Error::not_found(ResourceKind::SshKey, id))
}

impl Cloud {
    pub fn ssh_key_list(&self, p: &Principal, filter: &ListFilter, fingerprint: Option<&str>) -> Vec<Arc<SshKey>> {
        self.read(|s| {
            s.ssh_keys
                .candidates(Some(p.project), filter.name.as_deref(), filter.label_selector.as_ref())
                .into_iter()
                .filter(|k| filter.matches(Some(&k.name), &k.labels))
                .filter(|k| fingerprint.is_none_or(|f| k.fingerprint == f))
                .cloned()
                .collect()
        })
    }

    pub fn ssh_key_get(&self, p: &Principal, id: SshKeyId) -> Result<Arc<SshKey>> {
        self.read(|s| own_key(s, p, id).cloned())
    }

    pub async fn ssh_key_create(
        &self,
        p: &Principal,
        name: String,
        public_key: String,
        labels: Labels,
    ) -> Result<Arc<SshKey>> {
        ensure_write(p)?;
        validate_name("name", &name)?;
        check_labels(Some(&labels))?;
        let fingerprint = fingerprint(&public_key)?;
        let limit = self.config().resource_limit;
        self.write(|tx| {
            if tx.ssh_keys.named(Some(p.project), &name).next().is_some() {
                return Err(Error::uniqueness("name", "SSH key with the same name already exists"));
            }
            // A project has few keys; fingerprints are not worth an index of their own.
            if tx.ssh_keys.of(Some(p.project)).any(|k| k.fingerprint == fingerprint) {
                return Err(Error::uniqueness("public_key", "SSH key with the same fingerprint already exists"));
            }
            check_limit(limit, tx.ssh_keys.count(Some(p.project)), ResourceKind::SshKey)?;
            let key = Arc::new(SshKey {
                id: SshKeyId(tx.next_id()),
                project: p.project,
                name,
                fingerprint,
                public_key: public_key.trim().to_string(),
                labels,
                created: now(),
            });
            tx.put(Record::SshKey(key.clone()));
            Ok(key)
        })
        .await
    }

    pub async fn ssh_key_update(
        &self,
        p: &Principal,
        id: SshKeyId,
        name: Option<String>,
        labels: Option<Labels>,
    ) -> Result<Arc<SshKey>> {
        ensure_write(p)?;
        if let Some(name) = &name {
            validate_name("name", name)?;
        }
        check_labels(labels.as_ref())?;
        self.write(|tx| {
            let mut key = SshKey::clone(own_key(tx, p, id)?);
            if let Some(name) = name {
                if tx.ssh_keys.named(Some(p.project), &name).any(|k| k.id != id) {
                    return Err(Error::uniqueness("name", "SSH key with the same name already exists"));
                }
                key.name = name;
            }
            if let Some(labels) = labels {
                key.labels = labels;
            }
            let key = Arc::new(key);
            tx.put(Record::SshKey(key.clone()));
            Ok(key)
        })
        .await
    }

    pub async fn ssh_key_delete(&self, p: &Principal, id: SshKeyId) -> Result<()> {
        ensure_write(p)?;
        self.write(|tx| {
            own_key(tx, p, id)?;
            tx.delete(id.as_ref());
            Ok(())
        })
        .await
    }
}
