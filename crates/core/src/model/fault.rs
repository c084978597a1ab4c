//! Injected faults: users of the simulator make the next N actions of a kind fail, or
//! the API refuse requests, to test their automation against failures.

use crate::ids::FaultId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "target")]
pub enum FaultTarget {
    /// Actions of one of these kinds (core kind names, `server_start`) fail at `step`
    /// (the last step when `None`) before it runs, after the steps before it ran, so
    /// their undo runs too.
    Action { kinds: Vec<String>, step: Option<StepRef> },
    /// API requests are refused.
    Api { refusal: ApiRefusal },
}

/// A step of a plan, by position (0-based) or by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum StepRef {
    Index(usize),
    Name(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiRefusal {
    RateLimitExceeded,
    Maintenance,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fault {
    pub id: FaultId,
    pub target: FaultTarget,
    /// How many more times it fires.
    pub remaining: u32,
    /// Error code and message an action fails with (unused for API refusals).
    pub code: String,
    pub message: String,
    pub created: DateTime<Utc>,
}
