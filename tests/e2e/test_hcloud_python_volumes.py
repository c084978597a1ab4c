"""hcloud-python 2.27: volumes (client.volumes, BoundVolume, servers created with volumes)."""

from __future__ import annotations

from datetime import datetime

from conftest import api_error, check_type_actions, finished, new_server, unique
from hcloud.images import Image
from hcloud.locations import Location
from hcloud.server_types import ServerType
from hcloud.volumes import BoundVolume


def test_volume_lifecycle(client):
    name = unique("vol")
    resp = client.volumes.create(size=10, name=name, location=Location(name="fsn1"),
                                 labels={"suite": "vol", "n": "1"}, format="ext4")
    vol = resp.volume
    assert isinstance(vol, BoundVolume)
    assert vol.name == name and vol.size == 10 and vol.format == "ext4"
    assert vol.location.name == "fsn1" and vol.server is None
    assert vol.labels == {"suite": "vol", "n": "1"} and vol.protection == {"delete": False}
    # Hetzner shows linux_device also while the volume is detached.
    assert isinstance(vol.created, datetime) and vol.linux_device == f"/dev/disk/by-id/scsi-0HC_Volume_{vol.id}"
    assert resp.action.command == "create_volume" and resp.next_actions == []
    finished(resp.action, "create_volume")

    got = client.volumes.get_by_id(vol.id)
    assert got.status == "available" and got.name == name
    assert client.volumes.get_by_name(name).id == vol.id
    assert client.volumes.get_by_name(unique("no-such-volume")) is None
    assert [v.id for v in client.volumes.get_all(label_selector="suite=vol,n=1")] == [vol.id]
    assert vol.id in [v.id for v in client.volumes.get_all(status=["available"])]
    assert vol.id not in [v.id for v in client.volumes.get_all(status=["creating"])]
    assert [v.id for v in client.volumes.get_list(name=name).volumes] == [vol.id]

    new_name = unique("vol-renamed")
    upd = vol.update(name=new_name, labels={"suite": "vol", "n": "2"})
    assert upd.name == new_name and upd.labels == {"suite": "vol", "n": "2"}
    assert client.volumes.get_by_id(vol.id).name == new_name
    upd = client.volumes.update(vol, labels={"suite": "vol"})
    assert upd.labels == {"suite": "vol"} and upd.name == new_name

    # attach, resize while attached, detach
    server = new_server(client, location="fsn1")
    finished(vol.attach(server, automount=False), "attach_volume")
    got = client.volumes.get_by_id(vol.id)
    assert got.server.id == server.id and got.linux_device == f"/dev/disk/by-id/scsi-0HC_Volume_{vol.id}"
    assert [v.id for v in client.servers.get_by_id(server.id).volumes] == [vol.id]

    finished(vol.resize(20), "resize_volume")
    # reload() re-reads the volume in place
    assert vol.size == 10
    vol.reload()
    assert vol.size == 20 and vol.server.id == server.id
    err = api_error(vol.resize, 15)
    assert err.code == "invalid_input"
    assert any(f["name"] == "size" for f in err.details["fields"]), err.details

    other = new_server(client, location="fsn1")
    assert api_error(vol.attach, other).code == "volume_already_attached"
    assert api_error(vol.delete).code == "resource_in_use"

    finished(client.volumes.detach(vol), "detach_volume")
    assert client.volumes.get_by_id(vol.id).server is None
    assert client.servers.get_by_id(server.id).volumes == []
    # a server in another location cannot take it
    far = new_server(client, location="hel1")
    assert api_error(vol.attach, far).code == "invalid_input"
    finished(client.volumes.attach(vol, other, automount=True), "attach_volume")
    assert client.volumes.get_by_id(vol.id).server.id == other.id
    finished(vol.detach(), "detach_volume")

    # protection
    finished(vol.change_protection(delete=True), "change_protection")
    assert client.volumes.get_by_id(vol.id).protection == {"delete": True}
    assert api_error(vol.delete).code == "protected"
    finished(client.volumes.change_protection(vol, delete=False), "change_protection")
    assert client.volumes.get_by_id(vol.id).protection == {"delete": False}

    # the volume's actions, through both clients, filtered and paged
    commands = [a.command for a in vol.get_actions(sort=["id:asc"])]
    assert commands == ["create_volume", "attach_volume", "resize_volume", "detach_volume", "attach_volume",
                        "detach_volume", "change_protection", "change_protection"]
    assert all(a.status == "success" for a in client.volumes.get_actions(vol, status=["success"]))
    assert client.volumes.get_actions(vol, status=["running"]) == []
    page = vol.get_actions_list(sort=["id:desc"], page=2, per_page=3)
    assert [a.command for a in page.actions] == ["attach_volume", "detach_volume", "resize_volume"]
    p = page.meta.pagination
    assert (p.page, p.per_page, p.previous_page, p.next_page, p.last_page, p.total_entries) == (2, 3, 1, 3, 3, 8)
    assert client.volumes.get_actions_list(vol, per_page=50).meta.pagination.total_entries == 8
    check_type_actions(client.volumes.actions, page.actions[-1], foreign=server.get_actions(sort=["id:asc"])[0])

    assert vol.delete() is True
    assert api_error(client.volumes.get_by_id, vol.id).code == "not_found"


def test_volume_created_attached_to_a_server(client):
    server = new_server(client, location="nbg1")
    resp = client.volumes.create(size=12, name=unique("vol-at"), server=server, automount=True, format="xfs")
    # the location comes from the server; the attach runs as a next action
    assert resp.volume.location.name == "nbg1"
    assert [a.command for a in resp.next_actions] == ["attach_volume"]
    finished(resp.action, "create_volume")
    finished(resp.next_actions[0], "attach_volume")
    vol = client.volumes.get_by_id(resp.volume.id)
    assert vol.server.id == server.id and vol.format == "xfs" and vol.size == 12
    # a server's delete detaches its volumes; the volume stays
    finished(server.delete(), "delete_server")
    assert client.volumes.get_by_id(vol.id).server is None
    client.volumes.delete(vol)


def test_server_created_with_volumes(client):
    vols = [client.volumes.create(size=10, name=unique("vol-srv"), location=Location(name="hel1")) for _ in range(2)]
    for r in vols:
        finished(r.action, "create_volume")
    resp = client.servers.create(name=unique("srv-vols"), server_type=ServerType(name="cx22"),
                                 image=Image(name="ubuntu-24.04"), location=Location(name="hel1"),
                                 volumes=[r.volume for r in vols], automount=True)
    finished(resp.action, "create_server")
    for a in resp.next_actions:
        finished(a)
    server = client.servers.get_by_id(resp.server.id)
    assert sorted(v.id for v in server.volumes) == sorted(r.volume.id for r in vols)
    for r in vols:
        assert client.volumes.get_by_id(r.volume.id).server.id == server.id


def test_volume_errors_and_pagination(client):
    name = unique("vol-dup")
    finished(client.volumes.create(size=10, name=name, location=Location(name="fsn1")).action)
    assert api_error(client.volumes.create, size=10, name=name, location=Location(name="fsn1")).code \
        == "uniqueness_error"
    err = api_error(client.volumes.create, size=1, name=unique("vol-small"), location=Location(name="fsn1"))
    assert err.code == "invalid_input" and any(f["name"] == "size" for f in err.details["fields"])
    err = api_error(client.volumes.create, size=10, name=unique("vol-fmt"), location=Location(name="fsn1"),
                    format="ntfs")
    assert err.code == "invalid_input" and any(f["name"] == "format" for f in err.details["fields"])
    assert api_error(client.volumes.get_by_id, 987654321).code == "not_found"

    ids = set()
    for i in range(5):
        r = client.volumes.create(size=10, name=unique(f"vol-page{i}"), location=Location(name="fsn1"),
                                  labels={"batch": "vol-page"})
        ids.add(r.volume.id)
    first = client.volumes.get_list(label_selector="batch=vol-page", page=1, per_page=2)
    p = first.meta.pagination
    assert len(first.volumes) == 2
    assert (p.page, p.per_page, p.previous_page, p.next_page, p.last_page, p.total_entries) == (1, 2, None, 2, 3, 5)
    last = client.volumes.get_list(label_selector="batch=vol-page", page=3, per_page=2)
    assert len(last.volumes) == 1 and last.meta.pagination.next_page is None
    assert {v.id for v in client.volumes.get_all(label_selector="batch=vol-page")} == ids
    assert client.volumes.get_all(label_selector="batch=vol-page,batch!=vol-page") == []
