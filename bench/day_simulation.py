"""A whole busy day at the demo MPP, faster than real time; how good is the estimated wait?

    .venv/bin/python bench/day_simulation.py [--citizens 3000] [--seed 7] [--booked 0.3]

Runs the real engine (db/tickets.py) on a real SQLite file with a clock the
simulation moves: citizens arrive by a Poisson process whose rate follows a
typical MPP day (a morning peak), pick a service, take a ticket; the demo's
21 counters call the next ticket as soon as they are free and serve it for a
log-normally distributed time around the service's usual length. For each
ticket it compares the `estimated_wait_s` shown at issue with the wait that
really followed (issue to first call), and prints waits per service and the
estimate's error.

With `--booked F`, a share F of the citizens booked a slot the day before
(the slot after the time they would have come, 30-minute slots); they arrive
0-20 minutes before it, check in at the kiosk (db/checkin.py) and are called
from the slot's start ahead of the walk-ins. The estimate's error is then
printed for walk-ins and booked citizens apart, with the booked citizens'
punctuality (slot start to call).
"""

import argparse
import heapq
import math
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from db import bookings, checkin, demo, migrations, tickets  # noqa: E402
from db.errors import Conflict  # noqa: E402
from db.clock import FixedClock  # noqa: E402
from db.connection import connect  # noqa: E402

# Share of the day's arrivals in each hour from 08:00 to 16:00.
HOURLY_SHARE = [0.11, 0.19, 0.19, 0.15, 0.09, 0.12, 0.10, 0.05]
SIGMA = 0.45  # spread of service times (log-normal)
UTILISATION = 0.9  # of the counters' time over the day: busy, as MPPs are


def balance(conn, citizens, hours):
    """Demand per service in proportion to what its agency's counters can serve, and
    service times scaled so the whole day keeps the counters UTILISATION busy."""
    rows = conn.execute(
        """SELECT s.id, s.prefix, s.default_service_s,
                  (SELECT count(*) FROM counters c WHERE c.agency_id = s.agency_id) AS counters,
                  (SELECT count(*) FROM services x WHERE x.agency_id = s.agency_id) AS siblings
           FROM services s""").fetchall()
    capacity = {r["prefix"]: r["counters"] / r["siblings"] * 3600 / r["default_service_s"] for r in rows}
    total = sum(capacity.values())
    demand = {p: c / total for p, c in capacity.items()}
    counters = conn.execute("SELECT count(*) FROM counters").fetchone()[0]
    needed = sum(demand[r["prefix"]] * citizens * r["default_service_s"] for r in rows)
    scale = UTILISATION * counters * hours * 3600 / needed
    for r in rows:
        # A realistic configuration: the default the admin set matches the real mean.
        conn.execute("UPDATE services SET default_service_s = ?, daily_quota = NULL WHERE id = ?",
                     (round(r["default_service_s"] * scale), r["id"]))
    return demand


def arrivals(citizens, rng, day_start):
    """Poisson arrival times (Unix seconds) following HOURLY_SHARE."""
    times = []
    for hour, share in enumerate(HOURLY_SHARE):
        rate = citizens * share / 3600.0
        t = day_start + hour * 3600
        end = t + 3600
        while True:
            t += rng.expovariate(rate)
            if t >= end:
                break
            times.append(t)
    return times


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--citizens", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--booked", type=float, default=0.0,
                        help="share of the citizens who booked a slot (0-1)")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    tz = ZoneInfo("Asia/Jakarta")
    day_start = datetime(2026, 11, 24, 8, 0, tzinfo=tz).timestamp()
    clock = FixedClock("Asia/Jakarta", day_start - 60)
    path = Path(tempfile.mkdtemp(prefix="giliran-day-")) / "mpp.db"
    conn = connect(path, synchronous="NORMAL")
    migrations.migrate(conn)
    demo.load(conn, clock)
    demand = balance(conn, args.citizens, len(HOURLY_SHARE))
    services = {r["prefix"]: dict(r) for r in conn.execute("SELECT * FROM services")}
    counters = [r[0] for r in conn.execute("SELECT id FROM counters ORDER BY number")]
    for c in counters:
        tickets.open_counter(conn, clock, c)

    prefixes = list(demand)
    weights = [demand[p] for p in prefixes]
    events = []  # (time, order, kind, payload)
    order = 0
    booked_slots = {}  # booking code -> slot start
    if args.booked:
        for svc in services.values():
            bookings.put_settings(conn, svc["id"], {"enabled": True, "seats_per_slot": 1000})
    booking_clock = FixedClock("Asia/Jakarta", day_start - 86400)  # booked the day before
    for t in arrivals(args.citizens, rng, day_start):
        order += 1
        prefix = rng.choices(prefixes, weights)[0]
        if args.booked and rng.random() < args.booked:
            slot = day_start + math.ceil((t - day_start) / 1800) * 1800
            code = bookings.book(conn, booking_clock, services[prefix]["id"], clock.iso(slot),
                                 "Warga", f"0812{order:08d}", secret="bench").booking["code"]
            booked_slots[code] = slot
            heapq.heappush(events, (slot - rng.uniform(0, 1200), order, "check_in", (prefix, code)))
        else:
            heapq.heappush(events, (t, order, "arrive", prefix))
    for c in counters:
        order += 1
        heapq.heappush(events, (day_start, order, "free", c))

    idle = set()
    turned_away = 0
    shown = {}  # ticket id -> (prefix, issued ts, estimated wait)
    waits = {}  # ticket id -> real wait
    slot_of = {}  # ticket id -> slot start, for booked citizens
    started = time.perf_counter()
    while events:
        t, _, kind, payload = heapq.heappop(events)
        clock.set(t)
        if kind in ("arrive", "check_in"):
            try:
                if kind == "check_in":
                    ticket = checkin.check_in(conn, clock, payload[1]).ticket
                    slot_of[ticket["id"]] = booked_slots[payload[1]]
                    payload = payload[0]
                else:
                    ticket = tickets.issue(conn, clock, services[payload]["id"]).ticket
            except Conflict:  # the day's quota is used up: the citizen is turned away
                turned_away += 1
                continue
            shown[ticket["id"]] = (payload, t, ticket["estimated_wait_s"])
            woken = [c for c in idle]
            for c in woken:  # idle counters look again
                idle.discard(c)
                order += 1
                heapq.heappush(events, (t, order, "free", c))
            continue
        counter = payload
        change = tickets.call_next(conn, clock, counter, finish_current=True)
        if change.ticket is None:
            idle.add(counter)
            continue
        tid = change.ticket["id"]
        waits[tid] = t - shown[tid][1]
        mean = services[shown[tid][0]]["default_service_s"]
        duration = rng.lognormvariate(math.log(mean) - SIGMA ** 2 / 2, SIGMA)
        order += 1
        heapq.heappush(events, (t + duration, order, "free", counter))
    elapsed = time.perf_counter() - started

    errors, by_service = [], {}
    for tid, (prefix, _, estimate) in shown.items():
        if tid not in waits:
            continue
        err = estimate - waits[tid]
        errors.append(err)
        by_service.setdefault(prefix, []).append((waits[tid], err))
    simulated = (clock.now - day_start) / 3600
    print(f"{len(shown)} tickets ({turned_away} citizens turned away by a quota), {len(counters)} counters; {simulated:.1f} simulated hours "
          f"in {elapsed:.1f} s ({simulated * 3600 / elapsed:.0f}x real time)")
    print(f"{'service':<8} {'tickets':>7} {'mean wait':>10} {'p90 wait':>9} {'est. MAE':>9}")
    for prefix in sorted(by_service):
        rows = by_service[prefix]
        w = sorted(r[0] for r in rows)
        p90 = w[int(0.9 * (len(w) - 1))]
        mae = statistics.mean(abs(r[1]) for r in rows)
        print(f"{prefix:<8} {len(rows):>7} {statistics.mean(w) / 60:>8.1f} m {p90 / 60:>7.1f} m "
              f"{mae / 60:>7.1f} m")
    all_waits = [waits[t] for t in waits]
    within = sum(1 for e in errors if abs(e) <= 300) / len(errors)
    print(f"all      {len(errors):>7} {statistics.mean(all_waits) / 60:>8.1f} m "
          f"{sorted(all_waits)[int(0.9 * (len(all_waits) - 1))] / 60:>7.1f} m "
          f"{statistics.mean(abs(e) for e in errors) / 60:>7.1f} m")
    print(f"estimate: mean absolute error {statistics.mean(abs(e) for e in errors) / 60:.1f} min, "
          f"mean signed error {statistics.mean(errors) / 60:+.1f} min (positive = over-estimate), "
          f"within ±5 min for {within:.0%} of tickets")
    if slot_of:
        for label, ids in (("walk-in", [i for i in waits if i not in slot_of]),
                           ("booked", [i for i in waits if i in slot_of])):
            errs = [shown[i][2] - waits[i] for i in ids]
            print(f"{label:<8} {len(ids):>5} tickets: mean wait {statistics.mean(waits[i] for i in ids) / 60:.1f} m, "
                  f"estimate MAE {statistics.mean(abs(e) for e in errs) / 60:.1f} min, "
                  f"signed {statistics.mean(errs) / 60:+.1f} min")
        late = sorted(shown[i][1] + waits[i] - slot_of[i] for i in waits if i in slot_of)
        print(f"booked: called {statistics.mean(late) / 60:+.1f} min after the slot's start on average, "
              f"p90 {late[int(0.9 * (len(late) - 1))] / 60:+.1f} min")


if __name__ == "__main__":
    main()
