//! The working set: every record in memory, indexed, behind one lock. Operations read
//! and change it through a [`Tx`], which records what changed (for the store) and how to
//! put it back (if the operation fails after a write).
//!
//! Why memory and not the database: every request is served without a query (list 50 of
//! 10,000 servers in microseconds), checks such as name uniqueness and locks are
//! consistent under the one lock, and writes reach the database as batches that the
//! store group-commits. The store remains the truth across restarts: this is rebuilt from
//! it at start-up. TODO-scalability: several API nodes on PostgreSQL need this to become
//! a cache refreshed from the database; the Store interface already speaks in records.

use crate::ids::*;
use crate::model::*;
use crate::store::{Batch, Change, Record, Snapshot};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// One kind's rows, ordered by id (the default list order of every dialect).
pub type Table<T> = BTreeMap<i64, Arc<T>>;

#[derive(Debug, Default)]
pub struct State {
    pub next_id: i64,
    pub projects: Table<Project>,
    pub tokens: Table<Token>,
    pub servers: Table<Server>,
    pub actions: Table<Action>,
    pub ssh_keys: Table<SshKey>,
    pub ips: Table<PublicIp>,
    pub images: Table<Image>,
    pub isos: Table<Iso>,
    pub locations: Table<Location>,
    pub datacenters: Table<Datacenter>,
    pub server_types: Table<ServerType>,
    pub faults: Table<Fault>,
    pub price_list: Option<Arc<PriceList>>,
    /// Derived: token secret hash -> token id.
    pub token_by_hash: HashMap<String, i64>,
    /// Derived: resource -> the running action holding it.
    pub locks: HashMap<ResourceRef, ActionId>,
    /// Derived: running action -> the action waiting to run after it.
    pub successors: HashMap<ActionId, ActionId>,
    /// Derived: server -> the floating IPs assigned to it.
    pub floating_by_server: HashMap<ServerId, Vec<IpId>>,
    /// Derived: addresses in use (IPv4 addresses and IPv6 networks), never handed out twice.
    pub addresses: HashMap<String, IpId>,
    /// Where the next IPv4 / IPv6 search starts (not stored: any start finds a free one).
    pub address_cursor: [u64; 2],
}

macro_rules! record_tables {
    ($($variant:ident => $table:ident),* $(,)?) => {
        impl State {
            /// Inserts or replaces a record, keeping the derived indexes right.
            pub(crate) fn put(&mut self, record: Record) {
                self.unindex(record.key());
                match &record {
                    $(Record::$variant(r) => { self.$table.insert(r.id.0, r.clone()); })*
                }
                self.index(&record);
            }

            /// Removes a record, returning it.
            pub(crate) fn remove(&mut self, key: ResourceRef) -> Option<Record> {
                self.unindex(key);
                match key.kind {
                    $(ResourceKind::$variant => self.$table.remove(&key.id).map(Record::$variant),)*
                }
            }

            /// The record with this key.
            pub(crate) fn get(&self, key: ResourceRef) -> Option<Record> {
                match key.kind {
                    $(ResourceKind::$variant => self.$table.get(&key.id).cloned().map(Record::$variant),)*
                }
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

    fn index(&mut self, record: &Record) {
        match record {
            Record::Token(t) => {
                self.token_by_hash.insert(t.secret_hash.clone(), t.id.0);
            }
            Record::Action(a) if a.is_running() => {
                // A waiting successor already holds the lock it will need; a later
                // update of its predecessor must not take it back, or the lock would
                // be released when the predecessor finishes.
                let successor = self.successors.get(&a.id).copied();
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
                if let (IpRole::Floating, Some(server)) = (ip.role, ip.assignee) {
                    let ids = self.floating_by_server.entry(server).or_default();
                    if let Err(at) = ids.binary_search(&ip.id) {
                        ids.insert(at, ip.id);
                    }
                }
            }
            _ => {}
        }
    }

    fn unindex(&mut self, key: ResourceRef) {
        match key.kind {
            ResourceKind::Token => {
                if let Some(t) = self.tokens.get(&key.id) {
                    self.token_by_hash.remove(&t.secret_hash);
                }
            }
            ResourceKind::Action => {
                if let Some(a) = self.actions.get(&key.id) {
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
            }
            ResourceKind::Ip => {
                if let Some(ip) = self.ips.get(&key.id) {
                    self.addresses.remove(&ip.address);
                    if let Some(server) = ip.assignee {
                        if let Some(ids) = self.floating_by_server.get_mut(&server) {
                            ids.retain(|id| *id != ip.id);
                            if ids.is_empty() {
                                self.floating_by_server.remove(&server);
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

/// A change in progress on the working set. Writes apply at once (later reads in the
/// same operation see them) and are logged twice: as changes for the store, and as the
/// prior values so [`Tx::rollback`] can restore the state if the operation fails.
#[derive(Debug)]
pub struct Tx<'a> {
    pub state: &'a mut State,
    changes: Vec<Change>,
    prior: Vec<(ResourceRef, Option<Record>)>,
    prior_next_id: i64,
    prior_price_list: Option<Option<Arc<PriceList>>>,
    started: Vec<ActionId>,
}

impl<'a> Tx<'a> {
    pub fn new(state: &'a mut State) -> Self {
        let prior_next_id = state.next_id;
        Tx { state, changes: Vec::new(), prior: Vec::new(), prior_next_id, prior_price_list: None, started: Vec::new() }
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
        self.prior.push((key, old));
        self.changes.push(Change::Delete(key));
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
    pub fn start_action(&mut self, id: ActionId) {
        self.started.push(id);
    }

    /// The batch to make durable, and the actions to run once it is.
    pub fn into_batch(self) -> (Batch, Vec<ActionId>) {
        let price_list = self.prior_price_list.and(self.state.price_list.clone());
        (Batch { changes: self.changes, next_id: self.state.next_id, price_list }, self.started)
    }

    /// Puts back everything this transaction changed, newest first.
    pub fn rollback(self) {
        for (key, old) in self.prior.into_iter().rev() {
            match old {
                Some(record) => self.state.put(record),
                None => {
                    self.state.remove(key);
                }
            }
        }
        self.state.next_id = self.prior_next_id;
        if let Some(list) = self.prior_price_list {
            self.state.price_list = list;
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
    fn rollback_restores_puts_deletes_and_the_sequence() {
        let mut state = State { next_id: 10, ..State::default() };
        state.put(project(1, "a"));
        let mut tx = Tx::new(&mut state);
        let id = tx.next_id();
        tx.put(project(id, "b"));
        tx.put(project(1, "renamed"));
        tx.delete(ProjectId(1).as_ref());
        assert!(!tx.is_empty());
        tx.rollback();
        assert_eq!(state.next_id, 10);
        assert_eq!(state.projects.len(), 1);
        assert_eq!(state.projects[&1].name, "a");
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
        assert_eq!(state.token_by_hash.get("h1"), None);
        assert_eq!(state.token_by_hash.get("h2"), Some(&5));
        state.remove(TokenId(5).as_ref());
        assert!(state.token_by_hash.is_empty());
    }
}
