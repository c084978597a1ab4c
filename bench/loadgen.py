#!/usr/bin/env python3
"""Load generator for the Stratus benchmark (aiohttp), one project, simulator, instant timing.

Phases, in order:
  fill:   POST /servers with --concurrency clients up to --servers servers, each labelled
          group=g<i % 100> (1 % of servers per value) and tier=t<i % 10> (10 %); prints creates/s
          for the first --baseline servers (an empty project) and for every window of --window
          servers after that, with create p99 per window.
  mix:    at --mix-at servers and again at the end: --concurrency clients for --mix-seconds, each
          request GET /servers/{random id} or (one in four) GET /servers?per_page=50&page=<random>;
          prints requests/s and p50/p99 per kind.
  lists:  at the end, one client: GET /servers?per_page=50, ?label_selector=group=g7 (1 %) and
          ?label_selector=tier=t3 (10 %), and GET /primary_ips?per_page=50 at the first page and deep in
          the 2 x servers primary IPs, --list-requests each; prints p50/p99.
Latencies run from sending a request until its whole answer arrived; this client's JSON parsing
comes after the clock stops (the mix does not parse at all), so the figures are the server's.
  extras: --with-attachments N: N servers created with a volume and a network each, creates/s.
Every line that starts with RESULT is a figure the README quotes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time

import aiohttp


def pct(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, int(round(p / 100.0 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


class Api:
    def __init__(self, session: aiohttp.ClientSession, base: str):
        self.s = session
        self.base = base.rstrip("/")

    async def timed(self, method: str, path: str, body=None) -> tuple[int, bytes, float]:
        """The status, the body and the seconds until the whole body arrived: the
        latency the server gives a client, without this client's own JSON parsing (which
        costs more than the server's answer for a page of 50, and whose garbage
        collection pauses would show up as the server's tail)."""
        t0 = time.perf_counter()
        async with self.s.request(method, self.base + path, json=body) as r:
            raw = await r.read()
            return r.status, raw, time.perf_counter() - t0

    async def call(self, method: str, path: str, body=None) -> tuple[int, dict]:
        status, raw, _ = await self.timed(method, path, body)
        return status, parse(raw)


def parse(raw: bytes) -> dict:
    try:
        return json.loads(raw) if raw else {}
    except ValueError:
        return {}


def code_of(status: int, doc: dict) -> str:
    return (doc.get("error") or {}).get("code") or f"http_{status}"


async def fill(api: Api, start: int, stop: int, concurrency: int, ids: list[int], errors: dict,
               extra=None) -> tuple[float, list[float]]:
    """Creates servers start..stop; returns (seconds, latencies)."""
    counter = iter(range(start, stop))
    latencies: list[float] = []

    async def worker():
        for i in counter:
            body = {"name": f"bench-{i:06d}", "server_type": "cx22", "image": "ubuntu-24.04",
                    "location": "fsn1", "labels": {"group": f"g{i % 100}", "tier": f"t{i % 10}"}}
            if extra:
                body.update(await extra(i))
            t0 = time.perf_counter()
            try:
                status, raw, seconds = await api.timed("POST", "/servers", body)
            except Exception as e:  # noqa: BLE001
                errors[type(e).__name__] = errors.get(type(e).__name__, 0) + 1
                latencies.append(time.perf_counter() - t0)
                continue
            latencies.append(seconds)
            doc = parse(raw)
            if status == 201:
                ids.append(doc["server"]["id"])
            else:
                c = code_of(status, doc)
                errors[c] = errors.get(c, 0) + 1

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    latencies.sort()
    return time.perf_counter() - t0, latencies


async def settle(api: Api):
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < 300:
        status, doc = await api.call("GET", "/actions?status=running&per_page=1")
        if status != 200 or not doc.get("actions"):
            return time.perf_counter() - t0
        await asyncio.sleep(0.5)
    return time.perf_counter() - t0


async def timed_gets(api: Api, path_fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        status, _, seconds = await api.timed("GET", path_fn())
        if status == 200:
            out.append(seconds)
    out.sort()
    return out


async def mix(api: Api, ids: list[int], seconds: float, concurrency: int) -> dict:
    pages = max(1, (len(ids) + 49) // 50)
    lat = {"get": [], "list": []}
    deadline = time.perf_counter() + seconds
    errors = 0

    async def worker():
        nonlocal errors
        while time.perf_counter() < deadline:
            if random.random() < 0.25:
                kind, path = "list", f"/servers?per_page=50&page={random.randint(1, pages)}"
            else:
                kind, path = "get", f"/servers/{random.choice(ids)}"
            status, _, seconds = await api.timed("GET", path)
            if status == 200:
                lat[kind].append(seconds)
            else:
                errors += 1

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - t0
    for v in lat.values():
        v.sort()
    n = len(lat["get"]) + len(lat["list"])
    return {"rps": n / elapsed, "errors": errors,
            "get_p50": pct(lat["get"], 50) * 1e3, "get_p99": pct(lat["get"], 99) * 1e3,
            "list_p50": pct(lat["list"], 50) * 1e3, "list_p99": pct(lat["list"], 99) * 1e3}


def report_mix(at: int, m: dict, tag: str):
    print(f"mix at {at} servers ({tag}): {m['rps']:.0f} req/s; GET /servers/{{id}} p50 {m['get_p50']:.2f} ms "
          f"p99 {m['get_p99']:.2f} ms; list page p50 {m['list_p50']:.2f} ms p99 {m['list_p99']:.2f} ms; "
          f"errors {m['errors']}")
    print(f"RESULT mix_rps_{tag}={m['rps']:.0f} mix_get_p50_ms_{tag}={m['get_p50']:.2f} "
          f"mix_get_p99_ms_{tag}={m['get_p99']:.2f}")


async def attachments(api: Api, n: int, concurrency: int) -> None:
    status, doc = await api.call("POST", "/networks", {"name": "bench-net", "ip_range": "10.0.0.0/8",
                                 "subnets": [{"type": "cloud", "network_zone": "eu-central",
                                              "ip_range": "10.0.0.0/12"}]})
    if status != 201:
        print(f"attachments: cannot create the network: {status} {doc}", file=sys.stderr)
        return
    network = doc["network"]["id"]

    async def extra(i: int) -> dict:
        s, d = await api.call("POST", "/volumes", {"name": f"bench-vol-{i:06d}", "size": 10, "location": "fsn1"})
        if s != 201:
            raise RuntimeError(f"volume: {s} {d}")
        return {"volumes": [d["volume"]["id"]], "networks": [network]}

    errors: dict = {}
    ids: list[int] = []
    # Volumes must exist (be available) before they attach: make them first, untimed.
    vols = []
    for i in range(n):
        vols.append(await extra(1_000_000 + i))
    await settle(api)
    it = iter(vols)

    async def given(_i: int) -> dict:
        return next(it)

    secs, lat = await fill(api, 1_000_000, 1_000_000 + n, concurrency, ids, errors, extra=given)
    print(f"creates with a volume and a network attached: {n} in {secs:.2f} s = {n / secs:.0f} creates/s, "
          f"p99 {pct(lat, 99) * 1e3:.1f} ms; errors {errors or 0}")
    print(f"RESULT attached_creates_per_second={n / secs:.0f}")


async def amain(args) -> int:
    headers = {"Authorization": f"Bearer {args.token}"}
    timeout = aiohttp.ClientTimeout(total=120)
    conn = aiohttp.TCPConnector(limit=args.concurrency)
    async with aiohttp.ClientSession(headers=headers, timeout=timeout, connector=conn) as session:
        api = Api(session, args.endpoint)
        ids: list[int] = []
        errors: dict = {}
        marks = sorted({args.baseline, args.mix_at, *range(args.baseline + args.window, args.servers + 1, args.window),
                        args.servers})
        done = 0
        window_rates = []
        for mark in marks:
            secs, lat = await fill(api, done, mark, args.concurrency, ids, errors)
            n = mark - done
            rate = n / secs if secs > 0 else 0.0
            print(f"fill {done:>7}..{mark:<7}: {rate:7.0f} creates/s, p50 {pct(lat, 50) * 1e3:6.1f} ms, "
                  f"p99 {pct(lat, 99) * 1e3:6.1f} ms", flush=True)
            if done == 0:
                print(f"RESULT empty_project_creates_per_second={rate:.0f}")
            elif mark > args.baseline:
                window_rates.append((rate, pct(lat, 99) * 1e3))
            done = mark
            if mark == args.mix_at:
                await settle(api)
                report_mix(mark, await mix(api, ids, args.mix_seconds, args.concurrency), "small")
        if window_rates:
            slowest = min(r for r, _ in window_rates)
            print(f"RESULT filling_creates_per_second_min={slowest:.0f} "
                  f"filling_create_p99_ms_max={max(p for _, p in window_rates):.1f}")
        print(f"create errors: {sum(errors.values())} {errors or ''}")
        print(f"actions settled after {await settle(api):.1f} s")

        for name, path in [("page", "/servers?per_page=50"),
                           ("selector_1pct", "/servers?per_page=50&label_selector=group%3Dg7"),
                           ("selector_10pct", "/servers?per_page=50&label_selector=tier%3Dt3"),
                           # Every server has a primary IPv4 and IPv6: 200,000 of them.
                           ("primary_ips", "/primary_ips?per_page=50"),
                           ("primary_ips_deep", f"/primary_ips?per_page=50&page={len(ids) // 50}")]:
            await timed_gets(api, lambda: path, 20)
            lat = await timed_gets(api, lambda: path, args.list_requests)
            print(f"GET {path} with {len(ids)} servers: p50 {pct(lat, 50) * 1e3:.2f} ms, "
                  f"p99 {pct(lat, 99) * 1e3:.2f} ms ({len(lat)} requests)")
            print(f"RESULT list_{name}_p50_ms={pct(lat, 50) * 1e3:.2f} list_{name}_p99_ms={pct(lat, 99) * 1e3:.2f}")
        report_mix(len(ids), await mix(api, ids, args.mix_seconds, args.concurrency), "large")
        if args.with_attachments:
            await attachments(api, args.with_attachments, args.concurrency)
    return 1 if errors else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--endpoint", required=True, help="http://127.0.0.1:PORT/hetzner/v1")
    ap.add_argument("--token", required=True)
    ap.add_argument("--servers", type=int, default=100_000)
    ap.add_argument("--baseline", type=int, default=1_000, help="servers of the empty-project figure")
    ap.add_argument("--window", type=int, default=10_000)
    ap.add_argument("--mix-at", type=int, default=2_000)
    ap.add_argument("--mix-seconds", type=float, default=20.0)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--list-requests", type=int, default=1_000)
    ap.add_argument("--with-attachments", type=int, default=0)
    return asyncio.run(amain(ap.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
