"""The group-commit writer: shared commits that keep each write's own all-or-nothing."""

import sqlite3
import threading
import time

import pytest

from db import catalog, tickets
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
