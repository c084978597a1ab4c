//! Driver-level tests: lifecycle, idempotence, errors, restore, pacing, metrics and
//! consoles. Paced tests run on tokio's paused clock, so they never really sleep and
//! elapsed times are exact virtual durations, not wall-clock measurements.

use super::*;
use crate::driver::{
    CallContext, Direction, DiskSpec, DriverError, FirewallRuleSpec, ImageRef, NoProgress, Progress, VmState,
};
use crate::metrics::MetricKind;
use chrono::{Duration as ChronoDuration, Utc};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Records every progress report.
#[derive(Debug, Default)]
struct Recorder(Mutex<Vec<u8>>);

impl Recorder {
    fn reports(&self) -> Vec<u8> {
        self.0.lock().expect("recorder poisoned").clone()
    }
}

impl Progress for Recorder {
    fn report(&self, percent: u8) {
        self.0.lock().expect("recorder poisoned").push(percent);
    }
}

fn spec(id: VmId) -> VmSpec {
    VmSpec {
        id,
        name: format!("vm-{id}"),
        hardware: HardwareSpec { cores: 2, memory_mb: 4096, disks: vec![DiskSpec { size_gb: 20 }] },
        image: Some(ImageRef { id: 1, name: "debian-12".into() }),
        ssh_keys: vec!["ssh-ed25519 AAAA test".into()],
        root_password: None,
        user_data: None,
        nics: vec![NicSpec {
            id: 1000 + id,
            network: None,
            mac: "02:00:00:00:00:01".into(),
            addresses: vec!["203.0.113.5".into()],
        }],
    }
}

fn inventory(vms: Vec<(VmSpec, PowerState)>) -> Inventory {
    let vms = vms.into_iter().map(|(spec, power)| VmState {
        spec,
        power,
        volumes: vec![],
        iso: None,
        rescue: false,
        firewall: vec![],
    });
    Inventory { vms: vms.collect(), ..Inventory::default() }
}

fn instant() -> SimDriver {
    SimDriver::new(SimTiming::Instant)
}

fn realistic() -> SimDriver {
    SimDriver::new(SimTiming::Realistic)
}

async fn created(driver: &SimDriver, id: VmId) {
    driver.create(&spec(id), &CallContext { started: Utc::now(), progress: &NoProgress }).await.expect("create");
}

fn code<T: std::fmt::Debug>(result: DriverResult<T>) -> String {
    result.expect_err("expected an error").code
}

fn boots(driver: &SimDriver, id: VmId) -> u32 {
    driver.vm(id).expect("vm exists").boot_count
}

#[tokio::test]
async fn name_is_sim() {
    assert_eq!(instant().name(), "sim");
}

#[tokio::test]
async fn create_leaves_vm_off_and_is_idempotent() {
    let d = instant();
    let rec = Recorder::default();
    d.create(&spec(1), &CallContext { started: Utc::now(), progress: &rec }).await.expect("create");
    assert_eq!(rec.reports(), vec![100]);
    let vm = d.vm(1).expect("created");
    assert_eq!((vm.power, vm.boot_count, vm.spec.clone()), (PowerState::Off, 0, spec(1)));

    d.start(1, &CallContext::now()).await.expect("start");
    // A repeated create (a replayed step) neither resets nor rebuilds the VM.
    let rec = Recorder::default();
    let mut other = spec(1);
    other.name = "renamed".into();
    d.create(&other, &CallContext { started: Utc::now(), progress: &rec }).await.expect("create again");
    assert_eq!(rec.reports(), vec![100]);
    let again = d.vm(1).expect("still there");
    assert_eq!((again.power, again.boot_count, again.spec.name.as_str()), (PowerState::Running, 1, "vm-1"));
}

#[tokio::test]
async fn power_cycle_is_idempotent() {
    let d = instant();
    created(&d, 1).await;

    d.start(1, &CallContext::now()).await.expect("start");
    d.start(1, &CallContext::now()).await.expect("start of running");
    assert_eq!(d.power_state(1).await, Ok(PowerState::Running));
    assert_eq!(boots(&d, 1), 1, "second start did not boot again");

    d.stop(1, StopMode::Graceful, &CallContext::now()).await.expect("graceful stop");
    assert_eq!(d.power_state(1).await, Ok(PowerState::Off));
    d.stop(1, StopMode::Graceful, &CallContext::now()).await.expect("stop of off");
    d.stop(1, StopMode::Hard, &CallContext::now()).await.expect("hard stop of off");

    d.start(1, &CallContext::now()).await.expect("start");
    d.stop(1, StopMode::Hard, &CallContext::now()).await.expect("hard stop");
    assert_eq!(d.power_state(1).await, Ok(PowerState::Off));
    assert_eq!(boots(&d, 1), 2);
}

#[tokio::test]
async fn reboot_and_reset_boot_and_power_on_an_off_vm() {
    let d = instant();
    created(&d, 1).await;

    d.reboot(1, &CallContext::now()).await.expect("reboot of off");
    assert_eq!(d.power_state(1).await, Ok(PowerState::Running));
    d.reboot(1, &CallContext::now()).await.expect("reboot of running");
    assert_eq!(boots(&d, 1), 2);

    d.stop(1, StopMode::Hard, &CallContext::now()).await.expect("stop");
    d.reset(1, &CallContext::now()).await.expect("reset of off");
    assert_eq!(d.power_state(1).await, Ok(PowerState::Running));
    d.reset(1, &CallContext::now()).await.expect("reset of running");
    assert_eq!(boots(&d, 1), 4);
}

#[tokio::test]
async fn rebuild_needs_the_vm_off_and_replaces_the_image() {
    let d = instant();
    created(&d, 1).await;
    d.start(1, &CallContext::now()).await.expect("start");

    let mut rebuilt = spec(1);
    rebuilt.image = Some(ImageRef { id: 9, name: "ubuntu-24.04".into() });
    assert_eq!(
        code(d.rebuild(&rebuilt, &CallContext { started: Utc::now(), progress: &NoProgress }).await),
        "invalid_state"
    );
    assert_eq!(d.vm(1).expect("vm").spec.image, spec(1).image, "a refused rebuild changes nothing");

    d.stop(1, StopMode::Hard, &CallContext::now()).await.expect("stop");
    let rec = Recorder::default();
    d.rebuild(&rebuilt, &CallContext { started: Utc::now(), progress: &rec }).await.expect("rebuild");
    d.rebuild(&rebuilt, &CallContext { started: Utc::now(), progress: &NoProgress }).await.expect("repeated rebuild");
    assert_eq!(rec.reports(), vec![100]);
    let vm = d.vm(1).expect("vm");
    assert_eq!((vm.spec.image, vm.power), (rebuilt.image, PowerState::Off));
}

#[tokio::test]
async fn resize_needs_the_vm_off_and_never_shrinks_disks() {
    let d = instant();
    created(&d, 1).await;
    let original = spec(1).hardware;
    let bigger = HardwareSpec { cores: 4, memory_mb: 8192, disks: vec![DiskSpec { size_gb: 40 }] };

    d.start(1, &CallContext::now()).await.expect("start");
    assert_eq!(code(d.resize(1, &bigger, &CallContext::now()).await), "invalid_state");
    assert_eq!(d.vm(1).expect("vm").spec.hardware, original, "a refused resize changes nothing");
    d.stop(1, StopMode::Hard, &CallContext::now()).await.expect("stop");

    d.resize(1, &bigger, &CallContext::now()).await.expect("resize");
    d.resize(1, &bigger, &CallContext::now()).await.expect("repeated resize");
    assert_eq!(d.vm(1).expect("vm").spec.hardware, bigger);

    // Resizing back (the core's undo) reverts cores and memory but keeps the grown disk.
    d.resize(1, &original, &CallContext::now()).await.expect("resize back");
    let expected = HardwareSpec { disks: bigger.disks.clone(), ..original.clone() };
    assert_eq!(d.vm(1).expect("vm").spec.hardware, expected);

    // Disks can be added; leaving one out of the spec does not remove it.
    let two_disks =
        HardwareSpec { disks: vec![DiskSpec { size_gb: 40 }, DiskSpec { size_gb: 10 }], ..original.clone() };
    d.resize(1, &two_disks, &CallContext::now()).await.expect("adding a disk");
    d.resize(1, &HardwareSpec { disks: vec![], ..original }, &CallContext::now()).await.expect("no disks given");
    assert_eq!(d.vm(1).expect("vm").spec.hardware, two_disks);
}

#[tokio::test]
async fn rescue_is_used_by_the_next_boot_only() {
    let d = instant();
    created(&d, 1).await;
    let keys = vec!["ssh-ed25519 AAAA rescue".to_owned()];
    let rescue = RescueSpec { ssh_keys: keys.clone(), root_password: Some("pw".into()) };

    d.set_rescue(1, Some(&rescue), &CallContext::now()).await.expect("arm");
    d.set_rescue(1, Some(&rescue), &CallContext::now()).await.expect("arm again");
    assert_eq!(d.vm(1).expect("vm").rescue, Some(keys.clone()));

    d.start(1, &CallContext::now()).await.expect("start");
    let vm = d.vm(1).expect("vm");
    assert!(vm.in_rescue);
    assert_eq!(vm.rescue, None, "booting into rescue disarms it");

    d.reboot(1, &CallContext::now()).await.expect("reboot");
    assert!(!d.vm(1).expect("vm").in_rescue);

    d.set_rescue(1, Some(&rescue), &CallContext::now()).await.expect("arm");
    d.set_rescue(1, None, &CallContext::now()).await.expect("disarm");
    d.set_rescue(1, None, &CallContext::now()).await.expect("disarm again");
    d.reset(1, &CallContext::now()).await.expect("reset");
    assert!(!d.vm(1).expect("vm").in_rescue);
}

#[tokio::test]
async fn iso_and_password() {
    let d = instant();
    created(&d, 1).await;

    d.set_iso(1, Some("virtio-win.iso"), &CallContext::now()).await.expect("attach");
    d.set_iso(1, Some("virtio-win.iso"), &CallContext::now()).await.expect("attach again");
    assert_eq!(d.vm(1).expect("vm").iso.as_deref(), Some("virtio-win.iso"));
    d.set_iso(1, None, &CallContext::now()).await.expect("detach");
    d.set_iso(1, None, &CallContext::now()).await.expect("detach again");
    assert_eq!(d.vm(1).expect("vm").iso, None);

    assert_eq!(code(d.set_password(1, "hunter2", &CallContext::now()).await), "invalid_state", "the guest must run");
    d.start(1, &CallContext::now()).await.expect("start");
    d.set_password(1, "hunter2", &CallContext::now()).await.expect("set password");
    d.set_password(1, "hunter2", &CallContext::now()).await.expect("set password again");
}

#[tokio::test]
async fn delete_is_idempotent_and_works_on_running_vms() {
    let d = instant();
    created(&d, 1).await;
    d.start(1, &CallContext::now()).await.expect("start");
    d.delete(1, &CallContext::now()).await.expect("delete");
    assert!(d.vm(1).is_none());
    assert_eq!(code(d.power_state(1).await), "not_found");
    d.delete(1, &CallContext::now()).await.expect("delete of deleted");
    d.delete(404, &CallContext::now()).await.expect("delete of never created");

    // The id can be used again afterwards.
    created(&d, 1).await;
    assert_eq!(d.power_state(1).await, Ok(PowerState::Off));
}

#[tokio::test]
async fn unknown_vms_are_not_found() {
    let d = instant();
    created(&d, 1).await;
    let hw = spec(1).hardware;
    let q = MetricsQuery { kinds: vec![MetricKind::Cpu], start: Utc::now(), end: Utc::now(), step: 60 };
    let id = 2;
    let results: Vec<(&str, Result<(), DriverError>)> = vec![
        ("start", d.start(id, &CallContext::now()).await),
        ("stop graceful", d.stop(id, StopMode::Graceful, &CallContext::now()).await),
        ("stop hard", d.stop(id, StopMode::Hard, &CallContext::now()).await),
        ("reboot", d.reboot(id, &CallContext::now()).await),
        ("reset", d.reset(id, &CallContext::now()).await),
        ("rebuild", d.rebuild(&spec(id), &CallContext { started: Utc::now(), progress: &NoProgress }).await),
        ("resize", d.resize(id, &hw, &CallContext::now()).await),
        ("snapshot", d.snapshot(id, 100, &CallContext { started: Utc::now(), progress: &NoProgress }).await.map(drop)),
        ("set_rescue", d.set_rescue(id, Some(&RescueSpec::default()), &CallContext::now()).await),
        ("set_iso", d.set_iso(id, Some("x.iso"), &CallContext::now()).await),
        ("set_password", d.set_password(id, "pw", &CallContext::now()).await),
        ("console", d.console(id).await.map(drop)),
        ("metrics", d.metrics(id, &q).await.map(drop)),
        ("power_state", d.power_state(id).await.map(drop)),
    ];
    for (call, result) in results {
        let err = result.expect_err(call);
        assert_eq!(err.code, "not_found", "{call}");
        assert!(err.message.contains('2'), "{call}: {}", err.message);
    }
    assert!(d.vm(id).is_none(), "failed calls create nothing");
    assert!(d.stored_snapshot(100).is_none());
}

#[tokio::test]
async fn restore_relearns_vms() {
    let d = instant();
    let running = spec(1);
    let off = spec(2);
    d.restore(inventory(vec![(running.clone(), PowerState::Running), (off.clone(), PowerState::Off)]))
        .await
        .expect("restore");
    assert_eq!(d.power_state(1).await, Ok(PowerState::Running));
    assert_eq!(d.power_state(2).await, Ok(PowerState::Off));
    assert_eq!(d.vm(1).expect("vm").spec, running);

    // Restored VMs behave like created ones, and a repeated create is a no-op.
    d.create(&off, &CallContext { started: Utc::now(), progress: &NoProgress }).await.expect("create of restored");
    d.start(2, &CallContext::now()).await.expect("start");
    d.stop(1, StopMode::Hard, &CallContext::now()).await.expect("stop");

    // Restoring again makes the control plane's view win, without counting boots.
    let mut resized = running.clone();
    resized.hardware.cores = 8;
    d.restore(inventory(vec![(resized.clone(), PowerState::Running)])).await.expect("restore again");
    let vm = d.vm(1).expect("vm");
    assert_eq!((vm.power, vm.spec, vm.boot_count), (PowerState::Running, resized, 0));
    assert_eq!(d.power_state(2).await, Ok(PowerState::Running), "VMs left out are kept");
    d.restore(Inventory::default()).await.expect("empty restore");
}

#[tokio::test]
async fn snapshots_have_stable_plausible_sizes() {
    let d = instant();
    created(&d, 1).await;
    let rec = Recorder::default();
    let size = d.snapshot(1, 100, &CallContext { started: Utc::now(), progress: &rec }).await.expect("snapshot");
    assert_eq!(rec.reports(), vec![100]);
    assert!((0.6..=2.5).contains(&size), "{size} GB for a 20 GB disk");
    assert_eq!(d.stored_snapshot(100), Some(SimSnapshot { vm: 1, size_gb: size }));

    // A repeated step gives the same answer, even once the VM is gone.
    assert_eq!(d.snapshot(1, 100, &CallContext { started: Utc::now(), progress: &NoProgress }).await, Ok(size));
    d.delete(1, &CallContext::now()).await.expect("delete vm");
    assert_eq!(
        d.snapshot(1, 100, &CallContext { started: Utc::now(), progress: &NoProgress }).await,
        Ok(size),
        "snapshots outlive their VM"
    );

    d.delete_snapshot(100, &CallContext::now()).await.expect("delete snapshot");
    assert!(d.stored_snapshot(100).is_none());
    d.delete_snapshot(100, &CallContext::now()).await.expect("delete snapshot again");
    d.delete_snapshot(12_345, &CallContext::now()).await.expect("delete unknown snapshot");

    // Sizes scale with the disk and differ between images.
    let mut big = spec(2);
    big.hardware.disks = vec![DiskSpec { size_gb: 160 }];
    d.create(&big, &CallContext { started: Utc::now(), progress: &NoProgress }).await.expect("create");
    let sizes: Vec<f64> =
        snapshot_each(&d, 2, [201, 202, 203, 204]).await.into_iter().map(|r| r.expect("snapshot")).collect();
    assert!(sizes.iter().all(|s| (4.8..=20.0).contains(s)), "{sizes:?}");
    assert!(sizes.windows(2).any(|w| (w[0] - w[1]).abs() > f64::EPSILON), "{sizes:?}");
}

/// Snapshots of one VM into several images, one after another.
async fn snapshot_each(d: &SimDriver, vm: VmId, images: [i64; 4]) -> Vec<DriverResult<f64>> {
    let mut out = Vec::new();
    for image in images {
        out.push(d.snapshot(vm, image, &CallContext { started: Utc::now(), progress: &NoProgress }).await);
    }
    out
}

#[tokio::test(start_paused = true)]
async fn instant_mode_never_sleeps() {
    let d = instant();
    let started = Instant::now();
    created(&d, 1).await;
    d.start(1, &CallContext::now()).await.expect("start");
    d.reboot(1, &CallContext::now()).await.expect("reboot");
    d.reset(1, &CallContext::now()).await.expect("reset");
    d.set_password(1, "pw", &CallContext::now()).await.expect("password");
    d.stop(1, StopMode::Graceful, &CallContext::now()).await.expect("stop");
    d.rebuild(&spec(1), &CallContext { started: Utc::now(), progress: &NoProgress }).await.expect("rebuild");
    d.resize(1, &HardwareSpec { cores: 4, ..spec(1).hardware }, &CallContext::now()).await.expect("resize");
    d.snapshot(1, 7, &CallContext { started: Utc::now(), progress: &NoProgress }).await.expect("snapshot");
    d.delete_snapshot(7, &CallContext::now()).await.expect("delete snapshot");
    d.set_rescue(1, Some(&RescueSpec::default()), &CallContext::now()).await.expect("rescue");
    d.set_iso(1, Some("a.iso"), &CallContext::now()).await.expect("iso");
    d.delete(1, &CallContext::now()).await.expect("delete");
    // The paused clock only moves when something sleeps.
    assert_eq!(started.elapsed(), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn realistic_create_reports_progress_in_steps() {
    let d = realistic();
    let started = Instant::now();
    let rec = Recorder::default();
    d.create(&spec(1), &CallContext { started: Utc::now(), progress: &rec }).await.expect("create");
    assert!(started.elapsed() >= d.timings().create);
    assert_eq!(rec.reports(), vec![10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);

    let rec = Recorder::default();
    d.snapshot(1, 5, &CallContext { started: Utc::now(), progress: &rec }).await.expect("snapshot");
    assert_eq!(rec.reports(), vec![12, 25, 37, 50, 62, 75, 87, 100]);

    let rec = Recorder::default();
    d.rebuild(&spec(1), &CallContext { started: Utc::now(), progress: &rec }).await.expect("rebuild");
    assert_eq!(rec.reports().len(), 10);
    assert_eq!(rec.reports().last(), Some(&100));
}

#[tokio::test(start_paused = true)]
async fn realistic_calls_take_their_table_time() {
    let d = realistic();
    created(&d, 1).await;
    let started = Instant::now();
    d.start(1, &CallContext::now()).await.expect("start");
    assert!(started.elapsed() >= d.timings().start);
    let started = Instant::now();
    d.stop(1, StopMode::Graceful, &CallContext::now()).await.expect("stop");
    assert!(started.elapsed() >= d.timings().stop_graceful);
}

#[tokio::test(start_paused = true)]
async fn realistic_no_ops_do_not_sleep() {
    let d = realistic();
    created(&d, 1).await;
    d.start(1, &CallContext::now()).await.expect("start");
    d.snapshot(1, 3, &CallContext { started: Utc::now(), progress: &NoProgress }).await.expect("snapshot");
    let started = Instant::now();
    created(&d, 1).await;
    d.start(1, &CallContext::now()).await.expect("start of running");
    d.snapshot(1, 3, &CallContext { started: Utc::now(), progress: &NoProgress }).await.expect("repeated snapshot");
    d.delete_snapshot(99, &CallContext::now()).await.expect("delete of missing snapshot");
    d.delete(99, &CallContext::now()).await.expect("delete of missing vm");
    d.stop(1, StopMode::Hard, &CallContext::now()).await.expect("stop");
    let after_stop = Instant::now();
    d.stop(1, StopMode::Graceful, &CallContext::now()).await.expect("stop of off");
    d.resize(1, &spec(1).hardware, &CallContext::now()).await.expect("resize to the same");
    assert_eq!(after_stop.elapsed(), Duration::ZERO);
    assert_eq!(started.elapsed(), d.timings().stop_hard, "only the real stop slept");
}

#[tokio::test(start_paused = true)]
async fn delete_during_a_slow_call_wins() {
    let d = Arc::new(realistic());
    created(&d, 1).await;
    let starter = Arc::clone(&d);
    // start sleeps 2 s, delete 1 s: the VM is gone when start wakes.
    let start = tokio::spawn(async move { starter.start(1, &CallContext::now()).await });
    tokio::task::yield_now().await;
    d.delete(1, &CallContext::now()).await.expect("delete");
    let result = start.await.expect("join");
    assert_eq!(code(result), "not_found");
    assert!(d.vm(1).is_none(), "the late start did not resurrect the VM");
}

#[tokio::test(start_paused = true)]
async fn cancelled_create_leaves_nothing() {
    let d = realistic();
    let cut = tokio::time::timeout(
        Duration::from_secs(1),
        d.create(&spec(1), &CallContext { started: Utc::now(), progress: &NoProgress }),
    )
    .await;
    assert!(cut.is_err(), "create takes longer than 1 s");
    assert!(d.vm(1).is_none());
    // The engine's retry then completes it.
    created(&d, 1).await;
    assert_eq!(d.power_state(1).await, Ok(PowerState::Off));
}

#[tokio::test]
async fn metrics_have_the_requested_shape() {
    let d = instant();
    created(&d, 1).await;
    d.start(1, &CallContext::now()).await.expect("start");
    let end = Utc::now();
    let start = end - ChronoDuration::hours(1);
    let q = MetricsQuery { kinds: vec![MetricKind::Cpu, MetricKind::Disk, MetricKind::Network], start, end, step: 60 };
    let series = d.metrics(1, &q).await.expect("metrics");
    assert_eq!(series.len(), 9);
    for s in &series {
        assert_eq!(s.values.len(), 61, "{}", s.name);
        assert!(s.values.iter().all(|&(_, v)| v > 0.0), "{} of a running VM", s.name);
        // Precision loss only past 2^53 seconds.
        assert_eq!(s.values.first().map(|&(ts, _)| ts), Some(start.timestamp() as f64));
        assert!(s.values.windows(2).all(|w| (w[1].0 - w[0].0 - 60.0).abs() < f64::EPSILON));
    }
    let cpu_cap = 100.0 * f64::from(spec(1).hardware.cores);
    assert!(series[0].values.iter().all(|&(_, v)| v <= cpu_cap));

    assert_eq!(d.metrics(1, &q).await.expect("again"), series, "repeated queries agree");

    let one = MetricsQuery { kinds: vec![MetricKind::Cpu], start: end, end, step: 1 };
    assert_eq!(d.metrics(1, &one).await.expect("one")[0].values.len(), 1);
    let backwards = MetricsQuery { kinds: vec![MetricKind::Cpu], start: end, end: start, step: 60 };
    assert!(d.metrics(1, &backwards).await.expect("empty")[0].values.is_empty());
    let none = MetricsQuery { kinds: vec![], ..q };
    assert!(d.metrics(1, &none).await.expect("no kinds").is_empty());
}

#[tokio::test]
async fn metrics_of_an_off_vm_are_zero_since_it_stopped() {
    let d = instant();
    created(&d, 1).await; // created off
    let end = Utc::now() + ChronoDuration::seconds(1);
    let start = end - ChronoDuration::hours(1);
    let q = MetricsQuery { kinds: vec![MetricKind::Cpu], start, end, step: 60 };
    let cpu = d.metrics(1, &q).await.expect("metrics").remove(0).values;
    let (first, last) = (cpu.first().expect("samples").1, cpu.last().expect("samples").1);
    assert!(first > 0.0, "history before the stop looks alive");
    assert!(last.abs() < f64::EPSILON, "off now: {last}");
}

#[tokio::test(start_paused = true)]
async fn console_tokens_are_random_and_expire() {
    let d = instant();
    created(&d, 1).await;
    let endpoint = d.console(1).await.expect("console");
    let token = endpoint.wss_url.strip_prefix("/console/").expect("path on our listener");
    assert_eq!(token.len(), 32);
    assert_eq!(endpoint.password.len(), 8, "VNC uses 8 characters");
    assert!(token.chars().chain(endpoint.password.chars()).all(|c| c.is_ascii_alphanumeric()));
    assert_eq!(d.console_session(token), Some(ConsoleSession { vm: 1, target: ConsoleTarget::Echo }));
    assert_eq!(d.console_password(token), Some(endpoint.password.clone()));
    assert_eq!(d.console_session("not-a-token"), None);

    let second = d.console(1).await.expect("console again");
    assert_ne!(second.wss_url, endpoint.wss_url);
    assert_ne!(second.password, endpoint.password);

    tokio::time::advance(CONSOLE_TTL + Duration::from_secs(1)).await;
    assert_eq!(d.console_session(token), None, "expired");
}

#[tokio::test]
async fn deleting_a_vm_ends_its_console_sessions() {
    let d = instant();
    created(&d, 1).await;
    let endpoint = d.console(1).await.expect("console");
    let token = endpoint.wss_url.trim_start_matches("/console/").to_owned();
    d.delete(1, &CallContext::now()).await.expect("delete");
    assert_eq!(d.console_session(&token), None);
}

#[tokio::test]
async fn debug_output_hides_console_credentials() {
    let d = instant();
    created(&d, 1).await;
    let endpoint = d.console(1).await.expect("console");
    let shown = format!("{d:?}");
    assert!(!shown.contains(&endpoint.password));
    assert!(!shown.contains(endpoint.wss_url.trim_start_matches("/console/")));
}

fn now() -> CallContext<'static> {
    CallContext::now()
}

#[tokio::test]
async fn volumes_attach_to_one_vm_at_a_time() {
    let d = instant();
    created(&d, 1).await;
    created(&d, 2).await;
    let vol = VolumeSpec { id: 50, size_gb: 10, format: Some("ext4".into()) };
    d.create_volume(&vol, &now()).await.expect("create volume");
    d.create_volume(&vol, &now()).await.expect("create again");
    assert_eq!(d.attach_volume(1, 50, &now()).await, Ok(volume_device(50)));
    assert_eq!(d.attach_volume(1, 50, &now()).await, Ok(volume_device(50)), "repeated attach");
    assert_eq!(code(d.attach_volume(2, 50, &now()).await), "in_use");
    assert_eq!(code(d.delete_volume(50, &now()).await), "in_use");
    assert!(d.vm(1).expect("vm").volumes.contains(&50));
    d.resize_volume(50, 20, &now()).await.expect("grow");
    d.resize_volume(50, 10, &now()).await.expect("shrinking keeps the size");
    assert_eq!(d.volume(50).expect("volume").size_gb, 20);
    d.detach_volume(1, 50, &now()).await.expect("detach");
    d.detach_volume(1, 50, &now()).await.expect("detach again");
    assert_eq!(d.attach_volume(2, 50, &now()).await, Ok(volume_device(50)));
    d.delete(2, &now()).await.expect("delete vm");
    assert_eq!(d.volume(50).expect("volume").attached_to, None, "deleting a VM detaches its volumes");
    d.delete_volume(50, &now()).await.expect("delete volume");
    d.delete_volume(50, &now()).await.expect("delete again");
    assert_eq!(code(d.attach_volume(1, 50, &now()).await), "not_found");
    assert_eq!(code(d.resize_volume(50, 30, &now()).await), "not_found");
}

#[tokio::test]
async fn networks_nics_and_firewalls() {
    let d = instant();
    created(&d, 1).await;
    let net =
        NetworkSpec { id: 7, ip_range: "10.0.0.0/16".into(), subnets: vec!["10.0.1.0/24".into()], routes: vec![] };
    let nic = NicSpec { id: 70, network: Some(7), mac: "86:00:00:00:00:07".into(), addresses: vec!["10.0.1.2".into()] };
    assert_eq!(code(d.attach_nic(1, &nic, &now()).await), "not_found", "the network must exist");
    d.apply_network(&net, &now()).await.expect("network");
    d.apply_network(&net, &now()).await.expect("network again");
    d.attach_nic(1, &nic, &now()).await.expect("attach nic");
    let moved = NicSpec { addresses: vec!["10.0.1.2".into(), "10.0.1.9".into()], ..nic.clone() };
    d.attach_nic(1, &moved, &now()).await.expect("update addresses");
    assert_eq!(d.vm(1).expect("vm").nics.get(&70), Some(&moved));
    assert_eq!(code(d.delete_network(7, &now()).await), "in_use");
    d.detach_nic(1, 70, &now()).await.expect("detach");
    d.detach_nic(1, 70, &now()).await.expect("detach again");
    d.delete_network(7, &now()).await.expect("delete network");
    assert!(d.network(7).is_none());

    let rules = vec![FirewallRuleSpec {
        direction: crate::driver::Direction::In,
        protocol: "tcp".into(),
        port: Some("22".into()),
        addresses: vec!["0.0.0.0/0".into()],
    }];
    d.apply_firewall(1, &rules, &now()).await.expect("apply");
    d.apply_firewall(1, &rules, &now()).await.expect("apply again");
    assert_eq!(d.vm(1).expect("vm").firewall, rules);
    d.apply_firewall(1, &[], &now()).await.expect("clear");
    assert!(d.vm(1).expect("vm").firewall.is_empty());
    assert_eq!(code(d.apply_firewall(9, &rules, &now()).await), "not_found");

    let lb = LoadBalancerSpec {
        id: 5,
        algorithm: "round_robin".into(),
        addresses: vec![],
        services: vec![],
        targets: vec![],
    };
    d.apply_load_balancer(&lb, &now()).await.expect("lb");
    assert_eq!(d.load_balancer(5), Some(lb));
    let q = MetricsQuery { kinds: vec![MetricKind::OpenConnections], start: Utc::now(), end: Utc::now(), step: 1 };
    assert_eq!(d.load_balancer_metrics(5, &q).await.expect("metrics")[0].name, "open_connections");
    d.delete_load_balancer(5, &now()).await.expect("delete lb");
    d.delete_load_balancer(5, &now()).await.expect("delete lb again");
    assert_eq!(code(d.load_balancer_metrics(5, &q).await), "not_found");
}

#[tokio::test]
async fn restore_relearns_volumes_networks_and_attachments() {
    let d = instant();
    let vol = VolumeSpec { id: 50, size_gb: 10, format: None };
    let net = NetworkSpec { id: 7, ip_range: "10.0.0.0/16".into(), subnets: vec![], routes: vec![] };
    let inv = Inventory {
        vms: vec![VmState {
            spec: spec(1),
            power: PowerState::Running,
            volumes: vec![50],
            iso: Some("a.iso".into()),
            rescue: true,
            firewall: vec![FirewallRuleSpec {
                direction: Direction::In,
                protocol: "tcp".into(),
                port: Some("22".into()),
                addresses: vec!["0.0.0.0/0".into()],
            }],
        }],
        volumes: vec![vol],
        networks: vec![net.clone()],
        load_balancers: vec![],
    };
    d.restore(inv.clone()).await.expect("restore");
    assert_eq!(d.volume(50).expect("volume").attached_to, Some(1));
    assert_eq!(d.vm(1).expect("vm").firewall, inv.vms[0].firewall, "firewall rules are relearnt");
    let vm = d.vm(1).expect("vm");
    assert_eq!((vm.iso.as_deref(), vm.rescue.is_some()), (Some("a.iso"), true));
    assert_eq!(d.network(7), Some(net));
    assert_eq!(d.resource_ids(), (vec![50], vec![7], vec![]));
    assert_eq!(d.vm_ids(), vec![1]);
}

#[tokio::test(start_paused = true)]
async fn a_resumed_call_finishes_on_its_original_schedule() {
    let d = realistic();
    created(&d, 1).await;
    let before = Instant::now();
    // The step began 1.5 s ago (before a restart); start takes 2 s.
    let ctx = CallContext { started: Utc::now() - ChronoDuration::milliseconds(1_500), progress: &NoProgress };
    d.start(1, &ctx).await.expect("start");
    assert!(before.elapsed() <= Duration::from_millis(600), "waited {:?}", before.elapsed());
}

#[test]
fn drivers_are_usable_as_trait_objects() {
    let d: Arc<dyn Driver> = Arc::new(SimDriver::default());
    assert_eq!(d.name(), "sim");
    assert_eq!(SimDriver::default().timings(), &SimTimings::realistic());
}
