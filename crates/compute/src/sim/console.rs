//! Console sessions: short-lived (token, password) pairs that the API layer checks when a
//! client opens the console websocket.
//!
//! Hetzner's `request_console` credentials stop working after about a minute, and clients
//! are written to request a fresh one each time; expiring ours the same way keeps scripts
//! honest. Expiry is checked lazily on lookup (and expired entries pruned when a new
//! session is opened), so no background task is needed. Time comes from
//! `tokio::time::Instant`, which tests can pause and advance.

use crate::driver::VmId;
use rand::distributions::Alphanumeric;
use rand::Rng;
use std::collections::HashMap;
use std::fmt;
use std::time::Duration;
use tokio::time::Instant;

/// How long a console token and password stay valid.
pub const CONSOLE_TTL: Duration = Duration::from_secs(60);
/// Length of the token in the websocket path.
const TOKEN_LEN: usize = 32;
/// Length of the VNC password.
const PASSWORD_LEN: usize = 16;

struct Session {
    vm: VmId,
    password: String,
    expires: Instant,
}

impl fmt::Debug for Session {
    // The password is a credential: keep it out of logs and panic messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("vm", &self.vm)
            .field("password", &"<redacted>")
            .field("expires", &self.expires)
            .finish()
    }
}

/// The open console sessions, keyed by token.
#[derive(Default)]
pub(crate) struct Sessions {
    by_token: HashMap<String, Session>,
}

impl fmt::Debug for Sessions {
    // Tokens are credentials too; show only how many there are.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sessions").field("open", &self.by_token.len()).finish()
    }
}

impl Sessions {
    /// Opens a session for `vm`; returns `(token, password)`.
    pub(crate) fn open(&mut self, vm: VmId) -> (String, String) {
        let now = Instant::now();
        self.by_token.retain(|_, s| s.expires > now);
        let token = random_alphanumeric(TOKEN_LEN);
        let password = random_alphanumeric(PASSWORD_LEN);
        let session = Session { vm, password: password.clone(), expires: now + CONSOLE_TTL };
        self.by_token.insert(token.clone(), session);
        (token, password)
    }

    /// The VM and password of a live session. Not single-use: a client may reconnect
    /// with the same credentials until they expire.
    pub(crate) fn lookup(&self, token: &str) -> Option<(VmId, String)> {
        self.by_token.get(token).filter(|s| s.expires > Instant::now()).map(|s| (s.vm, s.password.clone()))
    }

    /// Ends every session of a deleted VM.
    pub(crate) fn close_vm(&mut self, vm: VmId) {
        self.by_token.retain(|_, s| s.vm != vm);
    }
}

fn random_alphanumeric(len: usize) -> String {
    rand::thread_rng().sample_iter(&Alphanumeric).take(len).map(char::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn sessions_expire_after_ttl() {
        let mut sessions = Sessions::default();
        let (token, password) = sessions.open(7);
        assert_eq!(token.len(), TOKEN_LEN);
        assert_eq!(password.len(), PASSWORD_LEN);
        assert!(token.chars().chain(password.chars()).all(|c| c.is_ascii_alphanumeric()));
        assert_eq!(sessions.lookup(&token), Some((7, password.clone())));
        // Reusable within the window.
        assert_eq!(sessions.lookup(&token), Some((7, password)));

        tokio::time::advance(CONSOLE_TTL).await;
        assert_eq!(sessions.lookup(&token), None);

        // Opening another session prunes the expired one.
        let (other, _) = sessions.open(8);
        assert_eq!(sessions.by_token.len(), 1);
        assert!(sessions.lookup(&other).is_some());
    }

    #[test]
    fn close_vm_ends_its_sessions_only() {
        let mut sessions = Sessions::default();
        let (a, _) = sessions.open(1);
        let (b, _) = sessions.open(2);
        sessions.close_vm(1);
        assert_eq!(sessions.lookup(&a), None);
        assert!(sessions.lookup(&b).is_some());
        assert_eq!(sessions.lookup("nope"), None);
    }

    #[test]
    fn debug_hides_credentials() {
        let mut sessions = Sessions::default();
        let (token, password) = sessions.open(1);
        let shown = format!("{sessions:?} {:?}", sessions.by_token.values().next());
        assert!(!shown.contains(&token));
        assert!(!shown.contains(&password));
    }
}
