//! Load balancers in private networks, tested through `Cloud` with network records
//! written directly (networks have no operations of their own on this branch): joining
//! and leaving a network, targets reached over it, the public interface, and what the
//! data plane is given.

use super::*;
use crate::ids::*;
use crate::ops::load_balancers::{LoadBalancerAction, LoadBalancerCreate, ServiceRequest};
use crate::store::Record;
use crate::views::HealthStatus;
use crate::Refusal;

/// A network 10.0.0.0/16 with the subnet 10.0.1.0/24 in fsn1's zone and 10.0.9.0/24 in
/// another zone, applied on the simulator too.
async fn network(cloud: &Cloud, p: &Principal, sim: &SimDriver, name: &str) -> NetworkId {
    let subnet = |range: &str, zone: &str, gateway: &str| Subnet {
        kind: SubnetKind::Cloud,
        ip_range: range.into(),
        network_zone: zone.into(),
        gateway: gateway.into(),
        vswitch_id: None,
    };
    let id = cloud
        .write(|tx| {
            let id = NetworkId(tx.next_id());
            tx.put(Record::Network(Arc::new(Network {
                id,
                project: p.project,
                name: name.into(),
                ip_range: "10.0.0.0/16".into(),
                subnets: vec![
                    subnet("10.0.1.0/24", "eu-central", "10.0.1.1"),
                    subnet("10.0.9.0/24", "us-east", "10.0.9.1"),
                ],
                routes: vec![],
                expose_routes_to_vswitch: false,
                protection: Protection::default(),
                labels: Default::default(),
                created: now(),
            })));
            Ok(id)
        })
        .await
        .unwrap();
    let spec = cloud.read(|s| s.network_spec(s.networks.get(id.0).unwrap()));
    sim.apply_network(&spec, &stratus_compute::CallContext::now()).await.unwrap();
    id
}

fn lb_req(name: &str) -> LoadBalancerCreate {
    LoadBalancerCreate {
        name: name.into(),
        lb_type: Ref::Name("lb11".into()),
        location: Some(Ref::Name("fsn1".into())),
        network_zone: None,
        algorithm: Algorithm::RoundRobin,
        services: vec![ServiceRequest { protocol: Some(LbProtocol::Http), ..Default::default() }],
        targets: vec![],
        network: None,
        public_interface: true,
        labels: Default::default(),
    }
}

async fn create(cloud: &Cloud, p: &Principal, req: LoadBalancerCreate) -> LoadBalancerId {
    let id = cloud.load_balancer_create(p, req).await.expect("create").0.lb.id;
    settle(cloud).await;
    id
}

async fn act(cloud: &Cloud, p: &Principal, lb: LoadBalancerId, op: LoadBalancerAction) -> crate::Result<()> {
    let action = cloud.load_balancer_action(p, lb, op).await?;
    settle(cloud).await;
    let action = cloud.action_get(p, action.id).unwrap();
    assert_eq!(action.status, ActionStatus::Success, "{action:?}");
    Ok(())
}

fn refusal(r: crate::Result<()>) -> Option<Refusal> {
    match r {
        Err(Error::Refused { reason, .. }) => Some(reason),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn server_target(id: ServerId, private: bool) -> LoadBalancerAction {
    LoadBalancerAction::AddTarget(LbTarget { kind: LbTargetKind::Server(id), use_private_ip: private })
}

async fn server_in(cloud: &Cloud, p: &Principal, name: &str, network: Option<NetworkId>) -> ServerId {
    let mut req = create_req(name);
    req.networks = network.into_iter().collect();
    let id = cloud.server_create(p, req).await.unwrap().server.server.id;
    settle(cloud).await;
    id
}

#[tokio::test]
async fn joining_a_network_picks_an_address_in_the_zone_and_reaches_private_targets() {
    let (cloud, p, _, sim) = instant().await;
    let net = network(&cloud, &p, &sim, "net").await;
    let inside = server_in(&cloud, &p, "inside", Some(net)).await;
    let outside = server_in(&cloud, &p, "outside", None).await;
    let lb = create(&cloud, &p, lb_req("lb")).await;

    // Private targets need the load balancer in a network first.
    assert_eq!(refusal(act(&cloud, &p, lb, server_target(inside, true)).await), Some(Refusal::LbNotAttached));
    let detach = LoadBalancerAction::DetachFromNetwork { network: net };
    assert_eq!(refusal(act(&cloud, &p, lb, detach).await), Some(Refusal::LbNotAttached));

    let attach = |ip: Option<&str>, range: Option<&str>| LoadBalancerAction::AttachToNetwork {
        network: net,
        ip: ip.map(str::to_string),
        ip_range: range.map(str::to_string),
    };
    // The server took 10.0.1.2, the first free host after the gateway.
    assert_eq!(refusal(act(&cloud, &p, lb, attach(Some("10.0.1.2"), None)).await), Some(Refusal::AddressTaken));
    let r = act(&cloud, &p, lb, attach(Some("10.0.9.5"), None)).await;
    assert!(matches!(r, Err(Error::InvalidInput { .. })), "another zone's subnet: {r:?}");
    let r = act(&cloud, &p, lb, attach(None, Some("10.0.9.0/24"))).await;
    assert!(matches!(r, Err(Error::InvalidInput { .. })), "another zone's subnet: {r:?}");
    act(&cloud, &p, lb, attach(None, Some("10.0.1.0/24"))).await.unwrap();
    let view = cloud.load_balancer_get(&p, lb).unwrap();
    let nic = view.private_net.clone().expect("attached");
    assert_eq!((nic.network, nic.ip.as_deref()), (Some(net), Some("10.0.1.3")));
    assert_eq!(refusal(act(&cloud, &p, lb, attach(None, None)).await), Some(Refusal::LbAlreadyAttached));

    // Now private targets work for servers in the network, and only for those.
    assert_eq!(refusal(act(&cloud, &p, lb, server_target(outside, true)).await), Some(Refusal::NotAttached));
    act(&cloud, &p, lb, server_target(inside, true)).await.unwrap();
    let spec = sim.load_balancer(lb.0).expect("on the data plane");
    assert!(spec.addresses.contains(&"10.0.1.3".to_string()), "it listens on its private address: {spec:?}");
    assert_eq!(spec.targets, ["10.0.1.2"], "the target's private address");
    let health = &cloud.load_balancer_get(&p, lb).unwrap().targets[0].health;
    assert_eq!(health.iter().map(|h| (h.listen_port, h.status)).collect::<Vec<_>>(), [(80, HealthStatus::Healthy)]);

    // It cannot leave the network while it reaches targets through it.
    let detach = LoadBalancerAction::DetachFromNetwork { network: net };
    assert!(matches!(act(&cloud, &p, lb, detach.clone()).await, Err(Error::InvalidInput { .. })));
    act(&cloud, &p, lb, LoadBalancerAction::RemoveTarget(LbTargetKind::Server(inside))).await.unwrap();
    act(&cloud, &p, lb, detach).await.unwrap();
    assert!(cloud.load_balancer_get(&p, lb).unwrap().private_net.is_none());
    assert!(!sim.load_balancer(lb.0).unwrap().addresses.contains(&"10.0.1.3".to_string()));
    check_settled(&cloud, &sim);
}

#[tokio::test]
async fn the_public_interface_goes_only_when_nothing_needs_it() {
    let (cloud, p, _, sim) = instant().await;
    let net = network(&cloud, &p, &sim, "net").await;
    let web = server_in(&cloud, &p, "web", Some(net)).await;
    let lb = create(&cloud, &p, lb_req("lb")).await;
    let disable = || LoadBalancerAction::DisablePublicInterface;
    assert_eq!(refusal(act(&cloud, &p, lb, disable()).await), Some(Refusal::LbNotAttached));
    act(
        &cloud,
        &p,
        lb,
        LoadBalancerAction::AttachToNetwork { network: net, ip: Some("10.0.1.10".into()), ip_range: None },
    )
    .await
    .unwrap();
    act(&cloud, &p, lb, server_target(web, false)).await.unwrap();
    assert_eq!(refusal(act(&cloud, &p, lb, disable()).await), Some(Refusal::PublicTargets));
    act(&cloud, &p, lb, LoadBalancerAction::RemoveTarget(LbTargetKind::Server(web))).await.unwrap();
    act(&cloud, &p, lb, server_target(web, true)).await.unwrap();
    act(&cloud, &p, lb, disable()).await.unwrap();
    assert_eq!(sim.load_balancer(lb.0).unwrap().addresses, ["10.0.1.10"], "no public addresses served");

    // Without it: no public targets, and the network must stay.
    let selector = LbTarget { kind: LbTargetKind::LabelSelector("app=web".into()), use_private_ip: false };
    let r = act(&cloud, &p, lb, LoadBalancerAction::AddTarget(selector)).await;
    assert_eq!(refusal(r), Some(Refusal::PublicInterfaceDisabled));
    let ip = LbTarget { kind: LbTargetKind::Ip("203.0.113.9".into()), use_private_ip: false };
    assert_eq!(
        refusal(act(&cloud, &p, lb, LoadBalancerAction::AddTarget(ip)).await),
        Some(Refusal::PublicInterfaceDisabled)
    );
    act(&cloud, &p, lb, LoadBalancerAction::RemoveTarget(LbTargetKind::Server(web))).await.unwrap();
    let r = act(&cloud, &p, lb, LoadBalancerAction::DetachFromNetwork { network: net }).await;
    assert!(matches!(r, Err(Error::InvalidInput { .. })), "{r:?}");
    act(&cloud, &p, lb, LoadBalancerAction::EnablePublicInterface).await.unwrap();
    assert_eq!(sim.load_balancer(lb.0).unwrap().addresses.len(), 3, "IPv4, IPv6 and private");
    check_settled(&cloud, &sim);
}

#[tokio::test]
async fn a_load_balancer_created_in_a_network_without_a_public_interface() {
    let (cloud, p, _, sim) = instant().await;
    let net = network(&cloud, &p, &sim, "net").await;
    let web = server_in(&cloud, &p, "web", Some(net)).await;
    let mut req = lb_req("private");
    req.public_interface = false;
    let r = cloud.load_balancer_create(&p, req.clone()).await;
    assert!(matches!(r, Err(Error::Refused { reason: Refusal::LbNotAttached, .. })), "{r:?}");
    req.network = Some(net);
    req.targets = vec![LbTarget { kind: LbTargetKind::Server(web), use_private_ip: false }];
    let r = cloud.load_balancer_create(&p, req.clone()).await;
    assert!(matches!(r, Err(Error::Refused { reason: Refusal::PublicInterfaceDisabled, .. })), "{r:?}");
    req.targets = vec![
        LbTarget { kind: LbTargetKind::Server(web), use_private_ip: true },
        LbTarget { kind: LbTargetKind::LabelSelector("app=none".into()), use_private_ip: true },
    ];
    let lb = create(&cloud, &p, req).await;
    let view = cloud.load_balancer_get(&p, lb).unwrap();
    assert!(!view.lb.public_interface);
    assert_eq!(view.private_net.as_ref().and_then(|n| n.ip.as_deref()), Some("10.0.1.3"));
    assert_eq!(sim.load_balancer(lb.0).unwrap().targets, ["10.0.1.2"]);
    assert!(view.targets[1].selected.is_empty(), "the selector matches nothing yet");

    // Deleting it takes its addresses and its interface along; the network stays.
    let addresses: Vec<IpId> = [view.ipv4.unwrap().id, view.ipv6.unwrap().id].into();
    let nic = view.private_net.unwrap().id;
    cloud.load_balancer_delete(&p, lb).await.unwrap();
    settle(&cloud).await;
    cloud.read(|s| {
        assert!(addresses.iter().all(|a| !s.ips.contains(a.0)));
        assert!(!s.nics.contains(nic.0));
        assert!(s.networks.contains(net.0));
    });
    assert!(sim.load_balancer(lb.0).is_none());
    check_settled(&cloud, &sim);
}

#[tokio::test]
async fn label_selector_targets_follow_the_servers_they_match() {
    // The views follow at once; the data plane only at the load balancer's next action
    // (see `State::load_balancer_spec_with`), so the simulator is not compared here.
    let (cloud, p, _, _) = instant().await;
    let mut req = lb_req("lb");
    req.targets = vec![LbTarget { kind: LbTargetKind::LabelSelector("app=web".into()), use_private_ip: false }];
    let lb = create(&cloud, &p, req).await;
    let mut a = create_req("a");
    a.labels = [("app".to_string(), "web".to_string())].into();
    let a = cloud.server_create(&p, a).await.unwrap().server.server.id;
    settle(&cloud).await;
    let view = cloud.load_balancer_get(&p, lb).unwrap();
    assert_eq!(view.targets[0].selected.iter().map(|s| s.server).collect::<Vec<_>>(), [a]);
    assert!(view.targets[0].health.is_empty(), "a selector has no health of its own");
    assert_eq!(view.targets[0].selected[0].health[0].status, HealthStatus::Healthy);
    cloud.server_action(&p, a, ServerAction::PowerOff).await.unwrap();
    settle(&cloud).await;
    let view = cloud.load_balancer_get(&p, lb).unwrap();
    assert_eq!(view.targets[0].selected[0].health[0].status, HealthStatus::Unhealthy, "a stopped server");
    assert_eq!(cloud.server_get(&p, a).unwrap().load_balancers, [lb], "the server lists it");
}
