//! The one transport-neutral error type. Each dialect maps it to its own envelope, status
//! code and wording in exactly one place; core never knows an envelope. Refusals that a
//! dialect words its own way (protection, locks, limits) carry what happened, not a
//! sentence.

use crate::ids::{ActionId, ResourceKind, ResourceRef};

/// One field's problems, for `invalid_input`-style answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub name: String,
    pub messages: Vec<String>,
}

/// Everything a core operation can refuse with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The resource does not exist, or belongs to another project: the two are
    /// deliberately indistinguishable so one tenant cannot probe another's ids.
    #[error("{} with ID {id} not found", kind.as_str())]
    NotFound { kind: ResourceKind, id: String },
    /// The request is malformed or violates a rule; `fields` says which fields.
    #[error("{message}")]
    InvalidInput { message: String, fields: Vec<FieldError> },
    /// A field that must be unique is taken.
    #[error("{message}")]
    Uniqueness { message: String, field: String },
    /// The resource is held by a running (or stuck) action.
    #[error("{resource} is locked by action {action}")]
    Locked { resource: ResourceRef, action: ActionId },
    /// The resource is protected against `operation` (`delete`, `rebuild`).
    #[error("{resource} is protected against {operation}")]
    Protected { resource: ResourceRef, operation: &'static str },
    /// A request that conflicts with how things are (see [`Refusal`]); `message` says
    /// how, in neutral words, and each dialect maps `reason` to its own code.
    #[error("{message}")]
    Refused { reason: Refusal, message: String },
    /// A per-project quota of `kind` is exhausted.
    #[error("limit of {limit} {} reached", kind.as_str())]
    ResourceLimit { kind: ResourceKind, limit: u32 },
    /// The operation is valid but cannot be carried out now (e.g. no free addresses).
    #[error("{message}")]
    Unavailable { message: String },
    /// No or an unknown credential.
    #[error("unable to authenticate")]
    Unauthenticated,
    /// A known credential that may not do this.
    #[error("{message}")]
    Forbidden { message: String },
    /// Too many requests for this credential.
    #[error("limit of {limit} requests per hour reached")]
    RateLimited { limit: u32 },
    /// The operation is refused because of (injected) maintenance.
    #[error("cannot perform operation due to maintenance")]
    Maintenance,
    /// A bug or an infrastructure failure. The message is logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    pub fn not_found(kind: ResourceKind, id: impl ToString) -> Self {
        Error::NotFound { kind, id: id.to_string() }
    }

    /// An invalid value in one field.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Error::InvalidInput {
            message: format!("invalid input in field '{field}': {message}"),
            fields: vec![FieldError { name: field.to_string(), messages: vec![message] }],
        }
    }

    /// An invalid request that no single field is to blame for.
    pub fn invalid(message: impl Into<String>) -> Self {
        Error::InvalidInput { message: message.into(), fields: Vec::new() }
    }

    pub fn uniqueness(field: &str, message: impl Into<String>) -> Self {
        Error::Uniqueness { message: message.into(), field: field.to_string() }
    }

    pub fn refused(reason: Refusal, message: impl Into<String>) -> Self {
        Error::Refused { reason, message: message.into() }
    }
}

/// Why a valid request cannot be carried out as things are. Dialects with
/// operation-specific error codes (Hetzner's `server_already_attached`) map these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Refusal {
    /// Still used by others (a firewall applied, a network with servers, a certificate
    /// on a load balancer), so it cannot be removed.
    InUse,
    /// A placement rule cannot be honoured (a spread group has no host left).
    Placement,
    /// Already attached (a server to a network, a firewall to a server).
    AlreadyAttached,
    /// Not attached where the request needs it to be.
    NotAttached,
    /// The server must be powered off first.
    NotStopped,
    /// The address asked for is used.
    AddressTaken,
    /// No free address (or subnet) is left.
    NoFreeAddress,
    /// The port is used by another service.
    PortInUse,
    /// The target is there already.
    TargetExists,
    /// The server has no public IPv4 address.
    MissingIpv4,
    /// Applied through a label selector, so it cannot be removed one by one.
    ManagedBySelector,
    /// Assigned already (an IP to a server, a server's address of that family).
    AlreadyAssigned,
    /// In another location than the request needs.
    LocationMismatch,
    /// A volume is attached to a server already (it must be detached first).
    VolumeAttached,
    /// The server has a primary IPv4 address already.
    ServerHasIpv4,
    /// The server has a primary IPv6 address already.
    ServerHasIpv6,
    /// Assigning an IP that is assigned elsewhere: Hetzner's assign action has a code of
    /// its own for it, apart from a create's `AlreadyAssigned`.
    AssignedElsewhere,
    /// An IP of the other family than the request needs.
    IpVersionMismatch,
    /// The server's IPv4 address is a load balancer's target.
    LoadBalancerTarget,
    /// Applied already (a firewall to a server or a label selector).
    AlreadyApplied,
    /// A resource the request names to apply something to (or remove it from) is not
    /// there, or the thing is not applied to it.
    TargetNotFound,
    /// The same resource is named twice in one request.
    AddedTwice,
    /// The server has no public interface (no public IP) to apply a firewall to.
    NoPublicInterface,
    /// An address range overlaps one the request conflicts with (a server's networks).
    Overlap,
    /// Another change to the same resource is under way: the same request will succeed
    /// once it is done (clients retry it).
    Busy,
    /// A load balancer is attached to a private network already (it may join one).
    LbAlreadyAttached,
    /// The load balancer is in no private network, and the request needs one.
    LbNotAttached,
    /// The load balancer's public interface is off, and the request needs it.
    PublicInterfaceDisabled,
    /// The load balancer has targets it reaches over the public network.
    PublicTargets,
    /// The load balancer has more services, targets or certificates than the type allows.
    TypeTooSmall,
    /// The address belongs to a resource of the cloud (only outside addresses may be targets).
    CloudResourceIp,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
