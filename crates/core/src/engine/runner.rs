//! Runs one action's steps against the driver, committing after each one.

use super::effects;
use crate::cloud::Cloud;
use crate::ids::*;
use crate::model::*;
use crate::store::Record;
use std::sync::Arc;
use stratus_compute::Progress;

/// Runs an action, then whatever waits on it, in turn.
pub(crate) async fn run_chain(cloud: Cloud, first: ActionId) {
    // Resumed after a restart, an action may wait on one that already failed (the
    // process stopped between the two commits): it must not run.
    let predecessor_failed = cloud.read(|s| {
        let after = s.actions.get(&first.0).and_then(|a| a.after);
        after.and_then(|pred| s.actions.get(&pred.0)).is_some_and(|pred| pred.status == ActionStatus::Error)
    });
    if predecessor_failed {
        fail_chain(&cloud, first).await;
        return;
    }
    let mut next = Some(first);
    while let Some(id) = next {
        let succeeded = run_one(&cloud, id).await;
        let successor = cloud.read(|s| s.successors.get(&id).copied());
        next = match (successor, succeeded) {
            (Some(succ), true) => {
                let _ = commit(&cloud, |tx| effects::begin(tx, succ)).await;
                Some(succ)
            }
            (Some(succ), false) => {
                fail_chain(&cloud, succ).await;
                None
            }
            (None, _) => None,
        };
    }
}

/// Commits a record change the engine makes.
async fn commit(cloud: &Cloud, f: impl FnOnce(&mut crate::state::Tx)) -> crate::Result<()> {
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
        let error = ActionError { code: "action_failed".into(), message: "a preceding action failed".into() };
        let _ = commit(cloud, |tx| effects::fail_unstarted(tx, id, error)).await;
        match cloud.read(|s| s.successors.get(&id).copied()) {
            Some(next) => id = next,
            None => return,
        }
    }
}

/// The next thing to do for an action.
enum Next {
    Forward { index: usize, total: usize, step: Step },
    Undo { step: Step },
    Finish,
}

fn next_step(action: &Action) -> Next {
    match &action.plan.unwinding {
        Some(u) => u.undo.get(u.done).cloned().map_or(Next::Finish, |step| Next::Undo { step }),
        None => action.plan.steps.get(action.plan.done).cloned().map_or(Next::Finish, |step| Next::Forward {
            index: action.plan.done,
            total: action.plan.steps.len(),
            step,
        }),
    }
}

/// Runs the rest of one action; returns whether it succeeded.
async fn run_one(cloud: &Cloud, id: ActionId) -> bool {
    loop {
        let Some(action) = cloud.read(|s| s.actions.get(&id.0).cloned()) else { return false };
        if !action.is_running() {
            return action.status == ActionStatus::Success;
        }
        let server = effects::server_of(&action);
        match next_step(&action) {
            Next::Forward { index, total, step } => {
                let fault = take_fault(cloud, action.command, index, total).await;
                let outcome = match fault {
                    Some(error) => Err(error),
                    None => execute(cloud, &action, server, &step, index, total).await,
                };
                let committed = match outcome {
                    Ok(size) => commit(cloud, |tx| effects::step_done(tx, id, size)).await,
                    Err(error) => {
                        tracing::info!(action = id.0, command = action.command.as_str(), code = %error.code, "step failed; unwinding");
                        commit(cloud, |tx| effects::start_unwind(tx, id, error)).await
                    }
                };
                if committed.is_err() {
                    return false;
                }
            }
            Next::Undo { step } => {
                let ran = match execute(cloud, &action, server, &step, 0, 1).await {
                    Ok(_) => true,
                    Err(error) => {
                        // Undo is best effort: a failing undo is logged and skipped so the
                        // action still ends (and unlocks) instead of retrying forever.
                        tracing::warn!(action = id.0, code = %error.code, message = %error.message, "undo step failed");
                        false
                    }
                };
                if commit(cloud, |tx| effects::undo_done(tx, id, ran)).await.is_err() {
                    return false;
                }
            }
            Next::Finish => {
                let observed = match (action.plan.unwinding.is_some(), server) {
                    (true, Some(server)) => cloud.inner.driver.power_state(server.0).await.ok(),
                    _ => None,
                };
                return cloud.write(|tx| Ok(effects::finish(tx, id, observed))).await.unwrap_or(false);
            }
        }
    }
}

/// Consumes an injected fault for this step, if one is armed.
async fn take_fault(cloud: &Cloud, command: Command, index: usize, total: usize) -> Option<ActionError> {
    let armed = cloud.read(|s| {
        s.faults.values().find_map(|f| match &f.target {
            FaultTarget::Action { command: c, step } if *c == command && step.unwrap_or(total - 1) == index => {
                Some(f.clone())
            }
            _ => None,
        })
    })?;
    let error = ActionError { code: armed.code.clone(), message: armed.message.clone() };
    let _ = cloud
        .write(|tx| {
            let mut fault = Fault::clone(&armed);
            fault.remaining = fault.remaining.saturating_sub(1);
            if fault.remaining == 0 {
                tx.delete(fault.id.as_ref());
            } else {
                tx.put(Record::Fault(Arc::new(fault)));
            }
            Ok(())
        })
        .await;
    Some(error)
}

/// Reports a step's progress into the action's record. In memory only: progress is
/// advisory and is recomputed from completed steps after a restart.
struct StepProgress {
    cloud: Cloud,
    id: ActionId,
    index: usize,
    total: usize,
}

impl Progress for StepProgress {
    fn report(&self, percent: u8) {
        let total = self.total.max(1);
        let pct = (self.index * 100 + usize::from(percent.min(100))) / total;
        let pct = u8::try_from(pct.min(99)).unwrap_or(99);
        let mut state = self.cloud.lock();
        if let Some(action) = state.actions.get_mut(&self.id.0) {
            if action.is_running() && action.progress < pct {
                Arc::make_mut(action).progress = pct;
            }
        }
    }
}

/// Carries out one step on the driver. Returns the snapshot size for snapshot steps.
async fn execute(
    cloud: &Cloud,
    action: &Action,
    server: Option<ServerId>,
    step: &Step,
    index: usize,
    total: usize,
) -> Result<Option<f64>, ActionError> {
    let driver = &cloud.inner.driver;
    let progress = StepProgress { cloud: cloud.clone(), id: action.id, index, total };
    let vm = server.map(|s| s.0).unwrap_or_default();
    let result = match step {
        Step::CreateVm { spec } => driver.create(spec, &progress).await,
        Step::StartVm => driver.start(vm).await,
        Step::StopVm { mode } => driver.stop(vm, *mode).await,
        Step::RebootVm => driver.reboot(vm).await,
        Step::ResetVm => driver.reset(vm).await,
        Step::RebuildVm { spec } => driver.rebuild(spec, &progress).await,
        Step::ResizeVm { to, .. } => driver.resize(vm, to).await,
        Step::SnapshotVm { image } => {
            return driver.snapshot(vm, image.0, &progress).await.map(Some).map_err(into_error)
        }
        Step::DeleteSnapshot { image } => driver.delete_snapshot(image.0).await,
        Step::SetRescue { enabled, ssh_keys } => driver.set_rescue(vm, *enabled, ssh_keys).await,
        Step::SetIso { iso, .. } => driver.set_iso(vm, iso.as_ref().map(|(_, name)| name.as_str())).await,
        Step::SetPassword { password } => driver.set_password(vm, password).await,
        Step::DeleteVm => driver.delete(vm).await,
    };
    result.map(|()| None).map_err(into_error)
}

fn into_error(e: stratus_compute::DriverError) -> ActionError {
    ActionError { code: e.code, message: e.message }
}
