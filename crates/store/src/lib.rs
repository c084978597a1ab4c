//! Persistence for Stratus: the SQLite implementation of core's [`Store`].
//!
//! Core keeps the working set in memory and submits one [`Batch`] per operation; this
//! store makes batches durable in submission order and resolves each one's [`Commit`]
//! only once it is on disk. One writer task groups whatever batches are queued into one
//! transaction (one fsync for many operations), see `writer.rs`; start-up reads go
//! through a separate read pool, see `load.rs`.

/// Reading every table back into a [`Snapshot`].
mod load;
/// The embedded SQL migrations and how they are applied.
mod migrate;
/// Record kinds <-> tables, records <-> rows.
mod schema;
/// The group-commit writer task.
mod writer;

#[cfg(test)]
mod tests;

use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection, SqliteConnection};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use stratus_core::store::{Batch, Commit, Snapshot, Store, StoreError};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// How long a statement waits for a lock held by another connection (an admin command
/// on the same file) before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Start-up reads only: the loader streams the largest tables (servers, their IPs and
/// NICs, actions) at once, one connection each.
const READ_CONNECTIONS: u32 = 4;

/// The SQLite store. Cheap to share behind an `Arc<dyn Store>`; dropping it lets the
/// writer finish what is queued and close (use [`SqliteStore::close`] to wait for that).
#[derive(Debug)]
pub struct SqliteStore {
    path: PathBuf,
    /// The writer's queue. Unbounded because [`Store::submit`] must not block or await:
    /// callers hold the state lock, and every queued batch is already applied in memory.
    queue: mpsc::UnboundedSender<writer::Job>,
    writer: JoinHandle<()>,
    reader: SqlitePool,
    commits: Arc<AtomicU64>,
}

impl SqliteStore {
    /// Opens (creating it and its directory if missing) and migrates the database at
    /// `path`, and starts the writer task. Must be called within a Tokio runtime.
    pub async fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(|e| StoreError(format!("cannot create {}: {e}", dir.display())))?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            // WAL: readers never block the writer, and a commit is one sequential append.
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a commit returns only after the WAL is fsynced, which is what lets a
            // resolved Commit mean "survives power loss". NORMAL would not.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY_TIMEOUT)
            // Rows reference each other only inside their JSON; nothing to enforce.
            .foreign_keys(false);
        let context = |what: &str, e: sqlx::Error| StoreError(format!("cannot open {what} of {}: {e}", path.display()));

        let mut conn = SqliteConnection::connect_with(
            &options
                .clone()
                .statement_cache_capacity(writer::STATEMENT_CACHE)
                // The writer logs once per group; per-statement logs would drown that.
                .disable_statement_logging(),
        )
        .await
        .map_err(|e| context("the write connection", e))?;
        if let Err(e) = migrate::run(&mut conn).await {
            let _ = conn.close().await;
            return Err(e);
        }
        // Opened after migrating, so every reader sees the current schema.
        let reader = SqlitePoolOptions::new()
            .max_connections(READ_CONNECTIONS)
            .connect_with(options.create_if_missing(false))
            .await
            .map_err(|e| context("the read pool", e));
        let reader = match reader {
            Ok(reader) => reader,
            Err(e) => {
                let _ = conn.close().await;
                return Err(e);
            }
        };

        let (queue, jobs) = mpsc::unbounded_channel();
        let commits = Arc::new(AtomicU64::new(0));
        let writer = tokio::spawn(writer::run(conn, jobs, commits.clone()));
        tracing::info!(path = %path.display(), "store open");
        Ok(SqliteStore { path: path.to_owned(), queue, writer, reader, commits })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How many group transactions have committed. Each covers one or more batches;
    /// tests use it to check that concurrent batches are grouped.
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// Stops accepting batches, waits until everything queued is durable and the writer
    /// has closed its connection, and closes the read pool.
    pub async fn close(self) -> Result<(), StoreError> {
        let SqliteStore { queue, writer, reader, .. } = self;
        drop(queue);
        let joined = writer.await;
        reader.close().await;
        joined.map_err(|e| StoreError(format!("the writer task failed: {e}")))
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn load(&self) -> Result<Snapshot, StoreError> {
        load::load(&self.reader).await
    }

    fn submit(&self, batch: Batch) -> Commit {
        let (done, commit) = oneshot::channel();
        if let Err(mpsc::error::SendError((_, done))) = self.queue.send((batch, done)) {
            // The writer stopped after a failure it could not recover from.
            let _ = done.send(Err(StoreError("the writer has stopped".into())));
        }
        commit
    }
}
