#!/usr/bin/env python3
"""Load generator for the Stratus benchmark (aiohttp).

Phase 1 (create): POST /hetzner/v1/servers with --concurrency clients until --servers servers
                  were created; prints creates per second and the error count.
Phase 2 (list):   GET /hetzner/v1/servers?per_page=50 with --servers servers in the project;
                  prints p50/p90/p99/max latency (one client at a time, keep-alive), then the same
                  with --list-concurrency clients for throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time

import aiohttp


def pct(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, int(round(p / 100.0 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


async def create_phase(session: aiohttp.ClientSession, base: str, total: int, concurrency: int,
                       server_type: str, image: str) -> dict:
    counter = iter(range(total))
    errors: dict[str, int] = {}
    latencies: list[float] = []
    done = 0

    async def worker():
        nonlocal done
        for i in counter:
            body = {"name": f"bench-{i:06d}", "server_type": server_type, "image": image,
                    "location": "fsn1"}
            t0 = time.perf_counter()
            try:
                async with session.post(base + "/servers", json=body) as r:
                    payload = await r.read()
                    if r.status == 201:
                        done += 1
                    else:
                        try:
                            code = json.loads(payload)["error"]["code"]
                        except Exception:  # noqa: BLE001
                            code = f"http_{r.status}"
                        errors[code] = errors.get(code, 0) + 1
            except Exception as e:  # noqa: BLE001
                errors[type(e).__name__] = errors.get(type(e).__name__, 0) + 1
            latencies.append(time.perf_counter() - t0)

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - t0
    latencies.sort()
    return {"created": done, "errors": errors, "elapsed": elapsed,
            "rate": done / elapsed if elapsed > 0 else 0.0,
            "p50": pct(latencies, 50) * 1000, "p99": pct(latencies, 99) * 1000}


async def list_phase(session: aiohttp.ClientSession, url_fn, requests: int, concurrency: int) -> dict:
    latencies: list[float] = []
    errors: dict[str, int] = {}
    counter = iter(range(requests))
    entries = None

    async def worker():
        nonlocal entries
        for _ in counter:
            t0 = time.perf_counter()
            try:
                async with session.get(url_fn()) as r:
                    payload = await r.read()
                    dt = time.perf_counter() - t0
                    if r.status == 200:
                        latencies.append(dt)
                        if entries is None:
                            doc = json.loads(payload)
                            entries = (len(doc["servers"]), doc["meta"]["pagination"]["total_entries"])
                    else:
                        errors[f"http_{r.status}"] = errors.get(f"http_{r.status}", 0) + 1
            except Exception as e:  # noqa: BLE001
                errors[type(e).__name__] = errors.get(type(e).__name__, 0) + 1

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - t0
    latencies.sort()
    return {"n": len(latencies), "errors": errors, "elapsed": elapsed,
            "rps": len(latencies) / elapsed if elapsed > 0 else 0.0,
            "p50": pct(latencies, 50) * 1000, "p90": pct(latencies, 90) * 1000,
            "p99": pct(latencies, 99) * 1000, "max": (latencies[-1] * 1000 if latencies else float("nan")),
            "mean": (statistics.fmean(latencies) * 1000 if latencies else float("nan")),
            "entries": entries}


async def amain(args) -> int:
    headers = {"Authorization": f"Bearer {args.token}"}
    timeout = aiohttp.ClientTimeout(total=60)
    conn = aiohttp.TCPConnector(limit=max(args.concurrency, args.list_concurrency), force_close=False)
    async with aiohttp.ClientSession(headers=headers, timeout=timeout, connector=conn) as session:
        base = args.endpoint.rstrip("/")
        # how many servers exist already (re-runs against the same data dir)
        async with session.get(base + "/servers?per_page=1") as r:
            doc = await r.json()
            if r.status != 200:
                print(f"GET /servers failed: {r.status} {doc}", file=sys.stderr)
                return 2
            have = doc["meta"]["pagination"]["total_entries"]
        failed = False
        if not args.skip_create:
            res = await create_phase(session, base, args.servers, args.concurrency, args.server_type, args.image)
            print(f"server create (POST /hetzner/v1/servers, simulator, instant timing, "
                  f"{args.concurrency} concurrent clients):")
            print(f"  {res['created']} created in {res['elapsed']:.2f} s = {res['rate']:.0f} creates/s; "
                  f"errors: {sum(res['errors'].values())} {res['errors'] or ''}")
            print(f"  create latency p50 {res['p50']:.2f} ms, p99 {res['p99']:.2f} ms")
            print(f"RESULT creates_per_second={res['rate']:.0f} create_errors={sum(res['errors'].values())}")
            failed |= bool(res["errors"])
            have += res["created"]
        # let the create actions finish before measuring reads
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < 120:
            async with session.get(base + "/actions?status=running&per_page=1") as r:
                doc = await r.json()
                if r.status != 200 or not doc.get("actions"):
                    break
            await asyncio.sleep(0.5)
        print(f"  (actions settled after {time.perf_counter() - t0:.1f} s)")
        url = base + "/servers?per_page=50"
        # warm-up
        await list_phase(session, lambda: url, 50, 1)
        res = await list_phase(session, lambda: url, args.list_requests, 1)
        print(f"GET /hetzner/v1/servers?per_page=50 with {have} servers in the project "
              f"(1 client, keep-alive, {res['n']} requests):")
        print(f"  p50 {res['p50']:.2f} ms, p90 {res['p90']:.2f} ms, p99 {res['p99']:.2f} ms, "
              f"max {res['max']:.2f} ms, mean {res['mean']:.2f} ms; errors: {sum(res['errors'].values())}"
              f"{' ' + str(res['errors']) if res['errors'] else ''}; page check {res['entries']}")
        print(f"RESULT list_p50_ms={res['p50']:.2f} list_p99_ms={res['p99']:.2f}")
        failed |= bool(res["errors"])
        pages = max(1, (have + 49) // 50)
        res = await list_phase(session, lambda: f"{url}&page={random.randint(1, pages)}",
                               args.list_requests, 1)
        print(f"  random page of {pages}: p50 {res['p50']:.2f} ms, p99 {res['p99']:.2f} ms")
        res = await list_phase(session, lambda: url, args.list_requests * 2, args.list_concurrency)
        print(f"  {args.list_concurrency} concurrent clients: {res['rps']:.0f} req/s, "
              f"p50 {res['p50']:.2f} ms, p99 {res['p99']:.2f} ms, errors {sum(res['errors'].values())}")
    return 1 if failed else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--endpoint", required=True, help="http://127.0.0.1:PORT/hetzner/v1")
    ap.add_argument("--token", required=True)
    ap.add_argument("--servers", type=int, default=10000)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--list-requests", type=int, default=2000)
    ap.add_argument("--list-concurrency", type=int, default=8)
    ap.add_argument("--server-type", default="cx22")
    ap.add_argument("--image", default="ubuntu-24.04")
    ap.add_argument("--skip-create", action="store_true")
    return asyncio.run(amain(ap.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
