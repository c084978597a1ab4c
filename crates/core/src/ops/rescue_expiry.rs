//! A rescue system armed but not booted into goes away after an hour, as on Hetzner
//! ("automatically disabled when you first boot into it or if you do not use it for 60
//! minutes"). Run by the clock (see `schedule`); the first boot's disarming is the power
//! actions' (`actions::server_power`).

use crate::actions::{self, RescueParams, ServerDisableRescue};
use crate::cloud::Cloud;
use crate::error::Result;
use crate::model::*;
use chrono::{DateTime, Duration, Utc};
use std::sync::Arc;

/// How long an armed rescue system waits for its boot.
const RESCUE_EXPIRES: Duration = Duration::minutes(60);

impl Cloud {
    /// Disables the rescue systems armed for an hour by `until`, each with the action a
    /// user's disable_rescue starts. Returns how many were started.
    pub(crate) async fn expire_rescues_until(&self, until: DateTime<Utc>) -> Result<usize> {
        self.write(|tx| {
            let expired: Vec<Arc<Server>> = tx
                .rescue_armed_until(until - RESCUE_EXPIRES)
                .filter(|s| tx.lock_holder(s.id.as_ref()).is_none())
                .cloned()
                .collect();
            for srv in &expired {
                actions::start::<ServerDisableRescue>(tx, srv.project, RescueParams::disable(srv.id), None)?;
            }
            Ok(expired.len())
        })
        .await
    }
}
