"""Issue load: N concurrent kiosk clients take tickets against a real gunicorn.

    .venv/bin/python bench/issue_load.py [--clients 1 10 50] [--seconds 20] [--worker gevent|gthread]

Starts gunicorn (gunicorn.conf.py) on a loopback port with a fresh database,
drives `POST /api/v1/tickets` with wrk (Debian package `wrk`), and prints
tickets/s, latency p50/p99/max and errors per client count; then checks in
the database that every 2xx became exactly one ticket with no repeated number.
"""

import argparse
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from conftest import Server  # noqa: E402

LUA = """
wrk.method = "POST"
wrk.body = '{"service_id": %(service_id)d}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %(token)s"
done = function(summary, latency, requests)
  io.write(string.format("JSON {\\"requests\\": %%d, \\"errors\\": %%d, \\"non2xx\\": %%d, " ..
    "\\"p50\\": %%d, \\"p99\\": %%d, \\"max\\": %%d, \\"seconds\\": %%f}\\n",
    summary.requests, summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout, summary.errors.status, latency:percentile(50), latency:percentile(99),
    latency.max, summary.duration / 1e6))
end
"""


def prepare(srv):
    admin = srv.session()
    url = srv.url + "/api/v1"
    agency = admin.post(url + "/agencies", json={"code": "BENCH", "name": "Bench"}).json()
    service = admin.post(url + "/services", json={"agency_id": agency["id"], "prefix": "A",
                                                  "name": "Bench"}).json()
    token = admin.post(url + "/devices", json={"kind": "kiosk", "name": "K"}).json()["token"]
    return service["id"], token


def run_wrk(srv, script, clients, seconds):
    threads = min(2, clients)
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{clients}", f"-d{seconds}s", "--timeout", "5s", "-s", script,
         srv.url + "/api/v1/tickets"],
        capture_output=True, text=True, timeout=seconds + 60,
    ).stdout
    line = next(l for l in out.splitlines() if l.startswith("JSON "))
    return json.loads(line[5:])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--worker", default="gevent", choices=["gevent", "gthread"])
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="giliran-bench-"))
    env = {"MPP_LOG_LEVEL": "warning"}
    if args.worker == "gthread":
        env["MPP_WORKER_CLASS"] = "gthread"
    srv = Server(workdir / "mpp.db", env=env).start()
    try:
        service_id, token = prepare(srv)
        script = workdir / "issue.lua"
        script.write_text(LUA % {"service_id": service_id, "token": token})
        print(f"worker={args.worker} seconds={args.seconds} cores={os.cpu_count()}")
        print(f"{'clients':>7} {'tickets/s':>10} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'errors':>6}")
        total_ok = 0
        for clients in args.clients:
            r = run_wrk(srv, script, clients, args.seconds)
            ok = r["requests"] - r["non2xx"]
            total_ok += ok
            print(f"{clients:>7} {ok / r['seconds']:>10.0f} {r['p50'] / 1000:>7.1f} "
                  f"{r['p99'] / 1000:>7.1f} {r['max'] / 1000:>7.1f} {r['errors'] + r['non2xx']:>6}")
        conn = sqlite3.connect(workdir / "mpp.db")
        count, distinct, top = conn.execute(
            "SELECT count(*), count(DISTINCT seq), max(seq) FROM tickets").fetchone()
        print(f"database: {count} tickets, {distinct} distinct numbers, highest {top} "
              f"(wrk counted {total_ok} answered 2xx; requests cut off at the end may add a few)")
    finally:
        srv.stop()


if __name__ == "__main__":
    main()
