//! Queries on firewalls: what they apply to and the rules a server ends up enforcing.

use super::State;
use crate::error::{Error, Result};
use crate::ids::*;
use crate::labels::Selector;
use crate::model::*;
use std::collections::BTreeSet;
use std::sync::Arc;
use stratus_compute::FirewallRuleSpec;

impl State {
    /// The project's firewall with this id, or not found.
    pub(crate) fn firewall(&self, project: ProjectId, id: FirewallId) -> Result<&Arc<Firewall>> {
        self.firewalls
            .get(id.0)
            .filter(|f| f.project == project)
            .ok_or_else(|| Error::not_found(ResourceKind::Firewall, id))
    }

    /// The project's firewall called `name`, other than `except`.
    pub(crate) fn firewall_named(
        &self,
        project: ProjectId,
        name: &str,
        except: Option<FirewallId>,
    ) -> Option<&Arc<Firewall>> {
        self.firewalls.named(Some(project), name).find(|f| Some(f.id) != except)
    }

    /// The servers one target of `project` covers now, in id order.
    pub(crate) fn firewall_target_servers(&self, project: ProjectId, target: &FirewallTarget) -> Vec<ServerId> {
        match target {
            FirewallTarget::Server(id) => {
                self.servers.get(id.0).filter(|s| s.project == project).map(|s| s.id).into_iter().collect()
            }
            FirewallTarget::LabelSelector(sel) => self.servers_selected(project, sel).iter().map(|s| s.id).collect(),
        }
    }

    /// The servers a firewall applies to now, directly or by label, each once, in id order.
    pub(crate) fn firewall_servers(&self, fw: &Firewall) -> Vec<ServerId> {
        let all: BTreeSet<ServerId> =
            fw.applied_to.iter().flat_map(|t| self.firewall_target_servers(fw.project, t)).collect();
        all.into_iter().collect()
    }

    /// The rules a server's public interface enforces: every rule of every firewall that
    /// applies to it, with `instead` taking the place of the firewall of its id. Undos
    /// use it to compute the rules as they were before a change the records still show.
    pub(crate) fn firewall_rules_with(&self, server: &Server, instead: Option<&Firewall>) -> Vec<FirewallRuleSpec> {
        self.firewalls
            .of(Some(server.project))
            .map(|fw| match instead {
                Some(other) if other.id == fw.id => other,
                _ => fw,
            })
            .filter(|fw| firewall_applies(fw, server))
            .flat_map(|fw| fw.rules.iter().map(rule_spec))
            .collect()
    }
}

/// Whether `fw` applies to `server`: directly, or through a selector matching its labels.
pub(crate) fn firewall_applies(fw: &Firewall, server: &Server) -> bool {
    fw.project == server.project
        && fw.applied_to.iter().any(|t| match t {
            FirewallTarget::Server(id) => *id == server.id,
            FirewallTarget::LabelSelector(sel) => Selector::parse(sel).is_ok_and(|s| s.matches(&server.labels)),
        })
}

/// A rule as the data plane enforces it: the addresses of its direction.
fn rule_spec(r: &FirewallRule) -> FirewallRuleSpec {
    FirewallRuleSpec {
        direction: r.direction,
        protocol: r.protocol.clone(),
        port: r.port.clone(),
        addresses: match r.direction {
            Direction::In => r.source_ips.clone(),
            Direction::Out => r.destination_ips.clone(),
        },
    }
}
