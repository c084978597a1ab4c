//! Login sessions. A user's name and password buy a short-lived access token (a JWT
//! signed with the installation's key, naming its session) and a longer-lived refresh
//! token, which buys the next pair once and is then spent. How long each lives is the
//! dialect's to say (Cloude.ro: 45 minutes and a day). Sessions whose refresh token
//! expired are removed by the clock (`schedule`).

use super::auth::hash_secret;
use super::random_secret;
use crate::cloud::Cloud;
use crate::error::{Error, Result};
use crate::ids::*;
use crate::model::*;
use crate::store::Record;
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Who signs the access tokens, and who accepts them.
const ISSUER: &str = "stratus";

/// How long a session's tokens live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
}

/// What a login or a refresh hands out.
#[derive(Debug, Clone)]
pub struct SessionTokens {
    pub session: Arc<Session>,
    pub user: Arc<User>,
    /// The JWT for `Authorization: Bearer`.
    pub access: String,
    pub access_expires: DateTime<Utc>,
    /// Shown once; only its hash is kept.
    pub refresh: String,
}

/// The access token's claims.
#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    iss: String,
    /// The user's id.
    sub: String,
    /// The session's id: removing the session ends its access tokens.
    sid: i64,
    iat: i64,
    exp: i64,
}

impl Cloud {
    /// Logs `name` in with `password` and opens a session.
    pub async fn session_login(&self, name: &str, password: &str, policy: SessionPolicy) -> Result<SessionTokens> {
        let (_, user) = self.login(name, password).await?;
        self.session_open(user, None, policy).await
    }

    /// Spends a refresh token for a new session (new access and refresh tokens); the old
    /// session ends with it. Unknown, spent and expired refresh tokens are all
    /// `Unauthenticated`.
    pub async fn session_refresh(&self, refresh: &str, policy: SessionPolicy) -> Result<SessionTokens> {
        let hash = hash_secret(refresh);
        let (old, user) = self
            .read(|s| {
                let session = s.session_by_refresh(&hash).filter(|x| x.expires > now())?;
                let user = s.users.get(session.user.0).filter(|u| s.projects.contains(u.project.0))?;
                Some((session.id, user.clone()))
            })
            .ok_or(Error::Unauthenticated)?;
        self.session_open(user, Some(old), policy).await
    }

    /// The principal an access token stands for: signed by this installation, not
    /// expired, its session still open and its user still there.
    pub fn authenticate_session(&self, access: &str) -> Result<Principal> {
        let key = DecodingKey::from_secret(&self.config().installation_key.jwt_key());
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.leeway = 0;
        let claims = decode::<Claims>(access, &key, &validation).map_err(|_| Error::Unauthenticated)?.claims;
        self.read(|s| {
            let session = s.sessions.get(claims.sid).filter(|x| x.user.0.to_string() == claims.sub)?;
            let user = s.users.get(session.user.0).filter(|u| s.projects.contains(u.project.0))?;
            Some(Principal { project: user.project, credential: user.id.as_ref(), access: user.access })
        })
        .ok_or(Error::Unauthenticated)
    }

    /// Removes the sessions whose refresh token expired by `until`.
    pub(crate) async fn expire_sessions_until(&self, until: DateTime<Utc>) -> Result<usize> {
        if self.read(|s| s.sessions_expired_by(until).next().is_none()) {
            return Ok(0);
        }
        self.write(|tx| {
            let expired: Vec<SessionId> = tx.sessions_expired_by(until).collect();
            for id in &expired {
                tx.delete(id.as_ref());
            }
            Ok(expired.len())
        })
        .await
    }

    async fn session_open(
        &self,
        user: Arc<User>,
        replacing: Option<SessionId>,
        policy: SessionPolicy,
    ) -> Result<SessionTokens> {
        let refresh = random_secret(64);
        let refresh_hash = hash_secret(&refresh);
        let session = self
            .write(|tx| {
                if let Some(old) = replacing {
                    // Spent: a second refresh with the same token finds nothing.
                    if tx.sessions.get(old.0).is_none() {
                        return Err(Error::Unauthenticated);
                    }
                    tx.delete(old.as_ref());
                }
                let created = now();
                let session = Arc::new(Session {
                    id: SessionId(tx.next_id()),
                    project: user.project,
                    user: user.id,
                    refresh_hash,
                    created,
                    expires: created + policy.refresh_ttl,
                });
                tx.put(Record::Session(session.clone()));
                Ok(session)
            })
            .await?;
        let access_expires = session.created + policy.access_ttl;
        let claims = Claims {
            iss: ISSUER.to_owned(),
            sub: user.id.0.to_string(),
            sid: session.id.0,
            iat: session.created.timestamp(),
            exp: access_expires.timestamp(),
        };
        let key = EncodingKey::from_secret(&self.config().installation_key.jwt_key());
        let access = encode(&Header::new(Algorithm::HS256), &claims, &key)
            .map_err(|e| Error::Internal(format!("signing a session token: {e}")))?;
        Ok(SessionTokens { session, user, access, access_expires, refresh })
    }
}
