"""The ceiling: Giliran's real issue path beside two reference handlers, in one run.

    .venv/bin/python bench/ceiling.py [--clients 50] [--seconds 10] [--services 16]

Starts, one after another, each under gunicorn with one gevent worker:
  bare     a Flask-SocketIO handler that emits and touches no database;
  trivial  a handler with one `BEGIN IMMEDIATE` number + insert at
           `synchronous=FULL` per request, then an emit (bench/ceiling_app.py);
  giliran  the real server (gunicorn.conf.py, wsgi:app), POST /api/v1/tickets
           with a kiosk token, tickets spread over 16 services.
Drives each with the same wrk load and prints tickets/s, p50/p99/max and the
ratio of Giliran to the trivial handler (the goal of issue 17 is >= 1.0 with
p99 <= 100 ms).
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from conftest import Server, free_port  # noqa: E402
from issue_load import LUA, prepare, run_wrk, seed_voice_pack  # noqa: E402

GUNICORN = str(Path(sys.executable).with_name("gunicorn"))


class Reference:
    """bench/ceiling_app.py under gunicorn, one gevent worker, on a loopback port."""

    def __init__(self, mode, workdir):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, CEILING_MODE=mode, CEILING_DB=str(workdir / f"{mode}.db"))
        self.proc = subprocess.Popen(
            [GUNICORN, "-k", "gevent", "-w", "1", "--worker-connections", "2000",
             "-b", f"127.0.0.1:{self.port}", "--log-level", "warning", "ceiling_app:app"],
            cwd=ROOT / "bench", env=env)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/health", timeout=1).ok:
                    return
            except requests.RequestException:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"reference {mode} did not start")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--services", type=int, default=16)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="giliran-ceiling-"))
    script = workdir / "issue.lua"
    rows = {}
    for mode in ("bare", "trivial"):
        ref = Reference(mode, workdir)
        try:
            script.write_text(LUA % {"service_ids": ", ".join(str(i + 1) for i in range(args.services)),
                                     "token": "none"})
            rows[mode] = run_wrk(ref, script, args.clients, args.seconds)
        finally:
            ref.stop()
    # The real server: no per-device issue limit in the way of a benchmark, and its voice
    # pack already made (a new database makes it in the background, on every core).
    seed_voice_pack(workdir / "mpp.db")
    srv = Server(workdir / "mpp.db", env={"MPP_LOG_LEVEL": "warning",
                                          "MPP_KIOSK_ISSUES_PER_MINUTE": "1000000"}).start()
    try:
        ids, token = prepare(srv, args.services)
        script.write_text(LUA % {"service_ids": ", ".join(map(str, ids)), "token": token})
        rows["giliran"] = run_wrk(srv, script, args.clients, args.seconds)
    finally:
        srv.stop()
    print(f"wrk: {args.clients} connections, {args.seconds} s, {args.services} services, "
          f"{os.cpu_count()} cores, one gunicorn gevent worker each")
    print(f"{'handler':<9} {'tickets/s':>10} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'errors':>6}")
    rates = {}
    for name, r in rows.items():
        ok = r["requests"] - r["non2xx"]
        rates[name] = ok / r["seconds"]
        print(f"{name:<9} {rates[name]:>10.0f} {r['p50'] / 1000:>7.1f} {r['p99'] / 1000:>7.1f} "
              f"{r['max'] / 1000:>7.1f} {r['errors'] + r['non2xx']:>6}")
    print(f"ratio giliran / trivial = {rates['giliran'] / rates['trivial']:.2f}, "
          f"giliran / bare = {rates['giliran'] / rates['bare']:.2f}")


if __name__ == "__main__":
    main()
