//! The one transport-neutral error type. Each dialect maps it to its own envelope and
//! status code in exactly one place; core never knows an envelope.

use crate::ids::ResourceKind;

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
    #[error("{kind:?} with ID {id} not found")]
    NotFound { kind: ResourceKind, id: String },
    /// The request is malformed or violates a rule; `fields` says which fields.
    #[error("{message}")]
    InvalidInput { message: String, fields: Vec<FieldError> },
    /// A field that must be unique is taken.
    #[error("{message}")]
    Uniqueness { message: String, field: String },
    /// The resource has a running action.
    #[error("{message}")]
    Locked { message: String },
    /// The resource is protected against this operation.
    #[error("{message}")]
    Protected { message: String },
    /// A per-project quota is exhausted.
    #[error("{message}")]
    ResourceLimit { message: String },
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
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
