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

/// One named series of `(unix seconds, value)` samples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricSeries {
    /// Hetzner's series names (`cpu`, `disk.0.iops.read`, `network.0.bandwidth.in`, ...).
    pub name: String,
    pub values: Vec<(f64, f64)>,
}
