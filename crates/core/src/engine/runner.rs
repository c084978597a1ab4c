//! Runs one action's driver steps, committing after each one, and the chains of actions
//! waiting on each other.

use super::{advance, call, due, fail, fail_unstarted, panicked, step_done, stuck, take_fault, Due};
use crate::actions::DynKind;
use crate::cloud::Cloud;
use crate::data::Tx;
use crate::ids::*;
use crate::model::*;
use chrono::{DateTime, Utc};
use futures::FutureExt;
use serde_json::Value;
use std::panic::AssertUnwindSafe;
use std::time::Duration;
use stratus_compute::{CallContext, Progress};

/// The first wait before retrying a retryable driver error; doubled each time up to
/// [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// A step resumed after its deadline passed (the control plane was down for longer
/// than the step may take) still gets this long for one attempt: the work may well have
/// finished meanwhile, and the idempotent call then returns at once.
const RESUMED_ATTEMPT: Duration = Duration::from_secs(60);

/// Runs an action, then whatever waits on it, in turn.
pub(crate) async fn run_chain(cloud: Cloud, first: ActionId) {
    // Resumed after a restart, an action may wait on one that already failed (the
    // process stopped between the two commits): it must not run.
    let predecessor_failed = cloud.read(|s| {
        let after = s.actions.get(first.0).and_then(|a| a.after);
        after
            .and_then(|pred| s.actions.get(pred.0))
            .is_some_and(|pred| !pred.is_running() && pred.status != ActionStatus::Success)
    });
    if predecessor_failed {
        fail_chain(&cloud, first).await;
        return;
    }
    let mut next = Some(first);
    while let Some(id) = next {
        let mut chained = None;
        let status = run_one(&cloud, id, &mut chained).await;
        // The successor may have ended in `id`'s last commit (see `advance_successor`),
        // and is then no longer listed as waiting.
        let successor = chained.or_else(|| cloud.read(|s| s.successor(id)));
        next = match (successor, status) {
            (Some(succ), Some(ActionStatus::Success)) => {
                if commit(&cloud, |tx| advance(tx, succ)).await.is_err() {
                    return;
                }
                Some(succ)
            }
            (Some(succ), _) => {
                fail_chain(&cloud, succ).await;
                None
            }
            (None, _) => None,
        };
    }
}

/// When `id` has just succeeded, runs its successor's leading record steps in the same
/// commit (`run_chain` then finds nothing more to commit before its first driver step).
fn advance_successor(tx: &mut Tx, id: ActionId) -> Option<ActionId> {
    let succeeded = tx.actions.get(id.0).is_some_and(|a| a.status == ActionStatus::Success);
    let succ = tx.successor(id).filter(|_| succeeded)?;
    advance(tx, succ);
    Some(succ)
}

/// Commits a record change the engine makes.
async fn commit(cloud: &Cloud, f: impl FnOnce(&mut Tx)) -> crate::Result<()> {
    cloud
        .write(|tx| {
            f(tx);
            Ok(())
        })
        .await
}

/// Fails `id` and everything waiting on it, because what they depend on failed.
async fn fail_chain(cloud: &Cloud, mut id: ActionId) {
    loop {
        let _ = commit(cloud, |tx| fail_unstarted(tx, id)).await;
        match cloud.read(|s| s.successor(id)) {
            Some(next) => id = next,
            None => return,
        }
    }
}

/// Runs the rest of one action; returns its status once it no longer runs, and sets
/// `chained` to the successor its last commit advanced, if any.
async fn run_one(cloud: &Cloud, id: ActionId, chained: &mut Option<ActionId>) -> Option<ActionStatus> {
    loop {
        let action = cloud.read(|s| s.actions.get(id.0).cloned())?;
        let (due, kind) = due(&action);
        let (step, undo, kind) = match (due, kind) {
            (Due::Nothing, _) => return Some(action.status),
            (Due::Driver { step, undo }, Some(kind)) => (step, undo, kind),
            // Record steps, the finish or an unknown plan (after a restart, or a retried
            // stuck action): the engine's commit takes care of them.
            _ => {
                if commit(cloud, |tx| advance(tx, id)).await.is_err() {
                    return None;
                }
                continue;
            }
        };
        let run = action.run.as_deref()?;
        let position = (run.done, run.unwinding.as_ref().map(|u| u.done));
        let result = run_step(cloud, &action, kind, &step, undo).await;
        let committed = commit(cloud, |tx| {
            // Someone else moved the action on meanwhile (an operator's resolve): the
            // result is for a step that is no longer due.
            let now_at = tx
                .actions
                .get(id.0)
                .and_then(|a| a.run.as_deref().map(|r| (r.done, r.unwinding.as_ref().map(|u| u.done))));
            if now_at != Some(position) {
                return;
            }
            match result {
                Ok(output) => step_done(tx, id, kind, &step, undo, Some(output)),
                Err(error) if undo => return stuck(tx, id, error),
                Err(error) => fail(tx, id, kind, error, true),
            }
            advance(tx, id);
            *chained = advance_successor(tx, id);
        })
        .await;
        if committed.is_err() {
            return None;
        }
    }
}

/// Carries out one driver step (or undo) of `action`: injected faults first, then the
/// call with its timeout and retries.
async fn run_step(
    cloud: &Cloud,
    action: &Action,
    kind: &dyn DynKind,
    step: &str,
    undo: bool,
) -> Result<Value, ActionError> {
    let call = cloud.read(|s| kind.call(s, action, step, undo))?;
    if !undo && cloud.read(|s| !s.faults.is_empty()) {
        let mut fault = None;
        let _ = commit(cloud, |tx| fault = take_fault(tx, action, step)).await;
        if let Some(error) = fault {
            return Err(error);
        }
    }
    #[cfg(test)]
    let hook = cloud.inner.engine.hooks.take(&action.kind, step, undo);
    let info = kind.step(step).ok_or_else(|| ActionError::new("internal_error", format!("no step {step}")))?;
    let run = action.run.as_deref().ok_or_else(|| ActionError::new("internal_error", "not running"))?;
    let progress = StepProgress::new(cloud, action, kind, undo);
    let output = call_with_policy(cloud, &call, step, run.step_started, info.timeout, &progress).await?;
    #[cfg(test)]
    if hook.repeat {
        call_with_policy(cloud, &call, step, run.step_started, info.timeout, &progress).await?;
    }
    #[cfg(test)]
    if hook.fail_after {
        return Err(ActionError::new("injected", format!("{step} failed after it ran (test hook)")));
    }
    Ok(output)
}

/// Makes `call`, retrying retryable errors with backoff until the step's deadline
/// (`timeout` after it first began); a panic in the driver fails the step.
async fn call_with_policy(
    cloud: &Cloud,
    call: &call::Call,
    step: &str,
    started: DateTime<Utc>,
    timeout: Duration,
    progress: &StepProgress,
) -> Result<Value, ActionError> {
    if call.is_nothing() {
        return Ok(Value::Null);
    }
    let driver = &*cloud.inner.driver;
    let ctx = CallContext { started, progress };
    let deadline = started + chrono::Duration::from_std(timeout).unwrap_or(chrono::Duration::MAX);
    let mut backoff = FIRST_BACKOFF;
    let mut first = true;
    loop {
        let left = (deadline - Utc::now()).to_std().unwrap_or(Duration::ZERO);
        let left = if first { left.max(RESUMED_ATTEMPT.min(timeout)) } else { left };
        first = false;
        let attempt = AssertUnwindSafe(call::execute(driver, call, &ctx)).catch_unwind();
        match tokio::time::timeout(left, attempt).await {
            Err(_) => {
                return Err(ActionError::new("timeout", format!("{step} did not finish within {}s", timeout.as_secs())))
            }
            Ok(Err(panic)) => return Err(panicked(step, &*panic)),
            Ok(Ok(Ok(output))) => return Ok(output),
            Ok(Ok(Err(e))) => {
                let retry_at = Utc::now() + chrono::Duration::from_std(backoff).unwrap_or_default();
                if e.retryable && retry_at < deadline {
                    tracing::warn!(step, code = %e.code, message = %e.message, ?backoff, "driver call failed; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    continue;
                }
                return Err(ActionError::new(e.code, e.message));
            }
        }
    }
}

/// Reports a driver step's progress into the action's record (in memory only).
struct StepProgress {
    cloud: Cloud,
    id: ActionId,
    /// Driver steps done before this one, and in the whole plan.
    done: usize,
    total: usize,
    /// Undo steps report nothing: an unwinding action's progress stays where it was.
    silent: bool,
}

impl StepProgress {
    fn new(cloud: &Cloud, action: &Action, kind: &dyn DynKind, undo: bool) -> Self {
        let (done, total) = action.run.as_deref().map_or((0, 1), |run| {
            let is_driver = |s: &String| kind.step(s).is_some_and(|i| i.driver);
            let done = run.plan[..run.done.min(run.plan.len())].iter().filter(|s| is_driver(s)).count();
            (done, run.plan.iter().filter(|s| is_driver(s)).count().max(1))
        });
        StepProgress { cloud: cloud.clone(), id: action.id, done, total, silent: undo }
    }
}

impl Progress for StepProgress {
    fn report(&self, percent: u8) {
        if self.silent {
            return;
        }
        let pct = (self.done * 100 + usize::from(percent.min(100))) / self.total;
        let pct = u8::try_from(pct.min(99)).unwrap_or(99);
        self.cloud.with_state_mut(|s| s.set_progress(self.id, pct));
    }
}
