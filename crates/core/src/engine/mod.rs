//! The action engine. An action is created (with its steps) in the same transaction as
//! the change that asked for it, so it is durable before the API answers. The engine
//! then runs its steps one by one, committing each completion; a failed step unwinds
//! the completed ones in reverse. After a restart, [`recover`] resumes every action
//! that was running, repeating the step that was in flight (driver calls are idempotent).

mod effects;
mod runner;

use crate::cloud::Cloud;
use crate::error::{Error, Result};
use crate::ids::*;
use crate::model::*;
use crate::state::Tx;
use crate::store::Record;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use stratus_compute::VmSpec;

pub(crate) use effects::{delete_backups, vm_spec};

/// Dispatches actions to runner tasks. Disabled until [`Cloud::start`], so that admin
/// commands working on a stopped server's data leave new actions for `serve` to run.
#[derive(Debug, Default)]
pub(crate) struct Engine {
    enabled: AtomicBool,
}

impl Engine {
    pub(crate) fn run(&self, cloud: &Cloud, id: ActionId) {
        if self.enabled.load(Ordering::Acquire) {
            let cloud = cloud.clone();
            // The engine is the one place that spawns work: each action's progress lives
            // in its durable record, so a task lost to a crash is resumed by `recover`.
            tokio::spawn(async move { runner::run_chain(cloud, id).await });
        }
    }
}

/// What an operation asks the engine to do.
#[derive(Debug)]
pub(crate) struct NewAction {
    pub command: Command,
    pub resources: Vec<ResourceRef>,
    pub steps: Vec<Step>,
    /// Run after this action (which must be created in the same transaction or running).
    pub after: Option<ActionId>,
}

impl NewAction {
    pub(crate) fn new(command: Command, resources: Vec<ResourceRef>, steps: Vec<Step>) -> Self {
        NewAction { command, resources, steps, after: None }
    }
}

/// Fails with `locked` if any of `resources` has a running action.
pub(crate) fn ensure_unlocked(tx: &Tx, resources: &[ResourceRef]) -> Result<()> {
    match resources.iter().find(|r| tx.state.locks.contains_key(r)) {
        Some(r) => {
            Err(Error::Locked { message: format!("{} {} is locked by a running action", kind_name(r.kind), r.id) })
        }
        None => Ok(()),
    }
}

fn kind_name(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::Server => "server",
        ResourceKind::Ip => "IP",
        ResourceKind::Image => "image",
        _ => "resource",
    }
}

/// Records a new action. One without steps (a change of metadata) is finished at once;
/// one with steps runs after the transaction commits. The resources' transitional status
/// (a starting server) applies immediately, so the API's answer already shows it.
pub(crate) fn create_action(tx: &mut Tx, project: ProjectId, new: NewAction) -> Result<Arc<Action>> {
    let foreign_lock =
        new.resources.iter().any(|r| tx.state.locks.get(r).is_some_and(|holder| Some(*holder) != new.after));
    if foreign_lock {
        ensure_unlocked(tx, &new.resources)?;
    }
    let id = ActionId(tx.next_id());
    let now = now();
    let instant = new.steps.is_empty() && new.after.is_none();
    let action = Arc::new(Action {
        id,
        project,
        command: new.command,
        status: if instant { ActionStatus::Success } else { ActionStatus::Running },
        progress: if instant { 100 } else { 0 },
        started: now,
        finished: instant.then_some(now),
        resources: new.resources,
        error: None,
        plan: Plan { steps: new.steps, done: 0, unwinding: None },
        after: new.after,
    });
    tx.put(Record::Action(action.clone()));
    if !instant && new.after.is_none() {
        effects::begin(tx, id);
        tx.start_action(id);
    }
    Ok(tx.state.actions.get(&id.0).cloned().unwrap_or(action))
}

/// Resumes after a restart: tells the driver which VMs exist, then runs every action
/// that was running (an action waiting on a running one is run by that one's chain).
pub(crate) async fn recover(cloud: &Cloud) -> Result<()> {
    let (vms, runnable): (Vec<_>, Vec<_>) = cloud.read(|s| {
        let vms = s
            .servers
            .values()
            .filter_map(|srv| effects::believed_power(s, srv).map(|p| (vm_spec(s, srv, None), p)))
            .collect::<Vec<(VmSpec, _)>>();
        let runnable = s
            .actions
            .values()
            .filter(|a| a.is_running())
            .filter(|a| a.after.is_none_or(|pred| !s.actions.get(&pred.0).is_some_and(|p| p.is_running())))
            .map(|a| a.id)
            .collect::<Vec<_>>();
        (vms, runnable)
    });
    cloud.inner.driver.restore(&vms).await.map_err(|e| Error::Internal(format!("driver restore: {e}")))?;
    cloud.inner.engine.enabled.store(true, Ordering::Release);
    if !runnable.is_empty() {
        tracing::info!(actions = runnable.len(), "resuming actions that were running at the last stop");
    }
    for id in runnable {
        cloud.run_action(id);
    }
    Ok(())
}

#[cfg(test)]
mod tests;
