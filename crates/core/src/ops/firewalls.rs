//! Firewalls: list, get, create, update, delete, and the actions that set their rules
//! and apply them to servers and label selectors.

use super::{check_labels, ensure_free, ensure_write, validate_name, ListFilter};
use crate::actions::{self, FirewallChange, FirewallParams, Kind};
use crate::cloud::Cloud;
use crate::data::Tx;
use crate::error::{Error, Refusal, Result};
use crate::ids::*;
use crate::labels::{Labels, Selector};
use crate::model::*;
use crate::store::Record;
use crate::views::{firewall_view, FirewallView};
use ipnet::IpNet;
use std::collections::BTreeSet;
use std::sync::Arc;

/// Hetzner's bounds: rules per firewall, addresses per rule.
const MAX_RULES: usize = 50;
const MAX_ADDRESSES: usize = 100;
const PROTOCOLS: [&str; 5] = ["tcp", "udp", "icmp", "esp", "gre"];

#[derive(Debug, Clone)]
pub struct FirewallCreate {
    pub name: String,
    pub labels: Labels,
    pub rules: Vec<FirewallRule>,
    pub apply_to: Vec<FirewallTarget>,
}

#[derive(Debug, Clone, Default)]
pub struct FirewallUpdate {
    pub name: Option<String>,
    pub labels: Option<Labels>,
}

/// An action on a firewall.
#[derive(Debug, Clone)]
pub enum FirewallAction {
    /// Replaces every rule.
    SetRules(Vec<FirewallRule>),
    ApplyTo(Vec<FirewallTarget>),
    RemoveFrom(Vec<FirewallTarget>),
}

impl Cloud {
    /// The project's firewalls that match, in id order.
    pub fn firewall_list(&self, p: &Principal, filter: &ListFilter) -> Vec<FirewallView> {
        self.read(|s| {
            s.firewalls
                .candidates(Some(p.project), filter.name.as_deref(), filter.label_selector.as_ref())
                .into_iter()
                .filter(|f| filter.matches(Some(&f.name), &f.labels))
                .map(|f| firewall_view(s, f))
                .collect()
        })
    }

    pub fn firewall_get(&self, p: &Principal, id: FirewallId) -> Result<FirewallView> {
        self.read(|s| s.firewall(p.project, id).map(|f| firewall_view(s, f)))
    }

    /// Creates a firewall; applying it to `apply_to` is an action (none without targets).
    pub async fn firewall_create(
        &self,
        p: &Principal,
        req: FirewallCreate,
    ) -> Result<(FirewallView, Vec<Arc<Action>>)> {
        ensure_write(p)?;
        validate_name("name", &req.name)?;
        check_labels(Some(&req.labels))?;
        validate_rules(&req.rules)?;
        let limit = self.config().resource_limit;
        let (id, actions) = self
            .write(|tx| {
                if tx.firewall_named(p.project, &req.name, None).is_some() {
                    return Err(Error::uniqueness("name", "firewall name is already used"));
                }
                super::check_limit(limit, tx.firewalls.count(Some(p.project)), ResourceKind::Firewall)?;
                let fw = Firewall {
                    id: FirewallId(tx.next_id()),
                    project: p.project,
                    name: req.name.clone(),
                    rules: req.rules.clone(),
                    applied_to: Vec::new(),
                    labels: req.labels.clone(),
                    created: now(),
                };
                check_apply(tx, &fw, &req.apply_to)?;
                let id = fw.id;
                tx.put(Record::Firewall(Arc::new(fw.clone())));
                let actions = match req.apply_to.is_empty() {
                    true => Vec::new(),
                    false => vec![apply(tx, &fw, req.apply_to.clone())?],
                };
                Ok((id, actions))
            })
            .await?;
        Ok((self.firewall_get(p, id)?, actions))
    }

    pub async fn firewall_update(&self, p: &Principal, id: FirewallId, req: FirewallUpdate) -> Result<FirewallView> {
        ensure_write(p)?;
        if let Some(name) = &req.name {
            validate_name("name", name)?;
        }
        check_labels(req.labels.as_ref())?;
        self.write(|tx| {
            let mut fw = Firewall::clone(tx.firewall(p.project, id)?);
            if let Some(name) = req.name {
                if tx.firewall_named(p.project, &name, Some(id)).is_some() {
                    return Err(Error::uniqueness("name", "firewall name is already used"));
                }
                fw.name = name;
            }
            if let Some(labels) = req.labels {
                fw.labels = labels;
            }
            tx.put(Record::Firewall(Arc::new(fw)));
            Ok(())
        })
        .await?;
        self.firewall_get(p, id)
    }

    /// Deletes a firewall that is applied to nothing. Ansible's firewall module retries
    /// the delete while the message says "is still in use", Hetzner's wording.
    pub async fn firewall_delete(&self, p: &Principal, id: FirewallId) -> Result<()> {
        ensure_write(p)?;
        self.write(|tx| {
            let fw = tx.firewall(p.project, id)?;
            if !fw.applied_to.is_empty() {
                return Err(Error::refused(Refusal::InUse, format!("firewall with ID {id} is still in use")));
            }
            ensure_free(tx, &[id.as_ref()])?;
            tx.delete(id.as_ref());
            Ok(())
        })
        .await
    }

    pub async fn firewall_action(&self, p: &Principal, id: FirewallId, op: FirewallAction) -> Result<Arc<Action>> {
        ensure_write(p)?;
        if let FirewallAction::SetRules(rules) = &op {
            validate_rules(rules)?;
        }
        self.write(|tx| {
            let fw = Firewall::clone(tx.firewall(p.project, id)?);
            match op {
                FirewallAction::SetRules(rules) => {
                    let after = Firewall { rules: rules.clone(), ..fw.clone() };
                    let servers = affected(tx, &fw, &after);
                    let change = FirewallChange::SetRules { firewall: id, rules };
                    let params = FirewallParams { change, firewalls: vec![id], servers };
                    start::<actions::FirewallSetRules>(tx, p.project, params)
                }
                FirewallAction::ApplyTo(targets) => {
                    nonempty("apply_to", &targets)?;
                    check_apply(tx, &fw, &targets)?;
                    apply(tx, &fw, targets)
                }
                FirewallAction::RemoveFrom(targets) => {
                    nonempty("remove_from", &targets)?;
                    let targets = check_remove(tx, &fw, targets)?;
                    let mut after = fw.clone();
                    after.applied_to.retain(|t| !targets.contains(t));
                    let servers = affected(tx, &fw, &after);
                    let change = FirewallChange::Remove { firewall: id, targets };
                    let params = FirewallParams { change, firewalls: vec![id], servers };
                    start::<actions::FirewallRemove>(tx, p.project, params)
                }
            }
        })
        .await
    }
}

/// Starts a firewall action once nothing it locks is busy. Hetzner answers a change
/// while another runs with `conflict`, which clients retry; it cannot wait for the other
/// instead, since its record step must show at once (Ansible re-reads without waiting).
fn start<K: Kind<Params = FirewallParams>>(
    tx: &mut Tx,
    project: ProjectId,
    params: FirewallParams,
) -> Result<Arc<Action>> {
    ensure_free(tx, &K::resources(&params))?;
    actions::start::<K>(tx, project, params, None)
}

fn nonempty(field: &str, targets: &[FirewallTarget]) -> Result<()> {
    if targets.is_empty() {
        return Err(Error::invalid_field(field, "must name at least one resource"));
    }
    Ok(())
}

/// Starts applying `fw` to `targets` (already checked).
fn apply(tx: &mut Tx, fw: &Firewall, targets: Vec<FirewallTarget>) -> Result<Arc<Action>> {
    let mut after = fw.clone();
    after.applied_to.extend(targets.iter().cloned());
    let servers = affected(tx, fw, &after);
    let change = FirewallChange::Apply { firewall: fw.id, targets };
    let params = FirewallParams { change, firewalls: vec![fw.id], servers };
    start::<actions::FirewallApply>(tx, fw.project, params)
}

/// The servers whose effective rules differ between the firewall as `before` and as
/// `after`: those its driver step must give rules anew.
fn affected(tx: &Tx, before: &Firewall, after: &Firewall) -> Vec<ServerId> {
    let candidates: BTreeSet<ServerId> =
        tx.firewall_servers(before).into_iter().chain(tx.firewall_servers(after)).collect();
    candidates
        .into_iter()
        .filter(|id| {
            tx.servers.get(id.0).is_some_and(|srv| {
                tx.firewall_rules_with(srv, Some(before)) != tx.firewall_rules_with(srv, Some(after))
            })
        })
        .collect()
}

/// Targets `fw` may be applied to: the project's servers with a public interface and
/// valid selectors, none named twice, none it is applied to already.
/// TODO-fidelity: Hetzner applies at most 5 firewalls to a server (selectors included);
/// no limit is enforced here.
fn check_apply(tx: &Tx, fw: &Firewall, targets: &[FirewallTarget]) -> Result<()> {
    for (i, t) in targets.iter().enumerate() {
        if targets[..i].contains(t) {
            return Err(Error::refused(Refusal::AddedTwice, format!("{} is given more than once", describe(t))));
        }
        match t {
            FirewallTarget::Server(id) => {
                let srv = tx
                    .server(fw.project, *id)
                    .map_err(|_| Error::refused(Refusal::TargetNotFound, format!("server {id} not found")))?;
                if tx.ips_of(srv.id).all(|ip| ip.role != IpRole::Primary) {
                    return Err(Error::refused(
                        Refusal::NoPublicInterface,
                        format!("server {id} has no public interface to apply a firewall to"),
                    ));
                }
            }
            FirewallTarget::LabelSelector(sel) => {
                Selector::parse(sel)?;
            }
        }
        if fw.applied_to.contains(t) {
            return Err(Error::refused(
                Refusal::AlreadyApplied,
                format!("firewall {} is already applied to {}", fw.id, describe(t)),
            ));
        }
    }
    Ok(())
}

/// The targets to remove `fw` from, each once: only targets it is applied to directly.
fn check_remove(tx: &Tx, fw: &Firewall, targets: Vec<FirewallTarget>) -> Result<Vec<FirewallTarget>> {
    let mut out = Vec::new();
    for t in targets {
        if out.contains(&t) {
            continue;
        }
        if !fw.applied_to.contains(&t) {
            if let FirewallTarget::Server(id) = &t {
                let srv = tx
                    .server(fw.project, *id)
                    .map_err(|_| Error::refused(Refusal::TargetNotFound, format!("server {id} not found")))?;
                if crate::data::firewall_applies(fw, srv) {
                    return Err(Error::refused(
                        Refusal::ManagedBySelector,
                        format!("firewall {} is applied to server {id} through a label selector", fw.id),
                    ));
                }
            }
            return Err(Error::refused(
                Refusal::TargetNotFound,
                format!("firewall {} is not applied to {}", fw.id, describe(&t)),
            ));
        }
        out.push(t);
    }
    Ok(out)
}

fn describe(t: &FirewallTarget) -> String {
    match t {
        FirewallTarget::Server(id) => format!("server {id}"),
        FirewallTarget::LabelSelector(sel) => format!("label selector '{sel}'"),
    }
}

/// Changes a server's labels. When the firewalls its labels select change with them,
/// an action applies or removes them (its record step sets the labels, so the answer
/// already shows them); otherwise the labels are set here.
pub(crate) fn relabel_server(tx: &mut Tx, id: ServerId, labels: Labels) -> Result<()> {
    let srv = Server::clone(tx.servers.get(id.0).ok_or_else(|| Error::not_found(ResourceKind::Server, id))?);
    let relabelled = Server { labels: labels.clone(), ..srv.clone() };
    let ids = |s: &Server| -> BTreeSet<FirewallId> { tx.firewalls_of(s).into_iter().map(|f| f.id).collect() };
    let (before, after) = (ids(&srv), ids(&relabelled));
    if before == after {
        tx.put(Record::Server(Arc::new(relabelled)));
        return Ok(());
    }
    let servers = match tx.firewall_rules_of(&srv) == tx.firewall_rules_of(&relabelled) {
        true => Vec::new(),
        false => vec![id],
    };
    let gains = after.difference(&before).next().is_some();
    let firewalls = before.symmetric_difference(&after).copied().collect();
    let params = FirewallParams { change: FirewallChange::Relabel { server: id, labels }, firewalls, servers };
    if gains {
        start::<actions::FirewallApply>(tx, srv.project, params)?;
    } else {
        start::<actions::FirewallRemove>(tx, srv.project, params)?;
    }
    Ok(())
}

/// Hetzner's rule checks. Addresses are kept exactly as given (clients compare them as
/// strings), so they are checked, not normalized.
fn validate_rules(rules: &[FirewallRule]) -> Result<()> {
    if rules.len() > MAX_RULES {
        return Err(Error::invalid_field("rules", format!("at most {MAX_RULES} rules")));
    }
    for (i, r) in rules.iter().enumerate() {
        let field = |name: &str| format!("rules[{i}].{name}");
        if !PROTOCOLS.contains(&r.protocol.as_str()) {
            return Err(Error::invalid_field(&field("protocol"), "must be tcp, udp, icmp, esp or gre"));
        }
        match (r.protocol.as_str(), &r.port) {
            ("tcp" | "udp", None) => return Err(Error::invalid_field(&field("port"), "is required for tcp and udp")),
            ("tcp" | "udp", Some(port)) => validate_port(&field("port"), port)?,
            (_, Some(_)) => return Err(Error::invalid_field(&field("port"), "is only allowed for tcp and udp")),
            (_, None) => {}
        }
        let (own, other, own_name, other_name) = match r.direction {
            Direction::In => (&r.source_ips, &r.destination_ips, "source_ips", "destination_ips"),
            Direction::Out => (&r.destination_ips, &r.source_ips, "destination_ips", "source_ips"),
        };
        if own.is_empty() || own.len() > MAX_ADDRESSES {
            return Err(Error::invalid_field(&field(own_name), format!("must list 1 to {MAX_ADDRESSES} CIDRs")));
        }
        if !other.is_empty() {
            return Err(Error::invalid_field(&field(other_name), "must be empty for this direction"));
        }
        for cidr in own {
            let net: IpNet = cidr
                .parse()
                .map_err(|_| Error::invalid_field(&field(own_name), format!("'{cidr}' is not a CIDR block")))?;
            if net.addr() != net.network() {
                return Err(Error::invalid_field(&field(own_name), format!("'{cidr}' has host bits set")));
            }
        }
        if r.description.as_ref().is_some_and(|d| d.chars().count() > 255) {
            return Err(Error::invalid_field(&field("description"), "at most 255 characters"));
        }
    }
    Ok(())
}

/// `80`, `1024-5000` or `any`.
fn validate_port(field: &str, port: &str) -> Result<()> {
    let number = |s: &str| s.parse::<u16>().ok().filter(|p| *p > 0);
    let valid = port == "any"
        || match port.split_once('-') {
            Some((lo, hi)) => number(lo).zip(number(hi)).is_some_and(|(lo, hi)| lo < hi),
            None => number(port).is_some(),
        };
    if valid {
        Ok(())
    } else {
        Err(Error::invalid_field(field, "must be a port (1-65535), a range such as 1024-5000, or any"))
    }
}
