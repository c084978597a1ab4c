"""hcloud-python 2.27: placement groups (client.placement_groups, server create and actions)."""

from __future__ import annotations

from datetime import datetime

from conftest import api_error, finished, new_server, unique
from hcloud.placement_groups import BoundPlacementGroup


def test_placement_group_lifecycle(client):
    name = unique("pg")
    resp = client.placement_groups.create(name=name, type="spread", labels={"suite": "pg"})
    pg = resp.placement_group
    assert isinstance(pg, BoundPlacementGroup)
    assert pg.name == name and pg.type == "spread" and pg.labels == {"suite": "pg"}
    assert pg.servers == [] and isinstance(pg.created, datetime)
    # a placement group is made at once: no action to wait for (the client takes `null`)
    if resp.action is not None:
        finished(resp.action)

    assert client.placement_groups.get_by_id(pg.id).name == name
    assert client.placement_groups.get_by_name(name).id == pg.id
    assert client.placement_groups.get_by_name(unique("no-such-pg")) is None
    assert [g.id for g in client.placement_groups.get_all(label_selector="suite=pg")] == [pg.id]
    assert [g.id for g in client.placement_groups.get_all(name=name)] == [pg.id]
    assert [g.id for g in client.placement_groups.get_list(type="spread", name=name).placement_groups] == [pg.id]

    # a server created in the group, one added later (powered off, as Hetzner requires)
    a = new_server(client, placement_group=pg)
    assert a.placement_group.id == pg.id and a.placement_group.name == name
    assert a.placement_group.type == "spread"
    b = new_server(client)
    assert b.placement_group is None
    assert api_error(b.add_to_placement_group, pg).code == "server_not_stopped"
    finished(b.power_off(), "stop_server")
    finished(b.add_to_placement_group(pg), "add_to_placement_group")
    assert client.servers.get_by_id(b.id).placement_group.id == pg.id
    assert sorted(client.placement_groups.get_by_id(pg.id).servers) == sorted([a.id, b.id])
    assert api_error(client.servers.add_to_placement_group, b, pg).code == "invalid_input"
    assert api_error(pg.delete).code == "resource_in_use"

    finished(client.servers.remove_from_placement_group(b), "remove_from_placement_group")
    assert client.servers.get_by_id(b.id).placement_group is None
    assert client.placement_groups.get_by_id(pg.id).servers == [a.id]
    assert api_error(b.remove_from_placement_group).code == "invalid_input"

    new_name = unique("pg-renamed")
    upd = pg.update(name=new_name, labels={"suite": "pg", "v": "2"})
    assert upd.name == new_name and upd.labels == {"suite": "pg", "v": "2"}
    upd = client.placement_groups.update(pg, labels={"suite": "pg"})
    assert upd.labels == {"suite": "pg"} and upd.name == new_name

    # deleting the last member frees the group
    finished(a.delete(), "delete_server")
    assert client.placement_groups.get_by_id(pg.id).servers == []
    assert pg.delete() is True
    assert api_error(client.placement_groups.get_by_id, pg.id).code == "not_found"


def test_placement_group_errors_and_pagination(client):
    name = unique("pg-dup")
    client.placement_groups.create(name=name, type="spread")
    assert api_error(client.placement_groups.create, name=name, type="spread").code == "uniqueness_error"
    err = api_error(client.placement_groups.create, name=unique("pg-bad"), type="cluster")
    assert err.code == "invalid_input" and any(f["name"] == "type" for f in err.details["fields"]), err.details

    ids = [client.placement_groups.create(name=unique(f"pg-page{i}"), type="spread",
                                          labels={"batch": "pg-page"}).placement_group.id for i in range(3)]
    page = client.placement_groups.get_list(label_selector="batch=pg-page", page=2, per_page=2, sort=["id:asc"])
    p = page.meta.pagination
    assert [g.id for g in page.placement_groups] == ids[2:]
    assert (p.page, p.per_page, p.previous_page, p.next_page, p.last_page, p.total_entries) == (2, 2, 1, None, 2, 3)
    assert [g.id for g in client.placement_groups.get_all(label_selector="batch=pg-page", sort=["id:desc"])] \
        == ids[::-1]
    for i in ids:
        client.placement_groups.delete(client.placement_groups.get_by_id(i))
    assert client.placement_groups.get_all(label_selector="batch=pg-page") == []
