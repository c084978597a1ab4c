//! Reading the catalogue (every project sees it) and, for admins, changing it.

use crate::cloud::Cloud;
use crate::error::{Error, Result};
use crate::ids::*;
use crate::model::*;
use crate::store::Record;
use crate::views::{datacenter_view, DatacenterView};
use std::sync::Arc;

impl Cloud {
    pub fn location_list(&self, name: Option<&str>) -> Vec<Arc<Location>> {
        self.read(|s| s.locations.values().filter(|l| name.is_none_or(|n| l.name == n)).cloned().collect())
    }

    pub fn location_get(&self, id: LocationId) -> Result<Arc<Location>> {
        self.read(|s| s.locations.get(&id.0).cloned().ok_or_else(|| Error::not_found(ResourceKind::Location, id)))
    }

    pub fn datacenter_list(&self, name: Option<&str>) -> Vec<DatacenterView> {
        self.read(|s| {
            s.datacenters
                .values()
                .filter(|d| name.is_none_or(|n| d.name == n))
                .filter_map(|d| datacenter_view(s, d))
                .collect()
        })
    }

    pub fn datacenter_get(&self, id: DatacenterId) -> Result<DatacenterView> {
        self.read(|s| {
            s.datacenters
                .get(&id.0)
                .and_then(|d| datacenter_view(s, d))
                .ok_or_else(|| Error::not_found(ResourceKind::Datacenter, id))
        })
    }

    /// The datacenter new servers go to when none is named.
    pub fn datacenter_recommendation(&self) -> Option<DatacenterId> {
        self.read(|s| s.datacenters.values().next().map(|d| d.id))
    }

    pub fn server_type_list(&self, name: Option<&str>) -> Vec<Arc<ServerType>> {
        self.read(|s| s.server_types.values().filter(|t| name.is_none_or(|n| t.name == n)).cloned().collect())
    }

    pub fn server_type_get(&self, id: ServerTypeId) -> Result<Arc<ServerType>> {
        self.read(|s| s.server_types.get(&id.0).cloned().ok_or_else(|| Error::not_found(ResourceKind::ServerType, id)))
    }

    /// ISOs; deprecated ones only when asked for (they can still be fetched by id).
    pub fn iso_list(&self, filter: &IsoFilter) -> Vec<Arc<Iso>> {
        let now = now();
        self.read(|s| {
            s.isos
                .values()
                .filter(|i| filter.name.as_ref().is_none_or(|n| &i.name == n))
                .filter(|i| filter.include_deprecated || i.deprecated.is_none_or(|d| d > now))
                .filter(|i| match (&filter.architecture, &i.architecture) {
                    (None, _) => true,
                    (Some(want), Some(arch)) => want == arch,
                    // An ISO without an architecture fits any, shown only when asked for.
                    (Some(_), None) => filter.include_architecture_wildcard,
                })
                .cloned()
                .collect()
        })
    }

    pub fn iso_get(&self, id: IsoId) -> Result<Arc<Iso>> {
        self.read(|s| s.isos.get(&id.0).cloned().ok_or_else(|| Error::not_found(ResourceKind::Iso, id)))
    }

    /// The price list with the server types and locations it applies to.
    pub fn pricing(&self) -> Result<Pricing> {
        self.read(|s| {
            let list = s
                .price_list
                .clone()
                .ok_or_else(|| Error::Unavailable { message: "no price list is configured".into() })?;
            Ok(Pricing {
                list,
                server_types: s.server_types.values().cloned().collect(),
                locations: s.locations.values().cloned().collect(),
            })
        })
    }

    /// Adds or replaces a catalogue entry (admin). An id of 0 asks for a fresh id; a
    /// name already used by another entry of the same kind is refused.
    pub async fn catalog_put(&self, entry: CatalogEntry) -> Result<CatalogEntry> {
        entry.validate()?;
        self.write(|tx| {
            let mut entry = entry;
            if entry.id() == 0 {
                let id = tx.next_id();
                entry.set_id(id);
            }
            let clash = entry.name().and_then(|name| {
                let s = &tx.state;
                let same = |other_id: i64, other: Option<&str>| other_id != entry.id() && other == Some(name);
                match &entry {
                    CatalogEntry::Location(_) => s.locations.values().any(|o| same(o.id.0, Some(&o.name))),
                    CatalogEntry::Datacenter(_) => s.datacenters.values().any(|o| same(o.id.0, Some(&o.name))),
                    CatalogEntry::ServerType(_) => s.server_types.values().any(|o| same(o.id.0, Some(&o.name))),
                    CatalogEntry::Image(_) => {
                        s.images.values().any(|o| o.project.is_none() && same(o.id.0, o.name.as_deref()))
                    }
                    CatalogEntry::Iso(_) => s.isos.values().any(|o| same(o.id.0, Some(&o.name))),
                }
                .then(|| name.to_string())
            });
            if let Some(name) = clash {
                return Err(Error::uniqueness("name", format!("a catalogue entry named '{name}' already exists")));
            }
            if let CatalogEntry::Datacenter(dc) = &entry {
                if !tx.state.locations.contains_key(&dc.location.0) {
                    return Err(Error::invalid_field("location", format!("location {} not found", dc.location)));
                }
            }
            tx.put(entry.to_record());
            Ok(entry)
        })
        .await
    }

    /// Removes a catalogue entry (admin). Entries still in use by servers are refused.
    pub async fn catalog_remove(&self, key: ResourceRef) -> Result<()> {
        self.write(|tx| {
            let s = &tx.state;
            let exists = match key.kind {
                ResourceKind::Location => s.locations.contains_key(&key.id),
                ResourceKind::Datacenter => s.datacenters.contains_key(&key.id),
                ResourceKind::ServerType => s.server_types.contains_key(&key.id),
                ResourceKind::Image => s.images.get(&key.id).is_some_and(|i| i.project.is_none()),
                ResourceKind::Iso => s.isos.contains_key(&key.id),
                _ => false,
            };
            if !exists {
                return Err(Error::not_found(key.kind, key.id));
            }
            let in_use = s.servers.values().any(|srv| match key.kind {
                ResourceKind::Datacenter => srv.datacenter.0 == key.id,
                ResourceKind::ServerType => srv.server_type.is_some_and(|t| t.0 == key.id),
                ResourceKind::Location => s.datacenters.get(&srv.datacenter.0).is_some_and(|d| d.location.0 == key.id),
                _ => false,
            }) || (key.kind == ResourceKind::Location
                && s.datacenters.values().any(|d| d.location.0 == key.id));
            if in_use {
                return Err(Error::invalid("the entry is still in use; deprecate it instead"));
            }
            tx.delete(key);
            Ok(())
        })
        .await
    }

    /// Replaces the price list (admin).
    pub async fn price_list_set(&self, list: PriceList) -> Result<()> {
        if list.currency.len() != 3 || !list.currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(Error::invalid_field("currency", "must be a three-letter ISO 4217 code"));
        }
        if !(0..=10_000).contains(&list.vat_basis_points) {
            return Err(Error::invalid_field("vat_basis_points", "must be between 0 and 10000 (100 %)"));
        }
        self.write(|tx| {
            tx.set_price_list(list);
            Ok(())
        })
        .await
    }

    /// Every catalogue entry of a kind (admin listing).
    pub fn catalog_list(&self, kind: ResourceKind) -> Vec<CatalogEntry> {
        self.read(|s| match kind {
            ResourceKind::Location => {
                s.locations.values().map(|v| CatalogEntry::Location(Location::clone(v))).collect()
            }
            ResourceKind::Datacenter => {
                s.datacenters.values().map(|v| CatalogEntry::Datacenter(Datacenter::clone(v))).collect()
            }
            ResourceKind::ServerType => {
                s.server_types.values().map(|v| CatalogEntry::ServerType(ServerType::clone(v))).collect()
            }
            ResourceKind::Image => s
                .images
                .values()
                .filter(|i| i.project.is_none())
                .map(|v| CatalogEntry::Image(Image::clone(v)))
                .collect(),
            ResourceKind::Iso => s.isos.values().map(|v| CatalogEntry::Iso(Iso::clone(v))).collect(),
            _ => Vec::new(),
        })
    }

    /// Seeds the default catalogue into a store that has none.
    pub(crate) async fn seed_catalog_if_empty(&self) -> Result<()> {
        let empty = self.read(|s| s.locations.is_empty() && s.price_list.is_none());
        if !empty {
            return Ok(());
        }
        self.write(|tx| {
            crate::catalog::seed(tx);
            Ok(())
        })
        .await
    }
}

/// Filters for listing ISOs.
#[derive(Debug, Clone, Default)]
pub struct IsoFilter {
    pub name: Option<String>,
    pub architecture: Option<String>,
    /// With `architecture`: also ISOs that have none (they boot on any).
    pub include_architecture_wildcard: bool,
    pub include_deprecated: bool,
}

/// Everything prices are shown from.
#[derive(Debug, Clone)]
pub struct Pricing {
    pub list: Arc<PriceList>,
    pub server_types: Vec<Arc<ServerType>>,
    pub locations: Vec<Arc<Location>>,
}

/// One catalogue entry, as admins write it (JSON through `stratus catalog`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum CatalogEntry {
    Location(Location),
    Datacenter(Datacenter),
    ServerType(ServerType),
    Image(Image),
    Iso(Iso),
}

impl CatalogEntry {
    pub fn id(&self) -> i64 {
        match self {
            CatalogEntry::Location(v) => v.id.0,
            CatalogEntry::Datacenter(v) => v.id.0,
            CatalogEntry::ServerType(v) => v.id.0,
            CatalogEntry::Image(v) => v.id.0,
            CatalogEntry::Iso(v) => v.id.0,
        }
    }

    fn set_id(&mut self, id: i64) {
        match self {
            CatalogEntry::Location(v) => v.id.0 = id,
            CatalogEntry::Datacenter(v) => v.id.0 = id,
            CatalogEntry::ServerType(v) => v.id.0 = id,
            CatalogEntry::Image(v) => v.id.0 = id,
            CatalogEntry::Iso(v) => v.id.0 = id,
        }
    }

    pub fn name(&self) -> Option<&str> {
        match self {
            CatalogEntry::Location(v) => Some(&v.name),
            CatalogEntry::Datacenter(v) => Some(&v.name),
            CatalogEntry::ServerType(v) => Some(&v.name),
            CatalogEntry::Image(v) => v.name.as_deref(),
            CatalogEntry::Iso(v) => Some(&v.name),
        }
    }

    fn validate(&self) -> Result<()> {
        if self.name().is_none_or(str::is_empty) {
            return Err(Error::invalid_field("name", "is required"));
        }
        match self {
            CatalogEntry::Image(img)
                if img.project.is_some() || !matches!(img.kind, ImageType::System | ImageType::App) =>
            {
                Err(Error::invalid_field("kind", "catalogue images are system or app images without a project"))
            }
            CatalogEntry::ServerType(t) if t.cores == 0 || t.memory_gb <= 0.0 || t.disk_gb == 0 => {
                Err(Error::invalid("a server type needs cores, memory and disk"))
            }
            _ => Ok(()),
        }
    }

    fn to_record(&self) -> Record {
        match self.clone() {
            CatalogEntry::Location(v) => Record::Location(Arc::new(v)),
            CatalogEntry::Datacenter(v) => Record::Datacenter(Arc::new(v)),
            CatalogEntry::ServerType(v) => Record::ServerType(Arc::new(v)),
            CatalogEntry::Image(v) => Record::Image(Arc::new(v)),
            CatalogEntry::Iso(v) => Record::Iso(Arc::new(v)),
        }
    }
}
