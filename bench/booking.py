"""Booking load: citizens' phones book seats against a real gunicorn, then kiosks check in.

    .venv/bin/python bench/booking.py [--clients 1 10 50] [--seconds 5] [--check-ins 300]

For each client count: a fresh gunicorn (gunicorn.conf.py, one gevent worker)
on a fresh database, whose clock is put at 09:00 on a Tuesday
(MPP_CLOCK_OFFSET_S); 16 services take bookings (08:00-15:00, 30-minute
slots, 1,000 seats each, 14 days ahead). wrk drives `POST /api/v1/bookings`
with a new phone number on every request, spread over every slot of the
next 14 days, while one kiosk takes a walk-in ticket every 100 ms: the
kiosk's latency during the flood is what the building notices. Prints
bookings/s, latency p50/p99/max, errors, the kiosk's p50/p99, and checks in
the database that every 2xx is exactly one booking and no seat is held twice.

Then check-in latency: bookings for today's 09:30 slot, checked in one after
another by a kiosk (inside the window), with p50/p99 of the answer.
"""

import argparse
import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import loadgen  # noqa: E402
from conftest import Server  # noqa: E402
from loadgen import pct  # noqa: E402

JAKARTA = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=JAKARTA)

LUA = loadgen.REPORT_LUA.replace("%", "%%") + """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local services = {%(service_ids)s}
local starts = {%(starts)s}
local counter = 0
setup = function(thread)
  counter = counter + 1
  thread:set("tid", counter)
end
local n = 0
request = function()
  n = n + 1
  local body = string.format('{"service_id": %%d, "start": "%%s", "name": "Warga", "phone": "0812%%02d%%06d"}',
    services[(n %% #services) + 1], starts[(math.floor(n / #services) %% #starts) + 1], tid, n)
  return wrk.format(nil, nil, nil, body)
end
"""


def start_server(workdir):
    env = {"MPP_LOG_LEVEL": "warning", "MPP_CLOCK_OFFSET_S": str(NOW.timestamp() - time.time())}
    return Server(workdir / "mpp.db", env=env).start()


def prepare(srv, services):
    admin = srv.session()
    url = srv.url + "/api/v1"
    agency = admin.post(url + "/agencies", json={"code": "BENCH", "name": "Bench"}).json()
    ids = []
    for i in range(services):
        sid = admin.post(url + "/services", json={
            "agency_id": agency["id"], "prefix": chr(65 + i), "name": f"Bench {i}",
            "opens_at": "08:00", "closes_at": "15:00"}).json()["id"]
        r = admin.put(url + f"/services/{sid}/booking", json={"enabled": True, "seats_per_slot": 1000})
        assert r.status_code == 200, r.text
        ids.append(sid)
    token = admin.post(url + "/devices", json={"kind": "kiosk", "name": "K"}).json()["token"]
    return ids, token


def slot_starts():
    starts = []
    for d in range(1, 15):
        day = NOW + timedelta(days=d)
        for m in range(8 * 60, 15 * 60, 30):
            starts.append(day.replace(hour=m // 60, minute=m % 60).isoformat())
    return starts


def kiosk_loop(url, token, service_id, stop, latencies):
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {token}"
    while not stop.is_set():
        t0 = time.perf_counter()
        r = s.post(url + "/tickets", json={"service_id": service_id}, timeout=10)
        latencies.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 201, r.text
        time.sleep(0.1)


def flood(clients, seconds, services):
    workdir = Path(tempfile.mkdtemp(prefix="giliran-bench-booking-"))
    srv = start_server(workdir)
    kiosk_ms = []
    try:
        ids, token = prepare(srv, services)
        script = workdir / "book.lua"
        script.write_text(LUA % {"service_ids": ", ".join(map(str, ids)),
                                 "starts": ", ".join(f'"{s}"' for s in slot_starts())})
        stop = threading.Event()
        kiosk = threading.Thread(target=kiosk_loop, args=(srv.url + "/api/v1", token, ids[0], stop, kiosk_ms))
        kiosk.start()
        r = loadgen.run(srv.url + "/api/v1/bookings", script, clients, seconds)
        stop.set()
        kiosk.join(20)
    finally:
        srv.stop()
    ok = loadgen.answered(r)
    count, double = loadgen.query(
        workdir, "SELECT count(*), count(*) - count(DISTINCT service_id || ':' || slot_start_ts || ':' || seat) "
                 "FROM bookings")
    check = f"{count} bookings ({count - ok:+d} vs 2xx seen), {double} seats held twice"
    print(f"{loadgen.row(clients, r)} {pct(kiosk_ms, 50):>9.1f} {pct(kiosk_ms, 99):>9.1f}  {check}")


def check_ins(n):
    workdir = Path(tempfile.mkdtemp(prefix="giliran-bench-checkin-"))
    srv = start_server(workdir)
    try:
        ids, token = prepare(srv, 1)
        url = srv.url + "/api/v1"
        b = requests.Session()
        codes = []
        for i in range(n):
            r = b.post(url + "/bookings", json={"service_id": ids[0], "start": NOW.replace(minute=30).isoformat(),
                                                "name": "Warga", "phone": f"0813{i:08d}"})
            assert r.status_code == 201, r.text
            codes.append(r.json()["code"])
        kiosk = requests.Session()
        kiosk.headers["Authorization"] = f"Bearer {token}"
        ms = []
        for code in codes:
            t0 = time.perf_counter()
            r = kiosk.post(url + f"/bookings/{code}/check-in")
            ms.append((time.perf_counter() - t0) * 1000)
            assert r.status_code == 201, r.text
    finally:
        srv.stop()
    print(f"check-in: {n} bookings checked in one after another by a kiosk: "
          f"p50 {statistics.median(ms):.1f} ms, p99 {pct(ms, 99):.1f} ms, max {max(ms):.1f} ms")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--services", type=int, default=16)
    parser.add_argument("--check-ins", type=int, default=300)
    args = parser.parse_args()
    print(f"bookings: {args.services} services, {args.seconds} s per step, a fresh server each step; "
          "a kiosk takes a ticket every 100 ms meanwhile")
    print(f"{'clients':>7} {'bookings/s':>10} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'errors':>6} "
          f"{'kiosk p50':>9} {'kiosk p99':>9}  database check")
    for clients in args.clients:
        flood(clients, args.seconds, args.services)
    check_ins(args.check_ins)


if __name__ == "__main__":
    main()
