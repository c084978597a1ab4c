//! Failures real hypervisors have: transient errors, refusals, hangs, panics, undos
//! that fail; and the bounded pool, plan versions and steps resumed after a restart.

use super::testdriver::{Misbehave, TestDriver};
use super::*;
use crate::ids::ActionId;
use crate::store::Record;
use stratus_compute::sim::SimTimings;

async fn running_server(cloud: &Cloud, p: &Principal) -> crate::ids::ServerId {
    running_server_named(cloud, p, "s").await
}

async fn running_server_named(cloud: &Cloud, p: &Principal, name: &str) -> crate::ids::ServerId {
    let id = cloud.server_create(p, create_req(name)).await.unwrap().server.server.id;
    settle(cloud).await;
    id
}

#[tokio::test]
async fn transient_driver_errors_are_retried_until_the_step_succeeds() {
    let driver = TestDriver::new();
    let (cloud, p) = cloud_on(MemoryStore::new(), driver.clone(), Config::default()).await;
    let id = running_server(&cloud, &p).await;
    driver.fail("reboot", Misbehave::Transient, 3);
    let a = cloud.server_action(&p, id, ServerAction::Reboot).await.unwrap().action;
    settle(&cloud).await;
    assert_eq!(cloud.action_get(&p, a.id).unwrap().status, ActionStatus::Success);
    assert_eq!(driver.calls("reboot"), 4, "three failures, then the call that worked");
    check_settled(&cloud, &driver.sim);
}

#[tokio::test]
async fn a_refusal_is_not_retried_and_the_action_unwinds() {
    let driver = TestDriver::new();
    let (cloud, p) = cloud_on(MemoryStore::new(), driver.clone(), Config::default()).await;
    let id = running_server(&cloud, &p).await;
    driver.fail("rebuild", Misbehave::Permanent, 1);
    let op = ServerAction::Rebuild { image: Ref::Name("ubuntu-24.04".into()), user_data: None };
    let a = cloud.server_action(&p, id, op).await.unwrap().action;
    settle(&cloud).await;
    let a = cloud.action_get(&p, a.id).unwrap();
    assert_eq!((a.status, a.error.as_ref().map(|e| e.code.as_str())), (ActionStatus::Error, Some("host_broken")));
    assert_eq!(driver.calls("rebuild"), 1);
    assert_eq!(cloud.server_get(&p, id).unwrap().server.status, ServerStatus::Running, "the stop was undone");
    check_settled(&cloud, &driver.sim);
}

#[tokio::test(start_paused = true)]
async fn a_step_that_hangs_times_out_and_unwinds() {
    let driver = TestDriver::new();
    let (cloud, p) = cloud_on(MemoryStore::new(), driver.clone(), Config::default()).await;
    let id = running_server(&cloud, &p).await;
    driver.fail("set_iso", Misbehave::Hang, 1);
    let op = ServerAction::AttachIso { iso: Ref::Name("virtio-win-0.1.248.iso".into()) };
    let a = cloud.server_action(&p, id, op).await.unwrap().action;
    // The paused clock jumps to the step's deadline once nothing else is due.
    tokio::time::sleep(crate::actions::STEP_TIMEOUT + Duration::from_secs(1)).await;
    settle(&cloud).await;
    let a = cloud.action_get(&p, a.id).unwrap();
    assert_eq!((a.status, a.error.as_ref().map(|e| e.code.as_str())), (ActionStatus::Error, Some("timeout")));
    assert!(cloud.server_get(&p, id).unwrap().iso.is_none());
    check_settled(&cloud, &driver.sim);
}

#[tokio::test]
async fn a_panicking_driver_call_fails_its_action_and_nothing_else() {
    let driver = TestDriver::new();
    let (cloud, p) = cloud_on(MemoryStore::new(), driver.clone(), Config::default()).await;
    let id = running_server(&cloud, &p).await;
    driver.fail("stop", Misbehave::Panic, 1);
    let a = cloud.server_action(&p, id, ServerAction::PowerOff).await.unwrap().action;
    settle(&cloud).await;
    let a = cloud.action_get(&p, a.id).unwrap();
    assert_eq!((a.status, a.error.as_ref().map(|e| e.code.as_str())), (ActionStatus::Error, Some("internal_error")));
    // The engine goes on.
    let b = cloud.server_action(&p, id, ServerAction::PowerOff).await.unwrap().action;
    settle(&cloud).await;
    assert_eq!(cloud.action_get(&p, b.id).unwrap().status, ActionStatus::Success);
    check_settled(&cloud, &driver.sim);
}

#[tokio::test]
async fn a_panicking_operation_changes_nothing_and_poisons_nothing() {
    let (cloud, p, _, _) = instant().await;
    let before = cloud.read(|s| s.next_id);
    let result: crate::Result<()> = cloud
        .write(|tx| {
            tx.next_id();
            panic!("a bug in an operation");
        })
        .await;
    assert!(matches!(result, Err(Error::Internal(_))));
    assert_eq!(cloud.read(|s| s.next_id), before, "the transaction was undone");
    cloud.server_create(&p, create_req("after")).await.expect("the state lock still works");
}

#[tokio::test]
async fn an_undo_that_fails_leaves_the_action_stuck_until_an_operator_acts() {
    let driver = TestDriver::new();
    let (cloud, p) = cloud_on(MemoryStore::new(), driver.clone(), Config::default()).await;
    let id = running_server(&cloud, &p).await;
    // The delete stops the VM, then fails to destroy it; undoing the stop (a start)
    // fails too: the server must not be left looking fine.
    driver.fail("delete", Misbehave::Permanent, 1);
    driver.fail("start", Misbehave::Permanent, 1);
    let a = cloud.server_delete(&p, id).await.unwrap();
    settle(&cloud).await;
    let stuck = cloud.action_get(&p, a.id).unwrap();
    assert_eq!(stuck.status, ActionStatus::Stuck, "{stuck:?}");
    assert!(stuck.error.as_ref().unwrap().message.contains("undoing it failed too"), "{stuck:?}");
    let view = cloud.server_get(&p, id).unwrap();
    assert_eq!(view.server.status, ServerStatus::Unknown);
    assert_eq!(view.holder.as_ref().map(|h| h.status), Some(ActionStatus::Stuck), "a stuck action holds its server");
    assert!(matches!(cloud.server_action(&p, id, ServerAction::PowerOn).await, Err(Error::Locked { .. })));
    assert_eq!(cloud.action_stuck_list().len(), 1);

    // The operator fixed the host: retrying the undo brings the server back.
    let revived = cloud.action_retry(a.id).await.unwrap();
    assert_eq!(revived.status, ActionStatus::Running);
    settle(&cloud).await;
    let done = cloud.action_get(&p, a.id).unwrap();
    assert_eq!((done.status, done.error.as_ref().map(|e| e.code.as_str())), (ActionStatus::Error, Some("host_broken")));
    assert_eq!(cloud.server_get(&p, id).unwrap().server.status, ServerStatus::Running);
    assert!(cloud.action_stuck_list().is_empty());
    check_settled(&cloud, &driver.sim);

    // Resolving instead takes the failed undo as done by hand.
    driver.fail("delete", Misbehave::Permanent, 1);
    driver.fail("start", Misbehave::Permanent, 1);
    let a = cloud.server_delete(&p, id).await.unwrap();
    settle(&cloud).await;
    assert_eq!(cloud.action_get(&p, a.id).unwrap().status, ActionStatus::Stuck);
    assert!(matches!(cloud.action_retry(ActionId(a.id.0 + 1000)).await, Err(Error::NotFound { .. })));
    cloud.action_resolve(a.id).await.unwrap();
    settle(&cloud).await;
    assert_eq!(cloud.action_get(&p, a.id).unwrap().status, ActionStatus::Error);
    assert!(cloud.server_get(&p, id).unwrap().holder.is_none());
    assert!(matches!(cloud.action_resolve(a.id).await, Err(Error::InvalidInput { .. })), "only stuck actions");
    // The records say running (the stop's undo was "done by hand"); the operator started it.
    driver.sim.start(id.0, &stratus_compute::CallContext::now()).await.unwrap();
    check_settled(&cloud, &driver.sim);
}

#[tokio::test]
async fn a_stuck_action_stays_stuck_across_a_restart() {
    let driver = TestDriver::new();
    let store = MemoryStore::new();
    let (cloud, p) = cloud_on(store.clone(), driver.clone(), Config::default()).await;
    let id = running_server(&cloud, &p).await;
    driver.fail("delete", Misbehave::Permanent, 1);
    driver.fail("start", Misbehave::Permanent, 1);
    let a = cloud.server_delete(&p, id).await.unwrap();
    settle(&cloud).await;
    let restarted = Cloud::open(store.reopen_at(store.batches()), driver.clone(), Config::default()).await.unwrap();
    restarted.start().await.unwrap();
    settle(&restarted).await;
    let again = restarted.read(|s| s.actions.get(a.id.0).cloned()).unwrap();
    assert_eq!(again.status, ActionStatus::Stuck);
    assert_eq!(restarted.read(|s| s.lock_holder(id.as_ref())), Some(a.id));
}

#[tokio::test]
async fn actions_run_on_a_bounded_pool() {
    let driver = TestDriver::new();
    driver.gate("create");
    let config = Config { action_workers: 2, ..Config::default() };
    let (cloud, p) = cloud_on(MemoryStore::new(), driver.clone(), config).await;
    for i in 0..5 {
        cloud.server_create(&p, create_req(&format!("s{i}"))).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(driver.calls("create"), 2, "two workers, two creates under way");
    driver.open();
    settle(&cloud).await;
    assert_eq!(driver.calls("create"), 5);
    check_settled(&cloud, &driver.sim);
}

/// An action as the store holds it, in the format of plan version 1. If this stops
/// parsing or running, an upgrade would strand running actions: keep the old format
/// working (or bump the kind's version and keep the old steps) instead of editing this.
const STORED_POWER_ON_V1: &str = r#"{
    "id": 900, "project": PROJECT, "kind": "server_power_on", "status": "running", "progress": 0,
    "started": "2026-01-01T00:00:00Z", "finished": null,
    "resources": [{"kind": "server", "id": SERVER}], "error": null, "after": null,
    "run": {"version": 1, "params": {"server": SERVER}, "plan": ["mark_starting", "start_vm", "mark_running"],
            "done": 1, "outputs": {"mark_starting": "off"}, "step_started": "2026-01-01T00:00:00Z",
            "unwinding": null}
}"#;

#[tokio::test]
async fn a_stored_plan_of_version_1_resumes_after_an_upgrade() {
    let (cloud, p, store, _) = instant().await;
    let id = running_server(&cloud, &p).await;
    cloud.server_action(&p, id, ServerAction::PowerOff).await.unwrap();
    settle(&cloud).await;
    let json = STORED_POWER_ON_V1.replace("PROJECT", &p.project.0.to_string()).replace("SERVER", &id.0.to_string());
    let action: Action = serde_json::from_str(&json).expect("the v1 format parses");
    cloud
        .write(|tx| {
            let mut srv = Server::clone(tx.servers.get(id.0).unwrap());
            srv.status = ServerStatus::Starting;
            tx.put(Record::Server(Arc::new(srv)));
            tx.put(Record::Action(Arc::new(action)));
            Ok(())
        })
        .await
        .unwrap();
    let sim = Arc::new(SimDriver::new(SimTiming::Instant));
    let (cloud, p2) = cloud_on(store.reopen_at(store.batches()), sim.clone(), Config::default()).await;
    settle(&cloud).await;
    let a = cloud.read(|s| s.actions.get(900).cloned()).unwrap();
    assert_eq!(a.status, ActionStatus::Success, "{a:?}");
    let _ = p2;
    assert_eq!(cloud.server_get(&p, id).unwrap().server.status, ServerStatus::Running);
    check_settled(&cloud, &sim);
}

#[tokio::test]
async fn a_plan_from_a_newer_version_is_left_stuck_not_guessed_at() {
    let (cloud, p, store, _) = instant().await;
    let id = running_server(&cloud, &p).await;
    let json = STORED_POWER_ON_V1
        .replace("PROJECT", &p.project.0.to_string())
        .replace("SERVER", &id.0.to_string())
        .replace("\"version\": 1", "\"version\": 99");
    let action: Action = serde_json::from_str(&json).unwrap();
    cloud
        .write(|tx| {
            tx.put(Record::Action(Arc::new(action)));
            Ok(())
        })
        .await
        .unwrap();
    let (cloud, _) =
        cloud_on(store.reopen_at(store.batches()), Arc::new(SimDriver::new(SimTiming::Instant)), Config::default())
            .await;
    settle(&cloud).await;
    let a = cloud.read(|s| s.actions.get(900).cloned()).unwrap();
    assert_eq!((a.status, a.error.as_ref().map(|e| e.code.as_str())), (ActionStatus::Stuck, Some("unknown_plan")));
}

#[tokio::test(start_paused = true)]
async fn a_resumed_step_continues_from_when_it_began() {
    let timings = SimTimings { start: Duration::from_secs(2), ..SimTimings::instant() };
    let (cloud, p, store, _) = instant().await;
    let id = running_server(&cloud, &p).await;
    cloud.server_action(&p, id, ServerAction::PowerOff).await.unwrap();
    settle(&cloud).await;
    // A power-on whose start step began 1.5 s ago, then the process died.
    let began = chrono::Utc::now() - chrono::Duration::milliseconds(1_500);
    let json =
        STORED_POWER_ON_V1.replace("PROJECT", &p.project.0.to_string()).replace("SERVER", &id.0.to_string()).replace(
            "\"step_started\": \"2026-01-01T00:00:00Z\"",
            &format!("\"step_started\": \"{}\"", began.to_rfc3339()),
        );
    let action: Action = serde_json::from_str(&json).unwrap();
    cloud
        .write(|tx| {
            tx.put(Record::Action(Arc::new(action)));
            Ok(())
        })
        .await
        .unwrap();
    let sim = Arc::new(SimDriver::with_timings(timings));
    let t0 = tokio::time::Instant::now();
    let (cloud, _) = cloud_on(store.reopen_at(store.batches()), sim, Config::default()).await;
    settle(&cloud).await;
    // The paused clock moves only by the simulator's sleeps: what was left, not 2 s.
    assert!(t0.elapsed() < Duration::from_millis(1_000), "waited {:?} for a step with 0.5 s left", t0.elapsed());
    assert_eq!(cloud.read(|s| s.actions.get(900).map(|a| a.status)), Some(ActionStatus::Success));
}

#[tokio::test]
async fn what_the_hypervisor_did_meanwhile_shows_after_a_restart() {
    let driver = TestDriver::new();
    let store = MemoryStore::new();
    let (cloud, p) = cloud_on(store.clone(), driver.clone(), Config::default()).await;
    let stopped = running_server_named(&cloud, &p, "stopped").await;
    let vanished = running_server_named(&cloud, &p, "vanished").await;
    let untouched = running_server_named(&cloud, &p, "untouched").await;
    // The guest of one powered off by itself, another's VM was removed by hand.
    *driver.drift.lock().unwrap() = vec![
        stratus_compute::Drift::Power { vm: stopped.0, now: stratus_compute::PowerState::Off },
        stratus_compute::Drift::Missing { vm: vanished.0 },
    ];
    let reopened = store.reopen_at(store.batches());
    let restarted = Cloud::open(reopened.clone(), driver.clone(), Config::default()).await.unwrap();
    restarted.start().await.unwrap();
    let status = |id: crate::ids::ServerId| restarted.read(|s| s.servers.get(id.0).map(|s| s.status)).unwrap();
    assert_eq!(status(stopped), ServerStatus::Off);
    assert_eq!(status(vanished), ServerStatus::Unknown, "kept and shown, not forgotten");
    assert_eq!(status(untouched), ServerStatus::Running);
    // Durable: another restart (with nothing new to report) keeps them.
    let again = Cloud::open(reopened.reopen_at(reopened.batches()), driver.clone(), Config::default()).await.unwrap();
    again.start().await.unwrap();
    assert_eq!(again.read(|s| s.servers.get(stopped.0).map(|s| s.status)), Some(ServerStatus::Off));
}
