"""hcloud-python 2.27: load balancers and their types (client.load_balancers, BoundLoadBalancer,
client.load_balancer_types)."""

from __future__ import annotations

import ipaddress
from datetime import datetime, timedelta, timezone

import pytest
from conftest import api_error, check_type_actions, finished, make_pem, new_server, unique
from hcloud.load_balancer_types import BoundLoadBalancerType, LoadBalancerType
from hcloud.load_balancers import (
    BoundLoadBalancer,
    LoadBalancerAlgorithm,
    LoadBalancerHealthCheck,
    LoadBalancerHealthCheckHttp,
    LoadBalancerService,
    LoadBalancerServiceHttp,
    LoadBalancerTarget,
    LoadBalancerTargetIP,
    LoadBalancerTargetLabelSelector,
)
from hcloud.locations import Location
from hcloud.networks import NetworkSubnet

LB_TYPES = {"lb11": (5, 25, 10), "lb21": (15, 75, 25), "lb31": (30, 150, 50)}


def http_service(listen_port=80, destination_port=8080, certificates=None, protocol="http"):
    return LoadBalancerService(
        protocol=protocol, listen_port=listen_port, destination_port=destination_port, proxyprotocol=False,
        health_check=LoadBalancerHealthCheck(
            protocol="http", port=destination_port, interval=15, timeout=10, retries=3,
            http=LoadBalancerHealthCheckHttp(domain="example.com", path="/health", response="ok",
                                             status_codes=["2??", "3??"], tls=False)),
        http=LoadBalancerServiceHttp(sticky_sessions=True, cookie_name="HCLBSTICKY", cookie_lifetime=300,
                                     redirect_http=False, certificates=certificates, timeout_idle=60))


def tcp_service(listen_port, destination_port=None):
    return LoadBalancerService(
        protocol="tcp", listen_port=listen_port, destination_port=destination_port or listen_port,
        proxyprotocol=True,
        health_check=LoadBalancerHealthCheck(protocol="tcp", port=destination_port or listen_port, interval=10,
                                             timeout=5, retries=2))


def create_lb(client, **kw):
    kw.setdefault("name", unique("lb"))
    kw.setdefault("load_balancer_type", LoadBalancerType(name="lb11"))
    if "network_zone" not in kw:
        kw.setdefault("location", Location(name="fsn1"))
    resp = client.load_balancers.create(**kw)
    finished(resp.action, "create_load_balancer")
    return client.load_balancers.get_by_id(resp.load_balancer.id)


def test_load_balancer_types(client):
    types = client.load_balancer_types.get_all()
    assert [t.name for t in types] == list(LB_TYPES)
    for t in types:
        assert isinstance(t, BoundLoadBalancerType)
        assert (t.max_services, t.max_targets, t.max_assigned_certificates) == LB_TYPES[t.name]
        assert t.max_connections > 0 and t.description and t.deprecation is None
        assert t.prices and {"location", "price_hourly", "price_monthly"} <= set(t.prices[0])
    lb21 = client.load_balancer_types.get_by_name("lb21")
    assert client.load_balancer_types.get_by_id(lb21.id).name == "lb21"
    assert client.load_balancer_types.get_by_name("lb99") is None
    assert [t.name for t in client.load_balancer_types.get_all(name="lb31")] == ["lb31"]
    page = client.load_balancer_types.get_list(page=2, per_page=1)
    assert [t.name for t in page.load_balancer_types] == ["lb21"] and page.meta.pagination.last_page == 3
    assert api_error(client.load_balancer_types.get_by_id, 987654321).code == "not_found"


def test_load_balancer_lifecycle(client):
    web = new_server(client)
    name = unique("lb")
    resp = client.load_balancers.create(
        name=name, load_balancer_type=LoadBalancerType(name="lb11"), location=Location(name="fsn1"),
        algorithm=LoadBalancerAlgorithm(type="round_robin"), services=[http_service()],
        targets=[LoadBalancerTarget(type="server", server=web, use_private_ip=False)], labels={"suite": "lb"})
    assert isinstance(resp.load_balancer, BoundLoadBalancer)
    finished(resp.action, "create_load_balancer")
    lb = client.load_balancers.get_by_id(resp.load_balancer.id)
    assert lb.name == name and lb.labels == {"suite": "lb"} and isinstance(lb.created, datetime)
    assert lb.location.name == "fsn1" and lb.load_balancer_type.name == "lb11"
    assert lb.algorithm.type == "round_robin" and lb.protection == {"delete": False}
    assert lb.public_net.enabled is True and lb.private_net == []
    assert ipaddress.ip_address(lb.public_net.ipv4.ip).version == 4
    assert ipaddress.ip_address(lb.public_net.ipv6.ip).version == 6
    assert lb.included_traffic > 0 and (lb.ingoing_traffic, lb.outgoing_traffic) == (0, 0)
    [svc] = lb.services
    assert (svc.protocol, svc.listen_port, svc.destination_port, svc.proxyprotocol) == ("http", 80, 8080, False)
    hc = svc.health_check
    assert (hc.protocol, hc.port, hc.interval, hc.timeout, hc.retries) == ("http", 8080, 15, 10, 3)
    assert (hc.http.domain, hc.http.path, hc.http.response, hc.http.status_codes, hc.http.tls) == \
        ("example.com", "/health", "ok", ["2??", "3??"], False)
    assert (svc.http.sticky_sessions, svc.http.cookie_name, svc.http.cookie_lifetime, svc.http.redirect_http,
            svc.http.certificates, svc.http.timeout_idle) == (True, "HCLBSTICKY", 300, False, [], 60)
    [target] = lb.targets
    assert (target.type, target.server.id, target.use_private_ip) == ("server", web.id, False)
    # the simulator's running server passes its health check
    assert [(h.listen_port, h.status) for h in target.health_status] == [(80, "healthy")]

    assert client.load_balancers.get_by_name(name).id == lb.id
    assert client.load_balancers.get_by_name(unique("no-such-lb")) is None
    assert [x.id for x in client.load_balancers.get_all(label_selector="suite=lb")] == [lb.id]
    assert [x.id for x in client.load_balancers.get_all(name=name)] == [lb.id]
    assert [x.id for x in client.load_balancers.get_list(name=name, per_page=1).load_balancers] == [lb.id]

    new_name = unique("lb-renamed")
    upd = lb.update(name=new_name, labels={"suite": "lb", "v": "2"})
    assert upd.name == new_name and upd.labels == {"suite": "lb", "v": "2"}
    assert client.load_balancers.update(lb, labels={"suite": "lb"}).labels == {"suite": "lb"}

    # services: add, change, delete; a port is used once
    finished(lb.add_service(tcp_service(5432)), "add_service")
    assert api_error(lb.add_service, tcp_service(5432)).code == "source_port_already_used"
    finished(client.load_balancers.update_service(lb, tcp_service(5432, destination_port=6432)), "update_service")
    svcs = {s.listen_port: s for s in client.load_balancers.get_by_id(lb.id).services}
    assert set(svcs) == {80, 5432}
    assert (svcs[5432].protocol, svcs[5432].destination_port, svcs[5432].proxyprotocol) == ("tcp", 6432, True)
    assert svcs[5432].health_check.port == 6432 and svcs[5432].http is None
    finished(lb.delete_service(LoadBalancerService(listen_port=5432)), "delete_service")
    assert [s.listen_port for s in client.load_balancers.get_by_id(lb.id).services] == [80]
    assert api_error(lb.delete_service, LoadBalancerService(listen_port=5432)).code == "invalid_input"

    # targets: server (above), label selector (with the servers it matches), IP
    labelled = new_server(client, labels={"lb": unique("pool")})
    selector = LoadBalancerTarget(type="label_selector", use_private_ip=False,
                                  label_selector=LoadBalancerTargetLabelSelector(
                                      selector=f"lb={labelled.labels['lb']}"))
    finished(lb.add_target(selector), "add_target")
    ip_target = LoadBalancerTarget(type="ip", ip=LoadBalancerTargetIP(ip="203.0.113.7"))
    finished(client.load_balancers.add_target(lb, ip_target), "add_target")
    targets = {t.type: t for t in client.load_balancers.get_by_id(lb.id).targets}
    assert set(targets) == {"server", "label_selector", "ip"}
    assert targets["label_selector"].label_selector.selector == selector.label_selector.selector
    assert [t.server.id for t in targets["label_selector"].targets] == [labelled.id]
    assert targets["ip"].ip.ip == "203.0.113.7"
    # an address outside the cloud is not probed
    assert [(h.listen_port, h.status) for h in targets["ip"].health_status] == [(80, "unknown")]
    assert api_error(lb.add_target, ip_target).code == "target_already_defined"
    # a cloud server's own address is not an IP target
    assert api_error(lb.add_target, LoadBalancerTarget(type="ip", ip=LoadBalancerTargetIP(ip=web.public_net.ipv4.ip))
                     ).code == "cloud_resource_ip_not_allowed"
    finished(lb.remove_target(ip_target), "remove_target")
    finished(client.load_balancers.remove_target(lb, selector), "remove_target")
    assert [t.type for t in client.load_balancers.get_by_id(lb.id).targets] == ["server"]
    assert api_error(lb.remove_target, ip_target).code == "invalid_input"

    finished(lb.change_algorithm(LoadBalancerAlgorithm(type="least_connections")), "change_algorithm")
    assert client.load_balancers.get_by_id(lb.id).algorithm.type == "least_connections"

    ip4 = lb.public_net.ipv4.ip
    finished(lb.change_dns_ptr(ip=ip4, dns_ptr="lb.example.com"), "change_dns_ptr")
    assert client.load_balancers.get_by_id(lb.id).public_net.ipv4.dns_ptr == "lb.example.com"
    assert api_error(lb.change_dns_ptr, ip="192.0.2.1", dns_ptr="x.example.com").code == "invalid_input"

    finished(lb.change_type(LoadBalancerType(name="lb21")), "change_load_balancer_type")
    assert client.load_balancers.get_by_id(lb.id).load_balancer_type.name == "lb21"
    # a type too small for what the load balancer has
    for port in range(9001, 9006):
        finished(lb.add_service(tcp_service(port)), "add_service")
    assert api_error(client.load_balancers.change_type, lb, LoadBalancerType(name="lb11")).code \
        == "invalid_load_balancer_type"

    finished(lb.change_protection(delete=True), "change_protection")
    assert client.load_balancers.get_by_id(lb.id).protection == {"delete": True}
    assert api_error(lb.delete).code == "protected"
    finished(client.load_balancers.change_protection(lb, delete=False), "change_protection")

    commands = [a.command for a in lb.get_actions(sort=["id:asc"])]
    assert commands[:3] == ["create_load_balancer", "add_service", "update_service"]
    assert commands[-2:] == ["change_protection", "change_protection"] and len(commands) == 18, commands
    page = client.load_balancers.get_actions_list(lb, sort=["id:asc"], page=2, per_page=10)
    assert [a.command for a in page.actions] == commands[10:] and page.meta.pagination.total_entries == 18
    assert all(a.status == "success" for a in client.load_balancers.get_actions(lb, status=["success"]))
    check_type_actions(client.load_balancers.actions, page.actions[-1], foreign=labelled.get_actions()[0])

    # metrics: every type the client knows, as the time series it parses
    end = datetime.now(timezone.utc)
    metrics = lb.get_metrics(type=["open_connections", "connections_per_second", "requests_per_second",
                                   "bandwidth"], start=end - timedelta(hours=1), end=end, step=60).metrics
    assert set(metrics.time_series) == {"open_connections", "connections_per_second", "requests_per_second",
                                        "bandwidth.in", "bandwidth.out"}
    assert metrics.step == 60 and metrics.start < metrics.end
    values = metrics.time_series["open_connections"]["values"]
    assert values and all(len(v) == 2 for v in values)
    only = client.load_balancers.get_metrics(lb, type="bandwidth", start=end - timedelta(minutes=10), end=end)
    assert set(only.metrics.time_series) == {"bandwidth.in", "bandwidth.out"}
    assert api_error(lb.get_metrics, type="cpu", start=end - timedelta(hours=1), end=end).code == "invalid_input"

    # DELETE answers an action (2.27 reads it; the document says 204)
    deleted = lb.delete()
    finished(deleted.action, "delete_load_balancer")
    assert api_error(client.load_balancers.get_by_id, lb.id).code == "not_found"


def test_load_balancer_in_a_network(client):
    net = client.networks.create(name=unique("lb-net"), ip_range="10.20.0.0/16", subnets=[
        NetworkSubnet(ip_range="10.20.1.0/24", network_zone="eu-central", type="cloud")])
    lb = create_lb(client, network_zone="eu-central")
    assert lb.location.network_zone == "eu-central"
    # the public interface goes only once a private network is there
    assert api_error(lb.disable_public_interface).code == "load_balancer_not_attached_to_network"
    assert api_error(lb.add_target, LoadBalancerTarget(type="server", server=new_server(client),
                                                       use_private_ip=True)).code \
        == "load_balancer_not_attached_to_network"

    finished(lb.attach_to_network(net, ip="10.20.1.5"), "attach_to_network")
    [pn] = client.load_balancers.get_by_id(lb.id).private_net
    assert (pn.network.id, pn.ip) == (net.id, "10.20.1.5")
    assert api_error(client.load_balancers.attach_to_network, lb, net).code == "load_balancer_already_attached"
    members = {(m.type, m.id): m for m in net.get_member_all()}
    assert members[("load_balancer", lb.id)].ip == "10.20.1.5"
    assert [m.id for m in client.networks.get_member_all(net, type=["load_balancer"])] == [lb.id]

    # a private target: the server must be in the network too
    inside = new_server(client, networks=[net])
    outside = new_server(client)
    assert api_error(lb.add_target, LoadBalancerTarget(type="server", server=outside, use_private_ip=True)).code \
        == "server_not_attached_to_network"
    finished(lb.add_target(LoadBalancerTarget(type="server", server=inside, use_private_ip=True)), "add_target")
    [t] = client.load_balancers.get_by_id(lb.id).targets
    assert (t.server.id, t.use_private_ip) == (inside.id, True)

    finished(client.load_balancers.disable_public_interface(lb), "disable_public_interface")
    assert client.load_balancers.get_by_id(lb.id).public_net.enabled is False
    assert api_error(lb.add_target, LoadBalancerTarget(type="server", server=outside, use_private_ip=False)).code \
        == "load_balancer_public_interface_disabled"
    finished(lb.enable_public_interface(), "enable_public_interface")
    assert client.load_balancers.get_by_id(lb.id).public_net.enabled is True

    finished(lb.remove_target(LoadBalancerTarget(type="server", server=inside)), "remove_target")
    finished(client.load_balancers.detach_from_network(lb, net), "detach_from_network")
    assert client.load_balancers.get_by_id(lb.id).private_net == []
    assert api_error(lb.detach_from_network, net).code == "load_balancer_not_attached_to_network"

    # created straight into a network, without a public interface
    private = create_lb(client, network=net, public_interface=False, location=Location(name="nbg1"))
    assert private.public_net.enabled is False and private.location.name == "nbg1"
    [pn] = private.private_net
    assert pn.network.id == net.id and ipaddress.ip_address(pn.ip) in ipaddress.ip_network("10.20.1.0/24")
    finished(private.delete().action, "delete_load_balancer")
    finished(client.load_balancers.delete(lb).action, "delete_load_balancer")
    net.delete()


def test_https_service_with_an_uploaded_certificate(client):
    pem, key = make_pem(["shop.example.com"])
    cert = client.certificates.create(name=unique("lb-cert"), certificate=pem, private_key=key)
    lb = create_lb(client, services=[http_service(listen_port=443, certificates=[cert], protocol="https")])
    [svc] = lb.services
    assert svc.protocol == "https" and [c.id for c in svc.http.certificates] == [cert.id]
    # a certificate cannot go while a load balancer uses it; an https service needs one
    assert api_error(cert.delete).code == "resource_in_use"
    err = api_error(lb.update_service, http_service(listen_port=443, certificates=[], protocol="https"))
    assert err.code == "invalid_input" and err.details["fields"][0]["name"] == "http.certificates", err.details
    pem2, key2 = make_pem(["shop.example.com", "www.shop.example.com"])
    renewed = client.certificates.create(name=unique("lb-cert2"), certificate=pem2, private_key=key2)
    finished(lb.update_service(http_service(listen_port=443, certificates=[renewed], protocol="https")),
             "update_service")
    assert [c.id for c in client.load_balancers.get_by_id(lb.id).services[0].http.certificates] == [renewed.id]
    assert cert.delete() is True
    finished(lb.delete().action, "delete_load_balancer")
    assert renewed.delete() is True


@pytest.mark.parametrize("kw,field", [
    ({"load_balancer_type": LoadBalancerType(name="lb99")}, "load_balancer_type"),
    ({"location": Location(name="nowhere")}, "location"),
    ({"algorithm": LoadBalancerAlgorithm(type="random")}, "algorithm"),
])
def test_load_balancer_create_errors(client, kw, field):
    err = api_error(create_lb, client, **kw)
    assert err.code == "invalid_input", err
    assert [f["name"].split(".")[0] for f in err.details["fields"]] == [field], err.details


def test_load_balancer_name_in_use_and_pagination(client):
    name = unique("lb-dup")
    create_lb(client, name=name)
    assert api_error(create_lb, client, name=name).code == "uniqueness_error"
    ids = [create_lb(client, labels={"batch": "lb-page"}).id for _ in range(3)]
    page = client.load_balancers.get_list(label_selector="batch=lb-page", page=2, per_page=2)
    p = page.meta.pagination
    assert (p.page, p.per_page, p.previous_page, p.next_page, p.last_page, p.total_entries) == (2, 2, 1, None, 2, 3)
    assert sorted(x.id for x in client.load_balancers.get_all(label_selector="batch=lb-page")) == sorted(ids)
    assert api_error(client.load_balancers.get_by_id, 987654321).code == "not_found"
