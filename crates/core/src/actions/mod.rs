//! Action kinds: what each long operation does, declared in one place per kind.
//!
//! A kind ([`Kind`]) names its parameters (persisted with the action, so they are plain
//! data), the resources it locks, and its steps ([`Step`]), each with a *do* and an
//! *undo*. A step either changes records ([`Effect::Record`], run inside a transaction,
//! so its change is durable in the same commit that records it as done) or asks the
//! driver for one thing ([`Effect::Driver`], whose result is kept as the step's named
//! output). Every record change an action makes is a step, so a failed action undoes
//! it like any other.
//!
//! The engine (`crate::engine`) runs any kind the same way: leading record steps inside
//! the transaction that creates the action (so an action of record steps only finishes
//! there, and the API's answer already shows its effect), then each driver step with
//! the record steps after it in one commit; on failure, the undos of what ran, in
//! reverse. Kinds are listed in [`REGISTRY`], which the generic tests walk: every kind
//! gets "fail at each step and unwind", "repeat each step", "repeat each undo" and
//! "crash after every commit" for free.
//!
//! Rules a step must keep:
//! - A driver call is idempotent (the driver's contract), and so is its undo, which must
//!   also be safe when its do failed halfway or did not run: the undo of a failed
//!   driver step runs too, since a real hypervisor may have done part of the work.
//! - A record step that needs to restore something on undo returns the prior value as
//!   its output; its undo reads it back ([`Ctx::output`]).
//! - A step without undo says why in a comment.

mod certificate;
mod change_protection;
mod firewall;
mod floating_ip;
mod image;
mod load_balancer;
mod network;
mod placement;
mod primary_ip;
mod server_attach;
mod server_backup;
mod server_create;
mod server_delete;
mod server_media;
mod server_power;
mod server_rebuild;
mod server_resize;
mod volume;

pub(crate) mod steps;

pub(crate) use certificate::*;
pub(crate) use change_protection::*;
pub(crate) use firewall::*;
pub(crate) use floating_ip::*;
pub(crate) use image::*;
pub(crate) use load_balancer::*;
pub(crate) use network::*;
pub(crate) use placement::*;
pub(crate) use primary_ip::*;
pub(crate) use server_attach::*;
pub(crate) use server_backup::*;
pub(crate) use server_create::*;
pub(crate) use server_delete::*;
pub(crate) use server_media::*;
pub(crate) use server_power::*;
pub(crate) use server_rebuild::*;
pub(crate) use server_resize::*;
pub(crate) use volume::*;

use crate::data::{State, Tx};
use crate::engine::Call;
use crate::ids::{ActionId, ProjectId, ResourceRef};
use crate::model::{Action, ActionError};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Debug;
use std::marker::PhantomData;
use std::time::Duration;

/// Named step outputs of a running action.
pub(crate) type Outputs = BTreeMap<String, Value>;

/// What a step sees: its action, the kind's parameters and the outputs of the steps
/// that completed before it.
#[derive(Debug)]
pub(crate) struct Ctx<'a, P> {
    pub action: &'a Action,
    pub params: &'a P,
    pub outputs: &'a Outputs,
}

impl<P> Ctx<'_, P> {
    /// The output step `step` recorded, if it did and it has this shape.
    pub(crate) fn output<T: DeserializeOwned>(&self, step: &str) -> Option<T> {
        self.outputs.get(step).and_then(|v| serde_json::from_value(v.clone()).ok())
    }

    pub(crate) fn project(&self) -> ProjectId {
        self.action.project
    }
}

/// A step's result: an output to keep under the step's name, or none.
pub(crate) type StepResult = Result<Option<Value>, ActionError>;

/// Changes records inside the step's transaction.
pub(crate) type RecordFn<P> = fn(&mut Tx, &Ctx<P>) -> StepResult;
/// Builds the driver call a step makes, from the records and the parameters. Built when
/// the step runs, so a resumed step asks for what the records say now.
pub(crate) type CallFn<P> = fn(&State, &Ctx<P>) -> Result<Call, ActionError>;

/// What a step (or its undo) does.
pub(crate) enum Effect<P: 'static> {
    Record(RecordFn<P>),
    Driver(CallFn<P>),
}

impl<P> Effect<P> {
    pub(crate) fn is_driver(&self) -> bool {
        matches!(self, Effect::Driver(_))
    }
}

/// One step of a kind's plan.
pub(crate) struct Step<P: 'static> {
    /// Stable: stored plans name their steps.
    pub name: &'static str,
    pub run: Effect<P>,
    /// `None`: nothing to undo (each such step says why).
    pub undo: Option<Effect<P>>,
    /// How long a driver step (or its undo) may take in all, retries included, counted
    /// from when it first began: a step still unfinished then fails with `timeout`.
    pub timeout: Duration,
}

/// The timeout of steps that do not say otherwise.
pub(crate) const STEP_TIMEOUT: Duration = Duration::from_secs(600);

impl<P> Step<P> {
    /// A step that changes records. Add its undo with [`Step::undo_record`].
    pub(crate) const fn record(name: &'static str, run: RecordFn<P>) -> Self {
        Step { name, run: Effect::Record(run), undo: None, timeout: STEP_TIMEOUT }
    }

    /// A step that calls the driver. Add its undo with [`Step::undo_driver`].
    pub(crate) const fn driver(name: &'static str, run: CallFn<P>) -> Self {
        Step { name, run: Effect::Driver(run), undo: None, timeout: STEP_TIMEOUT }
    }

    pub(crate) const fn undo_record(self, undo: RecordFn<P>) -> Self {
        Step { undo: Some(Effect::Record(undo)), ..self }
    }

    pub(crate) const fn undo_driver(self, undo: CallFn<P>) -> Self {
        Step { undo: Some(Effect::Driver(undo)), ..self }
    }

    pub(crate) const fn timeout(self, timeout: Duration) -> Self {
        Step { timeout, ..self }
    }
}

/// One kind of action.
pub(crate) trait Kind: Send + Sync + 'static {
    /// Stable and unique: stored in every action of the kind, used by dialects to name it.
    const NAME: &'static str;
    /// Bumped when a change to [`Kind::steps`] would make an old stored plan mean
    /// something else; old versions must stay runnable (their step names resolvable).
    const VERSION: u32 = 1;
    type Params: Serialize + DeserializeOwned + Debug + Send + Sync + 'static;

    /// Every step the kind has.
    fn steps() -> &'static [Step<Self::Params>];

    /// The steps a new action of these parameters runs, in order.
    fn plan(_params: &Self::Params) -> Vec<&'static str> {
        Self::steps().iter().map(|s| s.name).collect()
    }

    /// The resources the action locks while it runs (and shows as its resources).
    fn resources(params: &Self::Params) -> Vec<ResourceRef>;

    /// Resources the action concerns without locking them (shown too).
    fn related(_params: &Self::Params) -> Vec<ResourceRef> {
        Vec::new()
    }

    /// Secrets among the parameters, as (step, JSON pointer into the parameters): once
    /// `step` has completed, the value there (an `Option`) is set to `null`, so a root
    /// password or a private key is not kept at rest longer than the step that needs it.
    const SECRETS: &'static [(&'static str, &'static str)] = &[];
}

/// What the engine knows of a step without knowing its kind.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StepInfo {
    pub driver: bool,
    pub has_undo: bool,
    pub undo_is_driver: bool,
    pub timeout: Duration,
}

/// A kind, with its parameter type erased, as the engine and the registry hold it.
pub(crate) trait DynKind: Send + Sync {
    fn name(&self) -> &'static str;
    fn version(&self) -> u32;
    fn step_names(&self) -> Vec<&'static str>;
    fn step(&self, name: &str) -> Option<StepInfo>;
    /// Runs a record step's do (`undo` false) or undo.
    fn run_record(&self, tx: &mut Tx, action: &Action, step: &str, undo: bool) -> StepResult;
    /// The driver call of a driver step's do or undo.
    fn call(&self, state: &State, action: &Action, step: &str, undo: bool) -> Result<Call, ActionError>;
    fn scrub(&self, params: &mut Value, step: &str);
}

/// Adapts a [`Kind`] to [`DynKind`].
pub(crate) struct Erased<K>(PhantomData<K>);

impl<K> Erased<K> {
    pub(crate) const fn new() -> Self {
        Erased(PhantomData)
    }
}

fn params_of<K: Kind>(action: &Action) -> Result<K::Params, ActionError> {
    let run = action.run.as_ref().ok_or_else(|| ActionError::new("internal_error", "the action is not running"))?;
    // From a reference: each step reads the parameters, so no copy of them is made.
    <K::Params as serde::Deserialize>::deserialize(&*run.params).map_err(|e| {
        ActionError::new("internal_error", format!("the parameters of this {} action cannot be read: {e}", K::NAME))
    })
}

fn find<K: Kind>(name: &str) -> Result<&'static Step<K::Params>, ActionError> {
    K::steps()
        .iter()
        .find(|s| s.name == name)
        .ok_or_else(|| ActionError::new("internal_error", format!("{} has no step {name}", K::NAME)))
}

fn effect<K: Kind>(step: &'static Step<K::Params>, undo: bool) -> Option<&'static Effect<K::Params>> {
    if undo {
        step.undo.as_ref()
    } else {
        Some(&step.run)
    }
}

impl<K: Kind> DynKind for Erased<K> {
    fn name(&self) -> &'static str {
        K::NAME
    }

    fn version(&self) -> u32 {
        K::VERSION
    }

    fn step_names(&self) -> Vec<&'static str> {
        K::steps().iter().map(|s| s.name).collect()
    }

    fn step(&self, name: &str) -> Option<StepInfo> {
        K::steps().iter().find(|s| s.name == name).map(|s| StepInfo {
            driver: s.run.is_driver(),
            has_undo: s.undo.is_some(),
            undo_is_driver: s.undo.as_ref().is_some_and(Effect::is_driver),
            timeout: s.timeout,
        })
    }

    fn run_record(&self, tx: &mut Tx, action: &Action, step: &str, undo: bool) -> StepResult {
        let params = params_of::<K>(action)?;
        let outputs = action.run.as_ref().map(|r| &r.outputs).cloned().unwrap_or_default();
        let ctx = Ctx { action, params: &params, outputs: &outputs };
        match effect::<K>(find::<K>(step)?, undo) {
            Some(Effect::Record(f)) => f(tx, &ctx),
            Some(Effect::Driver(_)) => Err(ActionError::new("internal_error", format!("{step} is a driver step"))),
            None => Ok(None),
        }
    }

    fn call(&self, state: &State, action: &Action, step: &str, undo: bool) -> Result<Call, ActionError> {
        let params = params_of::<K>(action)?;
        let outputs = action.run.as_ref().map(|r| &r.outputs).cloned().unwrap_or_default();
        let ctx = Ctx { action, params: &params, outputs: &outputs };
        match effect::<K>(find::<K>(step)?, undo) {
            Some(Effect::Driver(f)) => f(state, &ctx),
            Some(Effect::Record(_)) => Err(ActionError::new("internal_error", format!("{step} is a record step"))),
            None => Ok(Call::Nothing),
        }
    }

    fn scrub(&self, params: &mut Value, step: &str) {
        for (_, pointer) in K::SECRETS.iter().filter(|(after, _)| *after == step) {
            if let Some(secret) = params.pointer_mut(pointer) {
                *secret = Value::Null;
            }
        }
    }
}

/// Every kind. A kind that is not listed here cannot run, and the generic tests walk
/// this list, so adding a kind means adding it here.
pub(crate) static REGISTRY: &[&dyn DynKind] = &[
    &Erased::<ServerCreate>::new(),
    &Erased::<ServerDelete>::new(),
    &Erased::<ServerPowerOn>::new(),
    &Erased::<ServerPowerOff>::new(),
    &Erased::<ServerShutdown>::new(),
    &Erased::<ServerReboot>::new(),
    &Erased::<ServerReset>::new(),
    &Erased::<ServerResetPassword>::new(),
    &Erased::<ServerEnableRescue>::new(),
    &Erased::<ServerDisableRescue>::new(),
    &Erased::<ServerAttachIso>::new(),
    &Erased::<ServerDetachIso>::new(),
    &Erased::<ServerRebuild>::new(),
    &Erased::<ServerChangeType>::new(),
    &Erased::<ServerEnableBackup>::new(),
    &Erased::<ServerDisableBackup>::new(),
    &Erased::<ServerRequestConsole>::new(),
    &Erased::<ServerCreateImage>::new(),
    &Erased::<ServerBackup>::new(),
    &Erased::<ServerAttachToNetwork>::new(),
    &Erased::<ServerDetachFromNetwork>::new(),
    &Erased::<ServerChangeAliasIps>::new(),
    &Erased::<ServerAddToPlacementGroup>::new(),
    &Erased::<ServerRemoveFromPlacementGroup>::new(),
    &Erased::<ImageDataDelete>::new(),
    &Erased::<ChangeProtection>::new(),
    &Erased::<ChangeDnsPtr>::new(),
    &Erased::<FloatingIpAssign>::new(),
    &Erased::<FloatingIpUnassign>::new(),
    &Erased::<PrimaryIpAssign>::new(),
    &Erased::<PrimaryIpUnassign>::new(),
    &Erased::<VolumeCreate>::new(),
    &Erased::<VolumeAttach>::new(),
    &Erased::<VolumeDetach>::new(),
    &Erased::<VolumeResize>::new(),
    &Erased::<VolumeDelete>::new(),
    &Erased::<NetworkCreate>::new(),
    &Erased::<NetworkDelete>::new(),
    &Erased::<NetworkAddSubnet>::new(),
    &Erased::<NetworkDeleteSubnet>::new(),
    &Erased::<NetworkAddRoute>::new(),
    &Erased::<NetworkDeleteRoute>::new(),
    &Erased::<NetworkChangeIpRange>::new(),
    &Erased::<FirewallSetRules>::new(),
    &Erased::<FirewallApply>::new(),
    &Erased::<FirewallRemove>::new(),
    &Erased::<LoadBalancerCreate>::new(),
    &Erased::<LoadBalancerDelete>::new(),
    &Erased::<LoadBalancerAddService>::new(),
    &Erased::<LoadBalancerUpdateService>::new(),
    &Erased::<LoadBalancerDeleteService>::new(),
    &Erased::<LoadBalancerAddTarget>::new(),
    &Erased::<LoadBalancerRemoveTarget>::new(),
    &Erased::<LoadBalancerChangeAlgorithm>::new(),
    &Erased::<LoadBalancerChangeType>::new(),
    &Erased::<LoadBalancerAttachToNetwork>::new(),
    &Erased::<LoadBalancerDetachFromNetwork>::new(),
    &Erased::<LoadBalancerEnablePublicInterface>::new(),
    &Erased::<LoadBalancerDisablePublicInterface>::new(),
    &Erased::<CertificateCreate>::new(),
    &Erased::<CertificateRetry>::new(),
];

/// The kind called `name`.
pub(crate) fn kind(name: &str) -> Option<&'static dyn DynKind> {
    REGISTRY.iter().copied().find(|k| k.name() == name)
}

/// The names of every kind and their steps, for dialects (which name kinds their own
/// way) and for the admin commands that target kinds and steps.
pub fn kinds() -> Vec<(&'static str, Vec<&'static str>)> {
    REGISTRY.iter().map(|k| (k.name(), k.step_names())).collect()
}

/// Starts an action of kind `K`: records it (locking its resources) and runs its
/// leading record steps in this transaction. With `after`, it waits for that action
/// (made in the same transaction, or running) instead and runs nothing yet.
pub(crate) fn start<K: Kind>(
    tx: &mut Tx,
    project: ProjectId,
    params: K::Params,
    after: Option<ActionId>,
) -> crate::Result<std::sync::Arc<Action>> {
    let resources = K::resources(&params);
    let related = K::related(&params);
    let plan = K::plan(&params).into_iter().map(str::to_string).collect();
    let params = serde_json::to_value(&params)
        .map_err(|e| crate::Error::Internal(format!("cannot serialize {} parameters: {e}", K::NAME)))?;
    crate::engine::create(tx, project, K::NAME, K::VERSION, params, plan, (resources, related), after)
}
