//! Firewalls: a change of rules, of what a firewall is applied to, or of the labels of
//! a server that label selectors follow. Each is a record step (so the firewall shows it
//! as soon as the request is answered: Ansible re-reads without waiting) and a driver
//! step that gives every server whose effective rules change the rules the records now
//! say. The action locks the firewalls and those servers, so nothing else changes what
//! their VMs enforce meanwhile.

use super::steps::{gone, update_firewall, update_server};
use super::{Ctx, Kind, Step, StepResult};
use crate::data::{State, Tx};
use crate::engine::Call;
use crate::ids::*;
use crate::labels::Labels;
use crate::model::*;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// What changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum FirewallChange {
    /// The firewall's rules are replaced.
    SetRules { firewall: FirewallId, rules: Vec<FirewallRule> },
    /// The firewall is applied to more targets.
    Apply { firewall: FirewallId, targets: Vec<FirewallTarget> },
    /// The firewall is removed from targets.
    Remove { firewall: FirewallId, targets: Vec<FirewallTarget> },
    /// A server's labels change, and with them the firewalls its selectors pick.
    Relabel { server: ServerId, labels: Labels },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct FirewallParams {
    pub change: FirewallChange,
    /// The firewalls whose application changes (locked).
    pub firewalls: Vec<FirewallId>,
    /// The servers whose effective rules change (locked): they get their rules anew.
    pub servers: Vec<ServerId>,
}

type C<'a> = Ctx<'a, FirewallParams>;

/// Makes the change; the output is what it replaced, for the undos.
fn change(tx: &mut Tx, c: &C) -> StepResult {
    Ok(Some(match &c.params.change {
        FirewallChange::SetRules { firewall, rules } => {
            json!(update_firewall(tx, *firewall, |f| std::mem::replace(&mut f.rules, rules.clone()))?)
        }
        FirewallChange::Apply { firewall, targets } => {
            update_firewall(tx, *firewall, |f| f.applied_to.extend(targets.iter().cloned()))?;
            json!(null)
        }
        FirewallChange::Remove { firewall, targets } => {
            // Where each target stood, so the undo puts it back in its place.
            let removed: Vec<(usize, FirewallTarget)> = update_firewall(tx, *firewall, |f| {
                let removed = f.applied_to.iter().cloned().enumerate().filter(|(_, t)| targets.contains(t)).collect();
                f.applied_to.retain(|t| !targets.contains(t));
                removed
            })?;
            json!(removed)
        }
        FirewallChange::Relabel { server, labels } => {
            json!(update_server(tx, *server, |s| std::mem::replace(&mut s.labels, labels.clone()))?)
        }
    }))
}

fn unchange(tx: &mut Tx, c: &C) -> StepResult {
    match &c.params.change {
        FirewallChange::SetRules { firewall, .. } => {
            if let Some(prior) = c.output::<Vec<FirewallRule>>("change") {
                update_firewall(tx, *firewall, |f| f.rules = prior)?;
            }
        }
        FirewallChange::Apply { firewall, targets } => {
            update_firewall(tx, *firewall, |f| f.applied_to.retain(|t| !targets.contains(t)))?;
        }
        FirewallChange::Remove { firewall, .. } => {
            if let Some(removed) = c.output::<Vec<(usize, FirewallTarget)>>("change") {
                update_firewall(tx, *firewall, |f| reinsert(&mut f.applied_to, removed))?;
            }
        }
        FirewallChange::Relabel { server, .. } => {
            if let Some(prior) = c.output::<Labels>("change") {
                update_server(tx, *server, |s| s.labels = prior)?;
            }
        }
    }
    Ok(None)
}

/// Puts removed targets back where they stood (those still there are left alone).
fn reinsert(applied_to: &mut Vec<FirewallTarget>, removed: Vec<(usize, FirewallTarget)>) {
    for (at, target) in removed {
        if !applied_to.contains(&target) {
            applied_to.insert(at.min(applied_to.len()), target);
        }
    }
}

/// The rules of each server as the records say now.
fn apply_rules(s: &State, c: &C) -> Result<Call, ActionError> {
    calls(s, c, |s, srv| s.firewall_rules_of(srv))
}

/// The rules of each server as they were before the change, which the records still
/// show made (this undo runs before the record step's).
fn restore_rules(s: &State, c: &C) -> Result<Call, ActionError> {
    let prior_firewall = |id: FirewallId| -> Result<Firewall, ActionError> {
        Ok(Firewall::clone(s.firewalls.get(id.0).ok_or_else(|| gone(id.as_ref()))?))
    };
    match &c.params.change {
        FirewallChange::SetRules { firewall, .. } => {
            let mut fw = prior_firewall(*firewall)?;
            if let Some(rules) = c.output::<Vec<FirewallRule>>("change") {
                fw.rules = rules;
            }
            calls(s, c, |s, srv| s.firewall_rules_with(srv, Some(&fw)))
        }
        FirewallChange::Apply { firewall, targets } => {
            let mut fw = prior_firewall(*firewall)?;
            fw.applied_to.retain(|t| !targets.contains(t));
            calls(s, c, |s, srv| s.firewall_rules_with(srv, Some(&fw)))
        }
        FirewallChange::Remove { firewall, .. } => {
            let mut fw = prior_firewall(*firewall)?;
            if let Some(removed) = c.output::<Vec<(usize, FirewallTarget)>>("change") {
                reinsert(&mut fw.applied_to, removed);
            }
            calls(s, c, |s, srv| s.firewall_rules_with(srv, Some(&fw)))
        }
        FirewallChange::Relabel { .. } => {
            let prior = c.output::<Labels>("change");
            calls(s, c, |s, srv| match &prior {
                Some(labels) => s.firewall_rules_of(&Server { labels: labels.clone(), ..Server::clone(srv) }),
                None => s.firewall_rules_of(srv),
            })
        }
    }
}

/// One `ApplyFirewall` per server of the action that has a VM (a server still being
/// created gets its rules from its own create).
fn calls(
    s: &State,
    c: &C,
    rules: impl Fn(&State, &Server) -> Vec<stratus_compute::FirewallRuleSpec>,
) -> Result<Call, ActionError> {
    let mut out = Vec::new();
    for id in &c.params.servers {
        let srv = s.servers.get(id.0).ok_or_else(|| gone(id.as_ref()))?;
        if srv.has_vm() {
            out.push(Call::ApplyFirewall { vm: id.0, rules: rules(s, srv) });
        }
    }
    Ok(Call::Many(out))
}

static STEPS: [Step<FirewallParams>; 2] = [
    Step::record("change", change).undo_record(unchange),
    Step::driver("apply_rules", apply_rules).undo_driver(restore_rules),
];

fn locked(p: &FirewallParams) -> Vec<ResourceRef> {
    let mut r: Vec<ResourceRef> = p.firewalls.iter().map(|f| f.as_ref()).collect();
    r.extend(p.servers.iter().map(|s| s.as_ref()));
    if let FirewallChange::Relabel { server, .. } = p.change {
        if !p.servers.contains(&server) {
            r.push(server.as_ref());
        }
    }
    r
}

macro_rules! firewall_kinds {
    ($($(#[$doc:meta])* $kind:ident => $name:literal;)*) => {$(
        $(#[$doc])*
        pub(crate) struct $kind;

        impl Kind for $kind {
            const NAME: &'static str = $name;
            type Params = FirewallParams;

            fn steps() -> &'static [Step<FirewallParams>] {
                &STEPS
            }

            fn resources(p: &FirewallParams) -> Vec<ResourceRef> {
                locked(p)
            }
        }
    )*};
}

firewall_kinds! {
    /// `firewall_set_rules`.
    FirewallSetRules => "firewall_set_rules";
    /// `firewall_apply`: to servers or selectors, or a server's new labels bringing it
    /// under a selector.
    FirewallApply => "firewall_apply";
    /// `firewall_remove`: from servers or selectors, or a server's new labels taking it
    /// out of one.
    FirewallRemove => "firewall_remove";
}
