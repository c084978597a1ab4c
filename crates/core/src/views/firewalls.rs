//! Firewalls and what they apply to.

use super::{holder, Holder};
use crate::data::State;
use crate::ids::*;
use crate::model::*;
use std::sync::Arc;

/// One entry of what a firewall is applied to, with the servers a selector picks now.
#[derive(Debug, Clone)]
pub struct AppliedTarget {
    pub target: FirewallTarget,
    /// For a label selector: the servers it matches now (empty for a server target).
    pub selected: Vec<ServerId>,
}

/// A firewall, what it is applied to and the action holding it.
#[derive(Debug, Clone)]
pub struct FirewallView {
    pub firewall: Arc<Firewall>,
    pub applied_to: Vec<AppliedTarget>,
    pub holder: Option<Holder>,
}

pub(crate) fn firewall_view(state: &State, fw: &Arc<Firewall>) -> FirewallView {
    let applied_to = fw
        .applied_to
        .iter()
        .map(|t| AppliedTarget {
            target: t.clone(),
            selected: match t {
                FirewallTarget::Server(_) => Vec::new(),
                FirewallTarget::LabelSelector(_) => state.firewall_target_servers(fw.project, t),
            },
        })
        .collect();
    FirewallView { firewall: fw.clone(), applied_to, holder: holder(state, fw.id.as_ref()) }
}
