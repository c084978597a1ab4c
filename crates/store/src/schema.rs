//! The one place that maps record kinds to tables and records to rows. Everything else
//! (the writer's SQL, the loader) asks this module, so adding a kind means adding one
//! line here and one table in a migration.

use std::sync::Arc;
use stratus_core::ids::ResourceKind;
use stratus_core::store::{Record, StoreError};

/// A record as a row of its kind's table, ready to bind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Row {
    pub kind: ResourceKind,
    pub id: i64,
    /// The owning project; `None` for the catalogue and for projects themselves.
    pub project: Option<i64>,
    /// The record's JSON.
    pub data: String,
    /// Tokens only: the hash of the secret, kept as an indexed column.
    pub secret_hash: Option<String>,
}

/// Generates the kind <-> table mapping, encoding and decoding from one list, so the
/// three cannot disagree.
macro_rules! kinds {
    ($($variant:ident => $table:literal, owner: |$r:ident| $owner:expr;)*) => {
        /// Every kind, in the order the loader reads them.
        pub(crate) const KINDS: &[ResourceKind] = &[$(ResourceKind::$variant),*];

        /// The table that holds records of `kind`.
        pub(crate) fn table(kind: ResourceKind) -> &'static str {
            match kind {
                $(ResourceKind::$variant => $table,)*
            }
        }

        /// The row for `record`. Fails only if the record cannot be serialized.
        pub(crate) fn encode(record: &Record) -> Result<Row, StoreError> {
            let row = match record {
                $(Record::$variant($r) => Row {
                    kind: ResourceKind::$variant,
                    id: $r.id.0,
                    project: $owner,
                    data: serde_json::to_string(&**$r).map_err(|e| {
                        StoreError(format!("cannot serialize {} row {}: {e}", $table, $r.id.0))
                    })?,
                    secret_hash: None,
                },)*
            };
            Ok(Row { secret_hash: secret_hash(record), ..row })
        }

        /// The record stored as `data` in row `id` of `kind`'s table. A row that does not
        /// parse, or that holds a record with another id, is an error naming the row:
        /// silently skipping it would lose a resource a user was told exists.
        pub(crate) fn decode(kind: ResourceKind, id: i64, data: &str) -> Result<Record, StoreError> {
            let record = match kind {
                $(ResourceKind::$variant => Record::$variant(Arc::new(
                    serde_json::from_str(data).map_err(|e| {
                        StoreError(format!("cannot parse {} row {id}: {e}", $table))
                    })?,
                )),)*
            };
            let key = record.key();
            if key.id != id {
                return Err(StoreError(format!(
                    "{} row {id} holds the record of id {}",
                    table(kind),
                    key.id
                )));
            }
            Ok(record)
        }
    };
}

kinds! {
    Project => "projects", owner: |r| None;
    Token => "tokens", owner: |r| Some(r.project.0);
    Server => "servers", owner: |r| Some(r.project.0);
    Action => "actions", owner: |r| Some(r.project.0);
    SshKey => "ssh_keys", owner: |r| Some(r.project.0);
    Ip => "ips", owner: |r| Some(r.project.0);
    Image => "images", owner: |r| r.project.map(|p| p.0);
    Iso => "isos", owner: |r| None;
    Location => "locations", owner: |r| None;
    Datacenter => "datacenters", owner: |r| None;
    ServerType => "server_types", owner: |r| None;
    Fault => "faults", owner: |r| None;
    Volume => "volumes", owner: |r| Some(r.project.0);
    Network => "networks", owner: |r| Some(r.project.0);
    Nic => "nics", owner: |r| Some(r.project.0);
    Firewall => "firewalls", owner: |r| Some(r.project.0);
    LoadBalancer => "load_balancers", owner: |r| Some(r.project.0);
    LoadBalancerType => "load_balancer_types", owner: |r| None;
    PlacementGroup => "placement_groups", owner: |r| Some(r.project.0);
    Certificate => "certificates", owner: |r| Some(r.project.0);
    User => "users", owner: |r| Some(r.project.0);
    ApiKey => "api_keys", owner: |r| Some(r.project.0);
    Session => "sessions", owner: |r| Some(r.project.0);
}

/// Whether `kind`'s table has the extra `secret_hash` column.
pub(crate) fn has_secret_hash(kind: ResourceKind) -> bool {
    kind == ResourceKind::Token
}

fn secret_hash(record: &Record) -> Option<String> {
    match record {
        Record::Token(t) => Some(t.secret_hash.clone()),
        _ => None,
    }
}

/// Keys of the `meta` table.
pub(crate) mod meta {
    /// The id sequence after the last durable batch, as a decimal integer.
    pub const NEXT_ID: &str = "next_id";
    /// The price list as JSON.
    pub const PRICE_LIST: &str = "price_list";
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_kind_has_its_own_table() {
        let tables: HashSet<_> = KINDS.iter().map(|k| table(*k)).collect();
        assert_eq!(tables.len(), KINDS.len());
        // A migration creates each of them.
        let sql = [
            include_str!("../migrations/0001_init.sql"),
            include_str!("../migrations/0002_resources.sql"),
            include_str!("../migrations/0003_identities.sql"),
        ]
        .concat();
        for t in tables {
            assert!(sql.contains(&format!("CREATE TABLE {t} ")), "{t} not in migration");
        }
    }
}
