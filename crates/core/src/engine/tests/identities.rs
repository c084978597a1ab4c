//! Users with passwords and API keys that sign requests: what they let in, and what not.

use super::*;
use crate::ids::ApiKeyId;
use crate::ops::sessions::SessionPolicy;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

fn sign(secret: &str, message: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(message);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

#[tokio::test]
async fn a_user_logs_in_with_the_password_only() {
    let (cloud, p, store, _) = instant().await;
    let user = cloud.user_create("p", "alice", "correct horse", Access::ReadWrite).await.unwrap();
    assert_eq!(user.project, p.project, "the project of that name");
    assert!(user.password_hash.starts_with("$argon2id$"), "{}", user.password_hash);
    assert!(!user.password_hash.contains("correct horse"));
    let (who, _) = cloud.login("alice", "correct horse").await.unwrap();
    assert_eq!((who.project, who.credential, who.access), (p.project, user.id.as_ref(), Access::ReadWrite));
    for (name, password) in [("alice", "wrong horse"), ("alice", ""), ("bob", "correct horse")] {
        assert!(matches!(cloud.login(name, password).await, Err(Error::Unauthenticated)), "{name}/{password}");
    }
    // Names are unique in the installation, whatever the project.
    let again = cloud.user_create("other", "alice", "another one", Access::Read).await;
    assert!(matches!(again, Err(Error::Uniqueness { .. })), "{again:?}");
    for (name, password) in [("", "long enough"), ("a b", "long enough"), ("carol", "short")] {
        let bad = cloud.user_create("p", name, password, Access::Read).await;
        assert!(matches!(bad, Err(Error::InvalidInput { .. })), "{name}/{password}: {bad:?}");
    }
    let names: Vec<String> = cloud.user_list(Some("p")).unwrap().iter().map(|(u, _)| u.name.clone()).collect();
    assert_eq!(names, ["alice"]);
    // Stored as it was made: a cloud opened again on the same store lets the user in.
    let reopened = Cloud::open(store, Arc::new(SimDriver::new(SimTiming::Instant)), Config::default()).await.unwrap();
    assert_eq!(reopened.login("alice", "correct horse").await.unwrap().1.id, user.id);
}

#[tokio::test]
async fn an_api_key_lets_in_what_its_secret_signed() {
    let store = MemoryStore::new();
    let config = Config::default();
    let (cloud, p) = cloud_on(store.clone(), Arc::new(SimDriver::new(SimTiming::Instant)), config.clone()).await;
    let issued = cloud.api_key_create("p", Access::ReadWrite).await.unwrap();
    let (key, secret) = (issued.api_key.key.clone(), issued.secret.clone());
    assert!(!issued.api_key.sealed_secret.contains(&secret), "kept sealed");
    let message = b"GET\nlocalhost:8080\nThu, 01 Jan 2026 00:00:00 GMT\n/e24cloud/v2/virtual-machines\n";
    let who = cloud.authenticate_signed(&key, message, &sign(&secret, message)).unwrap();
    assert_eq!((who.project, who.credential), (p.project, issued.api_key.id.as_ref()));
    let refused = |key: &str, message: &[u8], signature: &str| {
        matches!(cloud.authenticate_signed(key, message, signature), Err(Error::Unauthenticated))
    };
    assert!(refused(&key, b"GET\nother", &sign(&secret, message)), "another message");
    assert!(refused(&key, message, &sign("not the secret", message)), "another secret");
    assert!(refused(&key, message, "not base64!"), "garbage");
    assert!(refused("unknown", message, &sign(&secret, message)), "an unknown key");
    // Another installation key (another data directory's) cannot open the secret.
    let other =
        Cloud::open(store.clone(), Arc::new(SimDriver::new(SimTiming::Instant)), Config::default()).await.unwrap();
    assert!(matches!(other.authenticate_signed(&key, message, &sign(&secret, message)), Err(Error::Unauthenticated)));
    // The same one can, after a restart.
    let reopened = Cloud::open(store, Arc::new(SimDriver::new(SimTiming::Instant)), config).await.unwrap();
    assert!(reopened.authenticate_signed(&key, message, &sign(&secret, message)).is_ok());

    // Listed by project; revoked, it signs nothing more.
    cloud.api_key_create("other", Access::Read).await.unwrap();
    let listed: Vec<ApiKeyId> = cloud.api_key_list(Some("p")).unwrap().iter().map(|(k, _)| k.id).collect();
    assert_eq!(listed, [issued.api_key.id]);
    assert_eq!(cloud.api_key_list(None).unwrap().len(), 2);
    assert!(matches!(cloud.api_key_list(Some("nope")), Err(Error::NotFound { .. })));
    cloud.api_key_revoke(issued.api_key.id).await.unwrap();
    assert!(refused(&key, message, &sign(&secret, message)), "revoked");
    assert!(matches!(cloud.api_key_revoke(ApiKeyId(999_999)).await, Err(Error::NotFound { .. })));
}

const POLICY: SessionPolicy =
    SessionPolicy { access_ttl: chrono::Duration::minutes(45), refresh_ttl: chrono::Duration::days(1) };

#[tokio::test]
async fn a_login_session_lives_until_refreshed_or_expired() {
    let (cloud, p, _, _) = instant().await;
    let user = cloud.user_create("p", "alice", "correct horse", Access::Read).await.unwrap();
    assert!(matches!(cloud.session_login("alice", "wrong horse", POLICY).await, Err(Error::Unauthenticated)));
    let first = cloud.session_login("alice", "correct horse", POLICY).await.unwrap();
    assert_eq!(first.access.split('.').count(), 3, "a JWT: {}", first.access);
    assert_eq!(first.access_expires - first.session.created, chrono::Duration::minutes(45));
    let who = cloud.authenticate_session(&first.access).unwrap();
    assert_eq!((who.project, who.credential, who.access), (p.project, user.id.as_ref(), Access::Read));
    // The refresh token is not an access token, and garbage is no token.
    for bad in [first.refresh.as_str(), "", "a.b.c", &format!("{}x", first.access)] {
        assert!(matches!(cloud.authenticate_session(bad), Err(Error::Unauthenticated)), "{bad}");
    }
    // One signed by another installation is forged.
    let (elsewhere, _, _, _) = instant().await;
    elsewhere.user_create("p", "alice", "correct horse", Access::Read).await.unwrap();
    let foreign = elsewhere.session_login("alice", "correct horse", POLICY).await.unwrap();
    assert!(matches!(cloud.authenticate_session(&foreign.access), Err(Error::Unauthenticated)));

    // A refresh spends the refresh token and ends the old session's access tokens.
    let second = cloud.session_refresh(&first.refresh, POLICY).await.unwrap();
    assert_ne!(second.refresh, first.refresh);
    assert!(cloud.authenticate_session(&second.access).is_ok());
    assert!(matches!(cloud.authenticate_session(&first.access), Err(Error::Unauthenticated)), "old session over");
    assert!(matches!(cloud.session_refresh(&first.refresh, POLICY).await, Err(Error::Unauthenticated)), "spent");
    assert!(matches!(cloud.session_refresh("made up", POLICY).await, Err(Error::Unauthenticated)));

    // Expired access and refresh tokens are refused; the clock removes expired sessions.
    let expired =
        SessionPolicy { access_ttl: chrono::Duration::seconds(-1), refresh_ttl: chrono::Duration::seconds(-1) };
    let stale = cloud.session_login("alice", "correct horse", expired).await.unwrap();
    assert!(matches!(cloud.authenticate_session(&stale.access), Err(Error::Unauthenticated)), "expired access");
    assert!(
        matches!(cloud.session_refresh(&stale.refresh, POLICY).await, Err(Error::Unauthenticated)),
        "expired refresh"
    );
    assert_eq!(cloud.sim_advance(0).await.unwrap().sessions_expired, 1, "the stale one");
    assert_eq!(cloud.sim_advance(25).await.unwrap().sessions_expired, 1, "the live one, a day later");
    assert!(cloud.read(|s| s.sessions.all().next().is_none()));
}
