//! Projects and the credentials that act in them.

use crate::ids::{ProjectId, TokenId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The tenant. Everything a user creates belongs to exactly one project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Project {
    pub id: ProjectId,
    pub name: String,
    pub created: DateTime<Utc>,
}

/// What a credential may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    ReadWrite,
    /// Hetzner read-only tokens: writes answer `forbidden`.
    Read,
}

/// The kinds of credential. Only bearer tokens exist today; the roadmap adds users with
/// passwords (Cloude.ro, IONOS users), per-user API keys with roles and allowed IPs
/// (IONOS) and key/secret pairs for request signing (e24cloud) as further variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    BearerToken,
}

/// A credential. The secret itself is never stored, only its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Token {
    pub id: TokenId,
    pub project: ProjectId,
    pub name: String,
    pub kind: CredentialKind,
    pub access: Access,
    /// Hex SHA-256 of the secret.
    pub secret_hash: String,
    pub created: DateTime<Utc>,
    pub revoked: Option<DateTime<Utc>>,
}

/// Who is calling: the resolved credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Principal {
    pub project: ProjectId,
    pub token: TokenId,
    pub access: Access,
}
