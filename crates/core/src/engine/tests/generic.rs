//! The tests every action kind gets, walking the registry (`crate::actions::REGISTRY`):
//! fail at each step (before it ran, and after a driver step ran) and unwind; repeat
//! each driver step; repeat each driver undo; crash after every commit and resume.
//!
//! Each kind needs a scenario here (`prepare` and `trigger`): a kind without one fails
//! `every_kind_has_a_scenario`, so a new kind cannot skip these tests.

use super::*;
use crate::actions::REGISTRY;
use crate::engine::hooks::Hook;
use crate::ids::*;
use crate::ops::certificates::{CertificateCreateRequest, CertificateSource};
use crate::ops::firewalls::FirewallAction;
use crate::ops::ips::{FloatingIpCreate, IpAction, PrimaryIpCreate};
use crate::ops::load_balancers::{HttpRequest, LoadBalancerAction, LoadBalancerCreate, ServiceRequest};
use crate::ops::networks::{NetworkAction, NetworkCreate, SubnetRequest};
use crate::ops::volumes::{VolumeAction, VolumeCreate};
use crate::store::Record;

struct Env {
    cloud: Cloud,
    p: Principal,
    sim: Arc<SimDriver>,
    store: Arc<MemoryStore>,
}

async fn env() -> Env {
    let store = MemoryStore::new();
    let sim = Arc::new(SimDriver::new(SimTiming::Instant));
    // A local CA, so that managed certificates are issued.
    let config = Config { local_ca: Some(crate::pki::test_ca()), ..Config::default() };
    let (cloud, p) = cloud_on(store.clone(), sim.clone(), config).await;
    Env { cloud, p, sim, store }
}

/// What a scenario set up for its action.
#[derive(Debug, Default, Clone, Copy)]
struct Prep {
    server: Option<ServerId>,
    ip: Option<IpId>,
    image: Option<ImageId>,
    network: Option<NetworkId>,
    volume: Option<VolumeId>,
    firewall: Option<FirewallId>,
    group: Option<PlacementGroupId>,
    lb: Option<LoadBalancerId>,
    certificate: Option<CertificateId>,
}

impl Prep {
    fn server(&self) -> ServerId {
        self.server.expect("the scenario made a server")
    }
}

async fn server(e: &Env, name: &str, running: bool, ipv4: bool) -> ServerId {
    let mut req = create_req(name);
    req.start_after_create = running;
    req.enable_ipv4 = ipv4;
    let id = e.cloud.server_create(&e.p, req).await.expect("create").server.server.id;
    settle(&e.cloud).await;
    id
}

async fn act(e: &Env, id: ServerId, op: ServerAction) -> ActionId {
    let what = format!("{op:?}");
    e.cloud.server_action(&e.p, id, op).await.unwrap_or_else(|err| panic!("{what}: {err}")).action.id
}

/// A network with one subnet in fsn1's zone.
fn network_req() -> NetworkCreate {
    NetworkCreate {
        name: "net".into(),
        ip_range: "10.0.0.0/16".into(),
        subnets: vec![SubnetRequest {
            kind: SubnetKind::Cloud,
            ip_range: Some("10.0.1.0/24".into()),
            network_zone: "eu-central".into(),
            vswitch_id: None,
        }],
        routes: vec![],
        expose_routes_to_vswitch: false,
        labels: Default::default(),
    }
}

/// A network made by its own operation, settled.
async fn network(e: &Env) -> NetworkId {
    let id = e.cloud.network_create(&e.p, network_req()).await.expect("network").network.id;
    settle(&e.cloud).await;
    id
}

/// A new volume in fsn1 (`name` unique in the project), detached, made as a client
/// makes one; its creation has settled.
fn volume_req(name: &str) -> VolumeCreate {
    VolumeCreate {
        name: name.into(),
        size_gb: 10,
        location: Some(Ref::Name("fsn1".into())),
        server: None,
        automount: false,
        format: Some("ext4".into()),
        labels: Default::default(),
    }
}

async fn network_action(e: &Env, id: NetworkId, op: NetworkAction) -> ActionId {
    let what = format!("{op:?}");
    e.cloud.network_action(&e.p, id, op).await.unwrap_or_else(|err| panic!("{what}: {err}")).id
}

fn route(destination: &str) -> Route {
    Route { destination: destination.into(), gateway: "10.0.1.1".into() }
}

/// A detached volume in fsn1, stored on the simulator too.
async fn volume(e: &Env) -> VolumeId {
    let id = e.cloud.volume_create(&e.p, volume_req("vol")).await.expect("create volume").volume.volume.id;
    settle(&e.cloud).await;
    id
}

async fn firewall(e: &Env) -> FirewallId {
    e.cloud
        .write(|tx| {
            let id = FirewallId(tx.next_id());
            tx.put(Record::Firewall(Arc::new(Firewall {
                id,
                project: e.p.project,
                name: "fw".into(),
                rules: vec![FirewallRule {
                    direction: Direction::In,
                    protocol: "tcp".into(),
                    port: Some("22".into()),
                    source_ips: vec!["0.0.0.0/0".into()],
                    destination_ips: vec![],
                    description: None,
                }],
                applied_to: vec![],
                labels: Default::default(),
                created: now(),
            })));
            Ok(id)
        })
        .await
        .unwrap()
}

async fn group(e: &Env) -> PlacementGroupId {
    e.cloud
        .write(|tx| {
            let id = PlacementGroupId(tx.next_id());
            tx.put(Record::PlacementGroup(Arc::new(PlacementGroup {
                id,
                project: e.p.project,
                name: "spread".into(),
                kind: PlacementKind::Spread,
                labels: Default::default(),
                created: now(),
            })));
            Ok(id)
        })
        .await
        .unwrap()
}

async fn floating_ip(e: &Env, server: Option<ServerId>) -> IpId {
    let req = FloatingIpCreate {
        family: IpFamily::V4,
        server,
        home_location: server.is_none().then(|| Ref::Name("fsn1".into())),
        name: None,
        description: None,
        labels: Default::default(),
    };
    let id = e.cloud.floating_ip_create(&e.p, req).await.unwrap().0.ip.id;
    settle(&e.cloud).await;
    id
}

/// An uploaded certificate for `shop.example.com`.
async fn certificate(e: &Env) -> CertificateId {
    let (certificate, private_key) = crate::pki::test_certificate(&["shop.example.com"]);
    let req = CertificateCreateRequest {
        name: "shop".into(),
        source: CertificateSource::Uploaded { certificate, private_key },
        labels: Default::default(),
    };
    e.cloud.certificate_create(&e.p, req).await.unwrap().0.certificate.id
}

/// A managed certificate whose issuance failed, written directly.
async fn failed_certificate(e: &Env) -> CertificateId {
    e.cloud
        .write(|tx| {
            let id = CertificateId(tx.next_id());
            tx.put(Record::Certificate(Arc::new(Certificate {
                id,
                project: e.p.project,
                name: "managed".into(),
                kind: CertificateKind::Managed,
                certificate: None,
                private_key: None,
                domain_names: vec!["shop.example.com".into()],
                fingerprint: None,
                not_valid_before: None,
                not_valid_after: None,
                status: Some(ManagedStatus {
                    issuance: IssuanceStatus::Failed,
                    renewal: RenewalStatus::Unavailable,
                    error: Some(ActionError::new("earlier", "an earlier issuance failed")),
                }),
                labels: Default::default(),
                created: now(),
            })));
            Ok(id)
        })
        .await
        .unwrap()
}

fn tcp_service(port: u16) -> ServiceRequest {
    ServiceRequest { protocol: Some(LbProtocol::Tcp), listen_port: Some(port), ..Default::default() }
}

fn lb_req(name: &str, network: Option<NetworkId>) -> LoadBalancerCreate {
    LoadBalancerCreate {
        name: name.into(),
        lb_type: Ref::Name("lb11".into()),
        location: Some(Ref::Name("fsn1".into())),
        network_zone: None,
        algorithm: Algorithm::RoundRobin,
        services: vec![tcp_service(80)],
        targets: vec![],
        network,
        public_interface: true,
        labels: Default::default(),
    }
}

async fn load_balancer(e: &Env, req: LoadBalancerCreate) -> LoadBalancerId {
    let id = e.cloud.load_balancer_create(&e.p, req).await.expect("create").0.lb.id;
    settle(&e.cloud).await;
    id
}

/// What the load balancer and certificate kinds need.
async fn prepare_lb(e: &Env, kind: &str) -> Prep {
    let mut prep = Prep::default();
    match kind {
        "load_balancer_create" => {
            let net = network(e).await;
            let mut req = create_req("web");
            req.networks = vec![net];
            req.labels = [("app".to_string(), "web".to_string())].into();
            prep.server = Some(e.cloud.server_create(&e.p, req).await.unwrap().server.server.id);
            prep.network = Some(net);
            prep.certificate = Some(certificate(e).await);
        }
        "load_balancer_add_target" | "load_balancer_remove_target" => {
            prep.server = Some(server(e, "web", true, true).await);
            prep.lb = Some(load_balancer(e, lb_req("lb", None)).await);
            if kind == "load_balancer_remove_target" {
                let target = LbTarget { kind: LbTargetKind::Server(prep.server()), use_private_ip: false };
                e.cloud
                    .load_balancer_action(&e.p, prep.lb.unwrap(), LoadBalancerAction::AddTarget(target))
                    .await
                    .unwrap();
            }
        }
        "load_balancer_attach_to_network" => {
            prep.network = Some(network(e).await);
            prep.lb = Some(load_balancer(e, lb_req("lb", None)).await);
        }
        "load_balancer_detach_from_network"
        | "load_balancer_disable_public_interface"
        | "load_balancer_enable_public_interface" => {
            let net = network(e).await;
            prep.network = Some(net);
            let mut req = lb_req("lb", Some(net));
            req.public_interface = kind != "load_balancer_enable_public_interface";
            prep.lb = Some(load_balancer(e, req).await);
        }
        "load_balancer_delete"
        | "load_balancer_add_service"
        | "load_balancer_update_service"
        | "load_balancer_delete_service"
        | "load_balancer_change_algorithm"
        | "load_balancer_change_type" => prep.lb = Some(load_balancer(e, lb_req("lb", None)).await),
        "certificate_create" => {}
        "certificate_retry" => prep.certificate = Some(failed_certificate(e).await),
        other => panic!("no scenario for action kind {other}: add one to engine/tests/generic.rs"),
    }
    settle(&e.cloud).await;
    prep
}

/// Starts the load balancer or certificate action the scenario is about.
async fn trigger_lb(e: &Env, kind: &str, prep: Prep) -> ActionId {
    let op = match kind {
        "load_balancer_create" => {
            let mut req = lb_req("new", prep.network);
            let https = ServiceRequest {
                protocol: Some(LbProtocol::Https),
                http: Some(HttpRequest { certificates: prep.certificate.map(|c| vec![c]), ..Default::default() }),
                ..Default::default()
            };
            req.services.push(https);
            req.targets = vec![
                LbTarget { kind: LbTargetKind::Server(prep.server()), use_private_ip: true },
                LbTarget { kind: LbTargetKind::LabelSelector("app=web".into()), use_private_ip: false },
                LbTarget { kind: LbTargetKind::Ip("203.0.113.7".into()), use_private_ip: false },
            ];
            return match e.cloud.load_balancer_create(&e.p, req).await {
                Ok((_, action)) => action.id,
                // Failing its first step fails the request; the action is on record.
                Err(Error::Unavailable { .. }) => newest(e, kind),
                Err(other) => panic!("create: {other}"),
            };
        }
        "load_balancer_delete" => return e.cloud.load_balancer_delete(&e.p, prep.lb.unwrap()).await.unwrap().id,
        "certificate_create" => {
            let req = CertificateCreateRequest {
                name: "managed".into(),
                source: CertificateSource::Managed { domain_names: vec!["shop.example.com".into()] },
                labels: Default::default(),
            };
            return match e.cloud.certificate_create(&e.p, req).await {
                Ok((_, action)) => action.expect("a managed certificate's action").id,
                Err(Error::Unavailable { .. }) => newest(e, kind),
                Err(other) => panic!("create: {other}"),
            };
        }
        "certificate_retry" => return e.cloud.certificate_retry(&e.p, prep.certificate.unwrap()).await.unwrap().id,
        "load_balancer_add_service" => LoadBalancerAction::AddService(ServiceRequest {
            protocol: Some(LbProtocol::Http),
            listen_port: Some(8080),
            ..Default::default()
        }),
        "load_balancer_update_service" => LoadBalancerAction::UpdateService(ServiceRequest {
            listen_port: Some(80),
            destination_port: Some(8080),
            proxyprotocol: Some(true),
            ..Default::default()
        }),
        "load_balancer_delete_service" => LoadBalancerAction::DeleteService { listen_port: 80 },
        "load_balancer_add_target" => {
            LoadBalancerAction::AddTarget(LbTarget { kind: LbTargetKind::Server(prep.server()), use_private_ip: false })
        }
        "load_balancer_remove_target" => LoadBalancerAction::RemoveTarget(LbTargetKind::Server(prep.server())),
        "load_balancer_change_algorithm" => LoadBalancerAction::ChangeAlgorithm(Algorithm::LeastConnections),
        "load_balancer_change_type" => LoadBalancerAction::ChangeType(Ref::Name("lb21".into())),
        "load_balancer_attach_to_network" => {
            LoadBalancerAction::AttachToNetwork { network: prep.network.unwrap(), ip: None, ip_range: None }
        }
        "load_balancer_detach_from_network" => LoadBalancerAction::DetachFromNetwork { network: prep.network.unwrap() },
        "load_balancer_enable_public_interface" => LoadBalancerAction::EnablePublicInterface,
        "load_balancer_disable_public_interface" => LoadBalancerAction::DisablePublicInterface,
        other => panic!("no scenario for action kind {other}: add one to engine/tests/generic.rs"),
    };
    let what = format!("{op:?}");
    e.cloud.load_balancer_action(&e.p, prep.lb.unwrap(), op).await.unwrap_or_else(|err| panic!("{what}: {err}")).id
}

/// Whether `kind` is one of the load balancer and certificate kinds (`prepare_lb`).
fn is_lb_kind(kind: &str) -> bool {
    kind.starts_with("load_balancer_") || kind.starts_with("certificate_")
}

/// Sets up what an action of `kind` needs; its own actions have settled when it returns.
async fn prepare(e: &Env, kind: &str) -> Prep {
    let mut prep = Prep::default();
    match kind {
        kind if is_lb_kind(kind) => return prepare_lb(e, kind).await,
        "server_create" => {
            prep.network = Some(network(e).await);
            prep.volume = Some(volume(e).await);
            prep.firewall = Some(firewall(e).await);
        }
        "server_power_on" => prep.server = Some(server(e, "s", false, true).await),
        "volume_create" => {}
        "volume_resize" | "volume_delete" => prep.volume = Some(volume(e).await),
        "volume_attach" | "volume_detach" => {
            prep.server = Some(server(e, "s", true, true).await);
            let id = volume(e).await;
            prep.volume = Some(id);
            if kind == "volume_detach" {
                e.cloud.volume_action(&e.p, id, VolumeAction::Attach { server: prep.server() }).await.unwrap();
            }
        }
        "server_change_type" | "primary_ip_unassign" => {
            prep.server = Some(server(e, "s", true, true).await);
            act(e, prep.server(), ServerAction::PowerOff).await;
        }
        "server_add_to_placement_group" | "server_remove_from_placement_group" => {
            prep.server = Some(server(e, "s", false, true).await);
            prep.group = Some(group(e).await);
            if kind == "server_remove_from_placement_group" {
                act(e, prep.server(), ServerAction::AddToPlacementGroup { group: prep.group.unwrap() }).await;
            }
        }
        "network_create" => {}
        "network_add_subnet"
        | "network_delete_subnet"
        | "network_add_route"
        | "network_delete_route"
        | "network_change_ip_range" => {
            let net = network(e).await;
            prep.network = Some(net);
            match kind {
                "network_delete_subnet" => {
                    let req = SubnetRequest {
                        kind: SubnetKind::Cloud,
                        ip_range: Some("10.0.9.0/24".into()),
                        network_zone: "eu-central".into(),
                        vswitch_id: None,
                    };
                    network_action(e, net, NetworkAction::AddSubnet(req)).await;
                }
                "network_delete_route" => {
                    network_action(e, net, NetworkAction::AddRoute(route("10.100.0.0/16"))).await;
                }
                _ => {}
            }
        }
        "primary_ip_assign" => {
            prep.server = Some(server(e, "s", false, false).await);
            let req = PrimaryIpCreate {
                family: IpFamily::V4,
                name: "spare".into(),
                server: None,
                datacenter: None,
                location: Some(Ref::Name("fsn1".into())),
                auto_delete: false,
                labels: Default::default(),
            };
            prep.ip = Some(e.cloud.primary_ip_create(&e.p, req).await.unwrap().0.ip.id);
        }
        _ => {
            let id = server(e, "s", true, true).await;
            prep.server = Some(id);
            match kind {
                "server_disable_rescue" => {
                    act(e, id, ServerAction::EnableRescue { ssh_keys: vec![] }).await;
                }
                "server_detach_iso" => {
                    act(e, id, ServerAction::AttachIso { iso: Ref::Name("virtio-win-0.1.248.iso".into()) }).await;
                }
                "server_disable_backup" | "server_backup" => {
                    act(e, id, ServerAction::EnableBackup { window: None }).await;
                    if kind == "server_disable_backup" {
                        e.cloud.sim_advance(24).await.unwrap();
                    }
                }
                "network_delete" => {
                    let net = network(e).await;
                    prep.network = Some(net);
                    act(e, id, ServerAction::AttachToNetwork { network: net, ip: None, alias_ips: vec![] }).await;
                }
                "firewall_set_rules" | "firewall_apply" | "firewall_remove" => {
                    let fw = firewall(e).await;
                    prep.firewall = Some(fw);
                    let target = match kind {
                        // Applied by a selector the server's labels come to match.
                        "firewall_apply" => FirewallTarget::LabelSelector("role=web".into()),
                        _ => FirewallTarget::Server(id),
                    };
                    e.cloud.firewall_action(&e.p, fw, FirewallAction::ApplyTo(vec![target])).await.unwrap();
                }
                "server_attach_to_network" | "server_detach_from_network" | "server_change_alias_ips" => {
                    let net = network(e).await;
                    prep.network = Some(net);
                    if kind != "server_attach_to_network" {
                        let op = ServerAction::AttachToNetwork { network: net, ip: None, alias_ips: vec![] };
                        act(e, id, op).await;
                    }
                }
                "image_data_delete" => {
                    let op = ServerAction::CreateImage {
                        kind: ImageType::Snapshot,
                        description: None,
                        labels: Default::default(),
                    };
                    let r = e.cloud.server_action(&e.p, id, op).await.unwrap();
                    prep.image = r.image.map(|i| i.image.id);
                }
                "floating_ip_assign" => prep.ip = Some(floating_ip(e, None).await),
                "floating_ip_unassign" => prep.ip = Some(floating_ip(e, Some(id)).await),
                _ => {}
            }
        }
    }
    settle(&e.cloud).await;
    prep
}

/// The newest action of `kind`, for actions an operation starts as a side effect.
fn newest(e: &Env, kind: &str) -> ActionId {
    e.cloud.read(|s| s.actions.all().rev().find(|a| a.kind == kind).map(|a| a.id)).expect("an action of the kind")
}

/// Starts the action of `kind` the scenario is about; its id.
async fn trigger(e: &Env, kind: &str, prep: Prep) -> ActionId {
    let iso = || Ref::Name("virtio-win-0.1.248.iso".into());
    let op = match kind {
        kind if is_lb_kind(kind) => return trigger_lb(e, kind, prep).await,
        "server_create" => {
            let mut req = create_req("new");
            req.start_after_create = false;
            req.networks = prep.network.into_iter().collect();
            req.volumes = prep.volume.into_iter().collect();
            req.firewalls = prep.firewall.into_iter().collect();
            return match e.cloud.server_create(&e.p, req).await {
                Ok(created) => created.action.id,
                // Failing its first step fails the request; the action is on record.
                Err(Error::Unavailable { .. }) => newest(e, kind),
                Err(other) => panic!("create: {other}"),
            };
        }
        "server_delete" => return e.cloud.server_delete(&e.p, prep.server()).await.unwrap().id,
        "volume_create" => {
            return match e.cloud.volume_create(&e.p, volume_req("data")).await {
                Ok(created) => created.action.id,
                // Failing its first step fails the request; the action is on record.
                Err(Error::Unavailable { .. }) => newest(e, kind),
                Err(other) => panic!("create volume: {other}"),
            };
        }
        "volume_delete" => {
            return match e.cloud.volume_delete(&e.p, prep.volume.expect("a volume")).await {
                // The delete answers without the action, which runs on (or failed at once).
                Ok(()) | Err(Error::Unavailable { .. }) => newest(e, kind),
                Err(other) => panic!("delete volume: {other}"),
            };
        }
        "volume_attach" | "volume_detach" | "volume_resize" => {
            let op = match kind {
                "volume_attach" => VolumeAction::Attach { server: prep.server() },
                "volume_detach" => VolumeAction::Detach,
                _ => VolumeAction::Resize { size_gb: 20 },
            };
            return e.cloud.volume_action(&e.p, prep.volume.expect("a volume"), op).await.unwrap().id;
        }
        "server_backup" => {
            e.cloud.sim_advance(24).await.unwrap();
            return newest(e, kind);
        }
        "image_data_delete" => {
            e.cloud.image_delete(&e.p, prep.image.expect("an image")).await.unwrap();
            return newest(e, kind);
        }
        "floating_ip_assign" | "floating_ip_unassign" | "primary_ip_assign" | "primary_ip_unassign" => {
            let (role, op) = match kind {
                "floating_ip_assign" => (IpRole::Floating, IpAction::Assign { server: prep.server() }),
                "floating_ip_unassign" => (IpRole::Floating, IpAction::Unassign),
                "primary_ip_assign" => (IpRole::Primary, IpAction::Assign { server: prep.server() }),
                _ => (IpRole::Primary, IpAction::Unassign),
            };
            let ip = match prep.ip {
                Some(ip) => ip,
                None => e.cloud.server_get(&e.p, prep.server()).expect(kind).ipv4.expect("ipv4").id,
            };
            return e.cloud.ip_action(&e.p, role, ip, op).await.unwrap().id;
        }
        "network_create" => {
            return match e.cloud.network_create(&e.p, network_req()).await {
                // Failing its first step fails the request; the action is on record.
                Ok(_) | Err(Error::Unavailable { .. }) => newest(e, kind),
                Err(other) => panic!("network create: {other}"),
            };
        }
        "network_delete" => {
            return match e.cloud.network_delete(&e.p, prep.network.unwrap()).await {
                // Failing its first step fails the request; the action is on record.
                Ok(()) | Err(Error::Unavailable { .. }) => newest(e, kind),
                Err(other) => panic!("network delete: {other}"),
            };
        }
        "network_add_subnet"
        | "network_delete_subnet"
        | "network_add_route"
        | "network_delete_route"
        | "network_change_ip_range" => {
            let op = match kind {
                "network_add_subnet" => NetworkAction::AddSubnet(SubnetRequest {
                    kind: SubnetKind::Cloud,
                    ip_range: None,
                    network_zone: "eu-central".into(),
                    vswitch_id: None,
                }),
                "network_delete_subnet" => NetworkAction::DeleteSubnet { ip_range: "10.0.9.0/24".into() },
                "network_add_route" => NetworkAction::AddRoute(route("10.100.0.0/16")),
                "network_delete_route" => NetworkAction::DeleteRoute(route("10.100.0.0/16")),
                _ => NetworkAction::ChangeIpRange { ip_range: "10.0.0.0/15".into() },
            };
            return network_action(e, prep.network.unwrap(), op).await;
        }
        "firewall_set_rules" | "firewall_remove" => {
            let fw = prep.firewall.unwrap();
            let op = match kind {
                "firewall_set_rules" => FirewallAction::SetRules(vec![FirewallRule {
                    direction: Direction::In,
                    protocol: "icmp".into(),
                    port: None,
                    source_ips: vec!["10.0.0.0/8".into()],
                    destination_ips: vec![],
                    description: Some("ping".into()),
                }]),
                _ => FirewallAction::RemoveFrom(vec![FirewallTarget::Server(prep.server())]),
            };
            return e.cloud.firewall_action(&e.p, fw, op).await.unwrap().id;
        }
        "firewall_apply" => {
            let labels = [("role".to_string(), "web".to_string())].into_iter().collect();
            e.cloud.server_update(&e.p, prep.server(), None, Some(labels)).await.unwrap();
            return newest(e, kind);
        }
        "server_power_on" => ServerAction::PowerOn,
        "server_power_off" => ServerAction::PowerOff,
        "server_shutdown" => ServerAction::Shutdown,
        "server_reboot" => ServerAction::Reboot,
        "server_reset" => ServerAction::Reset,
        "server_reset_password" => ServerAction::ResetPassword,
        "server_enable_rescue" => ServerAction::EnableRescue { ssh_keys: vec![] },
        "server_disable_rescue" => ServerAction::DisableRescue,
        "server_attach_iso" => ServerAction::AttachIso { iso: iso() },
        "server_detach_iso" => ServerAction::DetachIso,
        "server_rebuild" => {
            ServerAction::Rebuild { image: Ref::Name("ubuntu-24.04".into()), user_data: Some("#cloud-config\n".into()) }
        }
        "server_change_type" => ServerAction::ChangeType { server_type: Ref::Name("cx42".into()), upgrade_disk: true },
        "server_enable_backup" => ServerAction::EnableBackup { window: None },
        "server_disable_backup" => ServerAction::DisableBackup { delete_backups: true },
        "server_request_console" => ServerAction::RequestConsole,
        "server_create_image" => {
            ServerAction::CreateImage { kind: ImageType::Snapshot, description: None, labels: Default::default() }
        }
        "server_attach_to_network" => ServerAction::AttachToNetwork {
            network: prep.network.unwrap(),
            ip: None,
            alias_ips: vec!["10.0.1.50".into()],
        },
        "server_detach_from_network" => ServerAction::DetachFromNetwork { network: prep.network.unwrap() },
        "server_change_alias_ips" => {
            ServerAction::ChangeAliasIps { network: prep.network.unwrap(), alias_ips: vec!["10.0.1.60".into()] }
        }
        "server_add_to_placement_group" => ServerAction::AddToPlacementGroup { group: prep.group.unwrap() },
        "server_remove_from_placement_group" => ServerAction::RemoveFromPlacementGroup,
        "change_protection" => ServerAction::ChangeProtection { delete: Some(true), rebuild: Some(true) },
        "change_dns_ptr" => {
            let ip = e.cloud.server_get(&e.p, prep.server()).unwrap().ipv4.expect("ipv4").address.clone();
            ServerAction::ChangeDnsPtr { ip, ptr: Some("host.example.com".into()) }
        }
        other => panic!("no scenario for action kind {other}: add one to engine/tests/generic.rs"),
    };
    act(e, prep.server(), op).await
}

/// Every record but actions and faults, as JSON, in key order: what an unwound action
/// must leave exactly as it found.
fn records(e: &Env) -> Vec<String> {
    e.cloud.read(|s| {
        s.records()
            .iter()
            .filter(|r| !matches!(r, Record::Action(_) | Record::Fault(_)))
            .map(|r| crate::each_record!(r, |x| serde_json::to_string(&**x).expect("serializes")))
            .collect()
    })
}

/// `records` without what the scenario's trigger changed itself, outside the action:
/// the backup schedule moving a server's `last_backup`, the image delete removing the
/// image whose data the action removes; and the error a failed issuance leaves on its
/// certificate.
fn records_for(e: &Env, kind: &str) -> Vec<String> {
    records(e)
        .into_iter()
        .filter_map(|json| {
            let mut v: serde_json::Value = serde_json::from_str(&json).ok()?;
            match kind {
                "server_backup" => {
                    v.as_object_mut()?.remove("last_backup");
                }
                "image_data_delete" if v["type"] == "snapshot" => return None,
                // A failed issuance records its error on the certificate, by design.
                "certificate_create" | "certificate_retry" => {
                    if let Some(status) = v.get_mut("status").and_then(|st| st.as_object_mut()) {
                        status.remove("error");
                    }
                }
                _ => {}
            }
            Some(v.to_string())
        })
        .collect()
}

/// Asserts the records are as they were, naming only what differs.
fn assert_same_records(before: &[String], after: &[String], what: &str) {
    let gone: Vec<&String> = before.iter().filter(|r| !after.contains(r)).collect();
    let new: Vec<&String> = after.iter().filter(|r| !before.contains(r)).collect();
    assert!(gone.is_empty() && new.is_empty(), "{what}: the records changed.\nbefore: {gone:#?}\nafter: {new:#?}");
}

/// The plan the action was made with (a finished action keeps none).
fn plan(e: &Env, id: ActionId) -> Vec<String> {
    e.store
        .versions(id.as_ref())
        .into_iter()
        .find_map(|r| match r {
            Record::Action(a) => a.run.as_ref().map(|run| run.plan.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

/// Whether a step of the plan before `upto` has no undo: failing after it, the
/// records cannot all be as they were.
fn irreversible_before(kind: &str, plan: &[String], upto: usize) -> bool {
    let k = crate::actions::kind(kind).unwrap();
    plan[..upto.min(plan.len())].iter().any(|s| !k.step(s).unwrap().has_undo)
}

fn status(e: &Env, id: ActionId) -> Action {
    e.cloud.read(|s| s.actions.get(id.0).map(|a| Action::clone(a))).expect("the action")
}

/// An action that failed past a step without undo may be stuck (its undos act on
/// what that step changed for good): the operator's resolve must then end it. Returns
/// whether the records can be expected to agree with the driver.
async fn end_by_hand_if_stuck(e: &Env, id: ActionId, what: &str) -> bool {
    let mut resolved = false;
    for _ in 0..10 {
        if status(e, id).status != ActionStatus::Stuck {
            break;
        }
        e.cloud.action_resolve(id).await.unwrap_or_else(|err| panic!("{what}: resolve: {err}"));
        settle(&e.cloud).await;
        resolved = true;
    }
    let a = status(e, id);
    assert_eq!(a.status, ActionStatus::Error, "{what}: {a:?}");
    !resolved
}

/// The plan of `kind`'s scenario, from a clean run that must succeed.
async fn baseline(kind: &str) -> Vec<String> {
    let e = env().await;
    let prep = prepare(&e, kind).await;
    let id = trigger(&e, kind, prep).await;
    settle(&e.cloud).await;
    let a = status(&e, id);
    assert_eq!(a.status, ActionStatus::Success, "{kind} baseline: {a:?}");
    check_settled(&e.cloud, &e.sim);
    plan(&e, id)
}

/// After a failure past a step without undo: nothing runs or holds a lock, the records
/// are consistent, and (unless an operator resolved an undo by hand) they agree with
/// the driver.
fn check_after_failure(e: &Env, agrees: bool) {
    if agrees {
        check_settled(&e.cloud, &e.sim);
    } else {
        e.cloud.read(|s| {
            assert!(s.no_locks());
            check_records(s);
        });
    }
}

#[test]
fn every_kind_has_a_scenario() {
    // `trigger` panics naming a kind without a scenario; this lists them all at once.
    let source = include_str!("generic.rs");
    let missing: Vec<&str> =
        REGISTRY.iter().map(|k| k.name()).filter(|name| !source.contains(&format!("\"{name}\""))).collect();
    assert!(missing.is_empty(), "action kinds without a scenario: {missing:?}");
}

#[tokio::test]
async fn every_kind_fails_at_each_step_and_unwinds() {
    for kind in REGISTRY.iter().map(|k| k.name()) {
        let plan = baseline(kind).await;
        for (i, step) in plan.iter().enumerate() {
            let e = env().await;
            let prep = prepare(&e, kind).await;
            let before = records_for(&e, kind);
            let target = FaultTarget::Action { kinds: vec![kind.into()], step: Some(StepRef::Index(i)) };
            e.cloud.fault_add(target, 1, "injected", "fails before it runs").await.unwrap();
            let id = trigger(&e, kind, prep).await;
            settle(&e.cloud).await;
            let what = format!("{kind} failing before step {i} ({step})");
            let a = status(&e, id);
            assert_eq!(a.error.as_ref().map(|x| x.code.as_str()), Some("injected"), "{what}");
            if irreversible_before(kind, &plan, i) {
                let agrees = end_by_hand_if_stuck(&e, id, &what).await;
                check_after_failure(&e, agrees);
            } else {
                assert_eq!(a.status, ActionStatus::Error, "{what}");
                check_settled(&e.cloud, &e.sim);
                assert_same_records(&before, &records_for(&e, kind), &what);
            }
        }
    }
}

#[tokio::test]
async fn every_kind_fails_after_each_driver_step_ran_and_unwinds() {
    for kind in REGISTRY.iter().map(|k| k.name()) {
        let plan = baseline(kind).await;
        let k = crate::actions::kind(kind).unwrap();
        for (i, step) in plan.iter().enumerate().filter(|(_, s)| k.step(s).unwrap().driver) {
            let e = env().await;
            let prep = prepare(&e, kind).await;
            let before = records_for(&e, kind);
            e.cloud.inner.engine.hooks.arm(Hook::FailAfter { kind: kind.into(), step: step.clone() });
            let id = trigger(&e, kind, prep).await;
            settle(&e.cloud).await;
            let what = format!("{kind} failing after step {i} ({step}) ran");
            if e.cloud.inner.engine.hooks.clear() {
                // The step had nothing to call here, so nothing ran that could fail.
                assert_eq!(status(&e, id).status, ActionStatus::Success, "{what}");
                check_settled(&e.cloud, &e.sim);
            } else if irreversible_before(kind, &plan, i + 1) {
                let agrees = end_by_hand_if_stuck(&e, id, &what).await;
                check_after_failure(&e, agrees);
            } else {
                assert_eq!(status(&e, id).status, ActionStatus::Error, "{what}");
                check_settled(&e.cloud, &e.sim);
                assert_same_records(&before, &records_for(&e, kind), &what);
            }
        }
    }
}

#[tokio::test]
async fn every_driver_step_can_run_twice() {
    for kind in REGISTRY.iter().map(|k| k.name()) {
        let plan = baseline(kind).await;
        let k = crate::actions::kind(kind).unwrap();
        for step in plan.iter().filter(|s| k.step(s).unwrap().driver) {
            let e = env().await;
            let prep = prepare(&e, kind).await;
            e.cloud.inner.engine.hooks.arm(Hook::RepeatStep { kind: kind.into(), step: step.clone() });
            let id = trigger(&e, kind, prep).await;
            settle(&e.cloud).await;
            e.cloud.inner.engine.hooks.clear();
            let a = status(&e, id);
            assert_eq!(a.status, ActionStatus::Success, "{kind} with {step} run twice: {a:?}");
            check_settled(&e.cloud, &e.sim);
        }
    }
}

#[tokio::test]
async fn every_driver_undo_can_run_twice() {
    for kind in REGISTRY.iter().map(|k| k.name()) {
        let plan = baseline(kind).await;
        let k = crate::actions::kind(kind).unwrap();
        for (i, step) in plan.iter().enumerate().filter(|(_, s)| k.step(s).unwrap().undo_is_driver) {
            // Fail before the next step that cannot be undone (or the last), so that
            // this step and every reversible one after it are undone, this one twice.
            let Some(fail_at) =
                (i + 1..plan.len()).find(|j| !k.step(&plan[*j]).unwrap().has_undo || *j == plan.len() - 1)
            else {
                continue;
            };
            let e = env().await;
            let prep = prepare(&e, kind).await;
            let before = records_for(&e, kind);
            let target = FaultTarget::Action { kinds: vec![kind.into()], step: Some(StepRef::Index(fail_at)) };
            e.cloud.fault_add(target, 1, "injected", "x").await.unwrap();
            e.cloud.inner.engine.hooks.arm(Hook::RepeatUndo { kind: kind.into(), step: step.clone() });
            let id = trigger(&e, kind, prep).await;
            settle(&e.cloud).await;
            e.cloud.inner.engine.hooks.clear();
            let what = format!("{kind} with the undo of {step} run twice");
            assert_eq!(status(&e, id).status, ActionStatus::Error, "{what}");
            check_settled(&e.cloud, &e.sim);
            if !irreversible_before(kind, &plan, fail_at) {
                assert_same_records(&before, &records_for(&e, kind), &what);
            }
        }
    }
}

#[tokio::test]
async fn every_kind_resumes_after_a_crash_at_every_commit() {
    for kind in REGISTRY.iter().map(|k| k.name()) {
        let e = env().await;
        let prep = prepare(&e, kind).await;
        let first = e.store.batches();
        let id = trigger(&e, kind, prep).await;
        settle(&e.cloud).await;
        let last = e.store.batches();
        for n in first..=last {
            let sim = Arc::new(SimDriver::new(SimTiming::Instant));
            let cloud = Cloud::open(e.store.reopen_at(n), sim.clone(), Config::default()).await.unwrap();
            cloud.start().await.unwrap();
            settle(&cloud).await;
            let what = format!("{kind} after a crash at commit {n} of {first}..={last}");
            if let Some(a) = cloud.read(|s| s.actions.get(id.0).cloned()) {
                assert!(a.is_finished(), "{what}: {a:?}");
            }
            check_settled(&cloud, &sim);
        }
    }
}
