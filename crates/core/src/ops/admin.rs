//! Administration: projects, credentials and injected faults. Reached through the
//! `stratus` admin commands, never through a dialect.

use super::auth::hash_secret;
use super::random_secret;
use crate::cloud::Cloud;
use crate::data::{Row, State, Table, Tx};
use crate::error::{Error, Result};
use crate::ids::*;
use crate::model::*;
use crate::store::Record;
use std::sync::Arc;

/// A new credential: the record and the secret, which is shown once and never stored.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token: Arc<Token>,
    pub secret: String,
}

impl Cloud {
    pub fn project_list(&self) -> Vec<Arc<Project>> {
        self.read(|s| s.projects.all().cloned().collect())
    }

    /// Creates a project; fails with `uniqueness` if the name is taken.
    pub async fn project_create(&self, name: &str) -> Result<Arc<Project>> {
        validate_project_name(name)?;
        self.write(|tx| {
            if tx.projects.named(None, name).next().is_some() {
                return Err(Error::uniqueness("name", format!("project '{name}' already exists")));
            }
            let project = Arc::new(Project { id: ProjectId(tx.next_id()), name: name.to_string(), created: now() });
            tx.put(Record::Project(project.clone()));
            Ok(project)
        })
        .await
    }

    /// Issues a token for project `project`, creating the project if it does not exist.
    pub async fn token_create(&self, project: &str, name: &str, access: Access) -> Result<IssuedToken> {
        validate_project_name(project)?;
        let secret = random_secret(64);
        let secret_hash = hash_secret(&secret);
        self.write(|tx| {
            let project_id = project_named_or_new(tx, project);
            let token = Arc::new(Token {
                id: TokenId(tx.next_id()),
                project: project_id,
                name: name.to_string(),
                kind: CredentialKind::BearerToken,
                access,
                secret_hash,
                created: now(),
                revoked: None,
            });
            tx.put(Record::Token(token.clone()));
            Ok(IssuedToken { token, secret })
        })
        .await
    }

    /// Tokens, optionally of one project (by name).
    pub fn token_list(&self, project: Option<&str>) -> Result<Vec<(Arc<Token>, Arc<Project>)>> {
        self.read(|s| with_projects(s, &s.tokens, project))
    }

    /// Revokes a token; it stops working with the next request.
    pub async fn token_revoke(&self, id: TokenId) -> Result<()> {
        self.write(|tx| {
            let mut token = Token::clone(tx.tokens.get(id.0).ok_or_else(|| Error::not_found(ResourceKind::Token, id))?);
            if token.revoked.is_none() {
                token.revoked = Some(now());
                tx.put(Record::Token(Arc::new(token)));
            }
            Ok(())
        })
        .await
    }

    pub fn fault_list(&self) -> Vec<Arc<Fault>> {
        self.read(|s| s.faults.all().cloned().collect())
    }

    /// Arms a fault that fires `count` times.
    pub async fn fault_add(&self, target: FaultTarget, count: u32, code: &str, message: &str) -> Result<Arc<Fault>> {
        if count == 0 {
            return Err(Error::invalid_field("count", "must be at least 1"));
        }
        if code.is_empty() {
            return Err(Error::invalid_field("code", "is required"));
        }
        if let FaultTarget::Action { kinds, step } = &target {
            check_fault_target(kinds, step.as_ref())?;
        }
        self.write(|tx| {
            let fault = Arc::new(Fault {
                id: FaultId(tx.next_id()),
                target,
                remaining: count,
                code: code.to_string(),
                message: message.to_string(),
                created: now(),
            });
            tx.put(Record::Fault(fault.clone()));
            Ok(fault)
        })
        .await
    }

    /// Disarms every fault; returns how many there were.
    pub async fn fault_clear(&self) -> Result<usize> {
        self.write(|tx| {
            let ids: Vec<FaultId> = tx.faults.all().map(|f| f.id).collect();
            for id in &ids {
                tx.delete(id.as_ref());
            }
            Ok(ids.len())
        })
        .await
    }
}

/// A fault must name kinds that exist, and a step each of them has.
fn check_fault_target(kinds: &[String], step: Option<&StepRef>) -> Result<()> {
    if kinds.is_empty() {
        return Err(Error::invalid_field("kind", "name at least one action kind"));
    }
    for name in kinds {
        let Some(kind) = crate::actions::kind(name) else {
            return Err(Error::invalid_field("kind", format!("there is no action kind {name}")));
        };
        if let Some(StepRef::Name(step)) = step {
            if kind.step(step).is_none() {
                let steps = kind.step_names().join(", ");
                return Err(Error::invalid_field("step", format!("{name} has no step {step} (its steps: {steps})")));
            }
        }
    }
    Ok(())
}

/// The rows of `table`, of the project named `project` if one is given, each with its
/// project (for the admin lists).
pub(crate) fn with_projects<T: Row>(
    s: &State,
    table: &Table<T>,
    project: Option<&str>,
) -> Result<Vec<(Arc<T>, Arc<Project>)>> {
    let rows: Vec<&Arc<T>> = match project {
        Some(name) => {
            let id = s
                .projects
                .named(None, name)
                .next()
                .map(|p| p.id)
                .ok_or_else(|| Error::not_found(ResourceKind::Project, name))?;
            table.of(Some(id)).collect()
        }
        None => table.all().collect(),
    };
    Ok(rows
        .into_iter()
        .filter_map(|r| r.project().and_then(|p| s.projects.get(p.0)).map(|p| (r.clone(), p.clone())))
        .collect())
}

/// The project named `name`, made if there is none (credentials bring their project).
pub(crate) fn project_named_or_new(tx: &mut Tx, name: &str) -> ProjectId {
    if let Some(p) = tx.projects.named(None, name).next() {
        return p.id;
    }
    let p = Arc::new(Project { id: ProjectId(tx.next_id()), name: name.to_string(), created: now() });
    tx.put(Record::Project(p.clone()));
    p.id
}

pub(crate) fn validate_project_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_field("name", "project names are 1-64 letters, digits, '-', '_' or '.'"))
    }
}
