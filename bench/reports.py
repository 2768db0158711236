"""How long a report takes on a synthetic year of 1 M tickets.

    .venv/bin/python bench/reports.py [--tickets 1000000] [--db /tmp/giliran-bench.db]

Builds (once, kept for the next run) a database with the demo MPP and a year
of ticket visits written straight into `ticket_visits` with executemany
(the table the triggers keep; replaying 4 M events through the engine would
take minutes and measure the engine, not the report), then times the report
of a day, a month and the year, per grouping, and the IKM.
"""

import argparse
import random
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from db import demo, migrations, reports, survey  # noqa: E402
from db.clock import FixedClock  # noqa: E402
from db.connection import connect  # noqa: E402

TZ = ZoneInfo("Asia/Jakarta")


def build(path, n_tickets, year=2025):
    conn = connect(path, synchronous="OFF")
    migrations.migrate(conn)
    clock = FixedClock("Asia/Jakarta", datetime(year, 1, 2, 9, tzinfo=TZ).timestamp())
    demo.load(conn, clock)
    services = [r[0] for r in conn.execute("SELECT id FROM services")]
    counters = {}
    for cid, sid in conn.execute("SELECT counter_id, service_id FROM counter_services"):
        counters.setdefault(sid, []).append(cid)
    users = [r[0] for r in conn.execute("SELECT id FROM users")]
    # Each counter has its usual officer most days (one in five days someone else sits there).
    officer = {cid: users[i % len(users)] for i, cid in enumerate(
        sorted({c for cs in counters.values() for c in cs}))}
    days = [date(year, 1, 1) + timedelta(d) for d in range(365)]
    days = [d for d in days if d.isoweekday() <= 5]
    per_day = n_tickets // len(days)
    rng = random.Random(8)
    rows, surveys = [], []
    for day in days:
        opening = datetime(day.year, day.month, day.day, 8, tzinfo=TZ).timestamp()
        for _ in range(per_day):
            sid = rng.choice(services)
            queued = opening + rng.uniform(0, 7 * 3600)
            roll = rng.random()
            called = queued + rng.expovariate(1 / 900) if roll < 0.97 else None
            outcome = "expired" if called is None else ("no_show" if roll < 0.05 else "done")
            finished = called + rng.expovariate(1 / 400) if called else None
            counter = rng.choice(counters[sid]) if called else None
            user = (officer[counter] if rng.random() < 0.8 else rng.choice(users)) if called else None
            rows.append((sid, day.isoformat(), 1, queued, called, called, finished, counter, user,
                         outcome))
        if len(rows) > 200000:
            _flush(conn, rows)
    _flush(conn, rows)
    agencies = dict(conn.execute("SELECT id, agency_id FROM services"))
    for i in range(n_tickets // 10):
        sid = rng.choice(services)
        surveys.append((i + 1, sid, agencies[sid], rng.choice(days).isoformat(), 0.0,
                        *[rng.choice((2, 3, 3, 4, 4)) for _ in range(9)]))
    conn.execute("PRAGMA foreign_keys = OFF")  # survey rows point at tickets not built here
    conn.executemany(f"INSERT INTO survey_responses (ticket_id, service_id, agency_id, service_day, ts, "
                     f"{', '.join(survey.KEYS)}) VALUES ({', '.join('?' * 14)})", surveys)
    conn.execute("ANALYZE")
    conn.close()


def _flush(conn, rows):
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO ticket_visits (service_id, service_day, first, queued_ts, first_called_ts, "
        "called_ts, finished_ts, counter_id, user_id, outcome, ticket_id) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)", rows)
    conn.execute("COMMIT")
    rows.clear()


def timed(fn, *args, repeat=3):
    best = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(*args)
        spent = time.perf_counter() - t0
        best = spent if best is None else min(best, spent)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--db", default="/tmp/giliran-bench-reports.db")
    args = parser.parse_args()
    path = Path(args.db)
    if not path.exists():
        t0 = time.perf_counter()
        conn = connect(path)
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.close()
        build_fk_off(path, args.tickets)
        print(f"built {args.tickets} tickets in {time.perf_counter() - t0:.1f} s -> {path}")
    conn = connect(path)
    total = conn.execute("SELECT count(*) FROM ticket_visits").fetchone()[0]
    clock = FixedClock("Asia/Jakarta", datetime(2025, 12, 31, 12, tzinfo=TZ).timestamp())
    ranges = {"day": ("2025-06-10", "2025-06-10"), "month": ("2025-06-01", "2025-06-30"),
              "year": ("2025-01-01", "2025-12-31")}
    conn.execute("INSERT OR REPLACE INTO settings (key, value) VALUES ('service_day', '\"2026-01-05\"')")
    conn.execute("DELETE FROM report_months")  # measure the first (cold) year too
    conn.execute("DELETE FROM report_month_counts")
    conn.execute("DELETE FROM report_month_hist")
    t0 = time.perf_counter()
    reports.report(conn, clock, "2025-01-01", "2025-12-31", "total")
    print(f"{total} visits; first year report (summarises 12 months once): "
          f"{time.perf_counter() - t0:.2f} s")
    groups = [g for g in reports.GROUPS if g != "day"]
    print("then best of 3, seconds (a month and a year are whole past months; "
          "'jun 10-jul 20' spans raw days and a summary)")
    print(f"{'range':14} " + " ".join(f"{g:>8}" for g in groups) + "      day      ikm")
    ranges["jun 10-jul 20"] = ("2025-06-10", "2025-07-20")
    for name, (a, b) in ranges.items():
        cells = [timed(reports.report, conn, clock, a, b, g) for g in groups]
        cells.append(timed(reports.report, conn, clock, a, b, "day") if name != "year" else float("nan"))
        cells.append(timed(survey.report, conn, a, b))
        print(f"{name:14} " + " ".join(f"{c:8.3f}" for c in cells))
    agency = conn.execute("SELECT id FROM agencies LIMIT 1").fetchone()[0]
    print(f"year, one agency (supervisor), by service: "
          f"{timed(reports.report, conn, clock, *ranges['year'], 'service', agency):.3f}")


def build_fk_off(path, n):
    # The synthetic visits carry ticket_id 0 (no tickets table rows): skip the foreign key.
    original = connect

    def connect_no_fk(p, **kw):
        c = original(p, **kw)
        c.execute("PRAGMA foreign_keys = OFF")
        return c

    globals()["connect"] = connect_no_fk
    try:
        build(path, n)
    finally:
        globals()["connect"] = original


if __name__ == "__main__":
    main()
