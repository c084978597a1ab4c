//! Action history retention: finished actions older than `Config::action_retention` are
//! deleted, so the history (in memory and on disk) does not grow without bound on a
//! long-lived installation. Running and stuck actions are never deleted.

use crate::cloud::Cloud;
use crate::model::now;
use std::time::Duration;

/// How often the history is swept.
const SWEEP_EVERY: Duration = Duration::from_secs(600);

/// At most this many actions are deleted per commit, so one sweep of a large backlog
/// never holds the state lock for long.
pub(crate) const SWEEP_BATCH: usize = 2_000;

/// Sweeps the history every [`SWEEP_EVERY`] for as long as the process runs.
pub(crate) fn spawn_sweeper(cloud: &Cloud) {
    if cloud.config().action_retention.is_zero() {
        return;
    }
    let cloud = cloud.clone();
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(SWEEP_EVERY);
        // The first tick is at once; the first sweep is one period after start-up.
        interval.tick().await;
        loop {
            interval.tick().await;
            match cloud.sweep_actions().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(deleted = n, "old actions deleted"),
                Err(e) => tracing::warn!(error = %e, "sweeping old actions"),
            }
        }
    });
}

impl Cloud {
    /// Deletes finished actions older than the retention period; returns how many.
    pub async fn sweep_actions(&self) -> crate::Result<usize> {
        let Ok(keep) = chrono::Duration::from_std(self.config().action_retention) else { return Ok(0) };
        let cutoff = now() - keep;
        let mut total = 0;
        loop {
            let deleted = self
                .write(|tx| {
                    let old = tx.expired_actions(cutoff, SWEEP_BATCH);
                    for id in &old {
                        tx.delete(id.as_ref());
                    }
                    Ok(old.len())
                })
                .await?;
            total += deleted;
            if deleted < SWEEP_BATCH {
                return Ok(total);
            }
        }
    }
}
