"""hcloud-python (the official `hcloud` package) against Stratus.

Run with the venv's pytest:  .venv/bin/pytest -q tests/e2e/test_hcloud_python.py
The fixtures (conftest.py) start `target/release/stratus serve` on free loopback ports.
"""

from __future__ import annotations

import base64
import hashlib
import time
import warnings
from datetime import datetime, timedelta, timezone

import pytest
import requests
from conftest import make_client, unique
from hcloud import APIException, Client
from hcloud.actions import ActionFailedException
from hcloud.images import Image
from hcloud.isos import Iso
from hcloud.locations import Location
from hcloud.server_types import ServerType

SYSTEM_IMAGES = ["ubuntu-22.04", "ubuntu-24.04", "debian-11", "debian-12", "fedora-41",
                 "rocky-9", "alma-9", "centos-stream-9"]
SERVER_TYPES = ["cx22", "cx32", "cx42", "cx52", "cpx11", "cpx21", "cpx31", "cpx41", "cpx51"]
LOCATIONS = ["fsn1", "nbg1", "hel1", "ash", "hil", "sin"]
DATACENTERS = ["fsn1-dc14", "nbg1-dc3", "hel1-dc2", "ash-dc1", "hil-dc1", "sin-dc1"]
PAGINATION_KEYS = {"page", "per_page", "previous_page", "next_page", "last_page", "total_entries"}


def md5_fingerprint(public_key: str) -> str:
    blob = base64.b64decode(public_key.split()[1])
    digest = hashlib.md5(blob).hexdigest()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def api_error(excinfo) -> APIException:
    return excinfo.value


def create_server(client: Client, name: str | None = None, wait: bool = True, **kw):
    kw.setdefault("server_type", ServerType(name="cx22"))
    kw.setdefault("image", Image(name="ubuntu-24.04"))
    resp = client.servers.create(name=name or unique("py"), **kw)
    if wait:
        resp.action.wait_until_finished()
        for a in resp.next_actions:
            a.wait_until_finished()
    return resp


def finished(action, command: str | None = None):
    """Wait for a BoundAction, assert success and (optionally) its command."""
    action.wait_until_finished()
    assert action.status == "success", (action.command, action.status, action.error)
    if command is not None:
        assert action.command == command
    assert action.progress == 100
    assert action.finished is not None
    return action


def resource_ids(action, kind: str) -> list[int]:
    return [r["id"] for r in (action.resources or []) if r["type"] == kind]


# --------------------------------------------------------------------------------------------
# catalogue
# --------------------------------------------------------------------------------------------
def test_server_types(client):
    types = client.server_types.get_all()
    names = [t.name for t in types]
    for n in SERVER_TYPES:
        assert n in names
    cx22 = client.server_types.get_by_name("cx22")
    assert cx22 is not None and cx22.name == "cx22"
    assert cx22.cores >= 1 and cx22.memory > 0 and cx22.disk > 0
    assert cx22.architecture == "x86"
    assert cx22.prices and {"location", "price_hourly", "price_monthly"} <= set(cx22.prices[0])
    assert client.server_types.get_by_id(cx22.id).name == "cx22"
    assert client.server_types.get_by_name("no-such-type") is None


def test_locations_and_datacenters(client):
    names = [loc.name for loc in client.locations.get_all()]
    for n in LOCATIONS:
        assert n in names
    fsn1 = client.locations.get_by_name("fsn1")
    assert fsn1.name == "fsn1" and fsn1.network_zone and fsn1.country
    assert client.locations.get_by_id(fsn1.id).name == "fsn1"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dcs = client.datacenters.get_all()
        dc_names = [d.name for d in dcs]
        for n in DATACENTERS:
            assert n in dc_names
        dc = client.datacenters.get_by_name("fsn1-dc14")
        assert dc.location.name == "fsn1"
        assert dc.server_types.available, "datacenter lists no available server types"
        assert client.datacenters.get_by_id(dc.id).name == "fsn1-dc14"


def test_images_catalogue(client):
    system = client.images.get_all(type=["system"])
    names = [i.name for i in system]
    for n in SYSTEM_IMAGES:
        assert n in names
    assert all(i.type == "system" for i in system)
    img = client.images.get_by_name_and_architecture("ubuntu-24.04", "x86")
    assert img is not None and img.type == "system" and img.os_flavor == "ubuntu"
    assert img.status == "available" and img.architecture == "x86"
    assert client.images.get_by_id(img.id).name == "ubuntu-24.04"
    sorted_imgs = client.images.get_all(type=["system"], sort=["name:asc"])
    assert [i.name for i in sorted_imgs] == sorted(i.name for i in sorted_imgs)


def test_isos(client):
    isos = client.isos.get_all()
    assert "virtio-win-0.1.248.iso" in [i.name for i in isos]
    iso = client.isos.get_by_name("virtio-win-0.1.248.iso")
    assert iso is not None and iso.name == "virtio-win-0.1.248.iso"
    assert client.isos.get_by_id(iso.id).name == iso.name


def test_pricing(client):
    # hcloud-python 2.x dropped its pricing client; use its raw request helper.
    pricing = client.request("GET", "/pricing")["pricing"]
    assert pricing["currency"]
    assert "vat_rate" in pricing
    st = {p["name"]: p for p in pricing["server_types"]}
    for n in SERVER_TYPES:
        assert n in st, f"no price for {n}"
    price = st["cx22"]["prices"][0]
    assert {"location", "price_hourly", "price_monthly"} <= set(price)
    assert {"net", "gross"} <= set(price["price_hourly"])
    # Every key today's document requires; `traffic` is gone from it (traffic is priced
    # per server type and load balancer type now).
    for key in ("image", "floating_ip", "floating_ips", "primary_ips", "server_backup", "volume", "load_balancer_types"):
        assert key in pricing, f"pricing lacks {key}"
    assert "traffic" not in pricing


# --------------------------------------------------------------------------------------------
# ssh keys
# --------------------------------------------------------------------------------------------
def test_ssh_key_crud_and_fingerprint(client, keygen):
    for kind in ("ed25519", "rsa", "ecdsa"):
        pub = keygen(kind)
        key = client.ssh_keys.create(name=unique(f"key-{kind}"), public_key=pub, labels={"kind": kind})
        assert key.fingerprint == md5_fingerprint(pub), kind
        assert key.public_key.split()[:2] == pub.split()[:2]
        assert key.labels == {"kind": kind}
        assert client.ssh_keys.get_by_fingerprint(key.fingerprint).id == key.id
        assert client.ssh_keys.get_by_name(key.name).id == key.id
        new_name = unique("renamed")
        updated = client.ssh_keys.update(key, name=new_name, labels={"kind": kind, "x": "y"})
        assert updated.name == new_name and updated.labels == {"kind": kind, "x": "y"}
        assert client.ssh_keys.get_by_id(key.id).name == new_name
        assert client.ssh_keys.delete(key) is True
        with pytest.raises(APIException) as e:
            client.ssh_keys.get_by_id(key.id)
        assert e.value.code == "not_found"


def test_ssh_key_invalid_rejected(client):
    for bad in ("not a key", "ssh-ed25519 AAAAnotbase64!!", "ssh-rsa " + base64.b64encode(b"garbage").decode()):
        with pytest.raises(APIException) as e:
            client.ssh_keys.create(name=unique("bad"), public_key=bad)
        assert e.value.code == "invalid_input", bad
        fields = (e.value.details or {}).get("fields") or []
        assert any(f.get("name") == "public_key" for f in fields), e.value.details


def test_ssh_key_uniqueness(client, keygen):
    pub = keygen()
    name = unique("uniq")
    client.ssh_keys.create(name=name, public_key=pub)
    with pytest.raises(APIException) as e:
        client.ssh_keys.create(name=name, public_key=keygen())
    assert e.value.code == "uniqueness_error"
    with pytest.raises(APIException) as e:
        client.ssh_keys.create(name=unique("uniq2"), public_key=pub)
    assert e.value.code == "uniqueness_error"


# --------------------------------------------------------------------------------------------
# pagination, label selectors, sort
# --------------------------------------------------------------------------------------------
def test_pagination_ssh_keys(client, keygen, stratus, token):
    n = 55
    for i in range(n):
        client.ssh_keys.create(name=unique(f"page{i:02d}"), public_key=keygen(), labels={"batch": "page"})
    keys = client.ssh_keys.get_all(label_selector="batch=page")
    assert len(keys) == n
    assert len({k.id for k in keys}) == n

    res = client.ssh_keys.get_list(label_selector="batch=page", page=2, per_page=20)
    p = res.meta.pagination
    assert len(res.ssh_keys) == 20
    assert (p.page, p.per_page, p.previous_page, p.next_page, p.last_page, p.total_entries) == (2, 20, 1, 3, 3, n)
    last = client.ssh_keys.get_list(label_selector="batch=page", page=3, per_page=20)
    lp = last.meta.pagination
    assert len(last.ssh_keys) == 15 and lp.next_page is None and lp.previous_page == 2
    first = client.ssh_keys.get_list(label_selector="batch=page", page=1, per_page=20)
    assert first.meta.pagination.previous_page is None
    # pages are disjoint and cover everything
    ids = set()
    for page in (1, 2, 3):
        ids |= {k.id for k in client.ssh_keys.get_list(label_selector="batch=page", page=page, per_page=20).ssh_keys}
    assert len(ids) == n

    # raw: exact pagination keys, default per_page 25, Link header
    status, headers, doc = stratus.request("GET", "/ssh_keys?label_selector=batch%3Dpage&page=2&per_page=20", token)
    assert status == 200
    assert set(doc["meta"]["pagination"]) == PAGINATION_KEYS
    link = {k.lower(): v for k, v in headers.items()}.get("link", "")
    assert 'rel="next"' in link and 'rel="prev"' in link and 'rel="last"' in link, link
    status, _, doc = stratus.request("GET", "/ssh_keys?label_selector=batch%3Dpage", token)
    assert doc["meta"]["pagination"]["per_page"] == 25 and len(doc["ssh_keys"]) == 25
    status, _, doc = stratus.request("GET", "/ssh_keys?label_selector=batch%3Dpage&per_page=1000", token)
    if status == 200:
        assert len(doc["ssh_keys"]) <= 50 and doc["meta"]["pagination"]["per_page"] <= 50
    else:
        assert doc["error"]["code"] == "invalid_input"


def test_pagination_servers(client, stratus, token):
    n = 53
    for i in range(n):
        create_server(client, name=unique(f"pg{i:02d}"), labels={"batch": "servers"}, wait=False)
    servers = client.servers.get_all(label_selector="batch=servers")
    assert len(servers) == n and len({s.id for s in servers}) == n
    res = client.servers.get_list(label_selector="batch=servers", page=1, per_page=50)
    p = res.meta.pagination
    assert (p.page, p.per_page, p.previous_page, p.next_page, p.last_page, p.total_entries) == (1, 50, None, 2, 2, n)
    res2 = client.servers.get_list(label_selector="batch=servers", page=2, per_page=50)
    assert len(res2.servers) == 3 and res2.meta.pagination.next_page is None
    # clean up so later list checks stay small
    actions = [client.servers.delete(s) for s in servers]
    for a in actions:
        finished(a, "delete_server")
    assert client.servers.get_all(label_selector="batch=servers") == []


@pytest.fixture(scope="module")
def labelled(client):
    a = create_server(client, name=unique("lsa"), labels={"lsel": "1", "env": "prod", "tier": "web"}).server
    b = create_server(client, name=unique("lsb"), labels={"lsel": "1", "env": "dev", "tier": "db"}).server
    c = create_server(client, name=unique("lsc"), labels={"lsel": "1", "env": "staging"}).server
    return {"a": a.id, "b": b.id, "c": c.id}


@pytest.mark.parametrize("selector,expected", [
    ("env=prod", {"a"}),
    ("env==prod", {"a"}),
    ("env!=prod", {"b", "c"}),
    ("tier", {"a", "b"}),
    ("!tier", {"c"}),
    ("env in (prod,dev)", {"a", "b"}),
    ("env notin (prod,dev)", {"c"}),
    ("env=prod,tier=web", {"a"}),
    ("env in (dev,staging),!tier", {"c"}),
    ("tier,env notin (dev)", {"a"}),
])
def test_label_selector(client, labelled, selector, expected):
    got = client.servers.get_all(label_selector=f"lsel=1,{selector}")
    inv = {v: k for k, v in labelled.items()}
    assert {inv.get(s.id, s.name) for s in got} == expected


def test_label_selector_invalid(client):
    for bad in ("env in (prod", "=x", "env notin prod"):
        with pytest.raises(APIException) as e:
            client.servers.get_all(label_selector=bad)
        assert e.value.code == "invalid_input", bad


def test_sort_and_name_filter(client, labelled):
    # ServersClient.get_all has no sort parameter in hcloud-python 2.x: use its raw request
    def sorted_servers(sort):
        doc = client.request("GET", "/servers", params={"label_selector": "lsel=1", "sort": sort})
        return doc["servers"]

    names = [s["name"] for s in sorted_servers("name:desc")]
    assert len(names) == 3 and names == sorted(names, reverse=True)
    names = [s["name"] for s in sorted_servers("name")]
    assert names == sorted(names)
    ids = [s["id"] for s in sorted_servers("id:asc")]
    assert ids == sorted(ids)
    ids = [s["id"] for s in sorted_servers("id:desc")]
    assert ids == sorted(ids, reverse=True)
    created = [s["created"] for s in sorted_servers("created:desc")]
    assert created == sorted(created, reverse=True)
    keys = client.request("GET", "/ssh_keys", params={"sort": "name:desc", "per_page": 50})["ssh_keys"]
    assert [k["name"] for k in keys] == sorted((k["name"] for k in keys), reverse=True)
    with pytest.raises(APIException) as e:
        sorted_servers("bogus:asc")
    assert e.value.code == "invalid_input"
    a = client.servers.get_by_id(labelled["a"])
    assert client.servers.get_by_name(a.name).id == a.id
    assert client.servers.get_by_name("no-such-server-xyz") is None
    assert [s.id for s in client.servers.get_all(name=a.name)] == [a.id]


# --------------------------------------------------------------------------------------------
# servers
# --------------------------------------------------------------------------------------------
def test_server_create_with_ssh_key(client, keygen):
    key = client.ssh_keys.create(name=unique("srvkey"), public_key=keygen())
    resp = client.servers.create(name=unique("withkey"), server_type=ServerType(name="cx22"),
                                 image=Image(name="ubuntu-24.04"), ssh_keys=[key],
                                 location=Location(name="nbg1"), labels={"a": "b"},
                                 user_data="#cloud-config\nruncmd: [true]\n")
    assert resp.root_password is None
    assert resp.action.command == "create_server"
    assert resp.server.id in resource_ids(resp.action, "server")
    assert isinstance(resp.next_actions, list)
    for a in resp.next_actions:
        assert a.command in ("start_server", "attach_to_network", "attach_volume")
    finished(resp.action, "create_server")
    for a in resp.next_actions:
        finished(a)
    s = client.servers.get_by_id(resp.server.id)
    assert s.status == "running"
    assert s.labels == {"a": "b"}
    # hcloud-python 2.x reads the server's `location` (datacenters are deprecated)
    assert s.location.name == "nbg1"
    raw = client.request("GET", f"/servers/{s.id}")["server"]
    assert raw["location"]["name"] == "nbg1" and raw["datacenter"]["location"]["name"] == "nbg1"
    assert raw["locked"] is False
    assert s.server_type.name == "cx22" and s.image.name == "ubuntu-24.04"
    assert s.public_net.ipv4.ip and s.public_net.ipv6.ip
    assert s.primary_disk_size > 0
    assert isinstance(s.created, datetime)


def test_server_create_without_ssh_key_returns_password(client):
    resp = create_server(client, server_type=ServerType(name="cpx11"), image=Image(name="debian-12"))
    assert isinstance(resp.root_password, str) and len(resp.root_password) >= 8
    s = client.servers.get_by_id(resp.server.id)
    assert s.status == "running"


def test_server_create_stopped(client):
    resp = create_server(client, start_after_create=False)
    assert all(a.command != "start_server" for a in resp.next_actions)
    s = client.servers.get_by_id(resp.server.id)
    assert s.status == "off"


def test_server_ips_unique(client):
    servers = [create_server(client).server for _ in range(5)]
    v4 = [client.servers.get_by_id(s.id).public_net.ipv4.ip for s in servers]
    v6 = [client.servers.get_by_id(s.id).public_net.ipv6.ip for s in servers]
    assert len(set(v4)) == 5 and len(set(v6)) == 5


def test_server_update_and_delete(client):
    s = create_server(client, labels={"x": "1"}).server
    new = unique("upd")
    upd = s.update(name=new, labels={"x": "2", "y": "3"})
    assert upd.name == new and upd.labels == {"x": "2", "y": "3"}
    assert client.servers.get_by_id(s.id).name == new
    action = s.delete()
    finished(action, "delete_server")
    with pytest.raises(APIException) as e:
        client.servers.get_by_id(s.id)
    assert e.value.code == "not_found"


@pytest.fixture(scope="module")
def act_server(client, keygen):
    key = client.ssh_keys.create(name=unique("actkey"), public_key=keygen())
    resp = create_server(client, ssh_keys=[key], location=Location(name="fsn1"))
    return client.servers.get_by_id(resp.server.id), key


def reload(client, server):
    return client.servers.get_by_id(server.id)


def test_action_power_cycle(client, act_server):
    s, _ = act_server
    finished(s.power_off(), "stop_server")
    assert reload(client, s).status == "off"
    finished(s.power_on(), "start_server")
    assert reload(client, s).status == "running"
    a = finished(s.reboot(), "reboot_server")
    assert s.id in resource_ids(a, "server")
    assert reload(client, s).status == "running"
    finished(s.reset(), "reset_server")
    assert reload(client, s).status == "running"
    finished(s.shutdown(), "shutdown_server")
    finished(s.power_on(), "start_server")
    assert reload(client, s).status == "running"


def test_action_reset_password(client, act_server):
    s, _ = act_server
    r = s.reset_password()
    finished(r.action, "reset_password")
    assert isinstance(r.root_password, str) and len(r.root_password) >= 8


def test_action_rescue(client, act_server):
    s, key = act_server
    r = s.enable_rescue(type="linux64", ssh_keys=[key.id])
    finished(r.action, "enable_rescue")
    assert r.root_password
    assert reload(client, s).rescue_enabled is True
    finished(s.disable_rescue(), "disable_rescue")
    assert reload(client, s).rescue_enabled is False


@pytest.fixture(scope="module")
def snapshot(client, act_server):
    s, _ = act_server
    r = s.create_image(description="py-snap", type="snapshot", labels={"kind": "snap"})
    finished(r.action, "create_image")
    assert r.image.id in resource_ids(r.action, "image") or s.id in resource_ids(r.action, "server")
    return client.images.get_by_id(r.image.id)


def test_action_create_image(client, act_server, snapshot):
    s, _ = act_server
    assert snapshot.type == "snapshot" and snapshot.status == "available"
    assert snapshot.description == "py-snap" and snapshot.labels == {"kind": "snap"}
    assert snapshot.created_from.id == s.id
    assert snapshot.bound_to is None
    assert snapshot.id in [i.id for i in client.images.get_all(type=["snapshot"])]
    assert snapshot.id not in [i.id for i in client.images.get_all(type=["system"])]
    assert [i.id for i in client.images.get_all(label_selector="kind=snap")] == [snapshot.id]


def test_action_rebuild(client, act_server, snapshot):
    s, _ = act_server
    r = s.rebuild(image=Image(id=snapshot.id))
    finished(r.action, "rebuild_server")
    got = reload(client, s)
    assert got.image.id == snapshot.id and got.status == "running"
    r = s.rebuild(image=Image(name="ubuntu-24.04"))
    finished(r.action, "rebuild_server")
    assert reload(client, s).image.name == "ubuntu-24.04"


def test_server_from_snapshot(client, snapshot):
    resp = create_server(client, image=Image(id=snapshot.id))
    assert client.servers.get_by_id(resp.server.id).image.id == snapshot.id


def test_action_change_type(client, act_server):
    s, _ = act_server
    finished(s.power_off(), "stop_server")
    finished(s.change_type(ServerType(name="cx32"), upgrade_disk=False), "change_server_type")
    got = reload(client, s)
    assert got.server_type.name == "cx32"
    finished(s.change_type(ServerType(name="cx42"), upgrade_disk=True), "change_server_type")
    assert reload(client, s).server_type.name == "cx42"
    finished(s.power_on(), "start_server")


def test_action_backup(client, act_server, stratus):
    s, _ = act_server
    finished(s.enable_backup(), "enable_backup")
    assert reload(client, s).backup_window
    stratus.cli("sim", "advance", "--hours", "25")
    backups = [i for i in client.images.get_all(type=["backup"]) if i.bound_to and i.bound_to.id == s.id]
    assert backups, "no backup image after 25 simulated hours"
    assert all(b.created_from.id == s.id and b.status == "available" for b in backups)
    finished(s.disable_backup(), "disable_backup")
    assert reload(client, s).backup_window is None
    left = [i for i in client.images.get_all(type=["backup"]) if i.bound_to and i.bound_to.id == s.id]
    assert left == [], "disable_backup must delete the server's backups"


def test_action_iso(client, act_server):
    s, _ = act_server
    finished(s.attach_iso(Iso(name="virtio-win-0.1.248.iso")), "attach_iso")
    assert reload(client, s).iso.name == "virtio-win-0.1.248.iso"
    finished(s.detach_iso(), "detach_iso")
    assert reload(client, s).iso is None
    iso = client.isos.get_by_name("virtio-win-0.1.248.iso")
    finished(s.attach_iso(Iso(id=iso.id)), "attach_iso")
    assert reload(client, s).iso.id == iso.id
    finished(s.detach_iso(), "detach_iso")


def test_action_change_dns_ptr(client, act_server):
    s, _ = act_server
    ip = reload(client, s).public_net.ipv4.ip
    finished(s.change_dns_ptr(ip=ip, dns_ptr="py.example.com"), "change_dns_ptr")
    assert reload(client, s).public_net.ipv4.dns_ptr == "py.example.com"
    finished(s.change_dns_ptr(ip=ip, dns_ptr=None), "change_dns_ptr")
    assert reload(client, s).public_net.ipv4.dns_ptr != "py.example.com"
    with pytest.raises(APIException) as e:
        s.change_dns_ptr(ip="192.0.2.1", dns_ptr="x.example.com")
    assert e.value.code in ("invalid_input", "not_found")


def test_action_protection(client, act_server):
    s, _ = act_server
    finished(s.change_protection(delete=True, rebuild=True), "change_protection")
    got = reload(client, s)
    assert got.protection == {"delete": True, "rebuild": True}
    with pytest.raises(APIException) as e:
        s.delete()
    assert e.value.code == "protected"
    with pytest.raises(APIException) as e:
        s.rebuild(image=Image(name="ubuntu-24.04"))
    assert e.value.code == "protected"
    finished(s.change_protection(delete=False, rebuild=False), "change_protection")
    assert reload(client, s).protection == {"delete": False, "rebuild": False}


def test_action_request_console(client, act_server):
    s, _ = act_server
    r = s.request_console()
    finished(r.action, "request_console")
    assert r.wss_url.startswith(("ws://", "wss://"))
    assert r.password


def test_metrics(client, act_server):
    s, _ = act_server
    end = datetime.now(timezone.utc)
    start = end - timedelta(hours=1)
    m = s.get_metrics(type=["cpu", "disk", "network"], start=start, end=end, step=60).metrics
    ts = m.time_series
    assert "cpu" in ts
    assert any(k.startswith("disk.0.") for k in ts), list(ts)
    assert any(k.startswith("network.0.") for k in ts), list(ts)
    for name, series in ts.items():
        values = series["values"]
        assert values, name
        t, v = values[0]
        assert isinstance(t, (int, float)) and isinstance(v, str), (name, values[0])
        float(v)
    assert m.step == 60
    only_cpu = s.get_metrics(type="cpu", start=start, end=end).metrics.time_series
    assert list(only_cpu) == ["cpu"]
    with pytest.raises(APIException) as e:
        s.get_metrics(type="bogus", start=start, end=end)
    assert e.value.code == "invalid_input"


def test_server_actions_list(client, act_server):
    s, _ = act_server
    actions = s.get_actions()
    cmds = {a.command for a in actions}
    for c in ("create_server", "stop_server", "start_server", "reboot_server", "enable_rescue"):
        assert c in cmds, c
    one = actions[0]
    assert client.servers.get_actions_list(s, sort=["id:asc"]).actions
    assert all(s.id in resource_ids(a, "server") for a in actions)
    assert client.actions.get_by_id(one.id).id == one.id
    got = s.get_actions(status=["success"])
    assert got and all(a.status == "success" for a in got)


# --------------------------------------------------------------------------------------------
# actions
# --------------------------------------------------------------------------------------------
def test_actions_endpoint(client, stratus, token):
    resp = create_server(client)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        all_actions = client.actions.get_all()
        ids = {a.id for a in all_actions}
        assert resp.action.id in ids
        a = client.actions.get_by_id(resp.action.id)
        assert a.command == "create_server" and a.status == "success"
        assert a.started is not None and a.finished is not None
        running = client.actions.get_all(status=["running"])
        assert all(x.status == "running" for x in running)
        ok = client.actions.get_list(status=["success"], sort=["id:desc"], per_page=5)
        assert len(ok.actions) <= 5 and all(x.status == "success" for x in ok.actions)
        assert [x.id for x in ok.actions] == sorted((x.id for x in ok.actions), reverse=True)
    # the hcloud-go polling form: /actions?id=A&id=B must return both
    ids2 = [resp.action.id] + [x.id for x in resp.next_actions]
    q = "&".join(f"id={i}" for i in ids2)
    status, _, doc = stratus.request("GET", f"/actions?{q}", token)
    assert status == 200 and sorted(x["id"] for x in doc["actions"]) == sorted(ids2)
    with pytest.raises(APIException) as e:
        client.actions.get_by_id(987654321)
    assert e.value.code == "not_found"


# --------------------------------------------------------------------------------------------
# floating IPs
# --------------------------------------------------------------------------------------------
def test_floating_ips(client, act_server):
    s, _ = act_server
    r = client.floating_ips.create(type="ipv4", home_location=Location(name="fsn1"), name=unique("fip"),
                                   description="py", labels={"f": "1"})
    fip = r.floating_ip
    assert fip.type == "ipv4" and fip.home_location.name == "fsn1" and fip.server is None
    assert fip.description == "py" and fip.labels == {"f": "1"} and fip.ip
    if r.action is not None:
        finished(r.action)
    finished(fip.assign(s), "assign_floating_ip")
    got = client.floating_ips.get_by_id(fip.id)
    assert got.server.id == s.id
    finished(fip.change_dns_ptr(ip=fip.ip, dns_ptr="fip.example.com"), "change_dns_ptr")
    got = client.floating_ips.get_by_id(fip.id)
    assert {"ip": fip.ip, "dns_ptr": "fip.example.com"} in got.dns_ptr
    finished(fip.unassign(), "unassign_floating_ip")
    assert client.floating_ips.get_by_id(fip.id).server is None
    upd = fip.update(description="py2", labels={"f": "2"}, name=unique("fip-renamed"))
    assert upd.description == "py2" and upd.labels == {"f": "2"}
    assert client.floating_ips.get_by_name(upd.name).id == fip.id
    finished(fip.change_protection(delete=True), "change_protection")
    assert client.floating_ips.get_by_id(fip.id).protection == {"delete": True}
    with pytest.raises(APIException) as e:
        fip.delete()
    assert e.value.code == "protected"
    finished(fip.change_protection(delete=False), "change_protection")
    assert fip.delete() is True
    with pytest.raises(APIException) as e:
        client.floating_ips.get_by_id(fip.id)
    assert e.value.code == "not_found"

    # ipv6, assigned at creation
    r6 = client.floating_ips.create(type="ipv6", server=s, name=unique("fip6"))
    if r6.action is not None:
        finished(r6.action)
    f6 = client.floating_ips.get_by_id(r6.floating_ip.id)
    assert f6.type == "ipv6" and f6.server.id == s.id and ":" in f6.ip
    assert f6.home_location.name == "fsn1"
    assert f6.id in [f.id for f in client.floating_ips.get_all()]
    assert [f.id for f in client.floating_ips.get_all(label_selector="f=2")] == []
    assert f6.get_actions()
    client.floating_ips.delete(f6)

    a = client.floating_ips.create(type="ipv4", home_location=Location(name="hel1")).floating_ip
    b = client.floating_ips.create(type="ipv4", home_location=Location(name="hel1")).floating_ip
    assert a.ip != b.ip
    client.floating_ips.delete(a)
    client.floating_ips.delete(b)


# --------------------------------------------------------------------------------------------
# images
# --------------------------------------------------------------------------------------------
def test_images_update_protect_delete(client):
    s = create_server(client).server
    r = client.servers.create_image(s, description="tmp", type="snapshot")
    finished(r.action, "create_image")
    img = r.image
    upd = client.images.update(img, description="tmp2", labels={"a": "1"})
    assert upd.description == "tmp2" and upd.labels == {"a": "1"}
    upd = client.images.update(img, labels={"a": "2", "b": "3"})
    assert client.images.get_by_id(img.id).labels == {"a": "2", "b": "3"}
    finished(client.images.change_protection(img, delete=True), "change_protection")
    assert client.images.get_by_id(img.id).protection == {"delete": True}
    with pytest.raises(APIException) as e:
        client.images.delete(img)
    assert e.value.code == "protected"
    finished(client.images.change_protection(img, delete=False), "change_protection")
    assert client.images.get_by_id(img.id).get_actions()
    assert client.images.delete(img) is True
    with pytest.raises(APIException) as e:
        client.images.get_by_id(img.id)
    assert e.value.code == "not_found"
    system = client.images.get_by_name_and_architecture("debian-12", "x86")
    with pytest.raises(APIException) as e:
        client.images.delete(system)
    assert e.value.code in ("forbidden", "not_found", "protected", "invalid_input")


# --------------------------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------------------------
def test_not_found(client):
    for getter in (client.servers.get_by_id, client.ssh_keys.get_by_id, client.images.get_by_id,
                   client.floating_ips.get_by_id, client.server_types.get_by_id,
                   client.locations.get_by_id, client.isos.get_by_id):
        with pytest.raises(APIException) as e:
            getter(987654321)
        assert e.value.code == "not_found", getter


def test_invalid_input_details(client):
    with pytest.raises(APIException) as e:
        client.servers.create(name="not a valid hostname!", server_type=ServerType(name="cx22"),
                              image=Image(name="ubuntu-24.04"))
    assert e.value.code == "invalid_input"
    fields = e.value.details["fields"]
    assert any(f["name"] == "name" and f["messages"] for f in fields), fields
    with pytest.raises(APIException) as e:
        client.servers.create(name=unique("x"), server_type=ServerType(name="no-such-type"),
                              image=Image(name="ubuntu-24.04"))
    assert e.value.code in ("invalid_input", "not_found")


def test_json_error(stratus, token):
    status, _, doc = stratus.request("POST", "/servers", token, raw=b'{"name": "x", ')
    assert status == 400 and doc["error"]["code"] == "json_error"
    assert {"code", "message"} <= set(doc["error"])


def test_uniqueness_error(client):
    name = unique("dup")
    create_server(client, name=name)
    with pytest.raises(APIException) as e:
        create_server(client, name=name)
    assert e.value.code == "uniqueness_error"


def test_unauthorized(stratus):
    bad = make_client(stratus, "invalid-token-" + "0" * 50)
    with pytest.raises(APIException) as e:
        bad.servers.get_all()
    assert e.value.code == "unauthorized"
    r = requests.get(stratus.hetzner + "/servers", headers={"Authorization": "Bearer nope"}, timeout=10)
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    r = requests.get(stratus.hetzner + "/servers", timeout=10)
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"


def test_tenancy(client, stratus, keygen):
    mine = create_server(client).server
    key = client.ssh_keys.create(name=unique("tenant"), public_key=keygen())
    other = make_client(stratus, stratus.token("other-project"))
    with pytest.raises(APIException) as e:
        other.servers.get_by_id(mine.id)
    assert e.value.code == "not_found"
    with pytest.raises(APIException) as e:
        other.servers.power_off(mine)
    assert e.value.code == "not_found"
    with pytest.raises(APIException) as e:
        other.ssh_keys.get_by_id(key.id)
    assert e.value.code == "not_found"
    assert mine.id not in [s.id for s in other.servers.get_all()]
    assert other.ssh_keys.get_all() == []
    # the other project can use the same names
    theirs = create_server(other, name=mine.name).server
    assert theirs.id != mine.id
    assert theirs.id not in [s.id for s in client.servers.get_all()]
    with pytest.raises(APIException) as e:
        client.servers.get_by_id(theirs.id)
    assert e.value.code == "not_found"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        other_actions = {a.id for a in other.actions.get_all()}
        assert not ({a.id for a in client.actions.get_all()} & other_actions)


def test_rate_limit_headers_default(realistic):
    token = realistic.token()
    for path in ("/servers", "/servers/987654321", "/locations"):
        r = requests.get(realistic.hetzner + path, headers={"Authorization": f"Bearer {token}"}, timeout=10)
        for h in ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"):
            assert h in r.headers, (path, h, dict(r.headers))
            int(r.headers[h])
        assert int(r.headers["RateLimit-Limit"]) == 3600, path
        assert 0 < int(r.headers["RateLimit-Remaining"]) < 3600, path


def test_rate_limit(limited):
    tok = limited.token()
    headers = {"Authorization": f"Bearer {tok}"}
    remaining = []
    for i in range(5):
        r = requests.get(limited.hetzner + "/server_types", headers=headers, timeout=10)
        assert r.status_code == 200, (i, r.status_code, r.text)
        assert int(r.headers["RateLimit-Limit"]) == 5
        remaining.append(int(r.headers["RateLimit-Remaining"]))
        assert int(r.headers["RateLimit-Reset"]) > 0
    assert remaining == sorted(remaining, reverse=True) and len(set(remaining)) == 5, remaining
    r = requests.get(limited.hetzner + "/server_types", headers=headers, timeout=10)
    assert r.status_code == 429
    assert r.json()["error"]["code"] == "rate_limit_exceeded"
    assert int(r.headers["RateLimit-Remaining"]) == 0
    assert int(r.headers["RateLimit-Limit"]) == 5
    assert int(r.headers["RateLimit-Reset"]) > int(time.time()) - 5
    # limits are per token: a fresh token still gets through
    r = requests.get(limited.hetzner + "/server_types",
                     headers={"Authorization": f"Bearer {limited.token()}"}, timeout=10)
    assert r.status_code == 200


def test_locked(realistic):
    c = make_client(realistic, realistic.token(), poll=0.2)
    last = None
    for attempt in range(3):
        resp = c.servers.create(name=unique("locked"), server_type=ServerType(name="cx22"),
                                image=Image(name="ubuntu-24.04"))
        assert resp.action.status == "running", "create in realistic timing should still be running"
        assert 0 <= resp.action.progress < 100
        try:
            c.servers.power_off(resp.server)
        except APIException as e:
            last = e
            assert e.code == "locked", e
            break
        last = None
    assert last is not None and last.code == "locked", "a second action on a busy server was not rejected"
    resp.action.wait_until_finished(max_retries=600)
    assert resp.action.status == "success"
    for a in resp.next_actions:
        a.wait_until_finished(max_retries=600)
    # once idle, the next action is accepted
    a = c.servers.power_off(resp.server)
    a.wait_until_finished(max_retries=600)
    assert a.status == "success"


def test_realistic_progress(realistic):
    c = make_client(realistic, realistic.token(), poll=0.2)
    resp = c.servers.create(name=unique("prog"), server_type=ServerType(name="cx22"),
                            image=Image(name="ubuntu-24.04"))
    seen = set()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        a = c.actions.get_by_id(resp.action.id)
        seen.add(a.progress)
        if a.status != "running":
            break
        time.sleep(0.2)
    assert a.status == "success" and a.progress == 100
    assert len(seen) >= 2, f"no visible progress: {seen}"
    assert c.servers.get_by_id(resp.server.id).status in ("running", "starting")


def test_fault_injection_action(client, stratus):
    s = create_server(client).server
    finished(s.power_off(), "stop_server")
    stratus.cli("fault", "action", "--command", "start_server", "--count", "1",
                "--code", "injected_fault", "--message", "injected by the e2e test")
    a = s.power_on()
    with pytest.raises(ActionFailedException):
        a.wait_until_finished()
    got = client.actions.get_by_id(a.id)
    assert got.status == "error"
    assert got.error and got.error["code"] == "injected_fault", got.error
    assert got.error["message"]
    assert got.finished is not None
    # only one: the next start works
    finished(s.power_on(), "start_server")
    assert client.servers.get_by_id(s.id).status == "running"


def test_fault_injection_api(stratus, token):
    stratus.cli("fault", "api", "--code", "maintenance", "--count", "1")
    status, _, doc = stratus.request("GET", "/servers", token)
    assert status == 503 and doc["error"]["code"] == "maintenance", (status, doc)
    status, _, doc = stratus.request("GET", "/servers", token)
    assert status == 200
    stratus.cli("fault", "api", "--code", "rate_limit_exceeded", "--count", "2")
    for _ in range(2):
        status, headers, doc = stratus.request("GET", "/servers", token)
        assert status == 429 and doc["error"]["code"] == "rate_limit_exceeded"
    status, _, _ = stratus.request("GET", "/servers", token)
    assert status == 200
