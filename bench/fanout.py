"""Fan-out: many Socket.IO clients connected while counters call; call -> event latency.

    .venv/bin/python bench/fanout.py [--clients 500] [--rate 20] [--seconds 15]

Starts gunicorn on loopback with a fresh database (10 agencies of 2 services
and 2 counters each), connects --clients websocket clients as a busy MPP has
them: --displays lobby TVs (all agencies), --consoles officers' consoles
(spread over the agencies, each hearing its own agency) and the rest tracking
pages of waiting tickets (each hearing its own ticket and its service's line),
then calls --rate tickets a second for --seconds. Prints the latency from
sending the call-next request to each client receiving its `ticket_called`,
p50/p99/max, missed events, and the worker's memory (RSS).
"""

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

import aiohttp
import requests
import socketio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import loadgen  # noqa: E402

AGENCIES = 10
PER_AGENCY = 2  # services, and counters
SERVICES = AGENCIES * PER_AGENCY


def worker_rss_mb(master_pid):
    """Resident memory of gunicorn's worker (the master's child)."""
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    for line in Path(f"/proc/{children[0]}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def prepare(srv, tickets_needed):
    admin = srv.session()
    url = srv.url + "/api/v1"
    services, counters, officers = [], [], []
    # Calls follow each other faster than a citizen walks: the finish guard (10 s) is off here.
    admin.put(url + "/settings/counter", json={"finish_min_called_s": 0})
    for a in range(AGENCIES):
        agency = admin.post(url + "/agencies", json={"code": f"B{a}", "name": f"Bench {a}"}).json()["id"]
        for i in range(PER_AGENCY):
            prefix = chr(ord("A") + a * PER_AGENCY + i)
            services.append(admin.post(url + "/services", json={
                "agency_id": agency, "prefix": prefix, "name": f"Layanan {prefix}"}).json()["id"])
        for i in range(PER_AGENCY):
            counters.append(admin.post(url + "/counters", json={
                "agency_id": agency, "number": i + 1,
                "service_ids": services[-PER_AGENCY:]}).json()["id"])
            admin.post(url + f"/counters/{counters[-1]}/open")
        admin.post(url + "/users", json={"username": f"petugas{a}", "password": "bench-password",
                                         "role": "officer", "agency_id": agency})
        officer = requests.Session()
        officer.post(url + "/auth/login", json={"username": f"petugas{a}", "password": "bench-password"})
        officers.append(officer.cookies.get("giliran_session"))
    display = admin.post(url + "/devices", json={"kind": "display", "name": "TV"}).json()["token"]
    codes = []
    for n in range(tickets_needed):
        r = admin.post(url + "/tickets", json={"service_id": services[n % SERVICES]})
        codes.append(r.json()["code"])
    return admin.cookies.get("giliran_session"), display, officers, counters, codes


async def run(args):
    with loadgen.load_server("giliran-fanout-") as srv:
        calls = args.rate * args.seconds
        cookie, display_token, officers, counters, codes = prepare(srv, calls + SERVICES)
        rss_before = worker_rss_mb(srv.proc.pid)
        received = []  # (kind, ticket_id, t_received)
        clients = []
        kinds = {"display": 0, "staff": 0, "tracking": 0}

        def listener(kind):
            client = socketio.AsyncClient(reconnection=False)

            @client.on("ticket_called")
            async def on_call(data):
                received.append((kind, data["ticket_id"], time.perf_counter()))

            return client

        started = time.perf_counter()
        for i in range(args.clients):
            if i < args.displays:
                kind, kw = "display", {"auth": {"token": display_token}}
            elif i < args.displays + args.consoles:
                officer = officers[i % AGENCIES]
                kind, kw = "staff", {"headers": {"Cookie": f"giliran_session={officer}"}}
            else:
                kind, kw = "tracking", {"auth": {"ticket": codes[i % len(codes)]}}
            client = listener(kind)
            await client.connect(srv.url, transports=["websocket"], wait_timeout=20, **kw)
            kinds[kind] += 1
            clients.append((kind, client))
        connect_s = time.perf_counter() - started
        rss_connected = worker_rss_mb(srv.proc.pid)

        sent = {}  # ticket_id -> t_sent
        async with aiohttp.ClientSession(cookies={"giliran_session": cookie}) as http:
            interval = 1 / args.rate
            next_at = time.perf_counter()
            for n in range(calls):
                counter = counters[n % len(counters)]
                t0 = time.perf_counter()
                async with http.post(f"{srv.url}/api/v1/counters/{counter}/call-next",
                                     json={"finish_current": True}) as resp:
                    body = await resp.json()
                sent[body["id"]] = t0
                next_at += interval
                await asyncio.sleep(max(0, next_at - time.perf_counter()))
        await asyncio.sleep(2)  # let the last events arrive
        rss_after = worker_rss_mb(srv.proc.pid)

        latencies = sorted((t - sent[tid]) * 1000 for _, tid, t in received if tid in sent)
        # Displays hear every call; a console hears its agency's calls.
        expected = calls * kinds["display"] + calls * kinds["staff"] // AGENCIES
        heard = sum(1 for kind, tid, _ in received if kind != "tracking" and tid in sent)
        q = statistics.quantiles(latencies, n=100)
        print(f"clients={args.clients} {kinds}, connected in {connect_s:.1f}s; "
              f"{calls} calls at {args.rate}/s")
        print(f"ticket_called received: {len(latencies)}; by displays and consoles: {heard} of "
              f"{expected} expected (missed {expected - heard})")
        print(f"call -> event latency ms: p50 {q[49]:.1f}  p99 {q[98]:.1f}  max {latencies[-1]:.1f}")
        print(f"worker RSS MB: {rss_before:.0f} before clients, {rss_connected:.0f} with clients, "
              f"{rss_after:.0f} after the calls")
        for _, client in clients:
            await client.disconnect()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--rate", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--displays", type=int, default=20)
    parser.add_argument("--consoles", type=int, default=60)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
