//! The catalogue every project sees: places (Hetzner locations and datacenters, IONOS
//! datacenters, Cloude.ro regions, e24cloud zones), server types with prices, ISOs and
//! the price list. Admins manage it with `stratus catalog`.

use crate::ids::{DatacenterId, IsoId, LoadBalancerTypeId, LocationId, ServerTypeId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// An amount in billionths of the currency unit. Integer, so sums and VAT never drift;
/// 10^-9 is finer than any provider shows (Hetzner: 10 decimals of which the last are 0).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Money(pub i64);

impl Money {
    /// Parses a decimal such as `"4.5100"`.
    pub fn parse(s: &str) -> Option<Money> {
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        if frac.len() > 9 || int.is_empty() || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let int: i64 = int.parse().ok()?;
        let frac: i64 = format!("{frac:0<9}").parse().ok()?;
        int.checked_mul(1_000_000_000)?.checked_add(frac).map(Money)
    }

    /// This amount with `vat_basis_points` (1900 = 19 %) added, rounded half up.
    pub fn with_vat(self, vat_basis_points: i64) -> Money {
        Money((self.0 * (10_000 + vat_basis_points) + 5_000) / 10_000)
    }

    /// The amount with exactly `decimals` digits after the point (at most 9).
    pub fn to_decimal(self, decimals: usize) -> String {
        let s = format!("{}.{:09}", self.0 / 1_000_000_000, self.0 % 1_000_000_000);
        let cut = s.len() - 9 + decimals.min(9);
        let mut out = s[..cut].to_string();
        if decimals > 9 {
            out.extend(std::iter::repeat_n('0', decimals - 9));
        }
        out
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_decimal(4))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Location {
    pub id: LocationId,
    pub name: String,
    pub description: String,
    pub country: String,
    pub city: String,
    pub latitude: f64,
    pub longitude: f64,
    pub network_zone: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Datacenter {
    pub id: DatacenterId,
    pub name: String,
    pub description: String,
    pub location: LocationId,
}

/// A server type's price in one location, net of VAT.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocationPrice {
    pub location: LocationId,
    pub hourly: Money,
    pub monthly: Money,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerType {
    pub id: ServerTypeId,
    pub name: String,
    pub description: String,
    pub cores: u32,
    pub memory_gb: f64,
    pub disk_gb: u32,
    /// `local` or `network`.
    pub storage_type: String,
    /// `shared` or `dedicated`.
    pub cpu_type: String,
    /// `x86` or `arm`.
    pub architecture: String,
    pub deprecated: Option<DateTime<Utc>>,
    /// Bytes of traffic included per month.
    pub included_traffic: u64,
    pub prices: Vec<LocationPrice>,
}

/// A load balancer size: what it may carry and what it costs per location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadBalancerType {
    pub id: LoadBalancerTypeId,
    pub name: String,
    pub description: String,
    pub max_connections: u32,
    pub max_services: u32,
    pub max_targets: u32,
    pub max_assigned_certificates: u32,
    pub deprecated: Option<DateTime<Utc>>,
    /// Bytes of traffic included per month.
    pub included_traffic: u64,
    pub prices: Vec<LocationPrice>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IsoType {
    Public,
    Private,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Iso {
    pub id: IsoId,
    pub name: String,
    pub description: String,
    /// Stored as `type`, as for images.
    #[serde(rename = "type")]
    pub kind: IsoType,
    pub architecture: Option<String>,
    pub deprecated: Option<DateTime<Utc>>,
}

/// The price list that is not per server type. One row, admin-managed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceList {
    pub currency: String,
    /// VAT in basis points (1900 = 19 %).
    pub vat_basis_points: i64,
    pub image_per_gb_month: Money,
    pub floating_ipv4_monthly: Money,
    pub floating_ipv6_monthly: Money,
    pub primary_ipv4_hourly: Money,
    pub primary_ipv4_monthly: Money,
    pub traffic_per_tb: Money,
    /// Backups cost this percentage of the server's price.
    pub backup_percentage: u32,
    /// Volumes, per GB and month.
    #[serde(default)]
    pub volume_per_gb_month: Money,
    /// Primary IPv6 addresses (Hetzner charges none; others may).
    #[serde(default)]
    pub primary_ipv6_hourly: Money,
    #[serde(default)]
    pub primary_ipv6_monthly: Money,
}

#[cfg(test)]
mod tests {
    use super::Money;

    #[test]
    fn money_parses_renders_and_adds_vat() {
        let m = Money::parse("4.51").unwrap();
        assert_eq!(m.to_decimal(4), "4.5100");
        assert_eq!(m.to_decimal(10), "4.5100000000");
        assert_eq!(m.with_vat(1900).to_decimal(4), "5.3669");
        assert_eq!(Money::parse("0.0072").unwrap().to_decimal(10), "0.0072000000");
        assert_eq!(Money::parse("12").unwrap().to_decimal(2), "12.00");
        for bad in ["", "x", "1.x", ".5", "1.0000000001"] {
            assert_eq!(Money::parse(bad), None, "{bad}");
        }
    }
}
