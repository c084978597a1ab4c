//! Plausible, deterministic metrics for simulated VMs.
//!
//! Every value is a pure function of (VM id, sample timestamp, series), built from a
//! per-VM profile (base load, daily swing, phase) plus noise hashed from those inputs.
//! No global RNG: two queries over overlapping ranges agree on every shared timestamp,
//! so graphs do not jitter on refresh and tests can compare runs. The only outside input
//! is the power state: samples from the moment a VM went off are zero.

use super::noise::unit;
use crate::driver::VmId;
use crate::metrics::{sample_times, MetricKind, MetricSeries, MetricsQuery};
use std::f64::consts::TAU;

const DAY_SECS: f64 = 86_400.0;

/// What the generator needs to know about a VM.
#[derive(Debug, Clone, Copy)]
pub(crate) struct VmLoad {
    pub(crate) id: VmId,
    pub(crate) cores: u32,
    /// Unix seconds from which the VM is off (it is off now); `None` while it runs.
    pub(crate) off_from: Option<i64>,
}

/// The series for `query`, in the order of `query.kinds` (duplicates ignored).
pub(crate) fn series(vm: VmLoad, query: &MetricsQuery) -> Vec<MetricSeries> {
    let times = sample_times(query.start.timestamp(), query.end.timestamp(), query.step);
    let samples: Vec<Sample> = times.iter().map(|&ts| Sample::at(vm, ts)).collect();
    let mut out = Vec::new();
    for kind in query.distinct_kinds() {
        for &(name, pick) in kind_series(kind) {
            let values = times
                .iter()
                .zip(&samples)
                // Precision loss only past 2^53 seconds, far beyond any real timestamp.
                .map(|(&ts, sample)| (ts as f64, pick(sample)))
                .collect();
            out.push(MetricSeries { name: name.to_owned(), values });
        }
    }
    out
}

type Pick = fn(&Sample) -> f64;

/// Hetzner's series names for each kind, and which field of a sample they show.
fn kind_series(kind: MetricKind) -> &'static [(&'static str, Pick)] {
    match kind {
        MetricKind::Cpu => &[("cpu", |s| s.cpu)],
        MetricKind::Disk => &[
            ("disk.0.iops.read", |s| s.iops_read),
            ("disk.0.iops.write", |s| s.iops_write),
            ("disk.0.bandwidth.read", |s| s.disk_bw_read),
            ("disk.0.bandwidth.write", |s| s.disk_bw_write),
        ],
        MetricKind::Network => &[
            ("network.0.pps.in", |s| s.pps_in),
            ("network.0.pps.out", |s| s.pps_out),
            ("network.0.bandwidth.in", |s| s.net_bw_in),
            ("network.0.bandwidth.out", |s| s.net_bw_out),
        ],
        // A load balancer's traffic follows the same daily wave: a connection every
        // ~20 packets, a request every ~8.
        MetricKind::OpenConnections => &[("open_connections", |s| (s.pps_in / 4.0).round())],
        MetricKind::ConnectionsPerSecond => &[("connections_per_second", |s| round2(s.pps_in / 20.0))],
        MetricKind::RequestsPerSecond => &[("requests_per_second", |s| round2(s.pps_in / 8.0))],
        MetricKind::Bandwidth => &[("bandwidth.in", |s| s.net_bw_in), ("bandwidth.out", |s| s.net_bw_out)],
    }
}

/// One instant of a VM's activity, all series at once so they stay consistent
/// (disk and network traffic follow the CPU load).
#[derive(Debug, Clone, Copy, Default)]
struct Sample {
    /// Percent where one busy core is 100: a 2-core VM peaks at 200, as in Hetzner's
    /// graphs.
    cpu: f64,
    iops_read: f64,
    iops_write: f64,
    /// bytes/s
    disk_bw_read: f64,
    disk_bw_write: f64,
    pps_in: f64,
    pps_out: f64,
    /// bytes/s
    net_bw_in: f64,
    net_bw_out: f64,
}

/// Salts that keep each random draw independent of the others.
mod salt {
    pub const BASE: u64 = 1;
    pub const SWING: u64 = 2;
    pub const PHASE: u64 = 3;
    pub const DISK_SCALE: u64 = 4;
    pub const NET_SCALE: u64 = 5;
    pub const NOISE: u64 = 10;
    pub const BURST: u64 = 11;
    pub const BURST_SIZE: u64 = 12;
    pub const IOPS_READ: u64 = 20;
    pub const IOPS_WRITE: u64 = 21;
    pub const BLOCK_READ: u64 = 22;
    pub const BLOCK_WRITE: u64 = 23;
    pub const PPS_IN: u64 = 30;
    pub const PPS_OUT: u64 = 31;
    pub const PACKET_IN: u64 = 32;
    pub const PACKET_OUT: u64 = 33;
}

impl Sample {
    fn at(vm: VmLoad, ts: i64) -> Sample {
        if vm.off_from.is_some_and(|off| ts >= off) {
            return Sample::default();
        }
        // The VM's character: constant over time.
        let per_vm = |salt| unit(vm.id, 0, salt);
        let base = 0.02 + 0.23 * per_vm(salt::BASE);
        let swing = 0.2 + 0.6 * per_vm(salt::SWING);
        let phase = DAY_SECS * per_vm(salt::PHASE);
        let disk_scale = 0.5 + 1.5 * per_vm(salt::DISK_SCALE);
        let net_scale = 0.5 + 1.5 * per_vm(salt::NET_SCALE);

        // This moment: a daily wave, ±25 % noise and the odd burst.
        let draw = |salt| unit(vm.id, ts, salt);
        // Precision loss only past 2^53 seconds.
        let daily = (TAU * (ts as f64 + phase) / DAY_SECS).sin();
        let mut load = base * (1.0 + swing * daily) * (0.75 + 0.5 * draw(salt::NOISE));
        if draw(salt::BURST) < 0.01 {
            load += 0.3 + 0.5 * draw(salt::BURST_SIZE);
        }
        let load = load.clamp(0.002, 1.0);

        let iops_read = disk_scale * (0.5 + 150.0 * load) * (0.5 + draw(salt::IOPS_READ));
        // Logs and journals write even when idle.
        let iops_write = disk_scale * (1.0 + 80.0 * load) * (0.5 + draw(salt::IOPS_WRITE));
        let block_read = 4096.0 * (1.0 + 15.0 * draw(salt::BLOCK_READ));
        let block_write = 4096.0 * (1.0 + 7.0 * draw(salt::BLOCK_WRITE));
        let pps_in = net_scale * (3.0 + 2000.0 * load) * (0.6 + 0.8 * draw(salt::PPS_IN));
        let pps_out = pps_in * (0.6 + 0.8 * draw(salt::PPS_OUT));
        let packet_in = 80.0 + 400.0 * draw(salt::PACKET_IN);
        let packet_out = 100.0 + 1300.0 * draw(salt::PACKET_OUT);

        Sample {
            cpu: round2(load * 100.0 * f64::from(vm.cores.max(1))),
            iops_read: round2(iops_read),
            iops_write: round2(iops_write),
            disk_bw_read: (iops_read * block_read).round(),
            disk_bw_write: (iops_write * block_write).round(),
            pps_in: round2(pps_in),
            pps_out: round2(pps_out),
            net_bw_in: (pps_in * packet_in).round(),
            net_bw_out: (pps_out * packet_out).round(),
        }
    }
}

/// Rounds to two decimals, as Hetzner's values usually are.
pub(crate) fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(secs, 0).expect("valid timestamp")
    }

    fn query(kinds: Vec<MetricKind>, start: i64, end: i64, step: u32) -> MetricsQuery {
        MetricsQuery { kinds, start: at(start), end: at(end), step }
    }

    const RUNNING: VmLoad = VmLoad { id: 42, cores: 2, off_from: None };
    const T0: i64 = 1_700_000_000;

    #[test]
    fn series_names_follow_hetzner_in_query_order() {
        let q = query(vec![MetricKind::Network, MetricKind::Cpu, MetricKind::Network], T0, T0 + 600, 60);
        let names: Vec<_> = series(RUNNING, &q).into_iter().map(|s| s.name).collect();
        assert_eq!(
            names,
            ["network.0.pps.in", "network.0.pps.out", "network.0.bandwidth.in", "network.0.bandwidth.out", "cpu"]
        );
        let q = query(vec![MetricKind::Disk], T0, T0 + 600, 60);
        let names: Vec<_> = series(RUNNING, &q).into_iter().map(|s| s.name).collect();
        assert_eq!(names, ["disk.0.iops.read", "disk.0.iops.write", "disk.0.bandwidth.read", "disk.0.bandwidth.write"]);
    }

    #[test]
    fn values_are_plausible_over_a_week() {
        let q = query(vec![MetricKind::Cpu, MetricKind::Disk, MetricKind::Network], T0, T0 + 7 * 86_400, 300);
        for vm in
            [RUNNING, VmLoad { id: -3, cores: 1, off_from: None }, VmLoad { id: 9_999, cores: 16, off_from: None }]
        {
            let all = series(vm, &q);
            for s in &all {
                assert_eq!(s.values.len(), 7 * 288 + 1, "{}", s.name);
                assert!(s.values.iter().all(|&(_, v)| v.is_finite() && v > 0.0), "{} has a non-positive value", s.name);
            }
            let cpu = &all[0].values;
            let cap = 100.0 * f64::from(vm.cores);
            assert!(cpu.iter().all(|&(_, v)| v <= cap));
            // It moves: not a flat line.
            let (min, max) = cpu.iter().fold((f64::MAX, 0.0_f64), |(lo, hi), &(_, v)| (lo.min(v), hi.max(v)));
            assert!(max > min * 1.5, "cpu range {min}..{max} is too flat");
        }
    }

    #[test]
    fn overlapping_queries_agree() {
        let coarse = series(RUNNING, &query(vec![MetricKind::Cpu], T0, T0 + 3_600, 600));
        let fine = series(RUNNING, &query(vec![MetricKind::Cpu], T0, T0 + 3_600, 60));
        for &(ts, v) in &coarse[0].values {
            assert!(fine[0].values.contains(&(ts, v)));
        }
        let other = series(VmLoad { id: 43, ..RUNNING }, &query(vec![MetricKind::Cpu], T0, T0 + 3_600, 600));
        assert_ne!(coarse, other, "different VMs look different");
    }

    #[test]
    fn off_vm_is_quiet_from_when_it_stopped() {
        let vm = VmLoad { off_from: Some(T0 + 300), ..RUNNING };
        for s in series(vm, &query(vec![MetricKind::Cpu, MetricKind::Disk, MetricKind::Network], T0, T0 + 600, 60)) {
            for &(ts, v) in &s.values {
                #[allow(clippy::cast_possible_truncation, reason = "test timestamps are whole seconds")]
                let ts = ts as i64;
                assert_eq!(v == 0.0, ts >= T0 + 300, "{} at {ts}", s.name);
            }
        }
    }
}
