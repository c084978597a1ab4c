//! [`Cloud`]: the application service every dialect calls. It owns the working set,
//! the store, the driver and the action engine. Its operations live in `ops/`, one
//! module per resource; this module holds the read and write paths they all share.

use crate::config::Config;
use crate::data::{State, Tx};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::ids::ActionId;
use crate::ratelimit::RateLimiter;
use crate::store::Store;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use stratus_compute::Driver;

/// The control plane. Cheap to clone; all clones share one state.
#[derive(Debug, Clone)]
pub struct Cloud {
    pub(crate) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    state: RwLock<State>,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) driver: Arc<dyn Driver>,
    pub(crate) config: Config,
    pub(crate) rate_limiter: RateLimiter,
    /// Requests without a valid credential, metered by source address, so that even
    /// refusals carry a budget and guessing tokens costs budget too.
    pub(crate) anonymous_limiter: RateLimiter,
    pub(crate) engine: Engine,
}

impl Cloud {
    /// Loads the stored state and seeds the default catalogue into an empty store.
    /// Nothing runs yet: admin commands use the cloud like this, `serve` calls [`Cloud::start`].
    pub async fn open(store: Arc<dyn Store>, driver: Arc<dyn Driver>, config: Config) -> Result<Cloud> {
        let snapshot = store.load().await.map_err(|e| Error::Internal(e.to_string()))?;
        let state = State::from_snapshot(snapshot);
        let cloud = Cloud {
            inner: Arc::new(Inner {
                state: RwLock::new(state),
                store,
                driver,
                rate_limiter: RateLimiter::new(config.rate_limit),
                anonymous_limiter: RateLimiter::new(config.rate_limit),
                engine: Engine::new(config.action_workers),
                config,
            }),
        };
        cloud.seed_catalog_if_empty().await?;
        Ok(cloud)
    }

    /// Starts serving: tells the driver what exists, resumes every action that was
    /// running when the process stopped, and starts the backup schedule and the action
    /// history's retention.
    pub async fn start(&self) -> Result<()> {
        crate::engine::recover(self).await?;
        crate::ops::schedule::spawn_scheduler(self);
        crate::engine::spawn_sweeper(self);
        Ok(())
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Runs `f` on the current state.
    pub(crate) fn read<R>(&self, f: impl FnOnce(&State) -> R) -> R {
        f(&self.read_lock())
    }

    /// Changes the state in memory only (action progress), outside any transaction.
    pub(crate) fn with_state_mut<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut self.write_lock())
    }

    fn read_lock(&self) -> RwLockReadGuard<'_, State> {
        self.inner.state.read().unwrap_or_else(|_| poisoned())
    }

    fn write_lock(&self) -> RwLockWriteGuard<'_, State> {
        self.inner.state.write().unwrap_or_else(|_| poisoned())
    }

    /// Runs `f` as one transaction: its writes apply in memory at once, are made durable
    /// as one batch, and only then does this return. If `f` fails (or panics), its
    /// writes are undone and nothing reaches the store. Actions `f` started are handed
    /// to the engine once durable.
    pub(crate) async fn write<R>(&self, f: impl FnOnce(&mut Tx) -> Result<R>) -> Result<R> {
        let (result, commit, started) = {
            let mut state = self.write_lock();
            let mut tx = Tx::new(&mut state);
            // A panic inside `f` must not poison the lock: the transaction is dropped
            // (and so undone) while unwinding, so the state is as it was.
            let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| f(&mut tx)));
            match outcome {
                Err(panic) => {
                    drop(tx);
                    let what = panic_message(&*panic);
                    return Err(Error::Internal(format!("operation panicked: {what}")));
                }
                Ok(Err(e)) => return Err(e),
                Ok(Ok(r)) if tx.is_empty() => return Ok(r),
                Ok(Ok(r)) => {
                    let (batch, started) = tx.into_batch();
                    // Submitting under the lock keeps the durable order equal to the
                    // order in which changes were applied in memory.
                    (r, self.inner.store.submit(batch), started)
                }
            }
        };
        match commit.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => fatal_store_failure(&e.to_string()),
            Err(_) => fatal_store_failure("the store's writer stopped"),
        }
        for id in started {
            self.inner.engine.run(self, id);
        }
        Ok(result)
    }

    /// Hands an action to the engine (used by recovery and by action chains).
    pub(crate) fn run_action(&self, id: ActionId) {
        self.inner.engine.run(self, id);
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".into())
}

/// Something panicked while changing the state outside a transaction, so the state may
/// be half-changed. Serving it could show or persist changes nobody made; stop, and let
/// the restart rebuild the state from what was committed.
fn poisoned() -> ! {
    tracing::error!("the state lock is poisoned (a panic while changing it); stopping");
    std::process::abort()
}

/// The memory state is ahead of the disk and the disk refuses writes. Answering further
/// requests would acknowledge changes that are not durable, so stop; at restart the state
/// is rebuilt from what was committed (PostgreSQL does the same on fsync failure).
fn fatal_store_failure(why: &str) -> ! {
    tracing::error!(error = why, "store commit failed; stopping so nothing unacknowledged is served");
    std::process::abort()
}
