//! Metric queries and series, in the shape every dialect can render
//! (Hetzner's `time_series` with `[timestamp, "value"]` pairs, for one).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A family of metrics, as Hetzner groups them (servers: cpu, disk, network; load
/// balancers: connections, requests, bandwidth).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricKind {
    /// `cpu`: percent of all cores.
    Cpu,
    /// `disk.0.iops.read|write`, `disk.0.bandwidth.read|write`.
    Disk,
    /// `network.0.pps.in|out`, `network.0.bandwidth.in|out`.
    Network,
    /// Load balancers: `open_connections`.
    OpenConnections,
    /// Load balancers: `connections_per_second`.
    ConnectionsPerSecond,
    /// Load balancers: `requests_per_second`.
    RequestsPerSecond,
    /// Load balancers: `bandwidth.in|out`.
    Bandwidth,
}

/// Which series, over which time, at which resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsQuery {
    pub kinds: Vec<MetricKind>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Seconds between samples; at least 1.
    pub step: u32,
}

impl MetricsQuery {
    /// The kinds asked for, in the order asked, each once.
    pub fn distinct_kinds(&self) -> Vec<MetricKind> {
        let mut kinds: Vec<MetricKind> = Vec::new();
        for kind in &self.kinds {
            if !kinds.contains(kind) {
                kinds.push(*kind);
            }
        }
        kinds
    }
}

/// One named series of `(unix seconds, value)` samples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricSeries {
    /// Hetzner's series names (`cpu`, `disk.0.iops.read`, `network.0.bandwidth.in`, ...).
    pub name: String,
    pub values: Vec<(f64, f64)>,
}

/// At most this many samples per series, whatever the query asks. The core caps queries
/// (Hetzner: 500 samples); this only keeps a bad query from allocating without bound.
pub const MAX_SAMPLES: u64 = 10_000;

/// `start`, `start + step`, ... up to and including `end`. A step too fine for
/// [`MAX_SAMPLES`] is widened (as Hetzner widens steps past its own limit), so the
/// whole range stays covered.
pub fn sample_times(start: i64, end: i64, step: u32) -> Vec<i64> {
    let Ok(span) = u64::try_from(end.saturating_sub(start)) else {
        return Vec::new(); // end before start
    };
    let mut step = u64::from(step.max(1));
    if span / step + 1 > MAX_SAMPLES {
        step = span.div_ceil(MAX_SAMPLES - 1);
    }
    (0..=span / step).filter_map(|k| i64::try_from(k * step).ok()).map(|offset| start + offset).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_times_cover_the_range() {
        assert_eq!(sample_times(0, 10, 5), vec![0, 5, 10]);
        assert_eq!(sample_times(0, 9, 5), vec![0, 5]);
        assert_eq!(sample_times(3, 3, 60), vec![3]);
        assert_eq!(sample_times(10, 0, 5), Vec::<i64>::new());
        assert_eq!(sample_times(0, 2, 0), vec![0, 1, 2], "step 0 counts as 1");
    }

    #[test]
    fn sample_count_is_capped() {
        let times = sample_times(0, 1_000_000, 1);
        assert!(times.len() <= usize::try_from(MAX_SAMPLES).expect("fits"));
        assert_eq!(times.first(), Some(&0));
        assert!(times.last().is_some_and(|&t| t <= 1_000_000 && t > 1_000_000 - 200));
    }
}
