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
}

/// The kinds of resource that actions refer to and that can be locked.
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
