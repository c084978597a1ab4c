//! [`Cloud`]: the application service every dialect calls. It owns the working set,
//! the store, the driver and the action engine. Its operations live in `ops/`, one
//! module per resource; this module holds the read and write paths they all share.

use crate::config::Config;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::ids::ActionId;
use crate::ratelimit::RateLimiter;
use crate::state::{State, Tx};
use crate::store::Store;
use std::sync::{Arc, Mutex, MutexGuard};
use stratus_compute::Driver;

/// The control plane. Cheap to clone; all clones share one state.
#[derive(Debug, Clone)]
pub struct Cloud {
    pub(crate) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    state: Mutex<State>,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) driver: Arc<dyn Driver>,
    pub(crate) config: Config,
    pub(crate) rate_limiter: RateLimiter,
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
                state: Mutex::new(state),
                store,
                driver,
                rate_limiter: RateLimiter::new(config.rate_limit),
                config,
                engine: Engine::default(),
            }),
        };
        cloud.seed_catalog_if_empty().await?;
        Ok(cloud)
    }

    /// Starts serving: tells the driver which VMs exist, resumes every action that was
    /// running when the process stopped, and starts the backup schedule.
    pub async fn start(&self) -> Result<()> {
        crate::engine::recover(self).await?;
        crate::ops::backups::spawn_scheduler(self);
        Ok(())
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves the state as the panicking operation
        // left it; its transaction was never committed, so continuing is no worse than
        // the alternative of refusing all further requests.
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` on the current state.
    pub(crate) fn read<R>(&self, f: impl FnOnce(&State) -> R) -> R {
        f(&self.lock())
    }

    /// Runs `f` as one transaction: its writes apply in memory at once, are made durable
    /// as one batch, and only then does this return. If `f` fails, its writes are undone
    /// and nothing reaches the store. Actions `f` started are handed to the engine once
    /// durable.
    pub(crate) async fn write<R>(&self, f: impl FnOnce(&mut Tx) -> Result<R>) -> Result<R> {
        let (result, commit, started) = {
            let mut state = self.lock();
            let mut tx = Tx::new(&mut state);
            match f(&mut tx) {
                Err(e) => {
                    tx.rollback();
                    return Err(e);
                }
                Ok(r) if tx.is_empty() => return Ok(r),
                Ok(r) => {
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

/// The memory state is ahead of the disk and the disk refuses writes. Answering further
/// requests would acknowledge changes that are not durable, so stop; at restart the state
/// is rebuilt from what was committed (PostgreSQL does the same on fsync failure).
fn fatal_store_failure(why: &str) -> ! {
    tracing::error!(error = why, "store commit failed; stopping so nothing unacknowledged is served");
    std::process::abort()
}
