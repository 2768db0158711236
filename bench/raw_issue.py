"""Raw limit: atomic ticket allocations per second in-process, the engine function alone.

    .venv/bin/python bench/raw_issue.py [--tickets 5000]

Runs db.tickets.issue() in a loop on a fresh SQLite file (WAL), at
synchronous=FULL (what the server uses) and NORMAL (for comparison), with a
queue that stays short (a counter calls as fast as tickets come) and one that
grows, and prints issues/s and microseconds per issue.
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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=5000)
    args = parser.parse_args()
    print(f"{'synchronous':<12} {'queue':<22} {'issues/s':>9} {'us/write':>9}")
    for sync in ("FULL", "NORMAL"):
        for drain in (False, True):
            rate, us = run(args.tickets, sync, drain)
            queue = "called as issued" if drain else f"grows to {args.tickets}"
            print(f"{sync:<12} {queue:<22} {rate:>9.0f} {us:>9.0f}")


if __name__ == "__main__":
    main()
