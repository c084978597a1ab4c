//! Users who log in with a password, and API keys whose secret signs requests: making
//! them (the `stratus user` and `stratus apikey` admin commands) and checking what a
//! request presents. Bearer tokens are in `admin` and `auth`.

use super::admin::{project_named_or_new, validate_project_name, with_projects};
use super::random_secret;
use crate::cloud::Cloud;
use crate::error::{Error, Result};
use crate::ids::*;
use crate::model::*;
use crate::store::Record;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::sync::Arc;

/// Shortest password a user may have.
const MIN_PASSWORD_CHARS: usize = 8;
/// Longest: Argon2 takes any length, but a login form should not carry megabytes.
const MAX_PASSWORD_BYTES: usize = 1024;

/// A new API key: the record and its secret, shown once (it is kept only sealed).
#[derive(Debug, Clone)]
pub struct IssuedApiKey {
    pub api_key: Arc<ApiKey>,
    pub secret: String,
}

impl Cloud {
    /// Creates a login user in `project` (made if missing). The name must be free in the
    /// whole installation; the password is kept only as an Argon2id hash.
    pub async fn user_create(&self, project: &str, name: &str, password: &str, access: Access) -> Result<Arc<User>> {
        validate_project_name(project)?;
        validate_login_name(name)?;
        if password.chars().count() < MIN_PASSWORD_CHARS || password.len() > MAX_PASSWORD_BYTES {
            return Err(Error::invalid_field(
                "password",
                format!(
                    "a password has at least {MIN_PASSWORD_CHARS} characters and at most {MAX_PASSWORD_BYTES} bytes"
                ),
            ));
        }
        // Slow on purpose (that is what makes a stolen hash costly to guess): outside
        // the write, off the async threads.
        let password = password.to_owned();
        let password_hash = tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .map_err(|e| Error::Internal(format!("password hashing: {e}")))??;
        self.write(|tx| {
            if tx.user_by_name(name).is_some() {
                return Err(Error::uniqueness("name", format!("a user named '{name}' already exists")));
            }
            let project = project_named_or_new(tx, project);
            let user = Arc::new(User {
                id: UserId(tx.next_id()),
                project,
                name: name.to_owned(),
                password_hash,
                access,
                created: now(),
            });
            tx.put(Record::User(user.clone()));
            Ok(user)
        })
        .await
    }

    /// The user `name` acting, if `password` is theirs. An unknown name and a wrong
    /// password get the same answer after the same work, so neither tells which it was.
    pub async fn login(&self, name: &str, password: &str) -> Result<(Principal, Arc<User>)> {
        let user = self.read(|s| s.user_by_name(name).filter(|u| s.projects.contains(u.project.0)).cloned());
        let hash = user.as_ref().map(|u| u.password_hash.clone());
        let password = password.to_owned();
        let matches = tokio::task::spawn_blocking(move || match hash {
            Some(hash) => verify_password(&password, &hash),
            None => {
                // The same cost as a real check, against a hash nobody's password has.
                let _ = hash_password(&password);
                false
            }
        })
        .await
        .map_err(|e| Error::Internal(format!("password check: {e}")))?;
        match user {
            Some(user) if matches => {
                Ok((Principal { project: user.project, credential: user.id.as_ref(), access: user.access }, user))
            }
            _ => Err(Error::Unauthenticated),
        }
    }

    /// Creates an API key for `project` (made if missing) and returns it with its secret.
    pub async fn api_key_create(&self, project: &str, access: Access) -> Result<IssuedApiKey> {
        validate_project_name(project)?;
        let secret = random_secret(48);
        let sealed_secret = self.config().installation_key.seal(&secret);
        self.write(|tx| {
            let project = project_named_or_new(tx, project);
            let api_key = Arc::new(ApiKey {
                id: ApiKeyId(tx.next_id()),
                project,
                user: None,
                key: random_secret(32),
                sealed_secret,
                access,
                created: now(),
                revoked: None,
            });
            tx.put(Record::ApiKey(api_key.clone()));
            Ok(IssuedApiKey { api_key, secret })
        })
        .await
    }

    /// Users, optionally of one project (by name).
    pub fn user_list(&self, project: Option<&str>) -> Result<Vec<(Arc<User>, Arc<Project>)>> {
        self.read(|s| with_projects(s, &s.users, project))
    }

    /// API keys, optionally of one project (by name).
    pub fn api_key_list(&self, project: Option<&str>) -> Result<Vec<(Arc<ApiKey>, Arc<Project>)>> {
        self.read(|s| with_projects(s, &s.api_keys, project))
    }

    /// Revokes an API key; it signs nothing from the next request on.
    pub async fn api_key_revoke(&self, id: ApiKeyId) -> Result<()> {
        self.write(|tx| {
            let found = tx.api_keys.get(id.0).ok_or_else(|| Error::not_found(ResourceKind::ApiKey, id))?;
            if found.revoked.is_none() {
                let mut key = ApiKey::clone(found);
                key.revoked = Some(now());
                tx.put(Record::ApiKey(Arc::new(key)));
            }
            Ok(())
        })
        .await
    }

    /// The principal whose API key `key` made `signature`: base64 of HMAC-SHA256 over
    /// `message` (what the dialect says is signed) under the key's secret. Unknown and
    /// revoked keys and wrong signatures are all `Unauthenticated`.
    pub fn authenticate_signed(&self, key: &str, message: &[u8], signature: &str) -> Result<Principal> {
        let api_key = self
            .read(|s| {
                s.api_key_by_key(key).filter(|k| k.revoked.is_none() && s.projects.contains(k.project.0)).cloned()
            })
            .ok_or(Error::Unauthenticated)?;
        let secret = self.config().installation_key.open(&api_key.sealed_secret).map_err(|e| {
            tracing::warn!(api_key = api_key.id.0, error = %e, "an API key's secret does not open");
            Error::Unauthenticated
        })?;
        let signature =
            base64::engine::general_purpose::STANDARD.decode(signature.trim()).map_err(|_| Error::Unauthenticated)?;
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
        mac.update(message);
        // Constant time: how much of a guess was right must not show in the timing.
        mac.verify_slice(&signature).map_err(|_| Error::Unauthenticated)?;
        Ok(Principal { project: api_key.project, credential: api_key.id.as_ref(), access: api_key.access })
    }
}

/// Login names: what users type and scripts send unquoted in form fields.
fn validate_login_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'@'));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_field("name", "user names are 1-64 letters, digits, '-', '_', '.' or '@'"))
    }
}

/// An Argon2id hash (the crate's defaults: 19 MiB, 2 passes) with a random salt.
fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Internal(format!("password hashing: {e}")))
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}
