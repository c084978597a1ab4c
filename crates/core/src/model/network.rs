//! Private networks: an IPv4 range, subnets inside it and static routes (Hetzner
//! networks, IONOS private networks). Servers and load balancers join through
//! interfaces ([`super::Nic`]).

use super::Protection;
use crate::error::{Error, Result};
use crate::ids::{NetworkId, ProjectId};
use crate::labels::Labels;
use chrono::{DateTime, Utc};
use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};
use std::net::Ipv4Addr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubnetKind {
    /// Cloud servers and load balancers.
    Cloud,
    /// The deprecated name of `Cloud` that some clients still send.
    Server,
    /// Connects a dedicated server's vSwitch.
    Vswitch,
}

impl SubnetKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SubnetKind::Cloud => "cloud",
            SubnetKind::Server => "server",
            SubnetKind::Vswitch => "vswitch",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subnet {
    pub kind: SubnetKind,
    /// CIDR inside the network's range, as given (`10.0.1.0/24`).
    pub ip_range: String,
    /// The network zone its servers live in (`eu-central`).
    pub network_zone: String,
    /// The subnet's gateway: its first host address.
    pub gateway: String,
    pub vswitch_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    /// CIDR, as given.
    pub destination: String,
    /// An address inside the network.
    pub gateway: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Network {
    pub id: NetworkId,
    pub project: ProjectId,
    pub name: String,
    /// CIDR, as given (`10.0.0.0/16`).
    pub ip_range: String,
    pub subnets: Vec<Subnet>,
    pub routes: Vec<Route>,
    pub expose_routes_to_vswitch: bool,
    pub protection: Protection,
    pub labels: Labels,
    pub created: DateTime<Utc>,
}

/// The address every server's public interface uses as its gateway: never a private
/// route's destination or gateway.
const PUBLIC_GATEWAY: Ipv4Addr = Ipv4Addr::new(172, 31, 1, 1);

/// The private ranges of RFC 1918, the only ones networks may use.
const PRIVATE_RANGES: [(Ipv4Addr, u8); 3] =
    [(Ipv4Addr::new(10, 0, 0, 0), 8), (Ipv4Addr::new(172, 16, 0, 0), 12), (Ipv4Addr::new(192, 168, 0, 0), 16)];

/// An IPv4 network in CIDR notation with no host bits set; `field` names it in errors.
pub(crate) fn parse_cidr(field: &str, text: &str) -> Result<Ipv4Net> {
    let net: Ipv4Net = text
        .parse()
        .map_err(|_| Error::invalid_field(field, format!("'{text}' is not an IPv4 network in CIDR notation")))?;
    if net.addr() != net.network() {
        return Err(Error::invalid_field(field, format!("'{text}' has host bits set; the network is {}", net.trunc())));
    }
    Ok(net)
}

fn is_private(net: &Ipv4Net) -> bool {
    PRIVATE_RANGES.iter().any(|(addr, len)| Ipv4Net::new(*addr, *len).is_ok_and(|r| r.contains(net)))
}

fn overlaps(a: &Ipv4Net, b: &Ipv4Net) -> bool {
    a.contains(b) || b.contains(a)
}

/// A network's range: private (RFC 1918), from /8 to /24 (Hetzner's bounds).
pub(crate) fn parse_network_range(field: &str, text: &str) -> Result<Ipv4Net> {
    let net = parse_cidr(field, text)?;
    if !is_private(&net) || !(8..=24).contains(&net.prefix_len()) {
        return Err(Error::invalid_field(
            field,
            "must be a private range of RFC 1918 (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16), from /8 to /24",
        ));
    }
    Ok(net)
}

/// The default route, the one destination that may overlap everything.
fn is_default_route(net: &Ipv4Net) -> bool {
    net.prefix_len() == 0
}

impl Network {
    fn range(&self) -> Result<Ipv4Net> {
        parse_cidr("ip_range", &self.ip_range)
    }

    /// The gateway of every subnet: the first host of the network's range, as Hetzner
    /// shows it (`10.0.0.1` for a subnet `10.0.1.0/24` of `10.0.0.0/16`).
    pub fn gateway(&self) -> Option<Ipv4Addr> {
        self.range().ok().and_then(|n| n.hosts().next())
    }

    /// The ranges a new subnet or route destination must not overlap: the subnets and the
    /// route destinations other than the default route.
    fn taken_ranges(&self) -> Vec<Ipv4Net> {
        let subnets = self.subnets.iter().filter_map(|s| s.ip_range.parse().ok());
        let routes = self.routes.iter().filter_map(|r| r.destination.parse().ok()).filter(|n| !is_default_route(n));
        subnets.chain(routes).collect()
    }

    /// Adds a subnet; without `ip_range`, the first free /24 of the network's range.
    pub(crate) fn add_subnet(
        &mut self,
        kind: SubnetKind,
        ip_range: Option<&str>,
        network_zone: &str,
        vswitch_id: Option<i64>,
    ) -> Result<()> {
        match (kind, vswitch_id) {
            (SubnetKind::Vswitch, None) => {
                return Err(Error::invalid_field("vswitch_id", "is required for subnets of type vswitch"))
            }
            (SubnetKind::Cloud | SubnetKind::Server, Some(_)) => {
                return Err(Error::invalid_field("vswitch_id", "is only allowed for subnets of type vswitch"))
            }
            _ => {}
        }
        let range = self.range()?;
        let taken = self.taken_ranges();
        let ip_range = match ip_range {
            Some(text) => {
                let net = parse_cidr("ip_range", text)?;
                if !range.contains(&net) || net.prefix_len() > 30 {
                    return Err(Error::invalid_field(
                        "ip_range",
                        format!("must be a /30 or larger inside the network's range {}", self.ip_range),
                    ));
                }
                if let Some(other) = taken.iter().find(|t| overlaps(t, &net)) {
                    return Err(Error::invalid_field("ip_range", format!("{text} overlaps {other}")));
                }
                text.to_string()
            }
            None => range
                .subnets(24)
                .ok()
                .and_then(|mut all| all.find(|c| !taken.iter().any(|t| overlaps(t, c))))
                .map(|n| n.to_string())
                .ok_or_else(|| Error::invalid_field("ip_range", "no free /24 is left in the network's range"))?,
        };
        let gateway = self.gateway().map(|g| g.to_string()).unwrap_or_default();
        self.subnets.push(Subnet { kind, ip_range, network_zone: network_zone.to_string(), gateway, vswitch_id });
        Ok(())
    }

    /// Removes the subnet with exactly this range; returns it.
    pub(crate) fn remove_subnet(&mut self, ip_range: &str) -> Result<Subnet> {
        let at = self
            .subnets
            .iter()
            .position(|s| s.ip_range == ip_range)
            .ok_or_else(|| Error::invalid_field("ip_range", format!("the network has no subnet {ip_range}")))?;
        Ok(self.subnets.remove(at))
    }

    /// Adds a static route, after Hetzner's rules for its destination and gateway.
    pub(crate) fn add_route(&mut self, route: Route) -> Result<()> {
        let dest = parse_cidr("destination", &route.destination)?;
        if !is_default_route(&dest) {
            if !is_private(&dest) {
                return Err(Error::invalid_field("destination", "must be a private range of RFC 1918 or 0.0.0.0/0"));
            }
            if dest.contains(&PUBLIC_GATEWAY) {
                return Err(Error::invalid_field("destination", format!("must not contain {PUBLIC_GATEWAY}")));
            }
            if let Some(other) = self.taken_ranges().iter().find(|t| overlaps(t, &dest)) {
                return Err(Error::invalid_field("destination", format!("{} overlaps {other}", route.destination)));
            }
        } else if self.routes.iter().any(|r| r.destination.parse().is_ok_and(|n: Ipv4Net| is_default_route(&n))) {
            return Err(Error::invalid_field("destination", "the network has a default route already"));
        }
        let gateway: Ipv4Addr = route
            .gateway
            .parse()
            .map_err(|_| Error::invalid_field("gateway", format!("'{}' is not an IPv4 address", route.gateway)))?;
        let range = self.range()?;
        let behind_vswitch = self
            .subnets
            .iter()
            .filter(|s| s.kind == SubnetKind::Vswitch)
            .any(|s| s.ip_range.parse::<Ipv4Net>().is_ok_and(|n| n.contains(&gateway)));
        if !range.contains(&gateway)
            || gateway == range.network()
            || Some(gateway) == self.gateway()
            || gateway == PUBLIC_GATEWAY
            || behind_vswitch
        {
            return Err(Error::invalid_field(
                "gateway",
                "must be an address of the network other than its first, outside vSwitch subnets",
            ));
        }
        self.routes.push(route);
        Ok(())
    }

    /// Removes the route with exactly this destination and gateway.
    pub(crate) fn remove_route(&mut self, route: &Route) -> Result<()> {
        let at = self
            .routes
            .iter()
            .position(|r| r == route)
            .ok_or_else(|| Error::invalid_field("destination", "the network has no such route"))?;
        self.routes.remove(at);
        Ok(())
    }

    /// Grows the network's range: same first address, a shorter (or equal) prefix.
    pub(crate) fn set_ip_range(&mut self, ip_range: &str) -> Result<()> {
        let new = parse_network_range("ip_range", ip_range)?;
        let old = self.range()?;
        if new.network() != old.network() || new.prefix_len() > old.prefix_len() {
            return Err(Error::invalid_field(
                "ip_range",
                format!(
                    "can only grow: it must start at {} with a prefix of /{} or less",
                    old.network(),
                    old.prefix_len()
                ),
            ));
        }
        self.ip_range = ip_range.to_string();
        Ok(())
    }
}
