//! Reading the catalogue (every project sees it) and, for admins, changing it.

use crate::cloud::Cloud;
use crate::data::Table;
use crate::error::{Error, Result};
use crate::ids::*;
use crate::model::*;
use crate::store::Record;
use crate::views::{datacenter_view, DatacenterView};
use std::sync::Arc;

impl Cloud {
    pub fn location_list(&self, name: Option<&str>) -> Vec<Arc<Location>> {
        self.read(|s| named(&s.locations, name))
    }

    pub fn location_get(&self, id: LocationId) -> Result<Arc<Location>> {
        self.read(|s| s.locations.get(id.0).cloned().ok_or_else(|| Error::not_found(ResourceKind::Location, id)))
    }

    pub fn datacenter_list(&self, name: Option<&str>) -> Vec<DatacenterView> {
        self.read(|s| named(&s.datacenters, name).iter().filter_map(|d| datacenter_view(s, d)).collect())
    }

    pub fn datacenter_get(&self, id: DatacenterId) -> Result<DatacenterView> {
        self.read(|s| {
            s.datacenters
                .get(id.0)
                .and_then(|d| datacenter_view(s, d))
                .ok_or_else(|| Error::not_found(ResourceKind::Datacenter, id))
        })
    }

    /// The datacenter new servers go to when none is named.
    pub fn datacenter_recommendation(&self) -> Option<DatacenterId> {
        self.read(|s| s.datacenters.all().next().map(|d| d.id))
    }

    pub fn server_type_list(&self, name: Option<&str>) -> Vec<Arc<ServerType>> {
        self.read(|s| named(&s.server_types, name))
    }

    pub fn server_type_get(&self, id: ServerTypeId) -> Result<Arc<ServerType>> {
        self.read(|s| s.server_types.get(id.0).cloned().ok_or_else(|| Error::not_found(ResourceKind::ServerType, id)))
    }

    pub fn load_balancer_type_list(&self, name: Option<&str>) -> Vec<Arc<LoadBalancerType>> {
        self.read(|s| named(&s.load_balancer_types, name))
    }

    pub fn load_balancer_type_get(&self, id: LoadBalancerTypeId) -> Result<Arc<LoadBalancerType>> {
        self.read(|s| {
            s.load_balancer_types.get(id.0).cloned().ok_or_else(|| Error::not_found(ResourceKind::LoadBalancerType, id))
        })
    }

    /// ISOs; deprecated ones only when asked for (they can still be fetched by id).
    pub fn iso_list(&self, filter: &IsoFilter) -> Vec<Arc<Iso>> {
        let now = now();
        self.read(|s| {
            named(&s.isos, filter.name.as_deref())
                .into_iter()
                .filter(|i| filter.include_deprecated || i.deprecated.is_none_or(|d| d > now))
                .filter(|i| match (&filter.architecture, &i.architecture) {
                    (None, _) => true,
                    (Some(want), Some(arch)) => want == arch,
                    // An ISO without an architecture fits any, shown only when asked for.
                    (Some(_), None) => filter.include_architecture_wildcard,
                })
                .collect()
        })
    }

    pub fn iso_get(&self, id: IsoId) -> Result<Arc<Iso>> {
        self.read(|s| s.isos.get(id.0).cloned().ok_or_else(|| Error::not_found(ResourceKind::Iso, id)))
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
                server_types: s.server_types.all().cloned().collect(),
                load_balancer_types: s.load_balancer_types.all().cloned().collect(),
                locations: s.locations.all().cloned().collect(),
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
                let s: &crate::data::State = tx;
                let other = |id: i64| id != entry.id();
                match &entry {
                    CatalogEntry::Location(_) => s.locations.named(None, name).any(|o| other(o.id.0)),
                    CatalogEntry::Datacenter(_) => s.datacenters.named(None, name).any(|o| other(o.id.0)),
                    CatalogEntry::ServerType(_) => s.server_types.named(None, name).any(|o| other(o.id.0)),
                    CatalogEntry::LoadBalancerType(_) => s.load_balancer_types.named(None, name).any(|o| other(o.id.0)),
                    CatalogEntry::Image(_) => s.images.named(None, name).any(|o| other(o.id.0)),
                    CatalogEntry::Iso(_) => s.isos.named(None, name).any(|o| other(o.id.0)),
                }
                .then(|| name.to_string())
            });
            if let Some(name) = clash {
                return Err(Error::uniqueness("name", format!("a catalogue entry named '{name}' already exists")));
            }
            if let CatalogEntry::Datacenter(dc) = &entry {
                if !tx.locations.contains(dc.location.0) {
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
            let s: &crate::data::State = tx;
            let exists = match key.kind {
                ResourceKind::Location => s.locations.contains(key.id),
                ResourceKind::Datacenter => s.datacenters.contains(key.id),
                ResourceKind::ServerType => s.server_types.contains(key.id),
                ResourceKind::LoadBalancerType => s.load_balancer_types.contains(key.id),
                ResourceKind::Image => s.images.get(key.id).is_some_and(|i| i.project.is_none()),
                ResourceKind::Iso => s.isos.contains(key.id),
                _ => false,
            };
            if !exists {
                return Err(Error::not_found(key.kind, key.id));
            }
            // An admin command, not a request: walking every server once is acceptable.
            let in_use = s.servers.all().any(|srv| match key.kind {
                ResourceKind::Datacenter => srv.datacenter.0 == key.id,
                ResourceKind::ServerType => srv.server_type.is_some_and(|t| t.0 == key.id),
                ResourceKind::Location => s.datacenters.get(srv.datacenter.0).is_some_and(|d| d.location.0 == key.id),
                _ => false,
            }) || (key.kind == ResourceKind::Location
                && s.datacenters.all().any(|d| d.location.0 == key.id))
                || (key.kind == ResourceKind::LoadBalancerType
                    && s.load_balancers.all().any(|lb| lb.lb_type.0 == key.id));
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
            ResourceKind::Location => s.locations.all().map(|v| CatalogEntry::Location(Location::clone(v))).collect(),
            ResourceKind::Datacenter => {
                s.datacenters.all().map(|v| CatalogEntry::Datacenter(Datacenter::clone(v))).collect()
            }
            ResourceKind::ServerType => {
                s.server_types.all().map(|v| CatalogEntry::ServerType(ServerType::clone(v))).collect()
            }
            ResourceKind::LoadBalancerType => s
                .load_balancer_types
                .all()
                .map(|v| CatalogEntry::LoadBalancerType(LoadBalancerType::clone(v)))
                .collect(),
            ResourceKind::Image => s.images.of(None).map(|v| CatalogEntry::Image(Image::clone(v))).collect(),
            ResourceKind::Iso => s.isos.all().map(|v| CatalogEntry::Iso(Iso::clone(v))).collect(),
            _ => Vec::new(),
        })
    }

    /// Seeds the default catalogue into a store that has none, and the parts of it a
    /// store from an older version lacks (load balancer types).
    pub(crate) async fn seed_catalog_if_empty(&self) -> Result<()> {
        let (empty, no_lb_types) =
            self.read(|s| (s.locations.is_empty() && s.price_list.is_none(), s.load_balancer_types.is_empty()));
        if !empty && !no_lb_types {
            return Ok(());
        }
        self.write(|tx| {
            if empty {
                crate::catalog::seed(tx);
            } else {
                crate::catalog::seed_load_balancer_types(tx);
            }
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
    pub load_balancer_types: Vec<Arc<LoadBalancerType>>,
    pub locations: Vec<Arc<Location>>,
}

/// A catalogue list: every entry, or the one named.
fn named<T: crate::data::Row>(table: &Table<T>, name: Option<&str>) -> Vec<Arc<T>> {
    match name {
        Some(n) => table.named(None, n).cloned().collect(),
        None => table.all().cloned().collect(),
    }
}

/// One catalogue entry, as admins write it (JSON through `stratus catalog`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum CatalogEntry {
    Location(Location),
    Datacenter(Datacenter),
    ServerType(ServerType),
    LoadBalancerType(LoadBalancerType),
    Image(Image),
    Iso(Iso),
}

impl CatalogEntry {
    pub fn id(&self) -> i64 {
        match self {
            CatalogEntry::Location(v) => v.id.0,
            CatalogEntry::Datacenter(v) => v.id.0,
            CatalogEntry::ServerType(v) => v.id.0,
            CatalogEntry::LoadBalancerType(v) => v.id.0,
            CatalogEntry::Image(v) => v.id.0,
            CatalogEntry::Iso(v) => v.id.0,
        }
    }

    fn set_id(&mut self, id: i64) {
        match self {
            CatalogEntry::Location(v) => v.id.0 = id,
            CatalogEntry::Datacenter(v) => v.id.0 = id,
            CatalogEntry::ServerType(v) => v.id.0 = id,
            CatalogEntry::LoadBalancerType(v) => v.id.0 = id,
            CatalogEntry::Image(v) => v.id.0 = id,
            CatalogEntry::Iso(v) => v.id.0 = id,
        }
    }

    pub fn name(&self) -> Option<&str> {
        match self {
            CatalogEntry::Location(v) => Some(&v.name),
            CatalogEntry::Datacenter(v) => Some(&v.name),
            CatalogEntry::ServerType(v) => Some(&v.name),
            CatalogEntry::LoadBalancerType(v) => Some(&v.name),
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
            CatalogEntry::LoadBalancerType(v) => Record::LoadBalancerType(Arc::new(v)),
            CatalogEntry::Image(v) => Record::Image(Arc::new(v)),
            CatalogEntry::Iso(v) => Record::Iso(Arc::new(v)),
        }
    }
}
