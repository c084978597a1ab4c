//! Reading everything back at start-up, on the read pool so it never queues behind the
//! writer.

use crate::schema;
use futures::TryStreamExt;
use sqlx::{Row, SqlitePool};
use std::sync::Arc;
use stratus_core::ids::ResourceKind;
use stratus_core::model::PriceList;
use stratus_core::store::{Record, Snapshot, StoreError};
use tokio::task::JoinSet;

/// The id sequence of an empty store: ids start at 1.
const FIRST_ID: i64 = 1;

/// Reads every table, each streamed on its own read connection and decoded as its rows
/// arrive, so SQLite's reading (on each connection's thread) and JSON parsing (on the
/// runtime's) overlap and the large tables keep every core busy.
///
/// The connections see the database at slightly different moments. That is safe because
/// loading runs before anything can write: the data directory's lock keeps every other
/// process out, and this process has submitted nothing yet.
pub(crate) async fn load(pool: &SqlitePool) -> Result<Snapshot, StoreError> {
    let mut tables = JoinSet::new();
    for (i, &kind) in schema::KINDS.iter().enumerate() {
        let pool = pool.clone();
        tables.spawn(async move { (i, load_table(&pool, kind).await) });
    }
    let mut parts: Vec<Vec<Record>> = (0..schema::KINDS.len()).map(|_| Vec::new()).collect();
    while let Some(joined) = tables.join_next().await {
        let (i, records) = joined.map_err(|e| StoreError(format!("a table loader failed: {e}")))?;
        parts[i] = records?;
    }
    // In the order of `KINDS`, as one read would have given them.
    let mut records = Vec::with_capacity(parts.iter().map(Vec::len).sum());
    for part in parts {
        records.extend(part);
    }

    let meta: Vec<(String, String)> = sqlx::query_as("SELECT key, value FROM meta")
        .fetch_all(pool)
        .await
        .map_err(|e| StoreError(format!("cannot read meta: {e}")))?;

    let mut snapshot = Snapshot { records, next_id: FIRST_ID, price_list: None };
    for (key, value) in meta {
        match key.as_str() {
            schema::meta::NEXT_ID => {
                snapshot.next_id =
                    value.parse().map_err(|e| StoreError(format!("cannot parse meta {key} {value:?}: {e}")))?;
            }
            schema::meta::PRICE_LIST => {
                let list: PriceList =
                    serde_json::from_str(&value).map_err(|e| StoreError(format!("cannot parse meta {key}: {e}")))?;
                snapshot.price_list = Some(Arc::new(list));
            }
            // A key written by a newer version; this one has no use for it.
            _ => tracing::debug!(key, "ignoring unknown meta key"),
        }
    }
    tracing::debug!(records = snapshot.records.len(), next_id = snapshot.next_id, "loaded");
    Ok(snapshot)
}

/// Every record of `kind`, in id order. Each row's JSON is parsed straight from SQLite's
/// buffer, never copied into a `String` first.
async fn load_table(pool: &SqlitePool, kind: ResourceKind) -> Result<Vec<Record>, StoreError> {
    let table = schema::table(kind);
    let failed = |e: sqlx::Error| StoreError(format!("cannot read {table}: {e}"));
    let mut conn = pool.acquire().await.map_err(failed)?;
    let sql = format!("SELECT id, data FROM {table} ORDER BY id");
    let mut rows = sqlx::query(&sql).fetch(&mut *conn);
    let mut records = Vec::new();
    while let Some(row) = rows.try_next().await.map_err(failed)? {
        let id: i64 = row.try_get(0).map_err(failed)?;
        let data: &str = row.try_get(1).map_err(failed)?;
        records.push(schema::decode(kind, id, data)?);
    }
    Ok(records)
}
