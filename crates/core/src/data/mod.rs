//! The data layer: every record in memory, indexed, behind one lock, and the queries
//! operations use. Operations never walk tables themselves: they ask per-resource
//! queries (`servers.rs`, `ips.rs`, ...), which use the indexes of [`Table`] and the
//! reverse links of [`State::linked`], so no request costs more as other projects, or
//! other rows of the same project, grow.
//!
//! Writes go through a [`Tx`], which records what changed (for the store) and how to put
//! it back: an operation that fails, returns early or panics leaves the state as it was.
//!
//! Why memory and not the database: every request is served without a query, checks such
//! as name uniqueness and locks are consistent under the one lock, and writes reach the
//! database as batches that the store group-commits. The store remains the truth across
//! restarts: this is rebuilt from it at start-up. TODO-scalability: several API nodes on
//! PostgreSQL need this to become a cache refreshed from the database; this module is the
//! seam, since operations see only its queries and `Tx`.

mod actions;
mod catalog;
mod certificates;
mod firewalls;
mod ips;
mod load_balancers;
mod networks;
mod placement_groups;
mod ranked;
mod rows;
mod servers;
mod table;
mod volumes;

pub(crate) use firewalls::firewall_applies;
pub(crate) use networks::subnet_containing;
pub(crate) use table::Exact;
pub use table::{Row, Table};

use crate::ids::*;
use crate::model::*;
use crate::store::{Batch, Change, Record, Snapshot};
use chrono::{DateTime, Utc};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

#[derive(Debug, Default)]
pub struct State {
    pub(crate) next_id: i64,
    pub(crate) projects: Table<Project>,
    pub(crate) tokens: Table<Token>,
    pub(crate) servers: Table<Server>,
    pub(crate) actions: Table<Action>,
    pub(crate) ssh_keys: Table<SshKey>,
    pub(crate) ips: Table<PublicIp>,
    pub(crate) images: Table<Image>,
    pub(crate) isos: Table<Iso>,
    pub(crate) locations: Table<Location>,
    pub(crate) datacenters: Table<Datacenter>,
    pub(crate) server_types: Table<ServerType>,
    pub(crate) faults: Table<Fault>,
    pub(crate) volumes: Table<Volume>,
    pub(crate) networks: Table<Network>,
    pub(crate) nics: Table<Nic>,
    pub(crate) firewalls: Table<Firewall>,
    pub(crate) load_balancers: Table<LoadBalancer>,
    pub(crate) load_balancer_types: Table<LoadBalancerType>,
    pub(crate) placement_groups: Table<PlacementGroup>,
    pub(crate) certificates: Table<Certificate>,
    pub(crate) users: Table<User>,
    pub(crate) api_keys: Table<ApiKey>,
    pub(crate) sessions: Table<Session>,
    pub(crate) price_list: Option<Arc<PriceList>>,
    /// Derived: token secret hash -> token id.
    token_by_hash: HashMap<String, i64>,
    /// Derived: login name -> user id (names are unique in the installation: a login
    /// names no project).
    user_by_name: HashMap<String, i64>,
    /// Derived: the public half of an API key -> its id.
    api_key_by_key: HashMap<String, i64>,
    /// Derived: refresh token hash -> session id.
    session_by_refresh: HashMap<String, i64>,
    /// Derived: sessions by when their refresh token expires, for their removal.
    session_expiry: BTreeSet<(DateTime<Utc>, SessionId)>,
    /// Derived: resource -> the running (or stuck) action holding it.
    locks: HashMap<ResourceRef, ActionId>,
    /// Derived: running action -> the action waiting to run after it.
    successors: HashMap<ActionId, ActionId>,
    /// Derived: the actions that run or are stuck.
    active: BTreeSet<ActionId>,
    /// Derived: servers with backups enabled, for the schedule.
    backed_up: BTreeSet<ServerId>,
    /// Derived: servers with the rescue system armed, by when it was, for its expiry.
    rescue_armed: BTreeSet<(DateTime<Utc>, ServerId)>,
    /// Derived: resource -> the rows that point at it (see [`Row::links`]).
    links: HashMap<ResourceRef, BTreeSet<ResourceRef>>,
    /// Derived: public addresses in use (IPv4 addresses and IPv6 networks), never handed
    /// out twice.
    pub(crate) addresses: HashMap<String, IpId>,
    /// Derived: private addresses in use per network (interface addresses and aliases).
    pub(crate) private_addresses: HashMap<(NetworkId, String), NicId>,
    /// Where the next IPv4 / IPv6 search starts (not stored: any start finds a free one).
    pub(crate) address_cursor: [u64; 2],
}

macro_rules! record_tables {
    ($($variant:ident => $table:ident),* $(,)?) => {
        impl State {
            /// Inserts or replaces a record, keeping the derived indexes right.
            pub(crate) fn put(&mut self, record: Record) {
                let key = record.key();
                self.unindex(key);
                match &record {
                    $(Record::$variant(r) => { self.$table.insert(r.clone()); })*
                }
                self.index(&record);
            }

            /// Removes a record, returning it.
            pub(crate) fn remove(&mut self, key: ResourceRef) -> Option<Record> {
                self.unindex(key);
                match key.kind {
                    $(ResourceKind::$variant => self.$table.remove(key.id).map(Record::$variant),)*
                }
            }

            /// The record with this key.
            pub(crate) fn get(&self, key: ResourceRef) -> Option<Record> {
                match key.kind {
                    $(ResourceKind::$variant => self.$table.get(key.id).cloned().map(Record::$variant),)*
                }
            }

            /// Every record, kind by kind in id order (tests compare whole states).
            #[cfg(test)]
            pub(crate) fn records(&self) -> Vec<Record> {
                let mut all = Vec::new();
                $(all.extend(self.$table.all().cloned().map(Record::$variant));)*
                all
            }
        }
    };
}

record_tables! {
    Project => projects,
    Token => tokens,
    Server => servers,
    Action => actions,
    SshKey => ssh_keys,
    Ip => ips,
    Image => images,
    Iso => isos,
    Location => locations,
    Datacenter => datacenters,
    ServerType => server_types,
    Fault => faults,
    Volume => volumes,
    Network => networks,
    Nic => nics,
    Firewall => firewalls,
    LoadBalancer => load_balancers,
    LoadBalancerType => load_balancer_types,
    PlacementGroup => placement_groups,
    Certificate => certificates,
    User => users,
    ApiKey => api_keys,
    Session => sessions,
}

impl State {
    /// Rebuilds the working set from what the store holds.
    pub fn from_snapshot(snapshot: Snapshot) -> State {
        let mut state = State { next_id: snapshot.next_id.max(1), price_list: snapshot.price_list, ..State::default() };
        for record in snapshot.records {
            // Ids must stay unique even if the stored sequence is behind (it never should be).
            state.next_id = state.next_id.max(record.key().id + 1);
            state.put(record);
        }
        state
    }

    /// The rows of `kind` that point at `target` (the volumes of a server, the actions
    /// on a volume), in id order.
    pub(crate) fn linked(&self, target: ResourceRef, kind: ResourceKind) -> impl Iterator<Item = i64> + '_ {
        let lo = ResourceRef { kind, id: i64::MIN };
        let hi = ResourceRef { kind, id: i64::MAX };
        self.links.get(&target).into_iter().flat_map(move |set| set.range(lo..=hi).map(|r| r.id))
    }

    /// The action holding `resource`, if one does.
    pub(crate) fn lock_holder(&self, resource: ResourceRef) -> Option<ActionId> {
        self.locks.get(&resource).copied()
    }

    /// Whether no action holds any resource (tests' invariant when all is settled).
    #[cfg(test)]
    pub(crate) fn no_locks(&self) -> bool {
        self.locks.is_empty() && self.successors.is_empty()
    }

    /// The servers with backups enabled, in id order.
    pub(crate) fn servers_with_backups(&self) -> impl Iterator<Item = &Arc<Server>> + '_ {
        self.backed_up.iter().filter_map(|id| self.servers.get(id.0))
    }

    /// The servers whose rescue system was armed at `until` or before, oldest first.
    pub(crate) fn rescue_armed_until(&self, until: DateTime<Utc>) -> impl Iterator<Item = &Arc<Server>> + '_ {
        self.rescue_armed.range(..=(until, ServerId(i64::MAX))).filter_map(|(_, id)| self.servers.get(id.0))
    }

    /// The action waiting to run after `id`.
    pub(crate) fn successor(&self, id: ActionId) -> Option<ActionId> {
        self.successors.get(&id).copied()
    }

    /// The user who logs in as `name`.
    pub(crate) fn user_by_name(&self, name: &str) -> Option<&Arc<User>> {
        self.user_by_name.get(name).and_then(|id| self.users.get(*id))
    }

    /// The API key whose public half is `key`.
    pub(crate) fn api_key_by_key(&self, key: &str) -> Option<&Arc<ApiKey>> {
        self.api_key_by_key.get(key).and_then(|id| self.api_keys.get(*id))
    }

    /// The session whose refresh token hashes to `hash`.
    pub(crate) fn session_by_refresh(&self, hash: &str) -> Option<&Arc<Session>> {
        self.session_by_refresh.get(hash).and_then(|id| self.sessions.get(*id))
    }

    /// The sessions whose refresh token expired at `until` or before.
    pub(crate) fn sessions_expired_by(&self, until: DateTime<Utc>) -> impl Iterator<Item = SessionId> + '_ {
        self.session_expiry.range(..=(until, SessionId(i64::MAX))).map(|&(_, id)| id)
    }

    /// The token whose secret hashes to `hash`.
    pub(crate) fn token_by_hash(&self, hash: &str) -> Option<&Arc<Token>> {
        self.token_by_hash.get(hash).and_then(|id| self.tokens.get(*id))
    }

    fn index(&mut self, record: &Record) {
        let key = record.key();
        let mut links = Vec::new();
        crate::each_record!(record, |r| Row::links(&**r, &mut links));
        for target in links {
            self.links.entry(target).or_default().insert(key);
        }
        match record {
            Record::User(u) => {
                self.user_by_name.insert(u.name.clone(), u.id.0);
            }
            Record::ApiKey(k) => {
                self.api_key_by_key.insert(k.key.clone(), k.id.0);
            }
            Record::Session(s) => {
                self.session_by_refresh.insert(s.refresh_hash.clone(), s.id.0);
                self.session_expiry.insert((s.expires, s.id));
            }
            Record::Token(t) => {
                self.token_by_hash.insert(t.secret_hash.clone(), t.id.0);
            }
            Record::Action(a) if a.holds_locks() => {
                self.active.insert(a.id);
                // A waiting successor already holds the lock it will need; a later
                // update of its predecessor must not take it back, or the lock would
                // be released when the predecessor finishes.
                let successor = self
                    .successors
                    .get(&a.id)
                    .copied()
                    .filter(|succ| self.actions.get(succ.0).is_some_and(|s| s.holds_locks()));
                for r in &a.resources {
                    if successor.is_none() || self.locks.get(r) != successor.as_ref() {
                        self.locks.insert(*r, a.id);
                    }
                }
                if let Some(pred) = a.after {
                    self.successors.insert(pred, a.id);
                }
            }
            Record::Ip(ip) => {
                self.addresses.insert(ip.address.clone(), ip.id);
            }
            Record::Server(srv) => {
                if srv.backup_window.is_some() {
                    self.backed_up.insert(srv.id);
                }
                if let Some(at) = srv.rescue_armed_at() {
                    self.rescue_armed.insert((at, srv.id));
                }
            }
            Record::Nic(nic) => {
                if let Some(network) = nic.network {
                    for ip in nic.ip.iter().chain(&nic.alias_ips) {
                        self.private_addresses.insert((network, ip.clone()), nic.id);
                    }
                }
            }
            _ => {}
        }
    }

    fn unindex(&mut self, key: ResourceRef) {
        let Some(old) = self.get(key) else { return };
        let mut links = Vec::new();
        crate::each_record!(&old, |r| Row::links(&**r, &mut links));
        for target in links {
            if let Some(set) = self.links.get_mut(&target) {
                set.remove(&key);
                if set.is_empty() {
                    self.links.remove(&target);
                }
            }
        }
        match &old {
            Record::User(u) if self.user_by_name.get(&u.name) == Some(&u.id.0) => {
                self.user_by_name.remove(&u.name);
            }
            Record::ApiKey(k) if self.api_key_by_key.get(&k.key) == Some(&k.id.0) => {
                self.api_key_by_key.remove(&k.key);
            }
            Record::Session(s) => {
                if self.session_by_refresh.get(&s.refresh_hash) == Some(&s.id.0) {
                    self.session_by_refresh.remove(&s.refresh_hash);
                }
                self.session_expiry.remove(&(s.expires, s.id));
            }
            Record::Token(t) => {
                self.token_by_hash.remove(&t.secret_hash);
            }
            Record::Action(a) => {
                self.active.remove(&a.id);
                for r in &a.resources {
                    if self.locks.get(r) == Some(&a.id) {
                        self.locks.remove(r);
                    }
                }
                if let Some(pred) = a.after {
                    if self.successors.get(&pred) == Some(&a.id) {
                        self.successors.remove(&pred);
                    }
                }
            }
            Record::Server(srv) => {
                self.backed_up.remove(&srv.id);
                if let Some(at) = srv.rescue_armed_at() {
                    self.rescue_armed.remove(&(at, srv.id));
                }
            }
            Record::Ip(ip) if self.addresses.get(&ip.address) == Some(&ip.id) => {
                self.addresses.remove(&ip.address);
            }
            Record::Nic(nic) => {
                if let Some(network) = nic.network {
                    for ip in nic.ip.iter().chain(&nic.alias_ips) {
                        let k = (network, ip.clone());
                        if self.private_addresses.get(&k) == Some(&nic.id) {
                            self.private_addresses.remove(&k);
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// Changes a running action's progress in memory only: progress is advisory and is
    /// recomputed from completed steps after a restart, so it is not worth a commit.
    pub(crate) fn set_progress(&mut self, id: ActionId, percent: u8) {
        if let Some(action) = self.actions.get_mut(id.0) {
            if action.is_running() && action.progress < percent {
                Arc::make_mut(action).progress = percent;
            }
        }
    }
}

/// Where a [`Tx`] stood, to go back to it (a failed step's changes are undone while the
/// transaction goes on to record the failure).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Savepoint {
    prior: usize,
    changes: usize,
    next_id: i64,
    price_list_changed: bool,
}

/// A change in progress on the working set. Writes apply at once (later reads in the
/// same operation see them) and are logged twice: as changes for the store, and as the
/// prior values so the state can be put back. Dropped without [`Tx::into_batch`], it
/// puts everything back, so an early return or a panic never leaves half an operation.
#[derive(Debug)]
pub struct Tx<'a> {
    state: &'a mut State,
    changes: Vec<Change>,
    prior: Vec<(ResourceRef, Option<Record>)>,
    prior_next_id: i64,
    prior_price_list: Option<Option<Arc<PriceList>>>,
    started: Vec<ActionId>,
    committed: bool,
}

impl std::ops::Deref for Tx<'_> {
    type Target = State;

    fn deref(&self) -> &State {
        self.state
    }
}

impl<'a> Tx<'a> {
    pub fn new(state: &'a mut State) -> Self {
        let prior_next_id = state.next_id;
        Tx {
            state,
            changes: Vec::new(),
            prior: Vec::new(),
            prior_next_id,
            prior_price_list: None,
            started: Vec::new(),
            committed: false,
        }
    }

    /// The state, for in-memory-only changes that need no undo (progress).
    pub(crate) fn state_mut(&mut self) -> &mut State {
        self.state
    }

    /// A fresh id from the one sequence.
    pub fn next_id(&mut self) -> i64 {
        let id = self.state.next_id;
        self.state.next_id += 1;
        id
    }

    pub fn put(&mut self, record: Record) {
        let key = record.key();
        self.prior.push((key, self.state.get(key)));
        self.state.put(record.clone());
        self.changes.push(Change::Put(record));
    }

    pub fn delete(&mut self, key: ResourceRef) {
        let old = self.state.remove(key);
        if old.is_some() {
            self.prior.push((key, old));
            self.changes.push(Change::Delete(key));
        }
    }

    pub fn set_price_list(&mut self, list: PriceList) {
        if self.prior_price_list.is_none() {
            self.prior_price_list = Some(self.state.price_list.clone());
        }
        self.state.price_list = Some(Arc::new(list));
    }

    /// Whether anything was written.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty() && self.prior_price_list.is_none() && self.prior_next_id == self.state.next_id
    }

    /// Hands a new running action to the engine once this transaction is durable.
    pub(crate) fn start_action(&mut self, id: ActionId) {
        self.started.push(id);
    }

    pub(crate) fn savepoint(&self) -> Savepoint {
        Savepoint {
            prior: self.prior.len(),
            changes: self.changes.len(),
            next_id: self.state.next_id,
            price_list_changed: self.prior_price_list.is_some(),
        }
    }

    /// Puts back everything written since `sp`, newest first.
    pub(crate) fn rollback_to(&mut self, sp: Savepoint) {
        for (key, old) in self.prior.drain(sp.prior..).rev() {
            match old {
                Some(record) => self.state.put(record),
                None => {
                    self.state.remove(key);
                }
            }
        }
        self.changes.truncate(sp.changes);
        self.state.next_id = sp.next_id;
        if !sp.price_list_changed {
            if let Some(list) = self.prior_price_list.take() {
                self.state.price_list = list;
            }
        }
    }

    /// The batch to make durable, and the actions to run once it is.
    pub(crate) fn into_batch(mut self) -> (Batch, Vec<ActionId>) {
        self.committed = true;
        let price_list = self.prior_price_list.take().and(self.state.price_list.clone());
        let changes = std::mem::take(&mut self.changes);
        let started = std::mem::take(&mut self.started);
        (Batch { changes, next_id: self.state.next_id, price_list }, started)
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if !self.committed {
            let start = Savepoint { prior: 0, changes: 0, next_id: self.prior_next_id, price_list_changed: false };
            self.rollback_to(start);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn project(id: i64, name: &str) -> Record {
        Record::Project(Arc::new(Project { id: ProjectId(id), name: name.into(), created: Utc::now() }))
    }

    #[test]
    fn a_dropped_tx_restores_puts_deletes_and_the_sequence() {
        let mut state = State { next_id: 10, ..State::default() };
        state.put(project(1, "a"));
        {
            let mut tx = Tx::new(&mut state);
            let id = tx.next_id();
            tx.put(project(id, "b"));
            tx.put(project(1, "renamed"));
            tx.delete(ProjectId(1).as_ref());
            assert!(!tx.is_empty());
        }
        assert_eq!(state.next_id, 10);
        assert_eq!(state.projects.len(), 1);
        assert_eq!(state.projects.get(1).map(|p| p.name.as_str()), Some("a"));
        assert_eq!(state.projects.named(None, "a").count(), 1, "the name index is restored too");
        assert_eq!(state.projects.named(None, "b").count(), 0);
    }

    #[test]
    fn a_savepoint_undoes_only_what_came_after_it() {
        let mut state = State { next_id: 10, ..State::default() };
        let mut tx = Tx::new(&mut state);
        tx.put(project(1, "kept"));
        let sp = tx.savepoint();
        let id = tx.next_id();
        tx.put(project(id, "dropped"));
        tx.rollback_to(sp);
        let (batch, _) = tx.into_batch();
        assert_eq!(batch.changes.len(), 1);
        assert_eq!(batch.next_id, 10);
        assert_eq!(state.projects.len(), 1);
    }

    #[test]
    fn indexes_follow_records() {
        let mut state = State::default();
        let token = |hash: &str| {
            Record::Token(Arc::new(Token {
                id: TokenId(5),
                project: ProjectId(1),
                name: "t".into(),
                kind: CredentialKind::BearerToken,
                access: Access::ReadWrite,
                secret_hash: hash.into(),
                created: Utc::now(),
                revoked: None,
            }))
        };
        state.put(token("h1"));
        state.put(token("h2"));
        assert!(state.token_by_hash("h1").is_none());
        assert_eq!(state.token_by_hash("h2").map(|t| t.id), Some(TokenId(5)));
        state.remove(TokenId(5).as_ref());
        assert!(state.token_by_hash.is_empty());
    }
}
