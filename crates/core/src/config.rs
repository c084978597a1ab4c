//! Knobs of the core that `stratus serve` exposes as flags.

use ipnet::{Ipv4Net, Ipv6Net};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Config {
    /// Public IPv4 addresses for servers, floating IPs and load balancers. The default,
    /// 198.18.0.0/15, is the block reserved for benchmarking (RFC 2544): 131,072
    /// addresses that route nowhere.
    pub ipv4_pool: Ipv4Net,
    /// IPv6 prefix from which each server, IPv6 floating IP and load balancer gets a
    /// /64. The default is the documentation prefix 2001:db8::/32.
    pub ipv6_pool: Ipv6Net,
    /// Requests per hour per credential; 0 turns rate limiting off.
    pub rate_limit: u32,
    /// Most resources of each kind a project may have; 0 means unlimited.
    pub resource_limit: u32,
    /// How many action chains run at once; more wait their turn.
    pub action_workers: usize,
    /// Finished actions older than this are deleted; zero keeps them forever.
    pub action_retention: Duration,
    /// How many servers a spread placement group may hold: each needs a host of its
    /// own, and this is how many hosts a group may spread over.
    pub spread_group_limit: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            ipv4_pool: "198.18.0.0/15".parse().expect("valid default pool"),
            ipv6_pool: "2001:db8::/32".parse().expect("valid default pool"),
            rate_limit: 3600,
            resource_limit: 0,
            action_workers: 256,
            action_retention: Duration::from_secs(90 * 24 * 3600),
            spread_group_limit: 10,
        }
    }
}
