"""Concurrency across processes on a real database file.

Each worker is a separate Python process with its own connection, so only
SQLite's locking (BEGIN IMMEDIATE), not a Python lock, keeps the numbers
right.
"""

import multiprocessing as mp

from db import accounts, catalog, tickets
from db.clock import Clock
from db.connection import connect


def _issue_many(path, service_id, count, out):
    conn = connect(path)
    clock = Clock("Asia/Jakarta")
    numbers = []
    for _ in range(count):
        numbers.append(tickets.issue(conn, clock, service_id).ticket["number"])
    out.put(numbers)


def _call_until_empty(path, counter_id, out):
    conn = connect(path)
    clock = Clock("Asia/Jakarta")
    called = []
    while True:
        change = tickets.call_next(conn, clock, counter_id, finish_current=True)
        if change.ticket is None:
            break
        called.append(change.ticket["id"])
    tickets.close_counter(conn, clock, counter_id)
    out.put(called)


def _run(target, args_list):
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=target, args=(*args, out)) for args in args_list]
    for p in procs:
        p.start()
    results = [out.get(timeout=240) for _ in procs]
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    return results


def test_four_processes_issue_2000_numbers_without_gap_or_repeat(db_path, conn):
    agency = catalog.create_agency(conn, "X", "X")["id"]
    service = catalog.create_service(conn, Clock(), agency, "A", "A")["id"]
    catalog.create_counter(conn, Clock(), agency, 1, [service])
    results = _run(_issue_many, [(str(db_path), service, 500)] * 4)
    numbers = [n for chunk in results for n in chunk]
    assert len(numbers) == 2000
    assert sorted(int(n[1:]) for n in numbers) == list(range(1, 2001))
    # Each process saw its own numbers rising: a process never got an older one.
    for chunk in results:
        assert [int(n[1:]) for n in chunk] == sorted(int(n[1:]) for n in chunk)


def test_six_processes_call_one_queue_of_1000_each_ticket_once(db_path, conn):
    clock = Clock()
    agency = catalog.create_agency(conn, "X", "X")["id"]
    service = catalog.create_service(conn, clock, agency, "A", "A")["id"]
    counters = [catalog.create_counter(conn, clock, agency, n, [service])["id"] for n in range(1, 7)]
    # Counters drain the line as fast as they can: no citizen walks up, so no finish guard.
    accounts.set_setting(conn, "finish_rules", {"min_called_s": 0})
    for _ in range(1000):
        tickets.issue(conn, clock, service)
    for c in counters:
        tickets.open_counter(conn, clock, c)
    results = _run(_call_until_empty, [(str(db_path), c) for c in counters])
    called = [t for chunk in results for t in chunk]
    assert len(called) == 1000
    assert len(set(called)) == 1000
    # Every process got a share: the queue was really contended.
    assert sum(1 for chunk in results if chunk) >= 2
    calls = conn.execute("SELECT count(*) FROM ticket_events WHERE event = 'called'").fetchone()[0]
    assert calls == 1000
    assert conn.execute("SELECT count(*) FROM tickets WHERE status != 'done'").fetchone()[0] == 0
