//! The daily backup schedule. A server with backups enabled gets one backup per day,
//! taken when its window opens; the newest seven are kept. Run by the clock (see
//! `schedule`).

use super::server_actions::new_image;
use crate::actions::{self, CreateImageParams, ServerBackup};
use crate::cloud::Cloud;
use crate::error::Result;
use crate::labels::Labels;
use crate::model::*;
use crate::store::Record;
use chrono::{DateTime, Duration, NaiveTime, Utc};
use std::sync::Arc;

/// The start hour of a `HH-HH` window.
fn window_start_hour(window: &str) -> Option<u32> {
    window.split_once('-').and_then(|(start, _)| start.parse().ok()).filter(|h| *h < 24)
}

/// Window openings after `since` up to `until`, at most the newest seven (as many as a
/// server keeps).
fn due_windows(window: &str, since: DateTime<Utc>, until: DateTime<Utc>) -> Vec<DateTime<Utc>> {
    let Some(hour) = window_start_hour(window) else { return Vec::new() };
    let Some(at) = NaiveTime::from_hms_opt(hour, 0, 0) else { return Vec::new() };
    // Only the newest seven can survive rotation, so look back at most eight days.
    let first_day = since.max(until - Duration::days(8)).date_naive();
    let mut due = Vec::new();
    let mut day = first_day;
    while day <= until.date_naive() {
        let opening = day.and_time(at).and_utc();
        if opening > since && opening <= until {
            due.push(opening);
        }
        day = day.succ_opt().unwrap_or(day);
        if day == first_day {
            break;
        }
    }
    let keep = due.len().saturating_sub(7);
    due.split_off(keep)
}

impl Cloud {
    /// Starts the backups due up to `until`; servers busy with an action wait for the
    /// next check.
    pub(crate) async fn run_backups_until(&self, until: DateTime<Utc>) -> Result<usize> {
        self.write(|tx| {
            let servers: Vec<Arc<Server>> =
                tx.servers_with_backups().filter(|s| tx.lock_holder(s.id.as_ref()).is_none()).cloned().collect();
            let mut started = 0;
            for srv in servers {
                let window = srv.backup_window.clone().unwrap_or_default();
                let since = srv.last_backup.unwrap_or(srv.created);
                let due = due_windows(&window, since, until);
                let Some(last) = due.last().copied() else { continue };
                let mut after = None;
                for opening in due {
                    let mut image = new_image(tx, srv.project, &srv, ImageType::Backup, None, Labels::new());
                    image.created = opening;
                    image.description = format!("{}-backup-{}", srv.name, opening.format("%Y%m%d"));
                    let params = CreateImageParams { server: srv.id, image };
                    after = Some(actions::start::<ServerBackup>(tx, srv.project, params, after)?.id);
                    started += 1;
                }
                let mut updated = Server::clone(&srv);
                updated.last_backup = Some(last);
                tx.put(Record::Server(Arc::new(updated)));
            }
            Ok(started)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn one_backup_per_window_opening_keeping_seven() {
        let t = |d: u32, h: u32| Utc.with_ymd_and_hms(2026, 1, d, h, 30, 0).unwrap();
        assert_eq!(due_windows("22-02", t(1, 10), t(1, 21)), Vec::<DateTime<Utc>>::new());
        assert_eq!(due_windows("22-02", t(1, 10), t(1, 23)).len(), 1);
        assert_eq!(due_windows("22-02", t(1, 10), t(3, 23)).len(), 3);
        let many = due_windows("02-06", t(1, 10), t(20, 10));
        assert_eq!(many.len(), 7);
        assert_eq!(many.last().unwrap().date_naive(), t(20, 10).date_naive());
        assert!(due_windows("bogus", t(1, 1), t(9, 1)).is_empty());
    }
}
