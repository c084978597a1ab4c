//! Reading everything back at start-up, on the read pool so it never queues behind the
//! writer.

use crate::schema;
use sqlx::SqlitePool;
use std::sync::Arc;
use stratus_core::model::PriceList;
use stratus_core::store::{Snapshot, StoreError};

/// The id sequence of an empty store: ids start at 1.
const FIRST_ID: i64 = 1;

/// Reads every table in one read transaction, so the snapshot is consistent even if a
/// write commits meanwhile (WAL readers see the database as of their first read).
pub(crate) async fn load(pool: &SqlitePool) -> Result<Snapshot, StoreError> {
    let mut tx = pool.begin().await.map_err(|e| StoreError(format!("cannot start reading: {e}")))?;
    let mut records = Vec::new();
    for &kind in schema::KINDS {
        let table = schema::table(kind);
        let rows: Vec<(i64, String)> = sqlx::query_as(&format!("SELECT id, data FROM {table} ORDER BY id"))
            .fetch_all(&mut *tx)
            .await
            .map_err(|e| StoreError(format!("cannot read {table}: {e}")))?;
        records.reserve(rows.len());
        for (id, data) in rows {
            records.push(schema::decode(kind, id, &data)?);
        }
    }
    let meta: Vec<(String, String)> = sqlx::query_as("SELECT key, value FROM meta")
        .fetch_all(&mut *tx)
        .await
        .map_err(|e| StoreError(format!("cannot read meta: {e}")))?;
    // Read-only, so ending it either way is the same; rollback cannot fail a good load.
    if let Err(e) = tx.rollback().await {
        tracing::warn!(error = %e, "ending the load transaction");
    }

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
