"""hcloud-python 2.27: primary IPs (client.primary_ips, BoundPrimaryIP, servers' public_net)."""

from __future__ import annotations

import ipaddress
from datetime import datetime

from conftest import api_error, check_type_actions, finished, new_server, unique
from hcloud.locations import Location
from hcloud.primary_ips import BoundPrimaryIP
from hcloud.servers import ServerCreatePublicNetwork


def create_ip(client, kind="ipv4", location="fsn1", **kw):
    resp = client.primary_ips.create(type=kind, name=kw.pop("name", unique("pip")),
                                     location=Location(name=location), **kw)
    # an unassigned primary IP is made at once (the client takes a `null` action)
    if resp.action is not None:
        finished(resp.action)
    return resp.primary_ip


def test_primary_ip_lifecycle(client):
    name = unique("pip4")
    ip4 = create_ip(client, name=name, labels={"suite": "pip", "fam": "4"})
    assert isinstance(ip4, BoundPrimaryIP)
    assert ip4.name == name and ip4.type == "ipv4" and ipaddress.ip_address(ip4.ip).version == 4
    assert ip4.location.name == "fsn1" and ip4.assignee_id is None
    assert ip4.auto_delete is False and ip4.blocked is False and ip4.protection == {"delete": False}
    assert ip4.labels == {"suite": "pip", "fam": "4"} and isinstance(ip4.created, datetime)
    assert ip4.dns_ptr == [] or all({"ip", "dns_ptr"} <= set(d) for d in ip4.dns_ptr), ip4.dns_ptr

    ip6 = create_ip(client, kind="ipv6", labels={"suite": "pip", "fam": "6"})
    net6 = ipaddress.ip_network(ip6.ip)  # Hetzner shows an IPv6 primary IP as its /64
    assert ip6.type == "ipv6" and net6.prefixlen == 64

    assert client.primary_ips.get_by_id(ip4.id).ip == ip4.ip
    assert client.primary_ips.get_by_name(name).id == ip4.id
    assert client.primary_ips.get_by_name(unique("no-such-pip")) is None
    assert {p.id for p in client.primary_ips.get_all(label_selector="suite=pip")} == {ip4.id, ip6.id}
    assert [p.id for p in client.primary_ips.get_all(label_selector="suite=pip,fam=6")] == [ip6.id]
    assert [p.id for p in client.primary_ips.get_all(name=name)] == [ip4.id]
    assert [p.id for p in client.primary_ips.get_list(ip=ip4.ip).primary_ips] == [ip4.id]
    page = client.primary_ips.get_list(label_selector="suite=pip", page=1, per_page=1)
    assert len(page.primary_ips) == 1 and page.meta.pagination.total_entries == 2
    assert page.meta.pagination.next_page == 2

    new_name = unique("pip4-renamed")
    upd = ip4.update(name=new_name, labels={"suite": "pip", "fam": "4", "v": "2"}, auto_delete=True)
    assert upd.name == new_name and upd.auto_delete is True and upd.labels["v"] == "2"
    upd = client.primary_ips.update(ip4, auto_delete=False)
    assert upd.auto_delete is False and upd.name == new_name

    finished(ip4.change_dns_ptr(ip=ip4.ip, dns_ptr="pip.example.com"), "change_dns_ptr")
    assert {"ip": ip4.ip, "dns_ptr": "pip.example.com"} in client.primary_ips.get_by_id(ip4.id).dns_ptr
    host6 = str(net6.network_address + 1)
    finished(client.primary_ips.change_dns_ptr(ip6, ip=host6, dns_ptr="six.example.com"), "change_dns_ptr")
    assert {"ip": host6, "dns_ptr": "six.example.com"} in client.primary_ips.get_by_id(ip6.id).dns_ptr
    finished(ip4.change_dns_ptr(ip=ip4.ip, dns_ptr=None), "change_dns_ptr")
    assert {"ip": ip4.ip, "dns_ptr": "pip.example.com"} not in client.primary_ips.get_by_id(ip4.id).dns_ptr
    assert api_error(ip4.change_dns_ptr, ip="192.0.2.1", dns_ptr="x.example.com").code == "invalid_input"

    finished(ip4.change_protection(delete=True), "change_protection")
    assert client.primary_ips.get_by_id(ip4.id).protection == {"delete": True}
    assert api_error(ip4.delete).code == "protected"
    finished(client.primary_ips.change_protection(ip4, delete=False), "change_protection")

    assert [a.command for a in ip4.get_actions(sort=["id:asc"])] == \
        ["change_dns_ptr", "change_dns_ptr", "change_protection", "change_protection"]
    assert client.primary_ips.get_actions_list(ip4, per_page=2).meta.pagination.last_page == 2
    assert [a.command for a in client.primary_ips.get_actions(ip6, status=["success"])] == ["change_dns_ptr"]

    assert ip4.delete() is True and client.primary_ips.delete(ip6) is True
    assert api_error(client.primary_ips.get_by_id, ip4.id).code == "not_found"


def test_server_with_primary_ips(client):
    ip4 = create_ip(client)
    # a server made with this IPv4 address and no IPv6 at all
    server = new_server(client, public_net=ServerCreatePublicNetwork(ipv4=ip4, enable_ipv6=False))
    assert server.public_net.ipv4.ip == ip4.ip and server.public_net.primary_ipv4.id == ip4.id
    assert server.public_net.ipv6 is None and server.public_net.primary_ipv6 is None
    got = client.primary_ips.get_by_id(ip4.id)
    assert (got.assignee_id, got.assignee_type) == (server.id, "server")
    assert api_error(got.delete).code == "server_not_stopped"

    # assign an IPv6 address later: the server must be off
    ip6 = create_ip(client, kind="ipv6")
    assert api_error(ip6.assign, server.id, "server").code == "server_not_stopped"
    stopped = finished(server.power_off(), "stop_server")
    assigned = finished(ip6.assign(assignee_id=server.id, assignee_type="server"), "assign_primary_ip")
    check_type_actions(client.primary_ips.actions, assigned, foreign=stopped)
    got = client.servers.get_by_id(server.id)
    assert got.public_net.primary_ipv6.id == ip6.id and got.public_net.ipv6.ip == ip6.ip

    # one address per family; an IP is assigned once; and only in its own location
    other4 = create_ip(client)
    assert api_error(other4.assign, server.id, "server").code == "server_has_ipv4"
    second = new_server(client)
    finished(second.power_off(), "stop_server")
    assert api_error(client.primary_ips.assign, ip4, second.id, "server").code == "primary_ip_already_assigned"
    own4 = second.public_net.primary_ipv4
    finished(client.primary_ips.unassign(own4), "unassign_primary_ip")
    assert client.primary_ips.get_by_id(own4.id).assignee_id is None
    assert client.servers.get_by_id(second.id).public_net.ipv4 is None
    far = create_ip(client, location="hel1")
    assert api_error(far.assign, second.id, "server").code == "primary_ip_datacenter_mismatch"
    finished(other4.assign(second.id, "server"), "assign_primary_ip")
    assert client.servers.get_by_id(second.id).public_net.primary_ipv4.id == other4.id

    # deleting a server takes its auto_delete IPs with it and leaves the others unassigned
    finished(ip6.unassign(), "unassign_primary_ip")
    assert client.primary_ips.get_by_id(ip6.id).assignee_id is None
    ip4.update(auto_delete=True)
    finished(server.delete(), "delete_server")
    assert api_error(client.primary_ips.get_by_id, ip4.id).code == "not_found"
    finished(second.delete(), "delete_server")
    assert client.primary_ips.get_by_id(other4.id).assignee_id is None


def test_primary_ip_created_assigned_and_errors(client):
    server = new_server(client)
    finished(server.power_off(), "stop_server")
    own6 = server.public_net.primary_ipv6
    finished(own6.unassign(), "unassign_primary_ip")
    resp = client.primary_ips.create(type="ipv6", name=unique("pip-at"), assignee_id=server.id,
                                     assignee_type="server")
    # created onto a server: the assign runs as the create's action
    finished(resp.action, "assign_primary_ip")
    assert resp.primary_ip.location.name == "fsn1"
    assert client.primary_ips.get_by_id(resp.primary_ip.id).assignee_id == server.id

    name = unique("pip-dup")
    create_ip(client, name=name)
    assert api_error(client.primary_ips.create, type="ipv4", name=name, location=Location(name="fsn1")).code \
        == "uniqueness_error"
    err = api_error(client.primary_ips.create, type="ipv5", name=unique("pip-bad"), location=Location(name="fsn1"))
    assert err.code == "invalid_input"
    assert api_error(client.primary_ips.create, type="ipv4", name=unique("pip-nowhere")).code == "invalid_input"
