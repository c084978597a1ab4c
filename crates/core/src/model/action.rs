//! Actions: the one long-operation mechanism. Hetzner actions, Cloude.ro events and IONOS
//! `status.percent` are all views of these. What an action of each kind does is declared
//! in one place, `crate::actions`; this is the record every kind shares: what is shown
//! (status, progress, resources, error) and, while it runs, where its plan stands.

use crate::ids::{ActionId, ProjectId, ResourceRef};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionStatus {
    Running,
    Success,
    Error,
    /// It failed and an undo step failed too, so its resources may be half-changed: they
    /// stay locked until an operator retries or resolves it (`stratus action`).
    Stuck,
}

impl ActionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ActionStatus::Running => "running",
            ActionStatus::Success => "success",
            ActionStatus::Error => "error",
            ActionStatus::Stuck => "stuck",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [ActionStatus::Running, ActionStatus::Success, ActionStatus::Error, ActionStatus::Stuck]
            .into_iter()
            .find(|st| st.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionError {
    pub code: String,
    pub message: String,
}

impl ActionError {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        ActionError { code: code.into(), message: message.into() }
    }
}

/// Where a running (or stuck) action's plan stands. Persisted with every commit of the
/// action, so the engine resumes it after a restart exactly where it was.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunState {
    /// The version of its kind's plan it was made with. A newer Stratus keeps running
    /// plans of the versions it knows; an unknown one leaves the action stuck, visibly,
    /// instead of guessing.
    pub version: u32,
    /// The kind's parameters, as JSON; shared, since every step's commit copies the
    /// action record and parameters can be large (a whole server record).
    pub params: Arc<Value>,
    /// The names of the steps to run, in order.
    pub plan: Vec<String>,
    /// How many of them have completed.
    pub done: usize,
    /// Named step outputs (a snapshot's size, a volume's device path).
    pub outputs: BTreeMap<String, Value>,
    /// When the step now due began (the action's last commit): a step resumed after a
    /// restart continues from here, and its timeout counts from here.
    pub step_started: DateTime<Utc>,
    /// Set once a step failed: the undo steps still to run, in order, and the error.
    pub unwinding: Option<Unwind>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unwind {
    /// Step names whose undo runs, in order.
    pub undo: Vec<String>,
    pub done: usize,
    pub error: ActionError,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Action {
    pub id: ActionId,
    pub project: ProjectId,
    /// The kind's name (`server_create`): neutral, each dialect names it its own way.
    pub kind: String,
    pub status: ActionStatus,
    /// 0-100.
    pub progress: u8,
    pub started: DateTime<Utc>,
    pub finished: Option<DateTime<Utc>>,
    /// The resources it acts on; all of them are locked while it runs.
    pub resources: Vec<ResourceRef>,
    /// Resources it concerns without locking them (the network a server joins, which
    /// many servers join at once): shown and listed with the action, never locked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<ResourceRef>,
    pub error: Option<ActionError>,
    /// Runs only after this action has succeeded (Hetzner's `next_actions`: a server's
    /// start after its create); fails if that one fails.
    pub after: Option<ActionId>,
    /// What the engine needs while the action runs or is stuck; dropped once it ends, so
    /// finished actions (most of the history) stay small.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<Box<RunState>>,
}

impl Action {
    pub fn is_running(&self) -> bool {
        self.status == ActionStatus::Running
    }

    /// Running and stuck actions hold their resources.
    pub fn holds_locks(&self) -> bool {
        matches!(self.status, ActionStatus::Running | ActionStatus::Stuck)
    }

    /// Everything the action concerns: what it locks, then what it only relates to.
    pub fn concerns(&self) -> impl Iterator<Item = ResourceRef> + '_ {
        self.resources.iter().chain(&self.related).copied()
    }

    pub fn is_finished(&self) -> bool {
        matches!(self.status, ActionStatus::Success | ActionStatus::Error)
    }
}
