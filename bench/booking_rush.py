"""The booking rush: thousands of phones book the same morning on the public instance
while the building's kiosks and counters work its own instance.

    .venv/bin/python bench/booking_rush.py [--citizens 2000] [--concurrency 200] [--seats 100]

Starts the building's instance (demo MPP) and the public instance
(MPP_SURFACE=public) on one fresh database file; opens bookings for tomorrow on
one service (five one-hour slots, --seats in all); then --citizens virtual
citizens, at most --concurrency at a time, each read the day's slots and book
the first with a seat left (once more on `slot_full`), while 16 kiosks issue a
ticket a second and 20 counters serve (start, then finish and call the next) at a
step a second on the building's instance, from a process of their own. Prints
bookings made (must equal the seats), the public instance's requests/s and
p50/p99, and the building's p50/p99 for issue and the counters' steps during the
rush and before it.

On a machine shared with other work, run it ahead of that work, e.g.
`nice -n -10 .venv/bin/python bench/booking_rush.py` as root: the servers it
starts inherit the priority.
"""

import argparse
import asyncio
import multiprocessing
import os
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import loadgen  # noqa: E402

SLOTS = 5


def pct(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] * 1000


def prepare(building, seats):
    admin = building.session("admin")
    services = {s["prefix"]: s for s in admin.get(building.url + "/api/v1/services").json()}
    sid = services["D"]["id"]  # Paspor Baru: the Monday-morning rush
    r = admin.patch(f"{building.url}/api/v1/services/{sid}", json={"opens_at": "08:00", "closes_at": "13:00"})
    assert r.status_code == 200, r.text
    r = admin.put(f"{building.url}/api/v1/services/{sid}/booking", json={
        "enabled": True, "slot_minutes": 60, "seats_per_slot": seats // SLOTS, "days_ahead": 7})
    assert r.status_code == 200, r.text
    kiosks = [admin.post(building.url + "/api/v1/devices", json={"kind": "kiosk", "name": f"Kios {i}"}).json()["token"]
              for i in range(16)]
    counters = [c for c in admin.get(building.url + "/api/v1/counters").json()]
    for c in counters:
        admin.post(f"{building.url}/api/v1/counters/{c['id']}/open")
    walk_in = [s["id"] for s in services.values() if s["prefix"] != "D"]
    return admin, sid, kiosks, counters, walk_in


async def citizen(http, url, sid, day, n, stats):
    phone = f"0813{n:08d}"
    for attempt in range(2):
        t0 = time.monotonic()
        async with http.get(f"{url}/api/v1/services/{sid}/slots", params={"date": day}) as r:
            slots = await r.json()
        stats["public"].append(time.monotonic() - t0)
        free = [s for s in slots if s["left"] > 0 and s["open"]]
        if not free:
            stats["no_seat"] += 1
            return
        t0 = time.monotonic()
        async with http.post(f"{url}/api/v1/bookings", json={
                "service_id": sid, "start": free[0]["start"], "name": f"Warga {n}", "phone": phone}) as r:
            body = await r.json()
            status = r.status
        stats["public"].append(time.monotonic() - t0)
        if status == 201:
            stats["booked"] += 1
            return
        code = body.get("error", {}).get("code")
        stats.setdefault(code or str(status), 0)
        stats[code or str(status)] += 1
        if code != "slot_full":
            return


async def rush(url, sid, day, citizens, concurrency, stats):
    gate = asyncio.Semaphore(concurrency)
    conn = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=conn) as http:
        async def one(n):
            async with gate:
                await citizen(http, url, sid, day, n, stats)
        await asyncio.gather(*(one(n) for n in range(citizens)))


async def building_work(url, admin_cookie, kiosks, counters, walk_in, stop, stats):
    """16 kiosks issue a ticket a second and the counters serve at a second a step: call the
    next, start, finish and call the next (the finish guard takes a started ticket at once)."""
    async with aiohttp.ClientSession(cookies=admin_cookie) as http:
        async def kiosk(i, token):
            await asyncio.sleep(i / len(kiosks))  # kiosks are not in step: spread over the second
            while not stop.is_set():
                t0 = time.monotonic()
                async with http.post(url + "/api/v1/tickets", json={"service_id": walk_in[i % len(walk_in)]},
                                     headers={"Authorization": f"Bearer {token}"}) as r:
                    await r.read()
                    stats["issue_status"][r.status] = stats["issue_status"].get(r.status, 0) + 1
                stats["issue"].append((t0, time.monotonic() - t0))
                await asyncio.sleep(max(0, 1 - (time.monotonic() - t0)))

        async def counter(n, c):
            await asyncio.sleep((n + 0.5) / 20)
            called = False  # holding a called ticket not yet started
            while not stop.is_set():
                t0 = time.monotonic()
                path, body = ("start", {}) if called else ("call-next", {"finish_current": True})
                async with http.post(f"{url}/api/v1/counters/{c['id']}/{path}", json=body) as r:
                    await r.read()
                    called = path == "call-next" and r.status == 200
                stats["call"].append((t0, time.monotonic() - t0))
                await asyncio.sleep(max(0, 1 - (time.monotonic() - t0)))

        await asyncio.gather(*[kiosk(i, t) for i, t in enumerate(kiosks)],
                             *[counter(n, c) for n, c in enumerate(counters[:20])])


def building_process(url, admin_cookie, kiosks, counters, walk_in, stop, out):
    """The building's clients in a process of their own, so that the 200 phones' client work
    does not delay them: what is measured is the server's answer, not this script's loop."""
    stats = {"issue": [], "call": [], "issue_status": {}}

    async def run():
        done = asyncio.Event()

        async def watch():
            while not stop.is_set():
                await asyncio.sleep(0.05)
            done.set()
        watcher = asyncio.create_task(watch())
        await building_work(url, admin_cookie, kiosks, counters, walk_in, done, stats)
        await watcher
    asyncio.run(run())
    out.put(stats)


async def main_async(args, public, sid, day):
    stats = {"public": [], "booked": 0, "no_seat": 0}
    t0 = time.monotonic()
    await rush(public.url, sid, day, args.citizens, args.concurrency, stats)
    return stats, t0, time.monotonic()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--citizens", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--seats", type=int, default=100)
    parser.add_argument("--public-nice", type=int, default=10,
                        help="niceness of the public instance, as deploy/systemd/giliran-public.service sets it")
    parser.add_argument("--phones-nice", type=int, default=10,
                        help="niceness of this script's phone clients (real phones are not on the server)")
    parser.add_argument("--slowest", type=int, default=0, metavar="N",
                        help="also print the building's N slowest requests as its access log timed them")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="giliran-rush-"))
    env = {"MPP_KIOSK_ISSUES_PER_MINUTE": "1000"}
    access_log = tmp / "building-access.log"
    if args.slowest:  # the server's own time for each request (%(D)s, microseconds)
        env.update(MPP_ACCESS_LOG=str(access_log),
                   GUNICORN_CMD_ARGS="--access-logformat '%(t)s %(r)s %(s)s %(D)s'")
    with loadgen.building_and_public(tmp / "mpp.db", env) as (building, public):
        # Its own process group (master and worker): deprioritised as the systemd unit does.
        os.setpriority(os.PRIO_PGRP, public.proc.pid, os.getpriority(os.PRIO_PROCESS, 0) + args.public_nice)
        admin, sid, kiosks, counters, walk_in = prepare(building, args.seats)
        today = admin.get(building.url + "/api/v1/health").json()["service_day"]
        day = (date.fromisoformat(today) + timedelta(days=1)).isoformat()
        cookie = {"giliran_session": admin.cookies["giliran_session"]}
        stop, out = multiprocessing.Event(), multiprocessing.Queue()
        work = multiprocessing.Process(target=building_process, args=(
            building.url, cookie, kiosks, counters, walk_in, stop, out))
        work.start()
        # The phones' client work stands in for phones elsewhere: it must not take the CPU
        # from the building's instance it is measured against (the building's clients keep
        # this script's priority in their own process).
        os.setpriority(os.PRIO_PROCESS, 0, os.getpriority(os.PRIO_PROCESS, 0) + args.phones_nice)
        time.sleep(5)  # the building at its normal pace first: the baseline
        stats, began, ended = asyncio.run(main_async(args, public, sid, day))
        stop.set()
        building_stats = out.get(timeout=60)
        work.join(timeout=30)
        took = ended - began
        issue = [d for t, d in building_stats["issue"] if began <= t <= ended]
        call = [d for t, d in building_stats["call"] if began <= t <= ended]
        stats["issue_status"] = building_stats["issue_status"]
        stats["baseline"] = ([d for t, d in building_stats["issue"] if t < began],
                             [d for t, d in building_stats["call"] if t < began])
        listed = admin.get(f"{building.url}/api/v1/bookings", params={"date": day, "service_id": sid}).json()
        live = [b for b in listed if b["status"] in ("booked", "checked_in")]
        per_slot = {}
        for b in live:
            per_slot[b["start"]] = per_slot.get(b["start"], 0) + 1
        seats = (args.seats // SLOTS) * SLOTS
        print(f"public instance at nice +{args.public_nice}, the phone clients at +{args.phones_nice}, "
              "relative to the building's instance and its clients")
        print(f"citizens {args.citizens}, at most {args.concurrency} at once, {seats} seats in {SLOTS} slots")
        print(f"bookings made: {stats['booked']} (stored live: {len(live)}; over the seats: "
              f"{max(0, len(live) - seats)}; fullest slot {max(per_slot.values() or [0])} of {seats // SLOTS})")
        refusals = {k: v for k, v in stats.items()
                    if k not in ("public", "booked", "issue", "call", "issue_status", "baseline")}
        print(f"refused: {refusals}")
        print(f"public instance: {len(stats['public'])} requests in {took:.1f} s = "
              f"{len(stats['public']) / took:.0f} req/s; p50 {pct(stats['public'], 50):.0f} ms, "
              f"p99 {pct(stats['public'], 99):.0f} ms")
        print(f"building during the rush: issue n={len(issue)} p50 {pct(issue, 50):.1f} ms p99 {pct(issue, 99):.1f} ms "
              f"(statuses {stats['issue_status']}); start/call-next n={len(call)} p50 {pct(call, 50):.1f} ms "
              f"p99 {pct(call, 99):.1f} ms")
        base_issue, base_call = stats["baseline"]
        print(f"building before the rush (same machine, same pace): issue p50 {pct(base_issue, 50):.1f} ms "
              f"p99 {pct(base_issue, 99):.1f} ms; start/call-next p50 {pct(base_call, 50):.1f} ms "
              f"p99 {pct(base_call, 99):.1f} ms")
        if args.slowest:
            timed = [line.rsplit(" ", 1) for line in access_log.read_text().splitlines()]
            timed = sorted(((int(us), what) for what, us in timed if us.isdigit()), reverse=True)
            print(f"building's {args.slowest} slowest requests, server-side:")
            for us, what in timed[:args.slowest]:
                print(f"  {us / 1000:7.1f} ms  {what}")
        ok = stats["booked"] == seats == len(live)
        print("OK: bookings = seats" if ok else "MISMATCH: bookings != seats")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
