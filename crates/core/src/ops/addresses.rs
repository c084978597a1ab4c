//! Allocating public addresses from the configured pools. Allocation happens under the
//! state lock against the index of addresses in use, so two concurrent creates can never
//! receive the same address; the index is rebuilt from the stored IPs at start-up.

use crate::data::Tx;
use crate::error::{Error, Result};
use crate::ids::IpId;
use crate::model::IpFamily;
use ipnet::{Ipv4Net, Ipv6Net};
use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Finds a free address of `family`: an IPv4 host address, or an IPv6 /64 in CIDR form.
pub(crate) fn allocate(tx: &mut Tx, family: IpFamily, v4: Ipv4Net, v6: Ipv6Net) -> Result<String> {
    let state = tx.state_mut();
    let found = match family {
        IpFamily::V4 => scan(&state.addresses, &mut state.address_cursor[0], v4_count(v4), |i| v4_nth(v4, i)),
        IpFamily::V6 => scan(&state.addresses, &mut state.address_cursor[1], v6_count(v6), |i| v6_nth(v6, i)),
    };
    found.ok_or_else(|| Error::Unavailable {
        message: format!("no free {} addresses left in the pool", family.as_str()),
    })
}

/// Walks candidates from the last allocation onwards, so allocation is amortised O(1).
fn scan(in_use: &HashMap<String, IpId>, cursor: &mut u64, count: u64, nth: impl Fn(u64) -> String) -> Option<String> {
    if count == 0 {
        return None;
    }
    let start = *cursor % count;
    let found = (0..count).map(|k| (start + k) % count).find_map(|i| {
        let candidate = nth(i);
        (!in_use.contains_key(&candidate)).then_some((i, candidate))
    });
    found.map(|(i, candidate)| {
        *cursor = i + 1;
        candidate
    })
}

/// Usable hosts: the network address, the first host (the gateway) and the broadcast
/// address are never handed out.
fn v4_count(net: Ipv4Net) -> u64 {
    (1_u64 << (32 - u32::from(net.prefix_len()))).saturating_sub(3)
}

fn v4_nth(net: Ipv4Net, i: u64) -> String {
    let base = u64::from(u32::from(net.network()));
    let addr = u32::try_from(base + 2 + i).unwrap_or(u32::MAX);
    Ipv4Addr::from(addr).to_string()
}

/// /64 networks in the pool, less the first (kept for infrastructure); capped, since a
/// /32 holds 2^32 of them.
fn v6_count(net: Ipv6Net) -> u64 {
    let bits = 64_u32.saturating_sub(u32::from(net.prefix_len())).min(32);
    (1_u64 << bits).saturating_sub(1)
}

fn v6_nth(net: Ipv6Net, i: u64) -> String {
    let base = u128::from(net.network());
    let addr = Ipv6Addr::from(base + (u128::from(i + 1) << 64));
    format!("{addr}/64")
}

/// Whether `ip` (text) is the IPv4 address or inside the IPv6 /64 `address`.
pub(crate) fn contains(address: &str, ip: &str) -> bool {
    if address == ip {
        return true;
    }
    match (address.parse::<Ipv6Net>(), ip.parse::<Ipv6Addr>()) {
        (Ok(net), Ok(addr)) => net.contains(&addr),
        _ => false,
    }
}

/// The form in which the address (or network) holding `ip` is kept among the addresses
/// in use: an IPv4 address as is, an IPv6 address or /64 network as its /64. `None` when
/// `ip` is neither.
pub(crate) fn holder_key(ip: &str) -> Option<String> {
    let ip = ip.trim();
    if let Ok(v4) = ip.parse::<Ipv4Addr>() {
        return Some(v4.to_string());
    }
    let net = match ip.parse::<Ipv6Addr>() {
        Ok(addr) => Ipv6Net::new(addr, 64).ok()?,
        Err(_) => ip.parse::<Ipv6Net>().ok().filter(|n| n.prefix_len() == 64)?,
    };
    Some(format!("{}/64", net.trunc().network()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::State;

    fn allocate(state: &mut State, family: IpFamily, v4: Ipv4Net, v6: Ipv6Net) -> Result<String> {
        let mut tx = Tx::new(state);
        let found = super::allocate(&mut tx, family, v4, v6);
        drop(tx);
        found
    }

    #[test]
    fn hands_out_each_address_once_and_reports_exhaustion() {
        let mut state = State::default();
        let v4: Ipv4Net = "192.0.2.0/29".parse().unwrap();
        let v6: Ipv6Net = "2001:db8::/62".parse().unwrap();
        let mut seen = std::collections::HashSet::new();
        for i in 0..5 {
            let a = allocate(&mut state, IpFamily::V4, v4, v6).unwrap();
            assert!(seen.insert(a.clone()), "{a} twice");
            state.addresses.insert(a, IpId(i));
        }
        assert_eq!(seen.iter().min().unwrap(), "192.0.2.2");
        assert!(matches!(allocate(&mut state, IpFamily::V4, v4, v6), Err(Error::Unavailable { .. })));
        // A freed address is found again even though the cursor moved past it.
        state.addresses.remove("192.0.2.3");
        assert_eq!(allocate(&mut state, IpFamily::V4, v4, v6).unwrap(), "192.0.2.3");
        let nets: Vec<String> = (0..3)
            .map(|i| {
                let a = allocate(&mut state, IpFamily::V6, v4, v6).unwrap();
                state.addresses.insert(a.clone(), IpId(100 + i));
                a
            })
            .collect();
        assert_eq!(nets, ["2001:db8:0:1::/64", "2001:db8:0:2::/64", "2001:db8:0:3::/64"]);
        assert!(allocate(&mut state, IpFamily::V6, v4, v6).is_err());
    }

    #[test]
    fn holder_keys_name_what_allocation_hands_out() {
        assert_eq!(holder_key("192.0.2.5").as_deref(), Some("192.0.2.5"));
        assert_eq!(holder_key("2001:db8:0:1::/64").as_deref(), Some("2001:db8:0:1::/64"));
        assert_eq!(holder_key("2001:db8:0:1::1").as_deref(), Some("2001:db8:0:1::/64"));
        assert_eq!(holder_key("2001:db8:0:1::/48"), None);
        assert_eq!(holder_key("not an ip"), None);
    }

    #[test]
    fn ipv6_membership() {
        assert!(contains("2001:db8:0:1::/64", "2001:db8:0:1::1"));
        assert!(!contains("2001:db8:0:1::/64", "2001:db8:0:2::1"));
        assert!(contains("192.0.2.5", "192.0.2.5"));
        assert!(!contains("192.0.2.5", "192.0.2.6"));
    }
}
