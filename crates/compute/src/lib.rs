//! Compute drivers. The [`Driver`] trait is everything the control plane asks of a
//! hypervisor; [`sim`] is the built-in simulator. The core calls a driver only from
//! action steps, so every driver call is durable, resumable and undoable.
//!
//! Every method must be idempotent: after a crash the engine repeats the step that was
//! running, so `create` of an existing VM, `start` of a running one or `delete` of a
//! missing one succeed without doing anything twice.

pub mod console;
pub mod driver;
pub mod metrics;
pub mod sim;

pub use driver::*;
pub use metrics::{MetricKind, MetricSeries, MetricsQuery};
pub mod images;
#[cfg(feature = "libvirt")]
pub mod libvirt;
