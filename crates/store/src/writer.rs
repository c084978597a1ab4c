//! Group commit: one task owns the only write connection and turns whatever batches are
//! queued into one transaction, so many concurrent operations share one fsync.
//!
//! Why: with `synchronous=FULL` every commit costs an fsync (~2.5k commits/s here), while
//! one transaction can write ~50k rows/s. Core submits one batch per operation while
//! holding its state lock, so the queue order is the order changes were applied in
//! memory; a single consumer keeps that order without any locking of its own.

use crate::schema::{self, Row};
use sqlx::query::Query;
use sqlx::sqlite::{Sqlite, SqliteArguments};
use sqlx::{Connection, SqliteConnection};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use stratus_core::ids::{ResourceKind, ResourceRef};
use stratus_core::store::{Batch, Change, StoreError};
use tokio::sync::{mpsc, oneshot};

/// A queued batch and the sender that resolves its [`stratus_core::store::Commit`].
pub(crate) type Job = (Batch, oneshot::Sender<Result<(), StoreError>>);

/// At most this many batches go into one transaction, so one huge backlog cannot make
/// the first of its callers wait for all of it.
const MAX_GROUP: usize = 1024;

/// Multi-row statements hold up to `1 << MAX_LEVEL` rows. Each table gets one prepared
/// statement per power of two up to that, so a run of n rows takes about n/128 + 7
/// statements and the statement cache stays bounded (see [`STATEMENT_CACHE`]).
const MAX_LEVEL: u32 = 7;

/// Enough prepared statements for every table's put and delete at every level, plus
/// the few fixed ones (`BEGIN`, `COMMIT`, meta).
pub(crate) const STATEMENT_CACHE: usize = 512;

/// A group commit slower than this is logged as a warning: it holds up every caller.
const SLOW_COMMIT: Duration = Duration::from_secs(1);

/// Runs until every sender of the queue is gone, then closes the connection.
pub(crate) async fn run(mut conn: SqliteConnection, mut queue: mpsc::UnboundedReceiver<Job>, commits: Arc<AtomicU64>) {
    let sql = Statements::new();
    let mut group: Vec<Job> = Vec::new();
    while queue.recv_many(&mut group, MAX_GROUP).await > 0 {
        let started = Instant::now();
        let plan = Plan::new(group.iter().map(|(batch, _)| batch));
        let rows = plan.as_ref().map_or(0, Plan::rows);
        let result = match plan {
            // Nothing to write (batches that changed nothing): everything before them is
            // already durable, so they are too, without a transaction.
            Ok(plan) if plan.is_empty() => {
                resolve(group.drain(..), &Ok(()));
                continue;
            }
            Ok(plan) => commit(&mut conn, &sql, &plan).await,
            Err(e) => Err(Failure::BeforeBegin(e)),
        };
        let elapsed = started.elapsed();
        let batches = group.len();
        let outcome = match result {
            Ok(()) => {
                commits.fetch_add(1, Ordering::Relaxed);
                if elapsed > SLOW_COMMIT {
                    tracing::warn!(batches, rows, ?elapsed, "slow group commit");
                } else {
                    tracing::debug!(batches, rows, ?elapsed, "group commit");
                }
                Ok(())
            }
            Err(failure) => {
                let e = failure.error().clone();
                tracing::error!(batches, rows, error = %e, "group commit failed");
                if let Failure::RollbackFailed(..) = failure {
                    // The connection may still be inside the failed transaction, so no later
                    // group could commit on it: fail everything queued and stop.
                    resolve(group.drain(..), &Err(e.clone()));
                    queue.close();
                    let rest = std::iter::from_fn(|| queue.try_recv().ok());
                    resolve(rest, &Err(StoreError(format!("writer stopped after: {e}"))));
                    break;
                }
                Err(e)
            }
        };
        resolve(group.drain(..), &outcome);
    }
    if let Err(e) = conn.close().await {
        tracing::warn!(error = %e, "closing the write connection");
    }
}

fn resolve(jobs: impl Iterator<Item = Job>, outcome: &Result<(), StoreError>) {
    for (_, done) in jobs {
        // The caller may have stopped waiting; the batch is durable (or not) regardless.
        let _ = done.send(outcome.clone());
    }
}

/// Why a group did not commit.
#[derive(Debug)]
enum Failure {
    /// Nothing was written: a record did not serialize, or `BEGIN` failed.
    BeforeBegin(StoreError),
    /// The transaction failed and was rolled back; the connection is usable.
    RolledBack(StoreError),
    /// The transaction failed and so did its rollback.
    RollbackFailed(StoreError),
}

impl Failure {
    fn error(&self) -> &StoreError {
        match self {
            Failure::BeforeBegin(e) | Failure::RolledBack(e) | Failure::RollbackFailed(e) => e,
        }
    }
}

/// Writes `plan` in one `BEGIN IMMEDIATE` transaction. Returns once `COMMIT` has
/// returned, which with `synchronous=FULL` means the WAL is fsynced.
async fn commit(conn: &mut SqliteConnection, sql: &Statements, plan: &Plan) -> Result<(), Failure> {
    // IMMEDIATE takes the write lock up front, so a concurrent writer (an admin command
    // on the same file) makes us wait `busy_timeout` instead of failing mid-transaction.
    exec(conn, sqlx::query("BEGIN IMMEDIATE"), "BEGIN").await.map_err(Failure::BeforeBegin)?;
    let written = match write(conn, sql, plan).await {
        Ok(()) => exec(conn, sqlx::query("COMMIT"), "COMMIT").await,
        Err(e) => Err(e),
    };
    match written {
        Ok(()) => Ok(()),
        Err(e) => match exec(conn, sqlx::query("ROLLBACK"), "ROLLBACK").await {
            Ok(()) => Err(Failure::RolledBack(e)),
            // A failed COMMIT may already have ended the transaction, in which case
            // ROLLBACK fails with "no transaction is active" and the connection is fine.
            Err(_) if conn_is_idle(conn).await => Err(Failure::RolledBack(e)),
            Err(r) => Err(Failure::RollbackFailed(StoreError(format!("{}; then {}", e.0, r.0)))),
        },
    }
}

/// Whether the connection is outside any transaction (SQLite autocommit mode): a
/// `BEGIN` succeeds only then, and is undone at once.
async fn conn_is_idle(conn: &mut SqliteConnection) -> bool {
    exec(conn, sqlx::query("BEGIN"), "BEGIN").await.is_ok()
        && exec(conn, sqlx::query("ROLLBACK"), "ROLLBACK").await.is_ok()
}

/// Applies the plan inside the open transaction: deletes, then puts, then meta.
async fn write(conn: &mut SqliteConnection, sql: &Statements, plan: &Plan) -> Result<(), StoreError> {
    for (kind, ids) in &plan.deletes {
        for (level, chunk) in chunks(ids) {
            let mut q = sqlx::query(sql.delete(*kind, level)?);
            for id in chunk {
                q = q.bind(*id);
            }
            exec(conn, q, schema::table(*kind)).await?;
        }
    }
    for (kind, rows) in &plan.puts {
        for (level, chunk) in chunks(rows) {
            let mut q = sqlx::query(sql.put(*kind, level)?);
            for row in chunk {
                q = q.bind(row.id).bind(row.project).bind(row.data.as_str());
                if let Some(hash) = &row.secret_hash {
                    q = q.bind(hash.as_str());
                }
            }
            exec(conn, q, schema::table(*kind)).await?;
        }
    }
    if let Some(next_id) = plan.next_id {
        let q = sqlx::query(Statements::NEXT_ID).bind(schema::meta::NEXT_ID).bind(next_id.to_string());
        exec(conn, q, "meta").await?;
    }
    if let Some(price_list) = &plan.price_list {
        let q = sqlx::query(Statements::META).bind(schema::meta::PRICE_LIST).bind(price_list.as_str());
        exec(conn, q, "meta").await?;
    }
    Ok(())
}

async fn exec<'q>(
    conn: &mut SqliteConnection,
    q: Query<'q, Sqlite, SqliteArguments<'q>>,
    what: &str,
) -> Result<(), StoreError> {
    q.execute(&mut *conn).await.map(drop).map_err(|e| StoreError(format!("writing {what}: {e}")))
}

/// Splits `items` into chunks whose sizes are powers of two (largest first, at most
/// `1 << MAX_LEVEL`), each with its level, so every chunk has a prepared statement.
fn chunks<T>(mut items: &[T]) -> impl Iterator<Item = (u32, &[T])> {
    let mut level = MAX_LEVEL;
    std::iter::from_fn(move || loop {
        let size = 1usize << level;
        if items.len() >= size {
            let (chunk, rest) = items.split_at(size);
            items = rest;
            return Some((level, chunk));
        }
        if level == 0 {
            return None;
        }
        level -= 1;
    })
}

/// What one group writes: the last change to each key, in the order of those last
/// changes, grouped by table.
///
/// Applying only the last change per key gives the same final rows as applying every
/// change in order (a Put replaces the whole row, a Delete removes it, and no trigger or
/// foreign key makes one row's write depend on another's), and nothing but the final
/// rows is ever visible, because the group is one transaction. It turns an action
/// updated by many batches of a group into one row write, and lets rows of one table be
/// written by multi-row statements. Deletes run before puts so that a unique value (a
/// token's secret hash) freed by a delete can be taken by a put of the same group.
#[derive(Debug, Default)]
struct Plan {
    deletes: BTreeMap<ResourceKind, Vec<i64>>,
    puts: BTreeMap<ResourceKind, Vec<Row>>,
    /// The highest `next_id` of the group, if any batch set one.
    next_id: Option<i64>,
    /// The last price list of the group, as JSON.
    price_list: Option<String>,
}

impl Plan {
    fn new<'a>(batches: impl Iterator<Item = &'a Batch> + Clone) -> Result<Plan, StoreError> {
        // The position of the last change to each key, counted over the whole group.
        let mut last: HashMap<ResourceRef, usize> = HashMap::new();
        for (pos, change) in batches.clone().flat_map(|b| &b.changes).enumerate() {
            last.insert(key(change), pos);
        }
        let mut plan = Plan::default();
        for (pos, change) in batches.clone().flat_map(|b| &b.changes).enumerate() {
            if last.get(&key(change)) != Some(&pos) {
                continue;
            }
            match change {
                Change::Put(record) => {
                    let row = schema::encode(record)?;
                    plan.puts.entry(row.kind).or_default().push(row);
                }
                Change::Delete(r) => plan.deletes.entry(r.kind).or_default().push(r.id),
            }
        }
        for batch in batches {
            // Core's sequence only grows; a batch that did not set it (0) must not rewind it.
            if batch.next_id > 0 {
                plan.next_id = plan.next_id.max(Some(batch.next_id));
            }
            if let Some(price_list) = &batch.price_list {
                let json = serde_json::to_string(&**price_list)
                    .map_err(|e| StoreError(format!("cannot serialize the price list: {e}")))?;
                plan.price_list = Some(json);
            }
        }
        Ok(plan)
    }

    fn is_empty(&self) -> bool {
        self.deletes.is_empty() && self.puts.is_empty() && self.next_id.is_none() && self.price_list.is_none()
    }

    fn rows(&self) -> usize {
        self.deletes.values().map(Vec::len).sum::<usize>() + self.puts.values().map(Vec::len).sum::<usize>()
    }
}

fn key(change: &Change) -> ResourceRef {
    match change {
        Change::Put(record) => record.key(),
        Change::Delete(r) => *r,
    }
}

/// The SQL of every statement the writer runs, built once so each string lives as long
/// as the writer and sqlx's per-connection cache prepares each exactly once.
#[derive(Debug)]
struct Statements {
    put: HashMap<(ResourceKind, u32), String>,
    delete: HashMap<(ResourceKind, u32), String>,
}

impl Statements {
    /// Raises `next_id`, never lowers it: the id sequence must not hand out an id twice.
    const NEXT_ID: &'static str = "INSERT INTO meta (key, value) VALUES (?, ?) \
         ON CONFLICT (key) DO UPDATE SET value = \
         CAST(MAX(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER)) AS TEXT)";
    const META: &'static str = "INSERT INTO meta (key, value) VALUES (?, ?) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value";

    fn new() -> Statements {
        let mut put = HashMap::new();
        let mut delete = HashMap::new();
        for &kind in schema::KINDS {
            let table = schema::table(kind);
            // An upsert rather than `INSERT OR REPLACE`: REPLACE would resolve a clash on
            // the unique secret hash by silently deleting the *other* token.
            let (columns, update) = if schema::has_secret_hash(kind) {
                ("id, project_id, data, secret_hash", ", secret_hash = excluded.secret_hash")
            } else {
                ("id, project_id, data", "")
            };
            let row = format!("({})", vec!["?"; columns.split(',').count()].join(", "));
            for level in 0..=MAX_LEVEL {
                let n = 1usize << level;
                put.insert(
                    (kind, level),
                    format!(
                        "INSERT INTO {table} ({columns}) VALUES {} ON CONFLICT (id) DO UPDATE \
                         SET project_id = excluded.project_id, data = excluded.data{update}",
                        vec![row.as_str(); n].join(", ")
                    ),
                );
                delete.insert((kind, level), format!("DELETE FROM {table} WHERE id IN ({})", vec!["?"; n].join(", ")));
            }
        }
        Statements { put, delete }
    }

    fn put(&self, kind: ResourceKind, level: u32) -> Result<&str, StoreError> {
        Self::get(&self.put, kind, level)
    }

    fn delete(&self, kind: ResourceKind, level: u32) -> Result<&str, StoreError> {
        Self::get(&self.delete, kind, level)
    }

    /// Every (kind, level) is built by [`Statements::new`]; a miss is a bug, reported as
    /// an error rather than a panic in the writer task.
    fn get(map: &HashMap<(ResourceKind, u32), String>, kind: ResourceKind, level: u32) -> Result<&str, StoreError> {
        map.get(&(kind, level))
            .map(String::as_str)
            .ok_or_else(|| StoreError(format!("no statement for {kind:?} at level {level}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_powers_of_two_and_cover_everything() {
        for n in [0usize, 1, 2, 3, 7, 128, 129, 300, 1000] {
            let items: Vec<usize> = (0..n).collect();
            let got: Vec<(u32, &[usize])> = chunks(&items).collect();
            let flat: Vec<usize> = got.iter().flat_map(|(_, c)| c.iter().copied()).collect();
            assert_eq!(flat, items, "n={n}");
            for (level, chunk) in got {
                assert_eq!(chunk.len(), 1 << level);
                assert!(level <= MAX_LEVEL);
            }
        }
    }

    #[test]
    fn every_statement_exists() {
        let sql = Statements::new();
        for &kind in schema::KINDS {
            for level in 0..=MAX_LEVEL {
                assert!(sql.put(kind, level).unwrap().starts_with("INSERT INTO"));
                assert!(sql.delete(kind, level).unwrap().starts_with("DELETE FROM"));
            }
        }
        assert!(sql.put.len() * 2 + 8 <= STATEMENT_CACHE);
    }
}
