//! The admin protocol: what an admin command asks of a `Cloud` and what it gets back.
//!
//! The same values travel two ways: as newline-delimited JSON over `DATA_DIR/admin.sock`
//! to a running `serve`, or straight into [`super::execute`] when no server runs. One
//! request object per line, e.g.
//!
//! ```text
//! {"op":"token_create","project":"default","name":"ci","read_only":false}
//! {"ok":true,"result":{"id":7,"project":"default","name":"ci","access":"read_write","token":"…"}}
//! ```
//!
//! Results are plain JSON (`result`), typed on both ends by the structs below, so a
//! script may speak the protocol too (`socat - UNIX-CONNECT:data/admin.sock`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use stratus_core::ids::ResourceKind;
use stratus_core::model::{Access, ApiRefusal, PriceList, StepRef};
use stratus_core::ops::catalog::CatalogEntry;

/// The longest request line the socket accepts: far above any real catalogue entry,
/// low enough that a stray client cannot make the server buffer without bound.
pub const MAX_LINE: u64 = 1 << 20;

/// One admin operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum AdminRequest {
    /// Issue a token (creating the project if needed); the result carries the secret,
    /// the only time it is ever shown.
    TokenCreate {
        project: String,
        name: String,
        #[serde(default)]
        read_only: bool,
    },
    TokenList {
        #[serde(default)]
        project: Option<String>,
    },
    /// Create a login user (creating the project if needed); the server keeps only the
    /// password's hash.
    UserCreate {
        project: String,
        name: String,
        password: Password,
        #[serde(default)]
        read_only: bool,
    },
    UserList {
        #[serde(default)]
        project: Option<String>,
    },
    /// Create an API key for request signing (creating the project if needed); the result
    /// carries the secret, the only time it is ever shown.
    ApiKeyCreate {
        project: String,
        #[serde(default)]
        read_only: bool,
    },
    ApiKeyList {
        #[serde(default)]
        project: Option<String>,
    },
    ApiKeyRevoke {
        id: i64,
    },
    TokenRevoke {
        id: i64,
    },
    ProjectCreate {
        name: String,
    },
    ProjectList,
    CatalogList {
        kind: CatalogKind,
    },
    CatalogPut {
        entry: Box<CatalogEntry>,
    },
    CatalogRemove {
        kind: CatalogKind,
        id: i64,
    },
    /// The price list (what is not priced per server type).
    PriceListGet,
    /// Replace the price list.
    PriceListSet {
        list: Box<PriceList>,
    },
    /// Make the next `count` actions of one of `kinds` (core kind names) fail at `step`
    /// (the last when absent).
    FaultAction {
        kinds: Vec<String>,
        count: u32,
        #[serde(default)]
        step: Option<StepRef>,
        code: String,
        message: String,
    },
    /// Make the next `count` API requests fail with `code`.
    FaultApi {
        code: ApiRefusal,
        count: u32,
    },
    FaultList,
    FaultClear,
    /// Fast-forward the backup schedule by `hours`.
    SimAdvance {
        hours: u32,
    },
    /// Running and stuck actions of every project (`stuck`: only stuck ones).
    ActionList {
        #[serde(default)]
        stuck: bool,
    },
    /// Every action kind and its steps.
    ActionKinds,
    /// Make sure a catalogue (public) ISO of this name exists, for a file in `DATA/isos`;
    /// an existing entry is left as it is.
    IsoRegister {
        name: String,
        description: String,
    },
    /// Make sure a catalogue (system) image of this name exists, for a build in the image
    /// store; an existing entry is left as it is.
    ImageRegister {
        name: String,
        description: String,
        os_flavor: String,
        #[serde(default)]
        os_version: Option<String>,
        /// GB of disk the image needs.
        disk_size: u64,
    },
    /// Retry a stuck action's failed undo.
    ActionRetry {
        id: i64,
    },
    /// Take a stuck action's failed undo as done by hand; the unwind goes on.
    ActionResolve {
        id: i64,
    },
}

impl AdminRequest {
    /// Whether the request only reads. Read-only requests against a data directory that
    /// holds no database fail instead of creating an empty one: a mistyped `--data-dir`
    /// should not look like a cloud without tokens.
    pub fn is_read_only(&self) -> bool {
        matches!(
            self,
            AdminRequest::TokenList { .. }
                | AdminRequest::ProjectList
                | AdminRequest::CatalogList { .. }
                | AdminRequest::PriceListGet
                | AdminRequest::FaultList
                | AdminRequest::ActionList { .. }
                | AdminRequest::ActionKinds
        )
    }
}

/// The result of `image_register` and `iso_register`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageRegistered {
    pub id: i64,
    /// Whether the entry is new.
    pub added: bool,
}

/// The answer to one request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdminResponse {
    pub ok: bool,
    /// The operation's result (see the result types below); `null` on failure and for
    /// operations that return nothing.
    #[serde(default)]
    pub result: Value,
    /// Why the operation failed, for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl AdminResponse {
    pub fn success(result: Value) -> Self {
        AdminResponse { ok: true, result, error: None }
    }

    pub fn failure(error: impl std::fmt::Display) -> Self {
        AdminResponse { ok: false, result: Value::Null, error: Some(error.to_string()) }
    }
}

/// The catalogue kinds, as the CLI (`server-type`) and the protocol (`server_type`) name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum CatalogKind {
    Location,
    Datacenter,
    ServerType,
    LoadBalancerType,
    Image,
    Iso,
}

impl CatalogKind {
    pub fn resource_kind(self) -> ResourceKind {
        match self {
            CatalogKind::Location => ResourceKind::Location,
            CatalogKind::Datacenter => ResourceKind::Datacenter,
            CatalogKind::ServerType => ResourceKind::ServerType,
            CatalogKind::LoadBalancerType => ResourceKind::LoadBalancerType,
            CatalogKind::Image => ResourceKind::Image,
            CatalogKind::Iso => ResourceKind::Iso,
        }
    }
}

/// Result of `token_create`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenCreated {
    pub id: i64,
    pub project: String,
    pub name: String,
    pub access: Access,
    /// The secret. Shown once; only its hash is stored.
    pub token: String,
}

/// A password on its way to the server: on the wire as a string, never in debug output
/// (the admin socket logs each request).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Password(pub String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(..)")
    }
}

/// Result of `user_create`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserCreated {
    pub id: i64,
    pub project: String,
    pub name: String,
    pub access: Access,
}

/// One row of `user_list` (never the password's hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRow {
    pub id: i64,
    pub project: String,
    pub name: String,
    pub access: Access,
    pub created: DateTime<Utc>,
}

/// One row of `api_key_list`: the public half, never the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyRow {
    pub id: i64,
    pub project: String,
    pub key: String,
    pub access: Access,
    pub created: DateTime<Utc>,
    pub revoked: Option<DateTime<Utc>>,
}

/// Result of `api_key_create`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyCreated {
    pub id: i64,
    pub project: String,
    pub access: Access,
    /// The public half, sent with each request.
    pub key: String,
    /// The secret. Shown once; the server keeps it sealed with the installation key.
    pub secret: String,
}

/// One row of `token_list`. Never the secret or its hash: the hash is not needed to
/// manage tokens, and keeping it off the wire keeps it out of terminals and logs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRow {
    pub id: i64,
    pub project: String,
    pub name: String,
    pub access: Access,
    pub created: DateTime<Utc>,
    pub revoked: Option<DateTime<Utc>>,
}

/// Result of `fault_clear`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cleared {
    pub cleared: usize,
}

/// One row of `action_list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionRow {
    pub id: i64,
    pub project: i64,
    pub kind: String,
    pub status: String,
    pub progress: u8,
    pub started: DateTime<Utc>,
    /// The step now due (`undo <step>` while unwinding).
    pub step: Option<String>,
    /// `kind id` of each resource it holds.
    pub resources: Vec<String>,
    pub error: Option<String>,
}

/// One row of `action_kinds`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindRow {
    pub kind: String,
    pub steps: Vec<String>,
}

/// Result of `sim_advance`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Advanced {
    pub backups_started: usize,
    /// Rescue systems armed an hour without a boot, disabled.
    #[serde(default)]
    pub rescues_disabled: usize,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_password_stays_out_of_debug_output() {
        let r = AdminRequest::UserCreate {
            project: "p".into(),
            name: "u".into(),
            password: Password("hunter22".into()),
            read_only: false,
        };
        assert!(!format!("{r:?}").contains("hunter22"), "{r:?}");
    }

    #[test]
    fn requests_have_a_stable_wire_form() {
        let cases = [
            (
                AdminRequest::TokenCreate { project: "p".into(), name: "n".into(), read_only: true },
                json!({"op": "token_create", "project": "p", "name": "n", "read_only": true}),
            ),
            (AdminRequest::ProjectList, json!({"op": "project_list"})),
            (
                AdminRequest::UserCreate {
                    project: "p".into(),
                    name: "u".into(),
                    password: Password("pw".into()),
                    read_only: false,
                },
                json!({"op": "user_create", "project": "p", "name": "u", "password": "pw", "read_only": false}),
            ),
            (
                AdminRequest::ApiKeyCreate { project: "p".into(), read_only: true },
                json!({"op": "api_key_create", "project": "p", "read_only": true}),
            ),
            (AdminRequest::TokenRevoke { id: 4 }, json!({"op": "token_revoke", "id": 4})),
            (
                AdminRequest::CatalogRemove { kind: CatalogKind::ServerType, id: 9 },
                json!({"op": "catalog_remove", "kind": "server_type", "id": 9}),
            ),
            (
                AdminRequest::FaultApi { code: ApiRefusal::RateLimitExceeded, count: 2 },
                json!({"op": "fault_api", "code": "rate_limit_exceeded", "count": 2}),
            ),
            (
                AdminRequest::FaultAction {
                    kinds: vec!["server_power_on".into()],
                    count: 1,
                    step: Some(StepRef::Index(0)),
                    code: "action_failed".into(),
                    message: "m".into(),
                },
                json!({"op": "fault_action", "kinds": ["server_power_on"], "count": 1, "step": 0,
                       "code": "action_failed", "message": "m"}),
            ),
            (
                AdminRequest::FaultAction {
                    kinds: vec!["server_create".into()],
                    count: 1,
                    step: Some(StepRef::Name("create_vm".into())),
                    code: "c".into(),
                    message: "m".into(),
                },
                json!({"op": "fault_action", "kinds": ["server_create"], "count": 1, "step": "create_vm",
                       "code": "c", "message": "m"}),
            ),
            (AdminRequest::ActionList { stuck: true }, json!({"op": "action_list", "stuck": true})),
            (AdminRequest::ActionResolve { id: 7 }, json!({"op": "action_resolve", "id": 7})),
            (AdminRequest::SimAdvance { hours: 24 }, json!({"op": "sim_advance", "hours": 24})),
        ];
        for (request, wire) in cases {
            assert_eq!(serde_json::to_value(&request).unwrap(), wire);
            assert_eq!(serde_json::from_value::<AdminRequest>(wire).unwrap(), request);
        }
    }

    #[test]
    fn optional_fields_may_be_left_out() {
        let r: AdminRequest = serde_json::from_str(r#"{"op":"token_create","project":"p","name":"n"}"#).unwrap();
        assert_eq!(r, AdminRequest::TokenCreate { project: "p".into(), name: "n".into(), read_only: false });
        let r: AdminRequest = serde_json::from_str(r#"{"op":"token_list"}"#).unwrap();
        assert_eq!(r, AdminRequest::TokenList { project: None });
        assert!(serde_json::from_str::<AdminRequest>(r#"{"op":"format_disk"}"#).is_err());
    }

    #[test]
    fn responses_omit_absent_errors() {
        assert_eq!(serde_json::to_value(AdminResponse::success(json!(1))).unwrap(), json!({"ok": true, "result": 1}));
        assert_eq!(
            serde_json::to_value(AdminResponse::failure("no")).unwrap(),
            json!({"ok": false, "result": null, "error": "no"})
        );
    }
}
