//! Server metrics from libvirt's domain statistics.
//!
//! libvirt gives counters at the instant asked (CPU time, the boot disk's requests and
//! bytes); Hetzner's metrics are rates over time. So a sampler reads every VM's counters
//! each [`SAMPLE_EVERY`] and keeps the last [`KEEP_SECS`] in memory, and a query turns
//! consecutive samples into rates, averaged over each requested step.
//!
//! Gaps stay gaps: where no two samples bracket a time (before the VM existed, while
//! Stratus was not running) the series has no point, rather than an invented zero. A VM
//! that is off is sampled too, so its graph shows zero while it was off.
//!
//! Network counters come from the guest: the NIC's passt backend keeps none libvirt can
//! read (`virDomainInterfaceStats` needs a host tap device), so QEMU's guest agent is
//! asked for its interfaces' statistics (`guest-network-get-interfaces`, every
//! interface but loopback summed). A guest without the agent has gaps in its network
//! series, not zeros; its CPU and disk series are libvirt's either way.

use crate::driver::VmId;
use crate::metrics::{MetricKind, MetricSeries, MetricsQuery};
use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tracing::debug;
use virt::connect::Connect;
use virt::domain::Domain;

/// How often every VM's counters are read.
pub const SAMPLE_EVERY: Duration = Duration::from_secs(10);
/// How much history is kept per VM: Hetzner's graphs go back a day at most by default.
const KEEP_SECS: f64 = 25.0 * 3600.0;
/// Two samples further apart than this do not make a rate (Stratus was not sampling).
const MAX_GAP_SECS: f64 = 3.0 * SAMPLE_EVERY.as_secs_f64();

/// A VM's counters at one instant (monotonic while its QEMU process runs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    pub cpu_ns: u64,
    pub read_requests: u64,
    pub write_requests: u64,
    pub read_bytes: u64,
    pub write_bytes: u64,
    /// The guest's own, when its agent answered (monotonic while the guest runs).
    pub net: Option<NetCounters>,
}

/// The guest's network counters, every interface but loopback.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NetCounters {
    pub rx_packets: u64,
    pub tx_packets: u64,
    pub rx_bytes: u64,
    pub tx_bytes: u64,
}

impl Counters {
    /// CPU and disk rates from `earlier` to `self` over `secs`. A counter that went back
    /// means the VM's process started again in between, so its counters began from zero.
    fn host_rates(&self, earlier: &Counters, secs: f64) -> HostRates {
        let since = |now: u64, then: u64| now.checked_sub(then);
        let delta = (|| {
            Some([
                since(self.cpu_ns, earlier.cpu_ns)?,
                since(self.read_requests, earlier.read_requests)?,
                since(self.write_requests, earlier.write_requests)?,
                since(self.read_bytes, earlier.read_bytes)?,
                since(self.write_bytes, earlier.write_bytes)?,
            ])
        })()
        .unwrap_or([
            self.cpu_ns,
            self.read_requests,
            self.write_requests,
            self.read_bytes,
            self.write_bytes,
        ]);
        let per_sec = delta.map(|v| v as f64 / secs);
        // Percent where one busy core is 100, as in Hetzner's graphs.
        [per_sec[0] / 1e9 * 100.0, per_sec[1], per_sec[2], per_sec[3], per_sec[4]]
    }
}

impl NetCounters {
    /// Network rates from `earlier` to `self` over `secs`; counters that went back began
    /// from zero in between (the guest booted again).
    fn rates(&self, earlier: &NetCounters, secs: f64) -> NetRates {
        let now = [self.rx_packets, self.tx_packets, self.rx_bytes, self.tx_bytes];
        let then = [earlier.rx_packets, earlier.tx_packets, earlier.rx_bytes, earlier.tx_bytes];
        let went_back = now.iter().zip(&then).any(|(n, t)| n < t);
        let delta = if went_back { now } else { [0, 1, 2, 3].map(|i| now[i] - then[i]) };
        delta.map(|v| v as f64 / secs)
    }
}

/// One reading: `None` counters when the VM was off.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// Unix seconds.
    pub at: f64,
    pub counters: Option<Counters>,
}

/// CPU percent, read and write requests per second, read and written bytes per second.
type HostRates = [f64; 5];
/// Packets per second in and out, bytes per second in and out: in is what the guest
/// received, out what it sent.
type NetRates = [f64; 4];

/// Rates over the interval from `.0` to `.1`.
type Interval<R> = (f64, f64, R);

/// The CPU and disk rates between consecutive samples. A VM off at either end ran
/// nothing; samples too far apart (Stratus was not sampling) make no rate.
fn host_intervals(samples: &[Sample]) -> Vec<Interval<HostRates>> {
    samples
        .windows(2)
        .filter_map(|w| {
            let (a, b) = (&w[0], &w[1]);
            let secs = b.at - a.at;
            if secs <= 0.0 || secs > MAX_GAP_SECS {
                return None;
            }
            let rates = match (a.counters, b.counters) {
                (Some(before), Some(after)) => after.host_rates(&before, secs),
                _ => HostRates::default(),
            };
            Some((a.at, b.at, rates))
        })
        .collect()
}

/// The network rates between the guest agent's readings. A reading the agent missed
/// while the VM ran is bridged by the next one it gives (the guest's counters kept
/// counting), so no traffic is lost; while the VM was off nothing moved; an agent
/// that never answered leaves a gap.
fn net_intervals(samples: &[Sample]) -> Vec<Interval<NetRates>> {
    let mut out = Vec::new();
    // The agent's last reading since which the VM has run and been sampled.
    let mut last: Option<(f64, NetCounters)> = samples.first().and_then(|s| Some((s.at, s.counters?.net?)));
    for w in samples.windows(2) {
        let (a, b) = (&w[0], &w[1]);
        let sampled = b.at - a.at <= MAX_GAP_SECS;
        let reading = b.counters.and_then(|c| c.net).map(|n| (b.at, n));
        if !sampled {
            last = reading;
        } else if a.counters.is_none() || b.counters.is_none() {
            // Off at one end: nothing ran, nothing moved.
            out.push((a.at, b.at, NetRates::default()));
            last = reading;
        } else if let Some((at, now)) = reading {
            if let Some((since, then)) = last {
                out.push((since, at, now.rates(&then, at - since)));
            }
            last = reading;
        }
    }
    out
}

/// Which rate a series shows.
#[derive(Debug, Clone, Copy)]
enum Rate {
    Host(usize),
    Net(usize),
}

/// Hetzner's series names for each kind a VM has, and which rate they show.
fn kind_series(kind: MetricKind) -> &'static [(&'static str, Rate)] {
    match kind {
        MetricKind::Cpu => &[("cpu", Rate::Host(0))],
        MetricKind::Disk => &[
            ("disk.0.iops.read", Rate::Host(1)),
            ("disk.0.iops.write", Rate::Host(2)),
            ("disk.0.bandwidth.read", Rate::Host(3)),
            ("disk.0.bandwidth.write", Rate::Host(4)),
        ],
        MetricKind::Network => &[
            ("network.0.pps.in", Rate::Net(0)),
            ("network.0.pps.out", Rate::Net(1)),
            ("network.0.bandwidth.in", Rate::Net(2)),
            ("network.0.bandwidth.out", Rate::Net(3)),
        ],
        // Load balancer kinds: a VM has none.
        MetricKind::OpenConnections
        | MetricKind::ConnectionsPerSecond
        | MetricKind::RequestsPerSecond
        | MetricKind::Bandwidth => &[],
    }
}

/// Every VM's recent samples.
#[derive(Debug, Default)]
pub struct History {
    vms: Mutex<HashMap<VmId, VecDeque<Sample>>>,
}

impl History {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<VmId, VecDeque<Sample>>> {
        // The map stays consistent whatever a panicking holder did: every change is one push or pop.
        self.vms.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds a sample (in time order), dropping what is older than the history kept.
    pub fn record(&self, vm: VmId, sample: Sample) {
        let mut vms = self.lock();
        let samples = vms.entry(vm).or_default();
        if samples.back().is_some_and(|last| last.at >= sample.at) {
            return;
        }
        samples.push_back(sample);
        while samples.front().is_some_and(|first| first.at < sample.at - KEEP_SECS) {
            samples.pop_front();
        }
    }

    /// Drops a deleted VM's history.
    pub fn forget(&self, vm: VmId) {
        self.lock().remove(&vm);
    }

    /// The series `query` asks for, from the samples kept plus `now` (a reading taken for
    /// this query, so the latest seconds count too).
    pub fn series(&self, vm: VmId, query: &MetricsQuery, now: Option<Sample>) -> Vec<MetricSeries> {
        let mut samples: Vec<Sample> = self.lock().get(&vm).map(|s| s.iter().copied().collect()).unwrap_or_default();
        if let Some(now) = now {
            if samples.last().is_none_or(|last| last.at < now.at) {
                samples.push(now);
            }
        }
        let (host, net) = (host_intervals(&samples), net_intervals(&samples));
        let times = crate::metrics::sample_times(query.start.timestamp(), query.end.timestamp(), query.step);
        // Each point averages the rates over the step that ends at it (at least one
        // sampling interval, so a fine step still finds data).
        let window = f64::from(query.step).max(SAMPLE_EVERY.as_secs_f64());
        let points: Vec<(f64, Option<HostRates>, Option<NetRates>)> = times
            .iter()
            .map(|&t| {
                let (from, to) = (t as f64 - window, t as f64);
                (t as f64, average(&host, from, to), average(&net, from, to))
            })
            .collect();
        let mut out = Vec::new();
        for kind in query.distinct_kinds() {
            for &(name, rate) in kind_series(kind) {
                let values = points
                    .iter()
                    .filter_map(|&(t, host, net)| {
                        let v = match rate {
                            Rate::Host(i) => host?[i],
                            Rate::Net(i) => net?[i],
                        };
                        Some((t, round2(v)))
                    })
                    .collect();
                out.push(MetricSeries { name: name.to_owned(), values });
            }
        }
        out
    }
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// The time-weighted average of the rates of `intervals` (sorted, not overlapping) over
/// `[from, to]`, or `None` when none of them covers any of it.
fn average<const N: usize>(intervals: &[Interval<[f64; N]>], from: f64, to: f64) -> Option<[f64; N]> {
    let first = intervals.partition_point(|&(_, end, _)| end <= from);
    let mut sum = [0.0; N];
    let mut covered = 0.0;
    for &(start, end, rates) in intervals[first..].iter().take_while(|&&(start, _, _)| start < to) {
        let overlap = end.min(to) - start.max(from);
        if overlap <= 0.0 {
            continue;
        }
        covered += overlap;
        for (s, r) in sum.iter_mut().zip(rates) {
            *s += r * overlap;
        }
    }
    (covered > 0.0).then(|| sum.map(|s| s / covered))
}

fn unix_now() -> f64 {
    chrono::Utc::now().timestamp_micros() as f64 / 1e6
}

/// A domain's reading now (blocking libvirt calls).
pub fn read(domain: &Domain) -> Sample {
    let at = unix_now();
    let counters = (|| {
        if !domain.is_active().ok()? {
            return None;
        }
        let cpu_ns = domain.get_info().ok()?.cpu_time;
        // The boot disk (`vda`, as the domain XML names it).
        let disk = domain.get_block_stats("vda").ok()?;
        let n = |v: i64| u64::try_from(v).unwrap_or(0);
        Some(Counters {
            cpu_ns,
            read_requests: n(disk.rd_req),
            write_requests: n(disk.wr_req),
            read_bytes: n(disk.rd_bytes),
            write_bytes: n(disk.wr_bytes),
            net: guest_net(domain),
        })
    })();
    Sample { at, counters }
}

/// How long the guest's agent may take to answer: a sampling round asks every VM in
/// turn. An agent that is not connected fails at once.
const AGENT_WAIT_SECS: i32 = 2;

/// The guest's network counters, from its agent (blocking).
fn guest_net(domain: &Domain) -> Option<NetCounters> {
    match domain.qemu_agent_command(r#"{"execute":"guest-network-get-interfaces"}"#, AGENT_WAIT_SECS, 0) {
        Ok(answer) => parse_interfaces(&answer),
        Err(e) => {
            debug!(domain = ?domain.get_name().ok(), error = %e, "libvirt: no network counters from the guest agent");
            None
        }
    }
}

/// Sums the statistics of `guest-network-get-interfaces` over every interface but
/// loopback; `None` when the agent gives no statistics (qemu-ga before 7.1).
fn parse_interfaces(answer: &str) -> Option<NetCounters> {
    let value: serde_json::Value = serde_json::from_str(answer).ok()?;
    let mut total = NetCounters::default();
    let mut any = false;
    for nic in value["return"].as_array()? {
        if nic["name"] == "lo" {
            continue;
        }
        let stats = &nic["statistics"];
        let field = |name: &str| stats[name].as_u64();
        let (Some(rx_packets), Some(tx_packets), Some(rx_bytes), Some(tx_bytes)) =
            (field("rx-packets"), field("tx-packets"), field("rx-bytes"), field("tx-bytes"))
        else {
            continue;
        };
        any = true;
        total.rx_packets += rx_packets;
        total.tx_packets += tx_packets;
        total.rx_bytes += rx_bytes;
        total.tx_bytes += tx_bytes;
    }
    any.then_some(total)
}

/// Reads every VM of this data directory (a `vms/<id>` folder next to a `stratus-<id>`
/// domain; another installation's domains are left alone) each [`SAMPLE_EVERY`].
pub fn spawn_sampler(conn: Arc<Connect>, vms: PathBuf, history: Arc<History>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(SAMPLE_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let (conn, vms, history) = (conn.clone(), vms.clone(), history.clone());
            if let Err(e) = tokio::task::spawn_blocking(move || sample_all(&conn, &vms, &history)).await {
                debug!(error = %e, "libvirt: sampling failed");
            }
        }
    });
}

/// How many VMs are read at once: asked in turn, one guest agent slow to answer (up to
/// [`AGENT_WAIT_SECS`]) would hold back the reading of every VM after it.
const READERS: usize = 8;

fn sample_all(conn: &Connect, vms: &Path, history: &History) {
    let Ok(domains) = conn.list_all_domains(0) else { return };
    let ours: Vec<(VmId, Domain)> = domains
        .into_iter()
        .filter_map(|domain| {
            let id = domain.get_name().ok()?.strip_prefix("stratus-")?.parse::<VmId>().ok()?;
            vms.join(id.to_string()).is_dir().then_some((id, domain))
        })
        .collect();
    if ours.is_empty() {
        return;
    }
    std::thread::scope(|scope| {
        for share in ours.chunks(ours.len().div_ceil(READERS)) {
            scope.spawn(move || {
                for (id, domain) in share {
                    history.record(*id, read(domain));
                }
            });
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn running(at: f64, cpu_s: u64, reads: u64, written: u64) -> Sample {
        Sample {
            at,
            counters: Some(Counters {
                cpu_ns: cpu_s * 1_000_000_000,
                read_requests: reads,
                write_requests: reads * 2,
                read_bytes: reads * 4096,
                write_bytes: written,
                net: None,
            }),
        }
    }

    /// A running VM whose agent reported `rx`/`tx` bytes (and a packet per KiB).
    fn with_net(at: f64, rx: u64, tx: u64) -> Sample {
        let mut s = running(at, 0, 0, 0);
        if let Some(c) = s.counters.as_mut() {
            c.net = Some(NetCounters { rx_packets: rx / 1024, tx_packets: tx / 1024, rx_bytes: rx, tx_bytes: tx });
        }
        s
    }

    fn query(kinds: Vec<MetricKind>, start: i64, end: i64, step: u32) -> MetricsQuery {
        MetricsQuery {
            kinds,
            start: Utc.timestamp_opt(start, 0).unwrap(),
            end: Utc.timestamp_opt(end, 0).unwrap(),
            step,
        }
    }

    #[test]
    fn counters_become_rates_per_step() {
        let h = History::default();
        // One core busy from 1000 s to 1020 s, idle after; 10 reads and 1 MiB written per 10 s.
        h.record(1, running(1000.0, 0, 0, 0));
        h.record(1, running(1010.0, 10, 10, 1 << 20));
        h.record(1, running(1020.0, 20, 20, 2 << 20));
        h.record(1, running(1030.0, 20, 30, 3 << 20));
        let series = h.series(1, &query(vec![MetricKind::Cpu, MetricKind::Disk], 1010, 1030, 10), None);
        let names: Vec<&str> = series.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            ["cpu", "disk.0.iops.read", "disk.0.iops.write", "disk.0.bandwidth.read", "disk.0.bandwidth.write"]
        );
        assert_eq!(series[0].values, [(1010.0, 100.0), (1020.0, 100.0), (1030.0, 0.0)]);
        assert_eq!(series[1].values, [(1010.0, 1.0), (1020.0, 1.0), (1030.0, 1.0)]);
        assert_eq!(series[2].values[0], (1010.0, 2.0));
        assert_eq!(series[3].values[0], (1010.0, 4096.0));
        assert_eq!(series[4].values[0], (1010.0, 104_857.6));
        // A coarser step averages: 20 s windows ending at 1010 and 1030.
        let coarse = h.series(1, &query(vec![MetricKind::Cpu], 1010, 1030, 20), None);
        assert_eq!(coarse[0].values, [(1010.0, 100.0), (1030.0, 50.0)]);
    }

    #[test]
    fn gaps_have_no_points_and_off_is_zero() {
        let h = History::default();
        h.record(1, running(1000.0, 0, 0, 0));
        h.record(1, running(1010.0, 5, 0, 0));
        // Stratus not sampling for a minute: no rate across the gap.
        h.record(1, running(1070.0, 65, 0, 0));
        h.record(1, Sample { at: 1080.0, counters: None });
        let cpu = h.series(1, &query(vec![MetricKind::Cpu], 1000, 1080, 10), None).remove(0).values;
        let times: Vec<f64> = cpu.iter().map(|&(t, _)| t).collect();
        assert_eq!(times, [1010.0, 1080.0], "points only where samples bracket them");
        assert_eq!(cpu[0].1, 50.0);
        assert_eq!(cpu[1].1, 0.0, "off");
        // Before any sample, and for a VM never sampled: nothing.
        assert!(h.series(1, &query(vec![MetricKind::Cpu], 900, 990, 10), None)[0].values.is_empty());
        assert!(h.series(2, &query(vec![MetricKind::Cpu], 1000, 1080, 10), None)[0].values.is_empty());
    }

    #[test]
    fn a_restart_between_samples_counts_from_zero() {
        let h = History::default();
        h.record(1, running(1000.0, 50, 0, 0));
        h.record(1, running(1010.0, 2, 0, 0)); // the process started again
        let cpu = h.series(1, &query(vec![MetricKind::Cpu], 1010, 1010, 10), None).remove(0).values;
        assert_eq!(cpu, [(1010.0, 20.0)]);
    }

    #[test]
    fn the_reading_of_the_query_counts_and_old_samples_go() {
        let h = History::default();
        h.record(1, running(1000.0, 0, 0, 0));
        let now = running(1005.0, 5, 0, 0);
        let cpu = h.series(1, &query(vec![MetricKind::Cpu], 1005, 1005, 1), Some(now)).remove(0).values;
        assert_eq!(cpu, [(1005.0, 100.0)]);
        h.record(1, running(1000.0 + KEEP_SECS + 1.0, 0, 0, 0));
        assert_eq!(h.lock()[&1].len(), 1, "the first sample is past what is kept");
        h.forget(1);
        assert!(h.lock().is_empty());
    }

    #[test]
    fn network_series_come_from_the_agent_and_a_missed_reading_loses_nothing() {
        let h = History::default();
        h.record(1, with_net(1000.0, 0, 0));
        h.record(1, with_net(1010.0, 10 << 20, 1 << 20));
        h.record(1, running(1020.0, 0, 0, 0)); // the agent did not answer
        h.record(1, with_net(1030.0, 14 << 20, 2 << 20));
        h.record(1, with_net(1040.0, 1 << 20, 0)); // the guest rebooted: counters from zero
        let net = h.series(1, &query(vec![MetricKind::Network, MetricKind::Network], 1010, 1040, 10), None);
        let names: Vec<&str> = net.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            ["network.0.pps.in", "network.0.pps.out", "network.0.bandwidth.in", "network.0.bandwidth.out"],
            "duplicates ignored"
        );
        // The 4 MiB received between 1010 and 1030 spread over the two steps, not dropped.
        assert_eq!(
            net[2].values,
            [(1010.0, 1_048_576.0), (1020.0, 209_715.2), (1030.0, 209_715.2), (1040.0, 104_857.6)]
        );
        assert_eq!(net[3].values[0], (1010.0, 104_857.6));
        assert_eq!(net[0].values[0], (1010.0, 1024.0));
        let cpu = h.series(1, &query(vec![MetricKind::Cpu], 1010, 1040, 10), None).remove(0).values;
        assert_eq!(cpu.len(), 4, "CPU does not depend on the agent");
    }

    #[test]
    fn network_series_have_gaps_without_an_agent_and_zeros_while_off() {
        let h = History::default();
        h.record(1, running(1000.0, 0, 0, 0));
        h.record(1, running(1010.0, 1, 0, 0));
        h.record(1, Sample { at: 1020.0, counters: None });
        h.record(1, with_net(1030.0, 5 << 20, 0)); // booted, the agent up
        h.record(1, with_net(1040.0, 6 << 20, 0));
        // Stratus not sampling for a minute: the reading after it bridges nothing.
        h.record(1, with_net(1100.0, 100 << 20, 0));
        h.record(1, with_net(1110.0, 101 << 20, 0));
        let net = h.series(1, &query(vec![MetricKind::Network], 1010, 1110, 10), None);
        let times: Vec<f64> = net[2].values.iter().map(|&(t, _)| t).collect();
        assert_eq!(times, [1020.0, 1030.0, 1040.0, 1110.0], "no agent at 1010, nothing across the gap");
        assert_eq!(net[2].values[..2], [(1020.0, 0.0), (1030.0, 0.0)], "off");
        assert_eq!(net[2].values[2..], [(1040.0, 104_857.6), (1110.0, 104_857.6)]);
    }

    #[test]
    fn the_agents_interfaces_are_summed_without_loopback() {
        let answer = r#"{"return":[
            {"name":"lo","statistics":{"rx-bytes":999,"rx-packets":9,"tx-bytes":999,"tx-packets":9}},
            {"name":"eth0","ip-addresses":[],"statistics":{"rx-bytes":1000,"rx-packets":10,"tx-bytes":200,"tx-packets":2,"rx-errs":0}},
            {"name":"eth1","statistics":{"rx-bytes":5,"rx-packets":1,"tx-bytes":7,"tx-packets":1}}]}"#;
        assert_eq!(
            parse_interfaces(answer),
            Some(NetCounters { rx_packets: 11, tx_packets: 3, rx_bytes: 1005, tx_bytes: 207 })
        );
        assert_eq!(parse_interfaces(r#"{"return":[{"name":"eth0"}]}"#), None, "an agent without statistics");
        assert_eq!(parse_interfaces("not json"), None);
    }
}
