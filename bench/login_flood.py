"""Login flood: how a kiosk fares while N clients send wrong logins as fast as they can.

    .venv/bin/python bench/login_flood.py [--clients 20 100] [--seconds 8]

Starts gunicorn (gunicorn.conf.py) on a loopback port with a fresh database and
production password hashing (scrypt). For each client count, wrk (Debian
package `wrk`) floods `POST /api/v1/auth/login` with a new random username on
every request, while one kiosk asks `GET /api/v1/services` in a loop with its
device token; the kiosk's p50/p95/max are printed, with what the flood got.

Two floods per count:
- `one address`: every flooder on this machine's address (the issue's case);
  the per-address limit soon answers 429 without hashing.
- `new address each`: the server trusts 127.0.0.1 as a proxy
  (MPP_TRUSTED_PROXIES) and every request carries a new X-Forwarded-For, so no
  per-address or per-account limit holds and every request reaches scrypt: the
  worst case, left to the bounded hash pool (web/passwords.py).
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from conftest import Server  # noqa: E402

LUA = """
local n = 0
local spoof = %(spoof)s
math.randomseed(os.time() + %(seed)d)
request = function()
  n = n + 1
  local name = string.format("tebak%%d_%%d", math.random(1, 1000000000), n)
  local headers = {["Content-Type"] = "application/json"}
  if spoof then
    headers["X-Forwarded-For"] = string.format("10.%%d.%%d.%%d", math.random(0, 255),
                                               math.random(0, 255), math.random(1, 254))
  end
  return wrk.format("POST", "/api/v1/auth/login", headers,
                    '{"username": "' .. name .. '", "password": "salah-sekali"}')
end
statuses = {}
response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
done = function(summary, latency, requests)
  io.write(string.format("FLOOD requests=%%d p50=%%dms\\n", summary.requests,
                         latency:percentile(50) / 1000))
end
"""


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def kiosk_probe(url, token, stop, out):
    s = requests.Session()
    headers = {"Authorization": f"Bearer {token}"}
    while not stop.is_set():
        t0 = time.perf_counter()
        r = s.get(url + "/api/v1/services", headers=headers, timeout=30)
        out.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200, r.text
        time.sleep(0.02)


def quiet(srv, token, seconds):
    """The kiosk's latency with no flood, for comparison (the machine may be busy)."""
    latencies, stop = [], threading.Event()
    probe = threading.Thread(target=kiosk_probe, args=(srv.url, token, stop, latencies))
    probe.start()
    time.sleep(seconds)
    stop.set()
    probe.join(30)
    return latencies


def flood(srv, token, clients, seconds, spoof):
    script = Path(tempfile.mkdtemp(prefix="giliran-flood-")) / "flood.lua"
    script.write_text(LUA % {"spoof": "true" if spoof else "false", "seed": clients})
    latencies, stop = [], threading.Event()
    probe = threading.Thread(target=kiosk_probe, args=(srv.url, token, stop, latencies))
    probe.start()
    wrk = subprocess.Popen(
        ["wrk", "-t2", f"-c{clients}", f"-d{seconds}s", "--timeout", "10s", "-s", str(script),
         srv.url + "/api/v1/auth/login"], stdout=subprocess.PIPE, text=True)
    out, _ = wrk.communicate(timeout=seconds + 60)
    stop.set()
    probe.join(30)
    line = next((l for l in out.splitlines() if l.startswith("FLOOD ")), "FLOOD ?")
    return latencies, line[6:]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, nargs="+", default=[20, 100])
    parser.add_argument("--seconds", type=int, default=8)
    args = parser.parse_args()
    print(f"seconds={args.seconds} cores={os.cpu_count()} hashing=scrypt (werkzeug default)")
    print(f"{'flood':>18} {'clients':>7} {'kiosk p50 ms':>12} {'p95 ms':>7} {'max ms':>7} "
          f"{'kiosk reqs':>10}  flood")
    for spoof in (False, True):
        for clients in args.clients:
            workdir = Path(tempfile.mkdtemp(prefix="giliran-bench-"))
            env = {"MPP_LOG_LEVEL": "error"}
            if spoof:
                env["MPP_TRUSTED_PROXIES"] = "127.0.0.1"
            srv = Server(workdir / "mpp.db", env=env).start(timeout=90)
            try:
                token = srv.session().post(srv.url + "/api/v1/devices",
                                           json={"kind": "kiosk", "name": "K"}).json()["token"]
                if not spoof and clients == args.clients[0]:
                    lat = quiet(srv, token, min(3, args.seconds))
                    print(f"{'no flood':>18} {0:>7} {statistics.median(lat):>12.1f} "
                          f"{percentile(lat, 95):>7.1f} {max(lat):>7.1f} {len(lat):>10}")
                lat, summary = flood(srv, token, clients, args.seconds, spoof)
                print(f"{'new address each' if spoof else 'one address':>18} {clients:>7} "
                      f"{statistics.median(lat):>12.1f} {percentile(lat, 95):>7.1f} {max(lat):>7.1f} "
                      f"{len(lat):>10}  {summary}")
            finally:
                srv.stop()


if __name__ == "__main__":
    main()
