//! Servers: list, get, create, update, delete, metrics.

use super::{addresses, check_labels, check_limit, ensure_write, random_secret, ListFilter, Ref};
use crate::cloud::Cloud;
use crate::engine::{create_action, ensure_unlocked, vm_spec, NewAction};
use crate::error::{Error, Result};
use crate::ids::*;
use crate::labels::Labels;
use crate::model::*;
use crate::page::Page;
use crate::state::{State, Tx};
use crate::store::Record;
use crate::views::{server_view, ServerView, ServerViewCache};
use std::sync::Arc;
use stratus_compute::{DiskSpec, HardwareSpec, MetricSeries, MetricsQuery, StopMode};

/// Filters for listing servers.
#[derive(Debug, Clone, Default)]
pub struct ServerFilter {
    pub common: ListFilter,
    /// Any of these statuses (all when empty).
    pub status: Vec<ServerStatus>,
}

/// A request to create a server.
#[derive(Debug, Clone)]
pub struct ServerCreate {
    pub name: String,
    pub server_type: Ref,
    pub image: Ref,
    pub location: Option<Ref>,
    pub datacenter: Option<Ref>,
    pub ssh_keys: Vec<Ref>,
    pub user_data: Option<String>,
    pub labels: Labels,
    pub start_after_create: bool,
    pub enable_ipv4: bool,
    pub enable_ipv6: bool,
}

/// What creating a server returns.
#[derive(Debug, Clone)]
pub struct ServerCreated {
    pub server: ServerView,
    pub action: Arc<Action>,
    /// Actions that run after `action` (starting the server).
    pub next_actions: Vec<Arc<Action>>,
    /// Set when no SSH key was given: the only time it is ever shown.
    pub root_password: Option<String>,
}

/// How a dialect orders servers (by its own sort fields).
pub type ServerOrder<'a> = dyn Fn(&Server, &Server) -> std::cmp::Ordering + 'a;

/// cloud-init user data is capped as Hetzner caps it.
const MAX_USER_DATA: usize = 32 * 1024;

impl Cloud {
    /// The project's servers that match, in id order, as views.
    pub fn server_list(&self, p: &Principal, filter: &ServerFilter) -> Vec<ServerView> {
        let all = |total: usize| Ok::<_, Error>(Page::new(1, total.max(1) as u64, total as u64));
        self.server_page(p, filter, None, all).map(|(_, views)| views).unwrap_or_default()
    }

    /// One page of the project's matching servers: filters, sorts by `order` (id order
    /// when `None`) and asks `page` where the page lies once the total is known. Only the
    /// page's servers become views, and the list is walked by reference under the lock,
    /// so a page of 50 out of 10,000 costs little more than a page of 50 out of 50.
    pub fn server_page<E>(
        &self,
        p: &Principal,
        filter: &ServerFilter,
        order: Option<&ServerOrder<'_>>,
        page: impl FnOnce(usize) -> std::result::Result<Page, E>,
    ) -> std::result::Result<(Page, Vec<ServerView>), E> {
        self.read(|s| {
            let mut matching: Vec<&Arc<Server>> = s
                .servers
                .values()
                .filter(|srv| srv.project == p.project)
                .filter(|srv| filter.common.matches(Some(&srv.name), &srv.labels))
                .filter(|srv| filter.status.is_empty() || filter.status.contains(&srv.status))
                .collect();
            if let Some(order) = order {
                matching.sort_by(|a, b| order(a, b));
            }
            let page = page(matching.len())?;
            let mut cache = ServerViewCache::default();
            let views = page.slice(&matching).iter().filter_map(|srv| server_view(s, srv, &mut cache)).collect();
            Ok((page, views))
        })
    }

    pub fn server_get(&self, p: &Principal, id: ServerId) -> Result<ServerView> {
        self.read(|s| {
            let srv = own_server(s, p, id)?;
            server_view(s, srv, &mut ServerViewCache::default())
                .ok_or_else(|| Error::Internal(format!("server {id} has a dangling datacenter")))
        })
    }

    pub async fn server_create(&self, p: &Principal, req: ServerCreate) -> Result<ServerCreated> {
        ensure_write(p)?;
        crate::model::validate_name("name", &req.name)?;
        check_labels(Some(&req.labels))?;
        if req.user_data.as_ref().is_some_and(|u| u.len() > MAX_USER_DATA) {
            return Err(Error::invalid_field("user_data", "is too long (at most 32 KiB)"));
        }
        let config = self.config().clone();
        let (server, action, next) = self
            .write(|tx| {
                let st = resolve_server_type(tx.state, &req.server_type)?;
                let image = resolve_image(tx.state, p, &req.image, "image")?;
                check_image_fits(&image, &st)?;
                let dc = resolve_placement(tx.state, req.location.as_ref(), req.datacenter.as_ref())?;
                if !st.prices.iter().any(|pr| pr.location == dc.location) {
                    return Err(Error::invalid_field(
                        "server_type",
                        format!("server type {} is not available in this location", st.name),
                    ));
                }
                let ssh_keys = resolve_ssh_keys(tx.state, p, &req.ssh_keys)?;
                if name_taken(tx.state, p.project, &req.name, None) {
                    return Err(Error::uniqueness("name", "server name is already used"));
                }
                let count = tx.state.servers.values().filter(|s| s.project == p.project).count();
                check_limit(config.resource_limit, count, "server")?;

                let id = ServerId(tx.next_id());
                let now = now();
                let mut ips = [None, None];
                for (slot, (family, enabled)) in
                    [(IpFamily::V4, req.enable_ipv4), (IpFamily::V6, req.enable_ipv6)].into_iter().enumerate()
                {
                    if enabled {
                        ips[slot] = Some(new_primary_ip(tx, p.project, id, family, dc.location, &config)?);
                    }
                }
                let root_password = ssh_keys.is_empty().then(|| random_secret(20));
                let server = Server {
                    id,
                    project: p.project,
                    name: req.name.clone(),
                    status: ServerStatus::Initializing,
                    created: now,
                    server_type: Some(st.id),
                    hardware: hardware_of(&st),
                    datacenter: dc.id,
                    image: Some(image.id),
                    iso: None,
                    rescue_enabled: false,
                    backup_window: None,
                    protection: Protection::default(),
                    labels: req.labels.clone(),
                    ipv4: ips[0],
                    ipv6: ips[1],
                    ssh_keys,
                    user_data: req.user_data.clone(),
                    traffic: Traffic::default(),
                    last_backup: None,
                };
                let server = Arc::new(server);
                tx.put(Record::Server(server.clone()));
                let spec = vm_spec(tx.state, &server, root_password.clone());
                let action = create_action(
                    tx,
                    p.project,
                    NewAction::new(Command::CreateServer, vec![id.as_ref()], vec![Step::CreateVm { spec }]),
                )?;
                let next = if req.start_after_create {
                    let start = NewAction {
                        after: Some(action.id),
                        ..NewAction::new(Command::StartServer, vec![id.as_ref()], vec![Step::StartVm])
                    };
                    vec![create_action(tx, p.project, start)?]
                } else {
                    Vec::new()
                };
                Ok((id, (action, root_password), next))
            })
            .await?;
        let (action, root_password) = action;
        Ok(ServerCreated { server: self.server_get(p, server)?, action, next_actions: next, root_password })
    }

    /// Renames and/or relabels a server (labels replace the old set).
    pub async fn server_update(
        &self,
        p: &Principal,
        id: ServerId,
        name: Option<String>,
        labels: Option<Labels>,
    ) -> Result<ServerView> {
        ensure_write(p)?;
        if let Some(name) = &name {
            crate::model::validate_name("name", name)?;
        }
        check_labels(labels.as_ref())?;
        self.write(|tx| {
            let mut srv = Server::clone(own_server(tx.state, p, id)?);
            if let Some(name) = name {
                if name_taken(tx.state, p.project, &name, Some(id)) {
                    return Err(Error::uniqueness("name", "server name is already used"));
                }
                srv.name = name;
            }
            if let Some(labels) = labels {
                srv.labels = labels;
            }
            tx.put(Record::Server(Arc::new(srv)));
            Ok(())
        })
        .await?;
        self.server_get(p, id)
    }

    /// Starts deleting a server: it is stopped, its VM destroyed, and the record removed
    /// with its primary IPs and backups when the action succeeds.
    pub async fn server_delete(&self, p: &Principal, id: ServerId) -> Result<Arc<Action>> {
        ensure_write(p)?;
        self.write(|tx| {
            let srv = own_server(tx.state, p, id)?;
            if srv.protection.delete {
                return Err(Error::Protected {
                    message: "server deletion is protected; disable delete protection first".into(),
                });
            }
            ensure_unlocked(tx, &[id.as_ref()])?;
            let steps = vec![Step::StopVm { mode: StopMode::Hard }, Step::DeleteVm];
            create_action(tx, p.project, NewAction::new(Command::DeleteServer, vec![id.as_ref()], steps))
        })
        .await
    }

    /// Metrics of a server's VM. A read, so it asks the driver directly, outside actions.
    pub async fn server_metrics(&self, p: &Principal, id: ServerId, query: MetricsQuery) -> Result<Vec<MetricSeries>> {
        self.read(|s| own_server(s, p, id).map(|_| ()))?;
        if query.kinds.is_empty() {
            return Err(Error::invalid_field("type", "at least one metric type is required"));
        }
        if query.end <= query.start {
            return Err(Error::invalid_field("end", "must be after start"));
        }
        let samples = (query.end - query.start).num_seconds() / i64::from(query.step.max(1));
        if samples > 10_000 {
            return Err(Error::invalid_field("step", "too many samples; choose a larger step or a shorter range"));
        }
        self.inner
            .driver
            .metrics(id.0, &query)
            .await
            .map_err(|e| Error::Unavailable { message: format!("metrics unavailable: {}", e.message) })
    }
}

/// The project's server with this id, or not found (also for other projects' servers).
pub(crate) fn own_server<'a>(s: &'a State, p: &Principal, id: ServerId) -> Result<&'a Arc<Server>> {
    s.servers
        .get(&id.0)
        .filter(|srv| srv.project == p.project)
        .ok_or_else(|| Error::not_found(ResourceKind::Server, id))
}

fn name_taken(s: &State, project: ProjectId, name: &str, except: Option<ServerId>) -> bool {
    s.servers.values().any(|srv| srv.project == project && srv.name == name && Some(srv.id) != except)
}

pub(crate) fn hardware_of(st: &ServerType) -> HardwareSpec {
    // Memory is whole MiB; types are defined in GB with at most one decimal.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let memory_mb = (st.memory_gb * 1024.0).round() as u32;
    HardwareSpec { cores: st.cores, memory_mb, disks: vec![DiskSpec { size_gb: st.disk_gb }] }
}

pub(crate) fn resolve_server_type(s: &State, r: &Ref) -> Result<Arc<ServerType>> {
    let st = r
        .find(s.server_types.values(), |t| t.id.0, |t| Some(t.name.as_str()))
        .cloned()
        .ok_or_else(|| Error::invalid_field("server_type", format!("server type {r} not found")))?;
    if st.deprecated.is_some_and(|d| d <= now()) {
        return Err(Error::invalid_field("server_type", format!("server type {} is deprecated", st.name)));
    }
    Ok(st)
}

/// An image the project may boot: a catalogue image or one of its own, available.
pub(crate) fn resolve_image(s: &State, p: &Principal, r: &Ref, field: &str) -> Result<Arc<Image>> {
    let visible = s.images.values().filter(|i| i.project.is_none_or(|owner| owner == p.project));
    let image = r
        .find(visible, |i| i.id.0, |i| i.name.as_deref())
        .cloned()
        .ok_or_else(|| Error::invalid_field(field, format!("image {r} not found")))?;
    if image.status != ImageStatus::Available {
        return Err(Error::invalid_field(field, format!("image {r} is not available")));
    }
    if image.deprecated.is_some_and(|d| d <= now()) {
        return Err(Error::invalid_field(field, format!("image {r} is deprecated")));
    }
    Ok(image)
}

pub(crate) fn check_image_fits(image: &Image, st: &ServerType) -> Result<()> {
    if image.disk_size > f64::from(st.disk_gb) {
        return Err(Error::invalid_field(
            "image",
            format!("image needs a {} GB disk; server type {} has {} GB", image.disk_size, st.name, st.disk_gb),
        ));
    }
    Ok(())
}

/// The datacenter a new resource goes to: the one named, the first in the location
/// named, or the first of all.
pub(crate) fn resolve_placement(
    s: &State,
    location: Option<&Ref>,
    datacenter: Option<&Ref>,
) -> Result<Arc<Datacenter>> {
    match (location, datacenter) {
        (Some(_), Some(_)) => Err(Error::invalid("location and datacenter are mutually exclusive")),
        (None, Some(r)) => r
            .find(s.datacenters.values(), |d| d.id.0, |d| Some(d.name.as_str()))
            .cloned()
            .ok_or_else(|| Error::invalid_field("datacenter", format!("datacenter {r} not found"))),
        (Some(r), None) => {
            let loc = resolve_location(s, r, "location")?;
            s.datacenters
                .values()
                .find(|d| d.location == loc.id)
                .cloned()
                .ok_or_else(|| Error::invalid_field("location", format!("location {r} has no datacenter")))
        }
        (None, None) => s
            .datacenters
            .values()
            .next()
            .cloned()
            .ok_or_else(|| Error::Unavailable { message: "no datacenter is configured".into() }),
    }
}

pub(crate) fn resolve_location(s: &State, r: &Ref, field: &str) -> Result<Arc<Location>> {
    r.find(s.locations.values(), |l| l.id.0, |l| Some(l.name.as_str()))
        .cloned()
        .ok_or_else(|| Error::invalid_field(field, format!("location {r} not found")))
}

pub(crate) fn resolve_ssh_keys(s: &State, p: &Principal, refs: &[Ref]) -> Result<Vec<SshKeyId>> {
    let mut ids: Vec<SshKeyId> = Vec::with_capacity(refs.len());
    for r in refs {
        let own = s.ssh_keys.values().filter(|k| k.project == p.project);
        let key = r
            .find(own, |k| k.id.0, |k| Some(k.name.as_str()))
            .ok_or_else(|| Error::invalid_field("ssh_keys", format!("SSH key {r} not found")))?;
        if !ids.contains(&key.id) {
            ids.push(key.id);
        }
    }
    Ok(ids)
}

/// Allocates a server's own address in its location.
fn new_primary_ip(
    tx: &mut Tx,
    project: ProjectId,
    server: ServerId,
    family: IpFamily,
    location: LocationId,
    config: &crate::config::Config,
) -> Result<IpId> {
    let address = addresses::allocate(tx.state, family, config.ipv4_pool, config.ipv6_pool)?;
    let id = IpId(tx.next_id());
    tx.put(Record::Ip(Arc::new(PublicIp {
        id,
        project,
        role: IpRole::Primary,
        family,
        address,
        name: format!("primary_ip-{id}"),
        description: None,
        home_location: location,
        assignee: Some(server),
        dns_ptr: Vec::new(),
        protection: Protection::default(),
        labels: Labels::new(),
        blocked: false,
        created: now(),
    })));
    Ok(id)
}
