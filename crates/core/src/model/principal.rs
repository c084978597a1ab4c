//! Projects and the credentials that act in them.

use crate::ids::{ApiKeyId, ProjectId, ResourceRef, SessionId, TokenId, UserId};
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

/// The kinds of bearer credential. Users with passwords ([`User`]) and signing keys
/// ([`ApiKey`]) are records of their own; IONOS's per-user API keys with roles and
/// allowed IPs come as further kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    BearerToken,
}

/// A person of a project who logs in with a name and a password (Cloude.ro; the IONOS
/// users API lists them). The password is kept only as an Argon2id hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub project: ProjectId,
    /// The login name, unique in the installation (a login names no project).
    pub name: String,
    /// The password as an Argon2id hash in PHC form (`$argon2id$v=19$...`).
    pub password_hash: String,
    pub access: Access,
    pub created: DateTime<Utc>,
}

/// A user's login. Its access tokens (JWTs) name it, so removing it ends them too; its
/// refresh token is kept only as a hash. A refresh replaces it by a new one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub id: SessionId,
    pub project: ProjectId,
    pub user: UserId,
    /// Hex SHA-256 of the refresh token.
    pub refresh_hash: String,
    pub created: DateTime<Utc>,
    /// When the refresh token stops working; the session is removed then.
    pub expires: DateTime<Utc>,
}

/// A key and secret that sign requests (e24cloud's `Authorization: <key>:<signature>`).
/// The secret must be read again to check a signature, so it is kept sealed with the
/// installation's key ([`crate::keyring`]), never in the clear and never as a hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub project: ProjectId,
    /// The user it belongs to, if it is one user's.
    pub user: Option<UserId>,
    /// The public half, sent with every request.
    pub key: String,
    /// The secret, sealed.
    pub sealed_secret: String,
    pub access: Access,
    pub created: DateTime<Utc>,
    pub revoked: Option<DateTime<Utc>>,
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
    /// What it presented: a token, a user (logged in) or an API key. Each has a rate
    /// budget of its own.
    pub credential: ResourceRef,
    pub access: Access,
}
