//! The engine's promises, tested through `Cloud` on an in-memory store: actions run to
//! the end, hold their locks while they run, unwind on failure, survive a crash at any
//! commit point, and behave under the failures real hypervisors have.
//!
//! `generic.rs` walks the registry of action kinds, so every kind gets the same tests;
//! `failures.rs` covers timeouts, retries, stuck actions, panics and the pool;
//! this module holds the fixtures and the tests of particular behaviours.

mod failures;
mod generic;
mod identities;
mod load_balancers;
mod testdriver;

use crate::data::State;
use crate::model::*;
use crate::ops::actions::ActionFilter;
use crate::ops::server_actions::ServerAction;
use crate::ops::servers::{ServerCreate, ServerFilter};
use crate::ops::Ref;
use crate::store::memory::MemoryStore;
use crate::{Cloud, Config, Error};
use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;
use std::time::Duration;
use stratus_compute::sim::{SimDriver, SimTiming};
use stratus_compute::Driver;

pub(super) async fn cloud_on(store: Arc<MemoryStore>, driver: Arc<dyn Driver>, config: Config) -> (Cloud, Principal) {
    let cloud = Cloud::open(store, driver, config).await.expect("open");
    cloud.start().await.expect("start");
    let issued = cloud.token_create("p", "t", Access::ReadWrite).await.expect("token");
    let p = cloud.authenticate(&issued.secret).expect("auth");
    (cloud, p)
}

/// A cloud on the instant simulator, with its store and driver.
pub(super) async fn instant() -> (Cloud, Principal, Arc<MemoryStore>, Arc<SimDriver>) {
    let store = MemoryStore::new();
    let sim = Arc::new(SimDriver::new(SimTiming::Instant));
    let (cloud, p) = cloud_on(store.clone(), sim.clone(), Config::default()).await;
    (cloud, p, store, sim)
}

pub(super) fn create_req(name: &str) -> ServerCreate {
    ServerCreate::new(name, Ref::Name("cx22".into()), Ref::Name("debian-12".into()))
}

/// Waits until no action of any project is running.
pub(super) async fn settle(cloud: &Cloud) {
    for _ in 0..5000 {
        if cloud.read(|s| s.running_actions().next().is_none()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    panic!(
        "actions still running: {:?}",
        cloud.read(|s| s.running_actions().map(|a| a.kind.clone()).collect::<Vec<_>>())
    );
}

/// Invariants that hold whenever no action runs, and the records agree with the
/// simulator about what exists and how.
pub(super) fn check_settled(cloud: &Cloud, sim: &SimDriver) {
    cloud.read(|s| {
        assert!(s.no_locks(), "locks left while nothing runs");
        for a in s.actions.all() {
            assert!(a.is_finished(), "{a:?}");
            assert!(a.finished.is_some() && a.run.is_none(), "{a:?}");
            if a.status == ActionStatus::Success {
                assert_eq!(a.progress, 100);
            }
        }
        check_records(s);
        check_agreement(s, sim);
    });
}

/// What must hold between records at any settled moment.
pub(super) fn check_records(s: &State) {
    for srv in s.servers.all() {
        assert!(
            matches!(srv.status, ServerStatus::Running | ServerStatus::Off),
            "server {} is {:?}",
            srv.id,
            srv.status
        );
        assert!(
            s.nics_of(srv.id.as_ref()).iter().any(|n| n.network.is_none()),
            "server {} has no public interface",
            srv.id
        );
    }
    let mut seen = HashSet::new();
    for ip in s.ips.all() {
        assert!(seen.insert(ip.address.clone()), "address {} twice", ip.address);
        if let Some(server) = ip.server() {
            assert!(s.servers.contains(server.0), "IP {} assigned to missing server {server}", ip.address);
        }
        if let Some(Attachee::LoadBalancer(lb)) = ip.assignee {
            assert!(s.load_balancers.contains(lb.0), "IP {} of missing load balancer {lb}", ip.address);
        }
    }
    for lb in s.load_balancers.all() {
        for t in &lb.targets {
            if let LbTargetKind::Server(id) = t.kind {
                assert!(s.servers.contains(id.0), "load balancer {} targets missing server {id}", lb.id);
            }
        }
        let certificates = lb.services.iter().filter_map(|sv| sv.http.as_ref()).flat_map(|h| &h.certificates);
        for c in certificates {
            assert!(s.certificates.contains(c.0), "load balancer {} uses missing certificate {c}", lb.id);
        }
        assert!(s.nics_of(lb.id.as_ref()).len() <= 1, "load balancer {} in several networks", lb.id);
    }
    for cert in s.certificates.all() {
        if let Some(status) = &cert.status {
            assert_ne!(status.issuance, IssuanceStatus::Pending, "certificate {} left pending", cert.id);
            assert_eq!(status.issuance == IssuanceStatus::Failed, status.error.is_some(), "certificate {}", cert.id);
        }
    }
    for nic in s.nics.all() {
        let owner_exists = match nic.owner {
            Attachee::Server(id) => s.servers.contains(id.0),
            Attachee::LoadBalancer(id) => s.load_balancers.contains(id.0),
        };
        assert!(owner_exists, "interface {} of a missing owner", nic.id);
        if let Some(network) = nic.network {
            assert!(s.networks.contains(network.0), "interface {} in a missing network", nic.id);
        }
    }
    for v in s.volumes.all() {
        if let Some(server) = v.server {
            assert!(s.servers.contains(server.0), "volume {} attached to missing server {server}", v.id);
        }
        assert_eq!(v.status, VolumeStatus::Available, "volume {} left {:?}", v.id, v.status);
    }
    for img in s.images.all() {
        assert_eq!(img.status, ImageStatus::Available, "image {} left {:?}", img.id, img.status);
    }
    for fw in s.firewalls.all() {
        for t in &fw.applied_to {
            if let FirewallTarget::Server(id) = t {
                assert!(s.servers.contains(id.0), "firewall {} applied to missing server {id}", fw.id);
            }
        }
    }
}

/// The records and the simulator agree: the same VMs, in the power state the status
/// says, with the same volumes and private interfaces, rescue and ISO.
pub(super) fn check_agreement(s: &State, sim: &SimDriver) {
    let with_vm: Vec<i64> = s.servers.all().filter(|srv| srv.has_vm()).map(|srv| srv.id.0).collect();
    assert_eq!(with_vm, sim.vm_ids(), "servers with a VM vs the simulator's VMs");
    for srv in s.servers.all() {
        let Some(vm) = sim.vm(srv.id.0) else { continue };
        assert_eq!(Some(vm.power), srv.status.believed_power(), "server {} is {:?}", srv.id, srv.status);
        assert_eq!(srv.rescue_enabled, vm.rescue.is_some(), "server {}: rescue armed", srv.id);
        let iso = srv.iso.and_then(|i| s.isos.get(i.0)).map(|i| i.name.clone());
        assert_eq!(iso, vm.iso, "server {}: iso", srv.id);
        assert_eq!(
            (srv.hardware.cores, srv.hardware.memory_mb),
            (vm.spec.hardware.cores, vm.spec.hardware.memory_mb),
            "server {}: hardware",
            srv.id
        );
        let volumes: BTreeSet<i64> = s.volumes_of(srv.id).map(|v| v.id.0).collect();
        assert_eq!(volumes, vm.volumes, "server {}: volumes", srv.id);
        let private: BTreeSet<i64> =
            s.nics_of(srv.id.as_ref()).into_iter().filter(|n| n.network.is_some()).map(|n| n.id.0).collect();
        let plugged: BTreeSet<i64> = vm.nics.values().filter(|n| n.network.is_some()).map(|n| n.id).collect();
        assert_eq!(private, plugged, "server {}: private interfaces", srv.id);
        assert_eq!(s.firewall_rules_of(srv), vm.firewall, "server {}: firewall rules", srv.id);
    }
    let (volumes, networks, lbs) = sim.resource_ids();
    let records = |ids: Vec<i64>| ids;
    assert_eq!(records(s.volumes.all().map(|v| v.id.0).collect()), volumes, "volumes vs the simulator's");
    assert_eq!(records(s.networks.all().map(|n| n.id.0).collect()), networks, "networks vs the simulator's");
    assert_eq!(records(s.load_balancers.all().map(|l| l.id.0).collect()), lbs, "load balancers vs the simulator's");
    for v in s.volumes.all() {
        assert_eq!(sim.volume(v.id.0).and_then(|sv| sv.attached_to), v.server.map(|s| s.0), "volume {}", v.id);
    }
    for lb in s.load_balancers.all() {
        assert_eq!(
            sim.load_balancer(lb.id.0),
            Some(s.load_balancer_spec(lb)),
            "load balancer {}: configuration",
            lb.id
        );
    }
}

#[tokio::test]
async fn create_runs_create_then_start_and_settles_running() {
    let (cloud, p, _, sim) = instant().await;
    let created = cloud.server_create(&p, create_req("web")).await.unwrap();
    assert_eq!(created.action.kind, "server_create");
    assert_eq!(created.next_actions.len(), 1);
    assert_eq!(created.next_actions[0].kind, "server_power_on");
    assert!(created.root_password.is_some(), "no SSH keys: a root password is shown");
    assert_eq!(created.server.server.status, ServerStatus::Initializing, "the answer shows the record step's effect");
    settle(&cloud).await;
    let srv = cloud.server_get(&p, created.server.server.id).unwrap();
    assert_eq!(srv.server.status, ServerStatus::Running);
    assert!(srv.ipv4.is_some() && srv.ipv6.is_some());
    check_settled(&cloud, &sim);
    let action = cloud.action_get(&p, created.action.id).unwrap();
    assert!(action.run.is_none(), "a finished action keeps no plan (nor the root password)");
}

#[tokio::test]
async fn the_root_password_is_forgotten_once_the_vm_is_built() {
    let driver = testdriver::TestDriver::new();
    driver.gate("start");
    let (cloud, p) = cloud_on(MemoryStore::new(), driver.clone(), Config::default()).await;
    let created = cloud.server_create(&p, create_req("web")).await.unwrap();
    assert!(created.root_password.is_some());
    let plan_of = |id| cloud.read(|s| s.actions.get(id).and_then(|a| a.run.clone()));
    // The create finishes; the start waits at the gate.
    for _ in 0..1000 {
        if cloud.action_get(&p, created.action.id).unwrap().is_finished() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert!(plan_of(created.action.id.0).is_none());
    let start = created.next_actions[0].id;
    let run = plan_of(start.0).expect("the start is running");
    assert!(!run.params.to_string().contains("password"), "{:?}", run.params);
    driver.open();
    settle(&cloud).await;
}

#[tokio::test]
async fn every_server_action_reaches_its_end_state() {
    let (cloud, p, _, sim) = instant().await;
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
        (ServerAction::EnableRescue { ssh_keys: vec![] }, ServerStatus::Running),
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
        (ServerAction::DisableBackup { delete_backups: true }, ServerStatus::Running),
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
        check_settled(&cloud, &sim);
    }
    let srv = cloud.server_get(&p, id).unwrap();
    assert_eq!(srv.server_type.unwrap().name, "cx32");
    assert_eq!(srv.server.hardware.disks[0].size_gb, 40, "disk kept without upgrade_disk");
    assert_eq!(srv.image.unwrap().name.as_deref(), Some("ubuntu-24.04"));
    assert!(srv.server.protection.delete && srv.server.protection.rebuild);
    assert!(matches!(cloud.server_delete(&p, id).await, Err(Error::Protected { .. })));
    let rebuild = ServerAction::Rebuild { image: Ref::Name("debian-12".into()), user_data: None };
    assert!(matches!(cloud.server_action(&p, id, rebuild).await, Err(Error::Protected { .. })));
}

/// As on Hetzner, the rescue system is disabled by the boot that uses it; a power-on of a
/// running server boots nothing and leaves it armed.
#[tokio::test]
async fn the_boot_into_the_rescue_system_disarms_it() {
    let (cloud, p, _, sim) = instant().await;
    let id = cloud.server_create(&p, create_req("r")).await.unwrap().server.server.id;
    settle(&cloud).await;
    let rescue_enabled = |cloud: &Cloud| cloud.server_get(&p, id).unwrap().server.rescue_enabled;
    for boot in [ServerAction::Reset, ServerAction::Reboot] {
        cloud.server_action(&p, id, ServerAction::EnableRescue { ssh_keys: vec![] }).await.unwrap();
        settle(&cloud).await;
        cloud.server_action(&p, id, ServerAction::PowerOn).await.unwrap();
        settle(&cloud).await;
        assert!(rescue_enabled(&cloud), "a power-on of a running server keeps it armed");
        let what = format!("{boot:?}");
        cloud.server_action(&p, id, boot).await.unwrap();
        settle(&cloud).await;
        assert!(!rescue_enabled(&cloud), "{what} booted the rescue system: disarmed");
        assert!(sim.vm(id.0).unwrap().in_rescue, "{what}");
        check_settled(&cloud, &sim);
        cloud.server_action(&p, id, ServerAction::Reboot).await.unwrap();
        settle(&cloud).await;
        assert!(!sim.vm(id.0).unwrap().in_rescue, "the next boot is the server's own system");
    }
    cloud.server_action(&p, id, ServerAction::EnableRescue { ssh_keys: vec![] }).await.unwrap();
    settle(&cloud).await;
    cloud.server_action(&p, id, ServerAction::PowerOff).await.unwrap();
    settle(&cloud).await;
    assert!(rescue_enabled(&cloud), "still armed while off");
    cloud.server_action(&p, id, ServerAction::PowerOn).await.unwrap();
    settle(&cloud).await;
    assert!(!rescue_enabled(&cloud) && sim.vm(id.0).unwrap().in_rescue, "a power-on boots the rescue system");
    check_settled(&cloud, &sim);
}

/// As on Hetzner, a rescue system not booted into within an hour is disabled, by the
/// action a user's disable_rescue starts; one booted into is gone already.
#[tokio::test]
async fn an_unused_rescue_system_is_disabled_after_an_hour() {
    let (cloud, p, _, sim) = instant().await;
    let mut ids = Vec::new();
    for name in ["unused", "booted"] {
        let id = cloud.server_create(&p, create_req(name)).await.unwrap().server.server.id;
        settle(&cloud).await;
        cloud.server_action(&p, id, ServerAction::EnableRescue { ssh_keys: vec![] }).await.unwrap();
        settle(&cloud).await;
        ids.push(id);
    }
    cloud.server_action(&p, ids[1], ServerAction::Reset).await.unwrap();
    settle(&cloud).await;
    let rescue_enabled = |id| cloud.server_get(&p, id).unwrap().server.rescue_enabled;
    assert_eq!(cloud.sim_advance(0).await.unwrap().rescues_disabled, 0, "armed just now");
    assert!(rescue_enabled(ids[0]));
    assert_eq!(cloud.sim_advance(1).await.unwrap().rescues_disabled, 1, "only the unused one");
    settle(&cloud).await;
    assert!(!rescue_enabled(ids[0]));
    assert!(sim.vm(ids[0].0).unwrap().rescue.is_none(), "disarmed in the driver too");
    let filter = ActionFilter { resource: Some(ids[0].as_ref()), ..Default::default() };
    let kinds: Vec<String> = cloud.action_list(&p, &filter).iter().map(|a| a.kind.clone()).collect();
    assert!(kinds.iter().any(|k| k == "server_disable_rescue"), "{kinds:?}");
    assert_eq!(cloud.sim_advance(2).await.unwrap().rescues_disabled, 0, "nothing left armed");
    check_settled(&cloud, &sim);
}

#[tokio::test]
async fn a_failed_rebuild_keeps_the_old_image_and_user_data() {
    let (cloud, p, _, sim) = instant().await;
    let mut req = create_req("r");
    req.user_data = Some("#cloud-config\nold: true\n".into());
    let id = cloud.server_create(&p, req).await.unwrap().server.server.id;
    settle(&cloud).await;
    let target =
        FaultTarget::Action { kinds: vec!["server_rebuild".into()], step: Some(StepRef::Name("rebuild_vm".into())) };
    cloud.fault_add(target, 1, "boom", "injected").await.unwrap();
    let op = ServerAction::Rebuild {
        image: Ref::Name("ubuntu-24.04".into()),
        user_data: Some("#cloud-config\nnew: true\n".into()),
    };
    let r = cloud.server_action(&p, id, op).await.unwrap();
    settle(&cloud).await;
    assert_eq!(cloud.action_get(&p, r.action.id).unwrap().status, ActionStatus::Error);
    let srv = cloud.server_get(&p, id).unwrap();
    assert_eq!(srv.image.unwrap().name.as_deref(), Some("debian-12"));
    assert_eq!(srv.server.user_data.as_deref(), Some("#cloud-config\nold: true\n"));
    assert_eq!(srv.server.status, ServerStatus::Running, "the stop is undone");
    check_settled(&cloud, &sim);
}

#[tokio::test]
async fn a_running_action_locks_its_server_and_views_name_it() {
    let driver = testdriver::TestDriver::new();
    driver.gate("create");
    let (cloud, p) = cloud_on(MemoryStore::new(), driver.clone(), Config::default()).await;
    let created = cloud.server_create(&p, create_req("busy")).await.unwrap();
    let id = created.server.server.id;
    let holder = created.server.holder.clone().expect("held");
    assert_eq!(
        (holder.action, holder.kind.as_str(), holder.status),
        (created.action.id, "server_create", ActionStatus::Running)
    );
    for op in [ServerAction::PowerOn, ServerAction::ChangeProtection { delete: Some(true), rebuild: None }] {
        assert!(matches!(cloud.server_action(&p, id, op).await, Err(Error::Locked { .. })));
    }
    assert!(matches!(cloud.server_delete(&p, id).await, Err(Error::Locked { .. })));
    driver.open();
    settle(&cloud).await;
    assert!(cloud.server_get(&p, id).unwrap().holder.is_none());
    cloud.server_action(&p, id, ServerAction::PowerOff).await.unwrap();
    settle(&cloud).await;
    check_settled(&cloud, &driver.sim);
}

#[tokio::test]
async fn progress_follows_driver_steps_and_reports_within_a_step() {
    let timings = stratus_compute::sim::SimTimings {
        create: Duration::from_millis(400),
        progress_interval: Duration::from_millis(100),
        ..stratus_compute::sim::SimTimings::instant()
    };
    let sim = Arc::new(SimDriver::with_timings(timings));
    let (cloud, p) = cloud_on(MemoryStore::new(), sim.clone(), Config::default()).await;
    let mut req = create_req("p");
    req.start_after_create = false;
    let created = cloud.server_create(&p, req).await.unwrap();
    let mut seen = BTreeSet::new();
    for _ in 0..200 {
        let a = cloud.action_get(&p, created.action.id).unwrap();
        seen.insert(a.progress);
        if a.is_finished() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(seen.contains(&100));
    assert!(seen.iter().any(|p| (1..100).contains(p)), "progress moved inside the create step: {seen:?}");
}

/// Runs a scenario once, then restarts from what was durable after every single commit
/// and checks that recovery always ends with every action finished and the records
/// consistent: "nothing acknowledged is lost; no action is left running".
#[tokio::test]
async fn recovery_from_a_crash_after_any_commit_is_clean() {
    let (cloud, p, store, _) = instant().await;
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(cloud.server_create(&p, create_req(&format!("c{i}"))).await.unwrap().server.server.id);
    }
    settle(&cloud).await;
    let rebuild = ServerAction::Rebuild { image: Ref::Name("ubuntu-22.04".into()), user_data: None };
    cloud.server_action(&p, ids[0], rebuild).await.unwrap();
    let snapshot =
        ServerAction::CreateImage { kind: ImageType::Snapshot, description: None, labels: Default::default() };
    cloud.server_action(&p, ids[1], snapshot).await.unwrap();
    cloud.server_delete(&p, ids[2]).await.unwrap();
    settle(&cloud).await;
    let total = store.batches();
    assert!(total >= 15, "the scenario commits many batches ({total})");
    for n in 1..=total {
        let reopened = store.reopen_at(n);
        let before = State::from_snapshot(reopened.snapshot());
        let sim = Arc::new(SimDriver::new(SimTiming::Instant));
        let cloud = Cloud::open(reopened, sim.clone(), Config::default()).await.unwrap();
        cloud.start().await.unwrap();
        settle(&cloud).await;
        check_settled(&cloud, &sim);
        // Every server that existed at the crash still exists unless its deletion was
        // already under way or its create failed.
        cloud.read(|s| {
            for srv in before.servers.all() {
                let on = |kind: &str| before.actions_on(srv.id.as_ref()).any(|a| a.kind == kind && a.is_running());
                assert!(
                    on("server_delete") || on("server_create") || s.servers.contains(srv.id.0),
                    "after commit {n}: server {} lost",
                    srv.id
                );
            }
        });
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_creates_never_share_an_address() {
    let sim = Arc::new(SimDriver::new(SimTiming::Instant));
    let config = Config { ipv4_pool: "192.0.2.0/24".parse().unwrap(), ..Config::default() };
    let (cloud, p) = cloud_on(MemoryStore::new(), sim.clone(), config).await;
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
    check_settled(&cloud, &sim);
    let servers = cloud.server_list(&p, &ServerFilter::default());
    let v4: HashSet<_> = servers.iter().filter_map(|s| s.ipv4.as_ref().map(|i| i.address.clone())).collect();
    assert_eq!(v4.len(), 253);
}

#[tokio::test]
async fn another_projects_resources_are_not_found() {
    let (cloud, p, _, _) = instant().await;
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
    let (cloud, p, _, sim) = instant().await;
    let id = cloud.server_create(&p, create_req("b")).await.unwrap().server.server.id;
    settle(&cloud).await;
    cloud.server_action(&p, id, ServerAction::EnableBackup { window: None }).await.unwrap();
    assert_eq!(cloud.sim_advance(24).await.unwrap().backups_started, 1);
    settle(&cloud).await;
    assert_eq!(cloud.sim_advance(24 * 10).await.unwrap().backups_started, 7);
    settle(&cloud).await;
    let filter = crate::ops::images::ImageFilter { kinds: vec![ImageType::Backup], ..Default::default() };
    let backups = cloud.image_list(&p, &filter);
    assert_eq!(backups.len(), 7, "the newest seven are kept");
    assert!(backups.iter().all(|b| b.image.bound_to == Some(id) && b.image.status == ImageStatus::Available));
    let stored = |sim: &SimDriver| backups.iter().filter(|b| sim.stored_snapshot(b.image.id.0).is_some()).count();
    assert_eq!(stored(&sim), 7, "rotated-out backups' data is removed, kept ones' stays");
    // A backup boots a new server.
    let mut req = create_req("from-backup");
    req.image = Ref::Id(backups[0].image.id.0);
    cloud.server_create(&p, req).await.unwrap();
    settle(&cloud).await;
    check_settled(&cloud, &sim);
    cloud.server_action(&p, id, ServerAction::DisableBackup { delete_backups: true }).await.unwrap();
    settle(&cloud).await;
    assert!(cloud.image_list(&p, &filter).is_empty(), "disabling backups (as Hetzner does) deletes them");
    assert_eq!(stored(&sim), 0, "and their data");
    cloud.server_action(&p, id, ServerAction::EnableBackup { window: Some("02-06".into()) }).await.unwrap();
    assert_eq!(cloud.sim_advance(48).await.unwrap().backups_started, 2);
    settle(&cloud).await;
    cloud.server_action(&p, id, ServerAction::DisableBackup { delete_backups: false }).await.unwrap();
    settle(&cloud).await;
    assert_eq!(cloud.image_list(&p, &filter).len(), 2, "a dialect may keep them");
}

/// A restart between a failed create and the failing of the start that waited on it
/// fails the start instead of running it against a server that no longer exists.
#[tokio::test]
async fn a_resumed_action_whose_predecessor_failed_fails_too() {
    let (cloud, p, store, _) = instant().await;
    let target = FaultTarget::Action { kinds: vec!["server_create".into()], step: None };
    cloud.fault_add(target, 1, "boom", "x").await.unwrap();
    let created = cloud.server_create(&p, create_req("gone")).await.unwrap();
    settle(&cloud).await;
    let start = created.next_actions[0].id;
    // Find the commit at which the create had failed but the start was still running.
    let n = (1..=store.batches())
        .find(|n| {
            let s = State::from_snapshot(store.snapshot_at(*n));
            let status = |id: crate::ids::ActionId| s.actions.get(id.0).map(|a| a.status);
            status(created.action.id) == Some(ActionStatus::Error) && status(start) == Some(ActionStatus::Running)
        })
        .expect("such a commit point exists");
    let sim = Arc::new(SimDriver::new(SimTiming::Instant));
    let (cloud, _) = cloud_on(store.reopen_at(n), sim.clone(), Config::default()).await;
    settle(&cloud).await;
    let start = cloud.read(|s| s.actions.get(start.0).cloned()).unwrap();
    assert_eq!(start.status, ActionStatus::Error);
    assert_eq!(start.error.as_ref().map(|e| e.code.as_str()), Some("action_failed"), "not run: {start:?}");
    check_settled(&cloud, &sim);
}

/// A create whose first step fails fails inside the request: the start chained to it in
/// the same transaction fails with it instead of waiting forever.
#[tokio::test]
async fn a_start_chained_to_a_create_that_failed_at_once_fails_too() {
    let (cloud, p, _, sim) = instant().await;
    let target = FaultTarget::Action { kinds: vec!["server_create".into()], step: Some(StepRef::Index(0)) };
    cloud.fault_add(target, 1, "boom", "x").await.unwrap();
    assert!(matches!(cloud.server_create(&p, create_req("never")).await, Err(Error::Unavailable { .. })));
    settle(&cloud).await;
    let actions = cloud.action_list(&p, &Default::default());
    let start = actions.iter().find(|a| a.kind == "server_power_on").expect("the start is kept for the record");
    assert_eq!(start.status, ActionStatus::Error);
    assert_eq!(start.error.as_ref().map(|e| e.code.as_str()), Some("action_failed"));
    check_settled(&cloud, &sim);
}

#[tokio::test]
async fn old_actions_are_swept_and_running_ones_kept() {
    let config = Config { action_retention: Duration::from_secs(3600), ..Config::default() };
    let sim = Arc::new(SimDriver::new(SimTiming::Instant));
    let (cloud, p) = cloud_on(MemoryStore::new(), sim.clone(), config).await;
    let id = cloud.server_create(&p, create_req("old")).await.unwrap().server.server.id;
    settle(&cloud).await;
    // Age every finished action by two hours.
    cloud
        .write(|tx| {
            let aged: Vec<Action> = tx
                .actions
                .all()
                .map(|a| Action {
                    started: a.started - chrono::Duration::hours(2),
                    finished: a.finished.map(|f| f - chrono::Duration::hours(2)),
                    ..Action::clone(a)
                })
                .collect();
            for a in aged {
                tx.put(crate::store::Record::Action(Arc::new(a)));
            }
            Ok(())
        })
        .await
        .unwrap();
    let fresh = cloud.server_action(&p, id, ServerAction::Reboot).await.unwrap().action.id;
    settle(&cloud).await;
    assert_eq!(cloud.sweep_actions().await.unwrap(), 2, "the create and the start");
    let left: Vec<_> = cloud.read(|s| s.actions.all().map(|a| a.id).collect());
    assert_eq!(left, [fresh]);
    assert!(cloud.read(|s| s.actions_on(id.as_ref()).count()) == 1, "the per-resource index follows");
}
