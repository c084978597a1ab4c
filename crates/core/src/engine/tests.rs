//! The engine's promises, tested through `Cloud` on an in-memory store: actions run to
//! the end, hold their locks while they run, unwind on failure, and survive a crash at
//! any commit point.

use crate::model::*;
use crate::ops::server_actions::ServerAction;
use crate::ops::servers::{ServerCreate, ServerFilter};
use crate::ops::Ref;
use crate::store::memory::MemoryStore;
use crate::{Cloud, Config, Error};
use async_trait::async_trait;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use stratus_compute::sim::{SimDriver, SimTiming};
use stratus_compute::*;
use tokio::sync::Semaphore;

/// The instant simulator, except that every call waits for a permit while the gate is
/// closed: lets a test hold an action in the middle of a step.
#[derive(Debug)]
struct GatedDriver {
    inner: SimDriver,
    gate: Semaphore,
}

impl GatedDriver {
    fn closed() -> Arc<Self> {
        Arc::new(GatedDriver { inner: SimDriver::new(SimTiming::Instant), gate: Semaphore::new(0) })
    }

    fn open(&self) {
        self.gate.add_permits(Semaphore::MAX_PERMITS / 2);
    }

    async fn pass(&self) {
        let _permit = self.gate.acquire().await.expect("gate");
    }
}

#[async_trait]
impl Driver for GatedDriver {
    fn name(&self) -> &'static str {
        "gated"
    }
    async fn restore(&self, vms: &[(VmSpec, PowerState)]) -> DriverResult<()> {
        self.inner.restore(vms).await
    }
    async fn create(&self, spec: &VmSpec, p: &dyn Progress) -> DriverResult<()> {
        self.pass().await;
        self.inner.create(spec, p).await
    }
    async fn start(&self, id: VmId) -> DriverResult<()> {
        self.pass().await;
        self.inner.start(id).await
    }
    async fn stop(&self, id: VmId, mode: StopMode) -> DriverResult<()> {
        self.pass().await;
        self.inner.stop(id, mode).await
    }
    async fn reboot(&self, id: VmId) -> DriverResult<()> {
        self.pass().await;
        self.inner.reboot(id).await
    }
    async fn reset(&self, id: VmId) -> DriverResult<()> {
        self.pass().await;
        self.inner.reset(id).await
    }
    async fn rebuild(&self, spec: &VmSpec, p: &dyn Progress) -> DriverResult<()> {
        self.pass().await;
        self.inner.rebuild(spec, p).await
    }
    async fn resize(&self, id: VmId, hw: &HardwareSpec) -> DriverResult<()> {
        self.pass().await;
        self.inner.resize(id, hw).await
    }
    async fn snapshot(&self, id: VmId, image: i64, p: &dyn Progress) -> DriverResult<f64> {
        self.pass().await;
        self.inner.snapshot(id, image, p).await
    }
    async fn delete_snapshot(&self, image: i64) -> DriverResult<()> {
        self.inner.delete_snapshot(image).await
    }
    async fn set_rescue(&self, id: VmId, enabled: bool, keys: &[String]) -> DriverResult<()> {
        self.pass().await;
        self.inner.set_rescue(id, enabled, keys).await
    }
    async fn set_iso(&self, id: VmId, iso: Option<&str>) -> DriverResult<()> {
        self.pass().await;
        self.inner.set_iso(id, iso).await
    }
    async fn set_password(&self, id: VmId, pw: &str) -> DriverResult<()> {
        self.pass().await;
        self.inner.set_password(id, pw).await
    }
    async fn console(&self, id: VmId) -> DriverResult<ConsoleEndpoint> {
        self.inner.console(id).await
    }
    async fn metrics(&self, id: VmId, q: &MetricsQuery) -> DriverResult<Vec<MetricSeries>> {
        self.inner.metrics(id, q).await
    }
    async fn power_state(&self, id: VmId) -> DriverResult<PowerState> {
        self.inner.power_state(id).await
    }
    async fn delete(&self, id: VmId) -> DriverResult<()> {
        self.pass().await;
        self.inner.delete(id).await
    }
}

async fn cloud_on(store: Arc<MemoryStore>, driver: Arc<dyn Driver>) -> (Cloud, Principal) {
    let cloud = Cloud::open(store, driver, Config::default()).await.expect("open");
    cloud.start().await.expect("start");
    let issued = cloud.token_create("p", "t", Access::ReadWrite).await.expect("token");
    let p = cloud.authenticate(&issued.secret).expect("auth");
    (cloud, p)
}

async fn instant() -> (Cloud, Principal, Arc<MemoryStore>) {
    let store = MemoryStore::new();
    let (cloud, p) = cloud_on(store.clone(), Arc::new(SimDriver::new(SimTiming::Instant))).await;
    (cloud, p, store)
}

fn create_req(name: &str) -> ServerCreate {
    ServerCreate {
        name: name.into(),
        server_type: Ref::Name("cx22".into()),
        image: Ref::Name("debian-12".into()),
        location: None,
        datacenter: None,
        ssh_keys: Vec::new(),
        user_data: None,
        labels: Default::default(),
        start_after_create: true,
        enable_ipv4: true,
        enable_ipv6: true,
    }
}

/// Waits until no action of any project is running.
async fn settle(cloud: &Cloud) {
    for _ in 0..2000 {
        if cloud.read(|s| s.actions.values().all(|a| !a.is_running())) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    panic!(
        "actions still running: {:?}",
        cloud.read(|s| s.actions.values().filter(|a| a.is_running()).map(|a| a.command).collect::<Vec<_>>())
    );
}

/// Invariants that hold whenever no action runs.
fn check_settled(cloud: &Cloud) {
    cloud.read(|s| {
        assert!(s.locks.is_empty(), "locks left: {:?}", s.locks);
        assert!(s.successors.is_empty());
        for a in s.actions.values() {
            assert!(matches!(a.status, ActionStatus::Success | ActionStatus::Error), "{a:?}");
            assert!(a.finished.is_some());
            if a.status == ActionStatus::Success {
                assert_eq!(a.progress, 100);
            }
        }
        for srv in s.servers.values() {
            let errors: Vec<_> =
                s.actions.values().filter(|a| a.error.is_some()).map(|a| (a.command, a.error.clone())).collect();
            assert!(
                matches!(srv.status, ServerStatus::Running | ServerStatus::Off),
                "server {} is {:?}; failed actions {errors:?}",
                srv.id,
                srv.status
            );
            for ip in [srv.ipv4, srv.ipv6].into_iter().flatten() {
                assert_eq!(s.ips.get(&ip.0).and_then(|i| i.assignee), Some(srv.id));
            }
        }
        let mut seen = HashSet::new();
        for ip in s.ips.values() {
            assert!(seen.insert(ip.address.clone()), "address {} twice", ip.address);
            if ip.role == IpRole::Primary {
                assert!(
                    ip.assignee.is_some_and(|srv| s.servers.contains_key(&srv.0)),
                    "orphan primary IP {}",
                    ip.address
                );
            }
        }
        for img in s.images.values() {
            assert_eq!(img.status, ImageStatus::Available, "image {} left {:?}", img.id, img.status);
        }
    });
}

#[tokio::test]
async fn create_runs_create_then_start_and_settles_running() {
    let (cloud, p, _) = instant().await;
    let created = cloud.server_create(&p, create_req("web")).await.unwrap();
    assert_eq!(created.action.command, Command::CreateServer);
    assert_eq!(created.next_actions.len(), 1);
    assert_eq!(created.next_actions[0].command, Command::StartServer);
    assert!(created.root_password.is_some(), "no SSH keys: a root password is shown");
    settle(&cloud).await;
    let srv = cloud.server_get(&p, created.server.server.id).unwrap();
    assert_eq!(srv.server.status, ServerStatus::Running);
    assert!(srv.ipv4.is_some() && srv.ipv6.is_some());
    check_settled(&cloud);
    // The root password is not kept at rest once the create step ran.
    let action = cloud.action_get(&p, created.action.id).unwrap();
    assert!(matches!(&action.plan.steps[0], Step::CreateVm { spec } if spec.root_password.is_none()));
}

#[tokio::test]
async fn every_server_action_reaches_its_end_state() {
    let (cloud, p, _) = instant().await;
    let id = cloud.server_create(&p, create_req("s1")).await.unwrap().server.server.id;
    settle(&cloud).await;
    let status = |cloud: &Cloud| cloud.server_get(&p, id).unwrap().server.status;
    let cases: Vec<(ServerAction, ServerStatus)> = vec![
        (ServerAction::Shutdown, ServerStatus::Off),
        (ServerAction::PowerOn, ServerStatus::Running),
        (ServerAction::PowerOff, ServerStatus::Off),
        (ServerAction::ChangeType { server_type: Ref::Name("cx32".into()), upgrade_disk: false }, ServerStatus::Off),
        (ServerAction::Reset, ServerStatus::Running),
        (ServerAction::Reboot, ServerStatus::Running),
        (ServerAction::ResetPassword, ServerStatus::Running),
        (ServerAction::EnableRescue { kind: "linux64".into(), ssh_keys: vec![] }, ServerStatus::Running),
        (ServerAction::DisableRescue, ServerStatus::Running),
        (ServerAction::AttachIso { iso: Ref::Name("virtio-win-0.1.248.iso".into()) }, ServerStatus::Running),
        (ServerAction::DetachIso, ServerStatus::Running),
        (ServerAction::Rebuild { image: Ref::Name("ubuntu-24.04".into()), user_data: None }, ServerStatus::Running),
        (ServerAction::EnableBackup { window: None }, ServerStatus::Running),
        (
            ServerAction::CreateImage {
                kind: ImageType::Snapshot,
                description: Some("snap".into()),
                labels: Default::default(),
            },
            ServerStatus::Running,
        ),
        (ServerAction::DisableBackup, ServerStatus::Running),
        (ServerAction::ChangeProtection { delete: Some(true), rebuild: Some(true) }, ServerStatus::Running),
        (ServerAction::RequestConsole, ServerStatus::Running),
    ];
    for (op, want) in cases {
        let what = format!("{op:?}");
        let result = cloud.server_action(&p, id, op).await.unwrap_or_else(|e| panic!("{what}: {e}"));
        settle(&cloud).await;
        let action = cloud.action_get(&p, result.action.id).unwrap();
        assert_eq!(action.status, ActionStatus::Success, "{what}: {action:?}");
        assert_eq!(status(&cloud), want, "{what}");
    }
    let srv = cloud.server_get(&p, id).unwrap();
    assert_eq!(srv.server_type.unwrap().name, "cx32");
    assert_eq!(srv.server.hardware.disks[0].size_gb, 40, "disk kept without upgrade_disk");
    assert_eq!(srv.image.unwrap().name.as_deref(), Some("ubuntu-24.04"));
    assert!(srv.server.protection.delete && srv.server.protection.rebuild);
    assert!(matches!(cloud.server_delete(&p, id).await, Err(Error::Protected { .. })));
    assert!(matches!(
        cloud
            .server_action(&p, id, ServerAction::Rebuild { image: Ref::Name("debian-12".into()), user_data: None })
            .await,
        Err(Error::Protected { .. })
    ));
    check_settled(&cloud);
}

#[tokio::test]
async fn a_running_action_locks_its_server() {
    let driver = GatedDriver::closed();
    let (cloud, p) = cloud_on(MemoryStore::new(), driver.clone()).await;
    let created = cloud.server_create(&p, create_req("busy")).await.unwrap();
    let id = created.server.server.id;
    assert_eq!(created.server.server.status, ServerStatus::Initializing);
    assert!(created.server.locked);
    for op in [ServerAction::PowerOn, ServerAction::ChangeProtection { delete: Some(true), rebuild: None }] {
        assert!(matches!(cloud.server_action(&p, id, op).await, Err(Error::Locked { .. })));
    }
    assert!(matches!(cloud.server_delete(&p, id).await, Err(Error::Locked { .. })));
    driver.open();
    settle(&cloud).await;
    assert!(!cloud.server_get(&p, id).unwrap().locked);
    cloud.server_action(&p, id, ServerAction::PowerOff).await.unwrap();
    settle(&cloud).await;
    check_settled(&cloud);
}

#[tokio::test]
async fn an_injected_failure_unwinds_the_steps_before_it() {
    let (cloud, p, _) = instant().await;
    // A failed create undoes the VM and removes the server and its addresses.
    let target = FaultTarget::Action { command: Command::CreateServer, step: None };
    cloud.fault_add(target, 1, "boom", "injected").await.unwrap();
    let created = cloud.server_create(&p, create_req("doomed")).await.unwrap();
    settle(&cloud).await;
    let action = cloud.action_get(&p, created.action.id).unwrap();
    assert_eq!(action.status, ActionStatus::Error);
    assert_eq!(action.error.as_ref().map(|e| e.code.as_str()), Some("boom"));
    let next = cloud.action_get(&p, created.next_actions[0].id).unwrap();
    assert_eq!(next.status, ActionStatus::Error, "the start waiting on a failed create fails too");
    assert!(matches!(cloud.server_get(&p, created.server.server.id), Err(Error::NotFound { .. })));
    assert!(cloud.fault_list().is_empty(), "the fault fired once and is gone");
    check_settled(&cloud);

    // A rebuild failing at its last step (start) undoes nothing irreversible and
    // leaves the server in the state the driver reports.
    let id = cloud.server_create(&p, create_req("rebuilt")).await.unwrap().server.server.id;
    settle(&cloud).await;
    let target = FaultTarget::Action { command: Command::RebuildServer, step: None };
    cloud.fault_add(target, 1, "boom", "injected").await.unwrap();
    let r = cloud
        .server_action(&p, id, ServerAction::Rebuild { image: Ref::Name("ubuntu-22.04".into()), user_data: None })
        .await
        .unwrap();
    settle(&cloud).await;
    assert_eq!(cloud.action_get(&p, r.action.id).unwrap().status, ActionStatus::Error);
    // Undo of the stop step starts the VM again.
    assert_eq!(cloud.server_get(&p, id).unwrap().server.status, ServerStatus::Running);

    // A snapshot failing removes the half-made image.
    let target = FaultTarget::Action { command: Command::CreateImage, step: None };
    cloud.fault_add(target, 1, "boom", "injected").await.unwrap();
    let r = cloud
        .server_action(
            &p,
            id,
            ServerAction::CreateImage { kind: ImageType::Snapshot, description: None, labels: Default::default() },
        )
        .await
        .unwrap();
    settle(&cloud).await;
    let image = r.image.unwrap().image.id;
    assert!(cloud.image_get(&p, image).is_err());
    check_settled(&cloud);

    // A resize failing after its step ran is reverted.
    cloud.server_action(&p, id, ServerAction::PowerOff).await.unwrap();
    settle(&cloud).await;
    let target = FaultTarget::Action { command: Command::ChangeServerType, step: Some(1) };
    cloud.fault_add(target, 1, "boom", "injected").await.unwrap();
    let r = cloud
        .server_action(&p, id, ServerAction::ChangeType { server_type: Ref::Name("cx42".into()), upgrade_disk: true })
        .await;
    // Step 1 does not exist (a change of type has one step), so the fault never fires.
    settle(&cloud).await;
    assert_eq!(cloud.action_get(&p, r.unwrap().action.id).unwrap().status, ActionStatus::Success);
    assert_eq!(cloud.server_get(&p, id).unwrap().server_type.unwrap().name, "cx42");
    cloud.fault_clear().await.unwrap();
}

/// Runs a scenario once, then restarts from what was durable after every single commit
/// and checks that recovery always ends with every action finished and the records
/// consistent: the promise "nothing acknowledged is lost; no action is left running".
#[tokio::test]
async fn recovery_from_a_crash_after_any_commit_is_clean() {
    let (cloud, p, store) = instant().await;
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(cloud.server_create(&p, create_req(&format!("c{i}"))).await.unwrap().server.server.id);
    }
    settle(&cloud).await;
    cloud
        .server_action(&p, ids[0], ServerAction::Rebuild { image: Ref::Name("ubuntu-22.04".into()), user_data: None })
        .await
        .unwrap();
    cloud
        .server_action(
            &p,
            ids[1],
            ServerAction::CreateImage { kind: ImageType::Snapshot, description: None, labels: Default::default() },
        )
        .await
        .unwrap();
    cloud.server_delete(&p, ids[2]).await.unwrap();
    settle(&cloud).await;
    let total = store.batches();
    assert!(total > 20, "the scenario commits many batches ({total})");
    for n in 1..=total {
        let reopened = store.reopen_at(n);
        let before = reopened.snapshot();
        let cloud =
            Cloud::open(reopened, Arc::new(SimDriver::new(SimTiming::Instant)), Config::default()).await.unwrap();
        cloud.start().await.unwrap();
        settle(&cloud).await;
        check_settled(&cloud);
        // Every server that existed at the crash still exists unless its deletion was
        // already under way.
        cloud.read(|s| {
            for r in &before.records {
                if let crate::store::Record::Server(srv) = r {
                    let deleting = before.records.iter().any(|r| matches!(r, crate::store::Record::Action(a)
                        if a.command == Command::DeleteServer && a.resources.contains(&srv.id.as_ref())));
                    let failed_create = before.records.iter().any(|r| matches!(r, crate::store::Record::Action(a)
                        if a.command == Command::CreateServer && a.status == ActionStatus::Error && a.resources.contains(&srv.id.as_ref())));
                    assert!(deleting || failed_create || s.servers.contains_key(&srv.id.0), "after commit {n}: server {} lost", srv.id);
                }
            }
        });
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_creates_never_share_an_address() {
    let store = MemoryStore::new();
    let config = Config { ipv4_pool: "192.0.2.0/24".parse().unwrap(), ..Config::default() };
    let cloud = Cloud::open(store, Arc::new(SimDriver::new(SimTiming::Instant)), config).await.unwrap();
    cloud.start().await.unwrap();
    let issued = cloud.token_create("p", "t", Access::ReadWrite).await.unwrap();
    let p = cloud.authenticate(&issued.secret).unwrap();
    let tasks: Vec<_> = (0..300)
        .map(|i| {
            let cloud = cloud.clone();
            tokio::spawn(async move { cloud.server_create(&p, create_req(&format!("n{i}"))).await })
        })
        .collect();
    let mut ok = 0;
    let mut exhausted = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(Error::Unavailable { .. }) => exhausted += 1,
            Err(e) => panic!("{e}"),
        }
    }
    // A /24 has 253 usable addresses; the rest are refused, none handed out twice.
    assert_eq!((ok, exhausted), (253, 47));
    settle(&cloud).await;
    check_settled(&cloud);
    let servers = cloud.server_list(&p, &ServerFilter::default());
    let v4: HashSet<_> = servers.iter().filter_map(|s| s.ipv4.as_ref().map(|i| i.address.clone())).collect();
    assert_eq!(v4.len(), 253);
}

#[tokio::test]
async fn another_projects_resources_are_not_found() {
    let (cloud, p, _) = instant().await;
    let created = cloud.server_create(&p, create_req("mine")).await.unwrap();
    settle(&cloud).await;
    let other = cloud.token_create("other", "t", Access::ReadWrite).await.unwrap();
    let q = cloud.authenticate(&other.secret).unwrap();
    let id = created.server.server.id;
    assert!(matches!(cloud.server_get(&q, id), Err(Error::NotFound { .. })));
    assert!(matches!(cloud.server_delete(&q, id).await, Err(Error::NotFound { .. })));
    assert!(matches!(cloud.server_action(&q, id, ServerAction::PowerOff).await, Err(Error::NotFound { .. })));
    assert!(matches!(cloud.action_get(&q, created.action.id), Err(Error::NotFound { .. })));
    assert!(cloud.server_list(&q, &ServerFilter::default()).is_empty());
    // Same name in another project is fine.
    cloud.server_create(&q, create_req("mine")).await.unwrap();
    // Read-only tokens cannot write.
    let ro = cloud.token_create("p", "ro", Access::Read).await.unwrap();
    let r = cloud.authenticate(&ro.secret).unwrap();
    assert!(cloud.server_get(&r, id).is_ok());
    assert!(matches!(cloud.server_delete(&r, id).await, Err(Error::Forbidden { .. })));
    // Revoked tokens stop working at once.
    cloud.token_revoke(ro.token.id).await.unwrap();
    assert!(matches!(cloud.authenticate(&ro.secret), Err(Error::Unauthenticated)));
}

#[tokio::test]
async fn backups_are_taken_per_window_and_rotated() {
    let (cloud, p, _) = instant().await;
    let id = cloud.server_create(&p, create_req("b")).await.unwrap().server.server.id;
    settle(&cloud).await;
    cloud.server_action(&p, id, ServerAction::EnableBackup { window: None }).await.unwrap();
    assert_eq!(cloud.sim_advance(24).await.unwrap(), 1);
    settle(&cloud).await;
    assert_eq!(cloud.sim_advance(24 * 10).await.unwrap(), 7);
    settle(&cloud).await;
    let filter = crate::ops::images::ImageFilter { kinds: vec![ImageType::Backup], ..Default::default() };
    let backups = cloud.image_list(&p, &filter);
    assert_eq!(backups.len(), 7, "the newest seven are kept");
    assert!(backups.iter().all(|b| b.image.bound_to == Some(id) && b.image.status == ImageStatus::Available));
    // A backup boots a new server.
    let mut req = create_req("from-backup");
    req.image = Ref::Id(backups[0].image.id.0);
    cloud.server_create(&p, req).await.unwrap();
    settle(&cloud).await;
    check_settled(&cloud);
    cloud.server_action(&p, id, ServerAction::DisableBackup).await.unwrap();
    assert!(cloud.image_list(&p, &filter).is_empty(), "disabling backups deletes them");
}

/// Every action with hypervisor steps, failing at each of its steps in turn, ends in
/// `error`, unwinds what ran, unlocks, and leaves records that agree with the hypervisor
/// (power state, rescue, ISO, hardware): the "failure can unwind at any step" promise.
#[tokio::test]
async fn every_step_of_every_action_can_fail_and_unwind() {
    // (command, server powered on first?, the operation, number of steps)
    type Op = fn() -> ServerAction;
    let cases: Vec<(Command, bool, Op, usize)> = vec![
        (Command::StartServer, false, || ServerAction::PowerOn, 1),
        (Command::StopServer, true, || ServerAction::PowerOff, 1),
        (Command::ShutdownServer, true, || ServerAction::Shutdown, 1),
        (Command::RebootServer, true, || ServerAction::Reboot, 1),
        (Command::ResetServer, true, || ServerAction::Reset, 1),
        (Command::ResetPassword, true, || ServerAction::ResetPassword, 1),
        (Command::EnableRescue, true, || ServerAction::EnableRescue { kind: "linux64".into(), ssh_keys: vec![] }, 1),
        (Command::AttachIso, true, || ServerAction::AttachIso { iso: Ref::Name("virtio-win-0.1.248.iso".into()) }, 1),
        (
            Command::CreateImage,
            true,
            || ServerAction::CreateImage { kind: ImageType::Snapshot, description: None, labels: Default::default() },
            1,
        ),
        (
            Command::RebuildServer,
            true,
            || ServerAction::Rebuild { image: Ref::Name("ubuntu-24.04".into()), user_data: None },
            3,
        ),
        (
            Command::ChangeServerType,
            false,
            || ServerAction::ChangeType { server_type: Ref::Name("cx42".into()), upgrade_disk: true },
            1,
        ),
    ];
    for (command, running, op, steps) in cases {
        for step in 0..steps {
            let driver = Arc::new(SimDriver::new(SimTiming::Instant));
            let (cloud, p) = cloud_on(MemoryStore::new(), driver.clone()).await;
            let id = cloud.server_create(&p, create_req("x")).await.unwrap().server.server.id;
            settle(&cloud).await;
            if !running {
                cloud.server_action(&p, id, ServerAction::PowerOff).await.unwrap();
                settle(&cloud).await;
            }
            cloud.fault_add(FaultTarget::Action { command, step: Some(step) }, 1, "boom", "injected").await.unwrap();
            let action = cloud.server_action(&p, id, op()).await.unwrap().action;
            settle(&cloud).await;
            let what = format!("{command:?} failing at step {step}");
            let action = cloud.action_get(&p, action.id).unwrap();
            assert_eq!(action.status, ActionStatus::Error, "{what}");
            check_settled(&cloud);
            let view = cloud.server_get(&p, id).unwrap();
            let vm = driver.vm(id.0).expect("the VM still exists");
            assert_eq!(view.server.status, ServerStatus::settled(vm.power), "{what}");
            assert_eq!(view.server.rescue_enabled, vm.rescue.is_some(), "{what}: rescue");
            assert_eq!(view.iso.map(|i| i.name.clone()), vm.iso, "{what}: iso");
            assert_eq!(
                (view.server.hardware.cores, view.server.hardware.memory_mb),
                (vm.spec.hardware.cores, vm.spec.hardware.memory_mb),
                "{what}: hardware"
            );
            assert_eq!(view.server_type.map(|t| t.name.clone()).as_deref(), Some("cx22"), "{what}: type reverted");
        }
    }

    // Deleting, failing at either step, leaves the server (running again after the stop
    // is undone); creating, failing, leaves nothing.
    for step in 0..2 {
        let driver = Arc::new(SimDriver::new(SimTiming::Instant));
        let (cloud, p) = cloud_on(MemoryStore::new(), driver.clone()).await;
        let id = cloud.server_create(&p, create_req("d")).await.unwrap().server.server.id;
        settle(&cloud).await;
        cloud
            .fault_add(FaultTarget::Action { command: Command::DeleteServer, step: Some(step) }, 1, "boom", "x")
            .await
            .unwrap();
        let action = cloud.server_delete(&p, id).await.unwrap();
        settle(&cloud).await;
        assert_eq!(cloud.action_get(&p, action.id).unwrap().status, ActionStatus::Error);
        assert_eq!(cloud.server_get(&p, id).unwrap().server.status, ServerStatus::Running, "delete failing at {step}");
        assert_eq!(driver.vm(id.0).map(|vm| vm.power), Some(PowerState::Running));
        check_settled(&cloud);
    }
    let driver = Arc::new(SimDriver::new(SimTiming::Instant));
    let (cloud, p) = cloud_on(MemoryStore::new(), driver.clone()).await;
    cloud
        .fault_add(FaultTarget::Action { command: Command::CreateServer, step: Some(0) }, 1, "boom", "x")
        .await
        .unwrap();
    let id = cloud.server_create(&p, create_req("c")).await.unwrap().server.server.id;
    settle(&cloud).await;
    assert!(cloud.server_get(&p, id).is_err());
    assert!(driver.vm(id.0).is_none(), "no VM is left behind");
    check_settled(&cloud);
}

/// A restart between a failed create and the failing of the start that waited on it
/// fails the start instead of running it against a server that no longer exists.
#[tokio::test]
async fn a_resumed_action_whose_predecessor_failed_fails_too() {
    let (cloud, p, store) = instant().await;
    cloud.fault_add(FaultTarget::Action { command: Command::CreateServer, step: None }, 1, "boom", "x").await.unwrap();
    let created = cloud.server_create(&p, create_req("gone")).await.unwrap();
    settle(&cloud).await;
    let start = created.next_actions[0].id;
    // Find the commit at which the create had failed but the start was still running.
    let n = (1..=store.batches())
        .find(|n| {
            let snap = store.snapshot_at(*n);
            let status = |id: crate::ids::ActionId| {
                snap.records.iter().find_map(|r| match r {
                    crate::store::Record::Action(a) if a.id == id => Some(a.status),
                    _ => None,
                })
            };
            status(created.action.id) == Some(ActionStatus::Error) && status(start) == Some(ActionStatus::Running)
        })
        .expect("such a commit point exists");
    let driver = Arc::new(SimDriver::new(SimTiming::Instant));
    let (cloud, _) = cloud_on(store.reopen_at(n), driver).await;
    settle(&cloud).await;
    let start = cloud.read(|s| s.actions.get(&start.0).cloned()).unwrap();
    assert_eq!(start.status, ActionStatus::Error);
    assert_eq!(start.error.as_ref().map(|e| e.code.as_str()), Some("action_failed"), "not run: {start:?}");
    check_settled(&cloud);
}
