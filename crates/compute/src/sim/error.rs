//! The simulator's failures, typed here and turned into [`DriverError`] codes in one
//! place, so the codes the core sees (and that end up in actions) stay consistent.

use crate::driver::{DriverError, PowerState, VmId};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SimError {
    /// The VM is not in the simulator's bookkeeping (never created, deleted, or not
    /// restored after a restart).
    #[error("VM {0} does not exist in the simulator")]
    NotFound(VmId),
    /// A volume, network or load balancer the simulator does not know.
    #[error("{what} {id} does not exist in the simulator")]
    Missing { what: &'static str, id: i64 },
    /// A volume attached elsewhere, or a network or volume still in use.
    #[error("{what} {id} is in use by VM {vm}")]
    InUse { what: &'static str, id: i64, vm: VmId },
    /// The call's documented precondition on the power state does not hold.
    #[error("VM {id} must be {required} to {operation}")]
    WrongPowerState { id: VmId, required: &'static str, operation: &'static str },
}

impl SimError {
    pub(crate) fn must_be(id: VmId, state: PowerState, operation: &'static str) -> Self {
        let required = match state {
            PowerState::Running => "running",
            PowerState::Off => "off",
        };
        SimError::WrongPowerState { id, required, operation }
    }

    /// The machine-readable code. `not_found` matches the core's and Hetzner's code;
    /// the others describe a broken precondition the core should have checked.
    fn code(&self) -> &'static str {
        match self {
            SimError::NotFound(_) | SimError::Missing { .. } => "not_found",
            SimError::InUse { .. } => "in_use",
            SimError::WrongPowerState { .. } => "invalid_state",
        }
    }
}

impl From<SimError> for DriverError {
    fn from(err: SimError) -> Self {
        DriverError::new(err.code(), err.to_string())
    }
}
