//! The persistence interface. Core holds the working set in memory (see [`crate::data`])
//! and hands every change to the store as one batch per operation; the store makes each
//! batch durable, in submission order, before the operation answers. A store may group
//! several batches into one commit (SQLite: one fsync for many requests).
//!
//! The interface is records, not SQL, so a PostgreSQL store can be added beside the
//! SQLite one without touching core or the dialects.

use crate::ids::ResourceRef;
use crate::model::*;
use async_trait::async_trait;
use std::sync::Arc;

/// One stored row of any kind.
#[derive(Debug, Clone)]
pub enum Record {
    Project(Arc<Project>),
    Token(Arc<Token>),
    Server(Arc<Server>),
    Action(Arc<Action>),
    SshKey(Arc<SshKey>),
    Ip(Arc<PublicIp>),
    Image(Arc<Image>),
    Iso(Arc<Iso>),
    Location(Arc<Location>),
    Datacenter(Arc<Datacenter>),
    ServerType(Arc<ServerType>),
    Fault(Arc<Fault>),
    Volume(Arc<Volume>),
    Network(Arc<Network>),
    Nic(Arc<Nic>),
    Firewall(Arc<Firewall>),
    LoadBalancer(Arc<LoadBalancer>),
    LoadBalancerType(Arc<LoadBalancerType>),
    PlacementGroup(Arc<PlacementGroup>),
    Certificate(Arc<Certificate>),
    User(Arc<User>),
    ApiKey(Arc<ApiKey>),
    Session(Arc<Session>),
}

/// Calls `$body` with `$r` bound to the record inside any variant.
#[macro_export]
#[doc(hidden)]
macro_rules! each_record {
    ($record:expr, |$r:ident| $body:expr) => {
        match $record {
            $crate::store::Record::Project($r) => $body,
            $crate::store::Record::Token($r) => $body,
            $crate::store::Record::Server($r) => $body,
            $crate::store::Record::Action($r) => $body,
            $crate::store::Record::SshKey($r) => $body,
            $crate::store::Record::Ip($r) => $body,
            $crate::store::Record::Image($r) => $body,
            $crate::store::Record::Iso($r) => $body,
            $crate::store::Record::Location($r) => $body,
            $crate::store::Record::Datacenter($r) => $body,
            $crate::store::Record::ServerType($r) => $body,
            $crate::store::Record::Fault($r) => $body,
            $crate::store::Record::Volume($r) => $body,
            $crate::store::Record::Network($r) => $body,
            $crate::store::Record::Nic($r) => $body,
            $crate::store::Record::Firewall($r) => $body,
            $crate::store::Record::LoadBalancer($r) => $body,
            $crate::store::Record::LoadBalancerType($r) => $body,
            $crate::store::Record::PlacementGroup($r) => $body,
            $crate::store::Record::Certificate($r) => $body,
            $crate::store::Record::User($r) => $body,
            $crate::store::Record::ApiKey($r) => $body,
            $crate::store::Record::Session($r) => $body,
        }
    };
}

impl Record {
    pub fn key(&self) -> ResourceRef {
        use crate::data::Row;
        each_record!(self, |r| r.key())
    }

    /// The owning project, `None` for the catalogue and for projects themselves.
    pub fn project(&self) -> Option<crate::ids::ProjectId> {
        use crate::data::Row;
        each_record!(self, |r| r.project())
    }
}

/// One change to the stored set.
#[derive(Debug, Clone)]
pub enum Change {
    /// Insert or replace the row with this record's key.
    Put(Record),
    Delete(ResourceRef),
}

/// Everything one operation changed; applied atomically.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    pub changes: Vec<Change>,
    /// The id sequence after this batch, so ids are never handed out twice across restarts.
    pub next_id: i64,
    /// The price list, when the batch changes it.
    pub price_list: Option<Arc<PriceList>>,
}

/// Everything stored, as loaded at start-up.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub records: Vec<Record>,
    pub next_id: i64,
    pub price_list: Option<Arc<PriceList>>,
}

/// A storage failure. Carries only a message: callers cannot recover from it, they log it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("store: {0}")]
pub struct StoreError(pub String);

/// Resolves once a submitted batch is durable (or failed).
pub type Commit = tokio::sync::oneshot::Receiver<Result<(), StoreError>>;

#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    /// Reads every stored record.
    async fn load(&self) -> Result<Snapshot, StoreError>;

    /// Queues a batch. Batches become durable in the order they were submitted; the
    /// returned receiver resolves when this one is. Not async so that callers can submit
    /// while holding the state lock, which is what keeps the durable order equal to the
    /// order in which changes were applied in memory.
    fn submit(&self, batch: Batch) -> Commit;
}

/// A store that keeps batches in memory: for tests of core and of dialects, which need
/// the semantics of a store (ordered, acknowledged batches) but not a disk.
pub mod memory {
    use super::*;
    use std::sync::Mutex;

    #[derive(Debug, Default)]
    pub struct MemoryStore {
        batches: Mutex<Vec<Batch>>,
    }

    impl MemoryStore {
        pub fn new() -> Arc<Self> {
            Arc::new(Self::default())
        }

        /// Everything submitted so far, as a snapshot a fresh `Cloud` can start from:
        /// what a restart would load.
        pub fn snapshot(&self) -> Snapshot {
            self.snapshot_at(usize::MAX)
        }

        /// Every version of the record with this key that was put, oldest first: what a
        /// test reads to see how a record changed (an action's plan, which a finished
        /// action no longer keeps).
        pub fn versions(&self, key: ResourceRef) -> Vec<Record> {
            let batches = self.batches.lock().unwrap_or_else(|e| e.into_inner());
            batches
                .iter()
                .flat_map(|b| &b.changes)
                .filter_map(|c| match c {
                    Change::Put(r) if r.key() == key => Some(r.clone()),
                    _ => None,
                })
                .collect()
        }

        /// How many batches have been submitted.
        pub fn batches(&self) -> usize {
            self.batches.lock().unwrap_or_else(|e| e.into_inner()).len()
        }

        /// What was durable after the first `n` batches: the state a crash at that
        /// moment leaves behind.
        pub fn snapshot_at(&self, n: usize) -> Snapshot {
            let batches = self.batches.lock().unwrap_or_else(|e| e.into_inner());
            let mut rows: std::collections::BTreeMap<ResourceRef, Record> = std::collections::BTreeMap::new();
            let mut snapshot = Snapshot::default();
            for batch in batches.iter().take(n) {
                for change in &batch.changes {
                    match change {
                        Change::Put(r) => {
                            rows.insert(r.key(), r.clone());
                        }
                        Change::Delete(key) => {
                            rows.remove(key);
                        }
                    }
                }
                snapshot.next_id = snapshot.next_id.max(batch.next_id);
                if batch.price_list.is_some() {
                    snapshot.price_list = batch.price_list.clone();
                }
            }
            snapshot.records = rows.into_values().collect();
            snapshot
        }

        /// A new store holding what this one had after `n` batches, as if the process
        /// had been killed right after that commit and restarted.
        pub fn reopen_at(&self, n: usize) -> Arc<Self> {
            let snapshot = self.snapshot_at(n);
            let store = Self::new();
            store.batches.lock().unwrap_or_else(|e| e.into_inner()).push(Batch {
                changes: snapshot.records.into_iter().map(Change::Put).collect(),
                next_id: snapshot.next_id,
                price_list: snapshot.price_list,
            });
            store
        }
    }

    #[async_trait]
    impl Store for MemoryStore {
        async fn load(&self) -> Result<Snapshot, StoreError> {
            Ok(self.snapshot())
        }

        fn submit(&self, batch: Batch) -> Commit {
            self.batches.lock().unwrap_or_else(|e| e.into_inner()).push(batch);
            let (tx, rx) = tokio::sync::oneshot::channel();
            let _ = tx.send(Ok(()));
            rx
        }
    }
}
