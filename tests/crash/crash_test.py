#!/usr/bin/env python3
"""Crash test: kill -9 Stratus under concurrent load, restart it, check nothing acknowledged is lost.

Python stdlib only. For each timing mode (instant, realistic) and each cycle:
  1. start (or restart) `stratus serve` on the same data dir,
  2. run N threads that create and delete servers and SSH keys through the Hetzner API and
     record every answer: acknowledged (2xx), rejected (an API error) or unknown (no answer),
  3. SIGKILL the server mid-flight, restart it on the same data dir,
  4. wait until GET /actions?status=running is empty (giving up when none ends for a while), then check:
     - every acknowledged created resource exists exactly once (same id, same name) unless its
       delete was acknowledged (SSH key) or its acknowledged delete action succeeded (server);
     - a resource whose delete was acknowledged is gone (or its delete action ended in error);
     - a create answered with an error did not create anything;
     - no duplicate ids or names; no server left in a transitional status;
     - every acknowledged action exists and ended with status success or error (progress 100 /
       finished set on success), and no action is running.

Then, unless --churn-rounds is 0, the churn mode: realistic timing, the same load running
without pause while the server is killed with -9 every --churn-interval seconds (shorter than a
simulated create) for --churn-rounds rounds. Actions must still finish *during* the churn: a
step resumed after a restart continues from when it began, so servers come up and deletes are
taken instead of every one answering 423 `locked`. Then the same checks as above.

Usage: crash_test.py [--timing instant|realistic|both] [--cycles N] [--threads N] [--seed N]
                     [--churn-rounds N] [--churn-interval S]
Exit status 0 when every check passed. The binary is $STRATUS_BIN or target/release/stratus.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from stratus_proc import StratusServer  # noqa: E402

TRANSITIONAL = {"initializing", "starting", "stopping", "deleting", "rebuilding", "migrating"}


# ---------------------------------------------------------------------------------------------
# HTTP
# ---------------------------------------------------------------------------------------------
class NoAnswer(Exception):
    """The request got no HTTP answer (connection refused/reset, timeout)."""


def call(base: str, token: str, method: str, path: str, body=None, timeout: float = 15):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method, headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            status, payload = r.status, r.read()
    except urllib.error.HTTPError as e:
        status = e.code
        try:
            payload = e.read()
        except Exception as exc:  # body cut by the kill
            raise NoAnswer(str(exc)) from exc
    except Exception as exc:  # URLError, ConnectionError, timeout, IncompleteRead, ...
        raise NoAnswer(str(exc)) from exc
    try:
        doc = json.loads(payload) if payload else None
    except ValueError as exc:
        if 200 <= status < 300:
            raise NoAnswer(f"truncated body: {exc}") from exc
        doc = None
    return status, doc


def list_all(base: str, token: str, path: str, key: str) -> list[dict]:
    out, page = [], 1
    sep = "&" if "?" in path else "?"
    while page:
        status, doc = call(base, token, "GET", f"{path}{sep}page={page}&per_page=50")
        if status != 200:
            raise RuntimeError(f"GET {path} page {page}: {status} {doc}")
        out.extend(doc[key])
        page = ((doc.get("meta") or {}).get("pagination") or {}).get("next_page")
        if len(out) > 200000:
            raise RuntimeError("pagination does not end")
    return out


# ---------------------------------------------------------------------------------------------
# load
# ---------------------------------------------------------------------------------------------
@dataclass
class Ledger:
    lock: threading.Lock = field(default_factory=threading.Lock)
    servers: dict = field(default_factory=dict)          # id -> name (create acknowledged)
    keys: dict = field(default_factory=dict)             # id -> name
    server_deleted: dict = field(default_factory=dict)   # id -> delete action id (acknowledged)
    key_deleted: set = field(default_factory=set)        # acknowledged deletes
    delete_unknown: set = field(default_factory=set)     # ("server"|"ssh_key", id): no answer
    rejected_names: set = field(default_factory=set)     # ("server"|"ssh_key", name): create got an error
    unknown_names: set = field(default_factory=set)      # create got no answer
    actions: set = field(default_factory=set)            # acknowledged action ids
    counts: dict = field(default_factory=lambda: {"ack": 0, "rejected": 0, "unknown": 0})
    errors: dict = field(default_factory=dict)           # error code -> count

    def count(self, kind: str, code: str | None = None):
        with self.lock:
            self.counts[kind] += 1
            if code:
                self.errors[code] = self.errors.get(code, 0) + 1


def keygen_pool(n: int) -> list[str]:
    tmp = tempfile.mkdtemp(prefix="crash-keys-")
    keys = []
    try:
        for i in range(n):
            p = os.path.join(tmp, f"k{i}")
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"crash{i}", "-f", p],
                           check=True, stdin=subprocess.DEVNULL)
            with open(p + ".pub") as f:
                keys.append(f.read().strip())
    finally:
        subprocess.run(["rm", "-rf", tmp], check=False)
    return keys


class Load:
    def __init__(self, base: str, token: str, ledger: Ledger, keys: list[str], rng: random.Random,
                 tag: str):
        self.base, self.token, self.ledger = base, token, ledger
        self.keys = keys
        self.key_lock = threading.Lock()
        self.rng = rng
        self.stop = threading.Event()
        self.seq = itertools.count()
        self.tag = tag

    def next_key(self) -> str | None:
        with self.key_lock:
            return self.keys.pop() if self.keys else None

    def pick(self, pool: dict, deleted) -> int | None:
        with self.ledger.lock:
            cands = [i for i in pool if i not in deleted]
            return self.rng.choice(cands) if cands else None

    def op_create_server(self):
        L = self.ledger
        name = f"crash-{self.tag}-s{next(self.seq)}"
        body = {"name": name, "server_type": "cx22", "image": "ubuntu-24.04", "location": "fsn1"}
        try:
            status, doc = call(self.base, self.token, "POST", "/servers", body)
        except NoAnswer:
            L.count("unknown")
            with L.lock:
                L.unknown_names.add(("server", name))
            return
        if 200 <= status < 300:
            L.count("ack")
            with L.lock:
                L.servers[doc["server"]["id"]] = name
                L.actions.add(doc["action"]["id"])
                for a in doc.get("next_actions") or []:
                    L.actions.add(a["id"])
        else:
            L.count("rejected", (doc or {}).get("error", {}).get("code", str(status)))
            with L.lock:
                L.rejected_names.add(("server", name))

    def op_create_key(self):
        L = self.ledger
        pub = self.next_key()
        if pub is None:
            return self.op_create_server()
        name = f"crash-{self.tag}-k{next(self.seq)}"
        try:
            status, doc = call(self.base, self.token, "POST", "/ssh_keys", {"name": name, "public_key": pub})
        except NoAnswer:
            L.count("unknown")
            with L.lock:
                L.unknown_names.add(("ssh_key", name))
            return
        if 200 <= status < 300:
            L.count("ack")
            with L.lock:
                L.keys[doc["ssh_key"]["id"]] = name
        else:
            L.count("rejected", (doc or {}).get("error", {}).get("code", str(status)))
            with L.lock:
                L.rejected_names.add(("ssh_key", name))

    def op_delete_server(self):
        L = self.ledger
        sid = self.pick(L.servers, L.server_deleted)
        if sid is None:
            return self.op_create_server()
        try:
            status, doc = call(self.base, self.token, "DELETE", f"/servers/{sid}")
        except NoAnswer:
            L.count("unknown")
            with L.lock:
                L.delete_unknown.add(("server", sid))
            return
        if 200 <= status < 300:
            L.count("ack")
            with L.lock:
                aid = (doc or {}).get("action", {}).get("id")
                L.server_deleted[sid] = aid
                if aid is not None:
                    L.actions.add(aid)
        else:
            L.count("rejected", (doc or {}).get("error", {}).get("code", str(status)))

    def op_delete_key(self):
        L = self.ledger
        with L.lock:
            live = len(L.keys) - len(L.key_deleted)
        kid = self.pick(L.keys, L.key_deleted) if live > 10 else None
        if kid is None:
            return self.op_create_key()
        try:
            status, doc = call(self.base, self.token, "DELETE", f"/ssh_keys/{kid}")
        except NoAnswer:
            L.count("unknown")
            with L.lock:
                L.delete_unknown.add(("ssh_key", kid))
            return
        if 200 <= status < 300:
            L.count("ack")
            with L.lock:
                L.key_deleted.add(kid)
        else:
            L.count("rejected", (doc or {}).get("error", {}).get("code", str(status)))

    def worker(self, wid: int):
        rng = random.Random(self.rng.random() + wid)
        ops = [(self.op_create_server, 45), (self.op_create_key, 25), (self.op_delete_server, 20),
               (self.op_delete_key, 10)]
        fns, weights = zip(*ops)
        while not self.stop.is_set():
            rng.choices(fns, weights)[0]()

    def run(self, threads: int) -> list[threading.Thread]:
        ts = [threading.Thread(target=self.worker, args=(i,), daemon=True) for i in range(threads)]
        for t in ts:
            t.start()
        return ts


# ---------------------------------------------------------------------------------------------
# verification
# ---------------------------------------------------------------------------------------------
def wait_no_running(base: str, token: str, stall: float) -> list[dict]:
    """Waits until no action runs; gives up when none has ended for `stall` seconds (how
    long recovery takes grows with the backlog the load left, so no fixed deadline fits)."""
    deadline = time.monotonic() + stall
    running: list[dict] = []
    fewest = None
    while time.monotonic() < deadline:
        try:
            running = list_all(base, token, "/actions?status=running", "actions")
        except (NoAnswer, RuntimeError):
            running = [{"id": "?", "status": "unreachable"}]
        if not running:
            return []
        if fewest is None or len(running) < fewest:
            fewest = len(running)
            deadline = time.monotonic() + stall
        time.sleep(0.5)
    return running


def verify(srv: StratusServer, token: str, L: Ledger, recovery_timeout: float) -> list[str]:
    base = srv.hetzner
    problems: list[str] = []
    t0 = time.monotonic()
    running = wait_no_running(base, token, recovery_timeout)
    if running:
        # What follows compares lists with the ledger: on a state still changing, pages shift
        # and deletes land between the reads, which would only add false reports.
        return [f"{len(running)} actions still running, none ended for {recovery_timeout}s: "
                f"{[a.get('id') for a in running[:10]]}"]
    print(f"    recovery: no running actions after {time.monotonic() - t0:.1f}s")

    servers = list_all(base, token, "/servers", "servers")
    keys = list_all(base, token, "/ssh_keys", "ssh_keys")
    by_id_s: dict[int, list[dict]] = {}
    for s in servers:
        by_id_s.setdefault(s["id"], []).append(s)
    by_id_k: dict[int, list[dict]] = {}
    for k in keys:
        by_id_k.setdefault(k["id"], []).append(k)
    names_s = [s["name"] for s in servers]
    names_k = [k["name"] for k in keys]
    for kind, ids, names in (("server", by_id_s, names_s), ("ssh_key", by_id_k, names_k)):
        dup_ids = [i for i, v in ids.items() if len(v) > 1]
        if dup_ids:
            problems.append(f"duplicate {kind} ids listed: {dup_ids[:10]}")
        dup_names = sorted({n for n in names if names.count(n) > 1})
        if dup_names:
            problems.append(f"duplicate {kind} names: {dup_names[:10]}")

    def action_status(aid):
        try:
            st, doc = call(base, token, "GET", f"/actions/{aid}")
        except NoAnswer as e:
            return None, f"no answer: {e}"
        if st != 200:
            return None, f"HTTP {st} {doc}"
        return doc["action"], None

    # servers
    for sid, name in L.servers.items():
        present = by_id_s.get(sid)
        if sid in L.server_deleted:
            if present:
                aid = L.server_deleted[sid]
                a, err = action_status(aid) if aid is not None else (None, "no action id")
                if not (a and a["status"] == "error"):
                    problems.append(f"server {sid} ({name}): delete acknowledged (action {aid}: "
                                    f"{a['status'] if a else err}) but the server still exists")
            continue
        if ("server", sid) in L.delete_unknown:
            continue  # the delete may or may not have been taken
        if not present:
            problems.append(f"server {sid} ({name}): create acknowledged but the server is gone")
            continue
        if present[0]["name"] != name:
            problems.append(f"server {sid}: name {present[0]['name']!r}, acknowledged {name!r}")
    for s in servers:
        if s["status"] in TRANSITIONAL:
            problems.append(f"server {s['id']} ({s['name']}) left in status {s['status']} after recovery")
    # ssh keys
    for kid, name in L.keys.items():
        present = by_id_k.get(kid)
        if kid in L.key_deleted:
            if present:
                problems.append(f"ssh key {kid} ({name}): delete acknowledged (204) but the key still exists")
            continue
        if ("ssh_key", kid) in L.delete_unknown:
            continue
        if not present:
            problems.append(f"ssh key {kid} ({name}): create acknowledged but the key is gone")
        elif present[0]["name"] != name:
            problems.append(f"ssh key {kid}: name {present[0]['name']!r}, acknowledged {name!r}")
    # creates answered with an error must not have created anything
    existing = {("server", n) for n in names_s} | {("ssh_key", n) for n in names_k}
    for kind, name in sorted(L.rejected_names & existing):
        problems.append(f"{kind} {name}: create was answered with an error but the resource exists")
    # actions
    bad_actions = 0
    for aid in sorted(L.actions):
        a, err = action_status(aid)
        if a is None:
            problems.append(f"acknowledged action {aid} cannot be read: {err}")
            bad_actions += 1
        elif a["status"] not in ("success", "error"):
            problems.append(f"action {aid} ({a['command']}) ended as {a['status']!r}")
            bad_actions += 1
        elif a["finished"] is None:
            problems.append(f"action {aid} ({a['command']}) is {a['status']} without 'finished'")
        elif a["status"] == "success" and a["progress"] != 100:
            problems.append(f"action {aid} ({a['command']}) succeeded with progress {a['progress']}")
        elif a["status"] == "error" and not (a.get("error") or {}).get("code"):
            problems.append(f"action {aid} ({a['command']}) failed without an error code")
        if bad_actions > 20:
            problems.append("... (more action problems omitted)")
            break
    # all actions, not only the acknowledged ones
    try:
        all_actions = list_all(base, token, "/actions", "actions")
        stuck = [a["id"] for a in all_actions if a["status"] not in ("success", "error")]
        if stuck:
            problems.append(f"actions not ended after recovery: {stuck[:10]}")
        errs: dict[str, int] = {}
        for a in all_actions:
            if a["status"] == "error":
                k = f"{a['command']}:{(a.get('error') or {}).get('code')}"
                errs[k] = errs.get(k, 0) + 1
        print(f"    state: {len(servers)} servers, {len(keys)} ssh keys, {len(all_actions)} actions "
              f"({sum(errs.values())} error{' ' + str(errs) if errs else ''})")
    except (NoAnswer, RuntimeError) as e:
        problems.append(f"GET /actions failed: {e}")
    return problems


# ---------------------------------------------------------------------------------------------
def run_mode(timing: str, cycles: int, threads: int, rng: random.Random, recovery_timeout: float) -> list[str]:
    print(f"== crash test, timing={timing}, {cycles} cycles, {threads} threads")
    srv = StratusServer(timing=timing, extra_args=["--rate-limit", "1000000000"],
                        name=f"stratus-crash-{timing}")
    problems: list[str] = []
    try:
        srv.start()
        token = srv.token()
        keys = keygen_pool(150 * cycles)
        ledger = Ledger()
        for cycle in range(1, cycles + 1):
            load = Load(srv.hetzner, token, ledger, keys, rng, tag=f"{timing[0]}{cycle}")
            ts = load.run(threads)
            pause = rng.uniform(1.5, 3.5)
            time.sleep(pause)
            srv.kill9()  # mid-flight
            load.stop.set()
            for t in ts:
                t.join(30)
            c = ledger.counts
            print(f"  cycle {cycle}: killed after {pause:.1f}s; answers so far: {c['ack']} acknowledged, "
                  f"{c['rejected']} rejected {ledger.errors or ''}, {c['unknown']} without answer")
            try:
                srv.restart()
            except RuntimeError as e:
                problems.append(f"cycle {cycle}: restart failed: {e}")
                break
            # the token survives the crash
            st, doc = call(srv.hetzner, token, "GET", "/servers?per_page=1")
            if st != 200:
                problems.append(f"cycle {cycle}: token rejected after restart: {st} {doc}")
                break
            p = verify(srv, token, ledger, recovery_timeout)
            problems += [f"[{timing} cycle {cycle}] {x}" for x in p]
            print(f"  cycle {cycle}: {'OK' if not p else f'{len(p)} problems'}")
        # the server still works after the crashes
        if not problems:
            st, doc = call(srv.hetzner, token, "POST", "/servers",
                           {"name": f"after-crash-{timing}", "server_type": "cx22", "image": "ubuntu-24.04"})
            if st != 201:
                problems.append(f"[{timing}] create after recovery failed: {st} {doc}")
    except Exception as e:  # noqa: BLE001 - report, don't hide
        problems.append(f"[{timing}] crashed test harness: {type(e).__name__}: {e}")
    finally:
        if problems:
            print("  server log tail:\n" + "\n".join("    " + ln for ln in srv.log_tail(30).splitlines()))
        srv.cleanup()
    return problems


def total(base: str, token: str, path: str) -> int:
    status, doc = call(base, token, "GET", path)
    if status != 200:
        raise NoAnswer(f"GET {path}: {status}")
    return doc["meta"]["pagination"]["total_entries"]


def run_churn(rounds: int, interval: float, threads: int, rng: random.Random, recovery_timeout: float) -> list[str]:
    print(f"== churn: realistic timing, kill -9 every {interval:.1f}s for {rounds} rounds, {threads} threads")
    # Unthrottled clients queue thousands of actions in a few seconds; the default pool
    # (--action-workers 256) would take minutes to work them off at realistic timing. The
    # churn checks durability and resumption, not that pool's throughput.
    srv = StratusServer(timing="realistic", extra_args=["--rate-limit", "0", "--action-workers", "8192"],
                        name="stratus-churn")
    problems: list[str] = []
    try:
        srv.start()
        token = srv.token()
        ledger = Ledger()
        load = Load(srv.hetzner, token, ledger, keygen_pool(100), rng, tag="churn")
        ts = load.run(threads)
        running_seen = 0
        for rnd in range(1, rounds + 1):
            time.sleep(interval)
            try:
                running_seen = max(running_seen, total(srv.hetzner, token, "/servers?status=running&per_page=1"))
            except NoAnswer:
                pass
            srv.kill9()
            try:
                srv.restart()
            except RuntimeError as e:
                problems.append(f"[churn] round {rnd}: restart failed: {e}")
                break
            load.base = srv.hetzner  # the port may have changed
        load.stop.set()
        for t in ts:
            t.join(30)
        c = ledger.counts
        locked = ledger.errors.get("locked", 0)
        deletes = len(ledger.server_deleted)
        print(f"  {rounds} rounds: {c['ack']} acknowledged, {c['rejected']} rejected ({locked} locked), "
              f"{c['unknown']} without answer; {deletes} server deletes taken; "
              f"at most {running_seen} servers running during the churn")
        if running_seen == 0:
            problems.append("[churn] no server came up while the server restarted every "
                            f"{interval:.1f}s: resumed steps start over")
        if deletes == 0:
            problems.append("[churn] no server delete was taken during the churn")
        p = verify(srv, token, ledger, recovery_timeout)
        problems += [f"[churn] {x}" for x in p]
        print(f"  churn: {'OK' if not p else f'{len(p)} problems'}")
    except Exception as e:  # noqa: BLE001 - report, don't hide
        problems.append(f"[churn] crashed test harness: {type(e).__name__}: {e}")
    finally:
        if problems:
            print("  server log tail:\n" + "\n".join("    " + ln for ln in srv.log_tail(30).splitlines()))
        srv.cleanup()
    return problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--timing", choices=["instant", "realistic", "both"], default="both")
    ap.add_argument("--cycles", type=int, default=2)
    ap.add_argument("--threads", type=int, default=16)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--recovery-timeout", type=float, default=60.0,
                    help="give up when no action has ended for this long")
    ap.add_argument("--churn-rounds", type=int, default=12)
    ap.add_argument("--churn-interval", type=float, default=4.0)
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    print(f"seed {seed}")
    rng = random.Random(seed)
    modes = ["instant", "realistic"] if args.timing == "both" else [args.timing]
    problems = []
    for m in modes:
        problems += run_mode(m, args.cycles, args.threads, rng, args.recovery_timeout)
    if args.churn_rounds > 0:
        problems += run_churn(args.churn_rounds, args.churn_interval, args.threads, rng, args.recovery_timeout)
    print()
    if problems:
        for p in problems[:100]:
            print("FAIL", p)
        print(f"crash test: {len(problems)} problems (seed {seed})")
        return 1
    print(f"crash test: all checks passed (seed {seed})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
