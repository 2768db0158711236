"""Webhooks: deliveries a second to a fast receiver, and the kiosk's latency while a dead
receiver has a backlog.

    .venv/bin/python bench/webhooks.py [--deliveries 1000] [--requests 300]

1. A fresh gunicorn (one gevent worker) and a fast receiver on loopback (http.server, threads,
   in this process). The webhook is held (paused) while --deliveries tickets are issued, then
   resumed: the time until the receiver has seen every delivery gives deliveries/s.
2. A fresh gunicorn with no webhook: --requests kiosk issues one after another, p50/p99.
3. A fresh gunicorn whose webhook points at a closed port, --deliveries tickets issued to
   queue that many deliveries for it, then --requests kiosk issues measured the same way
   (each queues one more delivery).
"""

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from conftest import Server, free_port  # noqa: E402
from webhook_receiver import Receiver  # noqa: E402

# One benchmark kiosk issues far more than a real one may in a minute.
ENV = {"MPP_KIOSK_ISSUES_PER_MINUTE": "1000000"}


def mpp(srv):
    admin = srv.session()
    url = srv.url + "/api/v1"
    agency = admin.post(url + "/agencies", json={"code": "B", "name": "Bench"}).json()["id"]
    service = admin.post(url + "/services", json={"agency_id": agency, "prefix": "A",
                                                   "name": "Layanan"}).json()["id"]
    token = admin.post(url + "/devices", json={"kind": "kiosk", "name": "Kiosk"}).json()["token"]
    kiosk = requests.Session()
    kiosk.headers["Authorization"] = f"Bearer {token}"
    return admin, service, kiosk


def issue_many(srv, kiosk, service, n):
    for _ in range(n):
        r = kiosk.post(srv.url + "/api/v1/tickets", json={"service_id": service})
        assert r.status_code == 201, r.text


def timed_issues(srv, kiosk, service, n):
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        r = kiosk.post(srv.url + "/api/v1/tickets", json={"service_id": service})
        times.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 201, r.text
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.99))], times[-1]


def throughput(tmp, n):
    srv = Server(Path(tmp) / "a.db", env=ENV).start()
    try:
        admin, service, kiosk = mpp(srv)
        with Receiver() as rx:
            hook = admin.post(srv.url + "/api/v1/webhooks", json={
                "url": rx.url, "events": ["ticket.issued"], "secret": "bench"}).json()
            db = sqlite3.connect(srv.db_path)
            db.execute("UPDATE webhooks SET paused_ts = 1 WHERE id = ?", (hook["id"],))
            db.commit()
            db.close()
            issue_many(srv, kiosk, service, n)
            t0 = time.perf_counter()
            assert admin.post(srv.url + f"/api/v1/webhooks/{hook['id']}/resume").status_code == 200
            deadline = time.monotonic() + 300
            while len(rx.received) < n and time.monotonic() < deadline:
                time.sleep(0.01)
            elapsed = time.perf_counter() - t0
            got = len({r["raw"] for r in rx.received})
        return got, elapsed
    finally:
        srv.stop()


def kiosk_latency(tmp, name, queued, requests_n, dead_port=None):
    srv = Server(Path(tmp) / f"{name}.db", env=ENV).start()
    try:
        admin, service, kiosk = mpp(srv)
        issue_many(srv, kiosk, service, 20)  # warm up
        if dead_port is not None:
            admin.post(srv.url + "/api/v1/webhooks", json={
                "url": f"http://127.0.0.1:{dead_port}/down", "events": ["ticket.issued"],
                "secret": "bench"})
            issue_many(srv, kiosk, service, queued)
        figures = timed_issues(srv, kiosk, service, requests_n)
        pending = None
        if dead_port is not None:
            pending = admin.get(srv.url + "/api/v1/webhooks").json()[0]["pending"]
        return figures, pending
    finally:
        srv.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        got, elapsed = throughput(tmp, args.deliveries)
        print(f"fast receiver: {got} of {args.deliveries} deliveries in {elapsed:.2f} s = "
              f"{got / elapsed:.0f} deliveries/s")
        (p50, p99, worst), _ = kiosk_latency(tmp, "b", 0, args.requests)
        print(f"kiosk issue, no webhook:                       p50 {p50:.1f} ms  p99 {p99:.1f} ms  "
              f"max {worst:.1f} ms  ({args.requests} requests)")
        (p50, p99, worst), pending = kiosk_latency(tmp, "c", args.deliveries, args.requests,
                                                   dead_port=free_port())
        print(f"kiosk issue, {args.deliveries} queued for a dead receiver: p50 {p50:.1f} ms  "
              f"p99 {p99:.1f} ms  max {worst:.1f} ms  ({pending} deliveries pending at the end)")


if __name__ == "__main__":
    main()
