//! Typed identities. Every resource has one integer identity, allocated from one
//! sequence; each dialect renders it its own way (Hetzner an integer, IONOS 32 hex
//! characters, e24cloud a string) and parses it back, so no dialect keeps a table of ids.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! typed_id {
    ($($(#[$doc:meta])* $name:ident => $kind:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl $name {
            /// This id as a reference to the resource it names, for action resources and locks.
            pub fn as_ref(self) -> ResourceRef {
                ResourceRef { kind: ResourceKind::$kind, id: self.0 }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    )*};
}

typed_id! {
    /// A project: the tenant that owns every resource.
    ProjectId => Project;
    /// An API credential of a project.
    TokenId => Token;
    /// A server (virtual machine).
    ServerId => Server;
    /// A long operation.
    ActionId => Action;
    /// An SSH public key of a project.
    SshKeyId => SshKey;
    /// A public IP: a server's primary address or a floating one.
    IpId => Ip;
    /// An image: system, snapshot or backup.
    ImageId => Image;
    /// An ISO that can be inserted into a server's virtual drive.
    IsoId => Iso;
    /// A location (city / region).
    LocationId => Location;
    /// A datacenter inside a location.
    DatacenterId => Datacenter;
    /// A server type (a fixed hardware size with prices).
    ServerTypeId => ServerType;
    /// An injected fault (simulator failure testing).
    FaultId => Fault;
    /// A block volume, attachable to one server at a time.
    VolumeId => Volume;
    /// A private network with subnets and routes.
    NetworkId => Network;
    /// A network interface of a server or load balancer, public or in a private network.
    NicId => Nic;
    /// A set of firewall rules applied to servers.
    FirewallId => Firewall;
    /// A load balancer.
    LoadBalancerId => LoadBalancer;
    /// A load balancer size (catalogue).
    LoadBalancerTypeId => LoadBalancerType;
    /// A group of servers placed by a rule (spread: on different hosts).
    PlacementGroupId => PlacementGroup;
    /// A TLS certificate, uploaded or managed.
    CertificateId => Certificate;
    /// A person of a project who logs in with a password.
    UserId => User;
    /// A key and secret that sign requests (e24cloud), a project's or one user's.
    ApiKeyId => ApiKey;
    /// A user's login: what its access and refresh tokens stand for.
    SessionId => Session;
}

/// The kinds of resource that actions refer to and that can be locked. New kinds go at
/// the end: the position is part of the IONOS id rendering ([`hex32`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceKind {
    Project,
    Token,
    Server,
    Action,
    SshKey,
    Ip,
    Image,
    Iso,
    Location,
    Datacenter,
    ServerType,
    Fault,
    Volume,
    Network,
    Nic,
    Firewall,
    LoadBalancer,
    LoadBalancerType,
    PlacementGroup,
    Certificate,
    User,
    ApiKey,
    Session,
}

impl ResourceKind {
    /// A neutral name, for logs and messages (dialects have their own words).
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::Project => "project",
            ResourceKind::Token => "token",
            ResourceKind::Server => "server",
            ResourceKind::Action => "action",
            ResourceKind::SshKey => "ssh_key",
            ResourceKind::Ip => "ip",
            ResourceKind::Image => "image",
            ResourceKind::Iso => "iso",
            ResourceKind::Location => "location",
            ResourceKind::Datacenter => "datacenter",
            ResourceKind::ServerType => "server_type",
            ResourceKind::Fault => "fault",
            ResourceKind::Volume => "volume",
            ResourceKind::Network => "network",
            ResourceKind::Nic => "nic",
            ResourceKind::Firewall => "firewall",
            ResourceKind::LoadBalancer => "load_balancer",
            ResourceKind::LoadBalancerType => "load_balancer_type",
            ResourceKind::PlacementGroup => "placement_group",
            ResourceKind::Certificate => "certificate",
            ResourceKind::User => "user",
            ResourceKind::ApiKey => "api_key",
            ResourceKind::Session => "session",
        }
    }
}

impl fmt::Display for ResourceRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind.as_str(), self.id)
    }
}

/// A reference to any resource: what an action touches, what a lock holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ResourceRef {
    pub kind: ResourceKind,
    pub id: i64,
}

/// Renders an id as the 32 upper-case hex characters IONOS uses, and back.
/// The mapping is a fixed bijection (kind tag + id), so it needs no table.
pub mod hex32 {
    use super::ResourceKind;

    /// `kind` is mixed in so that the same integer in two kinds renders differently,
    /// as distinct IONOS resources always have distinct ids.
    pub fn render(kind: ResourceKind, id: i64) -> String {
        format!("{:016X}{:016X}", 0x5354_5241_0000_0000_u64 | kind as u64, id)
    }

    /// The id, if `s` is a rendering of an id of `kind`.
    pub fn parse(kind: ResourceKind, s: &str) -> Option<i64> {
        if s.len() != 32 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let tag = u64::from_str_radix(&s[..16], 16).ok()?;
        let id = i64::from_str_radix(&s[16..], 16).ok()?;
        (tag == 0x5354_5241_0000_0000_u64 | kind as u64).then_some(id)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn round_trips_and_keeps_kinds_apart() {
            let s = render(ResourceKind::Server, 42);
            assert_eq!(s.len(), 32);
            assert_eq!(s, s.to_uppercase());
            assert_eq!(parse(ResourceKind::Server, &s), Some(42));
            assert_eq!(parse(ResourceKind::Image, &s), None);
            assert_eq!(parse(ResourceKind::Server, "nothex"), None);
        }
    }
}
