//! Backups: turning the daily schedule on and off, and the scheduled backups themselves.

use super::image::{CreateImageParams, INSERT_IMAGE, MARK_AVAILABLE, SNAPSHOT};
use super::steps::update_server;
use super::{Kind, Step, StepResult};
use crate::data::Tx;
use crate::ids::{ImageId, ResourceRef, ServerId};
use crate::model::ImageStatus;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct BackupPlanParams {
    pub server: ServerId,
    /// `HH-HH` UTC; `None` turns backups off.
    pub window: Option<String>,
    /// Turning backups off deletes the server's backups (a dialect's policy).
    #[serde(default)]
    pub delete_backups: bool,
}

type C<'a> = super::Ctx<'a, BackupPlanParams>;

fn set_window(tx: &mut Tx, c: &C) -> StepResult {
    let prior = update_server(tx, c.params.server, |s| {
        let prior = (s.backup_window.clone(), s.last_backup);
        s.backup_window = c.params.window.clone();
        // The first backup is taken at the first window after enabling.
        if c.params.window.is_some() {
            s.last_backup = Some(crate::model::now());
        }
        prior
    })?;
    if c.params.delete_backups {
        let backups: Vec<ImageId> = tx.backups_of(c.params.server).map(|i| i.id).collect();
        for id in &backups {
            tx.delete(id.as_ref());
        }
        if !backups.is_empty() {
            super::start::<super::ImageDataDelete>(tx, c.project(), super::ImageDataParams { images: backups }, None)
                .map_err(|e| crate::model::ActionError::new("internal_error", e.to_string()))?;
        }
    }
    Ok(Some(json!(prior)))
}
fn unset_window(tx: &mut Tx, c: &C) -> StepResult {
    if let Some((window, last)) = c.output::<(Option<String>, Option<DateTime<Utc>>)>("set_window") {
        update_server(tx, c.params.server, |s| {
            s.backup_window = window;
            s.last_backup = last;
        })?;
    }
    Ok(None)
}

static PLAN_STEPS: [Step<BackupPlanParams>; 1] = [
    // The undo puts the window back; deleted backups cannot come back, but a plan of one
    // record step never unwinds after it ran.
    Step::record("set_window", set_window).undo_record(unset_window),
];

/// `server_enable_backup`.
pub(crate) struct ServerEnableBackup;

impl Kind for ServerEnableBackup {
    const NAME: &'static str = "server_enable_backup";
    type Params = BackupPlanParams;

    fn steps() -> &'static [Step<BackupPlanParams>] {
        &PLAN_STEPS
    }

    fn resources(p: &BackupPlanParams) -> Vec<ResourceRef> {
        vec![p.server.as_ref()]
    }
}

/// `server_disable_backup`.
pub(crate) struct ServerDisableBackup;

impl Kind for ServerDisableBackup {
    const NAME: &'static str = "server_disable_backup";
    type Params = BackupPlanParams;

    fn steps() -> &'static [Step<BackupPlanParams>] {
        &PLAN_STEPS
    }

    fn resources(p: &BackupPlanParams) -> Vec<ResourceRef> {
        vec![p.server.as_ref()]
    }
}

/// `server_backup`: one scheduled backup, made like an image (see `image.rs`); the
/// oldest backups beyond what the plan keeps are removed once it is done.
pub(crate) struct ServerBackup;

impl Kind for ServerBackup {
    const NAME: &'static str = "server_backup";
    type Params = CreateImageParams;

    fn steps() -> &'static [Step<CreateImageParams>] {
        static STEPS: [Step<CreateImageParams>; 4] = [
            INSERT_IMAGE,
            SNAPSHOT,
            MARK_AVAILABLE,
            // No undo: the last step; nothing after it can fail.
            Step::record("rotate", rotate),
        ];
        &STEPS
    }

    fn resources(p: &CreateImageParams) -> Vec<ResourceRef> {
        vec![p.server.as_ref(), p.image.id.as_ref()]
    }
}

/// How many scheduled backups a server keeps: a week of dailies.
pub(crate) const BACKUPS_KEPT: usize = 7;

fn rotate(tx: &mut Tx, c: &super::Ctx<CreateImageParams>) -> StepResult {
    let mut backups: Vec<(DateTime<Utc>, ImageId)> = tx
        .backups_of(c.params.server)
        .filter(|i| i.status == ImageStatus::Available)
        .map(|i| (i.created, i.id))
        .collect();
    backups.sort();
    let excess: Vec<ImageId> = backups.into_iter().map(|(_, id)| id).rev().skip(BACKUPS_KEPT).collect();
    for id in &excess {
        tx.delete(id.as_ref());
    }
    if !excess.is_empty() {
        super::start::<super::ImageDataDelete>(tx, c.project(), super::ImageDataParams { images: excess }, None)
            .map_err(|e| crate::model::ActionError::new("internal_error", e.to_string()))?;
    }
    Ok(None)
}
