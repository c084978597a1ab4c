//! Test hooks: make the engine fail a driver step after it ran, or repeat a step or an
//! undo (failing before a step runs is what faults do), for the generic tests every action kind gets (`tests.rs`). Compiled into tests
//! only; users inject failures with faults (`stratus fault action`).

use std::sync::Mutex;

/// What to do to one step of one kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Hook {
    /// Run the step's driver call, then report it failed (work half done).
    FailAfter { kind: String, step: String },
    /// Run the step's driver call twice.
    RepeatStep { kind: String, step: String },
    /// Run the step's undo driver call twice.
    RepeatUndo { kind: String, step: String },
}

#[derive(Debug, Default)]
pub(crate) struct Hooks {
    armed: Mutex<Vec<Hook>>,
}

/// What the runner is told to do for a step.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Instruction {
    pub fail_after: bool,
    pub repeat: bool,
}

impl Hooks {
    pub(crate) fn arm(&self, hook: Hook) {
        self.armed.lock().expect("hooks").push(hook);
    }

    /// Disarms every hook; whether any was still armed (its step never reached the
    /// driver: it had nothing to call).
    pub(crate) fn clear(&self) -> bool {
        let mut armed = self.armed.lock().expect("hooks");
        let unfired = !armed.is_empty();
        armed.clear();
        unfired
    }

    /// Consumes the hooks for this step (each fires once).
    pub(crate) fn take(&self, kind: &str, step: &str, undo: bool) -> Instruction {
        let mut armed = self.armed.lock().expect("hooks");
        let mut out = Instruction::default();
        armed.retain(|h| {
            let (k, s, fired) = match h {
                Hook::FailAfter { kind: k, step: s } if !undo => (k, s, &mut out.fail_after),
                Hook::RepeatStep { kind: k, step: s } if !undo => (k, s, &mut out.repeat),
                Hook::RepeatUndo { kind: k, step: s } if undo => (k, s, &mut out.repeat),
                _ => return true,
            };
            if k == kind && s == step {
                *fired = true;
                false
            } else {
                true
            }
        });
        out
    }
}
