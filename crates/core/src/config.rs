//! Knobs of the core that `stratus serve` exposes as flags.

use crate::keyring::InstallationKey;
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
    /// The certificate authority that issues managed certificates. Without one, their
    /// issuance fails (Stratus cannot reach a public CA such as Let's Encrypt).
    pub local_ca: Option<LocalCa>,
    /// Seals the secrets kept in the database (API keys' signing secrets). `serve`
    /// keeps it in the data directory; the default is a fresh one (tests).
    pub installation_key: InstallationKey,
}

/// A certificate authority Stratus signs managed certificates with: its certificate and
/// private key, as PEM. Checked when made, so a bad CA stops `serve` at start-up rather
/// than failing every issuance.
#[derive(Clone, PartialEq, Eq)]
pub struct LocalCa {
    certificate_pem: String,
    key_pem: String,
}

impl LocalCa {
    /// A CA from its certificate and its PKCS#8 private key (`-----BEGIN PRIVATE KEY-----`;
    /// ECDSA P-256/P-384, Ed25519 or RSA), which must belong to the certificate.
    pub fn new(certificate_pem: String, key_pem: String) -> Result<LocalCa, String> {
        crate::pki::check_ca(&certificate_pem, &key_pem)?;
        Ok(LocalCa { certificate_pem, key_pem })
    }

    pub fn certificate_pem(&self) -> &str {
        &self.certificate_pem
    }

    pub(crate) fn key_pem(&self) -> &str {
        &self.key_pem
    }
}

/// The key stays out of logs and debug output.
impl std::fmt::Debug for LocalCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalCa").field("certificate_pem", &self.certificate_pem).finish_non_exhaustive()
    }
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
            local_ca: None,
            installation_key: InstallationKey::generate(),
        }
    }
}
