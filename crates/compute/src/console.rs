//! Console sessions: short-lived (token, password) pairs that the API layer checks when a
//! client opens the console websocket (`/console/{token}`), and what the websocket
//! leads to: the simulator's echo, or a VM's VNC websocket that Stratus proxies.
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
/// Length of the VNC password: VNC authentication keys DES with the first 8 characters
/// only, so a longer one would look stronger than it is.
pub const PASSWORD_LEN: usize = 8;

/// What a console websocket connects to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsoleTarget {
    /// The simulator has no screen: the websocket echoes what the client sends.
    Echo,
    /// A VNC websocket (`ws://127.0.0.1:<port>`) that Stratus relays; VNC authentication
    /// with the session's password happens end to end, between the client and QEMU.
    Vnc { websocket: String },
}

/// A live console session, as the websocket route needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleSession {
    pub vm: VmId,
    pub target: ConsoleTarget,
}

struct Session {
    vm: VmId,
    password: String,
    target: ConsoleTarget,
    expires: Instant,
}

impl fmt::Debug for Session {
    // The password is a credential: keep it out of logs and panic messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("vm", &self.vm)
            .field("password", &"<redacted>")
            .field("target", &self.target)
            .field("expires", &self.expires)
            .finish()
    }
}

/// The open console sessions, keyed by token.
#[derive(Default)]
pub struct Sessions {
    by_token: HashMap<String, Session>,
}

impl fmt::Debug for Sessions {
    // Tokens are credentials too; show only how many there are.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sessions").field("open", &self.by_token.len()).finish()
    }
}

impl Sessions {
    /// Opens a session for `vm` with `password` (from [`new_password`]); returns its token.
    pub fn open(&mut self, vm: VmId, password: String, target: ConsoleTarget) -> String {
        let now = Instant::now();
        self.by_token.retain(|_, s| s.expires > now);
        let token = random_alphanumeric(TOKEN_LEN);
        let session = Session { vm, password, target, expires: now + CONSOLE_TTL };
        self.by_token.insert(token.clone(), session);
        token
    }

    /// A live session. Not single-use: a client may reconnect with the same credentials
    /// until they expire.
    pub fn lookup(&self, token: &str) -> Option<ConsoleSession> {
        self.by_token
            .get(token)
            .filter(|s| s.expires > Instant::now())
            .map(|s| ConsoleSession { vm: s.vm, target: s.target.clone() })
    }

    /// The password of a live session (the simulator's tests check it).
    pub fn password(&self, token: &str) -> Option<String> {
        self.by_token.get(token).filter(|s| s.expires > Instant::now()).map(|s| s.password.clone())
    }

    /// Ends every session of a deleted VM.
    pub fn close_vm(&mut self, vm: VmId) {
        self.by_token.retain(|_, s| s.vm != vm);
    }
}

/// A fresh console password.
pub fn new_password() -> String {
    random_alphanumeric(PASSWORD_LEN)
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
        let password = new_password();
        let token = sessions.open(7, password.clone(), ConsoleTarget::Echo);
        assert_eq!(token.len(), TOKEN_LEN);
        assert_eq!(password.len(), PASSWORD_LEN);
        assert!(token.chars().chain(password.chars()).all(|c| c.is_ascii_alphanumeric()));
        let live = ConsoleSession { vm: 7, target: ConsoleTarget::Echo };
        assert_eq!(sessions.lookup(&token), Some(live.clone()));
        assert_eq!(sessions.password(&token), Some(password));
        // Reusable within the window.
        assert_eq!(sessions.lookup(&token), Some(live));

        tokio::time::advance(CONSOLE_TTL).await;
        assert_eq!(sessions.lookup(&token), None);
        assert_eq!(sessions.password(&token), None);

        // Opening another session prunes the expired one.
        let other = sessions.open(8, new_password(), ConsoleTarget::Echo);
        assert_eq!(sessions.by_token.len(), 1);
        assert!(sessions.lookup(&other).is_some());
    }

    #[test]
    fn close_vm_ends_its_sessions_only() {
        let mut sessions = Sessions::default();
        let a = sessions.open(1, new_password(), ConsoleTarget::Echo);
        let vnc = ConsoleTarget::Vnc { websocket: "ws://127.0.0.1:5700".into() };
        let b = sessions.open(2, new_password(), vnc.clone());
        sessions.close_vm(1);
        assert_eq!(sessions.lookup(&a), None);
        assert_eq!(sessions.lookup(&b), Some(ConsoleSession { vm: 2, target: vnc }));
        assert_eq!(sessions.lookup("nope"), None);
    }

    #[test]
    fn debug_hides_credentials() {
        let mut sessions = Sessions::default();
        let password = new_password();
        let token = sessions.open(1, password.clone(), ConsoleTarget::Echo);
        let shown = format!("{sessions:?} {:?}", sessions.by_token.values().next());
        assert!(!shown.contains(&token));
        assert!(!shown.contains(&password));
    }
}
