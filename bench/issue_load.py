"""Issue load: N concurrent kiosk clients take tickets against a real gunicorn.

    .venv/bin/python bench/issue_load.py [--clients 1 10 50] [--seconds 20] [--worker gevent|gthread]

Starts gunicorn (gunicorn.conf.py) on a loopback port with a fresh database,
drives `POST /api/v1/tickets` with wrk (Debian package `wrk`), and prints
tickets/s, latency p50/p99/max and errors per client count; then checks in
the database that every 2xx became exactly one ticket with no repeated number.
"""

import argparse
import os
import sys
import tempfile
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import loadgen  # noqa: E402
from conftest import Server, seed_voice_pack  # noqa: E402

LUA = loadgen.REPORT_LUA.replace("%", "%%") + """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %(token)s"
local services = {%(service_ids)s}
local n = 0
request = function()
  n = n + 1
  local body = '{"service_id": ' .. services[(n %% #services) + 1] .. '}'
  return wrk.format(nil, nil, nil, body)
end
"""


def prepare(srv, services):
    admin = srv.session()
    url = srv.url + "/api/v1"
    agency = admin.post(url + "/agencies", json={"code": "BENCH", "name": "Bench"}).json()
    ids = [admin.post(url + "/services", json={"agency_id": agency["id"], "prefix": chr(65 + i),
                                               "name": f"Bench {i}"}).json()["id"]
           for i in range(services)]
    # A service no counter serves issues nothing: one counter serves them all.
    admin.post(url + "/counters", json={"agency_id": agency["id"], "number": 1, "service_ids": ids})
    token = admin.post(url + "/devices", json={"kind": "kiosk", "name": "K"}).json()["token"]
    return ids, token


def run_wrk(srv, script, clients, seconds):
    """wrk against the server's `POST /api/v1/tickets` (bench/ceiling.py drives the same)."""
    return loadgen.run(srv.url + "/api/v1/tickets", script, clients, seconds)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--services", type=int, default=16,
                        help="kiosks spread tickets over this many services (the demo MPP has 16)")
    parser.add_argument("--worker", default="gevent", choices=["gevent", "gthread"])
    args = parser.parse_args()
    # One kiosk token issues hundreds a second here: lift the per-device limit (120/min).
    env = {"MPP_LOG_LEVEL": "warning", "MPP_KIOSK_ISSUES_PER_MINUTE": "1000000"}
    if args.worker == "gthread":
        env["MPP_WORKER_CLASS"] = "gthread"
    print(f"worker={args.worker} seconds={args.seconds} services={args.services} "
          f"cores={os.cpu_count()}; a fresh server and database for each step")
    print(f"{'clients':>7} {'tickets/s':>10} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'errors':>6}"
          f"  database check")
    for clients in args.clients:
        workdir = Path(tempfile.mkdtemp(prefix="giliran-bench-"))
        seed_voice_pack(workdir / "mpp.db")
        srv = Server(workdir / "mpp.db", env=env).start()
        try:
            ids, token = prepare(srv, args.services)
            script = workdir / "issue.lua"
            script.write_text(LUA % {"service_ids": ", ".join(map(str, ids)), "token": token})
            r = run_wrk(srv, script, clients, args.seconds)
        finally:
            srv.stop()
        ok = loadgen.answered(r)
        count, repeats = loadgen.query(
            workdir, "SELECT count(*), count(*) - count(DISTINCT origin_service_id || ':' || seq) FROM tickets")
        (gaps,) = loadgen.query(
            workdir, "SELECT count(*) FROM (SELECT origin_service_id, max(seq) m, count(*) c FROM tickets "
                     "GROUP BY origin_service_id) WHERE m != c")
        check = f"{count} tickets ({count - ok:+d} vs 2xx seen), {repeats} repeats, {gaps} gaps"
        print(f"{loadgen.row(clients, r)}  {check}")


if __name__ == "__main__":
    main()
