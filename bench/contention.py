"""Contention: 100 counters calling next on shared services at once, against a real gunicorn.

    .venv/bin/python bench/contention.py [--counters 100] [--tickets 3000]

Issues --tickets tickets over 3 services, opens --counters counters that all
serve those services, then every counter calls next (finishing the one before)
as fast as it can until the queue is empty. Prints calls/s, latency p50/p99/max,
and checks in the database that every ticket was called exactly once.
"""

import argparse
import asyncio
import sqlite3
import statistics
import sys
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import loadgen  # noqa: E402


def prepare(srv, counters, count):
    admin = srv.session()
    url = srv.url + "/api/v1"
    # Counters drain the line as fast as they can: the finish guard (10 s) is off here.
    admin.put(url + "/settings/counter", json={"finish_min_called_s": 0})
    agency = admin.post(url + "/agencies", json={"code": "B", "name": "Bench"}).json()["id"]
    services = [admin.post(url + "/services", json={"agency_id": agency, "prefix": p,
                                                    "name": f"Layanan {p}"}).json()["id"]
                for p in "ABC"]
    ids = []
    for n in range(1, counters + 1):
        ids.append(admin.post(url + "/counters", json={"agency_id": agency, "number": n,
                                                       "service_ids": services}).json()["id"])
        admin.post(url + f"/counters/{ids[-1]}/open")
    for n in range(count):
        admin.post(url + "/tickets", json={"service_id": services[n % 3],
                                           "priority": n % 10 == 0})
    return admin.cookies.get("giliran_session"), ids


async def counter_loop(http, url, counter, latencies, called):
    while True:
        t0 = time.perf_counter()
        async with http.post(f"{url}/api/v1/counters/{counter}/call-next",
                             json={"finish_current": True}) as resp:
            status = resp.status
            body = await resp.json() if status == 200 else None
        latencies.append((time.perf_counter() - t0) * 1000)
        if status == 204:
            return
        if status != 200:
            raise RuntimeError(f"counter {counter}: HTTP {status}")
        called.append(body["id"])


async def run(args):
    with loadgen.load_server("giliran-contention-") as srv:
        cookie, counters = prepare(srv, args.counters, args.tickets)
        latencies, called = [], []
        conn = aiohttp.TCPConnector(limit=args.counters + 10)
        async with aiohttp.ClientSession(cookies={"giliran_session": cookie}, connector=conn) as http:
            started = time.perf_counter()
            await asyncio.gather(*(counter_loop(http, srv.url, c, latencies, called) for c in counters))
            elapsed = time.perf_counter() - started
        db = sqlite3.connect(srv.db_path)
        calls = db.execute("SELECT count(*), count(DISTINCT ticket_id) FROM ticket_events "
                           "WHERE event = 'called'").fetchone()
        waiting = db.execute("SELECT count(*) FROM tickets WHERE status = 'waiting'").fetchone()[0]
        q = statistics.quantiles(latencies, n=100)
        print(f"{args.counters} counters, {args.tickets} tickets on 3 shared services")
        print(f"{len(called)} calls in {elapsed:.1f}s = {len(called) / elapsed:.0f} calls/s; "
              f"latency ms p50 {q[49]:.1f} p99 {q[98]:.1f} max {max(latencies):.1f}")
        print(f"answers: {len(called)} tickets, {len(set(called))} distinct; database: "
              f"{calls[0]} calls of {calls[1]} distinct tickets, {waiting} left waiting -> "
              f"{'no double call' if len(called) == len(set(called)) == calls[0] == calls[1] == args.tickets else 'DOUBLE CALL OR LOSS'}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--counters", type=int, default=100)
    parser.add_argument("--tickets", type=int, default=3000)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
