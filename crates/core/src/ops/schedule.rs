//! What happens by the clock: the daily backups (`backups`), the expiry of rescue
//! systems armed but never booted (`rescue_expiry`) and of login sessions (`sessions`). Checked every minute; the
//! simulator's clock can be fast-forwarded (`stratus sim advance --hours N`), which does
//! at once everything falling due in that span.

use crate::cloud::Cloud;
use crate::error::Result;
use crate::model::now;
use chrono::{DateTime, Duration, Utc};

/// How often the schedule is checked.
const TICK: std::time::Duration = std::time::Duration::from_secs(60);

/// What one check started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScheduleRun {
    pub backups_started: usize,
    pub rescues_disabled: usize,
    pub sessions_expired: usize,
}

/// Checks the schedule every minute for as long as the process runs.
pub(crate) fn spawn_scheduler(cloud: &Cloud) {
    let cloud = cloud.clone();
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(TICK);
        loop {
            interval.tick().await;
            if let Err(e) = cloud.run_schedule_until(now()).await {
                tracing::warn!(error = %e, "schedule");
            }
        }
    });
}

impl Cloud {
    /// Fast-forwards the clock by `hours`: does what falls due between now and then.
    pub async fn sim_advance(&self, hours: u32) -> Result<ScheduleRun> {
        self.run_schedule_until(now() + Duration::hours(i64::from(hours))).await
    }

    /// Starts what is due up to `until`; a server busy with an action waits for the next
    /// check.
    async fn run_schedule_until(&self, until: DateTime<Utc>) -> Result<ScheduleRun> {
        Ok(ScheduleRun {
            backups_started: self.run_backups_until(until).await?,
            rescues_disabled: self.expire_rescues_until(until).await?,
            sessions_expired: self.expire_sessions_until(until).await?,
        })
    }
}
