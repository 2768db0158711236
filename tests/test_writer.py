"""The group-commit writer: shared commits that keep each write's own all-or-nothing."""

import sqlite3
import threading
import time

import pytest

from db import catalog, queue, tickets
from db.clock import FixedClock
from db.connection import connect
from db.errors import Conflict, DatabaseBusy, DatabaseUnavailable
from db.writer import Writer, _Job


@pytest.fixture
def setup(conn, clock, db_path):
    agency = catalog.create_agency(conn, "D", "Dukcapil")["id"]
    service = catalog.create_service(conn, clock, agency, "A", "KTP", daily_quota=50)["id"]
    catalog.create_counter(conn, clock, agency, 1, [service])
    return Writer(db_path), service


def test_many_callers_share_commits_and_get_their_own_numbers(setup, clock, db_path):
    writer, service = setup
    results, errors = [], []

    def kiosk():
        conn = connect(db_path)
        conn.writer = writer
        for _ in range(10):
            try:
                results.append(tickets.issue(conn, clock, service).ticket["number"])
            except Conflict as exc:
                errors.append(exc.code)

    threads = [threading.Thread(target=kiosk) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    # 60 asked, quota 50: exactly 50 numbers, no gap, no repeat; 10 refused.
    assert sorted(results) == [f"A{n:03d}" for n in range(1, 51)]
    assert errors == ["quota_exhausted"] * 10
    assert writer.writes == 60


def test_writes_waiting_together_share_one_commit(setup, clock, db_path):
    writer, service = setup
    gate, started = threading.Event(), threading.Event()

    def hold(c):  # keeps the writer busy while the others queue up behind it
        started.set()
        gate.wait(10)

    holder = threading.Thread(target=writer.run, args=(hold,))
    holder.start()
    assert started.wait(10)
    numbers = []

    def kiosk():
        conn = connect(db_path)
        conn.writer = writer
        numbers.append(tickets.issue(conn, clock, service).ticket["number"])

    threads = [threading.Thread(target=kiosk) for _ in range(8)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 10
    while writer._queue.qsize() < 8 and time.monotonic() < deadline:
        time.sleep(0.01)
    gate.set()
    for t in threads + [holder]:
        t.join(30)
    # The held write committed alone; the eight that waited behind it shared one commit.
    assert writer.batches == 2 and writer.writes == 9
    assert sorted(numbers) == [f"A{n:03d}" for n in range(1, 9)]


def test_a_refused_write_rolls_back_alone(setup, clock, db_path):
    writer, service = setup
    conn = connect(db_path)

    def half_then_refuse(c):
        c.execute("INSERT INTO holidays (day, name) VALUES ('2026-12-25', 'Natal')")
        raise Conflict("nope", "refused after writing")

    def add_holiday(c, day):
        c.execute("INSERT INTO holidays (day, name) VALUES (?, 'Libur')", (day,))
        return day

    batch = [_Job(add_holiday, ("2026-12-24",), {}), _Job(half_then_refuse, (), {}),
             _Job(add_holiday, ("2026-12-26",), {})]
    writer._run_batch(connect(db_path), batch)
    assert [j.result for j in batch] == ["2026-12-24", None, "2026-12-26"]
    assert isinstance(batch[1].error, Conflict)
    days = [r[0] for r in conn.execute("SELECT day FROM holidays ORDER BY day")]
    assert days == ["2026-12-24", "2026-12-26"]


def _traced(db_path):
    """A write connection that records every statement it runs."""
    c = connect(db_path)
    c.statements = []
    c.set_trace_callback(c.statements.append)
    return c


def test_tickets_issued_in_one_commit_read_each_service_once_and_see_every_other_write(
        setup, clock, db_path, conn):
    writer, a = setup
    counter = conn.execute("SELECT id FROM counters").fetchone()[0]
    b = catalog.create_service(conn, clock, 1, "B", "KK")["id"]
    conn.execute("INSERT INTO counter_services (counter_id, service_id) VALUES (?, ?)", (counter, b))

    def close_a(c):  # an admin's change in the middle of the kiosks' tickets
        c.execute("UPDATE services SET active = 0 WHERE id = ?", (a,))

    w = _traced(db_path)
    batch = [_Job(tickets._issue, (clock, sid, None, None, None, None, None, None), {})
             for sid in (a, a, b, a)]
    batch += [_Job(close_a, (), {}), _Job(tickets._issue, (clock, a, None, None, None, None, None, None), {}),
              _Job(tickets._issue, (clock, b, None, None, None, None, None, None), {})]
    writer._run_batch(w, batch)
    numbers = [j.result.ticket["number"] if j.result else None for j in batch]
    assert numbers == ["A001", "A002", "B001", "A003", None, None, "B002"]
    # The change is seen at once: A is closed for the ticket after it.
    assert batch[5].error.code == "service_closed"
    service_reads = [q for q in w.statements if q.startswith("SELECT * FROM services WHERE id")]
    # A and B once each for the first four tickets, then both again after the admin's write.
    assert len(service_reads) == 4
    assert w.memo is None  # nothing is kept beyond the transaction


def test_a_ticket_after_midnight_in_the_same_commit_reads_the_counters_afresh(
        setup, clock, db_path, conn):
    writer, a = setup
    counter = conn.execute("SELECT id FROM counters").fetchone()[0]
    tickets.issue(conn, clock, a)
    tickets.open_counter(conn, clock, counter)
    tickets.call_next(conn, clock, counter)  # the counter is busy with A001 at closing time
    tickets.issue(conn, clock, a)
    late, early = FixedClock(at=clock.ts() + 14.9 * 3600), FixedClock(at=clock.ts() + 24 * 3600)
    w = connect(db_path)
    batch = [_Job(tickets._issue, (c, a, None, None, None, None, None, None), {})
             for c in (late, early)]
    writer._run_batch(w, batch)
    tomorrow = batch[1].result.ticket
    # The rollover freed the counter: the new day's first ticket is estimated on a free
    # counter, exactly as a fresh read now says.
    assert tomorrow["number"] == "A001" and tomorrow["ahead"] == 0
    row = conn.execute("SELECT * FROM tickets WHERE id = ?", (tomorrow["id"],)).fetchone()
    assert queue.ticket_dict(conn, early, row)["estimated_wait_s"] == tomorrow["estimated_wait_s"]
    assert tomorrow["estimated_wait_s"] < batch[0].result.ticket["estimated_wait_s"]


def test_a_failing_commit_fails_the_whole_batch(setup, db_path):
    writer, _ = setup
    conn = connect(db_path)

    def add(c, day):
        c.execute("INSERT INTO holidays (day, name) VALUES (?, 'Libur')", (day,))

    def disk_error(c):
        raise sqlite3.OperationalError("database or disk is full")

    batch = [_Job(add, ("2026-12-24",), {}), _Job(disk_error, (), {})]
    writer._run_batch(connect(db_path), batch)
    assert all(isinstance(j.error, DatabaseUnavailable) for j in batch)
    assert conn.execute("SELECT count(*) FROM holidays").fetchone()[0] == 0


def test_a_write_that_cannot_start_in_time_is_refused_and_never_runs(setup, clock, db_path):
    _, service = setup
    writer = Writer(db_path, wait_s=0.3)
    gate, started = threading.Event(), threading.Event()

    def hold(c):
        started.set()
        gate.wait(10)

    holder = threading.Thread(target=writer.run, args=(hold,))
    holder.start()
    assert started.wait(10)
    conn = connect(db_path)
    conn.writer = writer
    with pytest.raises(DatabaseBusy):
        tickets.issue(conn, clock, service)
    gate.set()
    holder.join(10)
    # The refused write was dropped, not run later behind the caller's back.
    assert writer.run(lambda c: c.execute("SELECT count(*) FROM tickets").fetchone()[0]) == 0
    assert tickets.issue(conn, clock, service).ticket["number"] == "A001"


def test_a_writer_that_cannot_open_the_file_answers_instead_of_hanging(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the database's folder should be")
    writer = Writer(blocker / "mpp.db", wait_s=5)
    started = time.monotonic()
    with pytest.raises(DatabaseUnavailable) as caught:
        writer.run(lambda c: None)
    assert "cannot open" in caught.value.detail
    assert time.monotonic() - started < 5


def _flood(db_path, until, hold_s):
    """Another process's yielding writer (the public instance) writing as fast as it can."""
    writer = Writer(db_path, yields=True)

    def booking(c):
        c.execute("INSERT INTO scratch VALUES ('public')")
        time.sleep(hold_s)  # the booking's SQL, held under the lock

    def phone():
        while time.time() < until:
            writer.run(booking)

    phones = [threading.Thread(target=phone) for _ in range(12)]
    for t in phones:
        t.start()
    for t in phones:
        t.join(30)


def test_a_yielding_writers_flood_holds_the_buildings_write_at_most_one_transaction(conn, db_path):
    import multiprocessing

    conn.execute("CREATE TABLE scratch (who TEXT)")
    hold_s = 0.01  # a public transaction: one booking of 10 ms and its commit
    until = time.time() + 4
    public = multiprocessing.get_context("fork").Process(target=_flood, args=(db_path, until, hold_s))
    public.start()
    building = Writer(db_path)
    try:
        while conn.execute("SELECT count(*) FROM scratch").fetchone()[0] < 50:
            time.sleep(0.01)  # the flood is on
        waits = []
        while time.time() < until - 0.5:
            t0 = time.monotonic()
            building.run(lambda c: c.execute("INSERT INTO scratch VALUES ('kiosk')"))
            waits.append(time.monotonic() - t0)
            time.sleep(0.02)
    finally:
        public.join(30)
        building.close()
    counts = dict(conn.execute("SELECT who, count(*) FROM scratch GROUP BY who").fetchall())
    assert counts["public"] > 200  # the public writer kept writing throughout
    assert counts["kiosk"] == len(waits) >= 30
    # At most the public transaction already running (10 ms; here p90 4-5 ms); without the
    # turnstile the kiosk's write lost the race for the lock again and again (p90 74-98 ms).
    waits.sort()
    assert waits[int(len(waits) * 0.9)] < 0.04, waits[-8:]


def test_the_wal_is_copied_into_the_database_file_beside_the_writer(conn, db_path, tmp_path):
    conn.execute("CREATE TABLE scratch (n INTEGER)")
    writer = Writer(db_path)
    try:
        for n in range(30):
            writer.run(lambda c, n=n: c.execute("INSERT INTO scratch VALUES (?)", (n,)))
            time.sleep(0.05)
        deadline = time.monotonic() + 10
        while writer.checkpoints == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert writer.checkpoints >= 1
        # The database file alone, without its WAL, already holds the early writes.
        alone = tmp_path / "alone.db"
        alone.write_bytes(db_path.read_bytes())
        copied = sqlite3.connect(alone).execute("SELECT count(*) FROM scratch").fetchone()[0]
        assert copied >= 10
    finally:
        writer.close()
