//! A driver for engine tests: the instant simulator, with calls that can be held at a
//! gate or made to fail the ways real hypervisors fail (transiently, for good, by
//! panicking, by hanging).

use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use stratus_compute::sim::{SimDriver, SimTiming};
use stratus_compute::*;
use tokio::sync::Semaphore;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Misbehave {
    /// Fails with a retryable error.
    Transient,
    /// Fails with an error that will not go away.
    Permanent,
    Panic,
    /// Never returns.
    Hang,
}

#[derive(Debug)]
pub(crate) struct TestDriver {
    pub(crate) sim: SimDriver,
    gates: Mutex<Vec<&'static str>>,
    gate: Semaphore,
    /// method -> (what, how many more times).
    faults: Mutex<HashMap<&'static str, (Misbehave, u32)>>,
    /// How often each method was called.
    pub(crate) calls: Mutex<HashMap<&'static str, u32>>,
    /// What the next `restore` reports as changed behind the control plane's back.
    pub(crate) drift: Mutex<Vec<Drift>>,
}

impl TestDriver {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(TestDriver {
            sim: SimDriver::new(SimTiming::Instant),
            gates: Mutex::default(),
            gate: Semaphore::new(0),
            faults: Mutex::default(),
            calls: Mutex::default(),
            drift: Mutex::default(),
        })
    }

    /// Holds calls of `method` until [`TestDriver::open`].
    pub(crate) fn gate(&self, method: &'static str) {
        self.gates.lock().unwrap().push(method);
    }

    pub(crate) fn open(&self) {
        self.gates.lock().unwrap().clear();
        self.gate.add_permits(Semaphore::MAX_PERMITS / 2);
    }

    /// Makes the next `times` calls of `method` misbehave.
    pub(crate) fn fail(&self, method: &'static str, how: Misbehave, times: u32) {
        self.faults.lock().unwrap().insert(method, (how, times));
    }

    pub(crate) fn calls(&self, method: &'static str) -> u32 {
        self.calls.lock().unwrap().get(method).copied().unwrap_or(0)
    }

    async fn enter(&self, method: &'static str) -> DriverResult<()> {
        *self.calls.lock().unwrap().entry(method).or_default() += 1;
        if self.gates.lock().unwrap().contains(&method) {
            let _permit = self.gate.acquire().await.expect("gate");
        }
        let how = {
            let mut faults = self.faults.lock().unwrap();
            match faults.get_mut(method) {
                Some((how, n)) if *n > 0 => {
                    *n -= 1;
                    Some(*how)
                }
                _ => None,
            }
        };
        match how {
            None => Ok(()),
            Some(Misbehave::Transient) => {
                Err(DriverError::transient("host_busy", format!("{method}: the host is busy")))
            }
            Some(Misbehave::Permanent) => Err(DriverError::new("host_broken", format!("{method}: the host refuses"))),
            Some(Misbehave::Panic) => panic!("{method}: the driver panicked"),
            Some(Misbehave::Hang) => std::future::pending().await,
        }
    }
}

#[async_trait]
impl Driver for TestDriver {
    fn name(&self) -> &'static str {
        "test"
    }
    async fn restore(&self, inventory: Inventory) -> DriverResult<Vec<Drift>> {
        self.sim.restore(inventory).await?;
        Ok(std::mem::take(&mut *self.drift.lock().unwrap()))
    }
    async fn create(&self, spec: &VmSpec, ctx: &CallContext<'_>) -> DriverResult<()> {
        self.enter("create").await?;
        self.sim.create(spec, ctx).await
    }
    async fn start(&self, id: VmId, ctx: &CallContext<'_>) -> DriverResult<()> {
        self.enter("start").await?;
        self.sim.start(id, ctx).await
    }
    async fn stop(&self, id: VmId, mode: StopMode, ctx: &CallContext<'_>) -> DriverResult<()> {
        self.enter("stop").await?;
        self.sim.stop(id, mode, ctx).await
    }
    async fn reboot(&self, id: VmId, ctx: &CallContext<'_>) -> DriverResult<()> {
        self.enter("reboot").await?;
        self.sim.reboot(id, ctx).await
    }
    async fn reset(&self, id: VmId, ctx: &CallContext<'_>) -> DriverResult<()> {
        self.enter("reset").await?;
        self.sim.reset(id, ctx).await
    }
    async fn rebuild(&self, spec: &VmSpec, ctx: &CallContext<'_>) -> DriverResult<()> {
        self.enter("rebuild").await?;
        self.sim.rebuild(spec, ctx).await
    }
    async fn resize(&self, id: VmId, hw: &HardwareSpec, ctx: &CallContext<'_>) -> DriverResult<()> {
        self.enter("resize").await?;
        self.sim.resize(id, hw, ctx).await
    }
    async fn snapshot(&self, id: VmId, image: i64, ctx: &CallContext<'_>) -> DriverResult<f64> {
        self.enter("snapshot").await?;
        self.sim.snapshot(id, image, ctx).await
    }
    async fn delete_snapshot(&self, image: i64, ctx: &CallContext<'_>) -> DriverResult<()> {
        self.enter("delete_snapshot").await?;
        self.sim.delete_snapshot(image, ctx).await
    }
    async fn set_rescue(&self, id: VmId, rescue: Option<&RescueSpec>, ctx: &CallContext<'_>) -> DriverResult<()> {
        self.enter("set_rescue").await?;
        self.sim.set_rescue(id, rescue, ctx).await
    }
    async fn set_iso(&self, id: VmId, iso: Option<&str>, ctx: &CallContext<'_>) -> DriverResult<()> {
        self.enter("set_iso").await?;
        self.sim.set_iso(id, iso, ctx).await
    }
    async fn set_password(&self, id: VmId, pw: &str, ctx: &CallContext<'_>) -> DriverResult<()> {
        self.enter("set_password").await?;
        self.sim.set_password(id, pw, ctx).await
    }
    async fn delete(&self, id: VmId, ctx: &CallContext<'_>) -> DriverResult<()> {
        self.enter("delete").await?;
        self.sim.delete(id, ctx).await
    }
    async fn create_volume(&self, spec: &VolumeSpec, ctx: &CallContext<'_>) -> DriverResult<()> {
        self.enter("create_volume").await?;
        self.sim.create_volume(spec, ctx).await
    }
    async fn resize_volume(&self, id: i64, size_gb: u32, ctx: &CallContext<'_>) -> DriverResult<()> {
        self.enter("resize_volume").await?;
        self.sim.resize_volume(id, size_gb, ctx).await
    }
    async fn delete_volume(&self, id: i64, ctx: &CallContext<'_>) -> DriverResult<()> {
        self.enter("delete_volume").await?;
        self.sim.delete_volume(id, ctx).await
    }
    async fn attach_volume(&self, vm: VmId, volume: i64, ctx: &CallContext<'_>) -> DriverResult<String> {
        self.enter("attach_volume").await?;
        self.sim.attach_volume(vm, volume, ctx).await
    }
    async fn detach_volume(&self, vm: VmId, volume: i64, ctx: &CallContext<'_>) -> DriverResult<()> {
        self.enter("detach_volume").await?;
        self.sim.detach_volume(vm, volume, ctx).await
    }
    async fn apply_network(&self, spec: &NetworkSpec, ctx: &CallContext<'_>) -> DriverResult<()> {
        self.enter("apply_network").await?;
        self.sim.apply_network(spec, ctx).await
    }
    async fn delete_network(&self, id: i64, ctx: &CallContext<'_>) -> DriverResult<()> {
        self.enter("delete_network").await?;
        self.sim.delete_network(id, ctx).await
    }
    async fn attach_nic(&self, vm: VmId, nic: &NicSpec, ctx: &CallContext<'_>) -> DriverResult<()> {
        self.enter("attach_nic").await?;
        self.sim.attach_nic(vm, nic, ctx).await
    }
    async fn detach_nic(&self, vm: VmId, nic: i64, ctx: &CallContext<'_>) -> DriverResult<()> {
        self.enter("detach_nic").await?;
        self.sim.detach_nic(vm, nic, ctx).await
    }
    async fn apply_firewall(&self, vm: VmId, rules: &[FirewallRuleSpec], ctx: &CallContext<'_>) -> DriverResult<()> {
        self.enter("apply_firewall").await?;
        self.sim.apply_firewall(vm, rules, ctx).await
    }
    async fn apply_load_balancer(&self, spec: &LoadBalancerSpec, ctx: &CallContext<'_>) -> DriverResult<()> {
        self.enter("apply_load_balancer").await?;
        self.sim.apply_load_balancer(spec, ctx).await
    }
    async fn delete_load_balancer(&self, id: i64, ctx: &CallContext<'_>) -> DriverResult<()> {
        self.enter("delete_load_balancer").await?;
        self.sim.delete_load_balancer(id, ctx).await
    }
    async fn console(&self, id: VmId) -> DriverResult<ConsoleEndpoint> {
        self.sim.console(id).await
    }
    fn console_session(&self, token: &str) -> Option<stratus_compute::console::ConsoleSession> {
        self.sim.console_session(token)
    }
    async fn metrics(&self, id: VmId, q: &MetricsQuery) -> DriverResult<Vec<MetricSeries>> {
        self.sim.metrics(id, q).await
    }
    async fn load_balancer_metrics(&self, id: i64, q: &MetricsQuery) -> DriverResult<Vec<MetricSeries>> {
        self.sim.load_balancer_metrics(id, q).await
    }
    async fn power_state(&self, id: VmId) -> DriverResult<PowerState> {
        self.sim.power_state(id).await
    }
}
