//! Schema migrations: the plain SQL files under `crates/store/migrations/`, compiled into
//! the binary so a deployed `stratus` needs no files beside it.
//!
//! sqlx's `migrate!` macro would do the embedding but needs sqlx's `macros` feature (a
//! proc-macro crate and its build time for the whole workspace). Instead the files are
//! embedded with `include_str!` and handed to sqlx's own [`Migrator`] through a
//! [`MigrationSource`], so the bookkeeping (`_sqlx_migrations`, checksums, one transaction
//! per migration) is sqlx's and stays compatible with the `sqlx migrate` CLI.

use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use sqlx::SqliteConnection;
use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use stratus_core::store::StoreError;

/// Every migration as (version, description, SQL), in order. File names follow sqlx's
/// `<version>_<description>.sql`; a test checks this list against the directory.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("../migrations/0001_init.sql")),
    (2, "resources", include_str!("../migrations/0002_resources.sql")),
    (3, "identities", include_str!("../migrations/0003_identities.sql")),
];

/// The embedded migrations as a source for sqlx's [`Migrator`].
#[derive(Debug)]
struct Embedded;

impl<'s> MigrationSource<'s> for Embedded {
    fn resolve(self) -> Pin<Box<dyn Future<Output = Result<Vec<Migration>, BoxDynError>> + Send + 's>> {
        Box::pin(async move {
            Ok(MIGRATIONS
                .iter()
                .map(|&(version, description, sql)| {
                    Migration::new(
                        version,
                        Cow::Borrowed(description),
                        MigrationType::Simple,
                        Cow::Borrowed(sql),
                        false,
                    )
                })
                .collect())
        })
    }
}

/// Brings the database at `conn` up to the latest schema.
pub(crate) async fn run(conn: &mut SqliteConnection) -> Result<(), StoreError> {
    let migrator = Migrator::new(Embedded).await.map_err(|e| StoreError(format!("cannot load migrations: {e}")))?;
    migrator.run(conn).await.map_err(|e| StoreError(format!("cannot migrate: {e}")))
}

#[cfg(test)]
mod tests {
    use super::MIGRATIONS;

    /// A migration file added to the directory but not to [`MIGRATIONS`] would silently
    /// never run.
    #[test]
    fn embedded_list_matches_the_directory() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".sql"))
            .collect();
        files.sort();
        let embedded: Vec<String> = MIGRATIONS.iter().map(|(v, d, _)| format!("{v:04}_{d}.sql")).collect();
        assert_eq!(files, embedded);
        let versions: Vec<i64> = MIGRATIONS.iter().map(|m| m.0).collect();
        assert!(versions.windows(2).all(|w| w[0] < w[1]), "versions must increase");
    }
}
