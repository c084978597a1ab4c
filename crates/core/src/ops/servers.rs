//! Servers: list, get, create, update, delete, metrics.

use super::{
    addresses, check_labels, check_limit, ensure_unprotected, ensure_write, paged, random_secret, ListFilter, Ref,
};
use crate::actions::{self, OnServer, ServerCreateParams};
use crate::cloud::Cloud;
use crate::data::{State, Tx};
use crate::engine::ensure_unlocked;
use crate::error::{Error, Result};
use crate::ids::*;
use crate::labels::Labels;
use crate::model::*;
use crate::page::Page;
use crate::views::{server_view, ServerView, ServerViewCache};
use std::sync::Arc;
use stratus_compute::{DiskSpec, HardwareSpec, MetricSeries, MetricsQuery};

/// Filters for listing servers.
#[derive(Debug, Clone, Default)]
pub struct ServerFilter {
    pub common: ListFilter,
    /// Any of these statuses (all when empty).
    pub status: Vec<ServerStatus>,
}

impl ServerFilter {
    fn matches(&self, srv: &Server) -> bool {
        self.common.matches(Some(&srv.name), &srv.labels)
            && (self.status.is_empty() || self.status.contains(&srv.status))
    }
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
    /// Make a new primary IPv4 / IPv6 for it (unless `ipv4` / `ipv6` name one).
    pub enable_ipv4: bool,
    pub enable_ipv6: bool,
    /// Existing, unassigned primary IPs to use.
    pub ipv4: Option<IpId>,
    pub ipv6: Option<IpId>,
    pub volumes: Vec<VolumeId>,
    pub networks: Vec<NetworkId>,
    pub firewalls: Vec<FirewallId>,
    pub placement_group: Option<PlacementGroupId>,
}

impl ServerCreate {
    /// A request with the defaults every dialect starts from: both public IPs, started.
    pub fn new(name: impl Into<String>, server_type: Ref, image: Ref) -> Self {
        ServerCreate {
            name: name.into(),
            server_type,
            image,
            location: None,
            datacenter: None,
            ssh_keys: Vec::new(),
            user_data: None,
            labels: Labels::new(),
            start_after_create: true,
            enable_ipv4: true,
            enable_ipv6: true,
            ipv4: None,
            ipv6: None,
            volumes: Vec::new(),
            networks: Vec::new(),
            firewalls: Vec::new(),
            placement_group: None,
        }
    }
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
pub type ServerOrder<'a> = super::Order<'a, Server>;

impl Cloud {
    /// The project's servers that match, in id order, as views.
    pub fn server_list(&self, p: &Principal, filter: &ServerFilter) -> Vec<ServerView> {
        let all = |total: usize| Ok::<_, Error>(Page::new(1, total.max(1) as u64, total as u64));
        self.server_page(p, filter, None, all).map(|(_, views)| views).unwrap_or_default()
    }

    /// One page of the project's matching servers: filters, sorts by `order` (id order
    /// when `None`) and asks `page` where the page lies once the total is known. Only the
    /// page's servers become views, and candidates come from the indexes, so a page of 50
    /// out of 100,000 costs little more than a page of 50 out of 50.
    pub fn server_page<E>(
        &self,
        p: &Principal,
        filter: &ServerFilter,
        order: Option<&ServerOrder<'_>>,
        page: impl FnOnce(usize) -> std::result::Result<Page, E>,
    ) -> std::result::Result<(Page, Vec<ServerView>), E> {
        self.read(|s| {
            let mut cache = ServerViewCache::default();
            let common = &filter.common;
            let exact = filter
                .status
                .is_empty()
                .then(|| s.servers.exact(Some(p.project), common.name.as_deref(), common.label_selector.as_ref()))
                .flatten();
            let matching = || {
                s.servers
                    .candidates(Some(p.project), common.name.as_deref(), common.label_selector.as_ref())
                    .into_iter()
                    .filter(|srv| filter.matches(srv))
                    .collect()
            };
            paged(exact, matching, order, page, |srv| server_view(s, srv, &mut cache))
        })
    }

    pub fn server_get(&self, p: &Principal, id: ServerId) -> Result<ServerView> {
        self.read(|s| {
            let srv = s.server(p.project, id)?;
            server_view(s, srv, &mut ServerViewCache::default())
                .ok_or_else(|| Error::Internal(format!("server {id} has a dangling datacenter")))
        })
    }

    pub async fn server_create(&self, p: &Principal, req: ServerCreate) -> Result<ServerCreated> {
        ensure_write(p)?;
        crate::model::validate_name("name", &req.name)?;
        check_labels(Some(&req.labels))?;
        let config = self.config().clone();
        let (server, action, next, root_password) = self
            .write(|tx| {
                let st = tx.server_type_ref(&req.server_type, "server_type")?;
                let image = tx.image_ref(p.project, &req.image, "image")?;
                check_image_fits(&image, &st)?;
                let dc = tx.placement(req.location.as_ref(), req.datacenter.as_ref())?;
                if !st.prices.iter().any(|pr| pr.location == dc.location) {
                    return Err(Error::invalid_field(
                        "server_type",
                        format!("server type {} is not available in this location", st.name),
                    ));
                }
                let ssh_keys = tx.ssh_key_refs(p.project, &req.ssh_keys, "ssh_keys")?;
                if tx.server_named(p.project, &req.name).is_some() {
                    return Err(Error::uniqueness("name", "server name is already used"));
                }
                check_limit(config.resource_limit, tx.servers.count(Some(p.project)), ResourceKind::Server)?;
                let own_ips = own_primary_ips(tx, p, &req, dc.location)?;
                check_volumes(tx, p, &req.volumes, dc.location)?;
                for fw in &req.firewalls {
                    tx.firewalls
                        .get(fw.0)
                        .filter(|f| f.project == p.project)
                        .ok_or_else(|| Error::invalid_field("firewalls", format!("firewall {fw} not found")))?;
                    // A firewall action under way may still undo the rules the new
                    // server would be given.
                    super::ensure_free(tx, &[fw.as_ref()])?;
                }
                if let Some(group) = req.placement_group {
                    check_placement(tx, p, group, &config)?;
                }

                let id = ServerId(tx.next_id());
                let now = now();
                let mut new_ips = Vec::new();
                let wanted = [(IpFamily::V4, req.enable_ipv4, req.ipv4), (IpFamily::V6, req.enable_ipv6, req.ipv6)];
                for (family, enabled, given) in wanted {
                    if enabled && given.is_none() {
                        new_ips.push(new_primary_ip(tx, p.project, Some(id), family, dc.location, &config)?);
                    }
                }
                let mut nics = vec![new_nic(tx, p.project, Attachee::Server(id), None, None)];
                for network in &req.networks {
                    let ip = private_ip_for(tx, p, *network, dc.location, &nics)?;
                    nics.push(new_nic(tx, p.project, Attachee::Server(id), Some(*network), Some(ip)));
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
                    rescue_armed: None,
                    backup_window: None,
                    protection: Protection::default(),
                    labels: req.labels.clone(),
                    ssh_keys,
                    user_data: req.user_data.clone(),
                    traffic: Traffic::default(),
                    last_backup: None,
                    placement_group: req.placement_group,
                };
                let params = ServerCreateParams {
                    server,
                    new_ips,
                    own_ips,
                    nics,
                    volumes: req.volumes.clone(),
                    firewalls: req.firewalls.clone(),
                    root_password: root_password.clone(),
                };
                let action = actions::start::<actions::ServerCreate>(tx, p.project, params, None)?;
                let next = if req.start_after_create {
                    let on = OnServer { server: id };
                    vec![actions::start::<actions::ServerPowerOn>(tx, p.project, on, Some(action.id))?]
                } else {
                    Vec::new()
                };
                Ok((id, action, next, root_password))
            })
            .await?;
        // Its first step (the records) can only fail when a fault is injected there; the
        // failed action is kept for the record, and the caller learns it failed.
        if let Some(error) = action.error.as_ref().filter(|_| action.status == ActionStatus::Error) {
            return Err(Error::Unavailable { message: format!("the server could not be created: {}", error.message) });
        }
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
            let mut srv = Server::clone(tx.server(p.project, id)?);
            if let Some(name) = name {
                if tx.server_named(p.project, &name).is_some_and(|other| other.id != id) {
                    return Err(Error::uniqueness("name", "server name is already used"));
                }
                srv.name = name;
            }
            tx.put(crate::store::Record::Server(Arc::new(srv)));
            // Label selectors of firewalls follow the labels: changing them may start
            // applying or removing firewalls.
            if let Some(labels) = labels {
                super::firewalls::relabel_server(tx, id, labels)?;
            }
            Ok(())
        })
        .await?;
        self.server_get(p, id)
    }

    /// Starts deleting a server: it is stopped, its VM destroyed, and the records that
    /// exist only for it removed when the action succeeds.
    pub async fn server_delete(&self, p: &Principal, id: ServerId) -> Result<Arc<Action>> {
        ensure_write(p)?;
        self.write(|tx| {
            let srv = tx.server(p.project, id)?;
            ensure_unprotected(srv.protection, id.as_ref(), "delete")?;
            ensure_unlocked(tx, &[id.as_ref()])?;
            actions::start::<actions::ServerDelete>(tx, p.project, OnServer { server: id }, None)
        })
        .await
    }

    /// Metrics of a server's VM. A read, so it asks the driver directly, outside actions.
    pub async fn server_metrics(&self, p: &Principal, id: ServerId, query: MetricsQuery) -> Result<Vec<MetricSeries>> {
        self.read(|s| s.server(p.project, id).map(|_| ()))?;
        check_metrics_query(&query)?;
        self.inner
            .driver
            .metrics(id.0, &query)
            .await
            .map_err(|e| Error::Unavailable { message: format!("metrics unavailable: {}", e.message) })
    }
}

/// The bounds every metrics query keeps, whatever the resource.
pub(crate) fn check_metrics_query(query: &MetricsQuery) -> Result<()> {
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
    Ok(())
}

pub(crate) fn hardware_of(st: &ServerType) -> HardwareSpec {
    // Memory is whole MiB; types are defined in GB with at most one decimal.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let memory_mb = (st.memory_gb * 1024.0).round() as u32;
    HardwareSpec { cores: st.cores, memory_mb, disks: vec![DiskSpec { size_gb: st.disk_gb }] }
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

/// The existing primary IPs a create names: the project's, unassigned, of the right
/// family, in the server's location.
fn own_primary_ips(tx: &Tx, p: &Principal, req: &ServerCreate, location: LocationId) -> Result<Vec<IpId>> {
    let mut out = Vec::new();
    for (field, family, id) in
        [("public_net.ipv4", IpFamily::V4, req.ipv4), ("public_net.ipv6", IpFamily::V6, req.ipv6)]
    {
        let Some(id) = id else { continue };
        let ip = tx
            .ip_of_role(p.project, id, IpRole::Primary)
            .map_err(|_| Error::invalid_field(field, format!("primary IP {id} not found")))?;
        if ip.family != family {
            return Err(Error::refused(
                crate::Refusal::IpVersionMismatch,
                format!("{field}: primary IP {id} is not an {} address", family.as_str()),
            ));
        }
        if ip.assignee.is_some() {
            return Err(Error::refused(
                crate::Refusal::AlreadyAssigned,
                format!("{field}: primary IP {id} is already assigned"),
            ));
        }
        if ip.home_location != location {
            return Err(Error::refused(
                crate::Refusal::LocationMismatch,
                format!("{field}: primary IP {id} is in another location"),
            ));
        }
        ensure_unlocked(tx, &[id.as_ref()])?;
        out.push(id);
    }
    Ok(out)
}

/// Volumes a create attaches: the project's, available, detached, in its location.
fn check_volumes(tx: &Tx, p: &Principal, volumes: &[VolumeId], location: LocationId) -> Result<()> {
    for (i, id) in volumes.iter().enumerate() {
        if volumes[..i].contains(id) {
            return Err(Error::invalid_field("volumes", format!("volume {id} is given twice")));
        }
        let v = tx
            .volumes
            .get(id.0)
            .filter(|v| v.project == p.project)
            .ok_or_else(|| Error::invalid_field("volumes", format!("volume {id} not found")))?;
        if v.server.is_some() {
            return Err(Error::invalid_field("volumes", format!("volume {id} is already attached")));
        }
        if v.location != location {
            return Err(Error::invalid_field("volumes", format!("volume {id} is in another location")));
        }
        if v.status != VolumeStatus::Available {
            return Err(Error::invalid_field("volumes", format!("volume {id} is not available yet")));
        }
        ensure_unlocked(tx, &[id.as_ref()])?;
    }
    Ok(())
}

/// Whether a server may join `group`: the project's group, with room left.
pub(crate) fn check_placement(
    state: &State,
    p: &Principal,
    group: PlacementGroupId,
    config: &crate::Config,
) -> Result<()> {
    let g = state
        .placement_groups
        .get(group.0)
        .filter(|g| g.project == p.project)
        .ok_or_else(|| Error::invalid_field("placement_group", format!("placement group {group} not found")))?;
    match g.kind {
        PlacementKind::Spread => {
            let members = state.group_members(group).count();
            if members >= config.spread_group_limit as usize {
                return Err(Error::refused(
                    crate::Refusal::Placement,
                    format!(
                        "placement group {} already spreads {members} servers over as many hosts; no host is left",
                        g.name
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// A free address for a new interface in `network`: in the first subnet of the
/// server's network zone that has one. `taken` are interfaces made in the same request.
fn private_ip_for(tx: &Tx, p: &Principal, network: NetworkId, location: LocationId, taken: &[Nic]) -> Result<String> {
    let net = tx
        .network(p.project, network)
        .map_err(|_| Error::invalid_field("networks", format!("network {network} not found")))?;
    if taken.iter().any(|n| n.network == Some(network)) {
        return Err(Error::invalid_field("networks", format!("network {network} is given twice")));
    }
    let zone = tx.zone_of(location).unwrap_or_default().to_string();
    net.subnets
        .iter()
        .filter(|s| s.network_zone == zone && s.kind != SubnetKind::Vswitch)
        .find_map(|s| tx.free_private_ip(network, s))
        .ok_or_else(|| {
            Error::invalid_field("networks", format!("network {network} has no subnet with free addresses in {zone}"))
        })
}

/// A new interface record (not yet stored).
pub(crate) fn new_nic(
    tx: &mut Tx,
    project: ProjectId,
    owner: Attachee,
    network: Option<NetworkId>,
    ip: Option<String>,
) -> Nic {
    let id = NicId(tx.next_id());
    Nic { id, project, owner, network, ip, alias_ips: Vec::new(), mac: Nic::mac_for(id), created: now() }
}

/// A new primary IP record (not yet stored), deleted with its server.
pub(crate) fn new_primary_ip(
    tx: &mut Tx,
    project: ProjectId,
    server: Option<ServerId>,
    family: IpFamily,
    location: LocationId,
    config: &crate::Config,
) -> Result<PublicIp> {
    let address = addresses::allocate(tx, family, config.ipv4_pool, config.ipv6_pool)?;
    let id = IpId(tx.next_id());
    Ok(PublicIp {
        id,
        project,
        role: IpRole::Primary,
        family,
        address,
        name: format!("primary_ip-{id}"),
        description: None,
        home_location: location,
        assignee: server.map(Attachee::Server),
        auto_delete: true,
        dns_ptr: Vec::new(),
        protection: Protection::default(),
        labels: Labels::new(),
        blocked: false,
        created: now(),
    })
}
