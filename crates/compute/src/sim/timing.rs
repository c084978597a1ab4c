//! How long the simulator pretends each operation takes.
//!
//! All durations live in one table ([`SimTimings`]) so they can be read and tuned in one
//! place. `Realistic` makes automation see the same "action is running" windows a real
//! provider shows (polling loops, locked resources, progress bars); `Instant` never
//! sleeps, so tests and benchmarks run at CPU speed.

use crate::driver::CallContext;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// The simulator's pace, as chosen by `--sim-timing realistic|instant`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SimTiming {
    /// Operations take about as long as on a real cloud (seconds), with progress.
    #[default]
    Realistic,
    /// Operations complete without sleeping at all.
    Instant,
}

impl SimTiming {
    /// The name used on the command line and in config files.
    pub fn as_str(self) -> &'static str {
        match self {
            SimTiming::Realistic => "realistic",
            SimTiming::Instant => "instant",
        }
    }

    /// The duration table for this pace.
    pub fn timings(self) -> SimTimings {
        match self {
            SimTiming::Realistic => SimTimings::realistic(),
            SimTiming::Instant => SimTimings::instant(),
        }
    }
}

impl fmt::Display for SimTiming {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `--sim-timing` value that is neither `realistic` nor `instant`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown simulator timing {0:?}: expected \"realistic\" or \"instant\"")]
pub struct ParseSimTimingError(pub String);

impl FromStr for SimTiming {
    type Err = ParseSimTimingError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "realistic" => Ok(SimTiming::Realistic),
            "instant" => Ok(SimTiming::Instant),
            _ => Err(ParseSimTimingError(s.to_owned())),
        }
    }
}

/// How long each simulated operation takes. A zero duration means "do not sleep".
///
/// Calls that do nothing because the VM is already in the wanted state (start of a
/// running VM, delete of a missing one) return at once whatever this table says: a
/// repeated step after a crash should not wait again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimTimings {
    /// Building disks from the image and the cloud-init seed; reports progress.
    pub create: Duration,
    /// Power on until the guest is up.
    pub start: Duration,
    /// ACPI shutdown: the guest takes its time.
    pub stop_graceful: Duration,
    /// Pulling the plug.
    pub stop_hard: Duration,
    /// ACPI reboot.
    pub reboot: Duration,
    /// Hard reset.
    pub reset: Duration,
    /// Re-imaging the boot disk; reports progress.
    pub rebuild: Duration,
    pub resize: Duration,
    /// Copying the boot disk into the image store; reports progress.
    pub snapshot: Duration,
    pub delete_snapshot: Duration,
    pub set_rescue: Duration,
    pub set_iso: Duration,
    pub set_password: Duration,
    pub delete: Duration,
    pub create_volume: Duration,
    pub resize_volume: Duration,
    pub delete_volume: Duration,
    pub attach_volume: Duration,
    pub detach_volume: Duration,
    pub apply_network: Duration,
    pub delete_network: Duration,
    pub attach_nic: Duration,
    pub detach_nic: Duration,
    pub apply_firewall: Duration,
    pub apply_load_balancer: Duration,
    pub delete_load_balancer: Duration,
    /// How often long operations report progress.
    pub progress_interval: Duration,
}

impl SimTimings {
    /// Roughly what Hetzner Cloud takes for the same operations on a small server.
    pub fn realistic() -> Self {
        let ms = Duration::from_millis;
        SimTimings {
            create: ms(5_000),
            start: ms(2_000),
            stop_graceful: ms(3_000),
            stop_hard: ms(500),
            reboot: ms(3_000),
            reset: ms(1_000),
            rebuild: ms(5_000),
            resize: ms(2_000),
            snapshot: ms(4_000),
            delete_snapshot: ms(500),
            set_rescue: ms(500),
            set_iso: ms(500),
            set_password: ms(500),
            delete: ms(1_000),
            create_volume: ms(2_000),
            resize_volume: ms(1_000),
            delete_volume: ms(500),
            attach_volume: ms(1_000),
            detach_volume: ms(1_000),
            apply_network: ms(500),
            delete_network: ms(500),
            attach_nic: ms(1_000),
            detach_nic: ms(1_000),
            apply_firewall: ms(500),
            apply_load_balancer: ms(2_000),
            delete_load_balancer: ms(1_000),
            progress_interval: ms(500),
        }
    }

    /// Everything zero: no call ever sleeps.
    pub fn instant() -> Self {
        SimTimings {
            create: Duration::ZERO,
            start: Duration::ZERO,
            stop_graceful: Duration::ZERO,
            stop_hard: Duration::ZERO,
            reboot: Duration::ZERO,
            reset: Duration::ZERO,
            rebuild: Duration::ZERO,
            resize: Duration::ZERO,
            snapshot: Duration::ZERO,
            delete_snapshot: Duration::ZERO,
            set_rescue: Duration::ZERO,
            set_iso: Duration::ZERO,
            set_password: Duration::ZERO,
            delete: Duration::ZERO,
            create_volume: Duration::ZERO,
            resize_volume: Duration::ZERO,
            delete_volume: Duration::ZERO,
            attach_volume: Duration::ZERO,
            detach_volume: Duration::ZERO,
            apply_network: Duration::ZERO,
            delete_network: Duration::ZERO,
            attach_nic: Duration::ZERO,
            detach_nic: Duration::ZERO,
            apply_firewall: Duration::ZERO,
            apply_load_balancer: Duration::ZERO,
            delete_load_balancer: Duration::ZERO,
            progress_interval: Duration::ZERO,
        }
    }
}

/// How much of `total` is left for a call that began at `started`: a step resumed after
/// a restart only waits for the rest, as a real VM keeps booting while the control
/// plane is down.
fn remaining(started: DateTime<Utc>, total: Duration) -> Duration {
    let elapsed = (Utc::now() - started).to_std().unwrap_or(Duration::ZERO);
    total.saturating_sub(elapsed)
}

/// Waits what is left of `total` since `started`, without touching the timer at all
/// when nothing is (so instant mode never yields to the scheduler because of the
/// simulator).
pub(crate) async fn pause(started: DateTime<Utc>, total: Duration) {
    let left = remaining(started, total);
    if !left.is_zero() {
        tokio::time::sleep(left).await;
    }
}

/// Waits what is left of `total` since `ctx.started` in steps of `interval`, reporting
/// the share of `total` done after each step. Always ends with a report of 100, also
/// when nothing was left to wait for.
pub(crate) async fn pause_with_progress(ctx: &CallContext<'_>, total: Duration, interval: Duration) {
    let left = remaining(ctx.started, total);
    if left.is_zero() {
        ctx.progress.report(100);
        return;
    }
    // A zero interval would never advance; treat it as "one step".
    let interval = if interval.is_zero() { left } else { interval };
    let mut done = total - left;
    while done < total {
        let step = interval.min(total - done);
        tokio::time::sleep(step).await;
        done += step;
        ctx.progress.report(percent(done, total));
    }
}

/// `done` as a percentage of `total`, rounded down, at most 100.
fn percent(done: Duration, total: Duration) -> u8 {
    let share = done.as_nanos().saturating_mul(100) / total.as_nanos().max(1);
    u8::try_from(share.min(100)).unwrap_or(100)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::Progress;
    use std::sync::Mutex;

    #[derive(Debug, Default)]
    struct Recorder(Mutex<Vec<u8>>);

    impl Progress for Recorder {
        fn report(&self, percent: u8) {
            self.0.lock().expect("recorder poisoned").push(percent);
        }
    }

    #[test]
    fn timing_parses_and_displays() {
        for timing in [SimTiming::Realistic, SimTiming::Instant] {
            assert_eq!(timing.to_string().parse::<SimTiming>(), Ok(timing));
        }
        assert_eq!(" Instant ".parse::<SimTiming>(), Ok(SimTiming::Instant));
        assert_eq!("fast".parse::<SimTiming>(), Err(ParseSimTimingError("fast".into())));
        assert_eq!(serde_json::to_string(&SimTiming::Instant).ok().as_deref(), Some("\"instant\""));
        assert_eq!(serde_json::from_str::<SimTiming>("\"realistic\"").ok(), Some(SimTiming::Realistic));
        assert_eq!(SimTiming::default(), SimTiming::Realistic);
    }

    #[test]
    fn instant_table_is_all_zero() {
        let t = SimTimings::instant();
        let all = [
            t.create,
            t.start,
            t.stop_graceful,
            t.stop_hard,
            t.reboot,
            t.reset,
            t.rebuild,
            t.resize,
            t.snapshot,
            t.delete_snapshot,
            t.set_rescue,
            t.set_iso,
            t.set_password,
            t.delete,
            t.create_volume,
            t.resize_volume,
            t.delete_volume,
            t.attach_volume,
            t.detach_volume,
            t.apply_network,
            t.delete_network,
            t.attach_nic,
            t.detach_nic,
            t.apply_firewall,
            t.apply_load_balancer,
            t.delete_load_balancer,
            t.progress_interval,
        ];
        assert!(all.iter().all(Duration::is_zero));
    }

    #[test]
    fn percent_rounds_down_and_caps() {
        let s = Duration::from_secs;
        assert_eq!(percent(s(0), s(3)), 0);
        assert_eq!(percent(s(1), s(3)), 33);
        assert_eq!(percent(s(3), s(3)), 100);
        assert_eq!(percent(s(4), s(3)), 100);
    }

    #[tokio::test(start_paused = true)]
    async fn progress_steps_end_at_100() {
        let rec = Recorder::default();
        let started = tokio::time::Instant::now();
        let ctx = CallContext { started: Utc::now(), progress: &rec };
        pause_with_progress(&ctx, Duration::from_millis(1_200), Duration::from_millis(500)).await;
        assert!(started.elapsed() >= Duration::from_millis(1_200));
        assert_eq!(*rec.0.lock().expect("recorder poisoned"), vec![41, 83, 100]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_resumed_call_waits_only_for_the_rest() {
        let rec = Recorder::default();
        let started = tokio::time::Instant::now();
        // Began 1 s ago (wall clock), before a restart: 0.2 s of 1.2 s are left.
        let ctx = CallContext { started: Utc::now() - chrono::Duration::seconds(1), progress: &rec };
        pause_with_progress(&ctx, Duration::from_millis(1_200), Duration::from_millis(500)).await;
        let waited = started.elapsed();
        assert!(waited <= Duration::from_millis(250), "waited {waited:?}");
        assert_eq!(rec.0.lock().expect("recorder poisoned").last(), Some(&100));
        let before = tokio::time::Instant::now();
        pause(Utc::now() - chrono::Duration::seconds(5), Duration::from_secs(2)).await;
        assert_eq!(before.elapsed(), Duration::ZERO, "a call past its duration does not wait");
    }

    #[tokio::test(start_paused = true)]
    async fn zero_total_reports_100_without_sleeping() {
        let rec = Recorder::default();
        let started = tokio::time::Instant::now();
        let ctx = CallContext { started: Utc::now(), progress: &rec };
        pause_with_progress(&ctx, Duration::ZERO, Duration::ZERO).await;
        pause(Utc::now(), Duration::ZERO).await;
        assert_eq!(started.elapsed(), Duration::ZERO);
        assert_eq!(*rec.0.lock().expect("recorder poisoned"), vec![100]);
    }
}
