"""hcloud-python 2.27: networks (client.networks, BoundNetwork, members, servers in networks)."""

from __future__ import annotations

import ipaddress
from datetime import datetime

from conftest import api_error, check_type_actions, finished, new_server, unique
from hcloud.networks import BoundNetwork, NetworkMember, NetworkRoute, NetworkSubnet


def make_network(client, **kw):
    kw.setdefault("name", unique("net"))
    kw.setdefault("ip_range", "10.0.0.0/16")
    kw.setdefault("subnets", [NetworkSubnet(ip_range="10.0.1.0/24", network_zone="eu-central", type="cloud")])
    return client.networks.create(**kw)


def test_network_lifecycle(client):
    name = unique("net")
    net = make_network(client, name=name, routes=[NetworkRoute(destination="10.100.1.0/24", gateway="10.0.1.1")],
                       labels={"suite": "net"})
    assert isinstance(net, BoundNetwork)
    assert net.name == name and net.ip_range == "10.0.0.0/16" and net.labels == {"suite": "net"}
    assert [(s.type, s.ip_range, s.network_zone, s.gateway) for s in net.subnets] == \
        [("cloud", "10.0.1.0/24", "eu-central", "10.0.0.1")]
    assert [(r.destination, r.gateway) for r in net.routes] == [("10.100.1.0/24", "10.0.1.1")]
    assert net.servers == [] and net.expose_routes_to_vswitch is False
    assert net.protection == {"delete": False} and isinstance(net.created, datetime)

    assert client.networks.get_by_id(net.id).name == name
    assert client.networks.get_by_name(name).id == net.id
    assert client.networks.get_by_name(unique("no-such-net")) is None
    assert [n.id for n in client.networks.get_all(label_selector="suite=net")] == [net.id]
    assert [n.id for n in client.networks.get_all(name=name)] == [net.id]
    assert [n.id for n in client.networks.get_list(name=name, per_page=1).networks] == [net.id]

    new_name = unique("net-renamed")
    upd = net.update(name=new_name, labels={"suite": "net", "v": "2"}, expose_routes_to_vswitch=True)
    assert upd.name == new_name and upd.labels == {"suite": "net", "v": "2"} and upd.expose_routes_to_vswitch
    upd = client.networks.update(net, expose_routes_to_vswitch=False)
    assert upd.expose_routes_to_vswitch is False and upd.name == new_name

    # subnets: one given, one Hetzner picks; routes; the range
    finished(net.add_subnet(NetworkSubnet(ip_range="10.0.2.0/24", network_zone="eu-central", type="cloud")),
             "add_subnet")
    finished(client.networks.add_subnet(net, NetworkSubnet(ip_range=None, network_zone="eu-central", type="cloud")),
             "add_subnet")
    ranges = [s.ip_range for s in client.networks.get_by_id(net.id).subnets]
    assert ranges[:2] == ["10.0.1.0/24", "10.0.2.0/24"] and len(ranges) == 3, ranges
    picked = ipaddress.ip_network(ranges[2])
    assert picked.subnet_of(ipaddress.ip_network("10.0.0.0/16")) and str(picked) not in ranges[:2]
    err = api_error(net.add_subnet, NetworkSubnet(ip_range="10.0.2.0/25", network_zone="eu-central", type="cloud"))
    assert err.code == "invalid_input", err
    err = api_error(net.add_subnet, NetworkSubnet(ip_range="10.9.0.0/24", network_zone="eu-central", type="cloud"))
    assert err.code == "invalid_input", err
    finished(net.delete_subnet(NetworkSubnet(ip_range=ranges[2])), "delete_subnet")
    assert [s.ip_range for s in client.networks.get_by_id(net.id).subnets] == ranges[:2]

    finished(net.add_route(NetworkRoute(destination="10.100.2.0/24", gateway="10.0.2.1")), "add_route")
    finished(client.networks.delete_route(net, NetworkRoute(destination="10.100.1.0/24", gateway="10.0.1.1")),
             "delete_route")
    assert [(r.destination, r.gateway) for r in client.networks.get_by_id(net.id).routes] == \
        [("10.100.2.0/24", "10.0.2.1")]
    err = api_error(net.delete_route, NetworkRoute(destination="10.100.9.0/24", gateway="10.0.2.1"))
    assert err.code == "invalid_input" and err.details["fields"][0]["name"] == "destination", err

    finished(net.change_ip_range("10.0.0.0/15"), "change_ip_range")
    assert client.networks.get_by_id(net.id).ip_range == "10.0.0.0/15"
    # a smaller range must still hold the subnets
    assert api_error(client.networks.change_ip_range, net, "10.0.1.0/24").code == "invalid_input"

    finished(net.change_protection(delete=True), "change_protection")
    assert client.networks.get_by_id(net.id).protection == {"delete": True}
    assert api_error(net.delete).code == "protected"
    finished(client.networks.change_protection(net, delete=False), "change_protection")

    commands = [a.command for a in net.get_actions(sort=["id:asc"])]
    assert commands == ["add_subnet", "add_subnet", "delete_subnet", "add_route", "delete_route",
                        "change_ip_range", "change_protection", "change_protection"]
    page = client.networks.get_actions_list(net, sort=["id:asc"], page=2, per_page=5)
    assert [a.command for a in page.actions] == commands[5:] and page.meta.pagination.previous_page == 1
    assert all(a.status == "success" for a in client.networks.get_actions(net, status=["success"]))
    check_type_actions(client.networks.actions, page.actions[0])

    assert net.delete() is True
    assert api_error(client.networks.get_by_id, net.id).code == "not_found"


def test_servers_in_a_network(client):
    net = make_network(client)
    other_net = make_network(client, ip_range="10.1.0.0/16",
                             subnets=[NetworkSubnet(ip_range="10.1.0.0/24", network_zone="eu-central", type="cloud")])

    # created in the network: an address from its subnet
    a = new_server(client, networks=[net])
    [pn] = a.private_net
    assert pn.network.id == net.id and ipaddress.ip_address(pn.ip) in ipaddress.ip_network("10.0.1.0/24")
    assert pn.alias_ips == [] and pn.mac_address
    assert [s.id for s in client.networks.get_by_id(net.id).servers] == [a.id]

    # attached later with a chosen address and alias IPs
    b = new_server(client)
    assert b.private_net == []
    finished(b.attach_to_network(net, ip="10.0.1.50", alias_ips=["10.0.1.51", "10.0.1.52"]), "attach_to_network")
    [pn] = client.servers.get_by_id(b.id).private_net
    assert (pn.network.id, pn.ip, sorted(pn.alias_ips)) == (net.id, "10.0.1.50", ["10.0.1.51", "10.0.1.52"])
    assert api_error(b.attach_to_network, net).code == "server_already_attached"
    c = new_server(client)
    assert api_error(client.servers.attach_to_network, c, net, ip="10.0.1.50").code == "ip_not_available"
    assert api_error(c.attach_to_network, net, ip="10.0.1.51").code == "ip_not_available"
    finished(client.servers.attach_to_network(c, other_net, ip_range="10.1.0.0/24"), "attach_to_network")
    assert client.servers.get_by_id(c.id).private_net[0].network.id == other_net.id

    alias = finished(b.change_alias_ips(net, ["10.0.1.60"]), "change_alias_ips")
    # a server's network actions name the network too
    assert {r["type"] for r in alias.resources} == {"server", "network"}
    check_type_actions(client.networks.actions, alias, foreign=b.get_actions(sort=["id:asc"])[0])
    assert client.servers.get_by_id(b.id).private_net[0].alias_ips == ["10.0.1.60"]
    finished(client.servers.change_alias_ips(b, net, []), "change_alias_ips")
    assert client.servers.get_by_id(b.id).private_net[0].alias_ips == []
    assert api_error(c.change_alias_ips, net, ["10.0.1.70"]).code == "server_not_attached_to_network"

    # members: parsed strictly into NetworkMember (exactly its six keys)
    members = net.get_member_all()
    assert all(isinstance(m, NetworkMember) for m in members)
    assert sorted((m.id, m.type, m.ip) for m in members) == sorted([(a.id, "server", a.private_net[0].ip),
                                                                    (b.id, "server", "10.0.1.50")])
    assert {m.subnet for m in members} == {"10.0.1.0/24"} and {m.status for m in members} == {"ok"}
    assert client.networks.get_member_all(net, type=["load_balancer"]) == []
    ordered = client.networks.get_member_list(net, sort=["id:desc"], per_page=1)
    assert [m.id for m in ordered.members] == [max(a.id, b.id)] and ordered.meta.pagination.total_entries == 2
    assert sorted(m.id for m in client.networks.get_member_all(net, subnet=["10.0.1.0/24"], status=["ok"])) \
        == sorted([a.id, b.id])
    assert client.networks.get_member_all(net, subnet=["10.0.2.0/24"]) == []

    finished(b.detach_from_network(net), "detach_from_network")
    assert client.servers.get_by_id(b.id).private_net == []
    assert api_error(b.detach_from_network, net).code == "server_not_attached_to_network"
    finished(client.servers.detach_from_network(c, other_net), "detach_from_network")

    # a network goes with its servers still in it: they are detached
    assert net.delete() is True
    assert client.servers.get_by_id(a.id).private_net == []
    other_net.delete()


def test_network_errors_and_pagination(client):
    name = unique("net-dup")
    make_network(client, name=name)
    assert api_error(make_network, client, name=name).code == "uniqueness_error"
    err = api_error(make_network, client, ip_range="10.0.0.0/33")
    assert err.code == "invalid_input" and any(f["name"] == "ip_range" for f in err.details["fields"]), err.details
    # a subnet outside the network's range
    err = api_error(make_network, client, subnets=[NetworkSubnet(ip_range="192.168.0.0/24",
                                                                 network_zone="eu-central", type="cloud")])
    assert err.code == "invalid_input"

    ids = [make_network(client, labels={"batch": "net-page"}).id for _ in range(3)]
    page = client.networks.get_list(label_selector="batch=net-page", page=1, per_page=2)
    p = page.meta.pagination
    assert (p.page, p.per_page, p.previous_page, p.next_page, p.last_page, p.total_entries) == (1, 2, None, 2, 2, 3)
    assert sorted(n.id for n in client.networks.get_all(label_selector="batch=net-page")) == sorted(ids)
    assert api_error(client.networks.get_by_id, 987654321).code == "not_found"
