//! The Stratus domain: resources, their state machines, label selectors, the action
//! engine and the operations every API dialect calls. No HTTP and no SQL: dialects
//! translate their wire format onto [`Cloud`]'s operations, stores implement [`store::Store`].

pub mod actions;
mod catalog;
pub mod cloud;
pub mod config;
pub mod data;
mod engine;
pub mod error;
pub mod ids;
pub mod keyring;
pub mod labels;
pub mod model;
pub mod ops;
pub mod page;
mod pki;
pub mod ratelimit;
pub mod store;
pub mod views;

pub use actions::kinds as action_kinds;
pub use cloud::Cloud;
pub use config::Config;
pub use error::{Error, FieldError, Refusal, Result};
pub use ops::Ref;
/// The driver-facing types that appear in core's operations, so dialects need not
/// depend on the compute crate.
pub use stratus_compute::{ConsoleEndpoint, MetricKind, MetricSeries, MetricsQuery};
