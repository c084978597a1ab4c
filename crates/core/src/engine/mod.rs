//! The action engine: runs actions of any kind ([`crate::actions`]) to the end.
//!
//! An action is created, with its plan, in the same transaction as the request that asked
//! for it, so it is durable before the API answers. Its leading record steps run in that
//! transaction too. The engine then runs its driver steps one at a time on a bounded
//! pool, committing each completion together with the record steps that follow it; a
//! failed step unwinds what ran, in reverse. After a restart, [`recover`] resumes every
//! action that was running, repeating the driver step that was in flight (driver calls
//! are idempotent) and letting it continue from when it first began.
//!
//! Failures a real hypervisor has: a step that outlives its timeout fails with
//! `timeout`; a driver error marked retryable is retried with backoff until then; a
//! panicking step fails its action; an undo that fails leaves the action `stuck`,
//! holding its resources, until an operator retries or resolves it
//! ([`Cloud::action_retry`], [`Cloud::action_resolve`]).

mod call;
#[cfg(test)]
pub(crate) mod hooks;
mod retention;
mod runner;

pub(crate) use call::Call;
pub(crate) use retention::spawn_sweeper;

use crate::actions::{self, DynKind};
use crate::cloud::Cloud;
use crate::data::Tx;
use crate::error::{Error, Result};
use crate::ids::*;
use crate::model::*;
use crate::store::Record;
use serde_json::Value;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Dispatches actions to runner tasks. Disabled until [`Cloud::start`], so that admin
/// commands working on a stopped server's data leave new actions for `serve` to run.
#[derive(Debug)]
pub(crate) struct Engine {
    enabled: AtomicBool,
    /// At most this many action chains run at once; more wait for a permit, so a burst
    /// of requests cannot start unbounded work against the hypervisor.
    pool: Arc<Semaphore>,
    #[cfg(test)]
    pub(crate) hooks: hooks::Hooks,
}

impl Engine {
    pub(crate) fn new(workers: usize) -> Self {
        Engine {
            enabled: AtomicBool::new(false),
            pool: Arc::new(Semaphore::new(workers.max(1))),
            #[cfg(test)]
            hooks: hooks::Hooks::default(),
        }
    }

    pub(crate) fn run(&self, cloud: &Cloud, id: ActionId) {
        if self.enabled.load(Ordering::Acquire) {
            let cloud = cloud.clone();
            let pool = self.pool.clone();
            // The engine is the one place that spawns work: each action's progress lives
            // in its durable record, so a task lost to a crash is resumed by `recover`.
            tokio::spawn(async move {
                let Ok(_permit) = pool.acquire_owned().await else { return };
                runner::run_chain(cloud, id).await;
            });
        }
    }
}

/// Fails with `locked` if any of `resources` is held by an action.
pub(crate) fn ensure_unlocked(tx: &Tx, resources: &[ResourceRef]) -> Result<()> {
    match resources.iter().find_map(|r| tx.lock_holder(*r).map(|a| (*r, a))) {
        Some((resource, action)) => Err(Error::Locked { resource, action }),
        None => Ok(()),
    }
}

/// Records a new action (see [`actions::start`]).
#[allow(clippy::too_many_arguments)] // the parts of an action record, each needed once
pub(crate) fn create(
    tx: &mut Tx,
    project: ProjectId,
    kind: &'static str,
    version: u32,
    params: Value,
    plan: Vec<String>,
    (resources, related): (Vec<ResourceRef>, Vec<ResourceRef>),
    after: Option<ActionId>,
) -> Result<Arc<Action>> {
    let foreign = resources.iter().find_map(|r| tx.lock_holder(*r).filter(|h| Some(*h) != after).map(|h| (*r, h)));
    if let Some((resource, action)) = foreign {
        return Err(Error::Locked { resource, action });
    }
    let id = ActionId(tx.next_id());
    let now = now();
    let action = Action {
        id,
        project,
        kind: kind.to_string(),
        status: ActionStatus::Running,
        progress: 0,
        started: now,
        finished: None,
        resources,
        related,
        error: None,
        after,
        run: Some(Box::new(RunState {
            version,
            params: Arc::new(params),
            plan,
            done: 0,
            outputs: Default::default(),
            // Precise, unlike the shown timestamps: a resumed step's remaining time is
            // counted from it.
            step_started: chrono::Utc::now(),
            unwinding: None,
        })),
    };
    tx.put(Record::Action(Arc::new(action)));
    // A predecessor made in this same transaction may have ended already (its record
    // steps failed, or it had nothing else to do): no chain will run this one after it.
    let waits = after.and_then(|pred| tx.actions.get(pred.0)).map(|pred| (pred.is_running(), pred.status));
    match waits {
        Some((true, _)) => {}
        Some((false, status)) if status != ActionStatus::Success => fail_unstarted(tx, id),
        _ => {
            advance(tx, id);
            if tx.actions.get(id.0).is_some_and(|a| a.is_running()) {
                tx.start_action(id);
            }
        }
    }
    tx.actions.get(id.0).cloned().ok_or_else(|| Error::Internal(format!("action {id} vanished")))
}

fn update(tx: &mut Tx, id: ActionId, f: impl FnOnce(&mut Action)) {
    if let Some(action) = tx.actions.get(id.0) {
        let mut action = Action::clone(action);
        f(&mut action);
        tx.put(Record::Action(Arc::new(action)));
    }
}

/// The next thing an action must do.
pub(crate) enum Due {
    /// It is not running (finished, stuck, or gone).
    Nothing,
    /// A record step (or undo) runs next, inside a transaction.
    Record { step: String, undo: bool },
    /// A driver step (or undo) runs next.
    Driver { step: String, undo: bool },
    /// The plan is through: finish it.
    Finish,
    /// Its kind or step is unknown to this binary (a newer plan version).
    Unknown(String),
}

pub(crate) fn due(action: &Action) -> (Due, Option<&'static dyn DynKind>) {
    let Some(run) = action.run.as_ref().filter(|_| action.is_running()) else { return (Due::Nothing, None) };
    let Some(kind) = actions::kind(&action.kind) else {
        return (Due::Unknown(format!("this version of Stratus has no action kind {}", action.kind)), None);
    };
    if run.version > kind.version() {
        let why = format!("{} plan version {} is newer than this version of Stratus knows", action.kind, run.version);
        return (Due::Unknown(why), Some(kind));
    }
    let (step, undo) = match &run.unwinding {
        None => match run.plan.get(run.done) {
            None => return (Due::Finish, Some(kind)),
            Some(step) => (step, false),
        },
        Some(u) => match u.undo.get(u.done) {
            None => return (Due::Finish, Some(kind)),
            Some(step) => (step, true),
        },
    };
    let Some(info) = kind.step(step) else {
        return (Due::Unknown(format!("{} has no step {step}", action.kind)), Some(kind));
    };
    let driver = if undo { info.undo_is_driver } else { info.driver };
    let step = step.clone();
    (if driver { Due::Driver { step, undo } } else { Due::Record { step, undo } }, Some(kind))
}

/// Runs every record step now due, in this transaction, and finishes the action when
/// its plan is through. Stops at the next driver step with something to call (the
/// runner's) or at the end: a driver step that has nothing to call for this action
/// (no firewall applies, say) is done here, saving a commit.
pub(crate) fn advance(tx: &mut Tx, id: ActionId) {
    loop {
        let Some(action) = tx.actions.get(id.0).cloned() else { return };
        let (due, kind) = due(&action);
        match (due, kind) {
            (Due::Nothing, _) => return,
            (Due::Driver { step, undo }, Some(kind)) => {
                if !matches!(kind.call(tx, &action, &step, undo), Ok(call) if call.is_nothing()) {
                    return;
                }
                match if undo { None } else { take_fault(tx, &action, &step) } {
                    Some(error) => fail(tx, id, kind, error, false),
                    None => step_done(tx, id, kind, &step, undo, None),
                }
            }
            (Due::Driver { .. }, None) => return,
            (Due::Finish, _) => return finish(tx, id),
            (Due::Unknown(why), _) => return stuck(tx, id, ActionError::new("unknown_plan", why)),
            (Due::Record { step, undo }, Some(kind)) => {
                let fault = if undo { None } else { take_fault(tx, &action, &step) };
                let sp = tx.savepoint();
                let result = match fault {
                    Some(error) => Err(error),
                    None => std::panic::catch_unwind(AssertUnwindSafe(|| kind.run_record(tx, &action, &step, undo)))
                        .unwrap_or_else(|panic| Err(panicked(&step, &*panic))),
                };
                match result {
                    Ok(output) => step_done(tx, id, kind, &step, undo, output),
                    Err(error) => {
                        // The step's own changes are undone here; what ran before it
                        // is undone by the unwind.
                        tx.rollback_to(sp);
                        if undo {
                            return stuck(tx, id, error);
                        }
                        fail(tx, id, kind, error, false);
                    }
                }
            }
            (Due::Record { .. }, None) => return,
        }
    }
}

/// Records that the step now due completed with `output`.
pub(crate) fn step_done(tx: &mut Tx, id: ActionId, kind: &dyn DynKind, step: &str, undo: bool, output: Option<Value>) {
    update(tx, id, |a| {
        let Some(run) = a.run.as_mut() else { return };
        run.step_started = chrono::Utc::now();
        if undo {
            if let Some(u) = run.unwinding.as_mut() {
                u.done += 1;
            }
            return;
        }
        if let Some(out) = output.filter(|v| !v.is_null()) {
            run.outputs.insert(step.to_string(), out);
        }
        run.done += 1;
        kind.scrub(Arc::make_mut(&mut run.params), step);
        a.progress = progress(kind, run);
    });
}

/// Share of driver steps done, kept below 100 until the action has finished.
fn progress(kind: &dyn DynKind, run: &RunState) -> u8 {
    let is_driver = |s: &String| kind.step(s).is_some_and(|i| i.driver);
    let total = run.plan.iter().filter(|s| is_driver(s)).count();
    let done = run.plan[..run.done.min(run.plan.len())].iter().filter(|s| is_driver(s)).count();
    let pct = (done * 100).checked_div(total).unwrap_or(99).min(99);
    u8::try_from(pct).unwrap_or(99)
}

/// A step failed with `error`: from now on the steps that ran are undone, newest first.
/// `half_done` says whether the failed step itself may have done part of its work (a
/// driver step that returned an error), so that its undo runs too.
pub(crate) fn fail(tx: &mut Tx, id: ActionId, kind: &dyn DynKind, error: ActionError, half_done: bool) {
    tracing::info!(action = id.0, code = %error.code, message = %error.message, "action step failed; unwinding");
    update(tx, id, |a| {
        let Some(run) = a.run.as_mut() else { return };
        let upto = if half_done { run.done + 1 } else { run.done };
        let undo = run.plan[..upto.min(run.plan.len())]
            .iter()
            .rev()
            .filter(|s| kind.step(s).is_some_and(|i| i.has_undo))
            .cloned()
            .collect();
        run.unwinding = Some(Unwind { undo, done: 0, error });
        run.step_started = chrono::Utc::now();
    });
}

/// An undo failed: the action stops where it is, holding its resources, and its servers
/// show `unknown`, until an operator retries or resolves it.
pub(crate) fn stuck(tx: &mut Tx, id: ActionId, error: ActionError) {
    tracing::error!(action = id.0, code = %error.code, message = %error.message,
        "action is stuck: an undo failed; resolve it with `stratus action retry|resolve`");
    let Some(action) = tx.actions.get(id.0).cloned() else { return };
    for server in action.resources.iter().filter(|r| r.kind == ResourceKind::Server) {
        if let Some(srv) = tx.servers.get(server.id) {
            let mut srv = Server::clone(srv);
            srv.status = ServerStatus::Unknown;
            tx.put(Record::Server(Arc::new(srv)));
        }
    }
    update(tx, id, |a| {
        a.status = ActionStatus::Stuck;
        a.finished = Some(now());
        let original = a.run.as_ref().and_then(|r| r.unwinding.as_ref()).map(|u| u.error.clone());
        a.error = Some(match original {
            Some(first) => ActionError::new(
                first.code,
                format!(
                    "{}; undoing it failed too ({}: {}); an operator must resolve it",
                    first.message, error.code, error.message
                ),
            ),
            None => error,
        });
    });
}

/// Ends an action whose plan is through: success, or error once unwound.
fn finish(tx: &mut Tx, id: ActionId) {
    update(tx, id, |a| {
        let error = a.run.take().and_then(|r| r.unwinding).map(|u| u.error);
        a.finished = Some(now());
        match error {
            None => {
                a.status = ActionStatus::Success;
                a.progress = 100;
            }
            Some(error) => {
                a.status = ActionStatus::Error;
                a.error = Some(error);
            }
        }
    });
}

/// Fails an action that never ran because the one it waited for failed.
pub(crate) fn fail_unstarted(tx: &mut Tx, id: ActionId) {
    let pred = tx.actions.get(id.0).and_then(|a| a.after);
    update(tx, id, |a| {
        a.status = ActionStatus::Error;
        a.finished = Some(now());
        a.error = Some(ActionError::new("action_failed", "a preceding action failed"));
        a.run = None;
    });
    // A stuck predecessor keeps holding the resources its waiting successor held for it.
    if let Some(pred) = pred.and_then(|p| tx.actions.get(p.0)).filter(|p| p.holds_locks()).cloned() {
        tx.put(Record::Action(pred));
    }
}

/// Consumes an injected fault for the step now due, if one is armed: its error.
pub(crate) fn take_fault(tx: &mut Tx, action: &Action, step: &str) -> Option<ActionError> {
    let run = action.run.as_ref()?;
    let last = run.plan.len().checked_sub(1)?;
    let armed = tx.faults.all().find_map(|f| match &f.target {
        FaultTarget::Action { kinds, step: at } if kinds.contains(&action.kind) => {
            let hit = match at {
                None => run.done == last,
                Some(StepRef::Index(i)) => *i == run.done,
                Some(StepRef::Name(name)) => name == step,
            };
            hit.then(|| f.clone())
        }
        _ => None,
    })?;
    let mut fault = Fault::clone(&armed);
    fault.remaining = fault.remaining.saturating_sub(1);
    if fault.remaining == 0 {
        tx.delete(fault.id.as_ref());
    } else {
        tx.put(Record::Fault(Arc::new(fault)));
    }
    Some(ActionError::new(armed.code.clone(), armed.message.clone()))
}

fn panicked(step: &str, panic: &(dyn std::any::Any + Send)) -> ActionError {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".into());
    tracing::error!(step, panic = %what, "action step panicked");
    ActionError::new("internal_error", format!("step {step} failed unexpectedly"))
}

/// Resumes after a restart: tells the driver what exists, then runs every action that
/// was running (an action waiting on a running one is run by that one's chain).
pub(crate) async fn recover(cloud: &Cloud) -> Result<()> {
    let (inventory, runnable, stuck) = cloud.read(|s| {
        let runnable: Vec<ActionId> = s
            .running_actions()
            .filter(|a| a.after.is_none_or(|pred| !s.actions.get(pred.0).is_some_and(|p| p.holds_locks())))
            .map(|a| a.id)
            .collect();
        (s.inventory(), runnable, s.stuck_actions().count())
    });
    let drift =
        cloud.inner.driver.restore(inventory).await.map_err(|e| Error::Internal(format!("driver restore: {e}")))?;
    settle_drift(cloud, &drift).await?;
    cloud.inner.engine.enabled.store(true, Ordering::Release);
    if !runnable.is_empty() {
        tracing::info!(actions = runnable.len(), "resuming actions that were running at the last stop");
    }
    if stuck > 0 {
        tracing::warn!(
            actions = stuck,
            "actions are stuck and hold their resources; see `stratus action list --stuck`"
        );
    }
    for id in runnable {
        cloud.run_action(id);
    }
    Ok(())
}

/// Takes in what the hypervisor did while the control plane was down: a server whose VM
/// stopped by itself shows `off` (and one that was started by hand `running`); one whose
/// VM vanished shows `unknown`, so it is seen, not forgotten. Servers an action is
/// working on are left to that action, which is about to resume.
async fn settle_drift(cloud: &Cloud, drift: &[stratus_compute::Drift]) -> Result<()> {
    use crate::model::ServerStatus;
    use stratus_compute::Drift;
    if drift.is_empty() {
        return Ok(());
    }
    cloud
        .write(|tx| {
            for d in drift {
                let (vm, status) = match *d {
                    Drift::Power { vm, now } => (vm, ServerStatus::settled(now)),
                    Drift::Missing { vm } => (vm, ServerStatus::Unknown),
                };
                let server = crate::ids::ServerId(vm);
                let busy = tx.actions_on(server.as_ref()).any(|a| a.holds_locks());
                if busy || tx.servers.get(vm).is_none() {
                    continue;
                }
                tracing::info!(server = vm, status = status.as_str(), "server status taken from the hypervisor");
                crate::actions::steps::set_status(tx, server, status).map_err(|e| Error::Internal(e.message))?;
            }
            Ok(())
        })
        .await
}

impl Cloud {
    /// Retries a stuck action's failed undo (an operator fixed what made it fail).
    pub async fn action_retry(&self, id: ActionId) -> Result<Arc<Action>> {
        self.revive(id, false).await
    }

    /// Marks a stuck action's failed undo as done by hand and lets the unwind go on.
    pub async fn action_resolve(&self, id: ActionId) -> Result<Arc<Action>> {
        self.revive(id, true).await
    }

    async fn revive(&self, id: ActionId, skip: bool) -> Result<Arc<Action>> {
        let action = self
            .write(|tx| {
                let action = tx.actions.get(id.0).cloned().ok_or_else(|| Error::not_found(ResourceKind::Action, id))?;
                if action.status != ActionStatus::Stuck {
                    return Err(Error::invalid(format!("action {id} is {}, not stuck", action.status.as_str())));
                }
                update(tx, id, |a| {
                    a.status = ActionStatus::Running;
                    a.finished = None;
                    if let Some(run) = a.run.as_mut() {
                        if let Some(u) = run.unwinding.as_mut() {
                            if skip {
                                u.done += 1;
                            }
                            a.error = Some(u.error.clone());
                        }
                        run.step_started = chrono::Utc::now();
                    }
                });
                advance(tx, id);
                if tx.actions.get(id.0).is_some_and(|a| a.is_running()) {
                    tx.start_action(id);
                }
                tx.actions.get(id.0).cloned().ok_or_else(|| Error::not_found(ResourceKind::Action, id))
            })
            .await?;
        Ok(action)
    }

    /// Every running or stuck action, of every project (admin).
    pub fn action_active_list(&self) -> Vec<Arc<Action>> {
        self.read(|s| s.running_actions().chain(s.stuck_actions()).cloned().collect())
    }

    /// Every stuck action, of every project (admin).
    pub fn action_stuck_list(&self) -> Vec<Arc<Action>> {
        self.read(|s| s.stuck_actions().cloned().collect())
    }
}

#[cfg(test)]
mod tests;
