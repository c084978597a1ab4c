//! Injected faults: users of the simulator make the next N actions of a kind fail, or
//! the API refuse requests, to test their automation against failures.

use super::Command;
use crate::ids::FaultId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "target")]
pub enum FaultTarget {
    /// Actions running `command` fail at step `step` (0-based; the last step when `None`),
    /// after the steps before it ran, so their undo runs too.
    Action { command: Command, step: Option<usize> },
    /// API requests are refused.
    Api { refusal: ApiRefusal },
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
