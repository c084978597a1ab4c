//! Group-commit throughput: concurrent submitters, each submitting a batch and waiting
//! for it to be durable before the next (as API requests do), on a temporary file.
//!
//! ```text
//! cargo run --release -p stratus-store --example commit_throughput [SUBMITTERS] [BATCHES_EACH] [ROWS_PER_BATCH]
//! ```
//! Defaults: 64 submitters, 500 batches each, 4 rows per batch (a server create writes a
//! server, two IPs and an action). Prints numbers only; nothing is asserted.

use chrono::Utc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Instant;
use stratus_compute::{DiskSpec, HardwareSpec};
use stratus_core::ids::*;
use stratus_core::labels::Labels;
use stratus_core::model::*;
use stratus_core::store::{Batch, Change, Record, Store};
use stratus_store::SqliteStore;

fn arg(n: usize, default: i64) -> i64 {
    std::env::args().nth(n).and_then(|a| a.parse().ok()).unwrap_or(default)
}

fn server(id: i64) -> Record {
    Record::Server(Arc::new(Server {
        id: ServerId(id),
        project: ProjectId(1),
        name: format!("server-{id}"),
        status: ServerStatus::Running,
        created: Utc::now(),
        server_type: Some(ServerTypeId(3)),
        hardware: HardwareSpec { cores: 2, memory_mb: 4096, disks: vec![DiskSpec { size_gb: 40 }] },
        datacenter: DatacenterId(2),
        image: Some(ImageId(4)),
        iso: None,
        rescue_enabled: false,
        rescue_armed: None,
        backup_window: None,
        protection: Protection::default(),
        labels: Labels::from([("env".to_string(), "bench".to_string())]),
        ssh_keys: vec![SshKeyId(5)],
        user_data: None,
        traffic: Traffic::default(),
        last_backup: None,
        placement_group: None,
    }))
}

fn action(id: i64, server: i64) -> Record {
    Record::Action(Arc::new(Action {
        id: ActionId(id),
        project: ProjectId(1),
        kind: "server_create".into(),
        status: ActionStatus::Running,
        progress: 0,
        started: Utc::now(),
        finished: None,
        resources: vec![ServerId(server).as_ref()],
        error: None,
        related: Vec::new(),
        after: None,
        run: Some(Box::new(RunState {
            version: 1,
            params: serde_json::json!({"server": server}).into(),
            plan: vec!["create_vm".into()],
            done: 0,
            outputs: Default::default(),
            step_started: Utc::now(),
            unwinding: None,
        })),
    }))
}

/// `rows` records with consecutive ids from `first`: a server, then actions.
fn batch(first: i64, rows: i64) -> Batch {
    let changes =
        (0..rows).map(|k| Change::Put(if k == 0 { server(first) } else { action(first + k, first) })).collect();
    Batch { changes, next_id: first + rows, price_list: None }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // RUST_LOG=stratus_store=debug shows every group commit.
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).init();
    let (submitters, each, rows) = (arg(1, 64), arg(2, 500), arg(3, 4).max(1));
    let dir = tempfile::tempdir()?;
    let store = Arc::new(SqliteStore::open(&dir.path().join("bench.db")).await?);

    // Ids come from one sequence, as core allocates them, so new rows land at the end of
    // each table's B-tree as they do in production.
    let next_id = Arc::new(AtomicI64::new(1));
    let started = Instant::now();
    let tasks: Vec<_> = (0..submitters)
        .map(|_| {
            let (store, next_id) = (store.clone(), next_id.clone());
            tokio::spawn(async move {
                for _ in 0..each {
                    let first = next_id.fetch_add(rows, Ordering::Relaxed);
                    store.submit(batch(first, rows)).await??;
                }
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
            })
        })
        .collect();
    for task in tasks {
        task.await?.map_err(|e| e.to_string())?;
    }
    let secs = started.elapsed().as_secs_f64();

    let batches = submitters * each;
    let commits = store.commits();
    // Counts far below 2^53, so the float conversions are exact.
    let per_sec = |n: i64| format!("{:.0}", n as f64 / secs);
    println!("{submitters} submitters x {each} batches x {rows} rows in {secs:.2} s");
    println!("batches/s: {}", per_sec(batches));
    println!("rows/s:    {}", per_sec(batches * rows));
    println!("commits:   {commits} ({:.1} batches per commit)", batches as f64 / commits.max(1) as f64);
    Ok(())
}
