"""Raw limit: atomic ticket allocations per second in-process, the engine function alone.

    .venv/bin/python bench/raw_issue.py [--tickets 5000] [--waiting 10 5000] [--issues 1000]

Runs db.tickets.issue() in a loop on a fresh SQLite file (WAL), at
synchronous=FULL (what the server uses) and NORMAL (for comparison), with a
queue that stays short (a counter calls as fast as tickets come) and one that
grows, and prints issues/s and microseconds per issue.

Then the line-length table (issue 17: the cost of an issue must not grow with
the line): the line is first filled to each `--waiting` length, then `--issues`
tickets are issued one at a time while a counter takes one from the head after
each (untimed), so the line stays at that length; it prints the issue's rate
and its CPU time (the CPU time does not depend on how long the disk takes to
sync, which varies with whatever else the machine's disk is doing).
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from db import accounts, catalog, migrations, tickets  # noqa: E402
from db.clock import Clock  # noqa: E402
from db.connection import connect  # noqa: E402


def run(n, synchronous, drain):
    path = Path(tempfile.mkdtemp(prefix="giliran-raw-")) / "mpp.db"
    conn = connect(path, synchronous=synchronous)
    migrations.migrate(conn)
    clock = Clock("Asia/Jakarta")
    agency = catalog.create_agency(conn, "B", "Bench")["id"]
    service = catalog.create_service(conn, clock, agency, "A", "Bench")["id"]
    counter = catalog.create_counter(conn, clock, agency, 1, [service])["id"]
    tickets.open_counter(conn, clock, counter)
    accounts.set_setting(conn, "finish_rules", {"min_called_s": 0})  # drained at once: no guard
    started = time.perf_counter()
    for _ in range(n):
        tickets.issue(conn, clock, service)
        if drain:
            tickets.call_next(conn, clock, counter, finish_current=True)
    elapsed = time.perf_counter() - started
    numbers = conn.execute("SELECT count(DISTINCT seq), max(seq) FROM tickets").fetchone()
    assert numbers[0] == numbers[1] == n
    ops = n * (2 if drain else 1)
    return n / elapsed, elapsed / ops * 1e6


def at_length(waiting, issues, synchronous):
    """(issues/s, CPU us per issue) of issuing with `waiting` tickets in the line."""
    path = Path(tempfile.mkdtemp(prefix="giliran-raw-")) / "mpp.db"
    fill = connect(path, synchronous="OFF")
    migrations.migrate(fill)
    clock = Clock("Asia/Jakarta")
    agency = catalog.create_agency(fill, "B", "Bench")["id"]
    # Two services sharing the counter: the estimate counts both lines.
    services = [catalog.create_service(fill, clock, agency, p, f"Bench {p}")["id"] for p in "AB"]
    counter = catalog.create_counter(fill, clock, agency, 1, services)["id"]
    tickets.open_counter(fill, clock, counter)
    accounts.set_setting(fill, "finish_rules", {"min_called_s": 0})
    for i in range(waiting):
        tickets.issue(fill, clock, services[i % 2])
    fill.close()
    conn = connect(path, synchronous=synchronous)
    wall = cpu = 0.0
    for i in range(issues):
        w, c = time.perf_counter(), time.process_time()
        tickets.issue(conn, clock, services[i % 2])
        wall += time.perf_counter() - w
        cpu += time.process_time() - c
        tickets.call_next(conn, clock, counter, finish_current=True)
    left = conn.execute("SELECT count(*) FROM tickets WHERE status = 'waiting'").fetchone()[0]
    assert left == waiting, (left, waiting)
    return issues / wall, cpu / issues * 1e6


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=5000)
    parser.add_argument("--waiting", type=int, nargs="+", default=[10, 5000])
    parser.add_argument("--issues", type=int, default=1000)
    parser.add_argument("--only-lengths", action="store_true", help="only the line-length table")
    args = parser.parse_args()
    print(f"{'synchronous':<12} {'waiting':>8} {'issues/s':>9} {'cpu us/issue':>13}")
    for sync in ("FULL", "NORMAL"):
        for waiting in args.waiting:
            rate, us = at_length(waiting, args.issues, sync)
            print(f"{sync:<12} {waiting:>8} {rate:>9.0f} {us:>13.0f}")
    if args.only_lengths:
        return
    print()
    print(f"{'synchronous':<12} {'queue':<22} {'issues/s':>9} {'us/write':>9}")
    for sync in ("FULL", "NORMAL"):
        for drain in (False, True):
            rate, us = run(args.tickets, sync, drain)
            queue = "called as issued" if drain else f"grows to {args.tickets}"
            print(f"{sync:<12} {queue:<22} {rate:>9.0f} {us:>9.0f}")


if __name__ == "__main__":
    main()
