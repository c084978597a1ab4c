"""hcloud-python 2.27: firewalls (client.firewalls, BoundFirewall, servers' public_net.firewalls)."""

from __future__ import annotations

from datetime import datetime

from conftest import api_error, check_type_actions, finished, new_server, unique
from hcloud.firewalls import (
    BoundFirewall,
    FirewallResource,
    FirewallResourceLabelSelector,
    FirewallRule,
)

SSH = FirewallRule(direction="in", protocol="tcp", port="22", source_ips=["0.0.0.0/0", "::/0"],
                   description="ssh")
DNS_OUT = FirewallRule(direction="out", protocol="udp", port="53", destination_ips=["198.51.100.0/24"])
PING = FirewallRule(direction="in", protocol="icmp", source_ips=["10.0.0.0/8"])
WEB = FirewallRule(direction="in", protocol="tcp", port="8000-8080", source_ips=["192.0.2.0/24"],
                   description="web")


def as_tuples(rules):
    return [(r.direction, r.protocol, r.port, r.source_ips, r.destination_ips, r.description) for r in rules]


def wait_all(actions, command):
    assert actions, "the client reads these actions by index: never empty"
    for a in actions:
        finished(a, command)


def test_firewall_lifecycle(client):
    server = new_server(client)
    name = unique("fw")
    resp = client.firewalls.create(name=name, rules=[SSH, DNS_OUT, PING], labels={"suite": "fw"},
                                   resources=[FirewallResource(type="server", server=server)])
    fw = resp.firewall
    assert isinstance(fw, BoundFirewall)
    wait_all(resp.actions, "apply_firewall")
    assert fw.name == name and fw.labels == {"suite": "fw"} and isinstance(fw.created, datetime)
    # every rule comes back exactly as sent, in order, all six keys (null where unset)
    assert as_tuples(fw.rules) == [
        ("in", "tcp", "22", ["0.0.0.0/0", "::/0"], [], "ssh"),
        ("out", "udp", "53", [], ["198.51.100.0/24"], None),
        ("in", "icmp", None, ["10.0.0.0/8"], [], None),
    ]
    [applied] = client.firewalls.get_by_id(fw.id).applied_to
    assert applied.type == "server" and applied.server.id == server.id
    [on_server] = client.servers.get_by_id(server.id).public_net.firewalls
    assert on_server.firewall.id == fw.id and on_server.status == "applied"

    assert client.firewalls.get_by_name(name).id == fw.id
    assert client.firewalls.get_by_name(unique("no-such-fw")) is None
    assert [f.id for f in client.firewalls.get_all(label_selector="suite=fw")] == [fw.id]
    assert [f.id for f in client.firewalls.get_all(name=name, sort=["name:asc"])] == [fw.id]
    assert [f.id for f in client.firewalls.get_list(name=name, per_page=1).firewalls] == [fw.id]

    new_name = unique("fw-renamed")
    upd = fw.update(name=new_name, labels={"suite": "fw", "v": "2"})
    assert upd.name == new_name and upd.labels == {"suite": "fw", "v": "2"}
    assert client.firewalls.update(fw, labels={"suite": "fw"}).labels == {"suite": "fw"}

    # set_rules replaces the list; the firewall shows the new rules at once (Ansible re-reads
    # without waiting)
    actions = fw.set_rules([WEB, SSH])
    assert as_tuples(client.firewalls.get_by_id(fw.id).rules) == [
        ("in", "tcp", "8000-8080", ["192.0.2.0/24"], [], "web"),
        ("in", "tcp", "22", ["0.0.0.0/0", "::/0"], [], "ssh"),
    ]
    wait_all(actions, "set_firewall_rules")
    wait_all(client.firewalls.set_rules(fw, []), "set_firewall_rules")
    assert client.firewalls.get_by_id(fw.id).rules == []

    # applied through a label selector as well: the matching servers show under it
    labelled = new_server(client, labels={"fw": "web"})
    selector = FirewallResource(type="label_selector", label_selector=FirewallResourceLabelSelector("fw=web"))
    wait_all(fw.apply_to_resources([selector]), "apply_firewall")
    by_type = {a.type: a for a in client.firewalls.get_by_id(fw.id).applied_to}
    assert set(by_type) == {"server", "label_selector"}
    assert by_type["label_selector"].label_selector.selector == "fw=web"
    [res] = by_type["label_selector"].applied_to_resources
    assert res.type == "server" and res.server.id == labelled.id
    assert [f.firewall.id for f in client.servers.get_by_id(labelled.id).public_net.firewalls] == [fw.id]

    # error paths: applied twice, removing what is not applied, one server of a selector
    assert api_error(fw.apply_to_resources, [FirewallResource(type="server", server=server)]).code \
        == "firewall_already_applied"
    assert api_error(fw.remove_from_resources, [FirewallResource(type="server", server=labelled)]).code \
        == "firewall_managed_by_label_selector"
    stranger = new_server(client)
    assert api_error(client.firewalls.remove_from_resources, fw,
                     [FirewallResource(type="server", server=stranger)]).code == "firewall_resource_not_found"
    assert api_error(fw.delete).code == "resource_in_use"

    wait_all(client.firewalls.remove_from_resources(fw, [selector]), "remove_firewall")
    assert client.servers.get_by_id(labelled.id).public_net.firewalls == []
    wait_all(fw.remove_from_resources([FirewallResource(type="server", server=server)]), "remove_firewall")
    assert client.firewalls.get_by_id(fw.id).applied_to == []
    assert client.servers.get_by_id(server.id).public_net.firewalls == []

    commands = [a.command for a in fw.get_actions(sort=["id:asc"])]
    assert commands == ["apply_firewall", "set_firewall_rules", "set_firewall_rules", "apply_firewall",
                        "remove_firewall", "remove_firewall"]
    page = client.firewalls.get_actions_list(fw, sort=["id:asc"], page=2, per_page=4)
    assert [a.command for a in page.actions] == commands[4:] and page.meta.pagination.total_entries == 6
    assert all(a.status == "success" for a in client.firewalls.get_actions(fw, status=["success"]))
    check_type_actions(client.firewalls.actions, page.actions[-1], foreign=stranger.get_actions()[0])

    assert fw.delete() is True
    assert api_error(client.firewalls.get_by_id, fw.id).code == "not_found"


def test_server_created_with_a_firewall(client):
    fw = client.firewalls.create(name=unique("fw-srv"), rules=[SSH]).firewall
    server = new_server(client, firewalls=[fw])
    [on_server] = server.public_net.firewalls
    assert on_server.firewall.id == fw.id and on_server.status == "applied"
    [applied] = client.firewalls.get_by_id(fw.id).applied_to
    assert applied.server.id == server.id
    # deleting the server frees the firewall
    finished(server.delete(), "delete_server")
    assert client.firewalls.get_by_id(fw.id).applied_to == []
    assert client.firewalls.delete(fw) is True


def test_firewall_errors_and_pagination(client):
    name = unique("fw-dup")
    client.firewalls.create(name=name)
    assert api_error(client.firewalls.create, name=name).code == "uniqueness_error"
    for bad in (FirewallRule(direction="in", protocol="icmp", port="22", source_ips=["0.0.0.0/0"]),
                FirewallRule(direction="in", protocol="tcp", port="22", source_ips=["not-a-cidr"]),
                FirewallRule(direction="in", protocol="tcp", source_ips=["0.0.0.0/0"]),
                FirewallRule(direction="sideways", protocol="tcp", port="22", source_ips=["0.0.0.0/0"])):
        err = api_error(client.firewalls.create, name=unique("fw-bad"), rules=[bad])
        assert err.code == "invalid_input", (as_tuples([bad]), err)
    assert client.firewalls.get_by_name(unique("fw-bad")) is None

    ids = [client.firewalls.create(name=unique(f"fw-page{i}"), labels={"batch": "fw-page"}).firewall.id
           for i in range(3)]
    page = client.firewalls.get_list(label_selector="batch=fw-page", page=2, per_page=2, sort=["id:asc"])
    p = page.meta.pagination
    assert [f.id for f in page.firewalls] == ids[2:]
    assert (p.page, p.per_page, p.previous_page, p.next_page, p.last_page, p.total_entries) == (2, 2, 1, None, 2, 3)
    assert [f.id for f in client.firewalls.get_all(label_selector="batch=fw-page", sort=["id:desc"])] == ids[::-1]
    assert api_error(client.firewalls.get_by_id, 987654321).code == "not_found"
